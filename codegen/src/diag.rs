//! Diagnostics for users: every problem with its file:line:col, a message, and a hint,
//! collected so that one run reports all of them.

use std::borrow::Cow;
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
    /// The part of the source line shown under the message, with its caret.
    pub snippet: Option<Snippet>,
    /// Printed as a warning: reported, but not a failure.
    pub warning: bool,
}

/// At most this many characters of a source line are shown: a spec or header written on
/// one long line (or a file of garbage) must not print megabytes per problem.
const SNIPPET_WIDTH: usize = 140;
/// Characters shown before the caret's when a line is cut.
const SNIPPET_BEFORE: usize = 60;

/// A window of a source line, ready to print: control characters escaped, cut ends
/// marked with `…`, and the padding that puts a caret under the problem's column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The text shown.
    pub text: String,
    /// Spaces (tabs where the text has tabs) up to the caret.
    pub pad: String,
}

impl Snippet {
    /// The window of `line` around the 1-based character `column`.
    fn new(line: &str, column: usize) -> Snippet {
        let at = column.saturating_sub(1);
        let start = at.saturating_sub(SNIPPET_BEFORE);
        let mut shown = line.chars().skip(start);
        let (mut text, mut pad) = (String::new(), String::new());
        if start > 0 {
            text.push('…');
            pad.push(' ');
        }
        for (i, c) in shown.by_ref().take(SNIPPET_WIDTH).enumerate() {
            let piece = text.len();
            match c {
                '\t' => text.push('\t'),
                c if needs_escape(c) => text.extend(c.escape_debug()),
                c => text.push(c),
            }
            // The caret goes under the first character of an escape (`\u{1b}`).
            if start + i < at {
                match c {
                    '\t' => pad.push('\t'),
                    _ => pad.extend(std::iter::repeat_n(' ', text[piece..].chars().count())),
                }
            }
        }
        if shown.next().is_some() {
            text.push('…');
        }
        Snippet { text, pad }
    }
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
        let snippet = source.and_then(|s| nth_line(s, line)).map(|l| Snippet::new(l, column));
        Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
            hint: None,
            snippet,
            warning: false,
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// The 1-based `line` of `source`. YAML and C both end a line at `\r\n`, `\n` or a lone
/// `\r`, so the positions their parsers report count lines that way.
fn nth_line(source: &str, line: usize) -> Option<&str> {
    lines(source).nth(line.checked_sub(1)?)
}

/// The lines of `source`, counted as [`nth_line`] counts them.
pub fn lines(source: &str) -> impl Iterator<Item = &str> {
    source.split('\n').flat_map(|l| l.strip_suffix('\r').unwrap_or(l).split('\r'))
}

/// The message, hint and file name may quote the input (a key, a path): they are printed
/// through [`printable`], so a spec cannot send escape sequences to the terminal.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, message) = (self.file.display().to_string(), printable(&self.message));
        let file = printable(&file);
        let level = if self.warning { "warning" } else { "error" };
        if self.line == 0 {
            write!(f, "{file}: {level}: {message}")?;
        } else {
            write!(f, "{file}:{}:{}: {level}: {message}", self.line, self.column)?;
        }
        if let Some(s) = &self.snippet {
            write!(f, "\n    {}\n    {}^", s.text, s.pad)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", printable(hint))?;
        }
        Ok(())
    }
}

/// Text from an input (names in a binary, keys in a spec), safe to print: control
/// characters and the bidirectional overrides are escaped (`\n`, `\u{1b}`, `\u{202e}`),
/// so a crafted name can neither break a line, send terminal escape sequences, nor
/// reorder what is shown.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if needs_escape(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether [`printable`] escapes `c`.
pub fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Problems printed (and given their source line); the rest are only counted. A file of
/// garbage can hold millions of problems, and finding each one's line is a pass over it.
pub const SHOWN: usize = 200;

/// Every problem found, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().take(SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        if let Some(more) = self.0.len().checked_sub(SHOWN).filter(|n| *n > 0) {
            write!(
                f,
                "\n... and {more} more problem{} not shown (fix these first)",
                if more == 1 { "" } else { "s" }
            )?;
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

    /// The two snippet lines of `d` as printed.
    fn shown(d: &Diagnostic) -> (String, String) {
        let text = d.to_string();
        let mut lines = text.lines().skip(1);
        (lines.next().unwrap().to_string(), lines.next().unwrap().to_string())
    }

    #[test]
    fn a_long_line_is_cut_around_the_column() {
        let line = format!("{}é{}", "x".repeat(5000), "y".repeat(5000));
        let d = Diagnostic::at(Path::new("s.yaml"), Some(&line), 1, 5001, "here");
        let (text, caret) = shown(&d);
        assert!(text.starts_with("    …") && text.ends_with('…'), "{text}");
        assert_eq!(text.chars().count(), 4 + 1 + SNIPPET_WIDTH + 1);
        // The caret's column, in characters, is the é's.
        let at = caret.chars().count() - 1;
        assert_eq!(caret.chars().last(), Some('^'));
        assert_eq!(text.chars().nth(at), Some('é'), "{text}\n{caret}");
        // Near the start nothing is cut before.
        let (text, _) = shown(&Diagnostic::at(Path::new("s.yaml"), Some(&line), 1, 3, "here"));
        assert!(text.starts_with("    xxx") && text.ends_with('…'));
    }

    #[test]
    fn control_characters_are_escaped_and_tabs_keep_the_caret_aligned() {
        let source = "\tkey\u{1b}[31m: \u{202e}x\n";
        let d = Diagnostic::at(Path::new("s.yaml"), Some(source), 1, 12, "unknown key `key\u{1b}[31m`");
        assert_eq!(
            d.to_string(),
            "s.yaml:1:12: error: unknown key `key\\u{1b}[31m`\n    \tkey\\u{1b}[31m: \\u{202e}x\n    \t               ^"
        );
        assert_eq!(printable("plain \"text\""), "plain \"text\"");
        assert_eq!(printable("a\nb\r"), "a\\nb\\r");
    }

    #[test]
    fn lines_end_at_a_lone_carriage_return_too() {
        let source = "a\rb\r\nc\nd";
        let lines: Vec<_> = (1..=5).map(|n| nth_line(source, n)).collect();
        assert_eq!(lines, [Some("a"), Some("b"), Some("c"), Some("d"), None]);
        assert_eq!(nth_line(source, 0), None);
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
