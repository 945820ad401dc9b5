//! The audit report: a deterministic JSON document.
//!
//! Keys come in a fixed order (struct field order) and arrays in bundle order, so two runs over the
//! same bundle differ only in `verifiedAt`.
//!
//! ```json
//! {
//!   "schemaVersion": 1,
//!   "tool": {"name": "airlock", "version": "0.1.0"},
//!   "verifiedAt": "2026-11-24T12:00:00Z",
//!   "mode": "integrity-only",
//!   "bundle": {"format": "tar+zstd"},
//!   "verdict": "pass",
//!   "bundleDigest": "sha256:…",
//!   "blobs": {"checked": 9, "bytes": 1073745210, "failed": 0},
//!   "failures": [{"code": "digest_mismatch", "digest": "sha256:…", "path": "blobs/sha256/…", "message": "…"}],
//!   "warnings": [],
//!   "images": [{"reference": "…", "digest": "sha256:…", "mediaType": "…", "platforms": ["linux/amd64"],
//!               "size": 1073745210, "referrers": [{"digest": "sha256:…", "artifactType": "…"}]}]
//! }
//! ```

use serde::Serialize;

use super::integrity::Integrity;
use super::signature::exporter::ExportedBy;
use super::signature::{ImageSignatures, PolicyRef, SignatureReport};
use crate::archive::parts::PartsOutcome;
use crate::finding::{Code, Finding};
use crate::layout::Catalog;

/// Version of the report format.
pub const SCHEMA_VERSION: u32 = 1;

/// The overall verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Everything checked passed.
    Pass,
    /// At least one failure.
    Fail,
}

impl Verdict {
    /// The JSON spelling: `pass` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tool that wrote the report.
#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    /// `airlock`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

impl Tool {
    /// This build.
    pub fn this() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The bundle's physical form and its identity: the same `bundle` (and, for a tarball, `file`)
/// digests `export`, `verify`, `inspect` and `import` all print.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleInfo {
    /// `directory`, `tar`, `tar+gzip` or `tar+zstd`.
    pub format: &'static str,
    /// sha256 of `index.json`'s bytes: the bundle's identity, whatever its form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// sha256 of the tarball file's own bytes (as stored; a parts set's bytes in order), computed
    /// while the file was read. Absent for a directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_digest: Option<String>,
}

/// Blob counts.
#[derive(Clone, Debug, Serialize)]
pub struct BlobStats {
    /// Distinct blobs checked.
    pub checked: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Distinct blobs with a failure.
    pub failed: u64,
}

/// A referrer in the report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferrerReport {
    /// Referrer manifest digest.
    pub digest: String,
    /// Artifact type.
    pub artifact_type: Option<String>,
    /// Subject digest.
    pub subject: String,
    /// What verification checks of it: `signature` (a notation signature: its integrity, and, when
    /// signatures are verified, only one the signature stage evaluated), or `integrity` (any other
    /// artifact, or one labelled a signature that was not evaluated as one: carried, integrity
    /// checked, not signature-verified).
    pub checked: &'static str,
}

/// The `checked` value of a referrer of artifact type `t` (see [`ReferrerReport::checked`]).
pub fn referrer_checked(t: Option<&str>) -> &'static str {
    if t == Some(crate::layout::model::NOTARY_SIGNATURE) {
        "signature"
    } else {
        "integrity"
    }
}

/// An image in the report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageReport {
    /// Reference name.
    pub reference: Option<String>,
    /// Top-level digest.
    pub digest: String,
    /// Top-level media type.
    pub media_type: String,
    /// Platforms the bundle holds (its index's labels, each checked against the manifest's
    /// config; a single manifest's from its config).
    pub platforms: Vec<String>,
    /// Platforms its index lists that `export --platform` left out (so the bundle says): not
    /// verified. Absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms_left_out: Vec<String>,
    /// Total bytes.
    pub size: u64,
    /// Referrers (signatures and other artifacts).
    pub referrers: Vec<ReferrerReport>,
    /// The registry scope the trust policy was matched against (signature mode).
    pub scope: Option<String>,
    /// The trust-policy statement applied (signature mode).
    pub policy: Option<PolicyRef>,
    /// Every signature evaluated (signature mode; `null` when verifying integrity only).
    pub signatures: Option<Vec<SignatureReport>>,
    /// The image's signature verdict, `pass` or `fail` (signature mode).
    pub verdict: Option<Verdict>,
}

/// Where the trust anchor came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AnchorMode {
    /// The trust policy and store on the verifying machine.
    #[serde(rename = "local")]
    Local,
    /// The bundle's trust artifact, accepted because its manifest digest equals `--pin`.
    #[serde(rename = "pinned")]
    Pinned,
    /// `--trust-bundled`: trust anchored in the bundle itself.
    #[serde(rename = "bundled-unpinned")]
    BundledUnpinned,
}

