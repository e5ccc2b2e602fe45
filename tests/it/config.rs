//! The configuration file (`unroot.toml`, `.unroot.toml`) and `--show-config`.

use crate::common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

const APP: &str = "FROM node:lts\nRUN npm ci\nEXPOSE 80\nCMD [\"node\", \"x\"]\n";
/// APP without its privileged port: the USER fix is safe (with port 80 and no safe move of
/// it, the USER fix is unsafe too, see `--explain root-user`).
const APP_NO_PORT: &str = "FROM node:lts\nRUN npm ci\nCMD [\"node\", \"x\"]\n";

struct Repo {
    tmp: TempDir,
}

impl Repo {
    /// A directory that is a repository root (it holds `.git`).
    fn new() -> Repo {
        let tmp = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir(tmp.path().join(".git")).expect("mkdir .git");
        Repo { tmp }
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }

    fn write(&self, path: &str, text: &str) -> PathBuf {
        let path = self.root().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        path
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root().join(path)).expect("read")
    }

    /// unroot in `dir` (relative to the root), without colour.
    fn command(&self, dir: &str) -> Command {
        let mut command = common::unroot();
        command
            .current_dir(self.root().join(dir))
            .args(["--color", "never"]);
        command
    }

    /// Runs unroot in `dir` (relative to the root).
    fn run_in(&self, dir: &str, args: &[&str]) -> (i32, String, String) {
        outcome(self.command(dir).args(args).output().expect("run unroot"))
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_in("", args)
    }

    /// `--write` on `Dockerfile` with `config` as `unroot.toml`; the fixed file.
    fn fixed(&self, config: &str, args: &[&str]) -> String {
        self.fixed_from(APP, config, args)
    }

    /// [`Repo::fixed`] of `dockerfile`.
    fn fixed_from(&self, dockerfile: &str, config: &str, args: &[&str]) -> String {
        self.write("unroot.toml", config);
        self.write("Dockerfile", dockerfile);
        let mut all = vec!["--write", "Dockerfile"];
        all.extend_from_slice(args);
        let (code, _, stderr) = self.run(&all);
        assert!(code < 2, "{stderr}");
        self.read("Dockerfile")
    }
}

/// Exit status, standard output and standard error.
fn outcome(output: std::process::Output) -> (i32, String, String) {
    let run = common::Run::of(output);
    (run.code, run.stdout, run.stderr)
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots/config"),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn flags_win_over_the_file() {
    let repo = Repo::new();
    let config = "pin = \"major\"\nuser = \"app\"\n";
    let from_file = repo.fixed_from(APP_NO_PORT, config, &[]);
    assert!(from_file.starts_with("FROM node:26\n"), "{from_file}");
    assert!(from_file.contains("USER app\n"), "{from_file}");
    let from_flags = repo.fixed_from(APP_NO_PORT, config, &["--pin", "minor", "--user", "web"]);
    assert!(from_flags.starts_with("FROM node:26.7\n"), "{from_flags}");
    assert!(from_flags.contains("USER web\n"), "{from_flags}");
    // A list flag replaces the file's list.
    repo.write("Dockerfile", APP);
    repo.write("unroot.toml", "select = [\"root-user\"]\n");
    let (_, stdout, _) = repo.run(&["--select", "floating-tag", "Dockerfile"]);
    assert!(stdout.contains("floating-tag") && !stdout.contains("root-user"));
}

#[test]
fn select_and_ignore() {
    let repo = Repo::new();
    repo.write("Dockerfile", APP);
    repo.write("unroot.toml", "select = [\"root-user\"]\n");
    let (_, stdout, _) = repo.run(&["Dockerfile"]);
    assert!(stdout.contains("root-user") && !stdout.contains("floating-tag"));
    repo.write("unroot.toml", "ignore = [\"root-user\"]\n");
    let (_, stdout, _) = repo.run(&["Dockerfile"]);
    assert!(!stdout.contains("root-user:") && stdout.contains("floating-tag"));
}

