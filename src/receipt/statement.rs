//! The statement: an in-toto Statement v1 with a SLSA Verification Summary v1 predicate, built from
//! a verification report.
//!
//! Field rules followed (read from the specifications):
//!
//! * in-toto attestation framework v1, `spec/v1/statement.md`: `_type` is always
//!   `https://in-toto.io/Statement/v1`; `subject` is a non-empty array of ResourceDescriptors, each
//!   with `digest` set (here `{"sha256": hex}`, the image digest) and `name` (the image reference,
//!   or `_` when the name is not meaningful); `predicateType` is a TypeURI; `predicate` an object.
//! * in-toto v1 `spec/v1/README.md`, "Parsing rules": consumers MUST ignore unrecognized fields,
//!   and producers MAY add extension fields with names unlikely to collide. airlock's own detail is
//!   therefore one extension field of the predicate, [`super::DETAIL_KEY`], which a VSA reader
//!   ignores and an airlock reader uses.
//! * in-toto v1 `resource_descriptor.md`: a ResourceDescriptor sets at least one of `uri`,
//!   `digest`, `content`; unset fields are left out (never `null`).
//! * SLSA `verification_summary/v1`: `verifier.id` (TypeURI, required) and `verifier.version`
//!   (map of component to version); `timeVerified`; `resourceUri` (required); `policy`
//!   (ResourceDescriptor, required); `inputAttestations` (ResourceDescriptors of what was used);
//!   `verificationResult` `PASSED` or `FAILED` (required); `verifiedLevels` (required):
//!   `FAILED` when verification failed, else custom values, which must not start with `SLSA_`
//!   (airlock verifies Notary signatures and integrity, not a SLSA build track).
//!
//! Determinism: struct field order fixes the key order, maps are `BTreeMap`s, arrays follow the
//! report's order, and the only time is the report's `verifiedAt`; the same report and context
//! give the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::digest::Digest;
use crate::finding::Finding;
use crate::notary::revocation::{ChainStatus, CrlUse};
use crate::verify::report::{ImageReport, LeftOutReport, TrustAnchor};
use crate::verify::signature::exporter::ExportedBy;
use crate::verify::signature::{scope_of, PolicyRef, SignatureReport};
use crate::verify::{AnchorMode, Report, Verdict};

use super::{PREDICATE_TYPE, STATEMENT_TYPE, VERIFIER_ID};

/// Version of the [`super::DETAIL_KEY`] object.
pub const DETAIL_VERSION: u32 = 1;

/// `verifiedLevels` of a passing integrity-only verification.
pub const LEVEL_INTEGRITY: &str = "AIRLOCK_INTEGRITY_VERIFIED";
/// `verifiedLevels` of a passing verification of a differential bundle, in place of
/// [`LEVEL_INTEGRITY`]: every blob in hand was verified, but the blobs `export --since` left out
/// (`detail.leftOut` counts them) were not in hand and were not checked here.
pub const LEVEL_INTEGRITY_PARTIAL: &str = "AIRLOCK_INTEGRITY_VERIFIED_EXCEPT_LEFT_OUT";
/// `verifiedLevels` entry added when every subject passed on a Notary signature whose integrity
/// and authenticity were verified with the trust policy enforcing both (its validations say
/// `pass` and `enforce`).
pub const LEVEL_SIGNATURES: &str = "AIRLOCK_NOTARY_SIGNATURES_VERIFIED";
/// `verifiedLevels` of a failed verification (the VSA's own value).
pub const LEVEL_FAILED: &str = "FAILED";

/// The `policy` URI of an integrity-only verification: airlock's built-in structural rules.
pub const INTEGRITY_ONLY_POLICY: &str = "urn:airlock:policy:integrity-only";

/// Which policy the verification ran under, as the caller knows it.
#[derive(Clone, Debug)]
pub enum PolicyInput {
    /// A local trust policy document: where it was read from and its bytes' digest.
    Local {
        /// The policy's location as given (a path or URI).
        uri: String,
        /// sha256 of the document's bytes.
        digest: Digest,
    },
    /// The trust anchor the report names (the bundle's trust artifact, pinned or not), or
    /// airlock's integrity rules when no trust material was used.
    FromReport,
}

