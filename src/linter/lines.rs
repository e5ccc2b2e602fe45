//! Lines and columns of byte offsets. A file's findings are asked about in the order of their
//! offsets, so [`LineIndex`] walks forward from the last offset it was asked about (most
//! files are asked about a few offsets, and are read once at most); the first time an offset
//! before the last one is asked about, it indexes every line start, and each position is then
//! a binary search. Either way, reporting every finding of a file is linear in its size (a
//! position found by scanning the text from its start is quadratic over a file's findings).

use std::cell::{Cell, OnceCell};

/// Lines and columns of the byte offsets of one text ([`LineIndex::new`] reads nothing yet).
#[derive(Debug)]
pub struct LineIndex<'a> {
    source: &'a str,
    /// The last position asked about, while offsets are asked about in order.
    cursor: Cell<Cursor>,
    /// Every line's start, made when an offset before the cursor is asked about.
    index: OnceCell<Index>,
}

/// A byte offset with its 0-based line, where that line starts, and the code points before it.
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    offset: usize,
    line: usize,
    line_start: usize,
    chars: usize,
}

#[derive(Debug)]
struct Index {
    /// Byte offset of each line's first byte (the first is 0).
    starts: Vec<usize>,
    /// Code points before each line's first byte.
    chars_before: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> LineIndex<'a> {
        LineIndex {
            source,
            cursor: Cell::new(Cursor::default()),
            index: OnceCell::new(),
        }
    }

    /// The line holding byte `offset` (at most the text's length), where it starts, and the
    /// code points before that start.
    fn locate(&self, offset: usize) -> (usize, usize, usize) {
        if let Some(index) = self.index.get() {
            let line = index.starts.partition_point(|&start| start <= offset) - 1;
            return (line, index.starts[line], index.chars_before[line]);
        }
        let cursor = self.cursor.get();
        if offset < cursor.offset {
            let index = self.index.get_or_init(|| self.indexed());
            let line = index.starts.partition_point(|&start| start <= offset) - 1;
            return (line, index.starts[line], index.chars_before[line]);
        }
        let bytes = &self.source.as_bytes()[cursor.offset..offset];
        let mut moved = Cursor {
            offset,
            chars: cursor.chars + chars_in(bytes),
            ..cursor
        };
        if let Some(last) = memchr::memrchr(b'\n', bytes) {
            moved.line += memchr::memchr_iter(b'\n', bytes).count();
            moved.line_start = cursor.offset + last + 1;
        }
        self.cursor.set(moved);
        let line_chars = chars_in(&self.source.as_bytes()[moved.line_start..offset]);
        (moved.line, moved.line_start, moved.chars - line_chars)
    }

    fn indexed(&self) -> Index {
        let bytes = self.source.as_bytes();
        let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
        let mut starts = Vec::with_capacity(lines);
        let mut chars_before = Vec::with_capacity(lines);
        let (mut start, mut chars) = (0, 0);
        let ends = memchr::memchr_iter(b'\n', bytes).map(|newline| newline + 1);
        for end in ends.chain(std::iter::once(bytes.len())) {
            starts.push(start);
            chars_before.push(chars);
            chars += chars_in(&bytes[start..end]);
            start = end;
        }
        Index {
            starts,
            chars_before,
        }
    }

    /// 1-based line and column (in characters, a byte-order mark not counted) of a byte
    /// offset; an offset past the end is the end.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let (line, start, _) = self.locate(offset);
        let text = &self.source[start..offset];
        let column = if text.is_ascii() {
            text.len()
        } else {
            text.trim_start_matches('\u{feff}').chars().count()
        };
        (line + 1, column + 1)
    }

    /// Code points before byte offset `byte`, a byte-order mark not counted.
    pub fn char_offset(&self, byte: usize) -> usize {
        let byte = byte.min(self.source.len());
        let (_, start, chars_before) = self.locate(byte);
        let within = chars_in(&self.source.as_bytes()[start..byte]);
        let bom = usize::from(self.source.starts_with('\u{feff}') && byte > 0);
        chars_before + within - bom
    }
}

/// The code points `bytes` begins (its bytes that are not UTF-8 continuation bytes).
fn chars_in(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&byte| !is_continuation(byte)).count()
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The positions as a scan from the start of the text finds them.
    fn scanned(source: &str, offset: usize) -> (usize, usize) {
        let before = &source[..offset.min(source.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..]
            .trim_start_matches('\u{feff}')
            .chars()
            .count()
            + 1;
        (line, column)
    }

    fn scanned_chars(source: &str, byte: usize) -> usize {
        let chars = source
            .char_indices()
            .take_while(|&(index, _)| index < byte)
            .count();
        chars - usize::from(source.starts_with('\u{feff}') && byte > 0)
    }

    #[test]
    fn every_offset_is_where_a_scan_finds_it() {
        for source in [
            "",
            "\n",
            "FROM node:22\nUSER node\n",
            "\u{feff}FROM é\r\nRUN echo ü ñ\n\nCMD x",
            "a\n\n\nb",
            "\u{feff}",
            "日本\n語\n",
        ] {
            let offsets: Vec<usize> = (0..=source.len() + 2)
                .filter(|&o| source.is_char_boundary(o.min(source.len())))
                .collect();
            // In order (the cursor), backwards (the index), and to and fro (both).
            let backwards: Vec<usize> = offsets.iter().rev().copied().collect();
            let to_and_fro: Vec<usize> = offsets
                .iter()
                .zip(backwards.iter())
                .flat_map(|(&a, &b)| [a, b])
                .collect();
            for order in [&offsets, &backwards, &to_and_fro] {
                let lines = LineIndex::new(source);
                for &offset in order {
                    assert_eq!(
                        lines.line_col(offset),
                        scanned(source, offset),
                        "{source:?} at {offset}"
                    );
                    assert_eq!(
                        lines.char_offset(offset),
                        scanned_chars(source, offset),
                        "{source:?} at {offset}"
                    );
                }
            }
        }
    }
}
