//! One file through the pipeline: parse → analyse → rules → fixes applied until stable. This
//! is the library's check API: the command line, interactive mode, `--branch` and an editor
//! all call it.

mod check;
mod digests;
mod error;
mod ignore;
mod lines;
mod project;
mod report;
pub mod surroundings;
mod untouched;

pub use check::{check_bytes, check_file, read_limited, report_for, write_fixed, Checked};
pub use error::Error;
pub use ignore::with_ignore_pragmas;
pub use lines::LineIndex;
pub use project::{write_change, FileSettings, Project};
pub use report::FileReport;
pub use untouched::{is_template_name, Untouched};

use std::sync::Arc;

use thiserror::Error;

use crate::analysis::surroundings::Surroundings;
use crate::analysis::Analysis;
use crate::edit::{apply_fixes, Applicability, Fix};
use crate::rules::{check_analysed, check_in, Finding, RuleOptions, RuleSelection};
use crate::sources::registry::RegistryResolver;
use crate::syntax::{parse, Dockerfile, ParseError};

/// Rounds of fixing before giving up (a fix that keeps producing new fixes is a bug).
const MAX_ROUNDS: usize = 10;

#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    pub rules: RuleOptions,
    pub selection: RuleSelection,
    /// `--pin digest`: where the digests are looked up, before the rules run
    /// ([`fix_resolved`], [`check_file`]); the rules get them as a table.
    pub registry: Option<Arc<RegistryResolver>>,
    /// What the linter read around the file before the rules run (entrypoint scripts, the
    /// repository's build targets): [`surroundings::read`]. Empty for text with no path.
    pub surroundings: Arc<Surroundings>,
    /// Where the surroundings are read from: the run's repository roots, found once.
    pub roots: Arc<surroundings::RepositoryRoots>,
}

#[derive(Debug, Error)]
pub enum LintError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A fix produced text that does not parse: a bug in unroot, never written.
    #[error("internal error: the planned fix does not parse ({0}); nothing was changed")]
    BrokenFix(ParseError),
    #[error(
        "internal error: fixes did not converge after {MAX_ROUNDS} rounds; nothing was changed"
    )]
    NoConvergence,
}

impl LintError {
    /// The line the error is about, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            LintError::Parse(err) => Some(err.line),
            _ => None,
        }
    }
}

/// The outcome for one file.
#[derive(Debug)]
pub struct Outcome {
    /// Findings on the original text (edits refer to its bytes).
    pub findings: Vec<Finding>,
    /// The text with every fix at or above the threshold applied.
    pub fixed: String,
    /// Findings left in `fixed` (those that need a person, or unsafe fixes not applied).
    pub remaining: Vec<Finding>,
    /// Why the file is reported but not edited (a template, a generated file).
    pub untouched: Option<Untouched>,
}

impl Outcome {
    pub fn changed(&self, source: &str) -> bool {
        self.fixed != source
    }
}

/// Checks `source` and applies fixes at or above `threshold` until nothing changes.
pub fn lint(
    source: &str,
    options: &LintOptions,
    threshold: Applicability,
) -> Result<Outcome, LintError> {
    lint_parsed(&parse(source)?, options, threshold)
}

/// [`lint`] for a file that is already parsed. A template is not checked, a generated file's
/// findings get no fix, and a file with an instruction BuildKit does not know is an error
/// (see `untouched.rs`).
pub fn lint_parsed(
    file: &Dockerfile,
    options: &LintOptions,
    threshold: Applicability,
) -> Result<Outcome, LintError> {
    lint_analysed(file, &Analysis::of(file), options, threshold)
}

/// [`lint_parsed`] for `file` as `analysis` reads it.
pub fn lint_analysed(
    file: &Dockerfile,
    analysis: &Analysis,
    options: &LintOptions,
    threshold: Applicability,
) -> Result<Outcome, LintError> {
    match first_findings(file, analysis, options)? {
        Start::Untouched(outcome) => Ok(outcome),
        Start::Findings(findings) => fix_rounds(file, options, findings, threshold),
    }
}

/// [`lint_parsed`], and when some fix stays unapplied at `threshold`, the text every fix
/// makes (unsafe ones too), for the dry run's diff: both from one first check of the file.
pub fn lint_parsed_with_unsafe(
    file: &Dockerfile,
    analysis: &Analysis,
    options: &LintOptions,
    threshold: Applicability,
) -> Result<(Outcome, Option<String>), LintError> {
    let findings = match first_findings(file, analysis, options)? {
        Start::Untouched(outcome) => return Ok((outcome, None)),
        Start::Findings(findings) => findings,
    };
    let has_unsafe = findings
        .iter()
        .any(|f| f.fix.as_ref().is_some_and(|fix| !fix.applies(threshold)));
    let with_unsafe = if has_unsafe {
        Some(fix_rounds(file, options, findings.clone(), Applicability::Unsafe)?.fixed)
    } else {
        None
    };
    Ok((fix_rounds(file, options, findings, threshold)?, with_unsafe))
}

/// Where linting a file starts: left as it is (a template, a generated file), or its
/// findings, to be fixed.
enum Start {
    Untouched(Outcome),
    Findings(Vec<Finding>),
}

