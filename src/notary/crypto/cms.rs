//! Signature and digest primitives for RFC 3161 timestamp tokens.
//!
//! The timestamp code reaches cryptographic primitives (aws-lc-rs) only through this child of
//! [`crate::notary::crypto`]; its public surface is two functions, [`digest`] and [`verify_signature`], plus
//! [`digest_legacy_sha1`], which exists only so that callers can *recognise* SHA-1 material in
//! order to refuse it.
//!
//! Algorithm allowlist (SPEC-NOTES errata 3 and 4; tspclient-go `internal/oid`):
//! * digests: SHA-256, SHA-384, SHA-512;
//! * signatures: RSA PKCS#1 v1.5 with SHA-256/384/512 (RSA 2048..=8192 bits), RSASSA-PSS with
//!   SHA-256/384/512 whose parameters name the same hash for MGF1 and a salt of the hash length,
//!   ECDSA over P-256, P-384 or P-521 with SHA-256/384/512 (DER-encoded `r`,`s`, as X.509 and CMS
//!   carry them);
//! * SHA-1, MD5, MD2 and DSA are refused with [`CryptoError::LegacyAlgorithmRefused`].

use aws_lc_rs::{digest as lc_digest, signature as lc_sig};
use der::asn1::{AnyRef, Null};
use der::{Decode, Sequence, Tagged};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoRef};

/// Errors from the digest and signature primitives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The algorithm identifier names an algorithm outside the allowlist.
    #[error("unsupported algorithm {oid}")]
    UnsupportedAlgorithm {
        /// Dotted OID of the algorithm.
        oid: String,
    },
    /// The algorithm is a known legacy algorithm (SHA-1, MD5, MD2, DSA) that is refused on
    /// purpose (SPEC-NOTES errata 4: reject SHA-1 everywhere).
    #[error("legacy algorithm {name} is refused")]
    LegacyAlgorithmRefused {
        /// Human-readable name of the refused algorithm.
        name: &'static str,
    },
    /// The algorithm parameters are malformed or not the ones the algorithm requires
    /// (for example RSASSA-PSS with a salt length other than the hash length).
    #[error("invalid algorithm parameters: {0}")]
    InvalidParameters(&'static str),
    /// The SubjectPublicKeyInfo could not be parsed.
    #[error("malformed public key")]
    MalformedPublicKey,
    /// The public key type or curve is not supported.
    #[error("unsupported public key algorithm {oid}")]
    UnsupportedKey {
        /// Dotted OID of the key algorithm or curve.
        oid: String,
    },
    /// The signature algorithm does not fit the public key (for example ECDSA with an RSA key).
    #[error("signature algorithm does not match the public key type")]
    KeyAlgorithmMismatch,
    /// The signature does not verify (or the key is rejected by the primitive, for example an
    /// RSA modulus below 2048 bits).
    #[error("signature verification failed")]
    BadSignature,
}

// --- OIDs -----------------------------------------------------------------------------------

pub(crate) const ID_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(crate) const ID_SHA384: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub(crate) const ID_SHA512: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

pub(crate) const RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const SHA256_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub(crate) const SHA384_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
pub(crate) const SHA512_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ID_RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const ID_MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// Legacy algorithms that are recognised only to be refused, with a name for the error.
const LEGACY: &[(ObjectIdentifier, &str)] = &[
    (ObjectIdentifier::new_unwrap("1.3.14.3.2.26"), "SHA-1"),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"),
        "sha1WithRSAEncryption",
    ),
    (
        ObjectIdentifier::new_unwrap("1.3.14.3.2.29"),
        "sha1WithRSAEncryption (OIW)",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.1"),
        "ecdsa-with-SHA1",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.10040.4.3"),
        "dsa-with-SHA1",
    ),
    (ObjectIdentifier::new_unwrap("1.2.840.113549.2.5"), "MD5"),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.4"),
        "md5WithRSAEncryption",
    ),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.2"),
        "md2WithRSAEncryption",
    ),
];

/// The SHA-2 hashes the allowlist knows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sha2 {
    S256,
    S384,
    S512,
}

impl Sha2 {
    fn from_oid(oid: &ObjectIdentifier) -> Result<Self, CryptoError> {
        if *oid == ID_SHA256 {
            Ok(Self::S256)
        } else if *oid == ID_SHA384 {
            Ok(Self::S384)
        } else if *oid == ID_SHA512 {
            Ok(Self::S512)
        } else {
            Err(unsupported_or_legacy(oid))
        }
    }

