//! `dllgen audit FILE --header H`: the binary's exports against the header's declarations.
//! Exports are matched by their C name (decorations such as `_f@8` removed) against the
//! header's functions and `extern` variables. For decorated exports the convention and argument bytes
//! are checked against the prototype's, as the 32-bit target lays the arguments out; for
//! any export the code's first `ret` is compared with what the prototype's convention pops
//! ([`code_disagrees`]).

use crate::binary::decorate::Scheme;
use crate::binary::x86;
use crate::binary::Binary;
use crate::header::{CType, CallConv, Function, Header, Target, TypeDefKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The cross-check's findings; every list is sorted.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderCheck {
    /// The headers parsed, as given.
    pub headers: Vec<String>,
    /// The target they were parsed for.
    pub target: Target,
    /// Exports that have a prototype or variable declaration.
    pub matched: usize,
    /// Exported names (as exported) that no declaration matches.
    pub exports_without_prototype: Vec<String>,
    /// Declared functions and variables the binary does not export.
    pub prototypes_without_export: Vec<String>,
    /// C++ exports, which no C declaration can match.
    pub cpp_exports: Vec<String>,
    /// Decorated exports whose convention or argument bytes disagree with the prototype.
    pub mismatches: Vec<Mismatch>,
}

/// A decorated export that disagrees with its prototype.
#[derive(Debug, Clone, Serialize)]
pub struct Mismatch {
    /// The export's name as exported (`f@8`).
    pub export: String,
    /// The C function it matched.
    pub function: String,
    /// What is wrong, in words.
    pub problem: String,
}

/// The target a binary's header must be parsed for.
pub fn target_for(binary: &Binary) -> Target {
    match binary {
        Binary::Pe(_) => Target::Windows32,
        Binary::Elf(_) => Target::Linux32,
    }
}

/// An export reduced to what the check needs.
struct Exported {
    name: String,
    c_name: String,
    decoration: Option<(Scheme, Option<u32>)>,
}

fn exports(binary: &Binary) -> Vec<Exported> {
    match binary {
        Binary::Pe(pe) => pe
            .exports
            .iter()
            .flat_map(|d| &d.entries)
            .filter_map(|e| {
                let name = e.name.clone()?;
                let decoration = e.decoration.as_ref();
                Some(Exported {
                    c_name: decoration.and_then(|d| d.name.clone()).unwrap_or_else(|| name.clone()),
                    name,
                    decoration: decoration.map(|d| (d.scheme, d.arg_bytes)),
                })
            })
            .collect(),
        Binary::Elf(elf) => elf
            .symbols
            .iter()
            .map(|s| Exported { name: s.name.clone(), c_name: s.name.clone(), decoration: None })
            .collect(),
    }
}

/// Compares `binary`'s exports (`bytes`: the file it was read from) with `header`'s
/// declarations.
pub fn check(bytes: &[u8], binary: &Binary, header: &Header, headers: Vec<String>) -> HeaderCheck {
    let functions: BTreeMap<&str, _> = header.functions.iter().map(|f| (f.name.as_str(), f)).collect();
    let variables: BTreeSet<&str> = header.variables.iter().map(|v| v.name.as_str()).collect();
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut out = HeaderCheck {
        headers,
        target: header.target,
        matched: 0,
        exports_without_prototype: Vec::new(),
        prototypes_without_export: Vec::new(),
        cpp_exports: Vec::new(),
        mismatches: Vec::new(),
    };
    for e in exports(binary) {
        if e.decoration.is_some_and(|(s, _)| s.is_cpp()) {
            out.cpp_exports.push(e.name);
            continue;
        }
        let function = functions.get(e.c_name.as_str());
        if function.is_none() && !variables.contains(e.c_name.as_str()) {
            out.exports_without_prototype.push(e.name);
            continue;
        }
        out.matched += 1;
        found.insert(e.c_name.clone());
        let Some(f) = function else { continue };
        let problem = match e.decoration {
            Some((scheme, arg_bytes)) => convention_problem(scheme, arg_bytes, f),
            None => None,
        };
        let problem = problem.or_else(|| match f.convention {
            CallConv::Cdecl => code_disagrees(bytes, binary, &e.name, header, f, false),
            CallConv::Stdcall => code_disagrees(bytes, binary, &e.name, header, f, true),
            _ => None,
        });
        if let Some(problem) = problem {
            out.mismatches.push(Mismatch { export: e.name.clone(), function: f.name.clone(), problem });
        }
    }
    out.prototypes_without_export = functions
        .keys()
        .copied()
        .chain(variables.iter().copied())
        .filter(|n| !found.contains(*n))
        .map(str::to_string)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    out.exports_without_prototype.sort();
    out.cpp_exports.sort();
    out.mismatches.sort_by(|a, b| a.export.cmp(&b.export));
    out
}

fn convention_problem(scheme: Scheme, bytes: Option<u32>, f: &crate::header::Function) -> Option<String> {
    let (expected, word) = match scheme {
        Scheme::Stdcall => (CallConv::Stdcall, "stdcall"),
        Scheme::Fastcall => (CallConv::Fastcall, "fastcall"),
        Scheme::Vectorcall => (CallConv::Vectorcall, "vectorcall"),
        Scheme::MsvcCpp | Scheme::ItaniumCpp => return None,
    };
    if f.convention != expected {
        let declared = match &f.convention {
            CallConv::Other(n) => format!("calling convention #{n}"),
            c => serde_json::to_value(c).ok()?.as_str()?.to_string(),
        };
        return Some(format!("exported as {word} but declared {declared}"));
    }
    let (exported, declared) = (u64::from(bytes?), f.stack_bytes()?);
    (exported != declared).then(|| {
        format!(
            "exported with {exported} argument bytes but the prototype takes {declared} on the 32-bit target"
        )
    })
}

/// What `f`'s code (exported as `export`) says when it disagrees with the convention it is
/// called with (`stdcall`, or cdecl): the first `ret` of its code pops a different number
/// of bytes. `None` when they agree or the code gives no answer. A function returning a
/// struct by value is not judged: whether the callee pops the hidden result pointer depends
/// on the ABI.
pub fn code_disagrees(
    bytes: &[u8],
    binary: &Binary,
    export: &str,
    header: &Header,
    f: &Function,
    stdcall: bool,
) -> Option<String> {
    if let CType::Named { name } = header.resolve(&f.ret) {
        if matches!(
            header.types.get(name).map(|t| &t.kind),
            Some(TypeDefKind::Struct { .. } | TypeDefKind::Union { .. })
        ) {
            return None;
        }
    }
    let declared = if stdcall { f.stack_bytes()? } else { 0 };
    let popped = u64::from(x86::pops(x86::code(bytes, binary, export)?)?);
    (popped != declared).then(|| match (stdcall, popped) {
        (false, n) => format!(
            "called as cdecl, but its code returns with `ret {n}`: it is stdcall, with {n} bytes of arguments"
        ),
        (true, 0) => format!(
            "called as stdcall ({declared} bytes of arguments), but its code returns with a plain `ret`: it is cdecl"
        ),
        (true, n) => format!(
            "called as stdcall with {declared} bytes of arguments, but its code returns with `ret {n}`"
        ),
    })
}
