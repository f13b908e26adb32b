#![allow(non_upper_case_globals)] // libclang's constant names, matched as patterns

//! Walks libclang's AST into the [`Header`] data.

use super::clang::{self, Cursor, Location, TranslationUnit, Type};
use super::*;
use crate::diag::{Diagnostic, Diagnostics};
use clang_sys::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// In-memory files: an umbrella including every header, and empty definitions for the SAL
/// macros so headers written for MSVC parse anywhere (sal.h, where present, redefines them
/// identically).
const UMBRELLA: &str = "/__dllgen__/umbrella.c";
/// Both targets are ILP32.
const POINTER_BYTES: u64 = 4;
const SAL_PRELUDE: &str = "/__dllgen__/sal.h";
/// The spec's own prototypes (variants), one per line, after the headers.
const DECLARED: &str = "/__dllgen__/declared.h";

fn sal_prelude() -> String {
    const PLAIN: &[&str] = &[
        "_In_",
        "_In_opt_",
        "_In_z_",
        "_In_opt_z_",
        "_Out_",
        "_Out_opt_",
        "_Inout_",
        "_Inout_opt_",
        "_Inout_z_",
        "_Inout_opt_z_",
        "_Outptr_",
        "_Outptr_opt_",
        "_Outptr_result_maybenull_",
        "_Outptr_opt_result_maybenull_",
        "_Ret_z_",
        "_Ret_maybenull_",
        "_Ret_notnull_",
        "_Ret_opt_z_",
        "_Check_return_",
        "_Must_inspect_result_",
        "_Printf_format_string_",
        "_Reserved_",
        "_Null_terminated_",
        "_NullNull_terminated_",
        "_Frees_ptr_",
        "_Frees_ptr_opt_",
        "_Use_decl_annotations_",
    ];
    const ONE_ARG: &[&str] = &[
        "_In_reads_",
        "_In_reads_opt_",
        "_In_reads_bytes_",
        "_In_reads_bytes_opt_",
        "_In_reads_z_",
        "_In_reads_opt_z_",
        "_In_reads_or_z_",
        "_Out_writes_",
        "_Out_writes_opt_",
        "_Out_writes_bytes_",
        "_Out_writes_bytes_opt_",
        "_Out_writes_z_",
        "_Out_writes_opt_z_",
        "_Out_writes_all_",
        "_Out_writes_bytes_all_",
        "_Inout_updates_",
        "_Inout_updates_opt_",
        "_Inout_updates_bytes_",
        "_Inout_updates_bytes_opt_",
        "_Inout_updates_z_",
        "_Inout_updates_opt_z_",
        "_Outptr_result_buffer_",
        "_Outptr_result_bytebuffer_",
        "_Ret_writes_",
        "_Ret_writes_bytes_",
        "_Ret_writes_z_",
        "_Success_",
        "_When_",
        "_Field_size_",
        "_Field_size_bytes_",
        "_Struct_size_bytes_",
    ];
    const TWO_ARGS: &[&str] = &[
        "_Out_writes_to_",
        "_Out_writes_to_opt_",
        "_Out_writes_bytes_to_",
        "_Out_writes_bytes_to_opt_",
        "_Inout_updates_to_",
        "_Inout_updates_bytes_to_",
        "_Outptr_result_buffer_to_",
        "_Ret_writes_to_",
        "_Field_size_part_",
    ];
    let mut out = String::new();
    for name in PLAIN {
        out.push_str(&format!("#ifndef {name}\n#define {name}\n#endif\n"));
    }
    for name in ONE_ARG {
        out.push_str(&format!("#ifndef {name}\n#define {name}(a)\n#endif\n"));
    }
    for name in TWO_ARGS {
        out.push_str(&format!("#ifndef {name}\n#define {name}(a, b)\n#endif\n"));
    }
    out
}

