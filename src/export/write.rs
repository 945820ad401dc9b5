//! Phase `write`: every blob into the sink, small ones from memory, the rest streamed from their
//! source and hashed as they arrive (the sink's blob writer refuses a mismatch).
//!
//! With `--jobs 1`, or a source that cannot be shared between threads, one blob at a time in
//! digest order. Otherwise up to `jobs` blobs are fetched at once by scoped worker threads:
//!
//! - into a directory, each lands in the staging directory through the one blob writer (a
//!   temporary name, renamed once digest and size match), in any order;
//! - into a tarball, entries go in digest order, so the archive is byte for byte what a
//!   one-at-a-time export writes. The blob whose turn it is streams straight into the archive;
//!   blobs fetched ahead of their turn (at most `jobs` ahead of the one being appended) go to a
//!   spool file beside the output until their turn comes. Then the consumer appends what the spool
//!   holds and takes the rest of the bytes from the worker as they arrive, through a small bounded
//!   channel ([`Handoff`]): a blob that arrives complete before its turn was spooled whole, one
//!   whose turn comes first was never spooled. Each byte is hashed once, by its worker, which
//!   fails the entry (and so the archive) on a mismatch; the tar sink does not hash again
//!   ([`Sink::put_checked`]).
//!
//! The first failure stops every worker (they check a shared flag on every write, and take no new
//! blob); the scope joins them all before the phase returns, so none outlives it, and a worker's
//! temporary file is removed by the blob writer (its spool by the spool's guard, the staging
//! directory by the sink's).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::digest::{Digest, HashingWriter};
use crate::layout::model::Descriptor;
use crate::layout::{BlobEntry, BundleFormat, Catalog, Content, Limits, Progress};

use super::sink::{BlobDir, Landing, Sink};
use super::source::SharedBlobs;
use super::{staging, ExportError, ExportOptions, Fetch, Mismatch, Plan, SourceError};

/// Blobs of at most this size are kept in memory for the catalog `verify_captured` checks.
const KEEP: u64 = 64 << 10;

/// What was written: the in-memory catalog, the blob count and the bytes.
struct Written {
    cat: Catalog,
    blobs: u64,
    bytes: u64,
    limits: Limits,
}

impl Written {
    fn small(&mut self, d: &Digest, b: &[u8]) {
        let n = u64::try_from(b.len()).unwrap_or(u64::MAX);
        self.bytes += n;
        self.blobs += 1;
        self.cat.insert(d.clone(), entry_of(d, b), &self.limits);
    }

    fn streamed(&mut self, d: &Digest, size: u64, kept: Option<Vec<u8>>) {
        self.bytes += size;
        self.blobs += 1;
        let content = kept.map_or(Content::TooLarge, |k| {
            match serde_json::from_slice::<serde::de::IgnoredAny>(&k) {
                Ok(_) => Content::Json(k.into()),
                Err(_) => Content::Bytes(k.into()),
            }
        });
        self.cat.insert(
            d.clone(),
            BlobEntry {
                size,
                actual: Some(d.clone()),
                content,
            },
            &self.limits,
        );
    }
}

/// Phase `write`: every blob into the sink in digest order (deterministic tarballs), small ones
/// from memory, the rest streamed from their source (the sink hashes each and refuses a mismatch),
/// `opts.jobs` at a time. Returns the in-memory catalog of what was written (for
/// `verify_captured`), the blob count and the bytes written.
pub(super) fn write(
    plan: &Plan,
    sources: &mut [(String, Box<dyn Fetch>)],
    opts: &ExportOptions,
    out: &mut dyn Sink,
    index_bytes: &[u8],
) -> Result<(Catalog, u64, u64), ExportError> {
    let mut all: BTreeSet<Digest> = plan.small.keys().cloned().collect();
    all.extend(plan.blobs.keys().cloned());
    opts.progress.set_total(Some(
        plan.small
            .values()
            .map(|b| u64::try_from(b.len()).unwrap_or(u64::MAX))
            .sum::<u64>()
            + plan.blobs.values().map(|p| p.desc.size).sum::<u64>(),
    ));
    let mut w = Written {
        cat: Catalog::new(BundleFormat::Directory, true),
        blobs: 0,
        bytes: 0,
        limits: Limits::default(),
    };
    let shared: Option<Vec<Arc<dyn SharedBlobs>>> = if opts.jobs > 1 && plan.blobs.len() > 1 {
        sources.iter().map(|(_, f)| f.shared()).collect()
    } else {
        None
    };
    match shared {
        Some(shared) => concurrent(plan, &all, &shared, opts, out, &mut w)?,
        None => sequential(plan, &all, sources, opts, out, &mut w)?,
    }
    w.cat.index_json = Some(crate::layout::Small::Bytes(index_bytes.to_vec()));
    w.cat.oci_layout = Some(crate::layout::Small::Bytes(
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    ));
    Ok((w.cat, w.blobs, w.bytes))
}

