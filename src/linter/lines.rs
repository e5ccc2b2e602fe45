//! Lines and columns of byte offsets: one pass over a file's text, then each position is a
//! binary search, so reporting every finding of a file is linear in its size (a position
//! found by scanning the text from its start is quadratic over a file's findings).

/// Where each line of a text starts; made once per file by [`LineIndex::new`].
#[derive(Debug)]
pub struct LineIndex<'a> {
    source: &'a str,
    /// Byte offset of each line's first byte (the first is 0).
    starts: Vec<usize>,
    /// Code points before each line's first byte.
    chars_before: Vec<usize>,
    /// The line has only ASCII: its columns are byte counts.
    ascii: Vec<bool>,
}

impl<'a> LineIndex<'a> {
    pub fn new(source: &'a str) -> LineIndex<'a> {
        let bytes = source.as_bytes();
        let lines = memchr::memchr_iter(b'\n', bytes).count() + 1;
        let mut starts = Vec::with_capacity(lines);
        let mut chars_before = Vec::with_capacity(lines);
        let mut ascii = Vec::with_capacity(lines);
        let (mut start, mut chars) = (0, 0);
        let ends = memchr::memchr_iter(b'\n', bytes).map(|newline| newline + 1);
        for end in ends.chain(std::iter::once(bytes.len())) {
            let line = &bytes[start..end];
            let line_is_ascii = line.is_ascii();
            starts.push(start);
            chars_before.push(chars);
            ascii.push(line_is_ascii);
            chars += if line_is_ascii {
                line.len()
            } else {
                line.iter().filter(|&&byte| !is_continuation(byte)).count()
            };
            start = end;
        }
        LineIndex {
            source,
            starts,
            chars_before,
            ascii,
        }
    }

    /// The 0-based line holding byte `offset` (at most the text's length).
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset) - 1
    }

    /// 1-based line and column (in characters, a byte-order mark not counted) of a byte
    /// offset; an offset past the end is the end.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.source.len());
        let line = self.line_of(offset);
        let start = self.starts[line];
        let column = if self.ascii[line] {
            offset - start
        } else {
            self.source[start..offset]
                .trim_start_matches('\u{feff}')
                .chars()
                .count()
        };
        (line + 1, column + 1)
    }

    /// Code points before byte offset `byte`, a byte-order mark not counted.
    pub fn char_offset(&self, byte: usize) -> usize {
        let byte = byte.min(self.source.len());
        let line = self.line_of(byte);
        let start = self.starts[line];
        let within = if self.ascii[line] {
            byte - start
        } else {
            self.source.as_bytes()[start..byte]
                .iter()
                .filter(|&&b| !is_continuation(b))
                .count()
        };
        let bom = usize::from(self.source.starts_with('\u{feff}') && byte > 0);
        self.chars_before[line] + within - bom
    }
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
            let lines = LineIndex::new(source);
            for offset in
                (0..=source.len() + 2).filter(|&o| source.is_char_boundary(o.min(source.len())))
            {
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
