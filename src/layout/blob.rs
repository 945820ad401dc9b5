//! The one blob writer: a blob is streamed to a temporary name in its `blobs/<alg>/` folder,
//! hashed while written ([`HashingWriter`]), and renamed to its digest only when the digest and
//! the size match; otherwise the temporary file is removed and nothing is committed. It works
//! relative to a directory handle (no link in a name is followed), so export's staging directory
//! and a plain layout directory use it alike. The same commit path ([`commit`]) serves a blob named
//! by its hash once written ([`write_blob_hashed`]) and a whole small file ([`write_file_at`]:
//! `index.json`, `oci-layout`, reports).

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::at;
use crate::digest::{Algorithm, Digest, HashingWriter, CHUNK};

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
    commit(dir, &tmp, d.algorithm(), body, |actual, n| {
        if actual != d || size.is_some_and(|s| s != n) {
            Err(BlobError::Mismatch {
                actual: actual.clone(),
                size: n,
            })
        } else {
            Ok(PathBuf::from(d.hex()))
        }
    })
    .map(|_| ())
}

/// Writes a blob whose digest is not known beforehand into `alg_dir` (its `blobs/<alg>/` folder):
/// hashed with `alg` while `body` writes it under a temporary name unique to this process and
/// call, then renamed to the hex of what it hashed to. Returns the digest and the size.
pub fn write_blob_hashed<E>(
    alg_dir: impl AsFd,
    alg: Algorithm,
    body: impl FnOnce(&mut dyn Write) -> Result<(), E>,
) -> Result<(Digest, u64), BlobError<E>> {
    let tmp = unique_tmp("blob");
    commit(alg_dir.as_fd(), &tmp, alg, body, |actual, _| {
        Ok(PathBuf::from(actual.hex()))
    })
}

/// Writes `data` to `name` in `dir` through a temporary name unique to this process and call:
/// synced, checked to hold `data.len()` bytes, then renamed over `name` (a reader sees the old
/// file or the new one, never a part).
pub(crate) fn write_file_at(dir: impl AsFd, name: &Path, data: &[u8]) -> io::Result<()> {
    let want = u64::try_from(data.len()).unwrap_or(u64::MAX);
    let label = name.to_string_lossy();
    let tmp = unique_tmp(&label);
    commit(
        dir.as_fd(),
        &tmp,
        Algorithm::Sha256,
        |w| w.write_all(data),
        |actual, n| {
            if n == want {
                Ok(name.to_path_buf())
            } else {
                Err(BlobError::Mismatch {
                    actual: actual.clone(),
                    size: n,
                })
            }
        },
    )
    .map(|_| ())
    .map_err(into_io)
}

/// A temporary name no other writer of this process uses: `.<what>.airlock-tmp-<pid>-<n>`.
fn unique_tmp(what: &str) -> String {
    let n = TMP_SEQ.fetch_add(1, Ordering::Relaxed);
    format!(".{what}.airlock-tmp-{}-{n}", std::process::id())
}

static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// The one commit path: `body` writes to `tmp` (created new in `dir`, never through a link),
/// hashed with `alg` while written; `decide` judges the digest and size and names the file the
/// content becomes; only then is it synced and renamed. Any failure removes `tmp`.
fn commit<E>(
    dir: BorrowedFd<'_>,
    tmp: &str,
    alg: Algorithm,
    body: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    decide: impl FnOnce(&Digest, u64) -> Result<PathBuf, BlobError<E>>,
) -> Result<(Digest, u64), BlobError<E>> {
    let f = at::create_file(dir, tmp).map_err(|e| BlobError::Io(tmp.to_owned(), e))?;
    let f = crate::fsutil::WriteBack::new(f);
    let mut w = HashingWriter::new(BufWriter::with_capacity(CHUNK, f), alg);
    let res = match body(&mut w) {
        Err(e) => Err(BlobError::Body(e)),
        Ok(()) => {
            let (buffered, actual, n) = w.finish();
            decide(&actual, n).and_then(|name| {
                buffered
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|f| f.into_inner().sync_all())
                    .map_err(|e| BlobError::Io(tmp.to_owned(), e))
                    .map(|()| (actual, n, name))
            })
        }
    };
    let (actual, n, name) = match res {
        Ok(x) => x,
        Err(e) => {
            let _ = at::unlink(dir, tmp);
            return Err(e);
        }
    };
    at::rename(dir, tmp, &name).map_err(|e| {
        let _ = at::unlink(dir, tmp);
        BlobError::Io(name.to_string_lossy().into_owned(), e)
    })?;
    Ok((actual, n))
}

/// A blob writer's refusal as an I/O error (for callers that only speak `io`).
pub(crate) fn into_io(e: BlobError<io::Error>) -> io::Error {
    match e {
        BlobError::Body(e) | BlobError::Io(_, e) => e,
        m @ BlobError::Mismatch { .. } => io::Error::new(io::ErrorKind::InvalidData, m.to_string()),
    }
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

    #[test]
    fn a_blob_named_by_its_hash_and_a_whole_file_use_the_same_commit() {
        let t = tempfile::tempdir().unwrap();
        let dir = std::fs::File::open(t.path()).unwrap();
        let (d, n) =
            write_blob_hashed::<io::Error>(&dir, Algorithm::Sha256, |w| w.write_all(b"abc"))
                .unwrap();
        assert_eq!((d.clone(), n), (Digest::sha256(b"abc"), 3));
        let e = write_blob_hashed(&dir, Algorithm::Sha256, |w| {
            w.write_all(b"x")?;
            Err(io::Error::other("gone"))
        })
        .unwrap_err();
        assert!(matches!(e, BlobError::Body(_)), "{e}");
        write_file_at(&dir, Path::new("index.json"), b"{}").unwrap();
        write_file_at(&dir, Path::new("index.json"), b"{\"a\":1}").unwrap();
        assert_eq!(
            names(t.path()),
            vec![d.hex().to_owned(), "index.json".to_owned()]
        );
        assert_eq!(
            std::fs::read(t.path().join("index.json")).unwrap(),
            b"{\"a\":1}"
        );
    }
}
