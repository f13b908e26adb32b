//! Decorated export names, the one place they are recognized.
//!
//! | pattern       | example          | meaning                                          |
//! |---------------|------------------|--------------------------------------------------|
//! | `_name@N`     | `_Open@8`        | stdcall, N argument bytes (MSVC keeps the `_`)   |
//! | `name@N`      | `Open@8`         | stdcall, N argument bytes (mingw drops the `_`)  |
//! | `@name@N`     | `@Open@8`        | fastcall, N argument bytes                       |
//! | `name@@N`     | `Open@@8`        | vectorcall, N argument bytes                     |
//! | `?...`        | `?Open@@YAHH@Z`  | MSVC-mangled C++                                 |
//! | `_Z...`       | `_ZN2io4openEi`  | Itanium-mangled C++ (mingw g++, gcc); C reserves `_Z` |
//!
//! Anything else is an undecorated name: cdecl, or stdcall linked with `--kill-at` / a
//! .def file, which the export table alone cannot tell apart.

use serde::Serialize;

/// What a decorated name says about the function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decoration {
    /// The convention or mangling scheme.
    pub scheme: Scheme,
    /// The C name with the decoration removed; `None` for C++ manglings.
    pub name: Option<String>,
    /// Bytes of arguments the callee pops (stdcall, fastcall, vectorcall).
    pub arg_bytes: Option<u32>,
}

/// The decoration schemes dllgen recognizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// `_name@N` / `name@N`.
    Stdcall,
    /// `@name@N`.
    Fastcall,
    /// `name@@N`.
    Vectorcall,
    /// `?...`: a C++ function or variable, MSVC mangling.
    MsvcCpp,
    /// `_Z...`: a C++ function or variable, Itanium mangling.
    ItaniumCpp,
}

impl Scheme {
    /// A short human name.
    pub fn describe(self) -> &'static str {
        match self {
            Scheme::Stdcall => "stdcall",
            Scheme::Fastcall => "fastcall",
            Scheme::Vectorcall => "vectorcall",
            Scheme::MsvcCpp => "C++ (MSVC mangling)",
            Scheme::ItaniumCpp => "C++ (Itanium mangling)",
        }
    }

    /// Whether this is a C++ mangling rather than a C calling convention.
    pub fn is_cpp(self) -> bool {
        matches!(self, Scheme::MsvcCpp | Scheme::ItaniumCpp)
    }
}

/// Recognizes a decorated name; `None` for an undecorated one.
pub fn parse(name: &str) -> Option<Decoration> {
    let cpp = |scheme| Some(Decoration { scheme, name: None, arg_bytes: None });
    if name.len() > 1 && name.starts_with('?') {
        return cpp(Scheme::MsvcCpp);
    }
    // C reserves identifiers starting with `_` and a capital letter, so `_Z...` is always
    // Itanium mangling (operators included: `_Znwj`, `_ZdlPv`). Mach-O adds one `_`.
    let itanium = name.strip_prefix("__Z").or_else(|| name.strip_prefix("_Z"));
    if itanium.is_some_and(|rest| !rest.is_empty()) {
        return cpp(Scheme::ItaniumCpp);
    }

    let (head, digits) = name.rsplit_once('@')?;
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let arg_bytes: u32 = digits.parse().ok()?;
    let (scheme, base) = if let Some(base) = head.strip_suffix('@') {
        (Scheme::Vectorcall, base)
    } else if let Some(base) = head.strip_prefix('@') {
        (Scheme::Fastcall, base)
    } else {
        (Scheme::Stdcall, head.strip_prefix('_').filter(|b| !b.is_empty()).unwrap_or(head))
    };
    if base.is_empty() || base.contains('@') {
        return None;
    }
    Some(Decoration { scheme, name: Some(base.to_string()), arg_bytes: Some(arg_bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(scheme: Scheme, name: &str, bytes: u32) -> Option<Decoration> {
        Some(Decoration { scheme, name: Some(name.into()), arg_bytes: Some(bytes) })
    }

    #[test]
    fn c_conventions() {
        assert_eq!(parse("_Open@8"), c(Scheme::Stdcall, "Open", 8));
        assert_eq!(parse("fx_add_std@8"), c(Scheme::Stdcall, "fx_add_std", 8));
        assert_eq!(parse("fx_nothing@0"), c(Scheme::Stdcall, "fx_nothing", 0));
        assert_eq!(parse("@fx_fast_add@8"), c(Scheme::Fastcall, "fx_fast_add", 8));
        assert_eq!(parse("Blend@@32"), c(Scheme::Vectorcall, "Blend", 32));
        // A lone underscore is the name itself, not MSVC's prefix.
        assert_eq!(parse("_@4"), c(Scheme::Stdcall, "_", 4));
    }

    #[test]
    fn cpp_manglings() {
        assert_eq!(parse("?twice@fx@@YAHH@Z").unwrap().scheme, Scheme::MsvcCpp);
        assert_eq!(parse("_ZN2fx5twiceEi").unwrap().scheme, Scheme::ItaniumCpp);
        assert_eq!(parse("__ZN2fx5twiceEi").unwrap().scheme, Scheme::ItaniumCpp);
        assert_eq!(parse("_Z4funcv").unwrap().scheme, Scheme::ItaniumCpp);
        assert_eq!(parse("_Znwj").unwrap().scheme, Scheme::ItaniumCpp);
        assert_eq!(parse("_ZdlPv").unwrap().scheme, Scheme::ItaniumCpp);
    }

    #[test]
    fn undecorated() {
        for name in ["fx_add", "_Z", "a@b", "x@", "@", "@@8", "f@123456", "f@1a", "?", "mail@host@4", ""] {
            assert_eq!(parse(name), None, "{name}");
        }
    }
}
