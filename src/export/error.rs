//! Why an export failed: [`ExportError`], whose variants carry typed payloads (the registry's own
//! error, the I/O error with the path it concerns, an enum of refusal reasons), never a message
//! made into a string on the way up.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::digest::{Digest, DigestError};
use crate::finding::{Code, Finding};

use super::staging::LockError;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A bad argument.
    #[error("{0}")]
    Usage(Usage),
    /// The export signature could not be made (`--sign-key`): nothing was written.
    #[error("signing the trust artifact: {0}")]
    Sign(crate::sign::Error),
    /// The source could not be read.
    #[error("source: {0}")]
    Source(SourceError),
    /// Content from the source does not match its descriptor.
    #[error("{digest}: {problem}")]
    Mismatch {
        /// The descriptor's digest (as written there, even when malformed).
        digest: String,
        /// What differs.
        problem: Mismatch,
    },
    /// The output could not be written.
    #[error("output {}: {source}", path.display())]
    Output {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A captured signature failed verification (and `--allow-failed-signatures` was not given).
    #[error("signature verification failed before writing: {0}")]
    Signatures(Failures),
    /// `--require-signature` and an image has no signature: the image's reference.
    #[error("{0} has no notation signature (--require-signature)")]
    Unsigned(String),
    /// The output exists and is not something airlock may replace without `--force`.
    #[error("refusing to replace {}: {why}", path.display())]
    Refused {
        /// The output.
        path: PathBuf,
        /// What it is.
        why: Refusal,
    },
    /// Another export holds the output's lock.
    #[error("{0}")]
    Busy(LockError),
    /// stdout is closed or its reader went away.
    #[error("{0}")]
    StdoutClosed(Stdout),
    /// What the export read is not what was checked before it ([`super::ExportOptions::checked`]):
    /// each difference. Nothing was written.
    #[error("a source changed while it was exported: {} difference(s) from what was checked", .0.len())]
    Raced(Vec<super::lock::Difference>),
}

/// A bad argument or a source that cannot be opened as asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Usage {
    /// Not one of the source forms.
    #[error("{given:?} is not a source: use REGISTRY/REPO:TAG, REGISTRY/REPO@DIGEST, oci:PATH[:TAG|@DIGEST] or oci-archive:FILE")]
    NotASource {
        /// The argument.
        given: String,
    },
    /// `--split` with a directory or stdout as output.
    #[error("--split needs a tarball file as output (-o NAME.tar, .tar.gz or .tar.zst), not a directory or stdout")]
    SplitNeedsTarball,
    /// A file sink was opened without [`super::prepare`] (a bug of the caller).
    #[error("internal: the output was not prepared")]
    NotPrepared,
    /// A registry source and no registry client.
    #[error("no registry client")]
    NoRegistryClient,
    /// A registry reference that does not parse.
    #[cfg(feature = "pull")]
    #[error("{0}")]
    Reference(crate::registry::RegistryError),
    /// The bundle's `index.json` would be larger than `verify` reads (too many images, or one
    /// source listed many times).
    #[error("index.json would be {size} bytes, more than the {limit} bytes verify reads: export fewer images per bundle")]
    IndexTooLarge {
        /// Its size.
        size: usize,
        /// What verify reads.
        limit: u64,
    },
    /// The trust artifact's export record (or its manifest) would be larger than `verify` reads
    /// ([`crate::layout::Limits::max_manifest_bytes`]): a bundle its own verify refuses is not
    /// written.
    #[error("the {what} would be {size} bytes, more than the {limit} bytes verify reads: it lists {images} image(s) with {referrers} referrer(s), and {left_out} blob(s) left out by --since with {repositories} repository name(s) from the inventories; export fewer images per bundle, or give inventories that list fewer repositories")]
    RecordTooLarge {
        /// "export record" or "trust artifact manifest".
        what: &'static str,
        /// Its size.
        size: usize,
        /// What verify reads.
        limit: u64,
        /// Images recorded.
        images: usize,
        /// Referrers recorded, over every image.
        referrers: usize,
        /// Blobs recorded as left out.
        left_out: usize,
        /// Repository names recorded with them.
        repositories: usize,
    },
    /// A CRL given with `--crl` is larger than a bundle carries (what `verify` holds in memory
    /// for a trust-artifact part), or the CRLs together are.
    #[error("{what} is {size} bytes; a bundle carries CRLs of at most {limit} bytes each and {total_limit} bytes together (what verify holds in memory): give the far side this CRL with `verify --crl` instead (up to {crl_limit} bytes)")]
    CrlTooLargeToCarry {
        /// Which CRL (its digest), or "the CRLs together".
        what: String,
        /// Its size (or the total).
        size: usize,
        /// The per-CRL limit.
        limit: usize,
        /// The limit on all carried CRLs.
        total_limit: usize,
        /// What `--crl` accepts.
        crl_limit: usize,
    },
    /// A registry source in a build without the network side.
    #[error("{reference}: this airlock was built without the `pull` feature (no network code); use oci:PATH sources")]
    NoPull {
        /// The source as given.
        reference: String,
    },
}

