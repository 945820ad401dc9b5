//! Writing a parts set: a `Write` that cuts the stream into `NAME.001`, `NAME.002`, ... of at most
//! `part_size` bytes each, hashing every part and the whole stream on the way, and, at the end,
//! `NAME.parts.json`. Every file is written under a temporary name in the output folder (synced)
//! and renamed into place only when the whole set is complete, parts first and the manifest last,
//! so a previous set under the same names stays whole until then; a failed or dropped writer
//! removes its temporary files.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::manifest::{
    self, part_name, Identity, PartEntry, PartsManifest, ToolInfo, MAX_PARTS, MEDIA_TYPE,
    SCHEMA_VERSION, SUFFIX,
};
use crate::digest::{Algorithm, Hasher};
use crate::fsutil::{cleanup, WriteBack};

struct Current {
    /// Written with the disk kept busy, so the set's final sync finds little left.
    file: WriteBack,
    tmp: PathBuf,
    hasher: Hasher,
}

struct State {
    dir: PathBuf,
    name: String,
    part_size: u64,
    current: Option<Current>,
    /// Complete parts still under their temporary names.
    staged: Vec<(PathBuf, PartEntry)>,
    whole: Hasher,
    done: bool,
}

/// The writing end of a parts set (`Send + 'static`, so it can go where a file would).
pub struct PartsStream {
    state: Arc<Mutex<State>>,
}

/// The finishing end: [`PartsFinish::finish`] renames the parts into place and writes the manifest.
pub struct PartsFinish {
    state: Arc<Mutex<State>>,
}

fn lock(s: &Arc<Mutex<State>>) -> io::Result<MutexGuard<'_, State>> {
    s.lock()
        .map_err(|_| io::Error::other("parts writer poisoned by an earlier panic"))
}

/// A temporary name beside `final_name` in `dir`, unpredictable enough not to collide, registered
/// with the signal handler (`fsutil::cleanup`): a run stopped by SIGINT, SIGTERM or SIGHUP leaves
/// none behind. Each ends in [`discard`] or, once renamed into place, [`kept`].
fn temp_name(dir: &Path, final_name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    let p = dir.join(format!(
        ".{final_name}.airlock-tmp-{}-{nanos:08x}{c}",
        std::process::id()
    ));
    cleanup::register(&p);
    p
}

/// Removes a temporary file of [`temp_name`].
fn discard(tmp: &Path) {
    let _ = fs::remove_file(tmp);
    cleanup::unregister(tmp);
}

/// A temporary file of [`temp_name`] was renamed into place: the handler must leave its name be.
fn kept(tmp: &Path) {
    cleanup::unregister(tmp);
}

/// Removes the temporary files a run killed outright (SIGKILL, a power cut: no handler ran) left
/// beside the set `name` in `dir`: `.NAME.NNN.airlock-tmp-PID-...` and
/// `.NAME.parts.json.airlock-tmp-PID-...` (regular files only) whose process is gone. A live
/// process's are left alone.
fn remove_stale(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for e in entries.flatten() {
        let file_name = e.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some((what, tail)) = rest.split_once(".airlock-tmp-") else {
            continue;
        };
        let ours = what == SUFFIX.trim_start_matches('.')
            || (what.len() >= 3 && what.bytes().all(|b| b.is_ascii_digit()));
        let pid = tail.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let Some(pid) = pid.filter(|_| ours) else {
            continue;
        };
        if pid != std::process::id()
            && !process_alive(pid)
            && e.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Whether process `pid` runs (Linux: `/proc/PID`); where that cannot be told, assumed alive.
fn process_alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

fn create_exclusive(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Starts a parts set `dir/NAME.001`, ... of at most `part_size` bytes. Write the stream into the
/// [`PartsStream`], then call [`PartsFinish::finish`] with the bundle's identity; dropping both
/// without finishing removes every temporary file and leaves `dir` as it was.
///
/// This is what `export --split SIZE` writes its tarball into: the tar sink's `Box<dyn Write>` is
/// the `PartsStream`, and where the sink would rename its file into place it calls `finish` (with
/// the `index.json` digest and the pin).
pub fn create(dir: &Path, name: &str, part_size: u64) -> io::Result<(PartsStream, PartsFinish)> {
    if !manifest::plain_file_name(name) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{name:?} is not a plain file name"),
        ));
    }
    if part_size == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a part must hold at least one byte",
        ));
    }
    remove_stale(dir, name);
    let state = Arc::new(Mutex::new(State {
        dir: dir.to_path_buf(),
        name: name.to_owned(),
        part_size,
        current: None,
        staged: Vec::new(),
        whole: Hasher::new(Algorithm::Sha256),
        done: false,
    }));
    Ok((
        PartsStream {
            state: state.clone(),
        },
        PartsFinish { state },
    ))
}

