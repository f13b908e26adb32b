//! Calls as futures, for async callers on any executor: the blocking call runs on a thread
//! of a small pool here and wakes the future when it returns. No executor is assumed (the
//! future is woken through its `Waker`, as any executor provides).
//!
//! Cancellation: dropping the future does not stop the call. It completes in the host as
//! it would have (the library's side effects happen), and its result is dropped. A call
//! is never cut half-way, since that would leave the library in a state nobody knows.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// How long a pool thread waits for work before it ends.
const IDLE: Duration = Duration::from_secs(30);

/// The result of a call that runs on a pool thread.
#[must_use = "a future does nothing unless polled; the call runs anyway and its result is dropped"]
pub struct CallFuture<T> {
    slot: Arc<Slot<std::thread::Result<T>>>,
}

struct Slot<T> {
    state: Mutex<(Option<T>, Option<Waker>)>,
}

impl<T> Future for CallFuture<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.slot.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.0.take() {
            // A panic of the call is raised again here.
            Some(v) => Poll::Ready(v.unwrap_or_else(|p| std::panic::resume_unwind(p))),
            None => {
                // The latest waker: an executor may move the task between polls.
                if !state.1.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    state.1 = Some(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

struct Pool {
    queue: Mutex<(VecDeque<Job>, usize)>,
    ready: Condvar,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool { queue: Mutex::new((VecDeque::new(), 0)), ready: Condvar::new() })
}

/// Runs `call` on a pool thread (one is started when none is idle: a call that blocks
/// never delays another) and returns the future of its result. A panic in `call` is
/// raised again where the future is polled.
pub fn spawn<T: Send + 'static>(call: impl FnOnce() -> T + Send + 'static) -> CallFuture<T> {
    let slot = Arc::new(Slot { state: Mutex::new((None, None)) });
    let done = Arc::clone(&slot);
    let job: Job = Box::new(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call));
        let waker = {
            let mut state = done.state.lock().unwrap_or_else(|e| e.into_inner());
            state.0 = Some(result);
            state.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    });
    let p = pool();
    let mut queue = p.queue.lock().unwrap_or_else(|e| e.into_inner());
    queue.0.push_back(job);
    if queue.0.len() > queue.1 {
        // More jobs waiting than idle threads to take them (an idle thread woken for an
        // earlier job has not taken it yet): one more (idle until it takes a job).
        queue.1 += 1;
        drop(queue);
        if std::thread::Builder::new().name("dllgen-call".into()).spawn(worker).is_err() {
            let mut queue = p.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.1 -= 1;
            // No thread to be had: the call runs here, blocking, rather than never.
            if let Some(job) = queue.0.pop_back() {
                drop(queue);
                job();
            }
        }
    } else {
        drop(queue);
        p.ready.notify_one();
    }
    CallFuture { slot }
}

fn worker() {
    let p = pool();
    let mut queue = p.queue.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(job) = queue.0.pop_front() {
            queue.1 -= 1;
            drop(queue);
            job();
            queue = p.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.1 += 1;
            continue;
        }
        let (q, timeout) = p.ready.wait_timeout(queue, IDLE).unwrap_or_else(|e| e.into_inner());
        queue = q;
        if timeout.timed_out() && queue.0.is_empty() {
            queue.1 -= 1;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::Wake;

    struct Flag(Mutex<bool>, Condvar);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            *self.0.lock().unwrap() = true;
            self.1.notify_all();
        }
    }

    /// A minimal executor: polls, sleeps until woken, polls again.
    fn block_on<F: Future>(f: F) -> F::Output {
        let flag = Arc::new(Flag(Mutex::new(false), Condvar::new()));
        let waker = Waker::from(Arc::clone(&flag));
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
                return v;
            }
            let mut woken = flag.0.lock().unwrap();
            while !*woken {
                woken = flag.1.wait(woken).unwrap();
            }
            *woken = false;
        }
    }

    #[test]
    fn a_call_completes_its_future_and_a_dropped_one_still_runs() {
        assert_eq!(block_on(spawn(|| 6 * 7)), 42);
        // Two calls that block at once each get a thread: neither waits for the other.
        let (a, b) = (spawn(|| std::thread::sleep(Duration::from_millis(300))), spawn(|| 1));
        let t = std::time::Instant::now();
        assert_eq!(block_on(b), 1);
        assert!(t.elapsed() < Duration::from_millis(250), "{:?}", t.elapsed());
        block_on(a);
        // Dropped before it completes: the call still runs to its end.
        let ran = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&ran);
        drop(spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            seen.store(true, Ordering::SeqCst);
        }));
        std::thread::sleep(Duration::from_millis(400));
        assert!(ran.load(Ordering::SeqCst));
        // A panic is the poller's.
        let r = std::panic::catch_unwind(|| block_on(spawn(|| panic!("in the call"))));
        assert!(r.is_err());
    }
}
