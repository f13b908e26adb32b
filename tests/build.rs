//! Builds the fixture binaries from tests/fixtures/*.c into OUT_DIR with fixtures/build.sh
//! (mingw for PE, gcc -m32 / native for ELF). `tests/setup/setup.sh` installs the compilers.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let here = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("fixtures");
    let fixtures = here.join("fixtures");
    println!("cargo:rerun-if-changed={}", fixtures.display());
    let status = Command::new("bash").arg(fixtures.join("build.sh")).arg(&out).arg("--big").status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!(
            "building the fixture binaries failed ({other:?}); the C toolchains come from \
             `bash tests/setup/setup.sh`"
        ),
    }
    println!("cargo:rustc-env=DLLGEN_FIXTURES={}", out.display());
}
