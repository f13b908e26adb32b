//! The model: one validated IR that both emitters read. Every parameter of every function
//! has exactly one marshaling kind, every reference (lengths, handles, callbacks, free
//! functions, exported symbols) is resolved, and every struct that crosses the boundary
//! has its 32-bit layout from clang. Nothing here refers to libclang, goblin or YAML.

pub(crate) mod build;
pub mod dump;
pub mod expr;

use crate::spec::{Encoding, Units};
use serde::Serialize;

pub use build::build;
pub use expr::Expr;

/// Bumped when the model's meaning changes; part of the hash.
pub const MODEL_VERSION: u32 = 1;

/// The validated description of one library's API.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    /// Crate name stem (`name-host`, `name-client`).
    pub name: String,
    /// The library file's name (the host loads it by path at run time).
    pub library: String,
    /// `pe` or `elf`.
    pub format: &'static str,
    /// Whether calls may run on several host threads.
    pub thread_safe: bool,
    /// The generated client's per-call timeout in milliseconds (`None`: no limit). Not part
    /// of the hash: only the client uses it, and a host need not be rebuilt for it.
    #[serde(skip)]
    pub timeout_ms: Option<u64>,
    /// Functions, sorted by C name.
    pub functions: Vec<Function>,
    /// Handle types, sorted by name.
    pub handles: Vec<Handle>,
    /// Structs crossing the boundary, sorted by C name.
    pub structs: Vec<Struct>,
    /// Callback types, sorted by C name.
    pub callbacks: Vec<Callback>,
    /// The header's constants the client carries, sorted by name. Not part of the hash:
    /// only the client has them, and a host need not be rebuilt for them.
    #[serde(skip)]
    pub constants: Vec<Constant>,
}

/// A constant of the header (`#define Z_OK 0`, an enum constant), with its value on the
/// target as clang evaluated it.
#[derive(Debug, Clone, Serialize)]
pub struct Constant {
    /// The C name.
    pub name: String,
    /// Its value (never a pointer: an address means nothing to the 64-bit client).
    pub value: crate::header::ConstValue,
}

impl Model {
    /// A stable hash of everything that affects the wire protocol and the generated code:
    /// FNV-1a (64-bit) over the canonical JSON of the model. Both generated sides carry
    /// it, and the runtime's handshake refuses a mismatch.
    pub fn hash(&self) -> String {
        let canonical = serde_json::to_string(&(MODEL_VERSION, self)).unwrap_or_default();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in canonical.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// How the host finds a function in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Symbol {
    /// By its exported name (decorated as exported, e.g. `f@8`).
    Name {
        /// The exported name.
        name: String,
    },
    /// By ordinal (a PE export without a name, or one the spec pins).
    Ordinal {
        /// The ordinal.
        ordinal: u32,
    },
}

impl Symbol {
    /// How the runtime's `Dylib::symbols` takes it: the name, or `#ordinal`.
    pub fn lookup(&self) -> String {
        match self {
            Symbol::Name { name } => name.clone(),
            Symbol::Ordinal { ordinal } => format!("#{ordinal}"),
        }
    }
}

/// Calling conventions of the 32-bit target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Convention {
    /// Caller cleans the stack.
    Cdecl,
    /// Callee cleans the stack (`WINAPI`).
    Stdcall,
    /// First two arguments in ECX/EDX.
    Fastcall,
}

/// A scalar as it travels: fixed width, never a pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scalar {
    /// An integer (`char` and `BOOL` included).
    Int {
        /// Width.
        bytes: u8,
        /// Signedness.
        signed: bool,
    },
    /// `float` or `double`.
    Float {
        /// 4 or 8.
        bytes: u8,
    },
    /// `_Bool`.
    Bool,
    /// An enum, carried as its integer.
    Enum {
        /// The C enum's name.
        name: String,
        /// Width.
        bytes: u8,
        /// Signedness.
        signed: bool,
    },
}

/// A value that travels by copy: a scalar or a struct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Value {
    /// A scalar.
    Scalar {
        /// Which.
        scalar: Scalar,
    },
    /// A struct from [`Model::structs`].
    Struct {
        /// Its C name.
        name: String,
    },
}

