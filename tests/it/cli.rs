//! The `unroot` binary end to end: every flag, mode and exit status, on temporary trees.
//!
//! Paths are given relative to the tree (the command runs in it), so outputs are stable and
//! compared exactly; long outputs are insta snapshots under `snapshots/cli/`.

use crate::common;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use common::{
    apply_json_edits, doc_sections, rule_doc_from_source, unroot, Dir, Run, RULE_DOC_SECTIONS,
};

/// A typical Node service that runs as root: no `USER`.
const APP: &str = "\
FROM node:22-alpine
WORKDIR /app
COPY package*.json ./
RUN npm ci --omit=dev
COPY . .
EXPOSE 3000
CMD [\"node\", \"server.js\"]
";

/// `APP` after `unroot --write`.
const APP_FIXED: &str = "\
FROM node:22-alpine
WORKDIR /app
COPY package*.json ./
RUN npm ci --omit=dev
COPY . .
USER node
EXPOSE 3000
CMD [\"node\", \"server.js\"]
";

/// The dry-run report of `APP` saved as `Dockerfile`.
const APP_REPORT: &str = "\
Dockerfile:1:1: root-user: final stage runs as root: no `USER` (image `node:22-alpine` defaults to root)
  help: the official node images ship user `node` (uid 1000); Kubernetes `runAsNonRoot` can verify only a numeric user: `--numeric-user` writes `USER 1000:1000`; no path the app writes at run time was found (`VOLUME`, `RUN mkdir`, data paths in ENV): if it writes one, give it to the user
  fix: add `USER node` after the last build step
--- a/Dockerfile
+++ b/Dockerfile
@@ -3,5 +3,6 @@
 COPY package*.json ./
 RUN npm ci --omit=dev
 COPY . .
+USER node
 EXPOSE 3000
 CMD [\"node\", \"server.js\"]
1 finding in 1 file, 1 fixable; run with --write to apply
";

/// Already runs as a non-root user: nothing to report.
const VALID: &str =
    "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nUSER node\nCMD [\"node\", \"server.js\"]\n";

/// A `USER` whose value cannot be known (a build argument without a default): a finding
/// without a fix.
const UNSET_USER: &str =
    "FROM node:22-alpine\nARG UNSET\nUSER ${UNSET}\nCMD [\"node\", \"server.js\"]\n";

/// A Node image on a base unroot cannot create a user on: a finding without a fix.
const UNKNOWN_BASE: &str = "FROM ubuntu/node:18-24.04_edge\nCMD [\"node\",\"x\"]\n";

/// Node installed with nvm (under /root): the fix is unsafe.
const NVM: &str = "\
FROM ubuntu:22.04
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates
RUN curl -fsSL https://raw.githubusercontent.com/nvm-sh/nvm/v0.40.1/install.sh | bash \\
    && . /root/.nvm/nvm.sh && nvm install 22
WORKDIR /app
COPY . .
CMD [\"node\", \"server.js\"]
";

/// `NVM` after `unroot --write --unsafe-fixes`.
const NVM_FIXED: &str = "\
FROM ubuntu:22.04
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates
RUN curl -fsSL https://raw.githubusercontent.com/nvm-sh/nvm/v0.40.1/install.sh | bash \\
    && . /root/.nvm/nvm.sh && nvm install 22
WORKDIR /app
COPY . .
RUN groupadd -r -g 10001 app && useradd -r -l -m -u 10001 -g app -s /usr/sbin/nologin app
USER app
CMD [\"node\", \"server.js\"]
";

const UNTERMINATED_HEREDOC: &str = "FROM node:22-alpine\nRUN <<EOF\necho hi\n";

/// An insta snapshot stored as `snapshots/cli/<name>.snap`.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots/cli"),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

/// The paths of the `root-user` findings in a text report, in order.
fn reported_paths(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.split_once(": root-user: "))
        .map(|(location, _)| {
            let mut parts = location.rsplitn(3, ':');
            let (_column, _line) = (parts.next(), parts.next());
            parts.next().expect("path:line:col").to_string()
        })
        .collect()
}

// ---- dry run (the default) ----

#[test]
fn dry_run_prints_finding_help_fix_diff_and_summary_and_exits_1() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["Dockerfile"]);
    assert_eq!(run.stdout, APP_REPORT);
    assert_eq!(run.stderr, "");
    assert_eq!(run.code, 1);
}

#[test]
fn dry_run_writes_nothing() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let listing = |dir: &Dir| {
        let mut names: Vec<_> = std::fs::read_dir(dir.root())
            .expect("list the tree")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        names.sort();
        names
    };
    let before = listing(&dir);
    assert_eq!(dir.run(&["Dockerfile"]).code, 1);
    assert_eq!(dir.read_bytes("Dockerfile"), APP.as_bytes());
    assert_eq!(listing(&dir), before);
}

#[test]
fn non_root_file_prints_the_clean_summary_and_exits_0() {
    let dir = Dir::new();
    dir.file("Dockerfile", VALID);
    let run = dir.run(&["Dockerfile"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "no findings in 1 file\n", "")
    );
}

#[test]
fn finding_without_fix_is_reported_without_diff() {
    let dir = Dir::new();
    dir.file("Dockerfile", UNSET_USER);
    let run = dir.run(&["Dockerfile"]);
    assert_eq!(
        run.stdout,
        "Dockerfile:3:1: root-user: cannot tell whether `USER ${UNSET}` is root: a variable in it has no known value
  help: give the variable a default (`ARG NAME=node`) so the user can be checked
  no automatic fix: this needs a person
1 finding in 1 file, 0 fixable
"
    );
    assert_eq!(run.code, 1);
}

#[test]
fn last_user_root_is_rewritten_in_place() {
    let dir = Dir::new();
    dir.file(
        "Dockerfile",
        "FROM node:22\nRUN npm ci\nUSER root\nCMD [\"node\", \"x\"]\n",
    );
    let run = dir.run(&["Dockerfile"]);
    assert_eq!(
        run.stdout,
        "Dockerfile:3:1: root-user: final stage runs as root: last `USER` is `root`
  help: the official node images ship user `node` (uid 1000); Kubernetes `runAsNonRoot` can verify only a numeric user: `--numeric-user` writes `USER 1000:1000`; no path the app writes at run time was found (`VOLUME`, `RUN mkdir`, data paths in ENV): if it writes one, give it to the user
  fix: change the last `USER` to `USER node`
--- a/Dockerfile
+++ b/Dockerfile
@@ -1,4 +1,4 @@
 FROM node:22
 RUN npm ci
-USER root
+USER node
 CMD [\"node\", \"x\"]
1 finding in 1 file, 1 fixable; run with --write to apply
"
    );
    assert_eq!(run.code, 1);
}

/// Findings of every kind in one tree: fixable, needs a person, unsafe, clean.
#[test]
fn dry_run_of_a_tree_with_every_kind_of_finding() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    dir.file("api/Dockerfile", UNSET_USER);
    dir.file("tools.Dockerfile", NVM);
    dir.file("web/Dockerfile", VALID);
    let run = dir.run(&[]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "");
    snapshot!("dry_run_tree", run.stdout);
}

/// The README's first command: a finding and its diff for the example, status 1.
#[test]
fn readme_example_has_a_root_user_finding() {
    let run = Run::of(
        unroot()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .arg("examples/Dockerfile")
            .output()
            .expect("run unroot"),
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "");
    snapshot!("readme_example", run.stdout);
}

/// The unified diffs in a text report (the lines from each `--- a/` header on).
fn diffs_of(report: &str) -> String {
    let mut diffs = String::new();
    let mut in_diff = false;
    for line in report.split_inclusive('\n') {
        if line.starts_with("--- a/") {
            in_diff = true;
        } else if !line.starts_with([' ', '+', '-', '@', '\\']) {
            in_diff = false;
        }
        if in_diff {
            diffs.push_str(line);
        }
    }
    diffs
}

/// The dry-run diff is what `--write` does, and `git apply` takes it: CRLF lines keep
/// their `\r`, a missing final newline is marked.
#[test]
fn issue_4_dry_run_diff_applies_with_git_apply_like_write() {
    let sources = [
        ("Dockerfile", APP.to_string()),
        ("crlf/Dockerfile", APP.replace('\n', "\r\n")),
        (
            "eof/Dockerfile",
            "FROM node:22\nRUN npm ci\nCMD [\"node\", \"x\"]".to_string(),
        ),
        (
            "alpine.Dockerfile",
            "from alpine:3.20\nrun apk add --no-cache nodejs\ncmd [\"node\", \"x.js\"]\n"
                .to_string(),
        ),
    ];
    let (dry, written) = (Dir::new(), Dir::new());
    for (name, source) in &sources {
        dry.file(name, source);
        written.file(name, source);
    }
    assert_eq!(written.run(&["-w"]).code, 0);
    let report = dry.run(&[]);
    assert_eq!(report.code, 1);
    let patch = diffs_of(&report.stdout);
    assert_eq!(patch.matches("--- a/").count(), sources.len(), "{patch}");
    dry.file("fix.patch", &patch);
    let status = std::process::Command::new("git")
        .args(["apply", "--whitespace=nowarn", "fix.patch"])
        .current_dir(dry.root())
        .status()
        .expect("run `git apply` (git is needed for this test)");
    assert!(status.success(), "git apply rejected:\n{patch}");
    for (name, source) in &sources {
        assert_ne!(&written.read(name), source, "{name}");
        assert_eq!(dry.read(name), written.read(name), "{name}");
    }
}

// ---- --write ----

#[test]
fn write_rewrites_the_file_exactly_and_exits_0() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["--write", "Dockerfile"]);
    assert_eq!(
        run.stdout,
        "Dockerfile:1:1: root-user: final stage runs as root: no `USER` (image `node:22-alpine` defaults to root)
  help: the official node images ship user `node` (uid 1000); Kubernetes `runAsNonRoot` can verify only a numeric user: `--numeric-user` writes `USER 1000:1000`; no path the app writes at run time was found (`VOLUME`, `RUN mkdir`, data paths in ENV): if it writes one, give it to the user
  fixed: add `USER node` after the last build step
1 finding in 1 file, 1 fixed, 0 remaining
"
    );
    assert_eq!(run.stderr, "");
    assert_eq!(run.code, 0);
    assert_eq!(dir.read("Dockerfile"), APP_FIXED);
}

