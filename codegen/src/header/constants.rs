#![allow(non_upper_case_globals)] // libclang's constant names, matched as patterns

//! Header constants: object-like `#define`s and enum constants, with the values clang's own
//! constant evaluator gives them on the target; and the spec's constant expressions
//! (`fixed: sizeof(z_stream)`), evaluated the same way. Nothing is evaluated by hand: each
//! macro becomes a variable of a second translation unit (`static const __auto_type v =
//! (BODY);` after the headers), whose initializer clang folds; a macro that is not a
//! constant (`#define ZEXPORT`, `#define local static`) simply fails to become one.

use super::clang::{Cursor, Evaluated, TranslationUnit};
use super::extract::pos;
use super::SourcePos;
use clang_sys::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A named constant of the headers.
#[derive(Debug, Clone, Serialize)]
pub struct Constant {
    /// The C name.
    pub name: String,
    /// Its value on the target.
    pub value: ConstValue,
    /// Where it is defined.
    pub location: SourcePos,
}

/// A constant's value, typed as C types it on the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConstValue {
    /// An integer (its two's-complement bits), with its C type's width and signedness.
    Int {
        /// The bits.
        bits: u64,
        /// Width.
        bytes: u8,
        /// Signedness.
        signed: bool,
    },
    /// A floating-point value.
    Float {
        /// The value.
        value: f64,
        /// 4 or 8.
        bytes: u8,
    },
    /// A string literal's bytes (no NUL).
    Str {
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// A pointer constant (`((sqlite3_destructor_type)-1)`): its address.
    Pointer {
        /// The address.
        address: u64,
    },
}

impl ConstValue {
    /// An integer's value.
    pub fn int(&self) -> Option<i128> {
        match *self {
            ConstValue::Int { bits, bytes, signed } => Some(if signed {
                let shift = 64 - 8 * u32::from(bytes.clamp(1, 8));
                i128::from(((bits << shift) as i64) >> shift)
            } else {
                i128::from(bits & (u64::MAX >> (64 - 8 * u32::from(bytes.clamp(1, 8)))))
            }),
            _ => None,
        }
    }
}

/// A macro worth probing.
pub(super) struct Candidate {
    name: String,
    body: Vec<String>,
    location: SourcePos,
}

/// The object-like macro definitions among `cursors` (the translation unit's top level,
/// with the preprocessing record) whose body could be an expression.
pub(super) fn macros(
    cursors: &[Cursor],
    skip: impl Fn(&Cursor) -> bool,
    wanted: impl Fn(&str, bool) -> bool,
) -> Vec<Candidate> {
    let mut found: BTreeMap<String, Candidate> = BTreeMap::new();
    for c in cursors {
        if c.kind() != CXCursor_MacroDefinition || skip(c) || c.is_macro_function_like() {
            continue;
        }
        if !wanted(&c.spelling(), c.in_system_header()) {
            continue;
        }
        // Predefined and command-line macros are written in no file.
        if c.location().file.is_none_or(|f| f.as_os_str().is_empty()) {
            continue;
        }
        let mut tokens = c.tokens();
        if tokens.is_empty() {
            continue;
        }
        let name = tokens.remove(0);
        if expression_like(&tokens) && !name.starts_with("__dllgen") {
            // The last definition wins, as for the code that includes the header.
            found.insert(name.clone(), Candidate { name, body: tokens, location: pos(c.location()) });
        }
    }
    found.into_values().collect()
}

/// Whether tokens could be an expression on their own: not empty, brackets balanced, no
/// statement or block punctuation (which could swallow the probes after it).
fn expression_like(tokens: &[String]) -> bool {
    let mut depth: Vec<&str> = Vec::new();
    for t in tokens {
        match t.as_str() {
            "(" | "[" => depth.push(t),
            ")" if depth.pop() != Some("(") => return false,
            "]" if depth.pop() != Some("[") => return false,
            ";" | "{" | "}" | "#" | "##" => return false,
            _ => {}
        }
    }
    !tokens.is_empty() && depth.is_empty()
}

fn is_string_literal(token: &str) -> bool {
    ["\"", "L\"", "u8\"", "u\"", "U\""].iter().any(|p| token.starts_with(p))
}

/// Candidates whose body is string literals, possibly through other such macros.
fn string_macros(candidates: &[Candidate]) -> Vec<bool> {
    let mut string = vec![false; candidates.len()];
    let index: BTreeMap<&str, usize> =
        candidates.iter().enumerate().map(|(i, c)| (c.name.as_str(), i)).collect();
    loop {
        let mut changed = false;
        for (i, c) in candidates.iter().enumerate() {
            if string[i] {
                continue;
            }
            let mut any = false;
            let all = c.body.iter().all(|t| {
                let s = is_string_literal(t) || index.get(t.as_str()).is_some_and(|&j| string[j]);
                any |= s;
                s || t == "(" || t == ")"
            });
            if all && any {
                string[i] = true;
                changed = true;
            }
        }
        if !changed {
            return string;
        }
    }
}

/// What the probe translation unit found.
pub(super) struct Probed {
    /// The macros that are constants, and the enum constants, sorted by name.
    pub constants: Vec<Constant>,
    /// Each expression of the spec: its value, or why it has none (clang's words).
    pub expressions: BTreeMap<String, Result<ConstValue, String>>,
}

