//! The parameter view, one variant per marshaling kind, each carrying only what its
//! template partial (`templates/kinds/<kind>.hbs`) needs. [`param`] builds it from
//! `model::Kind` by an exhaustive match: a new kind does not compile until it has its
//! module here, and its partial is selected by the variant's name.
//!
//! Generated code names runtime items by full path (`::dllgen_runtime::...`) and its own
//! locals with the reserved prefix `__dllgen_`: a parameter's host value (and the client's
//! value of a hidden parameter) is `__dllgen_a_<name>`. C names cannot start with it (the
//! model refuses them), so no C name can clash with generated code.

pub(super) mod callback;
mod descriptor;
mod destroy;
mod fixed;
pub(super) use fixed::byte_string;
mod handle;
mod in_buffer;
mod in_handles;
mod in_string;
mod in_strings;
mod in_value;
mod inout_buffer;
mod inout_length;
mod inout_value;
mod length;
mod out_buffer;
mod out_handle;
mod out_into;
mod out_length;
mod out_string;
mod out_strings;
mod out_value;
mod resident;
mod scratch;
mod user_data;
mod value;

pub(super) mod expr;

use super::view::{Cx, Ty, RT};
use crate::model::{self, Kind};
use serde::Serialize;

/// A parameter: what every kind has, and its kind's own data.
#[derive(Debug, Serialize)]
pub struct Param {
    /// The client's name for it (the C name as a Rust identifier).
    pub name: String,
    /// The host's local for it (and the client's, for what the caller does not pass).
    pub local: String,
    /// Its type in the host's function-pointer signature.
    pub ffi_type: String,
    /// `name: Type` in the client method's signature, when the caller passes it.
    pub sig: Option<String>,
    /// "`f` parameter `p`" for the runtime's errors, escaped for a Rust string literal.
    pub what: String,
    /// What the client method returns for it: (type, local).
    #[serde(skip)]
    pub output: Option<(String, String)>,
    /// A struct passed by value (the host pushes its bytes as stack words).
    pub by_value: bool,
    /// The host reassigns its local (the capacity of a buffer that grows).
    pub mutable: bool,
    #[serde(flatten)]
    pub kind: ParamKind,
}

/// One variant per marshaling kind; the variant's name is its partial's.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ParamKind {
    Value(value::View),
    InString(in_string::View),
    InStrings(in_strings::View),
    InHandles(in_handles::View),
    OutInto(out_into::View),
    InBuffer(in_buffer::View),
    OutBuffer(out_buffer::View),
    InoutBuffer(inout_buffer::View),
    In(in_value::View),
    Out(out_value::View),
    Inout(inout_value::View),
    Handle(handle::View),
    OutHandle(out_handle::View),
    Callback(callback::View),
    Destroy(destroy::View),
    UserData(user_data::View),
    Length(length::View),
    InoutLength(inout_length::View),
    OutLength(out_length::View),
    Fixed(fixed::View),
    OutString(out_string::View),
    OutStrings(out_strings::View),
    Resident(resident::View),
    Scratch(scratch::View),
    Descriptor(descriptor::View),
}

/// What every kind's builder gets: the function, the parameter, and its names.
pub(super) struct At<'a> {
    pub f: &'a model::Function,
    pub index: usize,
    pub p: &'a model::Param,
    pub name: String,
    pub local: String,
    /// "`f` parameter `p`", for messages.
    pub what: String,
    /// The function's index (its call id).
    pub fn_index: u32,
}

