//! `airlock receipt verify`: is this receipt what a verifier the site trusts signed, and what does
//! it say?
//!
//! 1. The envelope goes through the signature stage's own per-signature evaluation
//!    ([`crate::verify::signature::evaluate`]): envelope and signature integrity, every certificate
//!    rule, a chain to a trust store named by the trust-policy statement for [`RECEIPT_SCOPE`] (or
//!    the caller's scope), trusted identity, expiry, authentic timestamp and revocation at the
//!    given time, under that statement's level; and its payload's `targetArtifact` must be the
//!    statement blob's descriptor (media type, sha256, size).
//!    When the receipt comes as OCI artifacts (what `import --receipt-key` pushes), the envelope
//!    signs the receipt manifest instead, and the manifest must be a receipt manifest whose one
//!    layer is the statement ([`super::oci::check_manifest`]) and whose `subject` the statement
//!    names.
//! 2. The statement's shape ([`super::check_shape`]).
//! 3. Optionally, that the statement names a given image digest among its subjects.
//! 4. The statement records `PASSED`: an authentic receipt of a failed verification is reported
//!    (exit 1, `recorded_failed`), never taken for a pass.

use serde::{Serialize, Serializer};

use crate::digest::Digest;
use crate::finding::Code;
use crate::verify::signature::{
    evaluate, PolicyRef, SignatureReport, StoreCache, Target, TrustInputs,
};
use crate::verify::Verdict;

use super::oci::{check_manifest, ManifestInfo};
use super::shape::{check_shape, Summary};
use super::sign::format_of;
use super::{MEDIA_TYPE, RECEIPT_SCOPE};

/// Why a receipt check failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckCode {
    /// The statement breaks the Statement v1 / VSA v1 field rules.
    StatementInvalid,
    /// No signature was given.
    Unsigned,
    /// The statement does not name the image asked about (or the one its manifest is attached to).
    SubjectNotListed,
    /// The receipt manifest is not one whose only layer is this statement.
    ManifestInvalid,
    /// The receipt is authentic, and records a failed verification.
    RecordedFailed,
    /// The trust-policy statement for the receipt's scope has level `skip`: nothing would be
    /// verified, so nothing is proven.
    SkippedByPolicy,
    /// The receipt passes but does not claim a level the caller requires
    /// (`receipt verify --require-level`).
    LevelNotVerified,
    /// The receipt passes but names another bundle than the one the caller requires
    /// (`receipt verify --bundle-digest`).
    BundleNotMatched,
    /// The statement for the receipt's scope does not enforce authenticity (`audit`, or an
    /// `override` that logs it): a signer no trust store vouches for would pass, so the receipt
    /// proves nothing about who wrote it, as under `skip`.
    AuthenticityNotEnforced,
    /// The signature failed, with the signature stage's code (`payload_mismatch`,
    /// `signature_integrity`, `untrusted_identity`, ...), or no trust-policy statement applies.
    Signature(Code),
}

impl CheckCode {
    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StatementInvalid => "statement_invalid",
            Self::Unsigned => "receipt_unsigned",
            Self::SubjectNotListed => "subject_not_listed",
            Self::ManifestInvalid => "receipt_manifest_invalid",
            Self::RecordedFailed => "recorded_failed",
            Self::SkippedByPolicy => "skipped_by_policy",
            Self::AuthenticityNotEnforced => "authenticity_not_enforced",
            Self::LevelNotVerified => "level_not_verified",
            Self::BundleNotMatched => "bundle_not_matched",
            Self::Signature(c) => c.as_str(),
        }
    }
}

impl Serialize for CheckCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for CheckCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failure.
#[derive(Clone, Debug, Serialize)]
pub struct CheckFailure {
    /// Stable code.
    pub code: CheckCode,
    /// For people.
    pub message: String,
}

/// The outcome of a receipt check (the JSON `airlock receipt verify --format json` prints).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// `pass` or `fail`.
    pub verdict: Verdict,
    /// sha256 of the statement file.
    pub statement_digest: String,
    /// Its size.
    pub statement_size: u64,
    /// The registry scope the trust policy was matched under.
    pub scope: String,
    /// The trust-policy statement applied to the receipt's signature.
    pub policy: Option<PolicyRef>,
    /// The signature, evaluated as `airlock verify` evaluates an image signature
    /// (`manifestDigest` is here the sha256 of the envelope file).
    pub signature: Option<SignatureReport>,
    /// The receipt manifest, when the receipt came as OCI artifacts.
    pub manifest: Option<ManifestInfo>,
    /// What the statement says, when its shape is right.
    pub statement: Option<Summary>,
    /// Every failure.
    pub failures: Vec<CheckFailure>,
}

impl Check {
    /// Requires the statement's `verifiedLevels` to hold each of `levels` (an authentic `PASSED`
    /// receipt of an integrity-only verification does not say any signature was verified): each
    /// one absent is a failure (`level_not_verified`).
    pub fn require_levels(&mut self, levels: &[String]) {
        let Some(summary) = &self.statement else {
            return;
        };
        for level in levels {
            if !summary.verified_levels.contains(level) {
                self.failures.push(CheckFailure {
                    code: CheckCode::LevelNotVerified,
                    message: format!(
                        "the statement does not claim {level} (it claims {})",
                        summary.verified_levels.join(", ")
                    ),
                });
                self.verdict = Verdict::Fail;
            }
        }
    }
}

