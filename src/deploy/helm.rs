//! Helm charts (`Chart.yaml`, `values.yaml`, `templates/`). Templates are Go templates, not
//! YAML: they are read line by line, by indentation, for what they visibly map — a field set
//! to one value (`containerPort: {{ .Values.service.targetPort }}`, `| quote` and `| int`
//! allowed) or a values subtree placed whole (`{{- toYaml .Values.securityContext | nindent
//! 12 }}`). `values.yaml` is edited only where every template use of a value is such a
//! mapping on the container side; anything else (a value that also feeds a Service `port`,
//! a `with`/`range` block, a hard-coded `containerPort: 80`) is listed for a person.

use std::collections::HashMap;

use super::{image_repository, Reference};
use crate::analysis::ports::is_port_name;
use crate::yaml::{line_of, replace_scalar, Kind, Node};

/// A path into `values.yaml`: `service.targetPort` → `["service", "targetPort"]`.
pub type ValuesPath = Vec<String>;

/// What a template line sets a field to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Written as is (`80`, `http`), quotes removed.
    Literal(String),
    /// `{{ .Values.a.b }}` and nothing else (`| quote`, `| int` allowed).
    Values(ValuesPath),
    /// `{{ toYaml .Values.a | nindent 8 }}`: the subtree is placed at the field.
    Whole(ValuesPath),
    /// Any other template action.
    Unclear,
    /// `{{ include "name" … }}` of a helper unroot does not read, placed on a line of its own.
    Helper(String),
}

/// The helpers of a chart: each `{{ define "name" }}` of its templates' `.tpl` files, with
/// the lines of its body.
#[derive(Clone, Debug, Default)]
pub struct Helpers {
    bodies: HashMap<String, Vec<String>>,
}

/// How deep helpers that include helpers are followed.
const MAX_INCLUDE_DEPTH: usize = 8;

impl Helpers {
    /// Reads the `define` blocks of `texts` (the chart's `templates/*.tpl`).
    pub fn read(texts: &[&str]) -> Helpers {
        let mut bodies = HashMap::new();
        for text in texts {
            let mut open: Option<(String, Vec<String>, usize)> = None;
            for line in text.lines().map(|l| l.trim_end_matches('\r')) {
                let acts = actions(line);
                if let Some((name, body, depth)) = open.as_mut() {
                    let mut closes = false;
                    for action in &acts {
                        match first_word(action) {
                            "if" | "with" | "range" | "define" | "block" => *depth += 1,
                            "end" if *depth == 0 => closes = true,
                            "end" => *depth -= 1,
                            _ => {}
                        }
                    }
                    if closes {
                        // Text before the closing `end` on its line is part of the body.
                        let before = line[..line.find("{{").unwrap_or(0)].trim_end();
                        if !before.trim().is_empty() {
                            body.push(before.to_string());
                        }
                        bodies.insert(std::mem::take(name), std::mem::take(body));
                        open = None;
                    } else {
                        body.push(line.to_string());
                    }
                    continue;
                }
                let defined = acts.iter().find_map(|action| {
                    let rest = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
                    let name = rest.strip_prefix("define ")?.trim();
                    Some(name.trim_matches('"').to_string())
                });
                if let Some(name) = defined {
                    open = Some((name, Vec::new(), 0));
                }
            }
        }
        Helpers { bodies }
    }

    /// Appends `line` (template line `number`) to `out`, an `include` of a known helper with
    /// the root context replaced by the helper's lines: on a line of its own with
    /// `| nindent N` / `| indent N` at that indentation, or as the value of a field when the
    /// helper is one line.
    fn expand(&self, line: &str, number: usize, depth: usize, out: &mut Vec<(usize, String)>) {
        if depth < MAX_INCLUDE_DEPTH {
            if let Some(expanded) = self.expanded(line) {
                for text in expanded {
                    self.expand(&text, number, depth + 1, out);
                }
                return;
            }
        }
        out.push((number, line.to_string()));
    }

    fn expanded(&self, line: &str) -> Option<Vec<String>> {
        let trimmed = line.trim_start();
        if actions_only(trimmed) {
            let [action] = actions(trimmed)[..] else {
                return None;
            };
            let (name, indent) = self.include(action)?;
            let body = &self.bodies[name];
            let least = body
                .iter()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.len() - l.trim_start().len())
                .min()
                .unwrap_or(0);
            let indent = indent.unwrap_or(line.len() - trimmed.len());
            return Some(
                body.iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| format!("{}{}", " ".repeat(indent), &l[least..]))
                    .collect(),
            );
        }
        // `key: {{ include "name" . }}` of a one-line helper.
        let (open, close) = (line.find("{{")?, line.rfind("}}")?);
        let (name, _) = self.include(&line[open + 2..close])?;
        let [body] = &self.bodies[name][..] else {
            return None;
        };
        Some(vec![format!(
            "{}{}{}",
            &line[..open],
            body.trim(),
            &line[close + 2..]
        )])
    }

    /// `include "name" .` (or `$`) of a known helper, with the indentation its
    /// `| nindent N` / `| indent N` gives; no other stage.
    fn include<'a>(&self, action: &'a str) -> Option<(&'a str, Option<usize>)> {
        let action = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
        let mut stages = action.split('|').map(str::trim);
        let call = stages.next()?.strip_prefix("include ")?.trim();
        let (name, context) = call.strip_prefix('"')?.split_once('"')?;
        if !matches!(context.trim(), "." | "$") || !self.bodies.contains_key(name) {
            return None;
        }
        let mut indent = None;
        for stage in stages {
            let mut words = stage.split_whitespace();
            match (
                words.next(),
                words.next().and_then(|n| n.parse().ok()),
                words.next(),
            ) {
                (Some("nindent" | "indent"), Some(n), None) => indent = Some(n),
                _ => return None,
            }
        }
        Some((name, indent))
    }
}

/// The helper an action includes: `include "name" …`.
fn included(action: &str) -> Option<&str> {
    let action = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
    let call = action.strip_prefix("include ")?.trim_start();
    let (name, _) = call.strip_prefix('"')?.split_once('"')?;
    Some(name)
}

fn first_word(action: &str) -> &str {
    action
        .trim_matches(|c: char| c == '-' || c.is_whitespace())
        .split_whitespace()
        .next()
        .unwrap_or("")
}

/// A field a template line sets, by its key path relative to the container, the pod spec
/// or the Service port item; list items are `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub line: usize,
    pub at: Vec<String>,
    pub value: Value,
    /// The list item the line is in (for an env variable's `name`).
    item: usize,
}

