//! Phase 2, the blobs: what the target lacks (HEAD, or a mount from another repository of the
//! target), then the uploads, at most `jobs` at a time, every byte hashed again on the way.
//!
//! From a directory the uploads read the blob files side by side, largest first. From a tarball
//! the second pass reads the stream once, start to end: each blob the target lacks is spooled to
//! a private folder under `$TMPDIR` (so that uploads overlap; each upload reads its spool file as
//! it is written, see [`super::tarball`]) while the bytes spooled and not yet
//! uploaded stay within `spool_limit`; a blob that does not fit is uploaded from the stream
//! itself, in stream order, spooling nothing more until room frees. Spool files are removed as
//! soon as their upload ends, and the folder with whatever is left on every exit path (RAII).
//!
//! The first failure stops the rest: no new upload starts and the import ends before any manifest.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::plan::PushPlan;
use super::{BlobSource, ImportError, ImportOptions, ImportSummary, TransferProgress};
use crate::digest::{Digest, HashingWriter};
use crate::layout::model::Descriptor;
use crate::layout::{blob_path, Progress};
use crate::registry::{Registry, RegistryError, RegistryErrorCode};

/// One blob to upload, to each of `repos`.
#[derive(Clone, Debug)]
pub(super) struct Job {
    pub(super) digest: Digest,
    pub(super) desc: Descriptor,
    pub(super) repos: Vec<String>,
}

/// A reader that hashes what it yields (through the one [`HashingWriter`], into nothing), reports
/// progress, and fails at the end when the content is not `expected`; `changed` records that it
/// did, so that the failure is classified by a flag, never by an error's text.
struct Verifying<R> {
    inner: R,
    hasher: Option<HashingWriter<io::Sink>>,
    expected: Digest,
    size: u64,
    seen: u64,
    changed: Arc<AtomicBool>,
    progress: Box<dyn Progress>,
}

impl<R: Read> Verifying<R> {
    fn new(inner: R, d: &Digest, size: u64, progress: Box<dyn Progress>) -> Self {
        Verifying {
            inner,
            hasher: Some(HashingWriter::new(io::sink(), d.algorithm())),
            expected: d.clone(),
            size,
            seen: 0,
            changed: Arc::new(AtomicBool::new(false)),
            progress,
        }
    }

    fn refuse(&self, what: &str) -> io::Error {
        self.changed.store(true, Ordering::SeqCst);
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} {what} since verification", self.expected),
        )
    }
}

impl<R: Read> Read for Verifying<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let len = u64::try_from(n).unwrap_or(u64::MAX);
        self.seen = self.seen.saturating_add(len);
        self.progress.advance(len);
        if let Some(h) = self.hasher.as_mut() {
            h.write_all(buf.get(..n).unwrap_or_default())?;
        }
        if self.seen > self.size {
            return Err(self.refuse("grew"));
        }
        if n == 0 {
            if let Some(h) = self.hasher.take() {
                let (_, actual, _) = h.finish();
                if actual != self.expected || self.seen != self.size {
                    return Err(self.refuse("changed"));
                }
            }
        }
        Ok(n)
    }
}

/// At most `n` uploads at once.
pub(super) struct Slots {
    free: Mutex<usize>,
    cv: Condvar,
}

impl Slots {
    fn new(n: usize) -> Self {
        Slots {
            free: Mutex::new(n.max(1)),
            cv: Condvar::new(),
        }
    }
    pub(super) fn take(&self) -> SlotGuard<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.cv.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        SlotGuard(self)
    }
}

pub(super) struct SlotGuard<'a>(&'a Slots);
impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let mut free = self.0.free.lock().unwrap_or_else(|p| p.into_inner());
        *free += 1;
        self.0.cv.notify_one();
    }
}

