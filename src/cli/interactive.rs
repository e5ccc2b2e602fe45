//! `--interactive`: each planned fix is shown with its own diff and asked about; the
//! accepted ones are written, atomically, as `--write` writes, or with `--branch` committed
//! (planned on the committed text of each file, as `--branch` fixes it).
//!
//! The deployment files (Compose, Kubernetes, Helm values) that run the Dockerfiles' images
//! are reviewed after the Dockerfiles, with the fixes `--write` would make: their own
//! (`deploy-user`) are asked about; their port edits follow the answer given for the
//! Dockerfile's port move, and the files of one such change are written together or not at
//! all. With `--branch` they are committed in the same one commit, when the files of their
//! change are committed as they are in the working tree (where the change is planned).
//!
//! Fixes are planned once, on the file as it is. The accepted ones are applied together;
//! the result is checked again only to count what remains: fixes that the applied ones
//! would lead to (a second round) are not offered in the same run, as the summary says.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dialoguer::console::Term;
use dialoguer::Select;

use super::Status;
use crate::edit::{apply_fixes, Applicability, Fix};
use crate::fs::write::{write_atomic, write_together, Planned};
use crate::linter::Error;
use crate::linter::LintOptions;
use crate::linter::{check_bytes, check_file, Project};
use crate::output::diff::unified_diff;
use crate::output::text::{write_diff, HELP, PATH, RULE, UNSAFE};
use crate::output::FileReport;
use crate::rules::deployment::{carried_move, moved_port};
use crate::rules::Finding;
use crate::settings::Settings;

/// The answers, in the order the prompt lists them.
const CHOICES: [&str; 4] = [
    "yes: apply this fix",
    "no: skip it",
    "all: apply this and the remaining fixes in this file",
    "quit: stop here (the fixes accepted so far are written)",
];

/// The Dockerfiles' port moves, as answered: (Dockerfile, port, new port) → accepted. A
/// deployment file's edit that carries a move follows the answer given for it.
#[derive(Default)]
struct PortMoveAnswers(HashMap<(String, u16, u16), bool>);

impl PortMoveAnswers {
    fn record(&mut self, report: &FileReport, accepted: &[&Finding]) {
        for finding in &report.findings {
            if let Some((old, new)) = finding.fix.as_ref().and_then(moved_port) {
                let yes = accepted.iter().any(|a| std::ptr::eq(*a, finding));
                self.0.insert((report.path.clone(), old, new), yes);
            }
        }
    }

    /// The Dockerfile whose move `finding` carries, and whether that move was accepted.
    fn follows(&self, finding: &Finding) -> Option<(String, bool)> {
        let (dockerfile, old, new) = carried_move(finding)?;
        let yes = self
            .0
            .get(&(dockerfile.clone(), old, new))
            .copied()
            .unwrap_or(false);
        Some((dockerfile, yes))
    }
}

/// With `--branch`, the last answer says where the accepted fixes go.
const QUIT_COMMITTED: &str = "quit: stop here (the fixes accepted so far are committed)";

#[derive(Default)]
struct Tally {
    applied: usize,
    skipped: usize,
    remaining: usize,
    files_written: usize,
}

/// The questions of one run: the terminal, the counts, and whether the user quit.
struct Session {
    term: Term,
    tally: Tally,
    quit: bool,
    choices: [&'static str; 4],
}

impl Session {
    fn new(committed: bool) -> Self {
        let mut choices = CHOICES;
        if committed {
            choices[3] = QUIT_COMMITTED;
        }
        Session {
            term: Term::stderr(),
            tally: Tally::default(),
            quit: false,
            choices,
        }
    }

