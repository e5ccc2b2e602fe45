//! Which stages of a Dockerfile ship as images that run an app, and what the others are:
//! base images for other Dockerfiles, builders, devcontainers, images not for production.

use super::entrypoint::{sets_no_command, start_commands, Command};
use super::surroundings::Surroundings;
use super::{unquote, Analysis, BaseImage, Stage};
use crate::syntax::{Dockerfile, Keyword};

/// Stage names that say the stage ships (compared whole).
const SHIPPING_NAMES: &[&str] = &["release", "production", "prod", "runtime", "final"];

/// Words of a stage, file or label value that say it is not for production.
const NOT_PRODUCTION: &[&str] = &[
    "dev",
    "devel",
    "develop",
    "development",
    "test",
    "tests",
    "testing",
    "ci",
    "debug",
    "local",
];

/// Why a stage is checked as a published image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// The file's last stage: what `docker build` builds.
    Last,
    /// The repository builds it with `--target` (or `target:`) in this file.
    Target { origin: String },
    /// Its name says it ships (`release`, `production`…).
    Name,
}

/// What a published stage is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// An image that runs an app: it should run as non-root.
    App,
    /// Sets no CMD or ENTRYPOINT on a base whose own command is not an app: a base image
    /// that other images are built FROM (their build steps need root), or an app an
    /// orchestrator starts with a command of its own. Only a person can tell.
    Base,
    /// Sets no CMD or ENTRYPOINT but copies files from the build context: most likely an app
    /// that an orchestrator starts with a command of its own (compose `command:`), but it
    /// may be a base image too.
    AppWithoutCommand,
    /// A development container (`.devcontainer/`, `sleep infinity`): not shipped.
    Devcontainer(String),
    /// Its name or a label says it is not for production.
    NotForProduction(String),
}

/// A stage to check, why, and what it is for.
#[derive(Clone, Debug)]
pub struct Checked<'a> {
    pub stage: &'a Stage,
    pub published: Published,
    pub role: Role,
}

/// The stages that ship: the last one, the targets the repository builds and the stages
/// named as shipping, each with its role. Builder stages (used only by `COPY --from` or a
/// later `FROM`) are not among them.
pub fn published_stages<'a>(
    file: &Dockerfile,
    analysis: &'a Analysis,
    surroundings: &Surroundings,
) -> Vec<Checked<'a>> {
    let last = analysis.stages.len().saturating_sub(1);
    analysis
        .stages
        .iter()
        .filter_map(|stage| {
            let name = stage.name.as_deref();
            let published = if stage.index == last {
                Published::Last
            } else if let Some(target) = name.and_then(|n| surroundings.target(n)) {
                Published::Target {
                    origin: target.origin.clone(),
                }
            } else if name.is_some_and(|n| SHIPPING_NAMES.contains(&n)) {
                Published::Name
            } else {
                return None;
            };
            Some(Checked {
                stage,
                published,
                role: role(file, analysis, surroundings, stage),
            })
        })
        .collect()
}

/// What `stage` is for.
pub fn role(
    file: &Dockerfile,
    analysis: &Analysis,
    surroundings: &Surroundings,
    stage: &Stage,
) -> Role {
    if surroundings.in_devcontainer {
        return Role::Devcontainer("it is under `.devcontainer/`".to_string());
    }
    let commands = start_commands(file, analysis, stage);
    if let Some(command) = commands.iter().find(|c| keeps_idle(c)) {
        return Role::Devcontainer(format!(
            "it starts `{}`, which keeps a development container open",
            command.join(" ")
        ));
    }
    for ancestor in analysis.chain(stage) {
        for instruction in &file.instructions[ancestor.from + 1..ancestor.end] {
            if instruction.kind != Keyword::Label {
                continue;
            }
            for pair in &instruction.pairs {
                let key = unquote(&pair.key.value).to_ascii_lowercase();
                if key == "devcontainer.metadata" {
                    return Role::Devcontainer(
                        "it has a `devcontainer.metadata` label".to_string(),
                    );
                }
                let value = pair
                    .value
                    .as_ref()
                    .map(|v| unquote(&v.value))
                    .unwrap_or_default();
                let last = key.rsplit(['.', '/', '-', '_']).next().unwrap_or(&key);
                if matches!(last, "env" | "environment" | "stage" | "purpose" | "usage")
                    && not_production(&value)
                {
                    return Role::NotForProduction(format!("its label `{key}={value}` says so"));
                }
            }
        }
    }
    if let Some(name) = stage.name.as_deref().filter(|n| not_production(n)) {
        return Role::NotForProduction(format!("its name `{name}` says so"));
    }
    if let Some(name) = surroundings
        .file_name
        .as_deref()
        .filter(|n| not_production(n))
    {
        return Role::NotForProduction(format!("the file name `{name}` says so"));
    }
    let root_base = &analysis.chain(stage)[0].base;
    if sets_no_command(file, analysis, stage) && *root_base != BaseImage::Unknown {
        let copies_context = analysis.chain(stage).iter().any(|ancestor| {
            file.instructions[ancestor.from + 1..ancestor.end]
                .iter()
                .any(|i| matches!(i.kind, Keyword::Copy | Keyword::Add) && i.flag("from").is_none())
        });
        return if copies_context {
            Role::AppWithoutCommand
        } else {
            Role::Base
        };
    }
    Role::App
}

