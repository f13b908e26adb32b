//! Kind `in_buffer` (`templates/kinds/in_buffer.hbs`).

use super::{option, At, Buffer, Param, ParamKind};
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
    let Some((buffer, t)) = Buffer::new(at, element, len, units, cx) else {
        return ParamKind::UserData(super::user_data::View {});
    };
    out.ffi_type = format!("*const {}", buffer.host_elem);
    let slice = format!("&[{}]", t.rust);
    out.sig = Some(format!("{}: {}", at.name, if optional { option(&slice) } else { slice }));
    ParamKind::InBuffer(View { buffer, optional })
}
