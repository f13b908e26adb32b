//! Kind `inout`: one value behind a `T *`, read and written (`templates/kinds/inout.hbs`).

use super::{host_value, option, At, Param, ParamKind};
use crate::emit::view::Cx;
use crate::model;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    pub rust: String,
    pub host: String,
    pub optional: bool,
}

pub(super) fn view(
    at: &At<'_>,
    value: &model::Value,
    optional: bool,
    cx: &mut Cx,
    out: &mut Param,
) -> ParamKind {
    let t = cx.value(value, &at.what).unwrap_or_default();
    out.ffi_type = format!("*mut {}", host_value(&t));
    let arg = format!("&mut {}", t.rust);
    out.sig = Some(format!("{}: {}", at.name, if optional { option(&arg) } else { arg }));
    ParamKind::Inout(View { host: host_value(&t), rust: t.rust, optional })
}
