//! `dllgen init`: drafts a spec from a header and a library. Every export is matched to
//! its prototype; what cannot be generated is excluded with the reason; pointer
//! parameters are pre-classified from their types and names (SAL annotations already count
//! as spec lines, so they get none). Every guess carries `# review`, and what stays
//! ambiguous is left as a comment for `dllgen check` to report.

use crate::binary::decorate::Scheme;
use crate::binary::Binary;
use crate::header::{sal, CType, Function, Header, TypeDefKind};
use crate::model::build::Exports;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What the draft is made from.
pub struct Draft<'a> {
    /// The crate name stem.
    pub name: &'a str,
    /// Header paths as they should appear in the spec.
    pub headers: &'a [String],
    /// The library path as it should appear in the spec.
    pub library: &'a str,
    /// `-I` folders as they should appear in the spec.
    pub include_dirs: &'a [String],
    /// `-D` definitions.
    pub defines: &'a [(String, Option<String>)],
    /// The parsed header.
    pub header: &'a Header,
    /// The parsed library.
    pub binary: &'a Binary,
}

/// YAML scalar quoting for names that are not plain words (`?f@@YAHH@Z`, `f@8`, paths);
/// control characters are escaped, as YAML allows none raw.
fn quote(s: &str) -> String {
    let plain = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c));
    if plain {
        return s.to_string();
    }
    // YAML's double-quoted strings take the escapes of TOML's basic strings.
    format!("\"{}\"", crate::emit::toml_str(s))
}

/// `kx_device` → `KxDevice`, `struct sqlite3` → `Sqlite3`, `HANDLE` → `Handle`.
fn rust_type_name(c: &str) -> String {
    let base = c.trim_start_matches("struct ").trim_start_matches("union ");
    let lower_all = base.chars().all(|c| !c.is_ascii_lowercase());
    base.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = if lower_all { w.to_ascii_lowercase() } else { w.to_string() };
            let mut cs = w.chars();
            cs.next().map(|f| f.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect()
}

/// Whether a sentence of `doc` says that the parameter `name` may be NULL ("If pStmt is
/// NULL", "pDb may be a NULL pointer", "a NULL zVfsName").
fn mentions_null(doc: &str, name: &str) -> bool {
    if name.len() < 2 || name.starts_with("arg") {
        return false;
    }
    doc.split(['.', ';', '\n']).any(|sentence| {
        let words: Vec<&str> =
            sentence.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
        // A sentence with a negation ("must not be NULL", "does not check if file is
        // NULL") says nothing either way.
        let negated = words.iter().any(|n| matches!(*n, "not" | "never" | "cannot" | "non" | "t" | "nor"));
        !negated
            && words.iter().enumerate().any(|(i, w)| {
                // "pStmt is NULL", "pDb may be a NULL pointer", "a NULL zVfs".
                (*w == name && words[i + 1..].iter().take(4).any(|n| *n == "NULL"))
                    || (*w == "NULL" && words.get(i + 1) == Some(&name))
            })
    })
}

/// Names that usually hold a buffer's length.
fn is_length_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "n" | "len"
            | "length"
            | "size"
            | "count"
            | "cb"
            | "cch"
            | "num"
            | "cap"
            | "capacity"
            | "nbytes"
            | "max"
    ) || ["len", "length", "size", "count", "cap", "capacity", "bytes"].iter().any(|s| n.ends_with(s))
        || (n.starts_with("cb") || n.starts_with("cch") || n.starts_with("num") || n.starts_with("n_"))
}

/// The words of an identifier: `cbBytesRead` → cb, bytes, read; `out_len` → out, len.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c == '_' || c.is_ascii_digit() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Names of out-parameters that usually receive how much was written.
fn is_written_name(name: &str) -> bool {
    let w = words(name);
    let has = |x: &str| w.iter().any(|y| y == x);
    ["got", "read", "written", "returned", "needed", "actual", "pcb", "pcch", "outlen"].iter().any(|x| has(x))
        || is_length_name(name)
}

/// Whether a length name counts bytes (`cbData`, `nbytes`, `size_in_bytes`).
fn counts_bytes(name: &str) -> bool {
    let w = words(name);
    w.first().is_some_and(|f| f == "cb") || w.iter().any(|x| x == "bytes" || x == "nbytes")
}

