//! The demo program (examples/demo-app) run twice: on Linux through the pair generated from
//! specs/demo.yaml (libdemo32.so), and under Wine as a 64-bit Windows program through the
//! pair generated from specs/demo-win.yaml (demo32.dll, an i686 Windows host). Both must
//! print the same thing, which must be what the library computes.

use dllgen_tests::{build_bin, demo_library, listening_host, run, Wine};
use std::process::Command;
use std::time::Duration;

/// The output without the host's process id, which differs between runs.
fn lines(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| !l.starts_with("served by the 32-bit host, process ")).collect()
}

const EXPECTED: &[&str] = &[
    "64-bit process, pointers of 8 bytes",
    "library version: demo 1.2.0",
    "demo_add(40, 2) = 42",
    "demo_sum([1..=100]) = 5050",
    "demo_mix([1, 2, 3], [100, 200]) = 6, totals now [106, 206]",
    "demo_clamp(10, 250) -> 100 (changed: 1); without a value: (-1, 0)",
    "opened sim7",
    "read back: \"hello from 64-bit Rust\"",
    "scaled in place: [2.0, 6.0, -8.0]",
    "describe: sim7 with 22 bytes logged (32-bit build)",
    "reading #1 on channel 1: 2.72 mA (flags 0)",
    "calibration progress [\"1/10\", \"2/10\", \"3/10\"], then Err(Library(-4))",
    "after calibrating: 2.67 mA",
    "demo_open(\"no-such-device\") failed with status -2, as it should",
    "demo_fail(34) failed with errno 34",
];

#[test]
fn the_demo_app_runs_on_linux() {
    let build = demo_library();
    let host = build_bin("demo-host", "demo-host", "i686-unknown-linux-gnu");
    let app = build_bin("demo-app", "demo-app", dllgen_tests::HOST_TARGET);
    let out = run(
        Command::new(app).env("DEMO_HOST", &host).env("DEMO_LIBRARY", build.join("libdemo32.so")),
        Duration::from_secs(60),
    );
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(lines(&out.stdout), EXPECTED);
    assert!(out.stdout.contains("served by the 32-bit host, process "), "{}", out.stdout);
}

#[test]
fn the_demo_app_uses_a_listening_host_on_linux() {
    let build = demo_library();
    let host = build_bin("demo-host", "demo-host", "i686-unknown-linux-gnu");
    let app = build_bin("demo-app", "demo-app", dllgen_tests::HOST_TARGET);
    let mut cmd = Command::new(host);
    cmd.env("DEMO_LIBRARY", build.join("libdemo32.so"));
    let dir = std::env::temp_dir().join(format!("dllgen-demo-listen-{}", std::process::id()));
    let sock = dir.join("private").join("demo.sock");
    let (mut listener, endpoint) = listening_host(cmd, Some(sock.to_str().unwrap()));
    assert_eq!(endpoint, sock.to_str().unwrap());
    let out = run(Command::new(&app).args(["--connect", &endpoint]), Duration::from_secs(60));
    let _ = listener.kill();
    let _ = listener.wait();
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(lines(&out.stdout), EXPECTED);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Windows pair over a named pipe: the i686 host listens, the 64-bit app connects.
#[test]
fn the_demo_app_uses_a_named_pipe_host_under_wine() {
    let build = demo_library();
    let host = build_bin("demo-win-host", "demo-win-host", "i686-pc-windows-gnu");
    let app = build_bin("demo-app", "demo-app", "x86_64-pc-windows-gnu");
    let wine = Wine::get();
    let mut cmd = wine.command(&host);
    cmd.env("DEMO_WIN_LIBRARY", Wine::path(&build.join("demo32.dll")));
    let (mut listener, endpoint) = listening_host(cmd, None);
    assert!(endpoint.starts_with(r"\\.\pipe\"), "{endpoint}");
    let out = run(wine.command(&app).args(["--connect", &endpoint]), Duration::from_secs(180));
    let _ = listener.kill();
    let _ = listener.wait();
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(lines(&out.stdout), EXPECTED);
}

#[test]
fn the_demo_app_runs_on_windows_under_wine() {
    let build = demo_library();
    let host = build_bin("demo-win-host", "demo-win-host", "i686-pc-windows-gnu");
    let app = build_bin("demo-app", "demo-app", "x86_64-pc-windows-gnu");
    let wine = Wine::get();
    let mut cmd = wine.command(&app);
    cmd.env("DEMO_WIN_HOST", Wine::path(&host))
        .env("DEMO_WIN_LIBRARY", Wine::path(&build.join("demo32.dll")));
    let out = run(&mut cmd, Duration::from_secs(180));
    assert_eq!(out.code, Some(0), "stdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert_eq!(lines(&out.stdout), EXPECTED);
}
