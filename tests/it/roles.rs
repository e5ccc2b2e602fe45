//! root-user on images that do not run an app (base images, devcontainers, development
//! stages), on entrypoints that drop privileges themselves, and on the stages a repository
//! publishes besides the last: what is reported, and the bytes `--write` leaves.

use crate::common::Dir;

/// `--write` in a fresh tree of `files`; the run and the Dockerfile after it.
fn write(files: &[(&str, &str)], args: &[&str], dockerfile: &str) -> (crate::common::Run, String) {
    let dir = Dir::new();
    for (name, contents) in files {
        dir.file(name, contents);
    }
    let run = dir.run(args);
    (run, dir.read(dockerfile))
}

const BASE: &str = "FROM node:22\nRUN npm install --global pnpm\n";

#[test]
fn a_base_image_is_reported_and_left_alone() {
    for args in [
        &["-w", "Dockerfile"][..],
        &["-w", "--unsafe-fixes", "Dockerfile"],
    ] {
        let (run, after) = write(&[("Dockerfile", BASE)], args, "Dockerfile");
        assert_eq!(after, BASE, "{args:?}");
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stdout
                .contains("Dockerfile:1:1: root-user: final stage runs as root")
                && run
                    .stdout
                    .contains("sets no CMD or ENTRYPOINT, so it looks like a base image")
                && run.stdout.contains("no automatic fix"),
            "{run:?}"
        );
    }
}

#[test]
fn an_app_without_a_command_gets_an_unsafe_fix() {
    let source = "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci\n";
    let (run, after) = write(
        &[("Dockerfile", source)],
        &["-w", "Dockerfile"],
        "Dockerfile",
    );
    assert_eq!(after, source);
    assert!(
        run.stdout
            .contains("unsafe fix (applied only with --unsafe-fixes)"),
        "{run:?}"
    );
    let (_, after) = write(
        &[("Dockerfile", source)],
        &["-w", "--unsafe-fixes", "Dockerfile"],
        "Dockerfile",
    );
    assert_eq!(after, format!("{source}USER node\n"));
}

const APP: &str = "FROM node:22\nWORKDIR /app\nCOPY . .\nCMD [\"node\", \"server.js\"]\n";

#[test]
fn devcontainers_and_development_images_get_no_user() {
    let idle = "FROM node:22\nWORKDIR /w\nCOPY . .\nCMD [\"sleep\", \"infinity\"]\n";
    let labelled =
        "FROM node:22\nLABEL org.example.environment=development\nCOPY . .\nCMD node x\n";
    let dev_stage = "FROM node:22 AS dev\nCOPY . .\nCMD npm run dev\n";
    for (name, source, reason) in [
        (
            ".devcontainer/Dockerfile",
            APP,
            "a development container (it is under `.devcontainer/`)",
        ),
        (
            "Dockerfile",
            idle,
            "a development container (it starts `sleep infinity`",
        ),
        (
            "Dockerfile",
            labelled,
            "not for production (its label `org.example.environment=development` says so)",
        ),
        (
            "Dockerfile",
            dev_stage,
            "not for production (its name `dev` says so)",
        ),
        (
            "Dockerfile.test",
            APP,
            "not for production (the file name `dockerfile.test` says so)",
        ),
    ] {
        let (run, after) = write(&[(name, source)], &["-w", name], name);
        assert_eq!(after, source, "{name}");
        assert!(run.stdout.contains(reason), "{name}: {run:?}");
        assert!(run.stdout.contains("1 remaining"), "{name}: {run:?}");
    }
}

const GOSU: &str = "#!/bin/sh\nset -e\nchown -R node:node /data\nexec gosu node \"$@\"\n";
const ENTRY: &str = "FROM node:22\nWORKDIR /app\nCOPY docker/entrypoint.sh /usr/local/bin/\nCOPY . .\nENTRYPOINT [\"entrypoint.sh\"]\nCMD [\"node\", \"server.js\"]\n";

