//! What a Dockerfile means: stages and their chains, ARG/ENV values, the effective user,
//! the base image.

pub mod entrypoint;
pub mod image;
pub mod node_tag;
pub mod ports;
pub mod roles;
pub mod surroundings;
pub mod vars;
pub mod writable;

use foldhash::{HashMap, HashMapExt};

use crate::syntax::{Dockerfile, Instruction, Keyword};
pub use image::{BaseImage, Family, ImageRef};

/// One build stage: a FROM and the instructions up to the next FROM.
#[derive(Clone, Debug)]
pub struct Stage {
    pub index: usize,
    /// Index of the FROM instruction in `Dockerfile::instructions`.
    pub from: usize,
    /// One past the stage's last instruction.
    pub end: usize,
    /// The `AS` name, lowercased.
    pub name: Option<String>,
    /// The FROM reference with global ARG defaults substituted and quotes removed (`None` if
    /// unresolvable).
    pub reference: Option<String>,
    /// The earlier stage this one is built `FROM`.
    pub parent: Option<usize>,
    /// The external image, when the stage is not built from another stage.
    pub image: Option<ImageRef>,
    pub base: BaseImage,
}

/// Who the stage runs as at its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EffectiveUser {
    /// Set by a USER instruction (index into instructions); `resolved` is `None` when
    /// the value contains a variable without a known value.
    Instruction {
        instruction: usize,
        raw: String,
        resolved: Option<String>,
    },
    /// No USER anywhere in the chain: the base image's default (`None` = root).
    ImageDefault(Option<&'static str>),
}

impl EffectiveUser {
    /// True when this is root: no user, `root`, `0`, `root:…`, `0:…`.
    pub fn is_root(&self) -> Option<bool> {
        match self {
            EffectiveUser::Instruction { resolved, .. } => resolved.as_deref().map(is_root_user),
            EffectiveUser::ImageDefault(user) => Some(user.is_none_or(is_root_user)),
        }
    }
}

pub fn is_root_user(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name == "root" || name == "0" || name.is_empty()
}

#[derive(Debug)]
pub struct Analysis {
    pub stages: Vec<Stage>,
    /// ARGs declared before the first FROM, with their defaults.
    pub global_args: HashMap<String, Option<String>>,
    /// Where each global ARG is declared last: its instruction, and its pair in it.
    pub global_arg_definitions: HashMap<String, (usize, usize)>,
}

impl Analysis {
    pub fn of(file: &Dockerfile) -> Analysis {
        let mut global_args = HashMap::new();
        let mut global_arg_definitions = HashMap::new();
        let mut stages: Vec<Stage> = Vec::new();
        // The global ARG defaults FROM references read (fixed at the first FROM), and the
        // latest stage of each name.
        let mut defaults: Option<HashMap<String, Option<String>>> = None;
        let mut named: HashMap<String, usize> = HashMap::new();
        for (index, instruction) in file.instructions.iter().enumerate() {
            match instruction.kind {
                Keyword::Arg if stages.is_empty() => {
                    // Each default is expanded with the ARGs before it, as BuildKit does.
                    for (position, pair) in instruction.pairs.iter().enumerate() {
                        global_arg_definitions
                            .insert(pair.key.value.to_string(), (index, position));
                        let value = match &pair.value {
                            Some(v) => vars::expand(&v.value, &global_args, file.escape),
                            None => global_args.get(pair.key.value.as_str()).cloned().flatten(),
                        };
                        global_args.insert(pair.key.value.to_string(), value);
                    }
                }
                Keyword::From => {
                    if let Some(last) = stages.last_mut() {
                        last.end = index;
                    }
                    let defaults = defaults.get_or_insert_with(|| global_args.clone());
                    let stage =
                        Self::stage(instruction, index, &stages, &named, defaults, file.escape);
                    if let Some(name) = &stage.name {
                        named.insert(name.clone(), stage.index);
                    }
                    stages.push(stage);
                }
                _ => {}
            }
        }
        if let Some(last) = stages.last_mut() {
            last.end = file.instructions.len();
        }
        Analysis {
            stages,
            global_args,
            global_arg_definitions,
        }
    }

