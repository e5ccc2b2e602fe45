//! Which words of an instruction open a heredoc (BuildKit's `heredocsFromLine` and
//! `ParseHeredoc`, with the shell-word splitting of `shell/lex.go`).

use std::borrow::Cow;

/// A heredoc opener found on the instruction line; the body is read by the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeredocMarker {
    pub name: String,
    pub fd: u32,
    pub expand: bool,
    pub chomp: bool,
}

/// The heredocs a RUN/COPY/ADD line opens, in order.
pub(crate) fn heredocs_from_line(line: &str) -> Vec<HeredocMarker> {
    let bytes = line.as_bytes();
    if !memchr::memchr_iter(b'<', bytes).any(|at| bytes.get(at + 1) == Some(&b'<')) {
        return Vec::new();
    }
    // BuildKit ignores lexing errors here: an unbalanced quote means no heredocs.
    let Ok(words) = lex_words(line, true) else {
        return Vec::new();
    };
    glue_markers(words)
        .iter()
        .filter_map(|word| parse_heredoc(word))
        .collect()
}

/// `<< EOF` is read as `<<EOF`: a word that is only the operator takes the next word.
fn glue_markers(words: Vec<Cow<'_, str>>) -> Vec<Cow<'_, str>> {
    let mut glued: Vec<Cow<str>> = Vec::with_capacity(words.len());
    let mut pending: Option<Cow<str>> = None;
    for word in words {
        match pending.take() {
            Some(operator) => glued.push(Cow::Owned(operator.into_owned() + &word)),
            None if is_bare_operator(&word) => pending = Some(word),
            None => glued.push(word),
        }
    }
    glued.extend(pending);
    glued
}

fn is_bare_operator(word: &str) -> bool {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    rest == "<<" || rest == "<<-"
}

/// `^(\d*)<<(-?)\s*([^<]*)$`, then the delimiter read as one shell word.
fn parse_heredoc(word: &str) -> Option<HeredocMarker> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let rest = word[digits..].strip_prefix("<<")?;
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches([' ', '\t', '\n', '\x0c', '\r']);
    if rest.is_empty() || rest.contains('<') {
        return None;
    }
    let fd = if digits == 0 {
        0
    } else {
        word[..digits].parse().unwrap_or(0)
    };
    let mut cooked = lex_words(rest, false).ok()?;
    if cooked.len() != 1 {
        return None;
    }
    let name = cooked.pop()?.into_owned();
    let raw = lex_words(rest, true).ok()?;
    let [raw_name] = raw.as_slice() else {
        return None;
    };
    let quotes = |s: &str| s.bytes().filter(|&b| b == b'\'' || b == b'"').count();
    Some(HeredocMarker {
        expand: quotes(&name) == quotes(raw_name),
        name,
        fd,
        chomp,
    })
}

/// The words [`lex_words`] collects. A raw word is one range of the text (quotes and escapes
/// are kept and only whitespace between words is dropped), so it borrows the text.
struct Words<'a> {
    text: &'a str,
    raw: bool,
    words: Vec<Cow<'a, str>>,
    /// The raw word so far: `text[start..end]`.
    start: usize,
    end: usize,
    /// The cooked word so far.
    cooked: String,
    in_word: bool,
}

impl<'a> Words<'a> {
    fn is_empty(&self) -> bool {
        if self.raw {
            self.start == self.end
        } else {
            self.cooked.is_empty()
        }
    }

    /// Adds `text[from..to]` to the word.
    fn keep(&mut self, from: usize, to: usize) {
        if self.raw {
            if self.start == self.end {
                self.start = from;
            } else {
                debug_assert_eq!(from, self.end, "raw words are contiguous");
            }
            self.end = to;
        } else {
            self.cooked.push_str(&self.text[from..to]);
        }
    }

    fn finish_word(&mut self) {
        let word = if self.raw {
            Cow::Borrowed(&self.text[self.start..self.end])
        } else {
            Cow::Owned(std::mem::take(&mut self.cooked))
        };
        self.words.push(word);
        self.start = self.end;
    }

    /// An unquoted character at `at`: whitespace ends the word.
    #[inline]
    fn add_char(&mut self, at: usize, ch: char) {
        if ch.is_whitespace() {
            if self.in_word && !self.is_empty() {
                self.finish_word();
                self.in_word = false;
            }
        } else {
            self.keep(at, at + ch.len_utf8());
            self.in_word = true;
        }
    }
}

