//! A two-thread pipeline: one thread produces (reads and decompresses), the caller consumes
//! through [`ChannelReader`] (parses tar and hashes). Buffers are recycled, so memory is a few
//! buffers whatever the stream length.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;

const BUF: usize = 1 << 20;
const DEPTH: usize = 4;

/// The consuming end of the pipeline.
pub struct ChannelReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    back: SyncSender<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ChannelReader {
    /// Reads what is left of the stream and drops it, so that the producer reaches the end of its
    /// input (a tar's trailing padding, the end of a compressed frame): what hashes the raw bytes
    /// on the way ([`super::FileDigest`]) then has them all. At most `limit` bytes: `true` when
    /// the stream ended within them. A stream with more left (a tar refused for what follows its
    /// end, a parts set listing a huge missing part) is not read on: it has no file digest.
    pub fn drain_at_most(&mut self, limit: u64) -> io::Result<bool> {
        let n = io::copy(&mut (&mut *self).take(limit), &mut io::sink())?;
        if n < limit {
            return Ok(true);
        }
        let mut one = [0u8; 1];
        Ok(self.read(&mut one)? == 0)
    }
}

/// Starts the producer thread. `make` builds the reader inside that thread.
pub fn spawn<F>(make: F) -> ChannelReader
where
    F: FnOnce() -> io::Result<Box<dyn Read>> + Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(DEPTH);
    let (back, pool) = mpsc::sync_channel::<Vec<u8>>(DEPTH + 2);
    thread::Builder::new()
        .name("airlock-decompress".into())
        .spawn(move || {
            let mut r = match make() {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            loop {
                let mut buf = pool.try_recv().unwrap_or_default();
                buf.resize(BUF, 0);
                let mut filled = 0;
                // Fill the buffer as far as the reader allows, so that the consumer sees big chunks.
                let res = loop {
                    let Some(space) = buf.get_mut(filled..) else {
                        break Ok(());
                    };
                    if space.is_empty() {
                        break Ok(());
                    }
                    match r.read(space) {
                        Ok(0) => break Ok(()),
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                let eof = filled < BUF;
                buf.truncate(filled);
                if filled > 0 && tx.send(Ok(buf)).is_err() {
                    return; // consumer gone
                }
                if let Err(e) = res {
                    let _ = tx.send(Err(e));
                    return;
                }
                if eof {
                    return;
                }
            }
        })
        .map_or_else(
            |e| {
                let (tx2, rx2) = mpsc::sync_channel(1);
                let _ = tx2.send(Err(e));
                let (back2, _) = mpsc::sync_channel(1);
                ChannelReader {
                    rx: rx2,
                    back: back2,
                    cur: Vec::new(),
                    pos: 0,
                    done: false,
                }
            },
            |_| ChannelReader {
                rx,
                back,
                cur: Vec::new(),
                pos: 0,
                done: false,
            },
        )
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(rest) = self.cur.get(self.pos..) {
                if !rest.is_empty() {
                    let n = rest.len().min(out.len());
                    if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
                        dst.copy_from_slice(src);
                    }
                    self.pos += n;
                    return Ok(n);
                }
            }
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(buf)) => {
                    let old = std::mem::replace(&mut self.cur, buf);
                    let _ = self.back.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
    }
}
