//! Paths as unroot resolves and shows them.

use std::path::{Component, Path, PathBuf};

/// `path` made absolute against `cwd`, with `.` and `..` removed lexically.
pub fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in cwd.join(path).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A path relative to the current directory when it is inside it, else as it is.
pub fn shown_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    // The current directory as the shell spells it (the paths unroot finds) or resolved.
    let spellings = [cwd.clone(), cwd.and_then(|cwd| cwd.canonicalize().ok())];
    spellings
        .into_iter()
        .flatten()
        .find_map(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .filter(|relative| !relative.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_absolute_lexically() {
        let cwd = Path::new("/work/repo");
        assert_eq!(
            absolute(cwd, Path::new("a/../b/./Dockerfile")),
            Path::new("/work/repo/b/Dockerfile")
        );
        assert_eq!(absolute(cwd, Path::new(".")), Path::new("/work/repo"));
        assert_eq!(absolute(cwd, Path::new("/x/../y")), Path::new("/y"));
        assert_eq!(absolute(cwd, Path::new("../../..")), Path::new("/"));
    }
}
