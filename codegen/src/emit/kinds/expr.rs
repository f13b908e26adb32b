//! Length expressions (`count * stride`, `hdr.len`) rendered for one side: a `u64`
//! expression over that side's values, checked (an overflow, a negative result or a
//! division by zero is an error before the call).

use super::super::view::{ident, Cx, RT};
use super::local;
use crate::model::{self, Expr, Kind, Value};

/// Which generated side an expression is written for: they hold parameters differently
/// (the host its decoded C values, the client the caller's arguments).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Side {
    Host,
    Client,
}

/// What `side` calls parameter `name` of `f`: the host always its local; the client the
/// caller's argument when the caller passes it, else its local.
fn binding(f: &model::Function, name: &str, side: Side) -> String {
    // `return` in a filled length: the host's result (no parameter can be named so).
    if name == "return" && side == Side::Host {
        return "__dllgen_ret".into();
    }
    let visible = f.params.iter().find(|p| p.name == name).is_some_and(|p| passed_by_caller(&p.kind));
    match side {
        Side::Client if visible => ident(name),
        _ => local(name),
    }
}

/// Whether the caller passes a parameter of this kind (else the client works it out, or
/// it is an output). Exhaustive: a new kind must say.
fn passed_by_caller(kind: &Kind) -> bool {
    match kind {
        Kind::Value { .. }
        | Kind::InString { .. }
        | Kind::InBuffer { .. }
        | Kind::InoutBuffer { .. }
        | Kind::In { .. }
        | Kind::Inout { .. }
        | Kind::Handle { .. }
        | Kind::Callback { .. }
        | Kind::Descriptor
        | Kind::Resident { .. } => true,
        Kind::OutBuffer { .. }
        | Kind::Out { .. }
        | Kind::OutHandle { .. }
        | Kind::UserData { .. }
        | Kind::Destroy { .. }
        | Kind::Length { .. }
        | Kind::InoutLength { .. }
        | Kind::OutLength { .. }
        | Kind::Fixed { .. }
        | Kind::OutString { .. }
        | Kind::OutStrings { .. }
        | Kind::Scratch { .. }
        | Kind::Provide { .. } => false,
        Kind::StringArray { .. } | Kind::InStrings { .. } | Kind::InHandles { .. } => true,
        Kind::OutInto { .. } => false,
    }
}

/// What `*name` reads: on the host an `out` parameter's guarded storage is dereferenced
/// (after the call: the value the library wrote); anything else is its local.
fn deref(f: &model::Function, name: &str, side: Side) -> String {
    let out = f.params.iter().any(|p| p.name == name && matches!(p.kind, Kind::Out { .. }));
    if out && side == Side::Host {
        format!("(*{})", local(name))
    } else {
        binding(f, name, side)
    }
}

/// A buffer's length as `side` computes it (a `u64` expression).
pub(crate) fn length(expr: &Expr, f: &model::Function, cx: &Cx, side: Side) -> String {
    match expr {
        Expr::Param { name } => format!("{} as u64", binding(f, name, side)),
        Expr::Deref { name } => format!("{} as u64", deref(f, name, side)),
        Expr::Const { value } => format!("{value}u64"),
        other => format!("{RT}::marshal::length::checked({})?", checked(other, f, cx, side)),
    }
}

/// An `Option<i128>` expression for `e` (`None` on overflow or division by zero).
fn checked(e: &Expr, f: &model::Function, cx: &Cx, side: Side) -> String {
    match e {
        Expr::Const { value } => format!("Some({value}i128)"),
        Expr::Param { name } => format!("Some({} as i128)", binding(f, name, side)),
        Expr::Deref { name } => format!("Some({} as i128)", deref(f, name, side)),
        Expr::Field { param, field } => {
            let kind = f.params.iter().find(|p| p.name == *param).map(|p| &p.kind);
            let strukt = match kind {
                Some(Kind::Value { value: Value::Struct { name } })
                | Some(Kind::In { value: Value::Struct { name }, .. })
                | Some(Kind::Inout { value: Value::Struct { name }, .. }) => name.as_str(),
                _ => "",
            };
            let read = |v: &str| match cx.raw.get(&(strukt.to_string(), field.clone())) {
                Some(t) if side == Side::Host => format!("<{t}>::from_le_bytes({v}.{})", ident(field)),
                _ => format!("{v}.{}", ident(field)),
            };
            let base = binding(f, param, side);
            // The host holds an `in`/`inout` value as an `Option`; the client an optional
            // one as an `Option` of a reference.
            let wrapped = match (kind, side) {
                (Some(Kind::In { .. }) | Some(Kind::Inout { .. }), Side::Host) => true,
                (Some(Kind::In { optional, .. }) | Some(Kind::Inout { optional, .. }), Side::Client) => {
                    *optional
                }
                _ => false,
            };
            if wrapped {
                format!("Some({base}.as_ref().map_or(0, |v| {} as i128))", read("v"))
            } else {
                format!("Some({} as i128)", read(&base))
            }
        }
        Expr::Binary { left, op, right } => {
            let method = checked_method(*op);
            format!(
                "{}.zip({}).and_then(|(a, b)| a.{method}(b))",
                checked(left, f, cx, side),
                checked(right, f, cx, side)
            )
        }
    }
}

/// A count the host reads after the call (`*pnRow`) may only name `out` parameters, whose
/// values the host holds then; another is put on `cx.unsupported` for `what`.
pub(crate) fn after_call_only(e: &Expr, f: &model::Function, what: &str, cx: &mut Cx) {
    for leaf in e.leaves() {
        if let Expr::Deref { name } = leaf {
            if !f.params.iter().any(|q| q.name == *name && matches!(q.kind, Kind::Out { .. })) {
                cx.unsupported.push(format!("{what}: it reads `*{name}`, which must be an `out` parameter"));
            }
        }
    }
}

/// The checked integer method of a length's operator: `checked_add` for `+`...
pub(crate) fn checked_method(op: char) -> &'static str {
    match op {
        '+' => "checked_add",
        '-' => "checked_sub",
        '*' => "checked_mul",
        _ => "checked_div",
    }
}
