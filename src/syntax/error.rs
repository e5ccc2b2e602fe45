//! Parse errors: a message and the line it belongs to.

use thiserror::Error;

/// Why a file could not be parsed.
///
/// `line` is 1-based and points at the offending line: the instruction's first line for
/// instruction errors, the directive's line for directive errors. `end_line` is the last
/// line BuildKit reports for the same error.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{message}")]
pub struct ParseError {
    pub line: usize,
    pub end_line: usize,
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// BuildKit rejects the file too (same message as BuildKit).
    Syntax,
    /// A parser directive is invalid or repeated (BuildKit numbers these lines from 0).
    Directive,
    /// No instruction in the file (BuildKit reports the number of lines read).
    NoInstructions,
    /// Input unroot refuses before parsing: not UTF-8, NUL bytes, too large.
    Input,
}

impl ParseError {
    pub(crate) fn new(
        kind: ErrorKind,
        line: usize,
        end_line: usize,
        message: impl Into<String>,
    ) -> Self {
        ParseError {
            line,
            end_line,
            kind,
            message: message.into(),
        }
    }
}
