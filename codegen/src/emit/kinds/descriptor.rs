//! Kind `descriptor`: a file descriptor the library takes over (`templates/kinds/descriptor.hbs`).

use super::{At, Param, ParamKind};
use crate::emit::view::RT;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The client's local holding the token the host takes the descriptor by.
    pub token: String,
}

pub(super) fn view(at: &At<'_>, out: &mut Param) -> ParamKind {
    out.ffi_type = "i32".into();
    out.sig = Some(format!("{}: {RT}::marshal::descriptor::Descriptor", at.name));
    ParamKind::Descriptor(View { token: format!("__dllgen_d_{}", at.p.name) })
}
