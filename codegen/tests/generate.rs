//! `dllgen generate`: the checked-in demo crates are up to date, output is deterministic,
//! `--check` names stale files, and a failed generation leaves the previous output alone.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn dllgen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dllgen")).args(args).current_dir(repo()).output().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dllgen-generate-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn the_checked_in_demo_crates_are_up_to_date() {
    dllgen_tests::demo_library();
    // DLLGEN_BLESS=1 rewrites them instead (then review the diff and commit it).
    let bless = std::env::var_os("DLLGEN_BLESS").is_some_and(|v| v == "1");
    for spec in [
        "specs/demo.yaml",
        "specs/demo-win.yaml",
        "specs/zlib.yaml",
        "specs/zlib-win.yaml",
        "specs/sqlite3.yaml",
        "specs/kernel32.yaml",
        "specs/advapi32.yaml",
        "specs/version.yaml",
    ] {
        let runtime = repo().join("runtime");
        let mut args = vec!["generate", spec, "--out", "generated", "--runtime", runtime.to_str().unwrap()];
        if !bless {
            args.push("--check");
        }
        let out = dllgen(&args);
        assert!(
            out.status.success(),
            "generated/ is stale; run `DLLGEN_BLESS=1 cargo test -p dllgen --test generate` or \
             `cargo run -p dllgen -- generate {spec} --out generated --runtime $PWD/runtime`:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Generates (or, without DLLGEN_BLESS=1, checks) `specs` into `out_dir`, each run from a
/// folder where `fixtures` is tests/fixtures and `lib` the built fixture binaries.
fn generate_from_stage(stage_name: &str, specs: &[PathBuf], out_dir: &Path) {
    let bless = std::env::var_os("DLLGEN_BLESS").is_some_and(|v| v == "1");
    let stage = scratch(stage_name);
    std::fs::create_dir_all(&stage).unwrap();
    std::os::unix::fs::symlink(repo().join("tests/fixtures"), stage.join("fixtures")).unwrap();
    std::os::unix::fs::symlink(dllgen_tests::fixtures(), stage.join("lib")).unwrap();
    for spec in specs {
        let name = spec.file_name().unwrap().to_str().unwrap();
        std::fs::copy(spec, stage.join(name)).unwrap();
        let runtime = repo().join("runtime");
        let mut args = vec![
            "generate",
            name,
            "--out",
            out_dir.to_str().unwrap(),
            "--runtime",
            runtime.to_str().unwrap(),
        ];
        if !bless {
            args.push("--check");
        }
        let out =
            Command::new(env!("CARGO_BIN_EXE_dllgen")).args(&args).current_dir(&stage).output().unwrap();
        assert!(
            out.status.success(),
            "{} is stale for {}; run `DLLGEN_BLESS=1 cargo test -p dllgen --test generate`:\n{}",
            out_dir.display(),
            spec.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&stage);
}

/// The kinds specs (tests/specs, every kind of specs/SCHEMA.md over tests/fixtures/kinds.h)
/// generate generated/kinds-linux-* and generated/kinds-*, which tests/tests/kinds.rs calls.
#[test]
fn the_checked_in_kinds_crates_are_up_to_date() {
    let specs = ["kinds_linux.yaml", "kinds.yaml"].map(|s| repo().join("tests/specs").join(s));
    generate_from_stage("kinds", &specs, &repo().join("generated"));
}

/// One small spec per kind (tests/expect/*.yaml, over tests/fixtures/kinds.h) generates
/// the crates beside it, checked in so a reviewer sees what one kind generates; the test
/// command builds them (workspace members; the hosts for i686 in its lint pass).
#[test]
fn the_checked_in_per_kind_expectations_are_up_to_date() {
    let out_dir = repo().join("tests/expect");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 10, "{specs:?}");
    generate_from_stage("expect", &specs, &out_dir);
}

#[test]
fn output_is_deterministic_and_check_names_stale_files() {
    dllgen_tests::demo_library();
    let (a, b) = (scratch("a"), scratch("b"));
    for dir in [&a, &b] {
        let out = dllgen(&["generate", "specs/demo.yaml", "--out", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for f in
        ["demo-host/Cargo.toml", "demo-host/src/main.rs", "demo-client/Cargo.toml", "demo-client/src/lib.rs"]
    {
        let (x, y) =
            (std::fs::read_to_string(a.join(f)).unwrap(), std::fs::read_to_string(b.join(f)).unwrap());
        assert_eq!(x, y, "{f} differs between two runs");
        assert!(
            x.starts_with("# generated by dllgen from demo.yaml; do not edit")
                || x.starts_with("// generated by dllgen from demo.yaml; do not edit"),
            "{f}"
        );
        // The checked-in copy names the runtime relatively.
        let checked_in = std::fs::read_to_string(repo().join("generated").join(f)).unwrap();
        assert!(!checked_in.contains(&*repo().to_string_lossy()), "generated/{f} holds an absolute path");
    }
    std::fs::write(a.join("demo-host/src/main.rs"), "// edited by hand\n").unwrap();
    let out = dllgen(&["generate", "specs/demo.yaml", "--out", a.to_str().unwrap(), "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("demo-host/src/main.rs") && !err.contains("demo-client"), "{err}");
    assert_eq!(
        std::fs::read_to_string(a.join("demo-host/src/main.rs")).unwrap(),
        "// edited by hand\n",
        "--check wrote"
    );
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn a_failed_generation_leaves_the_previous_output_untouched() {
    dllgen_tests::demo_library();
    let dir = scratch("keep");
    assert!(dllgen(&["generate", "specs/demo.yaml", "--out", dir.to_str().unwrap()]).status.success());
    let before = std::fs::read_to_string(dir.join("demo-client/src/lib.rs")).unwrap();
    // A spec that does not check: nothing is written.
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "name: demo\nheader: nope.h\nlibrary: nope.so\n").unwrap();
    let out = dllgen(&["generate", bad.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(dir.join("demo-client/src/lib.rs")).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".dllgen-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_write_that_fails_halfway_restores_everything() {
    dllgen_tests::demo_library();
    let dir = scratch("halfway");
    assert!(dllgen(&["generate", "specs/demo.yaml", "--out", dir.to_str().unwrap()]).status.success());
    let before = std::fs::read_to_string(dir.join("demo-client/src/lib.rs")).unwrap();
    std::fs::write(dir.join("demo-client/src/lib.rs"), "// older output\n").unwrap();
    // The host crate's staging folder cannot be created (a file is in the way), after the
    // client crate was already staged.
    std::fs::write(dir.join(".demo-host.dllgen-new"), "in the way").unwrap();
    let out = dllgen(&["generate", "specs/demo.yaml", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("previous output is untouched"));
    assert_eq!(std::fs::read_to_string(dir.join("demo-client/src/lib.rs")).unwrap(), "// older output\n");
    assert!(!dir.join(".demo-client.dllgen-new").exists(), "staging folder left behind");
    std::fs::remove_file(dir.join(".demo-host.dllgen-new")).unwrap();
    assert!(dllgen(&["generate", "specs/demo.yaml", "--out", dir.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read_to_string(dir.join("demo-client/src/lib.rs")).unwrap(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_crate_folder_dllgen_did_not_write_is_never_replaced() {
    dllgen_tests::demo_library();
    let dir = scratch("foreign");
    std::fs::create_dir_all(dir.join("demo-host/src")).unwrap();
    let mine = "[package]\nname = \"demo-host\"\n";
    std::fs::write(dir.join("demo-host/Cargo.toml"), mine).unwrap();
    std::fs::write(dir.join("demo-host/src/main.rs"), "fn main() {}\n").unwrap();
    let out = dllgen(&["generate", "specs/demo.yaml", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("was not generated by dllgen"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("demo-host/Cargo.toml")).unwrap(), mine);
    assert_eq!(std::fs::read_to_string(dir.join("demo-host/src/main.rs")).unwrap(), "fn main() {}\n");
    assert!(!dir.join("demo-client").exists(), "the other crate was written");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `cargo metadata` on a generated crate: the manifest parses (`--no-deps`: the runtime
/// inherits from its workspace, which a copy outside it lacks).
fn metadata(manifest: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--offline", "--no-deps", "--format-version", "1", "--manifest-path"])
        .arg(manifest)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}: {}", manifest.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Names from the user (the spec's file name, the library's, `--runtime`, header comments)
/// are escaped for the TOML or Rust they land in: quotes, backslashes and newlines cannot
/// end a string or a comment, and characters rustc refuses are spelled as escapes.
#[test]
fn names_from_the_user_are_escaped_in_toml_and_rust() {
    let lib = dllgen_tests::demo_library();
    let dir = scratch("escaped");
    std::fs::create_dir_all(&dir).unwrap();
    let library = "libdemo\"32\\.so";
    std::fs::copy(lib.join("libdemo32.so"), dir.join(library)).unwrap();
    let header = std::fs::read_to_string(repo().join("examples/demo/demo.h"))
        .unwrap()
        .replace("/** Adds two numbers. */", "// Adds */ two numbers \u{202e}reversed.")
        .replace("/** The sum of `n` values. */", "/** The sum\r of \u{1b}[31m `n` values. */");
    std::fs::write(dir.join("demo.h"), header).unwrap();
    let spec = "spec\nname = \"evil\".yaml";
    let demo = std::fs::read_to_string(repo().join("specs/demo.yaml")).unwrap();
    let demo = demo
        .replace("header: ../examples/demo/demo.h", "header: demo.h")
        .replace("library: ../examples/demo/build/libdemo32.so", "library: \"libdemo\\\"32\\\\.so\"");
    std::fs::write(dir.join(spec), demo).unwrap();
    let runtime = "we\"ird\\path";
    let out = Command::new(env!("CARGO_BIN_EXE_dllgen"))
        .args(["generate", spec, "--out", "out", "--runtime", runtime])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The runtime named relative to where dllgen ran, as seen from each crate.
    std::os::unix::fs::symlink(repo().join("runtime"), dir.join(runtime)).unwrap();
    for side in ["demo-host", "demo-client"] {
        let krate = dir.join("out").join(side);
        let meta = metadata(&krate.join("Cargo.toml"));
        let package = &meta["packages"].as_array().unwrap().iter().find(|p| p["name"] == side).unwrap();
        assert_eq!(
            package["description"].as_str().unwrap().split(", ").next().unwrap().split(" for ").nth(1),
            Some(library)
        );
        let dependency = &package["dependencies"][0];
        assert_eq!(dependency["path"].as_str(), Some(&*dir.join(runtime).to_string_lossy()));
        let toml = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
        assert!(
            toml.starts_with("# generated by dllgen from spec\\nname = \"evil\".yaml; do not edit\n"),
            "{toml}"
        );
    }
    let host = std::fs::read_to_string(dir.join("out/demo-host/src/main.rs")).unwrap();
    assert!(host.contains(r#"native::library_path("libdemo\"32\\.so""#), "{host}");
    let client = std::fs::read_to_string(dir.join("out/demo-client/src/lib.rs")).unwrap();
    assert!(client.contains(r"/// Adds */ two numbers \u{202e}reversed."), "{client}");
    assert!(client.contains(r"\u{1b}[31m `n` values."), "{client}");
    for text in [&host, &client] {
        assert!(!text.contains(['\r', '\u{1b}', '\u{202e}']), "a raw control or bidi character");
        assert!(text.starts_with("// generated by dllgen from spec\\nname = \"evil\".yaml; do not edit\n"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A line `dllgen init` marked `# review` is a guess nobody confirmed: `check` lists it as
/// a warning (and passes), `generate` refuses it, naming the line, and writes nothing;
/// `--accept-guesses` generates anyway.
#[test]
fn unconfirmed_guesses_are_listed_by_check_and_refused_by_generate() {
    dllgen_tests::demo_library();
    let demo = std::fs::read_to_string(repo().join("specs/demo.yaml")).unwrap();
    let marked = demo.replacen(
        "  Device: { c_type: demo_device, close: demo_close }",
        "  Device: { c_type: demo_device, close: demo_close }  # review: the close function?",
        1,
    );
    assert_ne!(marked, demo);
    // Beside specs/demo.yaml (its paths are relative), removed however the test ends.
    struct Removed(PathBuf);
    impl Drop for Removed {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let spec = repo().join(format!("specs/unconfirmed-test-{}.yaml", std::process::id()));
    let _guard = Removed(spec.clone());
    std::fs::write(&spec, &marked).unwrap();
    let out_dir = scratch("unconfirmed");
    let check = dllgen(&["check", spec.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&check.stderr).into_owned();
    assert!(check.status.success(), "{stderr}");
    assert!(
        stderr.contains(":15:3: warning: an unconfirmed guess `Device: { c_type: demo_device, close: demo_close }` (the close function?)"),
        "{stderr}"
    );
    let refused = dllgen(&["generate", spec.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(!refused.status.success());
    assert!(stderr.contains(":15:3: error: an unconfirmed guess"), "{stderr}");
    assert!(
        stderr.contains("1 unconfirmed guess (lines marked `# review`); nothing was generated"),
        "{stderr}"
    );
    assert!(!out_dir.exists(), "nothing written");
    let accepted =
        dllgen(&["generate", spec.to_str().unwrap(), "--out", out_dir.to_str().unwrap(), "--accept-guesses"]);
    assert!(accepted.status.success(), "{}", String::from_utf8_lossy(&accepted.stderr));
    assert!(out_dir.join("demo-client/src/lib.rs").is_file());
    let _ = std::fs::remove_dir_all(&out_dir);
}

/// Without `--runtime`, the runtime's source is written beside the crates (stamped with
/// this dllgen's version), so they build with no dllgen checkout; `--check` covers it: a
/// runtime an older dllgen wrote is stale, and regenerating replaces it.
#[test]
fn the_runtime_is_written_beside_the_crates_and_checked() {
    dllgen_tests::demo_library();
    let dir = scratch("vendored");
    assert!(dllgen(&["generate", "specs/demo.yaml", "--out", dir.to_str().unwrap()]).status.success());
    let runtime = dir.join("dllgen-runtime");
    let manifest = std::fs::read_to_string(runtime.join("Cargo.toml")).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert!(manifest.starts_with(&format!("# generated by dllgen {version}:")), "{manifest}");
    assert!(manifest.contains(&format!("\nversion = \"{version}\"\n")), "{manifest}");
    let client = std::fs::read_to_string(dir.join("demo-client/Cargo.toml")).unwrap();
    assert!(client.contains(r#"dllgen-runtime = { path = "../dllgen-runtime" }"#), "{client}");
    // The runtime's source, file for file.
    fn files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let (mut ours, mut written) = (Vec::new(), Vec::new());
    files(&repo().join("runtime/src"), &repo().join("runtime/src"), &mut ours);
    files(&runtime.join("src"), &runtime.join("src"), &mut written);
    ours.sort();
    written.sort();
    assert_eq!(ours, written);
    for f in &ours {
        let a = std::fs::read(repo().join("runtime/src").join(f)).unwrap();
        assert!(a == std::fs::read(runtime.join("src").join(f)).unwrap(), "{}", f.display());
    }
    // An older runtime: stale, named, then replaced.
    let wire = runtime.join("src/wire/mod.rs");
    std::fs::write(&wire, "// an older runtime\n").unwrap();
    let out = dllgen(&["generate", "specs/demo.yaml", "--out", dir.to_str().unwrap(), "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dllgen-runtime/src/wire/mod.rs"), "{err}");
    assert!(dllgen(&["generate", "specs/demo.yaml", "--out", dir.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read(&wire).unwrap(), std::fs::read(repo().join("runtime/src/wire/mod.rs")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The runtime written beside the crates has the dependencies and features of the
/// runtime crate itself (the `trace` feature's `tracing`).
#[test]
fn the_written_runtime_has_the_runtimes_dependencies_and_features() {
    let section = |toml: &str| -> String {
        let from = toml.find("[dependencies]").expect("a [dependencies] table");
        let to = toml[from..].find("[lints").map_or(toml.len(), |i| from + i);
        toml[from..to].trim().to_string()
    };
    let ours = std::fs::read_to_string(repo().join("runtime/Cargo.toml")).unwrap();
    let written = dllgen::emit::runtime_crate();
    let manifest = &written[Path::new("dllgen-runtime/Cargo.toml")];
    assert_eq!(section(manifest), section(&ours));
}
