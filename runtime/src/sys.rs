//! The few operating-system calls the runtime needs, declared here rather than through a
//! bindings crate (the host is built for i686 targets; the fewer crates, the faster).

use std::fs::File;
use std::io;

/// The protocol's two ends in a host a client started: the original stdin and stdout.
pub struct Stdio {
    /// Requests arrive here.
    pub input: File,
    /// Replies go here.
    pub output: File,
}

#[cfg(unix)]
mod imp {
    use super::*;
    use std::ffi::c_int;
    use std::os::fd::{FromRawFd, IntoRawFd};

    extern "C" {
        fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
        fn dup2(from: c_int, to: c_int) -> c_int;
        fn getppid() -> c_int;
        fn kill(pid: c_int, sig: c_int) -> c_int;
        fn _exit(code: c_int) -> !;
    }

    fn check(r: c_int) -> io::Result<c_int> {
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }

    /// F_DUPFD_CLOEXEC: a duplicate that programs the library starts do not inherit
    /// (otherwise a crashed host's child would keep the client's pipe open).
    const F_DUPFD_CLOEXEC: c_int = 1030;

    /// Keeps fds 0 and 1 for the protocol under new numbers, then points fd 1 at stderr
    /// and fd 0 at /dev/null, so a library that prints or reads stdin cannot touch the
    /// protocol stream.
    pub fn take_stdio() -> io::Result<Stdio> {
        // SAFETY: plain descriptor calls; the duplicates are owned by the Files below.
        unsafe {
            let input = check(fcntl(0, F_DUPFD_CLOEXEC, 3))?;
            let output = check(fcntl(1, F_DUPFD_CLOEXEC, 3))?;
            check(dup2(2, 1))?;
            let null = File::open("/dev/null")?.into_raw_fd();
            check(dup2(null, 0))?;
            let _ = File::from_raw_fd(null);
            Ok(Stdio { input: File::from_raw_fd(input), output: File::from_raw_fd(output) })
        }
    }

    /// Dies with the client, even while the library thread is stuck in a call: a thread
    /// watches for the host being re-parented (its client gone) and ends the process.
    /// (PR_SET_PDEATHSIG would fire when the client *thread* that spawned the host exits,
    /// which a multi-threaded client does routinely.)
    pub fn die_with_parent(parent: Option<u32>) {
        let Some(parent) = parent else { return };
        // SAFETY: getppid has no preconditions; _exit ends the process without running
        // atexit handlers, which could wait on locks the library thread holds.
        let orphaned = move || unsafe { getppid() } as u32 != parent;
        if orphaned() {
            // SAFETY: as said above.
            unsafe { _exit(0) };
        }
        let _ = std::thread::Builder::new().name("dllgen-parent-watch".into()).spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_millis(100));
            if orphaned() {
                // SAFETY: as said above.
                unsafe { _exit(0) };
            }
        });
    }

    /// On Unix the host watches for its parent itself (see `die_with_parent`).
    pub fn adopt_child(_child: &std::process::Child) {}

    /// Kills process `pid` outright.
    pub fn kill_process(pid: u32) {
        // SAFETY: SIGKILL to a pid we started.
        unsafe {
            kill(pid as c_int, 9);
        }
    }
}

#[cfg(windows)]
mod imp {
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
}

pub use imp::{adopt_child, die_with_parent, kill_process, take_stdio};
