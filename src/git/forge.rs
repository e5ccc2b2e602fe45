//! Pull requests on GitHub and merge requests on GitLab, through their REST APIs.
//!
//! GitHub: `GET /repos/{owner}/{repo}/pulls?head={owner}:{branch}&state=open`, then
//! `POST /repos/{owner}/{repo}/pulls` or `PATCH /repos/{owner}/{repo}/pulls/{number}`.
//! GitLab: `GET /projects/{id}/merge_requests?state=opened&source_branch={branch}`, then
//! `POST /projects/{id}/merge_requests` or `PUT /projects/{id}/merge_requests/{iid}`.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Value};

/// The forge that hosts a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forge {
    /// GitHub or GitHub Enterprise Server: pull requests
    Github,
    /// GitLab (gitlab.com or self-managed): merge requests
    Gitlab,
}

impl Forge {
    /// From the remote's host name: `github.com`, `gitlab.com` and hosts whose name says so.
    /// This only guesses which API to speak; whether a token goes to the host is
    /// [`TokenHosts`]' decision, and a look-alike such as `github.evil.example` gets none.
    pub fn detect(host: &str) -> Option<Forge> {
        let host = host.to_ascii_lowercase();
        if host.split('.').any(|part| part.starts_with("github")) {
            Some(Forge::Github)
        } else if host.split('.').any(|part| part.starts_with("gitlab")) {
            Some(Forge::Gitlab)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Forge::Github => "GitHub",
            Forge::Gitlab => "GitLab",
        }
    }

    /// The environment variables that hold a token, in the order they are read.
    pub fn token_variables(self) -> &'static [&'static str] {
        match self {
            Forge::Github => &["GITHUB_TOKEN", "GH_TOKEN"],
            Forge::Gitlab => &["GITLAB_TOKEN"],
        }
    }

    /// The token from the environment, and the variable it came from.
    pub fn token(self) -> Option<(&'static str, String)> {
        self.token_variables().iter().find_map(|name| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
                .map(|value| (*name, value.trim().to_string()))
        })
    }

    /// The hosts the forge's token goes to without being named: the forge's own.
    pub fn own_hosts(self) -> &'static [&'static str] {
        match self {
            Forge::Github => &["github.com", "api.github.com"],
            Forge::Gitlab => &["gitlab.com"],
        }
    }

    /// The user name that goes with a token when it is used as an https password.
    pub fn token_user(self) -> &'static str {
        match self {
            Forge::Github => "x-access-token",
            Forge::Gitlab => "oauth2",
        }
    }
}

/// The environment variable that names more hosts a token may go to, comma-separated.
pub const TOKEN_HOSTS_VARIABLE: &str = "UNROOT_TOKEN_HOSTS";

/// Where a forge's token may be sent, as Renovate's host rules decide it: to the forge's own
/// hosts (`github.com`, `api.github.com`, `gitlab.com`) and to the hosts the user names
/// (`--token-host`, `UNROOT_TOKEN_HOSTS`, the host of `--api-url`), never to a host because
/// its name looks like a forge's and never to one a repository's files name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenHosts {
    named: Vec<HostEntry>,
}

/// A host the user named, and its port if one was given (`None`: any port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostEntry {
    pub host: String,
    pub port: Option<u16>,
}

impl TokenHosts {
    /// The hosts of `--token-host` (each `HOST`, `HOST:PORT` or a URL), of
    /// `UNROOT_TOKEN_HOSTS` (`env`) and of `--api-url`.
    pub fn from_user(
        flags: &[String],
        env: Option<&str>,
        api_url: Option<&str>,
    ) -> Result<TokenHosts, String> {
        let mut named = Vec::new();
        for flag in flags {
            named.push(parse_host_entry(flag).map_err(|error| format!("--token-host {error}"))?);
        }
        for entry in env.unwrap_or("").split(',').map(str::trim) {
            if !entry.is_empty() {
                named.push(
                    parse_host_entry(entry)
                        .map_err(|error| format!("{TOKEN_HOSTS_VARIABLE}: {error}"))?,
                );
            }
        }
        if let Some(api) = api_url {
            let (_, host, port) = split_url(api).ok_or_else(|| {
                format!("--api-url `{api}` is not an http:// or https:// URL with a host")
            })?;
            named.push(HostEntry {
                host: normalize_host(&host)
                    .ok_or_else(|| format!("--api-url `{api}` does not name a valid host"))?,
                port,
            });
        }
        Ok(TokenHosts { named })
    }

    /// Whether `forge`'s token may go to `host` (port `port`, or the scheme's default).
    pub fn allows(&self, forge: Forge, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let Some(host) = normalize_host(host) else {
            return false;
        };
        if forge.own_hosts().contains(&host.as_str()) {
            return true;
        }
        let port = port.or_else(|| default_port(scheme));
        self.named
            .iter()
            .any(|entry| entry.host == host && (entry.port.is_none() || entry.port == port))
    }
}

