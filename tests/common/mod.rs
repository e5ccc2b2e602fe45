//! What the integration tests share.

use std::path::{Path, PathBuf};

/// A folder of the shared corpus (`../shared/corpus/<group>`, `""` for the corpus itself).
/// Panics (fails the test) when it is missing: these tests never pass without it.
pub fn corpus(group: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(group);
    assert!(
        dir.is_dir(),
        "the shared corpus is missing: expected a folder at {} \
         (these tests cannot pass without it)",
        dir.display()
    );
    dir
}
