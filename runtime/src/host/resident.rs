//! The host's resident structs (see `marshal::resident`): each a zeroed allocation of its
//! mirror type at a fixed address, by an id the client holds. Ids are never reused (this
//! process's random high half, then a counter), so a stale or forged id names nothing.
//! A set-up function records the end function that must run before the copy is freed
//! (`deflateEnd` after `deflateInit_`); the end function clears it.

use crate::host::Library;
use crate::wire::WireError;
use std::alloc::Layout;
use std::collections::HashMap;
use std::sync::Mutex;

struct Entry {
    ptr: usize,
    layout: Layout,
    type_id: std::any::TypeId,
    /// The function to run on it before it is freed (its index).
    end: Option<u32>,
    /// Calls holding it now (a call nested in an event may run beside the library
    /// thread's): it is freed only when none does.
    uses: u32,
    /// The client freed it while a call held it: freed when the last one lets go.
    doomed: bool,
    /// Memory the library works in (`scratch`), freed after the end function.
    kept: Vec<(Option<u32>, std::sync::Arc<Held>)>,
    /// The client it belongs to (a listening host serves several): only it may use or
    /// free it, and it is freed when that client goes away.
    owner: crate::host::kept::Owner,
}

struct Table {
    live: HashMap<u64, Entry>,
}

static TABLE: Mutex<Option<Table>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut Table) -> R) -> R {
    let mut guard = TABLE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(|| Table { live: HashMap::new() }))
}

/// The next id of a host object the client holds (a resident struct, a retained buffer):
/// one counter for both, so a `Free` frame's ids name one object each.
pub(crate) fn next_id() -> u64 {
    static NEXT: std::sync::OnceLock<std::sync::atomic::AtomicU64> = std::sync::OnceLock::new();
    NEXT.get_or_init(|| std::sync::atomic::AtomicU64::new(crate::host::handles::nonce()))
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The copy named `id` (0: a new, zeroed `T`), as (id, address), held until [`release`]. An
/// id this host did not give out, one already freed, or one of another struct type is
/// refused.
pub fn take<T: Copy + Default + 'static>(id: u64) -> Result<(u64, *mut T), WireError> {
    with(|t| {
        if id == 0 {
            let layout = Layout::new::<T>();
            debug_assert!(layout.size() > 0, "a resident struct has fields");
            let p = Box::into_raw(Box::<T>::default());
            let id = next_id();
            t.live.insert(
                id,
                Entry {
                    ptr: p as usize,
                    layout,
                    type_id: std::any::TypeId::of::<T>(),
                    end: None,
                    uses: 1,
                    doomed: false,
                    kept: Vec::new(),
                    owner: crate::host::owner(),
                },
            );
            return Ok((id, p));
        }
        match t.live.get_mut(&id) {
            Some(e) if e.doomed => Err(WireError::BadHandle("a resident struct the client freed")),
            Some(e) if e.owner != crate::host::owner() => {
                Err(WireError::BadHandle("a resident struct of another client"))
            }
            Some(e) if e.type_id == std::any::TypeId::of::<T>() => {
                e.uses += 1;
                Ok((id, e.ptr as *mut T))
            }
            Some(_) => Err(WireError::BadHandle("a resident struct of another type")),
            None => Err(WireError::BadHandle(
                "a resident struct this host does not hold (freed, or from an earlier host process)",
            )),
        }
    })
}

/// Memory kept with a copy.
struct Held(#[allow(dead_code)] Box<dyn std::any::Any>);

// SAFETY: what is held is memory the library works in or reads (numbers, mirror structs
// and the storage they point into); the table that holds it is behind a mutex, and nothing
// here reads it.
unsafe impl Send for Held {}
// SAFETY: as above: nothing reads it, from any thread.
unsafe impl Sync for Held {}

/// Keeps `data` (memory the library works in) with the copy `id`, freed after its end
/// function.
pub fn keep(id: u64, data: Box<dyn std::any::Any + Send>) {
    keep_in(id, None, Held(data));
}

/// Keeps `data`, which the library keeps a pointer to (a header `deflateSetHeader` set), with
/// the copy `id` in `slot` (a function's index): the previous data of that slot is freed
/// (the library points to the new one now), the last when the copy is freed, after its end
/// function.
pub fn keep_slot<T: 'static>(id: u64, slot: u32, data: T) {
    keep_in(id, Some(slot), Held(Box::new(data)));
}