/// A container of a workload template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    pub template: usize,
    pub line: usize,
    pub name: String,
    /// The `image:` value as written (template actions included).
    pub image: String,
    pub fields: Vec<Field>,
    /// Fields of the pod spec (`securityContext`).
    pub pod: Vec<Field>,
}

/// A port item of a Service template (`ports: - port: … targetPort: …`), or a whole
/// `ports: {{ toYaml .Values.service.ports }}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServicePort {
    pub template: usize,
    pub line: usize,
    pub fields: Vec<Field>,
}

/// A `.Values` use that is not a visible mapping: `with`, `range`, a variable, part of a
/// longer text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    pub template: usize,
    pub line: usize,
    pub path: ValuesPath,
}

/// What a chart's templates say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chart {
    /// Each template's path as shown.
    pub templates: Vec<String>,
    pub containers: Vec<Container>,
    pub service_ports: Vec<ServicePort>,
    pub others: Vec<Use>,
    /// Each list item's literal `name:` (for env variables and ports).
    item_names: HashMap<usize, String>,
}

const PROBES: &[&str] = &["livenessProbe", "readinessProbe", "startupProbe"];
const HANDLERS: &[&str] = &["httpGet", "tcpSocket", "grpc"];
const WORKLOAD_KINDS: &[&str] = super::kube::WORKLOADS;

#[derive(Clone, Debug)]
enum Segment {
    Key(String),
    Item(usize),
}

struct Frame {
    col: usize,
    segment: Segment,
}

impl Chart {
    /// Reads the templates (`(path as shown, text)`) of a chart without helpers.
    #[cfg(test)]
    pub fn read(templates: &[(String, &str)]) -> Chart {
        Chart::read_with_helpers(templates, &Helpers::default())
    }

    /// Reads the templates, each `include` of one of `helpers` (with the root context `.`)
    /// read as the helper's text placed there.
    pub fn read_with_helpers(templates: &[(String, &str)], helpers: &Helpers) -> Chart {
        let mut chart = Chart::default();
        let mut next_item = 0;
        for (index, (display, text)) in templates.iter().enumerate() {
            chart.templates.push(display.clone());
            let mut lines = Vec::new();
            for (number, line) in text.lines().enumerate() {
                helpers.expand(line.trim_end_matches('\r'), number + 1, 0, &mut lines);
            }
            chart.read_template(index, &lines, &mut next_item);
        }
        chart
    }

    /// `lines`: each line with the number of the template line it comes from (an included
    /// helper's lines have the number of the `include`).
    fn read_template(&mut self, template: usize, lines: &[(usize, String)], next_item: &mut usize) {
        let numbers: Vec<usize> = lines.iter().map(|(number, _)| *number).collect();
        let lines: Vec<&str> = lines.iter().map(|(_, line)| line.as_str()).collect();
        self.read_lines(template, &lines, &numbers, next_item);
    }

    fn read_lines(
        &mut self,
        template: usize,
        lines: &[&str],
        numbers: &[usize],
        next_item: &mut usize,
    ) {
        let mut start = 0;
        while start < lines.len() {
            let end = (start..lines.len())
                .find(|&i| i > start && lines[i].trim_end() == "---")
                .unwrap_or(lines.len());
            let first = if lines[start].trim_end() == "---" {
                start + 1
            } else {
                start
            };
            self.read_document(template, (lines, numbers), first, end, next_item);
            start = end;
        }
    }

    fn read_document(
        &mut self,
        template: usize,
        (lines, numbers): (&[&str], &[usize]),
        start: usize,
        end: usize,
        next_item: &mut usize,
    ) {
        let kind = lines[start..end]
            .iter()
            .find_map(|l| l.strip_prefix("kind:"))
            .map(|k| k.trim().trim_matches(['"', '\'']).to_string())
            .unwrap_or_default();
        let workload = WORKLOAD_KINDS.contains(&kind.as_str());
        let service = kind == "Service";
        let mut stack: Vec<Frame> = Vec::new();
        let mut containers: HashMap<usize, usize> = HashMap::new();
        let mut ports: HashMap<usize, usize> = HashMap::new();
        let mut pod: Vec<Field> = Vec::new();
        let first_container = self.containers.len();
        let mut in_comment = false;
        // The values a `{{- with .Values.x }}` line just opened.
        let mut with_values: Option<ValuesPath> = None;
        for (index, raw) in lines.iter().enumerate().take(end).skip(start) {
            let number = numbers[index];
            let trimmed = raw.trim_start();
            if in_comment {
                in_comment = !trimmed.contains("*/");
                continue;
            }
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if (trimmed.starts_with("{{/*") || trimmed.starts_with("{{- /*"))
                && !trimmed.contains("*/")
            {
                in_comment = true;
                continue;
            }
            let col = raw.len() - trimmed.len();
            if actions_only(trimmed) {
                // A line of actions: a whole subtree placed under the last key, or control.
                while stack.last().is_some_and(|f| f.col >= col) {
                    stack.pop();
                }
                with_values = match actions(trimmed)[..] {
                    [action] => with_path(action),
                    _ => None,
                };
                for action in actions(trimmed) {
                    let value = classify(action);
                    let placed = matches!(value, Value::Whole(_))
                        && matches!(
                            stack.last(),
                            Some(Frame {
                                segment: Segment::Key(_),
                                ..
                            })
                        );
                    if placed {
                        self.place(
                            &stack,
                            (template, number, ""),
                            value,
                            (workload, service),
                            (&mut containers, &mut ports, &mut pod),
                        );
                    } else if let Some(name) = included(action) {
                        // A helper unroot cannot read (not in the chart's `.tpl` files, or
                        // given another context than `.`), placed in a container.
                        if workload && container_of(&stack).is_some() {
                            self.place(
                                &stack,
                                (template, number, ""),
                                Value::Helper(name.to_string()),
                                (workload, service),
                                (&mut containers, &mut ports, &mut pod),
                            );
                        }
                    } else if !is_condition(action) {
                        self.other_uses(template, number, action);
                    }
                }
                continue;
            }
            while stack.last().is_some_and(|f| f.col >= col) {
                stack.pop();
            }
            let mut rest = trimmed;
            let mut at = col;
            while rest == "-" || rest.starts_with("- ") {
                let item = *next_item;
                *next_item += 1;
                stack.push(Frame {
                    col: at,
                    segment: Segment::Item(item),
                });
                let after = rest[1..].trim_start();
                at += rest.len() - after.len();
                rest = after;
                if workload {
                    if let Some(parent) = parent_key(&stack) {
                        if parent == "containers" || parent == "initContainers" {
                            containers.insert(item, self.containers.len());
                            self.containers.push(Container {
                                template,
                                line: number,
                                name: String::new(),
                                image: String::new(),
                                fields: Vec::new(),
                                pod: Vec::new(),
                            });
                        }
                    }
                }
                if service && parent_key(&stack) == Some("ports") {
                    ports.insert(item, self.service_ports.len());
                    self.service_ports.push(ServicePort {
                        template,
                        line: number,
                        fields: Vec::new(),
                    });
                }
            }
            let (key, value) = match split_key(rest) {
                Some((key, value)) => (Some(key), value),
                None => (None, rest),
            };
            if let Some(key) = &key {
                stack.push(Frame {
                    col: at,
                    segment: Segment::Key(key.clone()),
                });
            }
            let with = with_values.take();
            if workload && container_of(&stack).is_none() {
                // The pod's volumes: a writable one written in the template, or the values
                // placed there in a `with .Values.x` block (`{{- toYaml . | nindent 8 }}`).
                let keys = pod_keys(&stack);
                let volume = match (keys.as_slice(), &with) {
                    ([volumes, item, kind], _)
                        if volumes == "volumes"
                            && item == "-"
                            && WRITABLE_VOLUMES.contains(&kind.as_str()) =>
                    {
                        Some(Value::Literal(kind.clone()))
                    }
                    ([volumes], Some(path)) if volumes == "volumes" => {
                        Some(Value::Whole(path.clone()))
                    }
                    _ => None,
                };
                if let Some(value) = volume {
                    pod.push(Field {
                        line: number,
                        at: keys,
                        value,
                        item: usize::MAX,
                    });
                }
            }
            let raw_value = strip_comment(value);
            if raw_value.is_empty() {
                continue;
            }
            let value = raw_value;
            let value = if value.contains("{{") {
                match single_action(value) {
                    Some(action) => classify(action),
                    None => Value::Unclear,
                }
            } else {
                Value::Literal(value.trim_matches(['"', '\'']).to_string())
            };
            if value == Value::Unclear {
                for action in actions(rest) {
                    self.other_uses(template, number, action);
                }
            }
            if key.as_deref() == Some("name") {
                if let (
                    Value::Literal(name),
                    Some(Frame {
                        segment: Segment::Item(item),
                        ..
                    }),
                ) = (&value, stack.iter().rev().nth(1))
                {
                    self.item_names.insert(*item, name.clone());
                }
            }
            self.place(
                &stack,
                (template, number, raw_value),
                value,
                (workload, service),
                (&mut containers, &mut ports, &mut pod),
            );
        }
        for container in &mut self.containers[first_container..] {
            container.pod.clone_from(&pod);
        }
    }

