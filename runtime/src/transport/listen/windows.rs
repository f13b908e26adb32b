use super::*;
use std::ffi::c_void;

type Handle = *mut c_void;
const PIPE_ACCESS_DUPLEX: u32 = 0x3;
const FILE_FLAG_OVERLAPPED: u32 = 0x4000_0000;
const FILE_FLAG_FIRST_PIPE_INSTANCE: u32 = 0x0008_0000;
const PIPE_REJECT_REMOTE_CLIENTS: u32 = 0x8;
const PIPE_UNLIMITED_INSTANCES: u32 = 255;
const ERROR_PIPE_CONNECTED: i32 = 535;
const ERROR_IO_PENDING: i32 = 997;
const ERROR_BROKEN_PIPE: i32 = 109;
const ERROR_PIPE_NOT_CONNECTED: i32 = 233;
const ERROR_OPERATION_ABORTED: i32 = 995;
const TOKEN_QUERY: u32 = 0x0008;
const PROCESS_QUERY_LIMITED_INFORMATION: u32 = 0x1000;
/// The pipe server may learn who we are, but not act as us.
const SECURITY_IDENTIFICATION: u32 = 1 << 16;
const TOKEN_USER_CLASS: i32 = 1;

#[repr(C)]
struct SecurityAttributes {
    length: u32,
    descriptor: *mut c_void,
    inherit: i32,
}

/// OVERLAPPED: two ULONG_PTRs, an 8-byte offset union, the event (same layout on
/// i686 and x86_64).
#[repr(C)]
struct Overlapped {
    internal: usize,
    internal_high: usize,
    offset: u32,
    offset_high: u32,
    event: Handle,
}

#[link(name = "kernel32")]
extern "system" {
    fn CreateNamedPipeW(
        name: *const u16,
        open: u32,
        mode: u32,
        max: u32,
        out: u32,
        inp: u32,
        timeout: u32,
        sa: *mut SecurityAttributes,
    ) -> Handle;
    fn ConnectNamedPipe(pipe: Handle, overlapped: *mut Overlapped) -> i32;
    fn DisconnectNamedPipe(pipe: Handle) -> i32;
    fn CreateEventW(sa: *mut c_void, manual: i32, initial: i32, name: *const u16) -> Handle;
    fn ReadFile(h: Handle, buf: *mut u8, len: u32, read: *mut u32, ov: *mut Overlapped) -> i32;
    fn WriteFile(h: Handle, buf: *const u8, len: u32, written: *mut u32, ov: *mut Overlapped) -> i32;
    fn GetOverlappedResult(h: Handle, ov: *mut Overlapped, n: *mut u32, wait: i32) -> i32;
    fn CancelIoEx(h: Handle, ov: *mut Overlapped) -> i32;
    fn GetCurrentProcess() -> Handle;
    fn OpenProcess(access: u32, inherit: i32, pid: u32) -> Handle;
    fn GetNamedPipeServerProcessId(pipe: Handle, pid: *mut u32) -> i32;
    fn LocalFree(mem: *mut c_void) -> *mut c_void;
    fn CloseHandle(handle: Handle) -> i32;
}
#[link(name = "advapi32")]
extern "system" {
    fn OpenProcessToken(process: Handle, access: u32, token: *mut Handle) -> i32;
    fn GetTokenInformation(token: Handle, class: i32, info: *mut c_void, len: u32, needed: *mut u32) -> i32;
    fn ConvertSidToStringSidW(sid: *mut c_void, out: *mut *mut u16) -> i32;
    fn IsValidSid(sid: *mut c_void) -> i32;
    fn GetLengthSid(sid: *mut c_void) -> u32;
    fn ConvertStringSecurityDescriptorToSecurityDescriptorW(
        sddl: *const u16,
        revision: u32,
        sd: *mut *mut c_void,
        len: *mut u32,
    ) -> i32;
}

