//! The envelope's header vocabulary: signing schemes, formats, attribute labels and values, and
//! the format-neutral header content the JWS and COSE parsers hand over.

use super::{MEDIA_TYPE_COSE, MEDIA_TYPE_JWS};
use crate::notary::crypto::SignatureAlgorithm;

/// Notary signing schemes (serialised as their header value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum SigningScheme {
    /// `notary.x509`: CA-issued signing certificate, unauthenticated `signingTime`, optional
    /// RFC 3161 timestamp.
    #[serde(rename = "notary.x509")]
    X509,
    /// `notary.x509.signingAuthority`: the signer vouches for `authenticSigningTime`.
    #[serde(rename = "notary.x509.signingAuthority")]
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

/// Envelope serialization (serialised as `jws` or `cose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum EnvelopeFormat {
    /// JWS JSON serialization (flattened), `application/jose+json`.
    Jws,
    /// COSE_Sign1_Tagged, `application/cose`.
    Cose,
}

impl EnvelopeFormat {
    /// The short name reports use: `jws` or `cose`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Jws => "jws",
            Self::Cose => "cose",
        }
    }

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
    pub(super) fn text(s: &str) -> Self {
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
    /// The fractions of a second of the three times above (nanoseconds; the times are rounded
    /// down to the second).
    pub nanos: TimeNanos,
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

/// The fractions of a second (nanoseconds) of an envelope's signed times, which are kept rounded
/// down to the second: each comparison rounds in the direction notation, which compares the exact
/// times, would fail at least as often (red team M, M10: a fraction was dropped, so an
/// `authenticSigningTime` up to a second past the certificate's notAfter passed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeNanos {
    /// Of `io.cncf.notary.signingTime`.
    pub signing_time: u32,
    /// Of `io.cncf.notary.authenticSigningTime`.
    pub authentic_signing_time: u32,
    /// Of `io.cncf.notary.expiry`.
    pub expiry: u32,
}