/// Evaluates `candidates` and `expressions` in a translation unit of `prelude` (the
/// umbrella including the headers) followed by one probe per line.
pub(super) fn probe(
    file: &Path,
    args: &[String],
    unsaved: &[(String, String)],
    prelude: &str,
    candidates: Vec<Candidate>,
    expressions: &[String],
    cplusplus: bool,
) -> Result<Probed, String> {
    let auto = if cplusplus { "auto" } else { "__auto_type" };
    let strings = string_macros(&candidates);
    let mut text = prelude.to_string();
    let mut line = text.lines().count() as u32;
    let mut emit = |text: &mut String, decl: String| {
        text.push_str(&decl);
        text.push('\n');
        line += 1;
        line
    };
    for (i, c) in candidates.iter().enumerate() {
        let body = c.body.join(" ");
        if strings[i] {
            // Without parentheses: clang reads a string only from a literal it can see.
            let bare: Vec<&str> =
                c.body.iter().map(String::as_str).filter(|t| !matches!(*t, "(" | ")")).collect();
            emit(&mut text, format!("static const char *const __dllgen_s{i} = {};", bare.join(" ")));
        } else {
            emit(&mut text, format!("static const {auto} __dllgen_v{i} = ({body});"));
            emit(
                &mut text,
                format!("static const unsigned long long __dllgen_p{i} = (unsigned long long)(__UINTPTR_TYPE__)({body});"),
            );
        }
    }
    let mut expression_lines = Vec::new();
    for (j, e) in expressions.iter().enumerate() {
        let e = e.replace('\n', " ");
        emit(&mut text, format!("static const char *const __dllgen_es{j} = {e};"));
        expression_lines.push(emit(&mut text, format!("static const {auto} __dllgen_ev{j} = ({e});")));
        emit(
            &mut text,
            format!("static const unsigned long long __dllgen_ep{j} = (unsigned long long)(__UINTPTR_TYPE__)({e});"),
        );
    }
    let mut unsaved = unsaved.to_vec();
    let name = file.to_string_lossy().into_owned();
    match unsaved.iter_mut().find(|(p, _)| *p == name) {
        Some(entry) => entry.1 = text,
        None => unsaved.push((name, text)),
    }
    let mut args = args.to_vec();
    args.push("-ferror-limit=0".into());
    let tu = TranslationUnit::parse(file, &args, &unsaved, false)?;

    // The probes by name: `s`, `v`, `p` for candidates, `es`, `ev`, `ep` for expressions.
    let mut vars: BTreeMap<String, Cursor> = BTreeMap::new();
    for c in tu.cursor().children() {
        if c.kind() == CXCursor_VarDecl && c.location().file.as_deref() == Some(file) {
            vars.insert(c.spelling(), c);
        }
    }
    let value = |s: &str, v: &str, p: &str| -> Option<ConstValue> {
        if let Some(Evaluated::Str(bytes)) = vars.get(s).and_then(Cursor::evaluate) {
            return Some(ConstValue::Str { bytes });
        }
        let var = vars.get(v)?;
        let ty = var.ty().canonical();
        let bytes = ty.size().and_then(|b| u8::try_from(b).ok())?;
        match (ty.kind(), var.evaluate()) {
            (CXType_Pointer, _) => match vars.get(p).and_then(Cursor::evaluate) {
                Some(Evaluated::Int { bits, .. }) => Some(ConstValue::Pointer { address: bits }),
                _ => None,
            },
            (CXType_Float | CXType_Double, Some(Evaluated::Float(value))) => {
                Some(ConstValue::Float { value, bytes })
            }
            (_, Some(Evaluated::Int { bits, unsigned })) if bytes <= 8 => {
                Some(ConstValue::Int { bits, bytes, signed: !unsigned })
            }
            _ => None,
        }
    };

    let mut constants: Vec<Constant> = candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let value =
                value(&format!("__dllgen_s{i}"), &format!("__dllgen_v{i}"), &format!("__dllgen_p{i}"))?;
            Some(Constant { name: c.name.clone(), value, location: c.location.clone() })
        })
        .collect();
    constants.sort_by(|a, b| a.name.cmp(&b.name));

    let errors: Vec<(u32, String)> = tu
        .diagnostics()
        .into_iter()
        .filter(|d| d.severity >= CXDiagnostic_Error && d.location.file.as_deref() == Some(file))
        .map(|d| (d.location.line, d.message))
        .collect();
    let expressions = expressions
        .iter()
        .enumerate()
        .map(|(j, e)| {
            let got =
                value(&format!("__dllgen_es{j}"), &format!("__dllgen_ev{j}"), &format!("__dllgen_ep{j}"));
            let got = got.ok_or_else(|| {
                errors
                    .iter()
                    .find(|(l, _)| *l == expression_lines[j])
                    .map(|(_, m)| m.clone())
                    .unwrap_or_else(|| "not an integer, floating-point, string or pointer constant".into())
            });
            (e.clone(), got)
        })
        .collect();
    Ok(Probed { constants, expressions })
}

/// The enum constants declared at the top level of the headers (named enums, anonymous
/// ones, and those of `typedef enum {...} name;`), typed as their enum.
pub(super) fn enum_constants(
    cursors: &[Cursor],
    skip: impl Fn(&Cursor) -> bool,
    wanted: impl Fn(&str, bool) -> bool,
) -> Vec<Constant> {
    let mut out = Vec::new();
    for c in cursors {
        if c.kind() != CXCursor_EnumDecl || skip(c) {
            continue;
        }
        let system = c.in_system_header();
        let ty = c.enum_type().canonical();
        let Some(bytes) = ty.size().and_then(|b| u8::try_from(b).ok()) else { continue };
        let signed = !matches!(
            ty.kind(),
            CXType_UInt | CXType_ULong | CXType_ULongLong | CXType_UShort | CXType_UChar | CXType_Char_U
        );
        for k in c.children() {
            if k.kind() == CXCursor_EnumConstantDecl && wanted(&k.spelling(), system) {
                out.push(Constant {
                    name: k.spelling(),
                    value: ConstValue::Int { bits: k.enum_value() as u64, bytes, signed },
                    location: pos(k.location()),
                });
            }
        }
    }
    out
}
