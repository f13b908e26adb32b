//! Benchmark: `dllgen check` on a generated library of 300 functions (scalars, SAL
//! buffers and strings, handles, structs by pointer, stdcall), next to the floor of
//! parsing the same header with clang for the same target, measured in the same run; then
//! `dllgen generate` on the same library against `dllgen check` of the same spec, which it
//! runs first.
//!
//! Run: `cargo bench -p dllgen --bench check` (docs/PERFORMANCE.md has the figures).

use std::fmt::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FUNCTIONS: usize = 300;

/// Header, implementation and spec for 300 functions in five shapes.
fn sources() -> (String, String, String) {
    let mut h = String::from(
        "#include <windows.h>\n#include <stdint.h>\ntypedef struct bench_dev bench_dev;\n\
         typedef struct { int32_t a; double b; uint8_t tag[8]; } bench_rec;\n",
    );
    let mut c =
        String::from("#define BENCH_API __declspec(dllexport)\n#include \"bench.h\"\n#include <string.h>\n");
    for i in 0..FUNCTIONS {
        let (decl, body) = match i % 5 {
            0 => (format!("int WINAPI bench_add{i}(int a, int b)"), "return a + b;"),
            1 => (
                format!("int WINAPI bench_sum{i}(_In_reads_(n) const int32_t *v, int n)"),
                "int s = 0; for (int k = 0; k < n; k++) s += v[k]; return s;",
            ),
            2 => (
                format!(
                    "int WINAPI bench_name{i}(_In_ bench_dev *d, _Out_writes_z_(cap) char *buf, int cap)"
                ),
                "(void)d; if (cap > 0) buf[0] = 0; return 0;",
            ),
            3 => (
                format!("int WINAPI bench_rec{i}(_In_ bench_dev *d, _Out_ bench_rec *r)"),
                "(void)d; memset(r, 0, sizeof *r); return 0;",
            ),
            _ => (
                format!("int WINAPI bench_open{i}(_In_z_ const char *path, _Outptr_ bench_dev **out)"),
                "(void)path; *out = 0; return 0;",
            ),
        };
        let _ = writeln!(h, "/** Function {i}. */\nBENCH_API {decl};");
        let _ = writeln!(c, "{decl} {{ {body} }}");
    }
    h = format!("#ifndef BENCH_API\n#define BENCH_API\n#endif\n{h}");
    let spec = "name: bench\nheader: bench.h\nlibrary: bench.dll\nhandles:\n  Dev: { c_type: bench_dev }\n"
        .to_string();
    (h, c, spec)
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut v: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v[v.len() / 2]
}

fn run(dir: &Path, program: &str, args: &[&str]) -> impl FnMut() {
    let (dir, program, args) =
        (dir.to_path_buf(), program.to_string(), args.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    move || {
        let out =
            Command::new(&program).args(&args).current_dir(&dir).stdout(Stdio::null()).output().unwrap();
        assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Prints `rows` in ms, each as a ratio to the first (the baseline).
fn table(ratio: &str, rows: &[(&str, Duration)]) {
    println!("{:<46} {:>9} {:>10}", "", "ms", ratio);
    for (label, d) in rows {
        println!(
            "{label:<46} {:>9.1} {:>10.2}",
            d.as_secs_f64() * 1e3,
            d.as_secs_f64() / rows[0].1.as_secs_f64()
        );
    }
}

fn main() {
    let dir = std::env::temp_dir().join(format!("dllgen-bench-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (h, c, spec) = sources();
    std::fs::write(dir.join("bench.h"), h).unwrap();
    std::fs::write(dir.join("bench.c"), c).unwrap();
    std::fs::write(dir.join("bench.yaml"), spec).unwrap();
    let cc = Command::new("i686-w64-mingw32-gcc")
        .args(["-O1", "-shared", "-static-libgcc", "-o", "bench.dll", "bench.c"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(cc.success(), "building bench.dll failed");

    let runs = 11;
    let floor =
        time(runs, run(&dir, "clang", &["--target=i686-w64-mingw32", "-fsyntax-only", "-x", "c", "bench.h"]));
    let check = time(runs, run(&dir, env!("CARGO_BIN_EXE_dllgen"), &["check", "bench.yaml"]));
    println!("check of a {FUNCTIONS}-function header including <windows.h>, median of {runs} runs");
    table(
        "x floor",
        &[
            ("clang -fsyntax-only on the header (floor)", floor),
            ("dllgen check (spec + DLL + header + model)", check),
        ],
    );

    // Emission: generate against check of the same spec.
    std::fs::copy(dir.join("bench.yaml"), dir.join("gen.yaml")).unwrap();
    let base = time(runs, run(&dir, env!("CARGO_BIN_EXE_dllgen"), &["check", "gen.yaml"]));
    let generate =
        time(runs, run(&dir, env!("CARGO_BIN_EXE_dllgen"), &["generate", "gen.yaml", "--out", "out"]));
    let lines: usize = ["out/bench-host/src/main.rs", "out/bench-client/src/lib.rs"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap().lines().count())
        .sum();
    println!();
    println!("generate of all {FUNCTIONS} functions ({lines} lines of Rust), median of {runs} runs");
    table(
        "x check",
        &[
            ("dllgen check of the same spec (baseline)", base),
            ("dllgen generate (+ render, format, write)", generate),
        ],
    );
    // DLLGEN_BENCH_KEEP=1 keeps the folder (to build the generated crates, say).
    if std::env::var_os("DLLGEN_BENCH_KEEP").is_some() {
        println!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
