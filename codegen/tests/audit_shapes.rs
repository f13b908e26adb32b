//! Real-world PE shapes no compiler here produces, built byte by byte: each is read the
//! way the Windows loader reads it, or refused with a clear error when it is corrupt.

use dllgen::audit::{audit, text::render};
use dllgen::binary::pe::PeFile;
use dllgen::binary::Binary;
use dllgen_tests::pe_builder::{export_block, u32s, Image, Section};

fn pe(bytes: &[u8]) -> PeFile {
    match audit("shape.dll", bytes).unwrap_or_else(|e| panic!("{e}")).binary {
        Binary::Pe(pe) => *pe,
        Binary::Elf(_) => panic!("not PE"),
    }
}

fn error(bytes: &[u8]) -> String {
    audit("shape.dll", bytes).expect_err("an error").to_string()
}

fn one_export(rva: u32) -> Vec<u8> {
    export_block(rva, "shape.dll", &[0x1000], &[("f", 0)])
}

#[test]
fn the_dos_stub_and_rich_header_are_ignored_like_the_loader_does() {
    let stub = b"This program cannot be run in DOS mode.\r\nRich\x01\x02\x03\x04".to_vec();
    let image = Image {
        sections: vec![Section::data(".edata", 0x2000, one_export(0x2000))],
        directories: vec![(0, 0x2000, 40)],
        stub,
        ..Default::default()
    };
    assert_eq!(pe(&image.build()).exports.unwrap().entries[0].name.as_deref(), Some("f"));
}

#[test]
fn more_than_16_directories_are_clamped() {
    let image = Image {
        sections: vec![Section::data(".edata", 0x2000, one_export(0x2000))],
        directories: vec![(0, 0x2000, 40)],
        number_of_rva_and_sizes: 17,
        ..Default::default()
    };
    assert_eq!(pe(&image.build()).exports.unwrap().entries.len(), 1);
}

#[test]
fn low_alignment_images_map_file_offsets_to_rvas() {
    let image = Image {
        sections: vec![Section::data(".edata", 0x220, one_export(0x220))],
        directories: vec![(0, 0x220, 40)],
        file_alignment: 0x20,
        section_alignment: 0x20,
        ..Default::default()
    };
    assert_eq!(pe(&image.build()).exports.unwrap().entries[0].name.as_deref(), Some("f"));
}

#[test]
fn a_directory_at_rva_0_is_absent_whatever_its_size() {
    let image = Image { directories: vec![(0, 0, 40), (13, 0, 64), (14, 0, 72)], ..Default::default() };
    let p = pe(&image.build());
    assert!(p.exports.is_none() && p.delay_imports.is_empty() && p.clr.is_none());
}

#[test]
fn many_sections_are_accepted() {
    let sections = (0..120).map(|i| Section::data(".s", 0x1000 * (i + 1), vec![1])).collect();
    assert_eq!(pe(&Image { sections, ..Default::default() }.build()).sections.len(), 120);
}

/// An import section at 0x3000: descriptors at +0, then whatever `tail` lays out.
fn imports(descriptors: &[[u32; 5]], tail: Vec<u8>) -> Vec<u8> {
    let mut d: Vec<u8> = descriptors.iter().flat_map(|x| u32s(x)).collect();
    d.extend(tail);
    d
}

#[test]
fn import_descriptors_end_at_a_zero_name_or_address_table() {
    // Descriptor 1 has a time stamp but no name: the loader stops there, although the
    // descriptor is not all zeros and garbage follows.
    let lookup = 0x3000 + 40;
    let hint_name = lookup + 8;
    let dll = hint_name + 10;
    let mut tail = u32s(&[hint_name, 0]);
    tail.extend(b"\0\0GetTick\0k32.dll\0");
    tail.extend([0xab; 40]);
    let data = imports(&[[lookup, 0, 0, dll, lookup], [0, 7, 0, 0, 0]], tail);
    let image = Image {
        sections: vec![Section::data(".idata", 0x3000, data)],
        directories: vec![(1, 0x3000, 40)],
        ..Default::default()
    };
    let p = pe(&image.build());
    assert_eq!(p.imports.len(), 1);
    assert_eq!(p.imports[0].dll, "k32.dll");
    assert_eq!(p.imports[0].functions[0].name.as_deref(), Some("GetTick"));
}

