//! The integration tests, one test binary (one link instead of one per file): each module
//! is what was a file of its own under tests/.

mod buildkit_semantics;
mod cli;
mod cli_conventions;
mod cli_output;
mod cli_ports;
mod common;
mod config;
mod conformance;
mod corpus;
mod deploy;
mod docs;
mod e2e;
mod formats;
mod git;
mod interactive;
mod layout;
mod modes;
mod npm;
mod nvim;
mod oracles;
mod packaging;
mod proptest_fixer;
mod proptest_parser;
mod registry;
mod roles;
mod server;
mod verbose;
mod writable;
