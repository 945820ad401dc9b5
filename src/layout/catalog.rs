//! The catalog: what one scan of a bundle found, before the graph is evaluated.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::Arc;

use crate::digest::{read_chunks, Digest, Hasher, CHUNK};
use crate::finding::Finding;

use super::Limits;
pub use crate::archive::{BundleFormat, NoProgress, Progress};

/// How to scan.
#[derive(Clone)]
pub struct ScanOptions {
    /// Recompute every blob digest (verify). `inspect` turns this off.
    pub hash: bool,
    /// Resource limits.
    pub limits: Limits,
    /// Progress sink.
    pub progress: Arc<dyn Progress>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            hash: true,
            limits: Limits::default(),
            progress: Arc::new(NoProgress),
        }
    }
}

/// What is known of a blob's content beyond its hash.
#[derive(Clone, Debug)]
pub enum Content {
    /// Small JSON, kept: manifests, indexes, configs, JWS envelopes.
    Json(Arc<[u8]>),
    /// Small non-JSON content, kept: blobs up to 64 KiB, and COSE-looking blobs up to the manifest
    /// limit (signature envelopes).
    Bytes(Arc<[u8]>),
    /// Small content that does not parse as JSON, with the parser's message.
    NotJson(String),
    /// Larger than the manifest size limit: never parsed.
    TooLarge,
    /// Not kept because the retention budget ran out.
    NotRetained,
    /// Not read at all (directory scans only): its size already contradicts every descriptor
    /// naming it, or, without hashing (`inspect`), nothing needs its content. Blobs over the
    /// manifest size limit that are not read are `TooLarge` instead.
    NotRead,
}

/// One blob found in the bundle.
#[derive(Clone, Debug)]
pub struct BlobEntry {
    /// Its length in bytes.
    pub size: u64,
    /// The digest recomputed from its content (with the algorithm of its name), if hashed.
    pub actual: Option<Digest>,
    /// What its content looks like.
    pub content: Content,
}

impl BlobEntry {
    /// True when the blob was hashed and its content does not match its name.
    pub fn mismatches(&self, name: &Digest) -> bool {
        self.actual.as_ref().is_some_and(|a| a != name)
    }
}

/// A small file (`oci-layout`, `index.json`).
#[derive(Clone, Debug)]
pub enum Small {
    /// Its bytes.
    Bytes(Vec<u8>),
    /// It is larger than the limit (its size).
    TooLarge(u64),
}

impl Small {
    /// The bytes, unless the file was too large.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Small::Bytes(b) => Some(b),
            Small::TooLarge(_) => None,
        }
    }
}

/// Everything one scan found.
#[derive(Debug)]
pub struct Catalog {
    /// The bundle's physical form.
    pub format: BundleFormat,
    /// `oci-layout`, if present.
    pub oci_layout: Option<Small>,
    /// `index.json`, if present.
    pub index_json: Option<Small>,
    /// Every blob by the digest its name states.
    pub blobs: BTreeMap<Digest, BlobEntry>,
    /// Failures found while scanning (hostile entries, corrupt archive).
    pub failures: Vec<Finding>,
    /// Warnings found while scanning (stray files).
    pub warnings: Vec<Finding>,
    /// A tarball: its end-of-archive marker was read (what follows in the stream is no content of
    /// the bundle). Always false for a directory.
    pub archive_ended: bool,
    /// Whether blob digests were recomputed.
    pub hashed: bool,
    /// The sha256 of the bundle file's own bytes (tarballs read whole; `None` for a directory).
    pub file_digest: Option<Digest>,
    /// The blobs [`Catalog::fill_from`] took from a base (`verify --base`): not the bundle's
    /// own, so one nothing references is no stray of the bundle.
    pub from_base: std::collections::BTreeSet<Digest>,
    retained: u64,
    retained_der: u64,
}

