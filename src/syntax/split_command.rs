//! Keyword, `--flags` and the rest of an instruction: BuildKit's `split_command.go`.

use std::borrow::Cow;

/// BuildKit's `reWhitespace`: `[\t\v\f\r ]+`.
pub(crate) fn is_re_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | 0x0b | 0x0c | b'\r' | b' ')
}

/// Rust's `char::is_whitespace` on the character at byte `at` of `text`: its length in bytes
/// when it is whitespace, else 0.
#[inline]
pub(crate) fn whitespace_len(text: &str, at: usize) -> usize {
    let byte = text.as_bytes()[at];
    if byte.is_ascii() {
        usize::from(is_ascii_space(byte))
    } else {
        unicode_whitespace_len(&text[at..])
    }
}

#[cold]
fn unicode_whitespace_len(text: &str) -> usize {
    text.chars()
        .next()
        .filter(|c| c.is_whitespace())
        .map_or(0, char::len_utf8)
}

/// The length in bytes of the UTF-8 character whose first byte is `first`.
#[inline]
pub(crate) fn char_len(first: u8) -> usize {
    match first {
        0..0x80 => 1,
        0x80..0xe0 => 2,
        0xe0..0xf0 => 3,
        _ => 4,
    }
}

/// A range of the logical line with the value BuildKit derives from it; the value borrows
/// the line where it is the text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part<'a> {
    pub value: Cow<'a, str>,
    pub start: usize,
    pub end: usize,
}

impl<'a> Part<'a> {
    /// `line[start..end]` as written.
    pub fn slice(line: &'a str, start: usize, end: usize) -> Self {
        Part {
            value: Cow::Borrowed(&line[start..end]),
            start,
            end,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Command<'a> {
    pub keyword: Part<'a>,
    pub flags: Vec<Part<'a>>,
    /// The arguments after the flags, trimmed (`start..end` in the line).
    pub args_start: usize,
    pub args_end: usize,
}

#[inline]
fn is_ascii_space(byte: u8) -> bool {
    matches!(byte, b'\t'..=b'\r' | b' ')
}

/// `text` without leading Unicode whitespace (Go's `strings.TrimLeft` with `unicode.IsSpace`,
/// Rust's `trim_start`), looking at bytes while they are ASCII.
pub(crate) fn trim_space_start(text: &str) -> &str {
    let ascii_spaces = text
        .bytes()
        .position(|byte| !is_ascii_space(byte))
        .unwrap_or(text.len());
    let rest = &text[ascii_spaces..];
    if rest.as_bytes().first().is_some_and(|byte| !byte.is_ascii()) {
        rest.trim_start()
    } else {
        rest
    }
}

/// `text` without trailing Unicode whitespace, like [`trim_space_start`].
pub(crate) fn trim_space_end(text: &str) -> &str {
    let kept = text
        .bytes()
        .rposition(|byte| !is_ascii_space(byte))
        .map_or(0, |last| last + 1);
    let rest = &text[..kept];
    if rest.as_bytes().last().is_some_and(|byte| !byte.is_ascii()) {
        rest.trim_end()
    } else {
        rest
    }
}

/// Offsets of `line` with Unicode whitespace trimmed on both sides (Go's `strings.TrimSpace`).
#[inline(always)]
pub(crate) fn trim_space_range(line: &str, start: usize, end: usize) -> (usize, usize) {
    let bytes = line.as_bytes();
    let (mut first, mut last) = (start, end);
    while first < last && is_ascii_space(bytes[first]) {
        first += 1;
    }
    while last > first && is_ascii_space(bytes[last - 1]) {
        last -= 1;
    }
    if first == last || (bytes[first].is_ascii() && bytes[last - 1].is_ascii()) {
        return (first, last);
    }
    trim_unicode_space_range(line, start, end)
}

/// [`trim_space_range`] when a non-ASCII character is at either end.
#[cold]
#[inline(never)]
fn trim_unicode_space_range(line: &str, start: usize, end: usize) -> (usize, usize) {
    let trimmed_start = trim_space_start(&line[start..end]);
    let new_start = end - trimmed_start.len();
    (new_start, new_start + trim_space_end(trimmed_start).len())
}

/// Splits `line[start..end]` into keyword, flags and arguments.
pub(crate) fn split_command(line: &str, start: usize, end: usize) -> Command<'_> {
    let (start, end) = trim_space_range(line, start, end);
    let bytes = line.as_bytes();
    let keyword_end = (start..end)
        .find(|&i| is_re_whitespace(bytes[i]))
        .unwrap_or(end);
    let keyword = Part::slice(line, start, keyword_end);
    if keyword_end == end {
        return Command {
            keyword,
            flags: Vec::new(),
            args_start: end,
            args_end: end,
        };
    }
    let rest_start = (keyword_end..end)
        .find(|&i| !is_re_whitespace(bytes[i]))
        .unwrap_or(end);
    // Most instructions have no flags: then the arguments start right there (a `\n`, which a
    // logical line never has, would be skipped as space).
    let (flags, args_from) = if matches!(bytes.get(rest_start), Some(b'-' | b'\n')) {
        extract_builder_flags(line, rest_start, end)
    } else {
        (Vec::new(), rest_start)
    };
    let (args_start, args_end) = trim_space_range(line, args_from, end);
    Command {
        keyword,
        flags,
        args_start,
        args_end,
    }
}

/// Go's `unicode.IsSpace` on an ASCII byte (BuildKit tests single bytes this way).
pub(crate) const fn is_go_space_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// The bytes that end a run of ordinary bytes in a flag word: Go's ASCII spaces, quotes and `\\`.
const FLAG_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = is_go_space_byte(byte as u8) || matches!(byte as u8, b'\'' | b'"' | b'\\');
        byte += 1;
    }
    table
};

