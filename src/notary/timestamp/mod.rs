//! RFC 3161 timestamp-token verification for Notary Project countersignatures.
//!
//! A notation signature envelope may carry, in its unprotected header
//! `io.cncf.notary.timestampSignature`, an RFC 3161 `TimeStampToken`: a DER CMS `ContentInfo`
//! holding `SignedData` over a `TSTInfo` whose `messageImprint` is the hash of the envelope's
//! signature bytes. [`verify`] checks such a token offline, the way notation does
//! (tspclient-go `ParseSignedToken`, `TSTInfo.Validate`, `SignedToken.Verify`, and
//! notation-core-go `ValidateTimestampingCertChain`), with the specification's stricter rules
//! where SPEC-NOTES says they win:
//!
//! 1. parse `ContentInfo` -> `SignedData`; `eContentType` must be id-ct-TSTInfo; parse `TSTInfo`
//!    (`tst_parse`);
//! 2. `TSTInfo.version == 1`, `messageImprint` uses SHA-256/384/512 and equals the hash of the
//!    signed bytes (`tst_tstinfo`, `tst_message_imprint`);
//! 3. for each `SignerInfo` (tspclient-go accepts the first that verifies):
//!    * the ESS `SigningCertificateV2` signed attribute (RFC 5035) names the signer
//!      certificate in the token's certificate bag and its hash matches (`tst_signing_certificate`,
//!      `tst_signer_cert_missing`);
//!    * a full path validation of the TSA chain at `genTime` up to a certificate of the `tsa`
//!      trust store (SPEC-NOTES errata 1: no fail-open) (`tst_untrusted`, `tst_cert_invalid`);
//!    * the CMS signature over the *received* signed-attribute bytes, and the content-type,
//!      message-digest and signing-time attributes (`tst_signature`).
//!
//! Layout: `token.rs` parses the token (ContentInfo, SignedData, the certificate bag, ESS signing
//! certificate), `tstinfo.rs` the TSTInfo and its validation, `cms.rs` the SignerInfo and its signed
//! attributes; this file holds the limits, the errors, and [`verify`].
//!
//! The TSA chain is built and validated by the X.509 core ([`super::x509::path::build`] with
//! [`Purpose::Timestamping`]); this module parses no certificate rule itself.
//!
//! Nothing here reads the clock: every time check happens at the token's `genTime`. Checking
//! the *signing* certificate chain against `[lower, upper]`, and the revocation of the TSA chain
//! (SPEC-NOTES §6.3 j, errata 9), are [`super::verify_time`]'s job.

use spki::ObjectIdentifier;

use super::crypto::cms::{self as tsa_crypto, CryptoError};
use super::time::{self, Instant};
use super::x509::path::{self, Budget, BuildError, VerifiedPath};
use super::x509::{Certificate, Purpose};

mod cms;
mod token;
mod tstinfo;

#[cfg(test)]
mod tests;

use cms::{check_signed_attributes, cms_signature_algorithm, integer_hex, SignerEntry, SignerId};
use token::token_certificate;
pub use token::{parse, parse_with_limits, ParsedToken};

// --- Object identifiers ---------------------------------------------------------------------

/// id-ct-TSTInfo (RFC 3161 §2.4.2). const-oid 0.9 has no constant for it.
pub const ID_CT_TSTINFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// RFC 3628 baseline time-stamp policy: an absent accuracy means 1 s (tspclient-go `Validate`).
const BASELINE_TSA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.2023.1.1");

// The digest and RSA algorithm identifiers are crypto's (one definition).
use super::crypto::cms::{
    ID_SHA256, ID_SHA384, ID_SHA512, RSA_ENCRYPTION, SHA256_WITH_RSA, SHA384_WITH_RSA,
    SHA512_WITH_RSA,
};
/// Signed attributes per SignerInfo that are looked at; a token with more is refused.
const MAX_ATTRIBUTES: usize = 64;
/// Values per attribute that are looked at; an attribute with more is refused.
const MAX_ATTRIBUTE_VALUES: usize = 16;

// --- Limits ---------------------------------------------------------------------------------

