//! Builds small PE32 images byte by byte, for tests of shapes no compiler here produces
//! (bound imports, old delay-load tables, low alignment, crafted corruption).

/// One section: name, RVA, virtual size (0: the data's length), data, characteristics.
pub struct Section {
    pub name: &'static str,
    pub rva: u32,
    pub virtual_size: u32,
    pub data: Vec<u8>,
    pub characteristics: u32,
}

impl Section {
    /// A readable data section holding `data` at `rva`.
    pub fn data(name: &'static str, rva: u32, data: Vec<u8>) -> Self {
        Section { name, rva, virtual_size: 0, data, characteristics: 0x4000_0040 }
    }
}

/// The image's shape.
pub struct Image {
    pub sections: Vec<Section>,
    /// (index, RVA, size) of the data directories to set.
    pub directories: Vec<(usize, u32, u32)>,
    pub file_alignment: u32,
    pub section_alignment: u32,
    /// `NumberOfRvaAndSizes` (the header always has room for 16).
    pub number_of_rva_and_sizes: u32,
    /// Bytes between the DOS header and the PE header (a DOS stub, a Rich header...).
    pub stub: Vec<u8>,
    pub image_base: u32,
}

impl Default for Image {
    fn default() -> Self {
        Image {
            sections: Vec::new(),
            directories: Vec::new(),
            file_alignment: 0x200,
            section_alignment: 0x1000,
            number_of_rva_and_sizes: 16,
            stub: Vec::new(),
            image_base: 0x1000_0000,
        }
    }
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn align(v: usize, to: u32) -> usize {
    let to = to.max(1) as usize;
    v.div_ceil(to) * to
}

impl Image {
    /// The file's bytes. In low-alignment mode (`file_alignment` below 0x200) sections are
    /// placed at file offset = RVA, as the loader expects there.
    pub fn build(&self) -> Vec<u8> {
        let pe = align(64 + self.stub.len(), 8);
        let optional = pe + 24;
        let table = optional + 224;
        let headers_end = table + 40 * self.sections.len();
        let size_of_headers = align(headers_end, self.file_alignment);
        let low = self.file_alignment < 0x200;
        let mut offsets = Vec::new();
        let mut end = size_of_headers;
        for s in &self.sections {
            let at = if low { s.rva as usize } else { end };
            offsets.push(at);
            end = align(at + s.data.len(), self.file_alignment);
        }
        let mut b = vec![0u8; end.max(size_of_headers)];
        b[..2].copy_from_slice(b"MZ");
        put32(&mut b, 0x3c, pe as u32);
        b[64..64 + self.stub.len()].copy_from_slice(&self.stub);
        b[pe..pe + 4].copy_from_slice(b"PE\0\0");
        put16(&mut b, pe + 4, 0x14c);
        put16(&mut b, pe + 6, self.sections.len() as u16);
        put16(&mut b, pe + 20, 224);
        put16(&mut b, pe + 22, 0x2102);
        put16(&mut b, optional, 0x10b);
        put32(&mut b, optional + 28, self.image_base);
        put32(&mut b, optional + 32, self.section_alignment);
        put32(&mut b, optional + 36, self.file_alignment);
        let image_size = self
            .sections
            .iter()
            .map(|s| s.rva as usize + s.data.len().max(s.virtual_size as usize))
            .max()
            .unwrap_or(0);
        put32(&mut b, optional + 56, align(image_size.max(size_of_headers), self.section_alignment) as u32);
        put32(&mut b, optional + 60, size_of_headers as u32);
        put16(&mut b, optional + 68, 3);
        put32(&mut b, optional + 92, self.number_of_rva_and_sizes);
        for &(i, rva, size) in &self.directories {
            put32(&mut b, optional + 96 + i * 8, rva);
            put32(&mut b, optional + 100 + i * 8, size);
        }
        for (i, (s, &at)) in self.sections.iter().zip(&offsets).enumerate() {
            let h = table + 40 * i;
            let name = s.name.as_bytes();
            b[h..h + name.len().min(8)].copy_from_slice(&name[..name.len().min(8)]);
            let vsize = if s.virtual_size == 0 { s.data.len() as u32 } else { s.virtual_size };
            put32(&mut b, h + 8, vsize);
            put32(&mut b, h + 12, s.rva);
            put32(&mut b, h + 16, align(s.data.len(), self.file_alignment) as u32);
            put32(&mut b, h + 20, at as u32);
            put32(&mut b, h + 36, s.characteristics);
            b[at..at + s.data.len()].copy_from_slice(&s.data);
        }
        b
    }
}

/// Bytes of a little table: appends `u32`s.
pub fn u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// An export directory at `rva` whose functions all point at `target` and whose names are
/// `names` (sorted by the caller), laid out in one block: directory, EAT, name pointers,
/// ordinals, strings.
pub fn export_block(rva: u32, dll: &str, targets: &[u32], names: &[(&str, u16)]) -> Vec<u8> {
    let eat = rva + 40;
    let ptrs = eat + 4 * targets.len() as u32;
    let ords = ptrs + 4 * names.len() as u32;
    let mut strings = Vec::new();
    let strings_at = ords + 2 * names.len() as u32;
    let dll_at = strings_at;
    strings.extend_from_slice(dll.as_bytes());
    strings.push(0);
    let mut name_rvas = Vec::new();
    for (n, _) in names {
        name_rvas.push(strings_at + strings.len() as u32);
        strings.extend_from_slice(n.as_bytes());
        strings.push(0);
    }
    let mut d = u32s(&[0, 0, 0, dll_at, 1, targets.len() as u32, names.len() as u32, eat, ptrs, ords]);
    d.extend(u32s(targets));
    d.extend(u32s(&name_rvas));
    for (_, o) in names {
        d.extend_from_slice(&o.to_le_bytes());
    }
    d.extend(strings);
    d
}
