//! Generated code is hygienic: a header whose structs are named like runtime items
//! (`scratch`, `client`, `writer`, `reader`, `ok`, `keep`) and whose parameters are named
//! like every local the generated code ever had (tests/fixtures/hygiene.h) still
//! generates, builds (client for this machine, host for i686 Linux) and gives the right
//! results through a real 32-bit host.

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

/// A program using the generated client: every result depends on every argument.
const APP: &str = r#"use hygiene_client::*;

fn main() {
    let h = Hygiene::new();
    let weighted = |n: i32| (1..=n).map(|i| i * i).sum::<i32>();
    assert_eq!(h.hy_locals(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14).unwrap(), weighted(14));
    assert_eq!(h.hy_more(1, 2, 3, 4, 5, 6, 7, 8, 9).unwrap(), weighted(9));
    assert_eq!(h.hy_buffers(&[1, 2, 3], 10, 4).unwrap(), (16, vec![1, 2, 3, 4]));
    let mut scratch = Scratch { args: 5, out: 0 };
    let mut ok = Ok2 { v: 1 };
    let client = Client { keep: 7.0, self_: 3 };
    let (ret, reader) = h.hy_structs(&mut scratch, &client, Writer { w: 2, r: 4 }, &mut ok, &Keep { f: 6 }).unwrap();
    assert_eq!((ret, scratch.out, reader.len, ok.v), (3, 7, 11, 7));
    let mut seen = Vec::new();
    let got = h.hy_visit(&mut |id, s| { seen.push(s.to_string()); id + s.len() as i32 }, 9).unwrap();
    assert_eq!((got, seen), (16, vec!["hygiene".to_string()]));
    println!("hygiene: ok");
}
"#;

#[test]
fn names_like_the_generated_codes_own_still_generate_build_and_run() {
    let dir = std::env::temp_dir().join(format!("dllgen-hygiene-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fixtures = repo().join("tests/fixtures");
    for f in ["hygiene.h", "hygiene.yaml"] {
        std::fs::copy(fixtures.join(f), dir.join(f)).unwrap();
    }
    run(Command::new("gcc")
        .args(["-m32", "-shared", "-fPIC", "-O1", "-o"])
        .arg(dir.join("libhygiene32.so"))
        .arg(fixtures.join("hygiene.c")));
    let runtime = repo().join("runtime");
    run(Command::new(env!("CARGO_BIN_EXE_dllgen"))
        .args(["generate", "hygiene.yaml", "--out", "out", "--runtime"])
        .arg(&runtime)
        .current_dir(&dir));

    let app = dir.join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"hygiene-app\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n\
         hygiene-client = { path = \"../out/hygiene-client\" }\n",
    )
    .unwrap();
    std::fs::write(app.join("src/main.rs"), APP).unwrap();
    // One target folder for every run of this test: the runtime is built once.
    let target = repo().join("target/hygiene");
    let cargo = || {
        let mut c = Command::new(env!("CARGO"));
        c.arg("build").arg("--offline").arg("--quiet").arg("--target-dir").arg(&target);
        c
    };
    run(cargo()
        .args(["--target", "i686-unknown-linux-gnu", "--manifest-path"])
        .arg(dir.join("out/hygiene-host/Cargo.toml")));
    run(cargo().arg("--manifest-path").arg(app.join("Cargo.toml")));
    let out = run(Command::new(target.join("debug/hygiene-app"))
        .env("HYGIENE_HOST", target.join("i686-unknown-linux-gnu/debug/hygiene-host"))
        .env("HYGIENE_LIBRARY", dir.join("libhygiene32.so")));
    assert_eq!(out.trim(), "hygiene: ok");
    let _ = std::fs::remove_dir_all(&dir);
}