#[test]
fn short_w_is_write() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    assert_eq!(dir.run(&["-w", "Dockerfile"]).code, 0);
    assert_eq!(dir.read("Dockerfile"), APP_FIXED);
}

#[cfg(unix)]
#[test]
fn write_keeps_permissions_and_leaves_no_temporary_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    let path = dir.file("Dockerfile", APP);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    assert_eq!(dir.run(&["-w", "Dockerfile"]).code, 0);
    assert_eq!(dir.read("Dockerfile"), APP_FIXED);
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o640);
    let names: Vec<_> = std::fs::read_dir(dir.root())
        .expect("list the tree")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["Dockerfile"]);
}

#[test]
fn write_exits_1_when_a_user_cannot_be_told() {
    let dir = Dir::new();
    dir.file("Dockerfile", UNSET_USER);
    let run = dir.run(&["-w", "Dockerfile"]);
    assert_eq!(
        run.stdout,
        "Dockerfile:3:1: root-user: cannot tell whether `USER ${UNSET}` is root: a variable in it has no known value
  help: give the variable a default (`ARG NAME=node`) so the user can be checked
  no automatic fix: this needs a person
1 finding in 1 file, 0 fixed, 1 remaining
"
    );
    assert_eq!(run.code, 1);
    assert_eq!(dir.read("Dockerfile"), UNSET_USER);
}

#[test]
fn write_exits_1_on_a_base_without_a_known_way_to_create_a_user() {
    let dir = Dir::new();
    dir.file("Dockerfile", UNKNOWN_BASE);
    let run = dir.run(&["-w", "Dockerfile"]);
    assert_eq!(
        run.stdout,
        "Dockerfile:1:1: root-user: final stage runs as root: no `USER` (image `ubuntu/node:18-24.04_edge` defaults to root)
  help: unroot does not know how to create a user on `ubuntu/node:18-24.04_edge`: add `USER <non-root user>` by hand or pass `--user`
  no automatic fix: this needs a person
1 finding in 1 file, 0 fixed, 1 remaining
"
    );
    assert_eq!(run.code, 1);
    assert_eq!(dir.read("Dockerfile"), UNKNOWN_BASE);
}

#[test]
fn second_write_changes_nothing_and_exits_0() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    dir.file("alpine.Dockerfile", "FROM alpine:3.20\nRUN apk add --no-cache nodejs npm\nCOPY . /app\nCMD [\"node\", \"/app/server.js\"]\n");
    assert_eq!(dir.run(&["-w"]).code, 0);
    let (first, alpine) = (dir.read("Dockerfile"), dir.read("alpine.Dockerfile"));
    assert_eq!(first, APP_FIXED);
    assert_eq!(
        alpine,
        "FROM alpine:3.20\nRUN apk add --no-cache nodejs npm\nCOPY . /app\nRUN addgroup -S -g 10001 app && adduser -S -D -u 10001 -G app -h /home/app app\nUSER app\nCMD [\"node\", \"/app/server.js\"]\n"
    );
    let again = dir.run(&["-w"]);
    assert_eq!(
        (again.code, again.stdout.as_str(), again.stderr.as_str()),
        (0, "no findings in 2 files\n", "")
    );
    assert_eq!(dir.read("Dockerfile"), first);
    assert_eq!(dir.read("alpine.Dockerfile"), alpine);
}

// ---- symlinks: never followed out of the walked tree, never written through ----

#[cfg(unix)]
#[test]
fn explicit_symlink_is_an_error_under_write_and_its_target_untouched() {
    let dir = Dir::new();
    dir.file("real.Dockerfile", APP);
    dir.symlink("real.Dockerfile", "Dockerfile");
    let run = dir.run(&["-w", "Dockerfile"]);
    assert_eq!(run.code, 2);
    // The findings are reported as not fixed.
    assert!(
        run.stdout.starts_with("Dockerfile:1:1: root-user:")
            && run.stdout.contains("\n  fix not applied: add `USER node`")
            && run.stdout.ends_with(", 0 fixed, 1 remaining\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stderr,
        "Dockerfile: is a symbolic link; unroot does not write through links (fix the file it points to)\n"
    );
    assert_eq!(dir.read("real.Dockerfile"), APP);
    let link = std::fs::symlink_metadata(dir.path("Dockerfile")).expect("lstat");
    assert!(link.file_type().is_symlink());
}

#[cfg(unix)]
#[test]
fn explicit_symlink_is_read_in_a_dry_run() {
    let dir = Dir::new();
    dir.file("real.Dockerfile", APP);
    dir.symlink("real.Dockerfile", "Dockerfile");
    let run = dir.run(&["Dockerfile"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, APP_REPORT));
}

#[cfg(unix)]
#[test]
fn walk_skips_symlinks_to_files_and_directories_outside_the_root() {
    let dir = Dir::new();
    dir.file("outside/Dockerfile", APP);
    dir.file("root/app.Dockerfile", APP);
    dir.symlink("../outside/Dockerfile", "root/Dockerfile");
    dir.symlink("../outside", "root/linked");
    let run = dir.run(&["-w", "root"]);
    assert_eq!(reported_paths(&run.stdout), ["root/app.Dockerfile"]);
    assert_eq!(run.stderr, "");
    assert_eq!(run.code, 0);
    assert_eq!(dir.read("root/app.Dockerfile"), APP_FIXED);
    assert_eq!(dir.read("outside/Dockerfile"), APP);
    let link = std::fs::symlink_metadata(dir.path("root/Dockerfile")).expect("lstat");
    assert!(link.file_type().is_symlink());
}

// ---- standard input ----

#[test]
fn stdin_prints_the_fixed_file_on_stdout_and_findings_on_stderr() {
    let dir = Dir::new();
    let run = dir.run_stdin(&["-"], APP);
    assert_eq!(run.stdout, APP_FIXED);
    assert_eq!(
        run.stderr,
        "<stdin>:1:1: root-user: final stage runs as root: no `USER` (image `node:22-alpine` defaults to root)
  help: the official node images ship user `node` (uid 1000); Kubernetes `runAsNonRoot` can verify only a numeric user: `--numeric-user` writes `USER 1000:1000`; no path the app writes at run time was found (`VOLUME`, `RUN mkdir`, data paths in ENV): if it writes one, give it to the user
  fixed: add `USER node` after the last build step
1 finding in 1 file, 1 fixed, 0 remaining
"
    );
    assert_eq!(run.code, 0);
}

#[test]
fn stdin_without_findings_is_echoed_and_exits_0() {
    let run = Dir::new().run_stdin(&["-"], VALID);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, VALID, "")
    );
}

