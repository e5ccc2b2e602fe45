//! The conventions ruff and hadolint users expect: `--fix`, `-q`, `--statistics`, `--config`,
//! `--isolated`, `-o`, `UNROOT_*` variables, `--exit-non-zero-on-fix`, and a clear word for
//! `unroot check .`.

use crate::common::Dir;

/// Runs as root (no USER) on a floating tag and exposes port 80: three rules fire, one fix
/// of which is unsafe.
const APP: &str = "\
FROM node:22-alpine
WORKDIR /app
COPY . .
CMD [\"node\", \"server.js\"]
";

const APP_FIXED: &str = "\
FROM node:22-alpine
WORKDIR /app
COPY . .
USER node
CMD [\"node\", \"server.js\"]
";

const FLOATING: &str = "\
FROM node:lts
CMD [\"node\", \"server.js\"]
";

#[test]
fn fix_is_an_alias_of_write() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["--fix"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(dir.read("Dockerfile"), APP_FIXED);
    assert!(
        run.stdout
            .ends_with("1 finding in 1 file, 1 fixed, 0 remaining\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn exit_non_zero_on_fix_is_one_when_something_was_fixed() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let run = dir.run(&["--fix", "--exit-non-zero-on-fix"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(dir.read("Dockerfile"), APP_FIXED);
    // Nothing left to fix: 0.
    let again = dir.run(&["--fix", "--exit-non-zero-on-fix"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    // A dry run fixes nothing: the usual status.
    dir.file("Dockerfile", APP);
    assert_eq!(dir.run(&["--exit-non-zero-on-fix"]).code, 1);
    // Standard input: the fixed file is printed, and 1 says it differs.
    let piped = dir.run_stdin(&["--exit-non-zero-on-fix", "-"], APP);
    assert_eq!((piped.code, piped.stdout.as_str()), (1, APP_FIXED));
    let clean = dir.run_stdin(&["--exit-non-zero-on-fix", "-"], APP_FIXED);
    assert_eq!((clean.code, clean.stdout.as_str()), (0, APP_FIXED));
    // It contradicts --exit-zero.
    assert_eq!(dir.run(&["--exit-zero", "--exit-non-zero-on-fix"]).code, 2);
}

#[test]
fn quiet_prints_the_findings_alone() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let full = dir.run(&[]);
    let quiet = dir.run(&["-q"]);
    assert_eq!(quiet.code, 1);
    assert!(full.stdout.contains("+USER node"), "{}", full.stdout);
    assert!(
        full.stdout.contains("1 finding in 1 file"),
        "{}",
        full.stdout
    );
    let findings_only: String = full
        .stdout
        .lines()
        .take_while(|line| !line.starts_with("--- "))
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(
        findings_only.starts_with("Dockerfile:1:1: root-user: "),
        "{findings_only}"
    );
    assert_eq!(quiet.stdout, findings_only);
    // Standard input: the fixed file on stdout, the findings without the summary on stderr.
    let piped = dir.run_stdin(&["--quiet", "-"], APP);
    assert_eq!(piped.stdout, APP_FIXED);
    assert!(
        piped.stderr.starts_with("<stdin>:1:1: root-user: "),
        "{}",
        piped.stderr
    );
    assert!(!piped.stderr.contains("1 finding"), "{}", piped.stderr);
}

#[test]
fn statistics_count_findings_per_rule() {
    let dir = Dir::new();
    dir.file("a/Dockerfile", FLOATING);
    dir.file("b/Dockerfile", FLOATING);
    dir.file(
        "c/Dockerfile",
        "FROM node:22-alpine\nUSER node\nEXPOSE 80\nCMD [\"node\", \"s.js\"]\n",
    );
    let run = dir.run(&["--statistics"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "\
2  floating-tag     2 fixable
2  root-user        2 fixable
1  privileged-port  1 with --unsafe-fixes
"
    );
    let json = dir.run(&["--statistics", "--format", "json"]);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(
        parsed[2],
        serde_json::json!({"rule": "privileged-port", "count": 1, "fixable": 0, "unsafe_fixable": 1})
    );
    // Clean: nothing printed, status 0.
    let clean = Dir::new();
    clean.file("Dockerfile", APP_FIXED);
    let run = clean.run(&["--statistics"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    let sarif = dir.run(&["--statistics", "--format", "sarif"]);
    assert_eq!(sarif.code, 2);
    assert_eq!(
        sarif.stderr,
        "error: --statistics prints text or json (see --format)\n"
    );
}

#[test]
fn config_names_the_file_for_every_path_and_isolated_reads_none() {
    let dir = Dir::new();
    dir.git_init();
    dir.file("Dockerfile", APP);
    dir.file("sub/Dockerfile", APP);
    // The nearest configuration ignores root-user in sub/ only.
    dir.file("sub/unroot.toml", "ignore = [\"root-user\"]\n");
    dir.file("ci/strict.toml", "user = \"1000:1000\"\n");
    let nearest = dir.run(&[]);
    assert!(
        nearest.stdout.contains("Dockerfile:1:1: root-user"),
        "{}",
        nearest.stdout
    );
    assert!(
        !nearest.stdout.contains("sub/Dockerfile"),
        "{}",
        nearest.stdout
    );
    // --config governs both, sub/unroot.toml is not read.
    let run = dir.run(&["--config", "ci/strict.toml", "--write"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        dir.read("Dockerfile"),
        APP_FIXED.replace("USER node", "USER 1000:1000")
    );
    assert_eq!(
        dir.read("sub/Dockerfile"),
        APP_FIXED.replace("USER node", "USER 1000:1000")
    );
    // UNROOT_CONFIG is the same.
    dir.file("Dockerfile", APP);
    dir.file("sub/Dockerfile", APP);
    let by_env = dir
        .command()
        .env("UNROOT_CONFIG", "ci/strict.toml")
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&by_env.stdout).contains("+USER 1000:1000"));
    // --isolated: no file at all, so sub/ is checked with the defaults.
    let isolated = dir.run(&["--isolated"]);
    assert!(
        isolated.stdout.contains("sub/Dockerfile:1:1: root-user"),
        "{}",
        isolated.stdout
    );
    assert!(
        isolated.stdout.contains("+USER node"),
        "{}",
        isolated.stdout
    );
    // A missing file is an error, and the two flags contradict each other.
    let missing = dir.run(&["--config", "nope.toml"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("nope.toml: "), "{}", missing.stderr);
    assert_eq!(
        dir.run(&["--config", "ci/strict.toml", "--isolated"]).code,
        2
    );
    // --show-config says which file is in effect.
    let shown = dir.run(&["--config", "ci/strict.toml", "--show-config"]);
    assert!(shown.stdout.contains("strict.toml"), "{}", shown.stdout);
}

#[test]
fn output_file_takes_what_standard_output_would() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    let to_stdout = dir.run(&["--format", "json"]);
    let run = dir.run(&["--format", "json", "-o", "reports/unroot.json"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(dir.read("reports/unroot.json"), to_stdout.stdout);
    // The variables set the format and the file.
    let by_env = dir
        .command()
        .env("UNROOT_FORMAT", "json")
        .env("UNROOT_OUTPUT_FILE", "env.json")
        .output()
        .expect("runs");
    assert_eq!(by_env.status.code(), Some(1));
    assert_eq!(dir.read("env.json"), to_stdout.stdout);
    // `--color auto` writes no colour into a file.
    dir.run(&["-o", "plain.txt"]);
    assert!(!dir.read("plain.txt").contains('\x1b'));
    assert!(dir
        .read("plain.txt")
        .starts_with("Dockerfile:1:1: root-user"));
    // Standard input: the fixed file goes to the file.
    let piped = dir.run_stdin(&["-o", "fixed/Dockerfile", "-"], APP);
    assert_eq!(piped.stdout, "");
    assert_eq!(dir.read("fixed/Dockerfile"), APP_FIXED);
    // A file that cannot be created: exit 2, nothing checked.
    dir.file("blocker", "");
    let bad = dir.run(&["-o", "blocker/report.txt"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .starts_with("error: --output-file blocker/report.txt: "),
        "{}",
        bad.stderr
    );
}

#[test]
fn ruff_style_command_words_say_what_to_type() {
    let dir = Dir::new();
    dir.file("Dockerfile", APP);
    for (word, hint) in [
        ("check", "give the paths alone: `unroot PATH…` checks them"),
        ("fix", "use `unroot --write PATH…` (or its alias `--fix`)"),
        ("rule", "use `unroot --explain RULE`, or `--list-rules`"),
        ("format", "unroot does not format"),
    ] {
        let run = dir.run(&[word, "."]);
        assert_eq!(run.code, 2, "{word}");
        assert!(
            run.stderr
                .starts_with(&format!("error: unroot has no `{word}` command; {hint}")),
            "{}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
    // A directory of that name is a path like any other.
    dir.file("check/Dockerfile", APP);
    let run = dir.run(&["check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("check/Dockerfile:1:1: root-user"),
        "{}",
        run.stdout
    );
}

#[test]
fn add_ignore_baselines_every_finding_with_a_pragma() {
    let dir = Dir::new();
    dir.file(
        "Dockerfile",
        "FROM node\nEXPOSE 80\nCMD [\"node\", \"x\"]\n",
    );
    dir.file(
        "b/Dockerfile",
        "FROM node:22 AS build\r\nRUN make\r\n\r\n  FROM node:22-alpine\r\n  CMD [\"node\", \"x\"]\r\n",
    );
    dir.file("clean/Dockerfile", APP_FIXED);
    let run = dir.run(&["--add-ignore"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "added 3 pragmas to 2 files\n");
    assert_eq!(
        dir.read("Dockerfile"),
        "# unroot ignore=floating-tag,root-user\nFROM node\n# unroot ignore=privileged-port\nEXPOSE 80\nCMD [\"node\", \"x\"]\n"
    );
    // Indented as the instruction, with the file's CRLF.
    assert_eq!(
        dir.read("b/Dockerfile"),
        "FROM node:22 AS build\r\nRUN make\r\n\r\n  # unroot ignore=root-user\r\n  FROM node:22-alpine\r\n  CMD [\"node\", \"x\"]\r\n"
    );
    assert_eq!(dir.read("clean/Dockerfile"), APP_FIXED);
    // Nothing is reported any more, and a second run adds nothing.
    let after = dir.run(&[]);
    assert_eq!(
        (after.code, after.stdout.as_str()),
        (0, "no findings in 3 files\n")
    );
    assert_eq!(
        dir.run(&["--add-ignore"]).stdout,
        "added 0 pragmas to 0 files\n"
    );
    // It writes, so it goes with neither --write nor standard input.
    assert_eq!(dir.run(&["--add-ignore", "--write"]).code, 2);
    let piped = dir.run_stdin(&["--add-ignore", "-"], APP);
    assert_eq!(piped.code, 2);
    assert!(
        piped.stderr.contains("cannot be used with --add-ignore"),
        "{}",
        piped.stderr
    );
}
