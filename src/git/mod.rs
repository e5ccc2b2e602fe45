//! `--branch`: the fixes of each git repository as one commit on a branch of its own,
//! optionally pushed (`--push`) and proposed (`--pr`).
//!
//! The user's working tree, index and HEAD are never touched: the commit's tree is the base
//! commit's tree with the fixed blobs put in, and the text that is fixed is the committed
//! one. Re-runs are idempotent: the same base and the same fixes leave everything as it is;
//! a moved base rebuilds the branch, unless it carries commits unroot did not make.

pub mod forge;
pub mod message;
pub mod push;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{Commit, ObjectType, Oid, Repository, Signature, Tree};

use crate::edit::Applicability;
use crate::linter::surroundings::with_surroundings;
use crate::linter::{fix_resolved, FileReport};
use crate::output::diff::unified_diff;
use crate::rules::Finding;
use crate::settings::Settings;
use crate::settings::{Setting, Source};
use forge::{Forge, Project, PullRequest, TokenHosts};
use message::{FileChange, GENERATED_TRAILER, TREE_TRAILER};

/// The `Git` flags. The branch and the commit template are settings of the configuration:
/// each repository takes them from its files' ([`Settings`]).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--base BRANCH`: start from (and propose against) this branch instead of HEAD's.
    pub base: Option<String>,
    /// `--author "Name <email>"`.
    pub author: Option<String>,
    /// `--push [REMOTE]`.
    pub push: Option<String>,
    /// `--pr`.
    pub pr: bool,
    /// `--forge github|gitlab`.
    pub forge: Option<Forge>,
    /// `--api-url URL`.
    pub api_url: Option<String>,
    /// `--token-host HOST`: more hosts a forge token may go to (with `UNROOT_TOKEN_HOSTS`).
    pub token_hosts: Vec<String>,
    /// `--timeout SECONDS`: the longest wait on the network ([`DEFAULT_TIMEOUT`] without it).
    pub timeout: Option<std::time::Duration>,
    /// `--dry-run`: show, create nothing.
    pub dry_run: bool,
}

/// The settings every repository shares.
struct Run<'a> {
    options: &'a Options,
    /// What the repository step checked: committed as it planned it.
    held: Held<'a>,
    author: Option<(String, String)>,
    /// Where a token may go.
    token_hosts: TokenHosts,
}

/// The files of one repository.
struct Group {
    repo: Repository,
    /// How the repository is shown: the path the user gave, less the file's path in it.
    display: String,
    /// Each file as the user named it, its path in the repository, and its settings.
    files: Vec<(PathBuf, String, Arc<Settings>)>,
}

/// Where a branch is, before unroot moves it.
struct BranchState<'r> {
    /// The local branch's commit.
    local: Option<Oid>,
    /// `--push`: the remote.
    target: Option<push::Target<'r>>,
    /// `--pr`: the forge project.
    project: Option<Project>,
    /// The remote branch's commit (not looked up in a dry run).
    remote_tip: Option<Oid>,
}

/// What one repository's commit is made with, from its files' configuration.
struct Branch {
    name: String,
    /// The commit template's path and where it was set (`None`: the shipped template).
    template: Setting<Option<PathBuf>>,
}

/// Without `--timeout`: the longest a forge API request may take, and the longest a git
/// transport waits to connect, and then for each read or write.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The most bytes a commit template may hold: it is a message, not a file to publish.
pub const TEMPLATE_LIMIT: u64 = 64 * 1024;

/// One fixed file.
struct FileFix {
    /// The file as the user named it.
    file: PathBuf,
    /// Its path in the repository.
    path: String,
    mode: i32,
    source: String,
    fixed: String,
    findings: Vec<Finding>,
    /// The fixes applied to this file: safe ones, or unsafe ones too.
    threshold: Applicability,
    /// The coherent change it is part of ([`Held::changes`]), if the repository step checked it.
    change: Option<usize>,
}

/// A file the linter's repository step checked (a Dockerfile that deployment files run, or
/// a deployment file), with its fixes as that step planned them on the working tree's text.
#[derive(Debug)]
pub struct Prepared {
    /// The bytes the check read: committed only when the committed blob is the same.
    pub bytes: Vec<u8>,
    pub source: String,
    pub fixed: String,
    pub findings: Vec<Finding>,
    /// The fixes applied: safe ones, or unsafe ones too.
    pub threshold: Applicability,
}

impl Prepared {
    /// The file whose check read `bytes` and made `report`.
    pub fn new(bytes: Vec<u8>, report: &FileReport) -> Prepared {
        Prepared {
            bytes,
            source: report.source.clone(),
            fixed: report.fixed.clone(),
            findings: report.findings.clone(),
            threshold: report.threshold,
        }
    }
}

/// What the repository step checked: its files, and the coherent changes they make (sets of
/// files whose fixes go into a commit together or not at all).
#[derive(Clone, Copy)]
pub struct Held<'a> {
    pub files: &'a std::collections::HashMap<PathBuf, Prepared>,
    pub changes: &'a [Vec<PathBuf>],
}

/// `--interactive --branch`: decides what one file's commit holds. It gets the file (as the
/// user named it), its settings, its committed bytes, and the stream the reports go to (for
/// the prompts); it returns the text to commit and the findings that text fixes, `None` to
/// leave the file out of the commit, or an error (no commit is made in that repository).
pub type Choose<'a> = dyn FnMut(&Path, &Settings, &[u8], &mut dyn Write) -> Result<Option<(String, Vec<Finding>)>, String>
    + 'a;

/// What a `--branch` run did.
#[derive(Debug)]
pub struct Outcome {
    /// False when anything failed (exit status 2).
    pub ok: bool,
    /// The files whose fixes are on a branch (or would be, in a dry run), as given.
    pub committed: Vec<PathBuf>,
}

