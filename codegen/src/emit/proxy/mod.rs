//! The proxy library's view (`templates/proxy_lib.rs.hbs`): a 64-bit `cdylib` exporting
//! each function of the spec under its C name with the prototype of the header as
//! compiled for the 64-bit target, so an unmodified program uses the 32-bit library.
//!
//! Each export converts its C arguments into the typed client's (reading the caller's
//! memory with the lengths the spec gives), calls the typed method, and writes the results
//! where the caller expects them: one marshaling path for the Rust client and the proxy.
//! The model stays the 32-bit one; the 64-bit types come from the header parsed a second
//! time ([`crate::check::Checked::header64`]), never from the 32-bit ones. A function whose
//! shapes the proxy cannot yet take is left out, with its reason in the crate's docs.

mod callback;
mod ctype;
mod params;
mod structs;

use super::view::{self, Crates};
use crate::header::Header;
use crate::model::{self, ErrorWhen, Model};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) use ctype::Ffi;

/// What the proxy is generated from besides the model.
pub struct Input<'a> {
    /// The header as parsed for the 64-bit target.
    pub header: &'a Header,
    /// The output file's name (`libz.so.1`, `zlib1.dll`).
    pub file: String,
    /// `proxy_error` by function.
    pub errors: BTreeMap<String, i64>,
    /// `proxy: { error }`: for the functions whose error rule calls it a failure.
    pub default_error: Option<i64>,
    /// Variants the spec declares (not the library's own names).
    pub variants: BTreeSet<String>,
    /// The spec's `fixed:` expressions as the 64-bit caller computes them (its
    /// `sizeof(z_stream)`), by function and parameter.
    pub fixed: BTreeMap<(String, String), i64>,
}

/// The proxy crate.
#[derive(Debug, Serialize)]
pub struct ProxyView {
    /// `demo-proxy`.
    pub crate_name: String,
    /// The cargo library name (`demo` for `libdemo.so.1`, `zlib1` for `zlib1.dll`).
    pub lib_name: String,
    /// The file name it is installed as, and on Linux its soname.
    pub file: String,
    pub soname: Option<String>,
    /// The client crate's library name (`demo_client`) and type (`Demo`).
    pub client_lib: String,
    pub client_type: String,
    pub functions: Vec<ProxyFn>,
    /// Structs converted between the caller's 64-bit layout and the client's type.
    pub structs: Vec<structs::StructConv>,
    /// Free functions the caller frees the proxy's allocations with (`demo_free`): the C
    /// runtime's `free`, exported under the library's name.
    pub frees: Vec<String>,
    /// "`f`: why", for each function left out.
    pub left_out: Vec<String>,
    /// The functions exported, for the `.def` file (sorted).
    pub exports: Vec<String>,
}

/// One exported function.
#[derive(Debug, Serialize)]
pub struct ProxyFn {
    pub c_name: String,
    pub doc: Vec<String>,
    /// `a: i32, b: *mut c_void` (the 64-bit prototype).
    pub params: String,
    /// The parameter names, joined, as the body function takes them.
    pub args: String,
    /// The C return type (`()` for void).
    pub ret: String,
    /// The body's statements, ending with the `Ok` of the C result.
    pub body: Vec<String>,
    /// The C result from `__dllgen_l`, the library's failure (its error rule fired).
    pub on_library: String,
    /// The C result when the proxy could not make the call (an expression, or an abort).
    pub on_failure: String,
    /// The error rule's `Code`, as `Some(path)` or `None`.
    pub code: String,
}

/// The body under construction: statements before the call, the typed arguments,
/// statements after it.
#[derive(Default)]
pub(crate) struct Body {
    /// Checks of the C arguments alone, first (a count that does not fit the library's
    /// type is refused before any buffer it sizes is looked at).
    pub checks: Vec<String>,
    pub before: Vec<String>,
    pub args: Vec<String>,
    /// Callback contexts already made (one per context and destroy function: the closures
    /// of one registration share it, and the destroy function runs once, after the last).
    pub contexts: BTreeSet<String>,
    pub after: Vec<String>,
}

/// Builds the proxy's view, or says why there is nothing to build.
pub fn build(m: &Model, crates: &Crates, input: &Input<'_>) -> ProxyView {
    let client_lib = crates.client_crate.replace('-', "_");
    let mut structs = structs::Structs::new(m, crates, input.header);
    let mut functions = Vec::new();
    let mut left_out = Vec::new();
    let mut frees = BTreeSet::new();
    for f in &m.functions {
        if input.variants.contains(&f.c_name) {
            left_out
                .push(format!("`{}`: a variant the spec declares, not one of the library's names", f.c_name));
            continue;
        }
        let Some(vf) = crates.functions.iter().find(|v| v.c_name == f.c_name) else { continue };
        match function(f, vf, input, &mut structs, &mut frees) {
            Ok(pf) => functions.push(pf),
            Err(why) => left_out.push(format!("`{}`: {why}", f.c_name)),
        }
    }
    // A free function the spec also lists frees the proxy's copies either way.
    functions.retain(|f| !frees.contains(&f.c_name));
    let mut exports: Vec<String> =
        functions.iter().map(|f| f.c_name.clone()).chain(frees.iter().cloned()).collect();
    exports.push("dllgen_last_error_message".into());
    exports.sort();
    let windows = m.format == "pe";
    ProxyView {
        crate_name: format!("{}-proxy", crates.client_crate.strip_suffix("-client").unwrap_or(&m.name)),
        lib_name: lib_name(&input.file, windows),
        soname: (!windows).then(|| input.file.clone()),
        file: input.file.clone(),
        client_lib,
        client_type: crates.client_type.clone(),
        functions,
        structs: structs.used(),
        frees: frees.into_iter().collect(),
        left_out,
        exports,
    }
}

