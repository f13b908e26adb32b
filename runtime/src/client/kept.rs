//! Kept callbacks, client side: the closures the library may call after the call they were
//! passed to returned, by registration id, until the host says the library let go of them
//! (a `Release` frame: a destroy-notify fired, the handle that kept them closed, the hook
//! was replaced, or the registering call failed), or the host is gone.
//!
//! One registration holds the closures one call passed with one context pointer (sqlite3's
//! `xStep` and `xFinal` share one), each under its callback's id. A closure is taken out
//! of the registry while it runs, so it may call into the library (whose callbacks may run
//! other closures) with no lock held; one that is re-entered while it runs cannot answer.

use crate::wire::WireError;
use std::any::Any;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;

/// A kept closure, type-erased: a `Box<dyn FnMut(..) + Send>`.
pub type Erased = Box<dyn Any + Send>;

/// A registration's closures by callback id (`None` while one runs).
type Closures = Vec<(u32, Option<Erased>)>;

/// The registry of one client.
#[derive(Default)]
pub struct Registry {
    next: AtomicU32,
    live: Mutex<HashMap<u32, Closures>>,
    /// Released closures, dropped by [`Registry::bury`] once the client holds no lock (a
    /// closure's captures may call the library when dropped).
    dead: Mutex<Vec<Closures>>,
    /// Whether `dead` may hold any (so a call that released nothing locks nothing).
    any_dead: AtomicBool,
    /// Why callbacks fired outside any call could not answer (no call to fail), and how
    /// many more were not kept.
    failures: Mutex<(Vec<String>, usize)>,
}