/// The state the uploads share: the first failure, the counts, the slots.
pub(super) struct Shared<'a> {
    failed: AtomicBool,
    errors: Mutex<Vec<ImportError>>,
    uploaded: Mutex<(u64, u64)>,
    pub(super) present: Mutex<BTreeMap<String, BTreeSet<Digest>>>,
    pub(super) slots: Slots,
    targets: &'a BTreeMap<String, BTreeSet<String>>,
    progress: &'a dyn TransferProgress,
}

impl Shared<'_> {
    pub(super) fn fail(&self, e: ImportError) {
        self.failed.store(true, Ordering::SeqCst);
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }

    pub(super) fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// A registry error about a blob of `repo`, naming the images it was for.
    pub(super) fn for_images(&self, repo: &str, error: RegistryError) -> ImportError {
        for_images(self.targets, repo, error)
    }

    /// Uploads `job` to `repo` from `data`, hashed again on the way.
    pub(super) fn push(
        &self,
        reg: &Registry,
        job: &Job,
        repo: &str,
        data: Box<dyn Read + Send>,
    ) -> Result<(), ImportError> {
        let r = Registry::parse(repo)?;
        let reader = Verifying::new(
            data,
            &job.digest,
            job.desc.size,
            self.progress.blob(&job.digest, job.desc.size),
        );
        let changed = Arc::clone(&reader.changed);
        match reg.push_blob(&r, &job.desc, Box::new(reader)) {
            Ok(_) => {}
            Err(e) => {
                // Our own re-hash stops the stream; a registry that received the whole body
                // refuses the commit. Either way the bundle changed.
                let refused_content = matches!(
                    &e,
                    RegistryError::Refused {
                        code: RegistryErrorCode::DigestInvalid | RegistryErrorCode::SizeInvalid,
                        ..
                    }
                );
                if changed.load(Ordering::SeqCst) || refused_content {
                    return Err(ImportError::Changed {
                        digest: job.digest.clone(),
                    });
                }
                return Err(self.for_images(repo, e));
            }
        }
        let mut up = self.uploaded.lock().unwrap_or_else(|p| p.into_inner());
        up.0 += 1;
        up.1 += job.desc.size;
        drop(up);
        self.present
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(repo.to_owned())
            .or_default()
            .insert(job.digest.clone());
        Ok(())
    }

    /// Uploads `job` to every repository, each from a fresh reader of the layout file `root/rel`,
    /// opened as verification opened it ([`crate::layout::open_regular`]: a regular file reached
    /// through no link, never blocking), so that a FIFO, device or link swapped in after
    /// verification fails the import at once.
    pub(super) fn push_file(
        &self,
        reg: &Registry,
        job: &Job,
        root: &Path,
        rel: &Path,
    ) -> Result<(), ImportError> {
        let path = root.join(rel);
        self.push_each(reg, job, || {
            let (f, _) = crate::layout::open_regular(root, rel).map_err(|e| match e {
                crate::layout::OpenError::Io { source, .. } => {
                    ImportError::reading_bundle(&path, source)
                }
                refused => ImportError::NotRegular {
                    path: path.clone(),
                    why: refused.to_string(),
                },
            })?;
            let f: Box<dyn Read + Send> = Box::new(f);
            Ok(f)
        })
    }

    /// Uploads `job` to every repository, each from a fresh reader that `open` gives.
    pub(super) fn push_each(
        &self,
        reg: &Registry,
        job: &Job,
        open: impl Fn() -> Result<Box<dyn Read + Send>, ImportError>,
    ) -> Result<(), ImportError> {
        for repo in &job.repos {
            let data = open()?;
            self.push(reg, job, repo, data)?;
        }
        Ok(())
    }
}

fn for_images(
    targets: &BTreeMap<String, BTreeSet<String>>,
    repo: &str,
    error: RegistryError,
) -> ImportError {
    match targets.get(repo) {
        Some(names) => ImportError::ForImages {
            images: names.iter().cloned().collect(),
            error,
        },
        None => error.into(),
    }
}