struct Drafter<'a> {
    d: &'a Draft<'a>,
    handles: BTreeSet<String>,
    callbacks: BTreeMap<String, Option<String>>,
    /// Structs reached by the kept functions, with spec lines for their pointer fields.
    structs: BTreeMap<String, Vec<String>>,
    /// Pointer typedefs to structs the header defines that a function returns (`gzFile`
    /// from gzopen): proposed as handles (a guess, marked for review).
    returned: BTreeSet<String>,
}

impl Drafter<'_> {
    fn h(&self) -> &Header {
        self.d.header
    }

    /// The typedef chain's end for `ty`.
    fn resolve<'t>(&'t self, ty: &'t CType) -> &'t CType {
        self.h().resolve(ty)
    }

    fn is_integer(&self, ty: &CType) -> bool {
        match self.resolve(ty) {
            CType::Int { .. } | CType::Char { .. } => true,
            CType::Named { name } => {
                matches!(self.h().types.get(name).map(|t| &t.kind), Some(TypeDefKind::Enum { .. }))
            }
            _ => false,
        }
    }

    fn is_value(&self, ty: &CType) -> bool {
        match self.resolve(ty) {
            CType::Int { .. } | CType::Char { .. } | CType::Bool | CType::Float { .. } => true,
            CType::Named { name } => matches!(
                self.h().types.get(name).map(|t| &t.kind),
                Some(TypeDefKind::Enum { .. } | TypeDefKind::Struct { .. } | TypeDefKind::Union { .. })
            ),
            _ => false,
        }
    }

    /// The opaque type a pointer-ish `ty` designates, as a handle's `c_type`.
    fn handle_type(&self, ty: &CType) -> Option<String> {
        if let CType::Named { name } = ty {
            if self.returned.contains(name) {
                return Some(name.clone());
            }
        }
        // A typedef of a pointer to something opaque or void, named like a handle (HANDLE, HWND).
        if let CType::Named { name } = ty {
            if let Some(TypeDefKind::Typedef { target }) = self.h().types.get(name).map(|t| &t.kind) {
                if let CType::Pointer { pointee, .. } = self.resolve(target) {
                    let opaque =
                        self.opaque(pointee).is_some() || matches!(self.resolve(pointee), CType::Void);
                    let handle_like = name.starts_with('H')
                        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                    if opaque && (handle_like || self.opaque(pointee).is_some()) {
                        return Some(name.clone());
                    }
                }
            }
        }
        match self.resolve(ty) {
            CType::Pointer { pointee, .. } => self.opaque(pointee),
            _ => None,
        }
    }

    /// The name of an opaque (declared, never defined) type `ty` is or names.
    fn opaque(&self, ty: &CType) -> Option<String> {
        let CType::Named { name } = ty else { return None };
        let mut key = name.as_str();
        for _ in 0..16 {
            match &self.h().types.get(key)?.kind {
                TypeDefKind::Opaque => return Some(name.clone()),
                TypeDefKind::Typedef { target: CType::Named { name: next } } => key = next,
                _ => return None,
            }
        }
        None
    }

    fn callback_type(&self, ty: &CType) -> Option<String> {
        let CType::Named { name } = ty else { return None };
        let TypeDefKind::Typedef { target } = &self.h().types.get(name)?.kind else { return None };
        matches!(self.resolve(target), CType::Pointer { pointee, .. } if matches!(**pointee, CType::Function(_))).then(|| name.clone())
    }

    fn string_encoding(&self, pointee: &CType) -> Option<&'static str> {
        let width = match self.resolve(pointee) {
            CType::Char { .. } => 1,
            CType::Int { bytes: 2, .. } if self.is_wide_char(pointee) => 2,
            _ => return None,
        };
        Some(match (width, self.h().target.is_windows()) {
            (2, _) => "utf16",
            (_, true) => "ansi",
            (_, false) => "utf8",
        })
    }

    /// Spec lines (`name: kind  # comment`) for the parameters of `f` that need one.
    fn params(&mut self, f: &Function) -> Vec<String> {
        let mut lines = Vec::new();
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for (i, p) in f.params.iter().enumerate() {
            if taken.contains(&p.name)
                || matches!(sal::interpret(&p.sal), Ok(Some(_)))
                || self.is_value(&p.ty)
            {
                continue;
            }
            if let Some(h) = self.handle_type(&p.ty) {
                // The documentation says the handle may be NULL ("If pStmt is NULL").
                if f.doc.as_deref().is_some_and(|d| mentions_null(d, &p.name)) {
                    lines.push(format!(
                        "{}: {{ handle: {}, optional: true }}  # review: NULL allowed, as the documentation says?",
                        p.name,
                        rust_type_name(&h)
                    ));
                }
                self.handles.insert(h);
                continue;
            }
            if let Some(cb) = self.callback_type(&p.ty) {
                let user_data = self.callback_user_data(&cb);
                self.callbacks.insert(cb.clone(), user_data);
                lines.push(format!("{}: callback", p.name));
                // The function's own `void *` next to it is the context handed back.
                if let Some(u) = f.params.iter().skip(i + 1).find(|q| self.is_void_pointer(&q.ty)) {
                    lines.push(format!(
                        "{}: user_data  # review: the context passed back to {}",
                        u.name, p.name
                    ));
                    taken.insert(u.name.clone());
                }
                continue;
            }
            let CType::Pointer { pointee, const_pointee } = self.resolve(&p.ty).clone() else {
                lines.push(format!(
                    "# {}: ???  ambiguous: {}; `dllgen check` reports it",
                    p.name, "not a pointer dllgen can pass"
                ));
                continue;
            };
            if let Some(h) = self.handle_type(&pointee) {
                self.handles.insert(h);
                continue; // T**: the model makes it an out_handle
            }
            // A length next to it: the parameter right after, else any length-named one.
            // A length: the parameter right after it, or one named after it (`data_len`).
            let related = |q: &&crate::header::Param| {
                let (qn, pn) = (q.name.to_ascii_lowercase(), p.name.to_ascii_lowercase());
                q.name != p.name && qn.contains(&pn)
            };
            let length = f
                .params
                .get(i + 1)
                .filter(|q| self.is_integer(&q.ty) && is_length_name(&q.name))
                .or_else(|| {
                    f.params.iter().find(|q| related(q) && self.is_integer(&q.ty) && is_length_name(&q.name))
                })
                .map(|q| q.name.clone());
            // Else a count read and written: an integer pointer right after it, or one named
            // after it (`dest` + `destLen`): the buffer's length goes in, a count comes back.
            let int_pointer = |q: &crate::header::Param| matches!(self.resolve(&q.ty), CType::Pointer { pointee, const_pointee: false } if self.is_integer(pointee));
            let count = match &length {
                Some(_) => None,
                None => f
                    .params
                    .get(i + 1)
                    .filter(|q| int_pointer(q) && is_length_name(&q.name))
                    .or_else(|| {
                        f.params.iter().find(|q| related(q) && int_pointer(q) && is_length_name(&q.name))
                    })
                    .filter(|q| !taken.contains(&q.name))
                    .map(|q| q.name.clone()),
            };
            let void = matches!(self.resolve(&pointee), CType::Void);
            let bytes = if void || length.as_deref().or(count.as_deref()).is_some_and(counts_bytes) {
                ", units: bytes"
            } else {
                ""
            };
            if let Some(c) = &count {
                taken.insert(c.clone());
                lines.push(if const_pointee {
                    format!("{}: {{ in_buffer: {{ len: \"*{c}\"{bytes} }} }}  # review: `*{c}` in, the count consumed out", p.name)
                } else {
                    format!(
                        "{}: {{ out_buffer: {{ capacity: \"*{c}\"{bytes}, length: {c} }} }}  # review: `*{c}` is the capacity in, the filled length out",
                        p.name
                    )
                });
                continue;
            }
            if const_pointee {
                if let (Some(enc), None) = (self.string_encoding(&pointee), &length) {
                    lines.push(format!(
                        "{}: {{ in_string: {enc} }}  # review: a NUL-terminated string?",
                        p.name
                    ));
                } else if let Some(len) = &length {
                    lines.push(format!("{}: {{ in_buffer: {{ len: {len}{bytes} }} }}  # review", p.name));
                } else if self.is_struct(&pointee) {
                    lines.push(format!("{}: in  # review: one value, read only", p.name));
                } else {
                    lines.push(format!("# {}: ???  ambiguous: one value or a buffer without a length; `dllgen check` reports it", p.name));
                }
                continue;
            }
            if let Some(len) = &length {
                // A later integer pointer named like a count receives how much was written.
                let written = f.params.iter().skip(i + 1).find(|q| {
                    q.name != *len
                        && matches!(self.resolve(&q.ty), CType::Pointer { pointee, const_pointee: false } if self.is_integer(pointee))
                        && is_written_name(&q.name)
                });
                let filled = match (written, self.string_encoding(&pointee)) {
                    (Some(w), _) => {
                        taken.insert(w.name.clone());
                        format!(", length: {}", w.name)
                    }
                    (None, Some(_)) => ", length: nul".to_string(),
                    (None, None) => String::new(),
                };
                lines.push(format!(
                    "{}: {{ out_buffer: {{ capacity: {len}{bytes}{filled} }} }}  # review: or inout_buffer",
                    p.name
                ));
                if let Some(w) = written {
                    lines.push(format!(
                        "{}: out  # review: receives how much of {} was filled",
                        w.name, p.name
                    ));
                }
                continue;
            }
            if self.is_value(&pointee) {
                lines.push(format!("{}: out  # review: or inout", p.name));
                continue;
            }
            lines.push(format!(
                "# {}: ???  ambiguous: a pointer without a length; `dllgen check` reports it",
                p.name
            ));
        }
        lines
    }

    /// Records the structs `ty` reaches (by value, through pointers, nested), drafting
    /// lines for their pointer fields.
    fn visit_structs(&mut self, ty: &CType) {
        let mut t = self.resolve(ty).clone();
        while let CType::Pointer { pointee, .. } | CType::Array { element: pointee, .. } = t {
            t = self.resolve(&pointee).clone();
        }
        let CType::Named { name } = t else { return };
        if self.structs.contains_key(&name) {
            return;
        }
        let Some(TypeDefKind::Struct { fields }) = self.h().types.get(&name).map(|d| d.kind.clone()) else {
            return;
        };
        self.structs.insert(name.clone(), Vec::new());
        let mut lines = Vec::new();
        // Count fields already guessed for a buffer field: one each.
        let mut counted: Vec<&str> = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            match self.resolve(&f.ty).clone() {
                CType::Pointer { pointee, .. } => {
                    if let Some(h) = self.handle_type(&f.ty) {
                        lines.push(format!("{}: {{ handle: {} }}  # review", f.name, rust_type_name(&h)));
                        self.handles.insert(h);
                    } else if let Some(enc) = self.string_encoding(&pointee) {
                        lines.push(format!(
                            "{}: {{ in_string: {enc} }}  # review: a NUL-terminated string?",
                            f.name
                        ));
                    } else if let Some(count) = {
                        // An integer named like a count, not taken yet: one named after the
                        // pointer (`extra`, `extra_len`), else the field right after it,
                        // else the one right before it.
                        let fits = |c: &&crate::header::Field| {
                            is_length_name(&c.name)
                                && matches!(self.resolve(&c.ty), CType::Int { .. })
                                && !counted.contains(&c.name.as_str())
                        };
                        let stem = f.name.trim_end_matches('s');
                        fields
                            .iter()
                            .filter(fits)
                            .find(|c| c.name != f.name && c.name.starts_with(stem))
                            .or_else(|| fields.get(i + 1).filter(fits))
                            .or_else(|| i.checked_sub(1).and_then(|j| fields.get(j)).filter(fits))
                    } {
                        counted.push(&count.name);
                        lines.push(format!(
                            "{}: {{ in_buffer: {} }}  # review: `{}` elements?",
                            f.name, count.name, count.name
                        ));
                    } else if matches!(self.resolve(&pointee), CType::Named { name } if matches!(self.h().types.get(name).map(|d| &d.kind), Some(TypeDefKind::Struct { .. })))
                    {
                        lines.push(format!(
                            "{}: {{ in: {{}}, optional: true }}  # review: one struct, or NULL?",
                            f.name
                        ));
                        self.visit_structs(&pointee);
                    } else {
                        lines.push(format!("# {}: ???  a pointer field; `dllgen check` reports it", f.name));
                    }
                }
                _ => self.visit_structs(&f.ty),
            }
        }
        self.structs.insert(name, lines);
    }

    /// Whether a 16-bit type is spelled as a character type (`wchar_t`, `WCHAR`,
    /// `char16_t`...) somewhere along its typedef chain, unlike `uint16_t`.
    fn is_wide_char(&self, ty: &CType) -> bool {
        let mut t = ty;
        for _ in 0..16 {
            let CType::Named { name } = t else { return false };
            let lower = name.to_ascii_lowercase();
            if lower.contains("wchar") || lower.contains("char16") || lower == "olechar" || lower == "tchar" {
                return true;
            }
            match self.h().types.get(name).map(|d| &d.kind) {
                Some(TypeDefKind::Typedef { target }) => t = target,
                _ => return false,
            }
        }
        false
    }

    fn is_struct(&self, ty: &CType) -> bool {
        matches!(self.resolve(ty), CType::Named { name } if matches!(self.h().types.get(name).map(|t| &t.kind), Some(TypeDefKind::Struct { .. })))
    }

    fn is_void_pointer(&self, ty: &CType) -> bool {
        matches!(self.resolve(ty), CType::Pointer { pointee, .. } if matches!(self.resolve(pointee), CType::Void))
    }

    /// The callback's own `void *` parameter: its context.
    fn callback_user_data(&self, typedef: &str) -> Option<String> {
        let TypeDefKind::Typedef { target } = &self.h().types.get(typedef)?.kind else { return None };
        let CType::Pointer { pointee, .. } = self.resolve(target) else { return None };
        let CType::Function(sig) = pointee.as_ref() else { return None };
        let i = sig.params.iter().position(|t| self.is_void_pointer(t))?;
        // Unnamed parameters are `argN` in the model.
        Some(sig.param_names.get(i).filter(|n| !n.is_empty()).cloned().unwrap_or_else(|| format!("arg{i}")))
    }

    /// The function that closes handles of `c_type`, guessed by its name and parameter.
    fn closer(&self, c_type: &str) -> Option<String> {
        self.h()
            .functions
            .iter()
            .find(|g| {
                let n = g.name.to_ascii_lowercase();
                g.params.len() == 1
                    && self.handle_type(&g.params[0].ty).as_deref() == Some(c_type)
                    && ["close", "free", "destroy", "release", "delete"].iter().any(|w| n.contains(w))
            })
            .map(|g| g.name.clone())
    }

    /// A `returns:` line, when the return value needs one.
    fn returns(&mut self, f: &Function) -> Option<String> {
        if matches!(sal::interpret(&f.ret_sal), Ok(Some(_))) {
            return None;
        }
        let CType::Pointer { pointee, const_pointee } = self.resolve(&f.ret).clone() else { return None };
        if let Some(h) = self.handle_type(&f.ret) {
            // A handle that something closes: is this one the caller's, or the library's?
            let line = self.closer(&h).map(|close| {
                format!(
                    "returns: {{ handle: {} }}  # review: the caller's to close with {close}, or the library's (`borrowed: true`)?",
                    rust_type_name(&h)
                )
            });
            self.handles.insert(h);
            return line;
        }
        let enc = self.string_encoding(&pointee)?;
        if const_pointee {
            return Some(format!(
                "returns: {{ string: {enc} }}  # review: static, or add `free_with` if the caller frees it"
            ));
        }
        // A caller-owned string: guess the library's free function.
        let free = self.h().functions.iter().find(|g| {
            let n = g.name.to_ascii_lowercase();
            g.params.len() == 1
                && n.contains("free")
                && matches!(self.resolve(&g.params[0].ty), CType::Pointer { .. })
        });
        Some(match free {
            Some(g) => {
                format!("returns: {{ string: {enc}, free_with: {} }}  # review: who frees it?", g.name)
            }
            None => format!(
                "returns: {{ string: {enc} }}  # review: the caller may have to free it (`free_with`)"
            ),
        })
    }
}

