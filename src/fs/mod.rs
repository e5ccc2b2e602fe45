//! The file system: finding Dockerfiles, writing fixed ones, and paths as shown.

pub mod discover;
pub mod paths;
pub mod write;
