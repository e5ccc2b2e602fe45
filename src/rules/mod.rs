//! The rules: a registry, the findings they produce, and how they are selected.

pub mod deployment;
pub mod docs;
mod helpers;
pub mod suppress;

use serde::Serialize;

use crate::analysis::surroundings::Surroundings;
use crate::analysis::Analysis;
use crate::edit::style::Style;
use crate::edit::Fix;
use crate::syntax::{Dockerfile, Span};
use suppress::Suppressions;

/// Declares a rule; the `///` lines above it become its documentation (`--explain`) and the
/// file it is written in its [`Rule::source`]. `name`, `summary` and `check` come first; the
/// other fields of [`Rule`] follow as needed (see [`Rule::DEFAULTS`]). In scope in every rule
/// file: they are registered below.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])+
        pub(crate) const $id:ident = Rule {
            name: $name:literal,
            summary: $summary:literal,
            check: $check:path,
            $($field:ident: $value:expr,)*
        };
    ) => {
        $(#[doc = $doc])+
        #[allow(clippy::needless_update)]
        pub(crate) const $id: $crate::rules::Rule = $crate::rules::Rule {
            name: $name,
            summary: $summary,
            doc: concat!($($doc, "\n"),+),
            source: file!(),
            check: $check,
            $($field: $value,)*
            ..$crate::rules::Rule::DEFAULTS
        };
    };
}

/// A rule: its name (also the pragma id and `--select` value), its documentation, what the
/// rest of unroot says about it, and the function that runs it. Everything that names a
/// rule (the rule list, `--explain`, SARIF, commit messages and pull requests) reads it here.
pub struct Rule {
    pub name: &'static str,
    pub summary: &'static str,
    doc: &'static str,
    /// The file that declares the rule, relative to the crate root (`src/rules/root_user.rs`):
    /// its doc comment is the rule's documentation.
    pub source: &'static str,
    /// Ids of the same check in hadolint, Trivy and Checkov, honoured in their pragmas.
    pub aliases: &'static [&'static str],
    /// The command-line flags (and so the configuration keys) the rule reads, as its
    /// `## Options` documents them: `--user`, `--pin`.
    pub options: &'static [&'static str],
    /// The rule's findings depend on the Node release table (`--node-release-table`).
    pub reads_release_table: bool,
    /// A `# unroot <pragma>` comment directly above an instruction that suppresses the rule
    /// there, besides `# unroot ignore=<name>` (`pin=none`).
    pub pragma: Option<&'static str>,
    /// How much a finding weighs, for the formats that rank findings (SARIF, GitLab,
    /// checkstyle, rdjson, JUnit).
    pub severity: Severity,
    /// Which fixes the rule offers, as its `## Fix safety` says (the rule pages' index).
    pub fixes: Fixes,
    /// How commit messages and pull requests describe the rule's findings.
    pub prose: Prose,
    check: fn(&Context) -> Vec<Finding>,
}

/// How much a rule's findings weigh for the images' security.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// A direct way to more privilege (a root container).
    High,
    /// A risk that grows with time or with another fault (an end-of-life Node).
    Medium,
    /// Hygiene that makes the other checks hold (pinned tags, unprivileged ports).
    Low,
}

impl Severity {
    /// SARIF's `security-severity`, a CVSS-like score GitHub maps to high (7.0–8.9),
    /// medium (4.0–6.9) and low (0.1–3.9).
    pub fn score(self) -> &'static str {
        match self {
            Severity::High => "7.5",
            Severity::Medium => "5.0",
            Severity::Low => "3.0",
        }
    }

    /// GitLab Code Quality's scale (`info`, `minor`, `major`, `critical`, `blocker`).
    pub fn gitlab(self) -> &'static str {
        match self {
            Severity::High => "critical",
            Severity::Medium => "major",
            Severity::Low => "minor",
        }
    }

    /// Checkstyle's and reviewdog's words: only a root container is an error.
    pub fn is_error(self) -> bool {
        self == Severity::High
    }
}

