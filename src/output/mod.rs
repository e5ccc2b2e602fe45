//! Rendering results: the text report, the JSON, SARIF, GitHub and diff formats, and the
//! progress bar. Only the CLI writes them out.

pub mod diff;
pub mod github;
pub mod json;
pub mod progress;
pub mod sarif;
pub mod statistics;
pub mod stream;
pub mod text;

pub use crate::linter::FileReport;
