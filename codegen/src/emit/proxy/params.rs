//! Each parameter kind in the proxy: the C argument turned into the typed client's
//! argument before the call, and the typed results written back into the caller's memory
//! after it. A kind (or a shape of one) not handled here leaves its function out.

use super::ctype::{self, Ffi};
use super::structs::Structs;
use super::Body;
use crate::emit::kinds::ParamKind;
use crate::emit::rust_str;
use crate::emit::view::{self, ident};
use crate::header::{self, Header};
use crate::model::{self, Expr, Filled, Kind, Scalar, Value};
use crate::spec::{Encoding, Units};

const P: &str = "::dllgen_runtime::proxy";

/// One parameter of one function.
pub(crate) struct At<'a, 'b> {
    pub f: &'a model::Function,
    pub vf: &'a view::Function,
    pub index: usize,
    pub h: &'a Header,
    pub hf: &'a header::Function,
    pub structs: &'a mut Structs<'b>,
    pub fixed: &'a std::collections::BTreeMap<(String, String), i64>,
    /// Free functions the caller frees the proxy's copies with.
    pub frees: &'a mut std::collections::BTreeSet<String>,
}

impl At<'_, '_> {
    fn p(&self) -> &model::Param {
        &self.f.params[self.index]
    }
    /// The C parameter's name in the export.
    fn raw(&self) -> String {
        ident(&self.p().name)
    }
    /// "`f` parameter `p`", inside a Rust string literal.
    fn what(&self) -> String {
        rust_str(&format!("`{}` parameter `{}`", self.f.c_name, self.p().name))
    }
    /// The typed argument's local.
    fn typed(&self) -> String {
        format!("__dllgen_t_{}", self.p().name)
    }
    /// The local the typed method returns this parameter's output in.
    fn output(&self) -> Result<String, String> {
        self.vf.params[self.index].output.as_ref().map(|(_, l)| l.clone()).ok_or_else(|| "no output".into())
    }
    /// The 64-bit type of another parameter, by name, and its C name as a Rust identifier.
    fn other(&self, name: &str) -> Result<(Ffi, String), String> {
        let i = self
            .f
            .params
            .iter()
            .position(|q| q.name == name)
            .ok_or_else(|| format!("no parameter `{name}`"))?;
        Ok((ctype::ffi(self.h, &self.hf.params[i].ty)?, ident(name)))
    }
}

/// The 32-bit model's Rust type of a scalar.
fn rust32(s: &Scalar) -> String {
    view::scalar(s).0
}

/// `v` (of the caller's type `t64`) as the typed client's `s`: narrowed with a check.
fn narrow(v: &str, t64: &Ffi, s: &Scalar, what: &str) -> Result<String, String> {
    convert(v, t64, s, what, true)
}

/// The typed client's `v` (of `s`) as the caller's type `t64`.
fn widen(v: &str, s: &Scalar, t64: &Ffi, what: &str) -> Result<String, String> {
    convert(v, t64, s, what, false)
}

/// A checked conversion between the caller's scalar type `t64` and the library's `s`:
/// towards the library (`narrow`) or back. Floats and bools must be the same type.
fn convert(v: &str, t64: &Ffi, s: &Scalar, what: &str, to_library: bool) -> Result<String, String> {
    let r32 = rust32(s);
    match t64 {
        Ffi::Scalar { rust, float, .. } if *float || rust == "bool" || r32 == "bool" => {
            if *rust == r32 {
                Ok(v.to_string())
            } else {
                Err(format!("its 64-bit type `{rust}` is not the library's `{r32}`"))
            }
        }
        Ffi::Scalar { .. } if to_library => Ok(format!("{P}::narrow::<{r32}, _>({v}, \"{what}\")?")),
        Ffi::Scalar { rust, .. } => Ok(format!("{P}::widen::<{rust}, _>({v}, \"{what}\")?")),
        _ => Err("a number on one side, not on the other".into()),
    }
}

/// Whether a client type (an output's, a result's) is an `Option`.
fn is_option(t: &str) -> bool {
    t.contains("Option<")
}

