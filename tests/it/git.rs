//! `--branch`, `--push` and `--pr` against real git: repositories made with the `git` CLI in
//! temporary directories, a bare repository over `file://`, a `git daemon` on 127.0.0.1,
//! and GitHub and GitLab APIs played by a local HTTP server that checks every request.

use crate::common;

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tempfile::TempDir;

/// Root user only: the fix adds `USER node` and nothing else.
const ROOT: &str =
    "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n";
const ROOT_FIXED: &str = "FROM node:22-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nCMD [\"node\", \"server.js\"]\n";
/// Already fixed: nothing to do.
const CLEAN: &str = ROOT_FIXED;
/// Root user and a floating tag.
const FLOATING: &str = "FROM node:lts-alpine\nRUN npm ci\nCMD [\"node\", \"a.js\"]\n";
const FLOATING_FIXED: &str =
    "FROM node:26.7.0-alpine\nRUN npm ci\nUSER node\nCMD [\"node\", \"a.js\"]\n";

const BRANCH: &str = "unroot/non-root";
const TOKEN: &str = "ghp_TESTtoken0123456789secret";
const GITLAB_TOKEN: &str = "glpat-TESTtoken";

/// A temporary directory with its own HOME, so no user or system git config leaks in.
struct Sandbox {
    dir: TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temporary directory");
        fs::create_dir(dir.path().join("home")).expect("home");
        Sandbox { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self, command: &mut Command) {
        common::isolate_git(command, &self.path().join("home"));
        command
            .env("NO_COLOR", "1")
            .env("UNROOT_TODAY", common::TODAY);
    }

    /// Runs `git` in `dir`; panics when it fails.
    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let output = self.git_output(dir, args);
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("git prints UTF-8")
            .trim_end()
            .to_string()
    }

    fn git_output(&self, dir: &Path, args: &[&str]) -> Output {
        let mut command = Command::new("git");
        self.env(&mut command);
        command
            .current_dir(dir)
            .args(args)
            .output()
            .expect("git runs")
    }

    /// A repository on `main` with one commit holding `files`, and a git identity.
    fn repo(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.path().join(name);
        fs::create_dir_all(&dir).expect("repository directory");
        self.git(&dir, &["init", "-q", "-b", "main"]);
        self.identity(&dir, "Dev One", "dev@example.com");
        self.commit_files(&dir, files, "initial commit");
        dir
    }

    /// The repository most tests use: `app`, with `ROOT` committed as its Dockerfile.
    fn app(&self) -> PathBuf {
        self.repo("app", &[("Dockerfile", ROOT)])
    }

    /// [`Sandbox::app`], with `url` as its `origin`.
    fn app_with_origin(&self, url: &str) -> PathBuf {
        let dir = self.app();
        self.git(&dir, &["remote", "add", "origin", url]);
        dir
    }

    /// The git identity of the repository `dir`.
    fn identity(&self, dir: &Path, name: &str, email: &str) {
        self.git(dir, &["config", "user.name", name]);
        self.git(dir, &["config", "user.email", email]);
    }

    /// `git clone -q ARGS NAME` in the sandbox, with the git identity `name <email>`.
    fn clone_repo(&self, args: &[&str], dir_name: &str, name: &str, email: &str) -> PathBuf {
        let clone_args: Vec<&str> = ["clone", "-q"]
            .iter()
            .chain(args)
            .copied()
            .chain([dir_name])
            .collect();
        self.git(self.path(), &clone_args);
        let dir = self.path().join(dir_name);
        self.identity(&dir, name, email);
        dir
    }

    fn commit_files(&self, dir: &Path, files: &[(&str, &str)], message: &str) {
        for (path, content) in files {
            let path = dir.join(path);
            fs::create_dir_all(path.parent().expect("a parent")).expect("directories");
            fs::write(path, content).expect("write file");
        }
        self.git(dir, &["add", "-A"]);
        self.git(dir, &["commit", "-q", "-m", message]);
    }

    /// A bare repository to push to, and its `file://` URL.
    fn bare(&self, name: &str) -> (PathBuf, String) {
        let dir = self.path().join(name);
        self.git(self.path(), &["init", "-q", "--bare", "-b", "main", name]);
        let url = format!("file://{}", dir.display());
        (dir, url)
    }

    /// The folder `served`, holding the bare repository `web.git`, for a [`Daemon`] to serve.
    fn served(&self) -> PathBuf {
        let served = self.path().join("served");
        fs::create_dir(&served).expect("dir");
        self.git(&served, &["init", "-q", "--bare", "web.git"]);
        served
    }

    /// Runs unroot in `dir` with `env` set.
    fn unroot(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_unroot"));
        self.env(&mut command);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command
            .current_dir(dir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("unroot runs");
        Run {
            code: output.status.code().expect("an exit status"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        }
    }

    /// Runs `unroot --branch ARGS` in `dir`, with no variables of its own.
    fn unroot_branch(&self, dir: &Path, args: &[&str]) -> Run {
        let args: Vec<&str> = ["--branch"].iter().chain(args).copied().collect();
        self.unroot(dir, &args, &[])
    }

    /// Runs `unroot --branch --push --pr --api-url API` in `dir` with `env` set.
    fn unroot_pr(&self, dir: &Path, api: &str, env: &[(&str, &str)]) -> Run {
        self.unroot(dir, &["--branch", "--push", "--pr", "--api-url", api], env)
    }

    fn rev(&self, dir: &Path, rev: &str) -> String {
        self.git(dir, &["rev-parse", "--verify", "-q", rev])
    }

    fn has_ref(&self, dir: &Path, name: &str) -> bool {
        self.git_output(dir, &["rev-parse", "--verify", "-q", name])
            .status
            .success()
    }

    /// The commit of the branch `BRANCH` in the repository `dir` (a remote one, mostly).
    fn branch_tip(&self, dir: &Path) -> String {
        self.rev(dir, &format!("refs/heads/{BRANCH}"))
    }

    /// Whether the repository `dir` has the branch `BRANCH`.
    fn has_branch(&self, dir: &Path) -> bool {
        self.has_ref(dir, &format!("refs/heads/{BRANCH}"))
    }

    /// Everything of the user's checkout that unroot must not touch.
    fn checkout_state(&self, dir: &Path) -> Checkout {
        let mut files = Vec::new();
        collect_files(dir, &mut files);
        files.sort();
        Checkout {
            head: self.git(dir, &["rev-parse", "HEAD"]),
            symbolic: String::from_utf8_lossy(
                &self.git_output(dir, &["symbolic-ref", "-q", "HEAD"]).stdout,
            )
            .to_string(),
            index: self.git(dir, &["ls-files", "-s"]),
            status: self.git(dir, &["status", "--porcelain", "--untracked-files=all"]),
            files,
        }
    }
}

/// HEAD (its commit and the branch it names), the index, `git status` and every file.
#[derive(Debug, PartialEq, Eq)]
struct Checkout {
    head: String,
    symbolic: String,
    index: String,
    status: String,
    files: Vec<(PathBuf, Vec<u8>)>,
}

fn collect_files(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in fs::read_dir(dir).expect("read_dir") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if entry.file_name() == ".git" {
            continue;
        }
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push((path.clone(), fs::read(&path).expect("read")));
        }
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    #[track_caller]
    fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Checks that stdout contains `text`.
    #[track_caller]
    fn assert_in_stdout(&self, text: &str) -> &Run {
        assert!(self.stdout.contains(text), "{}", self.stdout);
        self
    }

    /// Checks that stderr contains `text`.
    #[track_caller]
    fn assert_in_stderr(&self, text: &str) -> &Run {
        assert!(self.stderr.contains(text), "{}", self.stderr);
        self
    }

    /// Checks that `secret` appears in neither stdout nor stderr.
    #[track_caller]
    fn assert_hides(&self, secret: &str) -> &Run {
        assert!(!self.all().contains(secret), "{}", self.all());
        self
    }
}

/// Checks that `branch` is exactly one commit on top of `base` whose tree is `base`'s with
/// `files` changed to the given contents, and nothing else.
#[track_caller]
fn assert_branch(sb: &Sandbox, dir: &Path, branch: &str, base: &str, files: &[(&str, &str)]) {
    let base_id = sb.rev(dir, base);
    assert_eq!(
        sb.rev(dir, &format!("{branch}^")),
        base_id,
        "parent of {branch}"
    );
    assert_eq!(
        sb.git(dir, &["rev-list", "--count", &format!("{base}..{branch}")]),
        "1"
    );
    let changed = sb.git(dir, &["diff", "--name-only", base, branch]);
    let mut expected: Vec<&str> = files.iter().map(|(path, _)| *path).collect();
    expected.sort_unstable();
    assert_eq!(changed.lines().collect::<Vec<_>>(), expected);
    for (path, content) in files {
        assert_eq!(
            sb.git(dir, &["show", &format!("{branch}:{path}")]),
            content.trim_end()
        );
    }
    let message = sb.git(dir, &["log", "-1", "--format=%B", branch]);
    assert!(message.contains("Unroot-Generated: true"), "{message}");
}

