//! The client side: finds and spawns the host on first use, performs the handshake,
//! serializes calls from any number of threads onto the one connection, runs callbacks the
//! host sends during a call, and turns every way a host can fail (crash, hang, garbage)
//! into an [`Error`] — never a hang or a panic in the caller.

pub mod embed;
mod events;
pub mod future;
pub mod kept;

use crate::transport::listen::ConnectError;
use crate::transport::shm::{self, Region, ShmConfig};
use crate::wire::{
    read_frame, Header, Incoming, Kind, Payload, Reader, Status, WireError, Writer, DEFAULT_MAX_FRAME,
};
use crate::PROTOCOL_VERSION;
use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufReader, Read, Write};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// Where the host executable is.
#[derive(Debug, Clone)]
pub enum HostPath {
    /// This file.
    Explicit(PathBuf),
    /// The file named by environment variable `env_var` if set, else `file_name` next to
    /// the current executable (or in its parent folder, for test and bench binaries in
    /// `target/*/deps`).
    Find {
        /// The host's file name.
        file_name: String,
        /// The environment variable that overrides the location.
        env_var: String,
    },
    /// As `Find`, with `dirs` searched before the executable's folder (the proxy library's
    /// own folder: its host sits beside it, wherever the program is).
    Search {
        /// The host's file name.
        file_name: String,
        /// The environment variable that overrides the location.
        env_var: String,
        /// Folders to look in first, in order.
        dirs: Vec<PathBuf>,
    },
    /// The file named by environment variable `env_var` if set, else these bytes (the
    /// host built into the program) written to the per-user cache as `file_name` and
    /// compared with them before each start (see [`embed`]). The host then looks for the
    /// library in `library_dir` too (`None`: the program's folder).
    Embedded {
        /// The host's file name.
        file_name: String,
        /// The environment variable that overrides the location.
        env_var: String,
        /// The host executable.
        bytes: &'static [u8],
        /// Where the library is, if not beside the program (a proxy's own folder).
        library_dir: Option<PathBuf>,
        /// The SHA-256 of `bytes` in hex, if known (else computed on first use).
        digest: Option<&'static str>,
    },
}

/// How long a host may stay silent during a call by default (it beats every second).
pub const DEFAULT_LIVENESS: Duration = Duration::from_secs(5);

/// The beat period a client asks its host for: five beats within the liveness limit.
fn beat_period_ms(liveness: Duration) -> u32 {
    u32::try_from((liveness / 5).as_millis()).unwrap_or(u32::MAX).max(1)
}

/// How to start and talk to the host.
#[derive(Debug, Clone)]
pub struct Config {
    /// The host executable.
    pub host: HostPath,
    /// The model hash the client was generated from.
    pub model_hash: u64,
    /// Kill the host when a call (or start-up) takes longer than this (`Error::Timeout`).
    pub timeout: Option<Duration>,
    /// Kill the host when, during a call, it sends no sign of life for this long
    /// (`Error::Unresponsive`): the host process was stopped or froze. A library call that
    /// is merely slow is not affected (the host's beats come from another of its threads);
    /// only `timeout` limits it. The host beats five times within this period.
    pub liveness: Option<Duration>,
    /// The largest frame either side accepts.
    pub max_frame: u32,
    /// Runs the host through this program (`wine` for Windows hosts on Linux).
    pub runner: Option<PathBuf>,
    /// Extra environment for the host.
    pub envs: Vec<(OsString, OsString)>,
    /// Connect to a host already listening here (a Unix socket path, or a Windows pipe
    /// name) instead of starting one.
    pub listener: Option<String>,
    /// Carry frames through memory shared with the host (a host the client starts, where
    /// the system supports it; otherwise, or with `None`, the pipe).
    pub shm: Option<ShmConfig>,
    /// Serve kept callbacks the library fires from threads of its own, with no call in
    /// flight: a reader thread takes the host's frames and a dispatcher thread runs these
    /// callbacks through this function (the generated client's; see [`events`]). `None`:
    /// such callbacks get their default in the host.
    pub events: Option<EventHandler>,
    /// When a function's error rule fires, still take its results (out-values, counts the
    /// library set, a resident struct's message), as a C caller of the library sees them:
    /// the call returns them as if it succeeded, and [`library_failure`] says it did not.
    /// For the proxy library; the typed API's `Error::Library` is off then.
    pub results_on_failure: bool,
    /// After a host that failed to start, how long calls fail at once (with the last
    /// start's error and how many attempts were made) before the next start is tried.
    /// `None`: every call tries again.
    pub start_backoff: Option<Backoff>,
    /// Function names by id, for tracing (the generated client's).
    pub function_name: Option<fn(u32) -> &'static str>,
    /// Have the host trace its calls (as `DLLGEN_TRACE=1` does; see [`crate::trace`]).
    pub trace: bool,
}

/// Retrying a host that fails to start: the first retry `first` after the failure, each
/// next one after twice as long, at most `max`, each a random quarter shorter or longer
/// (clients started together do not retry in step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { first: Duration::from_millis(100), max: Duration::from_secs(10) }
    }
}

impl Backoff {
    /// The wait after `failures` failed starts in a row (1 or more), before jitter.
    pub fn wait(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }

    /// [`Backoff::wait`] with its jitter: within a quarter of it either way, never past
    /// `max` by more than that quarter.
    fn jittered(&self, failures: u32) -> Duration {
        let w = self.wait(failures);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            ^ failures.wrapping_mul(0x9e37_79b9);
        // A cheap mix of the clock's nanoseconds: a factor in [0.75, 1.25).
        let mut x = nanos as u64 | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let factor = 0.75 + (x % 1000) as f64 / 2000.0;
        w.mul_f64(factor)
    }
}

/// The call id of [`Client::health`]'s round trip: a function id no model has, which the
/// host answers in step without the library.
const HEALTH: u32 = u32::MAX - 2;

/// Failed starts in a row, and when the next may be tried.
#[derive(Default)]
struct Starts {
    failed: u32,
    retry_at: Option<Instant>,
    last: Option<Error>,
}

/// `e` saying how many starts failed and when the next is tried.
fn after_attempts(e: Error, failed: u32, next: Option<Duration>) -> Error {
    let more = match next {
        Some(d) => format!(" (start attempt {failed} failed; the next is tried in {} ms)", d.as_millis()),
        None => format!(" (start attempt {failed} failed)"),
    };
    match e {
        Error::HostNotFound(m) => Error::HostNotFound(m + &more),
        Error::Spawn(m) => Error::Spawn(m + &more),
        Error::Refused(m) => Error::Refused(m + &more),
        Error::HostCrashed(m) => Error::HostCrashed(m + &more),
        Error::Protocol(m) => Error::Protocol(m + &more),
        Error::Untrusted(m) => Error::Untrusted(m + &more),
        other => other,
    }
}

