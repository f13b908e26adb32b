//! Win32 shapes end to end under Wine: tests/win32-app (`win32-check`) calls the 32-bit
//! kernel32.dll and advapi32.dll through the crates generated from specs/kernel32.yaml and
//! specs/advapi32.yaml (functions declared by mingw-w64's <windows.h>) and checks each
//! result against what it sees itself.

use dllgen_tests::{build_bin, run, Wine};
use std::time::Duration;

#[test]
fn kernel32_through_the_generated_client_under_wine() {
    let host = build_bin("kernel32-host", "kernel32-host", "i686-pc-windows-gnu");
    let registry_host = build_bin("advapi32-host", "advapi32-host", "i686-pc-windows-gnu");
    let version_host = build_bin("version-host", "version-host", "i686-pc-windows-gnu");
    let app = build_bin("win32-app", "win32-check", "x86_64-pc-windows-gnu");
    let dir = std::env::temp_dir().join(format!("dllgen-win32-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wine = Wine::get();
    let mut cmd = wine.command(&app);
    // kernel32.dll is the system's: the host loads it by name.
    cmd.arg(Wine::path(&dir))
        .env("KERNEL32_HOST", Wine::path(&host))
        .env("KERNEL32_LIBRARY", "kernel32.dll")
        .env("ADVAPI32_HOST", Wine::path(&registry_host))
        .env("ADVAPI32_LIBRARY", "advapi32.dll")
        .env("VERSION_HOST", Wine::path(&version_host))
        .env("VERSION_LIBRARY", "version.dll");
    let out = run(&mut cmd, Duration::from_secs(300));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            "ok: the host's process id and executable",
            "ok: a file written and read through the host",
            "ok: INVALID_HANDLE_VALUE and GetLastError",
            "ok: a buffer grown and the call retried",
            "ok: FormatMessageW with FORMAT_MESSAGE_ALLOCATE_BUFFER (a variant), freed with LocalFree",
            "ok: WaitForMultipleObjects on an array of handles",
            "ok: the registry (ERROR_MORE_DATA: the buffer grown to the size the count said)",
            "ok: version resources: a pointer into the caller's block, as an offset",
        ]
    );
}
