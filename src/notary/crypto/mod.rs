//! Signature primitives for Notary Project verification and signing.
//!
//! This is the only module that calls signature primitives (`aws_lc_rs::signature`). Everything
//! else hands it DER and bytes and gets a yes/no answer (or, for [`SigningKey`], signature bytes)
//! back.
//!
//! * The envelope algorithm is derived from the signing certificate's SubjectPublicKeyInfo
//!   ([`key_spec_from_spki`]); the table is the Notary "Algorithm Selection" table: RSA
//!   2048/3072/4096 → PS256/PS384/PS512, EC P-256/P-384/P-521 → ES256/ES384/ES512. Anything else is
//!   rejected.
//! * Envelope signatures ([`verify_envelope_signature`]): RSASSA-PSS (`RSA_PSS_2048_8192_SHA*`) or
//!   ECDSA in the fixed-width `r||s` form (`*_FIXED`), as JWS and COSE both use. COSE requires the
//!   PSS salt length to equal the hash length (go-cose); JWS accepts any salt length (golang-jwt
//!   `PSSSaltLengthAuto`, SPEC-NOTES errata 13), see [`PssSaltPolicy`].
//! * Certificate signatures ([`verify_certificate_signature`]): RSA PKCS#1 v1.5 with
//!   SHA-256/384/512, RSASSA-PSS with parsed parameters (SHA-256/384/512, MGF1 with the same hash,
//!   salt length = hash length, trailer field 1, which is what Go's `x509` accepts), ECDSA with
//!   SHA-256/384/512 in DER (`*_ASN1`) form. SHA-1 and MD5/MD2 are rejected everywhere.
//! * Envelope signing ([`SigningKey`]): an unencrypted PKCS#8 RSA or EC private key whose size is
//!   in the Notary table, signing with RSASSA-PSS (salt = hash length, as notation and go-cose do)
//!   or ECDSA in the fixed-width `r||s` form (`*_FIXED_SIGNING`).
//!
//! Layout: `key.rs` (public keys and the algorithm table), `verify.rs` (envelope and certificate
//! signatures), `sign.rs` (signing keys), [`cms`] (RFC 3161 token digests and SignerInfo
//! signatures); this file holds the error and the algorithm enums.

/// Digests and CMS `SignerInfo` signatures for RFC 3161 timestamp tokens.
pub mod cms;
mod key;
mod sign;
mod verify;

#[cfg(test)]
mod tests;

pub use key::{analyze_public_key, key_spec_from_spki, EcCurve, KeySpec, PublicKeyKind};
pub use sign::SigningKey;
pub use verify::{
    check_certificate_signature_algorithm, verify_certificate_signature, verify_envelope_signature,
    PssSaltPolicy,
};

use crate::notary::reason::Validation;
use aws_lc_rs::digest;
use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;

/// `ecdsa-with-SHA1` (RFC 3279); not in the const-oid database.
const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
/// `id-RSASSA-PSS` public keys / signatures.
const ID_RSASSA_PSS: ObjectIdentifier = rfc5912::ID_RSASSA_PSS;

/// Errors from key analysis and signature verification.
///
/// Every variant is an *integrity* failure in Notary terms: the envelope or certificate cannot be
/// verified as presented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The SubjectPublicKeyInfo (or the RSA/EC key inside it) could not be parsed.
    #[error("malformed public key: {0}")]
    MalformedKey(String),
    /// The public key type or size is not allowed (only RSA 2048/3072/4096 and EC P-256/384/521
    /// can sign envelopes; CA keys must be RSA >= 2048 or one of those curves).
    #[error("unsupported public key: {0}")]
    UnsupportedKey(String),
    /// The signature algorithm identifier (or its parameters) is not supported.
    #[error("unsupported signature algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The signature algorithm uses SHA-1 or MD5/MD2, which are rejected everywhere.
    #[error("weak signature algorithm rejected: {0}")]
    WeakAlgorithm(String),
    /// The signature algorithm is not usable with the given key (e.g. ECDSA algorithm, RSA key).
    #[error("signature algorithm {algorithm} does not match key {key}")]
    AlgorithmKeyMismatch {
        /// The algorithm that was asked for.
        algorithm: String,
        /// The key that was presented.
        key: String,
    },
    /// The signature does not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// The private key is not an unencrypted PKCS#8 RSA or EC key that can be loaded.
    #[error("malformed private key: {0}")]
    MalformedPrivateKey(String),
    /// Producing a signature failed inside the cryptographic library.
    #[error("signing failed")]
    SigningFailed,
}

impl CryptoError {
    /// Notary validation category of this error: always `integrity`.
    pub fn category(&self) -> Validation {
        Validation::Integrity
    }

    /// The stable string of [`Self::category`] (reports, usage errors, the corpus tests).
    pub fn code(&self) -> &'static str {
        self.category().as_str()
    }

    /// Stable snake_case identifier of the variant.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::MalformedKey(_) => "malformed_key",
            Self::UnsupportedKey(_) => "unsupported_key",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::WeakAlgorithm(_) => "weak_algorithm",
            Self::AlgorithmKeyMismatch { .. } => "algorithm_key_mismatch",
            Self::BadSignature => "bad_signature",
            Self::MalformedPrivateKey(_) => "malformed_private_key",
            Self::SigningFailed => "signing_failed",
        }
    }
}

/// Hash functions the Notary profile allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }

    fn from_oid(oid: &ObjectIdentifier) -> Result<Self, CryptoError> {
        if *oid == rfc5912::ID_SHA_256 {
            Ok(Self::Sha256)
        } else if *oid == rfc5912::ID_SHA_384 {
            Ok(Self::Sha384)
        } else if *oid == rfc5912::ID_SHA_512 {
            Ok(Self::Sha512)
        } else if *oid == rfc5912::ID_SHA_1 {
            Err(CryptoError::WeakAlgorithm("SHA-1".into()))
        } else {
            Err(CryptoError::UnsupportedAlgorithm(format!("hash {oid}")))
        }
    }
}

/// Envelope signature algorithms of the Notary profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PSS with SHA-256 (RSA 2048).
    Ps256,
    /// RSASSA-PSS with SHA-384 (RSA 3072).
    Ps384,
    /// RSASSA-PSS with SHA-512 (RSA 4096).
    Ps512,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
    /// ECDSA P-521 with SHA-512.
    Es512,
}

impl SignatureAlgorithm {
    /// All algorithms, in table order.
    pub const ALL: [SignatureAlgorithm; 6] = [
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::Es512,
    ];

    /// The JWS `alg` name (`PS256` ...).
    pub fn jws_name(self) -> &'static str {
        match self {
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
        }
    }

    /// Parses a JWS `alg` name (exact, case-sensitive).
    pub fn from_jws_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.jws_name() == name)
    }

    /// The COSE algorithm identifier (RFC 9053 / IANA).
    pub fn cose_id(self) -> i64 {
        match self {
            Self::Ps256 => -37,
            Self::Ps384 => -38,
            Self::Ps512 => -39,
            Self::Es256 => -7,
            Self::Es384 => -35,
            Self::Es512 => -36,
        }
    }

    /// Maps a COSE algorithm identifier.
    pub fn from_cose_id(id: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.cose_id() == id)
    }

    /// The hash function of the algorithm.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::Ps256 | Self::Es256 => HashAlgorithm::Sha256,
            Self::Ps384 | Self::Es384 => HashAlgorithm::Sha384,
            Self::Ps512 | Self::Es512 => HashAlgorithm::Sha512,
        }
    }
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.jws_name())
    }
}
