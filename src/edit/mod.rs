//! Edits and fixes as plain data: byte-range splices on the original text.

mod apply;
pub mod style;

pub use apply::{apply_fixes, Applied};

use serde::Serialize;

use crate::syntax::Span;

/// How sure a fix is. Ordered: `Unsafe < Safe`, so `fix.applies(threshold)` is one comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Needs a change outside the Dockerfile (e.g. the port the app listens on):
    /// applied only with `--unsafe-fixes`.
    Unsafe,
    /// Applied by `--write`.
    Safe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Unsafe => "unsafe",
            Applicability::Safe => "safe",
        }
    }
}

/// Replace `span` of the original text with `content` (an empty span inserts).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Edit {
    pub span: Span,
    pub content: String,
}

impl Edit {
    pub fn insert(at: usize, content: impl Into<String>) -> Edit {
        Edit {
            span: Span::empty(at),
            content: content.into(),
        }
    }

    pub fn replace(span: Span, content: impl Into<String>) -> Edit {
        Edit {
            span,
            content: content.into(),
        }
    }
}

/// The edits that resolve one finding, applied all together or not at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// Imperative, e.g. "add `USER node` after the last RUN".
    pub title: String,
    pub applicability: Applicability,
    /// Sorted by position, never overlapping.
    pub edits: Vec<Edit>,
}

impl Fix {
    pub fn new(
        title: impl Into<String>,
        applicability: Applicability,
        mut edits: Vec<Edit>,
    ) -> Fix {
        edits.sort();
        debug_assert!(
            edits
                .windows(2)
                .all(|pair| pair[0].span.end <= pair[1].span.start),
            "edits of one fix must not overlap"
        );
        Fix {
            title: title.into(),
            applicability,
            edits,
        }
    }

    pub fn applies(&self, threshold: Applicability) -> bool {
        self.applicability >= threshold
    }
}
