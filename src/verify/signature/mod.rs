//! The signature stage: Notary Project verification of every image's signatures, from the bytes
//! the integrity stage already read, against local trust material.
//!
//! Per image: pick the trust-policy statement for its scope; find its signatures (manifests in
//! `index.json` or in the `sha256-<hex>` referrers tag index whose `subject` is the image, or one of
//! its child manifests, with the Notary artifact type); evaluate each signature in the
//! specification's order (integrity, authenticity and trusted identity, expiry, authentic
//! timestamp, revocation, then payload and user metadata); apply the level's enforce / log / skip
//! action to each validation. One passing signature verifies a target; all are reported.
//!
//! No clock, no network: the verification time is [`TrustInputs::at`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::digest::Digest;
use crate::finding::Code;
use crate::layout::model::{Descriptor, Document};
use crate::layout::Catalog;
use crate::notary::envelope::{EnvelopeError, EnvelopeFormat, SigningScheme};
use crate::notary::policy::{Action, PolicyDocument, PolicyError, PolicyReason};
use crate::notary::reason::Validation as Category;
use crate::notary::revocation::{ChainStatus, CrlInput};
use crate::notary::truststore::{self, StoreType, TrustStoreError, TrustStoreReason, TrustedCert};

use super::integrity::Integrity;
use super::report::Verdict;

mod decide;
mod discover;
mod evaluate;
pub mod exporter;
#[cfg(test)]
mod tests;

pub use decide::Names;
use decide::{judge_image, Ctx};
pub use discover::envelope_fingerprints;
pub use evaluate::{evaluate, evaluate_authentic_timestamp};

/// Signatures evaluated per target at most (notation CLI's `--max-signatures` default, SPEC-NOTES
/// erratum 18).
pub const MAX_SIGNATURES_PER_TARGET: usize = 100;

/// Everything the signature stage needs besides the bundle.
#[derive(Clone)]
pub struct TrustInputs {
    /// The trust policy document.
    pub policy: PolicyDocument,
    /// The trust store root (the folder holding `x509/`).
    pub store_root: PathBuf,
    /// CRLs at hand (from `--crl` and the bundle), each with the URI it was captured from when
    /// that capture is authenticated (a pinned trust artifact, or export's own fetch).
    pub crls: Vec<CrlInput>,
    /// Verification time, Unix seconds.
    pub at: i64,
    /// Registry scope to match instead of each image's recorded repository.
    pub scope: Option<String>,
    /// Required user metadata (`--user-metadata K=V`).
    pub user_metadata: Vec<(String, String)>,
    /// Where image names come from.
    pub names: Names,
}

/// Trust stores, loaded once each.
pub struct StoreCache {
    root: Option<PathBuf>,
    loaded: HashMap<(StoreType, String), Result<Vec<TrustedCert>, TrustStoreError>>,
}

impl StoreCache {
    /// A cache over the trust store at `root`.
    pub fn new(root: &Path) -> Self {
        StoreCache {
            root: Some(root.to_path_buf()),
            loaded: HashMap::new(),
        }
    }

    /// Stores given in memory (the trust artifact a bundle carries); any other store is missing.
    pub fn preloaded(
        stores: HashMap<(StoreType, String), Result<Vec<TrustedCert>, TrustStoreError>>,
    ) -> Self {
        StoreCache {
            root: None,
            loaded: stores,
        }
    }

    /// Loads (once) the store `kind:name`.
    pub fn get(
        &mut self,
        kind: StoreType,
        name: &str,
    ) -> &Result<Vec<TrustedCert>, TrustStoreError> {
        let root = self.root.clone();
        self.loaded
            .entry((kind, name.to_owned()))
            .or_insert_with(|| match root {
                Some(root) => {
                    truststore::load_with(&root, kind, name, &crate::notary::chain::is_self_signed)
                }
                None => Err(TrustStoreError::Missing {
                    kind,
                    name: name.to_owned(),
                    path: PathBuf::from(format!("(bundle trust artifact) x509/{kind}/{name}")),
                }),
            })
    }

    /// SHA-256 fingerprints of every certificate loaded so far, sorted.
    pub fn fingerprints(&self) -> Vec<String> {
        let mut v: BTreeSet<String> = BTreeSet::new();
        for certs in self.loaded.values().flatten() {
            for c in certs {
                v.insert(Digest::sha256(&c.der).to_string());
            }
        }
        v.into_iter().collect()
    }
}

/// The result of one validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Failed.
    Fail,
    /// Could not be established (revocation without a current CRL).
    Unknown,
    /// Not evaluated: skipped by the policy, or an earlier enforced check failed.
    Skipped,
}

