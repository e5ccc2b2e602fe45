//! The npm packages (npm/): `unroot`, a launcher whose optional dependencies are the
//! per-platform packages `@unroot/<os>-<cpu>` with the prebuilt binary (the pattern esbuild and
//! biome use), so `npx unroot` needs only Node.
//!
//! - Their manifests agree with each other, with the launcher's table and with Cargo.toml's
//!   version (the release publishes them as they are).
//! - The real thing, offline: `scripts/npm-pack.js` packs the main package and this platform's
//!   package around this build's binary, `npm install --offline` installs the two tarballs into
//!   a scratch project (an empty cache, a registry at a closed port: nothing can be fetched), and
//!   `npx unroot` checks a Dockerfile there. npm and node missing: a failure when `CI` is set
//!   (`.ci/run`), a skip note otherwise.

use crate::common::TODAY;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cargo_version() -> String {
    let manifest: toml::Table = fs::read_to_string(root().join("Cargo.toml"))
        .expect("read Cargo.toml")
        .parse()
        .expect("Cargo.toml is TOML");
    manifest["package"]["version"]
        .as_str()
        .expect("a version in [package]")
        .to_string()
}

fn manifest(dir: &str) -> Value {
    let path = root().join("npm").join(dir).join("package.json");
    serde_json::from_str(&fs::read_to_string(&path).expect("read package.json"))
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The platform packages: npm/<os>-<cpu> directories.
fn platforms() -> Vec<String> {
    let mut found: Vec<String> = fs::read_dir(root().join("npm"))
        .expect("list npm/")
        .map(|entry| entry.expect("list npm/").file_name().into_string().unwrap())
        .filter(|name| name != "unroot" && root().join("npm").join(name).is_dir())
        .collect();
    found.sort();
    found
}

/// The npm platform of this machine (`process.platform`-`process.arch`), if there is a package.
fn this_platform() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("linux-x64"),
        ("linux", "aarch64") => Some("linux-arm64"),
        ("macos", "x86_64") => Some("darwin-x64"),
        ("macos", "aarch64") => Some("darwin-arm64"),
        ("windows", "x86_64") => Some("win32-x64"),
        _ => None,
    }
}

#[test]
fn packages_are_at_the_crate_version_and_cover_the_launcher_table() {
    let version = cargo_version();
    let main = manifest("unroot");
    assert_eq!(main["name"], "unroot");
    assert_eq!(main["version"], version.as_str(), "npm/unroot");
    assert_eq!(main["bin"]["unroot"], "bin/unroot.js");
    let launcher =
        fs::read_to_string(root().join("npm/unroot/bin/unroot.js")).expect("read the launcher");
    assert!(launcher.starts_with("#!/usr/bin/env node\n"));

    let platforms = platforms();
    assert_eq!(
        platforms,
        [
            "darwin-arm64",
            "darwin-x64",
            "linux-arm64",
            "linux-x64",
            "win32-x64"
        ]
    );
    let mut expected = BTreeMap::new();
    for platform in &platforms {
        let pkg = manifest(platform);
        let name = format!("@unroot/{platform}");
        assert_eq!(pkg["name"], name.as_str());
        assert_eq!(pkg["version"], version.as_str(), "npm/{platform}");
        let (os, cpu) = platform.split_once('-').expect("os-cpu");
        assert_eq!(pkg["os"], serde_json::json!([os]), "{platform}");
        assert_eq!(pkg["cpu"], serde_json::json!([cpu]), "{platform}");
        let exe = if os == "win32" {
            "unroot.exe"
        } else {
            "unroot"
        };
        assert_eq!(
            pkg["files"],
            serde_json::json!([format!("bin/{exe}")]),
            "{platform}"
        );
        // The launcher's table maps `process.platform process.arch` to this package.
        let entry = format!("\"{os} {cpu}\": \"{name}\",");
        assert!(launcher.contains(&entry), "the launcher lacks `{entry}`");
        expected.insert(name, Value::from(version.clone()));
    }
    let optional: BTreeMap<String, Value> =
        serde_json::from_value(main["optionalDependencies"].clone()).expect("an object");
    assert_eq!(optional, expected, "npm/unroot optionalDependencies");
    assert_eq!(
        launcher.matches("\": \"@unroot/").count(),
        platforms.len(),
        "the launcher names a package that does not exist"
    );
}

