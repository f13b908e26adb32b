//! Kind `callback` (`templates/kinds/callback.hbs`), and the callback types themselves:
//! their arguments (`templates/kinds/cb_*.hbs`) and result.

use super::{host_value, option, text, At, Param, ParamKind};
use crate::emit::view::{abi, camel, Cx};
use crate::model::{self, Kind, Return, Value};
use crate::spec::Encoding;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct View {
    /// The id the host calls it by (the parameter's index).
    pub cb_id: usize,
    /// The host trampoline's name.
    pub tramp: String,
    /// Its function-pointer type.
    pub fn_type: String,
    pub optional: bool,
    /// The client's local saying whether it was given.
    pub given: String,
    /// The function's index and C name.
    pub function: u32,
    pub c_name: String,
    pub cb: CallbackView,
    /// Kept past the call: how the client registers it and the host finds it.
    pub kept: Option<KeptView>,
}

/// A kept callback parameter.
#[derive(Debug, Serialize)]
pub struct KeptView {
    /// Its id in callback frames, unique in the library (any call may run it):
    /// `0x8000_0000 | function << 8 | parameter`.
    pub id: u32,
    /// The trampoline's argument carrying the context (`a2`).
    pub context: String,
    /// What the library gets when no closure answers (a host expression).
    pub default: String,
    /// "`f`'s callback `p`", escaped for a Rust string literal.
    pub what: String,
    /// Released after its first call (`scope: once`).
    pub once: bool,
}

/// A callback type: the client's closure type and what the host's trampolines need.
#[derive(Debug, Clone, Serialize)]
pub struct CallbackView {
    pub c_name: String,
    /// The client's `dyn FnMut` alias.
    pub name: String,
    pub abi: &'static str,
    pub params: Vec<CbParam>,
    /// The closure's argument types, joined.
    pub closure_args: String,
    /// The result: client type and host type (`()` for none).
    pub ret_rust: String,
    pub ret_host: String,
    /// Some use keeps it past the call: the client has a `Send` alias for it too.
    pub kept: bool,
    /// What the library gets when no closure answers (`None`: zero).
    #[serde(skip)]
    pub default: Option<i64>,
    /// Its context comes from a library function (`sqlite3_user_data(arg0)`): the host's
    /// expression for it.
    #[serde(skip)]
    pub context_call: Option<String>,
}

/// A library function a kept callback's context comes from (`sqlite3_user_data`): the
/// host resolves it at start-up into `__DLLGEN_CONTEXT_<index>`.
#[derive(Debug, Clone, Serialize)]
pub struct ContextView {
    pub index: usize,
    pub symbol: String,
    pub abi: &'static str,
}

/// A callback argument: `a0`, `a1`... and its kind.
#[derive(Debug, Clone, Serialize)]
pub struct CbParam {
    pub name: String,
    pub ffi_type: String,
    #[serde(flatten)]
    pub kind: CbKind,
}

/// One variant per kind a callback argument can have; the variant's name is its partial's.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind")]
pub enum CbKind {
    #[serde(rename = "cb_value")]
    Value { rust: String },
    #[serde(rename = "cb_string")]
    String { text: String, optional: bool },
    #[serde(rename = "cb_user_data")]
    UserData {},
    /// A handle the library passes: the client gets its id (the same object keeps its id).
    #[serde(rename = "cb_handle")]
    Handle { handle: String, handle_kind: u32 },
    /// `char **argv` with its count: `count_host` is the host's expression for it (over `a0`...).
    #[serde(rename = "cb_strings")]
    Strings { text: String, count_host: String },
    /// An array of numbers or structs with its count (`count_host`, over `a0`...): `&[T]`.
    #[serde(rename = "cb_buffer")]
    Buffer { rust: String, host: String, elem_size: u64, count_host: String },
    /// An array of handles with its count: `&[H]` (each the id the client holds for it).
    #[serde(rename = "cb_handles")]
    Handles { handle: String, handle_kind: u32, count_host: String },
    /// A `T **` the closure fills with a buffer of its own (`&mut Vec<T>`); the callback's
    /// result counts its elements. `slot`: where the host keeps it until the next call.
    #[serde(rename = "cb_provide")]
    Provide { rust: String, host: String, elem_size: u64, slot: u32 },
    /// A pointer to one value the closure reads (`&T`, `Option<&T>` when optional).
    #[serde(rename = "cb_in")]
    In { rust: String, host: String, optional: bool },
    /// A pointer to one value the closure fills (`out`) or updates (`inout`: `send`), written
    /// back to the library's pointer when it returns.
    #[serde(rename = "cb_out")]
    Out { rust: String, host: String, send: bool },
}