/// One validation in the report.
#[derive(Clone, Debug, Serialize)]
pub struct Validation {
    /// What happened.
    pub result: Outcome,
    /// What the policy does with a failure: `enforce`, `log` or `skip`.
    pub action: Action,
    /// Why it failed (or why it was not evaluated).
    pub reason: Option<String>,
}

impl Validation {
    fn pending(action: Action) -> Self {
        Validation {
            result: Outcome::Skipped,
            action,
            reason: Some(match action {
                Action::Skip => "skipped by the trust policy".into(),
                _ => "not evaluated: an earlier enforced check failed".into(),
            }),
        }
    }
}

/// The five validations of the specification.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validations {
    /// Envelope, signature, certificate rules, payload.
    pub integrity: Validation,
    /// Chain to a trust store, trusted identity.
    pub authenticity: Validation,
    /// Certificate validity at the trusted time; RFC 3161 timestamp.
    pub authentic_timestamp: Validation,
    /// `io.cncf.notary.expiry`.
    pub expiry: Validation,
    /// CRL status of the signing chain.
    pub revocation: Validation,
}

/// The signer.
#[derive(Clone, Debug, Serialize)]
pub struct Signer {
    /// Leaf certificate subject (RFC 4514).
    pub subject: String,
    /// Leaf certificate issuer.
    pub issuer: String,
}

/// A verified timestamp.
#[derive(Clone, Debug, Serialize)]
pub struct TimestampReport {
    /// `genTime`, RFC 3339.
    pub time: String,
    /// The TSA certificate's subject.
    pub tsa: String,
    /// The TSA chain's revocation status, certificate by certificate, with the CRLs that decided.
    pub revocation: Option<ChainStatus>,
}

/// A failure of a signature: its stable code and message.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureFailure {
    /// Stable code.
    pub code: Code,
    /// For people.
    pub message: String,
}

/// One signature in the report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureReport {
    /// The signature manifest's digest.
    pub manifest_digest: String,
    /// The digest of the manifest it signs.
    pub subject_digest: String,
    /// `jws` or `cose`.
    pub envelope_type: Option<EnvelopeFormat>,
    /// `notary.x509` or `notary.x509.signingAuthority`.
    pub signing_scheme: Option<SigningScheme>,
    /// Leaf subject and issuer.
    pub signer: Option<Signer>,
    /// SHA-256 of each chain certificate, leaf first.
    pub chain_fingerprints: Vec<String>,
    /// SHA-256 of the trust-store certificate that anchored the chain (authenticity).
    pub anchor: Option<String>,
    /// Signing time (or authentic signing time), RFC 3339.
    pub signing_time: Option<String>,
    /// The verified timestamp, when one was used.
    pub timestamp: Option<TimestampReport>,
    /// Expiry, RFC 3339.
    pub expiry: Option<String>,
    /// The user metadata it signs (its payload's `targetArtifact.annotations`), once its
    /// integrity passed; absent when none.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub user_metadata: std::collections::BTreeMap<String, String>,
    /// Each validation.
    pub validations: Validations,
    /// The signing chain's revocation status, certificate by certificate (leaf first), with the
    /// CRLs that decided each (issuer, number, the distribution-point URI they covered) or why
    /// none applied; null when revocation was not evaluated.
    pub revocation: Option<ChainStatus>,
    /// `pass` or `fail`.
    pub verdict: Verdict,
    /// The enforced failure that decided a `fail`.
    pub failure: Option<SignatureFailure>,
    /// Logged (non-enforced) failures.
    pub warnings: Vec<SignatureFailure>,
}

impl SignatureReport {
    /// True when this signature passed with its integrity and its authenticity both verified
    /// and enforced: the signer is one the trust policy's stores vouch for. A pass at `audit`
    /// (authenticity only logged), or under an override that logs authenticity, proves nothing
    /// about who signed: anyone can mint such a signature.
    pub fn authentic(&self) -> bool {
        let verified = |v: &Validation| {
            v.result == Outcome::Pass && v.action == crate::notary::policy::Action::Enforce
        };
        self.verdict == Verdict::Pass
            && verified(&self.validations.integrity)
            && verified(&self.validations.authenticity)
    }
}

/// The descriptor a signature must sign.
#[derive(Clone, Debug)]
pub struct Target {
    /// Media type.
    pub media_type: String,
    /// Digest.
    pub digest: String,
    /// Size.
    pub size: u64,
}

/// RFC 3339 (UTC, seconds) of Unix seconds.
pub fn rfc3339(t: i64) -> String {
    crate::notary::time::rfc3339(t)
}

