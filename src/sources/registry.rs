//! `--pin digest`: the digest of an image tag, looked up in its registry through the OCI
//! distribution API, anonymously.
//!
//! `HEAD /v2/<name>/manifests/<tag>` asks for an OCI image index, a Docker manifest list, an
//! OCI manifest or a Docker manifest v2, in that order of preference, and reads the
//! `Docker-Content-Digest` header: for a multi-arch tag that is the digest of the index, which
//! is what `FROM node:26.7.0-alpine@sha256:…` pins (Renovate's format). A registry that
//! answers 401 with a `Bearer` challenge (Docker Hub does, for every repository) gets an
//! anonymous token from the challenge's realm, and the request is repeated with it.
//!
//! Lookups are cached per repository and tag for the run, and failed ones are kept: the CLI
//! fails the run (exit status 2, nothing written) when one failed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

/// Where Docker Hub's images are served (`docker.io` is only a name).
pub const DOCKER_HUB: &str = "https://registry-1.docker.io";

/// How long one lookup may take, from connecting to the last byte of the answer.
/// The longest one lookup may take without `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// The manifest types unroot accepts, most wanted first: the multi-arch ones, then a
/// single-platform manifest for tags that have no index. No `q=` weights: registries serve
/// what the tag points to when it is accepted, and some compare the types as plain strings
/// (containerd sends such a list too).
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// The media types a manifest may be served as: the ones [`ACCEPT`] asks for.
const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// The most unroot reads of a manifest, an error or a token answer.
const MAX_BODY: u64 = 4 * 1024 * 1024;

type Lookup = Arc<OnceLock<Result<String, LookupError>>>;

/// Resolves `image:tag` to the digest its registry serves for it.
pub struct RegistryResolver {
    /// `--registry`: the base URL every lookup goes to, without a trailing `/`.
    base: Option<String>,
    agent: ureq::Agent,
    /// The longest one request may take.
    timeout: Duration,
    /// One entry per repository URL and tag; concurrent askers of the same tag wait for one
    /// request.
    lookups: Mutex<HashMap<(String, String), Lookup>>,
    /// Anonymous bearer tokens per repository URL. Never printed.
    tokens: Mutex<HashMap<String, String>>,
}

/// Why a digest could not be looked up, for callers that must tell the cases apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The tag is not one a registry could serve.
    InvalidTag,
    /// The registry has no such image or tag (404).
    NotFound,
    /// The registry wants credentials unroot does not have (401, 403).
    Denied,
    /// No answer in time.
    Timeout,
    /// The connection failed (DNS, TLS, refused).
    Network,
    /// Another error status from the registry or its token service.
    Server,
    /// An answer that is not a manifest or holds no usable digest or token.
    BadAnswer,
}

/// A failed step of a lookup: what kind, and the message in the user's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Failure {
    kind: FailureKind,
    message: String,
}

impl Failure {
    fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }

    fn context(self, what: &str) -> Failure {
        Failure {
            message: format!("{what}: {}", self.message),
            ..self
        }
    }
}

/// `cannot resolve IMAGE:TAG at REGISTRY: message`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot resolve {image}:{tag} at {registry}: {message}")]
pub struct LookupError {
    pub kind: FailureKind,
    /// The image as written (`node`, `ghcr.io/acme/app`).
    pub image: String,
    pub tag: String,
    /// The registry's base URL.
    pub registry: String,
    pub message: String,
}

