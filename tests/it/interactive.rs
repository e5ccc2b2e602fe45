//! `--interactive`, driven for real through a pseudo-terminal (expectrl), alone and with
//! `--branch`, and its refusal when standard input is not a terminal.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession as Session;
use expectrl::{Eof, Expect};

/// Three fixes, in this order: root-user (safe), floating-tag (safe), privileged-port (unsafe).
const SOURCE: &str = "FROM node:lts\nRUN npm ci\nEXPOSE 80\nCMD [\"node\",\"x\"]\n";
const WITH_USER: &str = "FROM node:lts\nRUN npm ci\nUSER node\nEXPOSE 80\nCMD [\"node\",\"x\"]\n";
const WITH_PIN: &str = "FROM node:26.7.0\nRUN npm ci\nEXPOSE 80\nCMD [\"node\",\"x\"]\n";
const ALL: &str =
    "FROM node:26.7.0\nRUN npm ci\nUSER node\nENV PORT=8080\nEXPOSE 8080\nCMD [\"node\",\"x\"]\n";

/// The prompt's menu: `j` moves down, Enter picks, `q` quits.
const YES: &str = "\r";
const NO: &str = "j\r";
const ALL_IN_FILE: &str = "jj\r";
const QUIT: &str = "q";

fn session(dir: &Path, args: &[&str]) -> Session {
    spawn(unroot(dir, args))
}

fn unroot(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_unroot"));
    command
        .current_dir(dir)
        .args(args)
        .env("UNROOT_TODAY", common::TODAY)
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .env_remove("CI");
    command
}

fn spawn(command: Command) -> Session {
    let mut session = Session::spawn(command).expect("spawn unroot in a pseudo-terminal");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

/// Waits for the prompt of fix `n` of `total`, then answers.
fn answer(session: &mut Session, n: usize, total: usize, keys: &str) {
    session
        .expect(format!("Apply this fix? ({n} of {total} in Dockerfile)"))
        .expect("the prompt");
    session.send(keys).expect("answer");
}

/// Reads the rest of the output and returns it with the exit code.
fn finish(mut session: Session) -> (String, i32) {
    let captured = session.expect(Eof).expect("unroot ends");
    let output = String::from_utf8_lossy(captured.as_bytes()).into_owned();
    let code = match session.get_process().wait().expect("wait for unroot") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("unroot did not exit: {other:?}"),
    };
    (output, code)
}

fn dir_with(source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("Dockerfile"), source).expect("write the Dockerfile");
    dir
}

fn contents(dir: &tempfile::TempDir) -> String {
    std::fs::read_to_string(dir.path().join("Dockerfile")).expect("read the Dockerfile")
}

#[test]
fn accept_one_reject_one_then_quit() {
    let dir = dir_with(SOURCE);
    let mut run = session(dir.path(), &["-i", "--color", "never"]);
    answer(&mut run, 1, 3, YES);
    // Nothing is written before the file's questions are over.
    answer(&mut run, 2, 3, NO);
    assert_eq!(contents(&dir), SOURCE);
    // The unsafe fix is offered too, marked as such.
    run.expect("unsafe fix").expect("the unsafe fix is marked");
    answer(&mut run, 3, 3, QUIT);
    let (output, code) = finish(run);
    assert_eq!(contents(&dir), WITH_USER, "{output}");
    assert!(
        output.contains("1 fix applied, 2 skipped, 1 file written"),
        "{output}"
    );
    assert_eq!(code, 1, "findings remain: {output}");
}

#[test]
fn reject_the_first_and_accept_the_second() {
    let dir = dir_with(SOURCE);
    let mut run = session(dir.path(), &["-i", "--color", "never"]);
    answer(&mut run, 1, 3, NO);
    answer(&mut run, 2, 3, YES);
    answer(&mut run, 3, 3, NO);
    let (output, code) = finish(run);
    assert_eq!(contents(&dir), WITH_PIN, "{output}");
    assert!(output.contains("1 fix applied, 2 skipped"), "{output}");
    assert_eq!(code, 1);
}

#[test]
fn quit_at_once_writes_nothing() {
    let dir = dir_with(SOURCE);
    let mut run = session(dir.path(), &["-i"]);
    answer(&mut run, 1, 3, QUIT);
    let (output, _) = finish(run);
    assert_eq!(contents(&dir), SOURCE, "{output}");
    assert!(
        output.contains("0 fixes applied, 3 skipped, 0 files written"),
        "{output}"
    );
}

