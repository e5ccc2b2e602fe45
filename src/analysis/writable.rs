//! What the app of a stage writes at run time, as far as the Dockerfile says: `VOLUME`s,
//! directories a `RUN mkdir` makes, data paths in ENV values (`DATA_DIR`, `LOG_PATH`,
//! `DATABASE_URL=file:…`, SQLite files), the Next.js cache, npm's cache when npm starts the
//! app. And where the Dockerfile does not say: a CMD/ENTRYPOINT script unroot has not read,
//! a data path it cannot resolve.

use std::collections::HashMap;

use super::surroundings::Script;
use super::{run_text, unquote, vars, Analysis, Stage, Variables};
use crate::syntax::{Dockerfile, Instruction, Keyword};

/// The paths the app writes, and what unroot cannot tell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Writable {
    pub paths: Vec<WritablePath>,
    /// Why the list may be incomplete, one sentence part each (names the path or script).
    pub unknown: Vec<String>,
}

/// A directory the app writes into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WritablePath {
    /// Absolute, normalised (`/app/data`).
    pub path: String,
    /// Why it is written: `` `VOLUME` ``, `` `ENV DATA_DIR` ``, `the Next.js cache`.
    pub reason: String,
    /// It holds data only, so its contents may be given too (`chown -R`); false for a
    /// directory that holds code (the WORKDIR): only the directory itself.
    pub recursive: bool,
    /// The first `VOLUME` that declares it: its ownership must change before that line.
    pub volume: Option<usize>,
    /// A COPY/ADD (without `--chown`) whose destination is exactly this path.
    pub copy: Option<usize>,
    /// A `--chown` COPY or a `chown` in a RUN already gives it to a non-root owner.
    pub owned: bool,
}

/// Directories too wide to give to the app user: a path equal to one of them is not given.
const SYSTEM_DIRS: &[&str] = &[
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib64",
    "/media",
    "/mnt",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/usr",
    "/usr/bin",
    "/usr/lib",
    "/usr/local",
    "/usr/local/bin",
    "/usr/local/lib",
    "/usr/share",
    "/usr/src",
    "/var",
    "/var/lib",
    "/var/log",
    "/var/cache",
];
/// Everyone may write here already.
const WORLD_WRITABLE: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];
/// `mkdir` under these makes tooling directories, not the app's.
const TOOLING_PREFIXES: &[&str] = &[
    "/usr/",
    "/etc/",
    "/bin/",
    "/sbin/",
    "/lib/",
    "/lib64/",
    "/root/",
    "/proc/",
    "/sys/",
    "/dev/",
    "/boot/",
    "/var/lib/apt/",
    "/var/cache/apt/",
    "/var/lib/dpkg/",
];
/// Words in a variable name that say it names the app's data.
const DATA_WORDS: &[&str] = &[
    "DATA",
    "DB",
    "DATABASE",
    "SQLITE",
    "STORAGE",
    "STORE",
    "UPLOAD",
    "UPLOADS",
    "LOG",
    "LOGS",
    "CACHE",
    "TMP",
    "TEMP",
    "SESSION",
    "SESSIONS",
    "PID",
    "STATE",
    "MEDIA",
    "FILES",
    "BACKUP",
    "BACKUPS",
    "OUTPUT",
    "CONTENT",
    "ATTACHMENTS",
];
/// Words in a variable name that say it names code or tooling.
const CODE_WORDS: &[&str] = &[
    "APP",
    "SRC",
    "SOURCE",
    "BUILD",
    "DIST",
    "BIN",
    "LIB",
    "NODE",
    "MODULES",
    "PUBLIC",
    "STATIC",
    "INSTALL",
    "HOME",
    "BASE",
    "ROOT",
    "WWW",
    "WEB",
    "CERT",
    "CERTS",
    "CA",
    "KEY",
    "SSL",
    "TLS",
    "SCRIPT",
    "SCRIPTS",
    "PREFIX",
    "NPM",
    "YARN",
    "PNPM",
    "GLOBAL",
    "PLUGIN",
    "PLUGINS",
    "TEMPLATE",
    "TEMPLATES",
    "VIEWS",
    "ASSETS",
    "CONFIG",
];
/// Programs a CMD/ENTRYPOINT runs that are not scripts of the app's own.
const PROGRAMS: &[&str] = &[
    "node",
    "nodejs",
    "npm",
    "npx",
    "yarn",
    "pnpm",
    "pm2",
    "pm2-runtime",
    "next",
    "tini",
    "dumb-init",
    "env",
    "exec",
    "--",
    "nginx",
    "deno",
    "bun",
    "corepack",
];
/// Shells whose `-c` string is the command.
const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "ash",
    "dash",
    "/bin/sh",
    "/bin/bash",
    "/bin/ash",
];
/// Variables that name npm's, yarn's or the XDG cache.
const CACHE_VARIABLES: &[&str] = &[
    "NPM_CONFIG_CACHE",
    "npm_config_cache",
    "YARN_CACHE_FOLDER",
    "XDG_CACHE_HOME",
];