/// How an out-buffer's filled length is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Filled {
    /// The return value.
    Return,
    /// An out-parameter (the named one).
    Param {
        /// The parameter's name.
        name: String,
    },
    /// Up to the first NUL.
    Nul,
    /// The whole capacity.
    Capacity,
    /// An expression over `return` and integer parameters (`return * size`: gzfread
    /// returns items, the buffer counts bytes).
    Expr {
        /// The expression (`return` names the result).
        expr: Expr,
    },
}

/// The marshaling kind of a parameter: exactly one per parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Kind {
    /// Passed by value.
    Value {
        /// What.
        value: Value,
    },
    /// A NUL-terminated input string.
    InString {
        /// Its encoding.
        encoding: Encoding,
        /// NULL allowed.
        optional: bool,
    },
    /// An input buffer.
    InBuffer {
        /// Element type.
        element: Value,
        /// Its length (`None`: no parameter gives it; the library reads how long it is
        /// from the buffer itself, `len: slice` in the spec).
        len: Option<Expr>,
        /// The library keeps the pointer: the host keeps the data until the handle
        /// parameter's object closes, or the same (handle, slot) gets another buffer.
        #[serde(skip_serializing_if = "Option::is_none")]
        retain: Option<Retain>,
        /// Units of `len`.
        units: Units,
        /// NULL allowed.
        optional: bool,
    },
    /// An output buffer.
    OutBuffer {
        /// Element type.
        element: Value,
        /// Its capacity.
        capacity: Expr,
        /// Units of `capacity`.
        units: Units,
        /// How much is filled afterwards.
        filled: Filled,
        /// The library goes on writing it after the call: the host keeps it, and the client
        /// gets a token to read it back with.
        #[serde(skip_serializing_if = "Option::is_none")]
        retain: Option<Retain>,
        /// NULL allowed.
        optional: bool,
        /// The capacity the library reports it needs (over `return` and integer
        /// parameters): when it is more than was given, the host grows the buffer and calls
        /// again (a few times at most).
        #[serde(skip_serializing_if = "Option::is_none")]
        grow: Option<Expr>,
    },
    /// A buffer read and written.
    InoutBuffer {
        /// Element type.
        element: Value,
        /// Its length.
        len: Expr,
        /// Units of `len`.
        units: Units,
        /// NULL allowed.
        optional: bool,
    },
    /// Pointer to one input value.
    In {
        /// The pointee.
        value: Value,
        /// NULL allowed.
        optional: bool,
        /// The library keeps the pointer: the host keeps the value (and what it points to)
        /// until the handle or resident struct parameter named lets go.
        #[serde(skip_serializing_if = "Option::is_none")]
        retain: Option<Retain>,
    },
    /// Pointer to one output value.
    Out {
        /// The pointee.
        value: Value,
        /// NULL allowed.
        optional: bool,
    },
    /// Pointer to one value read and written.
    Inout {
        /// The pointee.
        value: Value,
        /// NULL allowed.
        optional: bool,
        /// The library keeps it and fills it in later calls: the host keeps it, and the
        /// client gets a token to read it with.
        #[serde(skip_serializing_if = "Option::is_none")]
        retain: Option<Retain>,
    },
    /// Pointer to a resident struct: the host's copy at its fixed address, its fields
    /// synced around the call.
    Resident {
        /// The struct.
        strukt: String,
        /// The call uses the struct's buffer fields as its own (`inflateBack` points them
        /// into its window): they are not read back.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        library_buffers: bool,
    },
    /// Memory the host allocates for the library to keep working in, kept with the
    /// resident struct parameter `kept_by` (freed after its end function).
    Scratch {
        /// How many bytes.
        bytes: u64,
        /// The resident struct parameter.
        kept_by: String,
    },
    /// A callback's `T **` through which the closure hands the library a buffer: the
    /// callback's result is how many elements it holds (checked against what it gave).
    Provide {
        /// The element type.
        element: Value,
    },
    /// A handle.
    Handle {
        /// The handle type.
        handle: String,
        /// NULL allowed.
        optional: bool,
    },
    /// `T**` filled with a handle.
    OutHandle {
        /// The handle type.
        handle: String,
    },
    /// A function pointer, served by a host trampoline.
    Callback {
        /// The callback type.
        callback: String,
        /// NULL allowed.
        optional: bool,
        /// How long the library may call it.
        #[serde(skip_serializing_if = "Scope::is_call")]
        scope: Scope,
    },
    /// A destroy-notify (`void (*)(void *)`): the host's, which releases the registration
    /// of the callbacks whose scope names it when the library calls it with their context.
    Destroy {
        /// Its calling convention.
        convention: Convention,
    },
    /// A file descriptor the client gives; the library takes it over when the call succeeds
    /// (the host takes its own duplicate of the client's, and closes it if the call fails).
    Descriptor,
    /// The context pointer of a callback parameter (filled in by the host).
    UserData {
        /// The callback parameter it belongs to.
        of: String,
    },
    /// A length filled in from the buffers it sizes (hidden from the client API).
    Length {
        /// Its C integer type.
        value: Scalar,
        /// The buffer parameters it sizes.
        of: Vec<String>,
    },
    /// A pointer to a count read and written (`uLongf *destLen`): before the call the
    /// length of the buffer it sizes (`*destLen` in that buffer's length), after it the
    /// count the library reports: for an out-buffer how much it filled, for an in-buffer
    /// how much it consumed (then returned to the client). Hidden from the client API.
    InoutLength {
        /// The integer it points to.
        value: Scalar,
        /// The buffer parameter it sizes.
        of: String,
        /// The count after the call is returned to the client (it sizes an in-buffer).
        consumed: bool,
    },
    /// `T **` the library points into the in-buffer parameter `buffer`: the client gets the
    /// offset in elements (`None` for NULL), checked to lie within it.
    OutInto {
        /// The in-buffer parameter.
        buffer: String,
    },
    /// An array of handles the library reads (`HANDLE *lpHandles` with `nCount`).
    InHandles {
        /// The handle type.
        handle: String,
        /// How many.
        len: Expr,
    },
    /// An array of strings the library reads (`const char **argv`, its count `len`): the
    /// client passes `&[&str]`.
    InStrings {
        /// Their encoding.
        encoding: Encoding,
        /// How many (`None`: no count is passed; the NULL after the last ends the array).
        len: Option<Expr>,
        /// NULL allowed (NULL-terminated arrays only).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        optional: bool,
    },
    /// An array of strings (`char **argv`) with its count in another parameter (`argc`):
    /// a callback's argument (elements may be NULL).
    StringArray {
        /// Their encoding.
        encoding: Encoding,
        /// How many: a parameter of the same callback, or a number.
        len: Expr,
    },
    /// An argument the client never sees: the host passes this value.
    Fixed {
        /// What.
        fixed: Fixed,
    },
    /// `char ***` the library points at an array of `len` strings it allocated: copied out
    /// after the call, then freed with `free_with`.
    OutStrings {
        /// Their encoding.
        encoding: Encoding,
        /// How many (over `*out` parameters).
        len: Expr,
        /// The library function the host frees the array with.
        free_with: Option<FreeFn>,
    },
    /// `char **` the library points at a string: copied out after the call (then freed
    /// with `free_with` when the caller owns it), returned as an `Option<String>`.
    OutString {
        /// Its encoding.
        encoding: Encoding,
        /// The library function the host frees it with.
        free_with: Option<FreeFn>,
        /// Its length in units (over `*out` parameters) when it is not NUL-terminated.
        #[serde(skip_serializing_if = "Option::is_none")]
        len: Option<Expr>,
    },
    /// An out-parameter receiving how much of an out-buffer was filled (hidden from the
    /// client API, which returns the buffer at that length).
    OutLength {
        /// The integer it points to.
        value: Scalar,
        /// The out-buffer parameter.
        of: String,
    },
}

