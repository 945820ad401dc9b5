//! `airlock export`: plan the graph of each source (manifests fetched and checked first), then
//! stream every blob, hashed while it is written, into a layout directory or a deterministic
//! tarball, with the trust artifact and the `index.json` that names it all.
//!
//! Nothing partial looks complete and nothing there is destroyed (`staging`): the output is locked,
//! built under a fresh staging name beside it (a directory a crashed run left is adopted and its
//! blobs re-hashed), and swapped into place only when complete; an existing output stays whole and
//! readable under its name until then. Before anything is swapped in, the captured signatures are
//! verified (when trust material is given) by the same code `airlock verify` runs.

pub mod config;
pub mod crl;
mod error;
pub mod lock;
#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod chain_tests {
    #![allow(clippy::unwrap_used)]
    use crate::notary::crypto::SignatureAlgorithm as Alg;
    use crate::notary::envelope::test_support::*;
    use crate::notary::envelope::{Envelope, MEDIA_TYPE_JWS};

    /// Red team P, P05: only a chain that links up is kept for CRL capture.
    #[test]
    fn a_root_merely_appended_to_a_chain_makes_no_chain() {
        let chain = self_signed(p256());
        let env = |c: &[Vec<u8>]| {
            let bytes = jws(
                &jws_protected(Alg::Es256),
                PAYLOAD.as_bytes(),
                c,
                p256(),
                Alg::Es256,
            );
            Envelope::parse(MEDIA_TYPE_JWS, &bytes).unwrap()
        };
        assert_eq!(super::signing_chain(&env(&chain)).unwrap().len(), 1);
        let trusted = self_signed(rsa2048()).remove(0);
        let appended = [chain[0].clone(), trusted];
        assert!(super::signing_chain(&env(&appended)).is_none());
    }
}
#[cfg(feature = "pull")]
mod registry_source;
mod sink;
pub mod source;
pub mod staging;
mod write;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{json, Value};

use crate::digest::Digest;
use crate::layout::model::{self, Descriptor, Document, Kind, AIRLOCK_TRUST, NOTARY_SIGNATURE};
use crate::layout::{referrers_tag_of, Catalog, Limits, Progress};
use crate::notary::revocation::Crl;
use crate::trust_artifact::{self as ta, ExportRecord, TrustMaterial};
use crate::verify::signature::{self, StoreCache, TrustInputs};

use error::mismatch;
pub use error::{
    ArchiveProblem, ExportError, Failed, Failures, Mismatch, Refusal, SourceError, Stdout, Usage,
};
#[cfg(feature = "pull")]
pub use registry_source::RegistryFetch;
use sink::Sink;
pub use sink::{prepare, Output, OutputKind, Target};
pub use source::{Fetch, LayoutFetch, SharedBlobs, SourceRef};

/// What to export and how.
pub struct ExportOptions {
    /// Where.
    pub output: Output,
    /// `os/arch[/variant]` platforms to keep from indexes (empty: all).
    pub platforms: Vec<String>,
    /// Which referrers travel (`--referrers`; `--no-referrers` is `None`).
    pub referrers: ReferrerSelection,
    /// Fail on an unsigned image.
    pub require_signature: bool,
    /// Trust material to carry (and to verify the captured signatures with).
    pub trust: Option<TrustMaterial>,
    /// CRLs to carry (given with `--crl`), with the URL they came from when fetched.
    pub crls: Vec<(Crl, Option<String>)>,
    /// Export signatures that fail verification anyway (recorded).
    pub allow_failed_signatures: bool,
    /// The export time (RFC 3339) and as Unix seconds: recorded, and the verification time.
    pub exported_at: (String, i64),
    /// Registry scope for verifying the captured signatures, for images that record none.
    pub scope: Option<String>,
    /// Progress (bytes written of the total, and each blob in flight).
    pub progress: std::sync::Arc<dyn Progress>,
    /// Blobs fetched at once (`--jobs`, at least 1).
    pub jobs: usize,
    /// Per source (by position), platforms that replace `platforms` (a bundle file's
    /// `[[image]] platforms`); shorter than the sources, or `None`: `platforms`.
    pub source_platforms: Vec<Option<Vec<String>>>,
    /// Image digest -> (identity, signature manifests whose leaf matches it): a bundle file's
    /// `[[image]] identity`, which one of those signatures must verify ([`lock::identity_failures`]).
    pub identities: BTreeMap<String, (String, Vec<String>)>,
    /// `--since`: blobs the far side holds (digest -> size and the repositories holding it), from
    /// its inventories. Layers listed here with the same size are left out of the bundle.
    pub since: BTreeMap<Digest, (u64, Vec<String>)>,
    /// `--sign-key`/`--sign-cert`: who signs the trust artifact (the export signature).
    pub signer: Option<crate::sign::Signer>,
    /// What a resolution pass checked before the export (a bundle file's demands, `--lock`; under
    /// `--locked`, what matched the lock): the export must carry exactly these images, platform
    /// manifests and referrers. Compared right after [`plan`], with what the export itself read,
    /// before anything is written: a difference (a tag moved, a referrer pushed in between) is
    /// [`ExportError::Raced`] and the previous output is left as it was.
    pub checked: Option<Vec<lock::LockedImage>>,
}

pub use crate::layout::MAX_REFERRER_DEPTH;

/// The largest blob an export fetches (1 TiB): a descriptor claiming more is refused before
/// anything is fetched.
pub const MAX_BLOB_BYTES: u64 = 1 << 40;
/// The most referrers export carries for one image (its platform manifests' and the referrers'
/// own included).
pub const MAX_REFERRERS: usize = 1024;

/// Which referrers `export` follows (`--referrers all|none|TYPE[,TYPE...]`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum ReferrerSelection {
    /// Every referrer, recursively (the default).
    #[default]
    All,
    /// None (`--no-referrers`).
    None,
    /// Those of these artifact types (a referrer's `artifactType`, else its config's media type).
    Types(Vec<String>),
}

impl ReferrerSelection {
    /// Parses `all`, `none`, or a comma-separated list of artifact types.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "all" => Ok(ReferrerSelection::All),
            "none" => Ok(ReferrerSelection::None),
            "" => Err("--referrers: give all, none, or artifact types separated by commas".into()),
            list => {
                let types: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect();
                if let Some(bad) = types.iter().find(|t| !t.contains('/')) {
                    return Err(format!(
                        "--referrers: {bad:?} is not an artifact type (TYPE/SUBTYPE), all or none"
                    ));
                }
                Ok(ReferrerSelection::Types(types))
            }
        }
    }

    /// Whether a referrer of artifact type `t` travels.
    pub fn wants(&self, t: Option<&str>) -> bool {
        match self {
            ReferrerSelection::All => true,
            ReferrerSelection::None => false,
            ReferrerSelection::Types(types) => t.is_some_and(|t| types.iter().any(|x| x == t)),
        }
    }
}

