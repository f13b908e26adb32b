//! Kind `in`: one value behind a `const T *` (`templates/kinds/in.hbs`).

use super::{At, Param, ParamKind};
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
    let (rust, host) = super::passed_value(at, value, optional, false, cx, out);
    ParamKind::In(View { rust, host, optional })
}