/// The value of a fixed argument, as the header's constants give it on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "is", rename_all = "snake_case")]
pub enum Fixed {
    /// An integer parameter's value (checked to fit its type).
    Int {
        /// The value.
        value: i64,
        /// The parameter's type.
        scalar: Scalar,
    },
    /// A pointer parameter's value: NULL is 0.
    Address {
        /// The address on the 32-bit target.
        address: u32,
    },
    /// A `const char *` parameter's value: a string constant (without its NUL).
    Str {
        /// Its bytes.
        bytes: Vec<u8>,
    },
}

/// A parameter.
#[derive(Debug, Clone, Serialize)]
pub struct Param {
    /// The C name.
    pub name: String,
    /// How it is marshaled.
    pub kind: Kind,
}

/// What a function returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Return {
    /// Nothing.
    Void,
    /// A scalar.
    Value {
        /// What.
        value: Value,
    },
    /// A NUL-terminated string; freed with `free_with` when owned by the caller.
    String {
        /// Its encoding.
        encoding: Encoding,
        /// The library function the host calls to free it after copying.
        free_with: Option<FreeFn>,
    },
    /// A handle.
    Handle {
        /// The handle type.
        handle: String,
        /// The library keeps owning it: the type's close functions refuse it.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        borrowed: bool,
    },
    /// A pointer into an out-buffer parameter (`gzgets` returns `buf`): the client gets
    /// its offset in elements.
    Into {
        /// The out-buffer parameter.
        param: String,
    },
    /// A pointer to `len` elements the library owns (a static table, a column's bytes):
    /// copied out.
    Buffer {
        /// Element type.
        element: Value,
        /// How many.
        len: RetLen,
        /// The library function the host frees it with after copying, when the caller owns it.
        #[serde(skip_serializing_if = "Option::is_none")]
        free_with: Option<FreeFn>,
        /// One value the client gets as itself (`returns: { copy: true }`).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        single: bool,
    },
}

