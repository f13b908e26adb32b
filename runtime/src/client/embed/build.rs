// The build-script half of the `embed-host` feature: a generated client's build.rs
// `include!`s this file (it uses std only, and is compiled into the runtime's tests) and
// calls `dllgen_embed_host`. Kept free of the runtime's other items.

/// Builds the host crate `host_crate` (the sibling folder of the client's) for `target`
/// with the same cargo, and copies its executable to `$OUT_DIR/<host_crate>.embedded`
/// (its SHA-256 to `.embedded.sha256`), which the client includes. `runtime_src` is the runtime's `src` folder (watched).
///
/// The host is built into `<target dir>/dllgen-host/<host crate>-<hash of its folder>`
/// (the target dir: the folder cargo marks with `CACHEDIR.TAG` above `OUT_DIR`), or
/// `$DLLGEN_HOST_TARGET_DIR`; `$DLLGEN_HOST_TARGET`
/// overrides the target triple. Same profile as the client's build (`--release` for a
/// release build).
#[allow(dead_code)]
pub fn dllgen_embed_host(host_crate: &str, target: &str, runtime_src: &str) {
    use std::path::{Path, PathBuf};
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let manifest_dir = PathBuf::from(var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let host_dir = manifest_dir.parent().unwrap_or(Path::new("..")).join(host_crate);
    println!("cargo:rerun-if-changed={}", host_dir.display());
    println!("cargo:rerun-if-changed={}", manifest_dir.join(runtime_src).display());
    println!("cargo:rerun-if-env-changed=DLLGEN_HOST_TARGET");
    println!("cargo:rerun-if-env-changed=DLLGEN_HOST_TARGET_DIR");
    let target =
        var("DLLGEN_HOST_TARGET").map_or_else(|| target.to_string(), |t| t.to_string_lossy().into_owned());
    let target_dir = var("DLLGEN_HOST_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        // One folder per host crate: two projects' hosts of the same name never meet.
        let id = std::fs::canonicalize(&host_dir).unwrap_or_else(|_| host_dir.clone());
        let id = id
            .to_string_lossy()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        out_dir
            .ancestors()
            .find(|d| d.join("CACHEDIR.TAG").is_file())
            .unwrap_or(&out_dir)
            .join("dllgen-host")
            .join(format!("{host_crate}-{id:016x}"))
    });
    let release = std::env::var("PROFILE").as_deref() == Ok("release");
    let cargo = var("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(&cargo);
    cmd.arg("build")
        .arg("--manifest-path")
        .arg(host_dir.join("Cargo.toml"))
        .args(["--bin", host_crate, "--target", &target])
        .arg("--target-dir")
        .arg(&target_dir);
    if release {
        cmd.arg("--release");
    }
    // The client traces its calls: so does the host it carries.
    if var("CARGO_FEATURE_TRACE").is_some() {
        cmd.args(["--features", "trace"]);
    }
    // The flags cargo gave this build script are for the client's target, not the host's.
    for name in
        ["CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
    {
        cmd.env_remove(name);
    }
    let shown = format!(
        "{} build --manifest-path {} --bin {host_crate} --target {target} --target-dir {}{}",
        cargo.to_string_lossy(),
        host_dir.join("Cargo.toml").display(),
        target_dir.display(),
        if release { " --release" } else { "" }
    );
    let output = cmd.output().unwrap_or_else(|e| panic!("dllgen: cannot run `{shown}`: {e}"));
    if !output.status.success() {
        panic!(
            "dllgen: building the host to embed failed ({}): `{shown}`\n{}\nhint: the host's target must be installed \
             (`rustup target add {target}`, and its C toolchain: gcc-multilib for Linux, gcc-mingw-w64-i686 for Windows)",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let exe_name =
        if target.contains("windows") { format!("{host_crate}.exe") } else { host_crate.to_string() };
    let exe = target_dir.join(&target).join(if release { "release" } else { "debug" }).join(exe_name);
    let embedded = out_dir.join(format!("{host_crate}.embedded"));
    let bytes = std::fs::read(&exe).unwrap_or_else(|e| panic!("dllgen: cannot read {}: {e}", exe.display()));
    std::fs::write(&embedded, &bytes)
        .unwrap_or_else(|e| panic!("dllgen: cannot write {}: {e}", embedded.display()));
    // Its name in the cache, computed here rather than at each start.
    let digest = out_dir.join(format!("{host_crate}.embedded.sha256"));
    std::fs::write(&digest, hex(&sha256(&bytes)))
        .unwrap_or_else(|e| panic!("dllgen: cannot write {}: {e}", digest.display()));
}

include!("sha256.rs");
