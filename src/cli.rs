//! The command line: every flag, reading the files, reporting per-file errors, the exit status.
//!
//! Messages go to standard error through [`std::io::Write`] rather than `eprintln!`, so a
//! closed pipe is an error we handle (by stopping quietly) instead of a panic.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use crate::error::Error;
use crate::syntax::{self, MAX_FILE_SIZE};

/// Make Node.js Dockerfiles safe to ship.
///
/// For now unroot checks that each Dockerfile parses: it prints nothing and exits with 0 when
/// every file is valid, and prints `path:line: message` and exits with 2 for a file that is not
/// (not UTF-8, a NUL byte, over 4 MiB, or a syntax error such as an unterminated heredoc).
#[derive(Debug, Parser)]
#[command(name = "unroot", version)]
pub struct Args {
    /// Dockerfiles to check; `-` reads standard input
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
}

/// How a run ended; decides the exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every file was read and parsed.
    Valid,
    /// At least one file could not be read or parsed (exit status 2).
    Error,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        match status {
            Status::Valid => ExitCode::SUCCESS,
            Status::Error => ExitCode::from(2),
        }
    }
}

/// The name standard input goes by in messages.
const STDIN_NAME: &str = "<stdin>";

/// Check every path given on the command line, reporting errors on standard error.
pub fn run(args: &Args) -> Status {
    check_paths(
        &args.paths,
        &mut io::stdin().lock(),
        &mut io::stderr().lock(),
    )
}

/// Check each path in turn; a file that fails is reported and the others are still checked.
fn check_paths(paths: &[PathBuf], stdin: &mut impl Read, stderr: &mut impl Write) -> Status {
    let mut status = Status::Valid;
    for path in paths {
        if let Err(err) = check_path(path, stdin) {
            status = Status::Error;
            if writeln!(stderr, "{err}").is_err() {
                // Nobody can read the rest of the messages (a closed pipe, say): the exit
                // status is already decided, so stop quietly.
                break;
            }
        }
    }
    status
}

fn check_path(path: &Path, stdin: &mut impl Read) -> Result<(), Error> {
    let (name, bytes) = if path.as_os_str() == "-" {
        let name = PathBuf::from(STDIN_NAME);
        let bytes = read_limited(stdin).map_err(|source| Error::Io {
            path: name.clone(),
            source,
        })?;
        (name, bytes)
    } else {
        let bytes = File::open(path)
            .and_then(|mut file| read_limited(&mut file))
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        (path.to_path_buf(), bytes)
    };
    syntax::parse_bytes(&bytes).map_err(|source| Error::Parse { path: name, source })?;
    Ok(())
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

    /// A writer that fails like a pipe whose reader has gone.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn stdin_is_read_for_dash() {
        let mut stdin = &b"FROM node:22-alpine\n"[..];
        let mut stderr = Vec::new();
        let status = check_paths(&[PathBuf::from("-")], &mut stdin, &mut stderr);
        assert_eq!(status, Status::Valid);
        assert!(stderr.is_empty());
    }

    #[test]
    fn stdin_errors_are_named_stdin() {
        let mut stdin = &b"FROM node:22-alpine\nRUN <<EOF\necho hi\n"[..];
        let mut stderr = Vec::new();
        let status = check_paths(&[PathBuf::from("-")], &mut stdin, &mut stderr);
        assert_eq!(status, Status::Error);
        let stderr = String::from_utf8(stderr).expect("messages are UTF-8");
        assert!(stderr.starts_with("<stdin>:2: "), "{stderr}");
    }

    #[test]
    fn closed_stderr_stops_quietly_with_error_status() {
        let paths = vec![PathBuf::from("/nonexistent/unroot/Dockerfile"); 3];
        let status = check_paths(&paths, &mut io::empty(), &mut ClosedPipe);
        assert_eq!(status, Status::Error);
    }

    #[test]
    fn read_limited_stops_after_the_limit() {
        let big = vec![b'a'; MAX_FILE_SIZE + 100];
        let bytes = read_limited(&mut &big[..]).expect("reading a slice cannot fail");
        assert_eq!(bytes.len(), MAX_FILE_SIZE + 1);
    }
}