/// The view of parameter `index` of `f`.
pub(super) fn param(f: &model::Function, index: usize, fn_index: u32, cx: &mut Cx) -> Param {
    let p = &f.params[index];
    let at = At {
        f,
        index,
        p,
        name: super::view::ident(&p.name),
        local: local(&p.name),
        what: format!("`{}` parameter `{}`", f.c_name, p.name),
        fn_index,
    };
    let mut out = Param {
        name: at.name.clone(),
        local: at.local.clone(),
        ffi_type: String::new(),
        sig: None,
        what: super::rust_str(&at.what),
        output: None,
        by_value: false,
        mutable: false,
        kind: ParamKind::UserData(user_data::View { kept: false }),
    };
    out.kind = match &p.kind {
        Kind::Value { value } => value::view(&at, value, cx, &mut out),
        Kind::InString { encoding, optional } => in_string::view(&at, *encoding, *optional, &mut out),
        Kind::InBuffer { element, len, units, optional, retain } => {
            in_buffer::view(&at, element, len.as_ref(), *units, *optional, retain.as_ref(), cx, &mut out)
        }
        Kind::OutBuffer { element, capacity, units, filled, optional: _, grow, retain } => out_buffer::view(
            &at,
            element,
            capacity,
            *units,
            filled,
            grow.as_ref(),
            retain.as_ref(),
            cx,
            &mut out,
        ),
        Kind::InoutBuffer { element, len, units, optional } => {
            inout_buffer::view(&at, element, len, *units, *optional, cx, &mut out)
        }
        Kind::In { value, optional, retain } => {
            in_value::view(&at, value, *optional, retain.as_ref(), cx, &mut out)
        }
        Kind::Out { value, optional: _ } => out_value::view(&at, value, cx, &mut out),
        Kind::Inout { value, optional, retain } => {
            inout_value::view(&at, value, *optional, retain.as_ref(), cx, &mut out)
        }
        Kind::Resident { strukt, library_buffers } => {
            resident::view(&at, strukt, *library_buffers, fn_index, cx, &mut out)
        }
        Kind::Scratch { bytes, kept_by } => scratch::view(&at, *bytes, kept_by, &mut out),
        Kind::Provide { .. } => {
            cx.unsupported.push(format!("{}: `provide` is a callback argument only", at.what));
            user_data::view(&mut out, false)
        }
        Kind::Handle { handle, optional } => handle::view(&at, handle, *optional, cx, &mut out),
        Kind::OutHandle { handle } => out_handle::view(&at, handle, cx, &mut out),
        Kind::Callback { callback, optional, scope } => {
            callback::view(&at, callback, *optional, scope, fn_index, cx, &mut out)
        }
        Kind::Destroy { convention } => destroy::view(&at, *convention, fn_index, &mut out),
        Kind::UserData { of: _ } => user_data::view(&mut out, f.kept_scope().is_some()),
        Kind::Descriptor => descriptor::view(&at, &mut out),
        Kind::Length { value, of } => length::view(&at, value, of, cx, &mut out),
        Kind::InoutLength { value, of, consumed } => {
            inout_length::view(&at, value, of, *consumed, cx, &mut out)
        }
        Kind::OutLength { value, of: _ } => out_length::view(value, &mut out),
        Kind::Fixed { fixed } => fixed::view(&at, fixed, cx, &mut out),
        Kind::InStrings { encoding, optional, .. } => in_strings::view(&at, *encoding, *optional, &mut out),
        Kind::InHandles { handle, len } => in_handles::view(&at, handle, len, cx, &mut out),
        Kind::OutInto { buffer } => out_into::view(&at, buffer, cx, &mut out),
        Kind::StringArray { .. } => {
            cx.unsupported
                .push(format!("{}: an array of strings is a callback argument only (so far)", at.what));
            user_data::view(&mut out, false)
        }
        Kind::OutStrings { encoding, len, free_with } => {
            out_strings::view(&at, *encoding, len, free_with.as_ref(), fn_index, cx, &mut out)
        }
        Kind::OutString { encoding, free_with, len } => {
            out_string::view(&at, *encoding, free_with.as_ref(), len.as_ref(), fn_index, cx, &mut out)
        }
    };
    out
}

/// The generated local of a parameter.
pub(super) fn local(c_name: &str) -> String {
    format!("__dllgen_a_{c_name}")
}

/// `Option<T>` by full path.
pub(super) fn option(t: &str) -> String {
    format!("::core::option::Option<{t}>")
}

