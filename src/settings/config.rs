//! The configuration file: `unroot.toml` or `.unroot.toml`; its keys mirror the command-line
//! flags, and the [`Overrides`] (the flags) win. Which file governs which Dockerfile is the
//! resolver's business: the nearest one at or above the Dockerfile's directory, up to the
//! repository root.

use std::fmt;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Deserialize;
use toml::Spanned;

use super::values::{
    check_port_map, check_user_uid, parse_port_pair, parse_uid, parse_user, PinMode, DEFAULT_BRANCH,
};
use super::Overrides;
use crate::fs::paths::{absolute, shown_path};
use crate::rules::find_rule;

/// The names looked for in each directory, in this order.
pub const FILE_NAMES: [&str; 2] = ["unroot.toml", ".unroot.toml"];

/// The keys of the file, as written; every one is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    select: Option<Spanned<Vec<String>>>,
    ignore: Option<Spanned<Vec<String>>>,
    unsafe_fixes: Option<Spanned<bool>>,
    user: Option<Spanned<String>>,
    numeric_user: Option<Spanned<bool>>,
    uid: Option<Spanned<i64>>,
    pin: Option<Spanned<String>>,
    port_map: Option<Spanned<toml::Value>>,
    all_images: Option<Spanned<bool>>,
    exclude: Option<Spanned<Vec<String>>>,
    branch: Option<Spanned<String>>,
    commit_template: Option<Spanned<String>>,
}

/// `port-map = { 80 = 3000 }` or `port-map = ["80:3000"]`, as `FROM:TO` pairs; the error
/// says what is wrong in the user's terms.
fn port_map_pairs(value: &toml::Value) -> Result<Vec<String>, String> {
    const SHAPE: &str = "expected a table like `{ 80 = 3000 }` or a list like `[\"80:3000\"]`";
    match value {
        toml::Value::Table(table) => {
            // In port order, not the table's (alphabetical) key order.
            let mut entries: Vec<_> = table.iter().collect();
            entries.sort_by_key(|(from, _)| (from.parse::<u32>().unwrap_or(u32::MAX), *from));
            entries
                .into_iter()
                .map(|(from, to)| match to {
                    toml::Value::Integer(to) => Ok(format!("{from}:{to}")),
                    other => Err(format!("`{from} = {other}`: the new port must be a number")),
                })
                .collect()
        }
        toml::Value::Array(list) => list
            .iter()
            .map(|pair| match pair {
                toml::Value::String(pair) => Ok(pair.clone()),
                other => Err(format!("`{other}`: {SHAPE}")),
            })
            .collect(),
        other => Err(format!("`{other}`: {SHAPE}")),
    }
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Default,
    /// The configuration file (as shown) and the line of the value.
    File(String, usize),
    CommandLine,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path, line) => write!(f, "{path}:{line}"),
            Source::CommandLine => f.write_str("command line"),
        }
    }
}

/// A value and where it came from.
#[derive(Clone, Debug)]
pub struct Setting<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Setting<T> {
    fn default(value: T) -> Setting<T> {
        Setting {
            value,
            source: Source::Default,
        }
    }
}

/// The configuration in effect for a run: the file's values with the flags applied over them.
#[derive(Debug)]
pub struct Config {
    /// The configuration file, as shown in messages, if one was found.
    pub file: Option<String>,
    pub select: Setting<Vec<String>>,
    pub ignore: Setting<Vec<String>>,
    pub unsafe_fixes: Setting<bool>,
    pub user: Setting<Option<String>>,
    pub numeric_user: Setting<bool>,
    /// The uid (and gid) of the user the fixes run the app as: USER, `--chown`, a created
    /// account, Compose `user:`, Kubernetes `runAsUser`/`runAsGroup`.
    pub uid: Setting<Option<u32>>,
    pub pin: Setting<PinMode>,
    pub port_map: Setting<Vec<(u16, u16)>>,
    pub all_images: Setting<bool>,
    pub exclude: Setting<Vec<String>>,
    /// The branch `--branch` commits to when it is given without a NAME.
    pub branch: Setting<String>,
    /// The commit message template for `--branch` (resolved against the file's directory).
    pub commit_template: Setting<Option<PathBuf>>,
    /// `exclude`, compiled against the configuration file's directory.
    excluder: Option<(PathBuf, Gitignore)>,
}