/// Writes a small document from memory.
fn put_small(
    out: &mut dyn Sink,
    d: &Digest,
    b: &[u8],
    opts: &ExportOptions,
    w: &mut Written,
) -> Result<(), ExportError> {
    out.put(d, u64::try_from(b.len()).unwrap_or(u64::MAX), &mut |sink| {
        sink.write_all(b).map_err(|source| ExportError::Output {
            path: opts.output.path.clone(),
            source,
        })
    })?;
    opts.progress
        .advance(u64::try_from(b.len()).unwrap_or(u64::MAX));
    w.small(d, b);
    Ok(())
}

/// One blob at a time, in digest order.
fn sequential(
    plan: &Plan,
    all: &BTreeSet<Digest>,
    sources: &mut [(String, Box<dyn Fetch>)],
    opts: &ExportOptions,
    out: &mut dyn Sink,
    w: &mut Written,
) -> Result<(), ExportError> {
    for d in all {
        if let Some(b) = plan.small.get(d) {
            put_small(out, d, b, opts, w)?;
            continue;
        }
        let Some(p) = plan.blobs.get(d) else { continue };
        let (_, f) = sources
            .get_mut(p.source)
            .ok_or(SourceError::NoSuchSource(p.source))?;
        let desc = &p.desc;
        let mut kept: Option<Vec<u8>> = (desc.size <= KEEP).then(Vec::new);
        let item = Item::start(opts.progress.as_ref(), desc);
        out.put(d, desc.size, &mut |sink| {
            let mut c = Checking {
                out: sink,
                kept: kept.as_mut(),
                item: &item,
                stop: None,
            };
            f.blob(desc, &mut c).map(|_| ())
        })?;
        w.streamed(d, desc.size, kept);
    }
    Ok(())
}

/// A blob on the progress display while it is fetched.
struct Item<'a> {
    progress: &'a dyn Progress,
    id: u64,
}

impl<'a> Item<'a> {
    fn start(progress: &'a dyn Progress, desc: &Descriptor) -> Self {
        let label = desc.digest.get(..19).unwrap_or(&desc.digest);
        Item {
            progress,
            id: progress.item_start(label, desc.size),
        }
    }
}

impl Drop for Item<'_> {
    fn drop(&mut self) {
        self.progress.item_done(self.id);
    }
}

/// Copies a blob from its source into `out`, stopping on a signal (or when another worker failed),
/// keeping a copy of a small blob, and advancing the progress as it goes. The sink hashes what it
/// receives and commits the blob only when it matches.
struct Checking<'a, 'b> {
    out: &'b mut dyn Write,
    kept: Option<&'b mut Vec<u8>>,
    item: &'b Item<'a>,
    stop: Option<&'b AtomicBool>,
}

impl Write for Checking<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        staging::check_interrupted()?;
        if self.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            return Err(io::Error::other("stopped: another blob failed"));
        }
        let n = self.out.write(buf)?;
        if let Some(k) = self.kept.as_mut() {
            k.extend_from_slice(buf.get(..n).unwrap_or_default());
        }
        let n64 = u64::try_from(n).unwrap_or(u64::MAX);
        self.item.progress.advance(n64);
        self.item.progress.item_advance(self.item.id, n64);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// One blob to fetch concurrently.
