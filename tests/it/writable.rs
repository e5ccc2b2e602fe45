//! root-user and the paths the app writes at run time: the bytes `--write` writes and what
//! the report says, for each kind of writable path and for what unroot cannot tell.

use crate::common::Dir;

/// `unroot --write` on `source`: (the written file, stdout, exit code).
fn write(source: &str, args: &[&str]) -> (String, String, i32) {
    let dir = Dir::new();
    dir.file("Dockerfile", source);
    let mut all = vec!["--write", "--color", "never"];
    all.extend_from_slice(args);
    all.push("Dockerfile");
    let run = dir.run(&all);
    assert_eq!(run.stderr, "", "{}", run.stdout);
    (dir.read("Dockerfile"), run.stdout, run.code)
}

#[test]
fn a_volume_is_given_before_its_volume_line() {
    let (fixed, out, code) = write(
        "FROM node:22-slim\nWORKDIR /app\nVOLUME /data\nCOPY . .\nCMD [\"node\", \"s.js\"]\n",
        &[],
    );
    assert_eq!(
        fixed,
        "FROM node:22-slim\nWORKDIR /app\nRUN mkdir -p /data && chown -R node:node /data\nVOLUME /data\nCOPY . .\nUSER node\nCMD [\"node\", \"s.js\"]\n"
    );
    assert!(
        out.contains("written at run time: `/data` (`VOLUME`)"),
        "{out}"
    );
    assert!(
        out.contains(
            "  fixed: give `/data` to `node` and add `USER node` after the last build step\n"
        ),
        "{out}"
    );
    assert_eq!(code, 0);
}

#[test]
fn data_directories_get_chown_r_and_code_directories_only_themselves() {
    let (fixed, out, _) = write(
        "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /var/lib/app/uploads\nENV DATABASE_URL=file:./app.db\nCMD node s.js\n",
        &[],
    );
    assert_eq!(
        fixed,
        "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /var/lib/app/uploads\nRUN mkdir -p /app && chown node:node /app && mkdir -p /var/lib/app/uploads && chown -R node:node /var/lib/app/uploads\nUSER node\nENV DATABASE_URL=file:./app.db\nCMD node s.js\n"
    );
    assert!(
        out.contains("`/var/lib/app/uploads` (made by `RUN mkdir`), `/app` (holds the SQLite database `/app/app.db` of `ENV DATABASE_URL`)"),
        "{out}"
    );
}

#[test]
fn a_copy_that_makes_a_data_directory_gets_chown() {
    let source = "FROM node:22 AS build\nWORKDIR /app\nRUN mkdir data\nFROM gcr.io/distroless/nodejs22-debian12\nWORKDIR /app\nCOPY --from=build /app/s.js ./\nCOPY --from=build /app/data /app/data\nENV DATA_DIR=/app/data\nCMD [\"s.js\"]\n";
    let (fixed, _, code) = write(source, &[]);
    assert_eq!(
        fixed,
        source
            .replace(
                "COPY --from=build /app/data",
                "COPY --chown=65532:65532 --from=build /app/data"
            )
            .replace("/app/data\nENV", "/app/data\nUSER 65532:65532\nENV")
    );
    assert_eq!(code, 0);
}

#[test]
fn the_whole_app_is_never_chowned() {
    // The data directory arrives inside `COPY --from=build /app ./`: only it is given.
    let (fixed, _, _) = write(
        "FROM node:22 AS build\nWORKDIR /app\nFROM node:22-slim\nWORKDIR /app\nCOPY --from=build /app ./\nENV DATA_DIR=./data\nCMD node s.js\n",
        &[],
    );
    assert!(
        fixed.contains("RUN mkdir -p /app/data && chown -R node:node /app/data\nUSER node\n"),
        "{fixed}"
    );
    assert!(!fixed.contains("--chown"), "{fixed}");
    let (fixed, _, _) = write(
        "FROM node:22 AS build\nWORKDIR /app\nFROM node:22-slim\nWORKDIR /app\nCOPY --from=build /app/.next ./.next\nCMD npm start\n",
        &[],
    );
    assert!(
        fixed.contains("RUN mkdir -p /app/.next/cache && chown -R node:node /app/.next/cache\n"),
        "{fixed}"
    );
}

#[test]
fn paths_already_given_are_left_alone() {
    let source =
        "FROM node:22\nRUN mkdir -p /data && chown node:node /data\nVOLUME /data\nCMD node s.js\n";
    let (fixed, out, _) = write(source, &[]);
    assert_eq!(fixed, source.replace("VOLUME", "USER node\nVOLUME"));
    assert!(out.contains("`/data` (`VOLUME`, already given)"), "{out}");
}