#[test]
fn stdin_with_a_finding_without_fix_exits_1() {
    let run = Dir::new().run_stdin(&["-"], UNSET_USER);
    assert_eq!(run.stdout, UNSET_USER);
    assert!(
        run.stderr
            .starts_with("<stdin>:3:1: root-user: cannot tell whether `USER ${UNSET}` is root"),
        "{}",
        run.stderr
    );
    assert!(run
        .stderr
        .ends_with("1 finding in 1 file, 0 fixed, 1 remaining\n"));
    assert_eq!(run.code, 1);
}

#[test]
fn stdin_applies_unsafe_fixes_only_with_unsafe_fixes() {
    let dir = Dir::new();
    let safe_only = dir.run_stdin(&["-"], NVM);
    assert_eq!(safe_only.stdout, NVM);
    assert!(safe_only
        .stderr
        .ends_with("1 finding in 1 file, 0 fixed, 1 remaining (1 more with --unsafe-fixes)\n"));
    assert_eq!(safe_only.code, 1);
    let unsafe_too = dir.run_stdin(&["--unsafe-fixes", "-"], NVM);
    assert_eq!(unsafe_too.stdout, NVM_FIXED);
    assert_eq!(unsafe_too.code, 0);
}

#[test]
fn stdin_with_another_path_is_a_usage_error() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    for args in [&["-", "Dockerfile"][..], &["Dockerfile", "-"], &["-", "-"]] {
        let run = dir.run_stdin(args, APP);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stdout, "");
        assert_eq!(
            run.stderr,
            "error: `-` (standard input) cannot be combined with other paths\n"
        );
    }
    assert_eq!(dir.read("Dockerfile"), APP);
}

#[test]
fn dash_reports_errors_as_stdin() {
    unroot()
        .arg("-")
        .write_stdin(UNTERMINATED_HEREDOC)
        .assert()
        .code(2)
        // Echoed unchanged (issue 11, D1): a pipe into a new file loses nothing.
        .stdout(UNTERMINATED_HEREDOC)
        .stderr("<stdin>:2: unterminated heredoc\n");
}

/// JSON on standard input prints findings, not the fixed file: findings remain (status 1),
/// as for a file in a dry run.
#[test]
fn issue_4_stdin_json_prints_findings_and_exits_1() {
    let dir = Dir::new();
    let run = dir.run_stdin(&["--format", "json", "-"], APP);
    assert_eq!(run.stderr, "");
    assert_eq!(run.code, 1);
    let findings: Vec<Value> = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["path"], "<stdin>");
    assert_eq!(findings[0]["rule"], "root-user");
    assert_eq!(apply_json_edits(APP, &findings), APP_FIXED);

    let clean = dir.run_stdin(&["--format", "json", "-"], VALID);
    assert_eq!((clean.code, clean.stdout.as_str()), (0, "[]\n"));
}

// ---- --format json ----

#[test]
fn json_carries_findings_with_their_edits() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["--format", "json", "Dockerfile"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "");
    let findings: Vec<Value> = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(findings.len(), 1);
    let finding = &findings[0];
    assert_eq!(finding["path"], "Dockerfile");
    assert_eq!(finding["line"], 1);
    assert_eq!(finding["column"], 1);
    assert_eq!(finding["end_line"], 1);
    assert_eq!(finding["end_column"], 20);
    assert_eq!(finding["rule"], "root-user");
    assert_eq!(
        finding["message"],
        "final stage runs as root: no `USER` (image `node:22-alpine` defaults to root)"
    );
    assert_eq!(finding["fixable"], true);
    let fix = &finding["fix"];
    assert_eq!(fix["title"], "add `USER node` after the last build step");
    assert_eq!(fix["applicability"], "safe");
    let at = APP.find("EXPOSE").expect("APP exposes a port");
    assert_eq!(
        fix["edits"],
        serde_json::json!([{
            "start": at,
            "end": at,
            "start_line": 6,
            "start_column": 1,
            "end_line": 6,
            "end_column": 1,
            "content": "USER node\n",
        }])
    );
    // Nothing is written in a dry run, whatever the format.
    assert_eq!(dir.read("Dockerfile"), APP);
}

#[test]
fn json_edits_applied_to_the_original_give_the_write_result() {
    let dir = Dir::new();
    let sources = [
        ("Dockerfile", APP),
        (
            "alpine.Dockerfile",
            "FROM alpine:3.20\r\nRUN apk add --no-cache nodejs\r\nCMD [\"node\", \"x.js\"]\r\n",
        ),
        (
            "chown.Dockerfile",
            "from node:22\ncopy . /app\nuser root\ncmd [\"node\", \"/app/x.js\"]",
        ),
    ];
    for (name, source) in sources {
        dir.file(name, source);
    }
    let run = dir.run(&["--format", "json", "--chown"]);
    assert_eq!(run.code, 1);
    let findings: Vec<Value> = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    let paths: Vec<&str> = findings
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert_eq!(
        paths,
        ["Dockerfile", "alpine.Dockerfile", "chown.Dockerfile"]
    );
    assert_eq!(dir.run(&["--write", "--chown"]).code, 0);
    for (name, source) in sources {
        let own: Vec<Value> = findings
            .iter()
            .filter(|f| f["path"] == name)
            .cloned()
            .collect();
        assert_eq!(apply_json_edits(source, &own), dir.read(name), "{name}");
        assert_ne!(dir.read(name), source, "{name}");
    }
}

#[test]
fn json_finding_without_fix_has_null_fix() {
    let dir = Dir::new();
    dir.file("Dockerfile", UNSET_USER);
    let run = dir.run(&["--format", "json", "Dockerfile"]);
    assert_eq!(run.code, 1);
    let findings: Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(
        findings,
        serde_json::json!([{
            "path": "Dockerfile",
            "line": 3,
            "column": 1,
            "end_line": 3,
            "end_column": 14,
            "rule": "root-user",
            "message": "cannot tell whether `USER ${UNSET}` is root: a variable in it has no known value",
            "help": "give the variable a default (`ARG NAME=node`) so the user can be checked",
            "fixable": false,
            "fix": null,
        }])
    );
}

#[test]
fn json_carries_unsafe_applicability() {
    let dir = Dir::new();
    dir.file("Dockerfile", NVM);
    let run = dir.run(&["--format", "json", "Dockerfile"]);
    assert_eq!(run.code, 1);
    let findings: Vec<Value> = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(findings[0]["fixable"], true);
    assert_eq!(findings[0]["fix"]["applicability"], "unsafe");
    assert_eq!(apply_json_edits(NVM, &findings), NVM_FIXED);
}

#[test]
fn json_without_findings_is_an_empty_array() {
    let dir = Dir::new();
    dir.file("Dockerfile", VALID);
    let run = dir.run(&["--format", "json"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "[]\n", "")
    );
}

#[test]
fn json_with_write_writes_and_reports_the_findings() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["--format", "json", "--write"]);
    assert_eq!(run.code, 0);
    let findings: Vec<Value> = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(findings.len(), 1);
    assert_eq!(dir.read("Dockerfile"), APP_FIXED);
}

// ---- walking directories ----

#[test]
fn walk_finds_dockerfile_names_only_sorted() {
    let dir = Dir::new();
    for name in [
        "x.dockerfile",
        "Dockerfile.prod",
        "Containerfile",
        "sub/Dockerfile",
        "x.Dockerfile",
        "Containerfile.dev",
        "Dockerfile",
        // The docker CLI's fallback name (in a directory of its own: case-insensitive
        // filesystems have one file for both names).
        "lower/dockerfile",
        // Not Dockerfile names:
        "notes.txt",
        "Dockerfile-old",
        "Dockerfiles",
        // Hidden:
        ".hidden/Dockerfile",
        ".Dockerfile",
    ] {
        dir.file(name, APP);
    }
    // BuildKit's per-Dockerfile ignore files: not Dockerfiles, even if named like one.
    dir.file("Dockerfile.dockerignore", "node_modules\n*.log\n");
    dir.file("sub/app.Dockerfile.dockerignore", "node_modules\n");
    let run = dir.run(&[]);
    assert_eq!(
        reported_paths(&run.stdout),
        [
            "Containerfile",
            "Containerfile.dev",
            "Dockerfile",
            "Dockerfile.prod",
            "lower/dockerfile",
            "sub/Dockerfile",
            "x.Dockerfile",
            "x.dockerfile",
        ]
    );
    // `Containerfile.dev` is not for production: reported, not fixed.
    assert!(run
        .stdout
        .ends_with("8 findings in 8 files, 7 fixable; run with --write to apply\n"));
    assert_eq!((run.code, run.stderr.as_str()), (1, ""));
}

