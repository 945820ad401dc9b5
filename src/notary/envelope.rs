//! Notary signature envelopes: `application/jose+json` (JWS JSON, flattened) and
//! `application/cose` (tagged COSE_Sign1).
//!
//! [`Envelope::parse`] decodes an envelope and applies every header rule of the Notary
//! signature specification that does not need the certificate (SPEC-NOTES §3, §6.2):
//!
//! * `alg` is one of PS256/384/512, ES256/384/512 (its match with the leaf key is checked by
//!   [`Envelope::verify_integrity`]);
//! * `cty` is exactly [`PAYLOAD_MEDIA_TYPE`];
//! * `crit` is present and non-empty, has no duplicates and no reserved labels, every label it
//!   lists is present in the protected header, and it lists `io.cncf.notary.signingScheme`,
//!   `io.cncf.notary.authenticSigningTime` (signing-authority scheme) and `io.cncf.notary.expiry`
//!   (when present);
//! * `io.cncf.notary.signingScheme` is `notary.x509` (requires `signingTime`, forbids
//!   `authenticSigningTime`) or `notary.x509.signingAuthority` (requires `authenticSigningTime`,
//!   forbids `signingTime`); `expiry`, when present, is after the signing time;
//! * the certificate chain (`x5c` / `x5chain`, leaf first) is present and holds at most
//!   [`super::chain::MAX_CHAIN_LEN`] certificates, kept as the exact DER received.
//!
//! [`Envelope::verify_integrity`] then verifies the signature over the exact bytes received (JWS:
//! `ASCII(protected "." payload)` as transmitted; COSE: the Sig_structure built around the
//! *original* protected-header bytes), checks `alg` against the leaf key, validates the chain's
//! structure ([`super::chain`]), and finally refuses envelopes that need a verification plugin
//! ([`EnvelopeError::PluginRequired`]) or carry critical attributes this verifier does not
//! understand ([`EnvelopeError::UnknownCriticalAttribute`]).
//!
//! [`encode`] writes a `notary.x509` envelope (JWS or COSE) the way notation signs, handing the
//! bytes to be signed to a caller-supplied signer ([`super::crypto::SigningKey::sign`]); it checks
//! nothing about the key or chain, which is [`super::sign`]'s job.
//!
//! No function here reads the clock: [`Envelope::check_expiry`] takes the time as a parameter.
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

pub mod cose;
pub mod jws;

use std::collections::HashSet;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests_adversarial;

use super::chain::{self, ValidatedChain};
use super::crypto::{self, CryptoError, KeySpec, PssSaltPolicy, SignatureAlgorithm};
use super::payload::{Payload, PayloadError};

/// Media type of JWS envelopes.
pub const MEDIA_TYPE_JWS: &str = "application/jose+json";
/// Media type of COSE envelopes.
pub const MEDIA_TYPE_COSE: &str = "application/cose";
/// Required `cty` of every Notary envelope.
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";
/// Largest envelope accepted (notation `maxBlobSizeLimit`, 32 MiB).
pub const MAX_ENVELOPE_SIZE: usize = 32 * 1024 * 1024;

/// `io.cncf.notary.signingScheme`.
pub const HEADER_SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
/// `io.cncf.notary.signingTime`.
pub const HEADER_SIGNING_TIME: &str = "io.cncf.notary.signingTime";
/// `io.cncf.notary.authenticSigningTime`.
pub const HEADER_AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
/// `io.cncf.notary.expiry`.
pub const HEADER_EXPIRY: &str = "io.cncf.notary.expiry";
/// `io.cncf.notary.verificationPlugin`.
pub const HEADER_VERIFICATION_PLUGIN: &str = "io.cncf.notary.verificationPlugin";
/// `io.cncf.notary.verificationPluginMinVersion`.
pub const HEADER_VERIFICATION_PLUGIN_MIN_VERSION: &str =
    "io.cncf.notary.verificationPluginMinVersion";
/// `io.cncf.notary.timestampSignature` (unprotected).
pub const HEADER_TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";
/// `io.cncf.notary.signingAgent` (unprotected).
pub const HEADER_SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";

