//! Bounds-checked little-endian reads from a file image.

use super::ReadError;

/// A byte slice with reads that fail with [`ReadError::Truncated`] instead of panicking.
#[derive(Clone, Copy)]
pub struct Bytes<'a>(pub &'a [u8]);

impl<'a> Bytes<'a> {
    /// `len` bytes at `offset`, or a `Truncated` error naming `what`.
    pub fn slice(&self, offset: u64, len: u64, what: &str) -> Result<&'a [u8], ReadError> {
        let end = offset.checked_add(len);
        match end {
            Some(end) if end <= self.0.len() as u64 => Ok(&self.0[offset as usize..end as usize]),
            _ => Err(ReadError::Truncated {
                what: what.to_string(),
                offset,
                len,
                file_len: self.0.len() as u64,
            }),
        }
    }
}

/// Reads fixed-width little-endian integers out of a slice already bounds-checked as a whole.
pub fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// See [`le_u16`].
pub fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