impl State {
    fn close_current(&mut self) -> io::Result<()> {
        if let Some(c) = self.current.take() {
            // Synced before the rename: one syncfs for the whole set on Linux (a part per file
            // sync costs a disk flush each, which a thousand tiny parts feel), else here.
            if !cfg!(target_os = "linux") {
                c.file.into_inner().sync_all()?;
            }
            let (digest, size) = c.hasher.finish();
            let number = self.staged.len() + 1;
            let offset = self.staged.last().map_or(0, |(_, p)| p.offset + p.size);
            self.staged.push((
                c.tmp,
                PartEntry {
                    name: part_name(&self.name, number),
                    offset,
                    size,
                    sha256: digest.to_string(),
                },
            ));
        }
        Ok(())
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.done {
            return Err(io::Error::other("the parts set is already finished"));
        }
        if buf.is_empty() {
            return Ok(0);
        }
        cleanup::check_interrupted()?;
        if self.current.is_none() {
            if self.staged.len() >= MAX_PARTS {
                return Err(io::Error::other(format!(
                    "more than {MAX_PARTS} parts: choose a larger part size"
                )));
            }
            let final_name = part_name(&self.name, self.staged.len() + 1);
            let tmp = temp_name(&self.dir, &final_name);
            let file = WriteBack::new(create_exclusive(&tmp)?);
            self.current = Some(Current {
                file,
                tmp,
                hasher: Hasher::new(Algorithm::Sha256),
            });
        }
        let part_size = self.part_size;
        let Some(c) = self.current.as_mut() else {
            return Err(io::Error::other("no part open"));
        };
        let room = part_size.saturating_sub(c.hasher.len());
        let n = usize::try_from(room).unwrap_or(usize::MAX).min(buf.len());
        let chunk = buf.get(..n).unwrap_or_default();
        let written = c.file.write(chunk)?;
        let chunk = chunk.get(..written).unwrap_or_default();
        c.hasher.update(chunk);
        self.whole.update(chunk);
        if c.hasher.len() >= part_size {
            self.close_current()?;
        }
        Ok(written)
    }

    fn remove_temporaries(&mut self) {
        if let Some(c) = self.current.take() {
            discard(&c.tmp);
        }
        for (tmp, _) in self.staged.drain(..) {
            discard(&tmp);
        }
    }
}

impl Drop for State {
    fn drop(&mut self) {
        if !self.done {
            self.remove_temporaries();
        }
    }
}

impl Write for PartsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut s = lock(&self.state)?;
        let r = s.write(buf);
        if r.is_err() {
            s.remove_temporaries();
            s.done = true;
        }
        r
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `bytes` to `dir/name` through a synced temporary file and a rename.
fn write_file_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_name(dir, name);
    let r = (|| {
        let mut f = create_exclusive(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(name))
    })();
    match r {
        Ok(()) => kept(&tmp),
        Err(_) => discard(&tmp),
    }
    r
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The manifest's file name for a stream name.
pub fn manifest_name(name: &str) -> String {
    format!("{name}{SUFFIX}")
}

impl PartsFinish {
    /// Ends the stream: the last part is closed, every part renamed into place in order, then the
    /// manifest written (`NAME.parts.json`), with `identity` as the bundle's. Parts an earlier
    /// manifest under the same name listed beyond the new set are removed (they were airlock's).
    pub fn finish(self, identity: Identity) -> io::Result<PartsManifest> {
        let mut s = lock(&self.state)?;
        let r = finish_locked(&mut s, identity);
        if r.is_err() {
            s.remove_temporaries();
        }
        s.done = true;
        r
    }
}

