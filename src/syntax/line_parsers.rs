//! Each instruction's argument grammar: BuildKit's `line_parsers.go` and `newNodeFromLine`.

use std::borrow::Cow;

use super::ast::Keyword;
use super::json::{parse_json_array, JsonError};
use super::split_command::{
    char_len, is_go_space_byte, is_re_whitespace, split_command, whitespace_len, Part,
};

const NOT_STRING_ARRAY: &str =
    "when using JSON array syntax, arrays must be comprised of strings only";

#[derive(Debug)]
pub(crate) struct PairPart<'a> {
    pub key: Part<'a>,
    pub value: Option<Part<'a>>,
    pub equals: bool,
}

/// What BuildKit's `newNodeFromLine` makes of a logical line, with logical-line offsets.
#[derive(Debug)]
pub(crate) struct Node<'a> {
    pub keyword: Part<'a>,
    pub kind: Keyword,
    pub flags: Vec<Part<'a>>,
    pub args: Vec<Part<'a>>,
    pub json: bool,
    pub pairs: Vec<PairPart<'a>>,
    pub shell_words: Vec<Part<'a>>,
    pub sub: Option<Box<Node<'a>>>,
    /// The text this node was parsed from (`Node.Original`).
    pub start: usize,
    pub end: usize,
}

impl Node<'_> {
    /// BuildKit's `canContainHeredoc`: RUN/COPY/ADD (also inside ONBUILD), not in JSON form.
    pub fn can_contain_heredoc(&self) -> bool {
        let node = match (&self.kind, &self.sub) {
            (Keyword::Onbuild, Some(sub)) => sub,
            _ => self,
        };
        matches!(node.kind, Keyword::Run | Keyword::Copy | Keyword::Add) && !node.json
    }
}

#[derive(Default)]
struct Parsed<'a> {
    args: Vec<Part<'a>>,
    json: bool,
    pairs: Vec<PairPart<'a>>,
    shell_words: Vec<Part<'a>>,
    sub: Option<Box<Node<'a>>>,
}

/// Parses `line[start..end]` as one instruction.
pub(crate) fn node_from_line(
    line: &str,
    start: usize,
    end: usize,
    escape: char,
) -> Result<Node<'_>, String> {
    let command = split_command(line, start, end);
    let kind = Keyword::from_word(&command.keyword.value);
    let (a, b) = (command.args_start, command.args_end);
    let parsed = match kind {
        Keyword::Add | Keyword::Copy | Keyword::Volume => parse_maybe_json_to_list(line, a, b)?,
        Keyword::Arg => parse_name_or_name_val(line, a, b, escape),
        // A RUN's shell form is a script, kept whole; commands are split into words.
        Keyword::Run => parse_maybe_json(line, a, b, None)?,
        Keyword::Cmd | Keyword::Entrypoint | Keyword::Shell => {
            parse_maybe_json(line, a, b, Some(escape))?
        }
        Keyword::Env => parse_name_val(line, a, b, "ENV", escape)?,
        Keyword::Label => parse_name_val(line, a, b, "LABEL", escape)?,
        Keyword::Expose | Keyword::From => parse_strings_whitespace_delimited(line, a, b),
        Keyword::Healthcheck => parse_health_config(line, a, b, escape)?,
        Keyword::Maintainer | Keyword::StopSignal | Keyword::User | Keyword::Workdir => {
            parse_string(line, a, b)
        }
        Keyword::Onbuild => parse_sub_command(line, a, b, escape)?,
        // BuildKit keeps unknown words as instructions with one empty argument.
        Keyword::Unknown => Parsed {
            args: vec![Part::slice(line, a, a)],
            ..Parsed::default()
        },
    };
    Ok(Node {
        keyword: command.keyword,
        kind,
        flags: command.flags,
        args: parsed.args,
        json: parsed.json,
        pairs: parsed.pairs,
        shell_words: parsed.shell_words,
        sub: parsed.sub,
        start,
        end,
    })
}

fn parse_string(line: &str, start: usize, end: usize) -> Parsed<'_> {
    if start == end {
        return Parsed::default();
    }
    Parsed {
        args: vec![Part::slice(line, start, end)],
        ..Parsed::default()
    }
}

/// Splits on `[\t\v\f\r ]+` like Go's `regexp.Split` (an empty input gives no words).
fn parse_strings_whitespace_delimited(line: &str, start: usize, end: usize) -> Parsed<'_> {
    if start == end {
        return Parsed::default();
    }
    Parsed {
        args: split_re_whitespace(line, start, end),
        ..Parsed::default()
    }
}

