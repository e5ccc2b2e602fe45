//! Where a repository names the images it builds, beside Compose `image:` + `build:`: CI
//! workflows (`docker build -t NAME`, `docker/build-push-action` `tags:`), `.gitlab-ci.yml`
//! scripts, Buildx bake files (`docker-bake.hcl`, `docker-bake.json`) and `skaffold.yaml`.
//! Each gives image repositories and the Dockerfile they are built from, so a Kubernetes
//! `image:` or a Helm `image.repository` is linked to it.

use std::path::{Path, PathBuf};

use super::{image_repository, scalars};
use crate::yaml::Node;

/// An image a build file builds: its repository and Dockerfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    pub image: String,
    pub dockerfile: PathBuf,
}

/// The build files of a repository whose root is `root`: workflows, GitLab CI, bake and
/// skaffold files at the root.
pub fn build_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root.join(".github/workflows")) {
        let mut workflows: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
            .collect();
        workflows.sort();
        found.extend(workflows);
    }
    for name in [
        ".gitlab-ci.yml",
        "docker-bake.hcl",
        "docker-bake.json",
        "skaffold.yaml",
        "skaffold.yml",
    ] {
        let path = root.join(name);
        if path.is_file() {
            found.push(path);
        }
    }
    found
}

/// The images a build file builds; paths relative to `root` (the repository root, where CI
/// runs) or, for bake and skaffold files, to the file's directory.
pub fn built(path: &Path, text: &str, root: &Path) -> Vec<Built> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let dir = path.parent().unwrap_or(Path::new(""));
    if name.starts_with("docker-bake") {
        return if name.ends_with(".json") {
            bake_json(text, dir)
        } else {
            bake_hcl(text, dir)
        };
    }
    let Ok(stream) = crate::yaml::parse(text) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for doc in &stream.documents {
        if name.starts_with("skaffold") {
            found.extend(skaffold(doc, dir));
            continue;
        }
        for scalar in scalars(doc) {
            found.extend(docker_build_commands(scalar.str().unwrap_or(""), root));
        }
        found.extend(build_push_actions(doc, root));
    }
    found
}

/// `docker build -t NAME [-f FILE] CONTEXT` (also `docker buildx build`, `--tag`, `--file`).
pub fn docker_build_commands(script: &str, root: &Path) -> Vec<Built> {
    let mut found = Vec::new();
    for line in script.lines() {
        // `${{ github.sha }}` is one word: a variable.
        let line = collapse_expressions(line);
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words
            .windows(2)
            .position(|w| w[0] == "docker" && (w[1] == "build" || w[1] == "buildx"))
        else {
            continue;
        };
        let mut rest = &words[at + 2..];
        if words[at + 1] == "buildx" {
            if rest.first() != Some(&"build") {
                continue;
            }
            rest = &rest[1..];
        }
        let mut tags = Vec::new();
        let mut file = None;
        let mut context = None;
        let mut index = 0;
        while index < rest.len() {
            let word = rest[index];
            if matches!(word, "&&" | ";" | "|" | "\\") {
                break;
            }
            let value = |flag: &str| -> Option<Option<&str>> {
                if word == flag {
                    return Some(rest.get(index + 1).copied());
                }
                word.strip_prefix(flag)
                    .and_then(|v| v.strip_prefix('='))
                    .map(Some)
            };
            if let Some(tag) = value("-t").or_else(|| value("--tag")) {
                tags.extend(tag);
                index += usize::from(!word.contains('=')) + 1;
                continue;
            }
            if let Some(path) = value("-f").or_else(|| value("--file")) {
                file = path;
                index += usize::from(!word.contains('=')) + 1;
                continue;
            }
            if word.starts_with('-') {
                // Flags with a value that is not a path: skip both words.
                let with_value = [
                    "--build-arg",
                    "--target",
                    "--platform",
                    "--label",
                    "--cache-from",
                    "--cache-to",
                    "--secret",
                    "--network",
                    "--progress",
                    "-o",
                    "--output",
                ];
                index += if with_value.contains(&word) { 2 } else { 1 };
                continue;
            }
            context = Some(word);
            index += 1;
        }
        let Some(context) = context.filter(|c| !c.contains('$')) else {
            continue;
        };
        let context = root.join(unquote(context));
        let dockerfile = match file {
            Some(file) if !file.contains('$') => root.join(unquote(file)),
            Some(_) => continue,
            None => context.join("Dockerfile"),
        };
        for tag in tags {
            found.extend(repository(unquote(tag)).map(|image| Built {
                image,
                dockerfile: dockerfile.clone(),
            }));
        }
    }
    found
}

