//! The batch check: every file found, checked on every core, its report printed in path order
//! as soon as the files before it are done, and dropped once printed, so memory does not grow
//! with the number of files. `--branch` and SARIF, which need every file before the first
//! line, hold the reports instead.

use std::borrow::Cow;
use std::collections::BTreeMap;

use foldhash::HashMap;
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};

use super::args::{Args, Format};
use super::Status;
use rayon::prelude::*;

use crate::fs::discover::{
    discover_explained, discover_with_yaml, is_yaml_name, sort_in_walk_order, Input,
};
use crate::fs::write::write_atomic;
use crate::git;
use crate::linter::{
    check_file, with_ignore_pragmas, write_change, write_fixed, Checked, Error, FileReport, Project,
};
use crate::output::gitlab::GitlabReport;
use crate::output::json::JsonArray;
use crate::output::progress::Progress;
use crate::output::rdjson::RdjsonReport;
use crate::output::statistics::Statistics;
use crate::output::text::{self, Action, Tally};
use crate::output::xml::{Checkstyle, Junit};
use crate::output::{diff, github, json, sarif};
use crate::settings::{Loaded, Resolver, Settings};

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
    // The settings the walk resolves to tell what is excluded, kept for the files it keeps:
    // each walked file's settings are resolved once.
    // Keyed by the path's bytes: hashing a `Path` splits it into components.
    let walked_settings: Mutex<HashMap<OsString, Loaded>> = Mutex::default();
    let exclusion = |file: &Path| {
        let loaded = batch.resolver.for_file(file);
        let why = loaded
            .as_ref()
            .ok()
            .and_then(|settings| batch.resolver.exclusion_by(settings, file));
        if why.is_none() {
            walked_settings
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(file.as_os_str().to_owned(), loaded);
        }
        why
    };
    let (inputs, walked_yaml, missing, explanation) = if args.verbose {
        let (inputs, yaml, missing, explanation) = discover_explained(batch.paths, &exclusion);
        (inputs, yaml, missing, Some(explanation))
    } else {
        let (inputs, yaml, missing) =
            discover_with_yaml(batch.paths, &|file| exclusion(file).is_some());
        (inputs, yaml, missing, None)
    };
    let mut walked_settings = walked_settings
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let mut settings_of = |path: &Path| {
        walked_settings
            .remove(path.as_os_str())
            .unwrap_or_else(|| batch.resolver.for_file(path))
    };
    // Walking the default `.` shows paths as ripgrep does, without the `./`.
    let defaulted = args.paths.is_empty();
    let shown = |path: PathBuf| match path.strip_prefix(".") {
        Ok(relative) if defaulted => relative.to_path_buf(),
        _ => path,
    };
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
        Input::File(path) => {
            let loaded = settings_of(&path);
            Some((shown(path), loaded))
        }
        Input::Stdin => None,
    });
    // YAML named on the command line or found by the walk: deployment file candidates.
    let (named_yaml, files): (Vec<_>, Vec<_>) = files.partition(|(path, _)| {
        path.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(is_yaml_name)
    });
    let mut config_errors = Vec::new();
    let files: Vec<(PathBuf, Arc<Settings>)> = files
        .into_iter()
        .filter_map(|(path, loaded)| match loaded {
            Ok(settings) => Some((path, settings)),
            Err(message) => {
                if !config_errors.contains(&message) {
                    config_errors.push(message);
                }
                None
            }
        })
        .collect();
    let walked_yaml = walked_yaml.into_iter().map(|path| {
        let loaded = settings_of(&path);
        (shown(path), loaded)
    });
    let yaml: Vec<(PathBuf, Arc<Settings>)> = named_yaml
        .into_iter()
        .chain(walked_yaml)
        .filter_map(|(path, loaded)| Some((path, loaded.ok()?)))
        .collect();
    drop(walked_settings);
    if let Some(explanation) = &explanation {
        let _ = super::verbose::report(explanation, &files, &yaml, defaulted, stderr);
    }
    if !config_errors.is_empty() {
        for message in config_errors {
            let _ = writeln!(stderr, "{message}");
        }
        return Status::Error;
    }
    if args.add_ignore {
        return add_ignore(&files, stdout, stderr, status);
    }
    if args.interactive {
        return match &batch.git {
            Some(git) => super::interactive::run_branch(git, &files, &yaml, stdout, stderr, status),
            None => super::interactive::run(&files, &yaml, stdout, stderr, status),
        };
    }
    // `--branch`: the fixes go to a commit; the report counts them as fixed.
    let action = if args.write || args.branch.is_some() {
        Action::Write
    } else {
        Action::Show
    };
    let show_unsafe = action == Action::Show && args.format == Format::Text;
    // The repository step: deployment files linked to the Dockerfiles that build their
    // images, checked together ahead of the stream (none: the stream is as before).
    let project = (!yaml.is_empty()).then(|| Project::load(&yaml, &files));
    let no_files = files.is_empty();
    let digests = files
        .iter()
        .any(|(_, settings)| settings.lint.registry.is_some());
    // The Dockerfiles and the deployment files, in path order; the Dockerfiles alone are
    // kept beside them only for `--branch`, which commits them.
    let mut files = files;
    let checked_files: Vec<(PathBuf, Arc<Settings>)> = match &project {
        Some(project) => {
            project.prepare(&files, show_unsafe);
            let mut all = if batch.git.is_some() {
                files.clone()
            } else {
                std::mem::take(&mut files)
            };
            all.extend(project.paths());
            sort_in_walk_order(&mut all, |(path, _)| path);
            all.dedup_by(|a, b| a.0 == b.0);
            all
        }
        None if batch.git.is_some() => files.clone(),
        None => std::mem::take(&mut files),
    };
    let progress = Progress::new(checked_files.len(), batch.progress_allowed && !args.quiet);
    let check = |(path, settings): &(PathBuf, Arc<Settings>)| {
        let checked = match project.as_ref().and_then(|p| p.take(path)) {
            Some(ready) => ready,
            None => check_file(path, &settings.lint, settings.threshold, show_unsafe),
        };
        progress.inc();
        checked
    };
    let mut printer = Printer::new(args.format, args.quiet, &progress);
    printer.statistics = args.statistics.then(Statistics::default);
    let mut reports = Vec::new();
    let holds_reports = batch.git.is_some() || args.format == Format::Sarif;
    let renderer = (!holds_reports).then(|| printer.renderer());
    let mut lookup_failed = false;
    let mut errors = Vec::new();
    // The files the repository step holds are written by it, one coherent change (a port
    // move across a Dockerfile and its deployment files) whole or not at all.
    let held = |path: &Path| project.as_ref().is_some_and(|p| p.holds(path));
    // `--branch` commits the held files' fixes as the repository step made them.
    let mut prepared: std::collections::HashMap<PathBuf, git::Prepared> =
        std::collections::HashMap::new();
    // `rendered`: the report already in the output format, made on the worker's thread.
    let mut handle = |result: Result<Checked, Error>, rendered: Option<Vec<u8>>, action: Action| {
        let file = match result {
            Ok(file) => file,
            Err(err) => {
                status = Status::Error;
                if args.format == Format::Sarif {
                    errors.push(err.to_string());
                }
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
        let path = PathBuf::from(&file.report.path);
        if batch.git.is_some() && held(&path) {
            prepared.insert(path, git::Prepared::new(file.bytes, &file.report));
        }
        if holds_reports {
            reports.push(file.report);
        } else {
            printer.print(stdout, &file.report, rendered.as_deref(), action);
        }
    };
    if let (true, false, Some(project)) = (args.write, digests, &project) {
        project.write();
    }
    if args.write && digests {
        // Every file is checked before any is written: a `--pin digest` lookup that fails in
        // one file stops the writing of all of them, so a run never pins half a repository.
        // This mode holds every file until the lookups are done.
        let checked: Vec<Result<Checked, Error>> = checked_files.par_iter().map(check).collect();
        let failed = checked
            .iter()
            .flatten()
            .any(|file| !file.lookup_failures.is_empty());
        let action = if failed { Action::Show } else { action };
        let mut checked = checked;
        if let (false, Some(project)) = (failed, &project) {
            let mut held_results: HashMap<PathBuf, &mut Checked> = checked
                .iter_mut()
                .zip(&checked_files)
                .filter(|(_, (path, _))| held(path))
                .filter_map(|(result, (path, _))| Some((path.clone(), result.as_mut().ok()?)))
                .collect();
            for group in project.coherent_changes() {
                write_change(&group, &mut held_results);
            }
        }
        for (result, (path, _)) in checked.into_iter().zip(&checked_files) {
            let result = if failed || held(path) {
                result
            } else {
                result.map(|file| write_fixed(path, file))
            };
            handle(result, None, action);
        }
    } else {
        let write = args.write;
        for_each_in_order(
            &checked_files,
            |file| {
                let result = match check(file) {
                    Ok(checked) if write && !held(&file.0) => Ok(write_fixed(&file.0, checked)),
                    other => other,
                };
                let rendered = match (&result, renderer) {
                    (Ok(checked), Some(renderer)) => renderer.render(&checked.report, action),
                    _ => None,
                };
                (result, rendered)
            },
            |(result, rendered)| handle(result, rendered, action),
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
        // Dockerfiles and the deployment files the repository step checked: the commit holds
        // each coherent change whole (a port move with every file it edits) or not at all.
        let changes = project
            .as_ref()
            .map(Project::coherent_changes)
            .unwrap_or_default();
        let outcome = git::run(
            &git,
            &checked_files,
            &git::Held {
                files: &prepared,
                changes: &changes,
            },
            text,
            &mut git_lines,
            stderr,
        );
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
        let _ = stdout.write_all(sarif::render_with_errors(&reports, &errors).as_bytes());
        for report in &reports {
            printer.tally.add(report);
        }
    } else {
        for report in &reports {
            printer.print(stdout, report, None, action);
        }
    }
    let _ = stdout.write_all(&git_lines);
    if no_files && status == Status::Clean && args.format == Format::Text {
        let _ = writeln!(stdout, "no Dockerfiles found");
    }
    let tally = printer.finish(stdout, action);
    match final_status(status, &tally, action, args) {
        _ if !git_ok => Status::Error,
        status => status,
    }
}

/// `--add-ignore`: each file with findings gets its pragmas, written in place; the count is
/// printed at the end, as ruff's `--add-noqa` does.
fn add_ignore(
    files: &[(PathBuf, Arc<Settings>)],
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    mut status: Status,
) -> Status {
    let results: Vec<Result<(usize, Option<Error>), Error>> = files
        .par_iter()
        .map(|(path, settings)| {
            let checked = check_file(path, &settings.lint, settings.threshold, false)?;
            if checked.report.findings.is_empty() {
                return Ok((0, None));
            }
            let (text, added) =
                with_ignore_pragmas(&checked.report.source, &checked.report.findings).map_err(
                    |source| Error::Parse {
                        path: path.clone(),
                        source,
                    },
                )?;
            let written = write_atomic(path, &checked.bytes, &text)
                .err()
                .map(|source| Error::Write {
                    path: path.clone(),
                    source,
                });
            Ok((if written.is_some() { 0 } else { added }, written))
        })
        .collect();
    let (mut pragmas, mut changed) = (0, 0);
    for result in results {
        match result {
            Ok((added, error)) => {
                pragmas += added;
                changed += usize::from(added > 0);
                if let Some(err) = error {
                    status = Status::Error;
                    let _ = writeln!(stderr, "{err}");
                }
            }
            Err(err) => {
                status = Status::Error;
                let _ = writeln!(stderr, "{err}");
            }
        }
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        stdout,
        "added {} to {}",
        plural(pragmas, "pragma"),
        plural(changed, "file")
    );
    status
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
    /// `--quiet`: text without diffs and summary.
    quiet: bool,
    /// `--statistics`: counts per rule instead of the reports.
    statistics: Option<Statistics>,
    progress: &'a Progress,
    json: JsonArray,
    gitlab: GitlabReport,
    rdjson: RdjsonReport,
    checkstyle: Checkstyle,
    junit: Junit,
    tally: Tally,
}

impl<'a> Printer<'a> {
    fn new(format: Format, quiet: bool, progress: &'a Progress) -> Printer<'a> {
        Printer {
            format,
            quiet,
            statistics: None,
            progress,
            json: JsonArray::default(),
            gitlab: GitlabReport::default(),
            rdjson: RdjsonReport::default(),
            checkstyle: Checkstyle::default(),
            junit: Junit::default(),
            tally: Tally::default(),
        }
    }

    /// What renders one report on its own, on any thread.
    fn renderer(&self) -> Renderer {
        Renderer {
            format: self.format,
            quiet: self.quiet,
            statistics: self.statistics.is_some(),
        }
    }

    /// A failed write is a closed pipe: nobody reads the rest; the status tells the outcome
    /// (and the checked stream remembers the failure). `rendered`: the report as
    /// [`Renderer::render`] made it.
    fn print(
        &mut self,
        out: &mut dyn Write,
        report: &FileReport,
        rendered: Option<&[u8]>,
        action: Action,
    ) {
        self.tally.add(report);
        if let Some(statistics) = &mut self.statistics {
            statistics.add(report);
            return;
        }
        let rendered = match rendered {
            Some(bytes) => Some(Cow::Borrowed(bytes)),
            None => self.renderer().render(report, action).map(Cow::Owned),
        };
        let _ = self.progress.suspend(|| match (rendered, self.format) {
            (Some(bytes), _) => out.write_all(&bytes),
            (None, Format::Json) => self.json.push(out, report),
            (None, Format::Gitlab) => self.gitlab.push(out, report),
            (None, Format::Rdjson) => self.rdjson.push(out, report),
            (None, Format::Checkstyle) => self.checkstyle.push(out, report),
            (None, Format::Junit) => self.junit.push(out, report),
            (None, _) => Ok(()),
        });
    }

    /// Closes the document (JSON) or prints the summary line (text); the counts.
    fn finish(self, out: &mut dyn Write, action: Action) -> Tally {
        if let Some(statistics) = &self.statistics {
            let _ = match self.format {
                Format::Json => statistics.write_json(out),
                _ => statistics.write_text(out),
            };
            return self.tally;
        }
        match self.format {
            Format::Json => {
                let _ = self.json.finish(out);
            }
            Format::Text if self.quiet => {}
            Format::Text => {
                if let Some(summary) = self.tally.summary(action) {
                    let _ = writeln!(out, "{summary}");
                }
            }
            Format::Gitlab => {
                let _ = self.gitlab.finish(out);
            }
            Format::Rdjson => {
                let _ = self.rdjson.finish(out);
            }
            Format::Checkstyle => {
                let _ = self.checkstyle.finish(out);
            }
            Format::Junit => {
                let _ = self.junit.finish(out);
            }
            Format::Github | Format::Diff | Format::Sarif | Format::JsonLines => {}
        }
        self.tally
    }
}

/// Renders the reports of the formats that print each file apart from the others, so that
/// the workers do it and the printing thread only writes bytes.
#[derive(Clone, Copy)]
struct Renderer {
    format: Format,
    quiet: bool,
    statistics: bool,
}

impl Renderer {
    /// `None`: the format (or `--statistics`) needs the printer's state.
    fn render(self, report: &FileReport, action: Action) -> Option<Vec<u8>> {
        if self.statistics {
            return None;
        }
        let mut out = Vec::new();
        let written = match self.format {
            Format::Text if self.quiet => text::write_findings(&mut out, report, action),
            Format::Text => text::write_file(&mut out, report, action),
            Format::Github => {
                out.extend_from_slice(github::render(std::slice::from_ref(report)).as_bytes());
                Ok(())
            }
            Format::Diff => {
                out.extend_from_slice(diff::render(std::slice::from_ref(report)).as_bytes());
                Ok(())
            }
            Format::JsonLines => json::write_lines(&mut out, report),
            _ => return None,
        };
        written.ok().map(|()| out)
    }
}

/// Runs `work` on every item on every core and hands the results to `emit` in the items'
/// order as soon as each is next; at most about [`WINDOW`] finished results wait for a
/// slower one. Items go to the workers in runs of [`RUN`], one message each, and a worker
/// that is too far ahead sleeps until the printer catches up: the threads meet once per run
/// rather than once per file (each meeting can cost a system call).
fn for_each_in_order<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
    mut emit: impl FnMut(R),
) {
    const RUN: usize = 16;
    let window = (WINDOW / RUN).max(1);
    let runs: Vec<&[T]> = items.chunks(RUN).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    // How many runs were emitted, and how many workers sleep until that grows.
    let emitted = AtomicUsize::new(0);
    let sleepers = AtomicUsize::new(0);
    let caught_up = (Mutex::new(()), Condvar::new());
    let (sender, receiver) = mpsc::channel::<(usize, Vec<R>)>();
    std::thread::scope(|scope| {
        for _ in 0..threads.min(runs.len()) {
            let sender = sender.clone();
            let (runs, next, emitted, sleepers, caught_up, work) =
                (&runs, &next, &emitted, &sleepers, &caught_up, &work);
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(run) = runs.get(index) else {
                    break;
                };
                if index >= emitted.load(Ordering::SeqCst) + window {
                    let mut guard = caught_up.0.lock().unwrap_or_else(PoisonError::into_inner);
                    sleepers.fetch_add(1, Ordering::SeqCst);
                    while index >= emitted.load(Ordering::SeqCst) + window {
                        guard = caught_up
                            .1
                            .wait(guard)
                            .unwrap_or_else(PoisonError::into_inner);
                    }
                    sleepers.fetch_sub(1, Ordering::SeqCst);
                }
                let results = run.iter().map(work).collect();
                if sender.send((index, results)).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        let mut early = BTreeMap::new();
        let mut expected = 0;
        for (index, results) in receiver {
            early.insert(index, results);
            while let Some(results) = early.remove(&expected) {
                results.into_iter().for_each(&mut emit);
                expected += 1;
                emitted.store(expected, Ordering::SeqCst);
                // A sleeper checked `emitted` before this store, under the lock: taking the
                // lock waits until it sleeps, so the wake-up is not lost.
                if sleepers.load(Ordering::SeqCst) > 0 {
                    let _guard = caught_up.0.lock().unwrap_or_else(PoisonError::into_inner);
                    caught_up.1.notify_all();
                }
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

/// 2 on an error; 1 when findings are left (unless `--exit-zero`), or when fixes were
/// applied and `--exit-non-zero-on-fix` is given; 0 otherwise.
pub(super) fn final_status(status: Status, tally: &Tally, action: Action, args: &Args) -> Status {
    if status == Status::Error {
        return Status::Error;
    }
    let fixed = action == Action::Write && tally.fixed() > 0;
    if (tally.left(action) && !args.exit_zero) || (fixed && args.exit_non_zero_on_fix) {
        Status::Findings
    } else {
        Status::Clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_printer_holds_the_workers_back() {
        let items: Vec<usize> = (0..3000).collect();
        let finished = AtomicUsize::new(0);
        let printed = AtomicUsize::new(0);
        let most_waiting = AtomicUsize::new(0);
        let mut seen = Vec::new();
        for_each_in_order(
            &items,
            |&item| {
                let waiting =
                    finished.fetch_add(1, Ordering::SeqCst) + 1 - printed.load(Ordering::SeqCst);
                most_waiting.fetch_max(waiting, Ordering::SeqCst);
                item
            },
            |result| {
                if result % 50 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                printed.fetch_add(1, Ordering::SeqCst);
                seen.push(result);
            },
        );
        assert_eq!(seen, items);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // The window, and the run each worker has in hand.
        assert!(most_waiting.into_inner() <= WINDOW + 16 * (threads + 1));
    }

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
