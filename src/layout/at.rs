//! File operations relative to a directory handle (`openat` and friends), never following a
//! link in the name: what the blob writer and export's staging build on.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};

/// Opens a folder below `dir` without following a link.
pub fn open_subdir(dir: impl AsFd, name: impl AsRef<Path>) -> io::Result<OwnedFd> {
    Ok(rfs::openat(
        dir,
        name.as_ref(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Creates a new file below `dir`: refuses an existing name, never follows a link.
pub fn create_file(dir: impl AsFd, name: impl AsRef<Path>) -> io::Result<File> {
    let fd = rfs::openat(
        dir,
        name.as_ref(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o666),
    )?;
    Ok(File::from(fd))
}

/// Renames within one folder.
pub fn rename(dir: impl AsFd, from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let d = dir.as_fd();
    Ok(rfs::renameat(d, from.as_ref(), d, to.as_ref())?)
}

/// Removes a file (not a directory) below `dir`.
pub fn unlink(dir: impl AsFd, name: impl AsRef<Path>) -> io::Result<()> {
    Ok(rfs::unlinkat(dir, name.as_ref(), AtFlags::empty())?)
}

/// The type and identity of a name below `dir`, without following a link.
pub fn stat_at(
    dir: impl AsFd,
    name: impl AsRef<Path>,
) -> io::Result<Option<(FileType, u64, u64, u32)>> {
    match rfs::statat(dir, name.as_ref(), AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some((
            FileType::from_raw_mode(st.st_mode),
            st.st_dev,
            st.st_ino,
            st.st_uid,
        ))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
