//! The header's constants as `pub const`s of the client (`Z_OK`, `SQLITE_ROW`), typed as C
//! types them on the target. A name that is not a plain Rust identifier, or that the client
//! already uses for something else, is left out (and listed in the crate's docs).

use crate::header::ConstValue;
use crate::model::Constant;
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Serialize)]
pub struct ConstView {
    pub name: String,
    pub ty: String,
    pub value: String,
}

/// The `const`s, and the names left out.
pub fn build(constants: &[Constant], taken: &BTreeSet<String>) -> (Vec<ConstView>, Vec<String>) {
    let mut out = Vec::new();
    let mut left_out = Vec::new();
    for c in constants {
        let plain = c.name.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_')
            && c.name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            && c.name != "_"
            && super::view::ident(&c.name) == c.name
            && !c.name.starts_with(super::view::RESERVED)
            && !taken.contains(&c.name);
        match (plain, view(c)) {
            (true, Some(v)) => out.push(v),
            _ => left_out.push(c.name.clone()),
        }
    }
    (out, left_out)
}

fn view(c: &Constant) -> Option<ConstView> {
    let (ty, value) = match &c.value {
        ConstValue::Int { bytes, signed, .. } => {
            let bits = u32::from(*bytes) * 8;
            if !matches!(bits, 8 | 16 | 32 | 64) {
                return None;
            }
            (format!("{}{bits}", if *signed { "i" } else { "u" }), c.value.int()?.to_string())
        }
        // `long double` (10 or 12 bytes) has no Rust type: left out, never rounded.
        ConstValue::Float { value, bytes: bytes @ (4 | 8) } if value.is_finite() => {
            let ty = if *bytes == 4 { "f32" } else { "f64" };
            (ty.to_string(), format!("{value:?}"))
        }
        ConstValue::Str { bytes } => match std::str::from_utf8(bytes) {
            Ok(s) => ("&str".to_string(), format!("{s:?}")),
            Err(_) => ("&[u8]".to_string(), format!("b\"{}\"", super::kinds::byte_string(bytes))),
        },
        ConstValue::Float { .. } | ConstValue::Pointer { .. } => return None,
    };
    Some(ConstView { name: c.name.clone(), ty, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(name: &str, n: i64, bytes: u8, signed: bool) -> Constant {
        Constant { name: name.into(), value: ConstValue::Int { bits: n as u64, bytes, signed } }
    }

    #[test]
    fn typed_as_c_types_them_and_unusable_names_left_out() {
        let taken: BTreeSet<String> = ["Device".to_string()].into();
        let list = [
            int("Z_ERRNO", -1, 4, true),
            int("MASK", 0xFFFF_FFFF, 4, false),
            int("Device", 1, 4, true),
            int("type", 1, 4, true),
            Constant { name: "V".into(), value: ConstValue::Str { bytes: b"1.2 \"x\"".to_vec() } },
            Constant { name: "B".into(), value: ConstValue::Str { bytes: vec![0xff] } },
            Constant { name: "F".into(), value: ConstValue::Float { value: 0.5, bytes: 8 } },
            Constant { name: "LD".into(), value: ConstValue::Float { value: 0.1, bytes: 12 } },
        ];
        let (views, left) = build(&list, &taken);
        let shown: Vec<String> =
            views.iter().map(|v| format!("{}: {} = {}", v.name, v.ty, v.value)).collect();
        assert_eq!(
            shown,
            [
                "Z_ERRNO: i32 = -1",
                "MASK: u32 = 4294967295",
                "V: &str = \"1.2 \\\"x\\\"\"",
                "B: &[u8] = b\"\\xff\"",
                "F: f64 = 0.5"
            ]
        );
        assert_eq!(left, ["Device", "type", "LD"]);
    }
}
