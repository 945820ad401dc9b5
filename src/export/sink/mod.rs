//! Where an export writes: a layout directory or a deterministic tarball, staged under a fresh
//! name beside the output and swapped into place only when complete (see `staging`), or a tarball
//! on stdout. Blobs are streamed straight into the archive.

//! The directory sink is in [`dir`], the tarball sink (files and stdout) in [`tarball`].

mod dir;
mod tarball;

use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::archive::Compression;
use crate::digest::Digest;

use super::staging::{self, Existing, Guard, Lock};
use super::{ExportError, Mismatch, Refusal, Usage};
use dir::DirSink;
use tarball::TarSink;

/// The kind of output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// A layout directory.
    Dir,
    /// A tarball file.
    Tar(Compression),
    /// A tarball on stdout.
    Stdout(Compression),
}

/// An export destination.
#[derive(Clone, Debug)]
pub struct Output {
    /// The path (`-` for stdout).
    pub path: PathBuf,
    /// Its kind.
    pub kind: OutputKind,
    /// zstd level for `.tar.zst`.
    pub zstd_level: i32,
}

impl Output {
    /// From `-o`: `-` is a tar on stdout; a name ending in `.tar`, `.tar.zst`/`.tzst`,
    /// `.tar.gz`/`.tgz` is a tarball; anything else a directory.
    pub fn from_arg(path: &Path, zstd_level: i32) -> Self {
        let s = path.to_string_lossy();
        let kind = if s == "-" {
            OutputKind::Stdout(Compression::None)
        } else if s.ends_with(".tar")
            || s.ends_with(".tar.zst")
            || s.ends_with(".tzst")
            || s.ends_with(".tar.gz")
            || s.ends_with(".tgz")
        {
            OutputKind::Tar(Compression::from_file_name(path))
        } else {
            OutputKind::Dir
        };
        Output {
            path: path.to_path_buf(),
            kind,
            zstd_level,
        }
    }
}

pub(super) type Body<'a> = &'a mut dyn FnMut(&mut dyn Write) -> Result<(), ExportError>;

/// A destination being written.
pub trait Sink {
    /// Writes one blob of `size` bytes; `body` streams it.
    fn put(&mut self, d: &Digest, size: u64, body: Body<'_>) -> Result<(), ExportError>;
    /// Where blob `d` of `size` bytes goes when several are fetched at once (`--jobs`): nowhere
    /// when the sink holds it already, a folder any thread may write it into, or through
    /// [`Sink::put`] in digest order (tarballs: fetched ahead into a [`Sink::spool`]).
    fn landing(&mut self, d: &Digest, size: u64) -> Result<Landing, ExportError>;
    /// A fresh spool beside the output (in `$TMPDIR` for stdout) for blobs fetched ahead of their
    /// turn; removed when dropped.
    fn spool(&mut self) -> Result<Spool, ExportError>;
    /// Gives up: removes everything written.
    fn abort(&mut self);
    /// Writes `index.json`, makes the output visible, and returns the sha256 that names it.
    fn finish(&mut self, index: &[u8]) -> Result<Digest, ExportError>;
}

pub(super) fn out_err(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Output {
        path: path.to_path_buf(),
        source,
    }
}

/// A locked output, looked at and cleared of stale staging: what `export` writes into.
#[derive(Debug)]
pub struct Target {
    pub(super) dir: OwnedFd,
    pub(super) parent: PathBuf,
    pub(super) name: String,
    pub(super) existing: Existing,
    pub(super) adopt: Option<String>,
    pub(super) force: bool,
    _lock: Lock,
}

impl Target {
    /// The output's path.
    pub fn path(&self) -> PathBuf {
        self.parent.join(&self.name)
    }

    /// Makes a fresh scratch folder beside the output (for `oci-archive:` sources), removed when
    /// the guard drops.
    pub fn scratch(&self) -> Result<Guard, ExportError> {
        let n = staging::fresh_name(&self.name, "scratch");
        let path = self.parent.join(&n);
        staging::create_dir(&self.dir, &n).map_err(out_err(&path))?;
        Ok(Guard::new(path))
    }

    /// Makes a fresh spool folder beside the output (see [`Spool`]).
    pub(super) fn spool(&self) -> Result<Spool, ExportError> {
        spool_in(&self.dir, &self.parent, &self.name)
    }
}

/// Where one blob lands: see [`Sink::landing`].
pub enum Landing {
    /// The sink holds it already (re-hashed).
    Held,
    /// Written by any thread into this folder.
    Dir(BlobDir),
    /// Through [`Sink::put`], in order.
    InOrder,
}

/// A folder of blobs named by their hex digest, written through the one blob writer
/// ([`crate::layout::write_blob`]: a temporary name, renamed only once digest and size match), from
/// any thread.
#[derive(Clone, Debug)]
pub struct BlobDir {
    fd: Arc<OwnedFd>,
    path: PathBuf,
}

impl BlobDir {
    fn new(fd: OwnedFd, path: PathBuf) -> Self {
        BlobDir {
            fd: Arc::new(fd),
            path,
        }
    }

