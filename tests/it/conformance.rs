//! Conformance and differential tests against the shared corpus (`../shared/corpus`).
//!
//! The corpus holds BuildKit's own parser test files plus real-world Dockerfiles, and
//! `<folder>.buildkit.jsonl` records what BuildKit's parser made of every `Dockerfile` under
//! `<folder>/` (the fields are described in `BUILDKIT-ORACLE.md` in the corpus).
//!
//! Every test collects all mismatches across all files, prints a count line per group
//! (`buildkit testfiles: 33/33`) followed by the mismatches, and fails at the end if anything
//! did not match. A missing corpus is a failure, never a silent pass. The corpus is only read.

use crate::common;

use std::fmt::Debug;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use unroot::syntax::{
    parse_bytes, Dockerfile, ErrorKind, Instruction, ParseError, PieceKind, Span, Token,
};

/// At most this many mismatch lines are printed per group.
const MAX_PRINTED: usize = 200;

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

fn corpus_dir() -> PathBuf {
    common::corpus("")
}

/// `path` relative to `base`, with `/` separators (the oracle's `file` format).
fn relative(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn describe_error(err: &ParseError) -> String {
    format!(
        "{:?} error at lines {}..{}: {}",
        err.kind,
        err.line,
        err.end_line,
        short(&err.message)
    )
}

/// A string's Debug form, cut to a readable length.
fn short(text: &str) -> String {
    truncate(format!("{text:?}"))
}

fn truncate(text: String) -> String {
    if text.chars().count() > 160 {
        let cut: String = text.chars().take(160).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// Where two texts first differ, by line.
fn text_diff(expected: &str, got: &str) -> String {
    let expected_lines: Vec<&str> = expected.split('\n').collect();
    let got_lines: Vec<&str> = got.split('\n').collect();
    let show = |line: Option<&&str>| line.map_or_else(|| "<end of text>".to_string(), |l| short(l));
    for i in 0..expected_lines.len().max(got_lines.len()) {
        let (want, have) = (expected_lines.get(i), got_lines.get(i));
        if want != have {
            return format!(
                "first difference at line {}: expected {} got {}",
                i + 1,
                show(want),
                show(have)
            );
        }
    }
    "texts differ".to_string()
}

/// Records `field` as a mismatch when `expected != got`.
fn check_eq<T: PartialEq + Debug + ?Sized>(
    out: &mut Vec<String>,
    at: &str,
    field: &str,
    expected: &T,
    got: &T,
) {
    if expected != got {
        let want = truncate(format!("{expected:?}"));
        let have = truncate(format!("{got:?}"));
        out.push(format!("{at}{field}: expected {want} got {have}"));
    }
}

/// Records a mismatch for two string lists, naming the first differing element.
fn check_list(out: &mut Vec<String>, at: &str, field: &str, expected: &[String], got: &[String]) {
    if expected == got {
        return;
    }
    let index = expected
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    let show = |item: Option<&String>| item.map_or_else(|| "<none>".to_string(), |s| short(s));
    out.push(format!(
        "{at}{field}: {} expected, {} got; first difference at [{index}]: expected {} got {}",
        expected.len(),
        got.len(),
        show(expected.get(index)),
        show(got.get(index))
    ));
}

/// Counts files and collects mismatches for one group of files.
struct Report {
    label: String,
    total: usize,
    passed: usize,
    mismatches: Vec<String>,
}

impl Report {
    fn new(label: impl Into<String>) -> Self {
        Report {
            label: label.into(),
            total: 0,
            passed: 0,
            mismatches: Vec::new(),
        }
    }

    /// Records one file: it passed when `problems` is empty.
    fn record(&mut self, file: &str, problems: Vec<String>) {
        self.total += 1;
        if problems.is_empty() {
            self.passed += 1;
        }
        self.mismatches
            .extend(problems.into_iter().map(|p| format!("{file}: {p}")));
    }

    /// A problem that belongs to no single file (it also makes the group fail).
    fn problem(&mut self, message: String) {
        self.mismatches.push(message);
    }

    fn ok(&self) -> bool {
        self.total > 0 && self.passed == self.total && self.mismatches.is_empty()
    }

    fn print(&self) {
        eprintln!("{}: {}/{}", self.label, self.passed, self.total);
        if self.total == 0 {
            eprintln!("  no files found");
        }
        for line in self.mismatches.iter().take(MAX_PRINTED) {
            eprintln!("  {line}");
        }
        if self.mismatches.len() > MAX_PRINTED {
            eprintln!("  … and {} more", self.mismatches.len() - MAX_PRINTED);
        }
    }
}

/// Prints every report, then fails if any group had a mismatch or no files.
fn finish(reports: &[Report]) {
    for report in reports {
        report.print();
    }
    let failed: Vec<String> = reports
        .iter()
        .filter(|r| !r.ok())
        .map(|r| format!("{} ({}/{})", r.label, r.passed, r.total))
        .collect();
    assert!(
        failed.is_empty(),
        "conformance mismatches in: {}",
        failed.join(", ")
    );
}

// ---------------------------------------------------------------------------------------------
// Span invariants
// ---------------------------------------------------------------------------------------------

fn valid_span(source: &str, span: Span) -> bool {
    span.start <= span.end
        && span.end <= source.len()
        && source.is_char_boundary(span.start)
        && source.is_char_boundary(span.end)
}

/// Checks that the pieces tile `bytes` exactly and every span is where it should be.
fn span_problems(doc: &Dockerfile, bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let source = doc.source.as_str();
    if source.as_bytes() != bytes {
        out.push("Dockerfile::source differs from the file's bytes".to_string());
    }

    let mut rebuilt = String::with_capacity(source.len());
    let mut pos = 0;
    let mut next_instruction = 0;
    for (i, piece) in doc.pieces.iter().enumerate() {
        if piece.span.start != pos {
            out.push(format!(
                "piece {i} ({:?}) starts at {} but the previous piece ended at {pos}",
                piece.kind, piece.span.start
            ));
        }
        if !valid_span(source, piece.span) {
            out.push(format!(
                "piece {i} ({:?}) has an invalid span {:?}",
                piece.kind, piece.span
            ));
            break;
        }
        rebuilt.push_str(piece.span.text(source));
        pos = piece.span.end;
        if let PieceKind::Instruction(index) = piece.kind {
            if index != next_instruction {
                out.push(format!(
                    "piece {i} refers to instruction {index}, expected {next_instruction}"
                ));
            }
            next_instruction = index + 1;
            match doc.instructions.get(index) {
                Some(ins) if ins.span == piece.span => {}
                Some(ins) => out.push(format!(
                    "piece {i} span {:?} differs from instruction {index} span {:?}",
                    piece.span, ins.span
                )),
                None => out.push(format!("piece {i} refers to missing instruction {index}")),
            }
        }
    }
    if pos != source.len() {
        out.push(format!(
            "pieces end at {pos}, the source has {} bytes",
            source.len()
        ));
    }
    if next_instruction != doc.instructions.len() {
        out.push(format!(
            "pieces cover {next_instruction} instructions, there are {}",
            doc.instructions.len()
        ));
    }
    if rebuilt.as_bytes() != bytes {
        out.push(format!(
            "concatenated pieces differ from the file: {}",
            text_diff(&String::from_utf8_lossy(bytes), &rebuilt)
        ));
    }

    for (i, ins) in doc.instructions.iter().enumerate() {
        let at = format!("instruction #{i} (line {})", ins.start_line);
        if !valid_span(source, ins.span) {
            out.push(format!("{at}: invalid span {:?}", ins.span));
            continue;
        }
        token_span_problems(source, ins.span, ins, &at, &mut out);
    }

    for directive in &doc.directives {
        let inside_piece = doc
            .pieces
            .iter()
            .any(|p| p.kind == PieceKind::Directive && p.span.contains(directive.span));
        if !valid_span(source, directive.span) || !inside_piece {
            out.push(format!(
                "directive {:?} (line {}) span {:?} is not inside a directive piece",
                directive.name, directive.line, directive.span
            ));
        }
    }
    out
}

/// Every token span of `ins` (and of its ONBUILD body) must lie inside `outer`.
fn token_span_problems(
    source: &str,
    outer: Span,
    ins: &Instruction,
    at: &str,
    out: &mut Vec<String>,
) {
    let mut spans: Vec<(String, Span)> = vec![("keyword".to_string(), ins.keyword.span)];
    spans.extend((ins.flags.iter().enumerate()).map(|(i, t)| (format!("flags[{i}]"), t.span)));
    spans.extend((ins.args.iter().enumerate()).map(|(i, t)| (format!("args[{i}]"), t.span)));
    for (i, pair) in ins.pairs.iter().enumerate() {
        spans.push((format!("pairs[{i}].key"), pair.key.span));
        if let Some(value) = &pair.value {
            spans.push((format!("pairs[{i}].value"), value.span));
        }
    }
    spans.extend(
        (ins.shell_words.iter().enumerate()).map(|(i, t)| (format!("shell_words[{i}]"), t.span)),
    );
    for (i, heredoc) in ins.heredocs.iter().enumerate() {
        spans.push((format!("heredocs[{i}].body"), heredoc.body));
        spans.push((format!("heredocs[{i}].terminator"), heredoc.terminator));
    }
    spans.extend(
        (ins.inner_comments.iter().enumerate()).map(|(i, s)| (format!("inner_comments[{i}]"), *s)),
    );
    if let Some(inner) = &ins.onbuild {
        spans.push(("onbuild".to_string(), inner.span));
    }

    for (name, span) in spans {
        if !valid_span(source, span) || !outer.contains(span) {
            out.push(format!(
                "{at}: {name} span {span:?} is not inside the instruction span {outer:?} \
                 or not on char boundaries"
            ));
        }
    }
    if let Some(inner) = &ins.onbuild {
        token_span_problems(source, outer, inner, &format!("{at} onbuild"), out);
    }
}

// ---------------------------------------------------------------------------------------------
// Oracle records (see BUILDKIT-ORACLE.md)
// ---------------------------------------------------------------------------------------------

/// One line of `<folder>.buildkit.jsonl`. `sha256` and `instructions_error` are not read:
/// checking the hash would need a SHA-256 implementation (no extra crates), and the
/// typed-instruction stage is out of scope for the parser.
#[derive(Deserialize)]
struct OracleRecord {
    file: String,
    ok: bool,
    escape: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    warning_lines: Vec<usize>,
    start_line: Option<usize>,
    end_line: Option<usize>,
    #[serde(default)]
    instructions: Vec<OracleNode>,
    dump: Option<String>,
    error: Option<String>,
    line: Option<usize>,
    error_end_line: Option<usize>,
}

#[derive(Deserialize)]
struct OracleNode {
    keyword: String,
    value: String,
    original: String,
    start_line: usize,
    end_line: usize,
    flags: Vec<String>,
    args: Vec<String>,
    json_form: bool,
    heredocs: Vec<OracleHeredoc>,
    comments: Vec<String>,
    dump: String,
    sub: Option<Box<OracleNode>>,
}

#[derive(Deserialize, Debug, PartialEq)]
struct OracleHeredoc {
    name: String,
    content: String,
    expand: bool,
    chomp: bool,
    fd: u32,
}

/// Compares one of our instructions with the oracle's node. `is_sub` skips the line
/// numbers, which BuildKit leaves at 0 for the inner node of ONBUILD.
fn compare_instruction(
    at: &str,
    ours: &Instruction,
    want: &OracleNode,
    is_sub: bool,
    out: &mut Vec<String>,
) {
    check_eq(
        out,
        at,
        "keyword",
        want.keyword.as_str(),
        ours.keyword.value.to_lowercase().as_str(),
    );
    check_eq(
        out,
        at,
        "value",
        want.value.as_str(),
        ours.keyword.value.as_str(),
    );
    check_eq(
        out,
        at,
        "original",
        want.original.as_str(),
        ours.original.as_str(),
    );
    if !is_sub {
        check_eq(out, at, "start_line", &want.start_line, &ours.start_line);
        check_eq(out, at, "end_line", &want.end_line, &ours.end_line);
    }
    let values =
        |tokens: &[Token]| -> Vec<String> { tokens.iter().map(|t| t.value.to_string()).collect() };
    check_list(out, at, "flags", &want.flags, &values(&ours.flags));
    check_list(out, at, "args", &want.args, &values(&ours.args));
    check_eq(out, at, "json_form", &want.json_form, &ours.json);
    let heredocs: Vec<OracleHeredoc> = ours
        .heredocs
        .iter()
        .map(|h| OracleHeredoc {
            name: h.name.clone(),
            content: h.content.clone(),
            expand: h.expand,
            chomp: h.chomp,
            fd: h.fd,
        })
        .collect();
    check_eq(out, at, "heredocs", &want.heredocs, &heredocs);
    check_list(out, at, "comments", &want.comments, &ours.comments);
    check_eq(out, at, "dump", want.dump.as_str(), ours.dump().as_str());
    match (&want.sub, &ours.onbuild) {
        (Some(want_sub), Some(our_sub)) => {
            compare_instruction(&format!("{at}sub: "), our_sub, want_sub, true, out);
        }
        (None, None) => {}
        (Some(_), None) => out.push(format!("{at}sub: expected an ONBUILD body, got none")),
        (None, Some(_)) => out.push(format!("{at}sub: expected none, got an ONBUILD body")),
    }
}

/// Compares a successful parse with an `"ok": true` record.
fn compare_ok(doc: &Dockerfile, rec: &OracleRecord, out: &mut Vec<String>) {
    let escape = doc.escape.to_string();
    check_eq(
        out,
        "",
        "escape",
        &rec.escape.as_deref(),
        &Some(escape.as_str()),
    );

    let want_warnings: Vec<(&str, usize)> = rec
        .warnings
        .iter()
        .map(String::as_str)
        .zip(rec.warning_lines.iter().copied())
        .collect();
    let our_warnings: Vec<(&str, usize)> = doc
        .warnings
        .iter()
        .map(|w| (w.message.as_str(), w.line))
        .collect();
    check_eq(out, "", "warnings", &want_warnings, &our_warnings);

    let first = doc.instructions.first().map(|i| i.start_line);
    let last = doc.instructions.last().map(|i| i.end_line);
    check_eq(out, "", "file start_line", &rec.start_line, &first);
    check_eq(out, "", "file end_line", &rec.end_line, &last);

    if rec.instructions.len() != doc.instructions.len() {
        out.push(format!(
            "instruction count: expected {} got {}",
            rec.instructions.len(),
            doc.instructions.len()
        ));
    }
    for (i, (want, ours)) in rec.instructions.iter().zip(&doc.instructions).enumerate() {
        let at = format!("instr #{i} (line {} {}): ", want.start_line, want.value);
        compare_instruction(&at, ours, want, false, out);
    }

    let dump = doc.dump();
    if let Some(want) = rec.dump.as_deref() {
        if want != dump {
            out.push(format!("file dump: {}", text_diff(want, &dump)));
        }
    } else {
        out.push("oracle record has no dump".to_string());
    }
}

/// Compares a parse error with an `"ok": false` record. BuildKit numbers directive errors
/// from 0 (the number of lines read before the directive), everything else from 1.
fn compare_error(err: &ParseError, rec: &OracleRecord, out: &mut Vec<String>) {
    check_eq(
        out,
        "",
        "error message",
        &rec.error.as_deref(),
        &Some(err.message.as_str()),
    );
    let lines = match err.kind {
        ErrorKind::Syntax | ErrorKind::NoInstructions => Some((Some(err.line), Some(err.end_line))),
        ErrorKind::Directive => Some((err.line.checked_sub(1), err.end_line.checked_sub(1))),
        ErrorKind::Input => None,
    };
    match lines {
        Some((line, end_line)) => {
            check_eq(out, "", "error line", &rec.line, &line);
            check_eq(out, "", "error end line", &rec.error_end_line, &end_line);
        }
        None => out.push(format!(
            "expected BuildKit's error, got an input error: {}",
            describe_error(err)
        )),
    }
    if rec.error.as_deref() == Some("file with no instructions")
        && err.kind != ErrorKind::NoInstructions
    {
        out.push(format!(
            "error kind: expected NoInstructions got {:?}",
            err.kind
        ));
    }
}

/// Compares our parse of one file with its oracle record.
fn compare_record(folder: &Path, rec: &OracleRecord) -> Vec<String> {
    let path = folder.join(&rec.file);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => return vec![format!("cannot read {}: {e}", path.display())],
    };
    let mut out = Vec::new();
    match (rec.ok, parse_bytes(&bytes)) {
        (true, Ok(doc)) => compare_ok(&doc, rec, &mut out),
        (false, Err(err)) => compare_error(&err, rec, &mut out),
        (true, Err(err)) => out.push(format!(
            "BuildKit parses this file, we reject it: {}",
            describe_error(&err)
        )),
        (false, Ok(doc)) => out.push(format!(
            "BuildKit rejects this file ({} at line {:?}), we parse {} instructions",
            short(rec.error.as_deref().unwrap_or("")),
            rec.line,
            doc.instructions.len()
        )),
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/// BuildKit's `TestParseCases` and `TestParseIncludesLineNumbers`.
#[test]
fn buildkit_testfiles() {
    let corpus = corpus_dir();
    let base = corpus.join("buildkit-parser");

    let mut cases = Report::new("buildkit testfiles");
    for path in common::dockerfiles_under(&base.join("testfiles")) {
        let name = relative(&path, &base);
        let result_path = path.with_file_name("result");
        let Ok(expected) = fs::read_to_string(&result_path) else {
            cases.record(&name, vec!["missing or unreadable result file".to_string()]);
            continue;
        };
        let problems = match parse_bytes(&read(&path)) {
            Ok(doc) => {
                let got = doc.dump() + "\n";
                if got == expected {
                    vec![]
                } else {
                    vec![format!("dump != result: {}", text_diff(&expected, &got))]
                }
            }
            Err(err) => vec![format!("parse failed: {}", describe_error(&err))],
        };
        cases.record(&name, problems);
    }

    let mut lines = Report::new("buildkit testfile-line");
    let path = base.join("testfile-line/Dockerfile");
    let problems = match parse_bytes(&read(&path)) {
        Ok(doc) => {
            let got: Vec<(usize, usize)> = doc
                .instructions
                .iter()
                .map(|i| (i.start_line, i.end_line))
                .collect();
            let mut out = Vec::new();
            check_eq(
                &mut out,
                "",
                "(start_line, end_line)",
                &[(5, 5), (11, 12), (17, 31)][..],
                &got[..],
            );
            out
        }
        Err(err) => vec![format!("parse failed: {}", describe_error(&err))],
    };
    lines.record("testfile-line/Dockerfile", problems);

    finish(&[cases, lines]);
}

/// BuildKit's `TestParseErrorCases`: every negative test file is rejected.
#[test]
fn buildkit_negative() {
    let corpus = corpus_dir();
    let mut report = Report::new("buildkit negative");
    eprintln!("buildkit negative errors:");
    for path in common::dockerfiles_under(&corpus.join("buildkit-parser/testfiles-negative")) {
        let name = relative(&path, &corpus);
        let problems = match parse_bytes(&read(&path)) {
            Ok(doc) => vec![format!(
                "expected an error, parsed {} instructions",
                doc.instructions.len()
            )],
            Err(err) => {
                let shown = format!("{name}:{}: {}", err.line, err.message);
                eprintln!("  {shown}");
                let mut out = Vec::new();
                let shape_ok = shown
                    .strip_prefix(&format!("{name}:"))
                    .and_then(|rest| rest.split_once(": "))
                    .is_some_and(|(line, message)| {
                        line.parse::<usize>().is_ok() && !message.trim().is_empty()
                    });
                if !shape_ok {
                    out.push(format!(
                        "error is not shaped `path:line: message`: {shown:?}"
                    ));
                }
                if err.to_string() != err.message {
                    out.push(format!(
                        "Display {:?} differs from message {:?}",
                        err.to_string(),
                        err.message
                    ));
                }
                if err.kind == ErrorKind::Input {
                    out.push(format!("rejected as bad input: {}", describe_error(&err)));
                }
                out
            }
        };
        report.record(&name, problems);
    }
    finish(&[report]);
}

/// Differential test: our parse of every corpus file against BuildKit's recorded output.
#[test]
fn oracle_differential() {
    let corpus = corpus_dir();
    let mut oracle_files: Vec<PathBuf> = fs::read_dir(&corpus)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", corpus.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".buildkit.jsonl"))
        })
        .collect();
    oracle_files.sort();
    assert!(
        !oracle_files.is_empty(),
        "no *.buildkit.jsonl oracle files in {}",
        corpus.display()
    );

    let mut reports = Vec::new();
    for oracle in &oracle_files {
        let file_name = oracle.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let folder_name = file_name.trim_end_matches(".buildkit.jsonl");
        let folder = corpus.join(folder_name);
        let mut report = Report::new(format!("oracle {folder_name}"));
        let text = fs::read_to_string(oracle)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", oracle.display()));

        let mut seen = Vec::new();
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<OracleRecord>(line) {
                Ok(rec) => {
                    let problems = compare_record(&folder, &rec);
                    report.record(&format!("{folder_name}/{}", rec.file), problems);
                    seen.push(rec.file);
                }
                Err(e) => report.problem(format!(
                    "{file_name}:{}: cannot read record: {e}",
                    number + 1
                )),
            }
        }

        // Every Dockerfile in the folder must have a record, or the oracle is stale.
        if folder.is_dir() {
            for path in common::dockerfiles_under(&folder) {
                let rel = relative(&path, &folder);
                if !seen.contains(&rel) {
                    report.problem(format!("{folder_name}/{rel}: no record in {file_name}"));
                }
            }
        } else {
            report.problem(format!("folder {folder_name}/ is missing"));
        }
        reports.push(report);
    }
    finish(&reports);
}

/// Lossless round trip and span invariants on every valid file; invalid files are rejected.
#[test]
fn corpus_round_trip() {
    let corpus = corpus_dir();
    let mut reports = Vec::new();
    for folder in [
        "node-real",
        "general",
        "parser-edge/valid",
        "buildkit-parser/testfiles",
    ] {
        let mut report = Report::new(format!("round-trip {folder}"));
        for path in common::dockerfiles_under(&corpus.join(folder)) {
            let name = relative(&path, &corpus);
            let bytes = read(&path);
            let problems = match parse_bytes(&bytes) {
                Ok(doc) => span_problems(&doc, &bytes),
                Err(err) => vec![format!("parse failed: {}", describe_error(&err))],
            };
            report.record(&name, problems);
        }
        reports.push(report);
    }

    let mut invalid = Report::new("rejected parser-edge/invalid");
    for path in common::dockerfiles_under(&corpus.join("parser-edge/invalid")) {
        let name = relative(&path, &corpus);
        let problems = match parse_bytes(&read(&path)) {
            Ok(doc) => vec![format!(
                "expected an error, parsed {} instructions",
                doc.instructions.len()
            )],
            Err(_) => vec![],
        };
        invalid.record(&name, problems);
    }
    reports.push(invalid);
    finish(&reports);
}