/// The scalar `value` is, if it is one.
fn scalar(value: &Value) -> Option<&Scalar> {
    match value {
        Value::Scalar { scalar } => Some(scalar),
        Value::Struct { .. } => None,
    }
}

/// The scalar the 64-bit pointer `t64` points to, if it does.
fn pointee(at: &At<'_, '_>, t64: &Ffi) -> Result<Ffi, String> {
    match t64 {
        Ffi::Pointer { pointee, .. } => {
            ctype::scalar_pointee(at.h, pointee).ok_or_else(|| "not a pointer to a number on 64 bits".into())
        }
        _ => Err("not a pointer on 64 bits".into()),
    }
}

/// Elements a buffer of `element` can cross as without conversion: the same scalar on
/// both sides (`void *` data as bytes).
fn same_elements(at: &At<'_, '_>, t64: &Ffi, element: &Value) -> Result<String, String> {
    same_bits(at.h, t64, element)
}

/// [`same_elements`] for any 64-bit pointer type `t64` of header `h` (struct fields too).
pub(crate) fn same_bits(h: &Header, t64: &Ffi, element: &Value) -> Result<String, String> {
    let s = scalar(element).ok_or("a buffer of structs (not yet)")?;
    let r32 = rust32(s);
    let pointee = match t64 {
        Ffi::Pointer { pointee: header::CType::Void, .. } => {
            return if r32 == "u8" || r32 == "i8" {
                Ok(r32)
            } else {
                Err("a `void *` buffer of numbers".into())
            };
        }
        Ffi::Pointer { pointee, .. } => {
            ctype::scalar_pointee(h, pointee).ok_or("not a pointer to a number on 64 bits")?
        }
        _ => return Err("not a pointer on 64 bits".into()),
    };
    match pointee {
        Ffi::Scalar { rust, .. } if rust == r32 => Ok(r32),
        // Integers of one size and another signedness (`char` is signed on x86_64, text
        // bytes are `u8`): the same bits in memory.
        Ffi::Scalar { rust, float: false, .. }
            if rust != "bool" && r32 != "bool" && !r32.starts_with('f') && rust[1..] == r32[1..] =>
        {
            Ok(r32)
        }
        Ffi::Scalar { rust, .. } => {
            Err(format!("its elements are `{rust}` on 64 bits and `{r32}` in the library (not yet)"))
        }
        _ => Err("not a buffer of numbers on 64 bits".into()),
    }
}

/// A length over the C arguments, as a `u64` expression (with `?`).
fn length(at: &At<'_, '_>, e: &Expr) -> Result<String, String> {
    let what = at.what();
    Ok(match e {
        Expr::Const { value } if *value >= 0 => format!("{value}u64"),
        Expr::Const { value } => return Err(format!("a negative length {value}")),
        Expr::Param { name } => format!("{P}::count({}, \"{what}\")?", at.other(name)?.1),
        Expr::Deref { name } => {
            let (t, raw) = at.other(name)?;
            let p = pointee(at, &t)?;
            format!("{P}::count({P}::read_required({raw} as *const {}, \"{what}\")?, \"{what}\")?", p.rust())
        }
        Expr::Binary { left, op, right } => {
            let method = crate::emit::kinds::expr::checked_method(*op);
            format!(
                "({}).{method}({}).ok_or_else(|| {P}::refuse(\"{what}\", \"the length overflows\"))?",
                length(at, left)?,
                length(at, right)?
            )
        }
        Expr::Field { .. } => return Err("a length in a struct field (not yet)".into()),
    })
}

fn bytes(u: Units) -> bool {
    u == Units::Bytes
}

/// Element size of a buffer element on the library's side.
pub(crate) fn elem_size(element: &Value) -> u64 {
    match element {
        Value::Scalar {
            scalar: Scalar::Int { bytes, .. } | Scalar::Enum { bytes, .. } | Scalar::Float { bytes },
        } => u64::from(*bytes),
        _ => 1,
    }
}

