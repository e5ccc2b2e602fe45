//! The fixer against the shared corpus (`../shared/corpus`, next to the repository).
//!
//! - `node_real_snapshots`: insta snapshots of what each rule makes of each
//!   `node-real/NNN/Dockerfile`, the rule run alone: `snapshots/corpus/<rule>/node-real__NNN.snap`
//!   holds its findings and the unified diff of its planned fixes (unsafe ones included),
//!   for every file where it has findings. `snapshots/corpus/all-rules/node-real__NNN.snap`
//!   holds the diff of every rule's fixes together, for the files where that is not one
//!   rule's diff alone (several rules fix the file), and errors. A new rule adds its own
//!   folder; other snapshots change only where its fixes meet another rule's (`all-rules`).
//!   A snapshot no rule produces any more is a failure: delete it. Review changes with
//!   `cargo insta review`, or regenerate with `INSTA_UPDATE=always cargo test --test it corpus::`
//!   (then delete the snapshots reported as stale); under `CI=true` a mismatch or a missing
//!   snapshot fails.
//! - `invariants_*`: for every Dockerfile of a group, with several option sets: the output
//!   parses, a second run is a no-op, bytes outside the edits are unchanged, and no RUN
//!   of the original changes the user it runs as.
//!
//! A missing corpus is a failure, never a silent pass. The corpus is only read.

use crate::common;

use std::fmt::Write as _;
use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use unroot::edit::{Applicability, Edit};
use unroot::linter::{line_col, lint, LintOptions, Outcome};
use unroot::rules::{Rule, RuleOptions, RuleSelection, RULES};
use unroot::syntax::{parse, Dockerfile, Keyword};
use unroot::unified_diff;
use unroot::Analysis;

// ---------------------------------------------------------------------------------------------
// Corpus access
// ---------------------------------------------------------------------------------------------

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpus folder. Panics (fails the test) when it is missing.
fn corpus_dir() -> PathBuf {
    // Findings about Node release lines depend on the day: pin it to the release table's.
    std::env::set_var("UNROOT_TODAY", "2026-11-24");
    common::corpus("")
}

/// Every file named `Dockerfile` below `corpus/group`, sorted. Panics when the folder is
/// missing or holds none.
fn dockerfiles(group: &str) -> Vec<PathBuf> {
    let root = corpus_dir().join(group);
    let found = common::dockerfiles_under(&root);
    assert!(!found.is_empty(), "no Dockerfile under {}", root.display());
    found
}