/// A COPY/ADD of the stage chain.
struct Copied {
    instruction: usize,
    destination: String,
    /// The file names of its sources (`start.sh` of `scripts/start.sh`).
    sources: Vec<String>,
    chown: bool,
}

/// A path found written, before it is judged.
struct Found {
    path: String,
    reason: String,
    volume: Option<usize>,
}

/// How a data variable's value is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PathKind {
    /// `*_DIR`, `*_FOLDER`: a directory.
    Dir,
    /// `*_PATH`, `*_FILE`: a file when its name has an extension, else a directory.
    DirOrFile,
}

/// What the app of `stage` writes at run time (the stage and the stages it is built from).
/// `scripts`: the CMD/ENTRYPOINT scripts read from the build context; one that writes makes
/// the list unknown, one that was not read too.
pub fn writable_paths(
    file: &Dockerfile,
    analysis: &Analysis,
    stage: &Stage,
    scripts: &[Script],
) -> Writable {
    let mut walk = Walk {
        workdir: "/".to_string(),
        scripts: scripts
            .iter()
            .map(|script| (script.image_path.clone(), script_writes(&script.commands())))
            .collect(),
        ..Walk::default()
    };
    let mut variables = Variables::new(&analysis.global_args, file.escape);
    for ancestor in analysis.chain(stage) {
        variables.enter_stage(ancestor);
        for index in ancestor.from + 1..ancestor.end {
            walk.read(file, index, &variables);
            variables.read(&file.instructions[index]);
        }
    }
    walk.finish(file)
}

#[derive(Default)]
struct Walk {
    /// Scripts read from the build context: where the image has each, and the commands in
    /// it that write (empty: it writes nothing unroot can see).
    scripts: Vec<(String, Vec<String>)>,
    workdir: String,
    /// Every WORKDIR the walk passed (code lives there).
    workdirs: Vec<String>,
    copies: Vec<Copied>,
    /// Paths a RUN gives to a non-root owner (`chown`, `install -o`), and whether with `-R`.
    chowned: Vec<(String, bool)>,
    found: Vec<Found>,
    /// Made by `RUN mkdir`, judged at the end (a directory code is copied into is not data).
    made: Vec<String>,
    /// The last value of each variable that may name a written path (`None`: unresolved).
    env: HashMap<String, Option<String>>,
    /// The last CMD and ENTRYPOINT.
    cmd: Option<usize>,
    entrypoint: Option<usize>,
    next_js: bool,
    unknown: Vec<String>,
}

