//! The lockfile (`export --lock FILE`, `--locked`) and the per-image checks of a bundle file.
//!
//! Before anything is written, every image is resolved through its [`Fetch`]: the digest its tag
//! names now, the platform manifests kept, and every selected referrer of those (recursively:
//! signatures of SBOMs too), by subject. That resolution is what the lock records, and what
//! `--locked` compares with the lock, naming each difference. The same pass checks the bundle
//! file's per-image demands: a required notation signature, and the X.509 subject its leaf
//! certificate must match (the notary DN rules, as a trust policy's `x509.subject:` identity).
//!
//! The lock is JSON, deterministic (images in the order given, referrers sorted), written to a
//! temporary name and renamed.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::config::Referrers;
use super::{ExportError, Fetch, SourceError};
use crate::layout::model::{self, Descriptor, Document, Kind, NOTARY_SIGNATURE};
use crate::notary::dn::DistinguishedName;

/// The lockfile's format version.
pub const LOCK_VERSION: u32 = 1;

/// Largest lockfile read (a lock names each image, platform and referrer once: megabytes at most).
pub const MAX_LOCK_BYTES: u64 = 64 << 20;

/// The largest signature envelope read for the identity check.
const MAX_ENVELOPE: u64 = 4 << 20;

/// The whole lockfile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Lock {
    /// [`LOCK_VERSION`].
    pub lock_version: u32,
    /// The images, in the order given.
    pub images: Vec<LockedImage>,
}

/// One image as resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LockedImage {
    /// The source as given (the key `--locked` matches on).
    pub source: String,
    /// The name recorded in the bundle.
    pub reference: String,
    /// The digest the source resolved to.
    pub digest: String,
    /// The platform manifests carried (digests, sorted).
    pub manifests: Vec<String>,
    /// The selected referrers, sorted by subject then digest.
    pub referrers: Vec<LockedReferrer>,
}

/// One referrer.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LockedReferrer {
    /// The manifest it refers to.
    pub subject: String,
    /// Its manifest digest.
    pub digest: String,
    /// Its artifact type.
    pub artifact_type: String,
}

/// What one image must satisfy, and which of it is carried.
pub struct Wanted<'a> {
    /// Platforms kept (empty: all).
    pub platforms: &'a [String],
    /// Referrer selection.
    pub referrers: &'a Referrers,
    /// A notation signature must be there.
    pub require_signature: bool,
    /// The leaf subject one notation signature must match: as written, and parsed.
    pub identity: Option<(&'a str, &'a DistinguishedName)>,
}

/// A per-image demand of the bundle file that the source does not meet (exit 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// No notation signature among the selected referrers.
    Unsigned {
        /// The source.
        source: String,
    },
    /// No notation signature's leaf certificate has the wanted subject.
    Identity {
        /// The source.
        source: String,
        /// The identity wanted, as written.
        wanted: String,
        /// The leaf subjects seen (or why a signature could not be read).
        seen: Vec<String>,
    },
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Unsigned { source } => write!(
                f,
                "{source}: no notation signature, and the bundle file requires one"
            ),
            Finding::Identity {
                source,
                wanted,
                seen,
            } => write!(
                f,
                "{source}: no notation signature's leaf certificate matches identity {wanted:?} (seen: {})",
                if seen.is_empty() {
                    "none".to_owned()
                } else {
                    seen.join("; ")
                }
            ),
        }
    }
}

/// A difference between the lock and the sources now (`--locked` refuses on any; exit 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    /// The source resolves to another digest.
    Moved {
        /// The source.
        source: String,
        /// In the lock.
        locked: String,
        /// Now.
        now: String,
    },
    /// A platform manifest or referrer was added (present now, not in the lock).
    Added {
        /// The source.
        source: String,
        /// What.
        what: String,
    },
    /// A platform manifest or referrer is gone (in the lock, not present now).
    Removed {
        /// The source.
        source: String,
        /// What.
        what: String,
    },
    /// An image given now that the lock does not list.
    NotLocked {
        /// The source.
        source: String,
    },
    /// An image the lock lists that is not given now.
    NotGiven {
        /// The source.
        source: String,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::Moved {
                source,
                locked,
                now,
            } => write!(f, "{source}: locked at {locked}, now resolves to {now}"),
            Difference::Added { source, what } => {
                write!(f, "{source}: {what} is new (not in the lock)")
            }
            Difference::Removed { source, what } => {
                write!(f, "{source}: {what} is in the lock and no longer there")
            }
            Difference::NotLocked { source } => write!(f, "{source}: not in the lock"),
            Difference::NotGiven { source } => {
                write!(f, "{source}: in the lock, not among the images given")
            }
        }
    }
}

