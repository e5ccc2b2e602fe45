//! The batch check: every file found, checked on every core, its report printed in path order
//! as soon as the files before it are done, and dropped once printed, so memory does not grow
//! with the number of files. `--branch` and SARIF, which need every file before the first
//! line, hold the reports instead.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};

use super::args::{Args, Format};
use super::Status;
use rayon::prelude::*;

use crate::fs::discover::{discover_excluding, Input};
use crate::git;
use crate::linter::{check_file, write_fixed, Checked, Error, FileReport};
use crate::output::json::JsonArray;
use crate::output::progress::Progress;
use crate::output::text::{self, Action, Tally};
use crate::output::{diff, github, sarif};
use crate::settings::{Resolver, Settings};

/// How many finished files may wait for a slower one before them to be printed.
const WINDOW: usize = 256;

/// What a batch run needs besides the flags.
pub struct Batch<'a> {
    pub args: &'a Args,
    pub paths: &'a [PathBuf],
    pub resolver: &'a Resolver,
    pub git: Option<git::Options>,
    pub progress_allowed: bool,
}

/// Checks (and with `--write` fixes, with `--branch` commits) every file under the paths.
pub fn run(batch: Batch, stdout: &mut dyn Write, stderr: &mut dyn Write) -> Status {
    let args = batch.args;
    let (inputs, missing) = discover_excluding(batch.paths, &|file| batch.resolver.excluded(file));
    // Walking the default `.` shows paths as ripgrep does, without the `./`.
    let defaulted = args.paths.is_empty();
    let mut status = Status::Clean;
    for (path, err) in missing {
        status = Status::Error;
        let path = match path.strip_prefix(".") {
            Ok(relative) if defaulted && !relative.as_os_str().is_empty() => relative.to_path_buf(),
            _ => path,
        };
        let _ = writeln!(stderr, "{}", Error::Io { path, source: err });
    }
    let files = inputs.into_iter().filter_map(|input| match input {
        Input::File(path) if defaulted => Some(
            path.strip_prefix(".")
                .map(Path::to_path_buf)
                .unwrap_or(path),
        ),
        Input::File(path) => Some(path),
        Input::Stdin => None,
    });
    let mut config_errors = Vec::new();
    let files: Vec<(PathBuf, Arc<Settings>)> = files
        .filter_map(|path| match batch.resolver.for_file(&path) {
            Ok(settings) => Some((path, settings)),
            Err(message) => {
                if !config_errors.contains(&message) {
                    config_errors.push(message);
                }
                None
            }
        })
        .collect();
    if !config_errors.is_empty() {
        for message in config_errors {
            let _ = writeln!(stderr, "{message}");
        }
        return Status::Error;
    }
    if args.interactive {
        return match &batch.git {
            Some(git) => super::interactive::run_branch(git, &files, stdout, stderr, status),
            None => super::interactive::run(&files, stdout, stderr, status),
        };
    }
    // `--branch`: the fixes go to a commit; the report counts them as fixed.
    let action = if args.write || args.branch.is_some() {
        Action::Write
    } else {
        Action::Show
    };
    let show_unsafe = action == Action::Show && args.format == Format::Text;
    let progress = Progress::new(files.len(), batch.progress_allowed);
    let check = |(path, settings): &(PathBuf, Arc<Settings>)| {
        let checked = check_file(path, &settings.lint, settings.threshold, show_unsafe);
        progress.inc();
        checked
    };
    let mut printer = Printer::new(args.format, &progress);
    let mut reports = Vec::new();
    let holds_reports = batch.git.is_some() || args.format == Format::Sarif;
    let mut lookup_failed = false;
    let mut handle = |result: Result<Checked, Error>, action: Action| {
        let file = match result {
            Ok(file) => file,
            Err(err) => {
                status = Status::Error;
                let _ = progress.suspend(|| writeln!(stderr, "{err}"));
                return;
            }
        };
        if !file.lookup_failures.is_empty() {
            lookup_failed = true;
        }
        if !file.lookup_failures.is_empty() || file.write_error.is_some() {
            status = Status::Error;
        }
        let _ = progress.suspend(|| report_errors(&file, stderr));
        if holds_reports {
            reports.push(file.report);
        } else {
            printer.print(stdout, &file.report, action);
        }
    };
    let digests = files
        .iter()
        .any(|(_, settings)| settings.lint.registry.is_some());
    if args.write && digests {
        // Every file is checked before any is written: a `--pin digest` lookup that fails in
        // one file stops the writing of all of them, so a run never pins half a repository.
        // This mode holds every file until the lookups are done.
        let checked: Vec<Result<Checked, Error>> = files.par_iter().map(check).collect();
        let failed = checked
            .iter()
            .flatten()
            .any(|file| !file.lookup_failures.is_empty());
        let action = if failed { Action::Show } else { action };
        for (result, (path, _)) in checked.into_iter().zip(&files) {
            let result = if failed {
                result
            } else {
                result.map(|file| write_fixed(path, file))
            };
            handle(result, action);
        }
    } else {
        let write = args.write;
        for_each_in_order(
            &files,
            |file| match check(file) {
                Ok(checked) if write => Ok(write_fixed(&file.0, checked)),
                other => other,
            },
            |result| handle(result, action),
        );
    }
    let action = if lookup_failed { Action::Show } else { action };
    progress.finish();
    if lookup_failed && args.write {
        let _ = writeln!(
            stderr,
            "error: a `--pin digest` lookup failed; nothing was written"
        );
    }
    // With --branch the commits make the fixes: the git step runs before the report is
    // printed (its lines held back and printed after the files), so the report says which
    // fixes are in a commit.
    let mut git_lines = Vec::new();
    let mut git_ok = true;
    if let Some(git) = batch.git.filter(|_| !lookup_failed) {
        let text = args.format == Format::Text;
        let outcome = git::run(&git, &files, text, &mut git_lines, stderr);
        git_ok = outcome.ok;
        let committed: std::collections::HashSet<String> = outcome
            .committed
            .iter()
            .map(|path| path.display().to_string())
            .collect();
        for report in &mut reports {
            if !committed.contains(&report.path) {
                report.mark_unapplied();
            }
        }
    }
    if args.format == Format::Sarif {
        let _ = stdout.write_all(sarif::render(&reports).as_bytes());
        for report in &reports {
            printer.tally.add(report);
        }
    } else {
        for report in &reports {
            printer.print(stdout, report, action);
        }
    }
    let _ = stdout.write_all(&git_lines);
    if files.is_empty() && status == Status::Clean && args.format == Format::Text {
        let _ = writeln!(stdout, "no Dockerfiles found");
    }
    let tally = printer.finish(stdout, action);
    match final_status(status, &tally, action, args.exit_zero) {
        _ if !git_ok => Status::Error,
        status => status,
    }
}