impl Config {
    /// Reads the configuration file at `file` (absolute; `None`: the defaults), then applies
    /// the `overrides`. The error is the message to print (naming the file).
    pub fn load(overrides: &Overrides, file: Option<&Path>) -> Result<Config, String> {
        let mut config = Config::defaults();
        if let Some(file) = file {
            config.read(file)?;
        }
        config.apply(overrides);
        check_user_uid(config.user.value.as_deref(), config.uid.value).map_err(|message| {
            let at = |source: &Source| match source {
                Source::CommandLine => "the command line".to_string(),
                other => other.to_string(),
            };
            format!(
                "error: {message} ({} from {}, {} from {})",
                "user",
                at(&config.user.source),
                "uid",
                at(&config.uid.source)
            )
        })?;
        Ok(config)
    }

    fn defaults() -> Config {
        Config {
            file: None,
            select: Setting::default(Vec::new()),
            ignore: Setting::default(Vec::new()),
            unsafe_fixes: Setting::default(false),
            user: Setting::default(None),
            numeric_user: Setting::default(false),
            uid: Setting::default(None),
            pin: Setting::default(PinMode::Exact),
            port_map: Setting::default(Vec::new()),
            all_images: Setting::default(false),
            exclude: Setting::default(Vec::new()),
            branch: Setting::default(DEFAULT_BRANCH.to_string()),
            commit_template: Setting::default(None),
            excluder: None,
        }
    }

    /// Reads the file at `path` (absolute) over the defaults.
    fn read(&mut self, path: &Path) -> Result<(), String> {
        let shown = shown_path(path);
        let text = std::fs::read_to_string(path).map_err(|err| format!("{shown}: {err}"))?;
        let raw: RawConfig = toml::from_str(&text).map_err(|err| {
            let line = err.span().map(|span| line_of(&text, span.start));
            describe_error(&shown, line, err.message())
        })?;
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let at = |start: usize| Source::File(shown.clone(), line_of(&text, start));
        let error =
            |start: usize, message: String| format!("{shown}:{}: {message}", line_of(&text, start));

        for (key, list, target) in [
            ("select", raw.select, &mut self.select),
            ("ignore", raw.ignore, &mut self.ignore),
        ] {
            if let Some(list) = list {
                if let Some(unknown) = list.get_ref().iter().find(|name| find_rule(name).is_none())
                {
                    return Err(error(
                        list.span().start,
                        format!("`{key}`: unknown rule `{unknown}` (see --list-rules)"),
                    ));
                }
                *target = Setting {
                    source: at(list.span().start),
                    value: list.into_inner(),
                };
            }
        }
        for (value, target) in [
            (raw.unsafe_fixes, &mut self.unsafe_fixes),
            (raw.numeric_user, &mut self.numeric_user),
            (raw.all_images, &mut self.all_images),
        ] {
            if let Some(value) = value {
                *target = Setting {
                    source: at(value.span().start),
                    value: value.into_inner(),
                };
            }
        }
        if let Some(user) = raw.user {
            let value = parse_user(user.get_ref())
                .map_err(|message| error(user.span().start, format!("`user`: {message}")))?;
            self.user = Setting {
                value: Some(value),
                source: at(user.span().start),
            };
        }
        if let Some(uid) = raw.uid {
            let value = parse_uid(&uid.get_ref().to_string())
                .map_err(|message| error(uid.span().start, format!("`uid`: {message}")))?;
            self.uid = Setting {
                value: Some(value),
                source: at(uid.span().start),
            };
        }
        if let Some(pin) = raw.pin {
            let value = PinMode::from_name(pin.get_ref()).ok_or_else(|| {
                error(
                    pin.span().start,
                    format!(
                        "`pin`: `{}` is not one of major, minor, exact, digest, none",
                        pin.get_ref()
                    ),
                )
            })?;
            self.pin = Setting {
                value,
                source: at(pin.span().start),
            };
        }
        if let Some(map) = raw.port_map {
            let start = map.span().start;
            let pairs = port_map_pairs(map.get_ref())
                .map_err(|message| error(start, format!("`port-map`: {message}")))?;
            let value = pairs
                .iter()
                .map(|pair| parse_port_pair(pair))
                .collect::<Result<Vec<_>, _>>()
                .and_then(|pairs| check_port_map(&pairs).map(|()| pairs))
                .map_err(|message| error(start, format!("`port-map`: {message}")))?;
            self.port_map = Setting {
                value,
                source: at(start),
            };
        }
        if let Some(exclude) = raw.exclude {
            let mut builder = GitignoreBuilder::new(&dir);
            for glob in exclude.get_ref() {
                builder
                    .add_line(None, glob)
                    .map_err(|err| error(exclude.span().start, format!("`exclude`: {err}")))?;
            }
            let matcher = builder
                .build()
                .map_err(|err| error(exclude.span().start, format!("`exclude`: {err}")))?;
            self.excluder = Some((dir.clone(), matcher));
            self.exclude = Setting {
                source: at(exclude.span().start),
                value: exclude.into_inner(),
            };
        }
        if let Some(branch) = raw.branch {
            self.branch = Setting {
                source: at(branch.span().start),
                value: branch.into_inner(),
            };
        }
        if let Some(template) = raw.commit_template {
            // A repository's configuration names a file of that repository: `--branch` reads
            // it from the commit it fixes. Only the command line may name any file.
            let written = Path::new(template.get_ref());
            if written.is_absolute() || written.has_root() {
                return Err(error(
                    template.span().start,
                    format!(
                        "`commit-template`: `{}` is an absolute path; a configuration file names \
                        a file of its repository, relative to the configuration file's \
                        directory (any file may be named with --commit-template)",
                        template.get_ref()
                    ),
                ));
            }
            self.commit_template = Setting {
                source: at(template.span().start),
                value: Some(absolute(&dir, written)),
            };
        }
        self.file = Some(shown);
        Ok(())
    }