impl fmt::Display for LockedReferrer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "referrer {} ({}) of {}",
            self.digest, self.artifact_type, self.subject
        )
    }
}

/// The export refused by the bundle file or the lock (exit 1: a policy outcome, not an
/// operational error). Nothing was written: the previous output and lock are left as they were.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// `--locked`, and the sources differ from the lock.
    #[error("the sources no longer match the lock {}: {} difference(s)", path.display(), differences.len())]
    Locked {
        /// The lockfile.
        path: std::path::PathBuf,
        /// Each difference.
        differences: Vec<Difference>,
    },
    /// Images that do not meet the bundle file's demands (signature, identity).
    #[error("{} image(s) do not meet the bundle file's demands", .0.len())]
    Demands(Vec<Finding>),
    /// A source changed between the check and the export: what the export itself read (the
    /// digest a tag names, its platform manifests, its referrers) is not what was checked (and,
    /// with `--locked`, what the lock lists). Found before the output is written
    /// ([`carried_differences`]).
    #[error("a source changed while it was exported: {} difference(s) from what was checked", .0.len())]
    Raced(Vec<Difference>),
}

impl Refused {
    /// One line per difference or finding.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Refused::Locked { differences, .. } => {
                differences.iter().map(ToString::to_string).collect()
            }
            Refused::Demands(f) => f.iter().map(ToString::to_string).collect(),
            Refused::Raced(d) => d.iter().map(ToString::to_string).collect(),
        }
    }
}

fn parse_doc(desc: &Descriptor, bytes: &[u8]) -> Result<Document, ExportError> {
    super::check_bytes(desc, bytes)?;
    Document::parse(bytes).map_err(|source| {
        SourceError::NotAManifest {
            digest: desc.digest.clone(),
            source,
        }
        .into()
    })
}

