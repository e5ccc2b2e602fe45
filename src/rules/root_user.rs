use super::helpers::{chain_instructions, run_text};
use super::{Context, Finding, Prose};
use crate::analysis::entrypoint::privilege_drop;
use crate::analysis::roles::{published_stages, Checked, Published, Role};
use crate::analysis::ports::exposed;
use crate::analysis::writable::{writable_paths, Writable, WritablePath};
use crate::analysis::{BaseImage, EffectiveUser, Family, Stage};
use crate::edit::{Applicability, Edit, Fix};
use crate::syntax::{Instruction, Keyword, Span};

declare_rule! {
    /// ## What it does
    /// Checks that the images the file ships run their CMD/ENTRYPOINT as a non-root user:
    /// there must be a `USER` in the stage (or a stage it is built `FROM`), and the last one
    /// must not be `root`, `0`, `root:…` or `0:…`.
    ///
    /// The stages checked are the last one, every stage the repository builds as a target
    /// (`--target NAME` in CI workflows, Makefiles, shell scripts and package.json;
    /// `target:` in compose files and workflows; `target = "NAME"` in `docker-bake.hcl`),
    /// and stages named `release`, `production`, `prod`, `runtime` or `final`. Builder
    /// stages, used only by `COPY --from` or a later `FROM`, are never checked: they do not
    /// run.
    ///
    /// Only Node images are checked (an official `node`, distroless `nodejs`, Chainguard
    /// `node`, UBI `nodejs`, or `bitnami/node` base; a stage that installs Node and does not
    /// remove it in the same RUN; or a CMD/ENTRYPOINT that starts `node`, `npm`, `npx`,
    /// `yarn`, `pnpm` or `pm2`), unless `--all-images` is given. Windows images are never
    /// checked.
    ///
    /// ## Why is this bad?
    /// Least privilege: a compromised Node process that runs as root owns the container and
    /// everything it can reach (mounted volumes, the service-account token, a kernel bug
    /// away from the host). The official `node` images set no `USER`, so they run as root
    /// unless the Dockerfile says otherwise.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM node:26-alpine
    /// WORKDIR /app
    /// COPY . .
    /// RUN npm ci --omit=dev
    /// CMD ["node", "server.js"]
    /// ```
    ///
    /// Use instead:
    /// ```dockerfile
    /// FROM node:26-alpine
    /// WORKDIR /app
    /// COPY . .
    /// RUN npm ci --omit=dev
    /// USER node
    /// CMD ["node", "server.js"]
    /// ```
    ///
    /// ## How it fixes
    /// - The `USER` goes after the final stage's last build step (RUN, COPY, ADD, WORKDIR),
    ///   just before the run-time tail (EXPOSE, HEALTHCHECK, CMD, ENTRYPOINT…), so no
    ///   existing RUN changes the user it runs as. When the last `USER` is root and no RUN
    ///   follows it, that `USER` is rewritten instead.
    /// - Official `node` images: `USER node` (the image's user, uid 1000), or
    ///   `USER 1000:1000` with `--numeric-user`. Kubernetes `runAsNonRoot: true` can only
    ///   verify a numeric user, and hadolint reports DL3066 for a name.
    /// - Distroless and `scratch` have no shell: `USER 65532:65532` (distroless `nonroot`).
    ///   Chainguard runs as 65532, UBI `nodejs` as 1001, Bitnami uses `USER 1001`.
    /// - Distribution bases with Node installed (Alpine, Debian, Ubuntu, UBI, Fedora…):
    ///   a user created by the stage's own `useradd`/`adduser` is used; otherwise a `RUN`
    ///   creates `app` (uid/gid 10001) with the family's tools (`templates/user/`).
    /// - The inserted lines take the file's line endings and keyword case.
    /// - `--user NAME|UID[:GID]` chooses the user; `--chown` also adds
    ///   `--chown=<user>:<group>` to the final stage's COPY/ADD of the application.
    ///
    /// **Writable paths.** The fix gives the new user what the app writes at run time, as far
    /// as the Dockerfile says (the finding's help lists what was found):
    /// - `VOLUME` targets and directories a `RUN mkdir` makes (not one that code is copied
    ///   into, nor tooling under `/usr`, `/etc`…);
    /// - data paths in `ENV`: names ending in `_DIR`, `_DIRECTORY` or `_FOLDER` (unless they
    ///   name code: `APP_DIR`, `PUBLIC_DIR`…), in `_PATH` or `_FILE` with a data word
    ///   (`DATA`, `LOG`, `UPLOAD`, `CACHE`, `DB`, `PID`…); a file's directory; relative values
    ///   against the last `WORKDIR`;
    /// - SQLite databases (`DATABASE_URL=file:./app.db`, `sqlite://…`, `*.db`, `*.sqlite`):
    ///   their directory, for the journal;
    /// - `.next/cache` under the `WORKDIR` when the stage copies a `.next` build;
    /// - npm's cache (`$HOME/.npm`, `NPM_CONFIG_CACHE`, `YARN_CACHE_FOLDER`,
    ///   `XDG_CACHE_HOME`) when `ENV` sets it and npm, npx, yarn or pnpm starts the app (npm
    ///   itself runs without one; a user's own home is already theirs).
    ///
    /// How: `--chown=<user>:<group>` on the COPY/ADD whose destination is such a data
    /// directory (also `COPY --from`); otherwise `RUN mkdir -p … && chown -R <user>:<group> …`
    /// just before the `USER`, or before the `VOLUME` line when that comes earlier (changes
    /// to a volume after its `VOLUME` line are discarded by podman and Docker's classic
    /// builder). A directory that holds code (the `WORKDIR`, for a SQLite file in it) gets
    /// only itself (`chown` without `-R`). Never a `chown -R` of the application: it would
    /// copy every file into a new layer and make the code writable. A path already given by
    /// a `chown` or `COPY --chown` is left alone; `/tmp` is writable already.
    ///
    /// Left to a person (the fix is unsafe and its help says why): a CMD/ENTRYPOINT script
    /// unroot has not read (`start.sh`, `docker-entrypoint.sh` copied by the file), a data
    /// path with a variable unroot cannot resolve, a system directory (`/`, `/var`, `/home`…),
    /// and, on distroless or `scratch` (no shell), a path no COPY creates. What the code
    /// writes without the Dockerfile saying so (a file in its working directory, a path in
    /// its own configuration) cannot be seen: check it.
    ///
    /// ## Options
    /// - `--user NAME|UID[:GID]`: the user to switch to (it must exist in the image).
    /// - `--numeric-user`: write uid:gid (`USER 1000:1000`) instead of a name.
    /// - `--chown`: also add `--chown=<user>:<group>` to the final stage's COPY/ADD.
    /// - `--all-images`: check final stages that are not Node images too.
    ///
    /// ## Fix safety
    /// Safe: every RUN keeps its user, files copied into the image stay readable, and every
    /// writable path found is given to the user. Unsafe, with the reason in the help, when
    /// unroot cannot tell or cannot give what the app writes (see above), when Node is
    /// installed with nvm (under `/root`, unreadable for the new user), when a later stage
    /// built FROM the fixed one has RUNs (they would run as the new user), when the stage
    /// sets no CMD or ENTRYPOINT but copies files (it may be a base image), and while the
    /// image exposes a port below 1024 that no safe fix of this run moves (the
    /// `privileged-port` fix is unsafe, not selected or suppressed): a non-root app cannot
    /// bind it under Kubernetes or OpenShift, so both fixes go together with `--unsafe-fixes`.
    /// A `USER` whose value uses a variable without a default cannot be checked: reported,
    /// never fixed. Variables expand as BuildKit expands them: an unset one is empty, and an
    /// empty user is root (`USER ${NOPE}`).
    ///
    /// `USER 1000  # node` (in any stage) is reported too: BuildKit takes the whole rest of
    /// the line as the user, so the container cannot start. The safe fix moves the comment
    /// to its own line above the `USER`.
    ///
    /// **What unroot leaves to a person.** A checked stage that does not run an app gets
    /// no `USER`; it is reported, without a fix, with the reason, because only a person can
    /// confirm it (silence it with `# unroot ignore=root-user` on the line above the one
    /// reported). A devcontainer or development stage other than the last is not reported
    /// even when the repository builds it as a target (a `test` target CI runs):
    /// - **Base images**: no CMD or ENTRYPOINT in the chain, nothing copied from the build
    ///   context, on a base whose own command is not an app (`node`, a distribution). Images
    ///   built FROM it run their build steps as its user, and those need root. Set the user
    ///   in those images. When the stage does copy files (an app an orchestrator starts with
    ///   `command:`), the fix is offered as unsafe.
    /// - **Devcontainers**: a file under `.devcontainer/`, a `devcontainer.metadata` label,
    ///   or a container kept open with `sleep infinity` / `tail -f /dev/null`. The user
    ///   belongs in devcontainer.json (`remoteUser`, `containerUser`).
    /// - **Not for production**: a stage name, the file name (`Dockerfile.dev`) or a
    ///   `*.env`/`*.environment`/`*.stage` label whose words include `dev`, `development`,
    ///   `test`, `ci`, `debug` or `local`.
    /// - **Entrypoints that drop privileges**: the ENTRYPOINT or CMD, or a script it runs
    ///   that the Dockerfile copies from the build context, switches user with `gosu`,
    ///   `su-exec`, `setpriv --reuid`, `s6-setuidgid`, `chroot --userspec`, `runuser -u`,
    ///   `su … -c`, `chpst -u` or the `PUID`/`PGID` convention. Such a container must start
    ///   as root (to chown volumes, then switch), so no `USER` is added and an explicit
    ///   `USER root` before it is left alone; the report names the user it drops to. Check
    ///   that every path through the script switches before it runs the app. The official
    ///   node image's `docker-entrypoint.sh` counts when the Dockerfile replaces it.
    ///
    /// Scripts are read from the build context: the Dockerfile's directory, then the
    /// repository root (the directory holding `.git`). Only regular files inside it (after
    /// symbolic links are resolved) of at most 256 KiB are read.
    ///
    /// ## References
    /// - Docker: <https://docs.docker.com/reference/dockerfile/#user>
    /// - Node.js Docker best practices: <https://github.com/nodejs/docker-node/blob/main/docs/BestPractices.md#non-root-user>
    /// - Same check: hadolint DL3002, Trivy DS002 (AVD-DS-0002), Checkov CKV_DOCKER_3 and CKV_DOCKER_8;
    ///   their ignore pragmas are honoured.
    pub(crate) const ROOT_USER = Rule {
        name: "root-user",
        summary: "the final stage runs as root",
        check: root_user,
        fixes: super::Fixes::SafeOrUnsafe,
        aliases: &["DL3002", "DS002", "AVD-DS-0002", "CKV_DOCKER_3", "CKV_DOCKER_8"],
        options: &["--user", "--numeric-user", "--chown", "--all-images"],
        severity: super::Severity::High,
        prose: Prose {
            subject: Some("run Node containers as non-root"),
            why: Some(
                "**Least privilege.** A container that runs as root runs its app as uid 0: a bug \
                 or a malicious dependency in the Node process can then rewrite the image's \
                 files, read every secret mounted in the container, and use any container escape \
                 a kernel or runtime bug allows with full rights. Running as an unprivileged user \
                 takes all of that away at no cost, and lets Kubernetes `runAsNonRoot` and \
                 restricted Pod Security admit the pod.",
            ),
            checks: &[
                "**Writable paths.** The app no longer runs as root. unroot gave the new user \
                 the paths the Dockerfile names (volumes, `RUN mkdir`'d directories, data paths \
                 in ENV; listed in each finding); anything else the app writes at run time \
                 (uploads, caches, logs inside the app directory, `node_modules/.cache`) must be \
                 writable too: a `COPY --chown=…`, a `RUN chown` in the Dockerfile, or a volume. \
                 Files copied into the image are owned by root: readable, not writable.",
                "**Volumes and mounts.** Data volumes written by earlier, root-run containers may \
                 need their ownership changed to the new user's uid.",
            ],
            rank: 10,
            checks_rank: 10,
        },
    };
}

