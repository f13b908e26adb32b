//! Kind `out_string`: `char **` the library points at a string (`templates/kinds/out_string.hbs`).

use super::{option, text, At, Param, ParamKind};
use crate::emit::view::Helper;
use crate::model::FreeFn;
use crate::spec::Encoding;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The encoding's marker type.
    pub text: String,
    /// The function the host frees the library's string with, when the caller owns it.
    pub free: Option<Helper>,
}

pub(super) fn view(
    at: &At<'_>,
    encoding: Encoding,
    free_with: Option<&FreeFn>,
    fn_index: u32,
    out: &mut Param,
) -> ParamKind {
    out.ffi_type = "*mut *mut ::core::ffi::c_void".into();
    out.output = Some((option("::std::string::String"), at.local.clone()));
    let free = free_with.map(|f| Helper::free(format!("{fn_index}_{}", at.index), f));
    ParamKind::OutString(View { text: text(encoding), free })
}
