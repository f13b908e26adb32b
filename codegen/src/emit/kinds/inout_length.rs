//! Kind `inout_length`: a count read and written (`uLongf *destLen`), hidden from the
//! client: sent like a `length`, passed by pointer, and for an in-buffer the count the
//! library leaves is returned to the client (`templates/kinds/inout_length.hbs`).

use super::length::source;
use super::{At, Param, ParamKind};
use crate::emit::view::{scalar, Cx};
use crate::model::Scalar;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The C integer type.
    pub rust: String,
    /// What the client takes it from: a buffer argument or an out-buffer's capacity.
    pub from: String,
    pub units: String,
    pub elem_size: u64,
    /// The count after the call goes back to the client (it sizes an in-buffer).
    pub consumed: bool,
    /// The host's local for the count as sent; the client's for the count returned.
    pub given: String,
    pub back: String,
}

pub(super) fn view(
    at: &At<'_>,
    value: &Scalar,
    of: &str,
    consumed: bool,
    cx: &mut Cx,
    out: &mut Param,
) -> ParamKind {
    let rust = scalar(value).0;
    out.ffi_type = format!("*mut {rust}");
    let (from, units, elem_size) = source(at, &[of.to_string()], cx);
    let back = format!("__dllgen_o_{}", at.p.name);
    if consumed {
        out.output = Some(("usize".into(), back.clone()));
    }
    ParamKind::InoutLength(View {
        rust,
        from,
        units,
        elem_size,
        consumed,
        given: format!("__dllgen_g_{}", at.p.name),
        back,
    })
}