/// Runs kept callback `id` (its registration id first in the arguments) and writes its
/// result: the generated client's dispatch over its kept callbacks.
pub type EventHandler = fn(&kept::Registry, u32, Reader<'_>, &mut Writer) -> Result<(), WireError>;

impl Config {
    /// A configuration with defaults: no timeout, a host silent for
    /// [`DEFAULT_LIVENESS`] during a call is unresponsive, the default frame limit.
    pub fn new(host: HostPath, model_hash: u64) -> Self {
        Config {
            host,
            model_hash,
            timeout: None,
            liveness: Some(DEFAULT_LIVENESS),
            max_frame: DEFAULT_MAX_FRAME,
            runner: None,
            envs: Vec::new(),
            listener: None,
            shm: Some(ShmConfig::default()),
            events: None,
            results_on_failure: false,
            start_backoff: Some(Backoff::default()),
            function_name: None,
            trace: false,
        }
    }
}

/// Everything a call can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The host executable was not found; the message lists where dllgen looked.
    HostNotFound(String),
    /// The host could not be started.
    Spawn(String),
    /// The host refused the handshake (different model, or the library failed to load).
    Refused(String),
    /// The host died during the call; its exit status.
    HostCrashed(String),
    /// The call took longer than the configured timeout; the host was killed.
    Timeout(Duration),
    /// During the call the host sent no sign of life for this long (its process was
    /// stopped or froze); it was killed.
    Unresponsive(Duration),
    /// The process at a listener's endpoint does not belong to this user; nothing was sent.
    Untrusted(String),
    /// The host sent something that is not the protocol (or reported that the client did).
    Protocol(String),
    /// The host's own code panicked (the host keeps running).
    HostPanic(String),
    /// A handle that is not open was passed (closed, from an earlier host process, or NULL
    /// where the library needs one): refused before the library saw it. A usage error.
    BadHandle(String),
    /// The library reported an error code.
    Library(i64),
    /// A callback could not answer during the call (its closure panicked or was released,
    /// or the library called one with a context no registration has): the library got the
    /// callback's default result, and the call's own result was dropped.
    Callback(String),
}

