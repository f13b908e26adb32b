//! Import and delay-import tables.
//!
//! `IMAGE_IMPORT_DESCRIPTOR` (20 bytes): +0 OriginalFirstThunk (lookup table RVA),
//! +4 TimeDateStamp (non-zero once bound), +12 Name RVA, +16 FirstThunk (address table
//! RVA). Like the loader, the list ends at a descriptor whose Name or FirstThunk is 0.
//! Delay-load descriptors (32 bytes): +0 Attributes, +4 Name, +12 IAT, +16 INT; bit 0 of
//! Attributes clear means the old (VC6) format, whose fields and name thunks are VAs.
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
    /// The table was bound at link time and kept no lookup table: the names are gone,
    /// replaced by addresses.
    pub bound: bool,
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

/// Where one DLL's entries are: its name, its thunks, and how to read them.
struct Descriptor {
    name: u64,
    thunks: u64,
    /// Subtracted from by-name thunk values (the image base in the old delay format).
    bias: u64,
    bound: bool,
}

pub fn read(image: &Image<'_>, rva: u32) -> Result<Vec<ImportedDll>, ReadError> {
    let descriptors = read_descriptors(image, rva, 20, MAX_DLLS, "import descriptor", |d| {
        let (lookup, stamp, name, iat) = (le_u32(d, 0), le_u32(d, 4), le_u32(d, 12), le_u32(d, 16));
        if name == 0 || iat == 0 {
            return Ok(None);
        }
        // Without a lookup table the address table holds the names, unless the image was
        // bound, when it holds addresses instead.
        let bound = lookup == 0 && stamp != 0;
        let thunks = if lookup != 0 { lookup } else { iat };
        Ok(Some(Descriptor {
            name: name.into(),
            thunks: if bound { 0 } else { thunks.into() },
            bias: 0,
            bound,
        }))
    })?;
    read_all(image, descriptors)
}

pub fn read_delayed(image: &Image<'_>, rva: u32, size: u32) -> Result<Vec<ImportedDll>, ReadError> {
    let base = image.image_base;
    // Delay-load descriptors are read by the program's helper, not the loader. MSVC writes
    // a zero-terminated array; GNU ld writes each DLL's descriptor separately (in .text),
    // so the directory's size is the only bound there.
    let max = match size / 32 {
        0 => MAX_DLLS,
        n => (n as usize).min(MAX_DLLS),
    };
    let descriptors = read_descriptors(image, rva, 32, max, "delay-import descriptor", |d| {
        let rva_based = le_u32(d, 0) & 1 != 0;
        let bias = if rva_based { 0 } else { base };
        let fix = |v: u32| -> Result<u64, ReadError> {
            if v == 0 {
                return Ok(0);
            }
            u64::from(v).checked_sub(bias).ok_or_else(|| {
                ReadError::Malformed(format!("delay-import VA {v:#x} lies below the image base {base:#x}"))
            })
        };
        let name = fix(le_u32(d, 4))?;
        if name == 0 {
            return Ok(None);
        }
        Ok(Some(Descriptor { name, thunks: fix(le_u32(d, 16))?, bias, bound: false }))
    })?;
    read_all(image, descriptors)
}

fn read_all(image: &Image<'_>, descriptors: Vec<Descriptor>) -> Result<Vec<ImportedDll>, ReadError> {
    let mut budget = MAX_FUNCTIONS;
    descriptors.into_iter().map(|d| read_dll(image, d, &mut budget)).collect()
}

/// Reads descriptors of `size` bytes until `fields` says the list ended (or `max` of them).
fn read_descriptors(
    image: &Image<'_>,
    rva: u32,
    size: u64,
    max: usize,
    what: &str,
    mut fields: impl FnMut(&[u8]) -> Result<Option<Descriptor>, ReadError>,
) -> Result<Vec<Descriptor>, ReadError> {
    let mut out = Vec::new();
    for i in 0..max as u64 {
        let d = image.slice(u64::from(rva) + i * size, size, &format!("{what} #{i}"))?;
        match fields(&d)? {
            Some(descriptor) => out.push(descriptor),
            None => return Ok(out),
        }
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

fn read_dll(image: &Image<'_>, d: Descriptor, budget: &mut usize) -> Result<ImportedDll, ReadError> {
    let dll = image.string(d.name, "imported DLL name")?;
    let shown = dll.escape_debug().to_string();
    let width: u64 = if image.pe32_plus { 8 } else { 4 };
    let mut functions = Vec::new();
    if d.thunks == 0 {
        return Ok(ImportedDll { dll, functions, bound: d.bound });
    }
    let what = format!("import thunk table of {shown}");
    for i in 0.. {
        let t = image.slice(d.thunks + i * width, width, &what)?;
        let value = if width == 8 {
            u64::from(le_u32(&t, 0)) | u64::from(le_u32(&t, 4)) << 32
        } else {
            le_u32(&t, 0).into()
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
            let entry = format!("hint/name entry #{i} imported from {shown}");
            let rva = (value & 0x7fff_ffff).checked_sub(d.bias).ok_or_else(|| {
                ReadError::Malformed(format!("the {entry} has VA {value:#x}, below the image base"))
            })?;
            let hint = le_u16(&image.slice(rva, 2, &entry)?, 0);
            ImportedFunction { name: Some(image.string(rva + 2, &entry)?), ordinal: None, hint: Some(hint) }
        });
    }
    Ok(ImportedDll { dll, functions, bound: d.bound })
}
