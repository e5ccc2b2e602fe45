//! Deployment files as unroot reads them: Compose (and Swarm stack) files, Kubernetes
//! manifests, Helm charts. What runs which image, and where each names a container port or
//! a user, as nodes of the lossless YAML tree ([`crate::yaml`]) that edits splice into.

pub mod builds;
pub mod compose;
pub mod helm;
pub mod kube;

use crate::edit::Edit;
use crate::yaml::Node;

/// What kind of deployment file a path is, by its name (and, for plain YAML, its content).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `compose.yaml`, `docker-compose*.yml`, Swarm stack files.
    Compose,
    /// Documents with `apiVersion` and `kind`.
    Kubernetes,
    /// A Helm chart's `values.yaml` (next to `Chart.yaml`).
    HelmValues,
    /// A file under a chart's `templates/`: Go templates, not YAML; never edited.
    HelmTemplate,
    /// `kustomization.yaml`: patches are reported, never edited.
    Kustomization,
    /// A file a `kustomization.yaml` names as a patch: reported, never edited.
    KustomizePatch,
}

/// The patch files a `kustomization.yaml` names (`patchesStrategicMerge`, `patches[].path`,
/// `patchesJson6902[].path`), relative to its directory; inline patches are in its own text.
pub fn kustomize_patches(doc: &Node) -> Vec<String> {
    let mut found = Vec::new();
    for item in doc
        .get("patchesStrategicMerge")
        .map(Node::items)
        .unwrap_or_default()
    {
        if let Some(path) = item
            .str()
            .filter(|p| !p.contains('\n') && !p.contains(": "))
        {
            found.push(path.to_string());
        }
    }
    for key in ["patches", "patchesJson6902"] {
        for item in doc.get(key).map(Node::items).unwrap_or_default() {
            if let Some(path) = item.get("path").and_then(Node::str) {
                found.push(path.to_string());
            }
        }
    }
    found
}

/// A kustomization's inline patches (`patches[].patch`, and `patchesStrategicMerge` items
/// written in place): each one's text and where it is.
pub fn kustomize_inline_patches(doc: &Node) -> Vec<(&str, crate::syntax::Span)> {
    let listed = doc.get("patches").map(Node::items).unwrap_or_default();
    let merged = doc
        .get("patchesStrategicMerge")
        .map(Node::items)
        .unwrap_or_default();
    listed
        .iter()
        .filter_map(|item| item.get("patch"))
        .chain(
            merged
                .iter()
                .filter(|item| item.str().is_some_and(|t| t.contains('\n'))),
        )
        .filter_map(|node| Some((node.str()?, node.span)))
        .collect()
}

/// A kustomization's `images:` overrides: each `name` (the image the manifests name) with
/// the `newName` it becomes; items without `newName` (a new tag only) are left out.
pub fn kustomize_images(doc: &Node) -> Vec<(String, String)> {
    doc.get("images")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|item| {
            let name = item.get("name")?.str()?;
            let new_name = item.get("newName")?.str()?;
            Some((name.to_string(), new_name.to_string()))
        })
        .collect()
}

/// The directories a kustomization's `resources:` (and `bases:`) name, relative to it
/// (entries with a file extension or a URL are left out).
pub fn kustomize_resource_dirs(doc: &Node) -> Vec<String> {
    ["resources", "bases"]
        .iter()
        .flat_map(|key| doc.get(key).map(Node::items).unwrap_or_default())
        .filter_map(|item| item.str())
        .filter(|entry| {
            !entry.contains("://")
                && !entry.ends_with(".yaml")
                && !entry.ends_with(".yml")
                && !entry.ends_with(".json")
        })
        .map(str::to_string)
        .collect()
}

/// Lines of a Kustomize patch (or a kustomization's inline patch) that set a security
/// context the image's user does not agree with: `runAsUser: 0`, `runAsNonRoot: false`,
/// `privileged: true`, `allowPrivilegeEscalation: true`. 1-based lines and what each says.
pub fn root_settings(text: &str) -> Vec<(usize, String)> {
    let bad = [
        ("runAsUser", "0"),
        ("runAsNonRoot", "false"),
        ("privileged", "true"),
        ("allowPrivilegeEscalation", "true"),
    ];
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let line = line.split(" #").next().unwrap_or(line);
            let (key, value) = line.trim().trim_start_matches("- ").split_once(':')?;
            let (key, value) = (
                key.trim().trim_matches('"'),
                value.trim().trim_matches(['"', '\'']),
            );
            bad.iter()
                .any(|(k, v)| key == *k && value == *v)
                .then(|| (index + 1, format!("{key}: {value}")))
        })
        .collect()
}