fn keep_in(id: u64, slot: Option<u32>, data: Held) {
    let old = with(|t| {
        let e = t.live.get_mut(&id)?;
        let old =
            slot.and_then(|s| e.kept.iter().position(|(x, _)| *x == Some(s))).map(|i| e.kept.swap_remove(i));
        e.kept.push((slot, std::sync::Arc::new(data)));
        old
    });
    // Freed outside the table's lock.
    drop(old);
}

/// After a call that set up one copy from another (`deflateCopy(dest, source)`: zlib copies
/// its state, and with it the pointers to what the source kept), each of `ids` keeps what
/// the others keep, until it is freed itself.
pub fn share(ids: &[u64]) {
    with(|t| {
        let all: Vec<(Option<u32>, std::sync::Arc<Held>)> =
            ids.iter().filter_map(|id| t.live.get(id)).flat_map(|e| e.kept.iter().cloned()).collect();
        for id in ids {
            if let Some(e) = t.live.get_mut(id) {
                for (slot, held) in &all {
                    if !e.kept.iter().any(|(_, h)| std::sync::Arc::ptr_eq(h, held)) {
                        e.kept.push((*slot, held.clone()));
                    }
                }
            }
        }
    });
}

/// Refuses end function `end` on copy `id` when its set-up recorded another (inflateEnd on
/// a stream inflateBackInit_ set up would free memory that is not the library's).
pub fn check_end(id: u64, end: u32) -> Result<(), WireError> {
    with(|t| match t.live.get(&id).and_then(|e| e.end) {
        Some(e) if e != end => Err(WireError::BadHandle(
            "a resident struct set up by a function whose end function is another one",
        )),
        _ => Ok(()),
    })
}

/// Records (or clears) the end function the copy `id` needs before it is freed.
pub fn set_end(id: u64, end: Option<u32>) {
    with(|t| {
        if let Some(e) = t.live.get_mut(&id) {
            e.end = end;
        }
    });
}

/// The library the host serves, for copies freed when a call lets go of them.
static LIBRARY: std::sync::OnceLock<&'static dyn Library> = std::sync::OnceLock::new();

/// Records the library (before serving).
pub(crate) fn serving(lib: &'static dyn Library) {
    let _ = LIBRARY.set(lib);
}

/// A call is done with copy `id` (see [`take`]): freed now if the client freed it meanwhile,
/// or if `orphan` (the call made it and failed before telling the client).
pub fn release(id: u64, orphan: bool) {
    let gone = with(|t| match t.live.get_mut(&id) {
        Some(e) => {
            e.uses = e.uses.saturating_sub(1);
            e.doomed |= orphan;
            if e.doomed && e.uses == 0 {
                t.live.remove(&id)
            } else {
                None
            }
        }
        None => None,
    });
    if let (Some(e), Some(lib)) = (gone, LIBRARY.get()) {
        end_and_free(*lib, e);
    }
}

/// Frees what client `owner` dropped (a `Free` frame's ids): resident copies here, retained
/// buffers in `host::retained` (one id counter for both).
pub(crate) fn free(lib: &dyn Library, ids: &[u64], owner: crate::host::kept::Owner) {
    crate::host::retained::free(ids, owner);
    free_copies(lib, ids, owner);
}

/// Frees the copies of `ids` client `owner` dropped: each one's end function first, if
/// recorded; one a call holds is freed when that call lets go of it. Another client's are
/// left alone.
fn free_copies(lib: &dyn Library, ids: &[u64], owner: crate::host::kept::Owner) {
    for id in ids {
        let gone = with(|t| match t.live.get_mut(id) {
            Some(e) if e.owner != owner => None,
            Some(e) if e.uses > 0 => {
                e.doomed = true;
                None
            }
            Some(_) => t.live.remove(id),
            None => None,
        });
        if let Some(e) = gone {
            end_and_free(lib, e);
        }
    }
}

/// Frees every copy of client `owner` (it went away), and its retained buffers.
pub(crate) fn free_owner(lib: &dyn Library, owner: crate::host::kept::Owner) {
    crate::host::retained::free_owner(owner);
    let ids: Vec<u64> =
        with(|t| t.live.iter().filter(|(_, e)| e.owner == owner).map(|(id, _)| *id).collect());
    free_copies(lib, &ids, owner);
}

