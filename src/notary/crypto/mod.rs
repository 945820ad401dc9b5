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

/// Digests and CMS `SignerInfo` signatures for RFC 3161 timestamp tokens.
pub mod cms;

use std::sync::OnceLock;

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, KeyPair as _, RsaKeyPair, RsaParameters, RsaPssSaltLength,
    UnparsedPublicKey,
};
use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, OctetStringRef, UintRef};
use der::{Decode, Encode as _, Reader as _, Sequence, SliceReader};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

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
    pub fn code(&self) -> &'static str {
        "integrity"
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

/// Elliptic curves of the Notary profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcCurve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
}

impl EcCurve {
    fn coordinate_len(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
            Self::P521 => 66,
        }
    }
}

/// What a SubjectPublicKeyInfo holds, as far as the Notary rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublicKeyKind {
    /// RSA (`rsaEncryption`) key; `bits` is the modulus byte length times 8, as Go's
    /// `rsa.PublicKey.Size() << 3` computes it (what notation uses for the size table).
    Rsa {
        /// Modulus size in bits, rounded up to a whole byte.
        bits: usize,
    },
    /// EC (`id-ecPublicKey`) key on a supported named curve.
    Ec(EcCurve),
}

impl std::fmt::Display for PublicKeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rsa { bits } => write!(f, "RSA-{bits}"),
            Self::Ec(c) => write!(f, "EC-{c:?}"),
        }
    }
}

/// Key type and size usable for envelope signatures (Notary "Algorithm Selection").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeySpec {
    /// RSA 2048-bit.
    Rsa2048,
    /// RSA 3072-bit.
    Rsa3072,
    /// RSA 4096-bit.
    Rsa4096,
    /// EC P-256.
    EcP256,
    /// EC P-384.
    EcP384,
    /// EC P-521.
    EcP521,
}

impl KeySpec {
    /// The envelope signature algorithm the Notary profile pairs with this key.
    pub fn signature_algorithm(self) -> SignatureAlgorithm {
        match self {
            Self::Rsa2048 => SignatureAlgorithm::Ps256,
            Self::Rsa3072 => SignatureAlgorithm::Ps384,
            Self::Rsa4096 => SignatureAlgorithm::Ps512,
            Self::EcP256 => SignatureAlgorithm::Es256,
            Self::EcP384 => SignatureAlgorithm::Es384,
            Self::EcP521 => SignatureAlgorithm::Es512,
        }
    }

    /// Maps a key kind onto the table; anything outside it is rejected.
    pub fn from_kind(kind: PublicKeyKind) -> Result<Self, CryptoError> {
        match kind {
            PublicKeyKind::Rsa { bits: 2048 } => Ok(Self::Rsa2048),
            PublicKeyKind::Rsa { bits: 3072 } => Ok(Self::Rsa3072),
            PublicKeyKind::Rsa { bits: 4096 } => Ok(Self::Rsa4096),
            PublicKeyKind::Rsa { bits } => Err(CryptoError::UnsupportedKey(format!(
                "rsa key size {bits} bits is not supported"
            ))),
            PublicKeyKind::Ec(EcCurve::P256) => Ok(Self::EcP256),
            PublicKeyKind::Ec(EcCurve::P384) => Ok(Self::EcP384),
            PublicKeyKind::Ec(EcCurve::P521) => Ok(Self::EcP521),
        }
    }
}

