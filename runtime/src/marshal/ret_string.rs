//! A returned string (`const char *`): the host replies with a presence flag and the text
//! ([`super::text`]), then frees it when the caller owns it (the spec's free function,
//! called by the generated host); the client gets a `String` (NULL is then empty, or an
//! error when the spec's error rule says so) or an `Option<String>`.

use super::text::{self, Text, TextValue};
use crate::wire::{Reader, WireError, Writer};

/// Host: replies with the string the library returned.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string in `E`.
pub unsafe fn reply<E: Text>(out: &mut Writer, p: *const E::Unit) {
    // SAFETY: the caller's promise.
    unsafe { text::put_c::<E>(out, p) }
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
        let wide: Vec<u16> = "ok".encode_utf16().chain([0]).collect();
        let mut out = Writer::new();
        // SAFETY: NUL-terminated strings, or NULL.
        unsafe {
            reply::<Utf8>(&mut out, c"text".as_ptr().cast());
            reply::<Utf16>(&mut out, wide.as_ptr());
            reply::<Utf8>(&mut out, std::ptr::null());
            reply::<Utf8>(&mut out, std::ptr::null());
        }
        let back = out.payload().to_vec();
        let mut r = Reader::new(&back);
        assert_eq!(decode::<Utf8, String>(&mut r).unwrap(), "text");
        assert_eq!(decode::<Utf16, Option<String>>(&mut r).unwrap().as_deref(), Some("ok"));
        assert_eq!(decode::<Utf8, Option<String>>(&mut r).unwrap(), None);
        assert_eq!(decode::<Utf8, String>(&mut r).unwrap(), "");
        r.finish().unwrap();
    }
}
