//! `--pin digest` end to end, against a real registry: Debian's `docker-registry` (the CNCF
//! distribution registry), started by the test on a free port of 127.0.0.1 with a temporary
//! storage directory, into which the test pushes a small OCI image index through the same
//! HTTP API (distribution spec: blob uploads, then manifests).
//!
//! Without `/usr/bin/docker-registry` the registry tests fail under CI (`CI` set: `.ci/run`
//! installs it) and are skipped with a note otherwise. The tests that need no real registry
//! (one that is down, a digest already written, a hand-made one that lets another writer
//! change a file in the middle of a `--write` run) always run.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use sha2::{Digest as _, Sha256};
use tempfile::TempDir;

const REGISTRY_BINARY: &str = "/usr/bin/docker-registry";
/// The release table's "today", for every unroot run: Node 26 is the Active LTS line.
const TODAY: &str = "2026-11-24";
/// What `node:lts-alpine` is pinned to on that day.
const PINNED: &str = "26.7.0-alpine";

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A registry process on 127.0.0.1, killed (and its storage removed) on drop.
struct Registry {
    child: Child,
    url: String,
    _dir: TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// The URL of a registry that is down: a port nothing listens on.
fn down_registry() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// An HTTP client that hands back every status instead of failing on 4xx and 5xx.
fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// A response header as text.
fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

/// Starts `docker-registry serve` on a free port and waits until `GET /v2/` answers; `None`
/// (with a note) when the binary is missing outside CI.
fn start_registry() -> Option<Registry> {
    if !Path::new(REGISTRY_BINARY).exists() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "{REGISTRY_BINARY} is missing: install Debian's `docker-registry` package \
                 (`apt-get install -y docker-registry`, as .ci/run does)"
            );
        }
        eprintln!(
            "SKIPPED: {REGISTRY_BINARY} is missing (apt-get install -y docker-registry); \
             the --pin digest tests against a real registry did not run"
        );
        return None;
    }
    let dir = TempDir::new().expect("a temporary directory");
    let port = free_port();
    let storage = dir.path().join("storage");
    fs::create_dir(&storage).expect("the storage directory");
    let config = dir.path().join("config.yml");
    fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        ),
    )
    .expect("the registry's configuration");
    let log = fs::File::create(dir.path().join("registry.log")).expect("a log file");
    let child = Process::new(REGISTRY_BINARY)
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("the log file"))
        .stderr(log)
        .spawn()
        .expect("docker-registry starts");
    let mut registry = Registry {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let agent = agent(Duration::from_secs(2));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = agent.get(format!("{}/v2/", registry.url)).call() {
            assert_eq!(response.status(), 200, "GET /v2/ of the test registry");
            return Some(registry);
        }
        let log = fs::read_to_string(registry._dir.path().join("registry.log")).unwrap_or_default();
        if let Ok(Some(status)) = registry.child.try_wait() {
            panic!("docker-registry exited with {status}:\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "docker-registry did not answer on {} within 30 s:\n{log}",
            registry.url
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Pushes what the distribution spec calls a monolithic blob upload; returns its digest.
fn push_blob(agent: &ureq::Agent, base: &str, name: &str, bytes: &[u8]) -> String {
    let digest = sha256_digest(bytes);
    let response = agent
        .post(format!("{base}/v2/{name}/blobs/uploads/"))
        .send_empty()
        .expect("POST blobs/uploads");
    assert_eq!(response.status(), 202, "POST blobs/uploads");
    let location = header(&response, "location").expect("the upload's Location");
    let location = if location.starts_with('/') {
        format!("{base}{location}")
    } else {
        location
    };
    let separator = if location.contains('?') { '&' } else { '?' };
    let response = agent
        .put(format!("{location}{separator}digest={digest}"))
        .header("Content-Type", "application/octet-stream")
        .send(bytes)
        .expect("PUT the blob");
    assert_eq!(response.status(), 201, "PUT blob {digest}");
    digest
}

/// Pushes a manifest under `reference` (a tag or its digest); returns the digest the
/// registry reports, after checking that it is the sha256 of the bytes sent.
fn push_manifest(
    agent: &ureq::Agent,
    base: &str,
    name: &str,
    reference: &str,
    media_type: &str,
    body: &str,
) -> String {
    let response = agent
        .put(format!("{base}/v2/{name}/manifests/{reference}"))
        .header("Content-Type", media_type)
        .send(body)
        .expect("PUT the manifest");
    let status = response.status();
    let digest = header(&response, "docker-content-digest");
    let mut response = response;
    let text = response.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(status, 201, "PUT manifest {reference}: {text}");
    let expected = sha256_digest(body.as_bytes());
    assert_eq!(
        digest.as_deref(),
        Some(expected.as_str()),
        "the manifest's digest"
    );
    expected
}

/// Pushes a one-platform image index as `library/node:<tag>`; returns the index's digest.
fn push_node_index(registry: &Registry, tag: &str) -> String {
    let agent = agent(Duration::from_secs(20));
    let base = registry.url.as_str();
    let name = "library/node";
    let layer = b"not really a tarball, but a registry does not look inside layers";
    let layer_digest = push_blob(&agent, base, name, layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{layer_digest}"]}}}}"#
    );
    let config_digest = push_blob(&agent, base, name, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer_digest}","size":{}}}]}}"#,
        config.len(),
        layer.len()
    );
    let manifest_digest = sha256_digest(manifest.as_bytes());
    push_manifest(
        &agent,
        base,
        name,
        &manifest_digest,
        OCI_MANIFEST,
        &manifest,
    );
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{manifest_digest}","size":{},"platform":{{"architecture":"amd64","os":"linux"}}}}]}}"#,
        manifest.len()
    );
    let index_digest = push_manifest(&agent, base, name, tag, OCI_INDEX, &index);
    assert_ne!(index_digest, manifest_digest);
    index_digest
}

/// `unroot` in `dir` with the release table's "today".
fn unroot(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("unroot")
        .expect("the unroot binary")
        .current_dir(dir)
        .env("UNROOT_TODAY", TODAY)
        .env_remove("NO_COLOR")
        .args(["--color", "never", "--select", "floating-tag"])
        .args(args)
        .output()
        .expect("unroot runs")
}

/// `unroot --pin digest --registry REGISTRY ARGS…` in `dir`.
fn pin_digest(dir: &Path, registry: &str, args: &[&str]) -> Output {
    let mut all = vec!["--pin", "digest", "--registry", registry];
    all.extend_from_slice(args);
    unroot(dir, &all)
}

/// `unroot --pin digest --registry REGISTRY -`, with `input` on standard input.
fn pin_digest_stdin(registry: &str, input: &str) -> Output {
    Command::cargo_bin("unroot")
        .expect("the unroot binary")
        .env("UNROOT_TODAY", TODAY)
        .args(["--select", "floating-tag", "--pin", "digest", "--registry"])
        .arg(registry)
        .arg("-")
        .write_stdin(input)
        .output()
        .expect("unroot runs")
}

fn tree(files: &[(&str, &str)]) -> (TempDir, Vec<PathBuf>) {
    let dir = TempDir::new().expect("a temporary directory");
    let paths = files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).expect("the Dockerfile's directory");
            }
            fs::write(&path, text).expect("a Dockerfile");
            path
        })
        .collect();
    (dir, paths)
}