#[test]
fn clean_walk_ends_with_the_number_of_files_checked() {
    let dir = Dir::new();
    for name in ["Dockerfile", "api/dockerfile", "web/app.Dockerfile"] {
        dir.file(name, VALID);
    }
    dir.file("Dockerfile.dockerignore", "node_modules\n");
    let run = dir.run(&[]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "no findings in 3 files\n", "")
    );
    let written = dir.run(&["-w"]);
    assert_eq!(
        (written.code, written.stdout.as_str()),
        (0, "no findings in 3 files\n")
    );
    assert_eq!(dir.read("api/dockerfile"), VALID);
    let one = dir.run(&["Dockerfile"]);
    assert_eq!(one.stdout, "no findings in 1 file\n");
}

#[test]
fn walk_order_is_stable_across_runs() {
    let dir = Dir::new();
    let mut expected = Vec::new();
    for a in ["b", "a", "c"] {
        for b in ["z", "y", "x", "w"] {
            for name in ["Dockerfile", "api.Dockerfile", "Dockerfile.prod"] {
                let path = format!("{a}/{b}/{name}");
                dir.file(&path, APP);
                expected.push(path);
            }
        }
    }
    expected.sort();
    let first = dir.run(&[]);
    assert_eq!(reported_paths(&first.stdout), expected);
    for _ in 0..4 {
        assert_eq!(dir.run(&[]).stdout, first.stdout);
    }
}

#[test]
fn default_path_is_the_current_directory_without_dot_slash() {
    let dir = Dir::new();
    dir.file("sub/Dockerfile", APP);
    let run = dir.run(&[]);
    assert!(
        run.stdout.starts_with("sub/Dockerfile:1:1: root-user: "),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("\n--- a/sub/Dockerfile\n+++ b/sub/Dockerfile\n"));
    assert_eq!(run.code, 1);
    // An explicit `.` keeps the path as walked; the diff headers stay `a/…`, `b/…`.
    let dot = dir.run(&["."]);
    assert!(dot.stdout.starts_with("./sub/Dockerfile:1:1: root-user: "));
    assert!(dot
        .stdout
        .contains("\n--- a/sub/Dockerfile\n+++ b/sub/Dockerfile\n"));
}

#[test]
fn empty_directory_says_no_dockerfile_was_found_and_exits_0() {
    let dir = Dir::new();
    dir.file("README.md", "# nothing to see\n");
    let run = dir.run(&[]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "no Dockerfiles found\n", "")
    );
}

#[test]
fn gitignore_is_honoured_inside_a_git_repository_only() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    dir.file("build/Dockerfile", APP);
    dir.file(".gitignore", "build/\n");
    let outside_git = dir.run(&[]);
    assert_eq!(
        reported_paths(&outside_git.stdout),
        ["Dockerfile", "build/Dockerfile"]
    );
    dir.git_init();
    let run = dir.run(&["-w"]);
    assert_eq!(reported_paths(&run.stdout), ["Dockerfile"]);
    assert_eq!(dir.read("build/Dockerfile"), APP);
    // A file named on the command line is checked even when ignored.
    let named = dir.run(&["build/Dockerfile"]);
    assert_eq!(reported_paths(&named.stdout), ["build/Dockerfile"]);
}

#[test]
fn dot_ignore_and_hidden_directories_are_skipped_without_git() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    dir.file("vendor/Dockerfile", APP);
    dir.file(".ignore", "vendor/\n");
    dir.file(".devcontainer/Dockerfile", APP);
    let run = dir.run(&["-w"]);
    assert_eq!(reported_paths(&run.stdout), ["Dockerfile"]);
    assert_eq!(run.code, 0);
    assert_eq!(dir.read("vendor/Dockerfile"), APP);
    assert_eq!(dir.read(".devcontainer/Dockerfile"), APP);
    // Named explicitly, the hidden directory is walked.
    let named = dir.run(&[".devcontainer"]);
    assert_eq!(reported_paths(&named.stdout), [".devcontainer/Dockerfile"]);
}

#[test]
fn explicit_file_of_any_name_is_checked() {
    let dir = Dir::new();
    dir.file("notes.txt", APP);
    assert_eq!(
        reported_paths(&dir.run(&["notes.txt"]).stdout),
        ["notes.txt"]
    );
}

/// One file named in several ways is checked (and written) once: two checks of it would
/// race to write it and report "changed on disk".
#[test]
fn issue_4_same_file_named_twice_is_checked_once() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["Dockerfile", "./Dockerfile", "."]);
    assert_eq!(reported_paths(&run.stdout), ["Dockerfile"]);
    for _ in 0..5 {
        dir.file("Dockerfile", APP);
        let run = dir.run(&["-w", "Dockerfile", "./Dockerfile", "."]);
        assert_eq!(run.stderr, "");
        assert!(run
            .stdout
            .ends_with("1 finding in 1 file, 1 fixed, 0 remaining\n"));
        assert_eq!(run.code, 0);
        assert_eq!(dir.read("Dockerfile"), APP_FIXED);
    }
}

// ---- errors: the others are still checked and fixed ----

#[test]
fn invalid_file_among_valid_ones_others_still_fixed_exit_2() {
    let dir = Dir::new();
    dir.file("a.Dockerfile", APP);
    dir.file("b.Dockerfile", UNTERMINATED_HEREDOC);
    dir.file("c.Dockerfile", APP);
    let run = dir.run(&["-w"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr, "b.Dockerfile:2: unterminated heredoc\n");
    assert_eq!(
        reported_paths(&run.stdout),
        ["a.Dockerfile", "c.Dockerfile"]
    );
    assert!(run
        .stdout
        .ends_with("2 findings in 2 files, 2 fixed, 0 remaining\n"));
    assert_eq!(dir.read("a.Dockerfile"), APP_FIXED);
    assert_eq!(dir.read("c.Dockerfile"), APP_FIXED);
    assert_eq!(dir.read("b.Dockerfile"), UNTERMINATED_HEREDOC);
}

#[test]
fn error_wins_over_findings_in_a_dry_run() {
    let dir = Dir::new();
    dir.file("a.Dockerfile", APP);
    dir.file("b.Dockerfile", UNTERMINATED_HEREDOC);
    let run = dir.run(&[]);
    assert_eq!(run.code, 2);
    assert_eq!(reported_paths(&run.stdout), ["a.Dockerfile"]);
    assert_eq!(run.stderr, "b.Dockerfile:2: unterminated heredoc\n");
}

// ---- --select / --ignore ----

#[test]
fn select_root_user_reports_it() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["--select", "root-user", "Dockerfile"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, APP_REPORT));
}

#[test]
fn ignore_root_user_leaves_nothing_to_report() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    for args in [
        &["--ignore", "root-user", "Dockerfile"][..],
        &[
            "--select",
            "root-user",
            "--ignore",
            "root-user",
            "Dockerfile",
        ],
        &["-w", "--ignore", "root-user", "Dockerfile"],
    ] {
        let run = dir.run(args);
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (0, "no findings in 1 file\n", ""),
            "{args:?}"
        );
    }
    assert_eq!(dir.read("Dockerfile"), APP);
}

#[test]
fn unknown_rule_is_a_usage_error() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    for args in [
        &["--select", "nope", "Dockerfile"][..],
        &["--select", "root-user,nope", "Dockerfile"],
        &["--ignore", "nope", "Dockerfile"],
        &["-w", "--select", "nope", "Dockerfile"],
    ] {
        let run = dir.run(args);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stdout, "");
        assert_eq!(
            run.stderr,
            "error: unknown rule `nope` (see --list-rules)\n"
        );
    }
    assert_eq!(dir.read("Dockerfile"), APP);
}

// ---- --explain / --list-rules ----

