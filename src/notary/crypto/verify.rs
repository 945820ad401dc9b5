//! Signature verification: envelope signatures (RSASSA-PSS with the salt policy of the envelope
//! format, ECDSA in the fixed-width form) and X.509 certificate / CRL signatures (PKCS#1 v1.5,
//! RSASSA-PSS with parsed parameters, ECDSA in DER form; SHA-1 and MD5 refused).

use std::sync::OnceLock;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, RsaParameters, RsaPssSaltLength, UnparsedPublicKey};
use const_oid::db::rfc5912;
use der::asn1::AnyRef;
use der::{Decode, Sequence};
use spki::AlgorithmIdentifierRef;

use super::key::{analyze_public_key, key_spec_from_spki, EcCurve, KeySpec, PublicKeyKind};
use super::{CryptoError, HashAlgorithm, SignatureAlgorithm, ECDSA_WITH_SHA_1, ID_RSASSA_PSS};

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
