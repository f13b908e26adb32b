//! Spec + header + library → [`Model`], reporting every problem before giving up.
//!
//! Phases: select the functions (export globs), match them with the library's exports,
//! resolve conventions, classify every parameter and return value (spec first, then SAL,
//! then what the C type makes unambiguous), resolve lengths, then check the spec's own
//! references (unknown functions and parameters get "did you mean").
//!
//! One file per concern, each adding methods to the one [`Builder`]: `exports.rs`
//! (selection, exports and conventions), `types.rs` (values, structs and their 32-bit
//! layouts, strings), `handles.rs`, `callbacks.rs`, `params.rs` (classifying parameters),
//! `lengths.rs`, `returns.rs` (results, free functions, error rules, names), `xref.rs` (the
//! spec's references to the header).

use super::*;
use crate::binary::decorate::Scheme;
use crate::binary::pe::ExportKind;
use crate::binary::Binary;
use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use crate::header::sal::{self, Direction};
use crate::header::{self, CType, CallConv, Header, SourcePos, TypeDefKind};
use crate::spec::{self, ParamKind, ParamSpec, Spanned, Spec};
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod callbacks;
mod exports;
mod handles;
mod lengths;
mod params;
mod returns;
mod types;
mod variants;
mod xref;

use exports::glob;
pub(crate) use exports::Exports;
use types::Why;

/// Builds the model, or returns every problem found.
pub fn build(spec: &Spec, header: &Header, binary: &Binary) -> Result<Model, Diagnostics> {
    let exports = Exports::of(binary);
    // Whose descriptors a Windows library's are: msvcrt's, the only C runtime the host can
    // make one of (`descriptor`); `None` for an ELF library (the kernel's).
    let msvcrt = match binary {
        Binary::Pe(pe) => Some(pe.imports.iter().any(|d| d.dll.eq_ignore_ascii_case("msvcrt.dll"))),
        Binary::Elf(_) => None,
    };
    let mut b = Builder {
        msvcrt,
        spec,
        header,
        exports: &exports,
        struct_specs: BTreeMap::new(),
        views: BTreeMap::new(),
        renamed: BTreeMap::new(),
        diags: Vec::new(),
        sources: HashMap::new(),
        structs: BTreeMap::new(),
        callbacks: BTreeMap::new(),
    };
    b.resolve_struct_specs();
    let mut functions = Vec::new();
    for f in &header.functions {
        // A variant is generated because the spec declares it; it is not an export to select.
        let wanted = if f.from_spec { spec.functions.contains_key(&f.name) } else { b.selected(&f.name) };
        if !wanted {
            continue;
        }
        if let Some(m) = b.function(f, &exports) {
            functions.push(m);
        }
    }
    b.unmatched_exports(&exports);
    let callbacks: Vec<Callback> = b.callbacks.values().cloned().collect();
    b.flexible_uses(&functions, &callbacks);
    b.resident_uses(&functions, &callbacks);
    b.spec_references();
    let handles = b.handles();
    if !b.diags.is_empty() {
        return Err(Diagnostics(b.diags));
    }
    Ok(Model {
        name: spec.name.value.clone(),
        library: spec.library.value.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        format: match binary {
            Binary::Pe(_) => "pe",
            Binary::Elf(_) => "elf",
        },
        thread_safe: spec.thread_safe,
        timeout_ms: spec.timeout_ms,
        functions,
        handles,
        structs: b.structs.into_values().collect(),
        callbacks: b.callbacks.into_values().collect(),
        constants: constants(spec, header),
    })
}

struct Builder<'a> {
    spec: &'a Spec,
    header: &'a Header,
    exports: &'a Exports,
    /// Client names given by `rename`, to refuse clashes.
    renamed: BTreeMap<String, String>,
    /// `structs:` entries by the struct's key in the header (typedef names followed).
    struct_specs: BTreeMap<String, &'a Spanned<spec::StructSpec>>,
    /// Whether a Windows library imports msvcrt (`None`: not a Windows library).
    msvcrt: Option<bool>,
    /// Struct views (`view_of`): the view's name → the header struct it has the layout of.
    views: BTreeMap<String, String>,
    diags: Vec<Diagnostic>,
    sources: HashMap<std::path::PathBuf, Option<String>>,
    structs: BTreeMap<String, Struct>,
    callbacks: BTreeMap<String, Callback>,
}

