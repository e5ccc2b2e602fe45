//! Writing a fixed file: atomically, keeping permissions, owner, group and extended
//! attributes (ACLs and SELinux labels are xattrs too), never through a
//! symlink, never over a file that changed since it was read. Files that the rename would
//! change in another way are left alone: a read-only file, a file with hard links (they would
//! be split), a file whose owner the writer cannot keep.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("changed on disk since it was read; not written (run unroot again)")]
    Changed,
    #[error("is a symbolic link; unroot does not write through links (fix the file it points to)")]
    Symlink,
    #[error("is read-only; not written (make it writable to fix it)")]
    ReadOnly,
    #[error(
        "has {0} hard links; replacing it would split them, so it is not written (fix one \
         of the links alone, or remove the others)"
    )]
    HardLinks(u64),
    #[error(
        "is owned by {0}:{1} and unroot cannot keep that owner; not written (run as its owner)"
    )]
    Owner(u32, u32),
    #[error(
        "has the extended attribute `{0}` and unroot cannot keep it; not written (run as \
         its owner, or remove the attribute)"
    )]
    Xattr(String),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Replaces `path` with `content` if the file still holds `original`: writes a temporary
/// file in the same directory with the original's permissions, syncs it, renames it over.
pub fn write_atomic(path: &Path, original: &[u8], content: &str) -> Result<(), WriteError> {
    let meta = fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(WriteError::Symlink);
    }
    if fs::read(path)? != original {
        return Err(WriteError::Changed);
    }
    check_replaceable(path, &meta)?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".unroot-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(content.as_bytes())?;
    keep_owner(temp.as_file(), &meta)?;
    keep_xattrs(path, temp.as_file())?;
    temp.as_file().set_permissions(meta.permissions())?;
    temp.as_file().sync_all()?;
    // Last check right before the rename: someone may have written meanwhile.
    if fs::read(path)? != original {
        return Err(WriteError::Changed);
    }
    temp.persist(path)
        .map_err(|err| WriteError::Io(err.error))?;
    Ok(())
}

/// Refuses what a rename would change besides the text (as ruff, which writes in place,
/// gets "Permission denied" for a read-only file).
#[cfg(unix)]
fn check_replaceable(path: &Path, meta: &fs::Metadata) -> Result<(), WriteError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if meta.permissions().mode() & 0o222 == 0 {
        return Err(WriteError::ReadOnly);
    }
    // Opening for writing changes nothing and fails where the writer may not write.
    fs::OpenOptions::new().write(true).open(path)?;
    if meta.nlink() > 1 {
        return Err(WriteError::HardLinks(meta.nlink()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_replaceable(_: &Path, meta: &fs::Metadata) -> Result<(), WriteError> {
    if meta.permissions().readonly() {
        return Err(WriteError::ReadOnly);
    }
    Ok(())
}

/// Gives the new file the original's owner and group, when they are not the writer's.
#[cfg(unix)]
fn keep_owner(file: &fs::File, original: &fs::Metadata) -> Result<(), WriteError> {
    use std::os::unix::fs::MetadataExt;
    let new = file.metadata()?;
    if (new.uid(), new.gid()) == (original.uid(), original.gid()) {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid()))
        .map_err(|_| WriteError::Owner(original.uid(), original.gid()))
}

/// Copies every extended attribute of the original onto the new file (a value the new file
/// already has, such as an inherited SELinux label, is left as it is).
#[cfg(unix)]
fn keep_xattrs(path: &Path, file: &fs::File) -> Result<(), WriteError> {
    use xattr::FileExt;
    let names = match xattr::list(path) {
        Ok(names) => names,
        Err(err) if err.kind() == io::ErrorKind::Unsupported => return Ok(()),
        Err(err) => return Err(err.into()),
    };
    for name in names {
        let Some(value) = xattr::get(path, &name)? else {
            continue;
        };
        if file.get_xattr(&name).ok().flatten().as_ref() == Some(&value) {
            continue;
        }
        file.set_xattr(&name, &value)
            .map_err(|_| WriteError::Xattr(name.to_string_lossy().into_owned()))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn keep_xattrs(_: &Path, _: &fs::File) -> Result<(), WriteError> {
    Ok(())
}

#[cfg(not(unix))]
fn keep_owner(_: &fs::File, _: &fs::Metadata) -> Result<(), WriteError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dockerfile");
        fs::write(&path, "FROM node\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_atomic(&path, b"FROM node\n", "FROM node\nUSER node\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "FROM node\nUSER node\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o640
            );
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    #[allow(clippy::print_stderr)]
    fn keeps_extended_attributes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dockerfile");
        fs::write(&path, "FROM node\n").unwrap();
        if let Err(err) = xattr::set(&path, "user.origin", b"team-a") {
            assert_eq!(err.kind(), io::ErrorKind::Unsupported, "{err}");
            eprintln!("skipped: {} has no user xattrs", dir.path().display());
            return;
        }
        write_atomic(&path, b"FROM node\n", "FROM node\nUSER node\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "FROM node\nUSER node\n");
        assert_eq!(
            xattr::get(&path, "user.origin").unwrap().as_deref(),
            Some(&b"team-a"[..])
        );
    }

    #[test]
    fn refuses_changed_files_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dockerfile");
        fs::write(&path, "FROM node:22\n").unwrap();
        assert!(matches!(
            write_atomic(&path, b"FROM node\n", "x"),
            Err(WriteError::Changed)
        ));
        assert_eq!(fs::read_to_string(&path).unwrap(), "FROM node:22\n");
        #[cfg(unix)]
        {
            let link = dir.path().join("link.Dockerfile");
            std::os::unix::fs::symlink(&path, &link).unwrap();
            assert!(matches!(
                write_atomic(&link, b"FROM node:22\n", "x"),
                Err(WriteError::Symlink)
            ));
        }
    }
}