/// `RSAPublicKey` (RFC 8017 A.1.1).
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// Analyses a DER SubjectPublicKeyInfo.
///
/// Accepts `rsaEncryption` keys (parameters must be NULL, as Go requires) and `id-ecPublicKey`
/// keys on P-256/P-384/P-521 with an uncompressed point (the only form Go's `x509` parses).
/// Everything else (DSA, Ed25519, `id-RSASSA-PSS` keys, other curves) is
/// [`CryptoError::UnsupportedKey`].
pub fn analyze_public_key(spki_der: &[u8]) -> Result<PublicKeyKind, CryptoError> {
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der)
        .map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
    let oid = spki.algorithm.oid;
    let key_bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| CryptoError::MalformedKey("public key bit string has unused bits".into()))?;
    if oid == rfc5912::RSA_ENCRYPTION {
        match spki.algorithm.parameters {
            Some(p) if p.is_null() => {}
            _ => {
                return Err(CryptoError::MalformedKey(
                    "RSA key missing NULL parameters".into(),
                ))
            }
        }
        let key = RsaPublicKey::from_der(key_bytes)
            .map_err(|e| CryptoError::MalformedKey(format!("RSAPublicKey: {e}")))?;
        let modulus = key.modulus.as_bytes();
        let exponent = key.public_exponent.as_bytes();
        if modulus.is_empty() {
            return Err(CryptoError::MalformedKey("RSA modulus is zero".into()));
        }
        // Exponent must be an odd number >= 3 that fits in 32 bits (Go rejects larger ones).
        if exponent.is_empty() || exponent.len() > 4 || exponent.last().is_some_and(|b| b % 2 == 0)
        {
            return Err(CryptoError::MalformedKey(
                "invalid RSA public exponent".into(),
            ));
        }
        if exponent == [1] {
            return Err(CryptoError::MalformedKey(
                "invalid RSA public exponent".into(),
            ));
        }
        let bits = modulus
            .len()
            .checked_mul(8)
            .ok_or_else(|| CryptoError::MalformedKey("RSA modulus too large".into()))?;
        Ok(PublicKeyKind::Rsa { bits })
    } else if oid == rfc5912::ID_EC_PUBLIC_KEY {
        let curve_oid: ObjectIdentifier = spki
            .algorithm
            .parameters
            .ok_or_else(|| CryptoError::MalformedKey("EC key without curve parameters".into()))?
            .decode_as()
            .map_err(|_| CryptoError::UnsupportedKey("EC key without a named curve".into()))?;
        let curve = if curve_oid == rfc5912::SECP_256_R_1 {
            EcCurve::P256
        } else if curve_oid == rfc5912::SECP_384_R_1 {
            EcCurve::P384
        } else if curve_oid == rfc5912::SECP_521_R_1 {
            EcCurve::P521
        } else {
            return Err(CryptoError::UnsupportedKey(format!(
                "elliptic curve {curve_oid} is not supported"
            )));
        };
        let expected_len = curve
            .coordinate_len()
            .checked_mul(2)
            .and_then(|l| l.checked_add(1));
        if key_bytes.first() != Some(&0x04) || Some(key_bytes.len()) != expected_len {
            return Err(CryptoError::MalformedKey(
                "EC public key is not an uncompressed point of the curve's size".into(),
            ));
        }
        Ok(PublicKeyKind::Ec(curve))
    } else if oid == ID_RSASSA_PSS {
        Err(CryptoError::UnsupportedKey(
            "id-RSASSA-PSS public keys are not supported".into(),
        ))
    } else {
        Err(CryptoError::UnsupportedKey(format!(
            "public key algorithm {oid} is not supported"
        )))
    }
}

/// Derives the envelope key spec (and thus the only acceptable envelope `alg`) from a DER
/// SubjectPublicKeyInfo.
pub fn key_spec_from_spki(spki_der: &[u8]) -> Result<KeySpec, CryptoError> {
    KeySpec::from_kind(analyze_public_key(spki_der)?)
}

/// How the RSASSA-PSS salt length of an envelope signature is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PssSaltPolicy {
    /// Salt length must equal the hash length (COSE; go-cose verifies this way).
    EqualsHash,
    /// Any salt length from 0 to the maximum the key allows (JWS; golang-jwt verifies with
    /// `PSSSaltLengthAuto`). The hash-length salt is tried first, then the maximum, then the rest;
    /// the work is bounded by the key size (at most a few hundred RSA public operations, only
    /// ever spent on signatures that are invalid anyway).
    Any,
}

/// Largest custom salt length we keep a verification table for. The envelope keys are at most
/// 4096 bits: emLen 512 - hLen 32 - 2 = 478.
const MAX_PSS_SALT: u16 = 478;

fn pss_base(hash: HashAlgorithm) -> RsaParameters {
    match hash {
        HashAlgorithm::Sha256 => signature::RSA_PSS_2048_8192_SHA256,
        HashAlgorithm::Sha384 => signature::RSA_PSS_2048_8192_SHA384,
        HashAlgorithm::Sha512 => signature::RSA_PSS_2048_8192_SHA512,
    }
}

/// Lazily built, process-wide tables of PSS parameters with salt lengths `0..=MAX_PSS_SALT`
/// (aws-lc-rs needs `&'static` parameters; it has no "auto" salt length for verification).
fn pss_table(hash: HashAlgorithm) -> &'static [RsaParameters] {
    static T256: OnceLock<Vec<RsaParameters>> = OnceLock::new();
    static T384: OnceLock<Vec<RsaParameters>> = OnceLock::new();
    static T512: OnceLock<Vec<RsaParameters>> = OnceLock::new();
    let cell = match hash {
        HashAlgorithm::Sha256 => &T256,
        HashAlgorithm::Sha384 => &T384,
        HashAlgorithm::Sha512 => &T512,
    };
    cell.get_or_init(|| {
        (0..=MAX_PSS_SALT)
            .map(|s| pss_base(hash).with_pss_salt_length(RsaPssSaltLength::Custom(s)))
            .collect()
    })
}

