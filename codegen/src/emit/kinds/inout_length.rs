//! Kind `inout_length`: a count read and written (`uLongf *destLen`), hidden from the
//! client: sent like a `length`, passed by pointer, and for an in-buffer the count the
//! library leaves is returned to the client (`templates/kinds/inout_length.hbs`).

use super::length::{counted, Counted};
use super::{At, Param, ParamKind};
use crate::emit::view::Cx;
use crate::model::Scalar;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    #[serde(flatten)]
    pub counted: Counted,
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
    let counted = counted(at, value, &[of.to_string()], cx);
    out.ffi_type = format!("*mut {}", counted.rust);
    let back = format!("__dllgen_o_{}", at.p.name);
    if consumed {
        out.output = Some(("usize".into(), back.clone()));
    }
    ParamKind::InoutLength(View { counted, consumed, given: format!("__dllgen_g_{}", at.p.name), back })
}
