//! Writing tarballs: entry headers with nothing from the machine in them (mtime 0, uid/gid 0, no
//! user names), the compression, and the file written under a temporary name and renamed into
//! place. The entries and their order are the caller's (`layout::write_layout_tar`).

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::stored::{raw_encoder, ZstdSegments};

/// Compression of a written tarball.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip (level 6).
    Gzip,
    /// zstd (level 3).
    Zstd,
}

impl Compression {
    /// Picks the compression from an output file name (`.tar.zst`, `.tar.gz`/`.tgz`, else none).
    pub fn from_file_name(p: &Path) -> Self {
        let s = p.to_string_lossy();
        if s.ends_with(".zst") || s.ends_with(".tzst") {
            Compression::Zstd
        } else if s.ends_with(".gz") || s.ends_with(".tgz") {
            Compression::Gzip
        } else {
            Compression::None
        }
    }
}

/// Most zstd workers an export uses. Each holds about two jobs of input and output, so a many-core
/// machine would otherwise buy speed it cannot use with memory it must not spend (peak RSS stays
/// under 128 MiB).
pub const MAX_ZSTD_WORKERS: u32 = 4;

/// Bytes of input in one zstd job: one window at level 3 (2 MiB), not zstd's default of four.
/// Its buffers grow with the job (input ring of `job * (workers + 3)`, one output per job in
/// flight): on 2 cores the export of a 1 GiB image into `.tar.zst` peaked at 123 MiB with the
/// default 8 MiB jobs and at 43 MiB with 2 MiB ones, in the same time (`scripts/bench.sh`). Fixed,
/// so the bytes written do not depend on the machine.
pub const ZSTD_JOB_SIZE: u32 = 2 << 20;

/// zstd workers for this machine: its cores, at most [`MAX_ZSTD_WORKERS`], at least 1.
///
/// The count never changes the bytes: with one worker or more, zstd cuts the input into the same
/// jobs and writes the same frame whatever the number of threads compressing them (only its
/// single-threaded mode, zero workers, writes a different stream), so exports stay byte-identical
/// across machines and runs (`zstd_output_does_not_depend_on_the_workers`).
pub fn zstd_workers() -> u32 {
    std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get()).unwrap_or(MAX_ZSTD_WORKERS))
        .unwrap_or(1)
        .clamp(1, MAX_ZSTD_WORKERS)
}

/// A multi-threaded zstd encoder at `level` with `workers` background threads (at least 1) that
/// stores what does not compress ([`ZstdSegments`]): one standard frame sequence, which `zstd -d`
/// reads.
pub fn zstd_encoder<W: Write>(w: W, level: i32, workers: u32) -> io::Result<ZstdSegments<W>> {
    // Levels 21 and 22 would declare a window that reading refuses (memory bound).
    let window = (level > 19).then_some(super::ZSTD_WINDOW_LOG_MAX);
    ZstdSegments::new(w, raw_encoder(level, workers, ZSTD_JOB_SIZE, window)?)
}

/// A tarball's compressor over `W`: none, gzip (level 6) or multi-threaded zstd ([`zstd_encoder`]
/// on [`zstd_workers`]). Every tarball airlock writes goes through this one (export's sink, the
/// generator's `write_tar_atomic`), so equal entries make equal bytes.
pub enum Encoder<W: Write> {
    /// Plain tar.
    Plain(W),
    /// gzip.
    Gzip(flate2::write::GzEncoder<W>),
    /// zstd.
    Zstd(ZstdSegments<W>),
}

impl<W: Write> Encoder<W> {
    /// A compressor of kind `c` writing to `w`; `zstd_level` is used for zstd only.
    pub fn new(w: W, c: Compression, zstd_level: i32) -> io::Result<Self> {
        Ok(match c {
            Compression::None => Encoder::Plain(w),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::new(6),
            )),
            // Compression on the machine's cores (at most MAX_ZSTD_WORKERS), off the threads
            // that fetch and hash; the bytes do not depend on the worker count.
            Compression::Zstd => Encoder::Zstd(zstd_encoder(w, zstd_level, zstd_workers())?),
        })
    }

    /// Writes the compressor's end and returns the writer underneath.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Plain(w) => Ok(w),
            Encoder::Gzip(w) => w.finish(),
            Encoder::Zstd(w) => w.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(w) => w.write(buf),
            Encoder::Gzip(w) => w.write(buf),
            Encoder::Zstd(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.flush(),
            Encoder::Gzip(w) => w.flush(),
            Encoder::Zstd(w) => w.flush(),
        }
    }
}

