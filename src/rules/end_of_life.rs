use super::{Context, Finding, Prose};
use crate::analysis::node_tag::NodeTag;
use crate::analysis::ImageRef;

declare_rule! {
    /// ## What it does
    /// Reports stages built on an official `node` image whose release line is past its end
    /// of life (on 2026-11-24: Node 20 and older, and 21, 23, 25), with the date support ended.
    ///
    /// ## Why is this bad?
    /// An end-of-life line gets no security fixes: every vulnerability found in Node, npm
    /// or OpenSSL after that date stays in the image. Running as non-root limits what an
    /// attacker can do; running a supported Node limits how they get in.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:18-alpine
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM node:26.7.0-alpine
    /// ```
    ///
    /// ## How it fixes
    /// It does not: moving to a new major version needs the application tested on it.
    /// The finding names the line to move to (today's Active LTS).
    ///
    /// ## Options
    /// - `--node-release-table FILE`: a fresh release list (end-of-life dates come from the
    ///   shipped table, `templates/node-releases.toml`).
    ///
    /// ## Fix safety
    /// No fix is offered.
    ///
    /// ## References
    /// - Node.js release schedule: <https://github.com/nodejs/Release>
    /// - End-of-life dates: <https://endoflife.date/nodejs>
    pub(crate) const END_OF_LIFE = Rule {
        name: "end-of-life",
        summary: "a `node` base image past its end of life",
        check: end_of_life,
        options: &["--node-release-table"],
        reads_release_table: true,
        prose: Prose {
            // No fix, so never in a commit's subject.
            subject: None,
            why: Some(
                "**Supported Node.** A Node release line past its end of life gets no security \
                 fixes. unroot does not move to a new major version by itself: that needs the app \
                 tested on it.",
            ),
            checks: &[
                "**End of life.** A base image is on a Node line past its end of life; plan the \
                 move to a supported line.",
            ],
            rank: 40,
            checks_rank: 40,
        },
    };
}

fn end_of_life(cx: &Context) -> Vec<Finding> {
    let today = cx.today();
    let releases = cx.options.releases();
    let target = releases.active_lts(today);
    cx.analysis
        .stages
        .iter()
        .filter(|stage| stage.parent.is_none())
        .filter_map(|stage| {
            let image = ImageRef::parse(stage.reference.as_deref()?);
            if !image.is_official_node() {
                return None;
            }
            let NodeTag::Version { major } = NodeTag::of(image.tag.as_deref().unwrap_or(""), releases) else {
                return None;
            };
            let line = releases.line(major)?;
            if !line.is_eol(today) {
                return None;
            }
            let eol = line.end_of_life.as_deref().unwrap_or("an earlier date");
            let name = if major < 4 { "0.x".to_string() } else { major.to_string() };
            let token = cx.file.instructions[stage.from].from_image()?;
            let mut help = vec![match target {
                Some(target) => format!(
                    "move to Node {} (Active LTS) and test the application on it; unroot does not change major versions",
                    target.major
                ),
                None => "move to a supported Node line and test the application on it".to_string(),
            }];
            help.extend(releases.staleness(today));
            Some(Finding {
                rule: END_OF_LIFE.name,
                span: token.span,
                instruction: stage.from,
                message: format!("Node {name} reached end of life on {eol}: it gets no security fixes"),
                help: Some(help.join("; ")),
                fix: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::edit::Applicability;
    use crate::linter::{lint, LintOptions};

    fn messages(src: &str) -> Vec<String> {
        std::env::set_var("UNROOT_TODAY", "2026-11-24");
        let options = LintOptions {
            selection: crate::rules::RuleSelection {
                select: vec!["end-of-life".to_string()],
                ignore: vec![],
            },
            ..LintOptions::default()
        };
        lint(src, &options, Applicability::Safe)
            .unwrap()
            .findings
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn reports_end_of_life_lines() {
        assert_eq!(
            messages("FROM node:18-alpine\n"),
            vec!["Node 18 reached end of life on 2025-04-30: it gets no security fixes"]
        );
        assert_eq!(messages("FROM node:20.11.0\n").len(), 1);
        assert_eq!(
            messages("FROM node:0.10.38\n"),
            vec!["Node 0.x reached end of life on 2016-12-31: it gets no security fixes"]
        );
        assert!(messages("FROM node:22-alpine\nFROM node:26\nFROM node:lts\n").is_empty());
        assert_eq!(messages("ARG V=16\nFROM node:${V}\n").len(), 1);
    }
}
