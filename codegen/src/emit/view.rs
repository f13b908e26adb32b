//! The model seen by the templates: names, Rust types and wire methods worked out once,
//! so templates only arrange them. Everything a template can refer to is here.

use crate::model::{self, Convention, ErrorWhen, Expr, Filled, Kind, Model, Return, Scalar, Symbol, Value};
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
    pub runtime_path: String,
    pub functions: Vec<Function>,
    pub handles: Vec<Handle>,
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
    /// Buffers: element Rust type and size in bytes.
    pub elem: String,
    pub elem_size: u64,
    pub units_bytes: bool,
    /// Buffers: the length parameter (a bare parameter), or a constant.
    pub len_param: String,
    pub len_const: String,
    /// Out-buffers: how much is filled (`capacity`, `return`, `param`, `nul`).
    pub filled: &'static str,
    pub filled_param: String,
    /// Strings: `utf16` or bytes.
    pub utf16: bool,
    /// An out-buffer of characters filled up to a NUL: the client gets a `String`.
    pub nul_string: bool,
    pub optional: bool,
    pub handle: String,
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
    /// Visible in the client method's signature.
    pub visible: bool,
    /// The client's argument type.
    pub client_type: String,
}

#[derive(Debug, Serialize)]
pub struct Ret {
    pub kind: &'static str,
    pub ffi_type: String,
    pub rust: String,
    pub wire: String,
    pub is_bool: bool,
    pub utf16: bool,
    pub free_symbol: String,
    pub free_abi: &'static str,
    pub handle: String,
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

/// A C name as a Rust identifier (`r#type` for keywords).
pub fn ident(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("r#{name}")
    } else {
        name.to_string()
    }
}

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
        elem: String::new(),
        elem_size: 0,
        units_bytes: false,
        len_param: String::new(),
        len_const: String::new(),
        filled: "capacity",
        filled_param: String::new(),
        utf16: false,
        nul_string: false,
        optional: false,
        handle: String::new(),
        of: Vec::new(),
        len_from: String::new(),
        len_from_out: false,
        len_from_optional: false,
        len_scale: 1,
        visible: true,
        client_type: String::new(),
    }
}

fn scalar_value(v: &Value, what: &str, unsupported: &mut Unsupported) -> Option<(String, String, bool)> {
    match v {
        Value::Scalar { scalar: s } => Some(scalar(s)),
        Value::Struct { name } => {
            unsupported.push(format!("{what}: struct `{name}` (structs are not generated yet)"));
            None
        }
    }
}

fn length(expr: &Expr, what: &str, unsupported: &mut Unsupported) -> (String, String) {
    match expr {
        Expr::Param { name } => (ident(name), String::new()),
        Expr::Const { value } => (String::new(), value.to_string()),
        other => {
            unsupported
                .push(format!("{what}: length `{other}` (only a parameter or a constant is generated yet)"));
            (String::new(), "0".into())
        }
    }
}