/// A bundle's identity: the sha256 of its `index.json` (the same for every form of one bundle)
/// and, for a tarball, of the file itself (computed while it was written).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleIdentity {
    /// sha256 of `index.json`.
    pub digest: String,
    /// sha256 of the tarball as written (absent for a directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_digest: Option<String>,
}

/// One exported image, for the summary: the export record's own model, so that what is written
/// and what is read cannot drift apart.
pub use crate::trust_artifact::SourceRecord as ExportedImage;

/// What an export wrote.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    /// The output path.
    pub output: String,
    /// sha256 of the output file (tarballs), or of `index.json` (directories).
    pub output_digest: String,
    /// The bundle's identity, as `verify`, `inspect` and `import` print it.
    pub bundle: BundleIdentity,
    /// Images.
    pub images: Vec<ExportedImage>,
    /// Distinct blobs written.
    pub blobs: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The trust artifact manifest's digest: the `--pin` value the far side verifies with, when a
    /// trust artifact was written.
    pub pin: Option<String>,
    /// Root fingerprints of the carried trust stores (for the record; a root is not a pin).
    pub fingerprints: Vec<String>,
    /// Signature verification outcome when trust material was given.
    pub signatures_verified: Option<bool>,
    /// CRLs carried.
    pub crls: u64,
    /// Problems worth a look that did not stop the export (CRLs not captured).
    pub warnings: Vec<String>,
    /// Blobs `--since` left out (the far side holds them).
    #[serde(skip_serializing_if = "is_zero")]
    pub left_out_blobs: u64,
    /// Their bytes: a full export would have been `bytes + leftOutBytes`.
    #[serde(skip_serializing_if = "is_zero")]
    pub left_out_bytes: u64,
    /// `--split`: the parts manifest written (`OUTPUT.parts.json`), each part with its digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<crate::archive::parts::PartsManifest>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The signing chain of `env`, leaf first, when it is one: each certificate signed by the next and
/// the envelope by the leaf. A hostile x5c with the trusted root merely appended passed the trust
/// filter of [`envelope_chains`] and had its own CA's CRLs captured (red team P, P05).
fn signing_chain(env: &crate::notary::envelope::Envelope) -> Option<Vec<x509_cert::Certificate>> {
    use der::Decode;
    env.verify().ok()?;
    env.certificate_chain()
        .iter()
        .map(|c| x509_cert::Certificate::from_der(c).ok())
        .collect()
}