impl std::fmt::Debug for RegistryResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not derived: that would print the tokens.
        f.debug_struct("RegistryResolver")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RegistryResolver {
    /// `base`: `--registry`, a URL such as `https://mirror.example` or `http://127.0.0.1:5000`
    /// that replaces every image's own registry; `None` asks each image's registry.
    /// `timeout`: the longest one request may take ([`DEFAULT_TIMEOUT`] by default).
    pub fn new(base: Option<String>, timeout: Duration) -> RegistryResolver {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("unroot/", env!("CARGO_PKG_VERSION")))
            .build();
        RegistryResolver {
            base: base.map(|base| base.trim_end_matches('/').to_string()),
            agent: config.into(),
            timeout,
            lookups: Mutex::default(),
            tokens: Mutex::default(),
        }
    }

    /// The registry's base URL and the repository's name in it.
    fn locate(&self, registry: Option<&str>, repository: &str) -> (String, String) {
        let hub = matches!(
            registry,
            None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io")
        );
        // Docker Hub's official images are `library/<name>`; its mirrors use the same names.
        let name = if hub && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        let base = match (&self.base, registry) {
            (Some(base), _) => base.clone(),
            (None, Some(registry)) if !hub => format!("https://{registry}"),
            (None, _) => DOCKER_HUB.to_string(),
        };
        (base, name)
    }

    /// The digest of `base/v2/name` at `tag`, or why there is none (no image or tag named).
    fn fetch(&self, base: &str, name: &str, tag: &str) -> Result<String, Failure> {
        check_tag(tag)?;
        let repository = format!("{base}/v2/{name}");
        let url = format!("{repository}/manifests/{tag}");
        // At most one new token per lookup: a registry that refuses the fresh one refuses.
        let mut renewed = false;
        let head = self.send(false, &url, &repository, name, &mut renewed)?;
        if head.status().is_success() {
            if let Some(digest) = header(&head, "docker-content-digest") {
                return check_digest(digest);
            }
        }
        // No digest in the answer to HEAD, or an error, whose message is only in a body:
        // the same request as GET.
        let mut response = self.send(true, &url, &repository, name, &mut renewed)?;
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|err| describe(&err, self.timeout))?;
        if !status.is_success() {
            return Err(status_error(status, &body));
        }
        match header(&response, "docker-content-digest") {
            Some(digest) => check_digest(digest),
            // The digest is defined as the sha256 of the manifest's bytes as served, but only
            // of a manifest: a captive portal's or a proxy's page must not become a digest.
            None => {
                let media_type = header(&response, "content-type").unwrap_or("");
                let media_type = media_type.split(';').next().unwrap_or("").trim();
                if !MANIFEST_TYPES.contains(&media_type) {
                    return Err(Failure::new(
                        FailureKind::BadAnswer,
                        format!(
                            "the answer is not an image manifest (no Docker-Content-Digest, \
                             Content-Type `{media_type}`)"
                        ),
                    ));
                }
                Ok(format!("sha256:{}", hex(&Sha256::digest(&body))))
            }
        }
    }

    /// One request with the repository's token, if any; on a `Bearer` challenge, unless
    /// `renewed` says this lookup got a token already, a new anonymous token is fetched and
    /// the request sent once more.
    fn send(
        &self,
        get: bool,
        url: &str,
        repository: &str,
        name: &str,
        renewed: &mut bool,
    ) -> Result<ureq::http::Response<ureq::Body>, Failure> {
        let token = lock(&self.tokens).get(repository).cloned();
        let response = self.request(get, url, token.as_deref())?;
        if response.status() != 401 || *renewed {
            return Ok(response);
        }
        let Some(challenge) = response
            .headers()
            .get_all("www-authenticate")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(parse_bearer_challenge)
        else {
            return Ok(response);
        };
        let token = self.fetch_token(&challenge, name)?;
        *renewed = true;
        lock(&self.tokens).insert(repository.to_string(), token.clone());
        self.request(get, url, Some(&token))
    }

    fn request(
        &self,
        get: bool,
        url: &str,
        token: Option<&str>,
    ) -> Result<ureq::http::Response<ureq::Body>, Failure> {
        let request = if get {
            self.agent.get(url)
        } else {
            self.agent.head(url)
        };
        let request = request.header("Accept", ACCEPT);
        let request = match token {
            Some(token) => request.header("Authorization", format!("Bearer {token}")),
            None => request,
        };
        request.call().map_err(|err| describe(&err, self.timeout))
    }

    /// An anonymous token from the challenge's realm, for pulling `name`.
    fn fetch_token(
        &self,
        challenge: &HashMap<String, String>,
        name: &str,
    ) -> Result<String, Failure> {
        let realm = challenge
            .get("realm")
            .filter(|realm| realm.starts_with("https://") || realm.starts_with("http://"))
            .ok_or_else(|| {
                Failure::new(
                    FailureKind::BadAnswer,
                    "the registry asks for a token but names no http(s) realm to get it from",
                )
            })?;
        let scope = challenge
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{name}:pull"));
        let mut url = realm.clone();
        let mut separator = if url.contains('?') { '&' } else { '?' };
        for (key, value) in [
            ("service", challenge.get("service")),
            ("scope", Some(&scope)),
        ] {
            if let Some(value) = value {
                url.push_str(&format!("{separator}{key}={}", encode_query(value)));
                separator = '&';
            }
        }
        let mut response = self.agent.get(&url).call().map_err(|err| {
            describe(&err, self.timeout).context(&format!("token service {realm}"))
        })?;
        let status = response.status();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|err| {
                describe(&err, self.timeout).context(&format!("token service {realm}"))
            })?;
        if !status.is_success() {
            return Err(status_error(status, &body).context(&format!("token service {realm}")));
        }
        serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|answer| {
                ["token", "access_token"]
                    .iter()
                    .find_map(|key| answer[key].as_str().filter(|t| !t.is_empty()))
                    .map(str::to_string)
            })
            .ok_or_else(|| {
                Failure::new(
                    FailureKind::BadAnswer,
                    format!("token service {realm}: the answer holds no token"),
                )
            })
    }
}

