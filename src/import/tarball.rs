//! The second pass over a tarball (part of phase 2, [`super::upload`]): the stream is read once,
//! start to end; each blob the target lacks is spooled to a private folder under `$TMPDIR` for the
//! upload workers while the bytes spooled and not yet uploaded stay within `--spool-limit`; a
//! blob that does not fit goes up from the stream itself, in stream order, spooling nothing more
//! until room frees. A worker starts a blob's upload as soon as its spool file is created and
//! reads it as it grows ([`Follow`]), so the first upload does not wait for the whole blob to be
//! decompressed. A spool file is removed as soon as its upload ends, and the folder with whatever
//! is left on every exit path (`tempfile`'s RAII guards).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Condvar, Mutex};

use super::upload::{Job, Shared};
use super::{ImportError, ImportOptions};
use crate::digest::Digest;
use crate::fsutil::cleanup::{self, Guard};
use crate::registry::{Registry, RegistryError};

/// The private spool folder under `$TMPDIR`: removed with its files when dropped, and by the
/// signal handler (`fsutil::cleanup`) on SIGINT, SIGTERM or SIGHUP. Blobs partly uploaded then stay
/// unfinished upload sessions (invisible); no manifest goes out after the signal
/// ([`super::publish`] checks before each), so a rerun completes the import.
struct SpoolDir(Guard);

impl SpoolDir {
    fn create() -> Result<Self, ImportError> {
        let io_err = |source| ImportError::Io {
            path: std::env::temp_dir(),
            source,
        };
        // Without the handler (it could not be installed) a signal ends the process as it would
        // anyway, leaving the spool folder in $TMPDIR: not a reason to refuse the import.
        let _ = cleanup::install_signal_handler();
        // A run killed outright (SIGKILL, a power cut) ran no handler: its folder, named with its
        // process id, is removed by the next import once that process is gone.
        remove_stale_spools(&std::env::temp_dir());
        let dir = tempfile::Builder::new()
            .prefix(&format!("{SPOOL_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(io_err)?;
        Ok(SpoolDir(Guard::new(dir.keep())))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }
}

/// The spool folder's name: `.airlock-import-PID-RANDOM`.
const SPOOL_PREFIX: &str = ".airlock-import-";

/// Removes the spool folders under `tmp` that an import killed outright left: named
/// `.airlock-import-PID-...` for a process that no longer runs (Linux: no `/proc/PID`; where that
/// cannot be told, nothing is removed), folders of this user only, never through a link. A live
/// import's folder, and one of an older release (no process id in its name), are left alone.
fn remove_stale_spools(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let me = rustix::process::geteuid().as_raw();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(SPOOL_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || proc.join(pid.to_string()).exists() {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        #[cfg(unix)]
        let mine = std::os::unix::fs::MetadataExt::uid(&meta) == me;
        #[cfg(not(unix))]
        let mine = true;
        if mine && meta.file_type().is_dir() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// A blob waiting for a worker, and where the worker reads it.
struct Spooled<'j> {
    job: &'j Job,
    from: Place,
}

/// Where a worker reads a blob.
enum Place {
    /// A spool file, perhaps still being written (`growth` says how far); removed when dropped.
    Spool {
        file: tempfile::TempPath,
        growth: Arc<Growth>,
    },
    /// The bundle itself, a plain tar in one file: `len` bytes at `offset`.
    Bundle { offset: u64, len: u64 },
}

/// `len` bytes of `path` from `offset` (a regular file, opened without blocking:
/// [`crate::fsutil::open_regular_file`]).
fn at_offset(path: &Path, offset: u64, len: u64) -> io::Result<Box<dyn Read + Send>> {
    use std::io::Seek;
    let mut f = crate::fsutil::open_regular_file(path, true)?;
    f.seek(io::SeekFrom::Start(offset))?;
    Ok(Box::new(f.take(len)))
}

/// How far a spool file has been written, for the upload that reads it while it grows.
#[derive(Default)]
struct Growth {
    state: Mutex<Grown>,
    cv: Condvar,
}

#[derive(Default)]
struct Grown {
    written: u64,
    /// `Some(true)`: the whole body is in the file; `Some(false)`: the writer gave up.
    end: Option<bool>,
}

impl Growth {
    fn lock(&self) -> std::sync::MutexGuard<'_, Grown> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn advance(&self, n: u64) {
        let mut g = self.lock();
        g.written = g.written.saturating_add(n);
        self.cv.notify_all();
    }

    fn end(&self, complete: bool) {
        let mut g = self.lock();
        g.end.get_or_insert(complete);
        self.cv.notify_all();
    }

    /// Waits until the file holds more than `pos` bytes, or is complete: the bytes readable at
    /// `pos` (0 at the end of a complete file); an error when the writer gave up.
    fn wait_past(&self, pos: u64) -> io::Result<u64> {
        let mut g = self.lock();
        loop {
            if g.written > pos {
                return Ok(g.written - pos);
            }
            match g.end {
                Some(true) => return Ok(0),
                Some(false) => {
                    return Err(io::Error::other(
                        "the bundle could not be read to the end of this blob",
                    ))
                }
                None => g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }
}

/// Ends a spool file's growth when dropped, as given up unless `complete` was set: a writer that
/// returns early (an error, a panic) must not leave its upload waiting.
struct Filling<'g> {
    growth: &'g Growth,
    complete: bool,
}

impl Drop for Filling<'_> {
    fn drop(&mut self) {
        self.growth.end(self.complete);
    }
}

/// Reads a spool file while it is written: never past what `growth` says is there.
struct Follow {
    file: std::fs::File,
    pos: u64,
    growth: Arc<Growth>,
}

impl Follow {
    fn open(path: &Path, growth: &Arc<Growth>) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(Follow {
            file: crate::fsutil::open_regular_file(path, false)?,
            pos: 0,
            growth: Arc::clone(growth),
        }))
    }
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let ready = self.growth.wait_past(self.pos)?;
        let want = usize::try_from(ready).unwrap_or(usize::MAX).min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read(buf.get_mut(..want).unwrap_or_default())?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.pos = self
            .pos
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        Ok(n)
    }
}

