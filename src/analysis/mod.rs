//! What a Dockerfile means: stages and their chains, ARG/ENV values, the effective user,
//! the base image.

pub mod image;
pub mod node_tag;
pub mod vars;

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
}

impl Analysis {
    pub fn of(file: &Dockerfile) -> Analysis {
        let mut global_args = HashMap::new();
        let mut stages: Vec<Stage> = Vec::new();
        for (index, instruction) in file.instructions.iter().enumerate() {
            match instruction.kind {
                Keyword::Arg if stages.is_empty() => {
                    for pair in &instruction.pairs {
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
                    stages.push(Self::stage(
                        instruction,
                        index,
                        stages.len(),
                        &stages,
                        &global_args,
                    ));
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
        }
    }

    fn stage(
        from: &Instruction,
        index: usize,
        stage_index: usize,
        earlier: &[Stage],
        global_args: &HashMap<String, Option<String>>,
    ) -> Stage {
        let defaults: HashMap<String, String> = global_args
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.clone()?)))
            .collect();
        let raw = from.from_image().map(|t| t.value.as_str()).unwrap_or("");
        let reference = vars::substitute(raw, &defaults);
        let parent = reference.as_deref().and_then(|r| {
            let lower = r.to_ascii_lowercase();
            earlier
                .iter()
                .rev()
                .find(|s| s.name.as_deref() == Some(lower.as_str()))
                .map(|s| s.index)
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
            index: stage_index,
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
    pub fn variables(
        &self,
        file: &Dockerfile,
        stage: &Stage,
        at: usize,
    ) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = HashMap::new();
        for ancestor in self.chain(stage) {
            let is_current = ancestor.index == stage.index;
            let mut args: HashMap<String, String> = HashMap::new();
            let end = if is_current {
                at.min(ancestor.end)
            } else {
                ancestor.end
            };
            for instruction in &file.instructions[ancestor.from + 1..end] {
                match instruction.kind {
                    Keyword::Env => {
                        let scope = merged(&env, &args);
                        for pair in &instruction.pairs {
                            let value = pair
                                .value
                                .as_ref()
                                .map(|v| unquote(&v.value))
                                .unwrap_or_default();
                            let value = vars::substitute(&value, &scope).unwrap_or(value);
                            env.insert(pair.key.value.clone(), value);
                        }
                    }
                    Keyword::Arg if is_current => {
                        for pair in &instruction.pairs {
                            let value = match &pair.value {
                                Some(v) => Some(unquote(&v.value)),
                                None => self.global_args.get(&pair.key.value).cloned().flatten(),
                            };
                            if let Some(value) = value {
                                args.insert(pair.key.value.clone(), value);
                            }
                        }
                    }
                    _ => {}
                }
            }
            if is_current {
                return merged(&env, &args);
            }
        }
        env
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

/// ENV wins over ARG of the same name.
fn merged(
    env: &HashMap<String, String>,
    args: &HashMap<String, String>,
) -> HashMap<String, String> {
    let mut all = args.clone();
    all.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
    all
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
