use std::collections::HashSet;

use super::helpers::{chain_instructions, is_node_stage, run_text};
use super::{declare_rule, Context, Finding, Prose};
use crate::analysis::{unquote, vars, Analysis, BaseImage, Stage};
use crate::edit::{Applicability, Edit, Fix};
use crate::syntax::{parse, Dockerfile, Instruction, Keyword, PieceKind, Span, Token};

declare_rule! {
    /// ## What it does
    /// Checks that the image built by the file's final stage does not `EXPOSE` a privileged
    /// port (below 1024): `80`, `443/tcp`, `53/udp`, a range that starts below 1024, or
    /// `${PORT}` whose ARG/ENV value is below 1024. EXPOSEs of the stages the final stage
    /// is built `FROM` count too: the image inherits them. Port 0 is not a finding.
    ///
    /// Only Node images are checked (as for `root-user`: a Node base, a stage that installs
    /// Node, or a CMD/ENTRYPOINT that starts `node`, `npm`, `yarn`…), unless `--all-images`
    /// is given. Windows images are never checked.
    ///
    /// ## Why is this bad?
    /// A process that does not run as root may not be able to listen on the port. Docker
    /// Engine ≥ 20.10 sets `net.ipv4.ip_unprivileged_port_start=0` in a container's own
    /// network namespace, so non-root can bind port 80 there (not with `--net=host`).
    /// Kubernetes does not by default: containerd < 2.0 and CRI-O leave the sysctl at 1024
    /// (pods may set it, a "safe" sysctl since Kubernetes 1.22), and OpenShift never lets
    /// its arbitrary-uid processes listen below 1024. The image works under `docker run`
    /// and fails in the cluster. `setcap cap_net_bind_service` on the `node` binary makes
    /// Node ignore `NODE_OPTIONS`, `NODE_EXTRA_CA_CERTS` and `NODE_PATH`; the portable fix is
    /// to listen on a port of 1024 or above and map it at run time.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:26-alpine
    /// WORKDIR /app
    /// COPY . .
    /// USER node
    /// ENV PORT=80
    /// EXPOSE 80
    /// CMD ["node", "server.js"]
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM node:26-alpine
    /// WORKDIR /app
    /// COPY . .
    /// USER node
    /// ENV PORT=8080
    /// EXPOSE 8080
    /// CMD ["node", "server.js"]
    /// ```
    /// and publish it as before: `docker run -p 80:8080`, or a Kubernetes Service with
    /// `port: 80` and `targetPort: 8080`.
    ///
    /// ## How it fixes
    /// - The new port: the `--port-map` entry for the port if there is one; else 80 → 8080,
    ///   443 → 8443, any other port p → p + 8000, or the next port above it that the file
    ///   does not already use (exposed anywhere, the value of a port variable, a port in a
    ///   HEALTHCHECK, CMD or ENTRYPOINT). A port variable is one whose name has the word
    ///   `PORT` in it (`PORT`, `HTTP_PORT`, `port`, `serverPort`; not `EXPORT`).
    /// - The same port is changed wherever the final stage (and the stages it is built
    ///   `FROM`) states it: EXPOSE entries (keeping `/tcp`, `/udp`); ARG/ENV values that are
    ///   exactly that port, when it is a port variable or an EXPOSE of the port reads it
    ///   (`EXPOSE ${PORT}` changes the variable's definition, not the EXPOSE); HEALTHCHECK
    ///   URLs (`localhost:80`, `127.0.0.1:80`, `0.0.0.0:80`, `[::1]:80`, and
    ///   `http://localhost/…`, which means port 80, or `https://…` for 443, gets `:8080`);
    ///   CMD/ENTRYPOINT arguments `--port 80`, `--port=80`, `-p 80` and `PORT=80`, in shell
    ///   and JSON form. RUN instructions are never changed.
    /// - If the file sets no `PORT` variable (no ENV or ARG named `PORT` in the final stage
    ///   or the stages it is built from) and the image is a Node image that exposes this
    ///   one port only, the fix adds `ENV PORT=8080` on its own line just before the EXPOSE
    ///   (above the comments attached to it), in the file's keyword case and line endings:
    ///   most Node frameworks and platforms read `PORT`. With several exposed ports unroot
    ///   cannot tell which one `PORT` would mean, so it adds none (and so never two);
    ///   images that are not Node (checked with `--all-images`, e.g. nginx) do not read it.
    /// - A range (`EXPOSE 80-90`) is shifted as a whole (`8080-8090`) when every port of
    ///   the new range is free; otherwise it is reported without a fix.
    ///
    /// ## Options
    /// - `--port-map 80:3000,443:3443`: where each privileged port moves (instead of the
    ///   defaults above); targets must be 1024 or above.
    /// - `--unsafe-fixes`: apply the fix when it is unsafe (see below).
    /// - `--all-images`: check final stages that are not Node images too.
    ///
    /// ## Fix safety
    /// Unsafe in general: the application must also listen on the new port, which is a
    /// change outside the Dockerfile (its code, its configuration, or how it is started).
    /// Safe when the file itself tells the application its port and the fix changes that
    /// too: an existing `ENV PORT` (or another port variable set by ENV, or an ENV that a
    /// CMD/ENTRYPOINT reads), an ARG such as `ARG PORT` whose value reaches the image through
    /// an ENV or a RUN (an ARG alone is gone when the container runs), or a CMD/ENTRYPOINT
    /// argument (`--port 80`, `PORT=80`). An `ENV PORT` that the fix adds does not make it
    /// safe: nothing says the application reads it. Either way, whoever runs the image must
    /// publish the new port: `docker run -p 80:8080`, a Kubernetes Service
    /// `targetPort: 8080`, compose `ports: ["80:8080"]`.
    ///
    /// ## References
    /// - Docker: <https://docs.docker.com/reference/dockerfile/#expose>
    /// - Unprivileged ports in Docker ≥ 20.10: <https://github.com/moby/moby/pull/41030>
    /// - Kubernetes sysctls (`net.ipv4.ip_unprivileged_port_start` is a safe sysctl):
    ///   <https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/>
    /// - OpenShift image guidelines (arbitrary user ids, no ports below 1024):
    ///   <https://docs.openshift.com/container-platform/latest/openshift_images/create-images.html>
    pub(crate) const PRIVILEGED_PORT = Rule {
        name: "privileged-port",
        summary: "the image exposes a port below 1024",
        check: privileged_port,
        options: &["--port-map", "--all-images"],
        prose: Prose {
            subject: Some("listen on unprivileged ports"),
            why: Some(
                "**Unprivileged ports.** A non-root process cannot bind a port below 1024 under \
                 Kubernetes with CRI-O or containerd before 2.0, nor on OpenShift, so the image \
                 now uses a port above 1024.",
            ),
            checks: &[
                "**The new port mapping.** The container now listens on an unprivileged port: \
                 publish it wherever the image runs, e.g. `docker run -p 80:8080`, a Kubernetes \
                 Service `targetPort: 8080`, compose `ports: [\"80:8080\"]`, and update health \
                 checks and load balancers that call the old port.",
            ],
            rank: 30,
            checks_rank: 20,
        },
    };
}

