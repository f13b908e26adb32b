//! The host side: answers the handshake, then serves calls on the thread that runs
//! [`serve`] (the library thread), including callbacks into the client during a call and
//! calls from the client nested inside those callbacks.

pub(crate) mod events;
pub mod handles;
pub mod kept;
pub mod native;
pub(crate) mod pulse;
pub mod resident;
pub mod retained;

use crate::host::pulse::Pulse;
use crate::transport::shm;
use crate::wire::{read_frame, Header, Incoming, Kind, Payload, Reader, Status, WireError, Writer};
use crate::PROTOCOL_VERSION;
use std::io::{Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard};

/// What a generated host implements: the library's functions behind indexes. `Sync`: a
/// call made from a callback the library fired on a thread of its own runs on that thread.
pub trait Library: Sync {
    /// The hash of the model the host was generated from.
    fn model_hash(&self) -> u64;

    /// Why the library is not usable (it failed to load): the handshake is refused with it.
    fn load_error(&self) -> Option<&str> {
        None
    }

    /// Runs function `id`: decodes `args`, calls the library, encodes the result in `out`.
    /// Returns `Status::Ok`, or `Status::LibraryError` with the error in `out`. A
    /// malformed `args` is an `Err` (answered with a protocol error). Trampolines the
    /// library calls meanwhile reach the connection through [`callback`] and
    /// [`kept_callback`]; [`owner`] says whose call it is.
    fn call(&self, id: u32, args: Reader<'_>, out: &mut Writer) -> Result<Status, WireError>;

    /// Runs function `end` (a resident struct's end function, `deflateEnd`) on the resident
    /// copy at `ptr`, which is freed next (see [`resident`]).
    fn end_resident(&self, end: u32, ptr: *mut std::ffi::c_void) {
        let _ = (end, ptr);
    }

    /// The C name of function `id`, for tracing ("" if unknown).
    fn function_name(&self, id: u32) -> &'static str {
        let _ = id;
        ""
    }
}

/// Where a call's further frames (callback results, nested calls) come from: the stream
/// itself for a host serving one client, a queue fed by the connection's reader thread in
/// listener mode.
pub trait Frames {
    /// The next frame; its payload goes into `payload`.
    fn next_frame(&mut self, max_frame: u32, payload: &mut Payload) -> Result<Header, WireError>;
}

/// Frames read straight from a stream.
pub struct StreamFrames<'a>(pub &'a mut dyn Read);

impl Frames for StreamFrames<'_> {
    fn next_frame(&mut self, max_frame: u32, payload: &mut Payload) -> Result<Header, WireError> {
        read_frame(self.0, max_frame, payload)
    }
}

/// Frames a reader thread queued.
pub(crate) struct QueuedFrames<'a>(pub(crate) &'a Receiver<Incoming>);

impl Frames for QueuedFrames<'_> {
    fn next_frame(&mut self, _max: u32, payload: &mut Payload) -> Result<Header, WireError> {
        match crate::wire::next_queued(self.0) {
            Some(Ok((h, p))) => {
                *payload = p;
                Ok(h)
            }
            Some(Err(e)) => Err(e),
            None => Err(WireError::Closed),
        }
    }
}

/// The connection as seen from inside a call: lets generated trampolines run a callback
/// in the client and wait for its result.
pub struct CallContext<'a> {
    lib: &'a dyn Library,
    input: &'a mut dyn Frames,
    output: &'a mut dyn Write,
    max_frame: u32,
    seq: u32,
    /// Calls nested inside callbacks below this one.
    depth: u32,
    /// Whose call it is (see [`kept::Owner`]).
    owner: kept::Owner,
    /// The lane the call came on (0, or an event's: see [`events`]).
    lane: u16,
    /// The client takes the results even when the error rule fires (its call frame's
    /// status says so: `LibraryError`).
    results: bool,
}

/// Calls nested inside callbacks deeper than this are refused (each level is a stack
/// frame of the library thread).
const MAX_NESTING: u32 = 64;

