//! Kind `in`: one value behind a `const T *` (`templates/kinds/in.hbs`).

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
    out.ffi_type = format!("*const {}", host_value(&t));
    // Structs are borrowed; scalars are passed by value.
    let arg = if t.is_struct { format!("&{}", t.rust) } else { t.rust.clone() };
    out.sig = Some(format!("{}: {}", at.name, if optional { option(&arg) } else { arg }));
    ParamKind::In(View { host: host_value(&t), rust: t.rust, optional })
}
