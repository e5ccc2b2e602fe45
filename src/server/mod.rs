//! `unroot server`: the Language Server Protocol over standard input and output. Diagnostics
//! on open, change and save, a quick fix and "ignore" pragmas per finding, `source.fixAll.unroot`
//! for every safe fix, and the rule's documentation on hover.
//!
//! Synchronous, as rust-analyzer is (`lsp-server`): one thread handles the messages in order.
//! Each check goes through the library's check API ([`check_bytes`]) with the settings the
//! [`Resolver`] finds for the file, resolved afresh on every check (a few `stat`s and one small
//! TOML file), so an edited `unroot.toml` applies from the next check on; when the client can
//! watch files, a change to one rechecks every open document at once. `pin = "digest"` asks a
//! registry only when the editor turns `network` on, and then on a worker thread: the
//! diagnostics come at once with the tag pinned as `exact`, and again with the digest when the
//! lookup is done (each answer is cached for the session).

mod position;
mod pragma;
mod settings;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOptions, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, CodeDescription, Diagnostic, DiagnosticSeverity,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, Hover, HoverContents, HoverParams, HoverProviderCapability,
    InitializeParams, InitializeResult, MarkupContent, MarkupKind, NumberOrString,
    PublishDiagnosticsParams, SaveOptions, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, TextEdit, Url, WorkspaceEdit,
};
use serde_json::{json, Value};

use crate::edit::{Applicability, Edit};
use crate::fs::discover::is_dockerfile_name;
use crate::linter::{check_bytes, Error, LintOptions};
use crate::rules::{find_rule, Finding, Pin};
use crate::settings::Resolver;
use crate::sources::registry::{RegistryResolver, DEFAULT_TIMEOUT};
use crate::syntax::{parse, Span};
use position::Encoding;
use settings::EditorSettings;

/// The code action kind of "apply every safe fix".
pub const FIX_ALL_KIND: &str = "source.fixAll.unroot";

/// Serves one client on standard input and output until it says `exit` or hangs up.
pub fn run() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let served = serve(&connection);
    // The writer thread ends when the last sender is gone.
    drop(connection);
    io_threads
        .join()
        .map_err(|err| format!("unroot server: {err}"))?;
    served
}

fn serve(connection: &Connection) -> Result<(), String> {
    let protocol = |err: lsp_server::ProtocolError| format!("unroot server: {err}");
    let (id, params) = connection.initialize_start().map_err(protocol)?;
    let params: InitializeParams = serde_json::from_value(params)
        .map_err(|err| format!("unroot server: initialize: {err}"))?;
    let encoding = Encoding::negotiate(
        params
            .capabilities
            .general
            .as_ref()
            .and_then(|general| general.position_encodings.as_deref()),
    );
    let result = InitializeResult {
        capabilities: capabilities(encoding),
        server_info: Some(ServerInfo {
            name: "unroot".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|err| err.to_string())?;
    connection.initialize_finish(id, result).map_err(protocol)?;

    let workspace = params.capabilities.workspace.as_ref();
    let mut server = Server {
        connection,
        encoding,
        settings: EditorSettings::default(),
        documents: HashMap::new(),
        pulls_configuration: workspace.and_then(|w| w.configuration) == Some(true),
        configuration_requests: Vec::new(),
        next_request: 0,
        registry: None,
        worker: None,
    };
    server.set_settings(params.initialization_options.as_ref());
    let watches = workspace
        .and_then(|w| w.did_change_watched_files)
        .and_then(|w| w.dynamic_registration)
        == Some(true);
    if watches {
        server.request(
            "client/registerCapability",
            json!({"registrations": [{
                "id": "unroot-configuration-files",
                "method": "workspace/didChangeWatchedFiles",
                "registerOptions": {"watchers": [
                    {"globPattern": "**/unroot.toml"},
                    {"globPattern": "**/.unroot.toml"},
                ]},
            }]}),
        );
    }
    server.pull_configuration();
    server.main_loop()
}

fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::new(FIX_ALL_KIND),
            ]),
            ..CodeActionOptions::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    }
}