struct Job<'p> {
    digest: &'p Digest,
    desc: &'p Descriptor,
    source: Arc<dyn SharedBlobs>,
    /// Where a worker writes it (`None`: the sink holds it already).
    into: Option<BlobDir>,
    /// Appended in order by the consumer, from the spool and then the worker (tarballs).
    handoff: Option<Handoff>,
}

/// Bytes in one message from a worker to the consumer, and messages in flight: the memory one
/// handed-off blob may hold is at most `CHUNK * (DEPTH + 2)` (the channel, one being filled, one
/// being written).
const CHUNK: usize = 256 << 10;
const DEPTH: usize = 8;

/// How one tarball blob goes from its worker to the archive: into its spool file until the
/// consumer reaches it (`attached`), then through the channel. The switch happens under the lock,
/// so the spool holds exactly `spooled` bytes and the channel carries the rest, in order.
struct Handoff {
    state: Mutex<Handed>,
    tx: Mutex<Option<SyncSender<Vec<u8>>>>,
    rx: Mutex<Option<Receiver<Vec<u8>>>>,
}

#[derive(Default)]
struct Handed {
    attached: bool,
    spooled: u64,
}

impl Handoff {
    fn new() -> Self {
        let (tx, rx) = sync_channel(DEPTH);
        Handoff {
            state: Mutex::new(Handed::default()),
            tx: Mutex::new(Some(tx)),
            rx: Mutex::new(Some(rx)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Handed> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The consumer's turn: from now on the worker sends; returns what the spool holds.
    fn attach(&self) -> (u64, Option<Receiver<Vec<u8>>>) {
        let spooled = {
            let mut h = self.lock();
            h.attached = true;
            h.spooled
        };
        let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take();
        (spooled, rx)
    }
}

/// The worker's end of a [`Handoff`]: buffers `CHUNK` bytes, then writes them to the spool file
/// (before the consumer's turn) or sends them (after).
struct Divert<'a> {
    handoff: &'a Handoff,
    dir: &'a BlobDir,
    digest: &'a Digest,
    file: Option<std::fs::File>,
    tx: Option<SyncSender<Vec<u8>>>,
    buf: Vec<u8>,
}

impl Divert<'_> {
    fn ship(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        let mut h = self.handoff.lock();
        if !h.attached {
            if self.file.is_none() {
                self.file = Some(self.dir.create(self.digest).map_err(io::Error::other)?);
            }
            if let Some(f) = self.file.as_mut() {
                f.write_all(&chunk)?;
            }
            h.spooled += u64::try_from(chunk.len()).unwrap_or(u64::MAX);
            return Ok(());
        }
        drop(h);
        match &self.tx {
            Some(tx) => tx
                .send(chunk)
                .map_err(|_| io::Error::other("stopped: the archive is no longer written")),
            None => Err(io::Error::other("blob handed off twice")),
        }
    }
}

impl Write for Divert<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = CHUNK.saturating_sub(self.buf.len());
        let n = buf.len().min(room);
        self.buf.extend_from_slice(buf.get(..n).unwrap_or_default());
        if self.buf.len() >= CHUNK {
            self.ship()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What the workers and the consumer share, under one lock.
#[derive(Default)]
struct State {
    /// The next job a worker takes.
    next: usize,
    /// Jobs the consumer is done with: a worker may take job `i` only when `i < consumed + window`.
    consumed: usize,
    /// Finished jobs: what was kept of small blobs.
    done: BTreeMap<usize, Option<Vec<u8>>>,
    /// The first failure; once set, nothing new starts.
    failed: Option<ExportError>,
    /// Set on the first failure (or when the consumer gives up).
    stopped: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    /// Mirrors `State::stopped` for the writers' fast check.
    stop: AtomicBool,
    window: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait<'g>(&self, g: MutexGuard<'g, State>) -> MutexGuard<'g, State> {
        self.changed.wait(g).unwrap_or_else(|p| p.into_inner())
    }

    /// Records a failure (the first one wins) and stops everything.
    fn fail(&self, e: Option<ExportError>) {
        let mut st = self.lock();
        if !st.stopped {
            st.failed = e;
        }
        st.stopped = true;
        self.stop.store(true, Ordering::Relaxed);
        self.changed.notify_all();
    }
}

/// Stops the others if a worker unwinds.
struct OnUnwind<'a>(&'a Shared);

