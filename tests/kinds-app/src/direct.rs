//! A 64-bit build of a library, loaded and called directly: what the differential checks
//! compare the generated client with (tests/zlib-app includes this file too).

use std::ffi::{c_void, CString};

/// The 64-bit build of the library, called directly.
pub struct Direct(*mut c_void);

#[cfg(not(windows))]
mod os {
    use std::ffi::{c_char, c_void};
    extern "C" {
        pub fn dlopen(path: *const c_char, flags: i32) -> *mut c_void;
        pub fn dlsym(h: *mut c_void, name: *const c_char) -> *mut c_void;
    }
}

#[cfg(windows)]
mod os {
    use std::ffi::{c_char, c_void};
    extern "system" {
        pub fn LoadLibraryW(path: *const u16) -> *mut c_void;
        pub fn GetProcAddress(h: *mut c_void, name: *const c_char) -> *mut c_void;
    }
}

impl Direct {
    pub fn open(path: &str) -> Direct {
        #[cfg(not(windows))]
        let h = {
            let c = CString::new(path).expect("a path without NUL");
            // SAFETY: a NUL-terminated path; RTLD_NOW.
            unsafe { os::dlopen(c.as_ptr(), 2) }
        };
        #[cfg(windows)]
        let h = {
            let w: Vec<u16> = path.encode_utf16().chain([0]).collect();
            // SAFETY: a NUL-terminated UTF-16 path.
            unsafe { os::LoadLibraryW(w.as_ptr()) }
        };
        assert!(!h.is_null(), "cannot load {path}");
        Direct(h)
    }

    /// The function `name`; the caller names its real type.
    pub fn sym<T: Copy>(&self, name: &str) -> T {
        assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<*mut c_void>());
        let c = CString::new(name).expect("a name without NUL");
        // SAFETY: a live library handle and a NUL-terminated name.
        #[cfg(not(windows))]
        let p = unsafe { os::dlsym(self.0, c.as_ptr()) };
        // SAFETY: as above.
        #[cfg(windows)]
        let p = unsafe { os::GetProcAddress(self.0, c.as_ptr()) };
        assert!(!p.is_null(), "{name} is not exported");
        // SAFETY: a function pointer has a pointer's size (asserted above).
        unsafe { std::mem::transmute_copy::<*mut c_void, T>(&p) }
    }
}
