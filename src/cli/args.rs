//! Every flag of the command line, and what they give the layers below: [`Overrides`] for the
//! settings, [`git::Options`] for `--branch`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::git::{self, forge::Forge};
use crate::linter::FileReport;
use crate::output::{diff, github, gitlab, json, rdjson, sarif, xml};
use crate::settings::values::{parse_port_pair, parse_uid, parse_user};
use crate::settings::{ConfigChoice, Overrides, PinMode};

/// Make Node.js Dockerfiles safe to ship: run the final stage as a non-root user.
///
/// unroot finds Dockerfiles (files and directories; `-` reads standard input), reports what
/// makes the image unsafe and shows the diff that fixes it. Nothing is written unless you
/// pass --write. Exit status: 0 nothing to fix, 1 findings remain, 2 error.
#[derive(Debug, Parser)]
#[command(
    name = "unroot",
    version,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Dockerfiles or directories to check; `-` reads standard input and prints the fixed file [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Apply the fixes in place (atomically; a file changed since it was read is not written)
    #[arg(short = 'w', long, visible_alias = "fix", help_heading = "Mode")]
    pub write: bool,

    /// Ask about each fix (unsafe ones too) and write the ones you accept (with --branch: commit them); needs a terminal
    #[arg(short = 'i', long, conflicts_with_all = ["write", "format"], help_heading = "Mode")]
    pub interactive: bool,

    /// Also apply unsafe fixes: those that need a change outside the Dockerfile
    ///
    /// `--no-unsafe-fixes` turns off `unsafe-fixes = true` of a configuration file.
    #[arg(long, help_heading = "Mode", overrides_with = "no_unsafe_fixes")]
    pub unsafe_fixes: bool,

    #[arg(long, hide = true, overrides_with = "unsafe_fixes")]
    pub no_unsafe_fixes: bool,

    /// The file standard input stands for: its configuration applies and messages name it (implies `-`)
    #[arg(long, value_name = "PATH", help_heading = "Mode")]
    pub stdin_filename: Option<PathBuf>,

    /// Write `# unroot ignore=…` above each instruction with findings, so that only new findings are reported
    #[arg(long, help_heading = "Mode", conflicts_with_all = ["write", "interactive", "branch", "unsafe_fixes"])]
    pub add_ignore: bool,

    /// Exit with 0 even when findings remain (errors still exit with 2)
    #[arg(long, help_heading = "Mode", conflicts_with = "exit_non_zero_on_fix")]
    pub exit_zero: bool,

    /// Exit with 1 when a fix was applied, even if no findings remain
    #[arg(long, help_heading = "Mode")]
    pub exit_non_zero_on_fix: bool,

    /// Use this configuration file for every file checked, instead of the nearest `unroot.toml`
    #[arg(
        long,
        value_name = "PATH",
        env = "UNROOT_CONFIG",
        hide_env_values = true,
        conflicts_with = "isolated",
        help_heading = "Configuration"
    )]
    pub config: Option<PathBuf>,

    /// Read no configuration file: the defaults and the flags alone
    #[arg(long, help_heading = "Configuration")]
    pub isolated: bool,

    /// Print a rule's documentation (what, why, how it fixes, an example) and exit
    #[arg(long, value_name = "RULE", help_heading = "Rules", conflicts_with_all = ["paths", "list_rules"])]
    pub explain: Option<String>,

    /// List the rules and exit
    #[arg(long, help_heading = "Rules", conflicts_with = "paths")]
    pub list_rules: bool,

    /// Run only these rules (comma-separated)
    #[arg(
        long,
        value_name = "RULE",
        value_delimiter = ',',
        help_heading = "Rules"
    )]
    pub select: Vec<String>,

    /// Do not run these rules (comma-separated)
    #[arg(
        long,
        value_name = "RULE",
        value_delimiter = ',',
        help_heading = "Rules"
    )]
    pub ignore: Vec<String>,

    /// The user the final stage switches to, instead of the one unroot picks
    #[arg(long, value_name = "NAME|UID[:GID]", value_parser = parse_user, help_heading = "Fix")]
    pub user: Option<String>,

    /// Write a numeric user (`USER 1000:1000`), which Kubernetes `runAsNonRoot` can verify
    ///
    /// `--no-numeric-user` turns off `numeric-user = true` of a configuration file.
    #[arg(long, help_heading = "Fix", overrides_with = "no_numeric_user")]
    pub numeric_user: bool,

    #[arg(long, hide = true, overrides_with = "numeric_user")]
    pub no_numeric_user: bool,

    /// The uid (and gid) the app runs as, everywhere unroot sets one
    ///
    /// The account the fix creates gets it (instead of 10001), `USER` names it (as `N:N` with
    /// `--numeric-user`, or when the image has no account with that uid), and so do
    /// `--chown`, Compose `user:` and Kubernetes `runAsUser`/`runAsGroup`. A user the
    /// Dockerfile itself creates with its own uid keeps it. Config: `uid = N`.
    #[arg(long, value_name = "N", value_parser = parse_uid, help_heading = "Fix")]
    pub uid: Option<u32>,

    /// Check every final stage, not only Node images
    ///
    /// `--no-all-images` turns off `all-images = true` of a configuration file.
    #[arg(long, help_heading = "Fix", overrides_with = "no_all_images")]
    pub all_images: bool,

    #[arg(long, hide = true, overrides_with = "all_images")]
    pub no_all_images: bool,

    /// Also add `--chown=<user>:<group>` to the final stage's COPY/ADD of the application
    #[arg(long, help_heading = "Fix")]
    pub chown: bool,

    /// Where privileged ports move, e.g. `80:3000,443:3443` (default 80→8080, 443→8443, p→p+8000)
    #[arg(long, value_name = "FROM:TO", value_delimiter = ',', value_parser = parse_port_pair, help_heading = "Fix")]
    pub port_map: Vec<(u16, u16)>,

    /// How floating `node` tags are pinned: `26`, `26.7`, `26.7.0` (plus the variant) or `26.7.0-alpine@sha256:…` [default: exact]
    #[arg(long, value_enum, help_heading = "Fix")]
    pub pin: Option<PinArg>,

    /// Registry to resolve `--pin digest` against, e.g. a mirror (default: the image's own registry; Docker Hub for `node`)
    #[arg(long, value_name = "URL", value_parser = parse_registry, help_heading = "Fix")]
    pub registry: Option<String>,

    /// The longest a network wait may take: each registry lookup of `--pin digest` [default: 20]; the push, to connect and then for each read and write, and each pull-request API request [default: 60]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=86400), help_heading = "Fix")]
    pub timeout: Option<u64>,

    /// A fresh copy of Node's release list (https://nodejs.org/dist/index.json) to use instead of the shipped table
    #[arg(long, value_name = "FILE", help_heading = "Fix")]
    pub node_release_table: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text, env = "UNROOT_FORMAT", hide_env_values = true, help_heading = "Output")]
    pub format: Format,

    /// Write what goes to standard output (the report; with `-`, the fixed file) to FILE instead
    #[arg(
        short = 'o',
        long,
        value_name = "FILE",
        env = "UNROOT_OUTPUT_FILE",
        hide_env_values = true,
        help_heading = "Output"
    )]
    pub output_file: Option<PathBuf>,

    /// Print how many findings each rule has instead of the findings (text or json format)
    #[arg(long, conflicts_with = "interactive", help_heading = "Output")]
    pub statistics: bool,

    /// Print the findings alone: no diff, no summary, no progress bar (text format)
    #[arg(short = 'q', long, help_heading = "Output")]
    pub quiet: bool,

    /// Say on standard error which files are checked, and which the directory walk skipped and why (not with -q)
    ///
    /// Skipped: hidden files and directories, those an ignore file (`.gitignore`, `.ignore`,
    /// `.git/info/exclude`) or the configuration's `exclude` leaves out, symbolic links, and
    /// files named like a Dockerfile that are no Dockerfile name; other files are counted.
    /// Standard output and the exit status stay as without it.
    #[arg(short = 'v', long, conflicts_with = "quiet", help_heading = "Output")]
    pub verbose: bool,

    /// When to colour the output (`NO_COLOR` is honoured in auto mode)
    #[arg(long, value_enum, default_value_t = Color::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: Color,

    /// Commit the fixes to branch NAME [default: unroot/non-root, or `branch` in unroot.toml], one commit per git repository; the working tree, index and HEAD are left alone
    #[arg(long, value_name = "NAME", num_args = 0..=1, conflicts_with = "write", help_heading = "Git")]
    pub branch: Option<Option<String>>,

    /// The branch to start from and to open the pull request against (default: the checked-out branch; needed on a detached HEAD)
    #[arg(long, value_name = "BRANCH", requires = "branch", help_heading = "Git")]
    pub base: Option<String>,

    /// The commit's author, "Name <email>" (default: user.name and user.email from the repository's git config)
    #[arg(long, value_name = "AUTHOR", requires = "branch", help_heading = "Git")]
    pub author: Option<String>,

    /// A commit message template to use instead of the shipped one (placeholders: templates/README.md)
    #[arg(long, value_name = "FILE", requires = "branch", help_heading = "Git")]
    pub commit_template: Option<PathBuf>,

    /// Push the branch to REMOTE [default: origin] (ssh agent; for https GITHUB_TOKEN, GH_TOKEN or GITLAB_TOKEN, or git's credential helpers)
    #[arg(long, value_name = "REMOTE", num_args = 0..=1, default_missing_value = "origin", requires = "branch", help_heading = "Git")]
    pub push: Option<String>,

    /// Open or update the branch's pull request (GitHub: GITHUB_TOKEN or GH_TOKEN) or merge request (GitLab: GITLAB_TOKEN)
    #[arg(long, requires = "push", help_heading = "Git")]
    pub pr: bool,

    /// The forge the remote is on, when its host name does not tell
    #[arg(long, value_enum, requires = "push", help_heading = "Git")]
    pub forge: Option<ForgeArg>,

    /// The forge's API root: GitHub Enterprise `https://HOST/api/v3`, self-managed GitLab `https://HOST/api/v4`
    #[arg(long, value_name = "URL", requires = "pr", help_heading = "Git")]
    pub api_url: Option<String>,

    /// A host a forge token may also go to, HOST or HOST:PORT (repeatable; or UNROOT_TOKEN_HOSTS); by default only github.com, api.github.com, gitlab.com and --api-url's host
    #[arg(long, value_name = "HOST", value_parser = parse_token_host, requires = "push", help_heading = "Git")]
    pub token_host: Vec<String>,

    /// Print the commit, the push and the pull request requests instead of making them
    #[arg(long, requires = "branch", help_heading = "Git")]
    pub dry_run: bool,

    /// Print the completion script for SHELL (bash, zsh, fish, elvish, powershell) and exit
    #[arg(long, value_name = "SHELL", help_heading = "Other", conflicts_with_all = ["paths", "explain", "list_rules", "man"])]
    pub completions: Option<clap_complete::Shell>,

    /// Print the man page (roff) and exit
    #[arg(long, help_heading = "Other", conflicts_with_all = ["paths", "explain", "list_rules"])]
    pub man: bool,

    /// Print the configuration in effect for PATH (unroot.toml, flags) and where each value comes from, and exit
    #[arg(long, help_heading = "Other", conflicts_with_all = ["explain", "list_rules", "completions", "man", "interactive"])]
    pub show_config: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Run the language server for editors (LSP on standard input and output): diagnostics, quick fixes, fix-all
    ///
    /// Settings come from each file's unroot.toml and the editor's `unroot` settings; see docs/editors.md.
    Server,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Findings grouped by file, then the diff
    Text,
    /// One JSON array of findings with their planned edits
    Json,
    /// A SARIF 2.1.0 log, for GitHub code scanning and other SARIF viewers
    Sarif,
    /// GitHub Actions workflow commands: one `::warning` annotation per finding
    Github,
    /// The unified diff of the fixes alone, for `git apply` or `patch -p1`
    Diff,
    /// One JSON object per finding and line (the `json` format's objects)
    JsonLines,
    /// A GitLab Code Quality report (`artifacts:reports:codequality`)
    Gitlab,
    /// reviewdog's Diagnostic Format, with the safe fixes as suggestions (`reviewdog -f=rdjson`)
    Rdjson,
    /// Checkstyle XML, for Jenkins and `reviewdog -f=checkstyle`
    Checkstyle,
    /// JUnit XML: a failed test case per finding (`artifacts:reports:junit`)
    Junit,
}

