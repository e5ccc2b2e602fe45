use std::collections::HashMap;

use super::suppress::Suppressions;
use super::{Context, Digests, Finding, Pin, Prose};
use crate::analysis::node_tag::{Follows, NodeTag};
use crate::analysis::{unquoted_range, vars, ImageRef, Stage};
use crate::edit::{Applicability, Edit, Fix};
use crate::sources::releases::ReleaseLine;
use crate::syntax::{Span, Token};

declare_rule! {
    /// ## What it does
    /// Checks that every stage built on the official `node` image (`node`, `library/node`,
    /// `docker.io/library/node`, `index.docker.io/library/node`) names an explicit release:
    /// no tag, `latest`, `current`, `lts`, a codename (`jod`, `krypton`, `lithium`), or a
    /// variant alone (`alpine`, `slim`, `bookworm`, `lts-alpine`, `jod-slim`…) float.
    ///
    /// ## Why is this bad?
    /// A floating tag changes under you: the same Dockerfile builds a new Node major (or
    /// a new Debian or Alpine release) the day the tag moves, with no diff to review and no
    /// way back. `latest` and `current` may not even be an LTS line; production images
    /// should run one. Builds stop being reproducible, and a rollback rebuilds something else.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:lts-alpine
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM node:26.7.0-alpine
    /// ```
    ///
    /// ## How it fixes
    /// The tag is rewritten to a release of the chosen line, keeping the variant
    /// (`lts-alpine` → `26.7.0-alpine`, `bookworm` → `26.7.0-bookworm`) and every other byte:
    /// `--platform`, the registry prefix, `AS name`, a digest.
    /// - No tag, `latest`, `current`, a variant alone, `lts`: the newest Active LTS line
    ///   (production images should run LTS); a codename: its own line.
    /// - `ARG NODE_VERSION=latest` + `FROM node:${NODE_VERSION}-alpine`: the ARG default is
    ///   rewritten (every stage sees it), not the FROM. An ARG without a default is reported
    ///   without a fix.
    /// - The releases come from `templates/node-releases.toml`, dated (see `--list-rules`);
    ///   `--node-release-table FILE` reads a fresh `https://nodejs.org/dist/index.json`.
    ///   Findings say when the table is more than six months old.
    ///
    /// ## Options
    /// - `--pin major|minor|exact`: `26-alpine`, `26.7-alpine` or `26.7.0-alpine` (default).
    /// - `--pin digest`: `26.7.0-alpine@sha256:…`, the tag kept readable as Renovate does, and
    ///   the digest of its multi-arch index as the registry serves it today (an anonymous
    ///   `HEAD /v2/<name>/manifests/<tag>`; Docker Hub for `node`). A digest already in the
    ///   reference is kept. A lookup that fails (network, unknown tag) is an error: exit
    ///   status 2 and nothing written. `ARG` defaults are pinned without a digest.
    /// - `--registry URL`: look the digests up there instead, e.g. a mirror.
    /// - `--node-release-table FILE`: a fresh release list.
    /// - `# unroot pin=none` directly above a FROM keeps that stage floating on purpose.
    ///
    /// ## Fix safety
    /// Safe: the pinned release is the one the floating tag points to today, or an LTS
    /// line for `latest`/`current` (a deliberate choice, named in the message).
    ///
    /// ## References
    /// - Node.js release schedule: <https://github.com/nodejs/Release>
    /// - Official image tags: <https://hub.docker.com/_/node>
    /// - Same check: hadolint DL3006 and DL3007, Trivy DS001 (AVD-DS-0001), Checkov CKV_DOCKER_7;
    ///   their ignore pragmas are honoured.
    pub(crate) const FLOATING_TAG = Rule {
        name: "floating-tag",
        summary: "a `node` base image tag that moves",
        check: floating_tag,
        fixes: super::Fixes::Safe,
        aliases: &["DL3006", "DL3007", "DS001", "AVD-DS-0001", "CKV_DOCKER_7"],
        options: &["--pin", "--registry", "--node-release-table"],
        reads_release_table: true,
        pragma: Some("pin=none"),
        severity: super::Severity::Low,
        prose: Prose {
            subject: Some("pin Node base images"),
            why: Some(
                "**Reproducible builds.** A floating tag (`node:22`, `node:lts`, `node:latest`) \
                 points at a different image whenever Node publishes a release, so two builds of \
                 the same commit can differ. The base image is now pinned to a release; a \
                 dependency bot keeps the pin current.",
            ),
            checks: &[
                "**The pinned release.** Check that the app supports the Node release the base \
                 image is pinned to, and let a dependency bot (Renovate, Dependabot) keep it \
                 current.",
            ],
            rank: 20,
            checks_rank: 30,
        },
    };
}

