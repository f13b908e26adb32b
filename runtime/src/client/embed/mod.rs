//! A host carried inside the program (the generated client's `embed-host` feature): on
//! first use it is written to a per-user cache folder, named by its content's SHA-256, and
//! compared byte for byte with the copy in the program before each start. The folder is
//! the user's own and no one else may write into it (checked on Unix: owner and mode; on
//! Windows it is below `%LOCALAPPDATA%`, which is the user's).
//!
//! The cache folder is `$DLLGEN_CACHE` if set, else `$XDG_CACHE_HOME/dllgen`, else
//! `~/.cache/dllgen` (Unix), or `%LOCALAPPDATA%\dllgen` (Windows).

// The build-script half, compiled here so that it is checked with the rest.
#[cfg(test)]
#[path = "build.rs"]
mod build_script;

include!("sha256.rs");

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The host `bytes` as a file named `file_name` in the cache, written if it is missing or
/// different. `digest` is their SHA-256 in hex if known (the build script computes it),
/// else it is computed here. The error says what was found and where.
pub fn materialize(file_name: &str, bytes: &'static [u8], digest: Option<&str>) -> Result<PathBuf, String> {
    let digest = match digest.filter(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit())) {
        Some(d) => d.to_string(),
        None => hex(&sha256(bytes)),
    };
    let root = cache_root()?;
    private_dir(&root)?;
    let dir = root.join(&digest[..32]);
    private_dir(&dir)?;
    let path = dir.join(file_name);
    if same_content(&path, bytes)? {
        return Ok(path);
    }
    write_new(&path, bytes)
        .map_err(|e| format!("cannot write the embedded host to {}: {e}", path.display()))?;
    // What runs is what was compared: read back after the rename.
    match same_content(&path, bytes)? {
        true => Ok(path),
        false => Err(format!("{} changed while it was written; it is not started", path.display())),
    }
}

/// Whether `path` holds exactly `bytes` (false: missing or different); an error for a file
/// someone else could have written.
fn same_content(path: &Path, bytes: &[u8]) -> Result<bool, String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if !meta.file_type().is_file() {
        return Err(format!(
            "{} is not a regular file (a link or a folder); remove it so the embedded host can be written",
            path.display()
        ));
    }
    private(path, &meta)?;
    if meta.len() != bytes.len() as u64 {
        return Ok(false);
    }
    let found = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(found == bytes)
}

/// Writes `bytes` beside `path` and renames it over `path` (another process starting the
/// same host at once writes its own temporary file).
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = path.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o700);
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

fn cache_root() -> Result<PathBuf, String> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("DLLGEN_CACHE") {
        return Ok(dir);
    }
    let base = if cfg!(windows) {
        var("LOCALAPPDATA")
    } else {
        var("XDG_CACHE_HOME").or_else(|| var("HOME").map(|h| h.join(".cache")))
    };
    match base {
        Some(b) if b.is_absolute() => Ok(b.join("dllgen")),
        _ => Err(format!(
            "no cache folder for the embedded host: set DLLGEN_CACHE (or {})",
            if cfg!(windows) { "LOCALAPPDATA" } else { "XDG_CACHE_HOME or HOME" }
        )),
    }
}

/// Creates `dir` for this user only, or checks that it is this user's only.
fn private_dir(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    if let Err(e) = builder.create(dir) {
        return Err(format!("cannot create the cache folder {}: {e}", dir.display()));
    }
    let meta = std::fs::symlink_metadata(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if !meta.file_type().is_dir() {
        return Err(format!(
            "{} is not a folder (a link?); the embedded host is not written there",
            dir.display()
        ));
    }
    private(dir, &meta)
}

#[cfg(unix)]
fn private(path: &Path, meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    extern "C" {
        fn geteuid() -> u32;
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { geteuid() };
    if meta.uid() != me {
        return Err(format!(
            "{} belongs to user {}, not to this user ({me}); the embedded host is not started from it",
            path.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} may be written by other users (mode {:o}); run `chmod go-w {}` or remove it",
            path.display(),
            meta.mode() & 0o777,
            path.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn private(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_vectors() {
        let cases: [(&[u8], &str); 4] = [
            (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ),
            (&[b'a'; 1_000_000], "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ];
        for (data, want) in cases {
            assert_eq!(hex(&sha256(data)), want, "{} bytes", data.len());
        }
        // Lengths around the padding boundary (55, 56, 63, 64 bytes) against each other's
        // known prefix property: different inputs, different digests.
        let digests: Vec<_> = (54..66).map(|n| sha256(&vec![7u8; n])).collect();
        for (i, a) in digests.iter().enumerate() {
            assert!(digests[i + 1..].iter().all(|b| b != a));
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_host_is_written_once_compared_and_rewritten_when_changed() {
        use std::os::unix::fs::PermissionsExt;
        static HOST: &[u8] = b"#!/bin/sh\necho embedded\n";
        let root = std::env::temp_dir().join(format!("dllgen-embed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        // This test alone sets DLLGEN_CACHE in this binary.
        std::env::set_var("DLLGEN_CACHE", &root);
        let path = materialize("demo-host", HOST, None).unwrap();
        assert_eq!(path.parent().unwrap().parent().unwrap(), root);
        assert_eq!(std::fs::read(&path).unwrap(), HOST);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&root), mode(path.parent().unwrap()), mode(&path)), (0o700, 0o700, 0o700));
        // Changed on disk: written again before it is started.
        std::fs::write(&path, b"#!/bin/sh\necho tampered\n").unwrap();
        assert_eq!(
            std::fs::read(materialize("demo-host", HOST, Some(&hex(&sha256(HOST)))).unwrap()).unwrap(),
            HOST
        );
        // A folder others may write: refused, with what to do.
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = materialize("demo-host", HOST, None).unwrap_err();
        assert!(e.contains("may be written by other users (mode 777)") && e.contains("chmod go-w"), "{e}");
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
        // A link in the host's place: refused, not followed.
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/bin/sh", &path).unwrap();
        let e = materialize("demo-host", HOST, None).unwrap_err();
        assert!(e.contains("is not a regular file"), "{e}");
        std::env::remove_var("DLLGEN_CACHE");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
