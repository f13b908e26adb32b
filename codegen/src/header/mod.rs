//! The header stage: a C header parsed by libclang for the DLL's own 32-bit target, turned
//! into plain data (functions, variables, named types with clang's sizes, alignments and
//! field offsets, doc comments, and the SAL annotations the preprocessor erased).
//! Nothing downstream sees libclang types.

mod clang;
pub mod constants;
mod extract;
pub mod sal;

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub use constants::{ConstValue, Constant};
pub use sal::Sal;

/// The ABI a header is parsed for: the DLL's, never the generator's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// 32-bit Windows (`i686-w64-mingw32`; the mingw headers make `<windows.h>` resolve).
    Windows32,
    /// 32-bit Linux (`i686-linux-gnu`), for ELF32 shared objects.
    Linux32,
    /// 64-bit Windows (`x86_64-w64-mingw32`, LLP64: `long` is 32 bits): the prototypes a
    /// 64-bit program compiled against the same header sees (the proxy library's side).
    Windows64,
    /// 64-bit Linux (`x86_64-linux-gnu`, LP64: `long` is 64 bits), likewise.
    Linux64,
}

impl Target {
    /// The clang arguments selecting this target.
    fn clang_args(self) -> &'static [&'static str] {
        match self {
            Target::Windows32 => &["--target=i686-w64-mingw32"],
            // -m32 on the host triple finds Debian's multilib headers (gcc-multilib).
            Target::Linux32 => &["-m32"],
            Target::Windows64 => &["--target=x86_64-w64-mingw32"],
            Target::Linux64 => &["--target=x86_64-linux-gnu"],
        }
    }

    /// Whether it is a Windows target.
    pub fn is_windows(self) -> bool {
        matches!(self, Target::Windows32 | Target::Windows64)
    }

    /// The 64-bit target of the same system: what a 64-bit caller of the library is
    /// compiled for.
    pub fn sixty_four(self) -> Target {
        if self.is_windows() {
            Target::Windows64
        } else {
            Target::Linux64
        }
    }

    /// Its name, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Target::Windows32 => "i686 Windows",
            Target::Linux32 => "i686 Linux",
            Target::Windows64 => "x86_64 Windows",
            Target::Linux64 => "x86_64 Linux",
        }
    }
}

/// What to parse and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The headers, in include order.
    pub headers: Vec<PathBuf>,
    /// `-I` directories.
    pub include_dirs: Vec<PathBuf>,
    /// `-D` definitions: name and optional value.
    pub defines: Vec<(String, Option<String>)>,
    /// The DLL's target.
    pub target: Target,
    /// C constant expressions to evaluate after the headers (the spec's `fixed:` values).
    pub expressions: Vec<String>,
    /// Parse as C++ (`extern "C"` functions of a header written for C++).
    pub cplusplus: bool,
    /// Headers included before `headers`, as `#include <...>` (a vendor header that uses
    /// `<windows.h>` types without including it).
    pub prelude: Vec<String>,
    /// Also take functions (and the constants `constants` names) from system headers: a
    /// system library such as kernel32.dll, declared by `<windows.h>`.
    pub system: bool,
    /// Which macros and enum constants to evaluate: globs to include (empty: all of the
    /// headers' own, none of the system headers') and to exclude.
    pub constants: (Vec<String>, Vec<String>),
    /// Function prototypes declared after the headers (the spec's variants).
    pub declarations: Vec<Declaration>,
}

/// A function prototype the spec writes (a variant's `declare`), parsed after the headers.
#[derive(Debug, Clone)]
pub struct Declaration {
    /// The C text.
    pub text: String,
    /// Where the spec writes it: the function's position and messages point here.
    pub at: SourcePos,
}

impl Options {
    /// Options for `headers` on `target`, with nothing else.
    pub fn new(headers: Vec<PathBuf>, target: Target) -> Options {
        Options {
            headers,
            include_dirs: Vec::new(),
            defines: Vec::new(),
            target,
            expressions: Vec::new(),
            prelude: Vec::new(),
            cplusplus: false,
            system: false,
            constants: (Vec::new(), Vec::new()),
            declarations: Vec::new(),
        }
    }

