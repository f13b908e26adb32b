//! The model seen by the templates: names, Rust types and wire methods worked out once,
//! so templates only arrange them. Everything a template can refer to is here.

use crate::model::{self, Convention, ErrorWhen, Expr, Filled, Kind, Model, Return, Scalar, Value};
use crate::spec::{Encoding, Units};
use serde::Serialize;

/// One generated pair of crates.
#[derive(Debug, Serialize)]
pub struct Crates {
    pub name: String,
    pub spec_file: String,
    pub host_crate: String,
    pub client_crate: String,
    /// The client's struct: `Kinds` for `kinds`.
    pub client_type: String,
    pub hash: String,
    pub library_file: String,
    pub library_env: String,
    pub host_env: String,
    /// The client's default per-call timeout in milliseconds (`None`: no limit).
    pub timeout_ms: Option<u64>,
    pub runtime_path: String,
    pub functions: Vec<Function>,
    pub handles: Vec<Handle>,
    pub structs: Vec<StructView>,
    pub callbacks: Vec<CallbackView>,
    /// The `cfg` of the host target the model's layouts are for (`windows`, `not(windows)`).
    pub target_cfg: &'static str,
}

/// A struct: the client's Rust type (fields in C order) and the host's `#[repr(C)]` mirror
/// of the 32-bit layout (slots in offset order, padding explicit).
#[derive(Debug, Serialize)]
pub struct StructView {
    pub c_name: String,
    pub name: String,
    pub doc: Vec<String>,
    pub size: u64,
    pub align: u64,
    /// The mirror needs `align(N)`: C's alignment exceeds its slots' (bit-fields, unions).
    /// Never emitted otherwise: an over-aligned type is passed differently on some targets.
    pub align_attr: bool,
    pub fields: Vec<FieldView>,
    pub slots: Vec<Slot>,
}

/// A struct field as the client sees it, and how the host fills its slot.
#[derive(Debug, Serialize)]
pub struct FieldView {
    pub name: String,
    pub doc: Vec<String>,
    /// `value`, `string`, `handle`, `bits` or `raw` (a scalar at an offset its type
    /// cannot have in a `#[repr(C)]` struct: kept as bytes).
    pub kind: &'static str,
    pub client_type: String,
    /// The scalar type of a `raw` field.
    pub host_type: String,
    /// The client's default value.
    pub default: String,
    pub wide: bool,
    pub optional: bool,
    /// Handle fields: the type's index in the host's handle table.
    pub handle_kind: u32,
    /// Bit-fields: the host slot holding the bits, and where in it.
    pub region: String,
    pub bit: u64,
    pub width: u32,
    pub signed: bool,
}

/// A field of the host's mirror struct.
#[derive(Debug, Serialize)]
pub struct Slot {
    pub name: String,
    pub ty: String,
    pub offset: u64,
}

#[derive(Debug, Serialize)]
pub struct Handle {
    pub name: String,
    pub doc: String,
}

#[derive(Debug, Serialize)]
pub struct Function {
    pub index: u32,
    pub c_name: String,
    pub method: String,
    pub symbol: String,
    pub abi: &'static str,
    pub doc: Vec<String>,
    pub params: Vec<Param>,
    pub ret: Ret,
    pub error: Option<ErrorView>,
    /// The client method's result: one type, or a tuple.
    pub client_result: String,
    /// The expressions the client returns, in `client_result`'s order.
    pub client_values: Vec<String>,
    /// Exactly one value (returned as is, not as a tuple).
    pub single: bool,
    /// It takes callbacks: the call runs inside `with_callbacks`.
    pub has_callbacks: bool,
    pub first_value: String,
    /// Everything the reply carries, in its order: the client values plus what goes back
    /// into `&mut` arguments.
    pub decode_values: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ErrorView {
    /// Rust condition on `ret` (the C return value) meaning failure.
    pub condition: String,
    /// Rust expression for the error code.
    pub code: String,
}

/// A parameter, with what each phase of the generated code needs.
#[derive(Debug, Serialize)]
pub struct Param {
    pub name: String,
    pub kind: &'static str,
    /// The type in the host's function-pointer signature.
    pub ffi_type: String,
    /// Scalar: Rust type and wire method (`i32`, `f64`, `u8` for bool).
    pub rust: String,
    pub wire: String,
    pub is_bool: bool,
    /// A struct value: it crosses field by field (`Value` / `CValue`).
    pub is_struct: bool,
    /// Buffers: element Rust type (client; the host's differs for `bool`: `u8`) and size
    /// in bytes on the target.
    pub elem: String,
    pub host_elem: String,
    pub elem_size: u64,
    /// Buffers of numbers cross as one byte string (`elements`); of structs and bools,
    /// value by value (`values`).
    pub plain: bool,
    pub units_bytes: bool,
    /// Buffers: the length parameter (a bare parameter), or a constant.
    pub len_param: String,
    /// Buffers: the length as the host computes it (a `u64` expression).
    pub len_host: String,
    /// Out-buffers, and in-place buffers of values: the most elements the reply may carry,
    /// as the client works it out from what it sent (a `usize` expression; `?` on a
    /// `WireError`, inside the reply's decoder).
    pub bound: String,
    /// Out-buffers: how much is filled (`capacity`, `return`, `param`, `nul`).
    pub filled: &'static str,
    pub filled_param: String,
    /// Strings: `utf16` or bytes.
    pub utf16: bool,
    /// An out-buffer of characters filled up to a NUL: the client gets a `String`.
    pub nul_string: bool,
    pub optional: bool,
    pub handle: String,
    /// Handles: the type's index in the host's handle table, and whether this function
    /// closes it (the host forgets the handle after the call).
    pub handle_kind: u32,
    pub closes: bool,
    /// Length parameters: the buffers they size.
    pub of: Vec<String>,
    /// Length parameters: the buffer whose size gives the value, whether that buffer is an
    /// out-buffer (then the client passes its capacity), and the factor (element size when
    /// the length counts bytes).
    pub len_from: String,
    pub len_from_out: bool,
    /// Length parameters: that buffer is optional (absent: the length is 0).
    pub len_from_optional: bool,
    pub len_scale: u64,
    /// Callbacks: the callback type, the id the host calls it by (the parameter's index)
    /// and the host trampoline's name.
    pub cb: Option<CallbackView>,
    pub cb_id: usize,
    pub tramp: String,
    /// Visible in the client method's signature.
    pub visible: bool,
    /// The client's argument type.
    pub client_type: String,
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
    pub has_ret: bool,
    pub ret_rust: String,
    pub ret_wire: String,
    pub ret_ffi: String,
    pub ret_is_bool: bool,
}

/// A callback parameter.
#[derive(Debug, Clone, Serialize)]
pub struct CbParam {
    /// `a0`, `a1`...
    pub name: String,
    /// `value`, `string` or `user_data`.
    pub kind: &'static str,
    pub ffi_type: String,
    pub rust: String,
    pub wire: String,
    pub is_bool: bool,
    pub is_struct: bool,
    pub utf16: bool,
    pub optional: bool,
}

#[derive(Debug, Serialize)]
pub struct Ret {
    pub kind: &'static str,
    pub ffi_type: String,
    pub rust: String,
    pub wire: String,
    pub is_bool: bool,
    pub is_struct: bool,
    pub utf16: bool,
    pub free_symbol: String,
    pub free_abi: &'static str,
    pub handle: String,
    pub handle_kind: u32,
    /// Whether the client gets it (not when it only says how much a buffer holds).
    pub returned: bool,
    /// A string result that may be NULL (no `when: null` error rule): `Option<String>`.
    pub nullable: bool,
}

/// What `generate` cannot emit yet, per item.
pub type Unsupported = Vec<String>;

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "async",
    "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof",
    "unsized", "virtual", "yield", "try", "gen",
];