/// The uid/gid of an account unroot creates.
const CREATED_ID: u32 = 10001;

pub(crate) fn root_user(cx: &Context) -> Vec<Finding> {
    let mut findings = user_comments(cx);
    findings.extend(final_user(cx));
    findings
}

/// `USER 1000  # node`: BuildKit recognises comments only at the start of a line, so the
/// user is `1000  # node`, which no image has: the build's later RUNs and the container
/// fail to start. Any stage, any image: the fix moves the comment to its own line above.
fn user_comments(cx: &Context) -> Vec<Finding> {
    let source = &cx.file.source;
    cx.file
        .instructions
        .iter()
        .enumerate()
        .filter_map(|(index, instruction)| {
            let value = instruction.user()?;
            let at = trailing_comment(&value.value)?;
            let user = value.value[..at].trim_end();
            let comment = &value.value[at..];
            let message = format!(
                "the user is `{}`, comment included: a `#` starts a comment only at the start of a line; no image has that user, so later build steps and the container cannot start",
                value.value
            );
            // One line as written: the comment moves, the user stays.
            let fix = (value.span.text(source) == value.value).then(|| {
                let indent = &source[instruction.span.start..instruction.keyword.span.start];
                let eol = cx.style.line_ending_after(cx.file, instruction);
                Fix::new(
                    format!("move `{comment}` to its own line above `USER {user}`"),
                    Applicability::Safe,
                    vec![
                        Edit::insert(instruction.span.start, format!("{indent}{comment}{eol}")),
                        Edit::replace(
                            Span::new(value.span.start + user.len(), value.span.end),
                            "",
                        ),
                    ],
                )
            });
            Some(Finding {
                rule: ROOT_USER.name,
                span: statement_span(instruction),
                instruction: index,
                message,
                help: Some(format!(
                    "the user meant is `{user}`; put the comment on a line of its own"
                )),
                fix,
            })
        })
        .collect()
}