/// What every finding's help says.
const FACTS: &str = "Docker ≥ 20.10 lets non-root processes bind ports below 1024 inside a container, but Kubernetes with CRI-O or containerd < 2.0 does not, and OpenShift never does";

/// Hosts whose port in a HEALTHCHECK URL is the container's own.
const LOCAL_HOSTS: &[&str] = &["localhost", "127.0.0.1", "0.0.0.0", "[::1]"];

/// What an EXPOSE entry names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Port(u16),
    /// `low-high`, inclusive.
    Range(u16, u16),
}

impl Key {
    fn privileged(self) -> bool {
        match self {
            Key::Port(port) => (1..1024).contains(&port),
            Key::Range(low, high) => low < 1024 && high >= low && high >= 1,
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Port(port) => write!(f, "{port}"),
            Key::Range(low, high) => write!(f, "{low}-{high}"),
        }
    }
}

/// One EXPOSE entry of the final stage's chain, resolved.
#[derive(Clone, Debug)]
struct Mention {
    instruction: usize,
    token: Token,
    /// The entry as written has no variable in it.
    literal: bool,
    keys: Vec<Key>,
}

pub(crate) fn privileged_port(cx: &Context) -> Vec<Finding> {
    let Some(stage) = cx.analysis.final_stage() else {
        return Vec::new();
    };
    let node = is_node_stage(cx, stage);
    if stage.base == BaseImage::Windows || (!cx.options.all_images && !node) {
        return Vec::new();
    }
    let mentions = exposed(cx.file, cx.analysis, stage);
    let mut keys: Vec<Key> = Vec::new();
    for key in mentions.iter().flat_map(|m| &m.keys) {
        if !keys.contains(key) {
            keys.push(*key);
        }
    }
    // The image exposes one port (`80`, or `80/tcp` and `80/udp`), not a range.
    let single_port = matches!(keys.as_slice(), [Key::Port(_)]);
    let mut used = Used::of(cx.file, cx.analysis);
    // Explicit `--port-map` targets are reserved first, so defaults never take them.
    for key in &keys {
        if let Key::Port(port) = key {
            if let Some(target) = mapped(cx, *port) {
                used.reserve(target, target);
            }
        }
    }
    keys.into_iter()
        .filter(|key| key.privileged())
        .filter_map(|key| {
            let first = mentions.iter().find(|m| m.keys.contains(&key))?;
            Some(finding(
                cx,
                stage,
                &mentions,
                first,
                key,
                // `ENV PORT` only means something to a Node app, and only with one port.
                node && single_port,
                &mut used,
            ))
        })
        .collect()
}

/// The `--port-map` target of `port`, if any (privileged targets are ignored: the fix
/// would never converge).
fn mapped(cx: &Context, port: u16) -> Option<u16> {
    cx.options
        .port_map
        .iter()
        .find(|(from, to)| *from == port && *to >= 1024)
        .map(|(_, to)| *to)
}

fn default_target(port: u16) -> u16 {
    match port {
        80 => 8080,
        443 => 8443,
        _ => port.saturating_add(8000),
    }
}

/// Every EXPOSE entry of the final stage and the stages it is built from, in file order.
fn exposed(file: &Dockerfile, analysis: &Analysis, stage: &Stage) -> Vec<Mention> {
    let mut mentions = Vec::new();
    for ancestor in analysis.chain(stage) {
        for index in ancestor.from + 1..ancestor.end {
            let instruction = &file.instructions[index];
            if instruction.kind != Keyword::Expose {
                continue;
            }
            let variables = analysis.variables(file, ancestor, index);
            for token in instruction.expose_ports() {
                let Some(resolved) = vars::substitute(&unquote(&token.value), &variables) else {
                    continue;
                };
                let keys: Vec<Key> = resolved.split_whitespace().filter_map(parse_key).collect();
                if keys.is_empty() {
                    continue;
                }
                mentions.push(Mention {
                    instruction: index,
                    token: token.clone(),
                    literal: !token.value.contains('$'),
                    keys,
                });
            }
        }
    }
    mentions
}

/// `80`, `80/tcp`, `8000-8010/udp`.
fn parse_key(entry: &str) -> Option<Key> {
    let spec = entry.split_once('/').map_or(entry, |(spec, _)| spec);
    match spec.split_once('-') {
        Some((low, high)) => Some(Key::Range(low.parse().ok()?, high.parse().ok()?)),
        None => Some(Key::Port(spec.parse().ok()?)),
    }
}

/// Ports the file already uses, so a new port is never one of them.
struct Used {
    ranges: Vec<(u16, u16)>,
}

