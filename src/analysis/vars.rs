//! Variables in instruction values (`$NAME`, `${NAME}`, `${NAME:-default}`…): expanding
//! them, and finding the names a text reads.

use std::collections::HashMap;

/// What a variable is at one point of the build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    Set(&'a str),
    /// Not set: BuildKit expands it to nothing (`${X:-default}` takes the default).
    Unset,
    /// Set by something unroot cannot see (a `--build-arg`, the base image's environment).
    Unknown,
}

/// Where variable values come from.
pub trait Lookup {
    fn value(&self, name: &str) -> Value<'_>;
}

/// Values as given; any other name is unset.
impl<S: std::hash::BuildHasher> Lookup for HashMap<String, String, S> {
    fn value(&self, name: &str) -> Value<'_> {
        self.get(name).map_or(Value::Unset, |v| Value::Set(v))
    }
}

/// Declared names: `None` is declared without a value (`ARG V`: the build passes it).
impl<S: std::hash::BuildHasher> Lookup for HashMap<String, Option<String>, S> {
    fn value(&self, name: &str) -> Value<'_> {
        match self.get(name) {
            Some(Some(v)) => Value::Set(v),
            Some(None) => Value::Unknown,
            None => Value::Unset,
        }
    }
}

/// The length of the variable name at the start of `text` (ASCII letters, digits, `_`).
pub fn name_len(text: &str) -> usize {
    text.bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count()
}

/// [`expand`] with the default escape character `\`.
pub fn substitute(text: &str, vars: &impl Lookup) -> Option<String> {
    expand(text, vars, '\\')
}

/// What BuildKit makes of one word of an instruction (its shell lexer's `ProcessWord`,
/// `frontend/dockerfile/shell/lex.go`): quotes removed, escapes resolved, variables expanded
/// (`$X`, `${X}`, `${X:-default}`, `${X-default}`, `${X:+alt}`, `${X+alt}`, `${X?message}`,
/// `${X#prefix}`, `${X%suffix}`); an unset variable is empty. `None` when the result depends
/// on a value unroot cannot know, uses a form unroot does not evaluate (`${X/a/b}`, a glob
/// in `${X#…}`), or BuildKit would reject the word (an open quote, `${X?}` of an unset X).
pub fn expand(text: &str, vars: &impl Lookup, escape: char) -> Option<String> {
    // Most words have nothing to expand, unquote or unescape: they are their value.
    if !text.contains(['$', '\'', '"', escape]) {
        return Some(text.to_string());
    }
    let mut lexer = Lexer {
        chars: text.chars().collect(),
        pos: 0,
        vars,
        escape,
    };
    lexer.until(None, false)
}

struct Lexer<'v, L> {
    chars: Vec<char>,
    pos: usize,
    vars: &'v L,
    escape: char,
}