#[test]
fn bound_imports_without_a_lookup_table_are_reported_as_bound() {
    // OriginalFirstThunk 0, TimeDateStamp set: the address table holds addresses.
    let iat = 0x3000 + 40;
    let mut tail = u32s(&[0x7c80_1000, 0]);
    tail.extend(b"k32.dll\0");
    let data = imports(&[[0, 0xffff_ffff, 0, iat + 8, iat], [0; 5]], tail);
    let image = Image {
        sections: vec![Section::data(".idata", 0x3000, data)],
        directories: vec![(1, 0x3000, 40)],
        ..Default::default()
    };
    let p = pe(&image.build());
    assert!(p.imports[0].bound && p.imports[0].functions.is_empty());
    let report = audit("shape.dll", &image.build()).unwrap();
    assert!(render(&report).contains("k32.dll (bound at link time: names unavailable)"));
}

#[test]
fn old_format_delay_imports_hold_virtual_addresses() {
    let base = 0x1000_0000u32;
    let at = 0x3000u32;
    // Descriptor (32 bytes, attributes 0: VAs), terminator, then INT, hint/name, DLL name.
    let int = at + 64;
    let hint_name = int + 8;
    let dll = hint_name + 2 + 8;
    let mut d = u32s(&[0, base + dll, 0, 0, base + int, 0, 0, 0]);
    d.extend(vec![0; 32]);
    d.extend(u32s(&[base + hint_name, 0]));
    d.extend(b"\0\0DoWork\0\0");
    d.extend(b"lazy.dll\0");
    let image = Image {
        sections: vec![Section::data(".didat", at, d)],
        directories: vec![(13, at, 64)],
        ..Default::default()
    };
    let p = pe(&image.build());
    assert_eq!(p.delay_imports[0].dll, "lazy.dll");
    assert_eq!(p.delay_imports[0].functions[0].name.as_deref(), Some("DoWork"));
}

#[test]
fn tables_may_end_in_the_zero_filled_part_of_a_section() {
    // The lookup table's terminating 0 lies past the section's file data, inside its
    // virtual size: the loader sees zeros there.
    let names = 0x3000 + 40;
    let mut tail = b"\0\0GetTick\0\0k32.dll\0".to_vec();
    let lookup_at = names + tail.len() as u32;
    tail.extend(u32s(&[names])); // no terminator in the file
    let data = imports(&[[lookup_at, 0, 0, names + 10, lookup_at], [0; 5]], tail);
    let mut section = Section::data(".idata", 0x3000, data);
    section.virtual_size = 0x1000;
    let image = Image {
        sections: vec![section],
        directories: vec![(1, 0x3000, 40)],
        file_alignment: 4,
        section_alignment: 0x1000,
        ..Default::default()
    };
    let bytes = image.build();
    let p = pe(&bytes);
    assert_eq!(p.imports[0].functions.len(), 1);
}

#[test]
fn names_that_reuse_one_long_string_hit_a_budget_not_the_memory_limit() {
    // 20,000 names all pointing at one 8,000-byte string: 160 MB of copies from a small file.
    let n = 20_000u32;
    let rva = 0x2000;
    let eat = rva + 40;
    let ptrs = eat + 4;
    let ords = ptrs + 4 * n;
    let s = ords + 2 * n;
    let mut d = u32s(&[0, 0, 0, 0, 1, 1, n, eat, ptrs, ords]);
    d.extend(u32s(&[0x1000]));
    d.extend(u32s(&vec![s; n as usize]));
    d.extend(vec![0; 2 * n as usize]);
    d.extend(vec![b'x'; 8000]);
    d.push(0);
    let image = Image {
        sections: vec![Section::data(".edata", rva, d)],
        directories: vec![(0, rva, 40)],
        ..Default::default()
    };
    assert!(error(&image.build()).contains("four times the file"));
}

#[test]
fn control_characters_in_names_are_escaped_in_text() {
    let block = export_block(0x2000, "shape.dll", &[0x1000], &[("evil\n\u{1b}[31mverdict: fake", 0)]);
    let image = Image {
        sections: vec![Section::data(".edata", 0x2000, block)],
        directories: vec![(0, 0x2000, 40)],
        ..Default::default()
    };
    let text = render(&audit("shape.dll", &image.build()).unwrap());
    assert!(text.contains("evil\\n\\u{1b}[31mverdict: fake"), "{text}");
    assert_eq!(text.lines().filter(|l| l.starts_with("verdict:")).count(), 1);
}

#[test]
fn a_one_byte_optional_header_is_an_error_not_a_panic() {
    // Found by the fuzzer: SizeOfOptionalHeader = 1.
    let mut bytes = Image::default().build();
    let pe = u32::from_le_bytes(bytes[0x3c..0x40].try_into().unwrap()) as usize;
    bytes[pe + 20..pe + 22].copy_from_slice(&1u16.to_le_bytes());
    assert!(error(&bytes).contains("optional header is 1 byte long"));
}
