//! Kind `user_data`: a callback's context pointer, the host's (`templates/kinds/user_data.hbs`).

use super::{Param, ParamKind};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {}

pub(super) fn view(out: &mut Param) -> ParamKind {
    out.ffi_type = "*mut ::core::ffi::c_void".into();
    ParamKind::UserData(View {})
}
