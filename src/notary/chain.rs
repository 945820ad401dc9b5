//! Validation of the *given* ordered code-signing certificate chain (no path building).
//!
//! Rules (SPEC-NOTES §4 and errata 1, 2, 4; notation-core-go `x509/codesigning_cert_validations.go`):
//!
//! * The chain is leaf first, then intermediates, then a self-signed root; a single certificate
//!   must be a self-signed, self-issued end-entity certificate meeting the leaf rules.
//! * Every `cert[i]` (i < n-1) is signed by `cert[i+1]` and its issuer name is byte-equal to the
//!   next certificate's subject name; no certificate before the last may be self-signed.
//! * CA certificates (every index > 0): basicConstraints present, **critical**, `cA = true`;
//!   `pathLenConstraint`, when present, must be >= the number of CA certificates below it
//!   (index - 1). keyUsage present, critical, with `keyCertSign`.
//! * Leaf: basicConstraints optional but `cA = false` if present; keyUsage present, critical,
//!   `digitalSignature` set and none of keyEncipherment, dataEncipherment, keyAgreement,
//!   keyCertSign, cRLSign, encipherOnly, decipherOnly; EKU optional, MAY hold codeSigning, MUST
//!   NOT hold anyExtendedKeyUsage, serverAuth, clientAuth, emailProtection, timeStamping (nor
//!   OCSPSigning, which notation also excludes).
//! * Keys: the leaf key must be in the Notary algorithm table (RSA 2048/3072/4096, EC
//!   P-256/384/521); CA keys must be RSA >= 2048 or EC P-256/384/521.
//! * SHA-1 / MD5 signatures are rejected at every position (errata 4).
//! * Only basicConstraints, keyUsage and extKeyUsage are interpreted. Every other extension,
//!   including unknown *critical* ones and name constraints, is ignored ("fail open"; this
//!   applies to the signing chain only, errata 1). Duplicate extensions are malformed (as in Go).
//! * Validity periods are not nested; they are checked separately, at one instant or over a
//!   `[lower, upper]` range, by [`ValidatedChain::check_validity`].
//!
//! Budget: at most [`MAX_CHAIN_LEN`] certificates, i.e. at most `2 * MAX_CHAIN_LEN` signature
//! verifications per chain.
//!
//! Every failure is a [`ChainError`] naming the certificate index (0 = leaf) and the
//! [`ChainRule`] that failed. Structural failures are `integrity` failures (notation reports a
//! non-conforming chain from `envelope.Verify`, errata 2); validity-period failures are
//! `authentic_timestamp` failures (the Notary "authentic timestamp" validation checks them).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]

use std::collections::HashSet;

use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;
use der::{Decode, Reader, SliceReader};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};

use super::crypto::{self, CryptoError, KeySpec, PublicKeyKind};
use super::envelope::SigningScheme;

/// Maximum number of certificates accepted in a signing chain.
///
/// notation has no limit; real code-signing chains have 1 to 4 certificates. Ten leaves room
/// for deep private PKIs while bounding the work an untrusted envelope can cause (two signature
/// verifications per certificate).
pub const MAX_CHAIN_LEN: usize = 10;

/// The rule a certificate chain violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChainRule {
    /// The chain holds no certificate.
    Empty,
    /// The chain is longer than [`MAX_CHAIN_LEN`].
    TooLong,
    /// The certificate is not valid DER / X.509.
    Malformed,
    /// The same extension appears twice in one certificate.
    DuplicateExtension,
    /// A basicConstraints, keyUsage or extKeyUsage extension cannot be decoded.
    MalformedExtension,
    /// `tbsCertificate.signature` differs from `signatureAlgorithm`.
    SignatureAlgorithmMismatch,
    /// The certificate is signed with SHA-1 or MD5 (rejected everywhere).
    WeakSignatureAlgorithm,
    /// The certificate's signature algorithm is not supported.
    UnsupportedSignatureAlgorithm,
    /// A single-certificate chain whose certificate does not verify with its own key.
    NotSelfSigned,
    /// A single-certificate chain whose issuer and subject names differ.
    NotSelfIssued,
    /// The leaf of a multi-certificate chain is self-signed.
    LeafSelfSigned,
    /// An intermediate certificate is self-signed.
    IntermediateSelfSigned,
    /// The certificate's signature does not verify with the next certificate's key.
    NotSignedByNext,
    /// The certificate's issuer name differs from the next certificate's subject name.
    IssuerNameMismatch,
    /// The last certificate of a multi-certificate chain is not a self-signed root.
    RootNotSelfSigned,
    /// A CA certificate has no basicConstraints or `cA` is false.
    CaBasicConstraints,
    /// A CA certificate's basicConstraints extension is not critical.
    CaBasicConstraintsNotCritical,
    /// A CA certificate's pathLenConstraint is smaller than the number of CAs below it.
    PathLength,
    /// The leaf's basicConstraints says `cA = true`.
    LeafIsCa,
    /// keyUsage is absent.
    KeyUsageMissing,
    /// keyUsage is not critical.
    KeyUsageNotCritical,
    /// A CA certificate's keyUsage lacks keyCertSign.
    CaKeyCertSignMissing,
    /// The leaf's keyUsage lacks digitalSignature.
    LeafDigitalSignatureMissing,
    /// The leaf's keyUsage has a bit other than digitalSignature / nonRepudiation.
    LeafForbiddenKeyUsage,
    /// The leaf's extKeyUsage holds a forbidden purpose.
    LeafForbiddenExtendedKeyUsage,
    /// The certificate's public key type or size is not allowed.
    UnsupportedKey,
    /// The certificate is not yet valid at the time (or lower bound) checked.
    NotYetValid,
    /// The certificate has expired at the time (or upper bound) checked.
    Expired,
    /// The validity check was asked with an inconsistent time input.
    InvalidTimeInput,
}

