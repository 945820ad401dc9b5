//! zstd that stores what does not compress ([`ZstdSegments`]).
//!
//! Most of an image is layers that are compressed already (`tar+gzip`, `tar+zstd`): zstd spends
//! about a second of CPU per GiB looking for matches in them, then writes them as raw blocks
//! anyway. The writer here cuts the tar stream into 1 MiB segments at fixed offsets and looks at a
//! sample of each (three 8 KiB pieces, compressed at level 1): a segment the sample shows does not
//! compress goes out as raw blocks of a frame of its own, without the compressor; everything else
//! goes through the multi-threaded compressor as before. The output is a standard sequence of
//! zstd frames (`zstd -d` reads it); the cut depends only on the bytes, so the same input always
//! gives the same output, whatever the machine or the size of the writes.

use std::io::{self, Write};

use zstd::stream::raw::{CParameter, Encoder as RawEncoder, Operation};
use zstd::stream::zio::Writer as ZioWriter;

/// Bytes in one segment, the unit of the compress-or-store choice.
pub const SEGMENT: usize = 1 << 20;

/// Bytes of each of the three pieces a segment's sample is made of.
const PIECE: usize = 8 << 10;

/// A sample that level 1 shrinks by less than this (in hundredths) is stored: the compressor would
/// not win more than a percent or two on the whole segment either.
const STORE_AT_PERCENT: usize = 98;

/// The window a stored frame declares (2^17 = 128 KiB: also the largest block).
const STORED_WINDOW_LOG: u32 = 17;
const STORED_BLOCK: usize = 1 << STORED_WINDOW_LOG;

/// The frame being written.
enum Frame<W: Write> {
    /// None yet, or the last one ended.
    Between(W),
    /// A compressed frame, through the compressor.
    Compressed(ZioWriter<W, RawEncoder<'static>>),
    /// A frame of raw blocks, written here.
    Stored(W),
}

/// zstd over `W` that stores incompressible 1 MiB segments (see the module documentation).
pub struct ZstdSegments<W: Write> {
    frame: Option<Frame<W>>,
    /// The compressor while no compressed frame is open (it keeps its threads and settings).
    idle: Option<RawEncoder<'static>>,
    /// The segment being filled.
    segment: Vec<u8>,
    /// The level-1 compressor of samples.
    probe: zstd::bulk::Compressor<'static>,
    /// Segments stored (for the tests and the curious).
    stored: u64,
}

impl<W: Write> ZstdSegments<W> {
    /// Writes to `w` through `encoder` (already set up: level, workers, job size).
    pub fn new(w: W, encoder: RawEncoder<'static>) -> io::Result<Self> {
        Ok(ZstdSegments {
            frame: Some(Frame::Between(w)),
            idle: Some(encoder),
            segment: Vec::with_capacity(SEGMENT),
            probe: zstd::bulk::Compressor::new(1)?,
            stored: 0,
        })
    }

    /// Segments written as raw blocks so far.
    pub fn stored_segments(&self) -> u64 {
        self.stored
    }

    /// Whether a full segment would not compress, judged by its sample.
    fn incompressible(&mut self, segment: &[u8]) -> io::Result<bool> {
        let len = segment.len();
        if len < SEGMENT {
            return Ok(false);
        }
        let mut sample = Vec::with_capacity(3 * PIECE);
        for at in [0, len / 2, len - PIECE] {
            sample.extend_from_slice(segment.get(at..at + PIECE).unwrap_or_default());
        }
        let packed = self.probe.compress(&sample)?;
        Ok(packed.len() * 100 >= sample.len() * STORE_AT_PERCENT)
    }

    fn take_frame(&mut self) -> io::Result<Frame<W>> {
        self.frame
            .take()
            .ok_or_else(|| io::Error::other("zstd writer used after an error"))
    }

