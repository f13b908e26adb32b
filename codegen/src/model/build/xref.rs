//! The spec's own references: `structs:` entries and names that match nothing.

use super::*;

impl<'a> Builder<'a> {
    /// Finds the header struct each `structs:` entry describes (a typedef name or a tag) and
    /// checks that the fields it names exist.
    pub(super) fn resolve_struct_specs(&mut self) {
        let spec = self.spec;
        for (key, st) in &spec.structs {
            // A view: another set of field kinds over a header struct's layout.
            let view = st.value.view_of.as_ref();
            if let Some(v) = view {
                if self.header.types.contains_key(key.as_str()) {
                    self.at_spec(st.pos, format!("the view `{key}` has the name of a type of the header"))
                        .hint = Some("give the view a name of its own".into());
                    continue;
                }
                if !self.header.types.contains_key(v.value.as_str()) {
                    self.at_spec(v.pos, format!("`view_of: {}` names no struct of the header", v.value));
                    continue;
                }
            }
            let mut name = view.map_or(key.as_str(), |v| v.value.as_str());
            for _ in 0..16 {
                match self.header.types.get(name).map(|t| &t.kind) {
                    Some(TypeDefKind::Typedef { target: CType::Named { name: next } }) => name = next,
                    _ => break,
                }
            }
            let fields = match self.header.types.get(name).map(|t| &t.kind) {
                Some(TypeDefKind::Struct { fields } | TypeDefKind::Union { fields }) => fields,
                _ => {
                    self.at_spec(
                        st.pos,
                        format!("the header has no struct `{key}` among the types its functions use"),
                    )
                    .hint = Some("name it as the header does: a typedef name, or `struct tag`".into());
                    continue;
                }
            };
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            for (field, fs) in &st.value.fields {
                if !names.contains(&field.as_str()) {
                    let d = self.at_spec(fs.pos, format!("`{key}` has no field `{field}`"));
                    d.hint = Some(match did_you_mean(field, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("its fields are: {}", names.join(", ")),
                    });
                }
            }
            if view.is_some() {
                self.views.insert(key.clone(), name.to_string());
                self.struct_specs.insert(key.clone(), st);
            } else {
                self.struct_specs.insert(name.to_string(), st);
            }
        }
    }

    /// Spec entries that name nothing.
    pub(super) fn spec_references(&mut self) {
        let names: Vec<&str> = self.header.functions.iter().map(|f| f.name.as_str()).collect();
        for (name, fs) in &self.spec.functions {
            let Some(f) = self.header.function(name) else {
                if let Some(declare) = &fs.value.declare {
                    self.at_spec(declare.pos, format!("`declare` must declare a function named `{name}`"))
                        .hint = Some(format!("write its prototype with that name: `int {name}(...)`"));
                    continue;
                }
                let d = self.at_spec(
                    fs.pos,
                    format!("the spec describes `{name}`, which the header does not declare"),
                );
                if let Some(s) = did_you_mean(name, names.iter().copied()) {
                    d.hint = Some(format!("did you mean `{s}`?"));
                }
                continue;
            };
            if let (Some(of), false) = (&fs.value.variant_of, f.from_spec) {
                self.at_spec(
                    of.pos,
                    format!("`{name}` is declared by the header: a variant needs a name of its own"),
                )
                .hint = Some(format!("name it after its use, e.g. `{name}_variant`"));
                continue;
            }
            let params: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
            for (p, ps) in &fs.value.params {
                if !params.contains(&p.as_str()) {
                    let d = self.at_spec(ps.pos, format!("`{name}` has no parameter `{p}`"));
                    d.hint = Some(match did_you_mean(p, params.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("its parameters are: {}", params.join(", ")),
                    });
                }
            }
        }
        for (name, cb) in &self.spec.callbacks {
            if self.callback_typedef(&CType::Named { name: name.clone() }).is_none() {
                self.at_spec(cb.pos, format!("`{name}` is not a function-pointer typedef of the header"));
            }
        }
    }
}