impl Used {
    fn of(file: &Dockerfile, analysis: &Analysis) -> Used {
        let mut used = Used { ranges: Vec::new() };
        for stage in &analysis.stages {
            for index in stage.from + 1..stage.end {
                let instruction = &file.instructions[index];
                if instruction.kind != Keyword::Expose {
                    continue;
                }
                let variables = analysis.variables(file, stage, index);
                for token in instruction.expose_ports() {
                    let text = unquote(&token.value);
                    let resolved = vars::substitute(&text, &variables).unwrap_or(text);
                    for key in resolved.split_whitespace().filter_map(parse_key) {
                        match key {
                            Key::Port(p) => used.reserve(p, p),
                            Key::Range(low, high) => used.reserve(low, high),
                        }
                    }
                }
            }
        }
        for instruction in &file.instructions {
            match instruction.kind {
                Keyword::Env | Keyword::Arg => {
                    for pair in &instruction.pairs {
                        let port = pair
                            .value
                            .as_ref()
                            .and_then(|v| unquote(&v.value).parse().ok());
                        if let (true, Some(port)) = (is_port_name(&pair.key.value), port) {
                            used.reserve(port, port);
                        }
                    }
                }
                Keyword::Healthcheck => {
                    for token in command_tokens(instruction) {
                        for url in url_ports(&file.source, token.span) {
                            used.reserve(url.port, url.port);
                        }
                    }
                }
                Keyword::Cmd | Keyword::Entrypoint => {
                    for (_, port) in argument_ports(&file.source, command_tokens(instruction)) {
                        used.reserve(port, port);
                    }
                }
                _ => {}
            }
        }
        used
    }

    fn reserve(&mut self, low: u16, high: u16) {
        self.ranges.push((low, high));
    }

    fn free(&self, low: u16, high: u16) -> bool {
        !self.ranges.iter().any(|&(a, b)| a <= high && low <= b)
    }

    /// `wanted`, or the next port above it that is free.
    fn next_free(&self, wanted: u16) -> Option<u16> {
        (wanted..=u16::MAX).find(|&port| self.free(port, port))
    }
}

/// A variable name that says it holds a port: a word `PORT` (`PORT`, `HTTP_PORT`,
/// `port`, `PORT_HTTPS`) or a camel-case `…Port` (`serverPort`); not `EXPORT` or `REPORT_DIR`.
fn is_port_name(name: &str) -> bool {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| {
            word.eq_ignore_ascii_case("port")
                || word.eq_ignore_ascii_case("ports")
                || word
                    .match_indices("Port")
                    .any(|(i, _)| word[..i].ends_with(|c: char| c.is_ascii_lowercase()))
        })
}

/// The words of a CMD/ENTRYPOINT/HEALTHCHECK command (HEALTHCHECK's `CMD` type excluded).
fn command_tokens(instruction: &Instruction) -> &[Token] {
    let skip = usize::from(instruction.kind == Keyword::Healthcheck);
    if instruction.json {
        instruction.args.get(skip..).unwrap_or(&[])
    } else if instruction.kind == Keyword::Healthcheck
        && !instruction
            .args
            .first()
            .is_some_and(|t| t.value.eq_ignore_ascii_case("cmd"))
    {
        &[]
    } else {
        &instruction.shell_words
    }
}

fn finding(
    cx: &Context,
    stage: &Stage,
    mentions: &[Mention],
    first: &Mention,
    key: Key,
    env_port: bool,
    used: &mut Used,
) -> Finding {
    let plan = match key {
        Key::Port(port) => plan_port(cx, stage, mentions, port, env_port, used),
        Key::Range(low, high) => plan_range(cx, mentions, low, high, used),
    };
    let plan = plan.and_then(|plan| verify(cx, key, plan));
    let (message, help, fix) = match plan {
        Ok(plan) => {
            let new = &plan.target;
            let message = match key {
                Key::Port(port) => format!(
                    "privileged port `{port}` exposed: the app must listen on `{new}` instead; run it with `docker run -p {port}:{new}` or a Kubernetes Service `targetPort: {new}`"
                ),
                Key::Range(..) => format!(
                    "privileged ports `{key}` exposed: the app must listen on `{new}` instead; run it with `docker run -p {key}:{new}` or Kubernetes Service `targetPort`s in that range"
                ),
            };
            let mut help = FACTS.to_string();
            if let Some(note) = &plan.note {
                help.push_str("; ");
                help.push_str(note);
            }
            (message, help, Some(plan.fix))
        }
        Err(reason) => {
            let message = match key {
                Key::Port(port) => format!(
                    "privileged port `{port}` exposed: the app must listen on a port of 1024 or above; run it with `docker run -p {port}:<new port>` or a Kubernetes Service `targetPort`"
                ),
                Key::Range(..) => format!(
                    "privileged ports `{key}` exposed: the app must listen on ports of 1024 or above; map them with `docker run -p` or a Kubernetes Service `targetPort`"
                ),
            };
            (message, format!("{FACTS}; {reason}"), None)
        }
    };
    Finding {
        rule: PRIVILEGED_PORT.name,
        span: first.token.span,
        instruction: first.instruction,
        message,
        help: Some(help),
        fix,
    }
}

/// A planned fix with the new port (as written) and an optional note for the help.
struct Plan {
    target: String,
    note: Option<String>,
    fix: Fix,
}