fn pss_params(hash: HashAlgorithm) -> &'static RsaParameters {
    match hash {
        HashAlgorithm::Sha256 => &signature::RSA_PSS_2048_8192_SHA256,
        HashAlgorithm::Sha384 => &signature::RSA_PSS_2048_8192_SHA384,
        HashAlgorithm::Sha512 => &signature::RSA_PSS_2048_8192_SHA512,
    }
}

fn ecdsa_fixed(curve: EcCurve) -> &'static signature::EcdsaVerificationAlgorithm {
    match curve {
        EcCurve::P256 => &signature::ECDSA_P256_SHA256_FIXED,
        EcCurve::P384 => &signature::ECDSA_P384_SHA384_FIXED,
        EcCurve::P521 => &signature::ECDSA_P521_SHA512_FIXED,
    }
}

fn verify_with(
    alg: &'static dyn signature::VerificationAlgorithm,
    spki_der: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    UnparsedPublicKey::new(alg, spki_der)
        .verify(message, sig)
        .map_err(|_| CryptoError::BadSignature)
}

/// Verifies an envelope signature (JWS signature over the signing input, COSE signature over the
/// Sig_structure) made by the key in `spki_der` with algorithm `alg`.
///
/// The key must be exactly the one the Notary table pairs with `alg`
/// ([`CryptoError::AlgorithmKeyMismatch`] otherwise). ECDSA signatures are raw `r||s` of the curve's
/// fixed width.
pub fn verify_envelope_signature(
    spki_der: &[u8],
    alg: SignatureAlgorithm,
    salt: PssSaltPolicy,
    message: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    let spec = key_spec_from_spki(spki_der)?;
    if spec.signature_algorithm() != alg {
        return Err(CryptoError::AlgorithmKeyMismatch {
            algorithm: alg.to_string(),
            key: format!("{spec:?}"),
        });
    }
    match alg {
        SignatureAlgorithm::Ps256 | SignatureAlgorithm::Ps384 | SignatureAlgorithm::Ps512 => {
            let hash = alg.hash();
            match salt {
                PssSaltPolicy::EqualsHash => verify_with(pss_params(hash), spki_der, message, sig),
                PssSaltPolicy::Any => verify_pss_any_salt(spec, hash, spki_der, message, sig),
            }
        }
        SignatureAlgorithm::Es256 => {
            verify_with(ecdsa_fixed(EcCurve::P256), spki_der, message, sig)
        }
        SignatureAlgorithm::Es384 => {
            verify_with(ecdsa_fixed(EcCurve::P384), spki_der, message, sig)
        }
        SignatureAlgorithm::Es512 => {
            verify_with(ecdsa_fixed(EcCurve::P521), spki_der, message, sig)
        }
    }
}

fn verify_pss_any_salt(
    spec: KeySpec,
    hash: HashAlgorithm,
    spki_der: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    // Fast path: salt = hash length (what notation/golang-jwt sign with).
    if verify_with(pss_params(hash), spki_der, message, sig).is_ok() {
        return Ok(());
    }
    let bits: usize = match spec {
        KeySpec::Rsa2048 => 2048,
        KeySpec::Rsa3072 => 3072,
        KeySpec::Rsa4096 => 4096,
        _ => return Err(CryptoError::BadSignature),
    };
    // emLen = ceil((modBits - 1) / 8); max salt = emLen - hLen - 2 (RFC 8017 9.1.1).
    let em_len = bits.saturating_sub(1).div_ceil(8);
    let max_salt = em_len
        .checked_sub(hash.output_len())
        .and_then(|v| v.checked_sub(2))
        .ok_or(CryptoError::BadSignature)?;
    let table = pss_table(hash);
    let digest = digest::digest(hash.digest_alg(), message);
    let try_salt = |s: usize| -> bool {
        table.get(s).is_some_and(|params| {
            UnparsedPublicKey::new(params, spki_der)
                .verify_digest(&digest, sig)
                .is_ok()
        })
    };
    if try_salt(max_salt) {
        return Ok(());
    }
    for s in 0..max_salt {
        if s != hash.output_len() && try_salt(s) {
            return Ok(());
        }
    }
    Err(CryptoError::BadSignature)
}

/// RSASSA-PSS-params (RFC 4055 section 3.1); all fields EXPLICIT-tagged.
#[derive(Sequence)]
struct PssParams<'a> {
    #[asn1(context_specific = "0", optional = "true")]
    hash: Option<AlgorithmIdentifierRef<'a>>,
    #[asn1(context_specific = "1", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierRef<'a>>,
    #[asn1(context_specific = "2", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", optional = "true")]
    trailer_field: Option<u32>,
}

fn hash_alg_id(id: &AlgorithmIdentifierRef<'_>) -> Result<HashAlgorithm, CryptoError> {
    let hash = HashAlgorithm::from_oid(&id.oid)?;
    match id.parameters {
        None => Ok(hash),
        Some(p) if p.is_null() => Ok(hash),
        Some(_) => Err(CryptoError::UnsupportedAlgorithm(
            "hash algorithm with non-NULL parameters".into(),
        )),
    }
}

