//! `--interactive`, driven for real through a pseudo-terminal (expectrl), and its refusal
//! when standard input is not a terminal.

use std::path::Path;
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
    let mut command = Command::new(env!("CARGO_BIN_EXE_unroot"));
    command
        .current_dir(dir)
        .args(args)
        .env("UNROOT_TODAY", "2026-11-24")
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .env_remove("CI");
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
        .env("UNROOT_TODAY", "2026-11-24")
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

#[test]
fn refuses_branch_and_stdin() {
    let dir = dir_with(SOURCE);
    let run = |args: &[&str]| {
        assert_cmd::Command::cargo_bin("unroot")
            .expect("the binary")
            .current_dir(dir.path())
            .env("UNROOT_TODAY", "2026-11-24")
            .args(args)
            .write_stdin("")
            .output()
            .expect("run unroot")
    };
    let branch = run(&["-i", "--branch", "x"]);
    assert_eq!(branch.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&branch.stderr).contains("cannot be used with"));
    let stdin = run(&["-i", "-"]);
    assert_eq!(stdin.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&stdin.stderr).contains("standard input"));
}