    /// Ends the open frame, if any; the writer underneath.
    fn end_frame(&mut self) -> io::Result<W> {
        match self.take_frame()? {
            Frame::Between(w) => Ok(w),
            Frame::Compressed(mut z) => {
                z.finish()?;
                let (w, mut op) = z.into_inner();
                op.reinit()?;
                self.idle = Some(op);
                Ok(w)
            }
            Frame::Stored(mut w) => {
                // The last block: raw, empty (as zstd's own epilogue writes it).
                w.write_all(&[0x01, 0x00, 0x00])?;
                Ok(w)
            }
        }
    }

    /// Writes one full or final segment, compressed or stored.
    fn put(&mut self, segment: &[u8]) -> io::Result<()> {
        let store = self.incompressible(segment)?;
        let frame = match (self.take_frame()?, store) {
            (Frame::Compressed(mut z), false) => {
                z.write_all(segment)?;
                Frame::Compressed(z)
            }
            (Frame::Stored(mut w), true) => {
                write_raw_blocks(&mut w, segment)?;
                Frame::Stored(w)
            }
            (other, _) => {
                self.frame = Some(other);
                let mut w = self.end_frame()?;
                if store {
                    // Magic; no content size, not single-segment, no checksum, no dictionary;
                    // a window of 2^17.
                    let window = u8::try_from((STORED_WINDOW_LOG - 10) << 3).unwrap_or(0x38);
                    w.write_all(&[0x28, 0xb5, 0x2f, 0xfd, 0x00, window])?;
                    write_raw_blocks(&mut w, segment)?;
                    Frame::Stored(w)
                } else {
                    let op = self
                        .idle
                        .take()
                        .ok_or_else(|| io::Error::other("zstd writer used after an error"))?;
                    let mut z = ZioWriter::new(w, op);
                    z.write_all(segment)?;
                    Frame::Compressed(z)
                }
            }
        };
        if store {
            self.stored += 1;
        }
        self.frame = Some(frame);
        Ok(())
    }

    /// Writes what is left and ends the last frame; the writer underneath. A stream with no byte
    /// at all is one empty compressed frame, as zstd writes it.
    pub fn finish(mut self) -> io::Result<W> {
        let rest = std::mem::take(&mut self.segment);
        let nothing_yet = matches!(self.frame, Some(Frame::Between(_)));
        if !rest.is_empty() || nothing_yet {
            self.put(&rest)?;
        }
        self.end_frame()
    }
}

/// `data` as raw blocks (not the last) of at most [`STORED_BLOCK`] bytes.
fn write_raw_blocks<W: Write>(w: &mut W, data: &[u8]) -> io::Result<()> {
    for block in data.chunks(STORED_BLOCK) {
        // Block header, 24 bits little-endian: size << 3 | type (raw = 0) << 1 | last (0).
        let header = u32::try_from(block.len()).unwrap_or(0) << 3;
        w.write_all(header.to_le_bytes().get(..3).unwrap_or_default())?;
        w.write_all(block)?;
    }
    Ok(())
}

impl<W: Write> Write for ZstdSegments<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = SEGMENT - self.segment.len();
        let n = room.min(buf.len());
        self.segment
            .extend_from_slice(buf.get(..n).unwrap_or_default());
        if self.segment.len() == SEGMENT {
            let full = std::mem::take(&mut self.segment);
            self.put(&full)?;
            // The buffer is reused for the next segment.
            self.segment = full;
            self.segment.clear();
        }
        Ok(n)
    }

    /// Flushes what is already compressed or stored to the writer underneath; never cuts a
    /// segment or a zstd block short (the output would then depend on when flushes come).
    fn flush(&mut self) -> io::Result<()> {
        match self.frame.as_mut() {
            Some(Frame::Between(w) | Frame::Stored(w)) => w.flush(),
            Some(Frame::Compressed(z)) => z.writer_mut().flush(),
            None => Ok(()),
        }
    }
}