/// Why a source could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The registry failed (after its retries).
    #[cfg(feature = "pull")]
    #[error("{0}")]
    Registry(crate::registry::RegistryError),
    /// A file of a local layout could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A file of a local layout could not be opened (a link, not a regular file, ...).
    #[error("{0}")]
    Open(crate::layout::OpenError),
    /// A manifest or `index.json` over the manifest limit.
    #[error("{} is larger than {cap} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        cap: u64,
    },
    /// A layout without the image asked for.
    #[error("{}: no image{}", root.display(), selector.as_ref().map(|s| format!(" named {s:?}")).unwrap_or_default())]
    NoImage {
        /// The layout.
        root: PathBuf,
        /// The tag or digest asked for.
        selector: Option<String>,
    },
    /// A layout with several images and no selector.
    #[error("{}: several images; name one with oci:PATH:TAG or oci:PATH@DIGEST", root.display())]
    SeveralImages {
        /// The layout.
        root: PathBuf,
    },
    /// A descriptor claims a blob larger than an export fetches ([`super::MAX_BLOB_BYTES`]).
    #[error("{digest}: the source claims {size} bytes, more than the {limit} an export fetches")]
    BlobTooLarge {
        /// The blob.
        digest: String,
        /// Its claimed size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// An image's indexes nest deeper than verification accepts ([`crate::layout::MAX_INDEX_DEPTH`]
    /// below `index.json`): the bundle would fail its own verify (`nesting_too_deep`), and a source
    /// could otherwise make the export follow a chain of indexes without end.
    #[error("{digest}: indexes nested deeper than {limit} (verification refuses such a bundle)")]
    NestedTooDeep {
        /// The index or manifest past the limit.
        digest: String,
        /// The limit.
        limit: usize,
    },
    /// An image's referrers go deeper or are more than export follows (a referrer of a referrer
    /// ... past [`super::MAX_REFERRER_DEPTH`], or over [`super::MAX_REFERRERS`] of one image).
    #[error("{subject}: referrers past the limit ({what})")]
    TooManyReferrers {
        /// The subject whose referrers went past the limit.
        subject: String,
        /// Which limit.
        what: &'static str,
    },
    /// The documents of the export (manifests, indexes, referrers, envelopes) add up to more than
    /// one export holds in memory.
    #[error("the images' manifests, indexes, referrers and envelopes add up to more than {limit} bytes: more than one bundle carries (verify keeps at most a quarter of that); export fewer images or referrers")]
    TooMuchToKeep {
        /// The limit.
        limit: u64,
    },
    /// A document that should be a manifest or index and does not parse as one.
    #[error("{digest}: not a manifest: {source}")]
    NotAManifest {
        /// Its digest.
        digest: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A descriptor's digest that cannot be used.
    #[error("{0}")]
    Digest(DigestError),
    /// A document airlock builds could not be encoded.
    #[error("encoding {what}: {source}")]
    Encode {
        /// Which document.
        what: &'static str,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// An `oci-archive:` source was refused or could not be extracted.
    #[error("{}: {problem}", path.display())]
    Archive {
        /// The tarball.
        path: PathBuf,
        /// What is wrong with it.
        problem: ArchiveProblem,
    },
    /// A planned blob names a source that does not exist (a bug of the planner).
    #[error("internal: no source number {0}")]
    NoSuchSource(usize),
    /// A concurrent fetch worker stopped without an answer (a bug, or a panic in a worker).
    #[error("internal: a fetch worker stopped without an answer for {0}")]
    WorkerLost(Digest),
}

/// What is wrong with an `oci-archive:` source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveProblem {
    /// It cannot be opened.
    #[error("{0}")]
    Open(crate::archive::OpenError),
    /// It is a directory.
    #[error("a directory: use oci:PATH")]
    Directory,
    /// A tar entry the reader refused.
    #[error("{}", entry_text(.0))]
    Entry(Finding),
    /// Reading it failed.
    #[error("{0}")]
    Read(io::Error),
    /// Its `index.json` is over the manifest limit.
    #[error("index.json is {0} bytes, over the manifest limit")]
    IndexTooLarge(u64),
    /// A blob could not be written to the scratch layout.
    #[error("{0}")]
    Blob(crate::layout::BlobError<io::Error>),
    /// It has no `index.json`.
    #[error("no index.json")]
    NoIndex,
}

fn entry_text(f: &Finding) -> String {
    match &f.path {
        Some(p) => format!("refusing tar entry {p:?}: {}", f.message),
        None => f.message.clone(),
    }
}

/// How content differs from its descriptor.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Mismatch {
    /// The descriptor's digest cannot be recomputed.
    #[error("{0}")]
    Digest(DigestError),
    /// The content hashes to another digest.
    #[error("content hashes to {actual}")]
    Hash {
        /// What it hashes to.
        actual: Digest,
    },
    /// Content streamed through a writer hashes to another digest or has another size.
    #[error("content hashes to {actual} ({size} bytes{})", expected.map(|e| format!(", descriptor says {e}")).unwrap_or_default())]
    Content {
        /// What it hashes to.
        actual: Digest,
        /// How many bytes arrived.
        size: u64,
        /// The descriptor's size, when it was known.
        expected: Option<u64>,
    },
    /// Bytes in memory of another size than the descriptor's.
    #[error("descriptor says {expected} bytes, got {actual}")]
    Size {
        /// The descriptor's size.
        expected: u64,
        /// What arrived.
        actual: u64,
    },
    /// A layout file of another size than its descriptor's, refused before reading.
    #[error("{} is {actual} bytes, its descriptor says {expected}: not read", path.display())]
    FileSize {
        /// The file.
        path: PathBuf,
        /// Its size.
        actual: u64,
        /// The descriptor's.
        expected: u64,
    },
    /// A layout file that grew while it was read.
    #[error("{} grew past its descriptor's {expected} bytes while it was read", path.display())]
    Grew {
        /// The file.
        path: PathBuf,
        /// The descriptor's size.
        expected: u64,
    },
    /// A signature's subject that is not a digest.
    #[error("a subject that is not a digest")]
    SubjectNotDigest,
    /// A manifest the source listed as a referrer of one subject whose own `subject` names
    /// another (or none): the listing is not the manifest's word.
    #[error("listed as a referrer of {listed_for}, but its subject is {}", actual.as_deref().unwrap_or("absent"))]
    NotItsSubject {
        /// The subject it was listed for.
        listed_for: String,
        /// What its own `subject` names.
        actual: Option<String>,
    },
    /// The registry served other bytes than asked for.
    #[cfg(feature = "pull")]
    #[error("{0}")]
    Registry(crate::registry::RegistryError),
}