/// Notary signing schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigningScheme {
    /// `notary.x509`: CA-issued signing certificate, unauthenticated `signingTime`, optional
    /// RFC 3161 timestamp.
    X509,
    /// `notary.x509.signingAuthority`: the signer vouches for `authenticSigningTime`.
    X509SigningAuthority,
}

impl SigningScheme {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::X509 => "notary.x509",
            Self::X509SigningAuthority => "notary.x509.signingAuthority",
        }
    }

    /// Parses the header value (exact match).
    pub fn from_header(value: &str) -> Option<Self> {
        match value {
            "notary.x509" => Some(Self::X509),
            "notary.x509.signingAuthority" => Some(Self::X509SigningAuthority),
            _ => None,
        }
    }
}

/// Envelope serialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EnvelopeFormat {
    /// JWS JSON serialization (flattened), `application/jose+json`.
    Jws,
    /// COSE_Sign1_Tagged, `application/cose`.
    Cose,
}

impl EnvelopeFormat {
    /// The envelope media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jws => MEDIA_TYPE_JWS,
            Self::Cose => MEDIA_TYPE_COSE,
        }
    }
}

/// A protected-header label: JWS names are text; COSE labels are text or integers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AttributeKey {
    /// Text label.
    Text(String),
    /// Integer label (COSE only).
    Int(i64),
}

impl AttributeKey {
    fn text(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl std::fmt::Display for AttributeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(s) => f.write_str(s),
            Self::Int(i) => write!(f, "{i}"),
        }
    }
}

/// Value of an extended signed attribute, in the envelope's own data model.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AttributeValue {
    /// JSON value (JWS).
    Json(serde_json::Value),
    /// CBOR value (COSE).
    Cbor(coset::cbor::value::Value),
}

/// An extended signed attribute: a protected header this module does not interpret.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtendedAttribute {
    /// The label.
    pub key: AttributeKey,
    /// The value.
    pub value: AttributeValue,
    /// Whether `crit` lists it.
    pub critical: bool,
}