fn floating_tag(cx: &Context) -> Vec<Finding> {
    let today = cx.today();
    cx.analysis
        .stages
        .iter()
        .filter(|stage| stage.parent.is_none())
        .filter_map(|stage| check_stage(cx, stage, today))
        .collect()
}

fn check_stage(cx: &Context, stage: &Stage, today: &str) -> Option<Finding> {
    let from = &cx.file.instructions[stage.from];
    let token = from.from_image()?;
    let raw = token.value.as_str();
    let Some(reference) = stage.reference.as_deref() else {
        return unresolved(cx, stage, token);
    };
    let image = ImageRef::parse(reference);
    if !image.is_official_node() {
        return None;
    }
    let tag = image.tag.as_deref().unwrap_or("");
    let NodeTag::Floating { follows, variant } = NodeTag::of(tag, cx.options.releases()) else {
        return None;
    };
    let releases = cx.options.releases();
    let line = match follows {
        Follows::Newest | Follows::Lts => releases.active_lts(today),
        Follows::Codename(major) => releases.line(major),
    }?;
    let shown = if tag.is_empty() {
        format!("`{raw}` has no tag")
    } else {
        format!("`node:{tag}` floats")
    };
    let why = match follows {
        Follows::Newest => format!(
            "it follows the newest Node release, which need not be LTS; pinned to Node {} (Active LTS), as production images should run an LTS line",
            line.major
        ),
        Follows::Lts => format!("it moves to the next LTS line without notice; pinned to Node {}, today's Active LTS line", line.major),
        Follows::Codename(_) => format!("it follows every release of Node {}; pinned to one", line.major),
    };
    let message = format!("{shown}: {why}");
    let mut help = vec![support_note(line, today)];
    help.extend(releases.staleness(today));
    let fix = if line.is_eol(today) {
        help.insert(
            0,
            format!(
                "Node {} is past its end of life: move to a supported line by hand",
                line.major
            ),
        );
        None
    } else {
        let (variant, note) = adapt_variant(variant, line);
        help.extend(note);
        plan_fix(cx, stage, token, &image, &variant, line, &mut help)
    };
    if fix.is_none() && raw.contains('$') && !line.is_eol(today) {
        help.push("the tag comes from variables unroot cannot rewrite safely: pin the ARG default by hand".to_string());
    }
    Some(Finding {
        rule: FLOATING_TAG.name,
        span: token.span,
        instruction: stage.from,
        message,
        help: Some(help.join("; ")),
        fix,
    })
}

fn support_note(line: &ReleaseLine, today: &str) -> String {
    match (&line.maintenance, &line.end_of_life) {
        (Some(maintenance), Some(eol)) if line.is_active_lts(today) => {
            format!(
                "Node {} is Active LTS until {maintenance}, supported until {eol}",
                line.major
            )
        }
        (_, Some(eol)) => format!("Node {} is supported until {eol}", line.major),
        _ => format!("Node {}", line.major),
    }
}

/// The variant as the chosen line builds it: an Alpine or Debian release the line has no
/// images for becomes the line's default one. Returns the variant and a note when changed.
fn adapt_variant(variant: &str, line: &ReleaseLine) -> (String, Option<String>) {
    let (head, rest) = match variant.split_once('-') {
        Some((head, rest)) => (head, format!("-{rest}")),
        None => (variant, String::new()),
    };
    let lower = head.to_ascii_lowercase();
    let replacement = if lower.starts_with("alpine") && lower != "alpine" {
        line.alpine.as_deref().filter(|alpine| *alpine != lower)
    } else if matches!(
        lower.as_str(),
        "wheezy" | "jessie" | "stretch" | "buster" | "bullseye"
    ) {
        line.debian.as_deref()
    } else {
        None
    };
    match replacement {
        Some(new_head) => (
            format!("{new_head}{rest}"),
            Some(format!(
                "Node {} images are not built on `{head}`: the pin uses `{new_head}`",
                line.major
            )),
        ),
        None => (variant.to_string(), None),
    }
}