impl RegistryResolver {
    /// The digest of `image:tag` (`sha256:…`), looked up once per run; the error is the
    /// registry's message.
    /// `registry` is the host an image reference names (`None`: Docker Hub), `repository`
    /// its path there (`node`, `acme/app`).
    pub fn digest(
        &self,
        registry: Option<&str>,
        repository: &str,
        tag: &str,
    ) -> Result<String, LookupError> {
        let (base, name) = self.locate(registry, repository);
        let lookup = lock(&self.lookups)
            .entry((format!("{base}/v2/{name}"), tag.to_string()))
            .or_default()
            .clone();
        lookup
            .get_or_init(|| {
                self.fetch(&base, &name, tag)
                    .map_err(|failure| LookupError {
                        kind: failure.kind,
                        image: match registry {
                            Some(registry) => format!("{registry}/{repository}"),
                            None => repository.to_string(),
                        },
                        tag: tag.to_string(),
                        registry: base.clone(),
                        message: failure.message,
                    })
            })
            .clone()
    }
}

fn header<'a>(response: &'a ureq::http::Response<ureq::Body>, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// A tag as the distribution spec defines it: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(tag: &str) -> Result<(), Failure> {
    let valid = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(Failure::new(
            FailureKind::InvalidTag,
            format!("`{tag}` is not a valid tag"),
        ))
    }
}

/// The digest goes into the Dockerfile: only `sha256:` or `sha512:` with the right number of
/// lowercase hex digits.
fn check_digest(digest: &str) -> Result<String, Failure> {
    let valid = match digest.split_once(':') {
        Some(("sha256", hex)) => hex.len() == 64,
        Some(("sha512", hex)) => hex.len() == 128,
        _ => false,
    } && digest
        .split_once(':')
        .is_some_and(|(_, hex)| hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    if valid {
        Ok(digest.to_string())
    } else {
        let shown: String = digest.chars().take(80).collect();
        Err(Failure::new(
            FailureKind::BadAnswer,
            format!("the registry sent a malformed digest `{shown}`"),
        ))
    }
}

/// A failed answer: the registry's own message (`errors[0].message` in the distribution
/// spec's error body) when there is one, and the status.
fn status_error(status: ureq::http::StatusCode, body: &[u8]) -> Failure {
    let message = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|answer| answer["errors"][0]["message"].as_str().map(one_line))
        .filter(|message| !message.is_empty());
    let code = match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    };
    let hint = match status.as_u16() {
        401 | 403 => " (unroot looks digests up anonymously: a private image needs a --registry that serves it)",
        _ => "",
    };
    let kind = match status.as_u16() {
        404 => FailureKind::NotFound,
        401 | 403 => FailureKind::Denied,
        _ => FailureKind::Server,
    };
    let message = match message {
        Some(message) => format!("{message} ({code}){hint}"),
        None => format!("{code}{hint}"),
    };
    Failure::new(kind, message)
}

