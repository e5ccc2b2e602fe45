use super::deployment::{ImageUser, ParentValues, Runner, Target, NODE_UID};
use super::{Finding, Prose};
use crate::deploy::compose;
use crate::deploy::helm::Security;
use crate::deploy::kube::{self, Container, Workload};
use crate::edit::{Applicability, Edit, Fix};
use crate::syntax::Span;
use crate::yaml::{insert_entries, Node};

declare_rule! {
    /// ## What it does
    /// Checks the deployment files that run the repository's own images (built from a
    /// Dockerfile unroot checks) or the official `node` image directly:
    ///
    /// - Kubernetes containers (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
    ///   Pod) should say they run as the image's non-root user: `securityContext` with
    ///   `runAsNonRoot: true`, a numeric `runAsUser`/`runAsGroup` equal to the image's user
    ///   (1000 for `node`, the uid the Dockerfile creates otherwise) and
    ///   `allowPrivilegeEscalation: false`. `runAsUser: 0`, `privileged: true` and a
    ///   `runAsUser` other than the image's uid are reported.
    /// - Compose services that run a `node` image directly (`image: node:22`, no `build:`)
    ///   should run as its `node` user: `user: "node"`. Services built from a Dockerfile need
    ///   nothing: the image's `USER` applies. `user: root` / `user: "0"` is reported.
    /// - Helm charts: the same keys as for Kubernetes, in `values.yaml`, for a container whose
    ///   template places a values mapping whole as its `securityContext`
    ///   (`{{- toYaml .Values.securityContext | nindent 12 }}`); templates are never edited.
    /// - Kustomize files and patches that set `runAsUser: 0`, `runAsNonRoot: false`,
    ///   `privileged: true` or `allowPrivilegeEscalation: true` are reported, never edited;
    ///   so is a patch's `runAsUser` other than the uid of the image the patched container
    ///   runs.
    ///
    /// ## Why is this bad?
    /// `runAsNonRoot: true` makes the kubelet refuse to start a container that would run as
    /// root, but it can only verify a numeric user: with `USER node` in the image and no
    /// `runAsUser`, the pod is refused (`container has runAsNonRoot and image has non-numeric
    /// user`). A `runAsUser` that differs from the image's user breaks file ownership in the
    /// image and in volumes. The docker-node documentation runs the image with `-u node`;
    /// without it the official image runs as root.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: node:22-alpine
    /// ```
    ///
    /// Use instead:
    /// ```yaml
    /// containers:
    ///   - name: web
    ///     image: node:22-alpine
    ///     securityContext:
    ///       runAsNonRoot: true
    ///       runAsUser: 1000
    ///       runAsGroup: 1000
    ///       allowPrivilegeEscalation: false
    /// ```
    ///
    /// ## How it fixes
    /// The keys that are missing are added to the container's `securityContext` (created
    /// after the container's last line, at its indentation; an empty `{}` becomes a block);
    /// keys already set, in the container or the pod's `securityContext`, are kept. Where the
    /// image's user has no known uid (a named user the Dockerfile does not create with `-u`),
    /// only `allowPrivilegeEscalation: false` is added, never `runAsNonRoot` alone; where
    /// `runAsUser` names another uid, that finding has no fix (a person decides which uid is
    /// meant) and the image's `runAsGroup` is not added beside it. Comments,
    /// quoting and the rest of the file are kept byte for byte. Where the pod mounts writable
    /// volumes, the help says how ownership follows (`fsGroup`). `--uid N` (config `uid`)
    /// decides the number where the image does not: a `node` image run directly gets
    /// `user: "N:N"` and `runAsUser: N` (N other than 1000), and a named user the Dockerfile
    /// does not create gets `runAsUser: N`.
    ///
    /// ## Fix safety
    /// Safe for Kubernetes: the numbers are the image's own user, which the image runs as
    /// anyway once its Dockerfile is fixed. The image's user is read from the Dockerfile as
    /// this run leaves it: while its `root-user` fix is not applied, the container gets no
    /// fix. Compose `user: "node"` is safe when the service mounts no volumes, unsafe
    /// otherwise (files the app writes there must be writable by uid 1000).
    ///
    /// Suppress with `# unroot ignore=deploy-user` on the line above the reported line, or
    /// on the workload with Checkov's `checkov.io/skip1: CKV_K8S_23=…` (or CKV_K8S_20,
    /// CKV_K8S_30, CKV_K8S_6) annotation or kube-linter's `ignore-check.kube-linter.io/run-as-non-root`
    /// (or `privilege-escalation-container`, `privileged-container`).
    ///
    /// ## References
    /// - Kubernetes security context:
    ///   <https://kubernetes.io/docs/tasks/configure-pod-container/security-context/>
    /// - docker-node best practices (`-u node`):
    ///   <https://github.com/nodejs/docker-node/blob/main/docs/BestPractices.md>
    /// - Checkov CKV_K8S_20, CKV_K8S_23, CKV_K8S_30 (CKV_K8S_40, a uid of 10000 or more, is not
    ///   followed: the node images' user is 1000): <https://www.checkov.io/5.Policy%20Index/kubernetes.html>
    pub(crate) const DEPLOY_USER = Rule {
        name: "deploy-user",
        summary: "a deployment runs the image as root or without a numeric non-root user",
        check: no_dockerfile_findings,
        fixes: super::Fixes::SafeOrUnsafe,
        aliases: &[
            "CKV_K8S_6",
            "CKV_K8S_20",
            "CKV_K8S_23",
            "CKV_K8S_30",
            "run-as-non-root",
            "privilege-escalation-container",
            "privileged-container",
        ],
        prose: Prose {
            subject: Some("run deployments as the image's user"),
            why: Some(
                "**Deployments run as the image's user.** Kubernetes containers say \
                 `runAsNonRoot` with the image's numeric uid, which the kubelet can verify, and \
                 Compose services that run `node` directly use its `node` user.",
            ),
            checks: &[
                "**Volume ownership.** Files the app writes to mounted volumes must be \
                 writable by the image's uid (Kubernetes `fsGroup`, or `chown` in the volume).",
            ],
            rank: 40,
            checks_rank: 30,
        },
    };
}

