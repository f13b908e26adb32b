//! Kind `in_string`: a NUL-terminated string the library reads. The client sends the text
//! ([`super::text`]), with a presence flag when it is optional; the host passes the library
//! a NUL-terminated copy, or NULL.

use super::optional;
use super::text::Text;
use crate::wire::{Reader, WireError, Writer};

/// Client: writes the argument (`&str`, or `Option<&str>` when optional).
pub fn encode<'a, E: Text>(w: &mut Writer, s: impl Into<Option<&'a str>>, optional: bool) {
    optional::put(w, s.into(), optional, E::put);
}

/// The host's copy of the argument for the call.
pub struct CString<E: Text>(Option<Vec<E::Unit>>);

/// Host: reads the argument.
pub fn decode<E: Text>(r: &mut Reader<'_>, optional: bool) -> Result<CString<E>, WireError> {
    optional::get(r, optional, E::get_c).map(CString)
}

/// Host: what the library gets (NULL when absent).
pub fn ptr<E: Text>(s: &CString<E>) -> *const E::Unit {
    s.0.as_ref().map_or(std::ptr::null(), |v| v.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::super::text::{c_units, Utf16, Utf8};
    use super::*;

    #[test]
    fn round_trip() {
        let mut w = Writer::new();
        encode::<Utf8>(&mut w, "héllo", false);
        encode::<Utf16>(&mut w, Some("wide"), true);
        encode::<Utf8>(&mut w, None, true);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let a = decode::<Utf8>(&mut r, false).unwrap();
        let b = decode::<Utf16>(&mut r, true).unwrap();
        let c = decode::<Utf8>(&mut r, true).unwrap();
        r.finish().unwrap();
        // SAFETY: NUL-terminated copies, alive here.
        unsafe {
            assert_eq!(c_units(ptr(&a)), "héllo".as_bytes());
            assert_eq!(String::from_utf16(c_units(ptr(&b))).unwrap(), "wide");
        }
        assert!(ptr(&c).is_null());
        // An odd number of bytes is not UTF-16.
        assert!(decode::<Utf16>(&mut Reader::new(&[1, 0, 0, 0, 65]), false).is_err());
    }
}
