//! A header that names the wrong calling convention (tests/fixtures/convention.h: a
//! stdcall function declared cdecl, a cdecl one declared stdcall) still generates and
//! builds, and at run time the host's stack-pointer check fails each wrong call with an
//! error naming the convention the function really has, restores its stack and serves the
//! next call, instead of crashing (before the check: a corrupted host stack).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const APP: &str = r#"use convention_client::*;

fn main() {
    let c = Convention::new();
    assert_eq!(c.cv_ok(1), Ok(2));
    let pid = c.client().host_pid();
    for _ in 0..3 {
        match c.cv_std(1, 2) {
            Err(Error::Protocol(m)) => assert!(m.contains("`cv_std` is stdcall") && m.contains("8 bytes"), "{m}"),
            other => panic!("cv_std: {other:?}"),
        }
        assert_eq!(c.cv_ok(5), Ok(6), "the host serves the next call");
        match c.cv_cdecl(1, 2, 3) {
            Err(Error::Protocol(m)) => assert!(m.contains("`cv_cdecl` is cdecl") && m.contains("12 bytes"), "{m}"),
            other => panic!("cv_cdecl: {other:?}"),
        }
        assert_eq!(c.cv_ok(7), Ok(8));
    }
    assert_eq!(c.client().host_pid(), pid, "the same host throughout");
    println!("convention: ok");
}
"#;

#[test]
fn a_wrong_calling_convention_is_named_and_the_host_lives_on() {
    let dir = std::env::temp_dir().join(format!("dllgen-convention-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = repo().join("tests/fixtures");
    for f in ["convention.h", "convention.yaml"] {
        std::fs::copy(fixtures.join(f), dir.join(f)).unwrap();
    }
    run(Command::new("gcc")
        .args(["-m32", "-shared", "-fPIC", "-O1", "-o"])
        .arg(dir.join("libconvention32.so"))
        .arg(fixtures.join("convention.c")));
    run(Command::new(env!("CARGO_BIN_EXE_dllgen"))
        .args(["generate", "convention.yaml", "--out", "out", "--runtime"])
        .arg(repo().join("runtime"))
        .current_dir(&dir));
    let app = dir.join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"convention-app\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n\
         convention-client = { path = \"../out/convention-client\" }\n",
    )
    .unwrap();
    std::fs::write(app.join("src/main.rs"), APP).unwrap();
    // The hygiene test's target folder: the runtime is built once for both.
    let target = repo().join("target/hygiene");
    let cargo = || {
        let mut c = Command::new(env!("CARGO"));
        c.arg("build").arg("--offline").arg("--quiet").arg("--target-dir").arg(&target);
        c
    };
    run(cargo()
        .args(["--target", "i686-unknown-linux-gnu", "--manifest-path"])
        .arg(dir.join("out/convention-host/Cargo.toml")));
    run(cargo().arg("--manifest-path").arg(app.join("Cargo.toml")));
    let out = run(Command::new(target.join("debug/convention-app"))
        .env("CONVENTION_HOST", target.join("i686-unknown-linux-gnu/debug/convention-host"))
        .env("CONVENTION_LIBRARY", dir.join("libconvention32.so")));
    assert_eq!(out.trim(), "convention: ok");
    let _ = std::fs::remove_dir_all(&dir);
}