/// Envelope parsing and integrity errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The envelope is larger than [`MAX_ENVELOPE_SIZE`].
    #[error("signature envelope is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// Envelope size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The layer media type is neither JWS nor COSE.
    #[error("signature envelope format with media type {0:?} is not supported")]
    UnsupportedMediaType(String),
    /// The envelope cannot be decoded (JSON, CBOR, base64, wrong value types, trailing bytes).
    #[error("malformed signature envelope: {0}")]
    Malformed(String),
    /// A required header is absent.
    #[error("required header {0} is missing")]
    MissingHeader(String),
    /// A header is present where the signing scheme forbids it.
    #[error("header {header} must not be present for signing scheme {scheme}")]
    UnexpectedHeader {
        /// The header.
        header: String,
        /// The signing scheme.
        scheme: String,
    },
    /// `alg` is not one of PS256/384/512, ES256/384/512.
    #[error("signature algorithm not supported: {0}")]
    UnsupportedAlgorithm(String),
    /// `cty` is not the Notary payload media type (or not a text string).
    #[error("payload content type {0:?} is not supported")]
    InvalidContentType(String),
    /// `crit` is malformed: empty, duplicated, reserved, or naming an absent header.
    #[error("invalid crit header: {0}")]
    InvalidCritical(String),
    /// A header the specification requires to be critical is not listed in `crit`.
    #[error("required headers are not marked as critical: {0}")]
    NotMarkedCritical(String),
    /// `io.cncf.notary.signingScheme` has an unknown value.
    #[error("unsupported signingScheme: {0}")]
    UnsupportedSigningScheme(String),
    /// A time header is not in the required form (RFC 3339 string for JWS, CBOR tag 1 for COSE).
    #[error("invalid {header}: {reason}")]
    InvalidTime {
        /// The header.
        header: String,
        /// What is wrong.
        reason: String,
    },
    /// `expiry` is not after the signing time.
    #[error("expiry cannot be equal or before the signing time")]
    ExpiryNotAfterSigningTime,
    /// The certificate chain (`x5c` / `x5chain`) is absent or empty.
    #[error("certificate chain is not present")]
    CertificateChainMissing,
    /// The envelope `alg` is not the one the leaf key requires.
    #[error("mismatch between signature algorithm derived from signing certificate ({key:?} -> {expected}) and signing algorithm specified ({header})")]
    AlgorithmKeyMismatch {
        /// `alg` in the envelope.
        header: SignatureAlgorithm,
        /// The leaf key.
        key: KeySpec,
        /// The algorithm the key requires.
        expected: SignatureAlgorithm,
    },
    /// The signature does not verify, or the leaf key is unusable.
    #[error("signature is invalid: {0}")]
    Crypto(#[from] CryptoError),
    /// The certificate chain violates a Notary rule.
    #[error(transparent)]
    Chain(#[from] chain::ChainError),
    /// The signature requires a verification plugin; this verifier has none, so verification
    /// must fail (SPEC/sig "Guidelines for implementations").
    #[error("signature requires verification plugin {name:?}{}", min_version.as_ref().map(|v| format!(" (minimum version {v})")).unwrap_or_default())]
    PluginRequired {
        /// `io.cncf.notary.verificationPlugin`.
        name: String,
        /// `io.cncf.notary.verificationPluginMinVersion`, if present.
        min_version: Option<String>,
    },
    /// A critical extended attribute this verifier does not understand (spec: MUST fail).
    #[error("unknown critical attribute {0}")]
    UnknownCriticalAttribute(String),
    /// The signature's `expiry` has passed (`now >= expiry`).
    #[error("digital signature has expired (expiry {expiry}, now {now})")]
    Expired {
        /// `io.cncf.notary.expiry` (Unix seconds).
        expiry: i64,
        /// The time checked (Unix seconds).
        now: i64,
    },
}

impl EnvelopeError {
    /// Notary validation category: `integrity`, `plugin_required`, `expiry`, or the chain
    /// error's category.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PluginRequired { .. } => "plugin_required",
            Self::Expired { .. } => "expiry",
            Self::Chain(e) => e.code(),
            Self::Crypto(e) => e.code(),
            _ => "integrity",
        }
    }

    /// Stable snake_case identifier of the variant (chain and crypto errors give their own).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Malformed(_) => "malformed",
            Self::MissingHeader(_) => "missing_header",
            Self::UnexpectedHeader { .. } => "unexpected_header",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::InvalidContentType(_) => "invalid_content_type",
            Self::InvalidCritical(_) => "invalid_critical",
            Self::NotMarkedCritical(_) => "not_marked_critical",
            Self::UnsupportedSigningScheme(_) => "unsupported_signing_scheme",
            Self::InvalidTime { .. } => "invalid_time",
            Self::ExpiryNotAfterSigningTime => "expiry_not_after_signing_time",
            Self::CertificateChainMissing => "certificate_chain_missing",
            Self::AlgorithmKeyMismatch { .. } => "algorithm_key_mismatch",
            Self::Crypto(e) => e.reason(),
            Self::Chain(e) => e.reason(),
            Self::PluginRequired { .. } => "plugin_required",
            Self::UnknownCriticalAttribute(_) => "unknown_critical_attribute",
            Self::Expired { .. } => "expired",
        }
    }
}

/// What [`encode`] writes: a `notary.x509` envelope over `payload`.
#[derive(Debug, Clone, Copy)]
pub struct EncodeRequest<'a> {
    /// JWS or COSE.
    pub format: EnvelopeFormat,
    /// `alg`: the algorithm the signing key uses.
    pub algorithm: SignatureAlgorithm,
    /// The payload (`application/vnd.cncf.notary.payload.v1+json`).
    pub payload: &'a [u8],
    /// The certificate chain (DER, leaf first) for `x5c` / `x5chain`.
    pub chain: &'a [Vec<u8>],
    /// `io.cncf.notary.signingTime`, Unix seconds.
    pub signing_time: i64,
    /// `io.cncf.notary.expiry`, Unix seconds (listed in `crit` when present).
    pub expiry: Option<i64>,
    /// `io.cncf.notary.signingAgent` (unprotected, informational).
    pub signing_agent: &'a str,
}

