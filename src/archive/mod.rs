//! Tarballs, and nothing about what they hold: format detection by magic bytes, decompression on
//! its own thread, a bounded tar entry reader, and a compressed tar written to a temporary name
//! then renamed. What a layout looks like inside a tar is `layout`'s (`layout::write_layout_tar`).

mod pipe;
mod progress;
mod read;
mod write;

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use pipe::ChannelReader;
pub use progress::{BundleFormat, NoProgress, Progress};
pub use read::{Body, EntryKind, TarEntry, TarReader};
pub use write::{
    tar_header, write_tar_atomic, zstd_encoder, zstd_workers, Compression, MAX_ZSTD_WORKERS,
};

/// Where a bundle comes from, after detection.
pub enum Source {
    /// A layout directory.
    Dir(PathBuf),
    /// A tarball stream (file or stdin), not yet decompressed.
    Stream {
        /// Detected format.
        format: BundleFormat,
        /// The raw stream, with the sniffed prefix put back in front.
        reader: Box<dyn Read + Send>,
        /// Its length when it is a file.
        len: Option<u64>,
    },
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

/// Opens a bundle: a directory, a file, or `-` for stdin.
pub fn open(path: &Path) -> Result<Source, OpenError> {
    let shown = path.display().to_string();
    let ioe = |source| OpenError::Io {
        path: shown.clone(),
        source,
    };
    if path == Path::new("-") {
        return from_stream(Box::new(io::stdin()), None, "<stdin>");
    }
    let meta = std::fs::metadata(path).map_err(ioe)?;
    if meta.is_dir() {
        return Ok(Source::Dir(path.to_path_buf()));
    }
    let f = File::open(path).map_err(ioe)?;
    from_stream(Box::new(f), Some(meta.len()), &shown)
}

fn from_stream(
    mut r: Box<dyn Read + Send>,
    len: Option<u64>,
    shown: &str,
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
    let reader: Box<dyn Read + Send> = Box::new(io::Cursor::new(prefix).chain(r));
    Ok(Source::Stream {
        format,
        reader,
        len,
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
            BundleFormat::TarZstd => Box::new(zstd::stream::read::Decoder::new(counted)?),
            BundleFormat::TarGzip => Box::new(flate2::read::MultiGzDecoder::new(
                io::BufReader::with_capacity(1 << 16, counted),
            )),
            _ => Box::new(counted),
        })
    })
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
