//! `--format rdjson`: reviewdog's Diagnostic Format (`reviewdog -f=rdjson`), one
//! `DiagnosticResult` whose diagnostics carry each safe fix as a suggestion, so reviewdog
//! can post it as a suggested change on the pull request. Columns count UTF-8 bytes from 1
//! and ranges end exclusively, as the format defines.

use std::io::{self, Write};

use serde::Serialize;

use super::sarif::rule_help_uri;
use super::FileReport;
use crate::edit::Applicability;
use crate::rules::find_rule;

const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

#[derive(Serialize)]
struct Diagnostic<'a> {
    message: String,
    location: Location<'a>,
    severity: &'static str,
    code: Code,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suggestions: Vec<Suggestion<'a>>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    range: Range,
}

#[derive(Serialize)]
struct Range {
    start: Position,
    end: Position,
}

#[derive(Serialize)]
struct Position {
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct Code {
    value: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct Suggestion<'a> {
    range: Range,
    text: &'a str,
}

/// The result streamed file by file: a header, one diagnostic per line, the closing brackets.
#[derive(Default)]
pub struct RdjsonReport {
    started: bool,
}

impl RdjsonReport {
    pub fn push(&mut self, out: &mut dyn Write, report: &FileReport) -> io::Result<()> {
        for diagnostic in diagnostics(report) {
            let text = serde_json::to_string(&diagnostic).map_err(io::Error::other)?;
            if self.started {
                out.write_all(b",\n")?;
            } else {
                write_header(out)?;
                self.started = true;
            }
            out.write_all(text.as_bytes())?;
        }
        Ok(())
    }

    pub fn finish(self, out: &mut dyn Write) -> io::Result<()> {
        if !self.started {
            write_header(out)?;
        }
        out.write_all(b"\n]}\n")
    }
}

fn write_header(out: &mut dyn Write) -> io::Result<()> {
    let source = serde_json::json!({"name": "unroot", "url": REPOSITORY});
    writeln!(
        out,
        "{{\"source\":{source},\"severity\":\"WARNING\",\"diagnostics\":["
    )
}

fn diagnostics(report: &FileReport) -> impl Iterator<Item = Diagnostic<'_>> {
    let path = report.path.trim_start_matches("./");
    report.findings.iter().map(move |finding| {
        let rule = find_rule(finding.rule);
        let mut message = finding.message.clone();
        if let Some(help) = &finding.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let suggestions = match &finding.fix {
            Some(fix) if fix.applies(Applicability::Safe) => fix
                .edits
                .iter()
                .map(|edit| Suggestion {
                    range: range(&report.source, edit.span.start, edit.span.end),
                    text: &edit.content,
                })
                .collect(),
            Some(fix) => {
                message.push_str(&format!(
                    "\nunsafe fix (applied only with --unsafe-fixes): {}",
                    fix.title
                ));
                Vec::new()
            }
            None => Vec::new(),
        };
        Diagnostic {
            message,
            location: Location {
                path,
                range: range(&report.source, finding.span.start, finding.span.end),
            },
            severity: if rule.is_some_and(|rule| rule.severity.is_error()) {
                "ERROR"
            } else {
                "WARNING"
            },
            code: Code {
                value: finding.rule,
                url: rule.map(rule_help_uri),
            },
            suggestions,
        }
    })
}

fn range(source: &str, start: usize, end: usize) -> Range {
    Range {
        start: position(source, start),
        end: position(source, end),
    }
}

/// Line from 1, column in UTF-8 bytes from 1.
fn position(source: &str, offset: usize) -> Position {
    let offset = offset.min(source.len());
    let before = &source.as_bytes()[..offset];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    Position {
        line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
        column: 1 + offset - line_start,
    }
}

/// The whole result of `reports`.
pub fn render(reports: &[FileReport]) -> String {
    let mut out = Vec::new();
    let mut result = RdjsonReport::default();
    for report in reports {
        let _ = result.push(&mut out, report);
    }
    let _ = result.finish(&mut out);
    String::from_utf8(out).unwrap_or_default()
}
