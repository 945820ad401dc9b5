//! `airlock import`: push a verified bundle into a registry, signatures intact.
//!
//! The bundle is verified first (by the caller, with the same code as `airlock verify`); nothing is
//! pushed unless it passed. Only verified bytes reach the registry: manifests and indexes are pushed
//! from the bytes the verification read (kept in memory), and every blob is hashed again as it is
//! pushed, from the directory's file or from a second pass over the tarball; a blob that changed
//! since verification aborts its upload before the registry commits it (and the registry checks
//! the digest on commit as well).
//!
//! Three named phases, each in its own file:
//!
//! 1. [`plan`] (verify-first, no registry): which images go where, their manifests children first,
//!    their signatures after their subjects, and which blobs each repository needs; only the
//!    `(name, digest)` pairs verification judged are planned ([`ImportError::NotVerified`]).
//! 2. [`upload`]: the blobs, several at a time (`--jobs`), from the directory or from a second pass
//!    over the tarball that spools blobs to `$TMPDIR` (at most `--spool-limit` bytes at once) so
//!    that uploads overlap; past the limit the rest go in stream order.
//! 3. [`publish`] (merge and finish): manifests in the planned order, the `sha256-<hex>` referrers
//!    tag index merged with what the registry already holds, and the summary.
//!
//! Nothing is pushed before every blob is in: a blob that fails stops the import before any
//! manifest of any image, so the target never shows an image whose blobs are missing.

pub mod external;
mod plan;
mod publish;
mod tarball;
mod target;
mod upload;

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::digest::Digest;
use crate::finding::Finding;
use crate::layout::{Catalog, Progress};
use crate::registry::{Registry, RegistryError};

pub use plan::{plan, ImageJob, PushPlan, Step};
pub use target::{conflicting_statement, target_of};

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The bundle's `index.json` is missing or unreadable (verification would have said so).
    #[error("the bundle has no readable index.json")]
    NoIndex,
    /// An image whose name records no repository, and no `--to HOST/REPO` prefix to name one.
    #[error(
        "image {image:?} records no repository: give one with --to HOST/REPO or --map {image}=REPO"
    )]
    NoRepository {
        /// The image's name in the bundle.
        image: String,
    },
    /// An image whose tag is one registries and tools reserve for the artifacts of another image:
    /// the referrers tag schema's `sha256-<hex>` or cosign's `sha256-<hex>.sig` (`.att`, `.sbom`).
    /// Pushed, it would replace that image's list of signatures and referrers.
    #[error(
        "image {image:?} is tagged {tag:?}, the tag that lists the referrers (signatures, SBOMs) \
         of the image with that digest: pushing it would replace that list, so it is refused"
    )]
    ReservedTag {
        /// The image's name in the bundle.
        image: String,
        /// The tag.
        tag: String,
    },
    /// A signature whose subject is not a digest (no referrers tag can name it).
    #[error("{subject}: a subject that is not a digest")]
    BadSubject {
        /// The subject as written.
        subject: String,
    },
    /// The second pass expected a tarball and found something else.
    #[error("{}: expected a tarball", path.display())]
    NotATarball {
        /// The bundle.
        path: PathBuf,
    },
    /// A blob changed since it was verified (our own re-hash, or the registry's `DIGEST_INVALID`
    /// or `SIZE_INVALID` on commit).
    #[error("{digest} changed since verification: push aborted")]
    Changed {
        /// The blob.
        digest: Digest,
    },
    /// A file import reads again (a blob of the directory, the tarball, a part) is no longer a
    /// regular file reached through no link: a FIFO, a device or a link was swapped in after
    /// verification.
    #[error("{why}: the bundle changed since verification: push aborted")]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead (the path included).
        why: String,
    },
    /// A blob verification saw is no longer in the tarball.
    #[error("{digest} changed since verification (no longer in the tarball): push aborted")]
    Vanished {
        /// The blob.
        digest: Digest,
    },
    /// An image that verification did not judge would have been pushed.
    #[error("{} ({digest}) was not verified: nothing was pushed", name.as_deref().unwrap_or("(unnamed)"))]
    NotVerified {
        /// Its name in the bundle.
        name: Option<String>,
        /// Its digest.
        digest: String,
    },
    /// The registry refused.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The registry refused a blob of the images named (`REPO:TAG` as asked for; a blob belongs to
    /// its repository, so the registry's own error names no tag).
    #[error("importing {}: {error}", images.join(", "))]
    ForImages {
        /// The target names the blob was pushed for.
        images: Vec<String>,
        /// The registry's error.
        error: RegistryError,
    },
    /// The tarball could not be read again (the first pass read it whole: it changed since, as a
    /// content failure, exit 1; red team I, I-06).
    #[error("{}: {}: the bundle changed since verification: push aborted", path.display(), finding.message)]
    Bundle {
        /// The bundle.
        path: PathBuf,
        /// What the reader found.
        finding: Box<Finding>,
    },
    /// Local I/O on a named file (a blob of the directory, a spool file).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The tarball could not be opened again.
    #[error(transparent)]
    Open(crate::archive::OpenError),
    /// A referrers tag index could not be serialised.
    #[error("writing the referrers tag index: {0}")]
    Json(#[from] serde_json::Error),
    /// [`import`] was given no registry client.
    #[error("no registry client to push with")]
    NoClient,
    /// A signal (SIGINT, SIGTERM, SIGHUP) stopped the import before this manifest went out.
    #[error("interrupted by signal {signal}: no manifest was pushed after it")]
    Interrupted {
        /// The signal number.
        signal: i32,
    },
    /// An upload worker stopped without a result (a panic in a dependency).
    #[error("an upload worker stopped without a result")]
    Worker,
    /// A differential bundle: the target holds none of these left-out blobs, and no repository
    /// the export record names could supply them (`blob_external_absent`). Nothing was pushed.
    #[error(
        "the target lacks {} blob(s) the differential bundle left out (blob_external_absent): {}; nothing was pushed",
        blobs.len(),
        blobs.iter().map(|b| format!("{} in {}", b.digest, b.repository)).collect::<Vec<_>>().join(", ")
    )]
    ExternalAbsent {
        /// Each blob and the repository that lacks it.
        blobs: Vec<external::Absent>,
    },
}