impl ChainRule {
    /// Stable snake_case name of the rule.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong => "too_long",
            Self::Malformed => "malformed",
            Self::DuplicateExtension => "duplicate_extension",
            Self::MalformedExtension => "malformed_extension",
            Self::SignatureAlgorithmMismatch => "signature_algorithm_mismatch",
            Self::WeakSignatureAlgorithm => "weak_signature_algorithm",
            Self::UnsupportedSignatureAlgorithm => "unsupported_signature_algorithm",
            Self::NotSelfSigned => "not_self_signed",
            Self::NotSelfIssued => "not_self_issued",
            Self::LeafSelfSigned => "leaf_self_signed",
            Self::IntermediateSelfSigned => "intermediate_self_signed",
            Self::NotSignedByNext => "not_signed_by_next",
            Self::IssuerNameMismatch => "issuer_name_mismatch",
            Self::RootNotSelfSigned => "root_not_self_signed",
            Self::CaBasicConstraints => "ca_basic_constraints",
            Self::CaBasicConstraintsNotCritical => "ca_basic_constraints_not_critical",
            Self::PathLength => "path_length",
            Self::LeafIsCa => "leaf_is_ca",
            Self::KeyUsageMissing => "key_usage_missing",
            Self::KeyUsageNotCritical => "key_usage_not_critical",
            Self::CaKeyCertSignMissing => "ca_key_cert_sign_missing",
            Self::LeafDigitalSignatureMissing => "leaf_digital_signature_missing",
            Self::LeafForbiddenKeyUsage => "leaf_forbidden_key_usage",
            Self::LeafForbiddenExtendedKeyUsage => "leaf_forbidden_extended_key_usage",
            Self::UnsupportedKey => "unsupported_key",
            Self::NotYetValid => "not_yet_valid",
            Self::Expired => "expired",
            Self::InvalidTimeInput => "invalid_time_input",
        }
    }

    /// Notary validation category: `authentic_timestamp` for validity-period rules, `integrity`
    /// for everything else.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotYetValid | Self::Expired | Self::InvalidTimeInput => "authentic_timestamp",
            _ => "integrity",
        }
    }
}

impl std::fmt::Display for ChainRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A certificate-chain rule violation, naming the certificate (index 0 = leaf) and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate chain: certificate #{index} violates `{rule}`: {detail}")]
#[non_exhaustive]
pub struct ChainError {
    /// Index of the offending certificate in the chain (0 = leaf).
    pub index: usize,
    /// The rule that failed.
    pub rule: ChainRule,
    /// Human-readable detail (subject, times, underlying error).
    pub detail: String,
}

impl ChainError {
    fn new(index: usize, rule: ChainRule, detail: impl Into<String>) -> Self {
        Self {
            index,
            rule,
            detail: detail.into(),
        }
    }

    /// Notary validation category (see [`ChainRule::code`]).
    pub fn code(&self) -> &'static str {
        self.rule.code()
    }

    /// Stable snake_case identifier of the failed rule.
    pub fn reason(&self) -> &'static str {
        self.rule.as_str()
    }
}

/// Byte ranges of one certificate's DER, sliced without re-encoding.
#[derive(Debug, Clone)]
struct RawParts {
    tbs: std::ops::Range<usize>,
    outer_alg: std::ops::Range<usize>,
    inner_alg: std::ops::Range<usize>,
    issuer: std::ops::Range<usize>,
    subject: std::ops::Range<usize>,
    spki: std::ops::Range<usize>,
}

fn range_of(base: &[u8], part: &[u8]) -> Option<std::ops::Range<usize>> {
    let start = part.as_ptr().addr().checked_sub(base.as_ptr().addr())?;
    let end = start.checked_add(part.len())?;
    (end <= base.len()).then_some(start..end)
}

fn split_certificate(der: &[u8]) -> der::Result<Option<RawParts>> {
    let mut reader = SliceReader::new(der)?;
    let parts = reader.sequence(|r| {
        let tbs = r.tlv_bytes()?;
        let outer_alg = r.tlv_bytes()?;
        let _signature = r.tlv_bytes()?;
        let mut t = SliceReader::new(tbs)?;
        let inner = t.sequence(|t| {
            if t.peek_byte() == Some(0xA0) {
                let _version = t.tlv_bytes()?;
            }
            let _serial = t.tlv_bytes()?;
            let inner_alg = t.tlv_bytes()?;
            let issuer = t.tlv_bytes()?;
            let _validity = t.tlv_bytes()?;
            let subject = t.tlv_bytes()?;
            let spki = t.tlv_bytes()?;
            // Skip the optional unique IDs and extensions.
            while !t.is_finished() {
                let _rest = t.tlv_bytes()?;
            }
            Ok((inner_alg, issuer, subject, spki))
        })?;
        t.finish(())?;
        Ok((tbs, outer_alg, inner))
    })?;
    let (tbs, outer_alg, (inner_alg, issuer, subject, spki)) = reader.finish(parts)?;
    Ok((|| {
        Some(RawParts {
            tbs: range_of(der, tbs)?,
            outer_alg: range_of(der, outer_alg)?,
            inner_alg: range_of(der, inner_alg)?,
            issuer: range_of(der, issuer)?,
            subject: range_of(der, subject)?,
            spki: range_of(der, spki)?,
        })
    })())
}

/// Decoded basicConstraints extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicConstraintsInfo {
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// The `cA` flag.
    pub ca: bool,
    /// `pathLenConstraint`, if present.
    pub path_len: Option<u8>,
}

/// Decoded keyUsage extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUsageInfo {
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// The usage bits.
    pub usage: KeyUsage,
}

/// A parsed certificate with the raw DER of every part the chain rules look at.
#[derive(Debug, Clone)]
pub struct ParsedCertificate {
    der: Vec<u8>,
    parts: RawParts,
    cert: x509_cert::Certificate,
    signature: Vec<u8>,
    not_before: i64,
    not_after: i64,
    key: Result<PublicKeyKind, CryptoError>,
    basic_constraints: Option<BasicConstraintsInfo>,
    key_usage: Option<KeyUsageInfo>,
    ext_key_usage: Option<Vec<ObjectIdentifier>>,
}

fn unix_seconds(t: &x509_cert::time::Time) -> Option<i64> {
    i64::try_from(t.to_unix_duration().as_secs()).ok()
}

