//! Variants: a function the spec declares itself (`declare:`) that calls an export of the
//! library (`variant_of:`). Two uses: a variadic function with its `...` fixed to the
//! arguments of one use (`sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, int, int *)`),
//! and a function whose pointer parameter holds another type than the header says
//! (`FormatMessageW`'s `LPWSTR` that receives an `LPWSTR *` with ALLOCATE_BUFFER). The
//! prototype must pass exactly what the original's does on the 32-bit stack; what the
//! pointers and the extra arguments mean is the spec's word, like any other spec line.

use super::*;

impl<'a> Builder<'a> {
    /// For a variant `f` (`fspec.variant_of` set): the function it calls, checked against
    /// what the variant declares. `None` after reporting why it cannot be.
    pub(super) fn variant_of(
        &mut self,
        f: &header::Function,
        of: &Spanned<String>,
    ) -> Option<&'a header::Function> {
        let header = self.header;
        if !f.from_spec {
            // A header function's name: `spec_references` reports it.
            return None;
        }
        let Some(original) = header.function(&of.value).filter(|o| !o.from_spec) else {
            let d = self.at_spec(
                of.pos,
                format!("`{}` is a variant of `{}`, which the header does not declare", f.name, of.value),
            );
            let names = header.functions.iter().filter(|g| !g.from_spec).map(|g| g.name.as_str());
            if let Some(s) = did_you_mean(&of.value, names) {
                d.hint = Some(format!("did you mean `{s}`?"));
            }
            return None;
        };
        let mut ok = true;
        if f.variadic {
            self.at_header(
                &f.location,
                format!("the variant `{}` is variadic itself: declare the arguments of one use", f.name),
            );
            ok = false;
        }
        if f.convention != original.convention {
            self.at_header(
                &f.location,
                format!(
                    "the variant `{}` is declared {} but `{}` is {}",
                    f.name,
                    conv(&f.convention),
                    original.name,
                    conv(&original.convention)
                ),
            )
            .hint = Some("declare it with the original's convention (`WINAPI`, `__stdcall`...)".into());
            ok = false;
        }
        let fixed = original.params.len();
        let arity_ok = if original.variadic { f.params.len() >= fixed } else { f.params.len() == fixed };
        if !arity_ok {
            self.at_header(
                &f.location,
                format!(
                    "the variant `{}` takes {} parameters, but `{}` takes {}{}",
                    f.name,
                    f.params.len(),
                    original.name,
                    fixed,
                    if original.variadic { " before its `...`" } else { "" }
                ),
            );
            return None;
        }
        if !self.same_abi(&f.ret, &original.ret) {
            self.at_header(
                &f.location,
                format!(
                    "the variant `{}` returns {}, but `{}` returns {}",
                    f.name,
                    describe(&f.ret),
                    original.name,
                    describe(&original.ret)
                ),
            )
            .hint = Some("a variant may change what a returned pointer points to, nothing else".into());
            ok = false;
        }
        for (i, p) in f.params.iter().enumerate() {
            let problem = match original.params.get(i) {
                Some(o) if !self.same_abi(&p.ty, &o.ty) => Some(format!(
                    "is {}, but `{}`'s parameter {} (`{}`) is {}: the variant must pass what it passes",
                    describe(&p.ty),
                    original.name,
                    i + 1,
                    o.name,
                    describe(&o.ty)
                )),
                Some(_) => None,
                None => self.promoted(&p.ty).map(|to| {
                    format!(
                        "is {}, which `...` promotes to {to}: declare it {to}, as the library reads it",
                        describe(&p.ty)
                    )
                }),
            };
            if let Some(problem) = problem {
                self.at_header(
                    &f.location,
                    format!("parameter `{}` of the variant `{}` {problem}", p.name, f.name),
                );
                ok = false;
            }
        }
        ok.then_some(original)
    }

    /// Whether two types are passed the same way on the 32-bit stack: the same integer
    /// width, the same float, the same struct, or both pointers (to anything).
    fn same_abi(&self, a: &CType, b: &CType) -> bool {
        let width = |t: &CType| match t {
            CType::Bool | CType::Char { .. } => Some(1),
            CType::Int { bytes, .. } => Some(*bytes),
            _ => None,
        };
        let (a, b) = (self.scalar_type(a), self.scalar_type(b));
        match (a, b) {
            (CType::Pointer { .. }, CType::Pointer { .. }) | (CType::Void, CType::Void) => true,
            (CType::Float { bytes: x }, CType::Float { bytes: y }) => x == y,
            _ if width(a).is_some() => width(a) == width(b),
            _ => a == b,
        }
    }

    /// A type through typedefs, enums as their integer type.
    fn scalar_type<'t>(&'t self, ty: &'t CType) -> &'t CType {
        let ty = self.header.resolve(ty);
        if let CType::Named { name } = ty {
            if let Some(TypeDefKind::Enum { underlying, .. }) = self.header.types.get(name).map(|t| &t.kind) {
                return self.header.resolve(underlying);
            }
        }
        ty
    }

    /// What `...` turns a type into, when that is not the type itself: C's default
    /// argument promotions (small integers to `int`, `float` to `double`).
    fn promoted(&self, ty: &CType) -> Option<&'static str> {
        match self.scalar_type(ty) {
            CType::Bool | CType::Char { .. } => Some("int"),
            CType::Int { bytes, .. } if *bytes < 4 => Some("int"),
            CType::Float { bytes: 4 } => Some("double"),
            _ => None,
        }
    }
}

/// A convention as the header writes it, for messages.
fn conv(c: &CallConv) -> String {
    match c {
        CallConv::Other(n) => format!("calling convention {n}"),
        other => format!("{other:?}").to_lowercase(),
    }
}