impl Drop for OnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail(None);
        }
    }
}

/// Several blobs at a time (see the module's documentation).
fn concurrent(
    plan: &Plan,
    all: &BTreeSet<Digest>,
    shared: &[Arc<dyn SharedBlobs>],
    opts: &ExportOptions,
    out: &mut dyn Sink,
    w: &mut Written,
) -> Result<(), ExportError> {
    let mut spool = None;
    let mut jobs = Vec::with_capacity(plan.blobs.len());
    // A digest held in memory too (a small document that is also a layer or a config) is written
    // from memory, in its turn, as one at a time does: never fetched as well.
    for (d, p) in plan
        .blobs
        .iter()
        .filter(|(d, _)| !plan.small.contains_key(*d))
    {
        let source = shared
            .get(p.source)
            .ok_or(SourceError::NoSuchSource(p.source))?
            .clone();
        let (into, handoff) = match out.landing(d, p.desc.size)? {
            Landing::Held => (None, None),
            Landing::Dir(dir) => (Some(dir), None),
            Landing::InOrder => {
                if spool.is_none() {
                    spool = Some(out.spool()?);
                }
                (spool.as_ref().map(|s| s.dir.clone()), Some(Handoff::new()))
            }
        };
        jobs.push(Job {
            digest: d,
            desc: &p.desc,
            source,
            into,
            handoff,
        });
    }
    let workers = opts.jobs.min(jobs.len()).max(1);
    let state = Shared {
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
        stop: AtomicBool::new(false),
        // A tarball's spool holds at most `jobs` blobs fetched ahead; a directory needs no bound.
        window: if spool.is_some() {
            opts.jobs
        } else {
            usize::MAX
        },
    };
    let progress = opts.progress.as_ref();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| worker(&jobs, &state, progress));
        }
        let r = consume(plan, all, &jobs, &state, opts, out, w);
        if r.is_err() {
            state.fail(None);
        }
        r
    })
}

