//! ELF shared objects: the Linux side of the test rig (a 32-bit `.so` plays the 32-bit DLL).

use super::ReadError;
use goblin::elf::sym;
use serde::Serialize;

/// `EM_386`: the only machine a 32-bit x86 host can load.
pub const EM_386: u16 = 3;
const ET_DYN: u16 = 3;

/// Everything `audit` reports about an ELF file.
#[derive(Debug, Clone, Serialize)]
pub struct ElfFile {
    /// `ELF32` or `ELF64`.
    pub class: &'static str,
    /// `e_machine` with its name.
    pub machine: ElfCode,
    /// `e_type` with its name (`DYN` for shared objects).
    pub file_type: ElfCode,
    /// `DT_SONAME`, when present.
    pub soname: Option<String>,
    /// `DT_NEEDED` libraries, in order.
    pub needed: Vec<String>,
    /// Defined, externally visible dynamic symbols, sorted by name.
    pub symbols: Vec<ElfSymbol>,
    /// Loadable executable segments: (address, file offset, bytes in the file), to find a
    /// function's code.
    #[serde(skip)]
    pub code_segments: Vec<(u64, u64, u64)>,
}

/// A numeric ELF field with its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ElfCode {
    /// The raw value.
    pub value: u16,
    /// The specification's name, or `unrecognized`.
    pub name: &'static str,
}

/// One exported dynamic symbol.
#[derive(Debug, Clone, Serialize)]
pub struct ElfSymbol {
    /// The symbol's name.
    pub name: String,
    /// `function`, `data`, `tls` or `other`.
    pub kind: &'static str,
    /// `global`, `weak` or `unique`.
    pub binding: &'static str,
    /// The symbol's address.
    pub value: u64,
    /// The symbol's size in bytes.
    pub size: u64,
}

impl ElfFile {
    /// Whether a 32-bit x86 host can `dlopen` it: ELFCLASS32, EM_386, a shared object.
    pub fn is_i386_shared_object(&self) -> bool {
        self.class == "ELF32" && self.machine.value == EM_386 && self.file_type.value == ET_DYN
    }
}

fn machine_name(code: u16) -> &'static str {
    match code {
        3 => "386",
        8 => "MIPS",
        20 => "PPC",
        21 => "PPC64",
        40 => "ARM",
        62 => "X86_64",
        183 => "AARCH64",
        243 => "RISCV",
        258 => "LOONGARCH",
        _ => "unrecognized",
    }
}

fn type_name(code: u16) -> &'static str {
    match code {
        0 => "NONE",
        1 => "REL",
        2 => "EXEC",
        3 => "DYN",
        4 => "CORE",
        _ => "unrecognized",
    }
}

/// Parses an ELF file. `bytes` starts with `\x7fELF`.
pub fn read(bytes: &[u8]) -> Result<ElfFile, ReadError> {
    let elf = goblin::elf::Elf::parse(bytes).map_err(|e| ReadError::malformed("ELF file", e))?;
    // Symbols can share one long name; copying is bounded like the PE reader's.
    let budget = (bytes.len() as u64).saturating_mul(4).max(1 << 20);
    let total: u64 =
        elf.dynsyms.iter().filter_map(|s| elf.dynstrtab.get_at(s.st_name)).map(|n| n.len() as u64).sum();
    if total > budget {
        return Err(ReadError::Malformed(format!(
            "the dynamic symbol names add up to {total} bytes, more than four times the file: a corrupt symbol table"
        )));
    }
    let mut symbols: Vec<ElfSymbol> = elf
        .dynsyms
        .iter()
        .filter(|s| {
            s.st_shndx != 0 && s.st_visibility() != sym::STV_HIDDEN && s.st_visibility() != sym::STV_INTERNAL
        })
        .filter_map(|s| {
            let binding = match s.st_bind() {
                sym::STB_GLOBAL => "global",
                sym::STB_WEAK => "weak",
                sym::STB_GNU_UNIQUE => "unique",
                _ => return None,
            };
            let kind = match s.st_type() {
                sym::STT_FUNC | sym::STT_GNU_IFUNC => "function",
                sym::STT_OBJECT | sym::STT_COMMON => "data",
                sym::STT_TLS => "tls",
                sym::STT_SECTION | sym::STT_FILE => return None,
                _ => "other",
            };
            let name = elf.dynstrtab.get_at(s.st_name)?;
            (!name.is_empty()).then(|| ElfSymbol {
                name: name.to_string(),
                kind,
                binding,
                value: s.st_value,
                size: s.st_size,
            })
        })
        .collect();
    symbols.sort_by(|a, b| a.name.cmp(&b.name).then(a.value.cmp(&b.value)));
    let machine = elf.header.e_machine;
    let file_type = elf.header.e_type;
    Ok(ElfFile {
        class: if elf.is_64 { "ELF64" } else { "ELF32" },
        machine: ElfCode { value: machine, name: machine_name(machine) },
        file_type: ElfCode { value: file_type, name: type_name(file_type) },
        soname: elf.soname.map(str::to_string),
        needed: elf.libraries.iter().map(|s| s.to_string()).collect(),
        symbols,
        code_segments: elf
            .program_headers
            .iter()
            .filter(|p| p.p_type == goblin::elf::program_header::PT_LOAD && p.is_executable())
            .map(|p| (p.p_vaddr, p.p_offset, p.p_filesz))
            .collect(),
    })
}