/// Where a `# comment` starts in a USER value (a `#` after whitespace, with a user before it).
fn trailing_comment(value: &str) -> Option<usize> {
    let at = value
        .char_indices()
        .find(|&(i, ch)| ch == '#' && value[..i].ends_with([' ', '\t']))?
        .0;
    (!value[..at].trim().is_empty()).then_some(at)
}

fn final_user(cx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    for checked in published_stages(cx.file, cx.analysis, cx.surroundings) {
        let stage = checked.stage;
        if stage.base == BaseImage::Windows || (!cx.options.all_images && !cx.is_node_stage(stage))
        {
            continue;
        }
        // A target named `test` or `dev` (built in CI, by compose) is not shipped: only the
        // last stage, which `docker build` builds by default, is reported for it.
        let unshipped = matches!(checked.role, Role::Devcontainer(_) | Role::NotForProduction(_));
        if unshipped && checked.published != Published::Last {
            continue;
        }
        let user = cx.analysis.effective_user(cx.file, stage);
        let instructions = &cx.file.instructions;
        match (&user, user.is_root()) {
            (_, Some(false)) => {}
            (
                EffectiveUser::Instruction {
                    instruction, raw, ..
                },
                None,
            ) => findings.push(Finding {
                rule: ROOT_USER.name,
                span: statement_span(&instructions[*instruction]),
                instruction: *instruction,
                message: format!(
                    "cannot tell whether `USER {raw}` is root: a variable in it has no known value"
                ),
                help: Some(
                    "give the variable a default (`ARG NAME=node`) so the user can be checked"
                        .to_string(),
                ),
                fix: None,
            }),
            (_, _) => findings.push(root_finding(cx, &checked, &user)),
        }
    }
    findings
}

/// How the report names a checked stage: `final stage `app``, `stage `release``.
fn stage_label(checked: &Checked) -> String {
    let name = checked.stage.name.as_deref();
    match (&checked.published, name) {
        (Published::Last, Some(name)) => format!("final stage `{name}`"),
        (Published::Last, None) => "final stage".to_string(),
        (_, name) => format!("stage `{}`", name.unwrap_or_default()),
    }
}

fn root_finding(cx: &Context, checked: &Checked, user: &EffectiveUser) -> Finding {
    let stage = checked.stage;
    let instructions = &cx.file.instructions;
    let label = stage_label(checked);
    let root = cx.analysis.chain(stage)[0];
    let image = root.reference.clone().unwrap_or_default();
    let (instruction, mut message) = match user {
        EffectiveUser::Instruction {
            instruction,
            raw,
            resolved,
        } if *instruction >= stage.from => (
            *instruction,
            format!(
                "{label} runs as root: last `USER` is `{raw}`{}",
                expanded_note(raw, resolved.as_deref())
            ),
        ),
        EffectiveUser::Instruction { instruction, raw, .. } => (
            stage.from,
            format!(
                "{label} runs as root: it inherits `USER {raw}` from line {}",
                instructions[*instruction].start_line
            ),
        ),
        EffectiveUser::ImageDefault(_) => (
            stage.from,
            format!("{label} runs as root: no `USER` (image `{image}` defaults to root)"),
        ),
    };
    let drop = privilege_drop(cx.file, cx.analysis, cx.surroundings, stage);
    let (fix, mut help) = if let Some(drop) = &drop {
        message = format!(
            "{label} starts as root and `{}` drops to `{}` with `{}`",
            drop.place, drop.user, drop.tool
        );
        (
            None,
            format!(
                "unroot leaves the user alone: the entrypoint needs root to start and switches to `{}` itself; check that every path through it switches before it runs the app, then {SILENCE}",
                drop.user
            ),
        )
    } else if let Some(help) = role_help(&checked.role) {
        (None, help)
    } else {
        match plan_fix(cx, stage, &checked.role, user) {
            Ok((fix, help)) => (Some(fix), help),
            Err(reason) => (None, reason),
        }
    };
    match &checked.published {
        Published::Last => {}
        Published::Target { origin } => help = format!("`{origin}` builds it as a target; {help}"),
        Published::Name => help = format!("its name says it ships; {help}"),
    }
    Finding {
        rule: ROOT_USER.name,
        span: statement_span(&instructions[instruction]),
        instruction,
        message,
        help: Some(help),
        fix,
    }
}

