//! unroot: make Node.js Dockerfiles safe to ship.
//!
//! The modules form a pipeline and each imports only those below it:
//!
//! - `cli`: flags, modes, exit status (only `main.rs` imports it);
//! - `git`: `--branch`, `--push`, `--pr`;
//! - `server`: `unroot server`, the language server (it calls the check API as the CLI does);
//! - `settings`: the configuration of each file, with what a command line or an editor sets
//!   over it as plain data ([`settings::Overrides`]); no command line here;
//! - `linter`: one file through the pipeline, the check API every caller uses;
//! - `output`: the report formats;
//! - `rules` → `analysis` → `edit` → `syntax`: findings, what they are made from, the edits
//!   that fix them, and the lossless parser;
//! - `fs` (discovering and writing files) and `sources` (release table, registries) beside.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub(crate) mod analysis;
pub mod cli;
pub(crate) mod deploy;
pub mod edit;
pub(crate) mod fs;
pub(crate) mod git;
pub mod linter;
pub(crate) mod output;
pub mod rules;
pub mod server;
pub mod settings;
pub(crate) mod sources;
pub mod syntax;
pub(crate) mod yaml;

pub use analysis::{Analysis, ImageRef};
pub use fs::discover::is_dockerfile_name;
pub use output::diff::unified_diff;
