//! The logical line: continuation lines joined, with a map back to source bytes.

use super::span::Span;

/// A logical line as BuildKit builds it (`Node.Original`), remembering for every byte
/// where it came from, so any range of the logical text maps to an exact source span.
#[derive(Debug, Default)]
pub(crate) struct LogicalLine {
    pub text: String,
    /// `origin[i]` is the source offset of `text.as_bytes()[i]`.
    origin: Vec<usize>,
    /// Where an empty range at the end of the text maps to.
    end_origin: usize,
}

impl LogicalLine {
    pub fn new(at: usize) -> Self {
        LogicalLine {
            text: String::new(),
            origin: Vec::new(),
            end_origin: at,
        }
    }

    /// Appends `piece`, which starts at source offset `at`.
    pub fn push(&mut self, piece: &str, at: usize) {
        self.text.push_str(piece);
        self.origin.extend(at..at + piece.len());
        self.end_origin = at + piece.len();
    }

    /// The source span of the logical range `start..end`.
    pub fn span(&self, start: usize, end: usize) -> Span {
        if start >= end {
            let at = self.origin.get(start).copied().unwrap_or(self.end_origin);
            return Span::empty(at);
        }
        let first = self.origin.get(start).copied().unwrap_or(self.end_origin);
        let last = self
            .origin
            .get(end - 1)
            .map(|offset| offset + 1)
            .unwrap_or(self.end_origin);
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
        assert_eq!(line.span(9, 9), Span::empty(11));
    }
}