/// What a `USER` value with variables or quotes comes to, as BuildKit expands it.
fn expanded_note(raw: &str, resolved: Option<&str>) -> String {
    match resolved {
        Some(value) if value == raw => String::new(),
        Some("") => ", which expands to nothing: root".to_string(),
        Some(value) => format!(", which expands to `{value}`"),
        None => String::new(),
    }
}

/// How a finding without a fix is silenced once a person has looked at it.
const SILENCE: &str =
    "silence this with `# unroot ignore=root-user` on the line above the one reported";

/// Why a stage that does not run an app gets no `USER` (`None`: it runs one).
fn role_help(role: &Role) -> Option<String> {
    Some(match role {
        Role::App | Role::AppWithoutCommand => return None,
        Role::Base => format!(
            "the stage sets no CMD or ENTRYPOINT, so it looks like a base image for others, whose build steps need root: unroot adds no `USER`; if it runs an app started with a command of its own (compose `command:`), add a CMD and a `USER` by hand; if it is a base image, set the user in the images built from it and {SILENCE}"
        ),
        Role::Devcontainer(why) => format!(
            "a development container ({why}): unroot adds no `USER`; set the user in devcontainer.json (`remoteUser`, `containerUser`), or {SILENCE}"
        ),
        Role::NotForProduction(why) => format!(
            "not for production ({why}): unroot adds no `USER`; if it ships, add one by hand, or {SILENCE}"
        ),
    })
}

/// A later stage built FROM `stage` that has a RUN: a `USER` at the end of `stage` would
/// change the user that RUN runs as.
fn child_with_run<'a>(cx: &'a Context, stage: &Stage) -> Option<&'a Stage> {
    cx.analysis
        .stages
        .iter()
        .filter(|s| s.index > stage.index)
        .filter(|s| cx.analysis.chain(s).iter().any(|a| a.index == stage.index))
        .find(|s| {
            cx.file.instructions[s.from + 1..s.end]
                .iter()
                .any(|i| i.kind == Keyword::Run)
        })
}

/// The escape character that continues `instruction` past its last line (only possible at
/// the end of the file), mirroring the parser's continuation test.
fn open_continuation(instruction: &Instruction, source: &str, escape: char) -> Option<Span> {
    if !instruction.heredocs.is_empty() {
        return None;
    }
    let start = instruction.span.start;
    let text = instruction.span.text(source);
    let mut end = text.len();
    // Lines from the last one up; blank and comment lines inside a continuation are skipped.
    while end > 0 {
        let line_start = text[..end]
            .trim_end_matches(['\n', '\r'])
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = text[line_start..end].trim_end_matches(['\n', '\r', ' ', '\t']);
        let left = line.trim_start();
        if !left.is_empty() && !left.starts_with('#') {
            let before = line.strip_suffix(escape)?;
            let escaped = !before.trim_start().is_empty() && before.ends_with(escape);
            return (!escaped).then(|| {
                let at = start + line_start + before.len();
                Span::new(at, at + escape.len_utf8())
            });
        }
        end = line_start;
    }
    None
}

/// The instruction's text on its first line, from the keyword on (for reporting).
fn statement_span(instruction: &Instruction) -> Span {
    let end = instruction
        .args
        .last()
        .map_or(instruction.keyword.span.end, |arg| arg.span.end)
        .max(instruction.keyword.span.end);
    Span::new(instruction.keyword.span.start, end)
}

/// The account to switch to, and how to get it.
struct Target {
    user: String,
    /// `user:group` for `--chown`.
    owner: String,
    /// A shell command that creates the account (run before the USER).
    create: Option<String>,
    help: String,
}

