//! The default report: findings grouped by file, each with help and fix, then the diff.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::diff::unified_diff;
use super::FileReport;
use crate::edit::Applicability;

pub(crate) const PATH: Style = Style::new().bold();
pub(crate) const RULE: Style = AnsiColor::Red.on_default().bold();
pub(crate) const HELP: Style = AnsiColor::Cyan.on_default();
pub(crate) const UNSAFE: Style = AnsiColor::Yellow.on_default().bold();
const ADDED: Style = AnsiColor::Green.on_default();
const REMOVED: Style = AnsiColor::Red.on_default();
const HUNK: Style = AnsiColor::Cyan.on_default();
const HEADER: Style = Style::new().bold();

/// What the run does with fixes, for the wording of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Dry run: show the planned diff.
    Show,
    /// `--write`: the fixes were written.
    Write,
}

/// Writes the findings of one file and its diff. Styles are ANSI sequences; the caller's
/// stream strips them when colour is off.
pub fn write_file(out: &mut dyn Write, report: &FileReport, action: Action) -> io::Result<()> {
    write_findings(out, report, action)?;
    if action == Action::Show {
        write_planned_diffs(out, report)?;
    }
    Ok(())
}

/// The findings of one file, each with its help and fix, without the diff (`--quiet`).
pub fn write_findings(out: &mut dyn Write, report: &FileReport, action: Action) -> io::Result<()> {
    let lines = report.lines();
    for finding in &report.findings {
        let (line, column) = lines.line_col(finding.span.start);
        writeln!(
            out,
            "{PATH}{}{PATH:#}:{line}:{column}: {RULE}{}{RULE:#}: {}",
            report.path, finding.rule, finding.message
        )?;
        if let Some(help) = &finding.help {
            writeln!(out, "  {HELP}help{HELP:#}: {help}")?;
        }
        match &finding.fix {
            Some(fix) if fix.applies(report.threshold) && report.unapplied => {
                writeln!(out, "  fix not applied: {}", fix.title)?
            }
            Some(fix) if fix.applies(report.threshold) && action == Action::Write => {
                writeln!(out, "  fixed: {}", fix.title)?
            }
            Some(fix) if fix.applies(report.threshold) => writeln!(out, "  fix: {}", fix.title)?,
            Some(fix) => writeln!(
                out,
                "  {UNSAFE}unsafe fix{UNSAFE:#} (applied only with --unsafe-fixes): {}",
                fix.title
            )?,
            None => writeln!(out, "  no automatic fix: this needs a person")?,
        }
    }
    Ok(())
}

/// The diff of the fixes a dry run plans, then that of the unsafe ones.
fn write_planned_diffs(out: &mut dyn Write, report: &FileReport) -> io::Result<()> {
    write_diff(
        out,
        &unified_diff(&report.path, &report.source, &report.fixed),
    )?;
    if report.fixed_with_unsafe != report.fixed {
        writeln!(
            out,
            "{UNSAFE}unsafe fixes{UNSAFE:#} for {}, applied only with --unsafe-fixes:",
            report.path
        )?;
        write_diff(
            out,
            &unified_diff(&report.path, &report.fixed, &report.fixed_with_unsafe),
        )?;
    }
    Ok(())
}

pub(crate) fn write_diff(out: &mut dyn Write, diff: &str) -> io::Result<()> {
    // Keep each line's own ending: the `\r` of a CRLF file's lines is part of the diff, or
    // `git apply` would not find the context lines.
    for piece in diff.split_inclusive('\n') {
        let line = piece.trim_end_matches(['\n', '\r']);
        let eol = &piece[line.len()..];
        let style = if line.starts_with("+++") || line.starts_with("---") {
            HEADER
        } else if line.starts_with('+') {
            ADDED
        } else if line.starts_with('-') {
            REMOVED
        } else if line.starts_with("@@") {
            HUNK
        } else {
            Style::new()
        };
        style.write_to(out)?;
        out.write_all(line.as_bytes())?;
        style.write_reset_to(out)?;
        out.write_all(eol.as_bytes())?;
    }
    Ok(())
}