/// What a receipt needs beyond the report.
#[derive(Clone, Debug)]
pub struct ReceiptContext {
    /// `resourceUri`: the bundle (or the registry location) that was verified.
    pub resource_uri: String,
    /// The policy.
    pub policy: PolicyInput,
    /// Only this image (top-level digest): the per-image receipt import attaches; `None` for
    /// every image of the report.
    pub image: Option<String>,
}

/// A ResourceDescriptor (in-toto v1); unset fields are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDescriptor {
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// URI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Algorithm -> lowercase hex.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
    /// Media type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// The verifier.
#[derive(Clone, Debug, Serialize)]
pub struct Verifier {
    /// [`VERIFIER_ID`].
    pub id: &'static str,
    /// `{"airlock": VERSION}`.
    pub version: BTreeMap<&'static str, &'static str>,
}

/// The VSA v1 predicate, with airlock's detail as an extension field.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Predicate {
    /// Who verified.
    pub verifier: Verifier,
    /// When (the report's `verifiedAt`).
    pub time_verified: String,
    /// What was verified.
    pub resource_uri: String,
    /// Under which policy.
    pub policy: ResourceDescriptor,
    /// The signature manifests evaluated.
    pub input_attestations: Vec<ResourceDescriptor>,
    /// `PASSED` or `FAILED`.
    pub verification_result: &'static str,
    /// See [`LEVEL_INTEGRITY`], [`LEVEL_SIGNATURES`], [`LEVEL_FAILED`].
    pub verified_levels: Vec<&'static str>,
    /// airlock's detail, under [`super::DETAIL_KEY`] (spelled out here for serde; a unit test
    /// keeps the two equal).
    #[serde(rename = "io.airlock.receipt")]
    pub detail: Detail,
}

/// airlock's detail: what the VSA fields summarise.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Detail {
    /// [`DETAIL_VERSION`].
    pub schema_version: u32,
    /// `integrity-only` or `signatures`.
    pub mode: &'static str,
    /// sha256 of the bundle's `index.json`.
    pub bundle_digest: Option<String>,
    /// sha256 of the bundle file as read (a tarball, or a parts set's whole stream); absent for a
    /// directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_file_digest: Option<String>,
    /// `directory`, `tar`, `tar+gzip` or `tar+zstd`.
    pub bundle_format: &'static str,
    /// The trust anchor: mode, pin, artifact, trust-store fingerprints.
    pub trust_anchor: Option<TrustAnchor>,
    /// The user metadata required of every passing signature (`--user-metadata`); absent when
    /// none was (red team J, J10: the gate left no trace).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub required_user_metadata: std::collections::BTreeMap<String, String>,
    /// Every CRL that decided a certificate's status (signing and TSA chains), once each.
    pub crls: Vec<CrlUse>,
    /// Each image with its policy statement and each signature's validations.
    pub images: Vec<ImageDetail>,
    /// A differential bundle's blobs left out (`export --since`): not checked in the bundle.
    pub left_out: Option<LeftOutReport>,
    /// Blobs taken from `verify --base` bundles (re-hashed there).
    pub base_blobs: Option<u64>,
    /// The report's failures.
    pub failures: Vec<Finding>,
    /// The report's warnings (a platform label the manifest contradicts, a file beside
    /// `index.json`, a layer not carried...): what did not fail the verification but an auditor
    /// reading only the receipt should see; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Finding>,
    /// Who exported the bundle: the export signatures of its trust artifact as verify evaluated
    /// them (signer, chain fingerprints, signing time, result); `null` when it carries none.
    pub exported_by: Option<ExportedBy>,
}

/// One image in the detail.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageDetail {
    /// Reference.
    pub reference: Option<String>,
    /// Digest.
    pub digest: String,
    /// Media type.
    pub media_type: String,
    /// Platforms of its index left out by `export --platform` (not verified); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms_left_out: Vec<String>,
    /// The registry scope matched.
    pub scope: Option<String>,
    /// The trust-policy statement applied.
    pub policy: Option<PolicyRef>,
    /// `pass` or `fail` (signature mode).
    pub verdict: Option<Verdict>,
    /// Every signature evaluated, with its validations.
    pub signatures: Option<Vec<SignatureReport>>,
}

