//! The tarball sink: a deterministic tar (fixed order, zero times and owners), optionally gzip or
//! zstd, written to a temporary name beside the output and renamed when complete, or to stdout.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;

use crate::archive::parts::{Identity, PartsFinish};
use crate::archive::{tar_header as header, Compression, Encoder};
use crate::digest::{Digest, HashingWriter};
use crate::layout::{blob_name, INDEX_JSON, LAYOUT_VERSION, OCI_LAYOUT};

use super::super::staging::{self, Existing, Guard};
use super::super::{ExportError, Mismatch, Stdout};
use super::{out_err, Body, Finished, Landing, Sink, Spool, Target};

/// The archive's bytes as they go to the output, hashed (the bundle's file digest).
type Inner = HashingWriter<BufWriter<Box<dyn Write>>>;

pub(super) struct TarSink {
    builder: Option<tar::Builder<Encoder<Inner>>>,
    /// The output (none for stdout) and the staging name of the file being written.
    file: Option<(Target, String, Guard)>,
    /// `--split`: the output, and the parts set's finishing end (its stream is the builder's
    /// writer; dropping both removes every staged part).
    parts: Option<(Target, PartsFinish)>,
    dirs: Vec<String>,
}

impl TarSink {
    fn builder(
        w: Box<dyn Write>,
        c: Compression,
        level: i32,
    ) -> io::Result<tar::Builder<Encoder<Inner>>> {
        let inner = HashingWriter::new(
            BufWriter::with_capacity(1 << 20, w),
            crate::digest::Algorithm::Sha256,
        );
        let enc = Encoder::new(inner, c, level)?;
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
        let f = crate::fsutil::WriteBack::new(f);
        let builder = Self::builder(Box::new(f), c, level).map_err(out_err(&path))?;
        Ok(TarSink {
            builder: Some(builder),
            file: Some((target, tmp, guard)),
            parts: None,
            dirs: Vec::new(),
        })
    }

    /// The tarball written as a parts set of at most `size` bytes each (`--split`).
    pub(super) fn parts(
        target: Target,
        c: Compression,
        level: i32,
        size: u64,
    ) -> Result<Self, ExportError> {
        let path = target.path();
        let (stream, finish) = crate::archive::parts::create(&target.parent, &target.name, size)
            .map_err(out_err(&path))?;
        let builder = Self::builder(Box::new(stream), c, level).map_err(out_err(&path))?;
        Ok(TarSink {
            builder: Some(builder),
            file: None,
            parts: Some((target, finish)),
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
            parts: None,
            dirs: Vec::new(),
        })
    }

    /// One blob entry: header, body streamed straight into the archive, padding. With `hash`, the
    /// body is hashed on the way and a mismatch fails the archive; without, the caller has hashed
    /// it (its body fails on a mismatch) and only the length is checked.
    fn entry(
        &mut self,
        d: &Digest,
        size: u64,
        body: Body<'_>,
        hash: bool,
    ) -> Result<(), ExportError> {
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
        let mut rec = Recording {
            w,
            failed: None,
            n: 0,
        };
        let (r, actual) = if hash {
            let mut hashing = HashingWriter::new(&mut rec, d.algorithm());
            let r = body(&mut hashing);
            let (_, actual, _) = hashing.finish();
            (r, actual)
        } else {
            (body(&mut rec), d.clone())
        };
        let n = rec.n;
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

    fn err(&self, e: io::Error) -> ExportError {
        match (&self.file, &self.parts) {
            (Some((t, _, _)), _) | (None, Some((t, _))) => ExportError::Output {
                path: t.path(),
                source: e,
            },
            // A reader that went away is a failed export, never a success (exit 2).
            (None, None) => ExportError::StdoutClosed(Stdout::Write(e)),
        }
    }
}

impl Sink for TarSink {
    fn put(&mut self, d: &Digest, size: u64, body: Body<'_>) -> Result<(), ExportError> {
        self.entry(d, size, body, true)
    }

    fn put_checked(&mut self, d: &Digest, size: u64, body: Body<'_>) -> Result<(), ExportError> {
        self.entry(d, size, body, false)
    }

    fn landing(&mut self, _: &Digest, _: u64) -> Result<Landing, ExportError> {
        Ok(Landing::InOrder)
    }

    fn spool(&mut self) -> Result<Spool, ExportError> {
        match (&self.file, &self.parts) {
            (Some((t, _, _)), _) | (None, Some((t, _))) => t.spool(),
            (None, None) => super::spool_in_tmp(),
        }
    }

    fn abort(&mut self) {
        self.builder = None;
        // Dropping the guard removes the temporary file; dropping both ends of a parts set removes
        // its staged parts.
        self.file = None;
        self.parts = None;
    }

    fn finish(&mut self, index: &[u8], pin: Option<&str>) -> Result<Finished, ExportError> {
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
        let mut parts = None;
        if let Some((t, finish)) = self.parts.take() {
            let m = finish
                .finish(Identity {
                    index_digest: Some(Digest::sha256(index).to_string()),
                    pin: pin.map(str::to_owned),
                })
                .map_err(out_err(&t.path()))?;
            parts = Some(m);
        }
        Ok(Finished { digest, parts })
    }
}

impl Drop for TarSink {
    fn drop(&mut self) {
        if self.builder.is_some() {
            self.abort();
        }
    }
}

/// Passes writes through, counts them, and keeps the first error of the writer beneath (the
/// archive's own).
struct Recording<'a, W: Write> {
    w: &'a mut W,
    failed: Option<io::Error>,
    n: u64,
}

impl<W: Write> Write for Recording<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.w.write(buf).inspect_err(|e| {
            if self.failed.is_none() {
                self.failed = Some(io::Error::new(e.kind(), e.to_string()));
            }
        });
        if let Ok(n) = r {
            self.n += u64::try_from(n).unwrap_or(u64::MAX);
        }
        r
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush().inspect_err(|e| {
            if self.failed.is_none() {
                self.failed = Some(io::Error::new(e.kind(), e.to_string()));
            }
        })
    }
}
