//! Struct fields that point somewhere: to elements whose count is a sibling field
//! (`struct { uint32_t count; const int32_t *values; }`) and to one value (`struct node
//! *next`). Each crosses as a tag, then what it points to: `0` NULL, `1` present, `2` refused
//! by the host (with the count the library's struct gave, or a chain of pointers too deep to
//! follow). The host keeps what it builds for the library in the call's [`Keep`]; reading a
//! struct back, it follows the library's pointers, at most [`MAX_DEPTH`] pointers deep and
//! never more than [`super::MAX_OUT_BUFFER`] bytes of elements.

use super::{CElem, CValue, Elem, Keep, Value};
use crate::wire::{Reader, WireError, Writer};
use std::cell::Cell;

pub(crate) const ABSENT: u8 = 0;
const PRESENT: u8 = 1;
const REFUSED: u8 = 2;

/// How many pointer fields deep a value is followed (a linked list's length, each way).
pub const MAX_DEPTH: u32 = 64;

thread_local! {
    /// Pointer fields being followed on this thread, on either side.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Whether one more pointer may be followed.
fn room() -> bool {
    DEPTH.with(Cell::get) < MAX_DEPTH
}

/// Runs `f` one level deeper when `nests` (a buffer of structs), else just runs it.
fn nested<R>(nests: bool, f: impl FnOnce() -> R) -> Option<R> {
    if nests {
        deeper(f)
    } else {
        Some(f())
    }
}

/// Runs `f` one pointer deeper, or gives `None` past [`MAX_DEPTH`]. The depth is restored
/// even if `f` unwinds (the host catches a call's panic and serves the next on this thread).
fn deeper<R>(f: impl FnOnce() -> R) -> Option<R> {
    struct Level(u32);
    impl Drop for Level {
        fn drop(&mut self) {
            DEPTH.with(|c| c.set(self.0));
        }
    }
    let d = DEPTH.with(Cell::get);
    if d >= MAX_DEPTH {
        return None;
    }
    DEPTH.with(|c| c.set(d + 1));
    let _level = Level(d);
    Some(f())
}

const TOO_DEEP: WireError = WireError::Payload("struct pointer fields nested deeper than 64");

/// A buffer field as the client holds it: `Vec<T>` (NULL comes back empty) or
/// `Option<Vec<T>>`.
pub trait ElemsValue<T>: Sized {
    /// The elements, if any.
    fn elems(&self) -> Option<&[T]>;
    /// From what crossed (`None`: NULL).
    fn from_elems(v: Option<Vec<T>>) -> Self;
}

impl<T> ElemsValue<T> for Vec<T> {
    fn elems(&self) -> Option<&[T]> {
        Some(self)
    }
    fn from_elems(v: Option<Vec<T>>) -> Self {
        v.unwrap_or_default()
    }
}

impl<T> ElemsValue<T> for Option<Vec<T>> {
    fn elems(&self) -> Option<&[T]> {
        self.as_deref()
    }
    fn from_elems(v: Option<Vec<T>>) -> Self {
        v
    }
}

/// Client: writes a buffer field.
pub fn put_elems<T: Elem>(w: &mut Writer, v: &impl ElemsValue<T>) {
    match v.elems() {
        None => {
            w.u8(ABSENT);
        }
        // Buffers of structs holding buffers nest: past the depth, the host refuses the call.
        Some(_) if T::NESTS && !room() => {
            w.u8(REFUSED);
            w.u64(0);
        }
        Some(e) => {
            w.u8(PRESENT);
            nested(T::NESTS, || T::put_all(w, e));
        }
    }
}

/// Client: reads a buffer field the host wrote back.
pub fn get_elems<T: Elem, V: ElemsValue<T>>(r: &mut Reader<'_>, elem_size: u64) -> Result<V, WireError> {
    match r.u8()? {
        ABSENT => Ok(V::from_elems(None)),
        PRESENT => {
            let max = super::max_elements(elem_size) as usize;
            Ok(V::from_elems(Some(nested(T::NESTS, || T::get_at_most(r, max)).ok_or(TOO_DEEP)??)))
        }
        REFUSED => Err(refused(r.u64()?, elem_size)),
        _ => Err(WireError::Payload("a bad pointer-field tag")),
    }
}

fn refused(count: u64, elem_size: u64) -> WireError {
    WireError::Reported { count: i128::from(count), capacity: super::max_elements(elem_size) }
}

/// Host: reads a buffer field's elements into `keep`; the pointer for the library and how
/// many there are (for the count field). NULL unless `optional` is refused.
pub fn get_elems_c<T: CElem + 'static>(
    r: &mut Reader<'_>,
    keep: &mut Keep,
    optional: bool,
) -> Result<(*const T, u64), WireError> {
    match r.u8()? {
        ABSENT if optional => Ok((std::ptr::null(), 0)),
        ABSENT => Err(WireError::Payload("a NULL buffer field where the library needs one")),
        REFUSED => Err(TOO_DEEP),
        PRESENT => {
            let store = nested(T::NESTS, || T::read(r, keep)).ok_or(TOO_DEEP)??;
            let (p, n) = (store.as_ptr(), store.len() as u64);
            keep.hold(store);
            Ok((p, n))
        }
        _ => Err(WireError::Payload("a bad pointer-field tag")),
    }
}