/// `corpus/node-real/001/Dockerfile` → `node-real/001/Dockerfile`.
fn display_path(path: &Path) -> String {
    let corpus = corpus_dir();
    path.strip_prefix(&corpus)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Snapshots of the planned diff for every node-real file
// ---------------------------------------------------------------------------------------------

/// Makes carriage returns and a BOM visible (insta normalises line endings when comparing).
fn visible(text: &str) -> String {
    text.replace('\r', "\\r").replace('\u{feff}', "<U+FEFF>")
}

/// What a dry run plans for one file: findings, then the diff (unsafe fixes included).
fn planned(display: &str, source: &str, outcome: &Outcome) -> String {
    let mut out = String::new();
    for finding in &outcome.findings {
        let (line, column) = line_col(source, finding.span.start);
        writeln!(out, "{line}:{column} {}: {}", finding.rule, finding.message).unwrap();
        if let Some(help) = &finding.help {
            writeln!(out, "  help: {help}").unwrap();
        }
        match &finding.fix {
            Some(fix) => {
                writeln!(out, "  fix ({}): {}", fix.applicability.as_str(), fix.title).unwrap()
            }
            None => out.push_str("  no fix\n"),
        }
    }
    out.push('\n');
    out.push_str(&changes(display, source, &outcome.fixed));
    visible(&out)
}

/// The unified diff from `source` to `fixed`, or `(no changes)`.
fn changes(display: &str, source: &str, fixed: &str) -> String {
    let diff = unified_diff(display, source, fixed);
    if diff.is_empty() {
        "(no changes)\n".to_string()
    } else {
        diff
    }
}

/// The folder of the snapshots of every rule's fixes together (and of errors).
const ALL_RULES: &str = "all-rules";

/// The snapshots one file makes: (folder, content).
fn snapshots_of(display: &str, source: &str) -> Vec<(&'static str, String)> {
    let only = |rule: &Rule| LintOptions {
        selection: RuleSelection {
            select: vec![rule.name.to_string()],
            ignore: Vec::new(),
        },
        ..LintOptions::default()
    };
    let all = match lint(source, &LintOptions::default(), Applicability::Unsafe) {
        Ok(outcome) => outcome,
        Err(err) => return vec![(ALL_RULES, format!("error: {err}\n"))],
    };
    let mut snapshots = Vec::new();
    let mut fixed_alone = Vec::new();
    for rule in RULES {
        let outcome = match lint(source, &only(rule), Applicability::Unsafe) {
            Ok(outcome) => outcome,
            Err(err) => {
                snapshots.push((rule.name, format!("error: {err}\n")));
                continue;
            }
        };
        if !outcome.findings.is_empty() {
            snapshots.push((rule.name, planned(display, source, &outcome)));
        }
        fixed_alone.push(outcome.fixed);
    }
    if all.fixed != source && !fixed_alone.contains(&all.fixed) {
        snapshots.push((ALL_RULES, visible(&changes(display, source, &all.fixed))));
    }
    snapshots
}

#[test]
fn node_real_snapshots() {
    let root = manifest_dir().join("snapshots/corpus");
    let files = dockerfiles("node-real");
    let mut failures = Vec::new();
    let mut expected: Vec<PathBuf> = Vec::new();
    let (mut with_findings, mut together) = (0, 0);
    for path in &files {
        let display = display_path(path);
        let id = path
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = format!("node-real__{id}");
        let snapshots = snapshots_of(&display, &read(path));
        with_findings += usize::from(snapshots.iter().any(|(folder, _)| *folder != ALL_RULES));
        together += usize::from(snapshots.iter().any(|(folder, _)| *folder == ALL_RULES));
        for (folder, content) in snapshots {
            expected.push(root.join(folder).join(format!("{name}.snap")));
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(root.join(folder));
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(true);
            let result = catch_unwind(AssertUnwindSafe(|| {
                settings.bind(|| insta::assert_snapshot!(name.as_str(), content));
            }));
            if result.is_err() {
                failures.push(format!(
                    "{display}: snapshot {folder}/{name} is missing or does not match (diff \
                     above; regenerate with INSTA_UPDATE=always cargo test --test it corpus::)"
                ));
            }
        }
    }
    // A snapshot nothing produces any more would never be checked again.
    for folder in fs::read_dir(&root).expect("cannot list snapshots/corpus") {
        let folder = folder.expect("cannot list snapshots/corpus").path();
        let entries: Vec<PathBuf> = match fs::read_dir(&folder) {
            Ok(entries) => entries.filter_map(|e| Some(e.ok()?.path())).collect(),
            Err(_) => vec![folder.clone()],
        };
        for snapshot in entries {
            let name = snapshot.file_name().unwrap_or_default().to_string_lossy();
            if name.ends_with(".snap") && !expected.contains(&snapshot) {
                failures.push(format!(
                    "{}: no rule makes this snapshot any more: delete it",
                    snapshot
                        .strip_prefix(manifest_dir())
                        .unwrap_or(&snapshot)
                        .display()
                ));
            }
        }
    }
    println!(
        "snapshots node-real: {} files, {with_findings} with findings, {together} with fixes \
         of several rules; {} snapshots, {} failures",
        files.len(),
        expected.len(),
        failures.len()
    );
    common::report("node-real snapshots", &failures);
}

// ---------------------------------------------------------------------------------------------
// Invariants
// ---------------------------------------------------------------------------------------------

/// The option sets every file is checked with.
fn option_sets() -> Vec<(&'static str, LintOptions)> {
    let with = |rules: RuleOptions| LintOptions {
        rules,
        ..LintOptions::default()
    };
    vec![
        ("default", LintOptions::default()),
        (
            "numeric-user",
            with(RuleOptions {
                numeric_user: true,
                ..RuleOptions::default()
            }),
        ),
        (
            "all-images",
            with(RuleOptions {
                all_images: true,
                ..RuleOptions::default()
            }),
        ),
        (
            "port-map",
            with(RuleOptions {
                port_map: vec![(80, 3000), (443, 3443)],
                ..RuleOptions::default()
            }),
        ),
    ]
}

/// The user an instruction runs as: the value of the last USER before it in its stage, or
/// in the stages its stage is built FROM, or the base image's default. An `ONBUILD RUN`
/// runs (in the images built from this stage) as the stage's last user.
fn user_at(file: &Dockerfile, analysis: &Analysis, index: usize) -> String {
    let Some(stage) = analysis
        .stages
        .iter()
        .find(|s| s.from < index && index < s.end)
    else {
        return "<before any FROM>".to_string();
    };
    let until = if file.instructions[index].kind == Keyword::Onbuild {
        stage.end
    } else {
        index
    };
    let chain = analysis.chain(stage);
    for ancestor in chain.iter().rev() {
        let end = if ancestor.index == stage.index {
            until
        } else {
            ancestor.end
        };
        let user = (ancestor.from + 1..end)
            .rev()
            .find(|&i| file.instructions[i].kind == Keyword::User);
        if let Some(user) = user {
            let value = file.instructions[user]
                .user()
                .map(|t| t.value.clone())
                .unwrap_or_default();
            return format!("USER {value}");
        }
    }
    // The image's own user: pinning a tag (floating-tag) keeps the image and so its user.
    let image = chain[0]
        .image
        .as_ref()
        .map_or("?", |image| image.repository.as_str());
    format!(
        "<default user of {image}: {}>",
        chain[0].base.default_user().unwrap_or("root")
    )
}

/// Every RUN (and `ONBUILD RUN`) of a file: what it runs (the logical line, heredoc bodies
/// included, trimmed) and the user it runs as.
fn runs(file: &Dockerfile) -> Vec<(String, String)> {
    let analysis = Analysis::of(file);
    file.instructions
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            i.kind == Keyword::Run
                || (i.kind == Keyword::Onbuild
                    && i.onbuild.as_ref().is_some_and(|t| t.kind == Keyword::Run))
        })
        .map(|(index, i)| {
            let mut text = i.original.trim().to_string();
            for heredoc in &i.heredocs {
                text.push('\n');
                text.push_str(&heredoc.content);
            }
            (text, user_at(file, &analysis, index))
        })
        .collect()
}

