//! `dllgen audit`: what a binary is, what it exports and imports, and whether a 32-bit
//! host can load it. The [`Report`] is serialized as-is for `--json` (schema in
//! `docs/AUDIT-JSON.md`) and rendered for people by [`text`].

pub mod header_check;
pub mod text;

use crate::binary::{self, Binary, ReadError};
use serde::Serialize;

/// Identifies the JSON layout; bumped only for incompatible changes.
pub const SCHEMA: &str = "dllgen-audit/1";

/// The result of auditing one file.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The path as the user gave it.
    pub file: String,
    /// The file's size in bytes.
    pub size: u64,
    /// Format-specific facts (`"format": "pe"` or `"elf"`).
    #[serde(flatten)]
    pub binary: Binary,
    /// Whether a 32-bit host can load the file, and why.
    pub verdict: Verdict,
    /// The cross-check against a header (`--header`), when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_check: Option<header_check::HeaderCheck>,
}

/// The answer to "can dllgen's 32-bit host load this?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// `true` when a 32-bit host process can load the library and call into it.
    pub loadable_by_32bit_host: bool,
    /// One sentence saying why.
    pub reason: String,
}

/// Reads `bytes` (the contents of `file`) and builds its report.
pub fn audit(file: &str, bytes: &[u8]) -> Result<Report, ReadError> {
    let binary = binary::read(bytes)?;
    let verdict = verdict(&binary);
    Ok(Report {
        schema: SCHEMA,
        file: file.to_string(),
        size: bytes.len() as u64,
        binary,
        verdict,
        header_check: None,
    })
}

fn verdict(binary: &Binary) -> Verdict {
    let (ok, reason) = match binary {
        Binary::Pe(pe) => pe_verdict(pe),
        Binary::Elf(elf) => elf_verdict(elf),
    };
    Verdict { loadable_by_32bit_host: ok, reason }
}

fn pe_verdict(pe: &binary::pe::PeFile) -> (bool, String) {
    use binary::pe::{MACHINE_AMD64, MACHINE_I386};
    let machine = format!("Machine {} ({:#x})", pe.machine.name, pe.machine.value);
    if pe.machine.value == MACHINE_AMD64 {
        return (
            false,
            format!(
                "{machine}: a 64-bit image; a 64-bit process loads it directly, no 32-bit host is needed"
            ),
        );
    }
    if pe.machine.value != MACHINE_I386 {
        return (false, format!("{machine}: a 32-bit x86 host can only load I386 (0x14c) images"));
    }
    if !pe.is_i386() {
        return (false, format!("{machine} with a {} optional header: an inconsistent image", pe.kind));
    }
    if let Some(clr) = pe.clr.as_ref().filter(|c| c.il_only) {
        return (
            false,
            format!(
                "a .NET assembly (CLR header, runtime {}, IL only): it has no native code to call; load it from a .NET process instead",
                clr.runtime_version
            ),
        );
    }
    if !pe.is_dll {
        return (false, "an executable (IMAGE_FILE_DLL is not set), not a DLL: its functions cannot be called after LoadLibrary".into());
    }
    let exports = pe.exports.as_ref().map_or(0, |e| e.entries.len());
    let mut reason = format!("an I386 PE32 DLL with {exports} export{}", if exports == 1 { "" } else { "s" });
    if pe.clr.is_some() {
        reason.push_str("; a mixed-mode .NET assembly, so loading it also starts the CLR in the host");
    }
    if exports == 0 {
        reason.push_str("; it loads, but there is nothing to call");
    }
    (true, reason)
}

fn elf_verdict(elf: &binary::elf::ElfFile) -> (bool, String) {
    let what = format!("{} {} ({})", elf.class, elf.machine.name, elf.file_type.name);
    if elf.is_i386_shared_object() {
        let n = elf.symbols.iter().filter(|s| s.kind == "function").count();
        return (
            true,
            format!("an {what} shared object with {n} exported function{}", if n == 1 { "" } else { "s" }),
        );
    }
    if elf.class == "ELF64" && elf.machine.name == "X86_64" {
        return (
            false,
            format!("{what}: a 64-bit object; a 64-bit process loads it directly, no 32-bit host is needed"),
        );
    }
    if elf.class == "ELF32" && elf.machine.value == binary::elf::EM_386 {
        return (false, format!("{what}: not a shared object, so it cannot be loaded with dlopen"));
    }
    (false, format!("{what}: a 32-bit x86 host can only load ELF32 386 shared objects"))
}
