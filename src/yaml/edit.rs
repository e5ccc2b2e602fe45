//! Edits to YAML text: a scalar's value replaced inside its quotes, entries added to a
//! block mapping at its own indentation, in the file's line endings.

use super::{Kind, Node, Quoting};
use crate::edit::Edit;
use crate::syntax::Span;

/// The file's line ending: `\r\n` when its first line ends so.
pub fn line_ending(source: &str) -> &'static str {
    match source.find('\n') {
        Some(at) if at > 0 && source.as_bytes()[at - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// The span of a scalar's value in the text, when the text spells the value as is (no
/// escapes, no folded lines): inside the quotes, or the plain scalar itself.
fn value_span(source: &str, node: &Node) -> Option<Span> {
    let Kind::Scalar { value, quoting } = &node.kind else {
        return None;
    };
    let inner = match quoting {
        Quoting::Plain => node.span,
        Quoting::Single | Quoting::Double if node.span.len() >= 2 => {
            Span::new(node.span.start + 1, node.span.end - 1)
        }
        _ => return None,
    };
    (source.get(inner.start..inner.end) == Some(value.as_str()) && !value.contains('\n'))
        .then_some(inner)
}

/// Replaces a scalar's value, keeping its quotes.
pub fn replace_scalar(source: &str, node: &Node, new: &str) -> Option<Edit> {
    value_span(source, node).map(|span| Edit::replace(span, new))
}

/// Replaces the bytes `range` of a scalar's value, keeping the rest.
pub fn replace_in_scalar(
    source: &str,
    node: &Node,
    range: std::ops::Range<usize>,
    new: &str,
) -> Option<Edit> {
    let span = value_span(source, node)?;
    (range.end <= span.len()).then(|| {
        Edit::replace(
            Span::new(span.start + range.start, span.start + range.end),
            new,
        )
    })
}

/// The column (in bytes) of a block mapping's keys.
fn block_indent(source: &str, map: &Node) -> Option<usize> {
    if map.flow {
        return None;
    }
    let (key, _) = map.entries().first()?;
    let line_start = source[..key.span.start].rfind('\n').map_or(0, |at| at + 1);
    let column = key.span.start - line_start;
    source[line_start..key.span.start]
        .bytes()
        .all(|b| b == b' ' || b == b'-')
        .then_some(column)
}

/// Adds `lines` (YAML lines, indented relative to each other with two spaces) as entries of
/// the mapping `map` whose key is `key`: after the mapping's last line, at its keys' column;
/// an empty `{}` becomes a block mapping. `None` when the mapping is written in a way this
/// does not edit (a non-empty flow mapping, tabs).
pub fn insert_entries(source: &str, key: &Node, map: &Node, lines: &[String]) -> Option<Edit> {
    let eol = line_ending(source);
    if map.flow {
        if !map.entries().is_empty() || map.span.text(source) != "{}" {
            return None;
        }
        let line_start = source[..key.span.start].rfind('\n').map_or(0, |at| at + 1);
        let indent = key.span.start - line_start + 2;
        let mut content = String::new();
        for line in lines {
            content.push_str(eol);
            content.push_str(&" ".repeat(indent));
            content.push_str(line);
        }
        // `key: {}` → `key:` and the lines below it.
        let colon_end = source[key.span.end..map.span.start]
            .find(':')
            .map(|at| key.span.end + at + 1)?;
        return Some(Edit::replace(Span::new(colon_end, map.span.end), content));
    }
    let indent = block_indent(source, map)?;
    let at = line_end(source, last_text_end(source, map));
    let mut content = String::new();
    for line in lines {
        content.push_str(eol);
        content.push_str(&" ".repeat(indent));
        content.push_str(line);
    }
    Some(Edit::insert(at, content))
}

/// The end of the node's last character that is not white space (a block scalar's span
/// runs on to the next token).
fn last_text_end(source: &str, node: &Node) -> usize {
    source[..node.end()].trim_end().len()
}

/// The end of the line `at` is on, before its line ending (after a trailing comment).
fn line_end(source: &str, at: usize) -> usize {
    match source[at..].find('\n') {
        Some(offset) => {
            let end = at + offset;
            if end > 0 && source.as_bytes()[end - 1] == b'\r' {
                end - 1
            } else {
                end
            }
        }
        None => source.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use crate::edit::{apply_fixes, Applicability, Fix};

    fn apply(source: &str, edits: Vec<Edit>) -> String {
        let fix = Fix::new("t", Applicability::Safe, edits);
        apply_fixes(source, &[&fix], Applicability::Safe).text
    }

    #[test]
    fn replaces_inside_quotes_and_plain() {
        let source = "a: \"80\"\nb: '8080:80' # c\nc: 80\n";
        let doc = &parse(source).unwrap().documents[0];
        let edits = vec![
            replace_scalar(source, doc.get("a").unwrap(), "8080").unwrap(),
            replace_in_scalar(source, doc.get("b").unwrap(), 5..7, "8080").unwrap(),
            replace_scalar(source, doc.get("c").unwrap(), "8080").unwrap(),
        ];
        assert_eq!(
            apply(source, edits),
            "a: \"8080\"\nb: '8080:8080' # c\nc: 8080\n"
        );
    }

    #[test]
    fn escaped_scalars_are_not_edited() {
        let source = "a: \"8\\x30\"\n";
        let doc = &parse(source).unwrap().documents[0];
        assert_eq!(replace_scalar(source, doc.get("a").unwrap(), "1"), None);
    }

    #[test]
    fn inserts_after_the_last_line_at_the_keys_column() {
        let source = "spec:\r\n  containers:\r\n    - name: web # the app\r\n      image: x\r\n      args: |\r\n        a\r\n# end\r\n";
        let doc = &parse(source).unwrap().documents[0];
        let container = &doc.at(&["spec", "containers"]).unwrap().items()[0];
        let key = &container.entries()[0].0;
        let edit = insert_entries(
            source,
            key,
            container,
            &[
                "securityContext:".to_string(),
                "  runAsNonRoot: true".to_string(),
            ],
        )
        .unwrap();
        assert_eq!(
            apply(source, vec![edit]),
            "spec:\r\n  containers:\r\n    - name: web # the app\r\n      image: x\r\n      args: |\r\n        a\r\n      securityContext:\r\n        runAsNonRoot: true\r\n# end\r\n"
        );
    }

    #[test]
    fn an_empty_flow_mapping_becomes_a_block() {
        let source = "c:\n  securityContext: {}\n  image: x\n";
        let doc = &parse(source).unwrap().documents[0];
        let (key, map) = doc.get("c").unwrap().entry("securityContext").unwrap();
        let edit = insert_entries(source, key, map, &["runAsUser: 1000".to_string()]).unwrap();
        let out = apply(source, vec![edit]);
        assert_eq!(
            out,
            "c:\n  securityContext:\n    runAsUser: 1000\n  image: x\n"
        );
        parse(&out).unwrap();
    }
}