fn is_subsequence(needle: &[u8], haystack: &[u8]) -> bool {
    let mut rest = haystack.iter();
    needle.iter().all(|b| rest.any(|h| h == b))
}

/// What the invariant check did with one file.
enum Checked {
    /// The original does not parse, or BuildKit rejects it (nothing to check).
    Unparsable,
    /// Checked; `changed` when the fix changed the text, `one_round` when the result is
    /// exactly the original with the first round's edits spliced in.
    Ok { changed: bool, one_round: bool },
}

/// Checks every invariant of one file under one option set; `Err` lists the violations.
fn check_invariants(source: &str, options: &LintOptions) -> Result<Checked, Vec<String>> {
    let Ok(original) = parse(source) else {
        return Ok(Checked::Unparsable);
    };
    let mut problems = Vec::new();
    let outcome = match lint(source, options, Applicability::Unsafe) {
        Ok(outcome) => outcome,
        // BuildKit rejects it (an unknown instruction): reported, never fixed.
        Err(unroot::linter::LintError::Parse(_)) => return Ok(Checked::Unparsable),
        Err(err) => return Err(vec![format!("lint failed: {err}")]),
    };
    let fixed = &outcome.fixed;

    // 1. The output parses.
    let fixed_file = match parse(fixed) {
        Ok(file) => file,
        Err(err) => return Err(vec![format!("fixed text does not parse: {err:?}")]),
    };

    // 2. A second run finds nothing to fix and changes nothing.
    match lint(fixed, options, Applicability::Unsafe) {
        Ok(again) => {
            let fixable: Vec<&str> = again
                .findings
                .iter()
                .filter(|f| f.fix.is_some())
                .map(|f| f.message.as_str())
                .collect();
            if !fixable.is_empty() {
                problems.push(format!("second run still has fixes: {fixable:?}"));
            }
            if again.fixed != *fixed {
                problems.push("second run changes the text".to_string());
            }
        }
        Err(err) => problems.push(format!("second run failed: {err}")),
    }

    // 3. Bytes outside the first round's edits are unchanged.
    let edits: Vec<&Edit> = outcome
        .findings
        .iter()
        .filter_map(|f| f.fix.as_ref())
        .filter(|fix| fix.applies(Applicability::Unsafe))
        .flat_map(|fix| &fix.edits)
        .collect();
    let (found, one_round) = outside_edits_unchanged(source, edits, fixed);
    problems.extend(found);

    // 4. No RUN of the original changes its user; inserted RUNs create the user, as root.
    problems.extend(runs_keep_their_users(&original, &fixed_file));

    if problems.is_empty() {
        Ok(Checked::Ok {
            changed: fixed != source,
            one_round,
        })
    } else {
        Err(problems)
    }
}