impl Format {
    /// The whole report for standard output, or `None` for `text`, which is written file by
    /// file, in colour, and ends with a summary.
    pub fn render(self, reports: &[FileReport]) -> Option<String> {
        match self {
            Format::Text => None,
            Format::Json => Some(json::render(reports)),
            Format::Sarif => Some(sarif::render(reports)),
            Format::Github => Some(github::render(reports)),
            Format::Diff => Some(diff::render(reports)),
            Format::JsonLines => Some(json::render_lines(reports)),
            Format::Gitlab => Some(gitlab::render(reports)),
            Format::Rdjson => Some(rdjson::render(reports)),
            Format::Checkstyle => Some(xml::render_checkstyle(reports)),
            Format::Junit => Some(xml::render_junit(reports)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PinArg {
    /// The major version: `26-alpine`
    Major,
    /// Major and minor: `26.7-alpine`
    Minor,
    /// The full release: `26.7.0-alpine`
    Exact,
    /// The full release and the digest the registry serves for it: `26.7.0-alpine@sha256:…`
    Digest,
    /// Keep floating tags floating: no `floating-tag` findings (the `# unroot pin=none` pragma on every stage)
    None,
}

/// `--forge`: the forge's API protocol (the git layer's [`Forge`], which knows nothing of clap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ForgeArg {
    /// GitHub or GitHub Enterprise Server: pull requests
    Github,
    /// GitLab (gitlab.com or self-managed): merge requests
    Gitlab,
}

impl From<ForgeArg> for Forge {
    fn from(forge: ForgeArg) -> Forge {
        match forge {
            ForgeArg::Github => Forge::Github,
            ForgeArg::Gitlab => Forge::Gitlab,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// `--registry`: an `http://` or `https://` URL, kept without a trailing `/`.
fn parse_registry(value: &str) -> Result<String, String> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| format!("`{value}` is not an http:// or https:// URL"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || value.contains(|c: char| c.is_whitespace() || c == '?' || c == '#') {
        return Err(format!("`{value}` is not a registry URL"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// `--token-host`: a host name, `HOST:PORT` or a URL, checked as the git layer reads it.
fn parse_token_host(value: &str) -> Result<String, String> {
    git::forge::parse_host_entry(value)?;
    Ok(value.to_string())
}

impl From<PinArg> for PinMode {
    fn from(pin: PinArg) -> PinMode {
        match pin {
            PinArg::Major => PinMode::Major,
            PinArg::Minor => PinMode::Minor,
            PinArg::Exact => PinMode::Exact,
            PinArg::Digest => PinMode::Digest,
            PinArg::None => PinMode::None,
        }
    }
}

impl Args {
    /// What the flags set over the configuration files.
    pub fn overrides(&self) -> Overrides {
        let given = |list: &Vec<String>| (!list.is_empty()).then(|| list.clone());
        // `--x` and `--no-x` override each other: the last one given is the one set.
        let either = |yes: bool, no: bool| (yes || no).then_some(yes);
        Overrides {
            config: match (&self.config, self.isolated) {
                (_, true) => ConfigChoice::Isolated,
                (Some(file), false) => ConfigChoice::File(file.clone()),
                (None, false) => ConfigChoice::Nearest,
            },
            select: given(&self.select),
            ignore: given(&self.ignore),
            unsafe_fixes: either(self.unsafe_fixes, self.no_unsafe_fixes),
            user: self.user.clone(),
            numeric_user: either(self.numeric_user, self.no_numeric_user),
            uid: self.uid,
            pin: self.pin.map(PinMode::from),
            port_map: (!self.port_map.is_empty()).then(|| self.port_map.clone()),
            all_images: either(self.all_images, self.no_all_images),
            branch: self.branch.clone().flatten(),
            commit_template: self.commit_template.clone(),
            chown: self.chown,
            offer_unsafe: self.interactive,
            registry: self.registry.clone(),
            network_timeout: self.timeout.map(std::time::Duration::from_secs),
        }
    }

    /// The `--branch` flags, when `--branch` is given.
    pub fn git_options(&self) -> Option<git::Options> {
        self.branch.as_ref()?;
        Some(git::Options {
            base: self.base.clone(),
            author: self.author.clone(),
            push: self.push.clone(),
            pr: self.pr,
            forge: self.forge.map(Forge::from),
            api_url: self.api_url.clone(),
            token_hosts: self.token_host.clone(),
            timeout: self.timeout.map(std::time::Duration::from_secs),
            dry_run: self.dry_run,
        })
    }
}