/// Names the generated call code uses for its own locals (host: `args`, `out`, `cx`,
/// `keep`, `ret`, `errno`, `last_error`; client: `w`, `r`, `id`, `f`; both: `s`, `v`,
/// `dst`): a parameter called so is renamed with a trailing `_`.
const TAKEN_LOCALS: &[&str] = &[
    "args",
    "out",
    "cx",
    "keep",
    "ret",
    "errno",
    "last_error",
    "w",
    "r",
    "id",
    "f",
    "s",
    "v",
    "dst",
    "self",
    // Functions and modules the generated code calls by their bare names.
    "length",
    "fit",
    "out_elements",
    "c_bytes",
    "c_units",
    "get_bits",
    "set_bits",
    "put_c_str",
    "put_c_wide",
    "units_with_nul",
    "with_nul",
    "handles",
    "native",
    "callback",
    "with_callbacks",
    "run_host",
    "get_str",
    "get_wide",
    "put_str",
    "put_wide",
    "no_callbacks",
    "std",
    "core",
];

/// Suffixes of the per-parameter locals (`data_v` for `data`'s buffer, ...).
const LOCAL_SUFFIXES: &[&str] =
    &["_v", "_c", "_bytes", "_n", "_value", "_id", "_present", "_filled", "_capacity"];

/// A function's parameter names as generated code binds them: C names, except those that
/// would clash with a generated local, which get a trailing `_`.
fn locals(f: &model::Function) -> std::collections::BTreeMap<String, String> {
    let names: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
    let mut out = std::collections::BTreeMap::new();
    for n in &names {
        let clashes = TAKEN_LOCALS.contains(n)
            || KEYWORDS.contains(n)
            || LOCAL_SUFFIXES.iter().any(|sfx| n.strip_suffix(sfx).is_some_and(|stem| names.contains(&stem)));
        let mut local = if clashes { format!("{n}_") } else { n.to_string() };
        while names.iter().any(|m| *m == local) && local != *n {
            local.push('_');
        }
        out.insert(n.to_string(), ident(&local));
    }
    out
}

/// The local a parameter of the function being built is bound to (see [`locals`]).
fn local(cx: &Cx, name: &str) -> String {
    cx.locals.get(name).cloned().unwrap_or_else(|| ident(name))
}