/// Every byte of `source` outside `edits` is still in `fixed`: exactly the splice of the edits
/// when the fix loop converged in one round, else (several rounds) as a subsequence.
/// The flag tells whether the exact splice matched.
fn outside_edits_unchanged(
    source: &str,
    mut edits: Vec<&Edit>,
    fixed: &str,
) -> (Vec<String>, bool) {
    let mut problems = Vec::new();
    edits.sort();
    edits.dedup();
    for edit in &edits {
        if edit.span.start > edit.span.end
            || edit.span.end > source.len()
            || !source.is_char_boundary(edit.span.start)
            || !source.is_char_boundary(edit.span.end)
        {
            return (
                vec![format!("edit {:?} is not inside the text", edit.span)],
                false,
            );
        }
    }
    if edits.is_empty() {
        if fixed != source {
            problems.push("the text changed without any edit".to_string());
        }
        return (problems, true);
    }
    let disjoint = edits
        .windows(2)
        .all(|pair| pair[0].span.end <= pair[1].span.start && pair[0].span != pair[1].span);
    if disjoint {
        let mut spliced = String::new();
        let mut cursor = 0;
        for edit in &edits {
            spliced.push_str(&source[cursor..edit.span.start]);
            spliced.push_str(&edit.content);
            cursor = edit.span.end;
        }
        spliced.push_str(&source[cursor..]);
        if spliced == fixed {
            return (problems, true);
        }
    }
    let mut kept = Vec::new();
    let mut cursor = 0;
    for edit in &edits {
        if edit.span.start >= cursor {
            kept.extend_from_slice(&source.as_bytes()[cursor..edit.span.start]);
        }
        cursor = cursor.max(edit.span.end);
    }
    kept.extend_from_slice(&source.as_bytes()[cursor..]);
    if !is_subsequence(&kept, fixed.as_bytes()) {
        problems.push("bytes outside the edits were changed or dropped".to_string());
    }
    (problems, false)
}

/// Every RUN of `original` is in `fixed`, in order, running as the same user; a RUN that is
/// not in the original must create a user or give paths to it (`mkdir -p`, `chown`), as root.
fn runs_keep_their_users(original: &Dockerfile, fixed: &Dockerfile) -> Vec<String> {
    let mut problems = Vec::new();
    let before = runs(original);
    let after = runs(fixed);
    let mut expected = before.iter().peekable();
    for (text, user) in &after {
        match expected.peek() {
            Some((original_text, original_user)) if original_text == text => {
                if user != original_user {
                    problems.push(format!(
                        "`{}` ran as {original_user}, now as {user}",
                        first_line(text)
                    ));
                }
                expected.next();
            }
            _ => {
                let creates = text.contains("useradd")
                    || text.contains("adduser")
                    || text
                        .split_once(char::is_whitespace)
                        .map_or("", |(_, script)| script)
                        .split("&&")
                        .all(|command| {
                            let command = command.trim();
                            command.starts_with("mkdir -p ") || command.starts_with("chown ")
                        });
                let as_root = user.starts_with("<default")
                    || matches!(user.as_str(), "USER root" | "USER 0")
                    || user.starts_with("USER root:")
                    || user.starts_with("USER 0:");
                if !creates || !as_root {
                    problems.push(format!(
                        "inserted RUN `{}` (as {user}) is not a user creation or a path grant run as root",
                        first_line(text)
                    ));
                }
            }
        }
    }
    let missing: Vec<String> = expected.map(|(text, _)| first_line(text)).collect();
    if !missing.is_empty() {
        problems.push(format!("RUNs of the original are gone: {missing:?}"));
    }
    problems
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").chars().take(80).collect()
}

