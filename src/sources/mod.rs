//! What unroot knows from outside the files it checks: the Node.js release table and the
//! registries that serve image digests.

pub mod registry;
pub mod releases;