/// A malformed argument found before the call (a length expression that overflows), or a
/// reply that is not the protocol.
impl From<WireError> for Error {
    fn from(e: WireError) -> Self {
        Error::Protocol(e.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::HostNotFound(m) => write!(f, "the 32-bit host was not found: {m}"),
            Error::Spawn(m) => write!(f, "the 32-bit host could not be started: {m}"),
            Error::Refused(m) => write!(f, "the 32-bit host refused the connection: {m}"),
            Error::HostCrashed(s) => write!(f, "the 32-bit host crashed ({s})"),
            Error::Timeout(d) => write!(f, "the call took longer than {d:?}; the host was stopped"),
            Error::Unresponsive(d) => write!(
                f,
                "the 32-bit host showed no sign of life for {d:?} during the call (stopped or frozen); it was stopped"
            ),
            Error::Untrusted(m) => write!(f, "refusing to talk to the listening host: {m}"),
            Error::Protocol(m) => write!(f, "protocol error: {m}"),
            Error::HostPanic(m) => write!(f, "the 32-bit host panicked: {m}"),
            Error::BadHandle(m) => write!(f, "refused before the library saw it: {m}"),
            Error::Library(code) => write!(f, "the library reported error {code}"),
            Error::Callback(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

/// Per-call deadlines and liveness: a background thread stops a call whose deadline
/// passed, or whose host sent no sign of life for `liveness` (kills a child host, or cuts a
/// listener connection). Arming and disarming take an uncontended lock (no system call
/// unless the thread parked after a quiet second); the stop happens under the same lock,
/// so it can only hit the call it was armed for, and never a host already reaped.
struct Watch {
    state: Mutex<WatchState>,
    /// What the call's thread has heard from the host (read by the watchdog).
    heard: Heard,
    liveness: Option<Duration>,
    parked: AtomicBool,
    thread: OnceLock<std::thread::Thread>,
}

/// Signs of life the calling thread records while it waits for a call's `Return`.
#[derive(Default)]
struct Heard {
    /// Counts `Alive` and callback frames.
    frames: AtomicU64,
    /// How many callback handlers the client is running (nested calls run their own): the
    /// host waits for them, silence is ours.
    in_handler: AtomicU32,
}

/// Why the watchdog stopped a call.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    Deadline,
    Silence,
}

#[derive(Default)]
struct WatchState {
    /// Counts armed calls.
    generation: u64,
    /// A call is armed (and not stopped yet).
    running: bool,
    /// The armed call's timeout.
    timeout: Option<Duration>,
    /// The armed call's host must show signs of life.
    alive: bool,
    /// When the watchdog first saw the armed call.
    started: Option<Instant>,
    /// The last time the host showed life during this call, and the count it had then.
    last_sign: Option<(u64, Instant)>,
    /// The generation the watchdog stopped, and why.
    fired: Option<(u64, Stop)>,
    /// Stops the current connection's running call; set per connection.
    interrupt: Option<Interrupt>,
}

type Interrupt = Box<dyn Fn() + Send + Sync>;

/// Quiet ticks (no call armed) before the watchdog parks.
const WATCH_IDLE_TICKS: u32 = 32;

impl Watch {
    fn start(timeout: Option<Duration>, liveness: Option<Duration>) -> Arc<Watch> {
        let watch = Arc::new(Watch {
            state: Mutex::new(WatchState::default()),
            heard: Heard::default(),
            liveness,
            parked: AtomicBool::new(false),
            thread: OnceLock::new(),
        });
        let weak: Weak<Watch> = Arc::downgrade(&watch);
        let shortest =
            [timeout, liveness.map(|l| l / 2)].into_iter().flatten().min().unwrap_or(Duration::MAX);
        let period = (shortest / 8).clamp(Duration::from_millis(1), Duration::from_millis(50));
        let spawned = std::thread::Builder::new().name("dllgen-watchdog".into()).spawn(move || {
            let mut quiet = 0;
            loop {
                std::thread::sleep(period);
                let Some(w) = weak.upgrade() else { return };
                if w.tick() {
                    quiet = 0;
                    continue;
                }
                quiet += 1;
                if quiet >= WATCH_IDLE_TICKS {
                    quiet = 0;
                    // Pairs with `arm`: it sets `running` under the lock, then reads `parked`.
                    w.parked.store(true, Ordering::SeqCst);
                    let idle = !w.lock().running;
                    drop(w);
                    if idle {
                        std::thread::park_timeout(Duration::from_secs(60));
                    }
                    let Some(w) = weak.upgrade() else { return };
                    w.parked.store(false, Ordering::SeqCst);
                }
            }
        });
        if let Ok(handle) = spawned {
            let _ = watch.thread.set(handle.thread().clone());
        }
        watch
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WatchState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One look at the armed call (if any): stops it at its deadline or after too long a
    /// silence. Whether a call is armed.
    fn tick(&self) -> bool {
        let mut s = self.lock();
        if !s.running {
            return false;
        }
        // The call's clock starts at the watchdog's first look (at most a period late), so
        // starting a call reads no clock (a system call under Wine).
        let now = Instant::now();
        let started = *s.started.get_or_insert(now);
        let mut stop = s.timeout.is_some_and(|t| now.duration_since(started) >= t).then_some(Stop::Deadline);
        if let (None, Some(limit), true) = (stop, self.liveness, s.alive) {
            let heard = self.heard.frames.load(Ordering::Relaxed);
            match s.last_sign {
                Some((count, at)) if heard == count && self.heard.in_handler.load(Ordering::Relaxed) == 0 => {
                    if now.duration_since(at) >= limit {
                        stop = Some(Stop::Silence);
                    }
                }
                _ => s.last_sign = Some((heard, now)),
            }
        }
        if let Some(why) = stop {
            s.running = false;
            s.fired = Some((s.generation, why));
            if let Some(stop) = &s.interrupt {
                stop();
            }
        }
        true
    }

    /// Starts a call's watch: its timeout (none, or one too large to represent, means no
    /// deadline) and, with `alive`, its liveness (not for the handshake: a host beats only
    /// in calls). No clock is read here (see `tick`).
    fn arm(&self, timeout: Option<Duration>, alive: bool) -> u64 {
        let generation = {
            let mut s = self.lock();
            s.generation += 1;
            s.running = true;
            s.timeout = timeout;
            s.alive = alive;
            s.started = None;
            s.last_sign = None;
            s.fired = None;
            s.generation
        };
        if self.parked.load(Ordering::SeqCst) {
            if let Some(t) = self.thread.get() {
                t.unpark();
            }
        }
        generation
    }

    /// Ends call `generation`'s watch; why the watchdog stopped it, if it did.
    fn disarm(&self, generation: u64) -> Option<Stop> {
        let mut s = self.lock();
        if s.generation == generation {
            s.running = false;
        }
        s.fired.filter(|(g, _)| *g == generation).map(|(_, why)| why)
    }

    fn set_interrupt(&self, interrupt: Option<Interrupt>) {
        self.lock().interrupt = interrupt;
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // A parked watchdog ends now rather than at its next look.
        if let Some(t) = self.thread.get() {
            t.unpark();
        }
    }
}

/// With shared memory, the pipes to the host kept open as the control channel.
type Control = (Box<dyn Write + Send>, Box<dyn Read + Send>);

/// A connection to a host: the child this client started (absent for a listening host)
/// and the two ends of the stream.
struct Connection {
    child: Option<Child>,
    input: BufReader<Box<dyn Read + Send>>,
    output: Box<dyn Write + Send>,
    payload: Payload,
    out: Writer,
    /// A region offered to a child host, until the handshake says whether it took it, and
    /// the token the host opens it with.
    offered: Option<(Region, String)>,
    /// The watch on a child host's output pipe: it shows the host's death while we wait
    /// on a ring.
    watch: Option<shm::PipeWatch>,
    /// The shared region, whose bulk area a call's large arguments and results use.
    bulk: Option<std::sync::Arc<Region>>,
    /// With shared memory, the pipes stay open as the control channel: closing the write
    /// end tells the host to exit; the read end shows the host's death.
    control: Option<Control>,
    /// With events, the streams' two ends (`input`, `output` and `control` are then unused).
    routed: Option<events::Routed>,
}

impl Connection {
    /// Drops the streams (with shared memory, the control pipe too): the host sees its
    /// input end.
    fn close_streams(&mut self) {
        self.output = Box::new(io::sink());
        if let Some(routed) = &self.routed {
            routed.shared.close();
        }
        self.control = None;
    }

    /// The connection as a call on lane 0 uses it.
    fn link(&mut self) -> Link<'_> {
        let (input, output) = match &self.routed {
            Some(routed) => (Input::Queue(&routed.caller, None), Output::Shared(&routed.shared)),
            None => (Input::Stream(&mut self.input), Output::Stream(&mut self.output)),
        };
        Link {
            input,
            output,
            lane: 0,
            payload: &mut self.payload,
            out: &mut self.out,
            bulk: self.bulk.as_ref(),
            broken: false,
        }
    }
}

/// Where a call's frames come from: the stream, or the queue a reader thread fills.
enum Input<'a> {
    Stream(&'a mut BufReader<Box<dyn Read + Send>>),
    /// With a limit on each wait (calls from the dispatcher, which no watchdog watches).
    Queue(&'a Receiver<Incoming>, Option<Duration>),
}

/// Where they go: the stream, or a stream other threads write too.
enum Output<'a> {
    Stream(&'a mut Box<dyn Write + Send>),
    Shared(&'a events::Shared),
}

impl Output<'_> {
    /// Closes the stream to the host (it sees its input end).
    fn close(&mut self) {
        match self {
            Output::Stream(o) => **o = Box::new(io::sink()),
            Output::Shared(o) => o.close(),
        }
    }

    fn send(
        &mut self,
        w: &mut Writer,
        kind: Kind,
        status: Status,
        id: u32,
        seq: u32,
        lane: u16,
    ) -> io::Result<()> {
        match self {
            Output::Stream(o) => w.send_on(o, kind, status, id, seq, lane),
            Output::Shared(o) => o.send(w, kind, status, id, seq, lane),
        }
    }
}

/// What a call and the calls nested in its callbacks talk through: lane 0 of the
/// connection for the calling thread, an event's lane for the dispatcher.
struct Link<'a> {
    input: Input<'a>,
    output: Output<'a>,
    lane: u16,
    payload: &'a mut Payload,
    /// The call's arguments.
    out: &'a mut Writer,
    bulk: Option<&'a Arc<Region>>,
    /// A call nested in a callback of this link broke the stream: the call running the
    /// callback fails too once it returns.
    broken: bool,
}

impl Link<'_> {
    fn recv(&mut self, max_frame: u32) -> Result<Header, WireError> {
        match &mut self.input {
            Input::Stream(input) => read_frame(input, max_frame, self.payload),
            Input::Queue(rx, limit) => {
                let next = match limit {
                    None => crate::wire::next_queued(rx).ok_or(WireError::Closed),
                    Some(limit) => rx.recv_timeout(*limit).map_err(|e| match e {
                        std::sync::mpsc::RecvTimeoutError::Timeout => WireError::Io(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("no reply from the host within {limit:?} to a call made from a callback it fired"),
                        )),
                        std::sync::mpsc::RecvTimeoutError::Disconnected => WireError::Closed,
                    }),
                };
                let (h, p) = next??;
                *self.payload = p;
                Ok(h)
            }
        }
    }
}

struct State {
    conn: Option<Connection>,
    starts: Starts,
}

/// The client. Send + Sync: calls from many threads are serialized onto the host's one
/// library thread.
pub struct Client {
    config: Config,
    state: Mutex<State>,
    /// Call sequence numbers (a call nested in a callback takes one while the outer call
    /// holds `state`).
    seq: AtomicU32,
    watch: Option<Arc<Watch>>,
    kept: Arc<kept::Registry>,
    /// Resident structs dropped, freed in the host before the next call.
    freed: Arc<crate::marshal::resident::Freed>,
    /// The host process this client started, for giving it descriptors without the
    /// connection's lock (a callback handler's call runs while its caller holds that).
    host_process: Mutex<Option<HostProcess>>,
    /// Which client this is, for calls from its callback handlers (see `LENT`): a number,
    /// not an address: a client may move after its dispatcher started.
    id: usize,
}

/// A host process a client started: its id (and on Windows a handle of the client's own
/// to it).
struct HostProcess {
    pid: u32,
    #[cfg(windows)]
    process: std::os::windows::io::OwnedHandle,
}

impl HostProcess {
    fn of(child: &Child) -> Option<HostProcess> {
        #[cfg(windows)]
        return Some(HostProcess { pid: child.id(), process: crate::sys::own_process_handle(child).ok()? });
        #[cfg(not(windows))]
        return Some(HostProcess { pid: child.id() });
    }
}

/// Numbers clients.
static CLIENTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// Handles a callback the host runs during a call: `(callback index, arguments, reply)`.
pub type CallbackHandler<'a> = dyn FnMut(u32, Reader<'_>, &mut Writer) -> Result<(), WireError> + 'a;