/// True for Compose file names: `compose.yaml`, `compose.override.yml`, `docker-compose.yml`,
/// `docker-compose.prod.yaml`, `docker-stack.yml`, `stack.yml`.
pub fn is_compose_name(name: &str) -> bool {
    let Some(stem) = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
    else {
        return false;
    };
    stem == "compose"
        || stem.starts_with("compose.")
        || stem.starts_with("docker-compose")
        || stem == "stack"
        || stem.starts_with("docker-stack")
        || stem.ends_with("-stack")
        || stem.ends_with(".stack")
}

/// The kind of a YAML file from its path and text; `None` for YAML that deploys nothing
/// unroot reads (CI workflows, OpenAPI specs…).
pub fn kind_of(path: &std::path::Path, text: &str) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let in_chart = |dir: &std::path::Path| dir.join("Chart.yaml").is_file();
    let parent = path.parent();
    if parent.is_some_and(|p| {
        p.ancestors().take(4).any(|a| {
            a.file_name().is_some_and(|n| n == "templates") && a.parent().is_some_and(in_chart)
        })
    }) {
        return Some(FileKind::HelmTemplate);
    }
    if (name == "values.yaml" || name == "values.yml") && parent.is_some_and(in_chart) {
        return Some(FileKind::HelmValues);
    }
    if name == "kustomization.yaml" || name == "kustomization.yml" {
        return Some(FileKind::Kustomization);
    }
    if is_compose_name(name) {
        return Some(FileKind::Compose);
    }
    // Cheap test before parsing: a manifest names its apiVersion and kind at a line start.
    let manifest = text.lines().any(|l| l.starts_with("apiVersion:"))
        && text.lines().any(|l| l.starts_with("kind:"));
    manifest.then_some(FileKind::Kubernetes)
}

/// One place in a deployment file that names what a move changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// unroot edits it: what it is (`ports "8080:80"`), its line, the edit.
    Edit {
        line: usize,
        what: String,
        edit: Edit,
    },
    /// Already follows (a named port): listed, nothing to edit.
    Follows { line: usize, what: String },
    /// A person must look: why.
    Person { line: usize, why: String },
}

impl Reference {
    pub fn line(&self) -> usize {
        match self {
            Reference::Edit { line, .. }
            | Reference::Follows { line, .. }
            | Reference::Person { line, .. } => *line,
        }
    }
}

/// The repository part of an image reference: `ghcr.io/acme/web:1.2@sha256:…` →
/// `ghcr.io/acme/web`; `docker.io/library/node` and `library/node` → `node`.
pub fn image_repository(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    // A tag is after the last `:` that follows the last `/` (a registry port comes before).
    let last_slash = image.rfind('/').map_or(0, |at| at + 1);
    let repo = match image[last_slash..].find(':') {
        Some(at) => &image[..last_slash + at],
        None => image,
    };
    let repo = repo.strip_prefix("docker.io/").unwrap_or(repo);
    repo.strip_prefix("library/").unwrap_or(repo)
}

/// The official `node` image (`node`, `node:22-alpine`, `docker.io/library/node:22`).
pub fn is_node_image(image: &str) -> bool {
    image_repository(image) == "node"
}

/// A scalar's text that reads a variable (`${PORT:-80}`): not a value unroot can follow.
pub fn interpolated(value: &str) -> bool {
    value.contains('$') || value.contains("{{")
}

/// Occurrences of `host:port` in `text` (`http://web:80/x`, `web:80`), `host` whole: byte
/// ranges of the port digits.
pub fn host_ports(text: &str, host: &str, port: u16) -> Vec<std::ops::Range<usize>> {
    let needle = format!("{host}:{port}");
    let ident = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    text.match_indices(&needle)
        .filter(|(at, _)| {
            let before = text[..*at].chars().next_back();
            let after = text[at + needle.len()..].chars().next();
            !before.is_some_and(ident) && !after.is_some_and(|c| c.is_ascii_digit())
        })
        .map(|(at, _)| {
            let start = at + host.len() + 1;
            start..start + port.to_string().len()
        })
        .collect()
}

/// Does `line` call `host` on `port`: `host:port`, or `http://host/` (80) and
/// `https://host/` (443) with the port implied?
pub fn calls(line: &str, host: &str, port: u16) -> bool {
    if !host_ports(line, host, port).is_empty() {
        return true;
    }
    let scheme = match port {
        80 => "http://",
        443 => "https://",
        _ => return false,
    };
    let needle = format!("{scheme}{host}");
    line.match_indices(&needle).any(|(at, _)| {
        let after = line[at + needle.len()..].chars().next();
        after.is_none_or(|c| matches!(c, '/' | '"' | '\'' | '`' | ' ' | ';' | ')' | '?' | '#'))
    })
}

