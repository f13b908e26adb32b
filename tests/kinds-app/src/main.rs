//! `kinds-check LIB64 [--connect ENDPOINT | --pipe]`: runs every check in `checks` through the
//! generated kinds client (host and 32-bit library found as the client finds them:
//! `KINDS_HOST` / `KINDS_LIBRARY` on Windows, `KINDS_LINUX_HOST` / `KINDS_LINUX_LIBRARY` on
//! Linux), comparing with LIB64, the 64-bit build of the same library. Prints one line per
//! check; a failure panics (exit status 101) with what differed. A host it starts is
//! reached through shared memory (Linux, Windows), or the pipe with `--pipe`.

mod checks;

/// The generated client of this OS's build of the library, under one name.
mod api {
    #[cfg(windows)]
    pub use kinds_client::{
        Clash, Config, Error, HostPath, Kinds, KxBlock, KxInfo, KxPacked, KxPoint, HOST_EXE,
    };
    #[cfg(not(windows))]
    pub use kinds_linux_client::{
        Clash, Config, Error, HostPath, KindsLinux as Kinds, KxBlock, KxInfo, KxPacked, KxPoint, HOST_EXE,
    };
}

/// The variable naming the host, as the generated client reads it.
const HOST_ENV: &str = if cfg!(windows) { "KINDS_HOST" } else { "KINDS_LINUX_HOST" };

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
    fn open(path: &str) -> Direct {
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(lib64) = args.first() else {
        eprintln!("usage: kinds-check LIB64 [--connect ENDPOINT]");
        std::process::exit(2);
    };
    let direct = Direct::open(lib64);
    let shared = args.iter().any(|a| a == "--connect");
    let k = match args.iter().position(|a| a == "--connect") {
        Some(at) => {
            // The host path is not used when connecting to a listener.
            let mut config = api::Config::new(api::HostPath::Explicit("kinds-host".into()), 0);
            config.listener = Some(args.get(at + 1).cloned().unwrap_or_default());
            api::Kinds::with_config(config)
        }
        None if args.iter().any(|a| a == "--pipe") => {
            let mut config = api::Config::new(
                api::HostPath::Find { file_name: api::HOST_EXE.into(), env_var: HOST_ENV.into() },
                0,
            );
            config.shm = None;
            api::Kinds::with_config(config)
        }
        None => api::Kinds::new(),
    };
    k.client().connect().expect("the host starts");
    let expect_shm = !shared && !args.iter().any(|a| a == "--pipe");
    assert_eq!(k.client().uses_shared_memory(), expect_shm, "the transport in use");
    checks::scalars_and_structs_by_value(&k, &direct);
    println!("ok: scalars and structs by value");
    checks::buffers_strings_and_bools(&k, &direct);
    println!("ok: buffers, strings and bools");
    checks::a_device_session(&k, &direct, shared);
    println!("ok: a device session");
    checks::callbacks(&k);
    println!("ok: callbacks");
    checks::errno(&k);
    println!("ok: errno");
    checks::edges(&k, &direct);
    println!("ok: edges");
    checks::large_buffers(&k, &direct);
    println!("ok: large buffers");
}
