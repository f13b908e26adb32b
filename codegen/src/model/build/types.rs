//! Values that travel by copy: scalars, structs with their 32-bit layout from clang,
//! and the encoding of strings.

use super::*;

impl<'a> Builder<'a> {
    /// A value that can travel by copy, or why not.
    /// The element of a buffer pointing to `ty`: `void` and text (`char`, whatever its
    /// signedness) are bytes, `&[u8]`, never `&[i8]`; anything else is its value.
    pub(super) fn buffer_element(&mut self, ty: &CType) -> Result<Value, Why> {
        match self.header.resolve(ty) {
            CType::Void | CType::Char { .. } => {
                Ok(Value::Scalar { scalar: Scalar::Int { bytes: 1, signed: false } })
            }
            _ => self.value(ty),
        }
    }

    pub(super) fn value(&mut self, ty: &CType) -> Result<Value, Why> {
        let resolved = self.header.resolve(ty).clone();
        match &resolved {
            CType::Int { bytes, signed } => {
                Ok(Value::Scalar { scalar: Scalar::Int { bytes: *bytes, signed: *signed } })
            }
            CType::Char { signed } => Ok(Value::Scalar { scalar: Scalar::Int { bytes: 1, signed: *signed } }),
            CType::Bool => Ok(Value::Scalar { scalar: Scalar::Bool }),
            CType::Float { bytes } => Ok(Value::Scalar { scalar: Scalar::Float { bytes: *bytes } }),
            CType::Named { name } => match self.header.types.get(name).map(|t| (&t.kind, t.size)) {
                Some((TypeDefKind::Enum { underlying, .. }, size)) => {
                    let signed = matches!(self.header.resolve(underlying), CType::Int { signed: true, .. });
                    Ok(Value::Scalar {
                        scalar: Scalar::Enum { name: name.clone(), bytes: size.unwrap_or(4) as u8, signed },
                    })
                }
                Some((TypeDefKind::Struct { .. } | TypeDefKind::Union { .. }, _)) => {
                    self.structure(name)?;
                    Ok(Value::Struct { name: name.clone() })
                }
                Some((TypeDefKind::Opaque, _)) => Err(format!("`{name}` is an incomplete type").into()),
                _ => Err(format!("`{name}` is not a value type").into()),
            },
            CType::Pointer { .. } => Err("a pointer".into()),
            CType::Array { .. } => Err("an array".into()),
            CType::Function(_) => Err("a function".into()),
            CType::Void => Err("void".into()),
            CType::Unsupported { spelling } => {
                Err(format!("`{spelling}`, which dllgen cannot marshal").into())
            }
        }
    }

    /// Records the struct `name` with its 32-bit layout, or says why it cannot cross.
    pub(super) fn structure(&mut self, name: &str) -> Result<(), Why> {
        if self.structs.contains_key(name) {
            return Ok(());
        }
        // A view has the layout of the header struct it views.
        let header_name = self.views.get(name).map_or(name, String::as_str);
        let Some(def) = self.header.types.get(header_name) else {
            return Err(format!("`{name}` is not in the header").into());
        };
        let (Some(size), Some(align)) = (def.size, def.align) else {
            return Err(format!("`{name}` is an incomplete type").into());
        };
        // A placeholder first: a struct may reach itself through a pointer.
        self.structs.insert(
            name.to_string(),
            Struct {
                name: name.into(),
                size,
                align,
                fields: Vec::new(),
                doc: def.doc.clone(),
                resident: None,
            },
        );
        let result = self.struct_fields(name, &def.kind, size).and_then(|fields| {
            let resident = self.resident(name, &fields)?;
            Ok((fields, resident))
        });
        match result {
            Ok((fields, resident)) => {
                let s = self.structs.get_mut(name).expect("inserted above");
                s.fields = fields;
                s.resident = resident;
                Ok(())
            }
            Err(e) => {
                self.structs.remove(name);
                Err(e)
            }
        }
    }