/// How many elements a returned buffer holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RetLen {
    /// A constant the spec states (`get_crc_table`: 256).
    Const(u64),
    /// What the call reported through its out-parameters (`*piSize`).
    Reported(Expr),
    /// What another function of the library says when the host calls it right after,
    /// with some of this call's arguments (`sqlite3_column_bytes(stmt, i)`).
    Call(LenCall),
}

/// A library function the host calls for a returned buffer's length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LenCall {
    /// The C name.
    pub name: String,
    /// How the host resolves it.
    pub symbol: Symbol,
    /// Its calling convention.
    pub convention: Convention,
    /// The parameters of the function being called that it takes, in its order (each a
    /// value or a handle of the same C type).
    pub args: Vec<String>,
    /// The integer it returns.
    pub ret: Scalar,
}

/// A library function that frees memory it returned (`void f(void *)`); the host calls
/// it itself, so it need not be part of the client API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreeFn {
    /// The C name.
    pub name: String,
    /// How the host resolves it.
    pub symbol: Symbol,
    /// Its calling convention.
    pub convention: Convention,
}

/// When a call failed and what the error carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorRule {
    /// The condition on the return value.
    pub when: ErrorWhen,
    /// `return`, `last_error` or `errno`.
    pub code: &'static str,
}

/// Failure conditions on the return value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "is", rename_all = "snake_case")]
pub enum ErrorWhen {
    /// `< 0`.
    Negative,
    /// `== 0`.
    Zero,
    /// `!= 0`.
    Nonzero,
    /// NULL.
    Null,
    /// Not one of these.
    Not {
        /// The success values.
        values: Vec<i64>,
    },
}

/// A function of the library.
#[derive(Debug, Clone, Serialize)]
pub struct Function {
    /// The C name.
    pub c_name: String,
    /// The client method's name.
    pub rust_name: String,
    /// How the host resolves it.
    pub symbol: Symbol,
    /// Its calling convention.
    pub convention: Convention,
    /// Parameters in C order.
    pub params: Vec<Param>,
    /// The return value.
    pub ret: Return,
    /// The error convention, if any.
    pub error: Option<ErrorRule>,
    /// The header's doc comment.
    pub doc: Option<String>,
}

