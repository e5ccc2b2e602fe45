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
//!
//! [`discover_explained`] also says what the walks passed over and why (`--verbose`).

use crate::fs::paths::is_plain;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

mod heard;

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
    discover_inner(paths, &|file| excluded(file).then(String::new), None)
}

/// The paths that could not be read, and why.
pub type Unreadable = Vec<(PathBuf, std::io::Error)>;

/// Why a directory walk passed over a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// A hidden file or directory: its name starts with `.`.
    Hidden,
    /// A pattern of an ignore file matches it: `.gitignore` (inside a git repository),
    /// `.ignore`, `.git/info/exclude` or git's global excludes file (`file`, when known).
    Ignored {
        file: Option<PathBuf>,
        pattern: String,
    },
    /// The configuration's `exclude`: the pattern and where it is written.
    Excluded(String),
    /// A symbolic link: never followed.
    SymbolicLink,
    /// A file named like a Dockerfile that is no name unroot checks (`Dockerfile-old`).
    NotDockerfileName,
    /// What the walker said, when it is none of the above.
    Other(String),
}

/// A path a directory walk passed over, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub is_dir: bool,
    pub reason: SkipReason,
}

/// What the directory walks passed over (`--verbose`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explanation {
    /// The directories not walked into, and the files that would have been read (Dockerfile
    /// and YAML names, and names like a Dockerfile's) but for the reason; sorted by path.
    pub skipped: Vec<Skipped>,
    /// How many other files the walks saw: names neither Dockerfiles nor YAML; not listed.
    pub other_files: usize,
}

/// [`discover_with_yaml`], and what the directory walks passed over and why; `exclusion`
/// says why the configuration excludes a file (`None`: it does not). The walks run on this
/// thread, so that the `ignore` crate's account of each path it leaves out can be heard
/// (see [`heard`]), the account `rg --debug` prints.
pub fn discover_explained(
    paths: &[PathBuf],
    exclusion: &(dyn Fn(&Path) -> Option<String> + Sync),
) -> (Vec<Input>, Vec<PathBuf>, Unreadable, Explanation) {
    let mut explanation = Explanation::default();
    let (inputs, yaml, errors) = discover_inner(paths, exclusion, Some(&mut explanation));
    explanation
        .skipped
        .sort_by(|a, b| a.path.cmp(&b.path).then(a.is_dir.cmp(&b.is_dir)));
    explanation.skipped.dedup();
    (inputs, yaml, errors, explanation)
}

fn discover_inner(
    paths: &[PathBuf],
    exclusion: &(dyn Fn(&Path) -> Option<String> + Sync),
    mut explanation: Option<&mut Explanation>,
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
                let (mut found, mut found_yaml, unreadable) = match explanation.as_deref_mut() {
                    Some(explanation) => walk_explained(path, explanation),
                    None => walk(path),
                };
                errors.extend(unreadable);
                // Sorted first, so that the files of one directory are asked about in a row
                // (on every core: the question reads configuration files).
                sort_in_walk_order(&mut found, |path| path);
                sort_in_walk_order(&mut found_yaml, |path| path);
                let mut kept = |files: Vec<PathBuf>| {
                    let verdicts: Vec<Option<String>> =
                        files.par_iter().map(|file| exclusion(file)).collect();
                    let mut kept = Vec::with_capacity(files.len());
                    for (file, verdict) in files.into_iter().zip(verdicts) {
                        match verdict {
                            None => kept.push(file),
                            Some(why) => {
                                if let Some(explanation) = explanation.as_deref_mut() {
                                    explanation.skipped.push(Skipped {
                                        path: file,
                                        is_dir: false,
                                        reason: SkipReason::Excluded(why),
                                    });
                                }
                            }
                        }
                    }
                    kept
                };
                let found = kept(found);
                yaml.extend(kept(found_yaml));
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

/// Sorts `items` by their `path`s in the order of `Path`'s `Ord` (stably): by bytes, the
/// separator first of all, where every path is plainly spelled (as the paths of a walk are),
/// else by [`walk_order`].
pub fn sort_in_walk_order<T>(items: &mut [T], path: impl Fn(&T) -> &Path) {
    if cfg!(windows) {
        items.sort_by(|a, b| path(a).cmp(path(b)));
    } else if items.iter().all(|item| is_plain(path(item))) {
        items.sort_by(|a, b| {
            plain_order(
                path(a).as_os_str().as_encoded_bytes(),
                path(b).as_os_str().as_encoded_bytes(),
            )
        });
    } else {
        items.sort_by(|a, b| walk_order(path(a), path(b)));
    }
}

/// The order of two plainly spelled paths' bytes ([`is_plain`]): the order of their
/// components.
fn plain_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let key = |byte: u8| if byte == b'/' { 0 } else { u16::from(byte) + 1 };
    match first_difference(a, b) {
        Some(at) => key(a[at]).cmp(&key(b[at])),
        None => a.len().cmp(&b.len()),
    }
}

