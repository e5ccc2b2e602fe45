//! Reads what the rules need from around a Dockerfile, before they run: the scripts its
//! ENTRYPOINT/CMD run (from the build context) and the stage names the repository builds as
//! targets. The rules get it as data ([`Surroundings`]); no rule does I/O.
//!
//! The build context is the Dockerfile's directory, then the repository root (where
//! `docker build -f path/Dockerfile .` runs); the repository root is the nearest directory
//! above the Dockerfile holding `.git`, else the Dockerfile's directory. Every file is read
//! only when it is a regular file inside its root after symbolic links are resolved, and at
//! most [`FILE_LIMIT`] bytes of it.

use foldhash::HashMap;
use std::cell::OnceCell;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::LintOptions;

use crate::analysis::entrypoint::script_requests;
use crate::analysis::surroundings::{Script, Surroundings, Target};
use crate::analysis::Analysis;
use crate::fs::paths::absolute;
use crate::syntax::Dockerfile;

/// The most bytes read of any one file; a larger one is left unread.
pub const FILE_LIMIT: u64 = 256 * 1024;

/// The most files of one directory the target scan reads (workflows, scripts).
const DIRECTORY_LIMIT: usize = 64;

/// How many directories [`RepositoryRoots`] remembers the repository root of.
const ROOTS_CACHE: usize = 4096;

/// The current directory and the repository root above each directory, looked up once per
/// run (one value is shared by the files a run checks) rather than once per Dockerfile.
#[derive(Debug, Default)]
pub struct RepositoryRoots {
    cwd: OnceLock<PathBuf>,
    /// Directory (absolute) → the nearest directory at or above it holding `.git`.
    /// Keyed by the paths' bytes: hashing a `Path` splits it into components.
    roots: Mutex<HashMap<OsString, Option<PathBuf>>>,
}

impl RepositoryRoots {
    /// Roots for a run whose current directory is `cwd` (already known to the caller).
    pub fn in_dir(cwd: PathBuf) -> RepositoryRoots {
        RepositoryRoots {
            cwd: OnceLock::from(cwd),
            roots: Mutex::default(),
        }
    }

    fn cwd(&self) -> &Path {
        self.cwd
            .get_or_init(|| std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")))
    }

    /// The nearest directory at or above `dir` holding `.git`.
    fn root_above(&self, dir: &Path) -> Option<PathBuf> {
        let known = |ancestor: &Path| {
            self.roots
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(ancestor.as_os_str())
                .cloned()
        };
        let mut unresolved = Vec::new();
        let mut found = None;
        for ancestor in dir.ancestors() {
            if let Some(known) = known(ancestor) {
                found = known;
                break;
            }
            unresolved.push(ancestor);
            if ancestor.join(".git").exists() {
                found = Some(ancestor.to_path_buf());
                break;
            }
        }
        let mut roots = self.roots.lock().unwrap_or_else(PoisonError::into_inner);
        // Bounded: the files are checked in path order, so the directories met lately are
        // those met next.
        if roots.len() + unresolved.len() > ROOTS_CACHE {
            roots.clear();
        }
        for directory in unresolved {
            roots.insert(directory.as_os_str().to_owned(), found.clone());
        }
        found
    }
}

/// What the rules should know about the surroundings of the Dockerfile at `path`.
pub fn read(path: &Path, file: &Dockerfile) -> Surroundings {
    read_with(&RepositoryRoots::default(), path, file, &Analysis::of(file))
}

/// [`read`], with the current directory and repository roots `roots` remembers, for `file`
/// as `analysis` reads it.
pub fn read_with(
    roots: &RepositoryRoots,
    path: &Path,
    file: &Dockerfile,
    analysis: &Analysis,
) -> Surroundings {
    let path = absolute(roots.cwd(), path);
    let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let root = roots.root_above(&dir).unwrap_or_else(|| dir.clone());
    // Each context directory is listed once: for the build files, and to leave unasked the
    // scripts it does not have.
    let listings: Vec<Listing> = if root == dir {
        vec![Listing::of(&dir)]
    } else {
        vec![Listing::of(&dir), Listing::of(&root)]
    };
    Surroundings {
        in_devcontainer: memchr::memmem::find(
            path.as_os_str().as_encoded_bytes(),
            b".devcontainer",
        )
        .is_some()
            && path
                .components()
                .any(|c| c == Component::Normal(".devcontainer".as_ref())),
        file_name: path
            .file_name()
            .map(|name| name.to_string_lossy().to_ascii_lowercase()),
        // Only a stage before the last one is built as a target: with no name among them, the
        // build files are not read.
        targets: if analysis
            .stages
            .iter()
            .rev()
            .skip(1)
            .any(|stage| stage.name.is_some())
        {
            repository_targets(&listings)
        } else {
            Vec::new()
        },
        scripts: entrypoint_scripts(file, analysis, &listings),
    }
}

/// A context directory and, once listed, the names of its entries (`None`: it could not be
/// listed).
struct Listing<'a> {
    dir: &'a Path,
    names: OnceCell<Option<Vec<OsString>>>,
}