// ---------------------------------------------------------------------------------------
// A local HTTP server that plays GitHub or GitLab.
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Request {
    method: String,
    /// The path with its query, as sent.
    target: String,
    headers: HashMap<String, String>,
    body: String,
}

impl Request {
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    fn query(&self) -> HashMap<String, String> {
        self.target
            .split_once('?')
            .map(|(_, query)| {
                query
                    .split('&')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(key, value)| (decode(key), decode(value)))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex digits"));
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

/// An update of a pull or merge request: `fields` of `body` set on the one of `list` whose
/// `key` is `id`, answered with it as it is then (200), or `not_found` (404).
fn update(
    list: &mut [Value],
    (key, id): (&str, &str),
    fields: [&str; 2],
    body: &Value,
    not_found: &str,
) -> Reply {
    let Some(entry) = list
        .iter_mut()
        .find(|entry| entry[key].as_u64() == id.parse().ok())
    else {
        return reply(404, json!({ "message": not_found }));
    };
    for field in fields {
        if let Some(value) = body.get(field) {
            entry[field] = value.clone();
        }
    }
    reply(200, entry.clone())
}

type Handler = Box<dyn FnMut(&Request) -> Reply + Send>;

/// An HTTP/1.1 server on 127.0.0.1 that records each request and answers it with `handler`.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn start(handler: Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        let handler = Arc::new(Mutex::new(handler));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let recorded = Arc::clone(&recorded);
                let handler = Arc::clone(&handler);
                std::thread::spawn(move || serve_connection(stream, &recorded, &handler));
            }
        });
        Server { url, requests }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("requests").clone()
    }
}

fn serve_connection(stream: TcpStream, recorded: &Mutex<Vec<Request>>, handler: &Mutex<Handler>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
            }
        }
        let length: usize = headers
            .get("content-length")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request = Request {
            method,
            target,
            headers,
            body: String::from_utf8_lossy(&body).to_string(),
        };
        recorded.lock().expect("requests").push(request.clone());
        let answer = (handler.lock().expect("handler"))(&request);
        let reason = match answer.status {
            200 => "OK",
            201 => "Created",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            409 => "Conflict",
            422 => "Unprocessable Entity",
            _ => "Status",
        };
        let mut head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
            answer.status,
            answer.body.len()
        );
        for (name, value) in &answer.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(answer.body.as_bytes());
        let _ = writer.flush();
    }
}

/// GitHub's REST API for pull requests, as documented: auth and version headers checked,
/// `GET …/pulls?head=OWNER:BRANCH&state=open`, `POST …/pulls` (201, or 422 when a pull
/// request for the head is open), `PATCH …/pulls/N`.
#[derive(Default)]
struct FakeGitHub {
    token: String,
    /// `owner/repo` → pull requests.
    pulls: HashMap<String, Vec<Value>>,
    /// Open pull requests the list does not show (a race, or one opened elsewhere).
    hidden: Vec<(String, String)>,
    /// A reply that replaces every POST's.
    post_reply: Option<(u16, Value)>,
}

impl FakeGitHub {
    fn handler(token: &str) -> Arc<Mutex<FakeGitHub>> {
        Arc::new(Mutex::new(FakeGitHub {
            token: token.to_string(),
            ..FakeGitHub::default()
        }))
    }

    fn serve(state: &Arc<Mutex<FakeGitHub>>) -> Server {
        let state = Arc::clone(state);
        Server::start(Box::new(move |request| {
            state.lock().expect("fake GitHub").handle(request)
        }))
    }

    fn handle(&mut self, request: &Request) -> Reply {
        let auth = request.header("authorization").unwrap_or("");
        if auth != format!("Bearer {}", self.token) && auth != format!("token {}", self.token) {
            return reply(
                401,
                json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
            );
        }
        if request.header("accept") != Some("application/vnd.github+json")
            || request.header("x-github-api-version") != Some("2022-11-28")
            || request.header("user-agent").is_none_or(str::is_empty)
        {
            return reply(
                400,
                json!({"message": "missing Accept, X-GitHub-Api-Version or User-Agent"}),
            );
        }
        let parts: Vec<&str> = request.path().trim_start_matches('/').split('/').collect();
        let ["repos", owner, repo, "pulls", rest @ ..] = parts.as_slice() else {
            return reply(404, json!({"message": "Not Found"}));
        };
        let key = format!("{owner}/{repo}");
        let pulls = self.pulls.entry(key.clone()).or_default();
        match (request.method.as_str(), rest) {
            ("GET", []) => {
                let query = request.query();
                let state = query.get("state").map_or("open", String::as_str);
                let head = query.get("head").cloned().unwrap_or_default();
                let found: Vec<Value> = pulls
                    .iter()
                    .filter(|pr| pr["state"] == state)
                    .filter(|pr| {
                        format!("{owner}:{}", pr["head"]["ref"].as_str().unwrap_or("")) == head
                    })
                    .cloned()
                    .collect();
                reply(200, Value::Array(found))
            }
            ("POST", []) => {
                if request
                    .header("content-type")
                    .is_none_or(|v| !v.starts_with("application/json"))
                {
                    return reply(415, json!({"message": "Unsupported Media Type"}));
                }
                let body = request.json();
                for field in ["title", "head", "base", "body"] {
                    if !body[field].is_string() {
                        return reply(
                            422,
                            json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": field, "code": "missing_field"}]}),
                        );
                    }
                }
                if let Some((status, body)) = &self.post_reply {
                    return reply(*status, body.clone());
                }
                let head = body["head"].as_str().unwrap_or("").to_string();
                let open = pulls
                    .iter()
                    .any(|pr| pr["state"] == "open" && pr["head"]["ref"] == head.as_str())
                    || self.hidden.contains(&(key.clone(), head.clone()));
                if open {
                    return reply(
                        422,
                        json!({
                            "message": "Validation Failed",
                            "errors": [{"resource": "PullRequest", "code": "custom",
                                        "message": format!("A pull request already exists for {owner}:{head}.")}],
                            "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                            "status": "422"
                        }),
                    );
                }
                let number = pulls.len() as u64 + 1;
                let pr = json!({
                    "number": number,
                    "state": "open",
                    "html_url": format!("https://github.com/{key}/pull/{number}"),
                    "url": format!("https://api.github.com/repos/{key}/pulls/{number}"),
                    "title": body["title"],
                    "body": body["body"],
                    "head": {"ref": head, "label": format!("{owner}:{head}")},
                    "base": {"ref": body["base"]},
                });
                pulls.push(pr.clone());
                reply(201, pr)
            }
            ("PATCH", [number]) => update(
                pulls,
                ("number", number),
                ["title", "body"],
                &request.json(),
                "Not Found",
            ),
            _ => reply(404, json!({"message": "Not Found"})),
        }
    }
}

/// GitLab's REST API for merge requests: `PRIVATE-TOKEN`, `GET …/merge_requests`,
/// `POST` (201, or 409 when one is open for the source branch), `PUT …/merge_requests/IID`.
#[derive(Default)]
struct FakeGitLab {
    token: String,
    /// URL-encoded project id → merge requests.
    merge_requests: HashMap<String, Vec<Value>>,
    hidden: Vec<(String, String)>,
}

impl FakeGitLab {
    fn handler(token: &str) -> Arc<Mutex<FakeGitLab>> {
        Arc::new(Mutex::new(FakeGitLab {
            token: token.to_string(),
            ..FakeGitLab::default()
        }))
    }

    fn serve(state: &Arc<Mutex<FakeGitLab>>) -> Server {
        let state = Arc::clone(state);
        Server::start(Box::new(move |request| {
            state.lock().expect("fake GitLab").handle(request)
        }))
    }

    fn handle(&mut self, request: &Request) -> Reply {
        if request.header("private-token") != Some(self.token.as_str()) {
            return reply(401, json!({"message": "401 Unauthorized"}));
        }
        let parts: Vec<&str> = request.path().trim_start_matches('/').split('/').collect();
        let ["api", "v4", "projects", id, "merge_requests", rest @ ..] = parts.as_slice() else {
            return reply(404, json!({"message": "404 Not Found"}));
        };
        let project = decode(id);
        let list = self.merge_requests.entry(project.clone()).or_default();
        match (request.method.as_str(), rest) {
            ("GET", []) => {
                let query = request.query();
                let found: Vec<Value> = list
                    .iter()
                    .filter(|mr| {
                        Some(mr["state"].as_str().unwrap_or(""))
                            == query.get("state").map(String::as_str)
                    })
                    .filter(|mr| {
                        Some(mr["source_branch"].as_str().unwrap_or(""))
                            == query.get("source_branch").map(String::as_str)
                    })
                    .cloned()
                    .collect();
                reply(200, Value::Array(found))
            }
            ("POST", []) => {
                let body = request.json();
                for field in ["source_branch", "target_branch", "title"] {
                    if !body[field].is_string() {
                        return reply(400, json!({"message": format!("{field} is missing")}));
                    }
                }
                let source = body["source_branch"].as_str().unwrap_or("").to_string();
                let open = list
                    .iter()
                    .any(|mr| mr["state"] == "opened" && mr["source_branch"] == source.as_str())
                    || self.hidden.contains(&(project.clone(), source.clone()));
                if open {
                    return reply(
                        409,
                        json!({"message": ["Another open merge request already exists for this source branch: !1"]}),
                    );
                }
                let iid = list.len() as u64 + 1;
                let mr = json!({
                    "id": 1000 + iid,
                    "iid": iid,
                    "state": "opened",
                    "web_url": format!("https://gitlab.example.com/{project}/-/merge_requests/{iid}"),
                    "title": body["title"],
                    "description": body["description"],
                    "source_branch": source,
                    "target_branch": body["target_branch"],
                });
                list.push(mr.clone());
                reply(201, mr)
            }
            ("PUT", [iid]) => update(
                list,
                ("iid", iid),
                ["title", "description"],
                &request.json(),
                "404 Not found",
            ),
            _ => reply(404, json!({"message": "404 Not Found"})),
        }
    }
}

