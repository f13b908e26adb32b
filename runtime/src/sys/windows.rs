use super::*;
use std::ffi::{c_char, c_int, c_void};
use std::os::windows::io::FromRawHandle;

type Handle = *mut c_void;
const STD_INPUT_HANDLE: u32 = -10i32 as u32;
const STD_OUTPUT_HANDLE: u32 = -11i32 as u32;
const STD_ERROR_HANDLE: u32 = -12i32 as u32;
const PROCESS_TERMINATE: u32 = 0x0001;

const JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: u32 = 0x2000;
const JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS: i32 = 9;

#[repr(C)]
#[derive(Default)]
struct BasicLimits {
    per_process_user_time: i64,
    per_job_user_time: i64,
    limit_flags: u32,
    min_working_set: usize,
    max_working_set: usize,
    active_process_limit: u32,
    affinity: usize,
    priority_class: u32,
    scheduling_class: u32,
}

#[repr(C)]
#[derive(Default)]
struct ExtendedLimits {
    basic: BasicLimits,
    io: [u64; 6],
    process_memory: usize,
    job_memory: usize,
    peak_process_memory: usize,
    peak_job_memory: usize,
}

#[link(name = "kernel32")]
extern "system" {
    fn CreateJobObjectW(attributes: *mut c_void, name: *const u16) -> Handle;
    fn SetInformationJobObject(job: Handle, class: i32, info: *const c_void, len: u32) -> i32;
    fn AssignProcessToJobObject(job: Handle, process: Handle) -> i32;
    fn GetStdHandle(which: u32) -> Handle;
    fn SetStdHandle(which: u32, handle: Handle) -> i32;
    fn OpenProcess(access: u32, inherit: i32, pid: u32) -> Handle;
    fn GetCurrentProcess() -> Handle;
    fn DuplicateHandle(
        source_process: Handle,
        source: Handle,
        target_process: Handle,
        target: *mut Handle,
        access: u32,
        inherit: i32,
        options: u32,
    ) -> i32;
    fn TerminateProcess(process: Handle, code: u32) -> i32;
    fn CloseHandle(handle: Handle) -> i32;
    fn SetHandleInformation(handle: Handle, mask: u32, flags: u32) -> i32;
}
#[link(name = "msvcrt")]
extern "C" {
    fn _dup2(from: c_int, to: c_int) -> c_int;
    fn _open(path: *const c_char, flags: c_int, ...) -> c_int;
    fn _close(fd: c_int) -> c_int;
}