    /// Shows every finding of `report` and asks about each fix; returns the findings whose
    /// fixes were accepted. An error is Ctrl-C or a terminal that went away. `follows`
    /// decides a deployment file's port edit without a question: it follows the answer given
    /// for the Dockerfile's port move (`Some(true)`: accepted), so no move is made by halves.
    fn review_following<'r>(
        &mut self,
        report: &'r FileReport,
        stdout: &mut dyn Write,
        follows: &dyn Fn(&Finding) -> Option<(String, bool)>,
    ) -> Result<Vec<&'r Finding>, dialoguer::Error> {
        let mut accepted: Vec<&Finding> = Vec::new();
        let mut all_in_file = false;
        let fixable: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.fix.is_some() && follows(f).is_none())
            .collect();
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
            if let Some((dockerfile, yes)) = follows(finding) {
                if yes {
                    let _ = writeln!(
                        stdout,
                        "  fix: {} (follows the port move accepted in {dockerfile})",
                        fix.title
                    );
                    accepted.push(finding);
                } else {
                    let _ = writeln!(
                        stdout,
                        "  skipped: {} (the port move of {dockerfile} was not accepted)",
                        fix.title
                    );
                    self.tally.skipped += 1;
                }
                continue;
            }
            if self.quit {
                self.tally.skipped += 1;
                continue;
            }
            if fix.applies(Applicability::Safe) {
                let _ = writeln!(stdout, "  fix: {}", fix.title);
            } else {
                let _ = writeln!(
                    stdout,
                    "  {UNSAFE}unsafe fix{UNSAFE:#} (needs a change outside the file): {}",
                    fix.title
                );
            }
            let alone = apply_fixes(&report.source, &[fix], Applicability::Unsafe).text;
            let _ = write_diff(stdout, &unified_diff(&report.path, &report.source, &alone));
            let _ = stdout.flush();
            if all_in_file {
                accepted.push(finding);
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
                .items(self.choices)
                .default(0)
                .interact_on_opt(&self.term);
            match answer {
                Ok(Some(0)) => accepted.push(finding),
                Ok(Some(1)) => self.tally.skipped += 1,
                Ok(Some(2)) => {
                    all_in_file = true;
                    accepted.push(finding);
                }
                // `quit`, Escape or `q`.
                Ok(_) => {
                    self.quit = true;
                    self.tally.skipped += 1;
                }
                Err(err) => {
                    let _ = self.term.show_cursor();
                    return Err(err);
                }
            }
        }
        Ok(accepted)
    }
}

/// The accepted fixes of one file, applied together.
struct Outcome {
    text: String,
    /// Indexes (into the accepted fixes) of those applied.
    applied: Vec<usize>,
    /// Accepted fixes left out because they overlap others.
    conflicts: usize,
    /// Findings left in `text`.
    remaining: usize,
}

/// Applies `accepted` to `report`'s text; the result must parse (else it is a bug in a fix,
/// never written); what is left in it is counted, not offered again.
fn apply_accepted(
    path: &Path,
    report: &FileReport,
    accepted: &[&Finding],
    options: &LintOptions,
    stdout: &mut dyn Write,
) -> Result<Outcome, Error> {
    let fixes: Vec<&Fix> = accepted.iter().filter_map(|f| f.fix.as_ref()).collect();
    let applied = apply_fixes(&report.source, &fixes, Applicability::Unsafe);
    let conflicts = fixes.len() - applied.applied.len();
    if conflicts > 0 {
        let _ = writeln!(
            stdout,
            "{}: {conflicts} accepted fix(es) overlap others and were not applied",
            report.path
        );
    }
    let yaml = path
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(crate::fs::discover::is_yaml_name);
    if yaml {
        // A deployment file: its findings are the repository step's, made once; what the
        // accepted fixes leave is the rest (the text must still be YAML unroot reads).
        if crate::yaml::parse(&applied.text).is_err() {
            return Err(Error::Parse {
                path: path.to_path_buf(),
                source: crate::syntax::ParseError {
                    line: 1,
                    end_line: 1,
                    kind: crate::syntax::ErrorKind::Syntax,
                    message: "internal error: the accepted fixes are not valid YAML; nothing \
                              was changed"
                        .to_string(),
                },
            });
        }
        return Ok(Outcome {
            remaining: report.findings.len() - applied.applied.len(),
            text: applied.text,
            applied: applied.applied,
            conflicts,
        });
    }
    let remaining = match crate::syntax::parse(&applied.text) {
        Ok(file) => {
            let surroundings = crate::linter::surroundings::read(path, &file);
            crate::rules::check_in(&file, &options.rules, &options.selection, &surroundings).len()
        }
        Err(source) => {
            return Err(Error::Internal {
                path: path.to_path_buf(),
                source: crate::linter::LintError::BrokenFix(source),
            })
        }
    };
    Ok(Outcome {
        text: applied.text,
        applied: applied.applied,
        conflicts,
        remaining,
    })
}