/// The port a URL of `scheme` uses when it names none.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Some(443),
        "http" => Some(80),
        "ssh" | "ssh+git" | "git+ssh" => Some(22),
        "git" => Some(9418),
        _ => None,
    }
}

/// A host name as it is compared: lower case, without IPv6 brackets and without the final
/// dot of a fully qualified name (`GitHub.com.` is `github.com`). `None` for anything that is
/// not a host name or an IP address (empty, a wildcard, user info, a path).
pub fn normalize_host(host: &str) -> Option<String> {
    let host = host.trim();
    let host = host
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(host);
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    let valid = !host.is_empty()
        && !host.starts_with(['.', '-'])
        && !host.contains("..")
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'));
    valid.then_some(host)
}

/// `--token-host` and each entry of `UNROOT_TOKEN_HOSTS`: `HOST`, `HOST:PORT`, `[IPv6]:PORT`,
/// or a URL (`https://HOST[:PORT]/…`, whose host and port are taken).
pub fn parse_host_entry(text: &str) -> Result<HostEntry, String> {
    let invalid = || {
        format!("`{text}` is not a host name: give HOST or HOST:PORT (exact names, no wildcards)")
    };
    let text = text.trim();
    let (host, port) = if text.contains("://") {
        let (_, host, port) = split_url(text).ok_or_else(invalid)?;
        (host, port)
    } else if text.contains('@') || text.contains('/') {
        return Err(invalid());
    } else if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(invalid)?;
        let port = match after {
            "" => None,
            port => {
                Some(parse_port(port.strip_prefix(':').ok_or_else(invalid)?).ok_or_else(invalid)?)
            }
        };
        (host.to_string(), port)
    } else if text.matches(':').count() == 1 {
        let (host, port) = text.split_once(':').ok_or_else(invalid)?;
        (
            host.to_string(),
            Some(parse_port(port).ok_or_else(invalid)?),
        )
    } else {
        (text.to_string(), None)
    };
    Ok(HostEntry {
        host: normalize_host(&host).ok_or_else(invalid)?,
        port,
    })
}

fn parse_port(text: &str) -> Option<u16> {
    text.parse::<u16>().ok().filter(|port| *port != 0)
}

/// The scheme, host and port of an absolute URL (`scheme://[user@]host[:port][/…]`).
fn split_url(url: &str) -> Option<(String, String, Option<u16>)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let (host, port) = match host_port.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']')?;
            (host, after.strip_prefix(':').unwrap_or(""))
        }
        None => host_port.split_once(':').unwrap_or((host_port, "")),
    };
    let port = match port {
        "" => None,
        port => Some(parse_port(port)?),
    };
    (!host.is_empty()).then(|| (scheme.to_ascii_lowercase(), host.to_string(), port))
}

/// Why a forge's token is not sent to `host`, and how to allow it.
pub fn withheld_note(forge: Forge, host: &str) -> String {
    format!(
        "the {} token ({}) goes only to {} and to hosts you name: if `{host}` is your {} server, \
         pass --token-host {host} or set {TOKEN_HOSTS_VARIABLE}={host}",
        forge.name(),
        forge.token_variables().join(", "),
        forge
            .own_hosts()
            .iter()
            .map(|host| format!("`{host}`"))
            .collect::<Vec<_>>()
            .join(" and "),
        forge.name()
    )
}

/// A remote URL taken apart: `https://host/owner/repo.git`, `git@host:owner/repo.git`,
/// `ssh://git@host:22/owner/repo.git`, `git://host/owner/repo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteUrl {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    /// The path without leading `/`, trailing `/` and `.git`: `owner/repo`, `group/sub/project`.
    pub path: String,
}

impl RemoteUrl {
    pub fn parse(url: &str) -> Option<RemoteUrl> {
        let url = url.trim();
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => {
                // scp-like `[user@]host:path`: a colon before any slash.
                let colon = url.find(':')?;
                if url[..colon].contains('/') || colon == 0 {
                    return None;
                }
                let host = url[..colon].rsplit('@').next()?;
                return Some(RemoteUrl {
                    scheme: "ssh".to_string(),
                    host: host.trim_matches(['[', ']']).to_string(),
                    port: None,
                    path: clean_path(&url[colon + 1..])?,
                });
            }
        };
        if scheme == "file" {
            return None;
        }
        let (authority, path) = rest.split_once('/')?;
        let host_port = authority.rsplit('@').next()?;
        // `[::1]:8080`, `[::1]`, `host:8080`, `host`.
        let (host, port) = match host_port.strip_prefix('[') {
            Some(rest) => {
                let (host, after) = rest.split_once(']')?;
                (host, after.strip_prefix(':').unwrap_or(""))
            }
            None => host_port.split_once(':').unwrap_or((host_port, "")),
        };
        let port = match port {
            "" => None,
            port => Some(port.parse::<u16>().ok()?),
        };
        if host.is_empty() {
            return None;
        }
        Some(RemoteUrl {
            scheme,
            host: host.trim_matches(['[', ']']).to_string(),
            port,
            path: clean_path(path)?,
        })
    }
}