impl<L: Lookup> Lexer<'_, L> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let ch = self.peek();
        self.pos += usize::from(ch.is_some());
        ch
    }

    /// `processStopOn`: up to `stop` (consumed), or the end when `stop` is `None`.
    fn until(&mut self, stop: Option<char>, raw_escapes: bool) -> Option<String> {
        let mut out = String::new();
        while let Some(ch) = self.peek() {
            if Some(ch) == stop {
                self.pos += 1;
                return Some(out);
            }
            match ch {
                '$' => out.push_str(&self.dollar()?),
                '\'' => out.push_str(&self.single_quoted()?),
                '"' => out.push_str(&self.double_quoted(raw_escapes)?),
                _ => {
                    self.pos += 1;
                    let mut ch = ch;
                    if ch == self.escape {
                        if raw_escapes {
                            out.push(ch);
                        }
                        match self.next() {
                            Some(escaped) => ch = escaped,
                            None => break,
                        }
                    }
                    out.push(ch);
                }
            }
        }
        stop.is_none().then_some(out)
    }

    fn single_quoted(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.next()? {
                '\'' => return Some(out),
                ch => out.push(ch),
            }
        }
    }

    fn double_quoted(&mut self, raw_escapes: bool) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek()? {
                '"' => {
                    self.pos += 1;
                    return Some(out);
                }
                '$' => out.push_str(&self.dollar()?),
                _ => {
                    let mut ch = self.next()?;
                    if ch == self.escape {
                        if raw_escapes {
                            out.push(ch);
                        }
                        match self.peek() {
                            None => continue,
                            Some(next) if next == '"' || next == '$' || next == self.escape => {
                                ch = next;
                                self.pos += 1;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(ch);
                }
            }
        }
    }

    /// `processName`: a name, a run of digits, or one special parameter (`$@`, `$?`…).
    fn name(&mut self) -> String {
        let mut name = String::new();
        match self.peek() {
            Some(ch) if ch.is_numeric() => {
                while let Some(ch) = self.peek().filter(|c| c.is_numeric()) {
                    name.push(ch);
                    self.pos += 1;
                }
            }
            Some(ch @ ('@' | '*' | '#' | '?' | '-' | '$' | '!' | '0')) => {
                self.pos += 1;
                name.push(ch);
            }
            _ => {
                while let Some(ch) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
                    name.push(ch);
                    self.pos += 1;
                }
            }
        }
        name
    }

    fn lookup(&self, name: &str) -> Option<Option<String>> {
        match self.vars.value(name) {
            Value::Set(value) => Some(Some(value.to_string())),
            Value::Unset => Some(None),
            Value::Unknown => None,
        }
    }

    /// `processDollar`.
    fn dollar(&mut self) -> Option<String> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Some("$".to_string());
            }
            return Some(self.lookup(&name)?.unwrap_or_default());
        }
        self.pos += 1;
        if matches!(self.peek(), None | Some('{' | '}' | ':')) {
            return None;
        }
        let name = self.name();
        let mut modifier = self.next()?;
        let mut null_is_unset = false;
        if modifier == '}' {
            return Some(self.lookup(&name)?.unwrap_or_default());
        }
        if modifier == ':' {
            null_is_unset = true;
            modifier = self.next()?;
        }
        if !matches!(modifier, '+' | '-' | '?' | '#' | '%') {
            return None;
        }
        let raw_escapes = modifier == '#' || modifier == '%';
        if null_is_unset && raw_escapes {
            return None;
        }
        let word = self.until(Some('}'), raw_escapes)?;
        let value = self.lookup(&name)?;
        let empty = match &value {
            None => true,
            Some(v) => null_is_unset && v.is_empty(),
        };
        match modifier {
            '-' => Some(if empty {
                word
            } else {
                value.unwrap_or_default()
            }),
            '+' => Some(if empty { String::new() } else { word }),
            // `${X?message}`: the build fails when X is unset (or empty, with `:`).
            '?' => value.filter(|_| !empty),
            _ => {
                let value = value.unwrap_or_default();
                let (greedy, pattern) = match word.strip_prefix(modifier) {
                    Some(rest) => (true, rest),
                    None => (false, word.as_str()),
                };
                // Only literal patterns: a glob's match is left to BuildKit.
                if greedy || pattern.contains(['*', '?', '[', '\\']) {
                    return None;
                }
                Some(if modifier == '#' {
                    value.strip_prefix(pattern).unwrap_or(&value).to_string()
                } else {
                    value.strip_suffix(pattern).unwrap_or(&value).to_string()
                })
            }
        }
    }
}

/// A word without variables with its quotes and escapes resolved, and for each byte of the
/// result the offset of the byte it comes from in `text`; `None` when `text` has a variable
/// or an open quote. Edits to the result map back to `text` through it.
pub fn literal_word(text: &str, escape: char) -> Option<(String, Vec<usize>)> {
    let mut out = String::new();
    let mut from = Vec::new();
    let mut push = |out: &mut String, at: usize, ch: char| {
        out.push(ch);
        from.extend(std::iter::repeat_n(at, ch.len_utf8()));
    };
    let mut chars = text.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((at, ch)) = chars.next() {
        match (quote, ch) {
            (None, '\'' | '"') => quote = Some(ch),
            (Some(open), _) if ch == open => quote = None,
            (Some('\''), _) => push(&mut out, at, ch),
            (_, '$') => return None,
            (None, _) if ch == escape => match chars.next() {
                Some((at, escaped)) => push(&mut out, at, escaped),
                None => break,
            },
            (Some(_), _) if ch == escape => match chars.peek() {
                Some(&(at, next)) if next == '"' || next == '$' || next == escape => {
                    chars.next();
                    push(&mut out, at, next);
                }
                Some(_) => push(&mut out, at, ch),
                None => {}
            },
            _ => push(&mut out, at, ch),
        }
    }
    quote.is_none().then_some((out, from))
}

