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

pub mod cose;
mod error;
mod header;
pub mod jws;

pub use error::EnvelopeError;
pub use header::{AttributeKey, AttributeValue, EnvelopeFormat, ExtendedAttribute, SigningScheme};
pub(crate) use header::{RawHeaders, RawParts};

use std::collections::HashSet;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests_adversarial;

use super::chain::{self, ValidatedChain};
use super::crypto::{self, CryptoError, PssSaltPolicy, SignatureAlgorithm};
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
    nanos: header::TimeNanos,
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
/// (`verificationPlugin` is understood only to refuse the signature, `plugin_required`, before
/// this list is read; a critical `verificationPluginMinVersion` without it asks for a plugin this
/// verifier cannot honour, and is refused as an unknown critical attribute, as SPEC-NOTES 6.2
/// asks: red team M, M08. notation lets it pass.)
const UNDERSTOOD_CRITICAL: [&str; 5] = [
    HEADER_SIGNING_SCHEME,
    HEADER_SIGNING_TIME,
    HEADER_AUTHENTIC_SIGNING_TIME,
    HEADER_EXPIRY,
    HEADER_VERIFICATION_PLUGIN,
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

        // Expiry after signing time, compared with their fractions of a second.
        if let Some(expiry) = h.expiry {
            let effective_nanos = match signing_scheme {
                SigningScheme::X509 => h.nanos.signing_time,
                SigningScheme::X509SigningAuthority => h.nanos.authentic_signing_time,
            };
            if (expiry, h.nanos.expiry) <= (effective_time, effective_nanos) {
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
            nanos: h.nanos,
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
            // `expiry` is rounded down: at that very second an expiry with a fraction is still
            // ahead (notation compares the exact times).
            Some(expiry) if now > expiry || (now == expiry && self.nanos.expiry == 0) => {
                Err(EnvelopeError::Expired { expiry, now })
            }
            _ => Ok(()),
        }
    }

    /// True when `io.cncf.notary.authenticSigningTime` has a fraction of a second (it is kept
    /// rounded down, [`Envelope::authentic_signing_time`]).
    pub fn authentic_signing_time_has_fraction(&self) -> bool {
        self.nanos.authentic_signing_time != 0
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
            .category(),
            crate::notary::reason::Validation::PluginRequired
        );
        assert_eq!(
            EnvelopeError::Expired { expiry: 1, now: 1 }.category(),
            crate::notary::reason::Validation::Expiry
        );
        assert_eq!(
            EnvelopeError::Malformed("x".into()).category(),
            crate::notary::reason::Validation::Integrity
        );
        assert_eq!(
            EnvelopeError::Crypto(CryptoError::BadSignature).category(),
            crate::notary::reason::Validation::Integrity
        );
    }
}
