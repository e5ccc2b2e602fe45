//! End-to-end: every fixture under `tests/e2e/<name>/` is built and run for real with
//! `../shared/tools/run-image/run-image.sh` (podman, offline stand-ins of the official base
//! images): the original, then the result of `unroot --write`, then of
//! `unroot --write --unsafe-fixes`, each fixed copy under `--port-mode strict` (ports below
//! 1024 need root, as on Kubernetes).
//!
//! `expect.toml` says what must hold:
//!
//! ```toml
//! child = "child.Dockerfile"  # optional: build Dockerfile with this file's steps on top
//! target = "release"          # optional: build this stage (`--target`), as the repository does
//! [before]                    # the original, as Docker runs it
//! ports = [80]                # each answers HTTP 200; so must every exposed or listening port
//! fails_with = ["unable to find user"]  # optional: the original must fail, saying this (the
//!                             # bug unroot fixes, e.g. `USER 1000  # node`); then `ports` is
//!                             # what the fixed image answers on
//! [write]                     # after `unroot --write`
//! changed = true              # unroot changes the file (the default); false: leaves it alone
//! ports = [8080]
//! uid = 1000                  # optional: PID 1's uid (with `changed`, it is never 0)
//! known_broken = "why"        # optional, with `symptom`: see below
//! symptom = ["EACCES", "syscall: 'listen'"]
//! [unsafe-fixes]              # after `unroot --write --unsafe-fixes`, the same keys
//! ```
//!
//! A case unroot gets wrong today has `known_broken` (the reason) and `symptom` (texts that
//! the build error, run error, log tail or HTTP errors must all contain); the rest of the
//! section is the target. Such a case passes only while it still fails that way: when it meets
//! the target, or breaks some other way, the test fails so that someone updates `expect.toml`.
//! A run that fails for reasons unrelated to the file (a harness error, podman 4.3's
//! `layer not known` under concurrency, a dead container whose log was lost) is retried once.
//!
//! Needs the run-image store (`$RUN_IMAGE_HOME/conf/containers.conf`, made by
//! `tests/e2e/setup.sh`): without it the test fails when `CI` is set and is skipped with a
//! note otherwise. `UNROOT_E2E_FIXTURES=a,b` runs only those fixtures, `UNROOT_E2E_JOBS`
//! sets how many run at once (3). The summary is also written to
//! `target/tmp/e2e-report.txt`.

use crate::common;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::Value;

/// The team's target is 25 and more; fewer than this means fixtures went missing.
const MIN_FIXTURES: usize = 12;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    child: Option<String>,
    target: Option<String>,
    before: Before,
    write: After,
    #[serde(rename = "unsafe-fixes")]
    unsafe_fixes: After,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Before {
    ports: Vec<u16>,
    #[serde(default)]
    fails_with: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct After {
    #[serde(default = "yes")]
    changed: bool,
    ports: Vec<u16>,
    uid: Option<u64>,
    known_broken: Option<String>,
    #[serde(default)]
    symptom: Vec<String>,
}

fn yes() -> bool {
    true
}

struct Fixture {
    name: String,
    dir: PathBuf,
    expect: Expect,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e")
}

/// Every fixture, sorted by name, checked for shape. Panics on a malformed one.
fn fixtures() -> Vec<Fixture> {
    let root = fixtures_dir();
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
        .map(|entry| entry.expect("list tests/e2e").path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    let mut found = Vec::new();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        for file in ["Dockerfile", "server.js", "expect.toml"] {
            assert!(dir.join(file).is_file(), "{name}: {file} is missing");
        }
        let text = fs::read_to_string(dir.join("expect.toml")).unwrap();
        let expect: Expect =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{name}/expect.toml: {e}"));
        assert!(
            !expect.before.ports.is_empty(),
            "{name}: before.ports is empty"
        );
        assert!(
            expect
                .before
                .fails_with
                .iter()
                .all(|s| !s.trim().is_empty()),
            "{name}: before.fails_with: an empty text matches anything"
        );
        if let Some(child) = &expect.child {
            assert!(dir.join(child).is_file(), "{name}: {child} is missing");
        }
        for (mode, after) in [
            ("write", &expect.write),
            ("unsafe-fixes", &expect.unsafe_fixes),
        ] {
            assert!(!after.ports.is_empty(), "{name}: {mode}.ports is empty");
            assert_eq!(
                after.known_broken.is_some(),
                !after.symptom.is_empty(),
                "{name}: {mode}: `known_broken` and `symptom` go together"
            );
            assert!(
                after.symptom.iter().all(|s| !s.trim().is_empty()),
                "{name}: {mode}: an empty symptom matches anything"
            );
        }
        found.push(Fixture { name, dir, expect });
    }
    found
}

#[test]
fn fixtures_are_well_formed() {
    let all = fixtures();
    assert!(
        all.len() >= MIN_FIXTURES,
        "only {} fixtures under tests/e2e (at least {MIN_FIXTURES} expected)",
        all.len()
    );
}

// ---------------------------------------------------------------------------------------------
// run-image
// ---------------------------------------------------------------------------------------------

fn run_image_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/run-image/run-image.sh")
}