/// Which fixes a rule offers: ruff's "fix availability" (each finding's own fix says
/// whether it is safe).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fixes {
    /// No fix: a person decides.
    None,
    /// Safe fixes only (`--write` applies them).
    Safe,
    /// Unsafe fixes only (`--unsafe-fixes`).
    Unsafe,
    /// Safe where unroot could check everything the fix depends on, else unsafe.
    SafeOrUnsafe,
}

impl Fixes {
    /// The words the rule pages use.
    pub fn describe(self) -> &'static str {
        match self {
            Fixes::None => "none",
            Fixes::Safe => "safe",
            Fixes::Unsafe => "unsafe",
            Fixes::SafeOrUnsafe => "safe or unsafe",
        }
    }
}

/// What commit messages and pull requests say about a rule (Markdown).
pub struct Prose {
    /// The part of the commit subject when the commit has the rule's fixes (`pin Node base
    /// images`). `None`: the subject says `harden Node Dockerfiles`.
    pub subject: Option<&'static str>,
    /// The pull request's "why" bullet (without its `- `), when the rule has findings.
    pub why: Option<&'static str>,
    /// The pull request's "what to check" items (without their `- [ ] `).
    pub checks: &'static [&'static str],
    /// Where the subject part and the "why" bullet go among the rules': lowest first, then
    /// in registry order.
    pub rank: u8,
    /// Where the "what to check" items go: lowest first (what most likely breaks the app).
    pub checks_rank: u8,
}

impl Rule {
    /// What the fields a rule does not give are.
    pub(crate) const DEFAULTS: Rule = Rule {
        name: "",
        summary: "",
        doc: "",
        source: "",
        aliases: &[],
        options: &[],
        reads_release_table: false,
        pragma: None,
        severity: Severity::Medium,
        fixes: Fixes::None,
        prose: Prose {
            subject: None,
            why: None,
            checks: &[],
            rank: u8::MAX,
            checks_rank: u8::MAX,
        },
        check: |_| Vec::new(),
    };

    /// The rule's documentation as written in its source (Markdown).
    pub fn doc(&self) -> String {
        self.doc
            .lines()
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Registers rules: `file::CONST` declares module `file` (`src/rules/file.rs`) and puts the
/// rule `CONST` it declares into [`RULES`], in the order given.
macro_rules! register_rules {
    ($($module:ident::$rule:ident,)+) => {
        $(mod $module;)+

        /// Every rule, in the order they run and are listed.
        pub const RULES: &[Rule] = &[$($module::$rule),+];
    };
}

register_rules! {
    root_user::ROOT_USER,
    privileged_port::PRIVILEGED_PORT,
    floating_tag::FLOATING_TAG,
    end_of_life::END_OF_LIFE,
    deploy_user::DEPLOY_USER,
}

pub fn find_rule(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.name == name)
}

/// Options that change what rules plan (mirrors the command-line flags).
#[derive(Clone, Debug, Default)]
pub struct RuleOptions {
    /// `--user NAME|UID[:GID]`: the user to switch to.
    pub user: Option<String>,
    /// `--numeric-user`: write `USER 1000:1000` rather than `USER node`.
    pub numeric_user: bool,
    /// `--uid N`: the uid (and gid) of the user the fix switches to: the account it creates,
    /// `USER N:N` where the image has no account with that uid, `--chown`, and the
    /// deployment files' `user:` and `runAsUser`/`runAsGroup`.
    pub uid: Option<u32>,
    /// `--all-images`: check every final stage, not only Node images.
    pub all_images: bool,
    /// `--chown`: also give the app's COPY/ADD `--chown=<user>:<group>`.
    pub chown: bool,
    /// `--port-map 80:3000,443:3443`: where privileged ports move (else 80→8080, 443→8443, p→p+8000).
    pub port_map: Vec<(u16, u16)>,
    /// `--pin`: how precisely floating `node` tags are pinned.
    pub pin: Pin,
    /// `--node-release-table`: a fresher release table than the shipped one.
    pub releases: Option<std::sync::Arc<crate::sources::releases::ReleaseTable>>,
    /// `--pin digest`: resolves pinned tags to their manifest-list digests.
    pub digests: Option<Digests>,
    /// What the repository's deployment files say about this Dockerfile's image (set per
    /// file by the linter's repository step; `privileged-port` reads it).
    pub deployment: Option<std::sync::Arc<crate::deploy::DeploymentFacts>>,
    /// The date (`YYYY-MM-DD`) release dates are compared with, read once for a run; `None`:
    /// [`crate::sources::releases::today`], read at each check.
    pub today: Option<std::sync::Arc<str>>,
}

/// Looks up the digest of `image:tag` in its registry (`sha256:…`); the error is the
/// registry's message.
pub trait DigestResolver: Send + Sync {
    fn digest(&self, image: &crate::analysis::ImageRef, tag: &str) -> Result<String, String>;
}

/// A shared [`DigestResolver`].
#[derive(Clone)]
pub struct Digests(pub std::sync::Arc<dyn DigestResolver>);

impl std::fmt::Debug for Digests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Digests")
    }
}