/// Steps `uses: docker/build-push-action@…` with `tags`, `file`, `context`.
fn build_push_actions(doc: &Node, root: &Path) -> Vec<Built> {
    let mut found = Vec::new();
    let mut stack = vec![doc];
    while let Some(node) = stack.pop() {
        stack.extend(node.items());
        stack.extend(node.entries().iter().map(|(_, v)| v));
        let uses = node.get("uses").and_then(Node::str).unwrap_or("");
        if !uses.starts_with("docker/build-push-action") {
            continue;
        }
        let Some(with) = node.get("with") else {
            continue;
        };
        let text = |key: &str| with.get(key).and_then(Node::str);
        let context = text("context").unwrap_or(".");
        if context.contains('$') || context.contains("://") {
            continue;
        }
        let context = root.join(context);
        let dockerfile = match text("file") {
            Some(file) if file.contains('$') => continue,
            Some(file) => root.join(file),
            None => context.join("Dockerfile"),
        };
        let tags: Vec<&str> = match with.get("tags") {
            Some(tags) if tags.is_seq() => tags.items().iter().filter_map(Node::str).collect(),
            Some(tags) => tags
                .str()
                .unwrap_or("")
                .split(['\n', ','])
                .map(str::trim)
                .collect(),
            None => Vec::new(),
        };
        for tag in tags {
            found.extend(repository(tag).map(|image| Built {
                image,
                dockerfile: dockerfile.clone(),
            }));
        }
    }
    found
}

/// `build.artifacts[]`: `image`, `context` (the file's directory by default) and
/// `docker.dockerfile` (relative to the context).
fn skaffold(doc: &Node, dir: &Path) -> Vec<Built> {
    let mut found = Vec::new();
    let mut artifacts: Vec<&Node> = doc
        .at(&["build", "artifacts"])
        .map(|a| a.items().iter().collect())
        .unwrap_or_default();
    for profile in doc.get("profiles").map(Node::items).unwrap_or_default() {
        artifacts.extend(
            profile
                .at(&["build", "artifacts"])
                .map(Node::items)
                .unwrap_or_default(),
        );
    }
    for artifact in artifacts {
        let Some(image) = artifact.get("image").and_then(Node::str) else {
            continue;
        };
        let context = dir.join(artifact.get("context").and_then(Node::str).unwrap_or("."));
        let dockerfile = artifact
            .at(&["docker", "dockerfile"])
            .and_then(Node::str)
            .unwrap_or("Dockerfile");
        found.extend(repository(image).map(|image| Built {
            image,
            dockerfile: context.join(dockerfile),
        }));
    }
    found
}

/// `target "name" { context = "…" dockerfile = "…" tags = ["…"] }` blocks.
fn bake_hcl(text: &str, dir: &Path) -> Vec<Built> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("target \"") {
        let block_start = match rest[at..].find('{') {
            Some(offset) => at + offset + 1,
            None => break,
        };
        // The block ends at the matching brace (values hold no braces in the files we read).
        let mut depth = 1;
        let mut end = block_start;
        for (offset, c) in rest[block_start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = block_start + offset;
                break;
            }
        }
        let block = &rest[block_start..end.max(block_start)];
        let attribute = |name: &str| -> Option<String> {
            block.lines().find_map(|line| {
                let (key, value) = line.split_once('=')?;
                (key.trim() == name).then(|| value.trim().trim_matches('"').to_string())
            })
        };
        let tags: Vec<String> = block
            .lines()
            .find_map(|line| {
                let (key, value) = line.split_once('=')?;
                (key.trim() == "tags").then(|| value.to_string())
            })
            .map(|list| {
                list.trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .split(',')
                    .map(|t| t.trim().trim_matches('"').to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        push_bake(
            &mut found,
            dir,
            attribute("context").as_deref(),
            attribute("dockerfile").as_deref(),
            tags.iter().map(String::as_str),
        );
        rest = &rest[end.max(block_start)..];
    }
    found
}

fn bake_json(text: &str, dir: &Path) -> Vec<Built> {
    let mut found = Vec::new();
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return found;
    };
    let Some(targets) = json.get("target").and_then(|t| t.as_object()) else {
        return found;
    };
    for target in targets.values() {
        let field = |key: &str| target.get(key).and_then(|v| v.as_str());
        let tags = target
            .get("tags")
            .and_then(|t| t.as_array())
            .map(|tags| tags.iter().filter_map(|t| t.as_str()).collect::<Vec<_>>())
            .unwrap_or_default();
        push_bake(
            &mut found,
            dir,
            field("context"),
            field("dockerfile"),
            tags.into_iter(),
        );
    }
    found
}