/// The certificate chains of every captured signature, and of their timestamps, leaf first.
fn envelope_chains(
    plan: &Plan,
    referrers: &BTreeMap<String, (Descriptor, Vec<Descriptor>)>,
    trust: Option<&TrustMaterial>,
) -> Vec<Vec<x509_cert::Certificate>> {
    use der::Decode;
    let parse = |d: &[u8]| x509_cert::Certificate::from_der(d).ok();
    let tsa_roots: Vec<Vec<u8>> = trust
        .map(|t| {
            t.stores
                .iter()
                .filter(|(k, _, _)| *k == crate::notary::truststore::StoreType::Tsa)
                .flat_map(|(_, _, c)| c.iter().map(|c| c.der.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for (_, sigs) in referrers.values() {
        for s in sigs
            .iter()
            .filter(|s| s.artifact_type.as_deref() == Some(NOTARY_SIGNATURE))
        {
            let Some(doc) = Digest::parse(&s.digest)
                .ok()
                .and_then(|d| plan.small.get(&d))
                .and_then(|b| Document::parse(b).ok())
            else {
                continue;
            };
            for layer in doc.layers.iter().flatten() {
                let Some(bytes) = Digest::parse(&layer.digest)
                    .ok()
                    .and_then(|d| plan.small.get(&d))
                else {
                    continue;
                };
                let Ok(env) = crate::notary::envelope::Envelope::parse(layer.media_type(), bytes)
                else {
                    continue;
                };
                if let Some(chain) = signing_chain(&env) {
                    out.push(chain);
                }
                if let Some(token) = env.timestamp_token() {
                    // Order the token's certificates by validating them; roots: the tsa stores
                    // given, or the self-signed certificates the token carries (ordering only).
                    let mut roots = tsa_roots.clone();
                    if let Ok(p) = crate::notary::timestamp::parse(token) {
                        for c in p.certificates() {
                            if parse(c).is_some_and(|x| crate::notary::chain::is_self_signed(&x)) {
                                roots.push(c.to_vec());
                            }
                        }
                    }
                    let limits = crate::notary::timestamp::Limits::default();
                    if let Ok(ts) =
                        crate::notary::timestamp::verify(token, env.signature(), &roots, &limits)
                    {
                        out.push(ts.tsa_chain.iter().filter_map(|c| parse(c)).collect());
                    }
                }
            }
        }
    }
    // With trust material, only chains that reach a certificate of its stores: the CRLs of a CA
    // nothing trusts serve no verification, and anyone who can attach a signature to the image
    // chooses that CA (red team H, H4: its CRLs filled the 8 MiB the bundle carries, and the
    // trusted CA's CRL was left out).
    if let Some(t) = trust {
        let trusted: std::collections::HashSet<&[u8]> = t
            .stores
            .iter()
            .flat_map(|(_, _, certs)| certs.iter().map(|c| c.der.as_slice()))
            .collect();
        out.retain(|chain: &Vec<x509_cert::Certificate>| {
            chain
                .iter()
                .any(|c| der::Encode::to_der(c).is_ok_and(|d| trusted.contains(d.as_slice())))
        });
    }
    out
}

/// A blob to copy: where it comes from.
struct Planned {
    desc: Descriptor,
    source: usize,
    /// Whether `--since` may leave it out: a layer (or artifact blob) of an image manifest, never
    /// a config or a signature's blob (verification needs those in hand).
    leavable: bool,
    /// The images (names as recorded) that need it.
    images: std::collections::BTreeSet<String>,
}

/// Everything gathered before the first large byte moves.
#[derive(Default)]
struct Plan {
    /// Manifests and other small JSON fetched already: digest -> bytes.
    small: BTreeMap<Digest, Vec<u8>>,
    /// Blobs still to copy.
    blobs: BTreeMap<Digest, Planned>,
    /// `index.json` entries.
    entries: Vec<Value>,
    /// Signatures by subject digest: (subject descriptor, signature descriptors).
    referrers: Referrers,
    images: Vec<ExportedImage>,
    /// Blobs `--since` left out (phase [`leave_out`]).
    left_out: Vec<ta::LeftOut>,
    /// Bytes held in `small` (at most [`MAX_KEPT`]).
    kept: u64,
    /// The image documents each source's walk went through: a document is walked once per source
    /// (its own record, platforms and referrers), never twice within one.
    walked: std::collections::HashSet<(usize, Digest)>,
    /// Each image as the lock records it ([`lock::carried`]): what [`ExportOptions::checked`] is
    /// compared with.
    carried: Vec<lock::LockedImage>,
}

/// The most document bytes (manifests, indexes, referrers, envelopes) one export holds in memory:
/// four times what `verify` keeps of a bundle (`Limits::max_retained_json`), so no bundle verify
/// reads is refused, while a source listing hundreds of 4 MiB manifests cannot grow the export's
/// memory without bound.
const MAX_KEPT: u64 = 64 << 20;

impl Plan {
    /// Keeps a document's bytes for the rest of the export, within [`MAX_KEPT`].
    fn keep(&mut self, d: Digest, bytes: Vec<u8>) -> Result<(), ExportError> {
        if self.small.contains_key(&d) {
            return Ok(());
        }
        self.kept = self
            .kept
            .saturating_add(u64::try_from(bytes.len()).unwrap_or(u64::MAX));
        if self.kept > MAX_KEPT {
            return Err(SourceError::TooMuchToKeep { limit: MAX_KEPT }.into());
        }
        self.small.insert(d, bytes);
        Ok(())
    }
}

/// Signatures by subject digest: (subject descriptor, signature descriptors).
type Referrers = BTreeMap<String, (Descriptor, Vec<Descriptor>)>;

fn check_bytes(desc: &Descriptor, bytes: &[u8]) -> Result<Digest, ExportError> {
    let d = Digest::parse(&desc.digest).map_err(|e| mismatch(&desc.digest, Mismatch::Digest(e)))?;
    let actual = Digest::of(d.algorithm(), bytes);
    if actual != d {
        return Err(mismatch(&desc.digest, Mismatch::Hash { actual }));
    }
    let n = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if n != desc.size {
        return Err(mismatch(
            &desc.digest,
            Mismatch::Size {
                expected: desc.size,
                actual: n,
            },
        ));
    }
    Ok(d)
}

/// Whether a referrer of `artifact_type` travels: the selection wants it, and the image has room
/// for one more (at most [`MAX_REFERRERS`], else the export fails).
fn admit(
    walk: &Walk<'_>,
    rec: &ExportedImage,
    artifact_type: Option<&str>,
) -> Result<bool, ExportError> {
    if !walk.referrers.wants(artifact_type) {
        return Ok(false);
    }
    if rec.referrers.len() >= MAX_REFERRERS {
        return Err(SourceError::TooManyReferrers {
            subject: rec.digest.clone(),
            what: "more than 1024 referrers",
        }
        .into());
    }
    Ok(true)
}

/// Whether platform `p` is one of `wanted` (`os/arch[/variant]`; no variant: any).
pub(super) fn platform_matches(p: &model::Platform, wanted: &[String]) -> bool {
    wanted.iter().any(|w| {
        let mut parts = w.split('/');
        let os = parts.next().unwrap_or("");
        let arch = parts.next().unwrap_or("");
        let variant = parts.next();
        p.os == os
            && p.architecture == arch
            && variant.is_none_or(|v| p.variant.as_deref() == Some(v))
    })
}

/// The annotations of a referrer's `index.json` entry: its own manifest's (fetched, hashed), never
/// the source's listing's, and never a name. A registry's referrers listing carried
/// `org.opencontainers.image.ref.name` on a runnable image of its own making, so that the bundle
/// named it `docker.io/library/busybox:latest` for every tool reading the layout by name (red team
/// H, H1); names in a bundle belong to the images the operator asked for.
fn referrer_annotations(
    small: &BTreeMap<Digest, Vec<u8>>,
    d: &Descriptor,
) -> BTreeMap<String, String> {
    let mut a = Digest::parse(&d.digest)
        .ok()
        .and_then(|dg| small.get(&dg))
        .and_then(|b| Document::parse(b).ok())
        .map(|doc| doc.annotations)
        .unwrap_or_default();
    a.remove(model::REF_NAME);
    a.remove(model::CONTAINERD_NAME);
    a
}

fn desc_json(d: &Descriptor, annotations: &BTreeMap<String, String>) -> Value {
    let mut v = serde_json::Map::new();
    v.insert("mediaType".into(), json!(d.media_type()));
    v.insert("digest".into(), json!(d.digest));
    v.insert("size".into(), json!(d.size));
    if let Some(t) = &d.artifact_type {
        v.insert("artifactType".into(), json!(t));
    }
    if !annotations.is_empty() {
        v.insert("annotations".into(), json!(annotations));
    }
    Value::Object(v)
}

/// What every manifest of one source is walked with.
struct Walk<'a> {
    src: usize,
    platforms: &'a [String],
    referrers: &'a ReferrerSelection,
}

impl Plan {
    /// Adds a blob to copy; a blob needed as a config or a signature's somewhere is never
    /// leavable, whatever else lists it.
    fn plan_blob(
        &mut self,
        d: Digest,
        desc: &Descriptor,
        source: usize,
        leavable: bool,
        image: &str,
    ) -> Result<(), ExportError> {
        // The size is the source's word, and the fetch's deadline grows with it: a registry
        // claiming a petabyte layer would choose its own deadline (red team E, E6).
        if desc.size > MAX_BLOB_BYTES {
            return Err(SourceError::BlobTooLarge {
                digest: desc.digest.clone(),
                size: desc.size,
                limit: MAX_BLOB_BYTES,
            }
            .into());
        }
        let p = self.blobs.entry(d).or_insert_with(|| Planned {
            desc: desc.clone(),
            source,
            leavable,
            images: std::collections::BTreeSet::new(),
        });
        p.leavable &= leavable;
        p.images.insert(image.to_owned());
        Ok(())
    }

    /// Plans the image document `desc` (`bytes`, already fetched) at `depth` below `index.json`
    /// (the image itself is at 0), and, for an index, its platform manifests at `depth + 1`: never
    /// deeper than verification accepts ([`crate::layout::MAX_INDEX_DEPTH`]).
    fn add_manifest(
        &mut self,
        f: &mut dyn Fetch,
        desc: &Descriptor,
        bytes: Vec<u8>,
        walk: &Walk<'_>,
        rec: &mut ExportedImage,
        depth: usize,
    ) -> Result<(), ExportError> {
        let (src, platforms) = (walk.src, walk.platforms);
        let d = check_bytes(desc, &bytes)?;
        // Once per source, not once per export: a second name for the same digest (another tag,
        // another repository signed on its own) needs its own record, platforms and signatures
        // (red team Q, Q01: the second source's signatures were dropped, and `--require-signature`
        // refused `app:latest` beside `app:1.0`). Within one source, once: an index listing a
        // child many times, at every level, cannot multiply the walk.
        if !self.walked.insert((src, d.clone())) {
            return Ok(());
        }
        let doc = Document::parse(&bytes).map_err(|source| SourceError::NotAManifest {
            digest: desc.digest.clone(),
            source,
        })?;
        self.keep(d, bytes)?;
        let kind = match model::kind_of(desc.media_type()) {
            Kind::Blob => doc.shape(),
            k => k,
        };
        if kind == Kind::Index {
            for child in doc.manifests.iter().flatten() {
                if !platforms.is_empty() {
                    if let Some(p) = &child.platform {
                        if !platform_matches(p, platforms) {
                            rec.excluded.push(child.digest.clone());
                            continue;
                        }
                    }
                }
                if let Some(p) = &child.platform {
                    let r = p.render();
                    if r != "unknown/unknown" && !rec.platforms.contains(&r) {
                        rec.platforms.push(r);
                    }
                }
                if depth >= crate::layout::MAX_INDEX_DEPTH {
                    // Refused before it is fetched: a source cannot make the export follow a
                    // chain of indexes without end (nor overflow its stack).
                    return Err(SourceError::NestedTooDeep {
                        digest: child.digest.clone(),
                        limit: crate::layout::MAX_INDEX_DEPTH,
                    }
                    .into());
                }
                let cb = f.manifest(child)?;
                self.add_manifest(f, child, cb, walk, rec, depth + 1)?;
            }
        } else {
            let config = doc.config.iter().map(|c| (c, false));
            let layers = doc
                .layers
                .iter()
                .flatten()
                .chain(doc.blobs.iter().flatten())
                .map(|c| (c, true));
            for (c, leavable) in config.chain(layers) {
                let cd = Digest::parse(&c.digest).map_err(SourceError::Digest)?;
                self.plan_blob(cd, c, src, leavable, &rec.reference)?;
            }
        }
        if walk.referrers != &ReferrerSelection::None {
            self.add_referrers(f, desc, walk, rec, 0)?;
            self.add_cosign_tagged(f, desc, walk, rec)?;
        }
        Ok(())
    }

    /// cosign's tag-named artifacts of `subject` (`sha256-<hex>.sig`, `.att`, `.sbom`), when the
    /// source has them and the selection wants their type (their `artifactType`, else their first
    /// layer's media type: `application/vnd.dev.cosign.simplesigning.v1+json` for a signature,
    /// `application/vnd.dsse.envelope.v1+json` for an attestation): checked, every blob planned,
    /// and listed in `index.json` under their tag. They are carried, never verified.
    fn add_cosign_tagged(
        &mut self,
        f: &mut dyn Fetch,
        subject: &Descriptor,
        walk: &Walk<'_>,
        rec: &mut ExportedImage,
    ) -> Result<(), ExportError> {
        for (tag, d) in f.cosign_tagged(subject)? {
            let bytes = f.manifest(&d)?;
            let digest = check_bytes(&d, &bytes)?;
            let doc = Document::parse(&bytes).map_err(|source| SourceError::NotAManifest {
                digest: d.digest.clone(),
                source,
            })?;
            let artifact_type = doc.cosign_type().map(str::to_owned);
            if !admit(walk, rec, artifact_type.as_deref())? {
                continue;
            }
            for c in doc.blob_children() {
                let cd = Digest::parse(&c.digest).map_err(SourceError::Digest)?;
                if !self.small.contains_key(&cd) {
                    // A referrer's blobs are never left out: they are not in any inventory's
                    // image, and verification of the referrer needs them.
                    self.plan_blob(cd, c, walk.src, false, &rec.reference)?;
                }
            }
            let mut budget = MAX_REFERRERS;
            self.add_index_children(f, &d, &doc, walk.src, &rec.reference, 0, &mut budget)?;
            self.keep(digest, bytes)?;
            if !rec.referrers.iter().any(|r| r.digest == d.digest) {
                rec.referrers.push(ta::ReferrerRecord {
                    digest: d.digest.clone(),
                    artifact_type,
                    subject: subject.digest.clone(),
                });
            }
            let mut annotations = BTreeMap::new();
            annotations.insert(model::REF_NAME.to_owned(), tag);
            let entry = desc_json(&d, &annotations);
            if !self.entries.contains(&entry) {
                self.entries.push(entry);
            }
        }
        Ok(())
    }

    /// A referrer that is an index (attestations per platform, say) travels whole: the manifests
    /// it lists, and theirs, each checked against its descriptor, every blob planned (never left
    /// out: verification of the referrer needs them). Nested at most [`MAX_REFERRER_DEPTH`] deep,
    /// and at most [`MAX_REFERRERS`] manifests under one referrer (`budget`): a registry cannot
    /// make the export fetch without end.
    #[allow(clippy::too_many_arguments)]
    fn add_index_children(
        &mut self,
        f: &mut dyn Fetch,
        referrer: &Descriptor,
        doc: &Document,
        src: usize,
        image: &str,
        depth: usize,
        budget: &mut usize,
    ) -> Result<(), ExportError> {
        for c in doc.manifests.iter().flatten() {
            if depth >= MAX_REFERRER_DEPTH {
                return Err(SourceError::TooManyReferrers {
                    subject: referrer.digest.clone(),
                    what: "a referrer's indexes nested deeper than 8",
                }
                .into());
            }
            *budget = budget
                .checked_sub(1)
                .ok_or_else(|| SourceError::TooManyReferrers {
                    subject: referrer.digest.clone(),
                    what: "a referrer index listing more than 1024 manifests",
                })?;
            let cb = f.manifest(c)?;
            let cd = check_bytes(c, &cb)?;
            if self.small.contains_key(&cd) {
                continue;
            }
            let cdoc = Document::parse(&cb).map_err(|source| SourceError::NotAManifest {
                digest: c.digest.clone(),
                source,
            })?;
            for b in cdoc.blob_children() {
                let bd = Digest::parse(&b.digest).map_err(SourceError::Digest)?;
                if !self.small.contains_key(&bd) {
                    self.plan_blob(bd, b, src, false, image)?;
                }
            }
            self.add_index_children(f, referrer, &cdoc, src, image, depth + 1, budget)?;
            self.keep(cd, cb)?;
        }
        Ok(())
    }

    /// Follows the referrers of `subject` the selection wants, and theirs (depth + 1), each
    /// checked against its descriptor: a notation signature's small blobs are read now (CRL
    /// capture needs their chains), every other blob is planned. `depth` 0 is a referrer of the
    /// image or of one of its platform manifests: only a notation signature there is one of the
    /// image's signatures.
    fn add_referrers(
        &mut self,
        f: &mut dyn Fetch,
        subject: &Descriptor,
        walk: &Walk<'_>,
        rec: &mut ExportedImage,
        depth: usize,
    ) -> Result<(), ExportError> {
        let src = walk.src;
        for r in referrers_at(f, subject, depth)? {
            if rec.referrers.iter().any(|x| x.digest == r.digest) {
                continue;
            }
            let rb = f.manifest(&r)?;
            let rd = check_bytes(&r, &rb)?;
            let rdoc = Document::parse(&rb).map_err(|source| SourceError::NotAManifest {
                digest: r.digest.clone(),
                source,
            })?;
            // A registry's referrers list (or a referrers tag a client wrote) is its word; the
            // manifest's own `subject` is what verification and the site's registry go by. One
            // that names another subject would be recorded and tagged under the wrong image.
            let named = rdoc.subject.as_ref().map(|s| s.digest.as_str());
            if named != Some(subject.digest.as_str()) {
                return Err(mismatch(
                    &r.digest,
                    Mismatch::NotItsSubject {
                        listed_for: subject.digest.clone(),
                        actual: named.map(str::to_owned),
                    },
                ));
            }
            // Typed by the manifest's own word only, never the listing's: a registry's listing
            // called an index of its own a notary signature, and `--require-signature` took it
            // for one (red team H's note on H1).
            let artifact_type = rdoc.effective_artifact_type().map(str::to_owned);
            if !admit(walk, rec, artifact_type.as_deref())? {
                continue;
            }
            let signature = artifact_type.as_deref() == Some(NOTARY_SIGNATURE);
            if signature && depth == 0 {
                rec.signatures.push(r.digest.clone());
            }
            rec.referrers.push(ta::ReferrerRecord {
                digest: r.digest.clone(),
                artifact_type: artifact_type.clone(),
                subject: subject.digest.clone(),
            });
            for c in rdoc.blob_children() {
                let cd = Digest::parse(&c.digest).map_err(SourceError::Digest)?;
                if signature && c.size <= 4 << 20 {
                    // Envelopes are read now: CRL capture needs their certificate chains.
                    let mut buf = Vec::new();
                    f.blob(c, &mut buf)?;
                    check_bytes(c, &buf)?;
                    self.keep(cd, buf)?;
                } else if !self.small.contains_key(&cd) {
                    // Never left out by `--since`: verification of the referrer needs them.
                    self.plan_blob(cd, c, src, false, &rec.reference)?;
                }
            }
            let mut budget = MAX_REFERRERS;
            self.add_index_children(f, &r, &rdoc, src, &rec.reference, 0, &mut budget)?;
            self.keep(rd, rb)?;
            let mut rdesc = r.clone();
            rdesc.artifact_type = artifact_type;
            // And its media type is the document's (or its shape's), not the listing's.
            rdesc.media_type = Some(rdoc.media_type.clone().unwrap_or_else(|| {
                match rdoc.shape() {
                    model::Kind::Index => model::OCI_INDEX,
                    _ => model::OCI_MANIFEST,
                }
                .to_owned()
            }));
            let entry = self
                .referrers
                .entry(subject.digest.clone())
                .or_insert_with(|| (subject.clone(), Vec::new()));
            if !entry.1.iter().any(|x| x.digest == rdesc.digest) {
                entry.1.push(rdesc.clone());
            }
            self.add_referrers(f, &rdesc, walk, rec, depth + 1)?;
        }
        Ok(())
    }
}

/// The referrers the source lists for `subject`, `depth` referrers below the image or its
/// platform manifests (0: their own): refused past [`MAX_REFERRER_DEPTH`], by export and by its
/// lock check alike.
pub(super) fn referrers_at(
    f: &mut dyn Fetch,
    subject: &Descriptor,
    depth: usize,
) -> Result<Vec<Descriptor>, ExportError> {
    let found = f.referrers(subject)?;
    if !found.is_empty() && depth >= MAX_REFERRER_DEPTH {
        return Err(SourceError::TooManyReferrers {
            subject: subject.digest.clone(),
            what: "referrers of referrers nested deeper than 8",
        }
        .into());
    }
    Ok(found)
}

/// Phase `plan`: resolves every source, fetches and checks its manifests and indexes (bytes
/// against their descriptors) and its signatures' referrers, and lays out `index.json`'s entries
/// (one per image, each signature untagged, one referrers tag index per signed subject). Nothing
/// large moves yet; an unsigned image under `--require-signature` stops here. Returns the plan and
/// the signatures by subject.
fn plan(
    sources: &mut [(String, Box<dyn Fetch>)],
    opts: &ExportOptions,
) -> Result<(Plan, Referrers), ExportError> {
    let mut plan = Plan::default();
    for (i, (given, f)) in sources.iter_mut().enumerate() {
        let (top, bytes) = f.resolve()?;
        let reference = f.reference();
        let mut rec = ExportedImage {
            source: given.clone(),
            reference: reference.clone(),
            digest: top.digest.clone(),
            platforms: Vec::new(),
            excluded: Vec::new(),
            signatures: Vec::new(),
            referrers: Vec::new(),
        };
        let walk = Walk {
            src: i,
            platforms: opts
                .source_platforms
                .get(i)
                .and_then(Option::as_deref)
                .unwrap_or(&opts.platforms),
            referrers: &opts.referrers,
        };
        plan.add_manifest(f.as_mut(), &top, bytes, &walk, &mut rec, 0)?;
        if rec.platforms.is_empty() {
            // A single-platform image: its platform is in its config.
            if let Some(cfg) = plan
                .small
                .get(&Digest::parse(&top.digest).map_err(SourceError::Digest)?)
                .and_then(|b| Document::parse(b).ok())
                .and_then(|d| d.config)
            {
                let mut buf = Vec::new();
                // Hashed like every byte export reads: the registry's first answer must not
                // choose the platform the record states (red team H, H5).
                if cfg.size <= 4 << 20
                    && f.blob(&cfg, &mut buf).is_ok()
                    && check_bytes(&cfg, &buf).is_ok()
                {
                    if let Ok(p) = serde_json::from_slice::<model::ConfigPlatform>(&buf) {
                        if !p.os.is_empty() {
                            rec.platforms.push(p.render());
                        }
                    }
                }
            }
        }
        if opts.require_signature && rec.signatures.is_empty() {
            return Err(ExportError::Unsigned(reference));
        }
        let mut annotations = BTreeMap::new();
        annotations.insert(model::REF_NAME.to_owned(), reference.clone());
        annotations.insert(model::CONTAINERD_NAME.to_owned(), reference.clone());
        if !rec.excluded.is_empty() {
            annotations.insert(model::EXCLUDED.to_owned(), rec.excluded.join(","));
        }
        plan.entries.push(desc_json(&top, &annotations));
        let manifests = match plan
            .small
            .get(&Digest::parse(&top.digest).map_err(SourceError::Digest)?)
            .and_then(|b| Document::parse(b).ok())
        {
            Some(doc) => lock::platform_manifests(&top, &doc, walk.platforms)
                .into_iter()
                .map(|c| c.digest)
                .collect(),
            None => Vec::new(),
        };
        plan.carried.push(lock::carried(&rec, manifests));
        plan.images.push(rec);
    }
    // Signatures: listed untagged, and in the referrers tag index of their subject.
    let referrers = std::mem::take(&mut plan.referrers);
    for (subject, (_, sigs)) in &referrers {
        let mut listed = Vec::new();
        for s in sigs {
            let annotations = referrer_annotations(&plan.small, s);
            plan.entries.push(desc_json(s, &annotations));
            listed.push(desc_json(s, &annotations));
        }
        let index = json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX, "manifests": listed});
        let bytes = serde_json::to_vec(&index).map_err(|source| SourceError::Encode {
            what: "a referrers index",
            source,
        })?;
        let d = Digest::sha256(&bytes);
        let tag = referrers_tag_of(subject)
            .ok_or_else(|| mismatch(subject, Mismatch::SubjectNotDigest))?;
        plan.entries.push(json!({
            "mediaType": model::OCI_INDEX,
            "digest": d.to_string(),
            "size": bytes.len(),
            "annotations": {model::REF_NAME: tag},
        }));
        plan.keep(d, bytes)?;
    }
    Ok((plan, referrers))
}

/// Phase `leave_out` (`--since`): every planned layer the far side's inventories list with the
/// same digest and size leaves the plan and is recorded (digest, size, media type, the images
/// that need it, the repositories holding it). Manifests, indexes, configs, signature manifests
/// and envelopes, and the trust artifact are never left out: verification needs them in hand.
fn leave_out(plan: &mut Plan, since: &BTreeMap<Digest, (u64, Vec<String>)>) -> u64 {
    if since.is_empty() {
        return 0;
    }
    let gone: Vec<Digest> = plan
        .blobs
        .iter()
        .filter(|(d, p)| p.leavable && since.get(*d).is_some_and(|(size, _)| *size == p.desc.size))
        .map(|(d, _)| d.clone())
        .collect();
    let mut bytes = 0u64;
    for d in gone {
        let Some(p) = plan.blobs.remove(&d) else {
            continue;
        };
        bytes = bytes.saturating_add(p.desc.size);
        plan.left_out.push(ta::LeftOut {
            digest: d.to_string(),
            size: p.desc.size,
            media_type: p.desc.media_type().to_owned(),
            images: p.images.into_iter().collect(),
            repositories: since.get(&d).map(|(_, r)| r.clone()).unwrap_or_default(),
        });
    }
    bytes
}

/// The CRLs a bundle carries, each with the URL it was fetched from.
type CarriedCrls = Vec<(Crl, Option<String>)>;

/// Phase `capture_crls`: the CRLs given with `--crl`, and (with a fetcher) those the captured
/// signing chains name, fetched now; returns them with the capture's warnings.
///
/// Never a bundle its own verify refuses: a CRL larger than [`ta::MAX_CARRIED_CRL_BYTES`], or
/// CRLs together larger than [`ta::MAX_CARRIED_CRLS_BYTES`], cannot be read back as parts of the
/// trust artifact. Given with `--crl`, that is a usage error; fetched, the CRL is left behind with
/// a warning (the far side can give it to `verify --crl`).
fn capture_crls(
    plan: &Plan,
    referrers: &Referrers,
    opts: &ExportOptions,
    crl_fetcher: Option<&mut dyn crl::CrlFetcher>,
) -> Result<(CarriedCrls, Vec<String>), ExportError> {
    let too_large = |what: String, size: usize| Usage::CrlTooLargeToCarry {
        what,
        size,
        limit: ta::MAX_CARRIED_CRL_BYTES,
        total_limit: ta::MAX_CARRIED_CRLS_BYTES,
        crl_limit: crate::notary::revocation::MAX_CRL_BYTES,
    };
    let mut crls = opts.crls.clone();
    let mut total = 0usize;
    for (c, _) in &crls {
        let size = c.der().len();
        total = total.saturating_add(size);
        if size > ta::MAX_CARRIED_CRL_BYTES {
            return Err(too_large(format!("--crl {}", c.digest()), size).into());
        }
    }
    if total > ta::MAX_CARRIED_CRLS_BYTES {
        return Err(too_large("the CRLs given with --crl, together,".into(), total).into());
    }
    let mut warnings = Vec::new();
    if let Some(fetcher) = crl_fetcher {
        let chains = envelope_chains(plan, referrers, opts.trust.as_ref());
        // What the bundle can still carry beside the CRLs given with --crl.
        let room = ta::MAX_CARRIED_CRLS_BYTES.saturating_sub(total);
        let captured = crl::capture(
            &chains,
            opts.exported_at.1,
            fetcher,
            (ta::MAX_CARRIED_CRL_BYTES, room),
        );
        warnings = captured.warnings;
        for (c, url) in captured.crls {
            if crls.iter().any(|(x, _)| x.der() == c.der()) {
                continue;
            }
            let size = c.der().len();
            let from = url.as_deref().unwrap_or("a distribution point");
            if size > ta::MAX_CARRIED_CRL_BYTES
                || total.saturating_add(size) > ta::MAX_CARRIED_CRLS_BYTES
            {
                warnings.push(format!(
                    "the CRL fetched from {from} ({} bytes, issuer {}) is not carried: a bundle \
                     carries CRLs of at most {} bytes each and {} bytes together; give it to \
                     `verify --crl` on the far side",
                    size,
                    c.issuer(),
                    ta::MAX_CARRIED_CRL_BYTES,
                    ta::MAX_CARRIED_CRLS_BYTES
                ));
                continue;
            }
            total += size;
            crls.push((c, url));
        }
    }
    Ok((crls, warnings))
}

/// Phase `trust_artifact`: the trust artifact, always (its export record is how a later export
/// recognises the output as airlock's own; with trust material, what the pin authenticates):
/// added to the plan's small documents and `index.json` entries. Returns the roots' fingerprints
/// and the pin (only with trust material).
fn trust_artifact(
    plan: &mut Plan,
    opts: &ExportOptions,
    crls: &[(Crl, Option<String>)],
) -> Result<(Vec<String>, Option<String>), ExportError> {
    // The trust artifact, always: its export record is how a later export recognises this output
    // as airlock's own, and, with trust material, what the pin authenticates.
    let mut record_blobs: Vec<(Digest, Vec<u8>)> = Vec::new();
    let (fingerprints, pin) = {
        let roots = opts
            .trust
            .as_ref()
            .map(TrustMaterial::roots)
            .unwrap_or_default();
        let mut fingerprints: Vec<String> = roots.iter().map(|r| r.fingerprint.clone()).collect();
        fingerprints.sort();
        fingerprints.dedup();
        let layers = ta::layers(opts.trust.as_ref(), crls);
        let record = ExportRecord {
            tool: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            exported_at: opts.exported_at.0.clone(),
            sources: plan.images.clone(),
            roots,
            crls: crls
                .iter()
                .map(|(c, url)| ta::CrlRecord {
                    digest: Digest::sha256(c.der()).to_string(),
                    issuer: c.issuer(),
                    this_update: signature::rfc3339(c.this_update()),
                    next_update: c.next_update().map(signature::rfc3339),
                    url: url.clone(),
                })
                .collect(),
            allow_failed_signatures: opts.allow_failed_signatures,
            left_out: plan.left_out.clone(),
        };
        let config = serde_json::to_vec(&record).map_err(|source| SourceError::Encode {
            what: "the export record",
            source,
        })?;
        let manifest = ta::manifest(&config, &layers);
        // Never a bundle its own verify refuses: the record and its manifest within what the
        // scan reads of a document (the left-out blobs' repositories come from inventories).
        let limit = Limits::default().max_manifest_bytes;
        for (what, size) in [
            ("export record", config.len()),
            ("trust artifact manifest", manifest.len()),
        ] {
            if u64::try_from(size).unwrap_or(u64::MAX) > limit {
                return Err(Usage::RecordTooLarge {
                    what,
                    size,
                    limit,
                    images: record.sources.len(),
                    referrers: record.sources.iter().map(|s| s.referrers.len()).sum(),
                    left_out: record.left_out.len(),
                    repositories: record.left_out.iter().map(|l| l.repositories.len()).sum(),
                }
                .into());
            }
        }
        let md = Digest::sha256(&manifest);
        // Only an artifact with trust material can anchor a verification.
        let pin = opts.trust.is_some().then(|| md.to_string());
        plan.entries.push(json!({
            "mediaType": model::OCI_MANIFEST,
            "artifactType": AIRLOCK_TRUST,
            "digest": md.to_string(),
            "size": manifest.len(),
        }));
        record_blobs.push((Digest::sha256(&config), config));
        for l in layers {
            record_blobs.push((Digest::sha256(&l.bytes), l.bytes));
        }
        if let Some(signer) = &opts.signer {
            sign_trust_artifact(plan, &mut record_blobs, signer, &md, &manifest, opts)?;
        }
        plan.keep(md, manifest)?;
        (fingerprints, pin)
    };
    for (d, b) in record_blobs {
        plan.small.entry(d).or_insert(b);
    }
    Ok((fingerprints, pin))
}

/// `export --sign-key`: a Notary signature of the trust artifact (made and checked as `airlock
/// sign` does, at the export time), listed in `index.json` with its envelope and empty config
/// among the small blobs; `verify` reports it as `exportedBy`.
fn sign_trust_artifact(
    plan: &mut Plan,
    blobs: &mut Vec<(Digest, Vec<u8>)>,
    signer: &crate::sign::Signer,
    md: &Digest,
    manifest: &[u8],
    opts: &ExportOptions,
) -> Result<(), ExportError> {
    let target = crate::notary::sign::TargetDescriptor {
        media_type: model::OCI_MANIFEST.to_owned(),
        digest: md.clone(),
        size: u64::try_from(manifest.len()).unwrap_or(u64::MAX),
    };
    let (envelope, sig) = crate::sign::sign_descriptor(&target, signer, opts.exported_at.1)
        .map_err(ExportError::Sign)?;
    plan.entries.push(json!({
        "mediaType": model::OCI_MANIFEST,
        "artifactType": NOTARY_SIGNATURE,
        "digest": sig.digest.to_string(),
        "size": sig.bytes.len(),
        "annotations": sig.annotations,
    }));
    blobs.push((Digest::sha256(&envelope), envelope));
    blobs.push((Digest::sha256(b"{}"), b"{}".to_vec()));
    plan.keep(sig.digest.clone(), sig.bytes)?;
    Ok(())
}

/// Phase `verify_captured`: with trust material, what was captured is verified (the same
/// integrity check and signature stage as `airlock verify`, over the in-memory catalog) before it
/// becomes visible. `None` without trust material; an error when a signature fails and
/// `--allow-failed-signatures` was not given.
fn verify_captured(
    cat: &Catalog,
    crls: &[(Crl, Option<String>)],
    opts: &ExportOptions,
) -> Result<Option<bool>, ExportError> {
    let limits = Limits::default();
    let mut signatures_verified = None;
    if let Some(trust) = &opts.trust {
        let integrity = crate::verify::check(cat, &[], &limits);
        let inputs = TrustInputs {
            policy: trust.policy.clone(),
            store_root: trust.store_root.clone(),
            // CRLs export fetched itself are bound to the URI it fetched them from.
            crls: crls
                .iter()
                .map(|(c, url)| match url {
                    Some(u) => crate::notary::revocation::CrlInput::captured(c.clone(), u.clone()),
                    None => crate::notary::revocation::CrlInput::new(c.clone()),
                })
                .collect(),
            at: opts.exported_at.1,
            scope: opts.scope.clone(),
            user_metadata: Vec::new(),
            names: signature::Names::Annotations,
        };
        let mut stores = StoreCache::new(&trust.store_root);
        let results = signature::verify_images(cat, &integrity, &inputs, &mut stores);
        let failed: Vec<Failed> = results
            .iter()
            .filter(|r| r.verdict != crate::verify::Verdict::Pass)
            .map(|r| match &r.failure {
                Some(f) => Failed::Image {
                    digest: r.digest.clone(),
                    code: f.code,
                    message: f.message.clone(),
                },
                None => Failed::Unexplained {
                    digest: r.digest.clone(),
                },
            })
            .chain(integrity.failures.iter().cloned().map(Failed::Integrity))
            .chain(lock::identity_failures(&results, &opts.identities))
            .collect();
        signatures_verified = Some(failed.is_empty());
        if !failed.is_empty() && !opts.allow_failed_signatures {
            return Err(ExportError::Signatures(Failures(failed, Vec::new())));
        }
    }
    Ok(signatures_verified)
}

/// What the phases before `finish` found, for the summary.
struct Found {
    blobs: u64,
    bytes: u64,
    fingerprints: Vec<String>,
    pin: Option<String>,
    signatures_verified: Option<bool>,
    crls: u64,
    warnings: Vec<String>,
    left_out_bytes: u64,
}

/// Phase `finish`: `index.json` last, the output made visible, and the summary.
fn finish(
    out: &mut dyn Sink,
    index_bytes: &[u8],
    opts: &ExportOptions,
    plan: Plan,
    found: Found,
) -> Result<ExportSummary, ExportError> {
    let Found {
        blobs,
        bytes: bytes_total,
        fingerprints,
        pin,
        signatures_verified,
        crls,
        warnings,
        left_out_bytes,
    } = found;
    let left_out_blobs = u64::try_from(plan.left_out.len()).unwrap_or(u64::MAX);
    let done = out.finish(index_bytes, pin.as_deref())?;
    let output_digest = done.digest.clone();
    let bundle = BundleIdentity {
        digest: Digest::sha256(index_bytes).to_string(),
        file_digest: match opts.output.kind {
            OutputKind::Dir => None,
            OutputKind::Tar(_) | OutputKind::Stdout(_) => Some(output_digest.to_string()),
        },
    };
    Ok(ExportSummary {
        output: opts.output.path.display().to_string(),
        output_digest: output_digest.to_string(),
        parts: done.parts,
        bundle,
        images: plan.images,
        blobs,
        bytes: bytes_total,
        pin,
        fingerprints,
        signatures_verified,
        crls,
        warnings,
        left_out_blobs,
        left_out_bytes,
    })
}
/// Runs an export of `sources` (already opened) into `opts.output`, through `target` (from
/// [`prepare`], which locked it; `None` for stdout). The phases, in order: [`plan`] (then what
/// it read compared with [`ExportOptions::checked`]), [`leave_out`], [`capture_crls`],
/// [`trust_artifact`], [`write`], [`verify_captured`], [`finish`].
pub fn export(
    sources: &mut [(String, Box<dyn Fetch>)],
    opts: &ExportOptions,
    target: Option<Target>,
    crl_fetcher: Option<&mut dyn crl::CrlFetcher>,
) -> Result<ExportSummary, ExportError> {
    let (mut plan, referrers) = plan(sources, opts)?;
    if let Some(checked) = &opts.checked {
        let differences = lock::carried_differences(checked, &plan.carried);
        if !differences.is_empty() {
            return Err(ExportError::Raced(differences));
        }
    }
    let left_out_bytes = leave_out(&mut plan, &opts.since);
    let (crls, warnings) = capture_crls(&plan, &referrers, opts, crl_fetcher)?;
    let (fingerprints, pin) = trust_artifact(&mut plan, opts, &crls)?;
    let index =
        json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX, "manifests": plan.entries});
    let index_bytes = serde_json::to_vec(&index).map_err(|source| SourceError::Encode {
        what: "index.json",
        source,
    })?;
    // Never a bundle its own verify refuses: index.json within what the scan reads.
    let limit = crate::layout::Limits::default().max_manifest_bytes;
    if u64::try_from(index_bytes.len()).unwrap_or(u64::MAX) > limit {
        return Err(Usage::IndexTooLarge {
            size: index_bytes.len(),
            limit,
        }
        .into());
    }
    let mut out = sink::open(&opts.output, target)?;
    let (cat, blobs, bytes_total) = write::write(&plan, sources, opts, out.as_mut(), &index_bytes)?;
    let signatures_verified = match verify_captured(&cat, &crls, opts) {
        Ok(v) => v,
        Err(mut e) => {
            out.abort();
            // What the capture left behind may be why (a CRL too large to carry).
            if let ExportError::Signatures(f) = &mut e {
                f.1.extend(warnings);
            }
            return Err(e);
        }
    };
    let found = Found {
        blobs,
        bytes: bytes_total,
        fingerprints,
        pin,
        signatures_verified,
        crls: u64::try_from(crls.len()).unwrap_or(u64::MAX),
        warnings,
        left_out_bytes,
    };
    finish(out.as_mut(), &index_bytes, opts, plan, found)
}