/// Writes an envelope for `req`. `sign` receives the exact bytes to sign (JWS signing input or
/// COSE Sig_structure) and returns the primitive signature.
pub fn encode(
    req: &EncodeRequest<'_>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, CryptoError>,
) -> Result<Vec<u8>, EnvelopeError> {
    match req.format {
        EnvelopeFormat::Jws => jws::encode(req, sign),
        EnvelopeFormat::Cose => cose::encode(req, sign),
    }
}

pub use super::time::{format_rfc3339, parse_rfc3339};

/// Format-neutral protected-header content handed over by the JWS and COSE parsers.
#[derive(Debug, Default)]
pub(crate) struct RawHeaders {
    /// `alg`, already mapped.
    pub alg: Option<SignatureAlgorithm>,
    /// `cty`.
    pub content_type: Option<String>,
    /// `crit`, as listed (reserved labels already rejected by the format parser).
    pub crit: Vec<AttributeKey>,
    /// Every label present in the protected header.
    pub present: Vec<AttributeKey>,
    /// `io.cncf.notary.signingScheme`.
    pub signing_scheme: Option<String>,
    /// `io.cncf.notary.signingTime`.
    pub signing_time: Option<i64>,
    /// `io.cncf.notary.authenticSigningTime`.
    pub authentic_signing_time: Option<i64>,
    /// `io.cncf.notary.expiry`.
    pub expiry: Option<i64>,
    /// `io.cncf.notary.verificationPlugin`.
    pub verification_plugin: Option<String>,
    /// `io.cncf.notary.verificationPluginMinVersion`.
    pub verification_plugin_min_version: Option<String>,
    /// Every other protected label.
    pub extended: Vec<(AttributeKey, AttributeValue)>,
}

/// Format-neutral unprotected content and signed bytes.
#[derive(Debug)]
pub(crate) struct RawParts {
    pub format: EnvelopeFormat,
    pub headers: RawHeaders,
    pub cert_chain: Vec<Vec<u8>>,
    pub signing_agent: Option<String>,
    pub timestamp_token: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub signed_message: Vec<u8>,
}

/// A parsed Notary signature envelope.
///
/// Everything in it is **untrusted** until [`Envelope::verify_integrity`] (or
/// [`Envelope::verify`]) succeeds. Fields are private so that the payload and headers a caller
/// reads are always the ones the signature is verified over.
#[derive(Debug, Clone)]
pub struct Envelope {
    format: EnvelopeFormat,
    algorithm: SignatureAlgorithm,
    content_type: String,
    signing_scheme: SigningScheme,
    signing_time: Option<i64>,
    authentic_signing_time: Option<i64>,
    expiry: Option<i64>,
    verification_plugin: Option<String>,
    verification_plugin_min_version: Option<String>,
    critical: Vec<AttributeKey>,
    extended_attributes: Vec<ExtendedAttribute>,
    cert_chain: Vec<Vec<u8>>,
    signing_agent: Option<String>,
    timestamp_token: Option<Vec<u8>>,
    payload: Vec<u8>,
    signature: Vec<u8>,
    signed_message: Vec<u8>,
}

/// Labels whose meaning this verifier implements; listing them in `crit` is fine.
const UNDERSTOOD_CRITICAL: [&str; 6] = [
    HEADER_SIGNING_SCHEME,
    HEADER_SIGNING_TIME,
    HEADER_AUTHENTIC_SIGNING_TIME,
    HEADER_EXPIRY,
    HEADER_VERIFICATION_PLUGIN,
    HEADER_VERIFICATION_PLUGIN_MIN_VERSION,
];

impl Envelope {
    /// Parses an envelope given its layer media type (`application/jose+json` or
    /// `application/cose`). Any other media type is [`EnvelopeError::UnsupportedMediaType`].
    pub fn parse(media_type: &str, bytes: &[u8]) -> Result<Self, EnvelopeError> {
        match media_type {
            MEDIA_TYPE_JWS => Self::parse_jws(bytes),
            MEDIA_TYPE_COSE => Self::parse_cose(bytes),
            other => Err(EnvelopeError::UnsupportedMediaType(other.to_owned())),
        }
    }

