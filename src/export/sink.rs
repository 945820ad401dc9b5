//! Where an export writes: a layout directory or a deterministic tarball, staged under a fresh
//! name beside the output and swapped into place only when complete (see `staging`), or a tarball
//! on stdout. Blobs are streamed straight into the archive.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::archive::Compression;
use crate::digest::{hash_reader, Digest, HashingWriter};
use crate::layout::{blob_name, INDEX_JSON, LAYOUT_VERSION, OCI_LAYOUT};

use super::staging::{self, Existing, Guard, Lock};
use super::ExportError;

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

type Body<'a> = &'a mut dyn FnMut(&mut dyn Write) -> Result<(), String>;

/// A destination being written.
pub trait Sink {
    /// Writes one blob of `size` bytes; `body` streams it.
    fn put(&mut self, d: &Digest, size: u64, body: Body<'_>) -> Result<(), ExportError>;
    /// Gives up: removes everything written.
    fn abort(&mut self);
    /// Writes `index.json`, makes the output visible, and returns the sha256 that names it.
    fn finish(&mut self, index: &[u8]) -> Result<Digest, ExportError>;
}

fn out_err(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Output {
        path: path.display().to_string(),
        source,
    }
}

/// A locked output, looked at and cleared of stale staging: what `export` writes into.
#[derive(Debug)]
pub struct Target {
    dir: OwnedFd,
    parent: PathBuf,
    name: String,
    existing: Existing,
    adopt: Option<String>,
    force: bool,
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
        staging::LockError::Busy(..) => ExportError::Busy(e.to_string()),
        staging::LockError::Io(p, source) => ExportError::Output { path: p, source },
    })?;
    let adopt = staging::clean_stale(&dir, &parent, &name).map_err(out_err(&parent))?;
    let existing = staging::existing(&dir, &name).map_err(out_err(&o.path))?;
    let refuse = |why: String| {
        Err(ExportError::Refused {
            path: o.path.display().to_string(),
            why,
        })
    };
    if !force {
        match (&existing, o.kind) {
            (Existing::Nothing, _) => {}
            (Existing::EmptyDir | Existing::OwnBundle, OutputKind::Dir) => {}
            (Existing::File, OutputKind::Tar(_)) => {}
            (Existing::ForeignDir(why), OutputKind::Dir) => {
                return refuse(format!("it is a directory that is not a bundle airlock wrote: {why}"))
            }
            (Existing::EmptyDir | Existing::OwnBundle | Existing::ForeignDir(_), _) => {
                return refuse("it is a directory, and a tarball was asked for".into())
            }
            (Existing::File, _) => {
                return refuse(
                    "it is a regular file without a .tar, .tar.gz or .tar.zst suffix, and a directory was asked for"
                        .into(),
                )
            }
            (Existing::Symlink, _) => {
                return refuse("it is a symbolic link, which airlock never writes through".into())
            }
            (Existing::Special, _) => return refuse("it is a FIFO, device or socket".into()),
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
        (_, None) => Err(ExportError::Usage(
            "internal: the output was not prepared".into(),
        )),
    }
}

struct DirSink {
    target: Target,
    staged: String,
    guard: Option<Guard>,
    root: OwnedFd,
    /// `blobs/<alg>` handles inside the staging directory.
    alg_dirs: Vec<(String, OwnedFd)>,
    /// The bundle being replaced, whose blobs are hard-linked instead of copied again.
    previous: Option<OwnedFd>,
    written: BTreeSet<(String, String)>,
}

impl DirSink {
    fn open(target: Target) -> Result<Self, ExportError> {
        let staged = staging::fresh_name(&target.name, "partial");
        let path = target.parent.join(&staged);
        match &target.adopt {
            // A partial directory of a run that died: its blobs are re-hashed before reuse.
            Some(old) => staging::rename(&target.dir, old, &staged).map_err(out_err(&path))?,
            None => staging::create_dir(&target.dir, &staged).map_err(out_err(&path))?,
        }
        let guard = Guard::new(path.clone());
        let root = staging::open_subdir(&target.dir, &staged).map_err(out_err(&path))?;
        // index.json goes last: a staging directory never holds one while blobs are written.
        let _ = staging::unlink(&root, INDEX_JSON);
        let previous = match target.existing {
            Existing::OwnBundle => staging::open_subdir(&target.dir, &target.name)
                .and_then(|d| staging::open_subdir(&d, "blobs"))
                .ok(),
            _ => None,
        };
        Ok(DirSink {
            target,
            staged,
            guard: Some(guard),
            root,
            alg_dirs: Vec::new(),
            previous,
            written: BTreeSet::new(),
        })
    }

    fn path(&self) -> PathBuf {
        self.target.parent.join(&self.staged)
    }