    pub(super) fn struct_fields(
        &mut self,
        name: &str,
        kind: &TypeDefKind,
        size: u64,
    ) -> Result<Vec<StructField>, Why> {
        let raw_fields = match kind {
            TypeDefKind::Struct { fields } => fields.clone(),
            TypeDefKind::Union { fields } => {
                // A union crosses as its bytes, which is only right if none of its
                // members is (or holds) a pointer.
                if let Some(f) = fields.iter().find(|f| self.holds_pointer(&f.ty, 0)) {
                    return Err(format!("`{name}`, a union whose member `{}` holds a pointer, which cannot be copied to the other process", f.name).into());
                }
                return Ok(vec![StructField {
                    name: "bytes".into(),
                    offset: 0,
                    // A byte array in the mirror (whose own alignment is the union's).
                    size,
                    align: 1,
                    ty: FieldType::Bytes { len: size },
                    doc: None,
                }]);
            }
            _ => return Err(format!("`{name}` is not a struct").into()),
        };
        let field_specs = self.struct_specs.get(name).map(|s| s.value.fields.clone()).unwrap_or_default();
        // Count fields: the sibling each buffer field names (`values: { in_buffer: count }`).
        let mut counts: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (field, fs) in &field_specs {
            if let ParamKind::InBuffer { len, units, .. } = &fs.value.kind {
                let why = |m: String| Why::from(format!("`{name}` field `{field}`: {m}"));
                if *units != spec::Units::Elements {
                    return Err(why(
                        "a buffer field's count is in elements (`units: bytes` is for parameters)".into(),
                    ));
                }
                if !raw_fields.iter().any(|f| f.name == len.value) {
                    return Err(why(format!(
                        "its count must be another field of the struct, and `{}` is none (fields: {})",
                        len.value,
                        raw_fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
                    )));
                }
                if field_specs.contains_key(&len.value) {
                    return Err(why(format!(
                        "its count field `{}` is described as something else",
                        len.value
                    )));
                }
                counts.entry(len.value.clone()).or_default().push(field.clone());
            }
        }
        // Tag fields: the sibling each union field names.
        let mut tags: BTreeMap<String, String> = BTreeMap::new();
        for (field, fs) in &field_specs {
            if let ParamKind::Union { tag, .. } = &fs.value.kind {
                let why = |m: String| Why::from(format!("`{name}` field `{field}`: {m}"));
                if !raw_fields.iter().any(|f| f.name == tag.value) || field_specs.contains_key(&tag.value) {
                    return Err(why(format!(
                        "its tag must be another field of the struct with no description of its own, and `{}` is not",
                        tag.value
                    )));
                }
                if tags.insert(tag.value.clone(), field.clone()).is_some() {
                    return Err(why(format!(
                        "the tag `{}` selects another union's member already",
                        tag.value
                    )));
                }
            }
        }
        let mut fields = Vec::new();
        for fd in &raw_fields {
            let offset = fd.offset_bits / 8;
            let ty = if let Some(width) = fd.bit_width {
                let signed = match self.header.resolve(&fd.ty) {
                    CType::Int { signed, .. } | CType::Char { signed } => *signed,
                    CType::Named { name } => match self.header.types.get(name).map(|t| &t.kind) {
                        Some(TypeDefKind::Enum { underlying, .. }) => {
                            matches!(self.header.resolve(underlying), CType::Int { signed: true, .. })
                        }
                        _ => false,
                    },
                    _ => false,
                };
                FieldType::Bits { bit_offset: (fd.offset_bits % 8) as u8, width, signed }
            } else if let Some(of) = tags.get(&fd.name) {
                match self.value(&fd.ty) {
                    Ok(Value::Scalar { scalar: scalar @ (Scalar::Int { .. } | Scalar::Enum { .. }) }) => {
                        FieldType::Tag { value: scalar, of: of.clone() }
                    }
                    _ => {
                        return Err(format!(
                            "`{name}` field `{}` is the tag of `{of}`, so it must be an integer",
                            fd.name
                        )
                        .into())
                    }
                }
            } else if let Some(of) = counts.get(&fd.name) {
                match self.value(&fd.ty) {
                    Ok(Value::Scalar { scalar: scalar @ Scalar::Int { .. } }) => {
                        FieldType::Length { value: scalar, of: of.clone() }
                    }
                    _ => {
                        return Err(format!(
                            "`{name}` field `{}` counts `{}`, so it must be an integer",
                            fd.name,
                            of.join("`, `")
                        )
                        .into())
                    }
                }
            } else if let Some(fs) = field_specs.get(&fd.name) {
                let optional = fs.value.optional;
                let pointee = || match self.header.resolve(&fd.ty) {
                    CType::Pointer { pointee, .. } => Ok((**pointee).clone()),
                    _ => Err(Why::from(format!("`{name}` field `{}` is not a pointer", fd.name))),
                };
                match &fs.value.kind {
                    ParamKind::Union { tag, cases, members } => {
                        let mut u = self.union_field(name, fd, cases, members)?;
                        if let FieldType::Union { tag: t, .. } = &mut u {
                            t.clone_from(&tag.value);
                        }
                        u
                    }
                    // A flexible array member: the last field, `T x[]` or `T x[1]`.
                    ParamKind::InBuffer { len, .. }
                        if matches!(self.header.resolve(&fd.ty), CType::Array { len: 0 | 1, .. })
                            && raw_fields.last().is_some_and(|l| l.name == fd.name) =>
                    {
                        let CType::Array { element, len: declared } = self.header.resolve(&fd.ty).clone() else {
                            unreachable!("matched above")
                        };
                        let element = self.value(&element).map_err(|e| {
                            e.within(|e| format!("`{name}`, whose flexible array `{}` holds {e}", fd.name))
                        })?;
                        FieldType::Flexible { element, len: len.value.clone(), declared }
                    }
                    ParamKind::OutBuffer { retain: Some(_), .. } | ParamKind::InBuffer { retain: Some(_), .. } => {
                        return Err(Why::from(format!(
                            "`{name}` field `{}`: a struct's buffer field is bound for each call; `retain` applies to parameters",
                            fd.name
                        )))
                    }
                    ParamKind::OutBuffer { capacity, units, filled, grow, retain: None } => {
                        let why = |m: String| Why::from(format!("`{name}` field `{}`: {m}", fd.name));
                        let header = self.header;
                        let int_field = |n: &str| {
                            raw_fields.iter().any(|f| f.name == n && matches!(header.resolve(&f.ty), CType::Int { .. }))
                        };
                        if grow.is_some() || *units != spec::Units::Elements {
                            return Err(why("an out-buffer field takes `capacity` and `length` only, in elements".into()));
                        }
                        if !int_field(&capacity.value) {
                            return Err(why(format!("its capacity `{}` must be an integer field of the struct", capacity.value)));
                        }
                        let filled = match &filled.value {
                            spec::Filled::Nul => None,
                            spec::Filled::Capacity => Some(capacity.value.clone()),
                            spec::Filled::Param(f) if int_field(f) => Some(f.clone()),
                            _ => {
                                return Err(why(
                                    "its `length` is an integer field of the struct, `nul` or `capacity`".into(),
                                ))
                            }
                        };
                        let element = self
                            .buffer_element(&pointee()?)
                            .map_err(|e| e.within(|e| format!("`{name}` field `{}` points to {e}", fd.name)))?;
                        FieldType::OutBuffer { element, capacity: capacity.value.clone(), filled }
                    }
                    ParamKind::InBuffer { len, .. } => {
                        let element = self
                            .buffer_element(&pointee()?)
                            .map_err(|e| e.within(|e| format!("`{name}` field `{}` points to {e}", fd.name)))?;
                        FieldType::Buffer { element, len: len.value.clone(), optional }
                    }
                    ParamKind::In => {
                        let t = pointee()?;
                        let value = self
                            .value(&t)
                            .map_err(|e| e.within(|e| format!("`{name}` field `{}` points to {e}", fd.name)))?;
                        FieldType::Pointee { value, optional }
                    }
                    ParamKind::InString(enc) => FieldType::String {
                        encoding: self.encoding(*enc, &fd.ty).map_err(|e| Why::from(format!("`{name}` field `{}`: {e}", fd.name)))?,
                        optional,
                    },
                    ParamKind::Handle(h) if self.spec.handles.contains_key(&h.value) => {
                        self.handle_fits(&h.value, &fd.ty, 0)
                            .map_err(|e| Why::from(format!("`{name}` field `{}`: {e}", fd.name)))?;
                        FieldType::Handle { handle: h.value.clone(), optional }
                    }
                    ParamKind::Handle(h) => return Err(format!("`{name}` field `{}`: no handle type `{}`", fd.name, h.value).into()),
                    ParamKind::Opaque if matches!(self.header.resolve(&fd.ty), CType::Pointer { .. }) => FieldType::Opaque,
                    ParamKind::Opaque => {
                        return Err(format!("`{name}` field `{}`: `opaque` is for pointer fields", fd.name).into())
                    }
                    _ => {
                        return Err(format!(
                            "`{name}` field `{}`: struct fields may be `in_string`, `handle`, `in_buffer: COUNT_FIELD` or `in` (other kinds are not supported yet)",
                            fd.name
                        ).into())
                    }
                }
            } else {
                match self.header.resolve(&fd.ty).clone() {
                    CType::Array { len: 0, .. } => {
                        return Err(Why::fix(format!(
                            "`{name}`, whose last field `{}` is a flexible array: its length is not in the type; name its count field under `structs: {name}: fields: {}: {{ in_buffer: COUNT_FIELD }}`",
                            fd.name, fd.name
                        )))
                    }
                    CType::Array { element, len } => match self.value(&element) {
                        Ok(v) => FieldType::Array { element: v, len },
                        Err(e) => {
                            return Err(e.within(|e| {
                                format!("`{name}`, whose field `{}` is an array of {e}", fd.name)
                            }))
                        }
                    },
                    CType::Pointer { .. } => {
                        return Err(Why::fix(format!(
                            "`{name}`, whose field `{}` is a pointer: it means nothing in the other process; say what it holds under `structs: {name}: fields:` (in_string, handle, in_buffer: COUNT_FIELD or in)",
                            fd.name
                        )));
                    }
                    other => FieldType::Value {
                        value: self.value(&other).map_err(|e| {
                            e.within(|e| format!("`{name}`, whose field `{}` is {e}", fd.name))
                        })?,
                    },
                }
            };
            let (size, align) = match (&ty, fd.size, fd.align) {
                // Bit-fields live in byte regions; their type's layout does not apply.
                (FieldType::Bits { .. }, _, _) => (0, 1),
                // A flexible array: the elements the type declares (0 or 1), and the struct's
                // own alignment covers the member's.
                (FieldType::Flexible { element, declared, .. }, _, _) => {
                    let each = match element {
                        Value::Scalar { scalar } => scalar_bytes(scalar),
                        Value::Struct { name } => self.structs.get(name).map_or(0, |s| s.size),
                    };
                    (each * declared, 1)
                }
                (_, Some(size), Some(align)) => (size, align),
                _ => return Err(format!("`{name}`, whose field `{}` has no layout", fd.name).into()),
            };
            fields.push(StructField { name: fd.name.clone(), offset, size, align, ty, doc: fd.doc.clone() });
        }
        Ok(fields)
    }