#[test]
fn what_unroot_cannot_tell_makes_the_fix_unsafe() {
    for (source, reason) in [
        (
            "FROM node:22\nCOPY start.sh /usr/local/bin/\nCMD [\"start.sh\"]\n",
            "unroot cannot tell everything the app writes: the container runs `start.sh`, which unroot has not read: what it writes is unknown; give those paths to `node` first",
        ),
        (
            "FROM node:22\nARG ROOT\nENV UPLOAD_DIR=${ROOT}/uploads\nCMD node s.js\n",
            "`ENV UPLOAD_DIR` names a path unroot cannot resolve",
        ),
        (
            "FROM gcr.io/distroless/nodejs22-debian12\nCOPY s.js /app/\nVOLUME /data\nCMD [\"/app/s.js\"]\n",
            "`/data` (`VOLUME`) must be writable, and this image has no shell: only `COPY --chown` on the COPY that creates it could give it",
        ),
    ] {
        let (fixed, out, code) = write(source, &[]);
        assert_eq!(fixed, source, "{out}");
        assert!(out.contains(reason), "{out}");
        assert!(out.contains("  unsafe fix (applied only with --unsafe-fixes): "), "{out}");
        assert_eq!(code, 1);
        let (fixed, _, _) = write(source, &["--unsafe-fixes"]);
        assert_ne!(fixed, source);
    }
}

#[test]
fn no_writable_path_found_is_said() {
    let (_, out, _) = write("FROM node:22\nCOPY . .\nCMD node s.js\n", &[]);
    assert!(
        out.contains("; no path the app writes at run time was found (`VOLUME`, `RUN mkdir`, data paths in ENV): if it writes one, give it to the user\n"),
        "{out}"
    );
}

#[test]
fn user_waits_for_an_unsafe_port_move() {
    let source = "FROM node:22-slim\nCOPY . .\nEXPOSE 80\nCMD [\"node\", \"s.js\"]\n";
    let (fixed, out, code) = write(source, &[]);
    assert_eq!(fixed, source, "{out}");
    assert!(
        out.contains("the app would still listen on `80`, which a non-root process cannot bind under Kubernetes or OpenShift, and no safe fix moves it"),
        "{out}"
    );
    assert!(!out.contains("fixed:"), "{out}");
    assert_eq!(code, 1);
    // Both together with --unsafe-fixes.
    let (fixed, out, _) = write(source, &["--unsafe-fixes"]);
    assert_eq!(
        fixed,
        "FROM node:22-slim\nCOPY . .\nUSER node\nENV PORT=8080\nEXPOSE 8080\nCMD [\"node\", \"s.js\"]\n"
    );
    assert_eq!(out.matches("  fixed: ").count(), 2, "{out}");
    // A port move that is safe keeps the USER fix safe.
    let (fixed, _, _) = write(
        "FROM node:22-slim\nENV PORT=80\nCOPY . .\nEXPOSE 80\nCMD [\"node\", \"s.js\"]\n",
        &[],
    );
    assert!(
        fixed.contains("USER node\n") && fixed.contains("ENV PORT=8080"),
        "{fixed}"
    );
    // Without the port rule, nothing moves the port.
    let (fixed, _, _) = write(
        "FROM node:22-slim\nENV PORT=80\nCOPY . .\nEXPOSE 80\nCMD [\"node\", \"s.js\"]\n",
        &["--select", "root-user"],
    );
    assert!(!fixed.contains("USER node"), "{fixed}");
}

#[test]
fn the_run_that_gives_paths_runs_as_root() {
    // A last `USER root` is not rewritten when a RUN must follow it.
    let (fixed, _, _) = write(
        "FROM node:22\nUSER node\nRUN id\nUSER root\nVOLUME /data\nCMD node s.js\n",
        &[],
    );
    assert_eq!(
        fixed,
        "FROM node:22\nUSER node\nRUN id\nUSER root\nRUN mkdir -p /data && chown -R node:node /data\nUSER node\nVOLUME /data\nCMD node s.js\n"
    );
    // Before a VOLUME declared while the build runs as `node`, no chown can run.
    let source = "FROM node:22\nUSER node\nVOLUME /data\nUSER root\nCOPY . .\nCMD node s.js\n";
    let (fixed, out, _) = write(source, &[]);
    assert_eq!(fixed, source);
    assert!(
        out.contains("`/data` (`VOLUME`) must be given before its `VOLUME` line, where the build does not run as root"),
        "{out}"
    );
}