/// Renders the draft spec.
pub fn draft(d: &Draft<'_>) -> String {
    let exports = Exports::of(d.binary);
    let declared: BTreeSet<&str> = d.header.functions.iter().map(|f| f.name.as_str()).collect();
    let mut excluded: Vec<(String, &str)> = Vec::new();
    let mut kept: Vec<&Function> = Vec::new();
    for f in &d.header.functions {
        if !exports.code.contains_key(&f.name) {
            excluded.push((f.name.clone(), "declared in the header but not exported by the library"));
        } else if !f.prototyped {
            excluded.push((f.name.clone(), "declared without a prototype"));
        } else if f.variadic {
            excluded.push((f.name.clone(), "variadic: the host cannot forward `...`"));
        } else if f.params.iter().any(|p| d.header.is_va_list(&p.ty)) {
            excluded.push((f.name.clone(), "takes a `va_list`, which points into the caller's stack"));
        } else {
            kept.push(f);
        }
    }
    for (c_name, (exported, decoration)) in &exports.code {
        if declared.contains(c_name.as_str()) {
            continue;
        }
        let why = if decoration.is_some_and(|(s, _): (Scheme, _)| s.is_cpp()) {
            "a C++ export: no C ABI to call"
        } else {
            "exported but declared in no header"
        };
        excluded.push((exported.clone(), why));
    }

    // A pointer typedef to a defined struct that functions return and take is most often
    // an object the library hands out (zlib's gzFile).
    let returned: BTreeSet<String> = kept
        .iter()
        .filter_map(|f| match &f.ret {
            CType::Named { name } => match d.header.types.get(name).map(|t| &t.kind) {
                Some(TypeDefKind::Typedef { target: CType::Pointer { pointee, .. } })
                    if matches!(d.header.resolve(pointee), CType::Named { name: s }
                        if matches!(d.header.types.get(s).map(|t| &t.kind), Some(TypeDefKind::Struct { .. }))) =>
                {
                    Some(name.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .filter(|name| kept.iter().any(|g| g.params.iter().any(|p| matches!(&p.ty, CType::Named { name: n } if n == name))))
        .collect();
    let mut dr = Drafter {
        d,
        handles: BTreeSet::new(),
        callbacks: BTreeMap::new(),
        structs: BTreeMap::new(),
        returned,
    };
    for f in &kept {
        for p in &f.params {
            dr.visit_structs(&p.ty);
        }
        dr.visit_structs(&f.ret);
    }
    let rets: Vec<Option<String>> = kept.iter().map(|f| dr.returns(f)).collect();
    // Functions named as `free_with` are called by the host only.
    let frees: BTreeSet<String> = rets
        .iter()
        .flatten()
        .filter_map(|r| r.split("free_with: ").nth(1))
        .map(|r| r.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or_default().to_string())
        .collect();
    let mut functions: Vec<(String, Vec<String>, Option<String>)> = Vec::new();
    for (f, ret) in kept.iter().zip(rets) {
        if frees.contains(&f.name) {
            excluded.push((f.name.clone(), "frees what the library returns: the host calls it"));
            continue;
        }
        let params = dr.params(f);
        if !params.is_empty() || ret.is_some() {
            functions.push((f.name.clone(), params, ret));
        }
    }
    excluded.sort();

    let mut out = String::new();
    // Paths in a comment: a newline in one must not end it.
    let sources = crate::diag::printable(&format!("{} and {}", d.headers.join(", "), d.library)).into_owned();
    let _ = writeln!(out, "# Drafted by `dllgen init` from {sources}.");
    let _ = writeln!(
        out,
        "# Every guess is marked `# review`; `dllgen check` reports what is still ambiguous, and"
    );
    let _ = writeln!(out, "# `dllgen generate` refuses a marked line until the marker is removed.");
    let _ = writeln!(out, "# The schema: specs/SCHEMA.md in dllgen's repository.");
    let _ = writeln!(out, "name: {}", quote(d.name));
    if d.headers.len() == 1 {
        let _ = writeln!(out, "header: {}", quote(&d.headers[0]));
    } else {
        let _ =
            writeln!(out, "headers: [{}]", d.headers.iter().map(|h| quote(h)).collect::<Vec<_>>().join(", "));
    }
    let _ = writeln!(out, "library: {}", quote(d.library));
    if !d.include_dirs.is_empty() {
        let _ = writeln!(
            out,
            "include_dirs: [{}]",
            d.include_dirs.iter().map(|h| quote(h)).collect::<Vec<_>>().join(", ")
        );
    }
    if !d.defines.is_empty() {
        let _ = writeln!(out, "defines:");
        for (k, v) in d.defines {
            let _ = writeln!(out, "  {}: {}", quote(k), v.as_deref().map_or("null".to_string(), quote));
        }
    }
    if !excluded.is_empty() {
        let _ = writeln!(out, "exports:\n  exclude:");
        for (name, why) in &excluded {
            let _ = writeln!(out, "    - {}  # {why}", quote(name));
        }
    }
    if !dr.handles.is_empty() {
        let _ = writeln!(out, "handles:");
        let mut used: BTreeSet<String> = BTreeSet::new();
        for c_type in &dr.handles {
            // `KX_DEV`, `kx_dev` and `struct kx_dev` would all be `KxDev`.
            let base = rust_type_name(c_type);
            let mut rust = base.clone();
            let mut n = 2;
            while !used.insert(rust.clone()) {
                rust = format!("{base}{n}");
                n += 1;
            }
            let close = dr.closer(c_type).map(|g| format!(", close: {g}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}: {{ c_type: {}{close} }}  # review",
                rust_type_name(c_type),
                quote(c_type)
            );
        }
    }
    let structs: Vec<_> = dr.structs.iter().filter(|(_, lines)| !lines.is_empty()).collect();
    if !structs.is_empty() {
        let _ = writeln!(out, "structs:");
        for (name, lines) in structs {
            let _ = writeln!(out, "  {}:\n    fields:", quote(name));
            for line in lines {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    if !dr.callbacks.is_empty() {
        let _ = writeln!(out, "callbacks:");
        for (name, user_data) in &dr.callbacks {
            match user_data {
                Some(u) => {
                    let _ = writeln!(out, "  {name}: {{ user_data: {u} }}  # review");
                }
                None => {
                    let _ = writeln!(out, "  {name}: {{}}  # review: no context parameter found");
                }
            }
        }
    }
    if !functions.is_empty() {
        let _ = writeln!(out, "functions:");
        for (name, params, ret) in &functions {
            let _ = writeln!(out, "  {name}:");
            if !params.is_empty() {
                let _ = writeln!(out, "    params:");
                for line in params {
                    let _ = writeln!(out, "      {line}");
                }
            }
            if let Some(r) = ret {
                let _ = writeln!(out, "    {r}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_handles_from_the_documentation() {
        assert!(mentions_null("If pStmt is NULL then this returns the first statement.", "pStmt"));
        assert!(mentions_null("pDb may be a NULL pointer", "pDb"));
        assert!(mentions_null("Passing a NULL zVfs selects the default.", "zVfs"));
        assert!(
            !mentions_null("If pStmt is not finalized, pDb must not be NULL.", "pStmt"),
            "another parameter's NULL"
        );
        assert!(!mentions_null("Returns NULL on failure.", "db"));
        assert!(!mentions_null("pDb must not be NULL.", "pDb"));
        assert!(!mentions_null("it does not check to see if file is NULL, nor", "file"));
        assert!(!mentions_null("If arg0 is NULL", "arg0"), "unnamed parameters are not in the prose");
    }

    #[test]
    fn names() {
        assert_eq!(rust_type_name("kx_device"), "KxDevice");
        assert_eq!(rust_type_name("struct sqlite3"), "Sqlite3");
        assert_eq!(rust_type_name("HANDLE"), "Handle");
        assert_eq!(quote("f@8"), "\"f@8\"");
        assert_eq!(quote("kx_open"), "kx_open");
        assert_eq!(quote("a \"b\"\\c\n\u{1b}"), r#""a \"b\"\\c\u000A\u001B""#);
        assert!(is_length_name("cbData") && is_length_name("len") && is_length_name("buf_size"));
        assert!(!is_length_name("dev"));
        assert_eq!(words("cbBytesRead"), ["cb", "bytes", "read"]);
        assert!(!is_written_name("thread_id") && is_written_name("bytes_read") && is_written_name("pcbRead"));
        assert!(counts_bytes("cbData") && counts_bytes("nbytes") && !counts_bytes("count"));
    }
}
