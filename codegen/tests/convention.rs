//! A header that names the wrong calling convention (tests/fixtures/convention.h: a
//! stdcall function declared cdecl, a cdecl one declared stdcall) still generates and
//! builds, and at run time the host's stack-pointer check fails each wrong call with an
//! error naming the convention the function really has, restores its stack and serves the
//! next call, instead of crashing (before the check: a corrupted host stack). Before any
//! call, `check` and `audit --header` already say so from the code: each function's first
//! `ret` pops what the other convention pops.

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
    let dllgen = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_dllgen")).args(args).current_dir(&dir).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // `check` passes, with a warning for each wrong convention (and none for cv_ok).
    let (code, _, stderr) = dllgen(&["check", "convention.yaml"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: `cv_std` is called as cdecl, but its code returns with `ret 8`: it is stdcall, with 8 bytes of arguments"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: `cv_cdecl` is called as stdcall (12 bytes of arguments), but its code returns with a plain `ret`: it is cdecl"),
        "{stderr}"
    );
    assert!(!stderr.contains("cv_ok"), "{stderr}");
    // The audit of the library against the header says the same.
    let (code, stdout, stderr) =
        dllgen(&["audit", "libconvention32.so", "--header", "convention.h", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let found: Vec<(&str, &str)> = report["header_check"]["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["function"].as_str().unwrap(), m["problem"].as_str().unwrap()))
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].0 == "cv_cdecl" && found[0].1.contains("plain `ret`"), "{found:?}");
    assert!(found[1].0 == "cv_std" && found[1].1.contains("`ret 8`"), "{found:?}");
    let out = generate_build_run(&dir, "convention.yaml", "convention", &dir.join("libconvention32.so"), APP);
    assert_eq!(out.trim(), "convention: ok");
    let _ = std::fs::remove_dir_all(&dir);
}
