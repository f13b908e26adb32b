//! Opening the files dllgen reads (spec, headers, library): the one place an input path
//! becomes bytes. A path is checked before it is opened: only regular files (symlinks
//! followed) are read, because opening a FIFO blocks until a writer appears and a device
//! such as /dev/zero never ends. Sizes are checked from the metadata before reading, so an
//! oversized input costs a `stat`, not its length in memory. Every error names the path.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What an input is and how large it may be.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// "a spec", "a header": the noun the size error uses.
    pub what: &'static str,
    /// The largest size accepted, in bytes.
    pub max: u64,
}

/// Real specs are a few KiB; 16 MiB leaves room for generated ones and keeps a runaway file
/// from becoming a runaway parse.
pub const SPEC: Limit = Limit { what: "a spec", max: 16 << 20 };

/// Large real headers are around 1 MiB (sqlite3.h 650 KB, the largest Windows SDK headers
/// under 1 MB); clang spends tens of bytes of memory per byte of input, so this bounds it.
pub const HEADER: Limit = Limit { what: "a header", max: 64 << 20 };

/// PE images address at most 4 GiB (32-bit file offsets and RVAs).
pub const BINARY: Limit = Limit { what: "a PE or ELF file", max: 4 << 30 };

/// Why an input cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Nothing at the path.
    #[error("{0} does not exist")]
    Missing(PathBuf),
    /// A symlink whose target does not exist.
    #[error("{path} is a dangling symlink to {target}")]
    Dangling {
        /// The link.
        path: PathBuf,
        /// What it points to.
        target: PathBuf,
    },
    /// Symlinks that point at each other.
    #[error("{0}: too many levels of symbolic links")]
    Loop(PathBuf),
    /// A directory, FIFO, device or socket.
    #[error("{path} is {kind}, not a regular file")]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// [`kind`] of it.
        kind: &'static str,
    },
    /// Over the limit.
    #[error("{path} is {} ({size} bytes); {what} is at most {}", human(*size), human(*max))]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit's noun.
        what: &'static str,
        /// The limit.
        max: u64,
    },
    /// A NUL byte in a text input.
    #[error("{path} is not text: it has a NUL byte at offset {offset}")]
    Nul {
        /// The path.
        path: PathBuf,
        /// Where the first NUL is.
        offset: usize,
    },
    /// Text that is not UTF-8.
    #[error("{path} is not UTF-8 text: invalid byte at offset {offset}")]
    NotUtf8 {
        /// The path.
        path: PathBuf,
        /// Where the first invalid sequence starts.
        offset: usize,
    },
    /// Anything else the operating system said.
    #[error("cannot read {path}: {error}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
}

/// The metadata of `path`, symlinks followed; a dangling symlink and a symlink loop are
/// told apart from a missing path ([`InputError::Missing`], which an output may treat as
/// "create").
pub fn stat(path: &Path) -> Result<Metadata, InputError> {
    let error = match std::fs::metadata(path) {
        Ok(meta) => return Ok(meta),
        Err(error) => error,
    };
    if is_loop(&error) {
        return Err(InputError::Loop(path.to_path_buf()));
    }
    if error.kind() == std::io::ErrorKind::NotFound {
        return Err(match std::fs::read_link(path) {
            Ok(target) => InputError::Dangling { path: path.to_path_buf(), target },
            Err(_) => InputError::Missing(path.to_path_buf()),
        });
    }
    Err(InputError::Io { path: path.to_path_buf(), error })
}

/// How a file type is named in messages: "a directory", "a FIFO", ...
pub fn kind(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_file() {
        return "a regular file";
    }
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// Opens the regular file at `path` no larger than `limit`; returns it with its size.
/// The type is checked before opening, and again on the opened file: the path may have
/// been replaced in between, which is also why it is opened non-blocking (a FIFO swapped
/// in cannot hang the open).
pub fn open(path: &Path, limit: Limit) -> Result<(File, u64), InputError> {
    regular(path, &stat(path)?)?;
    let io = |error| InputError::Io { path: path.to_path_buf(), error };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    regular(path, &meta)?;
    if meta.len() > limit.max {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            what: limit.what,
            max: limit.max,
        });
    }
    Ok((file, meta.len()))
}

/// Reads `file` (opened by [`open`]) to its end, `limit` included: a file that grows while
/// it is read is still refused at the limit.
pub fn read_rest(path: &Path, file: File, limit: Limit, into: &mut Vec<u8>) -> Result<(), InputError> {
    file.take((limit.max + 1).saturating_sub(into.len() as u64))
        .read_to_end(into)
        .map_err(|error| InputError::Io { path: path.to_path_buf(), error })?;
    if into.len() as u64 > limit.max {
        return Err(InputError::TooLarge {
            path: path.to_path_buf(),
            size: into.len() as u64,
            what: limit.what,
            max: limit.max,
        });
    }
    Ok(())
}

/// The bytes of the regular file at `path`, refused before reading if over `limit`.
pub fn read(path: &Path, limit: Limit) -> Result<Vec<u8>, InputError> {
    let (file, size) = open(path, limit)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    read_rest(path, file, limit, &mut bytes)?;
    Ok(bytes)
}

/// Reads a header: at most [`HEADER`] and without NUL bytes (clang would parse them as
/// whitespace, at great length, and the result is never a header).
pub fn check_header(path: &Path) -> Result<(), InputError> {
    no_nul(path, &read(path, HEADER)?)
}

/// The UTF-8 text of the file at `path`, refused if over `limit` or holding a NUL byte.
pub fn read_text(path: &Path, limit: Limit) -> Result<String, InputError> {
    let bytes = read(path, limit)?;
    no_nul(path, &bytes)?;
    String::from_utf8(bytes)
        .map_err(|e| InputError::NotUtf8 { path: path.to_path_buf(), offset: e.utf8_error().valid_up_to() })
}

fn no_nul(path: &Path, bytes: &[u8]) -> Result<(), InputError> {
    match bytes.iter().position(|&b| b == 0) {
        Some(offset) => Err(InputError::Nul { path: path.to_path_buf(), offset }),
        None => Ok(()),
    }
}

fn regular(path: &Path, meta: &Metadata) -> Result<(), InputError> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(InputError::NotRegular { path: path.to_path_buf(), kind: kind(meta) })
    }
}

#[cfg(unix)]
const ELOOP: i32 = libc::ELOOP;
#[cfg(not(unix))]
const ELOOP: i32 = -1;

fn is_loop(error: &std::io::Error) -> bool {
    // Elsewhere a loop stays an `Io` error with the system's own words.
    cfg!(unix) && error.raw_os_error() == Some(ELOOP)
}

/// `4294967297` → `4.0 GiB`, `16777216` → `16 MiB`, `900` → `900 bytes`.
fn human(n: u64) -> String {
    const UNITS: [(&str, u32); 3] = [("GiB", 30), ("MiB", 20), ("KiB", 10)];
    for (unit, shift) in UNITS {
        if n >= 1 << shift {
            return if n % (1 << shift) == 0 {
                format!("{} {unit}", n >> shift)
            } else {
                format!("{:.1} {unit}", n as f64 / (1u64 << shift) as f64)
            };
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(16 << 20), "16 MiB");
        assert_eq!(human((4 << 30) + 1), "4.0 GiB");
        assert_eq!(human(300_000_000), "286.1 MiB");
        assert_eq!(human(900), "900 bytes");
    }
}
