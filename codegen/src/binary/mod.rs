//! Reading the binaries dllgen is pointed at: PE images (DLLs, EXEs, .NET assemblies) and
//! ELF shared objects. Headers come from goblin; the export, import and CLR tables are
//! walked here, with every offset, RVA and count checked against the file before use, so
//! corrupt input yields a [`ReadError`] and never a panic or an unbounded allocation.

mod bytes;
pub mod decorate;
pub mod elf;
mod error;
pub mod pe;
pub mod x86;

use crate::input::{self, InputError};
pub use error::ReadError;
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A parsed binary: the facts `dllgen audit` reports and later stages check against.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "format", rename_all = "lowercase")]
pub enum Binary {
    /// A Portable Executable image (Windows DLL or EXE).
    Pe(Box<pe::PeFile>),
    /// An ELF object (Linux shared library or executable).
    Elf(elf::ElfFile),
}

/// A binary file that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Not a regular file, too large, unreadable.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Neither PE nor ELF (found from its first bytes).
    #[error("{path}: {error}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What its first bytes are.
        error: ReadError,
    },
}

/// The bytes of the PE or ELF file at `path`. Refused before reading when it is not a
/// regular file or larger than 4 GiB, and after its first four bytes when they are neither
/// magic number, so a large file of something else is not read whole.
pub fn load(path: &Path) -> Result<Vec<u8>, LoadError> {
    let (file, size) = input::open(path, input::BINARY)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let io = |error| InputError::Io { path: path.to_path_buf(), error };
    (&file).take(4).read_to_end(&mut bytes).map_err(io)?;
    format(&bytes).map_err(|error| LoadError::Format { path: path.to_path_buf(), error })?;
    input::read_rest(path, file, input::BINARY, &mut bytes)?;
    Ok(bytes)
}

/// The two formats, by magic number.
enum Format {
    Pe,
    Elf,
}

fn format(start: &[u8]) -> Result<Format, ReadError> {
    if start.is_empty() {
        return Err(ReadError::Empty);
    }
    if start.starts_with(b"MZ") {
        return Ok(Format::Pe);
    }
    if start.starts_with(b"\x7fELF") {
        return Ok(Format::Elf);
    }
    Err(ReadError::NotExecutable {
        start: start.iter().take(4).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "),
    })
}

/// Parses `bytes` as a PE or ELF file, telling them apart by their magic numbers.
pub fn read(bytes: &[u8]) -> Result<Binary, ReadError> {
    match format(bytes)? {
        Format::Pe => pe::read(bytes).map(|pe| Binary::Pe(Box::new(pe))),
        Format::Elf => elf::read(bytes).map(Binary::Elf),
    }
}
