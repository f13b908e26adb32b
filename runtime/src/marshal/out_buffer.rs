//! Kind `out_buffer`: a buffer the library fills. Nothing is sent for it: its capacity is
//! known to both sides from the call (a length parameter, a constant, an expression), in
//! elements or bytes ([`Units::elements_for`], the same rule on both sides). The host
//! passes zeroed storage (in the reply's bulk area when large) and replies with the part
//! the library filled: all of it, up to the first NUL, or the count the library reported
//! (its return value or an out-parameter), which must lie within the capacity. The client
//! refuses a reply longer than the capacity before it stores anything.

use super::guard::{self, GUARD};
use super::{CElem, Elem, Units};
use crate::wire::{Reader, WireError, Writer};
use std::ops::DerefMut;

/// The host's storage for an out-buffer: its capacity, then a guard of whole elements.
pub struct Out<S> {
    store: S,
    capacity: usize,
}

/// The guard's bytes of `v`'s storage past its capacity.
fn guard_bytes<S: DerefMut<Target = [T]>, T: CElem>(v: &mut Out<S>) -> &mut [u8] {
    let tail = &mut v.store[v.capacity..];
    // SAFETY: the elements past the capacity, as bytes; every bit pattern is a valid value
    // of a `CElem` (numbers, `CBool`, mirrors of them: `CStruct`'s contract).
    unsafe { std::slice::from_raw_parts_mut(tail.as_mut_ptr().cast::<u8>(), std::mem::size_of_val(tail)) }
}

/// Host: zeroed storage for the library to fill, `len` in `units` (refused above
/// [`super::MAX_OUT_BUFFER`]), followed by a guard ([`super::guard`]).
pub fn storage<T: CElem>(
    out: &mut Writer,
    len: u64,
    units: Units,
    elem_size: u64,
) -> Result<Out<T::Store>, WireError> {
    guarded(len, units, elem_size, |n| T::zeroed(out, n))
}

/// Host: zeroed heap storage (never the bulk area, which the next call reuses), as
/// [`storage`]: for a buffer the library keeps past the call (`host::retained`).
pub fn heap<T: CElem>(len: u64, units: Units, elem_size: u64) -> Result<Out<Vec<T>>, WireError> {
    guarded(len, units, elem_size, |n| vec![T::default(); n])
}

/// Storage of `len` in `units` from `alloc` (zeroed elements), with its guard filled.
fn guarded<S: DerefMut<Target = [T]>, T: CElem>(
    len: u64,
    units: Units,
    elem_size: u64,
    alloc: impl FnOnce(usize) -> S,
) -> Result<Out<S>, WireError> {
    let capacity = units.elements_for(len, elem_size)?;
    let guard = GUARD.div_ceil(std::mem::size_of::<T>().max(1)).max(1);
    let mut v = Out { store: alloc(capacity + guard), capacity };
    guard::fill(guard_bytes(&mut v));
    Ok(v)
}

/// Host: where a result pointing into the buffer points, in elements from its start
/// (`gzgets` returns its `buf`): NULL is absent; a pointer outside the capacity, or
/// between elements, is refused (the library returned something else).
pub fn reply_into<S: DerefMut<Target = [T]>, T>(
    out: &mut Writer,
    v: &Out<S>,
    returned: *const T,
    what: &'static str,
) -> Result<(), WireError> {
    if returned.is_null() {
        out.u8(0);
        return Ok(());
    }
    let size = std::mem::size_of::<T>().max(1);
    let offset = (returned as usize).wrapping_sub(v.store.as_ptr() as usize);
    if offset % size != 0 || offset / size > v.capacity {
        return Err(WireError::OutsideBuffer { what });
    }
    out.u8(1).u64((offset / size) as u64);
    Ok(())
}

/// Client: reads what [`reply_into`] wrote, bounded by the capacity asked for.
pub fn decode_into<R: FromOffset>(
    r: &mut Reader<'_>,
    capacity: u64,
    units: Units,
    elem_size: u64,
) -> Result<R, WireError> {
    let max = units.elements_for(capacity, elem_size)? as u64;
    let got = super::optional::get(r, true, |r| r.u64())?;
    if let Some(o) = got.filter(|o| *o > max) {
        return Err(WireError::OverCapacity { len: o, max, unit: "elements (a returned offset)" });
    }
    Ok(R::from_offset(got.map(|o| o as usize)))
}