    fn stage(
        from: &Instruction,
        index: usize,
        earlier: &[Stage],
        named: &HashMap<String, usize>,
        defaults: &HashMap<String, Option<String>>,
        escape: char,
    ) -> Stage {
        // Quotes and escapes are resolved as BuildKit does: `FROM "node:lts"` is `node:lts`.
        let raw = from.from_image().map(|t| t.value.as_str()).unwrap_or("");
        let reference = vars::expand(raw, defaults, escape);
        let parent = reference.as_deref().and_then(|r| {
            let lower = r.to_ascii_lowercase();
            named
                .get(&lower)
                .copied()
                .or_else(|| lower.parse::<usize>().ok().filter(|&i| i < earlier.len()))
        });
        let image = match (&reference, parent) {
            (Some(r), None) => Some(ImageRef::parse(r)),
            _ => None,
        };
        let base = match (&image, parent) {
            (_, Some(p)) => earlier[p].base.clone(),
            (Some(image), None) => BaseImage::classify(image),
            (None, None) => BaseImage::Unknown,
        };
        Stage {
            index: earlier.len(),
            from: index,
            end: index + 1,
            name: from
                .from_alias()
                .map(|t| t.value.as_str().to_ascii_lowercase()),
            reference,
            parent,
            image,
            base,
        }
    }

    pub fn final_stage(&self) -> Option<&Stage> {
        self.stages.last()
    }

    /// The stage and its ancestors, root-most first.
    pub fn chain(&self, stage: &Stage) -> Vec<&Stage> {
        let mut current = &self.stages[stage.index];
        let mut chain = vec![current];
        while let Some(parent) = current.parent {
            // Parents always come earlier, so this terminates.
            current = &self.stages[parent];
            chain.push(current);
        }
        chain.reverse();
        chain
    }

    /// The variables (ENV, and ARG values of the stage itself) visible just before
    /// instruction `at` of `stage`.
    pub fn variables<'a>(&'a self, file: &Dockerfile, stage: &Stage, at: usize) -> Variables<'a> {
        let mut variables = Variables::new(&self.global_args, file.escape);
        for ancestor in self.chain(stage) {
            variables.enter_stage(ancestor);
            let end = if ancestor.index == stage.index {
                at.min(ancestor.end)
            } else {
                ancestor.end
            };
            for instruction in &file.instructions[ancestor.from + 1..end] {
                variables.read(instruction);
            }
        }
        variables
    }

    /// Calls `visit` with every instruction of every stage (by index) and the variables just
    /// before it, each stage after the stage it is built from. One pass over the file: the
    /// ENVs of a stage are shared by the stages built from it, not copied.
    pub fn for_each_instruction(
        &self,
        file: &Dockerfile,
        mut visit: impl FnMut(&Stage, usize, &Variables),
    ) {
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); self.stages.len()];
        let mut pending: Vec<Step> = Vec::new();
        for stage in self.stages.iter().rev() {
            match stage.parent {
                Some(parent) => children[parent].push(stage.index),
                None => pending.push(Step::Enter(stage.index)),
            }
        }
        let mut variables = Variables::new(&self.global_args, file.escape);
        while let Some(step) = pending.pop() {
            match step {
                Step::Enter(index) => {
                    let stage = &self.stages[index];
                    pending.push(Step::Leave(variables.mark()));
                    variables.enter_stage(stage);
                    for at in stage.from + 1..stage.end {
                        visit(stage, at, &variables);
                        variables.read(&file.instructions[at]);
                    }
                    // `children` lists later stages first: the earliest is entered first.
                    pending.extend(children[index].iter().map(|&child| Step::Enter(child)));
                }
                Step::Leave(mark) => variables.undo(mark),
            }
        }
    }

    /// Who `stage` runs as at its end.
    pub fn effective_user(&self, file: &Dockerfile, stage: &Stage) -> EffectiveUser {
        for ancestor in self.chain(stage).into_iter().rev() {
            let user = (ancestor.from + 1..ancestor.end)
                .rev()
                .find(|&i| file.instructions[i].kind == Keyword::User);
            if let Some(index) = user {
                let raw = file.instructions[index]
                    .user()
                    .map(|t| t.value.to_string())
                    .unwrap_or_default();
                let vars = self.variables(file, ancestor, index);
                let resolved = vars::expand(&raw, &vars, file.escape);
                return EffectiveUser::Instruction {
                    instruction: index,
                    raw,
                    resolved,
                };
            }
        }
        EffectiveUser::ImageDefault(stage.base.default_user())
    }
}

