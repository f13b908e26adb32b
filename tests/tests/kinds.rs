//! End to end over every kind of specs/SCHEMA.md: tests/kinds-app (`kinds-check`) calls
//! tests/fixtures/kinds.c built 32-bit through the crates generated from tests/specs and
//! compares every result with the library's 64-bit build. On Linux natively (i686 host,
//! `libfx_kinds32.so`), and under Wine as a 64-bit Windows program with an i686 Windows host
//! (`fx_kinds.dll`, stdcall functions included), over the child's pipes and over a named
//! pipe. On Linux the child host is reached through shared memory, and again over the pipe.

use dllgen_tests::{build_bin, fixtures, listening_host, run, Wine, HOST_TARGET};
use std::process::Command;
use std::time::Duration;

const CHECKS: &[&str] = &[
    "ok: scalars and structs by value",
    "ok: buffers, strings and bools",
    "ok: a device session",
    "ok: callbacks",
    "ok: errno",
    "ok: edges",
    "ok: large buffers",
    "ok: fixed arguments, constants and library strings",
    "ok: struct fields that point: counted buffers, nested structs, the library's own chain",
    "ok: callbacks given pointers to structs: read, filled, updated",
    "ok: unions selected by a tag field",
    "ok: structs ending in a flexible array member",
    "ok: callbacks given arrays with their counts: bytes, structs, handles",
    "ok: struct fields the library fills, their capacity set by the caller",
    "ok: callbacks kept past their call: on a handle, until a destroy-notify, for good",
    "ok: a struct that lives in the host: its buffers bound per call, ended when dropped",
    "ok: buffers the library keeps writing after the call: read back once it lets go",
    "ok: callbacks from a thread of the library's own, with no call in flight",
    "ok: frames from the library's thread into buffers the client queued",
];

fn assert_passed(out: &dllgen_tests::Output) {
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), CHECKS);
}

#[test]
fn every_kind_on_linux() {
    let host = build_bin("kinds-linux-host", "kinds-linux-host", "i686-unknown-linux-gnu");
    let app = build_bin("kinds-app", "kinds-check", HOST_TARGET);
    let out = run(
        Command::new(app)
            .arg(fixtures().join("libfx_kinds64.so"))
            .env("KINDS_LINUX_HOST", &host)
            .env("KINDS_LINUX_LIBRARY", fixtures().join("libfx_kinds32.so")),
        Duration::from_secs(120),
    );
    assert_passed(&out);
}

#[test]
fn every_kind_over_the_pipe_on_linux() {
    let host = build_bin("kinds-linux-host", "kinds-linux-host", "i686-unknown-linux-gnu");
    let app = build_bin("kinds-app", "kinds-check", HOST_TARGET);
    let out = run(
        Command::new(app)
            .arg(fixtures().join("libfx_kinds64.so"))
            .arg("--pipe")
            .env("KINDS_LINUX_HOST", &host)
            .env("KINDS_LINUX_LIBRARY", fixtures().join("libfx_kinds32.so")),
        Duration::from_secs(120),
    );
    assert_passed(&out);
}

#[test]
fn every_kind_over_a_listening_host_on_linux() {
    let host = build_bin("kinds-linux-host", "kinds-linux-host", "i686-unknown-linux-gnu");
    let app = build_bin("kinds-app", "kinds-check", HOST_TARGET);
    let mut cmd = Command::new(host);
    cmd.env("KINDS_LINUX_LIBRARY", fixtures().join("libfx_kinds32.so"));
    let dir = std::env::temp_dir().join(format!("dllgen-kinds-listen-{}", std::process::id()));
    let sock = dir.join("private").join("kinds.sock");
    let (mut listener, endpoint) = listening_host(cmd, Some(sock.to_str().unwrap()));
    let out = run(
        Command::new(&app).arg(fixtures().join("libfx_kinds64.so")).args(["--connect", &endpoint]),
        Duration::from_secs(120),
    );
    let _ = listener.kill();
    let _ = listener.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert_passed(&out);
}

#[test]
fn every_kind_on_windows_under_wine() {
    let host = build_bin("kinds-host", "kinds-host", "i686-pc-windows-gnu");
    let app = build_bin("kinds-app", "kinds-check", "x86_64-pc-windows-gnu");
    let wine = Wine::get();
    let mut cmd = wine.command(&app);
    cmd.arg(Wine::path(&fixtures().join("fx_kinds64.dll")))
        .env("KINDS_HOST", Wine::path(&host))
        .env("KINDS_LIBRARY", Wine::path(&fixtures().join("fx_kinds.dll")));
    assert_passed(&run(&mut cmd, Duration::from_secs(300)));
}

#[test]
fn every_kind_over_a_named_pipe_under_wine() {
    let host = build_bin("kinds-host", "kinds-host", "i686-pc-windows-gnu");
    let app = build_bin("kinds-app", "kinds-check", "x86_64-pc-windows-gnu");
    let wine = Wine::get();
    let mut cmd = wine.command(&host);
    cmd.env("KINDS_LIBRARY", Wine::path(&fixtures().join("fx_kinds.dll")));
    let (mut listener, endpoint) = listening_host(cmd, None);
    assert!(endpoint.starts_with(r"\\.\pipe\"), "{endpoint}");
    let out = run(
        wine.command(&app).arg(Wine::path(&fixtures().join("fx_kinds64.dll"))).args(["--connect", &endpoint]),
        Duration::from_secs(300),
    );
    let _ = listener.kill();
    let _ = listener.wait();
    assert_passed(&out);
}
