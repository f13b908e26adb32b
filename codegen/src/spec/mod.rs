//! The YAML spec (schema in `specs/SCHEMA.md`), read with every value's position so that
//! later stages can point at the line a problem comes from.

mod read;
pub mod review;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use read::{parse, parse_str};

/// A 1-based line and column in the spec file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A value and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Its position.
    pub pos: Pos,
}

/// A parsed spec.
/// The timeout of a spec that names none: a call (or start-up) that takes longer is cut.
pub const DEFAULT_TIMEOUT_MS: u64 = 60_000;

#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec file.
    pub path: PathBuf,
    /// Its text (for error snippets).
    pub source: String,
    /// Crate name stem.
    pub name: Spanned<String>,
    /// Headers, resolved against the spec's folder.
    pub headers: Vec<Spanned<PathBuf>>,
    /// The library, resolved against the spec's folder.
    pub library: Spanned<PathBuf>,
    /// `-I` folders, resolved.
    pub include_dirs: Vec<PathBuf>,
    /// `-D` definitions.
    pub defines: Vec<(String, Option<String>)>,
    /// Default calling convention for prototypes that name none.
    pub calling_convention: Option<Spanned<Convention>>,
    /// Whether the library may be called from several threads at once.
    pub thread_safe: bool,
    /// Take declarations from system headers too (a system library: kernel32.dll).
    pub system_headers: bool,
    /// Headers included before the spec's, as `#include <...>`.
    pub prelude: Vec<Spanned<String>>,
    /// `language: c++`: the headers are parsed as C++.
    pub cplusplus: bool,
    /// The generated client's per-call timeout in milliseconds (`None`: no limit).
    pub timeout_ms: Option<u64>,
    /// Also generate the 64-bit proxy library (`<name>-proxy`).
    pub proxy: Option<ProxySpec>,
    /// Export globs to include (empty: all).
    pub include: Vec<Spanned<String>>,
    /// Export globs to exclude.
    pub exclude: Vec<Spanned<String>>,
    /// Which header constants the client carries.
    pub constants: Constants,
    /// Default error convention.
    pub error: Option<Spanned<ErrorRule>>,
    /// Handle types by Rust name.
    pub handles: BTreeMap<String, Spanned<HandleSpec>>,
    /// Struct field semantics by C type name.
    pub structs: BTreeMap<String, Spanned<StructSpec>>,
    /// Callback typedefs by C name.
    pub callbacks: BTreeMap<String, Spanned<CallbackSpec>>,
    /// Per-function semantics by C name.
    pub functions: BTreeMap<String, Spanned<FunctionSpec>>,
    /// Lines marked `# review`: guesses nobody confirmed.
    pub unconfirmed: Vec<review::Unconfirmed>,
}

impl Spec {
    /// The variants the spec declares: (name, the function they call, the C prototype).
    pub fn variants(&self) -> impl Iterator<Item = (&str, &Spanned<String>, &Spanned<String>)> {
        self.functions.iter().filter_map(|(name, f)| match (&f.value.variant_of, &f.value.declare) {
            (Some(of), Some(declare)) => Some((name.as_str(), of, declare)),
            _ => None,
        })
    }

    /// The C constant expressions the spec's `fixed:` values name, each once, sorted.
    pub fn expressions(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<String> = self
            .functions
            .values()
            .flat_map(|f| f.value.params.values())
            .filter_map(|p| match &p.value.kind {
                ParamKind::Fixed(Some(e)) => Some(e.value.clone()),
                _ => None,
            })
            .chain(self.handles.values().flat_map(|h| h.value.invalid.iter().map(|e| e.value.clone())))
            // Union tag values that are not plain numbers.
            .chain(self.structs.values().flat_map(|s| s.value.fields.values()).flat_map(|f| {
                match &f.value.kind {
                    ParamKind::Union { cases, .. } => cases
                        .iter()
                        .map(|(v, _)| v.value.clone())
                        .filter(|v| v.parse::<i64>().is_err())
                        .collect::<Vec<_>>(),
                    _ => Vec::new(),
                }
            }))
            .collect();
        set.into_iter().collect()
    }
}

/// `proxy:`: the drop-in 64-bit library exporting the spec's functions.
#[derive(Debug, Clone, Default)]
pub struct ProxySpec {
    /// Its file name (`libz.so.1`, `zlib1.dll`); by default the library's soname on Linux,
    /// its file name on Windows.
    pub file: Option<Spanned<String>>,
    /// The value a call the proxy cannot make returns, for each function whose error rule
    /// calls it a failure (`error: 1`: SQLITE_ERROR for `nonzero`).
    pub error: Option<Spanned<i64>>,
}