impl Client {
    /// A client; the host starts on the first call.
    pub fn new(config: Config) -> Self {
        crate::trace::init_from_env();
        let watch = (config.timeout.is_some() || config.liveness.is_some())
            .then(|| Watch::start(config.timeout, config.liveness));
        Client {
            config,
            state: Mutex::new(State { conn: None, starts: Starts::default() }),
            seq: AtomicU32::new(0),
            watch,
            kept: Arc::default(),
            freed: Arc::default(),
            host_process: Mutex::new(None),
            id: CLIENTS.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Where resident structs of this client queue their ids when dropped (see
    /// [`crate::marshal::resident`]).
    pub fn resident_freed(&self) -> &Arc<crate::marshal::resident::Freed> {
        &self.freed
    }

    /// A retained buffer's contents, once the library let go of it (its completion
    /// callback fired, its handle closed); refused ([`Error::BadHandle`]) while the library
    /// may still write to it. See [`crate::marshal::retained`].
    pub fn read_retained<T: crate::marshal::Elem>(
        &self,
        buffer: &crate::marshal::retained::Retained<T>,
    ) -> Result<Vec<T>, Error> {
        self.retained_call(crate::host::retained::READ, buffer.id(), |r| {
            crate::marshal::retained::contents(r, buffer)
        })
    }

    /// The runtime's call `call` (a read or a release) on the host's retained object `id`.
    fn retained_call<T>(
        &self,
        call: u32,
        id: u64,
        decode: impl FnOnce(Reader<'_>) -> Result<T, WireError>,
    ) -> Result<T, Error> {
        self.call(
            call,
            |w| {
                w.u64(id);
            },
            decode,
            &mut crate::marshal::callback::none,
        )
    }

    /// The connection a callback handler of this client running on this thread lends its
    /// calls (they are nested in the call that runs it), if any.
    fn lent_link(&self) -> Option<*mut Link<'static>> {
        if LENDING.get() == 0 {
            return None;
        }
        LENT.with(|l| l.borrow().iter().rev().find(|(c, _)| *c == self.id).map(|(_, p)| *p))
    }

    /// The token a `descriptor` argument crosses as: the host takes its own duplicate of
    /// `d` during the call (see [`crate::marshal::descriptor`]). Starts the host if needed;
    /// refused for a listening host and for one started under a runner (Wine from Linux).
    pub fn lend_descriptor(&self, d: &crate::marshal::descriptor::Descriptor) -> Result<u64, Error> {
        if self.config.runner.is_some() {
            return Err(Error::BadHandle(
                "a descriptor cannot be given to a host started under a runner (its process is not this system's kind)".into(),
            ));
        }
        // Inside a callback handler the connection is up, and its lock is the caller's.
        if self.lent_link().is_none() {
            self.connect()?;
        }
        let host = self.host_process.lock().unwrap_or_else(|e| e.into_inner());
        let (Some(host), None) = (host.as_ref(), &self.config.listener) else {
            return Err(Error::BadHandle(
                "a descriptor can be given only to a host this client started".into(),
            ));
        };
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            crate::sys::allow_taking(host.pid);
            Ok(d.fd.as_raw_fd() as u64)
        }
        #[cfg(windows)]
        {
            use std::os::windows::io::AsRawHandle;
            crate::sys::give_handle(&host.process, host.pid, d.handle.as_raw_handle())
                .map_err(|e| Error::BadHandle(format!("the descriptor could not be given to the host: {e}")))
        }
    }

    /// A value the library fills in later calls (an `inout` argument the spec retains:
    /// the gzip header `inflateGetHeader` is given), as the library left it so far.
    pub fn read_retained_value<T: crate::marshal::Value>(
        &self,
        kept: &crate::marshal::retained::Retained<T>,
    ) -> Result<T, Error> {
        self.retained_call(crate::host::retained::READ, kept.id(), crate::marshal::retained::value)
    }

    /// A retained buffer's contents, and the host frees it. For a buffer the spec lets the
    /// client release (`explicit`), this also ends the library's hold: call it once the
    /// library said it is done with the buffer. Otherwise refused while the library holds it,
    /// as [`Client::read_retained`] (the buffer is then freed when the library lets go).
    pub fn release_retained<T: crate::marshal::Elem>(
        &self,
        buffer: crate::marshal::retained::Retained<T>,
    ) -> Result<Vec<T>, Error> {
        let v = self.retained_call(crate::host::retained::RELEASE, buffer.id(), |r| {
            crate::marshal::retained::contents(r, &buffer)
        })?;
        buffer.forget();
        Ok(v)
    }

    /// The closures the library keeps past their call (see [`kept`]).
    pub fn kept(&self) -> &kept::Registry {
        &self.kept
    }

    /// Why callbacks the library fired from threads of its own (no call in flight) could
    /// not answer since the last look: their closure panicked or was released, and the
    /// library got the callback's default result.
    pub fn take_callback_failures(&self) -> Vec<Error> {
        self.kept.take_failures().into_iter().map(Error::Callback).collect()
    }

    /// Stops the host (if running); the next call starts a new one.
    pub fn restart(&self) {
        {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(conn) = state.conn.take() {
                self.discard(conn);
            }
        }
        self.kept.bury();
    }

    /// The process id of the host this client started, if one is running.
    pub fn host_pid(&self) -> Option<u32> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.conn.as_ref().and_then(|c| c.child.as_ref()).map(Child::id)
    }

    /// Starts the host now (it otherwise starts on the first call).
    pub fn connect(&self) -> Result<(), Error> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.conn.is_none() {
            state.conn = Some(self.start(&mut state.starts)?);
        }
        Ok(())
    }

    /// Whether the host answers: starts it when none runs (within the start back-off),
    /// and runs one round trip through it that no library function sees. Returns how
    /// long the round trip took.
    pub fn health(&self) -> Result<Duration, Error> {
        let t = Instant::now();
        match self.call(HEALTH, |_| {}, |r| r.finish(), &mut crate::marshal::callback::none) {
            // The host answers an id no function has with a refusal in step, from its own
            // loop: the connection stays up (a broken one is dropped).
            Err(Error::Protocol(_)) if self.connected() => Ok(t.elapsed()),
            Ok(()) => Ok(t.elapsed()),
            Err(e) => Err(e),
        }
    }

