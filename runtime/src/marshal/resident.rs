//! Kind `resident`: a pointer to a struct that lives in the host at one address for as long
//! as the client's object does (zlib's `z_stream`, whose address zlib records in its state
//! and checks on every call). The client's object holds a [`Slot`] (the host's id for its
//! copy, 0 until the first call allocates it) and the struct's fields; around each call:
//!
//! - client → host: the id, then what the client sets ([`ResidentValue::put_res`]): the
//!   input buffers (copied into the call's storage, their pointer and count fields set) and
//!   the capacities of the output buffers (storage of that size is given to the library);
//! - host → client after the call: the id, then every field the client sees
//!   ([`ResidentC::reply_res`]): scalars as the library left them, its strings, what is left
//!   of each input buffer and what was produced in each output buffer, both found from how
//!   far the library advanced the pointers (checked against what it was given);
//! - the buffer pointers are then cleared in the host's copy (the call's storage is gone);
//!   the library's own pointers (`opaque` fields) never leave the host.
//!
//! A dropped object queues its id ([`Freed`]); the client sends the ids before its next call
//! and the host runs the end function the last set-up call recorded (`deflateEnd` after
//! `deflateInit_`), then frees the copy (see `host::resident`).

use super::{Keep, Lend};
use crate::wire::{Reader, WireError, Writer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The client's object of a resident struct: its fields as they cross, and its slot.
pub trait ResidentValue {
    /// The hold on the host's copy.
    fn slot(&mut self) -> &mut Slot;
    /// Writes what the client sets before a call.
    fn put_res(&self, w: &mut Writer);
    /// Reads back what the library left.
    fn get_res(&mut self, r: &mut Reader<'_>) -> Result<(), WireError>;
}

/// The host's mirror of a resident struct.
pub trait ResidentC: Copy + Default + 'static {
    /// Reads what the client sets into the resident copy (`keep`: the call's storage).
    fn bind_res(&mut self, r: &mut Reader<'_>, keep: &mut Keep) -> Result<(), WireError>;
    /// Writes what the client sees after a call; `before` is the copy as the library got it.
    /// `library_buffers`: the call used the buffer fields as its own (they come back empty).
    fn reply_res(&self, before: &Self, w: &mut Writer, library_buffers: bool) -> Result<(), WireError>;
    /// Clears the pointers into the call's storage.
    fn unbind_res(&mut self);
}

/// Client: a resident struct's hold on its host copy.
#[derive(Debug, Default)]
pub struct Slot {
    id: u64,
    freed: Option<Arc<Freed>>,
}

impl Slot {
    /// The host's id for the copy (0: none yet).
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let (true, Some(freed)) = (self.id != 0, &self.freed) {
            freed.push(self.id);
        }
    }
}

/// Client: a `Free` frame's payload: the ids of dropped objects.
pub(crate) fn put_freed(w: &mut Writer, ids: &[u64]) {
    w.u32(u32::try_from(ids.len()).unwrap_or(u32::MAX));
    for id in ids {
        w.u64(*id);
    }
}

/// Client: the ids of dropped resident objects, to free in the host before the next call.
#[derive(Debug, Default)]
pub struct Freed {
    any: AtomicBool,
    ids: Mutex<Vec<u64>>,
}

impl Freed {
    pub(crate) fn push(&self, id: u64) {
        self.ids.lock().unwrap_or_else(|e| e.into_inner()).push(id);
        self.any.store(true, Ordering::Release);
    }

    /// The ids queued since the last look (a plain load when there are none).
    pub(crate) fn take(&self) -> Vec<u64> {
        if !self.any.load(Ordering::Relaxed) || !self.any.swap(false, Ordering::Acquire) {
            return Vec::new();
        }
        std::mem::take(&mut *self.ids.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Client: lends the object to the encoder, then the decoder.
pub fn lend<T>(v: &mut T) -> Lend<'_, T> {
    Lend::new(v)
}

/// Client: writes the object's id and what it sets.
pub fn encode<T: ResidentValue>(w: &mut Writer, v: &Lend<'_, T>) {
    v.with(|v| {
        if let Some(v) = v {
            w.u64(v.slot().id);
            v.put_res(w);
        }
    });
}

/// Client: reads the id the host answered with (binding a new object to it) and the fields.
pub fn decode<T: ResidentValue>(
    r: &mut Reader<'_>,
    v: &Lend<'_, T>,
    freed: &Arc<Freed>,
) -> Result<(), WireError> {
    v.with(|v| {
        let v = v.ok_or(WireError::Payload("a resident struct not lent"))?;
        let id = r.u64()?;
        let slot = v.slot();
        if id == 0 || (slot.id != 0 && slot.id != id) {
            return Err(WireError::Payload("a resident struct's reply names another copy"));
        }
        if slot.id == 0 {
            slot.id = id;
            slot.freed = Some(freed.clone());
        }
        v.get_res(r)
    })
}

/// Host: a resident copy bound for one call: its id, its address (from the table, which
/// frees no copy while a call holds it: a `Free` that arrives meanwhile waits for the drop),
/// and the copy as bound.
pub struct Bound<T> {
    id: u64,
    ptr: *mut T,
    before: T,
    /// Allocated by this call, and the client not told its id yet: freed when the call
    /// fails before its reply (the client could never free it).
    fresh: bool,
}

impl<T> Drop for Bound<T> {
    fn drop(&mut self) {
        crate::host::resident::release(self.id, self.fresh);
    }
}

impl<T: ResidentC> Bound<T> {
    /// The host's id for it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// What the library gets.
    pub fn ptr(&self) -> *mut T {
        self.ptr
    }

    /// Right after the call: the copy as the library left it (for [`reply`]); the pointers
    /// into the call's storage are cleared in the resident copy itself.
    pub fn after(&mut self) -> T {
        // SAFETY: `ptr` is the table's live copy of a `T`, held (not freed) while `self`
        // lives; the call that bound it is over.
        unsafe {
            let after = *self.ptr;
            (*self.ptr).unbind_res();
            after
        }
    }
}

/// Host: the copy the client names (a new, zeroed one for id 0) with the client's fields
/// bound into it.
pub fn decode_c<T: ResidentC>(r: &mut Reader<'_>, keep: &mut Keep) -> Result<Bound<T>, WireError> {
    let asked = r.u64()?;
    let (id, ptr) = crate::host::resident::take::<T>(asked)?;
    // SAFETY: `take` returns the live copy of a `T` (allocated for `T`, aligned), held for
    // this call (released when the `Bound` drops, also on the error path below).
    let mut bound = Bound { id, ptr, before: unsafe { *ptr }, fresh: asked == 0 };
    // SAFETY: as above.
    unsafe { (*ptr).bind_res(r, keep)? };
    // SAFETY: as above.
    bound.before = unsafe { *ptr };
    Ok(bound)
}

/// Host: replies with the id and what the library left (`after`, its storage still held).
pub fn reply<T: ResidentC>(
    w: &mut Writer,
    bound: &mut Bound<T>,
    after: &T,
    library_buffers: bool,
) -> Result<(), WireError> {
    w.u64(bound.id);
    after.reply_res(&bound.before, w, library_buffers)?;
    bound.fresh = false;
    Ok(())
}

/// Host: what is left of an input buffer field the library advances (`next_in`, counted
/// down in `avail_in`): the pointer must have moved forward within what it was given, and
/// the count down by as much.
///
/// # Safety
/// `given`/`given_n` are the storage the host bound; `p`/`n` the field as the library left
/// it.
pub unsafe fn reply_rest<T: super::CElem>(
    w: &mut Writer,
    given: *const T,
    given_n: i128,
    p: *const T,
    n: i128,
    what: &'static str,
    library_buffers: bool,
) -> Result<(), WireError> {
    if library_buffers {
        // The library pointed it into its own memory or a buffer a callback handed it
        // (inflateBack leaves there what it did not use): read back only from the latter.
        if p.is_null() || n == 0 {
            w.u8(super::field::ABSENT);
            return Ok(());
        }
        let bytes = usize::try_from(n).ok().and_then(|n| n.checked_mul(std::mem::size_of::<T>().max(1)));
        if !bytes.is_some_and(|b| super::callback::provided_contains(p as usize, b)) {
            return Err(WireError::OutsideBuffer { what });
        }
        // SAFETY: `n` elements at `p`, inside a buffer a callback handed the library in
        // this call (checked above), still kept.
        unsafe { super::field::put_elems_c(w, p, n) };
        return Ok(());
    }
    if p.is_null() && given.is_null() {
        w.u8(super::field::ABSENT);
        return Ok(());
    }
    // Nothing left: where the pointer stands reads nothing (deflateCopy copies the source's
    // pointers into the destination).
    if n == 0 {
        // SAFETY: no element is read.
        unsafe { super::field::put_elems_c(w, given, 0) };
        return Ok(());
    }
    let used = advanced(given, given_n, p, n).ok_or(WireError::OutsideBuffer { what })?;
    // SAFETY: `n` elements from `used` elements into the bound storage: inside it (checked
    // above), and the pointer the library left is that one.
    unsafe { super::field::put_elems_c(w, given.add(used as usize), n) };
    Ok(())
}

/// How many elements `p` lies past `given`, if that is within the `given_n` given and the
/// count `n` left agrees (`given_n` less as many): `None` otherwise, also when `p` is not a
/// whole number of elements away (misaligned). Wrapping arithmetic: a wild pointer gives a
/// count the checks refuse, never an overflow.
fn advanced<T>(given: *const T, given_n: i128, p: *const T, n: i128) -> Option<i128> {
    let size = std::mem::size_of::<T>().max(1) as isize;
    let diff = (p as usize).wrapping_sub(given as usize) as isize;
    let moved = (diff % size == 0).then_some(i128::from(diff as i64) / i128::from(size as i64))?;
    ((0..=given_n).contains(&moved) && n == given_n - moved).then_some(moved)
}

/// Host: what the library produced in an output buffer field it advances (`next_out`, its
/// room counted down in `avail_out`): the elements from the start of the storage to where
/// the pointer moved, which must agree with the count.
///
/// # Safety
/// As [`reply_rest`].
pub unsafe fn reply_produced<T: super::CElem>(
    w: &mut Writer,
    given: *const T,
    given_n: i128,
    p: *const T,
    n: i128,
    what: &'static str,
    library_buffers: bool,
) -> Result<(), WireError> {
    if library_buffers || given.is_null() {
        w.u8(super::field::ABSENT);
        return Ok(());
    }
    // No room given, none left: nothing was produced, wherever the pointer stands.
    if given_n == 0 && n == 0 {
        // SAFETY: no element is read.
        unsafe { super::field::put_elems_c(w, given, 0) };
        return Ok(());
    }
    let made = advanced(given, given_n, p, n).ok_or(WireError::OutsideBuffer { what })?;
    // SAFETY: `made` elements from the start of the storage, inside it (checked above).
    unsafe { super::field::put_elems_c(w, given, made) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_objects_queue_their_ids_once_bound() {
        let freed = Arc::new(Freed::default());
        drop(Slot::default());
        assert!(freed.take().is_empty(), "an object never sent has no copy");
        let mut w = Writer::new();
        w.u64(77);
        let frame = w.payload().to_vec();
        #[derive(Default)]
        struct Nothing(Slot);
        impl ResidentValue for Nothing {
            fn slot(&mut self) -> &mut Slot {
                &mut self.0
            }
            fn put_res(&self, _: &mut Writer) {}
            fn get_res(&mut self, _: &mut Reader<'_>) -> Result<(), WireError> {
                Ok(())
            }
        }
        let mut obj = Nothing::default();
        decode(&mut Reader::new(&frame), &lend(&mut obj), &freed).unwrap();
        assert_eq!(obj.0.id(), 77);
        let mut w = Writer::new();
        w.u64(78);
        let other = w.payload().to_vec();
        assert!(decode(&mut Reader::new(&other), &lend(&mut obj), &freed).is_err(), "another copy");
        drop(obj);
        assert_eq!(freed.take(), [77]);
        assert!(freed.take().is_empty());
    }

    #[test]
    fn advanced_pointers_are_checked_against_what_was_given() {
        let data = [1u8, 2, 3, 4, 5];
        let p = data.as_ptr();
        let mut w = Writer::new();
        // SAFETY: pointers into `data`.
        unsafe {
            reply_rest(&mut w, p, 5, p.add(2), 3, "in", false).unwrap();
            reply_produced(&mut w, p, 5, p.add(4), 1, "out", false).unwrap();
            assert!(reply_rest(&mut w, p, 5, p.add(6), 1, "in", false).is_err(), "past the end");
            assert!(reply_rest(&mut w, p, 5, p.add(2), 2, "in", false).is_err(), "a count that disagrees");
            assert!(
                reply_produced(&mut w, p, 5, p.add(1), 1, "out", false).is_err(),
                "a count that disagrees"
            );
        }
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let rest: Vec<u8> = super::super::field::get_elems(&mut r, 1).unwrap();
        let made: Vec<u8> = super::super::field::get_elems(&mut r, 1).unwrap();
        assert_eq!((rest, made), (vec![3, 4, 5], vec![1, 2, 3, 4]));
    }
}