/// `tool` on PATH; missing: a failure under CI, a skip note otherwise.
fn require(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|dir| [dir.join(tool), dir.join(format!("{tool}.cmd"))])
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let note = format!("`{tool}` is not on PATH: install Node.js with npm (.ci/run needs it)");
        assert!(std::env::var_os("CI").is_none(), "{note}");
        println!("SKIPPED: {note}");
    }
    found
}

/// npm with nothing of this machine's: an empty cache and user config of its own, offline,
/// and a registry at a closed port, so that nothing can come from the network.
fn npm_command(program: &Path, scratch: &Path, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(dir)
        .env("npm_config_cache", scratch.join("cache"))
        .env("npm_config_userconfig", scratch.join("npmrc"))
        .env("npm_config_registry", "http://127.0.0.1:9/")
        .env("npm_config_offline", "true")
        .env("npm_config_audit", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_update_notifier", "false")
        .env("UNROOT_TODAY", TODAY)
        .env("NO_COLOR", "1")
        .env_remove("UNROOT_FORMAT")
        .env_remove("UNROOT_OUTPUT_FILE")
        .env_remove("UNROOT_CONFIG");
    command
}

fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A scratch project with `tarballs` installed by `npm install --offline`.
fn project(npm: &Path, scratch: &Path, name: &str, tarballs: &[&Path]) -> PathBuf {
    let dir = scratch.join(name);
    fs::create_dir_all(&dir).expect("create the project");
    fs::write(
        dir.join("package.json"),
        "{\"name\": \"scratch\", \"version\": \"1.0.0\", \"private\": true}\n",
    )
    .expect("write package.json");
    let output = npm_command(npm, scratch, &dir)
        .args(["install", "--offline"])
        .args(tarballs)
        .output()
        .expect("run npm install");
    assert!(output.status.success(), "npm install: {}", text(&output));
    dir
}

/// The main package's and `platform`'s tarballs, packed by scripts/npm-pack.js around this
/// build's binary into `scratch`/tarballs (`scratch` also gets the empty npmrc).
fn pack(node: &Path, scratch: &Path, platform: &str) -> Vec<PathBuf> {
    fs::write(scratch.join("npmrc"), "").expect("write npmrc");
    let out = scratch.join("tarballs");
    let packed = npm_command(node, scratch, root())
        .arg(root().join("scripts/npm-pack.js"))
        .arg("--out")
        .arg(&out)
        .arg("unroot")
        .arg(format!("{platform}={}", env!("CARGO_BIN_EXE_unroot")))
        .output()
        .expect("run scripts/npm-pack.js");
    assert!(packed.status.success(), "npm-pack: {}", text(&packed));
    let tarballs: Vec<PathBuf> = String::from_utf8(packed.stdout)
        .expect("UTF-8")
        .lines()
        .map(PathBuf::from)
        .collect();
    let version = cargo_version();
    assert_eq!(
        tarballs,
        [
            out.join(format!("unroot-{version}.tgz")),
            out.join(format!("unroot-{platform}-{version}.tgz")),
        ]
    );
    for tarball in &tarballs {
        assert!(tarball.is_file(), "{}", tarball.display());
    }
    tarballs
}

#[test]
fn npx_unroot_runs_the_platform_binary_installed_offline() {
    let Some(platform) = this_platform() else {
        println!(
            "SKIPPED: no npm package for {}-{}",
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        return;
    };
    let (Some(node), Some(npm), Some(npx)) = (require("node"), require("npm"), require("npx"))
    else {
        return;
    };
    let scratch = tempfile::tempdir().expect("temporary directory");
    let scratch = scratch.path();
    let tarballs = pack(&node, scratch, platform);
    let version = cargo_version();

    let app = project(
        &npm,
        scratch,
        "app",
        &[tarballs[0].as_path(), tarballs[1].as_path()],
    );
    fs::write(
        app.join("Dockerfile"),
        "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
    )
    .expect("write the Dockerfile");
    let npx_unroot = |args: &[&str]| {
        npm_command(&npx, scratch, &app)
            .args(["--offline", "--no-install", "unroot"])
            .args(args)
            .output()
            .expect("run npx unroot")
    };

    // The findings of the binary itself, its exit status 1 passed on.
    let check = npx_unroot(&["--format", "json", "Dockerfile"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    let findings: Vec<Value> = serde_json::from_slice(&check.stdout).expect("the JSON report");
    let rules: Vec<&str> = findings
        .iter()
        .map(|finding| finding["rule"].as_str().expect("a rule"))
        .collect();
    assert!(rules.contains(&"root-user"), "{rules:?}");
    // The same report as the binary run directly.
    let direct = npm_command(Path::new(env!("CARGO_BIN_EXE_unroot")), scratch, &app)
        .args(["--format", "json", "Dockerfile"])
        .output()
        .expect("run unroot");
    assert_eq!(check.stdout, direct.stdout);

    // Standard input reaches the binary; the fixed file comes back on standard output.
    let mut stdin = npm_command(&npx, scratch, &app)
        .args(["--offline", "--no-install", "unroot", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run npx unroot -");
    std::io::Write::write_all(
        stdin.stdin.as_mut().expect("stdin"),
        &fs::read(app.join("Dockerfile")).expect("read"),
    )
    .expect("write stdin");
    drop(stdin.stdin.take());
    let fixed = stdin.wait_with_output().expect("wait");
    assert!(
        String::from_utf8_lossy(&fixed.stdout).contains("\nUSER node\n"),
        "{}",
        text(&fixed)
    );

    let version_run = npx_unroot(&["--version"]);
    assert_eq!(version_run.status.code(), Some(0), "{}", text(&version_run));
    assert_eq!(
        String::from_utf8_lossy(&version_run.stdout),
        format!("unroot {version}\n")
    );
    let error = npx_unroot(&["no-such-Dockerfile"]);
    assert_eq!(error.status.code(), Some(2), "{}", text(&error));

    // Without the platform package (optional dependencies left out), the launcher says so.
    let bare = project(&npm, scratch, "bare", &[tarballs[0].as_path()]);
    let missing = npm_command(&npx, scratch, &bare)
        .args(["--offline", "--no-install", "unroot", "--version"])
        .output()
        .expect("run npx unroot");
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains(&format!("the package @unroot/{platform}"))
            && stderr.contains("is not installed"),
        "{stderr}"
    );
}

/// The `unroot-node` hook of .pre-commit-hooks.yaml installs the npm package of this version,
/// and checks the same files as the Rust hook.
#[test]
fn pre_commit_node_hook_installs_this_version_from_npm() {
    let hooks = fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect("read hooks");
    let hook = |id: &str| -> String {
        hooks
            .split("\n- id: ")
            .find(|hook| hook.starts_with(&format!("{id}\n")))
            .unwrap_or_else(|| panic!("no hook {id}"))
            .to_string()
    };
    let (node_hook, rust_hook) = (hook("unroot-node"), hook("unroot"));
    assert!(node_hook.contains("\n  language: node\n"), "{node_hook}");
    assert!(
        node_hook.contains(&format!(
            "\n  additional_dependencies: [\"unroot@{}\"]\n",
            cargo_version()
        )),
        "{node_hook}"
    );
    assert!(rust_hook.contains("\n  language: rust\n"), "{rust_hook}");
    let lines = |hook: &str, key: &str| -> Vec<String> {
        hook.lines()
            .filter(|line| line.starts_with(key))
            .map(str::to_string)
            .collect()
    };
    for key in [
        "  files: ",
        "  exclude: ",
        "  entry: ",
        "  pass_filenames: ",
    ] {
        assert_eq!(lines(&node_hook, key), lines(&rust_hook, key), "{key}");
        assert_eq!(lines(&node_hook, key).len(), 1, "{key}");
    }
}

/// pre-commit runs the `unroot-node` hook with nothing but Node: the hook repository is a
/// commit of this repository's .pre-commit-hooks.yaml, and its npm package the tarballs packed
/// here (the config's `additional_dependencies` replace `unroot@VERSION`, which the offline
/// npm could not fetch). pre-commit missing: a failure under CI, a skip note otherwise.
#[test]
fn pre_commit_runs_the_node_hook_offline() {
    let Some(platform) = this_platform() else {
        return;
    };
    let (Some(node), Some(_npm), Some(git)) = (require("node"), require("npm"), require("git"))
    else {
        return;
    };
    let Some(pre_commit) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("pre-commit"))
            .find(|candidate| candidate.is_file())
    }) else {
        let note = "`pre-commit` is not on PATH: `pip install pre-commit` (.ci/run does this)";
        assert!(std::env::var_os("CI").is_none(), "{note}");
        println!("SKIPPED: {note}");
        return;
    };
    let scratch = tempfile::tempdir().expect("temporary directory");
    let scratch = scratch.path();
    let tarballs = pack(&node, scratch, platform);
    // HOME is `scratch` for git and pre-commit: an identity for the commits, nothing else.
    fs::write(
        scratch.join(".gitconfig"),
        "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n",
    )
    .expect("write .gitconfig");

    let git_in = |dir: &Path, args: &[&str]| {
        let mut command = Command::new(&git);
        crate::common::isolate_git(&mut command, scratch);
        let output = command
            .current_dir(dir)
            .args(args)
            .output()
            .expect("run git");
        assert!(output.status.success(), "git {args:?}: {}", text(&output));
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let hooks_repo = scratch.join("hooks");
    fs::create_dir_all(&hooks_repo).expect("create directory");
    fs::copy(
        root().join(".pre-commit-hooks.yaml"),
        hooks_repo.join(".pre-commit-hooks.yaml"),
    )
    .expect("copy the hooks");
    git_in(&hooks_repo, &["init", "--quiet"]);
    git_in(&hooks_repo, &["add", "."]);
    git_in(&hooks_repo, &["commit", "--quiet", "-m", "hooks"]);
    let rev = git_in(&hooks_repo, &["rev-parse", "HEAD"]);

    let app = scratch.join("app");
    fs::create_dir_all(&app).expect("create directory");
    git_in(&app, &["init", "--quiet"]);
    fs::write(
        app.join("Dockerfile"),
        "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"server.js\"]\n",
    )
    .expect("write the Dockerfile");
    fs::write(app.join("README.md"), "not a Dockerfile\n").expect("write");
    fs::write(
        app.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: unroot-node\n        \
             additional_dependencies: [\"{}\", \"{}\"]\n",
            hooks_repo.display(),
            rev.trim(),
            tarballs[0].display(),
            tarballs[1].display()
        ),
    )
    .expect("write the config");
    git_in(&app, &["add", "."]);

    let run = |args: &[&str]| {
        let mut command = npm_command(&pre_commit, scratch, &app);
        crate::common::isolate_git(&mut command, scratch);
        command
            .env("PRE_COMMIT_HOME", scratch.join("pre-commit-home"))
            .env_remove("PRE_COMMIT_ALLOW_NO_CONFIG")
            .args(args)
            .output()
            .expect("run pre-commit")
    };
    let failed = run(&["run", "unroot-node", "--all-files"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed));
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert!(
        stdout.contains("Dockerfile:1:1: root-user: "),
        "{}",
        text(&failed)
    );
    assert!(!stdout.contains("README.md"), "{stdout}");

    // Fixed, the same hook passes.
    fs::write(
        app.join("Dockerfile"),
        "FROM node:22.11.0-alpine\nWORKDIR /app\nCOPY . .\nUSER node\nCMD [\"node\", \"server.js\"]\n",
    )
    .expect("write the Dockerfile");
    git_in(&app, &["add", "Dockerfile"]);
    let passed = run(&["run", "unroot-node", "--files", "Dockerfile"]);
    assert_eq!(passed.status.code(), Some(0), "{}", text(&passed));
}