/// The parameter's conversions, added to `b`.
pub(crate) fn param(mut at: At<'_, '_>, t64: &Ffi, b: &mut Body) -> Result<(), String> {
    let (raw, what, typed) = (at.raw(), at.what(), at.typed());
    let passed = at.vf.params[at.index].sig.is_some();
    let p = at.p().clone();
    match &p.kind {
        Kind::Value { value } => {
            let s = scalar(value).ok_or("a struct passed by value (not yet)")?;
            if passed {
                b.before.push(format!("let {typed}: {} = {};", rust32(s), narrow(&raw, t64, s, &what)?));
                b.args.push(typed);
            }
        }
        Kind::InString { encoding, optional } => {
            let read = match encoding {
                Encoding::Utf16 => format!("{P}::in_str16({raw} as *const u16, {optional}, \"{what}\")?"),
                _ => format!("{P}::in_str({raw} as *const ::core::ffi::c_char, {optional}, \"{what}\")?"),
            };
            let value =
                if *encoding == Encoding::Utf16 { format!("{typed}.as_deref()") } else { typed.clone() };
            b.before.push(format!("let {typed} = {read};"));
            b.args.push(required(&value, *optional, &what));
        }
        Kind::Handle { handle, optional } => {
            // Closing it lets go of the results the proxy kept for it (after the call).
            if let ParamKind::Handle(v) = &at.vf.params[at.index].kind {
                if v.closes {
                    b.before.push(format!(
                        "let __dllgen_release_{} = {P}::ReleaseOnDrop({P}::Owner({}, {raw} as usize as u64));",
                        p.name, v.handle_kind
                    ));
                }
            }
            let h = format!("__dllgen_c::{handle}");
            let id = format!(
                "<{h} as ::dllgen_runtime::marshal::handle::ClientHandle>::from_id({raw} as usize as u64)"
            );
            b.args.push(if *optional { format!("(!{raw}.is_null()).then(|| {id})") } else { id });
        }
        Kind::OutHandle { .. } => {
            b.before.push(format!("{P}::needed({raw}, \"{what}\")?;"));
            let out = at.output()?;
            b.after.push(format!(
                "{P}::write({raw} as *mut *mut ::core::ffi::c_void, ::dllgen_runtime::marshal::handle::ClientHandle::id({out}) as usize as *mut ::core::ffi::c_void);"
            ));
        }
        Kind::In { value, optional, retain: None } => match value {
            Value::Scalar { scalar: s } => {
                let t = pointee(&at, t64)?;
                let conv = narrow("__dllgen_v", &t, s, &what)?;
                b.before.push(format!(
                    "let {typed}: ::core::option::Option<{}> = match {P}::read({raw} as *const {}) {{ Some(__dllgen_v) => Some({conv}), None => None }};",
                    rust32(s),
                    t.rust()
                ));
                b.args.push(required(&typed, *optional, &what));
            }
            Value::Struct { name } => {
                let conv = at.structs.conv(name)?;
                b.before.push(format!(
                    "let {typed} = match {raw}.is_null() {{ true => None, false => Some(__dllgen_s::{}({raw} as *const u8)?) }};",
                    conv.get
                ));
                b.args.push(required(&format!("{typed}.as_ref()"), *optional, &what));
            }
        },
        Kind::Out { value, optional } => {
            if !optional {
                b.before.push(format!("{P}::needed({raw}, \"{what}\")?;"));
            }
            let out = at.output()?;
            match value {
                Value::Scalar { scalar: s } => {
                    let t = pointee(&at, t64)?;
                    b.after.push(format!(
                        "{P}::write({raw} as *mut {}, {});",
                        t.rust(),
                        widen(&out, s, &t, &what)?
                    ));
                }
                Value::Struct { name } => {
                    let conv = at.structs.conv(name)?;
                    b.after.push(format!(
                        "if !{raw}.is_null() {{ __dllgen_s::{}({raw} as *mut u8, &{out})?; }}",
                        conv.put
                    ));
                }
            }
        }
        Kind::Inout { value, optional, retain: None } => {
            let s = scalar(value).ok_or("a struct updated in place (not yet)")?;
            let t = pointee(&at, t64)?;
            let conv = narrow("__dllgen_v", &t, s, &what)?;
            b.before.push(format!(
                "let mut {typed}: ::core::option::Option<{}> = match {P}::read({raw} as *const {}) {{ Some(__dllgen_v) => Some({conv}), None => None }};",
                rust32(s),
                t.rust()
            ));
            b.args.push(required(&format!("{typed}.as_mut()"), *optional, &what));
            b.after.push(format!(
                "if let Some(__dllgen_v) = {typed} {{ {P}::write({raw} as *mut {}, {}); }}",
                t.rust(),
                widen("__dllgen_v", s, &t, &what)?
            ));
        }
        // The caller's memory itself, as a slice of the length the spec gives.
        Kind::InBuffer { element, len: Some(len), units, optional, retain: None }
        | Kind::InoutBuffer { element, len, units, optional } => {
            let elem = same_elements(&at, t64, element)?;
            let n = format!(
                "{P}::elements({}, {}, {}, \"{what}\")?",
                length(&at, len)?,
                bytes(*units),
                elem_size(element)
            );
            let (slice, ptr) = if matches!(p.kind, Kind::InBuffer { .. }) {
                ("slice", "*const")
            } else {
                ("slice_mut", "*mut")
            };
            b.before.push(format!(
                "let {typed} = {P}::{slice}({raw} as {ptr} {elem}, {n}, {optional}, \"{what}\")?;"
            ));
            b.args.push(required(&typed, *optional, &what));
        }
        Kind::OutBuffer { element, capacity, units, filled, grow: None, retain: None, .. } => {
            out_buffer(&mut at, t64, element, capacity, *units, filled, b)?;
        }
        // A string the library hands back through `char **` (NULL: not wanted): a copy the
        // caller frees with the library's free function, or one kept for the process.
        Kind::OutString { encoding: Encoding::Utf8 | Encoding::Ansi, free_with, len: None } => {
            let out = at.output()?;
            let optional = at.vf.params[at.index].output.as_ref().is_some_and(|(t, _)| is_option(t));
            let copy = match free_with {
                Some(free) => {
                    at.frees.insert(free.name.clone());
                    format!("{P}::malloc_str(__dllgen_s)")
                }
                None => format!("{P}::intern(__dllgen_s) as *mut ::core::ffi::c_char"),
            };
            let value = if optional {
                format!("match &{out} {{ Some(__dllgen_s) => {copy}, None => ::core::ptr::null_mut() }}")
            } else {
                format!("{{ let __dllgen_s = &{out}; {copy} }}")
            };
            b.after.push(format!("{P}::write({raw} as *mut *mut ::core::ffi::c_char, {value});"));
        }
        Kind::InoutLength { consumed: true, .. } => {
            let t = pointee(&at, t64)?;
            let out = at.output()?;
            b.after.push(format!(
                "{P}::write({raw} as *mut {}, {P}::widen::<{}, _>({out}, \"{what}\")?);",
                t.rust(),
                t.rust()
            ));
        }
        // A count the typed client works out from the buffers: the caller's must fit the
        // library's type (a 64-bit `uLong` above 4 GiB is refused, never truncated).
        Kind::Length { value, .. } => {
            b.checks.push(format!("let _: {} = {};", rust32(value), narrow(&raw, t64, value, &what)?));
        }
        Kind::InoutLength { value, .. } => {
            let t = pointee(&at, t64)?;
            let conv = narrow("__dllgen_v", &t, value, &what)?;
            b.checks.push(format!(
                "if let Some(__dllgen_v) = {P}::read({raw} as *const {}) {{ let _: {} = {conv}; }}",
                t.rust(),
                rust32(value)
            ));
        }
        // Counts the out-buffer writes back; contexts and destroy functions the callbacks own.
        Kind::OutLength { .. } | Kind::UserData { .. } | Kind::Destroy { .. } => {}
        // The value the caller passes must be the one the spec fixes, as the caller computes
        // it (`sizeof(z_stream)` is larger on 64 bits): the host passes the library's.
        Kind::Fixed { fixed: model::Fixed::Int { value, .. } } => {
            let value = at.fixed.get(&(at.f.c_name.clone(), p.name.clone())).copied().unwrap_or(*value);
            b.before.push(format!(
                "if {raw} as i64 != {value}i64 {{ return Err({P}::refuse(\"{what}\", \"the spec fixes it to {value}\")); }}"
            ));
        }
        // A pointer the spec fixes to NULL (`pzTail`): the library would write through one
        // the caller passes, which the proxy cannot do, so only NULL is taken.
        Kind::Fixed { fixed: model::Fixed::Address { address: 0 } } => {
            b.before.push(format!(
                "if !({raw} as *const ::core::ffi::c_void).is_null() {{ return Err({P}::refuse(\"{what}\", \"the spec fixes it to NULL\")); }}"
            ));
        }
        // Another pointer the spec fixes (a version string, SQLITE_TRANSIENT): the host
        // passes the spec's own, with the same meaning.
        Kind::Fixed { .. } => {}
        Kind::Resident { strukt, library_buffers: false } => {
            let ParamKind::Resident(rv) = &at.vf.params[at.index].kind else {
                return Err("a resident struct the client cannot pass".into());
            };
            let (setup, ends) = (rv.end_after.is_some(), rv.ends);
            let conv = at.structs.conv(strukt)?;
            let table = conv.put.replace("put_res_", "res_");
            // A set-up's first resident parameter is the new struct (deflateCopy's `dest`).
            let new = setup
                && !at.f.params[..at.index]
                    .iter()
                    .any(|q| matches!(&q.kind, Kind::Resident { strukt: s, .. } if s == strukt));
            let sent = format!("__dllgen_sent_{}", p.name);
            b.before.push(format!(
                "let mut {typed} = __dllgen_s::{table}.lend({raw} as usize, {new}, \"{what}\")?;"
            ));
            // An end function only frees the stream: its buffers are not read (nor written back).
            if !ends {
                b.before.push(format!(
                    "let {sent} = __dllgen_s::{}({raw} as *const u8, &mut {typed})?;",
                    conv.put
                ));
            }
            if new || ends {
                // Let go of unless the set-up succeeds; an end function always ends it.
                b.before.push(format!("{typed}.end();"));
            }
            b.args.push(format!("&mut {typed}"));
            if new {
                b.after.push(format!("if __dllgen_lf.is_none() {{ {typed}.keep(); }}"));
            }
            if !ends {
                b.after.push(format!("__dllgen_s::{}({raw} as *mut u8, &{typed}, &{sent})?;", conv.get));
            }
        }
        Kind::Callback { callback, optional, .. } => {
            super::callback::param(&at, t64, callback, *optional, b)?;
        }
        other => return Err(format!("parameter `{}`: {} (not yet)", p.name, kind_name(other))),
    }
    Ok(())
}