#[test]
fn all_applies_the_rest_of_the_file_unsafe_fixes_included() {
    let dir = dir_with(SOURCE);
    let mut run = session(dir.path(), &["-i"]);
    answer(&mut run, 1, 3, ALL_IN_FILE);
    let (output, code) = finish(run);
    assert_eq!(contents(&dir), ALL, "{output}");
    assert!(
        output.contains("3 fixes applied, 0 skipped, 1 file written"),
        "{output}"
    );
    assert_eq!(code, 0, "{output}");
}

#[test]
fn quit_leaves_the_next_files_alone() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for name in ["a", "b"] {
        std::fs::create_dir(dir.path().join(name)).expect("mkdir");
        std::fs::write(dir.path().join(name).join("Dockerfile"), SOURCE).expect("write");
    }
    let mut run = session(dir.path(), &["-i", "--select", "root-user"]);
    run.expect("Apply this fix? (1 of 1 in a/Dockerfile)")
        .expect("first file");
    run.send(YES).expect("answer");
    run.expect("Apply this fix? (1 of 1 in b/Dockerfile)")
        .expect("second file");
    // The first file is written before the second is asked about.
    let first = std::fs::read_to_string(dir.path().join("a/Dockerfile")).expect("read");
    assert_eq!(first, WITH_USER);
    run.send(QUIT).expect("quit");
    let (output, _) = finish(run);
    let second = std::fs::read_to_string(dir.path().join("b/Dockerfile")).expect("read");
    assert_eq!(second, SOURCE, "{output}");
}

#[test]
fn the_diff_of_each_fix_alone_is_coloured_on_a_terminal() {
    let dir = dir_with(SOURCE);
    let mut run = session(dir.path(), &["-i", "--select", "root-user"]);
    // Green `+USER node` (ANSI 32), and nothing of the other fixes.
    run.expect("\u{1b}[32m+USER node").expect("coloured diff");
    run.send(NO).expect("answer");
    let (output, _) = finish(run);
    assert!(!output.contains("26.7.0"), "{output}");
    assert_eq!(contents(&dir), SOURCE);
}

#[test]
fn refuses_without_a_terminal() {
    let dir = dir_with(SOURCE);
    let output = assert_cmd::Command::cargo_bin("unroot")
        .expect("the binary")
        .current_dir(dir.path())
        .env("UNROOT_TODAY", common::TODAY)
        .arg("-i")
        .write_stdin("")
        .output()
        .expect("run unroot");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--interactive needs a terminal"),
        "{stderr}"
    );
    assert_eq!(contents(&dir), SOURCE);
}

/// Two fixes, in this order: root-user (safe), floating-tag (safe).
const TWO: &str = "FROM node:lts\nRUN npm ci\nCMD [\"node\",\"x\"]\n";
const TWO_WITH_USER: &str = "FROM node:lts\nRUN npm ci\nUSER node\nCMD [\"node\",\"x\"]\n";
/// The working tree's version: TWO with an uncommitted change.
const TWO_CHANGED: &str = "FROM node:lts\nRUN npm ci\nCMD [\"node\",\"x\"]\n# local change\n";

/// A git repository on `main` holding TWO, committed, with an isolated HOME and an identity.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        Repo::with(&[("Dockerfile", TWO)])
    }

    /// A repository holding `files` (name, text), committed.
    fn with(files: &[(&str, &str)]) -> Repo {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        std::fs::create_dir_all(dir.path().join("repo")).expect("repo");
        let repo = Repo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Dev One"]);
        repo.git(&["config", "user.email", "dev@example.com"]);
        for (name, text) in files {
            let path = repo.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("directories");
            std::fs::write(path, text).expect("write a file");
        }
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "initial commit"]);
        repo
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    fn env(&self, command: &mut Command) {
        common::isolate_git(command, &self.dir.path().join("home"));
        command.env("UNROOT_TODAY", common::TODAY);
    }

    /// `git ARGS` in the repository: its status and standard output.
    fn git_status(&self, args: &[&str]) -> (bool, String) {
        let mut command = Command::new("git");
        self.env(&mut command);
        let output = command
            .current_dir(self.path())
            .args(args)
            .output()
            .expect("git runs");
        let stdout = String::from_utf8(output.stdout).expect("git prints UTF-8");
        (output.status.success(), stdout)
    }

    fn git(&self, args: &[&str]) -> String {
        let (ok, stdout) = self.git_status(args);
        assert!(ok, "git {args:?} failed");
        stdout
    }

    fn session(&self, args: &[&str]) -> Session {
        let mut command = unroot(&self.path(), args);
        self.env(&mut command);
        spawn(command)
    }

    fn working_tree(&self) -> String {
        std::fs::read_to_string(self.path().join("Dockerfile")).expect("read the Dockerfile")
    }
}

