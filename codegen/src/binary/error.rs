use thiserror::Error;

/// Why a file could not be read as a PE or ELF binary. Each message names what was found
/// and where, so a user can tell a truncated download from a file of the wrong kind.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The file has no bytes at all.
    #[error("the file is empty")]
    Empty,
    /// Neither `MZ` (PE) nor `\x7fELF` at the start.
    #[error("not a PE or ELF file (it starts with bytes {start}; a DLL starts with \"MZ\")")]
    NotExecutable {
        /// The first bytes, in hex.
        start: String,
    },
    /// A structure runs past the end of the file.
    #[error("truncated: the {what} at file offset {offset:#x} needs {len} bytes, but the file ends at {file_len:#x}")]
    Truncated {
        /// The structure that was being read.
        what: String,
        /// Where it starts in the file.
        offset: u64,
        /// How many bytes it needs.
        len: u64,
        /// The file's length.
        file_len: u64,
    },
    /// An RVA that no section (and not the headers) maps to file data.
    #[error("the {what} at RVA {rva:#x} is not backed by any section's data in the file")]
    BadRva {
        /// The structure the RVA points at.
        what: String,
        /// The offending relative virtual address.
        rva: u64,
    },
    /// A count larger than any valid file can have.
    #[error("the {what} claims {count} entries; at most {limit} are possible")]
    Absurd {
        /// The counted table.
        what: String,
        /// The count found in the file.
        count: u64,
        /// The largest count accepted.
        limit: u64,
    },
    /// Anything else structurally wrong, described in words.
    #[error("{0}")]
    Malformed(String),
}

impl ReadError {
    pub(crate) fn malformed(kind: &str, err: impl std::fmt::Display) -> Self {
        ReadError::Malformed(format!("malformed {kind}: {err}"))
    }
}