/// Extracts a layout tarball (`oci-archive:`) into `dest`, keeping only `oci-layout`, `index.json`
/// and blobs whose content matches their name; everything else is refused.
pub fn extract_archive(path: &Path, dest: &Path) -> Result<(), ExportError> {
    let bad = |problem: ArchiveProblem| SourceError::Archive {
        path: path.to_path_buf(),
        problem,
    };
    let source = crate::archive::open(path).map_err(|e| bad(ArchiveProblem::Open(e)))?;
    let crate::archive::Source::Stream { format, reader, .. } = source else {
        return Err(bad(ArchiveProblem::Directory).into());
    };
    let stream = crate::archive::decompress(
        reader,
        format,
        std::sync::Arc::new(crate::layout::NoProgress),
    );
    let mut entries = crate::layout::TarEntries::new(stream, &crate::layout::Limits::default());
    let w = crate::layout::LayoutWriter::create(dest).map_err(|e| ExportError::Output {
        path: dest.to_path_buf(),
        source: e,
    })?;
    let mut index: Option<Vec<u8>> = None;
    while let Some(e) = entries
        .next_entry()
        .map_err(|f| bad(ArchiveProblem::Entry(f)))?
    {
        let (class, size) = match e {
            crate::layout::Entry::Accepted { class, size, .. } => (class, size),
            crate::layout::Entry::Refused(f) => return Err(bad(ArchiveProblem::Entry(f)).into()),
        };
        match class {
            crate::layout::Name::IndexJson => {
                match entries
                    .read_small()
                    .map_err(|e| bad(ArchiveProblem::Read(e)))?
                {
                    crate::layout::Small::Bytes(b) => index = Some(b),
                    // The refusal the scan gives (`manifest_too_large`), before anything is parsed.
                    crate::layout::Small::TooLarge(n) => {
                        return Err(bad(ArchiveProblem::IndexTooLarge(n)).into())
                    }
                }
            }
            crate::layout::Name::Blob(d) => {
                // Committed under its name only if the content matches it (name and header size).
                w.put_blob(&d, Some(size), entries.body())
                    .map_err(|e| match e {
                        crate::layout::BlobError::Mismatch { actual, size: n } => mismatch(
                            &d.to_string(),
                            Mismatch::Content {
                                actual,
                                size: n,
                                expected: None,
                            },
                        ),
                        other => bad(ArchiveProblem::Blob(other)).into(),
                    })?;
            }
            // The root, `blobs/`, `blobs/<alg>/` and `oci-layout` carry nothing to copy (the
            // writer writes its own `oci-layout`); stray names were refused by the reader.
            _ => {}
        }
    }
    let index = index.ok_or_else(|| bad(ArchiveProblem::NoIndex))?;
    w.finish(&index).map_err(|e| ExportError::Output {
        path: dest.to_path_buf(),
        source: e,
    })
}

