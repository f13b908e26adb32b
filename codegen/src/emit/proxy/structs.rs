//! Structs converted field by field between the caller's 64-bit layout (clang's offsets
//! for the 64-bit target) and the typed client's Rust struct.

use super::ctype::{self, Ffi};
use crate::emit::rust_str;
use crate::emit::view::{Crates, FieldKind};
use crate::header::{Header, TypeDefKind};
use crate::model::{self, FieldType, Model, Value};
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
            return self.resident(s);
        }
        let v = self.crates.structs.iter().find(|v| v.c_name == name).ok_or("no client type")?;
        let fields64 = layout(self.h, name)?;
        let rust = format!("__dllgen_c::{}", v.name);
        let (mut gets, mut puts) = (Vec::new(), Vec::new());
        for f in &s.fields {
            let vf =
                v.fields.iter().find(|x| x.name == crate::emit::view::ident(&f.name)).ok_or_else(|| {
                    format!("field `{}` is set by the host (a count or a tag; not yet)", f.name)
                })?;
            let (t64, offset) =
                fields64.get(&f.name).cloned().ok_or_else(|| format!("no field `{}` on 64 bits", f.name))?;
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
                        return Err(format!(
                            "field `{}` is `{r64}` on 64 bits and `{r32}` in the library",
                            f.name
                        ));
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
                (
                    FieldType::String { encoding: Encoding::Utf8 | Encoding::Ansi, optional },
                    FieldKind::String { .. },
                ) => {
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

impl Structs<'_> {
    /// A resident struct's conversions around a call: `put_res_X(p, v) -> sent` sets the
    /// fields the client sends (input buffers, output capacities) from the caller's struct;
    /// `get_res_X(p, v, sent)` writes back what the library left: input pointers advanced
    /// past what it consumed, output it produced copied out (pointers advanced), the
    /// library's fields. Its table of objects by the caller's address is `res_X`.
    fn resident(&self, s: &model::Struct) -> Result<StructConv, String> {
        let name = &s.name;
        let v = self.crates.structs.iter().find(|v| v.c_name == *name).ok_or("no client type")?;
        let fields64 = layout(self.h, name)?;
        let rust = format!("__dllgen_c::{}", v.name);
        let at64 = |f: &str| -> Result<(Ffi, u64), String> {
            fields64.get(f).cloned().ok_or_else(|| format!("no field `{f}` on 64 bits"))
        };
        // A buffer field's elements (the same bits on both sides), their size, and its count
        // field's 64-bit type and offset.
        let counted = |f: &model::StructField, t64: &Ffi, element: &Value, count: &str| {
            let elem = super::params::same_bits(self.h, t64, element)
                .map_err(|e| format!("field `{}`: {e}", f.name))?;
            let (c64, coff) = at64(count)?;
            let Ffi::Scalar { rust: c, .. } = c64 else {
                return Err(format!("field `{count}` is not a number on 64 bits"));
            };
            Ok::<_, String>((elem, super::params::elem_size(element), c, coff))
        };
        let (mut puts, mut gets) = (Vec::new(), Vec::new());
        let mut sent = 0usize;
        for f in &s.fields {
            let what = rust_str(&format!("`{name}` field `{}`", f.name));
            let vf = v.fields.iter().find(|x| x.name == crate::emit::view::ident(&f.name));
            let (t64, off) = at64(&f.name)?;
            match (&f.ty, vf.map(|x| &x.kind)) {
                (FieldType::Buffer { element, len, optional }, Some(FieldKind::Buffer { .. })) => {
                    let field = &vf.map(|x| x.name.clone()).unwrap_or_default();
                    let (elem, size, c, coff) = counted(f, &t64, element, len)?;
                    let ptr = format!("(p.add({off}usize) as *mut *const {elem})");
                    let count = format!("(p.add({coff}usize) as *mut {c})");
                    // NULL with a count is refused (the pointer would be advanced from it).
                    puts.push(format!(
                        "let __dllgen_n = {P}::elements({P}::count({count}.read_unaligned(), \"{what}\")?, false, 1, \"{what}\")?;\n\
                         let __dllgen_p = {ptr}.read_unaligned();\n\
                         let __dllgen_b = {P}::slice(__dllgen_p, __dllgen_n, false, \"{what}\")?.unwrap_or_default().to_vec();\n\
                         v.{field} = {};\nsent.push(__dllgen_n);",
                        if *optional { "(!__dllgen_p.is_null()).then_some(__dllgen_b)" } else { "__dllgen_b" }
                    ));
                    let left = if *optional {
                        format!("v.{field}.as_ref().map_or(0, |b| b.len())")
                    } else {
                        format!("v.{field}.len()")
                    };
                    gets.push(format!(
                        "let __dllgen_left = {left};\n\
                         if __dllgen_left > sent[{sent}] {{ return Err({P}::refuse(\"{what}\", \"more input left than was given\")); }}\n\
                         let __dllgen_to = {P}::advance({ptr}.read_unaligned() as usize, sent[{sent}] - __dllgen_left, sent[{sent}], {size}, \"{what}\")?;\n\
                         {ptr}.write_unaligned(__dllgen_to as *const {elem});\n\
                         {count}.write_unaligned({P}::widen::<{c}, _>(__dllgen_left, \"{what}\")?);"
                    ));
                    sent += 1;
                }
                (FieldType::OutBuffer { element, capacity, .. }, Some(FieldKind::OutBuffer { .. })) => {
                    let field = &vf.map(|x| x.name.clone()).unwrap_or_default();
                    let (elem, size, c, coff) = counted(f, &t64, element, capacity)?;
                    let ptr = format!("(p.add({off}usize) as *mut *mut {elem})");
                    puts.push(format!(
                        "sent.push({P}::elements({P}::count((p.add({coff}usize) as *const {c}).read_unaligned(), \"{what}\")?, false, 1, \"{what}\")?);"
                    ));
                    gets.push(format!(
                        "let __dllgen_to = {ptr}.read_unaligned();\n\
                         {P}::copy_out(__dllgen_to, sent[{sent}], &v.{field}, \"{what}\")?;\n\
                         {ptr}.write_unaligned({P}::advance(__dllgen_to as usize, v.{field}.len(), sent[{sent}], {size}, \"{what}\")? as *mut {elem});"
                    ));
                    sent += 1;
                }
                (
                    FieldType::Value { value: Value::Scalar { scalar } },
                    Some(FieldKind::Value { sent: sends }),
                ) => {
                    let field = &vf.map(|x| x.name.clone()).unwrap_or_default();
                    let r32 = crate::emit::view::scalar(scalar).0;
                    let Ffi::Scalar { rust: r64, .. } = &t64 else {
                        return Err(format!("field `{}` is not a number on 64 bits", f.name));
                    };
                    let slot = format!("(p.add({off}usize) as *mut {r64})");
                    if *sends {
                        puts.push(format!(
                            "v.{field} = {P}::narrow::<{r32}, _>({slot}.read_unaligned(), \"{what}\")?;"
                        ));
                    }
                    gets.push(format!(
                        "{slot}.write_unaligned({P}::widen::<{r64}, _>(v.{field}, \"{what}\")?);"
                    ));
                }
                (
                    FieldType::String { encoding: Encoding::Utf8 | Encoding::Ansi, optional },
                    Some(FieldKind::String { .. }),
                ) => {
                    let field = &vf.map(|x| x.name.clone()).unwrap_or_default();
                    let slot = format!("(p.add({off}usize) as *mut *const ::core::ffi::c_char)");
                    gets.push(if *optional {
                        format!("{slot}.write_unaligned(v.{field}.as_deref().map_or(::core::ptr::null(), {P}::intern));")
                    } else {
                        format!("{slot}.write_unaligned({P}::intern(&v.{field}));")
                    });
                }
                // The library's own pointers (its state, the allocator the caller set) and
                // counts the buffers above set.
                (FieldType::Opaque | FieldType::Length { .. }, _) => {}
                _ => {
                    return Err(format!(
                        "resident field `{}`: only buffers, numbers and UTF-8 strings (so far)",
                        f.name
                    ))
                }
            }
        }
        let id = v.name.clone();
        let code = format!(
            "/// The objects of `{name}`s the caller set up, by its struct's address.\n\
             pub(super) static res_{id}: {P}::Residents<{rust}> = {P}::Residents::new();\n\
             /// Sets what the client sends of a resident `{name}` from the caller's (64-bit layout).\n\
             pub(super) unsafe fn put_res_{id}(p: *const u8, v: &mut {rust}) -> {P}::Result<::std::vec::Vec<usize>> {{\n\
             let p = p as *mut u8; let mut sent = ::std::vec::Vec::new();\n\
             // SAFETY: `p` points to a caller's `{name}` (64-bit layout), the offsets are clang's; its\n\
             // buffer pointers hold the counts beside them, as the library's contract says.\n\
             unsafe {{ {} }}\nOk(sent)\n}}\n\
             /// Writes back what the library left in a resident `{name}` into the caller's.\n\
             pub(super) unsafe fn get_res_{id}(p: *mut u8, v: &{rust}, sent: &[usize]) -> {P}::Result<()> {{\n\
             // SAFETY: as in `put_res_{id}`; the output copied is at most what each buffer was sent with.\n\
             unsafe {{ {} }}\nOk(())\n}}\n",
            puts.join("\n"),
            gets.join("\n")
        );
        Ok(StructConv { get: format!("get_res_{id}"), put: format!("put_res_{id}"), code })
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