fn report_errors(file: &Checked, stderr: &mut dyn Write) -> io::Result<()> {
    if let Some(warning) = file.report.untouched_warning() {
        writeln!(stderr, "{warning}")?;
    }
    for failure in &file.lookup_failures {
        writeln!(stderr, "{}: {failure}", file.report.path)?;
    }
    if let Some(err) = &file.write_error {
        writeln!(stderr, "{err}")?;
    }
    Ok(())
}

/// Prints reports one by one in the run's format and adds them up for the summary.
struct Printer<'a> {
    format: Format,
    progress: &'a Progress,
    json: JsonArray,
    tally: Tally,
}

impl<'a> Printer<'a> {
    fn new(format: Format, progress: &'a Progress) -> Printer<'a> {
        Printer {
            format,
            progress,
            json: JsonArray::default(),
            tally: Tally::default(),
        }
    }

    /// A failed write is a closed pipe: nobody reads the rest; the status tells the outcome
    /// (and the checked stream remembers the failure).
    fn print(&mut self, out: &mut dyn Write, report: &FileReport, action: Action) {
        self.tally.add(report);
        let _ = self.progress.suspend(|| match self.format {
            Format::Text => text::write_file(out, report, action),
            Format::Json => self.json.push(out, report),
            Format::Github => {
                out.write_all(github::render(std::slice::from_ref(report)).as_bytes())
            }
            Format::Diff => out.write_all(diff::render(std::slice::from_ref(report)).as_bytes()),
            Format::Sarif => Ok(()),
        });
    }

    /// Closes the document (JSON) or prints the summary line (text); the counts.
    fn finish(self, out: &mut dyn Write, action: Action) -> Tally {
        match self.format {
            Format::Json => {
                let _ = self.json.finish(out);
            }
            Format::Text => {
                if let Some(summary) = self.tally.summary(action) {
                    let _ = writeln!(out, "{summary}");
                }
            }
            Format::Github | Format::Diff | Format::Sarif => {}
        }
        self.tally
    }
}

/// Runs `work` on every item on every core and hands the results to `emit` in the items'
/// order as soon as each is next; at most [`WINDOW`] finished results wait for a slower one.
fn for_each_in_order<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
    mut emit: impl FnMut(R),
) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let emitted = Mutex::new(0usize);
    let moved_on = Condvar::new();
    let (sender, receiver) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(items.len()) {
            let sender = sender.clone();
            let (next, emitted, moved_on, work) = (&next, &emitted, &moved_on, &work);
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else {
                    break;
                };
                let mut done = emitted.lock().unwrap_or_else(PoisonError::into_inner);
                while index >= *done + WINDOW {
                    done = moved_on.wait(done).unwrap_or_else(PoisonError::into_inner);
                }
                drop(done);
                if sender.send((index, work(item))).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        let mut early = BTreeMap::new();
        let mut expected = 0;
        for (index, result) in receiver {
            early.insert(index, result);
            while let Some(result) = early.remove(&expected) {
                emit(result);
                expected += 1;
                *emitted.lock().unwrap_or_else(PoisonError::into_inner) = expected;
                moved_on.notify_all();
            }
        }
    });
}

pub(super) fn write_text(
    out: &mut dyn Write,
    reports: &[FileReport],
    action: Action,
) -> io::Result<()> {
    for report in reports {
        text::write_file(out, report, action)?;
    }
    // Standard input says nothing on a clean file: editors read stderr as trouble.
    let clean = reports.iter().all(|report| report.findings.is_empty());
    if let Some(summary) = text::summary(reports, action).filter(|_| !clean) {
        writeln!(out, "{summary}")?;
    }
    Ok(())
}

pub(super) fn final_status(
    status: Status,
    tally: &Tally,
    action: Action,
    exit_zero: bool,
) -> Status {
    if status == Status::Error {
        return Status::Error;
    }
    if tally.left(action) && !exit_zero {
        Status::Findings
    } else {
        Status::Clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_the_order_of_the_items() {
        let items: Vec<usize> = (0..2000).collect();
        let mut seen = Vec::new();
        for_each_in_order(
            &items,
            |&item| {
                // Uneven work, so results finish out of order.
                if item % 7 == 0 {
                    std::thread::yield_now();
                }
                item * 2
            },
            |result| seen.push(result),
        );
        assert_eq!(seen, items.iter().map(|item| item * 2).collect::<Vec<_>>());
    }
}
