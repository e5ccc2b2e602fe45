//! Talking to the remote with git2: what the branch is there, fetching it, pushing it.
//!
//! Credentials, in this order, each tried once: the ssh agent (ssh remotes); for https
//! remotes of a known forge, the forge's token from the environment (`GITHUB_TOKEN`,
//! `GH_TOKEN`, `GITLAB_TOKEN`); git's credential helpers. A token is never sent over plain
//! http, never to a host [`TokenHosts`] does not allow (the forge's own, and those the user
//! names), and never printed.

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

use git2::{
    Cred, CredentialType, Direction, FetchOptions, Oid, PushOptions, Remote, RemoteCallbacks,
    Repository,
};

use super::forge::{withheld_note, Forge, RemoteUrl, TokenHosts};

/// The user name and the token offered to a forge over https.
type Token = (String, String);

/// The remote a branch is pushed to.
pub struct Target<'r> {
    repo: &'r Repository,
    /// The remote's name (`origin`).
    pub name: String,
    /// The remote's URL (its fetch URL): the repository's identity on its forge.
    pub url: String,
    /// Where pushes go: `pushurl`, else the URL.
    pub push_url: String,
    /// The token offered to the push URL.
    token: Option<Token>,
    /// Why a token that is set is not offered (said with any failure).
    withheld: Option<String>,
    /// `--timeout`, for the message when the remote does not answer.
    timeout: std::time::Duration,
}

impl<'r> Target<'r> {
    pub fn open(
        repo: &'r Repository,
        name: &str,
        forge: Option<Forge>,
        hosts: &TokenHosts,
        timeout: std::time::Duration,
    ) -> Result<Self, String> {
        let remote = repo.find_remote(name).map_err(|_| {
            let mut message = format!("no remote named `{name}` in this repository");
            if std::path::Path::new(name).exists() {
                message.push_str(&format!(
                    " (`--push` took `{name}` as the remote's name: write the paths before \
                     the flags, or after `--`)"
                ));
            }
            message
        })?;
        let url = remote
            .url()
            .map_err(|_| format!("the URL of remote `{name}` is not UTF-8"))?
            .to_string();
        let push_url = remote
            .pushurl()
            .map_err(|_| format!("the push URL of remote `{name}` is not UTF-8"))?
            .unwrap_or(&url)
            .to_string();
        refuse_skipped_hooks(name, &push_url)?;
        // The forge, from `--forge` or the push URL's host.
        let forge =
            forge.or_else(|| RemoteUrl::parse(&push_url).and_then(|u| Forge::detect(&u.host)));
        let (token, withheld) = match (forge, token_decision(&push_url, forge, hosts)) {
            (Some(forge), Decision::Offer) => (
                forge
                    .token()
                    .map(|(_, token)| (forge.token_user().to_string(), token)),
                None,
            ),
            (Some(forge), Decision::Withhold(host)) => (
                None,
                forge.token().map(|(variable, _)| {
                    format!(
                        "{variable} was not offered to `{host}`: {}",
                        withheld_note(forge, &host)
                    )
                }),
            ),
            _ => (None, None),
        };
        Ok(Target {
            repo,
            name: name.to_string(),
            url,
            push_url,
            token,
            withheld,
            timeout,
        })
    }

    /// What talking to the push URL needs: the repository's config (for git's credential
    /// helpers), the token to offer, and an anonymous remote on the push URL (the branch is
    /// read where it will be pushed).
    fn connection(&self) -> Result<(git2::Config, Option<Token>, Remote<'r>), String> {
        let config = self
            .repo
            .config()
            .map_err(|err| err.message().to_string())?;
        let remote = self
            .repo
            .remote_anonymous(&self.push_url)
            .map_err(|err| self.failure("cannot use", &err))?;
        Ok((config, self.token.clone(), remote))
    }

    fn failure(&self, what: &str, err: &git2::Error) -> String {
        let mut text = format!(
            "{what} remote `{}` ({}): {}",
            self.name,
            self.push_url,
            err.message()
        );
        if err.code() == git2::ErrorCode::Timeout || err.message().contains("timed out") {
            text.push_str(&format!(
                " (no answer within {} s; --timeout SECONDS sets the limit)",
                self.timeout.as_secs()
            ));
        }
        if let Some(note) = &self.withheld {
            text.push_str(" (note: ");
            text.push_str(note);
            text.push(')');
        }
        text
    }

