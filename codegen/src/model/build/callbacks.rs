//! Callback (function-pointer) types and their parameters.

use super::*;

impl<'a> Builder<'a> {
    /// A function-pointer parameter's callback typedef, if `ty` is one.
    pub(super) fn callback_typedef(&self, ty: &CType) -> Option<String> {
        let CType::Named { name } = ty else { return None };
        let TypeDefKind::Typedef { target } = &self.header.types.get(name)?.kind else { return None };
        matches!(self.header.resolve(target), CType::Pointer { pointee, .. } if matches!(**pointee, CType::Function(_)))
            .then(|| name.clone())
    }

    /// A function-pointer type's signature, and its typedef's name when it has one (`None`:
    /// the type is written inline in the prototype, `int (*cb)(void *, int)`).
    pub(super) fn callback_sig(&self, ty: &CType) -> Option<(Option<String>, header::Signature)> {
        if let Some(name) = self.callback_typedef(ty) {
            let Some(TypeDefKind::Typedef { target }) = self.header.types.get(&name).map(|t| &t.kind) else {
                return None;
            };
            let CType::Pointer { pointee, .. } = self.header.resolve(target) else { return None };
            let CType::Function(sig) = pointee.as_ref() else { return None };
            return Some((Some(name), (**sig).clone()));
        }
        match self.header.resolve(ty) {
            CType::Pointer { pointee, .. } => match pointee.as_ref() {
                CType::Function(sig) => Some((None, (**sig).clone())),
                _ => None,
            },
            _ => None,
        }
    }

    /// The callback typedef `name`, described under `callbacks:`.
    pub(super) fn callback(&mut self, name: &str, pos: spec::Pos) -> Option<()> {
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
        if let Some(scope) = &cspec.value.scope {
            self.at_spec(
                scope.pos,
                format!(
                    "`scope` says how long one use of `{name}` lives: it goes on the parameter, not the type"
                ),
            )
            .hint = Some("`PARAM: { callback: { scope: ... } }` under the function".into());
            return None;
        }
        let (_, sig) = self.callback_sig(&CType::Named { name: name.to_string() })?;
        self.callback_with(name, &sig, cspec)
    }