fn plan_port(
    cx: &Context,
    stage: &Stage,
    mentions: &[Mention],
    port: u16,
    env_port: bool,
    used: &mut Used,
) -> Result<Plan, String> {
    let file = cx.file;
    let source = &file.source;
    let target = match mapped(cx, port) {
        Some(target) => target,
        None => used
            .next_free(default_target(port))
            .ok_or_else(|| "no free port above it for the fix".to_string())?,
    };
    used.reserve(target, target);
    let (old, new) = (port.to_string(), target.to_string());
    let mine: Vec<&Mention> = mentions
        .iter()
        .filter(|m| m.keys.contains(&Key::Port(port)))
        .collect();

    let mut edits: Vec<Edit> = Vec::new();
    // Variables an EXPOSE of the port reads.
    let mut referenced: HashSet<String> = HashSet::new();
    for mention in &mine {
        let text = mention.token.span.text(source);
        if mention.literal {
            if let Some(span) = number_in(text, mention.token.span.start, &old, &['/', '"', '\'']) {
                edits.push(Edit::replace(span, new.clone()));
            }
        } else {
            referenced.extend(variable_names(text));
            edits.extend(
                default_values(text, mention.token.span.start, &old)
                    .into_iter()
                    .map(|span| Edit::replace(span, new.clone())),
            );
        }
    }

    // ARG/ENV definitions in the chain, and global ARGs a chain stage declares.
    let chain = cx.analysis.chain(stage);
    let first_from = cx.analysis.stages.first().map_or(0, |s| s.from);
    let declared: HashSet<&str> = chain
        .iter()
        .flat_map(|s| &file.instructions[s.from + 1..s.end])
        .filter(|i| i.kind == Keyword::Arg)
        .flat_map(|i| &i.pairs)
        .filter(|p| p.value.is_none())
        .map(|p| p.key.value.as_str())
        .collect();
    let globals = file.instructions[..first_from]
        .iter()
        .filter(|i| i.kind == Keyword::Arg)
        .flat_map(|i| i.pairs.iter().map(move |p| (i, p)))
        .filter(|(_, p)| declared.contains(p.key.value.as_str()));
    let chain_pairs = chain_instructions(cx, stage)
        .filter(|i| matches!(i.kind, Keyword::Env | Keyword::Arg))
        .flat_map(|i| i.pairs.iter().map(move |p| (i, p)));
    let pairs: Vec<_> = globals.chain(chain_pairs).collect();
    // Follow `ENV PORT=$HTTP_PORT` to `ARG HTTP_PORT=80`.
    for _ in 0..8 {
        let before = referenced.len();
        for (_, pair) in &pairs {
            if referenced.contains(&pair.key.value) {
                if let Some(value) = &pair.value {
                    referenced.extend(variable_names(&value.value));
                }
            }
        }
        if referenced.len() == before {
            break;
        }
    }
    let mut wired = false;
    for (instruction, pair) in &pairs {
        let Some(value) = &pair.value else { continue };
        let name = &pair.key.value;
        if unquote(&value.value) != old || !(is_port_name(name) || referenced.contains(name)) {
            continue;
        }
        let Some(span) = number_in(
            value.span.text(source),
            value.span.start,
            &old,
            &['"', '\''],
        ) else {
            continue;
        };
        edits.push(Edit::replace(span, new.clone()));
        wired |= match instruction.kind {
            Keyword::Env => is_port_name(name) || read_by_command(cx, stage, name),
            _ => reaches_image(cx, stage, name),
        };
    }

    // HEALTHCHECK URLs, CMD/ENTRYPOINT arguments.
    for instruction in chain_instructions(cx, stage) {
        match instruction.kind {
            Keyword::Healthcheck => {
                for token in command_tokens(instruction) {
                    for url in url_ports(source, token.span) {
                        if url.port != port {
                            continue;
                        }
                        edits.push(if url.implied {
                            Edit::insert(url.span.start, format!(":{new}"))
                        } else {
                            Edit::replace(url.span, new.clone())
                        });
                    }
                }
            }
            Keyword::Cmd | Keyword::Entrypoint => {
                for (span, found) in argument_ports(source, command_tokens(instruction)) {
                    if found == port {
                        edits.push(Edit::replace(span, new.clone()));
                        wired = true;
                    }
                }
            }
            _ => {}
        }
    }
    edits.sort();
    edits.dedup();

    // `ENV PORT=<new>` when nothing in the chain sets PORT and this is the only port of a
    // Node image.
    let sets_port = pairs.iter().any(|(_, pair)| pair.key.value == "PORT");
    let mut note = None;
    let mut title = format!("move port `{port}` to `{new}`");
    if !sets_port && env_port {
        if let Some(first) = mine.first() {
            let env = format!("{} PORT={new}", cx.style.keyword("ENV"));
            edits = insert_env_before(cx, first.instruction, &env, edits);
            title.push_str(&format!(" and set `ENV PORT={new}`"));
            note = Some(format!(
                "the fix sets `ENV PORT={new}`, which most Node frameworks read; check that the app does"
            ));
        }
    }
    // Safe only when the file itself tells the app its port (`## Fix safety`).
    let applicability = if wired {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    };
    Ok(Plan {
        target: new,
        note,
        fix: Fix::new(title, applicability, edits),
    })
}

/// Inserts `line` on its own line above the EXPOSE `expose` (and the comments attached to
/// it). The insertion is merged with the edits inside that EXPOSE into one replacement, so
/// that it never meets another rule's insertion at the same point (e.g. `USER node` added
/// right after the last build step, which is where the EXPOSE starts).
fn insert_env_before(cx: &Context, expose: usize, line: &str, edits: Vec<Edit>) -> Vec<Edit> {
    let file = cx.file;
    let instruction = &file.instructions[expose];
    let mut at = instruction.span.start;
    if let Some(piece) = file
        .pieces
        .iter()
        .position(|p| p.kind == PieceKind::Instruction(expose))
    {
        let mut first = piece;
        while first > 0 && file.pieces[first - 1].kind == PieceKind::Comment {
            first -= 1;
        }
        at = file.pieces[first].span.start;
    }
    let indent: String = file.source[instruction.span.start..instruction.keyword.span.start]
        .chars()
        .filter(|c| *c == ' ' || *c == '\t')
        .collect();
    let eol = cx.style.line_ending_after(file, instruction);
    let (inside, mut rest): (Vec<Edit>, Vec<Edit>) = edits
        .into_iter()
        .partition(|e| instruction.span.contains(e.span) && e.span.start >= at);
    let end = inside
        .iter()
        .map(|e| e.span.end)
        .max()
        .unwrap_or(instruction.keyword.span.end)
        .max(instruction.keyword.span.end);
    let mut content = format!("{indent}{line}{eol}");
    let mut cursor = at;
    for edit in &inside {
        content.push_str(&file.source[cursor..edit.span.start]);
        content.push_str(&edit.content);
        cursor = edit.span.end;
    }
    content.push_str(&file.source[cursor..end]);
    rest.push(Edit::replace(Span::new(at, end), content));
    rest
}