/// Resolves one image through `f` as the export would carry it, and checks `want`'s demands.
pub fn resolve(
    source: &str,
    f: &mut dyn Fetch,
    want: &Wanted<'_>,
) -> Result<Resolution, ExportError> {
    let (top, bytes) = f.resolve()?;
    let doc = parse_doc(&top, &bytes)?;
    let children = platform_manifests(&top, &doc, want.platforms);
    let mut manifests: Vec<String> = children.iter().map(|c| c.digest.clone()).collect();
    manifests.sort();
    let mut subjects = vec![top.clone()];
    // An index among them (an index of indexes) is walked as export walks it: its platform
    // manifests are subjects too.
    let mut nested: Vec<(Descriptor, usize)> = children
        .iter()
        .filter(|c| model::kind_of(c.media_type()) == Kind::Index)
        .map(|c| (c.clone(), 1))
        .collect();
    subjects.extend(children);
    while let Some((index, depth)) = nested.pop() {
        let bytes = f.manifest(&index)?;
        let doc = parse_doc(&index, &bytes)?;
        for c in platform_manifests(&index, &doc, want.platforms) {
            if subjects.iter().any(|s| s.digest == c.digest) {
                continue;
            }
            // Export refuses what nests deeper than verification accepts; so does the check.
            if depth >= crate::layout::MAX_INDEX_DEPTH {
                return Err(SourceError::NestedTooDeep {
                    digest: c.digest.clone(),
                    limit: crate::layout::MAX_INDEX_DEPTH,
                }
                .into());
            }
            if model::kind_of(c.media_type()) == Kind::Index {
                nested.push((c.clone(), depth + 1));
            }
            subjects.push(c);
        }
    }
    let mut referrers = BTreeSet::new();
    let mut signatures = Vec::new();
    if !want.referrers.is_none() {
        // cosign's tag-named artifacts of the image and its platform manifests, typed as export
        // types them (their `artifactType`, else their first layer's media type).
        for subject in &subjects {
            for (_, d) in f.cosign_tagged(subject)? {
                let bytes = f.manifest(&d)?;
                let doc = parse_doc(&d, &bytes)?;
                let t = doc.cosign_type().unwrap_or_default().to_owned();
                if want.referrers.selects(&t) {
                    referrers.insert(LockedReferrer {
                        subject: subject.digest.clone(),
                        digest: d.digest.clone(),
                        artifact_type: t,
                    });
                }
            }
        }
        let mut seen = BTreeSet::new();
        let mut queue: Vec<(Descriptor, usize)> = subjects.into_iter().map(|s| (s, 0)).collect();
        while let Some((subject, depth)) = queue.pop() {
            if !seen.insert(subject.digest.clone()) {
                continue;
            }
            // As export: referrers of referrers past the limit are refused, not left unchecked.
            for r in super::referrers_at(f, &subject, depth)? {
                let rb = f.manifest(&r)?;
                let rdoc = parse_doc(&r, &rb)?;
                // Typed as export types it: by the manifest's own word only.
                let t = rdoc
                    .effective_artifact_type()
                    .map(str::to_owned)
                    .unwrap_or_default();
                if !want.referrers.selects(&t) {
                    continue;
                }
                if t == NOTARY_SIGNATURE && depth == 0 {
                    signatures.push((r.digest.clone(), rdoc));
                }
                referrers.insert(LockedReferrer {
                    subject: subject.digest.clone(),
                    digest: r.digest.clone(),
                    artifact_type: t,
                });
                queue.push((r, depth + 1));
            }
        }
    }
    let mut findings = Vec::new();
    let mut matching = Vec::new();
    if want.require_signature && signatures.is_empty() {
        findings.push(Finding::Unsigned {
            source: source.to_owned(),
        });
    } else if let Some((wanted, dn)) = want.identity {
        let mut seen = Vec::new();
        for (digest, s) in &signatures {
            match leaf_subject(f, s) {
                Ok(subject) => {
                    if dn.is_subset_of(&subject) {
                        matching.push(digest.clone());
                    }
                    seen.push(subject.to_string());
                }
                Err(why) => seen.push(why),
            }
        }
        if matching.is_empty() {
            findings.push(Finding::Identity {
                source: source.to_owned(),
                wanted: wanted.to_owned(),
                seen,
            });
        }
    }
    Ok(Resolution {
        image: LockedImage {
            source: source.to_owned(),
            reference: f.reference(),
            digest: top.digest,
            manifests,
            referrers: referrers.into_iter().collect(),
        },
        findings,
        matching,
    })
}

/// The platform manifests of `top` that travel: every child of an index whose platform is one of
/// `platforms` (all when empty; a child without a platform always), in the index's order. The
/// export and the lock select them with this one function.
pub fn platform_manifests(
    top: &Descriptor,
    doc: &Document,
    platforms: &[String],
) -> Vec<Descriptor> {
    let kind = match model::kind_of(top.media_type()) {
        Kind::Blob => doc.shape(),
        k => k,
    };
    if kind != Kind::Index {
        return Vec::new();
    }
    doc.manifests
        .iter()
        .flatten()
        .filter(|c| {
            platforms.is_empty()
                || c.platform
                    .as_ref()
                    .is_none_or(|p| super::platform_matches(p, platforms))
        })
        .cloned()
        .collect()
}

/// What an export carries of one image, as the lock records it: its digest, the platform
/// manifests kept (`manifests`), and the referrers its record lists.
pub fn carried(rec: &super::ExportedImage, mut manifests: Vec<String>) -> LockedImage {
    manifests.sort();
    let mut referrers: Vec<LockedReferrer> = rec
        .referrers
        .iter()
        .map(|r| LockedReferrer {
            subject: r.subject.clone(),
            digest: r.digest.clone(),
            artifact_type: r.artifact_type.clone().unwrap_or_default(),
        })
        .collect();
    referrers.sort();
    referrers.dedup();
    LockedImage {
        source: rec.source.clone(),
        reference: rec.reference.clone(),
        digest: rec.digest.clone(),
        manifests,
        referrers,
    }
}