fn plan_fix(
    cx: &Context,
    stage: &Stage,
    role: &Role,
    user: &EffectiveUser,
) -> Result<(Fix, String), String> {
    let target = target(cx, stage)?;
    let file = cx.file;
    let style = cx.style;
    let instructions = &file.instructions;
    let range = stage.from + 1..stage.end;
    // ONBUILD triggers run in the images built from this one, as this image's last user:
    // any USER here would change the user of an `ONBUILD RUN`.
    let onbuild_run = instructions[range.clone()].iter().any(|i| {
        i.kind == Keyword::Onbuild && i.onbuild.as_ref().is_some_and(|t| t.kind == Keyword::Run)
    });
    if onbuild_run {
        return Err(
            "an `ONBUILD RUN` runs in the images built from this one as this image's last user: a `USER` here would change who runs it; set the user in the images built from this one"
                .to_string(),
        );
    }

    let last_run = range
        .clone()
        .rev()
        .find(|&i| instructions[i].kind == Keyword::Run);
    let rewrite = match user {
        EffectiveUser::Instruction { instruction, .. }
            if *instruction >= stage.from
                && last_run.is_none_or(|run| run < *instruction)
                && target.create.is_none() =>
        {
            instructions[*instruction]
                .user()
                .map(|value| (*instruction, value.span))
        }
        _ => None,
    };

    let writable = writable_paths(file, cx.analysis, stage, cx.entrypoint_scripts());
    // The build step the USER follows.
    let at = range
        .clone()
        .rev()
        .find(|&i| {
            matches!(
                instructions[i].kind,
                Keyword::Run | Keyword::Copy | Keyword::Add | Keyword::Workdir | Keyword::User
            )
        })
        .unwrap_or(stage.from);
    let grant = grant(cx, stage, &target, &writable, at);
    // A RUN that gives paths must run as root: after the last `USER root`, not before it.
    let rewrite = rewrite.filter(|_| grant.run.is_none());

    let mut edits = grant.edits.clone();
    let title;
    if let Some((_, span)) = rewrite {
        edits.push(Edit::replace(span, target.user.clone()));
        title = format!("change the last `USER` to `USER {}`", target.user);
    } else {
        let after = at;
        let anchor = &instructions[after];
        // A line continuation at the end of the file would join the inserted lines to
        // the anchor: drop that (meaningless) escape character.
        if let Some(escape) = open_continuation(anchor, &file.source, file.escape) {
            edits.push(Edit::replace(escape, ""));
        }
        let eol = style.line_ending_after(file, anchor);
        let ends_with_newline = anchor.span.text(&file.source).ends_with('\n');
        let mut text = String::new();
        if !ends_with_newline {
            text.push_str(eol);
        }
        let mut lines = Vec::new();
        if let Some(create) = &target.create {
            lines.push(format!("{} {create}", style.keyword("RUN")));
        }
        if let Some(run) = &grant.run {
            lines.push(format!("{} {run}", style.keyword("RUN")));
        }
        lines.push(format!("{} {}", style.keyword("USER"), target.user));
        text.push_str(&lines.join(eol));
        if ends_with_newline {
            text.push_str(eol);
        }
        edits.push(Edit::insert(anchor.span.end, text));
        title = match &target.create {
            Some(_) => format!(
                "create a user and add `USER {}` after the last build step",
                target.user
            ),
            None => format!("add `USER {}` after the last build step", target.user),
        };
    }
    if cx.options.chown {
        for edit in chown_edits(cx, stage, &target) {
            if !edits.contains(&edit) {
                edits.push(edit);
            }
        }
    }
    let title = match (grant.given.as_slice(), &target.create) {
        ([], _) => title,
        (given, Some(_)) => format!(
            "create a user, give {} to it and add `USER {}` after the last build step",
            code_list(given),
            target.user
        ),
        (given, None) => format!("give {} to `{}` and {title}", code_list(given), target.user),
    };
    let mut help = format!("{}; {}", target.help, grant.help);
    // Safe: see `## Fix safety` — no RUN changes its user, and every path the app writes
    // is given to it. Unsafe when unroot cannot tell what the app writes, cannot give it,
    // or Node comes from nvm, which installs under root's home, out of the new user's reach.
    let mut reasons = grant.cannot;
    if role == &Role::AppWithoutCommand {
        reasons.push(
            "the stage sets no CMD or ENTRYPOINT: if it runs an app started with a command of its own (compose `command:`), the fix is right; if other images are built FROM it, their build steps need root and get none"
                .to_string(),
        );
    }
    if let Some(child) = child_with_run(cx, stage) {
        reasons.push(format!(
            "stage `{}` is built FROM this one and its RUNs would run as `{}` too: check that they need no root, or switch user in each stage instead",
            child.name.as_deref().unwrap_or("?"),
            target.user
        ));
    }
    let nvm = chain_instructions(cx, stage)
        .any(|i| i.kind == Keyword::Run && run_text(i).contains("nvm"));
    if nvm {
        reasons.push("Node is installed with nvm under root's home, which the new user cannot read: install it system-wide or under the user's home".to_string());
    }
    if reasons.is_empty() {
        return Ok((Fix::new(title, Applicability::Safe, edits), help));
    }
    for reason in reasons {
        help.push_str("; ");
        help.push_str(&reason);
    }
    Ok((Fix::new(title, Applicability::Unsafe, edits), help))
}

/// How the fix gives the app's writable paths to the new user.
struct Grant {
    /// `--chown` on the COPY that creates a path; a `RUN` before a `VOLUME` line.
    edits: Vec<Edit>,
    /// The command (after `RUN`) that goes just before the `USER` line.
    run: Option<String>,
    /// The paths the fix gives.
    given: Vec<String>,
    /// Why the fix is unsafe (nothing when it is not).
    cannot: Vec<String>,
    /// What the finding's help says about writable paths.
    help: String,
}

