//! LSP positions ↔ byte offsets. A position's character counts UTF-8 bytes, UTF-16 code
//! units, as negotiated at `initialize` (`general.positionEncodings`).

use lsp_types::{Position, PositionEncodingKind, Range};

use crate::syntax::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// The encoding to use: UTF-8 when the client offers it (no conversion), else UTF-16, the
    /// protocol's default that every client supports.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        let offered = offered.unwrap_or_default();
        if offered.contains(&PositionEncodingKind::UTF8) {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }

    fn width(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        }
    }
}

/// The position of byte `offset` of `text` (clamped to the text, and back to a character
/// boundary).
pub fn position(text: &str, offset: usize, encoding: Encoding) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = memchr::memchr_iter(b'\n', before.as_bytes()).count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[line_start..]
        .chars()
        .map(|c| encoding.width(c))
        .sum();
    Position::new(saturating_u32(line), saturating_u32(character))
}

pub fn range(text: &str, span: Span, encoding: Encoding) -> Range {
    Range::new(
        position(text, span.start, encoding),
        position(text, span.end, encoding),
    )
}

/// The byte offset of `position` in `text`. A line past the end is the end of the text; a
/// character past the end of its line is the line's end (before its line ending), as the
/// protocol asks.
pub fn offset(text: &str, position: Position, encoding: Encoding) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match memchr::memchr(b'\n', &text.as_bytes()[line_start..]) {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = memchr::memchr(b'\n', &text.as_bytes()[line_start..])
        .map_or(text.len(), |i| line_start + i);
    let line = text[line_start..line_end]
        .strip_suffix('\r')
        .unwrap_or(&text[line_start..line_end]);
    let wanted = position.character as usize;
    let mut counted = 0;
    for (at, c) in line.char_indices() {
        if counted >= wanted {
            return line_start + at;
        }
        counted += encoding.width(c);
    }
    line_start + line.len()
}

pub fn span(text: &str, range: Range, encoding: Encoding) -> Span {
    let start = offset(text, range.start, encoding);
    let end = offset(text, range.end, encoding).max(start);
    Span::new(start, end)
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_in_the_negotiated_unit() {
        // `é` is 2 UTF-8 bytes and 1 UTF-16 unit; `𝄞` 4 bytes and 2 units (a surrogate pair).
        let text = "FROM node\n# é𝄞 x\n";
        let x = text.find(" x").unwrap() + 1;
        assert_eq!(position(text, x, Encoding::Utf8), Position::new(1, 9));
        assert_eq!(position(text, x, Encoding::Utf16), Position::new(1, 6));
        for encoding in [Encoding::Utf8, Encoding::Utf16] {
            assert_eq!(offset(text, position(text, x, encoding), encoding), x);
        }
    }

    #[test]
    fn positions_past_the_end_clamp() {
        let text = "a\r\nbc";
        assert_eq!(offset(text, Position::new(0, 9), Encoding::Utf16), 1);
        assert_eq!(offset(text, Position::new(7, 0), Encoding::Utf16), 5);
        assert_eq!(position(text, 99, Encoding::Utf16), Position::new(1, 2));
    }

    #[test]
    fn negotiation_prefers_utf8() {
        let both = [PositionEncodingKind::UTF16, PositionEncodingKind::UTF8];
        assert_eq!(Encoding::negotiate(Some(&both)), Encoding::Utf8);
        assert_eq!(
            Encoding::negotiate(Some(&[PositionEncodingKind::UTF32])),
            Encoding::Utf16
        );
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
    }
}
