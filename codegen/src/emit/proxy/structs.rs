//! Structs converted field by field between the caller's 64-bit layout (clang's offsets
//! for the 64-bit target) and the typed client's Rust struct.

use super::ctype::{self, Ffi};
use crate::emit::rust_str;
use crate::emit::view::{Crates, FieldKind};
use crate::header::{Header, TypeDefKind};
use crate::model::{FieldType, Model, Value};
use crate::spec::Encoding;
use serde::Serialize;
use std::collections::BTreeMap;

const P: &str = "::dllgen_runtime::proxy";

/// One struct's two conversions: the functions' names and their text.
#[derive(Debug, Clone, Serialize)]
pub struct StructConv {
    /// `get_X(p: *const u8) -> Result<X>`: from the caller's memory.
    pub get: String,
    /// `put_X(p: *mut u8, v: &X) -> Result<()>`: into it.
    pub put: String,
    /// Both functions' text.
    pub code: String,
}

/// The structs' conversions, built when a function first needs one.
pub(crate) struct Structs<'a> {
    m: &'a Model,
    crates: &'a Crates,
    h: &'a Header,
    built: BTreeMap<String, Result<StructConv, String>>,
}

impl<'a> Structs<'a> {
    pub fn new(m: &'a Model, crates: &'a Crates, h: &'a Header) -> Structs<'a> {
        Structs { m, crates, h, built: BTreeMap::new() }
    }

    /// The conversions of struct `name` (its C name), or why there are none.
    pub fn conv(&mut self, name: &str) -> Result<StructConv, String> {
        if !self.built.contains_key(name) {
            let c = self.build(name);
            self.built.insert(name.to_string(), c);
        }
        self.built[name].clone().map_err(|e| format!("struct `{name}`: {e}"))
    }

    /// The conversions some exported function uses.
    pub fn used(&self) -> Vec<StructConv> {
        self.built.values().filter_map(|c| c.as_ref().ok().cloned()).collect()
    }

    fn build(&self, name: &str) -> Result<StructConv, String> {
        let s = self.m.structs.iter().find(|s| s.name == name).ok_or("not in the model")?;
        if s.resident.is_some() {
            return Err("a resident struct (not yet)".into());
        }
        let v = self.crates.structs.iter().find(|v| v.c_name == name).ok_or("no client type")?;
        let fields64 = layout(self.h, name)?;
        let rust = format!("__dllgen_c::{}", v.name);
        let (mut gets, mut puts) = (Vec::new(), Vec::new());
        for f in &s.fields {
            let vf = v.fields.iter().find(|x| x.name == crate::emit::view::ident(&f.name)).ok_or_else(|| {
                format!("field `{}` is set by the host (a count or a tag; not yet)", f.name)
            })?;
            let (t64, offset) = fields64.get(&f.name).cloned().ok_or_else(|| format!("no field `{}` on 64 bits", f.name))?;
            let what = rust_str(&format!("`{name}` field `{}`", f.name));
            let field = &vf.name;
            let at = format!("{offset}usize");
            match (&f.ty, &vf.kind) {
                (FieldType::Value { value: Value::Scalar { scalar } }, FieldKind::Value { .. }) => {
                    let r32 = crate::emit::view::scalar(scalar).0;
                    let Ffi::Scalar { rust: r64, float, .. } = &t64 else {
                        return Err(format!("field `{}` is not a number on 64 bits", f.name));
                    };
                    let same = *float || r64 == "bool" || r32 == "bool";
                    if same && *r64 != r32 {
                        return Err(format!("field `{}` is `{r64}` on 64 bits and `{r32}` in the library", f.name));
                    }
                    let read = format!("(p.add({at}) as *const {r64}).read_unaligned()");
                    gets.push(if same {
                        format!("{field}: {read},")
                    } else {
                        format!("{field}: {P}::narrow::<{r32}, _>({read}, \"{what}\")?,")
                    });
                    puts.push(if same {
                        format!("(p.add({at}) as *mut {r64}).write_unaligned(v.{field});")
                    } else {
                        format!("(p.add({at}) as *mut {r64}).write_unaligned({P}::widen::<{r64}, _>(v.{field}, \"{what}\")?);")
                    });
                }
                (FieldType::String { encoding: Encoding::Utf8 | Encoding::Ansi, optional }, FieldKind::String { .. }) => {
                    let read = format!(
                        "{P}::in_str((p.add({at}) as *const *const ::core::ffi::c_char).read_unaligned(), {optional}, \"{what}\")?"
                    );
                    let ptr = format!("(p.add({at}) as *mut *const ::core::ffi::c_char)");
                    if *optional {
                        gets.push(format!("{field}: {read}.map(::std::string::String::from),"));
                        puts.push(format!(
                            "{ptr}.write_unaligned(v.{field}.as_deref().map_or(::core::ptr::null(), {P}::intern));"
                        ));
                    } else {
                        gets.push(format!("{field}: {read}.unwrap_or_default().to_string(),"));
                        puts.push(format!("{ptr}.write_unaligned({P}::intern(&v.{field}));"));
                    }
                }
                _ => return Err(format!("field `{}`: only numbers and UTF-8 strings (so far)", f.name)),
            }
        }
        let id = v.name.clone();
        let code = format!(
            "/// A `{name}` from the caller's 64-bit layout.\n\
             pub(super) unsafe fn get_{id}(p: *const u8) -> {P}::Result<{rust}> {{\n\
             // SAFETY: `p` points to a caller's `{name}` (64-bit layout), the offsets are clang's.\n\
             unsafe {{ Ok({rust} {{ {} }}) }}\n}}\n\
             /// A `{name}` written into the caller's 64-bit layout.\n\
             pub(super) unsafe fn put_{id}(p: *mut u8, v: &{rust}) -> {P}::Result<()> {{\n\
             // SAFETY: `p` points to a caller's `{name}` (64-bit layout), the offsets are clang's.\n\
             unsafe {{ {} }}\nOk(())\n}}\n",
            gets.join(" "),
            puts.join("\n")
        );
        Ok(StructConv { get: format!("get_{id}"), put: format!("put_{id}"), code })
    }
}

/// Each field of struct `name` on 64 bits: its FFI type and byte offset.
fn layout(h: &Header, name: &str) -> Result<BTreeMap<String, (Ffi, u64)>, String> {
    let mut key = name.to_string();
    for _ in 0..16 {
        match h.types.get(&key).map(|t| &t.kind) {
            Some(TypeDefKind::Struct { fields }) => {
                let mut out = BTreeMap::new();
                for f in fields {
                    if f.bit_width.is_some() || f.offset_bits % 8 != 0 {
                        return Err(format!("bit-field `{}` (not yet)", f.name));
                    }
                    // Fields of kinds the proxy does not convert are refused by the caller.
                    if let Ok(t) = ctype::ffi(h, &f.ty) {
                        out.insert(f.name.clone(), (t, f.offset_bits / 8));
                    }
                }
                return Ok(out);
            }
            Some(TypeDefKind::Typedef { target: crate::header::CType::Named { name } }) => key = name.clone(),
            _ => break,
        }
    }
    Err("no 64-bit layout".into())
}
