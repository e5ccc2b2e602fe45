//! What a Dockerfile means: stages and their chains, ARG/ENV values, the effective user,
//! the base image.

pub mod image;
pub mod node_tag;
pub mod ports;
pub mod vars;
pub mod writable;

use std::collections::HashMap;

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
    /// The FROM reference with global ARG defaults substituted (`None` if unresolvable).
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
        let mut defaults: Option<HashMap<String, String>> = None;
        let mut named: HashMap<String, usize> = HashMap::new();
        for (index, instruction) in file.instructions.iter().enumerate() {
            match instruction.kind {
                Keyword::Arg if stages.is_empty() => {
                    for (position, pair) in instruction.pairs.iter().enumerate() {
                        global_arg_definitions.insert(pair.key.value.clone(), (index, position));
                        global_args.insert(
                            pair.key.value.clone(),
                            pair.value.as_ref().map(|v| unquote(&v.value)),
                        );
                    }
                }
                Keyword::From => {
                    if let Some(last) = stages.last_mut() {
                        last.end = index;
                    }
                    let defaults = defaults.get_or_insert_with(|| {
                        global_args
                            .iter()
                            .filter_map(|(k, v): (&String, &Option<String>)| {
                                Some((k.clone(), v.clone()?))
                            })
                            .collect()
                    });
                    let stage = Self::stage(instruction, index, &stages, &named, defaults);
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
        defaults: &HashMap<String, String>,
    ) -> Stage {
        let raw = from.from_image().map(|t| t.value.as_str()).unwrap_or("");
        let reference = vars::substitute(raw, defaults);
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
            name: from.from_alias().map(|t| t.value.to_ascii_lowercase()),
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
        let mut variables = Variables::new(&self.global_args);
        for ancestor in self.chain(stage) {
            variables.enter_stage();
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
        let mut variables = Variables::new(&self.global_args);
        while let Some(step) = pending.pop() {
            match step {
                Step::Enter(index) => {
                    let stage = &self.stages[index];
                    pending.push(Step::Leave(variables.mark()));
                    variables.enter_stage();
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
                    .map(|t| t.value.clone())
                    .unwrap_or_default();
                let vars = self.variables(file, ancestor, index);
                let resolved = vars::substitute(&unquote(&raw), &vars);
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

/// The variables at one point of a stage: the ENVs of the stages it is built from, its own
/// ENVs and ARGs; ENV wins over ARG of the same name.
///
/// An ENV value is expanded twice: with the stage's ARGs, as the stage itself sees it, and
/// without them, as the stages built from it see it (unroot reads an inherited ENV that way).
#[derive(Clone, Debug)]
pub struct Variables<'a> {
    global_args: &'a HashMap<String, Option<String>>,
    /// ENVs as the stages built from this one see them.
    inherited: HashMap<String, String>,
    /// What [`Variables::undo`] restores in `inherited`: each name and its earlier value.
    log: Vec<(String, Option<String>)>,
    /// The current stage's ENVs, as it sees them.
    own: HashMap<String, String>,
    /// The current stage's ARGs.
    args: HashMap<String, String>,
}

impl<'a> Variables<'a> {
    fn new(global_args: &'a HashMap<String, Option<String>>) -> Variables<'a> {
        Variables {
            global_args,
            inherited: HashMap::new(),
            log: Vec::new(),
            own: HashMap::new(),
            args: HashMap::new(),
        }
    }

    /// Starts a stage built from the one read last (or from an image).
    fn enter_stage(&mut self) {
        self.own.clear();
        self.args.clear();
    }

    fn mark(&self) -> usize {
        self.log.len()
    }

    /// Forgets the ENVs read since `mark` (as inherited ENVs).
    fn undo(&mut self, mark: usize) {
        for (name, earlier) in self.log.drain(mark..).rev() {
            match earlier {
                Some(value) => self.inherited.insert(name, value),
                None => self.inherited.remove(&name),
            };
        }
    }

    /// Takes in the ENV or ARG `instruction` of the current stage (other instructions set
    /// nothing).
    pub fn read(&mut self, instruction: &Instruction) {
        match instruction.kind {
            Keyword::Env => {
                // The pairs of one ENV see the variables before it, not each other.
                let mut own = Vec::new();
                let mut inherited = Vec::new();
                for pair in &instruction.pairs {
                    let value = pair
                        .value
                        .as_ref()
                        .map(|v| unquote(&v.value))
                        .unwrap_or_default();
                    let name = pair.key.value.clone();
                    let seen = vars::substitute(&value, &*self);
                    let passed_on = vars::substitute(&value, &self.inherited);
                    own.push((name.clone(), seen.unwrap_or_else(|| value.clone())));
                    inherited.push((name, passed_on.unwrap_or(value)));
                }
                self.own.extend(own);
                for (name, value) in inherited {
                    let earlier = self.inherited.insert(name.clone(), value);
                    self.log.push((name, earlier));
                }
            }
            Keyword::Arg => {
                for pair in &instruction.pairs {
                    let value = match &pair.value {
                        Some(v) => Some(unquote(&v.value)),
                        None => self.global_args.get(&pair.key.value).cloned().flatten(),
                    };
                    if let Some(value) = value {
                        self.args.insert(pair.key.value.clone(), value);
                    }
                }
            }
            _ => {}
        }
    }
}

impl vars::Lookup for Variables<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.own
            .get(name)
            .or_else(|| self.inherited.get(name))
            .or_else(|| self.args.get(name))
            .map(String::as_str)
    }
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
        let user = user_of("FROM node:22\nUSER $NOPE\n");
        assert_eq!(user.is_root(), None);
        let user = user_of("FROM node:22 AS a\nFROM 0\nUSER root:root\n");
        assert_eq!(user.is_root(), Some(true));
        let user = user_of("FROM cgr.dev/chainguard/node\nCMD x\n");
        assert_eq!(user, EffectiveUser::ImageDefault(Some("65532")));
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