    fn connected(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).conn.is_some()
    }

    /// A host started, within the start back-off: a start failed a moment ago is not
    /// tried again until its wait is over (the call fails at once with why, how many
    /// attempts failed and when the next is made).
    fn start(&self, starts: &mut Starts) -> Result<Connection, Error> {
        if let (Some(at), Some(last)) = (starts.retry_at, &starts.last) {
            let now = Instant::now();
            if now < at {
                return Err(after_attempts(last.clone(), starts.failed, Some(at - now)));
            }
        }
        match self.spawn() {
            Ok(c) => {
                *starts = Starts::default();
                Ok(c)
            }
            Err(e) => {
                starts.failed = starts.failed.saturating_add(1);
                let wait = self.config.start_backoff.map(|b| b.jittered(starts.failed));
                starts.retry_at = wait.map(|w| Instant::now() + w);
                starts.last = Some(e.clone());
                // The first failure is said as it is; later ones say how many there were.
                Err(if starts.failed == 1 { e } else { after_attempts(e, starts.failed, wait) })
            }
        }
    }

    /// Calls function `id`: `args` writes the arguments, `decode` reads a successful
    /// result. Callbacks from the host go to `callbacks`.
    pub fn call<T>(
        &self,
        id: u32,
        args: impl FnOnce(&mut Writer),
        decode: impl FnOnce(Reader<'_>) -> Result<T, WireError>,
        callbacks: &mut CallbackHandler<'_>,
    ) -> Result<T, Error> {
        if crate::trace::on() {
            return self.call_traced(id, args, decode, callbacks);
        }
        self.call_untraced(id, args, decode, callbacks)
    }

    /// [`Client::call`] with its `call` and `return` events (see [`crate::trace`]).
    #[cold]
    fn call_traced<T>(
        &self,
        id: u32,
        args: impl FnOnce(&mut Writer),
        decode: impl FnOnce(Reader<'_>) -> Result<T, WireError>,
        callbacks: &mut CallbackHandler<'_>,
    ) -> Result<T, Error> {
        let name = self.config.function_name.map_or("", |f| f(id));
        let (mut seq, mut results) = (0, String::new());
        let start = Instant::now();
        let result = self.call_untraced(
            id,
            |w| {
                args(w);
                seq = LAST_SEQ.get();
                crate::trace::call("client", seq, name, w.payload());
            },
            |r| {
                results = crate::trace::render(r.rest());
                decode(r)
            },
            callbacks,
        );
        let status = match &result {
            Ok(_) => "Ok".to_string(),
            Err(e) => e.to_string(),
        };
        crate::trace::ret_rendered("client", seq, name, &results, &status, start.elapsed());
        result
    }

    fn call_untraced<T>(
        &self,
        id: u32,
        args: impl FnOnce(&mut Writer),
        decode: impl FnOnce(Reader<'_>) -> Result<T, WireError>,
        callbacks: &mut CallbackHandler<'_>,
    ) -> Result<T, Error> {
        // A callback's handler runs while this thread holds this client's connection: a
        // call from it is nested in the call that runs the callback, on the same connection
        // (the host serves it on its library thread, which waits for the callback).
        if let Some(link) = self.lent_link() {
            // SAFETY: lent by the `exchange` (or the dispatcher) below this frame on this
            // thread, which does not touch the link until the callback handler (and so
            // this call) returns; the pointer is removed from `LENT` before it does.
            let link = unsafe { &mut *link };
            return self.call_nested(link, id, args, decode, callbacks);
        }
        let result = self.call_locked(id, args, decode, callbacks);
        // The closures the library let go of are dropped once no call holds the
        // connection (their captures may call the library when dropped).
        self.kept.bury();
        result
    }

    /// A call from inside a callback handler of this client, on the link the call (or the
    /// event) running the handler holds. Its arguments go inline: the outer call's results
    /// may be in the bulk area.
    fn call_nested<T>(
        &self,
        link: &mut Link<'_>,
        id: u32,
        args: impl FnOnce(&mut Writer),
        decode: impl FnOnce(Reader<'_>) -> Result<T, WireError>,
        callbacks: &mut CallbackHandler<'_>,
    ) -> Result<T, Error> {
        let seq = self.next_seq();
        link.out.clear();
        args(link.out);
        exchange(link, id, seq, self.config.max_frame, self.waiter(), callbacks, decode).map_err(
            |f| match f {
                Failure::Call(e) => e,
                // The stream is in an unknown state: closed, so the host ends and the call
                // (or event) this one is nested in fails too instead of waiting.
                Failure::Connection(e) => {
                    link.output.close();
                    link.broken = true;
                    e
                }
            },
        )
    }

    /// The next call's sequence number. Without events only the thread holding the
    /// connection takes one (a top-level call under `state`, or a call nested in its
    /// callback handler), so a load and a store suffice; with them the dispatcher takes
    /// some too.
    fn next_seq(&self) -> u32 {
        let seq = if self.config.events.is_some() {
            self.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
        } else {
            let seq = self.seq.load(Ordering::Relaxed).wrapping_add(1);
            self.seq.store(seq, Ordering::Relaxed);
            seq
        };
        if cfg!(feature = "trace") {
            LAST_SEQ.set(seq);
        }
        seq
    }

    fn waiter(&self) -> Waiter<'_> {
        Waiter {
            me: self.id,
            heard: self.watch.as_ref().map(|w| &w.heard),
            kept: &self.kept,
            results: self.config.results_on_failure,
        }
    }

    fn call_locked<T>(
        &self,
        id: u32,
        args: impl FnOnce(&mut Writer),
        decode: impl FnOnce(Reader<'_>) -> Result<T, WireError>,
        callbacks: &mut CallbackHandler<'_>,
    ) -> Result<T, Error> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.conn.is_none() {
            let State { conn, starts } = &mut *state;
            *conn = Some(self.start(starts)?);
        }
        let seq = self.next_seq();
        let conn = state.conn.as_mut().expect("connected above");
        let armed = self.watch.as_ref().map(|w| w.arm(self.config.timeout, true));
        let result = catch_unwind(AssertUnwindSafe(|| {
            conn.out.clear();
            // Over shared memory, large arguments go to the bulk area (the host reads them
            // in place there); the host is told how far they reach.
            if let Some(region) = &conn.bulk {
                conn.out.attach_bulk(region.bulk(0));
            }
            args(&mut conn.out);
            if let (Some(region), Some(bulk)) = (&conn.bulk, conn.out.detach_bulk()) {
                region.set_bulk_used(bulk.used());
            }
            let mut link = conn.link();
            // The resident structs dropped since the last call go first.
            let freed = self.freed.take();
            if !freed.is_empty() {
                let mut w = Writer::new();
                crate::marshal::resident::put_freed(&mut w, &freed);
                link.output
                    .send(&mut w, Kind::Free, Status::Ok, 0, seq, 0)
                    .map_err(|e| Failure::Connection(wire_failure(WireError::Io(e))))?;
            }
            exchange(&mut link, id, seq, self.config.max_frame, self.waiter(), callbacks, decode)
        }));
        let fired = self.watch.as_ref().zip(armed).and_then(|(w, g)| w.disarm(g));
        match result {
            // A callback handler (or decoder) panicked mid-call: the connection is in an
            // unknown state; drop it before the panic goes on.
            Err(panic) => {
                if let Some(conn) = state.conn.take() {
                    self.discard(conn);
                }
                resume_unwind(panic)
            }
            Ok(Ok(v)) => {
                if fired.is_some() {
                    // The reply beat the stop by a hair: the host is being stopped anyway.
                    if let Some(conn) = state.conn.take() {
                        self.discard(conn);
                    }
                }
                Ok(v)
            }
            Ok(Err(Failure::Call(e))) => {
                if fired.is_some() {
                    if let Some(conn) = state.conn.take() {
                        self.discard(conn);
                    }
                }
                Err(e)
            }
            Ok(Err(Failure::Connection(e))) => {
                // The stream is unusable: stop the host and say why it ended.
                let conn = state.conn.take().expect("connected above");
                Err(self.ended(conn, e, fired))
            }
        }
    }

    /// Drops a connection: no more stops can reach it, and its host is shut down (the
    /// closures its library kept go with it).
    fn discard(&self, conn: Connection) {
        if let Some(w) = &self.watch {
            w.set_interrupt(None);
        }
        shut_down(conn);
        self.kept.clear();
    }

    /// What happened to a host whose stream broke; the host is reaped (killed if it
    /// lingers), never waited on without a limit.
    fn ended(&self, conn: Connection, e: Error, fired: Option<Stop>) -> Error {
        if let Some(w) = &self.watch {
            // No stop may reach a process id once the host is reaped.
            w.set_interrupt(None);
        }
        self.kept.clear();
        let stopped = match fired {
            Some(Stop::Deadline) => self.config.timeout.map(Error::Timeout),
            Some(Stop::Silence) => self.config.liveness.map(Error::Unresponsive),
            None => None,
        };
        let mut conn = conn;
        conn.close_streams();
        let Connection { child, .. } = conn;
        let Some(mut child) = child else {
            return match stopped {
                Some(stopped) => stopped,
                None if matches!(e, Error::Protocol(_)) => e,
                None => Error::HostCrashed("the listening host closed the connection".into()),
            };
        };
        if matches!(e, Error::Protocol(_)) && stopped.is_none() {
            let _ = child.kill();
            let _ = child.wait();
            return e;
        }
        let status = reap(&mut child);
        stopped.unwrap_or(Error::HostCrashed(status))
    }

    fn host_path(&self) -> Result<PathBuf, Error> {
        match &self.config.host {
            HostPath::Explicit(p) if p.is_file() => Ok(p.clone()),
            HostPath::Explicit(p) => Err(Error::HostNotFound(format!("{} does not exist", p.display()))),
            HostPath::Find { file_name, env_var } => find_host(file_name, env_var, &[]),
            HostPath::Search { file_name, env_var, dirs } => find_host(file_name, env_var, dirs),
            HostPath::Embedded { file_name, env_var, bytes, digest, .. } => match std::env::var_os(env_var) {
                Some(_) => find_host(file_name, env_var, &[]),
                None => embed::materialize(file_name, bytes, *digest).map_err(Error::HostNotFound),
            },
        }
    }

    /// Whether frames currently go through shared memory (false: the pipe, or no host yet).
    pub fn uses_shared_memory(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .conn
            .as_ref()
            .is_some_and(|c| c.control.is_some() || c.routed.as_ref().is_some_and(|r| r.shared.has_control()))
    }

    /// Starts a host (or connects to the listening one) and performs the handshake.
    fn spawn(&self) -> Result<Connection, Error> {
        let (mut conn, interrupt) = match &self.config.listener {
            Some(endpoint) => {
                let (input, output, interrupt) =
                    crate::transport::listen::connect(endpoint).map_err(|e| match e {
                        ConnectError::Io(e) => {
                            Error::Spawn(format!("cannot connect to the host listening on {endpoint}: {e}"))
                        }
                        ConnectError::Untrusted(m) => Error::Untrusted(m),
                    })?;
                (
                    Connection {
                        child: None,
                        input: BufReader::with_capacity(1 << 16, input),
                        output: crate::sys::quiet(output),
                        payload: Payload::new(),
                        out: Writer::new(),
                        offered: None,
                        watch: None,
                        bulk: None,
                        control: None,
                        routed: None,
                    },
                    interrupt,
                )
            }
            None => self.start_child()?,
        };
        if let Some(w) = &self.watch {
            w.set_interrupt(Some(interrupt));
        }
        let armed = self.watch.as_ref().map(|w| w.arm(self.config.timeout, false));
        let greeted = self.handshake(&mut conn);
        let fired = self.watch.as_ref().zip(armed).and_then(|(w, g)| w.disarm(g));
        match greeted {
            Ok(()) if fired.is_none() => {
                let process = conn.child.as_ref().and_then(HostProcess::of);
                *self.host_process.lock().unwrap_or_else(|e| e.into_inner()) = process;
                Ok(conn)
            }
            Ok(()) => Err(self.ended(conn, Error::HostCrashed("stopped at the deadline".into()), fired)),
            Err(e @ Error::Refused(_)) => {
                self.discard(conn);
                Err(e)
            }
            Err(e) => Err(self.ended(conn, e, fired)),
        }
    }

    fn start_child(&self) -> Result<(Connection, Interrupt), Error> {
        let host = self.host_path()?;
        // Shared memory is offered when the system has it and the host runs natively (a
        // runner such as Wine would start a foreign host); the pipe is the fallback.
        let region = self
            .config
            .shm
            .as_ref()
            .filter(|_| self.config.runner.is_none())
            .and_then(|c| Region::create(c).ok());
        match region {
            Some(region) => match self.spawn_host(&host, Some(&region)) {
                Ok((conn, interrupt)) => Ok((Self::offer(conn, region), interrupt)),
                // Offering the region can change how the child is started (Linux: a fork,
                // to let it inherit the descriptor): once more without it.
                Err(_) => self.spawn_host(&host, None),
            },
            None => self.spawn_host(&host, None),
        }
    }

    /// Attaches the region to a freshly started host's connection, to offer in `Hello`.
    fn offer(mut conn: Connection, region: Region) -> Connection {
        if let Some(Ok(token)) = conn.child.as_ref().map(|child| region.token_for(child)) {
            conn.offered = Some((region, token));
        }
        conn
    }

    fn spawn_host(
        &self,
        host: &std::path::Path,
        region: Option<&Region>,
    ) -> Result<(Connection, Interrupt), Error> {
        let mut cmd = match &self.config.runner {
            Some(runner) => {
                let mut c = Command::new(runner);
                c.arg(host);
                c
            }
            None => Command::new(host),
        };
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        cmd.env("DLLGEN_CLIENT_PID", std::process::id().to_string());
        if self.config.trace {
            cmd.env(crate::trace::ENV, "1");
        }
        if let HostPath::Embedded { library_dir, .. } = &self.config.host {
            // The host runs from the cache; the library is beside the program.
            let program = || std::env::current_exe().ok().and_then(|e| e.parent().map(PathBuf::from));
            if let Some(dir) = library_dir.clone().or_else(program) {
                cmd.env("DLLGEN_PROGRAM_DIR", dir);
            }
        }
        if let Some(region) = region {
            shm::inheritable(region, &mut cmd);
        }
        for (k, v) in &self.config.envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| Error::Spawn(format!("{}: {e}", host.display())))?;
        crate::sys::adopt_child(&child);
        let (Some(output), Some(input)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            return Err(Error::Spawn("no pipes to the host".into()));
        };
        let pid = child.id();
        let watch = Some(shm::PipeWatch::new(&input));
        let conn = Connection {
            child: Some(child),
            input: BufReader::with_capacity(1 << 16, Box::new(input)),
            output: crate::sys::quiet(Box::new(output)),
            payload: Payload::new(),
            out: Writer::new(),
            offered: None,
            watch,
            bulk: None,
            control: None,
            routed: None,
        };
        Ok((conn, Box::new(move || crate::sys::kill_process(pid))))
    }

    fn handshake(&self, conn: &mut Connection) -> Result<(), Error> {
        conn.out.clear();
        conn.out.u32(PROTOCOL_VERSION).u64(self.config.model_hash).u8(u8::from(conn.offered.is_some()));
        if let Some((_, token)) = &conn.offered {
            conn.out.bytes(token.as_bytes());
        }
        conn.out
            .u32(self.config.liveness.map_or(0, beat_period_ms))
            .u8(u8::from(self.config.events.is_some()));
        conn.out
            .send(&mut conn.output, Kind::Hello, Status::Ok, 0, 0)
            .map_err(|e| Error::HostCrashed(e.to_string()))?;
        let h =
            read_frame(&mut conn.input, self.config.max_frame, &mut conn.payload).map_err(wire_failure)?;
        let mut r = Reader::new(&conn.payload);
        match (h.kind, h.status) {
            (Kind::HelloAck, Status::Ok) => {
                // version, hash, whether the host took the shared region, whether it serves
                // events.
                let took = r.u32().and_then(|_| r.u64()).and_then(|_| r.u8()).unwrap_or(0) == 1;
                let events = r.u8().unwrap_or(0) == 1;
                // (An offer the host did not take is dropped: the region goes with it.)
                if let (true, Some((region, _)), Some(watch)) =
                    (took, conn.offered.take(), conn.watch.clone())
                {
                    self.switch_to_shm(conn, region, watch);
                }
                match self.config.events {
                    Some(handler) if events => self.route(conn, handler),
                    _ => Ok(()),
                }
            }
            (Kind::HelloAck, Status::Refused) => Err(Error::Refused(text(&mut r))),
            _ => Err(Error::Protocol(format!("unexpected {:?} frame as the handshake's answer", h.kind))),
        }
    }

    /// From here on a reader thread takes the host's frames, and a dispatcher thread runs
    /// the events among them (see [`events`]).
    fn route(&self, conn: &mut Connection, handler: EventHandler) -> Result<(), Error> {
        let input = std::mem::replace(&mut conn.input, BufReader::new(Box::new(io::empty())));
        let output = std::mem::replace(&mut conn.output, Box::new(io::sink()));
        let routed = events::start(events::Start {
            input,
            output,
            control: conn.control.take(),
            max_frame: self.config.max_frame,
            handler,
            kept: self.kept.clone(),
            watch: self.watch.clone(),
            timeout: self.config.timeout,
            me: self.id,
        })
        .map_err(|e| Error::Spawn(format!("no thread to serve callbacks from library threads: {e}")))?;
        conn.routed = Some(routed);
        Ok(())
    }

    /// From here on frames go through the rings; the pipes become the control channel.
    fn switch_to_shm(&self, conn: &mut Connection, region: Region, watch: shm::PipeWatch) {
        let config = self.config.shm.unwrap_or_default();
        let region = std::sync::Arc::new(region);
        conn.bulk = Some(region.clone());
        let (reader, writer) = shm::ends(region, true, &config, watch.clone().boxed(), watch.boxed());
        let pipe_in = std::mem::replace(&mut conn.input, BufReader::with_capacity(1 << 16, Box::new(reader)));
        let pipe_out = std::mem::replace(&mut conn.output, Box::new(writer));
        conn.control = Some((pipe_out, pipe_in.into_inner()));
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let conn = self.state.get_mut().unwrap_or_else(|e| e.into_inner()).conn.take();
        if let Some(conn) = conn {
            self.discard(conn);
        }
        self.kept.bury();
    }
}

/// Closes the host's stdin (it exits at end of input) and waits a moment; a host stuck
/// in the library is killed. A listener connection is just closed.
fn shut_down(mut conn: Connection) {
    conn.close_streams();
    let Connection { child, .. } = conn;
    if let Some(mut child) = child {
        reap(&mut child);
    }
}

/// Waits up to half a second for a host whose input is closed to exit, then kills it;
/// returns its exit status.
fn reap(child: &mut Child) -> String {
    let until = Instant::now() + Duration::from_millis(500);
    let mut pause = Duration::from_micros(50);
    while Instant::now() < until {
        match child.try_wait() {
            Ok(Some(status)) => return status.to_string(),
            Ok(None) => {}
            Err(e) => return e.to_string(),
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(5));
    }
    let _ = child.kill();
    child.wait().map(|s| format!("{s}, killed after its stream broke")).unwrap_or_else(|e| e.to_string())
}

/// The host: named by `env_var`, else `file_name` in one of `dirs`, else next to the
/// current executable (or in its parent folder, for test and bench binaries in
/// `target/*/deps`).
fn find_host(file_name: &str, env_var: &str, dirs: &[PathBuf]) -> Result<PathBuf, Error> {
    let mut tried = Vec::new();
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        tried.push(format!("{} (from {env_var})", p.display()));
    }
    let exe = std::env::current_exe().ok().and_then(|e| e.parent().map(PathBuf::from));
    let beside_exe = exe.iter().flat_map(|d| [Some(d.as_path()), d.parent()]).flatten();
    for d in dirs.iter().map(PathBuf::as_path).chain(beside_exe) {
        let p = d.join(file_name);
        if p.is_file() {
            return Ok(p);
        }
        tried.push(p.display().to_string());
    }
    Err(Error::HostNotFound(format!("tried {}; set {env_var} to the host's path", tried.join(", "))))
}