/// Asks about every fix in `files` (all fixes are planned, unsafe ones included), then in
/// the deployment files among `yaml` that run their images (Compose, Kubernetes): those are
/// checked with the Dockerfiles as `--write` checks them. A deployment file's port edit is not
/// asked about: it follows the answer for its Dockerfile's port move. The files of one
/// coherent change are written together at the end, all or none.
pub fn run(
    files: &[(PathBuf, Arc<Settings>)],
    yaml: &[(PathBuf, Arc<Settings>)],
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    mut status: Status,
) -> Status {
    let project = (!yaml.is_empty()).then(|| Project::load(yaml, files));
    let mut order: Vec<(PathBuf, Arc<Settings>)> = files.to_vec();
    if let Some(project) = &project {
        project.prepare(files, false);
        order.extend(project.paths());
    }
    let held = |path: &Path| project.as_ref().is_some_and(|p| p.holds(path));
    let mut moves = PortMoveAnswers::default();
    // Held files' accepted text, written per coherent change at the end.
    let mut pending: HashMap<PathBuf, Pending> = HashMap::new();
    let mut session = Session::new(false);
    for (index, (path, settings)) in order.iter().enumerate() {
        let options = &settings.lint;
        if session.quit {
            let _ = writeln!(
                stdout,
                "quit: {} more file(s) not reviewed",
                order.len() - index
            );
            break;
        }
        let checked = match project.as_ref().and_then(|p| p.take(path)) {
            Some(ready) => ready,
            None => check_file(path, options, Applicability::Unsafe, false),
        };
        let checked = match checked {
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
        let follows = |finding: &Finding| moves.follows(finding);
        let accepted = match session.review_following(report, stdout, &follows) {
            Ok(accepted) => accepted,
            Err(err) => {
                // Ctrl-C or a terminal that went away: this file is left alone.
                let _ = writeln!(
                    stderr,
                    "{}: interrupted ({err}); this file was not written",
                    report.path
                );
                return Status::Error;
            }
        };
        moves.record(report, &accepted);
        let tally = &mut session.tally;
        if accepted.is_empty() {
            tally.remaining += report.findings.len();
            continue;
        }
        let outcome = match apply_accepted(path, report, &accepted, options, stdout) {
            Ok(outcome) => outcome,
            Err(err) => {
                let _ = writeln!(stderr, "{err}");
                status = Status::Error;
                continue;
            }
        };
        tally.skipped += outcome.conflicts;
        if outcome.text == report.source {
            tally.applied += outcome.applied.len();
            tally.remaining += outcome.remaining;
            continue;
        }
        if held(path) {
            pending.insert(
                path.clone(),
                Pending {
                    bytes: checked.bytes.clone(),
                    shown: report.path.clone(),
                    outcome,
                    findings: report.findings.len(),
                },
            );
            continue;
        }
        if let Err(source) = write_atomic(path, &checked.bytes, &outcome.text) {
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
            outcome.applied.len()
        );
        tally.applied += outcome.applied.len();
        tally.remaining += outcome.remaining;
    }
    // The held files: each coherent change written whole or not at all.
    let changes = project
        .as_ref()
        .map(Project::coherent_changes)
        .unwrap_or_default();
    for change in changes {
        let members: Vec<(&PathBuf, &Pending)> = change
            .iter()
            .filter_map(|path| Some((path, pending.get(path)?)))
            .collect();
        if members.is_empty() {
            continue;
        }
        let planned: Vec<Planned> = members
            .iter()
            .map(|(path, p)| (path.as_path(), p.bytes.as_slice(), p.outcome.text.as_str()))
            .collect();
        let tally = &mut session.tally;
        for ((path, p), result) in members.iter().zip(write_together(&planned)) {
            match result {
                Ok(()) => {
                    tally.files_written += 1;
                    tally.applied += p.outcome.applied.len();
                    tally.remaining += p.outcome.remaining;
                    let _ = writeln!(
                        stdout,
                        "{}: wrote {} fix(es)",
                        p.shown,
                        p.outcome.applied.len()
                    );
                }
                Err(source) => {
                    let path = (*path).clone();
                    let _ = writeln!(stderr, "{}", Error::Write { path, source });
                    status = Status::Error;
                    tally.remaining += p.findings;
                }
            }
        }
    }
    summary(&session.tally, "written", stdout, status)
}

/// A held file's accepted fixes, waiting for the rest of its coherent change.
struct Pending {
    bytes: Vec<u8>,
    shown: String,
    outcome: Outcome,
    findings: usize,
}

/// `--interactive --branch`: asks about the fixes planned on the committed text of each file
/// (as `--branch` lints it) and commits the accepted ones; the working tree is not written.
/// The Dockerfiles that deployment files among `yaml` run, and those files, are planned
/// together on the working tree as `--branch` plans them, asked about as without `--branch`,
/// and committed when their change's files are committed unchanged. A file where nothing was
/// accepted is left out of the commit; quitting commits what was accepted so far.
pub fn run_branch(
    git: &crate::git::Options,
    files: &[(PathBuf, Arc<Settings>)],
    yaml: &[(PathBuf, Arc<Settings>)],
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    mut status: Status,
) -> Status {
    let project = (!yaml.is_empty()).then(|| Project::load(yaml, files));
    let mut order: Vec<(PathBuf, Arc<Settings>)> = files.to_vec();
    // The repository step's results (planned on the working tree), and what `--branch`
    // compares with the commit.
    let mut ready: HashMap<PathBuf, crate::linter::Checked> = HashMap::new();
    let mut prepared: HashMap<PathBuf, crate::git::Prepared> = HashMap::new();
    let mut changes = Vec::new();
    if let Some(project) = &project {
        project.prepare(files, false);
        let dockerfiles = order.len();
        order.extend(project.paths());
        changes = project.coherent_changes();
        let mut index = 0;
        order.retain(|(path, _)| {
            index += 1;
            match project.take(path) {
                // A Dockerfile no deployment file runs: planned on its commit.
                None => index <= dockerfiles,
                Some(Ok(checked)) => {
                    prepared.insert(
                        path.clone(),
                        crate::git::Prepared::new(checked.bytes.clone(), &checked.report),
                    );
                    ready.insert(path.clone(), checked);
                    true
                }
                Some(Err(err)) => {
                    let _ = writeln!(stderr, "{err}");
                    status = Status::Error;
                    false
                }
            }
        });
    }
    let held = crate::git::Held {
        files: &prepared,
        changes: &changes,
    };
    let mut moves = PortMoveAnswers::default();
    let mut session = Session::new(true);
    let mut unreviewed = 0;
    let mut choose = |path: &Path,
                      settings: &Settings,
                      committed: &[u8],
                      out: &mut dyn Write|
     -> Result<Option<(String, Vec<Finding>)>, String> {
        let planned = ready.remove(path);
        if session.quit {
            unreviewed += 1;
            return Ok(None);
        }
        let options = &settings.lint;
        let checked = match planned {
            Some(checked) => checked,
            None => check_bytes(
                path,
                committed.to_vec(),
                options,
                Applicability::Unsafe,
                false,
            )
            .map_err(|err| err.to_string())?,
        };
        let report = &checked.report;
        if !checked.lookup_failures.is_empty() {
            let failures: Vec<String> = checked
                .lookup_failures
                .iter()
                .map(|failure| format!("{}: {failure}", report.path))
                .collect();
            return Err(failures.join("\n"));
        }
        let follows = |finding: &Finding| moves.follows(finding);
        let accepted = session
            .review_following(report, out, &follows)
            .map_err(|err| {
                // Ctrl-C or a terminal that went away: nothing more is asked or committed here.
                session.quit = true;
                format!(
                    "{}: interrupted ({err}); nothing is committed in this repository",
                    report.path
                )
            })?;
        moves.record(report, &accepted);
        let tally = &mut session.tally;
        if accepted.is_empty() {
            tally.remaining += report.findings.len();
            return Ok(None);
        }
        let outcome =
            apply_accepted(path, report, &accepted, options, out).map_err(|err| err.to_string())?;
        tally.applied += outcome.applied.len();
        tally.skipped += outcome.conflicts;
        tally.remaining += outcome.remaining;
        if outcome.text == report.source {
            return Ok(None);
        }
        tally.files_written += 1;
        // The commit message lists the findings whose fixes are in the commit.
        let fixed = outcome
            .applied
            .iter()
            .map(|&index| accepted[index].clone())
            .collect();
        Ok(Some((outcome.text, fixed)))
    };
    let committed = crate::git::run_choosing(git, &order, &held, &mut choose, stdout, stderr);
    // The files of a change left out before any question: their findings remain.
    session.tally.remaining += ready
        .values()
        .map(|checked| checked.report.findings.len())
        .sum::<usize>();
    if unreviewed > 0 {
        let _ = writeln!(stdout, "quit: {unreviewed} more file(s) not reviewed");
    }
    let noun = if git.dry_run {
        "to commit (dry run)"
    } else {
        "committed"
    };
    let status = summary(&session.tally, noun, stdout, status);
    if committed {
        status
    } else {
        Status::Error
    }
}

/// The closing line, e.g. `1 fix applied, 2 skipped, 1 file written; …`, and the exit status.
fn summary(tally: &Tally, files_noun: &str, stdout: &mut dyn Write, status: Status) -> Status {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut summary = format!(
        "{} applied, {} skipped, {} {files_noun}",
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
