//! `-v`/`--verbose`: standard error says which files are checked and what the directory walk
//! skipped and why; standard output and the exit status are as without it.

use crate::common::Dir;

const ROOT: &str = "FROM node:22-alpine\nCOPY . .\nCMD [\"node\", \"server.js\"]\n";
const VALID: &str = "FROM node:22-alpine\nCOPY . .\nUSER node\nCMD [\"node\", \"server.js\"]\n";

const NAMES: &str =
    "Dockerfile, dockerfile, Containerfile, *.Dockerfile, *.dockerfile, Dockerfile.*, Containerfile.*";

/// A repository with a file skipped for every reason the walk has.
fn tree() -> Dir {
    let dir = Dir::new();
    dir.git_init();
    let exclude = dir.path(".git/info/exclude");
    std::fs::create_dir_all(exclude.parent().unwrap()).unwrap();
    std::fs::write(&exclude, "local/\n").unwrap();
    dir.file(".gitignore", "dist/\n*.bak.Dockerfile\n");
    dir.file(".ignore", "vendor/\n");
    dir.file("unroot.toml", "exclude = [\"legacy/\"]\n");
    dir.file("Dockerfile", ROOT);
    dir.file("api/Dockerfile", VALID);
    dir.file("api/old.bak.Dockerfile", ROOT);
    dir.file("dist/Dockerfile", ROOT);
    dir.file("vendor/Dockerfile", ROOT);
    dir.file("local/Dockerfile", ROOT);
    dir.file("legacy/Dockerfile", ROOT);
    dir.file(".devcontainer/Dockerfile", ROOT);
    dir.file(".Dockerfile", ROOT);
    dir.file("Dockerfile-old", ROOT);
    dir.file(
        "k8s/app.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    dir.file("server.js", "");
    dir.file("notes.txt", "");
    #[cfg(unix)]
    {
        dir.symlink("Dockerfile", "linked.Dockerfile");
        dir.symlink("api", "api-link");
    }
    dir
}

#[test]
#[cfg(unix)]
fn verbose_says_what_was_checked_and_why_the_rest_was_skipped() {
    let dir = tree();
    let plain = dir.run(&[]);
    let verbose = dir.run(&["-v"]);
    assert_eq!(verbose.code, plain.code);
    assert_eq!(verbose.stdout, plain.stdout);
    assert_eq!(plain.stderr, "");
    let expected = [
        "skipping .Dockerfile: hidden".to_string(),
        "skipping .devcontainer/: hidden".to_string(),
        "skipping .git/: hidden".to_string(),
        "checking Dockerfile".to_string(),
        format!("skipping Dockerfile-old: not a Dockerfile name ({NAMES})"),
        "checking api/Dockerfile".to_string(),
        "skipping api/old.bak.Dockerfile: ignored by `*.bak.Dockerfile` in .gitignore".to_string(),
        "skipping api-link/: a symbolic link (never followed)".to_string(),
        "skipping dist/: ignored by `dist/` in .gitignore".to_string(),
        "reading k8s/app.yaml: YAML, for the Compose and Kubernetes files that run the images"
            .to_string(),
        "skipping legacy/Dockerfile: excluded by `exclude` pattern `legacy/` (unroot.toml:1)"
            .to_string(),
        "skipping linked.Dockerfile: a symbolic link (never followed)".to_string(),
        "skipping local/: ignored by `local/` in .git/info/exclude".to_string(),
        "skipping vendor/: ignored by `vendor/` in .ignore".to_string(),
        // server.js, notes.txt, unroot.toml.
        "skipping 3 other files: neither Dockerfiles nor YAML".to_string(),
    ];
    assert_eq!(
        verbose.stderr.lines().collect::<Vec<_>>(),
        expected,
        "{}",
        verbose.stderr
    );
}

#[test]
fn verbose_keeps_paths_as_given_and_the_status_of_each_mode() {
    let dir = Dir::new();
    dir.file("app/Dockerfile", ROOT);
    dir.file("app/server.js", "");
    dir.file("app/README.md", "");
    for args in [
        &["--format", "json"][..],
        &["--statistics"],
        &["--exit-zero"],
        &["--format", "sarif"],
    ] {
        let plain = dir.run(&[&["./app"][..], args].concat());
        let verbose = dir.run(&[&["--verbose", "./app"][..], args].concat());
        assert_eq!((verbose.code, &verbose.stdout), (plain.code, &plain.stdout));
        assert_eq!(
            verbose.stderr,
            "checking ./app/Dockerfile\n\
             skipping 2 other files: neither Dockerfiles nor YAML\n",
            "{args:?}"
        );
    }
    // A file named on the command line is checked; nothing is walked.
    let run = dir.run(&["-v", "app/Dockerfile"]);
    assert_eq!(run.stderr, "checking app/Dockerfile\n");
    // --write: the same account, and the file is fixed.
    let run = dir.run(&["-v", "--write", "app"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("checking app/Dockerfile\n"),
        "{}",
        run.stderr
    );
    assert!(dir.read("app/Dockerfile").contains("USER node"));
}

#[test]
fn a_file_named_like_a_dockerfile_is_said_to_be_no_dockerfile_name() {
    let dir = Dir::new();
    dir.file("Dockerfile_prod", ROOT);
    dir.file("prod.containerfile.txt", ROOT);
    dir.file("app.Dockerfile.dockerignore", "node_modules\n");
    let run = dir.run(&["-v"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "no Dockerfiles found\n");
    assert_eq!(
        run.stderr,
        format!(
            "skipping Dockerfile_prod: not a Dockerfile name ({NAMES})\n\
             skipping prod.containerfile.txt: not a Dockerfile name ({NAMES})\n\
             skipping 1 other file: neither a Dockerfile nor YAML\n"
        )
    );
}

#[test]
fn verbose_and_quiet_conflict() {
    let dir = Dir::new();
    dir.file("Dockerfile", ROOT);
    let run = dir.run(&["-v", "-q"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("'--verbose' cannot be used with '--quiet'"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}
