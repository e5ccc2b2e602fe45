//! Scanning lines, continuations, comments and heredoc bodies: BuildKit's `parser.go`.

use std::borrow::Cow;

use compact_str::CompactString;

use super::ast::{
    Directive, Dockerfile, Heredoc, Instruction, KeyValue, Piece, PieceKind, Token, Warning,
};
use super::directives::DirectiveParser;
use super::error::{ErrorKind, ParseError};
use super::heredoc::heredocs_from_line;
use super::line_parsers::{node_from_line, Node};
use super::logical::LogicalLine;
use super::span::Span;
use super::split_command::{char_len, trim_space_end, trim_space_start, Part};

/// Files larger than this are refused.
pub const MAX_FILE_SIZE: usize = 4 * 1024 * 1024;

const BOM: &str = "\u{feff}";

/// Parses raw file bytes: refuses files over [`MAX_FILE_SIZE`], with NUL bytes or not
/// UTF-8, then parses the text with [`parse`].
pub fn parse_bytes(bytes: &[u8]) -> Result<Dockerfile, ParseError> {
    let line_of = |offset: usize| memchr::memchr_iter(b'\n', &bytes[..offset]).count() + 1;
    if bytes.len() > MAX_FILE_SIZE {
        return Err(ParseError::new(
            ErrorKind::Input,
            1,
            1,
            format!("file is larger than {} MiB", MAX_FILE_SIZE >> 20),
        ));
    }
    if let Some(offset) = memchr::memchr(0, bytes) {
        let line = line_of(offset);
        return Err(ParseError::new(
            ErrorKind::Input,
            line,
            line,
            "NUL byte in file: not a text Dockerfile",
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let line = line_of(err.valid_up_to());
        ParseError::new(
            ErrorKind::Input,
            line,
            line,
            "invalid UTF-8: not a text Dockerfile",
        )
    })?;
    parse(text)
}

/// One physical line: `start..end` includes the line ending, `content_end` excludes it.
#[derive(Clone, Copy)]
struct RawLine {
    start: usize,
    content_end: usize,
    end: usize,
    number: usize,
}

struct LineReader<'a> {
    source: &'a str,
    pos: usize,
    number: usize,
    newline: NewlineFinder,
}

/// Finds line ends. On x86-64 it calls memchr's SSE2 search (always there) directly: lines are
/// a few dozen bytes, where `memchr::memchr`'s run-time choice of an implementation costs as
/// much as the search.
#[derive(Clone, Copy)]
struct NewlineFinder {
    #[cfg(target_arch = "x86_64")]
    sse2: memchr::arch::x86_64::sse2::memchr::One,
}

impl NewlineFinder {
    fn new() -> Self {
        NewlineFinder {
            #[cfg(target_arch = "x86_64")]
            sse2: memchr::arch::x86_64::sse2::memchr::One::new(b'\n')
                .expect("SSE2 is part of x86-64"),
        }
    }

    #[inline]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        return self.sse2.find(haystack);
        #[cfg(not(target_arch = "x86_64"))]
        return memchr::memchr(b'\n', haystack);
    }
}

impl<'a> LineReader<'a> {
    #[inline(always)]
    fn next_line(&mut self) -> Option<RawLine> {
        if self.pos >= self.source.len() {
            return None;
        }
        let start = self.pos;
        let bytes = self.source.as_bytes();
        let end = self
            .newline
            .find(&bytes[start..])
            .map_or(bytes.len(), |i| start + i + 1);
        // Go's `bytes.TrimRight(line, "\r\n")`: the line has one `\n`, at its end.
        let mut content_end = end;
        if bytes[content_end - 1] == b'\n' {
            content_end -= 1;
        }
        while content_end > start && bytes[content_end - 1] == b'\r' {
            content_end -= 1;
        }
        self.pos = end;
        self.number += 1;
        Some(RawLine {
            start,
            content_end,
            end,
            number: self.number,
        })
    }