/// The rule looks at deployment files only ([`check`]).
fn no_dockerfile_findings(_: &super::Context) -> Vec<Finding> {
    Vec::new()
}

/// The findings of one deployment document's runners.
pub(crate) fn check(source: &str, doc: &Node, runners: &[&Runner]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for runner in runners {
        match &runner.target {
            Target::ComposeService { name, .. } => {
                if let Some(service) = compose::services(doc).into_iter().find(|s| s.name == name) {
                    findings.extend(check_service(source, &service, runner));
                }
            }
            Target::Container { name, .. } => {
                let Some(workload) = kube::workload(doc) else { continue };
                if let Some(container) = workload.containers().into_iter().find(|c| c.name == name) {
                    findings.extend(check_container(source, &workload, &container, runner));
                }
            }
            Target::HelmChart {
                security, parent, ..
            } => {
                let mut done: Vec<Option<Vec<String>>> = Vec::new();
                for security in security {
                    // Containers that share one values `securityContext` get one finding.
                    if security.whole.is_some() && done.contains(&security.whole) {
                        continue;
                    }
                    done.push(security.whole.clone());
                    findings.extend(check_helm(source, doc, security, parent.as_ref(), runner));
                }
            }
        }
    }
    findings
}

fn finding(span: Span, message: String, help: Option<String>, fix: Option<Fix>) -> Finding {
    Finding {
        rule: DEPLOY_USER.name,
        span,
        instruction: 0,
        message,
        help,
        fix,
    }
}

fn check_service(source: &str, service: &compose::Service, runner: &Runner) -> Vec<Finding> {
    if let Some(user) = service.user() {
        let value = user.str().unwrap_or("");
        if crate::analysis::is_root_user(value) {
            return vec![finding(
                user.span,
                format!("service `{}` runs as root (`user: {value}`)", service.name),
                Some("remove `user:` to run as the image's user, or set a non-root one".to_string()),
                None,
            )];
        }
        return Vec::new();
    }
    if runner.image_user != ImageUser::NodeImage {
        return Vec::new();
    }
    let volumes = service.mounts_volumes();
    let applicability = if volumes { Applicability::Unsafe } else { Applicability::Safe };
    let Some((key, _)) = service.node.entries().first() else {
        return Vec::new();
    };
    let (user, uid) = match runner.uid.filter(|&uid| uid != NODE_UID) {
        Some(uid) => (format!("{uid}:{uid}"), uid),
        None => ("node".to_string(), NODE_UID),
    };
    let fix = insert_entries(source, key, service.node, &[format!("user: \"{user}\"")])
        .map(|edit| Fix::new(format!("run the service as `{user}`"), applicability, vec![edit]));
    let mut help = "the official node images ship user `node` (uid 1000); docker-node runs them with `-u node`".to_string();
    if uid != NODE_UID {
        help.push_str(&format!("; uid {uid} was chosen with `--uid` (no account of the image has it: its home is `/`)"));
    }
    if volumes {
        help.push_str(&format!("; the service mounts volumes: files the app writes there must be writable by uid {uid}, so the fix is unsafe"));
    }
    vec![finding(
        service.key.span,
        format!("service `{}` runs the `node` image as root", service.name),
        Some(help),
        fix,
    )]
}

