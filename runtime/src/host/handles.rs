//! The host's handle table. A handle the library returns crosses to the client as a small
//! id, never as the pointer: an id the client sends back is looked up here, so a closed
//! handle, one from a previous host process, or a made-up number is refused with an error
//! instead of reaching the library as a dangling pointer. Ids are never reused, so a stale
//! id cannot name a new object that happens to get the old address.

use crate::wire::WireError;
use std::collections::{HashMap, HashSet};
use std::ffi::c_void;
use std::sync::Mutex;

struct Table {
    /// The next id: this process's random high half, then a counter.
    next: u64,
    /// (handle type, id) → pointer.
    by_id: HashMap<(u32, u64), usize>,
    /// (handle type, pointer) → id: the same object returned twice keeps its id.
    by_ptr: HashMap<(u32, usize), u64>,
    /// Ids of objects the library keeps owning (returned `borrowed`), which no close
    /// function may be given.
    borrowed: HashSet<(u32, u64)>,
    /// Buffers the library keeps pointers to, by the object that keeps them, with their
    /// slot: freed when it closes, or when the same slot gets another.
    retained: HashMap<(u32, u64), Vec<Slot>>,
    /// Handles lent to running callbacks, with how many lend them ([`lend`]).
    lent: HashMap<(u32, u64), u32>,
}

/// A retained buffer (or kept callback) and the slot it fills (`None`: no slot, kept until
/// the object closes): buffers are `(0, N)`, N a number of the call (a bind index); kept
/// callbacks `(S, 0)`, S the spec's slot number (one per hook).
type Slot = (Option<(u32, i64)>, Kept);

/// A retained buffer: plain data only the library reads.
struct Kept(#[allow(dead_code)] Box<dyn std::any::Any>);

// SAFETY: the data is numbers and mirror structs the library reads; the table that holds
// it is behind a mutex, and nothing here reads it.
unsafe impl Send for Kept {}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

/// A per-process number for the ids' high half, so an id from an earlier host process
/// (the client outlives hosts) names nothing in this one.
pub(crate) fn nonce() -> u64 {
    let t =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut x = t ^ (u64::from(std::process::id()) << 32) ^ (&TABLE as *const _ as u64);
    // splitmix64's finalizer: neighbouring inputs give unrelated outputs.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x | 1) << 32
}

fn with<R>(f: impl FnOnce(&mut Table) -> R) -> R {
    let mut guard = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(|| Table {
        next: nonce(),
        by_id: HashMap::new(),
        by_ptr: HashMap::new(),
        borrowed: HashSet::new(),
        retained: HashMap::new(),
        lent: HashMap::new(),
    }))
}

/// The id for a handle of type `kind` the library gave out (0 for NULL).
pub fn to_client(kind: u32, p: *mut c_void) -> u64 {
    register(kind, p, false)
}

/// The id for a handle the library keeps owning (`sqlite3_db_mutex`): its type's close
/// functions refuse it. An object the client already holds as its own stays its own.
pub fn to_client_borrowed(kind: u32, p: *mut c_void) -> u64 {
    register(kind, p, true)
}

fn register(kind: u32, p: *mut c_void, borrowed: bool) -> u64 {
    if p.is_null() {
        return 0;
    }
    with(|t| {
        if let Some(id) = t.by_ptr.get(&(kind, p as usize)) {
            // Returned as the caller's own after being lent: the caller owns it now.
            if !borrowed {
                t.borrowed.remove(&(kind, *id));
            }
            return *id;
        }
        t.next += 1;
        let id = t.next;
        t.by_id.insert((kind, id), p as usize);
        t.by_ptr.insert((kind, p as usize), id);
        if borrowed {
            t.borrowed.insert((kind, id));
        }
        id
    })
}

/// A handle the library passes a callback, valid during that callback: an object the
/// client already holds keeps its id; one it does not is lent (borrowed, so it cannot be
/// closed) and forgotten when this is dropped, so a closure that kept it gets an error
/// instead of reaching an object the library may have freed or reused.
#[derive(Debug)]
pub struct Lent {
    kind: u32,
    id: u64,
    forget: bool,
}

impl Lent {
    /// Its id (0 for NULL).
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if !self.forget {
            return;
        }
        // Forgotten once no callback lends it any more, unless the client took it as its own
        // meanwhile (a library call returned it) or something was kept on it.
        let kept = with(|t| {
            let key = (self.kind, self.id);
            let n = t.lent.get_mut(&key).map(|n| {
                *n -= 1;
                *n
            });
            if n != Some(0) {
                return None;
            }
            t.lent.remove(&key);
            if !t.borrowed.contains(&key) || t.retained.contains_key(&key) {
                return None;
            }
            t.forget(self.kind, self.id)
        });
        drop(kept);
    }
}