    /// The commit `refname` points to on the remote, if it exists there.
    pub fn remote_branch(&self, refname: &str) -> Result<Option<Oid>, String> {
        let (config, token, mut remote) = self.connection()?;
        let connection = remote
            .connect_auth(
                Direction::Fetch,
                Some(callbacks(&config, token.as_ref())),
                None,
            )
            .map_err(|err| self.failure("cannot reach", &err))?;
        let heads = connection
            .list()
            .map_err(|err| self.failure("cannot list the branches of", &err))?;
        Ok(heads
            .iter()
            .find(|head| head.name() == refname)
            .map(|head| head.oid()))
    }

    /// Fetches `refname` into `refs/remotes/NAME/…`, so its commits can be read.
    pub fn fetch(&self, branch: &str) -> Result<(), String> {
        let (config, token, mut remote) = self.connection()?;
        let mut options = FetchOptions::new();
        options.remote_callbacks(callbacks(&config, token.as_ref()));
        let refspec = format!("+refs/heads/{branch}:refs/remotes/{}/{branch}", self.name);
        remote
            .fetch(&[refspec], Some(&mut options), None)
            .map_err(|err| self.failure("cannot fetch from", &err))
    }

    /// Pushes `refs/heads/BRANCH` (forced: the caller has checked that the remote branch is
    /// unroot's own). A rejected update is an error with the remote's reason.
    pub fn push(&self, branch: &str) -> Result<(), String> {
        // An anonymous remote on the push URL: libgit2's local transport would push to the
        // fetch URL of a named remote that has a `pushurl`.
        let (config, token, mut remote) = self.connection()?;
        let rejected: RefCell<Vec<String>> = RefCell::new(Vec::new());
        let said: RefCell<String> = RefCell::new(String::new());
        let mut callbacks = callbacks(&config, token.as_ref());
        callbacks.push_update_reference(|name, status| {
            if let Some(status) = status {
                rejected.borrow_mut().push(format!("{name}: {status}"));
            }
            Ok(())
        });
        callbacks.sideband_progress(|data| {
            said.borrow_mut().push_str(&String::from_utf8_lossy(data));
            true
        });
        let mut options = PushOptions::new();
        options.remote_callbacks(callbacks);
        let refspec = format!("+refs/heads/{branch}:refs/heads/{branch}");
        let result = remote.push(&[refspec], Some(&mut options));
        drop(options);
        let remote_said: Vec<String> = said
            .borrow()
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| format!("remote: {line}"))
            .collect();
        let with_remote = |mut text: String| {
            if !remote_said.is_empty() {
                text.push_str(" (");
                text.push_str(&remote_said.join("; "));
                text.push(')');
            }
            text
        };
        if let Err(err) = result {
            return Err(with_remote(self.failure("cannot push to", &err)));
        }
        let rejected = rejected.borrow();
        if !rejected.is_empty() {
            return Err(with_remote(format!(
                "push rejected by remote `{}` ({}): {}",
                self.name,
                self.push_url,
                rejected.join("; ")
            )));
        }
        // What `git push` does: the remote-tracking branch follows.
        if let Ok(oid) = self.repo.refname_to_id(&format!("refs/heads/{branch}")) {
            let _ = self.repo.reference(
                &format!("refs/remotes/{}/{branch}", self.name),
                oid,
                true,
                "unroot: push",
            );
        }
        Ok(())
    }
}

/// The hooks `git receive-pack` runs on a push. libgit2's local transport runs none of them.
const RECEIVE_HOOKS: [&str; 7] = [
    "pre-receive",
    "update",
    "proc-receive",
    "reference-transaction",
    "push-to-checkout",
    "post-receive",
    "post-update",
];

