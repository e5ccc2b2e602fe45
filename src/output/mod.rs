//! Rendering results: the text report, the machine formats (JSON, JSON lines, SARIF, GitHub,
//! GitLab, rdjson, checkstyle, JUnit, diff), and the progress bar. Only the CLI writes them out.

pub mod diff;
pub mod fingerprint;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod progress;
pub mod rdjson;
pub mod sarif;
pub mod statistics;
pub mod stream;
pub mod text;
pub mod xml;

pub use crate::linter::FileReport;
