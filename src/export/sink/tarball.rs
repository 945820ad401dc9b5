//! The tarball sink: a deterministic tar (fixed order, zero times and owners), optionally gzip or
//! zstd, written to a temporary name beside the output and renamed when complete, or to stdout.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;

use crate::archive::Compression;
use crate::digest::{Digest, HashingWriter};
use crate::layout::{blob_name, INDEX_JSON, LAYOUT_VERSION, OCI_LAYOUT};

use super::super::staging::{self, Existing, Guard};
use super::super::{ExportError, Mismatch, Stdout};
use super::{out_err, Body, Landing, Sink, Spool, Target};

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

pub(super) struct TarSink {
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
                // Compression on the machine's cores (at most MAX_ZSTD_WORKERS), off the threads
                // that fetch and hash; the bytes do not depend on the worker count.
                let e = crate::archive::zstd_encoder(inner, level, crate::archive::zstd_workers())?;
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

    pub(super) fn file(target: Target, c: Compression, level: i32) -> Result<Self, ExportError> {
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

    pub(super) fn stdout(c: Compression, level: i32) -> Result<Self, ExportError> {
        // A closed stdout is an error, not a silent success (std's Stdout ignores EBADF): write to
        // a duplicate of descriptor 1, which cannot be made when it is closed.
        let fd = io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| ExportError::StdoutClosed(Stdout::Unusable(e)))?;
        // Rust's runtime replaces a closed descriptor 1 with /dev/null opened read-write before
        // main; a shell redirection to /dev/null opens it write-only. Refuse the former: the
        // tarball would vanish while the summary says it was written.
        let flags = rustix::fs::fcntl_getfl(&fd)
            .map_err(|e| ExportError::StdoutClosed(Stdout::Unusable(e.into())))?;
        let st = rustix::fs::fstat(&fd).ok();
        let devnull = rustix::fs::stat("/dev/null").ok();
        if flags.contains(rustix::fs::OFlags::RDWR)
            && st.zip(devnull).is_some_and(|(a, b)| {
                rustix::fs::FileType::from_raw_mode(a.st_mode)
                    == rustix::fs::FileType::CharacterDevice
                    && a.st_rdev == b.st_rdev
            })
        {
            return Err(ExportError::StdoutClosed(Stdout::ClosedAtStart));
        }
        let builder = Self::builder(Box::new(File::from(fd)), c, level)
            .map_err(|e| ExportError::StdoutClosed(Stdout::Write(e)))?;
        Ok(TarSink {
            builder: Some(builder),
            file: None,
            dirs: Vec::new(),
        })
    }

    fn err(&self, e: io::Error) -> ExportError {
        match &self.file {
            Some((t, _, _)) => ExportError::Output {
                path: t.path(),
                source: e,
            },
            // A reader that went away is a failed export, never a success (exit 2).
            None => ExportError::StdoutClosed(Stdout::Write(e)),
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
        // A failure of the archive's own writes is the output's (or stdout's), whatever the body
        // made of it.
        let mut rec = Recording { w, failed: None };
        let mut hashing = HashingWriter::new(&mut rec, d.algorithm());
        let r = body(&mut hashing);
        let (_, actual, n) = hashing.finish();
        if let Some(e) = rec.failed.take() {
            return Err(self.err(e));
        }
        r?;
        if &actual != d || n != size {
            return Err(ExportError::Mismatch {
                digest: d.to_string(),
                problem: Mismatch::Content {
                    actual,
                    size: n,
                    expected: Some(size),
                },
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

    fn landing(&mut self, _: &Digest, _: u64) -> Result<Landing, ExportError> {
        Ok(Landing::InOrder)
    }

    fn spool(&mut self) -> Result<Spool, ExportError> {
        match &self.file {
            Some((t, _, _)) => t.spool(),
            None => super::spool_in_tmp(),
        }
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

/// Passes writes through and keeps the first error of the writer beneath (the archive's own).
struct Recording<'a, W: Write> {
    w: &'a mut W,
    failed: Option<io::Error>,
}

impl<W: Write> Write for Recording<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w.write(buf).inspect_err(|e| {
            if self.failed.is_none() {
                self.failed = Some(io::Error::new(e.kind(), e.to_string()));
            }
        })
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush().inspect_err(|e| {
            if self.failed.is_none() {
                self.failed = Some(io::Error::new(e.kind(), e.to_string()));
            }
        })
    }
}
