//! The rules' findings in deployment files (Compose, Kubernetes, Helm values): a Dockerfile's port move
//! carried into the files that run its image (`privileged-port`), and the user they run it as
//! (`deploy-user`). The linter's repository step finds what runs where and hands it here.

use super::deploy_user::DEPLOY_USER;
use super::privileged_port::PRIVILEGED_PORT;
use super::{Finding, RuleSelection};
use crate::deploy::Reference;
use crate::edit::{Applicability, Fix};
use crate::syntax::Span;
use crate::yaml::{line_of, Node};

pub use super::privileged_port::moved_port;

/// What runs an image in a deployment document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    ComposeService {
        doc: usize,
        name: String,
    },
    Container {
        doc: usize,
        name: String,
    },
    /// The containers of a Helm chart that run the image; `doc` is in `values.yaml`.
    HelmChart {
        doc: usize,
        chart: usize,
        containers: Vec<usize>,
        security: Vec<crate::deploy::helm::Security>,
        /// A subchart: the parent chart's values for it, which Helm merges over its own.
        parent: Option<ParentValues>,
    },
}

/// A parent chart's values for a subchart: its `values.yaml` as shown and its text, and the
/// `<subchart>:` mapping in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentValues {
    pub shown: String,
    pub source: String,
    pub values: Node,
}

impl Target {
    pub fn doc(&self) -> usize {
        match self {
            Target::ComposeService { doc, .. }
            | Target::Container { doc, .. }
            | Target::HelmChart { doc, .. } => *doc,
        }
    }
}

/// Who the image runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageUser {
    /// The official `node` image, used directly (user `node`, 1000:1000).
    NodeImage,
    Numeric {
        uid: u32,
        gid: Option<u32>,
    },
    /// A user whose uid unroot does not know.
    Named(String),
    /// The image runs as root (its Dockerfile not fixed).
    Root,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Runner {
    pub target: Target,
    pub image_user: ImageUser,
    /// The Dockerfile the image is built from, as shown.
    pub dockerfile: Option<String>,
    /// `--uid N`: the uid a node image run directly is run as (else `node`, 1000).
    pub uid: Option<u32>,
}

/// The uid (and gid) of the official node images' user `node`.
pub const NODE_UID: u32 = 1000;

impl Runner {
    /// The uid and gid the image runs as (node images: `--uid`, else `node`'s 1000); `None`
    /// when it runs as root. A named user without a known uid has neither.
    pub fn image_ids(&self) -> Option<(Option<u32>, Option<u32>)> {
        match &self.image_user {
            ImageUser::NodeImage => {
                let uid = self.uid.unwrap_or(NODE_UID);
                Some((Some(uid), Some(uid)))
            }
            ImageUser::Numeric { uid, gid } => Some((Some(*uid), *gid)),
            ImageUser::Named(_) => Some((None, None)),
            ImageUser::Root => None,
        }
    }
}

/// A place a port move reaches, with the move's applicability (that of the Dockerfile's
/// fix: the edits of one move apply together or not at all).
#[derive(Clone, Debug)]
pub struct Carried {
    pub reference: Reference,
    pub old: u16,
    pub new: u16,
    pub applicability: Applicability,
    pub dockerfile: String,
}

/// The findings of one deployment file, sorted; suppressed ones dropped.
pub fn findings(
    source: &str,
    documents: &[Node],
    carried: &[Carried],
    runners: &[Runner],
    selection: &RuleSelection,
    kustomize: bool,
    patch_users: Vec<Finding>,
) -> Vec<Finding> {
    let mut found = Vec::new();
    if kustomize && selection.enables(DEPLOY_USER.name) {
        found.extend(kustomize_findings(source));
        found.extend(patch_users);
    }
    if selection.enables(PRIVILEGED_PORT.name) {
        for carried in carried {
            found.extend(port_finding(source, carried));
        }
    }
    if selection.enables(DEPLOY_USER.name) {
        for (index, doc) in documents.iter().enumerate() {
            let here: Vec<&Runner> = runners
                .iter()
                .filter(|r| r.target.doc() == index)
                .filter(|r| !annotated_off(doc, r))
                .collect();
            found.extend(super::deploy_user::check(source, doc, &here));
        }
    }
    let pragmas = Pragmas::of(source);
    found.retain(|finding| !pragmas.suppresses(finding.rule, line_of(source, finding.span.start)));
    found.sort_by_key(|finding| (finding.span.start, finding.rule));
    found
}

/// The port move a deployment file's finding carries: the Dockerfile (as shown), the port and
/// the new port; `None` for any other finding. (Read back from the message [`port_finding`]
/// writes, as [`moved_port`] reads a fix's title.)
pub fn carried_move(finding: &Finding) -> Option<(String, u16, u16)> {
    if finding.rule != PRIVILEGED_PORT.name || finding.fix.is_none() {
        return None;
    }
    let (_, rest) = finding.message.split_once(": container port `")?;
    let (old, rest) = rest.split_once("` moves to `")?;
    let (new, rest) = rest.split_once("` with `")?;
    let dockerfile = rest.strip_suffix('`')?;
    Some((dockerfile.to_string(), old.parse().ok()?, new.parse().ok()?))
}

