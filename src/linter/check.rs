//! One file through the pipeline, as the command line, interactive mode, `--branch` and an
//! editor check it: read (bounded), parse, lint, and the report of what was found and fixed.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::digests::resolve;
use super::error::Error;
use super::report::FileReport;
use super::surroundings::with_surroundings;
use super::{
    is_template_name, lint_analysed, lint_parsed_with_unsafe, LintError, LintOptions, Untouched,
};
use crate::analysis::Analysis;
use crate::edit::Applicability;
use crate::fs::write::write_atomic;
use crate::syntax::MAX_FILE_SIZE;

/// One file, checked: its report, the bytes it was read as (a write checks them), and the
/// `--pin digest` lookups that failed in it.
pub struct Checked {
    pub report: FileReport,
    pub bytes: Vec<u8>,
    pub lookup_failures: Vec<String>,
    /// `--write` could not write the fixed text: the report counts its findings as remaining.
    pub write_error: Option<Error>,
}

/// Reads and checks one file; nothing is written yet.
pub fn check_file(
    path: &Path,
    options: &LintOptions,
    threshold: Applicability,
    show_unsafe: bool,
) -> Result<Checked, Error> {
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = read_file_limited(path).map_err(io_error)?;
    check_bytes(path, bytes, options, threshold, show_unsafe)
}

/// Checks `bytes` as the contents of `path` (with `--branch`, its committed version).
pub fn check_bytes(
    path: &Path,
    bytes: Vec<u8>,
    options: &LintOptions,
    threshold: Applicability,
    show_unsafe: bool,
) -> Result<Checked, Error> {
    let (report, lookup_failures) = report_for(
        &path.display().to_string(),
        Some(path),
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
pub fn write_fixed(path: &Path, mut file: Checked) -> Checked {
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

/// An error before the path is attached.
pub enum PathlessError {
    Parse(crate::syntax::ParseError),
    Lint(LintError),
}

impl PathlessError {
    pub fn with_path(self, path: &Path) -> Error {
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
/// `location`: where the file is, for the build context and repository around it
/// ([`super::surroundings`]); `None` reads nothing around it.
pub fn report_for(
    name: &str,
    location: Option<&Path>,
    bytes: &[u8],
    options: &LintOptions,
    threshold: Applicability,
    show_unsafe: bool,
) -> Result<(FileReport, Vec<String>), PathlessError> {
    if is_template_name(name) {
        // Not a Dockerfile yet: not parsed, not checked.
        let source = String::from_utf8_lossy(bytes).into_owned();
        let report = FileReport {
            path: name.to_string(),
            remaining: 0,
            findings: Vec::new(),
            fixed: source.clone(),
            fixed_with_unsafe: source.clone(),
            source,
            threshold,
            unapplied: false,
            untouched: Some(Untouched::Template {
                line: 0,
                what: "by its name".to_string(),
            }),
        };
        return Ok((report, Vec::new()));
    }
    let file = crate::syntax::parse_bytes(bytes).map_err(PathlessError::Parse)?;
    let analysis = Analysis::of(&file);
    let options = match location {
        Some(path) => with_surroundings(options, path, &file, &analysis),
        None => options.clone(),
    };
    let (options, digests) = resolve(&file, &options).map_err(PathlessError::Lint)?;
    let (outcome, with_unsafe) = if show_unsafe {
        lint_parsed_with_unsafe(&file, &analysis, &options, threshold)
    } else {
        lint_analysed(&file, &analysis, &options, threshold).map(|outcome| (outcome, None))
    }
    .map_err(PathlessError::Lint)?;
    let fixed_with_unsafe = with_unsafe.unwrap_or_else(|| outcome.fixed.clone());
    let failures = digests.map(|table| table.failures()).unwrap_or_default();
    let report = FileReport {
        path: name.to_string(),
        remaining: outcome.remaining.len(),
        findings: outcome.findings,
        fixed: outcome.fixed,
        fixed_with_unsafe,
        source: file.source,
        threshold,
        unapplied: false,
        untouched: outcome.untouched,
    };
    Ok((report, failures))
}

/// [`read_limited`] for the file at `path`, read in one go: its size (when the file system
/// tells it) is the room made for it, so a small file is not read in growing pieces.
pub fn read_file_limited(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let limit = u64::try_from(MAX_FILE_SIZE).map_or(u64::MAX, |max| max.saturating_add(1));
    let size = file.metadata().map_or(0, |meta| meta.len()).min(limit);
    // One byte more than the size: the read that finds the end needs no larger buffer.
    let mut bytes =
        Vec::with_capacity(usize::try_from(size).map_or(0, |size| size.saturating_add(1)));
    (&mut file).take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Read at most one byte more than the parser accepts: enough for it to reject a file that
/// is too large without holding all of it in memory.
pub fn read_limited(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    let limit = u64::try_from(MAX_FILE_SIZE).map_or(u64::MAX, |max| max.saturating_add(1));
    let mut bytes = Vec::new();
    reader.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_limited_stops_after_the_limit() {
        let big = vec![b'a'; MAX_FILE_SIZE + 100];
        let bytes = read_limited(&mut &big[..]).expect("reading a slice cannot fail");
        assert_eq!(bytes.len(), MAX_FILE_SIZE + 1);
    }

    #[test]
    fn a_file_is_read_whole_and_a_large_one_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, "FROM node\n").unwrap();
        assert_eq!(read_file_limited(&small).unwrap(), b"FROM node\n");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; MAX_FILE_SIZE + 100]).unwrap();
        assert_eq!(read_file_limited(&big).unwrap().len(), MAX_FILE_SIZE + 1);
        assert!(read_file_limited(&dir.path().join("missing")).is_err());
    }
}
