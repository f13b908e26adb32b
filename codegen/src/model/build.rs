//! Spec + header + library → [`Model`], reporting every problem before giving up.
//!
//! Phases: select the functions (export globs), match them with the library's exports,
//! resolve conventions, classify every parameter and return value (spec first, then SAL,
//! then what the C type makes unambiguous), resolve lengths, then check the spec's own
//! references (unknown functions and parameters get "did you mean").

use super::*;
use crate::binary::decorate::Scheme;
use crate::binary::pe::ExportKind;
use crate::binary::Binary;
use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use crate::header::sal::{self, Direction};
use crate::header::{self, CType, CallConv, Header, SourcePos, Target, TypeDefKind};
use crate::spec::{self, ParamKind, ParamSpec, Spanned, Spec};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Builds the model, or returns every problem found.
pub fn build(spec: &Spec, header: &Header, binary: &Binary) -> Result<Model, Diagnostics> {
    let exports = Exports::of(binary);
    let mut b = Builder {
        spec,
        header,
        exports: &exports,
        struct_specs: BTreeMap::new(),
        renamed: BTreeMap::new(),
        diags: Vec::new(),
        sources: HashMap::new(),
        structs: BTreeMap::new(),
        callbacks: BTreeMap::new(),
    };
    b.resolve_struct_specs();
    let mut functions = Vec::new();
    for f in &header.functions {
        if !b.selected(&f.name) {
            continue;
        }
        if let Some(m) = b.function(f, &exports) {
            functions.push(m);
        }
    }
    b.unmatched_exports(&exports);
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
    })
}

/// A decoration's scheme and argument bytes.
pub(crate) type Decoration = Option<(Scheme, Option<u32>)>;

/// The library's callable exports by C name.
pub(crate) struct Exports {
    /// C name → (exported name, decoration).
    pub(crate) code: BTreeMap<String, (String, Decoration)>,
    /// PE ordinals of code exports (named or not), with the name if any.
    pub(crate) ordinals: BTreeMap<u32, Option<String>>,
    /// Whether the library is a PE (ordinals exist).
    pub(crate) pe: bool,
}

impl Exports {
    pub(crate) fn of(binary: &Binary) -> Self {
        let mut code = BTreeMap::new();
        let mut ordinals = BTreeMap::new();
        match binary {
            Binary::Pe(pe) => {
                for e in pe.exports.iter().flat_map(|d| &d.entries) {
                    if matches!(e.kind, ExportKind::Code | ExportKind::Forwarder) {
                        ordinals.entry(e.ordinal).or_insert_with(|| e.name.clone());
                    }
                    let Some(name) = &e.name else { continue };
                    if e.kind == ExportKind::Data {
                        continue;
                    }
                    let d = e.decoration.as_ref();
                    let c_name = d.and_then(|d| d.name.clone()).unwrap_or_else(|| name.clone());
                    code.entry(c_name).or_insert((name.clone(), d.map(|d| (d.scheme, d.arg_bytes))));
                }
            }
            Binary::Elf(elf) => {
                for s in elf.symbols.iter().filter(|s| s.kind == "function") {
                    code.entry(s.name.clone()).or_insert((s.name.clone(), None));
                }
            }
        }
        Exports { code, ordinals, pe: matches!(binary, Binary::Pe(_)) }
    }
}

/// `*` and `?` globs.
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

