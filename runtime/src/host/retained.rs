//! Retained out-buffers, host side: memory the library goes on writing after the call
//! that passed it returned (an asynchronous transfer, overlapped I/O). The host allocates
//! it (zeroed, followed by a guard) and keeps it by an id the client's token holds
//! (`marshal::retained`). The library holds it until the first of what the spec ties it to
//! happens: the handle that keeps it closes or rebinds its slot (a [`Hold`] in the handle
//! table), the completion callback the call registered fires (a [`Hold`] on the
//! registration, `host::kept`), or the client says the library is done (`explicit`).
//! While the library holds it the client may not read it (the library may be writing);
//! afterwards a read checks the guard (a write past the end is caught) and sends it whole.
//! The memory is freed once both sides let go: the client dropped its token, and the
//! library's hold ended. It is never freed while the library may still write to it.

use super::kept::Owner;
use crate::marshal::out_buffer::{self, Filled, Out};
use crate::marshal::{CElem, CValue, Units};
use crate::wire::{Reader, Status, WireError, Writer};
use std::collections::HashMap;
use std::sync::Mutex;

/// The call id of a read of a retained buffer (a function id no model has).
pub const READ: u32 = u32::MAX;
/// The call id of a read that also ends the library's hold (`explicit`) and frees it.
pub const RELEASE: u32 = u32::MAX - 1;

/// A retained buffer's storage, type-erased.
trait Stored: Send {
    fn reply(&mut self, w: &mut Writer, what: &'static str) -> Result<(), WireError>;
}

impl<T: CElem + Send> Stored for Out<Vec<T>> {
    fn reply(&mut self, w: &mut Writer, what: &'static str) -> Result<(), WireError> {
        out_buffer::reply(w, self, Filled::All, what)
    }
}

/// A value kept for the library to fill in later calls (`inout` with `retain`: the gzip
/// header inflateGetHeader is given), with the storage its pointer fields point into.
struct KeptValue<T>(Box<crate::marshal::in_value::Kept<T>>);

// SAFETY: a mirror struct and the storage it points into, which only the library (during
// calls) and the table's owner (under the table's lock) touch.
unsafe impl<T> Send for KeptValue<T> {}

impl<T: CValue> Stored for KeptValue<T> {
    fn reply(&mut self, w: &mut Writer, _: &'static str) -> Result<(), WireError> {
        self.0.value().put_c(w);
        Ok(())
    }
}

struct Entry {
    store: Box<dyn Stored>,
    what: &'static str,
    owner: Owner,
    /// The library may still write to it.
    held: bool,
    /// The library writes it only during calls (`between_calls`): it may be read between
    /// them while held.
    between_calls: bool,
    /// The client may end the hold (`explicit`).
    explicit: bool,
    /// The client dropped its token.
    dropped: bool,
}

static TABLE: Mutex<Option<HashMap<u64, Entry>>> = Mutex::new(None);

fn with<R>(f: impl FnOnce(&mut HashMap<u64, Entry>) -> R) -> R {
    f(TABLE.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(HashMap::new))
}

/// A buffer prepared for one call, not yet kept (dropped with the call when it fails: the
/// library did not take it).
pub struct Pending<T> {
    out: Out<Vec<T>>,
    what: &'static str,
}

/// Host: zeroed heap storage of `len` in `units` for the library to keep (refused above
/// the out-buffer limit), with its guard. `what`: the function and parameter.
pub fn storage<T: CElem + Send + 'static>(
    len: u64,
    units: Units,
    elem_size: u64,
    what: &'static str,
) -> Result<Pending<T>, WireError> {
    Ok(Pending { out: out_buffer::heap::<T>(len, units, elem_size)?, what })
}

/// Host: what the library gets.
pub fn ptr<T>(p: &mut Pending<T>) -> *mut T {
    out_buffer::ptr(&mut p.out)
}

/// Host, once a call succeeded (before any reply is written): keeps the buffer (the library
/// holds it) and returns its id, for the holds the spec ties it to and for [`reply`].
pub fn keep<T: CElem + Send + 'static>(p: Pending<T>) -> u64 {
    insert(Box::new(p.out), p.what)
}

/// Host: replies with the id of a buffer or value kept for the client.
pub fn reply(out: &mut Writer, id: u64) {
    out.u64(id);
}