impl Check {
    /// Requires the statement's detail to name the bundle `digest`: its `index.json` digest
    /// (`bundleDigest`, what every command prints as `bundle sha256:...`) or, for a tarball, the
    /// file's own digest (`bundleFileDigest`). A receipt names its bundle also by a path, which
    /// every transfer to the same place shares: this binds it to the bytes (red team J, J6).
    pub fn require_bundle(&mut self, digest: &str) {
        let Some(summary) = &self.statement else {
            return;
        };
        let (index, file) = (summary.bundle_digest(), summary.bundle_file_digest());
        if index != Some(digest) && file != Some(digest) {
            self.failures.push(CheckFailure {
                code: CheckCode::BundleNotMatched,
                message: format!(
                    "the statement is the receipt of bundle {} (file {}), not of {digest}",
                    index.unwrap_or("-"),
                    file.unwrap_or("-")
                ),
            });
            self.verdict = Verdict::Fail;
        }
    }
}

/// A receipt's parts.
#[derive(Clone, Copy, Debug)]
pub struct Receipt<'a> {
    /// The statement bytes.
    pub statement: &'a [u8],
    /// The envelope bytes (`None`: unsigned, a failure).
    pub envelope: Option<&'a [u8]>,
    /// The receipt manifest, when the envelope signs it rather than the statement.
    pub manifest: Option<&'a [u8]>,
}

/// Checks a receipt against the trust inputs (policy, store, CRLs, time), under `scope` (`None`:
/// [`RECEIPT_SCOPE`]) and, optionally, requiring the statement to name the image `subject`.
pub fn check(
    receipt: &Receipt<'_>,
    trust: &TrustInputs,
    scope: Option<&str>,
    subject: Option<&str>,
) -> Check {
    let statement = receipt.statement;
    let envelope = receipt.envelope;
    let digest = Digest::sha256(statement);
    let size = u64::try_from(statement.len()).unwrap_or(u64::MAX);
    let scope = scope.unwrap_or(RECEIPT_SCOPE).to_owned();
    let mut failures = Vec::new();
    let mut manifest = None;
    // What the envelope must sign: the statement, or the receipt manifest carrying it.
    let target = match receipt.manifest {
        None => Target {
            media_type: MEDIA_TYPE.to_owned(),
            digest: digest.to_string(),
            size,
        },
        Some(m) => {
            match check_manifest(m, statement) {
                Ok(info) => manifest = Some(info),
                Err(e) => failures.push(CheckFailure {
                    code: CheckCode::ManifestInvalid,
                    message: e,
                }),
            }
            Target {
                media_type: crate::layout::model::OCI_MANIFEST.to_owned(),
                digest: Digest::sha256(m).to_string(),
                size: u64::try_from(m.len()).unwrap_or(u64::MAX),
            }
        }
    };
    let mut policy = None;
    let mut signature = None;
    match (envelope, trust.policy.statement_for(&scope)) {
        (None, _) => failures.push(CheckFailure {
            code: CheckCode::Unsigned,
            message: "no signature was given: an unsigned receipt proves nothing".into(),
        }),
        (Some(_), Err(e)) => failures.push(CheckFailure {
            code: CheckCode::Signature(Code::from(&e)),
            message: format!("trust policy, scope {scope}: {e}"),
        }),
        (Some(_), Ok(st)) if st.is_skip() => {
            policy = Some(PolicyRef {
                name: st.name().to_owned(),
                level: st.level().as_str(),
            });
            failures.push(CheckFailure {
                code: CheckCode::SkippedByPolicy,
                message: format!(
                    "trust-policy statement {:?} (scope {scope}) skips signature verification, so \
it cannot authenticate a receipt",
                    st.name()
                ),
            });
        }
        (Some(env), Ok(st)) => {
            policy = Some(PolicyRef {
                name: st.name().to_owned(),
                level: st.level().as_str(),
            });
            let mut stores = StoreCache::new(&trust.store_root);
            let mut r = evaluate(
                format_of(env).media_type(),
                env,
                &target,
                st,
                &mut stores,
                trust,
            );
            r.manifest_digest = Digest::sha256(env).to_string();
            if let Some(f) = &r.failure {
                failures.push(CheckFailure {
                    code: CheckCode::Signature(f.code),
                    message: f.message.clone(),
                });
            } else if !r.authentic() {
                failures.push(CheckFailure {
                    code: CheckCode::AuthenticityNotEnforced,
                    message: format!(
                        "trust-policy statement {:?} (scope {scope}, level {}) does not enforce \
authenticity, so a receipt signed by anyone would pass: it cannot authenticate a receipt",
                        st.name(),
                        st.level().as_str()
                    ),
                });
            }
            signature = Some(r);
        }
    }
    let summary = match check_shape(statement) {
        Ok(s) => Some(s),
        Err(e) => {
            failures.push(CheckFailure {
                code: CheckCode::StatementInvalid,
                message: e.to_string(),
            });
            None
        }
    };
    if let Some(s) = &summary {
        let attached_to = manifest.as_ref().and_then(|m| m.subject.as_deref());
        for want in [subject, attached_to].into_iter().flatten() {
            if !s.has_subject(want) {
                failures.push(CheckFailure {
                    code: CheckCode::SubjectNotListed,
                    message: format!("the statement does not name {want} among its subjects"),
                });
            }
        }
        if s.verification_result != "PASSED" && failures.is_empty() {
            failures.push(CheckFailure {
                code: CheckCode::RecordedFailed,
                message: "the receipt is authentic and records a FAILED verification".into(),
            });
        }
    }
    Check {
        verdict: if failures.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        statement_digest: digest.to_string(),
        statement_size: size,
        scope,
        policy,
        signature,
        manifest,
        statement: summary,
        failures,
    }
}
