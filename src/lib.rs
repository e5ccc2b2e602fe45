//! unroot: make Node.js Dockerfiles safe to ship.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod syntax;