/// Host: the count field's value for `n` elements, refused when its type cannot hold it.
pub fn count<C: TryFrom<u64>>(n: u64) -> Result<C, WireError> {
    C::try_from(n).map_err(|_| WireError::Payload("more elements than the count field's type can hold"))
}

/// Host: writes the `n` elements the library's struct points to (`n` as its count field
/// holds it). NULL with no elements crosses as NULL; a negative or too large count, or
/// NULL with a count, is refused.
///
/// # Safety
/// `p` is NULL or points to at least `n` elements (what the struct says).
pub unsafe fn put_elems_c<T: CElem>(w: &mut Writer, p: *const T, n: i128) {
    let most = i128::from(super::max_elements(std::mem::size_of::<T>() as u64));
    match (p.is_null(), n) {
        (true, 0) => {
            w.u8(ABSENT);
        }
        (false, 0..) if n <= most && (!T::NESTS || room()) => {
            w.u8(PRESENT);
            // SAFETY: the caller's promise, `n` within the limit.
            nested(T::NESTS, || T::put_all(w, unsafe { std::slice::from_raw_parts(p, n as usize) }));
        }
        _ => {
            w.u8(REFUSED);
            w.u64(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }
}

/// Host: reads the elements of a flexible array member (`uint32_t count; int32_t
/// values[];`): kept in `keep` until [`super::in_value::decode_flexible`] lays the struct
/// out with them after it; how many there are (for the count field).
pub fn get_flexible_c<T: CElem + 'static>(r: &mut Reader<'_>, keep: &mut Keep) -> Result<u64, WireError> {
    let (p, n) = get_elems_c::<T>(r, keep, true)?;
    keep.set_flexible(p.cast(), n as usize * std::mem::size_of::<T>());
    Ok(n)
}

/// Host: writes the `n` elements of a flexible array member at `offset` from the start of
/// the library's struct `base` (the count as its field holds it; refused as
/// [`put_elems_c`] refuses).
///
/// # Safety
/// `base` is the library's own struct (never a copy), followed by at least `n` elements.
pub unsafe fn put_flexible_c<T: CElem>(w: &mut Writer, base: *const u8, offset: usize, n: i128) {
    // SAFETY: the caller's promise: the elements follow the struct in the library's memory.
    unsafe { put_elems_c(w, base.add(offset).cast::<T>(), n) }
}

thread_local! {
    /// Out-buffer fields the host allocated for the calls running on this thread: address
    /// → how many elements it holds. Reading one back is bounded by it, whatever the
    /// library left in the struct's capacity field.
    static OUT_FIELDS: std::cell::RefCell<std::collections::HashMap<usize, u64>> = Default::default();
    // (the value is the storage's size in bytes)
}

pub(crate) fn forget_out_fields(addresses: &[usize]) {
    // Every call's `Keep` ends here: most registered nothing.
    if addresses.is_empty() {
        return;
    }
    OUT_FIELDS.with(|m| {
        let mut m = m.borrow_mut();
        for a in addresses {
            m.remove(a);
        }
    });
}

/// Host: storage for an out-buffer field of `capacity` elements (the struct's capacity
/// field), kept for the call; refused when negative or over the payload limit.
pub fn out_field_c<T: CElem + 'static>(keep: &mut Keep, capacity: i128) -> Result<*mut T, WireError> {
    let most = i128::from(super::max_elements(std::mem::size_of::<T>() as u64));
    if !(0..=most).contains(&capacity) {
        return Err(WireError::Payload("an out-buffer field's capacity is negative or over 64 MiB"));
    }
    let mut store = vec![T::default(); capacity as usize];
    let p = store.as_mut_ptr();
    let bytes = capacity as u64 * std::mem::size_of::<T>() as u64;
    OUT_FIELDS.with(|m| m.borrow_mut().insert(p as usize, bytes));
    keep.out_fields.push(p as usize);
    keep.hold(store);
    Ok(p)
}

