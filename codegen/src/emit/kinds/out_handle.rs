//! Kind `out_handle`: a `T **` filled with a handle (`templates/kinds/out_handle.hbs`).

use super::{At, Param, ParamKind};
use crate::emit::view::Cx;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    pub handle: String,
    pub handle_kind: u32,
}

pub(super) fn view(at: &At<'_>, handle: &str, cx: &mut Cx, out: &mut Param) -> ParamKind {
    out.ffi_type = "*mut *mut ::core::ffi::c_void".into();
    out.output = Some((handle.to_string(), at.local.clone()));
    ParamKind::OutHandle(View { handle: handle.to_string(), handle_kind: cx.handle_kind(handle) })
}
