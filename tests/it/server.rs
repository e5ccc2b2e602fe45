//! `unroot server` through a JSON-RPC client of our own: the binary is spawned and spoken to
//! over its standard input and output, as an editor does.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{self, Dir};

/// How long the client waits for one message before it calls the server stuck (a bound,
/// not a measured time: a working server answers in milliseconds).
const PATIENCE: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Notifications that arrived while a response was awaited.
    queued: Vec<Value>,
    next_id: i64,
    /// What the client answers to `workspace/configuration`.
    configuration: Value,
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl Client {
    /// Starts `unroot server` in `dir` and initializes it with `capabilities` and
    /// `initializationOptions`.
    fn start(dir: &Path, capabilities: Value, options: Value) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_unroot"))
            .arg("server")
            .env("UNROOT_TODAY", common::TODAY)
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start unroot server");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            queued: Vec::new(),
            next_id: 0,
            configuration: Value::Null,
        };
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": null,
                "capabilities": capabilities,
                "initializationOptions": options,
            }),
        );
        assert_eq!(result["serverInfo"]["name"], "unroot");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = serde_json::to_string(&message).expect("JSON");
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .and_then(|()| self.stdin.flush())
            .expect("write to the server");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn next(&mut self) -> Value {
        let message = self
            .messages
            .recv_timeout(PATIENCE)
            .expect("the server answers");
        // Requests from the server are answered as an editor would.
        if let (Some(id), Some(method)) = (message.get("id"), message["method"].as_str()) {
            let result = match method {
                "workspace/configuration" => json!([self.configuration]),
                _ => Value::Null,
            };
            let id = id.clone();
            self.send(json!({"jsonrpc": "2.0", "id": id, "result": result}));
        }
        message
    }

    /// Sends a request and returns its result (a response error fails the test).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.next();
            if message.get("method").is_none() && message["id"] == id {
                assert!(message.get("error").is_none(), "{method}: {message}");
                return message["result"].clone();
            }
            if message.get("id").is_none() {
                self.queued.push(message);
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let is_for = |message: &Value| {
            message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
        };
        if let Some(at) = self.queued.iter().position(is_for) {
            let message = self.queued.remove(at);
            return message["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        loop {
            let message = self.next();
            if is_for(&message) {
                return message["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            if message.get("id").is_none() {
                self.queued.push(message);
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "dockerfile", "version": 1, "text": text}}),
        );
        self.diagnostics(uri)
    }

    fn change(&mut self, uri: &str, version: i32, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
        self.diagnostics(uri)
    }

    fn code_actions(&mut self, uri: &str, range: &Value, only: Option<&str>) -> Vec<Value> {
        let mut context = json!({"diagnostics": []});
        if let Some(kind) = only {
            context["only"] = json!([kind]);
        }
        self.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range, "context": context}),
        )
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// Shuts the server down; it must exit with status 0.
    fn shutdown(mut self) {
        let result = self.request("shutdown", Value::Null);
        assert_eq!(result, Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("wait for the server");
        assert!(status.success(), "{status}");
    }
}