#[test]
fn branch_commits_the_accepted_fix_only() {
    let repo = Repo::new();
    // An uncommitted change: the fixes are planned on the committed version, and the
    // working tree is not written.
    std::fs::write(repo.path().join("Dockerfile"), TWO_CHANGED).expect("change the Dockerfile");
    let head = repo.git(&["rev-parse", "HEAD"]);
    let mut run = repo.session(&["-i", "--branch", "fix/one", "--color", "never"]);
    run.expect("planned on the committed version on `main`")
        .expect("the note about the working tree");
    answer(&mut run, 1, 2, YES);
    answer(&mut run, 2, 2, NO);
    let (output, code) = finish(run);
    assert_eq!(
        repo.git(&["show", "fix/one:Dockerfile"]),
        TWO_WITH_USER,
        "{output}"
    );
    assert!(output.contains("branch `fix/one` created"), "{output}");
    assert!(
        output.contains("1 fix applied, 1 skipped, 1 file committed"),
        "{output}"
    );
    assert_eq!(code, 1, "the skipped finding remains: {output}");
    // One commit on top of HEAD, whose message names the accepted fix only.
    assert_eq!(repo.git(&["rev-parse", "fix/one~1"]), head);
    let message = repo.git(&["log", "-1", "--format=%B", "fix/one"]);
    assert!(message.contains("root-user"), "{message}");
    assert!(!message.contains("floating-tag"), "{message}");
    // The working tree, the index and HEAD are as they were.
    assert_eq!(repo.working_tree(), TWO_CHANGED);
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(
        repo.git(&["symbolic-ref", "HEAD"]).trim(),
        "refs/heads/main"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), " M Dockerfile\n");
}

#[test]
fn branch_quit_at_once_creates_no_branch() {
    let repo = Repo::new();
    let head = repo.git(&["rev-parse", "HEAD"]);
    let mut run = repo.session(&["-i", "--branch", "fix/none"]);
    answer(&mut run, 1, 2, QUIT);
    let (output, code) = finish(run);
    let (exists, _) = repo.git_status(&["rev-parse", "--verify", "-q", "refs/heads/fix/none"]);
    assert!(!exists, "{output}");
    assert!(output.contains("no fix accepted"), "{output}");
    assert!(
        output.contains("0 fixes applied, 2 skipped, 0 files committed"),
        "{output}"
    );
    assert_eq!(code, 1, "{output}");
    assert_eq!(repo.working_tree(), TWO);
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn branch_modified_by_someone_else_is_refused_before_any_question() {
    let repo = Repo::new();
    // `fix/taken` carries a commit unroot did not make.
    repo.git(&["branch", "fix/taken"]);
    repo.git(&["checkout", "-q", "fix/taken"]);
    std::fs::write(repo.path().join("NOTES"), "mine\n").expect("write");
    repo.git(&["add", "NOTES"]);
    repo.git(&["commit", "-q", "-m", "a human commit"]);
    repo.git(&["checkout", "-q", "main"]);
    let tip = repo.git(&["rev-parse", "fix/taken"]);
    let run = repo.session(&["-i", "--branch", "fix/taken", "--color", "never"]);
    let (output, code) = finish(run);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("branch modified: `fix/taken`"), "{output}");
    assert!(
        !output.contains("Apply this fix?"),
        "no question is asked: {output}"
    );
    assert_eq!(repo.git(&["rev-parse", "fix/taken"]), tip);
    assert_eq!(repo.working_tree(), TWO);
}

#[test]
fn refuses_stdin() {
    let dir = dir_with(SOURCE);
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("unroot")
            .expect("the binary")
            .current_dir(dir.path())
            .env("UNROOT_TODAY", common::TODAY)
            .args(args)
            .write_stdin("")
            .output()
            .expect("run unroot")
    };
    let stdin = run(&["-i", "-"]);
    assert_eq!(stdin.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&stdin.stderr).contains("standard input"));
}

