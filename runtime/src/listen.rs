//! Listener mode: one long-lived host serving several clients, over a Unix domain socket
//! in a 0700 folder (Linux) or a named pipe only the current user can open (Windows).
//!
//! Each connection has a reader thread that answers the handshake and forwards calls to
//! the one library thread, so calls from all clients are serialized onto it. While a
//! connection's call runs, its reader forwards that connection's frames (callback results,
//! nested calls) to the call instead; the library thread marks the call finished *before*
//! writing the `Return`, so the client's next call is never mistaken for callback traffic.

use crate::host::{check_hello_with, run_call, Frames, Library};
use crate::wire::{read_frame, Header, Kind, Payload, Status, WireError, Writer};
use crate::PROTOCOL_VERSION;
use std::io::{self, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

/// A connected client's stream.
pub(crate) trait Conn: Read + Write + Send + Sync + 'static {
    /// A second handle on the same stream (one thread reads, another writes).
    fn split(&self) -> io::Result<Box<dyn Conn>>;
    /// Cuts the connection, waking a thread blocked on it.
    fn cut(&self);
}

type Incoming = Result<(Header, Payload), WireError>;

/// Waits for the next client.
pub(crate) type Accept = Box<dyn FnMut() -> io::Result<Box<dyn Conn>> + Send>;

/// A client's ends of a listener connection, and how to interrupt a read blocked on it.
pub(crate) type Connected = (Box<dyn Read + Send>, Box<dyn Write + Send>, Box<dyn Fn() + Send + Sync>);

/// Frames waiting to be written to one client. A client that stops reading fills it and
/// is cut off, instead of stalling the library thread and every other client.
const OUTBOX_FRAMES: usize = 4;

/// What the library thread needs from a connection.
struct Shared {
    /// Finished frames, written by the connection's writer thread.
    outbox: SyncSender<Vec<u8>>,
    /// A call of this connection is running on the library thread.
    in_call: AtomicBool,
    /// Frames for the running call, from the connection's reader (bounded: a client
    /// flooding frames during a call waits instead of filling memory).
    during_call: Mutex<Receiver<Incoming>>,
    /// Cuts the connection.
    cutter: Box<dyn Conn>,
}

impl Shared {
    fn cut(&self) {
        self.cutter.cut();
    }
}

/// `Write` into a connection's outbox: bytes gather until `flush` (which `Writer::send`
/// calls once per frame) queues them.
struct Outbox<'a> {
    conn: &'a Shared,
    frame: Vec<u8>,
}

impl Write for Outbox<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.frame.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.frame.is_empty() {
            return Ok(());
        }
        let frame = std::mem::take(&mut self.frame);
        self.conn.outbox.try_send(frame).map_err(|e| match e {
            TrySendError::Full(_) => {
                self.conn.cut();
                io::Error::new(io::ErrorKind::BrokenPipe, "the client stopped reading its replies")
            }
            TrySendError::Disconnected(_) => io::Error::new(io::ErrorKind::BrokenPipe, "the client is gone"),
        })
    }
}

struct Job {
    header: Header,
    payload: Payload,
    conn: Arc<Shared>,
}

/// Frames for a running call, from its connection's reader thread.
struct QueuedFrames<'a>(&'a Receiver<Incoming>);

impl Frames for QueuedFrames<'_> {
    fn next_frame(&mut self, _max: u32, payload: &mut Payload) -> Result<Header, WireError> {
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
pub(crate) fn serve_all(lib: &dyn Library, mut accept: Accept, max_frame: u32) -> ! {
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
        let mut outbox = Outbox { conn: &conn, frame: Vec::new() };
        let status =
            run_call(lib, &header, &payload, &mut out, &mut QueuedFrames(&during), &mut outbox, max_frame);
        // Cleared before the reply is queued: the client's next call must not be taken
        // for callback traffic of this one.
        conn.in_call.store(false, Ordering::Release);
        // A client that went away mid-call only loses its own reply.
        match status {
            Ok(status) => {
                let _ = out.send(&mut outbox, Kind::Return, status, header.id, header.seq);
            }
            Err(_) => conn.cut(),
        }
    }
    std::process::exit(0)
}

