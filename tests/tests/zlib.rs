//! Real zlib end to end: tests/zlib-app (`zlib-check`) calls Debian's 32-bit zlib through
//! the crates generated from specs/zlib.yaml and compares every result with Debian's 64-bit
//! build of the same zlib (both fetched by tests/setup/libs.sh into tests/real/zlib).

use dllgen_tests::{build_bin, run, workspace_root, HOST_TARGET};
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
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            "ok: version and messages",
            "ok: compress and uncompress, 0 B to 8 MiB, byte-exact",
            "ok: Z_BUF_ERROR and Z_DATA_ERROR",
            "ok: checksums",
            "ok: gz files"
        ]
    );
}