#[test]
fn explain_prints_the_rule_doc_from_its_source() {
    let run = Dir::new().run(&["--explain", "root-user"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "");
    assert_eq!(
        run.stdout,
        format!("# root-user\n\n{}\n", rule_doc_from_source("root_user"))
    );
    assert_eq!(doc_sections(&run.stdout), RULE_DOC_SECTIONS);
    assert!(run.stdout.contains("```dockerfile\nFROM node:26-alpine\n"));
    assert!(run.stdout.contains("\nUse instead:\n"));
}

#[test]
fn explain_unknown_rule_exits_2() {
    let run = Dir::new().run(&["--explain", "nope"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: unknown rule `nope` (see --list-rules)\n"
    );
}

#[test]
fn list_rules_prints_every_rule() {
    let run = Dir::new().run(&["--list-rules"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        "root-user        the final stage runs as root  (same as DL3002, DS002, AVD-DS-0002, CKV_DOCKER_3, CKV_DOCKER_8)\n\
         privileged-port  the image exposes a port below 1024\n\
         floating-tag     a `node` base image tag that moves  (same as DL3006, DL3007, DS001, AVD-DS-0001, CKV_DOCKER_7)\n\
         end-of-life      a `node` base image past its end of life\n\
         deploy-user      a deployment runs the image as root or without a numeric non-root user  (same as CKV_K8S_6, CKV_K8S_20, CKV_K8S_23, CKV_K8S_30, run-as-non-root, privilege-escalation-container, privileged-container)\n\
         \n\
         Node.js release table: 2026-11-24 (shipped with unroot)\n"
    );
}

/// SARIF, rdjson, the language server, commit messages and pull requests link each rule to
/// its page: every rule listed has one.
#[test]
fn every_rule_listed_has_its_page() {
    let run = Dir::new().run(&["--list-rules"]);
    let rules: Vec<&str> = run
        .stdout
        .lines()
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(!rules.is_empty(), "{}", run.stdout);
    for rule in rules {
        let page = format!("{}/docs/rules/{rule}.md", env!("CARGO_MANIFEST_DIR"));
        assert!(Path::new(&page).is_file(), "{page} does not exist");
    }
}

#[test]
fn explain_and_list_rules_take_no_paths() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    for args in [
        &["--explain", "root-user", "Dockerfile"][..],
        &["--list-rules", "Dockerfile"],
        &["--list-rules", "--explain", "root-user"],
    ] {
        let run = dir.run(args);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stdout, "");
        assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    }
}

// ---- --unsafe-fixes ----

#[test]
fn unsafe_fix_is_shown_apart_in_a_dry_run() {
    let dir = Dir::new();
    dir.file("Dockerfile", NVM);
    let run = dir.run(&["Dockerfile"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "Dockerfile:1:1: root-user: final stage runs as root: no `USER` (image `ubuntu:22.04` defaults to root)
  help: the base image has no non-root user: the fix creates `app` (uid/gid 10001); no path the app writes at run time was found (`VOLUME`, `RUN mkdir`, data paths in ENV): if it writes one, give it to the user; Node is installed with nvm under root's home, which the new user cannot read: install it system-wide or under the user's home
  unsafe fix (applied only with --unsafe-fixes): create a user and add `USER app` after the last build step
unsafe fixes for Dockerfile, applied only with --unsafe-fixes:
--- a/Dockerfile
+++ b/Dockerfile
@@ -4,4 +4,6 @@
     && . /root/.nvm/nvm.sh && nvm install 22
 WORKDIR /app
 COPY . .
+RUN groupadd -r -g 10001 app && useradd -r -l -m -u 10001 -g app -s /usr/sbin/nologin app
+USER app
 CMD [\"node\", \"server.js\"]
1 finding in 1 file, 0 fixable (1 more with --unsafe-fixes)
"
    );
    assert_eq!(dir.read("Dockerfile"), NVM);
}

#[test]
fn unsafe_fixes_dry_run_shows_it_as_a_fix() {
    let dir = Dir::new();
    dir.file("Dockerfile", NVM);
    let run = dir.run(&["--unsafe-fixes", "Dockerfile"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains(
        "\n  fix: create a user and add `USER app` after the last build step\n--- a/Dockerfile\n"
    ));
    assert!(!run.stdout.contains("unsafe"), "{}", run.stdout);
    assert!(run
        .stdout
        .ends_with("1 finding in 1 file, 1 fixable; run with --write to apply\n"));
    assert_eq!(dir.read("Dockerfile"), NVM);
}

#[test]
fn write_alone_leaves_an_unsafe_fix_unapplied() {
    let dir = Dir::new();
    dir.file("Dockerfile", NVM);
    let run = dir.run(&["-w", "Dockerfile"]);
    assert_eq!(run.code, 1);
    assert!(run
        .stdout
        .ends_with("1 finding in 1 file, 0 fixed, 1 remaining (1 more with --unsafe-fixes)\n"));
    assert_eq!(dir.read("Dockerfile"), NVM);
}

#[test]
fn write_with_unsafe_fixes_applies_it() {
    let dir = Dir::new();
    dir.file("Dockerfile", NVM);
    let run = dir.run(&["-w", "--unsafe-fixes", "Dockerfile"]);
    assert_eq!(run.code, 0);
    assert!(run
        .stdout
        .ends_with("1 finding in 1 file, 1 fixed, 0 remaining\n"));
    assert_eq!(dir.read("Dockerfile"), NVM_FIXED);
}

// ---- --exit-zero ----

#[test]
fn exit_zero_exits_0_with_findings() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    dir.file("api/Dockerfile", UNSET_USER);
    let run = dir.run(&["--exit-zero", "Dockerfile"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, APP_REPORT));
    let write = dir.run(&["--exit-zero", "-w"]);
    assert_eq!(write.code, 0);
    assert!(write
        .stdout
        .ends_with("2 findings in 2 files, 1 fixed, 1 remaining\n"));
    assert_eq!(dir.read("Dockerfile"), APP_FIXED);
    let stdin = dir.run_stdin(&["--exit-zero", "-"], UNSET_USER);
    assert_eq!(stdin.code, 0);
}

#[test]
fn exit_zero_still_exits_2_on_error() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    dir.file("bad.Dockerfile", UNTERMINATED_HEREDOC);
    assert_eq!(dir.run(&["--exit-zero"]).code, 2);
    assert_eq!(
        dir.run(&["--exit-zero", "-w", "Dockerfile", "missing"])
            .code,
        2
    );
    assert_eq!(dir.read("Dockerfile"), APP_FIXED);
    assert_eq!(dir.run(&["--exit-zero", "--select", "nope"]).code, 2);
}

// ---- --user, --numeric-user, --all-images, --chown ----

/// `--write` with `flags` on `source`; returns the file after.
fn written_with(flags: &[&str], source: &str) -> String {
    let dir = Dir::new();
    dir.file("Dockerfile", source);
    let mut args = vec!["-w"];
    args.extend_from_slice(flags);
    args.push("Dockerfile");
    let run = dir.run(&args);
    assert_eq!(run.code, 0, "{flags:?}: {run:?}");
    dir.read("Dockerfile")
}

#[test]
fn user_flag_chooses_the_user() {
    assert_eq!(
        written_with(&["--user", "app"], APP),
        APP_FIXED.replace("USER node", "USER app")
    );
    assert_eq!(
        written_with(&["--user", "1001:1001"], APP),
        APP_FIXED.replace("USER node", "USER 1001:1001")
    );
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["--user", "app", "Dockerfile"]);
    assert!(run.stdout.contains(
        "\n  help: the user was chosen with `--user`; it must exist in the image; no path the app writes at run time was found (`VOLUME`, `RUN mkdir`, data paths in ENV): if it writes one, give it to the user\n  fix: add `USER app` after the last build step\n"
    ));
}

#[test]
fn invalid_user_is_a_usage_error() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    for value in ["1000 # node", "node:", ":1000", ""] {
        let run = dir.run(&["-w", "--user", value, "Dockerfile"]);
        assert_eq!(run.code, 2, "{value:?}");
        assert_eq!(run.stdout, "");
        assert!(
            run.stderr.starts_with(&format!(
                "error: invalid value '{value}' for '--user <NAME|UID[:GID]>': `{value}` is not NAME, UID, NAME:GROUP or UID:GID\n"
            )),
            "{}",
            run.stderr
        );
    }
    assert_eq!(dir.read("Dockerfile"), APP);
}

#[test]
fn numeric_user_writes_uid_and_gid() {
    assert_eq!(
        written_with(&["--numeric-user"], APP),
        APP_FIXED.replace("USER node", "USER 1000:1000")
    );
}