struct Document {
    text: String,
    version: i32,
    /// `None` for a document that is not a file (`untitled:`).
    path: Option<PathBuf>,
    dockerfile: bool,
    /// The last check of this text.
    checked: Option<Checked>,
}

/// One check of a document's text.
#[derive(Clone, Debug, Default)]
struct Checked {
    version: i32,
    findings: Vec<Finding>,
    /// One per finding, in the same order.
    finding_diagnostics: Vec<Diagnostic>,
    /// Why the file could not be checked (it does not parse, its configuration is broken).
    problems: Vec<Diagnostic>,
    /// The text with every safe fix applied.
    fixed: String,
}

impl Checked {
    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.problems
            .iter()
            .chain(&self.finding_diagnostics)
            .cloned()
            .collect()
    }
}

/// A check that asks a registry, for the worker thread.
struct Lookup {
    uri: Url,
    version: i32,
    text: String,
    path: PathBuf,
    options: LintOptions,
}

struct Looked {
    uri: Url,
    checked: Checked,
}

struct Worker {
    jobs: Sender<Lookup>,
    done: Receiver<Looked>,
}

struct Server<'a> {
    connection: &'a Connection,
    encoding: Encoding,
    settings: EditorSettings,
    documents: HashMap<Url, Document>,
    pulls_configuration: bool,
    /// Ids of our `workspace/configuration` requests not answered yet.
    configuration_requests: Vec<RequestId>,
    next_request: i32,
    /// One digest resolver for the session (each answer cached), made when first needed.
    registry: Option<Arc<RegistryResolver>>,
    worker: Option<Worker>,
}

