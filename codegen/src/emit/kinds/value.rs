//! Kind `value`: passed by value (`templates/kinds/value.hbs`).

use super::{host_value, At, Param, ParamKind};
use crate::emit::view::Cx;
use crate::model;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The client's type.
    pub rust: String,
    /// The host's type.
    pub host: String,
}

pub(super) fn view(at: &At<'_>, value: &model::Value, cx: &mut Cx, out: &mut Param) -> ParamKind {
    let t = cx.value(value, &at.what).unwrap_or_default();
    out.ffi_type = host_value(&t);
    out.by_value = t.is_struct;
    out.sig = Some(format!("{}: {}", at.name, t.rust));
    ParamKind::Value(View { host: host_value(&t), rust: t.rust })
}