/// A step of [`Analysis::for_each_instruction`]'s walk down the stage tree.
enum Step {
    Enter(usize),
    /// Back out of a stage: forget its ENVs.
    Leave(usize),
}

/// The variables at one point of a stage, as BuildKit's dispatcher has them: every ENV and ARG
/// value is expanded once, where it is defined, with the variables before it (an unset one is
/// empty). A stage built from another starts with all of that stage's variables, ARGs
/// included (`dispatchState.init` copies the base stage's LLB state and build args). ENV wins
/// over an ARG of the same name.
#[derive(Clone, Debug)]
pub struct Variables<'a> {
    global_args: &'a HashMap<String, Option<String>>,
    escape: char,
    vars: HashMap<String, Var>,
    /// What [`Variables::undo`] restores: each name and its earlier value.
    log: Vec<(String, Option<Var>)>,
    /// The names the base image sets, whose values unroot does not know; `None`: the base
    /// image may set any name.
    image_env: Option<&'static [&'static str]>,
}

#[derive(Clone, Debug)]
struct Var {
    /// `None`: not known before the build (`ARG V` without a default: a `--build-arg`).
    value: Option<String>,
    env: bool,
}

/// The environment `base` sets, as far as unroot knows it (see [`Variables::image_env`]).
fn image_env(base: &BaseImage) -> Option<&'static [&'static str]> {
    match base {
        BaseImage::OfficialNode { .. } => Some(&["PATH", "NODE_VERSION", "YARN_VERSION"]),
        BaseImage::Scratch => Some(&[]),
        BaseImage::Distroless { .. } => Some(&["PATH", "SSL_CERT_FILE"]),
        BaseImage::Distro {
            family: Family::Busybox | Family::Debian,
            ..
        } => Some(&["PATH"]),
        _ => None,
    }
}

