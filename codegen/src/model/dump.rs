//! A readable, deterministic rendering of the model (`dllgen check --dump-model`), one
//! line per function, parameter, struct field and callback: what golden tests compare.

use super::*;
use std::fmt::Write;

fn scalar(s: &Scalar) -> String {
    match s {
        Scalar::Int { bytes, signed } => format!("{}{}", if *signed { "i" } else { "u" }, bytes * 8),
        Scalar::Float { bytes } => format!("f{}", bytes * 8),
        Scalar::Bool => "bool".into(),
        Scalar::Enum { name, bytes, signed } => {
            format!("{name} ({}{})", if *signed { "i" } else { "u" }, bytes * 8)
        }
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::Scalar { scalar: s } => scalar(s),
        Value::Struct { name } => name.clone(),
    }
}

fn opt(optional: bool) -> &'static str {
    if optional {
        ", optional"
    } else {
        ""
    }
}

fn units(u: crate::spec::Units) -> &'static str {
    match u {
        crate::spec::Units::Elements => "",
        crate::spec::Units::Bytes => " bytes",
    }
}

/// How long the library keeps a buffer (empty when only for the call).
fn kept(retain: &Option<crate::model::Retain>) -> String {
    let Some(r) = retain else { return String::new() };
    let mut ends = Vec::new();
    if let Some(h) = &r.handle {
        ends.push(format!(
            "{h} closes{}",
            r.slot.as_ref().map(|s| format!(" or slot {s} rebinds")).unwrap_or_default()
        ));
    }
    if let Some(u) = &r.until {
        ends.push(format!("{u} fires"));
    }
    if r.explicit {
        ends.push("the client releases it".into());
    }
    let read = if r.between_calls { ", readable between calls" } else { "" };
    format!(", kept until {}{read}", ends.join(", or "))
}

