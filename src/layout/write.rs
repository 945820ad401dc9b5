//! Writing a layout directory: blobs hashed while written, each under a temporary name renamed
//! into place only when complete; `index.json` written last, so a partial layout never looks whole.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::blob::{into_io, write_blob, write_blob_hashed, write_file_at, BlobError};
use super::{blob_path, INDEX_JSON, LAYOUT_VERSION, OCI_LAYOUT};
use crate::digest::{Algorithm, Digest};
use crate::fsutil::parent_and_name;

/// Writes an OCI layout directory.
pub struct LayoutWriter {
    root: PathBuf,
}

/// Writes `data` to `path` through a temporary file in the same directory, renamed into place
/// when complete and synced (the blob writer's commit path, [`super::blob`]). Only nothing or a
/// regular file at `path` is replaced: a device, a FIFO, a symbolic link or a directory there is
/// refused ([`crate::fsutil::replaceable`]).
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    crate::fsutil::replaceable(path)?;
    let (dir, name) = parent_and_name(path)?;
    write_file_at(File::open(dir)?, Path::new(name), data)
}

impl LayoutWriter {
    /// Creates (or reuses) a layout directory.
    pub fn create(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root.join("blobs").join("sha256"))?;
        Ok(LayoutWriter {
            root: root.to_path_buf(),
        })
    }

    /// The layout root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Stores bytes as a sha256 blob and returns their digest. A blob already present is kept
    /// only when it holds exactly these bytes; otherwise (truncated, tampered) it is replaced.
    pub fn put_bytes(&self, data: &[u8]) -> io::Result<Digest> {
        let d = Digest::sha256(data);
        let path = self.root.join(blob_path(&d));
        let intact = fs::metadata(&path)
            .is_ok_and(|m| m.is_file() && m.len() == u64::try_from(data.len()).unwrap_or(u64::MAX))
            && fs::read(&path).is_ok_and(|have| have == data);
        if !intact {
            let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
            self.put_blob(&d, Some(len), data).map_err(into_io)?;
        }
        Ok(d)
    }

    /// Streams a reader into blob `d` through the blob writer ([`write_blob`]): committed under
    /// its name only when the content hashes to `d` and, when given, has `size` bytes.
    pub fn put_blob<R: Read>(
        &self,
        d: &Digest,
        size: Option<u64>,
        mut r: R,
    ) -> Result<(), BlobError<io::Error>> {
        let path = self.root.join("blobs").join(d.algorithm().name());
        let dir = fs::create_dir_all(&path)
            .and_then(|()| File::open(&path))
            .map_err(|e| BlobError::Io(path.display().to_string(), e))?;
        write_blob(&dir, d, size, |w| io::copy(&mut r, w).map(|_| ()))
    }

    /// Streams a reader into a sha256 blob, hashing while writing (the blob writer's commit path,
    /// named by its hash once written). Returns its digest and size.
    pub fn put_reader<R: Read>(&self, mut r: R) -> io::Result<(Digest, u64)> {
        let dir = File::open(self.root.join("blobs").join("sha256"))?;
        write_blob_hashed(&dir, Algorithm::Sha256, |w| io::copy(&mut r, w).map(|_| ()))
            .map_err(into_io)
    }

    /// Writes `oci-layout` and then `index.json`, which completes the layout.
    pub fn finish(&self, index_json: &[u8]) -> io::Result<()> {
        write_atomic(
            &self.root.join(OCI_LAYOUT),
            format!("{{\"imageLayoutVersion\":\"{LAYOUT_VERSION}\"}}").as_bytes(),
        )?;
        write_atomic(&self.root.join(INDEX_JSON), index_json)
    }
}