/// The statement.
#[derive(Clone, Debug, Serialize)]
pub struct Statement {
    /// [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub type_: &'static str,
    /// The verified images.
    pub subject: Vec<ResourceDescriptor>,
    /// [`PREDICATE_TYPE`].
    #[serde(rename = "predicateType")]
    pub predicate_type: &'static str,
    /// The VSA.
    pub predicate: Predicate,
}

impl Statement {
    /// The statement's bytes: pretty JSON and a final newline, deterministic.
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut b = serde_json::to_vec_pretty(self)?;
        b.push(b'\n');
        Ok(b)
    }
}

/// `{"sha256": hex}` of `sha256:hex` (any algorithm the digest grammar allows); empty when the
/// string is not a digest.
fn digest_map(digest: &str) -> BTreeMap<String, String> {
    match Digest::parse(digest) {
        Ok(d) => BTreeMap::from([(d.algorithm().name().to_owned(), d.hex().to_owned())]),
        Err(_) => BTreeMap::new(),
    }
}

fn subject_of(im: &ImageReport) -> ResourceDescriptor {
    ResourceDescriptor {
        name: Some(im.reference.clone().unwrap_or_else(|| "_".to_owned())),
        digest: digest_map(&im.digest),
        ..ResourceDescriptor::default()
    }
}

/// The signature manifests evaluated for `im`, each once, as ResourceDescriptors: the digest, the
/// manifest media type, and (when the image names a repository) the `REPO@DIGEST` location where
/// the signature sits beside its subject.
fn inputs_of(im: &ImageReport, out: &mut Vec<ResourceDescriptor>) {
    let repo = im.reference.as_deref().and_then(scope_of);
    for sig in im.signatures.iter().flatten() {
        let d = ResourceDescriptor {
            name: None,
            uri: repo
                .as_ref()
                .map(|r| format!("{r}@{}", sig.manifest_digest)),
            digest: digest_map(&sig.manifest_digest),
            media_type: Some("application/vnd.oci.image.manifest.v1+json".to_owned()),
        };
        if !d.digest.is_empty() && !out.contains(&d) {
            out.push(d);
        }
    }
}

