//! Kind `out_into`: `T **` the library points into an in-buffer parameter
//! (`templates/kinds/out_into.hbs`).

use super::{local, option, At, Param, ParamKind};
use crate::emit::view::Cx;
use crate::model::Kind;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The buffer's host local, and its client argument (the offset is bounded by its length).
    pub buffer_local: String,
    pub buffer_arg: String,
    /// For the error naming the parameter.
    pub what: String,
}

pub(super) fn view(at: &At<'_>, buffer: &str, cx: &mut Cx, out: &mut Param) -> ParamKind {
    if !at.f.params.iter().any(|q| q.name == buffer && matches!(q.kind, Kind::InBuffer { .. })) {
        cx.unsupported.push(format!("{}: it points into `{buffer}`, which is not an in-buffer", at.what));
    }
    out.ffi_type = "*mut *const ::core::ffi::c_void".into();
    out.output = Some((option("usize"), at.local.clone()));
    ParamKind::OutInto(View {
        buffer_local: local(buffer),
        buffer_arg: crate::emit::view::ident(buffer),
        what: crate::emit::rust_str(&format!("`{}` parameter `{}`", at.f.c_name, at.p.name)),
    })
}