fn kind(k: &Kind) -> String {
    match k {
        Kind::Value { value: v } => value(v),
        Kind::InString { encoding, optional } => format!("in string {encoding:?}{}", opt(*optional)),
        Kind::InBuffer { element, len, units: u, optional, retain } => {
            let len = len.as_ref().map_or("the slice".to_string(), ToString::to_string);
            format!("in buffer of {} [{len}{}]{}{}", value(element), units(*u), opt(*optional), kept(retain))
        }
        Kind::OutBuffer { element, capacity, units: u, filled, optional, grow, retain } => {
            let filled = match filled {
                Filled::Return => "the return value".to_string(),
                Filled::Param { name } => format!("*{name}"),
                Filled::Expr { expr } => expr.to_string(),
                Filled::Nul => "NUL".into(),
                Filled::Capacity => "capacity".into(),
            };
            format!(
                "out buffer of {} [{capacity}{}], filled: {filled}{}",
                value(element),
                units(*u),
                opt(*optional)
            ) + &grow.as_ref().map(|g| format!(", grown to {g}")).unwrap_or_default()
                + &kept(retain)
        }
        Kind::InoutBuffer { element, len, units: u, optional } => {
            format!("inout buffer of {} [{len}{}]{}", value(element), units(*u), opt(*optional))
        }
        Kind::In { value: v, optional, retain } => {
            format!("in {}{}{}", value(v), opt(*optional), kept(retain))
        }
        Kind::Out { value: v, optional } => format!("out {}{}", value(v), opt(*optional)),
        Kind::Inout { value: v, optional, retain } => {
            format!("inout {}{}{}", value(v), opt(*optional), kept(retain))
        }
        Kind::Handle { handle, optional } => format!("handle {handle}{}", opt(*optional)),
        Kind::OutHandle { handle } => format!("out handle {handle}"),
        Kind::Callback { callback, optional, scope } => format!(
            "callback {callback}{}{}",
            opt(*optional),
            match scope {
                Scope::Call => String::new(),
                Scope::Handle { param, slot, .. } =>
                    format!(", kept until {param} closes or {slot} is set again"),
                Scope::Destroy { param } => format!(", kept until the library calls {param}"),
                Scope::Forever => ", kept forever".into(),
                Scope::Once => ", kept until its first call".into(),
            }
        ),
        Kind::Destroy { .. } => "destroy-notify (the host's)".into(),
        Kind::Resident { strukt, library_buffers } => {
            format!("resident {strukt}{}", if *library_buffers { ", its buffers the library's" } else { "" })
        }
        Kind::Scratch { bytes, kept_by } => format!("scratch of {bytes} bytes, kept by {kept_by}"),
        Kind::Provide { element } => format!("provides a buffer of {}", value(element)),
        Kind::UserData { of } => format!("user data of {of}"),
        Kind::Descriptor => "a descriptor the library takes over".into(),
        Kind::StringArray { encoding, len } => format!("array of {encoding:?} strings [{len}]"),
        Kind::OutInto { buffer } => format!("out pointer into {buffer}"),
        Kind::InHandles { handle, len } => format!("in array of handles {handle} [{len}]"),
        Kind::InStrings { encoding, len: Some(len), .. } => {
            format!("in array of {encoding:?} strings [{len}]")
        }
        Kind::InStrings { encoding, len: None, optional } => {
            format!(
                "in NULL-terminated array of {encoding:?} strings{}",
                if *optional { ", optional" } else { "" }
            )
        }
        Kind::Fixed { fixed } => match fixed {
            Fixed::Int { value, scalar: s } => format!("fixed {value} ({})", scalar(s)),
            Fixed::Address { address: 0 } => "fixed NULL".into(),
            Fixed::Address { address } => format!("fixed address {address:#x}"),
            Fixed::Str { bytes } => format!("fixed string {:?}", String::from_utf8_lossy(bytes)),
        },
        Kind::OutStrings { encoding, len, free_with } => format!(
            "out array of {encoding:?} strings [{len}]{}",
            free_with.as_ref().map(|f| format!(", freed with {}", f.name)).unwrap_or_default()
        ),
        Kind::OutString { encoding, free_with, len } => format!(
            "out string {encoding:?}{}{}",
            len.as_ref().map(|l| format!(" [{l}]")).unwrap_or_default(),
            free_with.as_ref().map(|f| format!(", freed with {}", f.name)).unwrap_or_default()
        ),
        Kind::Length { value, of } => format!("length ({}) of {}", scalar(value), of.join(", ")),
        Kind::OutLength { value: v, of } => format!("out length ({}) of {of}", scalar(v)),
        Kind::InoutLength { value: v, of, consumed } => {
            format!(
                "in/out length ({}) of {of}{}",
                scalar(v),
                if *consumed { ", consumed count returned" } else { "" }
            )
        }
    }
}

fn ret(r: &Return) -> String {
    match r {
        Return::Void => "void".into(),
        Return::Value { value: v } => value(v),
        Return::String { encoding, free_with } => match free_with {
            Some(f) => {
                format!(
                    "string {encoding:?}, freed with {} [{}, {:?}]",
                    f.name,
                    f.symbol.lookup(),
                    f.convention
                )
            }
            None => format!("string {encoding:?}"),
        },
        Return::Handle { handle, borrowed: false } => format!("handle {handle}"),
        Return::Handle { handle, borrowed: true } => format!("borrowed handle {handle}"),
        Return::Into { param } => format!("a pointer into {param}"),
        Return::Buffer { element, len, free_with, single } => format!(
            "{} {} [{}]{}",
            if *single { "one copied" } else { "buffer of" },
            value(element),
            match len {
                RetLen::Const(n) => n.to_string(),
                RetLen::Reported(e) => e.to_string(),
                RetLen::Call(c) => format!("{}({})", c.name, c.args.join(", ")),
            },
            free_with.as_ref().map(|f| format!(", freed with {}", f.name)).unwrap_or_default()
        ),
    }
}

