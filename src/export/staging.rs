//! Outputs that never destroy what is there (issue 9): an advisory lock per output, staging under
//! unpredictable names created exclusively and never through a symbolic link, recognition of what
//! an existing output is, an atomic swap into place, and cleanup on errors and signals.
//!
//! Every name airlock creates beside an output `OUT` is `.OUT.airlock-KIND[-PID-RANDOM]`:
//!
//! | kind | what |
//! |---|---|
//! | `lock` | the advisory lock (`flock`), taken before anything else and removed at the end |
//! | `partial-PID-RANDOM` | a directory being built; adopted (blobs re-hashed) by the next run after a crash |
//! | `tmp-PID-RANDOM` | a tarball being written |
//! | `old-PID-RANDOM` | the previous output during a non-atomic swap (renamed back if a run died between the renames) |
//! | `scratch-PID-RANDOM` | `oci-archive:` sources extracted for reading |
//! | `spool-PID-RANDOM` | blobs of a tarball fetched ahead of their turn (`export --jobs`), appended in order |
//!
//! Files and directories are created with `O_EXCL`/`mkdir` and `O_NOFOLLOW`, blobs of a staging
//! directory are written relative to a directory handle (`openat`), so a name planted in the
//! output's folder (a symbolic link to elsewhere) is never written through. Whoever holds the lock
//! knows every other staging name of that output is stale (its writer died), so the next run
//! removes them, or adopts a partial directory.
//!
//! Signals: the one handler of `fsutil::cleanup` ([`install_signal_handler`]) records SIGINT,
//! SIGTERM or SIGHUP; copy loops call [`check_interrupted`] and unwind, dropping the guards that
//! remove staging; if the main thread does not finish within two seconds (blocked on the network,
//! say), the handler removes every registered staging path itself and exits with 128 + the signal.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, FileType, Mode, OFlags};

// The handle-relative file operations live in `layout` (the blob writer needs them); export's
// staging uses them under their old names.
pub use crate::layout::at::{create_file, open_subdir, rename, stat_at, unlink};
// The one signal handler and the guards it honours (`fsutil::cleanup`), under export's names.
use crate::fsutil::cleanup::{self, remove_any};
pub use crate::fsutil::cleanup::{check_interrupted, install_signal_handler, interrupted, Guard};

/// 16 random hex digits (aws-lc's system RNG).
fn random_hex() -> String {
    let mut b = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        // No RNG: the exclusive creation below still refuses any planted name.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // The low 64 bits of the nanoseconds.
        b = u64::try_from(nanos & u128::from(u64::MAX))
            .unwrap_or(0)
            .to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The folder holding `out` and `out`'s file name.
pub fn split(out: &Path) -> io::Result<(PathBuf, String)> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n != "." && n != "..")
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} does not name a file or directory", out.display()),
            )
        })?;
    Ok((parent, name))
}

fn prefix(name: &str) -> String {
    format!(".{name}.airlock-")
}

/// A fresh staging name for `name` of `kind`.
pub fn fresh_name(name: &str, kind: &str) -> String {
    format!(
        "{}{kind}-{}-{}",
        prefix(name),
        std::process::id(),
        random_hex()
    )
}

/// Opens a folder as a handle (following links in the path the user gave: it is theirs).
pub fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    Ok(rfs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// Opens an existing regular file below `dir` for reading, never through a link.
pub fn open_file(dir: impl AsFd, name: impl AsRef<Path>) -> io::Result<File> {
    let fd = rfs::openat(
        dir,
        name.as_ref(),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    )?;
    let st = rfs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    Ok(File::from(fd))
}

/// Creates a new directory below `dir` (fails if the name exists, as a link or anything else).
pub fn create_dir(dir: impl AsFd, name: impl AsRef<Path>) -> io::Result<()> {
    Ok(rfs::mkdirat(
        dir,
        name.as_ref(),
        Mode::from_raw_mode(0o777),
    )?)
}

/// The names in a folder, by handle.
pub fn list(dir: impl AsFd) -> io::Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for e in rfs::Dir::read_from(dir)? {
        let e = e?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            out.push(n.to_vec());
        }
    }
    Ok(out)
}

/// The advisory lock on an output, held until dropped (then its file is removed).
#[derive(Debug)]
pub struct Lock {
    dir: OwnedFd,
    name: String,
    path: PathBuf,
    _file: OwnedFd,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Remove the name while still holding the lock: a waiter that opened the same file then
        // sees, after locking, that the name no longer leads to it, and starts over.
        let _ = unlink(&self.dir, &self.name);
        cleanup::unregister(&self.path);
    }
}

/// Why an output cannot be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("another airlock export is writing {0} (its lock {1} is held); wait for it, or choose another -o")]
    Busy(String, String),
    /// The lock file could not be made.
    #[error("cannot lock {0}: {1}")]
    Io(String, io::Error),
}

