//! File-system facts every layer may ask for (`same_file`, `parent_and_name`). A leaf (level 1, beside `digest` and `finding`): it
//! uses no module of the crate, so `notary` (which may not use `layout`) and `layout` share it.
//! [`cleanup`]: the one signal handler, and the temporary paths it removes. [`WriteBack`]: a file
//! written with the disk kept busy.

pub mod cleanup;
mod writeback;

pub use writeback::{WriteBack, WRITE_BACK};

use std::ffi::OsStr;
use std::fs::Metadata;
use std::io::{self, Read, Write};
use std::path::Path;

/// Bytes moved per step by [`copy_in_steps`].
pub const COPY_STEP: usize = 1 << 20;

/// `io::copy` in [`COPY_STEP`] steps, calling `before_each` before every read (a signal check,
/// say): a few hundred system calls and encoder calls per 256 MiB blob instead of `io::copy`'s
/// 8 KiB steps (which write through a `&mut dyn Write` never gets specialised).
pub fn copy_in_steps(
    r: &mut dyn Read,
    w: &mut dyn Write,
    mut before_each: impl FnMut() -> io::Result<()>,
) -> io::Result<u64> {
    let mut buf = vec![0u8; COPY_STEP];
    let mut n = 0u64;
    loop {
        before_each()?;
        let k = match r.read(&mut buf) {
            Ok(0) => return Ok(n),
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        w.write_all(buf.get(..k).unwrap_or_default())?;
        n = n.saturating_add(u64::try_from(k).unwrap_or(u64::MAX));
    }
}

/// The folder a file of `path` is written in (`.` for a bare name) and its name there: where a
/// temporary name beside it goes before the rename. A path with no file name (`/`, `..`) is
/// refused.
pub fn parent_and_name(path: &Path) -> io::Result<(&Path, &OsStr)> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: no file name", path.display()),
        )
    })?;
    Ok((dir, name))
}

/// True when two `stat` results name the same file (same device and inode): the file opened is
/// the one checked before opening, not one swapped in between. Outside Unix there is no inode to
/// compare and the answer is always true (the documented limit).
#[cfg(unix)]
pub fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// True when two `stat` results name the same file; outside Unix there is no inode to compare.
#[cfg(not(unix))]
pub fn same_file(_: &Metadata, _: &Metadata) -> bool {
    true
}

/// A file [`open_regular_file`] refused: what it is instead of a regular file (carried inside the
/// `io::Error` it returns; [`NotRegular::of`] finds it).
#[derive(Debug)]
pub struct NotRegular {
    /// The file.
    pub path: std::path::PathBuf,
    /// What it is (`a FIFO`, `a symbolic link`, ...).
    pub what: &'static str,
}

impl std::fmt::Display for NotRegular {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is {}, not a regular file",
            self.path.display(),
            self.what
        )
    }
}

impl std::error::Error for NotRegular {}

impl NotRegular {
    /// The refusal an error of [`open_regular_file`] carries, if it is one.
    pub fn of(e: &io::Error) -> Option<&NotRegular> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<NotRegular>())
    }
}

/// Opens `path` for reading only if it is a regular file, without ever blocking in open(2):
/// `O_NONBLOCK` (a FIFO swapped in opens at once instead of waiting for a writer), then the open
/// file's own `fstat` must say regular file (a FIFO, socket, device or directory is refused).
/// `follow_links: false` also refuses a symbolic link (`O_NOFOLLOW`, after an `lstat` that names
/// it); `true` is for the operator's own argument, which may be a link to a regular file. The
/// error says what the file is instead, as `InvalidInput`.
pub fn open_regular_file(path: &Path, follow_links: bool) -> io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let not_regular = |what: &'static str| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            NotRegular {
                path: path.to_path_buf(),
                what,
            },
        )
    };
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    if !follow_links {
        if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
            return Err(not_regular("a symbolic link"));
        }
        flags |= OFlags::NOFOLLOW;
    }
    let file = std::fs::File::from(rustix::fs::open(path, flags, Mode::empty())?);
    let ft = file.metadata()?.file_type();
    if !ft.is_file() {
        return Err(not_regular(kind_of(&ft)));
    }
    Ok(file)
}