    /// Parses a JWS JSON (flattened) envelope.
    pub fn parse_jws(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        check_size(bytes)?;
        Self::from_parts(jws::parse(bytes)?)
    }

    /// Parses a tagged COSE_Sign1 envelope.
    pub fn parse_cose(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        check_size(bytes)?;
        Self::from_parts(cose::parse(bytes)?)
    }

    fn from_parts(parts: RawParts) -> Result<Self, EnvelopeError> {
        let h = parts.headers;
        let algorithm = h
            .alg
            .ok_or_else(|| EnvelopeError::MissingHeader("alg".into()))?;

        // crit: non-empty, unique, every label present.
        if h.crit.is_empty() {
            return Err(EnvelopeError::InvalidCritical(
                "missing or empty crit header".into(),
            ));
        }
        // Hash sets keep these checks linear: headers can be as large as the envelope.
        let present: HashSet<&AttributeKey> = h.present.iter().collect();
        let mut crit_set: HashSet<&AttributeKey> = HashSet::with_capacity(h.crit.len());
        for label in &h.crit {
            if !crit_set.insert(label) {
                return Err(EnvelopeError::InvalidCritical(format!(
                    "{label} is listed more than once"
                )));
            }
            if !present.contains(label) {
                return Err(EnvelopeError::InvalidCritical(format!(
                    "{label} is marked critical but not present"
                )));
            }
        }

        // signing scheme and its time headers.
        let scheme_str = h
            .signing_scheme
            .ok_or_else(|| EnvelopeError::MissingHeader(HEADER_SIGNING_SCHEME.into()))?;
        let signing_scheme = SigningScheme::from_header(&scheme_str)
            .ok_or(EnvelopeError::UnsupportedSigningScheme(scheme_str))?;
        let unexpected = |header: &str| EnvelopeError::UnexpectedHeader {
            header: header.to_owned(),
            scheme: signing_scheme.as_str().to_owned(),
        };
        let effective_time = match signing_scheme {
            SigningScheme::X509 => {
                if h.authentic_signing_time.is_some() {
                    return Err(unexpected(HEADER_AUTHENTIC_SIGNING_TIME));
                }
                h.signing_time
                    .ok_or_else(|| EnvelopeError::MissingHeader(HEADER_SIGNING_TIME.into()))?
            }
            SigningScheme::X509SigningAuthority => {
                if h.signing_time.is_some() {
                    return Err(unexpected(HEADER_SIGNING_TIME));
                }
                h.authentic_signing_time.ok_or_else(|| {
                    EnvelopeError::MissingHeader(HEADER_AUTHENTIC_SIGNING_TIME.into())
                })?
            }
        };

        // Headers that must be critical.
        let mut must: Vec<&str> = vec![HEADER_SIGNING_SCHEME];
        if signing_scheme == SigningScheme::X509SigningAuthority {
            must.push(HEADER_AUTHENTIC_SIGNING_TIME);
        }
        if h.expiry.is_some() {
            must.push(HEADER_EXPIRY);
        }
        let missing: Vec<&str> = must
            .into_iter()
            .filter(|m| !crit_set.contains(&AttributeKey::text(m)))
            .collect();
        if !missing.is_empty() {
            return Err(EnvelopeError::NotMarkedCritical(missing.join(", ")));
        }

        // Content type.
        let content_type = h
            .content_type
            .ok_or_else(|| EnvelopeError::MissingHeader("cty".into()))?;
        if content_type != PAYLOAD_MEDIA_TYPE {
            return Err(EnvelopeError::InvalidContentType(content_type));
        }

        // Expiry after signing time.
        if let Some(expiry) = h.expiry {
            if expiry <= effective_time {
                return Err(EnvelopeError::ExpiryNotAfterSigningTime);
            }
        }

        if parts.cert_chain.is_empty() {
            return Err(EnvelopeError::CertificateChainMissing);
        }
        chain::check_length(parts.cert_chain.len())?;
        if parts.payload.is_empty() {
            return Err(EnvelopeError::Malformed("payload is empty".into()));
        }
        if parts.signature.is_empty() {
            return Err(EnvelopeError::Malformed("signature is empty".into()));
        }

        let extended_attributes = h
            .extended
            .into_iter()
            .map(|(key, value)| ExtendedAttribute {
                critical: crit_set.contains(&key),
                key,
                value,
            })
            .collect();

        Ok(Self {
            format: parts.format,
            algorithm,
            content_type,
            signing_scheme,
            signing_time: h.signing_time,
            authentic_signing_time: h.authentic_signing_time,
            expiry: h.expiry,
            verification_plugin: h.verification_plugin,
            verification_plugin_min_version: h.verification_plugin_min_version,
            critical: h.crit,
            extended_attributes,
            cert_chain: parts.cert_chain,
            signing_agent: parts.signing_agent,
            timestamp_token: parts.timestamp_token,
            payload: parts.payload,
            signature: parts.signature,
            signed_message: parts.signed_message,
        })
    }

