//! How unroot is installed outside cargo: the GitHub Action's download of the release binary,
//! and the pre-commit hooks.
//!
//! The action's install step is run as the runner runs it (bash, the runner's variables),
//! against a release served from a local directory over HTTP (`GITHUB_SERVER_URL` is the
//! runner's variable for github.com): it must install a binary whose SHA-256 is the one in
//! SHA256SUMS, refuse one whose is not, and build from source (`cargo install`) only when the
//! release has no binary for the runner.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn repository_file(name: &str) -> String {
    fs::read_to_string(root().join(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn cargo_version() -> String {
    let manifest: toml::Table = repository_file("Cargo.toml").parse().expect("TOML");
    manifest["package"]["version"]
        .as_str()
        .expect("a version")
        .to_string()
}

/// The script of the action's step `name` (the `run: |` block, dedented).
fn step_script(action: &str, name: &str) -> String {
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

/// Serves the files under `dir` over HTTP on 127.0.0.1 (GET only; 404 for anything else)
/// until the test process ends; the base URL.
fn serve(dir: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if header == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let path = request.split(' ').nth(1).unwrap_or("/");
            let file = dir.join(path.trim_start_matches('/'));
            let body = (!path.contains("..") && file.is_file())
                .then(|| fs::read(&file).expect("read a served file"));
            let (status, body) = match body {
                Some(body) => ("200 OK", body),
                None => ("404 Not Found", b"Not Found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

/// The runner's names of this machine and the release target whose binary runs here.
fn runner() -> Option<(&'static str, &'static str, &'static str)> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some(("Linux", "X64", "x86_64-unknown-linux-musl")),
        ("linux", "aarch64") => Some(("Linux", "ARM64", "aarch64-unknown-linux-musl")),
        ("macos", "x86_64") => Some(("macOS", "X64", "x86_64-apple-darwin")),
        ("macos", "aarch64") => Some(("macOS", "ARM64", "aarch64-apple-darwin")),
        _ => None,
    }
}

struct Install {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The lines the step added to GITHUB_PATH.
    path: Vec<String>,
    /// The arguments `cargo` was called with, if it was.
    cargo: Option<String>,
}

/// Runs the action's install step in a fresh runner temp directory under `scratch`.
fn install(scratch: &Path, server: &str, version: &str) -> Install {
    let (os, arch, _) = runner().expect("a runner");
    let script = step_script(&repository_file("action.yml"), "Install unroot");
    let temp = tempfile::tempdir_in(scratch).expect("runner temp");
    let github_path = temp.path().join("github_path");
    fs::write(&github_path, "").expect("write GITHUB_PATH");
    // A `cargo` that records its arguments and installs a stand-in, first on PATH.
    let fake_bin = temp.path().join("fake-bin");
    fs::create_dir_all(&fake_bin).expect("create directory");
    let record = temp.path().join("cargo-args");
    let cargo = fake_bin.join("cargo");
    fs::write(
        &cargo,
        format!(
            "#!/bin/sh\necho \"$*\" > '{}'\nwhile [ \"$1\" != --root ]; do shift; done\n\
             mkdir -p \"$2/bin\"\nprintf '#!/bin/sh\\necho unroot from source\\n' > \"$2/bin/unroot\"\n\
             chmod +x \"$2/bin/unroot\"\n",
            record.display()
        ),
    )
    .expect("write the fake cargo");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&cargo, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = std::env::join_paths(std::iter::once(fake_bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let output = Command::new("bash")
        .args(["-c", &script])
        .env("PATH", path)
        .env("ACTION_PATH", root())
        .env("ACTION_REPOSITORY", "unroot/unroot")
        .env("INPUT_VERSION", version)
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", arch)
        .env("RUNNER_TEMP", temp.path())
        .env("GITHUB_PATH", &github_path)
        .env("GITHUB_SERVER_URL", server)
        .output()
        .expect("run bash");
    let install = Install {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        path: fs::read_to_string(&github_path)
            .expect("read GITHUB_PATH")
            .lines()
            .map(str::to_string)
            .collect(),
        cargo: fs::read_to_string(&record).ok(),
    };
    // The runner temp directory is kept for the binary's run: leaked on purpose, removed with
    // `scratch`.
    let _ = temp.keep();
    install
}

#[test]
fn action_installs_the_release_binary_after_checking_its_sha256() {
    let Some((_, _, target)) = runner() else {
        println!("SKIPPED: no release binary for this machine's runner");
        return;
    };
    let version = cargo_version();
    let scratch = tempfile::tempdir().expect("temporary directory");
    let scratch = scratch.path();

    // A release as the release workflow lays it out: the archive and SHA256SUMS.
    let name = format!("unroot-v{version}-{target}");
    let staging = scratch.join("staging").join(&name);
    fs::create_dir_all(&staging).expect("create directory");
    // A stand-in for the binary (the real one is 100+ MB in a debug build, and what is tested
    // here is the download, the check and the archive's layout).
    let binary = staging.join("unroot");
    fs::write(
        &binary,
        format!("#!/bin/sh\necho \"unroot {version} (release stand-in)\"\n"),
    )
    .expect("write the stand-in");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let release = scratch
        .join("www/unroot/unroot/releases/download")
        .join(format!("v{version}"));
    fs::create_dir_all(&release).expect("create directory");
    let archive = format!("{name}.tar.gz");
    let status = Command::new("tar")
        .arg("-C")
        .arg(scratch.join("staging"))
        .arg("-czf")
        .arg(release.join(&archive))
        .arg(&name)
        .status()
        .expect("run tar");
    assert!(status.success());
    let digest = Sha256::digest(fs::read(release.join(&archive)).expect("read the archive"));
    let sums = format!(
        "{}  unroot-v{version}-other-target.tar.gz\n{digest:x}  {archive}\n",
        "0".repeat(64)
    );
    fs::write(release.join("SHA256SUMS"), &sums).expect("write SHA256SUMS");
    let server = serve(scratch.join("www"));

    // The action's own version (empty input): the binary, checked, on PATH; no cargo.
    let ok = install(scratch, &server, "");
    assert_eq!(ok.code, Some(0), "{}{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout
            .contains(&format!("{archive}: SHA-256 {digest:x}, as in SHA256SUMS")),
        "{}",
        ok.stdout
    );
    assert_eq!(ok.cargo, None, "cargo was run");
    assert_eq!(ok.path.len(), 1, "{:?}", ok.path);
    let installed = Path::new(&ok.path[0]).join("unroot");
    let run = Command::new(&installed)
        .arg("--version")
        .output()
        .expect("run the installed unroot");
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        format!("unroot {version} (release stand-in)\n")
    );
    // `version` with a `v` names the same release.
    let tagged = install(scratch, &server, &format!("v{version}"));
    assert_eq!(tagged.code, Some(0), "{}{}", tagged.stdout, tagged.stderr);
    assert_eq!(tagged.cargo, None);

    // An archive that is not the one SHA256SUMS names: refused, nothing on PATH, no fallback.
    fs::write(
        release.join("SHA256SUMS"),
        sums.replace(&format!("{digest:x}"), &"1".repeat(64)),
    )
    .expect("write SHA256SUMS");
    let tampered = install(scratch, &server, "");
    assert_ne!(tampered.code, Some(0), "{}", tampered.stdout);
    assert!(
        tampered.stdout.contains("::error::") && tampered.stdout.contains("is not the one in"),
        "{}",
        tampered.stdout
    );
    assert!(tampered.path.is_empty(), "{:?}", tampered.path);
    assert_eq!(tampered.cargo, None);

    // No such release (404): built from the action's source, said in a notice.
    let missing = install(scratch, &server, "9.9.9");
    assert_eq!(
        missing.code,
        Some(0),
        "{}{}",
        missing.stdout,
        missing.stderr
    );
    assert!(
        missing
            .stdout
            .contains("::notice::no release binary of unroot v9.9.9"),
        "{}",
        missing.stdout
    );
    let args = missing.cargo.expect("cargo install was run");
    assert!(
        args.starts_with("install --locked --quiet --root ")
            && args.ends_with(&format!(" --path {} --bin unroot\n", root().display())),
        "{args}"
    );
    assert_eq!(missing.path.len(), 1);
    assert!(
        missing.path[0].ends_with("/unroot-9.9.9/bin"),
        "{:?}",
        missing.path
    );
}
