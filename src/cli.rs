//! The command line: every flag, the per-file pipeline run in parallel, reports, exit status.
//!
//! This module and `main.rs` are the only places that write to the terminal. They write
//! through [`std::io::Write`], so a closed pipe stops the output quietly instead of panicking.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use clap::{Parser, ValueEnum};
use rayon::prelude::*;

use crate::analysis::ImageRef;
use crate::discover::{discover_excluding, Input};
use crate::edit::Applicability;
use crate::error::Error;
use crate::lint::{lint_parsed, LintOptions};
use crate::output::progress::{self, Progress};
use crate::output::stream::CheckedWriter;
use crate::output::text::{self, Action};
use crate::output::{diff, github, json, sarif, FileReport};
use crate::releases::ReleaseTable;
use crate::rules::{find_rule, DigestResolver, Digests, RuleOptions, RuleSelection, RULES};
use crate::settings::{Resolver, Settings};
use crate::syntax::MAX_FILE_SIZE;
use crate::write::write_atomic;

/// Make Node.js Dockerfiles safe to ship: run the final stage as a non-root user.
///
/// unroot finds Dockerfiles (files and directories; `-` reads standard input), reports what
/// makes the image unsafe and shows the diff that fixes it. Nothing is written unless you
/// pass --write. Exit status: 0 nothing to fix, 1 findings remain, 2 error.
#[derive(Debug, Parser)]
#[command(name = "unroot", version)]
pub struct Args {
    /// Dockerfiles or directories to check; `-` reads standard input and prints the fixed file [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Apply the fixes in place (atomically; a file changed since it was read is not written)
    #[arg(short = 'w', long, help_heading = "Mode")]
    pub write: bool,

    /// Ask about each fix (unsafe ones too) and write the ones you accept (with --branch: commit them); needs a terminal
    #[arg(short = 'i', long, conflicts_with_all = ["write", "format"], help_heading = "Mode")]
    pub interactive: bool,

    /// Also apply unsafe fixes: those that need a change outside the Dockerfile
    ///
    /// `--no-unsafe-fixes` turns off `unsafe-fixes = true` of a configuration file.
    #[arg(long, help_heading = "Mode", overrides_with = "no_unsafe_fixes")]
    pub unsafe_fixes: bool,

    #[arg(long, hide = true, overrides_with = "unsafe_fixes")]
    pub no_unsafe_fixes: bool,

    /// The file standard input stands for: its configuration applies and messages name it (implies `-`)
    #[arg(long, value_name = "PATH", help_heading = "Mode")]
    pub stdin_filename: Option<PathBuf>,

    /// Exit with 0 even when findings remain (errors still exit with 2)
    #[arg(long, help_heading = "Mode")]
    pub exit_zero: bool,

    /// Print a rule's documentation (what, why, how it fixes, an example) and exit
    #[arg(long, value_name = "RULE", help_heading = "Rules", conflicts_with_all = ["paths", "list_rules"])]
    pub explain: Option<String>,

    /// List the rules and exit
    #[arg(long, help_heading = "Rules", conflicts_with = "paths")]
    pub list_rules: bool,