    /// Whether the constant `name` (declared in a system header or not) is wanted.
    pub(crate) fn wants_constant(&self, name: &str, system: bool) -> bool {
        let (include, exclude) = &self.constants;
        let included =
            if include.is_empty() { !system } else { include.iter().any(|g| crate::glob(g, name)) };
        included && !exclude.iter().any(|g| crate::glob(g, name))
    }
}

/// Where a declaration is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourcePos {
    /// The file, as libclang names it.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// Everything extracted from the headers.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    /// The target it was parsed for.
    pub target: Target,
    /// Functions declared outside system headers, sorted by name.
    pub functions: Vec<Function>,
    /// `extern` variables declared outside system headers, sorted by name.
    pub variables: Vec<Variable>,
    /// Every named type the functions and variables reach, by name (`struct s`, `union u`,
    /// `enum e` for tags; the bare name for typedefs).
    pub types: BTreeMap<String, TypeDef>,
    /// Object-like macros that are constants, and enum constants, sorted by name.
    pub constants: Vec<Constant>,
    /// The value of each of [`Options::expressions`], or clang's reason it has none.
    pub expressions: BTreeMap<String, Result<ConstValue, String>>,
}

impl Header {
    /// The function named `name`.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.binary_search_by(|f| f.name.as_str().cmp(name)).ok().map(|i| &self.functions[i])
    }

    /// Whether `ty` is a `va_list` (through any typedef of it): a pointer into the
    /// caller's stack frame on i386, which no other process can read.
    pub fn is_va_list(&self, ty: &CType) -> bool {
        const NAMES: &[&str] =
            &["va_list", "__gnuc_va_list", "__builtin_va_list", "__va_list_tag", "__va_list"];
        let mut t = ty;
        for _ in 0..64 {
            match t {
                CType::Named { name } if NAMES.contains(&name.as_str()) => return true,
                CType::Named { name } => match self.types.get(name).map(|t| &t.kind) {
                    Some(TypeDefKind::Typedef { target }) => t = target,
                    _ => return false,
                },
                _ => return false,
            }
        }
        false
    }

    /// Follows typedefs to the type they name.
    pub fn resolve<'a>(&'a self, mut ty: &'a CType) -> &'a CType {
        for _ in 0..64 {
            match ty {
                CType::Named { name } => match self.types.get(name).map(|t| &t.kind) {
                    Some(TypeDefKind::Typedef { target }) => ty = target,
                    _ => return ty,
                },
                _ => return ty,
            }
        }
        ty
    }
}

/// A C type, as written (typedef names kept; see [`Header::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CType {
    /// `void`.
    Void,
    /// `_Bool`.
    Bool,
    /// Plain `char` (its signedness is the target's).
    Char {
        /// Whether plain char is signed on the target.
        signed: bool,
    },
    /// An integer type other than plain `char`.
    Int {
        /// Size on the target.
        bytes: u8,
        /// Signedness.
        signed: bool,
    },
    /// `float` or `double`.
    Float {
        /// 4 or 8.
        bytes: u8,
    },
    /// A pointer.
    Pointer {
        /// What it points to.
        pointee: Box<CType>,
        /// Whether the pointee is `const`.
        const_pointee: bool,
    },
    /// A fixed-size array.
    Array {
        /// The element type.
        element: Box<CType>,
        /// Number of elements (0 for a flexible array member).
        len: u64,
    },
    /// A typedef, struct, union or enum: a key of [`Header::types`].
    Named {
        /// The key.
        name: String,
    },
    /// A function type (the pointee of a function pointer).
    Function(Box<Signature>),
    /// Something dllgen cannot marshal (`long double`, vectors, `_Complex`, ...).
    Unsupported {
        /// clang's spelling of it.
        spelling: String,
    },
}

/// A function type's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signature {
    /// The return type.
    pub ret: CType,
    /// Parameter types.
    pub params: Vec<CType>,
    /// Parameter names where the declaration gives them (function-pointer typedefs).
    pub param_names: Vec<String>,
    /// Whether it ends in `...`.
    pub variadic: bool,
    /// The calling convention.
    pub convention: CallConv,
}

/// Calling conventions clang reports for i686.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallConv {
    /// `__cdecl`, the default.
    Cdecl,
    /// `__stdcall` (`WINAPI`, `CALLBACK`).
    Stdcall,
    /// `__fastcall`.
    Fastcall,
    /// `__vectorcall`.
    Vectorcall,
    /// `__thiscall`.
    Thiscall,
    /// Anything else, by clang's number.
    Other(u32),
}

