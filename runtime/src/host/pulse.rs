//! Liveness that does not depend on the library: while a call runs, a host thread other
//! than the library thread sends `Alive` frames at the period the client asked for in its
//! `Hello`; the client's watchdog declares a host that stays silent too long unresponsive
//! (a stopped or frozen process), while a library call that is merely slow keeps its host
//! alive and is only cut by the call's timeout.
//!
//! Heartbeats rather than pings: the host reads its input on the library thread, so a ping
//! could not be answered during a call without a second reader; a beat needs only one
//! direction and costs nothing between calls. The beating thread parks when the host has
//! been idle for a while, so an idle host is not woken by it; starting a call then costs
//! one atomic load (a system call only to wake a parked beater).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread::Thread;
use std::time::Duration;

/// Marks `running` as holding a call (a sequence number may be 0).
const RUNNING: u64 = 1 << 32;

/// Idle ticks before the beater parks.
const IDLE_TICKS: u32 = 4;

/// The beat period a client may ask for: at least this (a client asking for less gets
/// this), at most `MAX_BEAT`.
pub(crate) const MIN_BEAT: Duration = Duration::from_millis(10);
const MAX_BEAT: Duration = Duration::from_secs(3600);

/// The state a host's library thread and its beating thread share.
#[derive(Default)]
pub(crate) struct Pulse {
    /// `RUNNING | seq` while call `seq` runs, else 0.
    running: AtomicU64,
    /// The beat period in milliseconds (0: no client asked for beats).
    period_ms: AtomicU32,
    parked: AtomicBool,
    stop: AtomicBool,
    beater: OnceLock<Thread>,
}

impl Pulse {
    /// A client asked for beats every `ms` milliseconds: the host beats at the shortest
    /// period any of its clients asked for (0 asks for none).
    pub(crate) fn want(&self, ms: u32) {
        if ms > 0 {
            let ms = ms.clamp(MIN_BEAT.as_millis() as u32, MAX_BEAT.as_millis() as u32);
            let _ = self
                .period_ms
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| (p == 0 || ms < p).then_some(ms));
            self.wake();
        }
    }

    /// Call `seq` starts on the library thread.
    pub(crate) fn begin(&self, seq: u32) {
        self.running.store(RUNNING | u64::from(seq), Ordering::SeqCst);
        self.wake();
    }

    /// The running call ended; called before its `Return` is written.
    pub(crate) fn end(&self) {
        self.running.store(0, Ordering::SeqCst);
    }

    /// Whether call `seq` is still running (a beater checks this under the output's lock,
    /// so no beat follows the call's `Return`).
    pub(crate) fn is_running(&self, seq: u32) -> bool {
        self.running.load(Ordering::SeqCst) == RUNNING | u64::from(seq)
    }

    /// Ends [`Pulse::run`].
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.beater.get() {
            t.unpark();
        }
    }

    fn wake(&self) {
        // Pairs with the beater's store of `parked` before it re-reads `running`: one of
        // the two sees the other's store.
        if self.parked.load(Ordering::SeqCst) {
            if let Some(t) = self.beater.get() {
                t.unpark();
            }
        }
    }

    /// The beating thread's loop, until [`Pulse::stop`]: every period while a call runs,
    /// `beat(seq)`, which sends an `Alive` frame if call `seq` still runs.
    pub(crate) fn run(&self, mut beat: impl FnMut(u32)) {
        let _ = self.beater.set(std::thread::current());
        let mut idle = 0;
        while !self.stop.load(Ordering::SeqCst) {
            let period = u64::from(self.period_ms.load(Ordering::Relaxed));
            let running = self.running.load(Ordering::SeqCst);
            if period == 0 || running == 0 {
                idle += 1;
                if idle >= IDLE_TICKS || period == 0 {
                    self.parked.store(true, Ordering::SeqCst);
                    if self.running.load(Ordering::SeqCst) == 0 && !self.stop.load(Ordering::SeqCst) {
                        std::thread::park();
                    }
                    self.parked.store(false, Ordering::SeqCst);
                    idle = 0;
                    if self.period_ms.load(Ordering::Relaxed) == 0 {
                        continue;
                    }
                }
            } else {
                idle = 0;
                beat(running as u32);
            }
            std::thread::park_timeout(Duration::from_millis(period.max(1)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    /// Starts a beater that records the sequence numbers it beats for.
    fn beater(pulse: &Arc<Pulse>) -> (Arc<Mutex<Vec<u32>>>, std::thread::JoinHandle<()>) {
        let beats = Arc::new(Mutex::new(Vec::new()));
        let (p, b) = (pulse.clone(), beats.clone());
        let t = std::thread::spawn(move || p.run(|seq| b.lock().unwrap().push(seq)));
        (beats, t)
    }

    fn wait_for(what: impl Fn() -> bool) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if what() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }

    #[test]
    fn beats_only_while_a_call_runs_and_wakes_from_idle() {
        let pulse = Arc::new(Pulse::default());
        pulse.want(10);
        let (beats, t) = beater(&pulse);
        // Idle: parks after a few ticks, no beats.
        assert!(wait_for(|| pulse.parked.load(Ordering::SeqCst)));
        assert!(beats.lock().unwrap().is_empty());
        // A call wakes it; it beats with the call's number.
        pulse.begin(7);
        assert!(wait_for(|| beats.lock().unwrap().len() >= 3));
        assert!(beats.lock().unwrap().iter().all(|&s| s == 7));
        assert!(pulse.is_running(7) && !pulse.is_running(8));
        pulse.end();
        let after = beats.lock().unwrap().len();
        std::thread::sleep(Duration::from_millis(50));
        assert!(beats.lock().unwrap().len() <= after + 1, "beats after the call ended");
        pulse.stop();
        t.join().unwrap();
    }

    #[test]
    fn without_a_period_it_never_beats_and_stops_when_told() {
        let pulse = Arc::new(Pulse::default());
        let (beats, t) = beater(&pulse);
        pulse.begin(1);
        std::thread::sleep(Duration::from_millis(30));
        assert!(beats.lock().unwrap().is_empty());
        pulse.stop();
        t.join().unwrap();
    }

    #[test]
    fn the_shortest_period_asked_for_wins_within_bounds() {
        let pulse = Pulse::default();
        pulse.want(500);
        pulse.want(0);
        pulse.want(200);
        pulse.want(900);
        assert_eq!(pulse.period_ms.load(Ordering::Relaxed), 200);
        pulse.want(1);
        assert_eq!(pulse.period_ms.load(Ordering::Relaxed), MIN_BEAT.as_millis() as u32);
    }
}