fn clean_path(path: &str) -> Option<String> {
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    (!path.is_empty()).then(|| path.to_string())
}

/// Where the pull request goes.
pub struct Project {
    pub forge: Forge,
    /// The API root, without a trailing slash: `https://api.github.com`, `https://host/api/v4`.
    pub api: String,
    /// `owner/repo` (GitHub) or the project's full path (GitLab).
    pub path: String,
    /// The token, if one is set and the API's host may have it (a dry run goes without).
    pub token: Option<String>,
    /// The API's host, when it is not one a token may go to ([`TokenHosts`]).
    pub withheld: Option<String>,
    /// The longest an API request may take.
    pub timeout: Duration,
}

impl Project {
    /// From the remote URL, the forge (`--forge` or the host) and `--api-url`; the token goes
    /// along only when `hosts` allows the API's host.
    pub fn new(
        url: &str,
        forge: Option<Forge>,
        api_url: Option<&str>,
        hosts: &TokenHosts,
        timeout: Duration,
    ) -> Result<Project, String> {
        let remote = RemoteUrl::parse(url).ok_or_else(|| {
            format!(
                "cannot tell the repository's owner and name from the remote URL `{url}` \
                 (expected https://HOST/OWNER/REPO or git@HOST:OWNER/REPO)"
            )
        })?;
        let forge = forge.or_else(|| Forge::detect(&remote.host)).ok_or_else(|| {
            format!(
                "cannot tell whether `{}` is GitHub or GitLab: pass --forge github or --forge gitlab \
                 (and --api-url for a self-hosted instance)",
                remote.host
            )
        })?;
        let path = match forge {
            Forge::Github => {
                let parts: Vec<&str> = remote.path.split('/').collect();
                if parts.len() < 2 {
                    return Err(format!(
                        "the remote URL `{url}` does not name OWNER/REPO on GitHub"
                    ));
                }
                parts[parts.len() - 2..].join("/")
            }
            Forge::Gitlab => remote.path.clone(),
        };
        let web_port = match remote.port {
            Some(port) if remote.scheme == "https" || remote.scheme == "http" => {
                format!(":{port}")
            }
            _ => String::new(),
        };
        let api = match (api_url, forge) {
            (Some(api), _) => api.trim_end_matches('/').to_string(),
            (None, Forge::Github) if remote.host.eq_ignore_ascii_case("github.com") => {
                "https://api.github.com".to_string()
            }
            (None, Forge::Github) => format!("https://{}{web_port}/api/v3", remote.host),
            (None, Forge::Gitlab) => format!("https://{}{web_port}/api/v4", remote.host),
        };
        let (scheme, host, port) = split_url(&api)
            .ok_or_else(|| format!("the API root `{api}` is not a URL with a host"))?;
        let allowed = hosts.allows(forge, &scheme, &host, port);
        Ok(Project {
            forge,
            token: allowed
                .then(|| forge.token().map(|(_, token)| token))
                .flatten(),
            withheld: (!allowed).then(|| normalize_host(&host).unwrap_or(host)),
            api,
            path,
            timeout,
        })
    }

    /// `GITHUB_TOKEN or GH_TOKEN`.
    fn token_help(&self) -> String {
        self.forge.token_variables().join(" or ")
    }

    /// Why `--pr` has no token: none is set, or the API's host may not have it.
    pub fn missing_token(&self) -> String {
        match &self.withheld {
            Some(host) => format!(
                "--pr: the {} token is not sent to `{host}` (the API at {}): {}, or give the \
                 API root with --api-url",
                self.forge.name(),
                self.api,
                withheld_note(self.forge, host)
            ),
            None => format!(
                "--pr needs a {} token: set {}",
                self.forge.name(),
                self.token_help()
            ),
        }
    }
}

/// One API request.
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub body: Option<Value>,
}

/// A pull or merge request that is open for the branch.
struct Open {
    number: u64,
    url: String,
    title: String,
    body: String,
}

/// What the forge said.
struct Reply {
    status: u16,
    reason: String,
    /// The `Location` header, for a redirect.
    location: Option<String>,
    json: Value,
}

/// The pull request to open or update.
pub struct PullRequest<'a> {
    pub branch: &'a str,
    pub base: &'a str,
    pub title: &'a str,
    pub body: &'a str,
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

