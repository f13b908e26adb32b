//! Kind `out_length`: where the library writes how much of an out-buffer it filled
//! (`templates/kinds/out_length.hbs`).

use super::{Param, ParamKind};
use crate::emit::view::scalar;
use crate::model::Scalar;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    pub rust: String,
}

pub(super) fn view(value: &Scalar, out: &mut Param) -> ParamKind {
    let rust = scalar(value).0;
    out.ffi_type = format!("*mut {rust}");
    ParamKind::OutLength(View { rust })
}