/// Every difference between what was checked before the export (`checked`: the resolution pass,
/// which under `--locked` matched the lock) and what the export itself read and would carry
/// (`carried`): an image's digest or platform manifests, per source; a referrer, over the whole
/// export (an image given twice, or a platform manifest two images share, has its referrers
/// walked, and carried, once). Empty: the bundle is exactly what was checked.
pub fn carried_differences(checked: &[LockedImage], carried: &[LockedImage]) -> Vec<Difference> {
    let bare = |v: &[LockedImage]| -> Vec<LockedImage> {
        v.iter()
            .map(|i| LockedImage {
                referrers: Vec::new(),
                ..i.clone()
            })
            .collect()
    };
    let out = Lock::new(bare(checked)).differences(&bare(carried));
    if !out.is_empty() {
        // A moved digest says everything below it differs too.
        return out;
    }
    let mut out = out;
    let all = |v: &[LockedImage]| -> std::collections::BTreeMap<LockedReferrer, String> {
        let mut m = std::collections::BTreeMap::new();
        for i in v {
            for r in &i.referrers {
                m.entry(r.clone()).or_insert_with(|| i.source.clone());
            }
        }
        m
    };
    let (was, now) = (all(checked), all(carried));
    for (r, source) in now.iter().filter(|(r, _)| !was.contains_key(*r)) {
        out.push(Difference::Added {
            source: source.clone(),
            what: r.to_string(),
        });
    }
    for (r, source) in was.iter().filter(|(r, _)| !now.contains_key(*r)) {
        out.push(Difference::Removed {
            source: source.clone(),
            what: r.to_string(),
        });
    }
    out
}

/// What [`resolve`] found of one image.
pub struct Resolution {
    /// What the lock records.
    pub image: LockedImage,
    /// The demands not met.
    pub findings: Vec<Finding>,
    /// With an identity: the notation signature manifests whose leaf subject matches it (one of
    /// them must then also verify: [`identity_failures`]).
    pub matching: Vec<String>,
}

/// Images whose wanted identity (`identities`: image digest -> (identity as written, the
/// signature manifests whose leaf matches it)) no *verified* signature carries: a matching
/// signature that fails verification does not count, so a copied certificate in a forged
/// envelope cannot stand in for the signer. Checked by export on the results of the same
/// verification `verify` runs, before anything is made visible.
pub fn identity_failures(
    results: &[crate::verify::signature::ImageSignatures],
    identities: &std::collections::BTreeMap<String, (String, Vec<String>)>,
) -> Vec<super::Failed> {
    let mut out = Vec::new();
    for (digest, (wanted, matching)) in identities {
        let verified = results.iter().filter(|r| &r.digest == digest).any(|r| {
            r.signatures.iter().any(|s| {
                s.verdict == crate::verify::Verdict::Pass && matching.contains(&s.manifest_digest)
            })
        });
        if !verified {
            out.push(super::Failed::Image {
                digest: digest.clone(),
                code: crate::finding::Code::TrustedIdentity,
                message: format!(
                    "no verified notation signature has a leaf certificate matching the bundle file's identity {wanted:?}"
                ),
            });
        }
    }
    out
}

/// The subject of the leaf certificate of a signature manifest's envelope, as notation reads it;
/// `Err` says why it cannot be read (a signature that cannot be read matches nothing).
fn leaf_subject(f: &mut dyn Fetch, sig: &Document) -> Result<DistinguishedName, String> {
    use der::Decode;
    let layer = sig
        .layers
        .iter()
        .flatten()
        .next()
        .ok_or("a signature without an envelope layer")?;
    if layer.size > MAX_ENVELOPE {
        return Err(format!("an envelope of {} bytes", layer.size));
    }
    let mut buf = Vec::new();
    f.blob(layer, &mut buf).map_err(|e| e.to_string())?;
    super::check_bytes(layer, &buf).map_err(|e| e.to_string())?;
    let env = crate::notary::envelope::Envelope::parse(layer.media_type(), &buf)
        .map_err(|e| format!("an unreadable envelope: {e}"))?;
    let leaf = env
        .certificate_chain()
        .first()
        .ok_or("an envelope without certificates")?;
    let cert = x509_cert::Certificate::from_der(leaf)
        .map_err(|e| format!("an unreadable leaf certificate: {e}"))?;
    DistinguishedName::from_subject(&cert.tbs_certificate.subject)
        .map_err(|e| format!("a leaf subject notation cannot match: {e}"))
}