/// Refuses a push URL that is a repository on this machine with a hook a push runs: libgit2
/// pushes there by writing into it directly, so a `pre-receive` or `update` hook that enforces
/// a policy (over git daemon, ssh or https it refuses the push) would be skipped.
fn refuse_skipped_hooks(name: &str, push_url: &str) -> Result<(), String> {
    let Some(path) = local_path(push_url) else {
        return Ok(());
    };
    let Ok(repo) = Repository::open(&path) else {
        return Ok(());
    };
    let dirs = hook_dirs(&repo);
    let hooks: Vec<String> = RECEIVE_HOOKS
        .iter()
        .filter(|hook| dirs.iter().any(|dir| is_hook(&dir.join(hook))))
        .map(|hook| format!("`{hook}`"))
        .collect();
    if hooks.is_empty() {
        return Ok(());
    }
    let plural = if hooks.len() == 1 { "" } else { "s" };
    Err(format!(
        "remote `{name}` ({push_url}) is a repository on this machine with the {} hook{plural} \
         that git runs on a push, and unroot's push (libgit2) writes into a local repository \
         directly, without running them, so unroot does not push there: push to a URL where a \
         server runs the hooks (ssh, https, or git:// with `git daemon`)",
        hooks.join(", ")
    ))
}

/// The repository libgit2's local transport would push to: a `file://` URL, or a path to a
/// directory (relative ones from the current directory, as libgit2 reads them).
fn local_path(url: &str) -> Option<PathBuf> {
    let url = url.trim();
    if url.len() > 7 && url[..7].eq_ignore_ascii_case("file://") {
        let rest = &url[7..];
        let rest = match rest.get(..9) {
            Some(host) if host.eq_ignore_ascii_case("localhost") => &rest[9..],
            _ => rest,
        };
        return Some(PathBuf::from(percent_decode(rest)));
    }
    if url.contains("://") {
        return None;
    }
    let path = Path::new(url);
    path.is_dir().then(|| path.to_path_buf())
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where the repository's hooks may be: `core.hooksPath` (a relative one from the git
/// directory, where push hooks run, or from the working tree) or `hooks/` in the git directory.
fn hook_dirs(repo: &Repository) -> Vec<PathBuf> {
    let configured = repo
        .config()
        .ok()
        .and_then(|config| config.get_path("core.hooksPath").ok());
    match configured {
        Some(path) if path.is_absolute() => vec![path],
        Some(path) => {
            let mut dirs = vec![repo.path().join(&path)];
            dirs.extend(repo.workdir().map(|workdir| workdir.join(&path)));
            dirs
        }
        None => vec![repo.path().join("hooks")],
    }
}

/// A hook git would run: a file that is executable (on Unix; any file elsewhere).
fn is_hook(path: &Path) -> bool {
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        metadata.is_file()
    }
}

/// Whether a forge's token may be offered to a push URL.
#[derive(Debug, PartialEq, Eq)]
enum Decision {
    /// https to a host the token may go to.
    Offer,
    /// https to a host the token may not go to (its name, for the message).
    Withhold(String),
    /// Not https, or no forge: no token is offered, and there is nothing to say.
    Never,
}

/// Only over https, only to a host `hosts` allows for the forge.
fn token_decision(push_url: &str, forge: Option<Forge>, hosts: &TokenHosts) -> Decision {
    let (Some(remote), Some(forge)) = (RemoteUrl::parse(push_url), forge) else {
        return Decision::Never;
    };
    if remote.scheme != "https" {
        return Decision::Never;
    }
    if hosts.allows(forge, &remote.scheme, &remote.host, remote.port) {
        Decision::Offer
    } else {
        Decision::Withhold(remote.host.to_ascii_lowercase())
    }
}

