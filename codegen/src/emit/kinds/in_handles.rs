//! Kind `in_handles`: an array of handles the library reads (`templates/kinds/in_handles.hbs`).

use super::{At, Param, ParamKind};
use crate::emit::view::Cx;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The handle type's index in the host's table.
    pub handle_kind: u32,
}

pub(super) fn view(at: &At<'_>, handle: &str, cx: &mut Cx, out: &mut Param) -> ParamKind {
    out.ffi_type = "*const *mut ::core::ffi::c_void".into();
    out.sig = Some(format!("{}: &[{handle}]", at.name));
    ParamKind::InHandles(View { handle_kind: cx.handle_kind(handle) })
}
