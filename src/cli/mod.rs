//! The command line: the flags, the modes they select, and the exit status. Only this module
//! and `main.rs` write to the terminal, through [`std::io::Write`]; every write is checked.

mod args;
mod check;
mod info;
mod interactive;
mod stdin;
mod verbose;

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::linter::Error;
use crate::output::progress;
use crate::output::stream::{CheckedWriter, Ordered};
use crate::rules::{find_rule, RuleSelection};
use crate::settings::Resolver;
use crate::sources::releases::ReleaseTable;
pub use args::{Args, Color, Command, Format, PinArg};

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

/// Runs unroot with `args`, writing to the process's standard streams.
pub fn run(args: &Args) -> Status {
    // Before standard output is locked below: the server's writer thread takes it.
    if let Some(Command::Server) = args.command {
        return match crate::server::run() {
            Ok(()) => Status::Clean,
            Err(message) => report_message(&mut io::stderr(), &message),
        };
    }
    let choice = match args.color {
        Color::Auto => anstream::ColorChoice::Auto,
        Color::Always => anstream::ColorChoice::Always,
        Color::Never => anstream::ColorChoice::Never,
    };
    // Not locked: the progress bar draws on standard error from the threads that check files.
    let mut stderr = anstream::AutoStream::new(io::stderr(), choice);
    // `--interactive` asks on the terminal: standard input and standard error must be one.
    let terminal = io::stdin().is_terminal() && io::stderr().is_terminal();
    let Some(path) = &args.output_file else {
        // Not a terminal: the report is buffered (a line at a time costs a system call each),
        // with standard error kept in order with it. The questions of `--interactive` go to
        // the terminal around the writer, so it writes as it goes.
        let strip = match anstream::AutoStream::new(io::stdout(), choice).current_choice() {
            anstream::ColorChoice::Never => Some(true),
            anstream::ColorChoice::AlwaysAnsi => Some(false),
            _ => None,
        };
        if let (false, false, Some(strip)) = (io::stdout().is_terminal(), args.interactive, strip) {
            let ordered = Ordered::new(io::stdout().lock(), strip, stderr);
            return run_streams(
                args,
                progress::allowed(),
                terminal,
                &mut io::stdin().lock(),
                (&mut ordered.out(), "standard output"),
                &mut ordered.err(),
            );
        }
        let mut stdout = anstream::AutoStream::new(io::stdout().lock(), choice);
        return run_streams(
            args,
            progress::allowed(),
            terminal,
            &mut io::stdin().lock(),
            (&mut stdout, "standard output"),
            &mut stderr,
        );
    };
    let file = match create_output_file(path) {
        Ok(file) => file,
        Err(err) => {
            let _ = writeln!(stderr, "error: --output-file {}: {err}", path.display());
            return Status::Error;
        }
    };
    let mut output = io::BufWriter::new(anstream::AutoStream::new(file, choice));
    let name = path.display().to_string();
    run_streams(
        args,
        progress::allowed(),
        terminal,
        &mut io::stdin().lock(),
        (&mut output, &name),
        &mut stderr,
    )
}

/// `--output-file`: created (with its missing parent directories) or truncated.
fn create_output_file(path: &std::path::Path) -> io::Result<std::fs::File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::File::create(path)
}

/// Runs unroot with explicit streams (the tests use this); never draws a progress bar.
pub fn run_with(
    args: &Args,
    stdin: &mut impl Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Status {
    run_streams(
        args,
        false,
        false,
        stdin,
        (stdout, "standard output"),
        stderr,
    )
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
    (stdout, stdout_name): (&mut dyn Write, &str),
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
        let _ = writeln!(err, "error: writing to {stdout_name}: {error}");
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
        return print_or_error(info::completions(shell, stdout), Status::Clean);
    }
    if args.man {
        return print_or_error(info::man(stdout), Status::Clean);
    }
    let releases = match &args.node_release_table {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|err| err.to_string())
            .and_then(|text| ReleaseTable::from_index_json(&text))
        {
            Ok(table) => Some(Arc::new(table)),
            Err(message) => {
                let _ = writeln!(stderr, "{}: {message}", path.display());
                return Status::Error;
            }
        },
        None => None,
    };
    if args.list_rules {
        return print_or_error(info::list_rules(stdout, releases.as_deref()), Status::Clean);
    }
    if let Some(name) = &args.explain {
        return match find_rule(name) {
            Some(rule) => print_or_error(
                info::explain(rule, releases.as_deref(), stdout),
                Status::Clean,
            ),
            None => usage_error(stderr, &format!("unknown rule `{name}` (see --list-rules)")),
        };
    }
    if let Some(message) = args.paths.first().and_then(|first| command_word(first)) {
        return usage_error(stderr, &message);
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
    if let Err(message) = crate::settings::values::check_port_map(&args.port_map) {
        return usage_error(stderr, &format!("--port-map: {message}"));
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
    let resolver = Resolver::new(args.overrides(), releases);
    let first = match &args.stdin_filename {
        Some(name) => resolver.for_file(name),
        None => resolver.for_path(&paths[0]),
    };
    let first = match first {
        Ok(settings) => settings,
        Err(message) => return report_message(stderr, &message),
    };
    if args.show_config {
        let walked = args.stdin_filename.is_none();
        return print_or_error(
            info::show_config(&first, &paths[0], walked, stdout),
            Status::Clean,
        );
    }

    let stdin_given = paths.iter().any(|p| p.as_os_str() == "-");
    if stdin_given && paths.len() > 1 {
        return usage_error(
            stderr,
            "`-` (standard input) cannot be combined with other paths",
        );
    }
    if args.statistics && !matches!(args.format, Format::Text | Format::Json) {
        return usage_error(stderr, "--statistics prints text or json (see --format)");
    }
    if stdin_given && args.add_ignore {
        return usage_error(
            stderr,
            "`-` (standard input) cannot be used with --add-ignore: there is no file to write",
        );
    }
    if stdin_given && args.statistics {
        return usage_error(
            stderr,
            "`-` (standard input) cannot be used with --statistics: standard output carries the fixed file",
        );
    }
    if stdin_given && args.branch.is_some() {
        return usage_error(
            stderr,
            "`-` (standard input) cannot be used with --branch: it is in no repository",
        );
    }
    let git = args.git_options();
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
        return stdin::run(args, &first, stdin, stdout, stderr);
    }
    let batch = check::Batch {
        args,
        paths: &paths,
        resolver: &resolver,
        git,
        progress_allowed,
    };
    check::run(batch, stdout, stderr)
}

/// A first PATH that is no file but a command of ruff's or cargo's (`unroot check .`): what
/// to type instead. unroot has no subcommands; its paths come first.
fn command_word(first: &std::path::Path) -> Option<String> {
    let word = first.to_str()?;
    let instead = match word {
        "check" | "lint" => "give the paths alone: `unroot PATH…` checks them",
        "fix" => "use `unroot --write PATH…` (or its alias `--fix`)",
        "format" | "fmt" => "unroot does not format; `unroot --write PATH…` applies its fixes",
        "rule" | "explain" => "use `unroot --explain RULE`, or `--list-rules`",
        "config" => "use `unroot --show-config [PATH]`",
        "help" => "use `unroot --help`",
        "version" => "use `unroot --version`",
        _ => return None,
    };
    if first.symlink_metadata().is_ok() {
        return None;
    }
    Some(format!("unroot has no `{word}` command; {instead}"))
}

pub(crate) fn report_error(stderr: &mut dyn Write, err: Error) -> Status {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

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
}