impl Server<'_> {
    fn main_loop(&mut self) -> Result<(), String> {
        loop {
            let never = crossbeam_channel::never();
            let done = self.worker.as_ref().map_or(&never, |worker| &worker.done);
            crossbeam_channel::select! {
                recv(self.connection.receiver) -> message => {
                    let Ok(message) = message else { return Ok(()) };
                    match message {
                        Message::Request(request) => {
                            let shutdown = self
                                .connection
                                .handle_shutdown(&request)
                                .map_err(|err| format!("unroot server: {err}"))?;
                            if shutdown {
                                return Ok(());
                            }
                            self.on_request(request);
                        }
                        Message::Notification(notification) => {
                            if notification.method == "exit" {
                                return Ok(());
                            }
                            self.on_notification(notification);
                        }
                        Message::Response(response) => self.on_response(response),
                    }
                }
                recv(done) -> looked => {
                    if let Ok(looked) = looked {
                        self.on_looked(looked);
                    }
                }
            }
        }
    }

    fn send(&self, message: impl Into<Message>) {
        // The client is gone when this fails: the loop ends at the next receive.
        let _ = self.connection.sender.send(message.into());
    }

    fn notify(&self, method: &str, params: impl serde::Serialize) {
        self.send(Notification::new(method.to_string(), params));
    }

    fn request(&mut self, method: &str, params: Value) -> RequestId {
        self.next_request += 1;
        let id = RequestId::from(format!("unroot-{}", self.next_request));
        self.send(Request::new(id.clone(), method.to_string(), params));
        id
    }

    fn show_error(&self, message: &str) {
        self.notify("window/showMessage", json!({"type": 1, "message": message}));
    }

    fn on_request(&mut self, request: Request) {
        let id = request.id.clone();
        let response = match request.method.as_str() {
            "textDocument/codeAction" => match serde_json::from_value(request.params) {
                Ok(params) => Response::new_ok(id, self.code_actions(params)),
                Err(err) => invalid_params(id, &err),
            },
            "textDocument/hover" => match serde_json::from_value(request.params) {
                Ok(params) => Response::new_ok(id, self.hover(params)),
                Err(err) => invalid_params(id, &err),
            },
            method => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("unroot server does not handle `{method}`"),
            ),
        };
        self.send(response);
    }

    fn on_notification(&mut self, notification: Notification) {
        let params = notification.params;
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                if let Ok(DidOpenTextDocumentParams { text_document }) =
                    serde_json::from_value(params)
                {
                    let path = text_document.uri.to_file_path().ok();
                    let named = path
                        .as_ref()
                        .and_then(|path| path.file_name())
                        .is_some_and(|name| is_dockerfile_name(&name.to_string_lossy()));
                    let language = text_document.language_id.to_ascii_lowercase();
                    let document = Document {
                        text: text_document.text,
                        version: text_document.version,
                        path,
                        dockerfile: named
                            || language == "dockerfile"
                            || language == "containerfile",
                        checked: None,
                    };
                    self.documents.insert(text_document.uri.clone(), document);
                    self.check(&text_document.uri);
                }
            }
            "textDocument/didChange" => {
                if let Ok(DidChangeTextDocumentParams {
                    text_document,
                    content_changes,
                }) = serde_json::from_value(params)
                {
                    if let Some(document) = self.documents.get_mut(&text_document.uri) {
                        // Full synchronisation: the last change is the whole text.
                        if let Some(change) = content_changes.into_iter().last() {
                            document.text = change.text;
                            document.version = text_document.version;
                            document.checked = None;
                        }
                    }
                    self.check(&text_document.uri);
                }
            }
            "textDocument/didSave" => {
                if let Ok(DidSaveTextDocumentParams { text_document, .. }) =
                    serde_json::from_value(params)
                {
                    // Checked again: the configuration may have changed unwatched.
                    if let Some(document) = self.documents.get_mut(&text_document.uri) {
                        document.checked = None;
                    }
                    self.check(&text_document.uri);
                }
            }
            "textDocument/didClose" => {
                if let Ok(DidCloseTextDocumentParams { text_document }) =
                    serde_json::from_value(params)
                {
                    if self.documents.remove(&text_document.uri).is_some() {
                        self.publish(&text_document.uri, None, Vec::new());
                    }
                }
            }
            "workspace/didChangeConfiguration" => {
                let settings = params.get("settings").cloned().unwrap_or(Value::Null);
                if settings.is_null() || settings.as_object().is_some_and(|map| map.is_empty()) {
                    self.pull_configuration();
                } else {
                    self.set_settings(Some(&settings));
                    self.check_all();
                }
            }
            // A configuration file changed: it is read again at each check.
            "workspace/didChangeWatchedFiles" => self.check_all(),
            _ => {}
        }
    }

    fn on_response(&mut self, response: Response) {
        let Some(at) = self
            .configuration_requests
            .iter()
            .position(|id| *id == response.id)
        else {
            return;
        };
        self.configuration_requests.remove(at);
        // One item asked: the `unroot` section; `null` keeps the settings there are.
        if let Some(section) = response
            .response_result
            .as_ref()
            .ok()
            .and_then(|result| result.get(0))
            .filter(|section| !section.is_null())
        {
            self.set_settings(Some(section));
            self.check_all();
        }
    }

    fn pull_configuration(&mut self) {
        if self.pulls_configuration {
            let id = self.request(
                "workspace/configuration",
                json!({"items": [{"section": "unroot"}]}),
            );
            self.configuration_requests.push(id);
        }
    }

    fn set_settings(&mut self, value: Option<&Value>) {
        match EditorSettings::from_json(value.unwrap_or(&Value::Null)) {
            Ok(settings) => {
                self.settings = settings;
                self.registry = None;
            }
            Err(message) => self.show_error(&message),
        }
    }

    fn check_all(&mut self) {
        let uris: Vec<Url> = self.documents.keys().cloned().collect();
        for uri in uris {
            if let Some(document) = self.documents.get_mut(&uri) {
                document.checked = None;
            }
            self.check(&uri);
        }
    }

    /// Checks a document (unless its check is current) and publishes the diagnostics.
    fn check(&mut self, uri: &Url) {
        let Some(document) = self.documents.get(uri) else {
            return;
        };
        if !document.dockerfile || document.checked.is_some() {
            return;
        }
        let (text, path, version) = (
            document.text.clone(),
            document.path.clone(),
            document.version,
        );
        let (checked, lookup) = self.check_now(uri, text, path, version);
        let diagnostics = checked.diagnostics();
        let version = checked.version;
        if let Some(document) = self.documents.get_mut(uri) {
            document.checked = Some(checked);
        }
        self.publish(uri, Some(version), diagnostics);
        if let Some(lookup) = lookup {
            let worker = self
                .worker
                .get_or_insert_with(|| spawn_worker(self.encoding));
            let _ = worker.jobs.send(lookup);
        }
    }

    /// Checks `document` without the network; also the lookup to make when its settings pin
    /// digests and the editor lets the server ask registries.
    fn check_now(
        &mut self,
        uri: &Url,
        text: String,
        path: Option<PathBuf>,
        version: i32,
    ) -> (Checked, Option<Lookup>) {
        let path = path.unwrap_or_else(|| PathBuf::from("Dockerfile"));
        let text = &text;
        let resolver = Resolver::new(self.settings.overrides.clone(), None);
        let settings = match resolver.for_file(&path) {
            Ok(settings) => settings,
            Err(message) => {
                let problem = problem(text, 1, 1, message, self.encoding);
                return (
                    Checked {
                        version,
                        problems: vec![problem],
                        fixed: text.clone(),
                        ..Checked::default()
                    },
                    None,
                );
            }
        };
        if resolver.excluded(&path) {
            return (
                Checked {
                    version,
                    fixed: text.clone(),
                    ..Checked::default()
                },
                None,
            );
        }
        let mut options = settings.lint.clone();
        let pins_digests = options.registry.take().is_some();
        let lookup = (pins_digests && self.settings.network).then(|| {
            let registry = self
                .registry
                .get_or_insert_with(|| {
                    Arc::new(RegistryResolver::new(
                        self.settings.overrides.registry.clone(),
                        self.settings
                            .overrides
                            .network_timeout
                            .unwrap_or(DEFAULT_TIMEOUT),
                    ))
                })
                .clone();
            Lookup {
                uri: uri.clone(),
                version,
                text: text.clone(),
                path: path.clone(),
                options: LintOptions {
                    registry: Some(registry),
                    ..options.clone()
                },
            }
        });
        if pins_digests {
            // Until (or unless) the digest is looked up, the release is pinned as `exact`.
            options.rules.pin = Pin::Exact;
        }
        let checked = check_text(text, &path, version, &options, self.encoding);
        (checked, lookup)
    }

    fn on_looked(&mut self, looked: Looked) {
        let Some(document) = self.documents.get_mut(&looked.uri) else {
            return;
        };
        if document.version != looked.checked.version {
            return;
        }
        let diagnostics = looked.checked.diagnostics();
        let version = looked.checked.version;
        document.checked = Some(looked.checked);
        self.publish(&looked.uri, Some(version), diagnostics);
    }

    fn publish(&self, uri: &Url, version: Option<i32>, diagnostics: Vec<Diagnostic>) {
        self.notify(
            "textDocument/publishDiagnostics",
            PublishDiagnosticsParams {
                uri: uri.clone(),
                diagnostics,
                version,
            },
        );
    }

    /// The document and its current check.
    fn checked(&mut self, uri: &Url) -> Option<(&Document, &Checked)> {
        self.check(uri);
        let document = self.documents.get(uri)?;
        Some((document, document.checked.as_ref()?))
    }

    fn code_actions(&mut self, params: CodeActionParams) -> Vec<CodeActionOrCommand> {
        let encoding = self.encoding;
        let uri = params.text_document.uri;
        let Some((document, checked)) = self.checked(&uri) else {
            return Vec::new();
        };
        let text = &document.text;
        let wanted = |kind: &str| {
            params.context.only.as_ref().is_none_or(|only| {
                only.iter().any(|asked| {
                    let asked = asked.as_str();
                    kind == asked
                        || kind
                            .strip_prefix(asked)
                            .is_some_and(|rest| rest.starts_with('.'))
                })
            })
        };
        let edit = |edits: &[Edit]| WorkspaceEdit {
            changes: Some(HashMap::from([(
                uri.clone(),
                edits
                    .iter()
                    .map(|edit| TextEdit {
                        range: position::range(text, edit.span, encoding),
                        new_text: edit.content.clone(),
                    })
                    .collect(),
            )])),
            ..WorkspaceEdit::default()
        };
        let asked = position::span(text, params.range, encoding);
        let mut actions = Vec::new();
        if wanted(CodeActionKind::QUICKFIX.as_str()) {
            let file = parse(text).ok();
            for (finding, diagnostic) in checked.findings.iter().zip(&checked.finding_diagnostics) {
                let touches = finding.span.start <= asked.end && asked.start <= finding.span.end;
                let listed =
                    params.context.diagnostics.iter().any(|given| {
                        given.range == diagnostic.range && given.code == diagnostic.code
                    });
                if !touches && !listed {
                    continue;
                }
                let action = |title: String, edits: &[Edit], preferred: bool| {
                    CodeActionOrCommand::CodeAction(CodeAction {
                        title,
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(vec![diagnostic.clone()]),
                        edit: Some(edit(edits)),
                        is_preferred: Some(preferred),
                        ..CodeAction::default()
                    })
                };
                if let Some(fix) = &finding.fix {
                    let title = match fix.applicability {
                        Applicability::Safe => format!("unroot ({}): {}", finding.rule, fix.title),
                        Applicability::Unsafe => {
                            format!("unroot ({}, unsafe fix): {}", finding.rule, fix.title)
                        }
                    };
                    actions.push(action(
                        title,
                        &fix.edits,
                        fix.applicability == Applicability::Safe,
                    ));
                }
                for suppression in file
                    .iter()
                    .flat_map(|file| pragma::suppressions(file, finding))
                {
                    actions.push(action(
                        format!(
                            "unroot ({}): ignore this finding with `{}`",
                            finding.rule, suppression.comment
                        ),
                        &[suppression.edit],
                        false,
                    ));
                }
            }
        }
        if wanted(FIX_ALL_KIND) && checked.fixed != *text {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: "unroot: fix all safe problems".to_string(),
                kind: Some(CodeActionKind::new(FIX_ALL_KIND)),
                edit: Some(edit(&[whole_edit(text, &checked.fixed)])),
                ..CodeAction::default()
            }));
        }
        actions
    }

    fn hover(&mut self, params: HoverParams) -> Option<Hover> {
        let encoding = self.encoding;
        let at = params.text_document_position_params;
        let (document, checked) = self.checked(&at.text_document.uri)?;
        let offset = position::offset(&document.text, at.position, encoding);
        let hits: Vec<(&Finding, &Diagnostic)> = checked
            .findings
            .iter()
            .zip(&checked.finding_diagnostics)
            .filter(|(finding, _)| finding.span.start <= offset && offset <= finding.span.end)
            .collect();
        let (_, first) = hits.first()?;
        let value = hits
            .iter()
            .filter_map(|(finding, _)| {
                let rule = find_rule(finding.rule)?;
                Some(format!(
                    "**unroot `{}`**: {}\n\n{}",
                    rule.name,
                    finding.message,
                    rule.doc()
                ))
            })
            .collect::<Vec<_>>()
            .join("\n\n---\n\n");
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            }),
            range: Some(first.range),
        })
    }
}

