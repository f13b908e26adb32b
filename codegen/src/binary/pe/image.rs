//! Mapping RVAs to file data the way the Windows loader lays sections out.

use super::headers::Headers;
use super::Section;
use crate::binary::bytes::Bytes;
use crate::binary::ReadError;
use std::borrow::Cow;
use std::cell::Cell;

/// The longest name or forwarder string we accept (MSVC caps decorated names at 4 KiB).
pub const MAX_STRING: usize = 8 * 1024;

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

const IMAGE_SCN_CNT_CODE: u32 = 0x20;
const IMAGE_SCN_MEM_EXECUTE: u32 = 0x2000_0000;

/// A PE file seen through its section table.
pub struct Image<'a> {
    file: Bytes<'a>,
    mappings: Vec<Mapping>,
    size_of_headers: u64,
    /// Bytes that names may still copy out of the file: tables can point many entries at
    /// one long string, so without a budget a small file could demand gigabytes.
    string_budget: Cell<u64>,
    /// Whether thunks are 64-bit (PE32+).
    pub pe32_plus: bool,
    /// Preferred load address (old delay-import tables hold VAs instead of RVAs).
    pub image_base: u64,
}

impl<'a> Image<'a> {
    pub fn new(file: Bytes<'a>, sections: &[Section], headers: &Headers) -> Self {
        // The loader rounds PointerToRawData down to 512 bytes, except in the low-alignment
        // mode (FileAlignment below 512) where file offsets equal RVAs.
        let round = if headers.file_alignment >= 0x200 { !0x1ffu64 } else { !0 };
        let mappings = sections
            .iter()
            .map(|s| {
                // The loader maps VirtualSize bytes (SizeOfRawData when VirtualSize is 0).
                let span = if s.virtual_size == 0 { s.file_size } else { s.virtual_size };
                Mapping {
                    rva: s.rva.into(),
                    span: span.into(),
                    file_offset: u64::from(s.file_offset) & round,
                    file_size: u64::from(s.file_size).min(span.into()),
                    executable: s.flags.value & (IMAGE_SCN_CNT_CODE | IMAGE_SCN_MEM_EXECUTE) != 0,
                }
            })
            .collect();
        Image {
            file,
            mappings,
            size_of_headers: headers.size_of_headers.into(),
            string_budget: Cell::new((file.0.len() as u64).saturating_mul(4).max(1 << 20)),
            pe32_plus: headers.magic == super::headers::MAGIC_PE32_PLUS,
            image_base: headers.image_base,
        }
    }

    fn mapping(&self, rva: u64) -> Option<&Mapping> {
        self.mappings.iter().find(|m| rva >= m.rva && rva - m.rva < m.span)
    }

    /// Whether `rva` falls in a section; `Some(true)` when that section holds code.
    pub fn executable(&self, rva: u32) -> Option<bool> {
        self.mapping(rva.into()).map(|m| m.executable)
    }

    /// What lies at `rva` in the loaded image: file bytes, then how many zero-filled bytes
    /// follow them up to the end of the mapping. Raw data the file is too short to hold
    /// counts as zero fill, as other readers treat it; data starting past the end of the
    /// file is an error.
    fn at(&self, rva: u64, what: &str) -> Result<(&'a [u8], u64), ReadError> {
        let file_len = self.file.0.len() as u64;
        let (offset, from_file, span) = match self.mapping(rva) {
            Some(m) => {
                let into = rva - m.rva;
                if into >= m.file_size {
                    return Ok((&[], m.span - into));
                }
                (m.file_offset + into, m.file_size - into, m.span - into)
            }
            None if rva < self.size_of_headers => {
                (rva, self.size_of_headers - rva, self.size_of_headers - rva)
            }
            None => return Err(ReadError::BadRva { what: what.to_string(), rva }),
        };
        if offset >= file_len {
            return Err(ReadError::Truncated { what: what.to_string(), offset, len: 1, file_len });
        }
        let end = (offset + from_file).min(file_len);
        let data = &self.file.0[offset as usize..end as usize];
        Ok((data, span - data.len() as u64))
    }

    /// Exactly `len` bytes at `rva` as the loader would map them (zero-filled past a
    /// section's file data, within its virtual size).
    pub fn slice(&self, rva: u64, len: u64, what: &str) -> Result<Cow<'a, [u8]>, ReadError> {
        let (data, zeros) = self.at(rva, what)?;
        if data.len() as u64 >= len {
            return Ok(Cow::Borrowed(&data[..len as usize]));
        }
        if data.len() as u64 + zeros < len {
            return Err(ReadError::Malformed(format!(
                "the {what} at RVA {rva:#x} ({len} bytes) runs past the end of its section"
            )));
        }
        let mut padded = data.to_vec();
        padded.resize(len as usize, 0);
        Ok(Cow::Owned(padded))
    }

    /// A NUL-terminated string at `rva`, decoded lossily (names are ASCII in practice; a
    /// stray byte must not hide the rest of the report).
    pub fn string(&self, rva: u64, what: &str) -> Result<String, ReadError> {
        let (data, zeros) = self.at(rva, what)?;
        let window = &data[..data.len().min(MAX_STRING)];
        let text = match window.iter().position(|&b| b == 0) {
            Some(end) => &window[..end],
            // The zero fill after the file data terminates it.
            None if zeros > 0 && window.len() == data.len() => window,
            None => {
                return Err(ReadError::Malformed(format!(
                    "the {what} at RVA {rva:#x} has no terminating NUL within {} bytes",
                    window.len()
                )))
            }
        };
        let left = self.string_budget.get();
        if text.len() as u64 > left {
            return Err(ReadError::Malformed(format!(
                "the names the tables point at add up to more than {} bytes, four times the file: tables that reuse strings like this are corrupt",
                (self.file.0.len() as u64).saturating_mul(4).max(1 << 20)
            )));
        }
        self.string_budget.set(left - text.len() as u64);
        Ok(String::from_utf8_lossy(text).into_owned())
    }
}