/// A worker: takes the next job inside the window, fetches it into its folder, reports.
fn worker(jobs: &[Job<'_>], shared: &Shared, progress: &dyn Progress) {
    let _guard = OnUnwind(shared);
    loop {
        let i = {
            let mut st = shared.lock();
            loop {
                if st.stopped || st.next >= jobs.len() {
                    return;
                }
                if st.next < st.consumed.saturating_add(shared.window) {
                    break;
                }
                st = shared.wait(st);
            }
            st.next += 1;
            st.next - 1
        };
        let Some(job) = jobs.get(i) else { return };
        match fetch(job, shared, progress) {
            Ok(kept) => {
                let mut st = shared.lock();
                st.done.insert(i, kept);
                shared.changed.notify_all();
            }
            Err(e) => {
                shared.fail(Some(e));
                return;
            }
        }
    }
}

/// Fetches one job into its folder; returns the copy of a small blob.
fn fetch(
    job: &Job<'_>,
    shared: &Shared,
    progress: &dyn Progress,
) -> Result<Option<Vec<u8>>, ExportError> {
    let Some(dir) = &job.into else {
        return Ok(None);
    };
    let desc = job.desc;
    let mut kept: Option<Vec<u8>> = (desc.size <= KEEP).then(Vec::new);
    let item = Item::start(progress, desc);
    if let Some(handoff) = &job.handoff {
        let tx = handoff.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        let mut div = Divert {
            handoff,
            dir,
            digest: job.digest,
            file: None,
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let mut hashing = HashingWriter::new(&mut div, job.digest.algorithm());
        let r = job.source.blob(
            desc,
            &mut Checking {
                out: &mut hashing,
                kept: kept.as_mut(),
                item: &item,
                stop: Some(&shared.stop),
            },
        );
        let (_, actual, n) = hashing.finish();
        r?;
        div.ship().map_err(|source| ExportError::Output {
            path: dir.path().join(job.digest.hex()),
            source,
        })?;
        // Dropping the sender (with `div`) ends the consumer's channel.
        drop(div);
        if &actual != job.digest || n != desc.size {
            return Err(ExportError::Mismatch {
                digest: job.digest.to_string(),
                problem: Mismatch::Content {
                    actual,
                    size: n,
                    expected: Some(desc.size),
                },
            });
        }
        return Ok(kept);
    }
    dir.write(job.digest, desc.size, |sink| {
        let mut c = Checking {
            out: sink,
            kept: kept.as_mut(),
            item: &item,
            stop: Some(&shared.stop),
        };
        job.source.blob(desc, &mut c).map(|_| ())
    })?;
    Ok(kept)
}

/// The consumer: every blob in digest order; small ones from memory, fetched ones once their
/// worker is done (appended from the spool for tarballs).
fn consume(
    plan: &Plan,
    all: &BTreeSet<Digest>,
    jobs: &[Job<'_>],
    shared: &Shared,
    opts: &ExportOptions,
    out: &mut dyn Sink,
    w: &mut Written,
) -> Result<(), ExportError> {
    let mut k = 0usize;
    for d in all {
        if let Some(b) = plan.small.get(d) {
            put_small(out, d, b, opts, w)?;
            continue;
        }
        let Some(job) = jobs.get(k) else { continue };
        if job.digest != d {
            // Only planned blobs remain, in the same order as `jobs`.
            continue;
        }
        let kept = match (&job.handoff, &job.into) {
            (Some(handoff), Some(dir)) => {
                let mut kept = None;
                out.put_checked(d, job.desc.size, &mut |sink| {
                    kept = Some(hand_over(handoff, dir, k, d, shared, opts, sink)?);
                    Ok(())
                })?;
                dir.remove(d);
                kept.flatten()
            }
            _ => wait_done(shared, k, d)?,
        };
        w.streamed(d, job.desc.size, kept);
        k += 1;
        let mut st = shared.lock();
        st.consumed = k;
        shared.changed.notify_all();
    }
    Ok(())
}

/// Waits for job `k` (blob `d`) to be done; returns what was kept of it.
fn wait_done(shared: &Shared, k: usize, d: &Digest) -> Result<Option<Vec<u8>>, ExportError> {
    let mut st = shared.lock();
    loop {
        if let Some(kept) = st.done.remove(&k) {
            return Ok(kept);
        }
        if st.stopped {
            return Err(st
                .failed
                .take()
                .unwrap_or_else(|| SourceError::WorkerLost(d.clone()).into()));
        }
        st = shared.wait(st);
    }
}

/// Job `k`'s turn in the archive: what its spool holds, then the rest from its worker as it
/// arrives; succeeds only once the worker has checked the digest and size of every byte.
fn hand_over(
    handoff: &Handoff,
    dir: &BlobDir,
    k: usize,
    d: &Digest,
    shared: &Shared,
    opts: &ExportOptions,
    sink: &mut dyn Write,
) -> Result<Option<Vec<u8>>, ExportError> {
    let out_err = |source| ExportError::Output {
        path: opts.output.path.clone(),
        source,
    };
    let (spooled, rx) = handoff.attach();
    if spooled > 0 {
        let f = dir.open(d)?;
        let n =
            crate::fsutil::copy_in_steps(&mut f.take(spooled), sink, staging::check_interrupted)
                .map_err(out_err)?;
        if n != spooled {
            return Err(out_err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the spool of {d} is shorter than what was written to it"),
            )));
        }
    }
    if let Some(rx) = rx {
        // Ends when the worker drops its sender (done, failed or stopped), or when everything
        // stopped before a worker took the job.
        loop {
            match rx.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(chunk) => {
                    staging::check_interrupted().map_err(out_err)?;
                    sink.write_all(&chunk).map_err(out_err)?;
                }
                Err(RecvTimeoutError::Timeout) => {
                    staging::check_interrupted().map_err(out_err)?;
                    if shared.stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    }
    wait_done(shared, k, d)
}

fn entry_of(d: &Digest, b: &[u8]) -> BlobEntry {
    let content = match serde_json::from_slice::<serde::de::IgnoredAny>(b) {
        Ok(_) => Content::Json(b.to_vec().into()),
        Err(_) => Content::Bytes(b.to_vec().into()),
    };
    BlobEntry {
        size: u64::try_from(b.len()).unwrap_or(u64::MAX),
        actual: Some(d.clone()),
        content,
    }
}
