//! Phase 2, the blobs: what the target lacks (HEAD, or a mount from another repository of the
//! target), then the uploads, at most `jobs` at a time, every byte hashed again on the way.
//!
//! From a directory the uploads read the blob files side by side, largest first. From a tarball
//! the second pass reads the stream once, start to end: each blob the target lacks is spooled to
//! a private folder under `$TMPDIR` (so that uploads overlap) while the bytes spooled and not yet
//! uploaded stay within `spool_limit`; a blob that does not fit is uploaded from the stream
//! itself, in stream order, spooling nothing more until room frees. Spool files are removed as
//! soon as their upload ends, and the folder with whatever is left on every exit path (RAII).
//!
//! The first failure stops the rest: no new upload starts and the import ends before any manifest.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
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
    digest: Digest,
    desc: Descriptor,
    repos: Vec<String>,
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
struct Slots {
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
    fn take(&self) -> SlotGuard<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.cv.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        SlotGuard(self)
    }
}

struct SlotGuard<'a>(&'a Slots);
impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let mut free = self.0.free.lock().unwrap_or_else(|p| p.into_inner());
        *free += 1;
        self.0.cv.notify_one();
    }
}

/// The state the uploads share: the first failure, the counts, the slots.
struct Shared<'a> {
    failed: AtomicBool,
    errors: Mutex<Vec<ImportError>>,
    uploaded: Mutex<(u64, u64)>,
    present: Mutex<BTreeMap<String, BTreeSet<Digest>>>,
    slots: Slots,
    targets: &'a BTreeMap<String, BTreeSet<String>>,
    progress: &'a dyn TransferProgress,
}