/// Host: writes back what the library filled in an out-buffer field: `filled` elements
/// (`None`: up to the first NUL), never past the storage the host gave. A pointer the
/// library replaced, or a count past what was given, is refused.
///
/// # Safety
/// `p` is the field's pointer as the library left it.
pub unsafe fn put_out_field_c<T: CElem>(w: &mut Writer, p: *const T, filled: Option<i128>) {
    let size = std::mem::size_of::<T>().max(1) as u64;
    let given = OUT_FIELDS.with(|m| m.borrow().get(&(p as usize)).copied()).map(|bytes| bytes / size);
    let n = match (given, filled) {
        (Some(cap), Some(n)) if (0..=i128::from(cap)).contains(&n) => Some(n),
        (Some(cap), None) => {
            // SAFETY: the host's storage of `cap` elements.
            let all = unsafe { std::slice::from_raw_parts(p, cap as usize) };
            Some(all.iter().position(CElem::is_nul).unwrap_or(all.len()) as i128)
        }
        _ => None,
    };
    match n {
        // SAFETY: within the host's storage.
        Some(n) => unsafe { put_elems_c(w, p, n) },
        None => {
            w.u8(REFUSED);
            w.u64(filled.and_then(|n| u64::try_from(n).ok()).unwrap_or(u64::MAX));
        }
    }
}

/// Client: writes a field pointing to one value (`None`: NULL).
pub fn put_one<T: Value>(w: &mut Writer, v: &Option<Box<T>>) {
    match v {
        None => {
            w.u8(ABSENT);
        }
        // Too deep: the host refuses the call rather than the list being cut.
        Some(_) if !room() => {
            w.u8(REFUSED);
        }
        Some(v) => {
            w.u8(PRESENT);
            deeper(|| v.put(w));
        }
    }
}

/// Client: reads a field pointing to one value.
pub fn get_one<T: Value>(r: &mut Reader<'_>) -> Result<Option<Box<T>>, WireError> {
    match r.u8()? {
        ABSENT => Ok(None),
        PRESENT => deeper(|| T::get(r).map(Box::new)).ok_or(TOO_DEEP)?.map(Some),
        REFUSED => Err(TOO_DEEP),
        _ => Err(WireError::Payload("a bad pointer-field tag")),
    }
}

/// Host: reads a field pointing to one value, kept in `keep` for the call. NULL unless
/// `optional` is refused.
pub fn get_one_c<T: CValue + 'static>(
    r: &mut Reader<'_>,
    keep: &mut Keep,
    optional: bool,
) -> Result<*const T, WireError> {
    match r.u8()? {
        ABSENT if optional => Ok(std::ptr::null()),
        ABSENT => Err(WireError::Payload("a NULL pointer field where the library needs one")),
        PRESENT => {
            let v = deeper(|| T::get_c(r, keep)).ok_or(TOO_DEEP)??;
            let b = Box::new(v);
            let p: *const T = &*b;
            keep.hold(b);
            Ok(p)
        }
        REFUSED => Err(TOO_DEEP),
        _ => Err(WireError::Payload("a bad pointer-field tag")),
    }
}

/// Host: writes the value the library's struct points to (NULL crosses as NULL).
///
/// # Safety
/// `p` is NULL or points to a valid `T`.
pub unsafe fn put_one_c<T: CValue>(w: &mut Writer, p: *const T) {
    if p.is_null() {
        w.u8(ABSENT);
    } else if !room() {
        w.u8(REFUSED);
    } else {
        w.u8(PRESENT);
        // SAFETY: the caller's promise.
        deeper(|| unsafe { &*p }.put_c(w));
    }
}

#[cfg(test)]
mod tests {
    use super::super::KxLike;
    use super::*;

