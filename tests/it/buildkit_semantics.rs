//! What BuildKit makes of a Dockerfile, and unroot with it: variables expanded where they are
//! defined (an unset one is empty), quoted FROM references, a `# comment` after a USER value,
//! and the files unroot reports but never edits. Each test checks the report and the bytes
//! `--write` leaves.

use crate::common::Dir;

/// Runs `unroot -w Dockerfile` on `source`: (exit status, stdout, stderr, the file after).
fn write(source: &str) -> (i32, String, String, String) {
    let dir = Dir::new();
    dir.file("Dockerfile", source);
    let run = dir.run(&["-w", "Dockerfile"]);
    (run.code, run.stdout, run.stderr, dir.read("Dockerfile"))
}

// ---- variables ----

#[test]
fn arg_values_are_expanded_where_they_are_defined() {
    let source = "FROM node:22-alpine\nARG R=root\nARG X=${R}\nCOPY . .\nUSER ${X}\nCMD [\"node\", \"server.js\"]\n";
    let (code, stdout, stderr, after) = write(source);
    assert_eq!(
        stdout,
        "Dockerfile:5:1: root-user: final stage runs as root: last `USER` is `${X}`, which expands to `root`
  help: the official node images ship user `node` (uid 1000); Kubernetes `runAsNonRoot` can verify only a numeric user: `--numeric-user` writes `USER 1000:1000`; no path the app writes at run time was found (`VOLUME`, `RUN mkdir`, data paths in ENV): if it writes one, give it to the user
  fixed: change the last `USER` to `USER node`
1 finding in 1 file, 1 fixed, 0 remaining
"
    );
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(after, source.replace("USER ${X}", "USER node"));
}

#[test]
fn an_unset_variable_is_empty_and_an_empty_user_is_root() {
    let source = "FROM node:22-alpine\nENV X=${NOPE}\nUSER ${X}\nCMD [\"node\", \"server.js\"]\n";
    let (code, stdout, _, after) = write(source);
    assert!(
        stdout.starts_with("Dockerfile:3:1: root-user: final stage runs as root: last `USER` is `${X}`, which expands to nothing: root\n"),
        "{stdout}"
    );
    assert_eq!(code, 0);
    assert_eq!(after, source.replace("USER ${X}", "USER node"));
}

#[test]
fn default_and_alternative_forms_decide_the_user() {
    let dir = Dir::new();
    // `${U:-node}` of an unset U is `node`: not root, nothing to report.
    dir.file(
        "Dockerfile",
        "FROM node:22-alpine\nUSER ${U:-node}\nCMD [\"node\", \"server.js\"]\n",
    );
    // `${A:+root}` of a set A is `root`.
    dir.file(
        "alt.Dockerfile",
        "FROM node:22-alpine\nARG A=1\nUSER ${A:+root}\nCMD [\"node\", \"server.js\"]\n",
    );
    let run = dir.run(&["Dockerfile", "alt.Dockerfile"]);
    assert!(run.stdout.starts_with("alt.Dockerfile:3:1: root-user: final stage runs as root: last `USER` is `${A:+root}`, which expands to `root`\n"), "{}", run.stdout);
    assert!(!run.stdout.contains("\nDockerfile:"), "{}", run.stdout);
    assert!(run
        .stdout
        .ends_with("1 finding in 1 file, 1 fixable; run with --write to apply\n"));
}

#[test]
fn a_build_argument_without_a_default_is_not_guessed() {
    let source =
        "FROM node:22-alpine\nARG APP_USER\nUSER ${APP_USER}\nCMD [\"node\", \"server.js\"]\n";
    let (code, stdout, _, after) = write(source);
    assert!(
        stdout.starts_with(
            "Dockerfile:3:1: root-user: cannot tell whether `USER ${APP_USER}` is root"
        ),
        "{stdout}"
    );
    assert_eq!((code, after.as_str()), (1, source));
}

