//! Paths as unroot resolves and shows them.

use std::path::{Component, Path, PathBuf};

/// `path` made absolute against `cwd`, with `.` and `..` removed lexically.
pub fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    // Most paths are spelled plainly already (as a walk finds them): then joining is all.
    if is_plain(path) && (path.is_absolute() || is_plain(cwd) && cwd.is_absolute()) {
        return cwd.join(path);
    }
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

/// `path` has no component `absolute` would drop or rewrite: no `.`, `..` or empty name
/// (`//`, a trailing `/`); on Unix, where that is a question of bytes.
pub(crate) fn is_plain(path: &Path) -> bool {
    if cfg!(windows) {
        return false;
    }
    let bytes = path.as_os_str().as_encoded_bytes();
    let names = bytes.strip_prefix(b"/").unwrap_or(bytes);
    !names.is_empty()
        && names
            .split(|&byte| byte == b'/')
            .all(|name| !matches!(name, b"" | b"." | b".."))
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
        for (cwd, path) in [
            ("/work/repo", "svc/Dockerfile"),
            ("/work/repo", "/srv/app/Dockerfile"),
            ("/", "Dockerfile"),
            ("/work//repo/", "a//b/"),
            ("/work/./repo", "./a/./b"),
            ("relative/cwd", "a/b"),
            ("/work/repo", ""),
            ("/work/repo", "/"),
        ] {
            let lexical: PathBuf = Path::new(cwd).join(path).components().collect();
            let made = absolute(Path::new(cwd), Path::new(path));
            assert_eq!(made.as_os_str(), lexical.as_os_str(), "{cwd} + {path}");
        }
    }
}
