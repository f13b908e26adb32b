//! Kind `in_buffer`: a buffer the library reads, with a length in elements or bytes. The
//! client sends the slice ([`super::elements`]), with a presence flag when optional; the
//! host checks that what came covers the length the library will be told, and passes a
//! pointer to it (in place in the bulk area when large), or NULL.

use super::{optional, CElem, Elem, Keep, Units};
use crate::wire::{Reader, WireError, Writer};
use std::ops::Deref;

/// Client: writes the argument (`&[T]`, or `Option<&[T]>` when optional).
pub fn encode<'a, T: Elem + 'a>(w: &mut Writer, v: impl Into<Option<&'a [T]>>, optional: bool) {
    optional::put(w, v.into(), optional, |w, v| T::put_all(w, v));
}

/// The host's storage of a buffer argument for the call (`None`: absent).
pub type Buffer<T> = Option<<T as CElem>::Store>;

/// Host: reads the argument.
pub fn decode<T: CElem>(r: &mut Reader<'_>, keep: &mut Keep, optional: bool) -> Result<Buffer<T>, WireError> {
    optional::get(r, optional, |r| T::read(r, keep))
}

/// Host: refuses a buffer shorter than the length (`len` in `units`) the library will
/// read, before the call. An absent buffer has no length to cover.
pub fn check<S: Deref<Target = [T]>, T>(
    v: &Option<S>,
    len: u64,
    units: Units,
    elem_size: u64,
) -> Result<(), WireError> {
    covers(v, len, units, elem_size, "an input buffer is shorter than its length")
}

/// `Ok` when `v` (if given) holds the bytes of `len` in `units`; else the error `short`.
pub(crate) fn covers<S: Deref<Target = [T]>, T>(
    v: &Option<S>,
    len: u64,
    units: Units,
    elem_size: u64,
    short: &'static str,
) -> Result<(), WireError> {
    let given = |v: &S| (v.len() as u64).saturating_mul(elem_size);
    match v.as_ref().is_none_or(|v| units.bytes(len, elem_size) <= given(v)) {
        true => Ok(()),
        false => Err(WireError::Payload(short)),
    }
}

/// Host: a heap copy of a buffer the library keeps the pointer to (the call's storage may
/// be the shared region, reused by the next call).
pub fn owned<S: Deref<Target = [T]>, T: Copy>(v: Option<S>) -> Option<Vec<T>> {
    v.map(|s| s.to_vec())
}

/// Host: what the library gets.
pub fn ptr<S: Deref<Target = [T]>, T>(v: &Option<S>) -> *const T {
    v.as_ref().map_or(std::ptr::null(), |v| v.as_ptr())
}

/// Host: replies with where `p`, which the library stored, points into the buffer `v`: the
/// offset in elements (NULL: absent). A pointer outside it, or between elements, is
/// refused naming `what`.
pub fn reply_offset<S: Deref<Target = [T]>, T>(
    out: &mut Writer,
    v: &Option<S>,
    p: *const std::ffi::c_void,
    what: &'static str,
) -> Result<(), WireError> {
    if p.is_null() {
        out.u8(0);
        return Ok(());
    }
    let Some(v) = v else { return Err(WireError::OutsideBuffer { what }) };
    let size = std::mem::size_of::<T>().max(1);
    let offset = (p as usize).wrapping_sub(v.as_ptr() as usize);
    if offset % size != 0 || offset / size > v.len() {
        return Err(WireError::OutsideBuffer { what });
    }
    out.u8(1).u64((offset / size) as u64);
    Ok(())
}

/// Client: reads what [`reply_offset`] wrote; past `len`, the buffer's length, is refused.
pub fn decode_offset(r: &mut Reader<'_>, len: usize) -> Result<Option<usize>, WireError> {
    let got = optional::get(r, true, |r| r.u64())?;
    match got {
        Some(o) if o > len as u64 => Err(WireError::OverCapacity {
            len: o,
            max: len as u64,
            unit: "elements (an offset into an in-buffer)",
        }),
        o => Ok(o.map(|o| o as usize)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CBool, KxLike};
    use super::*;

    #[test]
    fn round_trip() {
        let mut w = Writer::new();
        encode(&mut w, &[1.5f32, 2.5][..], false);
        encode(&mut w, Some(&[true, false, true][..]), true);
        encode::<u8>(&mut w, None, true);
        encode(&mut w, &[KxLike { a: 3, b: -1 }][..], false);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let mut keep = Keep::default();
        let a = decode::<f32>(&mut r, &mut keep, false).unwrap();
        let b = decode::<CBool>(&mut r, &mut keep, true).unwrap();
        let c = decode::<u8>(&mut r, &mut keep, true).unwrap();
        let d = decode::<KxLike>(&mut r, &mut keep, false).unwrap();
        r.finish().unwrap();
        // SAFETY: pointers to the buffers just decoded, read within their lengths.
        unsafe {
            assert_eq!(std::slice::from_raw_parts(ptr(&a), 2), [1.5, 2.5]);
            assert_eq!(std::slice::from_raw_parts(ptr(&b), 3), [CBool(1), CBool(0), CBool(1)]);
            assert_eq!(*ptr(&d), KxLike { a: 3, b: -1 });
        }
        assert!(ptr(&c).is_null());
        // Lengths: 2 elements or 8 bytes are covered; more is refused; absent is fine.
        assert!(check(&a, 2, Units::Elements, 4).is_ok() && check(&a, 8, Units::Bytes, 4).is_ok());
        assert!(check(&a, 3, Units::Elements, 4).is_err() && check(&a, 9, Units::Bytes, 4).is_err());
        assert!(check(&a, u64::MAX, Units::Elements, 4).is_err(), "no overflow");
        assert!(check(&c, 100, Units::Elements, 1).is_ok());
    }
}
