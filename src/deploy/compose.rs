//! Compose files (and Swarm stack files, the same format): services, what they build or
//! run, and where a service names its container port.

use super::{host_ports, interpolated, scalars, Reference};
use crate::analysis::ports::{is_port_name, url_ports};
use crate::yaml::{line_of, replace_in_scalar, replace_scalar, Kind, Node};

/// A service of a Compose file.
#[derive(Clone, Copy, Debug)]
pub struct Service<'a> {
    pub name: &'a str,
    pub key: &'a Node,
    pub node: &'a Node,
}

/// `build:` of a service: the context directory (relative to the Compose file), the
/// Dockerfile (relative to the context) and the target stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Build {
    pub context: String,
    pub dockerfile: String,
    pub target: Option<String>,
}

/// The services of a Compose document.
pub fn services(doc: &Node) -> Vec<Service<'_>> {
    let Some(services) = doc.get("services") else {
        return Vec::new();
    };
    services
        .entries()
        .iter()
        .filter_map(|(key, node)| {
            Some(Service {
                name: key.str()?,
                key,
                node,
            })
        })
        .filter(|service| service.node.is_map())
        .collect()
}

impl<'a> Service<'a> {
    pub fn image(&self) -> Option<&'a str> {
        self.node.get("image")?.str()
    }

    pub fn build(&self) -> Option<Build> {
        let build = self.node.get("build")?;
        if let Some(context) = build.str() {
            return Some(Build {
                context: context.to_string(),
                dockerfile: "Dockerfile".to_string(),
                target: None,
            });
        }
        Some(Build {
            context: build
                .get("context")
                .and_then(Node::str)
                .unwrap_or(".")
                .to_string(),
            dockerfile: build
                .get("dockerfile")
                .and_then(Node::str)
                .unwrap_or("Dockerfile")
                .to_string(),
            target: build.get("target").and_then(Node::str).map(str::to_string),
        })
    }

    /// `user:` as written.
    pub fn user(&self) -> Option<&'a Node> {
        self.node.get("user")
    }

    /// The service mounts volumes (named or bind mounts).
    pub fn mounts_volumes(&self) -> bool {
        self.node
            .get("volumes")
            .is_some_and(|v| !v.items().is_empty())
    }
}

/// Where `service` names its container port `old`, each with the edit to `new`.
pub fn port_references(source: &str, service: &Service, old: u16, new: u16) -> Vec<Reference> {
    let mut found = Vec::new();
    let old_text = old.to_string();
    let new_text = new.to_string();
    let line = |node: &Node| line_of(source, node.span.start);
    let node = service.node;
    if node.merges() {
        found.push(Reference::Person {
            line: line(service.key),
            why: format!(
                "service `{}` merges entries from an anchor (`<<:`): unroot does not follow it",
                service.name
            ),
        });
    }
    if node.get("network_mode").and_then(Node::str) == Some("host") {
        found.push(Reference::Person {
            line: line(service.key),
            why: format!(
                "service `{}` uses `network_mode: host`: clients reach the container port `{old}` itself",
                service.name
            ),
        });
    }
    for item in node.get("ports").map(Node::items).unwrap_or_default() {
        if let Some(value) = item.str() {
            match short_port(value, old) {
                ShortPort::Other => {}
                ShortPort::Container(range) => {
                    match replace_in_scalar(source, item, range, &new_text) {
                        Some(edit) => found.push(Reference::Edit {
                            line: line(item),
                            what: format!("ports `{value}`"),
                            edit,
                        }),
                        None => found.push(unreadable(line(item), value)),
                    }
                }
                ShortPort::Unclear => found.push(Reference::Person {
                    line: line(item),
                    why: format!(
                        "ports `{value}` names port `{old}` in a way unroot does not edit"
                    ),
                }),
            }
        } else if let Some(target) = item.get("target") {
            match target.number() {
                Some(n) if n == u32::from(old) => match replace_scalar(source, target, &new_text) {
                    Some(edit) => found.push(Reference::Edit {
                        line: line(target),
                        what: format!("ports `target: {old}`"),
                        edit,
                    }),
                    None => found.push(unreadable(line(target), &old_text)),
                },
                None if target.str().is_some_and(interpolated) => {
                    found.push(variable(line(target), "ports target"))
                }
                _ => {}
            }
        }
    }
    for item in node.get("expose").map(Node::items).unwrap_or_default() {
        let Some(value) = item.str() else { continue };
        let (number, _) = value.split_once('/').unwrap_or((value, ""));
        if number == old_text {
            match replace_in_scalar(source, item, 0..number.len(), &new_text) {
                Some(edit) => found.push(Reference::Edit {
                    line: line(item),
                    what: format!("expose `{value}`"),
                    edit,
                }),
                None => found.push(unreadable(line(item), value)),
            }
        } else if interpolated(value) {
            found.push(variable(line(item), "expose"));
        }
    }
    found.extend(environment_references(
        source,
        node.get("environment"),
        old,
        new,
    ));
    if let Some(test) = node.at(&["healthcheck", "test"]) {
        let items: Vec<&Node> = match &test.kind {
            Kind::Seq(items) => items.iter().collect(),
            _ => vec![test],
        };
        for item in items {
            if item.str().is_none() {
                continue;
            }
            for url in url_ports(source, item.span)
                .into_iter()
                .filter(|u| u.port == old)
            {
                let edit = if url.implied {
                    crate::edit::Edit::insert(url.span.start, format!(":{new}"))
                } else {
                    crate::edit::Edit::replace(url.span, new_text.clone())
                };
                found.push(Reference::Edit {
                    line: line(item),
                    what: "healthcheck URL".to_string(),
                    edit,
                });
            }
        }
    }
    for key in ["command", "entrypoint"] {
        let Some(command) = node.get(key) else {
            continue;
        };
        for scalar in scalars(command) {
            let text = scalar.str().unwrap_or("");
            if mentions_port(text, old) {
                found.push(Reference::Person {
                    line: line(scalar),
                    why: format!("`{key}` names port `{old}`: check how the app is started"),
                });
            }
        }
    }
    found
}

