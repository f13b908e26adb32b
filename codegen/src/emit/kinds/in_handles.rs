//! Kind `in_handles`: an array of handles the library reads (`templates/kinds/in_handles.hbs`).

use super::expr::{self, Side};
use super::{At, Param, ParamKind};
use crate::emit::view::Cx;
use crate::model::Expr;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The handle type's index in the host's table.
    pub handle_kind: u32,
    /// The count the library is told, as the host computes it: no more than were sent.
    pub len_host: String,
}

pub(super) fn view(at: &At<'_>, handle: &str, len: &Expr, cx: &mut Cx, out: &mut Param) -> ParamKind {
    out.ffi_type = "*const *mut ::core::ffi::c_void".into();
    out.sig = Some(format!("{}: &[{handle}]", at.name));
    let len_host = expr::length(len, at.f, cx, Side::Host);
    ParamKind::InHandles(View { handle_kind: cx.handle_kind(handle), len_host })
}
