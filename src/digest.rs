//! Checked content digests and streaming hashing.
//!
//! A [`Digest`] can only be built by [`Digest::parse`], which enforces the OCI grammar and, for the
//! algorithms airlock supports (`sha256`, `sha512`), lowercase hex of the exact length. That makes a
//! `Digest` safe to turn into a blob path (see [`crate::layout::blob_path`]): it never contains `/`,
//! `..` or anything but `[a-z0-9]` and `:`.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use aws_lc_rs::digest as lc;

/// A digest algorithm airlock can recompute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// SHA-256, the OCI default.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// The algorithm's name as it appears in a digest string.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Number of hex characters in an encoded digest of this algorithm.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    /// Looks an algorithm up by its name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    fn lc(self) -> &'static lc::Algorithm {
        match self {
            Algorithm::Sha256 => &lc::SHA256,
            Algorithm::Sha512 => &lc::SHA512,
        }
    }
}

/// Why a digest string was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The string does not follow `algorithm ":" encoded` (OCI image-spec, descriptor.md).
    #[error("malformed digest {0:?}: expected <algorithm>:<encoded>")]
    Malformed(String),
    /// The algorithm is well formed but not one airlock can recompute.
    #[error("unsupported digest algorithm {0:?}: only sha256 and sha512 can be verified")]
    UnsupportedAlgorithm(String),
    /// The encoded part is not lowercase hex of the algorithm's length.
    #[error("invalid {alg} digest {digest:?}: expected {len} lowercase hex characters")]
    BadEncoding {
        /// The algorithm.
        alg: &'static str,
        /// The offending digest string (truncated to 200 characters).
        digest: String,
        /// Expected number of hex characters.
        len: usize,
    },
}

impl DigestError {
    /// True when the digest is well formed but uses an algorithm airlock does not support.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, DigestError::UnsupportedAlgorithm(_))
    }
}

/// A checked digest: a supported algorithm and lowercase hex of the right length.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    alg: Algorithm,
    hex: String,
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

