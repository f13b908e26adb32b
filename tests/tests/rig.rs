//! Proves the 32-bit test rig on this machine: a 32-bit process loads a 32-bit library and
//! calls into it, and a 64-bit process gets the operating system's refusal. Natively for
//! ELF shared objects; under Wine for PE DLLs.

use dllgen_tests::{fixture, fixtures, probe, run, Output, Wine};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const LINUX32: &str = "i686-unknown-linux-gnu";
const LINUX64: &str = "x86_64-unknown-linux-gnu";
const WIN32: &str = "i686-pc-windows-gnu";
const WIN64: &str = "x86_64-pc-windows-gnu";

fn native(target: &str, lib: &Path, args: &[&str]) -> Output {
    run(Command::new(probe(target)).arg(lib).args(args), Duration::from_secs(60))
}

fn wine(target: &str, lib: &Path, args: &[&str]) -> Output {
    let wine = Wine::get();
    let mut cmd = wine.command(&probe(target));
    // Forwarders name sibling DLLs, found through WINEPATH like PATH on Windows.
    cmd.env("WINEPATH", Wine::path(fixtures())).arg(Wine::path(lib)).args(args);
    run(&mut cmd, Duration::from_secs(120))
}

#[track_caller]
fn assert_ok(out: &Output, expected: i32) {
    assert_eq!(
        (out.code, out.stdout.trim()),
        (Some(0), format!("ok {expected}").as_str()),
        "stderr: {}",
        out.stderr
    );
}

#[track_caller]
fn assert_refused(out: &Output, message: &str) {
    assert_eq!(out.code, Some(3), "expected the loader to refuse: {out:?}");
    assert!(out.stdout.contains(message), "expected {message:?} in {:?}", out.stdout);
}

#[test]
fn linux_32bit_process_loads_32bit_shared_object() {
    let lib = fixture("libfx_cdecl32.so");
    assert_ok(&native(LINUX32, &lib, &["fx_add", "2", "40"]), 42);
    // The callee itself reports 4-byte pointers: this really is 32-bit code running.
    assert_ok(&native(LINUX32, &lib, &["fx_pointer_size", "0", "0"]), 4);
}

#[test]
fn linux_64bit_process_is_refused_a_32bit_shared_object() {
    assert_refused(
        &native(LINUX64, &fixture("libfx_cdecl32.so"), &["fx_add", "2", "40"]),
        "wrong ELF class: ELFCLASS32",
    );
    // The same library built 64-bit loads, so the refusal is about the class alone.
    assert_ok(&native(LINUX64, &fixture("libfx_cdecl64.so"), &["fx_pointer_size", "0", "0"]), 8);
}

#[test]
fn wine_32bit_process_loads_32bit_dlls() {
    assert_ok(&wine(WIN32, &fixture("fx_cdecl.dll"), &["fx_add", "2", "40"]), 42);
    assert_ok(&wine(WIN32, &fixture("fx_cdecl.dll"), &["fx_pointer_size", "0", "0"]), 4);
    // stdcall, exported decorated and with --kill-at.
    assert_ok(&wine(WIN32, &fixture("fx_stdcall.dll"), &["fx_add_std@8", "5", "6", "system"]), 11);
    assert_ok(&wine(WIN32, &fixture("fx_stdcall_killat.dll"), &["fx_add_std", "5", "6", "system"]), 11);
    // Ordinal-only exports: ordinal 6 is ord_hidden_a (a + 2), ordinal 9 ord_hidden_b (a + 3).
    assert_ok(&wine(WIN32, &fixture("fx_ordinals.dll"), &["#6", "40", "0"]), 42);
    assert_ok(&wine(WIN32, &fixture("fx_ordinals.dll"), &["#9", "40", "0"]), 43);
    // A forwarder resolved by the loader into fx_cdecl.dll.
    assert_ok(&wine(WIN32, &fixture("fx_forward.dll"), &["fwd_add", "40", "2"]), 42);
    // An import by ordinal (ord_hidden_a: 42) and a delay-loaded one (fx_add: 42).
    assert_ok(&wine(WIN32, &fixture("fx_importer.dll"), &["imp_call", "40", "2"]), 84);
}

#[test]
fn wine_64bit_process_is_refused_a_32bit_dll() {
    // ERROR_BAD_EXE_FORMAT, as on Windows.
    assert_refused(&wine(WIN64, &fixture("fx_cdecl.dll"), &["fx_add", "2", "40"]), "error 193");
    assert_ok(&wine(WIN64, &fixture("fx_cdecl64.dll"), &["fx_pointer_size", "0", "0"]), 8);
}