/// Reads a file the operator named (`--since`, `--lock`, `--config`, a receipt and its
/// `--signature` or `--manifest`, a policy, a CRL), at most `cap` bytes (`None` past it), without
/// ever waiting for a writer: it is opened with `O_NONBLOCK` (links followed: it is the operator's
/// argument), which then is cleared, so that a pipe (`<(...)`) is read to its end as usual, while
/// a FIFO nobody writes to (left on a carried medium in place of a file) reads as empty and fails
/// to parse, instead of blocking the command for ever (red team F, F2).
pub fn read_named_file(path: &Path, cap: u64) -> io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    open_named(path)?
        .take(cap.saturating_add(1))
        .read_to_end(&mut buf)?;
    Ok(u64::try_from(buf.len())
        .is_ok_and(|n| n <= cap)
        .then_some(buf))
}

/// Opens a file the operator named for reading without blocking in `open(2)` (a FIFO nobody
/// writes to would block it for ever), then clears `O_NONBLOCK` so that reads block as usual: a
/// pipe (`<(...)`) is read to its end, an orphan FIFO reads as empty (see [`read_named_file`]).
/// Used for the bundle file too (red team I, I-05: `verify FIFO` hung).
pub fn open_named(path: &Path) -> io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let flags = rustix::fs::fcntl_getfl(&fd)?;
    rustix::fs::fcntl_setfl(&fd, flags - OFlags::NONBLOCK)?;
    Ok(std::fs::File::from(fd))
}

/// Refuses `path` as the destination of a file written by rename ([`crate::layout::write_atomic`])
/// unless nothing or a regular file is there: the rename would replace a device, a FIFO or a
/// symbolic link with a regular file (`--report /dev/null` run as root would replace the system's
/// node), and a directory cannot be replaced. The error says what is there, as `InvalidInput`.
pub fn replaceable(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.file_type().is_file() => Ok(()),
        Ok(m) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            NotRegular {
                path: path.to_path_buf(),
                what: if m.file_type().is_symlink() {
                    "a symbolic link"
                } else {
                    kind_of(&m.file_type())
                },
            },
        )),
    }
}

/// What a file that is not a regular file is, in words.
pub(crate) fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_char_device() {
            return "a character device";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_path_into_its_folder_and_name() {
        let (d, n) = parent_and_name(Path::new("report.json")).unwrap();
        assert_eq!((d, n), (Path::new("."), OsStr::new("report.json")));
        let (d, n) = parent_and_name(Path::new("/a/b/c.tar")).unwrap();
        assert_eq!((d, n), (Path::new("/a/b"), OsStr::new("c.tar")));
        assert!(parent_and_name(Path::new("/")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn tells_a_replaced_file_from_the_same_one() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        std::fs::write(&a, b"one").unwrap();
        let before = std::fs::symlink_metadata(&a).unwrap();
        let opened = std::fs::File::open(&a).unwrap().metadata().unwrap();
        assert!(same_file(&before, &opened));
        // Replaced by rename (a new inode under the same name), as an attacker would.
        let b = t.path().join("b");
        std::fs::write(&b, b"two").unwrap();
        std::fs::rename(&b, &a).unwrap();
        let after = std::fs::symlink_metadata(&a).unwrap();
        assert!(!same_file(&before, &after));
    }

    #[cfg(unix)]
    #[test]
    fn opens_only_regular_files_and_never_blocks_on_a_fifo() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        std::fs::write(&a, b"one").unwrap();
        let mut text = String::new();
        open_regular_file(&a, false)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "one");
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        assert!(
            open_regular_file(&link, true).is_ok(),
            "a link when allowed"
        );
        let e = open_regular_file(&link, false).unwrap_err();
        assert_eq!(NotRegular::of(&e).unwrap().what, "a symbolic link");
        // A FIFO with no writer: refused at once (a blocking open would wait forever).
        let fifo = t.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        for follow in [true, false] {
            // In a thread, so that a regression fails the test instead of hanging it.
            let (tx, rx) = std::sync::mpsc::channel();
            let path = fifo.clone();
            std::thread::spawn(move || {
                let _ = tx.send(open_regular_file(&path, follow).map(|_| ()));
            });
            let e = rx
                .recv_timeout(std::time::Duration::from_secs(10))
                .expect("opening a FIFO blocked")
                .unwrap_err();
            assert!(
                e.to_string().contains("is a FIFO, not a regular file"),
                "{e}"
            );
        }
        let e = open_regular_file(Path::new("/dev/null"), true).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let e = open_regular_file(t.path(), true).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let e = open_regular_file(&t.path().join("none"), false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(NotRegular::of(&e).is_none());
    }
}
