//! The logical line: continuation lines joined, with a map back to source bytes.

use std::borrow::Cow;

use super::span::Span;

/// A logical line as BuildKit builds it (`Node.Original`), remembering where each joined
/// piece came from, so any range of the logical text maps to an exact source span.
///
/// A line made of one piece (most instructions) borrows its text from the source.
#[derive(Debug)]
pub(crate) struct LogicalLine<'a> {
    pub text: Cow<'a, str>,
    /// `(logical offset, source offset)` of the first non-empty piece.
    first: (usize, usize),
    /// The same for every later non-empty piece, in order.
    rest: Vec<(usize, usize)>,
    /// Where an empty range at the end of the text maps to.
    end_origin: usize,
}

impl<'a> LogicalLine<'a> {
    pub fn new(at: usize) -> Self {
        LogicalLine {
            text: Cow::Borrowed(""),
            first: (0, at),
            rest: Vec::new(),
            end_origin: at,
        }
    }

    /// Appends `piece`, which starts at source offset `at`.
    pub fn push(&mut self, piece: &'a str, at: usize) {
        if !piece.is_empty() {
            if self.text.is_empty() {
                self.text = Cow::Borrowed(piece);
                self.first = (0, at);
            } else {
                self.rest.push((self.text.len(), at));
                self.text.to_mut().push_str(piece);
            }
        }
        self.end_origin = at + piece.len();
    }

    /// The source offset of the logical byte at `offset`, if there is one.
    fn origin(&self, offset: usize) -> Option<usize> {
        if offset >= self.text.len() {
            return None;
        }
        let later = self.rest.partition_point(|&(start, _)| start <= offset);
        let (logical, source) = match later {
            0 => self.first,
            _ => self.rest[later - 1],
        };
        Some(source + offset - logical)
    }

    /// The source span of the logical range `start..end`.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let first = self.origin(start).unwrap_or(self.end_origin);
        if start >= end {
            return Span::empty(first);
        }
        let last = self
            .origin(end - 1)
            .map_or(self.end_origin, |offset| offset + 1);
        Span::new(first, last.max(first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cross_continuations() {
        // "RUN a \\\n  b\n": logical "RUN a   b"
        let mut line = LogicalLine::new(0);
        line.push("RUN a ", 0);
        line.push("  b", 8);
        assert_eq!(line.text, "RUN a   b");
        assert_eq!(line.span(0, 3), Span::new(0, 3));
        assert_eq!(line.span(4, 9), Span::new(4, 11));
        assert_eq!(line.span(5, 7), Span::new(5, 9));
        assert_eq!(line.span(9, 9), Span::empty(11));
    }

    #[test]
    fn one_piece_is_borrowed_and_empty_pieces_only_move_the_end() {
        let mut line = LogicalLine::new(3);
        line.push("", 3);
        line.push("RUN a", 5);
        line.push("", 12);
        assert!(matches!(line.text, Cow::Borrowed("RUN a")));
        assert_eq!(line.span(0, 5), Span::new(5, 10));
        assert_eq!(line.span(5, 5), Span::empty(12));
    }
}