impl Catalog {
    /// Adds every blob of `base` this catalog lacks, when `base` hashed it and its content matches
    /// its name (`verify --base`: the blobs a differential bundle left out, from an earlier bundle
    /// or layout). Returns how many were added. A blob this catalog holds is never replaced.
    pub fn fill_from(&mut self, base: &Catalog) -> u64 {
        let mut added = 0u64;
        for (d, entry) in &base.blobs {
            if entry.actual.as_ref() != Some(d) || self.blobs.contains_key(d) {
                continue;
            }
            self.blobs.insert(d.clone(), entry.clone());
            self.from_base.insert(d.clone());
            added += 1;
        }
        added
    }

    /// An empty catalog.
    pub fn new(format: BundleFormat, hashed: bool) -> Self {
        Catalog {
            format,
            oci_layout: None,
            index_json: None,
            blobs: BTreeMap::new(),
            failures: Vec::new(),
            warnings: Vec::new(),
            archive_ended: false,
            hashed,
            file_digest: None,
            from_base: std::collections::BTreeSet::new(),
            retained: 0,
            retained_der: 0,
        }
    }

    /// Adds a blob, charging kept content to its retention budget ([`share_of`]).
    pub(crate) fn insert(&mut self, d: Digest, mut e: BlobEntry, limits: &Limits) {
        if let Some((share, kept)) = share_of(&e.content) {
            let (used, max) = match share {
                Share::Documents => (&mut self.retained, limits.max_retained_json),
                Share::Der => (&mut self.retained_der, limits.max_retained_der),
            };
            if used.saturating_add(kept) > max {
                e.content = Content::NotRetained;
            } else {
                *used += kept;
            }
        }
        self.blobs.insert(d, e);
    }

    /// Total bytes of the blobs found.
    pub fn total_bytes(&self) -> u64 {
        self.blobs.values().map(|b| b.size).sum()
    }
}

/// Which retention budget kept content is charged to.
#[derive(Clone, Copy)]
enum Share {
    /// JSON documents, envelopes and small binaries: [`Limits::max_retained_json`].
    Documents,
    /// A DER part over [`KEEP_BYTES`] (a CRL): [`Limits::max_retained_der`], so that DER-shaped
    /// blobs (a carrier's, or an artifact's layers) never take the documents' share.
    Der,
}

/// The budget `content` is charged to and its size; `None` when nothing is kept.
fn share_of(content: &Content) -> Option<(Share, u64)> {
    let (Content::Json(b) | Content::Bytes(b)) = content else {
        return None;
    };
    let kept = u64::try_from(b.len()).unwrap_or(u64::MAX);
    let der = matches!(content, Content::Bytes(_)) && b.len() > KEEP_BYTES && is_der_sequence(b);
    Some((if der { Share::Der } else { Share::Documents }, kept))
}

/// The retention budgets shared by the threads of a directory scan: content is charged as each
/// blob is read, so that what a scan holds never exceeds [`Limits::max_retained_json`] and
/// [`Limits::max_retained_der`] (plus the blobs being read), whatever the bundle holds. Content
/// charged here is charged again, within the same totals, by [`Catalog::insert`].
pub(crate) struct Retention {
    used: std::sync::atomic::AtomicU64,
    max: u64,
    used_der: std::sync::atomic::AtomicU64,
    max_der: u64,
}

impl Retention {
    /// Budgets of `limits.max_retained_json` and `limits.max_retained_der` bytes.
    pub(crate) fn new(limits: &Limits) -> Self {
        Retention {
            used: std::sync::atomic::AtomicU64::new(0),
            max: limits.max_retained_json,
            used_der: std::sync::atomic::AtomicU64::new(0),
            max_der: limits.max_retained_der,
        }
    }

    /// Keeps the content of `e` when its budget allows, else drops it ([`Content::NotRetained`]).
    pub(crate) fn charge(&self, e: &mut BlobEntry) {
        use std::sync::atomic::Ordering;
        let Some((share, kept)) = share_of(&e.content) else {
            return;
        };
        let (used, max) = match share {
            Share::Documents => (&self.used, self.max),
            Share::Der => (&self.used_der, self.max_der),
        };
        let granted = used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                u.checked_add(kept).filter(|total| *total <= max)
            })
            .is_ok();
        if !granted {
            e.content = Content::NotRetained;
        }
    }
}