#[test]
fn all_images_checks_images_without_node() {
    let dir = Dir::new();
    let nginx = "FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n";
    let python = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n";
    dir.file("nginx.Dockerfile", nginx);
    dir.file("python.Dockerfile", python);
    dir.file(
        "windows.Dockerfile",
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD [\"node\", \"x.js\"]\n",
    );
    let without = dir.run(&[]);
    assert_eq!(
        (without.code, without.stdout.as_str()),
        (0, "no findings in 3 files\n")
    );
    let with = dir.run(&["--all-images"]);
    assert_eq!(with.code, 1);
    assert_eq!(
        with.stdout,
        "nginx.Dockerfile:1:1: root-user: final stage runs as root: no `USER` (image `nginx:1.27` defaults to root)
  help: unroot does not know how to create a user on `nginx:1.27`: add `USER <non-root user>` by hand or pass `--user`
  no automatic fix: this needs a person
python.Dockerfile:1:1: root-user: final stage runs as root: no `USER` (image `python:3.12-slim` defaults to root)
  help: unroot does not know how to create a user on `python:3.12-slim`: add `USER <non-root user>` by hand or pass `--user`
  no automatic fix: this needs a person
2 findings in 2 files, 0 fixable
"
    );
    // With a user to switch to, they are fixed; Windows images are never touched.
    let write = dir.run(&["--all-images", "--user", "1000", "-w"]);
    assert_eq!(write.code, 0);
    assert_eq!(
        dir.read("python.Dockerfile"),
        python.replace("CMD", "USER 1000\nCMD")
    );
    assert_eq!(dir.read("nginx.Dockerfile"), format!("{nginx}USER 1000\n"));
}

const MULTI_STAGE: &str = "\
FROM node:22-alpine AS build
WORKDIR /app
COPY . .
RUN npm ci && npm run build

FROM node:22-alpine
WORKDIR /app
COPY --from=build /app/dist ./dist
COPY package*.json ./
ADD config.tar.gz /app/config/
RUN npm ci --omit=dev
CMD [\"node\", \"dist/server.js\"]
";

#[test]
fn chown_adds_the_owner_to_the_app_copies_of_the_final_stage() {
    assert_eq!(
        written_with(&["--chown"], MULTI_STAGE),
        MULTI_STAGE
            .replace("COPY package", "COPY --chown=node:node package")
            .replace("ADD config", "ADD --chown=node:node config")
            .replace(
                "RUN npm ci --omit=dev\n",
                "RUN npm ci --omit=dev\nUSER node\n"
            )
    );
    // Without --chown, no COPY changes.
    assert_eq!(
        written_with(&[], MULTI_STAGE),
        MULTI_STAGE.replace(
            "RUN npm ci --omit=dev\n",
            "RUN npm ci --omit=dev\nUSER node\n"
        )
    );
    assert_eq!(
        written_with(&["--chown", "--numeric-user"], MULTI_STAGE),
        MULTI_STAGE
            .replace("COPY package", "COPY --chown=1000:1000 package")
            .replace("ADD config", "ADD --chown=1000:1000 config")
            .replace(
                "RUN npm ci --omit=dev\n",
                "RUN npm ci --omit=dev\nUSER 1000:1000\n"
            )
    );
}

// ---- suppression pragmas ----

#[test]
fn pragmas_suppress_root_user() {
    let tail = "WORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n";
    let cases = [
        (
            "unroot above the reported FROM",
            format!("# unroot ignore=root-user\nFROM node:22\n{tail}"),
        ),
        (
            "unroot list above the reported USER",
            format!("FROM node:22\n{tail}# unroot ignore=floating-tag,root-user\nUSER root\n"),
        ),
        (
            "unroot global at the end",
            format!("FROM node:22\n{tail}# unroot global ignore=root-user\n"),
        ),
        (
            "hadolint above FROM",
            format!("# hadolint ignore=DL3002\nFROM node:22\n{tail}"),
        ),
        (
            "hadolint list",
            format!("# hadolint ignore=DL3008,DL3002\nFROM node:22\n{tail}"),
        ),
        (
            "hadolint followed by a comment",
            format!("# hadolint ignore=DL3002 # binds port 80 as root\nFROM node:22\n{tail}"),
        ),
        (
            "unroot followed by a comment",
            format!("# unroot ignore=root-user # legacy image\nFROM node:22\n{tail}"),
        ),
        (
            "hadolint global",
            format!("FROM node:22\n# hadolint global ignore=DL3002\n{tail}"),
        ),
        (
            "trivy AVD id",
            format!("# trivy:ignore:AVD-DS-0002\nFROM node:22\n{tail}"),
        ),
        (
            "trivy short id",
            format!("# trivy:ignore:DS002\nFROM node:22\n{tail}"),
        ),
        (
            "checkov 3 with reason, file-wide",
            format!("FROM node:22\n{tail}# checkov:skip=CKV_DOCKER_3:runs as root on purpose\n"),
        ),
        (
            "checkov 8",
            format!("# checkov:skip=CKV_DOCKER_8\nFROM node:22\n{tail}"),
        ),
    ];
    let dir = Dir::new();
    for (case, source) in &cases {
        dir.file("Dockerfile", source);
        let run = dir.run(&["-w", "Dockerfile"]);
        assert_eq!(
            (run.code, run.stdout.as_str(), run.stderr.as_str()),
            (0, "no findings in 1 file\n", ""),
            "{case}"
        );
        assert_eq!(&dir.read("Dockerfile"), source, "{case}");
    }
}

#[test]
fn pragmas_elsewhere_do_not_suppress() {
    let cases = [
        (
            "above an instruction that is not reported",
            "FROM node:22\nRUN npm ci\n# unroot ignore=root-user\nCMD [\"node\", \"x\"]\n",
        ),
        (
            "a blank line detaches it",
            "# unroot ignore=root-user\n\nFROM node:22\nRUN npm ci\nCMD [\"node\", \"x\"]\n",
        ),
        (
            "another hadolint rule",
            "# hadolint ignore=DL3008\nFROM node:22\nRUN npm ci\nCMD [\"node\", \"x\"]\n",
        ),
        (
            "another checkov check",
            "# checkov:skip=CKV_DOCKER_2\nFROM node:22\nRUN npm ci\nCMD [\"node\", \"x\"]\n",
        ),
        (
            "trivy names one instruction",
            "FROM node:22\n# trivy:ignore:DS002\nRUN npm ci\nCMD [\"node\", \"x\"]\n",
        ),
    ];
    let dir = Dir::new();
    for (case, source) in cases {
        dir.file("Dockerfile", source);
        let run = dir.run(&["Dockerfile"]);
        assert_eq!(run.code, 1, "{case}: {run:?}");
        assert_eq!(reported_paths(&run.stdout), ["Dockerfile"], "{case}");
    }
}

// ---- the style of the inserted text ----

#[test]
fn crlf_file_gets_crlf_lines() {
    assert_eq!(
        written_with(
            &[],
            "FROM node:22\r\nRUN npm ci\r\nCMD [\"node\", \"x\"]\r\n"
        ),
        "FROM node:22\r\nRUN npm ci\r\nUSER node\r\nCMD [\"node\", \"x\"]\r\n"
    );
    assert_eq!(
        written_with(&[], "FROM alpine:3.20\r\nRUN apk add nodejs\r\nCMD [\"node\", \"x\"]\r\n"),
        "FROM alpine:3.20\r\nRUN apk add nodejs\r\nRUN addgroup -S -g 10001 app && adduser -S -D -u 10001 -G app -h /home/app app\r\nUSER app\r\nCMD [\"node\", \"x\"]\r\n"
    );
}

#[test]
fn lowercase_file_gets_lowercase_keywords() {
    assert_eq!(
        written_with(&[], "from node:22\nrun npm ci\ncmd [\"node\", \"x\"]\n"),
        "from node:22\nrun npm ci\nuser node\ncmd [\"node\", \"x\"]\n"
    );
    assert_eq!(
        written_with(&[], "from alpine:3.20\nrun apk add nodejs\ncmd [\"node\", \"x\"]\n"),
        "from alpine:3.20\nrun apk add nodejs\nrun addgroup -S -g 10001 app && adduser -S -D -u 10001 -G app -h /home/app app\nuser app\ncmd [\"node\", \"x\"]\n"
    );
}

#[test]
fn file_without_final_newline_stays_without_one() {
    assert_eq!(
        written_with(&[], "FROM node:22\nRUN npm ci\nCMD [\"node\", \"x\"]"),
        "FROM node:22\nRUN npm ci\nUSER node\nCMD [\"node\", \"x\"]"
    );
    // The last build step ends the file (the CMD is the parent stage's).
    assert_eq!(
        written_with(&[], "FROM node:22 AS app\nCMD node x\nFROM app\nRUN npm ci"),
        "FROM node:22 AS app\nCMD node x\nFROM app\nRUN npm ci\nUSER node"
    );
}

// ---- colour ----

const ESC: &str = "\x1b[";

#[test]
fn color_always_styles_the_report() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["--color", "always", "Dockerfile"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with(
        "\x1b[1mDockerfile\x1b[0m:1:1: \x1b[1m\x1b[31mroot-user\x1b[0m: final stage runs as root"
    ));
    assert!(run.stdout.contains("\n\x1b[32m+USER node\x1b[0m\n"));
    // Stripped of its styles, it is the plain report.
    let plain = run.stdout.replace("\x1b[0m", "").replace("\x1b[1m", "");
    let plain = ["\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m"]
        .iter()
        .fold(plain, |text, code| text.replace(code, ""));
    assert_eq!(plain, APP_REPORT);
}

#[test]
fn color_never_and_no_color_emit_no_escapes() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let never = dir.run(&["--color", "never", "Dockerfile"]);
    assert_eq!(never.stdout, APP_REPORT);
    // Auto on a pipe: no colour, unless forced; NO_COLOR wins over the force.
    assert_eq!(dir.run(&["Dockerfile"]).stdout, APP_REPORT);
    let forced = Run::of(
        dir.command()
            .env("CLICOLOR_FORCE", "1")
            .arg("Dockerfile")
            .output()
            .expect("run unroot"),
    );
    assert!(forced.stdout.contains(ESC), "{:?}", forced.stdout);
    let no_color = Run::of(
        dir.command()
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1")
            .arg("Dockerfile")
            .output()
            .expect("run unroot"),
    );
    assert_eq!(no_color.stdout, APP_REPORT);
    // --color always is an explicit request: it overrides NO_COLOR.
    let always = Run::of(
        dir.command()
            .env("NO_COLOR", "1")
            .args(["--color", "always", "Dockerfile"])
            .output()
            .expect("run unroot"),
    );
    assert!(always.stdout.contains(ESC));
}

