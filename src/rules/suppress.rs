//! Pragmas that turn rules off: unroot's own and those of hadolint, Trivy and Checkov.
//!
//! - `# unroot ignore=root-user,floating-tag` directly above an instruction;
//!   `# unroot global ignore=…` anywhere, for the whole file.
//! - hadolint: `# hadolint ignore=DL3002` directly above an instruction,
//!   `# hadolint global ignore=DL3002` for the file.
//! - Trivy: `# trivy:ignore:DS002` (or `AVD-DS-0002`) directly above an instruction.
//! - A rule's own pragma ([`Rule::pragma`]) directly above an instruction, e.g.
//!   `# unroot pin=none` above a FROM keeps its `node` tag floating (`floating-tag`).
//! - Checkov: `# checkov:skip=CKV_DOCKER_3:reason` — Checkov applies Dockerfile skips to the
//!   whole file, and so does unroot.
//!
//! A pragma may be followed by a comment that says why (`# hadolint ignore=DL3002 # reason`,
//! `# unroot pin=none # reason`), as hadolint allows: the ids end at the first `#` or at a
//! word that follows one without a comma.

use std::collections::HashMap;

use super::{Rule, RULES};
use crate::syntax::{Dockerfile, PieceKind};

#[derive(Debug, Default)]
pub struct Suppressions {
    /// Ids (rule names or other tools' ids) off for the whole file.
    global: Vec<String>,
    /// Ids off for one instruction (by index).
    local: HashMap<usize, Vec<String>>,
}

enum Pragma {
    Local(Vec<String>),
    Global(Vec<String>),
}

impl Suppressions {
    pub fn of(file: &Dockerfile) -> Suppressions {
        let mut suppressions = Suppressions::default();
        let mut pending: Vec<String> = Vec::new();
        for piece in &file.pieces {
            match piece.kind {
                PieceKind::Comment => match parse_pragma(piece.span.text(&file.source)) {
                    Some(Pragma::Local(ids)) => pending.extend(ids),
                    Some(Pragma::Global(ids)) => suppressions.global.extend(ids),
                    None => {}
                },
                PieceKind::Instruction(index) => {
                    if !pending.is_empty() {
                        suppressions
                            .local
                            .insert(index, std::mem::take(&mut pending));
                    }
                }
                // A blank line detaches the comments above it.
                _ => pending.clear(),
            }
        }
        suppressions
    }

    pub fn suppresses(&self, rule: &Rule, instruction: usize) -> bool {
        let matches = |ids: &[String]| {
            ids.iter().any(|id| {
                id == rule.name
                    || rule
                        .aliases
                        .iter()
                        .any(|alias| alias.eq_ignore_ascii_case(id))
            })
        };
        matches(&self.global) || self.local.get(&instruction).is_some_and(|ids| matches(ids))
    }
}

fn split_ids(list: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for part in list.split(',') {
        let mut words = part.split_whitespace();
        ids.extend(words.next().map(str::to_string));
        // `ignore=DL3002 reason`: the list ended at the space.
        if words.next().is_some() {
            break;
        }
    }
    ids
}

fn parse_pragma(line: &str) -> Option<Pragma> {
    let text = line.trim().strip_prefix('#')?.trim();
    if let Some(rest) = text.strip_prefix("trivy:ignore:") {
        let id = rest.split_whitespace().next()?;
        return Some(Pragma::Local(vec![id.to_string()]));
    }
    if let Some(rest) = text.strip_prefix("checkov:skip=") {
        let id = rest.split([':', ' ']).next()?;
        return Some(Pragma::Global(vec![id.trim().to_string()]));
    }
    let (tool, rest) = text.split_once(char::is_whitespace)?;
    if tool != "unroot" && tool != "hadolint" {
        return None;
    }
    // A trailing `# reason` is not part of the pragma.
    let rest = rest.split('#').next().unwrap_or("").trim();
    // A rule's own pragma, e.g. `# unroot pin=none`: keep this stage's `node` tag floating.
    if tool == "unroot" {
        let pragma = rest.replace(' ', "");
        if let Some(rule) = RULES
            .iter()
            .find(|rule| rule.pragma == Some(pragma.as_str()))
        {
            return Some(Pragma::Local(vec![rule.name.to_string()]));
        }
    }
    if let Some(list) = rest
        .strip_prefix("global")
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix("ignore="))
    {
        return Some(Pragma::Global(split_ids(list)));
    }
    rest.strip_prefix("ignore=")
        .map(|list| Pragma::Local(split_ids(list)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RULES;
    use crate::syntax::parse;

    fn suppressed(src: &str, instruction: usize) -> bool {
        let file = parse(src).unwrap();
        Suppressions::of(&file).suppresses(&RULES[0], instruction)
    }

    #[test]
    fn pragmas_of_all_tools() {
        assert!(suppressed(
            "FROM node\n# unroot ignore=root-user\nCMD x\n",
            1
        ));
        assert!(suppressed(
            "FROM node\n# hadolint ignore=DL3008, DL3002\nCMD x\n",
            1
        ));
        assert!(suppressed(
            "FROM node\n# trivy:ignore:AVD-DS-0002\nCMD x\n",
            1
        ));
        assert!(suppressed("FROM node\n#trivy:ignore:DS002\nCMD x\n", 1));
        assert!(suppressed(
            "# checkov:skip=CKV_DOCKER_8:runs as root on purpose\nFROM node\nCMD x\n",
            1
        ));
        assert!(suppressed(
            "FROM node\nCMD x\n# hadolint global ignore=DL3002\n",
            0
        ));
        assert!(suppressed(
            "# unroot global ignore=root-user\nFROM node\n",
            0
        ));
    }

    #[test]
    fn pragmas_followed_by_a_comment() {
        for pragma in [
            "# hadolint ignore=DL3002 # runs as root: it binds port 80",
            "# hadolint ignore=DL3008,DL3002 # reason",
            "# hadolint ignore=DL3002 reason without a hash",
            "# unroot ignore=root-user # reason",
            "# unroot ignore=root-user# reason",
            "# trivy:ignore:DS002 # reason",
        ] {
            assert!(
                suppressed(&format!("FROM node\n{pragma}\nCMD x\n"), 1),
                "{pragma}"
            );
        }
        assert!(suppressed(
            "# unroot global ignore=root-user # legacy image\nFROM node\n",
            0
        ));
        // Only the ids before the comment count.
        assert!(!suppressed(
            "FROM node\n# hadolint ignore=DL3008 # not DL3002\nCMD x\n",
            1
        ));
        let file = parse("# unroot pin=none # tracks the LTS on purpose\nFROM node:lts\n").unwrap();
        let floating = RULES.iter().find(|r| r.name == "floating-tag").unwrap();
        assert!(Suppressions::of(&file).suppresses(floating, 0));
    }

    #[test]
    fn local_pragmas_only_apply_directly_above() {
        assert!(!suppressed(
            "FROM node\n# unroot ignore=root-user\n\nCMD x\n",
            1
        ));
        assert!(!suppressed(
            "# unroot ignore=root-user\nFROM node\nCMD x\n",
            1
        ));
        assert!(!suppressed(
            "FROM node\n# hadolint ignore=DL3006\nCMD x\n",
            1
        ));
    }
}