/// The client capabilities of an editor that offers UTF-8 positions, or only UTF-16 ones.
fn capabilities(utf8: bool) -> Value {
    let encodings = if utf8 {
        json!(["utf-16", "utf-8"])
    } else {
        json!(["utf-16"])
    };
    json!({
        "general": {"positionEncodings": encodings},
        "workspace": {"configuration": true, "didChangeWatchedFiles": {"dynamicRegistration": true}},
    })
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Applies the `changes` of a WorkspaceEdit for `uri` to `text` (positions in `utf8` or UTF-16
/// units), as an editor does: all edits against the original text.
fn apply(text: &str, edit: &Value, uri: &str, utf8: bool) -> String {
    let edits = edit["changes"][uri].as_array().expect("edits for the file");
    let offset = |position: &Value| {
        let line = position["line"].as_u64().unwrap() as usize;
        let character = position["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0;
        for (at, c) in text[start..].char_indices() {
            if units >= character || c == '\n' {
                return start + at;
            }
            units += if utf8 { c.len_utf8() } else { c.len_utf16() };
        }
        text.len()
    };
    let mut spans: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|edit| {
            (
                offset(&edit["range"]["start"]),
                offset(&edit["range"]["end"]),
                edit["newText"].as_str().unwrap(),
            )
        })
        .collect();
    spans.sort_by_key(|(start, end, _)| (*start, *end));
    let mut out = String::new();
    let mut at = 0;
    for (start, end, new) in spans {
        out.push_str(&text[at..start]);
        out.push_str(new);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

fn range(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({"start": {"line": start.0, "character": start.1}, "end": {"line": end.0, "character": end.1}})
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("-"))
        .collect()
}

fn titled<'a>(actions: &'a [Value], title: &str) -> &'a Value {
    actions
        .iter()
        .find(|action| action["title"] == title)
        .unwrap_or_else(|| panic!("no action `{title}` in {actions:#?}"))
}

const APP: &str =
    "FROM node:22.11.0-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n";
const APP_FIXED: &str = "FROM node:22.11.0-alpine\nWORKDIR /app\nCOPY . .\nRUN npm ci\nUSER node\nCMD [\"node\", \"server.js\"]\n";

#[test]
fn diagnostics_quick_fix_ignore_and_fix_all() {
    let dir = Dir::new();
    let path = dir.file("Dockerfile", APP);
    let uri = uri(&path);
    let mut client = Client::start(dir.root(), capabilities(false), Value::Null);

    let diagnostics = client.open(&uri, APP);
    assert_eq!(codes(&diagnostics), ["root-user"], "{diagnostics:#?}");
    let root_user = &diagnostics[0];
    assert_eq!(root_user["severity"], 2);
    assert_eq!(root_user["source"], "unroot");
    assert_eq!(
        root_user["codeDescription"]["href"],
        "https://github.com/unroot/unroot/blob/main/docs/rules/root-user.md"
    );
    // The final stage's FROM line.
    assert_eq!(root_user["range"], range((0, 0), (0, 24)), "{root_user:#}");

    // The quick fix, and unroot's pragma (the file uses no other tool's).
    let actions = client.code_actions(&uri, &root_user["range"], Some("quickfix"));
    let titles: Vec<&str> = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "unroot (root-user): add `USER node` after the last build step",
            "unroot (root-user): ignore this finding with `# unroot ignore=root-user`",
        ]
    );
    assert_eq!(actions[0]["isPreferred"], true);
    let fixed = apply(APP, &actions[0]["edit"], &uri, false);
    assert_eq!(fixed, APP_FIXED);
    let ignored = apply(APP, &actions[1]["edit"], &uri, false);
    // Above the instruction the finding belongs to: the final stage's FROM.
    assert_eq!(ignored, format!("# unroot ignore=root-user\n{APP}"));

    // Fix-all, asked for by its kind; then the fixed text has nothing left.
    let all = client.code_actions(&uri, &range((0, 0), (0, 0)), Some("source.fixAll"));
    let fix_all = titled(&all, "unroot: fix all safe problems");
    assert_eq!(fix_all["kind"], "source.fixAll.unroot");
    assert_eq!(apply(APP, &fix_all["edit"], &uri, false), APP_FIXED);
    assert!(client.change(&uri, 2, APP_FIXED).is_empty());
    assert!(client
        .code_actions(&uri, &range((0, 0), (5, 0)), None)
        .is_empty());

    // Hover on a finding shows the rule's documentation.
    assert!(client.change(&uri, 3, &ignored).is_empty());
    assert_eq!(client.change(&uri, 4, APP).len(), 1);
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}}),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.starts_with("**unroot `root-user`**"), "{text}");
    assert!(text.contains("## What it does"), "{text}");

    // Saving checks again (and publishes).
    client.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(codes(&client.diagnostics(&uri)), ["root-user"]);
    client.shutdown();
}

#[test]
fn unsafe_fixes_are_labelled_and_never_in_fix_all() {
    let source = "FROM node:22.11.0-alpine\nRUN npm ci\nUSER node\nEXPOSE 80\nCMD [\"node\", \"server.js\"]\n";
    let dir = Dir::new();
    let uri = uri(&dir.file("Dockerfile", source));
    let mut client = Client::start(dir.root(), capabilities(true), Value::Null);
    let diagnostics = client.open(&uri, source);
    assert_eq!(codes(&diagnostics), ["privileged-port"], "{diagnostics:#?}");
    let actions = client.code_actions(&uri, &diagnostics[0]["range"], None);
    let fix = &actions[0];
    let title = fix["title"].as_str().unwrap();
    assert!(
        title.starts_with("unroot (privileged-port, unsafe fix): "),
        "{actions:#?}"
    );
    assert_eq!(fix["isPreferred"], false);
    assert!(apply(source, &fix["edit"], &uri, true).contains("EXPOSE 8080"));
    assert!(
        !actions.iter().any(|a| a["kind"] == "source.fixAll.unroot"),
        "an unsafe fix is all there is: no fix-all: {actions:#?}"
    );
    client.shutdown();
}

