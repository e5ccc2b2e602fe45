//! Lossless YAML: a tree of nodes with exact byte spans into the original text, for reading
//! Compose and Kubernetes files and editing them with byte-range splices (comments, anchors,
//! quoting and indentation are never rewritten).
//!
//! The events come from `saphyr-parser` (a YAML 1.2 parser, the successor of yaml-rust2);
//! its markers count characters, which are turned into byte offsets here, and the span of a
//! quoted scalar is trimmed to its closing quote. A text that does not parse is an error and
//! is never edited.

mod edit;

pub use edit::{insert_entries, replace_in_scalar, replace_scalar};

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::syntax::Span;

/// Why a text is not YAML unroot can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)
    }
}

/// How a scalar is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quoting {
    Plain,
    Single,
    Double,
    /// `|` or `>`: never edited in place.
    Block,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Scalar {
        value: String,
        quoting: Quoting,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// `*name`: the id of the anchor ([`Node::anchor`]).
    Alias(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// A scalar's text with its quotes; a flow collection from its bracket to the closing
    /// one; a block collection from its first child's start to its last child's end.
    pub span: Span,
    /// `[…]` or `{…}`.
    pub flow: bool,
    /// The id of `&name` on this node, 0 for none.
    pub anchor: usize,
    pub kind: Kind,
}

/// A parsed file: its documents (split by `---`).
#[derive(Debug)]
pub struct Stream {
    pub documents: Vec<Node>,
}

impl Node {
    /// A scalar's value.
    pub fn str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.kind {
            Kind::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.kind, Kind::Map(_))
    }

    pub fn is_seq(&self) -> bool {
        matches!(self.kind, Kind::Seq(_))
    }

    /// The value of `key` in a mapping (the last one, as YAML loaders keep).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, value)| value)
    }

    /// The key and value of `key` in a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries()
            .iter()
            .rev()
            .find(|(k, _)| k.str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// `get` along a path of keys.
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| node.get(key))
    }

    /// A scalar that is a whole number (`80`, `"80"`).
    pub fn number(&self) -> Option<u32> {
        let value = self.str()?;
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        value.parse().ok()
    }

    /// True when a merge key (`<<: *anchor`) adds entries that this mapping does not spell.
    pub fn merges(&self) -> bool {
        self.entries()
            .iter()
            .any(|(key, _)| key.str() == Some("<<"))
    }

    /// The end of the last text the node spans (a block collection's last descendant).
    pub fn end(&self) -> usize {
        self.span.end
    }
}

/// Parses `source`; every document, in order.
pub fn parse(source: &str) -> Result<Stream, YamlError> {
    // Byte offset of each character, and of the end.
    let offsets: Vec<usize> = source
        .char_indices()
        .map(|(at, _)| at)
        .chain(std::iter::once(source.len()))
        .collect();
    let byte = |index: usize| offsets.get(index).copied().unwrap_or(source.len());
    let mut parser = Parser::new_from_str(source);
    let mut builder = Builder {
        stack: Vec::new(),
        documents: Vec::new(),
    };
    // The line of the last offset asked about: events mostly move forward, so each line is
    // counted from the one before (from the start, the whole is quadratic in the file).
    let mut lines = LineCursor::default();
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|err| YamlError {
            line: err.marker().line().max(1),
            message: err.info().to_string(),
        })?;
        let span = Span::new(byte(span.start.index()), byte(span.end.index()));
        let line = lines.line_of(source, span.start);
        match event {
            Event::StreamEnd => break,
            Event::Scalar(value, style, anchor, _) => {
                let quoting = match style {
                    ScalarStyle::Plain => Quoting::Plain,
                    ScalarStyle::SingleQuoted => Quoting::Single,
                    ScalarStyle::DoubleQuoted => Quoting::Double,
                    _ => Quoting::Block,
                };
                let span = match quoting {
                    // The parser's span of a quoted scalar may run on past its closing quote.
                    Quoting::Single | Quoting::Double => {
                        let text = &source[span.start..];
                        Span::new(
                            span.start,
                            span.start + quoted_len(text).unwrap_or(span.len()),
                        )
                    }
                    _ => span,
                };
                builder.add(
                    Node {
                        span,
                        flow: false,
                        anchor,
                        kind: Kind::Scalar {
                            value: exact(value.into_owned()),
                            quoting,
                        },
                    },
                    line,
                )?;
            }
            Event::Alias(id) => builder.add(
                Node {
                    span,
                    flow: false,
                    anchor: 0,
                    kind: Kind::Alias(id),
                },
                line,
            )?,
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                let map = matches!(event, Event::MappingStart(..));
                builder.stack.push(Open {
                    node: Node {
                        span: Span::empty(span.start),
                        flow: !span.is_empty(),
                        anchor,
                        kind: if map {
                            Kind::Map(Vec::new())
                        } else {
                            Kind::Seq(Vec::new())
                        },
                    },
                    key: None,
                    first: true,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(mut open) = builder.stack.pop() else {
                    return Err(YamlError {
                        line,
                        message: "unbalanced collection".to_string(),
                    });
                };
                if open.node.flow {
                    open.node.span.end = span.end;
                }
                // The tree is kept while the run links files: no room to spare in it.
                match &mut open.node.kind {
                    Kind::Seq(items) => items.shrink_to_fit(),
                    Kind::Map(entries) => entries.shrink_to_fit(),
                    Kind::Scalar { .. } | Kind::Alias(_) => {}
                }
                builder.add(open.node, line)?;
            }
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) | Event::DocumentEnd => {}
        }
    }
    builder.documents.shrink_to_fit();
    Ok(Stream {
        documents: builder.documents,
    })
}

