//! Unconfirmed guesses: `dllgen init` marks every line it guessed with a `# review`
//! comment, and such a line is not a confirmed spec line until the marker is removed.
//! `check` lists them as warnings; `generate` refuses them (`--accept-guesses` overrides).

use super::Pos;

/// A line of the spec carrying a `# review` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unconfirmed {
    /// Where the line's content starts.
    pub pos: Pos,
    /// The line, without the comment.
    pub line: String,
    /// What the comment says after `# review` (may be empty).
    pub reason: String,
}

/// Every line of `source` whose comment starts with `# review`. A `#` starts a comment
/// only outside quotes and at the start of the line or after whitespace, as YAML reads it.
pub fn find(source: &str) -> Vec<Unconfirmed> {
    let mut out = Vec::new();
    for (i, line) in crate::diag::lines(source).enumerate() {
        let Some(at) = comment_start(line) else { continue };
        let comment = &line[at..];
        let Some(rest) = comment.strip_prefix("# review") else { continue };
        if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let content = line[..at].trim_end();
        let indent = line.len() - line.trim_start().len();
        out.push(Unconfirmed {
            pos: Pos { line: i + 1, column: line[..indent].chars().count() + 1 },
            line: content.trim_start().to_string(),
            reason: rest.trim_start_matches(':').trim().to_string(),
        });
    }
    out
}

/// The byte offset of the line's comment, if it has one.
fn comment_start(line: &str) -> Option<usize> {
    let (mut single, mut double, mut escaped) = (false, false, false);
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        if double {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => double = false,
                _ => {}
            }
        } else if single {
            // `''` inside single quotes is a quote: closing and reopening reads the same.
            if c == '\'' {
                single = false;
            }
        } else {
            match c {
                '#' if previous.is_whitespace() => return Some(i),
                '"' => double = true,
                '\'' => single = true,
                _ => {}
            }
        }
        previous = c;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_comments_outside_quotes_mark_their_line() {
        let spec = "functions:\n  f:\n    params:\n      a: out  # review: or inout\n      b: { in_string: utf8 } # review\n      c: in # reviewed by Ann\n      d: \"x # review\"\n      e: 'it''s # review'\n      g: in  # a note # review\n# review: a whole-line note\n";
        let found = find(spec);
        let shown: Vec<(usize, usize, &str, &str)> =
            found.iter().map(|u| (u.pos.line, u.pos.column, u.line.as_str(), u.reason.as_str())).collect();
        assert_eq!(
            shown,
            [
                (4, 7, "a: out", "or inout"),
                (5, 7, "b: { in_string: utf8 }", ""),
                (10, 1, "", "a whole-line note")
            ]
        );
    }
}