    /// Records a field at the stack's path.
    fn place(
        &mut self,
        stack: &[Frame],
        (template, line, raw): (usize, usize, &str),
        value: Value,
        (workload, service): (bool, bool),
        (containers, ports, pod): (
            &mut HashMap<usize, usize>,
            &mut HashMap<usize, usize>,
            &mut Vec<Field>,
        ),
    ) {
        let item = stack
            .iter()
            .rev()
            .find_map(|f| match f.segment {
                Segment::Item(item) => Some(item),
                Segment::Key(_) => None,
            })
            .unwrap_or(usize::MAX);
        let relative = |from: usize| -> Vec<String> {
            stack[from..]
                .iter()
                .map(|f| match &f.segment {
                    Segment::Key(key) => key.clone(),
                    Segment::Item(_) => "-".to_string(),
                })
                .collect()
        };
        if workload {
            if let Some((container, depth)) = container_of(stack) {
                if let Some(&c) = containers.get(&container) {
                    let at = relative(depth + 1);
                    let container = &mut self.containers[c];
                    match (at.as_slice(), &value) {
                        ([key], Value::Literal(text)) if key == "name" => {
                            container.name.clone_from(text)
                        }
                        // A templated name (`{{ .Chart.Name }}`) is shown as written.
                        ([key], _) if key == "name" => container.name = raw.to_string(),
                        ([key], _) if key == "image" => container.image = raw.to_string(),
                        _ => {}
                    }
                    container.fields.push(Field {
                        line,
                        at,
                        value,
                        item,
                    });
                    return;
                }
            }
            // The pod spec's own `securityContext`.
            let keys = relative(0);
            if let Some(at) = keys.iter().rposition(|k| k == "spec") {
                let volumes =
                    keys[at + 1..] == ["volumes".to_string()] && matches!(value, Value::Whole(_));
                if volumes || keys.get(at + 1).is_some_and(|k| k == "securityContext") {
                    pod.push(Field {
                        line,
                        at: keys[at + 1..].to_vec(),
                        value,
                        item,
                    });
                    return;
                }
            }
        }
        if service {
            let port_item = stack
                .iter()
                .enumerate()
                .rev()
                .find_map(|(depth, f)| match f.segment {
                    Segment::Item(item) if ports.contains_key(&item) => Some((item, depth)),
                    _ => None,
                });
            if let Some((item, depth)) = port_item {
                let at = relative(depth + 1);
                self.service_ports[ports[&item]].fields.push(Field {
                    line,
                    at,
                    value,
                    item,
                });
                return;
            }
            if let (
                Some(Frame {
                    segment: Segment::Key(key),
                    ..
                }),
                Value::Whole(_),
            ) = (stack.last(), &value)
            {
                if key == "ports" {
                    self.service_ports.push(ServicePort {
                        template,
                        line,
                        fields: vec![Field {
                            line,
                            at: Vec::new(),
                            value,
                            item,
                        }],
                    });
                    return;
                }
            }
        }
        if let Value::Values(path) | Value::Whole(path) = value {
            self.others.push(Use {
                template,
                line,
                path,
            });
        }
    }

    fn other_uses(&mut self, template: usize, line: usize, action: &str) {
        for path in values_paths(action) {
            self.others.push(Use {
                template,
                line,
                path,
            });
        }
    }

    /// Each container's image as `values` renders it (`None` when an action of it does not
    /// resolve to a string).
    pub fn images(&self, values: &Node) -> Vec<Option<String>> {
        self.images_over(&[values])
    }

    /// [`Chart::images`] with values in layers, the first that sets a key winning (a parent
    /// chart's `<subchart>:` values over the subchart's own).
    pub fn images_over(&self, layers: &[&Node]) -> Vec<Option<String>> {
        self.containers
            .iter()
            .map(|c| render(&c.image, layers))
            .collect()
    }