    /// A callback of signature `sig` described by `cspec`, entered in the model as `name`.
    pub(super) fn callback_with(
        &mut self,
        name: &str,
        sig: &header::Signature,
        cspec: &Spanned<spec::CallbackSpec>,
    ) -> Option<()> {
        if self.callbacks.contains_key(name) {
            return Some(());
        }
        let convention = match sig.convention.clone() {
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
            let is_user_data = cspec.value.context_call.is_none()
                && cspec.value.user_data.as_ref().is_some_and(|u| u.value == pname);
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
                    ParamKind::Handle(h) => {
                        if !self.spec.handles.contains_key(&h.value) {
                            self.unknown_handle(h);
                            return None;
                        }
                        if let Err(m) = self.handle_fits(&h.value, ty, 0) {
                            self.at_spec(ps.pos, format!("parameter `{pname}` of callback `{name}`: {m}"));
                            return None;
                        }
                        Kind::Handle { handle: h.value.clone(), optional: true }
                    }
                    // An array with its count in another parameter: of strings (`char **argv`),
                    // of handles (`handles: T`), or of numbers or structs (a frame's bytes).
                    ParamKind::InBuffer { len, .. } | ParamKind::InHandles { len, .. } => {
                        let element = self.cb_pointee(ty, ps.pos, &pname, name)?;
                        let encoding = self.encoding(None, &element).ok();
                        let len_expr = match expr::parse(&len.value) {
                            Ok(e @ (Expr::Param { .. } | Expr::Const { .. })) => e,
                            _ => {
                                self.at_spec(len.pos, format!("the count of `{pname}` (callback `{name}`) must be one of its parameters or a number"));
                                return None;
                            }
                        };
                        if let Expr::Param { name: n } = &len_expr {
                            let ok = sig.params.iter().enumerate().any(|(j, t)| {
                                sig.param_names
                                    .get(j)
                                    .filter(|s| !s.is_empty())
                                    .cloned()
                                    .unwrap_or_else(|| format!("arg{j}"))
                                    == *n
                                    && matches!(
                                        self.value(t),
                                        Ok(Value::Scalar { scalar: Scalar::Int { .. } })
                                    )
                            });
                            if !ok {
                                self.at_spec(
                                    len.pos,
                                    format!("`{n}` is not an integer parameter of callback `{name}`"),
                                );
                                return None;
                            }
                        }
                        match (&ps.value.kind, encoding) {
                            (ParamKind::InHandles { handle, .. }, _) => {
                                if !self.spec.handles.contains_key(&handle.value) {
                                    self.unknown_handle(handle);
                                    return None;
                                }
                                if let Err(m) = self.handle_fits(&handle.value, &element, 0) {
                                    self.at_spec(
                                        ps.pos,
                                        format!(
                                            "parameter `{pname}` of callback `{name}`: its elements: {m}"
                                        ),
                                    );
                                    return None;
                                }
                                Kind::InHandles { handle: handle.value.clone(), len: len_expr }
                            }
                            (_, Some(encoding)) => Kind::StringArray { encoding, len: len_expr },
                            (_, None) => {
                                let value = match self.buffer_element(&element) {
                                    Ok(v) => v,
                                    Err(e) => {
                                        self.at_spec(
                                            ps.pos,
                                            format!("parameter `{pname}` of callback `{name}` points to {e}"),
                                        );
                                        return None;
                                    }
                                };
                                Kind::InBuffer {
                                    element: value,
                                    retain: None,
                                    len: Some(len_expr),
                                    units: spec::Units::Elements,
                                    optional: ps.value.optional,
                                }
                            }
                        }
                    }
                    // `T **`: the closure hands over a buffer of its own; the callback's
                    // result counts its elements.
                    ParamKind::Provide => {
                        let inner = self.cb_pointee(ty, ps.pos, &pname, name)?;
                        let element = match self.header.resolve(&inner).clone() {
                            CType::Pointer { pointee, .. } => self.buffer_element(&pointee),
                            _ => Err("no pointer to a pointer".into()),
                        };
                        let counts =
                            matches!(self.value(&sig.ret), Ok(Value::Scalar { scalar: Scalar::Int { .. } }));
                        match element {
                            Ok(element) if counts => Kind::Provide { element },
                            Ok(_) => {
                                self.at_spec(ps.pos, format!("parameter `{pname}` of callback `{name}`: `provide` needs the callback to return the count (an integer)"));
                                return None;
                            }
                            Err(e) => {
                                self.at_spec(ps.pos, format!("parameter `{pname}` of callback `{name}`: `provide` is for a `T **`, and it points to {e}"));
                                return None;
                            }
                        }
                    }
                    // A pointer to one value (a struct the library passes): read by the
                    // closure, or filled / updated by it and written back.
                    kind @ (ParamKind::In | ParamKind::Out | ParamKind::Inout) => {
                        let pointee = self.cb_pointee(ty, ps.pos, &pname, name)?;
                        let value = match self.value(&pointee) {
                            Ok(v) => v,
                            Err(e) => {
                                self.at_spec(
                                    ps.pos,
                                    format!("parameter `{pname}` of callback `{name}` points to {e}"),
                                );
                                return None;
                            }
                        };
                        let optional = ps.value.optional;
                        if *kind != ParamKind::In && self.value_points(&value, 0) {
                            self.at_spec(
                                ps.pos,
                                format!("parameter `{pname}` of callback `{name}`: a struct the closure writes cannot hold strings or pointers (the host could not keep what they point to past the callback)"),
                            );
                            return None;
                        }
                        if optional && *kind != ParamKind::In {
                            self.at_spec(
                                ps.pos,
                                format!("parameter `{pname}` of callback `{name}`: a value the closure writes cannot be optional"),
                            );
                            return None;
                        }
                        match kind {
                            ParamKind::In => Kind::In { value, optional, retain: None },
                            ParamKind::Out => Kind::Out { value, optional },
                            _ => Kind::Inout { value, optional, retain: None },
                        }
                    }
                    _ => {
                        self.at_spec(
                            ps.pos,
                            "callback parameters may be scalars, `in_string`, `handle`, `in_buffer` (an array of strings), `in`, `out`, `inout` or `user_data`",
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
        if let (Some(d), Return::Void) = (&cspec.value.default, &ret) {
            self.at_spec(d.pos, format!("callback `{name}` returns nothing: `default` means nothing for it"));
            return None;
        }
        if let (Some(d), true) =
            (&cspec.value.default, params.iter().any(|p| matches!(p.kind, Kind::Provide { .. })))
        {
            self.at_spec(d.pos, format!("callback `{name}` hands the library a buffer (`provide`): when no closure answers it gets 0 (no buffer), so it takes no `default`"));
            return None;
        }
        let default = cspec.value.default.as_ref().map(|d| d.value);
        let threads = cspec.value.threads.as_ref().is_some_and(|t| t.value);
        let context = match (&cspec.value.context_call, &cspec.value.user_data) {
            (Some(call), Some(with)) => {
                if !params.iter().any(|p| p.name == with.value && matches!(p.kind, Kind::Handle { .. })) {
                    self.at_spec(
                        with.pos,
                        format!(
                            "callback `{name}`: `{}` must be a handle parameter (what `{}` is given)",
                            with.value, call.value
                        ),
                    );
                    return None;
                }
                let via = self.one_pointer_fn(call, "call", "return a callback's context")?;
                Some(ContextCall { via, param: with.value.clone() })
            }
            _ => None,
        };
        self.callbacks.insert(
            name.to_string(),
            Callback { name: name.to_string(), convention, params, ret, default, threads, context },
        );
        Some(())
    }
}

impl Builder<'_> {
    /// What a callback's pointer parameter points to; reported when it is no pointer.
    fn cb_pointee(&mut self, ty: &CType, at: spec::Pos, pname: &str, callback: &str) -> Option<CType> {
        match self.header.resolve(ty) {
            CType::Pointer { pointee, .. } => Some((**pointee).clone()),
            _ => {
                self.at_spec(at, format!("parameter `{pname}` of callback `{callback}` is not a pointer"));
                None
            }
        }
    }

    /// Whether a value holds a string or pointer field (through nested structs).
    fn value_points(&self, v: &Value, depth: u32) -> bool {
        let Value::Struct { name } = v else { return false };
        let Some(s) = self.structs.get(name) else { return false };
        depth < 32
            && s.fields.iter().any(|f| match &f.ty {
                FieldType::String { .. }
                | FieldType::Buffer { .. }
                | FieldType::Pointee { .. }
                | FieldType::OutBuffer { .. }
                | FieldType::Flexible { .. }
                | FieldType::Union { pointers: true, .. } => true,
                FieldType::Value { value } | FieldType::Array { element: value, .. } => {
                    self.value_points(value, depth + 1)
                }
                _ => false,
            })
    }
}