/// Resource budgets for one token. Every length taken from the token is checked against these
/// before it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted token, in bytes. Default 1 MiB: real tokens are 2-10 KiB; notation's
    /// whole envelope limit is 32 MiB (notation-go `maxSignatureEnvelopeBytes`).
    pub max_token_bytes: usize,
    /// Most certificates accepted in the token's certificate bag. Default 32.
    pub max_certificates: usize,
    /// Most SignerInfos accepted. Default 4; RFC 3161 §2.4.1 allows only the TSA's signature,
    /// tspclient-go tries each one in turn.
    pub max_signer_infos: usize,
    /// Longest TSA chain, leaf and trust anchor included. Default 8: mozilla::pkix allows at
    /// most 6 sub-CAs (`MAX_SUBCA_COUNT`) between end entity and root, i.e. 8 certificates.
    pub max_chain_len: usize,
    /// Most signature verifications for one token (path building plus the CMS signature).
    /// Default 64: below Go crypto/x509's `maxChainSignatureChecks = 100` (the fix for
    /// CVE-2018-16875) and webpki's `Budget::signatures = 100`, because a token's bag is capped
    /// at 32 certificates.
    pub max_signature_checks: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_token_bytes: 1024 * 1024,
            max_certificates: 32,
            max_signer_infos: 4,
            max_chain_len: 8,
            max_signature_checks: 64,
        }
    }
}

// --- Errors ---------------------------------------------------------------------------------