/// A C name as a Rust identifier (`r#type` for keywords; `self_` for the four that cannot
/// be raw).
pub fn ident(name: &str) -> String {
    if matches!(name, "self" | "Self" | "super" | "crate") {
        format!("{name}_")
    } else if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

/// Method names the client type has itself.
const TAKEN_METHODS: &[&str] = &["new", "with_config", "client", "default"];

fn camel(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn scalar(s: &Scalar) -> (String, String, bool) {
    let (rust, bool_) = match s {
        Scalar::Int { bytes, signed } | Scalar::Enum { bytes, signed, .. } => {
            (format!("{}{}", if *signed { "i" } else { "u" }, u32::from(*bytes) * 8), false)
        }
        Scalar::Float { bytes } => (format!("f{}", u32::from(*bytes) * 8), false),
        Scalar::Bool => ("bool".into(), true),
    };
    let wire = if bool_ { "u8".to_string() } else { rust.clone() };
    (rust, wire, bool_)
}

fn abi(c: Convention) -> &'static str {
    match c {
        Convention::Cdecl => "C",
        Convention::Stdcall => "stdcall",
        Convention::Fastcall => "fastcall",
    }
}

fn blank(kind: &'static str) -> Param {
    Param {
        name: String::new(),
        kind,
        ffi_type: String::new(),
        rust: String::new(),
        wire: String::new(),
        is_bool: false,
        is_struct: false,
        elem: String::new(),
        host_elem: String::new(),
        elem_size: 0,
        plain: true,
        units_bytes: false,
        len_param: String::new(),
        len_host: String::new(),
        bound: String::new(),
        filled: "capacity",
        filled_param: String::new(),
        utf16: false,
        nul_string: false,
        optional: false,
        handle: String::new(),
        handle_kind: 0,
        closes: false,
        of: Vec::new(),
        len_from: String::new(),
        len_from_out: false,
        len_from_optional: false,
        len_scale: 1,
        cb: None,
        cb_id: 0,
        tramp: String::new(),
        visible: true,
        client_type: String::new(),
    }
}

/// A value's types: client Rust, host Rust, wire method; its size on the target.
struct Ty {
    rust: String,
    host: String,
    wire: String,
    is_bool: bool,
    is_struct: bool,
    size: u64,
    align: u64,
}

/// What every view function needs: struct names, the target, and the list of what cannot
/// be emitted.
struct Cx {
    /// Struct C name → (Rust name, size, align).
    structs: std::collections::BTreeMap<String, (String, u64, u64)>,
    /// 8-byte scalars are 4-aligned in i386 System V structs, 8-aligned on Windows.
    pe: bool,
    /// Callback types by C name.
    callbacks: std::collections::BTreeMap<String, CallbackView>,
    /// The parameter locals of the function being built (see [`locals`]).
    locals: std::collections::BTreeMap<String, String>,
    /// Callback C name → the client's closure type name.
    callback_names: std::collections::BTreeMap<String, String>,
    /// Rust names of structs with a field kept as bytes (packed).
    packed: std::collections::BTreeSet<String>,
    /// Handle types in model order (their index is their kind in the host's table).
    handles: Vec<String>,
    /// Close function C name → the handle type it closes.
    closers: std::collections::BTreeMap<String, String>,
    /// Struct fields kept as bytes on the host (packed), by (struct, field): their type.
    raw: std::collections::BTreeMap<(String, String), String>,
    unsupported: Unsupported,
}

impl Cx {
    fn handle_kind(&self, name: &str) -> u32 {
        self.handles.iter().position(|h| h == name).unwrap_or(0) as u32
    }

    fn value(&mut self, v: &Value, what: &str) -> Option<Ty> {
        match v {
            Value::Scalar { scalar: s } => Some(self.scalar(s)),
            Value::Struct { name } => match self.structs.get(name) {
                Some((rust, size, align)) => Some(Ty {
                    rust: rust.clone(),
                    host: rust.clone(),
                    wire: String::new(),
                    is_bool: false,
                    is_struct: true,
                    size: *size,
                    align: *align,
                }),
                None => {
                    self.unsupported.push(format!("{what}: struct `{name}` has no layout"));
                    None
                }
            },
        }
    }

    fn scalar(&self, s: &Scalar) -> Ty {
        let (rust, wire, is_bool) = scalar(s);
        let size = match s {
            Scalar::Int { bytes, .. } | Scalar::Enum { bytes, .. } | Scalar::Float { bytes } => {
                u64::from(*bytes)
            }
            Scalar::Bool => 1,
        };
        let align = if size == 8 && !self.pe { 4 } else { size };
        Ty { host: wire.clone(), rust, wire, is_bool, is_struct: false, size, align }
    }
}

/// Which generated side an expression is written for: they bind struct parameters
/// differently (the host decodes `p_value`, C's layout; the client has the caller's `p`).
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Host,
    Client,
}

/// A buffer's length as `side` computes it (a `u64` expression over its locals): a
/// parameter, a constant, or arithmetic over parameters and fields of struct parameters
/// (checked: an overflow, a negative result or a division by zero is an error).
fn length(expr: &Expr, f: &model::Function, cx: &Cx, side: Side) -> (String, String) {
    match expr {
        Expr::Param { name } => (local(cx, name), format!("{} as u64", local(cx, name))),
        Expr::Const { value } => (String::new(), format!("{value}u64")),
        other => (String::new(), format!("length({})?", checked(other, f, cx, side))),
    }
}

/// An `Option<i128>` expression for `e` (`None` on overflow or division by zero).
fn checked(e: &Expr, f: &model::Function, cx: &Cx, side: Side) -> String {
    match e {
        Expr::Const { value } => format!("Some({value}i128)"),
        Expr::Param { name } => format!("Some({} as i128)", local(cx, name)),
        Expr::Field { param, field } => {
            let kind = f.params.iter().find(|p| p.name == *param).map(|p| &p.kind);
            let strukt = match kind {
                Some(Kind::Value { value: Value::Struct { name } })
                | Some(Kind::In { value: Value::Struct { name }, .. })
                | Some(Kind::Inout { value: Value::Struct { name }, .. }) => name.as_str(),
                _ => "",
            };
            let read = |v: &str| match cx.raw.get(&(strukt.to_string(), field.clone())) {
                Some(t) if side == Side::Host => format!("<{t}>::from_le_bytes({v}.{})", ident(field)),
                _ => format!("{v}.{}", ident(field)),
            };
            // The host reads its decoded copy of an `in`/`inout` struct (`p_value`); the
            // client the caller's struct, whose fields are plain numbers.
            let base = match (kind, side) {
                (Some(Kind::In { .. }) | Some(Kind::Inout { .. }), Side::Host) => {
                    format!("{}_value", local(cx, param))
                }
                _ => local(cx, param),
            };
            match kind {
                Some(Kind::In { optional: true, .. }) | Some(Kind::Inout { optional: true, .. }) => {
                    format!("Some({base}.as_ref().map_or(0, |v| {} as i128))", read("v"))
                }
                _ => format!("Some({} as i128)", read(&base)),
            }
        }
        Expr::Binary { left, op, right } => {
            let method = match op {
                '+' => "checked_add",
                '-' => "checked_sub",
                '*' => "checked_mul",
                _ => "checked_div",
            };
            format!(
                "{}.zip({}).and_then(|(a, b)| a.{method}(b))",
                checked(left, f, cx, side),
                checked(right, f, cx, side)
            )
        }
    }
}