impl Digest {
    /// Parses and checks a digest string.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let Some((alg, enc)) = s.split_once(':') else {
            return Err(DigestError::Malformed(clip(s)));
        };
        // OCI grammar: algorithm-component ([a-z0-9]+) joined by [+._-]; encoded [a-zA-Z0-9=_-]+.
        let alg_ok = !alg.is_empty()
            && alg.split(['+', '.', '_', '-']).all(|c| {
                !c.is_empty()
                    && c.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        let enc_ok = !enc.is_empty()
            && enc
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'=' || b == b'_' || b == b'-');
        if !alg_ok || !enc_ok {
            return Err(DigestError::Malformed(clip(s)));
        }
        let Some(algorithm) = Algorithm::from_name(alg) else {
            return Err(DigestError::UnsupportedAlgorithm(clip(alg)));
        };
        if enc.len() != algorithm.hex_len()
            || !enc
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DigestError::BadEncoding {
                alg: algorithm.name(),
                digest: clip(s),
                len: algorithm.hex_len(),
            });
        }
        Ok(Digest {
            alg: algorithm,
            hex: enc.to_owned(),
        })
    }

    /// Builds a digest from an algorithm and raw hash bytes.
    pub fn from_bytes(alg: Algorithm, bytes: &[u8]) -> Self {
        Digest {
            alg,
            hex: to_hex(bytes),
        }
    }

    /// Hashes a byte slice.
    pub fn of(alg: Algorithm, data: &[u8]) -> Self {
        Self::from_bytes(alg, lc::digest(alg.lc(), data).as_ref())
    }

    /// The SHA-256 digest of a byte slice.
    pub fn sha256(data: &[u8]) -> Self {
        Self::of(Algorithm::Sha256, data)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The encoded (hex) part.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.alg.name(), self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Lowercase hex encoding.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// An incremental hasher for one algorithm.
pub struct Hasher {
    alg: Algorithm,
    ctx: lc::Context,
    len: u64,
}

impl Hasher {
    /// Starts hashing with `alg`.
    pub fn new(alg: Algorithm) -> Self {
        Hasher {
            alg,
            ctx: lc::Context::new(alg.lc()),
            len: 0,
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
        self.len = self
            .len
            .saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
    }

    /// Number of bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was fed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Finishes and returns the digest and the number of bytes hashed.
    pub fn finish(self) -> (Digest, u64) {
        let d = self.ctx.finish();
        (Digest::from_bytes(self.alg, d.as_ref()), self.len)
    }
}

/// Size of the buffers used to stream blobs.
pub const CHUNK: usize = 1 << 20;

/// Hashes everything `r` yields, calling `progress` with the size of each chunk.
///
/// Memory use is one [`CHUNK`] whatever the input size.
pub fn hash_reader<R: Read + ?Sized>(
    alg: Algorithm,
    r: &mut R,
    progress: &mut dyn FnMut(u64),
) -> io::Result<(Digest, u64)> {
    let mut h = Hasher::new(alg);
    let mut buf = vec![0u8; CHUNK];
    read_chunks(r, &mut buf, |chunk| {
        h.update(chunk);
        progress(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
    })?;
    Ok(h.finish())
}

/// Reads `r` to its end through `buf`, handing each chunk read to `f` (an interrupted read is
/// retried): the one read loop of [`hash_reader`] and the scan's blob reader. Returns the bytes
/// read.
pub fn read_chunks<R: Read + ?Sized>(
    r: &mut R,
    buf: &mut [u8],
    mut f: impl FnMut(&[u8]),
) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        let n = match r.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        f(buf.get(..n).unwrap_or_default());
        total = total.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
    }
}

/// The one hash-while-copying wrapper: every byte `inner` accepts is hashed (only what it accepts,
/// so a short write hashes the written prefix). The layout writer, export's blob copies and the
/// tar sink's output hash through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    /// Hashes with `alg` what is written to `inner`.
    pub fn new(inner: W, alg: Algorithm) -> Self {
        HashingWriter {
            inner,
            hasher: Hasher::new(alg),
        }
    }

    /// Number of bytes written so far.
    pub fn len(&self) -> u64 {
        self.hasher.len()
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.hasher.is_empty()
    }

    /// The wrapped writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The wrapped writer, and the digest and size of what was written to it.
    pub fn finish(self) -> (W, Digest, u64) {
        let (d, n) = self.hasher.finish();
        (self.inner, d, n)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_and_displays() {
        let d = Digest::parse(EMPTY).unwrap();
        assert_eq!(d.to_string(), EMPTY);
        assert_eq!(Digest::sha256(b""), d);
    }

    #[test]
    fn rejects_bad_grammar() {
        for s in [
            "",
            "sha256",
            ":abc",
            "sha256:",
            "SHA256:ab",
            "sha256:../../etc/passwd",
            "sha256:a/b",
        ] {
            assert!(Digest::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn rejects_uppercase_and_wrong_length() {
        let upper = EMPTY.to_uppercase().replace("SHA256", "sha256");
        assert!(matches!(
            Digest::parse(&upper),
            Err(DigestError::BadEncoding { .. })
        ));
        assert!(matches!(
            Digest::parse("sha256:abcd"),
            Err(DigestError::BadEncoding { .. })
        ));
        assert!(matches!(
            Digest::parse(&format!("sha512:{}", &EMPTY[7..])),
            Err(DigestError::BadEncoding { .. })
        ));
    }

    #[test]
    fn unsupported_algorithm_is_distinct() {
        let e = Digest::parse("md5:d41d8cd98f00b204e9800998ecf8427e").unwrap_err();
        assert!(e.is_unsupported());
        assert!(Digest::parse("sha384:00").unwrap_err().is_unsupported());
    }

    #[test]
    fn sha512_roundtrip() {
        let d = Digest::of(Algorithm::Sha512, b"abc");
        assert_eq!(d.hex().len(), 128);
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
    }

    #[test]
    fn hash_reader_counts() {
        let data = vec![7u8; CHUNK * 2 + 3];
        let mut seen = 0;
        let (d, n) = hash_reader(Algorithm::Sha256, &mut &data[..], &mut |k| seen += k).unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(seen, n);
        assert_eq!(d, Digest::sha256(&data));
    }
}
