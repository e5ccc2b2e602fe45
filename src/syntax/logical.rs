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
    /// The text is one range of the source that ends at `end_origin`.
    contiguous: bool,
}

impl<'a> LogicalLine<'a> {
    /// Joins `pieces`, each a text and the source offset it starts at; `at` is where the
    /// line starts.
    #[inline]
    pub fn join(at: usize, pieces: &[(&'a str, usize)]) -> Self {
        let end_origin = pieces
            .last()
            .map_or(at, |&(piece, source)| source + piece.len());
        let mut non_empty = pieces.iter().filter(|(piece, _)| !piece.is_empty());
        let Some(&(first_text, first_source)) = non_empty.next() else {
            return LogicalLine {
                text: Cow::Borrowed(""),
                first: (0, at),
                rest: Vec::new(),
                end_origin,
                contiguous: false,
            };
        };
        let mut line = LogicalLine {
            text: Cow::Borrowed(first_text),
            first: (0, first_source),
            rest: Vec::new(),
            end_origin,
            contiguous: end_origin == first_source + first_text.len(),
        };
        let later = non_empty.clone().count();
        if later > 0 {
            let mut text = String::with_capacity(pieces.iter().map(|(piece, _)| piece.len()).sum());
            text.push_str(first_text);
            line.rest.reserve_exact(later);
            for &(piece, source) in non_empty {
                line.rest.push((text.len(), source));
                text.push_str(piece);
            }
            line.text = Cow::Owned(text);
            line.contiguous = false;
        }
        line
    }

    /// The source offset of the logical byte at `offset`, if there is one.
    #[inline]
    fn origin(&self, offset: usize) -> Option<usize> {
        self.piece_at(offset)
            .map(|(_, (logical, source))| source + offset - logical)
    }

    /// The piece holding the logical byte at `offset` (0 for `first`, `i + 1` for `rest[i]`)
    /// and its offsets, if there is such a byte.
    #[inline]
    fn piece_at(&self, offset: usize) -> Option<(usize, (usize, usize))> {
        if offset >= self.text.len() {
            return None;
        }
        Some(
            if self.rest.first().is_none_or(|&(start, _)| offset < start) {
                (0, self.first)
            } else {
                let index = self.rest.partition_point(|&(start, _)| start <= offset);
                (index, self.rest[index - 1])
            },
        )
    }

    /// The source span of the logical range `start..end`.
    #[inline(always)]
    pub fn span(&self, start: usize, end: usize) -> Span {
        if self.contiguous {
            let at = |offset: usize| self.first.1 + offset.min(self.text.len());
            Span::new(at(start), at(end.max(start)))
        } else {
            self.joined_span(start, end)
        }
    }

    /// [`Self::span`] of a line joined from several pieces.
    #[inline(never)]
    fn joined_span(&self, start: usize, end: usize) -> Span {
        let Some((piece, (logical, source))) = self.piece_at(start) else {
            return Span::empty(self.end_origin);
        };
        let first = source + start - logical;
        if start >= end {
            return Span::empty(first);
        }
        // Most ranges end in the piece they start in: the next piece starts after them.
        let last = if self.rest.get(piece).is_none_or(|&(next, _)| end <= next)
            && end <= self.text.len()
        {
            source + end - logical
        } else {
            self.origin(end - 1)
                .map_or(self.end_origin, |offset| offset + 1)
        };
        Span::new(first, last.max(first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cross_continuations() {
        // "RUN a \\\n  x \\\n  b\n": logical "RUN a   x   b"
        let line = LogicalLine::join(0, &[("RUN a ", 0), ("  x ", 8), ("  b", 14)]);
        assert_eq!(line.text, "RUN a   x   b");
        assert_eq!(line.span(0, 3), Span::new(0, 3));
        assert_eq!(line.span(4, 9), Span::new(4, 11));
        assert_eq!(line.span(5, 7), Span::new(5, 9));
        assert_eq!(line.span(12, 13), Span::new(16, 17));
        assert_eq!(line.span(13, 13), Span::empty(17));
    }

    #[test]
    fn joined_spans_are_the_origins_of_their_first_and_last_bytes() {
        let line = LogicalLine::join(0, &[("RUN a ", 0), ("", 7), ("  x ", 8), ("  b", 14)]);
        let len = line.text.len();
        for start in 0..len + 3 {
            for end in 0..len + 3 {
                let first = line.origin(start).unwrap_or(line.end_origin);
                let want = if start >= end {
                    Span::empty(first)
                } else {
                    let last = line.origin(end - 1).map_or(line.end_origin, |o| o + 1);
                    Span::new(first, last.max(first))
                };
                assert_eq!(line.joined_span(start, end), want, "{start}..{end}");
            }
        }
    }

    #[test]
    fn one_piece_is_borrowed_and_empty_pieces_only_move_the_end() {
        let line = LogicalLine::join(3, &[("", 3), ("RUN a", 5), ("", 12)]);
        assert!(matches!(line.text, Cow::Borrowed("RUN a")));
        assert_eq!(line.span(0, 5), Span::new(5, 10));
        assert_eq!(line.span(5, 5), Span::empty(12));
        let slow = LogicalLine {
            contiguous: false,
            ..LogicalLine::join(3, &[("RUN a", 5)])
        };
        let fast = LogicalLine::join(3, &[("RUN a", 5)]);
        assert!(fast.contiguous);
        for start in 0..8 {
            for end in 0..8 {
                assert_eq!(
                    fast.span(start, end),
                    slow.span(start, end),
                    "{start}..{end}"
                );
            }
        }
        let line = LogicalLine::join(7, &[("", 7)]);
        assert_eq!((line.text.as_ref(), line.span(0, 0)), ("", Span::empty(7)));
    }
}
