//! Writing tarballs: entry headers with nothing from the machine in them (mtime 0, uid/gid 0, no
//! user names), the compression, and the file written under a temporary name and renamed into
//! place. The entries and their order are the caller's (`layout::write_layout_tar`).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Compression of a written tarball.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip (level 6).
    Gzip,
    /// zstd (level 3).
    Zstd,
}

impl Compression {
    /// Picks the compression from an output file name (`.tar.zst`, `.tar.gz`/`.tgz`, else none).
    pub fn from_file_name(p: &Path) -> Self {
        let s = p.to_string_lossy();
        if s.ends_with(".zst") || s.ends_with(".tzst") {
            Compression::Zstd
        } else if s.ends_with(".gz") || s.ends_with(".tgz") {
            Compression::Gzip
        } else {
            Compression::None
        }
    }
}

/// A header with nothing from the machine in it: `kind`, `size`, `mode`, mtime 0, uid/gid 0.
pub fn tar_header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Writes a tarball at `out`, compressed as asked, with the entries `fill` appends: to a temporary
/// name beside `out` (synced), renamed into place when complete, removed on failure.
pub fn write_tar_atomic(
    out: &Path,
    compression: Compression,
    fill: &dyn Fn(&mut tar::Builder<&mut dyn Write>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.airlock-tmp-{}", std::process::id()));
    let result = (|| {
        let f = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        // The tar's closing blocks are written by `into_inner`, before the compressor finishes.
        let tar = |w: &mut dyn Write| -> io::Result<()> {
            let mut b = tar::Builder::new(w);
            fill(&mut b)?;
            b.into_inner().map(|_| ())
        };
        let f = match compression {
            Compression::None => {
                let mut f = f;
                tar(&mut f)?;
                f
            }
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::new(6));
                tar(&mut e)?;
                e.finish()?
            }
            Compression::Zstd => {
                let mut e = zstd::stream::write::Encoder::new(f, 3)?;
                tar(&mut e)?;
                e.finish()?
            }
        };
        f.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    match result {
        Ok(()) => fs::rename(&tmp, out),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}