pub fn parse(options: &Options) -> Result<Header, HeaderError> {
    // Checked here, not left to clang: it would block on a FIFO and chew on NULs.
    let bad: Vec<_> = options
        .headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| crate::input::check_header(h).err().map(|e| (i, e)))
        .collect();
    if !bad.is_empty() {
        return Err(HeaderError::Inputs(bad));
    }
    let mut args: Vec<String> = [
        "-x",
        if options.cplusplus { "c++" } else { "c" },
        "-fparse-all-comments",
        "-ferror-limit=100",
        "-include",
        SAL_PRELUDE,
    ]
    .map(String::from)
    .to_vec();
    if options.cplusplus {
        args.push("-std=c++17".into());
    }
    args.extend(options.target.clang_args().iter().map(|s| s.to_string()));
    clang::ensure_loaded().map_err(HeaderError::Clang)?;
    if let Some(dir) = clang::resource_dir() {
        args.push(format!("-resource-dir={}", dir.display()));
    }
    for dir in &options.include_dirs {
        args.push(format!("-I{}", dir.display()));
    }
    for (name, value) in &options.defines {
        args.push(match value {
            Some(v) => format!("-D{name}={v}"),
            None => format!("-D{name}"),
        });
    }
    // The umbrella lives in a virtual folder: it must name the headers absolutely.
    // The prelude first (`<windows.h>` for a header that uses its types without including
    // it), then the headers.
    let umbrella: String = options
        .prelude
        .iter()
        .map(|p| format!("#include <{p}>\n"))
        .chain(options.headers.iter().map(|h| {
            format!("#include \"{}\"\n", std::path::absolute(h).unwrap_or_else(|_| h.clone()).display())
        }))
        .chain((!options.declarations.is_empty()).then(|| format!("#include \"{DECLARED}\"\n")))
        .collect();
    // One declaration per line: a line number names the spec entry it came from.
    let declared: String = options
        .declarations
        .iter()
        .map(|d| format!("{};\n", d.text.replace(['\n', '\r'], " ").trim_end().trim_end_matches(';')))
        .collect();
    let declared_at = |line: u32| line.checked_sub(1).and_then(|i| options.declarations.get(i as usize));
    let unsaved = [
        (UMBRELLA.to_string(), umbrella),
        (SAL_PRELUDE.to_string(), sal_prelude()),
        (DECLARED.to_string(), declared),
    ];
    let tu =
        TranslationUnit::parse(Path::new(UMBRELLA), &args, &unsaved, true).map_err(HeaderError::Clang)?;

    let errors: Vec<Diagnostic> = tu
        .diagnostics()
        .into_iter()
        .filter(|d| d.severity >= CXDiagnostic_Error)
        .map(|d| {
            let file = d.location.file.clone().unwrap_or_default();
            if file == Path::new(DECLARED) {
                if let Some(decl) = declared_at(d.location.line) {
                    let source = std::fs::read_to_string(&decl.at.file).ok();
                    return Diagnostic::at(
                        &decl.at.file,
                        source.as_deref(),
                        decl.at.line as usize,
                        decl.at.column as usize,
                        format!("in this prototype, at its character {}: {}", d.location.column, d.message),
                    );
                }
            }
            // Any file clang read, so one more input: the same checks apply.
            let source = crate::input::read_text(&file, crate::input::HEADER).ok();
            Diagnostic::at(
                &file,
                source.as_deref(),
                d.location.line as usize,
                d.location.column as usize,
                d.message,
            )
        })
        .collect();
    if !errors.is_empty() {
        return Err(HeaderError::Diagnostics(Diagnostics(errors)));
    }

    let mut x = Extractor {
        tu: &tu,
        types: BTreeMap::new(),
        tokens: HashMap::new(),
        texts: HashMap::new(),
        cplusplus: options.cplusplus,
        anon: 0,
    };
    let mut functions: BTreeMap<String, Function> = BTreeMap::new();
    let mut variables: BTreeMap<String, Variable> = BTreeMap::new();
    // In C++ the C API is what `extern "C"` declares: its blocks are opened; other
    // functions have C++ linkage (mangled names, no C ABI to call) and are left out.
    let top: Vec<Cursor> = if options.cplusplus {
        tu.cursor()
            .children()
            .into_iter()
            .flat_map(|c| match c.kind() {
                // libclang before 17 reports `extern "C" { ... }` as an unexposed declaration.
                CXCursor_LinkageSpec | CXCursor_UnexposedDecl => c.children(),
                CXCursor_FunctionDecl => Vec::new(),
                _ => vec![c],
            })
            .collect()
    } else {
        tu.cursor().children()
    };
    let ours = |c: &Cursor| matches!(c.location().file.as_deref(), Some(f) if f == Path::new(UMBRELLA) || f == Path::new(SAL_PRELUDE));
    let candidates = constants::macros(&top, ours, |name, system| options.wants_constant(name, system));
    let mut enum_constants =
        constants::enum_constants(&top, ours, |name, system| options.wants_constant(name, system));
    let probed = if candidates.is_empty() && options.expressions.is_empty() {
        constants::Probed { constants: Vec::new(), expressions: BTreeMap::new() }
    } else {
        constants::probe(
            Path::new(UMBRELLA),
            &args,
            &unsaved,
            &unsaved[0].1,
            candidates,
            &options.expressions,
            options.cplusplus,
        )
        .map_err(HeaderError::Clang)?
    };
    // An enum constant is its own value; a macro of the same name (`#define X X`) adds nothing.
    let mut all: BTreeMap<String, constants::Constant> =
        probed.constants.into_iter().map(|c| (c.name.clone(), c)).collect();
    for c in enum_constants.drain(..) {
        all.insert(c.name.clone(), c);
    }
    // Trailing doc comments already taken, by where they start.
    let mut claimed: std::collections::HashSet<(PathBuf, u32)> = std::collections::HashSet::new();
    for c in top {
        if (c.in_system_header() && !options.system)
            || c.location().file.as_deref() == Some(Path::new(UMBRELLA))
        {
            continue;
        }
        match c.kind() {
            CXCursor_FunctionDecl if c.storage_class() != CX_SC_Static => {
                let mut f = x.function(c);
                if c.location().file.as_deref() == Some(Path::new(DECLARED)) {
                    // The spec's own prototype: it is where the spec writes it.
                    if let Some(decl) = declared_at(c.location().line) {
                        f.location = decl.at.clone();
                    }
                    f.doc = None;
                    f.from_spec = true;
                    // A name the headers declare stays theirs (the model refuses the clash).
                    functions.entry(f.name.clone()).or_insert(f);
                    continue;
                }
                if !c.in_system_header() {
                    // A comment clang attached from before the declaration that another
                    // declaration already took as its own trailing doc is that one's.
                    if c.comment_start().is_some_and(|at| claimed.contains(&at)) {
                        f.doc = None;
                    }
                    let trailing = x.trailing_comment(&c);
                    if let Some((at, text)) = trailing {
                        claimed.insert(at);
                        // A plain comment before it (a section heading) gives way to the
                        // one after; one written as documentation (`/**`) does not.
                        if f.doc.is_none() || !c.comment_is_doc() {
                            f.doc = Some(text);
                        }
                    }
                }
                // Keep one declaration per name, preferring one with a comment; parameter
                // names a declaration leaves out come from another that gives them.
                match functions.get_mut(&f.name) {
                    None => {
                        functions.insert(f.name.clone(), f);
                    }
                    Some(old) => {
                        if old.doc.is_none() && f.doc.is_some() {
                            std::mem::swap(old, &mut f);
                        }
                        if old.params.len() == f.params.len() {
                            for (i, (kept, other)) in old.params.iter_mut().zip(&f.params).enumerate() {
                                if kept.name == format!("arg{i}") && other.name != format!("arg{i}") {
                                    kept.name = other.name.clone();
                                }
                            }
                        }
                    }
                }
            }
            CXCursor_VarDecl if c.storage_class() == CX_SC_Extern => {
                let v = Variable {
                    name: c.spelling(),
                    ty: x.ctype(c.ty()),
                    doc: c.comment(),
                    location: pos(c.location()),
                };
                variables.entry(v.name.clone()).or_insert(v);
            }
            _ => {}
        }
    }
    Ok(Header {
        target: options.target,
        functions: functions.into_values().collect(),
        variables: variables.into_values().collect(),
        types: x.types,
        constants: all.into_values().collect(),
        expressions: probed.expressions,
    })
}

