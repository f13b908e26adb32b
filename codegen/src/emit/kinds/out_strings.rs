//! Kind `out_strings`: `char ***` the library points at an array of strings it allocated
//! (`templates/kinds/out_strings.hbs`).

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
    /// How many strings, as the host computes it after the call (a `u64` expression).
    pub count_host: String,
    /// The function the host frees the array with.
    pub free: Option<Helper>,
}

pub(super) fn view(
    at: &At<'_>,
    encoding: Encoding,
    len: &Expr,
    free_with: Option<&FreeFn>,
    fn_index: u32,
    cx: &mut Cx,
    out: &mut Param,
) -> ParamKind {
    // The count reads out-values the host has after the call.
    expr::after_call_only(len, at.f, &at.what, cx);
    out.ffi_type = "*mut *mut ::core::ffi::c_void".into();
    out.output =
        Some((option("::std::vec::Vec<::core::option::Option<::std::string::String>>"), at.local.clone()));
    let free = free_with.map(|f| Helper::free(format!("{fn_index}_{}", at.index), f));
    ParamKind::OutStrings(View {
        text: text(encoding),
        count_host: expr::length(len, at.f, cx, Side::Host),
        free,
    })
}