impl Walk {
    fn read(&mut self, file: &Dockerfile, index: usize, variables: &Variables) {
        let instruction = &file.instructions[index];
        let resolve = |text: &str| vars::substitute(&unquote(text), variables);
        match instruction.kind {
            Keyword::Workdir => {
                if let Some(path) = instruction.args.first().and_then(|a| resolve(&a.value)) {
                    self.workdir = join(&self.workdir, &path);
                    self.workdirs.push(self.workdir.clone());
                }
            }
            Keyword::Volume => {
                for arg in &instruction.args {
                    let Some(paths) = resolve(&arg.value) else {
                        self.unknown.push(format!(
                            "`VOLUME {}` names a directory unroot cannot resolve",
                            arg.value
                        ));
                        continue;
                    };
                    for path in paths.split_whitespace() {
                        self.found.push(Found {
                            path: join(&self.workdir, path),
                            reason: "`VOLUME`".to_string(),
                            volume: Some(index),
                        });
                    }
                }
            }
            Keyword::Copy | Keyword::Add => {
                if let Some(destination) = instruction.args.last().and_then(|a| resolve(&a.value)) {
                    self.copies.push(Copied {
                        instruction: index,
                        destination: join(&self.workdir, &destination),
                        sources: instruction.args[..instruction.args.len() - 1]
                            .iter()
                            .map(|a| {
                                let name = a.value.trim_end_matches('/');
                                name.rsplit('/').next().unwrap_or(name).to_string()
                            })
                            .collect(),
                        chown: instruction
                            .flag("chown")
                            .is_some_and(|owner| !super::is_root_user(owner)),
                    });
                }
                if instruction.args.iter().any(|a| a.value.contains(".next")) {
                    self.next_js = true;
                }
            }
            Keyword::Run => self.read_run(instruction, variables),
            Keyword::Env => {
                for pair in &instruction.pairs {
                    let name = pair.key.value.as_str();
                    let value = pair.value.as_ref().map_or("", |v| v.value.as_str());
                    let wanted = name == "HOME"
                        || CACHE_VARIABLES.contains(&name)
                        || data_variable(name).is_some()
                        || sqlite_file(&unquote(value)).is_some();
                    if wanted {
                        // A relative value is read from where the app runs (the last WORKDIR).
                        let resolved = resolve(value);
                        self.env.insert(name.to_string(), resolved);
                    }
                }
            }
            Keyword::Cmd => self.cmd = Some(index),
            Keyword::Entrypoint => self.entrypoint = Some(index),
            _ => {}
        }
    }