/// `PORT=80` / `PORT: 80` in an `environment` (list or mapping), and `http://host:80` URLs
/// there are followed by the caller.
pub fn environment_references(
    source: &str,
    environment: Option<&Node>,
    old: u16,
    new: u16,
) -> Vec<Reference> {
    let mut found = Vec::new();
    let Some(environment) = environment else {
        return found;
    };
    let old_text = old.to_string();
    let line = |node: &Node| line_of(source, node.span.start);
    let mut check = |name: &str, value_node: &Node, value: &str, offset: usize| {
        if !is_port_name(name) {
            return;
        }
        if value == old_text {
            match replace_in_scalar(
                source,
                value_node,
                offset..offset + value.len(),
                &new.to_string(),
            ) {
                Some(edit) => found.push(Reference::Edit {
                    line: line(value_node),
                    what: format!("environment `{name}={old}`"),
                    edit,
                }),
                None => found.push(unreadable(line(value_node), value)),
            }
        } else if interpolated(value) {
            found.push(variable(line(value_node), &format!("environment `{name}`")));
        }
    };
    for item in environment.items() {
        if let Some((name, value)) = item.str().and_then(|s| s.split_once('=')) {
            check(name, item, value, name.len() + 1);
        }
    }
    for (key, value) in environment.entries() {
        if let (Some(name), Some(text)) = (key.str(), value.str()) {
            check(name, value, text, 0);
        }
    }
    found
}

/// Scalars of other services that call `host:old` (`API_URL=http://web:80`): the container
/// port, which the move changes. Inside `environment` they are edited; elsewhere a person
/// looks.
pub fn client_references(
    source: &str,
    doc: &Node,
    hosts: &[&str],
    old: u16,
    new: u16,
) -> Vec<Reference> {
    let mut found = Vec::new();
    for service in services(doc) {
        let environment: Vec<&Node> = service
            .node
            .get("environment")
            .map(scalars)
            .unwrap_or_default();
        for scalar in scalars(service.node) {
            let Some(text) = scalar.str() else { continue };
            for host in hosts {
                for range in host_ports(text, host, old) {
                    let line = line_of(source, scalar.span.start);
                    let edit = environment
                        .contains(&scalar)
                        .then(|| replace_in_scalar(source, scalar, range, &new.to_string()))
                        .flatten();
                    found.push(match edit {
                        Some(edit) => Reference::Edit {
                            line,
                            what: format!("`{host}:{old}` in service `{}`", service.name),
                            edit,
                        },
                        None => Reference::Person {
                            line,
                            why: format!("`{host}:{old}` in service `{}`", service.name),
                        },
                    });
                }
            }
        }
    }
    found
}

enum ShortPort {
    Other,
    /// The byte range of the container port in the value.
    Container(std::ops::Range<usize>),
    Unclear,
}

