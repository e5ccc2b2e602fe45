//! The `unroot` binary: exit status, messages on stderr, stdin, `--help`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use assert_cmd::Command;
use tempfile::TempDir;

const VALID: &str = "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"server.js\"]\n";
const UNTERMINATED_HEREDOC: &str = "FROM node:22-alpine\nRUN <<EOF\necho hi\n";

/// A temporary directory to write Dockerfiles into (ripgrep's `tests/util.rs` `Dir`).
struct Dir {
    tmp: TempDir,
}

impl Dir {
    fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    /// Write `contents` to `name` and return the path to pass to unroot.
    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.tmp.path().join(name);
        std::fs::write(&path, contents).expect("write a test file");
        path
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

fn unroot() -> Command {
    Command::new(env!("CARGO_BIN_EXE_unroot"))
}

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
/// line on stderr starting with `path:line: `. Returns the message after that prefix.
fn rejected(path: &Path, line: usize) -> String {
    let (code, stdout, stderr) = stderr_of(path, &[]);
    assert_eq!(code, Some(2), "stderr: {stderr}");
    assert_eq!(stdout, "");
    let prefix = format!("{}:{line}: ", path.display());
    let message = stderr
        .strip_prefix(&prefix)
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("expected one line starting with {prefix:?}, got {stderr:?}"));
    assert!(!message.is_empty() && !message.contains('\n'), "{stderr:?}");
    message.to_owned()
}

#[test]
fn valid_file_prints_nothing_and_exits_0() {
    let dir = Dir::new();
    let path = dir.file("Dockerfile", VALID);
    unroot().arg(&path).assert().success().stdout("").stderr("");
}

#[test]
fn readme_example_is_valid() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/Dockerfile");
    unroot()
        .arg(example)
        .assert()
        .success()
        .stdout("")
        .stderr("");
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
    let mut contents = String::from("FROM node:22-alpine\n");
    let padding = unroot::syntax::MAX_FILE_SIZE - contents.len() - 1;
    contents.push('#');
    contents.push_str(&" ".repeat(padding - 1));
    contents.push('\n');
    assert_eq!(contents.len(), unroot::syntax::MAX_FILE_SIZE);
    let path = dir.file("Dockerfile", contents);
    unroot().arg(&path).assert().success().stderr("");
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
        .stdout("")
        .stderr(format!("{}:2: unterminated heredoc\n", bad.display()));
}

#[test]
fn every_invalid_file_is_reported_in_order() {
    let dir = Dir::new();
    let bad1 = dir.file("bad1.Dockerfile", UNTERMINATED_HEREDOC);
    let good = dir.file("good.Dockerfile", VALID);
    let bad2 = dir.file("bad2.Dockerfile", UNTERMINATED_HEREDOC);
    unroot()
        .args([&bad1, &good, &bad2])
        .assert()
        .code(2)
        .stderr(format!(
            "{}:2: unterminated heredoc\n{}:2: unterminated heredoc\n",
            bad1.display(),
            bad2.display()
        ));
}

#[test]
fn missing_file_is_reported_and_the_others_still_checked() {
    let dir = Dir::new();
    let missing = dir.path("missing/Dockerfile");
    let bad = dir.file("bad.Dockerfile", UNTERMINATED_HEREDOC);
    let output = unroot()
        .arg(&missing)
        .arg(&bad)
        .output()
        .expect("run unroot");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).expect("stderr is UTF-8");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("{}: ", missing.display())),
        "{stderr}"
    );
    assert_eq!(
        lines[1],
        format!("{}:2: unterminated heredoc", bad.display())
    );
}

#[test]
fn directory_is_an_error_for_now() {
    let dir = Dir::new();
    let (code, stdout, stderr) = stderr_of(dir.tmp.path(), &[]);
    assert_eq!(code, Some(2));
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with(&format!("{}: ", dir.tmp.path().display())),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn dash_reads_stdin() {
    unroot()
        .arg("-")
        .write_stdin(VALID)
        .assert()
        .success()
        .stdout("")
        .stderr("");
}

#[test]
fn dash_reports_errors_as_stdin() {
    unroot()
        .arg("-")
        .write_stdin(UNTERMINATED_HEREDOC)
        .assert()
        .code(2)
        .stdout("")
        .stderr("<stdin>:2: unterminated heredoc\n");
}

#[test]
fn no_path_is_a_usage_error() {
    let output = unroot().output().expect("run unroot");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).expect("stderr is UTF-8");
    assert!(stderr.contains("Usage: unroot <PATH>..."), "{stderr}");
}

#[test]
fn unknown_flag_is_a_usage_error() {
    unroot()
        .args(["--write", "Dockerfile"])
        .assert()
        .code(2)
        .stdout("");
}

/// `--help` lists only what works: pin its options so a flag is added on purpose.
#[test]
fn help_lists_only_what_works() {
    let output = unroot().arg("--help").output().expect("run unroot");
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8(output.stdout).expect("help is UTF-8");
    let options: Vec<&str> = help
        .lines()
        .skip_while(|line| *line != "Options:")
        .map(str::trim)
        .filter(|line| line.starts_with('-'))
        .collect();
    assert_eq!(options, ["-h, --help", "-V, --version"], "{help}");
    for unimplemented in [
        "--write",
        "--diff",
        "--fix",
        "--select",
        "--format",
        "--explain",
        "--unsafe",
    ] {
        assert!(!help.contains(unimplemented), "{unimplemented} in {help}");
    }
}

#[test]
fn short_help_is_pinned() {
    unroot().arg("-h").assert().success().stderr("").stdout(
        "Make Node.js Dockerfiles safe to ship

Usage: unroot <PATH>...

Arguments:
  <PATH>...  Dockerfiles to check; `-` reads standard input

Options:
  -h, --help     Print help (see more with '--help')
  -V, --version  Print version
",
    );
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