/// Whether the run-image store is set up. When it is not: a failure under CI, else a skip note.
fn store_ready() -> bool {
    let home = std::env::var_os("RUN_IMAGE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/lib/run-image"));
    let conf = home.join("conf/containers.conf");
    let script = run_image_script();
    let missing = if !script.is_file() {
        format!("{} is missing (the shared tools)", script.display())
    } else if !conf.is_file() {
        format!(
            "the run-image store is not set up ({} is missing): run `bash tests/e2e/setup.sh` \
             as root (.ci/run does; see CONTRIBUTING.md, \"End-to-end tests\")",
            conf.display()
        )
    } else {
        return true;
    };
    assert!(std::env::var_os("CI").is_none(), "{missing}");
    println!("SKIPPED: {missing}");
    false
}

/// Held by each test that builds images, so their builds (already UNROOT_E2E_JOBS at a time)
/// do not pile up on podman's store.
static ENGINE: Mutex<()> = Mutex::new(());

/// A failure that says nothing about the Dockerfile (podman 4.3 under concurrency: another
/// build changed the store under this one, or a dead container's log was lost).
fn transient(result: &Value) -> bool {
    if !result["harness_error"].is_null() {
        return true;
    }
    // A container that died and left no output at all: under load podman 4.3 now and then
    // loses the log of a container that exits within a second (seen with the `mkdir` failure
    // of a fixture that prints it every time when run alone).
    let died_silently = result["running"].as_bool() == Some(false)
        && result["exit_code"].as_i64().is_some_and(|code| code != 0)
        && result["log_tail"]
            .as_str()
            .is_none_or(|log| log.trim().is_empty());
    if died_silently {
        return true;
    }
    ["build_error", "run_error"].iter().any(|key| {
        result[*key].as_str().is_some_and(|e| {
            ["layer not known", "image not known", "container not known"]
                .iter()
                .any(|race| e.contains(race))
        })
    })
}

/// Builds and runs `dockerfile` with `context`; the JSON line (retried once on a
/// [`transient`] failure).
fn run_image(dockerfile: &Path, context: &Path, target: Option<&str>, strict: bool) -> Value {
    let once = || {
        let mut command = Command::new("bash");
        command
            .arg(run_image_script())
            .arg(dockerfile)
            .arg(context)
            // A stand-in that setup did not make is a setup problem: report it, build nothing.
            .arg("--no-on-demand");
        if strict {
            command.args(["--port-mode", "strict"]);
        }
        if let Some(target) = target {
            command.args(["--target", target]);
        }
        let output = command.output().expect("run run-image.sh");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout.lines().last().unwrap_or("");
        serde_json::from_str::<Value>(line).unwrap_or_else(|_| {
            serde_json::json!({
                "harness_error": format!(
                    "run-image.sh exited with {} and printed no JSON line: {}{}",
                    output.status,
                    stdout.trim(),
                    String::from_utf8_lossy(&output.stderr).trim()
                )
            })
        })
    };
    let first = once();
    if !transient(&first) {
        return first;
    }
    let mut second = once();
    second["retried_after"] = Value::String(excerpt(&evidence(&first), &[]));
    second
}