fn first_findings(
    file: &Dockerfile,
    analysis: &Analysis,
    options: &LintOptions,
) -> Result<Start, LintError> {
    if let Some(template) = untouched::template_placeholder(file) {
        return Ok(Start::Untouched(untouched_outcome(
            file,
            Vec::new(),
            template,
        )));
    }
    if let Some(error) = untouched::unknown_instruction(file) {
        return Err(LintError::Parse(error));
    }
    let findings = check_analysed(
        file,
        analysis,
        &options.rules,
        &options.selection,
        &options.surroundings,
    );
    if let Some(generated) = untouched::generated_mark(file) {
        return Ok(Start::Untouched(untouched_outcome(
            file, findings, generated,
        )));
    }
    Ok(Start::Findings(findings))
}

/// Applies the fixes of `findings` at `threshold`, then of the findings of the fixed text,
/// until nothing changes.
fn fix_rounds(
    file: &Dockerfile,
    options: &LintOptions,
    findings: Vec<Finding>,
    threshold: Applicability,
) -> Result<Outcome, LintError> {
    let mut text = file.source.clone();
    let mut current = findings.clone();
    for _ in 0..MAX_ROUNDS {
        let fixes: Vec<&Fix> = current.iter().filter_map(|f| f.fix.as_ref()).collect();
        let applied = apply_fixes(&text, &fixes, threshold);
        if applied.applied.is_empty() || applied.text == text {
            return Ok(Outcome {
                findings,
                fixed: text,
                remaining: current,
                untouched: None,
            });
        }
        text = applied.text;
        let file = parse(&text).map_err(LintError::BrokenFix)?;
        current = check_in(
            &file,
            &options.rules,
            &options.selection,
            &options.surroundings,
        );
    }
    Err(LintError::NoConvergence)
}

/// The file as it is: its findings without their fixes, each saying why.
fn untouched_outcome(file: &Dockerfile, mut findings: Vec<Finding>, why: Untouched) -> Outcome {
    for finding in &mut findings {
        finding.fix = None;
        let note = why.help();
        finding.help = Some(match finding.help.take() {
            Some(help) => format!("{help}; {note}"),
            None => note,
        });
    }
    Outcome {
        remaining: findings.clone(),
        findings,
        fixed: file.source.clone(),
        untouched: Some(why),
    }
}

/// [`lint_parsed`] with the `--pin digest` lookups made first (a failed one leaves its pin
/// unfixed, as the findings say).
pub fn fix_resolved(
    file: &Dockerfile,
    options: &LintOptions,
    threshold: Applicability,
) -> Result<Outcome, LintError> {
    let (options, _) = digests::resolve(file, options)?;
    lint_parsed(file, &options, threshold)
}

/// 1-based line and column (in characters) of a byte offset: a scan of the text before it, for
/// one position; the positions of a file's findings come from one [`LineIndex`].
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..]
        .trim_start_matches('\u{feff}')
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(src: &str) -> String {
        lint(src, &LintOptions::default(), Applicability::Safe)
            .unwrap()
            .fixed
    }

    #[test]
    fn inserts_user_after_last_build_step() {
        let src = "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\n\n# start\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n";
        assert_eq!(
            fixed(src),
            "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\n\n# start\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n"
        );
    }

    #[test]
    fn rewrites_last_root_user_and_keeps_style() {
        assert_eq!(
            fixed("from node:22\r\nrun npm ci\r\nuser root\r\ncmd node x\r\n"),
            "from node:22\r\nrun npm ci\r\nuser node\r\ncmd node x\r\n"
        );
        // No line ending at the end (the CMD comes from the parent stage).
        assert_eq!(
            fixed("FROM node:22 AS app\nCMD node x\nFROM app\nRUN npm ci"),
            "FROM node:22 AS app\nCMD node x\nFROM app\nRUN npm ci\nUSER node"
        );
    }

    #[test]
    fn creates_a_user_on_distro_bases() {
        let out = fixed(
            "FROM alpine:3.20\nRUN apk add --no-cache nodejs npm\nCMD [\"node\", \"a.js\"]\n",
        );
        assert!(out.contains("RUN addgroup -S -g 10001 app && adduser -S -D -u 10001 -G app -h /home/app app\nUSER app\nCMD"), "{out}");
    }

    #[test]
    fn second_run_is_a_no_op() {
        let once = fixed(
            "FROM ubuntu:24.04\nRUN apt-get update && apt-get install -y nodejs\nCMD node x\n",
        );
        let outcome = lint(&once, &LintOptions::default(), Applicability::Safe).unwrap();
        assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
        assert_eq!(outcome.fixed, once);
    }

    #[test]
    fn ignores_non_node_and_windows_images() {
        assert!(lint(
            "FROM nginx\nCMD nginx\n",
            &LintOptions::default(),
            Applicability::Safe
        )
        .unwrap()
        .findings
        .is_empty());
        assert!(lint(
            "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD node x\n",
            &LintOptions::default(),
            Applicability::Safe
        )
        .unwrap()
        .findings
        .is_empty());
    }
}
