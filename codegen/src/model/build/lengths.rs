//! Length expressions: their operands are checked, and the integers they name become
//! hidden `Length` (or `OutLength`) parameters.

use super::*;

impl<'a> Builder<'a> {
    /// Checks every length's parameters and turns the integers they name into `Length`
    /// (and out-parameters receiving a filled length into `OutLength`).
    pub(super) fn resolve_lengths(
        &mut self,
        f: &header::Function,
        params: &mut [Param],
        origins: &[Origin<'_>],
    ) -> bool {
        let mut ok = true;
        let mut sizes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut out_lengths: BTreeMap<String, String> = BTreeMap::new();
        // `*count` as a buffer's whole length: the pointer's parameter → (buffer, the count
        // coming back is what an in-buffer consumed).
        let mut inout_lengths: BTreeMap<String, (String, bool)> = BTreeMap::new();
        // Parameters inside a compound length (`rows * cols`) stay visible: the client
        // cannot work them back out of a buffer's length.
        let mut compound: BTreeSet<String> = BTreeSet::new();
        for (i, p) in params.iter().enumerate() {
            let (exprs, filled): (Vec<&Expr>, Option<&Filled>) = match &p.kind {
                Kind::InBuffer { len: Some(len), .. }
                | Kind::InoutBuffer { len, .. }
                | Kind::InStrings { len: Some(len), .. }
                | Kind::InHandles { len, .. } => (vec![len], None),
                Kind::OutBuffer { capacity, filled, .. } => (vec![capacity], Some(filled)),
                _ => continue,
            };
            for e in exprs {
                for leaf in e.leaves() {
                    let problem = match (self.length_leaf_problem(leaf, params), leaf) {
                        (Some(problem), _) => Some(problem),
                        (None, Expr::Deref { name }) if !matches!(e, Expr::Deref { .. }) => {
                            Some(LengthProblem::DerefInside(name.clone()))
                        }
                        (None, Expr::Deref { name }) => inout_lengths
                            .insert(name.clone(), (p.name.clone(), filled.is_none()))
                            .map(|_| LengthProblem::DerefTwice(name.clone())),
                        (None, Expr::Param { name }) => {
                            if !matches!(e, Expr::Param { .. }) {
                                compound.insert(name.clone());
                            } else if let Some(Kind::Value { .. }) =
                                params.iter().find(|q| q.name == *name).map(|q| &q.kind)
                            {
                                sizes.entry(name.clone()).or_default().push(p.name.clone());
                            }
                            None
                        }
                        _ => None,
                    };
                    if let Some(problem) = problem {
                        ok = false;
                        self.length_error(f, &p.name, &origins[i], problem, params);
                    }
                }
            }
            if let Kind::OutBuffer { grow: Some(g), capacity, .. } = &p.kind {
                let int_ret = matches!(self.value(&f.ret), Ok(Value::Scalar { scalar: Scalar::Int { .. } }));
                // A count the library writes may say the size it needs (`*lpcbData`).
                let leaves_ok =
                    g.leaves().into_iter().all(|leaf| after_call_leaf(leaf, params, int_ret, true));
                let one_param = matches!(capacity, Expr::Param { .. } | Expr::Deref { .. });
                let problem = match (leaves_ok, one_param) {
                    (false, _) => Some(
                        "the size it grows to may use `return` (an integer result) and integer parameters",
                    ),
                    (true, false) => {
                        Some("a buffer that grows needs one parameter as its capacity, which the host sets")
                    }
                    _ => None,
                };
                if let Some(problem) = problem {
                    ok = false;
                    self.at_header(
                        &f.location,
                        format!(
                            "`{}` parameter `{}` (capacity `{capacity}`, grows to `{g}`): {problem}",
                            f.name, p.name
                        ),
                    );
                }
            }
            if let Some(Filled::Expr { expr }) = filled {
                // `return` and integers the caller passes (or that are lengths).
                let int_ret = matches!(self.value(&f.ret), Ok(Value::Scalar { scalar: Scalar::Int { .. } }));
                for leaf in expr.leaves() {
                    let fine = after_call_leaf(leaf, params, int_ret, false);
                    if !fine {
                        ok = false;
                        self.at_header(
                            &f.location,
                            format!(
                                "the filled length `{expr}` of `{}` parameter `{}` may use `return` (an integer result) and integer parameters, not `{leaf}`",
                                f.name, p.name
                            ),
                        );
                        break;
                    }
                }
            }
            if let Some(Filled::Param { name }) = filled {
                // The same count as the capacity (`*destLen` in, filled length out).
                if inout_lengths.get(name).is_some_and(|(b, _)| *b == p.name) {
                    continue;
                }
                match params.iter().find(|q| q.name == *name).map(|q| &q.kind) {
                    Some(Kind::Out { value: Value::Scalar { scalar: Scalar::Int { .. } }, .. }) => {
                        out_lengths.insert(name.clone(), p.name.clone());
                    }
                    _ => {
                        ok = false;
                        self.length_error(
                            f,
                            &p.name,
                            &origins[i],
                            LengthProblem::FilledInto(name.clone()),
                            params,
                        );
                    }
                }
            }
        }
        for (i, p) in params.iter_mut().enumerate() {
            let explicit_scalar = matches!(&origins[i], Origin::Spec(s) if s.value.kind == ParamKind::Scalar);
            let hidden = !explicit_scalar && !compound.contains(&p.name);
            if let (Some(of), true, Kind::Value { value: Value::Scalar { scalar } }) =
                (sizes.remove(&p.name), hidden, &p.kind)
            {
                p.kind = Kind::Length { value: scalar.clone(), of };
            } else if let Some((of, consumed)) = inout_lengths.remove(&p.name) {
                if let Kind::Inout { value: Value::Scalar { scalar }, .. } = &p.kind {
                    p.kind = Kind::InoutLength { value: scalar.clone(), of, consumed };
                }
            } else if let Some(of) = out_lengths.remove(&p.name) {
                if let Kind::Out { value: Value::Scalar { scalar }, .. } = &p.kind {
                    p.kind = Kind::OutLength { value: scalar.clone(), of };
                }
            }
        }
        ok
    }

    /// What is wrong with one operand of a length expression, if anything: a parameter
    /// must be an integer; `param.field` must name an integer field of a struct parameter.
    pub(super) fn length_leaf_problem(&self, leaf: &Expr, params: &[Param]) -> Option<LengthProblem> {
        let kind_of = |name: &str| params.iter().find(|q| q.name == name).map(|q| &q.kind);
        match leaf {
            Expr::Const { .. } | Expr::Binary { .. } => None,
            Expr::Deref { name } => match kind_of(name) {
                None => Some(LengthProblem::NoSuchParam(name.clone())),
                Some(Kind::Inout { value: Value::Scalar { scalar: Scalar::Int { .. } }, .. }) => None,
                Some(_) => Some(LengthProblem::NotAnIntegerPointer(name.clone())),
            },
            Expr::Param { name } => match kind_of(name) {
                None => Some(LengthProblem::NoSuchParam(name.clone())),
                Some(
                    Kind::Value { value: Value::Scalar { scalar: Scalar::Int { .. } } } | Kind::Length { .. },
                ) => None,
                Some(_) => Some(LengthProblem::NotAnInteger(name.clone())),
            },
            Expr::Field { param, field } => {
                let strukt = match kind_of(param) {
                    None => return Some(LengthProblem::NoSuchParam(param.clone())),
                    Some(
                        Kind::Value { value: Value::Struct { name } }
                        | Kind::In { value: Value::Struct { name }, .. }
                        | Kind::Inout { value: Value::Struct { name }, .. },
                    ) => name,
                    Some(_) => {
                        return Some(LengthProblem::NotAStruct { param: param.clone(), field: field.clone() })
                    }
                };
                let fd = self.structs.get(strukt).and_then(|s| s.fields.iter().find(|x| x.name == *field));
                let (param, field) = (param.clone(), field.clone());
                match fd.map(|x| &x.ty) {
                    Some(FieldType::Value { value: Value::Scalar { scalar: Scalar::Int { .. } } }) => None,
                    Some(_) => Some(LengthProblem::NotAnIntegerField { param, field }),
                    None => Some(LengthProblem::NoSuchField { param, field, strukt: strukt.clone() }),
                }
            }
        }
    }

    pub(super) fn length_error(
        &mut self,
        f: &header::Function,
        param: &str,
        origin: &Origin<'_>,
        problem: LengthProblem,
        params: &[Param],
    ) {
        let message = format!("the length of `{param}` in `{}` {}", f.name, problem.words(&f.name));
        let d = match origin {
            Origin::Spec(entry) => self.at_spec(entry.pos, message),
            Origin::Header => self.at_header(&f.location, message),
        };
        if let LengthProblem::NoSuchParam(word) = &problem {
            // The other parameters: a buffer's length is not the buffer.
            let names = params.iter().map(|q| q.name.as_str()).filter(|n| *n != param);
            if let Some(s) = did_you_mean(word, names) {
                d.hint = Some(format!("did you mean `{s}`?"));
            }
        }
    }
}

/// What is wrong with a buffer's length.
pub(super) enum LengthProblem {
    /// An operand names no parameter of the function.
    NoSuchParam(String),
    /// An operand names a parameter that is not an integer.
    NotAnInteger(String),
    /// `param.field` where `param` is not a struct passed in.
    NotAStruct { param: String, field: String },
    /// `param.field` names a field that is not an integer.
    NotAnIntegerField { param: String, field: String },
    /// `param.field` names no field of the struct.
    NoSuchField { param: String, field: String, strukt: String },
    /// The filled count goes to a parameter that is not an integer out-parameter.
    FilledInto(String),
    /// `*name` where `name` is not a pointer to an integer read and written.
    NotAnIntegerPointer(String),
    /// `*name` inside a larger expression (the count written back could not be undone).
    DerefInside(String),
    /// `*name` as the length of two buffers.
    DerefTwice(String),
}

impl LengthProblem {
    fn words(&self, function: &str) -> String {
        match self {
            LengthProblem::NoSuchParam(name) => {
                format!("names `{name}`, which is not a parameter of `{function}`")
            }
            LengthProblem::NotAnInteger(name) => format!("names `{name}`, which is not an integer parameter"),
            LengthProblem::NotAStruct { param, field } => {
                format!("names `{param}.{field}`, but `{param}` is not a struct passed in")
            }
            LengthProblem::NotAnIntegerField { param, field } => {
                format!("names `{param}.{field}`, which is not an integer field")
            }
            LengthProblem::NoSuchField { param, field, strukt } => {
                format!("names `{param}.{field}`, but `{strukt}` has no field `{field}`")
            }
            LengthProblem::NotAnIntegerPointer(name) => format!(
                "reads `*{name}`, but `{name}` is not a pointer to an integer the library reads and writes (`size_t *{name}`)"
            ),
            LengthProblem::DerefInside(name) => {
                format!("uses `*{name}` inside an expression: a count written back must be the whole length")
            }
            LengthProblem::DerefTwice(name) => format!("reads `*{name}`, which already sizes another buffer"),
            LengthProblem::FilledInto(name) => {
                format!("is filled into `{name}`, which must be an integer out-parameter (`size_t *{name}`)")
            }
        }
    }
}

/// Whether `leaf` may be part of what the host computes after a call (a filled length, the
/// size a buffer grows to): a number, `return` (when the result is an integer), an integer
/// the caller passes or a length, and with `counts`, `*param` of a count the library writes.
fn after_call_leaf(leaf: &Expr, params: &[Param], int_ret: bool, counts: bool) -> bool {
    let kind = |name: &str| params.iter().find(|q| q.name == name).map(|q| &q.kind);
    match leaf {
        Expr::Const { .. } => true,
        Expr::Param { name } if name == "return" => int_ret,
        Expr::Param { name } => matches!(
            kind(name),
            Some(Kind::Value { value: Value::Scalar { scalar: Scalar::Int { .. } } } | Kind::Length { .. })
        ),
        Expr::Deref { name } if counts => {
            matches!(
                kind(name),
                Some(Kind::Inout { value: Value::Scalar { scalar: Scalar::Int { .. } }, .. })
            )
        }
        _ => false,
    }
}