/// `v` (an `Option`) as the typed argument: itself when the spec says NULL is allowed,
/// else unwrapped (NULL refused).
fn required(v: &str, optional: bool, what: &str) -> String {
    if optional {
        v.to_string()
    } else {
        format!("{v}.ok_or_else(|| {P}::refuse(\"{what}\", \"NULL where the library needs it\"))?")
    }
}

#[allow(clippy::too_many_arguments)]
fn out_buffer(
    at: &mut At<'_, '_>,
    t64: &Ffi,
    element: &Value,
    capacity: &Expr,
    units: Units,
    filled: &Filled,
    b: &mut Body,
) -> Result<(), String> {
    let (raw, what) = (at.raw(), at.what());
    let elem = same_elements(at, t64, element)?;
    let size = elem_size(element);
    let cap = format!("__dllgen_cap_{}", at.p().name);
    b.before.push(format!(
        "let {cap}: usize = {P}::elements({}, {}, {size}, \"{what}\")?;",
        length(at, capacity)?,
        bytes(units)
    ));
    if at.vf.params[at.index].sig.is_some() {
        b.args.push(cap.clone());
    }
    let out = at.output()?;
    let is_string = at.vf.params[at.index].output.as_ref().is_some_and(|(t, _)| t.ends_with("String"));
    b.after.push(if is_string {
        format!("{P}::copy_out_str({raw} as *mut u8, {cap}, &{out}, \"{what}\")?;")
    } else {
        format!("{P}::copy_out({raw} as *mut {elem}, {cap}, &{out}, \"{what}\")?;")
    });
    // The counts the caller reads back: the filled count's parameter, and an in/out
    // capacity (`*destLen`).
    let mut counts = Vec::new();
    if let Filled::Param { name } = filled {
        counts.push(name.clone());
    }
    if let Expr::Deref { name } = capacity {
        if !counts.contains(name) {
            counts.push(name.clone());
        }
    }
    match filled {
        Filled::Capacity | Filled::Nul | Filled::Return | Filled::Param { .. } => {}
        Filled::Expr { .. } => return Err("a buffer filled as an expression says (not yet)".into()),
    }
    for name in counts {
        let (t, c) = at.other(&name)?;
        let t = pointee(at, &t)?;
        b.after.push(format!(
            "{P}::write({c} as *mut {}, {P}::units::<{}>({out}.len(), {}, {size}, \"{what}\")?);",
            t.rust(),
            t.rust(),
            bytes(units)
        ));
    }
    Ok(())
}

