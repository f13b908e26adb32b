//! Golden tests of `dllgen init`: the draft for each case, then what `dllgen check` says
//! about the draft as it is (only what stays ambiguous). DLLGEN_BLESS=1 rewrites them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn bless_or_compare(golden: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("DLLGEN_BLESS").is_some() {
        std::fs::write(golden, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(golden).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "{} differs (DLLGEN_BLESS=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{actual}",
            golden.display()
        )
    })
}

/// (case, header, library, check exit code)
const CASES: &[(&str, &str, &str, i32)] = &[
    ("kinds", "fixtures/kinds.h", "lib/fx_kinds.dll", 1),
    ("kinds_linux", "fixtures/kinds.h", "lib/libfx_kinds32.so", 1),
    ("stdcall", "fixtures/stdcall.h", "lib/fx_stdcall.dll", 0),
    ("cdecl_vs_cpp", "fixtures/cdecl.h", "lib/fx_cpp.dll", 0),
    // A real header (Debian's zlib, fetched by tests/setup/libs.sh): gzFile, a pointer to a
    // struct zlib defines, is proposed as a handle since functions return and take it.
    ("zlib", "real/zlib/include/zlib.h", "real/zlib/i386/libz.so.1", 1),
];

#[test]
fn drafts_match_their_golden_files_and_check_reports_only_the_ambiguous() {
    let mut failures = Vec::new();
    for (case, header, library, check_code) in CASES {
        let dir = std::env::temp_dir().join(format!("dllgen-init-{}-{case}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(repo().join("tests/fixtures"), dir.join("fixtures")).unwrap();
        std::os::unix::fs::symlink(dllgen_tests::fixtures(), dir.join("lib")).unwrap();
        std::os::unix::fs::symlink(repo().join("tests/real"), dir.join("real")).unwrap();
        let dllgen = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_dllgen")).args(args).current_dir(&dir).output().unwrap()
        };
        let init = dllgen(&["init", "--header", header, "--dll", library, "--name", case, "-o", "spec.yaml"]);
        assert!(init.status.success(), "{case}: {}", String::from_utf8_lossy(&init.stderr));
        let draft = std::fs::read_to_string(dir.join("spec.yaml")).unwrap();
        failures.extend(bless_or_compare(&repo().join(format!("tests/init/{case}.yaml")), &draft));
        let check = dllgen(&["check", "spec.yaml"]);
        let said = String::from_utf8_lossy(&check.stderr).replace(&format!("{}/", dir.display()), "")
            + &String::from_utf8_lossy(&check.stdout);
        if check.status.code() != Some(*check_code) {
            failures.push(format!(
                "{case}: check exited {:?}, expected {check_code}:\n{said}",
                check.status.code()
            ));
        }
        failures.extend(bless_or_compare(&repo().join(format!("tests/init/{case}.check")), &said));
        // A second init refuses to overwrite the first.
        let again = dllgen(&["init", "--header", header, "--dll", library, "-o", "spec.yaml"]);
        assert_eq!(again.status.code(), Some(2), "{case}: init overwrote an existing spec");
        assert_eq!(std::fs::read_to_string(dir.join("spec.yaml")).unwrap(), draft);
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
