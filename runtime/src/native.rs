//! What a generated host needs from the operating system to call the library: load it by
//! path, resolve its symbols, and read the error codes C functions leave behind
//! (`errno`, `GetLastError()`), right after each call.

use std::ffi::{c_void, CString};

/// A loaded library.
pub struct Dylib {
    handle: *mut c_void,
    path: String,
}

// SAFETY: a module handle may be used from any thread; symbol lookups are thread-safe.
unsafe impl Send for Dylib {}
// SAFETY: as for Send: nothing in it changes after loading.
unsafe impl Sync for Dylib {}

#[cfg(unix)]
mod imp {
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
}

#[cfg(windows)]
mod imp {
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
}

pub use imp::{errno, last_error, set_errno, set_last_error};

impl Dylib {
    /// Loads the library at `path`.
    pub fn open(path: &str) -> Result<Dylib, String> {
        imp::open(path)
            .map(|handle| Dylib { handle, path: path.to_string() })
            .map_err(|e| format!("{path}: {e}"))
    }

    /// The address of the exported symbol `name`, or of ordinal N for `#N` (Windows).
    pub fn symbol(&self, name: &str) -> Result<*const c_void, String> {
        let p = match name.strip_prefix('#').map(str::parse::<u16>) {
            Some(Ok(ordinal)) if ordinal > 0 => imp::ordinal(self.handle, ordinal),
            Some(_) => return Err(format!("`{name}` is not an ordinal (1 to 65535)")),
            None => {
                let c = CString::new(name).map_err(|_| format!("symbol name {name:?} contains NUL"))?;
                imp::symbol(self.handle, &c)
            }
        };
        if p.is_null() {
            Err(format!("{} does not export `{name}`", self.path))
        } else {
            Ok(p as *const c_void)
        }
    }

    /// Resolves every name in `names`, or says which are missing (all of them).
    pub fn symbols(&self, names: &[&str]) -> Result<Vec<*const c_void>, String> {
        let mut found = Vec::with_capacity(names.len());
        let mut missing = Vec::new();
        for n in names {
            match self.symbol(n) {
                Ok(p) => found.push(p),
                Err(_) => missing.push(*n),
            }
        }
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(format!("{} does not export: {}", self.path, missing.join(", ")))
        }
    }
}

/// The library the host loads: `--library PATH`, else the environment variable
/// `env_var`, else `file_name` next to the host executable, else `file_name` as the
/// system's loader finds it.
pub fn library_path(file_name: &str, env_var: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    if let Some(p) = args.iter().position(|a| a == "--library").and_then(|at| args.get(at + 1)) {
        return p.clone();
    }
    if let Ok(p) = std::env::var(env_var) {
        return p;
    }
    let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join(file_name)));
    match beside {
        Some(p) if p.is_file() => p.display().to_string(),
        _ => file_name.to_string(),
    }
}