/// The new tag: the line's release at the `--pin` precision, then the variant.
fn pinned_tag(line: &ReleaseLine, variant: &str, pin: Pin) -> Option<String> {
    let latest = line.latest.as_deref()?;
    let version = match pin {
        Pin::Exact | Pin::Digest => latest.to_string(),
        Pin::Minor => latest.splitn(3, '.').take(2).collect::<Vec<_>>().join("."),
        Pin::Major => line.major.to_string(),
    };
    Some(if variant.is_empty() {
        version
    } else {
        format!("{version}-{variant}")
    })
}

fn plan_fix(
    cx: &Context,
    stage: &Stage,
    token: &Token,
    image: &ImageRef,
    variant: &str,
    line: &ReleaseLine,
    help: &mut Vec<String>,
) -> Option<Fix> {
    let new_tag = pinned_tag(line, variant, cx.options.pin)?;
    let reference = stage.reference.as_deref()?;
    let new_reference = if image.tag.is_some() {
        format!(
            "{}{}{}",
            &reference[..image.tag_range.start],
            new_tag,
            &reference[image.tag_range.end..]
        )
    } else {
        format!(
            "{}:{}{}",
            &reference[..image.tag_range.start],
            new_tag,
            &reference[image.tag_range.start..]
        )
    };
    let title = format!("pin `{new_reference}`");
    let raw = token.value.as_str();
    if !raw.contains('$') {
        // `--pin digest`: the digest follows the tag, unless the reference has one already
        // (never removed or replaced). A failed lookup leaves the finding without a fix (the
        // CLI reports the error and writes nothing); a stage whose finding a pragma
        // suppresses (`pin=none`) is not looked up at all.
        let pinned = match (&cx.options.digests, cx.options.pin, &image.digest) {
            (Some(Digests(resolver)), Pin::Digest, None)
                if !Suppressions::of(cx.file).suppresses(&FLOATING_TAG, stage.from) =>
            {
                let digest = resolver
                    .digest(image, &new_tag)
                    .inspect_err(|message| {
                        help.push(format!(
                            "the digest lookup failed, so nothing is pinned: {message}"
                        ))
                    })
                    .ok()?;
                format!("{new_tag}@{digest}")
            }
            _ => new_tag,
        };
        // Offsets into the reference, mapped to the token as written (quotes and escapes
        // stay where they are: `"node:lts"` becomes `"node:26.7.0"`).
        let (tag_start, tag_end) = raw_range(raw, reference, image, cx.file.escape)?;
        let edit = if image.tag.is_some() {
            Edit::replace(
                Span::new(token.span.start + tag_start, token.span.start + tag_end),
                pinned,
            )
        } else {
            Edit::insert(token.span.start + tag_start, format!(":{pinned}"))
        };
        let title = match cx.options.pin {
            Pin::Digest if image.digest.is_none() => format!("{title} by digest"),
            _ => title,
        };
        return Some(Fix::new(title, Applicability::Safe, vec![edit]));
    }
    // One variable in the reference: rewrite its global ARG default.
    let (before, name, after) = single_variable(raw)?;
    let no_vars: HashMap<String, String> = HashMap::new();
    if vars::substitute(before, &no_vars).as_deref() != Some(before)
        || vars::substitute(after, &no_vars).as_deref() != Some(after)
    {
        return None;
    }
    let new_value = new_reference.strip_prefix(before)?.strip_suffix(after)?;
    let value = global_arg_value(cx, name)?;
    let inner = unquoted_range(value.span.text(&cx.file.source));
    let span = Span::new(value.span.start + inner.start, value.span.start + inner.end);
    let title = format!("{title} through `ARG {name}`");
    Some(Fix::new(
        title,
        Applicability::Safe,
        vec![Edit::replace(span, new_value)],
    ))
}

