use std::collections::{HashMap, HashSet};

use super::helpers::{chain_instructions, run_text};
use super::{Context, Finding, Prose};
use crate::analysis::ports::{
    argument_ports, command_tokens, default_values, exposed, is_port_name, number_in, url_ports,
    Exposed, PortSpec, PortsInUse, UrlPort,
};
use crate::analysis::{unquote, vars, Analysis, BaseImage, Stage};
use crate::edit::{Applicability, Edit, Fix};
use crate::syntax::{parse, Instruction, KeyValue, Keyword, PieceKind, Span};

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
    /// - Deployment files: when Compose files or Kubernetes manifests of the walked tree run the image (a
    ///   Compose `build:` of this Dockerfile, or a Kubernetes `image:` that a Compose service
    ///   builds from it), the move is carried into them: the container side of Compose `ports`
    ///   (`"5001:80"` → `"5001:8080"`, long syntax `target:`), `expose`, `PORT` in
    ///   `environment`, healthcheck URLs, other services' `http://<service>:80`; Kubernetes
    ///   `containerPort`, probe ports, `PORT` in `env`, and the numeric (or defaulted)
    ///   `targetPort` of the Services that select the pods. Named ports follow by themselves; the
    ///   published side stays. Helm charts: the `values.yaml` value that the templates
    ///   visibly map to the container port only (`containerPort: {{ .Values.service.targetPort
    ///   }}`, a Service `targetPort`), for charts whose `image.repository` is the image (see
    ///   docs/deployment-files.md). The move is safe only when every reference found is edited: a
    ///   reference unroot cannot change (a port range or variable, a command argument, a Helm
    ///   value that also feeds a Service `port` or a template that hard-codes the port, a
    ///   Kustomize file or patch, YAML that does not parse, an application file that names the
    ///   port: `"port": 80`, `proxy_pass http://web:80`, a test calling `http://web/`) makes it
    ///   unsafe, and the help lists each `file:line`. The edits in every file share the fix's
    ///   applicability, so they are made together or not at all.
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
        fixes: super::Fixes::SafeOrUnsafe,
        options: &["--port-map", "--all-images"],
        severity: super::Severity::Low,
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

pub(crate) fn privileged_port(cx: &Context) -> Vec<Finding> {
    let Some(stage) = cx.analysis.final_stage() else {
        return Vec::new();
    };
    let node = cx.is_node_stage(stage);
    if stage.base == BaseImage::Windows || (!cx.options.all_images && !node) {
        return Vec::new();
    }
    let exposed = exposed(cx.file, cx.analysis, stage);
    // The ports exposed, in the order first exposed.
    let mut seen = HashSet::new();
    let ports: Vec<PortSpec> = exposed
        .iter()
        .flat_map(|entry| entry.ports.iter().copied())
        .filter(|spec| seen.insert(*spec))
        .collect();
    if !ports.iter().any(|spec| spec.privileged()) {
        return Vec::new();
    }
    let chain = Chain::of(cx, stage, exposed);
    // The image exposes one port (`80`, or `80/tcp` and `80/udp`), not a range.
    let single_port = matches!(ports.as_slice(), [PortSpec::Port(_)]);
    let mut used = PortsInUse::of(cx.file, cx.analysis);
    // Explicit `--port-map` targets are reserved first, so defaults never take them.
    for spec in &ports {
        if let PortSpec::Port(port) = spec {
            if let Some(target) = mapped(cx, *port) {
                used.reserve(target, target);
            }
        }
    }
    let planned: Vec<(PortSpec, Result<Plan, String>)> = ports
        .into_iter()
        .filter(|spec| spec.privileged())
        .map(|spec| {
            // `ENV PORT` only means something to a Node app, and only with one port.
            let plan = match spec {
                PortSpec::Port(port) => plan_port(cx, &chain, port, node && single_port, &mut used),
                PortSpec::Range(low, high) => plan_range(cx, &chain, low, high, &mut used),
            };
            (spec, plan)
        })
        .collect();
    verify(cx, planned)
        .into_iter()
        .map(|(spec, plan)| (spec, plan.map(|plan| carried(cx, spec, plan))))
        .map(|(spec, plan)| finding(&chain, spec, plan))
        .collect()
}

