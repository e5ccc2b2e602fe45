//! unroot: make Node.js Dockerfiles safe to ship.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod analysis;
pub mod cli;
pub mod config;
pub mod discover;
pub mod edit;
pub mod error;
pub mod git;
pub mod interactive;
pub mod lint;
pub mod output;
pub mod registry;
pub mod releases;
pub mod rules;
pub mod settings;
pub mod syntax;
pub mod write;
