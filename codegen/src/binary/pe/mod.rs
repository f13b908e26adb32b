//! PE images, read with our own bounds-checked walkers: goblin's PE parser rejects shapes
//! the Windows loader accepts (odd DOS stubs, more than 16 data directories), drops
//! ordinal-only exports and has no ordinals.

mod clr;
mod exports;
mod headers;
mod image;
mod imports;
pub mod names;

pub use clr::ClrHeader;
pub use exports::{Export, ExportDirectory, ExportKind};
pub use imports::{ImportedDll, ImportedFunction};

use super::bytes::Bytes;
use super::ReadError;
use image::Image;
use serde::Serialize;

/// `IMAGE_FILE_MACHINE_I386`: the only machine a 32-bit x86 host can load.
pub const MACHINE_I386: u16 = 0x014c;
/// `IMAGE_FILE_MACHINE_AMD64`.
pub const MACHINE_AMD64: u16 = 0x8664;
const IMAGE_FILE_DLL: u16 = 0x2000;

/// Everything `audit` reports about a PE image.
#[derive(Debug, Clone, Serialize)]
pub struct PeFile {
    /// COFF `Machine`.
    pub machine: Code,
    /// `PE32` (32-bit optional header) or `PE32+` (64-bit).
    pub kind: &'static str,
    /// COFF `Characteristics`.
    pub characteristics: Flags,
    /// Whether `IMAGE_FILE_DLL` is set.
    pub is_dll: bool,
    /// Optional header `Subsystem`.
    pub subsystem: Code,
    /// Optional header `DllCharacteristics`.
    pub dll_characteristics: Flags,
    /// COFF `TimeDateStamp` (seconds since 1970; reproducible builds put a hash here).
    pub timestamp: u32,
    /// Preferred load address.
    pub image_base: u64,
    /// RVA of the entry point (`DllMain` for a DLL), 0 when there is none.
    pub entry_point: u32,
    /// The section table.
    pub sections: Vec<Section>,
    /// The export directory, when the image has one.
    pub exports: Option<ExportDirectory>,
    /// Load-time imports, one entry per DLL, in table order.
    pub imports: Vec<ImportedDll>,
    /// Delay-load imports, one entry per DLL, in table order.
    pub delay_imports: Vec<ImportedDll>,
    /// The .NET (CLR) header: present for managed and mixed-mode assemblies.
    pub clr: Option<ClrHeader>,
}

/// A numeric field with its symbolic name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Code {
    /// The raw value.
    pub value: u16,
    /// The specification's name, or `unrecognized`.
    pub name: &'static str,
}

/// A bit-flag field with the names of its set bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flags {
    /// The raw value.
    pub value: u32,
    /// Names of the set bits that have one.
    pub names: Vec<&'static str>,
}

impl Flags {
    fn new(table: &[(u32, &'static str)], value: u32) -> Self {
        Flags { value, names: names::flag_names(table, value) }
    }
}

/// One section header.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// The name (long names from the COFF string table are left as `/N`).
    pub name: String,
    /// Where the section is mapped, relative to the image base.
    pub rva: u32,
    /// Its size in memory.
    pub virtual_size: u32,
    /// Where its data starts in the file.
    pub file_offset: u32,
    /// How many bytes of it the file holds.
    pub file_size: u32,
    /// `IMAGE_SCN_*` flags.
    pub flags: Flags,
}

impl PeFile {
    /// Whether the image is 32-bit x86 (`Machine` 0x14c with a PE32 optional header).
    pub fn is_i386(&self) -> bool {
        self.machine.value == MACHINE_I386 && self.kind == "PE32"
    }
}

/// Parses a PE image. `bytes` starts with `MZ`.
pub fn read(bytes: &[u8]) -> Result<PeFile, ReadError> {
    let file = Bytes(bytes);
    let h = headers::read(file)?;
    let strings = u64::from(h.symbol_table) + u64::from(h.number_of_symbols) * 18;
    let sections = read_sections(file, h.section_table, h.number_of_sections, strings)?;
    let image = Image::new(file, &sections, &h);

    let exports = match h.directory(headers::DIR_EXPORT) {
        Some((rva, size)) => Some(exports::read(&image, rva, size)?),
        None => None,
    };
    let imports = match h.directory(headers::DIR_IMPORT) {
        Some((rva, _)) => imports::read(&image, rva)?,
        None => Vec::new(),
    };
    let delay_imports = match h.directory(headers::DIR_DELAY_IMPORT) {
        Some((rva, size)) => imports::read_delayed(&image, rva, size)?,
        None => Vec::new(),
    };
    let clr = match h.directory(headers::DIR_CLR) {
        Some((rva, size)) => Some(clr::read(&image, rva, size)?),
        None => None,
    };

    Ok(PeFile {
        machine: Code { value: h.machine, name: names::machine(h.machine) },
        kind: if h.magic == headers::MAGIC_PE32 { "PE32" } else { "PE32+" },
        characteristics: Flags::new(names::CHARACTERISTICS, h.characteristics.into()),
        is_dll: h.characteristics & IMAGE_FILE_DLL != 0,
        subsystem: Code { value: h.subsystem, name: names::subsystem(h.subsystem) },
        dll_characteristics: Flags::new(names::DLL_CHARACTERISTICS, h.dll_characteristics.into()),
        timestamp: h.timestamp,
        image_base: h.image_base,
        entry_point: h.entry_point,
        sections,
        exports,
        imports,
        delay_imports,
        clr,
    })
}

/// Reads the section headers (40 bytes each) ourselves: goblin fails the whole parse when a
/// long section name points outside the COFF string table, which only debug sections use.
/// Long names (`/N`: offset N in the string table at `strings`) are resolved when they can be.
fn read_sections(file: Bytes<'_>, offset: u64, count: u16, strings: u64) -> Result<Vec<Section>, ReadError> {
    let table = file.slice(offset, u64::from(count) * 40, "section table")?;
    Ok(table
        .chunks_exact(40)
        .map(|h| {
            let raw_name = &h[..8];
            let end = raw_name.iter().position(|&b| b == 0).unwrap_or(8);
            let u32_at = |at: usize| super::bytes::le_u32(h, at);
            let name = String::from_utf8_lossy(&raw_name[..end]).into_owned();
            Section {
                name: long_section_name(file, &name, strings).unwrap_or(name),
                virtual_size: u32_at(8),
                rva: u32_at(12),
                file_size: u32_at(16),
                file_offset: u32_at(20),
                flags: Flags::new(names::SECTION_FLAGS, u32_at(36)),
            }
        })
        .collect())
}

fn long_section_name(file: Bytes<'_>, name: &str, strings: u64) -> Option<String> {
    let offset: u64 = name.strip_prefix('/')?.parse().ok()?;
    if strings == 0 {
        return None;
    }
    let start = strings.checked_add(offset)?;
    let tail = file.0.get(usize::try_from(start).ok()?..)?;
    let end = tail.iter().take(256).position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&tail[..end]).into_owned())
}