    /// The resident entry of struct `name` (its spec's `resident`), checked against its
    /// fields: what a resident struct holds must be synced around calls or stay in the host.
    fn resident(&mut self, name: &str, fields: &[StructField]) -> Result<Option<Resident>, Why> {
        let spec = self.struct_specs.get(name).and_then(|s| s.value.resident.clone());
        let opaque = fields.iter().any(|f| f.ty == FieldType::Opaque);
        let Some(spec) = spec else {
            return match opaque {
                true => Err(format!("`{name}`: `opaque` fields stay in the host, so only a resident struct has them (`structs: {name}: resident: true`)").into()),
                false => Ok(None),
            };
        };
        for f in fields {
            let fine = match &f.ty {
                FieldType::Value { value: Value::Scalar { .. } }
                | FieldType::Array { element: Value::Scalar { .. }, .. }
                | FieldType::Bytes { .. }
                | FieldType::Bits { .. }
                | FieldType::String { .. }
                | FieldType::Buffer { .. }
                | FieldType::Length { .. }
                | FieldType::Opaque => true,
                FieldType::OutBuffer { capacity, filled, .. } => filled.as_deref() == Some(capacity.as_str()),
                _ => false,
            };
            if !fine {
                return Err(format!(
                    "`{name}` field `{}`: a resident struct holds scalars, library strings, `in_buffer: COUNT_FIELD` and `out_buffer: CAPACITY_FIELD` buffers (bound per call) and `opaque` pointers; this field is none",
                    f.name
                )
                .into());
            }
        }
        let mut end = std::collections::BTreeMap::new();
        for (init, e) in &spec.value.end {
            for f in [init.as_str(), e.value.as_str()] {
                if !self.header.functions.iter().any(|h| h.name == f) {
                    return Err(format!(
                        "`{name}`: its `resident: end:` names `{f}`, which the header does not declare"
                    )
                    .into());
                }
            }
            end.insert(init.clone(), e.value.clone());
        }
        Ok(Some(Resident { end }))
    }

