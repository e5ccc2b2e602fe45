//! `--format sarif`: a SARIF 2.1.0 log for GitHub code scanning (`github/codeql-action/upload-sarif`)
//! and other SARIF viewers.
//!
//! One run: the tool with every rule (its summary, documentation and a link to it), then one
//! result per finding with its location and, when it has one, its fix as
//! `fixes[].artifactChanges[].replacements[]`. Paths relative to the working directory are
//! given relative to `%SRCROOT%`, as GitHub expects; absolute paths become `file://` URIs.
//!
//! Columns and character offsets count Unicode code points (`columnKind: unicodeCodePoints`),
//! as the text and JSON reports do; a UTF-8 byte-order mark is not counted. A replacement's
//! `deletedRegion` gives both the line/column form and `charOffset`/`charLength`, which describe
//! the same text: GitHub shows neither (it validates the log and ignores `fixes`), SARIF viewers
//! and fix tools read one or the other.

use serde::Serialize;

use super::fingerprint::fingerprints;
use super::FileReport;
use crate::edit::{Edit, Fix};
use crate::linter::LineIndex;
use crate::rules::{Finding, Rule, RULES};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";

/// Where unroot's sources live (Cargo.toml's `repository`).
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The documentation of `rule`: its page, `docs/rules/<rule>.md`, generated from its doc
/// comment (what `--explain` prints).
pub fn rule_help_uri(rule: &Rule) -> String {
    crate::rules::docs::url(rule)
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation; 1],
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

/// Whether the run worked, and the files it could not check (parse and read errors).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<RuleDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor {
    id: &'static str,
    short_description: Text,
    full_description: Text,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
    /// GitHub code scanning ranks security alerts by it.
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location<'a>; 1],
    /// Keeps an alert the same alert when lines above it move (see `fingerprint`).
    partial_fingerprints: PartialFingerprints,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix<'a>>,
}

#[derive(Serialize)]
struct PartialFingerprints {
    #[serde(rename = "unroot/v1")]
    unroot: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    physical_location: PhysicalLocation<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation<'a> {
    artifact_location: &'a ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    char_offset: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    char_length: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix<'a> {
    description: Text,
    artifact_changes: [ArtifactChange<'a>; 1],
    properties: FixProperties,
}

#[derive(Serialize)]
struct FixProperties {
    /// `safe` (applied by `--write`) or `unsafe` (only with `--unsafe-fixes`).
    applicability: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange<'a> {
    artifact_location: &'a ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: Text,
}

/// The findings of every file as one pretty-printed SARIF log.
pub fn render(reports: &[FileReport]) -> String {
    render_with_errors(reports, &[])
}

/// [`render`], with the messages of the files that could not be checked as the
/// invocation's error notifications.
pub fn render_with_errors(reports: &[FileReport], errors: &[String]) -> String {
    let locations: Vec<ArtifactLocation> = reports
        .iter()
        .map(|report| artifact_location(&report.path))
        .collect();
    let results =
        reports
            .iter()
            .zip(&locations)
            .flat_map(|(report, location)| {
                let lines = report.lines();
                report.findings.iter().zip(fingerprints(report)).map(
                    move |(finding, fingerprint)| result(&lines, location, finding, fingerprint),
                )
            })
            .collect();
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "unroot",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: REPOSITORY,
                    rules: RULES.iter().map(descriptor).collect(),
                },
            },
            invocations: [Invocation {
                execution_successful: errors.is_empty(),
                tool_execution_notifications: errors
                    .iter()
                    .map(|error| Notification {
                        level: "error",
                        message: Text {
                            text: error.clone(),
                        },
                    })
                    .collect(),
            }],
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn descriptor(rule: &Rule) -> RuleDescriptor {
    let doc = rule.doc();
    RuleDescriptor {
        id: rule.name,
        short_description: Text {
            text: rule.summary.to_string(),
        },
        full_description: Text {
            text: what_it_does(&doc).unwrap_or_else(|| rule.summary.to_string()),
        },
        help: Help {
            text: doc.clone(),
            markdown: doc,
        },
        help_uri: rule_help_uri(rule),
        default_configuration: Configuration { level: "warning" },
        properties: RuleProperties {
            tags: ["dockerfile", "security"]
                .into_iter()
                .chain(rule.aliases.iter().copied())
                .collect(),
            security_severity: rule.severity.score(),
        },
    }
}

/// The `## What it does` section of a rule's documentation, without its heading.
fn what_it_does(doc: &str) -> Option<String> {
    let (_, rest) = doc.split_once("## What it does\n")?;
    let section = rest.split("\n## ").next().unwrap_or(rest).trim();
    (!section.is_empty()).then(|| section.to_string())
}

fn result<'a>(
    lines: &LineIndex,
    location: &'a ArtifactLocation,
    finding: &Finding,
    fingerprint: String,
) -> SarifResult<'a> {
    let rule_index = RULES
        .iter()
        .position(|rule| rule.name == finding.rule)
        .unwrap_or_default();
    SarifResult {
        rule_id: finding.rule,
        rule_index,
        level: "warning",
        message: Text {
            text: finding.message.clone(),
        },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: location,
                region: region(lines, finding.span.start, finding.span.end, false),
            },
        }],
        partial_fingerprints: PartialFingerprints {
            unroot: fingerprint,
        },
        fixes: finding
            .fix
            .iter()
            .map(|fix| sarif_fix(lines, location, fix))
            .collect(),
    }
}