    fn algorithm(self) -> &'static lc_digest::Algorithm {
        match self {
            Self::S256 => &lc_digest::SHA256,
            Self::S384 => &lc_digest::SHA384,
            Self::S512 => &lc_digest::SHA512,
        }
    }

    fn output_len(self) -> u32 {
        match self {
            Self::S256 => 32,
            Self::S384 => 48,
            Self::S512 => 64,
        }
    }
}

fn unsupported_or_legacy(oid: &ObjectIdentifier) -> CryptoError {
    match LEGACY.iter().find(|(o, _)| o == oid) {
        Some((_, name)) => CryptoError::LegacyAlgorithmRefused { name },
        None => CryptoError::UnsupportedAlgorithm {
            oid: oid.to_string(),
        },
    }
}

/// Hash parameters must be absent or NULL (RFC 5754 §2 allows both).
fn check_absent_or_null(params: Option<&der::Any>) -> Result<(), CryptoError> {
    match params {
        None => Ok(()),
        Some(p) if p.tag() == der::Tag::Null && p.value().is_empty() => Ok(()),
        Some(_) => Err(CryptoError::InvalidParameters(
            "hash or RSA algorithm parameters must be absent or NULL",
        )),
    }
}

/// Computes a SHA-256, SHA-384 or SHA-512 digest of `data`, selected by the digest algorithm
/// OID `alg`. Any other OID is refused (SHA-1 and MD5 with
/// [`CryptoError::LegacyAlgorithmRefused`]).
pub fn digest(alg: &ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let sha = Sha2::from_oid(alg)?;
    Ok(lc_digest::digest(sha.algorithm(), data).as_ref().to_vec())
}

