//! C types of the 64-bit prototype as the proxy's Rust FFI types.

use crate::header::{CType, Header, TypeDefKind};

/// A parameter's or result's type on the 64-bit side.
#[derive(Debug, Clone)]
pub(crate) enum Ffi {
    Void,
    /// `i32`, `u64`, `f64`, `bool`...
    Scalar {
        rust: String,
        float: bool,
        signed: bool,
    },
    /// A data pointer (`pointee`: the type it points to, typedefs followed).
    Pointer {
        pointee: CType,
        mutable: bool,
    },
    /// A function pointer: its parameters and result.
    Function {
        params: Vec<Ffi>,
        ret: Box<Ffi>,
    },
}

const VOID_PTR: &str = "::core::ffi::c_void";

impl Ffi {
    /// Its Rust spelling in the export's signature.
    pub fn rust(&self) -> String {
        match self {
            Ffi::Void => "()".into(),
            Ffi::Scalar { rust, .. } => rust.clone(),
            Ffi::Pointer { mutable: true, .. } => format!("*mut {VOID_PTR}"),
            Ffi::Pointer { mutable: false, .. } => format!("*const {VOID_PTR}"),
            Ffi::Function { params, ret } => format!(
                "::core::option::Option<unsafe extern \"C\" fn({}){}>",
                params.iter().map(Ffi::rust).collect::<Vec<_>>().join(", "),
                match &**ret {
                    Ffi::Void => String::new(),
                    r => format!(" -> {}", r.rust()),
                }
            ),
        }
    }

    /// A signed integer (or float) type.
    pub fn signed(&self) -> bool {
        matches!(self, Ffi::Scalar { signed: true, .. })
    }

    /// `v` as a value of this type, if it is one (a pointer from 0 only).
    pub fn literal(&self, v: i64) -> Option<String> {
        match self {
            Ffi::Scalar { rust, float: true, .. } => Some(format!("{v}i64 as {rust}")),
            Ffi::Scalar { rust, .. } if rust == "bool" => Some((v != 0).to_string()),
            Ffi::Scalar { rust, .. } => {
                // Only a value the type holds.
                let fits = match rust.as_str() {
                    "i8" => i8::try_from(v).is_ok(),
                    "u8" => u8::try_from(v).is_ok(),
                    "i16" => i16::try_from(v).is_ok(),
                    "u16" => u16::try_from(v).is_ok(),
                    "i32" => i32::try_from(v).is_ok(),
                    "u32" => u32::try_from(v).is_ok(),
                    "u64" => v >= 0,
                    _ => true,
                };
                fits.then(|| format!("{v}{rust}"))
            }
            Ffi::Pointer { mutable: true, .. } if v == 0 => Some("::core::ptr::null_mut()".into()),
            Ffi::Pointer { mutable: false, .. } if v == 0 => Some("::core::ptr::null()".into()),
            Ffi::Function { .. } if v == 0 => Some("None".into()),
            _ => None,
        }
    }

    /// The C result from the library's own failure `__dllgen_l` (its `ret`: the 32-bit
    /// return value's bits, extended).
    pub fn library_result(&self) -> String {
        match self {
            Ffi::Void => "()".into(),
            Ffi::Scalar { rust, float: true, .. } => {
                format!("f64::from_bits(__dllgen_l.ret as u64) as {rust}")
            }
            Ffi::Scalar { rust, .. } if rust == "bool" => "__dllgen_l.ret != 0".into(),
            Ffi::Scalar { rust, .. } => format!("__dllgen_l.ret as {rust}"),
            // A 32-bit address sign-extended: NULL stays NULL, INVALID_HANDLE_VALUE (-1)
            // stays -1.
            Ffi::Pointer { mutable, .. } => format!(
                "__dllgen_l.ret as i32 as isize as {} {VOID_PTR}",
                if *mutable { "*mut" } else { "*const" }
            ),
            Ffi::Function { .. } => "None".into(),
        }
    }
}

/// The FFI type of `t` (typedefs followed; arrays as the pointers they decay to).
pub(crate) fn ffi(h: &Header, t: &CType) -> Result<Ffi, String> {
    let scalar = |rust: String, float: bool, signed: bool| Ok(Ffi::Scalar { rust, float, signed });
    match h.resolve(t) {
        CType::Void => Ok(Ffi::Void),
        CType::Bool => scalar("bool".into(), false, false),
        CType::Char { signed } => scalar(if *signed { "i8" } else { "u8" }.into(), false, *signed),
        CType::Int { bytes, signed } => {
            scalar(format!("{}{}", if *signed { "i" } else { "u" }, u32::from(*bytes) * 8), false, *signed)
        }
        CType::Float { bytes } => scalar(format!("f{}", u32::from(*bytes) * 8), true, true),
        CType::Pointer { pointee, const_pointee } => match h.resolve(pointee) {
            CType::Function(sig) => {
                if sig.variadic {
                    return Err("a variadic function pointer".into());
                }
                let params = sig.params.iter().map(|p| ffi(h, p)).collect::<Result<Vec<_>, _>>()?;
                Ok(Ffi::Function { params, ret: Box::new(ffi(h, &sig.ret)?) })
            }
            p => Ok(Ffi::Pointer { pointee: p.clone(), mutable: !const_pointee }),
        },
        CType::Array { element, .. } => {
            Ok(Ffi::Pointer { pointee: h.resolve(element).clone(), mutable: true })
        }
        CType::Named { name } => match h.types.get(name).map(|t| &t.kind) {
            Some(TypeDefKind::Enum { underlying, .. }) => ffi(h, underlying),
            Some(TypeDefKind::Struct { .. } | TypeDefKind::Union { .. }) => {
                Err(format!("`{name}` passed by value"))
            }
            _ => Err(format!("`{name}` has no 64-bit type")),
        },
        CType::Function(_) => Err("a function type".into()),
        CType::Unsupported { spelling } => Err(format!("`{spelling}`")),
    }
}

/// The Rust type of a scalar pointee (`int *` → `i32`), if it is one.
pub(crate) fn scalar_pointee(h: &Header, pointee: &CType) -> Option<Ffi> {
    match ffi(h, pointee) {
        Ok(s @ Ffi::Scalar { .. }) => Some(s),
        _ => None,
    }
}