/// A name whose words (split at `-`, `_`, `.`) include one that says "not for production";
/// `Dockerfile` itself does not count.
fn not_production(name: &str) -> bool {
    name.to_ascii_lowercase()
        .split(['-', '_', '.', ' ', '/'])
        .any(|word| NOT_PRODUCTION.contains(&word))
}

/// `sleep infinity`, `tail -f /dev/null` and the like: a container kept open for someone to
/// work in.
fn keeps_idle(command: &Command) -> bool {
    let words: Vec<&str> = command
        .iter()
        .map(String::as_str)
        .skip_while(|w| *w == "exec")
        .collect();
    match words.as_slice() {
        ["sleep", "infinity" | "inf"] => true,
        ["tail", flags @ .., "/dev/null"] => {
            flags.iter().any(|f| f.starts_with('-') && f.contains('f'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::surroundings::Target;
    use crate::syntax::parse;

    fn roles(src: &str, surroundings: &Surroundings) -> Vec<(Option<String>, Published, Role)> {
        let file = parse(src).unwrap();
        let analysis = Analysis::of(&file);
        published_stages(&file, &analysis, surroundings)
            .into_iter()
            .map(|c| (c.stage.name.clone(), c.published, c.role))
            .collect()
    }

    #[test]
    fn published_stages_are_the_last_targets_and_shipping_names() {
        let src = "FROM node:22 AS deps\nRUN npm ci\nFROM node:22 AS release\nCMD node a\nFROM node:22 AS api\nCMD node b\nFROM node:22 AS prod-deps\nRUN npm ci\nFROM node:22 AS dev\nCMD npm run dev\n";
        let surroundings = Surroundings {
            targets: vec![Target {
                name: "api".to_string(),
                origin: "Makefile".to_string(),
            }],
            ..Surroundings::default()
        };
        let found = roles(src, &surroundings);
        let names: Vec<(Option<&str>, &Published, &Role)> =
            found.iter().map(|(n, p, r)| (n.as_deref(), p, r)).collect();
        assert_eq!(
            names,
            vec![
                (Some("release"), &Published::Name, &Role::App),
                (
                    Some("api"),
                    &Published::Target {
                        origin: "Makefile".to_string()
                    },
                    &Role::App
                ),
                (
                    Some("dev"),
                    &Published::Last,
                    &Role::NotForProduction("its name `dev` says so".to_string())
                ),
            ]
        );
    }

    #[test]
    fn roles_of_stages() {
        let none = Surroundings::default();
        let role_of = |src: &str, s: &Surroundings| roles(src, s).pop().unwrap().2;
        assert_eq!(
            role_of("FROM node:22\nRUN npm i -g pnpm\n", &none),
            Role::Base
        );
        assert_eq!(
            role_of("FROM myorg/app\nRUN apk add nodejs\n", &none),
            Role::App
        );
        assert_eq!(role_of("FROM node:22\nCMD node x\n", &none), Role::App);
        assert!(matches!(
            role_of("FROM node:22\nCMD [\"sleep\", \"infinity\"]\n", &none),
            Role::Devcontainer(_)
        ));
        assert!(matches!(
            role_of("FROM node:22\nCMD tail -f /dev/null\n", &none),
            Role::Devcontainer(_)
        ));
        let devcontainer = Surroundings {
            in_devcontainer: true,
            ..Surroundings::default()
        };
        assert!(matches!(
            role_of("FROM node:22\nCMD node x\n", &devcontainer),
            Role::Devcontainer(_)
        ));
        assert!(matches!(
            role_of(
                "FROM node:22\nLABEL com.example.environment=\"development\"\nCMD node x\n",
                &none
            ),
            Role::NotForProduction(_)
        ));
        let dev_file = Surroundings {
            file_name: Some("dockerfile.dev".to_string()),
            ..Surroundings::default()
        };
        assert!(matches!(
            role_of("FROM node:22\nCMD node x\n", &dev_file),
            Role::NotForProduction(_)
        ));
        // Words, not substrings: `latest`, `devops`, `contest` say nothing.
        assert_eq!(
            role_of("FROM node:22 AS devops\nCMD node x\n", &none),
            Role::App
        );
    }
}
