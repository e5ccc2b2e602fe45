//! Property tests for the parser: on any input it never panics, and whatever it accepts it
//! keeps byte for byte (the pieces tile the input, every span lies where it should).
//!
//! The inputs are Dockerfile-like text built from the constructs the parser has to get right
//! (directives, continuations, heredocs, JSON arrays, flags, quotes, comments, line endings,
//! BOM, unicode), that text with random bytes spliced in, and plain random bytes.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::FileFailurePersistence;
use unroot::syntax::{parse_bytes, Instruction, PieceKind, Span};

const CASES: u32 = 512;

// ---------------------------------------------------------------------------------------------
// The invariants.
// ---------------------------------------------------------------------------------------------

/// Parse `input` and check everything that must hold for any input.
fn check(input: &[u8]) -> Result<(), TestCaseError> {
    let dockerfile = match parse_bytes(input) {
        Ok(dockerfile) => dockerfile,
        Err(err) => {
            // The CLI prints `path:line: message` on one line.
            prop_assert!(!err.message.is_empty(), "empty error message: {err:?}");
            prop_assert!(
                !err.message.contains('\n'),
                "multi-line error message: {err:?}"
            );
            return Ok(());
        }
    };
    let source = dockerfile.source.as_str();
    prop_assert_eq!(source.as_bytes(), input, "source is not the input");

    // The pieces tile the input: they start at 0, follow each other, end at its length.
    let mut at = 0;
    let mut joined = String::with_capacity(source.len());
    for piece in &dockerfile.pieces {
        prop_assert_eq!(piece.span.start, at, "gap or overlap before {:?}", piece);
        prop_assert!(!piece.span.is_empty(), "empty piece {:?}", piece);
        joined.push_str(text(source, piece.span)?);
        at = piece.span.end;
    }
    prop_assert_eq!(
        at,
        input.len(),
        "the pieces end at {} of {} bytes",
        at,
        input.len()
    );
    prop_assert_eq!(
        joined.as_bytes(),
        input,
        "concatenated pieces differ from the input"
    );

    // Each instruction is exactly one piece, in file order.
    let mut next = 0;
    for piece in &dockerfile.pieces {
        if let PieceKind::Instruction(index) = piece.kind {
            prop_assert_eq!(index, next, "instruction pieces out of order");
            let instruction = dockerfile.instructions.get(index);
            prop_assert!(
                instruction.is_some(),
                "piece refers to missing instruction {}",
                index
            );
            if let Some(instruction) = instruction {
                prop_assert_eq!(
                    piece.span,
                    instruction.span,
                    "an instruction's piece is the instruction"
                );
                prop_assert!(
                    1 <= instruction.start_line && instruction.start_line <= instruction.end_line
                );
                check_instruction(source, instruction, instruction.span)?;
            }
            next += 1;
        }
    }
    prop_assert_eq!(
        next,
        dockerfile.instructions.len(),
        "instructions without a piece"
    );

    for directive in &dockerfile.directives {
        text(source, directive.span)?;
    }
    Ok(())
}

/// Every span of `instruction` (and of the instruction an ONBUILD wraps) lies inside `outer`
/// and is a valid slice of the source.
fn check_instruction(
    source: &str,
    instruction: &Instruction,
    outer: Span,
) -> Result<(), TestCaseError> {
    let mut spans = vec![instruction.span, instruction.keyword.span];
    spans.extend(instruction.flags.iter().map(|token| token.span));
    spans.extend(instruction.args.iter().map(|token| token.span));
    spans.extend(instruction.shell_words.iter().map(|token| token.span));
    spans.extend(instruction.inner_comments.iter().copied());
    for pair in &instruction.pairs {
        spans.push(pair.key.span);
        spans.extend(pair.value.as_ref().map(|token| token.span));
    }
    for heredoc in &instruction.heredocs {
        prop_assert_eq!(
            text(source, heredoc.body)?,
            heredoc.content.as_str(),
            "heredoc content is its body"
        );
        prop_assert!(
            heredoc.body.end <= heredoc.terminator.start,
            "terminator before body end"
        );
        spans.push(heredoc.body);
        spans.push(heredoc.terminator);
    }
    for span in spans {
        prop_assert!(span.start <= span.end, "reversed span {:?}", span);
        prop_assert!(
            outer.contains(span),
            "{:?} ({:?}) outside instruction {:?}",
            span,
            source.get(span.start..span.end),
            outer
        );
        text(source, span)?;
    }
    if let Some(inner) = &instruction.onbuild {
        check_instruction(source, inner, outer)?;
    }
    Ok(())
}

