//! The front half of the generator, phase by phase: spec, library, header, model. Each
//! phase reports every problem it finds; a phase that fails stops the later ones (their
//! errors would only echo the first).

use crate::binary::{self, Binary};
use crate::diag::{Diagnostic, Diagnostics};
use crate::header::{self, Header, Target};
use crate::model::{self, Model};
use crate::spec::{self, Spec};
use std::path::Path;

/// Everything `check` produced.
pub struct Checked {
    /// The spec.
    pub spec: Spec,
    /// The parsed library.
    pub binary: Binary,
    /// The parsed header.
    pub header: Header,
    /// The header parsed again for the 64-bit target of the same system, when the spec
    /// asks for the proxy library: the prototypes and layouts its callers are compiled with.
    pub header64: Option<Header>,
    /// The validated model.
    pub model: Model,
    /// What is not an error but may well be one: a function whose code pops a different
    /// number of argument bytes than its convention says (`ret 8` for a cdecl prototype).
    pub warnings: Diagnostics,
}

/// The header target of a library a 32-bit host can load, `None` for any other binary.
pub fn host_target(binary: &Binary) -> Option<Target> {
    match binary {
        Binary::Pe(pe) if pe.is_i386() => Some(Target::Windows32),
        Binary::Elf(elf) if elf.is_i386_shared_object() => Some(Target::Linux32),
        _ => None,
    }
}

/// Runs every phase on the spec at `path`.
pub fn check(path: &Path) -> Result<Checked, Diagnostics> {
    let spec = spec::parse(path)?;
    let at_library = |message: String| {
        Diagnostics(vec![Diagnostic::at(
            &spec.path,
            Some(&spec.source),
            spec.library.pos.line,
            spec.library.pos.column,
            message,
        )])
    };
    let lib = &spec.library.value;
    let bytes = binary::load(lib).map_err(|e| at_library(e.to_string()))?;
    let binary = binary::read(&bytes).map_err(|e| at_library(format!("{}: {e}", lib.display())))?;
    let target = match &binary {
        Binary::Pe(pe) if pe.is_i386() => Target::Windows32,
        Binary::Elf(elf) if elf.is_i386_shared_object() => Target::Linux32,
        _ => {
            let report = crate::audit::audit(&lib.display().to_string(), &bytes)
                .map_err(|e| at_library(e.to_string()))?;
            return Err(at_library(format!(
                "{} cannot be loaded by a 32-bit host: {}",
                lib.display(),
                report.verdict.reason
            )));
        }
    };
    let options = header::Options {
        headers: spec.headers.iter().map(|h| h.value.clone()).collect(),
        include_dirs: spec.include_dirs.clone(),
        defines: spec.defines.clone(),
        target,
        expressions: spec.expressions(),
        system: spec.system_headers,
        cplusplus: spec.cplusplus,
        prelude: spec.prelude.iter().map(|p| p.value.clone()).collect(),
        declarations: spec
            .variants()
            .map(|(_, _, declare)| header::Declaration {
                text: declare.value.clone(),
                at: header::SourcePos {
                    file: spec.path.clone(),
                    line: declare.pos.line as u32,
                    column: declare.pos.column as u32,
                },
            })
            .collect(),
        constants: {
            let c = &spec.constants;
            let globs =
                |g: &[crate::spec::Spanned<String>]| g.iter().map(|g| g.value.clone()).collect::<Vec<_>>();
            if c.none {
                (Vec::new(), vec!["*".to_string()])
            } else {
                (globs(&c.include), globs(&c.exclude))
            }
        },
    };
    let at_header = |index: usize, message: String| {
        let pos = spec.headers.get(index).map(|h| h.pos).unwrap_or_default();
        Diagnostic::at(&spec.path, Some(&spec.source), pos.line, pos.column, message)
    };
    let parse = |options: &header::Options| {
        header::parse(options).map_err(|e| match e {
            header::HeaderError::Clang(message) => Diagnostics(vec![at_header(0, message)]),
            header::HeaderError::Inputs(bad) => {
                Diagnostics(bad.into_iter().map(|(i, e)| at_header(i, e.to_string())).collect())
            }
            header::HeaderError::Diagnostics(d) => d,
        })
    };
    let header = parse(&options)?;
    let model = model::build(&spec, &header, &binary)?;
    let header64 = match &spec.proxy {
        Some(_) => Some(parse(&header::Options { target: target.sixty_four(), ..options })?),
        None => None,
    };
    let warnings = Diagnostics(conventions(&bytes, &binary, &header, &model));
    Ok(Checked { spec, binary, header, header64, model, warnings })
}

/// The functions whose code's first `ret` pops other than their convention says: the
/// header (or the spec's `calling_convention`) is likely wrong. A warning, since the code is
/// only walked to its first return; the host's stack check refuses such a call anyway.
fn conventions(bytes: &[u8], binary: &Binary, header: &Header, model: &Model) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for f in &model.functions {
        let (model::Symbol::Name { name }, Some(hf)) = (&f.symbol, header.function(&f.c_name)) else {
            continue;
        };
        let stdcall = match f.convention {
            model::Convention::Cdecl => false,
            model::Convention::Stdcall => true,
            model::Convention::Fastcall => continue,
        };
        let Some(problem) =
            crate::audit::header_check::code_disagrees(bytes, binary, name, header, hf, stdcall)
        else {
            continue;
        };
        let source = std::fs::read_to_string(&hf.location.file).ok();
        let mut d = Diagnostic::at(
            &hf.location.file,
            source.as_deref(),
            hf.location.line as usize,
            hf.location.column as usize,
            format!("`{}` is {problem}", f.c_name),
        );
        d.warning = true;
        d.hint = Some(
            "fix the prototype's convention, or set `calling_convention` for it in the spec; the host refuses a call whose stack does not balance".into(),
        );
        out.push(d);
    }
    out
}