    /// Run only these rules (comma-separated)
    #[arg(
        long,
        value_name = "RULE",
        value_delimiter = ',',
        help_heading = "Rules"
    )]
    pub select: Vec<String>,

    /// Do not run these rules (comma-separated)
    #[arg(
        long,
        value_name = "RULE",
        value_delimiter = ',',
        help_heading = "Rules"
    )]
    pub ignore: Vec<String>,

    /// The user the final stage switches to, instead of the one unroot picks
    #[arg(long, value_name = "NAME|UID[:GID]", value_parser = parse_user, help_heading = "Fix")]
    pub user: Option<String>,

    /// Write a numeric user (`USER 1000:1000`), which Kubernetes `runAsNonRoot` can verify
    ///
    /// `--no-numeric-user` turns off `numeric-user = true` of a configuration file.
    #[arg(long, help_heading = "Fix", overrides_with = "no_numeric_user")]
    pub numeric_user: bool,

    #[arg(long, hide = true, overrides_with = "numeric_user")]
    pub no_numeric_user: bool,

    /// Check every final stage, not only Node images
    ///
    /// `--no-all-images` turns off `all-images = true` of a configuration file.
    #[arg(long, help_heading = "Fix", overrides_with = "no_all_images")]
    pub all_images: bool,

    #[arg(long, hide = true, overrides_with = "all_images")]
    pub no_all_images: bool,

    /// Also add `--chown=<user>:<group>` to the final stage's COPY/ADD of the application
    #[arg(long, help_heading = "Fix")]
    pub chown: bool,

    /// Where privileged ports move, e.g. `80:3000,443:3443` (default 80→8080, 443→8443, p→p+8000)
    #[arg(long, value_name = "FROM:TO", value_delimiter = ',', value_parser = parse_port_pair, help_heading = "Fix")]
    pub port_map: Vec<(u16, u16)>,

    /// How floating `node` tags are pinned: `26`, `26.7`, `26.7.0` (plus the variant) or `26.7.0-alpine@sha256:…` [default: exact]
    #[arg(long, value_enum, help_heading = "Fix")]
    pub pin: Option<PinArg>,

    /// Registry to resolve `--pin digest` against, e.g. a mirror (default: the image's own registry; Docker Hub for `node`)
    #[arg(long, value_name = "URL", value_parser = parse_registry, help_heading = "Fix")]
    pub registry: Option<String>,

    /// A fresh copy of Node's release list (https://nodejs.org/dist/index.json) to use instead of the shipped table
    #[arg(long, value_name = "FILE", help_heading = "Fix")]
    pub node_release_table: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text, help_heading = "Output")]
    pub format: Format,

    /// When to colour the output (`NO_COLOR` is honoured in auto mode)
    #[arg(long, value_enum, default_value_t = Color::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: Color,

    /// Commit the fixes to branch NAME [default: unroot/non-root, or `branch` in unroot.toml], one commit per git repository; the working tree, index and HEAD are left alone
    #[arg(long, value_name = "NAME", num_args = 0..=1, conflicts_with = "write", help_heading = "Git")]
    pub branch: Option<Option<String>>,

    /// The branch to start from and to open the pull request against (default: the checked-out branch; needed on a detached HEAD)
    #[arg(long, value_name = "BRANCH", requires = "branch", help_heading = "Git")]
    pub base: Option<String>,

    /// The commit's author, "Name <email>" (default: user.name and user.email from the repository's git config)
    #[arg(long, value_name = "AUTHOR", requires = "branch", help_heading = "Git")]
    pub author: Option<String>,

    /// A commit message template to use instead of the shipped one (placeholders: templates/README.md)
    #[arg(long, value_name = "FILE", requires = "branch", help_heading = "Git")]
    pub commit_template: Option<PathBuf>,

    /// Push the branch to REMOTE [default: origin] (ssh agent; for https GITHUB_TOKEN, GH_TOKEN or GITLAB_TOKEN, or git's credential helpers)
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "origin", requires = "branch", help_heading = "Git")]
    pub push: Option<String>,

    /// Open or update the branch's pull request (GitHub: GITHUB_TOKEN or GH_TOKEN) or merge request (GitLab: GITLAB_TOKEN)
    #[arg(long, requires = "push", help_heading = "Git")]
    pub pr: bool,

    /// The forge the remote is on, when its host name does not tell
    #[arg(long, value_enum, requires = "push", help_heading = "Git")]
    pub forge: Option<crate::git::forge::Forge>,

    /// The forge's API root: GitHub Enterprise `https://HOST/api/v3`, self-managed GitLab `https://HOST/api/v4`
    #[arg(long, value_name = "URL", requires = "pr", help_heading = "Git")]
    pub api_url: Option<String>,

    /// Print the commit, the push and the pull request requests instead of making them
    #[arg(long, requires = "branch", help_heading = "Git")]
    pub dry_run: bool,

    /// Print the completion script for SHELL (bash, zsh, fish, elvish, powershell) and exit
    #[arg(long, value_name = "SHELL", help_heading = "Other", conflicts_with_all = ["paths", "explain", "list_rules", "man"])]
    pub completions: Option<clap_complete::Shell>,

    /// Print the man page (roff) and exit
    #[arg(long, help_heading = "Other", conflicts_with_all = ["paths", "explain", "list_rules"])]
    pub man: bool,

    /// Print the configuration in effect for PATH (unroot.toml, flags) and where each value comes from, and exit
    #[arg(long, help_heading = "Other", conflicts_with_all = ["explain", "list_rules", "completions", "man", "interactive"])]
    pub show_config: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Findings grouped by file, then the diff
    Text,
    /// One JSON array of findings with their planned edits
    Json,
    /// A SARIF 2.1.0 log, for GitHub code scanning and other SARIF viewers
    Sarif,
    /// GitHub Actions workflow commands: one `::warning` annotation per finding
    Github,
    /// The unified diff of the fixes alone, for `git apply` or `patch -p1`
    Diff,
}