impl Shared<'_> {
    fn fail(&self, e: ImportError) {
        self.failed.store(true, Ordering::SeqCst);
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }

    fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// A registry error about a blob of `repo`, naming the images it was for.
    fn for_images(&self, repo: &str, error: RegistryError) -> ImportError {
        for_images(self.targets, repo, error)
    }

    /// Uploads `job` to `repo` from `data`, hashed again on the way.
    fn push(
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

    /// Uploads `job` to every repository, each from a fresh reader of `path`.
    fn push_file(&self, reg: &Registry, job: &Job, path: &Path) -> Result<(), ImportError> {
        for repo in &job.repos {
            let f = std::fs::File::open(path).map_err(|source| ImportError::Io {
                path: path.to_owned(),
                source,
            })?;
            self.push(reg, job, repo, Box::new(f))?;
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
                let spooled = from_tarball(path, todo, clients, jobs, self.opts, &shared)?;
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
                    let path = root.join(blob_path(&job.digest));
                    if let Err(e) = shared.push_file(reg, job, &path) {
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

/// A spooled blob waiting for a worker; its file is removed when this is dropped.
struct Spooled<'j> {
    job: &'j Job,
    file: tempfile::TempPath,
}

/// Bytes spooled and not yet uploaded.
struct Budget {
    in_flight: Mutex<u64>,
}

/// Reads `path` once more, start to end, uploading the blobs of `todo` (spooled for `jobs`
/// workers while the spool has room, else from the stream); returns the bytes spooled.
fn from_tarball(
    path: &Path,
    todo: &[Job],
    clients: &[Registry],
    jobs: usize,
    opts: &ImportOptions,
    shared: &Shared<'_>,
) -> Result<u64, ImportError> {
    let by_digest: BTreeMap<&Digest, &Job> = todo.iter().map(|j| (&j.digest, j)).collect();
    let source = crate::archive::open(path)?;
    let crate::archive::Source::Stream { format, reader, .. } = source else {
        return Err(ImportError::NotATarball {
            path: path.to_owned(),
        });
    };
    let stream = crate::archive::decompress(reader, format, Arc::new(crate::layout::NoProgress));
    let mut entries = crate::layout::TarEntries::new(stream, &crate::layout::Limits::default());
    // The system's temporary folder (the bundle may sit on read-only media); removed on drop.
    let dir = tempfile::Builder::new()
        .prefix(".airlock-import-")
        .tempdir()
        .map_err(|source| ImportError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let (reader_client, workers) = match clients.split_first() {
        Some((first, rest)) if !rest.is_empty() => (first, rest),
        Some((first, _)) => (first, &[][..]),
        None => return Err(ImportError::Worker),
    };
    let workers = workers.get(..jobs.min(workers.len())).unwrap_or_default();
    let budget = Budget {
        in_flight: Mutex::new(0),
    };
    let mut spooled_total = 0u64;
    let mut done: BTreeSet<Digest> = BTreeSet::new();
    let (tx, rx) = mpsc::channel::<Spooled<'_>>();
    let rx = Mutex::new(rx);
    let read_result: Result<(), ImportError> = std::thread::scope(|scope| {
        let handles: Vec<_> = workers
            .iter()
            .map(|reg| {
                let (rx, budget) = (&rx, &budget);
                scope.spawn(move || loop {
                    let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(sp) = next else {
                        return;
                    };
                    if !shared.failed() {
                        let _slot = shared.slots.take();
                        if let Err(e) = shared.push_file(reg, sp.job, &sp.file) {
                            shared.fail(e);
                        }
                    }
                    let size = sp.job.desc.size;
                    drop(sp); // removes the spool file
                    let mut used = budget.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                    *used = used.saturating_sub(size);
                })
            })
            .collect();
        let result = (|| {
            while !shared.failed() {
                let Some(e) = entries
                    .next_entry()
                    .map_err(|finding| ImportError::Bundle {
                        path: path.to_owned(),
                        finding: Box::new(finding),
                    })?
                else {
                    break;
                };
                // The bundle was verified first; anything but a blob (refused entries included)
                // is skipped.
                let crate::layout::Entry::Accepted {
                    class: crate::layout::Name::Blob(d),
                    ..
                } = e
                else {
                    continue;
                };
                let Some(job) = by_digest.get(&d).copied() else {
                    continue;
                };
                if !done.insert(d.clone()) {
                    continue;
                }
                let size = job.desc.size;
                let room = !workers.is_empty() && {
                    let mut used = budget.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                    let fits = used.saturating_add(size) <= opts.spool_limit;
                    if fits {
                        *used += size;
                    }
                    fits
                };
                if room {
                    let file = spool(&mut entries.body(), dir.path(), size)?;
                    spooled_total += size;
                    if tx.send(Spooled { job, file }).is_err() {
                        return Err(ImportError::Worker);
                    }
                } else {
                    stream_upload(reader_client, job, &mut entries.body(), path, shared);
                }
            }
            Ok(())
        })();
        drop(tx);
        for h in handles {
            if h.join().is_err() {
                shared.fail(ImportError::Worker);
            }
        }
        result
    });
    drop(dir);
    read_result?;
    if !shared.failed() {
        if let Some(missing) = by_digest.keys().find(|d| !done.contains(**d)) {
            return Err(ImportError::Vanished {
                digest: (*missing).clone(),
            });
        }
    }
    Ok(spooled_total)
}

/// Copies a blob's body into a new file of `dir` (at most `size` + 1 bytes: more is a change the
/// upload's hash reports).
fn spool<R: Read>(body: &mut R, dir: &Path, size: u64) -> Result<tempfile::TempPath, ImportError> {
    let io_err = |path: PathBuf| move |source| ImportError::Io { path, source };
    let mut f = tempfile::Builder::new()
        .prefix("blob-")
        .tempfile_in(dir)
        .map_err(io_err(dir.to_owned()))?;
    let path = f.path().to_owned();
    io::copy(&mut body.take(size.saturating_add(1)), f.as_file_mut())
        .map_err(io_err(path.clone()))?;
    f.as_file_mut().flush().map_err(io_err(path))?;
    Ok(f.into_temp_path())
}

/// Chunks handed from the tar reader to an upload running beside it.
struct ChunkReader {
    rx: Receiver<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(rest) = self.cur.get(self.pos..).filter(|r| !r.is_empty()) {
                let n = rest.len().min(out.len());
                if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
                    dst.copy_from_slice(src);
                }
                self.pos += n;
                return Ok(n);
            }
            match self.rx.recv() {
                Ok(buf) => {
                    self.cur = buf;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
    }
}

/// Uploads a blob from the tar stream itself (no spool): the upload runs on its own thread, fed
/// chunk by chunk; to further repositories it is mounted from the first.
fn stream_upload<R: Read>(
    reg: &Registry,
    job: &Job,
    body: &mut R,
    bundle: &Path,
    shared: &Shared<'_>,
) {
    let Some((first, rest)) = job.repos.split_first() else {
        return;
    };
    let _slot = shared.slots.take();
    let (tx, rx): (SyncSender<Vec<u8>>, _) = mpsc::sync_channel(4);
    let reader = ChunkReader {
        rx,
        cur: Vec::new(),
        pos: 0,
    };
    std::thread::scope(|scope| {
        let up = scope.spawn(move || shared.push(reg, job, first, Box::new(reader)));
        let mut left = job.desc.size.saturating_add(1);
        let pumped: io::Result<()> = (|| {
            while left > 0 {
                let mut buf = vec![0u8; 1 << 20];
                let want = usize::try_from(left.min(1 << 20)).unwrap_or(1 << 20);
                let n = body.read(buf.get_mut(..want).unwrap_or_default())?;
                if n == 0 {
                    break;
                }
                buf.truncate(n);
                left = left.saturating_sub(u64::try_from(n).unwrap_or(u64::MAX));
                if tx.send(buf).is_err() {
                    break; // the upload ended early: its own error says why
                }
            }
            Ok(())
        })();
        drop(tx);
        match up.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => shared.fail(e),
            Err(_) => shared.fail(ImportError::Worker),
        }
        if let Err(source) = pumped {
            shared.fail(ImportError::Io {
                path: bundle.to_owned(),
                source,
            });
        }
    });
    if shared.failed() {
        return;
    }
    for repo in rest {
        let mounted = Registry::parse(repo).and_then(|to| {
            let from = Registry::parse(first)?;
            reg.mount(&to, &from, &job.digest.to_string())?;
            reg.blob_exists(&to, &job.digest.to_string())
        });
        match mounted {
            Ok(true) => {
                shared
                    .present
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .entry(repo.clone())
                    .or_default()
                    .insert(job.digest.clone());
            }
            Ok(false) => shared.fail(shared.for_images(
                repo,
                RegistryError::Push {
                    what: format!("mounting {} into {repo}", job.digest),
                    message: "the registry did not mount the blob".into(),
                },
            )),
            Err(e) => shared.fail(shared.for_images(repo, e)),
        }
    }
}