#[test]
fn a_child_stage_sees_the_env_its_parent_expanded() {
    // BuildKit expands `ENV HOME_USER=$U` in `base`; `app` inherits `root`.
    let source = "FROM node:22-alpine AS base\nARG U=root\nENV HOME_USER=$U\nFROM base AS app\nUSER $HOME_USER\nCMD [\"node\", \"server.js\"]\n";
    let (code, stdout, _, after) = write(source);
    assert!(
        stdout.starts_with("Dockerfile:5:1: root-user: final stage `app` runs as root: last `USER` is `$HOME_USER`, which expands to `root`\n"),
        "{stdout}"
    );
    assert_eq!(code, 0);
    assert_eq!(after, source.replace("USER $HOME_USER", "USER node"));
}

// ---- quoted FROM ----

#[test]
fn quoted_from_references_are_pinned_inside_their_quotes() {
    for (from, pinned) in [
        ("FROM \"node:lts\"", "FROM \"node:26.7.0\""),
        ("FROM 'node':lts", "FROM 'node':26.7.0"),
        (
            "FROM \"node:lts-alpine\" AS app",
            "FROM \"node:26.7.0-alpine\" AS app",
        ),
        ("FROM 'node'", "FROM 'node:26.7.0'"),
    ] {
        let source = format!("{from}\nUSER node\nCMD [\"node\", \"server.js\"]\n");
        let (code, stdout, stderr, after) = write(&source);
        assert!(
            stdout.starts_with("Dockerfile:1:6: floating-tag: "),
            "{from}: {stdout}"
        );
        assert_eq!((code, stderr.as_str()), (0, ""), "{from}");
        assert_eq!(after, source.replacen(from, pinned, 1), "{from}");
        // BuildKit's parser still reads one image word.
        let file = unroot::syntax::parse(&after).expect("the fixed file parses");
        assert_eq!(
            file.instructions[0].args[0].value,
            pinned.split(' ').nth(1).unwrap()
        );
    }
}

