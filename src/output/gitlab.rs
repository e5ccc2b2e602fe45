//! `--format gitlab`: a GitLab Code Quality report (`artifacts:reports:codequality`), the
//! subset of the Code Climate issue format GitLab reads: `description`, `check_name`,
//! `fingerprint`, `severity`, `location.path` and `location.lines.begin`.

use std::io::{self, Write};

use serde::Serialize;

use super::fingerprint::fingerprints;
use super::json::JsonArray;
use super::FileReport;
use crate::rules::find_rule;

#[derive(Serialize)]
struct Issue<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    description: String,
    check_name: &'static str,
    fingerprint: String,
    severity: &'static str,
    categories: [&'static str; 1],
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
    end: usize,
}

/// The report streamed file by file: one JSON array of issues.
#[derive(Default)]
pub struct GitlabReport {
    array: JsonArray,
}

impl GitlabReport {
    pub fn push(&mut self, out: &mut dyn Write, report: &FileReport) -> io::Result<()> {
        let issues = issues(report);
        self.array.push_items(out, &issues)
    }

    pub fn finish(self, out: &mut dyn Write) -> io::Result<()> {
        self.array.finish(out)
    }
}

fn issues(report: &FileReport) -> Vec<Issue<'_>> {
    let lines = report.lines();
    report
        .findings
        .iter()
        .zip(fingerprints(report))
        .map(|(finding, fingerprint)| {
            let (begin, _) = lines.line_col(finding.span.start);
            let (end, _) = lines.line_col(finding.span.end);
            Issue {
                kind: "issue",
                description: format!("{}: {}", finding.rule, finding.message),
                check_name: finding.rule,
                fingerprint,
                severity: find_rule(finding.rule).map_or("minor", |rule| rule.severity.gitlab()),
                categories: ["Security"],
                location: Location {
                    path: report.path.trim_start_matches("./"),
                    lines: Lines { begin, end },
                },
            }
        })
        .collect()
}

/// The whole report of `reports`.
pub fn render(reports: &[FileReport]) -> String {
    let mut out = Vec::new();
    let mut report = GitlabReport::default();
    for file in reports {
        let _ = report.push(&mut out, file);
    }
    let _ = report.finish(&mut out);
    String::from_utf8(out).unwrap_or_default()
}
