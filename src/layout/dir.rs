//! Scanning an OCI layout directory: every blob hashed once, independent blobs on all cores.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::catalog::{read_blob, read_small, BundleFormat, Catalog, ScanOptions};
use super::{classify, Name, INDEX_JSON, OCI_LAYOUT};
use crate::digest::Digest;
use crate::finding::{Code, Finding};

/// An error that stops a scan: the bundle cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}")]
pub struct ScanError {
    /// The file concerned.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: io::Error,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ScanError + '_ {
    move |source| ScanError {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads `oci-layout` or `index.json` if present, refusing links and special files.
fn small_file(
    root: &Path,
    name: &str,
    opts: &ScanOptions,
    cat: &mut Catalog,
) -> Result<Option<super::catalog::Small>, ScanError> {
    let path = root.join(name);
    let meta = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path)(e)),
    };
    if meta.file_type().is_symlink() {
        cat.failures
            .push(Finding::new(Code::LinkEntry, format!("{name} is a symbolic link")).path(name));
        return Ok(None);
    }
    if !meta.is_file() {
        cat.failures.push(
            Finding::new(Code::SpecialFile, format!("{name} is not a regular file")).path(name),
        );
        return Ok(None);
    }
    let mut f = fs::File::open(&path).map_err(io_err(&path))?;
    read_small(&mut f, opts.limits.max_manifest_bytes)
        .map(Some)
        .map_err(io_err(&path))
}

/// Scans a layout directory.
pub fn scan_dir(root: &Path, opts: &ScanOptions) -> Result<Catalog, ScanError> {
    let mut cat = Catalog::new(BundleFormat::Directory, opts.hash);
    cat.oci_layout = small_file(root, OCI_LAYOUT, opts, &mut cat)?;
    cat.index_json = small_file(root, INDEX_JSON, opts, &mut cat)?;

    let blobs_dir = root.join("blobs");
    let mut jobs: Vec<(Digest, PathBuf, u64)> = Vec::new();
    match fs::symlink_metadata(&blobs_dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&blobs_dir)(e)),
        Ok(m) if !m.is_dir() => {
            cat.failures
                .push(Finding::new(Code::LinkEntry, "blobs is not a directory").path("blobs"));
        }
        Ok(_) => {
            for entry in walkdir::WalkDir::new(&blobs_dir)
                .follow_links(false)
                .sort_by_file_name()
            {
                let entry = entry.map_err(|e| {
                    let path = e.path().unwrap_or(&blobs_dir).to_path_buf();
                    ScanError {
                        path,
                        source: e
                            .into_io_error()
                            .unwrap_or_else(|| io::Error::other("walk error")),
                    }
                })?;
                let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
                let Some(rel_str) = rel.to_str().map(|s| s.replace('\\', "/")) else {
                    cat.warnings.push(
                        Finding::new(Code::UnexpectedFile, "file name is not UTF-8")
                            .path(rel.to_string_lossy()),
                    );
                    continue;
                };
                let ft = entry.file_type();
                if ft.is_dir() {
                    continue;
                }
                if ft.is_symlink() {
                    cat.failures.push(
                        Finding::new(
                            Code::LinkEntry,
                            "symbolic link inside blobs/: a bundle must hold its own bytes",
                        )
                        .path(rel_str),
                    );
                    continue;
                }
                if !ft.is_file() {
                    cat.failures.push(
                        Finding::new(Code::SpecialFile, "special file inside blobs/").path(rel_str),
                    );
                    continue;
                }
                match classify(&rel_str, false) {
                    Name::Blob(d) => {
                        let size = entry.metadata().map_err(|e| ScanError {
                            path: entry.path().to_path_buf(),
                            source: e
                                .into_io_error()
                                .unwrap_or_else(|| io::Error::other("metadata")),
                        })?;
                        jobs.push((d, entry.path().to_path_buf(), size.len()));
                    }
                    _ => cat.warnings.push(
                        Finding::new(
                            Code::UnexpectedFile,
                            "file under blobs/ whose name is not a supported digest",
                        )
                        .path(rel_str),
                    ),
                }
            }
        }
    }

    opts.progress
        .set_total(Some(jobs.iter().map(|j| j.2).sum()));
    // Largest first, so that the big blobs start early and the cores finish together.
    jobs.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    let results: Vec<Result<(Digest, super::BlobEntry), ScanError>> = jobs
        .into_par_iter()
        .with_max_len(1)
        .map(|(d, path, size)| {
            let mut f = fs::File::open(&path).map_err(io_err(&path))?;
            let progress = opts.progress.clone();
            let e = read_blob(&d, size, &mut f, opts.hash, &opts.limits, &mut |n| {
                progress.advance(n)
            })
            .map_err(io_err(&path))?;
            Ok((d, e))
        })
        .collect();
    for r in results {
        let (d, e) = r?;
        cat.insert(d, e, &opts.limits);
    }
    Ok(cat)
}