impl CallContext<'_> {
    /// Runs callback `id` in the client with `args`; returns the reply's payload. Calls the
    /// client makes from inside the callback are served meanwhile (re-entrancy).
    pub fn callback(&mut self, id: u32, args: &mut Writer) -> Result<Payload, WireError> {
        self.round_trip(Kind::Callback, Kind::CallbackReturn, id, args)
    }

    /// Sends `args` as a `send` frame and waits for its `reply` (the same `seq`, on this
    /// context's lane), serving the calls the client makes meanwhile: a callback during a
    /// call, or an event (see [`events`]).
    fn round_trip(
        &mut self,
        send: Kind,
        reply: Kind,
        id: u32,
        args: &mut Writer,
    ) -> Result<Payload, WireError> {
        args.send_on(self.output, send, Status::Ok, id, self.seq, self.lane).map_err(WireError::Io)?;
        let mut payload = Payload::new();
        loop {
            let h = self.input.next_frame(self.max_frame, &mut payload)?;
            if h.lane != self.lane {
                return Err(WireError::Payload(
                    "a frame on another lane while waiting for a callback's result",
                ));
            }
            match h.kind {
                k if k == reply && h.seq == self.seq && h.status == Status::CallbackFailed => {
                    let why = Reader::new(&payload).string().unwrap_or_else(|_| "(no message)".into());
                    return Err(WireError::Callback(why));
                }
                k if k == reply && h.seq == self.seq => return Ok(payload),
                Kind::Call if self.depth >= MAX_NESTING => {
                    // Answered in step: the client's nested call fails, the callback goes on.
                    let mut out = Writer::new();
                    out.bytes(b"calls nested inside callbacks too deeply");
                    out.send_on(self.output, Kind::Return, Status::ProtocolError, h.id, h.seq, self.lane)
                        .map_err(WireError::Io)?;
                }
                Kind::Call => {
                    let mut out = Writer::new();
                    let status = run_call_at(
                        self.lib,
                        &h,
                        &payload,
                        &mut out,
                        self.input,
                        self.output,
                        self.max_frame,
                        self.depth + 1,
                        None,
                        self.owner,
                        self.lane,
                    )?;
                    send_return(&mut out, self.output, self.owner, status, h.id, h.seq, self.lane)
                        .map_err(WireError::Io)?;
                }
                _ => {
                    return Err(WireError::Payload("unexpected frame while waiting for a callback's result"))
                }
            }
        }
    }
}