impl Project {
    fn list_request(&self, branch: &str) -> Request {
        let url = match self.forge {
            Forge::Github => {
                let owner = self.path.split('/').next().unwrap_or("");
                format!(
                    "{}/repos/{}/pulls?head={}&state=open",
                    self.api,
                    self.path,
                    encode(&format!("{owner}:{branch}"))
                )
            }
            Forge::Gitlab => format!(
                "{}/projects/{}/merge_requests?state=opened&source_branch={}",
                self.api,
                encode(&self.path),
                encode(branch)
            ),
        };
        Request {
            method: "GET",
            url,
            body: None,
        }
    }

    fn create_request(&self, pr: &PullRequest) -> Request {
        match self.forge {
            Forge::Github => Request {
                method: "POST",
                url: format!("{}/repos/{}/pulls", self.api, self.path),
                body: Some(json!({
                    "title": pr.title,
                    "head": pr.branch,
                    "base": pr.base,
                    "body": pr.body,
                    "maintainer_can_modify": true,
                })),
            },
            Forge::Gitlab => Request {
                method: "POST",
                url: format!(
                    "{}/projects/{}/merge_requests",
                    self.api,
                    encode(&self.path)
                ),
                body: Some(json!({
                    "source_branch": pr.branch,
                    "target_branch": pr.base,
                    "title": pr.title,
                    "description": pr.body,
                    "remove_source_branch": true,
                })),
            },
        }
    }

    fn update_request(&self, number: u64, pr: &PullRequest) -> Request {
        match self.forge {
            Forge::Github => Request {
                method: "PATCH",
                url: format!("{}/repos/{}/pulls/{number}", self.api, self.path),
                body: Some(json!({ "title": pr.title, "body": pr.body })),
            },
            Forge::Gitlab => Request {
                method: "PUT",
                url: format!(
                    "{}/projects/{}/merge_requests/{number}",
                    self.api,
                    encode(&self.path)
                ),
                body: Some(json!({ "title": pr.title, "description": pr.body })),
            },
        }
    }

    /// The headers of every request; the token is shown as `***` unless `reveal`.
    fn headers(&self, reveal: bool) -> Vec<(&'static str, String)> {
        let token = match (&self.token, reveal) {
            (Some(token), true) => token.clone(),
            _ => "***".to_string(),
        };
        match self.forge {
            Forge::Github => vec![
                ("Accept", "application/vnd.github+json".to_string()),
                ("X-GitHub-Api-Version", "2022-11-28".to_string()),
                ("Authorization", format!("Bearer {token}")),
            ],
            Forge::Gitlab => vec![
                ("Accept", "application/json".to_string()),
                ("PRIVATE-TOKEN", token),
            ],
        }
    }