impl Format {
    /// The whole report for standard output, or `None` for `text`, which is written file by
    /// file, in colour, and ends with a summary.
    pub fn render(self, reports: &[FileReport]) -> Option<String> {
        match self {
            Format::Text => None,
            Format::Json => Some(json::render(reports)),
            Format::Sarif => Some(sarif::render(reports)),
            Format::Github => Some(github::render(reports)),
            Format::Diff => Some(diff::render(reports)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PinArg {
    /// The major version: `26-alpine`
    Major,
    /// Major and minor: `26.7-alpine`
    Minor,
    /// The full release: `26.7.0-alpine`
    Exact,
    /// The full release and the digest the registry serves for it: `26.7.0-alpine@sha256:…`
    Digest,
    /// Keep floating tags floating: no `floating-tag` findings (the `# unroot pin=none` pragma on every stage)
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// `NAME|UID[:GID]`: no spaces, no comment, nothing the Dockerfile would read differently.
pub(crate) fn parse_user(value: &str) -> Result<String, String> {
    let valid_part = |part: &str| {
        !part.is_empty()
            && part.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$' | '{' | '}')
            })
    };
    let mut parts = value.splitn(2, ':');
    let user = parts.next().unwrap_or("");
    let group_ok = parts.next().is_none_or(valid_part);
    if valid_part(user) && group_ok {
        Ok(value.to_string())
    } else {
        Err(format!("`{value}` is not NAME, UID, NAME:GROUP or UID:GID"))
    }
}

/// `--registry`: an `http://` or `https://` URL, kept without a trailing `/`.
fn parse_registry(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| format!("`{value}` is not an http:// or https:// URL"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || value.contains(|c: char| c.is_whitespace() || c == '?' || c == '#') {
        return Err(format!("`{value}` is not a registry URL"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// `FROM:TO` for `--port-map`: a privileged port and an unprivileged one.
pub(crate) fn parse_port_pair(value: &str) -> Result<(u16, u16), String> {
    let (from, to) = value
        .split_once(':')
        .ok_or_else(|| format!("`{value}` is not FROM:TO"))?;
    let port = |text: &str| {
        text.trim()
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("`{text}` is not a port number"))
    };
    let (from, to) = (port(from)?, port(to)?);
    if to < 1024 {
        return Err(format!("`{to}` is a privileged port: map to 1024 or above"));
    }
    Ok((from, to))
}

/// How a run ended; decides the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Nothing to fix (or, with --write, nothing left).
    Clean,
    /// Findings remain (exit status 1).
    Findings,
    /// A file could not be read, parsed or written, or the command line was wrong (2).
    Error,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        match status {
            Status::Clean => ExitCode::SUCCESS,
            Status::Findings => ExitCode::from(1),
            Status::Error => ExitCode::from(2),
        }
    }
}

/// The name standard input goes by in messages.
const STDIN_NAME: &str = "<stdin>";

/// Runs unroot with `args`, writing to the process's standard streams.
pub fn run(args: &Args) -> Status {
    let choice = match args.color {
        Color::Auto => anstream::ColorChoice::Auto,
        Color::Always => anstream::ColorChoice::Always,
        Color::Never => anstream::ColorChoice::Never,
    };
    let mut stdout = anstream::AutoStream::new(io::stdout().lock(), choice);
    // Not locked: the progress bar draws on standard error from the threads that check files.
    let mut stderr = anstream::AutoStream::new(io::stderr(), choice);
    // `--interactive` asks on the terminal: standard input and standard error must be one.
    let terminal = io::stdin().is_terminal() && io::stderr().is_terminal();
    run_streams(
        args,
        progress::allowed(),
        terminal,
        &mut io::stdin().lock(),
        &mut stdout,
        &mut stderr,
    )
}

/// Runs unroot with explicit streams (the tests use this); never draws a progress bar.
pub fn run_with(
    args: &Args,
    stdin: &mut impl Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Status {
    run_streams(args, false, false, stdin, stdout, stderr)
}

/// Runs unroot; `progress_allowed`: standard error is a terminal outside CI (see
/// [`progress::allowed`]), so a bar may be drawn on it while many files are checked.
///
/// Every write is checked: output that did not reach its reader is exit status 2, with a
/// message when standard error still takes one. A reader that hangs up on a report
/// (`unroot | head`) is the exception, as in ripgrep: the status still tells the outcome. The
/// fixed file of `unroot -` has no such exception: a pipe that lost part of it fails.
fn run_streams(
    args: &Args,
    progress_allowed: bool,
    terminal: bool,
    stdin: &mut impl Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Status {
    let mut out = CheckedWriter::new(stdout);
    let mut err = CheckedWriter::new(stderr);
    let status = run_modes(args, progress_allowed, terminal, stdin, &mut out, &mut err);
    let _ = out.flush();
    let _ = err.flush();
    let file_on_stdout = args.stdin_filename.is_some() || args.paths.iter().any(|p| p == "-");
    let lost = match out.failure() {
        Some(error) if error.kind() == io::ErrorKind::BrokenPipe && !file_on_stdout => None,
        Some(error) => Some(error.to_string()),
        None => None,
    };
    if let Some(error) = lost {
        let _ = writeln!(err, "error: writing to standard output: {error}");
        let _ = err.flush();
        return Status::Error;
    }
    if err.failure().is_some() {
        return Status::Error;
    }
    status
}

fn run_modes(
    args: &Args,
    progress_allowed: bool,
    terminal: bool,
    stdin: &mut impl Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Status {
    if let Some(shell) = args.completions {
        let mut command = <Args as clap::CommandFactory>::command();
        clap_complete::generate(shell, &mut command, "unroot", stdout);
        return Status::Clean;
    }
    if args.man {
        let man = clap_mangen::Man::new(<Args as clap::CommandFactory>::command());
        return print_or_error(man.render(stdout), Status::Clean);
    }
    let releases = match &args.node_release_table {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|err| err.to_string())
            .and_then(|text| ReleaseTable::from_index_json(&text))
        {
            Ok(table) => Some(std::sync::Arc::new(table)),
            Err(message) => {
                let _ = writeln!(stderr, "{}: {message}", path.display());
                return Status::Error;
            }
        },
        None => None,
    };
    if args.list_rules {
        return print_or_error(list_rules(stdout, releases.as_deref()), Status::Clean);
    }
    if let Some(name) = &args.explain {
        return match find_rule(name) {
            Some(rule) => {
                let mut text = format!("# {}\n\n{}\n", rule.name, rule.doc());
                if rule.name == "floating-tag" || rule.name == "end-of-life" {
                    text.push_str(&format!("\n{}\n", release_table_note(releases.as_deref())));
                }
                print_or_error(stdout.write_all(text.as_bytes()), Status::Clean)
            }
            None => usage_error(stderr, &format!("unknown rule `{name}` (see --list-rules)")),
        };
    }
    let flagged = RuleSelection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    if let Some(unknown) = flagged.unknown().first() {
        return usage_error(
            stderr,
            &format!("unknown rule `{unknown}` (see --list-rules)"),
        );
    }
    let paths =
        match (&args.stdin_filename, args.paths.as_slice()) {
            (Some(_), []) => vec![PathBuf::from("-")],
            (Some(_), [dash]) if dash.as_os_str() == "-" => vec![dash.clone()],
            (Some(_), _) => return usage_error(
                stderr,
                "--stdin-filename names the file standard input stands for: give `-` alone, or \
                 no PATH",
            ),
            (None, []) => vec![PathBuf::from(".")],
            (None, given) => given.to_vec(),
        };
    // Each file is checked with the configuration that governs it; the first PATH's is loaded
    // now, for --show-config and so that a broken file stops the run before anything is read.
    let resolver = Resolver::new(args, releases);
    let first = match &args.stdin_filename {
        Some(name) => resolver.for_file(name),
        None => resolver.for_path(&paths[0]),
    };
    let first = match first {
        Ok(settings) => settings,
        Err(message) => return report_message(stderr, &message),
    };
    if args.show_config {
        let mut text = first.config.render();
        // Files below a directory may be governed by configurations of their own.
        if args.stdin_filename.is_none() && paths[0].is_dir() {
            let nested = crate::discover::nested_configurations(&paths[0]);
            if !nested.is_empty() {
                text.push_str("# these govern the files below them instead:\n");
                for file in nested {
                    let file = file
                        .strip_prefix(".")
                        .unwrap_or(&file)
                        .display()
                        .to_string();
                    text.push_str(&format!("#   {file}\n"));
                }
            }
        }
        return print_or_error(stdout.write_all(text.as_bytes()), Status::Clean);
    }

    let stdin_given = paths.iter().any(|p| p.as_os_str() == "-");
    if stdin_given && paths.len() > 1 {
        return usage_error(
            stderr,
            "`-` (standard input) cannot be combined with other paths",
        );
    }
    if stdin_given && args.branch.is_some() {
        return usage_error(
            stderr,
            "`-` (standard input) cannot be used with --branch: it is in no repository",
        );
    }
    let git = git_options(args);
    if let Some(git) = &git {
        let config = &first.config;
        if let Err(message) = git.validate(&config.branch.value, &config.commit_template) {
            return usage_error(stderr, &message);
        }
    }
    if args.interactive {
        if stdin_given {
            return usage_error(
                stderr,
                "`-` (standard input) cannot be used with --interactive: there is no file to write",
            );
        }
        if !terminal {
            return usage_error(
                stderr,
                "--interactive needs a terminal: standard input and standard error must be one \
                 (use --write to apply the fixes without asking)",
            );
        }
    }
    if stdin_given {
        return run_stdin(args, &first, stdin, stdout, stderr);
    }

    let (inputs, missing) = discover_excluding(&paths, &|file| resolver.excluded(file));
    let mut status = Status::Clean;
    for (path, err) in missing {
        status = Status::Error;
        if writeln!(stderr, "{}", Error::Io { path, source: err }).is_err() {
            return Status::Error;
        }
    }
    // Walking the default `.` shows paths as ripgrep does, without the `./`.
    let defaulted = args.paths.is_empty();
    let files: Vec<PathBuf> = inputs
        .into_iter()
        .filter_map(|input| match input {
            Input::File(path) if defaulted => Some(
                path.strip_prefix(".")
                    .map(Path::to_path_buf)
                    .unwrap_or(path),
            ),
            Input::File(path) => Some(path),
            Input::Stdin => None,
        })
        .collect();
    let mut config_errors = Vec::new();
    let files: Vec<(PathBuf, Arc<Settings>)> = files
        .into_iter()
        .filter_map(|path| match resolver.for_file(&path) {
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
        return match &git {
            Some(git) => crate::interactive::run_branch(git, &files, stdout, stderr, status),
            None => crate::interactive::run(&files, stdout, stderr, status),
        };
    }
    // `--branch`: the fixes go to a commit; the report counts them as fixed.
    let action = if args.write || args.branch.is_some() {
        Action::Write
    } else {
        Action::Show
    };
    let show_unsafe = action == Action::Show && args.format == Format::Text;
    // Every file is checked before any is written: a `--pin digest` lookup that fails in one
    // file stops the writing of all of them, so a run never pins half a repository.
    let progress = Progress::new(files.len(), progress_allowed);
    let checked: Vec<Result<Checked, Error>> = files
        .par_iter()
        .map(|(path, settings)| {
            let checked = check_file(path, &settings.lint, settings.threshold, show_unsafe);
            progress.inc();
            checked
        })
        .collect();
    progress.finish();
    let lookup_failed = checked
        .iter()
        .flatten()
        .any(|file| !file.lookup_failures.is_empty());
    let results: Vec<Result<Checked, Error>> = if args.write && !lookup_failed {
        checked
            .into_par_iter()
            .zip(files.par_iter())
            .map(|(result, (path, _))| result.map(|file| write_fixed(path, file)))
            .collect()
    } else {
        checked
    };

    let mut reports = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(file) => {
                for failure in &file.lookup_failures {
                    status = Status::Error;
                    if writeln!(stderr, "{}: {failure}", file.report.path).is_err() {
                        return Status::Error;
                    }
                }
                if let Some(err) = &file.write_error {
                    status = Status::Error;
                    if writeln!(stderr, "{err}").is_err() {
                        return Status::Error;
                    }
                }
                reports.push(file.report);
            }
            Err(err) => {
                status = Status::Error;
                if writeln!(stderr, "{err}").is_err() {
                    return Status::Error;
                }
            }
        }
    }
    // Nothing was written: the report is the dry run's, with the diffs that were not applied.
    let action = if lookup_failed {
        if args.write {
            let _ = writeln!(
                stderr,
                "error: a `--pin digest` lookup failed; nothing was written"
            );
        }
        Action::Show
    } else {
        action
    };
    let text = args.format == Format::Text;
    // With --branch the commits make the fixes: the git step runs before the report is
    // printed (its lines held back and printed after the files), so the report says which
    // fixes are in a commit.
    let mut git_lines = Vec::new();
    let mut git_ok = true;
    if let Some(git) = git.filter(|_| !lookup_failed) {
        let outcome = crate::git::run(&git, &files, text, &mut git_lines, stderr);
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
    // A failed write is a closed pipe: nobody reads the rest; the status still tells the outcome.
    let _ = match args.format.render(&reports) {
        Some(report) => stdout.write_all(report.as_bytes()),
        None => reports
            .iter()
            .try_for_each(|report| text::write_file(stdout, report, action)),
    };
    let _ = stdout.write_all(&git_lines);
    if let Some(summary) = text::summary(&reports, action).filter(|_| text) {
        let _ = writeln!(stdout, "{summary}");
    }
    match final_status(status, &reports, action, args.exit_zero) {
        _ if !git_ok => Status::Error,
        status => status,
    }
}

/// The `Git` flags, when `--branch` is given.
fn git_options(args: &Args) -> Option<crate::git::Options> {
    args.branch.as_ref()?;
    Some(crate::git::Options {
        base: args.base.clone(),
        author: args.author.clone(),
        push: args.push.clone(),
        pr: args.pr,
        forge: args.forge,
        api_url: args.api_url.clone(),
        dry_run: args.dry_run,
    })
}

fn write_text(out: &mut dyn Write, reports: &[FileReport], action: Action) -> io::Result<()> {
    for report in reports {
        text::write_file(out, report, action)?;
    }
    if let Some(summary) = text::summary(reports, action) {
        writeln!(out, "{summary}")?;
    }
    Ok(())
}

fn final_status(status: Status, reports: &[FileReport], action: Action, exit_zero: bool) -> Status {
    if status == Status::Error {
        return Status::Error;
    }
    let left = match action {
        Action::Show => reports.iter().any(|r| !r.findings.is_empty()),
        Action::Write => reports.iter().any(|r| r.remaining > 0),
    };
    if left && !exit_zero {
        Status::Findings
    } else {
        Status::Clean
    }
}

/// One file, checked: its report, the bytes it was read as (a write checks them), and the
/// `--pin digest` lookups that failed in it.
pub(crate) struct Checked {
    pub(crate) report: FileReport,
    pub(crate) bytes: Vec<u8>,
    pub(crate) lookup_failures: Vec<String>,
    /// `--write` could not write the fixed text: the report counts its findings as remaining.
    pub(crate) write_error: Option<Error>,
}

/// Reads and checks one file; nothing is written yet.
pub(crate) fn check_file(
    path: &Path,
    options: &LintOptions,
    threshold: Applicability,
    show_unsafe: bool,
) -> Result<Checked, Error> {
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = File::open(path)
        .and_then(|mut file| read_limited(&mut file))
        .map_err(io_error)?;
    check_bytes(path, bytes, options, threshold, show_unsafe)
}

/// Checks `bytes` as the contents of `path` (with `--branch`, its committed version).
pub(crate) fn check_bytes(
    path: &Path,
    bytes: Vec<u8>,
    options: &LintOptions,
    threshold: Applicability,
    show_unsafe: bool,
) -> Result<Checked, Error> {
    let (report, lookup_failures) = report_for(
        &path.display().to_string(),
        &bytes,
        options,
        threshold,
        show_unsafe,
    )
    .map_err(|err| err.with_path(path))?;
    Ok(Checked {
        report,
        bytes,
        lookup_failures,
        write_error: None,
    })
}

/// `--write`: replaces a checked file with its fixed text, if that differs. When that fails,
/// the file is left as it was and its report says so.
fn write_fixed(path: &Path, mut file: Checked) -> Checked {
    if file.report.fixed != file.report.source {
        if let Err(source) = write_atomic(path, &file.bytes, &file.report.fixed) {
            file.write_error = Some(Error::Write {
                path: path.to_path_buf(),
                source,
            });
            file.report.mark_unapplied();
        }
    }
    file
}

/// `--pin digest` for one file: asks the run's resolver (which caches each lookup) and keeps
/// the lookups that failed in this file, to report them with its path.
struct FileDigests {
    run: Digests,
    failures: Mutex<Vec<String>>,
}

impl DigestResolver for FileDigests {
    fn digest(&self, image: &ImageRef, tag: &str) -> Result<String, String> {
        let result = self.run.0.digest(image, tag);
        if let Err(message) = &result {
            let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
            if !failures.contains(message) {
                failures.push(message.clone());
            }
        }
        result
    }
}

/// An error before the path is attached.
enum PathlessError {
    Parse(crate::syntax::ParseError),
    Lint(crate::lint::LintError),
}

impl PathlessError {
    fn with_path(self, path: &Path) -> Error {
        match self {
            PathlessError::Parse(source) => Error::Parse {
                path: path.to_path_buf(),
                source,
            },
            PathlessError::Lint(error) => Error::from_lint(path.to_path_buf(), error),
        }
    }
}

/// Checks one file's bytes; also returns the `--pin digest` lookups that failed in it.
fn report_for(
    name: &str,
    bytes: &[u8],
    options: &LintOptions,
    threshold: Applicability,
    show_unsafe: bool,
) -> Result<(FileReport, Vec<String>), PathlessError> {
    let Some(run) = &options.rules.digests else {
        return report_with(name, bytes, options, threshold, show_unsafe)
            .map(|report| (report, Vec::new()));
    };
    let recorder = Arc::new(FileDigests {
        run: run.clone(),
        failures: Mutex::default(),
    });
    let file_options = LintOptions {
        rules: RuleOptions {
            digests: Some(Digests(recorder.clone())),
            ..options.rules.clone()
        },
        selection: options.selection.clone(),
    };
    let report = report_with(name, bytes, &file_options, threshold, show_unsafe)?;
    let failures = std::mem::take(
        &mut *recorder
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    Ok((report, failures))
}

fn report_with(
    name: &str,
    bytes: &[u8],
    options: &LintOptions,
    threshold: Applicability,
    show_unsafe: bool,
) -> Result<FileReport, PathlessError> {
    let file = crate::syntax::parse_bytes(bytes).map_err(PathlessError::Parse)?;
    let outcome = lint_parsed(&file, options, threshold).map_err(PathlessError::Lint)?;
    let has_unsafe = outcome
        .findings
        .iter()
        .any(|f| f.fix.as_ref().is_some_and(|fix| !fix.applies(threshold)));
    let fixed_with_unsafe = if show_unsafe && has_unsafe {
        lint_parsed(&file, options, Applicability::Unsafe)
            .map_err(PathlessError::Lint)?
            .fixed
    } else {
        outcome.fixed.clone()
    };
    let source = file.source;
    Ok(FileReport {
        path: name.to_string(),
        remaining: outcome.remaining.len(),
        findings: outcome.findings,
        fixed: outcome.fixed,
        fixed_with_unsafe,
        source,
        threshold,
        unapplied: false,
    })
}

/// `-`: the fixed file on stdout, findings on stderr (JSON on stdout with --format json).
fn run_stdin(
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
    let (report, lookup_failures) =
        match report_for(&shown, &bytes, &settings.lint, settings.threshold, false) {
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
        None => stdout
            .write_all(reports[0].fixed.as_bytes())
            .and_then(|()| write_text(stderr, &reports, Action::Write)),
    };
    let _ = written;
    // The other formats carry the findings (or the diff), not the fixed file: nothing was
    // fixed, as in a dry run.
    let action = match args.format {
        Format::Text => Action::Write,
        Format::Json | Format::Sarif | Format::Github | Format::Diff => Action::Show,
    };
    final_status(Status::Clean, &reports, action, args.exit_zero)
}

fn report_error(stderr: &mut dyn Write, err: Error) -> Status {
    let _ = writeln!(stderr, "{err}");
    Status::Error
}

fn report_message(stderr: &mut dyn Write, message: &str) -> Status {
    let _ = writeln!(stderr, "{message}");
    Status::Error
}

fn usage_error(stderr: &mut dyn Write, message: &str) -> Status {
    let _ = writeln!(stderr, "error: {message}");
    Status::Error
}

fn print_or_error(result: io::Result<()>, status: Status) -> Status {
    match result {
        Ok(()) => status,
        Err(_) => Status::Error,
    }
}

fn list_rules(out: &mut dyn Write, releases: Option<&ReleaseTable>) -> io::Result<()> {
    for rule in RULES {
        let same = if rule.aliases.is_empty() {
            String::new()
        } else {
            format!("  (same as {})", rule.aliases.join(", "))
        };
        writeln!(out, "{:<16} {}{same}", rule.name, rule.summary)?;
    }
    writeln!(out)?;
    writeln!(out, "{}", release_table_note(releases))
}

/// Which Node.js release table is in use, and its date.
fn release_table_note(releases: Option<&ReleaseTable>) -> String {
    let (table, source) = match releases {
        Some(table) => (table, "from --node-release-table"),
        None => (ReleaseTable::builtin(), "shipped with unroot"),
    };
    let mut note = format!("Node.js release table: {} ({source})", table.date);
    if let Some(stale) = table.staleness(&crate::releases::today()) {
        note.push_str(&format!("; {stale}"));
    }
    note
}

/// Read at most one byte more than the parser accepts: enough for it to reject a file that
/// is too large without holding all of it in memory.
fn read_limited(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    let limit = u64::try_from(MAX_FILE_SIZE).map_or(u64::MAX, |max| max.saturating_add(1));
    let mut bytes = Vec::new();
    reader.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("unroot").chain(list.iter().copied()))
            .expect("valid arguments")
    }

    #[test]
    fn stdin_prints_the_fixed_file() {
        let mut stdin = &b"FROM node:22-alpine\nRUN npm ci\nCMD [\"node\", \"x\"]\n"[..];
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let status = run_with(
            &args(&["-", "--color", "never"]),
            &mut stdin,
            &mut stdout,
            &mut stderr,
        );
        assert_eq!(status, Status::Clean);
        assert_eq!(
            String::from_utf8(stdout).unwrap(),
            "FROM node:22-alpine\nRUN npm ci\nUSER node\nCMD [\"node\", \"x\"]\n"
        );
        assert!(String::from_utf8(stderr).unwrap().contains("root-user"));
    }

    #[test]
    fn stdin_json_with_findings_is_status_findings() {
        let source = b"FROM node:22-alpine\nRUN npm ci\nCMD [\"node\", \"x\"]\n";
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let status = run_with(
            &args(&["--format", "json", "-"]),
            &mut &source[..],
            &mut stdout,
            &mut stderr,
        );
        assert_eq!(status, Status::Findings);
        assert!(String::from_utf8(stdout).unwrap().contains("\"root-user\""));
    }

    #[test]
    fn stdin_errors_are_named_stdin() {
        let mut stdin = &b"FROM node:22-alpine\nRUN <<EOF\necho hi\n"[..];
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let status = run_with(&args(&["-"]), &mut stdin, &mut stdout, &mut stderr);
        assert_eq!(status, Status::Error);
        let stderr = String::from_utf8(stderr).expect("messages are UTF-8");
        assert!(stderr.starts_with("<stdin>:2: "), "{stderr}");
    }

    #[test]
    fn user_values_are_checked() {
        assert!(parse_user("node").is_ok());
        assert!(parse_user("1000:1000").is_ok());
        assert!(parse_user("1000 # node").is_err());
        assert!(parse_user("a:").is_err());
    }

    #[test]
    fn read_limited_stops_after_the_limit() {
        let big = vec![b'a'; MAX_FILE_SIZE + 100];
        let bytes = read_limited(&mut &big[..]).expect("reading a slice cannot fail");
        assert_eq!(bytes.len(), MAX_FILE_SIZE + 1);
    }
}