/// A file's text, which the test knows to be there.
fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A hand-made registry on 127.0.0.1, for what a real one cannot do on cue: a thread that
/// reads each request's line and headers, records the line, and answers `answer(line)`, one
/// request per connection, until [`FakeRegistry::stop`].
struct FakeRegistry {
    url: String,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeRegistry {
    fn start(mut answer: impl FnMut(&str) -> String + Send + 'static) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on 127.0.0.1");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the bound address")
        );
        // Polled, so that the thread notices `stop` even when nobody connects.
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = thread::spawn({
            let stop = Arc::clone(&stop);
            let requests = Arc::clone(&requests);
            move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok((mut stream, _)) = listener.accept() else {
                        thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    stream.set_nonblocking(false).expect("a blocking stream");
                    stream
                        .set_read_timeout(Some(Duration::from_secs(10)))
                        .expect("a read timeout");
                    let mut reader = BufReader::new(&stream);
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        continue;
                    }
                    // The headers, up to the blank line; a HEAD or GET has no body.
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0
                            || header.trim_end().is_empty()
                        {
                            break;
                        }
                    }
                    let line = line.trim_end().to_string();
                    let response = answer(&line);
                    requests.lock().expect("the request log").push(line);
                    let _ = stream.write_all(response.as_bytes());
                }
            }
        });
        FakeRegistry {
            url,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    /// The request lines answered so far, in order.
    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("the request log").clone()
    }

    /// Stops the thread; a panic in it (in `answer`) fails the test here.
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let stopped = thread.join();
            // Not a second panic while the test is failing already.
            if !thread::panicking() {
                stopped.expect("the fake registry's thread");
            }
        }
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn pins_the_index_digest_the_registry_serves() {
    let Some(registry) = start_registry() else {
        return;
    };
    let digest = push_node_index(&registry, PINNED);
    let (dir, paths) = tree(&[(
        "Dockerfile",
        "FROM node:lts-alpine AS build\nRUN npm ci\nFROM node:lts-alpine\nCOPY --from=build /app /app\n",
    )]);

    // The dry run shows the pin; nothing is written.
    let dry = pin_digest(dir.path(), &registry.url, &["Dockerfile"]);
    assert_eq!(dry.status.code(), Some(1), "{}", text(&dry.stderr));
    let report = text(&dry.stdout);
    assert!(
        report.contains(&format!("+FROM node:{PINNED}@{digest} AS build")),
        "{report}"
    );
    assert!(report.contains("by digest"), "{report}");

    let run = pin_digest(dir.path(), &registry.url, &["--write", "Dockerfile"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert_eq!(
        read(&paths[0]),
        format!(
            "FROM node:{PINNED}@{digest} AS build\nRUN npm ci\nFROM node:{PINNED}@{digest}\nCOPY --from=build /app /app\n"
        )
    );
    // Pinned: a second run finds nothing (and asks no registry).
    let again = pin_digest(dir.path(), "http://127.0.0.1:1", &["--write", "Dockerfile"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));

    // Standard input: the pinned file on stdout.
    let piped = pin_digest_stdin(&registry.url, "FROM docker.io/library/node:lts-alpine\n");
    assert_eq!(piped.status.code(), Some(0), "{}", text(&piped.stderr));
    assert_eq!(
        text(&piped.stdout),
        format!("FROM docker.io/library/node:{PINNED}@{digest}\n")
    );
}

#[test]
fn an_unknown_tag_fails_the_run_and_writes_nothing() {
    let Some(registry) = start_registry() else {
        return;
    };
    let digest = push_node_index(&registry, PINNED);
    // `lts-slim` pins `26.7.0-slim`, which the registry does not have; the other file would
    // pin fine, but a failed lookup anywhere stops every write.
    let slim = "FROM node:lts-slim\nCMD [\"node\", \"server.js\"]\n";
    let alpine = "FROM node:lts-alpine\n";
    let (dir, paths) = tree(&[("a.Dockerfile", alpine), ("b.Dockerfile", slim)]);
    let run = pin_digest(dir.path(), &registry.url, &["--write", "."]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "b.Dockerfile: cannot resolve node:26.7.0-slim at {}: manifest unknown (HTTP 404 Not Found)",
            registry.url
        )),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert_eq!(read(&paths[0]), alpine);
    assert_eq!(read(&paths[1]), slim);
    // The report says what failed, and what would have been pinned.
    let report = text(&run.stdout);
    assert!(
        report.contains(
            "the digest lookup failed, so nothing is pinned: cannot resolve node:26.7.0-slim"
        ),
        "{report}"
    );
    assert!(
        report.contains(&format!("+FROM node:{PINNED}@{digest}")),
        "{report}"
    );

    // JSON: the failed stage has no fix; still exit 2.
    let json = pin_digest(
        dir.path(),
        &registry.url,
        &["--format", "json", "b.Dockerfile"],
    );
    assert_eq!(json.status.code(), Some(2), "{}", text(&json.stderr));
    let findings: serde_json::Value = serde_json::from_slice(&json.stdout).expect("a JSON report");
    assert_eq!(findings[0]["rule"], "floating-tag");
    assert_eq!(findings[0]["fix"], serde_json::Value::Null);
}

#[test]
fn a_pragma_that_keeps_the_tag_floating_asks_no_registry() {
    let Some(registry) = start_registry() else {
        return;
    };
    push_node_index(&registry, PINNED);
    // `lts-slim` is not in the registry, but `pin=none` keeps that stage floating: no
    // lookup, no error, and the other stage is pinned.
    let source = "# unroot pin=none\nFROM node:lts-slim AS tools\nFROM node:lts-alpine\n";
    let (dir, paths) = tree(&[("Dockerfile", source)]);
    let run = pin_digest(dir.path(), &registry.url, &["--write", "Dockerfile"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let fixed = read(&paths[0]);
    assert!(
        fixed.starts_with(
            "# unroot pin=none\nFROM node:lts-slim AS tools\nFROM node:26.7.0-alpine@sha256:"
        ),
        "{fixed}"
    );
}

#[test]
fn a_registry_that_is_down_fails_the_run_and_writes_nothing() {
    let url = down_registry();
    let source = "FROM node:lts-alpine\n";
    let (dir, paths) = tree(&[("Dockerfile", source)]);
    let run = pin_digest(dir.path(), &url, &["--write", "Dockerfile"]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Dockerfile: cannot resolve node:{PINNED} at {url}: "
        )),
        "{stderr}"
    );
    assert!(stderr.to_lowercase().contains("refused"), "{stderr}");
    assert_eq!(read(&paths[0]), source);

    // Standard input: no file on stdout, the error on stderr.
    let piped = pin_digest_stdin(&url, source);
    assert_eq!(piped.status.code(), Some(2));
    assert!(piped.stdout.is_empty(), "{}", text(&piped.stdout));
    assert!(
        text(&piped.stderr).contains(&format!("<stdin>: cannot resolve node:{PINNED} at {url}")),
        "{}",
        text(&piped.stderr)
    );
}

#[test]
fn an_existing_digest_is_kept_and_not_looked_up() {
    // The registry is down: a lookup would fail the run.
    let url = down_registry();
    let digest = format!("sha256:{}", "a".repeat(64));
    let (dir, paths) = tree(&[("Dockerfile", &format!("FROM node:lts-alpine@{digest}\n"))]);
    let run = pin_digest(dir.path(), &url, &["--write", "Dockerfile"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert_eq!(read(&paths[0]), format!("FROM node:{PINNED}@{digest}\n"));
}

#[test]
fn a_file_changed_during_the_run_is_not_written() {
    // Another writer (an editor saving, say) changes `app/Dockerfile` after unroot read it
    // and before unroot writes: the fake registry makes that change when unroot asks it for
    // the digest, which happens while the file is checked, after it was read and before any
    // file is written. Then it answers with a valid digest, so the lookup itself succeeds.
    let digest = sha256_digest(b"the image index of node:26.7.0-alpine, for this test");
    let source = "FROM node:lts-alpine\nCMD [\"node\", \"server.js\"]\n";
    let edited = "FROM node:lts-alpine\n# saved by an editor while unroot ran\nCMD [\"node\", \"server.js\"]\n";
    let other = "FROM node:lts-alpine AS other\n";
    let (dir, paths) = tree(&[("app/Dockerfile", source), ("app/b.Dockerfile", other)]);
    let manifest = format!("/v2/library/node/manifests/{PINNED} HTTP/1.1");
    let mut registry = FakeRegistry::start({
        let dockerfile = paths[0].clone();
        let manifest = manifest.clone();
        let digest = digest.clone();
        let mut edits_left = 1;
        move |line| {
            let asked = line.strip_prefix("HEAD ").or(line.strip_prefix("GET "));
            if asked != Some(manifest.as_str()) {
                return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string();
            }
            if edits_left > 0 {
                edits_left -= 1;
                fs::write(&dockerfile, edited).expect("the other writer's change");
            }
            format!(
                "HTTP/1.1 200 OK\r\nDocker-Content-Digest: {digest}\r\nContent-Type: {OCI_INDEX}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        }
    });

    let run = pin_digest(dir.path(), &registry.url, &["--write", "app"]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    // Asked once, for both files (the lookup is cached): the change did happen mid-run.
    assert_eq!(
        registry.requests(),
        [format!("HEAD {manifest}")],
        "{stderr}"
    );
    assert!(
        stderr.lines().any(|line| line
            == "app/Dockerfile: changed on disk since it was read; not written (run unroot again)"),
        "{stderr}"
    );
    // The lookup did not fail: this is not the all-or-nothing stop of a failed lookup.
    assert!(!stderr.contains("cannot resolve"), "{stderr}");
    assert!(!stderr.contains("nothing was written"), "{stderr}");
    // The report still lists the file that was not written, its findings counted as remaining.
    let stdout = text(&run.stdout);
    assert!(
        stdout.contains("app/Dockerfile:1:6: floating-tag:")
            && stdout.contains("\n  fix not applied: pin `node:26.7.0-alpine"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("2 findings in 2 files, 1 fixed, 1 remaining\n"),
        "{stdout}"
    );
    // The other writer's bytes are kept as they were saved, and no temporary file is left.
    assert_eq!(read(&paths[0]), edited);
    // The run goes on with the other files: the unchanged one is pinned with the digest.
    assert_eq!(
        read(&paths[1]),
        format!("FROM node:{PINNED}@{digest} AS other\n")
    );
    let mut names: Vec<String> = fs::read_dir(dir.path().join("app"))
        .expect("the app directory")
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["Dockerfile", "b.Dockerfile"]);

    // As the message says, running unroot again pins the edited file, keeping the edit.
    let again = pin_digest(dir.path(), &registry.url, &["--write", "app"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        read(&paths[0]),
        edited.replace("node:lts-alpine", &format!("node:{PINNED}@{digest}"))
    );
    registry.stop();
    assert_eq!(
        registry.requests(),
        [format!("HEAD {manifest}"), format!("HEAD {manifest}")]
    );
}

#[test]
fn registry_urls_are_checked() {
    let (dir, _) = tree(&[("Dockerfile", "FROM node:lts\n")]);
    for bad in ["127.0.0.1:5000", "ftp://x", "https://", "https://x/?a=b"] {
        let run = pin_digest(dir.path(), bad, &[]);
        assert_eq!(run.status.code(), Some(2), "{bad}");
    }
}

/// W1: a captive portal or a proxy answering `200` with a page of its own (no
/// `Docker-Content-Digest`, HTML) must not become a digest: the lookup fails and nothing is
/// written. A manifest served without the header is still hashed.
#[test]
fn a_page_that_is_not_a_manifest_is_no_digest() {
    let page = "<html><body>Please log in to the hotel Wi-Fi</body></html>";
    let manifest = r#"{"schemaVersion":2,"manifests":[]}"#;
    for (content_type, body, pinned) in [
        ("text/html; charset=utf-8", page, None),
        ("application/json", manifest, None),
        (
            "application/vnd.oci.image.index.v1+json",
            manifest,
            Some(sha256_digest(manifest.as_bytes())),
        ),
    ] {
        let registry = FakeRegistry::start(move |_| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        });
        let source = "FROM node:lts-alpine\n";
        let (dir, paths) = tree(&[("Dockerfile", source)]);
        let run = pin_digest(dir.path(), &registry.url, &["--write", "Dockerfile"]);
        let stderr = text(&run.stderr);
        match pinned {
            None => {
                assert_eq!(run.status.code(), Some(2), "{content_type}: {stderr}");
                assert!(
                    stderr.contains("the answer is not an image manifest"),
                    "{stderr}"
                );
                assert_eq!(read(&paths[0]), source);
            }
            Some(digest) => {
                assert_eq!(run.status.code(), Some(0), "{content_type}: {stderr}");
                assert_eq!(read(&paths[0]), format!("FROM node:{PINNED}@{digest}\n"));
            }
        }
    }
}

/// G2: a registry that accepts the connection and never answers fails the lookup after
/// `--timeout` seconds (20 without it), and nothing is written.
#[test]
fn a_registry_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("bound"));
    // Accepts and holds every connection, answering nothing.
    thread::spawn(move || {
        let held: Vec<_> = listener.incoming().collect();
        drop(held);
    });
    let source = "FROM node:lts-alpine\n";
    let (dir, paths) = tree(&[("Dockerfile", source)]);
    let run = pin_digest(
        dir.path(),
        &url,
        &["--write", "--timeout", "1", "Dockerfile"],
    );
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no answer within 1 s; --timeout SECONDS sets the limit"),
        "{stderr}"
    );
    assert_eq!(read(&paths[0]), source);
}
