//! Results, free functions, error rules and the client's method names.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn ret(&mut self, f: &header::Function, fspec: Option<&spec::FunctionSpec>) -> Option<Return> {
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
                spec::ReturnSpec::Handle { name: h, borrowed } => {
                    if !self.spec.handles.contains_key(&h.value) {
                        self.unknown_handle(h);
                        return None;
                    }
                    let closable = self.spec.handles.get(&h.value).is_some_and(|t| !t.value.close.is_empty());
                    if *borrowed && !closable {
                        self.at_spec(
                            h.pos,
                            format!(
                                "`{}`: `borrowed` means nothing for `{}`, which has no close function",
                                f.name, h.value
                            ),
                        )
                        .hint = Some("leave `borrowed` out: no call can close it".into());
                        return None;
                    }
                    if let Err(m) = self.handle_fits(&h.value, &f.ret, 0) {
                        self.at_spec(h.pos, format!("`{}` returns {}: {m}", f.name, describe(&f.ret)));
                        return None;
                    }
                    Some(Return::Handle { handle: h.value.clone(), borrowed: *borrowed })
                }
                spec::ReturnSpec::Buffer { len, free_with, single } => {
                    let free_with = match free_with {
                        Some(free) => Some(self.free_fn(free)?),
                        None => None,
                    };
                    let (element, len) = self.returned_buffer(f, len)?;
                    Some(Return::Buffer { element, len, free_with, single: *single })
                }
                spec::ReturnSpec::Into(param) => self.returned_into(f, fspec, param),
                // Returned in a register the caller need not read (EAX): called as `void`.
                // Not a float or struct, whose return takes the FPU stack or a hidden pointer.
                spec::ReturnSpec::Ignore => match self.header.resolve(&f.ret) {
                    CType::Pointer { .. } => Some(Return::Void),
                    _ if matches!(self.value(&f.ret), Ok(Value::Scalar { scalar: Scalar::Int { .. } })) => {
                        Some(Return::Void)
                    }
                    _ => {
                        self.at_spec(
                            r.pos,
                            format!(
                                "`returns: ignore` drops an integer or pointer result; `{}` returns {}",
                                f.name,
                                describe(&f.ret)
                            ),
                        );
                        None
                    }
                },
            };
        }
        if matches!(self.header.resolve(&f.ret), CType::Void) {
            return Some(Return::Void);
        }
        if let Ok(value) = self.value(&f.ret) {
            return Some(Return::Value { value });
        }
        if let Some(handle) = self.handle_of(&f.ret) {
            return Some(Return::Handle { handle, borrowed: false });
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

    /// A returned pointer to `len` elements: its pointee must be a value (`void *` counts
    /// bytes), its length numbers and integer parameters.
    fn returned_buffer(&mut self, f: &header::Function, len: &Spanned<String>) -> Option<(Value, RetLen)> {
        let element = match self.pointee(&f.ret) {
            None => {
                self.at_spec(
                    len.pos,
                    format!("`{}` returns {}, not a pointer to a buffer", f.name, describe(&f.ret)),
                );
                return None;
            }
            Some(t) if matches!(self.header.resolve(&t), CType::Void) => {
                Value::Scalar { scalar: Scalar::Int { bytes: 1, signed: false } }
            }
            Some(t) => match self.value(&t) {
                Ok(v) => v,
                Err(e) => {
                    self.at_spec(len.pos, format!("`{}` returns a pointer to {e}", f.name));
                    return None;
                }
            },
        };
        if let Some((name, args)) = call_syntax(&len.value) {
            let call = self.len_call(f, len, name, &args)?;
            return Some((element, RetLen::Call(call)));
        }
        let parsed = match expr::parse(&len.value) {
            Ok(e) => e,
            Err(e) => {
                self.at_spec(len.pos, e);
                return None;
            }
        };
        // What the call reported through its out-parameters (`*piSize`): the library's word.
        if parsed.leaves().iter().any(|l| matches!(l, Expr::Deref { .. })) {
            if let Err(m) = self.over_out_values(f, &parsed, "returns: buffer") {
                self.at_spec(len.pos, format!("`{}`: {m}", f.name));
                return None;
            }
            return Some((element, RetLen::Reported(parsed)));
        }
        // A constant the spec states (a static table's size). A length from the arguments
        // would let a caller have the host read past what the library returned.
        let Some(len) = parsed.constant().and_then(|n| u64::try_from(n).ok()) else {
            let d = self.at_spec(
                len.pos,
                format!(
                    "the length of `{}`'s result must be a constant number of elements, not `{parsed}`",
                    f.name
                ),
            );
            d.hint = Some(
                "a length taken from the arguments could make the host read past what the library returned"
                    .into(),
            );
            return None;
        };
        Some((element, RetLen::Const(len)))
    }

    /// A result pointing into the out-buffer `param`: the pointer's target type must be the
    /// buffer's element type.
    fn returned_into(
        &mut self,
        f: &header::Function,
        fspec: Option<&spec::FunctionSpec>,
        param: &Spanned<String>,
    ) -> Option<Return> {
        let said = fspec.and_then(|s| s.params.get(&param.value)).map(|p| &p.value.kind);
        let Some(p) = f.params.iter().find(|p| p.name == param.value) else {
            let d = self.at_spec(param.pos, format!("`{}` has no parameter `{}`", f.name, param.value));
            if let Some(s) = did_you_mean(&param.value, f.params.iter().map(|p| p.name.as_str())) {
                d.hint = Some(format!("did you mean `{s}`?"));
            }
            return None;
        };
        if !matches!(said, Some(ParamKind::OutBuffer { .. })) {
            self.at_spec(
                param.pos,
                format!("`{}`'s result points into `{}`, which must be an `out_buffer`", f.name, p.name),
            );
            return None;
        }
        let pointee = |b: &Self, t: &CType| match b.header.resolve(t) {
            CType::Pointer { pointee, .. } => Some(b.header.resolve(pointee).clone()),
            _ => None,
        };
        let (r, q) = (pointee(self, &f.ret), pointee(self, &p.ty));
        if r.is_none() || r != q {
            self.at_spec(
                param.pos,
                format!(
                    "`{}` returns {}, not a pointer to `{}`'s elements ({})",
                    f.name,
                    describe(&f.ret),
                    p.name,
                    describe(&p.ty)
                ),
            );
            return None;
        }
        Some(Return::Into { param: p.name.clone() })
    }

    /// `name(args)` as a returned buffer's length: a function of the library taking some of
    /// `f`'s parameters (values, or handles of the same C type) and returning an integer.
    fn len_call(
        &mut self,
        f: &header::Function,
        at: &Spanned<String>,
        name: &str,
        args: &[&str],
    ) -> Option<LenCall> {
        let Some(g) = self.header.function(name) else {
            let names = self.header.functions.iter().map(|f| f.name.as_str());
            let d = self.at_spec(
                at.pos,
                format!("the length `{}` calls `{name}`, which the header does not declare", at.value),
            );
            if let Some(s) = did_you_mean(name, names) {
                d.hint = Some(format!("did you mean `{s}`?"));
            }
            return None;
        };
        if g.params.len() != args.len() || g.variadic {
            self.at_spec(
                at.pos,
                format!("`{name}` takes {} arguments; the length passes {}", g.params.len(), args.len()),
            );
            return None;
        }
        for (arg, q) in args.iter().zip(&g.params) {
            let Some(p) = f.params.iter().find(|p| p.name == *arg) else {
                let d = self.at_spec(at.pos, format!("`{arg}` is not a parameter of `{}`", f.name));
                if let Some(s) = did_you_mean(arg, f.params.iter().map(|p| p.name.as_str())) {
                    d.hint = Some(format!("did you mean `{s}`?"));
                }
                return None;
            };
            let same = self.header.resolve(&p.ty) == self.header.resolve(&q.ty);
            let passable =
                self.handle_of(&p.ty).is_some() || matches!(self.value(&p.ty), Ok(Value::Scalar { .. }));
            if !same || !passable {
                self.at_spec(
                    at.pos,
                    format!(
                        "`{arg}` cannot be passed to `{name}`'s `{}`: the length takes parameters that are numbers or handles, of the same C type",
                        q.name
                    ),
                );
                return None;
            }
        }
        let ret = match self.value(&g.ret) {
            Ok(Value::Scalar { scalar: s @ Scalar::Int { .. } }) => s,
            _ => {
                self.at_spec(at.pos, format!("`{name}` returns {}, not an integer length", describe(&g.ret)));
                return None;
            }
        };
        let Some((symbol, decoration)) = self.exports.code.get(&g.name).cloned() else {
            self.at_spec(at.pos, format!("the length calls `{name}`, which the library does not export"));
            return None;
        };
        let convention =
            self.convention(g, self.spec.functions.get(&g.name).map(|s| &s.value), decoration)?;
        Some(LenCall {
            name: g.name.clone(),
            symbol: Symbol::Name { name: symbol },
            convention,
            args: args.iter().map(|a| a.to_string()).collect(),
            ret,
        })
    }

    /// A `free_with` function: declared `void f(T *)` and exported (it need not be selected:
    /// the host calls it, not the client).
    pub(super) fn free_fn(&mut self, free: &Spanned<String>) -> Option<FreeFn> {
        self.one_pointer_fn(free, "free_with", "free a string")
    }

    /// A library function of one pointer the host calls itself (to `role`), named by the
    /// spec's `key`.
    pub(super) fn one_pointer_fn(&mut self, name: &Spanned<String>, key: &str, role: &str) -> Option<FreeFn> {
        let Some(f) = self.header.function(&name.value) else {
            let names = self.header.functions.iter().map(|f| f.name.as_str());
            let d =
                self.at_spec(name.pos, format!("`{key}: {}` names no function of the header", name.value));
            if let Some(s) = did_you_mean(&name.value, names) {
                d.hint = Some(format!("did you mean `{s}`?"));
            }
            return None;
        };
        let one_pointer =
            f.params.len() == 1 && matches!(self.header.resolve(&f.params[0].ty), CType::Pointer { .. });
        if !one_pointer {
            self.at_spec(name.pos, format!("`{}` cannot {role}: it must take exactly one pointer", f.name));
            return None;
        }
        let Some((symbol, decoration)) = self.exports.code.get(&f.name).cloned() else {
            self.at_spec(name.pos, format!("`{key}: {}`: the library does not export it", f.name));
            return None;
        };
        let convention =
            self.convention(f, self.spec.functions.get(&f.name).map(|s| &s.value), decoration)?;
        Some(FreeFn { name: f.name.clone(), symbol: Symbol::Name { name: symbol }, convention })
    }

    /// The function's error rule: `None` when the spec's rule does not fit the return
    /// type (reported), `Some(None)` when there is no rule.
    pub(super) fn error_rule(
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
        let pointer = matches!(
            ret,
            Return::String { .. } | Return::Handle { .. } | Return::Buffer { .. } | Return::Into { .. }
        );
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
        if rule.code == spec::ErrorCode::LastError && !self.header.target.is_windows() {
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
    pub(super) fn rust_name(
        &mut self,
        f: &header::Function,
        fspec: Option<&spec::FunctionSpec>,
    ) -> Option<String> {
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
}

/// `name(a, b)`: a function name and argument names (identifiers only), else `None`.
fn call_syntax(text: &str) -> Option<(&str, Vec<&str>)> {
    fn ident(s: &str) -> Option<&str> {
        let s = s.trim();
        (!s.is_empty()
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some(s)
    }
    let (name, rest) = text.trim().split_once('(')?;
    let inside = rest.trim_end().strip_suffix(')')?;
    let args = if inside.trim().is_empty() {
        Vec::new()
    } else {
        inside.split(',').map(ident).collect::<Option<Vec<_>>>()?
    };
    Some((ident(name)?, args))
}

#[cfg(test)]
mod tests {
    #[test]
    fn call_syntax_takes_a_name_and_identifiers() {
        assert_eq!(
            super::call_syntax("sqlite3_column_bytes(arg0, iCol)"),
            Some(("sqlite3_column_bytes", vec!["arg0", "iCol"]))
        );
        assert_eq!(super::call_syntax(" f() "), Some(("f", vec![])));
        assert_eq!(super::call_syntax("f(a + 1)"), None);
        assert_eq!(super::call_syntax("256"), None);
        assert_eq!(super::call_syntax("(n)"), None);
    }
}
