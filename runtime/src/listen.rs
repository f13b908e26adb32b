//! Listener mode: one long-lived host serving several clients, over a Unix domain socket
//! in a 0700 folder (Linux) or a named pipe only the current user can open (Windows).
//!
//! Each connection has a reader thread that answers the handshake and forwards calls to
//! the one library thread, so calls from all clients are serialized onto it. While a
//! connection's call runs, its reader forwards that connection's frames (callback results,
//! nested calls) to the call instead; the library thread marks the call finished *before*
//! writing the `Return`, so the client's next call is never mistaken for callback traffic.

use crate::host::{check_hello_with, run_call, Frames, Library};
use crate::pulse::Pulse;
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
    /// The client asked for `Alive` frames during its calls.
    beats: AtomicBool,
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

/// The connection whose call runs on the library thread, and the call's number.
type Running = Arc<Mutex<Option<(Arc<Shared>, u32)>>>;

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
    let pulse = Arc::new(Pulse::default());
    // The connection whose call runs, for the beating thread.
    let running: Running = Arc::default();
    let (beat_pulse, beat_running) = (pulse.clone(), running.clone());
    let beating = std::thread::Builder::new().name("dllgen-alive".into()).spawn(move || {
        let mut w = Writer::new();
        beat_pulse.run(|_| {
            let running = beat_running.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((conn, seq)) = running.as_ref().filter(|(c, _)| c.beats.load(Ordering::Relaxed)) {
                let mut frame = Vec::new();
                w.clear();
                // A client that stopped reading misses a beat; its outbox decides its fate.
                if w.send(&mut frame, Kind::Alive, Status::Ok, 0, *seq).is_ok() {
                    let _ = conn.outbox.try_send(frame);
                }
            }
        })
    });
    if let Err(e) = beating {
        eprintln!("dllgen host: no liveness beats ({e})");
    }
    let accept_pulse = pulse.clone();
    std::thread::Builder::new()
        .name("dllgen-accept".into())
        .spawn(move || loop {
            match accept() {
                Ok(conn) => {
                    let (jobs, load_error, pulse) = (jobs.clone(), load_error.clone(), accept_pulse.clone());
                    let _ = std::thread::Builder::new()
                        .name("dllgen-connection".into())
                        .spawn(move || read_connection(conn, jobs, hash, load_error, max_frame, &pulse));
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
        *running.lock().unwrap_or_else(|e| e.into_inner()) = Some((conn.clone(), header.seq));
        pulse.begin(header.seq);
        let status =
            run_call(lib, &header, &payload, &mut out, &mut QueuedFrames(&during), &mut outbox, max_frame);
        // Under the lock the beating thread holds while it queues a beat: none follows.
        pulse.end();
        *running.lock().unwrap_or_else(|e| e.into_inner()) = None;
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
    pulse: &Pulse,
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
        beats: AtomicBool::new(false),
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
                Ok(hello) => {
                    let beat_ms = hello.beat_ms;
                    shared.beats.store(beat_ms > 0, Ordering::Relaxed);
                    pulse.want(beat_ms);
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
    use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt};
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::{Component, Path, PathBuf};

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

    fn me() -> u32 {
        // SAFETY: geteuid has no preconditions.
        unsafe { geteuid() }
    }

    fn refuse(message: String) -> io::Error {
        io::Error::new(io::ErrorKind::PermissionDenied, message)
    }

    /// Binds the socket `endpoint`. The trust model: only this user may be able to put a
    /// socket at that path or move one there, so every folder from the root down is
    /// checked without following links (see [`trusted_folder`]); a missing final folder
    /// is created with mode 0700. A stale socket is replaced; anything else at the path is
    /// left alone.
    pub(crate) fn listen(endpoint: &str) -> io::Result<(String, Accept)> {
        if endpoint.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "--listen needs the socket's path"));
        }
        let path = std::path::absolute(endpoint)?;
        let dir = path.parent().unwrap_or(Path::new("/"));
        trusted_folder(dir, me())?;
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_socket() => {
                if UnixStream::connect(&path).is_ok() {
                    return Err(io::Error::new(
                        io::ErrorKind::AddrInUse,
                        format!("another host is already listening on {}", path.display()),
                    ));
                }
                std::fs::remove_file(&path)?;
            }
            Ok(m) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is {}, not a socket; it is left alone", path.display(), kind(&m)),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = UnixListener::bind(&path)?;
        Ok((
            path.display().to_string(),
            Box::new(move || listener.accept().map(|(s, _)| Box::new(s) as Box<dyn Conn>)),
        ))
    }

    /// What a file is, for messages.
    fn kind(m: &std::fs::Metadata) -> &'static str {
        let t = m.file_type();
        if t.is_symlink() {
            "a symbolic link"
        } else if t.is_dir() {
            "a folder"
        } else if t.is_file() {
            "a regular file"
        } else if t.is_fifo() {
            "a FIFO"
        } else if t.is_socket() {
            "a socket"
        } else {
            "a device"
        }
    }

    /// Checks (creating what is missing of it) the folder chain from `/` to `dir`, each
    /// component with `lstat`: no symbolic links; every folder owned by `user` or root and
    /// writable by no one else, except sticky ones like `/tmp` (where no one else can
    /// rename what `user` owns); `dir` itself owned by `user` with no access for anyone
    /// else. Once this holds, no other user can swap a folder of the chain afterwards.
    pub(crate) fn trusted_folder(dir: &Path, user: u32) -> io::Result<()> {
        let mut at = PathBuf::new();
        let parts: Vec<Component> = dir.components().collect();
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            if matches!(part, Component::CurDir | Component::ParentDir) {
                return Err(refuse(format!(
                    "{}: give the socket's folder without '.' or '..'",
                    dir.display()
                )));
            }
            let last = i + 1 == parts.len();
            let meta = match std::fs::symlink_metadata(&at) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // A parent already checked, so no one else can interfere here.
                    match std::fs::DirBuilder::new().mode(0o700).create(&at) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(e),
                    }
                    std::fs::symlink_metadata(&at)?
                }
                other => other?,
            };
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&at).map(|t| t.display().to_string()).unwrap_or_default();
                let dangling = if std::fs::metadata(&at).is_err() { ", which does not exist" } else { "" };
                return Err(refuse(format!(
                    "{} is a symbolic link (to {target}{dangling}); the socket's folders must be real folders, so no one can redirect the path later: give the path without links",
                    at.display()
                )));
            }
            if !meta.is_dir() {
                return Err(refuse(format!("{} is {}, not a folder", at.display(), kind(&meta))));
            }
            let (owner, mode) = (meta.uid(), meta.mode() & 0o7777);
            if last {
                if owner != user || mode & 0o077 != 0 {
                    return Err(refuse(format!(
                        "{} must belong to this user (uid {user}) with mode 0700, so no one else can reach the socket; it belongs to uid {owner} with mode {mode:04o}",
                        at.display()
                    )));
                }
            } else if owner != user && owner != 0 {
                return Err(refuse(format!(
                    "{} belongs to uid {owner}, who could replace the folders inside it; put the socket under folders owned by this user (uid {user}) or root",
                    at.display()
                )));
            } else if mode & 0o022 != 0 && mode & 0o1000 == 0 {
                return Err(refuse(format!(
                    "{} (mode {mode:04o}) can be written by other users, who could replace the folders inside it",
                    at.display()
                )));
            }
        }
        Ok(())
    }

    /// The user id and process id of the process at the other end of `s`.
    #[cfg(target_os = "linux")]
    pub(crate) fn peer(s: &UnixStream) -> io::Result<(u32, u32)> {
        use std::os::fd::AsRawFd;
        #[repr(C)]
        struct Ucred {
            pid: i32,
            uid: u32,
            gid: u32,
        }
        extern "C" {
            fn getsockopt(fd: i32, level: i32, name: i32, value: *mut Ucred, len: *mut u32) -> i32;
        }
        const SOL_SOCKET: i32 = 1;
        const SO_PEERCRED: i32 = 17;
        let mut cred = Ucred { pid: 0, uid: u32::MAX, gid: u32::MAX };
        let mut len = std::mem::size_of::<Ucred>() as u32;
        // SAFETY: a socket we own and a buffer of the size passed.
        if unsafe { getsockopt(s.as_raw_fd(), SOL_SOCKET, SO_PEERCRED, &mut cred, &mut len) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((cred.uid, cred.pid as u32))
    }

    /// The user id of the process at the other end of `s` (its process id is not known).
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn peer(s: &UnixStream) -> io::Result<(u32, u32)> {
        use std::os::fd::AsRawFd;
        extern "C" {
            fn getpeereid(fd: i32, uid: *mut u32, gid: *mut u32) -> i32;
        }
        let (mut uid, mut gid) = (u32::MAX, u32::MAX);
        // SAFETY: a socket we own and two out-values.
        if unsafe { getpeereid(s.as_raw_fd(), &mut uid, &mut gid) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((uid, 0))
    }

    /// Whether the peer `(uid, pid)` is this user's: the only process a client talks to.
    pub(crate) fn check_peer(endpoint: &str, (uid, pid): (u32, u32), user: u32) -> Result<(), String> {
        if uid == user {
            return Ok(());
        }
        Err(format!(
            "the process listening on {endpoint} (pid {pid}) runs as uid {uid}, not as this user (uid {user}); nothing was sent to it"
        ))
    }

    /// Connects to a listening host, after checking that it runs as this user; the closure
    /// interrupts a blocked read (timeouts).
    pub(crate) fn connect(endpoint: &str) -> Result<Connected, ConnectError> {
        let s = UnixStream::connect(endpoint)?;
        check_peer(endpoint, peer(&s)?, me()).map_err(ConnectError::Untrusted)?;
        let cut = s.try_clone()?;
        Ok((
            Box::new(s.try_clone()?),
            Box::new(s),
            Box::new(move || {
                let _ = cut.shutdown(std::net::Shutdown::Both);
            }),
        ))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_peer_of_our_own_socket_is_us_and_another_user_is_refused() {
            let (a, _b) = UnixStream::pair().unwrap();
            let (uid, pid) = peer(&a).unwrap();
            assert_eq!(uid, me());
            if cfg!(target_os = "linux") {
                assert_eq!(pid, std::process::id());
            }
            assert!(check_peer("x.sock", (uid, pid), me()).is_ok());
            let other = me().wrapping_add(1);
            let refused = check_peer("/run/x.sock", (other, 42), me()).unwrap_err();
            assert!(refused.contains("/run/x.sock") && refused.contains("pid 42"), "{refused}");
            assert!(refused.contains(&format!("uid {other}")), "{refused}");
        }

        fn scratch(name: &str) -> PathBuf {
            let d = std::env::temp_dir().join(format!("dllgen-trust-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::DirBuilder::new().mode(0o700).create(&d).unwrap();
            d
        }

        #[test]
        fn the_folder_chain_is_checked_without_following_links() {
            let d = scratch("chain");
            let user = me();
            // Missing folders are created 0700 and accepted.
            trusted_folder(&d.join("a/b"), user).unwrap();
            let mode = std::fs::metadata(d.join("a/b")).unwrap().mode() & 0o777;
            assert_eq!(mode, 0o700);
            // A link anywhere in the chain, dangling or not.
            std::os::unix::fs::symlink(d.join("a"), d.join("link")).unwrap();
            let e = trusted_folder(&d.join("link/b"), user).unwrap_err().to_string();
            assert!(e.contains("is a symbolic link"), "{e}");
            std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling")).unwrap();
            let e = trusted_folder(&d.join("dangling"), user).unwrap_err().to_string();
            assert!(e.contains("does not exist"), "{e}");
            // A file where a folder should be.
            std::fs::write(d.join("file"), b"").unwrap();
            let e = trusted_folder(&d.join("file/x"), user).unwrap_err().to_string();
            assert!(e.contains("is a regular file, not a folder"), "{e}");
            // An ancestor others can write (not sticky).
            std::fs::DirBuilder::new().mode(0o700).create(d.join("open")).unwrap();
            std::fs::set_permissions(d.join("open"), std::os::unix::fs::PermissionsExt::from_mode(0o777))
                .unwrap();
            let e = trusted_folder(&d.join("open/x"), user).unwrap_err().to_string();
            assert!(e.contains("can be written by other users"), "{e}");
            // ...but a sticky one (like /tmp) is fine.
            std::fs::set_permissions(d.join("open"), std::os::unix::fs::PermissionsExt::from_mode(0o1777))
                .unwrap();
            trusted_folder(&d.join("open/x"), user).unwrap();
            // An ancestor owned by someone else (as seen by a user who is not its owner).
            let e = trusted_folder(&d.join("a/b"), user.wrapping_add(1)).unwrap_err().to_string();
            assert!(e.contains(&format!("belongs to uid {user}")), "{e}");
            let _ = std::fs::remove_dir_all(&d);
        }
    }
}

/// Why connecting to a listening host failed.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// No connection.
    Io(io::Error),
    /// Connected, but the other end is not this user's: nothing was sent.
    Untrusted(String),
}

impl From<io::Error> for ConnectError {
    fn from(e: io::Error) -> Self {
        ConnectError::Io(e)
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
        fn GetTokenInformation(
            token: Handle,
            class: i32,
            info: *mut c_void,
            len: u32,
            needed: *mut u32,
        ) -> i32;
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
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                sddl.as_ptr(),
                1,
                &mut sd,
                std::ptr::null_mut(),
            )
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
}

pub(crate) use endpoint::{connect, listen};