fn crls_of(status: Option<&ChainStatus>, out: &mut Vec<CrlUse>) {
    for cert in status.iter().flat_map(|s| &s.certs) {
        for c in &cert.crls {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
    }
}

fn policy_of(report: &Report, ctx: &ReceiptContext, images: &[&ImageReport]) -> ResourceDescriptor {
    let mut names: Vec<&str> = Vec::new();
    for p in images.iter().filter_map(|i| i.policy.as_ref()) {
        if !names.contains(&p.name.as_str()) {
            names.push(&p.name);
        }
    }
    let name = (!names.is_empty()).then(|| names.join(", "));
    match &ctx.policy {
        PolicyInput::Local { uri, digest } => ResourceDescriptor {
            name,
            uri: Some(uri.clone()),
            digest: digest_map(&digest.to_string()),
            media_type: None,
        },
        PolicyInput::FromReport => match report
            .trust_anchor
            .as_ref()
            .and_then(|a| a.artifact.as_ref())
        {
            // The bundle's trust artifact carries the policy; its manifest digest authenticates it.
            Some(artifact) => ResourceDescriptor {
                name,
                uri: Some(format!("{}@{artifact}", ctx.resource_uri)),
                digest: digest_map(artifact),
                media_type: Some("application/vnd.oci.image.manifest.v1+json".to_owned()),
            },
            None => ResourceDescriptor {
                name,
                uri: Some(INTEGRITY_ONLY_POLICY.to_owned()),
                ..ResourceDescriptor::default()
            },
        },
    }
}

/// True when `im` passed on a signature whose integrity and authenticity were both verified and
/// enforced: a passing signature whose report says `pass` under the action `enforce` for each of
/// the two. Read from the signature's own validations, not the statement's level name: an
/// `override` can log authenticity under `strict` (an untrusted signer then passes), and under
/// `audit` (authenticity only logged) or `skip` (nothing verified) an image passes without it; the
/// receipt then does not claim signatures.
fn signatures_verified(im: &ImageReport) -> bool {
    im.signatures.iter().flatten().any(|s| s.authentic())
}

/// True when the report's trust anchor is one the bundle cannot choose: local trust material, or
/// the trust artifact pinned out of band. Under `--trust-bundled` (`bundled-unpinned`) the carrier
/// chose the policy and the roots, so a pass proves integrity only and signatures are not claimed.
fn anchored_outside_the_bundle(report: &Report) -> bool {
    report
        .trust_anchor
        .as_ref()
        .is_some_and(|a| matches!(a.mode, AnchorMode::Local | AnchorMode::Pinned))
}

/// Builds the statement for `report` (every image, or only `ctx.image`).
pub fn build(report: &Report, ctx: &ReceiptContext) -> Statement {
    let images: Vec<&ImageReport> = report
        .images
        .iter()
        .filter(|im| ctx.image.as_ref().is_none_or(|d| *d == im.digest))
        .collect();
    let mut inputs = Vec::new();
    let mut crls = Vec::new();
    for im in &images {
        inputs_of(im, &mut inputs);
        for sig in im.signatures.iter().flatten() {
            crls_of(sig.revocation.as_ref(), &mut crls);
            crls_of(
                sig.timestamp.as_ref().and_then(|t| t.revocation.as_ref()),
                &mut crls,
            );
        }
    }
    let passed = report.verdict == Verdict::Pass
        && images
            .iter()
            .all(|im| im.verdict.is_none_or(|v| v == Verdict::Pass));
    // Blobs a differential export left out, platform manifests `export --platform` left out (so
    // the bundle says) and non-distributable layers not carried were not verified: the receipt
    // does not claim the whole image (red team J, J2).
    let integrity = if report.left_out.as_ref().is_some_and(|l| l.blobs > 0)
        || images.iter().any(|im| !im.platforms_left_out.is_empty())
        || report.warnings.iter().any(|w| {
            matches!(
                w.code,
                crate::finding::Code::ForeignBlobAbsent | crate::finding::Code::ExcludedByExport
            )
        }) {
        LEVEL_INTEGRITY_PARTIAL
    } else {
        LEVEL_INTEGRITY
    };
    let levels = if !passed {
        vec![LEVEL_FAILED]
    } else if anchored_outside_the_bundle(report) && images.iter().all(|im| signatures_verified(im))
    {
        vec![integrity, LEVEL_SIGNATURES]
    } else {
        vec![integrity]
    };
    Statement {
        type_: STATEMENT_TYPE,
        subject: images.iter().map(|im| subject_of(im)).collect(),
        predicate_type: PREDICATE_TYPE,
        predicate: Predicate {
            verifier: Verifier {
                id: VERIFIER_ID,
                version: BTreeMap::from([(report.tool.name, report.tool.version)]),
            },
            time_verified: report.verified_at.clone(),
            resource_uri: ctx.resource_uri.clone(),
            policy: policy_of(report, ctx, &images),
            input_attestations: inputs,
            verification_result: if passed { "PASSED" } else { "FAILED" },
            verified_levels: levels,
            detail: Detail {
                schema_version: DETAIL_VERSION,
                mode: report.mode,
                bundle_digest: report.bundle_digest.clone(),
                bundle_file_digest: report.bundle.file_digest.clone(),
                bundle_format: report.bundle.format,
                trust_anchor: report.trust_anchor.clone(),
                required_user_metadata: report.required_user_metadata.clone(),
                crls,
                images: images
                    .iter()
                    .map(|im| ImageDetail {
                        reference: im.reference.clone(),
                        digest: im.digest.clone(),
                        media_type: im.media_type.clone(),
                        platforms_left_out: im.platforms_left_out.clone(),
                        scope: im.scope.clone(),
                        policy: im.policy.clone(),
                        verdict: im.verdict,
                        signatures: im.signatures.clone(),
                    })
                    .collect(),
                left_out: report.left_out.clone(),
                base_blobs: report.base_blobs,
                failures: report.failures.clone(),
                warnings: report.warnings.clone(),
                exported_by: report.exported_by.clone(),
            },
        },
    }
}

/// A file path as a `file://` URI (RFC 8089), with the characters a URI cannot carry
/// percent-encoded; `-` (stdin) is `file:///dev/stdin`.
pub fn file_uri(path: &std::path::Path) -> String {
    let s = path.to_string_lossy();
    if s == "-" {
        return "file:///dev/stdin".to_owned();
    }
    let mut out = String::from("file://");
    if !s.starts_with('/') {
        out.push('/');
    }
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:@!$&'()*+,;=".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