impl ImportError {
    /// True when the bundle's content is at fault (changed since verification, or not verified):
    /// exit status 1, as a failed verification.
    pub fn is_content_failure(&self) -> bool {
        matches!(
            self,
            ImportError::Changed { .. }
                | ImportError::NotRegular { .. }
                | ImportError::Bundle { .. }
                | ImportError::Vanished { .. }
                | ImportError::NotVerified { .. }
                | ImportError::ReservedTag { .. }
                | ImportError::ExternalAbsent { .. }
        )
    }

    /// An error opening or reading a file of the bundle (`path`) again: as [`Self::reading`], and a
    /// file that is gone since verification is [`ImportError::NotRegular`] too (red team I, I-06:
    /// a directory's layer deleted after verification was an operational error, exit 2).
    pub(crate) fn reading_bundle(path: &Path, source: io::Error) -> ImportError {
        if source.kind() == io::ErrorKind::NotFound {
            return ImportError::NotRegular {
                path: path.to_owned(),
                why: format!("{} is gone", path.display()),
            };
        }
        Self::reading(path, source)
    }

    /// An error reading `path` again: [`ImportError::NotRegular`] when the file was refused as
    /// no longer a regular file ([`crate::fsutil::NotRegular`]), else [`ImportError::Io`].
    pub(crate) fn reading(path: &Path, source: io::Error) -> ImportError {
        match crate::fsutil::NotRegular::of(&source) {
            Some(refused) => ImportError::NotRegular {
                path: path.to_owned(),
                why: refused.to_string(),
            },
            None => ImportError::Io {
                path: path.to_owned(),
                source,
            },
        }
    }
}

/// The second pass could not open the tarball (or a part): a file that is no longer regular is
/// [`ImportError::NotRegular`], like a blob of a directory.
impl From<crate::archive::OpenError> for ImportError {
    fn from(e: crate::archive::OpenError) -> Self {
        match e {
            crate::archive::OpenError::Io { path, source }
                if crate::fsutil::NotRegular::of(&source).is_some() =>
            {
                ImportError::reading(Path::new(&path), source)
            }
            other => ImportError::Open(other),
        }
    }
}

/// How referrers reach the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferrersMode {
    /// The registry's Referrers API indexes signatures by their `subject`: nothing more to do.
    Api,
    /// Create or merge the `sha256-<hex>` referrers tag index.
    Tag,
    /// `tag` unless the target is known to serve the Referrers API (currently: always `tag`, which
    /// every registry understands; a registry with the API ignores the extra tag).
    Auto,
}

/// What to import where.
pub struct ImportPlan {
    /// `HOST[:PORT]`.
    pub host: String,
    /// Repository prefix under the host (may be empty).
    pub prefix: String,
    /// `OLD=NEW` repository prefix rewrites.
    pub maps: Vec<(String, String)>,
    /// Referrers mode.
    pub referrers: ReferrersMode,
    /// The images verification passed, as `(name, digest)`: only these are pushed, under these
    /// names (in pinned mode they are the export record's names; the push never re-reads a name
    /// verification did not judge).
    pub verified: Vec<(Option<String>, String)>,
    /// Referrers not to push (digests): those the pinned export record does not list, which
    /// verification reported as added after the export (`not_in_export_record` warnings). Their
    /// own referrers stay behind with them.
    pub unrecorded: BTreeSet<String>,
    /// The trust artifact (digest) whose export record verification authenticated (pinned, or
    /// signed under the operator's policy: the report's `leftOut.authenticated`). Only that record
    /// may name repositories of the target to mount left-out blobs from; without it, a blob the
    /// bundle leaves out must already be in the target repository. A record no anchor vouches for
    /// is the carrier's word, and must not choose what the importer's credentials copy between
    /// repositories (red team F, F1).
    pub authenticated_record: Option<String>,
}

