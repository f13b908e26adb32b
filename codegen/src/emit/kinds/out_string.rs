//! Kind `out_string`: `char **` the library points at a string (`templates/kinds/out_string.hbs`).

use super::expr::{self, Side};
use super::{option, text, At, Param, ParamKind};
use crate::emit::view::{Cx, Helper};
use crate::model::{Expr, FreeFn};
use crate::spec::Encoding;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The encoding's marker type.
    pub text: String,
    /// The function the host frees the library's string with, when the caller owns it.
    pub free: Option<Helper>,
    /// Its length in units as the host computes it after the call (a `u64` expression),
    /// when it is not NUL-terminated.
    pub units_host: Option<String>,
}

pub(super) fn view(
    at: &At<'_>,
    encoding: Encoding,
    free_with: Option<&FreeFn>,
    len: Option<&Expr>,
    fn_index: u32,
    cx: &mut Cx,
    out: &mut Param,
) -> ParamKind {
    out.ffi_type = "*mut *mut ::core::ffi::c_void".into();
    out.output = Some((option("::std::string::String"), at.local.clone()));
    let free = free_with.map(|f| Helper::free(format!("{fn_index}_{}", at.index), f));
    // The length reads out-values the host has after the call.
    if let Some(len) = len {
        expr::after_call_only(len, at.f, &at.what, cx);
    }
    let units_host = len.map(|l| expr::length(l, at.f, cx, Side::Host));
    ParamKind::OutString(View { text: text(encoding), free, units_host })
}