    #[test]
    fn buffer_fields_round_trip() {
        let mut w = Writer::new();
        put_elems(&mut w, &vec![3i32, -4, 5]);
        put_elems::<i32>(&mut w, &None::<Vec<i32>>);
        put_elems(&mut w, &Some(vec![KxLike { a: 1, b: 2 }]));
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let mut keep = Keep::default();
        let (p, n) = get_elems_c::<i32>(&mut r, &mut keep, false).unwrap();
        assert_eq!(n, 3);
        assert_eq!(count::<u8>(n).unwrap(), 3);
        assert!(count::<u8>(300).is_err(), "a count the field cannot hold");
        assert_eq!(get_elems_c::<i32>(&mut r, &mut keep, true).unwrap(), (std::ptr::null(), 0));
        let (q, m) = get_elems_c::<KxLike>(&mut r, &mut keep, true).unwrap();
        r.finish().unwrap();

        let mut out = Writer::new();
        // SAFETY: the pointers just made, with their counts; then NULL with no elements.
        unsafe {
            put_elems_c(&mut out, p, i128::from(n));
            put_elems_c(&mut out, q, i128::from(m));
            put_elems_c::<i32>(&mut out, std::ptr::null(), 0);
            put_elems_c::<i32>(&mut out, std::ptr::null(), 2);
            put_elems_c(&mut out, p, -1);
        }
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(get_elems::<i32, Vec<i32>>(&mut r, 4).unwrap(), [3, -4, 5]);
        assert_eq!(
            get_elems::<KxLike, Option<Vec<KxLike>>>(&mut r, 8).unwrap(),
            Some(vec![KxLike { a: 1, b: 2 }])
        );
        assert_eq!(get_elems::<i32, Option<Vec<i32>>>(&mut r, 4).unwrap(), None);
        assert!(
            matches!(get_elems::<i32, Vec<i32>>(&mut r, 4), Err(WireError::Reported { count: 2, .. })),
            "NULL with a count"
        );
        assert!(get_elems::<i32, Vec<i32>>(&mut r, 4).is_err(), "a negative count");
        r.finish().unwrap();
        // A NULL where the library needs elements is refused on the host.
        let mut w = Writer::new();
        put_elems::<i32>(&mut w, &None::<Vec<i32>>);
        let frame = w.payload().to_vec();
        assert!(get_elems_c::<i32>(&mut Reader::new(&frame), &mut keep, false).is_err());
    }

    #[test]
    fn pointer_fields_round_trip_and_stop_at_depth() {
        let mut w = Writer::new();
        put_one(&mut w, &Some(Box::new(7i32)));
        put_one::<i32>(&mut w, &None);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let mut keep = Keep::default();
        let p = get_one_c::<i32>(&mut r, &mut keep, false).unwrap();
        // SAFETY: kept alive by `keep`.
        assert_eq!(unsafe { *p }, 7);
        assert!(get_one_c::<i32>(&mut r, &mut keep, true).unwrap().is_null());
        r.finish().unwrap();
        let mut out = Writer::new();
        // SAFETY: a valid pointer, then NULL.
        unsafe {
            put_one_c(&mut out, p);
            put_one_c::<i32>(&mut out, std::ptr::null());
        }
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(get_one::<i32>(&mut r).unwrap(), Some(Box::new(7)));
        assert_eq!(get_one::<i32>(&mut r).unwrap(), None);
        // Past the depth limit the host refuses to follow.
        let mut out = Writer::new();
        DEPTH.with(|d| d.set(MAX_DEPTH));
        // SAFETY: a valid pointer.
        unsafe { put_one_c(&mut out, p) };
        DEPTH.with(|d| d.set(0));
        let back = out.payload().to_vec();
        assert!(get_one::<i32>(&mut Reader::new(&back)).is_err());
    }

    #[test]
    fn out_buffer_fields_are_read_within_what_was_given() {
        let mut keep = Keep::default();
        let p = out_field_c::<u8>(&mut keep, 8).unwrap();
        assert!(out_field_c::<u8>(&mut keep, -1).is_err());
        // SAFETY: 8 bytes the host just allocated.
        unsafe { std::ptr::copy_nonoverlapping(b"abc\0zzzz".as_ptr(), p, 8) };
        let mut out = Writer::new();
        // SAFETY: the pointer as "the library" left it.
        unsafe {
            put_out_field_c(&mut out, p, Some(3));
            put_out_field_c::<u8>(&mut out, p, None);
            put_out_field_c(&mut out, p, Some(9));
            put_out_field_c(&mut out, p.wrapping_add(1), Some(1));
        }
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(get_elems::<u8, Vec<u8>>(&mut r, 1).unwrap(), b"abc");
        assert_eq!(get_elems::<u8, Vec<u8>>(&mut r, 1).unwrap(), b"abc", "up to the NUL");
        assert!(get_elems::<u8, Vec<u8>>(&mut r, 1).is_err(), "past the capacity");
        assert!(get_elems::<u8, Vec<u8>>(&mut r, 1).is_err(), "a pointer the host did not give");
        drop(keep);
        assert!(OUT_FIELDS.with(|m| m.borrow().is_empty()), "forgotten with the call");
    }
}