    fn content(&self, line: RawLine) -> &'a str {
        &self.source[line.start..line.content_end]
    }
}

/// BuildKit's line-continuation test: the escape character is the last character apart
/// from spaces and tabs, and is not itself escaped. Returns the line without it.
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    // The escape character is `\` or `` ` ``, so one byte.
    let escape = escape as u8;
    let bytes = line.as_bytes();
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    if end == 0 || bytes[end - 1] != escape {
        return (line, true);
    }
    let before = end - 1;
    if before == 0 || bytes[before - 1] != escape {
        (&line[..before], false)
    } else {
        (line, true)
    }
}

/// Parses a Dockerfile the way BuildKit does, keeping every byte.
pub fn parse(source: &str) -> Result<Dockerfile, ParseError> {
    // Room for all but the densest files (lines of 16 bytes, an instruction every 32), so that
    // these vectors of large items are seldom moved while they grow.
    let mut pieces = Vec::with_capacity(source.len() / 16 + 4);
    let mut instructions = Vec::with_capacity(source.len() / 32 + 4);
    let mut directives = Vec::new();
    let mut warnings = Vec::new();
    let mut directive_parser = DirectiveParser::new();
    // The comment lines since the last instruction (their text, trimmed).
    let mut comments: Vec<Span> = Vec::with_capacity(8);
    // The pieces of the current instruction's lines and where each starts in the source.
    let mut line_pieces: Vec<(&str, usize)> = Vec::with_capacity(8);

    let mut reader = LineReader {
        source,
        pos: 0,
        number: 0,
        newline: NewlineFinder::new(),
    };
    if source.starts_with(BOM) {
        pieces.push(Piece {
            kind: PieceKind::Bom,
            span: Span::new(0, BOM.len()),
        });
        reader.pos = BOM.len();
    }

    while let Some(line) = reader.next_line() {
        let content = reader.content(line);
        let trimmed = trim_space_start(content);
        let trimmed_start = line.content_end - trimmed.len();
        let piece = |kind| Piece {
            kind,
            span: Span::new(line.start, line.end),
        };

        if let Some((name, value)) = directive_parser.parse_line(trimmed, line.number)? {
            directives.push(Directive {
                name,
                value,
                line: line.number,
                span: Span::new(line.start, line.content_end),
            });
            pieces.push(piece(PieceKind::Directive));
            continue;
        }
        if trimmed.starts_with('#') {
            // BuildKit drops the line's first character (the `#` unless indented) and trims.
            let first_len = char_len(content.as_bytes()[0]);
            let after_first = trim_space_start(&content[first_len..]);
            let comment = trim_space_end(after_first);
            // An empty comment line (`#`) clears the comments collected so far.
            if comment.is_empty() {
                comments.clear();
            } else {
                let comment_start = line.content_end - after_first.len();
                comments.push(Span::new(comment_start, comment_start + comment.len()));
            }
            pieces.push(piece(PieceKind::Comment));
            continue;
        }
        let escape = directive_parser.escape;
        let (first, mut complete) = trim_continuation(trimmed, escape);
        if complete && first.is_empty() {
            pieces.push(piece(PieceKind::Blank));
            continue;
        }

        let start_line = line.number;
        line_pieces.clear();
        line_pieces.push((first, trimmed_start));
        let mut end = line.end;
        let mut last_line = line.number;
        let mut inner_comments = Vec::new();
        let mut empty_continuation = false;
        while !complete {
            let Some(next) = reader.next_line() else {
                break;
            };
            end = next.end;
            last_line = next.number;
            let content = reader.content(next);
            let left = trim_space_start(content);
            if left.starts_with('#') {
                inner_comments.push(Span::new(next.start, next.content_end));
                continue;
            }
            if left.is_empty() {
                empty_continuation = true;
                continue;
            }
            let (text, is_end) = trim_continuation(content, escape);
            line_pieces.push((text, next.start));
            complete = is_end;
        }
        let logical = LogicalLine::join(trimmed_start, &line_pieces);
        if empty_continuation {
            warnings.push(Warning {
                message: format!("Empty continuation line found in: {}", logical.text),
                line: last_line,
            });
        }

        let node =
            node_from_line(&logical.text, 0, logical.text.len(), escape).map_err(|message| {
                ParseError::new(ErrorKind::Syntax, start_line, last_line, message)
            })?;

        let mut heredocs = Vec::new();
        if node.can_contain_heredoc() {
            for marker in heredocs_from_line(&logical.text) {
                let body_start = end;
                let mut terminator = None;
                while let Some(next) = reader.next_line() {
                    end = next.end;
                    last_line = next.number;
                    let mut candidate = reader.content(next);
                    if marker.chomp {
                        candidate = candidate.trim_start_matches('\t');
                    }
                    if candidate == marker.name {
                        terminator = Some(Span::new(next.start, next.end));
                        break;
                    }
                }
                let Some(terminator) = terminator else {
                    return Err(ParseError::new(
                        ErrorKind::Syntax,
                        start_line,
                        last_line,
                        "unterminated heredoc",
                    ));
                };
                heredocs.push(Heredoc {
                    name: marker.name,
                    fd: marker.fd,
                    expand: marker.expand,
                    chomp: marker.chomp,
                    // Every line up to the terminator, as written.
                    content: source[body_start..terminator.start].to_string(),
                    body: Span::new(body_start, terminator.start),
                    terminator,
                });
            }
        }

        let span = Span::new(line.start, end);
        let lines = InstructionLines {
            span,
            start_line,
            end_line: last_line,
            heredocs,
            comments: if comments.is_empty() {
                Vec::new()
            } else {
                comments
                    .drain(..)
                    .map(|span| span.text(source).to_string())
                    .collect()
            },
            inner_comments,
        };
        let mut instruction = build_instruction(node, &logical, lines);
        // The node spans the whole logical line: a joined one is moved, not copied.
        instruction.original = match logical.text {
            Cow::Borrowed(text) => CompactString::new(text),
            Cow::Owned(text) => CompactString::from(text),
        };
        pieces.push(Piece {
            kind: PieceKind::Instruction(instructions.len()),
            span,
        });
        instructions.push(instruction);
    }

    if instructions.is_empty() {
        return Err(ParseError::new(
            ErrorKind::NoInstructions,
            reader.number,
            reader.number,
            "file with no instructions",
        ));
    }

    Ok(Dockerfile {
        source: source.to_string(),
        escape: directive_parser.escape,
        directives,
        pieces,
        instructions,
        warnings,
    })
}