    /// Verifies integrity as notation's `envelope.Verify` does, plus the plugin and
    /// critical-attribute checks a plugin-less verifier must make:
    ///
    /// 1. the leaf key determines the algorithm; `alg` must equal it;
    /// 2. the signature verifies over the exact signed bytes;
    /// 3. the certificate chain passes every structural rule of [`super::chain`];
    /// 4. no `io.cncf.notary.verificationPlugin` ([`EnvelopeError::PluginRequired`]);
    /// 5. no critical extended attribute ([`EnvelopeError::UnknownCriticalAttribute`]).
    ///
    /// Validity periods, trust, expiry and timestamps are later, separate steps.
    pub fn verify_integrity(&self) -> Result<(), EnvelopeError> {
        self.verify().map(|_| ())
    }

    /// Same as [`Envelope::verify_integrity`], returning the validated chain.
    pub fn verify(&self) -> Result<ValidatedChain, EnvelopeError> {
        let leaf_der = self
            .cert_chain
            .first()
            .ok_or(EnvelopeError::CertificateChainMissing)?;
        let leaf = chain::parse_certificate(leaf_der, 0)?;
        let key = crypto::key_spec_from_spki(leaf.spki_der())?;
        let expected = key.signature_algorithm();
        if expected != self.algorithm {
            return Err(EnvelopeError::AlgorithmKeyMismatch {
                header: self.algorithm,
                key,
                expected,
            });
        }
        let salt = match self.format {
            EnvelopeFormat::Jws => PssSaltPolicy::Any,
            EnvelopeFormat::Cose => PssSaltPolicy::EqualsHash,
        };
        crypto::verify_envelope_signature(
            leaf.spki_der(),
            self.algorithm,
            salt,
            &self.signed_message,
            &self.signature,
        )?;
        let validated = chain::validate_code_signing_chain(&self.cert_chain)?;
        if validated.leaf_key_spec() != key {
            return Err(EnvelopeError::AlgorithmKeyMismatch {
                header: self.algorithm,
                key: validated.leaf_key_spec(),
                expected: validated.leaf_key_spec().signature_algorithm(),
            });
        }
        if let Some(name) = &self.verification_plugin {
            return Err(EnvelopeError::PluginRequired {
                name: name.clone(),
                min_version: self.verification_plugin_min_version.clone(),
            });
        }
        // Every critical label must be one whose semantics this verifier implements; critical
        // extended attributes are, by definition, not (spec: they MUST fail verification).
        if let Some(label) = self.critical.iter().find(|l| match l {
            AttributeKey::Text(t) => !UNDERSTOOD_CRITICAL.contains(&t.as_str()),
            AttributeKey::Int(_) => true,
        }) {
            return Err(EnvelopeError::UnknownCriticalAttribute(label.to_string()));
        }
        Ok(validated)
    }

    /// Fails with [`EnvelopeError::Expired`] when the envelope has an `expiry` and
    /// `now >= expiry` (notation: `!now.Before(expiry)`). `now` is Unix seconds.
    pub fn check_expiry(&self, now: i64) -> Result<(), EnvelopeError> {
        match self.expiry {
            Some(expiry) if now >= expiry => Err(EnvelopeError::Expired { expiry, now }),
            _ => Ok(()),
        }
    }