/// Computes SHA-1 of `data`.
///
/// For recognition only (for example, to tell a caller that a SHA-1 `ESSCertID` names a given
/// certificate before refusing it). Never use its result to accept anything.
pub fn digest_legacy_sha1(data: &[u8]) -> Vec<u8> {
    lc_digest::digest(&lc_digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

/// RSASSA-PSS-params (RFC 4055 §3.1). All fields have SHA-1 based defaults, which this module
/// refuses, so a usable parameter set always spells out hash and mask generation.
#[derive(Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_len: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer: Option<u32>,
}

fn pss_hash(params: Option<&der::Any>) -> Result<Sha2, CryptoError> {
    let params = params.ok_or(CryptoError::InvalidParameters(
        "RSASSA-PSS parameters are required (defaults are SHA-1)",
    ))?;
    let params: PssParams = params
        .decode_as()
        .map_err(|_| CryptoError::InvalidParameters("malformed RSASSA-PSS parameters"))?;
    let hash_alg = params.hash.ok_or(CryptoError::LegacyAlgorithmRefused {
        name: "RSASSA-PSS default hash SHA-1",
    })?;
    let sha = Sha2::from_oid(&hash_alg.oid)?;
    check_absent_or_null(hash_alg.parameters.as_ref())?;
    let mgf = params.mask_gen.ok_or(CryptoError::LegacyAlgorithmRefused {
        name: "RSASSA-PSS default MGF1 with SHA-1",
    })?;
    if mgf.oid != ID_MGF1 {
        return Err(unsupported_or_legacy(&mgf.oid));
    }
    let mgf_hash: AlgorithmIdentifierOwned = mgf
        .parameters
        .as_ref()
        .ok_or(CryptoError::InvalidParameters(
            "MGF1 without a hash algorithm",
        ))?
        .decode_as()
        .map_err(|_| CryptoError::InvalidParameters("malformed MGF1 hash algorithm"))?;
    if Sha2::from_oid(&mgf_hash.oid)? != sha {
        return Err(CryptoError::InvalidParameters(
            "MGF1 hash differs from the RSASSA-PSS hash",
        ));
    }
    check_absent_or_null(mgf_hash.parameters.as_ref())?;
    // Go's crypto/x509 (which notation uses) verifies PSS with PSSSaltLengthEqualsHash.
    if params.salt_len != Some(sha.output_len()) {
        return Err(CryptoError::InvalidParameters(
            "RSASSA-PSS salt length must equal the hash length",
        ));
    }
    if !matches!(params.trailer, None | Some(1)) {
        return Err(CryptoError::InvalidParameters(
            "RSASSA-PSS trailer field must be 1",
        ));
    }
    Ok(sha)
}

enum KeyKind {
    Rsa,
    Ec(ObjectIdentifier),
}

/// A signature algorithm from the allowlist, with its hash.
enum SigAlg {
    RsaPkcs1(Sha2),
    RsaPss(Sha2),
    Ecdsa(Sha2),
}

fn classify_signature_algorithm(sig_alg: &AlgorithmIdentifierOwned) -> Result<SigAlg, CryptoError> {
    let oid = &sig_alg.oid;
    if *oid == SHA256_WITH_RSA || *oid == SHA384_WITH_RSA || *oid == SHA512_WITH_RSA {
        check_absent_or_null(sig_alg.parameters.as_ref())?;
        let sha = if *oid == SHA256_WITH_RSA {
            Sha2::S256
        } else if *oid == SHA384_WITH_RSA {
            Sha2::S384
        } else {
            Sha2::S512
        };
        Ok(SigAlg::RsaPkcs1(sha))
    } else if *oid == ID_RSASSA_PSS {
        Ok(SigAlg::RsaPss(pss_hash(sig_alg.parameters.as_ref())?))
    } else if *oid == ECDSA_WITH_SHA256 || *oid == ECDSA_WITH_SHA384 || *oid == ECDSA_WITH_SHA512 {
        // RFC 5758 §3.2: the parameters field MUST be absent.
        if sig_alg.parameters.is_some() {
            return Err(CryptoError::InvalidParameters(
                "ECDSA signature algorithm parameters must be absent",
            ));
        }
        let sha = if *oid == ECDSA_WITH_SHA256 {
            Sha2::S256
        } else if *oid == ECDSA_WITH_SHA384 {
            Sha2::S384
        } else {
            Sha2::S512
        };
        Ok(SigAlg::Ecdsa(sha))
    } else if *oid == RSA_ENCRYPTION {
        Err(CryptoError::InvalidParameters(
            "plain rsaEncryption needs the digest algorithm; map it before calling",
        ))
    } else {
        Err(unsupported_or_legacy(oid))
    }
}

fn parse_key(spki_der: &[u8]) -> Result<(KeyKind, &[u8]), CryptoError> {
    let spki =
        SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|_| CryptoError::MalformedPublicKey)?;
    let key_bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or(CryptoError::MalformedPublicKey)?;
    let kind = if spki.algorithm.oid == RSA_ENCRYPTION {
        match spki.algorithm.parameters {
            None => {}
            Some(p) if p == AnyRef::from(Null) => {}
            Some(_) => return Err(CryptoError::MalformedPublicKey),
        }
        KeyKind::Rsa
    } else if spki.algorithm.oid == ID_EC_PUBLIC_KEY {
        let curve: ObjectIdentifier = spki
            .algorithm
            .parameters
            .ok_or(CryptoError::MalformedPublicKey)?
            .decode_as()
            .map_err(|_| CryptoError::MalformedPublicKey)?;
        KeyKind::Ec(curve)
    } else {
        return Err(CryptoError::UnsupportedKey {
            oid: spki.algorithm.oid.to_string(),
        });
    };
    Ok((kind, key_bytes))
}

/// Verifies `signature` over `message` with the public key in `spki_der` (a DER
/// SubjectPublicKeyInfo) under the signature algorithm `sig_alg`.
///
/// `sig_alg` must name a combined signature algorithm (`sha256WithRSAEncryption`,
/// `id-RSASSA-PSS` with parameters, `ecdsa-with-SHA256`, ...). A CMS SignerInfo whose
/// `signatureAlgorithm` is plain `rsaEncryption` must be mapped by the caller, with the
/// SignerInfo `digestAlgorithm`, to the combined identifier first. The algorithm is checked
/// before the key is parsed, so a refused algorithm is always reported as such.
pub fn verify_signature(
    spki_der: &[u8],
    sig_alg: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let sig = classify_signature_algorithm(sig_alg)?;
    let (kind, key_bytes) = parse_key(spki_der)?;
    let algorithm: &'static dyn lc_sig::VerificationAlgorithm = match (sig, kind) {
        (SigAlg::RsaPkcs1(sha), KeyKind::Rsa) => match sha {
            Sha2::S256 => &lc_sig::RSA_PKCS1_2048_8192_SHA256,
            Sha2::S384 => &lc_sig::RSA_PKCS1_2048_8192_SHA384,
            Sha2::S512 => &lc_sig::RSA_PKCS1_2048_8192_SHA512,
        },
        (SigAlg::RsaPss(sha), KeyKind::Rsa) => match sha {
            Sha2::S256 => &lc_sig::RSA_PSS_2048_8192_SHA256,
            Sha2::S384 => &lc_sig::RSA_PSS_2048_8192_SHA384,
            Sha2::S512 => &lc_sig::RSA_PSS_2048_8192_SHA512,
        },
        (SigAlg::Ecdsa(sha), KeyKind::Ec(curve)) => ecdsa_algorithm(&curve, sha)?,
        _ => return Err(CryptoError::KeyAlgorithmMismatch),
    };
    lc_sig::UnparsedPublicKey::new(algorithm, key_bytes)
        .verify(message, signature)
        .map_err(|_| CryptoError::BadSignature)
}

