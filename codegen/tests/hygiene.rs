//! Generated code is hygienic: a header whose structs are named like runtime items
//! (`scratch`, `client`, `writer`, `reader`, `ok`, `keep`) and whose parameters are named
//! like every local the generated code ever had (tests/fixtures/hygiene.h) still
//! generates, builds (client for this machine, host for i686 Linux) and gives the right
//! results through a real 32-bit host.

mod common;

use common::{generate_build_run, repo, run, scratch};
use std::process::Command;

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
    let dir = scratch("hygiene");
    let fixtures = repo().join("tests/fixtures");
    for f in ["hygiene.h", "hygiene.yaml"] {
        std::fs::copy(fixtures.join(f), dir.join(f)).unwrap();
    }
    run(Command::new("gcc")
        .args(["-m32", "-shared", "-fPIC", "-O1", "-o"])
        .arg(dir.join("libhygiene32.so"))
        .arg(fixtures.join("hygiene.c")));
    let out = generate_build_run(&dir, "hygiene.yaml", "hygiene", &dir.join("libhygiene32.so"), APP);
    assert_eq!(out.trim(), "hygiene: ok");
    let _ = std::fs::remove_dir_all(&dir);
}