fn kind_name(k: &Kind) -> &'static str {
    match k {
        Kind::Value { .. } => "a struct by value",
        Kind::InString { .. } => "a string",
        Kind::InBuffer { retain: Some(_), .. } | Kind::OutBuffer { retain: Some(_), .. } => {
            "a retained buffer"
        }
        Kind::InBuffer { .. } => "an input buffer of this shape",
        Kind::OutBuffer { grow: Some(_), .. } => "an output buffer that grows",
        Kind::OutBuffer { .. } => "an output buffer of this shape",
        Kind::InoutBuffer { .. } => "an in/out buffer",
        Kind::In { .. } | Kind::Inout { .. } => "a value the library keeps",
        Kind::Out { .. } => "an output value",
        Kind::Resident { .. } => "a resident struct",
        Kind::Scratch { .. } => "scratch memory",
        Kind::Provide { .. } => "a provided buffer",
        Kind::Handle { .. } | Kind::OutHandle { .. } => "a handle",
        Kind::Callback { .. } => "a callback kept past the call",
        Kind::Destroy { .. } => "a destructor",
        Kind::Descriptor => "a file descriptor",
        Kind::UserData { .. } => "user data",
        Kind::Length { .. } | Kind::InoutLength { .. } | Kind::OutLength { .. } => "a length",
        Kind::OutInto { .. } => "a pointer into an output buffer",
        Kind::InHandles { .. } => "an array of handles",
        Kind::InStrings { .. } => "an array of strings",
        Kind::StringArray { .. } => "an array of strings",
        Kind::Fixed { .. } => "a fixed pointer",
        Kind::OutStrings { .. } => "output strings",
        Kind::OutString { .. } => "an output string",
    }
}