/// An ASCII byte that [`lex_words`] adds to the word as it is: not whitespace, a quote, `$`
/// or `\`.
fn is_plain(byte: u8) -> bool {
    byte.is_ascii() && !matches!(byte, b'\t'..=b'\r' | b' ' | b'\'' | b'"' | b'$' | b'\\')
}

/// The character at byte `at` of `text`.
fn char_at(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|rest| rest.chars().next())
}

/// Shell-word splitting with `\` as escape and unset variables left as written.
/// `raw` keeps quotes and escapes in the words (BuildKit's `RawQuotes`/`RawEscapes`).
fn lex_words(text: &str, raw: bool) -> Result<Vec<Cow<'_, str>>, ()> {
    let bytes = text.as_bytes();
    let mut words = Words {
        text,
        raw,
        words: Vec::new(),
        start: 0,
        end: 0,
        cooked: String::new(),
        in_word: false,
    };
    let mut i = 0;
    while let Some(ch) = char_at(text, i) {
        match ch {
            '\'' => {
                let close = memchr::memchr(b'\'', &bytes[i + 1..]).ok_or(())? + i + 1;
                if raw {
                    words.keep(i, close + 1);
                } else {
                    words.keep(i + 1, close);
                }
                words.in_word = true;
                i = close + 1;
            }
            '"' => {
                if raw {
                    words.keep(i, i + 1);
                }
                i += 1;
                loop {
                    let c = char_at(text, i).ok_or(())?;
                    match c {
                        '"' => break,
                        '$' => {
                            let next = dollar(text, i)?;
                            words.keep(i, next);
                            i = next;
                            continue;
                        }
                        '\\' => match bytes.get(i + 1) {
                            Some(b'"' | b'$' | b'\\') => {
                                words.keep(if raw { i } else { i + 1 }, i + 2);
                                i += 2;
                                continue;
                            }
                            Some(_) => words.keep(i, i + 1),
                            None => {}
                        },
                        _ => words.keep(i, i + c.len_utf8()),
                    }
                    i += c.len_utf8();
                }
                if raw {
                    words.keep(i, i + 1);
                }
                words.in_word = true;
                i += 1;
            }
            '$' => {
                let next = dollar(text, i)?;
                for (offset, c) in text[i..next].char_indices() {
                    words.add_char(i + offset, c);
                }
                i = next;
            }
            '\\' => {
                let Some(next) = char_at(text, i + 1) else {
                    break;
                };
                let after = i + 1 + next.len_utf8();
                words.keep(if raw { i } else { i + 1 }, after);
                words.in_word = true;
                i = after;
            }
            _ if is_plain(bytes[i]) => {
                let run_end = bytes[i..]
                    .iter()
                    .position(|&b| !is_plain(b))
                    .map_or(bytes.len(), |len| i + len);
                words.keep(i, run_end);
                words.in_word = true;
                i = run_end;
            }
            _ => {
                words.add_char(i, ch);
                i += ch.len_utf8();
            }
        }
    }
    if !words.is_empty() {
        words.finish_word();
    }
    Ok(words.words)
}