fn parse_pss_params(params: Option<AnyRef<'_>>) -> Result<HashAlgorithm, CryptoError> {
    let params = params.ok_or_else(|| {
        CryptoError::UnsupportedAlgorithm("RSASSA-PSS without parameters (SHA-1 default)".into())
    })?;
    let params: PssParams<'_> = params
        .decode_as()
        .map_err(|e| CryptoError::UnsupportedAlgorithm(format!("RSASSA-PSS parameters: {e}")))?;
    let hash = match params.hash {
        Some(h) => hash_alg_id(&h)?,
        None => {
            return Err(CryptoError::WeakAlgorithm(
                "RSASSA-PSS default hash SHA-1".into(),
            ))
        }
    };
    let mgf = params
        .mask_gen
        .ok_or_else(|| CryptoError::WeakAlgorithm("RSASSA-PSS default MGF1 with SHA-1".into()))?;
    if mgf.oid != rfc5912::ID_MGF_1 {
        return Err(CryptoError::UnsupportedAlgorithm(format!(
            "RSASSA-PSS mask generation {}",
            mgf.oid
        )));
    }
    let mgf_hash: AlgorithmIdentifierRef<'_> = mgf
        .parameters
        .ok_or_else(|| CryptoError::UnsupportedAlgorithm("MGF1 without hash".into()))?
        .decode_as()
        .map_err(|e| CryptoError::UnsupportedAlgorithm(format!("MGF1 parameters: {e}")))?;
    if hash_alg_id(&mgf_hash)? != hash {
        return Err(CryptoError::UnsupportedAlgorithm(
            "RSASSA-PSS MGF1 hash differs from the message hash".into(),
        ));
    }
    let salt = params.salt_length.unwrap_or(20);
    if usize::try_from(salt).ok() != Some(hash.output_len()) {
        return Err(CryptoError::UnsupportedAlgorithm(format!(
            "RSASSA-PSS salt length {salt} differs from the hash length"
        )));
    }
    if params.trailer_field.unwrap_or(1) != 1 {
        return Err(CryptoError::UnsupportedAlgorithm(
            "RSASSA-PSS trailer field".into(),
        ));
    }
    Ok(hash)
}

fn require_absent_or_null(params: Option<AnyRef<'_>>, what: &str) -> Result<(), CryptoError> {
    match params {
        None => Ok(()),
        Some(p) if p.is_null() => Ok(()),
        Some(_) => Err(CryptoError::UnsupportedAlgorithm(format!(
            "{what} with unexpected parameters"
        ))),
    }
}

fn require_absent(params: Option<AnyRef<'_>>, what: &str) -> Result<(), CryptoError> {
    match params {
        None => Ok(()),
        Some(_) => Err(CryptoError::UnsupportedAlgorithm(format!(
            "{what} with unexpected parameters"
        ))),
    }
}

/// Checks an X.509 `signatureAlgorithm` without verifying anything: returns an error for SHA-1,
/// MD5/MD2 and every algorithm outside RSA PKCS#1 v1.5 / RSASSA-PSS / ECDSA with SHA-256/384/512.
pub fn check_certificate_signature_algorithm(alg_der: &[u8]) -> Result<(), CryptoError> {
    let alg = AlgorithmIdentifierRef::from_der(alg_der)
        .map_err(|e| CryptoError::UnsupportedAlgorithm(format!("AlgorithmIdentifier: {e}")))?;
    classify_cert_alg(&alg).map(|_| ())
}

enum CertSigAlg {
    RsaPkcs1(HashAlgorithm),
    RsaPss(HashAlgorithm),
    Ecdsa(HashAlgorithm),
}

