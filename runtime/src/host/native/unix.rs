use super::*;
use std::ffi::{c_char, c_int, CStr};

extern "C" {
    fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *mut c_char;
    fn __errno_location() -> *mut c_int;
}

pub fn open(path: &str) -> Result<*mut c_void, String> {
    let c = CString::new(path).map_err(|_| "the library path contains NUL".to_string())?;
    // SAFETY: a NUL-terminated path; dlerror's text is copied at once.
    unsafe {
        let h = dlopen(c.as_ptr(), 2 /* RTLD_NOW */);
        if h.is_null() {
            let e = dlerror();
            return Err(if e.is_null() {
                "dlopen failed".into()
            } else {
                CStr::from_ptr(e).to_string_lossy().into_owned()
            });
        }
        Ok(h)
    }
}

pub fn symbol(h: *mut c_void, name: &CStr) -> *mut c_void {
    // SAFETY: a live handle and a NUL-terminated name.
    unsafe { dlsym(h, name.as_ptr()) }
}

/// Shared objects have no ordinals.
pub fn ordinal(_: *mut c_void, _: u16) -> *mut c_void {
    std::ptr::null_mut()
}

pub fn errno() -> i32 {
    // SAFETY: the calling thread's errno.
    unsafe { *__errno_location() }
}

pub fn set_errno(v: i32) {
    // SAFETY: as above.
    unsafe { *__errno_location() = v }
}

pub fn last_error() -> u32 {
    0
}

pub fn set_last_error(_: u32) {}