fn param(f: &model::Function, p: &model::Param, unsupported: &mut Unsupported) -> Param {
    let what = format!("`{}` parameter `{}`", f.c_name, p.name);
    let mut v = blank("value");
    v.name = ident(&p.name);
    match &p.kind {
        Kind::Value { value } => {
            if let Some((rust, wire, b)) = scalar_value(value, &what, unsupported) {
                v.ffi_type = rust.clone();
                v.client_type = rust.clone();
                (v.rust, v.wire, v.is_bool) = (rust, wire, b);
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
            if let Some((rust, _, b)) = scalar_value(element, &what, unsupported) {
                if b {
                    unsupported.push(format!("{what}: buffers of bool are not generated yet"));
                }
                v.elem_size = rust.trim_start_matches(['i', 'u', 'f']).parse::<u64>().unwrap_or(8) / 8;
                v.elem = rust;
            }
            v.units_bytes = *units == Units::Bytes;
            (v.len_param, v.len_const) = length(len, &what, unsupported);
            let mutable = v.kind != "in_buffer";
            v.ffi_type = format!("*{} {}", if mutable { "mut" } else { "const" }, v.elem);
            v.client_type = match (v.kind, v.optional) {
                ("in_buffer", false) => format!("&[{}]", v.elem),
                ("in_buffer", true) => format!("Option<&[{}]>", v.elem),
                ("inout_buffer", false) => format!("&mut [{}]", v.elem),
                ("inout_buffer", true) => format!("Option<&mut [{}]>", v.elem),
                _ => String::new(),
            };
            // An out-buffer shows as its capacity, when a parameter gives it.
            v.visible = v.kind != "out_buffer" || !v.len_param.is_empty();
            if let Kind::OutBuffer { filled, .. } = &p.kind {
                (v.filled, v.filled_param) = match filled {
                    Filled::Capacity => ("capacity", String::new()),
                    Filled::Return => ("return", String::new()),
                    Filled::Nul => ("nul", String::new()),
                    Filled::Param { name } => ("param", ident(name)),
                };
                if v.len_param.is_empty() && v.len_const.is_empty() {
                    unsupported.push(format!("{what}: an out-buffer needs a capacity"));
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
            if let Some((rust, wire, b)) = scalar_value(value, &what, unsupported) {
                v.ffi_type = format!("*{} {rust}", if v.kind == "in" { "const" } else { "mut" });
                v.client_type = match (v.kind, v.optional) {
                    ("in", false) => rust.clone(),
                    ("in", true) => format!("Option<{rust}>"),
                    ("inout", false) => format!("&mut {rust}"),
                    ("inout", true) => format!("Option<&mut {rust}>"),
                    _ => String::new(),
                };
                v.visible = v.kind != "out";
                (v.rust, v.wire, v.is_bool) = (rust, wire, b);
            }
        }
        Kind::Handle { handle, optional } => {
            v.kind = "handle";
            v.handle = handle.clone();
            v.optional = *optional;
            v.ffi_type = "*mut ::core::ffi::c_void".into();
            v.client_type = if *optional { format!("Option<{handle}>") } else { handle.clone() };
        }
        Kind::OutHandle { handle } => {
            v.kind = "out_handle";
            v.handle = handle.clone();
            v.ffi_type = "*mut *mut ::core::ffi::c_void".into();
            v.visible = false;
        }
        Kind::Length { value, of } => {
            v.kind = "length";
            v.of = of.iter().map(|o| ident(o)).collect();
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
        Kind::Callback { .. } | Kind::UserData { .. } => {
            unsupported.push(format!("{what}: callbacks are not generated yet"));
        }
    }
    v
}

/// Builds the templates' view; items `generate` cannot emit yet are listed.
pub fn build(m: &Model, spec_file: &str) -> Result<Crates, Unsupported> {
    let mut unsupported = Vec::new();
    let mut functions = Vec::new();
    for (i, f) in m.functions.iter().enumerate() {
        let mut params: Vec<Param> = f.params.iter().map(|p| param(f, p, &mut unsupported)).collect();
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
        let mut ret = ret(f, &mut unsupported);
        ret.nullable = ret.kind == "string" && !f.error.as_ref().is_some_and(|e| e.when == ErrorWhen::Null);
        let error = f.error.as_ref().map(|e| error_view(e, &ret));
        let Symbol::Name { name: symbol } = &f.symbol;
        let mut view = Function {
            index: i as u32,
            c_name: f.c_name.clone(),
            method: ident(&f.rust_name),
            symbol: symbol.clone(),
            abi: abi(f.convention),
            doc: f.doc.as_deref().map(|d| d.lines().map(str::to_string).collect()).unwrap_or_default(),
            params,
            ret,
            error,
            client_result: String::new(),
            client_values: Vec::new(),
            single: false,
            first_value: String::new(),
            decode_values: Vec::new(),
        };
        client_result(&mut view);
        functions.push(view);
    }
    if !unsupported.is_empty() {
        return Err(unsupported);
    }
    let (crate_base, env_base) = (m.name.replace('_', "-"), m.name.to_ascii_uppercase());
    Ok(Crates {
        name: m.name.clone(),
        spec_file: spec_file.to_string(),
        host_crate: format!("{crate_base}-host"),
        client_crate: format!("{crate_base}-client"),
        client_type: camel(&m.name),
        hash: m.hash(),
        library_file: m.library.clone(),
        library_env: format!("{env_base}_LIBRARY"),
        host_env: format!("{env_base}_HOST"),
        runtime_path: String::new(),
        functions,
        handles: m
            .handles
            .iter()
            .map(|h| Handle {
                name: h.name.clone(),
                doc: format!("A `{} *` of the library; only the host can use it.", h.c_type),
            })
            .collect(),
    })
}

fn ret(f: &model::Function, unsupported: &mut Unsupported) -> Ret {
    let mut r = Ret {
        kind: "void",
        ffi_type: "()".into(),
        rust: String::new(),
        wire: String::new(),
        is_bool: false,
        utf16: false,
        free_symbol: String::new(),
        free_abi: "C",
        handle: String::new(),
        returned: true,
        nullable: false,
    };
    let fills = f.params.iter().any(|p| matches!(&p.kind, Kind::OutBuffer { filled: Filled::Return, .. }));
    match &f.ret {
        Return::Void => r.returned = false,
        Return::Value { value } => {
            if let Some((rust, wire, b)) = scalar_value(value, &format!("`{}` result", f.c_name), unsupported)
            {
                r.kind = "value";
                r.ffi_type = rust.clone();
                (r.rust, r.wire, r.is_bool) = (rust, wire, b);
                r.returned = !fills;
            }
        }
        Return::String { encoding, free_with } => {
            r.kind = "string";
            r.utf16 = *encoding == Encoding::Utf16;
            r.ffi_type = if r.utf16 { "*const u16".into() } else { "*const u8".into() };
            if let Some(free) = free_with {
                let Symbol::Name { name } = &free.symbol;
                r.free_symbol = name.clone();
                r.free_abi = abi(free.convention);
            }
        }
        Return::Handle { handle } => {
            r.kind = "handle";
            r.handle = handle.clone();
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
        if matches!(p.kind, "inout" | "inout_buffer") {
            decoded.push(var);
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