/// `"80"`, `"8080:80"`, `"127.0.0.1:8080:80/tcp"`, `"[::1]:8080:80"`, ranges.
fn short_port(value: &str, old: u16) -> ShortPort {
    let without_protocol = value.split('/').next().unwrap_or(value);
    let start = without_protocol.rfind(':').map_or(0, |at| at + 1);
    let container = &without_protocol[start..];
    if interpolated(value) {
        return if value.contains(&old.to_string()) || interpolated(container) {
            ShortPort::Unclear
        } else {
            ShortPort::Other
        };
    }
    if let Some((low, high)) = container.split_once('-') {
        return match (low.parse::<u16>(), high.parse::<u16>()) {
            (Ok(low), Ok(high)) if low <= old && old <= high => ShortPort::Unclear,
            _ => ShortPort::Other,
        };
    }
    if container == old.to_string() {
        ShortPort::Container(start..start + container.len())
    } else {
        ShortPort::Other
    }
}

/// `80` as a word of a command (`--port 80`, `-p=80`, `:80`).
pub fn mentions_port(text: &str, port: u16) -> bool {
    let port = port.to_string();
    text.match_indices(&port).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + port.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.')
    })
}

fn unreadable(line: usize, value: &str) -> Reference {
    Reference::Person {
        line,
        why: format!("`{value}` is written with escapes unroot does not edit"),
    }
}

fn variable(line: usize, what: &str) -> Reference {
    Reference::Person {
        line,
        why: format!("{what} is set through a variable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{apply_fixes, Applicability, Fix};
    use crate::yaml::parse;

    fn moved(source: &str, old: u16, new: u16) -> (String, Vec<Reference>) {
        let stream = parse(source).unwrap();
        let doc = &stream.documents[0];
        let refs = port_references(source, &services(doc)[0], old, new);
        let edits: Vec<_> = refs
            .iter()
            .filter_map(|r| match r {
                Reference::Edit { edit, .. } => Some(edit.clone()),
                _ => None,
            })
            .collect();
        let fix = Fix::new("t", Applicability::Safe, edits);
        (apply_fixes(source, &[&fix], Applicability::Safe).text, refs)
    }

    #[test]
    fn short_and_long_ports_expose_environment_healthcheck() {
        let source = r#"services:
  web:
    build: .
    ports: ["5001:80", "127.0.0.1:80:80/tcp", "80", '9000:9000']
    expose:
      - "80"
    environment:
      - PORT=80
      - OTHER=80
    healthcheck:
      test: ["CMD", "wget", "-q", "http://localhost/health"]
  api:
    build: ./api
    ports:
      - target: 80 # long syntax
        published: 8081
    environment:
      PORT: "80"
"#;
        let (out, refs) = moved(source, 80, 8080);
        assert!(
            refs.iter().all(|r| matches!(r, Reference::Edit { .. })),
            "{refs:?}"
        );
        assert!(
            out.contains(r#"ports: ["5001:8080", "127.0.0.1:80:8080/tcp", "8080", '9000:9000']"#),
            "{out}"
        );
        assert!(out.contains("      - \"8080\"\n"), "{out}");
        assert!(out.contains("- PORT=8080\n      - OTHER=80\n"), "{out}");
        assert!(out.contains("http://localhost:8080/health"), "{out}");
        let stream = parse(source).unwrap();
        let api = services(&stream.documents[0])[1];
        let refs = port_references(source, &api, 80, 8080);
        assert_eq!(refs.len(), 2, "{refs:?}");
    }

    #[test]
    fn ranges_variables_and_commands_need_a_person() {
        let source = "services:\n  web:\n    ports:\n      - \"80-81:80-81\"\n      - \"${WEB_PORT}:${APP_PORT}\"\n    command: node server.js --port 80\n";
        let (_, refs) = moved(source, 80, 8080);
        let lines: Vec<usize> = refs
            .iter()
            .filter(|r| matches!(r, Reference::Person { .. }))
            .map(Reference::line)
            .collect();
        assert_eq!(lines, vec![4, 5, 6]);
    }

    #[test]
    fn builds() {
        let source = "services:\n  a:\n    build: ./app\n  b:\n    build:\n      context: web\n      dockerfile: prod.Dockerfile\n      target: runtime\n    image: acme/b\n";
        let stream = parse(source).unwrap();
        let all = services(&stream.documents[0]);
        assert_eq!(all[0].build().unwrap().context, "./app");
        let b = all[1].build().unwrap();
        assert_eq!(
            (
                b.context.as_str(),
                b.dockerfile.as_str(),
                b.target.as_deref()
            ),
            ("web", "prod.Dockerfile", Some("runtime"))
        );
        assert_eq!(all[1].image(), Some("acme/b"));
    }
}
