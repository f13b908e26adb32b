//! A header that names the wrong calling convention (tests/fixtures/convention.h: a
//! stdcall function declared cdecl, a cdecl one declared stdcall) still generates and
//! builds, and at run time the host's stack-pointer check fails each wrong call with an
//! error naming the convention the function really has, restores its stack and serves the
//! next call, instead of crashing (before the check: a corrupted host stack).

mod common;

use common::{generate_build_run, repo, run, scratch};
use std::process::Command;

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
    let dir = scratch("convention");
    let fixtures = repo().join("tests/fixtures");
    for f in ["convention.h", "convention.yaml"] {
        std::fs::copy(fixtures.join(f), dir.join(f)).unwrap();
    }
    run(Command::new("gcc")
        .args(["-m32", "-shared", "-fPIC", "-O1", "-o"])
        .arg(dir.join("libconvention32.so"))
        .arg(fixtures.join("convention.c")));
    let out = generate_build_run(&dir, "convention.yaml", "convention", &dir.join("libconvention32.so"), APP);
    assert_eq!(out.trim(), "convention: ok");
    let _ = std::fs::remove_dir_all(&dir);
}
