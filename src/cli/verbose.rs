//! `--verbose`: which files a run checks, and what its directory walks skipped and why, on
//! standard error, one line per path in path order; the files with other names are counted.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::fs::discover::{Explanation, SkipReason};

/// The names a directory walk checks, for the "not a Dockerfile name" lines.
const NAMES: &str =
    "Dockerfile, dockerfile, Containerfile, *.Dockerfile, *.dockerfile, Dockerfile.*, Containerfile.*";

/// Writes the account; `defaulted`: the run walks the default `.`, whose paths are shown
/// without `./`, as the report shows them.
pub fn report<T>(
    explanation: &Explanation,
    files: &[(PathBuf, T)],
    yaml: &[(PathBuf, T)],
    defaulted: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let shown = |path: &Path| -> String {
        let path = match path.strip_prefix(".") {
            Ok(relative) if defaulted && !relative.as_os_str().is_empty() => relative,
            _ => path,
        };
        path.display().to_string()
    };
    // Sorted by the path shown, component by component, as the report is.
    let mut lines: Vec<(PathBuf, String)> = Vec::new();
    for (path, _) in files {
        lines.push((
            PathBuf::from(shown(path)),
            format!("checking {}", shown(path)),
        ));
    }
    for (path, _) in yaml {
        lines.push((
            PathBuf::from(shown(path)),
            format!(
                "reading {}: YAML, for the Compose and Kubernetes files that run the images",
                shown(path)
            ),
        ));
    }
    for skipped in &explanation.skipped {
        let slash = if skipped.is_dir { "/" } else { "" };
        let why = match &skipped.reason {
            SkipReason::Hidden => "hidden".to_string(),
            SkipReason::Ignored {
                file: Some(file),
                pattern,
            } => format!("ignored by `{pattern}` in {}", shown(file)),
            SkipReason::Ignored {
                file: None,
                pattern,
            } => format!("ignored by `{pattern}`"),
            SkipReason::Excluded(why) => format!("excluded by {why}"),
            SkipReason::SymbolicLink => "a symbolic link (never followed)".to_string(),
            SkipReason::NotDockerfileName => format!("not a Dockerfile name ({NAMES})"),
            SkipReason::Other(why) => why.clone(),
        };
        let path = shown(&skipped.path);
        lines.push((
            PathBuf::from(&path),
            format!("skipping {path}{slash}: {why}"),
        ));
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, line) in lines {
        writeln!(out, "{line}")?;
    }
    match explanation.other_files {
        0 => Ok(()),
        1 => writeln!(out, "skipping 1 other file: neither a Dockerfile nor YAML"),
        n => writeln!(
            out,
            "skipping {n} other files: neither Dockerfiles nor YAML"
        ),
    }
}