impl RuleOptions {
    pub fn releases(&self) -> &crate::sources::releases::ReleaseTable {
        self.releases
            .as_deref()
            .unwrap_or_else(|| crate::sources::releases::ReleaseTable::builtin())
    }
}

/// How a floating `node` tag is pinned: `26`, `26.7` or `26.7.0` (plus the variant).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pin {
    Major,
    Minor,
    #[default]
    Exact,
    /// `26.7.0-alpine@sha256:…`: the exact release and its manifest-list digest.
    Digest,
}

/// `--select` / `--ignore`.
#[derive(Clone, Debug, Default)]
pub struct RuleSelection {
    /// Empty: all rules.
    pub select: Vec<String>,
    pub ignore: Vec<String>,
}

impl RuleSelection {
    pub fn enables(&self, name: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s == name))
            && !self.ignore.iter().any(|s| s == name)
    }

    /// Names that are not rules.
    pub fn unknown(&self) -> Vec<&str> {
        self.select
            .iter()
            .chain(&self.ignore)
            .map(String::as_str)
            .filter(|name| find_rule(name).is_none())
            .collect()
    }
}

/// What a rule sees.
pub struct Context<'a> {
    pub file: &'a Dockerfile,
    pub analysis: &'a Analysis,
    pub options: &'a RuleOptions,
    pub style: &'a Style,
    /// What the linter read around the file (build context, repository) before the rules ran.
    pub surroundings: &'a Surroundings,
    /// Today's date, read once per check ([`crate::sources::releases::today`]).
    today: std::cell::OnceCell<String>,
    /// [`helpers::is_node_stage`] of the stages asked about (by their FROM's index): more
    /// than one rule asks.
    node_stages: std::cell::RefCell<Vec<(usize, bool)>>,
}

impl Context<'_> {
    /// Today's date as `YYYY-MM-DD` ([`crate::sources::releases::today`]).
    pub fn today(&self) -> &str {
        match &self.options.today {
            Some(today) => today,
            None => self.today.get_or_init(crate::sources::releases::today),
        }
    }

    /// Whether `stage` runs Node ([`helpers::is_node_stage`]).
    pub fn is_node_stage(&self, stage: &crate::analysis::Stage) -> bool {
        let known = self
            .node_stages
            .borrow()
            .iter()
            .find(|(from, _)| *from == stage.from)
            .map(|(_, node)| *node);
        known.unwrap_or_else(|| {
            let node = helpers::is_node_stage(self, stage);
            self.node_stages.borrow_mut().push((stage.from, node));
            node
        })
    }

    /// The scripts ENTRYPOINT/CMD run that were read from the build context; each gives its
    /// commands with [`Script::commands`](crate::analysis::surroundings::Script::commands).
    pub fn entrypoint_scripts(&self) -> &[crate::analysis::surroundings::Script] {
        &self.surroundings.scripts
    }
}