fn grant(cx: &Context, stage: &Stage, target: &Target, writable: &Writable, at: usize) -> Grant {
    let file = cx.file;
    let instructions = &file.instructions;
    let owner = &target.owner;
    let numeric = owner.split(':').all(|part| part.parse::<u32>().is_ok());
    let shell = !matches!(stage.base, BaseImage::Distroless { .. } | BaseImage::Scratch);
    let mut edits = Vec::new();
    let mut given = Vec::new();
    let mut cannot = Vec::new();
    // Paths given by a RUN: (before this VOLUME, or at the USER line; data only, path).
    let mut runs: Vec<(Option<usize>, bool, &str)> = Vec::new();
    for path in writable.paths.iter().filter(|p| !p.owned) {
        let copy = path
            .copy
            .filter(|&i| numeric || instructions[i].flag("link").is_none());
        if let Some(copy) = copy {
            let keyword = &instructions[copy].keyword;
            edits.push(Edit::insert(keyword.span.end, format!(" --chown={owner}")));
            given.push(path.path.clone());
        } else if shell {
            let before = path.volume.filter(|&volume| volume < at);
            if before.is_some_and(|volume| !root_before(cx, stage, volume)) {
                cannot.push(format!(
                    "`{}` ({}) must be given before its `VOLUME` line, where the build does not run as root",
                    path.path, path.reason
                ));
                continue;
            }
            runs.push((before, path.recursive, &path.path));
            given.push(path.path.clone());
        } else {
            cannot.push(format!(
                "`{}` ({}) must be writable, and this image has no shell: only `COPY --chown` on the COPY that creates it could give it",
                path.path, path.reason
            ));
        }
    }
    let command = |paths: &[(Option<usize>, bool, &str)]| -> Option<String> {
        let quoted = |data: bool| -> Vec<String> {
            paths
                .iter()
                .filter(|(_, recursive, _)| *recursive == data)
                .map(|(_, _, path)| shell_quote(path))
                .collect()
        };
        let fill = |template: &str, list: Vec<String>| {
            (!list.is_empty()).then(|| {
                template
                    .trim_end()
                    .replace("{paths}", &list.join(" "))
                    .replace("{owner}", owner)
            })
        };
        let parts: Vec<String> = [
            fill(include_str!("../../templates/writable/dirs.txt"), quoted(false)),
            fill(include_str!("../../templates/writable/data.txt"), quoted(true)),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join(" && "))
    };
    let mut volumes: Vec<usize> = runs.iter().filter_map(|(before, ..)| *before).collect();
    volumes.sort_unstable();
    volumes.dedup();
    for volume in volumes {
        let here: Vec<_> = runs.iter().copied().filter(|r| r.0 == Some(volume)).collect();
        if let Some(run) = command(&here) {
            let instruction = &instructions[volume];
            let eol = cx.style.line_ending_after(file, instruction);
            edits.push(Edit::insert(
                instruction.span.start,
                format!("{} {run}{eol}", cx.style.keyword("RUN")),
            ));
        }
    }
    let at_user: Vec<_> = runs.iter().copied().filter(|r| r.0.is_none()).collect();
    let run = command(&at_user);
    if !writable.unknown.is_empty() {
        cannot.push(format!(
            "unroot cannot tell everything the app writes: {}; give those paths to `{}` first",
            writable.unknown.join("; "),
            target.user
        ));
    }
    let help = match writable.paths.as_slice() {
        [] => "no path the app writes at run time was found (`VOLUME`, `RUN mkdir`, data paths in ENV): if it writes one, give it to the user".to_string(),
        paths => format!(
            "written at run time: {}",
            paths.iter().map(describe).collect::<Vec<_>>().join(", ")
        ),
    };
    Grant {
        edits,
        run,
        given,
        cannot,
        help,
    }
}

/// Whether the build runs as root just before instruction `index` of the stage chain.
fn root_before(cx: &Context, stage: &Stage, index: usize) -> bool {
    let last_user = cx
        .analysis
        .chain(stage)
        .into_iter()
        .flat_map(|s| s.from + 1..s.end)
        .rfind(|&i| i < index && cx.file.instructions[i].kind == Keyword::User);
    match last_user {
        Some(i) => cx.file.instructions[i].user().is_some_and(|value| {
            let value = crate::analysis::unquote(&value.value);
            !value.contains('$') && crate::analysis::is_root_user(&value)
        }),
        None => stage.base.default_user().is_none(),
    }
}

fn describe(path: &WritablePath) -> String {
    let given = if path.owned { ", already given" } else { "" };
    format!("`{}` ({}{given})", path.path, path.reason)
}

/// `` `a`, `b` and `c` ``.
fn code_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// `path` as one shell word.
fn shell_quote(path: &str) -> String {
    if path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+@%".contains(c))
    {
        path.to_string()
    } else {
        format!("'{}'", path.replace('\'', "'\\''"))
    }
}

/// The `USER` fix depends on the app still reaching its port: while the final stage exposes
/// a port below 1024 that no safe fix in this run moves, a non-root app cannot bind it
/// (Kubernetes, OpenShift), so the `USER` fix is no safer than the port move.
pub(super) fn hold_for_ports(cx: &Context, findings: &mut [Finding]) {
    let has_user_fix = |f: &Finding| f.rule == ROOT_USER.name && f.fix.is_some();
    if !findings.iter().any(has_user_fix) {
        return;
    }
    let Some(stage) = cx.analysis.final_stage() else {
        return;
    };
    let mut privileged: Vec<String> = Vec::new();
    for entry in exposed(cx.file, cx.analysis, stage) {
        for spec in entry.ports.iter().filter(|spec| spec.privileged()) {
            if !privileged.contains(&spec.to_string()) {
                privileged.push(spec.to_string());
            }
        }
    }
    if privileged.is_empty() {
        return;
    }
    let moved = findings
        .iter()
        .filter(|f| f.rule == super::privileged_port::PRIVILEGED_PORT.name)
        .filter(|f| {
            f.fix
                .as_ref()
                .is_some_and(|fix| fix.applicability == Applicability::Safe)
        })
        .count();
    if moved >= privileged.len() {
        return;
    }
    for finding in findings.iter_mut().filter(|f| f.rule == ROOT_USER.name) {
        let Some(fix) = finding.fix.as_mut() else {
            continue;
        };
        if fix.applicability == Applicability::Safe {
            fix.applicability = Applicability::Unsafe;
            let help = finding.help.get_or_insert_with(String::new);
            help.push_str(&format!(
                "; the app would still listen on {}, which a non-root process cannot bind under Kubernetes or OpenShift, and no safe fix moves it: apply the port move with this fix (`--unsafe-fixes`) or publish the port another way",
                code_list(&privileged)
            ));
        }
    }
}

fn chown_edits(cx: &Context, stage: &Stage, target: &Target) -> Vec<Edit> {
    let numeric = target
        .owner
        .split(':')
        .all(|part| part.parse::<u32>().is_ok());
    cx.file.instructions[stage.from + 1..stage.end]
        .iter()
        .filter(|i| matches!(i.kind, Keyword::Copy | Keyword::Add))
        .filter(|i| i.flag("from").is_none() && i.flag("chown").is_none())
        // `--link` needs numeric ids.
        .filter(|i| numeric || i.flag("link").is_none())
        .map(|i| Edit::insert(i.keyword.span.end, format!(" --chown={}", target.owner)))
        .collect()
}

fn target(cx: &Context, stage: &Stage) -> Result<Target, String> {
    let target = image_target(cx, stage)?;
    Ok(match cx.options.uid {
        Some(uid) => with_uid(cx, stage, target, uid),
        None => target,
    })
}

