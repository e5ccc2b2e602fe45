//! The file's own style, so inserted text matches it (like ruff's `Stylist`).

use crate::syntax::{Dockerfile, Instruction};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Style {
    /// `"\r\n"` or `"\n"`.
    pub line_ending: &'static str,
    /// Keywords are written in lowercase in this file.
    pub lowercase: bool,
    pub escape: char,
}

impl Style {
    pub fn of(file: &Dockerfile) -> Style {
        let bytes = file.source.as_bytes();
        // Line ends counted in one SIMD pass; each looked at only where the text has a `\r`.
        let newlines = memchr::memchr_iter(b'\n', bytes).count();
        let crlf = if memchr::memchr(b'\r', bytes).is_some() {
            memchr::memmem::find_iter(bytes, b"\r\n").count()
        } else {
            0
        };
        let lf = newlines - crlf;
        let (lower, upper) =
            file.instructions
                .iter()
                .fold((0, 0), |(lower, upper), instruction| {
                    let keyword = instruction.keyword.value.as_bytes();
                    let has_upper = keyword.iter().any(u8::is_ascii_uppercase);
                    let has_lower = keyword.iter().any(u8::is_ascii_lowercase);
                    match (has_lower, has_upper) {
                        (_, false) => (lower + 1, upper),
                        (false, true) => (lower, upper + 1),
                        (true, true) => (lower, upper),
                    }
                });
        Style {
            line_ending: if crlf > lf { "\r\n" } else { "\n" },
            lowercase: lower > upper,
            escape: file.escape,
        }
    }

    /// The line ending of the line where `instruction` ends, else the file's.
    pub fn line_ending_after(&self, file: &Dockerfile, instruction: &Instruction) -> &'static str {
        let text = instruction.span.text(&file.source);
        if text.ends_with("\r\n") {
            "\r\n"
        } else if text.ends_with('\n') {
            "\n"
        } else {
            self.line_ending
        }
    }

    /// `keyword` (given in uppercase) in the file's case.
    pub fn keyword(&self, keyword: &str) -> String {
        if self.lowercase {
            keyword.to_ascii_lowercase()
        } else {
            keyword.to_ascii_uppercase()
        }
    }
}
