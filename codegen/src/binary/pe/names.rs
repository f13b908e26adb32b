//! Names for the numeric fields of PE headers, from the PE/COFF specification. The names are
//! part of `audit --json`'s stable schema: add new ones, never rename.

/// `IMAGE_FILE_MACHINE_*` names for the COFF `Machine` field.
pub fn machine(code: u16) -> &'static str {
    match code {
        0x0000 => "UNKNOWN",
        0x014c => "I386",
        0x8664 => "AMD64",
        0xaa64 => "ARM64",
        0xa641 => "ARM64EC",
        0xa64e => "ARM64X",
        0x01c0 => "ARM",
        0x01c2 => "THUMB",
        0x01c4 => "ARMNT",
        0x0200 => "IA64",
        0x0162 => "R3000",
        0x0166 => "R4000",
        0x0168 => "R10000",
        0x0169 => "WCEMIPSV2",
        0x0266 => "MIPS16",
        0x0366 => "MIPSFPU",
        0x0466 => "MIPSFPU16",
        0x01a2 => "SH3",
        0x01a3 => "SH3DSP",
        0x01a6 => "SH4",
        0x01a8 => "SH5",
        0x01f0 => "POWERPC",
        0x01f1 => "POWERPCFP",
        0x0284 => "ALPHA64",
        0x0ebc => "EBC",
        0x5032 => "RISCV32",
        0x5064 => "RISCV64",
        0x5128 => "RISCV128",
        0x6232 => "LOONGARCH32",
        0x6264 => "LOONGARCH64",
        0x9041 => "M32R",
        _ => "unrecognized",
    }
}

/// `IMAGE_SUBSYSTEM_*` names.
pub fn subsystem(code: u16) -> &'static str {
    match code {
        0 => "UNKNOWN",
        1 => "NATIVE",
        2 => "WINDOWS_GUI",
        3 => "WINDOWS_CUI",
        5 => "OS2_CUI",
        7 => "POSIX_CUI",
        8 => "NATIVE_WINDOWS",
        9 => "WINDOWS_CE_GUI",
        10 => "EFI_APPLICATION",
        11 => "EFI_BOOT_SERVICE_DRIVER",
        12 => "EFI_RUNTIME_DRIVER",
        13 => "EFI_ROM",
        14 => "XBOX",
        16 => "WINDOWS_BOOT_APPLICATION",
        _ => "unrecognized",
    }
}

/// `IMAGE_FILE_*` bits of the COFF `Characteristics` field.
pub const CHARACTERISTICS: &[(u32, &str)] = &[
    (0x0001, "RELOCS_STRIPPED"),
    (0x0002, "EXECUTABLE_IMAGE"),
    (0x0004, "LINE_NUMS_STRIPPED"),
    (0x0008, "LOCAL_SYMS_STRIPPED"),
    (0x0010, "AGGRESSIVE_WS_TRIM"),
    (0x0020, "LARGE_ADDRESS_AWARE"),
    (0x0080, "BYTES_REVERSED_LO"),
    (0x0100, "32BIT_MACHINE"),
    (0x0200, "DEBUG_STRIPPED"),
    (0x0400, "REMOVABLE_RUN_FROM_SWAP"),
    (0x0800, "NET_RUN_FROM_SWAP"),
    (0x1000, "SYSTEM"),
    (0x2000, "DLL"),
    (0x4000, "UP_SYSTEM_ONLY"),
    (0x8000, "BYTES_REVERSED_HI"),
];

/// `IMAGE_DLLCHARACTERISTICS_*` bits of the optional header.
pub const DLL_CHARACTERISTICS: &[(u32, &str)] = &[
    (0x0020, "HIGH_ENTROPY_VA"),
    (0x0040, "DYNAMIC_BASE"),
    (0x0080, "FORCE_INTEGRITY"),
    (0x0100, "NX_COMPAT"),
    (0x0200, "NO_ISOLATION"),
    (0x0400, "NO_SEH"),
    (0x0800, "NO_BIND"),
    (0x1000, "APPCONTAINER"),
    (0x2000, "WDM_DRIVER"),
    (0x4000, "GUARD_CF"),
    (0x8000, "TERMINAL_SERVER_AWARE"),
];

/// `IMAGE_SCN_*` bits of a section header that matter to a reader.
pub const SECTION_FLAGS: &[(u32, &str)] = &[
    (0x0000_0020, "CNT_CODE"),
    (0x0000_0040, "CNT_INITIALIZED_DATA"),
    (0x0000_0080, "CNT_UNINITIALIZED_DATA"),
    (0x0200_0000, "MEM_DISCARDABLE"),
    (0x1000_0000, "MEM_SHARED"),
    (0x2000_0000, "MEM_EXECUTE"),
    (0x4000_0000, "MEM_READ"),
    (0x8000_0000, "MEM_WRITE"),
];

/// `COMIMAGE_FLAGS_*` bits of a .NET (CLR) header.
pub const CLR_FLAGS: &[(u32, &str)] = &[
    (0x0000_0001, "ILONLY"),
    (0x0000_0002, "32BITREQUIRED"),
    (0x0000_0004, "IL_LIBRARY"),
    (0x0000_0008, "STRONGNAMESIGNED"),
    (0x0000_0010, "NATIVE_ENTRYPOINT"),
    (0x0001_0000, "TRACKDEBUGDATA"),
    (0x0002_0000, "32BITPREFERRED"),
];

/// The names of the bits set in `value`, in table order; unnamed bits are left out (the
/// raw value is always reported beside the names).
pub fn flag_names(table: &[(u32, &'static str)], value: u32) -> Vec<&'static str> {
    table.iter().filter(|(bit, _)| value & bit != 0).map(|(_, name)| *name).collect()
}