/// A move is safe only when every place the repository's deployment files name the port is
/// moved with it ([`crate::rules::deployment`]); otherwise it is unsafe, and the help lists
/// what needs a person.
fn carried(cx: &Context, spec: PortSpec, mut plan: Plan) -> Plan {
    let (PortSpec::Port(port), Some(facts)) = (spec, &cx.options.deployment) else {
        return plan;
    };
    let Some(facts) = facts.port(port) else {
        return plan;
    };
    let mut notes: Vec<String> = plan.note.take().into_iter().collect();
    if !facts.carried.is_empty() {
        notes.push(format!(
            "the deployment files move with it: {}",
            facts.carried.join(", ")
        ));
    }
    if !facts.person.is_empty() {
        plan.fix.applicability = Applicability::Unsafe;
        notes.push(format!(
            "the move is unsafe: unroot cannot change every reference to port `{port}`; these need a person: {}",
            facts.person.join("; ")
        ));
    }
    plan.note = (!notes.is_empty()).then(|| notes.join("; "));
    plan
}

/// The port a fix of this rule moves and where to (from its title, which this file writes).
pub fn moved_port(fix: &Fix) -> Option<(u16, u16)> {
    let rest = fix.title.strip_prefix("move port `")?;
    let (old, rest) = rest.split_once("` to `")?;
    let (new, _) = rest.split_once('`')?;
    Some((old.parse().ok()?, new.parse().ok()?))
}

/// What the final stage and the stages it is built from say about ports, gathered once.
struct Chain<'a> {
    /// Every EXPOSE entry, in file order.
    exposed: Vec<Exposed>,
    /// The entries that expose each port or range, in file order.
    entries: HashMap<PortSpec, Vec<usize>>,
    /// ARG/ENV definitions: global ARGs a stage of the chain declares, then the chain's.
    pairs: Vec<(&'a Instruction, &'a KeyValue)>,
    /// The definitions of each name.
    definitions: HashMap<&'a str, Vec<usize>>,
    /// The definitions of each value (unquoted).
    by_value: HashMap<String, Vec<usize>>,
    /// Variables an ENV value or a RUN reads (an ARG they read reaches the image).
    read_in_image: HashSet<&'a str>,
    /// Variables a CMD/ENTRYPOINT reads.
    read_by_command: HashSet<&'a str>,
    /// Ports of HEALTHCHECK URLs.
    urls: HashMap<u16, Vec<UrlPort>>,
    /// Ports given to the app by CMD/ENTRYPOINT arguments.
    arguments: HashMap<u16, Vec<Span>>,
}

impl<'a> Chain<'a> {
    fn of(cx: &'a Context<'a>, stage: &Stage, exposed: Vec<Exposed>) -> Chain<'a> {
        let file = cx.file;
        let mut entries: HashMap<PortSpec, Vec<usize>> = HashMap::new();
        for (index, entry) in exposed.iter().enumerate() {
            for spec in &entry.ports {
                let list = entries.entry(*spec).or_default();
                if list.last() != Some(&index) {
                    list.push(index);
                }
            }
        }
        let first_from = cx.analysis.stages.first().map_or(0, |s| s.from);
        let declared: HashSet<&str> = chain_instructions(cx, stage)
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
        let mut definitions: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_value: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, (_, pair)) in pairs.iter().enumerate() {
            definitions.entry(&pair.key.value).or_default().push(index);
            if let Some(value) = &pair.value {
                by_value
                    .entry(unquote(&value.value))
                    .or_default()
                    .push(index);
            }
        }
        let source = &file.source;
        let mut chain = Chain {
            exposed,
            entries,
            pairs,
            definitions,
            by_value,
            read_in_image: HashSet::new(),
            read_by_command: HashSet::new(),
            urls: HashMap::new(),
            arguments: HashMap::new(),
        };
        for instruction in chain_instructions(cx, stage) {
            match instruction.kind {
                Keyword::Env => chain.read_in_image.extend(
                    instruction
                        .pairs
                        .iter()
                        .filter_map(|p| p.value.as_ref())
                        .flat_map(|v| vars::names(&v.value)),
                ),
                Keyword::Run => {
                    let text = run_text(instruction);
                    let names: Vec<String> = vars::names(&text).map(str::to_string).collect();
                    for name in names {
                        if let Some((name, _)) = chain.definitions.get_key_value(name.as_str()) {
                            chain.read_in_image.insert(name);
                        }
                    }
                }
                Keyword::Healthcheck => {
                    for token in command_tokens(instruction) {
                        for url in url_ports(source, token.span) {
                            chain.urls.entry(url.port).or_default().push(url);
                        }
                    }
                }
                Keyword::Cmd | Keyword::Entrypoint => {
                    let tokens = command_tokens(instruction);
                    chain
                        .read_by_command
                        .extend(tokens.iter().flat_map(|t| vars::names(&t.value)));
                    for (span, port) in argument_ports(source, tokens) {
                        chain.arguments.entry(port).or_default().push(span);
                    }
                }
                _ => {}
            }
        }
        chain
    }

    /// The EXPOSE entries of `spec`, in file order.
    fn entries_of(&self, spec: PortSpec) -> impl Iterator<Item = &Exposed> {
        self.entries
            .get(&spec)
            .into_iter()
            .flatten()
            .map(|&index| &self.exposed[index])
    }

    /// The variables `names` read, and those their definitions read, and so on.
    fn closure(&self, mut names: HashSet<String>) -> HashSet<String> {
        let mut pending: Vec<String> = names.iter().cloned().collect();
        while let Some(name) = pending.pop() {
            for &index in self.definitions.get(name.as_str()).into_iter().flatten() {
                let Some(value) = &self.pairs[index].1.value else {
                    continue;
                };
                for read in vars::names(&value.value) {
                    if names.insert(read.to_string()) {
                        pending.push(read.to_string());
                    }
                }
            }
        }
        names
    }
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

