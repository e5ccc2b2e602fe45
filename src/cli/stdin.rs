//! `unroot -`: standard input in, the fixed file out (findings on stderr), for pipes and
//! editors.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use super::args::{Args, Format};
use super::check::{final_status, write_text};
use super::{report_error, Status};
use crate::linter::{read_limited, report_for, Error};
use crate::output::text::{self, Action, Tally};
use crate::settings::Settings;

/// The name standard input goes by in messages.
const STDIN_NAME: &str = "<stdin>";

/// `-`: the fixed file on stdout, findings on stderr (JSON on stdout with --format json).
pub fn run(
    args: &Args,
    settings: &Settings,
    stdin: &mut impl Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Status {
    let name = args
        .stdin_filename
        .clone()
        .unwrap_or_else(|| PathBuf::from(STDIN_NAME));
    let shown = name.display().to_string();
    let bytes = match read_limited(stdin) {
        Ok(bytes) => bytes,
        Err(source) => return report_error(stderr, Error::Io { path: name, source }),
    };
    let (report, lookup_failures) = match report_for(
        &shown,
        args.stdin_filename.as_deref(),
        &bytes,
        &settings.lint,
        settings.threshold,
        false,
    ) {
        Ok(checked) => checked,
        Err(err) => {
            // As ruff does: the input goes through unchanged, so `unroot - < f > g`
            // loses nothing (the rest of a file too large to check included).
            if args.format == Format::Text {
                let _ = stdout
                    .write_all(&bytes)
                    .and_then(|()| io::copy(stdin, stdout).map(drop));
            }
            return report_error(stderr, err.with_path(&name));
        }
    };
    if let Some(warning) = report.untouched_warning() {
        let _ = writeln!(stderr, "{warning}");
    }
    let reports = [report];
    // A failed `--pin digest` lookup: the findings, the errors, and no file on stdout.
    if !lookup_failures.is_empty() {
        let _ = match args.format.render(&reports) {
            Some(report) => stdout.write_all(report.as_bytes()),
            // The findings alone: no summary, which would count fixes as made.
            None => text::write_file(stderr, &reports[0], Action::Write),
        };
        for failure in &lookup_failures {
            let _ = writeln!(stderr, "{shown}: {failure}");
        }
        return Status::Error;
    }
    let written = match args.format.render(&reports) {
        Some(report) => stdout.write_all(report.as_bytes()),
        None if args.quiet => stdout
            .write_all(reports[0].fixed.as_bytes())
            .and_then(|()| text::write_findings(stderr, &reports[0], Action::Write)),
        None => stdout
            .write_all(reports[0].fixed.as_bytes())
            .and_then(|()| write_text(stderr, &reports, Action::Write)),
    };
    let _ = written;
    // The other formats carry the findings (or the diff), not the fixed file: nothing was
    // fixed, as in a dry run.
    let action = match args.format {
        Format::Text => Action::Write,
        _ => Action::Show,
    };
    let mut tally = Tally::default();
    tally.add(&reports[0]);
    final_status(Status::Clean, &tally, action, args)
}
