//! The settings each file is checked with: the configuration that governs it with the
//! [`Overrides`] over it (what a command line or an editor sets, as plain data), turned into
//! lint options. Nothing here knows about a command line.
//!
//! A file is governed by the nearest `unroot.toml` or `.unroot.toml` at or above its directory,
//! up to the repository root (the directory holding `.git`); files with none use the defaults.
//! The nearest file wins whole: configurations do not merge. Paths are resolved lexically
//! (against the current directory, `..` removed, symbolic links not followed), so the
//! configuration found is the one above the path the user sees. `--config PATH` (a
//! [`ConfigChoice::File`]) governs every file instead; `--isolated` reads none.

pub mod config;
pub mod values;

use foldhash::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use ignore::WalkBuilder;

use crate::edit::Applicability;
use crate::fs::paths::absolute;
use crate::linter::surroundings::RepositoryRoots;
use crate::linter::LintOptions;
use crate::rules::{Pin, RuleOptions, RuleSelection};
use crate::sources::registry::RegistryResolver;
use crate::sources::releases::ReleaseTable;
use config::{Config, FILE_NAMES};
pub use config::{Setting, Source};
pub use values::{PinMode, DEFAULT_BRANCH};

/// Which configuration file governs a file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ConfigChoice {
    /// The nearest `unroot.toml` or `.unroot.toml` at or above the file's directory.
    #[default]
    Nearest,
    /// This file, for every file checked (`--config PATH`).
    File(PathBuf),
    /// None: the defaults and the overrides alone (`--isolated`).
    Isolated,
}

/// What a command line (or an editor) sets over the configuration files; `None` (or empty):
/// not set, the configuration's value holds.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Which configuration file applies.
    pub config: ConfigChoice,
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub unsafe_fixes: Option<bool>,
    pub user: Option<String>,
    pub numeric_user: Option<bool>,
    /// `--uid N`: the uid (and gid) of the user the fixes run the app as.
    pub uid: Option<u32>,
    pub pin: Option<PinMode>,
    pub port_map: Option<Vec<(u16, u16)>>,
    pub all_images: Option<bool>,
    pub branch: Option<String>,
    pub commit_template: Option<PathBuf>,
    /// Also give the app's COPY/ADD `--chown` (no configuration key).
    pub chown: bool,
    /// Every fix is offered, unsafe ones too (`--interactive`).
    pub offer_unsafe: bool,
    /// The registry `--pin digest` asks instead of each image's own.
    pub registry: Option<String>,
    /// `--timeout`: the longest one registry lookup may take.
    pub network_timeout: Option<std::time::Duration>,
}

/// What one file is checked with.
#[derive(Debug)]
pub struct Settings {
    /// The configuration (file values, flags over them), with where each value came from.
    pub config: Config,
    pub lint: LintOptions,
    /// The fixes that are applied: safe ones, or unsafe ones too (`unsafe-fixes`, `-i`).
    pub threshold: Applicability,
}

impl crate::linter::FileSettings for Arc<Settings> {
    fn lint_options(&self) -> &LintOptions {
        &self.lint
    }

    fn fix_threshold(&self) -> Applicability {
        self.threshold
    }
}

/// How many directories [`Resolver`] remembers the configuration file of.
const GOVERNING_CACHE: usize = 4096;

/// A loaded configuration, or the message that says why it could not be.
pub type Loaded = Result<Arc<Settings>, String>;

/// Finds and loads the settings of each file, reading each configuration file once.
pub struct Resolver {
    overrides: Overrides,
    releases: Option<Arc<ReleaseTable>>,
    /// One digest resolver for the run, so each image is looked up once.
    registry: OnceLock<Arc<RegistryResolver>>,
    /// One repository-root cache for the run's surroundings reads.
    roots: Arc<RepositoryRoots>,
    /// Today's date, read once for the run.
    today: Arc<str>,
    cwd: PathBuf,
    /// Directory (absolute) → the configuration file governing it. Keyed by the paths'
    /// bytes, as every map here: hashing a `Path` splits it into components.
    governing: Mutex<HashMap<OsString, Option<PathBuf>>>,
    /// Configuration file (`None`: no file) → its settings.
    loaded: Mutex<HashMap<Option<OsString>, Loaded>>,
}