fn split_re_whitespace(line: &str, start: usize, end: usize) -> Vec<Part<'_>> {
    let bytes = &line.as_bytes()[..end];
    // Room for the usual `FROM image AS name` or `COPY src dst`.
    let mut words = Vec::with_capacity(4);
    let mut word_start = start;
    while let Some(len) = bytes[word_start..]
        .iter()
        .position(|&byte| is_re_whitespace(byte))
    {
        let gap = word_start + len;
        words.push(Part::slice(line, word_start, gap));
        word_start = bytes[gap..]
            .iter()
            .position(|&byte| !is_re_whitespace(byte))
            .map_or(end, |len| gap + len);
    }
    words.push(Part::slice(line, word_start, end));
    words
}

/// `split_words`: the escape character when the shell form should be split into words.
fn parse_maybe_json(
    line: &str,
    start: usize,
    end: usize,
    split_words: Option<char>,
) -> Result<Parsed<'_>, String> {
    if start == end {
        return Ok(Parsed::default());
    }
    match parse_json_array(line, start, end) {
        Ok(args) => Ok(Parsed {
            args,
            json: true,
            ..Parsed::default()
        }),
        Err(JsonError::NotStringArray) => Err(NOT_STRING_ARRAY.to_string()),
        Err(JsonError::NotJson) => Ok(Parsed {
            args: vec![Part::slice(line, start, end)],
            shell_words: split_words
                .map_or_else(Vec::new, |escape| parse_words(line, start, end, escape)),
            ..Parsed::default()
        }),
    }
}

fn parse_maybe_json_to_list(line: &str, start: usize, end: usize) -> Result<Parsed<'_>, String> {
    match parse_json_array(line, start, end) {
        Ok(args) => Ok(Parsed {
            args,
            json: true,
            ..Parsed::default()
        }),
        Err(JsonError::NotStringArray) => Err(NOT_STRING_ARRAY.to_string()),
        Err(JsonError::NotJson) => Ok(parse_strings_whitespace_delimited(line, start, end)),
    }
}

fn parse_name_or_name_val(line: &str, start: usize, end: usize, escape: char) -> Parsed<'_> {
    let words = parse_words(line, start, end, escape);
    let pairs = words
        .iter()
        .map(|word| match word.value.find('=') {
            Some(eq) => PairPart {
                key: Part::slice(line, word.start, word.start + eq),
                value: Some(after_equals(line, word, eq)),
                equals: true,
            },
            None => PairPart {
                key: word.clone(),
                value: None,
                equals: false,
            },
        })
        .collect();
    Parsed {
        args: words,
        pairs,
        ..Parsed::default()
    }
}

/// The value of a `key=value` word of [`parse_words`] whose `=` is at `eq` in the word.
fn after_equals<'a>(line: &'a str, word: &Part<'a>, eq: usize) -> Part<'a> {
    // A word's value is the start of its text: it may only lack a final escape character.
    let value_end = word.start + word.value.len();
    Part {
        value: Cow::Borrowed(&line[word.start + eq + 1..value_end]),
        start: word.start + eq + 1,
        end: word.end,
    }
}

/// ENV and LABEL: `KEY value` (old form) or `key=value ...`.
fn parse_name_val<'a>(
    line: &'a str,
    start: usize,
    end: usize,
    key: &str,
    escape: char,
) -> Result<Parsed<'a>, String> {
    let mut words = Words::new(line, start, end, escape).peekable();
    let Some(first) = words.peek() else {
        return Ok(Parsed::default());
    };
    if !first.value.contains('=') {
        let bytes = line.as_bytes();
        let Some(gap) = (start..end).find(|&i| is_re_whitespace(bytes[i])) else {
            return Err(format!("{key} must have two arguments"));
        };
        let value_start = (gap..end)
            .find(|&i| !is_re_whitespace(bytes[i]))
            .unwrap_or(end);
        let name = Part::slice(line, start, gap);
        let value = Part::slice(line, value_start, end);
        return Ok(Parsed {
            args: vec![
                name.clone(),
                value.clone(),
                Part::slice(line, value_start, value_start),
            ],
            pairs: vec![PairPart {
                key: name,
                value: Some(value),
                equals: false,
            }],
            ..Parsed::default()
        });
    }
    // Room for the usual one or two pairs.
    let mut parsed = Parsed {
        args: Vec::with_capacity(6),
        pairs: Vec::with_capacity(2),
        ..Parsed::default()
    };
    for word in words {
        let Some(eq) = word.value.find('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                super::dump::go_quote(&word.value)
            ));
        };
        let name = Part::slice(line, word.start, word.start + eq);
        let value = after_equals(line, &word, eq);
        let sep = Part::slice(line, word.start + eq, word.start + eq + 1);
        parsed.args.extend([name.clone(), value.clone(), sep]);
        parsed.pairs.push(PairPart {
            key: name,
            value: Some(value),
            equals: true,
        });
    }
    Ok(parsed)
}