thread_local! {
    /// Whether a panic on this thread is caught and answered to the client (`HostPanic`):
    /// then it is the client's to report, and the host prints nothing.
    static ANSWERING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The call running on this thread (the library thread) and its function, for
    /// trampolines the library calls back into; set by [`run_call_at`] for every call.
    static CURRENT: std::cell::Cell<(*mut CallContext<'static>, u32)> = const { std::cell::Cell::new((std::ptr::null_mut(), 0)) };
    /// The first failure of a callback during the current call.
    static FAILED: std::cell::RefCell<Option<WireError>> = const { std::cell::RefCell::new(None) };
}

/// The call running on this thread (null: none, or the thread is ending).
fn current() -> (*mut CallContext<'static>, u32) {
    CURRENT.try_with(|c| c.get()).unwrap_or((std::ptr::null_mut(), 0))
}

/// Which call runs on this thread (its context's address; 0 outside calls): what buffers a
/// callback hands the library are kept by.
pub(crate) fn call_key() -> usize {
    current().0 as usize
}

/// Whether the call running on this thread takes its results even when the function's
/// error rule fires (the proxy library's calls): then the generated code replies
/// `LibraryError` with the code, then the results as on success.
pub fn results_on_failure() -> bool {
    let (cx, _) = current();
    // SAFETY: as in `owner`: a live `CallContext` of this thread, of which a plain flag is
    // read.
    !cx.is_null() && unsafe { (*cx).results }
}

/// Whose call runs on this thread (0 outside calls): given to [`kept::Registration::new`].
pub fn owner() -> kept::Owner {
    let (cx, _) = current();
    if cx.is_null() {
        return 0;
    }
    // SAFETY: set by `run_call_at` from a live `CallContext` on this thread, which it
    // borrows for as long as `CURRENT` holds it (only `owner`, a plain number, is read).
    unsafe { (*cx).owner }
}

/// For a generated trampoline of function `function`'s callback parameter `id` (a
/// callback valid during the call it was passed to): runs the client's closure with
/// `args` and decodes its reply with `decode`. When the callback fails, or belongs to
/// another function than the one running (the library kept it from an earlier call), the
/// result is `T::default()` and the running call fails once the library returns. Outside
/// any call (the library calls it later, or from another thread) the result is
/// `T::default()` with no one to tell. Never panics (a trampoline is called from C).
pub fn callback<T: Default>(
    function: u32,
    id: u32,
    args: &mut Writer,
    decode: impl FnOnce(&mut Reader<'_>) -> Result<T, WireError>,
) -> T {
    let (cx, running) = current();
    if cx.is_null() {
        return T::default();
    }
    if running != function {
        fail(WireError::Callback(
            "the library called a callback from an earlier call (it kept the pointer, which the spec does not say: give that parameter a `scope`); the closure is gone, so it got the default result".into(),
        ));
        return T::default();
    }
    run_callback(cx, id, args, decode).unwrap_or_default()
}

/// For a generated trampoline of a kept callback, before it writes the arguments: maps the
/// context pointer the library passed to its registration and writes the registration's
/// id first in `args`. `None` (the trampoline returns the spec's default) when no client
/// can answer: the context is not a live registration (released, or not one the host
/// made), no call is running on this thread and events are off (see [`events`]), or the
/// running call is another client's; the running call, if any, fails once the library
/// returns.
pub fn kept_begin(args: &mut Writer, context: *mut std::ffi::c_void, what: &'static str) -> Option<()> {
    let (cx, _) = current();
    let Some((owner, id)) = kept::id_of(context) else {
        if !cx.is_null() {
            fail(WireError::Callback(format!(
                "the library called {what} with a context that is no live registration (released already?); it got the default result"
            )));
        }
        return None;
    };
    // With no call running, an event: served by the client's dispatcher when the spec asked
    // for events.
    if cx.is_null() && !events::on() {
        let why = if events::LISTENING.load(std::sync::atomic::Ordering::Relaxed) {
            "a listening host serves kept callbacks only during calls"
        } else {
            "mark the callback type `threads: true` in the spec to serve it then"
        };
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "dllgen host: the library called {what} outside any call (from a thread of its own?): it got the default result ({why})"
        );
        return None;
    }
    // Another client's: it cannot answer, and this client's call is not at fault (events
    // serve a child host's one client, owner 0, as calls outside a call are).
    if self::owner() != owner {
        return None;
    }
    args.u32(id);
    Some(())
}

/// For a generated trampoline of a kept callback, once [`kept_begin`] and the arguments
/// are written: runs the closure in the client and decodes its reply; `default` when the
/// closure could not answer (it panicked, was released, or the client went away), and the
/// running call fails once the library returns. With no call running on this thread, an
/// event (see [`events`]).
pub fn kept_callback<T>(
    id: u32,
    args: &mut Writer,
    default: T,
    decode: impl FnOnce(&mut Reader<'_>) -> Result<T, WireError>,
) -> T {
    let (cx, _) = current();
    if cx.is_null() {
        return events::fire(id, args, decode).unwrap_or(default);
    }
    run_callback(cx, id, args, decode).unwrap_or(default)
}

/// Runs callback `id` through the call `cx`; a failure is recorded for the call.
fn run_callback<T>(
    cx: *mut CallContext<'static>,
    id: u32,
    args: &mut Writer,
    decode: impl FnOnce(&mut Reader<'_>) -> Result<T, WireError>,
) -> Option<T> {
    // SAFETY: set by `run_call_at` from a live `&mut CallContext` on this thread, which is
    // not used otherwise while `CURRENT` holds it (the library runs); a nested call
    // replaces and restores it.
    let cx = unsafe { &mut *cx };
    let result = cx.callback(id, args).and_then(|reply| {
        let mut r = Reader::new(&reply);
        let v = decode(&mut r)?;
        r.finish()?;
        Ok(v)
    });
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            fail(e);
            None
        }
    }
}

/// Records the first callback failure of the running call.
fn fail(e: WireError) {
    let _ = FAILED.try_with(|f| {
        if let Ok(mut f) = f.try_borrow_mut() {
            f.get_or_insert(e);
        }
    });
}

/// Whether a panic now would be answered to the client rather than end the host.
pub(crate) fn answering() -> bool {
    ANSWERING.try_with(|a| a.get()).unwrap_or(false)
}

/// Runs one call, leaving its result in `out` and returning its status (the caller sends
/// the `Return`): a connection-level failure is an `Err`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_call(
    lib: &dyn Library,
    h: &Header,
    payload: &[u8],
    out: &mut Writer,
    input: &mut dyn Frames,
    output: &mut dyn Write,
    max_frame: u32,
    owner: kept::Owner,
) -> Result<Status, WireError> {
    run_call_at(lib, h, payload, out, input, output, max_frame, 0, None, owner, 0)
}