    fn alg_dir(&mut self, alg: &str) -> io::Result<OwnedFd> {
        if let Some((_, fd)) = self.alg_dirs.iter().find(|(a, _)| a == alg) {
            return fd.try_clone();
        }
        let blobs = match staging::open_subdir(&self.root, "blobs") {
            Ok(b) => b,
            Err(_) => {
                staging::create_dir(&self.root, "blobs")?;
                staging::open_subdir(&self.root, "blobs")?
            }
        };
        let fd = match staging::open_subdir(&blobs, alg) {
            Ok(f) => f,
            Err(_) => {
                staging::create_dir(&blobs, alg)?;
                staging::open_subdir(&blobs, alg)?
            }
        };
        self.alg_dirs.push((alg.to_owned(), fd.try_clone()?));
        Ok(fd)
    }
}

/// True when `name` below `dir` is a regular file of `size` bytes whose content hashes to `d`.
fn holds(dir: &OwnedFd, name: &str, d: &Digest, size: u64) -> bool {
    let Ok(mut f) = staging::open_file(dir, name) else {
        return false;
    };
    if f.metadata().map(|m| m.len()).ok() != Some(size) {
        return false;
    }
    matches!(hash_reader(d.algorithm(), &mut f, &mut |_| {}), Ok((actual, _)) if &actual == d)
}

impl Sink for DirSink {
    fn put(&mut self, d: &Digest, size: u64, body: Body<'_>) -> Result<(), ExportError> {
        staging::check_interrupted().map_err(out_err(&self.path()))?;
        let alg = d.algorithm().name();
        let hex = d.hex().to_owned();
        let here = self.path().join("blobs").join(alg);
        let dir = self.alg_dir(alg).map_err(out_err(&here))?;
        self.written.insert((alg.to_owned(), hex.clone()));
        // Reuse: a blob adopted from a dead run's staging, or hard-linked from the bundle being
        // replaced, is kept only if it re-hashes to its name.
        if staging::stat_at(&dir, hex.as_str())
            .ok()
            .flatten()
            .is_none()
        {
            if let Some(prev) = &self.previous {
                if let Ok(prev_alg) = staging::open_subdir(prev, alg) {
                    let _ = rustix::fs::linkat(
                        &prev_alg,
                        hex.as_str(),
                        &dir,
                        hex.as_str(),
                        rustix::fs::AtFlags::empty(),
                    );
                }
            }
        }
        if holds(&dir, &hex, d, size) {
            return Ok(());
        }
        let _ = staging::unlink(&dir, hex.as_str());
        crate::layout::write_blob(&dir, d, Some(size), |w| body(w)).map_err(|e| match e {
            crate::layout::BlobError::Body(e) => ExportError::Source(e),
            crate::layout::BlobError::Io(name, source) => ExportError::Output {
                path: here.join(name).display().to_string(),
                source,
            },
            crate::layout::BlobError::Mismatch { actual, size: n } => ExportError::Mismatch {
                digest: d.to_string(),
                problem: format!("content hashes to {actual} ({n} bytes, descriptor says {size})"),
            },
        })
    }

    fn abort(&mut self) {
        // Dropping the guard removes the staging directory.
        self.guard = None;
    }

    fn finish(&mut self, index: &[u8]) -> Result<Digest, ExportError> {
        let path = self.path();
        // Drop anything an adopted staging directory holds that this export does not reference.
        if let Ok(blobs) = staging::open_subdir(&self.root, "blobs") {
            for alg in staging::list(&blobs).map_err(out_err(&path))? {
                let alg = String::from_utf8_lossy(&alg).into_owned();
                let Ok(ad) = staging::open_subdir(&blobs, alg.as_str()) else {
                    continue;
                };
                for n in staging::list(&ad).map_err(out_err(&path))? {
                    let n = String::from_utf8_lossy(&n).into_owned();
                    if !self.written.contains(&(alg.clone(), n.clone())) {
                        let _ = staging::unlink(&ad, n.as_str());
                    }
                }
            }
        }
        for (name, bytes) in [
            (
                OCI_LAYOUT,
                format!("{{\"imageLayoutVersion\":\"{LAYOUT_VERSION}\"}}").into_bytes(),
            ),
            (INDEX_JSON, index.to_vec()),
        ] {
            let tmp = format!(".{name}.part");
            let _ = staging::unlink(&self.root, tmp.as_str());
            let mut f = staging::create_file(&self.root, tmp.as_str())
                .map_err(out_err(&path.join(name)))?;
            f.write_all(&bytes)
                .and_then(|_| f.sync_all())
                .map_err(out_err(&path.join(name)))?;
            staging::rename(&self.root, tmp.as_str(), name).map_err(out_err(&path.join(name)))?;
        }
        staging::check_interrupted().map_err(out_err(&path))?;
        // The staging name must still be the directory written through `root`.
        let mine = rustix::fs::fstat(&self.root).map_err(|e| out_err(&path)(e.into()))?;
        match staging::stat_at(&self.target.dir, self.staged.as_str()).map_err(out_err(&path))? {
            Some((rustix::fs::FileType::Directory, dev, ino, _))
                if dev == mine.st_dev && ino == mine.st_ino => {}
            _ => {
                return Err(ExportError::Output {
                    path: path.display().to_string(),
                    source: io::Error::other("the staging directory was replaced while exporting"),
                })
            }
        }
        let replace = self.target.force
            || matches!(
                self.target.existing,
                Existing::EmptyDir | Existing::OwnBundle
            );
        staging::install(
            &self.target.dir,
            &self.target.parent,
            &self.staged,
            &self.target.name,
            replace,
        )
        .map_err(out_err(&self.target.path()))?;
        if let Some(g) = self.guard.take() {
            g.commit();
        }
        Ok(Digest::sha256(index))
    }
}

