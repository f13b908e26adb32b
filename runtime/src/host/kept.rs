//! Kept callbacks, host side. A closure the library keeps past the call it was passed to
//! lives in the client, under a registration id; the library gets, as the callback's
//! context pointer, the address of a small record the host allocated for that id. A
//! trampoline maps the context back to the id through the table of live records (it
//! never dereferences what the library passes), so a context the host does not know (one
//! already released, or garbage) is refused instead of reaching a closure.
//!
//! A record is released when its scope ends: the library calls the destroy-notify
//! parameter ([`release_context`]), the handle that keeps it closes or rebinds the slot
//! ([`crate::host::handles::keep`]), or the call that registered it failed. Released ids
//! are queued and sent to the client (a `Release` frame) before the next `Return`, and the
//! client drops the closures then.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Which client a registration belongs to: 0 for the host's one client, a connection's
/// number for a listening host (whose clients each number their registrations).
pub type Owner = usize;

/// Live records: address → (owner, registration id).
static LIVE: Mutex<Option<HashMap<usize, (Owner, u32)>>> = Mutex::new(None);
/// Registrations released and not yet told to their clients.
static RELEASED: Mutex<Vec<(Owner, u32)>> = Mutex::new(Vec::new());
/// Whether `RELEASED` may hold any: a `Return` with nothing to tell locks nothing.
static ANY_RELEASED: AtomicBool = AtomicBool::new(false);

fn live<R>(f: impl FnOnce(&mut HashMap<usize, (Owner, u32)>) -> R) -> R {
    f(LIVE.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new))
}

/// One registration's record: its address is the context the library gets. Dropped, it is
/// released (the client is told); [`Registration::leak`] hands it to the library instead.
/// A record's memory is never freed (4 bytes per registration): its address stays unique
/// for the host's lifetime, so a stale context the library passes later can never name a
/// newer registration at a reused address.
#[derive(Debug)]
pub struct Registration {
    record: *mut u32,
}

// SAFETY: the record is a heap allocation nothing frees or reads: its address is only a
// key.
unsafe impl Send for Registration {}

impl Registration {
    /// A record for the registration `id` of client `owner` (`None` for 0: no closure
    /// given).
    pub fn new(owner: Owner, id: u32) -> Option<Registration> {
        if id == 0 {
            return None;
        }
        let record = Box::into_raw(Box::new(id));
        live(|t| t.insert(record as usize, (owner, id)));
        Some(Registration { record })
    }

    /// The context pointer the library gets.
    pub fn context(&self) -> *mut c_void {
        self.record.cast()
    }

    /// Gives the record to the library: it stays live until [`release_context`] (a
    /// destroy-notify) or, if never released, for the host's lifetime.
    pub fn leak(self) -> *mut c_void {
        let p = self.context();
        std::mem::forget(self);
        p
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        release_context(self.record.cast());
    }
}

/// The context of an optional registration (NULL when no closure was given).
pub fn context(r: &Option<Registration>) -> *mut c_void {
    r.as_ref().map_or(std::ptr::null_mut(), Registration::context)
}

/// Hands an optional registration to the library (see [`Registration::leak`]).
pub fn leak(r: Option<Registration>) -> *mut c_void {
    r.map_or(std::ptr::null_mut(), Registration::leak)
}

/// The registration (its client and id) a context pointer from the library names, if it
/// is live.
pub fn id_of(context: *mut c_void) -> Option<(Owner, u32)> {
    live(|t| t.get(&(context as usize)).copied())
}

/// What registrations hold until their callback first fires or they are released (the
/// holds on retained buffers a completion callback ends, and input buffers kept until
/// then), by context address; and the live registrations whose callback fired already, so
/// that a hold the call that registered it adds afterwards (the library completed on a
/// thread of its own before the call returned) ends at once.
static HOLDS: Mutex<Option<Holds>> = Mutex::new(None);

