//! Opening a file inside a layout directory: regular files only, never through a symbolic link,
//! and never blocking in open(2). `verify`'s directory scan and `export`'s `oci:` source both open
//! layout files here, so the two refuse the same layouts.
//!
//! The rule is the scan's: every symbolic link inside the layout is refused (one pointing inside
//! would be harmless, but a layout airlock writes never has one, and telling the two apart means
//! resolving paths against a tree an attacker may be changing), as is anything but a regular file
//! (FIFOs, sockets, devices). The layout root itself is the operator's argument and may be a link.

use std::fs::{self, File};
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::fsutil::same_file;

/// Why a file of a layout was not opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file, or a directory on the way to it, is a symbolic link.
    #[error("{path} is a symbolic link: a layout must hold its own bytes")]
    Link {
        /// The link.
        path: PathBuf,
    },
    /// The file is not a regular file, or a directory on the way to it is not a directory.
    #[error("{path} is not a regular file ({kind})")]
    Special {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// The file opened is not the one checked (it was replaced in between).
    #[error("{path} was replaced while it was opened")]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// The file system said no (`NotFound` among others).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl OpenError {
    /// True when the file (or a directory on its way) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, OpenError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// `O_NONBLOCK`, where its value is known without `libc` (which the crate does not depend on):
/// 0o4000 in the kernel's asm-generic, x86 and arm `fcntl.h` (x86, x86_64, arm, aarch64, riscv64).
///
/// Opening a FIFO for reading blocks in open(2) until a writer appears, so checking the file type
/// after opening would come too late. The type is checked with `lstat` first, which leaves a window
/// in which the file could be swapped for a FIFO; with this flag open(2) returns at once even
/// then, and the `fstat` check refuses the result. On regular files the flag changes nothing. On
/// other targets it is 0: the window remains there (a FIFO swapped in during it blocks the open),
/// which is the documented limit.
const O_NONBLOCK: i32 = if cfg!(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    )
)) {
    0o4000
} else {
    0
};

/// Opens `root/rel` for reading, where `rel` is a relative path of plain names (`index.json`,
/// `blobs/sha256/<hex>`). Every directory below `root` on the way must be a real directory and the
/// file a regular file, none of them a symbolic link; the file opened must be the one checked
/// (same device and inode). Returns the file and its size as the open file reports it.
pub fn open_regular(root: &Path, rel: &Path) -> Result<(File, u64), OpenError> {
    let io_err = |path: &Path, source: io::Error| OpenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut path = root.to_path_buf();
    let mut names = rel.components().peekable();
    while let Some(c) = names.next() {
        let Component::Normal(name) = c else {
            return Err(OpenError::Special {
                path: root.join(rel),
                kind: "not a plain name inside the layout",
            });
        };
        path.push(name);
        let meta = fs::symlink_metadata(&path).map_err(|e| io_err(&path, e))?;
        let ft = meta.file_type();
        if ft.is_symlink() {
            return Err(OpenError::Link { path });
        }
        let last = names.peek().is_none();
        if !last && !ft.is_dir() {
            return Err(OpenError::Special {
                path,
                kind: "not a directory",
            });
        }
        if last {
            if !ft.is_file() {
                return Err(OpenError::Special {
                    kind: crate::fsutil::kind_of(&ft),
                    path,
                });
            }
            let file = open_nonblocking(&path).map_err(|e| io_err(&path, e))?;
            let opened = file.metadata().map_err(|e| io_err(&path, e))?;
            if !opened.is_file() {
                return Err(OpenError::Special {
                    kind: crate::fsutil::kind_of(&opened.file_type()),
                    path,
                });
            }
            if !same_file(&meta, &opened) {
                return Err(OpenError::Changed { path });
            }
            return Ok((file, opened.len()));
        }
    }
    Err(OpenError::Special {
        path: root.join(rel),
        kind: "an empty name",
    })
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    let _ = O_NONBLOCK;
    File::open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_regular_files_only() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        fs::create_dir_all(root.join("blobs/sha256")).unwrap();
        fs::write(root.join("blobs/sha256/a"), b"abc").unwrap();
        let (_, n) = open_regular(root, Path::new("blobs/sha256/a")).unwrap();
        assert_eq!(n, 3);
        assert!(open_regular(root, Path::new("blobs/sha256/b"))
            .unwrap_err()
            .is_not_found());
        assert!(matches!(
            open_regular(root, Path::new("blobs/sha256")),
            Err(OpenError::Special { .. })
        ));
        assert!(matches!(
            open_regular(root, Path::new("../x")),
            Err(OpenError::Special { .. })
        ));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("blobs/sha256/a"), root.join("link")).unwrap();
            assert!(matches!(
                open_regular(root, Path::new("link")),
                Err(OpenError::Link { .. })
            ));
            std::os::unix::fs::symlink(root.join("blobs"), root.join("dirlink")).unwrap();
            assert!(matches!(
                open_regular(root, Path::new("dirlink/sha256/a")),
                Err(OpenError::Link { .. })
            ));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("fifo");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(ok.success());
        let e = open_regular(t.path(), Path::new("fifo")).unwrap_err();
        assert!(e.to_string().contains("a FIFO"), "{e}");
        if O_NONBLOCK == 0 {
            return;
        }
        // The open itself does not block on a FIFO either (the race the lstat check leaves).
        let f = open_nonblocking(&fifo).unwrap();
        assert!(!f.metadata().unwrap().is_file());
    }
}