/// A function declaration.
#[derive(Debug, Clone, Serialize)]
pub struct Function {
    /// The C name.
    pub name: String,
    /// The return type.
    pub ret: CType,
    /// The parameters, in order.
    pub params: Vec<Param>,
    /// Whether it ends in `...`.
    pub variadic: bool,
    /// Whether it has a prototype (`int f();` does not).
    pub prototyped: bool,
    /// The calling convention clang computed for the target.
    pub convention: CallConv,
    /// The doc comment, markers stripped.
    pub doc: Option<String>,
    /// SAL annotations on the return value (`_Ret_z_`, `_Success_(...)`, ...).
    pub ret_sal: Vec<Sal>,
    /// Where it is declared.
    pub location: SourcePos,
    /// Declared by the spec (a variant's `declare`), not by the headers.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub from_spec: bool,
}

impl Function {
    /// Bytes of arguments on the stack, as a stdcall decoration (`f@N`) counts them:
    /// each argument rounded up to 4 bytes. `None` if a size is unknown.
    pub fn stack_bytes(&self) -> Option<u64> {
        self.params.iter().map(|p| p.size.map(|s| s.div_ceil(4) * 4)).sum()
    }
}

/// A function parameter.
#[derive(Debug, Clone, Serialize)]
pub struct Param {
    /// The name, or `arg{N}` when the header gives none.
    pub name: String,
    /// Its type.
    pub ty: CType,
    /// Its size on the target (arrays decayed to pointers), `None` if incomplete.
    pub size: Option<u64>,
    /// Its SAL annotations.
    pub sal: Vec<Sal>,
}

/// An `extern` variable.
#[derive(Debug, Clone, Serialize)]
pub struct Variable {
    /// The C name.
    pub name: String,
    /// Its type.
    pub ty: CType,
    /// The doc comment.
    pub doc: Option<String>,
    /// Where it is declared.
    pub location: SourcePos,
}

/// A named type.
#[derive(Debug, Clone, Serialize)]
pub struct TypeDef {
    /// Size on the target; `None` for incomplete (opaque) types.
    pub size: Option<u64>,
    /// Alignment on the target.
    pub align: Option<u64>,
    /// What it is.
    pub kind: TypeDefKind,
    /// The doc comment.
    pub doc: Option<String>,
}

/// The kinds of named type.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeDefKind {
    /// `typedef T name;`
    Typedef {
        /// T.
        target: CType,
    },
    /// A struct with its fields.
    Struct {
        /// Fields in declaration order.
        fields: Vec<Field>,
    },
    /// A union with its members.
    Union {
        /// Members in declaration order.
        fields: Vec<Field>,
    },
    /// An enum.
    Enum {
        /// The integer type clang chose.
        underlying: CType,
        /// Constants in declaration order.
        constants: Vec<(String, i64)>,
    },
    /// A struct or union declared but never defined: only usable behind a pointer.
    Opaque,
}

/// A struct or union field.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// The name (anonymous members get `__anon{N}`).
    pub name: String,
    /// Its type.
    pub ty: CType,
    /// Offset from the start of the record in bits, as clang lays it out for the target.
    pub offset_bits: u64,
    /// Width for bit-fields.
    pub bit_width: Option<u32>,
    /// Its type's size and alignment in bytes, as clang lays it out for the target
    /// (`None` for an incomplete type).
    pub size: Option<u64>,
    pub align: Option<u64>,
    /// The doc comment.
    pub doc: Option<String>,
}

/// A header that could not be parsed: clang's errors, each with its position.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    /// libclang is missing or refused the input altogether.
    #[error("{0}")]
    Clang(String),
    /// Headers that are not readable text files, by their index in [`Options::headers`].
    #[error("{}", .0.iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Inputs(Vec<(usize, crate::input::InputError)>),
    /// The header has errors, each with its position.
    #[error("{0}")]
    Diagnostics(crate::diag::Diagnostics),
}

/// Parses the headers for the target.
pub fn parse(options: &Options) -> Result<Header, HeaderError> {
    extract::parse(options)
}