/// The cargo library name giving the file cargo writes: `libdemo.so.1` → `demo`
/// (`libdemo.so`, linked as `-ldemo`), `zlib1.dll` → `zlib1`.
fn lib_name(file: &str, windows: bool) -> String {
    let stem = if windows {
        file.rsplit_once('.').map_or(file, |(s, _)| s)
    } else {
        let s = file.strip_prefix("lib").unwrap_or(file);
        s.split(".so").next().unwrap_or(s)
    };
    let name: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

fn function(
    f: &model::Function,
    vf: &view::Function,
    input: &Input<'_>,
    structs: &mut structs::Structs<'_>,
    frees: &mut BTreeSet<String>,
) -> Result<ProxyFn, String> {
    let h = input.header;
    let hf = h.function(&f.c_name).ok_or("not declared in the header as parsed for 64 bits")?;
    if hf.variadic {
        return Err("variadic".into());
    }
    if hf.params.len() != f.params.len() {
        return Err("its 64-bit prototype has another number of parameters".into());
    }
    let mut body = Body::default();
    let mut c_params = Vec::new();
    let mut names = Vec::new();
    for (i, p) in f.params.iter().enumerate() {
        let t64 = ctype::ffi(h, &hf.params[i].ty).map_err(|e| format!("parameter `{}`: {e}", p.name))?;
        let name = view::ident(&p.name);
        c_params.push(format!("{name}: {}", t64.rust()));
        names.push(name);
        let cx = params::At {
            f,
            vf,
            index: i,
            h,
            hf,
            structs: &mut *structs,
            fixed: &input.fixed,
            frees: &mut *frees,
        };
        params::param(cx, &t64, &mut body)?;
    }
    let ret64 = ctype::ffi(h, &hf.ret).map_err(|e| format!("its result: {e}"))?;
    let (ret_expr, library_ret) = params::ret(f, vf, &ret64, frees)?;
    // The typed call, its results bound to the locals the write-back reads.
    let call = format!("__dllgen_client().{}({})?", vf.method, body.args.join(", "));
    let bind = match (vf.client_values.len(), vf.single) {
        (0, _) => format!("let () = {call};"),
        (_, true) => format!("let {} = {call};", vf.client_values[0]),
        _ => format!("let ({},) = {call};", vf.client_values.join(", ")),
    };
    let mut stmts = body.checks;
    stmts.extend(body.before);
    // The client takes the results with a library failure too: written back as the
    // library left them, then the failure is the C result (`__dllgen_lf`).
    stmts.push("let _ = ::dllgen_runtime::client::library_failure();".into());
    stmts.push(bind);
    stmts.push("let __dllgen_lf = ::dllgen_runtime::client::library_failure();".into());
    stmts.extend(body.after);
    stmts.push("if let Some(__dllgen_l) = __dllgen_lf { return Err(::dllgen_runtime::proxy::Failure::Library(__dllgen_l)); }".into());
    stmts.push(format!("Ok({ret_expr})"));
    let code = match f.error.as_ref().map(|e| e.code) {
        Some("errno") => "Some(::dllgen_runtime::marshal::error::Code::Errno)",
        Some("last_error") => "Some(::dllgen_runtime::marshal::error::Code::LastError)",
        Some(_) => "Some(::dllgen_runtime::marshal::error::Code::Return)",
        None => "None",
    };
    let on_failure = failure_value(f, &ret64, input.errors.get(&f.c_name).copied(), input.default_error)?;
    Ok(ProxyFn {
        c_name: f.c_name.clone(),
        doc: vf.doc.clone(),
        params: c_params.join(", "),
        args: names.join(", "),
        ret: ret64.rust(),
        body: stmts,
        on_library: library_ret,
        on_failure,
        code: code.into(),
    })
}

/// What a call the proxy could not make returns: the function's `proxy_error`, else the
/// spec's `proxy: { error }` when the function's error rule calls it a failure, else the
/// value the rule names (0 / NULL for `zero` and `null`, -1 for `negative`), else the
/// process stops with the reason (nothing else would tell the caller).
fn failure_value(
    f: &model::Function,
    ret: &Ffi,
    explicit: Option<i64>,
    default: Option<i64>,
) -> Result<String, String> {
    let abort = format!("::dllgen_runtime::proxy::abort(\"{}\")", super::rust_str(&f.c_name));
    if let Some(v) = explicit {
        return match ret {
            Ffi::Void => Err("`proxy_error` is set, but it returns nothing".into()),
            _ => ret
                .literal(v)
                .ok_or_else(|| format!("`proxy_error: {v}` is not a value of its {}", ret.rust())),
        };
    }
    let fails = |v: i64| match f.error.as_ref().map(|e| &e.when) {
        Some(ErrorWhen::Negative) => v < 0,
        Some(ErrorWhen::Zero | ErrorWhen::Null) => v == 0,
        Some(ErrorWhen::Nonzero) => v != 0,
        Some(ErrorWhen::Not { values }) => !values.contains(&v),
        None => false,
    };
    let from_spec =
        default.filter(|v| fails(*v) && !matches!(ret, Ffi::Pointer { .. } | Ffi::Function { .. }));
    let named = match f.error.as_ref().map(|e| &e.when) {
        Some(ErrorWhen::Zero | ErrorWhen::Null) => ret.literal(0),
        Some(ErrorWhen::Negative) if ret.signed() => ret.literal(-1),
        _ => None,
    };
    Ok(from_spec.and_then(|v| ret.literal(v)).or(named).unwrap_or(abort))
}

/// The module-definition file for Windows linkers (`lib /def:`, `dlltool -d`): the library
/// name and every export.
pub fn def_file(p: &ProxyView) -> String {
    let mut out = format!("; generated by dllgen; do not edit\nLIBRARY {}\nEXPORTS\n", p.file);
    for e in &p.exports {
        out.push_str(&format!("    {e}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_file_names_the_cargo_library() {
        assert_eq!(lib_name("libz.so.1", false), "z");
        assert_eq!(lib_name("libsqlite3.so.0", false), "sqlite3");
        assert_eq!(lib_name("libdemo.so", false), "demo");
        assert_eq!(lib_name("zlib1.dll", true), "zlib1");
        assert_eq!(lib_name("my-lib.dll", true), "my_lib");
        assert_eq!(lib_name("7z.dll", true), "_7z");
    }

    fn function(when: Option<ErrorWhen>) -> model::Function {
        model::Function {
            c_name: "f".into(),
            rust_name: "f".into(),
            symbol: model::Symbol::Name { name: "f".into() },
            convention: model::Convention::Cdecl,
            params: Vec::new(),
            ret: model::Return::Void,
            error: when.map(|when| model::ErrorRule { when, code: "return" }),
            doc: None,
        }
    }

    #[test]
    fn a_failure_value_is_one_the_rule_calls_a_failure() {
        let int = Ffi::Scalar { rust: "i32".into(), float: false, signed: true };
        let uint = Ffi::Scalar { rust: "u32".into(), float: false, signed: false };
        let ptr = Ffi::Pointer { pointee: crate::header::CType::Void, mutable: true };
        let value =
            |w, t: &Ffi, explicit, default| failure_value(&function(w), t, explicit, default).unwrap();
        assert_eq!(value(Some(ErrorWhen::Negative), &int, None, None), "-1i32");
        assert_eq!(value(Some(ErrorWhen::Zero), &int, None, None), "0i32");
        assert_eq!(value(Some(ErrorWhen::Null), &ptr, None, None), "::core::ptr::null_mut()");
        // The spec's default only where the rule calls it a failure.
        assert_eq!(value(Some(ErrorWhen::Nonzero), &int, None, Some(1)), "1i32");
        assert_eq!(value(Some(ErrorWhen::Negative), &int, None, Some(1)), "-1i32");
        assert_eq!(value(Some(ErrorWhen::Not { values: vec![100, 101] }), &int, None, Some(1)), "1i32");
        assert!(value(Some(ErrorWhen::Not { values: vec![1] }), &int, None, Some(1)).contains("abort"));
        // No rule, or none naming a value: the process stops rather than make one up.
        assert!(value(None, &int, None, Some(1)).contains("abort(\"f\")"));
        assert!(value(Some(ErrorWhen::Negative), &uint, None, None).contains("abort"));
        // The function's own value wins, if its type holds it.
        assert_eq!(value(None, &int, Some(7), None), "7i32");
        assert!(failure_value(&function(None), &uint, Some(-1), None).is_err());
        assert!(failure_value(&function(None), &Ffi::Void, Some(0), None).is_err());
    }

    #[test]
    fn the_librarys_own_failure_keeps_its_value() {
        let long = Ffi::Scalar { rust: "i64".into(), float: false, signed: true };
        assert_eq!(long.library_result(), "__dllgen_l.ret as i64");
        let ptr = Ffi::Pointer { pointee: crate::header::CType::Void, mutable: false };
        assert!(ptr.library_result().contains("as i32 as isize"), "a 32-bit address sign-extended");
        let f = Ffi::Scalar { rust: "f32".into(), float: true, signed: true };
        assert!(f.library_result().starts_with("f64::from_bits"));
    }
}
