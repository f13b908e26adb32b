//! Kind `user_data`: a callback's context pointer, the host's (`templates/kinds/user_data.hbs`).

use super::{Param, ParamKind};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The function keeps its callbacks: the context is their registration's record.
    pub kept: bool,
}

pub(super) fn view(out: &mut Param, kept: bool) -> ParamKind {
    out.ffi_type = "*mut ::core::ffi::c_void".into();
    ParamKind::UserData(View { kept })
}
