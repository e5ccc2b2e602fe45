//! Errors that belong to a file: each one prints as `path:line: message` or `path: message`.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use super::LintError;
use crate::fs::write::WriteError;
use crate::syntax::ParseError;

/// Why one file could not be handled. The run goes on with the next file.
#[derive(Debug, Error)]
pub enum Error {
    /// The file was read but is not a Dockerfile unroot can parse.
    #[error("{}:{}: {}", path.display(), source.line.max(1), source.message)]
    Parse { path: PathBuf, source: ParseError },
    /// The file could not be read.
    #[error("{}: {}", path.display(), source)]
    Io { path: PathBuf, source: io::Error },
    /// The fixed file could not be written; the original is untouched.
    #[error("{}: {}", path.display(), source)]
    Write { path: PathBuf, source: WriteError },
    /// A fix went wrong (a bug in unroot); nothing was written.
    #[error("{}: {}", path.display(), source)]
    Internal { path: PathBuf, source: LintError },
}

impl Error {
    pub fn from_lint(path: PathBuf, error: LintError) -> Error {
        match error {
            LintError::Parse(source) => Error::Parse { path, source },
            other => Error::Internal {
                path,
                source: other,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ErrorKind;

    #[test]
    fn parse_error_names_path_and_line() {
        let err = Error::Parse {
            path: PathBuf::from("app/Dockerfile"),
            source: ParseError {
                line: 2,
                end_line: 3,
                kind: ErrorKind::Syntax,
                message: "unterminated heredoc".to_owned(),
            },
        };
        assert_eq!(err.to_string(), "app/Dockerfile:2: unterminated heredoc");
    }

    #[test]
    fn io_error_names_path() {
        let err = Error::Io {
            path: PathBuf::from("missing/Dockerfile"),
            source: io::Error::new(io::ErrorKind::NotFound, "not found"),
        };
        assert_eq!(err.to_string(), "missing/Dockerfile: not found");
    }
}