/// The blob phase.
pub(super) struct Uploads<'a> {
    reg: &'a Registry,
    targets: &'a BTreeMap<String, BTreeSet<String>>,
    /// Blobs known present, by repository.
    present: BTreeMap<String, BTreeSet<Digest>>,
    opts: &'a ImportOptions,
}

impl<'a> Uploads<'a> {
    pub(super) fn new(reg: &'a Registry, plan: &'a PushPlan, opts: &'a ImportOptions) -> Self {
        Uploads {
            reg,
            targets: &plan.targets,
            present: BTreeMap::new(),
            opts,
        }
    }

    /// The blobs the target lacks, after HEAD checks and mounts from its other repositories.
    pub(super) fn missing(
        &mut self,
        plan: &PushPlan,
        sum: &mut ImportSummary,
    ) -> Result<Vec<Job>, ImportError> {
        let mut todo: Vec<Job> = Vec::new();
        for (d, (desc, repos)) in &plan.blobs {
            let mut lacking = Vec::new();
            for repo in repos {
                if self.need_blob(repo, d, sum)? {
                    lacking.push(repo.clone());
                }
            }
            if !lacking.is_empty() {
                todo.push(Job {
                    digest: d.clone(),
                    desc: desc.clone(),
                    repos: lacking,
                });
            }
        }
        Ok(todo)
    }

