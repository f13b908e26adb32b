//! The .NET runtime header (`IMAGE_COR20_HEADER`, data directory 14): +0 cb, +4 major and
//! +6 minor runtime version, +16 Flags. Its presence makes the image an assembly.

use super::image::Image;
use super::{names, Flags};
use crate::binary::bytes::{le_u16, le_u32};
use crate::binary::ReadError;
use serde::Serialize;

const ILONLY: u32 = 0x1;

/// The parts of a CLR header that decide whether native code can call into the image.
#[derive(Debug, Clone, Serialize)]
pub struct ClrHeader {
    /// The runtime version the assembly targets, `major.minor` (2.5 for all modern .NET).
    pub runtime_version: String,
    /// `COMIMAGE_FLAGS_*`.
    pub flags: Flags,
    /// IL only: no native code, nothing a native host can call.
    pub il_only: bool,
}

pub fn read(image: &Image<'_>, rva: u32, size: u32) -> Result<ClrHeader, ReadError> {
    // The header is 72 bytes; accept shorter directory sizes as long as the flags are there.
    let len = u64::from(size.clamp(20, 72));
    let h = image.slice(rva.into(), len, "CLR (.NET) header")?;
    let h = &h[..];
    let flags = le_u32(h, 16);
    Ok(ClrHeader {
        runtime_version: format!("{}.{}", le_u16(h, 4), le_u16(h, 6)),
        flags: Flags::new(names::CLR_FLAGS, flags),
        il_only: flags & ILONLY != 0,
    })
}
