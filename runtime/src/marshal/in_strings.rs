//! Kind `in_strings`: an array of NUL-terminated strings the library reads (`const char
//! **argv` with its count `argc`). The client sends the count and each string
//! ([`super::text`]); the host keeps a NUL-terminated copy of each and passes the library
//! an array of pointers to them (with a NULL after the last, which an `argv`-style API may
//! read, not counted).

use super::text::Text;
use crate::wire::{Reader, WireError, Writer};

/// Client: writes the strings.
pub fn encode<E: Text, S: AsRef<str>>(w: &mut Writer, strings: &[S]) {
    w.u32(strings.len() as u32);
    for s in strings {
        E::put(w, s.as_ref());
    }
}

/// The host's copies, and the pointer array the library gets.
pub struct CStrings<E: Text> {
    _copies: Vec<Vec<E::Unit>>,
    pointers: Vec<*const E::Unit>,
}

/// Host: reads the strings (a count the payload cannot hold is refused first).
pub fn decode<E: Text>(r: &mut Reader<'_>) -> Result<CStrings<E>, WireError> {
    let n = super::text::array_len(r)?;
    let copies: Vec<Vec<E::Unit>> = (0..n).map(|_| E::get_c(r)).collect::<Result<_, _>>()?;
    // The heap blocks do not move when `copies` does: the pointers stay valid.
    let pointers = copies.iter().map(|c| c.as_ptr()).chain(std::iter::once(std::ptr::null())).collect();
    Ok(CStrings { _copies: copies, pointers })
}

/// Host: what the library gets.
pub fn ptr<E: Text>(s: &CStrings<E>) -> *const *const E::Unit {
    s.pointers.as_ptr()
}

/// Client: writes an array that may be absent (NULL: a NULL-terminated array the library
/// accepts NULL for).
pub fn encode_optional<E: Text, S: AsRef<str>>(w: &mut Writer, strings: Option<&[S]>) {
    super::optional::put(w, strings, true, |w, s| encode::<E, S>(w, s));
}

/// Host: reads what [`encode_optional`] wrote.
pub fn decode_optional<E: Text>(r: &mut Reader<'_>) -> Result<Option<CStrings<E>>, WireError> {
    super::optional::get(r, true, decode::<E>)
}

/// Host: what the library gets for an array that may be absent.
pub fn ptr_optional<E: Text>(s: &Option<CStrings<E>>) -> *const *const E::Unit {
    s.as_ref().map_or(std::ptr::null(), ptr)
}

#[cfg(test)]
mod tests {
    use super::super::text::{c_units, Utf16, Utf8};
    use super::*;

    #[test]
    fn round_trip() {
        let mut w = Writer::new();
        encode::<Utf8, _>(&mut w, &["a", "", "héllo"]);
        encode::<Utf16, _>(&mut w, &[String::from("wide")]);
        encode::<Utf8, &str>(&mut w, &[]);
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let (a, b, c) = (
            decode::<Utf8>(&mut r).unwrap(),
            decode::<Utf16>(&mut r).unwrap(),
            decode::<Utf8>(&mut r).unwrap(),
        );
        r.finish().unwrap();
        // SAFETY: three NUL-terminated copies and a NULL after them.
        unsafe {
            let p = ptr(&a);
            assert_eq!(
                [c_units(*p), c_units(*p.add(1)), c_units(*p.add(2))],
                [&b"a"[..], b"", "héllo".as_bytes()]
            );
            assert!((*p.add(3)).is_null());
            assert_eq!(String::from_utf16(c_units(*ptr(&b))).unwrap(), "wide");
            assert!((*ptr(&c)).is_null());
        }
        let mut w = Writer::new();
        w.u32(1 << 30);
        assert!(decode::<Utf8>(&mut Reader::new(w.payload())).is_err());
        // Absent, or present and NULL-terminated.
        let mut w = Writer::new();
        encode_optional::<Utf8, &str>(&mut w, None);
        encode_optional::<Utf8, &str>(&mut w, Some(&["fts5"]));
        let frame = w.payload().to_vec();
        let mut r = Reader::new(&frame);
        let (none, some) =
            (decode_optional::<Utf8>(&mut r).unwrap(), decode_optional::<Utf8>(&mut r).unwrap());
        r.finish().unwrap();
        assert!(ptr_optional(&none).is_null());
        // SAFETY: one NUL-terminated copy and the NULL after it.
        unsafe {
            let p = ptr_optional(&some);
            assert_eq!(c_units(*p), b"fts5");
            assert!((*p.add(1)).is_null());
        }
    }
}