/// A source whose referrers are filtered by a bundle file's per-image `referrers` selection, so
/// that the export carries what the lock records.
pub struct Selected {
    inner: Box<dyn Fetch>,
    referrers: Referrers,
}

impl Selected {
    /// `inner`, showing only the referrers `referrers` selects.
    pub fn new(inner: Box<dyn Fetch>, referrers: Referrers) -> Self {
        Selected { inner, referrers }
    }
}

impl Fetch for Selected {
    fn reference(&self) -> String {
        self.inner.reference()
    }

    fn resolve(&mut self) -> Result<(Descriptor, Vec<u8>), ExportError> {
        self.inner.resolve()
    }

    fn manifest(&mut self, desc: &Descriptor) -> Result<Vec<u8>, ExportError> {
        self.inner.manifest(desc)
    }

    fn blob(
        &mut self,
        desc: &Descriptor,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, ExportError> {
        self.inner.blob(desc, out)
    }

    fn referrers(&mut self, subject: &Descriptor) -> Result<Vec<Descriptor>, ExportError> {
        if self.referrers.is_none() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for r in self.inner.referrers(subject)? {
            let t = match &r.artifact_type {
                Some(t) => t.clone(),
                None => {
                    let bytes = self.inner.manifest(&r)?;
                    parse_doc(&r, &bytes)?
                        .effective_artifact_type()
                        .unwrap_or_default()
                        .to_owned()
                }
            };
            if self.referrers.selects(&t) {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn cosign_tagged(
        &mut self,
        subject: &Descriptor,
    ) -> Result<Vec<(String, Descriptor)>, ExportError> {
        if self.referrers.is_none() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for (tag, d) in self.inner.cosign_tagged(subject)? {
            // Typed as export types them: `artifactType`, else the first layer's media type.
            let bytes = self.inner.manifest(&d)?;
            let doc = parse_doc(&d, &bytes)?;
            let t = doc.cosign_type().unwrap_or_default().to_owned();
            if self.referrers.selects(&t) {
                out.push((tag, d));
            }
        }
        Ok(out)
    }

    fn shared(&self) -> Option<std::sync::Arc<dyn super::SharedBlobs>> {
        self.inner.shared()
    }
}

impl Lock {
    /// The lock of these images.
    pub fn new(images: Vec<LockedImage>) -> Self {
        Lock {
            lock_version: LOCK_VERSION,
            images,
        }
    }

    /// Reads a lockfile (strict: unknown fields and other versions are refused).
    pub fn read(path: &Path) -> Result<Self, String> {
        let bytes = crate::fsutil::read_named_file(path, MAX_LOCK_BYTES)
            .map_err(|e| format!("reading {}: {e}", path.display()))?
            .ok_or_else(|| format!("{}: larger than {MAX_LOCK_BYTES} bytes", path.display()))?;
        let lock: Lock = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{}: not an airlock lock: {e}", path.display()))?;
        if lock.lock_version != LOCK_VERSION {
            return Err(format!(
                "{}: lock version {} (this airlock reads {LOCK_VERSION})",
                path.display(),
                lock.lock_version
            ));
        }
        Ok(lock)
    }

    /// The deterministic bytes of the lock (pretty JSON, newline-terminated).
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = serde_json::to_vec_pretty(self)?;
        out.push(b'\n');
        Ok(out)
    }

    /// Writes the lock to `path` (a temporary name, then renamed).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let bytes = self.to_bytes().map_err(std::io::Error::other)?;
        crate::layout::write_atomic(path, &bytes)
    }

    /// Every difference between this lock and `now`, in the order of `now` (then the images only
    /// the lock lists).
    pub fn differences(&self, now: &[LockedImage]) -> Vec<Difference> {
        let mut out = Vec::new();
        for n in now {
            let Some(l) = self.images.iter().find(|l| l.source == n.source) else {
                out.push(Difference::NotLocked {
                    source: n.source.clone(),
                });
                continue;
            };
            if l.digest != n.digest {
                out.push(Difference::Moved {
                    source: n.source.clone(),
                    locked: l.digest.clone(),
                    now: n.digest.clone(),
                });
                // Everything below a moved digest differs too: the move says it.
                continue;
            }
            let src = || n.source.clone();
            for m in n.manifests.iter().filter(|m| !l.manifests.contains(m)) {
                out.push(Difference::Added {
                    source: src(),
                    what: format!("platform manifest {m}"),
                });
            }
            for m in l.manifests.iter().filter(|m| !n.manifests.contains(m)) {
                out.push(Difference::Removed {
                    source: src(),
                    what: format!("platform manifest {m}"),
                });
            }
            for r in n.referrers.iter().filter(|r| !l.referrers.contains(r)) {
                out.push(Difference::Added {
                    source: src(),
                    what: r.to_string(),
                });
            }
            for r in l.referrers.iter().filter(|r| !n.referrers.contains(r)) {
                out.push(Difference::Removed {
                    source: src(),
                    what: r.to_string(),
                });
            }
        }
        for l in &self.images {
            if !now.iter().any(|n| n.source == l.source) {
                out.push(Difference::NotGiven {
                    source: l.source.clone(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(source: &str, digest: &str, refs: &[(&str, &str)]) -> LockedImage {
        LockedImage {
            source: source.into(),
            reference: source.into(),
            digest: digest.into(),
            manifests: vec![],
            referrers: refs
                .iter()
                .map(|(s, d)| LockedReferrer {
                    subject: (*s).into(),
                    digest: (*d).into(),
                    artifact_type: NOTARY_SIGNATURE.into(),
                })
                .collect(),
        }
    }

    #[test]
    fn differences_name_each_change() {
        let lock = Lock::new(vec![
            image("r/a:1", "sha256:aa", &[("sha256:aa", "sha256:s1")]),
            image("r/b:1", "sha256:bb", &[]),
            image("r/gone:1", "sha256:cc", &[]),
        ]);
        assert!(lock.differences(&lock.images.clone()[..2]).len() == 1);
        let now = vec![
            image("r/a:1", "sha256:aa", &[("sha256:aa", "sha256:s2")]),
            image("r/b:1", "sha256:b2", &[]),
            image("r/new:1", "sha256:dd", &[]),
        ];
        let d = lock.differences(&now);
        let text: Vec<String> = d.iter().map(ToString::to_string).collect();
        assert_eq!(d.len(), 5, "{text:#?}");
        assert!(matches!(&d[0], Difference::Added { what, .. } if what.contains("sha256:s2")));
        assert!(matches!(&d[1], Difference::Removed { what, .. } if what.contains("sha256:s1")));
        assert_eq!(
            d[2],
            Difference::Moved {
                source: "r/b:1".into(),
                locked: "sha256:bb".into(),
                now: "sha256:b2".into()
            }
        );
        assert!(matches!(&d[3], Difference::NotLocked { source } if source == "r/new:1"));
        assert!(matches!(&d[4], Difference::NotGiven { source } if source == "r/gone:1"));
        assert!(lock.differences(&lock.images).is_empty());
    }

    #[test]
    fn the_lock_is_deterministic_and_read_back_strictly() {
        let lock = Lock::new(vec![image(
            "r/a:1",
            "sha256:aa",
            &[("sha256:aa", "sha256:s1")],
        )]);
        let a = lock.to_bytes().unwrap();
        assert_eq!(a, lock.clone().to_bytes().unwrap());
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("airlock.lock");
        lock.write(&p).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), a);
        assert_eq!(Lock::read(&p).unwrap(), lock);
        let mut v: serde_json::Value = serde_json::from_slice(&a).unwrap();
        v["extra"] = serde_json::json!(1);
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(Lock::read(&p).unwrap_err().contains("extra"));
        v.as_object_mut().unwrap().remove("extra");
        v["lockVersion"] = serde_json::json!(2);
        std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(Lock::read(&p).unwrap_err().contains("version 2"));
    }
}
