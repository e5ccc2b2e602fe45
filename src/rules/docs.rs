//! The rules' pages, `docs/rules/<rule>.md`, and their index, `docs/rules/README.md`, made
//! from each rule's doc comment (what `--explain` prints) and its [`Rule`] fields. They are
//! generated, never edited: `tests/it/docs.rs` fails when a page differs from what this
//! module makes, and `UNROOT_UPDATE_DOCS=1` rewrites them. SARIF `helpUri`, the rdjson rule
//! URL, the language server's `codeDescription` and the pull-request text link to the pages
//! ([`url`]).

use super::{Rule, RULES};

/// Where the pages live in the repository.
pub const DIR: &str = "docs/rules";

/// The published page of `rule`: Cargo.toml's `repository`, branch `main`.
pub fn url(rule: &Rule) -> String {
    let repository = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    format!("{repository}/blob/main/{DIR}/{}", file_name(rule))
}

/// `root-user.md`.
pub fn file_name(rule: &Rule) -> String {
    format!("{}.md", rule.name)
}

/// Every page: the file name under [`DIR`] and its text; the index (`README.md`) first.
pub fn pages() -> Vec<(String, String)> {
    std::iter::once(("README.md".to_string(), index()))
        .chain(RULES.iter().map(|rule| (file_name(rule), page(rule))))
        .collect()
}

/// The note at the top of every page.
fn generated(from: &str) -> String {
    format!(
        "<!-- Generated from {from} by `UNROOT_UPDATE_DOCS=1 cargo test --test it docs::`; \
         edit the source, not this file. -->\n"
    )
}

/// The text `--explain RULE` prints (without the release-table line, which depends on the
/// day it runs): the name as a heading, then the rule's documentation.
pub fn explanation(rule: &Rule) -> String {
    format!("# {}\n\n{}\n", rule.name, rule.doc())
}

/// The page of one rule: [`explanation`], with a table of what the other parts of unroot
/// say about the rule after its summary.
pub fn page(rule: &Rule) -> String {
    let source = rule.source.replace('\\', "/");
    let mut facts = vec![
        ("Fix", rule.fixes.describe().to_string()),
        (
            "Severity",
            format!(
                "{} (SARIF `security-severity` {})",
                severity_word(rule),
                rule.severity.score()
            ),
        ),
    ];
    if !rule.aliases.is_empty() {
        facts.push(("Same as", same_as(rule)));
    }
    if !rule.options.is_empty() {
        let options: Vec<String> = rule.options.iter().map(|o| format!("`{o}`")).collect();
        facts.push(("Options", options.join(", ")));
    }
    let mut suppress = format!("`# unroot ignore={}`", rule.name);
    if let Some(pragma) = rule.pragma {
        suppress.push_str(&format!(", `# unroot {pragma}`"));
    }
    if !rule.aliases.is_empty() {
        suppress.push_str(", or the other checkers' pragmas with the ids above");
    }
    facts.push(("Suppress", suppress));
    facts.push(("Source", format!("[`{source}`](../../{source})")));
    let mut text = generated(&format!("`{source}`"));
    let explanation = explanation(rule);
    let (title, doc) = explanation
        .split_once("\n\n")
        .unwrap_or((explanation.as_str(), ""));
    text.push_str(&format!("{title}\n\n{}.\n\n", sentence(rule.summary)));
    text.push_str("| | |\n|---|---|\n");
    for (key, value) in facts {
        text.push_str(&format!("| {key} | {} |\n", cell(&value)));
    }
    text.push_str(&format!(
        "\n`unroot --explain {}` prints this page's text.\n\n{doc}",
        rule.name
    ));
    text
}

/// The index: one row per rule, in the order they run.
pub fn index() -> String {
    let mut text = generated("the rules' doc comments (`src/rules/*.rs`)");
    text.push_str(
        "# Rules\n\n\
         unroot's rules, in the order they run. Each page is the rule's own documentation \
         (`unroot --explain RULE` prints it; `unroot --list-rules` lists them). A **safe** fix \
         is applied by `--write`; an **unsafe** one only with `--unsafe-fixes`, and the finding \
         says why it is unsafe.\n\n\
         | Rule | What it checks | Fix | Same as |\n|---|---|---|---|\n",
    );
    for rule in RULES {
        let same = if rule.aliases.is_empty() {
            "–".to_string()
        } else {
            same_as(rule)
        };
        text.push_str(&format!(
            "| [`{}`]({}) | {} | {} | {} |\n",
            rule.name,
            file_name(rule),
            cell(&sentence(rule.summary)),
            rule.fixes.describe(),
            cell(&same)
        ));
    }
    text
}

/// The other checkers' ids, grouped by checker: `hadolint DL3002; Trivy DS002, …`.
fn same_as(rule: &Rule) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for alias in rule.aliases {
        let tool = checker(alias);
        match groups.iter_mut().find(|(name, _)| *name == tool) {
            Some((_, ids)) => ids.push(alias),
            None => groups.push((tool, vec![alias])),
        }
    }
    groups
        .iter()
        .map(|(tool, ids)| format!("{tool} {}", ids.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The checker whose id `alias` is: hadolint `DL…`, Trivy `DS…`/`AVD-DS-…`, Checkov
/// `CKV_…`, and kube-linter's lowercase check names.
fn checker(alias: &str) -> &'static str {
    let digits = |rest: &str| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit());
    if alias.strip_prefix("DL").is_some_and(digits) {
        "hadolint"
    } else if alias.strip_prefix("DS").is_some_and(digits) || alias.starts_with("AVD-DS-") {
        "Trivy"
    } else if alias.starts_with("CKV_") {
        "Checkov"
    } else if alias.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        "kube-linter"
    } else {
        "other"
    }
}

fn severity_word(rule: &Rule) -> &'static str {
    match rule.severity {
        super::Severity::High => "high",
        super::Severity::Medium => "medium",
        super::Severity::Low => "low",
    }
}

/// A summary as the start of a sentence: capitalised.
fn sentence(summary: &str) -> String {
    let mut chars = summary.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    format!("{}{}", first.unwrap_or_default(), chars.as_str())
}

/// Text for a table cell: a `|` would end it.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_names_a_known_checker() {
        for rule in RULES {
            for alias in rule.aliases {
                assert_ne!(checker(alias), "other", "{}: {alias}", rule.name);
            }
        }
        assert_eq!(checker("DL3002"), "hadolint");
        assert_eq!(checker("DLX"), "other");
        assert_eq!(checker("AVD-DS-0002"), "Trivy");
        assert_eq!(checker("run-as-non-root"), "kube-linter");
    }

    #[test]
    fn a_page_is_the_explanation_with_the_rules_facts() {
        for rule in RULES {
            let page = page(rule);
            assert!(page.contains(&format!("\n# {}\n\n", rule.name)), "{page}");
            assert!(
                page.ends_with(&format!("{}\n", rule.doc())),
                "{}",
                rule.name
            );
            assert!(page.contains(&format!("| Fix | {} |", rule.fixes.describe())));
            assert!(url(rule).ends_with(&format!("/blob/main/docs/rules/{}.md", rule.name)));
        }
        let index = index();
        for rule in RULES {
            assert!(index.contains(&format!("[`{0}`]({0}.md)", rule.name)));
        }
    }

    #[test]
    fn a_summary_becomes_a_sentence() {
        assert_eq!(
            sentence("a `node` base image past its end of life"),
            "A `node` base image past its end of life"
        );
    }
}