    fn read_run(&mut self, run: &Instruction, variables: &Variables) {
        let resolve = |word: &str| {
            unquote(&vars::substitute(word, variables).unwrap_or_else(|| word.to_string()))
        };
        let script = run_text(run);
        for command in script.split(COMMAND_SEPARATORS) {
            // Only these programs are read on: the other commands' words are left unresolved.
            let mut command = words_of(command).peekable();
            let Some(program) = command.peek().map(|word| resolve(word)) else {
                continue;
            };
            if !matches!(program.as_str(), "mkdir" | "chown" | "install") {
                continue;
            }
            let words: Vec<String> = command.map(resolve).collect();
            let operands = || words[1..].iter().filter(|w| !w.starts_with('-'));
            match program.as_str() {
                "mkdir" => {
                    let mode = words
                        .windows(2)
                        .find(|pair| pair[0] == "-m")
                        .map(|pair| pair[1].as_str());
                    for word in operands().filter(|w| Some(w.as_str()) != mode) {
                        if !word.contains(['$', '`', '(', '{', '*']) {
                            self.made.push(join(&self.workdir, word));
                        }
                    }
                }
                "chown" => {
                    let recursive = words.iter().any(|w| w == "-R" || w == "--recursive");
                    let mut rest = operands();
                    if rest.next().is_some_and(|owner| !super::is_root_user(owner)) {
                        for path in rest {
                            self.chowned.push((join(&self.workdir, path), recursive));
                        }
                    }
                }
                "install" if words.iter().any(|w| w == "-d") => {
                    let owner = words
                        .windows(2)
                        .find(|pair| pair[0] == "-o")
                        .map(|pair| pair[1].as_str());
                    if owner.is_some_and(|owner| !super::is_root_user(owner)) {
                        let mut skip = false;
                        for word in &words[1..] {
                            if skip {
                                skip = false;
                            } else if matches!(word.as_str(), "-o" | "-g" | "-m") {
                                skip = true;
                            } else if !word.starts_with('-') {
                                self.chowned.push((join(&self.workdir, word), false));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn finish(mut self, file: &Dockerfile) -> Writable {
        let workdir = self.workdir.clone();
        // A directory holds code when it is a WORKDIR or has one in it, or when a COPY/ADD
        // puts something inside it (one whose destination is the directory itself may be
        // seeding data: the other evidence decides).
        let workdirs = self.workdirs.clone();
        let destinations: Vec<String> = self.copies.iter().map(|c| c.destination.clone()).collect();
        let holds_code = |path: &str| {
            workdirs.iter().any(|w| w == path || is_under(path, w))
                || destinations.iter().any(|d| is_under(path, d))
        };
        // A `RUN mkdir` of a directory code is then copied into makes a code directory.
        let code_target = |path: &str| holds_code(path) || destinations.iter().any(|d| d == path);
        for path in std::mem::take(&mut self.made) {
            if TOOLING_PREFIXES.iter().any(|p| path.starts_with(p))
                || SYSTEM_DIRS.contains(&path.as_str())
                || code_target(&path)
            {
                continue;
            }
            self.found.push(Found {
                path,
                reason: "made by `RUN mkdir`".to_string(),
                volume: None,
            });
        }
        let package_manager = self.read_command(file);
        self.read_env(&workdir, package_manager);
        if self.next_js {
            self.found.push(Found {
                path: join(&workdir, ".next/cache"),
                reason: "the Next.js cache".to_string(),
                volume: None,
            });
        }

        let mut paths: Vec<WritablePath> = Vec::new();
        for found in std::mem::take(&mut self.found) {
            let Found {
                path,
                reason,
                volume,
            } = found;
            if WORLD_WRITABLE.contains(&path.as_str()) {
                continue;
            }
            if SYSTEM_DIRS.contains(&path.as_str()) {
                self.unknown.push(format!(
                    "the app writes `{path}` ({reason}), a system directory unroot does not give away"
                ));
                continue;
            }
            if let Some(existing) = paths.iter_mut().find(|p| p.path == path) {
                existing.volume = existing.volume.or(volume);
                continue;
            }
            let recursive = !holds_code(&path);
            // `--chown` on a COPY gives everything it copies: only for a data directory.
            let copy = self
                .copies
                .iter()
                .rev()
                .find(|c| c.destination == path)
                .filter(|c| !c.chown && recursive)
                .map(|c| c.instruction);
            let owned =
                self.chowned
                    .iter()
                    .any(|(given, deep)| *given == path || (*deep && is_under(given, &path)))
                    || self.copies.iter().any(|c| {
                        c.chown && (c.destination == path || is_under(&c.destination, &path))
                    });
            paths.push(WritablePath {
                recursive,
                path,
                reason,
                volume,
                copy,
                owned,
            });
        }
        Writable {
            paths,
            unknown: self.unknown,
        }
    }

    /// Reads the CMD/ENTRYPOINT: a script unroot has not read makes the list unknown.
    /// Whether a package manager (npm, npx, yarn, pnpm) starts the app.
    fn read_command(&mut self, file: &Dockerfile) -> bool {
        let mut words: Vec<String> = Vec::new();
        let entrypoint = self.entrypoint.map(|i| &file.instructions[i]);
        if let Some(entrypoint) = entrypoint {
            words.extend(command_words(entrypoint));
        }
        // A shell-form ENTRYPOINT ignores CMD.
        if entrypoint.is_none_or(|e| e.json) {
            if let Some(cmd) = self.cmd.map(|i| &file.instructions[i]) {
                words.extend(command_words(cmd));
            }
        }
        let package_manager = false;
        let mut rest = words.as_slice();
        while let Some((word, tail)) = rest.split_first() {
            rest = tail;
            let program = word.rsplit('/').next().unwrap_or(word);
            if word.starts_with('-') || word.contains('=') && !word.starts_with('/') {
                // A wrapper's option (`tini -g`), or `env NAME=value`.
                continue;
            }
            if SHELLS.contains(&word.as_str()) {
                if let Some(script) = tail.iter().position(|w| w == "-c") {
                    let inner = tail.get(script + 1).cloned().unwrap_or_default();
                    let inner_words: Vec<String> = commands(&inner)
                        .into_iter()
                        .flat_map(|c| c.into_iter().map(unquote))
                        .collect();
                    return self.judge_program(&inner_words, package_manager);
                }
                // `sh script.sh`: the script.
                continue;
            }
            if matches!(program, "tini" | "dumb-init" | "env" | "exec" | "--") {
                continue;
            }
            return self.judge_program(&rest_with(word, tail), package_manager);
        }
        package_manager
    }

    /// `words[0]` is the program the container runs.
    fn judge_program(&mut self, words: &[String], mut package_manager: bool) -> bool {
        let Some(word) = words.first() else {
            return package_manager;
        };
        let program = word.rsplit('/').next().unwrap_or(word);
        if matches!(program, "npm" | "npx" | "yarn" | "pnpm") {
            package_manager = true;
        }
        // A `.js` file is the app itself (distroless runs `node` with it).
        let javascript = [".js", ".mjs", ".cjs", ".ts"]
            .iter()
            .any(|ext| program.ends_with(ext));
        let copied = !PROGRAMS.contains(&program)
            && !javascript
            && self.copies.iter().any(|c| {
                c.destination.ends_with(&format!("/{program}"))
                    || c.sources.iter().any(|source| source == program)
            });
        // A path into the app (relative, or where the file copies things), not a tool the
        // base image or a package manager installed.
        let path_like = !PROGRAMS.contains(&program)
            && !javascript
            && (word.starts_with("./")
                || word.starts_with('/')
                    && self
                        .copies
                        .iter()
                        .any(|c| c.destination == *word || is_under(&c.destination, word)));
        // The official node images' own entrypoint only execs its arguments.
        let base_entrypoint = program == "docker-entrypoint.sh" && !copied;
        let script = copied || (!base_entrypoint && (program.ends_with(".sh") || path_like));
        let read = self.scripts.iter().find(|(image_path, _)| {
            image_path == word || image_path.rsplit('/').next() == Some(program)
        });
        match read {
            Some((_, writes)) if writes.is_empty() => {}
            Some((image_path, writes)) => self.unknown.push(format!(
                "the container runs `{image_path}`, which writes at start (`{}`): give what it writes to the user",
                writes.join("`, `")
            )),
            None if script => self.unknown.push(format!(
                "the container runs `{word}`, which unroot has not read: what it writes is unknown"
            )),
            None => {}
        }
        package_manager
    }

    /// Data paths, SQLite files and caches in ENV values.
    fn read_env(&mut self, workdir: &str, package_manager: bool) {
        let mut names: Vec<&String> = self.env.keys().collect();
        names.sort();
        for name in names {
            let Some(value) = &self.env[name] else {
                if name != "HOME" {
                    self.unknown
                        .push(format!("`ENV {name}` names a path unroot cannot resolve"));
                }
                continue;
            };
            let mut found = |path: String, reason: String| {
                self.found.push(Found {
                    path,
                    reason,
                    volume: None,
                })
            };
            if let Some(database) = sqlite_file(value) {
                let file = join(workdir, &database);
                found(
                    parent(&file),
                    format!("holds the SQLite database `{file}` of `ENV {name}`"),
                );
                continue;
            }
            if name == "HOME" {
                if package_manager && value.starts_with('/') {
                    found(
                        join(value, ".npm"),
                        "npm's cache under `ENV HOME`".to_string(),
                    );
                }
                continue;
            }
            if CACHE_VARIABLES.contains(&name.as_str()) {
                if package_manager && looks_like_path(value, PathKind::Dir) {
                    found(join(workdir, value), format!("`ENV {name}`"));
                }
                continue;
            }
            let Some(kind) = data_variable(name) else {
                continue;
            };
            if !looks_like_path(value, kind) {
                continue;
            }
            let path = join(workdir, value);
            if kind == PathKind::DirOrFile && has_extension(&path) {
                found(parent(&path), format!("holds `{path}` of `ENV {name}`"));
            } else {
                found(path, format!("`ENV {name}`"));
            }
        }
    }
}

fn rest_with(word: &str, tail: &[String]) -> Vec<String> {
    std::iter::once(word.to_string())
        .chain(tail.iter().cloned())
        .collect()
}

/// The words of a CMD/ENTRYPOINT (JSON elements, or the shell form's words unquoted).
fn command_words(instruction: &Instruction) -> Vec<String> {
    if instruction.json {
        instruction
            .args
            .iter()
            .map(|a| a.value.to_string())
            .collect()
    } else {
        instruction
            .shell_words
            .iter()
            .map(|w| unquote(&w.value))
            .collect()
    }
}

/// The command text of a RUN (shell form or JSON), heredoc bodies included.
/// The commands of a start script that write files: tools that change files
/// (`sed -i`, `touch`, `mkdir`, `cp`…) and output redirected to a file.
fn script_writes(commands: &[Vec<String>]) -> Vec<String> {
    const WRITERS: [&str; 11] = [
        "touch", "mkdir", "cp", "mv", "rm", "tee", "ln", "install", "truncate", "chmod", "chown",
    ];
    let mut writes = Vec::new();
    for command in commands {
        let Some(program) = command.first() else {
            continue;
        };
        let program = program.rsplit('/').next().unwrap_or(program);
        let in_place = program == "sed" && command.iter().any(|w| w.starts_with("-i"));
        let redirect = command.iter().any(|w| {
            w.contains('>')
                && !w.ends_with("&1")
                && !w.ends_with("&2")
                && !w.contains("/dev/null")
                && !w.contains("/dev/std")
        });
        if in_place || redirect || WRITERS.contains(&program) {
            let text = command.join(" ");
            let short: String = text.chars().take(60).collect();
            writes.push(if short.len() < text.len() {
                format!("{short}…")
            } else {
                short
            });
        }
    }
    writes
}

/// The simple commands of a shell script, split at `&&`, `||`, `;`, `|` and line ends, each
/// as its words (quotes kept; `sudo` and `set -x`-style prefixes are not removed).
fn commands(script: &str) -> Vec<Vec<&str>> {
    script
        .split(COMMAND_SEPARATORS)
        .map(|command| words_of(command).collect::<Vec<_>>())
        .filter(|words| !words.is_empty())
        .collect()
}

/// Where [`commands`] splits a script into commands.
const COMMAND_SEPARATORS: [char; 4] = ['&', ';', '|', '\n'];

/// The words of one command of [`commands`].
fn words_of(command: &str) -> impl Iterator<Item = &str> {
    command.split_whitespace().filter(|w| *w != "\\")
}

/// Whether the variable `name` names a written path, and how its value is read.
fn data_variable(name: &str) -> Option<PathKind> {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split('_').collect();
    let kind = match *words.last()? {
        "DIR" | "DIRECTORY" | "FOLDER" => PathKind::Dir,
        "PATH" | "FILE" => PathKind::DirOrFile,
        _ => return None,
    };
    if words.len() < 2 || upper == "NODE_PATH" {
        return None;
    }
    let data = words.iter().any(|w| DATA_WORDS.contains(w));
    let code = words.iter().any(|w| CODE_WORDS.contains(w));
    match kind {
        PathKind::Dir if data || !code => Some(kind),
        PathKind::DirOrFile if data => Some(kind),
        _ => None,
    }
}

/// The file a SQLite URL or file name in `value` names (`file:./dev.db`,
/// `sqlite:///data/app.db`, `/data/app.sqlite`).
fn sqlite_file(value: &str) -> Option<String> {
    let path = if let Some(rest) = value.strip_prefix("file:") {
        rest.trim_start_matches("//")
    } else if let Some(rest) = value
        .strip_prefix("sqlite:")
        .or_else(|| value.strip_prefix("sqlite3:"))
    {
        rest.strip_prefix("//").unwrap_or(rest)
    } else if [".db", ".sqlite", ".sqlite3"]
        .iter()
        .any(|ext| value.ends_with(ext))
        && looks_like_path(value, PathKind::DirOrFile)
    {
        value
    } else {
        return None;
    };
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && path != ":memory:").then(|| path.to_string())
}

/// A file system path rather than a URL, a list or a word of configuration.
fn looks_like_path(value: &str, kind: PathKind) -> bool {
    if value.is_empty() || value.contains([':', ' ', ',', '$', '*']) || value.contains("//") {
        return false;
    }
    value.starts_with('/')
        || value.starts_with("./")
        || value.starts_with("../")
        || (kind == PathKind::Dir || has_extension(value)) && value != "." && value != ".."
}

fn has_extension(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rfind('.')
        .is_some_and(|dot| dot > 0 && dot + 1 < name.len())
}

/// `path` resolved against `base` and normalised (`.`, `..`, repeated and trailing `/`).
fn join(base: &str, path: &str) -> String {
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{base}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in full.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(at) => path[..at].to_string(),
    }
}

/// `path` is strictly inside `dir`.
fn is_under(dir: &str, path: &str) -> bool {
    dir == "/" && path != "/"
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn writable(src: &str) -> Writable {
        let file = parse(src).unwrap();
        let analysis = Analysis::of(&file);
        writable_paths(&file, &analysis, analysis.final_stage().unwrap(), &[])
    }

    fn paths(src: &str) -> Vec<(String, bool)> {
        writable(src)
            .paths
            .into_iter()
            .map(|p| (p.path, p.recursive))
            .collect()
    }

    fn owned(list: &[(&str, bool)]) -> Vec<(String, bool)> {
        list.iter().map(|(p, r)| (p.to_string(), *r)).collect()
    }

    #[test]
    fn volumes_and_made_directories() {
        let found = writable(
            "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /data ./uploads /usr/share/man/man1 && mkdir -m 700 /data\nVOLUME /data\nCMD node s.js\n",
        );
        let got: Vec<(&str, Option<usize>)> = found
            .paths
            .iter()
            .map(|p| (p.path.as_str(), p.volume))
            .collect();
        assert_eq!(got, [("/data", Some(4)), ("/app/uploads", None)]);
        assert!(found.unknown.is_empty());
        // The directory the code is copied into is not data.
        assert_eq!(
            paths("FROM node:22\nRUN mkdir -p /usr/src/app\nWORKDIR /usr/src/app\nCOPY . .\nCMD node s.js\n"),
            []
        );
    }

    #[test]
    fn data_variables() {
        assert_eq!(
            paths("FROM node:22\nWORKDIR /app\nCOPY . .\nENV DATA_DIR=/var/lib/app LOG_PATH=logs/app.log APP_DIR=/app BASE_PATH=/docs PUBLIC_DIR=public\nCMD node s.js\n"),
            owned(&[("/var/lib/app", true), ("/app/logs", true)])
        );
        assert_eq!(
            paths("FROM node:22\nWORKDIR /app\nCOPY . .\nENV DATABASE_URL=file:./dev.db\nCMD node s.js\n"),
            owned(&[("/app", false)])
        );
        assert_eq!(
            paths("FROM node:22\nWORKDIR /app\nENV DATABASE_URL=postgres://db/app SQLITE_PATH=/data/app.sqlite\nCMD node s.js\n"),
            owned(&[("/data", true)])
        );
        let unresolved =
            writable("FROM node:22\nARG ROOT\nENV UPLOAD_DIR=${ROOT}/up\nCMD node s.js\n");
        assert!(unresolved.paths.is_empty());
        assert_eq!(
            unresolved.unknown,
            ["`ENV UPLOAD_DIR` names a path unroot cannot resolve"]
        );
    }

    #[test]
    fn copies_chowns_and_caches() {
        let found = writable(
            "FROM node:22 AS build\nWORKDIR /app\nRUN next build\nFROM node:22-slim\nWORKDIR /app\nCOPY --from=build /app/.next ./.next\nCOPY --from=build /app/data ./data\nENV DATA_DIR=data\nCMD npm start\n",
        );
        let got: Vec<(&str, Option<usize>)> = found
            .paths
            .iter()
            .map(|p| (p.path.as_str(), p.copy))
            .collect();
        assert_eq!(got, [("/app/data", Some(6)), ("/app/.next/cache", None)]);
        let given = writable(
            "FROM node:22\nRUN mkdir -p /data && chown node:node /data\nRUN mkdir /cache\nCOPY --chown=node:node x /cache\nCMD node s.js\n",
        );
        assert!(given.paths.iter().all(|p| p.owned), "{given:?}");
        let home = paths(
            "FROM node:22\nENV HOME=/srv/app NPM_CONFIG_CACHE=/tmp/npm\nCMD [\"npm\", \"start\"]\n",
        );
        assert_eq!(home, owned(&[("/srv/app/.npm", true), ("/tmp/npm", true)]));
        assert_eq!(
            paths("FROM node:22\nENV HOME=/srv/app\nCMD node s.js\n"),
            []
        );
    }

    #[test]
    fn scripts_it_has_not_read() {
        let unknown = |src: &str| writable(src).unknown;
        assert_eq!(
            unknown("FROM node:22\nCOPY run.sh /run.sh\nCMD [\"/run.sh\"]\n"),
            ["the container runs `/run.sh`, which unroot has not read: what it writes is unknown"]
        );
        assert_eq!(
            unknown("FROM node:22\nCOPY docker-entrypoint.sh /usr/local/bin/\nENTRYPOINT [\"tini\", \"--\", \"docker-entrypoint.sh\"]\nCMD node s.js\n").len(),
            1
        );
        assert_eq!(
            unknown("FROM node:22\nCMD sh -c \"./start.sh && node s.js\"\n").len(),
            1
        );
        assert!(unknown("FROM node:22\nCOPY . .\nENTRYPOINT [\"dumb-init\", \"--\"]\nCMD [\"node\", \"server.js\"]\n").is_empty());
        assert!(unknown("FROM node:22\nCMD npm start\n").is_empty());
        assert!(unknown("FROM gcr.io/distroless/nodejs22-debian12\nCOPY server.js /app/\nCMD [\"/app/server.js\"]\n").is_empty());
        assert!(
            unknown("FROM node:22\nENTRYPOINT [\"docker-entrypoint.sh\"]\nCMD node s.js\n")
                .is_empty()
        );
        assert_eq!(
            unknown("FROM node:22\nCOPY bin/serve /usr/local/bin/\nCMD [\"serve\"]\n").len(),
            1
        );
        assert_eq!(
            unknown("FROM node:22\nVOLUME /\n"),
            ["the app writes `/` (`VOLUME`), a system directory unroot does not give away"]
        );
    }

    #[test]
    fn joins_paths() {
        assert_eq!(join("/app", "./data/"), "/app/data");
        assert_eq!(join("/app", "../x//y"), "/x/y");
        assert_eq!(join("/app", "/abs"), "/abs");
        assert_eq!(parent("/app/dev.db"), "/app");
        assert!(is_under("/app", "/app/x") && !is_under("/app", "/apple"));
    }
}
