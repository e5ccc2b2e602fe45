//! What a stage's container starts with: its ENTRYPOINT and CMD, the scripts among them that
//! the Dockerfile copies from the build context, and whether they drop root privileges
//! themselves (`gosu`, `su-exec`, `setpriv`…), which needs root at start.

use super::surroundings::Surroundings;
use super::{Analysis, BaseImage, Stage};
use crate::syntax::{Dockerfile, Instruction, Keyword};

/// One simple command: its words, quotes removed, nothing expanded.
pub type Command = Vec<String>;

/// The entrypoint the official `node` images set.
const NODE_ENTRYPOINT: &str = "/usr/local/bin/docker-entrypoint.sh";

/// Where a bare command name is looked up (the default `PATH` of the images).
const PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// What a container starts as root and then switches away from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drop {
    /// The command that switches (`gosu`, `setpriv`, `PUID/PGID`).
    pub tool: String,
    /// The user it switches to, as written (`node`, `$APP_USER`).
    pub user: String,
    /// Where: `ENTRYPOINT`, `CMD`, or the script's path in the build context.
    pub place: String,
}

/// A script ENTRYPOINT/CMD may run, and where in the build context it may come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptRequest {
    pub image_path: String,
    /// Paths relative to the build context, most likely first.
    pub sources: Vec<String>,
}

/// The last ENTRYPOINT and CMD of the stage's chain.
fn start_instructions<'a>(
    file: &'a Dockerfile,
    analysis: &Analysis,
    stage: &Stage,
) -> (Option<&'a Instruction>, Option<&'a Instruction>) {
    let mut entrypoint = None;
    let mut cmd = None;
    for ancestor in analysis.chain(stage) {
        for instruction in &file.instructions[ancestor.from + 1..ancestor.end] {
            match instruction.kind {
                Keyword::Entrypoint => entrypoint = Some(instruction),
                Keyword::Cmd => cmd = Some(instruction),
                _ => {}
            }
        }
    }
    (entrypoint, cmd)
}

/// True when the stage's chain sets neither ENTRYPOINT nor CMD.
pub fn sets_no_command(file: &Dockerfile, analysis: &Analysis, stage: &Stage) -> bool {
    start_instructions(file, analysis, stage) == (None, None)
}

/// The words of a CMD/ENTRYPOINT: the JSON array, or the shell form's commands.
fn instruction_commands(instruction: &Instruction) -> Vec<Command> {
    if instruction.json {
        let words: Command = instruction
            .args
            .iter()
            .map(|a| a.value.to_string())
            .collect();
        let mut commands = vec![words.clone()];
        // `["sh", "-c", "chown … && exec gosu node …"]`: the script's own commands.
        for word in words.iter().filter(|w| w.contains(' ')) {
            commands.extend(shell_commands(word));
        }
        commands
    } else {
        let text: Vec<&str> = instruction.args.iter().map(|a| a.value.as_str()).collect();
        shell_commands(&text.join(" "))
    }
}

/// The commands the stage's container starts with: ENTRYPOINT and CMD as the Dockerfile
/// writes them (the official node image's `docker-entrypoint.sh` when it sets no ENTRYPOINT).
pub fn start_commands(file: &Dockerfile, analysis: &Analysis, stage: &Stage) -> Vec<Command> {
    let (entrypoint, cmd) = start_instructions(file, analysis, stage);
    let mut commands = Vec::new();
    match entrypoint {
        Some(instruction) => commands.extend(instruction_commands(instruction)),
        None if matches!(stage.base, BaseImage::OfficialNode { .. }) => {
            commands.push(vec![NODE_ENTRYPOINT.to_string()]);
        }
        None => {}
    }
    if let Some(instruction) = cmd {
        commands.extend(instruction_commands(instruction));
    }
    commands
}

