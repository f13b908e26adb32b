//! A header written for C++ (tests/fixtures/cpp_api.h: struct names without `struct`, a
//! default argument in a C++-only branch, `extern "C"` around the C API, a namespace beside
//! it) is parsed in the C++ mode `language: c++` selects: its C API generates, builds and
//! runs through a real 32-bit host; in C it does not parse.

mod common;

use common::{generate_build_run, repo, run, scratch};
use std::process::Command;

const APP: &str = r#"use cpp_api_client::*;

fn main() {
    let c = CppApi::new();
    assert_eq!(CP_VERSION, 3);
    assert_eq!(c.cp_weigh(CpPoint { x: 2, y: 5 }, 3), Ok(21));
    assert_eq!(c.cp_scale(&CpPoint { x: -4, y: 7 }, 3), Ok(CpPoint { x: -12, y: 21 }));
    println!("c++: ok");
}
"#;

#[test]
fn a_header_written_for_cplusplus_parses_in_cplusplus_mode_and_runs() {
    let dir = scratch("cplusplus");
    let fixtures = repo().join("tests/fixtures");
    for f in ["cpp_api.h", "cpp_api.yaml"] {
        std::fs::copy(fixtures.join(f), dir.join(f)).unwrap();
    }
    // Compiled as C++, linked as C: it needs nothing of libstdc++ (whose 32-bit build is
    // not installed).
    run(Command::new("g++")
        .args(["-m32", "-fPIC", "-O1", "-fno-exceptions", "-fno-rtti", "-c", "-o"])
        .arg(dir.join("cpp_api.o"))
        .arg(fixtures.join("cpp_api.cpp")));
    run(Command::new("gcc")
        .args(["-m32", "-shared", "-o"])
        .arg(dir.join("libcpp_api32.so"))
        .arg(dir.join("cpp_api.o")));
    // As C, the header does not parse (a struct name used without `struct`).
    let c_spec = std::fs::read_to_string(dir.join("cpp_api.yaml")).unwrap().replace("language: c++\n", "");
    std::fs::write(dir.join("as_c.yaml"), c_spec).unwrap();
    let as_c = Command::new(env!("CARGO_BIN_EXE_dllgen"))
        .args(["check", "as_c.yaml"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!as_c.status.success());
    assert!(
        String::from_utf8_lossy(&as_c.stderr).contains("cpp_api.h"),
        "{}",
        String::from_utf8_lossy(&as_c.stderr)
    );
    let out = generate_build_run(&dir, "cpp_api.yaml", "cpp-api", &dir.join("libcpp_api32.so"), APP);
    assert_eq!(out.trim(), "c++: ok");
    let _ = std::fs::remove_dir_all(&dir);
}