/// How long the library keeps a buffer it was given (the first of these that happens ends
/// it; at least one is set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Retain {
    /// The handle parameter whose object keeps it (until it closes, or its slot rebinds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// The integer parameter naming its slot (a bind index), if any.
    pub slot: Option<String>,
    /// The `scope: once` callback parameter whose call ends it (a completion).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The client ends it (an output buffer's `release_retained`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub explicit: bool,
    /// The library writes it only during calls: the client may read it between them.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub between_calls: bool,
}

/// An opaque handle type.
#[derive(Debug, Clone, Serialize)]
pub struct Handle {
    /// The Rust newtype's name.
    pub name: String,
    /// The C type it points to.
    pub c_type: String,
    /// The functions that close it.
    pub close: Vec<String>,
    /// Values besides NULL that mean "no handle" (`INVALID_HANDLE_VALUE`): a function
    /// returning one has failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid: Vec<u32>,
}

/// A struct crossing the boundary, with its layout on the 32-bit target.
#[derive(Debug, Clone, Serialize)]
pub struct Struct {
    /// The C name.
    pub name: String,
    /// Size on the target.
    pub size: u64,
    /// Alignment on the target.
    pub align: u64,
    /// Fields in order.
    pub fields: Vec<StructField>,
    /// The doc comment.
    pub doc: Option<String>,
    /// It lives in the host at one address (`structs: X: { resident: ... }`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resident: Option<Resident>,
}

/// A struct that lives in the host at a fixed address for as long as the client's object.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Resident {
    /// By function that sets it up: the function that must run on it before it is freed.
    pub end: std::collections::BTreeMap<String, String>,
}

/// A struct field.
#[derive(Debug, Clone, Serialize)]
pub struct StructField {
    /// The C name.
    pub name: String,
    /// Byte offset on the target.
    pub offset: u64,
    /// Size and alignment of its type on the target (clang's numbers; what the host's
    /// mirror of the layout checks a slot against). Not hashed: they follow from `ty` and
    /// the target, which are.
    #[serde(skip)]
    pub size: u64,
    #[serde(skip)]
    pub align: u64,
    /// What it holds.
    pub ty: FieldType,
    /// The doc comment.
    pub doc: Option<String>,
}

/// What a struct field holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldType {
    /// A scalar or nested struct.
    Value {
        /// What.
        value: Value,
    },
    /// A fixed array.
    Array {
        /// Element type.
        element: Value,
        /// Element count.
        len: u64,
    },
    /// Bytes copied as they are (unions).
    Bytes {
        /// How many.
        len: u64,
    },
    /// A bit-field.
    Bits {
        /// Offset from the field's byte `offset`, in bits.
        bit_offset: u8,
        /// Width in bits.
        width: u32,
        /// Signedness.
        signed: bool,
    },
    /// A NUL-terminated string pointer.
    String {
        /// Its encoding.
        encoding: Encoding,
        /// NULL allowed.
        optional: bool,
    },
    /// A handle.
    Handle {
        /// The handle type.
        handle: String,
        /// NULL allowed.
        optional: bool,
    },
    /// A pointer to elements whose count is the sibling field `len` (a [`FieldType::Length`]).
    Buffer {
        /// Element type.
        element: Value,
        /// The count field.
        len: String,
        /// NULL allowed.
        optional: bool,
    },
    /// A flexible array member (`T values[]`, or `T values[1]` as Win32's `ANYSIZE_ARRAY`)
    /// whose count is the sibling field `len`: its elements follow the struct.
    Flexible {
        /// Element type.
        element: Value,
        /// The count field.
        len: String,
        /// Elements the type itself declares (0 or 1).
        declared: u64,
    },
    /// A buffer the library fills (`char *buf` with its capacity in the field `capacity`):
    /// the host allocates it, the client reads what was filled.
    OutBuffer {
        /// Element type.
        element: Value,
        /// The capacity field (the client sets it).
        capacity: String,
        /// How much is filled afterwards: a field's value, up to a NUL (`None`), or the
        /// whole capacity (`Some(capacity)`).
        filled: Option<String>,
    },
    /// The count of the buffer fields `of`: the client does not set it, the host does.
    Length {
        /// Its integer type.
        value: Scalar,
        /// The buffer fields it counts.
        of: Vec<String>,
    },
    /// A pointer to one value (a nested struct, a node of a list).
    Pointee {
        /// What it points to.
        value: Value,
        /// NULL allowed.
        optional: bool,
    },
    /// A union whose member the sibling field `tag` selects (a [`FieldType::Tag`]).
    Union {
        /// The selecting field.
        tag: String,
        /// Which tag value selects which member, in the spec's order.
        cases: Vec<UnionCase>,
        /// The union's size.
        size: u64,
        /// Whether a member holds a pointer: then a tag no case names cannot cross.
        pointers: bool,
    },
    /// A pointer of a resident struct the library owns (`state`, `zalloc`): it stays in
    /// the host, unseen by the client.
    Opaque,
    /// The tag of the union fields `of`: set by the host from the member the client chose.
    Tag {
        /// Its integer type.
        value: Scalar,
        /// The union field it selects a member of.
        of: String,
    },
}