    /// The overrides (the command line's flags) win.
    fn apply(&mut self, overrides: &Overrides) {
        fn set<T: Clone>(target: &mut Setting<T>, value: &Option<T>) {
            if let Some(value) = value {
                *target = Setting {
                    value: value.clone(),
                    source: Source::CommandLine,
                };
            }
        }
        set(&mut self.select, &overrides.select);
        set(&mut self.ignore, &overrides.ignore);
        set(&mut self.unsafe_fixes, &overrides.unsafe_fixes);
        set(&mut self.user, &overrides.user.clone().map(Some));
        set(&mut self.numeric_user, &overrides.numeric_user);
        set(&mut self.uid, &overrides.uid.map(Some));
        set(&mut self.pin, &overrides.pin);
        set(&mut self.port_map, &overrides.port_map);
        set(&mut self.all_images, &overrides.all_images);
        set(&mut self.branch, &overrides.branch);
        set(
            &mut self.commit_template,
            &overrides.commit_template.clone().map(Some),
        );
    }

    /// Why the directory walk skips `file` (absolute), if it does: the `exclude` pattern that matches it
    /// and where it is written (`` `exclude` pattern `ci/` (unroot.toml:3) ``).
    pub fn exclusion(&self, file: &Path) -> Option<String> {
        let (dir, matcher) = self.excluder.as_ref()?;
        let relative = file.strip_prefix(dir).ok()?;
        match matcher.matched_path_or_any_parents(relative, false) {
            ignore::Match::Ignore(glob) => Some(format!(
                "`exclude` pattern `{}` ({})",
                glob.original(),
                self.exclude.source
            )),
            _ => None,
        }
    }