/// Runs `--branch` (and `--push`, `--pr`) for `files`. Reports go to `stdout` when
/// `reports_to_stdout` (the text format), else to `stderr` with the errors.
///
/// The files in `held` are committed as the repository step fixed them, each coherent
/// change whole or not at all.
pub fn run(
    options: &Options,
    files: &[(PathBuf, Arc<Settings>)],
    held: &Held,
    reports_to_stdout: bool,
    stdout: &mut dyn Write,
    err: &mut dyn Write,
) -> Outcome {
    run_with(options, files, *held, reports_to_stdout, stdout, err, None)
}

/// As [`run`], with `choose` deciding the text committed for each file instead of the
/// fixes at its threshold (`--interactive --branch`); reports go to `stdout`.
///
/// A file in `held` is offered to `choose` only when its committed blob is the text the
/// repository step checked; when one file of a coherent change is not, none of the change is
/// offered (nothing is asked about a change that cannot be committed whole).
pub fn run_choosing(
    options: &Options,
    files: &[(PathBuf, Arc<Settings>)],
    held: &Held,
    choose: &mut Choose,
    stdout: &mut dyn Write,
    err: &mut dyn Write,
) -> bool {
    run_with(options, files, *held, true, stdout, err, Some(choose)).ok
}

fn run_with(
    options: &Options,
    files: &[(PathBuf, Arc<Settings>)],
    held: Held,
    reports_to_stdout: bool,
    stdout: &mut dyn Write,
    err: &mut dyn Write,
    mut choose: Option<&mut Choose>,
) -> Outcome {
    let secrets: Vec<String> = ["GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|value| value.trim().to_string())
        .filter(|value| value.len() >= 4)
        .collect();
    let say = |stream: &mut dyn Write, text: &str| {
        let _ = writeln!(stream, "{}", redact(text, &secrets));
    };
    let author = match options.author.as_deref().map(parse_author).transpose() {
        Ok(author) => author,
        Err(message) => {
            say(err, &format!("error: {message}"));
            return Outcome {
                ok: false,
                committed: Vec::new(),
            };
        }
    };
    // Read only when something may be sent: a plain `--branch` has no use for it.
    let env_hosts = options
        .push
        .as_ref()
        .and_then(|_| std::env::var(forge::TOKEN_HOSTS_VARIABLE).ok());
    let token_hosts = match TokenHosts::from_user(
        &options.token_hosts,
        env_hosts.as_deref(),
        options.api_url.as_deref(),
    ) {
        Ok(hosts) => hosts,
        Err(message) => {
            say(err, &format!("error: {message}"));
            return Outcome {
                ok: false,
                committed: Vec::new(),
            };
        }
    };
    let run = Run {
        options,
        held,
        author,
        token_hosts,
    };
    if options.push.is_some() {
        let millis = i32::try_from(run.timeout().as_millis()).unwrap_or(i32::MAX);
        // SAFETY: libgit2's options are globals without a lock. Only this thread uses
        // libgit2, and it is not using it now: the checks that ran before (on other threads)
        // do not touch git, and the repositories are opened below.
        let set = unsafe {
            git2::opts::set_server_connect_timeout_in_milliseconds(millis)
                .and_then(|()| git2::opts::set_server_timeout_in_milliseconds(millis))
        };
        if let Err(error) = set {
            say(err, &format!("error: --timeout: {}", error.message()));
            return Outcome {
                ok: false,
                committed: Vec::new(),
            };
        }
    }

    let mut ok = true;
    let mut committed = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    for (file, settings) in files {
        match locate(file) {
            Ok((repo, relative)) => {
                let workdir = repo.workdir().map(Path::to_path_buf);
                let entry = (file.clone(), relative.clone(), settings.clone());
                match groups
                    .iter_mut()
                    .find(|group| group.repo.workdir().map(Path::to_path_buf) == workdir)
                {
                    Some(group) => group.files.push(entry),
                    None => groups.push(Group {
                        display: display_of(file, &relative, &repo),
                        repo,
                        files: vec![entry],
                    }),
                }
            }
            Err(message) => {
                ok = false;
                say(err, &format!("{}: {message}", file.display()));
            }
        }
    }
    for group in &groups {
        let mut lines = Vec::new();
        let result = group.branch().and_then(|branch| {
            run.repository(group, &branch, &mut lines, choose.as_deref_mut(), stdout)
        });
        for line in lines {
            if reports_to_stdout {
                say(stdout, &line);
            } else {
                say(err, &line);
            }
        }
        match result {
            Ok(files) => committed.extend(files),
            Err(message) => {
                ok = false;
                say(err, &format!("{}: {message}", group.display));
            }
        }
    }
    Outcome { ok, committed }
}

impl Options {
    /// The checks that need no repository: `--author`, and the branch name and template file
    /// of a configuration (the first PATH's). The command line runs them before any file is
    /// checked.
    pub fn validate(
        &self,
        branch: &str,
        commit_template: &Setting<Option<PathBuf>>,
    ) -> Result<(), String> {
        check_branch_name(branch)?;
        if let Some(author) = &self.author {
            parse_author(author)?;
        }
        // A configuration file's template is read from each repository's commit, later.
        if let (Some(path), Source::CommandLine) = (&commit_template.value, &commit_template.source)
        {
            read_local_template(path)?;
        }
        Ok(())
    }
}

impl Group {
    /// The branch and commit template of this repository: the value its files' configurations
    /// agree on (the command line's, when given). Configurations that disagree are an error:
    /// one repository gets one commit.
    fn branch(&self) -> Result<Branch, String> {
        let name = self
            .agreed("branch", |settings| &settings.config.branch)?
            .value;
        check_branch_name(&name)?;
        let template = self.agreed("commit-template", |settings| {
            &settings.config.commit_template
        })?;
        Ok(Branch { name, template })
    }

    fn agreed<T: Clone + PartialEq + std::fmt::Debug>(
        &self,
        key: &str,
        setting: impl Fn(&Settings) -> &Setting<T>,
    ) -> Result<Setting<T>, String> {
        let mut values: Vec<&Setting<T>> = Vec::new();
        for (_, _, settings) in &self.files {
            let value = setting(settings);
            if !values.iter().any(|seen| seen.value == value.value) {
                values.push(value);
            }
        }
        match values.as_slice() {
            [] => Err("no file to commit".to_string()),
            [one] => Ok((*one).clone()),
            [first, second, ..] => Err(format!(
                "the configurations of this repository's files disagree on `{key}` ({} from {}, \
                 {} from {}), and one repository gets one commit: set it to one value in each \
                 configuration file, or give it on the command line",
                shown_value(&first.value),
                first.source,
                shown_value(&second.value),
                second.source
            )),
        }
    }
}

/// A setting's value in a message: quoted (its `Debug` form), without `Some(…)` around it.
fn shown_value<T: std::fmt::Debug>(value: &T) -> String {
    let text = format!("{value:?}");
    text.strip_prefix("Some(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(&text)
        .to_string()
}

/// The commit template's text. One named on the command line is read from the file system
/// (any regular file); one a configuration file names must be a regular file of the
/// repository and is read from the commit being fixed, so a repository cannot make unroot
/// publish a file outside it (`/etc/passwd`, `../secret`), one it does not commit
/// (`.git/config`, which may hold a token) or one a symbolic link points to.
fn commit_template(
    setting: &Setting<Option<PathBuf>>,
    repo: &Repository,
    base_tree: &Tree,
    base_name: &str,
) -> Result<String, String> {
    let Some(path) = &setting.value else {
        return Ok(message::COMMIT_TEMPLATE.to_string());
    };
    match setting.source {
        Source::CommandLine => read_local_template(path),
        _ => committed_template(repo, path, &setting.source, base_tree, base_name),
    }
}

/// `--commit-template FILE`: a regular file of at most [`TEMPLATE_LIMIT`] bytes of UTF-8 text.
fn read_local_template(path: &Path) -> Result<String, String> {
    let shown = crate::fs::paths::shown_path(path);
    let metadata = std::fs::metadata(path).map_err(|error| format!("{shown}: {error}"))?;
    if !metadata.is_file() {
        return Err(format!(
            "{shown}: the commit template is not a regular file"
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(TEMPLATE_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(|error| format!("{shown}: {error}"))?;
    template_text(&shown, bytes)
}

/// A configuration file's template: the blob at its path in the commit being fixed.
fn committed_template(
    repo: &Repository,
    path: &Path,
    source: &Source,
    base_tree: &Tree,
    base_name: &str,
) -> Result<String, String> {
    let shown = crate::fs::paths::shown_path(path);
    let relative = path_in_repository(repo, path).ok_or_else(|| {
        format!(
            "{shown}: the commit template set at {source} is outside the repository: a \
            configuration file may name only a file of its own repository (any file may be \
            named with --commit-template)"
        )
    })?;
    let entry = base_tree.get_path(Path::new(&relative)).map_err(|_| {
        format!(
            "{shown}: the commit template set at {source} is not committed on `{base_name}`: \
            it is read from the commit that is fixed, not from the working tree"
        )
    })?;
    if entry.kind() != Some(ObjectType::Blob) || !matches!(entry.filemode(), 0o100644 | 0o100755) {
        return Err(format!(
            "{shown}: the commit template set at {source} is not a regular file on \
            `{base_name}` (symbolic links are not followed)"
        ));
    }
    let blob = repo
        .find_blob(entry.id())
        .map_err(|error| format!("{shown}: {}", error.message()))?;
    if blob.size() as u64 > TEMPLATE_LIMIT {
        return Err(template_too_large(&shown));
    }
    template_text(&shown, blob.content().to_vec())
}

fn template_too_large(shown: &str) -> String {
    format!(
        "{shown}: the commit template is larger than {} KiB",
        TEMPLATE_LIMIT / 1024
    )
}

fn template_text(shown: &str, bytes: Vec<u8>) -> Result<String, String> {
    if bytes.len() as u64 > TEMPLATE_LIMIT {
        return Err(template_too_large(shown));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{shown}: the commit template is not UTF-8"))?;
    if text.trim().is_empty() {
        return Err(format!("{shown}: the commit template is empty"));
    }
    Ok(text)
}

/// `path` (absolute, lexical) as a `/`-separated path inside `repo`'s working tree, if it is
/// in it. The working tree is tried as git spells it and resolved, and so is the nearest
/// existing directory above `path` (the current directory may be spelled through a link).
fn path_in_repository(repo: &Repository, path: &Path) -> Option<String> {
    let workdir = repo.workdir()?;
    let roots = [Some(workdir.to_path_buf()), workdir.canonicalize().ok()];
    let mut spellings = vec![path.to_path_buf()];
    let mut tail = Vec::new();
    let mut dir = path;
    while let Some(parent) = dir.parent() {
        tail.push(dir.file_name()?);
        if let Ok(resolved) = parent.canonicalize() {
            let mut resolved = resolved;
            resolved.extend(tail.iter().rev());
            spellings.push(resolved);
            break;
        }
        dir = parent;
    }
    for spelling in &spellings {
        for root in roots.iter().flatten() {
            let Ok(relative) = spelling.strip_prefix(root) else {
                continue;
            };
            let parts: Option<Vec<&str>> = relative
                .components()
                .map(|part| match part {
                    std::path::Component::Normal(name) => name.to_str(),
                    _ => None,
                })
                .collect();
            if let Some(parts) = parts.filter(|parts| !parts.is_empty()) {
                return Some(parts.join("/"));
            }
        }
    }
    None
}

/// A branch name git accepts, and not one that looks like a path the user meant to check.
fn check_branch_name(name: &str) -> Result<(), String> {
    // As `git check-ref-format --branch` does, and not a full ref name that would become
    // `refs/heads/refs/heads/…`; git's own limit on a ref's length is the file system's.
    let shown: String = name.chars().take(40).collect();
    if name.len() > 200 {
        return Err(format!(
            "`{shown}…` is not a valid branch name: at most 200 bytes"
        ));
    }
    if !git2::Branch::name_is_valid(name).unwrap_or(false)
        || name.starts_with('-')
        || name == "@"
        || name == "HEAD"
        || name.starts_with("refs/")
    {
        return Err(format!("`{name}` is not a valid branch name"));
    }
    if Path::new(name).exists() {
        return Err(format!(
            "`--branch` took `{name}` as the branch name, but it is a path: write the paths before \
             the flags or after `--` (`unroot --branch -- {name}`), or give the branch a name \
             that is not a path here"
        ));
    }
    Ok(())
}

/// `Name <email>`.
fn parse_author(text: &str) -> Result<(String, String), String> {
    let invalid = || format!("--author `{text}` is not `Name <email>`");
    let (name, rest) = text.split_once('<').ok_or_else(invalid)?;
    let email = rest.strip_suffix('>').ok_or_else(invalid)?;
    let (name, email) = (name.trim(), email.trim());
    if name.is_empty() || email.is_empty() || email.contains(['<', '>']) {
        return Err(invalid());
    }
    Ok((name.to_string(), email.to_string()))
}

/// The repository that holds `file`, and the file's path in it (`/`-separated).
fn locate(file: &Path) -> Result<(Repository, String), String> {
    let parent = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let repo = Repository::discover(parent).map_err(|_| "not in a git repository".to_string())?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| "in a bare git repository (no working tree)".to_string())?;
    let workdir = workdir
        .canonicalize()
        .map_err(|error| format!("{}: {error}", workdir.display()))?;
    let dir = parent
        .canonicalize()
        .map_err(|error| format!("{}: {error}", parent.display()))?;
    let name = file.file_name().ok_or_else(|| "not a file".to_string())?;
    let absolute = dir.join(name);
    let relative = absolute
        .strip_prefix(&workdir)
        .map_err(|_| "outside the repository's working tree".to_string())?;
    let parts: Vec<&str> = relative
        .components()
        .map(|part| part.as_os_str().to_str())
        .collect::<Option<_>>()
        .ok_or_else(|| "the path is not UTF-8".to_string())?;
    Ok((repo, parts.join("/")))
}

/// The repository as the user named it: `file` less its path inside the repository.
fn display_of(file: &Path, relative: &str, repo: &Repository) -> String {
    let given = file.to_string_lossy().replace('\\', "/");
    if let Some(prefix) = given.strip_suffix(relative) {
        let prefix = prefix.trim_end_matches('/');
        let prefix = prefix.strip_prefix("./").unwrap_or(prefix);
        return if prefix.is_empty() || prefix == "." {
            ".".to_string()
        } else {
            prefix.to_string()
        };
    }
    repo.workdir()
        .map(|dir| dir.display().to_string())
        .unwrap_or_else(|| given.clone())
        .trim_end_matches('/')
        .to_string()
}

/// Replaces every secret and every URL's password with `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_string();
    for secret in secrets {
        if !secret.is_empty() {
            text = text.replace(secret.as_str(), "***");
        }
    }
    // `scheme://user:password@host` → `scheme://user:***@host`.
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(start) = rest.find("://") {
        let (before, after) = rest.split_at(start + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace() || c == '`' || c == ')' || c == '\'')
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => out.push_str(&format!("{user}:***")),
                    None if userinfo.len() > 20 => out.push_str("***"),
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Where the branch starts: its name and commit.
fn resolve_base<'r>(
    repo: &'r Repository,
    options: &Options,
) -> Result<(String, Commit<'r>), String> {
    if let Some(base) = &options.base {
        let remote = options.push.as_deref().unwrap_or("origin");
        for refname in [
            format!("refs/heads/{base}"),
            format!("refs/remotes/{remote}/{base}"),
        ] {
            if let Ok(reference) = repo.find_reference(&refname) {
                let commit = reference
                    .peel_to_commit()
                    .map_err(|error| format!("{refname}: {}", error.message()))?;
                return Ok((base.clone(), commit));
            }
        }
        return Err(format!(
            "the base branch `{base}` does not exist (neither refs/heads/{base} nor \
             refs/remotes/{remote}/{base})"
        ));
    }
    let head = repo.head().map_err(|error| {
        if error.code() == git2::ErrorCode::UnbornBranch {
            "the repository has no commits yet".to_string()
        } else {
            format!("cannot read HEAD: {}", error.message())
        }
    })?;
    if !head.is_branch() {
        return Err(
            "HEAD is detached: pass --base BRANCH to name the branch to start from (and to open \
             the pull request against)"
                .to_string(),
        );
    }
    let name = head
        .shorthand()
        .map_err(|_| "the current branch's name is not UTF-8".to_string())?
        .to_string();
    let commit = head
        .peel_to_commit()
        .map_err(|error| format!("cannot read HEAD: {}", error.message()))?;
    Ok((name, commit))
}

/// The linked worktree, if any, whose HEAD is `refname`.
fn checked_out_elsewhere(repo: &Repository, refname: &str) -> Option<PathBuf> {
    let names = repo.worktrees().ok()?;
    names.iter().flatten().flatten().find_map(|name| {
        let worktree = repo.find_worktree(name).ok()?;
        let opened = Repository::open_from_worktree(&worktree).ok()?;
        let head = opened.find_reference("HEAD").ok()?;
        (head.symbolic_target().ok().flatten() == Some(refname))
            .then(|| worktree.path().to_path_buf())
    })
}

/// Whether `commit` is one unroot made and nobody amended.
fn is_unroot_commit(commit: &Commit) -> bool {
    let Ok(message) = commit.message() else {
        return false;
    };
    let Ok(trailers) = git2::message_trailers_strs(message) else {
        return false;
    };
    let mut generated = false;
    let mut tree_matches = false;
    for (key, value) in trailers.iter() {
        if key.eq_ignore_ascii_case(GENERATED_TRAILER) && value.trim() == "true" {
            generated = true;
        }
        if key.eq_ignore_ascii_case(TREE_TRAILER) && value.trim() == commit.tree_id().to_string() {
            tree_matches = true;
        }
    }
    generated && tree_matches
}

/// Refuses a branch that carries a commit unroot did not make (Renovate's "branch modified").
fn check_unmodified(
    repo: &Repository,
    tip: Oid,
    base: Oid,
    branch: &str,
    place: &str,
) -> Result<(), String> {
    let git_error = |error: git2::Error| format!("reading branch `{branch}`: {}", error.message());
    let mut walk = repo.revwalk().map_err(git_error)?;
    walk.push(tip).map_err(git_error)?;
    walk.hide(base).map_err(git_error)?;
    for oid in walk {
        let commit = repo
            .find_commit(oid.map_err(git_error)?)
            .map_err(git_error)?;
        if !is_unroot_commit(&commit) {
            let author = commit.author();
            return Err(format!(
                "branch modified: `{branch}` {place} has commit {} (\"{}\", {} <{}>) that unroot \
                 did not make, so unroot leaves the branch alone. Merge or close its pull \
                 request, or delete the branch, and the next run starts it afresh",
                short(oid_of(&commit)),
                commit.summary().ok().flatten().unwrap_or(""),
                author.name().unwrap_or(""),
                author.email().unwrap_or("")
            ));
        }
    }
    Ok(())
}

fn oid_of(commit: &Commit) -> Oid {
    commit.id()
}

fn short(oid: Oid) -> String {
    oid.to_string()[..10].to_string()
}

/// A file to put in a tree: its path's components, its blob and its mode.
type Change<'a> = (&'a [&'a str], Oid, i32);

/// `tree` with each change put in, subtrees rebuilt as needed.
fn build_tree(
    repo: &Repository,
    tree: Option<&Tree>,
    changes: &[Change],
) -> Result<Oid, git2::Error> {
    let mut builder = repo.treebuilder(tree)?;
    let mut subdirs: BTreeMap<&str, Vec<Change>> = BTreeMap::new();
    for &(path, oid, mode) in changes {
        match path {
            [name] => {
                builder.insert(name, oid, mode)?;
            }
            [dir, rest @ ..] => subdirs.entry(dir).or_default().push((rest, oid, mode)),
            [] => {}
        }
    }
    for (dir, list) in subdirs {
        let subtree = match tree.and_then(|tree| tree.get_name(dir)) {
            Some(entry) if entry.kind() == Some(ObjectType::Tree) => {
                Some(repo.find_tree(entry.id())?)
            }
            _ => None,
        };
        let id = build_tree(repo, subtree.as_ref(), &list)?;
        builder.insert(dir, id, 0o040000)?;
    }
    builder.write()
}

/// `fixes` less those of a coherent change that is not whole in them: a file of the change
/// has fixes but is not among them (not committed, changed since, in another repository), so
/// none of the change is committed.
fn whole_changes(fixes: Vec<FileFix>, held: Held, lines: &mut Vec<String>) -> Vec<FileFix> {
    let present: Vec<&Path> = fixes.iter().map(|fix| fix.file.as_path()).collect();
    let broken: Vec<usize> = (0..held.changes.len())
        .filter(|&index| {
            let change = &held.changes[index];
            let changed = |path: &&PathBuf| {
                held.files
                    .get(*path)
                    .is_some_and(|prepared| prepared.fixed != prepared.source)
            };
            let touched = change.iter().any(|path| present.contains(&path.as_path()));
            touched
                && change
                    .iter()
                    .filter(changed)
                    .any(|path| !present.contains(&path.as_path()))
        })
        .collect();
    fixes
        .into_iter()
        .filter(|fix| {
            let Some(index) = fix.change.filter(|index| broken.contains(index)) else {
                return true;
            };
            lines.push(left_out(&fix.file, held, index));
            false
        })
        .collect()
}

/// Why `file` is left out: the other files of its coherent change `index` that have fixes
/// cannot be committed with it.
fn left_out(file: &Path, held: Held, index: usize) -> String {
    let others: Vec<String> = held.changes[index]
        .iter()
        .filter(|path| path.as_path() != file)
        .filter(|path| {
            held.files
                .get(*path)
                .is_some_and(|prepared| prepared.fixed != prepared.source)
        })
        .map(|path| format!("`{}`", path.display()))
        .collect();
    format!(
        "{}: left out of the branch: its fixes are one change with {}, which cannot be \
         committed with them, and a change is committed whole or not at all",
        file.display(),
        others.join(", ")
    )
}

impl Run<'_> {
    /// `--timeout`, or [`DEFAULT_TIMEOUT`].
    fn timeout(&self) -> std::time::Duration {
        self.options.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// Author and committer: `--author` for the author, the repository's `user.name` and
    /// `user.email` for the committer (and the author without `--author`).
    fn signatures(
        &self,
        repo: &Repository,
    ) -> Result<(Signature<'static>, Signature<'static>), String> {
        let configured = repo.signature().ok();
        let flag = match &self.author {
            Some((name, email)) => Some(
                Signature::now(name, email)
                    .map_err(|error| format!("--author: {}", error.message()))?,
            ),
            None => None,
        };
        match (flag, configured) {
            (Some(author), Some(committer)) => Ok((author, committer)),
            (Some(author), None) => Ok((author.clone(), author)),
            (None, Some(committer)) => Ok((committer.clone(), committer)),
            (None, None) => Err(
                "no author for the commit: set user.name and user.email in git config \
                 (`git config user.name …`), or pass --author \"Name <email>\""
                    .to_string(),
            ),
        }
    }

    /// Lints the committed version of each file (or lets `choose` fix it, writing its
    /// prompts to `out`); returns the fixed ones.
    fn fixes(
        &self,
        group: &Group,
        base_tree: &Tree,
        base_name: &str,
        lines: &mut Vec<String>,
        mut choose: Option<&mut Choose>,
        out: &mut dyn Write,
    ) -> Result<Vec<FileFix>, String> {
        let repo = &group.repo;
        let held = self.held;
        let mut fixes = Vec::new();
        let mut errors = Vec::new();
        let change_of: std::collections::HashMap<&Path, usize> = held
            .changes
            .iter()
            .enumerate()
            .flat_map(|(index, change)| change.iter().map(move |path| (path.as_path(), index)))
            .collect();
        // `--interactive`: the coherent changes that cannot be committed whole, known before
        // any question (a held file that differs from its commit, with fixes planned).
        let mut unchosen: Vec<usize> = Vec::new();
        if choose.is_some() {
            for (file, relative, _) in &group.files {
                let Some(prepared) = held.files.get(file) else {
                    continue;
                };
                let committed = base_tree
                    .get_path(Path::new(relative))
                    .ok()
                    .and_then(|entry| repo.find_blob(entry.id()).ok())
                    .is_some_and(|blob| blob.content() == prepared.bytes);
                if let (false, true, Some(&index)) = (
                    committed,
                    prepared.fixed != prepared.source,
                    change_of.get(file.as_path()),
                ) {
                    unchosen.push(index);
                }
            }
        }
        for (file, relative, settings) in &group.files {
            let shown = file.display();
            let entry = match base_tree.get_path(Path::new(relative)) {
                Ok(entry) => entry,
                Err(_) => {
                    lines.push(format!(
                        "{shown}: not committed on `{base_name}`; left out of the branch"
                    ));
                    continue;
                }
            };
            let mode = entry.filemode();
            if entry.kind() != Some(ObjectType::Blob) || mode == 0o120000 {
                lines.push(format!(
                    "{shown}: not a regular file on `{base_name}`; left out of the branch"
                ));
                continue;
            }
            if let Some(prepared) = held.files.get(file) {
                let blob = repo
                    .find_blob(entry.id())
                    .map_err(|error| format!("{relative}: {}", error.message()))?;
                if blob.content() != prepared.bytes {
                    lines.push(format!(
                        "{shown}: differs from the version committed on `{base_name}`; its \
                         fixes are planned with the deployment files on the working tree, so \
                         they are left out of the branch (commit the file first)"
                    ));
                    continue;
                }
                let change = change_of.get(file.as_path()).copied();
                if let Some(choose) = choose.as_mut() {
                    if let Some(index) = change.filter(|index| unchosen.contains(index)) {
                        if prepared.fixed != prepared.source {
                            lines.push(left_out(file, held, index));
                        }
                        continue;
                    }
                    match choose(file, settings, blob.content(), &mut *out) {
                        Ok(Some((fixed, findings))) => fixes.push(FileFix {
                            file: file.clone(),
                            path: relative.clone(),
                            mode,
                            source: prepared.source.clone(),
                            fixed,
                            findings,
                            threshold: Applicability::Unsafe,
                            change,
                        }),
                        Ok(None) => {}
                        Err(error) => errors.push(error),
                    }
                    continue;
                }
                if prepared.fixed == prepared.source {
                    continue;
                }
                fixes.push(FileFix {
                    file: file.clone(),
                    path: relative.clone(),
                    mode,
                    source: prepared.source.clone(),
                    fixed: prepared.fixed.clone(),
                    findings: prepared.findings.clone(),
                    threshold: prepared.threshold,
                    change,
                });
                continue;
            }
            // A template is reported by the check, never committed to.
            if crate::linter::is_template_name(relative) {
                continue;
            }
            let blob = repo
                .find_blob(entry.id())
                .map_err(|error| format!("{relative}: {}", error.message()))?;
            let content = blob.content();
            let parsed = match crate::syntax::parse_bytes(content) {
                Ok(parsed) => parsed,
                Err(error) => {
                    errors.push(format!(
                        "{shown}:{}: {} (in the version committed on `{base_name}`)",
                        error.line.max(1),
                        error.message
                    ));
                    continue;
                }
            };
            let differs = || std::fs::read(file).ok().as_deref() != Some(content);
            let (fixed, findings) = match choose.as_mut() {
                Some(choose) => {
                    // Said before the questions: their diffs are against the committed text.
                    if differs() {
                        let _ = writeln!(
                            out,
                            "{shown}: the fixes below are planned on the committed version on \
                             `{base_name}` (the file in the working tree differs from it and is \
                             left as it is)"
                        );
                    }
                    match choose(file, settings, content, &mut *out) {
                        Ok(Some(chosen)) => chosen,
                        Ok(None) => continue,
                        Err(error) => {
                            errors.push(error);
                            continue;
                        }
                    }
                }
                None => {
                    let analysis = crate::analysis::Analysis::of(&parsed);
                    let lint = with_surroundings(&settings.lint, file, &parsed, &analysis);
                    let outcome = match fix_resolved(&parsed, &lint, settings.threshold) {
                        Ok(outcome) => outcome,
                        Err(error) => {
                            errors.push(format!("{shown}: {error}"));
                            continue;
                        }
                    };
                    if outcome.fixed == parsed.source {
                        continue;
                    }
                    if differs() {
                        lines.push(format!(
                            "{shown}: fixed from the committed version on `{base_name}` (the file \
                             in the working tree differs from it and is left as it is)"
                        ));
                    }
                    (outcome.fixed, outcome.findings)
                }
            };
            // `--interactive` offers unsafe fixes too: what was accepted is what is committed.
            let threshold = if choose.is_some() {
                Applicability::Unsafe
            } else {
                settings.threshold
            };
            fixes.push(FileFix {
                file: file.clone(),
                path: relative.clone(),
                mode,
                source: parsed.source,
                fixed,
                findings,
                threshold,
                change: None,
            });
        }
        if !errors.is_empty() {
            return Err(errors.join("\n"));
        }
        if choose.is_some() {
            // What was accepted is committed: the changes that could not be whole were
            // left out before the questions.
            return Ok(fixes);
        }
        Ok(whole_changes(fixes, held, lines))
    }

    /// Where the branch is now, here and on the remote (with `--push`), and the forge project
    /// (with `--pr`); refuses a branch that carries commits unroot did not make.
    fn branch_state<'r>(
        &self,
        repo: &'r Repository,
        branch: &str,
        base: Oid,
    ) -> Result<BranchState<'r>, String> {
        let options = self.options;
        let refname = format!("refs/heads/{branch}");
        let local = repo
            .find_reference(&refname)
            .ok()
            .and_then(|reference| reference.target());
        let target = match &options.push {
            Some(remote) => Some(push::Target::open(
                repo,
                remote,
                options.forge,
                &self.token_hosts,
                self.timeout(),
            )?),
            None => None,
        };
        let project = match (&target, options.pr) {
            (Some(target), true) => Some(Project::new(
                &target.url,
                options.forge,
                options.api_url.as_deref(),
                &self.token_hosts,
                self.timeout(),
            )?),
            _ => None,
        };
        if let Some(project) = &project {
            if project.token.is_none() && !options.dry_run {
                return Err(project.missing_token());
            }
        }
        let remote_tip = match &target {
            Some(target) if !options.dry_run => {
                let tip = target.remote_branch(&refname)?;
                if let Some(tip) = tip {
                    if repo.find_commit(tip).is_err() {
                        target.fetch(branch)?;
                    }
                }
                tip
            }
            _ => None,
        };
        if let Some(tip) = local {
            check_unmodified(repo, tip, base, branch, "in this repository")?;
        }
        if let (Some(tip), Some(target)) = (remote_tip, &target) {
            check_unmodified(
                repo,
                tip,
                base,
                branch,
                &format!("on remote `{}`", target.name),
            )?;
        }

        Ok(BranchState {
            local,
            target,
            project,
            remote_tip,
        })
    }

    /// Everything for one repository. Report lines go to `lines`; `choose`'s prompts to `out`.
    fn repository(
        &self,
        group: &Group,
        branch: &Branch,
        lines: &mut Vec<String>,
        choose: Option<&mut Choose>,
        out: &mut dyn Write,
    ) -> Result<Vec<PathBuf>, String> {
        let options = self.options;
        let repo = &group.repo;
        let name = &group.display;
        let template_setting = &branch.template;
        let branch = branch.name.as_str();
        let refname = format!("refs/heads/{branch}");
        let git_error = |error: git2::Error| error.message().to_string();

        let (base_name, base) = resolve_base(repo, options)?;
        if base_name == branch {
            return Err(format!(
                "`{branch}` is the base branch; unroot commits to a branch of its own (--branch NAME)"
            ));
        }
        if let Ok(head) = repo.head() {
            if head.name().ok() == Some(refname.as_str()) {
                return Err(format!(
                    "`{branch}` is checked out; unroot does not move the checked-out branch \
                     (switch to another branch, or choose another --branch)"
                ));
            }
        }
        if let Some(path) = checked_out_elsewhere(repo, &refname) {
            return Err(format!(
                "`{branch}` is checked out in the worktree at {}; unroot does not move a \
                 checked-out branch, as git does not (remove that worktree, or choose another \
                 --branch)",
                path.display()
            ));
        }
        let base_tree = base.tree().map_err(git_error)?;
        let template = &commit_template(template_setting, repo, &base_tree, &base_name)?;
        let interactive = choose.is_some();
        // Asking about fixes that could not be committed wastes the user's answers: a branch
        // someone else changed is refused before the questions.
        let early = if interactive {
            Some(self.branch_state(repo, branch, base.id())?)
        } else {
            None
        };
        let fixes = self.fixes(group, &base_tree, &base_name, lines, choose, out)?;
        if fixes.is_empty() {
            lines.push(if interactive {
                format!("{name}: no fix accepted on `{base_name}`; no commit made")
            } else {
                format!("{name}: nothing to fix on `{base_name}`")
            });
            return Ok(Vec::new());
        }

        // A dry run writes its objects to memory only.
        let odb = repo.odb().map_err(git_error)?;
        let _in_memory = if options.dry_run {
            Some(odb.add_new_mempack_backend(1000).map_err(git_error)?)
        } else {
            None
        };
        let mut changes = Vec::new();
        for fix in &fixes {
            let blob = repo.blob(fix.fixed.as_bytes()).map_err(git_error)?;
            changes.push((fix.path.split('/').collect::<Vec<_>>(), blob, fix.mode));
        }
        let changes: Vec<Change> = changes
            .iter()
            .map(|(path, blob, mode)| (path.as_slice(), *blob, *mode))
            .collect();
        let tree_id = build_tree(repo, Some(&base_tree), &changes).map_err(git_error)?;
        let tree = repo.find_tree(tree_id).map_err(git_error)?;

        let files: Vec<FileChange> = fixes
            .iter()
            .map(|fix| FileChange {
                path: &fix.path,
                source: &fix.source,
                findings: &fix.findings,
                threshold: fix.threshold,
            })
            .collect();
        let context = message::Context {
            files: &files,
            branch,
            base: &base_name,
        };
        let commit_message =
            message::with_trailers(&context.commit_message(template), &tree_id.to_string());
        if commit_message
            .lines()
            .next()
            .is_none_or(|line| line.trim().is_empty())
        {
            return Err("the commit message's first line (the subject) is empty".to_string());
        }

        let BranchState {
            local,
            target,
            project,
            remote_tip,
        } = match early {
            Some(state) => state,
            None => self.branch_state(repo, branch, base.id())?,
        };

        let current = remote_tip.or(local);
        let reusable = current.filter(|&oid| {
            repo.find_commit(oid).is_ok_and(|commit| {
                commit.tree_id() == tree_id && commit.parent_ids().eq([base.id()])
            })
        });
        let (commit_id, what) = match reusable {
            Some(oid) => (oid, "up to date"),
            None => {
                let (author, committer) = self.signatures(repo)?;
                let oid = repo
                    .commit(None, &author, &committer, &commit_message, &tree, &[&base])
                    .map_err(git_error)?;
                let what = match current {
                    None => "created",
                    Some(old) => {
                        let on_old_base = repo
                            .find_commit(old)
                            .is_ok_and(|commit| commit.parent_ids().eq([base.id()]));
                        if on_old_base {
                            "updated (the fixes changed)"
                        } else {
                            "rebuilt on the new base"
                        }
                    }
                };
                (oid, what)
            }
        };
        let count = fixes.len();
        let plural = if count == 1 { "" } else { "s" };
        let verb = if options.dry_run { "would be " } else { "" };
        if local != Some(commit_id) && !options.dry_run {
            repo.reference(
                &refname,
                commit_id,
                true,
                &format!("unroot: fixes on top of {base_name}"),
            )
            .map_err(git_error)?;
        }
        if what == "up to date" {
            lines.push(format!(
                "{name}: branch `{branch}` is up to date ({}, {count} file{plural} on top of `{base_name}`)",
                short(commit_id)
            ));
        } else {
            lines.push(format!(
                "{name}: branch `{branch}` {verb}{what}: {} on top of `{base_name}` ({}), {count} file{plural}",
                short(commit_id),
                short(base.id())
            ));
        }
        if options.dry_run {
            let commit = repo.find_commit(commit_id).map_err(git_error)?;
            let author = commit.author();
            lines.push(format!(
                "  author: {} <{}>",
                author.name().unwrap_or(""),
                author.email().unwrap_or("")
            ));
            lines.push(String::new());
            for line in commit.message().unwrap_or("").lines() {
                lines.push(format!("    {line}"));
            }
            lines.push(String::new());
            for fix in &fixes {
                let diff = unified_diff(&fix.path, &fix.source, &fix.fixed);
                lines.extend(diff.lines().map(str::to_string));
            }
        }

        if let Some(target) = &target {
            let shown_url = if target.push_url == target.url {
                target.push_url.clone()
            } else {
                format!("{}, push URL {}", target.url, target.push_url)
            };
            if options.dry_run {
                lines.push(format!(
                    "{name}: would push `{branch}` to `{}` ({shown_url}): +{refname}:{refname}",
                    target.name
                ));
            } else if remote_tip == Some(commit_id) {
                lines.push(format!(
                    "{name}: `{}` already has `{branch}` at {}",
                    target.name,
                    short(commit_id)
                ));
            } else {
                target.push(branch)?;
                lines.push(format!(
                    "{name}: pushed `{branch}` to `{}` ({shown_url})",
                    target.name
                ));
            }
        }

        if let Some(project) = &project {
            let (title, body) = context.pull_request();
            let request = PullRequest {
                branch,
                base: &base_name,
                title: &title,
                body: &body,
            };
            if options.dry_run {
                for (index, line) in project.describe(&request).lines().enumerate() {
                    lines.push(if index == 0 {
                        format!("{name}: {line}")
                    } else {
                        line.to_string()
                    });
                }
            } else {
                let done = project.open_or_update(&request)?;
                lines.push(format!("{name}: {done}"));
            }
        }
        Ok(fixes.into_iter().map(|fix| fix.file).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secrets_and_url_passwords() {
        let secrets = vec!["ghp_secret".to_string()];
        assert_eq!(
            redact(
                "token ghp_secret in https://x:pass@github.com/a/b",
                &secrets
            ),
            "token *** in https://x:***@github.com/a/b"
        );
        assert_eq!(
            redact("git@github.com:a/b and https://github.com/a/b", &secrets),
            "git@github.com:a/b and https://github.com/a/b"
        );
    }

    #[test]
    fn authors_are_name_and_email() {
        assert_eq!(
            parse_author("Unroot Bot <bot@example.com>").unwrap(),
            ("Unroot Bot".to_string(), "bot@example.com".to_string())
        );
        assert!(parse_author("bot@example.com").is_err());
        assert!(parse_author("<bot@example.com>").is_err());
    }

    #[test]
    fn branch_names_are_checked() {
        assert!(check_branch_name("unroot/non-root").is_ok());
        assert!(check_branch_name("bad..name").is_err());
        assert!(check_branch_name("-x").is_err());
        assert!(check_branch_name("a b").is_err());
        for bad in ["@", "HEAD", "refs/heads/main", &"x".repeat(1 << 20)] {
            assert!(
                check_branch_name(bad).is_err(),
                "{}",
                &bad[..bad.len().min(20)]
            );
        }
        assert!(check_branch_name("chore/refs/x").is_ok());
    }
}