fn sarif_fix<'a>(lines: &LineIndex, location: &'a ArtifactLocation, fix: &Fix) -> SarifFix<'a> {
    let applicability = fix.applicability.as_str();
    let description = match fix.applicability {
        crate::edit::Applicability::Safe => fix.title.clone(),
        crate::edit::Applicability::Unsafe => {
            format!("{} (unsafe: applied only with --unsafe-fixes)", fix.title)
        }
    };
    SarifFix {
        description: Text { text: description },
        artifact_changes: [ArtifactChange {
            artifact_location: location,
            replacements: fix
                .edits
                .iter()
                .map(|edit| replacement(lines, edit))
                .collect(),
        }],
        properties: FixProperties { applicability },
    }
}

fn replacement(lines: &LineIndex, edit: &Edit) -> Replacement {
    Replacement {
        deleted_region: region(lines, edit.span.start, edit.span.end, true),
        inserted_content: Text {
            text: edit.content.clone(),
        },
    }
}

/// The text between byte offsets `start` and `end` of `source`: lines and columns (the end
/// column is the one after the region, as SARIF says), with character offsets if `offsets`.
fn region(lines: &LineIndex, start: usize, end: usize, offsets: bool) -> Region {
    let (start_line, start_column) = lines.line_col(start);
    let (end_line, end_column) = lines.line_col(end);
    let (char_offset, char_length) = if offsets {
        let (first, last) = (lines.char_offset(start), lines.char_offset(end));
        (Some(first), Some(last.saturating_sub(first)))
    } else {
        (None, None)
    };
    Region {
        start_line,
        start_column,
        end_line,
        end_column,
        char_offset,
        char_length,
    }
}

/// A report path as a SARIF artifact location: relative paths as URI references against
/// `%SRCROOT%` (the repository root in GitHub code scanning), absolute paths as `file://` URIs.
fn artifact_location(path: &str) -> ArtifactLocation {
    #[cfg(windows)]
    let path = &path.replace('\\', "/");
    let absolute = std::path::Path::new(path).is_absolute() || path.starts_with('/');
    if absolute {
        let path = path.trim_start_matches('/');
        ArtifactLocation {
            uri: format!("file:///{}", percent_encode(path, true)),
            uri_base_id: None,
        }
    } else {
        let mut relative = path;
        while let Some(rest) = relative.strip_prefix("./") {
            relative = rest;
        }
        ArtifactLocation {
            uri: percent_encode(relative, false),
            uri_base_id: Some(SRCROOT),
        }
    }
}

/// Percent-encodes what may not appear in a URI path. `:` is kept only in an absolute path (a
/// Windows drive); in a relative reference it could be read as a scheme.
fn percent_encode(path: &str, keep_colon: bool) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || b"-._~/!$&'()*+,;=@".contains(&byte)
            || (keep_colon && byte == b':');
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uris() {
        let relative = artifact_location("./services/api v2/Dockerfile");
        assert_eq!(relative.uri, "services/api%20v2/Dockerfile");
        assert_eq!(relative.uri_base_id, Some(SRCROOT));
        assert_eq!(
            artifact_location("a:b#c/Dockerfile").uri,
            "a%3Ab%23c/Dockerfile"
        );
        assert_eq!(artifact_location("<stdin>").uri, "%3Cstdin%3E");
        let absolute = artifact_location("/srv/app/Dockerfile.prod");
        assert_eq!(absolute.uri, "file:///srv/app/Dockerfile.prod");
        assert_eq!(absolute.uri_base_id, None);
        assert_eq!(percent_encode("é", false), "%C3%A9");
    }

    #[test]
    fn character_offsets_count_code_points_without_the_bom() {
        let source = "\u{feff}FROM é\nUSER x\n";
        let after_e = source.find('\n').unwrap();
        let lines = LineIndex::new(source);
        assert_eq!(lines.char_offset(0), 0);
        assert_eq!(lines.char_offset(3), 0);
        assert_eq!(lines.char_offset(after_e), 6);
        let region = region(&lines, after_e + 1, source.len(), true);
        assert_eq!((region.start_line, region.start_column), (2, 1));
        assert_eq!((region.end_line, region.end_column), (3, 1));
        assert_eq!((region.char_offset, region.char_length), (Some(7), Some(7)));
    }

    #[test]
    fn every_rule_has_its_documentation_and_a_help_uri_to_its_page() {
        for rule in RULES {
            let descriptor = descriptor(rule);
            assert_eq!(descriptor.help.markdown, rule.doc());
            assert!(!descriptor.full_description.text.starts_with('#'));
            let file = descriptor
                .help_uri
                .strip_prefix(&format!("{REPOSITORY}/blob/main/"))
                .expect("a link into the repository");
            assert_eq!(file, format!("docs/rules/{}.md", rule.name));
            assert!(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(file)
                    .is_file(),
                "{} links to {file}, which does not exist",
                rule.name
            );
        }
    }
}
