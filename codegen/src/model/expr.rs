//! Length expressions: `len`, `16`, `info.count`, `rows * cols`, `(n + 1) * 2`, and `*len`
//! (the integer behind a pointer parameter: a count passed in and written back),
//! `sizeof(T)`-free on purpose (counts are in elements or bytes, chosen by `units`).

use serde::Serialize;
use std::fmt;

/// A parsed length expression over parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expr {
    /// An integer constant.
    Const {
        /// Its value.
        value: i64,
    },
    /// A parameter's value.
    Param {
        /// The parameter's name.
        name: String,
    },
    /// The integer a pointer parameter points to (`*len`): its value before the call; the
    /// library may write a count back through it.
    Deref {
        /// The parameter's name.
        name: String,
    },
    /// A field of a struct parameter (by value or by pointer).
    Field {
        /// The parameter's name.
        param: String,
        /// The field's name.
        field: String,
    },
    /// `left op right`.
    Binary {
        /// Left operand.
        left: Box<Expr>,
        /// `+`, `-`, `*` or `/`.
        op: char,
        /// Right operand.
        right: Box<Expr>,
    },
}

impl Expr {
    /// The constants, parameters and fields the expression is made of.
    pub fn leaves(&self) -> Vec<&Expr> {
        match self {
            Expr::Binary { left, right, .. } => {
                let mut v = left.leaves();
                v.extend(right.leaves());
                v
            }
            leaf => vec![leaf],
        }
    }

    /// Its value when it reads no parameter (`16 * 16`); `None` when it does, or when the
    /// arithmetic overflows or divides by zero.
    pub fn constant(&self) -> Option<i128> {
        match self {
            Expr::Const { value } => Some(i128::from(*value)),
            Expr::Binary { left, op, right } => {
                let (a, b) = (left.constant()?, right.constant()?);
                match op {
                    '+' => a.checked_add(b),
                    '-' => a.checked_sub(b),
                    '*' => a.checked_mul(b),
                    _ => a.checked_div(b),
                }
            }
            Expr::Param { .. } | Expr::Deref { .. } | Expr::Field { .. } => None,
        }
    }

    /// Every parameter the expression reads.
    pub fn params(&self) -> Vec<&str> {
        match self {
            Expr::Const { .. } => Vec::new(),
            Expr::Param { name } | Expr::Deref { name } => vec![name],
            Expr::Field { param, .. } => vec![param],
            Expr::Binary { left, right, .. } => {
                let mut v = left.params();
                v.extend(right.params());
                v
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Const { value } => write!(f, "{value}"),
            Expr::Param { name } => write!(f, "{name}"),
            Expr::Deref { name } => write!(f, "*{name}"),
            Expr::Field { param, field } => write!(f, "{param}.{field}"),
            Expr::Binary { left, op, right } => write!(f, "({left} {op} {right})"),
        }
    }
}

/// Longer expressions are refused: no real length needs more, and it bounds the parser's
/// recursion.
const MAX_LEN: usize = 200;
const MAX_DEPTH: usize = 16;

/// Parses `text`; the error says what was expected where.
pub fn parse(text: &str) -> Result<Expr, String> {
    if text.len() > MAX_LEN {
        return Err(format!("the length expression is longer than {MAX_LEN} characters"));
    }
    let tokens = tokenize(text)?;
    let mut p = Parser { tokens: &tokens, at: 0, depth: 0 };
    let e = p.sum()?;
    match p.tokens.get(p.at) {
        None => Ok(e),
        Some(t) => Err(format!("unexpected `{t}` in length expression `{text}`")),
    }
}

fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if "+-*/().".contains(c) {
            out.push(c.to_string());
            i += 1;
        } else {
            return Err(format!(
                "`{c}` cannot appear in a length expression (`{text}`); use parameter names, numbers, `.`, + - * / and parentheses"
            ));
        }
    }
    if out.is_empty() {
        return Err("the length expression is empty".into());
    }
    Ok(out)
}

