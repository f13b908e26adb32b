//! Listener mode: one long-lived host serving several clients, over a Unix domain socket
//! in a 0700 folder (Linux) or a named pipe only the current user can open (Windows).
//!
//! Each connection has a reader thread that answers the handshake and forwards calls to
//! the one library thread, so calls from all clients are serialized onto it. While a
//! connection's call runs, its reader forwards that connection's frames (callback results,
//! nested calls) to the call instead; the library thread marks the call finished *before*
//! writing the `Return`, so the client's next call is never mistaken for callback traffic.

use crate::host::{check_hello_with, run_call, Frames, Library};
use crate::wire::{read_frame, Header, Kind, Status, WireError, Writer};
use crate::PROTOCOL_VERSION;
use std::io::{self, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// A connected client's stream.
pub(crate) trait Conn: Read + Write + Send + 'static {
    /// A second handle on the same stream (one side reads, the other writes).
    fn split(&self) -> io::Result<Box<dyn Conn>>;
}

type Incoming = Result<(Header, Vec<u8>), WireError>;

/// Waits for the next client.
pub(crate) type Accept = Box<dyn FnMut() -> io::Result<Box<dyn Conn>> + Send>;

/// A client's ends of a listener connection, and how to interrupt a read blocked on it.
pub(crate) type Connected = (Box<dyn Read + Send>, Box<dyn Write + Send>, Box<dyn Fn() + Send + Sync>);

/// What the library thread needs from a connection.
struct Shared {
    writer: Mutex<Box<dyn Conn>>,
    /// A call of this connection is running on the library thread.
    in_call: AtomicBool,
    /// Frames for the running call, from the connection's reader.
    during_call: Mutex<Receiver<Incoming>>,
}

struct Job {
    header: Header,
    payload: Vec<u8>,
    conn: Arc<Shared>,
}

/// Frames for a running call, from its connection's reader thread.
struct QueuedFrames<'a>(&'a Receiver<Incoming>);

impl Frames for QueuedFrames<'_> {
    fn next_frame(&mut self, _max: u32, payload: &mut Vec<u8>) -> Result<Header, WireError> {
        match self.0.recv() {
            Ok(Ok((h, p))) => {
                *payload = p;
                Ok(h)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(WireError::Closed),
        }
    }
}