#[allow(clippy::too_many_arguments)]
fn run_call_at(
    lib: &dyn Library,
    h: &Header,
    payload: &[u8],
    out: &mut Writer,
    input: &mut dyn Frames,
    output: &mut dyn Write,
    max_frame: u32,
    depth: u32,
    bulk: Option<crate::wire::Bulk>,
    owner: kept::Owner,
    lane: u16,
) -> Result<Status, WireError> {
    // Traced (see `crate::trace`): the call's event before it, its return after.
    let traced = crate::trace::on().then(|| {
        let name = lib.function_name(h.id);
        crate::trace::call("host", h.seq, name, payload);
        (name, std::time::Instant::now())
    });
    out.clear();
    let (result, failed, fresh) = {
        let mut cx = CallContext {
            lib,
            input: &mut *input,
            output: &mut *output,
            max_frame,
            seq: h.seq,
            depth,
            owner,
            lane,
            results: h.status == Status::LibraryError,
        };
        // A top-level call over shared memory: its arguments may be in the bulk area, and
        // its out-buffers are placed there (after the client's) for the library to fill.
        if let Some(b) = bulk {
            out.attach_bulk(b);
        }
        // The call is reachable by trampolines while it runs (an outer call's context is
        // restored after, even if it unwinds).
        struct Restore((*mut CallContext<'static>, u32), Option<Option<WireError>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.0));
                let saved = self.1.take().flatten();
                FAILED.with(|e| *e.borrow_mut() = saved);
            }
        }
        let ptr = std::ptr::from_mut(&mut cx).cast::<CallContext<'static>>();
        let restore =
            Restore(CURRENT.with(|c| c.replace((ptr, h.id))), Some(FAILED.with(|e| e.borrow_mut().take())));
        let answering = ANSWERING.with(|a| a.replace(true));
        let fresh = retained::fresh_mark();
        // Reads of retained buffers are the runtime's own calls.
        let r = if h.id >= retained::RELEASE {
            Ok(retained::serve(h.id, Reader::new(payload), out, owner, lane))
        } else {
            catch_unwind(AssertUnwindSafe(|| lib.call(h.id, Reader::with_bulk(payload, bulk), out)))
        };
        ANSWERING.with(|a| a.set(answering));
        let fresh = retained::fresh_since(fresh);
        out.detach_bulk();
        let failed = FAILED.with(|e| e.borrow_mut().take());
        // What callbacks handed the library during the call is the call's.
        crate::marshal::callback::release_provided(ptr as usize);
        drop(restore);
        (r, failed, fresh)
    };
    let status = call_status(h, result, failed, out);
    // What the call kept for a client that never hears of it (the call failed after keeping
    // it): let go of, freed once the library lets go too.
    if !fresh.is_empty() && !matches!(status, Ok(Status::Ok)) {
        retained::free(&fresh, owner);
    }
    if let Some((name, start)) = traced {
        let shown = match &status {
            Ok(s) => format!("{s:?}"),
            Err(e) => format!("connection: {e}"),
        };
        crate::trace::ret("host", h.seq, name, out.payload(), &shown, start.elapsed());
    }
    status
}

/// The status of a call that ran: its result, or the first callback failure during it.
fn call_status(
    h: &Header,
    result: std::thread::Result<Result<Status, WireError>>,
    failed: Option<WireError>,
    out: &mut Writer,
) -> Result<Status, WireError> {
    // A callback that could not answer: the client went away (the connection is over), or
    // the call's result is lost (the library got a default from the callback).
    match failed {
        Some(e @ (WireError::Closed | WireError::Truncated | WireError::Io(_))) => return Err(e),
        Some(e) if matches!(result, Ok(Ok(_))) => {
            out.clear();
            out.bytes(
                format!("a callback failed during the call, so its result was dropped: {e}").as_bytes(),
            );
            return Ok(Status::CallbackFailed);
        }
        _ => {}
    }
    Ok(match result {
        Ok(Ok(status)) => status,
        Ok(Err(e @ (WireError::Closed | WireError::Truncated | WireError::Io(_)))) => return Err(e),
        Ok(Err(WireError::BadHandle(what))) => {
            out.clear();
            out.bytes(what.as_bytes());
            Status::BadHandle
        }
        Ok(Err(e)) => {
            out.clear();
            out.bytes(format!("the host refused call {}: {e}", h.id).as_bytes());
            Status::ProtocolError
        }
        Err(panic) => {
            out.clear();
            let message = crate::panic_message(panic.as_ref());
            out.bytes(message.as_bytes());
            Status::HostPanic
        }
    })
}