/// A connected server pipe instance, closed when its last end goes.
struct Pipe(Handle);
// SAFETY: an overlapped pipe handle may be used from several threads at once; that is
// why it is overlapped (synchronous I/O on one file object is serialized by Windows, so
// a pending read would block the reply's write).
unsafe impl Send for Pipe {}
// SAFETY: as for Send.
unsafe impl Sync for Pipe {}

impl Drop for Pipe {
    fn drop(&mut self) {
        // SAFETY: the handle is ours and closed once.
        unsafe {
            DisconnectNamedPipe(self.0);
            CloseHandle(self.0);
        }
    }
}

/// One thread's end of a pipe: its own event for its own overlapped operations.
struct PipeEnd {
    pipe: Arc<Pipe>,
    event: Handle,
}
// SAFETY: the event is used by the thread that owns this end; `cut` uses only the pipe.
unsafe impl Send for PipeEnd {}
// SAFETY: as for Send.
unsafe impl Sync for PipeEnd {}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        // SAFETY: the event is ours and closed once.
        unsafe { CloseHandle(self.event) };
    }
}

impl PipeEnd {
    fn new(pipe: Arc<Pipe>) -> io::Result<PipeEnd> {
        // SAFETY: an unnamed manual-reset event.
        let event = unsafe { CreateEventW(std::ptr::null_mut(), 1, 0, std::ptr::null()) };
        if event.is_null() {
            return Err(io::Error::last_os_error());
        }
        Ok(PipeEnd { pipe, event })
    }

    /// Runs one overlapped operation to completion; end-of-pipe reads as 0 bytes.
    fn complete(&self, started: i32, ov: &mut Overlapped) -> io::Result<usize> {
        if started == 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(ERROR_IO_PENDING) => {}
                Some(ERROR_BROKEN_PIPE | ERROR_PIPE_NOT_CONNECTED) => return Ok(0),
                _ => return Err(e),
            }
        }
        let mut n = 0u32;
        // SAFETY: `ov` lives until the operation completed: this waits for it.
        if unsafe { GetOverlappedResult(self.pipe.0, ov, &mut n, 1) } == 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(ERROR_BROKEN_PIPE | ERROR_PIPE_NOT_CONNECTED | ERROR_OPERATION_ABORTED) => Ok(0),
                _ => Err(e),
            };
        }
        Ok(n as usize)
    }

    fn overlapped(&self) -> Overlapped {
        Overlapped { internal: 0, internal_high: 0, offset: 0, offset_high: 0, event: self.event }
    }
}

impl Read for PipeEnd {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut ov = self.overlapped();
        let len = buf.len().min(u32::MAX as usize) as u32;
        // SAFETY: `buf` and `ov` outlive the operation (`complete` waits for it).
        let started = unsafe { ReadFile(self.pipe.0, buf.as_mut_ptr(), len, std::ptr::null_mut(), &mut ov) };
        self.complete(started, &mut ov)
    }
}