/// Runs the invariants over every Dockerfile of a group, with every option set.
fn invariants(group: &str) {
    let files = dockerfiles(group);
    let mut problems = Vec::new();
    for (label, options) in option_sets() {
        let (mut passed, mut checked, mut changed, mut unparsable, mut rounds) = (0, 0, 0, 0, 0);
        for path in &files {
            let source = read(path);
            match check_invariants(&source, &options) {
                Ok(Checked::Unparsable) => unparsable += 1,
                Ok(Checked::Ok {
                    changed: c,
                    one_round,
                }) => {
                    checked += 1;
                    passed += 1;
                    changed += usize::from(c);
                    rounds += usize::from(!one_round);
                }
                Err(found) => {
                    checked += 1;
                    for problem in found {
                        problems.push(format!("{} [{label}]: {problem}", display_path(path)));
                    }
                }
            }
        }
        println!(
            "invariants {group} [{label}]: {passed}/{checked} ({changed} changed, \
             {rounds} needed more than one round, {unparsable} skipped: BuildKit rejects the original)"
        );
    }
    common::report(&format!("invariants {group}"), &problems);
}

#[test]
fn invariants_node_real() {
    invariants("node-real");
}

#[test]
fn invariants_general() {
    invariants("general");
}

#[test]
fn invariants_parser_edge() {
    invariants("parser-edge/valid");
}

#[test]
fn invariants_buildkit_testfiles() {
    invariants("buildkit-parser/testfiles");
}

/// The checks themselves catch what they are meant to catch.
#[test]
fn invariant_checks_detect_violations() {
    let original = parse("FROM node:22\nRUN a\nUSER node\nRUN b\nFROM 0\nRUN c\n").unwrap();
    let users: Vec<String> = runs(&original).into_iter().map(|(_, user)| user).collect();
    assert_eq!(
        users,
        ["<default user of node: root>", "USER node", "USER node"].map(String::from)
    );
    // An ONBUILD RUN runs as the stage's last user, wherever it is written.
    let onbuild = parse("FROM node:22\nONBUILD RUN a\nRUN b\nUSER node\n").unwrap();
    assert_eq!(
        runs(&onbuild),
        [
            ("ONBUILD RUN a".to_string(), "USER node".to_string()),
            (
                "RUN b".to_string(),
                "<default user of node: root>".to_string()
            )
        ]
    );
    let before = parse("FROM node:22\nONBUILD RUN a\n").unwrap();
    assert_eq!(runs_keep_their_users(&before, &onbuild).len(), 2);

    // A USER inserted before a RUN changes its user; a dropped RUN is missed; an inserted
    // RUN that is not a user creation is reported.
    let moved = parse("FROM node:22\nUSER node\nRUN a\nRUN b\nFROM 0\nRUN c\n").unwrap();
    assert_eq!(runs_keep_their_users(&original, &moved).len(), 1);
    let dropped = parse("FROM node:22\nRUN a\nUSER node\nFROM 0\nRUN c\n").unwrap();
    let problems = runs_keep_their_users(&original, &dropped);
    assert!(problems.iter().any(|p| p.contains("gone")), "{problems:?}");
    let extra = parse("FROM node:22\nRUN a\nRUN x\nUSER node\nRUN b\nFROM 0\nRUN c\n").unwrap();
    assert_eq!(runs_keep_their_users(&original, &extra).len(), 1);
    let created =
        parse("FROM node:22\nRUN a\nRUN useradd app\nUSER node\nRUN b\nFROM 0\nRUN c\n").unwrap();
    assert!(runs_keep_their_users(&original, &created).is_empty());
    assert!(runs_keep_their_users(&original, &original).is_empty());

    let source = "FROM a\nCMD x\n";
    let insert = Edit::insert(7, "USER node\n");
    let check = |edits: Vec<&Edit>, fixed: &str| outside_edits_unchanged(source, edits, fixed);
    assert_eq!(
        check(vec![&insert], "FROM a\nUSER node\nCMD x\n"),
        (vec![], true)
    );
    // A later round added more: the original bytes are all still there.
    assert_eq!(
        check(vec![&insert], "FROM a\nUSER node\nCMD x\nUSER y\n"),
        (vec![], false)
    );
    assert_eq!(
        check(vec![&insert], "FROM b\nUSER node\nCMD x\n").0.len(),
        1
    );
    assert_eq!(check(vec![], "FROM a\n").0.len(), 1);
    assert!(is_subsequence(b"ace", b"abcde"));
    assert!(!is_subsequence(b"aec", b"abcde"));
}