fn param(f: &model::Function, p: &model::Param, cx: &mut Cx) -> Param {
    let what = format!("`{}` parameter `{}`", f.c_name, p.name);
    let mut v = blank("value");
    v.name = local(cx, &p.name);
    match &p.kind {
        Kind::Value { value } => {
            if let Some(t) = cx.value(value, &what) {
                v.ffi_type = if t.is_bool { "bool".into() } else { t.host.clone() };
                v.client_type = t.rust.clone();
                (v.rust, v.wire, v.is_bool, v.is_struct) = (t.rust, t.wire, t.is_bool, t.is_struct);
            }
        }
        Kind::InString { encoding, optional } => {
            v.kind = "in_string";
            v.utf16 = *encoding == Encoding::Utf16;
            v.optional = *optional;
            v.ffi_type = if v.utf16 { "*const u16".into() } else { "*const u8".into() };
            v.client_type = if *optional { "Option<&str>".into() } else { "&str".into() };
        }
        Kind::InBuffer { element, len, units, optional }
        | Kind::InoutBuffer { element, len, units, optional }
        | Kind::OutBuffer { element, capacity: len, units, optional, .. } => {
            v.kind = match &p.kind {
                Kind::InBuffer { .. } => "in_buffer",
                Kind::InoutBuffer { .. } => "inout_buffer",
                _ => "out_buffer",
            };
            // An optional out-buffer always gets storage, like an optional out-pointer.
            v.optional = *optional && v.kind != "out_buffer";
            if let Some(t) = cx.value(element, &what) {
                v.elem_size = t.size;
                v.plain = !t.is_bool && !t.is_struct;
                (v.elem, v.host_elem, v.is_struct) = (t.rust, t.host, t.is_struct);
            }
            v.units_bytes = *units == Units::Bytes;
            (v.len_param, v.len_host) = length(len, f, cx, Side::Host);
            // What the reply may hold: for an out-buffer what the host made room for (the
            // same rule from the same length), for an in-place buffer what was sent.
            v.bound = match v.kind {
                "out_buffer" => format!(
                    "out_elements({}, {}, {})?",
                    length(len, f, cx, Side::Client).1,
                    v.units_bytes,
                    v.elem_size
                ),
                _ if v.optional => format!("{}.as_ref().map_or(0, |v| v.len())", v.name),
                _ => format!("{}.len()", v.name),
            };
            let mutable = v.kind != "in_buffer";
            v.ffi_type = format!("*{} {}", if mutable { "mut" } else { "const" }, v.host_elem);
            v.client_type = match (v.kind, v.optional) {
                ("in_buffer", false) => format!("&[{}]", v.elem),
                ("in_buffer", true) => format!("Option<&[{}]>", v.elem),
                ("inout_buffer", false) => format!("&mut [{}]", v.elem),
                ("inout_buffer", true) => format!("Option<&mut [{}]>", v.elem),
                _ => String::new(),
            };
            // An out-buffer shows as its capacity, when a parameter gives it.
            // (Only when that parameter is hidden, filled from it: a capacity the caller
            // passes as a visible scalar already is the capacity.)
            let hidden_len = matches!(len, Expr::Param { name } if f.params.iter().any(|q| q.name == *name && matches!(q.kind, Kind::Length { .. })));
            v.visible = v.kind != "out_buffer" || hidden_len;
            if let Kind::OutBuffer { filled, .. } = &p.kind {
                (v.filled, v.filled_param) = match filled {
                    Filled::Capacity => ("capacity", String::new()),
                    Filled::Return => ("return", String::new()),
                    Filled::Nul => ("nul", String::new()),
                    Filled::Param { name } => ("param", local(cx, name)),
                };
                if v.filled == "nul" && !v.plain {
                    cx.unsupported.push(format!("{what}: only buffers of numbers can be NUL-terminated"));
                }
                v.nul_string = v.filled == "nul" && v.elem_size == 1;
            }
        }
        Kind::In { value, optional } | Kind::Out { value, optional } | Kind::Inout { value, optional } => {
            v.kind = match &p.kind {
                Kind::In { .. } => "in",
                Kind::Out { .. } => "out",
                _ => "inout",
            };
            // An optional out-pointer always gets storage: the client always gets the value.
            v.optional = *optional && v.kind != "out";
            if let Some(t) = cx.value(value, &what) {
                let rust = t.rust.clone();
                v.ffi_type = format!("*{} {}", if v.kind == "in" { "const" } else { "mut" }, t.rust);
                // Structs are borrowed; scalars are passed by value.
                let borrow = if t.is_struct { "&" } else { "" };
                v.client_type = match (v.kind, v.optional) {
                    ("in", false) => format!("{borrow}{rust}"),
                    ("in", true) => format!("Option<{borrow}{rust}>"),
                    ("inout", false) => format!("&mut {rust}"),
                    ("inout", true) => format!("Option<&mut {rust}>"),
                    _ => String::new(),
                };
                v.visible = v.kind != "out";
                (v.rust, v.wire, v.is_bool, v.is_struct) = (t.rust, t.wire, t.is_bool, t.is_struct);
            }
        }
        Kind::Handle { handle, optional } => {
            v.kind = "handle";
            v.handle = handle.clone();
            v.handle_kind = cx.handle_kind(handle);
            v.closes = cx.closers.get(&f.c_name) == Some(handle);
            v.optional = *optional;
            v.ffi_type = "*mut ::core::ffi::c_void".into();
            v.client_type = if *optional { format!("Option<{handle}>") } else { handle.clone() };
        }
        Kind::OutHandle { handle } => {
            v.kind = "out_handle";
            v.handle = handle.clone();
            v.handle_kind = cx.handle_kind(handle);
            v.ffi_type = "*mut *mut ::core::ffi::c_void".into();
            v.visible = false;
        }
        Kind::Length { value, of } => {
            v.kind = "length";
            v.of = of.iter().map(|o| local(cx, o)).collect();
            v.visible = false;
            let (rust, _, _) = scalar(value);
            v.ffi_type = rust.clone();
            v.rust = rust;
            // Lengths cross as u64; the host converts them to the C type, checked.
            v.wire = "u64".into();
        }
        Kind::OutLength { value, .. } => {
            v.kind = "out_length";
            let (rust, wire, _) = scalar(value);
            v.ffi_type = format!("*mut {rust}");
            (v.rust, v.wire) = (rust, wire);
            v.visible = false;
        }
        Kind::Callback { callback, optional } => {
            v.kind = "callback";
            v.optional = *optional;
            v.cb_id = f.params.iter().position(|q| q.name == p.name).unwrap_or(0);
            match cx.callbacks.get(callback) {
                Some(cb) => {
                    v.ffi_type = format!(
                        "Option<unsafe extern \"{}\" fn({}){}>",
                        cb.abi,
                        cb.params.iter().map(|p| p.ffi_type.clone()).collect::<Vec<_>>().join(", "),
                        if cb.has_ret { format!(" -> {}", cb.ret_ffi) } else { String::new() }
                    );
                    v.client_type = if *optional {
                        format!("Option<&mut {}<'_>>", cb.name)
                    } else {
                        format!("&mut {}<'_>", cb.name)
                    };
                    v.cb = Some(cb.clone());
                }
                None => cx.unsupported.push(format!("{what}: callback `{callback}` cannot be generated")),
            }
        }
        Kind::UserData { .. } => {
            v.kind = "user_data";
            v.ffi_type = "*mut c_void".into();
            v.visible = false;
        }
    }
    v
}

