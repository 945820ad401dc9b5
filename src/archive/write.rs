//! Deterministic tarballs of a layout: `oci-layout`, then `blobs/` in name order, then `index.json`;
//! mtime 0, uid/gid 0, no user names, mode 0644 for files and 0755 for directories. Two runs over
//! the same content give the same bytes. Output goes to a temporary name and is renamed into place.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::layout::{classify, Name, INDEX_JSON, OCI_LAYOUT};

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

fn append_tree<W: Write>(b: &mut tar::Builder<W>, root: &Path) -> io::Result<()> {
    let add_file = |b: &mut tar::Builder<W>, name: &str| -> io::Result<()> {
        let path = root.join(name);
        let f = File::open(&path)?;
        let len = f.metadata()?.len();
        let mut h = header(tar::EntryType::Regular, len, 0o644);
        b.append_data(&mut h, name, io::Read::take(f, len))
    };
    add_file(b, OCI_LAYOUT)?;
    let blobs = root.join("blobs");
    if blobs.is_dir() {
        for entry in walkdir::WalkDir::new(&blobs)
            .follow_links(false)
            .sort_by_file_name()
        {
            let entry = entry.map_err(io::Error::other)?;
            let rel = entry
                .path()
                .strip_prefix(root)
                .map_err(io::Error::other)?
                .to_string_lossy()
                .replace('\\', "/");
            if entry.file_type().is_dir() {
                if matches!(classify(&rel, true), Name::BlobsDir | Name::AlgDir) {
                    let mut h = header(tar::EntryType::Directory, 0, 0o755);
                    b.append_data(&mut h, format!("{rel}/"), io::empty())?;
                }
            } else if entry.file_type().is_file() && matches!(classify(&rel, false), Name::Blob(_))
            {
                add_file(b, &rel)?;
            }
        }
    }
    add_file(b, INDEX_JSON)
}

/// Writes the layout at `root` as a deterministic tarball at `out`.
pub fn write_layout_tar(root: &Path, out: &Path, compression: Compression) -> io::Result<()> {
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
        let f = match compression {
            Compression::None => {
                let mut b = tar::Builder::new(f);
                append_tree(&mut b, root)?;
                b.into_inner()?
            }
            Compression::Gzip => {
                let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
                    f,
                    flate2::Compression::new(6),
                ));
                append_tree(&mut b, root)?;
                b.into_inner()?.finish()?
            }
            Compression::Zstd => {
                let mut b = tar::Builder::new(zstd::stream::write::Encoder::new(f, 3)?);
                append_tree(&mut b, root)?;
                b.into_inner()?.finish()?
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