#[test]
fn color_never_touches_the_fixed_file_or_json() {
    let dir = Dir::new();
    let stdin = dir.run_stdin(&["--color", "always", "-"], APP);
    assert_eq!(stdin.stdout, APP_FIXED);
    assert!(stdin.stderr.contains(ESC));
    dir.file("Dockerfile", APP);
    let json = dir.run(&["--color", "always", "--format", "json"]);
    assert!(!json.stdout.contains(ESC));
    serde_json::from_str::<Value>(&json.stdout).expect("stdout is JSON");
}

// ---- usage: --help, --version, bad arguments ----

/// `--help` lists exactly what is implemented: a new flag is added on purpose.
#[test]
fn help_lists_exactly_the_implemented_options() {
    let run = Dir::new().run(&["--help"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "");
    let options: Vec<&str> = run
        .stdout
        .lines()
        // Option lines are indented by 2 or 6 spaces; wrapped help text by 10.
        .filter(|line| line.len() - line.trim_start().len() <= 6)
        .map(str::trim_start)
        .filter(|line| line.starts_with('-'))
        .flat_map(|line| line.split([',', ' ']))
        // `-` alone marks a possible value (`- text: …`), not an option.
        .filter(|word| word.starts_with('-') && word.len() > 1)
        .collect();
    assert_eq!(
        options,
        [
            "-h",
            "--help",
            "-V",
            "--version",
            "-w",
            "--write",
            "-i",
            "--interactive",
            "--unsafe-fixes",
            "--stdin-filename",
            "--add-ignore",
            "--exit-zero",
            "--exit-non-zero-on-fix",
            "--config",
            "--isolated",
            "--explain",
            "--list-rules",
            "--select",
            "--ignore",
            "--user",
            "--numeric-user",
            "--uid",
            "--all-images",
            "--chown",
            "--port-map",
            "--pin",
            "--registry",
            "--timeout",
            "--node-release-table",
            "--format",
            "-o",
            "--output-file",
            "--statistics",
            "-q",
            "--quiet",
            "-v",
            "--verbose",
            "--color",
            "--branch",
            "--base",
            "--author",
            "--commit-template",
            "--push",
            "--pr",
            "--forge",
            "--api-url",
            "--token-host",
            "--dry-run",
            "--completions",
            "--man",
            "--show-config",
        ]
    );
    snapshot!("help_long", run.stdout);
}

#[test]
fn short_help_is_pinned() {
    let run = Dir::new().run(&["-h"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    snapshot!("help_short", run.stdout);
}

#[test]
fn version_prints_the_crate_version() {
    unroot()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("unroot {}\n", env!("CARGO_PKG_VERSION")))
        .stderr("");
}

#[test]
fn unknown_flag_or_value_is_a_usage_error() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    for (args, message) in [
        (
            &["--autofix", "Dockerfile"][..],
            "error: unexpected argument '--autofix' found",
        ),
        (
            &["--format", "xml"],
            "error: invalid value 'xml' for '--format <FORMAT>'",
        ),
        (
            &["--color", "sometimes"],
            "error: invalid value 'sometimes' for '--color <WHEN>'",
        ),
    ] {
        let run = dir.run(args);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stdout, "");
        assert!(run.stderr.starts_with(message), "{}", run.stderr);
    }
    assert_eq!(dir.read("Dockerfile"), APP);
}

// ---- files unroot cannot read or parse: exit 2, one `path:line: message` line ----

fn stderr_of(path: &Path, args_before: &[&str]) -> (Option<i32>, String, String) {
    let output = unroot()
        .args(args_before)
        .arg(path)
        .output()
        .expect("run unroot");
    (
        output.status.code(),
        String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    )
}

/// Run unroot on one file and check: exit status 2, nothing on stdout, and exactly one
/// line on stderr starting with `path:line: `; also with --write, which leaves the file
/// as it was. Returns the message after the prefix.
fn rejected(path: &Path, line: usize) -> String {
    let before = std::fs::read(path).expect("read the test file");
    let mut messages = Vec::new();
    for args in [&[][..], &["--write"]] {
        let (code, stdout, stderr) = stderr_of(path, args);
        assert_eq!(code, Some(2), "stderr: {stderr}");
        assert_eq!(stdout, "");
        let prefix = format!("{}:{line}: ", path.display());
        let message = stderr
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix('\n'))
            .unwrap_or_else(|| {
                panic!("expected one line starting with {prefix:?}, got {stderr:?}")
            });
        assert!(!message.is_empty() && !message.contains('\n'), "{stderr:?}");
        messages.push(message.to_owned());
    }
    assert_eq!(std::fs::read(path).expect("read the test file"), before);
    assert_eq!(messages[0], messages[1]);
    messages.remove(0)
}

#[test]
fn unterminated_heredoc_is_rejected() {
    let dir = Dir::new();
    let path = dir.file("Dockerfile", UNTERMINATED_HEREDOC);
    assert_eq!(rejected(&path, 2), "unterminated heredoc");
}

#[test]
fn invalid_escape_directive_is_rejected() {
    let dir = Dir::new();
    let path = dir.file("Dockerfile", "# escape=x\nFROM node:22-alpine\n");
    assert_eq!(
        rejected(&path, 1),
        "invalid escape token 'x' does not match ` or \\"
    );
}

#[test]
fn nul_byte_is_rejected() {
    let dir = Dir::new();
    let path = dir.file("Dockerfile", "FROM node:22-alpine\nRUN echo \0\n");
    let message = rejected(&path, 2);
    assert!(message.contains("NUL"), "{message}");
}

#[test]
fn non_utf8_is_rejected() {
    let dir = Dir::new();
    let path = dir.file("Dockerfile", b"FROM node:22-alpine\nLABEL x=\xff\xfe\n");
    let message = rejected(&path, 2);
    assert!(message.contains("UTF-8"), "{message}");
}