fn plan_range(
    cx: &Context,
    mentions: &[Mention],
    low: u16,
    high: u16,
    used: &mut Used,
) -> Result<Plan, String> {
    let source = &cx.file.source;
    let key = Key::Range(low, high);
    let mine: Vec<&Mention> = mentions.iter().filter(|m| m.keys.contains(&key)).collect();
    if mine.iter().any(|m| !m.literal) {
        return Err("the range is set through a variable: change it by hand".to_string());
    }
    let new_low = mapped(cx, low).unwrap_or_else(|| default_target(low));
    let offset = new_low
        .checked_sub(low)
        .ok_or("the range cannot be shifted up")?;
    let new_high = high
        .checked_add(offset)
        .ok_or("the shifted range would end above 65535")?;
    let remapped_inside = cx
        .options
        .port_map
        .iter()
        .any(|&(from, to)| from > low && from <= high && to != from + offset);
    if remapped_inside || !used.free(new_low, new_high) {
        return Err(format!(
            "ports {new_low}-{new_high} are not all free or not what `--port-map` asks: choose the new range by hand"
        ));
    }
    used.reserve(new_low, new_high);
    let (old, new) = (format!("{low}-{high}"), format!("{new_low}-{new_high}"));
    let mut edits = Vec::new();
    for mention in mine {
        let span = number_in(
            mention.token.span.text(source),
            mention.token.span.start,
            &old,
            &['/', '"', '\''],
        )
        .ok_or("an EXPOSE of the range is not written plainly: change it by hand")?;
        edits.push(Edit::replace(span, new.clone()));
    }
    Ok(Plan {
        target: new.clone(),
        note: None,
        // Unsafe: the app must listen on the new ports (`## Fix safety`).
        fix: Fix::new(
            format!("move ports `{old}` to `{new}`"),
            Applicability::Unsafe,
            edits,
        ),
    })
}

/// Applies the plan to the text and checks that the port is no longer exposed (and the
/// text still parses); a fix that would not converge is no fix.
fn verify(cx: &Context, key: Key, plan: Plan) -> Result<Plan, String> {
    let source = &cx.file.source;
    let mut text = String::with_capacity(source.len() + 64);
    let mut cursor = 0;
    for edit in &plan.fix.edits {
        if edit.span.start < cursor {
            return Err("the places that state the port overlap: change it by hand".to_string());
        }
        text.push_str(&source[cursor..edit.span.start]);
        text.push_str(&edit.content);
        cursor = edit.span.end;
    }
    text.push_str(&source[cursor..]);
    let still = parse(&text).ok().is_none_or(|file| {
        let analysis = Analysis::of(&file);
        analysis.final_stage().is_none_or(|stage| {
            exposed(&file, &analysis, stage)
                .iter()
                .any(|m| m.keys.contains(&key))
        })
    });
    if still {
        Err("unroot could not find every place that sets the port: change it by hand".to_string())
    } else {
        Ok(plan)
    }
}

/// An ARG's value reaches the image: an ENV or a RUN of the chain reads it.
fn reaches_image(cx: &Context, stage: &Stage, name: &str) -> bool {
    chain_instructions(cx, stage).any(|i| match i.kind {
        Keyword::Env => i.pairs.iter().any(|p| {
            p.value
                .as_ref()
                .is_some_and(|v| variable_names(&v.value).iter().any(|n| n == name))
        }),
        Keyword::Run => variable_names(&run_text(i)).iter().any(|n| n == name),
        _ => false,
    })
}

/// A CMD/ENTRYPOINT of the chain reads the variable.
fn read_by_command(cx: &Context, stage: &Stage, name: &str) -> bool {
    chain_instructions(cx, stage)
        .filter(|i| matches!(i.kind, Keyword::Cmd | Keyword::Entrypoint))
        .any(|i| {
            command_tokens(i)
                .iter()
                .any(|t| variable_names(&t.value).iter().any(|n| n == name))
        })
}

/// The span of `number` in `text` (which starts at `offset`), when `text` is the number,
/// optionally in quotes, followed by nothing or one of `after`.
fn number_in(text: &str, offset: usize, number: &str, after: &[char]) -> Option<Span> {
    let start = usize::from(text.starts_with(['"', '\'']));
    let rest = text.get(start..)?.strip_prefix(number)?;
    let next = rest.chars().next();
    if next.is_some_and(|c| c.is_ascii_digit() || !after.contains(&c)) {
        return None;
    }
    Some(Span::new(offset + start, offset + start + number.len()))
}

/// `${NAME:-80}` / `${NAME-80}` defaults equal to `number` in `text`.
fn default_values(text: &str, offset: usize, number: &str) -> Vec<Span> {
    let needle = format!("-{number}}}");
    text.match_indices(&needle)
        .filter(|(i, _)| text[..*i].contains("${"))
        .map(|(i, _)| Span::new(offset + i + 1, offset + i + 1 + number.len()))
        .collect()
}

/// Names read as `$NAME` or `${NAME…}` in `text`.
fn variable_names(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let start = i + 1 + usize::from(bytes.get(i + 1) == Some(&b'{'));
            let len = bytes[start.min(bytes.len())..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if len > 0 {
                names.push(text[start..start + len].to_string());
            }
            i = start + len;
        } else {
            i += 1;
        }
    }
    names
}

/// A port in a URL to the container itself.
#[derive(Debug, PartialEq, Eq)]
struct UrlPort {
    port: u16,
    /// The digits, or (when `implied`) the empty span where `:port` goes.
    span: Span,
    /// `http://localhost/…` (80) or `https://localhost/…` (443) without a port.
    implied: bool,
}

