//! Kind `in`: a pointer to one value the library reads (`const T *`). The client sends the
//! value ([`super::value`]), with a presence flag when optional; the host passes the
//! library a pointer to its decoded copy, or NULL.

use super::{optional, CValue, Keep, Value};
use crate::wire::{Reader, WireError, Writer};

/// What the client passes for an `in` argument: the value (scalars), a reference
/// (structs), or either in an `Option` when optional.
pub trait Pointee<T> {
    /// The value, if given.
    fn pointee(&self) -> Option<&T>;
}

impl<T: Value> Pointee<T> for T {
    fn pointee(&self) -> Option<&T> {
        Some(self)
    }
}

impl<T: Value> Pointee<T> for &T {
    fn pointee(&self) -> Option<&T> {
        Some(*self)
    }
}

impl<T: Value> Pointee<T> for Option<T> {
    fn pointee(&self) -> Option<&T> {
        self.as_ref()
    }
}

impl<T: Value> Pointee<T> for Option<&T> {
    fn pointee(&self) -> Option<&T> {
        *self
    }
}

/// Client: writes the argument.
pub fn encode<T: Value>(w: &mut Writer, v: &impl Pointee<T>, optional: bool) {
    optional::put(w, v.pointee(), optional, |w, v| v.put(w));
}

/// Host: reads the argument (`None`: absent).
pub fn decode<T: CValue>(
    r: &mut Reader<'_>,
    keep: &mut Keep,
    optional: bool,
) -> Result<Option<T>, WireError> {
    optional::get(r, optional, |r| T::get_c(r, keep))
}

/// Host: what the library gets.
pub fn ptr<T>(v: &Option<T>) -> *const T {
    v.as_ref().map_or(std::ptr::null(), |v| v as *const T)
}

/// Client: writes an argument the library keeps past the call (`retain`: zlib's
/// `deflateSetHeader`), never into the shared bulk area, which the next call reuses.
pub fn encode_kept<T: Value>(w: &mut Writer, v: &impl Pointee<T>, optional: bool) {
    let bulk = w.detach_bulk();
    encode(w, v, optional);
    if let Some(b) = bulk {
        w.attach_bulk(b);
    }
}

/// Host: a value the library keeps past the call, with the storage its pointer fields
/// point into, at one heap address for as long as it is kept.
pub struct Kept<T> {
    value: T,
    _storage: Keep,
}

/// Host: reads an argument the library keeps (see [`encode_kept`]) into storage of its own.
pub fn decode_kept<T: CValue>(r: &mut Reader<'_>, optional: bool) -> Result<Option<Box<Kept<T>>>, WireError> {
    let mut storage = Keep::default();
    let v = optional::get(r, optional, |r| T::get_c(r, &mut storage))?;
    Ok(v.map(|value| Box::new(Kept { value, _storage: storage })))
}

/// Host: what the library gets for a kept argument.
pub fn ptr_kept<T>(v: &Option<Box<Kept<T>>>) -> *const T {
    v.as_ref().map_or(std::ptr::null(), |v| &v.value as *const T)
}

/// Host: what the library gets for a kept argument it fills later (`inout` with `retain`).
pub fn ptr_kept_mut<T>(v: &mut Option<Box<Kept<T>>>) -> *mut T {
    v.as_mut().map_or(std::ptr::null_mut(), |v| &mut v.value as *mut T)
}

impl<T> Kept<T> {
    /// The value as the library left it.
    pub(crate) fn value(&self) -> &T {
        &self.value
    }
}

/// A struct ending in a flexible array member, laid out for the library: the struct, then
/// its elements from the member's offset on (8-aligned storage).
pub struct Flexible {
    block: Vec<u64>,
}

/// Host: reads a struct ending in a flexible array member at `offset` (`None`: absent) and
/// lays it out with its elements, which its field read into `keep`.
pub fn decode_flexible<T: CValue + Copy>(
    r: &mut Reader<'_>,
    keep: &mut Keep,
    optional: bool,
    offset: usize,
) -> Result<Option<Flexible>, WireError> {
    let Some(v) = decode::<T>(r, keep, optional)? else { return Ok(None) };
    let (elems, bytes) = keep.take_flexible().unwrap_or((std::ptr::null(), 0));
    let size = std::mem::size_of::<T>();
    let total = size.max(offset.saturating_add(bytes));
    if total as u64 > super::MAX_OUT_BUFFER {
        return Err(WireError::Payload("a struct with its flexible array member over 64 MiB"));
    }
    let mut block = vec![0u64; total.div_ceil(8)];
    let base = block.as_mut_ptr().cast::<u8>();
    // SAFETY: `block` holds `total` bytes, at least the struct's and the elements' after
    // `offset`; the sources are the decoded value and the kept elements.
    unsafe {
        std::ptr::copy_nonoverlapping((&v as *const T).cast::<u8>(), base, size);
        if bytes > 0 {
            std::ptr::copy_nonoverlapping(elems, base.add(offset), bytes);
        }
    }
    Ok(Some(Flexible { block }))
}

/// Host: what the library gets for a struct with a flexible array member.
pub fn ptr_flexible<T>(v: &Option<Flexible>) -> *const T {
    v.as_ref().map_or(std::ptr::null(), |v| v.block.as_ptr().cast::<T>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut w = Writer::new();
        encode::<i32>(&mut w, &7, false);
        encode::<[u16; 2]>(&mut w, &&[1, 2], false);
        encode::<f64>(&mut w, &Some(1.5), true);
        encode::<f64>(&mut w, &None::<&f64>, true);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let mut keep = Keep::default();
        let a = decode::<i32>(&mut r, &mut keep, false).unwrap();
        let b = decode::<[u16; 2]>(&mut r, &mut keep, false).unwrap();
        let c = decode::<f64>(&mut r, &mut keep, true).unwrap();
        let d = decode::<f64>(&mut r, &mut keep, true).unwrap();
        r.finish().unwrap();
        // SAFETY: pointers to the values just decoded.
        unsafe {
            assert_eq!(*ptr(&a), 7);
            assert_eq!(*ptr(&b), [1, 2]);
            assert_eq!(*ptr(&c), 1.5);
        }
        assert!(ptr(&d).is_null());
    }
}
