//! Real sqlite3 end to end: tests/sqlite3-app (`sqlite3-check`) calls Debian's 32-bit
//! sqlite3 through the crates generated from specs/sqlite3.yaml and compares every result
//! with Debian's 64-bit build of the same sqlite3 (both fetched by tests/setup/libs.sh into
//! tests/real/sqlite3).

use dllgen_tests::{build_bin, run, workspace_root, HOST_TARGET};
use std::process::Command;
use std::time::Duration;

#[test]
fn sqlite3_through_the_generated_client_matches_the_64_bit_build() {
    let real = workspace_root().join("tests/real/sqlite3");
    assert!(
        real.join("i386/libsqlite3.so.0").is_file(),
        "run tests/setup/setup.sh (it fetches sqlite3 into {})",
        real.display()
    );
    let host = build_bin("sqlite3-host", "sqlite3-host", "i686-unknown-linux-gnu");
    let app = build_bin("sqlite3-app", "sqlite3-check", HOST_TARGET);
    let dir = tempdir();
    let out = run(
        Command::new(app)
            .arg(real.join("amd64/libsqlite3.so.0"))
            .arg(&dir)
            .env("SQLITE3_HOST", &host)
            .env("SQLITE3_LIBRARY", real.join("i386/libsqlite3.so.0")),
        Duration::from_secs(300),
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            "ok: versions, constants and messages",
            "ok: exec, errmsg and error codes",
            "ok: 10000 rows bound (text with SQLITE_TRANSIENT, blobs, doubles, int64, NULL, zeroblob)",
            "ok: 10000 rows read back equal, column by column (blobs by sqlite3_column_bytes, text as UTF-8 and UTF-16)",
            "ok: exec with a row callback, 303 rows (values, NULLs and column names), stopped by the callback",
            "ok: get_table, 125 cells allocated by sqlite3, copied and freed in the host",
            "ok: statement metadata, closed handles refused",
            "ok: 82 more functions: variants of variadic functions, borrowed handles, values, blobs, backup, strings, UTF-16, filenames, metadata",
            "ok: 12 functions keeping callbacks: update, commit, rollback and WAL hooks, progress and busy handlers, the authorizer, tracing, a collation until sqlite3 destroys it",
            "ok: 5 user functions (sqlite3_create_function_v2): closures as scalar functions and an aggregate, calling sqlite3_value_* and sqlite3_result_* from inside, destroyed when replaced and when the database closes",
            "ok: closed",
        ]
    );
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dllgen-sqlite3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}