/// Bytes spooled and not yet uploaded.
struct Budget {
    in_flight: Mutex<u64>,
}

/// Reads `path` once more, start to end, uploading the blobs of `todo` (spooled for `jobs`
/// workers while the spool has room, else from the stream); returns the bytes spooled. A plain
/// tar in one file is not spooled: the workers read each blob where it lies, at its offset.
pub(super) fn from_tarball(
    path: &Path,
    todo: &[Job],
    clients: &[Registry],
    jobs: usize,
    opts: &ImportOptions,
    shared: &Shared<'_>,
) -> Result<u64, ImportError> {
    let by_digest: BTreeMap<&Digest, &Job> = todo.iter().map(|j| (&j.digest, j)).collect();
    let source = crate::archive::open_again(path)?;
    let crate::archive::Source::Stream { format, reader, .. } = source else {
        return Err(ImportError::NotATarball {
            path: path.to_owned(),
        });
    };
    // A plain tar in one regular file (not a parts set, not a pipe): the offsets in the stream
    // are offsets in the file.
    let in_place = format == crate::archive::BundleFormat::Tar
        && std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && matches!(crate::archive::parts::locate(path, None), Ok(None));
    let stream = crate::archive::decompress(reader, format, Arc::new(crate::layout::NoProgress));
    let mut entries = crate::layout::TarEntries::new(stream, &crate::layout::Limits::default());
    // The system's temporary folder (the bundle may sit on read-only media); removed on drop, or
    // by the signal thread.
    let dir = SpoolDir::create()?;
    let (reader_client, workers) = match clients.split_first() {
        Some((first, rest)) if !rest.is_empty() => (first, rest),
        Some((first, _)) => (first, &[][..]),
        None => return Err(ImportError::NoClient),
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
                        let pushed = match &sp.from {
                            Place::Spool { file, growth } => shared.push_each(reg, sp.job, || {
                                Follow::open(file, growth)
                                    .map_err(|e| ImportError::reading(file, e))
                            }),
                            Place::Bundle { offset, len } => shared.push_each(reg, sp.job, || {
                                at_offset(path, *offset, *len)
                                    .map_err(|e| ImportError::reading_bundle(path, e))
                            }),
                        };
                        if let Err(e) = pushed {
                            shared.fail(e);
                        }
                    }
                    if matches!(sp.from, Place::Spool { .. }) {
                        let size = sp.job.desc.size;
                        drop(sp); // removes the spool file
                        let mut used = budget.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                        *used = used.saturating_sub(size);
                    }
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
                    size: entry_size,
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
                if in_place && !workers.is_empty() {
                    // At most one byte past the verified size: enough for the hash to refuse it.
                    let len = entry_size.min(size.saturating_add(1));
                    let from = Place::Bundle {
                        offset: entries.position(),
                        len,
                    };
                    if tx.send(Spooled { job, from }).is_err() {
                        return Err(ImportError::Worker);
                    }
                    continue;
                }
                let room = !workers.is_empty() && {
                    let mut used = budget.in_flight.lock().unwrap_or_else(|p| p.into_inner());
                    let fits = used.saturating_add(size) <= opts.spool_limit;
                    if fits {
                        *used += size;
                    }
                    fits
                };
                if room {
                    let (out, file) = start_spool(dir.path())?;
                    let growth = Arc::new(Growth::default());
                    let (at, g) = (file.to_path_buf(), Arc::clone(&growth));
                    let from = Place::Spool { file, growth };
                    if tx.send(Spooled { job, from }).is_err() {
                        return Err(ImportError::Worker);
                    }
                    spooled_total += size;
                    fill(&mut entries.body(), out, size, &g).map_err(|e| match e {
                        // The bundle (a part of it) read again is not what was verified.
                        Fill::Read(e) => ImportError::Bundle {
                            path: path.to_owned(),
                            finding: Box::new(crate::finding::Finding::new(
                                crate::finding::Code::ArchiveCorrupt,
                                e.to_string(),
                            )),
                        },
                        Fill::Write(source) => ImportError::Io { path: at, source },
                    })?;
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

/// A new spool file in `dir`: the handle to write it, and its path (the file goes with it).
fn start_spool(dir: &Path) -> Result<(std::fs::File, tempfile::TempPath), ImportError> {
    tempfile::Builder::new()
        .prefix("blob-")
        .tempfile_in(dir)
        .map(tempfile::NamedTempFile::into_parts)
        .map_err(|source| ImportError::Io {
            path: dir.to_owned(),
            source,
        })
}

/// Copies a blob's body into its spool file, 1 MiB at a time (a few hundred system calls per
/// 256 MiB layer), telling `growth` after each write; at most `size` + 1 bytes: more is a change
/// the upload's hash reports.
fn fill<R: Read>(
    body: &mut R,
    mut out: std::fs::File,
    size: u64,
    growth: &Growth,
) -> Result<(), Fill> {
    let mut filling = Filling {
        growth,
        complete: false,
    };
    let mut body = body.take(size.saturating_add(1));
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Fill::Read(e)),
        };
        out.write_all(buf.get(..n).unwrap_or_default())
            .map_err(Fill::Write)?;
        growth.advance(u64::try_from(n).unwrap_or(u64::MAX));
    }
    filling.complete = true;
    Ok(())
}