    pub fn shown(&self, template: usize, line: usize) -> String {
        format!("{}:{line}", self.templates[template])
    }
}

/// The image text with each action replaced by the value it reads (from the first of
/// `layers` that sets it).
fn render(image: &str, layers: &[&Node]) -> Option<String> {
    if image.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut rest = image;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let close = rest[open..].find("}}")? + open;
        let action = &rest[open + 2..close];
        let first = action
            .trim_matches(['-', ' '])
            .split('|')
            .next()
            .unwrap_or("")
            .trim();
        let path = first
            .strip_prefix(".Values.")
            .or(first.strip_prefix("$.Values."));
        match path {
            Some(path) => {
                let keys: Vec<&str> = path.split('.').collect();
                match layers.iter().find_map(|values| values.at(&keys)) {
                    Some(node) => out.push_str(node.str()?),
                    // An unset tag falls back to a default: no part of the repository.
                    None if keys.last().is_some_and(|k| *k == "tag" || *k == "digest") => {}
                    None => return None,
                }
            }
            None if first.contains(".Chart.") || first.starts_with("default") => {}
            None => return None,
        }
        rest = &rest[close + 2..];
    }
    out.push_str(rest);
    let out = out
        .trim_matches(['"', '\''])
        .trim_end_matches(':')
        .to_string();
    (!out.is_empty()).then(|| image_repository(&out).to_string())
}

/// Volume sources whose files the app may write (and which `fsGroup` makes writable).
pub const WRITABLE_VOLUMES: &[&str] = &["emptyDir", "persistentVolumeClaim", "hostPath"];

/// The path of the stack below the pod's `spec` (`-` for items).
fn pod_keys(stack: &[Frame]) -> Vec<String> {
    let keys: Vec<String> = stack
        .iter()
        .map(|f| match &f.segment {
            Segment::Key(key) => key.clone(),
            Segment::Item(_) => "-".to_string(),
        })
        .collect();
    match keys.iter().rposition(|k| k == "spec") {
        Some(at) => keys[at + 1..].to_vec(),
        None => Vec::new(),
    }
}

/// `with .Values.a.b`: the values it opens.
fn with_path(action: &str) -> Option<ValuesPath> {
    let action = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
    match classify(action.strip_prefix("with ")?) {
        Value::Values(path) => Some(path),
        _ => None,
    }
}

/// The key of the frame that holds the innermost list item.
fn parent_key(stack: &[Frame]) -> Option<&str> {
    let len = stack.len();
    match stack.get(len.checked_sub(2)?)?.segment {
        Segment::Key(ref key) => Some(key),
        Segment::Item(_) => None,
    }
}

/// The innermost `containers`/`initContainers` item and its depth in the stack.
fn container_of(stack: &[Frame]) -> Option<(usize, usize)> {
    (1..stack.len()).rev().find_map(|depth| {
        let Segment::Item(item) = stack[depth].segment else {
            return None;
        };
        match &stack[depth - 1].segment {
            Segment::Key(key) if key == "containers" || key == "initContainers" => {
                Some((item, depth))
            }
            _ => None,
        }
    })
}

/// `key: rest` where the key is plain (no action).
fn split_key(text: &str) -> Option<(String, &str)> {
    let colon = text
        .match_indices(':')
        .map(|(at, _)| at)
        .find(|&at| text[at + 1..].is_empty() || text[at + 1..].starts_with([' ', '\t']))?;
    let key = text[..colon].trim().trim_matches(['"', '\'']);
    if key.is_empty() || key.contains("{{") || key.contains(' ') {
        return None;
    }
    Some((key.to_string(), text[colon + 1..].trim()))
}

fn strip_comment(value: &str) -> &str {
    match value.find(" #") {
        Some(at) if !value[..at].contains("{{") || value[..at].contains("}}") => value[..at].trim(),
        _ => value.trim(),
    }
}

/// The inside of each `{{ … }}` of a line.
fn actions(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        found.push(&rest[open + 2..open + close]);
        rest = &rest[open + close + 2..];
    }
    found
}

fn actions_only(text: &str) -> bool {
    if !text.starts_with("{{") {
        return false;
    }
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        if !rest[..open].trim().is_empty() {
            return false;
        }
        let Some(close) = rest[open..].find("}}") else {
            return false;
        };
        rest = &rest[open + close + 2..];
    }
    rest.trim().is_empty()
}

/// The action of a value that is one action alone, in quotes or not.
fn single_action(value: &str) -> Option<&str> {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    let inside = inner.strip_prefix("{{")?.strip_suffix("}}")?;
    (!inside.contains("{{") && !inside.contains("}}")).then_some(inside)
}

/// `.Values.a.b` (with `quote`/`int`), or `toYaml .Values.a | nindent 8`.
fn classify(action: &str) -> Value {
    let action = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
    let mut stages = action.split('|').map(str::trim);
    let first = stages.next().unwrap_or("");
    let rest: Vec<&str> = stages.collect();
    let path_of = |term: &str| {
        term.strip_prefix(".Values.")
            .or_else(|| term.strip_prefix("$.Values."))
            .filter(|p| {
                !p.is_empty()
                    && p.split('.').all(|k| {
                        !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    })
            })
            .map(|p| p.split('.').map(str::to_string).collect::<Vec<_>>())
    };
    if let Some(term) = first.strip_prefix("toYaml ") {
        let indented = rest.iter().all(|stage| {
            let mut words = stage.split_whitespace();
            matches!(words.next(), Some("nindent" | "indent"))
                && words.next().is_some_and(|n| n.parse::<u32>().is_ok())
                && words.next().is_none()
        });
        return match (path_of(term.trim()), indented) {
            (Some(path), true) => Value::Whole(path),
            _ => Value::Unclear,
        };
    }
    let plain = rest
        .iter()
        .all(|stage| matches!(*stage, "quote" | "squote" | "int" | "int64" | "toString"));
    match (path_of(first), plain) {
        (Some(path), true) => Value::Values(path),
        _ => Value::Unclear,
    }
}

/// `if`, `else`, `end`, `define`, `include`: control and helpers that place no value the
/// templates read as a field.
fn is_condition(action: &str) -> bool {
    let action = action.trim_matches(|c: char| c == '-' || c.is_whitespace());
    let word = action.split_whitespace().next().unwrap_or("");
    matches!(
        word,
        "if" | "else" | "end" | "define" | "template" | "include" | "/*"
    ) || action.starts_with("/*")
}

