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
    /// Another file of the same change could not be written, so this one was not either
    /// (or was put back as it was).
    #[error(
        "not written: its fix is one change with `{0}`, which could not be written; no file of \
         that change was changed"
    )]
    WithOther(String),
    /// Another file of the same change failed after this one was written, and putting this
    /// one back failed too: it holds the fixed text.
    #[error(
        "written, but `{other}` of the same change could not be written, and restoring this \
         file failed ({error}): it holds the fixed text, the rest of the change does not"
    )]
    NotRestored {
        other: String,
        error: Box<WriteError>,
    },
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Replaces `path` with `content` if the file still holds `original`: writes a temporary
/// file in the same directory with the original's permissions, syncs it, renames it over.
pub fn write_atomic(path: &Path, original: &[u8], content: &str) -> Result<(), WriteError> {
    write_atomic_bytes(path, original, content.as_bytes())
}

/// [`write_atomic`] for any bytes (putting back a file as it was read).
fn write_atomic_bytes(path: &Path, original: &[u8], content: &[u8]) -> Result<(), WriteError> {
    let meta = check_writable(path, original)?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".unroot-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(content)?;
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

/// What [`write_atomic`] checks before it writes: `path` is no symbolic link, still holds
/// `original`, and may be replaced; its metadata, for the new file.
pub fn check_writable(path: &Path, original: &[u8]) -> Result<fs::Metadata, WriteError> {
    let meta = fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(WriteError::Symlink);
    }
    if fs::read(path)? != original {
        return Err(WriteError::Changed);
    }
    check_replaceable(path, &meta)?;
    Ok(meta)
}

/// One file of a change that spans several: its path, the bytes it was read as, its new text.
pub type Planned<'a> = (&'a Path, &'a [u8], &'a str);

/// Writes the files of one change (a port move across a Dockerfile and the files that deploy
/// it) all, or none: every file is checked first ([`check_writable`]); when one still fails
/// to be written, those written before it are put back as they were. One result per file,
/// in order.
pub fn write_together(files: &[Planned]) -> Vec<Result<(), WriteError>> {
    write_together_with(files, &mut write_atomic_bytes)
}

/// Writes `content` over a file that holds `original`.
type WriteBytes<'a> = dyn FnMut(&Path, &[u8], &[u8]) -> Result<(), WriteError> + 'a;

fn write_together_with(files: &[Planned], write: &mut WriteBytes) -> Vec<Result<(), WriteError>> {
    let shown = |path: &Path| path.display().to_string();
    let mut results: Vec<Option<Result<(), WriteError>>> = files
        .iter()
        .map(|(path, original, _)| check_writable(path, original).err().map(Err))
        .collect();
    let first_failed = files
        .iter()
        .zip(&results)
        .find(|(_, result)| result.is_some())
        .map(|((path, _, _), _)| shown(path));
    if let Some(failed) = first_failed {
        return results
            .into_iter()
            .map(|result| result.unwrap_or_else(|| Err(WriteError::WithOther(failed.clone()))))
            .collect();
    }
    let mut written = Vec::new();
    for (index, (path, original, content)) in files.iter().enumerate() {
        match write(path, original, content.as_bytes()) {
            Ok(()) => {
                written.push(index);
                results[index] = Some(Ok(()));
            }
            Err(error) => {
                results[index] = Some(Err(error));
                let failed = shown(path);
                for &done in &written {
                    let (path, original, content) = files[done];
                    // Back from the fixed text to the original, checked as every write is.
                    let restored = write(path, content.as_bytes(), original);
                    results[done] = Some(Err(match restored {
                        Ok(()) => WriteError::WithOther(failed.clone()),
                        Err(error) => WriteError::NotRestored {
                            other: failed.clone(),
                            error: Box::new(error),
                        },
                    }));
                }
                for result in results.iter_mut().skip(index + 1) {
                    *result = Some(Err(WriteError::WithOther(failed.clone())));
                }
                break;
            }
        }
    }
    results
        .into_iter()
        .map(|result| result.unwrap_or(Ok(())))
        .collect()
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

    /// Three files of one change in a temporary directory: (dir, paths).
    fn change() -> (tempfile::TempDir, Vec<std::path::PathBuf>) {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<_> = ["Dockerfile", "compose.yaml", "web.yaml"]
            .iter()
            .map(|name| dir.path().join(name))
            .collect();
        for path in &paths {
            fs::write(path, "port 80\n").unwrap();
        }
        (dir, paths)
    }

    #[cfg(unix)]
    #[test]
    fn a_change_with_a_read_only_file_writes_none_of_its_files() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, paths) = change();
        fs::set_permissions(&paths[1], fs::Permissions::from_mode(0o444)).unwrap();
        let planned: Vec<Planned> = paths
            .iter()
            .map(|p| (p.as_path(), &b"port 80\n"[..], "port 8080\n"))
            .collect();
        let results = write_together(&planned);
        assert!(matches!(results[1], Err(WriteError::ReadOnly)));
        for index in [0, 2] {
            match &results[index] {
                Err(err @ WriteError::WithOther(other)) => {
                    assert_eq!(other, &paths[1].display().to_string());
                    assert!(err
                        .to_string()
                        .contains("no file of that change was changed"));
                }
                other => panic!("{other:?}"),
            }
        }
        for path in &paths {
            assert_eq!(fs::read_to_string(path).unwrap(), "port 80\n");
        }
    }

    #[test]
    fn a_write_that_fails_midway_puts_back_the_files_written_before() {
        let (_dir, paths) = change();
        let planned: Vec<Planned> = paths
            .iter()
            .map(|p| (p.as_path(), &b"port 80\n"[..], "port 8080\n"))
            .collect();
        // The third file changes on disk after the checks, before its write.
        let third = paths[2].clone();
        let mut writes = 0;
        let results = write_together_with(&planned, &mut |path, original, content| {
            writes += 1;
            if path == third {
                fs::write(path, "someone else\n")?;
            }
            write_atomic_bytes(path, original, content)
        });
        // Two writes, the failed one, two restores.
        assert_eq!(writes, 5);
        assert!(matches!(results[2], Err(WriteError::Changed)));
        assert!(matches!(&results[0], Err(WriteError::WithOther(_))));
        assert!(matches!(&results[1], Err(WriteError::WithOther(_))));
        assert_eq!(fs::read_to_string(&paths[0]).unwrap(), "port 80\n");
        assert_eq!(fs::read_to_string(&paths[1]).unwrap(), "port 80\n");
        assert_eq!(fs::read_to_string(&paths[2]).unwrap(), "someone else\n");
    }

    #[test]
    fn a_restore_that_fails_is_said() {
        let (_dir, paths) = change();
        let planned: Vec<Planned> = paths[..2]
            .iter()
            .map(|p| (p.as_path(), &b"port 80\n"[..], "port 8080\n"))
            .collect();
        let mut calls = 0;
        let results = write_together_with(&planned, &mut |path, original, content| {
            calls += 1;
            match calls {
                1 => write_atomic_bytes(path, original, content),
                _ => Err(WriteError::Changed),
            }
        });
        match &results[0] {
            Err(err @ WriteError::NotRestored { .. }) => {
                assert!(err.to_string().contains("it holds the fixed text"), "{err}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(fs::read_to_string(&paths[0]).unwrap(), "port 8080\n");
    }
}