/// One member of a tagged union.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnionCase {
    /// The tag value that selects it.
    pub value: i64,
    /// The member's name.
    pub member: String,
    /// What it holds: a value, a string or a handle (at offset 0 of the union).
    pub ty: FieldType,
}

/// How long the library may call a callback it was given. Callbacks kept past their call
/// (every scope but `Call`) live in the client under one registration per call, whose
/// context pointer the library gets (see `runtime/src/host/kept.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "until")]
pub enum Scope {
    /// During the call it was passed to.
    #[default]
    Call,
    /// Until the handle parameter `param` closes, or its `slot` (a hook) is set again.
    Handle {
        /// The handle parameter.
        param: String,
        /// The hook it fills (the function's name unless the spec shares one).
        slot: String,
    },
    /// Until the library calls the destroy-notify parameter `param`.
    Destroy {
        /// The destroy-notify parameter.
        param: String,
    },
    /// For as long as the client lives.
    Forever,
    /// Until the library calls it once (a completion callback); if it never does, for as
    /// long as the host lives.
    Once,
}

/// The `slot` of a `handle` scope that keeps every registration until the handle closes
/// (`slot: none`: functions that register by name with nothing saying when one is replaced,
/// sqlite3's `create_collation`).
pub const NO_SLOT: &str = "none";

impl Scope {
    /// During its call only.
    pub fn is_call(&self) -> bool {
        *self == Scope::Call
    }
}

impl Param {
    /// A callback the library keeps past the call: its scope.
    pub fn kept_scope(&self) -> Option<&Scope> {
        match &self.kind {
            Kind::Callback { scope, .. } if !scope.is_call() => Some(scope),
            _ => None,
        }
    }
}

impl Function {
    /// The scope of the callbacks it keeps past the call (they share one; `None`: it
    /// keeps none).
    pub fn kept_scope(&self) -> Option<&Scope> {
        self.params.iter().find_map(Param::kept_scope)
    }
}

/// A callback (function-pointer) type.
#[derive(Debug, Clone, Serialize)]
pub struct Callback {
    /// The typedef's C name.
    pub name: String,
    /// Its calling convention.
    pub convention: Convention,
    /// Its parameters.
    pub params: Vec<Param>,
    /// What it returns.
    pub ret: Return,
    /// What the library gets when no closure can answer (`None`: zero).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<i64>,
    /// The library may call it from threads of its own, with no call in flight (served by
    /// the client's dispatcher).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub threads: bool,
    /// Its context is what a library function returns for one of its parameters
    /// (`sqlite3_user_data(context)`), not a parameter of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<ContextCall>,
}

/// How a callback's context is found: `via(param)`.
#[derive(Debug, Clone, Serialize)]
pub struct ContextCall {
    /// The library function.
    pub via: FreeFn,
    /// The callback's parameter it is given.
    pub param: String,
}