fn parse_health_config(
    line: &str,
    start: usize,
    end: usize,
    escape: char,
) -> Result<Parsed<'_>, String> {
    let bytes = line.as_bytes();
    let sep = (start..end)
        .find(|&i| is_go_space_byte(bytes[i]))
        .unwrap_or(end);
    let next = (sep..end)
        .find(|&i| !is_go_space_byte(bytes[i]))
        .unwrap_or(end);
    if sep == start {
        return Ok(Parsed::default());
    }
    let mut parsed = parse_maybe_json(line, next, end, Some(escape))?;
    parsed.args.insert(0, Part::slice(line, start, sep));
    Ok(parsed)
}

fn parse_sub_command(
    line: &str,
    start: usize,
    end: usize,
    escape: char,
) -> Result<Parsed<'_>, String> {
    if start == end {
        return Ok(Parsed::default());
    }
    let child = node_from_line(line, start, end, escape)?;
    Ok(Parsed {
        sub: Some(Box::new(child)),
        ..Parsed::default()
    })
}

/// The bytes [`parse_words`] must look at: ASCII whitespace, quotes, both escape characters
/// and every non-ASCII byte.
const WORD_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = matches!(
            byte as u8,
            b'\t'..=b'\r' | b' ' | b'\'' | b'"' | b'\\' | b'`'
        ) || byte >= 0x80;
        byte += 1;
    }
    table
};

/// BuildKit's `parseWords`: whitespace-separated words, quotes and escapes kept as written.
///
/// A word's value is its text, except that an escape character ending `line[start..end]` is
/// left out (a word of only that character is no word).
pub(crate) fn parse_words(line: &str, start: usize, end: usize, escape: char) -> Vec<Part<'_>> {
    let mut words = Vec::with_capacity(4);
    words.extend(Words::new(line, start, end, escape));
    words
}

/// The words of [`parse_words`], one at a time.
struct Words<'a> {
    line: &'a str,
    /// Where the next word is looked for.
    at: usize,
    end: usize,
    /// The escape character is `\` or `` ` ``, so one byte.
    escape: u8,
}

impl<'a> Words<'a> {
    fn new(line: &'a str, start: usize, end: usize, escape: char) -> Self {
        Words {
            line,
            at: start,
            end,
            escape: escape as u8,
        }
    }
}

impl<'a> Iterator for Words<'a> {
    type Item = Part<'a>;

    fn next(&mut self) -> Option<Part<'a>> {
        let (line, end, escape) = (self.line, self.end, self.escape);
        let bytes = line.as_bytes();
        let mut i = self.at;
        loop {
            while i < end {
                match whitespace_len(line, i) {
                    0 => break,
                    len => i += len,
                }
            }
            if i == end {
                self.at = end;
                return None;
            }
            let word_start = i;
            let mut value_end = end;
            // The quote character while inside quotes, else 0.
            let mut quote = 0u8;
            while i < end {
                let byte = bytes[i];
                if !WORD_SPECIAL[usize::from(byte)] {
                    // Not whitespace, a quote, an escape character or part of a wider character.
                    i += 1;
                    continue;
                }
                if quote == 0 {
                    if whitespace_len(line, i) > 0 {
                        value_end = i;
                        break;
                    }
                    if byte == b'\'' || byte == b'"' {
                        quote = byte;
                    }
                } else if byte == quote {
                    quote = 0;
                }
                if byte == escape && (quote == 0 || quote == b'"') {
                    if i + 1 == end {
                        value_end = i;
                        i = end;
                        break;
                    }
                    i += 1;
                }
                i += char_len(bytes[i]);
            }
            if value_end > word_start {
                self.at = i;
                return Some(Part {
                    value: Cow::Borrowed(&line[word_start..value_end]),
                    start: word_start,
                    end: if i == end { end } else { value_end },
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(parts: &'a [Part]) -> Vec<&'a str> {
        parts.iter().map(|p| p.value.as_ref()).collect()
    }

    #[test]
    fn words_keep_quotes() {
        let line = r#"A="two words" B='x y' C=esc\ aped"#;
        let words = parse_words(line, 0, line.len(), '\\');
        assert_eq!(
            values(&words),
            vec![r#"A="two words""#, "B='x y'", r"C=esc\ aped"]
        );
        assert_eq!(&line[words[1].start..words[1].end], "B='x y'");
    }

    #[test]
    fn env_forms() {
        let line = "ENV OLD_STYLE value with spaces";
        let node = node_from_line(line, 0, line.len(), '\\').unwrap();
        assert_eq!(
            values(&node.args),
            vec!["OLD_STYLE", "value with spaces", ""]
        );
        let line = "ENV a=1 b";
        let err = node_from_line(line, 0, line.len(), '\\').unwrap_err();
        assert_eq!(
            err,
            "Syntax error - can't find = in \"b\". Must be of the form: name=value"
        );
    }

    #[test]
    fn onbuild_wraps_an_instruction() {
        let line = "ONBUILD RUN echo hi";
        let node = node_from_line(line, 0, line.len(), '\\').unwrap();
        let sub = node.sub.unwrap();
        assert_eq!(sub.kind, Keyword::Run);
        assert_eq!(values(&sub.args), vec!["echo hi"]);
    }
}