/// Host, once a call succeeded: keeps a value the library fills in later calls (an `inout`
/// argument with `retain`, decoded by `in_value::decode_kept`), as [`keep`]. A value not
/// given (NULL) is refused: there is nothing to read back.
pub fn keep_value<T: CValue + 'static>(
    v: Option<Box<crate::marshal::in_value::Kept<T>>>,
    what: &'static str,
) -> Result<u64, WireError> {
    let v = v.ok_or(WireError::Payload("a kept value that was not given"))?;
    Ok(insert(Box::new(KeptValue(v)), what))
}

thread_local! {
    /// The ids kept by the call running on this thread, until its reply is sent: a call
    /// that fails after keeping one (a reply it could not write, a callback's failure)
    /// never tells the client, so they are let go of then (see `host::run_call_at`).
    static FRESH: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Host: where the ids of a call beginning on this thread will start (the outer calls'
/// come before).
pub(crate) fn fresh_mark() -> usize {
    FRESH.with(|f| f.borrow().len())
}

/// Host: a call that began at `mark` ended: the ids it kept, taken off the list (empty,
/// without allocating, when it kept none).
pub(crate) fn fresh_since(mark: usize) -> Vec<u64> {
    FRESH.with(|f| {
        let mut f = f.borrow_mut();
        if f.len() > mark {
            f.split_off(mark)
        } else {
            Vec::new()
        }
    })
}

fn insert(store: Box<dyn Stored>, what: &'static str) -> u64 {
    let id = super::resident::next_id();
    let entry = Entry {
        store,
        what,
        owner: super::owner(),
        held: true,
        between_calls: false,
        explicit: false,
        dropped: false,
    };
    with(|t| t.insert(id, entry));
    FRESH.with(|f| f.borrow_mut().push(id));
    id
}

/// Buffer `id` may be read between calls while the library holds it (it writes it only
/// during calls, on the library thread the read is served on too).
pub fn between_calls(id: u64) {
    with(|t| {
        if let Some(e) = t.get_mut(&id) {
            e.between_calls = true;
        }
    });
}

/// The library's hold on retained buffer `id`: dropped, the library is done with it (the
/// first of a buffer's holds to drop ends it).
#[derive(Debug)]
pub struct Hold(u64);

impl Drop for Hold {
    fn drop(&mut self) {
        let_go(self.0);
    }
}

/// A hold on buffer `id`, for the handle table or a registration to keep.
pub fn hold(id: u64) -> Hold {
    Hold(id)
}

/// The client may end the library's hold on buffer `id` (`explicit`).
pub fn explicit(id: u64) {
    with(|t| {
        if let Some(e) = t.get_mut(&id) {
            e.explicit = true;
        }
    });
}

/// The library is done with buffer `id`: readable now, freed if the client let go.
fn let_go(id: u64) {
    let gone = with(|t| match t.get_mut(&id) {
        Some(e) if e.dropped => t.remove(&id),
        Some(e) => {
            e.held = false;
            None
        }
        None => None,
    });
    drop(gone);
}

/// Serves a read (`READ`) or a release (`RELEASE`) of the buffer whose id `args` holds,
/// for client `owner` on `lane` (0: the library thread): the buffer whole, or a refusal
/// while the library holds it. A `between_calls` one is read while held only on the library
/// thread, where no call of the library runs meanwhile (a call nested in an event is served
/// on the library's own thread, beside it).
pub(crate) fn serve(
    call: u32,
    mut args: Reader<'_>,
    out: &mut Writer,
    owner: Owner,
    lane: u16,
) -> Result<Status, WireError> {
    let id = args.u64()?;
    args.finish()?;
    let release = call == RELEASE;
    let (result, gone) = with(|t| {
        let Some(e) = t.get_mut(&id).filter(|e| e.owner == owner && !e.dropped) else {
            return (
                Err(WireError::BadHandle(
                    "a retained buffer this host does not hold (released, another client's, or from an earlier host process)",
                )),
                None,
            );
        };
        // While the library holds it: read between calls if it writes only during them;
        // released only by the client that may end the hold.
        let allowed = !e.held || if release { e.explicit } else { e.between_calls && lane == 0 };
        if !allowed {
            return (
                Err(WireError::BadHandle(
                    "a retained buffer the library still holds (its completion has not come, or its handle is open): reading it now could see a half-written buffer",
                )),
                None,
            );
        }
        let what = e.what;
        let r = e.store.reply(out, what);
        if release {
            (r, t.remove(&id))
        } else {
            (r, None)
        }
    });
    drop(gone);
    match result {
        Ok(()) => Ok(Status::Ok),
        Err(WireError::BadHandle(what)) => {
            out.clear();
            out.bytes(what.as_bytes());
            Ok(Status::BadHandle)
        }
        Err(e) => Err(e),
    }
}

/// The client `owner` dropped the tokens of `ids`: each buffer is freed now, or when the
/// library's hold ends. Ids this table does not have are left alone (a resident's).
pub(crate) fn free(ids: &[u64], owner: Owner) {
    let gone: Vec<Entry> = with(|t| {
        let mut gone = Vec::new();
        for id in ids {
            match t.get_mut(id) {
                Some(e) if e.owner != owner => {}
                Some(e) if e.held => e.dropped = true,
                Some(_) => gone.extend(t.remove(id)),
                None => {}
            }
        }
        gone
    });
    drop(gone);
}

/// Client `owner` went away: its buffers are freed (those the library holds when it lets go).
pub(crate) fn free_owner(owner: Owner) {
    let ids: Vec<u64> = with(|t| t.iter().filter(|(_, e)| e.owner == owner).map(|(id, _)| *id).collect());
    free(&ids, owner);
}

/// How many retained buffers are live (for tests).
pub fn live() -> usize {
    with(|t| t.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(call: u32, id: u64, owner: Owner) -> (Status, Vec<u8>) {
        let mut w = Writer::new();
        w.u64(id);
        let args = w.payload().to_vec();
        let mut out = Writer::new();
        let status = serve(call, Reader::new(&args), &mut out, owner, 0).unwrap();
        (status, out.payload().to_vec())
    }

    fn kept(bytes: &[u8]) -> u64 {
        let mut p = storage::<u8>(bytes.len() as u64, Units::Bytes, 1, "`f` parameter `buf`").unwrap();
        // SAFETY: within the storage's capacity.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr(&mut p), bytes.len()) };
        keep(p)
    }

    #[test]
    fn readable_once_the_library_lets_go_and_freed_once_both_sides_did() {
        let id = kept(b"abc");
        let (a, b) = (hold(id), hold(id));
        let (status, why) = read(READ, id, 0);
        assert_eq!(status, Status::BadHandle);
        assert!(String::from_utf8_lossy(&why).contains("still holds"));
        assert_eq!(read(RELEASE, id, 0).0, Status::BadHandle, "not the client's to end");
        assert_eq!(read(READ, id, 3).0, Status::BadHandle, "another client's");
        drop(a);
        let (status, back) = read(READ, id, 0);
        assert_eq!(status, Status::Ok);
        let mut r = Reader::new(&back);
        assert_eq!(u8::get_at_most(&mut r, 3).unwrap(), b"abc");
        drop(b);
        assert_eq!(read(READ, id, 0).0, Status::Ok, "the second hold changes nothing");
        free(&[id], 0);
        assert_eq!(read(READ, id, 0).0, Status::BadHandle, "freed");

        // Dropped by the client first: freed when the library lets go.
        let id = kept(b"x");
        let h = hold(id);
        free(&[id], 0);
        assert!(with(|t| t.contains_key(&id)), "the library may still write to it");
        drop(h);
        assert!(!with(|t| t.contains_key(&id)));

        // Written only during calls (`between_calls`): readable while held, never freed then.
        let id = kept(b"q");
        let h = hold(id);
        between_calls(id);
        assert_eq!(read(READ, id, 0).0, Status::Ok);
        assert_eq!(read(RELEASE, id, 0).0, Status::BadHandle, "the library may still write to it");
        drop(h);
        assert_eq!(read(RELEASE, id, 0).0, Status::Ok);

        // Ended by the client (`explicit`): read and freed in one step.
        let id = kept(b"xyz");
        explicit(id);
        let (status, back) = read(RELEASE, id, 0);
        assert_eq!((status, back.len() > 3), (Status::Ok, true));
        assert!(!with(|t| t.contains_key(&id)));
    }

    #[test]
    fn a_write_past_the_end_is_caught_when_read() {
        let mut p = storage::<u32>(2, Units::Elements, 4, "`f` parameter `buf`").unwrap();
        // SAFETY: within the guard, part of the same storage.
        unsafe { *ptr(&mut p).add(2) = 7 };
        let id = keep(p);
        drop(hold(id));
        let mut w = Writer::new();
        w.u64(id);
        let args = w.payload().to_vec();
        let e = serve(READ, Reader::new(&args), &mut Writer::new(), 0, 0).unwrap_err();
        assert!(matches!(e, WireError::Overrun { .. }), "{e:?}");
        free(&[id], 0);
    }

    use crate::marshal::Elem;
}