#[test]
fn a_quote_inside_the_tag_is_reported_without_a_fix() {
    let source = "FROM \"node:l\"ts\nUSER node\nCMD [\"node\", \"server.js\"]\n";
    let (code, stdout, _, after) = write(source);
    assert!(
        stdout.starts_with("Dockerfile:1:6: floating-tag: `node:lts` floats"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  no automatic fix: this needs a person\n"),
        "{stdout}"
    );
    assert_eq!((code, after.as_str()), (1, source));
}

// ---- a comment after USER ----

#[test]
fn a_comment_after_user_moves_to_its_own_line() {
    let source = "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nUSER 1000  # node\nCMD [\"node\", \"server.js\"]\n";
    let dir = Dir::new();
    dir.file("Dockerfile", source);
    let dry = dir.run(&["Dockerfile"]);
    assert_eq!(
        dry.stdout,
        "Dockerfile:4:1: root-user: the user is `1000  # node`, comment included: a `#` starts a comment only at the start of a line; no image has that user, so later build steps and the container cannot start
  help: the user meant is `1000`; put the comment on a line of its own
  fix: move `# node` to its own line above `USER 1000`
--- a/Dockerfile
+++ b/Dockerfile
@@ -1,5 +1,6 @@
 FROM node:22-alpine
 WORKDIR /app
 COPY . .
-USER 1000  # node
+# node
+USER 1000
 CMD [\"node\", \"server.js\"]
1 finding in 1 file, 1 fixable; run with --write to apply
"
    );
    assert_eq!(dry.code, 1);
    let (code, _, _, after) = write(source);
    assert_eq!(code, 0);
    assert_eq!(
        after,
        "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\n# node\nUSER 1000\nCMD [\"node\", \"server.js\"]\n"
    );
}

#[test]
fn a_commented_root_user_is_moved_then_made_non_root() {
    // Indentation and CRLF kept; the second round rewrites the now plain `USER root`.
    let source = "FROM node:22-alpine\r\n  USER root # admin\r\nCMD [\"node\", \"server.js\"]\r\n";
    let (code, stdout, _, after) = write(source);
    assert!(
        stdout.ends_with("1 finding in 1 file, 1 fixed, 0 remaining\n"),
        "{stdout}"
    );
    assert_eq!(code, 0);
    assert_eq!(
        after,
        "FROM node:22-alpine\r\n  # admin\r\n  USER node\r\nCMD [\"node\", \"server.js\"]\r\n"
    );
}

#[test]
fn a_hash_inside_a_user_value_is_not_a_comment() {
    let dir = Dir::new();
    dir.file(
        "Dockerfile",
        "FROM node:22-alpine\nUSER node#1\nCMD [\"node\", \"server.js\"]\n",
    );
    let run = dir.run(&["Dockerfile"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "no findings in 1 file\n")
    );
}

// ---- files reported, never edited ----

#[test]
fn an_unknown_instruction_is_an_error_and_the_file_is_not_written() {
    let source = "FROM node:22\nFOO bar\nCMD [\"node\", \"server.js\"]\n";
    let (code, stdout, stderr, after) = write(source);
    assert_eq!(stderr, "Dockerfile:2: unknown instruction: FOO\n");
    assert_eq!((code, stdout.as_str(), after.as_str()), (2, "", source));
}

#[test]
fn a_template_is_not_checked_and_never_written() {
    let dir = Dir::new();
    let by_content = "FROM node:{{ .Version }}\nCMD [\"node\", \"server.js\"]\n";
    let by_name = "FROM node:22\nCMD [\"node\", \"server.js\"]\n";
    let jinja =
        "FROM node:22\n{% if dev %}\nUSER root\n{% endif %}\nCMD [\"node\", \"server.js\"]\n";
    dir.file("Dockerfile", by_content);
    dir.file("Dockerfile.tmpl", by_name);
    dir.file("web/Dockerfile", jinja);
    let run = dir.run(&["-w"]);
    assert_eq!(
        run.stderr,
        "Dockerfile:1: warning: not checked, never edited: a template (a `{{ }}` placeholder); check the Dockerfile it renders
Dockerfile.tmpl: warning: not checked, never edited: a template (by its name); check the Dockerfile it renders
web/Dockerfile:2: warning: not checked, never edited: a template (a `{{ }}` placeholder); check the Dockerfile it renders
"
    );
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert_eq!(dir.read("Dockerfile"), by_content);
    assert_eq!(dir.read("Dockerfile.tmpl"), by_name);
    assert_eq!(dir.read("web/Dockerfile"), jinja);
    // `{{` in a shell command is the command's own (a Go template for `docker inspect`).
    dir.file(
        "shell/Dockerfile",
        "FROM node:22\nRUN echo '{{.Id}}'\nUSER node\nCMD [\"node\", \"server.js\"]\n",
    );
    let shell = dir.run(&["shell/Dockerfile"]);
    assert_eq!(
        (shell.code, shell.stdout.as_str(), shell.stderr.as_str()),
        (0, "no findings in 1 file\n", "")
    );
}

#[test]
fn a_generated_file_has_its_findings_reported_without_fixes() {
    let source =
        "# Code generated by gen.sh. DO NOT EDIT.\nFROM node:22\nCMD [\"node\", \"server.js\"]\n";
    let (code, stdout, stderr, after) = write(source);
    assert_eq!(
        stderr,
        "Dockerfile:1: warning: findings reported, never fixed: a generated file (`DO NOT EDIT`); change what generates it\n"
    );
    assert!(
        stdout.contains("; not fixed: the file is generated (`DO NOT EDIT`); change what generates it\n  no automatic fix: this needs a person\n"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("1 finding in 1 file, 0 fixed, 1 remaining\n"),
        "{stdout}"
    );
    // Findings remain, as ruff's that it cannot fix: exit 1.
    assert_eq!((code, after.as_str()), (1, source));
    // The dry run shows no diff.
    let dir = Dir::new();
    dir.file("Dockerfile", source);
    let dry = dir.run(&["--format", "json", "Dockerfile"]);
    let findings: serde_json::Value = serde_json::from_str(&dry.stdout).expect("JSON");
    assert!(findings
        .as_array()
        .expect("an array")
        .iter()
        .all(|f| f["fix"].is_null()));
    assert_eq!(dry.code, 1);
}

#[test]
fn the_docker_library_generated_header_is_recognised() {
    let source = "#\n# NOTE: THIS DOCKERFILE IS GENERATED VIA \"apply-templates.sh\"\n#\n# PLEASE DO NOT EDIT IT DIRECTLY.\n#\n\nFROM node:22\nCMD [\"node\", \"server.js\"]\n";
    let (code, _, stderr, after) = write(source);
    assert!(
        stderr.starts_with("Dockerfile:4: warning: findings reported, never fixed"),
        "{stderr}"
    );
    assert_eq!((code, after.as_str()), (1, source));
}

#[test]
fn standard_input_passes_untouched_files_through() {
    let dir = Dir::new();
    let source = "# @generated\nFROM node:22\nCMD [\"node\", \"server.js\"]\n";
    let run = dir.run_stdin(&["-"], source);
    assert_eq!(run.stdout, source);
    assert!(
        run.stderr.starts_with(
            "<stdin>:1: warning: findings reported, never fixed: a generated file (`@generated`)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(run.code, 1);
    let template = dir.run_stdin(
        &["--stdin-filename", "Dockerfile.j2", "-"],
        "FROM node:22\n",
    );
    assert_eq!(template.stdout, "FROM node:22\n");
    assert_eq!(template.code, 0);
}

/// Differential, against BuildKit's instruction stage (`instructions_error` in the corpus
/// oracle): unroot rejects a file for an unknown instruction exactly when BuildKit does, at
/// the same line and with the same message, unless it takes the file for a template (which
/// it never checks). The oracle records no expanded values, so variables have no such test.
#[test]
fn unknown_instructions_agree_with_buildkit() {
    use unroot::edit::Applicability;
    use unroot::linter::{lint, LintError, LintOptions};
    let corpus = crate::common::corpus("");
    let mut problems = Vec::new();
    let (mut rejected, mut templates, mut checked) = (0, 0, 0);
    for folder in ["buildkit-parser", "node-real", "general", "parser-edge"] {
        let oracle = std::fs::read_to_string(corpus.join(format!("{folder}.buildkit.jsonl")))
            .expect("read the oracle");
        for line in oracle.lines() {
            let record: serde_json::Value = serde_json::from_str(line).expect("an oracle line");
            if record["ok"] != true {
                continue;
            }
            checked += 1;
            let file = record["file"].as_str().expect("file");
            let source = std::fs::read_to_string(corpus.join(folder).join(file))
                .expect("read a corpus file");
            // `dockerfile parse error on line 14: unknown instruction: esac`
            let buildkit = record["instructions_error"]
                .as_str()
                .and_then(|error| error.strip_prefix("dockerfile parse error on line "))
                .and_then(|rest| rest.split_once(": "))
                .filter(|(_, message)| message.starts_with("unknown instruction: "))
                .map(|(line, message)| {
                    (line.parse::<usize>().expect("a line"), message.to_string())
                });
            let ours = match lint(&source, &LintOptions::default(), Applicability::Safe) {
                Err(LintError::Parse(error))
                    if error.message.starts_with("unknown instruction") =>
                {
                    rejected += 1;
                    Some((error.line, error.message))
                }
                Ok(outcome)
                    if outcome.untouched.as_ref().is_some_and(|u| {
                        matches!(u, unroot::linter::Untouched::Template { .. })
                    }) =>
                {
                    templates += 1;
                    continue;
                }
                _ => None,
            };
            if ours != buildkit {
                problems.push(format!(
                    "{folder}/{file}: unroot {ours:?}, BuildKit {buildkit:?}"
                ));
            }
        }
    }
    println!(
        "{checked} files: {rejected} rejected for an unknown instruction, {templates} templates"
    );
    assert!(
        rejected >= 2,
        "the corpus has files with unknown instructions"
    );
    crate::common::report("unknown instructions", &problems);
}