    /// Whether a value of type `ty` contains a pointer anywhere.
    pub(super) fn holds_pointer(&self, ty: &CType, depth: u32) -> bool {
        if depth > 32 {
            return false;
        }
        match self.header.resolve(ty) {
            CType::Pointer { .. } | CType::Function(_) => true,
            CType::Array { element, .. } => self.holds_pointer(element, depth + 1),
            CType::Named { name } => match self.header.types.get(name).map(|t| &t.kind) {
                Some(TypeDefKind::Struct { fields } | TypeDefKind::Union { fields }) => {
                    fields.iter().any(|f| self.holds_pointer(&f.ty, depth + 1))
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// The encoding of a string whose characters are `pointee`.
    pub(super) fn encoding(
        &self,
        said: Option<spec::Encoding>,
        ptr: &CType,
    ) -> Result<spec::Encoding, String> {
        let CType::Pointer { pointee, .. } = self.header.resolve(ptr) else {
            return Err("a string must be a pointer".into());
        };
        let width = match (self.header.resolve(pointee), said) {
            (CType::Char { .. }, _) => 1,
            (CType::Int { bytes, .. }, _) => *bytes,
            // Text behind `void *` (sqlite3_column_text16): its units are the encoding's.
            (CType::Void, Some(spec::Encoding::Utf16)) => 2,
            (CType::Void, Some(_)) => 1,
            (CType::Void, None) => {
                return Err(
                    "a string behind `void *` needs its encoding stated (`utf8`, `ansi` or `utf16`)".into()
                )
            }
            _ => return Err("a string must point to characters".into()),
        };
        let default = match (width, self.header.target.is_windows()) {
            (1, true) => spec::Encoding::Ansi,
            (1, false) => spec::Encoding::Utf8,
            (2, _) => spec::Encoding::Utf16,
            _ => {
                return Err(format!("{width}-byte characters are not supported (UTF-8, ANSI or UTF-16 only)"))
            }
        };
        let encoding = said.unwrap_or(default);
        let fits = matches!(
            (encoding, width),
            (spec::Encoding::Utf16, 2) | (spec::Encoding::Utf8 | spec::Encoding::Ansi, 1)
        );
        if !fits {
            return Err(format!("a {encoding:?} string cannot be made of {width}-byte characters"));
        }
        Ok(encoding)
    }

    /// Whether `ty` is a pointer to `const`.
    pub(super) fn const_pointer(&self, ty: &CType) -> bool {
        matches!(self.header.resolve(ty), CType::Pointer { const_pointee: true, .. })
    }

    /// For a pointee that is an opaque (never defined) type: a message suggesting a handle.
    pub(super) fn opaque(&self, pointee: &CType) -> Option<String> {
        let CType::Named { name } = pointee else { return None };
        let TypeDefKind::Opaque = self.header.types.get(self.opaque_name(name)?)?.kind else { return None };
        let rust = name.trim_start_matches("struct ").split('_').map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        });
        Some(format!(
            "it points to `{name}`, an opaque type: declare it as a handle under `handles: {{ {}: {{ c_type: {name} }} }}`",
            rust.collect::<String>()
        ))
    }

    /// Follows typedefs to the name of the type they end at.
    pub(super) fn opaque_name<'n>(&'n self, mut name: &'n str) -> Option<&'n str> {
        for _ in 0..16 {
            match &self.header.types.get(name)?.kind {
                TypeDefKind::Typedef { target: CType::Named { name: next } } => name = next,
                TypeDefKind::Opaque => return Some(name),
                _ => return None,
            }
        }
        None
    }

    /// The pointee of a pointer parameter (typedefs followed).
    pub(super) fn pointee(&self, ty: &CType) -> Option<CType> {
        match self.header.resolve(ty) {
            CType::Pointer { pointee, .. } => Some((**pointee).clone()),
            _ => None,
        }
    }
}

/// Why a type cannot be copied to the other process: the words, and whether they already
/// say where to fix it (a diagnostic then needs no other hint).
#[derive(Debug, Clone)]
pub(super) struct Why {
    pub text: String,
    pub names_fix: bool,
}

impl Why {
    /// Words that say where to fix it.
    pub fn fix(text: String) -> Why {
        Why { text, names_fix: true }
    }

    /// The same reason, inside a larger one (a struct's field).
    pub fn within(self, f: impl FnOnce(&str) -> String) -> Why {
        Why { text: f(&self.text), names_fix: self.names_fix }
    }
}

impl From<String> for Why {
    fn from(text: String) -> Why {
        Why { text, names_fix: false }
    }
}

impl From<&str> for Why {
    fn from(text: &str) -> Why {
        Why { text: text.to_string(), names_fix: false }
    }
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Builder<'_> {
    /// A union field whose member a tag field selects (`union: { tag, cases, members }`).
    fn union_field(
        &mut self,
        name: &str,
        fd: &header::Field,
        cases: &[(Spanned<String>, Spanned<String>)],
        members: &BTreeMap<String, Spanned<ParamSpec>>,
    ) -> Result<FieldType, Why> {
        let why = |m: String| Why::from(format!("`{name}` field `{}`: {m}", fd.name));
        let ufields = match self.header.resolve(&fd.ty) {
            CType::Named { name: u } => match self.header.types.get(u).map(|t| &t.kind) {
                Some(TypeDefKind::Union { fields }) => fields.clone(),
                _ => return Err(why("`union` describes a union, and this field is none".into())),
            },
            _ => return Err(why("`union` describes a union, and this field is none".into())),
        };
        let size = fd.size.ok_or_else(|| why("the union has no layout".into()))?;
        let mut out: Vec<UnionCase> = Vec::new();
        for (value, member) in cases {
            let v = match value.value.parse::<i64>() {
                Ok(v) => v,
                Err(_) => match self.header.expressions.get(&value.value) {
                    Some(Ok(c)) => match c.int().and_then(|n| i64::try_from(n).ok()) {
                        Some(v) => v,
                        None => {
                            return Err(why(format!("the tag value `{}` is not an integer", value.value)))
                        }
                    },
                    Some(Err(e)) => return Err(why(format!("the tag value `{}`: {e}", value.value))),
                    None => return Err(why(format!("the tag value `{}` was not evaluated", value.value))),
                },
            };
            if out.iter().any(|c| c.value == v) {
                return Err(why(format!("the tag value {v} is given twice")));
            }
            let Some(m) = ufields.iter().find(|f| f.name == member.value) else {
                return Err(why(format!(
                    "the union has no member `{}` (its members: {})",
                    member.value,
                    ufields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
                )));
            };
            let ty = match members.get(&member.value).map(|s| (&s.value.kind, s.value.optional)) {
                Some((ParamKind::InString(enc), _)) => FieldType::String {
                    encoding: self
                        .encoding(*enc, &m.ty)
                        .map_err(|e| why(format!("member `{}`: {e}", m.name)))?,
                    optional: true,
                },
                Some((ParamKind::Handle(h), optional)) if self.spec.handles.contains_key(&h.value) => {
                    self.handle_fits(&h.value, &m.ty, 0)
                        .map_err(|e| why(format!("member `{}`: {e}", m.name)))?;
                    FieldType::Handle { handle: h.value.clone(), optional }
                }
                Some(_) => return Err(why(format!("member `{}` may be `in_string` or `handle`", m.name))),
                None if matches!(self.header.resolve(&m.ty), CType::Pointer { .. }) => {
                    return Err(Why::fix(format!(
                        "`{name}` field `{}`: member `{}` is a pointer: say what it holds under `members:`",
                        fd.name, m.name
                    )))
                }
                None => FieldType::Value {
                    value: self.value(&m.ty).map_err(|e| {
                        e.within(|e| format!("`{name}` field `{}`: member `{}` is {e}", fd.name, m.name))
                    })?,
                },
            };
            out.push(UnionCase { value: v, member: m.name.clone(), ty });
        }
        let pointers = ufields.iter().any(|f| self.holds_pointer(&f.ty, 0));
        Ok(FieldType::Union { tag: String::new(), cases: out, size, pointers })
    }
}

impl Builder<'_> {
    /// Refuses a resident struct anywhere but behind a parameter pointer (`Kind::Resident`):
    /// it lives in the host, so it has no value to copy.
    pub(super) fn resident_uses(&mut self, functions: &[Function], callbacks: &[Callback]) {
        let resident: BTreeSet<String> =
            self.structs.values().filter(|s| s.resident.is_some()).map(|s| s.name.clone()).collect();
        if resident.is_empty() {
            return;
        }
        let is_res = |v: &Value| matches!(v, Value::Struct { name } if resident.contains(name));
        let problems = self.uses(
            functions,
            callbacks,
            |k| match k {
                Kind::Value { value }
                | Kind::In { value, .. }
                | Kind::Out { value, .. }
                | Kind::Inout { value, .. } => is_res(value),
                Kind::InBuffer { element, .. }
                | Kind::OutBuffer { element, .. }
                | Kind::InoutBuffer { element, .. } => is_res(element),
                _ => false,
            },
            |r| matches!(r, Return::Value { value } | Return::Buffer { element: value, .. } if is_res(value)),
            |t| match t {
                FieldType::Value { value }
                | FieldType::Array { element: value, .. }
                | FieldType::Pointee { value, .. }
                | FieldType::Buffer { element: value, .. } => is_res(value),
                _ => false,
            },
        );
        self.report_uses(
            problems,
            "holds a resident struct other than as a `T *` parameter: it lives in the host and has no value to copy",
            None,
        );
    }

    /// A struct ending in a flexible array member can only be read by the library through a
    /// pointer the host laid out (`in`), or read back through the library's own pointer
    /// (`returns: { copy: true }`, a callback's `in`): a copy of it by value, one boxed
    /// alone for a pointer field, or one the library writes, has no room for its elements.
    pub(super) fn flexible_uses(&mut self, functions: &[Function], callbacks: &[Callback]) {
        let flex: BTreeSet<String> = self
            .structs
            .values()
            .filter(|s| s.fields.iter().any(|f| matches!(f.ty, FieldType::Flexible { .. })))
            .map(|s| s.name.clone())
            .collect();
        if flex.is_empty() {
            return;
        }
        let is_flex = |v: &Value| matches!(v, Value::Struct { name } if flex.contains(name));
        let problems = self.uses(
            functions,
            callbacks,
            |k| match k {
                Kind::Value { value } | Kind::Out { value, .. } | Kind::Inout { value, .. } => is_flex(value),
                Kind::InBuffer { element, .. }
                | Kind::OutBuffer { element, .. }
                | Kind::InoutBuffer { element, .. } => is_flex(element),
                _ => false,
            },
            |r| match r {
                Return::Value { value } => is_flex(value),
                Return::Buffer { element, single, .. } => !single && is_flex(element),
                _ => false,
            },
            |t| match t {
                // A pointer field's value is boxed alone: its elements would not follow it.
                FieldType::Value { value }
                | FieldType::Array { element: value, .. }
                | FieldType::Pointee { value, .. }
                | FieldType::Buffer { element: value, .. } => is_flex(value),
                _ => false,
            },
        );
        self.report_uses(
            problems,
            "is a struct ending in a flexible array member by value or written by the library: there is no room for its elements",
            Some("pass it by pointer for the library to read (`in`), or read it through the library's pointer (`returns: { copy: true }`)"),
        );
    }

    /// The parameters, results and fields (as (function to blame, what)) for which the
    /// predicates hold.
    fn uses(
        &self,
        functions: &[Function],
        callbacks: &[Callback],
        bad_kind: impl Fn(&Kind) -> bool,
        bad_ret: impl Fn(&Return) -> bool,
        bad_field: impl Fn(&FieldType) -> bool,
    ) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        for f in functions {
            for p in f.params.iter().filter(|p| bad_kind(&p.kind)) {
                problems.push((f.c_name.clone(), format!("parameter `{}` of `{}`", p.name, f.c_name)));
            }
            if bad_ret(&f.ret) {
                problems.push((f.c_name.clone(), format!("the result of `{}`", f.c_name)));
            }
        }
        for c in callbacks {
            for p in c.params.iter().filter(|p| bad_kind(&p.kind)) {
                problems.push((String::new(), format!("parameter `{}` of callback `{}`", p.name, c.name)));
            }
        }
        for s in self.structs.values() {
            for fd in s.fields.iter().filter(|fd| bad_field(&fd.ty)) {
                problems.push((String::new(), format!("field `{}` of `{}`", fd.name, s.name)));
            }
        }
        problems
    }

    /// Reports each use: "WHAT `problem`", at the function's header position (else the
    /// spec's top).
    fn report_uses(&mut self, problems: Vec<(String, String)>, problem: &str, hint: Option<&str>) {
        for (function, what) in problems {
            let message = format!("{what} {problem}");
            let d = match self.header.function(&function).map(|f| f.location.clone()) {
                Some(at) => self.at_header(&at, message),
                None => self.at_spec(self.spec.name.pos, message),
            };
            d.hint = hint.map(str::to_string);
        }
    }
}

/// A scalar's size on the target.
fn scalar_bytes(s: &Scalar) -> u64 {
    match s {
        Scalar::Int { bytes, .. } | Scalar::Enum { bytes, .. } | Scalar::Float { bytes } => u64::from(*bytes),
        Scalar::Bool => 1,
    }
}