/// Every `.Values.a.b` an action reads.
fn values_paths(action: &str) -> Vec<ValuesPath> {
    action
        .match_indices(".Values.")
        .map(|(at, needle)| {
            let tail = &action[at + needle.len()..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .unwrap_or(tail.len());
            tail[..end]
                .trim_end_matches('.')
                .split('.')
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|path| !path.is_empty())
        .collect()
}

/// Is a container-relative path one that names the container port (`ports[].containerPort`,
/// a probe's port, an env variable's value)?
fn container_port_path(at: &[String]) -> bool {
    match at {
        [ports, item, key] if ports == "ports" && item == "-" && key == "containerPort" => true,
        [probe, handler, port] => {
            PROBES.contains(&probe.as_str())
                && HANDLERS.contains(&handler.as_str())
                && port == "port"
        }
        _ => false,
    }
}

/// What a values scalar is used for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    /// The container port of a container that runs the moved image (`place` as shown).
    Moves(String),
    /// The container port of a container that runs another image.
    OtherImage(String),
    /// A Service's `port`: the side clients call, which stays.
    Published(String),
    /// A use unroot does not follow; `port` when the value's key names a port.
    Unknown { place: String, port: bool },
}

/// The scalars of a values subtree with their paths relative to it (`-` for items), and the
/// `name` of the list item each is in.
fn subtree(node: &Node) -> Vec<(Vec<String>, &Node, Option<&str>)> {
    let mut out = Vec::new();
    let mut stack: Vec<(Vec<String>, &Node, Option<&str>)> = vec![(Vec::new(), node, None)];
    while let Some((path, node, name)) = stack.pop() {
        match &node.kind {
            Kind::Scalar { .. } => out.push((path, node, name)),
            Kind::Map(entries) => {
                for (key, value) in entries {
                    let Some(key) = key.str() else { continue };
                    let mut path = path.clone();
                    path.push(key.to_string());
                    stack.push((path, value, name));
                }
            }
            Kind::Seq(items) => {
                for item in items {
                    let mut path = path.clone();
                    path.push("-".to_string());
                    let name = item.get("name").and_then(Node::str).or(name);
                    stack.push((path, item, name));
                }
            }
            Kind::Alias(_) => {}
        }
    }
    out
}

fn at_path<'a>(values: &'a Node, path: &[String]) -> Option<&'a Node> {
    path.iter().try_fold(values, |node, key| node.get(key))
}