/// Takes the lock of output `name` in the folder `dir` (handle) at `parent` (path, for messages).
pub fn lock(dir: &OwnedFd, parent: &Path, name: &str) -> Result<Lock, LockError> {
    let lock_name = format!("{}lock", prefix(name));
    let path = parent.join(&lock_name);
    let io_err = |e: io::Error| LockError::Io(path.display().to_string(), e);
    for _ in 0..8 {
        let fd = rfs::openat(
            dir,
            lock_name.as_str(),
            OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| io_err(e.into()))?;
        match rfs::flock(&fd, rfs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(LockError::Busy(
                    parent.join(name).display().to_string(),
                    path.display().to_string(),
                ))
            }
            Err(e) => return Err(io_err(e.into())),
        }
        let mine = rfs::fstat(&fd).map_err(|e| io_err(e.into()))?;
        match stat_at(dir, lock_name.as_str()).map_err(io_err)? {
            Some((FileType::RegularFile, dev, ino, _))
                if dev == mine.st_dev && ino == mine.st_ino =>
            {
                let dir = dir.try_clone().map_err(io_err)?;
                cleanup::register(&path);
                return Ok(Lock {
                    dir,
                    name: lock_name,
                    path,
                    _file: fd,
                });
            }
            // The holder removed the name after we opened it: take the new one.
            _ => continue,
        }
    }
    Err(io_err(io::Error::other("the lock file keeps changing")))
}

/// What an existing output is.
#[derive(Debug, PartialEq, Eq)]
pub enum Existing {
    /// Nothing by that name.
    Nothing,
    /// An empty directory.
    EmptyDir,
    /// A bundle airlock wrote (its export record lists every image it holds).
    OwnBundle,
    /// A directory that is not: the reason.
    ForeignDir(String),
    /// A regular file.
    File,
    /// A symbolic link (never followed).
    Symlink,
    /// A FIFO, device or socket.
    Special,
}

/// Looks at what `name` below `dir` is, without following links.
pub fn existing(dir: &OwnedFd, name: &str) -> io::Result<Existing> {
    Ok(match stat_at(dir, name)? {
        None => Existing::Nothing,
        Some((FileType::Symlink, ..)) => Existing::Symlink,
        Some((FileType::RegularFile, ..)) => Existing::File,
        Some((FileType::Directory, ..)) => {
            let d = open_subdir(dir, name)?;
            if list(&d)?.is_empty() {
                Existing::EmptyDir
            } else {
                match own_bundle(&d) {
                    Ok(()) => Existing::OwnBundle,
                    Err(why) => Existing::ForeignDir(why),
                }
            }
        }
        Some(_) => Existing::Special,
    })
}

fn read_small(dir: impl AsFd, name: impl AsRef<Path>) -> Result<Vec<u8>, String> {
    let n = name.as_ref().display().to_string();
    let f = open_file(dir, name.as_ref()).map_err(|e| format!("{n}: {e}"))?;
    crate::layout::read_capped(f, 4 << 20)
        .map_err(|e| format!("{n}: {e}"))?
        .ok_or_else(|| format!("{n} is over 4 MiB"))
}

/// Whether the directory is a bundle airlock wrote: only `oci-layout`, `index.json` and `blobs/`
/// at its top, one trust artifact whose export record (tool `airlock`) lists every image
/// `index.json` names; signatures and referrers tag indexes are airlock's too.
fn own_bundle(d: &OwnedFd) -> Result<(), String> {
    use crate::layout::model::{Document, AIRLOCK_TRUST};
    for n in list(d).map_err(|e| e.to_string())? {
        if !matches!(n.as_slice(), b"oci-layout" | b"index.json" | b"blobs") {
            return Err(format!(
                "it holds {:?}, which no airlock bundle does",
                String::from_utf8_lossy(&n)
            ));
        }
    }
    let index = Document::parse(&read_small(d, "index.json")?)
        .map_err(|e| format!("its index.json does not parse: {e}"))?;
    let entries = index.manifests.unwrap_or_default();
    let blob = |digest: &str| -> Result<Vec<u8>, String> {
        let dg = crate::digest::Digest::parse(digest).map_err(|e| e.to_string())?;
        read_small(d, crate::layout::blob_path(&dg))
    };
    let trust: Vec<_> = entries
        .iter()
        .filter(|e| e.artifact_type.as_deref() == Some(AIRLOCK_TRUST))
        .collect();
    let [artifact] = trust.as_slice() else {
        return Err("it carries no airlock export record".into());
    };
    let manifest = Document::parse(&blob(&artifact.digest)?).map_err(|e| e.to_string())?;
    let config = manifest
        .config
        .ok_or("its trust artifact has no export record")?;
    let record: crate::trust_artifact::ExportRecord =
        serde_json::from_slice(&blob(&config.digest)?)
            .map_err(|e| format!("its export record does not parse: {e}"))?;
    if record.tool != env!("CARGO_PKG_NAME") {
        return Err(format!(
            "its export record was written by {:?}",
            record.tool
        ));
    }
    for e in &entries {
        if e.artifact_type.as_deref() == Some(AIRLOCK_TRUST) {
            continue;
        }
        if crate::layout::names_an_artifact_of_an_image(e) {
            continue;
        }
        let is_referrer = blob(&e.digest)
            .ok()
            .and_then(|b| Document::parse(&b).ok())
            .is_some_and(|doc| doc.subject.is_some());
        if is_referrer {
            continue;
        }
        let listed = record
            .sources
            .iter()
            .any(|s| s.digest == e.digest && Some(s.reference.as_str()) == e.reference());
        if !listed {
            return Err(format!(
                "it holds the image {} ({}), which its export record does not list",
                e.reference().unwrap_or("(unnamed)"),
                e.digest
            ));
        }
    }
    Ok(())
}

