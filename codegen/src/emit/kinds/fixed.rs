//! Kind `fixed`: an argument the client never sees; the host passes a constant
//! (`templates/kinds/fixed.hbs`).

use super::{host_value, At, Param, ParamKind};
use crate::emit::view::{Cx, RT};
use crate::model::{self, Fixed};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The argument, as a Rust expression of the host's parameter type.
    pub arg: String,
}

pub(super) fn view(at: &At<'_>, fixed: &Fixed, cx: &mut Cx, out: &mut Param) -> ParamKind {
    let arg = match fixed {
        Fixed::Int { value, scalar } => {
            let t = cx.value(&model::Value::Scalar { scalar: scalar.clone() }, &at.what).unwrap_or_default();
            out.ffi_type = host_value(&t);
            if t.is_bool {
                (*value != 0).to_string()
            } else {
                format!("{value}i64 as {}", out.ffi_type)
            }
        }
        Fixed::Address { address } => {
            out.ffi_type = "*const ::core::ffi::c_void".into();
            format!("{RT}::marshal::fixed::address({address:#x})")
        }
        Fixed::Str { bytes } => {
            out.ffi_type = "*const ::core::ffi::c_void".into();
            format!("{RT}::marshal::fixed::string(b\"{}\\0\")", byte_string(bytes))
        }
    };
    ParamKind::Fixed(View { arg })
}

/// The inside of a Rust byte-string literal holding `bytes`.
pub(crate) fn byte_string(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'"' => "\\\"".to_string(),
            b'\\' => "\\\\".to_string(),
            0x20..=0x7e => (b as char).to_string(),
            _ => format!("\\x{b:02x}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn byte_strings_escape_what_a_literal_cannot_hold() {
        assert_eq!(super::byte_string(b"1.2.13"), "1.2.13");
        assert_eq!(super::byte_string(b"a\"b\\c\n\xff"), "a\\\"b\\\\c\\x0a\\xff");
    }
}
