//! JSON-array arguments (`["a", "b"]`), with the span of each element.

use std::borrow::Cow;

use super::split_command::{trim_space_start, Part};

pub(crate) enum JsonError {
    /// Not a JSON array: the arguments are read in shell form instead.
    NotJson,
    /// A valid JSON array with a non-string element: an error, as in BuildKit.
    NotStringArray,
}

/// BuildKit's `parseJSON` over `line[start..end]`.
pub(crate) fn parse_json_array(
    line: &str,
    start: usize,
    end: usize,
) -> Result<Vec<Part<'_>>, JsonError> {
    let text = &line[start..end];
    let trimmed = trim_space_start(text);
    let offset = start + (text.len() - trimmed.len());
    if !trimmed.starts_with('[') {
        return Err(JsonError::NotJson);
    }
    if let Some(parts) = plain_string_array(trimmed, offset) {
        return Ok(parts);
    }
    let values: Vec<serde_json::Value> =
        serde_json::from_str(trimmed).map_err(|_| JsonError::NotJson)?;
    let mut strings = Vec::with_capacity(values.len());
    for value in values {
        match value {
            serde_json::Value::String(s) => strings.push(s),
            _ => return Err(JsonError::NotStringArray),
        }
    }
    let spans = top_level_string_spans(trimmed);
    if spans.len() != strings.len() {
        return Err(JsonError::NotJson);
    }
    Ok(strings
        .into_iter()
        .zip(spans)
        .map(|(value, (s, e))| Part {
            value: Cow::Owned(value),
            start: offset + s,
            end: offset + e,
        })
        .collect())
}

/// The usual case without serde_json: an array of strings without escapes or control
/// characters, each borrowed as written. `None` for anything else (serde_json decides).
fn plain_string_array(json: &str, offset: usize) -> Option<Vec<Part<'_>>> {
    let bytes = json.as_bytes();
    let skip_whitespace = |mut at: usize| {
        while bytes
            .get(at)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            at += 1;
        }
        at
    };
    let mut parts = Vec::with_capacity(4);
    let mut at = skip_whitespace(1);
    if bytes.get(at) == Some(&b']') {
        at += 1;
    } else {
        loop {
            if bytes.get(at) != Some(&b'"') {
                return None;
            }
            let open = at;
            at += 1;
            loop {
                match *bytes.get(at)? {
                    b'"' => break,
                    b'\\' | ..0x20 => return None,
                    _ => at += 1,
                }
            }
            parts.push(Part {
                value: Cow::Borrowed(&json[open + 1..at]),
                start: offset + open,
                end: offset + at + 1,
            });
            at = skip_whitespace(at + 1);
            match bytes.get(at) {
                Some(b',') => at = skip_whitespace(at + 1),
                Some(b']') => {
                    at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (skip_whitespace(at) == bytes.len()).then_some(parts)
}

/// Byte ranges of the string literals directly inside the outer array of valid JSON.
fn top_level_string_spans(json: &str) -> Vec<(usize, usize)> {
    let bytes = json.as_bytes();
    let mut spans = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if depth == 1 {
                    spans.push((start, (i + 1).min(bytes.len())));
                }
            }
            _ => {}
        }
        i += 1;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_and_spans() {
        let line = r#"CMD [ "node", "a \"b\"" ]"#;
        let Ok(parts) = parse_json_array(line, 4, line.len()) else {
            panic!("valid JSON array");
        };
        assert_eq!(parts[0].value, "node");
        assert_eq!(&line[parts[0].start..parts[0].end], "\"node\"");
        assert_eq!(parts[1].value, "a \"b\"");
        assert_eq!(&line[parts[1].start..parts[1].end], r#""a \"b\"""#);
    }

    #[test]
    fn plain_and_escaped_arrays_agree_with_serde_json() {
        for json in [
            r#"[]"#,
            r#"[ "a" , "b c" ]"#,
            "[\"a\"]\r\n",
            r#"["é", "a\"b", "\u00e9"]"#,
            r#"["tab\there"]"#,
        ] {
            let Ok(parts) = parse_json_array(json, 0, json.len()) else {
                panic!("valid JSON array {json:?}");
            };
            let expected: Vec<String> = serde_json::from_str(json).unwrap();
            let values: Vec<&str> = parts.iter().map(|part| part.value.as_ref()).collect();
            assert_eq!(values, expected, "{json:?}");
        }
        for json in [
            r#"["a",]"#,
            r#"["a"] x"#,
            "[\"a\"]\u{a0}",
            "[\"a\tb\"]",
            r#"["a" "b"]"#,
        ] {
            assert!(
                matches!(
                    parse_json_array(json, 0, json.len()),
                    Err(JsonError::NotJson)
                ),
                "{json:?}"
            );
        }
    }

    #[test]
    fn non_strings_are_errors_and_invalid_json_is_shell() {
        assert!(matches!(
            parse_json_array("[1]", 0, 3),
            Err(JsonError::NotStringArray)
        ));
        assert!(matches!(
            parse_json_array("[ \"a\", b ]", 0, 10),
            Err(JsonError::NotJson)
        ));
        assert!(matches!(
            parse_json_array("['a']", 0, 5),
            Err(JsonError::NotJson)
        ));
    }
}
