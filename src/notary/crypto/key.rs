//! Public keys: what a SubjectPublicKeyInfo holds (Go's `x509` parser rules) and the Notary
//! algorithm table (key spec -> envelope algorithm).

use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;
use der::asn1::UintRef;
use der::{Decode, Sequence};
use spki::SubjectPublicKeyInfoRef;

use super::{CryptoError, SignatureAlgorithm, ID_RSASSA_PSS};

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
