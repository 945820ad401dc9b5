//! The one blob writer: a blob is streamed to a temporary name in its `blobs/<alg>/` folder,
//! hashed while written ([`HashingWriter`]), and renamed to its digest only when the digest and
//! the size match; otherwise the temporary file is removed and nothing is committed. It works
//! relative to a directory handle (no link in a name is followed), so export's staging directory
//! and a plain layout directory use it alike.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;

use super::at;
use crate::digest::{Digest, HashingWriter, CHUNK};

/// Why a blob was not committed.
#[derive(Debug)]
pub enum BlobError<E> {
    /// The body failed (its own error).
    Body(E),
    /// Creating, writing, syncing or renaming the file failed (the name it concerns).
    Io(String, io::Error),
    /// The content does not match the digest or the size it was written under.
    Mismatch {
        /// What the content hashes to.
        actual: Digest,
        /// How many bytes the body wrote.
        size: u64,
    },
}

impl<E: fmt::Display> fmt::Display for BlobError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobError::Body(e) => write!(f, "{e}"),
            BlobError::Io(name, e) => write!(f, "{name}: {e}"),
            BlobError::Mismatch { actual, size } => {
                write!(f, "content hashes to {actual} ({size} bytes)")
            }
        }
    }
}

/// The temporary name a blob is written under before it is committed.
pub fn part_name(d: &Digest) -> String {
    format!(".{}.part", d.hex())
}

/// Writes blob `d` into `alg_dir` (a handle to its `blobs/<alg>/` folder): `body` writes the
/// content to `.<hex>.part` (created new, never through a link), which is synced and renamed to
/// `<hex>` only when it hashes to `d` and, when `size` is given, has that many bytes. Any other
/// outcome removes the temporary file and leaves `<hex>` as it was. The temporary name is fixed
/// (a dead run's leftover is replaced, never kept), so one writer per folder at a time.
pub fn write_blob<E>(
    alg_dir: impl AsFd,
    d: &Digest,
    size: Option<u64>,
    body: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(), BlobError<E>> {
    let dir = alg_dir.as_fd();
    let tmp = part_name(d);
    let _ = at::unlink(dir, tmp.as_str());
    let f = at::create_file(dir, tmp.as_str()).map_err(|e| BlobError::Io(tmp.clone(), e))?;
    let mut w = HashingWriter::new(BufWriter::with_capacity(CHUNK, f), d.algorithm());
    let res = match body(&mut w) {
        Err(e) => Err(BlobError::Body(e)),
        Ok(()) => {
            let (buffered, actual, n) = w.finish();
            if &actual != d || size.is_some_and(|s| s != n) {
                Err(BlobError::Mismatch { actual, size: n })
            } else {
                buffered
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|f| f.sync_all())
                    .map_err(|e| BlobError::Io(tmp.clone(), e))
            }
        }
    };
    if let Err(e) = res {
        let _ = at::unlink(dir, tmp.as_str());
        return Err(e);
    }
    at::rename(dir, tmp.as_str(), d.hex()).map_err(|e| {
        let _ = at::unlink(dir, tmp.as_str());
        BlobError::Io(d.hex().to_owned(), e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commits_only_content_that_matches_its_digest_and_size() {
        let t = tempfile::tempdir().unwrap();
        let dir = std::fs::File::open(t.path()).unwrap();
        let d = Digest::sha256(b"hello");
        let e = write_blob::<io::Error>(&dir, &d, Some(5), |w| w.write_all(b"hellO")).unwrap_err();
        assert!(matches!(e, BlobError::Mismatch { size: 5, .. }), "{e}");
        let e = write_blob::<io::Error>(&dir, &d, Some(6), |w| w.write_all(b"hello")).unwrap_err();
        assert!(matches!(e, BlobError::Mismatch { size: 5, .. }), "{e}");
        let e = write_blob(&dir, &d, None, |w| {
            w.write_all(b"he")?;
            Err(io::Error::other("source gone"))
        })
        .unwrap_err();
        assert!(matches!(e, BlobError::Body(_)), "{e}");
        assert!(names(t.path()).is_empty(), "{:?}", names(t.path()));
        write_blob::<io::Error>(&dir, &d, Some(5), |w| w.write_all(b"hello")).unwrap();
        assert_eq!(names(t.path()), vec![d.hex().to_owned()]);
        assert_eq!(std::fs::read(t.path().join(d.hex())).unwrap(), b"hello");
    }
}
