//! Finding Dockerfiles: explicit files as given, directories walked like ripgrep walks them.
//!
//! In a directory, files named `Dockerfile`, `dockerfile` (the docker CLI's fallback name),
//! `Containerfile`, `*.Dockerfile`, `*.dockerfile`, `Dockerfile.*` or `Containerfile.*` are
//! found, except BuildKit's per-Dockerfile ignore files (`Dockerfile.dockerignore`,
//! `app.Dockerfile.dockerignore`). The walk (the `ignore` crate, in parallel)
//! honours `.gitignore` (inside git repositories), `.ignore`, `.git/info/exclude` and skips
//! hidden files and directories, exactly like ripgrep. Symbolic links are never followed:
//! the files they point to are either inside the walked tree (and found there) or outside
//! it (and not ours to change). Results are sorted by path, so output is stable.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

/// What to check.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Input {
    /// `-`: standard input.
    Stdin,
    File(PathBuf),
}

/// True for the file names unroot looks at when walking a directory.
pub fn is_dockerfile_name(name: &str) -> bool {
    if name.ends_with(".dockerignore") {
        return false;
    }
    name == "Dockerfile"
        || name == "dockerfile"
        || name == "Containerfile"
        || name.ends_with(".Dockerfile")
        || name.ends_with(".dockerfile")
        || name.starts_with("Dockerfile.")
        || name.starts_with("Containerfile.")
}

/// Expands the command-line paths into inputs; a path that does not exist is an error.
#[cfg(test)]
fn discover(paths: &[PathBuf]) -> (Vec<Input>, Vec<(PathBuf, std::io::Error)>) {
    discover_excluding(paths, &|_| false)
}

/// [`discover`], leaving out the files a directory walk finds that `excluded` says to skip
/// (the configuration's `exclude`). Files named on the command line are always checked.
#[cfg(test)]
fn discover_excluding(
    paths: &[PathBuf],
    excluded: &(dyn Fn(&Path) -> bool + Sync),
) -> (Vec<Input>, Vec<(PathBuf, std::io::Error)>) {
    let (inputs, _, errors) = discover_with_yaml(paths, excluded);
    (inputs, errors)
}

/// [`discover_excluding`], and the `*.yaml`/`*.yml` files the directory walks find (sorted;
/// the linter's repository step reads those that deploy something).
pub fn discover_with_yaml(
    paths: &[PathBuf],
    excluded: &(dyn Fn(&Path) -> bool + Sync),
) -> (Vec<Input>, Vec<PathBuf>, Vec<(PathBuf, std::io::Error)>) {
    let mut yaml = Vec::new();
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                let (mut found, mut found_yaml, unreadable) = walk(path);
                errors.extend(unreadable);
                found.retain(|file| !excluded(file));
                found_yaml.retain(|file| !excluded(file));
                found_yaml.sort();
                yaml.extend(found_yaml);
                found.sort();
                inputs.extend(found.into_iter().map(Input::File));
            }
            Ok(_) => inputs.push(Input::File(path.clone())),
            Err(err) => errors.push((path.clone(), err)),
        }
    }
    // Keep the command line's order of paths, but never check a file twice, however its
    // path is spelled (`Dockerfile`, `./Dockerfile`, or found again by walking `.`): with
    // --write, two checks of one file race to write it. One path cannot name a file twice.
    if paths.len() > 1 {
        let mut seen = std::collections::HashSet::new();
        inputs.retain(|input| seen.insert(identity(input)));
    }
    (inputs, yaml, errors)
}

/// The file an input names: its directory resolved (`.`, `..`, symlinks), its own name
/// kept as is, so that a symlink and the file it points to stay two inputs.
fn identity(input: &Input) -> Input {
    let Input::File(path) = input else {
        return input.clone();
    };
    let resolved = match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            std::fs::canonicalize(parent).ok().map(|dir| dir.join(name))
        }
        _ => None,
    };
    Input::File(resolved.unwrap_or_else(|| path.clone()))
}

