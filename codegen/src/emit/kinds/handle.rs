//! Kind `handle` (`templates/kinds/handle.hbs`).

use super::{option, At, Param, ParamKind};
use crate::emit::view::Cx;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The type's index in the host's handle table.
    pub handle_kind: u32,
    pub optional: bool,
    /// This function closes it: the host forgets it after the call.
    pub closes: bool,
}

pub(super) fn view(at: &At<'_>, handle: &str, optional: bool, cx: &mut Cx, out: &mut Param) -> ParamKind {
    out.ffi_type = "*mut ::core::ffi::c_void".into();
    out.sig = Some(format!("{}: {}", at.name, if optional { option(handle) } else { handle.to_string() }));
    ParamKind::Handle(View {
        handle_kind: cx.handle_kind(handle),
        optional,
        closes: cx.closers.get(&at.f.c_name).map(String::as_str) == Some(handle),
    })
}