/// Names read as `$NAME` or `${NAME…}` in `text` (defaults included: `${A:-$B}` reads both).
pub fn names(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            if bytes[i] != b'$' {
                i += 1;
                continue;
            }
            let start = i + 1 + usize::from(bytes.get(i + 1) == Some(&b'{'));
            let len = name_len(text.get(start..).unwrap_or(""));
            i = start + len;
            if len > 0 {
                return Some(&text[start..start + len]);
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_forms() {
        let vars: HashMap<String, String> = [
            ("A".to_string(), "node".to_string()),
            ("E".to_string(), String::new()),
        ]
        .into();
        assert_eq!(substitute("${A}", &vars).as_deref(), Some("node"));
        assert_eq!(substitute("$A:$A", &vars).as_deref(), Some("node:node"));
        assert_eq!(substitute("${B:-app}", &vars).as_deref(), Some("app"));
        assert_eq!(substitute("${E:-x}", &vars).as_deref(), Some("x"));
        assert_eq!(substitute("${E-x}", &vars).as_deref(), Some(""));
        assert_eq!(substitute("${A:+alt}", &vars).as_deref(), Some("alt"));
        assert_eq!(substitute("${E:+alt}", &vars).as_deref(), Some(""));
        assert_eq!(substitute("${E+alt}", &vars).as_deref(), Some("alt"));
        assert_eq!(substitute("${B+alt}", &vars).as_deref(), Some(""));
        // Unset is empty, as in BuildKit.
        assert_eq!(substitute("${B}", &vars).as_deref(), Some(""));
        assert_eq!(substitute("x$B.y", &vars).as_deref(), Some("x.y"));
        assert_eq!(substitute("plain", &vars).as_deref(), Some("plain"));
        assert_eq!(
            substitute("\\$A $ é$A", &vars).as_deref(),
            Some("$A $ énode")
        );
        assert_eq!(substitute("${A", &vars), None);
        assert_eq!(substitute("${B?must be set}", &vars), None);
        assert_eq!(
            substitute("${A?must be set}", &vars).as_deref(),
            Some("node")
        );
        assert_eq!(substitute("${A#no}", &vars).as_deref(), Some("de"));
        assert_eq!(substitute("${A%de}", &vars).as_deref(), Some("no"));
        assert_eq!(substitute("${A%*e}", &vars), None);
        assert_eq!(substitute("${A/o/0}", &vars), None);
    }

    #[test]
    fn quotes_and_escapes_as_buildkit() {
        let vars: HashMap<String, String> = [("A".to_string(), "node".to_string())].into();
        assert_eq!(
            substitute("\"node:lts\"", &vars).as_deref(),
            Some("node:lts")
        );
        assert_eq!(substitute("'node':lts", &vars).as_deref(), Some("node:lts"));
        assert_eq!(substitute("'$A'", &vars).as_deref(), Some("$A"));
        assert_eq!(substitute("\"$A\"x", &vars).as_deref(), Some("nodex"));
        assert_eq!(
            substitute("\"a\\\"b\\c\"", &vars).as_deref(),
            Some("a\"b\\c")
        );
        assert_eq!(substitute("a\\ b", &vars).as_deref(), Some("a b"));
        assert_eq!(substitute("\"open", &vars), None);
        assert_eq!(expand("`$A", &vars, '`').as_deref(), Some("$A"));
    }

    #[test]
    fn unknown_values_stay_unknown() {
        let vars: HashMap<String, Option<String>> = [
            ("V".to_string(), None),
            ("W".to_string(), Some("22".to_string())),
        ]
        .into();
        assert_eq!(substitute("node:${V}", &vars), None);
        assert_eq!(substitute("node:${V:-22}", &vars), None);
        assert_eq!(substitute("node:${W}", &vars).as_deref(), Some("node:22"));
        assert_eq!(substitute("node:${X}", &vars).as_deref(), Some("node:"));
    }

    #[test]
    fn literal_words_map_back_to_their_bytes() {
        let (word, from) = literal_word("\"node:lts\"", '\\').unwrap();
        assert_eq!(word, "node:lts");
        assert_eq!((from[0], from[7]), (1, 8));
        let (word, from) = literal_word("'node':lts", '\\').unwrap();
        assert_eq!(word, "node:lts");
        assert_eq!((from[3], from[4], from[5]), (4, 6, 7));
        assert_eq!(literal_word("node:$V", '\\'), None);
        assert_eq!(literal_word("'node", '\\'), None);
        assert_eq!(literal_word("no\\de", '\\').unwrap().0, "node");
    }

    #[test]
    fn finds_the_names_a_text_reads() {
        let found: Vec<&str> = names("$A ${B:-$C} $ ${} $1x é$D_2").collect();
        assert_eq!(found, ["A", "B", "C", "1x", "D_2"]);
    }
}
