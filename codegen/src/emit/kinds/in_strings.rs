//! Kind `in_strings`: an array of strings the library reads (`templates/kinds/in_strings.hbs`).

use super::{option, text, At, Param, ParamKind};
use crate::spec::Encoding;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The encoding's marker type.
    pub text: String,
    /// NULL allowed: the client passes an `Option`.
    pub optional: bool,
}

pub(super) fn view(at: &At<'_>, encoding: Encoding, optional: bool, out: &mut Param) -> ParamKind {
    let unit = if encoding == Encoding::Utf16 { "u16" } else { "u8" };
    out.ffi_type = format!("*const *const {unit}");
    out.sig = Some(format!("{}: {}", at.name, if optional { option("&[&str]") } else { "&[&str]".into() }));
    ParamKind::InStrings(View { text: text(encoding), optional })
}
