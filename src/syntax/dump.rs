//! BuildKit's `Node.Dump()` format, used by the conformance tests.

use std::fmt::Write;

use super::ast::{Dockerfile, Instruction, Keyword};

impl Dockerfile {
    /// The whole AST as BuildKit's `Result.AST.Dump()` prints it.
    pub fn dump(&self) -> String {
        let lines: Vec<String> = self
            .instructions
            .iter()
            .map(|instruction| format!("({})", instruction.dump()))
            .collect();
        lines.join("\n")
    }
}

impl Instruction {
    /// This instruction as BuildKit's `Node.Dump()` prints it.
    pub fn dump(&self) -> String {
        let mut out = self.keyword.value.to_lowercase();
        if !self.flags.is_empty() {
            let flags: Vec<String> = self.flags.iter().map(|f| go_quote(&f.value)).collect();
            let _ = write!(out, " [{}]", flags.join(" "));
        }
        if self.kind == Keyword::Onbuild {
            if let Some(inner) = &self.onbuild {
                let _ = write!(out, " ({})", inner.dump());
            }
        }
        for arg in &self.args {
            out.push(' ');
            out.push_str(&go_quote(&arg.value));
        }
        out.trim_matches(char::is_whitespace).to_string()
    }
}

/// Go's `strconv.Quote`: a double-quoted string with Go escapes.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `unicode.IsPrint` without Unicode tables: everything but
/// controls, non-ASCII spaces, common format characters, private use and noncharacters.
fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(u,
        0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x200B..=0x200F
        | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0xE000..=0xF8FF | 0xFFFE | 0xFFFF | 0xE0001 | 0xE0020..=0xE007F | 0xF0000..)
}

#[cfg(test)]
mod tests {
    use super::go_quote;

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_quote("tab\there\n"), r#""tab\there\n""#);
        assert_eq!(go_quote("café — 日本"), "\"café — 日本\"");
        assert_eq!(go_quote("\u{1}\u{a0}"), r#""\x01\u00a0""#);
    }
}
