//! The model seen by the templates: names, Rust types and codec arguments worked out once,
//! so templates only arrange them. Parameters are one variant per marshaling kind
//! ([`super::kinds`]); everything a template can refer to is here or there.

use super::kinds::{self, callback::CallbackView, Param};
use crate::model::{self, Convention, ErrorWhen, Filled, Kind, Model, RetLen, Return, Scalar, Value};
use crate::spec::Encoding;
use serde::Serialize;

/// The runtime crate as generated code names it.
pub(crate) const RT: &str = "::dllgen_runtime";

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
    /// Some function keeps callbacks past its call: the client has a dispatcher for them.
    pub kept_any: bool,
    /// Some kept callback may fire from a thread of the library's own: the client serves
    /// events (`Config::events`).
    pub events: bool,
    /// The end functions of resident structs (their indexes).
    pub resident_ends: Vec<u32>,
    /// Library functions kept callbacks' contexts come from.
    pub contexts: Vec<kinds::callback::ContextView>,
    /// The header's constants.
    pub constants: Vec<super::constants::ConstView>,
    /// The `cfg` of the host target the model's layouts are for (`windows`, `not(windows)`).
    pub target_cfg: &'static str,
    /// The Rust target the host is built for (`i686-pc-windows-gnu`, `i686-unknown-linux-gnu`).
    pub host_target: &'static str,
    /// The proxy library, when the spec asks for it.
    pub proxy: Option<super::proxy::ProxyView>,
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
    /// The client enums of its tagged unions.
    pub unions: Vec<UnionView>,
    /// It lives in the host (`marshal::resident`): the client's object holds an id.
    pub resident: bool,
}

/// A tagged union's client enum: one variant per case, and `Other` for tags no case names.
#[derive(Debug, Serialize)]
pub struct UnionView {
    pub name: String,
    pub cases: Vec<CaseView>,
    /// The union's size: `Other`'s bytes.
    pub size: u64,
}

/// One case of a tagged union.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub index: u32,
    pub variant: String,
    /// The tag value, as an `i64` literal, and as a number.
    pub value: String,
    pub number: i64,
    /// The client's payload type.
    pub rust: String,
    /// The host's type of the member.
    pub host: String,
    /// What the member holds: exactly one of `is_value`, `is_string` (its encoding's
    /// marker `text`), `is_handle` (its type's `handle_kind`).
    pub is_value: bool,
    pub is_string: bool,
    pub text: String,
    pub is_handle: bool,
    pub handle_kind: u32,
    pub optional: bool,
}

/// A struct field as the client sees it, and how the host fills its slot.
#[derive(Debug, Serialize)]
pub struct FieldView {
    pub name: String,
    pub doc: Vec<String>,
    pub client_type: String,
    /// The client's default value.
    pub default: String,
    #[serde(flatten)]
    pub kind: FieldKind,
}

/// One variant per kind of struct field; its serde name is its partial's
/// (`templates/fields/<partial>.hbs`).
#[derive(Debug, Serialize)]
#[serde(tag = "partial")]
pub enum FieldKind {
    /// A number, an array or a nested struct; `sent`: in a resident struct, the client sets
    /// it before each call (an out-buffer field's capacity; the others only come back).
    #[serde(rename = "field_value")]
    Value { sent: bool },
    /// A pointer of a resident struct the library owns: only in the host's mirror.
    #[serde(rename = "field_opaque")]
    Opaque {},
    /// A string pointer (`text`: the encoding's marker type).
    #[serde(rename = "field_string")]
    String { text: String, optional: bool },
    /// A handle (`handle_kind`: the type's index in the host's handle table).
    #[serde(rename = "field_handle")]
    Handle { handle_kind: u32, optional: bool },
    /// A bit-field: the host slot holding the bits, and where in it.
    #[serde(rename = "field_bits")]
    Bits { region: String, bit: u64, width: u32, signed: bool },
    /// A scalar at an offset its type cannot have in a `#[repr(C)]` struct (packed): kept
    /// as bytes of `host_type`.
    #[serde(rename = "field_raw")]
    Raw { host_type: String },
    /// A pointer to elements counted by the field `count_field` (of host type `count_type`);
    /// `shared`: an earlier buffer field sets the same count, which this one must match.
    #[serde(rename = "field_buffer")]
    Buffer {
        elem_host: String,
        elem_size: u64,
        count_field: String,
        count_type: String,
        optional: bool,
        shared: bool,
    },
    /// The count of buffer fields, or a union's tag: not in the client's struct, set by
    /// the host.
    #[serde(rename = "field_length")]
    HostOnly {},
    /// A pointer to one value.
    #[serde(rename = "field_pointee")]
    Pointee { host: String, optional: bool },
    /// A union whose member the field `tag` (host type `tag_type`) selects.
    #[serde(rename = "field_union")]
    Union { tag: String, tag_type: String, cases: Vec<CaseView>, pointers: bool },
    /// A flexible array member at `offset`, counted by the field `count_field`.
    #[serde(rename = "field_flexible")]
    Flexible { elem_host: String, elem_size: u64, count_field: String, count_type: String, offset: u64 },
    /// A buffer the library fills: allocated by the host from the capacity field (after
    /// every field is read), read back up to the filled field's count or a NUL.
    #[serde(rename = "field_out_buffer")]
    OutBuffer { elem_host: String, elem_size: u64, capacity: String, filled: Option<String> },
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
    /// The locals the client returns, in `client_result`'s order (the reply's order: the
    /// return value, then outputs in parameter order).
    pub client_values: Vec<String>,
    /// Exactly one value (returned as is, not as a tuple).
    pub single: bool,
    /// It takes callbacks valid during the call: the call has a handler for them.
    pub has_callbacks: bool,
    /// It keeps callbacks past the call, under one registration.
    pub kept: Option<super::kinds::callback::FnKept>,
    /// Called through stack words with the stack pointer checked (on i686): cdecl and
    /// stdcall functions that do not return a struct by value.
    pub checked: bool,
    /// Who pops the arguments (`Caller`, `Callee`), for the check.
    pub pops: &'static str,
    /// An out-buffer grows and the call is retried.
    pub grows: bool,
    /// The host locals of its resident struct parameters when it takes several of one struct
    /// (`deflateCopy(dest, source)`): each keeps what the others keep.
    pub shared_residents: Vec<String>,
    /// Its error rule may fire with the results still sent (for a client that asks: the
    /// proxy library): nothing it passes is taken over by the library only on success
    /// (retained buffers and values, descriptors, callbacks kept on a handle).
    pub failure_results: bool,
    /// Every other library function the host calls for it (the free functions of its
    /// returned string and out-strings, its result's length function), each in its own
    /// slot of the host.
    pub helpers: Vec<Helper>,
    /// The `_async` twin's parameters and the blocking method's arguments (none: no twin,
    /// see [`super::asynch`]).
    pub async_params: Option<AsyncParams>,
}