impl Write for PipeEnd {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut ov = self.overlapped();
        let len = buf.len().min(u32::MAX as usize) as u32;
        // SAFETY: as for `read`.
        let started = unsafe { WriteFile(self.pipe.0, buf.as_ptr(), len, std::ptr::null_mut(), &mut ov) };
        match self.complete(started, &mut ov)? {
            0 if !buf.is_empty() => Err(io::Error::new(io::ErrorKind::BrokenPipe, "the client is gone")),
            n => Ok(n),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Conn for PipeEnd {
    fn split(&self) -> io::Result<Box<dyn Conn>> {
        Ok(Box::new(PipeEnd::new(self.pipe.clone())?))
    }
    fn cut(&self) {
        // SAFETY: cancels every pending operation on the pipe, from any thread.
        unsafe {
            CancelIoEx(self.pipe.0, std::ptr::null_mut());
        }
    }
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(Some(0)).collect()
}

/// The user SID (its bytes) of `process`'s token.
///
/// # Safety
/// `process` is a process handle with `PROCESS_QUERY_LIMITED_INFORMATION` access.
unsafe fn user_sid(process: Handle) -> io::Result<Vec<u8>> {
    // SAFETY: token queries with buffers sized as the API reports; the token is closed;
    // the SID pointer points into `buf` and is checked before its length is read.
    unsafe {
        let mut token: Handle = std::ptr::null_mut();
        if OpenProcessToken(process, TOKEN_QUERY, &mut token) == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut needed = 0u32;
        GetTokenInformation(token, TOKEN_USER_CLASS, std::ptr::null_mut(), 0, &mut needed);
        let mut buf = vec![0u64; (needed as usize).div_ceil(8).max(1)];
        let got = GetTokenInformation(
            token,
            TOKEN_USER_CLASS,
            buf.as_mut_ptr() as *mut c_void,
            needed,
            &mut needed,
        );
        let e = io::Error::last_os_error();
        CloseHandle(token);
        if got == 0 {
            return Err(e);
        }
        // TOKEN_USER starts with SID_AND_ATTRIBUTES, whose first field is the SID pointer
        // (into `buf`).
        let sid = *(buf.as_ptr() as *const *mut c_void);
        if IsValidSid(sid) == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "the token's user SID is not valid"));
        }
        Ok(std::slice::from_raw_parts(sid as *const u8, GetLengthSid(sid) as usize).to_vec())
    }
}

/// A SID's text form (`S-1-5-21-...`).
fn sid_text(sid: &[u8]) -> io::Result<String> {
    // SAFETY: `sid` holds a valid SID (from `user_sid`); the string the conversion
    // allocates is freed.
    unsafe {
        let mut text: *mut u16 = std::ptr::null_mut();
        if ConvertSidToStringSidW(sid.as_ptr() as *mut c_void, &mut text) == 0 {
            return Err(io::Error::last_os_error());
        }
        let len = (0..).take_while(|&i| *text.add(i) != 0).count();
        let s = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
        LocalFree(text as *mut c_void);
        Ok(s)
    }
}

/// This process's user SID.
fn my_sid() -> io::Result<Vec<u8>> {
    // SAFETY: the pseudo-handle of the current process has every access.
    unsafe { user_sid(GetCurrentProcess()) }
}

/// A security descriptor granting the current user, and no one else, full access.
fn owner_only() -> io::Result<*mut c_void> {
    let sddl = wide(&format!("D:P(A;;GA;;;{})", sid_text(&my_sid()?)?));
    let mut sd: *mut c_void = std::ptr::null_mut();
    // SAFETY: a NUL-terminated descriptor string; the descriptor lives for the process.
    let made = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.as_ptr(), 1, &mut sd, std::ptr::null_mut())
    };
    if made == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(sd)
}

/// Whether the server end of `pipe` belongs to a process running as this user.
pub(crate) fn check_server(endpoint: &str, pipe: Handle) -> Result<(), ConnectError> {
    let mut pid = 0u32;
    // SAFETY: a pipe handle we own and an out-value.
    if unsafe { GetNamedPipeServerProcessId(pipe, &mut pid) } == 0 {
        return Err(ConnectError::Untrusted(format!(
            "cannot tell which process serves {endpoint} ({}); nothing was sent to it",
            io::Error::last_os_error()
        )));
    }
    // SAFETY: a query-only handle, closed below.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return Err(ConnectError::Untrusted(format!(
            "cannot inspect the process serving {endpoint} (pid {pid}: {}), so it may belong to another user; nothing was sent to it",
            io::Error::last_os_error()
        )));
    }
    // SAFETY: opened above with the access `user_sid` needs; closed once.
    let theirs = unsafe {
        let sid = user_sid(process);
        CloseHandle(process);
        sid
    };
    let mine = my_sid()?;
    match theirs {
        Ok(theirs) if theirs == mine => Ok(()),
        Ok(theirs) => Err(ConnectError::Untrusted(format!(
            "the process serving {endpoint} (pid {pid}) runs as {}, not as this user ({}); nothing was sent to it",
            sid_text(&theirs).unwrap_or_else(|_| "another user".into()),
            sid_text(&mine).unwrap_or_else(|_| "?".into()),
        ))),
        Err(e) => Err(ConnectError::Untrusted(format!(
            "cannot read the user of the process serving {endpoint} (pid {pid}: {e}); nothing was sent to it"
        ))),
    }
}

