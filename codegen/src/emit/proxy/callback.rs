//! A callback: the caller's 64-bit function pointer, wrapped in a closure of the typed
//! client's closure type. One the library keeps past the call owns the caller's context
//! (and its destroy function, called when the library lets go of the callback).

use super::ctype::Ffi;
use super::params::At;
use super::Body;
use crate::emit::kinds::callback::CbKind;
use crate::emit::kinds::ParamKind;
use crate::emit::rust_str;
use crate::emit::view::ident;
use crate::model::{self, Kind};

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
                context.as_ref().ok_or("its context is not a parameter of the call (not yet)")?;
                c_args.push(format!("__dllgen_ctx.get() as {}", c_param.rust()));
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
            // An array the library passes with its count (another argument): the caller's
            // function reads the elements where the client has them.
            CbKind::Buffer { rust, elem_size, .. }
                if matches!(
                    rust.as_str(),
                    "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64" | "f32" | "f64"
                ) =>
            {
                let same = match c_param {
                    Ffi::Pointer { pointee: crate::header::CType::Void, .. } => *elem_size == 1,
                    Ffi::Pointer { pointee, .. } => {
                        matches!(super::ctype::scalar_pointee(at.h, pointee), Some(Ffi::Scalar { rust: r, .. }) if r[1..] == rust[1..])
                    }
                    _ => false,
                };
                if !same {
                    return Err(format!("callback `{callback}`: argument {i}'s elements differ on 64 bits"));
                }
                closure_params.push(format!("{a}: &[{rust}]"));
                c_args.push(format!("{a}.as_ptr() as {}", c_param.rust()));
            }
            // Handles the library passes as an array (`sqlite3_value **argv`): their ids.
            CbKind::Handles { handle, .. } => {
                closure_params.push(format!("{a}: &[__dllgen_c::{handle}]"));
                prep.push(format!(
                    "let __dllgen_h{i}: ::std::vec::Vec<*mut ::core::ffi::c_void> = {a}.iter().map(|__dllgen_h| ::dllgen_runtime::marshal::handle::ClientHandle::id(*__dllgen_h) as usize as *mut ::core::ffi::c_void).collect();"
                ));
                c_args.push(format!("__dllgen_h{i}.as_ptr() as {}", c_param.rust()));
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
    let kept = view.kept.is_some();
    // The context (with the destroy function the library calls when it lets go, if the
    // scope names one), owned by the closure.
    let destroy = match &p.kind {
        Kind::Callback { scope: model::Scope::Destroy { param }, .. } => Some(param.clone()),
        _ => None,
    };
    // The callbacks one destroy function ends share their registration's context (only
    // one of them names it: sqlite3's xFunc, xStep and xFinal have one pApp).
    let context = context.or_else(|| {
        let d = destroy.as_ref()?;
        at.f.params.iter().find_map(|q| match &q.kind {
            Kind::UserData { of } => at.f.params.iter().any(|c| {
                c.name == *of
                    && matches!(&c.kind, Kind::Callback { scope: model::Scope::Destroy { param }, .. } if param == d)
            })
            .then(|| ident(&q.name)),
            _ => None,
        })
    });
    let destroy = destroy.map(|d| ident(&d));
    let shared = format!(
        "__dllgen_cx_{}_{}",
        context.as_deref().unwrap_or("none"),
        destroy.as_deref().unwrap_or("none")
    );
    if b.contexts.insert(shared.clone()) {
        // (A context may be an integer: `intptr_t`, LPARAM.)
        let c = context.as_ref().map_or_else(
            || "::core::ptr::null_mut()".to_string(),
            |c| format!("{c} as *mut ::core::ffi::c_void"),
        );
        let d = destroy.clone().unwrap_or_else(|| "None".into());
        b.before.push(format!("let {shared} = ::std::sync::Arc::new({P}::Context::new({c}, {d}));"));
    }
    let ctx = format!("{shared}.clone()");
    // The closure owns the context even when it never passes it (sqlite3's xFunc reads it
    // with sqlite3_user_data): dropping it is what runs the destroy function.
    let closure = format!(
        "move |{}| -> {ret_ty} {{ let _ = &__dllgen_ctx; {} \
         // SAFETY: the caller's function, called with its 64-bit prototype while the library may call it.\n\
         let __dllgen_r = unsafe {{ __dllgen_f({}) }}; {answer} }}",
        closure_params.join(", "),
        prep.join(" "),
        c_args.join(", ")
    );
    if kept {
        b.before.push(format!(
            "let {k} = match {raw} {{ Some(__dllgen_f) => {{ let __dllgen_ctx = {ctx}; \
             Some(::std::boxed::Box::new({closure}) as ::std::boxed::Box<__dllgen_c::{}Kept>) }} None => None }};",
            cb.name
        ));
    } else {
        b.before.push(format!(
            "let mut {k} = match {raw} {{ Some(__dllgen_f) => {{ let __dllgen_ctx = {ctx}; Some({closure}) }} None => None }};"
        ));
    }
    let typed = if kept {
        k.clone()
    } else {
        format!("{k}.as_mut().map(|__dllgen_k| __dllgen_k as &mut __dllgen_c::{}<'_>)", cb.name)
    };
    b.args.push(if optional {
        typed
    } else {
        format!(
            "{typed}.ok_or_else(|| {P}::refuse(\"{what}\", \"NULL where the library needs a function\"))?"
        )
    });
    Ok(())
}