/// Where the tag of `reference` (`image.tag_range`) is in `raw`, the reference as written
/// with quotes or escapes; `None` when a quote or escape is inside the tag, where a new tag
/// could not keep it.
fn raw_range(raw: &str, reference: &str, image: &ImageRef, escape: char) -> Option<(usize, usize)> {
    let range = image.tag_range;
    if raw == reference {
        return Some((range.start, range.end));
    }
    let (word, from) = vars::literal_word(raw, escape)?;
    if word != reference {
        return None;
    }
    // After the byte before the tag (the `:`, or the name's last byte for an insertion).
    let start = from[range.start.checked_sub(1)?] + 1;
    let end = if range.end > range.start {
        from[range.end - 1] + 1
    } else {
        start
    };
    let tag_as_written = raw.get(start..end)?;
    (tag_as_written == &reference[range.start..range.end]).then_some((start, end))
}

/// `before${NAME}after` or `before$NAME after` with exactly one variable.
fn single_variable(raw: &str) -> Option<(&str, &str, &str)> {
    let start = raw.find('$')?;
    let rest = &raw[start + 1..];
    let (name, end) = if let Some(inner) = rest.strip_prefix('{') {
        let close = inner.find('}')?;
        let name = &inner[..close];
        if vars::name_len(name) != name.len() {
            return None;
        }
        (name, start + 1 + 1 + close + 1)
    } else {
        let len = vars::name_len(rest);
        (&rest[..len], start + 1 + len)
    };
    let after = &raw[end..];
    if name.is_empty() || after.contains('$') {
        return None;
    }
    Some((&raw[..start], name, after))
}

/// The value token of the last `ARG name=value` before the first FROM.
fn global_arg_value<'a>(cx: &'a Context, name: &str) -> Option<&'a Token> {
    let &(instruction, pair) = cx.analysis.global_arg_definitions.get(name)?;
    cx.file.instructions[instruction].pairs[pair].value.as_ref()
}

/// `FROM node:${V}` where `ARG V` has no default: the build decides the tag.
fn unresolved(cx: &Context, stage: &Stage, token: &Token) -> Option<Finding> {
    let (before, name, _) = single_variable(&token.value)?;
    let image = ImageRef::parse(before.trim_end_matches(':'));
    if !before.ends_with(':') || !image.is_official_node() {
        return None;
    }
    Some(Finding {
        rule: FLOATING_TAG.name,
        span: token.span,
        instruction: stage.from,
        message: format!("the `node` tag comes from `ARG {name}`, which has no default: the build decides which Node runs"),
        help: Some(format!("give `ARG {name}` a default naming a release, e.g. `ARG {name}=26.7.0`")),
        fix: None,
    })
    .filter(|_| cx.analysis.global_args.contains_key(name))
}

#[cfg(test)]
mod tests {
    use crate::edit::Applicability;
    use crate::linter::{lint, LintOptions};

    fn fixed(src: &str) -> String {
        std::env::set_var("UNROOT_TODAY", "2026-11-24");
        let options = LintOptions {
            selection: crate::rules::RuleSelection {
                select: vec!["floating-tag".to_string()],
                ignore: vec![],
            },
            ..LintOptions::default()
        };
        lint(src, &options, Applicability::Safe).unwrap().fixed
    }

    #[test]
    fn pins_keeping_variant_and_spelling() {
        assert_eq!(
            fixed("FROM node:lts-alpine AS build\n"),
            "FROM node:26.7.0-alpine AS build\n"
        );
        assert_eq!(fixed("FROM node\n"), "FROM node:26.7.0\n");
        assert_eq!(
            fixed("from --platform=$BUILDPLATFORM docker.io/library/node:bookworm as b\n"),
            "from --platform=$BUILDPLATFORM docker.io/library/node:26.7.0-bookworm as b\n"
        );
        assert_eq!(fixed("FROM node:jod-slim\n"), "FROM node:22.23.2-slim\n");
        assert_eq!(
            fixed("FROM node:current-alpine3.19\n"),
            "FROM node:26.7.0-alpine3.24\n"
        );
        assert_eq!(
            fixed("FROM node:bullseye-slim\n"),
            "FROM node:26.7.0-trixie-slim\n"
        );
        assert_eq!(
            fixed("FROM node:lts-alpine3.24\n"),
            "FROM node:26.7.0-alpine3.24\n"
        );
        assert_eq!(
            fixed("FROM node:latest@sha256:abc\n"),
            "FROM node:26.7.0@sha256:abc\n"
        );
        assert_eq!(
            fixed("FROM node:22-alpine\nFROM localhost:5000/node:latest\n"),
            "FROM node:22-alpine\nFROM localhost:5000/node:latest\n"
        );
    }