fn check_container(
    source: &str,
    workload: &Workload,
    container: &Container,
    runner: &Runner,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let own = container.node.get("securityContext");
    let pod = workload.pod.get("securityContext");
    let get = |key: &str| own.and_then(|c| c.get(key));
    let get_any = |key: &str| get(key).or_else(|| pod.and_then(|p| p.get(key)));
    let who = format!("{} `{}` container `{}`", workload.kind, workload.name, container.name);
    if let Some(privileged) = get("privileged").filter(|v| v.str() == Some("true")) {
        findings.push(privileged_finding(privileged.span, &who));
    }
    if let Some(uid) = get_any("runAsUser").filter(|v| v.number() == Some(0)) {
        findings.push(root_uid_finding(uid.span, &who));
        return findings;
    }
    let Some((uid, mut gid)) = runner.image_ids() else {
        if get_any("runAsUser").is_none() {
            let who = format!("{who} runs image `{}`", container.image);
            findings.push(root_image_finding(span_of(container), &who, runner));
        }
        return findings;
    };
    if let Some(other) = get_any("runAsUser").and_then(|set| other_uid_finding(set, uid, &who)) {
        findings.push(other);
        // The image's group would not go with another user.
        gid = None;
    }
    let lines = missing_lines(
        uid,
        gid,
        |key| get_any(key).is_some(),
        |key| get(key).is_some(),
    );
    if lines.is_empty() {
        return findings;
    }
    let edit: Option<Edit> = match own {
        Some(context) => {
            let key = container.node.entry("securityContext").map(|(k, _)| k);
            key.and_then(|key| insert_entries(source, key, context, &lines))
        }
        None => {
            let mut block = vec!["securityContext:".to_string()];
            block.extend(lines.iter().map(|l| format!("  {l}")));
            container
                .node
                .entries()
                .first()
                .and_then(|(key, _)| insert_entries(source, key, container.node, &block))
        }
    };
    let mut help = match (&runner.image_user, uid) {
        (ImageUser::NodeImage, Some(NODE_UID)) => "the official node images run as user `node`, uid/gid 1000".to_string(),
        (ImageUser::NodeImage, Some(uid)) => format!("uid {uid} was chosen with `--uid`; the official node images' user `node` is uid 1000, so no account has uid {uid} (its home is `/`)"),
        (ImageUser::Named(name), None) => format!(
            "the image's user `{name}` has no known uid, and `runAsNonRoot` can verify only a numeric user: set `runAsUser` to its uid by hand (or `--numeric-user`)"
        ),
        (_, Some(uid)) => format!("uid {uid} is the image's user, set by its Dockerfile"),
        _ => String::new(),
    };
    let writable = workload.pod.get("volumes").is_some_and(|volumes| {
        volumes.items().iter().any(|v| {
            ["emptyDir", "persistentVolumeClaim", "hostPath"].iter().any(|k| v.get(k).is_some())
        })
    });
    if writable && get_any("fsGroup").is_none() {
        if let Some(gid) = gid {
            help.push_str(&format!(
                "; the pod mounts writable volumes: the pod's `securityContext.fsGroup: {gid}` makes them writable by the image's group"
            ));
        }
    }
    findings.push(missing_finding(span_of(container), &who, &lines, help, edit));
    findings
}

/// Where a container's findings point: its `image:`.
fn span_of(container: &Container) -> Span {
    container
        .node
        .get("image")
        .map_or(container.node.span, |image| image.span)
}

