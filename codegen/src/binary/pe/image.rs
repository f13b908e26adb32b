//! Mapping RVAs to file data the way the Windows loader lays sections out.

use super::Section;
use crate::binary::bytes::Bytes;
use crate::binary::ReadError;

/// The longest name or forwarder string we accept (MSVC caps decorated names at 4 KiB;
/// this leaves room for anything real and bounds what a corrupt file can make us copy).
pub const MAX_STRING: u64 = 64 * 1024;

/// A section's mapping: `[rva, rva + span)` in memory, the first `file_size` bytes of which
/// come from the file at `file_offset`; the rest is zero-filled by the loader.
#[derive(Clone, Copy)]
struct Mapping {
    rva: u64,
    span: u64,
    file_offset: u64,
    file_size: u64,
    executable: bool,
}

/// A PE file seen through its section table.
pub struct Image<'a> {
    file: Bytes<'a>,
    mappings: Vec<Mapping>,
    size_of_headers: u64,
    /// Whether thunks are 64-bit (PE32+).
    pub pe32_plus: bool,
    /// Preferred load address (old delay-import tables hold VAs instead of RVAs).
    pub image_base: u64,
}

impl<'a> Image<'a> {
    pub fn new(
        file: Bytes<'a>,
        sections: &[Section],
        size_of_headers: u32,
        pe32_plus: bool,
        image_base: u64,
    ) -> Self {
        let mappings = sections
            .iter()
            .map(|s| {
                // The loader rounds PointerToRawData down to 512 bytes and maps VirtualSize
                // bytes (SizeOfRawData when VirtualSize is 0).
                let file_offset = u64::from(s.file_offset) & !0x1ff;
                let span = if s.virtual_size == 0 { s.file_size } else { s.virtual_size };
                Mapping {
                    rva: s.rva.into(),
                    span: span.into(),
                    file_offset,
                    file_size: u64::from(s.file_size).min(span.into()),
                    executable: s.flags.value & 0x2000_0020 != 0,
                }
            })
            .collect();
        Image { file, mappings, size_of_headers: size_of_headers.into(), pe32_plus, image_base }
    }

    fn mapping(&self, rva: u64) -> Option<&Mapping> {
        self.mappings.iter().find(|m| rva >= m.rva && rva - m.rva < m.span)
    }

    /// Whether `rva` falls in a section; `Some(true)` when that section holds code.
    pub fn executable(&self, rva: u32) -> Option<bool> {
        self.mapping(rva.into()).map(|m| m.executable)
    }

    /// The file bytes from `rva` to the end of the file data that backs it.
    fn tail(&self, rva: u64, what: &str) -> Result<&'a [u8], ReadError> {
        let bad = || ReadError::BadRva { what: what.to_string(), rva };
        let (offset, available) = match self.mapping(rva) {
            Some(m) => {
                let into = rva - m.rva;
                if into >= m.file_size {
                    return Err(bad());
                }
                (m.file_offset + into, m.file_size - into)
            }
            None if rva < self.size_of_headers => (rva, self.size_of_headers - rva),
            None => return Err(bad()),
        };
        let file_len = self.file.0.len() as u64;
        if offset >= file_len {
            return Err(ReadError::Truncated { what: what.to_string(), offset, len: 1, file_len });
        }
        let available = available.min(file_len - offset);
        Ok(&self.file.0[offset as usize..(offset + available) as usize])
    }

    /// Exactly `len` bytes at `rva`, all backed by file data.
    pub fn slice(&self, rva: u64, len: u64, what: &str) -> Result<&'a [u8], ReadError> {
        let tail = self.tail(rva, what)?;
        if (tail.len() as u64) < len {
            return Err(ReadError::Malformed(format!(
                "the {what} at RVA {rva:#x} ({len} bytes) runs past the end of its section's data in the file"
            )));
        }
        Ok(&tail[..len as usize])
    }

    /// A NUL-terminated string at `rva`, decoded lossily (names are ASCII in practice; a
    /// stray byte must not hide the rest of the report).
    pub fn string(&self, rva: u64, what: &str) -> Result<String, ReadError> {
        let tail = self.tail(rva, what)?;
        let window = &tail[..tail.len().min(MAX_STRING as usize)];
        match window.iter().position(|&b| b == 0) {
            Some(end) => Ok(String::from_utf8_lossy(&window[..end]).into_owned()),
            None => Err(ReadError::Malformed(format!(
                "the {what} at RVA {rva:#x} has no terminating NUL within {} bytes",
                window.len()
            ))),
        }
    }
}