    fn kind(&self) -> &'static str {
        match self.forge {
            Forge::Github => "pull request",
            Forge::Gitlab => "merge request",
        }
    }

    fn reference(&self, number: u64) -> String {
        match self.forge {
            Forge::Github => format!("#{number}"),
            Forge::Gitlab => format!("!{number}"),
        }
    }

    /// `--dry-run`: the pull request's text and the requests that would be sent, with the
    /// token hidden (and the long description shown once, as text).
    pub fn describe(&self, pr: &PullRequest) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "would open or update the {} of `{}`:",
            self.kind(),
            pr.branch
        );
        let _ = writeln!(out, "  title: {}", pr.title);
        let _ = writeln!(out, "  description:");
        for line in pr.body.lines() {
            let _ = writeln!(out, "  | {line}");
        }
        let _ = writeln!(out, "with these requests: first");
        self.describe_request(&mut out, &self.list_request(pr.branch));
        let _ = writeln!(out, "then, when none is open,");
        self.describe_request(&mut out, &self.create_request(pr));
        let _ = writeln!(
            out,
            "or, when one is open and its title or description differ,"
        );
        let update = self.update_request(0, pr);
        let placeholder = match self.forge {
            Forge::Github => "{number}",
            Forge::Gitlab => "{iid}",
        };
        let url = update.url.trim_end_matches('0').to_string() + placeholder;
        self.describe_request(&mut out, &Request { url, ..update });
        if let Some(host) = &self.withheld {
            let _ = writeln!(
                out,
                "note: the real run sends no token to `{host}`: {}",
                withheld_note(self.forge, host)
            );
        } else if self.token.is_none() {
            let _ = writeln!(
                out,
                "note: no token is set; the real run needs {}",
                self.token_help()
            );
        }
        out
    }

    fn describe_request(&self, out: &mut String, request: &Request) {
        let _ = writeln!(out, "  {} {}", request.method, request.url);
        for (name, value) in self.headers(false) {
            let _ = writeln!(out, "  {name}: {value}");
        }
        if let Some(body) = &request.body {
            let mut body = body.clone();
            for key in ["body", "description"] {
                if let Some(value) = body.get_mut(key) {
                    *value = Value::String("(the description above)".to_string());
                }
            }
            let text = serde_json::to_string_pretty(&body).unwrap_or_default();
            for line in text.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
    }

    fn send(&self, agent: &ureq::Agent, request: &Request) -> Result<Reply, String> {
        let uri = request.url.as_str();
        let mut builder = match request.method {
            "POST" => agent.post(uri),
            "PATCH" => agent.patch(uri),
            "PUT" => agent.put(uri),
            _ => {
                let mut get = agent.get(uri);
                for (name, value) in self.headers(true) {
                    get = get.header(name, &value);
                }
                return reply(get.call(), request, self.timeout)
                    .and_then(|reply| self.refuse_redirect(request, reply));
            }
        };
        for (name, value) in self.headers(true) {
            builder = builder.header(name, &value);
        }
        let body = request
            .body
            .as_ref()
            .map(Value::to_string)
            .unwrap_or_default();
        let result = builder
            .header("Content-Type", "application/json")
            .send(body.as_str());
        reply(result, request, self.timeout).and_then(|reply| self.refuse_redirect(request, reply))
    }

    /// A redirect is an error: following it would take the token along (ureq drops
    /// `Authorization` on a redirect, but not GitLab's `PRIVATE-TOKEN`), and the API roots
    /// unroot talks to do not redirect their pull and merge request calls.
    fn refuse_redirect(&self, request: &Request, reply: Reply) -> Result<Reply, String> {
        if !(300..400).contains(&reply.status) {
            return Ok(reply);
        }
        let target = match reply.location.as_deref().map(str::trim) {
            None | Some("") => "without a Location".to_string(),
            Some(location) => match origin(location) {
                Some(to) if Some(&to) == origin(&request.url).as_ref() => {
                    format!("a redirect to {to} (the same origin)")
                }
                Some(to) => format!("a redirect to {to} (another origin)"),
                None => format!(
                    "a redirect to {} (the same origin)",
                    origin(&request.url).unwrap_or_default()
                ),
            },
        };
        Err(format!(
            "{} API: {} {} returned {} {}, {target}: unroot does not follow redirects of API \
             calls, so that the token goes nowhere else; if the API moved, give its new root \
             with --api-url",
            self.forge.name(),
            request.method,
            request.url,
            reply.status,
            reply.reason
        ))
    }

    /// `METHOD URL returned 403 Forbidden: message`.
    fn api_error(&self, request: &Request, reply: &Reply) -> String {
        let mut text = format!(
            "{} API: {} {} returned {} {}",
            self.forge.name(),
            request.method,
            request.url,
            reply.status,
            reply.reason
        );
        let message = error_message(&reply.json);
        if !message.is_empty() {
            text.push_str(": ");
            text.push_str(&message);
        }
        text
    }

    /// Opens the pull request, or updates the one that is open for the branch. Returns what
    /// happened, for the report.
    pub fn open_or_update(&self, pr: &PullRequest) -> Result<String, String> {
        if self.token.is_none() {
            return Err(self.missing_token());
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(self.timeout))
            .user_agent(concat!("unroot/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let list = self.list_request(pr.branch);
        let reply = self.send(&agent, &list)?;
        if reply.status != 200 {
            return Err(self.api_error(&list, &reply));
        }
        let open = reply
            .json
            .as_array()
            .and_then(|items| items.first())
            .and_then(|item| self.open_from(item));
        if let Some(open) = open {
            let same = |a: &str, b: &str| a.replace("\r\n", "\n").trim() == b.trim();
            if same(&open.title, pr.title) && same(&open.body, pr.body) {
                return Ok(format!(
                    "{} {} is up to date: {}",
                    self.kind(),
                    self.reference(open.number),
                    open.url
                ));
            }
            let update = self.update_request(open.number, pr);
            let reply = self.send(&agent, &update)?;
            if reply.status != 200 {
                return Err(self.api_error(&update, &reply));
            }
            return Ok(format!(
                "updated {} {}: {}",
                self.kind(),
                self.reference(open.number),
                open.url
            ));
        }
        let create = self.create_request(pr);
        let reply = self.send(&agent, &create)?;
        if reply.status == 201 {
            let opened = self.open_from(&reply.json).ok_or_else(|| {
                format!(
                    "{} API: {} {}: the reply has no {} number",
                    self.forge.name(),
                    create.method,
                    create.url,
                    self.kind()
                )
            })?;
            return Ok(format!(
                "opened {} {}: {}",
                self.kind(),
                self.reference(opened.number),
                opened.url
            ));
        }
        let message = error_message(&reply.json);
        let exists = match self.forge {
            Forge::Github => reply.status == 422 && message.contains("already exists"),
            Forge::Gitlab => reply.status == 409 && message.contains("already exists"),
        };
        if exists {
            return Ok(format!(
                "a {} for `{}` already exists ({}: {message})",
                self.kind(),
                pr.branch,
                self.forge.name()
            ));
        }
        Err(self.api_error(&create, &reply))
    }

    fn open_from(&self, item: &Value) -> Option<Open> {
        let text = |key: &str| item.get(key).and_then(Value::as_str).unwrap_or("");
        match self.forge {
            Forge::Github => Some(Open {
                number: item.get("number")?.as_u64()?,
                url: text("html_url").to_string(),
                title: text("title").to_string(),
                body: text("body").to_string(),
            }),
            Forge::Gitlab => Some(Open {
                number: item.get("iid")?.as_u64()?,
                url: text("web_url").to_string(),
                title: text("title").to_string(),
                body: text("description").to_string(),
            }),
        }
    }
}

fn reply(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    request: &Request,
    timeout: Duration,
) -> Result<Reply, String> {
    let failed = |err: ureq::Error| match err {
        ureq::Error::Timeout(_) => format!(
            "{} {} timed out: no complete answer within {} s (--timeout SECONDS sets the limit)",
            request.method,
            request.url,
            timeout.as_secs()
        ),
        err => format!("{} {} failed: {err}", request.method, request.url),
    };
    let mut response = result.map_err(failed)?;
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let text = response
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_string()
        .map_err(|err| match err {
            ureq::Error::Timeout(_) => failed(err),
            err => format!(
                "{} {}: reading the reply: {err}",
                request.method, request.url
            ),
        })?;
    Ok(Reply {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        location,
        json: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    })
}

/// `scheme://host[:port]` of an absolute URL, lower-case and without user or password;
/// `None` for a relative one.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host_port.to_ascii_lowercase()
    ))
}