/// A Kustomize file (a kustomization's inline patches, a patch file) that sets the pod or
/// container to run as root: reported, never edited (the patch wins over the base unroot
/// edits).
fn kustomize_findings(source: &str) -> Vec<Finding> {
    crate::deploy::root_settings(source)
        .into_iter()
        .map(|(line, setting)| {
            let start = source
                .split_inclusive('\n')
                .take(line - 1)
                .map(str::len)
                .sum::<usize>();
            let text = &source[start..];
            let indent = text.len() - text.trim_start_matches([' ', '\t', '-']).len();
            Finding {
                rule: DEPLOY_USER.name,
                span: crate::syntax::Span::empty(start + indent),
                instruction: 0,
                message: format!("a Kustomize patch sets `{setting}`: the container runs as root or may gain root"),
                help: Some(
                    "unroot never edits Kustomize patches, and a patch wins over the manifest unroot fixes: change it by hand"
                        .to_string(),
                ),
                fix: None,
            }
        })
        .collect()
}

/// A Kustomize patch that sets `runAsUser: set` (at `span`) on `who`, whose image runs as
/// `uid` (built from `image`): reported, never edited.
pub fn patch_uid_finding(span: Span, who: &str, set: u32, uid: u32, image: &str) -> Finding {
    Finding {
        rule: DEPLOY_USER.name,
        span,
        instruction: 0,
        message: format!(
            "a Kustomize patch sets `runAsUser: {set}` for {who}, whose image runs as uid {uid}"
        ),
        help: Some(format!(
            "the image's user ({image}) owns the files in the image; another uid may not read or write them: set `runAsUser: {uid}` in the patch, or remove it (unroot never edits Kustomize patches)"
        )),
        fix: None,
    }
}

fn port_finding(source: &str, carried: &Carried) -> Option<Finding> {
    let (old, new) = (carried.old, carried.new);
    let at = |line: usize| {
        let start = source
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum::<usize>();
        let text = &source[start..];
        let indent = text.len() - text.trim_start_matches([' ', '\t', '-']).len();
        crate::syntax::Span::empty(start + indent)
    };
    Some(match &carried.reference {
        Reference::Edit { what, edit, .. } => Finding {
            rule: PRIVILEGED_PORT.name,
            span: edit.span,
            instruction: 0,
            message: format!(
                "{what}: container port `{old}` moves to `{new}` with `{}`",
                carried.dockerfile
            ),
            help: Some(format!(
                "the image now listens on `{new}`; the published (host) side stays, so clients see no change"
            )),
            fix: Some(Fix::new(
                format!("move container port `{old}` to `{new}`"),
                carried.applicability,
                vec![edit.clone()],
            )),
        },
        Reference::Follows { .. } => return None,
        Reference::Person { line, why } => Finding {
            rule: PRIVILEGED_PORT.name,
            span: at(*line),
            instruction: 0,
            message: format!(
                "{why}: `{}` moves port `{old}` to `{new}`, change this by hand",
                carried.dockerfile
            ),
            help: Some("unroot cannot change this reference, so the port move is unsafe".to_string()),
            fix: None,
        },
    })
}

/// Checkov's `checkov.io/skip<N>: CKV_K8S_6=…` and kube-linter's
/// `ignore-check.kube-linter.io/<check>` annotations on the workload or its pod template.
fn annotated_off(doc: &Node, runner: &Runner) -> bool {
    let Target::Container { .. } = runner.target else {
        return false;
    };
    let Some(workload) = crate::deploy::kube::workload(doc) else {
        return false;
    };
    let aliases = DEPLOY_USER.aliases;
    workload.annotations().iter().any(|(key, value)| {
        if key.starts_with("checkov.io/skip") {
            let id = value.split('=').next().unwrap_or("").trim();
            return aliases.iter().any(|a| a.eq_ignore_ascii_case(id));
        }
        key.strip_prefix("ignore-check.kube-linter.io/")
            .is_some_and(|check| aliases.contains(&check))
    })
}

/// `# unroot ignore=<rules>` on a finding's line or the line above; `# unroot global
/// ignore=<rules>` anywhere.
struct Pragmas {
    global: Vec<String>,
    lines: Vec<(usize, Vec<String>)>,
}

impl Pragmas {
    fn of(source: &str) -> Pragmas {
        let mut pragmas = Pragmas {
            global: Vec::new(),
            lines: Vec::new(),
        };
        // One search of the file: most have no pragma at all.
        if !source.contains("# unroot ") {
            return pragmas;
        }
        for (index, line) in source.lines().enumerate() {
            let Some(at) = line.find("# unroot ") else {
                continue;
            };
            let rest = line[at + "# unroot ".len()..].trim();
            let ids = |list: &str| -> Vec<String> {
                list.split(',')
                    .map(|id| id.trim().to_string())
                    .filter(|id| !id.is_empty())
                    .collect()
            };
            if let Some(list) = rest.strip_prefix("global ignore=") {
                pragmas.global.extend(ids(list));
            } else if let Some(list) = rest.strip_prefix("ignore=") {
                pragmas.lines.push((index + 1, ids(list)));
            }
        }
        pragmas
    }

    fn suppresses(&self, rule: &str, line: usize) -> bool {
        let rule_aliases = super::find_rule(rule).map_or(&[][..], |r| r.aliases);
        let matches = |ids: &[String]| {
            ids.iter().any(|id| {
                id == rule || id == "all" || rule_aliases.iter().any(|a| a.eq_ignore_ascii_case(id))
            })
        };
        matches(&self.global)
            || self
                .lines
                .iter()
                .any(|(at, ids)| (*at == line || *at + 1 == line) && matches(ids))
    }
}