#[test]
fn columns_are_utf16_or_utf8_as_negotiated() {
    // The port fix edits `80` in the ENV line, after `é` (2 bytes, 1 UTF-16 unit) and `😀`
    // (4 bytes, 2 units): column 21 in UTF-8, 18 in UTF-16.
    let source = "FROM node:22.11.0-alpine\nENV NOTE=é😀 PORT=80\nUSER node\nEXPOSE $PORT\nCMD [\"node\", \"x.js\"]\n";
    let dir = Dir::new();
    let uri = uri(&dir.file("Dockerfile", source));
    for (utf8, column) in [(false, 18), (true, 21)] {
        let mut client = Client::start(dir.root(), capabilities(utf8), Value::Null);
        let diagnostics = client.open(&uri, source);
        assert_eq!(codes(&diagnostics), ["privileged-port"], "{diagnostics:#?}");
        let actions = client.code_actions(&uri, &diagnostics[0]["range"], Some("quickfix"));
        let edits = actions[0]["edit"]["changes"][&uri].as_array().unwrap();
        let on_env: Vec<&Value> = edits
            .iter()
            .filter(|edit| edit["range"]["start"]["line"] == 1)
            .collect();
        assert_eq!(on_env.len(), 1, "{edits:#?}");
        assert_eq!(on_env[0]["range"], range((1, column), (1, column + 2)));
        assert_eq!(on_env[0]["newText"], "8080");
        let fixed = apply(source, &actions[0]["edit"], &uri, utf8);
        assert!(fixed.contains("\nENV NOTE=é😀 PORT=8080\n"), "{fixed}");
        client.shutdown();
    }
}

#[test]
fn an_unparseable_file_is_one_error_and_the_server_goes_on() {
    let broken = "FROM node:22.11.0-alpine\nRUN <<EOF\necho hi\n";
    let dir = Dir::new();
    let uri = uri(&dir.file("Dockerfile", broken));
    let mut client = Client::start(dir.root(), capabilities(false), Value::Null);
    let diagnostics = client.open(&uri, broken);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["severity"], 1);
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 1);
    assert!(client
        .code_actions(&uri, &range((0, 0), (3, 0)), None)
        .is_empty());
    // Fixed by typing: the server is still there and checks again.
    assert_eq!(codes(&client.change(&uri, 2, APP)), ["root-user"]);
    client.shutdown();
}

#[test]
fn configuration_reloads_and_editor_settings_override_it() {
    let dir = Dir::new();
    let uri = uri(&dir.file("app/Dockerfile", APP));
    let mut client = Client::start(dir.root(), capabilities(false), Value::Null);
    assert_eq!(codes(&client.open(&uri, APP)), ["root-user"]);

    // A new unroot.toml above the file: the watched-file notification rechecks it.
    dir.file("unroot.toml", "ignore = [\"root-user\"]\n");
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri_of(&dir, "unroot.toml"), "type": 1}]}),
    );
    assert!(client.diagnostics(&uri).is_empty());

    // A broken one is an error on the file, not a crash.
    dir.file("unroot.toml", "ignore = [\"no-such-rule\"]\n");
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": []}));
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(diagnostics.len(), 1);
    assert!(diagnostics[0]["message"]
        .as_str()
        .unwrap()
        .contains("no-such-rule"));

    // Editor settings (the workspace configuration's `unroot` section) win over the file.
    dir.file("unroot.toml", "ignore = [\"root-user\"]\n");
    client.configuration = json!({"select": ["root-user"], "ignore": [], "user": "app"});
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(codes(&diagnostics), ["root-user"]);
    let actions = client.code_actions(&uri, &diagnostics[0]["range"], Some("quickfix"));
    assert!(apply(APP, &actions[0]["edit"], &uri, false).contains("\nUSER app\n"));
    client.shutdown();
}

