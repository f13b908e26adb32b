//! Import and delay-import tables.
//!
//! `IMAGE_IMPORT_DESCRIPTOR` (20 bytes): +0 OriginalFirstThunk (lookup table RVA), +12 Name
//! RVA, +16 FirstThunk (address table RVA); the list ends with an all-zero descriptor.
//! Delay-load descriptors (32 bytes): +0 Attributes, +4 Name, +12 IAT, +16 INT; bit 0 of
//! Attributes clear means the old format whose fields are VAs, not RVAs.
//! A thunk (4 bytes in PE32, 8 in PE32+) with its top bit set imports by ordinal; otherwise
//! it is the RVA of a 2-byte hint followed by the name.

use super::image::Image;
use crate::binary::bytes::{le_u16, le_u32};
use crate::binary::ReadError;
use serde::Serialize;

/// More DLLs than any real image imports from; bounds what a corrupt table can cost.
const MAX_DLLS: usize = 4096;
/// More functions than any real image imports, over all DLLs.
const MAX_FUNCTIONS: usize = 1 << 20;

/// The functions imported from one DLL.
#[derive(Debug, Clone, Serialize)]
pub struct ImportedDll {
    /// The DLL's name as recorded in the table.
    pub dll: String,
    /// The imported functions, in table order.
    pub functions: Vec<ImportedFunction>,
}

/// One imported function: by name (with the linker's hint) or by ordinal.
#[derive(Debug, Clone, Serialize)]
pub struct ImportedFunction {
    /// The name, for imports by name.
    pub name: Option<String>,
    /// The ordinal, for imports by ordinal.
    pub ordinal: Option<u16>,
    /// The export-name-table index the linker expected, for imports by name.
    pub hint: Option<u16>,
}

pub fn read(image: &Image<'_>, rva: u32) -> Result<Vec<ImportedDll>, ReadError> {
    let mut budget = MAX_FUNCTIONS;
    // The loader ignores this directory's size and walks to the all-zero descriptor.
    read_descriptors(image, rva, 20, MAX_DLLS, "import descriptor", |d| {
        let lookup = le_u32(d, 0);
        let name = le_u32(d, 12);
        let iat = le_u32(d, 16);
        // Without a lookup table the address table holds the names until binding.
        let thunks = if lookup != 0 { lookup } else { iat };
        Ok((name.into(), thunks.into()))
    })?
    .into_iter()
    .map(|(name, thunks)| read_dll(image, name, thunks, &mut budget))
    .collect()
}

pub fn read_delayed(image: &Image<'_>, rva: u32, size: u32) -> Result<Vec<ImportedDll>, ReadError> {
    let mut budget = MAX_FUNCTIONS;
    let base = image.image_base;
    // Delay-load descriptors are read by the program's helper, not the loader. MSVC writes
    // a zero-terminated array; GNU ld writes each DLL's descriptor separately (in .text),
    // so the directory's size is the only bound there.
    let max = match size / 32 {
        0 => MAX_DLLS,
        n => (n as usize).min(MAX_DLLS),
    };
    read_descriptors(image, rva, 32, max, "delay-import descriptor", |d| {
        let rva_based = le_u32(d, 0) & 1 != 0;
        let fix = |v: u32| -> Result<u64, ReadError> {
            if rva_based || v == 0 {
                return Ok(v.into());
            }
            u64::from(v).checked_sub(base).ok_or_else(|| {
                ReadError::Malformed(format!("delay-import VA {v:#x} lies below the image base {base:#x}"))
            })
        };
        Ok((fix(le_u32(d, 4))?, fix(le_u32(d, 16))?))
    })?
    .into_iter()
    .map(|(name, thunks)| read_dll(image, name, thunks, &mut budget))
    .collect()
}

/// Reads descriptors of `size` bytes until an all-zero one or `max` of them, returning
/// (name RVA, thunk RVA) pairs.
fn read_descriptors(
    image: &Image<'_>,
    rva: u32,
    size: u64,
    max: usize,
    what: &str,
    mut fields: impl FnMut(&[u8]) -> Result<(u64, u64), ReadError>,
) -> Result<Vec<(u64, u64)>, ReadError> {
    let mut out = Vec::new();
    for i in 0..max as u64 {
        let d = image.slice(u64::from(rva) + i * size, size, &format!("{what} #{i}"))?;
        if d.iter().all(|&b| b == 0) {
            return Ok(out);
        }
        out.push(fields(d)?);
    }
    if max == MAX_DLLS {
        return Err(ReadError::Absurd {
            what: format!("{what} table"),
            count: max as u64 + 1,
            limit: max as u64,
        });
    }
    Ok(out)
}

fn read_dll(
    image: &Image<'_>,
    name_rva: u64,
    thunks: u64,
    budget: &mut usize,
) -> Result<ImportedDll, ReadError> {
    let dll = image.string(name_rva, "imported DLL name")?;
    let width: u64 = if image.pe32_plus { 8 } else { 4 };
    let mut functions = Vec::new();
    if thunks == 0 {
        return Ok(ImportedDll { dll, functions });
    }
    let what = format!("import thunk table of {dll}");
    for i in 0.. {
        let t = image.slice(thunks + i * width, width, &what)?;
        let value = if width == 8 {
            u64::from(le_u32(t, 0)) | u64::from(le_u32(t, 4)) << 32
        } else {
            le_u32(t, 0).into()
        };
        if value == 0 {
            break;
        }
        if *budget == 0 {
            return Err(ReadError::Absurd {
                what: "import tables".into(),
                count: MAX_FUNCTIONS as u64 + 1,
                limit: MAX_FUNCTIONS as u64,
            });
        }
        *budget -= 1;
        let by_ordinal = value >> (width * 8 - 1) != 0;
        functions.push(if by_ordinal {
            ImportedFunction { name: None, ordinal: Some(value as u16), hint: None }
        } else {
            let rva = value & 0x7fff_ffff;
            let hint = le_u16(image.slice(rva, 2, &what)?, 0);
            ImportedFunction { name: Some(image.string(rva + 2, &what)?), ordinal: None, hint: Some(hint) }
        });
    }
    Ok(ImportedDll { dll, functions })
}
