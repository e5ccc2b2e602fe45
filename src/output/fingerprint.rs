//! A finding's fingerprint: the same finding keeps it when lines above it are added or
//! removed, so GitLab and GitHub code scanning track it across commits instead of reporting
//! it fixed and new.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::FileReport;
use crate::rules::Finding;

/// Fingerprints of one file's findings, in their order: the SHA-256 (32 hex digits) of the
/// path, the rule, the text of the line the finding starts on (trimmed), and how many
/// findings with those three came before it in the file.
pub fn fingerprints(report: &FileReport) -> Vec<String> {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    report
        .findings
        .iter()
        .map(|finding| {
            let line = line_text(&report.source, finding);
            let occurrence = seen.entry((finding.rule, line)).or_default();
            let mut hash = Sha256::new();
            for part in [report.path.trim_start_matches("./"), finding.rule, line] {
                hash.update(part.as_bytes());
                hash.update([0]);
            }
            hash.update(occurrence.to_string().as_bytes());
            *occurrence += 1;
            hash.finalize()[..16]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect()
        })
        .collect()
}

fn line_text<'a>(source: &'a str, finding: &Finding) -> &'a str {
    let start = finding.span.start.min(source.len());
    let begin = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let end = source[start..]
        .find('\n')
        .map_or(source.len(), |i| start + i);
    source[begin..end].trim()
}