fn text(r: &mut Reader<'_>) -> String {
    r.string().unwrap_or_else(|_| "(no message)".into())
}

/// What the library said when its error rule fired, beyond the code `Error::Library`
/// carries: what a C caller of the library itself would see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LibraryFailure {
    /// The code `Error::Library` carries.
    pub code: i64,
    /// The return value as `i64` bits: an integer extended, a float's `f64` bits, a
    /// pointer's (32-bit) address.
    pub ret: i64,
    /// `errno` right after the call.
    pub errno: i32,
    /// `GetLastError()` right after the call (0 off Windows).
    pub last_error: u32,
}

/// The failure behind this thread's latest `Error::Library`, taken (the next call on
/// this thread to fail that way replaces it). Like `errno`, read it right after the call.
pub fn library_failure() -> Option<LibraryFailure> {
    LIBRARY_FAILURE.take()
}

thread_local! {
    /// The detail of this thread's latest `Error::Library`.
    static LIBRARY_FAILURE: std::cell::Cell<Option<LibraryFailure>> = const { std::cell::Cell::new(None) };
    /// The sequence number this thread's latest call was given (for tracing).
    static LAST_SEQ: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// The links this thread's callback handlers run inside, by client number: a call from
    /// a handler goes through its client's (nested in the call or event that runs it).
    static LENT: std::cell::RefCell<Vec<(usize, *mut Link<'static>)>> = const { std::cell::RefCell::new(Vec::new()) };
    /// How many entries `LENT` has: a plain call (none) reads one counter, not the vector.
    static LENDING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How a call failed: the call alone, or the whole connection.
enum Failure {
    Call(Error),
    Connection(Error),
}

fn wire_failure(e: WireError) -> Error {
    match e {
        // A shared ring whose positions make no sense: the host broke the protocol.
        WireError::Io(e) if e.kind() == io::ErrorKind::InvalidData => Error::Protocol(e.to_string()),
        WireError::Closed | WireError::Truncated | WireError::Io(_) => Error::HostCrashed(e.to_string()),
        other => Error::Protocol(other.to_string()),
    }
}

/// Who waits for a call: the client (by number, see `LENT`), where it records the host's
/// signs of life for the watchdog, and its kept closures (released as the host says).
struct Waiter<'a> {
    me: usize,
    heard: Option<&'a Heard>,
    kept: &'a kept::Registry,
    /// [`Config::results_on_failure`].
    results: bool,
}

/// Sends the call and reads frames until its return, serving callbacks meanwhile.
fn exchange<T>(
    conn: &mut Link<'_>,
    id: u32,
    seq: u32,
    max_frame: u32,
    Waiter { me, heard, kept, results }: Waiter<'_>,
    callbacks: &mut CallbackHandler<'_>,
    decode: impl FnOnce(Reader<'_>) -> Result<T, WireError>,
) -> Result<T, Failure> {
    let lost = |e: WireError| Failure::Connection(wire_failure(e));
    let lane = conn.lane;
    // A call frame's status asks for the results with a library failure.
    let ask = if results { Status::LibraryError } else { Status::Ok };
    conn.output.send(conn.out, Kind::Call, ask, id, seq, lane).map_err(|e| lost(WireError::Io(e)))?;
    let mut reply = Writer::new();
    loop {
        let h = conn.recv(max_frame).map_err(lost)?;
        if h.lane != lane {
            return Err(Failure::Connection(Error::Protocol(format!(
                "a frame on lane {} during a call on lane {lane}",
                h.lane
            ))));
        }
        // Only the call's own reply may refer to the bulk area (callback traffic does not).
        let bulk = conn.bulk.filter(|_| h.kind == Kind::Return).map(|r| r.bulk(0));
        let mut r = Reader::with_bulk(conn.payload, bulk);
        match (h.kind, h.status) {
            // The host refused this call's arguments (a buffer shorter than its length...):
            // it answered in step, so the connection and the library's state are intact.
            (Kind::Return, Status::ProtocolError) if h.seq == seq => {
                return Err(Failure::Call(Error::Protocol(text(&mut r))))
            }
            // The host's word on a broken frame, whatever call it could attribute it to.
            (Kind::Return, Status::ProtocolError) => {
                return Err(Failure::Connection(Error::Protocol(text(&mut r))))
            }
            (Kind::Return, _) if h.seq != seq => {
                return Err(Failure::Connection(Error::Protocol(format!(
                    "a reply to call {} while waiting for {seq}",
                    h.seq
                ))))
            }
            // The host answers with the call's id (only its protocol-error notice says 0,
            // handled above): another id means its reply is not this call's to decode.
            (Kind::Return, _) if h.id != id => {
                return Err(Failure::Connection(Error::Protocol(format!(
                    "a reply from function {} to a call of function {id}",
                    h.id
                ))))
            }
            (Kind::Return, Status::Ok) => {
                return decode(r).map_err(|e| Failure::Connection(Error::Protocol(e.to_string())))
            }
            (Kind::Return, Status::LibraryError) => {
                let code = match r.i64() {
                    Ok(code) => code,
                    Err(e) => return Err(Failure::Call(Error::Protocol(e.to_string()))),
                };
                let detail = (r.i64(), r.i32(), r.u32());
                if let (Ok(ret), Ok(errno), Ok(last_error)) = detail {
                    LIBRARY_FAILURE.set(Some(LibraryFailure { code, ret, errno, last_error }));
                }
                // Asked for, and the host could give them: the results follow, as on success.
                if results && r.u8().unwrap_or(0) == 1 {
                    return decode(r).map_err(|e| Failure::Connection(Error::Protocol(e.to_string())));
                }
                return Err(Failure::Call(Error::Library(code)));
            }
            (Kind::Return, Status::HostPanic) => return Err(Failure::Call(Error::HostPanic(text(&mut r)))),
            (Kind::Return, Status::CallbackFailed) => {
                return Err(Failure::Call(Error::Callback(text(&mut r))))
            }
            (Kind::Return, Status::BadHandle) => return Err(Failure::Call(Error::BadHandle(text(&mut r)))),
            (Kind::Return, _) => return Err(Failure::Connection(Error::Protocol(text(&mut r)))),
            // The host is alive (a beat from another of its threads while the library runs).
            // (Beats carry the top-level call's number; a nested call hears them too.)
            (Kind::Alive, _) => {
                if let Some(heard) = heard {
                    heard.frames.fetch_add(1, Ordering::Relaxed);
                }
            }
            // The library let go of kept closures (before this call's `Return`).
            (Kind::Release, _) if h.seq == seq => match events::released(conn.payload) {
                Ok(ids) => kept.release(&ids),
                Err(e) => return Err(Failure::Connection(Error::Protocol(format!("a release: {e}")))),
            },
            (Kind::Callback, _) if h.seq == seq => {
                reply.clear();
                // The frame is the handler's (a call it makes reads its own frames into the
                // connection's buffer).
                let frame = std::mem::take(conn.payload);
                let handled = {
                    // Popped (and the handler's silence no longer excused) even if the
                    // handler panics.
                    struct Flag<'h>(Option<&'h Heard>);
                    impl Drop for Flag<'_> {
                        fn drop(&mut self) {
                            LENT.with(|c| c.borrow_mut().pop());
                            LENDING.set(LENDING.get() - 1);
                            if let Some(heard) = self.0 {
                                heard.frames.fetch_add(1, Ordering::Relaxed);
                                heard.in_handler.fetch_sub(1, Ordering::Relaxed);
                            }
                        }
                    }
                    LENT.with(|c| {
                        c.borrow_mut().push((me, std::ptr::from_mut(conn).cast::<Link<'static>>()))
                    });
                    LENDING.set(LENDING.get() + 1);
                    if let Some(heard) = heard {
                        heard.in_handler.fetch_add(1, Ordering::Relaxed);
                    }
                    let _flag = Flag(heard);
                    callbacks(h.id, Reader::new(&frame), &mut reply)
                };
                *conn.payload = frame;
                if conn.broken {
                    return Err(Failure::Connection(Error::Protocol(
                        "a call made from inside a callback broke the connection".into(),
                    )));
                }
                // A closure that could not answer: the library gets the callback's default
                // (the host's), and the call fails with why.
                let status = match handled {
                    Ok(()) => Status::Ok,
                    Err(WireError::Callback(why)) => {
                        reply.clear();
                        reply.bytes(why.as_bytes());
                        Status::CallbackFailed
                    }
                    Err(e) => {
                        return Err(Failure::Connection(Error::Protocol(format!("callback {}: {e}", h.id))))
                    }
                };
                conn.output
                    .send(&mut reply, Kind::CallbackReturn, status, h.id, seq, lane)
                    .map_err(|e| lost(WireError::Io(e)))?;
            }
            (kind, _) => {
                return Err(Failure::Connection(Error::Protocol(format!(
                    "unexpected {kind:?} frame during a call"
                ))))
            }
        }
    }
}

/// Several hosts behind one handle, for libraries that may run calls in parallel (the spec
/// says `thread_safe: true`) or callers that want a crash to take down only some calls:
/// each call goes to the next host in turn. Every host has its own library state.
pub struct Pool {
    clients: Vec<Client>,
    next: std::sync::atomic::AtomicUsize,
}

impl Pool {
    /// `size` hosts (at least one), each started on its first call.
    pub fn new(config: Config, size: usize) -> Self {
        let clients = (0..size.max(1)).map(|_| Client::new(config.clone())).collect();
        Pool { clients, next: std::sync::atomic::AtomicUsize::new(0) }
    }

    /// The hosts' clients, for per-host operations (restart, pid).
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// [`Client::call`] on the next host.
    pub fn call<T>(
        &self,
        id: u32,
        args: impl FnOnce(&mut Writer),
        decode: impl FnOnce(Reader<'_>) -> Result<T, WireError>,
        callbacks: &mut CallbackHandler<'_>,
    ) -> Result<T, Error> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len();
        self.clients[i].call(id, args, decode, callbacks)
    }
}
