//! A string the library points a `char **` at (`char **errmsg`). Nothing is sent; the host
//! passes a pointer to NULL, copies the string right after the call (then frees the
//! library's copy, when the caller owns it, with the spec's function: on every path, the
//! error path included), and replies with a presence flag and the text
//! ([`super::text`]); the client gets an `Option<String>`.

use super::text::{self, Text, TextValue};
use crate::wire::{Reader, WireError, Writer};
use std::ffi::c_void;

/// Host: the storage the library writes the string's address to (a pointer to it is the
/// argument).
pub fn storage() -> *mut c_void {
    std::ptr::null_mut()
}

/// Host: a copy of the string the library stored, taken before it is freed.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string in `E`.
pub unsafe fn take<E: Text>(p: *mut c_void) -> Option<Vec<E::Unit>> {
    // SAFETY: the caller's promise.
    (!p.is_null()).then(|| unsafe { text::c_units::<E::Unit>(p.cast()) }.to_vec())
}

/// Host: a copy of the `n` units the library's string has (it is not NUL-terminated:
/// `sqlite3_keyword_name` reports its length in an out-parameter); more than
/// [`super::MAX_OUT_BUFFER`] bytes is refused.
///
/// # Safety
/// `p` is NULL or points to at least `n` units of `E`.
pub unsafe fn take_units<E: Text>(p: *mut c_void, n: u64) -> Result<Option<Vec<E::Unit>>, WireError> {
    if p.is_null() {
        return Ok(None);
    }
    let unit = std::mem::size_of::<E::Unit>() as u64;
    let n = usize::try_from(n)
        .ok()
        .filter(|n| (*n as u64).saturating_mul(unit) <= super::MAX_OUT_BUFFER)
        .ok_or(WireError::Reported { count: i128::from(n), capacity: super::max_elements(unit) })?;
    // SAFETY: the caller's promise: `n` units at `p`.
    Ok(Some(unsafe { std::slice::from_raw_parts(p as *const E::Unit, n) }.to_vec()))
}

/// Host: replies with the copy.
pub fn reply<E: Text>(out: &mut Writer, s: &Option<Vec<E::Unit>>) {
    text::put_units(out, s.as_deref());
}

/// Client: reads the string.
pub fn decode<E: Text, T: TextValue>(r: &mut Reader<'_>) -> Result<T, WireError> {
    text::get_value::<E, T>(r)
}

#[cfg(test)]
mod tests {
    use super::super::text::{Utf16, Utf8};
    use super::*;

    #[test]
    fn round_trip() {
        let wide: Vec<u16> = "near \"x\"".encode_utf16().chain([0]).collect();
        let mut out = Writer::new();
        // SAFETY: NUL-terminated strings, or NULL.
        let (a, b, c) = unsafe {
            (
                take::<Utf8>(c"no such table: t".as_ptr() as *mut c_void),
                take::<Utf16>(wide.as_ptr() as *mut c_void),
                take::<Utf8>(storage()),
            )
        };
        reply::<Utf8>(&mut out, &a);
        reply::<Utf16>(&mut out, &b);
        reply::<Utf8>(&mut out, &c);
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(decode::<Utf8, Option<String>>(&mut r).unwrap().as_deref(), Some("no such table: t"));
        assert_eq!(decode::<Utf16, Option<String>>(&mut r).unwrap().as_deref(), Some("near \"x\""));
        assert_eq!(decode::<Utf8, Option<String>>(&mut r).unwrap(), None);
        r.finish().unwrap();
    }

    #[test]
    fn a_string_of_a_reported_length() {
        let words = b"SELECTABORT";
        // SAFETY: 11 bytes at `words`; NULL.
        let (first, none) = unsafe {
            (
                take_units::<Utf8>(words.as_ptr() as *mut c_void, 6).unwrap(),
                take_units::<Utf8>(storage(), 9).unwrap(),
            )
        };
        assert_eq!((first.as_deref(), none), (Some(&b"SELECT"[..]), None));
        // A length no string can have is refused before anything is read.
        // SAFETY: refused before `p` is read.
        assert!(unsafe { take_units::<Utf16>(words.as_ptr() as *mut c_void, u64::MAX) }.is_err());
    }
}