impl<'a> Variables<'a> {
    fn new(global_args: &'a HashMap<String, Option<String>>, escape: char) -> Variables<'a> {
        Variables {
            global_args,
            escape,
            vars: HashMap::new(),
            log: Vec::new(),
            image_env: None,
        }
    }

    /// Starts `stage`: one built from an image starts empty (with that image's environment),
    /// one built from the stage read last keeps its variables.
    fn enter_stage(&mut self, stage: &Stage) {
        if stage.parent.is_none() {
            self.vars.clear();
            self.log.clear();
            self.image_env = image_env(&stage.base);
        }
    }

    fn mark(&self) -> usize {
        self.log.len()
    }

    /// Forgets the variables set since `mark`.
    fn undo(&mut self, mark: usize) {
        for (name, earlier) in self.log.drain(mark..).rev() {
            match earlier {
                Some(value) => self.vars.insert(name, value),
                None => self.vars.remove(&name),
            };
        }
    }

    fn set(&mut self, name: String, var: Var) {
        let earlier = self.vars.insert(name.clone(), var);
        self.log.push((name, earlier));
    }

    /// Takes in the ENV or ARG `instruction` of the current stage (other instructions set
    /// nothing).
    pub fn read(&mut self, instruction: &Instruction) {
        match instruction.kind {
            Keyword::Env => {
                // The pairs of one ENV see the variables before it, not each other.
                let values: Vec<(String, Option<String>)> = instruction
                    .pairs
                    .iter()
                    .map(|pair| {
                        let raw = pair.value.as_ref().map_or("", |v| v.value.as_str());
                        (
                            pair.key.value.to_string(),
                            vars::expand(raw, &*self, self.escape),
                        )
                    })
                    .collect();
                for (name, value) in values {
                    self.set(name, Var { value, env: true });
                }
            }
            Keyword::Arg => {
                // One after the other: `ARG A=1 B=$A` gives B the value 1.
                for pair in &instruction.pairs {
                    let name = pair.key.value.as_str();
                    if self.vars.get(name).is_some_and(|var| var.env) {
                        continue;
                    }
                    let value = match &pair.value {
                        Some(v) => vars::expand(&v.value, &*self, self.escape),
                        None => self.global_args.get(name).cloned().flatten(),
                    };
                    self.set(name.to_string(), Var { value, env: false });
                }
            }
            _ => {}
        }
    }
}

impl vars::Lookup for Variables<'_> {
    fn value(&self, name: &str) -> vars::Value<'_> {
        match self.vars.get(name) {
            Some(Var {
                value: Some(value), ..
            }) => vars::Value::Set(value),
            Some(Var { value: None, .. }) => vars::Value::Unknown,
            None => match self.image_env {
                Some(names) if !names.contains(&name) => vars::Value::Unset,
                _ => vars::Value::Unknown,
            },
        }
    }
}

