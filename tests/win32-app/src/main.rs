//! `win32-check DIR`: kernel32.dll's functions of specs/kernel32.yaml through the
//! generated client (the 32-bit kernel32 in its host), checked against what this 64-bit
//! process sees of the same system: the host's own process id and executable, a file
//! written through the host and read back here (and the reverse), INVALID_HANDLE_VALUE as
//! a failure with GetLastError, a closed handle refused. Prints one line per check; a
//! failure panics (exit status 101). Windows only (run under Wine here).

#[cfg(windows)]
fn main() {
    checks::run();
}

#[cfg(not(windows))]
fn main() {
    eprintln!("win32-check calls kernel32.dll: it runs on Windows (under Wine on Linux)");
    std::process::exit(2);
}

#[cfg(windows)]
mod checks {
    use kernel32_client::{
        Error, Kernel32, CREATE_ALWAYS, ERROR_FILE_NOT_FOUND, FILE_ATTRIBUTE_NORMAL, FILE_SHARE_READ,
        GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING,
    };

    pub fn run() {
        let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: win32-check DIR"));
        let k = Kernel32::new();

        // The host's own process and executable, as the client knows them.
        k.client().connect().unwrap();
        assert_eq!(k.GetCurrentProcessId().unwrap(), k.client().host_pid().unwrap());
        let (n, name) = k.GetModuleFileNameW(260).unwrap();
        let name = String::from_utf16(&name).unwrap();
        assert_eq!(n as usize, name.encode_utf16().count(), "the length returned is the path's");
        assert!(name.to_ascii_lowercase().ends_with("kernel32-host.exe"), "{name}");
        // Too small a buffer: nSize comes back, the path truncated to it (NUL-terminated
        // since Vista, not on XP nor Wine: then all 8 units are the path's).
        let (n, short) = k.GetModuleFileNameW(8).unwrap();
        assert_eq!(n, 8);
        assert!(matches!(short.len(), 7 | 8), "{short:?}");
        assert!(name.encode_utf16().take(short.len()).eq(short.iter().copied()), "a prefix of the path");
        println!("ok: the host's process id and executable");

        // A file written through the host (UTF-16 path, bytes and the count written), read here.
        let path = dir.join("through-the-host.bin");
        let p = path.to_str().unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let f = k
            .CreateFileW(p, GENERIC_WRITE as u32, 0, CREATE_ALWAYS as u32, FILE_ATTRIBUTE_NORMAL as u32)
            .unwrap();
        for chunk in data.chunks(65_537) {
            assert_eq!(k.WriteFile(f, chunk).unwrap(), (1, chunk.len() as u32));
        }
        assert_eq!(k.CloseHandle(f).unwrap(), 1);
        assert!(matches!(k.CloseHandle(f), Err(Error::BadHandle(_))), "closed: refused, never passed on");
        assert!(std::fs::read(&path).unwrap() == data, "what the host wrote reads back here");

        // And the reverse: written here, read through the host in pieces.
        std::fs::write(&path, &data[..123_457]).unwrap();
        let f = k.CreateFileW(p, GENERIC_READ, FILE_SHARE_READ as u32, OPEN_EXISTING as u32, 0).unwrap();
        assert_eq!(k.GetFileSize(f).unwrap(), (123_457, 0));
        let mut read = Vec::new();
        loop {
            let (ok, piece) = k.ReadFile(f, 50_000).unwrap();
            assert_eq!(ok, 1);
            if piece.is_empty() {
                break;
            }
            read.extend_from_slice(&piece);
        }
        assert!(read == data[..123_457], "what was written here reads back through the host");
        assert_eq!(k.CloseHandle(f).unwrap(), 1);
        assert_eq!(k.DeleteFileW(p).unwrap(), 1);
        println!("ok: a file written and read through the host");

        // INVALID_HANDLE_VALUE is a failure (not a handle), with GetLastError's code; so
        // is deleting what is not there.
        let missing = dir.join("missing.bin");
        let r = k.CreateFileW(missing.to_str().unwrap(), GENERIC_READ, 0, OPEN_EXISTING as u32, 0);
        assert_eq!(r, Err(Error::Library(i64::from(ERROR_FILE_NOT_FOUND))));
        assert_eq!(
            k.DeleteFileW(missing.to_str().unwrap()),
            Err(Error::Library(i64::from(ERROR_FILE_NOT_FOUND)))
        );
        println!("ok: INVALID_HANDLE_VALUE and GetLastError");

        // Grow and retry: the host's environment, read into buffers too small on purpose;
        // GetEnvironmentVariableW says how much it needs and the host calls again.
        // (A variable holds at most 32,767 characters.)
        for len in [0usize, 1, 15, 16, 5000, 30_000] {
            let value: String =
                (0..len).map(|i| char::from(b'a' + (i % 26) as u8)).chain("→é".chars()).collect();
            assert_eq!(k.SetEnvironmentVariableW("DLLGEN_GROW", Some(&value)).unwrap(), 1);
            let got = k.GetEnvironmentVariableW("DLLGEN_GROW", 16).unwrap();
            assert!(String::from_utf16(&got).unwrap() == value, "{len} characters: {} back", got.len());
        }
        assert_eq!(k.SetEnvironmentVariableW("DLLGEN_GROW", None).unwrap(), 1);
        // ERROR_ENVVAR_NOT_FOUND.
        assert_eq!(k.GetEnvironmentVariableW("DLLGEN_GROW", 16), Err(Error::Library(203)));
        println!("ok: a buffer grown and the call retried");

        messages(&k);
        println!("ok: FormatMessageW with FORMAT_MESSAGE_ALLOCATE_BUFFER (a variant), freed with LocalFree");

        events(&k);
        println!("ok: WaitForMultipleObjects on an array of handles");

        registry();
        versions();
    }

