//! The directory sink: a layout directory staged under a fresh name beside the output, blobs
//! committed through the shared blob writer (temporary name, rename after digest and size match),
//! reused from a dead run's staging or hard-linked from the bundle being replaced after a re-hash.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use crate::digest::{hash_reader, Digest};
use crate::layout::{INDEX_JSON, LAYOUT_VERSION, OCI_LAYOUT};

use super::super::staging::{self, Existing, Guard};
use super::super::{ExportError, Usage};
use super::{out_err, BlobDir, Body, Landing, Sink, Spool, Target};

pub(super) struct DirSink {
    target: Target,
    staged: String,
    guard: Option<Guard>,
    root: OwnedFd,
    /// `blobs/<alg>` handles inside the staging directory.
    alg_dirs: Vec<(String, OwnedFd)>,
    /// The bundle being replaced, whose blobs are hard-linked instead of copied again.
    previous: Option<OwnedFd>,
    written: BTreeSet<(String, String)>,
}

impl DirSink {
    pub(super) fn open(target: Target) -> Result<Self, ExportError> {
        let staged = staging::fresh_name(&target.name, "partial");
        let path = target.parent.join(&staged);
        match &target.adopt {
            // A partial directory of a run that died: its blobs are re-hashed before reuse.
            Some(old) => staging::rename(&target.dir, old, &staged).map_err(out_err(&path))?,
            None => staging::create_dir(&target.dir, &staged).map_err(out_err(&path))?,
        }
        let guard = Guard::new(path.clone());
        let root = staging::open_subdir(&target.dir, &staged).map_err(out_err(&path))?;
        // index.json goes last: a staging directory never holds one while blobs are written.
        let _ = staging::unlink(&root, INDEX_JSON);
        let previous = match target.existing {
            Existing::OwnBundle => staging::open_subdir(&target.dir, &target.name)
                .and_then(|d| staging::open_subdir(&d, "blobs"))
                .ok(),
            _ => None,
        };
        Ok(DirSink {
            target,
            staged,
            guard: Some(guard),
            root,
            alg_dirs: Vec::new(),
            previous,
            written: BTreeSet::new(),
        })
    }

    fn path(&self) -> PathBuf {
        self.target.parent.join(&self.staged)
    }

    fn alg_dir(&mut self, alg: &str) -> io::Result<OwnedFd> {
        if let Some((_, fd)) = self.alg_dirs.iter().find(|(a, _)| a == alg) {
            return fd.try_clone();
        }
        let blobs = match staging::open_subdir(&self.root, "blobs") {
            Ok(b) => b,
            Err(_) => {
                staging::create_dir(&self.root, "blobs")?;
                staging::open_subdir(&self.root, "blobs")?
            }
        };
        let fd = match staging::open_subdir(&blobs, alg) {
            Ok(f) => f,
            Err(_) => {
                staging::create_dir(&blobs, alg)?;
                staging::open_subdir(&blobs, alg)?
            }
        };
        self.alg_dirs.push((alg.to_owned(), fd.try_clone()?));
        Ok(fd)
    }
}

/// True when `name` below `dir` is a regular file of `size` bytes whose content hashes to `d`.
fn holds(dir: &OwnedFd, name: &str, d: &Digest, size: u64) -> bool {
    let Ok(mut f) = staging::open_file(dir, name) else {
        return false;
    };
    if f.metadata().map(|m| m.len()).ok() != Some(size) {
        return false;
    }
    matches!(hash_reader(d.algorithm(), &mut f, &mut |_| {}), Ok((actual, _)) if &actual == d)
}

impl Sink for DirSink {
    fn put(&mut self, d: &Digest, size: u64, body: Body<'_>) -> Result<(), ExportError> {
        match self.landing(d, size)? {
            Landing::Held => Ok(()),
            Landing::Dir(dir) => dir.write(d, size, |w| body(w)),
            Landing::InOrder => Err(Usage::NotPrepared.into()),
        }
    }

