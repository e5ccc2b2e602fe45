//! `--format checkstyle` and `--format junit`: the XML reports CI systems and review tools
//! read (Jenkins, GitLab's test reports, reviewdog `-f=checkstyle`). Both are written file by
//! file; only files with findings appear.

use std::io::{self, Write};

use super::FileReport;
use crate::rules::find_rule;

/// Text for an XML attribute or element, escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            // Not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// Checkstyle's format: `<checkstyle><file name><error line column severity message
/// source/></file></checkstyle>`.
#[derive(Default)]
pub struct Checkstyle {
    started: bool,
}

impl Checkstyle {
    fn start(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.started {
            writeln!(out, "{HEADER}<checkstyle version=\"4.3\">")?;
            self.started = true;
        }
        Ok(())
    }

    pub fn push(&mut self, out: &mut dyn Write, report: &FileReport) -> io::Result<()> {
        self.start(out)?;
        if report.findings.is_empty() {
            return Ok(());
        }
        writeln!(out, "  <file name=\"{}\">", escape(&report.path))?;
        let lines = report.lines();
        for finding in &report.findings {
            let (line, column) = lines.line_col(finding.span.start);
            let error = find_rule(finding.rule).is_some_and(|rule| rule.severity.is_error());
            writeln!(
                out,
                "    <error line=\"{line}\" column=\"{column}\" severity=\"{}\" message=\"{}\" source=\"unroot.{}\"/>",
                if error { "error" } else { "warning" },
                escape(&finding.message),
                finding.rule,
            )?;
        }
        writeln!(out, "  </file>")
    }

    pub fn finish(mut self, out: &mut dyn Write) -> io::Result<()> {
        self.start(out)?;
        writeln!(out, "</checkstyle>")
    }
}

/// JUnit XML: one `<testsuite>` per file with findings, one failed `<testcase>` per finding;
/// a run without findings is one passed test case, so the report is never empty.
#[derive(Default)]
pub struct Junit {
    started: bool,
    failures: usize,
}

impl Junit {
    fn start(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if !self.started {
            writeln!(out, "{HEADER}<testsuites name=\"unroot\">")?;
            self.started = true;
        }
        Ok(())
    }

    pub fn push(&mut self, out: &mut dyn Write, report: &FileReport) -> io::Result<()> {
        self.start(out)?;
        if report.findings.is_empty() {
            return Ok(());
        }
        let path = escape(&report.path);
        let count = report.findings.len();
        self.failures += count;
        writeln!(
            out,
            "  <testsuite name=\"{path}\" tests=\"{count}\" failures=\"{count}\" errors=\"0\" skipped=\"0\">"
        )?;
        let lines = report.lines();
        for finding in &report.findings {
            let (line, column) = lines.line_col(finding.span.start);
            let message = escape(&finding.message);
            writeln!(
                out,
                "    <testcase name=\"{rule} at {line}:{column}\" classname=\"{path}\" file=\"{path}\" line=\"{line}\">\n      \
                 <failure message=\"{message}\" type=\"{rule}\">{path}:{line}:{column}: {rule}: {message}</failure>\n    \
                 </testcase>",
                rule = finding.rule,
            )?;
        }
        writeln!(out, "  </testsuite>")
    }

    pub fn finish(mut self, out: &mut dyn Write) -> io::Result<()> {
        self.start(out)?;
        if self.failures == 0 {
            writeln!(
                out,
                "  <testsuite name=\"unroot\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\">\n    \
                 <testcase name=\"no findings\" classname=\"unroot\"/>\n  </testsuite>"
            )?;
        }
        writeln!(out, "</testsuites>")
    }
}

/// A whole checkstyle report of `reports`.
pub fn render_checkstyle(reports: &[FileReport]) -> String {
    let mut out = Vec::new();
    let mut report = Checkstyle::default();
    for file in reports {
        let _ = report.push(&mut out, file);
    }
    let _ = report.finish(&mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// A whole JUnit report of `reports`.
pub fn render_junit(reports: &[FileReport]) -> String {
    let mut out = Vec::new();
    let mut report = Junit::default();
    for file in reports {
        let _ = report.push(&mut out, file);
    }
    let _ = report.finish(&mut out);
    String::from_utf8(out).unwrap_or_default()
}
