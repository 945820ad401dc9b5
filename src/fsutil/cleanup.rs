//! What an interrupted run leaves behind, removed: one thread per process records SIGINT, SIGTERM
//! or SIGHUP ([`install_signal_handler`]); copy loops ask [`check_interrupted`] and unwind,
//! dropping the [`Guard`]s that remove their temporary files and folders. If the main thread has
//! not finished within two seconds (blocked on the network, say), the thread removes every
//! registered path itself and ends the process with 128 + the signal number.
//!
//! Export's staging, import's spool folders and the part files of `split` all register here, so
//! one handler serves every command (a process can install only one that exits).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The signal that interrupted the run (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Paths to remove if the process must exit from the signal thread, each with the order it was
/// registered in (removed newest first: files before the folders that hold them). A map, so that
/// taking one off is not a scan of the list (`split` registers one path per part, up to 100,000).
static REGISTERED: Mutex<Registered> = Mutex::new(Registered {
    next: 0,
    paths: std::collections::BTreeMap::new(),
});

struct Registered {
    next: u64,
    paths: std::collections::BTreeMap<PathBuf, u64>,
}

#[cfg(test)]
impl Registered {
    fn contains(&self, p: &Path) -> bool {
        self.paths.contains_key(p)
    }
}

/// How long the main thread has to unwind by itself after a signal.
const GRACE: Duration = Duration::from_secs(2);

fn registered() -> MutexGuard<'static, Registered> {
    REGISTERED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs the SIGINT/SIGTERM/SIGHUP handler thread (once per process; later calls return the
/// first one's result).
pub fn install_signal_handler() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    static INSTALLED: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let r = INSTALLED.get_or_init(|| {
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            .map_err(|e| e.to_string())?;
        std::thread::Builder::new()
            .name("airlock-signals".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    SIGNAL.store(sig, Ordering::SeqCst);
                    // Let the main thread unwind and clean up by itself first.
                    std::thread::sleep(GRACE);
                    remove_registered();
                    std::process::exit(128 + sig);
                }
            })
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    r.clone().map_err(io::Error::other)
}

/// The signal number that interrupted the run, if one did.
pub fn interrupted() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// An error when a signal asked the run to stop (copy loops call this between buffers).
pub fn check_interrupted() -> io::Result<()> {
    match interrupted() {
        None => Ok(()),
        // Not `ErrorKind::Interrupted`: `write_all` and `io::copy` retry on that kind.
        Some(sig) => Err(io::Error::other(format!("interrupted by signal {sig}"))),
    }
}

/// Adds `path` to what the signal thread removes (a lock file, say, whose owner removes it
/// itself when done: then [`unregister`] it).
pub fn register(path: &Path) {
    let mut r = registered();
    let seq = r.next;
    r.next += 1;
    r.paths.insert(path.to_owned(), seq);
}

/// Takes `path` off the list (it was removed, renamed into place or handed over).
pub fn unregister(path: &Path) {
    registered().paths.remove(path);
}

fn remove_registered() {
    let mut paths: Vec<(u64, PathBuf)> = std::mem::take(&mut registered().paths)
        .into_iter()
        .map(|(p, seq)| (seq, p))
        .collect();
    paths.sort();
    for (_, p) in paths.iter().rev() {
        remove_any(p);
    }
}

/// Removes a file, a symbolic link (never its target) or a directory tree (without following
/// links inside it).
pub fn remove_any(p: &Path) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = std::fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// A temporary path, removed when dropped (and by the signal thread), unless committed.
#[derive(Debug)]
pub struct Guard {
    path: Option<PathBuf>,
}

impl Guard {
    /// Registers `path` for removal on drop and on a signal.
    pub fn new(path: PathBuf) -> Self {
        register(&path);
        Guard { path: Some(path) }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Keeps the path (it was renamed into place or handed over).
    pub fn commit(mut self) {
        if let Some(p) = self.path.take() {
            unregister(&p);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            unregister(&p);
            remove_any(&p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_removes_its_path_unless_committed() {
        let t = tempfile::tempdir().unwrap();
        let (file, dir, kept) = (t.path().join("f"), t.path().join("d"), t.path().join("k"));
        std::fs::write(&file, b"x").unwrap();
        std::fs::create_dir_all(dir.join("inner")).unwrap();
        std::fs::write(&kept, b"y").unwrap();
        {
            let _f = Guard::new(file.clone());
            let _d = Guard::new(dir.clone());
            Guard::new(kept.clone()).commit();
            assert!(registered().contains(&file) && registered().contains(&dir));
            assert!(!registered().contains(&kept));
        }
        assert!(!file.exists() && !dir.exists() && kept.exists());
        assert!(!registered().contains(&file) && !registered().contains(&dir));
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_removed_not_its_target() {
        let t = tempfile::tempdir().unwrap();
        let target = t.path().join("target");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"x").unwrap();
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        remove_any(&link);
        assert!(!link.exists() && target.join("keep").exists());
    }
}
