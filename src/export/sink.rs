//! Where an export writes: a layout directory (staged under `<OUT>.airlock-partial`, resumable) or
//! a deterministic tarball (a temporary file renamed into place, or stdout), blobs streamed
//! straight into the archive.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::archive::Compression;
use crate::digest::{hash_reader, Digest};
use crate::layout::{blob_name, blob_path, write_atomic, INDEX_JSON, LAYOUT_VERSION, OCI_LAYOUT};

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

/// Opens the destination.
pub fn open(o: &Output) -> Result<Box<dyn Sink>, ExportError> {
    match o.kind {
        OutputKind::Dir => Ok(Box::new(DirSink::open(&o.path)?)),
        OutputKind::Tar(c) => Ok(Box::new(TarSink::file(&o.path, c, o.zstd_level)?)),
        OutputKind::Stdout(c) => Ok(Box::new(TarSink::stdout(c, o.zstd_level)?)),
    }
}

struct DirSink {
    out: PathBuf,
    staging: PathBuf,
    written: Vec<PathBuf>,
}

impl DirSink {
    fn open(out: &Path) -> Result<Self, ExportError> {
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bundle".into());
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let staging = parent.join(format!(".{name}.airlock-partial"));
        // An existing output is resumed from: it stops looking complete while it is rewritten.
        if out.exists() && !staging.exists() {
            fs::rename(out, &staging).map_err(out_err(out))?;
        }
        fs::create_dir_all(staging.join("blobs")).map_err(out_err(&staging))?;
        // index.json goes last: a staging dir never holds one while blobs are written.
        let _ = fs::remove_file(staging.join(INDEX_JSON));
        Ok(DirSink {
            out: out.to_path_buf(),
            staging,
            written: Vec::new(),
        })
    }
}

impl Sink for DirSink {
    fn put(&mut self, d: &Digest, size: u64, body: Body<'_>) -> Result<(), ExportError> {
        let path = self.staging.join(blob_path(d));
        self.written.push(path.clone());
        // Resume: a blob already there is kept only if it re-hashes to its name.
        if let Ok(meta) = fs::symlink_metadata(&path) {
            if meta.is_file() && meta.len() == size {
                let mut f = File::open(&path).map_err(out_err(&path))?;
                let (actual, _) =
                    hash_reader(d.algorithm(), &mut f, &mut |_| {}).map_err(out_err(&path))?;
                if &actual == d {
                    return Ok(());
                }
            }
            let _ = fs::remove_file(&path);
        }
        let dir = path.parent().unwrap_or(&self.staging).to_path_buf();
        fs::create_dir_all(&dir).map_err(out_err(&dir))?;
        let tmp = dir.join(format!(".{}.part", d.hex()));
        let mut f = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(out_err(&tmp))?);
        if let Err(e) = body(&mut f) {
            drop(f);
            let _ = fs::remove_file(&tmp);
            return Err(ExportError::Source(e));
        }
        f.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(out_err(&tmp))?;
        fs::rename(&tmp, &path).map_err(out_err(&path))
    }

    fn abort(&mut self) {
        // Keep verified blobs for a later run; nothing here looks like a complete layout.
    }

    fn finish(&mut self, index: &[u8]) -> Result<Digest, ExportError> {
        // Drop anything an earlier export left that this one does not reference.
        for e in walkdir::WalkDir::new(self.staging.join("blobs"))
            .into_iter()
            .filter_map(Result::ok)
        {
            if e.file_type().is_file() && !self.written.iter().any(|w| w == e.path()) {
                let _ = fs::remove_file(e.path());
            }
        }
        write_atomic(
            &self.staging.join(OCI_LAYOUT),
            format!("{{\"imageLayoutVersion\":\"{LAYOUT_VERSION}\"}}").as_bytes(),
        )
        .map_err(out_err(&self.staging))?;
        write_atomic(&self.staging.join(INDEX_JSON), index).map_err(out_err(&self.staging))?;
        if self.out.exists() {
            return Err(ExportError::Output {
                path: self.out.display().to_string(),
                source: io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "appeared while exporting; the export is in the staging directory",
                ),
            });
        }
        fs::rename(&self.staging, &self.out).map_err(out_err(&self.out))?;
        Ok(Digest::sha256(index))
    }
}

/// Counts and hashes what goes to the final file.
struct Counted<W: Write> {
    inner: W,
    hasher: crate::digest::Hasher,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
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

type Inner = Counted<BufWriter<Box<dyn Write>>>;

struct TarSink {
    builder: Option<tar::Builder<Enc<Inner>>>,
    final_path: Option<PathBuf>,
    tmp: Option<PathBuf>,
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
        let inner = Counted {
            inner: BufWriter::with_capacity(1 << 20, w),
            hasher: crate::digest::Hasher::new(crate::digest::Algorithm::Sha256),
        };
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
        let mut h = header(tar::EntryType::Regular, layout.len() as u64, 0o644);
        b.append_data(&mut h, OCI_LAYOUT, layout.as_bytes())?;
        Ok(b)
    }

