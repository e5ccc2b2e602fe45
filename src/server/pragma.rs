//! "Ignore this finding": the pragma comment that suppresses a finding, as
//! [`crate::rules::suppress`] reads it. unroot's own is always offered; hadolint's, Trivy's and
//! Checkov's only in a file that already uses that tool's pragmas, and only for rules that
//! have an id in that tool.

use crate::edit::style::Style;
use crate::edit::Edit;
use crate::rules::{find_rule, Finding};
use crate::syntax::{Dockerfile, PieceKind, Span};

/// One way to suppress a finding: what it writes, and the edit that writes it.
pub struct Suppression {
    pub comment: String,
    pub edit: Edit,
}

/// The pragmas that would suppress `finding`, unroot's first.
pub fn suppressions(file: &Dockerfile, finding: &Finding) -> Vec<Suppression> {
    let Some(instruction) = file.instructions.get(finding.instruction) else {
        return Vec::new();
    };
    let Some(rule) = find_rule(finding.rule) else {
        return Vec::new();
    };
    let source = &file.source;
    let line_start = instruction.span.start;
    let indent: String = source[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let newline = Style::of(file).line_ending;
    let insert = |comment: String| Suppression {
        edit: Edit::insert(line_start, format!("{indent}{comment}{newline}")),
        comment,
    };

    let mut found = Vec::new();
    // unroot's: added to a `# unroot ignore=…` comment directly above, else a line of its own.
    let own = format!("# unroot ignore={}", rule.name);
    match comment_above(file, finding.instruction) {
        Some(span) if is_unroot_ignore(span.text(source)) => {
            let text = span.text(source).trim_end_matches(['\r', '\n']);
            let end = span.start + text.trim_end().len();
            found.push(Suppression {
                comment: format!("{},{}", text.trim_end(), rule.name),
                edit: Edit::insert(end, format!(",{}", rule.name)),
            });
        }
        _ => found.push(insert(own)),
    }

    let comments: Vec<&str> = file
        .pieces
        .iter()
        .filter(|piece| piece.kind == PieceKind::Comment)
        .map(|piece| piece.span.text(source).trim())
        .collect();
    let uses = |prefix: &str| {
        comments.iter().any(|comment| {
            comment
                .strip_prefix('#')
                .is_some_and(|rest| rest.trim_start().starts_with(prefix))
        })
    };
    let ids = |prefix: &str| -> Vec<&str> {
        rule.aliases
            .iter()
            .copied()
            .filter(|id| id.starts_with(prefix))
            .collect()
    };
    if uses("hadolint ") {
        let hadolint = ids("DL");
        if !hadolint.is_empty() {
            found.push(insert(format!("# hadolint ignore={}", hadolint.join(","))));
        }
    }
    if uses("trivy:ignore:") {
        // One id per Trivy comment; the short form.
        if let Some(id) = ids("DS").first() {
            found.push(insert(format!("# trivy:ignore:{id}")));
        }
    }
    if uses("checkov:skip=") {
        // Checkov skips one check per comment, for the whole file.
        let checks = ids("CKV_");
        if !checks.is_empty() {
            let lines: Vec<String> = checks
                .iter()
                .map(|id| format!("# checkov:skip={id}: {}", finding.rule))
                .collect();
            let content: String = lines
                .iter()
                .map(|line| format!("{indent}{line}{newline}"))
                .collect();
            found.push(Suppression {
                comment: lines.join(" "),
                edit: Edit::insert(line_start, content),
            });
        }
    }
    found
}

/// The comment line directly above instruction `index`, if any.
fn comment_above(file: &Dockerfile, index: usize) -> Option<Span> {
    let at = file
        .pieces
        .iter()
        .position(|piece| piece.kind == PieceKind::Instruction(index))?;
    let above = file.pieces.get(at.checked_sub(1)?)?;
    (above.kind == PieceKind::Comment).then_some(above.span)
}

fn is_unroot_ignore(comment: &str) -> bool {
    comment
        .trim()
        .strip_prefix('#')
        .and_then(|rest| rest.trim_start().strip_prefix("unroot"))
        .is_some_and(|rest| rest.trim_start().starts_with("ignore="))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{apply_fixes, Applicability, Fix};
    use crate::rules::{check, RuleOptions, RuleSelection};
    use crate::syntax::parse;

    /// Applies each suppression of each finding: the finding is gone and nothing else.
    fn suppressed_texts(source: &str) -> Vec<(String, String)> {
        let file = parse(source).unwrap();
        let findings = check(&file, &RuleOptions::default(), &RuleSelection::default());
        assert!(!findings.is_empty());
        let mut out = Vec::new();
        for finding in &findings {
            for suppression in suppressions(&file, finding) {
                let fix = Fix::new("", Applicability::Safe, vec![suppression.edit]);
                let text = apply_fixes(source, &[&fix], Applicability::Safe).text;
                let after = check(
                    &parse(&text).unwrap(),
                    &RuleOptions::default(),
                    &RuleSelection::default(),
                );
                assert!(
                    !after.iter().any(|f| f.rule == finding.rule),
                    "{} still reported in:\n{text}",
                    finding.rule
                );
                assert_eq!(after.len(), findings.len() - 1, "{text}");
                out.push((suppression.comment, text));
            }
        }
        out
    }

    #[test]
    fn unroot_pragma_goes_above_the_instruction() {
        let texts = suppressed_texts("FROM node:lts\r\n  RUN npm ci\r\n  CMD node x\r\n");
        let comments: Vec<&str> = texts.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            comments,
            ["# unroot ignore=root-user", "# unroot ignore=floating-tag"]
        );
        assert_eq!(
            texts[1].1,
            "# unroot ignore=floating-tag\r\nFROM node:lts\r\n  RUN npm ci\r\n  CMD node x\r\n"
        );
    }

    #[test]
    fn an_existing_unroot_pragma_is_extended() {
        let texts = suppressed_texts("# unroot ignore=end-of-life\nFROM node:lts\nCMD node x\n");
        assert_eq!(texts[0].0, "# unroot ignore=end-of-life,root-user");
        assert!(texts[0]
            .1
            .starts_with("# unroot ignore=end-of-life,root-user\nFROM"));
    }

    #[test]
    fn other_tools_pragmas_only_where_the_file_uses_them() {
        let texts = suppressed_texts(
            "# hadolint global ignore=DL3008\n# trivy:ignore:DS026\n# checkov:skip=CKV_DOCKER_2: no healthcheck\nFROM node:lts\nCMD node x\n",
        );
        let comments: Vec<&str> = texts.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            comments,
            [
                "# unroot ignore=root-user",
                "# hadolint ignore=DL3002",
                "# trivy:ignore:DS002",
                "# checkov:skip=CKV_DOCKER_3: root-user # checkov:skip=CKV_DOCKER_8: root-user",
                "# unroot ignore=floating-tag",
                "# hadolint ignore=DL3006,DL3007",
                "# trivy:ignore:DS001",
                "# checkov:skip=CKV_DOCKER_7: floating-tag",
            ]
        );
        let plain = suppressed_texts("FROM node:lts\nCMD node x\n");
        assert_eq!(plain.len(), 2);
    }
}