/// The Dockerfiles below `root`, its YAML files, and the directories (or files) that could
/// not be read.
type Walked = (Vec<PathBuf>, Vec<PathBuf>, Vec<(PathBuf, std::io::Error)>);
fn walk(root: &Path) -> Walked {
    let found = Mutex::new(Vec::new());
    let yaml = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    WalkBuilder::new(root)
        .follow_links(false)
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                let entry = match entry {
                    Ok(entry) => entry,
                    Err(error) => {
                        if let Ok(mut errors) = errors.lock() {
                            errors.push(walk_error(root, error));
                        }
                        return WalkState::Continue;
                    }
                };
                let is_file = entry.file_type().is_some_and(|t| t.is_file());
                if is_file && entry.file_name().to_str().is_some_and(is_dockerfile_name) {
                    if let Ok(mut found) = found.lock() {
                        found.push(entry.into_path());
                    }
                } else if is_file && entry.file_name().to_str().is_some_and(is_yaml_name) {
                    if let Ok(mut yaml) = yaml.lock() {
                        yaml.push(entry.into_path());
                    }
                }
                WalkState::Continue
            })
        });
    let mut errors = errors.into_inner().unwrap_or_default();
    errors.sort_by(|a, b| a.0.cmp(&b.0));
    (
        found.into_inner().unwrap_or_default(),
        yaml.into_inner().unwrap_or_default(),
        errors,
    )
}

/// `*.yaml` and `*.yml`: deployment file candidates.
pub fn is_yaml_name(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// A walk error as the path it is about and the I/O error.
fn walk_error(root: &Path, error: ignore::Error) -> (PathBuf, std::io::Error) {
    match error {
        ignore::Error::WithPath { path, err } => (path, walk_error(root, *err).1),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            walk_error(root, *err)
        }
        ignore::Error::Io(error) => (root.to_path_buf(), error),
        other => (root.to_path_buf(), std::io::Error::other(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_names() {
        for name in [
            "Dockerfile",
            "Containerfile",
            "api.Dockerfile",
            "web.dockerfile",
            "Dockerfile.prod",
            "Containerfile.dev",
            "dockerfile",
            "Dockerfile.tmpl",
        ] {
            assert!(is_dockerfile_name(name), "{name}");
        }
        for name in [
            "Dockerfile-old",
            "README.md",
            "Dockerfiles",
            "Dockerfile.dockerignore",
            "app.Dockerfile.dockerignore",
            ".dockerignore",
        ] {
            assert!(!is_dockerfile_name(name), "{name}");
        }
    }

    #[test]
    fn a_file_named_twice_is_checked_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/Dockerfile"), "FROM node\n").unwrap();
        let (inputs, errors) = discover(&[
            root.join("a/Dockerfile"),
            root.join("a/./Dockerfile"),
            root.join("a/../a/Dockerfile"),
            root.join("a"),
        ]);
        assert!(errors.is_empty());
        assert_eq!(inputs, vec![Input::File(root.join("a/Dockerfile"))]);
    }

    #[test]
    fn walks_sorted_and_skips_symlinks_and_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b")).unwrap();
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        std::fs::write(root.join("b/Dockerfile"), "FROM node\n").unwrap();
        std::fs::write(root.join("a/app.Dockerfile"), "FROM node\n").unwrap();
        std::fs::write(root.join(".hidden/Dockerfile"), "FROM node\n").unwrap();
        std::fs::write(root.join("a/notes.txt"), "x").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("b/Dockerfile"), root.join("a/Dockerfile")).unwrap();
        let (inputs, errors) = discover(&[root.to_path_buf()]);
        assert!(errors.is_empty());
        assert_eq!(
            inputs,
            vec![
                Input::File(root.join("a/app.Dockerfile")),
                Input::File(root.join("b/Dockerfile"))
            ]
        );
    }
}
