//! YAML to [`Spec`]: walks saphyr's position-carrying nodes, collecting every problem
//! (unknown keys with a "did you mean", wrong types, missing keys) before giving up.

use super::*;
use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use std::path::Path;

type Node<'a> = MarkedYaml<'a>;

/// Reads and parses the spec at `path`.
pub fn parse(path: &Path) -> Result<Spec, Diagnostics> {
    let source = crate::input::read_text(path, crate::input::SPEC)
        .map_err(|e| Diagnostics(vec![Diagnostic::at(path, None, 0, 0, e.to_string())]))?;
    parse_str(path, &source)
}

/// Parses `source`, the text of the spec at `path`.
pub fn parse_str(path: &Path, source: &str) -> Result<Spec, Diagnostics> {
    let docs = Node::load_from_str(source).map_err(|e| {
        let m = e.marker();
        Diagnostics(vec![Diagnostic::at(
            path,
            Some(source),
            m.line(),
            m.col() + 1,
            format!("invalid YAML: {}", e.info()),
        )])
    })?;
    let mut r = Reader {
        path,
        source,
        base: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        diags: Vec::new(),
    };
    let Some(root) = docs.first() else {
        return Err(Diagnostics(vec![Diagnostic::at(path, None, 0, 0, "the spec is empty")
            .hint("start with `name:`, `header:` and `library:` (see specs/SCHEMA.md)")]));
    };
    if docs.len() > 1 {
        r.error(pos(&docs[1]), "a spec is one YAML document; remove the `---` separator");
    }
    let spec = r.spec(root);
    match spec {
        Some(spec) if r.diags.is_empty() => Ok(spec),
        _ => Err(Diagnostics(r.diags)),
    }
}

fn pos(node: &Node<'_>) -> Pos {
    Pos { line: node.span.start.line(), column: node.span.start.col() + 1 }
}

fn spanned<T>(value: T, node: &Node<'_>) -> Spanned<T> {
    Spanned { value, pos: pos(node) }
}

/// The text of a scalar node (strings, numbers and booleans alike); `None` for null and
/// collections.
fn text(node: &Node<'_>) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        YamlData::Representation(s, _, _) => Some(s.to_string()),
        YamlData::Tagged(_, inner) => text(inner),
        _ => None,
    }
}

fn is_null(node: &Node<'_>) -> bool {
    matches!(node.data, YamlData::Value(Scalar::Null))
}

struct Reader<'s> {
    path: &'s Path,
    source: &'s str,
    base: PathBuf,
    diags: Vec<Diagnostic>,
}

/// The longest `timeout` a spec may name, in seconds.
const MAX_TIMEOUT_S: f64 = 365.0 * 86400.0;

const TOP: &[&str] = &[
    "name",
    "header",
    "headers",
    "library",
    "include_dirs",
    "defines",
    "calling_convention",
    "thread_safe",
    "system_headers",
    "prelude",
    "language",
    "timeout",
    "exports",
    "constants",
    "error",
    "handles",
    "structs",
    "callbacks",
    "functions",
    "proxy",
];
const FUNCTION: &[&str] = &[
    "rename",
    "calling_convention",
    "ordinal",
    "variant_of",
    "declare",
    "params",
    "returns",
    "error",
    "proxy_error",
];
const KINDS: &[&str] = &[
    "scalar",
    "in_string",
    "in_buffer",
    "out_buffer",
    "inout_buffer",
    "in",
    "out",
    "inout",
    "handle",
    "out_handle",
    "callback",
    "user_data",
    "fixed",
    "out_string",
    "out_strings",
    "out_into",
    "union",
    "opaque",
    "scratch",
    "provide",
    "library_buffers",
    "descriptor",
];