fn classify_cert_alg(alg: &AlgorithmIdentifierRef<'_>) -> Result<CertSigAlg, CryptoError> {
    let oid = alg.oid;
    if oid == rfc5912::SHA_256_WITH_RSA_ENCRYPTION {
        require_absent_or_null(alg.parameters, "sha256WithRSAEncryption")?;
        Ok(CertSigAlg::RsaPkcs1(HashAlgorithm::Sha256))
    } else if oid == rfc5912::SHA_384_WITH_RSA_ENCRYPTION {
        require_absent_or_null(alg.parameters, "sha384WithRSAEncryption")?;
        Ok(CertSigAlg::RsaPkcs1(HashAlgorithm::Sha384))
    } else if oid == rfc5912::SHA_512_WITH_RSA_ENCRYPTION {
        require_absent_or_null(alg.parameters, "sha512WithRSAEncryption")?;
        Ok(CertSigAlg::RsaPkcs1(HashAlgorithm::Sha512))
    } else if oid == ID_RSASSA_PSS {
        Ok(CertSigAlg::RsaPss(parse_pss_params(alg.parameters)?))
    } else if oid == rfc5912::ECDSA_WITH_SHA_256 {
        require_absent(alg.parameters, "ecdsa-with-SHA256")?;
        Ok(CertSigAlg::Ecdsa(HashAlgorithm::Sha256))
    } else if oid == rfc5912::ECDSA_WITH_SHA_384 {
        require_absent(alg.parameters, "ecdsa-with-SHA384")?;
        Ok(CertSigAlg::Ecdsa(HashAlgorithm::Sha384))
    } else if oid == rfc5912::ECDSA_WITH_SHA_512 {
        require_absent(alg.parameters, "ecdsa-with-SHA512")?;
        Ok(CertSigAlg::Ecdsa(HashAlgorithm::Sha512))
    } else if oid == rfc5912::SHA_1_WITH_RSA_ENCRYPTION
        || oid == ECDSA_WITH_SHA_1
        || oid == rfc5912::DSA_WITH_SHA_1
    {
        Err(CryptoError::WeakAlgorithm(format!(
            "SHA-1 signature ({oid})"
        )))
    } else if oid == rfc5912::MD_5_WITH_RSA_ENCRYPTION || oid == rfc5912::MD_2_WITH_RSA_ENCRYPTION {
        Err(CryptoError::WeakAlgorithm(format!(
            "MD5/MD2 signature ({oid})"
        )))
    } else {
        Err(CryptoError::UnsupportedAlgorithm(format!(
            "certificate signature algorithm {oid}"
        )))
    }
}

