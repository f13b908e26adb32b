//! Listener mode: one long-lived host serving several clients, over a Unix domain socket
//! in a 0700 folder (Linux) or a named pipe only the current user can open (Windows).
//!
//! Each connection has a reader thread that answers the handshake and forwards calls to
//! the one library thread, so calls from all clients are serialized onto it. While a
//! connection's call runs, its reader forwards that connection's frames (callback results,
//! nested calls) to the call instead; the library thread marks the call finished *before*
//! writing the `Return`, so the client's next call is never mistaken for callback traffic.

use crate::host::pulse::Pulse;
use crate::host::{check_hello_with, run_call, Library, QueuedFrames};
use crate::wire::{read_frame, Header, Incoming, Kind, Payload, Status, WireError, Writer};
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
    /// This connection's number, whose kept callbacks are its own (never reused, unlike
    /// an address).
    owner: usize,
}

/// Numbers connections for their kept callbacks (0 is the one client of a child host).
static OWNERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

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
    /// The connection ended: what its client left in the host (resident structs) is freed.
    gone: bool,
}

/// Serves every connection `accept` yields, forever; calls run on the calling thread.
pub(crate) fn serve_all(lib: &'static dyn Library, mut accept: Accept, max_frame: u32) -> ! {
    crate::host::resident::serving(lib);
    crate::host::events::LISTENING.store(true, Ordering::Relaxed);
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
        let Job { header, payload, conn, gone } = job;
        if gone {
            crate::host::resident::free_owner(lib, conn.owner);
            continue;
        }
        if header.kind == Kind::Free {
            match crate::host::resident::freed_ids(&payload) {
                Ok(ids) => crate::host::resident::free(lib, &ids, conn.owner),
                Err(_) => conn.cut(),
            }
            continue;
        }
        let during = conn.during_call.lock().unwrap_or_else(|e| e.into_inner());
        let mut outbox = Outbox { conn: &conn, frame: Vec::new() };
        *running.lock().unwrap_or_else(|e| e.into_inner()) = Some((conn.clone(), header.seq));
        pulse.begin(header.seq);
        // Each connection is its own client: its kept callbacks are its own.
        let owner = conn.owner;
        let status = run_call(
            lib,
            &header,
            &payload,
            &mut out,
            &mut QueuedFrames(&during),
            &mut outbox,
            max_frame,
            owner,
        );
        // Under the lock the beating thread holds while it queues a beat: none follows.
        pulse.end();
        *running.lock().unwrap_or_else(|e| e.into_inner()) = None;
        // Cleared before the reply is queued: the client's next call must not be taken
        // for callback traffic of this one.
        conn.in_call.store(false, Ordering::Release);
        // A client that went away mid-call only loses its own reply.
        match status {
            Ok(status) => {
                let _ =
                    crate::host::send_return(&mut out, &mut outbox, owner, status, header.id, header.seq, 0);
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
        owner: OWNERS.fetch_add(1, Ordering::Relaxed),
    });
    // However the reader ends, the library thread frees what this client left in the host.
    struct Gone(Sender<Job>, Arc<Shared>);
    impl Drop for Gone {
        fn drop(&mut self) {
            let header = Header { len: 0, kind: Kind::Free, status: Status::Ok, id: 0, seq: 0, lane: 0 };
            let job = Job { header, payload: Payload::new(), conn: self.1.clone(), gone: true };
            let _ = self.0.send(job);
        }
    }
    let _gone = Gone(jobs.clone(), shared.clone());
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
                    // No shared region, no events (see `host::events`).
                    out.u32(PROTOCOL_VERSION).u64(hash).u8(0).u8(0);
                    greeted = out.send(&mut outbox, Kind::HelloAck, Status::Ok, 0, h.seq).is_ok();
                }
                Err(message) => {
                    out.bytes(message.as_bytes());
                    let _ = out.send(&mut outbox, Kind::HelloAck, Status::Refused, 0, h.seq);
                    return;
                }
            },
            // A call, or resident structs the client dropped (freed on the library thread, in
            // order).
            (Kind::Call | Kind::Free, true) if h.lane == 0 => {
                if h.kind == Kind::Call {
                    shared.in_call.store(true, Ordering::Release);
                }
                let job = Job {
                    header: h,
                    payload: std::mem::take(&mut payload),
                    conn: shared.clone(),
                    gone: false,
                };
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
#[path = "unix.rs"]
mod endpoint;

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
#[path = "windows.rs"]
mod endpoint;

pub(crate) use endpoint::{connect, listen};
