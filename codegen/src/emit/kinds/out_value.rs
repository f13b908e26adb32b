//! Kind `out`: one value the library writes through a `T *` (`templates/kinds/out.hbs`).

use super::{host_value, At, Param, ParamKind};
use crate::emit::view::Cx;
use crate::model;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    pub rust: String,
    pub host: String,
}

pub(super) fn view(at: &At<'_>, value: &model::Value, cx: &mut Cx, out: &mut Param) -> ParamKind {
    let t = cx.value(value, &at.what).unwrap_or_default();
    out.ffi_type = format!("*mut {}", host_value(&t));
    out.output = Some((t.rust.clone(), at.local.clone()));
    ParamKind::Out(View { host: host_value(&t), rust: t.rust })
}