/// Names every struct would clash with in the generated crates.
const TAKEN: &[&str] = &[
    "Config",
    "Error",
    "HostPath",
    "Client",
    "Reader",
    "Writer",
    "WireError",
    "Value",
    "CValue",
    "Keep",
    "Host",
    "Library",
    "Status",
    "CallContext",
    "Dylib",
    "Option",
    "Result",
    "String",
    "Vec",
    "Box",
    "Default",
];

/// Rust names for the structs: `struct kx_info` → `KxInfo`; an anonymous one is named after
/// the first field holding it (`KxInfoValue`); clashes get a number.
fn struct_names(
    m: &Model,
    taken: &mut std::collections::BTreeSet<String>,
) -> std::collections::BTreeMap<String, (String, u64, u64)> {
    let mut names = std::collections::BTreeMap::new();
    // Named structs first, so an anonymous one can take its parent's name.
    let mut order: Vec<&model::Struct> = m.structs.iter().collect();
    order.sort_by_key(|s| s.name.contains("(anonymous") || s.name.contains("(unnamed"));
    for s in order {
        let base = if s.name.contains('(') {
            m.structs
                .iter()
                .find_map(|p| {
                    let f = p.fields.iter().find(|f| {
                        matches!(&f.ty, model::FieldType::Value { value: Value::Struct { name } }
                            | model::FieldType::Array { element: Value::Struct { name }, .. } if *name == s.name)
                    })?;
                    let parent: &(String, u64, u64) = names.get(&p.name)?;
                    Some(format!("{}{}", parent.0, camel(&f.name)))
                })
                .unwrap_or_else(|| "Anonymous".to_string())
        } else {
            let bare = s.name.trim_start_matches("struct ").trim_start_matches("union ");
            let c = camel(bare);
            if c.starts_with(|ch: char| ch.is_ascii_alphabetic()) {
                c
            } else {
                format!("S{c}")
            }
        };
        names.insert(s.name.clone(), (unique(taken, &base), s.size, s.align));
    }
    names
}

/// A callback type: `kx_progress_fn` → `KxProgressFn`, `dyn FnMut(i32) -> i32`.
fn callback(c: &model::Callback, cx: &mut Cx) -> CallbackView {
    let what = format!("callback `{}`", c.name);
    let mut params = Vec::new();
    for (i, p) in c.params.iter().enumerate() {
        let mut v = CbParam {
            name: format!("a{i}"),
            kind: "value",
            ffi_type: String::new(),
            rust: String::new(),
            wire: String::new(),
            is_bool: false,
            is_struct: false,
            utf16: false,
            optional: false,
        };
        match &p.kind {
            Kind::Value { value: value @ Value::Scalar { .. } } => {
                if let Some(t) = cx.value(value, &what) {
                    v.ffi_type = if t.is_bool { "bool".into() } else { t.host.clone() };
                    (v.rust, v.wire, v.is_bool) = (t.rust, t.wire, t.is_bool);
                }
            }
            Kind::InString { encoding, optional } => {
                v.kind = "string";
                v.utf16 = *encoding == Encoding::Utf16;
                v.optional = *optional;
                v.ffi_type = if v.utf16 { "*const u16".into() } else { "*const u8".into() };
                v.rust = if *optional { "Option<&str>".into() } else { "&str".into() };
            }
            Kind::UserData { .. } => {
                v.kind = "user_data";
                v.ffi_type = "*mut c_void".into();
            }
            _ => cx
                .unsupported
                .push(format!("{what} parameter `{}`: only numbers, strings and user data", p.name)),
        }
        params.push(v);
    }
    let mut view = CallbackView {
        c_name: c.name.clone(),
        name: cx.callback_names.get(&c.name).cloned().unwrap_or_else(|| camel(&c.name)),
        abi: abi(c.convention),
        closure_args: params
            .iter()
            .filter(|p| p.kind != "user_data")
            .map(|p| p.rust.clone())
            .collect::<Vec<_>>()
            .join(", "),
        params,
        has_ret: false,
        ret_rust: String::new(),
        ret_wire: String::new(),
        ret_ffi: String::new(),
        ret_is_bool: false,
    };
    match &c.ret {
        Return::Void => {}
        Return::Value { value: value @ Value::Scalar { .. } } => {
            if let Some(t) = cx.value(value, &what) {
                view.has_ret = true;
                view.ret_ffi = if t.is_bool { "bool".into() } else { t.host.clone() };
                (view.ret_rust, view.ret_wire, view.ret_is_bool) = (t.rust, t.wire, t.is_bool);
            }
        }
        _ => cx.unsupported.push(format!("{what}: only a number can be returned")),
    }
    view
}

