//! The client's `_async` methods: each blocking method whose arguments can be owned (no
//! `&mut`, no closures) gets a twin taking owned arguments (`String` for `&str`, `Vec<T>`
//! for `&[T]`) and returning a future of the same result, run on a runtime thread
//! (`dllgen_runtime::client::future`).

/// A parameter of the async twin: its `name: Type` and how the blocking method is passed it.
pub struct Owned {
    pub sig: String,
    pub arg: String,
}

/// The async twin's parameter for a blocking method's `sig` (`name: Type`), or `None` when
/// the type cannot be owned and moved to another thread.
pub fn owned(sig: &str) -> Option<Owned> {
    let (name, ty) = sig.split_once(": ")?;
    let ty = ty.trim();
    if ty.contains("&mut") || ty.contains("dyn ") || ty.contains("impl ") || ty.contains('\'') {
        return None;
    }
    // Runtime types (descriptors, retained buffers) stay with the caller.
    if ty.contains("dllgen_runtime") {
        return None;
    }
    let (sig, arg) = match ty {
        "&str" => ("String".to_string(), format!("&{name}")),
        "::core::option::Option<&str>" | "Option<&str>" => {
            ("::core::option::Option<String>".to_string(), format!("{name}.as_deref()"))
        }
        "&[&str]" => {
            ("Vec<String>".to_string(), format!("&{name}.iter().map(String::as_str).collect::<Vec<&str>>()"))
        }
        _ if !ty.contains('&') => (ty.to_string(), name.to_string()),
        _ => {
            if let Some(inner) = ty.strip_prefix("&[").and_then(|t| t.strip_suffix(']')) {
                if inner.contains('&') {
                    return None;
                }
                (format!("Vec<{inner}>"), format!("&{name}"))
            } else if let Some(inner) = option_slice(ty) {
                if inner.contains('&') {
                    return None;
                }
                (format!("::core::option::Option<Vec<{inner}>>"), format!("{name}.as_deref()"))
            } else {
                return None;
            }
        }
    };
    Some(Owned { sig: format!("{name}: {sig}"), arg })
}

/// `T` of `Option<&[T]>`.
fn option_slice(ty: &str) -> Option<&str> {
    let rest = ty.strip_prefix("::core::option::Option<&[").or_else(|| ty.strip_prefix("Option<&["))?;
    rest.strip_suffix("]>")
}

#[cfg(test)]
mod tests {
    use super::owned;

    fn twin(sig: &str) -> Option<(String, String)> {
        owned(sig).map(|o| (o.sig, o.arg))
    }

    #[test]
    fn borrowed_arguments_become_owned_and_the_rest_has_no_twin() {
        assert_eq!(twin("a: i32"), Some(("a: i32".into(), "a".into())));
        assert_eq!(twin("name: &str"), Some(("name: String".into(), "&name".into())));
        assert_eq!(twin("source: &[u8]"), Some(("source: Vec<u8>".into(), "&source".into())));
        assert_eq!(
            twin("v: ::core::option::Option<&[i32]>"),
            Some(("v: ::core::option::Option<Vec<i32>>".into(), "v.as_deref()".into()))
        );
        assert_eq!(twin("s: Option<&str>").unwrap().1, "s.as_deref()");
        assert!(twin("names: &[&str]").unwrap().1.contains("String::as_str"));
        for no in [
            "out: &mut [u8]",
            "f: &mut dyn FnMut(i32)",
            "d: ::dllgen_runtime::marshal::descriptor::Descriptor",
            "x: &'a T",
        ] {
            assert!(twin(no).is_none(), "{no}");
        }
    }
}