impl Listing<'_> {
    fn of(dir: &Path) -> Listing<'_> {
        Listing {
            dir,
            names: OnceCell::new(),
        }
    }

    /// The names of the directory's entries, listed the first time they are asked for.
    fn names(&self) -> Option<&[OsString]> {
        self.names.get_or_init(|| entry_names(self.dir)).as_deref()
    }

    /// Whether the directory may have an entry `name`: it lists one of that name, ignoring
    /// case (a case-insensitive file system opens `Makefile` for `makefile`), or it could not
    /// be listed.
    fn may_have(&self, name: impl AsRef<OsStr>) -> bool {
        let name = name.as_ref().as_encoded_bytes();
        self.names().is_none_or(|names| {
            names
                .iter()
                .any(|entry| entry.as_encoded_bytes().eq_ignore_ascii_case(name))
        })
    }

    /// Whether `relative` may be found in the directory: its first name may be, where the
    /// directory was listed already (else one look at the path answers as well).
    fn may_hold(&self, relative: &Path) -> bool {
        if self.names.get().is_none() {
            return true;
        }
        match relative
            .components()
            .find(|c| !matches!(c, Component::CurDir))
        {
            Some(Component::Normal(name)) => self.may_have(name),
            _ => true,
        }
    }
}

/// `options` with the surroundings of the Dockerfile at `path` (parsed as `file`, read as
/// `analysis`).
pub fn with_surroundings(
    options: &LintOptions,
    path: &Path,
    file: &Dockerfile,
    analysis: &Analysis,
) -> LintOptions {
    LintOptions {
        surroundings: Arc::new(read_with(&options.roots, path, file, analysis)),
        ..options.clone()
    }
}

/// The scripts the stages' ENTRYPOINT/CMD run, read from the first context that has them.
fn entrypoint_scripts(file: &Dockerfile, analysis: &Analysis, contexts: &[Listing]) -> Vec<Script> {
    let mut scripts: Vec<Script> = Vec::new();
    for stage in &analysis.stages {
        for request in script_requests(file, analysis, stage) {
            if scripts.iter().any(|s| s.image_path == request.image_path) {
                continue;
            }
            let found = contexts.iter().find_map(|context| {
                request.sources.iter().find_map(|source| {
                    let source_path = Path::new(source);
                    if !context.may_hold(source_path) {
                        return None;
                    }
                    let text = read_inside(context.dir, source_path)?;
                    Some(Script {
                        image_path: request.image_path.clone(),
                        source: source.clone(),
                        text,
                    })
                })
            });
            scripts.extend(found);
        }
    }
    scripts
}

/// The text of `relative` under `root`: only a regular file that is inside `root` once
/// symbolic links are resolved, of at most [`FILE_LIMIT`] bytes, in UTF-8.
pub fn read_inside(root: &Path, relative: &Path) -> Option<String> {
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
    {
        return None;
    }
    // Most names asked for are absent: one `lstat` says so, where resolving the path reads
    // every component's link.
    let joined = root.join(relative);
    let found = fs::symlink_metadata(&joined).ok()?;
    // Where neither the file nor a directory between it and `root` is a link, the path is
    // inside `root` as it is spelled; else it is resolved and compared.
    let mut between = joined.parent().unwrap_or(&joined);
    let mut linked = found.file_type().is_symlink();
    while !linked && between.starts_with(root) && between != root {
        linked = fs::symlink_metadata(between).map_or(true, |m| m.file_type().is_symlink());
        between = between.parent().unwrap_or(root);
    }
    let (path, metadata) = if linked {
        let root = root.canonicalize().ok()?;
        let path = joined.canonicalize().ok()?;
        if !path.starts_with(&root) {
            return None;
        }
        let metadata = fs::metadata(&path).ok()?;
        (path, metadata)
    } else {
        (joined, found)
    };
    if !metadata.is_file() || metadata.len() > FILE_LIMIT {
        return None;
    }
    // Room for the whole file and the read that finds its end.
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).map_or(0, |len| len + 1));
    fs::File::open(&path)
        .ok()?
        .take(FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() as u64 > FILE_LIMIT {
        return None;
    }
    String::from_utf8(bytes).ok()
}