    fn landing(&mut self, d: &Digest, size: u64) -> Result<Landing, ExportError> {
        staging::check_interrupted().map_err(out_err(&self.path()))?;
        let alg = d.algorithm().name();
        let hex = d.hex().to_owned();
        let here = self.path().join("blobs").join(alg);
        let dir = self.alg_dir(alg).map_err(out_err(&here))?;
        self.written.insert((alg.to_owned(), hex.clone()));
        // Reuse: a blob adopted from a dead run's staging, or hard-linked from the bundle being
        // replaced, is kept only if it re-hashes to its name.
        if staging::stat_at(&dir, hex.as_str())
            .ok()
            .flatten()
            .is_none()
        {
            if let Some(prev) = &self.previous {
                if let Ok(prev_alg) = staging::open_subdir(prev, alg) {
                    let _ = rustix::fs::linkat(
                        &prev_alg,
                        hex.as_str(),
                        &dir,
                        hex.as_str(),
                        rustix::fs::AtFlags::empty(),
                    );
                }
            }
        }
        if holds(&dir, &hex, d, size) {
            return Ok(Landing::Held);
        }
        let _ = staging::unlink(&dir, hex.as_str());
        Ok(Landing::Dir(BlobDir::new(dir, here)))
    }

    fn spool(&mut self) -> Result<Spool, ExportError> {
        self.target.spool()
    }

    fn abort(&mut self) {
        // Dropping the guard removes the staging directory.
        self.guard = None;
    }

    fn finish(&mut self, index: &[u8]) -> Result<Digest, ExportError> {
        let path = self.path();
        // Drop anything an adopted staging directory holds that this export does not reference.
        if let Ok(blobs) = staging::open_subdir(&self.root, "blobs") {
            for alg in staging::list(&blobs).map_err(out_err(&path))? {
                let alg = String::from_utf8_lossy(&alg).into_owned();
                let Ok(ad) = staging::open_subdir(&blobs, alg.as_str()) else {
                    continue;
                };
                for n in staging::list(&ad).map_err(out_err(&path))? {
                    let n = String::from_utf8_lossy(&n).into_owned();
                    if !self.written.contains(&(alg.clone(), n.clone())) {
                        let _ = staging::unlink(&ad, n.as_str());
                    }
                }
            }
        }
        for (name, bytes) in [
            (
                OCI_LAYOUT,
                format!("{{\"imageLayoutVersion\":\"{LAYOUT_VERSION}\"}}").into_bytes(),
            ),
            (INDEX_JSON, index.to_vec()),
        ] {
            let tmp = format!(".{name}.part");
            let _ = staging::unlink(&self.root, tmp.as_str());
            let mut f = staging::create_file(&self.root, tmp.as_str())
                .map_err(out_err(&path.join(name)))?;
            f.write_all(&bytes)
                .and_then(|_| f.sync_all())
                .map_err(out_err(&path.join(name)))?;
            staging::rename(&self.root, tmp.as_str(), name).map_err(out_err(&path.join(name)))?;
        }
        staging::check_interrupted().map_err(out_err(&path))?;
        // The staging name must still be the directory written through `root`.
        let mine = rustix::fs::fstat(&self.root).map_err(|e| out_err(&path)(e.into()))?;
        match staging::stat_at(&self.target.dir, self.staged.as_str()).map_err(out_err(&path))? {
            Some((rustix::fs::FileType::Directory, dev, ino, _))
                if dev == mine.st_dev && ino == mine.st_ino => {}
            _ => {
                return Err(ExportError::Output {
                    path: path.clone(),
                    source: io::Error::other("the staging directory was replaced while exporting"),
                })
            }
        }
        let replace = self.target.force
            || matches!(
                self.target.existing,
                Existing::EmptyDir | Existing::OwnBundle
            );
        staging::install(
            &self.target.dir,
            &self.target.parent,
            &self.staged,
            &self.target.name,
            replace,
        )
        .map_err(out_err(&self.target.path()))?;
        if let Some(g) = self.guard.take() {
            g.commit();
        }
        Ok(Digest::sha256(index))
    }
}
