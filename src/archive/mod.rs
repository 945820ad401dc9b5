//! Tarballs, and nothing about what they hold: format detection by magic bytes, decompression on
//! its own thread, a bounded tar entry reader, and a compressed tar written to a temporary name
//! then renamed. What a layout looks like inside a tar is `layout`'s (`layout::write_layout_tar`).

pub mod parts;
mod pipe;
mod progress;
mod read;
mod stored;
mod write;

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use pipe::ChannelReader;
pub use progress::{BundleFormat, NoProgress, Progress};
pub use read::{Body, EntryKind, TarEntry, TarReader, MAX_TRAILING_ZEROS};
pub use write::{
    tar_header, write_tar_atomic, zstd_encoder, zstd_workers, Compression, Encoder,
    MAX_ZSTD_WORKERS,
};

/// Where a bundle comes from, after detection.
pub enum Source {
    /// A layout directory.
    Dir(PathBuf),
    /// A tarball stream (file or stdin), not yet decompressed.
    Stream {
        /// Detected format.
        format: BundleFormat,
        /// The raw stream, with the sniffed prefix put back in front; hashed as it is read.
        reader: Box<dyn Read + Send>,
        /// Its length when it is a file.
        len: Option<u64>,
        /// The sha256 of the raw bytes `reader` hands out, known once it has reached its end.
        file_digest: FileDigest,
    },
}

/// The sha256 of a bundle file's own bytes (the tarball as stored, or a parts set's bytes in
/// order: the file that was split), computed by whichever thread reads the raw stream
/// (decompression's own), with no second read. Known once that reader reached the end of the
/// stream ([`ChannelReader::drain_at_most`] gets there after the consumer stops).
#[derive(Clone, Default)]
pub struct FileDigest(Arc<Mutex<FileHash>>);

#[derive(Default)]
struct FileHash {
    running: Option<crate::digest::Hasher>,
    done: Option<crate::digest::Digest>,
    started: bool,
}

impl FileDigest {
    /// The digest, when the whole stream was read.
    pub fn get(&self) -> Option<crate::digest::Digest> {
        self.0.lock().ok().and_then(|g| g.done.clone())
    }

    /// Wraps `inner`: every byte read through it is hashed into this digest.
    fn wrap(&self, inner: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        Box::new(HashRead {
            inner,
            slot: self.clone(),
        })
    }
}

/// A reader that hashes what it hands out into a [`FileDigest`], and settles it at the end.
struct HashRead {
    inner: Box<dyn Read + Send>,
    slot: FileDigest,
}

impl Read for HashRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Ok(mut g) = self.slot.0.lock() {
            if !g.started {
                g.started = true;
                g.running = Some(crate::digest::Hasher::new(crate::digest::Algorithm::Sha256));
            }
            if n == 0 {
                if let Some(h) = g.running.take() {
                    g.done = Some(h.finish().0);
                }
            } else if let (Some(h), Some(data)) = (g.running.as_mut(), buf.get(..n)) {
                h.update(data);
            }
        }
        Ok(n)
    }
}

/// Why a bundle could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// I/O error.
    #[error("cannot open {path}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The content is neither a directory, a tar, a gzip nor a zstd stream.
    #[error("{0}: not an OCI layout directory, tar, tar.gz or tar.zst (unrecognised magic bytes)")]
    Unrecognised(String),
    /// A parts manifest that cannot be used.
    #[error("parts manifest {path}: {why}")]
    PartsManifest {
        /// The manifest (or the folder).
        path: String,
        /// Why.
        why: String,
    },
}

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Detects the format of a stream from its first bytes (at least 512 when available).
pub fn sniff(prefix: &[u8]) -> Option<BundleFormat> {
    if prefix.starts_with(&ZSTD_MAGIC) {
        Some(BundleFormat::TarZstd)
    } else if prefix.starts_with(&GZIP_MAGIC) {
        Some(BundleFormat::TarGzip)
    } else if prefix.get(257..262) == Some(b"ustar") {
        Some(BundleFormat::Tar)
    } else {
        None
    }
}

/// Opens a bundle: a directory, a file, `-` for stdin, or a parts set (its manifest, a part, or
/// the folder holding them), read as one stream that fails at the first bad part. To report on
/// each part instead, use [`open_input`].
pub fn open(path: &Path) -> Result<Source, OpenError> {
    if let Some(set) = parts::locate(path, None)? {
        return parts::open_set(set, true).map(|(s, _)| s);
    }
    open_single(path, true)
}

/// Opens a bundle as [`open`] does; a parts set comes with its check, whose
/// [`parts::PartsCheck::finish`] (after the scan) gives each part's result and findings.
pub fn open_input(path: &Path) -> Result<(Source, Option<parts::PartsCheck>), OpenError> {
    match parts::locate(path, None)? {
        Some(set) => parts::open_set(set, false).map(|(s, c)| (s, Some(c))),
        None => open_single(path, true).map(|s| (s, None)),
    }
}