/// Why [`fill`] stopped: the bundle could not be read (it changed since verification), or the
/// spool file could not be written (a local, operational error).
#[derive(Debug)]
enum Fill {
    Read(io::Error),
    Write(io::Error),
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

/// Sends `chunk` to the upload, waiting for room while `alive()`: `false` when the upload is gone.
/// Not a plain blocking send: an upload that ended early (a deadline, a refusal) may leave its
/// receiving end alive inside the HTTP client's connection task, which nothing drives any more,
/// and a blocking send would then wait forever.
fn send_while(tx: &SyncSender<Vec<u8>>, mut chunk: Vec<u8>, alive: impl Fn() -> bool) -> bool {
    loop {
        match tx.try_send(chunk) {
            Ok(()) => return true,
            Err(mpsc::TrySendError::Disconnected(_)) => return false,
            Err(mpsc::TrySendError::Full(c)) => {
                if !alive() {
                    return false;
                }
                chunk = c;
                std::thread::sleep(std::time::Duration::from_micros(200));
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
                if !send_while(&tx, buf, || !up.is_finished()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spool_folders_of_dead_imports_are_removed_and_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        // A process that ran and is gone.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        // Another import that still runs.
        let mut running = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let stale = tmp.path().join(format!("{SPOOL_PREFIX}{dead}-abc123"));
        let live = tmp
            .path()
            .join(format!("{SPOOL_PREFIX}{}-def456", running.id()));
        let old_style = tmp.path().join(format!("{SPOOL_PREFIX}Xy12Zq"));
        // A link named like a dead import's spool: never followed nor removed.
        let link = tmp.path().join(format!("{SPOOL_PREFIX}{dead}-link"));
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("keep"), b"x").unwrap();
        for d in [&stale, &live, &old_style] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("blob"), b"spooled").unwrap();
        }
        std::os::unix::fs::symlink(elsewhere.path(), &link).unwrap();
        remove_stale_spools(tmp.path());
        running.kill().unwrap();
        running.wait().unwrap();
        assert!(!stale.exists(), "a dead import's spool is removed");
        assert!(live.exists() && old_style.exists());
        assert!(link.symlink_metadata().is_ok() && elsewhere.path().join("keep").exists());
    }

    #[test]
    fn the_spool_folder_names_its_process() {
        let d = SpoolDir::create().unwrap();
        let name = d.path().file_name().unwrap().to_str().unwrap().to_owned();
        assert!(
            name.starts_with(&format!("{SPOOL_PREFIX}{}-", std::process::id())),
            "{name}"
        );
    }

    #[test]
    fn a_send_to_an_upload_that_ended_does_not_wait_forever() {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(1);
        assert!(send_while(&tx, vec![1], || true));
        // Full, its receiver alive but never read again (held by a connection task nothing
        // drives): the send gives up once the upload is gone.
        let t = std::time::Instant::now();
        assert!(!send_while(&tx, vec![2], || t.elapsed().as_millis() < 50));
        drop(rx);
        assert!(!send_while(&tx, vec![3], || true));
    }

    /// Spools `data` (announced as `size` bytes) into a new file of `dir`.
    fn spool(data: &[u8], dir: &Path, size: u64) -> tempfile::TempPath {
        let (out, p) = start_spool(dir).unwrap();
        let g = Growth::default();
        fill(&mut &data[..], out, size, &g).unwrap();
        assert_eq!(g.wait_past(u64::MAX).unwrap(), 0, "complete");
        p
    }

    #[test]
    fn a_spool_file_holds_the_blob_and_disappears_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let data = vec![3u8; 70_000];
        let p = spool(&data, dir.path(), 70_000);
        assert_eq!(std::fs::read(&p).unwrap(), data);
        let path = p.to_path_buf();
        drop(p);
        assert!(!path.exists());
        // At most one byte past the verified size is copied: enough for the hash to refuse it.
        let p = spool(&data, dir.path(), 100);
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 101);
    }

    /// A body that yields `chunks` of `len` bytes (byte `i` in chunk `i`), each after `pause`,
    /// then fails if `fail`.
    struct Slow {
        chunks: u8,
        len: usize,
        sent: u8,
        pause: std::time::Duration,
        fail: bool,
    }

    impl Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.sent == self.chunks {
                return if self.fail {
                    Err(io::Error::other("truncated"))
                } else {
                    Ok(0)
                };
            }
            std::thread::sleep(self.pause);
            let n = self.len.min(buf.len());
            buf[..n].fill(self.sent);
            self.sent += 1;
            Ok(n)
        }
    }

    fn follow_while_filling(fail: bool) -> (io::Result<Vec<u8>>, io::Result<()>) {
        let dir = tempfile::tempdir().unwrap();
        let (out, p) = start_spool(dir.path()).unwrap();
        let growth = Arc::new(Growth::default());
        let mut reader = Follow::open(&p, &growth).unwrap();
        let (chunks, len) = (8u8, 5000usize);
        let size = u64::from(chunks) * len as u64;
        std::thread::scope(|s| {
            let r = s.spawn(move || {
                let mut got = Vec::new();
                reader.read_to_end(&mut got).map(|_| got)
            });
            let mut body = Slow {
                chunks,
                len,
                sent: 0,
                pause: std::time::Duration::from_millis(5),
                fail,
            };
            let w = fill(&mut body, out, size, &growth).map_err(|e| match e {
                Fill::Read(e) | Fill::Write(e) => e,
            });
            (r.join().unwrap(), w)
        })
    }

    #[test]
    fn an_upload_reads_its_spool_file_while_it_grows() {
        let (got, w) = follow_while_filling(false);
        w.unwrap();
        let got = got.unwrap();
        assert_eq!(got.len(), 40_000);
        assert!(got
            .chunks(5000)
            .enumerate()
            .all(|(i, c)| c.iter().all(|b| usize::from(*b) == i)));
    }

    #[test]
    fn a_spool_writer_that_fails_fails_its_upload_instead_of_leaving_it_waiting() {
        let (got, w) = follow_while_filling(true);
        assert!(w.is_err());
        let e = got.unwrap_err();
        assert!(e.to_string().contains("could not be read"), "{e}");
        // A writer that never finished (dropped, as by a panic) ends its readers the same way.
        let g = Growth::default();
        drop(Filling {
            growth: &g,
            complete: false,
        });
        assert!(g.wait_past(0).is_err());
    }

    #[test]
    fn chunks_handed_over_read_back_in_order() {
        let (tx, rx) = mpsc::sync_channel(2);
        let mut r = ChunkReader {
            rx,
            cur: Vec::new(),
            pos: 0,
        };
        let t = std::thread::spawn(move || {
            for i in 0..10u8 {
                tx.send(vec![i; 1000]).unwrap();
            }
        });
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        t.join().unwrap();
        assert_eq!(out.len(), 10_000);
        assert!(out
            .chunks(1000)
            .enumerate()
            .all(|(i, c)| c.iter().all(|b| usize::from(*b) == i)));
    }
}
