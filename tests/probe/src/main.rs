//! The test rig's probe: loads a shared library with the operating system's own loader
//! (`dlopen` / `LoadLibraryW`), looks up `int f(int, int)` and calls it.
//!
//! Usage: `dllgen-probe LIBRARY SYMBOL A B [c|system]` (on Windows, SYMBOL `#N` is
//! ordinal N)
//!
//! Prints `ok RESULT` and exits 0, or `load-error: …` and exits 3 when the loader refuses the
//! library (the message is the loader's own: `dlerror()` text, or the Windows error code),
//! or `symbol-error: …` and exits 4. Built for i686 and x86_64, Linux and Windows, so tests
//! can show that a 32-bit library loads in a 32-bit process and is refused by a 64-bit one.

use std::process::ExitCode;

type CFn = extern "C" fn(i32, i32) -> i32;
type SystemFn = extern "system" fn(i32, i32) -> i32;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 || args.len() > 6 {
        eprintln!("usage: dllgen-probe LIBRARY SYMBOL A B [c|system]");
        return ExitCode::from(2);
    }
    let (Ok(a), Ok(b)) = (args[3].parse::<i32>(), args[4].parse::<i32>()) else {
        eprintln!("dllgen-probe: A and B must be 32-bit integers");
        return ExitCode::from(2);
    };
    let system = match args.get(5).map(String::as_str) {
        None | Some("c") => false,
        Some("system") => true,
        Some(other) => {
            eprintln!("dllgen-probe: unknown calling convention {other:?}");
            return ExitCode::from(2);
        }
    };
    let lib = match os::open(&args[1]) {
        Ok(lib) => lib,
        Err(message) => {
            println!("load-error: {message}");
            return ExitCode::from(3);
        }
    };
    let Some(addr) = os::symbol(lib, &args[2]) else {
        println!("symbol-error: {} not found", args[2]);
        return ExitCode::from(4);
    };
    // SAFETY: the caller names a function of type `int f(int, int)` with the given
    // convention; the fixtures built for the rig export exactly such functions.
    let result = unsafe {
        if system {
            std::mem::transmute::<*const u8, SystemFn>(addr)(a, b)
        } else {
            std::mem::transmute::<*const u8, CFn>(addr)(a, b)
        }
    };
    println!("ok {result}");
    ExitCode::SUCCESS
}

#[cfg(unix)]
mod os {
    use std::ffi::{c_char, c_int, c_void, CStr, CString};

    const RTLD_NOW: c_int = 2;

    extern "C" {
        fn dlopen(filename: *const c_char, flags: c_int) -> *mut c_void;
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
        fn dlerror() -> *mut c_char;
    }

    pub fn open(path: &str) -> Result<*mut c_void, String> {
        let c_path = CString::new(path).map_err(|_| "path contains NUL".to_string())?;
        // SAFETY: c_path is a valid NUL-terminated string; dlerror's result is read at once.
        unsafe {
            let handle = dlopen(c_path.as_ptr(), RTLD_NOW);
            if handle.is_null() {
                let err = dlerror();
                if err.is_null() {
                    return Err("dlopen failed".into());
                }
                return Err(CStr::from_ptr(err).to_string_lossy().into_owned());
            }
            Ok(handle)
        }
    }

    pub fn symbol(handle: *mut c_void, name: &str) -> Option<*const u8> {
        let c_name = CString::new(name).ok()?;
        // SAFETY: handle came from dlopen and c_name is NUL-terminated.
        let addr = unsafe { dlsym(handle, c_name.as_ptr()) };
        (!addr.is_null()).then_some(addr as *const u8)
    }
}

#[cfg(windows)]
mod os {
    use std::ffi::{c_char, c_void, CString};

    #[link(name = "kernel32")]
    extern "system" {
        fn LoadLibraryW(name: *const u16) -> *mut c_void;
        fn GetProcAddress(module: *mut c_void, name: *const c_char) -> *mut c_void;
        fn GetLastError() -> u32;
    }

    pub fn open(path: &str) -> Result<*mut c_void, String> {
        let wide: Vec<u16> = path.encode_utf16().chain(Some(0)).collect();
        // SAFETY: wide is NUL-terminated UTF-16; GetLastError is read right after the call.
        unsafe {
            let module = LoadLibraryW(wide.as_ptr());
            if module.is_null() {
                return Err(format!("LoadLibraryW failed with error {}", GetLastError()));
            }
            Ok(module)
        }
    }

    /// `#N` looks the export up by ordinal (`MAKEINTRESOURCE(N)`), anything else by name.
    pub fn symbol(module: *mut c_void, name: &str) -> Option<*const u8> {
        let addr = if let Some(ordinal) = name.strip_prefix('#') {
            let ordinal: u16 = ordinal.parse().ok()?;
            // SAFETY: an ordinal below 0x10000 in place of the name pointer is how
            // GetProcAddress is asked for an export by ordinal.
            unsafe { GetProcAddress(module, usize::from(ordinal) as *const c_char) }
        } else {
            let c_name = CString::new(name).ok()?;
            // SAFETY: module came from LoadLibraryW and c_name is NUL-terminated.
            unsafe { GetProcAddress(module, c_name.as_ptr()) }
        };
        (!addr.is_null()).then_some(addr as *const u8)
    }
}
