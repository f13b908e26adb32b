//! Small conversions generated hosts use around each call (kept here, not in templates,
//! so they are written and tested once).

use crate::wire::WireError;

/// A length from the client as the C type, refused when it does not fit.
pub fn fit<T: TryFrom<u64>>(v: u64) -> Result<T, WireError> {
    T::try_from(v).map_err(|_| WireError::Payload("a length does not fit the C type"))
}

/// The bytes of a NUL-terminated C string (without the NUL).
///
/// # Safety
/// `p` points to a NUL-terminated string that outlives the result.
pub unsafe fn c_bytes<'a>(p: *const u8) -> &'a [u8] {
    let mut n = 0;
    while *p.add(n) != 0 {
        n += 1;
    }
    std::slice::from_raw_parts(p, n)
}

/// The units of a NUL-terminated UTF-16 string (without the NUL).
///
/// # Safety
/// `p` points to a NUL-terminated UTF-16 string that outlives the result.
pub unsafe fn c_units<'a>(p: *const u16) -> &'a [u16] {
    let mut n = 0;
    while *p.add(n) != 0 {
        n += 1;
    }
    std::slice::from_raw_parts(p, n)
}

/// A string argument with its NUL added.
pub fn with_nul(b: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.len() + 1);
    v.extend_from_slice(b);
    v.push(0);
    v
}

/// A UTF-16 argument (sent as little-endian units) with its NUL added.
pub fn units_with_nul(b: &[u8]) -> Vec<u16> {
    let mut v: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    v.push(0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(fit::<u32>(5).unwrap(), 5);
        assert!(fit::<u8>(300).is_err());
        assert_eq!(with_nul(b"ab"), b"ab\0");
        assert_eq!(units_with_nul(&[0x41, 0, 0x42, 0]), [0x41, 0x42, 0]);
        let s = b"hello\0";
        // SAFETY: a NUL-terminated literal.
        assert_eq!(unsafe { c_bytes(s.as_ptr()) }, b"hello");
        let u = [0x68u16, 0x69, 0];
        // SAFETY: NUL-terminated units.
        assert_eq!(unsafe { c_units(u.as_ptr()) }, [0x68, 0x69]);
    }
}