/// A connection's reader: the handshake, then calls to the library thread and, while one
/// runs, its frames to it. A writer thread empties the connection's outbox.
fn read_connection(
    conn: Box<dyn Conn>,
    jobs: Sender<Job>,
    hash: u64,
    load_error: Option<String>,
    max_frame: u32,
) {
    let (Ok(mut writer), Ok(cutter)) = (conn.split(), conn.split()) else { return };
    let (outbox, frames) = sync_channel::<Vec<u8>>(OUTBOX_FRAMES);
    let writer_thread =
        std::thread::Builder::new().name("dllgen-connection-writer".into()).spawn(move || {
            for frame in frames {
                if writer.write_all(&frame).and_then(|()| writer.flush()).is_err() {
                    writer.cut();
                    return;
                }
            }
        });
    if writer_thread.is_err() {
        return;
    }
    let (to_call, during_call) = sync_channel::<Incoming>(1);
    let shared = Arc::new(Shared {
        outbox,
        in_call: AtomicBool::new(false),
        during_call: Mutex::new(during_call),
        cutter,
    });
    let mut input = BufReader::with_capacity(1 << 16, conn);
    let mut payload = Payload::new();
    let mut greeted = false;
    loop {
        let h = match read_frame(&mut input, max_frame, &mut payload) {
            Ok(h) => h,
            Err(e) => {
                // Tell a running call its client is gone, then stop.
                let _ = to_call.try_send(Err(e));
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
        let mut outbox = Outbox { conn: &shared, frame: Vec::new() };
        match (h.kind, greeted) {
            (Kind::Hello, false) => match check_hello_with(hash, load_error.as_deref(), &payload) {
                Ok(()) => {
                    out.u32(PROTOCOL_VERSION).u64(hash);
                    greeted = out.send(&mut outbox, Kind::HelloAck, Status::Ok, 0, h.seq).is_ok();
                }
                Err(message) => {
                    out.bytes(message.as_bytes());
                    let _ = out.send(&mut outbox, Kind::HelloAck, Status::Refused, 0, h.seq);
                    return;
                }
            },
            (Kind::Call, true) => {
                shared.in_call.store(true, Ordering::Release);
                let job = Job { header: h, payload: std::mem::take(&mut payload), conn: shared.clone() };
                if jobs.send(job).is_err() {
                    return;
                }
            }
            _ => {
                crate::host::reply_protocol_error(
                    &mut outbox,
                    &WireError::Payload("a frame out of order"),
                    h.seq,
                );
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
        fn cut(&self) {
            let _ = self.shutdown(std::net::Shutdown::Both);
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
        fn LocalFree(mem: *mut c_void) -> *mut c_void;
        fn CloseHandle(handle: Handle) -> i32;
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

    /// A connected server pipe instance, closed when its last end goes.
    struct Pipe(Handle);
    // SAFETY: an overlapped pipe handle may be used from several threads at once; that is
    // why it is overlapped (synchronous I/O on one file object is serialized by Windows, so
    // a pending read would block the reply's write).
    unsafe impl Send for Pipe {}
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
            let started =
                unsafe { ReadFile(self.pipe.0, buf.as_mut_ptr(), len, std::ptr::null_mut(), &mut ov) };
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

    /// A security descriptor granting the current user, and no one else, full access.
    fn owner_only() -> io::Result<*mut c_void> {
        // SAFETY: token and SID queries with buffers sized as the API reports; handles and
        // the strings the conversions allocate are freed (the descriptor lives for the
        // process).
        unsafe {
            let mut token: Handle = std::ptr::null_mut();
            if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
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
            CloseHandle(token);
            if got == 0 {
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
            let open = PIPE_ACCESS_DUPLEX
                | FILE_FLAG_OVERLAPPED
                | if first { FILE_FLAG_FIRST_PIPE_INSTANCE } else { 0 };
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
