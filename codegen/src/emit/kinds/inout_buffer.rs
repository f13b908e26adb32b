//! Kind `inout_buffer` (`templates/kinds/inout_buffer.hbs`).

use super::{At, Buffer, Param, ParamKind};
use crate::emit::view::Cx;
use crate::model::{self, Expr};
use crate::spec::Units;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    #[serde(flatten)]
    pub buffer: Buffer,
    pub optional: bool,
}

pub(super) fn view(
    at: &At<'_>,
    element: &model::Value,
    len: &Expr,
    units: Units,
    optional: bool,
    cx: &mut Cx,
    out: &mut Param,
) -> ParamKind {
    match super::passed_buffer(at, element, len, units, optional, true, cx, out) {
        Some(buffer) => ParamKind::InoutBuffer(View { buffer, optional }),
        None => ParamKind::UserData(super::user_data::View { kept: false }),
    }
}