/// Why serving stopped abnormally.
#[derive(Debug)]
pub enum ServeError {
    /// The client sent something that is not the protocol.
    Protocol(WireError),
    /// The handshake was refused (the message was sent to the client too).
    Refused(String),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Protocol(e) => write!(f, "protocol error: {e}"),
            ServeError::Refused(m) => write!(f, "handshake refused: {m}"),
        }
    }
}

/// Checks a `Hello` payload against this host (protocol version and model hash) and reads
/// the rest of it.
fn check_hello<'a>(lib: &dyn Library, payload: &'a [u8]) -> Result<Hello<'a>, String> {
    check_hello_with(lib.model_hash(), lib.load_error(), payload)
}

/// [`check_hello`] from the library's facts (listener connections check without it).
pub(crate) fn check_hello_with<'a>(
    model_hash: u64,
    load_error: Option<&str>,
    payload: &'a [u8],
) -> Result<Hello<'a>, String> {
    if let Some(reason) = load_error {
        return Err(format!("the host could not load the library: {reason}"));
    }
    let mut r = Reader::new(payload);
    let (version, hash) = match (r.u32(), r.u64()) {
        (Ok(v), Ok(h)) => (v, h),
        _ => return Err("malformed handshake".into()),
    };
    if version != PROTOCOL_VERSION {
        return Err(format!("protocol version {version} (client) differs from {PROTOCOL_VERSION} (host)"));
    }
    if hash != model_hash {
        return Err(format!(
            "model hash {hash:016x} (client) differs from {model_hash:016x} (host): the two sides were generated from different specs or libraries; regenerate and rebuild both"
        ));
    }
    Ok(Hello::rest(&mut r))
}

/// Serves one client until it closes the connection: the handshake, then calls. Returns
/// `Ok` when the client goes away.
pub fn serve(
    lib: &'static dyn Library,
    input: &mut (dyn Read + Send),
    output: Box<dyn Write + Send>,
    max_frame: u32,
) -> Result<(), ServeError> {
    serve_with(lib, input, output, max_frame, None)
}

/// [`serve`], taking the shared region a client may offer in its `Hello` (see
/// [`crate::transport::shm`]): when it can be opened, the `HelloAck` says so and every later frame goes
/// through the rings; `shm` watches the input pipe, which shows the client leaving while
/// the host waits on a ring (`None`: never take a region). While a call runs, a second
/// thread sends the `Alive` frames the client asked for (see [`crate::host::pulse`]); when
/// the client asks for events, a third reads the input (see [`events`]).
pub fn serve_with(
    lib: &'static dyn Library,
    pipe_in: &mut (dyn Read + Send),
    pipe_out: Box<dyn Write + Send>,
    max_frame: u32,
    shm: Option<shm::PipeWatch>,
) -> Result<(), ServeError> {
    resident::serving(lib);
    let pulse = Pulse::default();
    let sink = Arc::new(Mutex::new(Sink::Pipe(pipe_out)));
    std::thread::scope(|s| {
        let mut output = Locked { sink: &sink, guard: None };
        let greeted = greet(lib, pipe_in, &mut output, max_frame, shm)?;
        let Some(greeted) = greeted else { return Ok(()) };
        if greeted.beat_ms > 0 {
            pulse.want(greeted.beat_ms);
            let started = std::thread::Builder::new()
                .name("dllgen-alive".into())
                .spawn_scoped(s, || beat_into(&pulse, &sink));
            if let Err(e) = started {
                eprintln!("dllgen host: no liveness beats ({e})");
            }
        }
        let mut input: Box<dyn Read + Send + '_> = match greeted.ring_in {
            Some(r) => Box::new(r),
            None => Box::new(pipe_in),
        };
        let bulk = greeted.bulk.as_deref();
        let _control = greeted.pipe_out;
        let served = if greeted.events {
            // Frames for the library thread come through a queue; the reader thread routes
            // the others to the threads waiting in events.
            let events = events::Events::start(lib, sink.clone(), max_frame);
            let (tx, rx) = std::sync::mpsc::sync_channel::<Incoming>(16);
            let reading = {
                let events = events.clone();
                std::thread::Builder::new()
                    .name("dllgen-reader".into())
                    .spawn_scoped(s, move || events::read(&mut *input, &events, &tx))
            };
            let served = match reading {
                Ok(_) => serve_calls(lib, &mut QueuedFrames(&rx), &mut output, &pulse, max_frame, bulk),
                Err(e) => Err(ServeError::Protocol(WireError::Io(e))),
            };
            events.stop();
            // The reader ends with the input (the client closes it) or at its next frame.
            drop(rx);
            served
        } else {
            serve_calls(lib, &mut StreamFrames(&mut *input), &mut output, &pulse, max_frame, bulk)
        };
        pulse.stop();
        served
    })
}