/// Failures kept for [`Registry::take_failures`]; later ones are only counted.
const MAX_FAILURES: usize = 64;

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u32, Closures>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers the closures one call passes (each with its callback's id); the id the
    /// host is sent (0 when there are none: no closure was given).
    pub fn register(&self, closures: Vec<(u32, Erased)>) -> u32 {
        if closures.is_empty() {
            return 0;
        }
        let id = loop {
            let id = self.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if id != 0 {
                break id;
            }
        };
        self.lock().insert(id, closures.into_iter().map(|(cb, c)| (cb, Some(c))).collect());
        id
    }

    /// Runs callback `cb` of registration `id` (a `Box<F>`) with `f`. The failure the
    /// library hears of (its callback gets the default result): the registration was
    /// released, its closure is running already, or it panicked.
    pub fn run<F: ?Sized + 'static, R>(
        &self,
        id: u32,
        cb: u32,
        f: impl FnOnce(&mut F) -> R,
    ) -> Result<R, WireError> {
        let taken = {
            let mut live = self.lock();
            let slot = live.get_mut(&id).and_then(|v| v.iter_mut().find(|(c, _)| *c == cb));
            match slot {
                None => {
                    return Err(WireError::Callback(format!(
                        "callback {cb} of registration {id} was released (its closure was dropped)"
                    )))
                }
                Some((_, c)) => c.take(),
            }
        };
        let Some(mut closure) = taken else {
            return Err(WireError::Callback(format!(
                "callback {cb} of registration {id} was called again while it runs (from the library, inside itself)"
            )));
        };
        let result = match closure.downcast_mut::<Box<F>>() {
            Some(boxed) => catch_unwind(AssertUnwindSafe(|| f(boxed))).map_err(|panic| {
                let message = crate::panic_message(panic.as_ref());
                WireError::Callback(format!("the closure of callback {cb} panicked: {message}"))
            }),
            None => Err(WireError::Payload("a kept closure of another type")),
        };
        // Back in place, unless it was released while it ran (then it is dropped here).
        let back = {
            let mut live = self.lock();
            match live.get_mut(&id).and_then(|v| v.iter_mut().find(|(c, _)| *c == cb)) {
                Some((_, slot)) => {
                    *slot = Some(closure);
                    None
                }
                None => Some(closure),
            }
        };
        drop(back);
        result
    }

    /// Drops the closures of the registrations the library let go of.
    pub(crate) fn release(&self, ids: &[u32]) {
        let gone: Vec<_> = {
            let mut live = self.lock();
            ids.iter().filter_map(|id| live.remove(id)).collect()
        };
        self.dead.lock().unwrap_or_else(|e| e.into_inner()).extend(gone);
        self.any_dead.store(true, Ordering::Release);
    }

    /// Drops every closure (the host that held their registrations is gone).
    pub(crate) fn clear(&self) {
        let gone = std::mem::take(&mut *self.lock());
        self.dead.lock().unwrap_or_else(|e| e.into_inner()).extend(gone.into_values());
        self.any_dead.store(true, Ordering::Release);
    }

    /// Drops the released closures (called with no lock of the client held).
    pub fn bury(&self) {
        // A plain load first: the common call released nothing and writes no shared line.
        if !self.any_dead.load(Ordering::Relaxed) || !self.any_dead.swap(false, Ordering::Acquire) {
            return;
        }
        let dead = std::mem::take(&mut *self.dead.lock().unwrap_or_else(|e| e.into_inner()));
        drop(dead);
    }

    /// Records why a callback fired outside any call could not answer.
    pub(crate) fn fail(&self, why: String) {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if f.0.len() < MAX_FAILURES {
            f.0.push(why);
        } else {
            f.1 += 1;
        }
    }

    /// The failures of callbacks fired outside any call (by threads of the library's
    /// own) since the last look: the library got their default results. Past 64, the last
    /// entry says how many more there were.
    pub fn take_failures(&self) -> Vec<String> {
        let (mut kept, more) = std::mem::take(&mut *self.failures.lock().unwrap_or_else(|e| e.into_inner()));
        if more > 0 {
            kept.push(format!("and {more} more"));
        }
        kept
    }

    /// How many registrations are live.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    type Hook = dyn FnMut(i32) -> i32 + Send;

    fn erase(f: Box<Hook>) -> Erased {
        Box::new(f)
    }

    #[test]
    fn closures_run_until_released() {
        let reg = Registry::default();
        assert_eq!(reg.register(Vec::new()), 0);
        let alive = Arc::new(());
        let held = alive.clone();
        let id = reg.register(vec![(3, erase(Box::new(move |n| n + Arc::strong_count(&held) as i32)))]);
        assert_ne!(id, 0);
        assert_eq!(reg.run::<Hook, _>(id, 3, |f| f(10)).unwrap(), 12);
        assert!(reg.run::<Hook, _>(id, 4, |f| f(10)).is_err(), "another callback id");
        reg.release(&[id]);
        assert_eq!(Arc::strong_count(&alive), 2, "released: dropped only once buried");
        reg.bury();
        assert_eq!(Arc::strong_count(&alive), 1, "released: the closure was dropped");
        let e = reg.run::<Hook, _>(id, 3, |f| f(1)).unwrap_err();
        assert!(e.to_string().contains("released"), "{e}");
    }

    #[test]
    fn a_panic_or_a_re_entry_is_a_failure_and_the_closure_stays() {
        let reg = Arc::new(Registry::default());
        let id = reg.register(vec![(1, erase(Box::new(|n| if n < 0 { panic!("negative {n}") } else { n })))]);
        let e = reg.run::<Hook, _>(id, 1, |f| f(-1)).unwrap_err();
        assert!(e.to_string().contains("panicked: negative -1"), "{e}");
        assert_eq!(reg.run::<Hook, _>(id, 1, |f| f(5)).unwrap(), 5);
        let inner = reg.clone();
        let nested = reg.run::<Hook, _>(id, 1, |_| inner.run::<Hook, _>(id, 1, |f| f(1))).unwrap();
        assert!(nested.unwrap_err().to_string().contains("again while it runs"));
        // Released while it runs: dropped once it returns.
        let inner = reg.clone();
        reg.run::<Hook, _>(id, 1, |_| inner.release(&[id])).unwrap();
        assert!(reg.is_empty());
    }
}
