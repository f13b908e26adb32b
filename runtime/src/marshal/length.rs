//! Kinds `length` and `out_length`. A length parameter the client does not see: the
//! client works it out from the buffer it sizes (its length, or the capacity the caller
//! asked for, in the buffer's units) and sends it as a `u64`; the host converts it to the
//! C type, refusing what does not fit. An out-length is storage the library writes how
//! much of an out-buffer it filled to ([`super::out_buffer::Filled`]); nothing crosses
//! for it. Also the checked arithmetic of length expressions.

use super::Units;
use crate::wire::{Reader, WireError, Writer};

/// Something a hidden length can be taken from: a buffer argument (absent: 0) or an
/// out-buffer's capacity in elements.
pub trait Counted {
    /// Its length in elements.
    fn count(&self) -> usize;
}

impl<T> Counted for &[T] {
    fn count(&self) -> usize {
        self.len()
    }
}

impl<T> Counted for &mut [T] {
    fn count(&self) -> usize {
        self.len()
    }
}

impl<T> Counted for Option<&[T]> {
    fn count(&self) -> usize {
        self.map_or(0, <[T]>::len)
    }
}

impl<T> Counted for Option<&mut [T]> {
    fn count(&self) -> usize {
        self.as_ref().map_or(0, |v| v.len())
    }
}

impl Counted for usize {
    fn count(&self) -> usize {
        *self
    }
}

/// Client: the length of `of` in `units` (elements of `elem_size` bytes).
pub fn of(of: &impl Counted, units: Units, elem_size: u64) -> u64 {
    units.of(of.count(), elem_size)
}

/// Client: writes the length.
pub fn encode(w: &mut Writer, len: u64) {
    w.u64(len);
}

/// Host: reads the length as the C type, refused when it does not fit.
pub fn decode<T: TryFrom<u64>>(r: &mut Reader<'_>) -> Result<T, WireError> {
    fit(r.u64()?)
}

/// Host: the storage of an out-length (a pointer to it is the argument).
pub fn storage<T: Default>() -> T {
    T::default()
}

/// A length as the C type, refused when it does not fit.
pub fn fit<T: TryFrom<u64>>(v: u64) -> Result<T, WireError> {
    T::try_from(v).map_err(|_| WireError::Payload("a length does not fit the C type"))
}

/// A computed length (`None`: it overflowed or divided by zero), refused unless it is a
/// count: not negative, within `u64`.
pub fn checked(v: Option<i128>) -> Result<u64, WireError> {
    v.and_then(|v| u64::try_from(v).ok())
        .ok_or(WireError::Payload("a length expression overflows, divides by zero or is negative"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data = [1u32, 2, 3];
        let mut w = Writer::new();
        encode(&mut w, of(&&data[..], Units::Elements, 4));
        encode(&mut w, of(&&data[..], Units::Bytes, 4));
        encode(&mut w, of(&None::<&[u32]>, Units::Bytes, 4));
        encode(&mut w, of(&10usize, Units::Bytes, 2));
        encode(&mut w, 300);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        assert_eq!(decode::<i32>(&mut r).unwrap(), 3);
        assert_eq!(decode::<u32>(&mut r).unwrap(), 12);
        assert_eq!(decode::<u16>(&mut r).unwrap(), 0);
        assert_eq!(decode::<u64>(&mut r).unwrap(), 20);
        assert!(decode::<u8>(&mut r).is_err(), "300 does not fit a u8");
        assert_eq!(storage::<i32>(), 0);
        assert_eq!(checked(Some(7)).unwrap(), 7);
        assert!(checked(Some(-1)).is_err() && checked(None).is_err() && checked(Some(1 << 70)).is_err());
    }
}