struct Builder<'a> {
    spec: &'a Spec,
    header: &'a Header,
    exports: &'a Exports,
    /// Client names given by `rename`, to refuse clashes.
    renamed: BTreeMap<String, String>,
    /// `structs:` entries by the struct's key in the header (typedef names followed).
    struct_specs: BTreeMap<String, &'a Spanned<spec::StructSpec>>,
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

    /// The export a spec's `ordinal:` names, checked against the PE's export table; its
    /// decoration when it also has a (decorated) name.
    fn ordinal(
        &mut self,
        f: &header::Function,
        o: &spec::Spanned<u32>,
        exports: &Exports,
    ) -> Option<(String, Decoration)> {
        if !exports.pe {
            self.at_spec(
                o.pos,
                format!("`{}`: `ordinal` needs a PE library (ELF exports have no ordinals)", f.name),
            );
            return None;
        }
        let Some(name) = exports.ordinals.get(&o.value) else {
            self.at_spec(
                o.pos,
                format!("`{}`: the library exports no function with ordinal {}", f.name, o.value),
            )
            .hint = Some("`dllgen audit LIBRARY` lists every export with its ordinal".into());
            return None;
        };
        let decoration =
            name.as_ref().and_then(|n| exports.code.values().find(|(e, _)| e == n)).and_then(|(_, d)| *d);
        Some((format!("#{}", o.value), decoration))
    }

    fn function(&mut self, f: &header::Function, exports: &Exports) -> Option<Function> {
        let fspec = self.spec.functions.get(&f.name).map(|s| &s.value);
        let by_ordinal = match fspec.and_then(|s| s.ordinal.as_ref()) {
            Some(o) => Some(self.ordinal(f, o, exports)?),
            None => None,
        };
        let Some((symbol, decoration)) = by_ordinal.clone().or_else(|| exports.code.get(&f.name).cloned())
        else {
            self.at_header(
                &f.location,
                format!("`{}` is declared here but the library does not export it", f.name),
            )
            .hint = Some(if exports.ordinals.values().any(Option::is_none) {
                format!(
                    "if it is not part of this build, exclude it: `exports: {{ exclude: [\"{0}\"] }}`; \
                     the library has exports without names: if it is one of them, pin it with \
                     `functions: {{ {0}: {{ ordinal: N }} }}`",
                    f.name
                )
            } else {
                format!(
                    "if it is not part of this build, exclude it: `exports: {{ exclude: [\"{}\"] }}`",
                    f.name
                )
            });
            return None;
        };
        if !f.prototyped {
            self.at_header(&f.location, format!("`{}` is declared without a prototype (`()`)", f.name))
                .hint = Some("declare its parameters, or `(void)` if it has none".into());
            return None;
        }
        if f.variadic {
            self.at_header(
                &f.location,
                format!("`{}` is variadic: the host cannot know what the `...` holds", f.name),
            )
            .hint = Some("exclude it, or wrap it in a fixed-argument C function".into());
            return None;
        }
        // Every part is checked even when an earlier one failed, so one run reports all.
        let convention = self.convention(f, fspec, decoration);
        let params = self.params(f, fspec);
        let ret = self.ret(f, fspec);
        let error = ret.as_ref().and_then(|r| self.error_rule(f, fspec, r));
        let rust_name = self.rust_name(f, fspec);
        let (convention, params, ret, error, rust_name) = (convention?, params?, ret?, error?, rust_name?);
        if let Some(p) =
            params.iter().find(|p| matches!(&p.kind, Kind::OutBuffer { filled: Filled::Return, .. }))
        {
            if !integer_return(&ret) {
                self.at_header(
                    &f.location,
                    format!(
                        "`{}` returns {}, so it cannot give the filled length of `{}`",
                        f.name,
                        describe(&f.ret),
                        p.name
                    ),
                );
                return None;
            }
        }
        Some(Function {
            c_name: f.name.clone(),
            rust_name,
            symbol: match by_ordinal {
                Some(_) => {
                    Symbol::Ordinal { ordinal: fspec.and_then(|s| s.ordinal.as_ref()).map_or(0, |o| o.value) }
                }
                None => Symbol::Name { name: symbol },
            },
            convention,
            params,
            ret,
            error,
            doc: f.doc.clone(),
        })
    }

    /// Header attribute, else the spec's override or default; checked against a decorated
    /// export name.
    fn convention(
        &mut self,
        f: &header::Function,
        fspec: Option<&spec::FunctionSpec>,
        decoration: Decoration,
    ) -> Option<Convention> {
        let from_spec =
            fspec.and_then(|s| s.calling_convention.as_ref()).or(self.spec.calling_convention.as_ref());
        let conv = match (&f.convention, from_spec) {
            (CallConv::Stdcall, _) => Convention::Stdcall,
            (CallConv::Fastcall, _) => Convention::Fastcall,
            (CallConv::Cdecl, Some(s)) if s.value == spec::Convention::Stdcall => Convention::Stdcall,
            (CallConv::Cdecl, _) => Convention::Cdecl,
            (other, _) => {
                self.at_header(
                    &f.location,
                    format!("`{}` uses calling convention {other:?}, which dllgen does not support", f.name),
                );
                return None;
            }
        };
        if let Some((scheme, bytes)) = decoration {
            let expected = match scheme {
                Scheme::Stdcall => Some(Convention::Stdcall),
                Scheme::Fastcall => Some(Convention::Fastcall),
                _ => None,
            };
            if let Some(expected) = expected.filter(|e| *e != conv) {
                self.at_header(
                    &f.location,
                    format!(
                        "`{}` is exported as {} but declared {}",
                        f.name,
                        conv_name(expected),
                        conv_name(conv)
                    ),
                )
                .hint = Some("fix the prototype, or set `calling_convention` for it in the spec".into());
                return None;
            }
            if let (Some(exported), Some(declared)) = (bytes, f.stack_bytes()) {
                if u64::from(exported) != declared {
                    self.at_header(
                        &f.location,
                        format!(
                            "`{}` is exported with {exported} argument bytes but this prototype takes {declared} on the 32-bit target",
                            f.name
                        ),
                    )
                    .hint = Some("the header does not match the library build: check its parameter types and defines".into());
                    return None;
                }
            }
        }
        Some(conv)
    }

    fn params(&mut self, f: &header::Function, fspec: Option<&spec::FunctionSpec>) -> Option<Vec<Param>> {
        let mut out = Vec::new();
        let mut failed = false;
        let mut origins = Vec::new();
        for p in &f.params {
            let spec_entry = fspec.and_then(|s| s.params.get(&p.name));
            let kind = match spec_entry {
                Some(entry) => self.kind_from_spec(f, p, entry),
                None => self.kind_from_header(f, p),
            };
            match kind {
                Some(kind) => {
                    out.push(Param { name: p.name.clone(), kind });
                    origins.push(spec_entry.map_or(Origin::Header, Origin::Spec));
                }
                None => failed = true,
            }
        }
        if failed {
            return None;
        }
        self.resolve_lengths(f, &mut out, &origins).then_some(out)
    }

    /// A value that can travel by copy, or why not.
    fn value(&mut self, ty: &CType) -> Result<Value, String> {
        let resolved = self.header.resolve(ty).clone();
        match &resolved {
            CType::Int { bytes, signed } => {
                Ok(Value::Scalar { scalar: Scalar::Int { bytes: *bytes, signed: *signed } })
            }
            CType::Char { signed } => Ok(Value::Scalar { scalar: Scalar::Int { bytes: 1, signed: *signed } }),
            CType::Bool => Ok(Value::Scalar { scalar: Scalar::Bool }),
            CType::Float { bytes } => Ok(Value::Scalar { scalar: Scalar::Float { bytes: *bytes } }),
            CType::Named { name } => match self.header.types.get(name).map(|t| (&t.kind, t.size)) {
                Some((TypeDefKind::Enum { underlying, .. }, size)) => {
                    let signed = matches!(self.header.resolve(underlying), CType::Int { signed: true, .. });
                    Ok(Value::Scalar {
                        scalar: Scalar::Enum { name: name.clone(), bytes: size.unwrap_or(4) as u8, signed },
                    })
                }
                Some((TypeDefKind::Struct { .. } | TypeDefKind::Union { .. }, _)) => {
                    self.structure(name)?;
                    Ok(Value::Struct { name: name.clone() })
                }
                Some((TypeDefKind::Opaque, _)) => Err(format!("`{name}` is an incomplete type")),
                _ => Err(format!("`{name}` is not a value type")),
            },
            CType::Pointer { .. } => Err("a pointer".into()),
            CType::Array { .. } => Err("an array".into()),
            CType::Function(_) => Err("a function".into()),
            CType::Void => Err("void".into()),
            CType::Unsupported { spelling } => Err(format!("`{spelling}`, which dllgen cannot marshal")),
        }
    }

    /// Records the struct `name` with its 32-bit layout, or says why it cannot cross.
    fn structure(&mut self, name: &str) -> Result<(), String> {
        if self.structs.contains_key(name) {
            return Ok(());
        }
        let Some(def) = self.header.types.get(name) else {
            return Err(format!("`{name}` is not in the header"));
        };
        let (Some(size), Some(align)) = (def.size, def.align) else {
            return Err(format!("`{name}` is an incomplete type"));
        };
        // A placeholder first: a struct may reach itself through a pointer.
        self.structs.insert(
            name.to_string(),
            Struct { name: name.into(), size, align, fields: Vec::new(), doc: def.doc.clone() },
        );
        let result = self.struct_fields(name, &def.kind, size);
        match result {
            Ok(fields) => {
                self.structs.get_mut(name).expect("inserted above").fields = fields;
                Ok(())
            }
            Err(e) => {
                self.structs.remove(name);
                Err(e)
            }
        }
    }

    fn struct_fields(
        &mut self,
        name: &str,
        kind: &TypeDefKind,
        size: u64,
    ) -> Result<Vec<StructField>, String> {
        let raw_fields = match kind {
            TypeDefKind::Struct { fields } => fields.clone(),
            TypeDefKind::Union { fields } => {
                // A union crosses as its bytes, which is only right if none of its
                // members is (or holds) a pointer.
                if let Some(f) = fields.iter().find(|f| self.holds_pointer(&f.ty, 0)) {
                    return Err(format!("`{name}`, a union whose member `{}` holds a pointer, which cannot be copied to the other process", f.name));
                }
                return Ok(vec![StructField {
                    name: "bytes".into(),
                    offset: 0,
                    ty: FieldType::Bytes { len: size },
                    doc: None,
                }]);
            }
            _ => return Err(format!("`{name}` is not a struct")),
        };
        let field_specs = self.struct_specs.get(name).map(|s| s.value.fields.clone()).unwrap_or_default();
        let mut fields = Vec::new();
        for fd in &raw_fields {
            let offset = fd.offset_bits / 8;
            let ty = if let Some(width) = fd.bit_width {
                let signed = match self.header.resolve(&fd.ty) {
                    CType::Int { signed, .. } | CType::Char { signed } => *signed,
                    CType::Named { name } => match self.header.types.get(name).map(|t| &t.kind) {
                        Some(TypeDefKind::Enum { underlying, .. }) => {
                            matches!(self.header.resolve(underlying), CType::Int { signed: true, .. })
                        }
                        _ => false,
                    },
                    _ => false,
                };
                FieldType::Bits { bit_offset: (fd.offset_bits % 8) as u8, width, signed }
            } else if let Some(fs) = field_specs.get(&fd.name) {
                let optional = fs.value.optional;
                match &fs.value.kind {
                    ParamKind::InString(enc) => FieldType::String {
                        encoding: self.encoding(*enc, &fd.ty).map_err(|e| format!("`{name}` field `{}`: {e}", fd.name))?,
                        optional,
                    },
                    ParamKind::Handle(h) if self.spec.handles.contains_key(&h.value) => {
                        FieldType::Handle { handle: h.value.clone(), optional }
                    }
                    ParamKind::Handle(h) => return Err(format!("`{name}` field `{}`: no handle type `{}`", fd.name, h.value)),
                    _ => {
                        return Err(format!(
                            "`{name}` field `{}`: struct fields may be `in_string` or `handle` (other pointer fields are not supported yet)",
                            fd.name
                        ))
                    }
                }
            } else {
                match self.header.resolve(&fd.ty).clone() {
                    CType::Array { len: 0, .. } => {
                        return Err(format!(
                        "`{name}`, whose last field `{}` is a flexible array: its length is not in the type",
                        fd.name
                    ))
                    }
                    CType::Array { element, len } => match self.value(&element) {
                        Ok(v) => FieldType::Array { element: v, len },
                        Err(e) => {
                            return Err(format!("`{name}`, whose field `{}` is an array of {e}", fd.name))
                        }
                    },
                    CType::Pointer { .. } => {
                        return Err(format!(
                            "`{name}`, whose field `{}` is a pointer: it means nothing in the other process; say what it holds under `structs: {name}: fields:`",
                            fd.name
                        ));
                    }
                    other => FieldType::Value {
                        value: self
                            .value(&other)
                            .map_err(|e| format!("`{name}`, whose field `{}` is {e}", fd.name))?,
                    },
                }
            };
            fields.push(StructField { name: fd.name.clone(), offset, ty, doc: fd.doc.clone() });
        }
        Ok(fields)
    }

    /// Whether a value of type `ty` contains a pointer anywhere.
    fn holds_pointer(&self, ty: &CType, depth: u32) -> bool {
        if depth > 32 {
            return false;
        }
        match self.header.resolve(ty) {
            CType::Pointer { .. } | CType::Function(_) => true,
            CType::Array { element, .. } => self.holds_pointer(element, depth + 1),
            CType::Named { name } => match self.header.types.get(name).map(|t| &t.kind) {
                Some(TypeDefKind::Struct { fields } | TypeDefKind::Union { fields }) => {
                    fields.iter().any(|f| self.holds_pointer(&f.ty, depth + 1))
                }
                _ => false,
            },
            _ => false,
        }
    }

    /// The encoding of a string whose characters are `pointee`.
    fn encoding(&self, said: Option<spec::Encoding>, ptr: &CType) -> Result<spec::Encoding, String> {
        let CType::Pointer { pointee, .. } = self.header.resolve(ptr) else {
            return Err("a string must be a pointer".into());
        };
        let width = match self.header.resolve(pointee) {
            CType::Char { .. } => 1,
            CType::Int { bytes, .. } => *bytes,
            _ => return Err("a string must point to characters".into()),
        };
        let default = match (width, self.header.target) {
            (1, Target::Windows32) => spec::Encoding::Ansi,
            (1, Target::Linux32) => spec::Encoding::Utf8,
            (2, _) => spec::Encoding::Utf16,
            _ => {
                return Err(format!("{width}-byte characters are not supported (UTF-8, ANSI or UTF-16 only)"))
            }
        };
        let encoding = said.unwrap_or(default);
        let fits = matches!(
            (encoding, width),
            (spec::Encoding::Utf16, 2) | (spec::Encoding::Utf8 | spec::Encoding::Ansi, 1)
        );
        if !fits {
            return Err(format!("a {encoding:?} string cannot be made of {width}-byte characters"));
        }
        Ok(encoding)
    }

    /// Whether `ty` is a pointer to `const`.
    fn const_pointer(&self, ty: &CType) -> bool {
        matches!(self.header.resolve(ty), CType::Pointer { const_pointee: true, .. })
    }

    /// For a pointee that is an opaque (never defined) type: a message suggesting a handle.
    fn opaque(&self, pointee: &CType) -> Option<String> {
        let CType::Named { name } = pointee else { return None };
        let TypeDefKind::Opaque = self.header.types.get(self.opaque_name(name)?)?.kind else { return None };
        let rust = name.trim_start_matches("struct ").split('_').map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        });
        Some(format!(
            "it points to `{name}`, an opaque type: declare it as a handle under `handles: {{ {}: {{ c_type: {name} }} }}`",
            rust.collect::<String>()
        ))
    }

    /// Follows typedefs to the name of the type they end at.
    fn opaque_name<'n>(&'n self, mut name: &'n str) -> Option<&'n str> {
        for _ in 0..16 {
            match &self.header.types.get(name)?.kind {
                TypeDefKind::Typedef { target: CType::Named { name: next } } => name = next,
                TypeDefKind::Opaque => return Some(name),
                _ => return None,
            }
        }
        None
    }

    /// The pointee of a pointer parameter (typedefs followed).
    fn pointee(&self, ty: &CType) -> Option<CType> {
        match self.header.resolve(ty) {
            CType::Pointer { pointee, .. } => Some((**pointee).clone()),
            _ => None,
        }
    }

    /// The handle `ty` refers to and how many pointers lie between: 0 for the handle
    /// value itself, 1 for a pointer to it (`T **` the callee fills). A handle's `c_type`
    /// is either the pointee (`struct dev`, so the value is `struct dev *`) or a pointer
    /// typedef (`HANDLE`, so the value is `HANDLE`).
    fn handle_ref(&self, ty: &CType) -> Option<(String, u32)> {
        for (handle, h) in &self.spec.handles {
            let c = h.value.c_type.value.as_str();
            let names = [c.to_string(), format!("struct {c}"), c.trim_start_matches("struct ").to_string()];
            let value_is_pointer =
                matches!(self.header.resolve(&CType::Named { name: c.to_string() }), CType::Pointer { .. });
            let (mut t, mut levels) = (ty, 0u32);
            for _ in 0..16 {
                if let CType::Named { name } = t {
                    if names.contains(name) {
                        let depth = if value_is_pointer { Some(levels) } else { levels.checked_sub(1) };
                        if let Some(depth) = depth {
                            return Some((handle.clone(), depth));
                        }
                        break;
                    }
                }
                match t {
                    CType::Named { name } => match self.header.types.get(name).map(|d| &d.kind) {
                        Some(TypeDefKind::Typedef { target }) => t = target,
                        _ => break,
                    },
                    CType::Pointer { pointee, .. } => {
                        levels += 1;
                        t = pointee;
                    }
                    _ => break,
                }
            }
        }
        None
    }

    /// The handle a value of type `ty` is.
    fn handle_of(&self, ty: &CType) -> Option<String> {
        self.handle_ref(ty).filter(|(_, d)| *d == 0).map(|(h, _)| h)
    }

    /// The handle a `ty` parameter receives (`T **`).
    fn out_handle_of(&self, ty: &CType) -> Option<String> {
        self.handle_ref(ty).filter(|(_, d)| *d == 1).map(|(h, _)| h)
    }

    /// A function-pointer parameter's callback typedef, if `ty` is one.
    fn callback_typedef(&self, ty: &CType) -> Option<String> {
        let CType::Named { name } = ty else { return None };
        let TypeDefKind::Typedef { target } = &self.header.types.get(name)?.kind else { return None };
        matches!(self.header.resolve(target), CType::Pointer { pointee, .. } if matches!(**pointee, CType::Function(_)))
            .then(|| name.clone())
    }

    fn kind_from_spec(
        &mut self,
        f: &header::Function,
        p: &header::Param,
        entry: &Spanned<ParamSpec>,
    ) -> Option<Kind> {
        let optional = entry.value.optional;
        let pointee = self.pointee(&p.ty);
        let fail = |b: &mut Self, msg: String| {
            b.at_spec(entry.pos, format!("parameter `{}` of `{}`: {msg}", p.name, f.name));
            None
        };
        let need_pointer = |b: &mut Self, what: &str| -> Option<CType> {
            match &pointee {
                Some(t) => Some(t.clone()),
                None => {
                    b.at_spec(
                        entry.pos,
                        format!(
                            "parameter `{}` of `{}` is not a pointer, so it cannot be `{what}`",
                            p.name, f.name
                        ),
                    );
                    None
                }
            }
        };
        let element = |b: &mut Self, t: &CType| -> Option<Value> {
            if matches!(b.header.resolve(t), CType::Void) {
                return Some(Value::Scalar { scalar: Scalar::Int { bytes: 1, signed: false } });
            }
            match b.value(t) {
                Ok(v) => Some(v),
                Err(e) => {
                    b.at_spec(entry.pos, format!("parameter `{}` of `{}` points to {e}", p.name, f.name));
                    None
                }
            }
        };
        let kind = &entry.value.kind;
        if optional && matches!(kind, ParamKind::Scalar | ParamKind::OutHandle(_) | ParamKind::UserData) {
            return fail(
                self,
                "`optional` applies to pointers the caller may leave NULL, not to this kind".into(),
            );
        }
        let writes = matches!(
            kind,
            ParamKind::Out | ParamKind::Inout | ParamKind::OutBuffer { .. } | ParamKind::InoutBuffer { .. }
        );
        if writes && self.const_pointer(&p.ty) {
            return fail(self, "the callee cannot write through a `const` pointer".into());
        }
        Some(match kind {
            ParamKind::Scalar => match self.value(&p.ty) {
                Ok(value) => Kind::Value { value },
                Err(e) => return fail(self, format!("it is {e}, not a scalar")),
            },
            ParamKind::InString(enc) => match self.encoding(*enc, &p.ty) {
                Ok(encoding) => Kind::InString { encoding, optional },
                Err(e) => return fail(self, e),
            },
            ParamKind::In | ParamKind::Out | ParamKind::Inout => {
                let word = match entry.value.kind {
                    ParamKind::In => "in",
                    ParamKind::Out => "out",
                    _ => "inout",
                };
                let t = need_pointer(self, word)?;
                let value = match self.value(&t) {
                    Ok(v) => v,
                    Err(e) => {
                        return fail(self, format!("it points to {e}; `{word}` needs a scalar or a struct"))
                    }
                };
                match entry.value.kind {
                    ParamKind::In => Kind::In { value, optional },
                    ParamKind::Out => Kind::Out { value, optional },
                    _ => Kind::Inout { value, optional },
                }
            }
            ParamKind::InBuffer { len, units } | ParamKind::InoutBuffer { len, units } => {
                let t = need_pointer(self, "a buffer")?;
                let element = element(self, &t)?;
                let len = self.expr(&len.value, len.pos)?;
                let units = self.void_units(&t, *units);
                if matches!(entry.value.kind, ParamKind::InBuffer { .. }) {
                    Kind::InBuffer { element, len, units, optional }
                } else {
                    Kind::InoutBuffer { element, len, units, optional }
                }
            }
            ParamKind::OutBuffer { capacity, units, filled } => {
                let t = need_pointer(self, "out_buffer")?;
                let element = element(self, &t)?;
                let capacity = self.expr(&capacity.value, capacity.pos)?;
                let filled = match &filled.value {
                    spec::Filled::Return => Filled::Return,
                    spec::Filled::Nul => Filled::Nul,
                    spec::Filled::Capacity => Filled::Capacity,
                    spec::Filled::Param(name) => Filled::Param { name: name.clone() },
                };
                Kind::OutBuffer { element, capacity, units: self.void_units(&t, *units), filled, optional }
            }
            ParamKind::Handle(h) => {
                if !self.spec.handles.contains_key(&h.value) {
                    return self.unknown_handle(h);
                }
                need_pointer(self, "handle")?;
                if self.out_handle_of(&p.ty).is_some() {
                    return fail(
                        self,
                        "it points to a handle (`T **`): the callee fills it, so it is an `out_handle`"
                            .into(),
                    );
                }
                Kind::Handle { handle: h.value.clone(), optional }
            }
            ParamKind::OutHandle(h) => {
                if !self.spec.handles.contains_key(&h.value) {
                    return self.unknown_handle(h);
                }
                let t = need_pointer(self, "out_handle")?;
                if !matches!(self.header.resolve(&t), CType::Pointer { .. }) {
                    return fail(self, "`out_handle` needs a pointer to a handle (`T **`)".into());
                }
                Kind::OutHandle { handle: h.value.clone() }
            }
            ParamKind::Callback => match self.callback_typedef(&p.ty) {
                Some(name) => {
                    self.callback(&name, entry.pos)?;
                    Kind::Callback { callback: name, optional }
                }
                None => {
                    return fail(
                        self,
                        "`callback` needs a function-pointer typedef as the parameter's type".into(),
                    )
                }
            },
            ParamKind::UserData => {
                if pointee.is_none() {
                    return fail(
                        self,
                        "`user_data` is the `void *` context a callback gets back; this is not a pointer"
                            .into(),
                    );
                }
                // The context belongs to the nearest callback before it (`cb, ctx`), else after.
                let at = f.params.iter().position(|q| q.name == p.name).unwrap_or(0);
                let is_cb = |q: &&header::Param| self.callback_typedef(&q.ty).is_some();
                let cb =
                    f.params[..at].iter().rev().find(is_cb).or_else(|| f.params[at..].iter().find(is_cb));
                let Some(cb) = cb else {
                    return fail(self, "`user_data` needs a callback parameter in the same function".into());
                };
                Kind::UserData { of: cb.name.clone() }
            }
        })
    }

    /// `void *` buffers count in bytes whatever the spec says.
    fn void_units(&self, pointee: &CType, units: spec::Units) -> spec::Units {
        if matches!(self.header.resolve(pointee), CType::Void) {
            spec::Units::Bytes
        } else {
            units
        }
    }

    fn unknown_handle(&mut self, h: &Spanned<String>) -> Option<Kind> {
        let hint = match did_you_mean(&h.value, self.spec.handles.keys().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "declare it under `handles:` with its `c_type`".into(),
        };
        self.at_spec(h.pos, format!("no handle type `{}`", h.value)).hint = Some(hint);
        None
    }

    fn expr(&mut self, text: &str, pos: spec::Pos) -> Option<Expr> {
        match expr::parse(text) {
            Ok(e) => Some(e),
            Err(e) => {
                self.at_spec(pos, e);
                None
            }
        }
    }

    /// SAL first, then what the type makes unambiguous.
    fn kind_from_header(&mut self, f: &header::Function, p: &header::Param) -> Option<Kind> {
        let ty = &p.ty;
        let not_a_value = match self.value(ty) {
            Ok(value) => return Some(Kind::Value { value }),
            Err(e) => e,
        };
        if let Some(handle) = self.handle_of(ty) {
            let optional = matches!(sal::interpret(&p.sal), Ok(Some(m)) if m.optional);
            return Some(Kind::Handle { handle, optional });
        }
        if let Some(handle) = self.out_handle_of(ty) {
            return Some(Kind::OutHandle { handle });
        }
        let pointee = self.pointee(ty);
        if !p.sal.is_empty() {
            return self.kind_from_sal(f, p, pointee.as_ref());
        }
        if let Some(cb) = self.callback_typedef(ty) {
            self.at_header(&f.location, format!("parameter `{}` of `{}` is a callback (`{cb}`) the spec does not describe", p.name, f.name)).hint =
                Some(format!("mark it `{}: callback` under `functions: {}: params:` and describe `{cb}` under `callbacks:`", p.name, f.name));
            return None;
        }
        if let Some(opaque) = pointee.as_ref().and_then(|t| self.opaque(t)) {
            self.at_header(&f.location, format!("parameter `{}` of `{}`: {opaque}", p.name, f.name));
            return None;
        }
        let Some(pointee) = pointee else {
            // Not a pointer and not a value: say why it cannot be copied.
            self.at_header(&f.location, format!("parameter `{}` of `{}` is {not_a_value}", p.name, f.name));
            return None;
        };
        let read_only = matches!(self.header.resolve(ty), CType::Pointer { const_pointee: true, .. });
        let kinds =
            if read_only { "in, in_buffer or in_string" } else { "out, inout, out_buffer or inout_buffer" };
        let example = if read_only { "in" } else { "out" };
        let _ = pointee;
        let d = self.at_header(
            &f.location,
            format!("parameter `{}` of `{}` is a pointer with no semantics", p.name, f.name),
        );
        d.hint = Some(format!(
            "say what it is in the spec ({kinds}), e.g. `functions: {{ {}: {{ params: {{ {}: {example} }} }} }}`",
            f.name, p.name
        ));
        None
    }

    fn kind_from_sal(
        &mut self,
        f: &header::Function,
        p: &header::Param,
        pointee: Option<&CType>,
    ) -> Option<Kind> {
        let sal_text = p.sal.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(" ");
        let m = match sal::interpret(&p.sal) {
            Ok(Some(m)) => m,
            Ok(None) => {
                self.at_header(&f.location, format!("parameter `{}` of `{}` is a pointer with no semantics ({sal_text} says nothing about its data)", p.name, f.name))
                    .hint = Some(format!("describe it under `functions: {}: params:`", f.name));
                return None;
            }
            Err(e) => {
                self.at_header(&f.location, format!("parameter `{}` of `{}`: {e}", p.name, f.name)).hint =
                    Some(format!("describe it under `functions: {}: params:` instead", f.name));
                return None;
            }
        };
        let m = &m;
        let Some(t) = pointee.cloned() else {
            self.at_header(
                &f.location,
                format!("parameter `{}` of `{}` has {sal_text} but is not a pointer", p.name, f.name),
            );
            return None;
        };
        let optional = m.optional;
        let sal_error = |b: &mut Self, msg: String| {
            let d = b.at_header(
                &f.location,
                format!("parameter `{}` of `{}` ({sal_text}): {msg}", p.name, f.name),
            );
            // Messages that already say where to fix it need no other hint.
            if !msg.contains(" under `") {
                d.hint = Some(format!("give it a spec entry under `functions: {}: params:`", f.name));
            }
            None
        };
        let element = |b: &mut Self| -> Result<Value, String> {
            if matches!(b.header.resolve(&t), CType::Void) {
                return Ok(Value::Scalar { scalar: Scalar::Int { bytes: 1, signed: false } });
            }
            b.value(&t)
        };
        let units =
            |b: &Self| if m.bytes { spec::Units::Bytes } else { b.void_units(&t, spec::Units::Elements) };
        match (m.direction, &m.count) {
            (Direction::Outptr, _) => match self.out_handle_of(&p.ty) {
                Some(handle) => Some(Kind::OutHandle { handle }),
                None => sal_error(
                    self,
                    "dllgen handles `_Outptr_` only for handle types (declare one under `handles:`)".into(),
                ),
            },
            (Direction::In, None) if m.nul_terminated => match self.encoding(None, &p.ty) {
                Ok(encoding) => Some(Kind::InString { encoding, optional }),
                Err(e) => sal_error(self, e),
            },
            (Direction::Out | Direction::Inout, None) if m.nul_terminated => sal_error(
                self,
                "a string written in place needs its capacity: describe it as `out_buffer` or `inout_buffer`"
                    .into(),
            ),
            (Direction::In | Direction::Out | Direction::Inout, None) => {
                if let Some(opaque) = self.opaque(&t) {
                    return sal_error(self, opaque);
                }
                if m.direction != Direction::In && self.const_pointer(&p.ty) {
                    return sal_error(self, "the callee cannot write through a `const` pointer".into());
                }
                let value = match self.value(&t) {
                    Ok(v) => v,
                    Err(e) => return sal_error(self, format!("it points to {e}")),
                };
                Some(match m.direction {
                    Direction::In => Kind::In { value, optional },
                    Direction::Out => Kind::Out { value, optional },
                    _ => Kind::Inout { value, optional },
                })
            }
            (dir @ (Direction::In | Direction::Out | Direction::Inout), Some(count)) => {
                if dir != Direction::In && self.const_pointer(&p.ty) {
                    return sal_error(self, "the callee cannot write through a `const` pointer".into());
                }
                let element = match element(self) {
                    Ok(v) => v,
                    Err(e) => return sal_error(self, format!("its elements are {e}")),
                };
                let len = match expr::parse(count) {
                    Ok(e) => e,
                    Err(e) => return sal_error(self, e),
                };
                let units = units(self);
                Some(match dir {
                    Direction::In => Kind::InBuffer { element, len, units, optional },
                    Direction::Inout => Kind::InoutBuffer { element, len, units, optional },
                    _ => {
                        let filled = match m.written.as_deref().map(str::trim) {
                            Some("return") => Filled::Return,
                            Some(w) if w.starts_with('*') => {
                                Filled::Param { name: w[1..].trim().to_string() }
                            }
                            Some(other) => {
                                return sal_error(
                                    self,
                                    format!("the written count `{other}` is not `return` or `*param`"),
                                )
                            }
                            None if m.nul_terminated => Filled::Nul,
                            None => Filled::Capacity,
                        };
                        Kind::OutBuffer { element, capacity: len, units, filled, optional }
                    }
                })
            }
            (Direction::Ret, _) => sal_error(self, "a return annotation on a parameter".into()),
        }
    }

    /// Checks every length's parameters and turns the integers they name into `Length`
    /// (and out-parameters receiving a filled length into `OutLength`).
    fn resolve_lengths(
        &mut self,
        f: &header::Function,
        params: &mut [Param],
        origins: &[Origin<'_>],
    ) -> bool {
        let mut ok = true;
        let mut sizes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut out_lengths: BTreeMap<String, String> = BTreeMap::new();
        // Parameters inside a compound length (`rows * cols`) stay visible: the client
        // cannot work them back out of a buffer's length.
        let mut compound: BTreeSet<String> = BTreeSet::new();
        for (i, p) in params.iter().enumerate() {
            let (exprs, filled): (Vec<&Expr>, Option<&Filled>) = match &p.kind {
                Kind::InBuffer { len, .. } | Kind::InoutBuffer { len, .. } => (vec![len], None),
                Kind::OutBuffer { capacity, filled, .. } => (vec![capacity], Some(filled)),
                _ => continue,
            };
            for e in exprs {
                for leaf in e.leaves() {
                    let problem = self.length_leaf_problem(f, leaf, params);
                    if let Some(problem) = problem {
                        ok = false;
                        let names = params.iter().map(|q| q.name.as_str()).filter(|n| *n != p.name).collect();
                        self.length_error(f, &p.name, &origins[i], problem, names);
                    } else if let Expr::Param { name } = leaf {
                        if !matches!(e, Expr::Param { .. }) {
                            compound.insert(name.clone());
                        } else if let Some(Kind::Value { .. }) =
                            params.iter().find(|q| q.name == *name).map(|q| &q.kind)
                        {
                            sizes.entry(name.clone()).or_default().push(p.name.clone());
                        }
                    }
                }
            }
            if let Some(Filled::Param { name }) = filled {
                match params.iter().find(|q| q.name == *name).map(|q| &q.kind) {
                    Some(Kind::Out { value: Value::Scalar { scalar: Scalar::Int { .. } }, .. }) => {
                        out_lengths.insert(name.clone(), p.name.clone());
                    }
                    _ => {
                        ok = false;
                        let names = params.iter().map(|q| q.name.as_str()).collect();
                        self.length_error(
                            f,
                            &p.name,
                            &origins[i],
                            format!("is filled into `{name}`, which must be an integer out-parameter (`size_t *{name}`)"),
                            names,
                        );
                    }
                }
            }
        }
        for (i, p) in params.iter_mut().enumerate() {
            let explicit_scalar = matches!(&origins[i], Origin::Spec(s) if s.value.kind == ParamKind::Scalar);
            let hidden = !explicit_scalar && !compound.contains(&p.name);
            if let (Some(of), true, Kind::Value { value: Value::Scalar { scalar } }) =
                (sizes.remove(&p.name), hidden, &p.kind)
            {
                p.kind = Kind::Length { value: scalar.clone(), of };
            } else if let Some(of) = out_lengths.remove(&p.name) {
                if let Kind::Out { value: Value::Scalar { scalar }, .. } = &p.kind {
                    p.kind = Kind::OutLength { value: scalar.clone(), of };
                }
            }
        }
        ok
    }

    /// What is wrong with one operand of a length expression, if anything: a parameter
    /// must be an integer; `param.field` must name an integer field of a struct parameter.
    fn length_leaf_problem(&self, f: &header::Function, leaf: &Expr, params: &[Param]) -> Option<String> {
        let kind_of = |name: &str| params.iter().find(|q| q.name == name).map(|q| &q.kind);
        match leaf {
            Expr::Const { .. } | Expr::Binary { .. } => None,
            Expr::Param { name } => match kind_of(name) {
                None => Some(format!("names `{name}`, which is not a parameter of `{}`", f.name)),
                Some(
                    Kind::Value { value: Value::Scalar { scalar: Scalar::Int { .. } } } | Kind::Length { .. },
                ) => None,
                Some(_) => Some(format!("names `{name}`, which is not an integer parameter")),
            },
            Expr::Field { param, field } => {
                let strukt = match kind_of(param) {
                    None => {
                        return Some(format!("names `{param}`, which is not a parameter of `{}`", f.name))
                    }
                    Some(
                        Kind::Value { value: Value::Struct { name } }
                        | Kind::In { value: Value::Struct { name }, .. }
                        | Kind::Inout { value: Value::Struct { name }, .. },
                    ) => name,
                    Some(_) => {
                        return Some(format!(
                            "names `{param}.{field}`, but `{param}` is not a struct passed in"
                        ))
                    }
                };
                let fd = self.structs.get(strukt).and_then(|s| s.fields.iter().find(|x| x.name == *field));
                match fd.map(|x| &x.ty) {
                    Some(FieldType::Value { value: Value::Scalar { scalar: Scalar::Int { .. } } }) => None,
                    Some(_) => Some(format!("names `{param}.{field}`, which is not an integer field")),
                    None => Some(format!("names `{param}.{field}`, but `{strukt}` has no field `{field}`")),
                }
            }
        }
    }

    fn length_error(
        &mut self,
        f: &header::Function,
        param: &str,
        origin: &Origin<'_>,
        problem: String,
        names: Vec<&str>,
    ) {
        let message = format!("the length of `{param}` in `{}` {problem}", f.name);
        let d = match origin {
            Origin::Spec(entry) => self.at_spec(entry.pos, message),
            Origin::Header => self.at_header(&f.location, message),
        };
        let missing = problem.contains("which is not a parameter");
        if let Some(word) = problem.split('`').nth(1).filter(|_| missing) {
            if let Some(s) = did_you_mean(word, names) {
                d.hint = Some(format!("did you mean `{s}`?"));
            }
        }
    }

    fn ret(&mut self, f: &header::Function, fspec: Option<&spec::FunctionSpec>) -> Option<Return> {
        let said = fspec.and_then(|s| s.returns.as_ref());
        if let Some(r) = said {
            return match &r.value {
                spec::ReturnSpec::String { encoding, free_with } => {
                    let encoding = match self.encoding(Some(*encoding), &f.ret) {
                        Ok(e) => e,
                        Err(e) => {
                            self.at_spec(r.pos, format!("`{}` returns {}: {e}", f.name, describe(&f.ret)));
                            return None;
                        }
                    };
                    let free_with = match free_with {
                        Some(free) => Some(self.free_fn(free)?),
                        None => None,
                    };
                    Some(Return::String { encoding, free_with })
                }
                spec::ReturnSpec::Handle(h) => {
                    if !self.spec.handles.contains_key(&h.value) {
                        self.unknown_handle(h);
                        return None;
                    }
                    Some(Return::Handle { handle: h.value.clone() })
                }
            };
        }
        if matches!(self.header.resolve(&f.ret), CType::Void) {
            return Some(Return::Void);
        }
        if let Ok(value) = self.value(&f.ret) {
            return Some(Return::Value { value });
        }
        if let Some(handle) = self.handle_of(&f.ret) {
            return Some(Return::Handle { handle });
        }
        if matches!(sal::interpret(&f.ret_sal), Ok(Some(m)) if m.direction == Direction::Ret && m.nul_terminated)
        {
            if let Ok(encoding) = self.encoding(None, &f.ret) {
                return Some(Return::String { encoding, free_with: None });
            }
        }
        self.at_header(&f.location, format!("`{}` returns {} with no semantics", f.name, describe(&f.ret))).hint = Some(format!(
            "say what it is: `functions: {{ {}: {{ returns: {{ string: utf8 }} }} }}` (add `free_with: FN` if the caller frees it) or `returns: {{ handle: NAME }}`",
            f.name
        ));
        None
    }

    /// A `free_with` function: declared `void f(T *)` and exported (it need not be selected:
    /// the host calls it, not the client).
    fn free_fn(&mut self, free: &Spanned<String>) -> Option<FreeFn> {
        let Some(f) = self.header.function(&free.value) else {
            let names = self.header.functions.iter().map(|f| f.name.as_str());
            let d = self
                .at_spec(free.pos, format!("`free_with: {}` names no function of the header", free.value));
            if let Some(s) = did_you_mean(&free.value, names) {
                d.hint = Some(format!("did you mean `{s}`?"));
            }
            return None;
        };
        let one_pointer =
            f.params.len() == 1 && matches!(self.header.resolve(&f.params[0].ty), CType::Pointer { .. });
        if !one_pointer {
            self.at_spec(
                free.pos,
                format!("`{}` cannot free a string: it must take exactly one pointer", f.name),
            );
            return None;
        }
        let Some((symbol, decoration)) = self.exports.code.get(&f.name).cloned() else {
            self.at_spec(free.pos, format!("`free_with: {}`: the library does not export it", f.name));
            return None;
        };
        let convention =
            self.convention(f, self.spec.functions.get(&f.name).map(|s| &s.value), decoration)?;
        Some(FreeFn { name: f.name.clone(), symbol: Symbol::Name { name: symbol }, convention })
    }

    /// The function's error rule: `None` when the spec's rule does not fit the return
    /// type (reported), `Some(None)` when there is no rule.
    fn error_rule(
        &mut self,
        f: &header::Function,
        fspec: Option<&spec::FunctionSpec>,
        ret: &Return,
    ) -> Option<Option<ErrorRule>> {
        let explicit = fspec.and_then(|s| s.error.as_ref());
        let (rule, pos) = match explicit {
            Some(e) => match &e.value {
                Some(rule) => (rule.clone(), e.pos),
                None => return Some(None),
            },
            None => match &self.spec.error {
                // The default applies to functions returning integers only.
                Some(default) if integer_return(ret) => (default.value.clone(), default.pos),
                _ => return Some(None),
            },
        };
        let pointer = matches!(ret, Return::String { .. } | Return::Handle { .. });
        let null = rule.when == spec::ErrorWhen::Null;
        let fits = if null { pointer } else { integer_return(ret) };
        if !fits {
            let what = if null {
                "`when: null` needs a pointer result"
            } else {
                "this condition needs an integer result"
            };
            self.at_spec(pos, format!("`{}` returns {}: {what}", f.name, describe(&f.ret)));
            return None;
        }
        if rule.code == spec::ErrorCode::LastError && self.header.target != Target::Windows32 {
            self.at_spec(pos, "`code: last_error` reads GetLastError(), which only Windows libraries have")
                .hint = Some("use `code: errno` or `code: return`".into());
            return None;
        }
        let when = match rule.when {
            spec::ErrorWhen::Negative => ErrorWhen::Negative,
            spec::ErrorWhen::Zero => ErrorWhen::Zero,
            spec::ErrorWhen::Nonzero => ErrorWhen::Nonzero,
            spec::ErrorWhen::Null => ErrorWhen::Null,
            spec::ErrorWhen::Not(values) => ErrorWhen::Not { values },
        };
        let code = match rule.code {
            spec::ErrorCode::Return => "return",
            spec::ErrorCode::LastError => "last_error",
            spec::ErrorCode::Errno => "errno",
        };
        Some(Some(ErrorRule { when, code }))
    }

    /// The client method's name: `rename`, else the C name; it must be a Rust identifier.
    fn rust_name(&mut self, f: &header::Function, fspec: Option<&spec::FunctionSpec>) -> Option<String> {
        let Some(r) = fspec.and_then(|s| s.rename.as_ref()) else { return Some(f.name.clone()) };
        let ok = r.value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && r.value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            self.at_spec(r.pos, format!("`rename: {}` is not a Rust identifier", r.value));
            return None;
        }
        if self.renamed.insert(r.value.clone(), f.name.clone()).is_some_and(|other| other != f.name) {
            self.at_spec(r.pos, format!("`rename: {}` gives two functions the same name", r.value));
            return None;
        }
        Some(r.value.clone())
    }

    fn callback(&mut self, name: &str, pos: spec::Pos) -> Option<()> {
        if self.callbacks.contains_key(name) {
            return Some(());
        }
        let Some(cspec) = self.spec.callbacks.get(name) else {
            self.at_spec(pos, format!("`{name}` is a callback type with no entry under `callbacks:`")).hint =
                Some(format!(
                    "add `callbacks: {{ {name}: {{ user_data: PARAM }} }}` naming its context parameter"
                ));
            return None;
        };
        let Some(TypeDefKind::Typedef { target }) = self.header.types.get(name).map(|t| &t.kind) else {
            return None;
        };
        let CType::Pointer { pointee, .. } = self.header.resolve(target) else { return None };
        let CType::Function(sig) = pointee.as_ref() else { return None };
        let sig = sig.clone();
        let convention = match sig.convention {
            CallConv::Cdecl => Convention::Cdecl,
            CallConv::Stdcall => Convention::Stdcall,
            CallConv::Fastcall => Convention::Fastcall,
            other => {
                self.at_spec(
                    cspec.pos,
                    format!(
                        "callback `{name}` uses calling convention {other:?}, which dllgen does not support"
                    ),
                );
                return None;
            }
        };
        let names: Vec<String> = (0..sig.params.len())
            .map(|i| {
                sig.param_names.get(i).filter(|n| !n.is_empty()).cloned().unwrap_or_else(|| format!("arg{i}"))
            })
            .collect();
        for (p, ps) in &cspec.value.params {
            if !names.contains(p) {
                let d = self.at_spec(ps.pos, format!("callback `{name}` has no parameter `{p}`"));
                d.hint = Some(match did_you_mean(p, names.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("its parameters are: {}", names.join(", ")),
                });
                return None;
            }
        }
        let mut params = Vec::new();
        for (i, ty) in sig.params.iter().enumerate() {
            let pname = sig
                .param_names
                .get(i)
                .filter(|n| !n.is_empty())
                .cloned()
                .unwrap_or_else(|| format!("arg{i}"));
            let is_user_data = cspec.value.user_data.as_ref().is_some_and(|u| u.value == pname);
            let kind = if is_user_data {
                Kind::UserData { of: name.to_string() }
            } else if let Some(ps) = cspec.value.params.get(&pname) {
                match &ps.value.kind {
                    ParamKind::InString(enc) => match self.encoding(*enc, ty) {
                        Ok(encoding) => Kind::InString { encoding, optional: ps.value.optional },
                        Err(e) => {
                            self.at_spec(ps.pos, format!("parameter `{pname}` of callback `{name}`: {e}"));
                            return None;
                        }
                    },
                    _ => {
                        self.at_spec(
                            ps.pos,
                            "callback parameters may be scalars, `in_string` or `user_data`",
                        );
                        return None;
                    }
                }
            } else {
                match self.value(ty) {
                    Ok(value) => Kind::Value { value },
                    Err(e) => {
                        self.at_spec(
                            cspec.pos,
                            format!("parameter `{pname}` of callback `{name}` is {e} with no semantics"),
                        )
                        .hint = Some(format!(
                            "name it as `user_data`, or give it a kind under `callbacks: {name}: params:`"
                        ));
                        return None;
                    }
                }
            };
            params.push(Param { name: pname, kind });
        }
        if let Some(u) = &cspec.value.user_data {
            if !params.iter().any(|p| p.name == u.value) {
                let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                let d = self.at_spec(u.pos, format!("callback `{name}` has no parameter `{}`", u.value));
                if let Some(s) = did_you_mean(&u.value, names) {
                    d.hint = Some(format!("did you mean `{s}`?"));
                }
                return None;
            }
        }
        let ret = if matches!(self.header.resolve(&sig.ret), CType::Void) {
            Return::Void
        } else {
            match self.value(&sig.ret) {
                Ok(value) => Return::Value { value },
                Err(e) => {
                    self.at_spec(
                        cspec.pos,
                        format!("callback `{name}` returns {e}, which cannot be sent back"),
                    );
                    return None;
                }
            }
        };
        self.callbacks.insert(name.to_string(), Callback { name: name.to_string(), convention, params, ret });
        Some(())
    }

    /// Exports no selected prototype accounts for.
    fn unmatched_exports(&mut self, exports: &Exports) {
        let declared: BTreeSet<&str> = self.header.functions.iter().map(|f| f.name.as_str()).collect();
        let mut missing = Vec::new();
        for (c_name, (exported, decoration)) in &exports.code {
            if declared.contains(c_name.as_str()) || !self.selected(c_name) || !self.selected(exported) {
                continue;
            }
            let cpp = decoration.is_some_and(|(s, _)| s.is_cpp());
            missing.push((exported.clone(), cpp));
        }
        for (name, cpp) in missing {
            let hint = if cpp {
                "C++ functions cannot be called through a C ABI; exclude them: `exports: { exclude: [\"?*\", \"_Z*\"] }`".to_string()
            } else {
                format!("declare it in the header, or exclude it: `exports: {{ exclude: [\"{name}\"] }}`")
            };
            self.at_spec(
                self.spec.library.pos,
                format!("the library exports `{name}`, which no header declares"),
            )
            .hint = Some(hint);
        }
    }

    /// Finds the header struct each `structs:` entry describes (a typedef name or a tag) and
    /// checks that the fields it names exist.
    fn resolve_struct_specs(&mut self) {
        let spec = self.spec;
        for (key, st) in &spec.structs {
            let mut name = key.as_str();
            for _ in 0..16 {
                match self.header.types.get(name).map(|t| &t.kind) {
                    Some(TypeDefKind::Typedef { target: CType::Named { name: next } }) => name = next,
                    _ => break,
                }
            }
            let fields = match self.header.types.get(name).map(|t| &t.kind) {
                Some(TypeDefKind::Struct { fields } | TypeDefKind::Union { fields }) => fields,
                _ => {
                    self.at_spec(
                        st.pos,
                        format!("the header has no struct `{key}` among the types its functions use"),
                    )
                    .hint = Some("name it as the header does: a typedef name, or `struct tag`".into());
                    continue;
                }
            };
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            for (field, fs) in &st.value.fields {
                if !names.contains(&field.as_str()) {
                    let d = self.at_spec(fs.pos, format!("`{key}` has no field `{field}`"));
                    d.hint = Some(match did_you_mean(field, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("its fields are: {}", names.join(", ")),
                    });
                }
            }
            self.struct_specs.insert(name.to_string(), st);
        }
    }

    /// Spec entries that name nothing.
    fn spec_references(&mut self) {
        let names: Vec<&str> = self.header.functions.iter().map(|f| f.name.as_str()).collect();
        for (name, fs) in &self.spec.functions {
            let Some(f) = self.header.function(name) else {
                let d = self.at_spec(
                    fs.pos,
                    format!("the spec describes `{name}`, which the header does not declare"),
                );
                if let Some(s) = did_you_mean(name, names.iter().copied()) {
                    d.hint = Some(format!("did you mean `{s}`?"));
                }
                continue;
            };
            let params: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
            for (p, ps) in &fs.value.params {
                if !params.contains(&p.as_str()) {
                    let d = self.at_spec(ps.pos, format!("`{name}` has no parameter `{p}`"));
                    d.hint = Some(match did_you_mean(p, params.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("its parameters are: {}", params.join(", ")),
                    });
                }
            }
        }
        for (name, cb) in &self.spec.callbacks {
            if self.callback_typedef(&CType::Named { name: name.clone() }).is_none() {
                self.at_spec(cb.pos, format!("`{name}` is not a function-pointer typedef of the header"));
            }
        }
    }

    fn handles(&mut self) -> Vec<Handle> {
        let mut out = Vec::new();
        let mut by_type: BTreeMap<String, String> = BTreeMap::new();
        for (name, h) in &self.spec.handles {
            let c = &h.value.c_type.value;
            let bare = c.trim_start_matches("struct ");
            let known = self.header.types.contains_key(c)
                || self.header.types.contains_key(&format!("struct {bare}"));
            if !known {
                self.at_spec(
                    h.value.c_type.pos,
                    format!(
                        "handle `{name}`: the header has no type `{c}` among the types its functions use"
                    ),
                );
                continue;
            }
            if let Some(other) = by_type.insert(bare.to_string(), name.clone()) {
                self.at_spec(h.value.c_type.pos, format!("handles `{other}` and `{name}` both name `{c}`"));
                continue;
            }
            if let Some(close) = &h.value.close {
                let Some(f) = self.header.function(&close.value) else {
                    let header = self.header;
                    let d = self.at_spec(
                        close.pos,
                        format!("handle `{name}`: `close: {}` names no function of the header", close.value),
                    );
                    if let Some(s) =
                        did_you_mean(&close.value, header.functions.iter().map(|f| f.name.as_str()))
                    {
                        d.hint = Some(format!("did you mean `{s}`?"));
                    }
                    continue;
                };
                let takes_handle =
                    f.params.len() == 1 && self.handle_of(&f.params[0].ty).as_deref() == Some(name.as_str());
                if !takes_handle {
                    self.at_spec(
                        close.pos,
                        format!("handle `{name}`: `{}` must take exactly one `{name}` to close it", f.name),
                    );
                    continue;
                }
                if !self.exports.code.contains_key(&f.name) {
                    self.at_spec(
                        close.pos,
                        format!("handle `{name}`: the library does not export `{}`", f.name),
                    );
                    continue;
                }
            }
            out.push(Handle {
                name: name.clone(),
                c_type: c.clone(),
                close: h.value.close.as_ref().map(|c| c.value.clone()),
            });
        }
        out
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