/// The files the target scan reads: known build files at the repository root and in the
/// Dockerfile's directory, the CI workflows and shell scripts next to them.
fn build_files(listings: &[Listing]) -> Vec<PathBuf> {
    const NAMES: &[&str] = &[
        "Makefile",
        "makefile",
        "GNUmakefile",
        "justfile",
        "Justfile",
        "Taskfile.yml",
        "package.json",
        "docker-bake.hcl",
        "docker-bake.json",
        "docker-bake.override.hcl",
        ".gitlab-ci.yml",
    ];
    let mut files = Vec::new();
    // The Dockerfile's directory first, the repository root last (where they differ).
    let root = listings
        .last()
        .map_or(Path::new("/"), |listing| listing.dir);
    let mut root_has_github = true;
    for listing in listings.iter().rev() {
        let base = listing.dir;
        // Only the known names the directory lists are looked up, and its `scripts` (the
        // root's `.github`) listed when it has one; all of them when it cannot be listed.
        let has = |wanted: &str| listing.may_have(wanted);
        let has_scripts = has("scripts");
        if base == root {
            root_has_github = has(".github");
        }
        files.extend(
            NAMES
                .iter()
                .filter(|name| has(name))
                .map(|name| base.join(name)),
        );
        files.extend(kept(base, listing.names().unwrap_or_default(), |name| {
            let compose = (name.starts_with("docker-compose") || name.starts_with("compose"))
                && (name.ends_with(".yml") || name.ends_with(".yaml"));
            compose || name.ends_with(".sh") || name.ends_with(".mk")
        }));
        if has_scripts {
            files.extend(listed(&base.join("scripts"), |name| name.ends_with(".sh")));
        }
    }
    if root_has_github {
        files.extend(listed(&root.join(".github/workflows"), |name| {
            name.ends_with(".yml") || name.ends_with(".yaml")
        }));
    }
    files.sort();
    files.dedup();
    files
}

/// The files of `dir` (not below it) whose names `keep` accepts, sorted, at most
/// [`DIRECTORY_LIMIT`].
fn listed(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    kept(dir, &entry_names(dir).unwrap_or_default(), keep)
}

/// The names of the entries of `dir`; `None` when it cannot be read.
fn entry_names(dir: &Path) -> Option<Vec<OsString>> {
    let entries = fs::read_dir(dir).ok()?;
    Some(entries.flatten().map(|entry| entry.file_name()).collect())
}

/// The paths in `dir` of those of `names` that `keep` accepts, sorted, at most
/// [`DIRECTORY_LIMIT`].
fn kept(dir: &Path, names: &[OsString], keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = names
        .iter()
        .filter(|name| keep(&name.to_string_lossy()))
        .map(|name| dir.join(name))
        .collect();
    found.sort();
    found.truncate(DIRECTORY_LIMIT);
    found
}

/// The stage names the repository's build files build as targets.
fn repository_targets(listings: &[Listing]) -> Vec<Target> {
    let root = listings
        .last()
        .map_or(Path::new("/"), |listing| listing.dir);
    let mut targets: Vec<Target> = Vec::new();
    for path in build_files(listings) {
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let Some(text) = read_inside(root, relative) else {
            continue;
        };
        let origin = relative.to_string_lossy().replace('\\', "/");
        for name in targets_in(&text) {
            if !targets.iter().any(|t| t.name == name) {
                targets.push(Target {
                    name,
                    origin: origin.clone(),
                });
            }
        }
    }
    targets
}