/// Where a chart names the container port `old` of the containers `linked` (indices into
/// [`Chart::containers`]): edits of `values.yaml`, and the template lines a person must
/// change (`(template, reference)`).
pub fn port_references(
    source: &str,
    values: &Node,
    chart: &Chart,
    linked: &[usize],
    old: u16,
    new: u16,
) -> (Vec<Reference>, Vec<(usize, Reference)>) {
    let mut roles: Vec<(&Node, Role)> = Vec::new();
    let mut templates: Vec<(usize, Reference)> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let old_text = old.to_string();
    let all_linked = (0..chart.containers.len()).all(|c| linked.contains(&c));
    let person =
        |template: usize, line: usize, why: String| (template, Reference::Person { line, why });
    for (index, container) in chart.containers.iter().enumerate() {
        let runs = linked.contains(&index);
        let place = |line: usize| {
            format!(
                "{} (container `{}`)",
                chart.shown(container.template, line),
                container.name
            )
        };
        let role = |line: usize| {
            if runs {
                Role::Moves(place(line))
            } else {
                Role::OtherImage(place(line))
            }
        };
        for field in &container.fields {
            let env = matches!(field.at.as_slice(), [env, item, value] if env == "env" && item == "-" && value == "value")
                && chart
                    .item_names
                    .get(&field.item)
                    .is_some_and(|name| is_port_name(name));
            let port_field = container_port_path(&field.at) || env;
            match &field.value {
                Value::Values(path) if port_field => match at_path(values, path) {
                    Some(node) => roles.push((node, role(field.line))),
                    None if runs => templates.push(person(
                        container.template,
                        field.line,
                        format!(
                            "`.Values.{}` is not set in values.yaml, so unroot cannot see its port",
                            path.join(".")
                        ),
                    )),
                    None => {}
                },
                Value::Literal(text) if port_field && runs && *text == old_text => {
                    templates.push(person(
                        container.template,
                        field.line,
                        format!(
                            "the template hard-codes port `{old}` (`{}: {old}`); templates are not edited",
                            field.at.last().map_or("", String::as_str)
                        ),
                    ))
                }
                Value::Literal(text) if runs && field.at == ["ports", "-", "name"] => {
                    names.push(text.clone())
                }
                Value::Literal(text)
                    if runs
                        && matches!(field.at.first().map(String::as_str), Some("command" | "args"))
                        && super::compose::mentions_port(text, old) =>
                {
                    templates.push(person(
                        container.template,
                        field.line,
                        format!("container `{}` `{}` names port `{old}`", container.name, field.at[0]),
                    ))
                }
                Value::Whole(path) => {
                    let Some(node) = at_path(values, path) else {
                        continue;
                    };
                    for (relative, scalar, name) in subtree(node) {
                        let mut at = field.at.clone();
                        at.extend(relative);
                        let env = at == ["env", "-", "value"] && name.is_some_and(is_port_name);
                        if container_port_path(&at) || env {
                            roles.push((scalar, role(field.line)));
                        } else if runs && at == ["ports", "-", "name"] {
                            names.extend(scalar.str().map(str::to_string));
                        }
                    }
                }
                Value::Helper(name)
                    if runs
                        && matches!(
                            field.at.first().map(String::as_str),
                            None | Some("ports" | "env" | "livenessProbe" | "readinessProbe" | "startupProbe")
                        ) =>
                {
                    templates.push(person(
                        container.template,
                        field.line,
                        format!(
                            "the template includes helper `{name}` where the container's ports are set, and unroot cannot read it"
                        ),
                    ))
                }
                Value::Unclear if runs && port_field => templates.push(person(
                    container.template,
                    field.line,
                    "the template sets a port field through an expression unroot does not follow"
                        .to_string(),
                )),
                _ => {}
            }
        }
    }
    for port in &chart.service_ports {
        let shown = chart.shown(port.template, port.line);
        let field = |key: &str| port.fields.iter().find(|f| f.at == [key]);
        for field in &port.fields {
            let Value::Whole(path) = &field.value else {
                continue;
            };
            if !field.at.is_empty() {
                continue;
            }
            // `ports: {{ toYaml .Values.service.ports }}`: each item's targetPort and port.
            for item in at_path(values, path).map(Node::items).unwrap_or_default() {
                match item.get("targetPort") {
                    Some(target) => roles.push((target, service_target(&shown, all_linked))),
                    None => {
                        if let Some(published) = item.get("port") {
                            roles.push((published, unknown(format!("{shown} (a Service `port` without `targetPort`, which defaults to it)"))));
                        }
                    }
                }
                if let Some(published) = item.get("port") {
                    if item.get("targetPort").is_some() {
                        roles.push((published, Role::Published(shown.clone())));
                    }
                }
            }
        }
        if port.fields.iter().any(|f| f.at.is_empty()) {
            continue;
        }
        match field("targetPort").map(|f| &f.value) {
            Some(Value::Values(path)) => {
                if let Some(node) = at_path(values, path) {
                    roles.push((node, service_target(&shown, all_linked)));
                }
            }
            Some(Value::Literal(text)) if *text == old_text => templates.push(person(
                port.template,
                field("targetPort").map_or(port.line, |f| f.line),
                format!("the Service template hard-codes `targetPort: {old}`; templates are not edited"),
            )),
            Some(Value::Literal(text)) if names.contains(text) => {
                let line = field("targetPort").map_or(port.line, |f| f.line);
                templates.push((
                    port.template,
                    Reference::Follows {
                        line,
                        what: format!("Service `targetPort: {text}` (named port)"),
                    },
                ));
            }
            Some(Value::Unclear) => templates.push(person(
                port.template,
                field("targetPort").map_or(port.line, |f| f.line),
                "the Service template sets `targetPort` through an expression unroot does not follow".to_string(),
            )),
            Some(_) => {}
            None => {
                // No targetPort: it is the Service's `port`.
                let defaulted = match field("port").map(|f| &f.value) {
                    Some(Value::Literal(text)) => *text == old_text,
                    Some(Value::Values(path)) => at_path(values, path)
                        .and_then(Node::number)
                        .is_some_and(|n| n == u32::from(old)),
                    _ => false,
                };
                if defaulted {
                    templates.push(person(
                        port.template,
                        port.line,
                        format!("the Service template has no `targetPort`, so it is its `port` `{old}`; add `targetPort` to the template"),
                    ));
                }
            }
        }
        if let Some(Value::Values(path)) = field("port").map(|f| &f.value) {
            if let Some(node) = at_path(values, path) {
                let role = if field("targetPort").is_some() {
                    Role::Published(shown.clone())
                } else {
                    unknown(format!("{shown} (a Service `port` without `targetPort`)"))
                };
                roles.push((node, role));
            }
        }
    }
    for other in &chart.others {
        let Some(node) = at_path(values, &other.path) else {
            continue;
        };
        for (relative, scalar, _) in subtree(node) {
            // The key that names the scalar: a port key counts even where no mapping is seen.
            let key = relative
                .iter()
                .rev()
                .chain(other.path.iter().rev())
                .find(|k| *k != "-");
            roles.push((
                scalar,
                Role::Unknown {
                    place: chart.shown(other.template, other.line),
                    port: key.is_some_and(|k| is_port_name(k)),
                },
            ));
        }
    }
    // One decision per values scalar that is the old port.
    let mut edits = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    for (node, _) in &roles {
        if node.number() != Some(u32::from(old)) || seen.contains(&node.span.start) {
            continue;
        }
        seen.push(node.span.start);
        let mine: Vec<&Role> = roles
            .iter()
            .filter(|(n, _)| n.span.start == node.span.start)
            .map(|(_, r)| r)
            .collect();
        let line = line_of(source, node.span.start);
        let moves: Vec<&str> = mine
            .iter()
            .filter_map(|r| match r {
                Role::Moves(place) => Some(place.as_str()),
                _ => None,
            })
            .collect();
        if moves.is_empty() {
            // Not a visible container port; a port key read where unroot does not see how.
            let hidden: Vec<&str> = mine
                .iter()
                .filter_map(|r| match r {
                    Role::Unknown { place, port: true } => Some(place.as_str()),
                    _ => None,
                })
                .collect();
            if !hidden.is_empty() {
                edits.push(Reference::Person {
                    line,
                    why: format!(
                        "this port value is read at {} in a way unroot does not follow",
                        hidden.join(", ")
                    ),
                });
            }
            continue;
        }
        let blockers: Vec<String> = mine
            .iter()
            .filter_map(|r| match r {
                Role::Moves(_) => None,
                Role::OtherImage(place) => {
                    Some(format!("a container that runs another image at {place}"))
                }
                Role::Published(place) => Some(format!(
                    "the published Service `port` at {place}, which must stay"
                )),
                Role::Unknown { place, .. } => {
                    Some(format!("{place}, a use unroot does not follow"))
                }
            })
            .collect();
        if !blockers.is_empty() {
            edits.push(Reference::Person {
                line,
                why: format!(
                    "this value is the container port at {} but also feeds {}: give the container port its own value",
                    moves.join(", "),
                    blockers.join(", ")
                ),
            });
            continue;
        }
        edits.push(match replace_scalar(source, node, &new.to_string()) {
            Some(edit) => Reference::Edit {
                line,
                what: format!(
                    "values `{old}` (the container port at {})",
                    moves.join(", ")
                ),
                edit,
            },
            None => Reference::Person {
                line,
                why: format!("`{old}` is written with escapes unroot does not edit"),
            },
        });
    }
    (edits, templates)
}