/// Lends the handle `p` of type `kind` for a callback's duration (see [`Lent`]).
pub fn lend(kind: u32, p: *mut c_void) -> Lent {
    if p.is_null() {
        return Lent { kind, id: 0, forget: false };
    }
    with(|t| {
        let key = (kind, p as usize);
        match t.by_ptr.get(&key).copied() {
            // The client's own, or lent already (by a callback on another thread, or an
            // outer one): counted, forgotten when the last lender is done.
            Some(id) if t.lent.contains_key(&(kind, id)) => {
                *t.lent.entry((kind, id)).or_default() += 1;
                Lent { kind, id, forget: true }
            }
            Some(id) => Lent { kind, id, forget: false },
            None => {
                t.next += 1;
                let id = t.next;
                t.by_id.insert((kind, id), p as usize);
                t.by_ptr.insert(key, id);
                t.borrowed.insert((kind, id));
                t.lent.insert((kind, id), 1);
                Lent { kind, id, forget: true }
            }
        }
    })
}

/// Keeps `data`, a buffer the library holds on to, until the object `(kind, id)` closes, or
/// until the same object and `slot` get another (then the previous one is freed, after the
/// call that replaced it returned).
pub fn retain<T: 'static>(kind: u32, id: u64, slot: Option<i64>, data: T) {
    rebind(kind, id, slot.map(|s| (0, s)), Some(data));
}

/// Keeps a callback registration on the object `(kind, id)` in `slot` (its hook): the
/// previous registration of that slot is released, and so is this one when the object
/// closes. `None` (the hook was cleared) only releases the previous one.
pub fn keep(kind: u32, id: u64, slot: u32, registration: Option<super::kept::Registration>) {
    // `u32::MAX`: no slot (`slot: none`): kept beside the others until the object closes.
    let slot = (slot != u32::MAX).then_some((slot, 0));
    rebind(kind, id, slot, registration);
}

fn rebind<T: 'static>(kind: u32, id: u64, slot: Option<(u32, i64)>, data: Option<T>) {
    if id == 0 {
        // No object keeps it: kept for the whole run.
        std::mem::forget(data);
        return;
    }
    let old = with(|t| {
        if data.is_none() && !t.retained.contains_key(&(kind, id)) {
            return None;
        }
        let list = t.retained.entry((kind, id)).or_default();
        let old =
            slot.and_then(|s| list.iter().position(|(x, _)| *x == Some(s))).map(|i| list.swap_remove(i));
        if let Some(data) = data {
            list.push((slot, Kept(Box::new(data))));
        }
        old
    });
    // Released outside the table's lock.
    drop(old);
}

/// How many buffers the object `(kind, id)` keeps.
pub fn retained(kind: u32, id: u64) -> usize {
    with(|t| t.retained.get(&(kind, id)).map_or(0, Vec::len))
}

/// The pointer behind an id given to a function that closes it: as [`from_client`], and a
/// borrowed handle (the library's own) is refused.
pub fn to_close(kind: u32, id: u64, optional: bool) -> Result<*mut c_void, WireError> {
    lookup(kind, id, optional, true)
}

/// The pointer behind an id from the client; an unknown id is an error, and so is 0
/// (NULL) unless the parameter or field is `optional`.
pub fn from_client(kind: u32, id: u64, optional: bool) -> Result<*mut c_void, WireError> {
    lookup(kind, id, optional, false)
}

/// The pointer behind an id, looked up under one lock (`closing`: a borrowed one is refused).
fn lookup(kind: u32, id: u64, optional: bool, closing: bool) -> Result<*mut c_void, WireError> {
    if id == 0 {
        return if optional {
            Ok(std::ptr::null_mut())
        } else {
            Err(WireError::BadHandle("a NULL handle where the library needs one"))
        };
    }
    with(|t| {
        if closing && t.borrowed.contains(&(kind, id)) {
            return Err(WireError::BadHandle(
                "a borrowed handle, which the library owns: it must not be closed",
            ));
        }
        t.by_id
            .get(&(kind, id))
            .map(|p| *p as *mut c_void)
            .ok_or(WireError::BadHandle("a handle that was closed, or that an earlier host process gave"))
    })
}

impl Table {
    /// Forgets the handle `(kind, id)`; what it kept (released by the caller outside the
    /// table's lock).
    fn forget(&mut self, kind: u32, id: u64) -> Option<Vec<Slot>> {
        if let Some(p) = self.by_id.remove(&(kind, id)) {
            self.by_ptr.remove(&(kind, p));
        }
        self.borrowed.remove(&(kind, id));
        self.lent.remove(&(kind, id));
        self.retained.remove(&(kind, id))
    }
}

/// Forgets a handle its close function was just called with.
pub fn closed(kind: u32, id: u64) {
    // What it kept is released outside the table's lock.
    let _kept = with(|t| t.forget(kind, id));
}

/// What several owners keep (a retained input buffer on its handle and on its completion's
/// registration): freed when the first of them lets go, which is when the library is done
/// with it. Each owner holds a clone.
pub struct FirstOf<T>(std::sync::Arc<Mutex<Option<T>>>);

impl<T> FirstOf<T> {
    /// Shares `v`.
    pub fn new(v: T) -> FirstOf<T> {
        FirstOf(std::sync::Arc::new(Mutex::new(Some(v))))
    }
}