/// Which of the header's constants become `const`s of the client: all of them by default.
#[derive(Debug, Clone, Default)]
pub struct Constants {
    /// `constants: none`.
    pub none: bool,
    /// Globs over C names (empty: all).
    pub include: Vec<Spanned<String>>,
    /// Globs over C names to leave out.
    pub exclude: Vec<Spanned<String>>,
}

/// Calling conventions a spec may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// `cdecl`.
    Cdecl,
    /// `stdcall`.
    Stdcall,
}

/// What a spec says about one function.
#[derive(Debug, Clone, Default)]
pub struct FunctionSpec {
    /// The client method's name.
    pub rename: Option<Spanned<String>>,
    /// Calling convention override.
    pub calling_convention: Option<Spanned<Convention>>,
    /// Resolve by this ordinal (a PE export without a name) instead of by name.
    pub ordinal: Option<Spanned<u32>>,
    /// This entry is a variant the spec declares: the exported function it calls (a
    /// variadic one with its `...` fixed, or one whose pointer parameters it retypes).
    pub variant_of: Option<Spanned<String>>,
    /// The variant's C prototype (with `variant_of`), parsed by clang after the headers.
    pub declare: Option<Spanned<String>>,
    /// Parameter semantics by C parameter name.
    pub params: BTreeMap<String, Spanned<ParamSpec>>,
    /// Return value semantics.
    pub returns: Option<Spanned<ReturnSpec>>,
    /// Error convention: `Some(None)` is an explicit `error: none`.
    pub error: Option<Spanned<Option<ErrorRule>>>,
    /// What the proxy library returns when it cannot make the call (no host, a timeout).
    pub proxy_error: Option<Spanned<i64>>,
}

/// One parameter's (or struct field's) semantics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamSpec {
    /// The kind.
    pub kind: ParamKind,
    /// NULL allowed.
    pub optional: bool,
}

/// Text encodings of strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// UTF-8 bytes.
    Utf8,
    /// The Windows ANSI code page (bytes).
    Ansi,
    /// UTF-16 code units (`wchar_t` on Windows).
    Utf16,
}

/// Whether counts are in elements or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Units {
    /// Elements of the pointee type (the default).
    #[default]
    Elements,
    /// Bytes.
    Bytes,
}

/// How much an out-buffer holds after the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filled {
    /// The return value is the count.
    Return,
    /// An out-parameter receives the count.
    Param(String),
    /// NUL-terminated.
    Nul,
    /// Always the whole capacity.
    Capacity,
    /// An expression over `return` and integer parameters.
    Expr(String),
}

/// How long the library keeps a buffer whose pointer it was given
/// (`retain: { handle: arg0, slot: arg1, until: done, explicit: true }`): until that handle
/// parameter's object is closed, or until the same handle and slot get another buffer; until
/// the completion callback parameter `until` fires; or (an output buffer) until the client
/// says so. The first of them that happens ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retain {
    /// The handle parameter.
    pub handle: Option<Spanned<String>>,
    /// A parameter whose value names the slot (a bind index), if any.
    pub slot: Option<Spanned<String>>,
    /// The callback parameter (`scope: once`) whose call ends it.
    pub until: Option<Spanned<String>>,
    /// The client ends it (an output buffer's `release_retained`).
    pub explicit: bool,
    /// The library writes it only during calls: the client may read it between them.
    pub between_calls: bool,
    /// Where it was written.
    pub pos: Pos,
}