/// The build targets a file names: `--target NAME` / `--target=NAME` anywhere (shell, CI,
/// Makefiles, package.json scripts), `target: NAME` (a compose file's `build.target`, the
/// `target` input of docker/build-push-action), `target = "NAME"` (bake HCL) and
/// `"target": "NAME"` (bake JSON). A line scan, no YAML or HCL parser: one function to
/// replace when unroot reads compose files properly.
pub fn targets_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut push = |raw: &str| {
        let name = raw
            .trim()
            .trim_matches(['"', '\'', ',', '\\'])
            .to_ascii_lowercase();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if valid && !found.contains(&name) {
            found.push(name);
        }
    };
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with('#') || code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("--target") {
            let after = &rest[at + "--target".len()..];
            let value = if let Some(value) = after.strip_prefix('=') {
                Some(value)
            } else if after.starts_with([' ', '\t']) {
                Some(after.trim_start())
            } else {
                None
            };
            if let Some(value) = value {
                let end = value
                    .find(|c: char| c.is_whitespace() || c == ';' || c == '&' || c == '|')
                    .unwrap_or(value.len());
                push(&value[..end]);
            }
            rest = after;
        }
        let key_value = code.trim_start_matches(['-', ' ']);
        let quoted_key = key_value.strip_prefix("\"target\"");
        let value = key_value
            .strip_prefix("target:")
            .or_else(|| quoted_key.and_then(|rest| rest.trim_start().strip_prefix(':')))
            .or_else(|| {
                key_value
                    .strip_prefix("target")
                    .and_then(|rest| rest.trim_start().strip_prefix('='))
                    .filter(|rest| rest.trim_start().starts_with('"'))
            });
        if let Some(value) = value {
            let value = value.split(" #").next().unwrap_or(value).trim();
            push(value);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_targets_in_build_files() {
        assert_eq!(
            targets_in("build:\n\tdocker build --target release -t app .\n\tdocker build --target=api-prod .\n"),
            vec!["release", "api-prod"]
        );
        assert_eq!(
            targets_in("services:\n  web:\n    build:\n      context: .\n      target: \"runner\"  # prod\n"),
            vec!["runner"]
        );
        assert_eq!(
            targets_in("target \"default\" {\n  target = \"release\"\n}\n"),
            vec!["release"]
        );
        assert_eq!(targets_in("  \"target\": \"server\",\n"), vec!["server"]);
        // Unresolved values and comments are not targets.
        assert_eq!(
            targets_in("  target: ${{ matrix.target }}\n# docker build --target old .\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn reads_only_regular_files_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ctx");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("sub/entry.sh"), "exec gosu node \"$@\"\n").unwrap();
        fs::write(dir.path().join("secret"), "outside").unwrap();
        assert_eq!(
            read_inside(&root, Path::new("sub/entry.sh")).as_deref(),
            Some("exec gosu node \"$@\"\n")
        );
        assert_eq!(read_inside(&root, Path::new("../secret")), None);
        assert_eq!(read_inside(&root, Path::new("sub")), None);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();
            assert_eq!(read_inside(&root, Path::new("link")), None);
            std::os::unix::fs::symlink(root.join("sub/entry.sh"), root.join("inner")).unwrap();
            assert!(read_inside(&root, Path::new("inner")).is_some());
            // A linked directory on the way: followed only where it stays inside.
            fs::create_dir_all(dir.path().join("outside")).unwrap();
            fs::write(dir.path().join("outside/run.sh"), "outside").unwrap();
            std::os::unix::fs::symlink(dir.path().join("outside"), root.join("sub/out")).unwrap();
            assert_eq!(read_inside(&root, Path::new("sub/out/run.sh")), None);
            std::os::unix::fs::symlink(root.join("sub"), root.join("again")).unwrap();
            assert!(read_inside(&root, Path::new("again/entry.sh")).is_some());
            // The root itself may be reached through a link.
            let linked_root = dir.path().join("ctx-link");
            std::os::unix::fs::symlink(&root, &linked_root).unwrap();
            assert!(read_inside(&linked_root, Path::new("sub/entry.sh")).is_some());
            assert_eq!(read_inside(&linked_root, Path::new("link")), None);
        }
        fs::write(root.join("big"), vec![b'a'; FILE_LIMIT as usize + 1]).unwrap();
        assert_eq!(read_inside(&root, Path::new("big")), None);
    }
}