    #[link(name = "version")]
    extern "system" {
        #[link_name = "VerQueryValueW"]
        fn NativeVerQueryValueW(
            block: *const core::ffi::c_void,
            sub: *const u16,
            at: *mut *mut core::ffi::c_void,
            len: *mut u32,
        ) -> i32;
    }

    /// A version resource read through the 32-bit host, then queried there and in this
    /// 64-bit program on the same bytes: the pointer the library stores into the block is
    /// the same offset on both sides.
    fn versions() {
        use version_client::{Error, Version};
        let v = Version::new();
        let path = "C:\\windows\\system32\\kernel32.dll";
        let (size, _) = v.GetFileVersionInfoSizeW(path).unwrap();
        assert!(size > 100, "{size}");
        let (ok, block) = v.GetFileVersionInfoW(path, 0, size as usize).unwrap();
        assert_eq!((ok, block.len()), (1, size as usize));
        let mut found = 0;
        for sub in
            ["\\", "\\VarFileInfo\\Translation", "\\StringFileInfo\\040904b0\\ProductName", "\\NoSuchBlock"]
        {
            let mut at = std::ptr::null_mut();
            let mut len = 0u32;
            let wide: Vec<u16> = sub.encode_utf16().chain([0]).collect();
            // SAFETY: our copy of the block, a NUL-terminated name, and two out-pointers.
            let ok = unsafe { NativeVerQueryValueW(block.as_ptr().cast(), wide.as_ptr(), &mut at, &mut len) };
            let ours = v.VerQueryValueW(&block, sub);
            if ok == 0 {
                assert_eq!(ours, Err(Error::Library(0)), "{sub}");
                continue;
            }
            let offset = (at as usize).checked_sub(block.as_ptr() as usize).filter(|o| *o <= block.len());
            assert_eq!(ours, Ok((ok, offset, len)), "{sub}");
            found += 1;
        }
        assert!(found >= 2, "the fixed info and the translation table at least");
        // The fixed file info starts with its signature.
        let (_, at, len) = v.VerQueryValueW(&block, "\\").unwrap();
        let at = at.unwrap();
        assert_eq!((len, &block[at..at + 4]), (52, &0xfeef_04bdu32.to_le_bytes()[..]));
        assert_eq!(v.GetFileVersionInfoSizeW("C:\\windows\\no-such.dll"), Err(Error::Library(2)));
        println!("ok: version resources: a pointer into the caller's block, as an offset");
    }

    #[link(name = "kernel32")]
    extern "system" {
        fn FormatMessageW(
            flags: u32,
            source: *const core::ffi::c_void,
            id: u32,
            lang: u32,
            buffer: *mut *mut u16,
            size: u32,
            args: *mut core::ffi::c_void,
        ) -> u32;
        fn LocalFree(p: *mut core::ffi::c_void) -> *mut core::ffi::c_void;
        fn GetLastError() -> u32;
    }