fn token(part: Part, logical: &LogicalLine) -> Token {
    Token {
        span: logical.span(part.start, part.end),
        value: match part.value {
            Cow::Borrowed(text) => CompactString::new(text),
            Cow::Owned(text) => CompactString::from(text),
        },
    }
}

fn tokens(parts: Vec<Part>, logical: &LogicalLine) -> Vec<Token> {
    // Most instructions have no flags and no shell words.
    if parts.is_empty() {
        return Vec::new();
    }
    parts.into_iter().map(|part| token(part, logical)).collect()
}

/// What an instruction has from the lines around its node.
struct InstructionLines {
    span: Span,
    start_line: usize,
    end_line: usize,
    heredocs: Vec<Heredoc>,
    comments: Vec<String>,
    inner_comments: Vec<Span>,
}

fn build_instruction(node: Node, logical: &LogicalLine, lines: InstructionLines) -> Instruction {
    let (start_line, end_line) = (lines.start_line, lines.end_line);
    Instruction {
        span: lines.span,
        start_line,
        end_line,
        keyword: token(node.keyword, logical),
        kind: node.kind,
        flags: tokens(node.flags, logical),
        args: tokens(node.args, logical),
        json: node.json,
        heredocs: lines.heredocs,
        // Set by the caller: see `parse`, and `onbuild` below.
        original: CompactString::default(),
        comments: lines.comments,
        inner_comments: lines.inner_comments,
        pairs: if node.pairs.is_empty() {
            Vec::new()
        } else {
            node.pairs
                .into_iter()
                .map(|pair| KeyValue {
                    key: token(pair.key, logical),
                    value: pair.value.map(|value| token(value, logical)),
                    equals: pair.equals,
                })
                .collect()
        },
        shell_words: tokens(node.shell_words, logical),
        onbuild: node.sub.map(|sub| {
            let original = CompactString::new(&logical.text[sub.start..sub.end]);
            let lines = InstructionLines {
                span: logical.span(sub.start, sub.end),
                start_line,
                end_line,
                heredocs: Vec::new(),
                comments: Vec::new(),
                inner_comments: Vec::new(),
            };
            let mut instruction = build_instruction(*sub, logical, lines);
            instruction.original = original;
            Box::new(instruction)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concat(file: &Dockerfile) -> String {
        file.pieces
            .iter()
            .map(|p| p.span.text(&file.source))
            .collect()
    }

    #[test]
    fn continuation_rules() {
        assert_eq!(trim_continuation("RUN a \\", '\\'), ("RUN a ", false));
        assert_eq!(trim_continuation("RUN a \\ \t", '\\'), ("RUN a ", false));
        assert_eq!(trim_continuation("RUN a \\\\", '\\'), ("RUN a \\\\", true));
        assert_eq!(trim_continuation("\\", '\\'), ("", false));
        assert_eq!(trim_continuation("RUN a `", '`'), ("RUN a ", false));
    }

    #[test]
    fn round_trip_with_bom_crlf_heredoc() {
        let src = "\u{feff}# syntax=docker/dockerfile:1\r\nFROM node:22 AS build\r\n\r\n# c\r\nRUN <<EOF\r\necho hi\r\nEOF\r\nUSER node";
        let file = parse(src).unwrap();
        assert_eq!(concat(&file), src);
        assert_eq!(file.instructions.len(), 3);
        let run = &file.instructions[1];
        assert_eq!(run.heredocs[0].content, "echo hi\r\n");
        assert_eq!(run.heredocs[0].body.text(src), "echo hi\r\n");
        assert_eq!(run.comments, vec!["c"]);
        let from = &file.instructions[0];
        assert_eq!(from.from_image().unwrap().span.text(src), "node:22");
        assert_eq!(from.from_alias().unwrap().span.text(src), "build");
        assert_eq!(file.instructions[2].user().unwrap().span.text(src), "node");
    }

    #[test]
    fn spans_across_continuations() {
        let src = "ENV A=1 \\\n  # inner\n    B=2\nEXPOSE 80/tcp \\\n 443\n";
        let file = parse(src).unwrap();
        let env = &file.instructions[0];
        assert_eq!(env.pairs[1].key.span.text(src), "B");
        assert_eq!(env.pairs[1].value.as_ref().unwrap().span.text(src), "2");
        assert_eq!(env.inner_comments[0].text(src), "  # inner");
        let ports: Vec<&str> = file.instructions[1]
            .expose_ports()
            .iter()
            .map(|p| p.span.text(src))
            .collect();
        assert_eq!(ports, vec!["80/tcp", "443"]);
    }

    #[test]
    fn errors_have_lines() {
        let err = parse("FROM a\nRUN <<EOF\nx\n").unwrap_err();
        assert_eq!(
            (err.line, err.end_line, err.message.as_str()),
            (2, 3, "unterminated heredoc")
        );
        let err = parse("# escape=x\nFROM a\n").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Directive);
        assert_eq!(err.line, 1);
        let err = parse_bytes(b"FROM a\nRUN \xff\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse_bytes(b"FROM a\n\0").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse("\n\n").unwrap_err();
        assert_eq!(err.message, "file with no instructions");
    }
}