/// The order of `Path`'s `Ord` (component by component), found by comparing bytes with the
/// separator first of all. That is the same order where the paths differ in plain names (as
/// the paths one walk finds do); where either differs in a spelling `Path` normalises (`//`,
/// `.`, `..`, a trailing or leading `/`), the components are compared.
pub fn walk_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    if cfg!(windows) {
        return a.cmp(b);
    }
    let key = |byte: u8| if byte == b'/' { 0 } else { u16::from(byte) + 1 };
    let (bytes_a, bytes_b) = (
        a.as_os_str().as_encoded_bytes(),
        b.as_os_str().as_encoded_bytes(),
    );
    let at = first_difference(bytes_a, bytes_b);
    let shared = at.unwrap_or(bytes_a.len().min(bytes_b.len()));
    // The identical bytes before the component that holds the first difference have the
    // same components; only what follows can be spelled irregularly.
    let component = bytes_a[..shared]
        .iter()
        .rposition(|&byte| byte == b'/')
        .map_or(0, |slash| slash + 1);
    let irregular = |tail: &[u8]| {
        tail.split(|&byte| byte == b'/')
            .any(|name| matches!(name, b"" | b"." | b".."))
    };
    if irregular(&bytes_a[component..]) || irregular(&bytes_b[component..]) {
        return a.cmp(b);
    }
    match at {
        Some(at) => key(bytes_a[at]).cmp(&key(bytes_b[at])),
        None => bytes_a.len().cmp(&bytes_b.len()),
    }
}