/// A struct's client type and host mirror.
fn structure(s: &model::Struct, cx: &mut Cx) -> StructView {
    use model::FieldType;
    let what = format!("struct `{}`", s.name);
    let name = cx.structs.get(&s.name).map(|n| n.0.clone()).unwrap_or_default();
    let mut fields = Vec::new();
    // (offset, end, name, type) of every host slot but padding.
    let mut slots: Vec<(u64, u64, String, String)> = Vec::new();
    // The largest alignment among typed slots: what `#[repr(C)]` gives the mirror alone.
    let mut natural = 1;
    for f in &s.fields {
        let mut v = FieldView {
            name: ident(&f.name),
            doc: f.doc.as_deref().map(|d| d.lines().map(str::to_string).collect()).unwrap_or_default(),
            kind: "value",
            client_type: String::new(),
            host_type: String::new(),
            default: "Default::default()".into(),
            wide: false,
            optional: false,
            handle_kind: 0,
            region: String::new(),
            bit: 0,
            width: 0,
            signed: false,
        };
        let fwhat = format!("{what} field `{}`", f.name);
        let (host, size, align) = match &f.ty {
            FieldType::Value { value } => {
                let Some(t) = cx.value(value, &fwhat) else { continue };
                v.client_type = t.rust.clone();
                (t.host, t.size, t.align)
            }
            FieldType::Array { element, len } => {
                let Some(t) = cx.value(element, &fwhat) else { continue };
                v.client_type = format!("[{}; {len}]", t.rust);
                v.default = "::core::array::from_fn(|_| Default::default())".into();
                (format!("[{}; {len}]", t.host), t.size * len, t.align)
            }
            FieldType::Bytes { len } => {
                v.client_type = format!("[u8; {len}]");
                v.default = format!("[0; {len}]");
                (v.client_type.clone(), *len, 1)
            }
            FieldType::String { encoding, optional } => {
                v.kind = "string";
                v.wide = *encoding == Encoding::Utf16;
                v.optional = *optional;
                v.client_type = if *optional { "Option<String>".into() } else { "String".into() };
                (if v.wide { "*const u16" } else { "*const u8" }.to_string(), 4, 4)
            }
            FieldType::Handle { handle, optional } => {
                v.kind = "handle";
                v.optional = *optional;
                v.handle_kind = cx.handle_kind(handle);
                v.client_type = if *optional { format!("Option<{handle}>") } else { handle.clone() };
                v.default = if *optional { "None".into() } else { format!("{handle}(0)") };
                ("*mut c_void".to_string(), 4, 4)
            }
            FieldType::Bits { bit_offset, width, signed } => {
                v.kind = "bits";
                let bits = if *width <= 32 { 32 } else { 64 };
                v.client_type = format!("{}{bits}", if *signed { "i" } else { "u" });
                v.bit = f.offset * 8 + u64::from(*bit_offset);
                (v.width, v.signed) = (*width, *signed);
                fields.push(v);
                continue;
            }
        };
        let end = f.offset + size;
        if f.offset % align.max(1) != 0 || align > s.align {
            // Packed: a typed slot would move. Scalars are kept as bytes; others refused.
            if !matches!(&f.ty, FieldType::Value { value: Value::Scalar { .. } }) {
                cx.unsupported
                    .push(format!("{fwhat}: a struct or array at an offset its alignment forbids (packed)"));
                continue;
            }
            v.kind = "raw";
            v.host_type = host;
            slots.push((f.offset, end, v.name.clone(), format!("[u8; {size}]")));
        } else {
            natural = natural.max(align);
            slots.push((f.offset, end, v.name.clone(), host));
        }
        fields.push(v);
    }
    // Bit-fields live in byte regions covering exactly the bits they use; adjacent or
    // overlapping bit-fields share a region.
    let mut regions: Vec<(u64, u64)> = Vec::new();
    for v in fields.iter().filter(|v| v.kind == "bits") {
        let (start, end) = (v.bit / 8, (v.bit + u64::from(v.width)).div_ceil(8).max(v.bit / 8 + 1));
        match regions.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => regions.push((start, end)),
        }
    }
    for v in fields.iter_mut().filter(|v| v.kind == "bits") {
        if let Some((start, _)) = regions.iter().find(|(a, b)| v.bit / 8 >= *a && v.bit / 8 < *b) {
            v.region = format!("__dllgen_bits{start}");
            v.bit -= start * 8;
        }
    }
    slots.extend(
        regions.iter().map(|(a, b)| (*a, *b, format!("__dllgen_bits{a}"), format!("[u8; {}]", b - a))),
    );
    slots.sort_by_key(|s| s.0);
    let mut out = Vec::new();
    let mut at = 0;
    for (offset, end, name, ty) in slots {
        if offset < at {
            cx.unsupported.push(format!("{what}: fields overlap at offset {offset}"));
            continue;
        }
        if offset > at {
            out.push(Slot {
                name: format!("__dllgen_pad{at}"),
                ty: format!("[u8; {}]", offset - at),
                offset: at,
            });
        }
        out.push(Slot { name, ty, offset });
        at = end;
    }
    if s.size > at {
        out.push(Slot {
            name: format!("__dllgen_pad{at}"),
            ty: format!("[u8; {}]", s.size - at),
            offset: at,
        });
    }
    StructView {
        c_name: s.name.clone(),
        name,
        doc: s.doc.as_deref().map(|d| d.lines().map(str::to_string).collect()).unwrap_or_default(),
        size: s.size,
        align: s.align,
        align_attr: s.align > natural,
        fields,
        slots: out,
    }
}