/// Where a parent chart's values override a subchart's (`over`: the parent's `<subchart>:`
/// mapping, in `parent_source`): Helm renders the parent's value, so where the subchart's
/// `values` scalar moves (`own`'s edits), the parent's value at the same path moves too when
/// it is the port; a port the parent sets where the subchart's value does not move, or a list
/// it replaces that holds the port, needs a person.
pub fn override_references(
    parent_source: &str,
    over: &Node,
    subchart: &str,
    values: &Node,
    own: &[Reference],
    old: u16,
    new: u16,
) -> Vec<Reference> {
    let moved: Vec<usize> = own
        .iter()
        .filter_map(|r| match r {
            Reference::Edit { edit, .. } => Some(edit.span.start),
            _ => None,
        })
        .collect();
    let mut found = Vec::new();
    let mut stack: Vec<(Vec<String>, &Node)> = vec![(Vec::new(), over)];
    while let Some((path, node)) = stack.pop() {
        let shown = || format!("{subchart}.{}", path.join("."));
        let line = line_of(parent_source, node.span.start);
        match &node.kind {
            Kind::Map(entries) => {
                for (key, value) in entries {
                    let Some(key) = key.str() else { continue };
                    let mut path = path.clone();
                    path.push(key.to_string());
                    stack.push((path, value));
                }
            }
            Kind::Seq(_) => {
                let holds_port = subtree(node)
                    .iter()
                    .any(|(_, scalar, _)| scalar.number() == Some(u32::from(old)));
                if holds_port {
                    found.push(Reference::Person {
                        line,
                        why: format!(
                            "the parent chart's values set the list `{}` of subchart `{subchart}`, which replaces the subchart's own; unroot does not follow it",
                            shown()
                        ),
                    });
                }
            }
            Kind::Scalar { .. } if node.number() == Some(u32::from(old)) => {
                let default = at_path(values, &path);
                let moves = default.is_some_and(|d| {
                    moved
                        .iter()
                        .any(|&at| d.span.start <= at && at < d.span.end.max(d.span.start + 1))
                });
                let port_key = path.last().is_some_and(|k| is_port_name(k));
                if moves {
                    found.push(match replace_scalar(parent_source, node, &new.to_string()) {
                        Some(edit) => Reference::Edit {
                            line,
                            what: format!(
                                "values `{old}` (`{}`, the parent chart's value for the subchart's container port)",
                                shown()
                            ),
                            edit,
                        },
                        None => Reference::Person {
                            line,
                            why: format!("`{old}` is written with escapes unroot does not edit"),
                        },
                    });
                } else if default.is_some_and(|d| d.number() != Some(u32::from(old)))
                    || (default.is_none() && port_key)
                {
                    found.push(Reference::Person {
                        line,
                        why: format!(
                            "the parent chart's values set `{}` to the port, over the subchart's values.yaml, which unroot reads",
                            shown()
                        ),
                    });
                }
            }
            _ => {}
        }
    }
    found.sort_by_key(Reference::line);
    found
}

fn unknown(place: String) -> Role {
    Role::Unknown { place, port: true }
}

fn service_target(shown: &str, all_linked: bool) -> Role {
    if all_linked {
        Role::Moves(format!("{shown} (Service `targetPort`)"))
    } else {
        Role::OtherImage(format!(
            "{shown} (a Service `targetPort` of a chart that runs other images too)"
        ))
    }
}

/// How a linked container's `securityContext` is set: what `deploy-user` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Security {
    /// `template:line (container `name`)`.
    pub who: String,
    /// The values subtree placed whole as the container's `securityContext`.
    pub whole: Option<ValuesPath>,
    /// Keys the template sets one by one: the key, the values path when it reads one.
    pub keys: Vec<(String, Option<ValuesPath>)>,
    /// The values subtree placed whole as the pod's `securityContext`.
    pub pod_whole: Option<ValuesPath>,
    /// Keys the template sets one by one in the pod's `securityContext`.
    pub pod_keys: Vec<(String, Option<ValuesPath>)>,
    /// Where findings point in values.yaml: the path of the image's repository.
    pub image: Option<ValuesPath>,
    /// The pod's volumes: `None` for a writable one the template writes, else the values
    /// placed as its `volumes`.
    pub volumes: Vec<Option<ValuesPath>>,
}