impl Resolver {
    pub fn new(overrides: Overrides, releases: Option<Arc<ReleaseTable>>) -> Resolver {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        Resolver {
            overrides,
            releases,
            registry: OnceLock::new(),
            roots: Arc::new(RepositoryRoots::in_dir(cwd.clone())),
            today: crate::sources::releases::today().into(),
            cwd,
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
        self.exclusion(path).is_some()
    }

    /// Why `path` (a walked file) is excluded, when it is: the pattern and where it is written.
    pub fn exclusion(&self, path: &Path) -> Option<String> {
        self.exclusion_by(&*self.for_file(path).ok()?, path)
    }

    /// Why `path` (a walked file governed by `settings`) is excluded, when it is.
    pub fn exclusion_by(&self, settings: &Settings, path: &Path) -> Option<String> {
        settings.config.exclusion(&absolute(&self.cwd, path))
    }

    fn for_dir_absolute(&self, dir: &Path) -> Loaded {
        let file = self.governing_file(dir);
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        let key = file.as_ref().map(|file| file.as_os_str().to_owned());
        loaded
            .entry(key)
            .or_insert_with(|| self.load(file.as_deref()))
            .clone()
    }

    /// The nearest configuration file at or above `dir`, up to the repository root; a
    /// directory is looked at once while it is among the [`GOVERNING_CACHE`] remembered.
    fn governing_file(&self, dir: &Path) -> Option<PathBuf> {
        match &self.overrides.config {
            ConfigChoice::Nearest => {}
            ConfigChoice::File(file) => return Some(absolute(&self.cwd, file)),
            ConfigChoice::Isolated => return None,
        }
        // The directories below the nearest one remembered, then the look at each of them
        // (the lock is not held while the file system is asked: other threads walk too).
        let (unresolved, known): (Vec<&Path>, Option<PathBuf>) = {
            let governing = self
                .governing
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let mut unresolved = Vec::new();
            let mut known = None;
            for ancestor in dir.ancestors() {
                if let Some(file) = governing.get(ancestor.as_os_str()) {
                    known = file.clone();
                    break;
                }
                unresolved.push(ancestor);
            }
            (unresolved, known)
        };
        let mut looked_at = unresolved.len();
        let mut found = known;
        for (at, ancestor) in unresolved.iter().enumerate() {
            if let Some(file) = FILE_NAMES
                .iter()
                .map(|name| ancestor.join(name))
                .find(|candidate| candidate.is_file())
            {
                (found, looked_at) = (Some(file), at + 1);
                break;
            }
            if ancestor.join(".git").exists() {
                (found, looked_at) = (None, at + 1);
                break;
            }
        }
        let mut governing = self
            .governing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // A bounded cache: a tree of many directories is walked in order, so the directories
        // met lately are those met next; memory stays the same however many there are.
        if governing.len() + looked_at > GOVERNING_CACHE {
            governing.clear();
        }
        for directory in &unresolved[..looked_at] {
            governing.insert(directory.as_os_str().to_owned(), found.clone());
        }
        found
    }

    fn load(&self, file: Option<&Path>) -> Loaded {
        let config = Config::load(&self.overrides, file)?;
        let lint = self.lint_options(&config);
        let threshold = if config.unsafe_fixes.value || self.overrides.offer_unsafe {
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
        if config.pin.value == PinMode::None && !ignore.iter().any(|rule| rule == "floating-tag") {
            ignore.push("floating-tag".to_string());
        }
        LintOptions {
            rules: RuleOptions {
                user: config.user.value.clone(),
                numeric_user: config.numeric_user.value,
                uid: config.uid.value,
                all_images: config.all_images.value,
                chown: self.overrides.chown,
                port_map: config.port_map.value.clone(),
                pin: match config.pin.value {
                    PinMode::Major => Pin::Major,
                    PinMode::Minor => Pin::Minor,
                    PinMode::Exact | PinMode::None => Pin::Exact,
                    PinMode::Digest => Pin::Digest,
                },
                releases: self.releases.clone(),
                digests: None,
                deployment: None,
                today: Some(self.today.clone()),
            },
            selection: RuleSelection {
                select: config.select.value.clone(),
                ignore,
            },
            // Only `pin = digest` creates the resolver: no other run touches the network.
            registry: (config.pin.value == PinMode::Digest).then(|| {
                self.registry
                    .get_or_init(|| {
                        Arc::new(RegistryResolver::new(
                            self.overrides.registry.clone(),
                            self.overrides
                                .network_timeout
                                .unwrap_or(crate::sources::registry::DEFAULT_TIMEOUT),
                        ))
                    })
                    .clone()
            }),
            surroundings: Default::default(),
            roots: self.roots.clone(),
        }
    }
}

/// The configuration files (`unroot.toml`, `.unroot.toml`) below `root`, in the directories a
/// walk of `root` goes through (`root`'s own are left out), sorted: for `--show-config`.
pub fn nested_configurations(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = WalkBuilder::new(root)
        .follow_links(false)
        // Hidden directories are skipped as in the walk for Dockerfiles; `.unroot.toml` is not.
        .hidden(false)
        .filter_entry(|entry| {
            entry.depth() == 0
                || !entry.file_type().is_some_and(|t| t.is_dir())
                || !entry.file_name().to_string_lossy().starts_with('.')
        })
        .build()
        .flatten()
        .filter(|entry| entry.depth() > 1 && entry.file_type().is_some_and(|t| t.is_file()))
        .filter(|entry| FILE_NAMES.iter().any(|name| entry.file_name() == *name))
        .map(ignore::DirEntry::into_path)
        .collect();
    found.sort();
    found
}