pub(super) fn view(
    at: &At<'_>,
    callback: &str,
    optional: bool,
    scope: &model::Scope,
    fn_index: u32,
    cx: &mut Cx,
    out: &mut Param,
) -> ParamKind {
    let cb = match cx.callbacks.get(callback) {
        Some(cb) => cb.clone(),
        None => {
            cx.unsupported.push(format!("{}: callback `{callback}` cannot be generated", at.what));
            return ParamKind::UserData(super::user_data::View { kept: false });
        }
    };
    let fn_type = format!(
        "unsafe extern \"{}\" fn({}){}",
        cb.abi,
        cb.params.iter().map(|p| p.ffi_type.clone()).collect::<Vec<_>>().join(", "),
        if cb.ret_host == "()" { String::new() } else { format!(" -> {}", cb.ret_host) }
    );
    out.ffi_type = format!("::core::option::Option<{fn_type}>");
    let kept = (!scope.is_call()).then(|| {
        let context = cb.params.iter().position(|p| matches!(p.kind, CbKind::UserData {}));
        let default = match (&cb.ret_host[..], cb.default) {
            ("()", _) => "()".to_string(),
            (t, d) => format!("({}i64) as {t}", d.unwrap_or(0)),
        };
        KeptView {
            id: 0x8000_0000 | (fn_index << 8) | at.index as u32,
            context: cb.context_call.clone().unwrap_or_else(|| format!("a{}", context.unwrap_or(0))),
            default,
            what: super::super::rust_str(&format!("`{}`'s callback `{}`", at.f.c_name, at.p.name)),
            once: *scope == model::Scope::Once,
        }
    });
    if kept.is_some() && at.index > 0xff {
        cx.unsupported.push(format!("{}: a kept callback past the 256th parameter", at.what));
    }
    let closure = match kept {
        Some(_) => format!("::std::boxed::Box<{}Kept>", cb.name),
        None => format!("&mut {}<'_>", cb.name),
    };
    out.sig = Some(format!("{}: {}", at.name, if optional { option(&closure) } else { closure }));
    ParamKind::Callback(View {
        kept,
        cb_id: at.index,
        tramp: format!("__dllgen_callback_{fn_index}_{}", at.index),
        fn_type,
        optional,
        given: format!("__dllgen_g_{}", at.p.name),
        function: fn_index,
        c_name: at.f.c_name.clone(),
        cb,
    })
}

/// What a function that keeps callbacks does with their one registration (sent once,
/// after the parameters). Without `handle` it is handed to the library for good after the
/// call (`destroy` and `forever` scopes).
#[derive(Debug, Serialize)]
pub struct FnKept {
    /// Kept on a handle's slot once the call succeeded (`handle` scope).
    pub handle: Option<KeptOn>,
}

/// The handle a registration is kept on, and the slot (hook) it fills there.
#[derive(Debug, Serialize)]
pub struct KeptOn {
    pub handle_local: String,
    pub handle_kind: u32,
    pub slot: u32,
}

/// The registration view of `f` (`None`: it keeps no callback).
pub(crate) fn fn_kept(f: &model::Function, cx: &mut Cx) -> Option<FnKept> {
    let handle = match f.kept_scope()? {
        model::Scope::Handle { param, slot } => {
            let handle = f.params.iter().find(|q| q.name == *param).and_then(|q| match &q.kind {
                Kind::Handle { handle, .. } => Some(handle),
                _ => None,
            })?;
            Some(KeptOn {
                handle_local: super::local(param),
                handle_kind: cx.handle_kind(handle),
                // `slot: none`: no slot, every registration kept until the handle closes.
                slot: if slot == model::NO_SLOT {
                    u32::MAX
                } else {
                    cx.hook_slots.get(slot).copied().unwrap_or_default()
                },
            })
        }
        _ => None,
    };
    Some(FnKept { handle })
}