/// A Dockerfile whose port 80 a compose file maps: root-user (1 of 2), then the port move
/// (2 of 2); the compose file's port edit follows the move's answer, never asked itself.
const PORTED: &str = "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nENV PORT=80\nEXPOSE 80\nCMD [\"node\", \"server.js\"]\n";
const PORTED_COMPOSE: &str = "services:\n  web:\n    build: .\n    ports:\n      - \"5001:80\"\n    environment:\n      PORT: '80'\n";

fn ported() -> tempfile::TempDir {
    let dir = dir_with(PORTED);
    std::fs::write(dir.path().join("compose.yaml"), PORTED_COMPOSE).expect("write compose");
    std::fs::write(
        dir.path().join("server.js"),
        "require('http').createServer().listen(process.env.PORT);\n",
    )
    .expect("write server.js");
    dir
}

fn compose(dir: &tempfile::TempDir) -> String {
    std::fs::read_to_string(dir.path().join("compose.yaml")).expect("read compose.yaml")
}

#[test]
fn deployment_files_follow_an_accepted_port_move() {
    let dir = ported();
    let mut run = session(dir.path(), &["-i", "--color", "never"]);
    answer(&mut run, 1, 2, YES);
    answer(&mut run, 2, 2, YES);
    let (output, code) = finish(run);
    assert_eq!(code, 0, "{output}");
    let fixed = contents(&dir);
    assert!(fixed.contains("USER node\n"), "{fixed}");
    assert!(fixed.contains("ENV PORT=8080\nEXPOSE 8080\n"), "{fixed}");
    assert_eq!(
        compose(&dir),
        PORTED_COMPOSE
            .replace("5001:80\"", "5001:8080\"")
            .replace("PORT: '80'", "PORT: '8080'"),
        "{output}"
    );
    assert!(
        output.contains("(follows the port move accepted in Dockerfile)"),
        "{output}"
    );
    assert!(
        !output.contains("in compose.yaml)"),
        "no question about the compose file: {output}"
    );
    assert!(output.contains("compose.yaml: wrote 2 fix(es)"), "{output}");
    assert!(output.contains("2 files written"), "{output}");
}

#[test]
fn deployment_files_keep_their_port_when_the_move_is_declined() {
    let dir = ported();
    let mut run = session(dir.path(), &["-i", "--color", "never"]);
    answer(&mut run, 1, 2, YES);
    answer(&mut run, 2, 2, NO);
    let (output, code) = finish(run);
    assert_eq!(code, 1, "the port findings remain: {output}");
    let fixed = contents(&dir);
    assert!(fixed.contains("USER node\n"), "{fixed}");
    assert!(fixed.contains("EXPOSE 80\n"), "{fixed}");
    assert_eq!(compose(&dir), PORTED_COMPOSE, "{output}");
    assert!(
        output.contains("(the port move of Dockerfile was not accepted)"),
        "{output}"
    );
}

#[test]
fn deployment_user_fixes_are_asked_about() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: node:22\n";
    std::fs::write(dir.path().join("pod.yaml"), manifest).expect("write pod.yaml");
    let mut run = session(dir.path(), &["-i", "--color", "never"]);
    run.expect("Apply this fix? (1 of 1 in pod.yaml)")
        .expect("the deploy-user question");
    run.send(YES).expect("answer");
    let (output, code) = finish(run);
    assert_eq!(code, 0, "{output}");
    let fixed = std::fs::read_to_string(dir.path().join("pod.yaml")).expect("read");
    assert!(fixed.contains("runAsNonRoot: true"), "{fixed}");
    assert!(fixed.contains("runAsUser: 1000"), "{fixed}");
}

/// PORTED's repository, with a Kubernetes Deployment running the image the compose file
/// builds (`web`): its port follows the move, its securityContext is asked about.
const PORTED_COMPOSE_IMAGE: &str = "services:\n  web:\n    build: .\n    image: web\n    ports:\n      - \"5001:80\"\n    environment:\n      PORT: '80'\n";
const PORTED_DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n        - name: web\n          image: web:1.0\n          ports:\n            - containerPort: 80\n";
const SERVER: &str = "require('http').createServer().listen(process.env.PORT);\n";

fn ported_repo() -> Repo {
    Repo::with(&[
        ("Dockerfile", PORTED),
        ("compose.yaml", PORTED_COMPOSE_IMAGE),
        ("k8s/web.yaml", PORTED_DEPLOYMENT),
        ("server.js", SERVER),
    ])
}

