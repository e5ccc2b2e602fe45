//! The modes over deployment files: `--branch` commits a Dockerfile's fixes with the
//! Compose and Kubernetes edits that follow them, in one commit whose text counts what it
//! fixed; `--write` writes such a change whole or not at all; `--uid` decides the number in
//! every file; `-i` offers the deployment files' fixes too (tests/it/interactive.rs).

use crate::common::{self, Dir, Run};

use std::fs;
use std::path::Path;
use std::process::Command;

const DOCKERFILE: &str = "FROM node:22-alpine
WORKDIR /app
COPY . .
RUN npm ci
ENV PORT=80
EXPOSE 80
CMD [\"node\", \"server.js\"]
";

const COMPOSE: &str = "services:
  web:
    build:
      context: ./app
    image: ghcr.io/acme/web
    ports:
      - \"5001:80\"
    environment:
      PORT: '80'
  worker:
    image: node:22
    command: node worker.js
";

const MANIFEST: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0
          ports:
            - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 80
";

/// A Dockerfile that nothing deploys: its fix is a change of its own.
const LONE: &str = "FROM node:22-alpine\nRUN npm ci\nCMD [\"node\", \"a.js\"]\n";

/// The files of the repository: a Dockerfile, the compose file and manifest that run its
/// image, and a Dockerfile of its own.
const FILES: [(&str, &str); 5] = [
    ("app/Dockerfile", DOCKERFILE),
    (
        "app/server.js",
        "require('http').createServer().listen(process.env.PORT);\n",
    ),
    ("compose.yaml", COMPOSE),
    ("k8s/web.yaml", MANIFEST),
    ("lone/Dockerfile", LONE),
];

fn repository() -> Dir {
    let dir = Dir::new();
    for (name, text) in FILES {
        dir.file(name, text);
    }
    dir
}

/// The files of `dir` as one `--write` leaves them (run in a copy).
fn written() -> Vec<(String, String)> {
    let copy = repository();
    let run = copy.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    FILES
        .iter()
        .map(|(name, _)| (name.to_string(), copy.read(name)))
        .collect()
}

/// git in `dir`, with a home of its own; panics when it fails.
fn git(dir: &Path, home: &Path, args: &[&str]) -> String {
    let mut command = Command::new("git");
    common::isolate_git(&mut command, home);
    let output = command
        .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// `unroot --branch unroot/fix ARGS` in `dir`.
fn branch(dir: &Dir, home: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_unroot"));
    command
        .current_dir(dir.root())
        .env("UNROOT_TODAY", common::TODAY)
        .env_remove("UNROOT_FORMAT")
        .env_remove("UNROOT_CONFIG");
    common::isolate_git(&mut command, home);
    Run::of(
        command
            .args(["--branch", "unroot/fix", "--author", "T <t@example.com>"])
            .args(args)
            .output()
            .expect("run unroot"),
    )
}

fn committed(dir: &Dir) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a home for git");
    git(dir.root(), home.path(), &["init", "--quiet", "-b", "main"]);
    git(dir.root(), home.path(), &["add", "-A"]);
    git(
        dir.root(),
        home.path(),
        &["commit", "--quiet", "-m", "init"],
    );
    home
}

#[test]
fn branch_commits_the_deployment_files_with_the_dockerfile_in_one_commit() {
    let dir = repository();
    let home = committed(&dir);
    let run = branch(&dir, home.path(), &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let root = dir.root();
    // One commit on top of main, touching every file of the change.
    let count = git(
        root,
        home.path(),
        &["rev-list", "--count", "main..unroot/fix"],
    );
    assert_eq!(count.trim(), "1");
    let changed = git(
        root,
        home.path(),
        &["diff", "--name-only", "main", "unroot/fix"],
    );
    let mut changed: Vec<&str> = changed.lines().collect();
    changed.sort();
    assert_eq!(
        changed,
        [
            "app/Dockerfile",
            "compose.yaml",
            "k8s/web.yaml",
            "lone/Dockerfile"
        ]
    );
    // The commit holds what `--write` writes, and the checkout is as it was.
    for (name, text) in written() {
        let blob = git(root, home.path(), &["show", &format!("unroot/fix:{name}")]);
        assert_eq!(blob, text, "{name}");
    }
    for (name, text) in FILES {
        assert_eq!(dir.read(name), text, "{name} in the checkout");
    }
    // The message counts the findings it lists as fixed, and the files by kind.
    let message = git(
        root,
        home.path(),
        &["log", "-1", "--format=%B", "unroot/fix"],
    );
    let fixed = message.matches("\n  fixed: ").count();
    assert!(fixed >= 4, "{message}");
    assert!(
        message.contains(&format!(
            "fixed {fixed} findings in 2 Dockerfiles and 2 deployment files"
        )),
        "{message}"
    );
    // Every report says the fixes are in the commit.
    assert!(!run.stdout.contains("fix not applied"), "{run:?}");
    assert!(run.stdout.contains("compose.yaml:"), "{run:?}");
}

#[test]
fn branch_counts_only_the_findings_it_fixes() {
    let dir = Dir::new();
    // root-user has a safe fix; end-of-life needs a person.
    dir.file(
        "Dockerfile",
        "FROM node:16-alpine\nRUN npm ci\nCMD [\"node\", \"a.js\"]\n",
    );
    let home = committed(&dir);
    let run = branch(&dir, home.path(), &["--format", "json"]);
    let findings: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|_| panic!("{run:?}"));
    let all = findings.as_array().expect("an array of findings").len();
    let message = git(
        dir.root(),
        home.path(),
        &["log", "-1", "--format=%B", "unroot/fix"],
    );
    let fixed = message.matches("\n  fixed: ").count();
    let not_fixed = message.matches("\n  not fixed: ").count();
    assert!(fixed >= 1 && not_fixed >= 1, "{message}");
    assert_eq!(fixed + not_fixed, all, "{message}");
    let noun = if fixed == 1 { "finding" } else { "findings" };
    assert!(
        message.contains(&format!("fixed {fixed} {noun} in 1 Dockerfile on top")),
        "{message}"
    );
}

#[test]
fn branch_leaves_out_a_change_whose_deployment_file_differs_from_the_commit() {
    let dir = repository();
    let home = committed(&dir);
    // The compose file changed in the working tree: the change, planned there, cannot be
    // committed on the committed text, so none of its files is; the lone Dockerfile is.
    let edited = COMPOSE.replace("services:\n", "# local\nservices:\n");
    dir.file("compose.yaml", &edited);
    let run = branch(&dir, home.path(), &[]);
    assert!(
        run.stdout
            .contains("compose.yaml: differs from the version committed"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("app/Dockerfile: left out of the branch: its fixes are one change with"),
        "{run:?}"
    );
    let changed = git(
        dir.root(),
        home.path(),
        &["diff", "--name-only", "main", "unroot/fix"],
    );
    assert_eq!(changed.trim(), "lone/Dockerfile");
    assert_eq!(dir.read("compose.yaml"), edited);
    // The left-out fixes are reported as not applied; findings remain.
    assert!(run.stdout.contains("fix not applied"), "{run:?}");
    assert_eq!(run.code, 1, "{run:?}");
}

#[test]
fn write_says_fixed_for_the_deployment_files_fixes() {
    let dir = repository();
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 0, "{run:?}");
    for file in ["compose.yaml", "k8s/web.yaml"] {
        let lines: Vec<&str> = run.stdout.lines().collect();
        let reported: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line.starts_with(&format!("{file}:")))
            .map(|(index, _)| index)
            .collect();
        assert!(!reported.is_empty(), "{file}: {run:?}");
        for index in reported {
            let fix = lines[index + 1..]
                .iter()
                .find(|line| !line.starts_with("  help:"))
                .expect("a fix line");
            assert!(
                fix.starts_with("  fixed: "),
                "{file}: {fix}\n{}",
                run.stdout
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn a_read_only_deployment_file_leaves_the_whole_change_unwritten() {
    use std::os::unix::fs::PermissionsExt;
    let dir = repository();
    let compose = dir.path("compose.yaml");
    // The mode is checked, not only the open: root may write any file, unroot does not
    // write a read-only one.
    fs::set_permissions(&compose, fs::Permissions::from_mode(0o444)).expect("chmod");
    let run = dir.run(&["--write"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr
            .contains("compose.yaml: is read-only; not written"),
        "{run:?}"
    );
    for file in ["app/Dockerfile", "k8s/web.yaml"] {
        assert!(
            run.stderr.contains(&format!(
                "{file}: not written: its fix is one change with `compose.yaml`, which could not \
                 be written; no file of that change was changed"
            )),
            "{file}: {run:?}"
        );
    }
    for (name, text) in &FILES[..4] {
        assert_eq!(&dir.read(name), text, "{name} is as it was");
    }
    // The other change is written, and the reports say which fixes were not applied.
    assert_ne!(dir.read("lone/Dockerfile"), LONE);
    assert!(run.stdout.contains("fix not applied"), "{run:?}");
    fs::set_permissions(&compose, fs::Permissions::from_mode(0o644)).expect("chmod");
    let again = dir.run(&["--write"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_ne!(dir.read("compose.yaml"), COMPOSE);
}

#[test]
fn uid_decides_the_number_in_every_file() {
    for how in ["flag", "config"] {
        let dir = repository();
        let mut args = vec!["--write", "--chown"];
        match how {
            "flag" => args.extend(["--uid", "20000"]),
            _ => {
                dir.file("unroot.toml", "uid = 20000\n");
            }
        }
        let run = dir.run(&args);
        assert_eq!(run.code, 0, "{how}: {run:?}");
        let dockerfile = dir.read("app/Dockerfile");
        assert!(
            dockerfile.contains("USER 20000:20000\n"),
            "{how}: {dockerfile}"
        );
        assert!(
            dockerfile.contains("COPY --chown=20000:20000 . ."),
            "{how}: {dockerfile}"
        );
        let manifest = dir.read("k8s/web.yaml");
        assert!(
            manifest.contains("runAsUser: 20000\n") && manifest.contains("runAsGroup: 20000\n"),
            "{how}: {manifest}"
        );
        let compose = dir.read("compose.yaml");
        assert!(
            compose.contains("user: \"20000:20000\""),
            "{how}: {compose}"
        );
        assert!(!compose.contains("user: \"node\""), "{how}: {compose}");
    }
}

#[test]
fn uid_is_the_created_accounts_uid() {
    let dir = Dir::new();
    dir.file(
        "Dockerfile",
        "FROM alpine:3.20\nRUN apk add --no-cache nodejs npm\nCOPY . /app\nCMD [\"node\", \"/app/server.js\"]\n",
    );
    let run = dir.run(&["--write", "--uid", "4242"]);
    assert_eq!(run.code, 0, "{run:?}");
    let fixed = dir.read("Dockerfile");
    assert!(
        fixed.contains("addgroup -S -g 4242 app && adduser -S -D -u 4242 -G app"),
        "{fixed}"
    );
    assert!(fixed.contains("USER app\n"), "{fixed}");
    let dir = Dir::new();
    dir.file(
        "Dockerfile",
        "FROM alpine:3.20\nRUN apk add --no-cache nodejs npm\nCOPY . /app\nCMD [\"node\", \"/app/server.js\"]\n",
    );
    let run = dir.run(&["--write", "--uid", "4242", "--numeric-user"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(dir.read("Dockerfile").contains("USER 4242:4242\n"));
}

#[test]
fn uid_1000_on_node_images_keeps_the_node_user() {
    let dir = repository();
    let run = dir.run(&["--write", "--uid", "1000"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(dir.read("app/Dockerfile").contains("USER node\n"));
    assert!(dir.read("compose.yaml").contains("user: \"node\""));
    assert!(dir.read("k8s/web.yaml").contains("runAsUser: 1000\n"));
}

#[test]
fn uid_errors() {
    let dir = Dir::new();
    dir.file("Dockerfile", LONE);
    for (args, message) in [
        (&["--uid", "0"][..], "uid 0 is root"),
        (&["--uid", "x"][..], "is not a uid"),
        (&["--uid", "2147483648"][..], "is larger than 2147483647"),
        (
            &["--uid", "20000", "--user", "1234"][..],
            "`user` 1234 and `uid` 20000 disagree",
        ),
    ] {
        let run = dir.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(message), "{args:?}: {run:?}");
    }
    dir.file("unroot.toml", "uid = 0\n");
    let run = dir.run(&[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("unroot.toml:1: `uid`: uid 0 is root"),
        "{run:?}"
    );
    assert_eq!(dir.read("Dockerfile"), LONE);
}

#[test]
fn uid_with_a_named_user_keeps_the_name() {
    let dir = Dir::new();
    dir.file(
        "Dockerfile",
        LONE.replace("RUN npm ci\n", "COPY . .\nRUN npm ci\n"),
    );
    let run = dir.run(&["--write", "--user", "app", "--uid", "20000", "--chown"]);
    assert_eq!(run.code, 0, "{run:?}");
    let fixed = dir.read("Dockerfile");
    assert!(fixed.contains("USER app\n"), "{fixed}");
    assert!(fixed.contains("COPY --chown=20000:20000 . ."), "{fixed}");
}

#[test]
fn uid_is_documented() {
    let run = Dir::new().run(&["--help"]);
    assert!(run.stdout.contains("--uid <N>"), "{}", run.stdout);
    assert!(run.stdout.contains("Config: `uid = N`"), "{}", run.stdout);
}
