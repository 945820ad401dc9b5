//! Envelope parsing and integrity errors.

use crate::notary::chain;
use crate::notary::crypto::{CryptoError, KeySpec, SignatureAlgorithm};
use crate::notary::reason::Validation;

/// Envelope parsing and integrity errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The envelope is larger than [`super::MAX_ENVELOPE_SIZE`].
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
    pub fn category(&self) -> Validation {
        match self {
            Self::PluginRequired { .. } => Validation::PluginRequired,
            Self::Expired { .. } => Validation::Expiry,
            Self::Chain(e) => e.category(),
            Self::Crypto(e) => e.category(),
            _ => Validation::Integrity,
        }
    }

    /// The stable string of [`Self::category`] (reports, usage errors, the corpus tests).
    pub fn code(&self) -> &'static str {
        self.category().as_str()
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