/// `base`, or `base2`, `base3`... whichever is not taken yet (then it is).
fn unique(taken: &mut std::collections::BTreeSet<String>, base: &str) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

/// Builds the templates' view; items `generate` cannot emit yet are listed.
pub fn build(m: &Model, spec_file: &str) -> Result<Crates, Unsupported> {
    // Type names the client crate declares or imports: structs, then callback closure
    // types, avoid these and each other.
    let client_type = if m.handles.iter().any(|h| h.name == camel(&m.name)) {
        format!("{}Client", camel(&m.name))
    } else {
        camel(&m.name)
    };
    let mut taken: std::collections::BTreeSet<String> = TAKEN.iter().map(|t| t.to_string()).collect();
    taken.extend([camel(&m.name), client_type.clone()]);
    taken.extend(m.handles.iter().map(|h| h.name.clone()));
    let mut cx = Cx {
        structs: struct_names(m, &mut taken),
        pe: m.format == "pe",
        raw: Default::default(),
        callbacks: Default::default(),
        callback_names: Default::default(),
        locals: Default::default(),
        packed: Default::default(),
        handles: m.handles.iter().map(|h| h.name.clone()).collect(),
        closers: m.handles.iter().filter_map(|h| Some((h.close.clone()?, h.name.clone()))).collect(),
        unsupported: Vec::new(),
    };
    for c in &m.callbacks {
        cx.callback_names.insert(c.name.clone(), unique(&mut taken, &camel(&c.name)));
    }
    let structs: Vec<StructView> = m.structs.iter().map(|s| structure(s, &mut cx)).collect();
    let callbacks: Vec<CallbackView> = m.callbacks.iter().map(|c| callback(c, &mut cx)).collect();
    cx.callbacks = callbacks.iter().map(|c| (c.c_name.clone(), c.clone())).collect();
    for s in &structs {
        if s.fields.iter().any(|f| f.kind == "raw") {
            cx.packed.insert(s.name.clone());
        }
        for f in s.fields.iter().filter(|f| f.kind == "raw") {
            cx.raw.insert((s.c_name.clone(), f.name.clone()), f.host_type.clone());
        }
    }
    let mut functions = Vec::new();
    for (i, f) in m.functions.iter().enumerate() {
        cx.locals = locals(f);
        let mut params: Vec<Param> = f.params.iter().map(|p| param(f, p, &mut cx)).collect();
        // Each length takes its value from the first buffer it sizes, a required one if
        // there is one (`min_by_key` keeps the first of equals).
        for i in 0..params.len() {
            let Some(b) = params
                .iter()
                .filter(|b| params[i].kind == "length" && b.len_param == params[i].name)
                .min_by_key(|b| b.optional)
            else {
                continue;
            };
            let from = (b.name.clone(), b.kind == "out_buffer", b.optional);
            let scale = if b.units_bytes { b.elem_size } else { 1 };
            let p = &mut params[i];
            (p.len_from, p.len_from_out, p.len_from_optional) = from;
            p.len_scale = scale;
        }
        let mut ret = ret(f, &mut cx);
        ret.nullable = ret.kind == "string" && !f.error.as_ref().is_some_and(|e| e.when == ErrorWhen::Null);
        // A handle result is NULL only on failure (SCHEMA), even without an error rule.
        let error = f.error.as_ref().map(|e| error_view(e, &ret)).or_else(|| {
            (ret.kind == "handle").then(|| ErrorView { condition: "ret.is_null()".into(), code: "0".into() })
        });
        if ret.kind == "value" && ret.is_struct && cx.packed.contains(&ret.rust) {
            cx.unsupported.push(format!(
                "`{}` result: a packed struct returned by value (its return registers cannot be matched)",
                f.c_name
            ));
        }
        let symbol = f.symbol.lookup();
        let mut view = Function {
            index: i as u32,
            c_name: f.c_name.clone(),
            method: if TAKEN_METHODS.contains(&f.rust_name.as_str()) {
                format!("{}_", f.rust_name)
            } else {
                ident(&f.rust_name)
            },
            symbol: symbol.clone(),
            abi: abi(f.convention),
            doc: f.doc.as_deref().map(|d| d.lines().map(str::to_string).collect()).unwrap_or_default(),
            params,
            ret,
            error,
            client_result: String::new(),
            client_values: Vec::new(),
            single: false,
            has_callbacks: false,
            first_value: String::new(),
            decode_values: Vec::new(),
        };
        view.has_callbacks = view.params.iter().any(|p| p.kind == "callback");
        for p in view.params.iter_mut().filter(|p| p.kind == "callback") {
            p.tramp = format!("callback_{i}_{}", p.cb_id);
        }
        client_result(&mut view);
        functions.push(view);
    }
    if !cx.unsupported.is_empty() {
        return Err(cx.unsupported);
    }
    let (crate_base, env_base) = (m.name.replace('_', "-"), m.name.to_ascii_uppercase());
    Ok(Crates {
        name: m.name.clone(),
        spec_file: spec_file.to_string(),
        host_crate: format!("{crate_base}-host"),
        client_crate: format!("{crate_base}-client"),
        client_type,
        hash: m.hash(),
        library_file: m.library.clone(),
        library_env: format!("{env_base}_LIBRARY"),
        host_env: format!("{env_base}_HOST"),
        timeout_ms: m.timeout_ms,
        runtime_path: String::new(),
        functions,
        handles: m
            .handles
            .iter()
            .map(|h| Handle {
                name: h.name.clone(),
                doc: format!(
                    "A `{} *` of the library, as an id the host maps to the pointer: a closed handle, or one from an \
                     earlier host process, is refused with an error instead of reaching the library.",
                    h.c_type
                ),
            })
            .collect(),
        structs,
        callbacks,
        target_cfg: if cx.pe { "windows" } else { "not(windows)" },
    })
}