/// `path` joined to `base` with `.` and `..` removed (`None` when it holds a variable).
fn join(base: &str, path: &str) -> Option<String> {
    if path.contains('$') || base.contains('$') {
        return None;
    }
    let mut joined = String::with_capacity(base.len() + path.len() + 2);
    let mut push = |text: &str| {
        for part in text.split('/') {
            match part {
                "" | "." => {}
                ".." => joined.truncate(joined.rfind('/').unwrap_or(0)),
                name => {
                    joined.push('/');
                    joined.push_str(name);
                }
            }
        }
    };
    if !path.starts_with('/') {
        push(base);
    }
    push(path);
    if joined.is_empty() {
        joined.push('/');
    }
    Some(joined)
}

/// The scripts the stage's ENTRYPOINT/CMD may run that a COPY/ADD of the chain brings in
/// from the build context, with the context paths they may be read from.
pub fn script_requests(
    file: &Dockerfile,
    analysis: &Analysis,
    stage: &Stage,
) -> Vec<ScriptRequest> {
    let commands = start_commands(file, analysis, stage);
    if commands.is_empty() {
        return Vec::new();
    }
    // The image paths the start commands may name.
    let mut workdir = "/".to_string();
    let mut copies: Vec<(String, bool, Vec<String>)> = Vec::new();
    for ancestor in analysis.chain(stage) {
        for instruction in &file.instructions[ancestor.from + 1..ancestor.end] {
            match instruction.kind {
                Keyword::Workdir => {
                    if let Some(dir) = instruction
                        .args
                        .first()
                        .and_then(|arg| join(&workdir, &super::unquote(&arg.value)))
                    {
                        workdir = dir;
                    }
                }
                Keyword::Copy | Keyword::Add
                    if instruction.flag("from").is_none()
                        && instruction.heredocs.is_empty()
                        && instruction.args.len() >= 2 =>
                {
                    let (dest, sources) = instruction.args.split_last().expect("two args");
                    let dest_text = super::unquote(&dest.value);
                    let Some(dest_path) = join(&workdir, &dest_text) else {
                        continue;
                    };
                    let is_dir = dest_text.ends_with('/') || sources.len() > 1;
                    let sources = sources
                        .iter()
                        .map(|s| super::unquote(&s.value))
                        .filter(|s| !s.contains("://") && !s.contains(['*', '?', '[', '$']))
                        .collect();
                    copies.push((dest_path, is_dir, sources));
                }
                _ => {}
            }
        }
    }
    if copies.is_empty() {
        // Nothing comes from the build context: no script to read.
        return Vec::new();
    }
    // A path no COPY destination is or holds cannot come from the build context.
    let covered = |path: &str| {
        copies.iter().any(|(dest, _, _)| {
            path == dest
                || path
                    .strip_prefix(dest.trim_end_matches('/'))
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    let mut named: Vec<String> = Vec::new();
    let mut consider = |candidate: &str| {
        if covered(candidate) && !named.iter().any(|known| known == candidate) {
            named.push(candidate.to_string());
        }
    };
    let mut on_path = String::new();
    for command in &commands {
        for word in command.iter().take(6) {
            if word.starts_with('-') || word.is_empty() || word.contains(['$', ' ', '=']) {
                continue;
            }
            if let Some(joined) = join(&workdir, word) {
                consider(&joined);
            }
            if !word.contains('/') {
                for dir in PATH {
                    on_path.clear();
                    on_path.push_str(dir);
                    on_path.push('/');
                    on_path.push_str(word);
                    consider(&on_path);
                }
            }
        }
    }
    let mut requests = Vec::new();
    for image_path in named {
        let mut sources = Vec::new();
        // The last COPY that could have put the file there wins: try it first.
        for (dest, is_dir, copied) in copies.iter().rev() {
            for source in copied {
                let source = source.trim_end_matches('/');
                let name = source.rsplit('/').next().unwrap_or(source);
                if !is_dir && image_path == *dest {
                    sources.push(source.to_string());
                }
                if let Some(rest) = image_path
                    .strip_prefix(dest.trim_end_matches('/'))
                    .and_then(|rest| rest.strip_prefix('/'))
                {
                    if rest == name {
                        sources.push(source.to_string());
                    }
                    // The source is a directory copied into `dest`.
                    let inside = match source {
                        "" | "." => rest.to_string(),
                        _ => format!("{source}/{rest}"),
                    };
                    sources.push(inside);
                }
            }
        }
        sources.dedup();
        if !sources.is_empty() {
            requests.push(ScriptRequest {
                image_path,
                sources,
            });
        }
    }
    requests
}

/// How the stage's container drops root privileges at start, if it does: in its
/// ENTRYPOINT/CMD, or in a script they run that the linter read.
pub fn privilege_drop(
    file: &Dockerfile,
    analysis: &Analysis,
    surroundings: &Surroundings,
    stage: &Stage,
) -> Option<Drop> {
    let (entrypoint, cmd) = start_instructions(file, analysis, stage);
    for instruction in [entrypoint, cmd].into_iter().flatten() {
        if let Some((tool, user)) = drop_in(&instruction_commands(instruction), "") {
            let place = match instruction.kind {
                Keyword::Entrypoint => "ENTRYPOINT",
                _ => "CMD",
            };
            return Some(Drop {
                tool,
                user,
                place: place.to_string(),
            });
        }
    }
    if surroundings.scripts.is_empty() {
        // Nothing was read around the Dockerfile: no script to look in.
        return None;
    }
    script_requests(file, analysis, stage)
        .iter()
        .filter_map(|request| surroundings.script(&request.image_path))
        .find_map(|script| {
            let (tool, user) = drop_in(&script.commands(), &script.text)?;
            Some(Drop {
                tool,
                user,
                place: script.source.clone(),
            })
        })
}

/// The first privilege-dropping command among `commands` (`text`: the script they come
/// from, for the `PUID`/`PGID` convention), and the user it switches to.
pub fn drop_in(commands: &[Command], text: &str) -> Option<(String, String)> {
    for command in commands {
        for (at, word) in command.iter().enumerate() {
            let name = word.rsplit('/').next().unwrap_or(word);
            if let Some(user) = switched_user(name, &command[at + 1..]) {
                return Some((name.to_string(), user));
            }
        }
    }
    // linuxserver.io and others: the user's ids come from `PUID`/`PGID`, set with usermod.
    let puid = text.contains("PUID") && text.contains("PGID");
    let remaps = ["usermod", "groupmod", "chown"]
        .iter()
        .any(|tool| text.contains(tool));
    (puid && remaps).then(|| ("PUID/PGID".to_string(), "$PUID".to_string()))
}

/// A user name, uid or variable as a command's argument.
fn user_word(word: &str) -> Option<String> {
    let valid = !word.is_empty()
        && !word.starts_with(['-', '>', '<', '&', '|'])
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:${}".contains(c));
    valid.then(|| word.to_string())
}

/// The user `tool` with arguments `args` switches to, when it is a privilege-dropping tool.
fn switched_user(tool: &str, args: &[String]) -> Option<String> {
    let value = |flags: &[&str]| {
        args.iter().enumerate().find_map(|(i, arg)| {
            if let Some((flag, value)) = arg.split_once('=') {
                return flags.contains(&flag).then(|| value.to_string());
            }
            flags
                .contains(&arg.as_str())
                .then(|| args.get(i + 1).cloned())
                .flatten()
        })
    };
    let user = match tool {
        "gosu" | "su-exec" | "s6-setuidgid" | "setuidgid" => args.first().cloned(),
        "setpriv" => value(&["--reuid", "--ruid", "--euid"]),
        "chroot" => {
            value(&["--userspec"]).map(|spec| spec.split(':').next().unwrap_or("").to_string())
        }
        "chpst" => value(&["-u"]).map(|spec| {
            spec.trim_start_matches(':')
                .split(':')
                .next()
                .unwrap_or("")
                .to_string()
        }),
        "runuser" => value(&["-u", "--user"]).or_else(|| su_user(args)),
        "su" => su_user(args),
        _ => None,
    }?;
    user_word(&user)
}

/// The user of `su [options] USER -c CMD` (or `su -c CMD USER`); only with a command.
fn su_user(args: &[String]) -> Option<String> {
    if !args
        .iter()
        .any(|a| a == "-c" || a == "--command" || a.starts_with("--command="))
    {
        return None;
    }
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "-c"
            | "--command"
            | "-s"
            | "--shell"
            | "-g"
            | "--group"
            | "-G"
            | "--supp-group"
            | "-w"
            | "--whitelist-environment" => {
                words.next();
            }
            "-" | "--" => {}
            w if w.starts_with('-') => {}
            w => return Some(w.to_string()),
        }
    }
    None
}

/// Splits a shell script into simple commands: comments dropped, quotes removed, commands
/// separated at newlines, `;`, `&&`, `||`, `|`, `&` and parentheses. Nothing is expanded.
pub fn shell_commands(text: &str) -> Vec<Command> {
    let mut commands = Vec::new();
    let mut command: Command = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    let end_word = |command: &mut Command, word: &mut String, in_word: &mut bool| {
        if *in_word {
            command.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    word.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(next) = chars.next() {
                                word.push(next);
                            }
                        }
                        c => word.push(c),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(next) => {
                    in_word = true;
                    word.push(next);
                }
                None => {}
            },
            '#' if !in_word => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                end_word(&mut command, &mut word, &mut in_word);
                if !command.is_empty() {
                    commands.push(std::mem::take(&mut command));
                }
            }
            '\n' | ';' | '&' | '|' | '(' | ')' => {
                end_word(&mut command, &mut word, &mut in_word);
                if !command.is_empty() {
                    commands.push(std::mem::take(&mut command));
                }
            }
            c if c.is_whitespace() => end_word(&mut command, &mut word, &mut in_word),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut command, &mut word, &mut in_word);
    if !command.is_empty() {
        commands.push(command);
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn words(text: &str) -> Vec<Vec<&str>> {
        shell_commands(text)
            .into_iter()
            .map(|c| c.into_iter().map(|w| &*w.leak()).collect())
            .collect()
    }

    #[test]
    fn joins_paths_as_the_shell_resolves_them() {
        for (base, path, joined) in [
            ("/", "app", "/app"),
            ("/app/", "./bin//start.sh", "/app/bin/start.sh"),
            ("/app", "../usr/../etc/", "/etc"),
            ("/app", "/abs/./x", "/abs/x"),
            ("/", "..", "/"),
            ("/a/b", "../../..", "/"),
            ("", "", "/"),
        ] {
            assert_eq!(join(base, path).as_deref(), Some(joined), "{base} + {path}");
        }
        assert_eq!(join("/app", "$DIR/x"), None);
        assert_eq!(join("$HOME", "x"), None);
    }

    #[test]
    fn splits_scripts_into_commands() {
        assert_eq!(
            words("#!/bin/sh\nset -e # strict\nchown -R node /data && exec gosu node \"$@\"\n"),
            vec![
                vec!["set", "-e"],
                vec!["chown", "-R", "node", "/data"],
                vec!["exec", "gosu", "node", "$@"]
            ]
        );
        assert_eq!(
            words("echo 'a # b' \"c;d\"; x\\\n y"),
            vec![vec!["echo", "a # b", "c;d"], vec!["x", "y"]]
        );
    }

    #[test]
    fn finds_privilege_drops() {
        let drop = |script: &str| drop_in(&shell_commands(script), script);
        let found = |tool: &str, user: &str| Some((tool.to_string(), user.to_string()));
        assert_eq!(drop("exec gosu node \"$@\""), found("gosu", "node"));
        assert_eq!(
            drop("set -- su-exec app:app \"$@\"\nexec \"$@\""),
            found("su-exec", "app:app")
        );
        assert_eq!(
            drop("exec setpriv --reuid=node --regid=node --init-groups \"$@\""),
            found("setpriv", "node")
        );
        assert_eq!(
            drop("exec /usr/bin/setpriv --reuid 1000 node x"),
            found("setpriv", "1000")
        );
        assert_eq!(
            drop("exec s6-setuidgid abc node x"),
            found("s6-setuidgid", "abc")
        );
        assert_eq!(
            drop("exec chroot --userspec=node:node / node x"),
            found("chroot", "node")
        );
        assert_eq!(
            drop("exec runuser -u web -- node x"),
            found("runuser", "web")
        );
        assert_eq!(drop("exec su node -c 'node x'"), found("su", "node"));
        assert_eq!(
            drop("exec su -s /bin/sh -c 'node x' app"),
            found("su", "app")
        );
        assert_eq!(
            drop("groupmod -o -g \"$PGID\" abc\nusermod -o -u \"$PUID\" abc\nexec node x"),
            found("PUID/PGID", "$PUID")
        );
        // Mentions that drop nothing.
        assert_eq!(drop("command -v gosu; echo 'use gosu node'"), None);
        assert_eq!(drop("su -"), None);
        assert_eq!(drop("chroot /srv node x"), None);
        assert_eq!(drop("setpriv --no-new-privs node x"), None);
    }

    fn stage_of(src: &str) -> (Dockerfile, Analysis) {
        let file = parse(src).unwrap();
        let analysis = Analysis::of(&file);
        (file, analysis)
    }

    #[test]
    fn requests_the_scripts_the_entrypoint_runs() {
        let (file, analysis) = stage_of(
            "FROM node:22\nWORKDIR /app\nCOPY docker/entrypoint.sh /usr/local/bin/\nCOPY . .\nENTRYPOINT [\"entrypoint.sh\"]\nCMD [\"./start.sh\"]\n",
        );
        let requests = script_requests(&file, &analysis, analysis.final_stage().unwrap());
        let find = |path: &str| {
            requests
                .iter()
                .find(|r| r.image_path == path)
                .map(|r| r.sources.clone())
        };
        assert_eq!(
            find("/usr/local/bin/entrypoint.sh"),
            Some(vec![
                "docker/entrypoint.sh".to_string(),
                "docker/entrypoint.sh/entrypoint.sh".to_string()
            ])
        );
        assert_eq!(find("/app/start.sh"), Some(vec!["start.sh".to_string()]));
        // Inherited from the official node image: its entrypoint, overwritten by a COPY.
        let (file, analysis) = stage_of(
            "FROM node:22\nCOPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh\nCMD node x\n",
        );
        let requests = script_requests(&file, &analysis, analysis.final_stage().unwrap());
        assert_eq!(requests.len(), 1, "{requests:?}");
        assert_eq!(
            requests[0].sources,
            vec!["docker-entrypoint.sh".to_string()]
        );
    }

    #[test]
    fn drops_in_the_dockerfile_and_in_scripts() {
        let (file, analysis) = stage_of(
            "FROM node:22\nCMD [\"sh\", \"-c\", \"chown node /d && exec gosu node node x\"]\n",
        );
        let drop = privilege_drop(
            &file,
            &analysis,
            &Surroundings::default(),
            analysis.final_stage().unwrap(),
        )
        .unwrap();
        assert_eq!(
            (drop.tool.as_str(), drop.user.as_str(), drop.place.as_str()),
            ("gosu", "node", "CMD")
        );

        let (file, analysis) = stage_of(
            "FROM node:22\nCOPY entry.sh /entry.sh\nENTRYPOINT [\"/entry.sh\"]\nCMD node x\n",
        );
        let stage = analysis.final_stage().unwrap();
        assert_eq!(
            privilege_drop(&file, &analysis, &Surroundings::default(), stage),
            None
        );
        let surroundings = Surroundings {
            scripts: vec![super::super::surroundings::Script {
                image_path: "/entry.sh".to_string(),
                source: "entry.sh".to_string(),
                text: "#!/bin/sh\nexec su-exec node \"$@\"\n".to_string(),
            }],
            ..Surroundings::default()
        };
        let drop = privilege_drop(&file, &analysis, &surroundings, stage).unwrap();
        assert_eq!(
            (drop.tool.as_str(), drop.user.as_str(), drop.place.as_str()),
            ("su-exec", "node", "entry.sh")
        );
    }
}