/// A compressor at `level` on `workers` threads (at least 1), in jobs of `job_size` bytes, with
/// the window capped at `window_log` when given.
pub fn raw_encoder(
    level: i32,
    workers: u32,
    job_size: u32,
    window_log: Option<u32>,
) -> io::Result<RawEncoder<'static>> {
    let mut e = RawEncoder::new(level)?;
    e.set_parameter(CParameter::NbWorkers(workers.max(1)))?;
    e.set_parameter(CParameter::JobSize(job_size))?;
    if let Some(log) = window_log {
        e.set_parameter(CParameter::WindowLog(log))?;
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.truncate(n);
        v
    }

    fn text(n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 32);
        let mut i = 0u64;
        while v.len() < n {
            v.extend_from_slice(format!("line {i}\n").as_bytes());
            i += 1;
        }
        v.truncate(n);
        v
    }

    fn pack(data: &[u8], workers: u32, write: usize) -> (Vec<u8>, u64) {
        let mut z =
            ZstdSegments::new(Vec::new(), raw_encoder(3, workers, 2 << 20, None).unwrap()).unwrap();
        for c in data.chunks(write.max(1)) {
            z.write_all(c).unwrap();
        }
        z.flush().unwrap();
        let stored = z.stored_segments();
        (z.finish().unwrap(), stored)
    }

    fn unpack(packed: &[u8]) -> Vec<u8> {
        let mut d = zstd::stream::read::Decoder::new(packed).unwrap();
        d.window_log_max(super::super::ZSTD_WINDOW_LOG_MAX).unwrap();
        let mut out = Vec::new();
        io::Read::read_to_end(&mut d, &mut out).unwrap();
        out
    }

    /// Noise, text, noise, a text tail: 7.5 MiB, not on segment boundaries.
    fn mixed() -> Vec<u8> {
        let mut v = noise(3 * SEGMENT + 1000, 1);
        v.extend(text(2 * SEGMENT));
        v.extend(noise(2 * SEGMENT, 2));
        v.extend(text(SEGMENT / 2));
        v
    }

    #[test]
    fn incompressible_segments_are_stored_and_everything_reads_back() {
        let data = mixed();
        let (packed, stored) = pack(&data, 2, 1 << 16);
        assert!(unpack(&packed) == data);
        // Segments 0-2 are noise, 3 starts with 1000 bytes of noise then text, 4 is text, 5 text
        // then noise, 6 noise, 7 the tail: the three pure-noise ones and the one mostly noise are
        // stored; the two with text in their sample and the tail are compressed.
        assert_eq!(stored, 4, "stored segments");
        // Stored costs 3 bytes a block and 7 a frame; text compresses.
        let noise_bytes = 5 * SEGMENT + 1000;
        assert!(packed.len() < noise_bytes + SEGMENT / 2, "{}", packed.len());
        // Pure text stores nothing and compresses as before.
        let t = text(4 * SEGMENT);
        let (packed, stored) = pack(&t, 2, 1 << 20);
        assert_eq!(stored, 0);
        assert!(packed.len() < t.len() / 4);
        assert!(unpack(&packed) == t);
    }

    #[test]
    fn the_bytes_depend_only_on_the_input() {
        let data = mixed();
        let (one, _) = pack(&data, 1, SEGMENT);
        for (workers, write) in [(2, 10_000), (4, 1), (3, 3 << 20)] {
            let (other, _) = pack(&data[..], workers, write);
            assert!(other == one, "{workers} workers, writes of {write} bytes");
        }
    }

    #[test]
    fn edges_read_back() {
        // Nothing at all: one empty frame, as zstd writes it.
        let (packed, _) = pack(&[], 2, 1);
        assert!(!packed.is_empty());
        assert!(unpack(&packed).is_empty());
        // Noise of exactly whole segments: stored frames only, ended properly.
        let n = noise(2 * SEGMENT, 3);
        let (packed, stored) = pack(&n, 2, 4096);
        assert_eq!(stored, 2);
        assert_eq!(
            packed.len(),
            n.len() + 6 + 3 * (2 * SEGMENT / STORED_BLOCK) + 3
        );
        assert!(unpack(&packed) == n);
        // Less than a segment of noise is compressed (zstd stores it in its own raw blocks).
        let small = noise(SEGMENT - 1, 4);
        let (packed, stored) = pack(&small, 2, 4096);
        assert_eq!(stored, 0);
        assert!(unpack(&packed) == small);
    }
}