/// The lines of an application's file (config, proxy config, tests) that a port move of
/// `port` may break: calls of `hosts` on it, and, when `config`, a `port` key set to it
/// (`"port": 443`, `port = 80`, `PORT=80`, `listen 80`). 1-based line numbers.
pub fn text_references(text: &str, hosts: &[String], port: u16, config: bool) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            hosts.iter().any(|host| calls(line, host, port))
                || (config && {
                    let lower = line.to_ascii_lowercase();
                    (lower.contains("port") || lower.trim_start().starts_with("listen"))
                        && compose::mentions_port(line, port)
                })
        })
        .map(|(index, _)| index + 1)
        .collect()
}

/// Every scalar below `node` (aliases not followed).
pub fn scalars(node: &Node) -> Vec<&Node> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match &node.kind {
            crate::yaml::Kind::Scalar { .. } => out.push(node),
            crate::yaml::Kind::Seq(items) => stack.extend(items.iter().rev()),
            crate::yaml::Kind::Map(entries) => {
                for (key, value) in entries.iter().rev() {
                    stack.push(value);
                    stack.push(key);
                }
            }
            crate::yaml::Kind::Alias(_) => {}
        }
    }
    out
}

/// What the deployment files that run a Dockerfile's image say about one of its ports: the
/// linter gathers it before the Dockerfile's rules run (`privileged-port` reads it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortFacts {
    pub port: u16,
    /// `file:line (what)` of each place unroot moves with the port, or that follows it.
    pub carried: Vec<String>,
    /// `file:line: why` of each place a person must change.
    pub person: Vec<String>,
}

/// The deployment facts of one Dockerfile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeploymentFacts {
    /// Deployment files run this image (Compose `build:`, a Kubernetes `image:`).
    pub linked: Vec<String>,
    pub ports: Vec<PortFacts>,
}

impl DeploymentFacts {
    pub fn port(&self, port: u16) -> Option<&PortFacts> {
        self.ports.iter().find(|facts| facts.port == port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_of_images() {
        assert_eq!(image_repository("ghcr.io/acme/web:1.2"), "ghcr.io/acme/web");
        assert_eq!(image_repository("localhost:5000/web"), "localhost:5000/web");
        assert_eq!(
            image_repository("docker.io/library/node:22@sha256:ab"),
            "node"
        );
        assert!(is_node_image("node:22-alpine"));
        assert!(!is_node_image("nodered/node-red"));
    }

    #[test]
    fn compose_names() {
        for name in [
            "compose.yaml",
            "compose.override.yml",
            "docker-compose.yml",
            "docker-compose.prod.yaml",
            "docker-stack.yml",
            "stack.yml",
        ] {
            assert!(is_compose_name(name), "{name}");
        }
        for name in ["values.yaml", "composer.yml", "deploy.yaml"] {
            assert!(!is_compose_name(name), "{name}");
        }
    }

    #[test]
    fn application_files() {
        let hosts = vec!["web".to_string()];
        let text = "upstream { server web:80; }\nproxy_pass http://web/;\nfetch('http://webby/')\n{\"port\": 80}\n";
        assert_eq!(text_references(text, &hosts, 80, false), vec![1, 2]);
        assert_eq!(text_references(text, &hosts, 80, true), vec![1, 2, 4]);
    }

    #[test]
    fn kustomize_patches_and_root_settings() {
        let doc = &crate::yaml::parse("patchesStrategicMerge:\n  - port.yaml\n  - |-\n    kind: X\npatches:\n  - path: user.yaml\n    target: {kind: Deployment}\npatchesJson6902:\n  - path: ops.json\n")
            .unwrap()
            .documents[0];
        assert_eq!(
            kustomize_patches(doc),
            ["port.yaml", "user.yaml", "ops.json"]
        );
        let text = "securityContext:\n  runAsUser: 0 # root\n  runAsNonRoot: true\n  privileged: \"true\"\n";
        assert_eq!(
            root_settings(text),
            vec![
                (2, "runAsUser: 0".to_string()),
                (4, "privileged: true".to_string())
            ]
        );
    }

    #[test]
    fn host_ports_are_whole() {
        assert_eq!(host_ports("http://web:80/x", "web", 80), vec![11..13]);
        assert!(host_ports("http://myweb:80", "web", 80).is_empty());
        assert!(host_ports("web:8080", "web", 80).is_empty());
    }
}