/// Why an existing output is not replaced without `--force`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// A directory airlock did not write (why it is not an airlock bundle).
    #[error("it is a directory that is not a bundle airlock wrote: {0}")]
    ForeignDir(String),
    /// A directory where a tarball goes.
    #[error("it is a directory, and a tarball was asked for")]
    DirectoryForTarball,
    /// A file where a directory goes.
    #[error("it is a regular file without a .tar, .tar.gz or .tar.zst suffix, and a directory was asked for")]
    FileForDirectory,
    /// A symbolic link.
    #[error("it is a symbolic link, which airlock never writes through")]
    Symlink,
    /// A FIFO, device or socket.
    #[error("it is a FIFO, device or socket")]
    Special,
}

/// What went wrong with stdout.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Stdout {
    /// Descriptor 1 cannot be used.
    #[error("cannot write the tarball to stdout: {0}")]
    Unusable(io::Error),
    /// Descriptor 1 was closed when airlock started (the runtime put /dev/null there).
    #[error("stdout was closed when airlock started: there is nowhere to write the tarball")]
    ClosedAtStart,
    /// Writing failed (the reader went away).
    #[error("writing the tarball to stdout: {0}")]
    Write(io::Error),
}

/// The captured signatures (and integrity findings) that failed verification, and the capture's
/// warnings (what was left behind may be why).
#[derive(Debug)]
pub struct Failures(pub Vec<Failed>, pub Vec<String>);

/// One failure of [`Failures`].
#[derive(Debug)]
pub enum Failed {
    /// An image whose signature did not verify.
    Image {
        /// The image's digest.
        digest: String,
        /// The reason code.
        code: Code,
        /// The reason, for people.
        message: String,
    },
    /// An image without a failure reason.
    Unexplained {
        /// The image's digest.
        digest: String,
    },
    /// A finding of the integrity check.
    Integrity(Finding),
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failed::Image {
                digest,
                code,
                message,
            } => write!(f, "{digest}: {code}: {message}"),
            Failed::Unexplained { digest } => write!(f, "{digest}: "),
            Failed::Integrity(x) => write!(f, "{}: {}", x.code, x.message),
        }
    }
}

impl fmt::Display for Failures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, x) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{x}")?;
        }
        for note in &self.1 {
            write!(f, " (note: {note})")?;
        }
        Ok(())
    }
}

impl From<SourceError> for ExportError {
    fn from(e: SourceError) -> Self {
        ExportError::Source(e)
    }
}

impl From<Usage> for ExportError {
    fn from(e: Usage) -> Self {
        ExportError::Usage(e)
    }
}

/// `digest`'s content differs from its descriptor.
pub(crate) fn mismatch(digest: &str, problem: Mismatch) -> ExportError {
    ExportError::Mismatch {
        digest: digest.to_owned(),
        problem,
    }
}
