//! The COFF file header and the optional header, read at their fixed offsets the way the
//! Windows loader reads them: the DOS stub and Rich header are ignored, and
//! `NumberOfRvaAndSizes` is clamped to the 16 directories that exist (goblin rejects both
//! of these real-world shapes, so the few fields dllgen needs are read here).
//!
//! COFF header (20 bytes after `PE\0\0`): +0 Machine, +2 NumberOfSections,
//! +4 TimeDateStamp, +8 PointerToSymbolTable, +12 NumberOfSymbols, +16 SizeOfOptionalHeader,
//! +18 Characteristics.
//! Optional header: +0 Magic, +16 AddressOfEntryPoint, +28 ImageBase (PE32, 4 bytes) or +24
//! (PE32+, 8 bytes), +36 FileAlignment, +60 SizeOfHeaders, +68 Subsystem,
//! +70 DllCharacteristics, +92 / +108 NumberOfRvaAndSizes, then the directories (8 bytes each).

use crate::binary::bytes::{le_u16, le_u32, Bytes};
use crate::binary::ReadError;

pub const MAGIC_PE32: u16 = 0x10b;
pub const MAGIC_PE32_PLUS: u16 = 0x20b;

/// Data directory indexes.
pub const DIR_EXPORT: usize = 0;
pub const DIR_IMPORT: usize = 1;
pub const DIR_DELAY_IMPORT: usize = 13;
pub const DIR_CLR: usize = 14;

/// The header fields dllgen uses.
pub struct Headers {
    pub machine: u16,
    pub number_of_sections: u16,
    pub timestamp: u32,
    pub symbol_table: u32,
    pub number_of_symbols: u32,
    pub characteristics: u16,
    pub magic: u16,
    pub entry_point: u32,
    pub image_base: u64,
    pub file_alignment: u32,
    pub size_of_headers: u32,
    pub subsystem: u16,
    pub dll_characteristics: u16,
    /// (RVA, size) of each of the 16 data directories; absent ones are (0, 0).
    pub directories: [(u32, u32); 16],
    /// Where the section table starts in the file.
    pub section_table: u64,
}

impl Headers {
    /// A directory's (RVA, size), or `None` when absent. The loader treats RVA 0 as absent
    /// whatever the size says.
    pub fn directory(&self, index: usize) -> Option<(u32, u32)> {
        self.directories.get(index).copied().filter(|(rva, _)| *rva != 0)
    }
}

pub fn read(file: Bytes<'_>) -> Result<Headers, ReadError> {
    let pe_offset = u64::from(le_u32(file.slice(0x3c, 4, "DOS header's e_lfanew field")?, 0));
    let signature = file.slice(pe_offset, 4, "PE signature")?;
    if signature != b"PE\0\0" {
        return Err(ReadError::Malformed(format!(
            "an MZ file without a PE signature at offset {pe_offset:#x} (found {signature:02x?}): a DOS program or a corrupt image"
        )));
    }
    let coff = file.slice(pe_offset + 4, 20, "COFF file header")?;
    let size_of_optional = le_u16(coff, 16);
    if size_of_optional == 0 {
        return Err(ReadError::Malformed(
            "the image has no optional header (an object file, not a DLL or EXE)".into(),
        ));
    }
    let optional = file.slice(pe_offset + 24, u64::from(size_of_optional), "optional header")?;
    if optional.len() < 2 {
        return Err(ReadError::Malformed(format!(
            "the optional header is {} byte long: too short for any PE",
            optional.len()
        )));
    }
    let magic = le_u16(optional, 0);
    let (dirs_at, count_at) = match magic {
        MAGIC_PE32 => (96, 92),
        MAGIC_PE32_PLUS => (112, 108),
        other => {
            return Err(ReadError::Malformed(format!(
                "unknown optional header magic {other:#x} (expected 0x10b for PE32 or 0x20b for PE32+)"
            )))
        }
    };
    if optional.len() < dirs_at {
        return Err(ReadError::Malformed(format!(
            "the optional header is {} bytes, shorter than the {dirs_at} a {} header needs",
            optional.len(),
            if magic == MAGIC_PE32 { "PE32" } else { "PE32+" }
        )));
    }
    let declared = le_u32(optional, count_at) as usize;
    let fit = (optional.len() - dirs_at) / 8;
    let mut directories = [(0, 0); 16];
    for (i, d) in directories.iter_mut().enumerate().take(declared.min(fit)) {
        *d = (le_u32(optional, dirs_at + i * 8), le_u32(optional, dirs_at + i * 8 + 4));
    }
    let image_base = if magic == MAGIC_PE32 {
        u64::from(le_u32(optional, 28))
    } else {
        u64::from(le_u32(optional, 24)) | u64::from(le_u32(optional, 28)) << 32
    };
    Ok(Headers {
        machine: le_u16(coff, 0),
        number_of_sections: le_u16(coff, 2),
        timestamp: le_u32(coff, 4),
        symbol_table: le_u32(coff, 8),
        number_of_symbols: le_u32(coff, 12),
        characteristics: le_u16(coff, 18),
        magic,
        entry_point: le_u32(optional, 16),
        image_base,
        file_alignment: le_u32(optional, 36),
        size_of_headers: le_u32(optional, 60),
        subsystem: le_u16(optional, 68),
        dll_characteristics: le_u16(optional, 70),
        directories,
        section_table: pe_offset + 24 + u64::from(size_of_optional),
    })
}