/// The command text of a RUN (shell form or JSON), heredoc bodies included.
pub(crate) fn run_text(run: &Instruction) -> String {
    let mut text: String = run
        .args
        .iter()
        .map(|a| a.value.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    for heredoc in &run.heredocs {
        text.push('\n');
        text.push_str(&heredoc.content);
    }
    text
}

/// Removes one level of surrounding quotes, as the shell would for a plain value.
pub fn unquote(value: &str) -> String {
    value[unquoted_range(value)].to_string()
}

/// The byte range of `value` inside one level of matching surrounding quotes (all of it
/// when it is not quoted).
pub fn unquoted_range(value: &str) -> std::ops::Range<usize> {
    let bytes = value.as_bytes();
    if bytes.len() >= 2
        && (bytes[0] == b'"' || bytes[0] == b'\'')
        && bytes[bytes.len() - 1] == bytes[0]
    {
        1..value.len() - 1
    } else {
        0..value.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn user_of(src: &str) -> EffectiveUser {
        let file = parse(src).unwrap();
        let analysis = Analysis::of(&file);
        analysis.effective_user(&file, analysis.final_stage().unwrap())
    }

    #[test]
    fn follows_stage_chains_and_args() {
        let user = user_of("FROM node:22 AS base\nUSER node\nFROM base\nCMD x\n");
        assert_eq!(user.is_root(), Some(false));
        let user = user_of("FROM node:22\nARG APP_USER=node\nUSER ${APP_USER}\n");
        assert_eq!(user.is_root(), Some(false));
        // Unset is empty, and an empty user is root (BuildKit).
        let user = user_of("FROM node:22\nUSER $NOPE\n");
        assert_eq!(user.is_root(), Some(true));
        // A build argument, or a base image whose environment unroot does not know.
        let user = user_of("FROM node:22\nARG NOPE\nUSER $NOPE\n");
        assert_eq!(user.is_root(), None);
        let user = user_of("FROM example.com/base\nUSER $APP_USER\n");
        assert_eq!(user.is_root(), None);
        let user = user_of("FROM node:22 AS a\nFROM 0\nUSER root:root\n");
        assert_eq!(user.is_root(), Some(true));
        let user = user_of("FROM cgr.dev/chainguard/node\nCMD x\n");
        assert_eq!(user, EffectiveUser::ImageDefault(Some("65532")));
    }

    fn resolved_user(src: &str) -> Option<String> {
        match user_of(src) {
            EffectiveUser::Instruction { resolved, .. } => resolved,
            other => panic!("no USER: {other:?}"),
        }
    }

    #[test]
    fn values_are_expanded_where_they_are_defined() {
        let user = |src| resolved_user(src).unwrap_or_else(|| "<unknown>".to_string());
        assert_eq!(
            user("FROM node:22\nARG R=root\nARG X=${R}\nUSER ${X}\n"),
            "root"
        );
        assert_eq!(user("FROM node:22\nARG R=root X=$R\nUSER $X\n"), "root");
        assert_eq!(user("FROM node:22\nENV X=${NOPE}\nUSER ${X}\n"), "");
        assert_eq!(user("FROM node:22\nENV X=\"a b\"\nUSER $X\n"), "a b");
        assert_eq!(user("FROM node:22\nENV X=${NOPE:-node}\nUSER $X\n"), "node");
        assert_eq!(
            user("FROM node:22\nENV A=app\nENV X=${A:+node}\nUSER $X\n"),
            "node"
        );
        // The pairs of one ENV do not see each other.
        assert_eq!(
            user("FROM node:22\nENV A=app X=${A:+node}\nUSER x$X\n"),
            "x"
        );
        // An ENV expanded later does not change: ENV X=$A then ARG A=1 leaves X empty.
        assert_eq!(user("FROM node:22\nENV X=$A\nARG A=node\nUSER x$X\n"), "x");
        // ENV wins over an ARG of the same name.
        assert_eq!(
            user("FROM node:22\nENV U=node\nARG U=root\nUSER $U\n"),
            "node"
        );
        // Global ARGs: `ARG U` in the stage takes the default, expanded before FROM.
        assert_eq!(
            user("ARG R=root\nARG U=$R\nFROM node:22\nARG U\nUSER $U\n"),
            "root"
        );
        assert_eq!(user("FROM node:22\nUSER \"node\"\n"), "node");
    }

    #[test]
    fn child_stages_see_the_values_of_their_parent() {
        // BuildKit: `ENV P=$D` is expanded in the parent, and the child keeps that value
        // (and sees the parent's ARGs too).
        let src = "FROM node:22 AS base\nARG D=node\nENV P=$D\nFROM base\nUSER $P\n";
        assert_eq!(resolved_user(src).as_deref(), Some("node"));
        let src = "FROM node:22 AS base\nARG D=node\nFROM base\nUSER $D\n";
        assert_eq!(resolved_user(src).as_deref(), Some("node"));
        // A sibling stage does not see them.
        let src = "FROM node:22 AS a\nARG D=node\nFROM node:22\nUSER x$D\n";
        assert_eq!(resolved_user(src).as_deref(), Some("x"));
    }

    #[test]
    fn from_is_unquoted() {
        for src in [
            "FROM \"node:lts\"\n",
            "FROM 'node':lts\n",
            "FROM no\\de:lts\n",
        ] {
            let file = parse(src).unwrap();
            let analysis = Analysis::of(&file);
            let stage = analysis.final_stage().unwrap();
            assert_eq!(stage.reference.as_deref(), Some("node:lts"), "{src}");
            assert_eq!(stage.base, BaseImage::OfficialNode { alpine: false });
        }
    }

    #[test]
    fn global_args_resolve_from() {
        let file = parse("ARG V=22\nFROM node:${V}-alpine\n").unwrap();
        let analysis = Analysis::of(&file);
        let stage = analysis.final_stage().unwrap();
        assert_eq!(stage.reference.as_deref(), Some("node:22-alpine"));
        assert_eq!(stage.base, BaseImage::OfficialNode { alpine: true });
    }
}