    /// Writes blob `d` (`size` bytes) from `body`; committed only when it matches.
    pub fn write(
        &self,
        d: &Digest,
        size: u64,
        body: impl FnOnce(&mut dyn Write) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        staging::check_interrupted().map_err(out_err(&self.path))?;
        crate::layout::write_blob(&*self.fd, d, Some(size), body).map_err(|e| match e {
            crate::layout::BlobError::Body(e) => e,
            crate::layout::BlobError::Io(name, source) => ExportError::Output {
                path: self.path.join(name),
                source,
            },
            crate::layout::BlobError::Mismatch { actual, size: n } => ExportError::Mismatch {
                digest: d.to_string(),
                problem: Mismatch::Content {
                    actual,
                    size: n,
                    expected: Some(size),
                },
            },
        })
    }

    /// Opens blob `d` for reading.
    pub fn open(&self, d: &Digest) -> Result<std::fs::File, ExportError> {
        staging::open_file(&*self.fd, d.hex()).map_err(out_err(&self.path.join(d.hex())))
    }

    /// Removes blob `d`.
    pub fn remove(&self, d: &Digest) {
        let _ = staging::unlink(&*self.fd, d.hex());
    }
}

/// A spool folder for blobs fetched ahead of their turn, removed (with what it holds) on drop.
pub struct Spool {
    /// The blobs.
    pub dir: BlobDir,
    _guard: Guard,
}

/// Makes a fresh spool folder `name` in `dir` (at `parent`).
fn spool_in(dir: &OwnedFd, parent: &Path, name: &str) -> Result<Spool, ExportError> {
    let n = staging::fresh_name(name, "spool");
    let path = parent.join(&n);
    staging::create_dir(dir, &n).map_err(out_err(&path))?;
    let guard = Guard::new(path.clone());
    let fd = staging::open_subdir(dir, &n).map_err(out_err(&path))?;
    Ok(Spool {
        dir: BlobDir::new(fd, path),
        _guard: guard,
    })
}

/// A spool folder in `$TMPDIR` (the output is stdout).
fn spool_in_tmp() -> Result<Spool, ExportError> {
    let base = std::env::temp_dir();
    let dir = staging::open_dir(&base).map_err(out_err(&base))?;
    spool_in(&dir, &base, "stdout")
}

/// Locks the output, removes stale staging of dead runs, and refuses to replace what airlock did
/// not write unless `force`: a directory that is not an airlock bundle, a regular file where a
/// directory goes, a tarball name that is a directory, a symbolic link, a FIFO or a device.
/// `None` for stdout.
pub fn prepare(o: &Output, force: bool) -> Result<Option<Target>, ExportError> {
    if matches!(o.kind, OutputKind::Stdout(_)) {
        return Ok(None);
    }
    let (parent, name) = staging::split(&o.path).map_err(out_err(&o.path))?;
    // The folder that will hold the output may not exist yet (`-o exports/2026-12/bundle`).
    std::fs::create_dir_all(&parent).map_err(out_err(&parent))?;
    let dir = staging::open_dir(&parent).map_err(out_err(&parent))?;
    let lock = staging::lock(&dir, &parent, &name).map_err(|e| match e {
        staging::LockError::Busy(..) => ExportError::Busy(e),
        staging::LockError::Io(p, source) => ExportError::Output {
            path: PathBuf::from(p),
            source,
        },
    })?;
    let adopt = staging::clean_stale(&dir, &parent, &name).map_err(out_err(&parent))?;
    let existing = staging::existing(&dir, &name).map_err(out_err(&o.path))?;
    let refuse = |why: Refusal| {
        Err(ExportError::Refused {
            path: o.path.clone(),
            why,
        })
    };
    if !force {
        match (&existing, o.kind) {
            (Existing::Nothing, _) => {}
            (Existing::EmptyDir | Existing::OwnBundle, OutputKind::Dir) => {}
            (Existing::File, OutputKind::Tar(_)) => {}
            (Existing::ForeignDir(why), OutputKind::Dir) => {
                return refuse(Refusal::ForeignDir(why.clone()))
            }
            (Existing::EmptyDir | Existing::OwnBundle | Existing::ForeignDir(_), _) => {
                return refuse(Refusal::DirectoryForTarball)
            }
            (Existing::File, _) => return refuse(Refusal::FileForDirectory),
            (Existing::Symlink, _) => return refuse(Refusal::Symlink),
            (Existing::Special, _) => return refuse(Refusal::Special),
        }
    }
    let adopt = match o.kind {
        OutputKind::Dir => adopt,
        _ => {
            if let Some(a) = adopt {
                let _ = std::fs::remove_dir_all(parent.join(a));
            }
            None
        }
    };
    Ok(Some(Target {
        dir,
        parent,
        name,
        existing,
        adopt,
        force,
        _lock: lock,
    }))
}

/// Opens the destination (`target` from [`prepare`]; `None` only for stdout).
pub fn open(o: &Output, target: Option<Target>) -> Result<Box<dyn Sink>, ExportError> {
    match (o.kind, target) {
        (OutputKind::Dir, Some(t)) => Ok(Box::new(DirSink::open(t)?)),
        (OutputKind::Tar(c), Some(t)) => Ok(Box::new(TarSink::file(t, c, o.zstd_level)?)),
        (OutputKind::Stdout(c), _) => Ok(Box::new(TarSink::stdout(c, o.zstd_level)?)),
        (_, None) => Err(Usage::NotPrepared.into()),
    }
}
