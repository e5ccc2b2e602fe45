//! The commit message and the pull request text, from `templates/commit.txt` and
//! `templates/pr.md` by plain `{placeholder}` substitution.

use crate::edit::Applicability;
use crate::linter::LineIndex;
use crate::rules::{Finding, Prose, Rule, RULES};

/// The shipped commit message template.
pub const COMMIT_TEMPLATE: &str = include_str!("../../templates/commit.txt");
/// The shipped pull request template: the first line is the title.
pub const PR_TEMPLATE: &str = include_str!("../../templates/pr.md");

/// The trailer that marks unroot's commits.
pub const GENERATED_TRAILER: &str = "Unroot-Generated";
/// The trailer that records the tree unroot committed (an amended commit has another tree).
pub const TREE_TRAILER: &str = "Unroot-Tree";

/// One fixed file, as the messages describe it.
pub struct FileChange<'a> {
    /// The path inside the repository, `/`-separated.
    pub path: &'a str,
    /// The committed text the findings refer to.
    pub source: &'a str,
    pub findings: &'a [Finding],
    /// The fixes applied to this file: safe ones, or unsafe ones too.
    pub threshold: Applicability,
}

/// What the messages are about.
pub struct Context<'a> {
    pub files: &'a [FileChange<'a>],
    pub branch: &'a str,
    pub base: &'a str,
}

/// Replaces each `{key}` of `values` in `template`; any other brace is left alone.
pub fn render(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let replaced = after.find('}').and_then(|close| {
            let key = &after[..close];
            values
                .iter()
                .find(|(name, _)| *name == key)
                .map(|(_, value)| (close, value))
        });
        match replaced {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

impl FileChange<'_> {
    fn fixed(&self, finding: &Finding) -> bool {
        finding
            .fix
            .as_ref()
            .is_some_and(|fix| fix.applies(self.threshold))
    }

    /// What happened to one of this file's findings, for the messages.
    fn outcome(&self, finding: &Finding) -> String {
        match &finding.fix {
            Some(fix) if fix.applies(self.threshold) => format!("fixed: {}", fix.title),
            Some(fix) => format!(
                "not fixed: the fix is unsafe ({}), applied only with --unsafe-fixes",
                fix.title
            ),
            None => "not fixed: this needs a person".to_string(),
        }
    }
}

impl Context<'_> {
    /// The rules whose fixes are in the commit, in registry order.
    fn fixed_rules(&self) -> Vec<&'static Rule> {
        RULES
            .iter()
            .filter(|rule| {
                self.files.iter().any(|file| {
                    file.findings
                        .iter()
                        .any(|f| f.rule == rule.name && file.fixed(f))
                })
            })
            .collect()
    }

    /// Every rule with a finding in the changed files, in registry order.
    fn rules_found(&self) -> Vec<&'static Rule> {
        RULES
            .iter()
            .filter(|rule| {
                self.files
                    .iter()
                    .any(|file| file.findings.iter().any(|f| f.rule == rule.name))
            })
            .collect()
    }

    /// `fix(docker): …`, naming what the commit does.
    pub fn subject(&self) -> String {
        let rules = by_rank(self.fixed_rules(), |prose| prose.rank);
        let mut parts: Vec<&str> = rules.iter().filter_map(|rule| rule.prose.subject).collect();
        if parts.len() < rules.len() || parts.is_empty() {
            parts.push("harden Node Dockerfiles");
        }
        let text = match parts.len() {
            1 => parts[0].to_string(),
            n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
        };
        format!("fix(docker): {text}")
    }

    /// `{finding_count}` and `{file_count}`: the findings the commit fixes (not those whose
    /// fix is unsafe and left out, nor those that need a person), and the files it changes.
    fn counts(&self) -> (String, String) {
        let fixed: usize = self
            .files
            .iter()
            .map(|file| file.findings.iter().filter(|f| file.fixed(f)).count())
            .sum();
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let deployment = self
            .files
            .iter()
            .filter(|file| {
                let name = file.path.rsplit('/').next().unwrap_or(file.path);
                crate::fs::discover::is_yaml_name(name)
            })
            .count();
        let dockerfiles = self.files.len() - deployment;
        let files = match (dockerfiles, deployment) {
            (n, 0) => plural(n, "Dockerfile"),
            (0, m) => plural(m, "deployment file"),
            (n, m) => format!(
                "{} and {}",
                plural(n, "Dockerfile"),
                plural(m, "deployment file")
            ),
        };
        (plural(fixed, "finding"), files)
    }

    fn common_values(&self) -> Vec<(&'static str, String)> {
        let (finding_count, file_count) = self.counts();
        vec![
            ("subject", self.subject()),
            ("version", env!("CARGO_PKG_VERSION").to_string()),
            ("branch", self.branch.to_string()),
            ("base", self.base.to_string()),
            ("finding_count", finding_count),
            ("file_count", file_count),
            (
                "files",
                self.files
                    .iter()
                    .map(|f| f.path)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        ]
    }

    /// The commit message, before unroot's trailers are added.
    pub fn commit_message(&self, template: &str) -> String {
        let mut findings = String::new();
        for file in self.files {
            findings.push_str(file.path);
            findings.push('\n');
            let lines = LineIndex::new(file.source);
            for finding in file.findings {
                let (line, _) = lines.line_col(finding.span.start);
                findings.push_str(&format!(
                    "- line {line}: {}: {}\n  {}\n",
                    finding.rule,
                    finding.message,
                    file.outcome(finding)
                ));
            }
        }
        let mut values = self.common_values();
        values.push(("findings", findings.trim_end().to_string()));
        render(template, &values)
    }

    /// The pull request's title and body.
    pub fn pull_request(&self) -> (String, String) {
        let mut findings = String::new();
        for file in self.files {
            findings.push_str(&format!("### `{}`\n\n", file.path));
            let lines = LineIndex::new(file.source);
            for finding in file.findings {
                let (line, _) = lines.line_col(finding.span.start);
                let outcome = file.outcome(finding);
                let (state, what) = outcome.split_once(": ").unwrap_or(("", &outcome));
                findings.push_str(&format!(
                    "- Line {line}, `{}`: {}. **{state}**: {what}\n",
                    finding.rule, finding.message
                ));
            }
            findings.push('\n');
        }
        let rules = self.rules_found();
        let mut values = self.common_values();
        values.push(("findings", findings.trim_end().to_string()));
        values.push(("why", why(&rules)));
        values.push(("checks", checks(&rules)));
        values.push(("rule_docs", rule_docs(&rules)));
        let text = render(PR_TEMPLATE, &values);
        let (title, body) = text.split_once('\n').unwrap_or((&text, ""));
        (title.trim().to_string(), body.trim().to_string() + "\n")
    }
}