fn finish_locked(s: &mut State, identity: Identity) -> io::Result<PartsManifest> {
    if s.done {
        return Err(io::Error::other(
            "the parts set is already finished or failed",
        ));
    }
    s.close_current()?;
    let whole = std::mem::replace(&mut s.whole, Hasher::new(Algorithm::Sha256));
    let (digest, size) = whole.finish();
    let m = PartsManifest {
        schema_version: SCHEMA_VERSION,
        media_type: MEDIA_TYPE.into(),
        tool: ToolInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        name: s.name.clone(),
        size,
        sha256: digest.to_string(),
        part_size: s.part_size,
        bundle: identity,
        parts: s.staged.iter().map(|(_, p)| p.clone()).collect(),
    };
    let mname = manifest_name(&s.name);
    #[cfg(target_os = "linux")]
    {
        let d = File::open(&s.dir)?;
        rustix::fs::syncfs(&d)?;
    }
    let old: Option<PartsManifest> = super::read::open_part(&s.dir.join(&mname))
        .ok()
        .and_then(|f| manifest::parse(f).ok())
        .filter(|o| o.name == s.name);
    for (tmp, p) in &s.staged {
        fs::rename(tmp, s.dir.join(&p.name))?;
        kept(tmp);
    }
    s.staged.clear();
    let mut bytes = serde_json::to_vec_pretty(&m).map_err(io::Error::other)?;
    bytes.push(b'\n');
    write_file_atomic(&s.dir, &mname, &bytes)?;
    if let Some(old) = old {
        // Only the old set's own parts (`NAME.NNN`, of this set's name) go: the old manifest is
        // a file in the folder like any other, and could name the bundle being split, or
        // anything else beside it.
        let now: BTreeSet<&str> = m.parts.iter().map(|p| p.name.as_str()).collect();
        for p in old.parts.iter().filter(|p| {
            !now.contains(p.name.as_str())
                && super::manifest::part_number(&s.name, &p.name).is_some()
        }) {
            let path = s.dir.join(&p.name);
            if fs::symlink_metadata(&path).is_ok_and(|md| md.file_type().is_file()) {
                let _ = fs::remove_file(path);
            }
        }
    }
    sync_dir(&s.dir);
    Ok(m)
}

/// Writes the whole of `r` as a parts set (the `split` command's path): [`create`], copy, finish.
pub fn split_reader<R: Read>(
    r: &mut R,
    dir: &Path,
    name: &str,
    part_size: u64,
    identity: Identity,
    progress: &mut dyn FnMut(u64),
) -> io::Result<PartsManifest> {
    let (mut w, fin) = create(dir, name, part_size)?;
    let mut buf = vec![0u8; crate::digest::CHUNK];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(buf.get(..n).unwrap_or_default())?;
        progress(u64::try_from(n).unwrap_or(u64::MAX));
    }
    drop(w);
    fin.finish(identity)
}

/// What a re-issue made of the chosen parts.
#[derive(Debug)]
pub struct Reissue {
    /// Each chosen part as cut from the file, in order.
    pub parts: Vec<PartEntry>,
    /// Those that differ from what the set's manifest lists: when there is one, no part was
    /// renamed into place (the set is as it was).
    pub differ: Vec<PartEntry>,
}

/// Re-issues parts `numbers` (1-based) of the file `src` cut every `part_size` bytes, each into
/// `dir` under its part name, byte-identical to those the first split wrote. Only the chosen byte
/// ranges are read. Every part is written to a temporary name (synced) and hashed first; with
/// `listed` (the set's manifest in `dir`), each is compared with the entry it lists (name, offset,
/// size, sha256), and only when all of them match is any renamed into place: one that differs (another
/// bundle file, another size) leaves every part in `dir` as it was, its temporary files removed.
/// Without `listed`, all are renamed. An error or a signal removes the temporary files; nothing is
/// renamed then.
pub fn reissue(
    src: &mut File,
    dir: &Path,
    name: &str,
    part_size: u64,
    numbers: &BTreeSet<usize>,
    listed: Option<&PartsManifest>,
) -> io::Result<Reissue> {
    if part_size == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a part must hold at least one byte",
        ));
    }
    let len = src.metadata()?.len();
    let count = usize::try_from(len.div_ceil(part_size)).unwrap_or(usize::MAX);
    for &n in numbers {
        if n == 0 || n > count {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("part {n} does not exist: {len} bytes cut every {part_size} make {count} part(s)"),
            ));
        }
    }
    let mut staged: Vec<(PathBuf, PartEntry)> = Vec::new();
    let r = stage_and_install(src, dir, name, part_size, len, numbers, listed, &mut staged);
    // Whatever was not renamed into place is removed (an error, a signal, a difference).
    for (tmp, _) in &staged {
        discard(tmp);
    }
    r
}