struct Descriptor(*mut c_void);
// SAFETY: an immutable security descriptor, used from the accept thread only.
unsafe impl Send for Descriptor {}

/// Creates the named pipe `name` (`\\.\pipe\...`; a random one when empty): first
/// instance only (no squatting), local clients only, current user only, overlapped.
pub(crate) fn listen(name: &str) -> io::Result<(String, Accept)> {
    let name = if name.is_empty() {
        use std::hash::{BuildHasher, Hasher};
        let r = std::collections::hash_map::RandomState::new().build_hasher().finish();
        format!(r"\\.\pipe\dllgen-{}-{r:016x}", std::process::id())
    } else {
        name.to_string()
    };
    let sd = Descriptor(owner_only()?);
    let wname = wide(&name);
    let create = move |first: bool, sd: &Descriptor| -> io::Result<Pipe> {
        let mut sa = SecurityAttributes {
            length: std::mem::size_of::<SecurityAttributes>() as u32,
            descriptor: sd.0,
            inherit: 0,
        };
        let open =
            PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | if first { FILE_FLAG_FIRST_PIPE_INSTANCE } else { 0 };
        // SAFETY: a NUL-terminated name and a valid security descriptor.
        let h = unsafe {
            CreateNamedPipeW(
                wname.as_ptr(),
                open,
                PIPE_REJECT_REMOTE_CLIENTS,
                PIPE_UNLIMITED_INSTANCES,
                1 << 16,
                1 << 16,
                0,
                &mut sa,
            )
        };
        if h as isize == -1 {
            Err(io::Error::last_os_error())
        } else {
            Ok(Pipe(h))
        }
    };
    let mut next = Some(create(true, &sd)?);
    let accept = move || -> io::Result<Box<dyn Conn>> {
        let pipe = Arc::new(match next.take() {
            Some(p) => p,
            None => create(false, &sd)?,
        });
        let end = PipeEnd::new(pipe.clone())?;
        let mut ov = end.overlapped();
        // SAFETY: `ov` lives until the connection completes (we wait for it).
        let started = unsafe { ConnectNamedPipe(pipe.0, &mut ov) };
        if started == 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(ERROR_PIPE_CONNECTED) => {}
                Some(ERROR_IO_PENDING) => {
                    let mut n = 0u32;
                    // SAFETY: `ov` lives until the connection completed: this waits.
                    if unsafe { GetOverlappedResult(pipe.0, &mut ov, &mut n, 1) } == 0 {
                        return Err(io::Error::last_os_error());
                    }
                }
                _ => return Err(e),
            }
        }
        Ok(Box::new(end))
    };
    Ok((name, Box::new(accept)))
}

/// Connects to a listening host's pipe, after checking that its server runs as this
/// user. (A blocked pipe read cannot be interrupted here, so timeouts do not apply to
/// listener connections on Windows.)
pub(crate) fn connect(endpoint: &str) -> Result<Connected, ConnectError> {
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::AsRawHandle;
    const ERROR_PIPE_BUSY: i32 = 231;
    // Between two clients the host has no free pipe instance for a moment: retry.
    let mut tries = 0;
    let f = loop {
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .security_qos_flags(SECURITY_IDENTIFICATION)
            .open(endpoint);
        match opened {
            Err(e) if e.raw_os_error() == Some(ERROR_PIPE_BUSY) && tries < 250 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other?,
        }
    };
    check_server(endpoint, f.as_raw_handle())?;
    Ok((Box::new(f.try_clone()?), Box::new(f), Box::new(|| {})))
}