/// Renders the model.
pub fn render(m: &Model) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "model {} (library {}, {}), hash {}", m.name, m.library, m.format, m.hash());
    let _ = writeln!(out, "thread_safe: {}", m.thread_safe);
    let _ = match m.timeout_ms {
        Some(ms) => writeln!(out, "timeout: {ms} ms"),
        None => writeln!(out, "timeout: none"),
    };
    for h in &m.handles {
        let close =
            if h.close.is_empty() { String::new() } else { format!(", closed by {}", h.close.join(", ")) };
        let _ = writeln!(out, "handle {} (c_type {}{close})", h.name, h.c_type);
    }
    for f in &m.functions {
        let name = f.symbol.lookup();
        let rename = if f.rust_name != f.c_name { format!(" as {}", f.rust_name) } else { String::new() };
        let _ = writeln!(out, "fn {}{rename} [{name}, {:?}] -> {}", f.c_name, f.convention, ret(&f.ret));
        if let Some(e) = &f.error {
            let when = match &e.when {
                ErrorWhen::Negative => "negative".to_string(),
                ErrorWhen::Zero => "zero".into(),
                ErrorWhen::Nonzero => "nonzero".into(),
                ErrorWhen::Null => "null".into(),
                ErrorWhen::Not { values } => format!("not {values:?}"),
            };
            let _ = writeln!(out, "  error when {when}, code from {}", e.code);
        }
        for p in &f.params {
            let _ = writeln!(out, "  {}: {}", p.name, kind(&p.kind));
        }
    }
    for s in &m.structs {
        // Tag names already say `struct`/`union`; typedef names do not.
        let tagged = s.name.starts_with("struct ") || s.name.starts_with("union ");
        let label = if tagged { s.name.clone() } else { format!("struct {}", s.name) };
        let resident = match &s.resident {
            None => String::new(),
            Some(r) if r.end.is_empty() => ", resident".into(),
            Some(r) => format!(
                ", resident, ended by {}",
                r.end.iter().map(|(i, e)| format!("{e} after {i}")).collect::<Vec<_>>().join(", ")
            ),
        };
        let _ = writeln!(out, "{label} (size {}, align {}{resident})", s.size, s.align);
        for fd in &s.fields {
            let ty = match &fd.ty {
                FieldType::Value { value: v } => value(v),
                FieldType::Array { element, len } => format!("{}[{len}]", value(element)),
                FieldType::Bytes { len } => format!("bytes[{len}]"),
                FieldType::Bits { bit_offset, width, signed } => {
                    format!(
                        "bits {bit_offset}..{} ({})",
                        u32::from(*bit_offset) + width,
                        if *signed { "signed" } else { "unsigned" }
                    )
                }
                FieldType::String { encoding, optional } => format!("string {encoding:?}{}", opt(*optional)),
                FieldType::Handle { handle, optional } => format!("handle {handle}{}", opt(*optional)),
                FieldType::Buffer { element, len, optional } => {
                    format!("buffer of {} [{len}]{}", value(element), opt(*optional))
                }
                FieldType::Length { value: v, of } => format!("length ({}) of {}", scalar(v), of.join(", ")),
                FieldType::Pointee { value: v, optional } => {
                    format!("pointer to {}{}", value(v), opt(*optional))
                }
                FieldType::Tag { value: v, of } => format!("tag ({}) of {of}", scalar(v)),
                FieldType::Opaque => "opaque (the host's)".into(),
                FieldType::OutBuffer { element, capacity, filled } => format!(
                    "out buffer of {} [{capacity}], filled {}",
                    value(element),
                    filled.as_deref().unwrap_or("up to a NUL")
                ),
                FieldType::Flexible { element, len, declared } => {
                    format!("flexible array of {} [{len}] (declared [{declared}])", value(element))
                }
                FieldType::Union { tag, cases, size, .. } => format!(
                    "union [{size}] by {tag}: {}",
                    cases
                        .iter()
                        .map(|c| format!("{} => {}", c.value, c.member))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let _ = writeln!(out, "  @{} {}: {ty}", fd.offset, fd.name);
        }
    }
    for c in &m.callbacks {
        let threads = if c.threads { " (threads)" } else { "" };
        let _ = writeln!(out, "callback {} [{:?}] -> {}{threads}", c.name, c.convention, ret(&c.ret));
        for p in &c.params {
            let _ = writeln!(out, "  {}: {}", p.name, kind(&p.kind));
        }
    }
    out
}