/// A Helm chart's container, through `values.yaml`: the keys missing from the values
/// subtree the template places whole as its `securityContext` are added there; where the
/// template maps none, the finding says what to add to the template.
fn check_helm(
    source: &str,
    values: &Node,
    security: &Security,
    parent: Option<&ParentValues>,
    runner: &Runner,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let resolve = |path: &[String]| path.iter().try_fold(values, |node, key| node.get(key));
    let point = security
        .image
        .as_deref()
        .and_then(resolve)
        .map_or(Span::empty(0), |node| node.span);
    let whole = security.whole.as_deref().and_then(resolve);
    let pod_whole = security.pod_whole.as_deref().and_then(resolve);
    let who = format!("the chart's container at {}", security.who);
    // A subchart: the parent's values for it are merged over these; its keys count as set.
    let in_parent = |path: &Option<Vec<String>>| {
        let parent = parent?;
        let map = path.as_deref()?.iter().try_fold(&parent.values, |node, key| node.get(key))?;
        Some((parent, map))
    };
    let parent_own = in_parent(&security.whole);
    let parent_pod = in_parent(&security.pod_whole);
    for (parent, map) in parent_own.iter().chain(parent_pod.iter()) {
        let place = |node: &Node| format!("{}:{}", parent.shown, crate::yaml::line_of(&parent.source, node.span.start));
        if let Some(node) = map.get("runAsUser").filter(|v| v.number() == Some(0)) {
            findings.push(finding(
                point,
                format!("{who} runs as root (`runAsUser: 0` in the parent chart's values at {})", place(node)),
                Some("remove it from the parent chart's values to run as the image's user, or set its numeric uid".to_string()),
                None,
            ));
            return findings;
        }
        if let Some(node) = map.get("privileged").filter(|v| v.str() == Some("true")) {
            findings.push(finding(
                point,
                format!("{who} is privileged (`privileged: true` in the parent chart's values at {})", place(node)),
                Some("`privileged: true` gives the container every capability of the host's root".to_string()),
                None,
            ));
        }
    }
    let set_in_parent = |map: Option<&(&ParentValues, &Node)>, key: &str| {
        map.is_some_and(|(_, map)| map.get(key).is_some())
    };
    // A key's value: `Some(None)` when the template sets it to a literal (or the parent's
    // values set it).
    let own = |key: &str| -> Option<Option<&Node>> {
        if set_in_parent(parent_own.as_ref(), key) {
            return Some(None);
        }
        whole.and_then(|m| m.get(key)).map(Some).or_else(|| {
            security
                .keys
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, path)| path.as_deref().and_then(resolve))
        })
    };
    let any = |key: &str| -> Option<Option<&Node>> {
        if set_in_parent(parent_pod.as_ref(), key) {
            return Some(None);
        }
        own(key).or_else(|| {
            pod_whole.and_then(|m| m.get(key)).map(Some).or_else(|| {
                security
                    .pod_keys
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, path)| path.as_deref().and_then(resolve))
            })
        })
    };
    if let Some(Some(node)) = own("privileged").filter(|v| v.and_then(Node::str) == Some("true")) {
        findings.push(privileged_finding(node.span, &who));
    }
    if let Some(Some(node)) = any("runAsUser").filter(|v| v.and_then(Node::number) == Some(0)) {
        findings.push(root_uid_finding(node.span, &who));
        return findings;
    }
    let Some((uid, mut gid)) = runner.image_ids() else {
        if any("runAsUser").is_none() {
            let who = format!("{who} runs its image");
            findings.push(root_image_finding(point, &who, runner));
        }
        return findings;
    };
    if let Some(other) = any("runAsUser").flatten().and_then(|set| other_uid_finding(set, uid, &who)) {
        findings.push(other);
        gid = None;
    }
    for (parent, map) in parent_own.iter().chain(parent_pod.iter()) {
        let Some(set) = map.get("runAsUser") else { continue };
        if let Some(mut other) = other_uid_finding(set, uid, &who) {
            let place = format!("{}:{}", parent.shown, crate::yaml::line_of(&parent.source, set.span.start));
            other.span = point;
            other.message.push_str(&format!(" (in the parent chart's values at {place})"));
            findings.push(other);
            gid = None;
        }
    }
    let lines = missing_lines(
        uid,
        gid,
        |key| any(key).is_some(),
        |key| own(key).is_some(),
    );
    if lines.is_empty() {
        return findings;
    }
    // The values mapping the template places whole, and its key.
    let edit = security.whole.as_deref().and_then(|path| {
        let (last, parent) = path.split_last()?;
        let (key, map) = resolve(parent)?.entry(last)?;
        if !map.is_map() {
            return None;
        }
        insert_entries(source, key, map, &lines)
    });
    let mut help = match (&security.whole, &edit) {
        (Some(path), Some(_)) => format!(
            "the template places values `{}` as the container's `securityContext`; the numbers are the image's user",
            path.join(".")
        ),
        (Some(path), None) => format!(
            "the template places values `{}` as the container's `securityContext`, but values.yaml has no mapping there unroot can add to: set the keys by hand",
            path.join(".")
        ),
        (None, _) => "the template maps no values subtree as the container's `securityContext`: add `securityContext:` with `{{- toYaml .Values.securityContext | nindent <n> }}` to the template, and the keys to values.yaml".to_string(),
    };
    let writable = security.volumes.iter().any(|volumes| match volumes {
        None => true,
        Some(path) => resolve(path).is_some_and(|list| {
            list.items().iter().any(|volume| {
                crate::deploy::helm::WRITABLE_VOLUMES
                    .iter()
                    .any(|kind| volume.get(kind).is_some())
            })
        }),
    });
    if let (true, None, Some(gid)) = (writable, any("fsGroup"), gid) {
        let place = match &security.pod_whole {
            Some(path) => format!("`fsGroup: {gid}` in values `{}` (the pod's `securityContext`)", path.join(".")),
            None => format!("the pod's `securityContext.fsGroup: {gid}`"),
        };
        help.push_str(&format!(
            "; the pod mounts writable volumes: {place} makes them writable by the image's group"
        ));
    }
    findings.push(missing_finding(point, &who, &lines, help, edit));
    findings
}