enum Enc<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Write for Enc<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Enc::Plain(w) => w.write(buf),
            Enc::Gzip(w) => w.write(buf),
            Enc::Zstd(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Enc::Plain(w) => w.flush(),
            Enc::Gzip(w) => w.flush(),
            Enc::Zstd(w) => w.flush(),
        }
    }
}

impl<W: Write> Enc<W> {
    fn finish(self) -> io::Result<W> {
        match self {
            Enc::Plain(w) => Ok(w),
            Enc::Gzip(w) => w.finish(),
            Enc::Zstd(w) => w.finish(),
        }
    }
}

/// The archive's bytes as they go to the output, hashed (the bundle's file digest).
type Inner = HashingWriter<BufWriter<Box<dyn Write>>>;

struct TarSink {
    builder: Option<tar::Builder<Enc<Inner>>>,
    /// The output (none for stdout) and the staging name of the file being written.
    file: Option<(Target, String, Guard)>,
    dirs: Vec<String>,
}

fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

impl TarSink {
    fn builder(
        w: Box<dyn Write>,
        c: Compression,
        level: i32,
    ) -> io::Result<tar::Builder<Enc<Inner>>> {
        let inner = HashingWriter::new(
            BufWriter::with_capacity(1 << 20, w),
            crate::digest::Algorithm::Sha256,
        );
        let enc = match c {
            Compression::None => Enc::Plain(inner),
            Compression::Gzip => Enc::Gzip(flate2::write::GzEncoder::new(
                inner,
                flate2::Compression::new(6),
            )),
            Compression::Zstd => {
                let mut e = zstd::stream::write::Encoder::new(inner, level)?;
                // One background worker: compression leaves the thread that fetches and hashes, and
                // a fixed count keeps two exports of the same content byte-identical (zstd's output
                // depends on whether workers are used). More workers only cost memory here.
                e.multithread(1)?;
                Enc::Zstd(e)
            }
        };
        let mut b = tar::Builder::new(enc);
        let layout = format!("{{\"imageLayoutVersion\":\"{LAYOUT_VERSION}\"}}");
        let mut h = header(
            tar::EntryType::Regular,
            u64::try_from(layout.len()).unwrap_or(u64::MAX),
            0o644,
        );
        b.append_data(&mut h, OCI_LAYOUT, layout.as_bytes())?;
        Ok(b)
    }

    fn file(target: Target, c: Compression, level: i32) -> Result<Self, ExportError> {
        let tmp = staging::fresh_name(&target.name, "tmp");
        let path = target.parent.join(&tmp);
        let f = staging::create_file(&target.dir, tmp.as_str()).map_err(out_err(&path))?;
        let guard = Guard::new(path.clone());
        let builder = Self::builder(Box::new(f), c, level).map_err(out_err(&path))?;
        Ok(TarSink {
            builder: Some(builder),
            file: Some((target, tmp, guard)),
            dirs: Vec::new(),
        })
    }

    fn stdout(c: Compression, level: i32) -> Result<Self, ExportError> {
        // A closed stdout is an error, not a silent success (std's Stdout ignores EBADF): write to
        // a duplicate of descriptor 1, which cannot be made when it is closed.
        let fd = io::stdout().as_fd().try_clone_to_owned().map_err(|e| {
            ExportError::StdoutClosed(format!("cannot write the tarball to stdout: {e}"))
        })?;
        // Rust's runtime replaces a closed descriptor 1 with /dev/null opened read-write before
        // main; a shell redirection to /dev/null opens it write-only. Refuse the former: the
        // tarball would vanish while the summary says it was written.
        let flags = rustix::fs::fcntl_getfl(&fd).map_err(|e| {
            ExportError::StdoutClosed(format!("cannot write the tarball to stdout: {e}"))
        })?;
        let st = rustix::fs::fstat(&fd).ok();
        let devnull = rustix::fs::stat("/dev/null").ok();
        if flags.contains(rustix::fs::OFlags::RDWR)
            && st.zip(devnull).is_some_and(|(a, b)| {
                rustix::fs::FileType::from_raw_mode(a.st_mode)
                    == rustix::fs::FileType::CharacterDevice
                    && a.st_rdev == b.st_rdev
            })
        {
            return Err(ExportError::StdoutClosed(
                "stdout was closed when airlock started: there is nowhere to write the tarball"
                    .into(),
            ));
        }
        let builder = Self::builder(Box::new(File::from(fd)), c, level)
            .map_err(|e| ExportError::StdoutClosed(e.to_string()))?;
        Ok(TarSink {
            builder: Some(builder),
            file: None,
            dirs: Vec::new(),
        })
    }

