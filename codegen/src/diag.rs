//! Diagnostics for users: every problem with its file:line:col, a message, and a hint,
//! collected so that one run reports all of them.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a spec, a header or a library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line; 0 when the problem has no position in the file.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The source line, for showing under the message.
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// A problem at `line:column` of `file`, whose text is `source` (for the snippet).
    pub fn at(
        file: &Path,
        source: Option<&str>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        let source_line = source.and_then(|s| s.lines().nth(line.wrapping_sub(1))).map(str::to_string);
        Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint: None,
            source_line,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: error: {}", self.file.display(), self.message)?;
        } else {
            write!(f, "{}:{}:{}: error: {}", self.file.display(), self.line, self.column, self.message)?;
        }
        if let Some(line) = &self.source_line {
            let pad: String = line
                .chars()
                .take(self.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n    {line}\n    {pad}^")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("in_strng", ["in_string", "in_buffer", "out"]), Some("in_string"));
        assert_eq!(did_you_mean("lenght", ["len", "length", "units"]), Some("length"));
        assert_eq!(did_you_mean("zzz", ["in", "out"]), None);
    }

    #[test]
    fn display_has_position_snippet_and_hint() {
        let d = Diagnostic::at(Path::new("s.yaml"), Some("a: 1\nbad: 2\n"), 2, 1, "unknown key `bad`")
            .hint("did you mean `bar`?");
        assert_eq!(
            d.to_string(),
            "s.yaml:2:1: error: unknown key `bad`\n    bad: 2\n    ^\n  hint: did you mean `bar`?"
        );
    }
}