/// A bake target: its Dockerfile is relative to its context, which is relative to the file.
fn push_bake<'a>(
    found: &mut Vec<Built>,
    dir: &Path,
    context: Option<&str>,
    dockerfile: Option<&str>,
    tags: impl Iterator<Item = &'a str>,
) {
    let context = dir.join(context.unwrap_or("."));
    let dockerfile = context.join(dockerfile.unwrap_or("Dockerfile"));
    for tag in tags {
        found.extend(repository(tag).map(|image| Built {
            image,
            dockerfile: dockerfile.clone(),
        }));
    }
}

/// The repository of a tag, unless it is made of variables.
fn repository(tag: &str) -> Option<String> {
    let repo = image_repository(tag.trim());
    (!repo.is_empty() && !repo.contains('$') && !repo.contains("{{")).then(|| repo.to_string())
}

/// `${{ … }}` → `${{}}`.
fn collapse_expressions(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find("${{") {
        out.push_str(&rest[..open]);
        out.push_str("${{}}");
        rest = match rest[open..].find("}}") {
            Some(close) => &rest[open + close + 2..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

fn unquote(text: &str) -> &str {
    text.trim_matches(['"', '\''])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(found: &[Built]) -> Vec<(String, String)> {
        found
            .iter()
            .map(|b| (b.image.clone(), b.dockerfile.display().to_string()))
            .collect()
    }

    #[test]
    fn docker_build_commands_in_scripts() {
        let found = docker_build_commands(
            "set -e\ndocker build -t ghcr.io/acme/web:${{ github.sha }} --build-arg A=1 -f app/prod.Dockerfile app && docker push x\ndocker buildx build --tag=acme/api:1 ./api\ndocker build -t $IMAGE .\n",
            Path::new("r"),
        );
        assert_eq!(
            images(&found),
            [
                (
                    "ghcr.io/acme/web".to_string(),
                    "r/app/prod.Dockerfile".to_string()
                ),
                ("acme/api".to_string(), "r/./api/Dockerfile".to_string()),
            ]
        );
    }

    #[test]
    fn build_push_action_tags() {
        let workflow = "jobs:\n  push:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker/build-push-action@v6\n        with:\n          context: ./app\n          push: true\n          tags: |\n            ghcr.io/acme/web:latest\n            ghcr.io/acme/web:${{ github.sha }}\n";
        let found = built(
            Path::new("r/.github/workflows/ci.yml"),
            workflow,
            Path::new("r"),
        );
        assert_eq!(
            images(&found),
            [
                (
                    "ghcr.io/acme/web".to_string(),
                    "r/./app/Dockerfile".to_string()
                ),
                (
                    "ghcr.io/acme/web".to_string(),
                    "r/./app/Dockerfile".to_string()
                ),
            ]
        );
    }

    #[test]
    fn bake_and_skaffold() {
        let hcl = "group \"default\" {\n  targets = [\"web\"]\n}\ntarget \"web\" {\n  context = \"app\"\n  dockerfile = \"Dockerfile.prod\"\n  tags = [\"acme/web:1\", \"acme/web:latest\"]\n}\n";
        let found = built(Path::new("r/docker-bake.hcl"), hcl, Path::new("r"));
        assert_eq!(found[0].image, "acme/web");
        assert_eq!(found[0].dockerfile, Path::new("r/app/Dockerfile.prod"));
        let json = r#"{"target": {"web": {"context": "app", "tags": ["acme/web:2"]}}}"#;
        let found = built(Path::new("r/docker-bake.json"), json, Path::new("r"));
        assert_eq!(found[0].dockerfile, Path::new("r/app/Dockerfile"));
        let skaffold = "apiVersion: skaffold/v4beta6\nkind: Config\nbuild:\n  artifacts:\n    - image: acme/web\n      context: app\n      docker:\n        dockerfile: prod.Dockerfile\n";
        let found = built(Path::new("r/skaffold.yaml"), skaffold, Path::new("r"));
        assert_eq!(found[0].image, "acme/web");
        assert_eq!(found[0].dockerfile, Path::new("r/app/prod.Dockerfile"));
    }
}