/// Where `a` and `b` first differ, if one is not a prefix of the other; eight bytes at a
/// time (the paths of one walk share long prefixes).
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let shorter = a.len().min(b.len());
    let word = |bytes: &[u8], at: usize| {
        u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
    };
    let mut at = 0;
    while at + 8 <= shorter {
        let difference = word(a, at) ^ word(b, at);
        if difference != 0 {
            return Some(at + (difference.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    (at..shorter).find(|&i| a[i] != b[i])
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
                match found_kind(&entry) {
                    Found::Dockerfile => {
                        if let Ok(mut found) = found.lock() {
                            found.push(entry.into_path());
                        }
                    }
                    Found::Yaml => {
                        if let Ok(mut yaml) = yaml.lock() {
                            yaml.push(entry.into_path());
                        }
                    }
                    Found::Other => {}
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

/// What a walked entry is to unroot.
enum Found {
    Dockerfile,
    Yaml,
    Other,
}

fn found_kind(entry: &ignore::DirEntry) -> Found {
    let is_file = entry.file_type().is_some_and(|t| t.is_file());
    match entry.file_name().to_str() {
        Some(name) if is_file && is_dockerfile_name(name) => Found::Dockerfile,
        Some(name) if is_file && is_yaml_name(name) => Found::Yaml,
        _ => Found::Other,
    }
}

/// [`walk`] on this thread, telling `explanation` what it passes over.
fn walk_explained(root: &Path, explanation: &mut Explanation) -> Walked {
    let (mut found, mut yaml, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    let mut other_files = 0;
    let mut skipped = Vec::new();
    let heard = heard::listen(|| {
        for entry in WalkBuilder::new(root).follow_links(false).build() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    errors.push(walk_error(root, error));
                    continue;
                }
            };
            match found_kind(&entry) {
                Found::Dockerfile => found.push(entry.into_path()),
                Found::Yaml => yaml.push(entry.into_path()),
                Found::Other => {
                    let Some(file_type) = entry.file_type() else {
                        continue;
                    };
                    let name = entry.file_name().to_string_lossy();
                    if file_type.is_symlink() {
                        let to_dir = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
                        if to_dir || is_read_name(&name) {
                            skipped.push(Skipped {
                                path: entry.path().to_path_buf(),
                                is_dir: to_dir,
                                reason: SkipReason::SymbolicLink,
                            });
                        }
                    } else if file_type.is_file() && looks_like_dockerfile(&name) {
                        skipped.push(Skipped {
                            path: entry.path().to_path_buf(),
                            is_dir: false,
                            reason: SkipReason::NotDockerfileName,
                        });
                    } else if !file_type.is_dir() {
                        other_files += 1;
                    }
                }
            }
        }
    });
    for (path, reason) in heard {
        let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        let relevant = path
            .file_name()
            .map(|name| name.to_string_lossy())
            .is_some_and(|name| is_read_name(&name) || looks_like_dockerfile(&name));
        if is_dir || relevant {
            skipped.push(Skipped {
                path,
                is_dir,
                reason,
            });
        }
    }
    explanation.skipped.extend(skipped);
    explanation.other_files += other_files;
    errors.sort_by(|a, b| a.0.cmp(&b.0));
    (found, yaml, errors)
}

/// A name a walk reads: a Dockerfile's or a YAML file's.
fn is_read_name(name: &str) -> bool {
    is_dockerfile_name(name) || is_yaml_name(name)
}

/// A name meant for a Dockerfile, perhaps, that no walk finds (`Dockerfile-old`,
/// `prod.containerfile`); BuildKit's ignore files are not meant so.
fn looks_like_dockerfile(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (lower.contains("dockerfile") || lower.contains("containerfile"))
        && !is_dockerfile_name(name)
        && !lower.ends_with(".dockerignore")
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
    fn walk_order_is_the_order_of_paths() {
        // Long names too: the comparison goes eight bytes at a time.
        let names = [
            "a",
            "a.b",
            "a-b",
            "ab",
            "b",
            "A",
            "é",
            "a b",
            "~",
            "services-0",
            "services",
        ];
        let mut paths = Vec::new();
        // Spellings `Path` normalises: compared by components.
        for odd in [
            "a//b", "a/./b", "./a", "-x", "a/", "../a", "/abs", "a/b/.", ".",
        ] {
            paths.push(PathBuf::from(odd));
            paths.push(PathBuf::from(format!("root/{odd}")));
        }
        for root in ["root", "/a/root/shared/by/every/path"] {
            for first in names {
                paths.push(PathBuf::from(format!("{root}/{first}")));
                for second in names {
                    paths.push(PathBuf::from(format!("{root}/{first}/{second}")));
                    paths.push(PathBuf::from(format!("{root}/{first}/{second}/Dockerfile")));
                }
            }
        }
        let mut expected = paths.clone();
        expected.sort();
        let mut sorted = paths.clone();
        sorted.reverse();
        sorted.sort_by(|a, b| walk_order(a, b));
        assert_eq!(sorted, expected);
        // Sorted at once: by components where some path is irregular, by bytes where none is.
        let mut sorted = paths.clone();
        sorted.reverse();
        sort_in_walk_order(&mut sorted, |path| path);
        assert_eq!(sorted, expected);
        paths.retain(|path| crate::fs::paths::is_plain(path));
        let mut expected = paths.clone();
        expected.sort();
        paths.reverse();
        sort_in_walk_order(&mut paths, |path| path);
        assert_eq!(paths, expected);
    }

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
