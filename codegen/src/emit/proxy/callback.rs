//! A callback the library calls during the call it was passed to: the caller's 64-bit
//! function pointer, wrapped in a closure of the typed client's closure type.

use super::ctype::Ffi;
use super::params::At;
use super::Body;
use crate::emit::kinds::callback::CbKind;
use crate::emit::kinds::ParamKind;
use crate::emit::rust_str;
use crate::emit::view::ident;
use crate::model::Kind;

const P: &str = "::dllgen_runtime::proxy";

/// The closure for callback parameter `at` (of the caller's type `t64`), added to `b`.
pub(crate) fn param(
    at: &At<'_, '_>,
    t64: &Ffi,
    callback: &str,
    optional: bool,
    b: &mut Body,
) -> Result<(), String> {
    let p = &at.f.params[at.index];
    let ParamKind::Callback(view) = &at.vf.params[at.index].kind else {
        return Err(format!("callback `{callback}` cannot be generated"));
    };
    let Ffi::Function { params: c_params, ret: c_ret } = t64 else {
        return Err("not a function pointer on 64 bits".into());
    };
    let cb = &view.cb;
    let what = rust_str(&format!("`{}`'s callback `{}`", at.f.c_name, p.name));
    // The context the caller passed with it.
    let context =
        at.f.params
            .iter()
            .find(|q| matches!(&q.kind, Kind::UserData { of } if *of == p.name))
            .map(|q| ident(&q.name));
    let mut closure_params = Vec::new();
    let mut prep = Vec::new();
    let mut c_args = Vec::new();
    for (i, c_param) in c_params.iter().enumerate() {
        let Some(cp) = cb.params.iter().find(|q| q.name == format!("a{i}")) else {
            return Err(format!("callback `{callback}`: argument {i} cannot be generated"));
        };
        let a = &cp.name;
        match &cp.kind {
            CbKind::UserData {} => {
                let ctx = context.clone().ok_or("its context is not a parameter of the call (not yet)")?;
                c_args.push(format!("{ctx} as {}", c_param.rust()));
            }
            CbKind::Value { rust } => {
                closure_params.push(format!("{a}: {rust}"));
                match c_param {
                    Ffi::Scalar { rust: r64, .. } if r64 == rust => c_args.push(a.clone()),
                    Ffi::Scalar { rust: r64, float: false, .. } if rust != "bool" && r64 != "bool" => {
                        c_args.push(format!("{P}::answer::<{r64}, _>({a}, \"{what}\")"))
                    }
                    _ => {
                        return Err(format!(
                            "callback `{callback}`: argument {i} has another type on 64 bits"
                        ))
                    }
                }
            }
            CbKind::String { text, optional } if !text.ends_with("Utf16") => {
                closure_params.push(format!(
                    "{a}: {}",
                    if *optional { "::core::option::Option<&str>" } else { "&str" }
                ));
                let s = if *optional { a.clone() } else { format!("Some({a})") };
                prep.push(format!("let __dllgen_s{i} = {P}::CText::new({s});"));
                c_args.push(format!("__dllgen_s{i}.as_ptr() as {}", c_param.rust()));
            }
            CbKind::Strings { text, .. } if !text.ends_with("Utf16") => {
                closure_params.push(format!("{a}: &[::core::option::Option<::std::string::String>]"));
                prep.push(format!("let mut __dllgen_s{i} = {P}::CTexts::new({a});"));
                c_args.push(format!("__dllgen_s{i}.as_mut_ptr() as {}", c_param.rust()));
            }
            CbKind::Handle { handle, .. } => {
                closure_params.push(format!("{a}: __dllgen_c::{handle}"));
                c_args.push(format!(
                    "::dllgen_runtime::marshal::handle::ClientHandle::id({a}) as usize as {}",
                    c_param.rust()
                ));
            }
            _ => return Err(format!("callback `{callback}`: argument {i} (not yet)")),
        }
    }
    let (ret_ty, answer) = match (&cb.ret_rust[..], &**c_ret) {
        ("()", Ffi::Void) => ("()".to_string(), "__dllgen_r".to_string()),
        (r32, Ffi::Scalar { rust: r64, .. }) if r32 == r64 => (r32.to_string(), "__dllgen_r".to_string()),
        (r32, Ffi::Scalar { float: false, rust: r64, .. }) if r32 != "bool" && r64 != "bool" => {
            (r32.to_string(), format!("{P}::answer::<{r32}, _>(__dllgen_r, \"{what}\")"))
        }
        _ => return Err(format!("callback `{callback}`: its result has another type on 64 bits")),
    };
    let raw = ident(&p.name);
    let k = format!("__dllgen_k_{}", p.name);
    b.before.push(format!(
        "let mut {k} = match {raw} {{ Some(__dllgen_f) => Some(move |{}| -> {ret_ty} {{ {} \
         // SAFETY: the caller's function, called with its 64-bit prototype during the call it was passed to.\n\
         let __dllgen_r = unsafe {{ __dllgen_f({}) }}; {answer} }}), None => None }};",
        closure_params.join(", "),
        prep.join(" "),
        c_args.join(", ")
    ));
    let typed = format!("{k}.as_mut().map(|__dllgen_k| __dllgen_k as &mut __dllgen_c::{}<'_>)", cb.name);
    b.args.push(if optional {
        typed
    } else {
        format!(
            "{typed}.ok_or_else(|| {P}::refuse(\"{what}\", \"NULL where the library needs a function\"))?"
        )
    });
    Ok(())
}