/// Why a timestamp token was rejected. [`TimestampError::code`] gives the stable category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The token is larger than [`Limits::max_token_bytes`]. (`tst_parse`)
    #[error("timestamp token is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Size of the token.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A structure of the token could not be decoded (BER is read as tspclient-go reads it:
    /// definite lengths only, converted to DER first). (`tst_parse`)
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which structure.
        what: &'static str,
        /// Decoder message.
        detail: String,
    },
    /// The ContentInfo does not hold SignedData. (`tst_parse`)
    #[error("content type {content_type} is not id-signedData")]
    NotSignedData {
        /// The content type found.
        content_type: String,
    },
    /// `eContentType` is not id-ct-TSTInfo (tspclient-go `ParseSignedToken`). (`tst_parse`)
    #[error("unexpected content type: {content_type}. Expected to be id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)")]
    UnexpectedContentType {
        /// The content type found.
        content_type: String,
    },
    /// The SignedData has no encapsulated content. (`tst_parse`)
    #[error("timestamp token has no encapsulated TSTInfo")]
    MissingContent,
    /// The certificate bag holds more than [`Limits::max_certificates`]. (`tst_parse`)
    #[error("timestamp token carries more than {limit} certificates")]
    TooManyCertificates {
        /// The limit.
        limit: usize,
    },
    /// The certificate bag holds something other than an X.509 certificate. (`tst_parse`)
    #[error("timestamp token carries a non-X.509 certificate choice")]
    UnsupportedCertificateChoice,
    /// There is no SignerInfo. (`tst_parse`)
    #[error("signerInfo not found")]
    NoSignerInfo,
    /// More SignerInfos than [`Limits::max_signer_infos`]. (`tst_parse`)
    #[error("timestamp token carries more than {limit} signerInfos")]
    TooManySignerInfos {
        /// The limit.
        limit: usize,
    },
    /// `TSTInfo.version` is not 1 (RFC 3161 §2.4.2). (`tst_tstinfo`)
    #[error("invalid TSTInfo: timestamp token info version must be 1, but got {version}")]
    UnsupportedVersion {
        /// The version found.
        version: u64,
    },
    /// The messageImprint hash algorithm is not SHA-256/384/512. (`tst_tstinfo`)
    #[error("invalid TSTInfo: unsupported messageImprint hash algorithm {oid}: {reason}")]
    UnsupportedImprintAlgorithm {
        /// The algorithm OID.
        oid: String,
        /// Why it is refused.
        reason: CryptoError,
    },
    /// The accuracy is out of range (`millis`/`micros` outside 0..=999, or overflow).
    /// (`tst_tstinfo`)
    #[error("invalid TSTInfo: accuracy out of range")]
    InvalidAccuracy,
    /// messageImprint does not match the hash of the signed bytes. (`tst_message_imprint`)
    #[error("invalid TSTInfo: mismatched message")]
    MessageImprintMismatch,
    /// No certificate of the token matches the signer identifier (or the ESS issuerSerial).
    /// (`tst_signer_cert_missing`)
    #[error("signing certificate not found in the timestamp token")]
    SignerCertificateNotFound,
    /// No SigningCertificateV2 signed attribute (RFC 5035, required by tspclient-go); a
    /// SigningCertificate (v1, SHA-1) attribute does not count. (`tst_signing_certificate`)
    #[error("failed to get SigningCertificateV2 from signed attributes: attribute not found{}", if *v1_present { " (only the SHA-1 SigningCertificate v1 is present)" } else { "" })]
    SigningCertificateV2Missing {
        /// Whether a v1 SigningCertificate attribute was present.
        v1_present: bool,
    },
    /// The SigningCertificateV2 attribute does not decode or has several values.
    /// (`tst_signing_certificate`)
    #[error("failed to get SigningCertificateV2 from signed attributes: {detail}")]
    SigningCertificateMalformed {
        /// What is wrong.
        detail: String,
    },
    /// SigningCertificateV2 lists no ESSCertIDv2. (`tst_signing_certificate`)
    #[error("signingCertificateV2 does not contain any certificate")]
    SigningCertificateEmpty,
    /// The ESSCertIDv2 hash algorithm is not SHA-256/384/512. (`tst_signing_certificate`)
    #[error("unsupported certificate hash algorithm in SigningCertificateV2 attribute: {oid}")]
    SigningCertificateHashAlgorithm {
        /// The algorithm OID.
        oid: String,
    },
    /// The ESSCertIDv2 issuerSerial does not name its issuer as one directoryName.
    /// (`tst_signing_certificate`)
    #[error("issuer name is missing in IssuerSerial")]
    SigningCertificateIssuerMissing,
    /// The ESSCertIDv2 certHash is not the hash of the signer certificate.
    /// (`tst_signing_certificate`)
    #[error("signing certificate hash does not match CertHash in signed attribute")]
    SigningCertificateHashMismatch,
    /// The ESSCertIDv2 issuerSerial and the SignerInfo sid name different certificates.
    /// (`tst_signing_certificate`)
    #[error("SigningCertificateV2 issuerSerial and SignerInfo sid name different certificates")]
    SigningCertificateSidMismatch,
    /// The SignerInfo is not of version 1 with an issuerAndSerialNumber, the only form
    /// notation's tspclient-go verifies. (`tst_signature`)
    #[error("invalid signer info version {version}: only version 1 (issuerAndSerialNumber) is supported")]
    SignerInfoVersion {
        /// The version found.
        version: u8,
    },
    /// The SignerInfo has no signed attributes (required for non-id-data content, RFC 5652
    /// §5.3). (`tst_signature`)
    #[error("missing signed attributes")]
    MissingSignedAttributes,
    /// The content-type signed attribute is missing, multi-valued or not id-ct-TSTInfo.
    /// (`tst_signature`)
    #[error("invalid content-type signed attribute: {detail}")]
    ContentTypeAttribute {
        /// What is wrong.
        detail: &'static str,
    },
    /// The message-digest signed attribute is missing, multi-valued or malformed.
    /// (`tst_signature`)
    #[error("invalid message-digest signed attribute: {detail}")]
    MessageDigestAttribute {
        /// What is wrong.
        detail: &'static str,
    },
    /// The message-digest attribute is not the hash of the encapsulated TSTInfo.
    /// (`tst_signature`)
    #[error("mismatch message digest")]
    MessageDigestMismatch,
    /// The SignerInfo digest or signature algorithm is not allowed. (`tst_signature`)
    #[error("unsupported signer algorithm: {0}")]
    UnsupportedSignerAlgorithm(CryptoError),
    /// The SignerInfo signature does not verify. (`tst_signature`)
    #[error("cms verification failure: {0}")]
    Signature(CryptoError),
    /// The signing-time signed attribute is malformed. (`tst_signature`)
    #[error("invalid signing-time signed attribute")]
    SigningTimeAttribute,
    /// The tsa trust store is empty (notation: "no trusted TSA certificate found in trust
    /// store"). (`tst_untrusted`)
    #[error("no trusted TSA certificate found in trust store")]
    NoTrustAnchors,
    /// A tsa trust-store certificate does not parse. (`tst_untrusted`)
    #[error("tsa trust store certificate #{index} is malformed")]
    InvalidTrustAnchor {
        /// Index in the `tsa_roots` slice.
        index: usize,
    },
    /// No chain from the signer certificate reaches a tsa trust-store certificate
    /// (Go: "x509: certificate signed by unknown authority"). (`tst_untrusted`)
    #[error("timestamp certificate chain does not lead to a trusted TSA root: {detail}")]
    Untrusted {
        /// What was found.
        detail: String,
    },
    /// Path building ran out of budget ([`Limits::max_signature_checks`]). Fatal: the search
    /// stops. (`tst_untrusted`)
    #[error("TSA chain building exceeded its budget of {limit} signature checks")]
    BudgetExceeded {
        /// The limit.
        limit: usize,
    },
    /// A certificate of the chain breaks a certificate requirement at `genTime` (validity,
    /// EKU, basic constraints, path length, key usage, key size, unknown critical extension,
    /// refused legacy signature algorithm, self-signed non-root, non-self-signed anchor).
    /// (`tst_cert_invalid`)
    #[error("timestamping certificate {subject:?} is invalid: {reason}")]
    CertificateInvalid {
        /// Subject of the offending certificate (RFC 4514).
        subject: String,
        /// What is wrong.
        reason: String,
    },
    /// The signing-time signed attribute lies outside the validity of a chain certificate.
    /// (`tst_cert_invalid`)
    #[error("signing time {signing_time} is outside certificate's validity period")]
    SigningTimeOutsideValidity {
        /// The signing time (RFC 3339).
        signing_time: String,
    },
}