    #[test]
    fn arg_indirection_rewrites_the_default() {
        assert_eq!(
            fixed("ARG NODE_VERSION=latest\nFROM node:${NODE_VERSION}-alpine\nFROM node:${NODE_VERSION}-alpine\n"),
            "ARG NODE_VERSION=26.7.0\nFROM node:${NODE_VERSION}-alpine\nFROM node:${NODE_VERSION}-alpine\n"
        );
        assert_eq!(
            fixed("ARG IMAGE=\"node:lts\"\nFROM $IMAGE\n"),
            "ARG IMAGE=\"node:26.7.0\"\nFROM $IMAGE\n"
        );
    }

    #[test]
    fn arg_indirection_with_stage_names() {
        assert_eq!(
            fixed("ARG V=lts\nFROM node:${V}-alpine AS build\nRUN npm ci\nFROM build AS final\n"),
            "ARG V=26.7.0\nFROM node:${V}-alpine AS build\nRUN npm ci\nFROM build AS final\n"
        );
        // A variable without a default: reported, not fixed.
        let src = "ARG V\nFROM node:${V}\n";
        assert_eq!(fixed(src), src);
    }

    #[test]
    fn version_tags_and_other_images_are_left_alone() {
        let src =
            "FROM node:22.1\nFROM node:26-alpine\nFROM nodejs/node:latest\nFROM alpine:latest\n";
        assert_eq!(fixed(src), src);
    }

    /// A registry that knows `26.7.0-alpine` only, and counts the lookups.
    struct FakeRegistry(std::sync::Mutex<Vec<String>>);

    impl crate::rules::DigestResolver for FakeRegistry {
        fn digest(&self, image: &crate::analysis::ImageRef, tag: &str) -> Result<String, String> {
            self.0
                .lock()
                .unwrap()
                .push(format!("{}:{tag}", image.repository));
            match tag {
                "26.7.0-alpine" => Ok(format!("sha256:{}", "d".repeat(64))),
                _ => Err(format!("cannot resolve node:{tag}: manifest unknown")),
            }
        }
    }

    #[test]
    fn pin_digest_appends_the_digest_or_reports_the_failure() {
        std::env::set_var("UNROOT_TODAY", "2026-11-24");
        let registry = std::sync::Arc::new(FakeRegistry(Default::default()));
        let options = LintOptions {
            rules: crate::rules::RuleOptions {
                pin: crate::rules::Pin::Digest,
                digests: Some(crate::rules::Digests(registry.clone())),
                ..Default::default()
            },
            selection: crate::rules::RuleSelection {
                select: vec!["floating-tag".to_string()],
                ignore: vec![],
            },
            ..LintOptions::default()
        };
        let run = |src: &str| lint(src, &options, Applicability::Safe).unwrap();
        let digest = format!("sha256:{}", "d".repeat(64));
        assert_eq!(
            run("FROM node:lts-alpine AS b\n").fixed,
            format!("FROM node:26.7.0-alpine@{digest} AS b\n")
        );
        // An existing digest is kept, and not looked up.
        registry.0.lock().unwrap().clear();
        assert_eq!(
            run("FROM node:lts-alpine@sha256:abc\n").fixed,
            "FROM node:26.7.0-alpine@sha256:abc\n"
        );
        assert!(registry.0.lock().unwrap().is_empty());
        // A failed lookup: the finding stays, without a fix, and says why.
        let outcome = run("FROM node:lts-slim\n");
        assert_eq!(outcome.fixed, "FROM node:lts-slim\n");
        let finding = &outcome.findings[0];
        assert!(finding.fix.is_none());
        assert!(finding.help.as_deref().unwrap().contains(
            "the digest lookup failed, so nothing is pinned: cannot resolve node:26.7.0-slim"
        ));
        // `pin=none` keeps a stage floating: no lookup at all.
        registry.0.lock().unwrap().clear();
        let src = "# unroot pin=none\nFROM node:lts-slim\n";
        assert_eq!(run(src).fixed, src);
        assert!(registry.0.lock().unwrap().is_empty());
    }
}