/// Where a classification came from, for error positions.
enum Origin<'s> {
    Spec(&'s Spanned<ParamSpec>),
    Header,
}

/// The header's constants the spec selects (`constants:`), pointers left out.
fn constants(spec: &Spec, header: &Header) -> Vec<Constant> {
    let c = &spec.constants;
    if c.none {
        return Vec::new();
    }
    header
        .constants
        .iter()
        .filter(|k| c.include.is_empty() || c.include.iter().any(|g| glob(&g.value, &k.name)))
        .filter(|k| !c.exclude.iter().any(|g| glob(&g.value, &k.name)))
        .filter(|k| !matches!(k.value, header::ConstValue::Pointer { .. }))
        .map(|k| Constant { name: k.name.clone(), value: k.value.clone() })
        .collect()
}

impl<'a> Builder<'a> {
    fn selected(&self, name: &str) -> bool {
        let included = self.spec.include.is_empty() || self.spec.include.iter().any(|g| glob(&g.value, name));
        included && !self.spec.exclude.iter().any(|g| glob(&g.value, name))
    }

    fn at_header(&mut self, pos: &SourcePos, message: impl Into<String>) -> &mut Diagnostic {
        // Past the problems shown, no source line is looked up (see `diag::SHOWN`).
        let shown = self.diags.len() < crate::diag::SHOWN;
        let source = match shown {
            true => self
                .sources
                .entry(pos.file.clone())
                .or_insert_with(|| std::fs::read_to_string(&pos.file).ok())
                .as_deref(),
            false => None,
        };
        self.diags.push(Diagnostic::at(&pos.file, source, pos.line as usize, pos.column as usize, message));
        self.diags.last_mut().expect("just pushed")
    }

    fn at_spec(&mut self, pos: spec::Pos, message: impl Into<String>) -> &mut Diagnostic {
        let source = (self.diags.len() < crate::diag::SHOWN).then_some(self.spec.source.as_str());
        self.diags.push(Diagnostic::at(&self.spec.path, source, pos.line, pos.column, message));
        self.diags.last_mut().expect("just pushed")
    }
}

fn conv_name(c: Convention) -> &'static str {
    match c {
        Convention::Cdecl => "cdecl",
        Convention::Stdcall => "stdcall",
        Convention::Fastcall => "fastcall",
    }
}

/// Whether a return value is an integer (what error conditions other than `null` test).
fn integer_return(ret: &Return) -> bool {
    matches!(
        ret,
        Return::Value {
            value: Value::Scalar { scalar: Scalar::Int { .. } | Scalar::Enum { .. } | Scalar::Bool }
        }
    )
}

/// A C type as a user would write it, for messages.
fn describe(ty: &CType) -> String {
    match ty {
        CType::Void => "void".into(),
        CType::Bool => "_Bool".into(),
        CType::Char { .. } => "char".into(),
        CType::Int { bytes, signed } => {
            format!("a {}{}-bit integer", if *signed { "" } else { "unsigned " }, bytes * 8)
        }
        CType::Float { bytes } => if *bytes == 4 { "float" } else { "double" }.into(),
        CType::Pointer { pointee, const_pointee } => {
            format!("{}{} *", if *const_pointee { "const " } else { "" }, describe(pointee))
        }
        CType::Array { element, len } => format!("{}[{len}]", describe(element)),
        CType::Named { name } => name.clone(),
        CType::Function(_) => "a function".into(),
        CType::Unsupported { spelling } => spelling.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("demo_*", "demo_open"));
        assert!(glob("*", ""));
        assert!(glob("?*", "?twice@fx@@YAHH@Z"));
        assert!(glob("_Z*", "_ZN2fx5twiceEi"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("demo_*", "other"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*_internal_*", "x_internal_y"));
    }
}