/// The text of `span`, failing the case (not panicking) when it is not a valid slice.
fn text(source: &str, span: Span) -> Result<&str, TestCaseError> {
    source.get(span.start..span.end).ok_or_else(|| {
        TestCaseError::fail(format!(
            "{span:?} is not a slice of the {} byte source",
            source.len()
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Dockerfile-like text.
// ---------------------------------------------------------------------------------------------

/// A keyword in upper, lower or mixed case.
fn keyword() -> impl Strategy<Value = String> {
    let words: &'static [&'static str] = &[
        "FROM",
        "RUN",
        "COPY",
        "ADD",
        "ENV",
        "ARG",
        "USER",
        "EXPOSE",
        "ONBUILD",
        "HEALTHCHECK",
        "LABEL",
        "CMD",
        "ENTRYPOINT",
        "WORKDIR",
        "SHELL",
        "VOLUME",
        "STOPSIGNAL",
        "MAINTAINER",
        "BOGUS",
    ];
    (select(words), 0..3u8).prop_map(|(word, case)| match case {
        0 => word.to_owned(),
        1 => word.to_lowercase(),
        _ => word
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_lowercase()
                } else {
                    c
                }
            })
            .collect(),
    })
}

fn flag() -> impl Strategy<Value = String> {
    select(
        &[
            "--from=build",
            "--chown=node:node",
            "--chmod=755",
            "--platform=$BUILDPLATFORM",
            "--mount=type=cache,target=/root/.npm",
            "--link",
            "--interval=30s",
            "--timeout=3s",
            "\"--quoted=a b\"",
            "--network=none",
            "--",
            "--=",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// A word of shell-form arguments.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(
            &[
                "node:22-alpine", "node:lts", "AS", "as", "build", "/app", "./", ".", "package*.json", "server.js",
                "npm", "ci", "--omit=dev", "&&", "||", ";", "echo", "\"hello world\"", "'single quoted'", "\"",
                "'", "$HOME", "${NODE_ENV:-production}", "NODE_ENV=production", "KEY=\"a b\"", "k='v w'", "a=",
                "=b", "3000", "3000/tcp", "80/udp", "node", "1000:1000", "root", "$((1<<20))", "a<<b", "<<",
                "<<<EOF", "\\", "`", "\\\\", "\\$x", "[", "]", "{", "}", "#", "# not a comment", "CMD", "NONE",
                "RUN", "é", "€", "😀", "日本語", "\u{200b}", "\t",
            ][..]
        )
        .prop_map(str::to_owned),
        1 => "[a-zA-Z0-9_./:=$-]{1,12}",
        1 => "\\PC{1,6}",
    ]
}

fn json_array() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "[\"node\", \"server.js\"]",
                "[\"npm\",\"start\"]",
                "[]",
                "[ ]",
                "[\"a\", 1]",
                "[\"unterminated",
                "[broken",
                "[\"esc\\\"aped\", \"\\u00e9\\n\"]",
                "[\"sh\", \"-c\", \"echo $HOME\"]",
                "[\"😀\"]",
                "[\"a\",]",
                "[\"a\"] trailing",
            ][..]
        )
        .prop_map(str::to_owned),
        prop::collection::vec("\\PC{0,5}", 0..4).prop_map(|items| {
            let quoted: Vec<String> = items.iter().map(|item| format!("{item:?}")).collect();
            format!("[{}]", quoted.join(", "))
        }),
    ]
}

/// The text after the keyword: flags, then words or a JSON array.
fn arguments() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(flag(), 0..3),
        prop_oneof![3 => prop::collection::vec(word(), 0..6).prop_map(|words| words.join(" ")), 1 => json_array()],
        select(&[" ", "  ", "\t"][..]),
    )
        .prop_map(|(flags, rest, sep)| {
            let mut parts = flags;
            parts.push(rest);
            parts.join(sep)
        })
}

/// One physical instruction line.
fn instruction_line() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (select(&["", " ", "\t"][..]), keyword(), arguments()).prop_map(|(indent, keyword, args)| format!("{indent}{keyword} {args}")),
        1 => (keyword(), arguments()).prop_map(|(keyword, args)| format!("ONBUILD {keyword} {args}")),
        1 => (prop::collection::vec(flag(), 0..2), arguments())
            .prop_map(|(flags, args)| format!("HEALTHCHECK {} CMD {args}", flags.join(" "))),
        1 => Just("HEALTHCHECK NONE".to_owned()),
        1 => keyword(),
    ]
}

