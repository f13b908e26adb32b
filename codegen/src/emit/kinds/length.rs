//! Kind `length`: a length the client fills in from the buffer it sizes
//! (`templates/kinds/length.hbs`). The model resolved which buffers it sizes; the value
//! comes from the first required one (else the first).

use super::out_buffer::capacity_name;
use super::{units, At, Param, ParamKind};
use crate::emit::view::{ident, scalar, Cx};
use crate::model::{Kind, Scalar};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    #[serde(flatten)]
    pub counted: Counted,
}

/// A hidden count the client works out: its C type and where it comes from.
#[derive(Debug, Serialize)]
pub struct Counted {
    /// The C integer type.
    pub rust: String,
    /// What the client takes it from: a buffer argument or an out-buffer's capacity.
    pub from: String,
    pub units: String,
    pub elem_size: u64,
}

pub(super) fn view(at: &At<'_>, value: &Scalar, of: &[String], cx: &mut Cx, out: &mut Param) -> ParamKind {
    let counted = counted(at, value, of, cx);
    out.ffi_type = counted.rust.clone();
    ParamKind::Length(View { counted })
}

/// The count of `value`'s type taken from one of the buffers `of`.
pub(super) fn counted(at: &At<'_>, value: &Scalar, of: &[String], cx: &mut Cx) -> Counted {
    let (from, units, elem_size) = source(at, of, cx);
    Counted { rust: scalar(value).0, from, units, elem_size }
}

/// Where the client takes a hidden length from, among the buffers `of` it sizes (the
/// model resolved them): the first required one, else the first. Its argument (a slice,
/// or an out-buffer's capacity argument), units and element size.
pub(super) fn source(at: &At<'_>, of: &[String], cx: &mut Cx) -> (String, String, u64) {
    let buffers: Vec<(usize, &crate::model::Param)> =
        at.f.params.iter().enumerate().filter(|(_, q)| of.contains(&q.name)).collect();
    let optional = |q: &crate::model::Param| match &q.kind {
        Kind::InBuffer { optional, .. } | Kind::InoutBuffer { optional, .. } => *optional,
        _ => false,
    };
    let none = (String::new(), String::new(), 1);
    let Some((i, q)) = buffers.iter().find(|(_, q)| !optional(q)).or(buffers.first()) else {
        cx.unsupported.push(format!("{}: a length of no buffer", at.what));
        return none;
    };
    let (element, u) = match &q.kind {
        Kind::InBuffer { element, units, .. }
        | Kind::InoutBuffer { element, units, .. }
        | Kind::OutBuffer { element, units, .. } => (element, *units),
        // Strings: counted one by one.
        Kind::InStrings { .. } | Kind::InHandles { .. } => {
            return (ident(&q.name), units(crate::spec::Units::Elements), 1)
        }
        _ => {
            cx.unsupported.push(format!("{}: a length of `{}`, which is not a buffer", at.what, q.name));
            return none;
        }
    };
    let from = match &q.kind {
        Kind::OutBuffer { .. } => {
            let buffer_at = At {
                p: q,
                index: *i,
                name: ident(&q.name),
                local: super::local(&q.name),
                what: at.what.clone(),
                f: at.f,
                fn_index: at.fn_index,
            };
            capacity_name(&buffer_at)
        }
        _ => ident(&q.name),
    };
    let elem_size = cx.value(element, &at.what).map_or(1, |t| t.size);
    (from, units(u), elem_size)
}
