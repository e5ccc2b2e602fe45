//! Kubernetes manifests: workloads, their pod templates and containers, Services, and where
//! they name a container port.

use super::{interpolated, scalars, Reference};
use crate::analysis::ports::is_port_name;
use crate::yaml::{insert_entries, line_of, replace_scalar, Node};

/// Kinds whose documents hold a pod template.
pub const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
];

/// A document that runs pods.
#[derive(Clone, Copy, Debug)]
pub struct Workload<'a> {
    pub doc: &'a Node,
    pub kind: &'a str,
    pub name: &'a str,
    /// The pod's `spec`.
    pub pod: &'a Node,
    /// The pod template's metadata (labels, annotations).
    pub metadata: Option<&'a Node>,
}

#[derive(Clone, Copy, Debug)]
pub struct Container<'a> {
    pub node: &'a Node,
    pub name: &'a str,
    pub image: &'a str,
}

pub fn kind(doc: &Node) -> Option<&str> {
    doc.get("apiVersion")?;
    doc.get("kind")?.str()
}

pub fn name(doc: &Node) -> &str {
    doc.at(&["metadata", "name"])
        .and_then(Node::str)
        .unwrap_or("")
}

pub fn workload(doc: &Node) -> Option<Workload<'_>> {
    let kind = kind(doc)?;
    if !WORKLOADS.contains(&kind) {
        return None;
    }
    let template = match kind {
        "Pod" => doc,
        "CronJob" => doc.at(&["spec", "jobTemplate", "spec", "template"])?,
        _ => doc.at(&["spec", "template"])?,
    };
    Some(Workload {
        doc,
        kind,
        name: name(doc),
        pod: template.get("spec")?,
        metadata: template.get("metadata"),
    })
}

impl<'a> Workload<'a> {
    /// `containers` and `initContainers`.
    pub fn containers(&self) -> Vec<Container<'a>> {
        ["initContainers", "containers"]
            .iter()
            .filter_map(|key| self.pod.get(key))
            .flat_map(Node::items)
            .filter_map(|node| {
                Some(Container {
                    node,
                    name: node.get("name").and_then(Node::str).unwrap_or(""),
                    image: node.get("image")?.str()?,
                })
            })
            .collect()
    }

    pub fn labels(&self) -> Vec<(&'a str, &'a str)> {
        pairs(self.metadata.and_then(|m| m.get("labels")))
    }

    /// Annotations of the document and of its pod template.
    pub fn annotations(&self) -> Vec<(&'a str, &'a str)> {
        let mut all = pairs(self.doc.at(&["metadata", "annotations"]));
        all.extend(pairs(self.metadata.and_then(|m| m.get("annotations"))));
        all
    }
}

fn pairs(map: Option<&Node>) -> Vec<(&str, &str)> {
    map.map(Node::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.str()?, v.str()?)))
        .collect()
}