/// The credentials callback: each source is tried once, then the operation fails.
fn callbacks<'a>(config: &'a git2::Config, token: Option<&'a Token>) -> RemoteCallbacks<'a> {
    let agent_tried = Cell::new(false);
    let token_tried = Cell::new(false);
    let helper_tried = Cell::new(false);
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(move |url, username, allowed| {
        let user = username.unwrap_or("git");
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user);
        }
        if allowed.contains(CredentialType::SSH_KEY) && !agent_tried.replace(true) {
            return Cred::ssh_key_from_agent(user);
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            if let Some((token_user, secret)) = token {
                if !token_tried.replace(true) {
                    return Cred::userpass_plaintext(token_user, secret);
                }
            }
            if !helper_tried.replace(true) {
                if let Ok(cred) = Cred::credential_helper(config, url, username) {
                    return Ok(cred);
                }
            }
        }
        Err(git2::Error::from_str(
            "authentication failed: tried the ssh agent, the forge token \
             (GITHUB_TOKEN/GH_TOKEN/GITLAB_TOKEN, https only, to the forge's own hosts and \
             those named with --token-host) and git's credential helpers",
        ))
    });
    callbacks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_as_libgit2_reads_them() {
        let dir = std::env::temp_dir();
        let shown = dir.display().to_string();
        assert_eq!(
            local_path("file:///srv/git/my%20web.git"),
            Some(PathBuf::from("/srv/git/my web.git"))
        );
        assert_eq!(
            local_path("FILE://localhost/srv/web.git"),
            Some(PathBuf::from("/srv/web.git"))
        );
        assert_eq!(local_path(&shown), Some(dir.clone()));
        assert_eq!(local_path("/no/such/directory/web.git"), None);
        for url in [
            "https://github.com/acme/web.git",
            "git://127.0.0.1/web.git",
            "ssh://git@host/web.git",
            "git@github.com:acme/web.git",
        ] {
            assert_eq!(local_path(url), None, "{url}");
        }
    }

    fn hosts(flags: &[&str], env: Option<&str>, api: Option<&str>) -> TokenHosts {
        let flags: Vec<String> = flags.iter().map(|flag| flag.to_string()).collect();
        TokenHosts::from_user(&flags, env, api).expect("valid hosts")
    }

    #[test]
    fn push_tokens_go_to_forge_hosts_and_named_hosts_over_https_only() {
        let none = hosts(&[], None, None);
        let github = Some(Forge::Github);
        let gitlab = Some(Forge::Gitlab);
        assert_eq!(
            token_decision("https://github.com/acme/web.git", github, &none),
            Decision::Offer
        );
        assert_eq!(
            token_decision(
                "https://x-access-token:t@GitHub.com./acme/web",
                github,
                &none
            ),
            Decision::Offer
        );
        assert_eq!(
            token_decision("https://gitlab.com/g/p.git", gitlab, &none),
            Decision::Offer
        );
        for (url, forge, host) in [
            (
                "https://github.evil.test/acme/web.git",
                github,
                "github.evil.test",
            ),
            (
                "https://github.com.evil.test/acme/web.git",
                github,
                "github.com.evil.test",
            ),
            (
                "https://github.com@evil.test/acme/web.git",
                github,
                "evil.test",
            ),
            (
                "https://gitlab-sso.attacker.net/g/p.git",
                gitlab,
                "gitlab-sso.attacker.net",
            ),
            // GitHub's token is not GitLab's: gitlab.com gets no GITHUB_TOKEN.
            ("https://gitlab.com/g/p.git", github, "gitlab.com"),
            ("https://127.0.0.1:8443/acme/web.git", github, "127.0.0.1"),
        ] {
            assert_eq!(
                token_decision(url, forge, &none),
                Decision::Withhold(host.to_string()),
                "{url}"
            );
        }
        for url in [
            "http://github.com/acme/web.git",
            "git@github.com:acme/web.git",
            "ssh://git@github.com/acme/web.git",
            "git://github.com/acme/web.git",
            "file:///srv/git/web.git",
        ] {
            assert_eq!(token_decision(url, github, &none), Decision::Never, "{url}");
        }
        assert_eq!(
            token_decision("https://git.example.com/acme/web.git", None, &none),
            Decision::Never
        );
        // Named hosts: by flag, by the variable, by --api-url; a port given must match.
        let named = hosts(
            &["ghe.corp.example"],
            Some("git.corp.example:8443, "),
            Some("https://api.corp.example/api/v3"),
        );
        for url in [
            "https://ghe.corp.example/acme/web.git",
            "https://GHE.corp.example.:9999/acme/web.git",
            "https://git.corp.example:8443/acme/web.git",
            "https://api.corp.example/acme/web.git",
        ] {
            assert_eq!(
                token_decision(url, github, &named),
                Decision::Offer,
                "{url}"
            );
        }
        assert_eq!(
            token_decision("https://git.corp.example/acme/web.git", github, &named),
            Decision::Withhold("git.corp.example".to_string())
        );
        assert_eq!(
            token_decision("https://sub.ghe.corp.example/acme/web.git", github, &named),
            Decision::Withhold("sub.ghe.corp.example".to_string())
        );
    }
}