/// One line about a run: what was built, who ran it, what answered.
fn describe(result: &Value) -> String {
    let mut line = String::new();
    if !result["harness_error"].is_null() {
        return format!("harness error: {}", result["harness_error"]);
    }
    let built = result["built"].as_bool() == Some(true);
    write!(line, "built={built}").unwrap();
    if built {
        write!(
            line,
            " user={} uid={} listening={} http={{",
            result["image"]["user"], result["uid"], result["listening"]
        )
        .unwrap();
        if let Some(http) = result["http"].as_object() {
            let answers: Vec<String> = http
                .iter()
                .map(|(port, h)| match h["status"].as_u64() {
                    Some(status) => format!("{port}: {status}"),
                    None => format!("{port}: {}", h["error"].as_str().unwrap_or("no answer")),
                })
                .collect();
            line.push_str(&answers.join(", "));
        }
        line.push('}');
        if result["running"].as_bool() != Some(true) {
            write!(line, " exit={}", result["exit_code"]).unwrap();
        }
    }
    if let Some(first) = result["retried_after"].as_str() {
        write!(line, " (second try; the first: {first})").unwrap();
    }
    line
}

/// What went wrong in a run, against "it is running and answers 200 on `ports`". Empty: it
/// works.
fn failures(result: &Value, ports: &[u16], uid: Option<u64>, non_root: bool) -> Vec<String> {
    let mut found = Vec::new();
    if !result["harness_error"].is_null() {
        found.push(format!("harness error: {}", result["harness_error"]));
        return found;
    }
    if result["built"].as_bool() != Some(true) {
        // The last line names the step that failed; `evidence` has the rest.
        let error = result["build_error"].as_str().unwrap_or("?").trim();
        let mut why = format!("did not build: {}", error.lines().last().unwrap_or("?"));
        if result["inconclusive"].as_bool() == Some(true) {
            write!(why, " (inconclusive; bases: {})", result["bases"]).unwrap();
        }
        found.push(why);
        return found;
    }
    if result["started"].as_bool() != Some(true) {
        found.push(format!(
            "did not start: {}",
            result["run_error"].as_str().unwrap_or("?")
        ));
        return found;
    }
    if result["running"].as_bool() != Some(true) {
        found.push(format!("died with exit code {}", result["exit_code"]));
        return found;
    }
    let pid_uid = result["uid"].as_u64();
    match (pid_uid, uid) {
        (None, _) => found.push("no PID 1 uid (not running when probed)".to_string()),
        (Some(0), _) if non_root => found.push("PID 1 runs as root".to_string()),
        (Some(got), Some(want)) if got != want => {
            found.push(format!("PID 1 runs as uid {got}, expected {want}"));
        }
        _ => {}
    }
    let listening: Vec<u64> = result["listening"]
        .as_array()
        .map(|ports| ports.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    for port in ports {
        if !listening.contains(&u64::from(*port)) {
            found.push(format!("nothing listens on {port}"));
        }
    }
    let http = result["http"].as_object();
    for port in ports {
        if http.is_none_or(|http| !http.contains_key(&port.to_string())) {
            found.push(format!("no HTTP probe of {port}"));
        }
    }
    for (port, answer) in http.into_iter().flatten() {
        if answer["status"].as_u64() != Some(200) {
            found.push(format!("HTTP on {port}: {answer}"));
        }
    }
    found
}

/// Everything a symptom may be found in.
fn evidence(result: &Value) -> String {
    let mut text = String::new();
    for key in ["harness_error", "build_error", "run_error", "log_tail"] {
        if let Some(s) = result[key].as_str() {
            text.push_str(s);
            text.push('\n');
        }
    }
    for answer in result["http"]
        .as_object()
        .into_iter()
        .flat_map(|h| h.values())
    {
        if let Some(e) = answer["error"].as_str() {
            text.push_str(e);
            text.push('\n');
        }
    }
    text
}

/// The lines of `text` that show a symptom or an error (at most 3), else its last line.
fn excerpt(text: &str, symptom: &[String]) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let telling: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| {
            symptom.iter().any(|s| line.contains(s.as_str()))
                || line.starts_with("Error")
                || line.contains("not permitted")
        })
        .take(3)
        .collect();
    if telling.is_empty() {
        lines.last().copied().unwrap_or("").to_string()
    } else {
        telling.join(" | ")
    }
}

