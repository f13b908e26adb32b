//! SAL annotations (`_In_`, `_Out_writes_(n)`, ...). They expand to nothing, so they are
//! read from the raw tokens around each declaration, then interpreted word by word:
//!
//! | annotation                         | meaning                                        |
//! |------------------------------------|------------------------------------------------|
//! | `_In_`, `_Out_`, `_Inout_`         | pointer to one value, read / written / both     |
//! | `_In_z_`, `_Inout_z_`              | NUL-terminated string                          |
//! | `_In_reads_(n)`                    | input buffer of n elements                      |
//! | `_In_reads_bytes_(n)`              | input buffer of n bytes                         |
//! | `_Out_writes_(n)`, `_bytes_`       | output buffer with capacity n                   |
//! | `_Out_writes_to_(cap, len)`        | capacity cap, of which len are written          |
//! | `_Out_writes_z_(n)`                | output string, capacity n, NUL-terminated       |
//! | `_Inout_updates_(n)`, `_bytes_`    | buffer read and written                         |
//! | `_Outptr_`                         | `T**` the callee fills (a handle, usually)      |
//! | `..._opt_`                         | the pointer may be NULL                         |
//! | `_Ret_z_`, `_Ret_maybenull_`       | on the return value                             |
//!
//! Prefixes dllgen does not interpret (`_Success_`, `_Check_return_`, ...) are kept as
//! written so tools can show them.

use serde::Serialize;

/// One annotation as written: `_Out_writes_to_(cap, *len)` is name `_Out_writes_to_`,
/// args `["cap", "*len"]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sal {
    /// The annotation's name.
    pub name: String,
    /// Its arguments as source text.
    pub args: Vec<String>,
}

const PREFIXES: &[&str] = &[
    "_In_",
    "_Out_",
    "_Inout_",
    "_Outptr_",
    "_Ret_",
    "_Deref_",
    "_Pre_",
    "_Post_",
    "_Success_",
    "_Check_return_",
    "_Must_inspect_result_",
    "_Printf_format_string_",
    "_Reserved_",
    "_Frees_ptr_",
    "_Null_terminated_",
    "_NullNull_terminated_",
    "_Field_",
    "_Result_",
    "_When_",
    "_Use_decl_annotations_",
    "_Always_",
    "_Struct_size_bytes_",
    "_COM_Outptr_",
];

/// Whether `token` names a SAL annotation.
pub fn is_annotation(token: &str) -> bool {
    token.len() > 3
        && token.ends_with('_')
        && PREFIXES.iter().any(|p| token.starts_with(p) || token == p.trim_end_matches('_'))
}

/// Collects the annotations in `tokens` (with their parenthesized arguments).
pub fn scan(tokens: &[&str]) -> Vec<Sal> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !is_annotation(tokens[i]) {
            i += 1;
            continue;
        }
        let name = tokens[i].to_string();
        i += 1;
        let mut args = Vec::new();
        if tokens.get(i) == Some(&"(") {
            let (parsed, next) = arguments(tokens, i);
            args = parsed;
            i = next;
        }
        out.push(Sal { name, args });
    }
    out
}

