//! Which functions are generated, and how the host finds and calls them: export globs,
//! the library's exports (names, decorations, ordinals), calling conventions.

use super::*;

/// A decoration's scheme and argument bytes.
pub(crate) type Decoration = Option<(Scheme, Option<u32>)>;

/// The library's callable exports by C name.
pub(crate) struct Exports {
    /// C name → (exported name, decoration).
    pub(crate) code: BTreeMap<String, (String, Decoration)>,
    /// PE ordinals of code exports (named or not), with the name if any.
    pub(crate) ordinals: BTreeMap<u32, Option<String>>,
    /// Whether the library is a PE (ordinals exist).
    pub(crate) pe: bool,
}

impl Exports {
    pub(crate) fn of(binary: &Binary) -> Self {
        let mut code = BTreeMap::new();
        let mut ordinals = BTreeMap::new();
        match binary {
            Binary::Pe(pe) => {
                for e in pe.exports.iter().flat_map(|d| &d.entries) {
                    if matches!(e.kind, ExportKind::Code | ExportKind::Forwarder) {
                        ordinals.entry(e.ordinal).or_insert_with(|| e.name.clone());
                    }
                    let Some(name) = &e.name else { continue };
                    if e.kind == ExportKind::Data {
                        continue;
                    }
                    let d = e.decoration.as_ref();
                    let c_name = d.and_then(|d| d.name.clone()).unwrap_or_else(|| name.clone());
                    code.entry(c_name).or_insert((name.clone(), d.map(|d| (d.scheme, d.arg_bytes))));
                }
            }
            Binary::Elf(elf) => {
                for s in elf.symbols.iter().filter(|s| s.kind == "function") {
                    code.entry(s.name.clone()).or_insert((s.name.clone(), None));
                }
            }
        }
        Exports { code, ordinals, pe: matches!(binary, Binary::Pe(_)) }
    }
}

pub(super) use crate::glob;

impl<'a> Builder<'a> {
    /// The export a spec's `ordinal:` names, checked against the PE's export table; its
    /// decoration when it also has a (decorated) name.
    pub(super) fn ordinal(
        &mut self,
        f: &header::Function,
        o: &spec::Spanned<u32>,
        exports: &Exports,
    ) -> Option<(String, Decoration)> {
        if !exports.pe {
            self.at_spec(
                o.pos,
                format!("`{}`: `ordinal` needs a PE library (ELF exports have no ordinals)", f.name),
            );
            return None;
        }
        let Some(name) = exports.ordinals.get(&o.value) else {
            self.at_spec(
                o.pos,
                format!("`{}`: the library exports no function with ordinal {}", f.name, o.value),
            )
            .hint = Some("`dllgen audit LIBRARY` lists every export with its ordinal".into());
            return None;
        };
        let decoration =
            name.as_ref().and_then(|n| exports.code.values().find(|(e, _)| e == n)).and_then(|(_, d)| *d);
        Some((format!("#{}", o.value), decoration))
    }

    pub(super) fn function(&mut self, f: &header::Function, exports: &Exports) -> Option<Function> {
        let fspec = self.spec.functions.get(&f.name).map(|s| &s.value);
        // A variant calls the export it is a variant of.
        let original = match fspec.and_then(|s| s.variant_of.as_ref()) {
            Some(of) => Some(self.variant_of(f, of)?),
            None => None,
        };
        let exported = original.map_or(f.name.as_str(), |o| o.name.as_str());
        let by_ordinal = match fspec.and_then(|s| s.ordinal.as_ref()) {
            Some(o) => Some(self.ordinal(f, o, exports)?),
            None => None,
        };
        let Some((symbol, decoration)) = by_ordinal.clone().or_else(|| exports.code.get(exported).cloned())
        else {
            self.at_header(
                &f.location,
                format!("`{exported}` is declared here but the library does not export it"),
            )
            .hint = Some(if exports.ordinals.values().any(Option::is_none) {
                format!(
                    "if it is not part of this build, exclude it: `exports: {{ exclude: [\"{0}\"] }}`; \
                     the library has exports without names: if it is one of them, pin it with \
                     `functions: {{ {0}: {{ ordinal: N }} }}`",
                    f.name
                )
            } else {
                format!(
                    "if it is not part of this build, exclude it: `exports: {{ exclude: [\"{}\"] }}`",
                    f.name
                )
            });
            return None;
        };
        if !f.prototyped {
            self.at_header(&f.location, format!("`{}` is declared without a prototype (`()`)", f.name))
                .hint = Some("declare its parameters, or `(void)` if it has none".into());
            return None;
        }
        if f.variadic {
            self.at_header(
                &f.location,
                format!("`{}` is variadic: the host cannot know what the `...` holds", f.name),
            )
            .hint = Some(format!(
                "exclude it, and declare the uses you need as variants with fixed arguments: \
                 `functions: {{ {0}_USE: {{ variant_of: {0}, declare: \"PROTOTYPE\" }} }}`",
                f.name
            ));
            return None;
        }
        if let Some(p) = f.params.iter().find(|p| self.header.is_va_list(&p.ty)) {
            self.at_header(
                &f.location,
                format!(
                    "`{}` takes a `va_list` (parameter `{}`): it points into the caller's stack, which the host cannot read",
                    f.name, p.name
                ),
            )
            .hint = Some("exclude it, or wrap it in a fixed-argument C function".into());
            return None;
        }
        // Every part is checked even when an earlier one failed, so one run reports all.
        // A variadic function is cdecl whatever the spec's default: its caller pops.
        let convention = match original {
            Some(o) if o.variadic => Some(Convention::Cdecl),
            _ => self.convention(f, fspec, decoration),
        };
        let params = self.params(f, fspec);
        let ret = self.ret(f, fspec);
        let error = ret.as_ref().and_then(|r| self.error_rule(f, fspec, r));
        let rust_name = self.rust_name(f, fspec);
        let (convention, params, ret, error, rust_name) = (convention?, params?, ret?, error?, rust_name?);
        if let Some(p) =
            params.iter().find(|p| matches!(&p.kind, Kind::OutBuffer { filled: Filled::Return, .. }))
        {
            if !integer_return(&ret) {
                self.at_header(
                    &f.location,
                    format!(
                        "`{}` returns {}, so it cannot give the filled length of `{}`",
                        f.name,
                        describe(&f.ret),
                        p.name
                    ),
                );
                return None;
            }
        }
        Some(Function {
            c_name: f.name.clone(),
            rust_name,
            symbol: match by_ordinal {
                Some(_) => {
                    Symbol::Ordinal { ordinal: fspec.and_then(|s| s.ordinal.as_ref()).map_or(0, |o| o.value) }
                }
                None => Symbol::Name { name: symbol },
            },
            convention,
            params,
            ret,
            error,
            doc: match (original, fspec.and_then(|s| s.declare.as_ref())) {
                (Some(o), Some(declare)) => Some(format!(
                    "`{}` called as the spec declares it: `{}`.{}",
                    o.name,
                    declare.value.trim().trim_end_matches(';'),
                    o.doc.as_ref().map(|d| format!("\n\n{d}")).unwrap_or_default()
                )),
                _ => f.doc.clone(),
            },
        })
    }