    fn need_blob(
        &mut self,
        repo: &str,
        d: &Digest,
        sum: &mut ImportSummary,
    ) -> Result<bool, ImportError> {
        if self.present.get(repo).is_some_and(|s| s.contains(d)) {
            return Ok(false);
        }
        let r = Registry::parse(repo)?;
        let exists = self
            .reg
            .blob_exists(&r, &d.to_string())
            .map_err(|e| for_images(self.targets, repo, e))?;
        if exists {
            sum.blobs_skipped += 1;
            self.present
                .entry(repo.to_owned())
                .or_default()
                .insert(d.clone());
            return Ok(false);
        }
        // Mount from another repository of the target that already has it.
        let other = self
            .present
            .iter()
            .find(|(k, v)| k.as_str() != repo && v.contains(d))
            .map(|(k, _)| k.clone());
        if let Some(from) = other {
            if !self.opts.dry_run
                && self
                    .reg
                    .mount(&r, &Registry::parse(&from)?, &d.to_string())
                    .is_ok()
                && self
                    .reg
                    .blob_exists(&r, &d.to_string())
                    .map_err(|e| for_images(self.targets, repo, e))?
            {
                sum.blobs_mounted += 1;
                self.present
                    .entry(repo.to_owned())
                    .or_default()
                    .insert(d.clone());
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Uploads `todo` from `source` with `clients` (one per upload in flight).
    pub(super) fn run(
        &mut self,
        source: &BlobSource,
        todo: &[Job],
        clients: &[Registry],
        sum: &mut ImportSummary,
        lines: &mut Vec<String>,
    ) -> Result<(), ImportError> {
        if self.opts.dry_run {
            for job in todo {
                for repo in &job.repos {
                    lines.push(format!(
                        "upload blob {} ({} bytes) to {repo}",
                        job.digest, job.desc.size
                    ));
                    sum.blobs_uploaded += 1;
                    sum.bytes_uploaded += job.desc.size;
                }
            }
            return Ok(());
        }
        if todo.is_empty() {
            return Ok(());
        }
        let jobs = self.opts.jobs.max(1);
        self.opts.progress.start(
            todo.iter()
                .map(|j| {
                    j.desc
                        .size
                        .saturating_mul(u64::try_from(j.repos.len()).unwrap_or(1))
                })
                .sum(),
        );
        let shared = Shared {
            failed: AtomicBool::new(false),
            errors: Mutex::new(Vec::new()),
            uploaded: Mutex::new((0, 0)),
            present: Mutex::new(BTreeMap::new()),
            slots: Slots::new(jobs),
            targets: self.targets,
            progress: self.opts.progress.as_ref(),
        };
        match source {
            BlobSource::Dir(root) => from_dir(root, todo, clients, jobs, &shared),
            BlobSource::Archive(path) => {
                let spooled =
                    super::tarball::from_tarball(path, todo, clients, jobs, self.opts, &shared)?;
                sum.bytes_spooled += spooled;
            }
        }
        let (n, bytes) = *shared.uploaded.lock().unwrap_or_else(|p| p.into_inner());
        sum.blobs_uploaded += n;
        sum.bytes_uploaded += bytes;
        for (repo, set) in shared
            .present
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
        {
            self.present.entry(repo).or_default().extend(set);
        }
        let mut errors = shared
            .errors
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        // A changed blob is the reason that matters; the others are its consequences.
        if let Some(i) = errors.iter().position(ImportError::is_content_failure) {
            return Err(errors.swap_remove(i));
        }
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Uploads from a directory: `jobs` workers take the blobs largest first.
fn from_dir(root: &Path, todo: &[Job], clients: &[Registry], jobs: usize, shared: &Shared<'_>) {
    let mut order: Vec<&Job> = todo.iter().collect();
    order.sort_by(|a, b| {
        b.desc
            .size
            .cmp(&a.desc.size)
            .then_with(|| a.digest.cmp(&b.digest))
    });
    let queue = Mutex::new(order.into_iter().collect::<VecDeque<_>>());
    std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter()
            .take(jobs.min(todo.len()))
            .map(|reg| {
                let queue = &queue;
                scope.spawn(move || loop {
                    if shared.failed() {
                        return;
                    }
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(job) = next else {
                        return;
                    };
                    let _slot = shared.slots.take();
                    let rel = blob_path(&job.digest);
                    if let Err(e) = shared.push_file(reg, job, root, &rel) {
                        shared.fail(e);
                    }
                })
            })
            .collect();
        for h in handles {
            if h.join().is_err() {
                shared.fail(ImportError::Worker);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU64;

    use super::*;

    struct Count(Arc<AtomicU64>);
    impl Progress for Count {
        fn advance(&self, bytes: u64) {
            self.0.fetch_add(bytes, Ordering::SeqCst);
        }
    }

    fn read_all(data: &[u8], d: &Digest, size: u64) -> (io::Result<Vec<u8>>, bool, u64) {
        let seen = Arc::new(AtomicU64::new(0));
        let mut r = Verifying::new(data, d, size, Box::new(Count(Arc::clone(&seen))));
        let changed = Arc::clone(&r.changed);
        let mut out = Vec::new();
        let res = r.read_to_end(&mut out).map(|_| out);
        (
            res,
            changed.load(Ordering::SeqCst),
            seen.load(Ordering::SeqCst),
        )
    }

    #[test]
    fn the_upload_stream_is_hashed_again_and_a_change_is_flagged() {
        let data = vec![7u8; 3 << 20];
        let d = Digest::sha256(&data);
        let (res, changed, seen) = read_all(&data, &d, 3 << 20);
        assert_eq!(res.unwrap(), data);
        assert!(!changed);
        assert_eq!(seen, 3 << 20);
        // Same length, other bytes.
        let mut other = data.clone();
        other[12345] ^= 1;
        let (res, changed, _) = read_all(&other, &d, 3 << 20);
        assert!(res.is_err());
        assert!(changed);
        // Longer and shorter than verified.
        let (res, changed, _) = read_all(&data[..100], &d, 3 << 20);
        assert!(res.is_err() && changed);
        let (res, changed, _) = read_all(&data, &d, 1 << 20);
        assert!(res.is_err() && changed);
    }

    #[test]
    fn slots_bound_the_uploads_in_flight() {
        let slots = Slots::new(2);
        let now = AtomicU64::new(0);
        let peak = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    let _g = slots.take();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    now.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        assert_eq!(*slots.free.lock().unwrap(), 2);
    }
}