#[test]
fn an_entrypoint_that_drops_privileges_keeps_root() {
    let (run, after) = write(
        &[("Dockerfile", ENTRY), ("docker/entrypoint.sh", GOSU)],
        &["-w", "--unsafe-fixes", "Dockerfile"],
        "Dockerfile",
    );
    assert_eq!(after, ENTRY);
    assert!(
        run.stdout.contains(
            "Dockerfile:1:1: root-user: final stage starts as root and `docker/entrypoint.sh` drops to `node` with `gosu`"
        ),
        "{run:?}"
    );
    assert!(run.stdout.contains("no automatic fix"), "{run:?}");

    // Without the script nothing says it drops, but nothing says what it writes either: the
    // usual fix, unsafe.
    let (run, after) = write(
        &[("Dockerfile", ENTRY)],
        &["-w", "Dockerfile"],
        "Dockerfile",
    );
    assert_eq!(after, ENTRY);
    assert!(run.stdout.contains("which unroot has not read"), "{run:?}");
    let (_, after) = write(
        &[("Dockerfile", ENTRY)],
        &["-w", "--unsafe-fixes", "Dockerfile"],
        "Dockerfile",
    );
    assert_eq!(after, ENTRY.replace("COPY . .\n", "COPY . .\nUSER node\n"));
}

#[test]
fn an_explicit_user_root_before_a_drop_is_left_alone() {
    let source = "FROM node:22-slim\nUSER node\nRUN node --version\nUSER root\nCOPY start.sh /start.sh\nENTRYPOINT [\"/start.sh\"]\nCMD [\"node\", \"s.js\"]\n";
    let script = "#!/bin/sh\nchown node /data\nexec setpriv --reuid=node --regid=node --init-groups \"$@\"\n";
    let (run, after) = write(
        &[("Dockerfile", source), ("start.sh", script)],
        &["-w", "Dockerfile"],
        "Dockerfile",
    );
    assert_eq!(after, source);
    assert!(
        run.stdout.contains("Dockerfile:4:1: root-user: final stage starts as root and `start.sh` drops to `node` with `setpriv`"),
        "{run:?}"
    );
    // In the Dockerfile itself.
    let inline = "FROM node:22\nCOPY . .\nCMD [\"sh\", \"-c\", \"chown node /data && exec su-exec node node s.js\"]\n";
    let (run, after) = write(
        &[("Dockerfile", inline)],
        &["-w", "Dockerfile"],
        "Dockerfile",
    );
    assert_eq!(after, inline);
    assert!(
        run.stdout.contains("`CMD` drops to `node` with `su-exec`"),
        "{run:?}"
    );
}

#[test]
#[cfg(unix)]
fn scripts_are_read_only_inside_the_build_context() {
    let dir = Dir::new();
    dir.file("outside/entrypoint.sh", GOSU);
    dir.file("app/Dockerfile", ENTRY);
    std::fs::create_dir_all(dir.path("app/docker")).unwrap();
    dir.symlink("../../outside/entrypoint.sh", "app/docker/entrypoint.sh");
    let run = dir.run(&["-w", "--unsafe-fixes", "app/Dockerfile"]);
    assert!(run.stdout.contains("which unroot has not read"), "{run:?}");
    assert_eq!(
        dir.read("app/Dockerfile"),
        ENTRY.replace("COPY . .\n", "COPY . .\nUSER node\n"),
        "{run:?}"
    );

    // The repository root is a build context too (`docker build -f app/Dockerfile .`).
    let dir = Dir::new();
    dir.git_init();
    dir.file("docker/entrypoint.sh", GOSU);
    dir.file("app/Dockerfile", ENTRY);
    let run = dir.run(&["-w", "app/Dockerfile"]);
    assert_eq!(dir.read("app/Dockerfile"), ENTRY);
    assert!(
        run.stdout.contains("drops to `node` with `gosu`"),
        "{run:?}"
    );
}

#[test]
fn standard_input_with_a_file_name_reads_the_scripts_beside_it() {
    let dir = Dir::new();
    dir.file("docker/entrypoint.sh", GOSU);
    let run = dir.run_stdin(&["--stdin-filename", "Dockerfile"], ENTRY);
    assert_eq!(run.stdout, ENTRY);
    assert!(
        run.stderr.contains("drops to `node` with `gosu`"),
        "{run:?}"
    );
}