#[test]
fn file_over_4_mib_is_rejected() {
    let dir = Dir::new();
    let mut contents = String::from("FROM node:22-alpine\n");
    while contents.len() <= unroot::syntax::MAX_FILE_SIZE {
        contents.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    let path = dir.file("Dockerfile", contents);
    let message = rejected(&path, 1);
    assert!(message.contains("4 MiB"), "{message}");
}

#[test]
fn file_of_exactly_4_mib_is_accepted() {
    let dir = Dir::new();
    let mut contents = String::from("FROM node:22-alpine\nUSER node\n");
    let padding = unroot::syntax::MAX_FILE_SIZE - contents.len() - 1;
    contents.push('#');
    contents.push_str(&" ".repeat(padding - 1));
    contents.push('\n');
    assert_eq!(contents.len(), unroot::syntax::MAX_FILE_SIZE);
    let path = dir.file("Dockerfile", contents);
    unroot()
        .arg(&path)
        .assert()
        .success()
        .stdout("no findings in 1 file\n")
        .stderr("");
}

#[test]
fn only_the_invalid_file_of_several_is_reported() {
    let dir = Dir::new();
    let good1 = dir.file("good1.Dockerfile", VALID);
    let bad = dir.file("bad.Dockerfile", UNTERMINATED_HEREDOC);
    let good2 = dir.file("good2.Dockerfile", VALID);
    unroot()
        .args([&good1, &bad, &good2])
        .assert()
        .code(2)
        .stdout("no findings in 2 files\n")
        .stderr(format!("{}:2: unterminated heredoc\n", bad.display()));
}

#[test]
fn every_invalid_file_is_reported_in_command_line_order() {
    let dir = Dir::new();
    let bad1 = dir.file("bad1.Dockerfile", UNTERMINATED_HEREDOC);
    let good = dir.file("good.Dockerfile", VALID);
    let bad2 = dir.file("bad2.Dockerfile", UNTERMINATED_HEREDOC);
    unroot()
        .args([&bad2, &good, &bad1])
        .assert()
        .code(2)
        .stderr(format!(
            "{}:2: unterminated heredoc\n{}:2: unterminated heredoc\n",
            bad2.display(),
            bad1.display()
        ));
}

#[test]
fn missing_file_is_reported_and_the_others_still_checked() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["-w", "missing/Dockerfile", "Dockerfile"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "missing/Dockerfile: No such file or directory (os error 2)\n"
    );
    assert_eq!(reported_paths(&run.stdout), ["Dockerfile"]);
    assert_eq!(dir.read("Dockerfile"), APP_FIXED);
}

/// More messages than a pipe holds, to a reader that has gone: unroot must neither
/// panic (status 101) nor hang, and still says the run failed.
#[test]
fn closed_stderr_exits_quietly_with_status_2() {
    let dir = Dir::new();
    let bad = dir.file(
        &format!("{}.Dockerfile", "x".repeat(200)),
        UNTERMINATED_HEREDOC,
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_unroot"))
        .args(vec![&bad; 2000])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run unroot");
    // Read a little so the first write surely happened, then hang up.
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let mut first = [0u8; 16];
    stderr
        .read_exact(&mut first)
        .expect("unroot writes an error");
    drop(stderr);
    let status = child.wait().expect("wait for unroot");
    assert_eq!(status.code(), Some(2));
}

/// The report of many findings to a reader that has gone: no panic, status 1.
#[test]
fn closed_stdout_exits_quietly_with_status_1() {
    let dir = Dir::new();
    for i in 0..300 {
        dir.file(&format!("{i:03}.Dockerfile"), APP);
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_unroot"))
        .current_dir(dir.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run unroot");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut first = [0u8; 16];
    stdout
        .read_exact(&mut first)
        .expect("unroot writes a finding");
    drop(stdout);
    let output = child.wait_with_output().expect("wait for unroot");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

/// D1: output that does not reach its reader is an error (exit 2, said on stderr), so
/// `unroot - < Dockerfile > new && mv new Dockerfile` never replaces a file with less of it.
#[test]
fn output_to_a_full_disk_is_an_error() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
    };
    let command = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_unroot"));
        command
            .current_dir(dir.root())
            .env("UNROOT_TODAY", common::TODAY);
        command
    };
    for args in [
        &["-"][..],
        &["--stdin-filename", "Dockerfile"],
        &["Dockerfile"],
        &["--format", "json", "Dockerfile"],
        &["--format", "sarif", "Dockerfile"],
        &["--format", "diff", "Dockerfile"],
        &["--list-rules"],
        &["--explain", "root-user"],
        &["--show-config"],
        &["--help"],
    ] {
        let output = command()
            .args(args)
            .stdin(std::fs::File::open(dir.path("Dockerfile")).expect("open"))
            .stdout(full())
            .output()
            .expect("run unroot");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        if args != ["--help"] {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains("error: writing to standard output: No space left on device"),
                "{args:?}: {stderr}"
            );
        }
    }
    // Errors that cannot be said: still exit 2.
    let output = command()
        .args(["missing/Dockerfile"])
        .stderr(full())
        .stdout(Stdio::null())
        .output()
        .expect("run unroot");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(dir.read("Dockerfile"), APP);
}

/// A file that cannot be parsed goes through a pipe unchanged, as with ruff: the pipe loses
/// nothing, and the status says it was not checked.
#[test]
fn stdin_that_cannot_be_parsed_is_echoed_unchanged() {
    let dir = Dir::new();
    let run = dir.run_stdin(&["-"], UNTERMINATED_HEREDOC);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, UNTERMINATED_HEREDOC);
    assert!(run.stderr.starts_with("<stdin>:2: "), "{}", run.stderr);
    // Larger than unroot checks: all of it comes out, not only what was read.
    let big = format!("FROM node:22\n{}", "# padding\n".repeat(500_000));
    let run = dir.run_stdin(&["-"], &big);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout.len(), big.len());
    assert!(run.stdout == big);
    // The JSON format carries findings, not the file.
    let run = dir.run_stdin(&["--format", "json", "-"], UNTERMINATED_HEREDOC);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
}

/// W3, W4: values that would make a fix that is no fix are refused before anything is read.
#[test]
fn root_users_and_colliding_port_maps_are_refused() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    for args in [
        &["--user", "root", "--write"][..],
        &["--user", "0:0", "--write"],
        &["--user", "99999999999", "--write"],
        &["--user", "${X}", "--write"],
        &["--port-map", "80:3000,443:3000", "--write"],
    ] {
        let run = dir.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error"), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        assert_eq!(dir.read("Dockerfile"), APP, "{args:?}");
    }
    dir.file("unroot.toml", "user = \"root\"\n");
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("unroot.toml:1: `user`: `root` is root"),
        "{}",
        run.stderr
    );
    dir.file("unroot.toml", "port-map = { 80 = 3000, 443 = 3000 }\n");
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("both map to 3000"), "{}", run.stderr);
    assert_eq!(dir.read("Dockerfile"), APP);
}

/// W5: a directory the walk cannot read is reported (exit 2), as an unreadable file is; the
/// files around it are still checked. Run as an unprivileged user (`setpriv`, when the tests
/// run as root), since root reads any directory.
#[test]
fn an_unreadable_directory_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    dir.file("ok/Dockerfile", APP);
    dir.file("locked/Dockerfile", APP);
    let mode = |path: &str, mode: u32| {
        std::fs::set_permissions(dir.path(path), std::fs::Permissions::from_mode(mode))
            .expect("chmod")
    };
    mode(".", 0o755);
    mode("ok", 0o755);
    mode("ok/Dockerfile", 0o644);
    mode("locked", 0o000);
    let root = common::running_as_root();
    let mut command = if root {
        let mut command = std::process::Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_unroot"));
        command
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_unroot"))
    };
    let output = command
        .current_dir(dir.root())
        .env("UNROOT_TODAY", common::TODAY)
        .output()
        .expect("run unroot");
    mode("locked", 0o755);
    let run = common::Run::of(output);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr, "locked: Permission denied (os error 13)\n");
    assert_eq!(reported_paths(&run.stdout), ["ok/Dockerfile"]);
}

/// M1: `--write` keeps the file's owner and group, and leaves alone what a rename would
/// change: hard links (split) and read-only files. The others are written all the same.
#[test]
fn write_keeps_the_owner_and_leaves_links_and_read_only_files() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = Dir::new();
    let owned = dir.file("owned/Dockerfile", APP);
    let linked = dir.file("linked/Dockerfile", APP);
    std::fs::hard_link(&linked, dir.path("linked/copy.txt")).expect("hard link");
    let read_only = dir.file("readonly/Dockerfile", APP);
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let root = common::running_as_root();
    if root {
        std::os::unix::fs::chown(&owned, Some(1234), Some(5678)).expect("chown");
    }
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("linked/Dockerfile: has 2 hard links; replacing it would split them"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("readonly/Dockerfile: is read-only; not written"),
        "{}",
        run.stderr
    );
    assert_eq!(dir.read("linked/Dockerfile"), APP);
    assert_eq!(dir.read("linked/copy.txt"), APP);
    assert_eq!(dir.read("readonly/Dockerfile"), APP);
    assert_eq!(dir.read("owned/Dockerfile"), APP_FIXED);
    if root {
        let meta = std::fs::metadata(&owned).expect("metadata");
        assert_eq!((meta.uid(), meta.gid()), (1234, 5678));
    }
}