/// Verifies a certificate (or CRL, or any X.509-style) signature: `signature` over the exact
/// `tbs_der` bytes, with the X.509 `signatureAlgorithm` TLV `alg_der`, by the issuer key
/// `issuer_spki_der`.
///
/// Supported: RSA PKCS#1 v1.5 SHA-256/384/512 (RSA 2048..8192), RSASSA-PSS SHA-256/384/512 with
/// MGF1-same-hash and salt = hash length, ECDSA (DER signature) with SHA-256/384/512 on
/// P-256/384/521. SHA-1 and MD5 → [`CryptoError::WeakAlgorithm`].
pub fn verify_certificate_signature(
    issuer_spki_der: &[u8],
    alg_der: &[u8],
    tbs_der: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let alg = AlgorithmIdentifierRef::from_der(alg_der)
        .map_err(|e| CryptoError::UnsupportedAlgorithm(format!("AlgorithmIdentifier: {e}")))?;
    let class = classify_cert_alg(&alg)?;
    let key = analyze_public_key(issuer_spki_der)?;
    let mismatch = || CryptoError::AlgorithmKeyMismatch {
        algorithm: alg.oid.to_string(),
        key: key.to_string(),
    };
    let verifier: &'static dyn signature::VerificationAlgorithm = match (class, key) {
        (CertSigAlg::RsaPkcs1(h), PublicKeyKind::Rsa { .. }) => match h {
            HashAlgorithm::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            HashAlgorithm::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            HashAlgorithm::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        },
        (CertSigAlg::RsaPss(h), PublicKeyKind::Rsa { .. }) => pss_params(h),
        (CertSigAlg::Ecdsa(h), PublicKeyKind::Ec(curve)) => match (curve, h) {
            (EcCurve::P256, HashAlgorithm::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
            (EcCurve::P256, HashAlgorithm::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
            (EcCurve::P256, HashAlgorithm::Sha512) => &signature::ECDSA_P256_SHA512_ASN1,
            (EcCurve::P384, HashAlgorithm::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
            (EcCurve::P384, HashAlgorithm::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
            (EcCurve::P384, HashAlgorithm::Sha512) => &signature::ECDSA_P384_SHA512_ASN1,
            (EcCurve::P521, HashAlgorithm::Sha256) => &signature::ECDSA_P521_SHA256_ASN1,
            (EcCurve::P521, HashAlgorithm::Sha384) => &signature::ECDSA_P521_SHA384_ASN1,
            (EcCurve::P521, HashAlgorithm::Sha512) => &signature::ECDSA_P521_SHA512_ASN1,
        },
        _ => return Err(mismatch()),
    };
    verify_with(verifier, issuer_spki_der, tbs_der, signature)
}

/// The parts of a PKCS#8 `PrivateKeyInfo` (RFC 5208 / RFC 5958) the key loader needs:
/// the algorithm identifier and the `privateKey` octets. Attributes and the v2 public key that may
/// follow are skipped.
fn pkcs8_parts(der: &[u8]) -> Result<(AlgorithmIdentifierRef<'_>, &[u8]), CryptoError> {
    let bad = |e: der::Error| CryptoError::MalformedPrivateKey(format!("PKCS#8: {e}"));
    let mut reader = SliceReader::new(der).map_err(bad)?;
    let parts = reader
        .sequence(|r| {
            let version: u8 = r.decode()?;
            let alg: AlgorithmIdentifierRef<'_> = r.decode()?;
            let key: OctetStringRef<'_> = r.decode()?;
            let rest = r.remaining_len();
            r.read_slice(rest)?;
            Ok((version, alg, key.as_bytes()))
        })
        .map_err(bad)?;
    let (version, alg, key) = reader.finish(parts).map_err(bad)?;
    if version > 1 {
        return Err(CryptoError::MalformedPrivateKey(format!(
            "PKCS#8 version {version} is not supported"
        )));
    }
    Ok((alg, key))
}

/// Modulus size (bits, rounded up to a whole byte as [`PublicKeyKind::Rsa`] counts them) of a
/// PKCS#1 `RSAPrivateKey`.
fn rsa_private_modulus_bits(pkcs1: &[u8]) -> Result<usize, CryptoError> {
    let bad = |e: der::Error| CryptoError::MalformedPrivateKey(format!("RSAPrivateKey: {e}"));
    let mut reader = SliceReader::new(pkcs1).map_err(bad)?;
    let modulus_len = reader
        .sequence(|r| {
            let _version: u8 = r.decode()?;
            let modulus: UintRef<'_> = r.decode()?;
            let rest = r.remaining_len();
            r.read_slice(rest)?;
            Ok(modulus.as_bytes().len())
        })
        .map_err(bad)?;
    let modulus_len = reader.finish(modulus_len).map_err(bad)?;
    modulus_len
        .checked_mul(8)
        .ok_or_else(|| CryptoError::MalformedPrivateKey("RSA modulus too large".into()))
}

/// A curve (or algorithm) OID for messages, with its registered name when known:
/// `1.3.132.0.33 (secp224r1)`.
fn curve_name(oid: &ObjectIdentifier) -> String {
    match const_oid::db::DB.by_oid(oid) {
        Some(name) => format!("{oid} ({name})"),
        None => oid.to_string(),
    }
}

enum KeyPairKind {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private key that signs Notary envelopes: RSA 2048/3072/4096 (RSASSA-PSS, salt = hash length)
/// or EC P-256/P-384/P-521 (ECDSA, fixed-width `r||s`), the algorithm fixed by the key as the
/// Notary "Algorithm Selection" table says.
///
/// Its `Debug` shows the key type only, never key material.
pub struct SigningKey {
    pair: KeyPairKind,
    spec: KeySpec,
    spki: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({:?})", self.spec)
    }
}

impl SigningKey {
    /// Loads an unencrypted PKCS#8 (`PrivateKeyInfo`) RSA or EC private key, in DER.
    ///
    /// Keys outside the Notary table are refused with [`CryptoError::UnsupportedKey`] naming the
    /// size or curve (RSA 1024, P-224, ...), before the key is handed to the library.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let (alg, private_key) = pkcs8_parts(der)?;
        let pair = if alg.oid == rfc5912::RSA_ENCRYPTION {
            let bits = rsa_private_modulus_bits(private_key)?;
            KeySpec::from_kind(PublicKeyKind::Rsa { bits })?;
            let pair = RsaKeyPair::from_pkcs8(der)
                .map_err(|e| CryptoError::MalformedPrivateKey(format!("RSA key rejected: {e}")))?;
            KeyPairKind::Rsa(pair)
        } else if alg.oid == rfc5912::ID_EC_PUBLIC_KEY {
            let curve: ObjectIdentifier = alg
                .parameters
                .ok_or_else(|| {
                    CryptoError::MalformedPrivateKey("EC key without curve parameters".into())
                })?
                .decode_as()
                .map_err(|_| CryptoError::UnsupportedKey("EC key without a named curve".into()))?;
            let signing = if curve == rfc5912::SECP_256_R_1 {
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING
            } else if curve == rfc5912::SECP_384_R_1 {
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING
            } else if curve == rfc5912::SECP_521_R_1 {
                &signature::ECDSA_P521_SHA512_FIXED_SIGNING
            } else {
                return Err(CryptoError::UnsupportedKey(format!(
                    "elliptic curve {} is not supported",
                    curve_name(&curve)
                )));
            };
            let pair = EcdsaKeyPair::from_pkcs8(signing, der)
                .map_err(|e| CryptoError::MalformedPrivateKey(format!("EC key rejected: {e}")))?;
            KeyPairKind::Ec(pair)
        } else {
            return Err(CryptoError::UnsupportedKey(format!(
                "private key algorithm {} is not supported",
                curve_name(&alg.oid)
            )));
        };
        let spki = match &pair {
            KeyPairKind::Rsa(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
            KeyPairKind::Ec(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
        }
        .map_err(|_| CryptoError::MalformedPrivateKey("cannot encode the public key".into()))?;
        let spec = key_spec_from_spki(&spki)?;
        Ok(SigningKey { pair, spec, spki })
    }

    /// The key's place in the Notary table.
    pub fn key_spec(&self) -> KeySpec {
        self.spec
    }

    /// The envelope algorithm this key signs with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.spec.signature_algorithm()
    }

    /// The public key, as a DER SubjectPublicKeyInfo.
    pub fn public_key_spki(&self) -> &[u8] {
        &self.spki
    }

    /// True when `spki_der` (a certificate's SubjectPublicKeyInfo) holds this key's public key:
    /// same algorithm, same parameters (curve), same key bits.
    pub fn matches_public_key(&self, spki_der: &[u8]) -> bool {
        let (Ok(mine), Ok(theirs)) = (
            SubjectPublicKeyInfoRef::from_der(&self.spki),
            SubjectPublicKeyInfoRef::from_der(spki_der),
        ) else {
            return false;
        };
        let params = |p: Option<AnyRef<'_>>| p.and_then(|a| a.to_der().ok());
        mine.algorithm.oid == theirs.algorithm.oid
            && params(mine.algorithm.parameters) == params(theirs.algorithm.parameters)
            && mine.subject_public_key.raw_bytes() == theirs.subject_public_key.raw_bytes()
    }

    /// Signs `message` (JWS signing input or COSE Sig_structure) with [`SigningKey::algorithm`].
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let rng = SystemRandom::new();
        match &self.pair {
            KeyPairKind::Rsa(k) => {
                let encoding: &'static dyn signature::RsaEncoding = match self.algorithm() {
                    SignatureAlgorithm::Ps384 => &signature::RSA_PSS_SHA384,
                    SignatureAlgorithm::Ps512 => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PSS_SHA256,
                };
                let mut out = vec![0u8; k.public_modulus_len()];
                k.sign(encoding, &rng, message, &mut out)
                    .map_err(|_| CryptoError::SigningFailed)?;
                Ok(out)
            }
            KeyPairKind::Ec(k) => k
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| CryptoError::SigningFailed),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use aws_lc_rs::rand::SystemRandom;

    use super::*;
    use crate::notary::envelope::test_support::*;

    #[test]
    fn key_specs_from_generated_keys() {
        assert_eq!(
            key_spec_from_spki(&rsa2048().spki()).unwrap(),
            KeySpec::Rsa2048
        );
        assert_eq!(
            key_spec_from_spki(&rsa3072().spki()).unwrap(),
            KeySpec::Rsa3072
        );
        assert_eq!(key_spec_from_spki(&p256().spki()).unwrap(), KeySpec::EcP256);
        assert_eq!(key_spec_from_spki(&p384().spki()).unwrap(), KeySpec::EcP384);
        assert_eq!(key_spec_from_spki(&p521().spki()).unwrap(), KeySpec::EcP521);
        assert_eq!(
            KeySpec::Rsa2048.signature_algorithm(),
            SignatureAlgorithm::Ps256
        );
        assert_eq!(
            KeySpec::Rsa4096.signature_algorithm(),
            SignatureAlgorithm::Ps512
        );
        assert_eq!(
            KeySpec::EcP521.signature_algorithm(),
            SignatureAlgorithm::Es512
        );
    }

    #[test]
    fn unsupported_keys() {
        assert!(matches!(
            key_spec_from_spki(&rsa_spki(128)),
            Err(CryptoError::UnsupportedKey(_))
        ));
        assert!(matches!(
            key_spec_from_spki(&rsa_spki(1024)),
            Err(CryptoError::UnsupportedKey(_))
        ));
        assert_eq!(
            analyze_public_key(&rsa_spki(1024)).unwrap(),
            PublicKeyKind::Rsa { bits: 8192 }
        );
        assert!(matches!(
            key_spec_from_spki(&ed25519_spki()),
            Err(CryptoError::UnsupportedKey(_))
        ));
        assert!(matches!(
            key_spec_from_spki(b"junk"),
            Err(CryptoError::MalformedKey(_))
        ));
        // Compressed P-256 point: Go rejects it, so do we.
        let spki = p256().spki();
        let point_at = spki.len() - 65;
        let mut compressed = spki[..point_at].to_vec();
        compressed.push(0x02);
        compressed.extend_from_slice(&spki[point_at + 1..point_at + 33]);
        // Fix the BIT STRING and outer SEQUENCE lengths (both shrink by 32).
        compressed[1] -= 32;
        let bit_len_at = point_at - 2;
        compressed[bit_len_at] -= 32;
        assert!(matches!(
            analyze_public_key(&compressed),
            Err(CryptoError::MalformedKey(_))
        ));
    }

    #[test]
    fn algorithm_tables() {
        for a in SignatureAlgorithm::ALL {
            assert_eq!(SignatureAlgorithm::from_jws_name(a.jws_name()), Some(a));
            assert_eq!(SignatureAlgorithm::from_cose_id(a.cose_id()), Some(a));
        }
        assert_eq!(SignatureAlgorithm::from_jws_name("none"), None);
        assert_eq!(SignatureAlgorithm::from_cose_id(-8), None);
        assert_eq!(SignatureAlgorithm::Es384.hash(), HashAlgorithm::Sha384);
    }

    #[test]
    fn envelope_signatures() {
        let msg = b"signing input";
        for (key, alg) in [
            (rsa2048(), SignatureAlgorithm::Ps256),
            (rsa3072(), SignatureAlgorithm::Ps384),
            (p256(), SignatureAlgorithm::Es256),
            (p384(), SignatureAlgorithm::Es384),
            (p521(), SignatureAlgorithm::Es512),
        ] {
            let sig = key.sign_envelope(alg, msg);
            for salt in [PssSaltPolicy::EqualsHash, PssSaltPolicy::Any] {
                verify_envelope_signature(&key.spki(), alg, salt, msg, &sig).unwrap();
                assert_eq!(
                    verify_envelope_signature(&key.spki(), alg, salt, b"other", &sig),
                    Err(CryptoError::BadSignature)
                );
            }
        }
        // Wrong algorithm for the key.
        let sig = rsa3072().sign_envelope(SignatureAlgorithm::Ps256, msg);
        assert!(matches!(
            verify_envelope_signature(
                &rsa3072().spki(),
                SignatureAlgorithm::Ps256,
                PssSaltPolicy::Any,
                msg,
                &sig
            ),
            Err(CryptoError::AlgorithmKeyMismatch { .. })
        ));
        // ECDSA in DER (ASN.1) form is not the JOSE/COSE encoding.
        let TestKey::Ec { asn1, .. } = p256() else {
            panic!()
        };
        let der_sig = asn1.sign(&SystemRandom::new(), msg).unwrap();
        assert_eq!(
            verify_envelope_signature(
                &p256().spki(),
                SignatureAlgorithm::Es256,
                PssSaltPolicy::Any,
                msg,
                der_sig.as_ref()
            ),
            Err(CryptoError::BadSignature)
        );
    }

    fn alg_der(oid: ObjectIdentifier, params: Option<&[u8]>) -> Vec<u8> {
        use der::Encode;
        let mut content = oid.to_der().unwrap();
        if let Some(p) = params {
            content.extend_from_slice(p);
        }
        let mut out = vec![0x30, u8::try_from(content.len()).unwrap()];
        out.extend(content);
        out
    }

    #[test]
    fn certificate_signature_algorithms() {
        let weak = [
            alg_der(rfc5912::SHA_1_WITH_RSA_ENCRYPTION, Some(&[5, 0])),
            alg_der(rfc5912::MD_5_WITH_RSA_ENCRYPTION, Some(&[5, 0])),
            alg_der(ECDSA_WITH_SHA_1, None),
            // RSASSA-PSS with all defaults (SHA-1).
            alg_der(ID_RSASSA_PSS, Some(&[0x30, 0x00])),
        ];
        for a in &weak {
            assert!(
                matches!(
                    check_certificate_signature_algorithm(a),
                    Err(CryptoError::WeakAlgorithm(_))
                ),
                "{a:02x?}"
            );
        }
        let unsupported = [
            alg_der(ObjectIdentifier::new_unwrap("1.3.101.112"), None), // Ed25519
            alg_der(rfc5912::ECDSA_WITH_SHA_256, Some(&[5, 0])),        // params must be absent
            alg_der(ID_RSASSA_PSS, None),                               // params required
            alg_der(ID_RSASSA_PSS, Some(&pss_params_der(20))),          // salt != hLen
        ];
        for a in &unsupported {
            assert!(
                matches!(
                    check_certificate_signature_algorithm(a),
                    Err(CryptoError::UnsupportedAlgorithm(_))
                ),
                "{a:02x?}"
            );
        }
        for ok in [
            alg_der(rfc5912::SHA_256_WITH_RSA_ENCRYPTION, Some(&[5, 0])),
            alg_der(rfc5912::SHA_512_WITH_RSA_ENCRYPTION, None),
            alg_der(rfc5912::ECDSA_WITH_SHA_384, None),
            alg_der(ID_RSASSA_PSS, Some(&pss_params_der(32))),
        ] {
            check_certificate_signature_algorithm(&ok).unwrap();
        }
        // An ECDSA algorithm with an RSA issuer key is a mismatch, not a crash.
        assert!(matches!(
            verify_certificate_signature(
                &rsa2048().spki(),
                &alg_der(rfc5912::ECDSA_WITH_SHA_256, None),
                b"tbs",
                b"sig"
            ),
            Err(CryptoError::AlgorithmKeyMismatch { .. })
        ));
    }
}
