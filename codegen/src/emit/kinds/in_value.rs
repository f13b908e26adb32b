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
    /// A struct ending in a flexible array member at this offset: laid out with its elements.
    pub flexible: Option<u64>,
    /// The library keeps the pointer: who keeps the value.
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
    let (rust, host) = super::passed_value(at, value, optional, false, cx, out);
    let flexible = match value {
        model::Value::Struct { name } => cx.flexible.get(name).copied(),
        model::Value::Scalar { .. } => None,
    };
    let retain = retain.and_then(|r| super::in_buffer::retain_view(at, r, cx));
    if retain.is_some() && flexible.is_some() {
        cx.unsupported.push(format!("{}: a struct with a flexible array member cannot be kept", at.what));
    }
    ParamKind::In(View { rust, host, optional, flexible, retain })
}
