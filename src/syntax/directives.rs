//! Parser directives (`# syntax=`, `# escape=`, `# check=`), BuildKit's `directives.go`.
//!
//! Directives are only recognised in the leading block of the file: the first line that
//! is not a directive (a comment, a blank line, an instruction) ends the block.

use super::error::{ErrorKind, ParseError};

const VALID_DIRECTIVES: [&str; 3] = ["syntax", "escape", "check"];

pub(crate) struct DirectiveParser {
    pub escape: char,
    done: bool,
    seen: Vec<String>,
}

impl DirectiveParser {
    pub fn new() -> Self {
        DirectiveParser {
            escape: '\\',
            done: false,
            seen: Vec::new(),
        }
    }

    /// Looks at one line (line ending and leading whitespace removed). Returns the
    /// directive's name and value if the line is one.
    pub fn parse_line(
        &mut self,
        line: &str,
        line_no: usize,
    ) -> Result<Option<(String, String)>, ParseError> {
        if self.done {
            return Ok(None);
        }
        let Some((name, value)) = match_directive(line) else {
            self.done = true;
            return Ok(None);
        };
        let name = name.to_ascii_lowercase();
        if !VALID_DIRECTIVES.contains(&name.as_str()) {
            self.done = true;
            return Ok(None);
        }
        let error =
            |message: String| ParseError::new(ErrorKind::Directive, line_no, line_no, message);
        if self.seen.contains(&name) {
            return Err(error(format!(
                "only one {name} parser directive can be used"
            )));
        }
        self.seen.push(name.clone());
        if name == "escape" {
            self.escape = match value {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(error(format!(
                        "invalid escape token '{other}' does not match ` or \\"
                    )))
                }
            };
        }
        Ok(Some((name, value.to_string())))
    }
}

/// Go's RE2 `\s`: space, tab, newline, form feed, carriage return.
fn is_re2_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

/// `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`
fn match_directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start_matches(is_re2_space);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let (name, rest) = rest.split_at(name_len);
    let rest = rest.trim_start_matches(is_re2_space).strip_prefix('=')?;
    let value = rest.trim_matches(is_re2_space);
    if value.is_empty() {
        return None;
    }
    Some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_buildkit() {
        assert_eq!(match_directive("# escape=`"), Some(("escape", "`")));
        assert_eq!(match_directive("#ESCAPE = \\ "), Some(("ESCAPE", "\\")));
        assert_eq!(
            match_directive("# syntax=docker/dockerfile:1"),
            Some(("syntax", "docker/dockerfile:1"))
        );
        assert_eq!(match_directive("# escape="), None);
        assert_eq!(match_directive("# a comment"), None);
        assert_eq!(match_directive("# 1x=y"), None);
    }

    #[test]
    fn duplicate_and_invalid() {
        let mut parser = DirectiveParser::new();
        assert!(parser.parse_line("# escape=`", 1).unwrap().is_some());
        let err = parser.parse_line("# escape=\\", 2).unwrap_err();
        assert_eq!(err.message, "only one escape parser directive can be used");
        let mut parser = DirectiveParser::new();
        let err = parser.parse_line("# escape=x", 1).unwrap_err();
        assert_eq!(
            err.message,
            "invalid escape token 'x' does not match ` or \\"
        );
    }
}