/// Removes the stale staging names of `name` (the caller holds its lock, so their writers are
/// gone) and returns a partial directory to adopt, if one is left. A previous output moved aside
/// by a run that died mid-swap is moved back first.
pub fn clean_stale(dir: &OwnedFd, parent: &Path, name: &str) -> io::Result<Option<String>> {
    let pre = prefix(name);
    let me = rustix::process::geteuid().as_raw();
    let mut partials: Vec<(i64, String)> = Vec::new();
    for raw in list(dir)? {
        let Some(rest) = raw.strip_prefix(pre.as_bytes()) else {
            continue;
        };
        let entry = String::from_utf8_lossy(&raw).into_owned();
        let Some((kind, _, _, uid)) = stat_at(dir, OsStr::from_bytes(&raw))? else {
            continue;
        };
        // Only what this user made; a planted link or someone else's file is left alone.
        if uid != me || kind == FileType::Symlink {
            continue;
        }
        let path = parent.join(OsStr::from_bytes(&raw));
        if rest.starts_with(b"partial") && kind == FileType::Directory {
            let mtime = std::fs::symlink_metadata(&path)
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            partials.push((mtime, entry));
        } else if rest.starts_with(b"old-")
            && matches!(kind, FileType::Directory | FileType::RegularFile)
        {
            if stat_at(dir, name)?.is_none() {
                rename(dir, entry.as_str(), name)?;
            } else {
                remove_any(&path);
            }
        } else if rest.starts_with(b"tmp-") && kind == FileType::RegularFile
            || (rest.starts_with(b"scratch-") || rest.starts_with(b"spool-"))
                && kind == FileType::Directory
        {
            remove_any(&path);
        }
    }
    partials.sort();
    let adopt = partials.pop().map(|(_, n)| n);
    for (_, n) in partials {
        remove_any(&parent.join(n));
    }
    Ok(adopt)
}

/// Puts `staged` (a name in `dir`) in place of `name`: atomically exchanged with an existing
/// output where the system allows (Linux `renameat2(RENAME_EXCHANGE)`), else the old output is
/// renamed aside, the new one renamed in, and the old one renamed back if that fails. The old
/// output is removed last. `replace` false refuses an output that appeared meanwhile.
pub fn install(
    dir: &OwnedFd,
    parent: &Path,
    staged: &str,
    name: &str,
    replace: bool,
) -> io::Result<()> {
    if stat_at(dir, name)?.is_none() {
        return no_replace_rename(dir, staged, name);
    }
    if !replace {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} appeared while exporting", parent.join(name).display()),
        ));
    }
    #[cfg(target_os = "linux")]
    {
        if rfs::renameat_with(dir, staged, dir, name, rfs::RenameFlags::EXCHANGE).is_ok() {
            // `staged` now names the previous output.
            remove_any(&parent.join(staged));
            return Ok(());
        }
    }
    let old = fresh_name(name, "old");
    rename(dir, name, &old)?;
    if let Err(e) = rename(dir, staged, name) {
        let _ = rename(dir, &old, name);
        return Err(e);
    }
    remove_any(&parent.join(old));
    Ok(())
}

fn no_replace_rename(dir: &OwnedFd, from: &str, to: &str) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        match rfs::renameat_with(dir, from, dir, to, rfs::RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::EXIST) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{to} appeared while exporting"),
                ))
            }
            Err(rustix::io::Errno::INVAL) | Err(rustix::io::Errno::NOSYS) => {}
            Err(e) => return Err(e.into()),
        }
    }
    rename(dir, from, to)
}