/// What the client gets for a result pointing into a buffer: `Option<usize>`, or `usize`
/// when NULL is an error (the error rule answers before this is read).
pub trait FromOffset {
    fn from_offset(o: Option<usize>) -> Self;
}

impl FromOffset for Option<usize> {
    fn from_offset(o: Option<usize>) -> Self {
        o
    }
}

impl FromOffset for usize {
    fn from_offset(o: Option<usize>) -> Self {
        o.unwrap_or(0)
    }
}

/// How many times the host grows a buffer and calls again before giving up.
pub const GROW_TRIES: u32 = 4;

/// Host, after a call: the capacity to grow the buffer to when the library says it
/// `needed` more than the `given` capacity (both in the buffer's units), `None` when it
/// did not. Refused after [`GROW_TRIES`] growths (a library that always wants more).
pub fn regrow(
    needed: u64,
    given: u64,
    tries: &mut u32,
    what: &'static str,
) -> Result<Option<u64>, WireError> {
    if needed <= given {
        return Ok(None);
    }
    if *tries >= GROW_TRIES {
        return Err(WireError::StillTooSmall { what, needed, tries: *tries });
    }
    *tries += 1;
    Ok(Some(needed))
}

/// Client: the most elements of `elem_size` bytes a grown buffer's reply may hold.
pub fn grown_limit(elem_size: u64) -> u64 {
    super::max_elements(elem_size)
}

/// Host: what the library gets.
pub fn ptr<S: DerefMut<Target = [T]>, T>(v: &mut Out<S>) -> *mut T {
    v.store.as_mut_ptr()
}

/// How much of an out-buffer the library filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filled {
    /// The whole capacity.
    All,
    /// Up to the first NUL element (the whole capacity when there is none).
    Nul,
    /// The count the library reported, in elements.
    Count(i128),
}

impl Filled {
    /// The count the library reported (a return value or an out-parameter).
    pub fn count<T: TryInto<i128>>(reported: T) -> Filled {
        Filled::Count(reported.try_into().unwrap_or(i128::MAX))
    }
}

/// How many elements of an out-buffer of `capacity` the library filled, from the count it
/// reported: a count above the capacity or below zero is an error, never clamped into a
/// plausible-looking result.
pub fn filled<T: TryInto<i128>>(reported: T, capacity: usize) -> Result<usize, WireError> {
    let count = reported.try_into().unwrap_or(i128::MAX);
    usize::try_from(count)
        .ok()
        .filter(|n| *n <= capacity)
        .ok_or(WireError::Reported { count, capacity: capacity as u64 })
}

/// Host: replies with the filled part; a library that wrote past the capacity (`what`: the
/// function and parameter) fails the call.
pub fn reply<S: DerefMut<Target = [T]>, T: CElem>(
    out: &mut Writer,
    v: &mut Out<S>,
    filled: Filled,
    what: &'static str,
) -> Result<(), WireError> {
    let given = v.capacity * std::mem::size_of::<T>();
    guard::check(guard_bytes(v), what, given)?;
    let v = &v.store[..v.capacity];
    let n = match filled {
        Filled::All => v.len(),
        Filled::Nul => v.iter().position(T::is_nul).unwrap_or(v.len()),
        Filled::Count(c) => self::filled(c, v.len())?,
    };
    T::put_all(out, &v[..n]);
    Ok(())
}

/// What the client returns for an out-buffer: `Vec<T>`, or `String` for a NUL-terminated
/// buffer of bytes (invalid UTF-8 replaced).
pub trait FromReply: Sized {
    /// Reads at most `max` elements.
    fn from_reply(r: &mut Reader<'_>, max: usize) -> Result<Self, WireError>;
}

impl<T: Elem> FromReply for Vec<T> {
    fn from_reply(r: &mut Reader<'_>, max: usize) -> Result<Self, WireError> {
        T::get_at_most(r, max)
    }
}

impl FromReply for String {
    fn from_reply(r: &mut Reader<'_>, max: usize) -> Result<Self, WireError> {
        r.string_at_most(max)
    }
}

/// Client: reads the filled part; more than the capacity (`len` in `units`, as the host
/// allocated it) is refused.
pub fn decode<R: FromReply>(
    r: &mut Reader<'_>,
    len: u64,
    units: Units,
    elem_size: u64,
) -> Result<R, WireError> {
    R::from_reply(r, units.elements_for(len, elem_size)?)
}

#[cfg(test)]
mod tests {
    use super::super::{CBool, KxLike};
    use super::*;

