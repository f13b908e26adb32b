use super::*;
use std::ffi::{c_char, c_int, CStr};

#[link(name = "kernel32")]
extern "system" {
    fn LoadLibraryW(name: *const u16) -> *mut c_void;
    fn GetProcAddress(module: *mut c_void, name: *const c_char) -> *mut c_void;
    fn GetLastError() -> u32;
    fn SetLastError(code: u32);
}
#[link(name = "msvcrt")]
extern "C" {
    fn _errno() -> *mut c_int;
}

pub fn open(path: &str) -> Result<*mut c_void, String> {
    let wide: Vec<u16> = path.encode_utf16().chain(Some(0)).collect();
    // SAFETY: a NUL-terminated UTF-16 path; the error is read right after the call.
    unsafe {
        let h = LoadLibraryW(wide.as_ptr());
        if h.is_null() {
            return Err(format!("LoadLibraryW failed with error {}", GetLastError()));
        }
        Ok(h)
    }
}

pub fn symbol(h: *mut c_void, name: &CStr) -> *mut c_void {
    // SAFETY: a live module and a NUL-terminated name.
    unsafe { GetProcAddress(h, name.as_ptr()) }
}

pub fn ordinal(h: *mut c_void, ordinal: u16) -> *mut c_void {
    // SAFETY: a live module; a "name" below 0x10000 is an ordinal (MAKEINTRESOURCE).
    unsafe { GetProcAddress(h, usize::from(ordinal) as *const c_char) }
}

pub fn errno() -> i32 {
    // SAFETY: msvcrt's per-thread errno.
    unsafe { *_errno() }
}

pub fn set_errno(v: i32) {
    // SAFETY: as above.
    unsafe { *_errno() = v }
}

pub fn last_error() -> u32 {
    // SAFETY: no preconditions.
    unsafe { GetLastError() }
}

pub fn set_last_error(v: u32) {
    // SAFETY: no preconditions.
    unsafe { SetLastError(v) }
}
