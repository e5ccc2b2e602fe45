//! What the integration tests share: the corpus locator, the `unroot` binary as a command,
//! the outcome of a run, and a temporary tree to run it in.
//!
//! Each test binary compiles this module on its own (`mod common;`) and uses only part of
//! it, so what one binary leaves unused is not dead code.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

/// The sections every rule's documentation has, in order (`--explain`).
pub const RULE_DOC_SECTIONS: [&str; 7] = [
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## How it fixes",
    "## Options",
    "## Fix safety",
    "## References",
];

/// The `## ` section headers of a rule's documentation as `--explain` prints it.
pub fn doc_sections(doc: &str) -> Vec<&str> {
    doc.lines().filter(|line| line.starts_with("## ")).collect()
}

/// The edits of the fixes in `--format json` findings, applied to `original`: what
/// `--write` writes when the fixes do not overlap. Last first; at one offset the longer
/// edit first, so an insertion there lands before it.
pub fn apply_json_edits(original: &str, findings: &[serde_json::Value]) -> String {
    let mut edits: Vec<(usize, usize, String)> = findings
        .iter()
        .filter(|finding| !finding["fix"].is_null())
        .flat_map(|finding| finding["fix"]["edits"].as_array().expect("edits").clone())
        .map(|edit| {
            let offset = |key: &str| {
                usize::try_from(edit[key].as_u64().expect("a byte offset")).expect("fits")
            };
            let content = edit["content"].as_str().expect("content").to_string();
            (offset("start"), offset("end"), content)
        })
        .collect();
    edits.sort_by_key(|(start, end, _)| std::cmp::Reverse((*start, *end)));
    let mut text = original.to_string();
    for (start, end, content) in edits {
        text.replace_range(start..end, &content);
    }
    text
}

/// Cuts `command` (git, or unroot running git) off from the user's and the system's git setup:
/// HOME is `home`, no system config, no git identity, repository, token, proxy or ssh-agent
/// variables from the environment, and git never prompts.
pub fn isolate_git(command: &mut std::process::Command, home: &Path) {
    for name in [
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITLAB_TOKEN",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "SSH_AUTH_SOCK",
    ] {
        command.env_remove(name);
    }
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0");
}

/// Every file named `Dockerfile` below `dir`, sorted. Panics when `dir` is missing.
pub fn dockerfiles_under(dir: &Path) -> Vec<PathBuf> {
    assert!(dir.is_dir(), "corpus folder is missing: {}", dir.display());
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", current.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", current.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|name| name == "Dockerfile") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// How many problems [`report`] prints before it counts the rest.
const MAX_PRINTED: usize = 100;

/// Prints `problems` (the first [`MAX_PRINTED`]) and fails the test when there are any.
pub fn report(title: &str, problems: &[String]) {
    for line in problems.iter().take(MAX_PRINTED) {
        println!("  {line}");
    }
    if problems.len() > MAX_PRINTED {
        println!("  … and {} more", problems.len() - MAX_PRINTED);
    }
    assert!(
        problems.is_empty(),
        "{title}: {} problem(s), listed above",
        problems.len()
    );
}

/// A folder of the shared corpus (`../shared/corpus/<group>`, `""` for the corpus itself).
/// Panics (fails the test) when it is missing: these tests never pass without it.
pub fn corpus(group: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(group);
    assert!(
        dir.is_dir(),
        "the shared corpus is missing: expected a folder at {} \
         (these tests cannot pass without it)",
        dir.display()
    );
    dir
}

/// The release table's "today" of the tests: findings about release lines must not change
/// with the date.
pub const TODAY: &str = "2026-11-24";

/// unroot with the release table's "today" fixed to [`TODAY`] and a colour-neutral
/// environment (the tests decide about colour themselves).
pub fn unroot() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_unroot"));
    command
        .env("UNROOT_TODAY", TODAY)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("UNROOT_FORMAT")
        .env_remove("UNROOT_OUTPUT_FILE")
        .env_remove("UNROOT_CONFIG");
    command
}

/// The outcome of one run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(output: Output) -> Run {
        Run {
            code: output.status.code().expect("unroot exits, not killed"),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// Runs [`unroot`] in `dir` with `args`.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    Run::of(
        unroot()
            .current_dir(dir)
            .args(args)
            .output()
            .expect("run unroot"),
    )
}

/// A temporary directory to write Dockerfiles into (ripgrep's `tests/util.rs` `Dir`).
/// Commands run in it, so paths in the output are the relative names given here.
pub struct Dir {
    tmp: TempDir,
}

impl Dir {
    /// A tree whose commands are [`unroot`]: "today" is [`TODAY`].
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// Write `contents` to `name` (creating its directories) and return its full path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create a test directory");
        }
        std::fs::write(&path, contents).expect("write a test file");
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).expect("read a test file")
    }

    pub fn read_bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).expect("read a test file")
    }

    /// `link` → `target` (a path as stored in the link, relative to the link's directory).
    #[cfg(unix)]
    pub fn symlink(&self, target: &str, link: &str) {
        std::os::unix::fs::symlink(target, self.path(link)).expect("create a symlink");
    }

    /// Make the tree a git repository (`.gitignore` is honoured only inside one).
    pub fn git_init(&self) {
        let status = std::process::Command::new("git")
            .args(["init", "--quiet"])
            .current_dir(self.root())
            .status()
            .expect("run `git init` (git is needed for the .gitignore test)");
        assert!(status.success(), "git init failed");
    }

    /// unroot, run in this directory.
    pub fn command(&self) -> Command {
        let mut command = unroot();
        command.current_dir(self.root());
        command
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(self.command().args(args).output().expect("run unroot"))
    }

    pub fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        Run::of(
            self.command()
                .args(args)
                .write_stdin(input)
                .output()
                .expect("run unroot"),
        )
    }
}

/// The `///` lines of the rule declaration in `src/rules/<file>.rs`, as `--explain` prints
/// them.
pub fn rule_doc_from_source(file: &str) -> String {
    let path = format!("{}/src/rules/{file}.rs", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("read {path}"));
    source
        .split("declare_rule! {")
        .nth(1)
        .unwrap_or_else(|| panic!("{file}.rs declares its rule"))
        .lines()
        .skip(1)
        .map(str::trim_start)
        .take_while(|line| line.starts_with("///"))
        .map(|line| {
            let text = line.trim_start_matches("///");
            text.strip_prefix(' ').unwrap_or(text)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the tests run as root (who reads any directory and may give files away).
pub fn running_as_root() -> bool {
    let uid = std::process::Command::new("id")
        .arg("-u")
        .output()
        .expect("run id");
    String::from_utf8_lossy(&uid.stdout).trim() == "0"
}