/// The `securityContext` lines a container lacks: `set` tells whether a key is set in the
/// container's or the pod's context, `set_own` in the container's alone.
fn missing_lines(
    uid: Option<u32>,
    gid: Option<u32>,
    set: impl Fn(&str) -> bool,
    set_own: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(uid) = uid {
        if !set("runAsNonRoot") {
            lines.push("runAsNonRoot: true".to_string());
        }
        if !set("runAsUser") {
            lines.push(format!("runAsUser: {uid}"));
        }
        if let Some(gid) = gid.filter(|_| !set("runAsGroup")) {
            lines.push(format!("runAsGroup: {gid}"));
        }
    }
    if !set_own("allowPrivilegeEscalation") {
        lines.push("allowPrivilegeEscalation: false".to_string());
    }
    lines
}

fn privileged_finding(span: Span, who: &str) -> Finding {
    finding(
        span,
        format!("{who} is privileged"),
        Some("`privileged: true` gives the container every capability of the host's root".to_string()),
        None,
    )
}

fn root_uid_finding(span: Span, who: &str) -> Finding {
    finding(
        span,
        format!("{who} runs as root (`runAsUser: 0`)"),
        Some("remove it to run as the image's user, or set its numeric uid".to_string()),
        None,
    )
}

/// `runAsUser` set to a uid other than the image's user (0 is reported apart), with no fix: a
/// person chooses which of the two is meant.
fn other_uid_finding(set: &Node, image_uid: Option<u32>, who: &str) -> Option<Finding> {
    let image_uid = image_uid?;
    let other = set.number().filter(|&n| n != 0 && n != image_uid)?;
    Some(finding(
        set.span,
        format!("{who} sets `runAsUser: {other}`, but its image runs as uid {image_uid}"),
        Some(format!(
            "files the image gives its user (uid {image_uid}) are not writable by uid {other}: remove `runAsUser` or set it to {image_uid}, or build the image with uid {other}"
        )),
        None,
    ))
}

/// `who` runs an image whose Dockerfile still runs as root.
fn root_image_finding(span: Span, who: &str, runner: &Runner) -> Finding {
    finding(
        span,
        format!("{who} as root"),
        Some(format!(
            "its Dockerfile {} runs as root after this run's fixes: fix it (`root-user`) first",
            runner.dockerfile.as_deref().unwrap_or("")
        )),
        None,
    )
}

/// The finding for the `securityContext` lines a container lacks, with the edit that adds them.
fn missing_finding(span: Span, who: &str, lines: &[String], help: String, edit: Option<Edit>) -> Finding {
    let keys: Vec<&str> = lines.iter().filter_map(|l| l.split(':').next()).collect();
    finding(
        span,
        format!("{who} does not set `{}`", keys.join("`, `")),
        Some(help),
        edit.map(|edit| Fix::new(format!("set `{}`", lines.join("`, `")), Applicability::Safe, vec![edit])),
    )
}
