//! `--interactive`: each planned fix is shown with its own diff and asked about; the
//! accepted ones are written, atomically, as `--write` writes.
//!
//! Fixes are planned once, on the file as it is. The accepted ones are applied together;
//! the result is checked again only to count what remains: fixes that the applied ones
//! would lead to (a second round) are not offered in the same run, as the summary says.

use std::io::Write;
use std::path::PathBuf;

use dialoguer::console::Term;
use dialoguer::Select;

use crate::cli::{check_file, Status};
use crate::edit::{apply_fixes, Applicability, Fix};
use crate::error::Error;
use crate::lint::LintOptions;
use crate::output::diff::unified_diff;
use crate::output::text::{write_diff, HELP, PATH, RULE, UNSAFE};
use crate::write::write_atomic;

/// The answers, in the order the prompt lists them.
const CHOICES: [&str; 4] = [
    "yes: apply this fix",
    "no: skip it",
    "all: apply this and the remaining fixes in this file",
    "quit: stop here (the fixes accepted so far are written)",
];

#[derive(Default)]
struct Tally {
    applied: usize,
    skipped: usize,
    remaining: usize,
    files_written: usize,
}

/// Asks about every fix in `files` (all fixes are planned, unsafe ones included).
pub fn run(
    files: &[PathBuf],
    options: &LintOptions,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    mut status: Status,
) -> Status {
    let term = Term::stderr();
    let mut tally = Tally::default();
    let mut quit = false;
    for (index, path) in files.iter().enumerate() {
        if quit {
            let _ = writeln!(
                stdout,
                "quit: {} more file(s) not reviewed",
                files.len() - index
            );
            break;
        }
        let checked = match check_file(path, options, Applicability::Unsafe, false) {
            Ok(checked) => checked,
            Err(err) => {
                let _ = writeln!(stderr, "{err}");
                status = Status::Error;
                continue;
            }
        };
        if !checked.lookup_failures.is_empty() {
            for failure in &checked.lookup_failures {
                let _ = writeln!(stderr, "{}: {failure}", checked.report.path);
            }
            status = Status::Error;
            continue;
        }
        let report = &checked.report;
        let mut accepted: Vec<&Fix> = Vec::new();
        let mut all_in_file = false;
        let fixable: Vec<_> = report.findings.iter().filter(|f| f.fix.is_some()).collect();
        for finding in &report.findings {
            let (line, column) = report.position(finding);
            let _ = writeln!(
                stdout,
                "{PATH}{}{PATH:#}:{line}:{column}: {RULE}{}{RULE:#}: {}",
                report.path, finding.rule, finding.message
            );
            if let Some(help) = &finding.help {
                let first = help.lines().next().unwrap_or_default();
                let _ = writeln!(stdout, "  {HELP}help{HELP:#}: {first}");
            }
            let Some(fix) = &finding.fix else {
                let _ = writeln!(stdout, "  no automatic fix: this needs a person");
                continue;
            };
            if quit {
                tally.skipped += 1;
                continue;
            }
            if fix.applies(Applicability::Safe) {
                let _ = writeln!(stdout, "  fix: {}", fix.title);
            } else {
                let _ = writeln!(
                    stdout,
                    "  {UNSAFE}unsafe fix{UNSAFE:#} (needs a change outside the Dockerfile): {}",
                    fix.title
                );
            }
            let alone = apply_fixes(&report.source, &[fix], Applicability::Unsafe).text;
            let _ = write_diff(stdout, &unified_diff(&report.path, &report.source, &alone));
            let _ = stdout.flush();
            if all_in_file {
                accepted.push(fix);
                continue;
            }
            let position = fixable
                .iter()
                .position(|f| std::ptr::eq(*f, finding))
                .map_or(0, |i| i + 1);
            let answer = Select::new()
                .with_prompt(format!(
                    "Apply this fix? ({position} of {} in {})",
                    fixable.len(),
                    report.path
                ))
                .items(CHOICES)
                .default(0)
                .interact_on_opt(&term);
            match answer {
                Ok(Some(0)) => accepted.push(fix),
                Ok(Some(1)) => tally.skipped += 1,
                Ok(Some(2)) => {
                    all_in_file = true;
                    accepted.push(fix);
                }
                // `quit`, Escape or `q`.
                Ok(_) => {
                    quit = true;
                    tally.skipped += 1;
                }
                Err(err) => {
                    // Ctrl-C or a terminal that went away: this file is left alone.
                    let _ = term.show_cursor();
                    let _ = writeln!(
                        stderr,
                        "{}: interrupted ({err}); this file was not written",
                        report.path
                    );
                    return Status::Error;
                }
            }
        }
        if accepted.is_empty() {
            tally.remaining += report.findings.len();
            continue;
        }
        let applied = apply_fixes(&report.source, &accepted, Applicability::Unsafe);
        let conflicts = accepted.len() - applied.applied.len();
        if conflicts > 0 {
            let _ = writeln!(
                stdout,
                "{}: {conflicts} accepted fix(es) overlap others and were not applied",
                report.path
            );
        }
        // The result must parse (else it is a bug in a fix, never written); what is left in
        // it is counted, not offered again.
        let remaining = match crate::syntax::parse(&applied.text) {
            Ok(file) => crate::rules::check(&file, &options.rules, &options.selection).len(),
            Err(source) => {
                let err = Error::Internal {
                    path: path.clone(),
                    source: crate::lint::LintError::BrokenFix(source),
                };
                let _ = writeln!(stderr, "{err}");
                status = Status::Error;
                continue;
            }
        };
        if applied.text != report.source {
            if let Err(source) = write_atomic(path, &checked.bytes, &applied.text) {
                let _ = writeln!(
                    stderr,
                    "{}",
                    Error::Write {
                        path: path.clone(),
                        source
                    }
                );
                status = Status::Error;
                tally.remaining += report.findings.len();
                continue;
            }
            tally.files_written += 1;
            let _ = writeln!(
                stdout,
                "{}: wrote {} fix(es)",
                report.path,
                applied.applied.len()
            );
        }
        tally.applied += applied.applied.len();
        tally.skipped += conflicts;
        tally.remaining += remaining;
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut summary = format!(
        "{} applied, {} skipped, {} written",
        plural(tally.applied, "fix"),
        tally.skipped,
        plural(tally.files_written, "file")
    )
    .replace("fixs", "fixes");
    if tally.remaining > 0 {
        summary.push_str(&format!(
            "; {} remaining (fixes are planned once per run: run again for the skipped ones and any that the applied ones lead to)",
            plural(tally.remaining, "finding")
        ));
    }
    let _ = writeln!(stdout, "{summary}");
    match status {
        Status::Error => Status::Error,
        _ if tally.remaining > 0 => Status::Findings,
        _ => Status::Clean,
    }
}