impl<T> Clone for FirstOf<T> {
    fn clone(&self) -> Self {
        FirstOf(self.0.clone())
    }
}

impl<T> Drop for FirstOf<T> {
    fn drop(&mut self) {
        let v = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_never_reused() {
        let (a, b) = (0x1000 as *mut c_void, 0x2000 as *mut c_void);
        let ia = to_client(7, a);
        assert!(ia >> 32 != 0, "ids carry this process's nonce");
        assert_eq!(to_client(7, a), ia, "the same object keeps its id");
        let ib = to_client(7, b);
        assert_ne!(ia, ib);
        assert_eq!(from_client(7, ia, false).unwrap(), a);
        assert!(from_client(8, ia, false).is_err(), "another handle type");
        assert!(from_client(7, 999_999, false).is_err(), "a made-up id");
        assert!(from_client(7, 0, true).unwrap().is_null());
        assert!(from_client(7, 0, false).is_err(), "NULL where a handle is needed");
        assert_eq!(to_client(7, std::ptr::null_mut()), 0);
        closed(7, ia);
        assert!(from_client(7, ia, false).is_err(), "a closed handle");
        let again = to_client(7, a);
        assert_ne!(again, ia, "a new object at the old address gets a new id");
        assert_eq!(from_client(7, again, false).unwrap(), a);
    }

    #[test]
    fn what_several_keep_is_freed_when_the_first_lets_go() {
        let v = std::rc::Rc::new(1);
        let a = FirstOf::new(std::rc::Rc::clone(&v));
        let b = a.clone();
        drop(b);
        assert_eq!(std::rc::Rc::strong_count(&v), 1, "freed at the first drop");
        drop(a);
    }

    #[test]
    fn retained_buffers_live_until_their_object_closes_or_their_slot_is_rebound() {
        use std::rc::Rc;
        let stmt = to_client(11, 0x5000 as *mut c_void);
        let (a, b, c) = (Rc::new(1), Rc::new(2), Rc::new(3));
        retain(11, stmt, Some(1), vec![Rc::clone(&a)]);
        retain(11, stmt, Some(2), vec![Rc::clone(&b)]);
        assert_eq!((retained(11, stmt), Rc::strong_count(&a)), (2, 2));
        retain(11, stmt, Some(1), vec![Rc::clone(&c)]);
        assert_eq!((retained(11, stmt), Rc::strong_count(&a)), (2, 1), "slot 1 rebound: its old copy freed");
        closed(11, stmt);
        assert_eq!(
            (retained(11, stmt), Rc::strong_count(&b), Rc::strong_count(&c)),
            (0, 1, 1),
            "freed with the object"
        );
    }

    #[test]
    fn handles_lent_to_a_callback_are_forgotten_after_it_unless_the_client_held_them() {
        let (own, lent) = (0x6000 as *mut c_void, 0x7000 as *mut c_void);
        let o = to_client(12, own);
        let l = {
            let a = lend(12, own);
            let b = lend(12, lent);
            assert_eq!(a.id(), o, "the client's own keeps its id");
            assert_eq!(from_client(12, b.id(), false).unwrap(), lent, "usable during the callback");
            assert!(to_close(12, b.id(), false).is_err(), "but not closed by the client");
            b.id()
        };
        assert!(from_client(12, l, false).is_err(), "gone after the callback");
        assert_eq!(from_client(12, o, false).unwrap(), own, "the client's own stays");
        assert_eq!(lend(12, std::ptr::null_mut()).id(), 0);
        // Lent twice (nested callbacks, or two threads): gone when the last one ends.
        let outer = lend(12, lent);
        let inner = lend(12, lent);
        assert_eq!(outer.id(), inner.id());
        drop(inner);
        assert!(from_client(12, outer.id(), false).is_ok(), "the outer callback still runs");
        let id = outer.id();
        drop(outer);
        assert!(from_client(12, id, false).is_err());
        // Given to the client as its own during the callback: it stays.
        let during = lend(12, lent);
        assert_eq!(to_client(12, lent), during.id(), "returned by a library call");
        let id = during.id();
        drop(during);
        assert_eq!(from_client(12, id, false).unwrap(), lent, "the client's now");
    }

    #[test]
    fn borrowed_handles_are_not_closed() {
        let (lent, own) = (0x3000 as *mut c_void, 0x4000 as *mut c_void);
        let l = to_client_borrowed(9, lent);
        assert_eq!(from_client(9, l, false).unwrap(), lent, "usable as any handle");
        assert!(matches!(to_close(9, l, false), Err(WireError::BadHandle(m)) if m.contains("borrowed")));
        let o = to_client(9, own);
        assert_eq!(to_client_borrowed(9, own), o, "lending what the client owns keeps it owned");
        assert_eq!(to_close(9, o, false).unwrap(), own);
        assert_eq!(to_client(9, lent), l, "given as the caller's own, it may be closed");
        assert_eq!(to_close(9, l, false).unwrap(), lent);
        assert!(to_close(9, 0, true).unwrap().is_null());
    }
}
