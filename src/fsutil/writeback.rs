//! A file written through with the disk kept busy ([`WriteBack`]).

use std::fs::File;
use std::io::{self, Write};
use std::thread::JoinHandle;

/// Bytes written between two flushes started by [`WriteBack`].
pub const WRITE_BACK: u64 = 32 << 20;

/// A file written through, the disk started on every [`WRITE_BACK`] bytes as they come: a
/// `sync_data` of a clone of the file on a helper thread, one at a time (the writer waits for the
/// previous one before it starts the next, so the dirty bytes of one file stay under two
/// `WRITE_BACK`s). The `sync_all` before a rename then finds little left to write, and the disk
/// writes while the network fetches: an export of a whole image takes about the longer of the two,
/// not their sum (this machine's page cache holds gigabytes of dirty data before the kernel starts
/// on its own). Durability is unchanged: the caller still syncs before it renames.
pub struct WriteBack {
    file: File,
    since: u64,
    flush: Option<JoinHandle<()>>,
}

impl WriteBack {
    /// Writes through to `file`.
    pub fn new(file: File) -> Self {
        WriteBack {
            file,
            since: 0,
            flush: None,
        }
    }

    /// The file, once the flush in flight (if any) has ended. (Dropped instead, the writer leaves
    /// that flush to end on its own: it holds only its clone of the file.)
    pub fn into_inner(mut self) -> File {
        self.wait();
        self.file
    }

    fn wait(&mut self) {
        if let Some(h) = self.flush.take() {
            let _ = h.join();
        }
    }

    fn kick(&mut self) {
        self.wait();
        self.since = 0;
        if let Ok(clone) = self.file.try_clone() {
            // An error here is not lost: the caller's own sync before the rename reports it.
            self.flush = std::thread::Builder::new()
                .name("airlock-writeback".into())
                .spawn(move || {
                    let _ = clone.sync_data();
                })
                .ok();
        }
    }
}

impl Write for WriteBack {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.since += u64::try_from(n).unwrap_or(u64::MAX);
        if self.since >= WRITE_BACK {
            self.kick();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn every_byte_reaches_the_file_across_flushes() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("f");
        let mut w = WriteBack::new(File::create(&p).unwrap());
        let chunk: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        let n = usize::try_from(WRITE_BACK >> 20).unwrap() * 2 + 3;
        for _ in 0..n {
            w.write_all(&chunk).unwrap();
        }
        let f = w.into_inner();
        f.sync_all().unwrap();
        let mut back = Vec::new();
        File::open(&p).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back.len(), n << 20);
        assert!(back.chunks(1 << 20).all(|c| c == chunk.as_slice()));
    }
}