/// A callback type: `kx_progress_fn` → `KxProgressFn`, `dyn FnMut(i32) -> i32`.
pub(crate) fn callback_type(c: &model::Callback, kept: bool, cx: &mut Cx) -> CallbackView {
    let what = format!("callback `{}`", c.name);
    let mut params = Vec::new();
    let mut closure_args = Vec::new();
    for (i, p) in c.params.iter().enumerate() {
        let (ffi_type, kind) = match &p.kind {
            Kind::Value { value: value @ Value::Scalar { .. } } => {
                let t = cx.value(value, &what).unwrap_or_default();
                closure_args.push(t.rust.clone());
                (host_value(&t), CbKind::Value { rust: t.rust })
            }
            Kind::InString { encoding, optional } => {
                closure_args.push(if *optional { option("&str") } else { "&str".into() });
                let ffi = if *encoding == Encoding::Utf16 { "*const u16" } else { "*const u8" };
                (ffi.to_string(), CbKind::String { text: text(*encoding), optional: *optional })
            }
            Kind::UserData { .. } => ("*mut ::core::ffi::c_void".to_string(), CbKind::UserData {}),
            Kind::Handle { handle, .. } => {
                closure_args.push(handle.clone());
                (
                    "*mut ::core::ffi::c_void".to_string(),
                    CbKind::Handle { handle: handle.clone(), handle_kind: cx.handle_kind(handle) },
                )
            }
            Kind::In { value, optional, retain: _ } => {
                let Some(t) = cx.value(value, &what) else { continue };
                let host = super::host_elem(&t);
                closure_args.push(if *optional {
                    option(&format!("&{}", t.rust))
                } else {
                    format!("&{}", t.rust)
                });
                (format!("*const {host}"), CbKind::In { rust: t.rust, host, optional: *optional })
            }
            Kind::Provide { element } => {
                let Some(t) = cx.value(element, &what) else { continue };
                let host = super::host_elem(&t);
                closure_args.push(format!("&mut ::std::vec::Vec<{}>", t.rust));
                let slot = cx.provide_slots;
                cx.provide_slots += 1;
                (
                    format!("*mut *const {host}"),
                    CbKind::Provide { rust: t.rust, host, elem_size: t.size, slot },
                )
            }
            Kind::Out { value, .. } | Kind::Inout { value, .. } => {
                let Some(t) = cx.value(value, &what) else { continue };
                let host = super::host_elem(&t);
                closure_args.push(format!("&mut {}", t.rust));
                let send = matches!(p.kind, Kind::Inout { .. });
                (format!("*mut {host}"), CbKind::Out { rust: t.rust, host, send })
            }
            Kind::InBuffer { element, len: Some(len), .. } => {
                let Some(count_host) = cb_count(len, c, &what, &p.name, cx) else { continue };
                let Some(t) = cx.value(element, &what) else { continue };
                let host = super::host_elem(&t);
                closure_args.push(format!("&[{}]", t.rust));
                (
                    format!("*const {host}"),
                    CbKind::Buffer { rust: t.rust, host, elem_size: t.size, count_host },
                )
            }
            Kind::InHandles { handle, len } => {
                let Some(count_host) = cb_count(len, c, &what, &p.name, cx) else { continue };
                closure_args.push(format!("&[{handle}]"));
                (
                    "*const *mut ::core::ffi::c_void".to_string(),
                    CbKind::Handles {
                        handle: handle.clone(),
                        handle_kind: cx.handle_kind(handle),
                        count_host,
                    },
                )
            }
            Kind::StringArray { encoding, len } => {
                let Some(len) = cb_count(len, c, &what, &p.name, cx) else { continue };
                closure_args.push("&[::core::option::Option<::std::string::String>]".into());
                let unit = if *encoding == Encoding::Utf16 { "u16" } else { "u8" };
                (format!("*const *const {unit}"), CbKind::Strings { text: text(*encoding), count_host: len })
            }
            _ => {
                cx.unsupported
                    .push(format!("{what} parameter `{}`: only numbers, strings and user data", p.name));
                continue;
            }
        };
        params.push(CbParam { name: format!("a{i}"), ffi_type, kind });
    }
    let (ret_rust, ret_host) = match &c.ret {
        Return::Void => ("()".to_string(), "()".to_string()),
        Return::Value { value: value @ Value::Scalar { .. } } => {
            let t = cx.value(value, &what).unwrap_or_default();
            (t.rust.clone(), host_value(&t))
        }
        _ => {
            cx.unsupported.push(format!("{what}: only a number can be returned"));
            ("()".to_string(), "()".to_string())
        }
    };
    CallbackView {
        c_name: c.name.clone(),
        name: cx.callback_names.get(&c.name).cloned().unwrap_or_else(|| camel(&c.name)),
        abi: abi(c.convention),
        params,
        closure_args: closure_args.join(", "),
        ret_rust,
        ret_host,
        kept,
        default: c.default,
        context_call: c.context.as_ref().map(|ctx| {
            let at = c.params.iter().position(|p| p.name == ctx.param).unwrap_or(0);
            let k =
                cx.contexts.iter().position(|v| v.symbol == ctx.via.symbol.lookup()).unwrap_or_else(|| {
                    cx.contexts.push(ContextView {
                        index: cx.contexts.len(),
                        symbol: ctx.via.symbol.lookup(),
                        abi: abi(ctx.via.convention),
                    });
                    cx.contexts.len() - 1
                });
            format!("__dllgen_context_{k}(a{at} as *mut ::core::ffi::c_void)")
        }),
    }
}

/// A callback array's count as the host computes it (over `a0`...): a parameter of the same
/// callback, or a number.
fn cb_count(len: &model::Expr, c: &model::Callback, what: &str, param: &str, cx: &mut Cx) -> Option<String> {
    match len {
        model::Expr::Const { value } => Some(format!("{value}i64")),
        model::Expr::Param { name } => match c.params.iter().position(|q| q.name == *name) {
            Some(j) => Some(format!("a{j} as i64")),
            None => {
                cx.unsupported.push(format!("{what} parameter `{param}`: no count `{name}`"));
                None
            }
        },
        other => {
            cx.unsupported.push(format!("{what} parameter `{param}`: count `{other}`"));
            None
        }
    }
}
