//! A returned pointer to a buffer the library owns (a static table such as zlib's
//! `get_crc_table`), of a length the spec gives: the host copies that many elements out
//! (NULL is absent), the client refuses more than that length and gets a `Vec` (an
//! `Option` when NULL may come back without meaning an error).

use super::{optional, CElem, Elem, Units};
use crate::wire::{Reader, WireError, Writer};

/// Host: replies with `len` elements at `p` (NULL: absent); a length above
/// [`super::MAX_OUT_BUFFER`] is refused.
///
/// # Safety
/// `p` is NULL or points to at least `len` elements (what the spec says the library returns).
pub unsafe fn reply<T: CElem>(
    out: &mut Writer,
    p: *const T,
    len: u64,
    elem_size: u64,
) -> Result<(), WireError> {
    let n = Units::Elements.elements_for(len, elem_size)?;
    let given = (!p.is_null()).then_some(p);
    // SAFETY: the caller's promise: `n` elements at `p`.
    optional::put(out, given, true, |w, p| T::put_all(w, unsafe { std::slice::from_raw_parts(p, n) }));
    Ok(())
}

/// Host: the length a library function reported for its result, refused when negative.
pub fn reported(n: i64) -> Result<u64, WireError> {
    u64::try_from(n).map_err(|_| WireError::Payload("the library reported a negative length for its result"))
}

/// What the client gets: `Vec<T>` (NULL is empty), or `Option<Vec<T>>`.
pub trait Returned<T>: Sized {
    /// From what came back.
    fn from_returned(v: Option<Vec<T>>) -> Self;
}

impl<T> Returned<T> for Vec<T> {
    fn from_returned(v: Option<Vec<T>>) -> Self {
        v.unwrap_or_default()
    }
}

impl<T> Returned<T> for Option<Vec<T>> {
    fn from_returned(v: Option<Vec<T>>) -> Self {
        v
    }
}

/// Client: reads the buffer; more than `len` elements is refused.
pub fn decode<T: Elem, R: Returned<T>>(r: &mut Reader<'_>, len: u64, elem_size: u64) -> Result<R, WireError> {
    let max = Units::Elements.elements_for(len, elem_size)?;
    optional::get(r, true, |r| T::get_at_most(r, max)).map(R::from_returned)
}

/// What the client gets for one value (`returns: { copy: true }`): `T` (NULL is an
/// error), or `Option<T>`.
pub trait ReturnedOne<T>: Sized {
    /// From what came back.
    fn from_one(v: Option<T>) -> Result<Self, WireError>;
}

impl<T: Elem> ReturnedOne<T> for T {
    fn from_one(v: Option<T>) -> Result<Self, WireError> {
        v.ok_or(WireError::Payload("the library returned NULL for a value"))
    }
}

impl<T> ReturnedOne<T> for Option<T> {
    fn from_one(v: Option<T>) -> Result<Self, WireError> {
        Ok(v)
    }
}

/// Client: reads one value the result pointed to.
pub fn decode_one<T: Elem, R: ReturnedOne<T>>(r: &mut Reader<'_>, elem_size: u64) -> Result<R, WireError> {
    let v: Option<Vec<T>> = decode(r, 1, elem_size)?;
    match v {
        None => R::from_one(None),
        Some(v) if v.len() == 1 => R::from_one(v.into_iter().next()),
        Some(_) => Err(WireError::Payload("a returned value that is not one value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        static TABLE: [u32; 4] = [1, 2, 3, 0xdead_beef];
        let mut out = Writer::new();
        // SAFETY: a 4-element table, and NULL.
        unsafe {
            reply(&mut out, TABLE.as_ptr(), 4, 4).unwrap();
            reply::<u32>(&mut out, std::ptr::null(), 4, 4).unwrap();
            reply(&mut out, TABLE.as_ptr(), 4, 4).unwrap();
        }
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(decode::<u32, Vec<u32>>(&mut r, 4, 4).unwrap(), TABLE);
        assert_eq!(decode::<u32, Option<Vec<u32>>>(&mut r, 4, 4).unwrap(), None);
        assert!(decode::<u32, Vec<u32>>(&mut r, 3, 4).is_err(), "more than the spec's length");
        // SAFETY: never read: the length is refused first.
        assert!(unsafe { reply(&mut Writer::new(), TABLE.as_ptr(), 1 << 40, 4) }.is_err());
    }

    #[test]
    fn one_value() {
        static ONE: [u32; 1] = [77];
        let mut out = Writer::new();
        // SAFETY: one element, and NULL twice.
        unsafe {
            reply(&mut out, ONE.as_ptr(), 1, 4).unwrap();
            reply::<u32>(&mut out, std::ptr::null(), 1, 4).unwrap();
            reply::<u32>(&mut out, std::ptr::null(), 1, 4).unwrap();
        }
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(decode_one::<u32, u32>(&mut r, 4).unwrap(), 77);
        assert_eq!(decode_one::<u32, Option<u32>>(&mut r, 4).unwrap(), None);
        assert!(decode_one::<u32, u32>(&mut r, 4).is_err(), "NULL where a value is promised");
    }
}
