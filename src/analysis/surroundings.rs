//! What the linter read around a Dockerfile before the rules run: plain data, so the rules
//! stay free of I/O (see `src/linter/surroundings.rs` for how it is read).

use super::entrypoint::{shell_commands, Command};

/// The repository and build context around one Dockerfile.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Surroundings {
    /// The Dockerfile is under a `.devcontainer/` directory.
    pub in_devcontainer: bool,
    /// The Dockerfile's own name, lowercased (`dockerfile.dev`).
    pub file_name: Option<String>,
    /// Stage names the repository builds with `--target` (or `target:`), where each was seen.
    pub targets: Vec<Target>,
    /// Scripts that ENTRYPOINT/CMD run, read from the build context.
    pub scripts: Vec<Script>,
}

/// A stage name the repository builds as a target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Lowercased, as stage names are compared.
    pub name: String,
    /// The file that names it, relative to the repository root (`Makefile`).
    pub origin: String,
}

/// A script copied into the image and run by ENTRYPOINT or CMD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    /// Where the image has it (`/usr/local/bin/docker-entrypoint.sh`).
    pub image_path: String,
    /// Where it was read, relative to the build context (`docker/entrypoint.sh`).
    pub source: String,
    pub text: String,
}

impl Script {
    /// The script's simple commands, split into words as the shell would (roughly: quotes
    /// removed, no expansion).
    pub fn commands(&self) -> Vec<Command> {
        shell_commands(&self.text)
    }
}

impl Surroundings {
    /// The target named `name` (lowercased), if the repository builds one.
    pub fn target(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|target| target.name == name)
    }

    /// The script the image has at `image_path`, if it was read.
    pub fn script(&self, image_path: &str) -> Option<&Script> {
        self.scripts
            .iter()
            .find(|script| script.image_path == image_path)
    }
}
