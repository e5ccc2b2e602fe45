//! `--statistics`: how many findings each rule has, instead of the findings themselves.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::FileReport;
use crate::edit::Applicability;

/// The counts of one rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
struct RuleCount {
    count: usize,
    /// Findings whose fix the run's settings apply.
    fixable: usize,
    /// Findings whose fix is unsafe, applied only with `--unsafe-fixes`.
    unsafe_fixable: usize,
}

/// Counts per rule, added up file by file.
#[derive(Debug, Default)]
pub struct Statistics {
    rules: BTreeMap<&'static str, RuleCount>,
}

impl Statistics {
    pub fn add(&mut self, report: &FileReport) {
        for finding in &report.findings {
            let entry = self.rules.entry(finding.rule).or_default();
            entry.count += 1;
            match &finding.fix {
                Some(fix) if fix.applies(report.threshold) => entry.fixable += 1,
                Some(fix) if fix.applies(Applicability::Unsafe) => entry.unsafe_fixable += 1,
                _ => {}
            }
        }
    }

    /// Most findings first, then by rule name.
    fn sorted(&self) -> Vec<(&'static str, RuleCount)> {
        let mut rules: Vec<_> = self.rules.iter().map(|(rule, n)| (*rule, *n)).collect();
        rules.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        rules
    }

    /// One line per rule: `   3  root-user        2 fixable, 1 with --unsafe-fixes`.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        let rules = self.sorted();
        let width = rules.iter().map(|(rule, _)| rule.len()).max().unwrap_or(0);
        let count_width = rules
            .iter()
            .map(|(_, n)| n.count.to_string().len())
            .max()
            .unwrap_or(1);
        for (rule, n) in rules {
            let mut fixes = Vec::new();
            if n.fixable > 0 {
                fixes.push(format!("{} fixable", n.fixable));
            }
            if n.unsafe_fixable > 0 {
                fixes.push(format!("{} with --unsafe-fixes", n.unsafe_fixable));
            }
            let line = format!(
                "{:>count_width$}  {rule:<width$}  {}",
                n.count,
                fixes.join(", ")
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    /// A JSON array: `[{"rule": "root-user", "count": 3, "fixable": 2, "unsafe_fixable": 1}]`.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        #[derive(Serialize)]
        struct Entry {
            rule: &'static str,
            #[serde(flatten)]
            counts: RuleCount,
        }
        let entries: Vec<Entry> = self
            .sorted()
            .into_iter()
            .map(|(rule, counts)| Entry { rule, counts })
            .collect();
        let text = serde_json::to_string_pretty(&entries).map_err(io::Error::other)?;
        writeln!(out, "{text}")
    }
}