    /// Parses the payload (`application/vnd.cncf.notary.payload.v1+json`). Only meaningful
    /// after [`Envelope::verify_integrity`] succeeded.
    pub fn parse_payload(&self) -> Result<Payload, PayloadError> {
        Payload::from_slice(&self.payload)
    }

    /// The envelope format.
    pub fn format(&self) -> EnvelopeFormat {
        self.format
    }

    /// The envelope media type.
    pub fn media_type(&self) -> &'static str {
        self.format.media_type()
    }

    /// The `alg` header.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The `cty` header (always [`PAYLOAD_MEDIA_TYPE`]).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The signing scheme.
    pub fn signing_scheme(&self) -> SigningScheme {
        self.signing_scheme
    }

    /// `io.cncf.notary.signingTime` (Unix seconds; `notary.x509` only).
    pub fn signing_time(&self) -> Option<i64> {
        self.signing_time
    }

    /// `io.cncf.notary.authenticSigningTime` (Unix seconds; signing-authority scheme only).
    pub fn authentic_signing_time(&self) -> Option<i64> {
        self.authentic_signing_time
    }

    /// The scheme's signing time: `signingTime` or `authenticSigningTime` (always present).
    pub fn effective_signing_time(&self) -> i64 {
        match self.signing_scheme {
            SigningScheme::X509 => self.signing_time,
            SigningScheme::X509SigningAuthority => self.authentic_signing_time,
        }
        .unwrap_or_default()
    }

    /// `io.cncf.notary.expiry` (Unix seconds).
    pub fn expiry(&self) -> Option<i64> {
        self.expiry
    }

    /// `io.cncf.notary.verificationPlugin`.
    pub fn verification_plugin(&self) -> Option<&str> {
        self.verification_plugin.as_deref()
    }

    /// `io.cncf.notary.verificationPluginMinVersion`.
    pub fn verification_plugin_min_version(&self) -> Option<&str> {
        self.verification_plugin_min_version.as_deref()
    }

    /// The labels listed in `crit`.
    pub fn critical_headers(&self) -> &[AttributeKey] {
        &self.critical
    }

    /// Extended signed attributes (protected headers not interpreted here).
    pub fn extended_attributes(&self) -> &[ExtendedAttribute] {
        &self.extended_attributes
    }

    /// The certificate chain, leaf first, each certificate's DER exactly as received.
    pub fn certificate_chain(&self) -> &[Vec<u8>] {
        &self.cert_chain
    }

    /// `io.cncf.notary.signingAgent` (informational, never validated).
    pub fn signing_agent(&self) -> Option<&str> {
        self.signing_agent.as_deref()
    }

    /// `io.cncf.notary.timestampSignature`: the RFC 3161 TimeStampToken (DER CMS ContentInfo).
    pub fn timestamp_token(&self) -> Option<&[u8]> {
        self.timestamp_token.as_deref()
    }

    /// The payload bytes (exactly the signed bytes; JSON).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The primitive signature bytes (COSE `signature` bstr; JWS base64url-decoded
    /// `signature`). The RFC 3161 message imprint is a hash of these bytes.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The exact bytes the signature is computed over (JWS signing input or COSE
    /// Sig_structure).
    pub fn signed_message(&self) -> &[u8] {
        &self.signed_message
    }
}

fn check_size(bytes: &[u8]) -> Result<(), EnvelopeError> {
    if bytes.len() > MAX_ENVELOPE_SIZE {
        return Err(EnvelopeError::TooLarge {
            size: bytes.len(),
            limit: MAX_ENVELOPE_SIZE,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes() {
        assert_eq!(
            EnvelopeError::PluginRequired {
                name: "x".into(),
                min_version: None
            }
            .code(),
            "plugin_required"
        );
        assert_eq!(
            EnvelopeError::Expired { expiry: 1, now: 1 }.code(),
            "expiry"
        );
        assert_eq!(EnvelopeError::Malformed("x".into()).code(), "integrity");
        assert_eq!(
            EnvelopeError::Crypto(CryptoError::BadSignature).code(),
            "integrity"
        );
    }
}
