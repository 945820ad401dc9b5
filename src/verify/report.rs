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
use crate::finding::Finding;
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

/// The bundle's physical form.
#[derive(Clone, Debug, Serialize)]
pub struct BundleInfo {
    /// `directory`, `tar`, `tar+gzip` or `tar+zstd`.
    pub format: &'static str,
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
    /// Platforms.
    pub platforms: Vec<String>,
    /// Total bytes.
    pub size: u64,
    /// Referrers (signatures and other artifacts).
    pub referrers: Vec<ReferrerReport>,
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
    /// What was verified: `integrity-only` for now.
    pub mode: &'static str,
    /// The bundle's form.
    pub bundle: BundleInfo,
    /// Pass or fail.
    pub verdict: Verdict,
    /// sha256 of `index.json`.
    pub bundle_digest: Option<String>,
    /// Blob counts.
    pub blobs: BlobStats,
    /// Failures.
    pub failures: Vec<Finding>,
    /// Warnings.
    pub warnings: Vec<Finding>,
    /// Images.
    pub images: Vec<ImageReport>,
}

impl Report {
    /// Builds the report of an integrity-only verification.
    pub fn integrity_only(cat: &Catalog, i: &Integrity, verified_at: &str) -> Self {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            verified_at: verified_at.to_owned(),
            mode: "integrity-only",
            bundle: BundleInfo {
                format: cat.format.as_str(),
            },
            verdict: if i.failures.is_empty() {
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
            failures: i.failures.clone(),
            warnings: i.warnings.clone(),
            images: i
                .images
                .iter()
                .map(|im| ImageReport {
                    reference: im.reference.clone(),
                    digest: im.digest.clone(),
                    media_type: im.media_type.clone(),
                    platforms: im.platforms.clone(),
                    size: im.size,
                    referrers: im
                        .referrers
                        .iter()
                        .map(|r| ReferrerReport {
                            digest: r.digest.clone(),
                            artifact_type: r.artifact_type.clone(),
                            subject: r.subject.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