    fn file(path: &Path, c: Compression, level: i32) -> Result<Self, ExportError> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.airlock-tmp-{}", std::process::id()));
        let f = File::create(&tmp).map_err(out_err(&tmp))?;
        let builder = Self::builder(Box::new(f), c, level).map_err(out_err(&tmp))?;
        Ok(TarSink {
            builder: Some(builder),
            final_path: Some(path.to_path_buf()),
            tmp: Some(tmp),
            dirs: Vec::new(),
        })
    }

    fn stdout(c: Compression, level: i32) -> Result<Self, ExportError> {
        let builder =
            Self::builder(Box::new(io::stdout()), c, level).map_err(out_err(Path::new("-")))?;
        Ok(TarSink {
            builder: Some(builder),
            final_path: None,
            tmp: None,
            dirs: Vec::new(),
        })
    }

    fn err(&self, e: io::Error) -> ExportError {
        ExportError::Output {
            path: self
                .final_path
                .as_ref()
                .map_or("-".into(), |p| p.display().to_string()),
            source: e,
        }
    }
}

impl Sink for TarSink {
    fn put(&mut self, d: &Digest, size: u64, body: Body<'_>) -> Result<(), ExportError> {
        let name = blob_name(d);
        let err = |e: io::Error, s: &Self| s.err(e);
        let Some(b) = self.builder.as_mut() else {
            return Err(self.err(io::Error::other("archive already finished")));
        };
        for dir in [
            "blobs/".to_string(),
            format!("blobs/{}/", d.algorithm().name()),
        ] {
            if !self.dirs.contains(&dir) {
                let mut h = header(tar::EntryType::Directory, 0, 0o755);
                b.append_data(&mut h, &dir, io::empty())
                    .map_err(|e| ExportError::Output {
                        path: "tar".into(),
                        source: e,
                    })?;
                self.dirs.push(dir);
            }
        }
        let Some(b) = self.builder.as_mut() else {
            return Err(self.err(io::Error::other("archive already finished")));
        };
        // The header (with a GNU long-name entry when needed) through the builder, with no body;
        // then the body streamed straight into the archive and padded to the block size.
        let mut h = header(tar::EntryType::Regular, size, 0o644);
        b.append_data(&mut h, &name, io::empty())
            .map_err(|e| ExportError::Output {
                path: "tar".into(),
                source: e,
            })?;
        let w = b.get_mut();
        let mut counter = CountingWrite { inner: w, n: 0 };
        body(&mut counter).map_err(ExportError::Source)?;
        if counter.n != size {
            return Err(ExportError::Mismatch {
                digest: d.to_string(),
                problem: format!("{} bytes written, descriptor says {size}", counter.n),
            });
        }
        let pad = (512 - size % 512) % 512;
        let zeros = [0u8; 512];
        let w = b.get_mut();
        w.write_all(
            zeros
                .get(..usize::try_from(pad).unwrap_or(0))
                .unwrap_or_default(),
        )
        .map_err(|e| err(e, self))?;
        Ok(())
    }

    fn abort(&mut self) {
        self.builder = None;
        if let Some(t) = self.tmp.take() {
            let _ = fs::remove_file(t);
        }
    }

    fn finish(&mut self, index: &[u8]) -> Result<Digest, ExportError> {
        let Some(mut b) = self.builder.take() else {
            return Err(self.err(io::Error::other("archive already finished")));
        };
        let mut h = header(tar::EntryType::Regular, index.len() as u64, 0o644);
        b.append_data(&mut h, INDEX_JSON, index)
            .map_err(|e| self.err(e))?;
        let enc = b.into_inner().map_err(|e| self.err(e))?;
        let counted = enc.finish().map_err(|e| self.err(e))?;
        let digest = counted.hasher.finish().0;
        let w = counted
            .inner
            .into_inner()
            .map_err(|e| self.err(e.into_error()))?;
        drop(w);
        if let (Some(tmp), Some(path)) = (self.tmp.take(), &self.final_path) {
            if let Ok(f) = File::open(&tmp) {
                let _ = f.sync_all();
            }
            fs::rename(&tmp, path).map_err(|e| self.err(e))?;
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

struct CountingWrite<'a, W: Write> {
    inner: &'a mut W,
    n: u64,
}

impl<W: Write> Write for CountingWrite<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
