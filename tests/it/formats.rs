//! The machine formats beside json and SARIF: json-lines, gitlab, rdjson, checkstyle, junit.
//! Each is read back by a consumer where one can be installed (reviewdog's rdjson validator
//! from npm, `junitparser` from PyPI; `.ci/run` installs both), and checked field by field
//! against the format's documentation otherwise.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::Dir;

/// Two findings with a safe fix (root-user, floating-tag) and one with an unsafe fix
/// (privileged-port); `b/`, one (root-user) under a non-ASCII comment.
fn tree() -> Dir {
    let dir = Dir::new();
    dir.file(
        "Dockerfile",
        "FROM node\nEXPOSE 80\nCMD [\"node\", \"x\"]\n",
    );
    dir.file(
        "b/Dockerfile",
        "# café <&>\nFROM node:22-alpine\nLABEL a=\"q\"\nCMD [\"node\", \"x\"]\n",
    );
    dir.file(
        "clean/Dockerfile",
        "FROM node:22-alpine\nUSER node\nCMD [\"node\", \"x\"]\n",
    );
    dir
}

fn run(dir: &Dir, format: &str) -> String {
    let run = dir.run(&["--format", format]);
    assert_eq!(run.code, 1, "{format}: {}", run.stderr);
    assert_eq!(run.stderr, "", "{format}");
    run.stdout
}

/// `tool` on PATH; missing: a failure under CI, a skip note otherwise.
fn require(tool: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let note = format!("`{tool}` is not on PATH: {install} (.ci/run does this)");
        assert!(std::env::var_os("CI").is_none(), "{note}");
        println!("SKIPPED: {note}");
    }
    found
}

#[test]
fn json_lines_are_the_json_findings_one_per_line() {
    let dir = tree();
    let array: Vec<Value> = serde_json::from_str(&run(&dir, "json")).expect("JSON");
    let text = run(&dir, "json-lines");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines, array);
    assert_eq!(lines.len(), 4, "{text}");
}

#[test]
fn gitlab_code_quality_has_the_fields_gitlab_reads() {
    let dir = tree();
    let issues: Vec<Value> = serde_json::from_str(&run(&dir, "gitlab")).expect("JSON");
    assert_eq!(issues.len(), 4);
    let mut fingerprints: Vec<&str> = Vec::new();
    for issue in &issues {
        assert_eq!(issue["type"], "issue");
        for field in ["description", "check_name", "fingerprint"] {
            assert!(
                issue[field].as_str().is_some_and(|s| !s.is_empty()),
                "{issue}"
            );
        }
        let severity = issue["severity"].as_str().expect("severity");
        assert!(
            ["info", "minor", "major", "critical", "blocker"].contains(&severity),
            "{issue}"
        );
        assert!(issue["location"]["path"].is_string(), "{issue}");
        assert!(issue["location"]["lines"]["begin"]
            .as_u64()
            .is_some_and(|n| n >= 1));
        fingerprints.push(issue["fingerprint"].as_str().expect("fingerprint"));
    }
    assert_eq!(issues[0]["check_name"], "root-user");
    assert_eq!(issues[0]["severity"], "critical");
    assert_eq!(issues[0]["location"]["path"], "Dockerfile");
    // Unique, and the same when lines are added above the finding.
    let mut unique = fingerprints.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), fingerprints.len());
    dir.file(
        "b/Dockerfile",
        "# café <&>\n\n\n# more\nFROM node:22-alpine\nLABEL a=\"q\"\nCMD [\"node\", \"x\"]\n",
    );
    let moved: Vec<Value> = serde_json::from_str(&run(&dir, "gitlab")).expect("JSON");
    assert_eq!(moved[3]["fingerprint"], issues[3]["fingerprint"]);
    assert_ne!(
        moved[3]["location"]["lines"]["begin"],
        issues[3]["location"]["lines"]["begin"]
    );
    // A clean run is an empty array.
    let clean = Dir::new();
    clean.file(
        "Dockerfile",
        "FROM node:22-alpine\nUSER node\nCMD [\"node\", \"x\"]\n",
    );
    assert_eq!(clean.run(&["--format", "gitlab"]).stdout, "[]\n");
}