/// The message a GitHub or GitLab error reply carries: GitHub's `message` and each of its
/// `errors[].message`; GitLab's `message` (a string, a list or an object of lists) or `error`.
fn error_message(json: &Value) -> String {
    fn flatten(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => out.push(text.clone()),
            Value::Array(items) => items.iter().for_each(|item| flatten(item, out)),
            Value::Object(map) => {
                for (key, value) in map {
                    let mut inner = Vec::new();
                    flatten(value, &mut inner);
                    out.extend(inner.into_iter().map(|text| format!("{key} {text}")));
                }
            }
            other => out.push(other.to_string()),
        }
    }
    let mut parts = Vec::new();
    match json {
        Value::Object(map) => {
            for key in ["message", "error"] {
                if let Some(value) = map.get(key) {
                    flatten(value, &mut parts);
                }
            }
            if let Some(Value::Array(errors)) = map.get("errors") {
                for error in errors {
                    match error.get("message") {
                        Some(message) => flatten(message, &mut parts),
                        None => flatten(error, &mut parts),
                    }
                }
            }
        }
        Value::String(text) => parts.push(text.trim().chars().take(300).collect()),
        _ => {}
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_in_every_form() {
        let cases = [
            ("https://github.com/acme/web.git", "github.com", "acme/web"),
            ("https://github.com/acme/web", "github.com", "acme/web"),
            (
                "https://x-access-token:t@github.com/acme/web/",
                "github.com",
                "acme/web",
            ),
            ("git@github.com:acme/web.git", "github.com", "acme/web"),
            (
                "ssh://git@github.com:22/acme/web.git",
                "github.com",
                "acme/web",
            ),
            (
                "https://gitlab.example.com:8443/group/sub/web.git",
                "gitlab.example.com",
                "group/sub/web",
            ),
            ("git://127.0.0.1:9418/acme/web.git", "127.0.0.1", "acme/web"),
            ("https://[::1]:8443/acme/web.git", "::1", "acme/web"),
            ("ssh://git@[::1]/acme/web.git", "::1", "acme/web"),
        ];
        for (url, host, path) in cases {
            let parsed = RemoteUrl::parse(url).unwrap_or_else(|| panic!("{url}"));
            assert_eq!((parsed.host.as_str(), parsed.path.as_str()), (host, path));
        }
        assert_eq!(RemoteUrl::parse("file:///tmp/x.git"), None);
        assert_eq!(RemoteUrl::parse("/tmp/x.git"), None);
        assert_eq!(RemoteUrl::parse("../x.git"), None);
    }

    #[test]
    fn forges_from_hosts_and_api_roots() {
        assert_eq!(Forge::detect("github.com"), Some(Forge::Github));
        assert_eq!(Forge::detect("github.example.com"), Some(Forge::Github));
        assert_eq!(Forge::detect("gitlab.com"), Some(Forge::Gitlab));
        assert_eq!(Forge::detect("git.example.com"), None);
        let none = TokenHosts::default();
        let new = |url: &str, forge: Option<Forge>, api: Option<&str>| {
            let hosts = TokenHosts::from_user(&[], None, api).unwrap();
            Project::new(url, forge, api, &hosts, Duration::from_secs(60))
        };
        let project = Project::new(
            "git@github.com:acme/web.git",
            None,
            None,
            &none,
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(project.api, "https://api.github.com");
        assert_eq!(project.path, "acme/web");
        let project = new("https://github.example.com/acme/web", None, None).unwrap();
        assert_eq!(project.api, "https://github.example.com/api/v3");
        let project = new("https://gitlab.example.com:8443/g/s/p.git", None, None).unwrap();
        assert_eq!(project.api, "https://gitlab.example.com:8443/api/v4");
        assert_eq!(project.path, "g/s/p");
        let project = new(
            "ssh://git@git.example.com/g/p.git",
            Some(Forge::Gitlab),
            Some("https://git.example.com/api/v4/"),
        )
        .unwrap();
        assert_eq!(project.api, "https://git.example.com/api/v4");
        assert!(new("https://git.example.com/g/p.git", None, None).is_err());
    }

    #[test]
    fn tokens_go_to_the_forges_own_hosts_and_to_named_ones_only() {
        let none = TokenHosts::default();
        let own = [
            (Forge::Github, "https", "github.com", None),
            (Forge::Github, "https", "api.github.com", None),
            (Forge::Github, "https", "GitHub.COM", None),
            (Forge::Github, "https", "github.com.", None),
            (Forge::Github, "https", "API.GitHub.com.", Some(443)),
            (Forge::Github, "https", "github.com", Some(8443)),
            (Forge::Gitlab, "https", "gitlab.com", None),
            (Forge::Gitlab, "https", "GITLAB.com.", Some(443)),
        ];
        for (forge, scheme, host, port) in own {
            assert!(
                none.allows(forge, scheme, host, port),
                "{forge:?} {host} {port:?}"
            );
        }
        let strangers = [
            (Forge::Github, "github.evil.example"),
            (Forge::Github, "githubusercontent.attacker.net"),
            (Forge::Github, "github.com.attacker.net"),
            (Forge::Github, "api.github.com.evil.test"),
            (Forge::Github, "evilgithub.com"),
            (Forge::Github, "github.com.."),
            (Forge::Github, "www.github.com"),
            (Forge::Github, "github.localhost"),
            (Forge::Github, "gitlab.com"),
            (Forge::Github, ""),
            (Forge::Github, "."),
            (Forge::Gitlab, "gitlab-sso.attacker.net"),
            (Forge::Gitlab, "gitlab.example.com"),
            (Forge::Gitlab, "gitlab.com.evil.test"),
            (Forge::Gitlab, "github.com"),
            (Forge::Gitlab, "api.github.com"),
            (Forge::Gitlab, "127.0.0.1"),
        ];
        for (forge, host) in strangers {
            assert!(!none.allows(forge, "https", host, None), "{forge:?} {host}");
        }
        // Named hosts, any port unless one is given; exact names only.
        let flags = [
            "ghe.corp.example".to_string(),
            "GitLab.Corp.Example.:8443".to_string(),
            "https://api.corp.example:9443/api/v3".to_string(),
            "[::1]:8080".to_string(),
        ];
        let named =
            TokenHosts::from_user(&flags, Some(" git.one.example, ,127.0.0.1:3000"), None).unwrap();
        for (forge, scheme, host, port) in [
            (Forge::Github, "https", "ghe.corp.example", None),
            (Forge::Github, "https", "GHE.corp.example.", Some(8443)),
            (Forge::Gitlab, "https", "ghe.corp.example", None),
            (Forge::Gitlab, "https", "gitlab.corp.example", Some(8443)),
            (Forge::Github, "https", "api.corp.example", Some(9443)),
            (Forge::Github, "http", "[::1]", Some(8080)),
            (Forge::Github, "https", "git.one.example", None),
            (Forge::Github, "http", "127.0.0.1", Some(3000)),
        ] {
            assert!(named.allows(forge, scheme, host, port), "{host} {port:?}");
        }
        for (scheme, host, port) in [
            ("https", "gitlab.corp.example", None),
            ("https", "gitlab.corp.example", Some(443)),
            ("https", "api.corp.example", None),
            ("https", "sub.ghe.corp.example", None),
            ("https", "corp.example", None),
            ("http", "127.0.0.1", None),
            ("http", "127.0.0.1", Some(3001)),
            ("http", "::1", Some(80)),
        ] {
            assert!(
                !named.allows(Forge::Github, scheme, host, port),
                "{host} {port:?}"
            );
        }
        // A port that is the scheme's default matches a URL that names none.
        let default_port = TokenHosts::from_user(&["ghe.example:443".into()], None, None).unwrap();
        assert!(default_port.allows(Forge::Github, "https", "ghe.example", None));
        assert!(!default_port.allows(Forge::Github, "http", "ghe.example", None));
        // --api-url's host counts as named.
        let api = TokenHosts::from_user(&[], None, Some("http://127.0.0.1:4000/api/v4")).unwrap();
        assert!(api.allows(Forge::Gitlab, "http", "127.0.0.1", Some(4000)));
        assert!(!api.allows(Forge::Gitlab, "http", "127.0.0.1", Some(4001)));
        // What is not a host name is refused, with where it came from.
        for bad in [
            "*.corp.example",
            "user@host",
            "host/path",
            "host:0",
            "host:x",
            ".",
            "",
        ] {
            assert!(parse_host_entry(bad).is_err(), "{bad:?}");
        }
        let error = TokenHosts::from_user(&[], Some("ok.example,*.example"), None).unwrap_err();
        assert!(
            error.starts_with("UNROOT_TOKEN_HOSTS: `*.example`"),
            "{error}"
        );
        let error = TokenHosts::from_user(&["a b".into()], None, None).unwrap_err();
        assert!(error.starts_with("--token-host `a b`"), "{error}");
    }

    #[test]
    fn pull_requests_withhold_the_token_from_look_alike_api_hosts() {
        let none = TokenHosts::default();
        let new = |url: &str, forge: Option<Forge>, hosts: &TokenHosts| {
            Project::new(url, forge, None, hosts, Duration::from_secs(60)).unwrap()
        };
        let project = new("git@github.com:acme/web.git", None, &none);
        assert_eq!(
            (project.api.as_str(), project.withheld),
            ("https://api.github.com", None)
        );
        let project = new("https://gitlab.com/g/p.git", None, &none);
        assert_eq!(project.withheld, None);
        for (url, host) in [
            (
                "https://github.evil.example/acme/web.git",
                "github.evil.example",
            ),
            (
                "https://githubusercontent.attacker.net/acme/web",
                "githubusercontent.attacker.net",
            ),
            (
                "git@gitlab-sso.attacker.net:g/p.git",
                "gitlab-sso.attacker.net",
            ),
            (
                "https://GitHub.Evil.Example.:8443/acme/web",
                "github.evil.example",
            ),
        ] {
            let project = new(url, None, &none);
            assert_eq!(project.withheld.as_deref(), Some(host), "{url}");
            assert_eq!(project.token, None, "{url}");
            let message = project.missing_token();
            assert!(
                message.contains(&format!("--token-host {host}")),
                "{message}"
            );
            assert!(
                message.contains(&format!("UNROOT_TOKEN_HOSTS={host}")),
                "{message}"
            );
        }
        let named = TokenHosts::from_user(&["github.evil.example".into()], None, None).unwrap();
        let project = new("https://github.evil.example/acme/web.git", None, &named);
        assert_eq!(project.withheld, None);
        // --forge says which API to speak, not where the token may go.
        let project = new(
            "https://git.example.com/g/p.git",
            Some(Forge::Gitlab),
            &none,
        );
        assert_eq!(project.withheld.as_deref(), Some("git.example.com"));
    }

    #[test]
    fn error_messages_from_github_and_gitlab() {
        let github = json!({
            "message": "Validation Failed",
            "errors": [{"resource": "PullRequest", "code": "custom",
                        "message": "A pull request already exists for acme:unroot/non-root."}]
        });
        assert_eq!(
            error_message(&github),
            "Validation Failed; A pull request already exists for acme:unroot/non-root."
        );
        let gitlab = json!({"message": ["Another open merge request already exists for this source branch: !5"]});
        assert!(error_message(&gitlab).contains("already exists"));
        let gitlab = json!({"message": {"title": ["can't be blank"]}});
        assert_eq!(error_message(&gitlab), "title can't be blank");
    }

    #[test]
    fn origins_of_redirects() {
        assert_eq!(
            origin("http://127.0.0.1:8080/api/v4/x?y=1").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin("HTTPS://user:secret@Other.Example/x").as_deref(),
            Some("https://other.example")
        );
        assert_eq!(
            origin("https://host?x=a://b").as_deref(),
            Some("https://host")
        );
        assert_eq!(origin("/repositories/1/pulls"), None);
        assert_eq!(origin("pulls?page=2"), None);
    }

    #[test]
    fn encoding_keeps_unreserved_characters() {
        assert_eq!(encode("acme:unroot/non-root"), "acme%3Aunroot%2Fnon-root");
        assert_eq!(encode("g/s/p"), "g%2Fs%2Fp");
    }
}