#[test]
fn unsafe_fixes_and_port_map() {
    let repo = Repo::new();
    let fixed = repo.fixed("unsafe-fixes = true\n", &[]);
    assert!(fixed.contains("EXPOSE 8080\n"), "{fixed}");
    let fixed = repo.fixed("unsafe-fixes = true\nport-map = { 80 = 3000 }\n", &[]);
    assert!(fixed.contains("EXPOSE 3000\n"), "{fixed}");
    let fixed = repo.fixed("unsafe-fixes = true\nport-map = [\"80:4000\"]\n", &[]);
    assert!(fixed.contains("EXPOSE 4000\n"), "{fixed}");
    let fixed = repo.fixed("port-map = [\"80:4000\"]\n", &[]);
    assert!(
        fixed.contains("EXPOSE 80\n"),
        "unsafe fixes stay off: {fixed}"
    );
}

#[test]
fn user_and_numeric_user() {
    let repo = Repo::new();
    assert!(repo
        .fixed_from(APP_NO_PORT, "user = \"app\"\n", &[])
        .contains("USER app\n"));
    assert!(repo
        .fixed_from(APP_NO_PORT, "numeric-user = true\n", &[])
        .contains("USER 1000:1000\n"));
}

#[test]
fn pin_values_and_none() {
    let repo = Repo::new();
    assert!(repo
        .fixed("pin = \"exact\"\n", &[])
        .starts_with("FROM node:26.7.0\n"));
    assert!(repo
        .fixed("pin = \"minor\"\n", &[])
        .starts_with("FROM node:26.7\n"));
    let floating = repo.fixed_from(APP_NO_PORT, "pin = \"none\"\n", &[]);
    assert!(floating.starts_with("FROM node:lts\n"), "{floating}");
    assert!(floating.contains("USER node\n"), "{floating}");
    let floating = repo.fixed("pin = \"none\"\n", &[]);
    assert!(floating.starts_with("FROM node:lts\n"), "{floating}");
    let (code, _, stderr) = repo.run(&["Dockerfile"]);
    assert_eq!(code, 1, "{stderr}");
    // The flag wins: `--pin exact` pins again.
    assert!(repo
        .fixed("pin = \"none\"\n", &["--pin", "exact"])
        .starts_with("FROM node:26.7.0\n"));
}

