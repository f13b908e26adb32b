//! Kind `inout`: one value behind a `T *`, read and written (`templates/kinds/inout.hbs`).

use super::{At, Param, ParamKind};
use crate::emit::view::{Cx, RT};
use crate::model;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    pub rust: String,
    pub host: String,
    pub optional: bool,
    /// The library keeps it and fills it in later calls: who keeps it (the client gets a
    /// token for it).
    pub retain: Option<super::in_buffer::RetainView>,
}

pub(super) fn view(
    at: &At<'_>,
    value: &model::Value,
    optional: bool,
    retain: Option<&model::Retain>,
    cx: &mut Cx,
    out: &mut Param,
) -> ParamKind {
    let retain = retain.and_then(|r| super::in_buffer::retain_view(at, r, cx));
    // Kept: the client gives the value (read, not written back) and gets a token.
    let (rust, host) = super::passed_value(at, value, optional, retain.is_none(), cx, out);
    if retain.is_some() {
        out.ffi_type = format!("*mut {host}");
        out.output = Some((format!("{RT}::marshal::retained::Retained<{rust}>"), at.local.clone()));
    }
    ParamKind::Inout(View { rust, host, optional, retain })
}