/// Where the trust anchor came from, and its certificates.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrustAnchor {
    /// `local` (trust policy and store on the verifying machine), `pinned` (the bundle's trust
    /// artifact, accepted because its manifest digest equals `--pin`) or `bundled-unpinned`
    /// (`--trust-bundled`: trust anchored in the bundle itself).
    pub mode: AnchorMode,
    /// The `--pin` that matched, in `pinned` mode.
    pub pin: Option<String>,
    /// The trust artifact's digest, in the bundled modes.
    pub artifact: Option<String>,
    /// SHA-256 fingerprints of the trust-store certificates: those loaded (local mode) or the
    /// roots the artifact carries (bundled modes). Each signature names the one that anchored it.
    pub fingerprints: Vec<String>,
}

impl ImageReport {
    /// The integrity stage's view of an image (the signature fields are filled in later).
    pub fn from_info(im: &super::integrity::ImageInfo) -> Self {
        ImageReport {
            reference: im.reference.clone(),
            digest: im.digest.clone(),
            media_type: im.media_type.clone(),
            platforms: im.platforms.clone(),
            platforms_left_out: im.platforms_left_out.clone(),
            size: im.size,
            referrers: im
                .referrers
                .iter()
                .map(|r| ReferrerReport {
                    digest: r.digest.clone(),
                    artifact_type: r.artifact_type.clone(),
                    subject: r.subject.clone(),
                    checked: referrer_checked(r.artifact_type.as_deref()),
                })
                .collect(),
            scope: None,
            policy: None,
            signatures: None,
            verdict: None,
        }
    }
}

/// The report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The tool.
    pub tool: Tool,
    /// When the verification ran (RFC 3339), as given by the caller.
    pub verified_at: String,
    /// What was verified: `integrity-only`, or `signatures` (integrity and Notary signatures).
    pub mode: &'static str,
    /// The trust anchor (signature mode).
    pub trust_anchor: Option<TrustAnchor>,
    /// The user metadata every passing signature had to carry (`--user-metadata`), absent when
    /// none was required: a gate that decided the verdict is part of what was verified.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub required_user_metadata: std::collections::BTreeMap<String, String>,
    /// The bundle's form.
    pub bundle: BundleInfo,
    /// The parts the bundle was read from, each with its result (only when read from a parts set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parts: Option<PartsOutcome>,
    /// Pass or fail.
    pub verdict: Verdict,
    /// sha256 of `index.json`.
    pub bundle_digest: Option<String>,
    /// Blob counts.
    pub blobs: BlobStats,
    /// A differential bundle's blobs left out by `export --since` (absent from the bundle, not
    /// checked here), when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_out: Option<LeftOutReport>,
    /// Blobs taken from `verify --base` bundles or layouts (re-hashed there), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_blobs: Option<u64>,
    /// Failures.
    pub failures: Vec<Finding>,
    /// Warnings.
    pub warnings: Vec<Finding>,
    /// Images.
    pub images: Vec<ImageReport>,
    /// Who exported the bundle: its trust artifact's export signatures, evaluated under the
    /// statement for `airlock/export` (absent when the bundle carries none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exported_by: Option<ExportedBy>,
    /// A tarball whose end-of-archive marker was read (not in the JSON): a parts set's bytes after
    /// that point are no content of the bundle, and are not read through
    /// ([`crate::archive::parts::PartsCheck::finish_after`]).
    #[serde(skip)]
    pub archive_ended: bool,
}

/// The blobs a differential bundle does not carry.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeftOutReport {
    /// How many of the blobs the walk reached were absent and listed as left out.
    pub blobs: u64,
    /// The trust artifact whose export record listed them.
    pub record: Option<String>,
    /// True only when that record is the pinned (authenticated) one; otherwise the list came from
    /// the bundle itself and proves nothing about the blobs' content (the target registry or
    /// `verify --base` must still supply blobs with those digests).
    pub authenticated: bool,
}

impl Report {
    /// Builds the report of an integrity-only verification.
    pub fn integrity_only(cat: &Catalog, i: &Integrity, verified_at: &str) -> Self {
        Self::build(cat, i, None, Vec::new(), verified_at)
    }

