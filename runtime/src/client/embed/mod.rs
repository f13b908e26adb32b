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

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The host `bytes` as a file named `file_name` in the cache, written if it is missing or
/// different. The error says what was found and where.
pub fn materialize(file_name: &str, bytes: &'static [u8]) -> Result<PathBuf, String> {
    static NAMES: OnceLock<std::sync::Mutex<Vec<(usize, String)>>> = OnceLock::new();
    let digest = {
        // Hashed once per process (the same bytes are started again on a restart).
        let names = NAMES.get_or_init(Default::default);
        let mut names = names.lock().unwrap_or_else(|e| e.into_inner());
        let key = bytes.as_ptr() as usize;
        match names.iter().find(|(k, _)| *k == key) {
            Some((_, d)) => d.clone(),
            None => {
                let d = hex(&sha256(bytes));
                names.push((key, d.clone()));
                d
            }
        }
    };
    let root = cache_root()?;
    private_dir(&root)?;
    let dir = root.join(&digest[..32]);
    private_dir(&dir)?;
    let path = dir.join(file_name);
    match same_content(&path, bytes) {
        Ok(true) => return Ok(path),
        Ok(false) => {}
        Err(e) => return Err(e),
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 (FIPS 180-4).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
    let mut h: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut tail = data.chunks_exact(64).remainder().to_vec();
    tail.push(0x80);
    while tail.len() % 64 != 56 {
        tail.push(0);
    }
    tail.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in data.chunks_exact(64).chain(tail.chunks_exact(64)) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            (hh, g, f, e, d, c, b, a) = (g, f, e, d.wrapping_add(t1), c, b, a, t1.wrapping_add(t2));
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
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
        let path = materialize("demo-host", HOST).unwrap();
        assert_eq!(path.parent().unwrap().parent().unwrap(), root);
        assert_eq!(std::fs::read(&path).unwrap(), HOST);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&root), mode(path.parent().unwrap()), mode(&path)), (0o700, 0o700, 0o700));
        // Changed on disk: written again before it is started.
        std::fs::write(&path, b"#!/bin/sh\necho tampered\n").unwrap();
        assert_eq!(std::fs::read(materialize("demo-host", HOST).unwrap()).unwrap(), HOST);
        // A folder others may write: refused, with what to do.
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = materialize("demo-host", HOST).unwrap_err();
        assert!(e.contains("may be written by other users (mode 777)") && e.contains("chmod go-w"), "{e}");
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).unwrap();
        // A link in the host's place: refused, not followed.
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink("/bin/sh", &path).unwrap();
        let e = materialize("demo-host", HOST).unwrap_err();
        assert!(e.contains("is not a regular file"), "{e}");
        std::env::remove_var("DLLGEN_CACHE");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