/// Parameter kinds (`specs/SCHEMA.md`, "Parameters").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamKind {
    /// Passed as is.
    Scalar,
    /// NUL-terminated input string; the encoding follows the pointee's width when unsaid.
    InString(Option<Encoding>),
    /// Input buffer of `len`.
    InBuffer {
        /// Length expression.
        len: Spanned<String>,
        /// Its units.
        units: Units,
        /// The library keeps the pointer after the call: how long the host keeps the data.
        retain: Option<Retain>,
    },
    /// A pointer to one value the library reads and keeps past the call
    /// (`in: { retain: ... }`: zlib's `deflateSetHeader`).
    InRetained(Retain),
    /// A pointer to one value the library keeps and fills in later calls
    /// (`inout: { view: STRUCT, retain: ... }`: zlib's `inflateGetHeader`); `view` names a
    /// `structs:` entry with `view_of` the pointee.
    InoutRetained {
        /// The struct view the value is marshaled as.
        view: Option<Spanned<String>>,
        /// What keeps it.
        retain: Retain,
    },
    /// Output buffer with `capacity`, holding `filled` afterwards.
    OutBuffer {
        /// Capacity expression.
        capacity: Spanned<String>,
        /// Its units.
        units: Units,
        /// How much is filled.
        filled: Spanned<Filled>,
        /// The capacity the library says it needs (`return` of GetEnvironmentVariableW):
        /// when it exceeds the capacity given, the host grows the buffer and calls again.
        grow: Option<Spanned<String>>,
        /// The library goes on writing it after the call: how long the host keeps it.
        retain: Option<Retain>,
    },
    /// An array of handles the library reads, with its count (`HANDLE *lpHandles, DWORD
    /// nCount`).
    InHandles {
        /// Length expression.
        len: Spanned<String>,
        /// The handle type of the elements.
        handle: Spanned<String>,
    },
    /// Buffer read and written.
    InoutBuffer {
        /// Length expression.
        len: Spanned<String>,
        /// Its units.
        units: Units,
    },
    /// Pointer to one input value.
    In,
    /// Pointer to one output value.
    Out,
    /// Pointer to one value read and written.
    Inout,
    /// A handle of the named type.
    Handle(Spanned<String>),
    /// `T**` filled with a handle of the named type.
    OutHandle(Spanned<String>),
    /// A function pointer: its typedef's entry under `callbacks:`, or described in place.
    Callback(Option<Spanned<CallbackSpec>>),
    /// The context pointer handed back to a callback.
    UserData,
    /// A file descriptor the client gives and the library takes over (`gzdopen`'s `fd`).
    Descriptor,
    /// A pointer field of a resident struct the library owns: it stays in the host.
    Opaque,
    /// Memory the library keeps working in (`inflateBackInit_`'s window): `bytes` the host
    /// allocates, kept with the resident struct parameter `kept_by` until it is freed.
    Scratch {
        /// How many bytes.
        bytes: Spanned<u64>,
        /// The resident struct parameter that keeps it.
        kept_by: Spanned<String>,
    },
    /// A callback's `T **` through which it hands the library a buffer of its own
    /// (`inflateBack`'s `in`): the callback's result is how many elements it holds.
    Provide,
    /// A resident struct whose buffer fields this call uses as its own (`inflateBack`).
    LibraryBuffers,
    /// An argument the client never sees: NULL (`None`), or a C constant expression the
    /// header makes valid (`0`, `SQLITE_TRANSIENT`, `sizeof(z_stream)`, `ZLIB_VERSION`),
    /// evaluated by clang for the target.
    Fixed(Option<Spanned<String>>),
    /// `char ***` the library points at an array of strings it allocated, of `len`
    /// (over out-values: `(*pnRow + 1) * *pnColumn`), freed with `free_with`.
    OutStrings {
        /// Its encoding; the pointee's width decides when unsaid.
        encoding: Option<Encoding>,
        /// How many strings.
        len: Spanned<String>,
        /// The library function that frees the array.
        free_with: Option<Spanned<String>>,
    },
    /// `T **` the library points into the buffer parameter named (`VerQueryValueW`'s
    /// `lplpBuffer` into `pBlock`): the client gets the offset.
    OutInto(Spanned<String>),
    /// A struct field that is a union whose member the sibling field `tag` selects.
    Union {
        /// The selecting field.
        tag: Spanned<String>,
        /// Tag value (a C constant expression) → member name, in the spec's order.
        cases: Vec<(Spanned<String>, Spanned<String>)>,
        /// Semantics of the members that are pointers.
        members: BTreeMap<String, Spanned<ParamSpec>>,
    },
    /// `char **` the library points at a string: copied out, then freed with `free_with`
    /// when the caller owns it.
    OutString {
        /// Its encoding; the pointee's width decides when unsaid.
        encoding: Option<Encoding>,
        /// The library function that frees it.
        free_with: Option<Spanned<String>>,
        /// Its length in units when it is not NUL-terminated (over out-values: `*pnName`).
        len: Option<Spanned<String>>,
    },
}