impl ParsedCertificate {
    /// Parses one DER certificate. `index` is only used in the error.
    pub fn from_der(der: &[u8], index: usize) -> Result<Self, ChainError> {
        let malformed = |e: &dyn std::fmt::Display| {
            ChainError::new(
                index,
                ChainRule::Malformed,
                format!("invalid certificate: {e}"),
            )
        };
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| malformed(&e))?;
        let parts = split_certificate(der)
            .map_err(|e| malformed(&e))?
            .ok_or_else(|| malformed(&"cannot locate certificate parts"))?;
        let signature = cert
            .signature
            .as_bytes()
            .ok_or_else(|| malformed(&"signature bit string has unused bits"))?
            .to_vec();
        let not_before = unix_seconds(&cert.tbs_certificate.validity.not_before)
            .ok_or_else(|| malformed(&"notBefore out of range"))?;
        let not_after = unix_seconds(&cert.tbs_certificate.validity.not_after)
            .ok_or_else(|| malformed(&"notAfter out of range"))?;

        let mut seen: HashSet<ObjectIdentifier> = HashSet::new();
        let mut basic_constraints = None;
        let mut key_usage = None;
        let mut ext_key_usage = None;
        let bad_ext = |what: &str, e: der::Error| {
            ChainError::new(index, ChainRule::MalformedExtension, format!("{what}: {e}"))
        };
        for ext in cert.tbs_certificate.extensions.as_deref().unwrap_or(&[]) {
            if !seen.insert(ext.extn_id) {
                return Err(ChainError::new(
                    index,
                    ChainRule::DuplicateExtension,
                    format!("extension {} appears more than once", ext.extn_id),
                ));
            }
            let value = ext.extn_value.as_bytes();
            if ext.extn_id == rfc5912::ID_CE_BASIC_CONSTRAINTS {
                let bc = BasicConstraints::from_der(value)
                    .map_err(|e| bad_ext("basicConstraints", e))?;
                basic_constraints = Some(BasicConstraintsInfo {
                    critical: ext.critical,
                    ca: bc.ca,
                    path_len: bc.path_len_constraint,
                });
            } else if ext.extn_id == rfc5912::ID_CE_KEY_USAGE {
                let ku = KeyUsage::from_der(value).map_err(|e| bad_ext("keyUsage", e))?;
                key_usage = Some(KeyUsageInfo {
                    critical: ext.critical,
                    usage: ku,
                });
            } else if ext.extn_id == rfc5912::ID_CE_EXT_KEY_USAGE {
                let eku =
                    ExtendedKeyUsage::from_der(value).map_err(|e| bad_ext("extKeyUsage", e))?;
                ext_key_usage = Some(eku.0);
            }
            // Every other extension, critical or not, is ignored (fail open).
        }
        let der = der.to_vec();
        let key = der
            .get(parts.spki.clone())
            .map(crypto::analyze_public_key)
            .unwrap_or_else(|| Err(CryptoError::MalformedKey("missing SPKI".into())));
        Ok(Self {
            der,
            parts,
            cert,
            signature,
            not_before,
            not_after,
            key,
            basic_constraints,
            key_usage,
            ext_key_usage,
        })
    }

    fn slice(&self, r: &std::ops::Range<usize>) -> &[u8] {
        self.der.get(r.clone()).unwrap_or(&[])
    }

    /// The certificate DER exactly as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The decoded certificate.
    pub fn certificate(&self) -> &x509_cert::Certificate {
        &self.cert
    }

    /// Raw DER of the `tbsCertificate` (the signed bytes).
    pub fn tbs_der(&self) -> &[u8] {
        self.slice(&self.parts.tbs)
    }

    /// Raw DER of the subject Name.
    pub fn subject_der(&self) -> &[u8] {
        self.slice(&self.parts.subject)
    }

    /// Raw DER of the issuer Name.
    pub fn issuer_der(&self) -> &[u8] {
        self.slice(&self.parts.issuer)
    }

    /// Raw DER of the SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        self.slice(&self.parts.spki)
    }

    /// Subject name in RFC 4514 string form (for messages).
    pub fn subject_string(&self) -> String {
        self.cert.tbs_certificate.subject.to_string()
    }

    /// `notBefore` in Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// `notAfter` in Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// The decoded basicConstraints extension, if present.
    pub fn basic_constraints(&self) -> Option<BasicConstraintsInfo> {
        self.basic_constraints
    }

    /// The decoded keyUsage extension, if present.
    pub fn key_usage(&self) -> Option<KeyUsageInfo> {
        self.key_usage
    }

    /// The extKeyUsage purposes, if the extension is present.
    pub fn ext_key_usage(&self) -> Option<&[ObjectIdentifier]> {
        self.ext_key_usage.as_deref()
    }

    /// The public key kind, or why it is unusable.
    pub fn public_key(&self) -> Result<PublicKeyKind, CryptoError> {
        self.key.clone()
    }

    /// Whether this certificate's signature verifies with `issuer`'s key (signature algorithm
    /// checks included).
    fn verify_signed_by(&self, issuer: &ParsedCertificate) -> Result<(), CryptoError> {
        crypto::verify_certificate_signature(
            issuer.spki_der(),
            self.slice(&self.parts.outer_alg),
            self.tbs_der(),
            &self.signature,
        )
    }

    /// Go's `isIssuedBy`: signature verifies with `issuer`'s key *and* the names chain.
    fn is_issued_by(&self, issuer: &ParsedCertificate) -> bool {
        self.verify_signed_by(issuer).is_ok() && issuer.subject_der() == self.issuer_der()
    }
}

/// notation's "self-signed" test for trust-store certificates: subject equals issuer and the
/// signature verifies under the certificate's own key.
pub fn is_self_signed(cert: &x509_cert::Certificate) -> bool {
    use der::Encode;
    let Ok(der) = cert.to_der() else { return false };
    let Ok(p) = ParsedCertificate::from_der(&der, 0) else {
        return false;
    };
    p.subject_der() == p.issuer_der() && p.verify_signed_by(&p).is_ok()
}

fn crypto_rule(e: &CryptoError) -> ChainRule {
    match e {
        CryptoError::WeakAlgorithm(_) => ChainRule::WeakSignatureAlgorithm,
        CryptoError::UnsupportedAlgorithm(_) => ChainRule::UnsupportedSignatureAlgorithm,
        CryptoError::MalformedKey(_) | CryptoError::UnsupportedKey(_) => ChainRule::UnsupportedKey,
        _ => ChainRule::NotSignedByNext,
    }
}

/// The instant or range at which certificate validity periods are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidityTime {
    /// Every certificate must satisfy `notBefore <= t <= notAfter`.
    At(i64),
    /// Every certificate must satisfy `notBefore <= lower` and `upper <= notAfter`
    /// (RFC 3161 `genTime ± accuracy`).
    Range {
        /// Earliest possible signing instant.
        lower: i64,
        /// Latest possible signing instant.
        upper: i64,
    },
}