    fn err(&self, e: io::Error) -> ExportError {
        match &self.file {
            Some((t, _, _)) => ExportError::Output {
                path: t.path().display().to_string(),
                source: e,
            },
            // A reader that went away is a failed export, never a success (exit 2).
            None => ExportError::StdoutClosed(format!("writing the tarball to stdout: {e}")),
        }
    }
}

impl Sink for TarSink {
    fn put(&mut self, d: &Digest, size: u64, body: Body<'_>) -> Result<(), ExportError> {
        staging::check_interrupted().map_err(|e| self.err(e))?;
        let name = blob_name(d);
        let Some(b) = self.builder.as_mut() else {
            return Err(self.err(io::Error::other("archive already finished")));
        };
        let mut failed = None;
        for dir in [
            "blobs/".to_string(),
            format!("blobs/{}/", d.algorithm().name()),
        ] {
            if !self.dirs.contains(&dir) {
                let mut h = header(tar::EntryType::Directory, 0, 0o755);
                if let Err(e) = b.append_data(&mut h, &dir, io::empty()) {
                    failed = Some(e);
                    break;
                }
                self.dirs.push(dir);
            }
        }
        if let Some(e) = failed {
            return Err(self.err(e));
        }
        // The header (with a GNU long-name entry when needed) through the builder, with no body;
        // then the body streamed straight into the archive and padded to the block size.
        let mut h = header(tar::EntryType::Regular, size, 0o644);
        if let Err(e) = b.append_data(&mut h, &name, io::empty()) {
            return Err(self.err(e));
        }
        let w = b.get_mut();
        // Streamed straight into the archive, hashed on the way: a mismatch fails the whole
        // archive (nothing becomes visible), as the directory sink's blob writer refuses to commit.
        let mut hashing = HashingWriter::new(w, d.algorithm());
        body(&mut hashing).map_err(ExportError::Source)?;
        let (_, actual, n) = hashing.finish();
        if &actual != d || n != size {
            return Err(ExportError::Mismatch {
                digest: d.to_string(),
                problem: format!("content hashes to {actual} ({n} bytes, descriptor says {size})"),
            });
        }
        let pad = (512 - size % 512) % 512;
        let zeros = [0u8; 512];
        let w = b.get_mut();
        let r = w.write_all(
            zeros
                .get(..usize::try_from(pad).unwrap_or(0))
                .unwrap_or_default(),
        );
        r.map_err(|e| self.err(e))
    }

    fn abort(&mut self) {
        self.builder = None;
        // Dropping the guard removes the temporary file.
        self.file = None;
    }

    fn finish(&mut self, index: &[u8]) -> Result<Digest, ExportError> {
        let Some(mut b) = self.builder.take() else {
            return Err(self.err(io::Error::other("archive already finished")));
        };
        let mut h = header(
            tar::EntryType::Regular,
            u64::try_from(index.len()).unwrap_or(u64::MAX),
            0o644,
        );
        b.append_data(&mut h, INDEX_JSON, index)
            .map_err(|e| self.err(e))?;
        let enc = b.into_inner().map_err(|e| self.err(e))?;
        let counted = enc.finish().map_err(|e| self.err(e))?;
        let (buffered, digest, _) = counted.finish();
        let mut w = buffered
            .into_inner()
            .map_err(|e| self.err(e.into_error()))?;
        w.flush().map_err(|e| self.err(e))?;
        drop(w);
        staging::check_interrupted().map_err(|e| self.err(e))?;
        if let Some((t, tmp, guard)) = self.file.take() {
            if let Ok(f) = staging::open_file(&t.dir, tmp.as_str()) {
                let _ = f.sync_all();
            }
            let replace = t.force || matches!(t.existing, Existing::File);
            staging::install(&t.dir, &t.parent, &tmp, &t.name, replace)
                .map_err(out_err(&t.path()))?;
            guard.commit();
        }
        Ok(digest)
    }
}

impl Drop for TarSink {
    fn drop(&mut self) {
        if self.builder.is_some() {
            self.abort();
        }
    }
}
