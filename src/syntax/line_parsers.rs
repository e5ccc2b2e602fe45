//! Each instruction's argument grammar: BuildKit's `line_parsers.go` and `newNodeFromLine`.

use super::ast::Keyword;
use super::json::{parse_json_array, JsonError};
use super::split_command::{is_go_space_byte, is_re_whitespace, split_command, Part};

const NOT_STRING_ARRAY: &str =
    "when using JSON array syntax, arrays must be comprised of strings only";

#[derive(Debug)]
pub(crate) struct PairPart {
    pub key: Part,
    pub value: Option<Part>,
    pub equals: bool,
}

/// What BuildKit's `newNodeFromLine` makes of a logical line, with logical-line offsets.
#[derive(Debug)]
pub(crate) struct Node {
    pub keyword: Part,
    pub kind: Keyword,
    pub flags: Vec<Part>,
    pub args: Vec<Part>,
    pub json: bool,
    pub pairs: Vec<PairPart>,
    pub shell_words: Vec<Part>,
    pub sub: Option<Box<Node>>,
    /// The text this node was parsed from (`Node.Original`).
    pub start: usize,
    pub end: usize,
}

impl Node {
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
struct Parsed {
    args: Vec<Part>,
    json: bool,
    pairs: Vec<PairPart>,
    shell_words: Vec<Part>,
    sub: Option<Box<Node>>,
}

/// Parses `line[start..end]` as one instruction.
pub(crate) fn node_from_line(
    line: &str,
    start: usize,
    end: usize,
    escape: char,
) -> Result<Node, String> {
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
            args: vec![Part {
                value: String::new(),
                start: a,
                end: a,
            }],
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

fn part(line: &str, start: usize, end: usize) -> Part {
    Part {
        value: line[start..end].to_string(),
        start,
        end,
    }
}

fn parse_string(line: &str, start: usize, end: usize) -> Parsed {
    if start == end {
        return Parsed::default();
    }
    Parsed {
        args: vec![part(line, start, end)],
        ..Parsed::default()
    }
}

/// Splits on `[\t\v\f\r ]+` like Go's `regexp.Split` (an empty input gives no words).
fn parse_strings_whitespace_delimited(line: &str, start: usize, end: usize) -> Parsed {
    if start == end {
        return Parsed::default();
    }
    Parsed {
        args: split_re_whitespace(line, start, end),
        ..Parsed::default()
    }
}

fn split_re_whitespace(line: &str, start: usize, end: usize) -> Vec<Part> {
    let bytes = line.as_bytes();
    let mut words = Vec::new();
    let mut word_start = start;
    let mut i = start;
    while i < end {
        if is_re_whitespace(bytes[i]) {
            words.push(part(line, word_start, i));
            while i < end && is_re_whitespace(bytes[i]) {
                i += 1;
            }
            word_start = i;
        } else {
            i += 1;
        }
    }
    words.push(part(line, word_start, end));
    words
}

/// `split_words`: the escape character when the shell form should be split into words.
fn parse_maybe_json(
    line: &str,
    start: usize,
    end: usize,
    split_words: Option<char>,
) -> Result<Parsed, String> {
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
            args: vec![part(line, start, end)],
            shell_words: split_words
                .map_or_else(Vec::new, |escape| parse_words(line, start, end, escape)),
            ..Parsed::default()
        }),
    }
}