impl ValidityTime {
    /// Picks the time the Notary rules check the signing chain at (SPEC-NOTES §6.3, §6.5):
    ///
    /// * `notary.x509.signingAuthority`: the envelope's `authenticSigningTime` (required); the
    ///   timestamp token and the current time are not used.
    /// * `notary.x509` with a timestamp the caller has *verified* (and chosen to use under the
    ///   policy's `verifyTimestamp` rule): its `[genTime - accuracy, genTime + accuracy]` range.
    /// * `notary.x509` otherwise: `now`, which the caller supplies (this crate never reads the
    ///   clock).
    pub fn for_scheme(
        scheme: SigningScheme,
        authentic_signing_time: Option<i64>,
        verified_timestamp: Option<(i64, i64)>,
        now: i64,
    ) -> Result<Self, ChainError> {
        match scheme {
            SigningScheme::X509SigningAuthority => {
                authentic_signing_time.map(Self::At).ok_or_else(|| {
                    ChainError::new(
                        0,
                        ChainRule::InvalidTimeInput,
                        "signingAuthority scheme without authenticSigningTime",
                    )
                })
            }
            SigningScheme::X509 => match verified_timestamp {
                Some((lower, upper)) if lower <= upper => Ok(Self::Range { lower, upper }),
                Some((lower, upper)) => Err(ChainError::new(
                    0,
                    ChainRule::InvalidTimeInput,
                    format!("timestamp range lower {lower} > upper {upper}"),
                )),
                None => Ok(Self::At(now)),
            },
        }
    }
}

/// A chain that passed every structural rule. The leaf is at index 0.
#[derive(Debug, Clone)]
pub struct ValidatedChain {
    certs: Vec<ParsedCertificate>,
    leaf_key: KeySpec,
}

impl ValidatedChain {
    /// The certificates, leaf first.
    pub fn certificates(&self) -> &[ParsedCertificate] {
        &self.certs
    }

    /// The leaf key spec (its algorithm is the only acceptable envelope `alg`).
    pub fn leaf_key_spec(&self) -> KeySpec {
        self.leaf_key
    }

    /// Checks every certificate's validity period at `when` (inclusive bounds, as Go's
    /// `Before`/`After` comparisons in notation). Returns the first failing index.
    pub fn check_validity(&self, when: ValidityTime) -> Result<(), ChainError> {
        check_validity(&self.certs, when)
    }
}

/// Checks the validity period of every certificate at `when` (see
/// [`ValidatedChain::check_validity`]).
pub fn check_validity(certs: &[ParsedCertificate], when: ValidityTime) -> Result<(), ChainError> {
    let (lower, upper) = match when {
        ValidityTime::At(t) => (t, t),
        ValidityTime::Range { lower, upper } => {
            if lower > upper {
                return Err(ChainError::new(
                    0,
                    ChainRule::InvalidTimeInput,
                    format!("lower bound {lower} is after upper bound {upper}"),
                ));
            }
            (lower, upper)
        }
    };
    for (i, c) in certs.iter().enumerate() {
        if lower < c.not_before {
            return Err(ChainError::new(
                i,
                ChainRule::NotYetValid,
                format!(
                    "certificate {:?} is valid from {} but the time checked is {}",
                    c.subject_string(),
                    c.not_before,
                    lower
                ),
            ));
        }
        if upper > c.not_after {
            return Err(ChainError::new(
                i,
                ChainRule::Expired,
                format!(
                    "certificate {:?} is valid until {} but the time checked is {}",
                    c.subject_string(),
                    c.not_after,
                    upper
                ),
            ));
        }
    }
    Ok(())
}

/// Checks the chain-length budget: 1 to [`MAX_CHAIN_LEN`] certificates.
pub fn check_length(len: usize) -> Result<(), ChainError> {
    if len == 0 {
        return Err(ChainError::new(
            0,
            ChainRule::Empty,
            "certificate chain must contain at least one certificate",
        ));
    }
    if len > MAX_CHAIN_LEN {
        return Err(ChainError::new(
            MAX_CHAIN_LEN,
            ChainRule::TooLong,
            format!("certificate chain has {len} certificates; the limit is {MAX_CHAIN_LEN}"),
        ));
    }
    Ok(())
}

/// Parses and validates an ordered code-signing chain (leaf first) against every structural
/// rule in the module documentation. Validity periods are *not* checked here.
pub fn validate_code_signing_chain<B: AsRef<[u8]>>(
    chain: &[B],
) -> Result<ValidatedChain, ChainError> {
    check_length(chain.len())?;
    let certs = chain
        .iter()
        .enumerate()
        .map(|(i, der)| ParsedCertificate::from_der(der.as_ref(), i))
        .collect::<Result<Vec<_>, _>>()?;

    // Algorithm sanity first, so that a SHA-1 certificate is reported as such wherever it is.
    for (i, c) in certs.iter().enumerate() {
        if c.slice(&c.parts.inner_alg) != c.slice(&c.parts.outer_alg) {
            return Err(ChainError::new(
                i,
                ChainRule::SignatureAlgorithmMismatch,
                "inner and outer signature algorithm identifiers differ",
            ));
        }
        crypto::check_certificate_signature_algorithm(c.slice(&c.parts.outer_alg))
            .map_err(|e| ChainError::new(i, crypto_rule(&e), e.to_string()))?;
    }

    let last = certs.len().saturating_sub(1);
    if let [only] = certs.as_slice() {
        only.verify_signed_by(only).map_err(|e| {
            let rule = match e {
                CryptoError::BadSignature | CryptoError::AlgorithmKeyMismatch { .. } => {
                    ChainRule::NotSelfSigned
                }
                ref other => crypto_rule(other),
            };
            ChainError::new(0, rule, format!("invalid self-signed certificate: {e}"))
        })?;
        if only.subject_der() != only.issuer_der() {
            return Err(ChainError::new(
                0,
                ChainRule::NotSelfIssued,
                "issuer and subject of the self-signed certificate differ",
            ));
        }
        let leaf_key = validate_leaf(only, 0)?;
        return Ok(ValidatedChain { certs, leaf_key });
    }

    let mut leaf_key = None;
    for (i, cert) in certs.iter().enumerate() {
        if i == last {
            if !cert.is_issued_by(cert) {
                return Err(ChainError::new(
                    i,
                    ChainRule::RootNotSelfSigned,
                    format!(
                        "root certificate {:?} is not self-signed; the chain must end with a self-signed root",
                        cert.subject_string()
                    ),
                ));
            }
        } else {
            if cert.is_issued_by(cert) {
                let rule = if i == 0 {
                    ChainRule::LeafSelfSigned
                } else {
                    ChainRule::IntermediateSelfSigned
                };
                return Err(ChainError::new(
                    i,
                    rule,
                    format!("certificate {:?} is self-signed", cert.subject_string()),
                ));
            }
            let parent = certs.get(i.saturating_add(1)).ok_or_else(|| {
                ChainError::new(i, ChainRule::NotSignedByNext, "no next certificate")
            })?;
            cert.verify_signed_by(parent).map_err(|e| {
                ChainError::new(
                    i,
                    crypto_rule(&e),
                    format!(
                        "certificate {:?} is not signed by {:?}: {e}",
                        cert.subject_string(),
                        parent.subject_string()
                    ),
                )
            })?;
            if parent.subject_der() != cert.issuer_der() {
                return Err(ChainError::new(
                    i,
                    ChainRule::IssuerNameMismatch,
                    format!(
                        "issuer of {:?} is not the subject of {:?}",
                        cert.subject_string(),
                        parent.subject_string()
                    ),
                ));
            }
        }
        if i == 0 {
            leaf_key = Some(validate_leaf(cert, 0)?);
        } else {
            validate_ca(cert, i)?;
        }
    }
    let leaf_key =
        leaf_key.ok_or_else(|| ChainError::new(0, ChainRule::Malformed, "chain without a leaf"))?;
    Ok(ValidatedChain { certs, leaf_key })
}