pub(super) fn pos(loc: Location) -> SourcePos {
    SourcePos { file: loc.file.unwrap_or_default(), line: loc.line, column: loc.column }
}

struct Extractor<'tu> {
    tu: &'tu TranslationUnit,
    types: BTreeMap<String, TypeDef>,
    /// Raw tokens per file, for SAL annotations.
    tokens: HashMap<PathBuf, Vec<(String, u32)>>,
    /// File texts, for comments after declarations.
    texts: HashMap<PathBuf, String>,
    /// Parsing C++: tags are spelled without their keyword.
    cplusplus: bool,
    anon: u32,
}

impl Extractor<'_> {
    /// A comment right after a declaration that has none before it: on the same line
    /// (`int f(void); /* ... */`), or on the next line as zlib documents its functions,
    /// unless code follows it directly (then it is the next declaration's).
    fn trailing_comment(&mut self, c: &Cursor) -> Option<((PathBuf, u32), String)> {
        let end = c.end_in_file();
        let file = end.file.clone()?;
        let tu = self.tu;
        let text = self.texts.entry(file.clone()).or_insert_with(|| tu.file_text(&file).unwrap_or_default());
        let rest = text.get(end.offset as usize..)?;
        let rest = rest.trim_start_matches([')', ';', ' ', '\t']);
        // On the same line (then it is this declaration's), or the next one.
        let next_line = rest.strip_prefix("\r\n").or_else(|| rest.strip_prefix('\n'));
        let same_line = next_line.is_none();
        let rest = next_line.unwrap_or(rest).trim_start_matches([' ', '\t']);
        let start = (text.len() - rest.len()) as u32;
        let (comment, after) = if let Some(body) = rest.strip_prefix("/*") {
            let close = body.find("*/")?;
            (&rest[..close + 4], &body[close + 2..])
        } else {
            return None;
        };
        // A blank line (or the end, or a preprocessor line) must follow.
        let after = after.trim_start_matches([' ', '\t']);
        let after = after.strip_prefix("\r\n").or_else(|| after.strip_prefix('\n')).unwrap_or(after);
        let next = after.trim_start_matches([' ', '\t']);
        let separated =
            next.is_empty() || next.starts_with('\n') || next.starts_with("\r\n") || next.starts_with('#');
        if !same_line && !separated {
            return None;
        }
        let cleaned = super::clang::clean_comment(comment);
        (!cleaned.trim().is_empty()).then_some(((file, start), cleaned))
    }

    fn function(&mut self, c: Cursor) -> Function {
        let ty = function_type(c.ty());
        let decls: Vec<Cursor> = c.children().into_iter().filter(|p| p.kind() == CXCursor_ParmDecl).collect();
        let location = c.location();
        let (ret_sal, param_sals) = self.sal(&location, &decls);
        let arg_types = ty.args();
        let params = if decls.len() == arg_types.len() {
            decls
                .iter()
                .zip(param_sals)
                .enumerate()
                .map(|(i, (p, sal))| {
                    let mut param = self.param(i, &p.spelling(), p.ty(), sal);
                    // A function-pointer type written in the prototype names its parameters.
                    keep_param_names(&mut param.ty, p);
                    param
                })
                .collect()
        } else {
            // No parameter declarations (a function typedef): names are unknown.
            arg_types.into_iter().enumerate().map(|(i, t)| self.param(i, "", t, Vec::new())).collect()
        };
        Function {
            name: c.spelling(),
            ret: self.ctype(ty.result()),
            params,
            variadic: ty.is_variadic(),
            prototyped: ty.kind() != CXType_FunctionNoProto,
            convention: convention(ty.calling_conv()),
            doc: c.comment(),
            ret_sal,
            location: pos(location),
            from_spec: false,
        }
    }

    /// A parameter; arrays decay to pointers, as C passes them.
    fn param(&mut self, index: usize, name: &str, t: Type, sal: Vec<Sal>) -> Param {
        let name = if name.is_empty() { format!("arg{index}") } else { name.to_string() };
        match t.kind() {
            CXType_ConstantArray
            | CXType_IncompleteArray
            | CXType_VariableArray
            | CXType_DependentSizedArray => {
                let element = t.element();
                Param {
                    name,
                    ty: CType::Pointer {
                        pointee: Box::new(self.ctype(element)),
                        const_pointee: element.is_const(),
                    },
                    size: Some(POINTER_BYTES),
                    sal,
                }
            }
            _ => Param { name, ty: self.ctype(t), size: t.size(), sal },
        }
    }

    /// SAL annotations for the return value (tokens before the name, back to the previous
    /// declaration) and for each parameter (tokens from the previous parameter's end to
    /// this one's end).
    fn sal(&mut self, name: &Location, params: &[Cursor]) -> (Vec<Sal>, Vec<Vec<Sal>>) {
        let Some(file) = name.file.clone() else { return (Vec::new(), vec![Vec::new(); params.len()]) };
        let tu = self.tu;
        let tokens = self.tokens.entry(file.clone()).or_insert_with(|| tu.file_tokens(&file));
        let at = tokens.partition_point(|(_, off)| *off < name.offset);
        let mut start = at;
        let mut depth = 0;
        while start > 0 {
            let t = tokens[start - 1].0.as_str();
            match t {
                ")" => depth += 1,
                "(" if depth > 0 => depth -= 1,
                ";" | "{" | "}" | "#" if depth == 0 => break,
                _ => {}
            }
            start -= 1;
        }
        let ret: Vec<&str> = tokens[start..at].iter().map(|(t, _)| t.as_str()).collect();
        let mut prev = name.offset;
        let mut per_param = Vec::with_capacity(params.len());
        for p in params {
            let (_, end) = p.extent();
            let same_file = end.file.as_deref() == Some(file.as_path());
            let sals = if same_file && end.offset >= prev {
                let lo = tokens.partition_point(|(_, off)| *off < prev);
                let hi = tokens.partition_point(|(_, off)| *off < end.offset);
                prev = end.offset;
                let slice: Vec<&str> = tokens[lo..hi].iter().map(|(t, _)| t.as_str()).collect();
                sal::scan(&slice)
            } else {
                Vec::new()
            };
            per_param.push(sals);
        }
        (sal::scan(&ret), per_param)
    }

    fn ctype(&mut self, t: Type) -> CType {
        let size = || t.size().unwrap_or(0) as u8;
        match t.kind() {
            CXType_Elaborated => self.ctype(t.named()),
            CXType_Attributed => self.ctype(t.modified()),
            CXType_Typedef => CType::Named { name: self.typedef(t.declaration()) },
            CXType_Record => CType::Named { name: self.record(t) },
            CXType_Enum => CType::Named { name: self.enumeration(t) },
            CXType_Pointer | CXType_BlockPointer => {
                let p = t.pointee();
                CType::Pointer { pointee: Box::new(self.ctype(p)), const_pointee: p.is_const() }
            }
            CXType_ConstantArray => {
                CType::Array { element: Box::new(self.ctype(t.element())), len: t.array_len().unwrap_or(0) }
            }
            CXType_IncompleteArray => CType::Array { element: Box::new(self.ctype(t.element())), len: 0 },
            CXType_FunctionProto | CXType_FunctionNoProto => {
                let params = t.args().into_iter().map(|a| self.ctype(a)).collect();
                CType::Function(Box::new(Signature {
                    ret: self.ctype(t.result()),
                    params,
                    param_names: Vec::new(),
                    variadic: t.is_variadic(),
                    convention: convention(t.calling_conv()),
                }))
            }
            CXType_Void => CType::Void,
            CXType_Bool => CType::Bool,
            CXType_Char_S | CXType_Char_U => CType::Char { signed: t.kind() == CXType_Char_S },
            CXType_SChar | CXType_Short | CXType_Int | CXType_Long | CXType_LongLong | CXType_Int128 => {
                CType::Int { bytes: size(), signed: true }
            }
            CXType_UChar | CXType_UShort | CXType_UInt | CXType_ULong | CXType_ULongLong | CXType_UInt128
            | CXType_Char16 | CXType_Char32 => CType::Int { bytes: size(), signed: false },
            CXType_WChar => {
                CType::Int { bytes: size(), signed: t.canonical().spelling() != "unsigned short" }
            }
            CXType_Float | CXType_Double => CType::Float { bytes: size() },
            _ => CType::Unsupported { spelling: t.spelling() },
        }
    }

    fn typedef(&mut self, decl: Cursor) -> String {
        let name = decl.spelling();
        if self.types.contains_key(&name) {
            return name;
        }
        let underlying = decl.typedef_underlying();
        // `typedef struct { ... } name;`: clang names the anonymous record after the
        // typedef, and the record itself is stored under that name.
        let inner = underlying.named();
        if matches!(inner.kind(), CXType_Record | CXType_Enum) && self.tag_name(inner) == name {
            self.define_tagged(&name, inner, decl.comment());
            return name;
        }
        // Insert first: a typedef may reach itself through a pointer.
        self.types
            .insert(name.clone(), TypeDef { size: None, align: None, kind: TypeDefKind::Opaque, doc: None });
        let mut target = self.ctype(underlying);
        // A function-pointer typedef names its parameters.
        keep_param_names(&mut target, &decl);
        self.types.insert(
            name.clone(),
            TypeDef {
                size: underlying.size(),
                align: underlying.align(),
                kind: TypeDefKind::Typedef { target },
                doc: decl.comment(),
            },
        );
        name
    }

    /// The key of a struct, union or enum type: its spelling (`struct s`), or a stable name
    /// for anonymous ones (file name, line and column; no directories).
    fn tag_name(&mut self, t: Type) -> String {
        let decl = t.declaration();
        let mut spelled = t.canonical().spelling();
        // The tag's name, not a qualified use of it (`const cp_point`).
        while let Some(rest) = spelled.strip_prefix("const ").or_else(|| spelled.strip_prefix("volatile ")) {
            spelled = rest.to_string();
        }
        // C++ spells `struct s` as `s`: named as in C, so specs read the same either way.
        let keyword = match decl.kind() {
            CXCursor_StructDecl => "struct",
            CXCursor_UnionDecl => "union",
            CXCursor_EnumDecl => "enum",
            _ => "",
        };
        if self.cplusplus && !keyword.is_empty() && decl.spelling() == spelled {
            spelled = format!("{keyword} {spelled}");
        }
        if !decl.is_anonymous() && !spelled.contains("(unnamed") && !spelled.contains("(anonymous") {
            return spelled;
        }
        let loc = decl.location();
        let file = loc
            .file
            .as_deref()
            .and_then(Path::file_name)
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let word = spelled.split_whitespace().next().unwrap_or("struct").to_string();
        format!("{word} (anonymous at {file}:{}:{})", loc.line, loc.column)
    }

    fn record(&mut self, t: Type) -> String {
        let name = self.tag_name(t);
        if !self.types.contains_key(&name) {
            self.define_tagged(&name, t, t.declaration().comment());
        }
        name
    }

    fn enumeration(&mut self, t: Type) -> String {
        self.record(t)
    }

    /// Defines a struct, union or enum under `name`.
    fn define_tagged(&mut self, name: &str, t: Type, doc: Option<String>) {
        self.types.insert(
            name.to_string(),
            TypeDef { size: None, align: None, kind: TypeDefKind::Opaque, doc: None },
        );
        let decl = t.declaration();
        let def = decl.definition().unwrap_or(decl);
        let kind = match def.kind() {
            CXCursor_EnumDecl => {
                let constants = def
                    .children()
                    .into_iter()
                    .filter(|c| c.kind() == CXCursor_EnumConstantDecl)
                    .map(|c| (c.spelling(), c.enum_value()))
                    .collect();
                TypeDefKind::Enum { underlying: self.ctype(def.enum_type()), constants }
            }
            _ if t.size().is_none() => TypeDefKind::Opaque,
            CXCursor_StructDecl | CXCursor_UnionDecl => {
                let fields = def
                    .children()
                    .into_iter()
                    .filter(|c| c.kind() == CXCursor_FieldDecl)
                    .map(|f| {
                        let field_name = f.spelling();
                        Field {
                            name: if field_name.is_empty() {
                                self.anon += 1;
                                format!("__anon{}", self.anon)
                            } else {
                                field_name
                            },
                            ty: self.ctype(f.ty()),
                            offset_bits: f.field_offset_bits().max(0) as u64,
                            bit_width: f.is_bit_field().then(|| f.bit_width().max(0) as u32),
                            size: f.ty().size(),
                            align: f.ty().align(),
                            doc: f.comment(),
                        }
                    })
                    .collect();
                if def.kind() == CXCursor_StructDecl {
                    TypeDefKind::Struct { fields }
                } else {
                    TypeDefKind::Union { fields }
                }
            }
            _ => TypeDefKind::Opaque,
        };
        self.types.insert(name.to_string(), TypeDef { size: t.size(), align: t.align(), kind, doc });
    }
}

