//! Real zlib end to end: tests/zlib-app (`zlib-check`) calls Debian's 32-bit zlib through
//! the crates generated from specs/zlib.yaml and compares every result with Debian's 64-bit
//! build of the same zlib (both fetched by tests/setup/libs.sh into tests/real/zlib).

use dllgen_tests::{build_bin, run, workspace_root, Wine, HOST_TARGET};
use std::process::Command;
use std::time::Duration;

#[test]
fn zlib_through_the_generated_client_matches_the_64_bit_build() {
    let real = workspace_root().join("tests/real/zlib");
    assert!(
        real.join("i386/libz.so.1").is_file(),
        "run tests/setup/setup.sh (it fetches zlib into {})",
        real.display()
    );
    let host = build_bin("zlib-host", "zlib-host", "i686-unknown-linux-gnu");
    let app = build_bin("zlib-app", "zlib-check", HOST_TARGET);
    let out = run(
        Command::new(app)
            .arg(real.join("amd64/libz.so.1"))
            .env("ZLIB_HOST", &host)
            .env("ZLIB_LIBRARY", real.join("i386/libz.so.1")),
        Duration::from_secs(300),
    );
    assert_passed(&out);
}

const PASSED: [&str; 11] = [
    "ok: version and messages",
    "ok: compress and uncompress, 0 B to 8 MiB, byte-exact",
    "ok: Z_BUF_ERROR and Z_DATA_ERROR",
    "ok: checksums",
    "ok: gz files, also through a descriptor of this process (gzdopen)",
    "ok: deflate and inflate 8 MiB in 64 KiB pieces, levels 1, 6 and 9, byte-exact",
    "ok: dictionaries and deflateParams mid-stream",
    "ok: inflateReset, and a corrupt stream's Z_DATA_ERROR with zlib's message",
    "ok: deflateBound, deflateCopy and deflatePending",
    "ok: a gzip header deflateSetHeader sets, kept by the stream and written again after deflateReset; inflateGetHeader reads it back",
    "ok: inflateBack with its input and output callbacks, the window kept in the host",
];

fn assert_passed(out: &dllgen_tests::Output) {
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), PASSED);
}

/// The same checks on Windows: zlib1.dll (Debian's libz-mingw-w64, 32-bit) in the host
/// generated from specs/zlib-win.yaml, against the 64-bit zlib1.dll, both under Wine.
#[test]
fn zlib1_dll_under_wine_matches_the_64_bit_build() {
    let real = workspace_root().join("tests/real/zlib");
    assert!(
        real.join("win32/zlib1.dll").is_file(),
        "run tests/setup/setup.sh (it copies zlib1.dll into {})",
        real.display()
    );
    let host = build_bin("zlib-win-host", "zlib-win-host", "i686-pc-windows-gnu");
    let app = build_bin("zlib-app", "zlib-check", "x86_64-pc-windows-gnu");
    let wine = Wine::get();
    let mut cmd = wine.command(&app);
    cmd.arg(Wine::path(&real.join("win64/zlib1.dll")))
        .env("ZLIB_WIN_HOST", Wine::path(&host))
        .env("ZLIB_WIN_LIBRARY", Wine::path(&real.join("win32/zlib1.dll")));
    assert_passed(&run(&mut cmd, Duration::from_secs(600)));
}

/// specs/zlib-win.yaml is specs/zlib.yaml for another library file: only its name, its
/// library and its opening comment differ.
#[test]
fn the_windows_zlib_spec_is_the_linux_one_for_zlib1_dll() {
    let read = |f: &str| std::fs::read_to_string(workspace_root().join(f)).unwrap();
    let body = |s: &str| -> Vec<String> {
        s.lines()
            .skip_while(|l| l.starts_with('#'))
            .map(|l| l.replace("name: zlib_win", "name: zlib").replace("win32/zlib1.dll", "i386/libz.so.1"))
            .collect()
    };
    assert_eq!(body(&read("specs/zlib-win.yaml")), body(&read("specs/zlib.yaml")));
}