/// A problem found in a file, with the fix that resolves it if one can be built.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    /// Where the problem is reported.
    pub span: Span,
    /// The instruction the finding belongs to (pragmas directly above it suppress it).
    #[serde(skip)]
    pub instruction: usize,
    /// The problem, lowercase, code in backticks.
    pub message: String,
    /// What the user should know or check.
    pub help: Option<String>,
    pub fix: Option<Fix>,
}

/// Runs the selected rules on a parsed file with nothing known around it; suppressed
/// findings are dropped.
pub fn check(file: &Dockerfile, options: &RuleOptions, selection: &RuleSelection) -> Vec<Finding> {
    check_in(file, options, selection, &Surroundings::default())
}

/// [`check`] with what the linter read around the file (build context, repository).
pub fn check_in(
    file: &Dockerfile,
    options: &RuleOptions,
    selection: &RuleSelection,
    surroundings: &Surroundings,
) -> Vec<Finding> {
    check_analysed(file, &Analysis::of(file), options, selection, surroundings)
}

/// [`check_in`] for `file` as `analysis` reads it (found once for the reading around it too).
pub fn check_analysed(
    file: &Dockerfile,
    analysis: &Analysis,
    options: &RuleOptions,
    selection: &RuleSelection,
    surroundings: &Surroundings,
) -> Vec<Finding> {
    let style = Style::of(file);
    let context = Context {
        file,
        analysis,
        options,
        style: &style,
        surroundings,
        today: std::cell::OnceCell::new(),
        node_stages: std::cell::RefCell::default(),
    };
    let suppressions = Suppressions::of(file);
    let mut findings: Vec<Finding> = RULES
        .iter()
        .filter(|rule| selection.enables(rule.name))
        .flat_map(|rule| {
            (rule.check)(&context)
                .into_iter()
                .filter(|finding| !suppressions.suppresses(rule, finding.instruction))
        })
        .collect();
    root_user::hold_for_ports(&context, &mut findings);
    findings.sort_by_key(|finding| (finding.span.start, finding.rule));
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_documents_its_options_and_they_are_flags() {
        use clap::CommandFactory;
        let command = crate::cli::Args::command();
        for rule in RULES {
            let doc = rule.doc();
            let section = doc
                .split_once("## Options\n")
                .map_or("", |(_, rest)| rest.split("\n## ").next().unwrap_or(rest));
            for option in rule.options {
                assert!(
                    section.contains(&format!("`{option}")),
                    "{}: `{option}` is not in its `## Options`",
                    rule.name
                );
                let flag = option.trim_start_matches("--");
                assert!(
                    command
                        .get_arguments()
                        .any(|arg| arg.get_long() == Some(flag)),
                    "{}: `{option}` is not a flag",
                    rule.name
                );
            }
        }
    }

    #[test]
    fn every_rules_fixes_agree_with_its_fix_safety_section() {
        for rule in RULES {
            let doc = rule.doc();
            let section = doc
                .split_once("## Fix safety\n")
                .map_or("", |(_, rest)| rest.split("\n## ").next().unwrap_or(rest));
            let first = section.split_whitespace().next().unwrap_or("");
            let says_safe = section.contains("Safe") || section.contains(" safe");
            let says_unsafe = section.contains("Unsafe") || section.contains("unsafe");
            let expected = match (first, says_safe, says_unsafe) {
                ("No", _, _) => Fixes::None,
                (_, true, true) => Fixes::SafeOrUnsafe,
                (_, true, false) => Fixes::Safe,
                (_, false, true) => Fixes::Unsafe,
                _ => panic!(
                    "{}: `## Fix safety` says neither safe nor unsafe",
                    rule.name
                ),
            };
            assert_eq!(rule.fixes, expected, "{}", rule.name);
        }
    }

    #[test]
    fn every_rule_is_declared_in_its_own_file() {
        for rule in RULES {
            let source = rule.source.replace('\\', "/");
            assert_eq!(
                source,
                format!("src/rules/{}.rs", rule.name.replace('-', "_")),
                "{}",
                rule.name
            );
            assert!(rule.doc().starts_with("## What it does\n"), "{}", rule.name);
        }
    }
}