    /// Events waited for through an array of handles the host maps to its own.
    fn events(k: &Kernel32) {
        const WAIT_TIMEOUT: u32 = 258;
        // Auto-reset events, not signalled.
        let e: Vec<_> = (0..3).map(|_| k.CreateEventW(0, 0, None).unwrap()).collect();
        assert_eq!(k.WaitForMultipleObjects(&e, 0, 0), Ok(WAIT_TIMEOUT));
        assert_eq!(k.SetEvent(e[1]), Ok(1));
        assert_eq!(k.WaitForMultipleObjects(&e, 0, 0), Ok(1), "the second one");
        assert_eq!(k.WaitForMultipleObjects(&e, 0, 0), Ok(WAIT_TIMEOUT), "reset by the wait");
        for h in [e[2], e[0]] {
            assert_eq!(k.SetEvent(h), Ok(1));
        }
        assert_eq!(k.WaitForMultipleObjects(&e[1..], 0, 0), Ok(1), "e[2], second of the slice");
        assert_eq!(k.WaitForMultipleObjects(&[e[0]], 1, 0), Ok(0));
        for h in &e {
            assert_eq!(k.CloseHandle(*h), Ok(1));
        }
        assert!(matches!(k.WaitForMultipleObjects(&e, 0, 0), Err(Error::BadHandle(_))), "closed: refused");
    }

    /// The system's messages through the 32-bit host, against this 64-bit program's own
    /// FormatMessageW with the same flags.
    fn messages(k: &Kernel32) {
        // FORMAT_MESSAGE_ALLOCATE_BUFFER | FROM_SYSTEM | IGNORE_INSERTS.
        const FLAGS: u32 = 0x100 | 0x1000 | 0x200;
        let mut texts = 0;
        for id in [2u32, 5, 87, 0x0123_4567] {
            let mut p: *mut u16 = std::ptr::null_mut();
            // SAFETY: with ALLOCATE_BUFFER, `buffer` receives a LocalAlloc'd NUL-terminated string.
            let n =
                unsafe { FormatMessageW(FLAGS, std::ptr::null(), id, 0, &mut p, 0, std::ptr::null_mut()) };
            let native = if n == 0 {
                // SAFETY: right after the failed call.
                Err(Error::Library(i64::from(unsafe { GetLastError() })))
            } else {
                // SAFETY: `n` characters before the NUL.
                let text = String::from_utf16(unsafe { std::slice::from_raw_parts(p, n as usize) }).unwrap();
                // SAFETY: the buffer FormatMessageW allocated, freed once.
                unsafe { LocalFree(p.cast()) };
                Ok((n, Some(text)))
            };
            let ours = k.FormatMessageW_alloc(id, 0);
            assert_eq!(ours, native, "message {id}");
            texts += usize::from(matches!(ours, Ok((_, Some(ref t))) if !t.is_empty()));
        }
        assert_eq!(texts, 3, "three known messages, one unknown id");
    }

    /// The registry through advapi32: a key of HKEY_CURRENT_USER created, values set and
    /// read back into buffers too small on purpose (ERROR_MORE_DATA, the size needed in the
    /// in/out count, the buffer grown), the key closed and deleted.
    fn registry() {
        use advapi32_client::{
            Advapi32, Error, ERROR_FILE_NOT_FOUND, KEY_ALL_ACCESS, REG_BINARY, REG_CREATED_NEW_KEY,
            REG_OPTION_NON_VOLATILE, REG_SZ,
        };
        let r = Advapi32::new();
        let sub = format!("Software\\dllgen-test-{}", std::process::id());
        let (status, key, disposition) =
            r.RegCreateKeyExW(&sub, REG_OPTION_NON_VOLATILE as u32, KEY_ALL_ACCESS as u32).unwrap();
        assert_eq!((status, disposition), (0, REG_CREATED_NEW_KEY as u32));
        let blob: Vec<u8> = (0..10_000u32).map(|i| (i * 13 % 256) as u8).collect();
        assert_eq!(r.RegSetValueExW(key, "blob", REG_BINARY as u32, &blob).unwrap(), 0);
        let text: Vec<u8> = "héllo registry\0".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(r.RegSetValueExW(key, "text", REG_SZ as u32, &text).unwrap(), 0);
        // 16 bytes asked for, 10,000 needed: grown to what the count said, then read.
        assert_eq!(r.RegQueryValueExW(key, "blob", 16).unwrap(), (0, REG_BINARY as u32, blob.clone()));
        assert_eq!(r.RegQueryValueExW(key, "text", 4096).unwrap(), (0, REG_SZ as u32, text.clone()));
        assert_eq!(
            r.RegQueryValueExW(key, "missing", 16),
            Err(Error::Library(i64::from(ERROR_FILE_NOT_FOUND)))
        );
        assert_eq!(r.RegCloseKey(key).unwrap(), 0);
        assert!(matches!(r.RegQueryValueExW(key, "blob", 16), Err(Error::BadHandle(_))));
        assert_eq!(r.RegDeleteKeyW(&sub).unwrap(), 0);
        println!("ok: the registry (ERROR_MORE_DATA: the buffer grown to the size the count said)");
    }
}