/// A line ending with the escape character (either one: the directive may have changed it),
/// maybe followed by whitespace.
fn continued(line: String) -> impl Strategy<Value = String> {
    (
        select(&["\\", "`", "\\\\"][..]),
        select(&["", " ", "  ", "\t", " \t "][..]),
    )
        .prop_map(move |(escape, trailing)| format!("{line} {escape}{trailing}"))
}

/// An instruction spread over continuation lines, with comments and blank lines in between.
fn continuation() -> impl Strategy<Value = Vec<String>> {
    (
        instruction_line(),
        prop::collection::vec(prop_oneof![4 => word(), 1 => comment(), 1 => blank()], 1..5),
    )
        .prop_flat_map(|(first, rest)| {
            let count = rest.len();
            let lines: Vec<BoxedStrategy<String>> = std::iter::once(first)
                .chain(rest)
                .enumerate()
                .map(|(i, line)| {
                    if i < count && !line.trim_start().starts_with('#') {
                        prop_oneof![3 => continued(line.clone()), 1 => Just(line)].boxed()
                    } else {
                        Just(line).boxed()
                    }
                })
                .collect();
            lines
        })
}

/// A RUN/COPY/ADD (maybe under ONBUILD) with one to three heredocs and their bodies,
/// sometimes unterminated or with a wrong terminator.
fn heredoc_instruction() -> impl Strategy<Value = Vec<String>> {
    let marker = (
        select(&["<<", "<<-", "<< ", "3<<", "<<-  "][..]),
        select(&["EOF", "END", "FILE1", "eof", "E\u{e9}"][..]),
        select(&["", "\"", "'"][..]),
    );
    let body = prop::collection::vec(
        prop_oneof![3 => word(), 1 => Just(String::new()), 1 => "\\PC{0,10}"],
        0..4,
    );
    // Mostly terminated (with tabs only where `<<-` strips them), sometimes not.
    let ending = prop_oneof![30 => Just("ok"), 1 => Just("missing"), 1 => Just("wrong"), 1 => Just("spaces")];
    (
        select(
            &[
                "RUN",
                "run",
                "COPY",
                "ADD",
                "ONBUILD RUN",
                "RUN --mount=type=secret,id=npm",
            ][..],
        ),
        prop::collection::vec((marker, body, ending), 1..4),
        select(&["", " /app/script.sh", " && echo done", " | sh"][..]),
    )
        .prop_map(|(keyword, heredocs, tail)| {
            let mut first = keyword.to_owned();
            for ((op, name, quote), _, _) in &heredocs {
                first.push_str(&format!(" {op}{quote}{name}{quote}"));
            }
            first.push_str(tail);
            let mut lines = vec![first];
            for ((op, name, _), body, ending) in heredocs {
                for line in body {
                    let tab = if op.contains('-') { "\t" } else { "" };
                    lines.push(format!("{tab}{line}"));
                }
                match ending {
                    "ok" if op.contains('-') => lines.push(format!("\t\t{name}")),
                    "ok" => lines.push(name.to_owned()),
                    "spaces" => lines.push(format!("  {name}")),
                    "wrong" => lines.push(format!("{name}X")),
                    _ => {}
                }
            }
            lines
        })
}

fn comment() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "#",
                "# a comment",
                "  # indented",
                "#\t",
                "# syntax=docker/dockerfile:1"
            ][..]
        )
        .prop_map(str::to_owned),
        "#\\PC{0,20}",
    ]
}

fn blank() -> impl Strategy<Value = String> {
    select(&["", " ", "\t", "   \t"][..]).prop_map(str::to_owned)
}

/// The leading directives: each kind at most once, mostly valid, sometimes an invalid or
/// repeated one (which rejects the whole file).
fn directives() -> impl Strategy<Value = Vec<String>> {
    let escape = prop::option::of(select(
        &["# escape=`", "# escape=\\", "# ESCAPE = `", "#escape=\\"][..],
    ));
    let syntax = prop::option::of(select(
        &[
            "# syntax=docker/dockerfile:1",
            "# SYNTAX = docker/dockerfile:1.7",
        ][..],
    ));
    let check = prop::option::of(select(&["# check=skip=all", "# check=error=true"][..]));
    let other = prop::option::of(select(
        &["# unknown=directive", "#", "# not=a directive"][..],
    ));
    let bad = prop::option::weighted(
        0.1,
        select(
            &[
                "#escape=x",
                "# escape=",
                "# escape=\\\\",
                "# escape=`",
                "# syntax=again",
            ][..],
        ),
    );
    (escape, syntax, check, other, bad).prop_map(|(escape, syntax, check, other, bad)| {
        [syntax, escape, check, other, bad]
            .into_iter()
            .flatten()
            .map(str::to_owned)
            .collect()
    })
}

