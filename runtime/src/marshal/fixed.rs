//! An argument the client never sees (`fixed:` in the spec): the host passes a value the
//! generator evaluated with clang for the 32-bit target. Integers are written as literals
//! of the parameter's type; pointers are NULL, an address constant
//! (`SQLITE_TRANSIENT`), or a string the host keeps for the whole run (`ZLIB_VERSION`).

use std::ffi::c_void;

/// An address constant as a pointer argument (`((sqlite3_destructor_type)-1)`).
pub fn address(a: u32) -> *const c_void {
    a as usize as *const c_void
}

/// A string constant as a pointer argument: `s` ends in its NUL.
pub fn string(s: &'static [u8]) -> *const c_void {
    debug_assert_eq!(s.last(), Some(&0));
    s.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert!(address(0).is_null());
        assert_eq!(address(u32::MAX) as usize, u32::MAX as usize);
        // SAFETY: a NUL-terminated static string.
        let back = unsafe { std::ffi::CStr::from_ptr(string(b"1.2.13\0").cast()) };
        assert_eq!(back.to_bytes(), b"1.2.13");
    }
}