/// Return value semantics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnSpec {
    /// A NUL-terminated string, freed with `free_with` when given.
    String {
        /// Its encoding.
        encoding: Encoding,
        /// The library function that frees it.
        free_with: Option<Spanned<String>>,
    },
    /// A handle of the named type; `borrowed`: the library keeps owning it, so the
    /// type's close functions refuse it.
    Handle {
        /// The handle type.
        name: Spanned<String>,
        /// The library's own object, never closed by the caller.
        borrowed: bool,
    },
    /// A pointer into the out-buffer parameter named (`gzgets` returns its `buf`).
    Into(Spanned<String>),
    /// An integer or pointer the client has no use for (`sqlite3_update_hook` returns the
    /// previous hook's context): dropped by the host.
    Ignore,
    /// A pointer to `len` elements (its pointee's type): copied out, then freed with
    /// `free_with` when the caller owns it.
    Buffer {
        /// The library function that frees it.
        free_with: Option<Spanned<String>>,
        /// One value (`copy: true`): the client gets it, not a `Vec` of one.
        single: bool,
        /// How many elements (a length expression over the parameters).
        len: Spanned<String>,
    },
}

/// When a function failed, and what the error carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRule {
    /// The failure condition on the return value.
    pub when: ErrorWhen,
    /// Where the error code comes from.
    pub code: ErrorCode,
}

/// Failure conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorWhen {
    /// `< 0`.
    Negative,
    /// `== 0` (`FALSE`).
    Zero,
    /// `!= 0`.
    Nonzero,
    /// A NULL pointer.
    Null,
    /// Any value but these.
    Not(Vec<i64>),
}

/// Where an error's code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorCode {
    /// The returned value.
    #[default]
    Return,
    /// `GetLastError()`, read in the host right after the call.
    LastError,
    /// `errno`, read in the host right after the call.
    Errno,
}

/// A handle type.
#[derive(Debug, Clone)]
pub struct HandleSpec {
    /// The pointee's C type name.
    pub c_type: Spanned<String>,
    /// The functions that close it (`close: f`, or a list: `gzclose`, `gzclose_r`...).
    pub close: Vec<Spanned<String>>,
    /// C constant expressions for values besides NULL that are no handle.
    pub invalid: Vec<Spanned<String>>,
}

/// Semantics of a struct's pointer fields.
#[derive(Debug, Clone, Default)]
pub struct StructSpec {
    /// The header struct this entry is another view of (its own field kinds, the same
    /// layout): `gz_header_out: { view_of: gz_header }` for the header zlib fills.
    pub view_of: Option<Spanned<String>>,
    /// By field name.
    pub fields: BTreeMap<String, Spanned<ParamSpec>>,
    /// It lives in the host, at one address, for as long as the client's object does.
    pub resident: Option<Spanned<ResidentSpec>>,
}

/// A struct the host keeps at a fixed address (`z_stream`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResidentSpec {
    /// By function that sets it up (`deflateInit_`): the function that must run before it
    /// is freed (`deflateEnd`).
    pub end: BTreeMap<String, Spanned<String>>,
}

/// A callback type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallbackSpec {
    /// Which parameter carries the context pointer (with `context_call`: the parameter
    /// that function is given).
    pub user_data: Option<Spanned<String>>,
    /// The library function that returns the context from `user_data`'s parameter
    /// (`sqlite3_user_data(context)`): the callback gets no context pointer of its own.
    pub context_call: Option<Spanned<String>>,
    /// Semantics of its pointer parameters.
    pub params: BTreeMap<String, Spanned<ParamSpec>>,
    /// How long the library may call it (a use's, not a type's: only on a parameter).
    pub scope: Option<Spanned<ScopeSpec>>,
    /// What the library gets when no closure can answer (else 0).
    pub default: Option<Spanned<i64>>,
    /// The library may call it from threads of its own, also while no call runs.
    pub threads: Option<Spanned<bool>>,
}

/// How long the library may call a callback it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeSpec {
    /// During the call it was passed to.
    Call,
    /// Until the handle parameter named closes, or the same function (or one sharing its
    /// `slot`) is called again on it.
    Handle {
        /// The handle parameter.
        param: Spanned<String>,
        /// The hook it sets (default: the function's name).
        slot: Option<Spanned<String>>,
    },
    /// Until the library calls the destroy-notify parameter named with the context.
    Destroy(Spanned<String>),
    /// As long as the client lives.
    Forever,
    /// Until the library calls it once (a completion callback).
    Once,
}
