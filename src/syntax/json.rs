//! JSON-array arguments (`["a", "b"]`), with the span of each element.

use std::borrow::Cow;

use super::split_command::Part;

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
) -> Result<Vec<Part<'static>>, JsonError> {
    let text = &line[start..end];
    let trimmed = text.trim_start();
    let offset = start + (text.len() - trimmed.len());
    if !trimmed.starts_with('[') {
        return Err(JsonError::NotJson);
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