/// Ports of `localhost:80`, `127.0.0.1:80`, `0.0.0.0:80`, `[::1]:80`, and the implied port
/// of `http://localhost/` and `https://localhost/`, in the raw text of `span`.
fn url_ports(source: &str, span: Span) -> Vec<UrlPort> {
    let text = span.text(source);
    let mut found = Vec::new();
    for host in LOCAL_HOSTS {
        for (at, _) in text.match_indices(host) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
                continue;
            }
            let end = at + host.len();
            let after = &text[end..];
            if let Some(rest) = after.strip_prefix(':') {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                if let Ok(port) = rest[..digits].parse::<u16>() {
                    let start = span.start + end + 1;
                    found.push(UrlPort {
                        port,
                        span: Span::new(start, start + digits),
                        implied: false,
                    });
                }
                continue;
            }
            let ends_host = after
                .chars()
                .next()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')));
            let scheme = text[..at].to_ascii_lowercase();
            let port = if scheme.ends_with("https://") {
                443
            } else if scheme.ends_with("http://") {
                80
            } else {
                continue;
            };
            if ends_host {
                found.push(UrlPort {
                    port,
                    span: Span::empty(span.start + end),
                    implied: true,
                });
            }
        }
    }
    found
}

/// Ports given to the app as `--port 80`, `--port=80`, `-p 80` or `PORT=80` in the words of
/// a command (also inside a quoted `sh -c "…"` string or a JSON element).
fn argument_ports(source: &str, tokens: &[Token]) -> Vec<(Span, u16)> {
    let mut words: Vec<(usize, &str)> = Vec::new();
    for token in tokens {
        let mut text = token.span.text(source);
        let mut offset = token.span.start;
        if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
            text = &text[1..text.len() - 1];
            offset += 1;
        }
        let mut start = None;
        for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    words.push(trim_quotes(offset + s, &text[s..i]));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    let plain = |at: usize, text: &str| -> Option<(Span, u16)> {
        let (at, text) = trim_quotes(at, text);
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some((Span::new(at, at + text.len()), text.parse().ok()?))
    };
    for (i, &(at, word)) in words.iter().enumerate() {
        if word == "--port" || word == "-p" {
            if let Some(&(next_at, next)) = words.get(i + 1) {
                found.extend(plain(next_at, next));
            }
            continue;
        }
        for prefix in ["--port=", "PORT="] {
            if let Some(value) = word.strip_prefix(prefix) {
                found.extend(plain(at + prefix.len(), value));
            }
        }
    }
    found
}