    /// Builds the report; `signatures` carries the signature stage's results and the trust-store
    /// fingerprints when signatures were verified.
    pub fn build(
        cat: &Catalog,
        i: &Integrity,
        signatures: Option<(&[ImageSignatures], TrustAnchor)>,
        extra_failures: Vec<Finding>,
        verified_at: &str,
    ) -> Self {
        let signature_mode = signatures.is_some() || !extra_failures.is_empty();
        let mut failures = i.failures.clone();
        failures.extend(extra_failures);
        let mut warnings = i.warnings.clone();
        let mut images: Vec<ImageReport> = i.images.iter().map(ImageReport::from_info).collect();
        let mut trust_anchor = None;
        if let Some((sigs, anchor)) = signatures {
            trust_anchor = Some(anchor);
            for (img, s) in images.iter_mut().zip(sigs) {
                img.scope = s.scope.clone();
                img.policy = s.policy.clone();
                img.signatures = Some(s.signatures.clone());
                img.verdict = Some(s.verdict);
                // Labelled a notation signature but never evaluated as one (not a signature
                // manifest, or its subject judged by nothing): integrity checked only.
                for r in &mut img.referrers {
                    if r.checked == "signature"
                        && !s.signatures.iter().any(|x| x.manifest_digest == r.digest)
                    {
                        r.checked = "integrity";
                    }
                }
                for sig in &s.signatures {
                    for w in &sig.warnings {
                        warnings.push(
                            Finding::new(
                                w.code,
                                format!("logged by the trust policy: {}", w.message),
                            )
                            .digest(&sig.manifest_digest),
                        );
                    }
                }
                for w in &s.warnings {
                    warnings.push(Finding::new(w.code, w.message.clone()).digest(&s.digest));
                }
                if let Some(f) = &s.failure {
                    failures.push(Finding::new(f.code, f.message.clone()).digest(&s.digest));
                }
            }
        }
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            verified_at: verified_at.to_owned(),
            mode: if signature_mode {
                "signatures"
            } else {
                "integrity-only"
            },
            trust_anchor,
            bundle: BundleInfo {
                format: cat.format.as_str(),
                digest: i.bundle_digest.as_ref().map(ToString::to_string),
                file_digest: cat.file_digest.as_ref().map(ToString::to_string),
            },
            parts: None,
            verdict: if failures.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            bundle_digest: i.bundle_digest.as_ref().map(ToString::to_string),
            blobs: BlobStats {
                checked: i.blobs_checked,
                bytes: i.bytes,
                failed: i.blobs_failed,
            },
            left_out: (!i.external.is_empty()).then(|| LeftOutReport {
                blobs: u64::try_from(i.external.len()).unwrap_or(u64::MAX),
                record: i.external_record.clone(),
                authenticated: false,
            }),
            base_blobs: None,
            failures,
            warnings,
            images,
            exported_by: None,
            archive_ended: cat.archive_ended,
            required_user_metadata: std::collections::BTreeMap::new(),
        }
    }

    /// Adds the export signature's outcome: a failure when a statement covers `airlock/export`
    /// and no export signature verified, a warning when none covers it.
    pub fn with_export(mut self, exported_by: Option<ExportedBy>) -> Self {
        if let Some(e) = &exported_by {
            if let Some(f) = &e.failure {
                let mut finding = Finding::new(f.code, f.message.clone());
                if !e.artifact.is_empty() {
                    finding = finding.digest(&e.artifact);
                }
                if e.is_failure() {
                    self.failures.push(finding);
                    self.verdict = Verdict::Fail;
                } else {
                    self.warnings.push(finding);
                }
            }
        }
        self.exported_by = exported_by;
        self
    }

    /// Adds the parts section of a bundle read from a parts set: each bad part becomes a failure
    /// (before the content failures it causes), and the verdict cannot pass with a bad part.
    /// The bundle identity the parts manifest records (what an operator matches against a transfer
    /// ticket) must be the bundle's read from the parts: its `index.json` digest, and its trust
    /// artifact's digest when the verification used the artifact (pinned or bundled); otherwise
    /// the manifest is not this set's (`part_digest_mismatch`, naming the manifest).
    pub fn with_parts(mut self, parts: PartsOutcome) -> Self {
        let mut failures = parts.findings.clone();
        let artifact = self.trust_anchor.as_ref().and_then(|t| t.artifact.as_ref());
        let manifest_name = std::path::Path::new(&parts.manifest)
            .file_name()
            .map_or_else(
                || parts.manifest.clone(),
                |n| n.to_string_lossy().into_owned(),
            );
        for (what, claimed, actual) in [
            (
                "bundle",
                parts.bundle.index_digest.as_ref(),
                self.bundle.digest.as_ref(),
            ),
            ("pin", parts.bundle.pin.as_ref(), artifact),
        ] {
            if let (Some(claimed), Some(actual)) = (claimed, actual) {
                if claimed != actual {
                    failures.push(
                        Finding::new(
                            Code::PartDigestMismatch,
                            format!(
                                "{manifest_name} names {what} {claimed}, but the parts hold {what} {actual}: the manifest is not this set's"
                            ),
                        )
                        .digest(claimed)
                        .path(&manifest_name),
                    );
                }
            }
        }
        failures.append(&mut self.failures);
        self.failures = failures;
        if !self.failures.is_empty() {
            self.verdict = Verdict::Fail;
        }
        self.parts = Some(parts);
        self
    }

    /// Fails the blobs the bundle lacks whose left-out record no anchor vouches for
    /// (`blob_missing` findings): each replaces that blob's `blob_external` warning, and the
    /// verdict cannot pass with one.
    pub fn refuse_left_out(&mut self, failures: Vec<Finding>) {
        if failures.is_empty() {
            return;
        }
        let refused: std::collections::BTreeSet<Option<String>> =
            failures.iter().map(|f| f.digest.clone()).collect();
        self.warnings
            .retain(|w| !(w.code == Code::BlobExternal && refused.contains(&w.digest)));
        self.failures.extend(failures);
        self.verdict = Verdict::Fail;
    }

    /// True when a failure carries `code`.
    pub fn has_failure(&self, code: Code) -> bool {
        self.failures.iter().any(|f| f.code == code)
    }
}