/// `--uid N` over the target the image gives: `--user NAME` keeps its name and takes the
/// uid for `--chown`; an image whose own user has another uid (or none) runs as `N:N`, which
/// no account of it has. An account the fix creates already has it ([`create_target`]), and
/// one the stage creates keeps its own.
fn with_uid(cx: &Context, stage: &Stage, target: Target, uid: u32) -> Target {
    let numeric = format!("{uid}:{uid}");
    if cx.options.user.is_some() {
        let named = !target.user.split(':').all(|p| p.parse::<u32>().is_ok());
        return Target {
            user: if named && !cx.options.numeric_user {
                target.user
            } else {
                numeric.clone()
            },
            owner: numeric,
            ..target
        };
    }
    if target.create.is_some() || created_here(cx, stage) {
        return target;
    }
    let image_uid = match &stage.base {
        BaseImage::OfficialNode { .. } => Some(1000),
        // No account at all: any numeric user works as well as the usual one.
        BaseImage::Scratch | BaseImage::Distro { micro: true, .. } => {
            return Target {
                user: numeric.clone(),
                owner: numeric,
                ..target
            }
        }
        _ => target
            .owner
            .split(':')
            .next()
            .and_then(|id| id.parse::<u32>().ok()),
    };
    if image_uid == Some(uid) {
        return target;
    }
    let theirs = match image_uid {
        Some(id) => format!("the image's own user is uid {id}"),
        None => "the image's own user has another uid".to_string(),
    };
    Target {
        user: numeric.clone(),
        owner: numeric,
        create: None,
        help: format!(
            "uid {uid} was chosen with `--uid`; {theirs}, so no account of the image has uid {uid} (its home is `/`)"
        ),
    }
}

/// Whether the stage creates a user itself (`useradd`/`adduser` in a RUN).
fn created_here(cx: &Context, stage: &Stage) -> bool {
    chain_instructions(cx, stage)
        .filter(|i| i.kind == Keyword::Run)
        .any(|run| created_user(&run_text(run)).is_some())
}

fn image_target(cx: &Context, stage: &Stage) -> Result<Target, String> {
    let numeric = cx.options.numeric_user;
    let plain = |user: &str, owner: &str, help: &str| Target {
        user: user.to_string(),
        owner: owner.to_string(),
        create: None,
        help: help.to_string(),
    };
    if let Some(user) = &cx.options.user {
        let owner = if user.contains(':') {
            user.clone()
        } else {
            format!("{user}:{user}")
        };
        return Ok(plain(
            user,
            &owner,
            "the user was chosen with `--user`; it must exist in the image",
        ));
    }
    const K8S: &str = "Kubernetes `runAsNonRoot` can verify only a numeric user";
    Ok(match &stage.base {
        BaseImage::OfficialNode { .. } if numeric => plain(
            "1000:1000",
            "1000:1000",
            "uid/gid 1000 is the `node` user of the official images; a numeric user satisfies Kubernetes `runAsNonRoot`",
        ),
        BaseImage::OfficialNode { .. } => plain(
            "node",
            "node:node",
            &format!("the official node images ship user `node` (uid 1000); {K8S}: `--numeric-user` writes `USER 1000:1000`"),
        ),
        BaseImage::Chainguard => plain("65532", "65532:65532", "Chainguard images run as `node` (uid 65532)"),
        BaseImage::UbiNodejs => plain("1001", "1001:0", "Red Hat nodejs images run as uid 1001, group 0"),
        BaseImage::Bitnami => plain("1001", "1001:1001", "Bitnami images use uid 1001 for the application"),
        BaseImage::Distroless { .. } => plain(
            "65532:65532",
            "65532:65532",
            "distroless has no shell: its `nonroot` user is uid/gid 65532",
        ),
        BaseImage::Scratch => plain("65532:65532", "65532:65532", "scratch has no /etc/passwd: only a numeric user works"),
        BaseImage::Distro { micro: true, .. } => plain(
            "10001:10001",
            "10001:10001",
            "ubi-micro has no package manager to create a user: a numeric user works without one",
        ),
        BaseImage::Distro { family, .. } => create_target(cx, stage, *family)?,
        BaseImage::Unknown | BaseImage::Windows => match package_family(cx, stage) {
            Some(family) => create_target(cx, stage, family)?,
            None => {
                return Err(format!(
                    "unroot does not know how to create a user on `{}`: add `USER <non-root user>` by hand or pass `--user`",
                    stage.reference.as_deref().unwrap_or("this image")
                ))
            }
        },
    })
}

/// A user the stage creates itself, or a new `app` account.
fn create_target(cx: &Context, stage: &Stage, family: Family) -> Result<Target, String> {
    let runs: Vec<&Instruction> = chain_instructions(cx, stage)
        .filter(|i| i.kind == Keyword::Run)
        .collect();
    if let Some((name, ids)) = runs.iter().rev().find_map(|run| {
        let script = run_text(run);
        created_user(&script).map(|name| (name, created_ids(&script)))
    }) {
        let numeric = ids.map(|(uid, gid)| format!("{uid}:{gid}"));
        let user = match (&numeric, cx.options.numeric_user) {
            (Some(numeric), true) => numeric.clone(),
            _ => name.clone(),
        };
        return Ok(Target {
            user,
            owner: numeric.unwrap_or_else(|| format!("{name}:{name}")),
            create: None,
            help: format!("the stage creates user `{name}` but never switches to it"),
        });
    }
    let taken: std::collections::HashSet<u32> = runs
        .iter()
        .flat_map(|run| numbers(&run_text(run)))
        .collect();
    let id = cx.options.uid.unwrap_or_else(|| {
        (CREATED_ID..)
            .find(|id| !taken.contains(id))
            .unwrap_or(CREATED_ID)
    });
    let template = match family {
        Family::Busybox => include_str!("../../templates/user/busybox.txt"),
        Family::Debian => include_str!("../../templates/user/debian.txt"),
        Family::Rhel => include_str!("../../templates/user/rhel.txt"),
        Family::RhelMinimal => include_str!("../../templates/user/rhel-minimal.txt"),
    };
    let create = template
        .trim_end()
        .replace("{user}", "app")
        .replace("{group}", "app")
        .replace("{uid}", &id.to_string())
        .replace("{gid}", &id.to_string());
    let user = if cx.options.numeric_user {
        format!("{id}:{id}")
    } else {
        "app".to_string()
    };
    Ok(Target {
        user,
        owner: format!("{id}:{id}"),
        create: Some(create),
        help: format!("the base image has no non-root user: the fix creates `app` (uid/gid {id})"),
    })
}

