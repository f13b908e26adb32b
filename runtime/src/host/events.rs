//! Callbacks at any time, host side: a kept callback the library calls from a thread of its
//! own, or while no call runs, is an *event*. The thread that fired it gets a lane (a
//! number in the frame header), sends an `Event` frame on it and waits; a reader thread
//! takes every frame off the input and routes it by lane: lane 0 to the library thread,
//! another to the thread waiting on that lane. While it waits, that thread serves the calls
//! the closure makes (on its lane), as the library's own thread would run them natively;
//! the `EventReturn` ends the wait. A client that goes away ends every wait with the
//! callback's default.
//!
//! Events are on only when the client asked for them in its `Hello` (its spec has
//! callbacks marked `threads`) and the host serves one client; otherwise a kept callback
//! fired outside a call gets its default, and the host says so on stderr.

use super::{CallContext, Library, Locked, QueuedFrames, Sink};
use crate::wire::{Header, Incoming, Kind, Payload, Reader, WireError, Writer};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// Frames queued for one waiting thread (bounded: a client flooding a lane waits).
const LANE_FRAMES: usize = 16;

/// The connection as the threads firing events see it.
pub(crate) struct Events {
    lib: &'static dyn Library,
    sink: Arc<Mutex<Sink>>,
    max_frame: u32,
    seq: AtomicU32,
    lanes: Mutex<Lanes>,
}

#[derive(Default)]
struct Lanes {
    /// Cleared when the reader stops: no new waits.
    open: bool,
    waiting: HashMap<u16, SyncSender<Incoming>>,
    /// Where the search for a free lane starts.
    next: u16,
}

/// Set by a listening host, which serves kept callbacks only during calls.
pub(crate) static LISTENING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The events of the one client being served, while its connection lasts.
static EVENTS: Mutex<Option<Arc<Events>>> = Mutex::new(None);

fn events() -> Option<Arc<Events>> {
    EVENTS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Whether a kept callback fired outside any call can be served now.
pub(crate) fn on() -> bool {
    EVENTS.lock().unwrap_or_else(|e| e.into_inner()).is_some()
}

impl Events {
    /// Events for a connection whose frames go to `sink`; on until [`Events::stop`].
    pub(crate) fn start(lib: &'static dyn Library, sink: Arc<Mutex<Sink>>, max_frame: u32) -> Arc<Events> {
        let events = Arc::new(Events {
            lib,
            sink,
            max_frame,
            seq: AtomicU32::new(0),
            lanes: Mutex::new(Lanes { open: true, ..Lanes::default() }),
        });
        *EVENTS.lock().unwrap_or_else(|e| e.into_inner()) = Some(events.clone());
        events
    }

    fn lanes(&self) -> std::sync::MutexGuard<'_, Lanes> {
        self.lanes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection ended: every waiting thread gets the callback's default, and no
    /// new event starts.
    pub(crate) fn stop(&self) {
        *EVENTS.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let waiting = {
            let mut lanes = self.lanes();
            lanes.open = false;
            std::mem::take(&mut lanes.waiting)
        };
        for tx in waiting.into_values() {
            let _ = tx.try_send(Err(WireError::Closed));
        }
    }

    /// A free lane and the queue of its frames (`None` when the connection ended, or 65,535
    /// threads wait at once).
    fn open_lane(&self) -> Option<(u16, Receiver<Incoming>)> {
        let mut lanes = self.lanes();
        if !lanes.open {
            return None;
        }
        let start = lanes.next;
        let mut lane = start;
        loop {
            lane = lane.wrapping_add(1).max(1);
            if !lanes.waiting.contains_key(&lane) {
                break;
            }
            if lane == start {
                return None;
            }
        }
        lanes.next = lane;
        let (tx, rx) = sync_channel(LANE_FRAMES);
        lanes.waiting.insert(lane, tx);
        Some((lane, rx))
    }

    fn close_lane(&self, lane: u16) {
        self.lanes().waiting.remove(&lane);
    }

    /// For the reader thread: a frame for lane `h.lane` (not 0). A lane no thread waits on
    /// is the client's mistake.
    fn route(&self, h: Header, payload: Payload) -> Result<(), WireError> {
        let tx = self.lanes().waiting.get(&h.lane).cloned();
        match tx {
            // A thread that stopped waiting (its lane closed meanwhile) loses nothing.
            Some(tx) => {
                let _ = tx.send(Ok((h, payload)));
                Ok(())
            }
            None => Err(WireError::Payload("a frame for a lane no library thread waits on")),
        }
    }
}

/// The reader thread of a connection with events: frames for lane 0 go to the library
/// thread (`library`), the others to the thread waiting on their lane. Ends at the end of
/// the input (the library thread hears it) or when the library thread stops listening.
pub(crate) fn read(input: &mut dyn std::io::Read, events: &Events, library: &SyncSender<Incoming>) {
    loop {
        let mut payload = Payload::new();
        match crate::wire::read_frame(input, events.max_frame, &mut payload) {
            Ok(h) if h.lane == 0 => {
                if library.send(Ok((h, payload))).is_err() {
                    break;
                }
            }
            Ok(h) => {
                if let Err(e) = events.route(h, payload) {
                    let _ = library.send(Err(e));
                    break;
                }
            }
            Err(e) => {
                let _ = library.send(Err(e));
                break;
            }
        }
    }
    events.stop();
}

/// For [`crate::host::kept_callback`] on a thread with no call running: runs callback `id`
/// of the registration written first in `args` as an event, serving the closure's calls
/// meanwhile. `None` (the library gets the default) when events are off, the client went
/// away, or the closure could not answer.
pub(crate) fn fire<T>(
    id: u32,
    args: &mut Writer,
    decode: impl FnOnce(&mut Reader<'_>) -> Result<T, WireError>,
) -> Option<T> {
    let events = events()?;
    let (lane, rx) = events.open_lane()?;
    struct Close<'e>(&'e Events, u16);
    impl Drop for Close<'_> {
        fn drop(&mut self) {
            self.0.close_lane(self.1);
        }
    }
    let _close = Close(&events, lane);
    let seq = events.seq.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
    let mut output = Locked { sink: &events.sink, guard: None };
    let mut frames = QueuedFrames(&rx);
    // The closure's calls are served here, as the library's own thread would run them
    // natively (the library thread may be busy, waiting for this very thread).
    let mut cx = CallContext {
        lib: events.lib,
        input: &mut frames,
        output: &mut output,
        max_frame: events.max_frame,
        seq,
        depth: 0,
        owner: 0,
        lane,
        // An event's context runs no library function itself: its nested calls carry their own.
        results: false,
    };
    // A closure that could not answer (the client keeps why) gives the default.
    let payload = cx.round_trip(Kind::Event, Kind::EventReturn, id, args).ok()?;
    let mut r = Reader::new(&payload);
    let v = decode(&mut r).ok()?;
    r.finish().ok()?;
    Some(v)
}