/// [`reissue`]'s body: every chosen part staged in `staged` (temporary name, entry), then all
/// renamed when none differs from `listed`; what was renamed is taken out of `staged`.
#[allow(clippy::too_many_arguments)]
fn stage_and_install(
    src: &mut File,
    dir: &Path,
    name: &str,
    part_size: u64,
    len: u64,
    numbers: &BTreeSet<usize>,
    listed: Option<&PartsManifest>,
    staged: &mut Vec<(PathBuf, PartEntry)>,
) -> io::Result<Reissue> {
    for &n in numbers {
        let offset = u64::try_from(n - 1)
            .unwrap_or(u64::MAX)
            .saturating_mul(part_size);
        let size = part_size.min(len.saturating_sub(offset));
        src.seek(SeekFrom::Start(offset))?;
        let final_name = part_name(name, n);
        let tmp = temp_name(dir, &final_name);
        let mut f = match create_exclusive(&tmp) {
            Ok(f) => f,
            Err(e) => {
                discard(&tmp);
                return Err(e);
            }
        };
        staged.push((
            tmp,
            PartEntry {
                name: final_name,
                offset,
                size,
                sha256: String::new(),
            },
        ));
        let mut h = crate::digest::HashingWriter::new(&mut f, Algorithm::Sha256);
        let copied = copy_until_signal(&mut (&mut *src).take(size), &mut h)?;
        let (_, digest, _) = h.finish();
        if copied != size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{name} ended while part {n} was read"),
            ));
        }
        f.sync_all()?;
        if let Some((_, entry)) = staged.last_mut() {
            entry.sha256 = digest.to_string();
        }
    }
    let parts: Vec<PartEntry> = staged.iter().map(|(_, p)| p.clone()).collect();
    let differ: Vec<PartEntry> = match listed {
        Some(m) => parts
            .iter()
            .filter(|p| !m.parts.contains(p))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    if !differ.is_empty() {
        return Ok(Reissue { parts, differ });
    }
    cleanup::check_interrupted()?;
    while !staged.is_empty() {
        let (tmp, p) = staged.remove(0);
        if let Err(e) = fs::rename(&tmp, dir.join(&p.name)) {
            discard(&tmp);
            return Err(e);
        }
        kept(&tmp);
    }
    sync_dir(dir);
    Ok(Reissue { parts, differ })
}

/// `io::copy` in 1 MiB steps that stops at a signal ([`cleanup::check_interrupted`]): a re-issue
/// interrupted mid-part unwinds at once, its temporary part removed by the caller.
fn copy_until_signal(r: &mut impl Read, w: &mut impl Write) -> io::Result<u64> {
    crate::fsutil::copy_in_steps(r, w, cleanup::check_interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporaries_of_a_dead_run_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        // No process has this number (above Linux's largest pid_max); ours is alive.
        let dead = 999_999_999u32;
        let me = std::process::id();
        let stale = [
            format!(".b.tar.001.airlock-tmp-{dead}-00000000"),
            format!(".b.tar.parts.json.airlock-tmp-{dead}-1a2b"),
        ];
        let kept = [
            format!(".b.tar.002.airlock-tmp-{me}-00000000"),
            format!(".b.tar.airlock-tmp-{dead}-00000000"),
            format!(".other.tar.001.airlock-tmp-{dead}-0"),
            format!(".b.tar.x.airlock-tmp-{dead}-0"),
            "b.tar.001".to_owned(),
        ];
        for n in stale.iter().chain(&kept) {
            fs::write(dir.path().join(n), b"x").unwrap();
        }
        fs::create_dir(dir.path().join(format!(".b.tar.003.airlock-tmp-{dead}-0"))).unwrap();
        let (w, _fin) = create(dir.path(), "b.tar", 10).unwrap();
        drop(w);
        for n in &stale {
            assert!(!dir.path().join(n).exists(), "{n} left");
        }
        for n in &kept {
            assert!(dir.path().join(n).exists(), "{n} removed");
        }
        assert!(dir
            .path()
            .join(format!(".b.tar.003.airlock-tmp-{dead}-0"))
            .is_dir());
    }

    #[test]
    fn cuts_and_finishes() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..2500u32).map(|i| (i % 251) as u8).collect();
        let m = split_reader(
            &mut &data[..],
            dir.path(),
            "b.tar",
            1000,
            Identity::default(),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(m.parts.len(), 3);
        assert_eq!(m.size, 2500);
        manifest::check(&m).unwrap();
        let mut joined = Vec::new();
        for p in &m.parts {
            joined.extend(fs::read(dir.path().join(&p.name)).unwrap());
        }
        assert_eq!(joined, data);
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
        // Re-issue: byte-identical.
        let src_path = dir.path().join("src");
        fs::write(&src_path, &data).unwrap();
        let out = tempfile::tempdir().unwrap();
        let again = reissue(
            &mut File::open(&src_path).unwrap(),
            out.path(),
            "b.tar",
            1000,
            &BTreeSet::from([3]),
            None,
        )
        .unwrap();
        assert_eq!(again.parts, vec![m.parts[2].clone()]);
        assert!(again.differ.is_empty());
        assert_eq!(
            fs::read(out.path().join("b.tar.003")).unwrap(),
            fs::read(dir.path().join("b.tar.003")).unwrap()
        );
    }

    #[test]
    fn dropped_writer_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut w, fin) = create(dir.path(), "b.tar", 10).unwrap();
        w.write_all(&[1u8; 25]).unwrap();
        drop(w);
        drop(fin);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