crate::notary::reason::reasons! {
    /// Why a timestamp token failed, matching the corpus `failure_category` (with `-` as `_`).
    pub enum TimestampReason {
        /// `tst_parse`.
        TstParse => "tst_parse",
        /// `tst_tstinfo`.
        TstTstinfo => "tst_tstinfo",
        /// `tst_message_imprint`.
        TstMessageImprint => "tst_message_imprint",
        /// `tst_signer_cert_missing`.
        TstSignerCertMissing => "tst_signer_cert_missing",
        /// `tst_signing_certificate`.
        TstSigningCertificate => "tst_signing_certificate",
        /// `tst_signature`.
        TstSignature => "tst_signature",
        /// `tst_untrusted`.
        TstUntrusted => "tst_untrusted",
        /// `tst_cert_invalid`.
        TstCertInvalid => "tst_cert_invalid",
    }
}

impl TimestampError {
    /// Stable snake_case category, matching the corpus `failure_category` (with `-` as `_`).
    pub fn reason(&self) -> TimestampReason {
        match self {
            Self::TooLarge { .. }
            | Self::Malformed { .. }
            | Self::NotSignedData { .. }
            | Self::UnexpectedContentType { .. }
            | Self::MissingContent
            | Self::TooManyCertificates { .. }
            | Self::UnsupportedCertificateChoice
            | Self::NoSignerInfo
            | Self::TooManySignerInfos { .. } => TimestampReason::TstParse,
            Self::UnsupportedVersion { .. }
            | Self::UnsupportedImprintAlgorithm { .. }
            | Self::InvalidAccuracy => TimestampReason::TstTstinfo,
            Self::MessageImprintMismatch => TimestampReason::TstMessageImprint,
            Self::SignerCertificateNotFound => TimestampReason::TstSignerCertMissing,
            Self::SigningCertificateV2Missing { .. }
            | Self::SigningCertificateMalformed { .. }
            | Self::SigningCertificateEmpty
            | Self::SigningCertificateHashAlgorithm { .. }
            | Self::SigningCertificateIssuerMissing
            | Self::SigningCertificateHashMismatch
            | Self::SigningCertificateSidMismatch => TimestampReason::TstSigningCertificate,
            Self::SignerInfoVersion { .. }
            | Self::MissingSignedAttributes
            | Self::ContentTypeAttribute { .. }
            | Self::MessageDigestAttribute { .. }
            | Self::MessageDigestMismatch
            | Self::UnsupportedSignerAlgorithm(_)
            | Self::Signature(_)
            | Self::SigningTimeAttribute => TimestampReason::TstSignature,
            Self::NoTrustAnchors
            | Self::InvalidTrustAnchor { .. }
            | Self::Untrusted { .. }
            | Self::BudgetExceeded { .. } => TimestampReason::TstUntrusted,
            Self::CertificateInvalid { .. } | Self::SigningTimeOutsideValidity { .. } => {
                TimestampReason::TstCertInvalid
            }
        }
    }