/// The registry client an export uses (feature `pull`).
#[cfg(feature = "pull")]
pub type RegistryHandle = std::sync::Arc<crate::registry::Registry>;
/// Without the `pull` feature there is no registry client.
#[cfg(not(feature = "pull"))]
pub type RegistryHandle = ();

/// Resolves a source argument into something to fetch from. Registry references need the `pull`
/// feature; `oci-archive:` sources are extracted under `scratch` first.
pub fn open_source(
    src: &SourceRef,
    scratch: &Path,
    registry: Option<&RegistryHandle>,
) -> Result<Box<dyn Fetch>, ExportError> {
    match src {
        SourceRef::Layout { path, selector } => {
            Ok(Box::new(LayoutFetch::open(path, selector.clone())?))
        }
        SourceRef::Archive { path, selector } => {
            let n = std::sync::atomic::AtomicU64::new(0);
            let dir = scratch.join(format!(
                "archive-{}",
                n.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ));
            extract_archive(path, &dir)?;
            Ok(Box::new(LayoutFetch::open(&dir, selector.clone())?))
        }
        #[cfg(feature = "pull")]
        SourceRef::Registry(r) => {
            let reg = registry.ok_or(Usage::NoRegistryClient)?;
            let f = RegistryFetch::new(reg.clone(), r).map_err(Usage::Reference)?;
            Ok(Box::new(f))
        }
        #[cfg(not(feature = "pull"))]
        SourceRef::Registry(r) => {
            let _ = registry;
            Err(Usage::NoPull {
                reference: r.clone(),
            }
            .into())
        }
    }
}
