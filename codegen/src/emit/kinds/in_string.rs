//! Kind `in_string` (`templates/kinds/in_string.hbs`).

use super::{option, text, At, Param, ParamKind};
use crate::spec::Encoding;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The encoding's marker type.
    pub text: String,
    pub optional: bool,
}

pub(super) fn view(at: &At<'_>, encoding: Encoding, optional: bool, out: &mut Param) -> ParamKind {
    out.ffi_type = if encoding == Encoding::Utf16 { "*const u16" } else { "*const u8" }.into();
    out.sig = Some(format!("{}: {}", at.name, if optional { option("&str") } else { "&str".into() }));
    ParamKind::InString(View { text: text(encoding), optional })
}