    /// The stable string of [`Self::reason`] (reports, usage errors, the corpus tests).
    pub fn code(&self) -> &'static str {
        self.reason().as_str()
    }
}

fn malformed(what: &'static str) -> impl Fn(der::Error) -> TimestampError {
    move |e| TimestampError::Malformed {
        what,
        detail: e.to_string(),
    }
}

// --- Verified result ------------------------------------------------------------------------

/// A timestamp token that verified: the TSA vouches that the signed bytes existed at
/// `gen_time` (± `accuracy_ms`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedTimestamp {
    /// `TSTInfo.genTime` in Unix seconds (fractional seconds truncated).
    pub gen_time: i64,
    /// Accuracy in milliseconds (microseconds rounded up). 1000 when the token has no accuracy
    /// and its policy is the RFC 3628 baseline policy, as tspclient-go does.
    pub accuracy_ms: u64,
    /// `gen_time - accuracy`, rounded down to a whole second.
    pub lower: i64,
    /// `gen_time + accuracy`, rounded up to a whole second.
    pub upper: i64,
    /// DER of the validated TSA chain, leaf first, trust anchor (a `tsa_roots` certificate)
    /// last. The caller checks its revocation status.
    pub tsa_chain: Vec<Vec<u8>>,
    /// Serial number of the TSA signing certificate, lowercase hex.
    pub signer_serial_hex: String,
    /// `TSTInfo.policy`, dotted.
    pub policy_oid: String,
    /// `TSTInfo.serialNumber`, lowercase hex.
    pub tst_serial_hex: String,
    /// The validated TSA path (the certificates of `tsa_chain`, parsed).
    path: VerifiedPath,
}

impl VerifiedTimestamp {
    /// The validated TSA path, leaf first: the X.509 core's proof that every certificate of
    /// [`VerifiedTimestamp::tsa_chain`] passed the timestamping rules at `genTime`.
    pub fn tsa_path(&self) -> &VerifiedPath {
        &self.path
    }
}

// --- Chain validation -----------------------------------------------------------------------

/// The X.509 core's path-building failure, in this module's terms.
fn build_error(e: BuildError, gen_time: Instant) -> TimestampError {
    match e {
        BuildError::BudgetExceeded(b) => TimestampError::BudgetExceeded { limit: b.limit },
        BuildError::Untrusted(detail) => TimestampError::Untrusted { detail },
        BuildError::Invalid { subject, error } => TimestampError::CertificateInvalid {
            subject,
            reason: if error.rule.is_validity() {
                format!(
                    "not valid at the timestamp's genTime {}: {}",
                    time::rfc3339(gen_time.secs()),
                    error.detail
                )
            } else {
                error.detail
            },
        },
    }
}

// --- Verification ---------------------------------------------------------------------------

