//! Kind `inout_buffer` (`templates/kinds/inout_buffer.hbs`).

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
    out.ffi_type = format!("*mut {}", buffer.host_elem);
    let slice = format!("&mut [{}]", t.rust);
    out.sig = Some(format!("{}: {}", at.name, if optional { option(&slice) } else { slice }));
    ParamKind::InoutBuffer(View { buffer, optional })
}