/// Serves every connection `accept` yields, forever; calls run on the calling thread.
pub(crate) fn serve_all(
    lib: &dyn Library,
    mut accept: impl FnMut() -> io::Result<Box<dyn Conn>> + Send + 'static,
    max_frame: u32,
) -> ! {
    let (jobs, queue) = channel::<Job>();
    let hash = lib.model_hash();
    let load_error = lib.load_error().map(str::to_string);
    std::thread::Builder::new()
        .name("dllgen-accept".into())
        .spawn(move || loop {
            match accept() {
                Ok(conn) => {
                    let (jobs, load_error) = (jobs.clone(), load_error.clone());
                    let _ = std::thread::Builder::new()
                        .name("dllgen-connection".into())
                        .spawn(move || read_connection(conn, jobs, hash, load_error, max_frame));
                }
                Err(e) => {
                    eprintln!("dllgen host: accepting a client failed: {e}");
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
        })
        .expect("the accept thread starts");
    let mut out = Writer::new();
    for job in queue {
        let Job { header, payload, conn } = job;
        let during = conn.during_call.lock().unwrap_or_else(|e| e.into_inner());
        let mut writer = conn.writer.lock().unwrap_or_else(|e| e.into_inner());
        let status =
            run_call(lib, &header, &payload, &mut out, &mut QueuedFrames(&during), &mut **writer, max_frame);
        conn.in_call.store(false, Ordering::Release);
        // A client that went away mid-call only loses its own reply.
        if let Ok(status) = status {
            let _ = out.send(&mut **writer, Kind::Return, status, header.id, header.seq);
        }
    }
    std::process::exit(0)
}

/// A connection's reader: the handshake, then calls to the library thread and, while one
/// runs, its frames to it.
fn read_connection(
    conn: Box<dyn Conn>,
    jobs: Sender<Job>,
    hash: u64,
    load_error: Option<String>,
    max_frame: u32,
) {
    let Ok(writer) = conn.split() else { return };
    let (to_call, during_call) = channel::<Incoming>();
    let shared = Arc::new(Shared {
        writer: Mutex::new(writer),
        in_call: AtomicBool::new(false),
        during_call: Mutex::new(during_call),
    });
    let mut input = BufReader::with_capacity(1 << 16, conn);
    let mut payload = Vec::new();
    let mut greeted = false;
    loop {
        let h = match read_frame(&mut input, max_frame, &mut payload) {
            Ok(h) => h,
            Err(e) => {
                // Tell a running call its client is gone, then stop.
                let _ = to_call.send(Err(e));
                return;
            }
        };
        if shared.in_call.load(Ordering::Acquire) {
            if to_call.send(Ok((h, std::mem::take(&mut payload)))).is_err() {
                return;
            }
            continue;
        }
        let mut out = Writer::new();
        match (h.kind, greeted) {
            (Kind::Hello, false) => {
                let mut w = shared.writer.lock().unwrap_or_else(|e| e.into_inner());
                match check_hello_with(hash, load_error.as_deref(), &payload) {
                    Ok(()) => {
                        out.u32(PROTOCOL_VERSION).u64(hash);
                        greeted = out.send(&mut **w, Kind::HelloAck, Status::Ok, 0, h.seq).is_ok();
                    }
                    Err(message) => {
                        out.bytes(message.as_bytes());
                        let _ = out.send(&mut **w, Kind::HelloAck, Status::Refused, 0, h.seq);
                        return;
                    }
                }
            }
            (Kind::Call, true) => {
                shared.in_call.store(true, Ordering::Release);
                let job = Job { header: h, payload: std::mem::take(&mut payload), conn: shared.clone() };
                if jobs.send(job).is_err() {
                    return;
                }
            }
            _ => {
                let mut w = shared.writer.lock().unwrap_or_else(|e| e.into_inner());
                crate::host::reply_protocol_error(&mut **w, &WireError::Payload("a frame out of order"));
                return;
            }
        }
    }
}

#[cfg(unix)]
mod endpoint {
    use super::*;
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::Path;

    impl Conn for UnixStream {
        fn split(&self) -> io::Result<Box<dyn Conn>> {
            Ok(Box::new(self.try_clone()?))
        }
    }

    extern "C" {
        fn geteuid() -> u32;
    }

    /// Binds the socket `path`, whose folder must be ours and closed to everyone else
    /// (mode 0700; created so when missing). A stale socket file is replaced.
    pub(crate) fn listen(endpoint: &str) -> io::Result<(String, Accept)> {
        let path = Path::new(endpoint);
        if endpoint.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "--listen needs the socket's path"));
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !dir.exists() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
        let meta = std::fs::metadata(dir)?;
        // SAFETY: geteuid has no preconditions.
        let me = unsafe { geteuid() };
        if meta.uid() != me || meta.permissions().mode() & 0o077 != 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} must belong to this user with mode 0700, so no one else can reach the socket",
                    dir.display()
                ),
            ));
        }
        if path.exists() && UnixStream::connect(path).is_err() {
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        Ok((
            path.display().to_string(),
            Box::new(move || listener.accept().map(|(s, _)| Box::new(s) as Box<dyn Conn>)),
        ))
    }

    /// Connects to a listening host; the closure interrupts a blocked read (timeouts).
    pub(crate) fn connect(endpoint: &str) -> io::Result<Connected> {
        let s = UnixStream::connect(endpoint)?;
        let cut = s.try_clone()?;
        Ok((
            Box::new(s.try_clone()?),
            Box::new(s),
            Box::new(move || {
                let _ = cut.shutdown(std::net::Shutdown::Both);
            }),
        ))
    }
}

#[cfg(windows)]
mod endpoint {
    use super::*;
    use std::ffi::c_void;
    use std::fs::File;
    use std::os::windows::io::FromRawHandle;

    type Handle = *mut c_void;
    const PIPE_ACCESS_DUPLEX: u32 = 0x3;
    const FILE_FLAG_FIRST_PIPE_INSTANCE: u32 = 0x0008_0000;
    const PIPE_REJECT_REMOTE_CLIENTS: u32 = 0x8;
    const PIPE_UNLIMITED_INSTANCES: u32 = 255;
    const ERROR_PIPE_CONNECTED: i32 = 535;
    const TOKEN_QUERY: u32 = 0x0008;
    const TOKEN_USER_CLASS: i32 = 1;