/// Drops quotes (and a trailing `;`) around a word, keeping its offset right.
fn trim_quotes(at: usize, text: &str) -> (usize, &str) {
    let trimmed = text.trim_start_matches(['"', '\'']);
    let at = at + (text.len() - trimmed.len());
    (at, trimmed.trim_end_matches(['"', '\'', ';']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::{lint, LintOptions};
    use crate::rules::{RuleOptions, RuleSelection};

    fn options(port_map: &[(u16, u16)]) -> LintOptions {
        LintOptions {
            rules: RuleOptions {
                port_map: port_map.to_vec(),
                ..RuleOptions::default()
            },
            selection: RuleSelection {
                select: vec!["privileged-port".to_string()],
                ignore: Vec::new(),
            },
        }
    }

    /// The fixed text (unsafe fixes applied); checks that a second run changes nothing.
    fn fixed_with(src: &str, port_map: &[(u16, u16)]) -> String {
        let options = options(port_map);
        let outcome = lint(src, &options, Applicability::Unsafe).unwrap();
        let again = lint(&outcome.fixed, &options, Applicability::Unsafe).unwrap();
        assert!(again.findings.is_empty(), "{:?}", again.findings);
        assert_eq!(again.fixed, outcome.fixed);
        outcome.fixed
    }

    fn fixed(src: &str) -> String {
        fixed_with(src, &[])
    }

    fn findings(src: &str) -> Vec<Finding> {
        lint(src, &options(&[]), Applicability::Unsafe)
            .unwrap()
            .findings
    }

    fn applicability(src: &str) -> Vec<Option<Applicability>> {
        findings(src)
            .iter()
            .map(|f| f.fix.as_ref().map(|fix| fix.applicability))
            .collect()
    }

    #[test]
    fn port_names() {
        for name in [
            "PORT",
            "port",
            "HTTP_PORT",
            "PORT_HTTPS",
            "serverPort",
            "APP-PORTS",
        ] {
            assert!(is_port_name(name), "{name}");
        }
        for name in [
            "EXPORT",
            "REPORT_DIR",
            "SUPPORT",
            "TRANSPORT",
            "Port2",
            "PORTAL",
        ] {
            assert!(!is_port_name(name), "{name}");
        }
    }

    #[test]
    fn parses_expose_entries() {
        assert_eq!(parse_key("80"), Some(Key::Port(80)));
        assert_eq!(parse_key("443/tcp"), Some(Key::Port(443)));
        assert_eq!(parse_key("53/udp"), Some(Key::Port(53)));
        assert_eq!(parse_key("8000-8010"), Some(Key::Range(8000, 8010)));
        assert_eq!(parse_key("x"), None);
        assert!(!Key::Port(0).privileged());
        assert!(!Key::Port(1024).privileged());
        assert!(Key::Port(1023).privileged());
        assert!(!Key::Range(8000, 8010).privileged());
        assert!(Key::Range(1000, 1100).privileged());
    }

    #[test]
    fn adds_env_port_just_before_the_expose() {
        assert_eq!(
            fixed("FROM node:22\nCOPY . .\nEXPOSE 80\nCMD [\"node\", \"server.js\"]\n"),
            "FROM node:22\nCOPY . .\nENV PORT=8080\nEXPOSE 8080\nCMD [\"node\", \"server.js\"]\n"
        );
        // Above the comments attached to the EXPOSE, keeping its indentation.
        assert_eq!(
            fixed("FROM node:22\n\n# the web port\n  EXPOSE 80/tcp\nCMD node x\n"),
            "FROM node:22\n\n  ENV PORT=8080\n# the web port\n  EXPOSE 8080/tcp\nCMD node x\n"
        );
        // Last line without a newline: the inserted line still ends with one.
        assert_eq!(
            fixed("FROM node:22\nCMD node x\nEXPOSE 80"),
            "FROM node:22\nCMD node x\nENV PORT=8080\nEXPOSE 8080"
        );
    }

    #[test]
    fn keeps_crlf_and_lowercase() {
        assert_eq!(
            fixed("from node:22\r\nexpose 443\r\ncmd node x\r\n"),
            "from node:22\r\nenv PORT=8443\r\nexpose 8443\r\ncmd node x\r\n"
        );
        // The line ending of the EXPOSE's own line wins over the file's majority.
        assert_eq!(
            fixed("FROM node:22\nRUN a\nRUN b\nEXPOSE 80\r\n"),
            "FROM node:22\nRUN a\nRUN b\nENV PORT=8080\r\nEXPOSE 8080\r\n"
        );
    }

    #[test]
    fn follows_variables_to_their_definition() {
        // ENV PORT wires the app: safe, and the EXPOSE is left alone.
        let src = "FROM node:22\nENV PORT=80\nEXPOSE ${PORT}\nCMD node x\n";
        assert_eq!(
            fixed(src),
            "FROM node:22\nENV PORT=8080\nEXPOSE ${PORT}\nCMD node x\n"
        );
        assert_eq!(applicability(src), [Some(Applicability::Safe)]);
        // ARG → ENV → EXPOSE: the ARG default changes; the ENV carries it to the app.
        let src = "FROM node:22\nARG PORT=80\nENV PORT $PORT\nEXPOSE $PORT 9229\nCMD node x\n";
        assert_eq!(
            fixed(src),
            "FROM node:22\nARG PORT=8080\nENV PORT $PORT\nEXPOSE $PORT 9229\nCMD node x\n"
        );
        assert_eq!(applicability(src), [Some(Applicability::Safe)]);
        // Another name, read by the EXPOSE; quotes kept.
        assert_eq!(
            fixed("FROM node:22\nARG WEB=\"80\"\nEXPOSE $WEB\nCMD node x\n"),
            "FROM node:22\nARG WEB=\"8080\"\nENV PORT=8080\nEXPOSE $WEB\nCMD node x\n"
        );
        // A global ARG the stage declares.
        assert_eq!(
            fixed("ARG PORT=443\nFROM node:22\nARG PORT\nEXPOSE ${PORT}/tcp\nCMD node x\n"),
            "ARG PORT=8443\nFROM node:22\nARG PORT\nEXPOSE ${PORT}/tcp\nCMD node x\n"
        );
        // A default in the EXPOSE itself.
        assert_eq!(
            fixed("FROM node:22\nEXPOSE ${HTTP:-80}\nCMD node x\n"),
            "FROM node:22\nENV PORT=8080\nEXPOSE ${HTTP:-8080}\nCMD node x\n"
        );
        // An unknown value is not a finding.
        assert!(findings("FROM node:22\nEXPOSE $NOPE\nCMD node x\n").is_empty());
        // Values that merely equal the port are not touched.
        assert_eq!(
            fixed("FROM node:22\nENV NODE_MAJOR=22\nEXPOSE 22\nCMD node x\n"),
            "FROM node:22\nENV NODE_MAJOR=22\nENV PORT=8022\nEXPOSE 8022\nCMD node x\n"
        );
    }

    #[test]
    fn changes_command_arguments_and_is_then_safe() {
        let src = "FROM node:22\nEXPOSE 80\nCMD [\"node\", \"server.js\", \"--port\", \"80\"]\n";
        assert_eq!(
            fixed(src),
            "FROM node:22\nENV PORT=8080\nEXPOSE 8080\nCMD [\"node\", \"server.js\", \"--port\", \"8080\"]\n"
        );
        assert_eq!(applicability(src), [Some(Applicability::Safe)]);
        assert_eq!(
            fixed("FROM node:22\nENV PORT=3000\nEXPOSE 80 3000\nENTRYPOINT [\"sh\", \"-c\", \"PORT=80 node x --port=80 -p 80\"]\n"),
            "FROM node:22\nENV PORT=3000\nEXPOSE 8080 3000\nENTRYPOINT [\"sh\", \"-c\", \"PORT=8080 node x --port=8080 -p 8080\"]\n"
        );
        assert_eq!(
            fixed("FROM node:22\nEXPOSE 443\nCMD PORT=443 npx serve --port '443'\n"),
            "FROM node:22\nENV PORT=8443\nEXPOSE 8443\nCMD PORT=8443 npx serve --port '8443'\n"
        );
        // Nothing wires the port: unsafe.
        assert_eq!(
            applicability("FROM node:22\nEXPOSE 80\nCMD node x --port 3000\n"),
            [Some(Applicability::Unsafe)]
        );
    }

    #[test]
    fn changes_healthcheck_urls_with_and_without_port() {
        assert_eq!(
            fixed("FROM node:22\nEXPOSE 80\nHEALTHCHECK --interval=5s CMD curl -f http://localhost:80/health || exit 1\nCMD node x\n"),
            "FROM node:22\nENV PORT=8080\nEXPOSE 8080\nHEALTHCHECK --interval=5s CMD curl -f http://localhost:8080/health || exit 1\nCMD node x\n"
        );
        assert_eq!(
            fixed("FROM node:22\nEXPOSE 80\nHEALTHCHECK CMD wget -qO- http://localhost/ && wget -qO- \"http://127.0.0.1\"\nCMD node x\n"),
            "FROM node:22\nENV PORT=8080\nEXPOSE 8080\nHEALTHCHECK CMD wget -qO- http://localhost:8080/ && wget -qO- \"http://127.0.0.1:8080\"\nCMD node x\n"
        );
        assert_eq!(
            fixed("FROM node:22\nEXPOSE 443\nHEALTHCHECK CMD [\"curl\", \"-k\", \"https://0.0.0.0:443/\", \"http://localhost/\"]\nCMD node x\n"),
            "FROM node:22\nENV PORT=8443\nEXPOSE 8443\nHEALTHCHECK CMD [\"curl\", \"-k\", \"https://0.0.0.0:8443/\", \"http://localhost/\"]\nCMD node x\n"
        );
        // Other hosts and ports are left alone.
        assert_eq!(
            fixed("FROM node:22\nEXPOSE 80\nHEALTHCHECK CMD curl http://example.com/ http://mylocalhost:80 localhost:8080\nCMD node x\n"),
            "FROM node:22\nENV PORT=8081\nEXPOSE 8081\nHEALTHCHECK CMD curl http://example.com/ http://mylocalhost:80 localhost:8080\nCMD node x\n"
        );
    }

    #[test]
    fn port_map_overrides_the_default() {
        assert_eq!(
            fixed_with(
                "FROM node:22\nEXPOSE 80 443\nCMD node x\n",
                &[(80, 3000), (443, 3443)]
            ),
            "FROM node:22\nEXPOSE 3000 3443\nCMD node x\n"
        );
        // A privileged target is ignored (the fix would never converge).
        assert_eq!(
            fixed_with("FROM node:22\nEXPOSE 80\nCMD node x\n", &[(80, 81)]),
            "FROM node:22\nENV PORT=8080\nEXPOSE 8080\nCMD node x\n"
        );
    }

    #[test]
    fn taken_ports_are_skipped() {
        // 8080 is exposed, 8081 is a port variable elsewhere, 8082 is in a HEALTHCHECK.
        assert_eq!(
            fixed("FROM node:22 AS build\nENV API_PORT=8081\nFROM node:22\nEXPOSE 80 8080\nHEALTHCHECK CMD curl localhost:8082\nCMD node x\n"),
            "FROM node:22 AS build\nENV API_PORT=8081\nFROM node:22\nEXPOSE 8083 8080\nHEALTHCHECK CMD curl localhost:8082\nCMD node x\n"
        );
        // Two findings never get the same port: 80 → 8081 (8080 taken), 81 → 8082.
        assert_eq!(
            fixed("FROM node:22\nEXPOSE 80 8080 81\nCMD node x\n"),
            "FROM node:22\nEXPOSE 8081 8080 8082\nCMD node x\n"
        );
    }

    #[test]
    fn one_finding_per_port_and_one_env_port_at_most() {
        let src = "FROM node:22\nEXPOSE 80\nEXPOSE 80/udp 443\nCMD node x\n";
        let found = findings(src);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].span.text(src), "80");
        assert!(found[0].message.contains("`docker run -p 80:8080`"));
        assert!(found[0].message.contains("`targetPort: 8080`"));
        assert!(found[0].help.as_deref().unwrap().contains("OpenShift"));
        // Several ports: no `ENV PORT` (which one would it be?).
        assert_eq!(
            fixed(src),
            "FROM node:22\nEXPOSE 8080\nEXPOSE 8080/udp 8443\nCMD node x\n"
        );
        // An existing PORT (even with another value) is never doubled.
        assert_eq!(
            fixed("FROM node:22\nARG PORT=3000\nEXPOSE 80\nCMD node x\n"),
            "FROM node:22\nARG PORT=3000\nEXPOSE 8080\nCMD node x\n"
        );
    }

    #[test]
    fn ranges_shift_when_free() {
        assert_eq!(
            fixed("FROM node:22\nEXPOSE 80-90/tcp\nCMD node x\n"),
            "FROM node:22\nEXPOSE 8080-8090/tcp\nCMD node x\n"
        );
        let src = "FROM node:22\nEXPOSE 80-90 8085\nCMD node x\n";
        let found = findings(src);
        assert_eq!(found.len(), 1);
        assert!(found[0].fix.is_none());
        assert!(findings("FROM node:22\nEXPOSE 8000-8010 0\nCMD node x\n").is_empty());
    }

    #[test]
    fn scope_is_the_final_node_image_and_its_parents() {
        assert!(findings("FROM node:22 AS build\nEXPOSE 80\nFROM nginx\nEXPOSE 80\n").is_empty());
        assert!(findings(
            "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nEXPOSE 80\nCMD node x\n"
        )
        .is_empty());
        // Inherited from the stage it is built from: changed there.
        assert_eq!(
            fixed("FROM node:22 AS base\nEXPOSE 80\nFROM base\nCMD node x\n"),
            "FROM node:22 AS base\nENV PORT=8080\nEXPOSE 8080\nFROM base\nCMD node x\n"
        );
        let all = LintOptions {
            rules: RuleOptions {
                all_images: true,
                ..RuleOptions::default()
            },
            ..options(&[])
        };
        let outcome = lint("FROM nginx\nEXPOSE 80\n", &all, Applicability::Unsafe).unwrap();
        assert_eq!(outcome.findings.len(), 1);
        // nginx does not read `PORT`: no `ENV PORT` for it.
        assert_eq!(outcome.fixed, "FROM nginx\nEXPOSE 8080\n");
    }

    #[test]
    fn works_with_root_user_in_one_round() {
        // Both rules insert where the EXPOSE starts: the port fix replaces from there on,
        // so the two fixes never conflict and apply together.
        let src = "FROM node:22\nCOPY . .\nEXPOSE 80\nCMD [\"node\", \"x\"]\n";
        let outcome = lint(src, &LintOptions::default(), Applicability::Unsafe).unwrap();
        let fixes: Vec<&Fix> = outcome
            .findings
            .iter()
            .filter_map(|f| f.fix.as_ref())
            .collect();
        let once = crate::edit::apply_fixes(src, &fixes, Applicability::Unsafe);
        assert_eq!(once.applied.len(), fixes.len());
        assert_eq!(
            once.text,
            "FROM node:22\nCOPY . .\nUSER node\nENV PORT=8080\nEXPOSE 8080\nCMD [\"node\", \"x\"]\n"
        );
        assert_eq!(outcome.fixed, once.text);
        let again = lint(
            &outcome.fixed,
            &LintOptions::default(),
            Applicability::Unsafe,
        )
        .unwrap();
        assert!(again.findings.iter().all(|f| f.rule != "privileged-port"));
        assert_eq!(again.fixed, outcome.fixed);
    }

    #[test]
    fn pragma_suppresses_it() {
        assert!(
            findings("FROM node:22\n# unroot ignore=privileged-port\nEXPOSE 80\nCMD node x\n")
                .is_empty()
        );
    }
}