/// Opens a bundle for a second pass whose every use re-hashes what it takes (import's upload pass
/// hashes each blob it pushes): a single file's stream is not hashed whole again, which was a
/// sixth of an import's CPU (its `file_digest` stays unknown); a parts set opens as with [`open`],
/// each part checked on the way.
pub fn open_again(path: &Path) -> Result<Source, OpenError> {
    if let Some(set) = parts::locate(path, None)? {
        return parts::open_set(set, true).map(|(s, _)| s);
    }
    open_single(path, false)
}

/// `hash`: the stream's bytes are hashed into its `file_digest` as they are read.
fn open_single(path: &Path, hash: bool) -> Result<Source, OpenError> {
    let shown = path.display().to_string();
    let ioe = |source| OpenError::Io {
        path: shown.clone(),
        source,
    };
    if path == Path::new("-") {
        return from_stream(Box::new(io::stdin()), None, "<stdin>", hash);
    }
    let meta = std::fs::metadata(path).map_err(ioe)?;
    if meta.is_dir() {
        return Ok(Source::Dir(path.to_path_buf()));
    }
    // The second pass (`!hash`) reads a file verification already read: it must still be a regular
    // file (the operator's path may be a link to one), opened without blocking, so that a FIFO or
    // device swapped in after verification fails at once instead of hanging the import.
    let f = if hash {
        // Without blocking in open: a FIFO nobody writes to reads as empty and is refused.
        crate::fsutil::open_named(path).map_err(ioe)?
    } else {
        crate::fsutil::open_regular_file(path, true).map_err(ioe)?
    };
    from_stream(Box::new(f), Some(meta.len()), &shown, hash)
}

fn from_stream(
    mut r: Box<dyn Read + Send>,
    len: Option<u64>,
    shown: &str,
    hash: bool,
) -> Result<Source, OpenError> {
    let mut prefix = Vec::with_capacity(512);
    (&mut r)
        .take(512)
        .read_to_end(&mut prefix)
        .map_err(|source| OpenError::Io {
            path: shown.to_string(),
            source,
        })?;
    let format = sniff(&prefix).ok_or_else(|| OpenError::Unrecognised(shown.to_string()))?;
    let file_digest = FileDigest::default();
    let raw: Box<dyn Read + Send> = Box::new(io::Cursor::new(prefix).chain(r));
    let reader = if hash { file_digest.wrap(raw) } else { raw };
    Ok(Source::Stream {
        format,
        reader,
        len,
        file_digest,
    })
}

/// Decompresses `reader` on a separate thread and returns the tar stream. Progress counts the
/// bytes read from the raw (compressed) input.
pub fn decompress(
    reader: Box<dyn Read + Send>,
    format: BundleFormat,
    progress: Arc<dyn Progress>,
) -> ChannelReader {
    pipe::spawn(move || -> io::Result<Box<dyn Read>> {
        let counted = Counting {
            inner: reader,
            progress,
        };
        Ok(match format {
            BundleFormat::TarZstd => {
                let mut d = zstd::stream::read::Decoder::new(counted)?;
                // The decoder keeps one window of output: a frame may declare up to 2^31 bytes.
                d.window_log_max(ZSTD_WINDOW_LOG_MAX)?;
                Box::new(ZstdWindow(d))
            }
            BundleFormat::TarGzip => Box::new(flate2::read::MultiGzDecoder::new(
                io::BufReader::with_capacity(1 << 16, counted),
            )),
            _ => Box::new(counted),
        })
    })
}

/// The largest zstd window read (2^25 = 32 MiB: what `zstd -20` writes; levels up to 19 write at
/// most 8 MiB, airlock's level 3 2 MiB): a frame declaring more (`zstd --long`, `--ultra -21`) is
/// refused, so that memory stays bounded whatever the bundle says.
pub const ZSTD_WINDOW_LOG_MAX: u32 = 25;

/// The zstd decoder, whose "too much memory" error is given its cause.
struct ZstdWindow<R>(R);

impl<R: Read> Read for ZstdWindow<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.to_string().contains("too much memory") {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "zstd frame declares a window over the 2^{ZSTD_WINDOW_LOG_MAX} byte limit \
                         (written with --long or --ultra?): recompress at level 19 or lower ({e})"
                    ),
                )
            } else {
                e
            }
        })
    }
}

struct Counting {
    inner: Box<dyn Read + Send>,
    progress: Arc<dyn Progress>,
}

impl Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(u64::try_from(n).unwrap_or(u64::MAX));
        Ok(n)
    }
}