fn finding(chain: &Chain, spec: PortSpec, plan: Result<Plan, String>) -> Finding {
    let (message, help, fix) = match plan {
        Ok(plan) => {
            let new = &plan.target;
            let message = match spec {
                PortSpec::Port(port) => format!(
                    "privileged port `{port}` exposed: the app must listen on `{new}` instead; run it with `docker run -p {port}:{new}` or a Kubernetes Service `targetPort: {new}`"
                ),
                PortSpec::Range(..) => format!(
                    "privileged ports `{spec}` exposed: the app must listen on `{new}` instead; run it with `docker run -p {spec}:{new}` or Kubernetes Service `targetPort`s in that range"
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
            let message = match spec {
                PortSpec::Port(port) => format!(
                    "privileged port `{port}` exposed: the app must listen on a port of 1024 or above; run it with `docker run -p {port}:<new port>` or a Kubernetes Service `targetPort`"
                ),
                PortSpec::Range(..) => format!(
                    "privileged ports `{spec}` exposed: the app must listen on ports of 1024 or above; map them with `docker run -p` or a Kubernetes Service `targetPort`"
                ),
            };
            (message, format!("{FACTS}; {reason}"), None)
        }
    };
    let first = chain
        .entries_of(spec)
        .next()
        .expect("a planned port is exposed");
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
    chain: &Chain,
    port: u16,
    env_port: bool,
    used: &mut PortsInUse,
) -> Result<Plan, String> {
    let source = &cx.file.source;
    let target = match mapped(cx, port) {
        Some(target) => target,
        None => used
            .next_free(default_target(port))
            .ok_or_else(|| "no free port above it for the fix".to_string())?,
    };
    used.reserve(target, target);
    let (old, new) = (port.to_string(), target.to_string());

    let mut edits: Vec<Edit> = Vec::new();
    // Variables an EXPOSE of the port reads.
    let mut referenced: HashSet<String> = HashSet::new();
    for entry in chain.entries_of(PortSpec::Port(port)) {
        let text = entry.token.span.text(source);
        if entry.literal {
            if let Some(span) = number_in(text, entry.token.span.start, &old, &['/', '"', '\'']) {
                edits.push(Edit::replace(span, new.clone()));
            }
        } else {
            referenced.extend(vars::names(text).map(str::to_string));
            edits.extend(
                default_values(text, entry.token.span.start, &old)
                    .into_iter()
                    .map(|span| Edit::replace(span, new.clone())),
            );
        }
    }
    // Follow `ENV PORT=$HTTP_PORT` to `ARG HTTP_PORT=80`.
    let referenced = chain.closure(referenced);

    // ARG/ENV definitions that are exactly the port.
    let mut wired = false;
    for &index in chain.by_value.get(&old).into_iter().flatten() {
        let (instruction, pair) = chain.pairs[index];
        let Some(value) = &pair.value else { continue };
        let name = pair.key.value.as_str();
        if !(is_port_name(name) || referenced.contains(name)) {
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
            Keyword::Env => is_port_name(name) || chain.read_by_command.contains(name),
            // An ARG alone is gone when the container runs.
            _ => chain.read_in_image.contains(name),
        };
    }

    // HEALTHCHECK URLs, CMD/ENTRYPOINT arguments.
    for url in chain.urls.get(&port).into_iter().flatten() {
        edits.push(if url.implied {
            Edit::insert(url.span.start, format!(":{new}"))
        } else {
            Edit::replace(url.span, new.clone())
        });
    }
    for span in chain.arguments.get(&port).into_iter().flatten() {
        edits.push(Edit::replace(*span, new.clone()));
        wired = true;
    }
    edits.sort();
    edits.dedup();

    // `ENV PORT=<new>` when nothing in the chain sets PORT and this is the only port of a
    // Node image.
    let sets_port = chain.definitions.contains_key("PORT");
    let mut note = None;
    let mut title = format!("move port `{port}` to `{new}`");
    if !sets_port && env_port {
        if let Some(first) = chain.entries_of(PortSpec::Port(port)).next() {
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
    chain: &Chain,
    low: u16,
    high: u16,
    used: &mut PortsInUse,
) -> Result<Plan, String> {
    let source = &cx.file.source;
    let spec = PortSpec::Range(low, high);
    if chain.entries_of(spec).any(|entry| !entry.literal) {
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
    for entry in chain.entries_of(spec) {
        let span = number_in(
            entry.token.span.text(source),
            entry.token.span.start,
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

/// Checks each plan: applied to the text, the port is no longer exposed (and the text still
/// parses); a fix that would not converge is no fix.
///
/// The plans are tried all together first, with one parse: a plan changes only what states
/// its own port, so its port is exposed after all of them exactly when it is after it alone.
/// A plan whose port is still exposed then, or all of them if they cannot be applied
/// together, is tried alone.
fn verify(
    cx: &Context,
    planned: Vec<(PortSpec, Result<Plan, String>)>,
) -> Vec<(PortSpec, Result<Plan, String>)> {
    let source = &cx.file.source;
    let planned: Vec<_> = planned
        .into_iter()
        .map(|(spec, plan)| {
            let plan = plan.and_then(|plan| match in_order(&plan.fix.edits) {
                true => Ok(plan),
                false => {
                    Err("the places that state the port overlap: change it by hand".to_string())
                }
            });
            (spec, plan)
        })
        .collect();
    let mut all: Vec<&Edit> = planned
        .iter()
        .filter_map(|(_, plan)| plan.as_ref().ok())
        .flat_map(|plan| &plan.fix.edits)
        .collect();
    all.sort();
    let together = (in_order(all.iter().copied())
        && !all.windows(2).any(|w| w[0].span.start == w[1].span.start))
    .then(|| still_exposed(&apply(source, all.iter().copied())))
    .flatten();
    planned
        .into_iter()
        .map(|(spec, plan)| {
            let plan = plan.and_then(|plan| {
                let gone = match &together {
                    Some(exposed) if !exposed.contains(&spec) => true,
                    _ => still_exposed(&apply(source, &plan.fix.edits))
                        .is_some_and(|exposed| !exposed.contains(&spec)),
                };
                match gone {
                    true => Ok(plan),
                    false => Err(
                        "unroot could not find every place that sets the port: change it by hand"
                            .to_string(),
                    ),
                }
            });
            (spec, plan)
        })
        .collect()
}

/// Each edit starts at or after the end of the one before.
fn in_order<'e>(edits: impl IntoIterator<Item = &'e Edit>) -> bool {
    let mut cursor = 0;
    edits.into_iter().all(|edit| {
        let ordered = edit.span.start >= cursor;
        cursor = edit.span.end;
        ordered
    })
}

/// `source` with `edits` (in order, not overlapping) applied.
fn apply<'e>(source: &str, edits: impl IntoIterator<Item = &'e Edit>) -> String {
    let mut text = String::with_capacity(source.len() + 64);
    let mut cursor = 0;
    for edit in edits {
        text.push_str(&source[cursor..edit.span.start]);
        text.push_str(&edit.content);
        cursor = edit.span.end;
    }
    text.push_str(&source[cursor..]);
    text
}

/// What the final stage of `text` exposes; `None` when the text does not parse or has no
/// stage.
fn still_exposed(text: &str) -> Option<HashSet<PortSpec>> {
    let file = parse(text).ok()?;
    let analysis = Analysis::of(&file);
    let stage = analysis.final_stage()?;
    Some(
        exposed(&file, &analysis, stage)
            .into_iter()
            .flat_map(|entry| entry.ports)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linter::{lint, LintOptions};
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
            ..LintOptions::default()
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