/// A private duplicate of `h`: msvcrt closes the handles behind descriptors 0 and 1
/// when they are redirected, so the protocol must not share them.
///
/// # Safety
/// `h` is a handle of this process.
unsafe fn duplicate(h: Handle) -> io::Result<Handle> {
    const DUPLICATE_SAME_ACCESS: u32 = 2;
    let mut out: Handle = std::ptr::null_mut();
    // SAFETY: the caller's handle, duplicated within this process.
    unsafe {
        let me = GetCurrentProcess();
        if DuplicateHandle(me, h, me, &mut out, 0, 0, DUPLICATE_SAME_ACCESS) == 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(out)
}

/// Keeps private duplicates of the original stdin/stdout handles for the protocol, then
/// points the standard handles and msvcrt's descriptors 0 and 1 at NUL and stderr, so a
/// DLL that prints (through the Win32 handle or the C runtime) cannot touch the stream.
pub fn take_stdio() -> io::Result<Stdio> {
    // SAFETY: standard-handle calls; the protocol handles are owned by the Files.
    unsafe {
        let input = GetStdHandle(STD_INPUT_HANDLE);
        let output = GetStdHandle(STD_OUTPUT_HANDLE);
        let error = GetStdHandle(STD_ERROR_HANDLE);
        if input.is_null() || output.is_null() || input as isize == -1 || output as isize == -1 {
            return Err(io::Error::other("the host has no standard input/output to serve on"));
        }
        // Programs the library starts must not inherit the originals either.
        const HANDLE_FLAG_INHERIT: u32 = 1;
        SetHandleInformation(input, HANDLE_FLAG_INHERIT, 0);
        SetHandleInformation(output, HANDLE_FLAG_INHERIT, 0);
        let (input, output) = (duplicate(input)?, duplicate(output)?);
        let null = File::open("NUL")?;
        use std::os::windows::io::IntoRawHandle;
        let null = null.into_raw_handle();
        SetStdHandle(STD_OUTPUT_HANDLE, error);
        SetStdHandle(STD_INPUT_HANDLE, null as Handle);
        _dup2(2, 1);
        let fd = _open(c"NUL".as_ptr(), 0);
        if fd >= 0 {
            _dup2(fd, 0);
            _close(fd);
        }
        Ok(Stdio { input: File::from_raw_handle(input), output: File::from_raw_handle(output) })
    }
}

/// On Windows the client's job object kills the host with it.
pub fn die_with_parent(_parent: Option<u32>) {}

/// A job object for this process's hosts, closed (killing them all) when the client
/// process ends however it ends.
struct Job(Handle);
// SAFETY: a job handle may be used from any thread.
unsafe impl Send for Job {}
// SAFETY: as for Send.
unsafe impl Sync for Job {}

/// Puts a host in the kill-on-close job.
pub fn adopt_child(child: &std::process::Child) {
    use std::os::windows::io::AsRawHandle;
    static JOB: std::sync::OnceLock<Option<Job>> = std::sync::OnceLock::new();
    let job = JOB.get_or_init(|| {
        // SAFETY: a fresh job object configured with a properly sized structure.
        unsafe {
            let job = CreateJobObjectW(std::ptr::null_mut(), std::ptr::null());
            if job.is_null() {
                return None;
            }
            let mut limits = ExtendedLimits::default();
            limits.basic.limit_flags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            let ok = SetInformationJobObject(
                job,
                JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                &limits as *const ExtendedLimits as *const c_void,
                std::mem::size_of::<ExtendedLimits>() as u32,
            );
            (ok != 0).then_some(Job(job))
        }
    });
    if let Some(job) = job {
        // SAFETY: both handles are live; failure (an already-jobbed process on old
        // systems) only loses the kill-on-close guarantee.
        unsafe {
            AssignProcessToJobObject(job.0, child.as_raw_handle() as Handle);
        }
    }
}

/// Kills process `pid` outright.
pub fn kill_process(pid: u32) {
    // SAFETY: a handle opened for termination only, closed after use.
    unsafe {
        let h = OpenProcess(PROCESS_TERMINATE, 0, pid);
        if !h.is_null() {
            TerminateProcess(h, 1);
            CloseHandle(h);
        }
    }
}

#[link(name = "kernel32")]
extern "system" {
    fn GetCurrentProcessId() -> u32;
}
#[link(name = "msvcrt")]
extern "C" {
    fn _open_osfhandle(handle: isize, flags: c_int) -> c_int;
}

/// Host: the C runtime descriptor (msvcrt's, which the library's C runtime is) for the
/// handle the client duplicated into this process: `token` is this process's id, then the
/// handle value. A token for another process (an earlier host) is refused.
pub fn take_descriptor(_client: u32, token: u64) -> io::Result<i32> {
    const O_BINARY: c_int = 0x8000;
    // SAFETY: no arguments; it cannot fail.
    let me = unsafe { GetCurrentProcessId() };
    if (token >> 32) as u32 != me {
        return Err(io::Error::other("a descriptor given to an earlier host process"));
    }
    let h = (token & 0xffff_ffff) as usize as isize;
    // SAFETY: a handle the client duplicated into this process for this call, owned by the
    // descriptor from here on (closed with it).
    let fd = unsafe { _open_osfhandle(h, O_BINARY) };
    if fd < 0 {
        // SAFETY: as above: not taken, so still ours to close.
        unsafe { CloseHandle(h as Handle) };
        return Err(io::Error::other("the handle the client gave is no file (_open_osfhandle failed)"));
    }
    Ok(fd)
}

/// Host: closes a descriptor the library did not take.
pub fn close_descriptor(fd: i32) {
    // SAFETY: a descriptor this host made and nothing else owns.
    unsafe { _close(fd) };
}

/// Client: a handle of its own to the host process `child` (valid however long `child`
/// lives), to give it descriptors by.
pub fn own_process_handle(child: &std::process::Child) -> io::Result<std::os::windows::io::OwnedHandle> {
    use std::os::windows::io::AsRawHandle;
    // SAFETY: the child's process handle, duplicated within this process.
    let h = unsafe { duplicate(child.as_raw_handle()) }?;
    // SAFETY: a new handle nothing else owns.
    Ok(unsafe { std::os::windows::io::OwnedHandle::from_raw_handle(h) })
}

/// Client: duplicates `h` into the host process `process` (its id `pid`): the token the
/// host takes it by.
pub fn give_handle(process: &std::os::windows::io::OwnedHandle, pid: u32, h: Handle) -> io::Result<u64> {
    use std::os::windows::io::AsRawHandle;
    const DUPLICATE_SAME_ACCESS: u32 = 2;
    let mut out: Handle = std::ptr::null_mut();
    // SAFETY: a handle of this process, duplicated into the host's (whose handle `process`
    // holds).
    let ok = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            h,
            process.as_raw_handle(),
            &mut out,
            0,
            0,
            DUPLICATE_SAME_ACCESS,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((u64::from(pid) << 32) | (out as usize as u64 & 0xffff_ffff))
}

/// `w` as it is: Windows has no SIGPIPE.
pub fn quiet(w: Box<dyn io::Write + Send>) -> Box<dyn io::Write + Send> {
    w
}