#[test]
fn branch_commits_the_deployment_files_with_the_accepted_fixes() {
    let repo = ported_repo();
    let head = repo.git(&["rev-parse", "HEAD"]);
    let mut run = repo.session(&["-i", "--branch", "fix/ports", "--color", "never"]);
    answer(&mut run, 1, 2, YES);
    answer(&mut run, 2, 2, YES);
    run.expect("Apply this fix? (1 of 1 in k8s/web.yaml)")
        .expect("the deploy-user question");
    run.send(YES).expect("answer");
    let (output, code) = finish(run);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("(follows the port move accepted in Dockerfile)"),
        "{output}"
    );
    assert!(!output.contains("in compose.yaml)"), "{output}");
    assert!(output.contains("3 files committed"), "{output}");
    // One commit on top of HEAD holds the three files; the working tree is as it was.
    assert_eq!(repo.git(&["rev-parse", "fix/ports~1"]), head);
    let changed = repo.git(&["diff", "--name-only", "main", "fix/ports"]);
    assert_eq!(
        changed, "Dockerfile\ncompose.yaml\nk8s/web.yaml\n",
        "{output}"
    );
    let dockerfile = repo.git(&["show", "fix/ports:Dockerfile"]);
    assert!(dockerfile.contains("EXPOSE 8080\n"), "{dockerfile}");
    assert!(dockerfile.contains("USER node\n"), "{dockerfile}");
    assert_eq!(
        repo.git(&["show", "fix/ports:compose.yaml"]),
        PORTED_COMPOSE_IMAGE
            .replace("5001:80\"", "5001:8080\"")
            .replace("PORT: '80'", "PORT: '8080'")
    );
    let deployment = repo.git(&["show", "fix/ports:k8s/web.yaml"]);
    assert!(deployment.contains("containerPort: 8080"), "{deployment}");
    assert!(deployment.contains("runAsUser: 1000"), "{deployment}");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    // The message counts the deployment files' fixes with the Dockerfile's.
    let message = repo.git(&["log", "-1", "--format=%B", "fix/ports"]);
    let fixed = message.matches("\n  fixed: ").count();
    assert!(
        message.contains(&format!(
            "fixed {fixed} findings in 1 Dockerfile and 2 deployment files"
        )),
        "{message}"
    );
    assert!(message.contains("compose.yaml"), "{message}");
    assert!(message.contains("deploy-user"), "{message}");
}

#[test]
fn branch_keeps_the_deployment_files_port_when_the_move_is_declined() {
    let repo = ported_repo();
    let mut run = repo.session(&["-i", "--branch", "fix/ports", "--color", "never"]);
    answer(&mut run, 1, 2, YES);
    answer(&mut run, 2, 2, NO);
    run.expect("Apply this fix? (1 of 1 in k8s/web.yaml)")
        .expect("the deploy-user question");
    run.send(NO).expect("answer");
    let (output, code) = finish(run);
    assert_eq!(code, 1, "the port findings remain: {output}");
    assert!(
        output.contains("(the port move of Dockerfile was not accepted)"),
        "{output}"
    );
    let changed = repo.git(&["diff", "--name-only", "main", "fix/ports"]);
    assert_eq!(changed, "Dockerfile\n", "{output}");
    assert!(output.contains("1 file committed"), "{output}");
}

#[test]
fn branch_asks_nothing_about_a_change_whose_file_differs_from_the_commit() {
    let repo = ported_repo();
    let edited = PORTED_COMPOSE_IMAGE.replace("services:\n", "# local\nservices:\n");
    std::fs::write(repo.path().join("compose.yaml"), &edited).expect("change compose.yaml");
    let run = repo.session(&["-i", "--branch", "fix/ports", "--color", "never"]);
    let (output, code) = finish(run);
    assert!(!output.contains("Apply this fix?"), "{output}");
    assert!(
        output.contains("compose.yaml: differs from the version committed"),
        "{output}"
    );
    assert!(
        output.contains("Dockerfile: left out of the branch: its fixes are one change with"),
        "{output}"
    );
    let (exists, _) = repo.git_status(&["rev-parse", "--verify", "-q", "refs/heads/fix/ports"]);
    assert!(!exists, "{output}");
    // Their findings remain.
    assert!(output.contains("0 files committed; "), "{output}");
    assert!(output.contains(" remaining"), "{output}");
    assert_eq!(code, 1, "{output}");
}
