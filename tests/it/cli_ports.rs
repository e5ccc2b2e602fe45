//! The `privileged-port` rule through the `unroot` binary: dry run, `--write` with and
//! without `--unsafe-fixes`, `--port-map`, `--select`, `--explain`, JSON edits.
//!
//! Like `tests/cli.rs`: each test writes Dockerfiles into a temporary directory and runs
//! the binary there, so paths in the output are the relative names given here.

use crate::common;

use serde_json::Value;

use common::{apply_json_edits, doc_sections, rule_doc_from_source, Dir, RULE_DOC_SECTIONS};

/// Runs as `node`, but listens on port 80: an unsafe fix (nothing tells the app its port).
const PORT_80: &str = "\
FROM node:22-alpine
WORKDIR /app
COPY . .
USER node
EXPOSE 80
CMD [\"node\", \"server.js\"]
";

/// `PORT_80` after `--write --unsafe-fixes`.
const PORT_80_FIXED: &str = "\
FROM node:22-alpine
WORKDIR /app
COPY . .
USER node
ENV PORT=8080
EXPOSE 8080
CMD [\"node\", \"server.js\"]
";

const PORT_80_FINDING: &str = "\
Dockerfile:5:8: privileged-port: privileged port `80` exposed: the app must listen on `8080` instead; run it with `docker run -p 80:8080` or a Kubernetes Service `targetPort: 8080`
  help: Docker ≥ 20.10 lets non-root processes bind ports below 1024 inside a container, but Kubernetes with CRI-O or containerd < 2.0 does not, and OpenShift never does; the fix sets `ENV PORT=8080`, which most Node frameworks read; check that the app does
";

/// The file tells the app its port through `ENV PORT`: a safe fix.
const WIRED: &str = "\
FROM node:22-alpine
WORKDIR /app
COPY . .
USER node
ENV PORT=80
EXPOSE $PORT
HEALTHCHECK CMD wget -qO- http://localhost/health || exit 1
CMD [\"node\", \"server.js\"]
";

/// `WIRED` after a plain `--write`: the variable's definition and the healthcheck URL
/// change, the `EXPOSE $PORT` stays.
const WIRED_FIXED: &str = "\
FROM node:22-alpine
WORKDIR /app
COPY . .
USER node
ENV PORT=8080
EXPOSE $PORT
HEALTHCHECK CMD wget -qO- http://localhost:8080/health || exit 1
CMD [\"node\", \"server.js\"]
";

/// Runs as root and listens on 80: both rules plan edits where the EXPOSE starts.
const ROOT_AND_PORT: &str = "\
FROM node:22-alpine
WORKDIR /app
COPY . .
EXPOSE 80
CMD [\"node\", \"server.js\", \"--port\", \"80\"]
";

const ROOT_AND_PORT_FIXED: &str = "\
FROM node:22-alpine
WORKDIR /app
COPY . .
USER node
ENV PORT=8080
EXPOSE 8080
CMD [\"node\", \"server.js\", \"--port\", \"8080\"]
";

#[test]
fn dry_run_shows_the_port_fix_apart_as_unsafe() {
    let dir = Dir::new();
    dir.file("Dockerfile", PORT_80);
    let run = dir.run(&["Dockerfile"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr, "");
    assert_eq!(
        run.stdout,
        format!(
            "{PORT_80_FINDING}  unsafe fix (applied only with --unsafe-fixes): move port `80` to `8080` and set `ENV PORT=8080`
unsafe fixes for Dockerfile, applied only with --unsafe-fixes:
--- a/Dockerfile
+++ b/Dockerfile
@@ -2,5 +2,6 @@
 WORKDIR /app
 COPY . .
 USER node
-EXPOSE 80
+ENV PORT=8080
+EXPOSE 8080
 CMD [\"node\", \"server.js\"]
1 finding in 1 file, 0 fixable (1 more with --unsafe-fixes)
"
        )
    );
    assert_eq!(dir.read("Dockerfile"), PORT_80);
}

#[test]
fn write_alone_leaves_the_unsafe_port_fix_unapplied() {
    let dir = Dir::new();
    dir.file("Dockerfile", PORT_80);
    let run = dir.run(&["--write", "Dockerfile"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        format!(
            "{PORT_80_FINDING}  unsafe fix (applied only with --unsafe-fixes): move port `80` to `8080` and set `ENV PORT=8080`
1 finding in 1 file, 0 fixed, 1 remaining (1 more with --unsafe-fixes)
"
        )
    );
    assert_eq!(dir.read("Dockerfile"), PORT_80);
}

#[test]
fn write_with_unsafe_fixes_moves_the_port() {
    let dir = Dir::new();
    dir.file("Dockerfile", PORT_80);
    let run = dir.run(&["--write", "--unsafe-fixes", "Dockerfile"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        format!(
            "{PORT_80_FINDING}  fixed: move port `80` to `8080` and set `ENV PORT=8080`
1 finding in 1 file, 1 fixed, 0 remaining
"
        )
    );
    assert_eq!(dir.read("Dockerfile"), PORT_80_FIXED);
    // A second run finds nothing.
    let again = dir.run(&["--write", "--unsafe-fixes", "Dockerfile"]);
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (0, "no findings in 1 file\n")
    );
    assert_eq!(dir.read("Dockerfile"), PORT_80_FIXED);
}

#[test]
fn a_port_the_file_wires_is_moved_by_plain_write() {
    let dir = Dir::new();
    dir.file("Dockerfile", WIRED);
    let dry = dir.run(&["Dockerfile"]);
    assert_eq!(dry.code, 1);
    assert!(
        dry.stdout
            .contains("\n  fix: move port `80` to `8080`\n--- a/Dockerfile\n"),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("unsafe"), "{}", dry.stdout);
    // Reported where the EXPOSE names it.
    assert!(dry.stdout.starts_with("Dockerfile:6:8: privileged-port: "));

    let run = dir.run(&["--write", "Dockerfile"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run
        .stdout
        .ends_with("1 finding in 1 file, 1 fixed, 0 remaining\n"));
    assert_eq!(dir.read("Dockerfile"), WIRED_FIXED);
}

#[test]
fn port_map_chooses_the_new_port() {
    let dir = Dir::new();
    dir.file("Dockerfile", PORT_80);
    let run = dir.run(&["--port-map", "80:3000", "Dockerfile"]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains(
        "privileged port `80` exposed: the app must listen on `3000` instead; run it with `docker run -p 80:3000` or a Kubernetes Service `targetPort: 3000`"
    ), "{}", run.stdout);

    let run = dir.run(&[
        "--port-map",
        "443:3443,80:3000",
        "-w",
        "--unsafe-fixes",
        "Dockerfile",
    ]);
    assert_eq!(run.code, 0);
    assert_eq!(
        dir.read("Dockerfile"),
        PORT_80_FIXED.replace("8080", "3000")
    );
}

#[test]
fn port_map_rejects_what_is_not_an_unprivileged_target() {
    let dir = Dir::new();
    dir.file("Dockerfile", PORT_80);
    for value in ["80:81", "80", "80:x", "0:8080"] {
        let run = dir.run(&["--port-map", value, "Dockerfile"]);
        assert_eq!(run.code, 2, "{value}: {}", run.stderr);
        assert_eq!(run.stdout, "");
        assert!(run.stderr.contains("--port-map"), "{value}: {}", run.stderr);
    }
    assert_eq!(dir.read("Dockerfile"), PORT_80);
}

#[test]
fn select_and_ignore_privileged_port() {
    let dir = Dir::new();
    dir.file("Dockerfile", ROOT_AND_PORT);
    let all = dir.run(&["Dockerfile"]);
    assert!(all.stdout.contains(": root-user: "), "{}", all.stdout);
    assert!(all.stdout.contains(": privileged-port: "), "{}", all.stdout);

    let selected = dir.run(&["--select", "privileged-port", "Dockerfile"]);
    assert_eq!(selected.code, 1);
    assert!(
        !selected.stdout.contains("root-user"),
        "{}",
        selected.stdout
    );
    assert!(selected
        .stdout
        .starts_with("Dockerfile:4:8: privileged-port: privileged port `80` exposed"));
    // `--port 80` tells the app its port, and the fix changes it too: safe.
    assert!(selected
        .stdout
        .contains("\n  fix: move port `80` to `8080` and set `ENV PORT=8080`\n"));
    assert!(selected
        .stdout
        .ends_with("1 finding in 1 file, 1 fixable; run with --write to apply\n"));

    let ignored = dir.run(&["--ignore", "privileged-port", "Dockerfile"]);
    assert!(
        !ignored.stdout.contains("privileged-port"),
        "{}",
        ignored.stdout
    );
    assert!(ignored.stdout.contains(": root-user: "));
}

/// Both rules insert where the EXPOSE starts; one `--write` applies both, in order.
#[test]
fn root_user_and_port_fixes_apply_together() {
    let dir = Dir::new();
    dir.file("Dockerfile", ROOT_AND_PORT);
    let run = dir.run(&["-w", "Dockerfile"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run
        .stdout
        .ends_with("2 findings in 1 file, 2 fixed, 0 remaining\n"));
    assert_eq!(dir.read("Dockerfile"), ROOT_AND_PORT_FIXED);
}

/// The JSON edits of all findings, applied to the original, give what `--write` writes.
#[test]
fn json_edits_of_both_rules_give_the_write_result() {
    let dir = Dir::new();
    dir.file("Dockerfile", ROOT_AND_PORT);
    let run = dir.run(&["--format", "json", "Dockerfile"]);
    assert_eq!(run.code, 1);
    let findings: Vec<Value> = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().expect("rule"))
        .collect();
    assert_eq!(rules, ["root-user", "privileged-port"]);
    assert_eq!(findings[1]["fix"]["applicability"], "safe");
    assert_eq!(
        apply_json_edits(ROOT_AND_PORT, &findings),
        ROOT_AND_PORT_FIXED
    );
}

#[test]
fn explain_privileged_port_prints_its_doc() {
    let run = Dir::new().run(&["--explain", "privileged-port"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stderr, "");
    assert!(
        run.stdout.starts_with(&format!(
            "# privileged-port\n\n{}\n",
            rule_doc_from_source("privileged_port")
        )),
        "{}",
        run.stdout
    );
    assert_eq!(doc_sections(&run.stdout), RULE_DOC_SECTIONS);
    for fact in [
        "Docker\nEngine ≥ 20.10",
        "containerd < 2.0",
        "CRI-O",
        "OpenShift never",
        "--port-map 80:3000,443:3443",
        "--unsafe-fixes",
        "--all-images",
        "https://github.com/moby/moby/pull/41030",
        "\nUse instead:\n",
    ] {
        assert!(run.stdout.contains(fact), "missing {fact:?}");
    }
}

#[test]
fn list_rules_names_privileged_port() {
    let run = Dir::new().run(&["--list-rules"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .lines()
            .any(|line| line.starts_with("privileged-port ")
                && line.contains("the image exposes a port below 1024")),
        "{}",
        run.stdout
    );
}

#[test]
fn crlf_and_lowercase_files_keep_their_style() {
    let dir = Dir::new();
    dir.file(
        "Dockerfile",
        "from node:22-alpine\r\nuser node\r\nexpose 443\r\ncmd [\"node\", \"x\"]\r\n",
    );
    let run = dir.run(&["-w", "--unsafe-fixes", "Dockerfile"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        dir.read("Dockerfile"),
        "from node:22-alpine\r\nuser node\r\nenv PORT=8443\r\nexpose 8443\r\ncmd [\"node\", \"x\"]\r\n"
    );
}
