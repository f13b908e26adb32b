//! Handle types: which C types are handles, and the model's handle list.

use super::*;

impl<'a> Builder<'a> {
    /// The handle `ty` refers to and how many pointers lie between: 0 for the handle
    /// value itself, 1 for a pointer to it (`T **` the callee fills). A handle's `c_type`
    /// is either the pointee (`struct dev`, so the value is `struct dev *`) or a pointer
    /// typedef (`HANDLE`, so the value is `HANDLE`).
    pub(super) fn handle_ref(&self, ty: &CType) -> Option<(String, u32)> {
        self.spec.handles.keys().find_map(|h| self.handle_depth(h, ty).map(|d| (h.clone(), d)))
    }

    /// How many pointers lie between `ty` and handle `handle`'s value (see
    /// [`Builder::handle_ref`]), or `None` when `ty` is not made of that handle's type.
    pub(super) fn handle_depth(&self, handle: &str, ty: &CType) -> Option<u32> {
        let h = self.spec.handles.get(handle)?;
        let c = h.value.c_type.value.as_str();
        let names = [c.to_string(), format!("struct {c}"), c.trim_start_matches("struct ").to_string()];
        let value_is_pointer =
            matches!(self.header.resolve(&CType::Named { name: c.to_string() }), CType::Pointer { .. });
        let (mut t, mut levels) = (ty, 0u32);
        for _ in 0..16 {
            if let CType::Named { name } = t {
                if names.contains(name) {
                    return if value_is_pointer { Some(levels) } else { levels.checked_sub(1) };
                }
            }
            match t {
                CType::Named { name } => match self.header.types.get(name).map(|d| &d.kind) {
                    Some(TypeDefKind::Typedef { target }) => t = target,
                    _ => return None,
                },
                CType::Pointer { pointee, .. } => {
                    levels += 1;
                    t = pointee;
                }
                _ => return None,
            }
        }
        None
    }

    /// Whether a parameter of type `ty` may carry handle `handle` at `depth` pointers (0:
    /// the handle, 1: `T **`): its type is made of the handle's `c_type`, or it is untyped
    /// (`void *`, `void **`), which takes any handle. Else why not.
    pub(super) fn handle_fits(&self, handle: &str, ty: &CType, depth: u32) -> Result<(), String> {
        if self.handle_depth(handle, ty) == Some(depth) {
            return Ok(());
        }
        let mut t = self.header.resolve(ty);
        for _ in 0..=depth {
            match t {
                CType::Pointer { pointee, .. } => t = self.header.resolve(pointee),
                _ => break,
            }
        }
        if matches!(t, CType::Void) {
            return Ok(());
        }
        let c = self.spec.handles.get(handle).map_or("", |h| h.value.c_type.value.as_str());
        let what = match self.handle_ref(ty) {
            Some((other, d)) if d == depth => format!("it takes a `{other}` handle"),
            _ => format!("it is `{}`", describe(ty)),
        };
        Err(format!("{what}, not `{handle}` (`c_type: {c}`): a handle is checked against the pointer's type"))
    }

    /// The handle a value of type `ty` is.
    pub(super) fn handle_of(&self, ty: &CType) -> Option<String> {
        self.handle_ref(ty).filter(|(_, d)| *d == 0).map(|(h, _)| h)
    }

    /// The handle a `ty` parameter receives (`T **`).
    pub(super) fn out_handle_of(&self, ty: &CType) -> Option<String> {
        self.handle_ref(ty).filter(|(_, d)| *d == 1).map(|(h, _)| h)
    }

    pub(super) fn handles(&mut self) -> Vec<Handle> {
        let mut out = Vec::new();
        let mut by_type: BTreeMap<String, String> = BTreeMap::new();
        for (name, h) in &self.spec.handles {
            let c = &h.value.c_type.value;
            let bare = c.trim_start_matches("struct ");
            let known = self.header.types.contains_key(c)
                || self.header.types.contains_key(&format!("struct {bare}"));
            if !known {
                self.at_spec(
                    h.value.c_type.pos,
                    format!(
                        "handle `{name}`: the header has no type `{c}` among the types its functions use"
                    ),
                );
                continue;
            }
            if let Some(other) = by_type.insert(bare.to_string(), name.clone()) {
                self.at_spec(h.value.c_type.pos, format!("handles `{other}` and `{name}` both name `{c}`"));
                continue;
            }
            let mut closes = Vec::new();
            for close in &h.value.close {
                let Some(f) = self.header.function(&close.value) else {
                    let header = self.header;
                    let d = self.at_spec(
                        close.pos,
                        format!("handle `{name}`: `close: {}` names no function of the header", close.value),
                    );
                    if let Some(s) =
                        did_you_mean(&close.value, header.functions.iter().map(|f| f.name.as_str()))
                    {
                        d.hint = Some(format!("did you mean `{s}`?"));
                    }
                    continue;
                };
                let takes_handle =
                    f.params.len() == 1 && self.handle_of(&f.params[0].ty).as_deref() == Some(name.as_str());
                if !takes_handle {
                    self.at_spec(
                        close.pos,
                        format!("handle `{name}`: `{}` must take exactly one `{name}` to close it", f.name),
                    );
                    continue;
                }
                if !self.exports.code.contains_key(&f.name) {
                    self.at_spec(
                        close.pos,
                        format!("handle `{name}`: the library does not export `{}`", f.name),
                    );
                    continue;
                }
                closes.push(f.name.clone());
            }
            let mut invalid = Vec::new();
            for e in &h.value.invalid {
                match self.header.expressions.get(&e.value) {
                    Some(Ok(v @ (header::ConstValue::Pointer { .. } | header::ConstValue::Int { .. }))) => {
                        let n = match v {
                            header::ConstValue::Pointer { address } => i128::from(*address),
                            other => other.int().unwrap_or_default(),
                        };
                        // An address on the 32-bit target (`-1` is 0xffffffff).
                        match u32::try_from(n).or_else(|_| i32::try_from(n).map(|v| v as u32)) {
                            Ok(a) => invalid.push(a),
                            Err(_) => {
                                self.at_spec(
                                    e.pos,
                                    format!(
                                        "handle `{name}`: `invalid: {}` is {n}, not a 32-bit address",
                                        e.value
                                    ),
                                );
                            }
                        }
                    }
                    Some(Ok(_)) => {
                        self.at_spec(
                            e.pos,
                            format!("handle `{name}`: `invalid: {}` is not an address", e.value),
                        );
                    }
                    Some(Err(why)) => {
                        self.at_spec(
                            e.pos,
                            format!(
                                "handle `{name}`: `invalid: {}` is not a constant clang can evaluate: {why}",
                                e.value
                            ),
                        );
                    }
                    None => {
                        self.at_spec(
                            e.pos,
                            format!("handle `{name}`: `invalid: {}` was not evaluated", e.value),
                        );
                    }
                }
            }
            out.push(Handle { name: name.clone(), c_type: c.clone(), close: closes, invalid });
        }
        out
    }
}