fn require_key_usage(cert: &ParsedCertificate, i: usize) -> Result<KeyUsage, ChainError> {
    let ku = cert.key_usage.ok_or_else(|| {
        ChainError::new(
            i,
            ChainRule::KeyUsageMissing,
            format!(
                "certificate {:?}: key usage extension must be present",
                cert.subject_string()
            ),
        )
    })?;
    if !ku.critical {
        return Err(ChainError::new(
            i,
            ChainRule::KeyUsageNotCritical,
            format!(
                "certificate {:?}: key usage extension must be marked critical",
                cert.subject_string()
            ),
        ));
    }
    Ok(ku.usage)
}

fn validate_ca(cert: &ParsedCertificate, i: usize) -> Result<(), ChainError> {
    let bc = match cert.basic_constraints {
        Some(bc) if bc.ca => bc,
        _ => {
            return Err(ChainError::new(
                i,
                ChainRule::CaBasicConstraints,
                format!(
                    "certificate {:?}: ca field in basic constraints must be present, critical, and set to true",
                    cert.subject_string()
                ),
            ))
        }
    };
    if !bc.critical {
        return Err(ChainError::new(
            i,
            ChainRule::CaBasicConstraintsNotCritical,
            format!(
                "certificate {:?}: basic constraints must be marked critical",
                cert.subject_string()
            ),
        ));
    }
    let expected = i.saturating_sub(1);
    if let Some(max) = bc.path_len {
        if usize::from(max) < expected {
            return Err(ChainError::new(
                i,
                ChainRule::PathLength,
                format!(
                    "certificate {:?}: expected path length of {expected} but certificate has path length {max}",
                    cert.subject_string()
                ),
            ));
        }
    }
    let ku = require_key_usage(cert, i)?;
    if !ku.key_cert_sign() {
        return Err(ChainError::new(
            i,
            ChainRule::CaKeyCertSignMissing,
            format!(
                "certificate {:?}: key usage must have keyCertSign set",
                cert.subject_string()
            ),
        ));
    }
    match cert.public_key() {
        Ok(PublicKeyKind::Rsa { bits }) if bits >= 2048 => Ok(()),
        Ok(PublicKeyKind::Ec(_)) => Ok(()),
        Ok(other) => Err(ChainError::new(
            i,
            ChainRule::UnsupportedKey,
            format!("CA key {other} is too small"),
        )),
        Err(e) => Err(ChainError::new(i, ChainRule::UnsupportedKey, e.to_string())),
    }
}

/// Extended key usages a code-signing leaf must not carry.
const FORBIDDEN_LEAF_EKUS: [(ObjectIdentifier, &str); 6] = [
    (rfc5912::ANY_EXTENDED_KEY_USAGE, "anyExtendedKeyUsage"),
    (rfc5912::ID_KP_SERVER_AUTH, "serverAuth"),
    (rfc5912::ID_KP_CLIENT_AUTH, "clientAuth"),
    (rfc5912::ID_KP_EMAIL_PROTECTION, "emailProtection"),
    (rfc5912::ID_KP_TIME_STAMPING, "timeStamping"),
    (rfc5912::ID_KP_OCSP_SIGNING, "OCSPSigning"),
];