/// A parser directive line anywhere in the file (only the leading ones are directives).
fn directive() -> impl Strategy<Value = String> {
    select(
        &[
            "# escape=`",
            "# escape=\\",
            "# syntax=docker/dockerfile:1",
            "# check=skip=all",
            "#escape=x",
        ][..],
    )
    .prop_map(str::to_owned)
}

/// Line endings: all LF, all CRLF, or a mix with lone CRs (which BuildKit does not split on).
fn line_endings() -> impl Strategy<Value = Vec<&'static str>> {
    prop_oneof![
        4 => Just(vec!["\n"]),
        2 => Just(vec!["\r\n"]),
        1 => prop::collection::vec(select(&["\n", "\r\n"][..]), 1..8),
        1 => prop::collection::vec(select(&["\n", "\r\n", "\r"][..]), 1..8),
    ]
}

/// A group of physical lines.
fn chunk() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        6 => instruction_line().prop_map(|line| vec![line]),
        3 => continuation(),
        3 => heredoc_instruction(),
        2 => comment().prop_map(|line| vec![line]),
        2 => blank().prop_map(|line| vec![line]),
        1 => directive().prop_map(|line| vec![line]),
        1 => "\\PC{0,30}".prop_map(|line| vec![line]),
    ]
}

/// A Dockerfile-like text: optional BOM, maybe leading directives, chunks of lines, LF/CRLF/CR
/// or mixed endings, maybe no final newline.
fn dockerfile_text() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        directives(),
        prop::collection::vec(chunk(), 1..12),
        line_endings(),
        any::<bool>(),
    )
        .prop_map(|(bom, directives, chunks, endings, final_newline)| {
            let lines: Vec<String> = directives
                .into_iter()
                .chain(chunks.into_iter().flatten())
                .collect();
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            for (i, line) in lines.iter().enumerate() {
                text.push_str(line);
                if i + 1 < lines.len() || final_newline {
                    text.push_str(endings[i % endings.len()]);
                }
            }
            text
        })
}

/// Bytes that matter to the parser, for dense random input.
fn interesting_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"\\`<-EOF RUNCOPYfrom\t\n\r#=\"'[]{}$,:1 escape"
        .iter()
        .copied()
        .chain([0xEF, 0xBB, 0xBF, 0xC3, 0xA9, 0x00, 0xFF])
        .collect();
    prop::collection::vec(select(alphabet), 0..200)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // Integration tests have no lib.rs beside them: keep failures next to this file.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn dockerfile_like_text_round_trips(text in dockerfile_text()) {
        check(text.as_bytes())?;
    }

    #[test]
    fn text_with_random_bytes_spliced_in_never_panics(
        text in dockerfile_text(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), any::<bool>()), 1..6),
    ) {
        let mut bytes = text.into_bytes();
        for (index, byte, insert) in edits {
            let at = index.index(bytes.len() + 1);
            if insert || at == bytes.len() {
                bytes.insert(at, byte);
            } else {
                bytes[at] = byte;
            }
        }
        check(&bytes)?;
    }

    #[test]
    fn interesting_bytes_never_panic(bytes in interesting_bytes()) {
        check(&bytes)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check(&bytes)?;
    }
}

/// The generators reach what they are meant to: heredocs that parse, instructions spread over
/// continuation lines, BOM and CRLF files that parse, and rejected files.
#[test]
fn generated_text_covers_the_interesting_cases() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let strategy = dockerfile_text();
    let (mut heredocs, mut multiline, mut bom, mut crlf, mut rejected) = (0, 0, 0, 0, 0);
    for _ in 0..CASES {
        let text = strategy
            .new_tree(&mut runner)
            .expect("generate a case")
            .current();
        match parse_bytes(text.as_bytes()) {
            Ok(dockerfile) => {
                heredocs += dockerfile
                    .instructions
                    .iter()
                    .filter(|i| !i.heredocs.is_empty())
                    .count();
                multiline += dockerfile
                    .instructions
                    .iter()
                    .filter(|i| i.end_line > i.start_line)
                    .count();
                bom += usize::from(text.starts_with('\u{feff}'));
                crlf += usize::from(text.contains("\r\n"));
            }
            Err(_) => rejected += 1,
        }
    }
    let counts = format!(
        "heredocs {heredocs}, multi-line {multiline}, BOM {bom}, CRLF {crlf}, rejected {rejected}"
    );
    println!("generated {CASES} files: {counts}");
    assert!(
        heredocs > 0 && multiline > 0 && bom > 0 && crlf > 0 && rejected > 0,
        "{counts}"
    );
}
