//! What checking one file found and what fixing it makes: what every output format renders.

use super::{line_col, LineIndex};
use crate::edit::Applicability;
use crate::rules::Finding;

/// Everything the reports need to know about one checked file.
#[derive(Debug)]
pub struct FileReport {
    /// The path as the user gave or the walk found it (`<stdin>` for standard input).
    pub path: String,
    pub source: String,
    pub findings: Vec<Finding>,
    /// The text with the fixes that apply at the run's threshold.
    pub fixed: String,
    /// The text with every fix, unsafe ones included (shown, not written, in a dry run).
    pub fixed_with_unsafe: String,
    /// Findings left after the fixes at the file's threshold.
    pub remaining: usize,
    /// The fixes this file's settings apply: safe ones, or unsafe ones too.
    pub threshold: Applicability,
    /// The planned fixes were not made: the file could not be written, or no commit holds them.
    pub unapplied: bool,
    /// Why the file is reported but never edited (a template, a generated file).
    pub untouched: Option<super::Untouched>,
}

impl FileReport {
    /// The warning about a file unroot does not edit, as `path:line: warning: …`.
    pub fn untouched_warning(&self) -> Option<String> {
        let untouched = self.untouched.as_ref()?;
        Some(match untouched.line() {
            0 => format!("{}: {}", self.path, untouched.warning()),
            line => format!("{}:{line}: {}", self.path, untouched.warning()),
        })
    }
}

impl FileReport {
    /// Where one finding starts (line and column); for every finding, [`FileReport::lines`].
    pub fn position(&self, finding: &Finding) -> (usize, usize) {
        line_col(&self.source, finding.span.start)
    }

    /// The lines of the file's text, to find the positions of its findings.
    pub fn lines(&self) -> LineIndex<'_> {
        LineIndex::new(&self.source)
    }

    /// The planned fixes were not made (the error says why): the file stays as it was and
    /// every finding remains.
    pub fn mark_unapplied(&mut self) {
        self.unapplied = true;
        self.fixed = self.source.clone();
        self.fixed_with_unsafe = self.source.clone();
        self.remaining = self.findings.len();
    }

    /// Findings whose fix applies at `threshold` (the file's own: [`FileReport::threshold`]).
    pub fn fixable(&self, threshold: Applicability) -> usize {
        self.findings
            .iter()
            .filter(|f| f.fix.as_ref().is_some_and(|fix| fix.applies(threshold)))
            .count()
    }
}
