//! Rendering results: diffs, text and JSON reports.

pub mod diff;