fn ret(f: &model::Function, cx: &mut Cx) -> Ret {
    let mut r = Ret {
        kind: "void",
        ffi_type: "()".into(),
        rust: String::new(),
        wire: String::new(),
        is_bool: false,
        is_struct: false,
        utf16: false,
        free_symbol: String::new(),
        free_abi: "C",
        handle: String::new(),
        handle_kind: 0,
        returned: true,
        nullable: false,
    };
    let fills = f.params.iter().any(|p| matches!(&p.kind, Kind::OutBuffer { filled: Filled::Return, .. }));
    match &f.ret {
        Return::Void => r.returned = false,
        Return::Value { value } => {
            if let Some(t) = cx.value(value, &format!("`{}` result", f.c_name)) {
                r.kind = "value";
                r.ffi_type = if t.is_bool { "bool".into() } else { t.host.clone() };
                (r.rust, r.wire, r.is_bool, r.is_struct) = (t.rust, t.wire, t.is_bool, t.is_struct);
                r.returned = !fills;
            }
        }
        Return::String { encoding, free_with } => {
            r.kind = "string";
            r.utf16 = *encoding == Encoding::Utf16;
            r.ffi_type = if r.utf16 { "*const u16".into() } else { "*const u8".into() };
            if let Some(free) = free_with {
                r.free_symbol = free.symbol.lookup();
                r.free_abi = abi(free.convention);
            }
        }
        Return::Handle { handle } => {
            r.kind = "handle";
            r.handle = handle.clone();
            r.handle_kind = cx.handle_kind(handle);
            r.ffi_type = "*mut ::core::ffi::c_void".into();
        }
    }
    r
}

fn error_view(e: &model::ErrorRule, r: &Ret) -> ErrorView {
    let condition = match &e.when {
        ErrorWhen::Negative => "ret < 0 as _".to_string(),
        ErrorWhen::Zero if r.is_bool => "!ret".into(),
        ErrorWhen::Zero => "ret == 0 as _".into(),
        ErrorWhen::Nonzero if r.is_bool => "ret".into(),
        ErrorWhen::Nonzero => "ret != 0 as _".into(),
        ErrorWhen::Null => "ret.is_null()".into(),
        ErrorWhen::Not { values } => {
            let alts: Vec<String> = values.iter().map(|v| format!("{v}")).collect();
            format!("!matches!(ret as i64, {})", alts.join(" | "))
        }
    };
    let code = match e.code {
        "last_error" => "i64::from(last_error)".to_string(),
        "errno" => "i64::from(errno)".to_string(),
        _ if r.kind == "value" && r.is_bool => "i64::from(u8::from(ret))".to_string(),
        _ if r.kind == "value" => "ret as i64".to_string(),
        _ => "0".to_string(),
    };
    ErrorView { condition, code }
}

/// What the client method returns, in the host's encoding order: the return value, then
/// outputs in parameter order.
fn client_result(f: &mut Function) {
    let mut types = Vec::new();
    let mut values = Vec::new();
    let mut decoded = Vec::new();
    if f.ret.returned {
        match f.ret.kind {
            "value" => types.push(f.ret.rust.clone()),
            "string" if f.ret.nullable => types.push("Option<String>".into()),
            "string" => types.push("String".into()),
            "handle" => types.push(f.ret.handle.clone()),
            _ => {}
        }
        values.push("__dllgen_ret".to_string());
        decoded.push("__dllgen_ret".to_string());
    }
    for p in &f.params {
        let var = format!("__dllgen_{}", p.name.trim_start_matches("r#"));
        // In-place buffers of numbers are decoded straight into the caller's slice.
        if p.kind == "inout" || (p.kind == "inout_buffer" && !p.plain) {
            decoded.push(var);
            continue;
        }
        if p.kind == "inout_buffer" {
            continue;
        }
        match p.kind {
            "out" => types.push(p.rust.clone()),
            "out_buffer" if p.nul_string => types.push("String".into()),
            "out_buffer" => types.push(format!("Vec<{}>", p.elem)),
            "out_handle" => types.push(p.handle.clone()),
            _ => continue,
        }
        values.push(var.clone());
        decoded.push(var);
    }
    f.decode_values = decoded;
    f.client_result = match types.len() {
        0 => "()".into(),
        1 => types[0].clone(),
        _ => format!("({})", types.join(", ")),
    };
    f.single = values.len() == 1;
    f.first_value = values.first().cloned().unwrap_or_default();
    f.client_values = values;
}