#[test]
fn rdjson_carries_safe_fixes_as_suggestions_and_passes_reviewdogs_validator() {
    let dir = tree();
    let text = run(&dir, "rdjson");
    let result: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(result["source"]["name"], "unroot");
    let diagnostics = result["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 4);
    let root = &diagnostics[0];
    assert_eq!(root["code"]["value"], "root-user");
    assert_eq!(
        root["code"]["url"],
        "https://github.com/unroot/unroot/blob/main/docs/rules/root-user.md"
    );
    assert_eq!(root["severity"], "ERROR");
    assert_eq!(
        root["location"]["range"]["start"],
        serde_json::json!({"line": 1, "column": 1})
    );
    // The safe pin is a suggestion: an insertion of the tag after `node`.
    let pin = diagnostics
        .iter()
        .find(|d| d["code"]["value"] == "floating-tag")
        .expect("pin");
    let suggestion = &pin["suggestions"][0];
    assert_eq!(suggestion["range"]["start"], suggestion["range"]["end"]);
    assert_eq!(
        suggestion["range"]["start"],
        serde_json::json!({"line": 1, "column": 10})
    );
    assert!(suggestion["text"].as_str().expect("text").starts_with(':'));
    // Unsafe fixes (the port move, and the USER that waits for it) are no suggestions; the
    // message says how to apply them.
    for rule in ["privileged-port", "root-user"] {
        let found = diagnostics
            .iter()
            .find(|d| d["code"]["value"] == rule)
            .expect(rule);
        assert!(found.get("suggestions").is_none(), "{found}");
        assert!(found["message"]
            .as_str()
            .expect("message")
            .contains("--unsafe-fixes"));
    }
    // b/ has a safe USER fix: inserted before its CMD.
    let b_root = diagnostics
        .iter()
        .find(|d| d["location"]["path"] == "b/Dockerfile")
        .expect("b");
    assert!(b_root["suggestions"][0]["text"]
        .as_str()
        .expect("text")
        .contains("USER node"));
    // Columns are UTF-8 bytes: `é` is two.
    let b = diagnostics
        .iter()
        .find(|d| d["location"]["path"] == "b/Dockerfile")
        .expect("b");
    assert_eq!(b["location"]["range"]["start"]["line"], 2);
    let Some(validator) = require(
        "rdformat-validator",
        "npm install @umbrelladocs/rdformat-validator",
    ) else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let file = work.path().join("unroot.rdjson");
    std::fs::write(&file, &text).expect("write");
    let checked = Command::new(validator)
        .args(["--strict", "--no-extra-fields"])
        .arg(&file)
        .output()
        .expect("run the validator");
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn checkstyle_lists_files_with_findings_and_escapes() {
    let dir = tree();
    let text = run(&dir, "checkstyle");
    assert!(text
        .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n"));
    assert!(text.ends_with("</checkstyle>\n"));
    assert_eq!(text.matches("<file name=").count(), 2, "{text}");
    assert!(text.contains("<file name=\"Dockerfile\">"), "{text}");
    assert!(!text.contains("clean/Dockerfile"), "{text}");
    assert!(
        text.contains("severity=\"error\" message=\"final stage runs as root"),
        "{text}"
    );
    assert!(text.contains("source=\"unroot.privileged-port\""), "{text}");
    assert!(
        !text.contains("message=\"`node` has no tag: \"\""),
        "{text}"
    );
    // Read back by an XML parser.
    if let Some(count) = python_xml_count(&text, "error") {
        assert_eq!(count, 4);
    }
    let clean = Dir::new();
    clean.file(
        "Dockerfile",
        "FROM node:22-alpine\nUSER node\nCMD [\"node\", \"x\"]\n",
    );
    assert_eq!(
        clean.run(&["--format", "checkstyle"]).stdout,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n</checkstyle>\n"
    );
}

#[test]
fn junit_has_a_failed_case_per_finding_and_junitparser_reads_it() {
    let dir = tree();
    let text = run(&dir, "junit");
    assert_eq!(text.matches("<testcase ").count(), 4, "{text}");
    assert_eq!(text.matches("<failure ").count(), 4, "{text}");
    assert!(
        text.contains("<testsuite name=\"Dockerfile\" tests=\"3\" failures=\"3\""),
        "{text}"
    );
    let summary = junitparser(&text);
    if let Some(summary) = summary {
        assert_eq!(summary, "Dockerfile 3 3\nb/Dockerfile 1 1\n");
    }
    let clean = Dir::new();
    clean.file(
        "Dockerfile",
        "FROM node:22-alpine\nUSER node\nCMD [\"node\", \"x\"]\n",
    );
    let run = clean.run(&["--format", "junit"]);
    assert_eq!(run.code, 0);
    assert!(run
        .stdout
        .contains("<testcase name=\"no findings\" classname=\"unroot\"/>"));
    if let Some(summary) = junitparser(&run.stdout) {
        assert_eq!(summary, "unroot 1 0\n");
    }
}

#[test]
fn sarif_has_fingerprints_security_severity_and_error_notifications() {
    let dir = tree();
    dir.file("broken/Dockerfile", "FROM node:22\nRUN <<EOF\necho\n");
    let run = dir.run(&["--format", "sarif"]);
    assert_eq!(run.code, 2);
    let log: Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    let sarif_run = &log["runs"][0];
    let rules = sarif_run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let root = rules
        .iter()
        .find(|r| r["id"] == "root-user")
        .expect("root-user");
    assert_eq!(root["properties"]["security-severity"], "7.5");
    for result in sarif_run["results"].as_array().expect("results") {
        let fingerprint = result["partialFingerprints"]["unroot/v1"]
            .as_str()
            .expect("fp");
        assert_eq!(fingerprint.len(), 32);
    }
    let invocation = &sarif_run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    assert!(
        note["message"]["text"]
            .as_str()
            .expect("text")
            .starts_with("broken/Dockerfile:2: "),
        "{note}"
    );
}

/// `junitparser`'s view of a report: `suite tests failures` per line; `None` (a skip) when
/// Python lacks it outside CI.
fn junitparser(xml: &str) -> Option<String> {
    let script = "import sys\nfrom junitparser import JUnitXml\nx = JUnitXml.fromstring(sys.stdin.read().encode())\nfor s in x:\n    print(s.name, s.tests, s.failures)\n";
    python(script, xml, "pip install junitparser")
}

/// How many `tag` elements Python's XML parser finds.
fn python_xml_count(xml: &str, tag: &str) -> Option<usize> {
    let script = format!(
        "import sys, xml.etree.ElementTree as ET\nprint(len(ET.fromstring(sys.stdin.read()).findall('.//{tag}')))\n"
    );
    python(&script, xml, "a Python 3")?.trim().parse().ok()
}

fn python(script: &str, input: &str, install: &str) -> Option<String> {
    let python = require("python3", install)?;
    let probe = Command::new(&python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python3");
    let mut child = probe;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to python3");
    let output = child.wait_with_output().expect("python3 ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("ModuleNotFoundError") {
        let note = format!("python3 lacks a module: {install} (.ci/run does this)");
        assert!(std::env::var_os("CI").is_none(), "{note}");
        println!("SKIPPED: {note}");
        return None;
    }
    assert!(output.status.success(), "{stderr}");
    Some(String::from_utf8(output.stdout).expect("UTF-8"))
}