/// Whose results a function's kept copies are: its first handle's (they go when the
/// caller closes it), else the process's.
fn owner(f: &model::Function, vf: &view::Function) -> String {
    f.params
        .iter()
        .zip(&vf.params)
        .find_map(|(p, v)| match &v.kind {
            ParamKind::Handle(h) => {
                Some(format!("{P}::Owner({}, {} as usize as u64)", h.handle_kind, ident(&p.name)))
            }
            _ => None,
        })
        .unwrap_or_else(|| format!("{P}::Owner::PROCESS"))
}

/// The C result: the expression returned on success, and the one from the library's
/// own failure.
pub(crate) fn ret(
    f: &model::Function,
    vf: &view::Function,
    t64: &Ffi,
    frees: &mut std::collections::BTreeSet<String>,
) -> Result<(String, String), String> {
    let what = rust_str(&format!("`{}`'s result", f.c_name));
    let local = vf.client_values.first().cloned().unwrap_or_default();
    let ok = match &f.ret {
        model::Return::Void if !matches!(t64, Ffi::Void) => {
            return Err("the spec ignores its result, which the proxy cannot make up for its caller".into())
        }
        model::Return::Void => "()".to_string(),
        model::Return::Value { value: Value::Scalar { scalar: s } } => {
            // A count of what an out-buffer filled is not sent: its buffer's length.
            match f.params.iter().find(|p| matches!(&p.kind, Kind::OutBuffer { filled: Filled::Return, .. }))
            {
                Some(p) => {
                    let Kind::OutBuffer { units, element, .. } = &p.kind else { unreachable!() };
                    let out = vf
                        .params
                        .iter()
                        .find(|q| q.name == ident(&p.name))
                        .and_then(|q| q.output.as_ref())
                        .map(|(_, l)| l.clone())
                        .ok_or("no output")?;
                    format!(
                        "{P}::units::<{}>({out}.len(), {}, {}, \"{what}\")?",
                        t64.rust(),
                        bytes(*units),
                        elem_size(element)
                    )
                }
                None => widen(&local, s, t64, &what)?,
            }
        }
        model::Return::String { encoding: Encoding::Utf16, free_with: Some(_) } => {
            return Err("a UTF-16 result the caller frees (not yet)".into())
        }
        model::Return::String { encoding, free_with } => {
            let optional = vf.ret.client_type.as_deref().is_some_and(is_option);
            let owner = owner(f, vf);
            // A copy the caller frees, or one kept until the owner closes.
            let call = |arg: &str| match (free_with, encoding) {
                (Some(_), _) => format!("{P}::malloc_str({arg})"),
                (None, Encoding::Utf16) => format!("{P}::keep_text16({owner}, {arg})"),
                (None, _) => format!("{P}::keep_text({owner}, {arg})"),
            };
            if let Some(free) = free_with {
                frees.insert(free.name.clone());
            }
            let cast =
                if free_with.is_some() { "*mut ::core::ffi::c_void" } else { "*const ::core::ffi::c_void" };
            let cast = match t64 {
                Ffi::Pointer { mutable: true, .. } => cast.replace("*const", "*mut"),
                _ => cast.replace("*mut", "*const"),
            };
            if optional {
                format!(
                    "match &{local} {{ Some(__dllgen_s) => {} as {cast}, None => ::core::ptr::null_mut::<::core::ffi::c_void>() as {cast} }}",
                    call("__dllgen_s")
                )
            } else {
                format!("{} as {cast}", call(&format!("&{local}")))
            }
        }
        // Bytes the library returns and keeps (sqlite3_column_blob): a copy kept as the text
        // above is.
        model::Return::Buffer { element, single: false, free_with: None, .. } if elem_size(element) == 1 => {
            let optional = vf.ret.client_type.as_deref().is_some_and(is_option);
            let owner = owner(f, vf);
            let cast = t64.rust();
            if optional {
                format!(
                    "match &{local} {{ Some(__dllgen_b) => {P}::keep_bytes({owner}, __dllgen_b) as {cast}, None => ::core::ptr::null_mut::<u8>() as {cast} }}"
                )
            } else {
                format!("{P}::keep_bytes({owner}, &{local}) as {cast}")
            }
        }
        model::Return::Handle { .. } => {
            let optional = vf.ret.client_type.as_deref().is_some_and(is_option);
            let id = "::dllgen_runtime::marshal::handle::ClientHandle::id";
            let cast = t64.rust();
            if optional {
                format!("{local}.map_or(0, {id}) as usize as {cast}")
            } else {
                format!("{id}({local}) as usize as {cast}")
            }
        }
        model::Return::Value { .. } => return Err("a struct result (not yet)".into()),
        // A pointer into the caller's own out-buffer (gzgets returns `buf`): the offset the
        // host sent, checked against the buffer.
        model::Return::Into { param } => {
            let Some(Kind::OutBuffer { element, .. }) =
                f.params.iter().find(|p| p.name == *param).map(|p| &p.kind)
            else {
                return Err(format!("its result points into `{param}`, which is not an output buffer"));
            };
            format!(
                "({} as usize + {P}::offset({local}, __dllgen_cap_{param}, {}, \"{what}\")?) as {}",
                ident(param),
                elem_size(element),
                t64.rust()
            )
        }
        model::Return::Buffer { .. } => return Err("a buffer result (not yet)".into()),
    };
    Ok((ok, t64.library_result()))
}
