//! What the end-to-end codegen tests share: generate a spec's crates in a scratch folder,
//! build its host for i686 Linux and a small app against its client (one target folder for
//! all of them, so the runtime is built once), and run the app through the real host.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Runs `cmd`, which must succeed; its stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh scratch folder for test `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dllgen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Generates `spec` (a file in `dir`) whose crates are `<base>-host`/`<base>-client`,
/// builds the host and an app of `app_src` using the client, and runs the app with the
/// host and `library` found through the client's variables; the app's stdout.
pub fn generate_build_run(dir: &Path, spec: &str, base: &str, library: &Path, app_src: &str) -> String {
    run(Command::new(env!("CARGO_BIN_EXE_dllgen"))
        .args(["generate", spec, "--out", "out", "--runtime"])
        .arg(repo().join("runtime"))
        .current_dir(dir));
    let app = dir.join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{base}-app\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[dependencies]\n\
             {base}-client = {{ path = \"../out/{base}-client\" }}\n"
        ),
    )
    .unwrap();
    std::fs::write(app.join("src/main.rs"), app_src).unwrap();
    let target = repo().join("target/hygiene");
    let cargo = || {
        let mut c = Command::new(env!("CARGO"));
        c.arg("build").arg("--offline").arg("--quiet").arg("--target-dir").arg(&target);
        c
    };
    run(cargo()
        .args(["--target", "i686-unknown-linux-gnu", "--manifest-path"])
        .arg(dir.join(format!("out/{base}-host/Cargo.toml"))));
    run(cargo().arg("--manifest-path").arg(app.join("Cargo.toml")));
    let env = base.replace('-', "_").to_ascii_uppercase();
    run(Command::new(target.join(format!("debug/{base}-app")))
        .env(format!("{env}_HOST"), target.join(format!("i686-unknown-linux-gnu/debug/{base}-host")))
        .env(format!("{env}_LIBRARY"), library))
}
