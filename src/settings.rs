//! The settings each file is checked with: the configuration that governs it with the
//! command-line flags over it, turned into lint options.
//!
//! A file is governed by the nearest `unroot.toml` or `.unroot.toml` at or above its directory,
//! up to the repository root (the directory holding `.git`); files with none use the defaults.
//! The nearest file wins whole: configurations do not merge. Paths are resolved lexically
//! (against the current directory, `..` removed, symbolic links not followed), so the
//! configuration found is the one above the path the user sees.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::cli::{Args, PinArg};
use crate::config::{Config, FILE_NAMES};
use crate::edit::Applicability;
use crate::lint::LintOptions;
use crate::registry::RegistryResolver;
use crate::releases::ReleaseTable;
use crate::rules::{Digests, Pin, RuleOptions, RuleSelection};

/// What one file is checked with.
#[derive(Debug)]
pub struct Settings {
    /// The configuration (file values, flags over them), with where each value came from.
    pub config: Config,
    pub lint: LintOptions,
    /// The fixes that are applied: safe ones, or unsafe ones too (`unsafe-fixes`, `-i`).
    pub threshold: Applicability,
}

/// A loaded configuration, or the message that says why it could not be.
type Loaded = Result<Arc<Settings>, String>;

/// Finds and loads the settings of each file, reading each configuration file once.
pub struct Resolver<'a> {
    args: &'a Args,
    releases: Option<Arc<ReleaseTable>>,
    /// One digest resolver for the run, so each image is looked up once.
    digests: OnceLock<Digests>,
    cwd: PathBuf,
    /// Directory (absolute) → the configuration file governing it.
    governing: Mutex<HashMap<PathBuf, Option<PathBuf>>>,
    /// Configuration file (`None`: no file) → its settings.
    loaded: Mutex<HashMap<Option<PathBuf>, Loaded>>,
}

impl<'a> Resolver<'a> {
    pub fn new(args: &'a Args, releases: Option<Arc<ReleaseTable>>) -> Resolver<'a> {
        Resolver {
            args,
            releases,
            digests: OnceLock::new(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            governing: Mutex::default(),
            loaded: Mutex::default(),
        }
    }

    /// The settings of the file at `path`.
    pub fn for_file(&self, path: &Path) -> Loaded {
        let absolute = absolute(&self.cwd, path);
        self.for_dir_absolute(absolute.parent().unwrap_or(Path::new("/")))
    }

    /// The settings of a command-line PATH: a file's, or a directory's own (`-`: the current
    /// directory's).
    pub fn for_path(&self, path: &Path) -> Loaded {
        if path.as_os_str() == "-" || path.is_dir() {
            self.for_dir_absolute(&absolute(&self.cwd, path))
        } else {
            self.for_file(path)
        }
    }

    /// True when the configuration governing `path` (a walked file) excludes it. A file whose
    /// configuration cannot be loaded is kept: checking it reports the error.
    pub fn excluded(&self, path: &Path) -> bool {
        let absolute = absolute(&self.cwd, path);
        self.for_dir_absolute(absolute.parent().unwrap_or(Path::new("/")))
            .is_ok_and(|settings| settings.config.excludes(&absolute))
    }

    fn for_dir_absolute(&self, dir: &Path) -> Loaded {
        let file = self.governing_file(dir);
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        loaded
            .entry(file.clone())
            .or_insert_with(|| self.load(file.as_deref()))
            .clone()
    }

    /// The nearest configuration file at or above `dir`, up to the repository root; each
    /// directory is looked at once per run.
    fn governing_file(&self, dir: &Path) -> Option<PathBuf> {
        let mut governing = self
            .governing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut unresolved = Vec::new();
        let mut found = None;
        for ancestor in dir.ancestors() {
            if let Some(known) = governing.get(ancestor) {
                found = known.clone();
                break;
            }
            unresolved.push(ancestor.to_path_buf());
            if let Some(file) = FILE_NAMES
                .iter()
                .map(|name| ancestor.join(name))
                .find(|candidate| candidate.is_file())
            {
                found = Some(file);
                break;
            }
            if ancestor.join(".git").exists() {
                break;
            }
        }
        for directory in unresolved {
            governing.insert(directory, found.clone());
        }
        found
    }

    fn load(&self, file: Option<&Path>) -> Loaded {
        let config = Config::load(self.args, file)?;
        let lint = self.lint_options(&config);
        let threshold = if config.unsafe_fixes.value || self.args.interactive {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        };
        Ok(Arc::new(Settings {
            config,
            lint,
            threshold,
        }))
    }

    fn lint_options(&self, config: &Config) -> LintOptions {
        let mut ignore = config.ignore.value.clone();
        // `pin = "none"`: stages keep their floating tags, as with `# unroot pin=none`.
        if config.pin.value == PinArg::None && !ignore.iter().any(|rule| rule == "floating-tag") {
            ignore.push("floating-tag".to_string());
        }
        LintOptions {
            rules: RuleOptions {
                user: config.user.value.clone(),
                numeric_user: config.numeric_user.value,
                all_images: config.all_images.value,
                chown: self.args.chown,
                port_map: config.port_map.value.clone(),
                pin: match config.pin.value {
                    PinArg::Major => Pin::Major,
                    PinArg::Minor => Pin::Minor,
                    PinArg::Exact | PinArg::None => Pin::Exact,
                    PinArg::Digest => Pin::Digest,
                },
                releases: self.releases.clone(),
                // Only `pin = digest` creates the resolver: no other run touches the network.
                digests: (config.pin.value == PinArg::Digest).then(|| {
                    self.digests
                        .get_or_init(|| {
                            Digests(Arc::new(RegistryResolver::new(self.args.registry.clone())))
                        })
                        .clone()
                }),
            },
            selection: RuleSelection {
                select: config.select.value.clone(),
                ignore,
            },
        }
    }
}

/// `path` made absolute against `cwd`, with `.` and `..` removed lexically.
pub fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in cwd.join(path).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_absolute_lexically() {
        let cwd = Path::new("/work/repo");
        assert_eq!(
            absolute(cwd, Path::new("a/../b/./Dockerfile")),
            Path::new("/work/repo/b/Dockerfile")
        );
        assert_eq!(absolute(cwd, Path::new(".")), Path::new("/work/repo"));
        assert_eq!(absolute(cwd, Path::new("/x/../y")), Path::new("/y"));
        assert_eq!(absolute(cwd, Path::new("../../..")), Path::new("/"));
    }
}