/// A header with nothing from the machine in it: `kind`, `size`, `mode`, mtime 0, uid/gid 0.
pub fn tar_header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// Writes a tarball at `out`, compressed as asked, with the entries `fill` appends: to a temporary
/// name beside `out` (synced), renamed into place when complete, removed on failure.
pub fn write_tar_atomic(
    out: &Path,
    compression: Compression,
    fill: &dyn Fn(&mut tar::Builder<&mut dyn Write>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.airlock-tmp-{}", std::process::id()));
    let result = (|| {
        let f = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        let mut e = Encoder::new(f, compression, 3)?;
        {
            // The tar's closing blocks are written by `into_inner`, before the compressor finishes.
            let w: &mut dyn Write = &mut e;
            let mut b = tar::Builder::new(w);
            fill(&mut b)?;
            b.into_inner()?;
        }
        let f = e.finish()?;
        f.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    match result {
        Ok(()) => fs::rename(&tmp, out),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 24 MiB, half incompressible, half text: several zstd jobs.
    fn sample() -> Vec<u8> {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut v = Vec::with_capacity(24 << 20);
        while v.len() < 12 << 20 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.extend_from_slice(&x.to_le_bytes());
        }
        let mut i = 0u64;
        while v.len() < 24 << 20 {
            v.extend_from_slice(format!("line {i}\n").as_bytes());
            i += 1;
        }
        v
    }

    fn compress(data: &[u8], workers: u32, chunk: usize) -> Vec<u8> {
        let mut e = zstd_encoder(Vec::new(), 3, workers).unwrap();
        for c in data.chunks(chunk) {
            e.write_all(c).unwrap();
        }
        e.finish().unwrap()
    }

    #[test]
    fn zstd_output_does_not_depend_on_the_workers() {
        let data = sample();
        let one = compress(&data, 1, 1 << 20);
        for (workers, chunk) in [(2, 1 << 20), (4, 1 << 20), (2, 10_000), (3, 4 << 20)] {
            assert!(
                compress(&data, workers, chunk) == one,
                "{workers} workers, writes of {chunk} bytes"
            );
        }
        // Not what the single-threaded mode writes: the worker count is what matters, not luck.
        let mut st = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        st.write_all(&data).unwrap();
        assert!(st.finish().unwrap() != one);
        assert!(zstd::stream::decode_all(&one[..]).unwrap() == data);
        assert!((1..=MAX_ZSTD_WORKERS).contains(&zstd_workers()));
    }

    #[test]
    fn every_level_writes_a_window_that_reading_accepts() {
        // Text, so that the compressor runs (incompressible segments are stored).
        let data = sample();
        let data = data.get(12 << 20..13 << 20).unwrap();
        for level in [3, 19, 22] {
            let mut e = zstd_encoder(Vec::new(), level, 1).unwrap();
            e.write_all(data).unwrap();
            let packed = e.finish().unwrap();
            let mut d = zstd::stream::read::Decoder::new(&packed[..]).unwrap();
            d.window_log_max(super::super::ZSTD_WINDOW_LOG_MAX).unwrap();
            let mut out = Vec::new();
            io::Read::read_to_end(&mut d, &mut out).unwrap();
            assert!(out == data, "level {level}");
        }
    }

    #[test]
    fn the_zstd_command_reads_the_multi_threaded_stream() {
        let zstd_bin = std::path::Path::new("/usr/bin/zstd");
        if !zstd_bin.exists() {
            eprintln!("skipped: no /usr/bin/zstd");
            return;
        }
        let data = sample();
        let packed = compress(&data, zstd_workers().max(2), 1 << 16);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.zst");
        std::fs::write(&p, &packed).unwrap();
        let out = std::process::Command::new(zstd_bin)
            .arg("-dc")
            .arg(&p)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout == data);
    }
}
