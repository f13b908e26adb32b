//! `dllgen::Builder`, as a build script uses it: the same crates as `dllgen generate`, the
//! inputs cargo should watch, and errors that leave the previous output alone.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dllgen-builder-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_build_script_generates_what_the_command_does() {
    dllgen_tests::demo_library();
    let out = scratch("demo");
    let spec = repo().join("specs/demo.yaml");
    let written = dllgen::Builder::new(&spec).out_dir(&out).rerun_if_changed(false).generate().unwrap();
    assert!(written.contains(&out.join("demo-client/src/lib.rs")), "{written:?}");
    assert!(written.contains(&out.join("demo-proxy/src/lib.rs")), "{written:?}");
    for f in ["demo-client/src/lib.rs", "demo-host/src/main.rs", "demo-proxy/src/lib.rs"] {
        let ours = std::fs::read_to_string(out.join(f)).unwrap();
        let checked_in = std::fs::read_to_string(repo().join("generated").join(f)).unwrap();
        assert_eq!(ours, checked_in, "{f}: the same as `dllgen generate`");
    }
    // What the script is run again for: the spec, its header, its library.
    let r = dllgen::builder::render(&spec, &out, None, false).unwrap();
    let names: Vec<String> =
        r.inputs.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["demo.yaml", "demo.h", "libdemo32.so"]);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_spec_with_problems_writes_nothing_and_says_where() {
    let out = scratch("bad");
    let spec = repo().join("tests/spec-errors/proxy.yaml");
    let e = dllgen::Builder::new(&spec).out_dir(&out).rerun_if_changed(false).generate().unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, dllgen::GenerateError::Problems(_)), "{text}");
    assert!(
        text.contains("proxy.yaml:6:") && text.contains("problems found; nothing was generated"),
        "{text}"
    );
    assert!(!out.exists(), "nothing written");
}