/// Receives per-blob progress of the uploads (the CLI's bars on a terminal).
pub trait TransferProgress: Send + Sync {
    /// The uploads start: `bytes` in all (the blobs the target lacks, once per repository).
    fn start(&self, _bytes: u64) {}
    /// A blob upload starts; the sink returned gets its bytes and is dropped when it ends.
    fn blob(&self, digest: &Digest, size: u64) -> Box<dyn Progress>;
}

/// No progress.
pub struct NoTransferProgress;
impl TransferProgress for NoTransferProgress {
    fn blob(&self, _: &Digest, _: u64) -> Box<dyn Progress> {
        Box::new(crate::layout::NoProgress)
    }
}

/// How the push runs.
pub struct ImportOptions {
    /// Blobs uploaded at the same time (at least 1).
    pub jobs: usize,
    /// The most bytes a tarball's second pass keeps spooled in `$TMPDIR` at once.
    pub spool_limit: u64,
    /// Print the plan; push nothing.
    pub dry_run: bool,
    /// Per-blob progress.
    pub progress: Arc<dyn TransferProgress>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            jobs: 4,
            spool_limit: 4 << 30,
            dry_run: false,
            progress: Arc::new(NoTransferProgress),
        }
    }
}

/// One pushed image.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushedImage {
    /// Name in the bundle.
    pub source: String,
    /// Where it went.
    pub target: String,
    /// Its digest.
    pub digest: String,
    /// Notation signatures pushed for it (of the image and of its platform manifests).
    pub signatures: u64,
    /// Its other referrers pushed (SBOMs, attestations, cosign artifacts, referrers of
    /// referrers).
    pub referrers: u64,
}

/// The outcome.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// Images.
    pub images: Vec<PushedImage>,
    /// Blobs uploaded.
    pub blobs_uploaded: u64,
    /// Blobs the target already had.
    pub blobs_skipped: u64,
    /// Blobs mounted from another repository of the target.
    pub blobs_mounted: u64,
    /// Bytes uploaded.
    pub bytes_uploaded: u64,
    /// Bytes of the tarball spooled to `$TMPDIR` so that uploads could overlap.
    pub bytes_spooled: u64,
    /// Manifests pushed.
    pub manifests_pushed: u64,
    /// Manifests the target already had.
    pub manifests_skipped: u64,
    /// Notation signature manifests pushed.
    pub signatures_pushed: u64,
    /// Other referrer manifests pushed (SBOMs, attestations, cosign artifacts).
    pub referrers_pushed: u64,
    /// How referrers were made visible.
    pub referrers_mode: Option<ReferrersMode>,
    /// True for `--dry-run`.
    pub dry_run: bool,
}

/// Where blob bytes come from for the push: the directory, or a second pass over the tarball.
pub enum BlobSource {
    /// A layout directory.
    Dir(PathBuf),
    /// A tarball (read again, start to end).
    Archive(PathBuf),
}

/// Pushes the (already verified) bundle scanned into `cat`. `images` selects as `verify` does.
/// `clients` are registry clients, one per upload in flight (`opts.jobs` of them, plus one for
/// the tarball's reader; fewer only limits the concurrency). Returns the summary and, for
/// `--dry-run`, the plan's lines.
pub fn import(
    cat: &Catalog,
    images: &[String],
    source: &BlobSource,
    clients: &[Registry],
    plan_in: &ImportPlan,
    opts: &ImportOptions,
) -> Result<(ImportSummary, Vec<String>), ImportError> {
    // 1. Verify-first plan: no registry involved.
    let planned = plan::plan(cat, images, plan_in)?;
    let reg = clients.first().ok_or(ImportError::NoClient)?;
    let mut sum = ImportSummary {
        dry_run: opts.dry_run,
        ..Default::default()
    };
    let mut lines = Vec::new();
    // 2. Blobs, each re-hashed as it is pushed.
    let mut up = upload::Uploads::new(reg, &planned, opts);
    let todo = up.missing(&planned, &mut sum)?;
    // 2a. Blobs a differential bundle left out: the target must hold them before anything moves.
    let left_out = match crate::trust_artifact::recorded_left_out(cat) {
        Some((record, l)) if plan_in.authenticated_record.as_ref() == Some(&record) => l,
        _ => Vec::new(),
    };
    let todo = external::settle(reg, cat, todo, &left_out, opts.dry_run, &mut sum)?;
    up.run(source, &todo, clients, &mut sum, &mut lines)?;
    // 3. Manifests children first, signatures after subjects, referrers tags merged.
    publish::publish(
        cat,
        reg,
        &planned,
        plan_in.referrers,
        opts.dry_run,
        &mut sum,
        &mut lines,
    )?;
    Ok((sum, lines))
}