/// Adds unroot's trailers to a message: to its last paragraph when that one is already
/// a block of trailers, else as a paragraph of their own.
pub fn with_trailers(message: &str, tree: &str) -> String {
    let message = message.trim_end();
    let last = message.rsplit("\n\n").next().unwrap_or("");
    let is_trailer = |line: &str| {
        line.split_once(": ").is_some_and(|(key, _)| {
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    let separator = if message.contains("\n\n") && last.lines().all(is_trailer) {
        "\n"
    } else {
        "\n\n"
    };
    format!("{message}{separator}{GENERATED_TRAILER}: true\n{TREE_TRAILER}: {tree}\n")
}

/// `rules` ordered by a rank of their prose; equal ranks keep their order.
fn by_rank(mut rules: Vec<&'static Rule>, rank: fn(&Prose) -> u8) -> Vec<&'static Rule> {
    rules.sort_by_key(|rule| rank(&rule.prose));
    rules
}

/// The pull request's "why": one bullet per rule that has one.
fn why(rules: &[&'static Rule]) -> String {
    let parts: Vec<String> = by_rank(rules.to_vec(), |prose| prose.rank)
        .iter()
        .filter_map(|rule| rule.prose.why)
        .map(|why| format!("- {why}"))
        .collect();
    if parts.is_empty() {
        return "- unroot's rules make Node images safe to ship; see the documentation below."
            .to_string();
    }
    parts.join("\n")
}

/// The pull request's checklist: the rules' items, then building and running the image.
fn checks(rules: &[&'static Rule]) -> String {
    by_rank(rules.to_vec(), |prose| prose.checks_rank)
        .iter()
        .flat_map(|rule| rule.prose.checks)
        .map(|check| format!("- [ ] {check}"))
        .chain([
            "- [ ] **Build and run.** Build the image and run the app's tests in it.".to_string(),
        ])
        .collect::<Vec<_>>()
        .join("\n")
}

fn rule_docs(rules: &[&'static Rule]) -> String {
    let repository = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    let rules = rules
        .iter()
        .map(|rule| {
            let mut text = format!("`unroot --explain {}`", rule.name);
            // Every rule has its page, docs/rules/<rule>.md (tests/it/docs.rs checks it).
            if !repository.is_empty() {
                text.push_str(&format!(" ([docs]({}))", crate::rules::docs::url(rule)));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(", ");
    if repository.is_empty() {
        format!("{rules}, and unroot's README")
    } else {
        format!("{rules}, and [unroot's README]({repository}#readme)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_replaces_known_placeholders_only() {
        let values = [("a", "1".to_string()), ("b", "{a}".to_string())];
        assert_eq!(render("{a} {b} {c} {", &values), "1 {a} {c} {");
        assert_eq!(render("x{{a}}y", &values), "x{1}y");
    }

    #[test]
    fn trailers_join_an_existing_trailer_block() {
        assert_eq!(
            with_trailers("fix: x\n\nbody\n", "abc"),
            "fix: x\n\nbody\n\nUnroot-Generated: true\nUnroot-Tree: abc\n"
        );
        assert_eq!(
            with_trailers("fix: x\n\nSigned-off-by: A <a@b>\n", "abc"),
            "fix: x\n\nSigned-off-by: A <a@b>\nUnroot-Generated: true\nUnroot-Tree: abc\n"
        );
        assert_eq!(
            with_trailers("fix: x", "abc"),
            "fix: x\n\nUnroot-Generated: true\nUnroot-Tree: abc\n"
        );
    }

    #[test]
    fn subject_names_what_was_fixed() {
        let options = crate::linter::LintOptions::default();
        let source = "FROM node:22\nRUN npm ci\nEXPOSE 80\nCMD [\"node\", \"a.js\"]\n";
        let outcome = crate::linter::lint(source, &options, Applicability::Unsafe).unwrap();
        let rules: Vec<_> = outcome.findings.iter().map(|f| f.rule).collect();
        let files = [FileChange {
            path: "Dockerfile",
            source,
            findings: &outcome.findings,
            threshold: Applicability::Unsafe,
        }];
        let context = Context {
            files: &files,
            branch: "unroot/non-root",
            base: "main",
        };
        let subject = context.subject();
        assert!(subject.starts_with("fix(docker): run Node containers as non-root"));
        assert_eq!(
            subject.contains("pin Node base images"),
            rules.contains(&"floating-tag")
        );
        let only_root: Vec<Finding> = outcome
            .findings
            .iter()
            .filter(|f| f.rule == "root-user")
            .cloned()
            .collect();
        let files = [FileChange {
            path: "Dockerfile",
            source,
            findings: &only_root,
            threshold: Applicability::Unsafe,
        }];
        let context = Context {
            files: &files,
            ..context
        };
        assert_eq!(
            context.subject(),
            "fix(docker): run Node containers as non-root"
        );
    }

    fn finding(rule: &'static str, at: usize, fix: Option<Applicability>) -> Finding {
        Finding {
            rule,
            span: crate::syntax::Span { start: at, end: at },
            instruction: 0,
            message: format!("{rule} here"),
            help: None,
            fix: fix.map(|applicability| {
                crate::edit::Fix::new(
                    format!("fix {rule}"),
                    applicability,
                    vec![crate::edit::Edit::insert(at, "x")],
                )
            }),
        }
    }

    #[test]
    fn counts_name_only_the_findings_the_commit_fixes() {
        let source = "FROM node:22\nEXPOSE 80\nCMD [\"node\", \"a.js\"]\n";
        // 4 findings: 2 safe fixes, 1 unsafe (left out at the safe threshold), 1 for a person.
        let findings = [
            finding("root-user", 0, Some(Applicability::Safe)),
            finding("floating-tag", 5, Some(Applicability::Safe)),
            finding("privileged-port", 13, Some(Applicability::Unsafe)),
            finding("end-of-life", 5, None),
        ];
        let compose = "services:\n  web:\n    build: .\n";
        let compose_findings = [finding("privileged-port", 0, Some(Applicability::Unsafe))];
        let files = [
            FileChange {
                path: "Dockerfile",
                source,
                findings: &findings,
                threshold: Applicability::Safe,
            },
            FileChange {
                path: "deploy/compose.yaml",
                source: compose,
                findings: &compose_findings,
                threshold: Applicability::Safe,
            },
        ];
        let context = Context {
            files: &files,
            branch: "unroot/non-root",
            base: "main",
        };
        let message = context.commit_message(COMMIT_TEMPLATE);
        assert!(
            message.contains(
                "fixed 2 findings in 1 Dockerfile and 1 deployment file on top of `main`"
            ),
            "{message}"
        );
        let (_, body) = context.pull_request();
        assert!(body.contains("fixed 2 findings in 1 Dockerfile and 1 deployment file"));
        // With unsafe fixes applied, the unsafe ones count too; the person's never does.
        let unsafe_files = [
            FileChange {
                threshold: Applicability::Unsafe,
                ..files[0]
            },
            FileChange {
                threshold: Applicability::Unsafe,
                ..files[1]
            },
        ];
        let context = Context {
            files: &unsafe_files,
            branch: "unroot/non-root",
            base: "main",
        };
        assert!(context
            .commit_message(COMMIT_TEMPLATE)
            .contains("fixed 4 findings in 1 Dockerfile and 1 deployment file"));
        let only = [FileChange {
            path: "compose.yml",
            source: compose,
            findings: &compose_findings,
            threshold: Applicability::Unsafe,
        }];
        let context = Context {
            files: &only,
            branch: "unroot/non-root",
            base: "main",
        };
        assert!(context
            .commit_message(COMMIT_TEMPLATE)
            .contains("fixed 1 finding in 1 deployment file"));
    }
}