    #[repr(C)]
    struct SecurityAttributes {
        length: u32,
        descriptor: *mut c_void,
        inherit: i32,
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
        fn ConnectNamedPipe(pipe: Handle, overlapped: *mut c_void) -> i32;
        fn GetCurrentProcess() -> Handle;
        fn LocalFree(mem: *mut c_void) -> *mut c_void;
    }
    #[link(name = "advapi32")]
    extern "system" {
        fn OpenProcessToken(process: Handle, access: u32, token: *mut Handle) -> i32;
        fn GetTokenInformation(
            token: Handle,
            class: i32,
            info: *mut c_void,
            len: u32,
            needed: *mut u32,
        ) -> i32;
        fn ConvertSidToStringSidW(sid: *mut c_void, out: *mut *mut u16) -> i32;
        fn ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl: *const u16,
            revision: u32,
            sd: *mut *mut c_void,
            len: *mut u32,
        ) -> i32;
    }

    impl Conn for File {
        fn split(&self) -> io::Result<Box<dyn Conn>> {
            Ok(Box::new(self.try_clone()?))
        }
    }

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(Some(0)).collect()
    }

    /// A security descriptor granting the current user, and no one else, full access.
    fn owner_only() -> io::Result<*mut c_void> {
        // SAFETY: token and SID queries with buffers sized as the API reports; the strings
        // LocalAlloc'd by the conversions are freed (the descriptor lives for the process).
        unsafe {
            let mut token: Handle = std::ptr::null_mut();
            if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
                return Err(io::Error::last_os_error());
            }
            let mut needed = 0u32;
            GetTokenInformation(token, TOKEN_USER_CLASS, std::ptr::null_mut(), 0, &mut needed);
            let mut buf = vec![0u64; (needed as usize).div_ceil(8).max(1)];
            if GetTokenInformation(
                token,
                TOKEN_USER_CLASS,
                buf.as_mut_ptr() as *mut c_void,
                needed,
                &mut needed,
            ) == 0
            {
                return Err(io::Error::last_os_error());
            }
            // TOKEN_USER starts with SID_AND_ATTRIBUTES, whose first field is the SID pointer.
            let sid = *(buf.as_ptr() as *const *mut c_void);
            let mut text: *mut u16 = std::ptr::null_mut();
            if ConvertSidToStringSidW(sid, &mut text) == 0 {
                return Err(io::Error::last_os_error());
            }
            let len = (0..).take_while(|&i| *text.add(i) != 0).count();
            let sid_text = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
            LocalFree(text as *mut c_void);
            let sddl = wide(&format!("D:P(A;;GA;;;{sid_text})"));
            let mut sd: *mut c_void = std::ptr::null_mut();
            if ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                1,
                &mut sd,
                std::ptr::null_mut(),
            ) == 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(sd)
        }
    }

    struct Descriptor(*mut c_void);
    // SAFETY: an immutable security descriptor, used from the accept thread only.
    unsafe impl Send for Descriptor {}

    /// A pipe instance not yet connected.
    struct Pipe(Handle);
    // SAFETY: a pipe handle may be used from any thread; only the accept thread holds it.
    unsafe impl Send for Pipe {}

    /// Creates the named pipe `name` (`\\.\pipe\...`; a random one when empty): first
    /// instance only (no squatting), local clients only, current user only.
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
            let open = PIPE_ACCESS_DUPLEX | if first { FILE_FLAG_FIRST_PIPE_INSTANCE } else { 0 };
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
            let pipe = match next.take() {
                Some(p) => p.0,
                None => create(false, &sd)?.0,
            };
            // SAFETY: a pipe handle we created; blocks until a client connects.
            let ok = unsafe { ConnectNamedPipe(pipe, std::ptr::null_mut()) } != 0
                || io::Error::last_os_error().raw_os_error() == Some(ERROR_PIPE_CONNECTED);
            // SAFETY: the handle is owned by the File from here on.
            let file = unsafe { File::from_raw_handle(pipe) };
            if !ok {
                return Err(io::Error::last_os_error());
            }
            Ok(Box::new(file))
        };
        Ok((name, Box::new(accept)))
    }

    /// Connects to a listening host's pipe. (A blocked pipe read cannot be interrupted
    /// here, so timeouts do not apply to listener connections on Windows.)
    pub(crate) fn connect(endpoint: &str) -> io::Result<Connected> {
        const ERROR_PIPE_BUSY: i32 = 231;
        // Between two clients the host has no free pipe instance for a moment: retry.
        let mut tries = 0;
        let f = loop {
            match std::fs::OpenOptions::new().read(true).write(true).open(endpoint) {
                Err(e) if e.raw_os_error() == Some(ERROR_PIPE_BUSY) && tries < 250 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        };
        Ok((Box::new(f.try_clone()?), Box::new(f), Box::new(|| {})))
    }
}

pub(crate) use endpoint::{connect, listen};