/// A `git daemon` serving `base` on 127.0.0.1, with pushes enabled; stopped when dropped.
struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    fn start(sb: &Sandbox, base: &Path) -> Daemon {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("address")
            .port();
        // `git-daemon` itself, not `git daemon`: the `git` wrapper would stay the parent, and
        // killing it would leave the daemon running.
        let exec_path = sb.git(base, &["--exec-path"]);
        let mut command = Command::new(Path::new(&exec_path).join("git-daemon"));
        sb.env(&mut command);
        let child = command
            .args([
                "--reuseaddr",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
                "--export-all",
                "--enable=receive-pack",
                "--informative-errors",
            ])
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts (Debian's git package ships it)");
        let daemon = Daemon { child, port };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "git daemon did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        daemon
    }

    fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `web`, with `ROOT` committed as its Dockerfile, like [`repo_with_remote`].
fn web_with_remote(sb: &Sandbox, fetch_url: &str) -> (PathBuf, PathBuf) {
    repo_with_remote(sb, "web", &[("Dockerfile", ROOT)], fetch_url)
}

/// A repository whose `origin` is `fetch_url` (the identity the forge is told) and whose
/// pushes go to a bare repository over `file://`.
fn repo_with_remote(
    sb: &Sandbox,
    name: &str,
    files: &[(&str, &str)],
    fetch_url: &str,
) -> (PathBuf, PathBuf) {
    let dir = sb.repo(name, files);
    let (bare, bare_url) = sb.bare(&format!("{name}-remote.git"));
    sb.git(&dir, &["remote", "add", "origin", fetch_url]);
    sb.git(&dir, &["remote", "set-url", "--push", "origin", &bare_url]);
    (dir, bare)
}

// ---------------------------------------------------------------------------------------
// The branch and its commit.
// ---------------------------------------------------------------------------------------

#[test]
fn branch_holds_one_commit_and_the_checkout_is_untouched() {
    let sb = Sandbox::new();
    let dir = sb.repo(
        "app",
        &[
            ("Dockerfile", ROOT),
            ("services/api/Dockerfile", FLOATING),
            ("services/api/server.js", "console.log('hi')\n"),
            ("README.md", "# app\n"),
        ],
    );
    let before = sb.checkout_state(&dir);
    let run = sb.unroot_branch(&dir, &[]);
    run.assert_code(0);
    run.assert_in_stdout(".: branch `unroot/non-root` created");
    assert_eq!(
        sb.checkout_state(&dir),
        before,
        "HEAD, index and working tree"
    );
    assert_branch(
        &sb,
        &dir,
        BRANCH,
        "main",
        &[
            ("Dockerfile", ROOT_FIXED),
            ("services/api/Dockerfile", FLOATING_FIXED),
        ],
    );
    // Everything else is the same tree entry for entry.
    assert_eq!(
        sb.git(
            &dir,
            &["rev-parse", &format!("{BRANCH}:services/api/server.js")]
        ),
        sb.git(&dir, &["rev-parse", "main:services/api/server.js"])
    );
    let message = sb.git(&dir, &["log", "-1", "--format=%B", BRANCH]);
    let subject = message.lines().next().expect("a subject");
    assert_eq!(
        subject,
        "fix(docker): run Node containers as non-root and pin Node base images"
    );
    assert!(
        message.contains("services/api/Dockerfile\n- line 1: root-user:"),
        "{message}"
    );
    assert!(message.contains("floating-tag"), "{message}");
    let author = sb.git(&dir, &["log", "-1", "--format=%an <%ae>|%cn <%ce>", BRANCH]);
    assert_eq!(
        author,
        "Dev One <dev@example.com>|Dev One <dev@example.com>"
    );

    // A second run changes nothing.
    let tip = sb.rev(&dir, BRANCH);
    let again = sb.unroot_branch(&dir, &[]);
    again.assert_code(0);
    again.assert_in_stdout("is up to date");
    assert_eq!(sb.rev(&dir, BRANCH), tip);
    assert_eq!(sb.checkout_state(&dir), before);
}

#[test]
fn root_only_subject_and_named_branch() {
    let sb = Sandbox::new();
    let dir = sb.app();
    sb.unroot_branch(&dir, &["bots/unroot", "."]).assert_code(0);
    assert_branch(
        &sb,
        &dir,
        "bots/unroot",
        "main",
        &[("Dockerfile", ROOT_FIXED)],
    );
    assert_eq!(
        sb.git(&dir, &["log", "-1", "--format=%s", "bots/unroot"]),
        "fix(docker): run Node containers as non-root"
    );
    assert!(!sb.has_ref(&dir, "refs/heads/unroot/non-root"));
}

#[test]
fn uncommitted_changes_are_left_alone_and_the_committed_version_is_fixed() {
    let sb = Sandbox::new();
    let dir = sb.repo("app", &[("Dockerfile", ROOT), ("notes.txt", "a\n")]);
    // A change in the working tree, and another one staged.
    fs::write(dir.join("Dockerfile"), format!("# local edit\n{ROOT}")).expect("edit");
    fs::write(dir.join("notes.txt"), "a\nb\n").expect("edit");
    sb.git(&dir, &["add", "notes.txt"]);
    let before = sb.checkout_state(&dir);
    let run = sb.unroot_branch(&dir, &[]);
    run.assert_code(0);
    run.assert_in_stdout("Dockerfile: fixed from the committed version on `main`");
    assert_eq!(sb.checkout_state(&dir), before);
    assert_branch(&sb, &dir, BRANCH, "main", &[("Dockerfile", ROOT_FIXED)]);
}

#[test]
fn head_moved_rebuilds_the_branch_on_the_new_head() {
    let sb = Sandbox::new();
    let dir = sb.app();
    sb.unroot_branch(&dir, &[]).assert_code(0);
    let first = sb.rev(&dir, BRANCH);
    sb.commit_files(&dir, &[("server.js", "// new\n")], "more work");
    let run = sb.unroot_branch(&dir, &[]);
    run.assert_code(0);
    run.assert_in_stdout("rebuilt on the new base");
    assert_ne!(sb.rev(&dir, BRANCH), first);
    assert_branch(&sb, &dir, BRANCH, "main", &[("Dockerfile", ROOT_FIXED)]);
    // The fixes changed (another option): the branch is updated in place.
    let run = sb.unroot_branch(&dir, &["--numeric-user"]);
    run.assert_code(0);
    run.assert_in_stdout("updated (the fixes changed)");
    let fixed = ROOT_FIXED.replace("USER node", "USER 1000:1000");
    assert_branch(&sb, &dir, BRANCH, "main", &[("Dockerfile", &fixed)]);
}

#[test]
fn a_branch_with_someone_elses_commit_is_refused() {
    let sb = Sandbox::new();
    let dir = sb.app();
    sb.unroot_branch(&dir, &[]).assert_code(0);
    // Someone adds a commit to the branch.
    sb.git(&dir, &["checkout", "-q", BRANCH]);
    sb.commit_files(
        &dir,
        &[("server.js", "// fix the app for uid 1000\n")],
        "Make /app/tmp writable",
    );
    sb.git(&dir, &["checkout", "-q", "main"]);
    let tip = sb.rev(&dir, BRANCH);
    let run = sb.unroot_branch(&dir, &[]);
    run.assert_code(2);
    run.assert_in_stderr("branch modified");
    run.assert_in_stderr("Make /app/tmp writable");
    assert_eq!(sb.rev(&dir, BRANCH), tip);
    // Also when HEAD moved: the branch is not rebuilt over the person's work.
    sb.commit_files(&dir, &[("other.txt", "x\n")], "more work");
    sb.unroot_branch(&dir, &[]).assert_code(2);
    assert_eq!(sb.rev(&dir, BRANCH), tip);
}

#[test]
fn an_amended_commit_is_not_unroots() {
    let sb = Sandbox::new();
    let dir = sb.app();
    sb.unroot_branch(&dir, &[]).assert_code(0);
    // Amended with a change: same message and trailers, another tree.
    sb.git(&dir, &["checkout", "-q", BRANCH]);
    fs::write(
        dir.join("Dockerfile"),
        ROOT_FIXED.replace("USER node", "USER app"),
    )
    .expect("edit");
    sb.git(&dir, &["commit", "-q", "-a", "--amend", "--no-edit"]);
    sb.git(&dir, &["checkout", "-q", "main"]);
    let tip = sb.rev(&dir, BRANCH);
    let run = sb.unroot_branch(&dir, &[]);
    run.assert_code(2);
    run.assert_in_stderr("branch modified");
    assert_eq!(sb.rev(&dir, BRANCH), tip);
}

#[test]
fn bulk_three_repositories_two_branches_one_no_op() {
    let sb = Sandbox::new();
    let a = sb.repo("a", &[("Dockerfile", ROOT)]);
    let b = sb.repo("b", &[("Dockerfile", CLEAN)]);
    let c = sb.repo("c", &[("docker/app.Dockerfile", FLOATING)]);
    // `--branch` takes an optional name: the paths go first (or after `--`).
    let run = sb.unroot(sb.path(), &["a", "b", "c", "--branch"], &[]);
    run.assert_code(0);
    assert_branch(&sb, &a, BRANCH, "main", &[("Dockerfile", ROOT_FIXED)]);
    assert_branch(
        &sb,
        &c,
        BRANCH,
        "main",
        &[("docker/app.Dockerfile", FLOATING_FIXED)],
    );
    assert!(!sb.has_branch(&b));
    run.assert_in_stdout("a: branch `unroot/non-root` created");
    run.assert_in_stdout("b: nothing to fix on `main`");
    run.assert_in_stdout("c: branch `unroot/non-root` created");
    // And again: nothing changes anywhere.
    let tips = (sb.rev(&a, BRANCH), sb.rev(&c, BRANCH));
    let again = sb.unroot_branch(sb.path(), &["--", "a", "b", "c"]);
    again.assert_code(0);
    assert_eq!((sb.rev(&a, BRANCH), sb.rev(&c, BRANCH)), tips);
    assert_eq!(
        again.stdout.matches("is up to date").count(),
        2,
        "{}",
        again.stdout
    );
}

#[test]
fn author_from_flag_and_a_clear_error_without_one() {
    let sb = Sandbox::new();
    let dir = sb.app();
    sb.git(&dir, &["config", "--unset", "user.name"]);
    sb.git(&dir, &["config", "--unset", "user.email"]);
    let run = sb.unroot_branch(&dir, &[]);
    run.assert_code(2);
    run.assert_in_stderr("--author");
    assert!(!sb.has_branch(&dir));
    sb.unroot_branch(&dir, &["--author", "Unroot Bot <bot@example.com>"])
        .assert_code(0);
    assert_eq!(
        sb.git(&dir, &["log", "-1", "--format=%an <%ae>|%cn <%ce>", BRANCH]),
        "Unroot Bot <bot@example.com>|Unroot Bot <bot@example.com>"
    );
    let bad = sb.unroot_branch(&dir, &["--author", "bot@example.com"]);
    bad.assert_code(2);
    bad.assert_in_stderr("Name <email>");
}

#[test]
fn commit_template_from_a_file() {
    let sb = Sandbox::new();
    let dir = sb.app();
    let template = sb.path().join("message.txt");
    fs::write(&template, "build: harden images ({file_count})\n\nFiles:\n{files}\n\nSigned-off-by: Bot <bot@example.com>\n").expect("template");
    sb.unroot_branch(
        &dir,
        &["--commit-template", template.to_str().expect("UTF-8")],
    )
    .assert_code(0);
    let message = sb.git(&dir, &["log", "-1", "--format=%B", BRANCH]);
    let tree = sb.rev(&dir, &format!("{BRANCH}^{{tree}}"));
    assert_eq!(
        message,
        format!("build: harden images (1 Dockerfile)\n\nFiles:\nDockerfile\n\nSigned-off-by: Bot <bot@example.com>\nUnroot-Generated: true\nUnroot-Tree: {tree}")
    );
    // A re-run recognises the commit as unroot's.
    sb.commit_files(&dir, &[("x.txt", "x\n")], "more");
    sb.unroot_branch(
        &dir,
        &["--commit-template", template.to_str().expect("UTF-8")],
    )
    .assert_code(0);
    let missing = sb.unroot_branch(&dir, &["--commit-template", "nope.txt"]);
    missing.assert_code(2);
    missing.assert_in_stderr("nope.txt");
}

#[test]
fn errors_exit_2_with_a_clear_message() {
    let sb = Sandbox::new();
    // Not a git repository.
    let plain = sb.path().join("plain");
    fs::create_dir(&plain).expect("dir");
    fs::write(plain.join("Dockerfile"), ROOT).expect("write");
    let run = sb.unroot_branch(&plain, &[]);
    run.assert_code(2);
    run.assert_in_stderr("Dockerfile: not in a git repository");

    let dir = sb.app();
    // An invalid branch name.
    let run = sb.unroot_branch(&dir, &["bad..name"]);
    run.assert_code(2);
    run.assert_in_stderr("`bad..name` is not a valid branch name");
    // A path taken for the branch name: refused before anything is checked.
    let run = sb.unroot_branch(&dir, &["Dockerfile"]);
    run.assert_code(2);
    run.assert_in_stderr("it is a path");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // The base branch itself.
    let run = sb.unroot_branch(&dir, &["main"]);
    run.assert_code(2);
    run.assert_in_stderr("is the base branch");
    // Detached HEAD without --base; with it, the branch starts from --base.
    sb.commit_files(&dir, &[("x.txt", "x\n")], "second");
    sb.git(&dir, &["checkout", "-q", "--detach", "HEAD~1"]);
    let before = sb.checkout_state(&dir);
    let run = sb.unroot_branch(&dir, &[]);
    run.assert_code(2);
    run.assert_in_stderr("HEAD is detached: pass --base BRANCH");
    sb.unroot_branch(&dir, &["--base", "main"]).assert_code(0);
    assert_branch(&sb, &dir, BRANCH, "main", &[("Dockerfile", ROOT_FIXED)]);
    assert_eq!(sb.checkout_state(&dir), before);
    let run = sb.unroot_branch(&dir, &["--base", "nope"]);
    run.assert_code(2);
    run.assert_in_stderr("the base branch `nope` does not exist");
    // Flags that need --branch, and standard input.
    sb.unroot(&dir, &["--push"], &[]).assert_code(2);
    sb.unroot_branch(&dir, &["--write"]).assert_code(2);
    let run = sb.unroot_branch(&dir, &["--", "-"]);
    run.assert_code(2);
}

#[test]
fn untracked_dockerfiles_are_left_out() {
    let sb = Sandbox::new();
    let dir = sb.repo("app", &[("README.md", "x\n")]);
    fs::write(dir.join("Dockerfile"), ROOT).expect("write");
    let run = sb.unroot_branch(&dir, &[]);
    // Nothing committed it: its finding remains, and the summary says so.
    run.assert_code(1);
    run.assert_in_stdout("Dockerfile: not committed on `main`");
    run.assert_in_stdout("  fix not applied: add `USER node`");
    run.assert_in_stdout("1 finding in 1 file, 0 fixed, 1 remaining\n");
    assert!(!sb.has_branch(&dir));
}

// ---------------------------------------------------------------------------------------
// Pushing.
// ---------------------------------------------------------------------------------------

#[test]
fn push_to_a_bare_repository_over_file_url() {
    let sb = Sandbox::new();
    let (bare, url) = sb.bare("remote.git");
    let dir = sb.app_with_origin(&url);
    sb.git(&dir, &["push", "-q", "origin", "main"]);
    let before = sb.checkout_state(&dir);
    let run = sb.unroot_branch(&dir, &["--push"]);
    run.assert_code(0);
    run.assert_in_stdout("pushed `unroot/non-root` to `origin`");
    let local = sb.rev(&dir, BRANCH);
    assert_eq!(sb.branch_tip(&bare), local);
    assert_eq!(sb.checkout_state(&dir), before);

    // A re-run pushes nothing.
    let again = sb.unroot_branch(&dir, &["--push"]);
    again.assert_code(0);
    again.assert_in_stdout("`origin` already has `unroot/non-root`");

    // A fresh clone (a CI job) sees the pushed branch as up to date.
    let clone = sb.clone_repo(&[&url], "clone", "CI", "ci@example.com");
    sb.git(&clone, &["checkout", "-q", "main"]);
    let run = sb.unroot_branch(&clone, &["--push"]);
    run.assert_code(0);
    run.assert_in_stdout("is up to date");
    assert_eq!(sb.branch_tip(&bare), local);
    assert_eq!(sb.rev(&clone, BRANCH), local);

    // HEAD moved upstream: the branch is rebuilt and force-pushed.
    sb.commit_files(&clone, &[("server.js", "// x\n")], "more work");
    sb.git(&clone, &["push", "-q", "origin", "main"]);
    let run = sb.unroot_branch(&clone, &["--push"]);
    run.assert_code(0);
    run.assert_in_stdout("rebuilt on the new base");
    let rebuilt = sb.rev(&clone, BRANCH);
    assert_ne!(rebuilt, local);
    assert_eq!(sb.branch_tip(&bare), rebuilt);
    assert_eq!(sb.rev(&bare, &format!("{BRANCH}^")), sb.rev(&bare, "main"));
}

#[test]
fn someone_pushed_to_the_remote_branch_so_it_is_refused() {
    let sb = Sandbox::new();
    let (bare, url) = sb.bare("remote.git");
    let dir = sb.app_with_origin(&url);
    sb.git(&dir, &["push", "-q", "origin", "main"]);
    sb.unroot_branch(&dir, &["--push"]).assert_code(0);
    // A reviewer pushes a commit to the branch from another clone.
    let reviewer = sb.clone_repo(
        &["-b", BRANCH, &url],
        "reviewer",
        "Reviewer",
        "r@example.com",
    );
    sb.commit_files(
        &reviewer,
        &[("tmp/.keep", "")],
        "Create /app/tmp for the node user",
    );
    sb.git(&reviewer, &["push", "-q", "origin", BRANCH]);
    let remote_tip = sb.branch_tip(&bare);
    let run = sb.unroot_branch(&dir, &["--push"]);
    run.assert_code(2);
    run.assert_in_stderr("branch modified");
    run.assert_in_stderr("on remote `origin`");
    assert_eq!(sb.branch_tip(&bare), remote_tip);
}

#[test]
fn push_to_git_daemon() {
    let sb = Sandbox::new();
    let served = sb.served();
    let daemon = Daemon::start(&sb, &served);
    let dir = sb.app_with_origin(&daemon.url("web.git"));
    let run = sb.unroot_branch(&dir, &["--push"]);
    run.assert_code(0);
    run.assert_in_stdout("pushed `unroot/non-root` to `origin`");
    let pushed = sb.branch_tip(&served.join("web.git"));
    assert_eq!(pushed, sb.rev(&dir, BRANCH));
    let remote = sb.git(
        &dir,
        &[
            "ls-remote",
            &daemon.url("web.git"),
            &format!("refs/heads/{BRANCH}"),
        ],
    );
    assert!(remote.starts_with(&pushed), "{remote}");
    // Again: nothing to push.
    let again = sb.unroot_branch(&dir, &["--push", "origin"]);
    again.assert_code(0);
    again.assert_in_stdout("already has");
}

#[test]
fn a_rejected_push_exits_2() {
    let sb = Sandbox::new();
    let served = sb.served();
    let hook = served.join("web.git/hooks/pre-receive");
    fs::write(
        &hook,
        "#!/bin/sh\necho 'branch policy: bots may not push here' >&2\nexit 1\n",
    )
    .expect("hook");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let daemon = Daemon::start(&sb, &served);
    let dir = sb.app_with_origin(&daemon.url("web.git"));
    let run = sb.unroot_branch(&dir, &["--push"]);
    run.assert_code(2);
    run.assert_in_stderr("push rejected");
    assert!(!sb.has_branch(&served.join("web.git")));
    // An unknown remote.
    let run = sb.unroot_branch(&dir, &["--push", "upstream"]);
    run.assert_code(2);
    run.assert_in_stderr("no remote named `upstream`");
}

/// Writes an executable hook script.
fn write_hook(path: &Path, script: &str) {
    fs::create_dir_all(path.parent().expect("a parent")).expect("hooks directory");
    fs::write(path, script).expect("hook");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

/// S4: libgit2 pushes to a repository on this machine by writing into it, without running
/// its hooks; a `pre-receive` that would refuse the push (over git daemon it does: see
/// `a_rejected_push_exits_2`) must not be skipped, so such a remote is refused, whether it is
/// a `file://` URL, a path, or has its hooks in `core.hooksPath`.
#[test]
fn a_local_remote_whose_hooks_a_push_would_skip_is_refused() {
    let sb = Sandbox::new();
    let (bare, url) = sb.bare("remote.git");
    let dir = sb.app_with_origin(&url);
    sb.git(&dir, &["push", "-q", "origin", "main"]);
    let hook = bare.join("hooks/pre-receive");
    write_hook(
        &hook,
        "#!/bin/sh\necho 'branch policy: bots may not push here' >&2\nexit 1\n",
    );
    for remote in [url.clone(), bare.display().to_string()] {
        sb.git(&dir, &["remote", "set-url", "origin", &remote]);
        let run = sb.unroot_branch(&dir, &["--push"]);
        run.assert_code(2);
        run.assert_in_stderr(&format!(
            "remote `origin` ({remote}) is a repository on this machine with the \
             `pre-receive` hook that git runs on a push"
        ));
        run.assert_in_stderr("unroot does not push there");
        assert!(!sb.has_branch(&bare), "{remote}: the hook was skipped");
    }
    // Hooks elsewhere (core.hooksPath, relative to the git directory) count too.
    fs::remove_file(&hook).expect("remove hook");
    write_hook(&bare.join("policy/update"), "#!/bin/sh\nexit 1\n");
    sb.git(&bare, &["config", "core.hooksPath", "policy"]);
    let run = sb.unroot_branch(&dir, &["--push"]);
    run.assert_code(2);
    run.assert_in_stderr("with the `update` hook");
    assert!(!sb.has_branch(&bare));
    // Without hooks (git's `*.sample` files are not hooks) the push goes through.
    sb.git(&bare, &["config", "--unset", "core.hooksPath"]);
    let run = sb.unroot_branch(&dir, &["--push"]);
    run.assert_code(0);
    assert_eq!(sb.branch_tip(&bare), sb.rev(&dir, BRANCH));
}

/// A TCP listener on 127.0.0.1 that accepts every connection and never answers; the
/// connections stay open as long as it lives.
struct Silent {
    port: u16,
}

impl Silent {
    fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("address").port();
        std::thread::spawn(move || {
            let mut open = Vec::new();
            for stream in listener.incoming().flatten() {
                open.push(stream);
            }
        });
        Silent { port }
    }
}

impl Sandbox {
    /// Runs unroot as [`Sandbox::unroot`] does, but kills it and fails the test when it has
    /// not ended within `limit`.
    fn unroot_within(
        &self,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        limit: Duration,
    ) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_unroot"));
        self.env(&mut command);
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .current_dir(dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("unroot runs");
        let read = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let stdout = read(Box::new(child.stdout.take().expect("stdout")));
        let stderr = read(Box::new(child.stderr.take().expect("stderr")));
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if start.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("unroot {args:?} still ran after {limit:?}: a network wait is unbounded");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Run {
            code: status.code().expect("an exit status"),
            stdout: stdout.join().expect("stdout"),
            stderr: stderr.join().expect("stderr"),
        }
    }
}

/// G2: a remote that accepts the connection and never answers does not keep the push
/// waiting: `--timeout` bounds every read of git's transports (git://, http://) and each API
/// request.
#[test]
fn a_remote_that_never_answers_times_out() {
    const LIMIT: Duration = Duration::from_secs(60);
    let sb = Sandbox::new();
    let silent = Silent::start();
    let dir = sb.app();
    for url in [
        format!("git://127.0.0.1:{}/web.git", silent.port),
        format!("http://127.0.0.1:{}/acme/web.git", silent.port),
    ] {
        let _ = sb.git_output(&dir, &["remote", "remove", "origin"]);
        sb.git(&dir, &["remote", "add", "origin", &url]);
        let run = sb.unroot_within(&dir, &["--branch", "--push", "--timeout", "2"], &[], LIMIT);
        run.assert_code(2);
        run.assert_in_stderr(&format!("cannot reach remote `origin` ({url})"));
        run.assert_in_stderr("timed out");
        run.assert_in_stderr("no answer within 2 s; --timeout SECONDS sets the limit");
    }
    // The pull request's API: the push goes to a bare repository, the API never answers.
    let (web, _bare) = web_with_remote(&sb, "https://github.com/acme/web.git");
    let api = format!("http://127.0.0.1:{}", silent.port);
    let run = sb.unroot_within(
        &web,
        &[
            "--branch",
            "--push",
            "--pr",
            "--api-url",
            &api,
            "--timeout",
            "2",
        ],
        &[("GITHUB_TOKEN", TOKEN)],
        LIMIT,
    );
    run.assert_code(2);
    run.assert_in_stderr(&format!("GET {api}/repos/acme/web/pulls"));
    run.assert_in_stderr("timed out: no complete answer within 2 s");
    run.assert_hides(TOKEN);
}

#[test]
fn credentials_never_appear_in_output() {
    let sb = Sandbox::new();
    // Nothing listens on port 9 of 127.0.0.1: the push fails after the token was read.
    let dir = sb.app_with_origin("https://x-access-token:pa55word-in-url@127.0.0.1:9/acme/web.git");
    let run = sb.unroot(
        &dir,
        &["--branch", "--push", "--forge", "github"],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    run.assert_code(2);
    run.assert_hides(TOKEN);
    run.assert_hides("pa55word-in-url");
    run.assert_in_stderr("127.0.0.1:9");
}

/// Over plain http the token is never offered; git's credential helper is.
#[test]
fn http_remote_gets_the_credential_helper_not_the_token() {
    let sb = Sandbox::new();
    let server = Server::start(Box::new(|request: &Request| {
        if request.header("authorization").is_none() {
            Reply {
                status: 401,
                headers: vec![("WWW-Authenticate".into(), "Basic realm=\"git\"".into())],
                body: "{}".into(),
            }
        } else {
            reply(403, json!({"message": "denied"}))
        }
    }));
    let dir = sb.app_with_origin(&format!("{}/acme/web.git", server.url));
    sb.git(
        &dir,
        &[
            "config",
            "credential.helper",
            "!f() { echo username=helper-user; echo password=helper-pa55; }; f",
        ],
    );
    let run = sb.unroot(
        &dir,
        &["--branch", "--push", "--forge", "github"],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    run.assert_code(2);
    run.assert_hides(TOKEN).assert_hides("helper-pa55");
    let auth: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|request| request.header("authorization").map(str::to_string))
        .collect();
    // base64("helper-user:helper-pa55")
    assert_eq!(
        auth,
        vec!["Basic aGVscGVyLXVzZXI6aGVscGVyLXBhNTU=".to_string()]
    );
}

// ---------------------------------------------------------------------------------------
// Pull requests (GitHub) and merge requests (GitLab).
// ---------------------------------------------------------------------------------------

/// Checks a request's method and path (without the query).
#[track_caller]
fn assert_request(request: &Request, method: &str, path: &str) {
    assert_eq!(request.method, method, "{request:?}");
    assert_eq!(request.path(), path, "{request:?}");
}

/// Checks that the query of `request` sets `name` to `value`.
#[track_caller]
fn assert_query(request: &Request, name: &str, value: &str) {
    assert_eq!(
        request.query().get(name).map(String::as_str),
        Some(value),
        "{request:?}"
    );
}

#[track_caller]
fn assert_github_headers(request: &Request, token: &str) {
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(
        request.header("accept"),
        Some("application/vnd.github+json")
    );
    assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
    assert!(request
        .header("user-agent")
        .is_some_and(|ua| ua.starts_with("unroot/")));
}

#[test]
fn github_pull_request_is_opened_then_left_alone_then_updated() {
    let sb = Sandbox::new();
    let github = FakeGitHub::handler(TOKEN);
    let server = FakeGitHub::serve(&github);
    let (dir, bare) = web_with_remote(&sb, "https://github.com/acme/web.git");
    sb.git(&dir, &["push", "-q", "origin", "main"]);
    let env = [("GITHUB_TOKEN", TOKEN)];

    let run = sb.unroot_pr(&dir, &server.url, &env);
    run.assert_code(0);
    run.assert_in_stdout("opened pull request #1: https://github.com/acme/web/pull/1");
    run.assert_hides(TOKEN);
    assert_eq!(sb.branch_tip(&bare), sb.rev(&dir, BRANCH));
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let list = &requests[0];
    assert_request(list, "GET", "/repos/acme/web/pulls");
    assert_query(list, "head", "acme:unroot/non-root");
    assert_query(list, "state", "open");
    assert_github_headers(list, TOKEN);
    let create = &requests[1];
    assert_request(create, "POST", "/repos/acme/web/pulls");
    assert_github_headers(create, TOKEN);
    assert!(create
        .header("content-type")
        .is_some_and(|v| v.starts_with("application/json")));
    let body = create.json();
    assert_eq!(body["head"], BRANCH);
    assert_eq!(body["base"], "main");
    assert_eq!(
        body["title"],
        "fix(docker): run Node containers as non-root"
    );
    let text = body["body"].as_str().expect("a body");
    for expected in [
        "## Why",
        "Least privilege",
        "### `Dockerfile`",
        "`root-user`",
        "**fixed**: add `USER node`",
        "Writable paths",
        "`unroot --explain root-user` ([docs](https://github.com/unroot/unroot/blob/main/docs/rules/root-user.md))",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    assert!(!text.contains("{"), "unfilled placeholder in:\n{text}");

    // Again: the pull request is open and the same: only the GET.
    let run = sb.unroot_pr(&dir, &server.url, &env);
    run.assert_code(0);
    run.assert_in_stdout("pull request #1 is up to date");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].method, "GET");

    // HEAD moved and a port is fixed too: the branch is rebuilt, the pull request updated.
    sb.commit_files(
        &dir,
        &[(
            "Dockerfile",
            &ROOT.replace("CMD", "ENV PORT=80\nEXPOSE 80\nCMD"),
        )],
        "expose",
    );
    sb.git(&dir, &["push", "-q", "origin", "main"]);
    let run = sb.unroot_pr(&dir, &server.url, &env);
    run.assert_code(0);
    run.assert_in_stdout("updated pull request #1");
    let requests = server.requests();
    let patch = requests.last().expect("a request");
    assert_request(patch, "PATCH", "/repos/acme/web/pulls/1");
    assert_github_headers(patch, TOKEN);
    let body = patch.json();
    assert_eq!(
        body["title"],
        "fix(docker): run Node containers as non-root and listen on unprivileged ports"
    );
    let text = body["body"].as_str().expect("a body");
    assert!(text.contains("docker run -p 80:8080"), "{text}");
    assert!(text.contains("targetPort: 8080"), "{text}");
    assert_eq!(sb.rev(&bare, &format!("{BRANCH}^")), sb.rev(&dir, "main"));
}

#[test]
fn github_already_exists_and_api_errors() {
    let sb = Sandbox::new();
    let github = FakeGitHub::handler(TOKEN);
    github
        .lock()
        .expect("fake")
        .hidden
        .push(("acme/web".into(), BRANCH.into()));
    let server = FakeGitHub::serve(&github);
    // The ssh form of the remote URL, and the token from GH_TOKEN.
    let (dir, _bare) = web_with_remote(&sb, "git@github.com:acme/web.git");
    let run = sb.unroot_pr(&dir, &server.url, &[("GH_TOKEN", TOKEN)]);
    run.assert_code(0);
    run.assert_in_stdout("a pull request for `unroot/non-root` already exists (GitHub: Validation Failed; A pull request already exists for acme:unroot/non-root.)");
    let requests = server.requests();
    assert_eq!(
        requests
            .iter()
            .map(|r| (r.method.as_str(), r.path()))
            .collect::<Vec<_>>(),
        vec![
            ("GET", "/repos/acme/web/pulls"),
            ("POST", "/repos/acme/web/pulls")
        ]
    );

    // An API error: status and GitHub's message, exit 2, no token.
    github.lock().expect("fake").hidden.clear();
    github.lock().expect("fake").post_reply = Some((
        403,
        json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request", "status": "403"}),
    ));
    let run = sb.unroot_pr(&dir, &server.url, &[("GITHUB_TOKEN", TOKEN)]);
    run.assert_code(2);
    run.assert_in_stderr("403 Forbidden: Resource not accessible by integration");
    run.assert_hides(TOKEN);

    // A wrong token: GitHub's 401.
    let run = sb.unroot_pr(
        &dir,
        &server.url,
        &[("GITHUB_TOKEN", "ghp_wrong_token_value")],
    );
    run.assert_code(2);
    run.assert_in_stderr("401 Unauthorized: Bad credentials");
    run.assert_hides("ghp_wrong_token_value");

    // No token at all.
    let run = sb.unroot_pr(&dir, &server.url, &[]);
    run.assert_code(2);
    run.assert_in_stderr("set GITHUB_TOKEN or GH_TOKEN");
}

#[test]
fn gitlab_merge_request_is_opened_then_left_alone() {
    const MERGE_REQUESTS: &str = "/api/v4/projects/group%2Fsub%2Fweb/merge_requests";
    let sb = Sandbox::new();
    let gitlab = FakeGitLab::handler(GITLAB_TOKEN);
    let server = FakeGitLab::serve(&gitlab);
    let (dir, bare) = web_with_remote(&sb, "https://gitlab.example.com/group/sub/web.git");
    let api = format!("{}/api/v4", server.url);
    let env = [("GITLAB_TOKEN", GITLAB_TOKEN)];
    let run = sb.unroot_pr(&dir, &api, &env);
    run.assert_code(0);
    run.assert_in_stdout(
        "opened merge request !1: https://gitlab.example.com/group/sub/web/-/merge_requests/1",
    );
    run.assert_hides(GITLAB_TOKEN);
    assert_eq!(sb.branch_tip(&bare), sb.rev(&dir, BRANCH));
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let list = &requests[0];
    assert_request(list, "GET", MERGE_REQUESTS);
    assert_query(list, "source_branch", BRANCH);
    assert_query(list, "state", "opened");
    let create = &requests[1];
    assert_request(create, "POST", MERGE_REQUESTS);
    assert_eq!(create.header("private-token"), Some(GITLAB_TOKEN));
    let body = create.json();
    assert_eq!(body["source_branch"], BRANCH);
    assert_eq!(body["target_branch"], "main");
    assert_eq!(
        body["title"],
        "fix(docker): run Node containers as non-root"
    );
    assert!(body["description"]
        .as_str()
        .is_some_and(|d| d.contains("Least privilege")));

    let run = sb.unroot_pr(&dir, &api, &env);
    run.assert_code(0);
    run.assert_in_stdout("merge request !1 is up to date");
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn gitlab_forge_flag_and_409_when_one_exists() {
    let sb = Sandbox::new();
    let gitlab = FakeGitLab::handler(GITLAB_TOKEN);
    gitlab.lock().expect("fake").hidden = vec![("team/web".into(), BRANCH.into())];
    let server = FakeGitLab::serve(&gitlab);
    let (dir, _bare) = web_with_remote(&sb, "git@git.example.com:team/web.git");
    let api = format!("{}/api/v4", server.url);
    // The host does not say which forge it is.
    let run = sb.unroot_pr(&dir, &api, &[("GITLAB_TOKEN", GITLAB_TOKEN)]);
    run.assert_code(2);
    run.assert_in_stderr("pass --forge github or --forge gitlab");
    let run = sb.unroot(
        &dir,
        &[
            "--branch",
            "--push",
            "--pr",
            "--forge",
            "gitlab",
            "--api-url",
            &api,
        ],
        &[("GITLAB_TOKEN", GITLAB_TOKEN)],
    );
    run.assert_code(0);
    run.assert_in_stdout("a merge request for `unroot/non-root` already exists (GitLab: Another open merge request already exists for this source branch: !1)");
    let requests = server.requests();
    let last = requests.last().expect("a request");
    assert_request(last, "POST", "/api/v4/projects/team%2Fweb/merge_requests");
}

/// S2: an API that redirects to another origin gets no token across: not GitHub's
/// `Authorization`, and not GitLab's `PRIVATE-TOKEN` (which an HTTP client keeps on a
/// redirect). The run stops with the redirect's origin named.
#[test]
fn an_api_redirect_to_another_origin_gets_no_token() {
    let sb = Sandbox::new();
    // The other origin answers everything, so a client that followed the redirect would go on.
    let other = Server::start(Box::new(|_request: &Request| reply(200, json!([]))));
    let location = other.url.clone();
    let api = Server::start(Box::new(move |request: &Request| Reply {
        status: 302,
        headers: vec![("Location".into(), format!("{location}{}", request.target))],
        body: "{}".into(),
    }));
    let cases = [
        (
            "github",
            "https://github.com/acme/web.git",
            api.url.clone(),
            ("GITHUB_TOKEN", TOKEN),
        ),
        (
            "gitlab",
            "https://gitlab.com/group/web.git",
            format!("{}/api/v4", api.url),
            ("GITLAB_TOKEN", GITLAB_TOKEN),
        ),
    ];
    for (name, origin, api_root, env) in cases {
        let (dir, _bare) = repo_with_remote(&sb, name, &[("Dockerfile", ROOT)], origin);
        let run = sb.unroot_pr(&dir, &api_root, &[env]);
        run.assert_code(2);
        run.assert_in_stderr(&format!(
            "returned 302 Found, a redirect to {} (another origin): unroot does not follow \
             redirects of API calls",
            other.url
        ));
        run.assert_hides(env.1);
        for request in other.requests() {
            assert!(
                !request
                    .headers
                    .values()
                    .any(|value| value.contains(TOKEN) || value.contains(GITLAB_TOKEN)),
                "{name}: the token crossed to another origin: {request:?}"
            );
        }
        assert!(other.requests().is_empty(), "{:?}", other.requests());
    }
    assert_eq!(api.requests().len(), 2, "one look-up per forge");
}

/// S3: `--pr` sends no token to an API whose host only looks like a forge's: the run stops
/// before anything is pushed or requested, and says how to allow the host.
#[test]
fn pull_requests_send_no_token_to_look_alike_hosts() {
    let sb = Sandbox::new();
    let github = FakeGitHub::handler(TOKEN);
    let server = FakeGitHub::serve(&github);
    let port = server.url.rsplit(':').next().expect("a port").to_string();
    let cases = [
        (
            "github",
            "github.localhost",
            "acme/web",
            ("GITHUB_TOKEN", TOKEN),
        ),
        (
            "gitlab",
            "gitlab-sso.localhost",
            "g/web",
            ("GITLAB_TOKEN", GITLAB_TOKEN),
        ),
    ];
    for (name, host, path, env) in cases {
        let origin = format!("https://{host}:{port}/{path}.git");
        let (dir, bare) = repo_with_remote(&sb, name, &[("Dockerfile", ROOT)], &origin);
        let run = sb.unroot(&dir, &["--branch", "--push", "--pr"], &[env]);
        run.assert_code(2);
        run.assert_in_stderr(&format!("token is not sent to `{host}`"));
        run.assert_in_stderr(&format!("--token-host {host}"));
        run.assert_in_stderr(&format!("UNROOT_TOKEN_HOSTS={host}"));
        run.assert_hides(env.1);
        assert!(!sb.has_branch(&bare), "{name}: refused before the push");
        // A dry run says so too.
        let run = sb.unroot(&dir, &["--branch", "--push", "--pr", "--dry-run"], &[env]);
        run.assert_code(0);
        run.assert_in_stdout(&format!("note: the real run sends no token to `{host}`"));
        // Named, the host gets past the check (and then cannot be reached over https here).
        let flag = format!("--token-host={host}");
        let run = sb.unroot(&dir, &["--branch", "--push", "--pr", &flag], &[env]);
        run.assert_code(2);
        assert!(!run.stderr.contains("is not sent to"), "{}", run.stderr);
        run.assert_hides(env.1);
    }
    for request in server.requests() {
        assert!(
            !request
                .headers
                .values()
                .any(|value| value.contains(TOKEN) || value.contains(GITLAB_TOKEN)),
            "{request:?}"
        );
    }
}

/// S3: a push to a look-alike host is not offered the token, and the failure says how to
/// allow the host.
#[test]
fn pushes_offer_no_token_to_look_alike_hosts() {
    let sb = Sandbox::new();
    let server = Server::start(Box::new(|_request: &Request| reply(403, json!({}))));
    let port = server.url.rsplit(':').next().expect("a port").to_string();
    let dir = sb.app_with_origin(&format!("https://github.localhost:{port}/acme/web.git"));
    let run = sb.unroot(&dir, &["--branch", "--push"], &[("GITHUB_TOKEN", TOKEN)]);
    run.assert_code(2);
    run.assert_in_stderr("GITHUB_TOKEN was not offered to `github.localhost`");
    run.assert_in_stderr("--token-host github.localhost");
    run.assert_hides(TOKEN);
    // Named in UNROOT_TOKEN_HOSTS, the host would be offered the token: no such note.
    let run = sb.unroot(
        &dir,
        &["--branch", "--push"],
        &[
            ("GITHUB_TOKEN", TOKEN),
            ("UNROOT_TOKEN_HOSTS", "github.localhost"),
        ],
    );
    run.assert_code(2);
    assert!(!run.stderr.contains("was not offered"), "{}", run.stderr);
    run.assert_hides(TOKEN);
    // Neither is a token that is not set mentioned.
    let run = sb.unroot(&dir, &["--branch", "--push"], &[]);
    run.assert_code(2);
    assert!(!run.stderr.contains("was not offered"), "{}", run.stderr);
    // An invalid UNROOT_TOKEN_HOSTS is an error before anything is done.
    let run = sb.unroot(
        &dir,
        &["--branch", "--push"],
        &[("UNROOT_TOKEN_HOSTS", "*.localhost")],
    );
    run.assert_code(2);
    run.assert_in_stderr("error: UNROOT_TOKEN_HOSTS: `*.localhost` is not a host name");
    for request in server.requests() {
        assert!(
            !request.headers.values().any(|value| value.contains(TOKEN)),
            "{request:?}"
        );
    }
}

#[test]
fn dry_run_creates_nothing_and_shows_everything() {
    let sb = Sandbox::new();
    let github = FakeGitHub::handler(TOKEN);
    let server = FakeGitHub::serve(&github);
    let (dir, bare) = web_with_remote(&sb, "https://github.com/acme/web.git");
    let before = sb.checkout_state(&dir);
    let refs_before = sb.git(&dir, &["for-each-ref"]);
    let objects_before = sb.git(&dir, &["count-objects", "-v"]);
    let run = sb.unroot(
        &dir,
        &[
            "--branch",
            "--push",
            "--pr",
            "--dry-run",
            "--api-url",
            &server.url,
        ],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    run.assert_code(0);
    let out = &run.stdout;
    for expected in [
        "branch `unroot/non-root` would be created",
        "fix(docker): run Node containers as non-root",
        "Unroot-Generated: true",
        "+USER node",
        "would push `unroot/non-root` to `origin`",
        "GET http://127.0.0.1",
        "/repos/acme/web/pulls?head=acme%3Aunroot%2Fnon-root&state=open",
        "POST http://127.0.0.1",
        "Authorization: Bearer ***",
        "\"head\": \"unroot/non-root\"",
        "\"base\": \"main\"",
    ] {
        assert!(out.contains(expected), "{expected:?} missing from:\n{out}");
    }
    run.assert_hides(TOKEN);
    assert!(server.requests().is_empty());
    assert_eq!(sb.checkout_state(&dir), before);
    assert_eq!(sb.git(&dir, &["for-each-ref"]), refs_before);
    assert_eq!(sb.git(&dir, &["count-objects", "-v"]), objects_before);
    assert!(!sb.has_branch(&bare));
}

/// The goal: `unroot --branch --push --pr ~/src/*` gives one pull request per
/// repository that needs one, and a second run changes nothing.
#[test]
fn bulk_branch_push_pr_over_many_checkouts() {
    let sb = Sandbox::new();
    let github = FakeGitHub::handler(TOKEN);
    let server = FakeGitHub::serve(&github);
    let mut bares = Vec::new();
    for (name, content) in [("api", ROOT), ("docs", CLEAN), ("web", FLOATING)] {
        let (_, bare) = repo_with_remote(
            &sb,
            name,
            &[("Dockerfile", content)],
            &format!("https://github.com/acme/{name}.git"),
        );
        bares.push(bare);
    }
    let args = [
        "--branch",
        "--push",
        "--pr",
        "--api-url",
        &server.url,
        "api",
        "docs",
        "web",
    ];
    let env = [("GITHUB_TOKEN", TOKEN)];
    let run = sb.unroot(sb.path(), &args, &env);
    run.assert_code(0);
    run.assert_in_stdout("api: opened pull request #1: https://github.com/acme/api/pull/1");
    run.assert_in_stdout("docs: nothing to fix on `main`");
    run.assert_in_stdout("web: opened pull request #1: https://github.com/acme/web/pull/1");
    let posts: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(
        posts,
        vec!["/repos/acme/api/pulls", "/repos/acme/web/pulls"]
    );
    assert!(sb.has_branch(&bares[0]));
    assert!(!sb.has_branch(&bares[1]));
    assert!(sb.has_branch(&bares[2]));
    assert_eq!(
        github
            .lock()
            .expect("fake")
            .pulls
            .get("acme/web")
            .map(|p| p[0]["title"].clone()),
        Some(json!(
            "fix(docker): run Node containers as non-root and pin Node base images"
        ))
    );

    let count = server.requests().len();
    let tips: Vec<String> = [&bares[0], &bares[2]]
        .iter()
        .map(|bare| sb.branch_tip(bare))
        .collect();
    let again = sb.unroot(sb.path(), &args, &env);
    again.assert_code(0);
    let new: Vec<String> = server.requests()[count..]
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(new, vec!["GET", "GET"], "only the look-ups");
    let tips_again: Vec<String> = [&bares[0], &bares[2]]
        .iter()
        .map(|bare| sb.branch_tip(bare))
        .collect();
    assert_eq!(tips_again, tips);
    assert_eq!(
        again.stdout.matches("is up to date").count(),
        4,
        "{}",
        again.stdout
    );
}

/// S1: a repository's `unroot.toml` cannot make `--branch` publish a file: its template must
/// be a regular file of the repository, read from the commit being fixed, at most 64 KiB.
#[test]
fn a_configured_commit_template_is_a_committed_file_of_the_repository() {
    let sb = Sandbox::new();
    let secret = "AUTHORIZATION: basic c2VjcmV0LXRva2Vu";
    fs::write(sb.path().join("secret"), format!("{secret}\n")).expect("secret");
    let dir = sb.app();
    // What actions/checkout leaves in .git/config.
    sb.git(
        &dir,
        &["config", "http.https://github.com/.extraheader", secret],
    );
    let refused = |config: &str, expected: &str| {
        sb.commit_files(&dir, &[("unroot.toml", config)], "configure unroot");
        if config.contains("draft.txt") {
            fs::write(dir.join("draft.txt"), "draft {subject}\n").expect("draft");
        }
        let run = sb.unroot_branch(&dir, &[]);
        assert_eq!(run.code, 2, "{config}: {}", run.all());
        run.assert_in_stderr(expected);
        assert!(!run.all().contains("c2VjcmV0"), "{}", run.all());
        assert!(!sb.has_branch(&dir), "{}", run.all());
    };
    refused(
        "commit-template = \".git/config\"\n",
        "is not committed on `main`",
    );
    refused(
        "commit-template = \"../secret\"\n",
        "is outside the repository",
    );
    refused(
        "commit-template = \"ci/../../secret\"\n",
        "is outside the repository",
    );
    for absolute in ["/etc/passwd", "/dev/zero"] {
        refused(
            &format!("commit-template = \"{absolute}\"\n"),
            "is an absolute path",
        );
    }
    // A committed symbolic link to a file outside, and one to .git/config.
    for (link, target) in [("outside.txt", "../secret"), ("inside.txt", ".git/config")] {
        std::os::unix::fs::symlink(target, dir.join(link)).expect("symlink");
        refused(
            &format!("commit-template = \"{link}\"\n"),
            "is not a regular file on `main`",
        );
    }
    // Too large to be a message.
    sb.commit_files(&dir, &[("big.txt", &"x".repeat(70_000))], "big");
    refused("commit-template = \"big.txt\"\n", "larger than 64 KiB");
    // A template in the working tree only, or changed there, is not read: the committed one is.
    refused(
        "commit-template = \"draft.txt\"\n",
        "is not committed on `main`",
    );
    sb.commit_files(
        &dir,
        &[
            ("ci/message.txt", "committed: {subject}\n"),
            ("unroot.toml", "commit-template = \"ci/message.txt\"\n"),
        ],
        "template",
    );
    fs::write(dir.join("ci/message.txt"), "{subject}\n{files}\n").expect("edit");
    sb.unroot_branch(&dir, &[]).assert_code(0);
    let message = sb.git(&dir, &["log", "-1", "--format=%s", BRANCH]);
    assert!(message.starts_with("committed: "), "{message}");
}

/// On the command line any regular file may be named, but not a device, and not a huge file.
#[test]
fn a_command_line_commit_template_is_a_regular_file_of_bounded_size() {
    let sb = Sandbox::new();
    let dir = sb.app();
    let run = sb.unroot_branch(&dir, &["--commit-template", "/dev/zero"]);
    run.assert_code(2);
    run.assert_in_stderr("/dev/zero: the commit template is not a regular file");
    let big = sb.path().join("big.txt");
    fs::write(&big, "x".repeat(70_000)).expect("big");
    let run = sb.unroot_branch(&dir, &["--commit-template", big.to_str().expect("UTF-8")]);
    run.assert_code(2);
    run.assert_in_stderr("larger than 64 KiB");
    assert!(!sb.has_branch(&dir));
}

/// G1: a branch checked out in another worktree is not moved (git refuses it too): that
/// worktree's index would revert the fixes.
#[test]
fn a_branch_checked_out_in_another_worktree_is_left_alone() {
    let sb = Sandbox::new();
    let dir = sb.app();
    sb.git(&dir, &["branch", BRANCH]);
    let before = sb.branch_tip(&dir);
    let other = sb.path().join("other");
    sb.git(
        &dir,
        &[
            "worktree",
            "add",
            "-q",
            other.to_str().expect("UTF-8"),
            BRANCH,
        ],
    );
    let run = sb.unroot_branch(&dir, &[]);
    run.assert_code(2);
    run.assert_in_stderr("is checked out in the worktree at");
    assert_eq!(sb.branch_tip(&dir), before);
    assert_eq!(
        fs::read_to_string(other.join("Dockerfile")).expect("read"),
        ROOT
    );
}

/// What a hostile repository's own git configuration cannot make unroot run: hooks (commit
/// and push), clean/smudge filters, fsmonitor, credential helpers of its config.
#[test]
fn repository_hooks_filters_and_helpers_are_never_run() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new();
    let dir = sb.app();
    let (bare, url) = sb.bare("remote.git");
    sb.git(&dir, &["remote", "add", "origin", &url]);
    let marker = sb.path().join("ran");
    let touch = format!("touch {}", marker.display());
    for hook in [
        "pre-commit",
        "prepare-commit-msg",
        "commit-msg",
        "post-commit",
        "pre-push",
        "reference-transaction",
        "post-rewrite",
    ] {
        // The remote's own hooks are a push's business: a local remote with hooks is refused
        // (a_local_remote_whose_hooks_a_push_would_skip_is_refused).
        let path = dir.join(".git/hooks").join(hook);
        fs::write(&path, format!("#!/bin/sh\n{touch}\n")).expect("hook");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    sb.commit_files(&dir, &[(".gitattributes", "* filter=evil\n")], "attributes");
    for (key, value) in [
        ("filter.evil.clean", touch.as_str()),
        ("filter.evil.smudge", touch.as_str()),
        ("core.fsmonitor", touch.as_str()),
        ("credential.helper", &format!("!{touch}; false")),
        ("core.sshCommand", touch.as_str()),
    ] {
        sb.git(&dir, &["config", key, value]);
    }
    // git itself ran them when it committed the attributes: they work. Start clean.
    assert!(marker.exists(), "the hooks do run under git");
    fs::remove_file(&marker).expect("remove the marker");
    let run = sb.unroot_branch(&dir, &["--push"]);
    run.assert_code(0);
    assert!(sb.has_branch(&bare), "{}", run.all());
    assert!(
        !marker.exists(),
        "something of the repository ran: {}",
        run.all()
    );
}