/// The account a `useradd`/`adduser` command in `script` creates.
fn created_user(script: &str) -> Option<String> {
    let mut found = None;
    for segment in script.split(['&', ';', '|', '\n']) {
        let words: Vec<&str> = segment.split_whitespace().collect();
        let Some(position) = words
            .iter()
            .position(|w| *w == "useradd" || *w == "adduser")
        else {
            continue;
        };
        let name = words[position + 1..].last()?.trim_matches(['"', '\'']);
        let valid = !name.starts_with('-')
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if valid && name != "root" {
            found = Some(name.to_string());
        }
    }
    found
}

/// The uid and gid a script gives the account it creates (`-u`/`--uid`, and the group's
/// `-g`/`--gid`; the gid defaults to the uid).
fn created_ids(script: &str) -> Option<(u32, u32)> {
    let mut uid = None;
    let mut gid = None;
    for segment in script.split(['&', ';', '|', '\n']) {
        let words: Vec<&str> = segment.split_whitespace().collect();
        let Some(command) = words.first().copied() else {
            continue;
        };
        let value_of = |flags: &[&str]| {
            words.windows(2).find_map(|pair| {
                if flags.contains(&pair[0]) {
                    return pair[1].parse::<u32>().ok();
                }
                let (flag, value) = pair[0].split_once('=')?;
                flags.contains(&flag).then(|| value.parse().ok()).flatten()
            })
        };
        match command {
            "useradd" | "adduser" => uid = value_of(&["-u", "--uid"]).or(uid),
            "groupadd" | "addgroup" => gid = value_of(&["-g", "--gid"]).or(gid),
            _ => {}
        }
    }
    let uid = uid?;
    Some((uid, gid.unwrap_or(uid)))
}

fn numbers(text: &str) -> Vec<u32> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// The distribution family, judged from the package manager the stages use.
fn package_family(cx: &Context, stage: &Stage) -> Option<Family> {
    chain_instructions(cx, stage)
        .filter(|i| i.kind == Keyword::Run)
        .find_map(|run| {
            let text = run_text(run);
            let has = |word: &str| {
                text.split(|c: char| c.is_whitespace() || c == ';' || c == '&')
                    .any(|w| w == word)
            };
            if has("apk") {
                Some(Family::Busybox)
            } else if has("apt-get") || has("apt") {
                Some(Family::Debian)
            } else if has("microdnf") {
                Some(Family::RhelMinimal)
            } else if has("dnf") || has("yum") {
                Some(Family::Rhel)
            } else {
                None
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_created_users() {
        assert_eq!(
            created_user("addgroup -S app && adduser -S -G app app").as_deref(),
            Some("app")
        );
        assert_eq!(
            created_user("useradd -r -u 1001 -g web web && chown web /app").as_deref(),
            Some("web")
        );
        assert_eq!(created_user("npm ci"), None);
        assert_eq!(
            created_ids("groupadd --gid 1000 node && useradd --uid 1000 --gid node -m node"),
            Some((1000, 1000))
        );
        assert_eq!(
            created_ids("addgroup -g 2000 node && adduser -u 1000 -G node -D node"),
            Some((1000, 2000))
        );
        assert_eq!(created_ids("adduser -D app"), None);
    }

    #[test]
    fn continuation_at_end_of_file_does_not_swallow_the_fix() {
        use crate::linter::{lint, LintOptions};
        // The app's CMD comes from the parent stage, so the build step can end the file.
        const APP: &str = "FROM node:22 AS app\nCMD node x\nFROM app\n";
        let fixed = |src: &str| {
            let src = src.replacen("FROM node:22\n", APP, 1);
            let fixed = lint(&src, &LintOptions::default(), Applicability::Safe)
                .unwrap()
                .fixed;
            fixed.replacen(APP, "FROM node:22\n", 1)
        };
        assert_eq!(
            fixed("FROM node:22\nRUN npm ci \\"),
            "FROM node:22\nRUN npm ci \nUSER node"
        );
        assert_eq!(
            fixed("FROM node:22\nRUN npm ci \\  \r\n# c\r\n\r\n"),
            "FROM node:22\nRUN npm ci   \r\n# c\r\n\r\nUSER node\r\n"
        );
        // `\\` at the end of a line is not a continuation; nor is a backslash under `escape=``.
        assert_eq!(
            fixed("FROM node:22\nRUN echo \\\\\n"),
            "FROM node:22\nRUN echo \\\\\nUSER node\n"
        );
        assert_eq!(
            fixed("# escape=`\nFROM node:22\nRUN echo a `\n"),
            "# escape=`\nFROM node:22\nRUN echo a \nUSER node\n"
        );
    }

    #[test]
    fn onbuild_run_gets_no_fix() {
        use crate::linter::{lint, LintOptions};
        let outcome = lint(
            "FROM node:22\nWORKDIR /app\nONBUILD COPY . .\nONBUILD RUN npm ci\nCMD node x\n",
            &LintOptions::default(),
            Applicability::Unsafe,
        )
        .unwrap();
        assert_eq!(outcome.findings.len(), 1);
        assert!(outcome.findings[0].fix.is_none());
        assert!(outcome.findings[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("ONBUILD RUN")));
    }
}