#[derive(Default)]
struct Holds {
    held: HashMap<usize, Vec<Held>>,
    fired: std::collections::HashSet<usize>,
}

/// Something a registration holds.
struct Held(#[allow(dead_code)] Box<dyn std::any::Any>);

// SAFETY: what is held is a `retained::Hold` (an id) or an input buffer's data (numbers
// and mirror structs the library reads); the map that holds it is behind a mutex, and
// nothing here reads it.
unsafe impl Send for Held {}

fn holds<R>(f: impl FnOnce(&mut Holds) -> R) -> R {
    f(HOLDS.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Holds::default))
}

/// Keeps `data` (plain memory the library reads, or a `retained::Hold`: generated code,
/// which may drop it on another thread) until the registration at `context` fires its
/// callback or is released;
/// dropped now if it fired already or is not live. The check and the insert are one step
/// under the holds' lock, and a release removes the record before it looks here: nothing is
/// left on a registration that is gone.
pub fn hold<T: 'static>(context: *mut c_void, data: T) {
    let refused = holds(|h| {
        if !h.fired.contains(&(context as usize)) && live(|t| t.contains_key(&(context as usize))) {
            h.held.entry(context as usize).or_default().push(Held(Box::new(data)));
            None
        } else {
            Some(data)
        }
    });
    drop(refused);
}

/// The library called the callback of the registration at `context`: what it held until
/// then is let go (before the closure runs, so the closure may read the buffer).
pub fn fired(context: *mut c_void) {
    let gone = holds(|h| {
        if live(|t| t.contains_key(&(context as usize))) {
            h.fired.insert(context as usize);
        }
        h.held.remove(&(context as usize))
    });
    drop(gone);
}

/// Forgets what is held for a registration being released.
fn released(context: *mut c_void) {
    let gone = holds(|h| {
        h.fired.remove(&(context as usize));
        h.held.remove(&(context as usize))
    });
    drop(gone);
}

/// Releases the record at `context` (a destroy-notify fired, or its owner let go of it):
/// the client is told, and the record is freed. Whether it was live (a context the host
/// does not know is left alone).
pub fn release_context(context: *mut c_void) -> bool {
    let key = live(|t| t.remove(&(context as usize)));
    released(context);
    let Some(key) = key else { return false };
    RELEASED.lock().unwrap_or_else(|e| e.into_inner()).push(key);
    ANY_RELEASED.store(true, Ordering::Release);
    true
}

/// The ids of `owner`'s registrations released since it was last told (sent to the client
/// before a `Return`).
pub(crate) fn take_released(owner: Owner) -> Vec<u32> {
    if !ANY_RELEASED.load(Ordering::Acquire) {
        return Vec::new();
    }
    let mut all = RELEASED.lock().unwrap_or_else(|e| e.into_inner());
    let mut mine = Vec::new();
    all.retain(|&(o, id)| {
        if o == owner {
            mine.push(id);
        }
        o != owner
    });
    ANY_RELEASED.store(!all.is_empty(), Ordering::Release);
    mine
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_map_contexts_to_ids_until_released() {
        assert!(Registration::new(5, 0).is_none());
        let a = Registration::new(5, 41).unwrap();
        let ctx = a.context();
        assert_eq!(id_of(ctx), Some((5, 41)));
        assert_eq!(id_of(std::ptr::null_mut()), None);
        assert_eq!(id_of(0x1234 as *mut c_void), None, "an address no record has");
        drop(a);
        assert_eq!(id_of(ctx), None);
        let b = Registration::new(5, 42).unwrap().leak();
        assert_eq!(id_of(b), Some((5, 42)), "leaked to the library: still live");
        assert!(release_context(b));
        assert!(!release_context(b), "released once");
        drop(Registration::new(6, 43));
        assert_eq!(take_released(5), [41, 42]);
        assert_eq!(take_released(6), [43], "each client hears of its own");
        assert!(take_released(5).is_empty());
    }
}
