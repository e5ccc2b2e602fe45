//! Which words of an instruction open a heredoc (BuildKit's `heredocsFromLine` and
//! `ParseHeredoc`, with the shell-word splitting of `shell/lex.go`).

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
fn glue_markers(words: Vec<String>) -> Vec<String> {
    let mut glued: Vec<String> = Vec::with_capacity(words.len());
    let mut pending: Option<String> = None;
    for word in words {
        match pending.take() {
            Some(operator) => glued.push(operator + &word),
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
    let cooked = lex_words(rest, false).ok()?;
    let [name] = cooked.as_slice() else {
        return None;
    };
    let raw = lex_words(rest, true).ok()?;
    let [raw_name] = raw.as_slice() else {
        return None;
    };
    let quotes = |s: &str| s.chars().filter(|&c| c == '\'' || c == '"').count();
    Some(HeredocMarker {
        name: name.clone(),
        fd,
        expand: quotes(name) == quotes(raw_name),
        chomp,
    })
}

/// Shell-word splitting with `\` as escape and unset variables left as written.
/// `raw` keeps quotes and escapes in the words (BuildKit's `RawQuotes`/`RawEscapes`).
fn lex_words(text: &str, raw: bool) -> Result<Vec<String>, ()> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        match ch {
            '\'' => {
                let close = chars[i + 1..].iter().position(|&c| c == '\'').ok_or(())? + i + 1;
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
}