fn validate_leaf(cert: &ParsedCertificate, i: usize) -> Result<KeySpec, ChainError> {
    if cert.basic_constraints.is_some_and(|bc| bc.ca) {
        return Err(ChainError::new(
            i,
            ChainRule::LeafIsCa,
            format!(
                "certificate {:?}: if the basic constraints extension is present, the ca field must be set to false",
                cert.subject_string()
            ),
        ));
    }
    let ku = require_key_usage(cert, i)?;
    if !ku.digital_signature() {
        return Err(ChainError::new(
            i,
            ChainRule::LeafDigitalSignatureMissing,
            format!(
                "certificate {:?}: key usage must have digitalSignature set",
                cert.subject_string()
            ),
        ));
    }
    let forbidden: Vec<&str> = [
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    if !forbidden.is_empty() {
        return Err(ChainError::new(
            i,
            ChainRule::LeafForbiddenKeyUsage,
            format!(
                "certificate {:?}: key usage must be digitalSignature only, found {}",
                cert.subject_string(),
                forbidden.join(", ")
            ),
        ));
    }
    if let Some(ekus) = cert.ext_key_usage() {
        for (oid, name) in FORBIDDEN_LEAF_EKUS {
            if ekus.contains(&oid) {
                return Err(ChainError::new(
                    i,
                    ChainRule::LeafForbiddenExtendedKeyUsage,
                    format!(
                        "certificate {:?}: extended key usage must not contain {name}",
                        cert.subject_string()
                    ),
                ));
            }
        }
    }
    cert.public_key()
        .and_then(KeySpec::from_kind)
        .map_err(|e| ChainError::new(i, ChainRule::UnsupportedKey, e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use const_oid::db::rfc5912;
    use x509_cert::ext::pkix::{KeyUsage, KeyUsages};

    use super::*;
    use crate::notary::envelope::test_support::*;

    fn err(chain: &[Vec<u8>]) -> (usize, ChainRule) {
        let e = validate_code_signing_chain(chain).unwrap_err();
        (e.index, e.rule)
    }

    fn root() -> Vec<u8> {
        mint(&CertSpec::new(
            ROOT,
            ROOT,
            rsa2048(),
            rsa2048(),
            ca_exts(None),
        ))
    }

    fn inter_with(exts: Vec<x509_cert::ext::Extension>) -> Vec<u8> {
        let mut s = CertSpec::new(INTER, ROOT, p384(), rsa2048(), exts);
        s.serial = 2;
        mint(&s)
    }

    fn leaf_with(exts: Vec<x509_cert::ext::Extension>) -> Vec<u8> {
        let mut s = CertSpec::new(LEAF, INTER, p256(), p384(), exts);
        s.serial = 3;
        mint(&s)
    }

    fn chain_with_leaf(exts: Vec<x509_cert::ext::Extension>) -> Vec<Vec<u8>> {
        vec![leaf_with(exts), inter_with(ca_exts(None)), root()]
    }

    fn chain_with_inter(exts: Vec<x509_cert::ext::Extension>) -> Vec<Vec<u8>> {
        vec![leaf_with(leaf_exts()), inter_with(exts), root()]
    }

    #[test]
    fn valid_chains() {
        let c = validate_code_signing_chain(&chain_with_leaf(leaf_exts())).unwrap();
        assert_eq!(c.leaf_key_spec(), KeySpec::EcP256);
        assert_eq!(c.certificates().len(), 3);
        assert_eq!(
            c.certificates()[0].subject_der(),
            c.certificates()[0].subject_der()
        );
        let c = validate_code_signing_chain(&three_chain(rsa3072(), p521(), p384())).unwrap();
        assert_eq!(c.leaf_key_spec(), KeySpec::Rsa3072);
        let c = validate_code_signing_chain(&self_signed(p521())).unwrap();
        assert_eq!(c.leaf_key_spec(), KeySpec::EcP521);
    }

    #[test]
    fn order_and_linkage() {
        let good = chain_with_leaf(leaf_exts());
        let mut reversed = good.clone();
        reversed.reverse();
        assert_eq!(err(&reversed), (0, ChainRule::LeafSelfSigned));
        assert_eq!(
            err(&[good[0].clone(), good[2].clone(), good[1].clone()]),
            (0, ChainRule::NotSignedByNext)
        );
        // An unrelated certificate in the middle.
        let other = three_chain(p384(), p256(), p521());
        assert_eq!(
            err(&[
                good[0].clone(),
                other[1].clone(),
                good[1].clone(),
                good[2].clone()
            ]),
            (0, ChainRule::NotSignedByNext)
        );
        // Chain not ending in a root.
        assert_eq!(err(&good[..2]), (1, ChainRule::RootNotSelfSigned));
        // Duplicated root at the end.
        let mut dup = good.clone();
        dup.push(good[2].clone());
        assert_eq!(err(&dup), (2, ChainRule::IntermediateSelfSigned));
        // Issuer name differs although the key signed it.
        let mut s = CertSpec::new(
            LEAF,
            "CN=Someone Else,O=Notary,C=US",
            p256(),
            p384(),
            leaf_exts(),
        );
        s.serial = 9;
        assert_eq!(
            err(&[mint(&s), good[1].clone(), good[2].clone()]),
            (0, ChainRule::IssuerNameMismatch)
        );
    }

    #[test]
    fn self_signed_intermediate_rejected() {
        let mut s = CertSpec::new(INTER, INTER, p384(), p384(), ca_exts(None));
        s.serial = 4;
        let self_inter = mint(&s);
        assert_eq!(
            err(&[leaf_with(leaf_exts()), self_inter, root()]),
            (1, ChainRule::IntermediateSelfSigned)
        );
    }

    #[test]
    fn single_certificate_rules() {
        // Signed by another key.
        let s = CertSpec::new(LEAF, LEAF, p256(), p384(), leaf_exts());
        assert_eq!(err(&[mint(&s)]), (0, ChainRule::NotSelfSigned));
        // Self-signed but not self-issued.
        let s = CertSpec::new(LEAF, ROOT, p256(), p256(), leaf_exts());
        assert_eq!(err(&[mint(&s)]), (0, ChainRule::NotSelfIssued));
        // A self-signed CA is not a signing certificate.
        assert_eq!(err(&[root()]), (0, ChainRule::LeafIsCa));
    }

    #[test]
    fn sha1_and_algorithm_identifiers() {
        let mut s = CertSpec::new(LEAF, INTER, p256(), rsa2048(), leaf_exts());
        s.sig = CertSig::Sha1WithRsa;
        let mut inter = CertSpec::new(INTER, ROOT, rsa2048(), rsa2048(), ca_exts(None));
        inter.serial = 2;
        let chain = vec![mint(&s), mint(&inter), root()];
        assert_eq!(err(&chain), (0, ChainRule::WeakSignatureAlgorithm));
        assert_eq!(
            validate_code_signing_chain(&chain).unwrap_err().code(),
            "integrity"
        );
        // SHA-1 self-signed root (a single-certificate SHA-1 chain too).
        let mut r = CertSpec::new(LEAF, LEAF, rsa2048(), rsa2048(), leaf_exts());
        r.sig = CertSig::Sha1WithRsa;
        assert_eq!(err(&[mint(&r)]), (0, ChainRule::WeakSignatureAlgorithm));
        // tbsCertificate.signature differs from signatureAlgorithm.
        let mut m = CertSpec::new(LEAF, LEAF, rsa2048(), rsa2048(), leaf_exts());
        m.inner_alg = Some(spki::AlgorithmIdentifierOwned {
            oid: rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
            parameters: Some(der::Any::null()),
        });
        assert_eq!(err(&[mint(&m)]), (0, ChainRule::SignatureAlgorithmMismatch));
    }

    #[test]
    fn rsassa_pss_certificates() {
        let mut s = CertSpec::new(LEAF, LEAF, rsa2048(), rsa2048(), leaf_exts());
        s.sig = CertSig::RsaPssSha256 { salt: 32 };
        validate_code_signing_chain(&[mint(&s)]).unwrap();
        s.sig = CertSig::RsaPssSha256 { salt: 20 };
        assert_eq!(
            err(&[mint(&s)]),
            (0, ChainRule::UnsupportedSignatureAlgorithm)
        );
        let mut s = CertSpec::new(LEAF, LEAF, rsa2048(), rsa2048(), leaf_exts());
        s.sig = CertSig::RsaPkcs1Sha384;
        validate_code_signing_chain(&[mint(&s)]).unwrap();
    }

    #[test]
    fn ca_basic_constraints_and_path_length() {
        assert_eq!(
            err(&chain_with_inter(vec![ku(
                KeyUsage(KeyUsages::KeyCertSign.into()),
                true
            )])),
            (1, ChainRule::CaBasicConstraints)
        );
        assert_eq!(
            err(&chain_with_inter(vec![
                bc(false, None, true),
                ku(KeyUsage(KeyUsages::KeyCertSign.into()), true)
            ])),
            (1, ChainRule::CaBasicConstraints)
        );
        assert_eq!(
            err(&chain_with_inter(vec![
                bc(true, None, false),
                ku(KeyUsage(KeyUsages::KeyCertSign.into()), true)
            ])),
            (1, ChainRule::CaBasicConstraintsNotCritical)
        );
        // Intermediate with pathLen 0 is fine (no CA below it).
        validate_code_signing_chain(&chain_with_inter(ca_exts(Some(0)))).unwrap();
        // Root with pathLen 0 above an intermediate is not.
        let r = mint(&CertSpec::new(
            ROOT,
            ROOT,
            rsa2048(),
            rsa2048(),
            ca_exts(Some(0)),
        ));
        assert_eq!(
            err(&[leaf_with(leaf_exts()), inter_with(ca_exts(None)), r]),
            (2, ChainRule::PathLength)
        );
    }

    #[test]
    fn ca_key_usage() {
        assert_eq!(
            err(&chain_with_inter(vec![bc(true, None, true)])),
            (1, ChainRule::KeyUsageMissing)
        );
        assert_eq!(
            err(&chain_with_inter(vec![
                bc(true, None, true),
                ku(KeyUsage(KeyUsages::KeyCertSign.into()), false)
            ])),
            (1, ChainRule::KeyUsageNotCritical)
        );
        assert_eq!(
            err(&chain_with_inter(vec![
                bc(true, None, true),
                ku(KeyUsage(KeyUsages::DigitalSignature.into()), true)
            ])),
            (1, ChainRule::CaKeyCertSignMissing)
        );
    }

    #[test]
    fn leaf_rules() {
        let ds = || ku(KeyUsage(KeyUsages::DigitalSignature.into()), true);
        assert_eq!(
            err(&chain_with_leaf(vec![bc(true, None, true), ds()])),
            (0, ChainRule::LeafIsCa)
        );
        assert_eq!(
            err(&chain_with_leaf(vec![])),
            (0, ChainRule::KeyUsageMissing)
        );
        assert_eq!(
            err(&chain_with_leaf(vec![ku(
                KeyUsage(KeyUsages::DigitalSignature.into()),
                false
            )])),
            (0, ChainRule::KeyUsageNotCritical)
        );
        assert_eq!(
            err(&chain_with_leaf(vec![ku(
                KeyUsage(KeyUsages::NonRepudiation.into()),
                true
            )])),
            (0, ChainRule::LeafDigitalSignatureMissing)
        );
        for bad in [
            KeyUsages::KeyEncipherment,
            KeyUsages::DataEncipherment,
            KeyUsages::KeyAgreement,
            KeyUsages::KeyCertSign,
            KeyUsages::CRLSign,
        ] {
            assert_eq!(
                err(&chain_with_leaf(vec![ku(
                    KeyUsage(KeyUsages::DigitalSignature | bad),
                    true
                )])),
                (0, ChainRule::LeafForbiddenKeyUsage),
                "{bad:?}"
            );
        }
        // nonRepudiation next to digitalSignature is allowed; so is no EKU at all.
        validate_code_signing_chain(&chain_with_leaf(vec![ku(
            KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
            true,
        )]))
        .unwrap();
        for bad in [
            rfc5912::ANY_EXTENDED_KEY_USAGE,
            rfc5912::ID_KP_SERVER_AUTH,
            rfc5912::ID_KP_CLIENT_AUTH,
            rfc5912::ID_KP_EMAIL_PROTECTION,
            rfc5912::ID_KP_TIME_STAMPING,
            rfc5912::ID_KP_OCSP_SIGNING,
        ] {
            assert_eq!(
                err(&chain_with_leaf(vec![
                    ds(),
                    eku(&[rfc5912::ID_KP_CODE_SIGNING, bad], false)
                ])),
                (0, ChainRule::LeafForbiddenExtendedKeyUsage),
                "{bad}"
            );
        }
        // codeSigning plus an unknown private purpose is fine.
        let private = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.10.3.13");
        validate_code_signing_chain(&chain_with_leaf(vec![
            ds(),
            eku(&[rfc5912::ID_KP_CODE_SIGNING, private], true),
        ]))
        .unwrap();
    }

    #[test]
    fn unknown_critical_extensions_fail_open() {
        let unknown = |v: u8| {
            ext(
                ObjectIdentifier::new_unwrap("1.2.3.4.5"),
                true,
                vec![0x04, 0x01, v],
            )
        };
        let mut leaf = leaf_exts();
        leaf.push(unknown(1));
        let mut ca = ca_exts(None);
        ca.push(unknown(2));
        // A critical name constraints extension is ignored too.
        ca.push(ext(rfc5912::ID_CE_NAME_CONSTRAINTS, true, vec![0x30, 0x00]));
        let mut s = CertSpec::new(INTER, ROOT, p384(), rsa2048(), ca);
        s.serial = 2;
        let chain = vec![leaf_with(leaf), mint(&s), root()];
        validate_code_signing_chain(&chain).unwrap();
    }

    #[test]
    fn malformed_extensions_and_duplicates() {
        let mut exts = leaf_exts();
        exts.push(bc(false, None, false));
        assert_eq!(
            err(&chain_with_leaf(exts)),
            (0, ChainRule::DuplicateExtension)
        );
        let bad_ku = ext(rfc5912::ID_CE_KEY_USAGE, true, vec![0x05, 0x00]);
        assert_eq!(
            err(&chain_with_leaf(vec![bad_ku])),
            (0, ChainRule::MalformedExtension)
        );
    }

    #[test]
    fn key_rules() {
        for (spki, name) in [
            (rsa_spki(128), "RSA-1024"),
            (rsa_spki(1024), "RSA-8192"),
            (ed25519_spki(), "Ed25519"),
        ] {
            let mut s = CertSpec::new(LEAF, INTER, p256(), p384(), leaf_exts());
            s.spki = Some(spki);
            let chain = vec![mint(&s), inter_with(ca_exts(None)), root()];
            assert_eq!(err(&chain), (0, ChainRule::UnsupportedKey), "{name}");
        }
        // Sizes are whole bytes times 8 (Go's `Size() << 3`): 2056 bits is not in the table.
        let mut s = CertSpec::new(LEAF, INTER, p256(), p384(), leaf_exts());
        s.spki = Some(rsa_spki(257));
        assert_eq!(
            err(&[mint(&s), inter_with(ca_exts(None)), root()]),
            (0, ChainRule::UnsupportedKey)
        );
    }

    #[test]
    fn length_budget_and_malformed() {
        assert_eq!(err(&Vec::<Vec<u8>>::new()), (0, ChainRule::Empty));
        let one = self_signed(p256()).remove(0);
        assert_eq!(
            err(&vec![one.clone(); MAX_CHAIN_LEN + 1]).1,
            ChainRule::TooLong
        );
        assert_eq!(
            err(&[b"not a certificate".to_vec()]),
            (0, ChainRule::Malformed)
        );
        let mut trailing = one.clone();
        trailing.push(0);
        assert_eq!(err(&[trailing]), (0, ChainRule::Malformed));
        assert_eq!(
            err(&[leaf_with(leaf_exts()), vec![0x30, 0x00], root()]),
            (1, ChainRule::Malformed)
        );
    }

    #[test]
    fn validity_at_time_and_range() {
        // Intermediate valid 2022..2030, others 2020..2040.
        let t2022 = 1_640_995_200;
        let t2030 = 1_893_456_000;
        let mut s = CertSpec::new(INTER, ROOT, p384(), rsa2048(), ca_exts(None));
        s.serial = 2;
        s.not_before = t2022;
        s.not_after = t2030;
        let chain = vec![leaf_with(leaf_exts()), mint(&s), root()];
        let v = validate_code_signing_chain(&chain).unwrap();
        assert_eq!(v.certificates()[1].not_before(), t2022);
        assert_eq!(v.certificates()[1].not_after(), t2030);
        v.check_validity(ValidityTime::At(T2024)).unwrap();
        v.check_validity(ValidityTime::At(t2022)).unwrap(); // inclusive
        v.check_validity(ValidityTime::At(t2030)).unwrap(); // inclusive
        let e = v.check_validity(ValidityTime::At(t2022 - 1)).unwrap_err();
        assert_eq!(
            (e.index, e.rule, e.code()),
            (1, ChainRule::NotYetValid, "authentic_timestamp")
        );
        let e = v.check_validity(ValidityTime::At(t2030 + 1)).unwrap_err();
        assert_eq!((e.index, e.rule), (1, ChainRule::Expired));
        let e = v.check_validity(ValidityTime::At(T2020 - 1)).unwrap_err();
        assert_eq!((e.index, e.rule), (0, ChainRule::NotYetValid));
        v.check_validity(ValidityTime::Range {
            lower: t2022,
            upper: t2030,
        })
        .unwrap();
        let e = v
            .check_validity(ValidityTime::Range {
                lower: t2022 - 1,
                upper: T2024,
            })
            .unwrap_err();
        assert_eq!((e.index, e.rule), (1, ChainRule::NotYetValid));
        let e = v
            .check_validity(ValidityTime::Range {
                lower: T2024,
                upper: t2030 + 1,
            })
            .unwrap_err();
        assert_eq!((e.index, e.rule), (1, ChainRule::Expired));
        let e = v
            .check_validity(ValidityTime::Range {
                lower: T2024 + 1,
                upper: T2024,
            })
            .unwrap_err();
        assert_eq!(e.rule, ChainRule::InvalidTimeInput);
    }

    #[test]
    fn scheme_time_rules() {
        use crate::notary::envelope::SigningScheme as S;
        assert_eq!(
            ValidityTime::for_scheme(S::X509SigningAuthority, Some(5), Some((1, 9)), 100).unwrap(),
            ValidityTime::At(5)
        );
        assert_eq!(
            ValidityTime::for_scheme(S::X509SigningAuthority, None, None, 100)
                .unwrap_err()
                .rule,
            ChainRule::InvalidTimeInput
        );
        assert_eq!(
            ValidityTime::for_scheme(S::X509, None, Some((1, 9)), 100).unwrap(),
            ValidityTime::Range { lower: 1, upper: 9 }
        );
        assert_eq!(
            ValidityTime::for_scheme(S::X509, Some(5), None, 100).unwrap(),
            ValidityTime::At(100)
        );
        assert!(ValidityTime::for_scheme(S::X509, None, Some((9, 1)), 100).is_err());
    }

    #[test]
    fn corpus_chains_are_valid() {
        // The notation-go mock chain (leaf + "Notation Test Root", same subject DN on both).
        let v: serde_json::Value = serde_json::from_slice(&corpus_file(
            "envelopes/ngo-mock.x509.valid/ca_valid_sig_env.json",
        ))
        .unwrap();
        use base64::Engine as _;
        let chain: Vec<Vec<u8>> = v["header"]["x5c"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                base64::engine::general_purpose::STANDARD
                    .decode(c.as_str().unwrap())
                    .unwrap()
            })
            .collect();
        let c = validate_code_signing_chain(&chain).unwrap();
        assert_eq!(c.leaf_key_spec(), KeySpec::Rsa3072);
        assert_eq!(
            c.certificates()[0].subject_der(),
            c.certificates()[1].subject_der()
        );
    }
}