const STAGES: &str = "FROM node:22-slim AS base\nWORKDIR /app\nCOPY . .\n\nFROM base AS release\nCMD [\"node\", \"server.js\"]\n\nFROM base AS api\nCMD [\"node\", \"api.js\"]\n\nFROM base AS prod-deps\nRUN npm ci --omit=dev\n\nFROM base AS dev\nCMD [\"node\", \"--watch\", \"server.js\"]\n";

#[test]
fn published_stages_other_than_the_last_are_fixed() {
    // `release` by its name, `api` because the repository builds it as a target; not
    // `prod-deps` (a builder) nor `dev` (the last stage, for development).
    let fixed = "FROM node:22-slim AS base\nWORKDIR /app\nCOPY . .\n\nFROM base AS release\nUSER node\nCMD [\"node\", \"server.js\"]\n\nFROM base AS api\nUSER node\nCMD [\"node\", \"api.js\"]\n\nFROM base AS prod-deps\nRUN npm ci --omit=dev\n\nFROM base AS dev\nCMD [\"node\", \"--watch\", \"server.js\"]\n";
    for (file, text, origin) in [
        ("Makefile", "image:\n\tdocker build --target api -t app .\n", "Makefile"),
        (
            ".github/workflows/ci.yml",
            "jobs:\n  b:\n    steps:\n      - uses: docker/build-push-action@v6\n        with:\n          target: api\n",
            ".github/workflows/ci.yml",
        ),
        ("compose.yaml", "services:\n  api:\n    build:\n      context: .\n      target: api\n", "compose.yaml"),
        ("docker-bake.hcl", "target \"api\" {\n  target = \"api\"\n}\n", "docker-bake.hcl"),
        ("scripts/build.sh", "docker buildx build --target=api .\n", "scripts/build.sh"),
    ] {
        let (run, after) = write(
            &[("Dockerfile", STAGES), (file, text)],
            &["-w", "Dockerfile"],
            "Dockerfile",
        );
        assert_eq!(after, fixed, "{file}: {run:?}");
        assert!(
            run.stdout.contains("Dockerfile:8:1: root-user: stage `api` runs as root")
                && run.stdout.contains(&format!("help: `{origin}` builds it as a target;")),
            "{file}: {run:?}"
        );
        assert!(run.stdout.contains("stage `release` runs as root"), "{run:?}");
        assert!(run.stdout.contains("final stage `dev` runs as root"), "{run:?}");
        assert!(!run.stdout.contains("prod-deps` runs"), "{run:?}");
    }
    // A target that is not for production (CI runs the tests in it) is not reported.
    let tests = STAGES.replace("AS api", "AS test");
    let (run, after) = write(
        &[
            ("Dockerfile", &tests),
            ("Makefile", "test:\n\tdocker build --target test .\n"),
        ],
        &["-w", "Dockerfile"],
        "Dockerfile",
    );
    assert!(!run.stdout.contains("stage `test`"), "{run:?}");
    assert!(after.contains("FROM base AS test\nCMD"), "{after}");
    // Without the build file, `api` is a stage like any other.
    let (_, after) = write(
        &[("Dockerfile", STAGES)],
        &["-w", "Dockerfile"],
        "Dockerfile",
    );
    assert_eq!(
        after,
        fixed.replacen("FROM base AS api\nUSER node\n", "FROM base AS api\n", 1)
    );
}

#[test]
fn a_published_stage_that_later_stages_build_on_gets_an_unsafe_fix() {
    let source = "FROM node:22 AS release\nCOPY . .\nCMD node server.js\n\nFROM release AS test\nRUN npm ci && npm test\n";
    let (run, after) = write(
        &[("Dockerfile", source)],
        &["-w", "Dockerfile"],
        "Dockerfile",
    );
    assert_eq!(after, source);
    assert!(
        run.stdout
            .contains("stage `test` is built FROM this one and its RUNs would run as `node` too"),
        "{run:?}"
    );
}

#[test]
fn node_installed_and_removed_in_one_run_is_no_node_image() {
    let source = "FROM golang:1.23 AS build\nRUN apt-get update && apt-get install -y nodejs npm && make web && apt-get purge -y nodejs npm\nRUN go build -o /server .\nCMD [\"/server\"]\n";
    let (run, after) = write(
        &[("Dockerfile", source)],
        &["-w", "Dockerfile"],
        "Dockerfile",
    );
    assert_eq!(after, source);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains("root-user"), "{run:?}");
}