fn ecdsa_algorithm(
    curve: &ObjectIdentifier,
    sha: Sha2,
) -> Result<&'static dyn lc_sig::VerificationAlgorithm, CryptoError> {
    let alg: &'static lc_sig::EcdsaVerificationAlgorithm = if *curve == SECP256R1 {
        match sha {
            Sha2::S256 => &lc_sig::ECDSA_P256_SHA256_ASN1,
            Sha2::S384 => &lc_sig::ECDSA_P256_SHA384_ASN1,
            Sha2::S512 => &lc_sig::ECDSA_P256_SHA512_ASN1,
        }
    } else if *curve == SECP384R1 {
        match sha {
            Sha2::S256 => &lc_sig::ECDSA_P384_SHA256_ASN1,
            Sha2::S384 => &lc_sig::ECDSA_P384_SHA384_ASN1,
            Sha2::S512 => &lc_sig::ECDSA_P384_SHA512_ASN1,
        }
    } else if *curve == SECP521R1 {
        match sha {
            Sha2::S256 => &lc_sig::ECDSA_P521_SHA256_ASN1,
            Sha2::S384 => &lc_sig::ECDSA_P521_SHA384_ASN1,
            Sha2::S512 => &lc_sig::ECDSA_P521_SHA512_ASN1,
        }
    } else {
        return Err(CryptoError::UnsupportedKey {
            oid: curve.to_string(),
        });
    };
    Ok(alg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_allowlist() {
        let d = digest(&ID_SHA256, b"notation").unwrap();
        assert_eq!(d.len(), 32);
        assert_eq!(digest(&ID_SHA384, b"").unwrap().len(), 48);
        assert_eq!(digest(&ID_SHA512, b"").unwrap().len(), 64);
        let sha1 = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
        assert!(matches!(
            digest(&sha1, b"x"),
            Err(CryptoError::LegacyAlgorithmRefused { .. })
        ));
        let md5 = ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");
        assert!(matches!(
            digest(&md5, b"x"),
            Err(CryptoError::LegacyAlgorithmRefused { .. })
        ));
        let sha224 = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
        assert!(matches!(
            digest(&sha224, b"x"),
            Err(CryptoError::UnsupportedAlgorithm { .. })
        ));
        assert_eq!(digest_legacy_sha1(b"abc").len(), 20);
    }

    #[test]
    fn sha256_of_notation_matches_corpus() {
        let d = digest(&ID_SHA256, b"notation").unwrap();
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "8326f4709d401dfabfa78302fb1cdea0f18048a44040c212bd8e28da6bc651c7"
        );
    }

    #[test]
    fn refuses_sha1_signature_algorithms() {
        let alg = AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"),
            parameters: None,
        };
        // The algorithm is classified before the key is parsed.
        let err = verify_signature(&[0x30, 0x00], &alg, b"m", b"s").unwrap_err();
        assert_eq!(
            err,
            CryptoError::LegacyAlgorithmRefused {
                name: "sha1WithRSAEncryption"
            }
        );
        let ecdsa_sha1 = AlgorithmIdentifierOwned {
            oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.1"),
            parameters: None,
        };
        assert!(matches!(
            verify_signature(&[0x30, 0x00], &ecdsa_sha1, b"m", b"s"),
            Err(CryptoError::LegacyAlgorithmRefused { .. })
        ));
    }

    #[test]
    fn pss_requires_explicit_sha2_params() {
        assert!(matches!(
            pss_hash(None),
            Err(CryptoError::InvalidParameters(_))
        ));
        // SEQUENCE {} : all defaults => SHA-1
        let empty = der::Any::from_der(&[0x30, 0x00]).unwrap();
        assert!(matches!(
            pss_hash(Some(&empty)),
            Err(CryptoError::LegacyAlgorithmRefused { .. })
        ));
    }
}