/// How the view names an encoding's marker type.
pub(super) fn text(e: crate::spec::Encoding) -> String {
    match e {
        // ANSI text crosses as its bytes, as UTF-8 does.
        crate::spec::Encoding::Utf8 | crate::spec::Encoding::Ansi => format!("{RT}::marshal::Utf8"),
        crate::spec::Encoding::Utf16 => format!("{RT}::marshal::Utf16"),
    }
}

/// How the view names a buffer's units.
pub(super) fn units(u: crate::spec::Units) -> String {
    match u {
        crate::spec::Units::Elements => format!("{RT}::marshal::Units::Elements"),
        crate::spec::Units::Bytes => format!("{RT}::marshal::Units::Bytes"),
    }
}

/// The host's type for one value behind a pointer or by value.
pub(super) fn host_value(t: &Ty) -> String {
    if t.is_bool {
        "bool".into()
    } else {
        t.host.clone()
    }
}

/// The host's type for a buffer element (`_Bool` elements are `CBool`).
pub(super) fn host_elem(t: &Ty) -> String {
    if t.is_bool {
        format!("{RT}::marshal::CBool")
    } else {
        t.host.clone()
    }
}

/// What a buffer kind has: element types and size, length and units.
#[derive(Debug, Serialize)]
pub struct Buffer {
    /// The client's element type.
    pub elem: String,
    /// The host's element type.
    pub host_elem: String,
    /// Its size on the target (from the model's layout).
    pub elem_size: u64,
    /// `Units::Elements` or `Units::Bytes`, by path.
    pub units: String,
    /// The length as the host computes it (a `u64` expression over host locals).
    pub len_host: String,
}

impl Buffer {
    pub(super) fn new(
        at: &At<'_>,
        element: &model::Value,
        len: &model::Expr,
        u: crate::spec::Units,
        cx: &mut Cx,
    ) -> Option<(Buffer, Ty)> {
        let t = cx.value(element, &at.what)?;
        Some((
            Buffer {
                elem: t.rust.clone(),
                host_elem: host_elem(&t),
                elem_size: t.size,
                units: units(u),
                len_host: expr::length(len, at.f, cx, expr::Side::Host),
            },
            t,
        ))
    }
}

/// A buffer the caller passes, read (`&[T]`, `*const T`) or also written (`&mut [T]`,
/// `*mut T`): its view, with the signature and the pointer type set on `out`.
#[allow(clippy::too_many_arguments)]
pub(super) fn passed_buffer(
    at: &At<'_>,
    element: &model::Value,
    len: &model::Expr,
    u: crate::spec::Units,
    optional: bool,
    writes: bool,
    cx: &mut Cx,
    out: &mut Param,
) -> Option<Buffer> {
    let (buffer, t) = Buffer::new(at, element, len, u, cx)?;
    let (ptr, slice) =
        if writes { ("*mut", format!("&mut [{}]", t.rust)) } else { ("*const", format!("&[{}]", t.rust)) };
    out.ffi_type = format!("{ptr} {}", buffer.host_elem);
    out.sig = Some(format!("{}: {}", at.name, if optional { option(&slice) } else { slice }));
    Some(buffer)
}

/// One value behind a pointer the caller passes, read (`T` for scalars, `&T` for structs;
/// `*const T`) or also written (`&mut T`, `*mut T`): its client and host types, with the
/// signature and the pointer type set on `out`.
pub(super) fn passed_value(
    at: &At<'_>,
    value: &model::Value,
    optional: bool,
    writes: bool,
    cx: &mut Cx,
    out: &mut Param,
) -> (String, String) {
    let t = cx.value(value, &at.what).unwrap_or_default();
    let host = host_value(&t);
    out.ffi_type = format!("{} {host}", if writes { "*mut" } else { "*const" });
    let arg = match (writes, t.is_struct) {
        (true, _) => format!("&mut {}", t.rust),
        (false, true) => format!("&{}", t.rust),
        (false, false) => t.rust.clone(),
    };
    out.sig = Some(format!("{}: {}", at.name, if optional { option(&arg) } else { arg }));
    (t.rust, host)
}
