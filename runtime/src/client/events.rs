//! Callbacks at any time, client side (see `host::events` for the host's half): when the
//! spec has callbacks the library fires from threads of its own, a reader thread takes
//! every frame the host sends and routes it by lane. Lane 0 (the host's library thread:
//! the replies and callbacks of the call in flight) goes to the thread holding the
//! connection; an `Event` goes to the dispatcher thread, which runs the kept closure and
//! answers on the event's lane; the frames of calls the closure makes go to the dispatcher
//! too, on that lane. `Alive` and `Release` frames are taken by the reader itself.
//!
//! The dispatcher runs one event at a time, in the order they arrived. A closure that
//! panics or was released answers `CallbackFailed` (the library gets the callback's
//! default) and the failure is kept for [`crate::Client::take_callback_failures`]. When the
//! host goes away, the reader ends, and the dispatcher with it.

use super::{kept, EventHandler, Input, Link, Output, Watch, LENDING, LENT};
use crate::wire::{read_frame, Incoming, Kind, Payload, Reader, Status, WireError, Writer};
use std::io::{self, BufReader, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// Frames for the thread holding the connection that may wait unread.
const CALLER_FRAMES: usize = 64;
/// Events waiting for the dispatcher: each is a library thread waiting for its result, so
/// a library with fewer threads firing at once never fills it; a host flooding them waits.
const EVENTS: usize = 1024;
/// Frames of the calls the dispatcher's closure makes (one in flight at a time).
const LANE_FRAMES: usize = 64;

/// A connection's routed ends, held by the thread that holds the connection.
pub(crate) struct Routed {
    /// Lane-0 frames, from the reader.
    pub(crate) caller: Receiver<Incoming>,
    /// What the dispatcher shares.
    pub(crate) shared: Arc<Shared>,
}

/// The stream to the host, written by the thread holding the connection and by the
/// dispatcher, and with shared memory the control pipes, which only closing ends.
pub(crate) struct Shared {
    output: Mutex<Box<dyn Write + Send>>,
    control: Mutex<Option<super::Control>>,
}

impl Shared {
    /// Writes one frame.
    pub(crate) fn send(
        &self,
        w: &mut Writer,
        kind: Kind,
        status: Status,
        id: u32,
        seq: u32,
        lane: u16,
    ) -> io::Result<()> {
        let mut o = self.output.lock().unwrap_or_else(|e| e.into_inner());
        w.send_on(&mut *o, kind, status, id, seq, lane)
    }

    /// Closes the stream and the control pipes: the host sees its input end (and exits),
    /// the reader then ends, and everyone waiting hears it.
    pub(crate) fn close(&self) {
        *self.output.lock().unwrap_or_else(|e| e.into_inner()) = Box::new(io::sink());
        *self.control.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Whether frames go through shared memory (the pipes are then the control channel).
    pub(crate) fn has_control(&self) -> bool {
        self.control.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }
}

/// What the two threads need.
pub(crate) struct Start {
    pub(crate) input: BufReader<Box<dyn Read + Send>>,
    pub(crate) output: Box<dyn Write + Send>,
    pub(crate) control: Option<super::Control>,
    pub(crate) max_frame: u32,
    pub(crate) handler: EventHandler,
    pub(crate) kept: Arc<kept::Registry>,
    pub(crate) watch: Option<Arc<Watch>>,
    /// How long a call made from a closure may wait for its host (no watchdog runs
    /// beside the dispatcher).
    pub(crate) timeout: Option<std::time::Duration>,
    /// The client's number (for calls from closures, see `LENT`).
    pub(crate) me: usize,
}

/// Starts the reader and the dispatcher of a connection whose handshake is done.
pub(crate) fn start(s: Start) -> io::Result<Routed> {
    let shared = Arc::new(Shared { output: Mutex::new(s.output), control: Mutex::new(s.control) });
    let (caller_tx, caller) = sync_channel(CALLER_FRAMES);
    let (events_tx, events) = sync_channel(EVENTS);
    let (lanes_tx, lanes) = sync_channel(LANE_FRAMES);
    let dispatcher = Dispatcher {
        shared: shared.clone(),
        handler: s.handler,
        kept: s.kept.clone(),
        me: s.me,
        timeout: s.timeout,
    };
    std::thread::Builder::new()
        .name("dllgen-dispatch".into())
        .spawn(move || dispatcher.run(&events, &lanes))?;
    let reader = FrameReader { input: s.input, max_frame: s.max_frame, kept: s.kept, watch: s.watch };
    std::thread::Builder::new()
        .name("dllgen-reader".into())
        .spawn(move || reader.run(&caller_tx, &events_tx, &lanes_tx))?;
    Ok(Routed { caller, shared })
}

/// The reader thread's part.
struct FrameReader {
    input: BufReader<Box<dyn Read + Send>>,
    max_frame: u32,
    kept: Arc<kept::Registry>,
    watch: Option<Arc<Watch>>,
}

impl FrameReader {
    fn run(
        mut self,
        caller: &SyncSender<Incoming>,
        events: &SyncSender<Incoming>,
        lanes: &SyncSender<Incoming>,
    ) {
        let ended = loop {
            let mut payload = Payload::new();
            let h = match read_frame(&mut self.input, self.max_frame, &mut payload) {
                Ok(h) => h,
                Err(e) => break e,
            };
            match h.kind {
                Kind::Alive => {
                    if let Some(w) = &self.watch {
                        w.heard.frames.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // Taken here, in stream order: before the `Return` that follows it.
                Kind::Release => match released(&payload) {
                    Ok(ids) => self.kept.release(&ids),
                    Err(e) => break e,
                },
                Kind::Event => {
                    if events.send(Ok((h, payload))).is_err() {
                        break WireError::Closed;
                    }
                }
                _ if h.lane == 0 => {
                    if caller.send(Ok((h, payload))).is_err() {
                        break WireError::Closed;
                    }
                }
                _ => {
                    if lanes.send(Ok((h, payload))).is_err() {
                        break WireError::Closed;
                    }
                }
            }
        };
        // Whoever waits hears why (a call in flight reports it; the dispatcher stops).
        let _ = caller.try_send(Err(ended));
        let _ = lanes.try_send(Err(WireError::Closed));
    }
}

/// A `Release` frame's registration ids.
pub(crate) fn released(payload: &[u8]) -> Result<Vec<u32>, WireError> {
    let mut r = Reader::new(payload);
    let n = r.u32()?;
    let ids = (0..n.min(1 << 20)).map(|_| r.u32()).collect::<Result<Vec<_>, _>>()?;
    r.finish()?;
    Ok(ids)
}

/// The dispatcher thread's part.
struct Dispatcher {
    shared: Arc<Shared>,
    handler: EventHandler,
    kept: Arc<kept::Registry>,
    me: usize,
    timeout: Option<std::time::Duration>,
}

impl Dispatcher {
    fn run(self, events: &Receiver<Incoming>, lanes: &Receiver<Incoming>) {
        let mut reply = Writer::new();
        let mut out = Writer::new();
        let mut payload = Payload::new();
        for event in events {
            let Ok((h, args)) = event else { break };
            reply.clear();
            let handled = {
                // The closure's calls go out on the event's lane (the host thread that
                // fired it serves them).
                let mut link = Link {
                    input: Input::Queue(lanes, self.timeout),
                    output: Output::Shared(&self.shared),
                    lane: h.lane,
                    payload: &mut payload,
                    out: &mut out,
                    bulk: None,
                    broken: false,
                };
                struct Lent;
                impl Drop for Lent {
                    fn drop(&mut self) {
                        LENT.with(|c| c.borrow_mut().pop());
                        LENDING.set(LENDING.get() - 1);
                    }
                }
                LENT.with(|c| c.borrow_mut().push((self.me, std::ptr::from_mut(&mut link).cast())));
                LENDING.set(LENDING.get() + 1);
                let _lent = Lent;
                catch_unwind(AssertUnwindSafe(|| {
                    (self.handler)(&self.kept, h.id, Reader::new(&args), &mut reply)
                }))
            };
            let status = match handled {
                Ok(Ok(())) => Status::Ok,
                Ok(Err(e)) => {
                    let why = match e {
                        WireError::Callback(why) => why,
                        e => format!("callback {} fired by a library thread: {e}", h.id),
                    };
                    reply.clear();
                    reply.bytes(why.as_bytes());
                    self.kept.fail(why);
                    Status::CallbackFailed
                }
                Err(panic) => {
                    // Out of a nested call's handler: the stream is in an unknown state, so
                    // it is closed (the host ends, and every call fails instead of waiting).
                    let why = format!(
                        "a callback fired by a library thread panicked: {}",
                        crate::panic_message(panic.as_ref())
                    );
                    self.kept.fail(why);
                    self.shared.close();
                    break;
                }
            };
            let sent = self.shared.send(&mut reply, Kind::EventReturn, status, h.id, h.seq, h.lane);
            // Released closures are dropped with no lock held.
            self.kept.bury();
            if sent.is_err() {
                break;
            }
        }
    }
}