fn end_and_free(lib: &dyn Library, e: Entry) {
    if let Some(end) = e.end {
        lib.end_resident(end, e.ptr as *mut std::ffi::c_void);
    }
    drop(e.kept);
    // SAFETY: allocated by `take` with this layout (a `Box<T>` of that `T`, never zero-sized:
    // a C struct), removed from the table by the caller, so freed once.
    unsafe { std::alloc::dealloc(e.ptr as *mut u8, e.layout) };
}

/// The ids of a `Free` frame.
pub(crate) fn freed_ids(payload: &[u8]) -> Result<Vec<u64>, WireError> {
    let mut r = crate::wire::Reader::new(payload);
    let n = r.u32()?;
    let ids = (0..n.min(1 << 20)).map(|_| r.u64()).collect::<Result<Vec<_>, _>>()?;
    r.finish()?;
    Ok(ids)
}

/// How many copies are live (for tests).
pub fn live() -> usize {
    with(|t| t.live.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Reader, Status, Writer};

    #[derive(Clone, Copy, Default)]
    struct Mirror {
        state: u32,
    }

    /// Records the end functions it is asked to run.
    #[derive(Default)]
    struct Ends(Mutex<Vec<(u32, u32)>>);

    impl Library for Ends {
        fn model_hash(&self) -> u64 {
            0
        }
        fn call(&self, _: u32, _: Reader<'_>, _: &mut Writer) -> Result<Status, WireError> {
            Ok(Status::Ok)
        }
        fn end_resident(&self, end: u32, ptr: *mut std::ffi::c_void) {
            // SAFETY: a `Mirror` copy from `take`, still allocated.
            let state = unsafe { (*ptr.cast::<Mirror>()).state };
            self.0.lock().unwrap().push((end, state));
        }
    }

    #[test]
    fn copies_live_until_freed_and_are_ended_first_when_set_up() {
        let (a, pa) = take::<Mirror>(0).unwrap();
        let (b, _) = take::<Mirror>(0).unwrap();
        assert_ne!(a, b);
        assert_eq!(take::<Mirror>(a).unwrap().1, pa, "the same address every call");
        release(a, false);
        assert!(take::<u64>(a).is_err(), "another struct type");
        assert!(take::<Mirror>(a + 1000).is_err(), "an id never given");
        set_end(a, Some(3));
        let lib = Ends::default();
        free(&lib, &[a, b], 7);
        assert!(take::<Mirror>(a).is_ok(), "another client's are left alone");
        release(a, false);
        free(&lib, &[a, b], 0);
        assert!(lib.0.lock().unwrap().is_empty(), "held by their calls: not freed yet");
        assert!(take::<Mirror>(a).is_err(), "but no new call gets it");
        release(b, false);
        release(a, false);
        // (No library recorded in this test: freed without their end functions.)
        let (c, pc) = take::<Mirror>(0).unwrap();
        release(c, false);
        // SAFETY: the copy `take` returned.
        unsafe { (*pc).state = 7 };
        set_end(c, Some(3));
        free(&lib, &[c], 0);
        assert_eq!(*lib.0.lock().unwrap(), [(3, 7)], "the set-up one is ended, before it is freed");
        assert!(take::<Mirror>(c).is_err(), "freed");
        // What the library keeps a pointer to, by slot: replaced, and freed with the copy.
        let (e, _) = take::<Mirror>(0).unwrap();
        let (a, b) = (std::rc::Rc::new(1), std::rc::Rc::new(2));
        keep_slot(e, 9, a.clone());
        keep_slot(e, 9, b.clone());
        keep_slot(e, 10, a.clone());
        assert_eq!(
            (std::rc::Rc::strong_count(&a), std::rc::Rc::strong_count(&b)),
            (2, 2),
            "the first replaced"
        );
        // A copy set up from it keeps the same, until both are freed.
        let (copy, _) = take::<Mirror>(0).unwrap();
        share(&[copy, e]);
        release(e, false);
        free(&lib, &[e], 0);
        assert_eq!(std::rc::Rc::strong_count(&a), 2, "still kept by the copy");
        release(copy, false);
        free(&lib, &[copy], 0);
        assert_eq!(
            (std::rc::Rc::strong_count(&a), std::rc::Rc::strong_count(&b)),
            (1, 1),
            "freed with the copy"
        );
        // Made by a call that failed before its reply: freed with it.
        let (d, _) = take::<Mirror>(0).unwrap();
        release(d, true);
        assert!(take::<Mirror>(d).is_err(), "an orphan is freed");
        free(&lib, &[c], 0);
        assert_eq!(lib.0.lock().unwrap().len(), 1, "freed once");
    }
}