/// Where a child host's frames go: the pipe until the handshake switches to the rings.
pub(crate) enum Sink {
    Pipe(Box<dyn Write + Send>),
    Ring(shm::RingWriter),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Pipe(w) => w.write(buf),
            Sink::Ring(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Pipe(w) => w.flush(),
            Sink::Ring(w) => w.flush(),
        }
    }
}

/// One writing thread's view of the shared sink: locked from a frame's first write to its
/// flush (`Writer::send` writes a frame, then flushes), so frames of other threads (beats,
/// events) never land inside one.
pub(crate) struct Locked<'s> {
    pub(crate) sink: &'s Mutex<Sink>,
    pub(crate) guard: Option<MutexGuard<'s, Sink>>,
}

impl Write for Locked<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let sink = self.sink;
        let guard = self.guard.get_or_insert_with(|| sink.lock().unwrap_or_else(|e| e.into_inner()));
        let r = guard.write(buf);
        if r.is_err() {
            self.guard = None;
        }
        r
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.guard.take() {
            Some(mut g) => g.flush(),
            None => Ok(()),
        }
    }
}

/// The beating thread of a child host: an `Alive` frame for the running call, written
/// under the sink's lock and only while that call still runs (so never after its `Return`).
fn beat_into(pulse: &Pulse, sink: &Mutex<Sink>) {
    let mut w = Writer::new();
    pulse.run(|seq| {
        let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
        if pulse.is_running(seq) {
            w.clear();
            let _ = w.send(&mut *sink, Kind::Alive, Status::Ok, 0, seq);
        }
    });
}

/// What the handshake settled.
struct Greeted {
    beat_ms: u32,
    events: bool,
    /// The rings' input, when the host took the shared region.
    ring_in: Option<shm::RingReader>,
    bulk: Option<Arc<shm::Region>>,
    /// With the rings, the output pipe, kept open.
    pipe_out: Option<Sink>,
}

/// Reads and answers the client's `Hello` (`None`: the client left first); with a region
/// taken, the sink switches to its ring.
fn greet(
    lib: &dyn Library,
    input: &mut dyn Read,
    output: &mut Locked<'_>,
    max_frame: u32,
    mut shm: Option<shm::PipeWatch>,
) -> Result<Option<Greeted>, ServeError> {
    let mut payload = Payload::new();
    let h = match read_frame(input, max_frame, &mut payload) {
        Ok(h) => h,
        Err(WireError::Closed) => return Ok(None),
        Err(e) => {
            reply_protocol_error(output, &e, 0);
            return Err(ServeError::Protocol(e));
        }
    };
    if h.kind != Kind::Hello || h.lane != 0 {
        let e = WireError::Payload("a frame before the handshake");
        reply_protocol_error(output, &e, h.seq);
        return Err(ServeError::Protocol(e));
    }
    let mut out = Writer::new();
    let hello = match check_hello(lib, &payload) {
        Ok(hello) => hello,
        Err(message) => {
            out.bytes(message.as_bytes());
            let _ = out.send(output, Kind::HelloAck, Status::Refused, 0, h.seq);
            return Err(ServeError::Refused(message));
        }
    };
    let take = match (hello.token, shm.take()) {
        (Some(token), Some(watch)) => match shm::Region::open(&String::from_utf8_lossy(token)) {
            Ok(region) => Some((region, watch)),
            Err(e) => {
                eprintln!("dllgen host: shared memory unusable ({e}); using the pipe");
                None
            }
        },
        _ => None,
    };
    out.u32(PROTOCOL_VERSION).u64(lib.model_hash()).u8(u8::from(take.is_some())).u8(u8::from(hello.events));
    let _ = out.send(output, Kind::HelloAck, Status::Ok, 0, h.seq);
    let mut greeted =
        Greeted { beat_ms: hello.beat_ms, events: hello.events, ring_in: None, bulk: None, pipe_out: None };
    if let Some((region, watch)) = take {
        shm::set_in_use(&region);
        let config = shm::ShmConfig::default();
        let region = Arc::new(region);
        greeted.bulk = Some(region.clone());
        let (r, w) = shm::ends(region, false, &config, watch.clone().boxed(), watch.boxed());
        greeted.ring_in = Some(r);
        // The pipe stays open as the control channel (its closing tells the client the
        // host is gone).
        greeted.pipe_out = Some(std::mem::replace(
            &mut *output.sink.lock().unwrap_or_else(|e| e.into_inner()),
            Sink::Ring(w),
        ));
    }
    Ok(Some(greeted))
}