/// Verifies one SignerInfo in tspclient-go's order: signing certificate (ESS), chain, CMS
/// signature, signed attributes. Returns the validated chain.
fn verify_signer(
    token: &ParsedToken,
    signer: &SignerEntry,
    anchors: &[Certificate],
    budget: &mut Budget,
) -> Result<VerifiedPath, TimestampError> {
    let signer_idx = token.resolve_signing_certificate(signer)?;
    let signer_cert = token
        .certs
        .get(signer_idx)
        .ok_or(TimestampError::SignerCertificateNotFound)?;
    // tspclient-go verifies a SignerInfo of version 1 only (issuerAndSerialNumber); RFC 5652's
    // version 3 (subjectKeyIdentifier) is refused there, and so here (red team M, M03).
    if signer.version != 1 || !matches!(signer.sid, SignerId::IssuerSerial { .. }) {
        return Err(TimestampError::SignerInfoVersion {
            version: signer.version,
        });
    }

    let chain = path::build(
        signer_cert,
        &token.certs,
        anchors,
        token.gen_time,
        Purpose::Timestamping,
        budget,
    )
    .map_err(|e| build_error(e, token.gen_time))?;

    let signed_attrs = signer
        .signed_attrs_der
        .as_deref()
        .ok_or(TimestampError::MissingSignedAttributes)?;
    let sig_alg = cms_signature_algorithm(&signer.digest_alg, &signer.signature_alg)?;
    budget
        .take_signature()
        .map_err(|e| TimestampError::BudgetExceeded { limit: e.limit })?;
    tsa_crypto::verify_signature(
        signer_cert.spki_der(),
        &sig_alg,
        signed_attrs,
        &signer.signature,
    )
    .map_err(|e| match e {
        CryptoError::BadSignature => TimestampError::Signature(e),
        other => TimestampError::UnsupportedSignerAlgorithm(other),
    })?;

    check_signed_attributes(token, signer, &chain)?;
    Ok(chain)
}

/// Verifies an RFC 3161 timestamp token offline.
///
/// * `token`: the DER `TimeStampToken` (CMS ContentInfo).
/// * `signed_bytes`: what the token must timestamp. For a notation envelope: the COSE_Sign1
///   signature bytes, or the base64url-decoded JWS `signature`.
/// * `tsa_roots`: DER certificates of the policy's `tsa` trust stores (self-signed roots).
/// * `limits`: resource budgets.
///
/// Every check happens at the token's `genTime`; nothing reads the clock. On success the
/// returned [`VerifiedTimestamp`] gives the authentic time range and the validated TSA chain,
/// whose revocation status the caller must still establish.
pub fn verify(
    token: &[u8],
    signed_bytes: &[u8],
    tsa_roots: &[Vec<u8>],
    limits: &Limits,
) -> Result<VerifiedTimestamp, TimestampError> {
    let parsed = parse_with_limits(token, limits)?;
    let accuracy_us = parsed.validate_tst_info_accuracy(signed_bytes)?;

    if tsa_roots.is_empty() {
        return Err(TimestampError::NoTrustAnchors);
    }
    let anchors = tsa_roots
        .iter()
        .enumerate()
        .map(|(index, der)| {
            token_certificate(der).map_err(|_| TimestampError::InvalidTrustAnchor { index })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut budget = Budget::new(limits.max_chain_len, limits.max_signature_checks);
    // tspclient-go `SignedToken.Verify`: success on the first SignerInfo that verifies,
    // otherwise the last error.
    let mut last_err = TimestampError::NoSignerInfo;
    for signer in &parsed.signers {
        match verify_signer(&parsed, signer, &anchors, &mut budget) {
            Ok(chain) => return finish(&parsed, chain, accuracy_us),
            Err(e @ TimestampError::BudgetExceeded { .. }) => return Err(e),
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

fn finish(
    parsed: &ParsedToken,
    path: VerifiedPath,
    accuracy_us: u64,
) -> Result<VerifiedTimestamp, TimestampError> {
    let gen_ns = parsed.gen_time.total_nanos();
    let acc_ns = i128::from(accuracy_us) * 1000;
    const NS: i128 = 1_000_000_000;
    let lower = (gen_ns - acc_ns).div_euclid(NS);
    let upper = -((-(gen_ns + acc_ns)).div_euclid(NS));
    let lower = i64::try_from(lower).map_err(|_| TimestampError::InvalidAccuracy)?;
    let upper = i64::try_from(upper).map_err(|_| TimestampError::InvalidAccuracy)?;
    let signer_serial_hex = path
        .leaf()
        .map(|c| integer_hex(c.serial()))
        .unwrap_or_default();
    Ok(VerifiedTimestamp {
        gen_time: parsed.gen_time.secs(),
        accuracy_ms: accuracy_us.div_ceil(1000),
        lower,
        upper,
        tsa_chain: path
            .certificates()
            .iter()
            .map(|c| c.der().to_vec())
            .collect(),
        signer_serial_hex,
        policy_oid: parsed.policy.to_string(),
        tst_serial_hex: integer_hex(&parsed.tst_serial),
        path,
    })
}