/// A network error in words, on one line.
fn describe(err: &ureq::Error, timeout: Duration) -> Failure {
    match err {
        ureq::Error::Timeout(_) => Failure::new(
            FailureKind::Timeout,
            format!(
                "no answer within {} s; --timeout SECONDS sets the limit",
                timeout.as_secs()
            ),
        ),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            Failure::new(FailureKind::Timeout, one_line(&io.to_string()))
        }
        ureq::Error::Io(io) => Failure::new(FailureKind::Network, one_line(&io.to_string())),
        other => Failure::new(FailureKind::Network, one_line(&other.to_string())),
    }
}

/// Text from a server, safe for one terminal line: control characters become spaces, and
/// it is cut at 300 characters.
fn one_line(text: &str) -> String {
    let mut line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if text.trim().chars().count() > 300 {
        line.push('…');
    }
    line
}

/// The parameters of a `Bearer` challenge (`WWW-Authenticate: Bearer realm="…",service="…",
/// scope="…"`), names lowercased; `None` for another scheme.
pub fn parse_bearer_challenge(header: &str) -> Option<HashMap<String, String>> {
    let header = header.trim_start();
    let scheme_end = header.find(char::is_whitespace).unwrap_or(header.len());
    if !header[..scheme_end].eq_ignore_ascii_case("bearer") {
        return None;
    }
    let mut params = HashMap::new();
    let mut rest = header[scheme_end..].trim_start();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim();
        if key.is_empty() || key.contains([',', ' ', '"']) {
            // Another challenge (`, Basic realm=…`) or garbage: stop here.
            break;
        }
        let after = rest[eq + 1..].trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next().map(|(_, c)| c)),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end?..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        params.insert(key.to_ascii_lowercase(), value);
        rest = remainder.trim_start();
        match rest.strip_prefix(',') {
            Some(next) => rest = next.trim_start(),
            None => break,
        }
    }
    Some(params)
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::thread;

    use super::*;

    #[test]
    fn parses_docker_hub_challenge() {
        let params = parse_bearer_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/node:pull""#,
        )
        .expect("a Bearer challenge");
        assert_eq!(params["realm"], "https://auth.docker.io/token");
        assert_eq!(params["service"], "registry.docker.io");
        assert_eq!(params["scope"], "repository:library/node:pull");
    }

    #[test]
    fn parses_spacing_case_escapes_and_bare_values() {
        let params = parse_bearer_challenge(
            r#"bearer  Realm = "http://x/t?a=1" , service=reg , error="a \"b\", c""#,
        )
        .expect("a Bearer challenge");
        assert_eq!(params["realm"], "http://x/t?a=1");
        assert_eq!(params["service"], "reg");
        assert_eq!(params["error"], r#"a "b", c"#);
        assert!(parse_bearer_challenge(r#"Basic realm="registry""#).is_none());
        assert!(parse_bearer_challenge("Bearer").is_some_and(|p| p.is_empty()));
        // An unterminated quote is not a challenge unroot acts on.
        assert!(parse_bearer_challenge(r#"Bearer realm="http://x"#).is_none());
        // A second challenge after the first is not read into it.
        let params = parse_bearer_challenge(r#"Bearer realm="http://a", Basic realm="b""#)
            .expect("a Bearer challenge");
        assert_eq!(params.len(), 1);
    }

    #[test]
    fn tags_and_digests_are_checked() {
        assert!(check_tag("26.7.0-alpine3.24").is_ok());
        assert!(check_tag("a/b").is_err());
        assert!(check_tag("-x").is_err());
        assert!(check_tag("").is_err());
        let good = format!("sha256:{}", "a".repeat(64));
        assert_eq!(check_digest(&good), Ok(good.clone()));
        assert!(check_digest(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(check_digest("sha256:abc").is_err());
        assert!(check_digest(&format!("md5:{}", "a".repeat(64))).is_err());
        assert!(check_digest(&format!("sha256:{}\nRUN x", "a".repeat(64))).is_err());
    }

    #[test]
    fn docker_hub_names_and_override() {
        let hub = RegistryResolver::new(None, DEFAULT_TIMEOUT);
        assert_eq!(
            hub.locate(None, "node"),
            (DOCKER_HUB.to_string(), "library/node".to_string())
        );
        assert_eq!(
            hub.locate(Some("docker.io"), "node"),
            (DOCKER_HUB.to_string(), "library/node".to_string())
        );
        assert_eq!(
            hub.locate(Some("public.ecr.aws"), "docker/library/node"),
            (
                "https://public.ecr.aws".to_string(),
                "docker/library/node".to_string()
            )
        );
        let mirror =
            RegistryResolver::new(Some("http://127.0.0.1:5000/".to_string()), DEFAULT_TIMEOUT);
        assert_eq!(
            mirror.locate(None, "node"),
            (
                "http://127.0.0.1:5000".to_string(),
                "library/node".to_string()
            )
        );
    }

    #[test]
    fn registry_messages() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        assert_eq!(
            status_error(ureq::http::StatusCode::NOT_FOUND, body),
            Failure::new(
                FailureKind::NotFound,
                "manifest unknown (HTTP 404 Not Found)"
            )
        );
        assert_eq!(
            status_error(ureq::http::StatusCode::BAD_GATEWAY, b"<html>"),
            Failure::new(FailureKind::Server, "HTTP 502 Bad Gateway")
        );
        assert_eq!(
            status_error(ureq::http::StatusCode::FORBIDDEN, b"").kind,
            FailureKind::Denied
        );
    }

    /// One HTTP/1.1 request: the request line and the headers (names lowercased).
    struct Request {
        line: String,
        headers: Vec<(String, String)>,
    }

    impl Request {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        }
    }

    fn read_request(stream: &TcpStream) -> Option<Request> {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line.is_empty() {
            return None;
        }
        let mut headers = Vec::new();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (key, value) = header.split_once(':')?;
            let key = key.trim().to_ascii_lowercase();
            if key == "content-length" {
                length = value.trim().parse().ok()?;
            }
            headers.push((key, value.trim().to_string()));
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        Some(Request {
            line: line.trim_end().to_string(),
            headers,
        })
    }

    /// A registry on 127.0.0.1 that wants a token: answers `answer(request)` for each
    /// request, closing the connection after each; stops after `count` requests.
    fn serve(
        count: usize,
        answer: impl Fn(&Request, u16) -> String + Send + 'static,
    ) -> (u16, thread::JoinHandle<Vec<Request>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        // Polls, so that a client that sends fewer requests than expected fails the test
        // (by the count) instead of hanging it.
        listener.set_nonblocking(true).expect("non-blocking");
        let handle = thread::spawn(move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            let mut seen = Vec::new();
            while seen.len() < count && std::time::Instant::now() < deadline {
                let mut stream = match listener.accept() {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        thread::sleep(std::time::Duration::from_millis(5));
                        continue;
                    }
                };
                stream.set_nonblocking(false).expect("blocking");
                let Some(request) = read_request(&stream) else {
                    continue;
                };
                let response = answer(&request, port);
                stream.write_all(response.as_bytes()).expect("answered");
                seen.push(request);
            }
            seen
        });
        (port, handle)
    }

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const TOKEN: &str = "s3cr3t-t0ken";

    fn answer_with_token(request: &Request, port: u16) -> String {
        if request.line.starts_with("GET /token?") {
            let body = format!(r#"{{"token":"{TOKEN}","expires_in":300}}"#);
            return format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        let authorized =
            request.header("authorization") == Some(format!("Bearer {TOKEN}").as_str());
        if !authorized {
            let body =
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
            return format!(
                "HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"test.registry\",scope=\"repository:library/node:pull\"\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        format!(
            "HTTP/1.1 200 OK\r\nDocker-Content-Digest: {DIGEST}\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    }

    #[test]
    fn bearer_token_flow() {
        let (port, server) = serve(3, answer_with_token);
        let resolver =
            RegistryResolver::new(Some(format!("http://127.0.0.1:{port}")), DEFAULT_TIMEOUT);
        assert_eq!(
            resolver.digest(None, "node", "26.7.0-alpine"),
            Ok(DIGEST.to_string())
        );
        // Cached: no fourth request (the server would not answer it).
        assert_eq!(
            resolver.digest(None, "node", "26.7.0-alpine"),
            Ok(DIGEST.to_string())
        );
        let seen = server.join().expect("the server ran");
        assert_eq!(seen.len(), 3);
        assert_eq!(
            seen[0].line,
            "HEAD /v2/library/node/manifests/26.7.0-alpine HTTP/1.1"
        );
        assert_eq!(seen[0].header("authorization"), None);
        assert_eq!(seen[0].header("accept"), Some(ACCEPT));
        assert_eq!(
            seen[0].header("user-agent"),
            Some(concat!("unroot/", env!("CARGO_PKG_VERSION")))
        );
        assert_eq!(
            seen[1].line,
            "GET /token?service=test.registry&scope=repository%3Alibrary%2Fnode%3Apull HTTP/1.1"
        );
        assert_eq!(seen[1].header("authorization"), None);
        assert_eq!(
            seen[2].line,
            "HEAD /v2/library/node/manifests/26.7.0-alpine HTTP/1.1"
        );
        assert_eq!(
            seen[2].header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(!format!("{resolver:?}").contains(TOKEN));
    }

    #[test]
    fn refused_token_is_an_error_without_the_token() {
        // Every manifest request is refused, even with the token: the lookup fails with the
        // registry's message, recorded once, and no token in sight.
        let (port, server) = serve(4, |request, port| {
            if request.line.starts_with("GET /token?") {
                return answer_with_token(request, port);
            }
            let body = r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#;
            format!(
                "HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"s\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        });
        let resolver =
            RegistryResolver::new(Some(format!("http://127.0.0.1:{port}")), DEFAULT_TIMEOUT);
        let error = resolver
            .digest(None, "node", "26.7.0")
            .expect_err("access is denied");
        assert_eq!(error.kind, FailureKind::Denied);
        let err = error.to_string();
        assert!(
            err.starts_with(&format!(
                "cannot resolve node:26.7.0 at http://127.0.0.1:{port}: requested access to the resource is denied (HTTP 401 Unauthorized)"
            )),
            "{err}"
        );
        assert!(!err.contains(TOKEN));
        // Cached: asked again, the same answer without a request.
        assert_eq!(resolver.digest(None, "node", "26.7.0"), Err(error));
        // HEAD, token, HEAD with it, then GET with it for the message: one token per lookup.
        let seen = server.join().expect("the server ran");
        let lines: Vec<&str> = seen.iter().map(|r| r.line.as_str()).collect();
        assert_eq!(
            lines,
            [
                "HEAD /v2/library/node/manifests/26.7.0 HTTP/1.1",
                "GET /token?service=s&scope=repository%3Alibrary%2Fnode%3Apull HTTP/1.1",
                "HEAD /v2/library/node/manifests/26.7.0 HTTP/1.1",
                "GET /v2/library/node/manifests/26.7.0 HTTP/1.1",
            ]
        );
        assert_eq!(
            seen[3].header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
}
