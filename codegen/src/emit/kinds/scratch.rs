//! Kind `scratch`: memory the host allocates for the library to keep working in, kept with
//! a resident struct parameter (`templates/kinds/scratch.hbs`).

use super::{At, Param, ParamKind};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    pub bytes: u64,
    /// The resident parameter's local.
    pub kept_by: String,
}

pub(super) fn view(at: &At<'_>, bytes: u64, kept_by: &str, out: &mut Param) -> ParamKind {
    let _ = at;
    out.ffi_type = "*mut u8".into();
    ParamKind::Scratch(View { bytes, kept_by: super::local(kept_by) })
}