struct Parser<'t> {
    tokens: &'t [String],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn sum(&mut self) -> Result<Expr, String> {
        let mut e = self.product()?;
        while let Some(op @ ("+" | "-")) = self.peek() {
            let op = op.chars().next().unwrap_or('+');
            self.at += 1;
            e = Expr::Binary { left: Box::new(e), op, right: Box::new(self.product()?) };
        }
        Ok(e)
    }

    fn product(&mut self) -> Result<Expr, String> {
        let mut e = self.atom()?;
        while let Some(op @ ("*" | "/")) = self.peek() {
            let op = op.chars().next().unwrap_or('*');
            self.at += 1;
            e = Expr::Binary { left: Box::new(e), op, right: Box::new(self.atom()?) };
        }
        Ok(e)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        let Some(t) = self.peek().map(str::to_string) else {
            return Err("the length expression ends too early".into());
        };
        self.at += 1;
        if t == "(" {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(format!("the length expression nests parentheses deeper than {MAX_DEPTH}"));
            }
            let e = self.sum()?;
            self.depth -= 1;
            if self.peek() != Some(")") {
                return Err("a `(` in the length expression is never closed".into());
            }
            self.at += 1;
            return Ok(e);
        }
        if t == "*" {
            let name = self.peek().filter(|n| n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'));
            let Some(name) = name.map(str::to_string) else {
                return Err("`*` in a length must be followed by a parameter name (`*len`)".into());
            };
            self.at += 1;
            return Ok(Expr::Deref { name });
        }
        if let Ok(value) = t.parse::<i64>() {
            return Ok(Expr::Const { value });
        }
        if t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            if self.peek() == Some(".") {
                self.at += 1;
                let field =
                    self.peek().filter(|f| f.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'));
                let Some(field) = field.map(str::to_string) else {
                    return Err(format!("`{t}.` must be followed by a field name"));
                };
                self.at += 1;
                return Ok(Expr::Field { param: t, field });
            }
            return Ok(Expr::Param { name: t });
        }
        Err(format!("unexpected `{t}` in the length expression"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_specs_and_sal_write() {
        assert_eq!(parse("len").unwrap(), Expr::Param { name: "len".into() });
        assert_eq!(parse("16").unwrap(), Expr::Const { value: 16 });
        assert_eq!(parse("info.count").unwrap(), Expr::Field { param: "info".into(), field: "count".into() });
        assert_eq!(parse("rows * cols + 1").unwrap().to_string(), "((rows * cols) + 1)");
        assert_eq!(parse("(n + 1) * 2").unwrap().to_string(), "((n + 1) * 2)");
        assert_eq!(parse("a * b").unwrap().params(), ["a", "b"]);
        assert_eq!(parse("*destLen").unwrap(), Expr::Deref { name: "destLen".into() });
        assert_eq!(parse("16 * (8 + 8)").unwrap().constant(), Some(256));
        assert_eq!(parse("n * 2").unwrap().constant(), None);
        assert_eq!(parse("1 / 0").unwrap().constant(), None);
        assert_eq!(parse(" * n").unwrap().to_string(), "*n");
    }

    #[test]
    fn rejects_what_it_cannot_evaluate() {
        assert!(parse("* 2").is_err());
        assert!(parse("**len").is_err());
        assert!(parse("n +").is_err());
        assert!(parse("(n").is_err());
        assert!(parse("sizeof(int)").is_err());
        assert!(parse("a[1]").unwrap_err().contains("cannot appear"));
        assert!(parse("").is_err());
        assert!(parse(&format!("{}n{}", "(".repeat(5000), ")".repeat(5000))).is_err());
        assert!(parse(&vec!["n"; 20_000].join("+")).is_err());
        assert!(parse(&format!("{}n{}", "(".repeat(10), ")".repeat(10))).is_ok());
    }
}