/// Serves calls on the library thread until the client goes away.
fn serve_calls(
    lib: &dyn Library,
    frames: &mut dyn Frames,
    output: &mut Locked<'_>,
    pulse: &Pulse,
    max_frame: u32,
    bulk_region: Option<&shm::Region>,
) -> Result<(), ServeError> {
    let mut payload = Payload::new();
    let mut out = Writer::new();
    loop {
        let h = match frames.next_frame(max_frame, &mut payload) {
            Ok(h) => h,
            Err(WireError::Closed) => return Ok(()),
            Err(e) => {
                reply_protocol_error(output, &e, 0);
                return Err(ServeError::Protocol(e));
            }
        };
        if h.kind == Kind::Free && h.lane == 0 {
            match resident::freed_ids(&payload) {
                Ok(ids) => {
                    resident::free(lib, &ids, 0);
                    continue;
                }
                Err(e) => {
                    reply_protocol_error(output, &e, h.seq);
                    return Err(ServeError::Protocol(e));
                }
            }
        }
        if h.kind != Kind::Call || h.lane != 0 {
            let e = WireError::Payload("a frame out of order (a second handshake, or a reply kind)");
            reply_protocol_error(output, &e, h.seq);
            return Err(ServeError::Protocol(e));
        }
        let bulk = bulk_region.map(|r| r.bulk(r.bulk_used()));
        pulse.begin(h.seq);
        let status = run_call_at(lib, &h, &payload, &mut out, frames, output, max_frame, 0, bulk, 0, 0);
        // Before the `Return`: no beat may follow it.
        pulse.end();
        let sent = status.and_then(|status| {
            send_return(&mut out, output, 0, status, h.id, h.seq, 0).map_err(WireError::Io)
        });
        match sent {
            Ok(()) => {}
            Err(WireError::Closed | WireError::Truncated) => return Ok(()),
            Err(e) => {
                reply_protocol_error(output, &e, h.seq);
                return Err(ServeError::Protocol(e));
            }
        }
    }
}

/// What a client's `Hello` says after the protocol version and model hash: a shared
/// region it offers (a flag, then the token to open it with), the period of the `Alive`
/// frames it wants during calls (milliseconds, 0 for none), then whether it serves events
/// (a flag).
pub(crate) struct Hello<'a> {
    pub(crate) token: Option<&'a [u8]>,
    pub(crate) beat_ms: u32,
    pub(crate) events: bool,
}

impl<'a> Hello<'a> {
    /// Reads what follows the version and hash; what is missing or malformed reads as
    /// "nothing offered, no beats, no events".
    fn rest(r: &mut Reader<'a>) -> Hello<'a> {
        let offered = r.u8().unwrap_or(0) == 1;
        let token = if offered { r.bytes().ok() } else { None };
        if offered && token.is_none() {
            return Hello { token, beat_ms: 0, events: false };
        }
        let beat_ms = r.u32().unwrap_or(0);
        let events = r.u8().unwrap_or(0) == 1;
        Hello { token, beat_ms, events }
    }
}

/// Sends a call's `Return` on `lane`, preceded by a `Release` of the kept callbacks of
/// `owner` the library let go of meanwhile.
pub(crate) fn send_return(
    out: &mut Writer,
    output: &mut dyn Write,
    owner: kept::Owner,
    status: Status,
    id: u32,
    seq: u32,
    lane: u16,
) -> std::io::Result<()> {
    let released = kept::take_released(owner);
    if !released.is_empty() {
        let mut w = Writer::new();
        w.u32(u32::try_from(released.len()).unwrap_or(u32::MAX));
        for r in released {
            w.u32(r);
        }
        w.send_on(output, Kind::Release, Status::Ok, id, seq, lane)?;
    }
    out.send_on(output, Kind::Return, status, id, seq, lane)
}

/// Best effort: tell the client why the host is about to stop (`seq` 0 when the frame
/// was too broken to have one).
pub(crate) fn reply_protocol_error(output: &mut dyn Write, e: &WireError, seq: u32) {
    let mut out = Writer::new();
    out.bytes(format!("the host received an invalid frame: {e}").as_bytes());
    let _ = out.send(output, Kind::Return, Status::ProtocolError, 0, seq);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Kind, Status};