/// Splits the parenthesized list starting at `tokens[open]` on top-level commas; returns
/// the arguments and the index after the closing parenthesis.
fn arguments(tokens: &[&str], open: usize) -> (Vec<String>, usize) {
    let mut args = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut depth = 0;
    let mut i = open;
    while i < tokens.len() {
        let t = tokens[i];
        i += 1;
        match t {
            "(" => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            ")" => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            "," if depth == 1 => {
                args.push(join(&current));
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(t);
    }
    if !current.is_empty() {
        args.push(join(&current));
    }
    (args, i)
}

/// Joins tokens as C source: `n * sizeof(int)`, `*len`, `f(a, b)`.
pub fn join(tokens: &[&str]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        if i > 0 && !glued(tokens, i) {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// Whether no space goes before `tokens[i]`.
fn glued(tokens: &[&str], i: usize) -> bool {
    let (t, prev) = (tokens[i], tokens[i - 1]);
    let word = |s: &str| s.chars().all(|c| c.is_alphanumeric() || c == '_');
    let operand = |s: &str| word(s) || s == ")" || s == "]";
    let unary = matches!(prev, "*" | "&" | "-" | "!" | "~") && (i < 2 || !operand(tokens[i - 2]));
    matches!(t, ")" | "," | "]")
        || matches!(prev, "(" | "[")
        || (matches!(t, "(" | "[") && word(prev))
        || unary
}

/// What a parameter's or return value's annotations say, when they say something dllgen
/// can use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Meaning {
    /// Data flow through the pointer.
    pub direction: Direction,
    /// NULL is allowed (`_opt_`, `_maybenull_`).
    pub optional: bool,
    /// A NUL-terminated string (`_z_`).
    pub nul_terminated: bool,
    /// The buffer's size expression (`reads`/`writes`/`updates` argument).
    pub count: Option<String>,
    /// Whether `count` is in bytes rather than elements.
    pub bytes: bool,
    /// How much the callee writes (`_to_` second argument).
    pub written: Option<String>,
}

/// The direction a SAL annotation gives a pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// `_In_...`.
    In,
    /// `_Out_...`.
    Out,
    /// `_Inout_...`.
    Inout,
    /// `_Outptr_...`: the callee stores a pointer.
    Outptr,
    /// `_Ret_...`: on a return value.
    Ret,
    /// `_Reserved_`: must be NULL (or 0).
    Reserved,
}

/// The words dllgen understands after the direction (`_Out_writes_bytes_to_opt_`).
const KNOWN_WORDS: &[&str] = &[
    "reads",
    "writes",
    "updates",
    "bytes",
    "opt",
    "z",
    "to",
    "all",
    "result",
    "maybenull",
    "notnull",
    "buffer",
    "bytebuffer",
];

/// Interprets the first annotation that has a direction. `Ok(None)`: no annotation says
/// anything about data flow (`_Success_`, `_Check_return_`). `Err`: an annotation dllgen
/// does not understand (`_In_count_`, `_In_NLS_string_`, `_Out_writes_to_(cap, return + 1)`),
/// which must not be guessed at.
pub fn interpret(sals: &[Sal]) -> Result<Option<Meaning>, String> {
    for sal in sals {
        if sal.name == "_Reserved_" {
            let none = Meaning {
                direction: Direction::Reserved,
                optional: true,
                nul_terminated: false,
                count: None,
                bytes: false,
                written: None,
            };
            return Ok(Some(none));
        }
        let words: Vec<&str> = sal.name.trim_matches('_').split('_').collect();
        let direction = match words.first().copied() {
            Some("In") => Direction::In,
            Some("Out") => Direction::Out,
            Some("Inout") => Direction::Inout,
            Some("Outptr") => Direction::Outptr,
            Some("COM") if words.get(1) == Some(&"Outptr") => Direction::Outptr,
            Some("Ret") => Direction::Ret,
            _ => continue,
        };
        let skip = if words[0] == "COM" { 2 } else { 1 };
        if let Some(w) = words[skip..].iter().find(|w| !KNOWN_WORDS.contains(w)) {
            return Err(format!("`{}` is a SAL annotation dllgen does not interpret (`{w}`)", sal.name));
        }
        let has = |w: &str| words.contains(&w);
        let sized = has("reads") || has("writes") || has("updates") || has("buffer") || has("bytebuffer");
        let written = if has("to") {
            let w = sal.args.get(1).map(|w| w.trim().to_string());
            match w.as_deref() {
                Some("return") => w,
                Some(x)
                    if x.starts_with('*')
                        && x[1..].trim().chars().all(|c| c.is_alphanumeric() || c == '_') =>
                {
                    w
                }
                other => {
                    return Err(format!(
                        "`{}`: dllgen reads the written count from `return` or `*param`, not `{}`",
                        sal.name,
                        other.unwrap_or("")
                    ))
                }
            }
        } else if has("all") {
            sal.args.first().cloned()
        } else {
            None
        };
        return Ok(Some(Meaning {
            direction,
            optional: has("opt") || has("maybenull"),
            nul_terminated: has("z"),
            count: if sized { sal.args.first().cloned() } else { None },
            bytes: has("bytes") || has("bytebuffer"),
            written,
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(tokens: &[&str]) -> Sal {
        let mut all = scan(tokens);
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    #[test]
    fn scans_annotations_and_arguments() {
        assert_eq!(one(&["_In_", "const", "char", "*", "s"]), Sal { name: "_In_".into(), args: vec![] });
        let s = one(&["_Out_writes_to_", "(", "cap", ",", "*", "len", ")", "char", "*", "buf"]);
        assert_eq!(s.args, ["cap", "*len"]);
        let s = one(&["_In_reads_bytes_", "(", "n", "*", "sizeof", "(", "int", ")", ")", "void", "*", "p"]);
        assert_eq!(s.args, ["n * sizeof(int)"]);
        assert!(scan(&["const", "char", "*", "_private_"]).is_empty());
    }

    #[test]
    fn interprets_the_families() {
        let m = |name: &str, args: &[&str]| {
            interpret(&[Sal { name: name.into(), args: args.iter().map(|a| a.to_string()).collect() }])
                .unwrap()
                .unwrap()
        };
        let x = m("_In_reads_bytes_opt_", &["cb"]);
        assert_eq!(
            (x.direction, x.optional, x.bytes, x.count.as_deref()),
            (Direction::In, true, true, Some("cb"))
        );
        let x = m("_Out_writes_to_", &["cap", "*len"]);
        assert_eq!(
            (x.direction, x.count.as_deref(), x.written.as_deref()),
            (Direction::Out, Some("cap"), Some("*len"))
        );
        let x = m("_In_z_", &[]);
        assert!(x.nul_terminated && x.count.is_none());
        let x = m("_Outptr_result_maybenull_", &[]);
        assert_eq!((x.direction, x.optional), (Direction::Outptr, true));
        assert_eq!(m("_Inout_updates_", &["n"]).direction, Direction::Inout);
        assert_eq!(m("_Ret_z_", &[]).direction, Direction::Ret);
        assert_eq!(
            interpret(&[Sal { name: "_Success_".into(), args: vec!["return == 0".into()] }]),
            Ok(None)
        );
        let unknown = |name: &str, args: &[&str]| {
            interpret(&[Sal { name: name.into(), args: args.iter().map(|a| a.to_string()).collect() }])
                .is_err()
        };
        assert!(unknown("_In_count_", &["n"]));
        assert!(unknown("_In_NLS_string_", &["n"]));
        assert!(unknown("_Out_writes_to_", &["cap", "return + 1"]));
        assert!(!unknown("_Out_writes_bytes_to_opt_", &["cap", "*len"]));
    }
}
