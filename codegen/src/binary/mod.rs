//! Reading the binaries dllgen is pointed at: PE images (DLLs, EXEs, .NET assemblies) and
//! ELF shared objects. Headers come from goblin; the export, import and CLR tables are
//! walked here, with every offset, RVA and count checked against the file before use, so
//! corrupt input yields a [`ReadError`] and never a panic or an unbounded allocation.

mod bytes;
pub mod decorate;
pub mod elf;
mod error;
pub mod pe;

pub use error::ReadError;
use serde::Serialize;

/// A parsed binary: the facts `dllgen audit` reports and later stages check against.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "format", rename_all = "lowercase")]
pub enum Binary {
    /// A Portable Executable image (Windows DLL or EXE).
    Pe(Box<pe::PeFile>),
    /// An ELF object (Linux shared library or executable).
    Elf(elf::ElfFile),
}

/// Parses `bytes` as a PE or ELF file, telling them apart by their magic numbers.
pub fn read(bytes: &[u8]) -> Result<Binary, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.starts_with(b"MZ") {
        return pe::read(bytes).map(|pe| Binary::Pe(Box::new(pe)));
    }
    if bytes.starts_with(b"\x7fELF") {
        return elf::read(bytes).map(Binary::Elf);
    }
    Err(ReadError::NotExecutable {
        start: bytes.iter().take(4).map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" "),
    })
}