#[test]
fn all_images() {
    let repo = Repo::new();
    repo.write("Dockerfile", "FROM nginx:1.27\nCMD [\"nginx\"]\n");
    repo.write("unroot.toml", "");
    assert_eq!(repo.run(&["Dockerfile"]).0, 0);
    repo.write("unroot.toml", "all-images = true\n");
    let (code, stdout, _) = repo.run(&["Dockerfile"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("root-user"), "{stdout}");
}

#[test]
fn exclude_skips_walked_files_relative_to_the_config() {
    let repo = Repo::new();
    repo.write(
        "unroot.toml",
        "exclude = [\"legacy/\", \"/tools/*.Dockerfile\"]\n",
    );
    repo.write("app/Dockerfile", APP);
    repo.write("legacy/Dockerfile", APP);
    repo.write("app/legacy/Dockerfile", APP);
    repo.write("tools/ci.Dockerfile", APP);
    repo.write("app/tools/ci.Dockerfile", APP);
    let (_, stdout, _) = repo.run(&["--select", "root-user"]);
    let files: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains(": root-user:"))
        .map(|line| line.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(files, ["app/Dockerfile", "app/tools/ci.Dockerfile"]);
    // From a subdirectory, the globs are still relative to the configuration's directory.
    let (_, stdout, _) = repo.run_in("app", &["--select", "root-user", "."]);
    assert!(!stdout.contains("legacy"), "{stdout}");
    assert!(stdout.contains("./tools/ci.Dockerfile"), "{stdout}");
    // A file named on the command line is checked all the same.
    let (code, stdout, _) = repo.run(&["legacy/Dockerfile"]);
    assert_eq!(code, 1, "{stdout}");
}

#[test]
fn branch_and_commit_template() {
    let repo = Repo::new();
    std::fs::remove_dir(repo.root().join(".git")).expect("rmdir");
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .current_dir(repo.root())
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git");
        assert!(status.status.success(), "{status:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    repo.write("Dockerfile", APP);
    git(&["add", "Dockerfile"]);
    git(&["commit", "-q", "-m", "init"]);
    repo.write(
        "ci/message.txt",
        "From the configured template: {subject}\n",
    );
    repo.write(
        "unroot.toml",
        "branch = \"chore/non-root\"\ncommit-template = \"ci/message.txt\"\n",
    );
    // A configuration's template is read from the commit being fixed.
    git(&["add", "ci/message.txt", "unroot.toml"]);
    git(&["commit", "-q", "-m", "configure unroot"]);
    let dry_run = ["--branch", "--dry-run", "--author", "T <t@example.com>"];
    let (code, stdout, stderr) = repo.run(&dry_run);
    assert!(code < 2, "{stderr}");
    assert!(stdout.contains("branch `chore/non-root`"), "{stdout}");
    assert!(
        stdout.contains("From the configured template: "),
        "{stdout}"
    );
    // `--branch NAME` wins; without `--branch` nothing is committed.
    let (_, stdout, _) = repo.run(&["--branch", "other", "--dry-run"]);
    assert!(stdout.contains("branch `other`"), "{stdout}");
    let (_, stdout, _) = repo.run(&[]);
    assert!(!stdout.contains("chore/non-root"), "{stdout}");
    // A template that is not there: named as the user would write it, nothing committed.
    repo.write("unroot.toml", "commit-template = \"ci/missing.txt\"\n");
    let (code, _, stderr) = repo.run(&dry_run);
    assert_eq!(code, 2);
    let shown = format!("ci{}missing.txt: ", std::path::MAIN_SEPARATOR);
    assert!(stderr.contains(&shown), "{stderr}");
    assert!(stderr.contains("is not committed on `main`"), "{stderr}");
}

#[test]
fn unknown_keys_are_errors_naming_key_and_file() {
    let repo = Repo::new();
    repo.write("Dockerfile", APP);
    repo.write("unroot.toml", "pin = \"major\"\ncolour = true\n");
    let (code, stdout, stderr) = repo.run(&["Dockerfile"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("unroot.toml: unknown key `colour` (line 2); the keys are select,"),
        "{stderr}"
    );
    repo.write("unroot.toml", "pin = \"sometimes\"\n");
    let (code, _, stderr) = repo.run(&["Dockerfile"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("unroot.toml:1: `pin`: `sometimes`"),
        "{stderr}"
    );
    for (text, message) in [
        (
            "port-map = { 80 = 70000 }\n",
            "unroot.toml:1: `port-map`: `70000` is not a port number",
        ),
        (
            "port-map = [80]\n",
            "unroot.toml:1: `port-map`: `80`: expected a table like `{ 80 = 3000 }`",
        ),
    ] {
        repo.write("unroot.toml", text);
        let (code, _, stderr) = repo.run(&["Dockerfile"]);
        assert_eq!(code, 2);
        assert!(stderr.starts_with(message), "{stderr}");
    }
    repo.write("unroot.toml", "ignore = [\"no-such-rule\"]\n");
    let (code, _, stderr) = repo.run(&["Dockerfile"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown rule `no-such-rule`"), "{stderr}");
}

#[test]
fn dot_unroot_toml_is_found_from_a_subdirectory_up_to_the_repository_root() {
    let repo = Repo::new();
    repo.write(".unroot.toml", "select = [\"floating-tag\"]\n");
    repo.write("services/api/Dockerfile", APP);
    let (_, stdout, _) = repo.run_in("services/api", &["Dockerfile"]);
    assert!(stdout.contains("floating-tag") && !stdout.contains("root-user"));
    // From the root, a PATH in a subdirectory finds it too.
    let (_, stdout, _) = repo.run(&["services/api/Dockerfile"]);
    assert!(!stdout.contains("root-user"), "{stdout}");
    // The search stops at the repository root: a file above it is not read.
    let outer = tempfile::tempdir().expect("temporary directory");
    std::fs::write(outer.path().join("unroot.toml"), "colour = 1\n").expect("write");
    std::fs::create_dir_all(outer.path().join("repo/.git")).expect("mkdir");
    std::fs::write(outer.path().join("repo/Dockerfile"), APP).expect("write");
    let output = common::unroot()
        .current_dir(outer.path().join("repo"))
        .arg("--show-config")
        .output()
        .expect("run unroot");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        stdout.starts_with("# configuration file: none found\n"),
        "{stdout}"
    );
}

#[test]
fn show_config_names_where_each_value_comes_from() {
    let repo = Repo::new();
    repo.write(
        "unroot.toml",
        "# team settings\nignore = [\"end-of-life\"]\npin = \"major\"\nport-map = { 80 = 3000 }\n\
         exclude = [\"legacy/\"]\nbranch = \"chore/non-root\"\ncommit-template = \"ci/message.txt\"\n",
    );
    let (code, stdout, stderr) = repo.run(&["--show-config", "--pin", "minor", "--numeric-user"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    snapshot!("show_config", stdout);
    let empty = Repo::new();
    let (code, stdout, _) = empty.run(&["--show-config"]);
    assert_eq!(code, 0);
    snapshot!("show_config_defaults", stdout);
}

/// The paths of the files reported with `rule`, in order.
fn reported(stdout: &str, rule: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|line| line.contains(&format!(": {rule}:")))
        .map(|line| line.split(':').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn each_file_uses_the_nearest_configuration_above_it() {
    let repo = Repo::new();
    repo.write("unroot.toml", "pin = \"major\"\nuser = \"web\"\n");
    repo.write("svc/unroot.toml", "pin = \"minor\"\n");
    repo.write("Dockerfile", APP_NO_PORT);
    repo.write("svc/Dockerfile", APP_NO_PORT);
    repo.write("svc/deep/er/Dockerfile", APP_NO_PORT);
    repo.write("other/Dockerfile", APP_NO_PORT);
    let (code, _, stderr) = repo.run(&["--write"]);
    assert!(code < 2, "{stderr}");
    for (path, pinned, user) in [
        ("Dockerfile", "FROM node:26\n", "USER web\n"),
        ("other/Dockerfile", "FROM node:26\n", "USER web\n"),
        // The nearest file wins whole: `user` from the root does not reach `svc/`.
        ("svc/Dockerfile", "FROM node:26.7\n", "USER node\n"),
        ("svc/deep/er/Dockerfile", "FROM node:26.7\n", "USER node\n"),
    ] {
        let fixed = repo.read(path);
        assert!(fixed.starts_with(pinned), "{path}: {fixed}");
        assert!(fixed.contains(user), "{path}: {fixed}");
    }
    // The same from inside `svc/`, whatever the PATHs: the file's directory decides.
    repo.write("Dockerfile", APP);
    repo.write("svc/Dockerfile", APP);
    let (code, _, stderr) = repo.run_in("svc", &["--write", "Dockerfile", "../Dockerfile"]);
    assert!(code < 2, "{stderr}");
    assert!(repo.read("svc/Dockerfile").starts_with("FROM node:26.7\n"));
    assert!(repo.read("Dockerfile").starts_with("FROM node:26\n"));
    // Flags win over every file's configuration.
    repo.write("Dockerfile", APP_NO_PORT);
    repo.write("svc/Dockerfile", APP_NO_PORT);
    let (code, _, stderr) = repo.run(&["--write", "--pin", "exact", "--user", "app"]);
    assert!(code < 2, "{stderr}");
    for path in ["Dockerfile", "svc/Dockerfile"] {
        let fixed = repo.read(path);
        assert!(fixed.starts_with("FROM node:26.7.0\n"), "{path}: {fixed}");
        assert!(fixed.contains("USER app\n"), "{path}: {fixed}");
    }
}

#[test]
fn rule_selection_and_unsafe_fixes_are_per_file() {
    let repo = Repo::new();
    repo.write("unroot.toml", "select = [\"root-user\"]\n");
    repo.write("ports/unroot.toml", "unsafe-fixes = true\n");
    repo.write("Dockerfile", APP);
    repo.write("ports/Dockerfile", APP);
    let (code, stdout, stderr) = repo.run(&[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        reported(&stdout, "root-user"),
        ["Dockerfile", "ports/Dockerfile"]
    );
    assert_eq!(reported(&stdout, "floating-tag"), ["ports/Dockerfile"]);
    assert_eq!(reported(&stdout, "privileged-port"), ["ports/Dockerfile"]);
    // The summary counts each file's fixes at its own threshold: the port and the USER are
    // fixable in `ports/` (unsafe-fixes = true); at the root, where privileged-port is not
    // selected, nothing moves port 80, so its USER fix is unsafe: the one left.
    let summary = stdout.lines().last().unwrap_or_default();
    assert_eq!(
        summary,
        "4 findings in 2 files, 3 fixable (1 more with --unsafe-fixes); run with --write to apply"
    );
    let (code, _, stderr) = repo.run(&["--write"]);
    assert!(code < 2, "{stderr}");
    assert!(repo.read("ports/Dockerfile").contains("EXPOSE 8080\n"));
    let root = repo.read("Dockerfile");
    assert!(
        root.contains("EXPOSE 80\n") && root.starts_with("FROM node:lts\n"),
        "{root}"
    );
}

#[test]
fn exclude_applies_to_the_files_its_configuration_governs() {
    let repo = Repo::new();
    repo.write("unroot.toml", "exclude = [\"generated/\"]\n");
    repo.write("svc/unroot.toml", "exclude = [\"legacy/\"]\n");
    for path in [
        "legacy/Dockerfile",
        "generated/Dockerfile",
        "svc/legacy/Dockerfile",
        "svc/generated/Dockerfile",
        "svc/Dockerfile",
    ] {
        repo.write(path, APP);
    }
    let (_, stdout, _) = repo.run(&["--select", "root-user"]);
    assert_eq!(
        reported(&stdout, "root-user"),
        [
            "legacy/Dockerfile",
            "svc/Dockerfile",
            "svc/generated/Dockerfile"
        ]
    );
}

#[test]
fn a_broken_configuration_anywhere_stops_the_run_before_anything_is_written() {
    let repo = Repo::new();
    repo.write("unroot.toml", "pin = \"major\"\n");
    repo.write("svc/.unroot.toml", "pin = \"major\"\nuser = \"\"\n");
    repo.write("Dockerfile", APP);
    repo.write("svc/Dockerfile", APP);
    let (code, stdout, stderr) = repo.run(&["--write"]);
    assert_eq!(code, 2, "{stdout}");
    assert_eq!(stdout, "");
    let shown = format!("svc{}.unroot.toml:2: `user`", std::path::MAIN_SEPARATOR);
    assert!(stderr.starts_with(&shown), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one message per file: {stderr}");
    assert_eq!(repo.read("Dockerfile"), APP);
    assert_eq!(repo.read("svc/Dockerfile"), APP);
}

#[test]
fn show_config_shows_the_configuration_of_the_path_given() {
    let repo = Repo::new();
    repo.write("unroot.toml", "pin = \"major\"\n");
    repo.write("svc/unroot.toml", "pin = \"minor\"\n");
    repo.write("svc/Dockerfile", APP);
    for (args, file, pin) in [
        (vec!["--show-config"], "unroot.toml", "\"major\""),
        (vec!["--show-config", "svc"], "svc/unroot.toml", "\"minor\""),
        (
            vec!["--show-config", "svc/Dockerfile"],
            "svc/unroot.toml",
            "\"minor\"",
        ),
    ] {
        let (code, stdout, stderr) = repo.run(&args);
        assert_eq!(code, 0, "{stderr}");
        let file = file.replace('/', std::path::MAIN_SEPARATOR_STR);
        assert!(
            stdout.starts_with(&format!("# configuration file: {file}\n")),
            "{args:?}: {stdout}"
        );
        assert!(
            stdout.contains(&format!("\npin = {pin}  # ")),
            "{args:?}: {stdout}"
        );
    }
    // From a directory, the files below it that have their own configuration are named.
    repo.write("web/deep/.unroot.toml", "");
    repo.write(".hidden/unroot.toml", "");
    let (_, stdout, _) = repo.run(&["--show-config"]);
    let sep = std::path::MAIN_SEPARATOR_STR;
    assert!(
        stdout.ends_with(&format!(
            "# these govern the files below them instead:\n#   svc{sep}unroot.toml\n#   web{sep}deep{sep}.unroot.toml\n"
        )),
        "{stdout}"
    );
    let (_, stdout, _) = repo.run(&["--show-config", "svc"]);
    assert!(!stdout.contains("govern the files below"), "{stdout}");
}

/// A git repository at the root of `repo`, with everything in it committed.
fn commit_all(repo: &Repo) {
    std::fs::remove_dir_all(repo.root().join(".git")).expect("rm .git");
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "init"],
    ] {
        let output = std::process::Command::new("git")
            .current_dir(repo.root())
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git");
        assert!(output.status.success(), "{output:?}");
    }
}

#[test]
fn one_repository_gets_one_branch_even_with_several_configurations() {
    let repo = Repo::new();
    repo.write(
        "unroot.toml",
        "pin = \"major\"\nbranch = \"chore/harden\"\n",
    );
    repo.write(
        "svc/unroot.toml",
        "pin = \"minor\"\nbranch = \"chore/harden\"\n",
    );
    repo.write("Dockerfile", APP);
    repo.write("svc/Dockerfile", APP);
    commit_all(&repo);
    let dry_run = ["--branch", "--dry-run", "--author", "T <t@example.com>"];
    // They agree: one commit on `chore/harden`, each file fixed with its own settings.
    let (code, stdout, stderr) = repo.run(&dry_run);
    assert!(code < 2, "{stderr}");
    assert!(
        stdout.contains("branch `chore/harden` would be created"),
        "{stdout}"
    );
    assert!(stdout.contains("+FROM node:26\n"), "{stdout}");
    assert!(stdout.contains("+FROM node:26.7\n"), "{stdout}");
    // They disagree: the repository is refused, naming both values and where they are set.
    repo.write("svc/unroot.toml", "pin = \"minor\"\n");
    let (code, stdout, stderr) = repo.run(&dry_run);
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stderr.contains("disagree on `branch` (\"chore/harden\" from unroot.toml:2, \"unroot/non-root\" from default)"),
        "{stderr}"
    );
    // The report does not count the refused repository's fixes as made.
    assert!(!stdout.contains("  fix: "), "{stdout}");
    assert!(
        stdout.contains("  fix not applied: pin `node:26`"),
        "{stdout}"
    );
    // The USER fixes wait for the (unsafe) port moves: 4 more with --unsafe-fixes.
    assert!(
        stdout.ends_with(
            "6 findings in 2 files, 0 fixed, 6 remaining (4 more with --unsafe-fixes)\n"
        ),
        "{stdout}"
    );
    // A branch named on the command line settles it.
    let (code, stdout, stderr) = repo.run(&["--branch", "fix", "--dry-run"]);
    assert!(code < 2, "{stderr}");
    assert!(stdout.contains("branch `fix` would be created"), "{stdout}");
    // The findings, then the branch lines, then the summary.
    let findings = stdout
        .find("svc/Dockerfile:1:1: root-user:")
        .expect("a finding");
    let branch = stdout
        .find("branch `fix` would be created")
        .expect("the branch line");
    assert!(findings < branch, "{stdout}");
    assert!(
        stdout.ends_with(
            "6 findings in 2 files, 2 fixed, 4 remaining (4 more with --unsafe-fixes)\n"
        ),
        "{stdout}"
    );
}

#[test]
fn no_flags_turn_off_the_booleans_of_the_file() {
    let repo = Repo::new();
    let config = "unsafe-fixes = true\nnumeric-user = true\nall-images = true\n";
    let fixed = repo.fixed(config, &[]);
    assert!(fixed.contains("EXPOSE 8080\n") && fixed.contains("USER 1000:1000\n"));
    let fixed = repo.fixed(config, &["--no-numeric-user"]);
    assert!(fixed.contains("USER node\n"), "{fixed}");
    // Without unsafe fixes port 80 stays, and so does root: a non-root app cannot bind it.
    let fixed = repo.fixed(config, &["--no-unsafe-fixes"]);
    assert!(
        fixed.contains("EXPOSE 80\n") && !fixed.contains("USER"),
        "{fixed}"
    );
    // The last of `--x` and `--no-x` wins, as in ruff.
    let fixed = repo.fixed(config, &["--no-unsafe-fixes", "--unsafe-fixes"]);
    assert!(fixed.contains("EXPOSE 8080\n"), "{fixed}");
    repo.write("Dockerfile", "FROM nginx:1.27\nCMD [\"nginx\"]\n");
    assert_eq!(repo.run(&["Dockerfile"]).0, 1);
    assert_eq!(repo.run(&["--no-all-images", "Dockerfile"]).0, 0);
    let (_, stdout, _) = repo.run(&["--show-config", "--all-images", "--no-all-images"]);
    assert!(
        stdout.contains("\nall-images = false  # command line\n"),
        "{stdout}"
    );
}

#[test]
fn stdin_filename_takes_the_configuration_and_the_name_of_the_file() {
    let repo = Repo::new();
    repo.write("unroot.toml", "pin = \"major\"\n");
    repo.write(
        "svc/unroot.toml",
        "pin = \"minor\"\nselect = [\"floating-tag\"]\n",
    );
    let run = |args: &[&str], input: &str| {
        let output = repo.command("").args(args).write_stdin(input).output();
        outcome(output.expect("run unroot"))
    };
    // `-` alone uses the current directory's configuration and says `<stdin>`.
    let (code, stdout, stderr) = run(&["-"], APP);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.starts_with("FROM node:26\n"), "{stdout}");
    assert!(stderr.starts_with("<stdin>:"), "{stderr}");
    // With --stdin-filename (and no PATH, or `-`): that file's configuration and name.
    for args in [
        &["--stdin-filename", "svc/Dockerfile"][..],
        &["--stdin-filename", "svc/Dockerfile", "-"],
    ] {
        let (code, stdout, stderr) = run(args, APP);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.starts_with("FROM node:26.7\n"), "{stdout}");
        assert!(
            stderr.starts_with("svc/Dockerfile:1:6: floating-tag:"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("root-user"),
            "select from svc/unroot.toml: {stderr}"
        );
    }
    let (_, stdout, _) = run(
        &["--stdin-filename", "svc/Dockerfile", "--format", "json"],
        APP,
    );
    assert!(stdout.contains("\"path\": \"svc/Dockerfile\""), "{stdout}");
    // Errors name it too, and the input is echoed unchanged on stdout (issue 11, D1).
    let (code, stdout, stderr) = run(
        &["--stdin-filename", "svc/Dockerfile"],
        "FROM node\nRUN <<EOF\n",
    );
    assert_eq!((code, stdout.as_str()), (2, "FROM node\nRUN <<EOF\n"));
    assert_eq!(stderr, "svc/Dockerfile:2: unterminated heredoc\n");
    // It names what `-` stands for: with other PATHs it is a usage error.
    let (code, _, stderr) = run(&["--stdin-filename", "svc/Dockerfile", "Dockerfile"], APP);
    assert_eq!(code, 2);
    assert!(stderr.contains("give `-` alone"), "{stderr}");
    let (_, stdout, _) = run(&["--stdin-filename", "svc/Dockerfile", "--show-config"], "");
    assert!(stdout.starts_with("# configuration file: svc"), "{stdout}");
}