/// Where a container names its port `old`, and the names of the container ports that move.
pub fn port_references(
    source: &str,
    container: &Container,
    old: u16,
    new: u16,
) -> (Vec<Reference>, Vec<String>) {
    let mut found = Vec::new();
    let mut names = Vec::new();
    let new_text = new.to_string();
    let line = |node: &Node| line_of(source, node.span.start);
    let edit = |node: &Node, what: String, found: &mut Vec<Reference>| {
        found.push(match replace_scalar(source, node, &new_text) {
            Some(edit) => Reference::Edit {
                line: line(node),
                what,
                edit,
            },
            None => Reference::Person {
                line: line(node),
                why: format!("{what} is written in a way unroot does not edit"),
            },
        });
    };
    for port in container
        .node
        .get("ports")
        .map(Node::items)
        .unwrap_or_default()
    {
        let Some(number) = port.get("containerPort") else {
            continue;
        };
        if number.number() == Some(u32::from(old)) {
            edit(number, format!("`containerPort: {old}`"), &mut found);
            if let Some(name) = port.get("name").and_then(Node::str) {
                names.push(name.to_string());
            }
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        for handler in ["httpGet", "tcpSocket", "grpc"] {
            let Some(port) = container.node.at(&[probe, handler, "port"]) else {
                continue;
            };
            if port.number() == Some(u32::from(old)) {
                edit(port, format!("`{probe}.{handler}.port: {old}`"), &mut found);
            } else if let Some(name) = port.str().filter(|n| names.iter().any(|m| m == n)) {
                found.push(Reference::Follows {
                    line: line(port),
                    what: format!("`{probe}.{handler}.port: {name}` (named port)"),
                });
            }
        }
    }
    for variable in container
        .node
        .get("env")
        .map(Node::items)
        .unwrap_or_default()
    {
        let (Some(name), Some(value)) = (
            variable.get("name").and_then(Node::str),
            variable.get("value"),
        ) else {
            continue;
        };
        if !is_port_name(name) {
            continue;
        }
        if value.number() == Some(u32::from(old)) {
            edit(value, format!("env `{name}: {old}`"), &mut found);
        } else if value.str().is_some_and(interpolated) {
            found.push(Reference::Person {
                line: line(value),
                why: format!("env `{name}` is set through a variable"),
            });
        }
    }
    for key in ["command", "args"] {
        for scalar in container.node.get(key).map(scalars).unwrap_or_default() {
            if super::compose::mentions_port(scalar.str().unwrap_or(""), old) {
                found.push(Reference::Person {
                    line: line(scalar),
                    why: format!("container `{}` `{key}` names port `{old}`", container.name),
                });
            }
        }
    }
    (found, names)
}

/// A Service's selector: every label in it must be on the pod.
pub fn selects(service: &Node, workload: &Workload) -> bool {
    let selector = pairs(service.at(&["spec", "selector"]));
    let labels = workload.labels();
    !selector.is_empty() && selector.iter().all(|pair| labels.contains(pair))
}

/// Where a Service that selects the moved pods sends traffic to `old`: a numeric
/// `targetPort`, or none (it defaults to `port`), which gets one. A `targetPort` naming a
/// moved container port follows.
pub fn service_references(
    source: &str,
    service: &Node,
    moved_names: &[String],
    old: u16,
    new: u16,
) -> Vec<Reference> {
    let mut found = Vec::new();
    let service_name = name(service);
    let line = |node: &Node| line_of(source, node.span.start);
    for port in service
        .at(&["spec", "ports"])
        .map(Node::items)
        .unwrap_or_default()
    {
        match port.get("targetPort") {
            Some(target) if target.number() == Some(u32::from(old)) => {
                found.push(match replace_scalar(source, target, &new.to_string()) {
                    Some(edit) => Reference::Edit {
                        line: line(target),
                        what: format!("Service `{service_name}` `targetPort: {old}`"),
                        edit,
                    },
                    None => Reference::Person {
                        line: line(target),
                        why: format!("Service `{service_name}` `targetPort` is written in a way unroot does not edit"),
                    },
                })
            }
            Some(target) => {
                if let Some(named) = target.str().filter(|n| moved_names.iter().any(|m| m == n)) {
                    found.push(Reference::Follows {
                        line: line(target),
                        what: format!("Service `{service_name}` `targetPort: {named}` (named port)"),
                    });
                }
            }
            None if port.get("port").and_then(Node::number) == Some(u32::from(old)) => {
                let edit = port.entries().first().and_then(|(key, _)| {
                    insert_entries(source, key, port, &[format!("targetPort: {new}")])
                });
                found.push(match (edit, port.flow) {
                    (Some(edit), false) => Reference::Edit {
                        line: line(port),
                        what: format!("Service `{service_name}` `port: {old}` (gets `targetPort: {new}`)"),
                        edit,
                    },
                    _ => Reference::Person {
                        line: line(port),
                        why: format!("Service `{service_name}` `port: {old}` has no `targetPort`, and unroot does not edit this mapping"),
                    },
                });
            }
            None => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{apply_fixes, Applicability, Fix};
    use crate::yaml::parse;

    const MANIFEST: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0
          ports:
            - containerPort: 80
              name: http
          readinessProbe:
            httpGet: {path: /, port: http}
          livenessProbe:
            tcpSocket:
              port: 80
          env:
            - name: PORT
              value: \"80\"
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: http
    - port: 80
      targetPort: 80
    - name: plain
      port: 80
";

    fn edits(refs: &[Reference]) -> Vec<crate::edit::Edit> {
        refs.iter()
            .filter_map(|r| match r {
                Reference::Edit { edit, .. } => Some(edit.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn containers_services_and_named_ports() {
        let stream = parse(MANIFEST).unwrap();
        let work = workload(&stream.documents[0]).unwrap();
        let containers = work.containers();
        assert_eq!(containers[0].image, "ghcr.io/acme/web:1.0");
        let (mut refs, names) = port_references(MANIFEST, &containers[0], 80, 8080);
        assert_eq!(names, vec!["http".to_string()]);
        let service = &stream.documents[1];
        assert!(selects(service, &work));
        refs.extend(service_references(MANIFEST, service, &names, 80, 8080));
        let follows = refs
            .iter()
            .filter(|r| matches!(r, Reference::Follows { .. }))
            .count();
        assert_eq!(follows, 2, "{refs:?}");
        let fix = Fix::new("t", Applicability::Safe, edits(&refs));
        let out = apply_fixes(MANIFEST, &[&fix], Applicability::Safe).text;
        assert!(out.contains("containerPort: 8080\n"), "{out}");
        assert!(
            out.contains("tcpSocket:\n              port: 8080\n"),
            "{out}"
        );
        assert!(out.contains("value: \"8080\"\n"), "{out}");
        assert!(out.contains("      targetPort: 8080\n    - name: plain\n      port: 80\n      targetPort: 8080\n"), "{out}");
        assert!(out.contains("port: 80\n      targetPort: http"), "{out}");
        parse(&out).unwrap();
    }
}
