//! The export directory, walked from the export address table (EAT) so that ordinal-only
//! (NONAME) entries and every name's ordinal are reported.
//!
//! Layout (`IMAGE_EXPORT_DIRECTORY`, 40 bytes): +12 Name RVA, +16 OrdinalBase,
//! +20 NumberOfFunctions, +24 NumberOfNames, +28 AddressOfFunctions (EAT, u32 RVAs),
//! +32 AddressOfNames (u32 name RVAs, sorted), +36 AddressOfNameOrdinals (u16 EAT indexes).
//! An EAT entry pointing inside the export directory is a forwarder string `dll.name`.

use super::image::Image;
use crate::binary::bytes::{le_u16, le_u32};
use crate::binary::decorate::{self, Decoration};
use crate::binary::ReadError;
use serde::Serialize;
use std::borrow::Cow;

/// Ordinals are 16-bit wherever they are used (imports by ordinal, the name ordinal table),
/// so no valid EAT has more entries than this.
pub const MAX_FUNCTIONS: u32 = 0x1_0000;
/// Names may alias functions, but a table longer than this is corruption.
pub const MAX_NAMES: u32 = 0x10_0000;

/// The export directory of a PE image.
#[derive(Debug, Clone, Serialize)]
pub struct ExportDirectory {
    /// The DLL name recorded at link time (may differ from the file name).
    pub dll_name: Option<String>,
    /// `OrdinalBase`: the ordinal of the EAT's first entry.
    pub ordinal_base: u32,
    /// `NumberOfFunctions`: EAT slots, including unused (zero) ones.
    pub number_of_functions: u32,
    /// `NumberOfNames`: entries of the name pointer table.
    pub number_of_names: u32,
    /// The directory's own `TimeDateStamp`.
    pub timestamp: u32,
    /// One entry per exported name, plus one per used EAT slot without a name; sorted by
    /// ordinal, then hint.
    pub entries: Vec<Export>,
}

/// What an export's address refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    /// An RVA in an executable section.
    Code,
    /// An RVA in a non-executable section (exported variable or table).
    Data,
    /// A forwarder to another DLL's export.
    Forwarder,
    /// An RVA outside every section: the image is inconsistent.
    Unmapped,
}

/// One exported name or ordinal.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    /// `OrdinalBase` + EAT index: what `GetProcAddress(h, MAKEINTRESOURCE(n))` takes.
    pub ordinal: u32,
    /// Index in the name pointer table; `None` for ordinal-only exports.
    pub hint: Option<u32>,
    /// The exported name; `None` for ordinal-only (NONAME) exports.
    pub name: Option<String>,
    /// The EAT value: the function's or variable's RVA, or the forwarder string's.
    pub rva: u32,
    /// Code, data or forwarder.
    pub kind: ExportKind,
    /// `dll.function` or `dll.#ordinal` for forwarders.
    pub forwarder: Option<String>,
    /// Calling convention and argument bytes read from a decorated name.
    pub decoration: Option<Decoration>,
}

pub fn read(image: &Image<'_>, dir_rva: u32, dir_size: u32) -> Result<ExportDirectory, ReadError> {
    let dir = image.slice(dir_rva.into(), 40, "export directory")?;
    let dir = &dir[..];
    let timestamp = le_u32(dir, 4);
    let name_rva = le_u32(dir, 12);
    let ordinal_base = le_u32(dir, 16);
    let number_of_functions = le_u32(dir, 20);
    let number_of_names = le_u32(dir, 24);
    let eat_rva = le_u32(dir, 28);
    let names_rva = le_u32(dir, 32);
    let ordinals_rva = le_u32(dir, 36);

    if number_of_functions > MAX_FUNCTIONS {
        return Err(ReadError::Absurd {
            what: "export address table".into(),
            count: number_of_functions.into(),
            limit: MAX_FUNCTIONS.into(),
        });
    }
    if number_of_names > MAX_NAMES {
        return Err(ReadError::Absurd {
            what: "export name table".into(),
            count: number_of_names.into(),
            limit: MAX_NAMES.into(),
        });
    }
    let dll_name = match name_rva {
        0 => None,
        rva => Some(image.string(rva.into(), "export directory's DLL name")?),
    };
    // Slices are bounds-checked against the file before anything is allocated, so the
    // allocations below are bounded by the file's size.
    let eat = if number_of_functions == 0 {
        Cow::Borrowed(&[][..])
    } else {
        image.slice(eat_rva.into(), u64::from(number_of_functions) * 4, "export address table")?
    };
    let (name_ptrs, name_ords) = if number_of_names == 0 {
        (Cow::Borrowed(&[][..]), Cow::Borrowed(&[][..]))
    } else {
        (
            image.slice(names_rva.into(), u64::from(number_of_names) * 4, "export name pointer table")?,
            image.slice(ordinals_rva.into(), u64::from(number_of_names) * 2, "export name ordinal table")?,
        )
    };

    let dir_range = u64::from(dir_rva)..u64::from(dir_rva) + u64::from(dir_size);
    let entry = |index: u32, hint: Option<u32>, name: Option<String>| -> Result<Export, ReadError> {
        let rva = le_u32(&eat, index as usize * 4);
        let ordinal = ordinal_base.wrapping_add(index);
        let (kind, forwarder) = if dir_range.contains(&u64::from(rva)) {
            (
                ExportKind::Forwarder,
                Some(image.string(rva.into(), &format!("forwarder string of ordinal {ordinal}"))?),
            )
        } else {
            let kind = match image.executable(rva) {
                Some(true) => ExportKind::Code,
                Some(false) => ExportKind::Data,
                None => ExportKind::Unmapped,
            };
            (kind, None)
        };
        let decoration = name.as_deref().and_then(decorate::parse);
        Ok(Export { ordinal, hint, name, rva, kind, forwarder, decoration })
    };

    let mut named = vec![false; number_of_functions as usize];
    let mut entries = Vec::with_capacity(number_of_functions.max(number_of_names) as usize);
    for hint in 0..number_of_names {
        let index = u32::from(le_u16(&name_ords, hint as usize * 2));
        if index >= number_of_functions {
            return Err(ReadError::Malformed(format!(
                "export name #{hint} refers to export address table slot {index}, but the table has {number_of_functions} slots"
            )));
        }
        let name_rva = le_u32(&name_ptrs, hint as usize * 4);
        let name = image.string(name_rva.into(), &format!("export name #{hint}"))?;
        named[index as usize] = true;
        entries.push(entry(index, Some(hint), Some(name))?);
    }
    for index in 0..number_of_functions {
        // Zero slots are ordinals left unused (gaps in a .def file's numbering).
        if !named[index as usize] && le_u32(&eat, index as usize * 4) != 0 {
            entries.push(entry(index, None, None)?);
        }
    }
    entries.sort_by_key(|e| (e.ordinal, e.hint));
    Ok(ExportDirectory { dll_name, ordinal_base, number_of_functions, number_of_names, timestamp, entries })
}