/// A `$name` or `${...}` reference starting at byte `at`: no variables are set, and unset
/// ones are kept as written. Returns the byte after it.
fn dollar(text: &str, at: usize) -> Result<usize, ()> {
    let bytes = text.as_bytes();
    let mut i = at + 1;
    if bytes.get(i) != Some(&b'{') {
        while let Some(c) = char_at(text, i).filter(|c| c.is_alphanumeric() || *c == '_') {
            i += c.len_utf8();
        }
        return Ok(i);
    }
    let mut depth = 0usize;
    // Braces are ASCII, so no byte of a wider character is taken for one.
    while let Some(&b) = bytes.get(i) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<(String, bool, bool, u32)> {
        heredocs_from_line(line)
            .into_iter()
            .map(|h| (h.name, h.expand, h.chomp, h.fd))
            .collect()
    }

    #[test]
    fn detects_heredocs_like_buildkit() {
        assert_eq!(names("RUN <<EOF"), vec![("EOF".into(), true, false, 0)]);
        assert_eq!(names("RUN <<-'EOF'"), vec![("EOF".into(), false, true, 0)]);
        assert_eq!(
            names("RUN 3<<EOF cat"),
            vec![("EOF".into(), true, false, 3)]
        );
        assert_eq!(
            names("RUN cat <<E\"O\"F > x"),
            vec![("EOF".into(), false, false, 0)]
        );
        assert_eq!(
            names("RUN cat << EOF > x"),
            vec![("EOF".into(), true, false, 0)]
        );
        assert_eq!(names("COPY <<A <<B /d/").len(), 2);
    }

    #[test]
    fn shifts_and_quoted_operators_are_not_heredocs() {
        assert!(names("RUN echo $((1<<20)) > /size && echo 'a<<b'").is_empty());
        assert!(names("RUN echo \"<<NOTAHEREDOC\" && echo a<<b").is_empty());
        assert!(names("RUN echo \"unbalanced <<EOF").is_empty());
    }

    /// The char-vector lexer this module had before it lexed on `&str`: the model the
    /// new one is checked against.
    mod reference {
        pub(super) fn lex_words(text: &str, raw: bool) -> Result<Vec<String>, ()> {
            let chars: Vec<char> = text.chars().collect();
            let mut words = Vec::new();
            let mut word = String::new();
            let mut in_word = false;
            let mut i = 0;
            while i < chars.len() {
                let ch = chars[i];
                match ch {
                    '\'' => {
                        let close =
                            chars[i + 1..].iter().position(|&c| c == '\'').ok_or(())? + i + 1;
                        let inner: String = chars[i + 1..close].iter().collect();
                        if raw {
                            word.push('\'');
                            word.push_str(&inner);
                            word.push('\'');
                        } else {
                            word.push_str(&inner);
                        }
                        in_word = true;
                        i = close + 1;
                    }
                    '"' => {
                        if raw {
                            word.push('"');
                        }
                        i += 1;
                        loop {
                            let c = *chars.get(i).ok_or(())?;
                            match c {
                                '"' => break,
                                '$' => {
                                    let (text, next) = dollar(&chars, i)?;
                                    word.push_str(&text);
                                    i = next;
                                    continue;
                                }
                                '\\' => match chars.get(i + 1) {
                                    Some(&next @ ('"' | '$' | '\\')) => {
                                        if raw {
                                            word.push('\\');
                                        }
                                        word.push(next);
                                        i += 2;
                                        continue;
                                    }
                                    Some(_) => word.push('\\'),
                                    None => {}
                                },
                                _ => word.push(c),
                            }
                            i += 1;
                        }
                        if raw {
                            word.push('"');
                        }
                        in_word = true;
                        i += 1;
                    }
                    '$' => {
                        let (text, next) = dollar(&chars, i)?;
                        for c in text.chars() {
                            add_char(&mut words, &mut word, &mut in_word, c);
                        }
                        i = next;
                    }
                    '\\' => {
                        let Some(&next) = chars.get(i + 1) else {
                            break;
                        };
                        if raw {
                            word.push('\\');
                        }
                        word.push(next);
                        in_word = true;
                        i += 2;
                    }
                    _ => {
                        add_char(&mut words, &mut word, &mut in_word, ch);
                        i += 1;
                    }
                }
            }
            if !word.is_empty() {
                words.push(word);
            }
            Ok(words)
        }

        fn add_char(words: &mut Vec<String>, word: &mut String, in_word: &mut bool, ch: char) {
            if ch.is_whitespace() {
                if *in_word && !word.is_empty() {
                    words.push(std::mem::take(word));
                    *in_word = false;
                }
            } else {
                word.push(ch);
                *in_word = true;
            }
        }

        /// A `$name` or `${...}` reference starting at `chars[at]`: no variables are set, and
        /// unset ones are kept as written. Returns the text and the index after it.
        fn dollar(chars: &[char], at: usize) -> Result<(String, usize), ()> {
            let mut i = at + 1;
            if chars.get(i) != Some(&'{') {
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                return Ok((chars[at..i].iter().collect(), i));
            }
            let mut depth = 0usize;
            while let Some(&c) = chars.get(i) {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok((chars[at..=i].iter().collect(), i + 1));
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err(())
        }
    }

    proptest::proptest! {
        #[test]
        fn lexes_like_the_char_vector_lexer(
            text in proptest::string::string_regex("[ \t\n\u{a0}ab1é_'\"$\\\\{}<-]{0,24}").unwrap(),
            raw in proptest::bool::ANY,
        ) {
            let words = lex_words(&text, raw).map(|words| {
                words.into_iter().map(Cow::into_owned).collect::<Vec<String>>()
            });
            proptest::prop_assert_eq!(words, reference::lex_words(&text, raw));
        }
    }
}