/// Largest non-JSON blob kept in memory (signature envelopes are a few KiB).
const KEEP_BYTES: usize = 64 << 10;

/// Reads one blob of `size` bytes (as declared by the file system or the tar header), hashing it
/// when `hash` is set and keeping small content. Memory stays at one buffer for large blobs.
pub(crate) fn read_blob<R: Read + ?Sized>(
    name: &Digest,
    size: u64,
    r: &mut R,
    hash: bool,
    limits: &Limits,
    advance: &mut dyn FnMut(u64),
) -> io::Result<BlobEntry> {
    let max = usize::try_from(limits.max_manifest_bytes).unwrap_or(usize::MAX);
    let mut hasher = hash.then(|| Hasher::new(name.algorithm()));
    let expected = usize::try_from(size).unwrap_or(usize::MAX);
    let mut keep = (expected <= max).then(|| Vec::with_capacity(expected));
    let mut buf = vec![0u8; CHUNK.min(expected.max(4096).saturating_add(1))];
    let total = read_chunks(r, &mut buf, |chunk| {
        if let Some(h) = hasher.as_mut() {
            h.update(chunk);
        }
        if let Some(k) = keep.as_mut() {
            if k.len() + chunk.len() <= max {
                k.extend_from_slice(chunk);
            } else {
                keep = None;
            }
        }
        advance(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
    })?;
    Ok(BlobEntry {
        size: total,
        actual: hasher.map(|h| h.finish().0),
        content: keep.map_or(Content::TooLarge, probe),
    })
}

/// True when `buf` is exactly one DER `SEQUENCE` (its header's length spans the rest): the shape
/// of a CRL or a certificate. Random or compressed layer content has this shape by chance
/// with negligible probability, so such blobs are not kept by mistake.
fn is_der_sequence(buf: &[u8]) -> bool {
    let Some((&0x30, rest)) = buf.split_first() else {
        return false;
    };
    let Some((&first, rest)) = rest.split_first() else {
        return false;
    };
    if first < 0x80 {
        return usize::from(first) == rest.len();
    }
    let n = usize::from(first & 0x7f);
    // Long form: 1 to 4 length octets, minimal (DER), the first not zero.
    if !(1..=4).contains(&n) || rest.len() < n || rest.first() == Some(&0) {
        return false;
    }
    let (len, body) = rest.split_at(n);
    let len = len.iter().fold(0usize, |v, b| (v << 8) | usize::from(*b));
    len >= 0x80 && len == body.len()
}

fn probe(buf: Vec<u8>) -> Content {
    let first = buf.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{') | Some(b'[')) {
        match serde_json::from_slice::<serde::de::IgnoredAny>(&buf) {
            Ok(_) => Content::Json(buf.into()),
            Err(e) => Content::NotJson(e.to_string()),
        }
    } else if buf.len() <= KEEP_BYTES
        || matches!(buf.first(), Some(0xd2) | Some(0x84))
        || is_der_sequence(&buf)
    {
        // Small content, what may be a COSE_Sign1 envelope (CBOR tag 18 or a bare 4-array), or
        // one DER SEQUENCE (a CRL or certificate of the trust artifact): kept so that signatures
        // verify, and the trust artifact is read, in the same single pass.
        Content::Bytes(buf.into())
    } else {
        Content::NotJson("content is not JSON".into())
    }
}

/// Reads a small file up to `cap` bytes.
pub(crate) fn read_small<R: Read + ?Sized>(r: &mut R, cap: u64) -> io::Result<Small> {
    match super::read_capped(&mut *r, cap)? {
        Some(buf) => Ok(Small::Bytes(buf)),
        None => {
            let rest = io::copy(r, &mut io::sink())?;
            Ok(Small::TooLarge(cap.saturating_add(1).saturating_add(rest)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der_of(len: usize) -> Vec<u8> {
        let mut v = vec![0x30];
        if len < 0x80 {
            v.push(u8::try_from(len).unwrap());
        } else {
            let bytes = u32::try_from(len).unwrap().to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            v.push(0x80 | u8::try_from(4 - skip).unwrap());
            v.extend_from_slice(&bytes[skip..]);
        }
        v.resize(v.len() + len, 0x5a);
        v
    }

    #[test]
    fn a_large_der_sequence_is_kept_and_other_large_binary_content_is_not() {
        for len in [0, 5, 0x7f, 0x80, 0xff, 0x100, 70 << 10, 460_146, 3 << 20] {
            let der = der_of(len);
            assert!(is_der_sequence(&der), "{len}");
            if der.len() > KEEP_BYTES {
                assert!(matches!(probe(der.clone()), Content::Bytes(_)), "{len}");
                // One byte more or less than the header says: not one DER value, not kept.
                let mut longer = der.clone();
                longer.push(0);
                assert!(!is_der_sequence(&longer));
                assert!(matches!(probe(longer), Content::NotJson(_)));
                let shorter = &der[..der.len() - 1];
                assert!(!is_der_sequence(shorter));
            }
        }
        // Non-minimal long form, indefinite length, another tag, too many length octets.
        assert!(!is_der_sequence(&[0x30, 0x81, 0x05, 1, 2, 3, 4, 5]));
        assert!(!is_der_sequence(&[0x30, 0x80, 0, 0]));
        assert!(!is_der_sequence(&[0x31, 0x01, 0]));
        assert!(!is_der_sequence(&[0x30, 0x85, 0, 0, 0, 0, 1, 0]));
        assert!(!is_der_sequence(&[0x30, 0x82, 0x00, 0x80]));
        assert!(!is_der_sequence(&[]));
        assert!(!is_der_sequence(&[0x30]));
        let junk = vec![0x1f; 100 << 10];
        assert!(matches!(probe(junk), Content::NotJson(_)));
    }

    fn entry(content: Vec<u8>) -> BlobEntry {
        BlobEntry {
            size: u64::try_from(content.len()).unwrap(),
            actual: None,
            content: probe(content),
        }
    }

    #[test]
    fn der_parts_have_a_budget_of_their_own_and_never_take_the_documents_share() {
        let limits = Limits::default();
        let json = |n: usize| {
            let mut v = b"[".to_vec();
            v.resize(n - 1, b' ');
            v.push(b']');
            v
        };
        let der = |seed: u8| {
            let mut v = der_of(3 << 20);
            v[10] = seed;
            v
        };
        // In a tarball's single pass (Catalog::insert) ...
        let mut cat = Catalog::new(BundleFormat::Tar, true);
        for i in 0..4u8 {
            let d = Digest::sha256(&[i]);
            cat.insert(d, entry(der(i)), &limits);
        }
        let kept_der = cat
            .blobs
            .values()
            .filter(|b| matches!(b.content, Content::Bytes(_)))
            .count();
        assert_eq!(kept_der, 2, "8 MiB of 3 MiB DER parts");
        for i in 10..13u8 {
            let d = Digest::sha256(&[i]);
            cat.insert(d.clone(), entry(json(4 << 20)), &limits);
            assert!(matches!(cat.blobs[&d].content, Content::Json(_)), "{i}");
        }
        // ... and in a directory scan's shared budget (Retention::charge).
        let budget = Retention::new(&limits);
        let mut kept = 0;
        for i in 0..4u8 {
            let mut e = entry(der(i));
            budget.charge(&mut e);
            kept += usize::from(matches!(e.content, Content::Bytes(_)));
        }
        assert_eq!(kept, 2);
        let mut e = entry(json(4 << 20));
        budget.charge(&mut e);
        assert!(matches!(e.content, Content::Json(_)));
    }
}
