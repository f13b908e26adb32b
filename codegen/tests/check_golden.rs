//! Golden tests of `dllgen check`, discovered from folders:
//! - `tests/specs/NAME.yaml` must pass; `--dump-model` must equal `NAME.model`;
//! - `tests/spec-errors/NAME.yaml` must fail; stderr must equal `NAME.stderr`.
//!
//! Each spec runs in a scratch folder where `fixtures` is tests/fixtures and `lib` the
//! built fixture binaries, so its paths are short and its output has no machine paths.
//! Set DLLGEN_BLESS=1 to rewrite the golden files from the current output.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A scratch folder with `fixtures` and `lib` links and the spec copied in.
fn stage(spec: &Path) -> PathBuf {
    // The folder is part of the name: tests/specs and tests/spec-errors both hold a
    // `rules.yaml`, staged by tests running at the same time.
    let name = spec.file_stem().unwrap().to_string_lossy().into_owned();
    let folder = spec.parent().and_then(|p| p.file_name()).unwrap_or_default().to_string_lossy().into_owned();
    let dir = std::env::temp_dir().join(format!("dllgen-golden-{}-{folder}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(repo().join("tests/fixtures"), dir.join("fixtures")).unwrap();
    std::os::unix::fs::symlink(dllgen_tests::fixtures(), dir.join("lib")).unwrap();
    std::fs::copy(spec, dir.join(spec.file_name().unwrap())).unwrap();
    dir
}

fn cases(folder: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo().join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases in {folder}");
    out
}

/// Compares with the golden file (or rewrites it when blessing); returns a failure text.
fn compare(golden: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("DLLGEN_BLESS").is_some() {
        std::fs::write(golden, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_default();
    if expected == actual {
        return None;
    }
    let mut diff = String::new();
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => {}
            (x, y) => {
                diff.push_str(&format!(
                    "  line {}:\n    - {}\n    + {}\n",
                    i + 1,
                    x.unwrap_or(&"<none>"),
                    y.unwrap_or(&"<none>")
                ));
            }
        }
    }
    Some(format!("{} differs (DLLGEN_BLESS=1 rewrites it):\n{diff}", golden.display()))
}

fn run_check(dir: &Path, spec: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dllgen"))
        .arg("check")
        .arg(spec.file_name().unwrap())
        .args(extra)
        .current_dir(dir)
        .output()
        .unwrap();
    let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&format!("{}/", dir.display()), "");
    (out.status.code(), clean(&out.stdout), clean(&out.stderr))
}

#[test]
fn valid_specs_dump_their_golden_model() {
    let mut failures = Vec::new();
    for spec in cases("tests/specs") {
        let dir = stage(&spec);
        let (code, stdout, stderr) = run_check(&dir, &spec, &["--dump-model"]);
        if code != Some(0) {
            failures.push(format!("{} failed:\n{stderr}", spec.display()));
        } else if let Some(f) = compare(&spec.with_extension("model"), &stdout) {
            failures.push(f);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn bad_specs_report_every_problem_with_its_position() {
    let mut failures = Vec::new();
    for spec in cases("tests/spec-errors") {
        let dir = stage(&spec);
        let (code, stdout, stderr) = run_check(&dir, &spec, &[]);
        if code != Some(1) || !stdout.is_empty() {
            failures.push(format!(
                "{}: expected exit 1 and no stdout, got {code:?}:\n{stdout}{stderr}",
                spec.display()
            ));
        } else if let Some(f) = compare(&spec.with_extension("stderr"), &stderr) {
            failures.push(f);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_summary_names_the_model_hash() {
    let spec = repo().join("tests/specs/kinds.yaml");
    let dir = stage(&spec);
    let (code, stdout, _) = run_check(&dir, &spec, &[]);
    assert_eq!(code, Some(0));
    let hash = stdout.trim().rsplit(' ').next().unwrap().to_string();
    assert!(
        stdout.starts_with("kinds.yaml: ok: 79 functions, 2 handles, 13 structs, 14 callbacks; model hash "),
        "{stdout}"
    );
    assert_eq!(hash.len(), 16);
    // The same spec gives the same hash; a different library build gives another.
    let (_, again, _) = run_check(&dir, &spec, &[]);
    assert_eq!(stdout, again);
    let linux = repo().join("tests/specs/kinds_linux.yaml");
    let dir2 = stage(&linux);
    let (_, other, _) = run_check(&dir2, &linux, &[]);
    assert_ne!(other.trim().rsplit(' ').next().unwrap(), hash);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

/// `generate` on a spec with something emit does not support (a struct nested at an
/// offset its alignment forbids: `#pragma pack(1)`) refuses the whole spec, names every such
/// item with a hint, and writes nothing.
#[test]
fn generate_refuses_what_it_cannot_emit_and_writes_nothing() {
    let dir = std::env::temp_dir().join(format!("dllgen-refuse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("packed.h"),
        "#include <stdint.h>\n\
         typedef struct { int32_t a, b; } inner;\n\
         #pragma pack(push, 1)\n\
         typedef struct { uint8_t tag; inner in; int32_t odd; } outer;\n\
         #pragma pack(pop)\n\
         int use(const outer *o);\n\
         int also(const outer *o);\n",
    )
    .unwrap();
    std::fs::write(dir.join("packed.c"), "#include \"packed.h\"\nint use(const outer *o) { return o->odd; }\nint also(const outer *o) { return o->tag; }\n").unwrap();
    let cc = Command::new("gcc")
        .args(["-m32", "-shared", "-fPIC", "-o", "libpacked.so", "packed.c"])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(cc.success());
    std::fs::write(
        dir.join("packed.yaml"),
        "name: packed\nheader: packed.h\nlibrary: libpacked.so\nerror: none\nfunctions:\n  use: { params: { o: in } }\n  also: { params: { o: in } }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dllgen"))
        .args(["generate", "packed.yaml", "--out", "out"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot emit these yet"), "{err}");
    assert!(
        err.contains("field `in`: a struct or array at an offset its alignment forbids (packed)"),
        "{err}"
    );
    assert!(err.contains("hint: list their functions under `exports: exclude:`"), "{err}");
    assert!(!dir.join("out").exists(), "generate wrote output");
    let _ = std::fs::remove_dir_all(&dir);
}