#[test]
fn uid_is_an_editor_setting() {
    let source = "FROM alpine:3.20\nRUN apk add --no-cache nodejs npm\nCOPY . /app\nCMD [\"node\", \"/app/server.js\"]\n";
    let dir = Dir::new();
    let uri = uri(&dir.file("Dockerfile", source));
    let mut client = Client::start(dir.root(), capabilities(false), json!({"uid": 4242}));
    let diagnostics = client.open(&uri, source);
    assert_eq!(codes(&diagnostics), ["root-user"]);
    let actions = client.code_actions(&uri, &diagnostics[0]["range"], Some("quickfix"));
    let fixed = apply(source, &actions[0]["edit"], &uri, false);
    assert!(
        fixed.contains("addgroup -S -g 4242 app && adduser -S -D -u 4242 -G app"),
        "{fixed}"
    );
    // As `numeric-user` in the workspace configuration, and `uid` wins over unroot.toml's.
    dir.file("unroot.toml", "uid = 5000\n");
    client.configuration = json!({"uid": 4343, "numeric-user": true});
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": null}),
    );
    let diagnostics = client.diagnostics(&uri);
    let actions = client.code_actions(&uri, &diagnostics[0]["range"], Some("quickfix"));
    let fixed = apply(source, &actions[0]["edit"], &uri, false);
    assert!(fixed.contains("USER 4343:4343\n"), "{fixed}");
    client.shutdown();
}

#[test]
fn digest_pins_do_not_ask_the_network_unless_allowed() {
    // `pin = "digest"` with the network off (the default): pinned as `exact`, no lookup (the
    // registry named does not exist, so a lookup would fail the fix).
    let source = "FROM node:lts-alpine\nUSER node\nCMD [\"node\", \"x.js\"]\n";
    let dir = Dir::new();
    dir.file("unroot.toml", "pin = \"digest\"\n");
    let uri = uri(&dir.file("Dockerfile", source));
    let mut client = Client::start(
        dir.root(),
        capabilities(false),
        json!({"registry": "http://127.0.0.1:9"}),
    );
    let diagnostics = client.open(&uri, source);
    assert_eq!(codes(&diagnostics), ["floating-tag"]);
    let actions = client.code_actions(&uri, &diagnostics[0]["range"], Some("quickfix"));
    let fixed = apply(source, &actions[0]["edit"], &uri, false);
    let pinned = fixed.lines().next().unwrap();
    assert!(
        pinned.starts_with("FROM node:2") && pinned.ends_with("-alpine") && !pinned.contains('@'),
        "{fixed}"
    );
    client.shutdown();
}

#[test]
fn digest_lookups_run_on_their_own_thread_when_the_network_is_on() {
    // The registry is a closed port of 127.0.0.1: the lookup fails at once, without leaving
    // the machine.
    let source = "FROM node:lts-alpine\nUSER node\nCMD [\"node\", \"x.js\"]\n";
    let dir = Dir::new();
    dir.file("unroot.toml", "pin = \"digest\"\n");
    let uri = uri(&dir.file("Dockerfile", source));
    let mut client = Client::start(
        dir.root(),
        capabilities(false),
        json!({"network": true, "registry": "http://127.0.0.1:9", "timeout": 5}),
    );
    // At once: the check without the network, pinned as `exact`.
    let first = client.open(&uri, source);
    assert_eq!(codes(&first), ["floating-tag"]);
    let message = first[0]["message"].as_str().unwrap();
    assert!(!message.contains("digest lookup failed"), "{message}");
    // Then the lookup's answer: it failed, so nothing is pinned and there is no fix.
    let second = client.diagnostics(&uri);
    assert_eq!(codes(&second), ["floating-tag"]);
    let message = second[0]["message"].as_str().unwrap();
    assert!(message.contains("the digest lookup failed"), "{message}");
    let actions = client.code_actions(&uri, &second[0]["range"], Some("quickfix"));
    assert!(
        actions.iter().all(|action| action["title"]
            .as_str()
            .unwrap()
            .contains("ignore this finding")),
        "{actions:#?}"
    );
    client.shutdown();
}

#[test]
fn server_is_in_help() {
    let run = common::run_in(Path::new("."), &["--help"]);
    assert!(run.stdout.contains("server"), "{}", run.stdout);
    let run = common::run_in(Path::new("."), &["--write", "server"]);
    assert_eq!(run.code, 2, "{run:?}");
}

fn uri_of(dir: &Dir, name: &str) -> String {
    uri(&dir.path(name))
}
