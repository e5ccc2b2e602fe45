//! A real editor's LSP client: headless Neovim (`tests/nvim/code_action.lua`) starts
//! `unroot server`, receives the diagnostics, applies a code action and writes the file; the
//! file's bytes are checked here. `.ci/run` installs Debian's `neovim`; without `nvim` on PATH
//! the tests fail under CI and are skipped otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Dir, TODAY};

fn nvim() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nvim"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let note =
            "`nvim` is not on PATH: install it with `apt-get install neovim` (.ci/run does this)";
        assert!(std::env::var_os("CI").is_none(), "{note}");
        println!("SKIPPED: {note}");
    }
    found
}

/// Runs the script on `file` with `action`; returns the diagnostics' codes Neovim received.
fn run(nvim: &Path, dir: &Dir, file: &Path, action: &str) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nvim/code_action.lua");
    let report = dir.path("codes.txt");
    let output = Command::new(nvim)
        .args([
            "--headless",
            "--clean",
            "-n",
            "-i",
            "NONE",
            "-u",
            "NONE",
            "-c",
        ])
        .arg(format!("luafile {}", script.display()))
        .current_dir(dir.root())
        .env("UNROOT_BIN", env!("CARGO_BIN_EXE_unroot"))
        .env("UNROOT_FILE", file)
        .env("UNROOT_ACTION", action)
        .env("UNROOT_REPORT", &report)
        .env("UNROOT_TODAY", TODAY)
        .output()
        .expect("run nvim");
    assert!(
        output.status.success(),
        "nvim: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(report)
        .expect("the script reports the codes")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn neovim_fixes_all_and_writes_the_file() {
    let Some(nvim) = nvim() else { return };
    let dir = Dir::new();
    let source =
        "FROM node:lts-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n";
    let file = dir.file("Dockerfile", source);
    // What `unroot -` makes of the file: every safe fix.
    let expected = dir.run_stdin(&["-"], source).stdout;
    assert!(expected.contains("\nUSER node\nCMD"), "{expected}");
    assert!(
        !expected.starts_with("FROM node:lts-alpine\n"),
        "{expected}"
    );
    let mut codes = run(&nvim, &dir, &file, "source.fixAll.unroot");
    codes.sort();
    assert_eq!(codes, ["floating-tag", "root-user"]);
    assert_eq!(dir.read_bytes("Dockerfile"), expected.as_bytes());
}

#[test]
fn neovim_applies_a_quick_fix_on_a_non_ascii_line() {
    // Neovim 0.7 speaks UTF-16 columns: the edit lands after `é😀` only if they are counted so.
    let Some(nvim) = nvim() else { return };
    let dir = Dir::new();
    let source = "FROM node:22.11.0-alpine\nENV NOTE=é😀 PORT=80\nUSER node\nEXPOSE $PORT\nCMD [\"node\", \"x.js\"]\n";
    let file = dir.file("Dockerfile", source);
    // The file's one finding, fixed: what `unroot --unsafe-fixes -` makes of it.
    let expected = dir.run_stdin(&["--unsafe-fixes", "-"], source).stdout;
    assert!(
        expected.contains("\nENV NOTE=é😀 PORT=8080\n"),
        "{expected}"
    );
    let codes = run(&nvim, &dir, &file, "quickfix");
    assert_eq!(codes, ["privileged-port"]);
    assert_eq!(dir.read_bytes("Dockerfile"), expected.as_bytes());
}