// ---------------------------------------------------------------------------------------------
// One fixture
// ---------------------------------------------------------------------------------------------

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            // fs::copy keeps the mode (an entrypoint's execute bit).
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The Dockerfile to build in `work`: `Dockerfile` itself, or with the child's steps on top
/// (its first `FROM` dropped: it names the image `Dockerfile` builds).
fn buildable(work: &Path, child: Option<&str>) -> PathBuf {
    let Some(child) = child else {
        return work.join("Dockerfile");
    };
    let mut text = fs::read_to_string(work.join("Dockerfile")).unwrap();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let child_text = fs::read_to_string(work.join(child)).unwrap();
    let mut dropped = false;
    for line in child_text.lines() {
        if !dropped && line.trim_start().to_ascii_uppercase().starts_with("FROM ") {
            dropped = true;
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    assert!(dropped, "{child} has no FROM line");
    let path = work.join("Dockerfile.e2e");
    fs::write(&path, text).unwrap();
    path
}

struct Outcome {
    summary: Vec<String>,
    problems: Vec<String>,
}

fn run_fixture(fixture: &Fixture) -> Outcome {
    let name = &fixture.name;
    let child = fixture.expect.child.as_deref();
    let target = fixture.expect.target.as_deref();
    let mut outcome = Outcome {
        summary: Vec::new(),
        problems: Vec::new(),
    };
    let tmp = tempfile::Builder::new()
        .prefix("unroot-e2e-")
        .tempdir()
        .expect("create a temporary directory");

    let work = tmp.path().join("before");
    copy_dir(&fixture.dir, &work);
    let original = fs::read_to_string(work.join("Dockerfile")).unwrap();
    let result = run_image(&buildable(&work, child), &work, target, false);
    outcome
        .summary
        .push(format!("{name:20} before        {}", describe(&result)));
    let broken = failures(&result, &fixture.expect.before.ports, None, false);
    let fails_with = &fixture.expect.before.fails_with;
    if !fails_with.is_empty() {
        let evidence = evidence(&result);
        let missing: Vec<&String> = fails_with
            .iter()
            .filter(|s| !evidence.contains(s.as_str()))
            .collect();
        if broken.is_empty() || !missing.is_empty() {
            outcome.problems.push(format!(
                "{name}: the original should fail with {fails_with:?} but {}; output: {}",
                if broken.is_empty() {
                    "works".to_string()
                } else {
                    format!("fails without {missing:?}: {}", broken.join("; "))
                },
                excerpt(&evidence, &[])
            ));
            return outcome;
        }
    } else if !broken.is_empty() {
        outcome.problems.push(format!(
            "{name}: the original does not work (a broken fixture): {}; output: {}",
            broken.join("; "),
            excerpt(&evidence(&result), &[])
        ));
        return outcome;
    }

    // (fixed file, its run): `--unsafe-fixes` often writes the same file as `--write`.
    let mut previous: Option<(String, Value)> = None;
    for (mode, args, after) in [
        ("write", &["--write"][..], &fixture.expect.write),
        (
            "unsafe-fixes",
            &["--write", "--unsafe-fixes"][..],
            &fixture.expect.unsafe_fixes,
        ),
    ] {
        let work = tmp.path().join(mode);
        copy_dir(&fixture.dir, &work);
        let mut command_args = args.to_vec();
        command_args.push("Dockerfile");
        let run = common::run_in(&work, &command_args);
        if run.code != 0 && run.code != 1 {
            outcome.problems.push(format!(
                "{name}: {mode}: unroot exited with {}: {}{}",
                run.code, run.stdout, run.stderr
            ));
            continue;
        }
        let fixed = fs::read_to_string(work.join("Dockerfile")).unwrap();
        let changed = fixed != original;
        let reused = previous
            .as_ref()
            .filter(|(text, _)| *text == fixed)
            .map(|(_, result)| result.clone());
        let same = reused.is_some();
        let result =
            reused.unwrap_or_else(|| run_image(&buildable(&work, child), &work, target, true));
        previous = Some((fixed.clone(), result.clone()));
        let mut found = Vec::new();
        if changed != after.changed {
            found.push(if changed {
                "unroot changed the file".to_string()
            } else {
                "unroot left the file unchanged".to_string()
            });
        }
        found.extend(failures(&result, &after.ports, after.uid, after.changed));

        let evidence = evidence(&result);
        let verdict = match &after.known_broken {
            Some(reason) => {
                let missing: Vec<&String> = after
                    .symptom
                    .iter()
                    .filter(|s| !evidence.contains(s.as_str()))
                    .collect();
                if found.is_empty() {
                    outcome.problems.push(format!(
                        "{name}: {mode}: works now, but expect.toml says known_broken \
                         ({reason}): remove `known_broken` and `symptom`"
                    ));
                    "WORKS (known_broken is stale)".to_string()
                } else if !missing.is_empty() {
                    outcome.problems.push(format!(
                        "{name}: {mode}: broken, but not as documented (no {missing:?} in \
                         the output): {}; output: {}",
                        found.join("; "),
                        excerpt(&evidence, &[])
                    ));
                    "BROKEN differently".to_string()
                } else {
                    format!("known broken ({reason}): {}", found.join("; "))
                }
            }
            None => {
                if found.is_empty() {
                    "ok".to_string()
                } else {
                    outcome.problems.push(format!(
                        "{name}: {mode}: {}; output: {}",
                        found.join("; "),
                        excerpt(&evidence, &[])
                    ));
                    format!("FAILED: {}", found.join("; "))
                }
            }
        };
        outcome.summary.push(format!(
            "{name:20} {mode:13} changed={changed} {}{}\n{:34} -> {verdict}",
            describe(&result),
            if same { " (same file as --write)" } else { "" },
            ""
        ));
        if !found.is_empty() {
            outcome.summary.push(format!(
                "{:34}    output: {}",
                "",
                excerpt(&evidence, &after.symptom)
            ));
        }
    }
    outcome
}

#[test]
fn fixtures_work_after_unroot() {
    let _engine = ENGINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut all = fixtures();
    assert!(all.len() >= MIN_FIXTURES, "fixtures went missing");
    if !store_ready() {
        return;
    }
    if let Ok(only) = std::env::var("UNROOT_E2E_FIXTURES") {
        let names: Vec<&str> = only.split(',').map(str::trim).collect();
        for name in &names {
            assert!(
                all.iter().any(|f| f.name == *name),
                "UNROOT_E2E_FIXTURES: no fixture `{name}`"
            );
        }
        all.retain(|f| names.contains(&f.name.as_str()));
    }
    let jobs: usize = std::env::var("UNROOT_E2E_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);

    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(all.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(fixture) = all.get(i) else { break };
                let outcome = run_fixture(fixture);
                outcomes.lock().unwrap().push((i, outcome));
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by_key(|(i, _)| *i);
    assert_eq!(outcomes.len(), all.len(), "a fixture's thread panicked");

    let mut report = String::new();
    let mut problems = Vec::new();
    for (_, outcome) in outcomes {
        for line in outcome.summary {
            report.push_str(&line);
            report.push('\n');
        }
        problems.extend(outcome.problems);
    }
    println!("{report}");
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-report.txt");
    fs::write(&path, &report).unwrap();
    println!("(written to {})", path.display());
    common::report("end-to-end fixtures", &problems);
}

/// The image of the fixed Dockerfile answers HTTP on the container port that the fixed
/// Compose file maps (read from the edited file, not assumed), as non-root, with the
/// kernel's port limit of 1024.
#[test]
fn fixed_image_answers_on_the_port_the_fixed_compose_file_maps() {
    let _engine = ENGINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !store_ready() {
        return;
    }
    let dir = common::Dir::new();
    dir.file(
        "app/Dockerfile",
        "FROM node:22-slim\nWORKDIR /app\nCOPY server.js ./\nENV PORT=80\nEXPOSE 80\nCMD [\"node\", \"server.js\"]\n",
    );
    dir.file(
        "app/server.js",
        "require(\"http\").createServer((q, s) => s.end(\"ok\\n\")).listen(Number(process.env.PORT));\n",
    );
    dir.file(
        "compose.yaml",
        "services:\n  web:\n    build: ./app\n    ports:\n      - \"5001:80\"\n",
    );
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    let compose = dir.read("compose.yaml");
    let mapped = regex::Regex::new(r#""5001:(\d+)""#)
        .expect("a regex")
        .captures(&compose)
        .and_then(|c| c[1].parse::<u16>().ok())
        .unwrap_or_else(|| panic!("no published port 5001 in {compose}"));
    assert!(mapped >= 1024, "{compose}");
    let app = dir.path("app");
    let result = run_image(&app.join("Dockerfile"), &app, None, true);
    let failed = failures(&result, &[mapped], Some(1000), true);
    assert!(failed.is_empty(), "{failed:?}: {}", describe(&result));
}