/// The `_async` twin of a client method.
#[derive(Debug, Serialize)]
pub struct AsyncParams {
    pub method: String,
    pub sigs: Vec<String>,
    pub args: Vec<String>,
}

/// A library function the host calls itself: to free a result, or to learn its length.
#[derive(Debug, Clone, Serialize)]
pub struct Helper {
    /// The host's field for it: `__dllgen_helper<slot>`.
    pub slot: String,
    pub symbol: String,
    /// Its function-pointer type.
    pub ty: String,
}

impl Helper {
    /// A free function (`void f(void *)`).
    pub fn free(slot: String, f: &model::FreeFn) -> Helper {
        Helper {
            slot,
            symbol: f.symbol.lookup(),
            ty: format!("unsafe extern \"{}\" fn(*mut ::core::ffi::c_void)", abi(f.convention)),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ErrorView {
    /// The `Rule` the return value is tested with (by path).
    pub rule: String,
    /// The `Code` the error carries (by path).
    pub code: String,
}

/// What a function returns: what every kind has, and its kind's own data.
#[derive(Debug, Serialize)]
pub struct Ret {
    /// Its type in the host's function-pointer signature.
    pub ffi_type: String,
    /// The client's type, when the client gets it.
    #[serde(skip)]
    pub client_type: Option<String>,
    #[serde(flatten)]
    pub kind: RetKind,
}

/// One variant per kind of result; the variant's name is its partial's
/// (`templates/kinds/<name>.hbs`).
#[derive(Debug, Serialize)]
#[serde(tag = "kind")]
pub enum RetKind {
    #[serde(rename = "ret_void")]
    Void {},
    #[serde(rename = "ret_value")]
    Value { rust: String },
    /// A number that says how much of an out-buffer was filled: not sent.
    #[serde(rename = "ret_count")]
    Count {},
    /// `free`: the host frees it with the function's free function after copying.
    #[serde(rename = "ret_string")]
    String { text: String, client_type: String, free: bool },
    /// A buffer the library owns, `count` elements copied out (or as many as `len_call`
    /// says, right after the call).
    #[serde(rename = "ret_buffer")]
    Buffer {
        host_elem: String,
        elem_size: u64,
        count: String,
        len_call: Option<LenCallView>,
        /// The length over the call's out-values, as the host computes it.
        count_host: Option<String>,
        /// The host frees it (the return's helper) after copying.
        free: bool,
        /// One value: the client decodes it as itself.
        single: bool,
        client_type: String,
    },
    #[serde(rename = "ret_handle")]
    Handle { handle: String, handle_kind: u32, borrowed: bool },
    /// A pointer into the out-buffer `local`: sent as an offset.
    #[serde(rename = "ret_into")]
    Into {
        local: String,
        cap_local: String,
        units: String,
        elem_size: u64,
        what: String,
        client_type: String,
    },
}

/// The library function the host calls for a returned buffer's length, and its arguments.
#[derive(Debug, Serialize)]
pub struct LenCallView {
    pub helper: Helper,
    /// The arguments, as host expressions.
    pub args: String,
}

fn len_call(
    f: &model::Function,
    index: usize,
    c: &model::LenCall,
    params: &[Param],
    cx: &mut Cx,
) -> Option<LenCallView> {
    let mut types = Vec::new();
    let mut args = Vec::new();
    for a in &c.args {
        let Some(p) = params.iter().find(|p| p.local == kinds::local(a)) else {
            cx.unsupported
                .push(format!("`{}` result: the length's argument `{a}` is not a parameter", f.c_name));
            return None;
        };
        let arg = match &p.kind {
            kinds::ParamKind::Value(_) => p.local.clone(),
            kinds::ParamKind::Handle(_) => format!("{RT}::marshal::handle::ptr(&{})", p.local),
            _ => {
                cx.unsupported.push(format!(
                    "`{}` result: the length's argument `{a}` must be a number or a handle the caller passes",
                    f.c_name
                ));
                return None;
            }
        };
        types.push(p.ffi_type.clone());
        args.push(arg);
    }
    let ret = cx.value(&Value::Scalar { scalar: c.ret.clone() }, &c.name)?;
    Some(LenCallView {
        helper: Helper {
            slot: format!("{index}_len"),
            symbol: c.symbol.lookup(),
            ty: format!(
                "unsafe extern \"{}\" fn({}) -> {}",
                abi(c.convention),
                types.join(", "),
                kinds::host_value(&ret)
            ),
        },
        args: args.join(", "),
    })
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

/// The prefix of every name generated code makes up for itself.
pub const RESERVED: &str = "__dllgen";

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

/// Method names the client type has itself (its public API).
const TAKEN_METHODS: &[&str] = &["new", "with_config", "client", "config", "default"];

pub(crate) fn camel(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A scalar's client Rust type, wire type (`u8` for bool), and whether it is a bool.
pub(crate) fn scalar(s: &Scalar) -> (String, String, bool) {
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

pub(crate) fn abi(c: Convention) -> &'static str {
    match c {
        Convention::Cdecl => "C",
        Convention::Stdcall => "stdcall",
        Convention::Fastcall => "fastcall",
    }
}

/// A value's types: client Rust, host Rust; its size on the target (the model's).
#[derive(Debug, Default)]
pub(crate) struct Ty {
    pub rust: String,
    pub host: String,
    pub is_bool: bool,
    pub is_struct: bool,
    pub size: u64,
}

/// What every view function needs: struct names, the target, and the list of what cannot
/// be emitted.
pub(crate) struct Cx {
    /// Struct C name → (Rust name, size).
    structs: std::collections::BTreeMap<String, (String, u64)>,
    /// The model is for a PE (the host's layout checks are for Windows).
    pe: bool,
    /// Callback types by C name.
    pub callbacks: std::collections::BTreeMap<String, CallbackView>,
    /// Callback C name → the client's closure type name.
    pub callback_names: std::collections::BTreeMap<String, String>,
    /// Rust names of structs with a field kept as bytes (packed).
    packed: std::collections::BTreeSet<String>,
    /// Handle types in model order (their index is their kind in the host's table).
    handles: Vec<String>,
    /// Close function C name → the handle type it closes.
    pub closers: std::collections::BTreeMap<String, String>,
    /// Struct fields kept as bytes on the host (packed), by (struct, field): their type.
    pub raw: std::collections::BTreeMap<(String, String), String>,
    /// Structs ending in a flexible array member, by C name: the member's offset.
    pub flexible: std::collections::BTreeMap<String, u64>,
    /// Hooks (the slots of `handle` scopes) by name → their number on a handle: 1, 2...
    /// in name order (0 is the retained buffers' slots), so two hooks never share one.
    pub hook_slots: std::collections::BTreeMap<String, u32>,
    /// Library functions kept callbacks' contexts come from.
    pub contexts: Vec<kinds::callback::ContextView>,
    /// Callback arguments that hand the library a buffer, numbered (their host slots).
    pub provide_slots: u32,
    /// Set-up function of a resident struct (C name) → the index of the end function it
    /// records.
    pub resident_end: std::collections::BTreeMap<String, u32>,
    /// End functions of resident structs (C names).
    pub resident_enders: std::collections::BTreeSet<String>,
    pub unsupported: Unsupported,
}

impl Cx {
    pub fn handle_kind(&self, name: &str) -> u32 {
        self.handles.iter().position(|h| h == name).unwrap_or(0) as u32
    }

    pub fn value(&mut self, v: &Value, what: &str) -> Option<Ty> {
        match v {
            Value::Scalar { scalar: s } => Some(self.scalar(s)),
            Value::Struct { name } => match self.structs.get(name) {
                Some((rust, size)) => Some(Ty {
                    rust: rust.clone(),
                    host: rust.clone(),
                    is_bool: false,
                    is_struct: true,
                    size: *size,
                }),
                None => {
                    self.unsupported.push(format!("{what}: struct `{name}` has no layout"));
                    None
                }
            },
        }
    }

    pub(crate) fn scalar(&self, s: &Scalar) -> Ty {
        let (rust, wire, is_bool) = scalar(s);
        let size = match s {
            Scalar::Int { bytes, .. } | Scalar::Enum { bytes, .. } | Scalar::Float { bytes } => {
                u64::from(*bytes)
            }
            Scalar::Bool => 1,
        };
        Ty { host: wire, rust, is_bool, is_struct: false, size }
    }
}

/// Type names a struct, handle or callback type must not take: what the generated client
/// crate re-exports from the runtime (its public API), and the prelude's, which generated
/// code and its users name bare (`Ok`, `Some`, `Option` in signatures).
const PUBLIC: &[&str] =
    &["Config", "Error", "HostPath", "Ok", "Err", "Some", "None", "Option", "Result", "String", "Vec", "Box"];

/// Rust names for the structs: `struct kx_info` → `KxInfo`; an anonymous one is named after
/// the first field holding it (`KxInfoValue`); clashes get a number.
fn struct_names(
    m: &Model,
    taken: &mut std::collections::BTreeSet<String>,
) -> std::collections::BTreeMap<String, (String, u64)> {
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
                    let parent: &(String, u64) = names.get(&p.name)?;
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
        names.insert(s.name.clone(), (unique(taken, &base), s.size));
    }
    names
}

/// The host type of the struct's count or tag field `name`, which the host sets itself.
fn sibling_host(s: &model::Struct, name: &str, cx: &Cx) -> String {
    s.fields
        .iter()
        .find(|x| x.name == name)
        .and_then(|x| match &x.ty {
            model::FieldType::Length { value, .. } | model::FieldType::Tag { value, .. } => {
                Some(cx.scalar(value).host)
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// A struct's client type and host mirror.
fn structure(s: &model::Struct, cx: &mut Cx) -> StructView {
    use model::FieldType;
    let what = format!("struct `{}`", s.name);
    let name = cx.structs.get(&s.name).map(|n| n.0.clone()).unwrap_or_default();
    let mut fields = Vec::new();
    let mut unions = Vec::new();
    // (offset, end, name, type) of every host slot but padding.
    let mut slots: Vec<(u64, u64, String, String)> = Vec::new();
    // The largest alignment among typed slots: what `#[repr(C)]` gives the mirror alone.
    let mut natural = 1;
    for f in &s.fields {
        let mut v = FieldView {
            name: ident(&f.name),
            doc: f.doc.as_deref().map(|d| d.lines().map(str::to_string).collect()).unwrap_or_default(),
            client_type: String::new(),
            default: "::core::default::Default::default()".into(),
            kind: FieldKind::Value {
                sent: s.resident.is_some()
                    && s.fields.iter().any(
                        |o| matches!(&o.ty, FieldType::OutBuffer { capacity, .. } if *capacity == f.name),
                    ),
            },
        };
        let fwhat = format!("{what} field `{}`", f.name);
        let host = match &f.ty {
            FieldType::Value { value } => {
                let Some(t) = cx.value(value, &fwhat) else { continue };
                v.client_type = t.rust.clone();
                t.host
            }
            FieldType::Array { element, len } => {
                let Some(t) = cx.value(element, &fwhat) else { continue };
                v.client_type = format!("[{}; {len}]", t.rust);
                v.default = "::core::array::from_fn(|_| ::core::default::Default::default())".into();
                format!("[{}; {len}]", t.host)
            }
            FieldType::Bytes { len } => {
                v.client_type = format!("[u8; {len}]");
                v.default = format!("[0; {len}]");
                v.client_type.clone()
            }
            FieldType::String { encoding, optional } => {
                v.kind = FieldKind::String { text: kinds::text(*encoding), optional: *optional };
                v.client_type = if *optional {
                    kinds::option("::std::string::String")
                } else {
                    "::std::string::String".into()
                };
                if *encoding == Encoding::Utf16 { "*const u16" } else { "*const u8" }.to_string()
            }
            FieldType::Handle { handle, optional } => {
                v.kind = FieldKind::Handle { handle_kind: cx.handle_kind(handle), optional: *optional };
                v.client_type = if *optional { kinds::option(handle) } else { handle.clone() };
                v.default =
                    if *optional { "::core::option::Option::None".into() } else { format!("{handle}(0)") };
                "*mut ::core::ffi::c_void".to_string()
            }
            FieldType::Buffer { element, len, optional } => {
                let Some(t) = cx.value(element, &fwhat) else { continue };
                let vec = format!("::std::vec::Vec<{}>", t.rust);
                v.client_type = if *optional { kinds::option(&vec) } else { vec };
                let len_host = sibling_host(s, len, cx);
                // Buffers sharing one count: the first sets it, the others must match it.
                let first =
                    s.fields.iter().find(|x| matches!(&x.ty, FieldType::Buffer { len: l, .. } if l == len));
                let shared = first.is_some_and(|x| x.name != f.name);
                let host = format!("*const {}", kinds::host_elem(&t));
                v.kind = FieldKind::Buffer {
                    elem_host: kinds::host_elem(&t),
                    elem_size: t.size,
                    count_field: ident(len),
                    count_type: len_host,
                    optional: *optional,
                    shared,
                };
                host
            }
            FieldType::OutBuffer { element, capacity, filled } => {
                let Some(t) = cx.value(element, &fwhat) else { continue };
                v.client_type = format!("::std::vec::Vec<{}>", t.rust);
                v.kind = FieldKind::OutBuffer {
                    elem_host: kinds::host_elem(&t),
                    elem_size: t.size,
                    capacity: ident(capacity),
                    filled: filled.as_deref().map(ident),
                };
                format!("*mut {}", kinds::host_elem(&t))
            }
            FieldType::Flexible { element, len, declared } => {
                let Some(t) = cx.value(element, &fwhat) else { continue };
                v.client_type = format!("::std::vec::Vec<{}>", t.rust);
                let count_type = sibling_host(s, len, cx);
                v.kind = FieldKind::Flexible {
                    elem_host: kinds::host_elem(&t),
                    elem_size: t.size,
                    count_field: ident(len),
                    count_type,
                    offset: f.offset,
                };
                format!("[{}; {declared}]", kinds::host_elem(&t))
            }
            FieldType::Opaque => {
                v.kind = FieldKind::Opaque {};
                "*mut ::core::ffi::c_void".into()
            }
            FieldType::Length { value, .. } | FieldType::Tag { value, .. } => {
                // Only in the host's mirror.
                v.kind = FieldKind::HostOnly {};
                cx.scalar(value).host
            }
            FieldType::Union { tag, cases, size, pointers } => {
                let enum_name = format!("{name}{}", camel(&f.name));
                let mut views = Vec::new();
                for (i, c) in cases.iter().enumerate() {
                    let (rust, host, is_value, text, handle_kind, optional) = match &c.ty {
                        FieldType::Value { value } => {
                            let Some(t) = cx.value(value, &fwhat) else { continue };
                            (t.rust.clone(), kinds::host_elem(&t), true, None, None, false)
                        }
                        FieldType::String { encoding, .. } => (
                            kinds::option("::std::string::String"),
                            if *encoding == Encoding::Utf16 { "*const u16" } else { "*const u8" }.into(),
                            false,
                            Some(kinds::text(*encoding)),
                            None,
                            true,
                        ),
                        FieldType::Handle { handle, optional } => (
                            if *optional { kinds::option(handle) } else { handle.clone() },
                            "*mut ::core::ffi::c_void".into(),
                            false,
                            None,
                            Some(cx.handle_kind(handle)),
                            *optional,
                        ),
                        _ => {
                            cx.unsupported.push(format!("{fwhat}: member `{}`", c.member));
                            continue;
                        }
                    };
                    views.push(CaseView {
                        index: i as u32,
                        variant: camel(&c.member),
                        value: format!("{}i64", c.value),
                        number: c.value,
                        rust,
                        host,
                        is_value,
                        is_string: text.is_some(),
                        text: text.unwrap_or_default(),
                        is_handle: handle_kind.is_some(),
                        handle_kind: handle_kind.unwrap_or_default(),
                        optional,
                    });
                }
                let Some(first) = views.first() else {
                    cx.unsupported.push(format!("{fwhat}: a union with no case"));
                    continue;
                };
                v.client_type = enum_name.clone();
                v.default = format!("{enum_name}::{}(::core::default::Default::default())", first.variant);
                let tag_type = sibling_host(s, tag, cx);
                let copy = views.clone();
                v.kind = FieldKind::Union { tag: ident(tag), tag_type, cases: copy, pointers: *pointers };
                unions.push(UnionView { name: enum_name, cases: views, size: *size });
                format!("[u8; {size}]")
            }
            FieldType::Pointee { value, optional } => {
                let Some(t) = cx.value(value, &fwhat) else { continue };
                v.client_type = kinds::option(&format!("::std::boxed::Box<{}>", t.rust));
                v.default = "::core::option::Option::None".into();
                v.kind = FieldKind::Pointee { host: kinds::host_elem(&t), optional: *optional };
                format!("*const {}", kinds::host_elem(&t))
            }
            FieldType::Bits { bit_offset, width, signed } => {
                let bits = if *width <= 32 { 32 } else { 64 };
                v.client_type = format!("{}{bits}", if *signed { "i" } else { "u" });
                let bit = f.offset * 8 + u64::from(*bit_offset);
                v.kind = FieldKind::Bits { region: String::new(), bit, width: *width, signed: *signed };
                fields.push(v);
                continue;
            }
        };
        // The layout is clang's (the model's), never worked out here. A union is a byte
        // region in the mirror (its alignment comes from the struct's `align`).
        let (size, align) = (f.size, if matches!(f.ty, FieldType::Union { .. }) { 1 } else { f.align });
        let end = f.offset + size;
        if f.offset % align.max(1) != 0 || align > s.align {
            // Packed: a typed slot would move. Scalars are kept as bytes; others refused.
            if !matches!(&f.ty, FieldType::Value { value: Value::Scalar { .. } }) {
                cx.unsupported
                    .push(format!("{fwhat}: a struct or array at an offset its alignment forbids (packed)"));
                continue;
            }
            v.kind = FieldKind::Raw { host_type: host };
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
    for v in &fields {
        let FieldKind::Bits { bit, width, .. } = &v.kind else { continue };
        let (start, end) = (bit / 8, (bit + u64::from(*width)).div_ceil(8).max(bit / 8 + 1));
        match regions.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => regions.push((start, end)),
        }
    }
    for v in &mut fields {
        let FieldKind::Bits { region, bit, .. } = &mut v.kind else { continue };
        if let Some((start, _)) = regions.iter().find(|(a, b)| *bit / 8 >= *a && *bit / 8 < *b) {
            *region = format!("__dllgen_bits{start}");
            *bit -= start * 8;
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
        unions,
        resident: s.resident.is_some(),
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
    // Type names the client crate declares or re-exports: structs, then callback closure
    // types, avoid these and each other.
    let client_type = if m.handles.iter().any(|h| h.name == camel(&m.name)) {
        format!("{}Client", camel(&m.name))
    } else {
        camel(&m.name)
    };
    let mut taken: std::collections::BTreeSet<String> = PUBLIC.iter().map(|t| t.to_string()).collect();
    taken.extend([camel(&m.name), client_type.clone()]);
    taken.extend(m.handles.iter().map(|h| h.name.clone()));
    let mut cx = Cx {
        structs: struct_names(m, &mut taken),
        pe: m.format == "pe",
        raw: Default::default(),
        callbacks: Default::default(),
        callback_names: Default::default(),
        packed: Default::default(),
        handles: m.handles.iter().map(|h| h.name.clone()).collect(),
        closers: m.handles.iter().flat_map(|h| h.close.iter().map(|c| (c.clone(), h.name.clone()))).collect(),
        flexible: m
            .structs
            .iter()
            .filter_map(|s| {
                s.fields
                    .iter()
                    .find(|f| matches!(f.ty, model::FieldType::Flexible { .. }))
                    .map(|f| (s.name.clone(), f.offset))
            })
            .collect(),
        hook_slots: m
            .functions
            .iter()
            .filter_map(|f| match f.kept_scope() {
                Some(model::Scope::Handle { slot, .. }) => Some(slot.clone()),
                _ => None,
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .zip(1..)
            .collect(),
        resident_end: Default::default(),
        resident_enders: Default::default(),
        contexts: Vec::new(),
        provide_slots: 0,
        unsupported: Vec::new(),
    };
    let index_of = |name: &str| m.functions.iter().position(|f| f.c_name == *name).map(|i| i as u32);
    for s in &m.structs {
        for end in s.resident.iter().flat_map(|r| r.end.values()) {
            let one = m.functions.iter().find(|f| f.c_name == *end).is_none_or(|f| {
                matches!(&f.params[..], [p] if matches!(&p.kind, model::Kind::Resident { strukt, .. } if *strukt == s.name))
            });
            if !one {
                cx.unsupported.push(format!(
                    "struct `{}`: its end function `{end}` must take that struct alone (the host calls it when the client drops one)",
                    s.name
                ));
            }
        }
    }
    for s in &m.structs {
        for (init, end) in s.resident.iter().flat_map(|r| &r.end) {
            match (index_of(init), index_of(end)) {
                (Some(_), Some(e)) => {
                    cx.resident_end.insert(init.clone(), e);
                    cx.resident_enders.insert(end.clone());
                }
                _ => cx.unsupported.push(format!(
                    "struct `{}`: its `resident: end:` names `{init}` and `{end}`, which the spec's exports must both include",
                    s.name
                )),
            }
        }
    }
    for c in &m.callbacks {
        cx.callback_names.insert(c.name.clone(), unique(&mut taken, &camel(&c.name)));
    }
    let structs: Vec<StructView> = m.structs.iter().map(|s| structure(s, &mut cx)).collect();
    // The types some function keeps get a `Send` closure type too.
    let kept_types: std::collections::BTreeSet<&str> = m
        .functions
        .iter()
        .flat_map(|f| &f.params)
        .filter(|p| p.kept_scope().is_some())
        .filter_map(|p| match &p.kind {
            model::Kind::Callback { callback, .. } => Some(callback.as_str()),
            _ => None,
        })
        .collect();
    let callbacks: Vec<CallbackView> = m
        .callbacks
        .iter()
        .map(|c| kinds::callback::callback_type(c, kept_types.contains(c.name.as_str()), &mut cx))
        .collect();
    cx.callbacks = callbacks.iter().map(|c| (c.c_name.clone(), c.clone())).collect();
    for s in &structs {
        for f in &s.fields {
            if let FieldKind::Raw { host_type } = &f.kind {
                cx.packed.insert(s.name.clone());
                cx.raw.insert((s.c_name.clone(), f.name.clone()), host_type.clone());
            }
        }
    }
    let mut functions = Vec::new();
    for (i, f) in m.functions.iter().enumerate() {
        for p in f.params.iter().filter(|p| p.name.starts_with(RESERVED)) {
            cx.unsupported.push(format!(
                "`{}` parameter `{}`: names starting with `{RESERVED}` are reserved for generated code",
                f.c_name, p.name
            ));
        }
        let mut params: Vec<Param> =
            (0..f.params.len()).map(|p| kinds::param(f, p, i as u32, &mut cx)).collect();
        // The capacity of a buffer that grows is reassigned by the host between tries.
        let grown: Vec<String> = params
            .iter()
            .filter_map(|p| match &p.kind {
                kinds::ParamKind::OutBuffer(v) => v.grow.as_ref().map(|g| g.cap_param.clone()),
                _ => None,
            })
            .collect();
        for p in params.iter_mut().filter(|p| grown.contains(&p.local)) {
            p.mutable = true;
        }
        let grows = !grown.is_empty();
        if grows && params.iter().any(|p| matches!(p.kind, kinds::ParamKind::Callback(_))) {
            cx.unsupported
                .push(format!("`{}`: a buffer that grows, in a function that takes callbacks", f.c_name));
        }
        let ret = ret(f, i, &params, &mut cx);
        let residents: Vec<&String> = f
            .params
            .iter()
            .filter_map(|p| match &p.kind {
                Kind::Resident { strukt, .. } => Some(strukt),
                _ => None,
            })
            .collect();
        let shared_residents = if residents.len() > 1 && residents.iter().all(|s| *s == residents[0]) {
            f.params
                .iter()
                .filter(|p| matches!(p.kind, Kind::Resident { .. }))
                .map(|p| kinds::local(&p.name))
                .collect()
        } else {
            Vec::new()
        };
        // A handle result is NULL only on failure (SCHEMA), even without an error rule; so
        // is one of the handle's invalid values (`INVALID_HANDLE_VALUE`).
        let invalid: &[u32] = match &f.ret {
            Return::Handle { handle, .. } => {
                m.handles.iter().find(|h| h.name == *handle).map_or(&[], |h| &h.invalid)
            }
            _ => &[],
        };
        let handle_rule = model::ErrorRule { when: ErrorWhen::Null, code: "return" };
        let error = f
            .error
            .as_ref()
            .or(matches!(f.ret, Return::Handle { .. }).then_some(&handle_rule))
            .map(|e| error_view(e, invalid));
        if let RetKind::Value { rust } = &ret.kind {
            if cx.packed.contains(rust) {
                cx.unsupported.push(format!(
                    "`{}` result: a packed struct returned by value (its return registers cannot be matched)",
                    f.c_name
                ));
            }
        }
        let mut types = Vec::new();
        let mut values = Vec::new();
        if let Some(t) = &ret.client_type {
            types.push(t.clone());
            values.push("__dllgen_ret".to_string());
        }
        for (t, local) in params.iter().filter_map(|p| p.output.clone()) {
            types.push(t);
            values.push(local);
        }
        let failure_results = f.error.is_some()
            && f.kept_scope().is_none_or(|s| !matches!(s, model::Scope::Handle { .. }))
            && !f.params.iter().any(|p| {
                matches!(
                    &p.kind,
                    Kind::Descriptor
                        | Kind::InBuffer { retain: Some(_), .. }
                        | Kind::OutBuffer { retain: Some(_), .. }
                        | Kind::In { retain: Some(_), .. }
                        | Kind::Inout { retain: Some(_), .. }
                )
            });
        let owned: Option<Vec<_>> =
            params.iter().filter_map(|p| p.sig.as_deref()).map(super::asynch::owned).collect();
        let client_result = match types.len() {
            0 => "()".into(),
            1 => types[0].clone(),
            _ => format!("({})", types.join(", ")),
        };
        let async_params = owned
            .filter(|_| !client_result.contains('&') && !client_result.contains('\''))
            .map(|o| AsyncParams {
                method: String::new(),
                sigs: o.iter().map(|p| p.sig.clone()).collect(),
                args: o.into_iter().map(|p| p.arg).collect(),
            });
        functions.push(Function {
            async_params,
            failure_results,
            index: i as u32,
            c_name: f.c_name.clone(),
            method: if TAKEN_METHODS.contains(&f.rust_name.as_str()) {
                format!("{}_", f.rust_name)
            } else {
                ident(&f.rust_name)
            },
            symbol: f.symbol.lookup(),
            abi: abi(f.convention),
            helpers: helpers(f, i, &params, &ret),
            doc: f.doc.as_deref().map(|d| d.lines().map(str::to_string).collect()).unwrap_or_default(),
            has_callbacks: params
                .iter()
                .any(|p| matches!(&p.kind, kinds::ParamKind::Callback(v) if v.kept.is_none())),
            kept: kinds::callback::fn_kept(f, &mut cx),
            checked: f.convention != Convention::Fastcall
                && !matches!(&f.ret, Return::Value { value: Value::Struct { .. } }),
            pops: if f.convention == Convention::Stdcall { "Callee" } else { "Caller" },
            grows,
            shared_residents,
            params,
            ret,
            error,
            client_result,
            single: values.len() == 1,
            client_values: values,
        });
    }
    // `x_async` beside `x`, unless a function of the library is called that.
    let methods: std::collections::BTreeSet<String> = functions.iter().map(|f| f.method.clone()).collect();
    for f in &mut functions {
        let name = format!("{}_async", f.method.trim_start_matches("r#"));
        if methods.contains(&name) || TAKEN_METHODS.contains(&name.as_str()) {
            f.async_params = None;
        } else if let Some(a) = &mut f.async_params {
            a.method = name;
        }
    }
    if !cx.unsupported.is_empty() {
        return Err(cx.unsupported);
    }
    let (crate_base, env_base) = (m.name.replace('_', "-"), m.name.to_ascii_uppercase());
    taken.extend(["MODEL_HASH", "HOST_EXE"].map(String::from));
    taken.extend(cx.callback_names.values().cloned());
    let (constants, _left_out) = super::constants::build(&m.constants, &taken);
    Ok(Crates {
        constants,
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
        kept_any: !kept_types.is_empty(),
        events: m.callbacks.iter().any(|c| c.threads && kept_types.contains(c.name.as_str())),
        contexts: cx.contexts.clone(),
        resident_ends: cx
            .resident_enders
            .iter()
            .filter_map(|e| m.functions.iter().position(|f| f.c_name == *e))
            .map(|i| i as u32)
            .collect(),
        callbacks,
        target_cfg: if cx.pe { "windows" } else { "not(windows)" },
        host_target: if cx.pe { "i686-pc-windows-gnu" } else { "i686-unknown-linux-gnu" },
        proxy: None,
    })
}

fn ret(f: &model::Function, index: usize, params: &[Param], cx: &mut Cx) -> Ret {
    let fills = f.params.iter().any(|p| matches!(&p.kind, Kind::OutBuffer { filled: Filled::Return, .. }));
    let what = format!("`{}` result", f.c_name);
    match &f.ret {
        Return::Void => Ret { ffi_type: "()".into(), client_type: None, kind: RetKind::Void {} },
        Return::Into { param } => {
            let Some(kinds::ParamKind::OutBuffer(v)) =
                params.iter().find(|p| p.local == kinds::local(param)).map(|p| &p.kind)
            else {
                cx.unsupported.push(format!("{what}: it points into `{param}`, which is not an out-buffer"));
                return Ret { ffi_type: "()".into(), client_type: None, kind: RetKind::Void {} };
            };
            let nullable = !f.error.as_ref().is_some_and(|e| e.when == ErrorWhen::Null);
            let client_type = if nullable { kinds::option("usize") } else { "usize".to_string() };
            Ret {
                ffi_type: format!("*const {}", v.buffer.host_elem),
                client_type: Some(client_type.clone()),
                kind: RetKind::Into {
                    local: kinds::local(param),
                    cap_local: v.cap_local.clone(),
                    units: v.buffer.units.clone(),
                    elem_size: v.buffer.elem_size,
                    what: super::rust_str(&format!("`{}` parameter `{param}`", f.c_name)),
                    client_type,
                },
            }
        }
        Return::Value { value } => {
            let t = cx.value(value, &what).unwrap_or_default();
            let ffi_type = kinds::host_value(&t);
            if fills {
                Ret { ffi_type, client_type: None, kind: RetKind::Count {} }
            } else {
                Ret { ffi_type, client_type: Some(t.rust.clone()), kind: RetKind::Value { rust: t.rust } }
            }
        }
        Return::String { encoding, free_with } => {
            // A string result that may be NULL (no `when: null` error rule) is an `Option`.
            let nullable = !f.error.as_ref().is_some_and(|e| e.when == ErrorWhen::Null);
            let client_type = if nullable {
                kinds::option("::std::string::String")
            } else {
                "::std::string::String".into()
            };
            Ret {
                ffi_type: if *encoding == Encoding::Utf16 { "*const u16" } else { "*const u8" }.into(),
                client_type: Some(client_type.clone()),
                kind: RetKind::String {
                    text: kinds::text(*encoding),
                    client_type,
                    free: free_with.is_some(),
                },
            }
        }
        Return::Buffer { element, len, free_with, single } => {
            let t = cx.value(element, &what).unwrap_or_default();
            if let RetLen::Reported(e) = len {
                kinds::expr::after_call_only(e, f, &format!("`{}`'s result", f.c_name), cx);
            }
            let nullable = !f.error.as_ref().is_some_and(|e| e.when == ErrorWhen::Null);
            let vec = if *single { t.rust.clone() } else { format!("::std::vec::Vec<{}>", t.rust) };
            let client_type = if nullable { kinds::option(&vec) } else { vec };
            Ret {
                ffi_type: format!("*const {}", kinds::host_elem(&t)),
                client_type: Some(client_type.clone()),
                kind: RetKind::Buffer {
                    host_elem: kinds::host_elem(&t),
                    elem_size: t.size,
                    count: match len {
                        RetLen::Const(n) => format!("{n}u64"),
                        // As much as the library may report: the host bounds it.
                        RetLen::Call(_) | RetLen::Reported(_) => {
                            format!("{RT}::marshal::MAX_OUT_BUFFER / {}u64", t.size.max(1))
                        }
                    },
                    len_call: match len {
                        RetLen::Call(c) => len_call(f, index, c, params, cx),
                        _ => None,
                    },
                    count_host: match len {
                        RetLen::Reported(e) => Some(kinds::expr::length(e, f, cx, kinds::expr::Side::Host)),
                        _ => None,
                    },
                    free: free_with.is_some(),
                    single: *single,
                    client_type,
                },
            }
        }
        Return::Handle { handle, borrowed } => Ret {
            ffi_type: "*mut ::core::ffi::c_void".into(),
            client_type: Some(handle.clone()),
            kind: RetKind::Handle {
                handle: handle.clone(),
                handle_kind: cx.handle_kind(handle),
                borrowed: *borrowed,
            },
        },
    }
}

/// The library functions the host calls itself for `f`: its returned string's free
/// function (slot `i`, which `ret_string` names), its out-strings' (slot `i_param`), its
/// returned buffer's length function (slot `i_len`).
fn helpers(f: &model::Function, i: usize, params: &[Param], ret: &Ret) -> Vec<Helper> {
    let ret_free = match &f.ret {
        Return::String { free_with: Some(free), .. } | Return::Buffer { free_with: Some(free), .. } => {
            Some(Helper::free(i.to_string(), free))
        }
        _ => None,
    };
    let out_strings = params.iter().filter_map(|p| match &p.kind {
        kinds::ParamKind::OutString(v) => v.free.clone(),
        kinds::ParamKind::OutStrings(v) => v.free.clone(),
        _ => None,
    });
    let len_call = match &ret.kind {
        RetKind::Buffer { len_call: Some(c), .. } => Some(c.helper.clone()),
        _ => None,
    };
    ret_free.into_iter().chain(out_strings).chain(len_call).collect()
}

fn code(c: &str) -> String {
    format!("{RT}::marshal::error::Code::{c}")
}

/// The error rule's view; `invalid`: the values besides NULL that mean no handle.
fn error_view(e: &model::ErrorRule, invalid: &[u32]) -> ErrorView {
    let rule = |r: &str| format!("{RT}::marshal::error::Rule::{r}");
    ErrorView {
        rule: match &e.when {
            ErrorWhen::Negative => rule("Negative"),
            ErrorWhen::Zero => rule("Zero"),
            ErrorWhen::Nonzero => rule("Nonzero"),
            ErrorWhen::Null if invalid.is_empty() => rule("Null"),
            ErrorWhen::Null => {
                let values: Vec<String> = invalid.iter().map(|a| format!("{a:#x}")).collect();
                format!("{}(&[{}])", rule("NullOr"), values.join(", "))
            }
            ErrorWhen::Not { values } => {
                let alts: Vec<String> = values.iter().map(|v| format!("{v}")).collect();
                format!("{}(&[{}])", rule("Not"), alts.join(", "))
            }
        },
        code: match e.code {
            "last_error" => code("LastError"),
            "errno" => code("Errno"),
            _ => code("Return"),
        },
    }
}