    /// Header attribute, else the spec's override or default; checked against a decorated
    /// export name.
    pub(super) fn convention(
        &mut self,
        f: &header::Function,
        fspec: Option<&spec::FunctionSpec>,
        decoration: Decoration,
    ) -> Option<Convention> {
        let from_spec =
            fspec.and_then(|s| s.calling_convention.as_ref()).or(self.spec.calling_convention.as_ref());
        let conv = match (&f.convention, from_spec) {
            (CallConv::Stdcall, _) => Convention::Stdcall,
            (CallConv::Fastcall, _) => Convention::Fastcall,
            (CallConv::Cdecl, Some(s)) if s.value == spec::Convention::Stdcall => Convention::Stdcall,
            (CallConv::Cdecl, _) => Convention::Cdecl,
            (other, _) => {
                self.at_header(
                    &f.location,
                    format!("`{}` uses calling convention {other:?}, which dllgen does not support", f.name),
                );
                return None;
            }
        };
        if let Some((scheme, bytes)) = decoration {
            let expected = match scheme {
                Scheme::Stdcall => Some(Convention::Stdcall),
                Scheme::Fastcall => Some(Convention::Fastcall),
                _ => None,
            };
            if let Some(expected) = expected.filter(|e| *e != conv) {
                self.at_header(
                    &f.location,
                    format!(
                        "`{}` is exported as {} but declared {}",
                        f.name,
                        conv_name(expected),
                        conv_name(conv)
                    ),
                )
                .hint = Some("fix the prototype, or set `calling_convention` for it in the spec".into());
                return None;
            }
            if let (Some(exported), Some(declared)) = (bytes, f.stack_bytes()) {
                if u64::from(exported) != declared {
                    self.at_header(
                        &f.location,
                        format!(
                            "`{}` is exported with {exported} argument bytes but this prototype takes {declared} on the 32-bit target",
                            f.name
                        ),
                    )
                    .hint = Some("the header does not match the library build: check its parameter types and defines".into());
                    return None;
                }
            }
        }
        Some(conv)
    }

    /// Exports no selected prototype accounts for.
    pub(super) fn unmatched_exports(&mut self, exports: &Exports) {
        let declared: BTreeSet<&str> = self.header.functions.iter().map(|f| f.name.as_str()).collect();
        let mut missing = Vec::new();
        for (c_name, (exported, decoration)) in &exports.code {
            if declared.contains(c_name.as_str()) || !self.selected(c_name) || !self.selected(exported) {
                continue;
            }
            // ELF exports carry no decoration: Itanium C++ names start with `_Z`.
            let cpp = decoration.is_some_and(|(s, _)| s.is_cpp()) || exported.starts_with("_Z");
            missing.push((exported.clone(), cpp));
        }
        for (name, cpp) in missing {
            let hint = if cpp {
                "C++ functions cannot be called through a C ABI; exclude them: `exports: { exclude: [\"?*\", \"_Z*\"] }`".to_string()
            } else {
                format!("declare it in the header, or exclude it: `exports: {{ exclude: [\"{name}\"] }}`")
            };
            self.at_spec(
                self.spec.library.pos,
                format!("the library exports `{name}`, which no header declares"),
            )
            .hint = Some(hint);
        }
    }
}
