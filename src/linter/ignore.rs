//! `--add-ignore`: a pragma above each instruction with findings, so an existing repository
//! starts clean and only new findings are reported (ruff's `--add-noqa`).

use std::collections::{BTreeMap, BTreeSet};

use crate::edit::style::Style;
use crate::rules::Finding;
use crate::syntax::{parse, ParseError};

/// `source` with `# unroot ignore=<rules>` directly above every instruction that has one of
/// `findings`, indented as the instruction and with its line ending; and how many pragmas
/// were added.
pub fn with_ignore_pragmas(
    source: &str,
    findings: &[Finding],
) -> Result<(String, usize), ParseError> {
    let file = parse(source)?;
    let style = Style::of(&file);
    let mut rules: BTreeMap<usize, BTreeSet<&str>> = BTreeMap::new();
    for finding in findings {
        rules
            .entry(finding.instruction)
            .or_default()
            .insert(finding.rule);
    }
    let mut out = String::with_capacity(source.len() + 64 * rules.len());
    let mut copied = 0;
    let mut added = 0;
    for (index, names) in rules {
        let Some(instruction) = file.instructions.get(index) else {
            continue;
        };
        let start = instruction.span.start;
        let line = &source[start..];
        let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        out.push_str(&source[copied..start]);
        let names: Vec<&str> = names.into_iter().collect();
        out.push_str(&format!(
            "{indent}# unroot ignore={}{}",
            names.join(","),
            style.line_ending_after(&file, instruction)
        ));
        copied = start;
        added += 1;
    }
    out.push_str(&source[copied..]);
    Ok((out, added))
}