impl Reader<'_> {
    fn error(&mut self, at: Pos, message: impl Into<String>) -> &mut Diagnostic {
        // Past the problems shown, no source line is looked up (see `diag::SHOWN`).
        let source = (self.diags.len() < crate::diag::SHOWN).then_some(self.source);
        self.diags.push(Diagnostic::at(self.path, source, at.line, at.column, message));
        self.diags.last_mut().expect("just pushed")
    }

    /// The entries of a mapping; keys outside `known` (when given) are reported.
    fn fields<'n>(
        &mut self,
        node: &'n Node<'n>,
        what: &str,
        known: Option<&[&str]>,
    ) -> Vec<(String, &'n Node<'n>)> {
        let YamlData::Mapping(map) = &node.data else {
            if !is_null(node) {
                self.error(pos(node), format!("{what} must be a mapping (`key: value` lines)"));
            }
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in map {
            let Some(key) = text(k) else {
                self.error(pos(k), format!("keys of {what} must be plain names"));
                continue;
            };
            if let Some(known) = known {
                if !known.contains(&key.as_str()) {
                    let d = self.error(pos(k), format!("unknown key `{key}` in {what}"));
                    let hint = match did_you_mean(&key, known.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("expected one of: {}", known.join(", ")),
                    };
                    d.hint = Some(hint);
                    continue;
                }
            }
            out.push((key, v));
        }
        out
    }

    fn string(&mut self, node: &Node<'_>, what: &str) -> Option<Spanned<String>> {
        match text(node) {
            Some(s) if !s.is_empty() => Some(spanned(s, node)),
            _ => {
                self.error(pos(node), format!("{what} must be a non-empty string"));
                None
            }
        }
    }

    /// `proxy_error`: the integer the proxy library returns when it cannot make the call.
    fn proxy_error(&mut self, node: &Node<'_>, what: &str) -> Option<Spanned<i64>> {
        match node.data {
            YamlData::Value(Scalar::Integer(n)) => Some(spanned(n, node)),
            _ => {
                self.error(
                    pos(node),
                    format!("`{what}` must be an integer: what the proxy library returns when it cannot make the call"),
                )
                .hint = Some(format!("for example `{what}: -1`"));
                None
            }
        }
    }

    /// `proxy:`: the 64-bit proxy library, `true` or `{ file: NAME }`.
    fn proxy(&mut self, node: &Node<'_>) -> Option<super::ProxySpec> {
        if let YamlData::Value(Scalar::Boolean(b)) = node.data {
            return b.then(super::ProxySpec::default);
        }
        let mut proxy = super::ProxySpec::default();
        for (k, v) in self.fields(node, "proxy", Some(&["file", "error"])) {
            if k == "error" {
                proxy.error = self.proxy_error(v, "error");
            } else {
                proxy.file = self.string(v, "the proxy library's file name");
                if let Some(f) = &proxy.file {
                    if f.value.contains(['/', '\\']) || f.value.starts_with('.') {
                        self.error(
                            f.pos,
                            format!(
                                "`{}`: the proxy's file name is a plain file name, without folders",
                                f.value
                            ),
                        );
                    }
                }
            }
        }
        Some(proxy)
    }

    /// An export ordinal: 1 to 65535.
    fn ordinal(&mut self, node: &Node<'_>) -> Option<Spanned<u32>> {
        match node.data {
            YamlData::Value(Scalar::Integer(n)) if (1..=0xffff).contains(&n) => Some(spanned(n as u32, node)),
            _ => {
                self.error(pos(node), "`ordinal` must be an export ordinal, 1 to 65535").hint =
                    Some("`dllgen audit` on the DLL lists its ordinals".into());
                None
            }
        }
    }

    fn strings(&mut self, node: &Node<'_>, what: &str) -> Vec<Spanned<String>> {
        match &node.data {
            YamlData::Sequence(items) => items.iter().filter_map(|i| self.string(i, what)).collect(),
            _ => self.string(node, what).into_iter().collect(),
        }
    }

    fn bool(&mut self, node: &Node<'_>, what: &str) -> bool {
        match node.data {
            YamlData::Value(Scalar::Boolean(b)) => b,
            _ => {
                self.error(pos(node), format!("{what} must be true or false"));
                false
            }
        }
    }

    /// `timeout`: seconds, a positive number (fractions allowed), or `none` for no limit.
    fn timeout(&mut self, node: &Node<'_>) -> Option<u64> {
        let seconds = match &node.data {
            YamlData::Value(Scalar::Integer(n)) => Some(*n as f64),
            YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.into_inner()),
            _ if text(node).as_deref() == Some("none") => return None,
            _ => None,
        };
        match seconds {
            Some(s) if s > 0.0 && s <= MAX_TIMEOUT_S => Some(((s * 1000.0).round() as u64).max(1)),
            _ => {
                self.error(
                    pos(node),
                    format!("timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT_S} (a year), or `none`"),
                )
                .hint = Some(
                    "for example `timeout: 30`, `timeout: 0.5`, or `timeout: none` for calls that may take any time"
                        .into(),
                );
                super::DEFAULT_TIMEOUT_MS.into()
            }
        }
    }

    /// A scalar exactly as written: YAML would turn `99999999999999999999` or `1e3` into
    /// other numbers, and a length or define must keep the user's text.
    fn raw_scalar(&self, node: &Node<'_>) -> Option<String> {
        match &node.data {
            YamlData::Value(Scalar::Integer(_) | Scalar::FloatingPoint(_)) => {
                let (start, end) = (node.span.start.index(), node.span.end.index());
                let raw: String = self.source.chars().skip(start).take(end.saturating_sub(start)).collect();
                let raw = raw.trim().to_string();
                if raw.is_empty() {
                    text(node)
                } else {
                    Some(raw)
                }
            }
            _ => text(node),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.base.join(p)
    }

    /// One of `choices`, reported with a suggestion otherwise.
    fn choice(&mut self, node: &Node<'_>, what: &str, choices: &[&str]) -> Option<String> {
        let s = self.string(node, what)?.value;
        if choices.contains(&s.as_str()) {
            return Some(s);
        }
        let hint = match did_you_mean(&s, choices.iter().copied()) {
            Some(c) => format!("did you mean `{c}`?"),
            None => format!("expected one of: {}", choices.join(", ")),
        };
        self.error(pos(node), format!("`{s}` is not a valid {what}")).hint = Some(hint);
        None
    }

    fn convention(&mut self, node: &Node<'_>) -> Option<Spanned<Convention>> {
        let c = match self.choice(node, "calling convention", &["cdecl", "stdcall"])?.as_str() {
            "stdcall" => Convention::Stdcall,
            _ => Convention::Cdecl,
        };
        Some(spanned(c, node))
    }

    fn spec(&mut self, root: &Node<'_>) -> Option<Spec> {
        if !matches!(root.data, YamlData::Mapping(_)) {
            self.error(pos(root), "a spec must be a mapping with `name`, `header` and `library`");
            return None;
        }
        let mut name = None;
        let mut name_seen = false;
        let mut headers = Vec::new();
        let mut library = None;
        let mut spec = Spec {
            path: self.path.to_path_buf(),
            source: self.source.to_string(),
            name: Spanned { value: String::new(), pos: Pos::default() },
            headers: Vec::new(),
            library: Spanned { value: PathBuf::new(), pos: Pos::default() },
            include_dirs: Vec::new(),
            defines: Vec::new(),
            calling_convention: None,
            thread_safe: false,
            system_headers: false,
            prelude: Vec::new(),
            cplusplus: false,
            timeout_ms: Some(super::DEFAULT_TIMEOUT_MS),
            proxy: None,
            include: Vec::new(),
            exclude: Vec::new(),
            constants: Constants::default(),
            error: None,
            handles: BTreeMap::new(),
            structs: BTreeMap::new(),
            callbacks: BTreeMap::new(),
            functions: BTreeMap::new(),
            unconfirmed: super::review::find(self.source),
        };
        for (key, v) in self.fields(root, "the spec", Some(TOP)) {
            match key.as_str() {
                "name" => {
                    name_seen = true;
                    name = self.crate_name(v);
                }
                "header" | "headers" => headers.extend(
                    self.strings(v, "a header path")
                        .into_iter()
                        .map(|s| Spanned { value: self.path(&s.value), pos: s.pos }),
                ),
                "library" => {
                    library = self
                        .string(v, "the library path")
                        .map(|s| Spanned { value: self.path(&s.value), pos: s.pos })
                }
                "include_dirs" => {
                    spec.include_dirs =
                        self.strings(v, "an include folder").iter().map(|s| self.path(&s.value)).collect()
                }
                "defines" => {
                    for (k, value) in self.fields(v, "defines", None) {
                        let value = if is_null(value) {
                            None
                        } else if let Some(t) = self.raw_scalar(value) {
                            Some(t)
                        } else {
                            self.error(
                                pos(value),
                                format!("the value of define `{k}` must be a string, a number or null"),
                            );
                            continue;
                        };
                        spec.defines.push((k, value));
                    }
                }
                "calling_convention" => spec.calling_convention = self.convention(v),
                "thread_safe" => spec.thread_safe = self.bool(v, "thread_safe"),
                "system_headers" => spec.system_headers = self.bool(v, "system_headers"),
                "language" => {
                    spec.cplusplus = self.choice(v, "language", &["c", "c++"]).as_deref() == Some("c++")
                }
                "prelude" => {
                    spec.prelude = self.strings(v, "a header to include first");
                    for p in &spec.prelude {
                        if p.value.contains(['"', '<', '>', '\n']) {
                            self.error(p.pos, format!("`{}`: a prelude names a header as `#include <...>` would, without quotes or brackets", p.value));
                        }
                    }
                }
                "timeout" => spec.timeout_ms = self.timeout(v),
                "proxy" => spec.proxy = self.proxy(v),
                "exports" => {
                    for (k, list) in self.fields(v, "exports", Some(&["include", "exclude"])) {
                        let globs = self.strings(list, "an export glob");
                        if k == "include" {
                            spec.include = globs
                        } else {
                            spec.exclude = globs
                        }
                    }
                }
                "constants" => {
                    if text(v).as_deref() == Some("none") {
                        spec.constants.none = true;
                        continue;
                    }
                    for (k, list) in self.fields(v, "constants", Some(&["include", "exclude"])) {
                        let globs = self.strings(list, "a constant glob");
                        if k == "include" {
                            spec.constants.include = globs
                        } else {
                            spec.constants.exclude = globs
                        }
                    }
                }
                "error" => {
                    spec.error =
                        self.error_rule(v).and_then(|e| e.value.map(|r| Spanned { value: r, pos: e.pos }))
                }
                "handles" => {
                    for (k, h) in self.fields(v, "handles", None) {
                        if let Some(handle) = self.handle(h) {
                            spec.handles.insert(k, spanned(handle, h));
                        }
                    }
                }
                "structs" => {
                    for (k, s) in self.fields(v, "structs", None) {
                        let mut st = StructSpec::default();
                        for (fk, fv) in
                            self.fields(s, &format!("struct `{k}`"), Some(&["fields", "resident", "view_of"]))
                        {
                            match fk.as_str() {
                                "resident" => st.resident = self.resident(fv),
                                "view_of" => st.view_of = self.string(fv, "the header struct it views"),
                                _ => st.fields = self.params(fv, "fields"),
                            }
                        }
                        spec.structs.insert(k, spanned(st, s));
                    }
                }
                "callbacks" => {
                    for (k, c) in self.fields(v, "callbacks", None) {
                        let cb = self.callback_spec(c, &format!("callback `{k}`"));
                        spec.callbacks.insert(k, spanned(cb, c));
                    }
                }
                "functions" => {
                    for (k, f) in self.fields(v, "functions", None) {
                        let function = self.function(f, &k);
                        spec.functions.insert(k, spanned(function, f));
                    }
                }
                _ => unreachable!("filtered by TOP"),
            }
        }
        let top = pos(root);
        match name {
            Some(n) => spec.name = n,
            None if name_seen => {}
            None => {
                self.error(top, "the spec has no `name`").hint =
                    Some("add `name: mylib` (the crates become mylib-host and mylib-client)".into())
            }
        }
        if headers.is_empty() {
            self.error(top, "the spec has no `header`").hint = Some("add `header: path/to/library.h`".into());
        }
        spec.headers = headers;
        match library {
            Some(l) => spec.library = l,
            None => {
                self.error(top, "the spec has no `library`").hint =
                    Some("add `library: path/to/library.dll`".into())
            }
        }
        Some(spec)
    }

    fn crate_name(&mut self, node: &Node<'_>) -> Option<Spanned<String>> {
        let name = self.string(node, "name")?;
        let ok = name.value.starts_with(|c: char| c.is_ascii_lowercase())
            && name.value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            self.error(name.pos, format!("`{}` is not a valid name", name.value)).hint =
                Some("use lowercase letters, digits and `_`, starting with a letter".into());
            return None;
        }
        Some(name)
    }

    fn handle(&mut self, node: &Node<'_>) -> Option<HandleSpec> {
        let mut c_type = None;
        let mut close = Vec::new();
        let mut invalid = Vec::new();
        for (k, v) in self.fields(node, "a handle", Some(&["c_type", "close", "invalid"])) {
            match k.as_str() {
                "c_type" => c_type = self.string(v, "c_type"),
                "invalid" => invalid = self.strings(v, "invalid"),
                _ => close = self.strings(v, "close"),
            }
        }
        if c_type.is_none() {
            self.error(pos(node), "a handle needs `c_type`").hint =
                Some("the C type it points to, e.g. `c_type: struct device`".into());
        }
        Some(HandleSpec { c_type: c_type?, close, invalid })
    }

    /// `{ user_data: PARAM, params: {...}, scope: ..., default: N, threads: BOOL }`: a
    /// callback type's description.
    fn callback_spec(&mut self, node: &Node<'_>, what: &str) -> CallbackSpec {
        let mut cb = CallbackSpec::default();
        for (ck, cv) in self.fields(node, what, Some(&["user_data", "params", "scope", "default", "threads"]))
        {
            match ck.as_str() {
                "user_data" if matches!(cv.data, YamlData::Mapping(_)) => {
                    // `{ call: FUNCTION, with: PARAM }`: the context is what FUNCTION(PARAM)
                    // returns.
                    for (uk, uv) in self.fields(cv, "user_data", Some(&["call", "with"])) {
                        match uk.as_str() {
                            "call" => cb.context_call = self.string(uv, "the function returning the context"),
                            _ => cb.user_data = self.string(uv, "the parameter it is given"),
                        }
                    }
                    if cb.context_call.is_none() || cb.user_data.is_none() {
                        self.error(pos(cv), "`user_data` is a parameter name, or `{ call: FUNCTION, with: PARAM }`").hint =
                            Some("`{ call: sqlite3_user_data, with: arg0 }`: the context is what sqlite3_user_data(arg0) returns".into());
                    }
                }
                "user_data" => cb.user_data = self.string(cv, "user_data"),
                "scope" => cb.scope = self.scope(cv),
                "threads" => match cv.data {
                    YamlData::Value(Scalar::Boolean(b)) => cb.threads = Some(spanned(b, cv)),
                    _ => {
                        self.error(pos(cv), "`threads` must be `true` or `false`: whether the library calls it from threads of its own").hint =
                            Some("`threads: true` (a frame-ready callback a device SDK fires from its acquisition thread)".into());
                    }
                },
                "default" => {
                    match cv.data {
                        YamlData::Value(Scalar::Integer(n)) => cb.default = Some(spanned(n, cv)),
                        _ => {
                            self.error(pos(cv), "`default` must be an integer: what the library gets when no closure can answer");
                        }
                    }
                }
                _ => cb.params = self.params(cv, "params"),
            }
        }
        cb
    }

    /// `resident: true`, or `resident: { end: { INIT_FUNCTION: END_FUNCTION, ... } }`.
    fn resident(&mut self, node: &Node<'_>) -> Option<Spanned<ResidentSpec>> {
        if matches!(node.data, YamlData::Value(Scalar::Boolean(true))) {
            return Some(spanned(ResidentSpec::default(), node));
        }
        let mut r = ResidentSpec::default();
        for (k, v) in self.fields(node, "resident", Some(&["end"])) {
            let _ = k;
            for (init, end) in self.fields(v, "end", None) {
                if let Some(end) = self.string(end, "the end function") {
                    r.end.insert(init, end);
                }
            }
        }
        Some(spanned(r, node))
    }

    /// `scope: call | forever | once | { handle: PARAM, slot: NAME } | { destroy: PARAM }`.
    fn scope(&mut self, node: &Node<'_>) -> Option<Spanned<ScopeSpec>> {
        let hint = "`scope` is `call`, `forever`, `once` (until its first call), `{ handle: PARAM }` (until that handle closes) or `{ destroy: PARAM }` (until the library calls that destroy-notify)";
        if let Some(word) = text(node) {
            return match word.as_str() {
                "call" => Some(spanned(ScopeSpec::Call, node)),
                "forever" => Some(spanned(ScopeSpec::Forever, node)),
                "once" => Some(spanned(ScopeSpec::Once, node)),
                _ => {
                    self.error(pos(node), format!("unknown scope `{word}`")).hint = Some(hint.into());
                    None
                }
            };
        }
        let (mut handle, mut slot, mut destroy) = (None, None, None);
        for (k, v) in self.fields(node, "scope", Some(&["handle", "slot", "destroy"])) {
            match k.as_str() {
                "handle" => handle = self.string(v, "the handle parameter"),
                "slot" => slot = self.string(v, "the slot"),
                _ => destroy = self.string(v, "the destroy-notify parameter"),
            }
        }
        match (handle, destroy) {
            (Some(param), None) => Some(spanned(ScopeSpec::Handle { param, slot }, node)),
            (None, Some(d)) if slot.is_none() => Some(spanned(ScopeSpec::Destroy(d), node)),
            _ => {
                self.error(pos(node), "a scope is one of `handle` (with an optional `slot`) or `destroy`")
                    .hint = Some(hint.into());
                None
            }
        }
    }

    fn function(&mut self, node: &Node<'_>, name: &str) -> FunctionSpec {
        let mut f = FunctionSpec::default();
        for (k, v) in self.fields(node, &format!("function `{name}`"), Some(FUNCTION)) {
            match k.as_str() {
                "rename" => f.rename = self.string(v, "rename"),
                "calling_convention" => f.calling_convention = self.convention(v),
                "ordinal" => f.ordinal = self.ordinal(v),
                "variant_of" => f.variant_of = self.string(v, "variant_of"),
                "declare" => f.declare = self.string(v, "declare"),
                "params" => f.params = self.params(v, "params"),
                "returns" => f.returns = self.returns(v),
                "proxy_error" => f.proxy_error = self.proxy_error(v, "proxy_error"),
                _ => f.error = self.error_rule(v),
            }
        }
        match (&f.variant_of, &f.declare) {
            (Some(_), None) => {
                self.error(
                    pos(node),
                    format!("function `{name}`: `variant_of` needs `declare`, the variant's C prototype"),
                )
                .hint = Some(format!(
                    "e.g. `declare: \"int {name}(sqlite3 *db, int op, int value, int *result)\"`"
                ));
            }
            (None, Some(d)) => {
                self.error(d.pos, format!("function `{name}`: `declare` needs `variant_of`, the exported function the variant calls"));
            }
            _ => {}
        }
        f
    }

    fn params(&mut self, node: &Node<'_>, what: &str) -> BTreeMap<String, Spanned<ParamSpec>> {
        let mut out = BTreeMap::new();
        for (k, v) in self.fields(node, what, None) {
            if let Some(p) = self.param(v, &k) {
                out.insert(k, spanned(p, v));
            }
        }
        out
    }

    /// `in`, or `{ in_string: utf8, optional: true }`.
    fn param(&mut self, node: &Node<'_>, name: &str) -> Option<ParamSpec> {
        if let Some(word) = text(node) {
            let kind = self.kind(&word, None, node, name)?;
            return Some(ParamSpec { kind, optional: false });
        }
        let entries = self.fields(node, &format!("parameter `{name}`"), None);
        let mut kind = None;
        let mut optional = false;
        for (k, v) in &entries {
            match k.as_str() {
                "optional" => optional = self.bool(v, "optional"),
                _ if KINDS.contains(&k.as_str()) => {
                    if kind.is_some() {
                        self.error(pos(v), format!("parameter `{name}` has two kinds"));
                    } else {
                        kind = self.kind(k, Some(v), v, name);
                    }
                }
                _ => {
                    let d = self.error(pos(v), format!("unknown key `{k}` in parameter `{name}`"));
                    let mut all = KINDS.to_vec();
                    all.push("optional");
                    d.hint = Some(match did_you_mean(k, all.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("a parameter is one of: {}", KINDS.join(", ")),
                    });
                }
            }
        }
        if kind.is_none() && !entries.is_empty() && entries.iter().all(|(k, _)| k == "optional") {
            self.error(pos(node), format!("parameter `{name}` says `optional` but no kind")).hint =
                Some(format!("add one of: {}", KINDS.join(", ")));
        }
        Some(ParamSpec { kind: kind?, optional })
    }

    /// A kind word and its argument node (`None` for the bare-word form).
    fn kind(&mut self, word: &str, arg: Option<&Node<'_>>, at: &Node<'_>, name: &str) -> Option<ParamKind> {
        let needs_arg = |s: &mut Self| {
            s.error(pos(at), format!("`{word}` needs a value")).hint =
                Some(format!("see `{word}` in specs/SCHEMA.md"));
            None
        };
        // Kinds without arguments accept `true`, null or `{}` in the map form.
        let plain = |s: &mut Self, kind: ParamKind| {
            if let Some(a) = arg {
                let empty = matches!(&a.data, YamlData::Mapping(m) if m.is_empty());
                if !(is_null(a) || empty || matches!(a.data, YamlData::Value(Scalar::Boolean(true)))) {
                    s.error(pos(a), format!("`{word}` takes no value"));
                }
            }
            Some(kind)
        };
        match word {
            "scalar" => plain(self, ParamKind::Scalar),
            // `in: { retain: ... }`: the library keeps the pointer.
            "in" => match arg {
                Some(a) if matches!(&a.data, YamlData::Mapping(m) if !m.is_empty()) => {
                    let mut retain = None;
                    for (k, v) in self.fields(a, &format!("parameter `{name}`'s `in`"), Some(&["retain"])) {
                        if k == "retain" {
                            retain = self.retain(v);
                        }
                    }
                    retain.map(ParamKind::InRetained)
                }
                _ => plain(self, ParamKind::In),
            },
            "out" => plain(self, ParamKind::Out),
            // `inout: { view: STRUCT, retain: ... }`: the library keeps it and fills it later.
            "inout" => match arg {
                Some(a) if matches!(&a.data, YamlData::Mapping(m) if !m.is_empty()) => {
                    let (mut view, mut retain) = (None, None);
                    for (k, v) in
                        self.fields(a, &format!("parameter `{name}`'s `inout`"), Some(&["view", "retain"]))
                    {
                        match k.as_str() {
                            "view" => view = self.string(v, "a struct view under `structs:`"),
                            _ => retain = self.retain(v),
                        }
                    }
                    match retain {
                        Some(retain) => Some(ParamKind::InoutRetained { view, retain }),
                        None => {
                            self.error(pos(a), format!("parameter `{name}`: `inout` takes `view` with `retain` (a value the library keeps), or nothing"));
                            None
                        }
                    }
                }
                _ => plain(self, ParamKind::Inout),
            },
            // `callback` (its typedef is under `callbacks:`), or described in place (a
            // function-pointer type written inline in the prototype).
            "callback" => match arg {
                Some(a) if matches!(&a.data, YamlData::Mapping(m) if !m.is_empty()) => {
                    let cb = self.callback_spec(a, &format!("the callback of parameter `{name}`"));
                    Some(ParamKind::Callback(Some(spanned(cb, a))))
                }
                _ => plain(self, ParamKind::Callback(None)),
            },
            "user_data" => plain(self, ParamKind::UserData),
            "descriptor" => plain(self, ParamKind::Descriptor),
            "opaque" => plain(self, ParamKind::Opaque),
            "library_buffers" => plain(self, ParamKind::LibraryBuffers),
            "provide" => {
                let Some(a) = arg else { return needs_arg(self) };
                if text(a).as_deref() != Some("return") {
                    self.error(
                        pos(a),
                        "`provide` is `return`: the callback's result is how many elements it hands over",
                    )
                    .hint = Some("`buf: { provide: return }` (zlib's `in_func`)".into());
                    return None;
                }
                Some(ParamKind::Provide)
            }
            "scratch" => {
                let Some(a) = arg else { return needs_arg(self) };
                let (mut bytes, mut kept_by) = (None, None);
                for (k, v) in self.fields(a, "scratch", Some(&["bytes", "kept_by"])) {
                    match (k.as_str(), &v.data) {
                        ("bytes", YamlData::Value(Scalar::Integer(n))) if *n > 0 => {
                            bytes = Some(spanned(*n as u64, v))
                        }
                        ("bytes", _) => {
                            self.error(pos(v), "`bytes` is a positive number");
                        }
                        _ => kept_by = self.string(v, "the resident struct parameter that keeps it"),
                    }
                }
                match (bytes, kept_by) {
                    (Some(bytes), Some(kept_by)) => Some(ParamKind::Scratch { bytes, kept_by }),
                    _ => {
                        self.error(pos(a), "`scratch` needs `bytes` and `kept_by`").hint =
                            Some("`window: { scratch: { bytes: 32768, kept_by: strm } }`".into());
                        None
                    }
                }
            }
            "fixed" => {
                let Some(a) = arg else { return needs_arg(self) };
                if is_null(a) {
                    return Some(ParamKind::Fixed(None));
                }
                match self.raw_scalar(a) {
                    Some(e) if !e.trim().is_empty() => Some(ParamKind::Fixed(Some(spanned(e, a)))),
                    _ => {
                        self.error(pos(a), "`fixed` is `null` or a C constant expression").hint = Some(
                            "for example `fixed: 0`, `fixed: SQLITE_TRANSIENT`, `fixed: \"sizeof(z_stream)\"`".into(),
                        );
                        None
                    }
                }
            }
            "union" => {
                let Some(a) = arg else { return needs_arg(self) };
                let (mut tag, mut cases, mut members) = (None, Vec::new(), BTreeMap::new());
                for (k, v) in self.fields(a, "union", Some(&["tag", "cases", "members"])) {
                    match k.as_str() {
                        "tag" => tag = self.string(v, "tag"),
                        "cases" => {
                            if let YamlData::Mapping(map) = &v.data {
                                for (ck, cv) in map.iter() {
                                    let (Some(value), Some(member)) =
                                        (self.raw_scalar(ck), self.string(cv, "a union member"))
                                    else {
                                        self.error(pos(ck), "a case is `TAG_VALUE: member`");
                                        continue;
                                    };
                                    cases.push((spanned(value, ck), member));
                                }
                            } else {
                                self.error(
                                    pos(v),
                                    "`cases` maps tag values to members: `{ KX_INT: i, 2: d }`",
                                );
                            }
                        }
                        _ => members = self.params(v, "members"),
                    }
                }
                let Some(tag) = tag else {
                    self.error(pos(a), "a union needs `tag`: the field that says which member is set").hint =
                        Some("for example `union: { tag: type, cases: { KX_INT: i, KX_REAL: d } }`".into());
                    return None;
                };
                if cases.is_empty() {
                    self.error(pos(a), "a union needs `cases`: which tag value selects which member");
                    return None;
                }
                Some(ParamKind::Union { tag, cases, members })
            }
            "out_strings" => {
                let Some(a) = arg else { return needs_arg(self) };
                let (mut encoding, mut len, mut free_with) = (None, None, None);
                for (k, v) in self.fields(a, "out_strings", Some(&["encoding", "len", "free_with"])) {
                    match k.as_str() {
                        "encoding" => encoding = self.encoding(v),
                        "len" => len = self.raw_scalar(v).map(|s| spanned(s, v)),
                        _ => free_with = self.string(v, "free_with"),
                    }
                }
                let Some(len) = len else {
                    self.error(pos(a), "`out_strings` needs `len`: how many strings (over out-values)")
                        .hint = Some("for example `len: \"(*pnRow + 1) * *pnColumn\"`".into());
                    return None;
                };
                Some(ParamKind::OutStrings { encoding, len, free_with })
            }
            "out_string" => {
                let Some(a) = arg else { return needs_arg(self) };
                if text(a).is_some() {
                    return Some(ParamKind::OutString {
                        encoding: Some(self.encoding(a)?),
                        free_with: None,
                        len: None,
                    });
                }
                let (mut encoding, mut free_with, mut len) = (None, None, None);
                for (k, v) in self.fields(a, "out_string", Some(&["encoding", "free_with", "len"])) {
                    match k.as_str() {
                        "encoding" => encoding = self.encoding(v),
                        "len" => len = self.raw_scalar(v).map(|s| spanned(s, v)),
                        _ => free_with = self.string(v, "free_with"),
                    }
                }
                Some(ParamKind::OutString { encoding, free_with, len })
            }
            "in_string" => match arg {
                None => Some(ParamKind::InString(None)),
                Some(a) => Some(ParamKind::InString(Some(self.encoding(a)?))),
            },
            "out_into" => {
                let Some(a) = arg else { return needs_arg(self) };
                Some(ParamKind::OutInto(self.string(a, "the buffer parameter it points into")?))
            }
            "handle" | "out_handle" => {
                let Some(a) = arg else { return needs_arg(self) };
                let h = self.string(a, "a handle type name")?;
                Some(if word == "handle" { ParamKind::Handle(h) } else { ParamKind::OutHandle(h) })
            }
            "in_buffer" | "inout_buffer" => {
                let Some(a) = arg else { return needs_arg(self) };
                let known: &[&str] = if word == "in_buffer" {
                    &["len", "units", "handles", "retain"]
                } else {
                    &["len", "units"]
                };
                let (len, units) = self.buffer(a, known, "len")?;
                // `handles: TYPE`: the elements are handles (`HANDLE *lpHandles`); `retain`:
                // the library keeps the buffer.
                let (mut handles, mut retain, mut extra) = (None, None, None);
                if let YamlData::Mapping(map) = &a.data {
                    for (k, v) in map {
                        match text(k).as_deref() {
                            Some("handles") => handles = self.string(v, "a handle type name"),
                            Some("retain") => {
                                retain = self.retain(v);
                                extra = Some(pos(v));
                            }
                            Some("units") => extra = Some(pos(v)),
                            _ => {}
                        }
                    }
                }
                if let (Some(h), Some(at)) = (&handles, extra) {
                    self.error(at, format!("an array of handles (`handles: {}`) is counted in handles and never kept by the library here: `units` and `retain` do not apply", h.value));
                    return None;
                }
                Some(match (word, handles) {
                    ("in_buffer", Some(handle)) => ParamKind::InHandles { len, handle },
                    ("in_buffer", None) => ParamKind::InBuffer { len, units, retain },
                    _ => ParamKind::InoutBuffer { len, units },
                })
            }
            "out_buffer" => {
                let Some(a) = arg else { return needs_arg(self) };
                let (capacity, units) =
                    self.buffer(a, &["capacity", "units", "length", "grow", "retain"], "capacity")?;
                let mut filled = Spanned { value: Filled::Capacity, pos: capacity.pos };
                let (mut grow, mut retain) = (None, None);
                if let YamlData::Mapping(map) = &a.data {
                    // `buffer` already reported unknown keys; only `length` is read here.
                    for (k, v) in map.iter().filter_map(|(k, v)| text(k).map(|k| (k, v))) {
                        if k == "grow" {
                            grow = self.raw_scalar(v).map(|s| spanned(s, v));
                        }
                        if k == "retain" {
                            retain = Some(self.retain(v)?);
                        }
                        if k == "length" {
                            let s = self.string(v, "length")?;
                            let value = match s.value.as_str() {
                                "return" => Filled::Return,
                                "nul" => Filled::Nul,
                                "capacity" => Filled::Capacity,
                                other if other.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                                    Filled::Param(other.to_string())
                                }
                                other => Filled::Expr(other.to_string()),
                            };
                            filled = Spanned { value, pos: s.pos };
                        }
                    }
                }
                Some(ParamKind::OutBuffer { capacity, units, filled, grow, retain })
            }
            other => {
                let d =
                    self.error(pos(at), format!("`{other}` is not a parameter kind (parameter `{name}`)"));
                d.hint = Some(match did_you_mean(other, KINDS.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("a parameter is one of: {}", KINDS.join(", ")),
                });
                None
            }
        }
    }

    /// `len_key: EXPR` and `units`, or the shorthand of a bare expression.
    fn buffer(&mut self, node: &Node<'_>, known: &[&str], len_key: &str) -> Option<(Spanned<String>, Units)> {
        if let Some(expr) = self.raw_scalar(node) {
            return Some((spanned(expr, node), Units::Elements));
        }
        let mut len = None;
        let mut units = Units::Elements;
        // Unknown keys are reported here once; `out_buffer` re-reads `length` itself.
        for (k, v) in self.fields(node, "a buffer", Some(known)) {
            if k == len_key {
                len = self.raw_scalar(v).map(|s| spanned(s, v));
                if len.is_none() {
                    self.error(
                        pos(v),
                        format!("`{len_key}` must be a number, a parameter name or an expression"),
                    );
                }
            } else if k == "units" {
                units = match self.choice(v, "unit", &["elements", "bytes"])?.as_str() {
                    "bytes" => Units::Bytes,
                    _ => Units::Elements,
                };
            }
        }
        if len.is_none() {
            self.error(pos(node), format!("the buffer has no `{len_key}`")).hint =
                Some(format!("add `{len_key}: NAME` with the parameter (or expression) that holds it"));
        }
        Some((len?, units))
    }

    /// `retain: { handle: PARAM, slot: PARAM, until: PARAM, explicit: BOOL }`.
    fn retain(&mut self, node: &Node<'_>) -> Option<crate::spec::Retain> {
        let mut r = crate::spec::Retain {
            handle: None,
            slot: None,
            until: None,
            explicit: false,
            between_calls: false,
            pos: pos(node),
        };
        for (k, v) in
            self.fields(node, "retain", Some(&["handle", "slot", "until", "explicit", "between_calls"]))
        {
            match k.as_str() {
                "handle" => r.handle = self.string(v, "the handle parameter"),
                "slot" => r.slot = self.string(v, "the slot parameter"),
                "until" => r.until = self.string(v, "the completion callback parameter"),
                "between_calls" => r.between_calls = self.bool(v, "between_calls"),
                _ => r.explicit = self.bool(v, "explicit"),
            }
        }
        if let (Some(s), None) = (&r.slot, &r.handle) {
            self.error(s.pos, "`slot` is a slot of the handle that keeps the buffer: it needs `handle`");
            return None;
        }
        if r.handle.is_none() && r.until.is_none() && !r.explicit {
            self.error(pos(node), "`retain` says what ends the library's hold on the buffer").hint = Some(
                "add `handle: PARAM` (its object closes), `until: PARAM` (a completion callback fires) or `explicit: true` (the client releases it)".into(),
            );
            return None;
        }
        Some(r)
    }

    fn encoding(&mut self, node: &Node<'_>) -> Option<Encoding> {
        Some(match self.choice(node, "string encoding", &["utf8", "ansi", "utf16"])?.as_str() {
            "ansi" => Encoding::Ansi,
            "utf16" => Encoding::Utf16,
            _ => Encoding::Utf8,
        })
    }

    fn returns(&mut self, node: &Node<'_>) -> Option<Spanned<ReturnSpec>> {
        if text(node).is_some_and(|w| w == "ignore") {
            return Some(spanned(ReturnSpec::Ignore, node));
        }
        let mut string = None;
        let mut handle = None;
        let mut buffer = None;
        let mut free_with = None;
        let mut into = None;
        let mut borrowed = None;
        let mut copy = None;
        let keys = ["string", "handle", "buffer", "free_with", "into", "borrowed", "copy"];
        for (k, v) in self.fields(node, "returns", Some(&keys)) {
            match k.as_str() {
                "borrowed" => borrowed = Some((self.bool(v, "borrowed"), pos(v))),
                "copy" => copy = Some((self.bool(v, "copy"), pos(v))),
                "string" => string = self.encoding(v),
                "handle" => handle = self.string(v, "a handle type name"),
                "buffer" => buffer = self.returned_buffer(v),
                "into" => into = self.string(v, "the buffer parameter the result points into"),
                _ => free_with = self.string(v, "free_with"),
            }
        }
        if let (Some((_, at)), None) = (borrowed, &handle) {
            self.error(at, "`borrowed` applies to returned handles").hint =
                Some("`returns: { handle: NAME, borrowed: true }`".into());
        }
        // `copy: true`: the result points to one value, copied out (a buffer of one).
        if let Some((true, at)) = copy {
            if string.is_some() || handle.is_some() || buffer.is_some() || into.is_some() {
                self.error(at, "`returns: { copy: true }` takes nothing but `free_with`");
                return None;
            }
            let len = Spanned { value: "1".to_string(), pos: at };
            return Some(spanned(ReturnSpec::Buffer { len, free_with, single: true }, node));
        }
        if let Some(param) = into {
            if string.is_some() || handle.is_some() || buffer.is_some() || free_with.is_some() {
                self.error(pos(node), "`returns: { into: PARAM }` takes nothing else");
                return None;
            }
            return Some(spanned(ReturnSpec::Into(param), node));
        }
        if let Some(len) = buffer {
            if string.is_some() || handle.is_some() {
                self.error(pos(node), "`returns` is one of `string`, `handle` or `buffer`");
                return None;
            }
            return Some(spanned(ReturnSpec::Buffer { len, free_with, single: false }, node));
        }
        let value = match (string, handle) {
            (Some(encoding), None) => ReturnSpec::String { encoding, free_with },
            (None, Some(h)) => {
                if let Some(f) = free_with {
                    self.error(
                        f.pos,
                        "`free_with` applies to returned strings; a handle's type says how to close it",
                    )
                    .hint = Some("put `close:` under `handles:`".into());
                }
                ReturnSpec::Handle { name: h, borrowed: borrowed.is_some_and(|(b, _)| b) }
            }
            (Some(_), Some(_)) => {
                self.error(pos(node), "`returns` is either a `string` or a `handle`, not both");
                return None;
            }
            (None, None) => {
                self.error(pos(node), "`returns` needs `string`, `handle` or `buffer`");
                return None;
            }
        };
        Some(spanned(value, node))
    }

    /// `buffer: { len: EXPR }` (or `buffer: EXPR`): the length of a returned buffer.
    fn returned_buffer(&mut self, node: &Node<'_>) -> Option<Spanned<String>> {
        self.buffer(node, &["len"], "len").map(|(len, _)| len)
    }

    /// `none`, or `{ when: ..., code: ... }`.
    fn error_rule(&mut self, node: &Node<'_>) -> Option<Spanned<Option<ErrorRule>>> {
        if text(node).as_deref() == Some("none") {
            return Some(spanned(None, node));
        }
        let mut when = None;
        let mut code = ErrorCode::Return;
        for (k, v) in self.fields(node, "error", Some(&["when", "code"])) {
            if k == "code" {
                code = match self.choice(v, "error code source", &["return", "last_error", "errno"])?.as_str()
                {
                    "last_error" => ErrorCode::LastError,
                    "errno" => ErrorCode::Errno,
                    _ => ErrorCode::Return,
                };
                continue;
            }
            when = match &v.data {
                YamlData::Mapping(_) => {
                    let mut values = None;
                    for (_, list) in self.fields(v, "error.when", Some(&["not"])) {
                        let YamlData::Sequence(items) = &list.data else {
                            self.error(pos(list), "`not` takes a list of integers, e.g. `not: [0, 1]`");
                            continue;
                        };
                        let mut ints = Vec::new();
                        for i in items {
                            match i.data {
                                YamlData::Value(Scalar::Integer(n)) => ints.push(n),
                                _ => {
                                    self.error(pos(i), "`not` takes integers");
                                }
                            }
                        }
                        if items.is_empty() {
                            self.error(pos(list), "`not` needs at least one success value, e.g. `not: [0]`");
                        }
                        values = Some(ErrorWhen::Not(ints));
                    }
                    values
                }
                // `when: null` is YAML's null value, not the string "null".
                _ if is_null(v) => Some(ErrorWhen::Null),
                _ => match self
                    .choice(v, "error condition", &["negative", "zero", "nonzero", "null"])?
                    .as_str()
                {
                    "negative" => Some(ErrorWhen::Negative),
                    "zero" => Some(ErrorWhen::Zero),
                    "nonzero" => Some(ErrorWhen::Nonzero),
                    _ => Some(ErrorWhen::Null),
                },
            };
        }
        let Some(when) = when else {
            self.error(pos(node), "`error` needs `when` (or is `none`)").hint =
                Some("for example `error: { when: negative }`".into());
            return None;
        };
        Some(spanned(Some(ErrorRule { when, code }), node))
    }
}