/// The counts the closing line is made of, added up file by file.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Files checked (with findings or not).
    checked: usize,
    findings: usize,
    files: usize,
    fixable: usize,
    with_unsafe: usize,
    remaining: usize,
}

impl Tally {
    pub fn add(&mut self, report: &FileReport) {
        // A template is not checked (its warning says so).
        let template = matches!(
            report.untouched,
            Some(crate::linter::Untouched::Template { .. })
        );
        self.checked += usize::from(!template);
        self.findings += report.findings.len();
        self.files += usize::from(!report.findings.is_empty());
        self.fixable += report.fixable(report.threshold);
        self.with_unsafe += report.fixable(Applicability::Unsafe);
        self.remaining += report.remaining;
    }

    /// How many findings the applied fixes removed (with `--write`).
    pub fn fixed(&self) -> usize {
        self.findings - self.remaining.min(self.findings)
    }

    /// Whether findings are left: any at all in a dry run, unfixed ones after fixing.
    pub fn left(&self, action: Action) -> bool {
        match action {
            Action::Show => self.findings > 0,
            Action::Write => self.remaining > 0,
        }
    }

    /// The closing line, e.g. `3 findings in 2 files, 3 fixable; run with --write to apply`,
    /// or `no findings in 12 files` when the files checked are clean (`None`: none checked).
    pub fn summary(&self, action: Action) -> Option<String> {
        let Tally {
            checked,
            findings,
            files,
            fixable,
            with_unsafe,
            remaining,
        } = *self;
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        if findings == 0 {
            return (checked > 0).then(|| format!("no findings in {}", plural(checked, "file")));
        }
        let mut line = format!(
            "{} in {}",
            plural(findings, "finding"),
            plural(files, "file")
        );
        match action {
            Action::Show => {
                line.push_str(&format!(", {fixable} fixable"));
                if with_unsafe > fixable {
                    line.push_str(&format!(
                        " ({} more with --unsafe-fixes)",
                        with_unsafe - fixable
                    ));
                }
                if fixable > 0 {
                    line.push_str("; run with --write to apply");
                }
            }
            Action::Write => {
                line.push_str(&format!(
                    ", {} fixed, {remaining} remaining",
                    findings - remaining.min(findings)
                ));
                if with_unsafe > fixable {
                    line.push_str(&format!(
                        " ({} more with --unsafe-fixes)",
                        with_unsafe - fixable
                    ));
                }
            }
        }
        Some(line)
    }
}

/// [`Tally::summary`] of `reports`.
pub fn summary(reports: &[FileReport], action: Action) -> Option<String> {
    let mut tally = Tally::default();
    for report in reports {
        tally.add(report);
    }
    tally.summary(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_runs_count_the_files_checked() {
        let tally = |checked| Tally {
            checked,
            ..Tally::default()
        };
        assert_eq!(tally(0).summary(Action::Show), None);
        assert_eq!(
            tally(1).summary(Action::Show).as_deref(),
            Some("no findings in 1 file")
        );
        assert_eq!(
            tally(12).summary(Action::Write).as_deref(),
            Some("no findings in 12 files")
        );
    }

    #[test]
    fn diff_lines_keep_their_line_endings() {
        let mut out = Vec::new();
        let diff = "--- a/D\n+++ b/D\n@@ -1,2 +1,3 @@\n FROM node\r\n+USER node\r\n CMD x\n\\ No newline at end of file\n";
        write_diff(&mut out, diff).expect("writing to a Vec cannot fail");
        let plain = String::from_utf8(out).expect("UTF-8");
        let plain = plain.replace("\x1b[1m", "").replace("\x1b[36m", "");
        let plain = plain.replace("\x1b[32m", "").replace("\x1b[0m", "");
        assert_eq!(plain, diff);
    }
}
