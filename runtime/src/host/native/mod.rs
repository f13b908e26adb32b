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

mod call;
pub use call::{Arg, ByValue, Pops, Ret, Words};

#[cfg(unix)]
#[path = "unix.rs"]
mod imp;

#[cfg(windows)]
#[path = "windows.rs"]
mod imp;

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
/// `env_var`, else `file_name` next to the host executable, else next to the program
/// that started it (`DLLGEN_PROGRAM_DIR`, set for a host embedded in the program), else
/// `file_name` as the system's loader finds it.
pub fn library_path(file_name: &str, env_var: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    if let Some(p) = args.iter().position(|a| a == "--library").and_then(|at| args.get(at + 1)) {
        return p.clone();
    }
    if let Ok(p) = std::env::var(env_var) {
        return p;
    }
    let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join(file_name)));
    // A host written out of the program (an embedded one) is told the program's folder.
    let program = std::env::var_os("DLLGEN_PROGRAM_DIR").map(|d| std::path::PathBuf::from(d).join(file_name));
    match beside.into_iter().chain(program).find(|p| p.is_file()) {
        Some(p) => p.display().to_string(),
        None => file_name.to_string(),
    }
}