    #[test]
    fn a_buffer_grows_a_few_times_at_most() {
        let mut tries = 0;
        assert_eq!(regrow(16, 16, &mut tries, "f").unwrap(), None, "enough");
        assert_eq!(regrow(17, 16, &mut tries, "f").unwrap(), Some(17));
        for _ in 1..GROW_TRIES {
            assert!(regrow(1000, 17, &mut tries, "f").unwrap().is_some());
        }
        let e = regrow(2000, 1000, &mut tries, "`f` parameter `buf`").unwrap_err();
        assert!(e.to_string().contains("grown 4 times"), "{e}");
        assert_eq!(grown_limit(2), super::super::MAX_OUT_BUFFER / 2);
    }

    #[test]
    fn round_trip() {
        let mut out = Writer::new();
        let mut a = storage::<u16>(&mut out, 4, Units::Elements, 2).unwrap();
        let mut b = storage::<u8>(&mut out, 8, Units::Bytes, 1).unwrap();
        let mut c = storage::<KxLike>(&mut out, 16, Units::Bytes, 8).unwrap();
        let mut d = storage::<CBool>(&mut out, 3, Units::Elements, 1).unwrap();
        assert_eq!((a.capacity, b.capacity, c.capacity, d.capacity), (4, 8, 2, 3));
        assert!(a.store[..4].iter().all(|e| *e == 0), "zeroed");
        // SAFETY: the library's writes, within the capacities.
        unsafe {
            *ptr(&mut a) = 9;
            std::ptr::copy_nonoverlapping(b"hi\0junk".as_ptr(), ptr(&mut b), 7);
            (*ptr(&mut c)).a = 5;
            *ptr(&mut d).add(2) = CBool(1);
        }
        reply(&mut out, &mut a, Filled::count(2u32), "p").unwrap();
        reply(&mut out, &mut b, Filled::Nul, "p").unwrap();
        reply(&mut out, &mut c, Filled::All, "p").unwrap();
        reply(&mut out, &mut d, Filled::All, "p").unwrap();
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(decode::<Vec<u16>>(&mut r, 4, Units::Elements, 2).unwrap(), [9, 0]);
        assert_eq!(decode::<String>(&mut r, 8, Units::Bytes, 1).unwrap(), "hi");
        assert_eq!(
            decode::<Vec<KxLike>>(&mut r, 16, Units::Bytes, 8).unwrap(),
            [KxLike { a: 5, b: 0 }, KxLike::default()]
        );
        assert_eq!(decode::<Vec<bool>>(&mut r, 3, Units::Elements, 1).unwrap(), [false, false, true]);
        r.finish().unwrap();

        // A count the library reports outside the buffer is an error, not a truncation.
        let mut out = Writer::new();
        assert!(matches!(
            reply(&mut out, &mut a, Filled::count(5i32), "p"),
            Err(WireError::Reported { count: 5, capacity: 4 })
        ));
        assert!(matches!(
            reply(&mut out, &mut a, Filled::count(-1i32), "p"),
            Err(WireError::Reported { count: -1, .. })
        ));
        assert!(storage::<u8>(&mut out, 1 << 40, Units::Elements, 1).is_err(), "over 64 MiB");
        // A reply longer than the capacity is refused by the client.
        let mut out = Writer::new();
        reply(&mut out, &mut a, Filled::All, "p").unwrap();
        let back = out.payload().to_vec();
        assert!(decode::<Vec<u16>>(&mut Reader::new(&back), 3, Units::Elements, 2).is_err());
        // A library writing past the capacity: the guard catches it, naming the parameter.
        let mut e = storage::<u32>(&mut Writer::new(), 2, Units::Elements, 4).unwrap();
        // SAFETY: within the guard, which is part of the same storage.
        unsafe { *ptr(&mut e).add(2) = 7 };
        let over = reply(&mut Writer::new(), &mut e, Filled::All, "`f` parameter `buf`");
        assert!(
            matches!(over, Err(WireError::Overrun { what: "`f` parameter `buf`", given: 8 })),
            "{over:?}"
        );
        assert!(
            decode::<Vec<u16>>(&mut Reader::new(&back), 7, Units::Bytes, 2).is_ok(),
            "7 bytes round up to 4 units"
        );
        assert_eq!(filled(64u32, 64).unwrap(), 64);
        assert_eq!(filled(0i32, 64).unwrap(), 0);
    }
}
