//! A header written for C++ (tests/fixtures/cpp_api.h: struct names without `struct`, a
//! default argument in a C++-only branch, `extern "C"` around the C API, a namespace beside
//! it) is parsed in the C++ mode `language: c++` selects: its C API generates, builds and
//! runs through a real 32-bit host; in C it does not parse.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output().unwrap()
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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
    let dir = std::env::temp_dir().join(format!("dllgen-cplusplus-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = repo().join("tests/fixtures");
    for f in ["cpp_api.h", "cpp_api.yaml"] {
        std::fs::copy(fixtures.join(f), dir.join(f)).unwrap();
    }
    // Compiled as C++, linked as C: it needs nothing of libstdc++ (whose 32-bit build is
    // not installed).
    ok(Command::new("g++")
        .args(["-m32", "-fPIC", "-O1", "-fno-exceptions", "-fno-rtti", "-c", "-o"])
        .arg(dir.join("cpp_api.o"))
        .arg(fixtures.join("cpp_api.cpp")));
    ok(Command::new("gcc")
        .args(["-m32", "-shared", "-o"])
        .arg(dir.join("libcpp_api32.so"))
        .arg(dir.join("cpp_api.o")));
    // As C, the header does not parse (a struct name used without `struct`).
    let c_spec = std::fs::read_to_string(dir.join("cpp_api.yaml")).unwrap().replace("language: c++\n", "");
    std::fs::write(dir.join("as_c.yaml"), c_spec).unwrap();
    let as_c = run(Command::new(env!("CARGO_BIN_EXE_dllgen")).args(["check", "as_c.yaml"]).current_dir(&dir));
    assert!(!as_c.status.success());
    assert!(
        String::from_utf8_lossy(&as_c.stderr).contains("cpp_api.h"),
        "{}",
        String::from_utf8_lossy(&as_c.stderr)
    );

    ok(Command::new(env!("CARGO_BIN_EXE_dllgen"))
        .args(["generate", "cpp_api.yaml", "--out", "out", "--runtime"])
        .arg(repo().join("runtime"))
        .current_dir(&dir));
    let app = dir.join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"cpp-api-app\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n\
         cpp-api-client = { path = \"../out/cpp-api-client\" }\n",
    )
    .unwrap();
    std::fs::write(app.join("src/main.rs"), APP).unwrap();
    // The hygiene test's target folder: the runtime is built once for all of these.
    let target = repo().join("target/hygiene");
    let cargo = || {
        let mut c = Command::new(env!("CARGO"));
        c.arg("build").arg("--offline").arg("--quiet").arg("--target-dir").arg(&target);
        c
    };
    ok(cargo()
        .args(["--target", "i686-unknown-linux-gnu", "--manifest-path"])
        .arg(dir.join("out/cpp-api-host/Cargo.toml")));
    ok(cargo().arg("--manifest-path").arg(app.join("Cargo.toml")));
    let out = ok(Command::new(target.join("debug/cpp-api-app"))
        .env("CPP_API_HOST", target.join("i686-unknown-linux-gnu/debug/cpp-api-host"))
        .env("CPP_API_LIBRARY", dir.join("libcpp_api32.so")));
    assert_eq!(out.trim(), "c++: ok");
    let _ = std::fs::remove_dir_all(&dir);
}