    struct Adder;

    impl Library for Adder {
        fn model_hash(&self) -> u64 {
            7
        }
        fn call(&self, _: u32, mut args: Reader<'_>, out: &mut Writer) -> Result<Status, WireError> {
            let (a, b) = (args.i32()?, args.i32()?);
            args.finish()?;
            out.i32(a + b);
            Ok(Status::Ok)
        }
    }

    fn frame(kind: Kind, id: u32, seq: u32, fill: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = Writer::new();
        fill(&mut w);
        let mut v = Vec::new();
        w.send(&mut v, kind, Status::Ok, id, seq).unwrap();
        v
    }

    type Reply = (Kind, Status, Vec<u8>);

    /// Output the test reads back once serving ended.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn replies(input: &[u8]) -> (Result<(), ServeError>, Vec<Reply>) {
        let shared = Shared::default();
        let result = serve(&Adder, &mut &input[..], Box::new(shared.clone()), 1 << 20);
        let out = shared.0.lock().unwrap().clone();
        let mut frames = Vec::new();
        let mut rest = &out[..];
        let mut payload = Payload::new();
        while let Ok(h) = read_frame(&mut rest, 1 << 20, &mut payload) {
            frames.push((h.kind, h.status, payload.to_vec()));
        }
        (result, frames)
    }

    #[test]
    fn serves_a_handshake_and_calls_then_stops_at_end_of_input() {
        let mut input = frame(Kind::Hello, 0, 0, |w| {
            w.u32(PROTOCOL_VERSION).u64(7);
        });
        input.extend(frame(Kind::Call, 0, 1, |w| {
            w.i32(40).i32(2);
        }));
        let (result, frames) = replies(&input);
        assert!(result.is_ok());
        assert_eq!(frames.len(), 2);
        assert_eq!((frames[0].0, frames[0].1), (Kind::HelloAck, Status::Ok));
        assert_eq!(
            (frames[1].0, frames[1].1, frames[1].2.clone()),
            (Kind::Return, Status::Ok, 42i32.to_le_bytes().to_vec())
        );
    }

    #[test]
    fn bad_input_is_answered_with_a_protocol_error() {
        // A call before the handshake.
        let (result, frames) = replies(&frame(Kind::Call, 0, 1, |w| {
            w.i32(1).i32(2);
        }));
        assert!(matches!(result, Err(ServeError::Protocol(_))));
        assert_eq!(frames[0].1, Status::ProtocolError);
        // A wrong hash.
        let (result, frames) = replies(&frame(Kind::Hello, 0, 0, |w| {
            w.u32(PROTOCOL_VERSION).u64(8);
        }));
        assert!(matches!(result, Err(ServeError::Refused(_))));
        assert_eq!(frames[0].1, Status::Refused);
        // Arguments too short for the call: a protocol error reply, and serving goes on.
        let mut input = frame(Kind::Hello, 0, 0, |w| {
            w.u32(PROTOCOL_VERSION).u64(7);
        });
        input.extend(frame(Kind::Call, 0, 1, |w| {
            w.i32(1);
        }));
        input.extend(frame(Kind::Call, 0, 2, |w| {
            w.i32(1).i32(1);
        }));
        let (result, frames) = replies(&input);
        assert!(result.is_ok());
        assert_eq!(frames[1].1, Status::ProtocolError);
        assert_eq!(frames[2].1, Status::Ok);
        // Garbage.
        let (result, _) = replies(b"GARBAGE GARBAGE GARBAGE");
        assert!(matches!(result, Err(ServeError::Protocol(_))));
    }
}