fn invalid_params(id: RequestId, err: &serde_json::Error) -> Response {
    Response::new_err(id, ErrorCode::InvalidParams as i32, err.to_string())
}

fn spawn_worker(encoding: Encoding) -> Worker {
    let (jobs, job_receiver) = crossbeam_channel::unbounded::<Lookup>();
    let (done_sender, done) = crossbeam_channel::unbounded();
    std::thread::spawn(move || {
        while let Ok(first) = job_receiver.recv() {
            // Only the newest text of each document is worth a lookup.
            let mut newest: Vec<Lookup> = Vec::new();
            for job in std::iter::once(first).chain(job_receiver.try_iter()) {
                newest.retain(|queued| queued.uri != job.uri);
                newest.push(job);
            }
            for job in newest {
                let checked = check_text(&job.text, &job.path, job.version, &job.options, encoding);
                if done_sender
                    .send(Looked {
                        uri: job.uri,
                        checked,
                    })
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    Worker { jobs, done }
}

/// One check through the library's check API; the fixes are the safe ones, whatever the
/// configuration says of unsafe ones (those are offered one by one).
fn check_text(
    text: &str,
    path: &std::path::Path,
    version: i32,
    options: &LintOptions,
    encoding: Encoding,
) -> Checked {
    match check_bytes(
        path,
        text.as_bytes().to_vec(),
        options,
        Applicability::Safe,
        false,
    ) {
        Ok(checked) => {
            let report = checked.report;
            let finding_diagnostics = report
                .findings
                .iter()
                .map(|finding| diagnostic(text, finding, encoding))
                .collect();
            Checked {
                version,
                findings: report.findings,
                finding_diagnostics,
                problems: Vec::new(),
                fixed: report.fixed,
            }
        }
        Err(err) => {
            let problem = match err {
                Error::Parse { source, .. } => {
                    problem(text, source.line, source.end_line, source.message, encoding)
                }
                other => problem(text, 1, 1, other.to_string(), encoding),
            };
            Checked {
                version,
                problems: vec![problem],
                fixed: text.to_string(),
                ..Checked::default()
            }
        }
    }
}

/// The page that documents a rule, `docs/rules/<rule>.md` (the diagnostic's
/// `codeDescription`).
pub fn docs_url(rule: &str) -> Option<Url> {
    let rule = crate::rules::find_rule(rule)?;
    Url::parse(&crate::rules::docs::url(rule)).ok()
}

fn diagnostic(text: &str, finding: &Finding, encoding: Encoding) -> Diagnostic {
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push('\n');
        message.push_str(help);
    }
    Diagnostic {
        range: position::range(text, finding.span, encoding),
        severity: Some(DiagnosticSeverity::WARNING),
        code: Some(NumberOrString::String(finding.rule.to_string())),
        code_description: docs_url(finding.rule).map(|href| CodeDescription { href }),
        source: Some("unroot".to_string()),
        message,
        ..Diagnostic::default()
    }
}

/// An error diagnostic over lines `line..=end_line` (1-based).
fn problem(
    text: &str,
    line: usize,
    end_line: usize,
    message: String,
    encoding: Encoding,
) -> Diagnostic {
    let line_start = |line: usize| {
        if line <= 1 {
            return 0;
        }
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(at, _)| at + 1)
    };
    let start = line_start(line);
    let last = line_start(end_line.max(line));
    let end = text[last..]
        .find(['\r', '\n'])
        .map_or(text.len(), |at| last + at);
    Diagnostic {
        range: position::range(text, Span::new(start, end), encoding),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some("unroot".to_string()),
        message,
        ..Diagnostic::default()
    }
}

/// One edit that turns `old` into `new`: the part between their common prefix and suffix, so
/// the rest of the buffer (and the cursor in it) is untouched.
fn whole_edit(old: &str, new: &str) -> Edit {
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let mut suffix = old[prefix..]
        .bytes()
        .rev()
        .zip(new[prefix..].bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    Edit::replace(
        Span::new(prefix, old.len() - suffix),
        &new[prefix..new.len() - suffix],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_edit_covers_only_what_changed() {
        let old = "FROM node:22\nRUN é\nCMD x\n";
        let new = "FROM node:22.1.0\nRUN é\nUSER node\nCMD x\n";
        let edit = whole_edit(old, new);
        let mut applied = old.to_string();
        applied.replace_range(edit.span.start..edit.span.end, &edit.content);
        assert_eq!(applied, new);
        assert!(edit.span.start >= "FROM node:22".len(), "{edit:?}");
        assert_eq!(whole_edit("aé", "aè").span, Span::new(1, 3));
    }

    #[test]
    fn problems_cover_their_lines() {
        let text = "FROM a\nRUN <<EOF\nb\r\n";
        let problem = problem(text, 2, 3, "x".into(), Encoding::Utf16);
        assert_eq!(
            problem.range,
            lsp_types::Range::new(
                lsp_types::Position::new(1, 0),
                lsp_types::Position::new(2, 1)
            )
        );
    }

    #[test]
    fn every_rules_docs_link_is_its_page() {
        for rule in crate::rules::RULES {
            let url = docs_url(rule.name).expect("a URL");
            let page = format!("docs/rules/{}.md", rule.name);
            assert!(
                url.as_str().ends_with(&format!("/blob/main/{page}")),
                "{url}"
            );
            assert!(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(&page)
                    .is_file(),
                "{page} does not exist"
            );
        }
        assert_eq!(docs_url("no-such-rule"), None);
    }
}