impl Chart {
    /// The security context of a container as the templates map it.
    pub fn security(&self, index: usize) -> Security {
        let container = &self.containers[index];
        let mut security = Security {
            who: format!(
                "{} (container `{}`)",
                self.shown(container.template, container.line),
                container.name
            ),
            whole: None,
            keys: Vec::new(),
            pod_whole: None,
            pod_keys: Vec::new(),
            image: None,
            volumes: container
                .pod
                .iter()
                .filter(|f| f.at.first().is_some_and(|k| k == "volumes"))
                .map(|f| match &f.value {
                    Value::Whole(path) => Some(path.clone()),
                    _ => None,
                })
                .collect(),
        };
        let read = |fields: &[Field],
                    whole: &mut Option<ValuesPath>,
                    keys: &mut Vec<(String, Option<ValuesPath>)>| {
            for field in fields {
                match (field.at.as_slice(), &field.value) {
                    ([sc], Value::Whole(path)) if sc == "securityContext" => {
                        *whole = Some(path.clone())
                    }
                    ([sc, key], value) if sc == "securityContext" => keys.push((
                        key.clone(),
                        match value {
                            Value::Values(path) => Some(path.clone()),
                            _ => None,
                        },
                    )),
                    _ => {}
                }
            }
        };
        read(&container.fields, &mut security.whole, &mut security.keys);
        read(
            &container.pod,
            &mut security.pod_whole,
            &mut security.pod_keys,
        );
        security.image = container
            .fields
            .iter()
            .filter(|f| f.at == ["image"])
            .flat_map(|f| match &f.value {
                Value::Values(path) => vec![path.clone()],
                _ => Vec::new(),
            })
            .next()
            .or_else(|| {
                let action = actions(&container.image).into_iter().next()?;
                values_paths(action).into_iter().next()
            });
        security
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{apply_fixes, Applicability, Fix};
    use crate::yaml::parse;

    const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.fullname" . }}
spec:
  template:
    spec:
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: {{ .Chart.Name }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          ports:
            - name: http
              containerPort: {{ .Values.service.targetPort }}
          env:
            - name: PORT
              value: {{ .Values.service.targetPort | quote }}
          livenessProbe:
            {{- toYaml .Values.livenessProbe | nindent 12 }}
"#;

    const SERVICE: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
    - port: {{ .Values.service.port }}
      targetPort: {{ .Values.service.targetPort }}
"#;

    const VALUES: &str = "image:\n  repository: ghcr.io/acme/web\n  tag: \"\"\nservice:\n  port: 80 # published\n  targetPort: 80\nlivenessProbe:\n  httpGet:\n    path: /\n    port: http\nsecurityContext: {}\npodSecurityContext: {}\n";

    fn chart(templates: &[(&str, &str)]) -> Chart {
        let owned: Vec<(String, &str)> = templates
            .iter()
            .map(|(name, text)| (name.to_string(), *text))
            .collect();
        Chart::read(&owned)
    }

    #[test]
    fn reads_containers_fields_and_images() {
        let chart = chart(&[
            ("t/deployment.yaml", DEPLOYMENT),
            ("t/service.yaml", SERVICE),
        ]);
        assert_eq!(chart.containers.len(), 1);
        let container = &chart.containers[0];
        let values = &parse(VALUES).unwrap().documents[0];
        assert_eq!(
            chart.images(values),
            vec![Some("ghcr.io/acme/web".to_string())]
        );
        let port = container
            .fields
            .iter()
            .find(|f| f.at == ["ports", "-", "containerPort"])
            .unwrap();
        assert_eq!(
            port.value,
            Value::Values(vec!["service".into(), "targetPort".into()])
        );
        assert_eq!(port.line, 17);
        let security = chart.security(0);
        assert_eq!(security.whole, Some(vec!["securityContext".to_string()]));
        assert_eq!(
            security.pod_whole,
            Some(vec!["podSecurityContext".to_string()])
        );
        assert_eq!(chart.service_ports.len(), 1);
    }

    #[test]
    fn the_container_side_moves_and_the_published_side_stays() {
        let chart = chart(&[
            ("t/deployment.yaml", DEPLOYMENT),
            ("t/service.yaml", SERVICE),
        ]);
        let values = &parse(VALUES).unwrap().documents[0];
        let (refs, templates) = port_references(VALUES, values, &chart, &[0], 80, 8080);
        assert!(templates.is_empty(), "{templates:?}");
        assert_eq!(refs.len(), 1, "{refs:?}");
        let Reference::Edit { edit, line, .. } = &refs[0] else {
            panic!("{refs:?}")
        };
        assert_eq!(*line, 6);
        let fix = Fix::new("t", Applicability::Safe, vec![edit.clone()]);
        let out = apply_fixes(VALUES, &[&fix], Applicability::Safe).text;
        assert_eq!(out, VALUES.replace("targetPort: 80", "targetPort: 8080"));
    }

    #[test]
    fn a_value_that_feeds_the_service_port_too_needs_a_person() {
        let deployment = DEPLOYMENT.replace(".Values.service.targetPort", ".Values.service.port");
        let service = "apiVersion: v1\nkind: Service\nspec:\n  ports:\n    - port: {{ .Values.service.port }}\n      targetPort: http\n";
        let chart = chart(&[("t/d.yaml", &deployment), ("t/s.yaml", service)]);
        let values = &parse(VALUES).unwrap().documents[0];
        let (refs, templates) = port_references(VALUES, values, &chart, &[0], 80, 8080);
        assert!(
            matches!(&refs[..], [Reference::Person { line: 5, why }] if why.contains("t/s.yaml:5")),
            "{refs:?}"
        );
        assert!(
            templates
                .iter()
                .any(|(_, r)| matches!(r, Reference::Follows { line: 6, .. })),
            "{templates:?}"
        );
    }

    #[test]
    fn hard_coded_and_hidden_ports_need_a_person() {
        let deployment = "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: {{ .Values.image.repository }}\n          ports:\n            - containerPort: 80\n          readinessProbe:\n            httpGet:\n              port: {{ .Values.probePort | default 80 }}\n";
        let service = "kind: Service\nspec:\n  ports:\n    - port: 80\n";
        let chart = chart(&[("t/d.yaml", deployment), ("t/s.yaml", service)]);
        let values = &parse(VALUES).unwrap().documents[0];
        let (refs, templates) = port_references(VALUES, values, &chart, &[0], 80, 8080);
        assert!(refs.is_empty(), "{refs:?}");
        let lines: Vec<(usize, usize)> = templates.iter().map(|(t, r)| (*t, r.line())).collect();
        assert_eq!(lines, vec![(0, 9), (0, 12), (1, 4)]);
    }

    #[test]
    fn helpers_are_read_where_they_are_included() {
        let helpers = Helpers::read(&[r#"{{/* The ports. */}}
{{- define "web.ports" -}}
{{- if true }}
- name: http
  containerPort: {{ .Values.containerPort }}
{{- end }}
{{- end }}
{{- define "web.port" -}}
{{ .Values.containerPort }}
{{- end }}
"#]);
        let deployment = "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: {{ .Values.image.repository }}\n          ports:\n            {{- include \"web.ports\" . | nindent 12 }}\n          readinessProbe:\n            tcpSocket:\n              port: {{ include \"web.port\" . }}\n          livenessProbe:\n            {{- include \"other.probe\" . | nindent 12 }}\n";
        let chart = Chart::read_with_helpers(&[("t/d.yaml".to_string(), deployment)], &helpers);
        let fields: Vec<(usize, Vec<String>, Value)> = chart.containers[0]
            .fields
            .iter()
            .map(|f| (f.line, f.at.clone(), f.value.clone()))
            .collect();
        let path = || Value::Values(vec!["containerPort".to_string()]);
        let at = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        // The helper's lines have the number of the line that includes them.
        assert!(
            fields.contains(&(9, at(&["ports", "-", "containerPort"]), path())),
            "{fields:?}"
        );
        assert!(
            fields.contains(&(12, at(&["readinessProbe", "tcpSocket", "port"]), path())),
            "{fields:?}"
        );
        assert!(
            fields.contains(&(
                14,
                at(&["livenessProbe"]),
                Value::Helper("other.probe".to_string())
            )),
            "{fields:?}"
        );
        let source = "image:\n  repository: node\ncontainerPort: 80\n";
        let values = &parse(source).unwrap().documents[0];
        let (refs, templates) = port_references(source, values, &chart, &[0], 80, 8080);
        assert!(
            matches!(&refs[..], [Reference::Edit { line: 3, .. }]),
            "{refs:?}"
        );
        assert!(
            matches!(&templates[..], [(0, Reference::Person { line: 14, why })] if why.contains("`other.probe`")),
            "{templates:?}"
        );
    }

    #[test]
    fn with_blocks_and_comments() {
        let deployment = "kind: Deployment\nspec:\n  template:\n    spec:\n      {{/*\n      containers: commented out\n      */}}\n      containers:\n        - name: web\n          image: {{ .Values.image.repository }}\n          {{- with .Values.ports }}\n          ports:\n            {{- toYaml . | nindent 12 }}\n          {{- end }}\n";
        let chart = chart(&[("t/d.yaml", deployment)]);
        assert_eq!(chart.containers.len(), 1);
        assert_eq!(chart.others[0].path, vec!["ports".to_string()]);
        let values = &parse("image:\n  repository: node\nports:\n  - containerPort: 80\n")
            .unwrap()
            .documents[0];
        assert_eq!(chart.images(values), vec![Some("node".to_string())]);
        let source = "image:\n  repository: node\nports:\n  - containerPort: 80\n";
        let (refs, _) = port_references(source, values, &chart, &[0], 80, 8080);
        assert!(
            matches!(&refs[..], [Reference::Person { line: 4, .. }]),
            "{refs:?}"
        );
    }
}
