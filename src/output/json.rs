//! `--format json`: one JSON array of findings (like ruff's), each with its planned edit.

use std::io::{self, Write};

use serde::Serialize;

use super::FileReport;

#[derive(Serialize)]
struct JsonFinding<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    rule: &'a str,
    message: &'a str,
    help: Option<&'a str>,
    fixable: bool,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    applicability: &'static str,
    edits: Vec<JsonEdit<'a>>,
}

/// Byte offsets into the original file, plus line/column for people.
#[derive(Serialize)]
struct JsonEdit<'a> {
    start: usize,
    end: usize,
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    content: &'a str,
}

/// The findings of every file as one pretty-printed JSON document.
pub fn render(reports: &[FileReport]) -> String {
    let findings: Vec<JsonFinding> = reports.iter().flat_map(findings_of).collect();
    let mut out = serde_json::to_string_pretty(&findings).unwrap_or_else(|_| "[]".to_string());
    out.push('\n');
    out
}

/// [`render`]'s document written file by file: the same bytes, without holding the reports.
#[derive(Default)]
pub struct JsonArray {
    started: bool,
}

impl JsonArray {
    pub fn push(&mut self, out: &mut dyn Write, report: &FileReport) -> io::Result<()> {
        let findings: Vec<JsonFinding> = findings_of(report).collect();
        self.push_items(out, &findings)
    }

    /// Adds `items` to the array, each pretty-printed as an element.
    pub fn push_items<T: Serialize>(&mut self, out: &mut dyn Write, items: &[T]) -> io::Result<()> {
        for item in items {
            // An element of a pretty-printed array: its text in a one-element array, less
            // the brackets.
            let one = serde_json::to_string_pretty(&[item]).map_err(io::Error::other)?;
            let element = &one["[\n".len()..one.len() - "\n]".len()];
            out.write_all(if self.started { b",\n" } else { b"[\n" })?;
            out.write_all(element.as_bytes())?;
            self.started = true;
        }
        Ok(())
    }

    pub fn finish(self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(if self.started { b"\n]\n" } else { b"[]\n" })
    }
}

/// `--format json-lines`: the findings of `report` as [`render`] gives them, one compact
/// JSON object per line.
pub fn write_lines(out: &mut dyn Write, report: &FileReport) -> io::Result<()> {
    for finding in findings_of(report) {
        let line = serde_json::to_string(&finding).map_err(io::Error::other)?;
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// [`write_lines`] of every report.
pub fn render_lines(reports: &[FileReport]) -> String {
    let mut out = Vec::new();
    for report in reports {
        let _ = write_lines(&mut out, report);
    }
    String::from_utf8(out).unwrap_or_default()
}

fn findings_of(report: &FileReport) -> impl Iterator<Item = JsonFinding<'_>> {
    let lines = report.lines();
    report.findings.iter().map(move |finding| {
        let (line, column) = lines.line_col(finding.span.start);
        let (end_line, end_column) = lines.line_col(finding.span.end);
        JsonFinding {
            path: &report.path,
            line,
            column,
            end_line,
            end_column,
            rule: finding.rule,
            message: &finding.message,
            help: finding.help.as_deref(),
            fixable: finding.fix.is_some(),
            fix: finding.fix.as_ref().map(|fix| JsonFix {
                title: &fix.title,
                applicability: fix.applicability.as_str(),
                edits: fix
                    .edits
                    .iter()
                    .map(|edit| {
                        let (start_line, start_column) = lines.line_col(edit.span.start);
                        let (end_line, end_column) = lines.line_col(edit.span.end);
                        JsonEdit {
                            start: edit.span.start,
                            end: edit.span.end,
                            start_line,
                            start_column,
                            end_line,
                            end_column,
                            content: &edit.content,
                        }
                    })
                    .collect(),
            }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::Applicability;
    use crate::linter::{lint, LintOptions};

    fn report(path: &str, source: &str) -> FileReport {
        let outcome = lint(source, &LintOptions::default(), Applicability::Safe).unwrap();
        FileReport {
            path: path.to_string(),
            source: source.to_string(),
            remaining: outcome.remaining.len(),
            findings: outcome.findings,
            fixed_with_unsafe: outcome.fixed.clone(),
            fixed: outcome.fixed,
            threshold: Applicability::Safe,
            unapplied: false,
            untouched: outcome.untouched,
        }
    }

    #[test]
    fn the_streamed_array_is_the_rendered_one() {
        let sets: [&[(&str, &str)]; 3] = [
            &[],
            &[("clean", "FROM nginx\n")],
            &[
                ("a", "FROM node:lts\nEXPOSE 80\nCMD node x\n"),
                ("b", "FROM nginx\n"),
                ("c", "FROM node:22\nCMD [\"node\", \"a\\\"b\"]\n"),
            ],
        ];
        for set in sets {
            let reports: Vec<FileReport> = set.iter().map(|(p, s)| report(p, s)).collect();
            let mut streamed = Vec::new();
            let mut array = JsonArray::default();
            for report in &reports {
                array.push(&mut streamed, report).unwrap();
            }
            array.finish(&mut streamed).unwrap();
            assert_eq!(String::from_utf8(streamed).unwrap(), render(&reports));
        }
    }
}