/// A function pointer's parameter names, from the declaration `decl` that writes its type
/// (a typedef, or a parameter whose type is written in the prototype): nested `ParmDecl`s.
fn keep_param_names(ty: &mut CType, decl: &Cursor) {
    if let CType::Pointer { pointee, .. } = ty {
        if let CType::Function(sig) = pointee.as_mut() {
            sig.param_names = decl
                .children()
                .into_iter()
                .filter(|c| c.kind() == CXCursor_ParmDecl)
                .map(|c| c.spelling())
                .collect();
        }
    }
}

/// The function type of a declaration; `op_fn f;` declares `f` through a function typedef,
/// which is followed (keeping the parameters' own typedef names) rather than canonicalized.
fn function_type(mut t: Type) -> Type {
    for _ in 0..16 {
        match t.kind() {
            CXType_FunctionProto | CXType_FunctionNoProto => return t,
            CXType_Typedef => t = t.declaration().typedef_underlying(),
            CXType_Elaborated => t = t.named(),
            CXType_Attributed => t = t.modified(),
            _ => return t.canonical(),
        }
    }
    t.canonical()
}

fn convention(cc: CXCallingConv) -> CallConv {
    match cc {
        CXCallingConv_C | CXCallingConv_Default => CallConv::Cdecl,
        CXCallingConv_X86StdCall => CallConv::Stdcall,
        CXCallingConv_X86FastCall => CallConv::Fastcall,
        CXCallingConv_X86VectorCall => CallConv::Vectorcall,
        CXCallingConv_X86ThisCall => CallConv::Thiscall,
        other => CallConv::Other(other as u32),
    }
}