/// `value` without the spare room the scanner grew it with (most scalars are a few bytes).
fn exact(mut value: String) -> String {
    value.shrink_to_fit();
    value
}

/// The length of the quoted scalar `text` starts with, closing quote included.
fn quoted_len(text: &str) -> Option<usize> {
    let quote = text.chars().next()?;
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((at, c)) = chars.next() {
        match (quote, c) {
            ('"', '\\') => {
                chars.next();
            }
            ('\'', '\'') if chars.peek().is_some_and(|(_, next)| *next == '\'') => {
                chars.next();
            }
            _ if c == quote => return Some(at + 1),
            _ => {}
        }
    }
    None
}

/// [`line_of`] for offsets that mostly grow: counts from the last one asked about.
#[derive(Default)]
struct LineCursor {
    offset: usize,
    /// Newlines before `offset`.
    newlines: usize,
}

impl LineCursor {
    fn line_of(&mut self, source: &str, offset: usize) -> usize {
        let offset = offset.min(source.len());
        if offset < self.offset {
            *self = LineCursor::default();
        }
        let between = &source.as_bytes()[self.offset..offset];
        self.newlines += memchr::memchr_iter(b'\n', between).count();
        self.offset = offset;
        self.newlines + 1
    }
}

/// 1-based line of a byte offset.
pub fn line_of(source: &str, offset: usize) -> usize {
    let offset = offset.min(source.len());
    memchr::memchr_iter(b'\n', &source.as_bytes()[..offset]).count() + 1
}

struct Open {
    node: Node,
    key: Option<Node>,
    first: bool,
}

struct Builder {
    stack: Vec<Open>,
    documents: Vec<Node>,
}

impl Builder {
    fn add(&mut self, node: Node, line: usize) -> Result<(), YamlError> {
        let Some(open) = self.stack.last_mut() else {
            self.documents.push(node);
            return Ok(());
        };
        if !open.node.flow {
            if open.first {
                open.node.span.start = node.span.start;
            }
            open.node.span.end = open.node.span.end.max(node.span.end);
        }
        open.first = false;
        match &mut open.node.kind {
            Kind::Seq(items) => items.push(node),
            Kind::Map(entries) => match open.key.take() {
                None => open.key = Some(node),
                Some(key) => entries.push((key, node)),
            },
            _ => {
                return Err(YamlError {
                    line,
                    message: "a value outside a collection".to_string(),
                })
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<'a>(source: &'a str, node: &Node) -> &'a str {
        node.span.text(source)
    }

    #[test]
    fn spans_are_exact_bytes_for_every_quoting() {
        let source = "# c\nservices:\n  wéb:\n    ports: [\"8080:80\" , '443:443', 9000]\n    image: \"ghcr.io/a/b:1\" # x\n    q: 'it''s' # y\n    d: \"a\\\"b\" # z\n    expose:\n      - 80\n";
        let stream = parse(source).unwrap();
        let web = stream.documents[0].at(&["services", "wéb"]).unwrap();
        let ports = web.get("ports").unwrap();
        assert!(ports.flow);
        let texts: Vec<&str> = ports.items().iter().map(|n| text(source, n)).collect();
        assert_eq!(texts, ["\"8080:80\"", "'443:443'", "9000"]);
        assert_eq!(text(source, ports), "[\"8080:80\" , '443:443', 9000]");
        assert_eq!(text(source, web.get("image").unwrap()), "\"ghcr.io/a/b:1\"");
        assert_eq!(text(source, web.get("q").unwrap()), "'it''s'");
        assert_eq!(text(source, web.get("d").unwrap()), "\"a\\\"b\"");
        assert_eq!(web.at(&["expose"]).unwrap().items()[0].number(), Some(80));
        assert_eq!(
            text(source, web),
            &source[source.find("ports").unwrap()..source.len() - 1]
        );
    }

    #[test]
    fn multi_document_crlf_and_anchors() {
        let source = "a: &x\r\n  k: 1\r\nb: *x\r\n---\r\nkind: Service\r\n";
        let stream = parse(source).unwrap();
        assert_eq!(stream.documents.len(), 2);
        let Kind::Alias(id) = stream.documents[0].get("b").unwrap().kind else {
            panic!("an alias")
        };
        let anchored = stream.documents[0].get("a").unwrap();
        assert_eq!(id, anchored.anchor);
        assert_eq!(text(source, anchored), "k: 1");
        let kind = stream.documents[1].get("kind").unwrap();
        assert_eq!(text(source, kind), "Service");
        assert_eq!(line_of(source, kind.span.start), 5);
        let mut cursor = LineCursor::default();
        for offset in [0, 5, 30, 30, 2, source.len(), 7, source.len() + 9] {
            assert_eq!(
                cursor.line_of(source, offset),
                line_of(source, offset),
                "{offset}"
            );
        }
    }

    #[test]
    fn errors_have_lines() {
        let err = parse("a: b\n  c: d\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(parse("a: \"open\n").is_err());
    }
}
