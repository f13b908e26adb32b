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
        let counted = counts_read_and_written(f, fspec);
        let destroys = destroy_params(fspec);
        for p in &f.params {
            let spec_entry = fspec.and_then(|s| s.params.get(&p.name));
            let kind = match spec_entry {
                // A destroy-notify a callback's scope names: the host's own.
                None if destroys.contains(&p.name) => self.destroy(f, p),
                Some(entry) if destroys.contains(&p.name) => {
                    self.at_spec(
                        entry.pos,
                        format!(
                            "parameter `{}` of `{}` is a callback's destroy-notify (its `scope` says so): the host passes its own, so it takes no line of its own",
                            p.name, f.name
                        ),
                    );
                    None
                }
                Some(entry) => self.kind_from_spec(f, p, entry),
                // `*count` in a buffer's length: the pointer is read and written.
                None if p.sal.is_empty() && counted.contains(&p.name) => {
                    let said = ParamSpec { kind: ParamKind::Inout, optional: false };
                    let kind = self.classify(f, p, &said, spec::Pos::default());
                    self.settle(f, p, kind, &Source::Sal(format!("read as `*{}` by a length", p.name)))
                }
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
        if failed || !self.check_scopes(f, &out) || !self.check_static_pointers(f, &out) {
            return None;
        }
        self.resolve_lengths(f, &mut out, &origins).then_some(out)
    }

    /// A scope as the spec says it, checked against the function's parameters (what they
    /// are is checked by [`Builder::check_scopes`]).
    fn scope(&mut self, f: &header::Function, s: &Spanned<spec::ScopeSpec>) -> Result<Scope, Problem> {
        let param = |name: &Spanned<String>| {
            if f.params.iter().any(|q| q.name == name.value) {
                Ok(name.value.clone())
            } else {
                let names: Vec<&str> = f.params.iter().map(|q| q.name.as_str()).collect();
                Err(Problem::Expr {
                    message: format!(
                        "`{}` has no parameter `{}`{}",
                        f.name,
                        name.value,
                        did_you_mean(&name.value, names)
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default()
                    ),
                    pos: name.pos,
                })
            }
        };
        Ok(match &s.value {
            spec::ScopeSpec::Call => Scope::Call,
            spec::ScopeSpec::Forever => Scope::Forever,
            spec::ScopeSpec::Once => Scope::Once,
            spec::ScopeSpec::Destroy(d) => Scope::Destroy { param: param(d)? },
            spec::ScopeSpec::Handle { param: h, slot } => Scope::Handle {
                param: param(h)?,
                slot: slot.as_ref().map_or_else(|| f.name.clone(), |s| s.value.clone()),
            },
        })
    }

    /// A destroy-notify parameter: `void (*)(void *)`.
    fn destroy(&mut self, f: &header::Function, p: &header::Param) -> Option<Kind> {
        let fits = self.callback_sig(&p.ty).and_then(|(_, sig)| {
            let one_pointer =
                sig.params.len() == 1 && matches!(self.header.resolve(&sig.params[0]), CType::Pointer { .. });
            let convention = match sig.convention {
                CallConv::Cdecl => Convention::Cdecl,
                CallConv::Stdcall => Convention::Stdcall,
                _ => return None,
            };
            (one_pointer && matches!(self.header.resolve(&sig.ret), CType::Void)).then_some(convention)
        });
        match fits {
            Some(convention) => Some(Kind::Destroy { convention }),
            None => {
                let pos = self.fn_pos(f);
                self.at_spec(
                    pos,
                    format!(
                        "parameter `{}` of `{}` is named as a callback's destroy-notify, but is not a `void (*)(void *)` (cdecl or stdcall)",
                        p.name, f.name
                    ),
                );
                None
            }
        }
    }

    /// The callbacks a function keeps past its call: one registration (one context
    /// parameter, one scope) covers them all; a `handle` scope names a handle parameter.
    fn check_scopes(&mut self, f: &header::Function, out: &[Param]) -> bool {
        // Scratch memory is kept with a resident struct parameter of the same call.
        for p in out {
            if let Kind::Scratch { bytes, kept_by } = &p.kind {
                let resident =
                    out.iter().any(|q| q.name == *kept_by && matches!(q.kind, Kind::Resident { .. }));
                if !resident || *bytes > 64 << 20 {
                    self.at_spec(
                        self.fn_pos(f),
                        format!("`{}` parameter `{}`: scratch memory is at most 64 MiB, kept by a resident struct parameter of the call (`{kept_by}` is not one)", f.name, p.name),
                    );
                    return false;
                }
            }
        }
        // A callback the library fires from threads of its own is not bound to the call.
        for p in out {
            if let (Kind::Callback { callback, .. }, None) = (&p.kind, p.kept_scope()) {
                if self.callbacks.get(callback).is_some_and(|c| c.threads) {
                    self.at_spec(
                        self.fn_pos(f),
                        format!("`{}`: callback `{}` is of type `{callback}`, which the library calls from threads of its own (`threads: true`), so after the call: give the parameter a `scope`", f.name, p.name),
                    );
                    return false;
                }
            }
        }
        let kept: Vec<(&str, &str, &Scope)> = out
            .iter()
            .filter_map(|p| match (&p.kind, p.kept_scope()) {
                (Kind::Callback { callback, .. }, Some(scope)) => {
                    Some((p.name.as_str(), callback.as_str(), scope))
                }
                _ => None,
            })
            .collect();
        let Some(&(_, _, scope)) = kept.first() else { return true };
        let pos = self.fn_pos(f);
        let what = format!("`{}`", f.name);
        if kept.iter().any(|(_, _, s)| *s != scope) {
            self.at_spec(
                pos,
                format!("{what}: the callbacks it keeps share one context, so they need the same `scope`"),
            );
            return false;
        }
        let contexts = out.iter().filter(|p| matches!(p.kind, Kind::UserData { .. })).count();
        if contexts != 1 {
            self.at_spec(
                pos,
                format!("{what}: callbacks kept past the call need exactly one `user_data` parameter (their context: how the host tells registrations apart); it has {contexts}"),
            );
            return false;
        }
        for (p, cb, _) in &kept {
            let has_context = self.callbacks.get(*cb).is_some_and(|c| {
                c.context.is_some() || c.params.iter().any(|q| matches!(q.kind, Kind::UserData { .. }))
            });
            if !has_context {
                self.at_spec(
                    pos,
                    format!("{what}: callback `{p}` is kept past the call, so the library must hand it its context: name that parameter with `user_data`"),
                );
                return false;
            }
        }
        if let Scope::Handle { param, .. } = scope {
            if !out.iter().any(|q| q.name == *param && matches!(q.kind, Kind::Handle { .. })) {
                self.at_spec(pos, format!("{what}: the scope's `{param}` is not a handle parameter"));
                return false;
            }
        }
        true
    }

    /// A destructor parameter (`void (*)(void *)`) fixed to NULL tells the library that the
    /// pointers it is given stay valid and are not its to free (`SQLITE_STATIC`): it keeps
    /// them past the call. The host's copy of a buffer or string lives only for the call, so
    /// such a call is refused unless its buffers are retained (the library would read freed
    /// memory later: a silently wrong result).
    fn check_static_pointers(&mut self, f: &header::Function, out: &[Param]) -> bool {
        let destructor = |ty: &CType| {
            self.callback_sig(ty).is_some_and(|(_, sig)| {
                matches!(self.header.resolve(&sig.ret), CType::Void)
                    && sig.params.len() == 1
                    && matches!(self.header.resolve(&sig.params[0]), CType::Pointer { .. })
            })
        };
        // A destructor of a callback's context (`xDestroy(pArg)`) says nothing about buffers.
        if out.iter().any(|q| matches!(q.kind, Kind::UserData { .. })) {
            return true;
        }
        let Some(fixed) = f.params.iter().zip(out).find(|(p, q)| {
            matches!(
                q.kind,
                Kind::Fixed { fixed: Fixed::Address { address: 0 } | Fixed::Int { value: 0, .. } }
            ) && destructor(&p.ty)
        }) else {
            return true;
        };
        let unkept: Vec<&str> = out
            .iter()
            .filter(|q| {
                matches!(
                    q.kind,
                    Kind::InBuffer { retain: None, .. }
                        | Kind::InString { .. }
                        | Kind::In { retain: None, .. }
                        | Kind::InoutBuffer { .. }
                        | Kind::Inout { retain: None, .. }
                )
            })
            .map(|q| q.name.as_str())
            .collect();
        if unkept.is_empty() {
            return true;
        }
        let d = fixed.0.name.as_str();
        self.at_spec(
            self.fn_pos(f),
            format!(
                "`{}`: `{d}` is fixed to NULL, which tells the library to keep the pointers it is given past the call (as SQLITE_STATIC does), but the host's copy of `{}` lives only for the call",
                f.name,
                unkept.join("`, `")
            ),
        )
        .hint = Some(format!(
            "retain it (`in_buffer: {{ ..., retain: {{ handle: PARAM }} }}`), or fix `{d}` to the value that makes the library copy it now (SQLITE_TRANSIENT)"
        ));
        false
    }

    /// Where the spec describes `f` (the top of the file when it does not).
    fn fn_pos(&self, f: &header::Function) -> spec::Pos {
        self.spec.functions.get(&f.name).map_or_else(spec::Pos::default, |s| s.pos)
    }

    /// A spec line's parameter description, classified.
    pub(super) fn kind_from_spec(
        &mut self,
        f: &header::Function,
        p: &header::Param,
        entry: &Spanned<ParamSpec>,
    ) -> Option<Kind> {
        let kind = self.classify(f, p, &entry.value, entry.pos);
        self.settle(f, p, kind, &Source::Spec(entry))
    }

    /// Classifies a parameter description, however it was said (a spec line, or SAL read
    /// into the same terms): the one place a description becomes a [`Kind`].
    pub(super) fn classify(
        &mut self,
        f: &header::Function,
        p: &header::Param,
        said: &ParamSpec,
        at: spec::Pos,
    ) -> Result<Kind, Problem> {
        let optional = said.optional;
        let pointee = self.pointee(&p.ty);
        let need_pointer = |what: &'static str| pointee.clone().ok_or(Problem::NotAPointer { kind: what });
        let element = |b: &mut Self, t: &CType| b.buffer_element(t).map_err(Problem::Elements);
        let expr = |text: &Spanned<String>| {
            expr::parse(&text.value).map_err(|message| Problem::Expr { message, pos: text.pos })
        };
        let kind = &said.kind;
        if optional
            && matches!(
                kind,
                ParamKind::Scalar
                    | ParamKind::OutHandle(_)
                    | ParamKind::UserData
                    | ParamKind::Fixed(_)
                    | ParamKind::OutString { .. }
            )
        {
            return Err(Problem::other(
                "`optional` applies to pointers the caller may leave NULL, not to this kind",
            ));
        }
        let writes = matches!(
            kind,
            ParamKind::Out | ParamKind::Inout | ParamKind::OutBuffer { .. } | ParamKind::InoutBuffer { .. }
        );
        if writes && pointee.is_some() && self.const_pointer(&p.ty) {
            return Err(Problem::other("the callee cannot write through a `const` pointer"));
        }
        Ok(match kind {
            ParamKind::Union { .. } => {
                return Err(Problem::other("`union` describes a union field of a struct, not a parameter"))
            }
            ParamKind::Opaque => {
                return Err(Problem::other(
                    "`opaque` describes a pointer field of a resident struct, not a parameter",
                ))
            }
            ParamKind::Provide => {
                return Err(Problem::other("`provide` describes a callback's parameter, not a function's"))
            }
            ParamKind::LibraryBuffers => {
                let t = need_pointer("library_buffers")?;
                match self.value(&t) {
                    Ok(Value::Struct { name })
                        if self.structs.get(&name).is_some_and(|s| s.resident.is_some()) =>
                    {
                        Kind::Resident { strukt: name, library_buffers: true }
                    }
                    _ => {
                        return Err(Problem::other("`library_buffers` is for a pointer to a resident struct"))
                    }
                }
            }
            ParamKind::Scratch { bytes, kept_by } => {
                need_pointer("scratch")?;
                if !f.params.iter().any(|q| q.name == kept_by.value) {
                    return Err(Problem::Expr {
                        message: format!("`{}` has no parameter `{}`", f.name, kept_by.value),
                        pos: kept_by.pos,
                    });
                }
                Kind::Scratch { bytes: bytes.value, kept_by: kept_by.value.clone() }
            }
            ParamKind::Scalar => match self.value(&p.ty) {
                Ok(value) => Kind::Value { value },
                Err(e) => {
                    return Err(Problem::Other {
                        message: format!("it is {e}, not a scalar"),
                        names_fix: e.names_fix,
                    })
                }
            },
            ParamKind::InString(enc) => {
                need_pointer("in_string")?;
                match self.encoding(*enc, &p.ty) {
                    Ok(encoding) => Kind::InString { encoding, optional },
                    Err(e) => return Err(Problem::Other { message: e, names_fix: false }),
                }
            }
            ParamKind::In
            | ParamKind::InRetained(_)
            | ParamKind::Out
            | ParamKind::Inout
            | ParamKind::InoutRetained { .. } => {
                let word = match kind {
                    ParamKind::In | ParamKind::InRetained(_) => "in",
                    ParamKind::Out => "out",
                    _ => "inout",
                };
                let t = need_pointer(word)?;
                if let Some(opaque) = self.opaque(&t) {
                    return Err(Problem::Opaque(opaque));
                }
                let value = match kind {
                    // A view of the pointee: the same layout, its own field kinds.
                    ParamKind::InoutRetained { view: Some(v), .. } => {
                        // (`resolve` follows the typedefs, as the view's `view_of` was.)
                        let name = match self.header.resolve(&t) {
                            CType::Named { name } => name.as_str(),
                            _ => "",
                        };
                        if self.views.get(&v.value).map(String::as_str) != Some(name) {
                            return Err(Problem::other(format!(
                                "`view: {}` must name a `structs:` entry with `view_of:` this parameter's struct",
                                v.value
                            )));
                        }
                        self.structure(&v.value).map_err(|why| Problem::Pointee { why, kind: word })?;
                        Value::Struct { name: v.value.clone() }
                    }
                    _ => self.value(&t).map_err(|why| Problem::Pointee { why, kind: word })?,
                };
                match kind {
                    ParamKind::In => Kind::In { value, optional, retain: None },
                    ParamKind::InRetained(r) => {
                        let retain = self.retain(f, r, false)?;
                        if retain.until.is_some() || retain.slot.is_some() {
                            return Err(Problem::other(
                                "a value the library keeps is kept by the handle or resident struct parameter named (`retain: { handle: PARAM }`), replaced when the same function is called on it again",
                            ));
                        }
                        Kind::In { value, optional, retain: Some(retain) }
                    }
                    ParamKind::Out => Kind::Out { value, optional },
                    ParamKind::InoutRetained { retain, .. } => {
                        let retain = self.retain(f, retain, true)?;
                        if optional || !matches!(value, Value::Struct { .. }) {
                            return Err(Problem::other(
                                "a value the library keeps and fills later is a struct, and given (not `optional`)",
                            ));
                        }
                        if retain.until.is_some() || retain.slot.is_some() || retain.explicit {
                            return Err(Problem::other(
                                "a value the library keeps and fills later is kept by the handle or resident struct parameter named (`retain: { handle: PARAM }`), replaced when the same function is called on it again",
                            ));
                        }
                        // Read back whenever the client asks, its fields must be bounded by what
                        // the host allocated: numbers and output buffers, nothing the client sent.
                        let Value::Struct { name } = &value else { unreachable!("checked above") };
                        let sent = self.structs.get(name).and_then(|s| {
                            s.fields.iter().find(|fd| {
                                !matches!(
                                    fd.ty,
                                    FieldType::Value { .. }
                                        | FieldType::Array { .. }
                                        | FieldType::Bytes { .. }
                                        | FieldType::Bits { .. }
                                        | FieldType::OutBuffer { .. }
                                        | FieldType::Opaque
                                )
                            })
                        });
                        if let Some(fd) = sent {
                            return Err(Problem::other(format!(
                                "a value the library keeps and fills later holds numbers and output buffers (`out_buffer` fields, in a struct view: `view_of`); its field `{}` is something the client sends",
                                fd.name
                            )));
                        }
                        Kind::Inout { value, optional, retain: Some(retain) }
                    }
                    _ => Kind::Inout { value, optional, retain: None },
                }
            }
            ParamKind::OutInto(buffer) => {
                let t = need_pointer("out_into")?;
                if !matches!(self.header.resolve(&t), CType::Pointer { .. }) {
                    return Err(Problem::other("`out_into` needs a pointer to a pointer (`void **`)"));
                }
                let said = self
                    .spec
                    .functions
                    .get(&f.name)
                    .and_then(|s| s.value.params.get(&buffer.value))
                    .map(|p| &p.value.kind);
                if !f.params.iter().any(|q| q.name == buffer.value) {
                    return Err(Problem::other(format!("`{}` is not a parameter", buffer.value)));
                }
                if !matches!(said, Some(ParamKind::InBuffer { .. })) {
                    return Err(Problem::other(format!(
                        "it points into `{}`, which the spec must describe as an `in_buffer`",
                        buffer.value
                    )));
                }
                Kind::OutInto { buffer: buffer.value.clone() }
            }
            ParamKind::InHandles { len, handle } => {
                let t = need_pointer("an array of handles")?;
                if !self.spec.handles.contains_key(&handle.value) {
                    self.unknown_handle(handle);
                    return Err(Problem::Reported);
                }
                // Each element must be what the handle type replaces.
                self.handle_fits(&handle.value, &t, 0)
                    .map_err(|m| Problem::other(format!("its elements: {m}")))?;
                if optional {
                    return Err(Problem::other(
                        "an array of handles is not `optional` (pass an empty slice)",
                    ));
                }
                Kind::InHandles { handle: handle.value.clone(), len: expr(len)? }
            }
            ParamKind::InBuffer { len, units, .. } | ParamKind::InoutBuffer { len, units } => {
                let t = need_pointer("a buffer")?;
                // `const char **`: an array of strings the library reads.
                let strings = matches!(self.header.resolve(&t), CType::Pointer { pointee, .. }
                    if matches!(self.header.resolve(pointee), CType::Char { .. } | CType::Int { bytes: 1 | 2, .. }));
                if strings && matches!(kind, ParamKind::InBuffer { .. }) {
                    // `in_buffer: nul`: no count; the NULL after the last string ends it.
                    let terminated = len.value == "nul";
                    if optional && !terminated {
                        return Err(Problem::other(
                            "an array of strings with a count is not `optional` (pass an empty slice)",
                        ));
                    }
                    if *units == spec::Units::Bytes {
                        return Err(Problem::other(
                            "an array of strings is counted in strings, not `units: bytes`",
                        ));
                    }
                    let encoding = self
                        .encoding(None, &t)
                        .map_err(|message| Problem::Other { message, names_fix: false })?;
                    let len = if terminated { None } else { Some(expr(len)?) };
                    return Ok(Kind::InStrings { encoding, len, optional });
                }
                let element = element(self, &t)?;
                // `len: slice`: the client's slice, no parameter (`VerQueryValueW`'s block
                // says its own length).
                let by_slice = len.value == "slice" && matches!(kind, ParamKind::InBuffer { .. });
                let len = if by_slice { None } else { Some(expr(len)?) };
                let units = self.void_units(&t, *units);
                if let ParamKind::InBuffer { retain, .. } = kind {
                    let retain = retain.as_ref().map(|r| self.retain(f, r, false)).transpose()?;
                    Kind::InBuffer { element, len, units, optional, retain }
                } else {
                    Kind::InoutBuffer { element, len: len.ok_or(Problem::Reported)?, units, optional }
                }
            }
            ParamKind::OutBuffer { capacity, units, filled, grow, retain } => {
                let t = need_pointer("out_buffer")?;
                let element = element(self, &t)?;
                let retain = retain.as_ref().map(|r| self.retain(f, r, true)).transpose()?;
                if retain.is_some() {
                    if !matches!(
                        element,
                        Value::Scalar {
                            scalar: crate::model::Scalar::Int { .. } | crate::model::Scalar::Float { .. }
                        }
                    ) {
                        return Err(Problem::other(
                            "a retained output buffer holds numbers (it is read back later, whole)",
                        ));
                    }
                    if grow.is_some() || filled.value != spec::Filled::Capacity {
                        return Err(Problem::other(
                            "a retained output buffer is read back whole, once the library lets go of it: `length` and `grow` do not apply",
                        ));
                    }
                }
                let capacity = expr(capacity)?;
                let filled = match &filled.value {
                    spec::Filled::Return => Filled::Return,
                    spec::Filled::Nul => Filled::Nul,
                    spec::Filled::Capacity => Filled::Capacity,
                    spec::Filled::Param(name) => Filled::Param { name: name.clone() },
                    spec::Filled::Expr(text) => Filled::Expr {
                        expr: expr::parse(text)
                            .map_err(|message| Problem::Expr { message, pos: filled.pos })?,
                    },
                };
                let grow = match grow {
                    Some(g) => {
                        Some(expr::parse(&g.value).map_err(|message| Problem::Expr { message, pos: g.pos })?)
                    }
                    None => None,
                };
                Kind::OutBuffer {
                    element,
                    capacity,
                    units: self.void_units(&t, *units),
                    filled,
                    optional,
                    grow,
                    retain,
                }
            }
            ParamKind::Handle(h) => {
                if !self.spec.handles.contains_key(&h.value) {
                    self.unknown_handle(h);
                    return Err(Problem::Reported);
                }
                need_pointer("handle")?;
                if self.out_handle_of(&p.ty).is_some() {
                    return Err(Problem::other(
                        "it points to a handle (`T **`): the callee fills it, so it is an `out_handle`",
                    ));
                }
                self.handle_fits(&h.value, &p.ty, 0)
                    .map_err(|m| Problem::Other { message: m, names_fix: true })?;
                Kind::Handle { handle: h.value.clone(), optional }
            }
            ParamKind::OutHandle(h) => {
                if !self.spec.handles.contains_key(&h.value) {
                    self.unknown_handle(h);
                    return Err(Problem::Reported);
                }
                let t = need_pointer("out_handle")?;
                if !matches!(self.header.resolve(&t), CType::Pointer { .. }) {
                    return Err(Problem::other("`out_handle` needs a pointer to a handle (`T **`)"));
                }
                self.handle_fits(&h.value, &p.ty, 1)
                    .map_err(|m| Problem::Other { message: m, names_fix: true })?;
                Kind::OutHandle { handle: h.value.clone() }
            }
            ParamKind::Callback(inline) => {
                // Only a scope (or default) in place: the typedef's entry describes the rest.
                let scope = match inline.as_ref().and_then(|c| c.value.scope.as_ref()) {
                    Some(s) => self.scope(f, s)?,
                    None => Scope::Call,
                };
                let described =
                    inline.as_ref().filter(|c| c.value.user_data.is_some() || !c.value.params.is_empty());
                match (self.callback_sig(&p.ty), described) {
                (Some((Some(name), _)), None) => {
                    if let Some(d) = inline.as_ref().and_then(|c| c.value.default.as_ref()) {
                        return Err(Problem::Expr {
                            message: format!("`default` goes with the type's entry, `callbacks: {name}: {{ default: {} }}`", d.value),
                            pos: d.pos,
                        });
                    }
                    self.callback(&name, at).ok_or(Problem::Reported)?;
                    Kind::Callback { callback: name, optional, scope }
                }
                // Described in place: its own entry in the model, named after the parameter.
                (Some((_, sig)), Some(cspec)) => {
                    let name = format!("{}_{}", f.name, p.name);
                    self.callback_with(&name, &sig, cspec).ok_or(Problem::Reported)?;
                    Kind::Callback { callback: name, optional, scope }
                }
                (Some((None, _)), None) => {
                    return Err(Problem::other(
                        "its function-pointer type is written in the prototype: describe the callback in place, `callback: { user_data: PARAM, params: {...} }`",
                    ))
                }
                (None, _) => return Err(Problem::other("`callback` needs a function-pointer type")),
                }
            }
            ParamKind::Fixed(e) => Kind::Fixed { fixed: self.fixed(p, e.as_ref())? },
            ParamKind::OutStrings { encoding, len, free_with } => {
                let t = need_pointer("out_strings")?;
                let inner = match self.header.resolve(&t) {
                    CType::Pointer { pointee, .. } => (**pointee).clone(),
                    _ => {
                        return Err(Problem::other(
                            "`out_strings` needs a pointer to an array of strings (`char ***`)",
                        ))
                    }
                };
                let encoding = self
                    .encoding(*encoding, &inner)
                    .map_err(|message| Problem::Other { message, names_fix: false })?;
                let len = expr(len)?;
                self.over_out_values(f, &len, "out_strings").map_err(Problem::other)?;
                let free_with = match free_with {
                    Some(free) => Some(self.free_fn(free).ok_or(Problem::Reported)?),
                    None => None,
                };
                Kind::OutStrings { encoding, len, free_with }
            }
            ParamKind::OutString { encoding, free_with, len } => {
                let t = need_pointer("out_string")?;
                if !matches!(self.header.resolve(&t), CType::Pointer { .. }) {
                    return Err(Problem::other(
                        "`out_string` needs a pointer to a string pointer (`char **`)",
                    ));
                }
                let encoding = self
                    .encoding(*encoding, &t)
                    .map_err(|message| Problem::Other { message, names_fix: false })?;
                let free_with = match free_with {
                    Some(free) => Some(self.free_fn(free).ok_or(Problem::Reported)?),
                    None => None,
                };
                let len = match len {
                    Some(len) => {
                        let len = expr(len)?;
                        self.over_out_values(f, &len, "out_string").map_err(Problem::other)?;
                        Some(len)
                    }
                    None => None,
                };
                Kind::OutString { encoding, free_with, len }
            }
            ParamKind::Descriptor => {
                if !matches!(
                    self.value(&p.ty),
                    Ok(Value::Scalar { scalar: Scalar::Int { bytes: 4, signed: true } })
                ) {
                    return Err(Problem::other("`descriptor` is a C runtime file descriptor: an `int`"));
                }
                if self.msvcrt == Some(false) {
                    return Err(Problem::other(
                        "`descriptor`: the library does not import msvcrt.dll, so its descriptors belong to another C runtime (the Universal CRT, or one linked in) than the one the host can make them in",
                    ));
                }
                // The function's own rule (`error: none` is none), else the spec's.
                let has_rule = match self.spec.functions.get(&f.name).and_then(|s| s.value.error.as_ref()) {
                    Some(own) => own.value.is_some(),
                    None => self.spec.error.is_some(),
                };
                if !has_rule {
                    return Err(Problem::other(
                        "`descriptor`: the library takes the descriptor over only when the call succeeds, so the function needs an error rule (`error: { when: ... }`) saying when it failed",
                    ));
                }
                Kind::Descriptor
            }
            ParamKind::UserData => {
                // A pointer, or a pointer-sized integer (`LPARAM`, `intptr_t`).
                let pointer_sized_int =
                    matches!(self.value(&p.ty), Ok(Value::Scalar { scalar: Scalar::Int { bytes: 4, .. } }))
                        && p.size == Some(4);
                if pointee.is_none() && !pointer_sized_int {
                    return Err(Problem::other(
                        "`user_data` is the context a callback gets back (`void *`, or a pointer-sized integer such as `LPARAM`); this is neither",
                    ));
                }
                // The context belongs to the nearest callback before it (`cb, ctx`), else after.
                let at = f.params.iter().position(|q| q.name == p.name).unwrap_or(0);
                let is_cb = |q: &&header::Param| self.callback_sig(&q.ty).is_some();
                let cb =
                    f.params[..at].iter().rev().find(is_cb).or_else(|| f.params[at..].iter().find(is_cb));
                let Some(cb) = cb else {
                    return Err(Problem::other(
                        "`user_data` needs a callback parameter in the same function",
                    ));
                };
                Kind::UserData { of: cb.name.clone() }
            }
        })
    }

    /// What ends the library's hold on a buffer it keeps (`retain`), checked against the
    /// function's parameters: a handle parameter and an integer slot, a `scope: once`
    /// callback parameter, or the client (output buffers only).
    fn retain(&mut self, f: &header::Function, r: &spec::Retain, output: bool) -> Result<Retain, Problem> {
        // Parameters that point to a resident struct keep what the library keeps as a handle does.
        let mut residents = Vec::new();
        for q in &f.params {
            if let Some(Ok(Value::Struct { name })) = self.pointee(&q.ty).map(|t| self.value(&t)) {
                if self.structs.get(&name).is_some_and(|s| s.resident.is_some()) {
                    residents.push(q.name.clone());
                }
            }
        }
        let spec_kind = |n: &str| {
            self.spec.functions.get(&f.name).and_then(|s| s.value.params.get(n)).map(|p| &p.value.kind)
        };
        let is = |n: &str, want_handle: bool| {
            f.params.iter().any(|q| {
                q.name == n
                    && if want_handle {
                        self.handle_of(&q.ty).is_some()
                            || matches!(spec_kind(n), Some(ParamKind::Handle(_)))
                            || residents.contains(&q.name)
                    } else {
                        matches!(self.header.resolve(&q.ty), CType::Int { .. })
                    }
            })
        };
        if let Some(h) = r.handle.as_ref().filter(|h| !is(&h.value, true)) {
            return Err(Problem::other(format!(
                "`retain: {{ handle: {} }}` must name a handle parameter",
                h.value
            )));
        }
        if let Some(s) = r.slot.as_ref().filter(|s| !is(&s.value, false)) {
            return Err(Problem::other(format!(
                "`retain: {{ slot: {} }}` must name an integer parameter",
                s.value
            )));
        }
        if let Some(u) = &r.until {
            let optional = self
                .spec
                .functions
                .get(&f.name)
                .and_then(|s| s.value.params.get(&u.value))
                .is_some_and(|p| p.value.optional);
            if optional {
                return Err(Problem::other(format!(
                    "`retain: {{ until: {} }}` names an optional callback: with none given, nothing would say when the library is done with the buffer",
                    u.value
                )));
            }
            let once = match spec_kind(&u.value) {
                Some(ParamKind::Callback(Some(cb))) => {
                    matches!(cb.value.scope.as_ref().map(|s| &s.value), Some(spec::ScopeSpec::Once))
                }
                _ => false,
            };
            if !once {
                return Err(Problem::other(format!(
                    "`retain: {{ until: {} }}` must name a callback parameter of this function with `scope: once` (its completion)",
                    u.value
                )));
            }
        }
        if r.explicit && !output {
            return Err(Problem::other(
                "`explicit` applies to output buffers (the client reads them back and releases them); an input buffer is kept until its `handle` closes or its `until` callback fires",
            ));
        }
        if r.between_calls && !output {
            return Err(Problem::other(
                "`between_calls` applies to what the library writes (it may be read between calls)",
            ));
        }
        Ok(Retain {
            handle: r.handle.as_ref().map(|h| h.value.clone()),
            slot: r.slot.as_ref().map(|s| s.value.clone()),
            until: r.until.as_ref().map(|u| u.value.clone()),
            explicit: r.explicit,
            between_calls: r.between_calls,
        })
    }

    /// A fixed argument's value, as clang evaluated the spec's expression for the target,
    /// checked against the parameter's type.
    fn fixed(&mut self, p: &header::Param, e: Option<&Spanned<String>>) -> Result<Fixed, Problem> {
        use crate::header::ConstValue;
        let value = match e {
            None => None,
            Some(e) => match self.header.expressions.get(&e.value) {
                Some(Ok(v)) => Some(v),
                Some(Err(why)) => {
                    return Err(Problem::Other {
                        message: format!("`fixed: {}` is not a constant clang can evaluate: {why}", e.value),
                        names_fix: false,
                    })
                }
                None => return Err(Problem::other("the fixed value was not evaluated with the header")),
            },
        };
        let shown = e.map_or("null", |e| e.value.as_str());
        if let CType::Pointer { pointee, .. } = self.header.resolve(&p.ty) {
            return match value {
                None => Ok(Fixed::Address { address: 0 }),
                Some(ConstValue::Pointer { address }) => {
                    u32::try_from(*address).map(|address| Fixed::Address { address }).map_err(|_| {
                        Problem::other(format!("`fixed: {shown}` is {address:#x}, not a 32-bit address"))
                    })
                }
                Some(v @ ConstValue::Int { .. }) => {
                    let n = v.int().unwrap_or_default();
                    let address = if (-(1i128 << 31)..0).contains(&n) { n + (1i128 << 32) } else { n };
                    u32::try_from(address)
                        .map(|address| Fixed::Address { address })
                        .map_err(|_| Problem::other(format!("`fixed: {shown}` is {n}, not a 32-bit address")))
                }
                Some(ConstValue::Str { bytes }) => {
                    let chars = matches!(
                        self.header.resolve(pointee),
                        CType::Char { .. } | CType::Int { bytes: 1, .. } | CType::Void
                    );
                    if !chars {
                        return Err(Problem::other(format!(
                            "`fixed: {shown}` is a string of `char`s; the parameter points to something else"
                        )));
                    }
                    if bytes.contains(&0) {
                        return Err(Problem::other(format!("`fixed: {shown}` contains a NUL")));
                    }
                    Ok(Fixed::Str { bytes: bytes.clone() })
                }
                Some(ConstValue::Float { .. }) => {
                    Err(Problem::other(format!("`fixed: {shown}` is a floating-point number, not a pointer")))
                }
            };
        }
        let scalar = match self.value(&p.ty) {
            Ok(Value::Scalar { scalar }) => scalar,
            _ => return Err(Problem::other("`fixed` applies to integers and pointers")),
        };
        let Some(v) = value else {
            return Err(Problem::other(
                "`fixed: null` is for pointers; an integer takes a number (`fixed: 0`)",
            ));
        };
        let Some(n) = v.int() else {
            return Err(Problem::other(format!("`fixed: {shown}` is not an integer constant")));
        };
        let (bytes, signed) = match scalar {
            Scalar::Int { bytes, signed } | Scalar::Enum { bytes, signed, .. } => (bytes, signed),
            Scalar::Bool => (1, false),
            Scalar::Float { .. } => {
                return Err(Problem::other(
                    "`fixed` applies to integers and pointers, not floating-point numbers",
                ))
            }
        };
        let bits = 8 * u32::from(bytes);
        let (lo, hi) = if signed {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        };
        let hi = if scalar == Scalar::Bool { 1 } else { hi };
        if n < lo || n > hi {
            return Err(Problem::other(format!(
                "`fixed: {shown}` is {n}, which does not fit the parameter's type"
            )));
        }
        Ok(Fixed::Int { value: n as i64, scalar })
    }

    /// Reports a classification's problem where its description came from, in that
    /// source's words.
    pub(super) fn settle(
        &mut self,
        f: &header::Function,
        p: &header::Param,
        kind: Result<Kind, Problem>,
        source: &Source<'_>,
    ) -> Option<Kind> {
        let problem = match kind {
            Ok(kind) => return Some(kind),
            Err(problem) => problem,
        };
        let (name, func) = (&p.name, &f.name);
        match source {
            Source::Spec(entry) => {
                let (pos, message) = match problem {
                    Problem::Reported => return None,
                    Problem::NotAPointer { kind } => {
                        (entry.pos, format!("parameter `{name}` of `{func}` is not a pointer, so it cannot be `{kind}`"))
                    }
                    Problem::Elements(e) => (entry.pos, format!("parameter `{name}` of `{func}` points to {e}")),
                    Problem::Pointee { why, kind } => (
                        entry.pos,
                        format!("parameter `{name}` of `{func}`: it points to {why}; `{kind}` needs a scalar or a struct"),
                    ),
                    Problem::Expr { message, pos } => (pos, message),
                    Problem::Opaque(message) | Problem::Other { message, .. } => {
                        (entry.pos, format!("parameter `{name}` of `{func}`: {message}"))
                    }
                };
                self.at_spec(pos, message);
            }
            Source::Sal(sal) => {
                let (message, names_fix) = match problem {
                    Problem::Reported => return None,
                    Problem::NotAPointer { .. } => {
                        self.at_header(
                            &f.location,
                            format!("parameter `{name}` of `{func}` has {sal} but is not a pointer"),
                        );
                        return None;
                    }
                    Problem::Elements(e) => (format!("its elements are {e}"), e.names_fix),
                    Problem::Pointee { why, .. } => (format!("it points to {why}"), why.names_fix),
                    Problem::Expr { message, .. } => (message, false),
                    Problem::Opaque(message) => (message, true),
                    Problem::Other { message, names_fix } => (message, names_fix),
                };
                let d =
                    self.at_header(&f.location, format!("parameter `{name}` of `{func}` ({sal}): {message}"));
                if !names_fix {
                    d.hint = Some(format!("give it a spec entry under `functions: {func}: params:`"));
                }
            }
        }
        None
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
        // A pointer to a resident struct: the host's copy.
        if let Some(Ok(Value::Struct { name })) = pointee.as_ref().map(|t| self.value(t)) {
            if self.structs.get(&name).is_some_and(|s| s.resident.is_some()) {
                return Some(Kind::Resident { strukt: name, library_buffers: false });
            }
        }
        if !p.sal.is_empty() {
            return self.kind_from_sal(f, p);
        }
        if let Some(cb) = self.callback_typedef(ty) {
            self.at_header(&f.location, format!("parameter `{}` of `{}` is a callback (`{cb}`) the spec does not describe", p.name, f.name)).hint =
                Some(format!("mark it `{}: callback` under `functions: {}: params:` and describe `{cb}` under `callbacks:`", p.name, f.name));
            return None;
        }
        if self.callback_sig(ty).is_some() {
            self.at_header(&f.location, format!("parameter `{}` of `{}` is a callback the spec does not describe", p.name, f.name)).hint =
                Some(format!("describe it in place: `functions: {{ {}: {{ params: {{ {}: {{ callback: {{ user_data: PARAM }} }} }} }} }}`", f.name, p.name));
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
        // `char **`: most often a string the library allocates or points at.
        let to_text = matches!(self.header.resolve(&pointee), CType::Pointer { pointee: inner, .. }
            if matches!(self.header.resolve(inner), CType::Char { .. } | CType::Int { bytes: 1 | 2, .. }));
        let (kinds, example) = match (to_text, read_only) {
            (true, false) => ("out_string, with `free_with` if the caller frees it", "{ out_string: utf8 }"),
            (_, true) => ("in, in_buffer or in_string", "in"),
            (_, false) => ("out, inout, out_buffer or inout_buffer", "out"),
        };
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

    /// A parameter's SAL annotation read as the description a spec line would give, then
    /// classified by the same code ([`Builder::classify`]).
    pub(super) fn kind_from_sal(&mut self, f: &header::Function, p: &header::Param) -> Option<Kind> {
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
        let source = Source::Sal(sal_text);
        let kind = match self.pointee(&p.ty) {
            None => Err(Problem::NotAPointer { kind: "annotated" }),
            Some(_) => {
                self.sal_description(p, &m).and_then(|said| self.classify(f, p, &said, spec::Pos::default()))
            }
        };
        self.settle(f, p, kind, &source)
    }

    /// What SAL says of a pointer parameter, in the spec's terms.
    fn sal_description(&self, p: &header::Param, m: &sal::Meaning) -> Result<ParamSpec, Problem> {
        let here = |value: String| Spanned { value, pos: spec::Pos::default() };
        let units = if m.bytes { spec::Units::Bytes } else { spec::Units::Elements };
        let kind = match (m.direction, &m.count) {
            (Direction::Reserved, _) => {
                return Ok(ParamSpec { kind: ParamKind::Fixed(None), optional: false })
            }
            (Direction::Outptr, None) if m.nul_terminated => {
                ParamKind::OutString { encoding: None, free_with: None, len: None }
            }
            (Direction::Outptr, _) => {
                match self.out_handle_of(&p.ty) {
                    // The callee always gets somewhere to store the handle.
                    Some(handle) => {
                        return Ok(ParamSpec { kind: ParamKind::OutHandle(here(handle)), optional: false })
                    }
                    None => return Err(Problem::Other {
                        message:
                            "dllgen handles `_Outptr_` only for handle types (declare one under `handles:`)"
                                .into(),
                        names_fix: true,
                    }),
                }
            }
            (Direction::In, None) if m.nul_terminated => ParamKind::InString(None),
            (Direction::Out | Direction::Inout, None) if m.nul_terminated => return Err(Problem::other(
                "a string written in place needs its capacity: describe it as `out_buffer` or `inout_buffer`",
            )),
            (Direction::In, None) => ParamKind::In,
            (Direction::Out, None) => ParamKind::Out,
            (Direction::Inout, None) => ParamKind::Inout,
            (Direction::In, Some(count)) => {
                ParamKind::InBuffer { len: here(count.clone()), units, retain: None }
            }
            (Direction::Inout, Some(count)) => ParamKind::InoutBuffer { len: here(count.clone()), units },
            (Direction::Out, Some(count)) => {
                let filled = match m.written.as_deref().map(str::trim) {
                    Some("return") => spec::Filled::Return,
                    Some(w) if w.starts_with('*') => spec::Filled::Param(w[1..].trim().to_string()),
                    Some(other) => {
                        return Err(Problem::Other {
                            message: format!("the written count `{other}` is not `return` or `*param`"),
                            names_fix: false,
                        })
                    }
                    None if m.nul_terminated => spec::Filled::Nul,
                    None => spec::Filled::Capacity,
                };
                ParamKind::OutBuffer {
                    capacity: here(count.clone()),
                    units,
                    filled: here_filled(filled),
                    grow: None,
                    retain: None,
                }
            }
            (Direction::Ret, _) => return Err(Problem::other("a return annotation on a parameter")),
        };
        Ok(ParamSpec { kind, optional: m.optional })
    }
}

/// Where a parameter's description came from: a spec line, or the header's SAL (its text,
/// for messages).
pub(super) enum Source<'s> {
    Spec(&'s Spanned<ParamSpec>),
    Sal(String),
}

/// What is wrong with a parameter's description: a typed value, put into words by
/// [`Builder::settle`] for the source it came from.
pub(super) enum Problem {
    /// The kind needs a pointer and the parameter is none.
    NotAPointer { kind: &'static str },
    /// A buffer's elements cannot be copied (why).
    Elements(Why),
    /// The value behind an `in`/`out`/`inout` pointer cannot be copied (why).
    Pointee { why: Why, kind: &'static str },
    /// A length expression that does not parse, and where it is.
    Expr { message: String, pos: spec::Pos },
    /// The pointee is opaque; the message suggests declaring a handle (and says where).
    Opaque(String),
    /// Anything else; `names_fix`: the message already says where to fix it.
    Other { message: String, names_fix: bool },
    /// Already reported where it was found (an unknown handle, a callback type).
    Reported,
}

impl Problem {
    fn other(message: impl Into<String>) -> Problem {
        Problem::Other { message: message.into(), names_fix: false }
    }
}

fn here_filled(filled: spec::Filled) -> Spanned<spec::Filled> {
    Spanned { value: filled, pos: spec::Pos::default() }
}

/// The parameters that buffer lengths read as `*name` (a count read and written), in the
/// spec's lines or in SAL (`_Out_writes_bytes_to_(*pcb, *pcb)`).
fn counts_read_and_written(f: &header::Function, fspec: Option<&spec::FunctionSpec>) -> BTreeSet<String> {
    let mut texts: Vec<String> = Vec::new();
    for p in &f.params {
        match fspec.and_then(|s| s.params.get(&p.name)).map(|e| &e.value.kind) {
            Some(ParamKind::InBuffer { len, .. } | ParamKind::InoutBuffer { len, .. }) => {
                texts.push(len.value.clone())
            }
            Some(ParamKind::OutBuffer { capacity, .. }) => texts.push(capacity.value.clone()),
            Some(_) => {}
            None => {
                if let Ok(Some(m)) = sal::interpret(&p.sal) {
                    texts.extend(m.count);
                }
            }
        }
    }
    texts
        .iter()
        .filter_map(|t| match expr::parse(t) {
            Ok(Expr::Deref { name }) => Some(name),
            _ => None,
        })
        .collect()
}

impl Builder<'_> {
    /// A count over what the library reported: `*name` of integer out-parameters, and numbers.
    pub(super) fn over_out_values(
        &mut self,
        f: &header::Function,
        len: &Expr,
        kind: &str,
    ) -> Result<(), String> {
        for leaf in len.leaves() {
            let fine = match leaf {
                Expr::Const { .. } => true,
                Expr::Deref { name } => f.params.iter().any(|q| {
                    q.name == *name
                        && matches!(
                            self.value(&self.pointee(&q.ty).unwrap_or(CType::Void)),
                            Ok(Value::Scalar { scalar: Scalar::Int { .. } })
                        )
                }),
                _ => false,
            };
            if !fine {
                return Err(format!(
                    "the count `{len}` of `{kind}` may use `*param` of integer out-parameters and numbers, not `{leaf}`"
                ));
            }
        }
        Ok(())
    }
}

/// The destroy-notify parameters the spec's callback scopes name.
fn destroy_params(fspec: Option<&spec::FunctionSpec>) -> Vec<String> {
    let Some(fspec) = fspec else { return Vec::new() };
    fspec
        .params
        .values()
        .filter_map(|p| match &p.value.kind {
            ParamKind::Callback(Some(c)) => match c.value.scope.as_ref().map(|s| &s.value) {
                Some(spec::ScopeSpec::Destroy(d)) => Some(d.value.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}
