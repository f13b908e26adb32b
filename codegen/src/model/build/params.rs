//! Classifying each parameter into its one marshaling kind: from the spec line, else
//! from SAL, else from what the C type makes unambiguous.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn params(
        &mut self,
        f: &header::Function,
        fspec: Option<&spec::FunctionSpec>,
    ) -> Option<Vec<Param>> {
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

    pub(super) fn kind_from_spec(
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
    pub(super) fn void_units(&self, pointee: &CType, units: spec::Units) -> spec::Units {
        if matches!(self.header.resolve(pointee), CType::Void) {
            spec::Units::Bytes
        } else {
            units
        }
    }

    pub(super) fn unknown_handle(&mut self, h: &Spanned<String>) -> Option<Kind> {
        let hint = match did_you_mean(&h.value, self.spec.handles.keys().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "declare it under `handles:` with its `c_type`".into(),
        };
        self.at_spec(h.pos, format!("no handle type `{}`", h.value)).hint = Some(hint);
        None
    }

    pub(super) fn expr(&mut self, text: &str, pos: spec::Pos) -> Option<Expr> {
        match expr::parse(text) {
            Ok(e) => Some(e),
            Err(e) => {
                self.at_spec(pos, e);
                None
            }
        }
    }

    /// SAL first, then what the type makes unambiguous.
    pub(super) fn kind_from_header(&mut self, f: &header::Function, p: &header::Param) -> Option<Kind> {
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

    pub(super) fn kind_from_sal(
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
}
