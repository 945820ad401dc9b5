//! Envelope signing: an unencrypted PKCS#8 RSA or EC key in the Notary table, RSASSA-PSS with salt
//! = hash length or ECDSA in the fixed-width form.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, OctetStringRef, UintRef};
use der::{Decode, Encode as _, Reader as _, SliceReader};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use super::key::{key_spec_from_spki, KeySpec, PublicKeyKind};
use super::{CryptoError, SignatureAlgorithm};

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