/// BuildKit's `extractBuilderFlags`: leading words starting with `--`, quotes handled,
/// a bare `--` ends the flags. Returns the flags and where the rest of the line starts.
fn extract_builder_flags<'a>(line: &'a str, start: usize, end: usize) -> (Vec<Part<'a>>, usize) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let bytes = &line.as_bytes()[..end];
    // The line starts with `-`: most likely a flag or two.
    let mut flags = Vec::with_capacity(2);
    let mut phase = Phase::Spaces;
    // The word so far is `bytes[word_start..pos]` until a quote or escape character is met;
    // from then on it is `word`.
    let mut plain = true;
    let mut word: Vec<u8> = Vec::new();
    let mut word_start = start;
    let mut quote = 0u8;
    let mut blank_ok = false;
    let mut pos = start;
    let is_double_dash = |plain: bool, word: &[u8], word_start: usize, pos: usize| {
        if plain {
            &bytes[word_start..pos] == b"--"
        } else {
            word == b"--"
        }
    };
    let is_empty = |plain: bool, word: &[u8], word_start: usize, pos: usize| {
        if plain {
            word_start == pos
        } else {
            word.is_empty()
        }
    };
    let finish =
        |plain: bool, word: &[u8], flags: &mut Vec<Part<'a>>, word_start: usize, pos: usize| {
            flags.push(if plain || word[..] == bytes[word_start..pos] {
                Part::slice(line, word_start, pos)
            } else {
                Part {
                    value: Cow::Owned(String::from_utf8_lossy(word).into_owned()),
                    start: word_start,
                    end: pos,
                }
            });
        };
    while pos <= end {
        let mut ch = if pos < end { bytes[pos] } else { 0 };
        if phase == Phase::Spaces {
            if pos == end {
                break;
            }
            if is_go_space_byte(ch) {
                pos += 1;
                continue;
            }
            if ch != b'-' || pos + 1 == end || bytes[pos + 1] != b'-' {
                return (flags, pos);
            }
            phase = Phase::Word;
            word_start = pos;
        }
        if phase == Phase::Word && pos < end && !FLAG_SPECIAL[usize::from(ch)] {
            // A run of ordinary bytes, each taken as it is.
            let run_start = pos;
            while pos < end && !FLAG_SPECIAL[usize::from(bytes[pos])] {
                pos += 1;
            }
            if !plain {
                word.extend_from_slice(&bytes[run_start..pos]);
            }
            if pos == end {
                continue;
            }
            ch = bytes[pos];
        }
        if pos == end {
            if !is_double_dash(plain, &word, word_start, pos)
                && (blank_ok || !is_empty(plain, &word, word_start, pos))
            {
                finish(plain, &word, &mut flags, word_start, pos);
            }
            break;
        }
        if phase == Phase::Word {
            if is_go_space_byte(ch) {
                phase = Phase::Spaces;
                if is_double_dash(plain, &word, word_start, pos) {
                    return (flags, pos);
                }
                if blank_ok || !is_empty(plain, &word, word_start, pos) {
                    finish(plain, &word, &mut flags, word_start, pos);
                }
                word.clear();
                plain = true;
                blank_ok = false;
                pos += 1;
                continue;
            }
            if plain && matches!(ch, b'\'' | b'"' | b'\\') {
                word.extend_from_slice(&bytes[word_start..pos]);
                plain = false;
            }
            if ch == b'\'' || ch == b'"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
                pos += 1;
                continue;
            }
            if ch == b'\\' {
                if pos + 1 == end {
                    pos += 1;
                    continue;
                }
                pos += 1;
            }
            if !plain {
                word.push(bytes[pos]);
            }
            pos += 1;
            continue;
        }
        // Phase::Quote
        if ch == quote {
            phase = Phase::Word;
            pos += 1;
            continue;
        }
        if ch == b'\\' {
            if pos + 1 == end {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
        }
        word.push(bytes[pos]);
        pos += 1;
    }
    (flags, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> (String, Vec<String>, String) {
        let command = split_command(line, 0, line.len());
        (
            command.keyword.value.into_owned(),
            command
                .flags
                .into_iter()
                .map(|f| f.value.into_owned())
                .collect(),
            line[command.args_start..command.args_end].to_string(),
        )
    }

    #[test]
    fn flags_are_split_off() {
        let (keyword, flags, rest) = split("  COPY --from=build --chown=\"a b\" src dst ");
        assert_eq!(keyword, "COPY");
        assert_eq!(flags, vec!["--from=build", "--chown=a b"]);
        assert_eq!(rest, "src dst");
    }

    #[test]
    fn double_dash_ends_flags() {
        let (_, flags, rest) = split("RUN --mount=x -- --not-a-flag");
        assert_eq!(flags, vec!["--mount=x"]);
        assert_eq!(rest, "--not-a-flag");
    }

    #[test]
    fn flag_spans_cover_raw_text() {
        let line = "FROM --platform=$BUILDPLATFORM node";
        let command = split_command(line, 0, line.len());
        let flag = &command.flags[0];
        assert_eq!(&line[flag.start..flag.end], "--platform=$BUILDPLATFORM");
        assert_eq!(&line[command.args_start..command.args_end], "node");
    }

    /// `extract_builder_flags` as it was before it borrowed plain flags without a buffer:
    /// the model the new one is checked against.
    mod reference {
        use super::super::{is_go_space_byte, Part};
        use std::borrow::Cow;

        pub(super) fn extract_builder_flags<'a>(
            line: &'a str,
            start: usize,
            end: usize,
        ) -> (Vec<Part<'a>>, usize) {
            #[derive(PartialEq)]
            enum Phase {
                Spaces,
                Word,
                Quote,
            }
            let bytes = &line.as_bytes()[..end];
            let mut flags = Vec::new();
            let mut phase = Phase::Spaces;
            let mut word: Vec<u8> = Vec::new();
            let mut word_start = start;
            let mut quote = 0u8;
            let mut blank_ok = false;
            let mut pos = start;
            let finish =
                |word: &mut Vec<u8>, flags: &mut Vec<Part<'a>>, word_start: usize, pos: usize| {
                    flags.push(if word[..] == bytes[word_start..pos] {
                        Part::slice(line, word_start, pos)
                    } else {
                        Part {
                            value: Cow::Owned(String::from_utf8_lossy(word).into_owned()),
                            start: word_start,
                            end: pos,
                        }
                    });
                    word.clear();
                };
            while pos <= end {
                let ch = if pos < end { bytes[pos] } else { 0 };
                if phase == Phase::Spaces {
                    if pos == end {
                        break;
                    }
                    if is_go_space_byte(ch) {
                        pos += 1;
                        continue;
                    }
                    if ch != b'-' || pos + 1 == end || bytes[pos + 1] != b'-' {
                        return (flags, pos);
                    }
                    phase = Phase::Word;
                    word_start = pos;
                }
                if pos == end {
                    if word != b"--" && (blank_ok || !word.is_empty()) {
                        finish(&mut word, &mut flags, word_start, pos);
                    }
                    break;
                }
                if phase == Phase::Word {
                    if is_go_space_byte(ch) {
                        phase = Phase::Spaces;
                        if word == b"--" {
                            return (flags, pos);
                        }
                        if blank_ok || !word.is_empty() {
                            finish(&mut word, &mut flags, word_start, pos);
                        }
                        word.clear();
                        blank_ok = false;
                        pos += 1;
                        continue;
                    }
                    if ch == b'\'' || ch == b'"' {
                        quote = ch;
                        blank_ok = true;
                        phase = Phase::Quote;
                        pos += 1;
                        continue;
                    }
                    if ch == b'\\' {
                        if pos + 1 == end {
                            pos += 1;
                            continue;
                        }
                        pos += 1;
                    }
                    word.push(bytes[pos]);
                    pos += 1;
                    continue;
                }
                // Phase::Quote
                if ch == quote {
                    phase = Phase::Word;
                    pos += 1;
                    continue;
                }
                if ch == b'\\' {
                    if pos + 1 == end {
                        phase = Phase::Word;
                        pos += 1;
                        continue;
                    }
                    pos += 1;
                }
                word.push(bytes[pos]);
                pos += 1;
            }
            (flags, end)
        }
    }

    proptest::proptest! {
        #[test]
        fn flags_as_the_buffered_extractor_finds_them(
            text in proptest::string::string_regex("(--|[ \t]|[-a=x]|\\\\|'|\"|é){0,20}").unwrap(),
        ) {
            proptest::prop_assert_eq!(
                extract_builder_flags(&text, 0, text.len()),
                reference::extract_builder_flags(&text, 0, text.len())
            );
        }
    }
}