    /// `--show-config`: the effective configuration as TOML, each value with where it came from.
    pub fn render(&self) -> String {
        let mut out = match &self.file {
            Some(file) => format!("# configuration file: {file}\n"),
            None => "# configuration file: none found\n".to_string(),
        };
        let list = |items: &[String]| {
            let quoted: Vec<String> = items.iter().map(|item| quote(item)).collect();
            format!("[{}]", quoted.join(", "))
        };
        let mut line = |key: &str, value: Option<String>, source: &Source| {
            match value {
                Some(value) => out.push_str(&format!("{key} = {value}  # {source}\n")),
                None => out.push_str(&format!("# {key} is not set  # {source}\n")),
            };
        };
        line(
            "select",
            Some(list(&self.select.value)),
            &self.select.source,
        );
        line(
            "ignore",
            Some(list(&self.ignore.value)),
            &self.ignore.source,
        );
        line(
            "unsafe-fixes",
            Some(self.unsafe_fixes.value.to_string()),
            &self.unsafe_fixes.source,
        );
        line(
            "user",
            self.user.value.as_deref().map(quote),
            &self.user.source,
        );
        line(
            "numeric-user",
            Some(self.numeric_user.value.to_string()),
            &self.numeric_user.source,
        );
        line(
            "uid",
            self.uid.value.map(|uid| uid.to_string()),
            &self.uid.source,
        );
        line("pin", Some(quote(self.pin.value.name())), &self.pin.source);
        let ports: Vec<String> = self
            .port_map
            .value
            .iter()
            .map(|(from, to)| format!("{from}:{to}"))
            .collect();
        line("port-map", Some(list(&ports)), &self.port_map.source);
        line(
            "all-images",
            Some(self.all_images.value.to_string()),
            &self.all_images.source,
        );
        line(
            "exclude",
            Some(list(&self.exclude.value)),
            &self.exclude.source,
        );
        line(
            "branch",
            Some(quote(&self.branch.value)),
            &self.branch.source,
        );
        line(
            "commit-template",
            self.commit_template
                .value
                .as_deref()
                .map(|path| quote(&shown_path(path))),
            &self.commit_template.source,
        );
        out
    }
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// A TOML or serde error as `path: message`; an unknown key is named as such.
fn describe_error(shown: &str, line: Option<usize>, message: &str) -> String {
    let at = line
        .map(|line| format!(" (line {line})"))
        .unwrap_or_default();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((key, _)) = rest.split_once('`') {
            return format!(
                "{shown}: unknown key `{key}`{at}; the keys are {}",
                KEYS.join(", ")
            );
        }
    }
    format!(
        "{shown}{}: {}",
        line.map(|l| format!(":{l}")).unwrap_or_default(),
        message.trim()
    )
}

/// Every key the file may hold.
pub const KEYS: [&str; 12] = [
    "select",
    "ignore",
    "unsafe-fixes",
    "user",
    "numeric-user",
    "uid",
    "pin",
    "port-map",
    "all-images",
    "exclude",
    "branch",
    "commit-template",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named() {
        let err = toml::from_str::<RawConfig>("select = []\ncolour = 1\n").unwrap_err();
        let text = "select = []\ncolour = 1\n";
        let line = err.span().map(|span| line_of(text, span.start));
        let message = describe_error("unroot.toml", line, err.message());
        assert!(
            message.starts_with("unroot.toml: unknown key `colour` (line 2)"),
            "{message}"
        );
    }

    #[test]
    fn port_map_is_a_table_or_a_list() {
        let pairs = |text: &str| {
            let raw: RawConfig = toml::from_str(text).unwrap();
            port_map_pairs(raw.port_map.unwrap().get_ref())
        };
        assert_eq!(pairs("port-map = { 80 = 3000 }").unwrap(), ["80:3000"]);
        assert_eq!(pairs("port-map = [\"80:4000\"]").unwrap(), ["80:4000"]);
        assert!(pairs("port-map = { 80 = \"x\" }")
            .unwrap_err()
            .contains("must be a number"));
        assert!(pairs("port-map = 80")
            .unwrap_err()
            .contains("expected a table"));
    }
}