fn parse_maybe_json_to_list(line: &str, start: usize, end: usize) -> Result<Parsed, String> {
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

fn parse_name_or_name_val(line: &str, start: usize, end: usize, escape: char) -> Parsed {
    let words = parse_words(line, start, end, escape);
    let pairs = words
        .iter()
        .map(|word| match word.value.find('=') {
            Some(eq) => PairPart {
                key: part(line, word.start, word.start + eq),
                value: Some(Part {
                    value: word.value[eq + 1..].to_string(),
                    start: word.start + eq + 1,
                    end: word.end,
                }),
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

/// ENV and LABEL: `KEY value` (old form) or `key=value ...`.
fn parse_name_val(
    line: &str,
    start: usize,
    end: usize,
    key: &str,
    escape: char,
) -> Result<Parsed, String> {
    let words = parse_words(line, start, end, escape);
    let Some(first) = words.first() else {
        return Ok(Parsed::default());
    };
    let mut parsed = Parsed::default();
    if !first.value.contains('=') {
        let bytes = line.as_bytes();
        let Some(gap) = (start..end).find(|&i| is_re_whitespace(bytes[i])) else {
            return Err(format!("{key} must have two arguments"));
        };
        let value_start = (gap..end)
            .find(|&i| !is_re_whitespace(bytes[i]))
            .unwrap_or(end);
        let name = part(line, start, gap);
        let value = part(line, value_start, end);
        parsed.args = vec![
            name.clone(),
            value.clone(),
            Part {
                value: String::new(),
                start: value_start,
                end: value_start,
            },
        ];
        parsed.pairs.push(PairPart {
            key: name,
            value: Some(value),
            equals: false,
        });
        return Ok(parsed);
    }
    for word in &words {
        let Some(eq) = word.value.find('=') else {
            return Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                super::dump::go_quote(&word.value)
            ));
        };
        let name = Part {
            value: word.value[..eq].to_string(),
            start: word.start,
            end: word.start + eq,
        };
        let value = Part {
            value: word.value[eq + 1..].to_string(),
            start: word.start + eq + 1,
            end: word.end,
        };
        let sep = Part {
            value: "=".to_string(),
            start: word.start + eq,
            end: word.start + eq + 1,
        };
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
) -> Result<Parsed, String> {
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
    parsed.args.insert(0, part(line, start, sep));
    Ok(parsed)
}

fn parse_sub_command(line: &str, start: usize, end: usize, escape: char) -> Result<Parsed, String> {
    if start == end {
        return Ok(Parsed::default());
    }
    let child = node_from_line(line, start, end, escape)?;
    Ok(Parsed {
        sub: Some(Box::new(child)),
        ..Parsed::default()
    })
}

/// BuildKit's `parseWords`: whitespace-separated words, quotes and escapes kept as written.
pub(crate) fn parse_words(line: &str, start: usize, end: usize, escape: char) -> Vec<Part> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let text = &line[start..end];
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut word_start = 0;
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut i = 0;
    let at = |i: usize| chars.get(i).map_or(text.len(), |&(offset, _)| offset);
    let mut push = |word: &mut String, word_start: usize, word_end: usize| {
        words.push(Part {
            value: std::mem::take(word),
            start: start + word_start,
            end: start + word_end,
        });
    };
    while i <= chars.len() {
        let ch = chars.get(i).map_or('\0', |&(_, c)| c);
        if phase == Phase::Spaces {
            if i == chars.len() {
                break;
            }
            if ch.is_whitespace() {
                i += 1;
                continue;
            }
            phase = Phase::Word;
            word_start = at(i);
        }
        if i == chars.len() {
            if blank_ok || !word.is_empty() {
                push(&mut word, word_start, text.len());
            }
            break;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    push(&mut word, word_start, at(i));
                }
                word.clear();
                blank_ok = false;
                i += 1;
                continue;
            }
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if i + 1 == chars.len() {
                    i += 1;
                    continue;
                }
                word.push(ch);
                i += 1;
                word.push(chars[i].1);
                i += 1;
                continue;
            }
            word.push(ch);
            i += 1;
            continue;
        }
        // Phase::Quote
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if i + 1 == chars.len() {
                phase = Phase::Word;
                i += 1;
                continue;
            }
            word.push(ch);
            i += 1;
            word.push(chars[i].1);
            i += 1;
            continue;
        }
        word.push(ch);
        i += 1;
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(parts: &[Part]) -> Vec<&str> {
        parts.iter().map(|p| p.value.as_str()).collect()
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