/// An envelope error by its validation category: a plugin requirement is its own reason; every
/// other envelope failure is integrity (the expiry step judges expiry separately, erratum 2 makes
/// certificate rules integrity failures).
impl From<&EnvelopeError> for Code {
    fn from(e: &EnvelopeError) -> Code {
        match e.category() {
            Category::PluginRequired => Code::PluginRequired,
            Category::Integrity
            | Category::Expiry
            | Category::UserMetadata
            | Category::AuthenticTimestamp => Code::SignatureIntegrity,
        }
    }
}

/// A trust store's reason: missing, or unusable (I/O errors included).
impl From<TrustStoreReason> for Code {
    fn from(r: TrustStoreReason) -> Code {
        match r {
            TrustStoreReason::TruststoreMissing => Code::TruststoreMissing,
            TrustStoreReason::TruststoreIo | TrustStoreReason::TruststoreInvalid => {
                Code::TruststoreInvalid
            }
        }
    }
}

impl From<&TrustStoreError> for Code {
    fn from(e: &TrustStoreError) -> Code {
        e.reason().into()
    }
}

/// What [`PolicyDocument::statement_for`]'s errors mean for an image: no statement applies, or
/// the scope cannot be matched (a scope refused by a statement's own rules included).
impl From<PolicyReason> for Code {
    fn from(r: PolicyReason) -> Code {
        match r {
            PolicyReason::NoApplicablePolicy => Code::NoApplicablePolicy,
            PolicyReason::ScopeInvalid | PolicyReason::PolicyInvalid => Code::ScopeUnknown,
        }
    }
}

impl From<&PolicyError> for Code {
    fn from(e: &PolicyError) -> Code {
        e.reason().into()
    }
}

/// The signature outcome of one image.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSignatures {
    /// The image digest.
    pub digest: String,
    /// The registry scope matched.
    pub scope: Option<String>,
    /// The trust-policy statement applied.
    pub policy: Option<PolicyRef>,
    /// Every signature evaluated.
    pub signatures: Vec<SignatureReport>,
    /// `pass` or `fail`.
    pub verdict: Verdict,
    /// Why it failed.
    pub failure: Option<SignatureFailure>,
    /// Problems that did not decide the verdict (a failing signature of a platform manifest whose
    /// index verified).
    pub warnings: Vec<SignatureFailure>,
}

/// The statement applied to an image.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyRef {
    /// Statement name.
    pub name: String,
    /// Its level.
    pub level: &'static str,
}

/// The repository of a reference: `registry/repo:tag` or `registry/repo@digest` -> `registry/repo`.
/// `None` when the reference names no repository (a bare tag such as `v1`).
pub fn scope_of(reference: &str) -> Option<String> {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let last_slash = without_digest.rfind('/')?;
    let tail = without_digest.get(last_slash..).unwrap_or("");
    let repo = match tail.rfind(':') {
        Some(i) => without_digest
            .get(..last_slash + i)
            .unwrap_or(without_digest),
        None => without_digest,
    };
    Some(repo.to_owned())
}

/// Verifies the signatures of every image `integrity` describes (SPEC-NOTES erratum 18): an image
/// is the manifest or index its reference resolves to, and passes when one of its signatures
/// passes. Signatures of platform manifests of a signed index are reported, and a failing one is a
/// warning, not a failure (the index digest commits to its children). An index without signatures
/// passes only when every platform manifest it carries passes by its own signatures.
pub fn verify_images(
    cat: &Catalog,
    integrity: &Integrity,
    inputs: &TrustInputs,
    stores: &mut StoreCache,
) -> Vec<ImageSignatures> {
    let entries: Vec<Descriptor> = cat
        .index_json
        .as_ref()
        .and_then(|s| s.bytes())
        .and_then(|b| Document::parse(b).ok())
        .and_then(|d| d.manifests)
        .unwrap_or_default();
    let ctx = Ctx {
        cat,
        integrity,
        entries: &entries,
        inputs,
        evaluated: Default::default(),
    };
    integrity
        .images
        .iter()
        .map(|image| judge_image(image, &ctx, stores))
        .collect()
}

/// Signature warnings and failures by image, for the report's flat lists.
pub fn summarize(images: &[ImageSignatures]) -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    for i in images {
        let msgs: Vec<String> = i
            .signatures
            .iter()
            .flat_map(|s| {
                s.warnings
                    .iter()
                    .map(|w| format!("{}: {}", w.code, w.message))
            })
            .collect();
        m.insert(i.digest.clone(), msgs);
    }
    m
}
