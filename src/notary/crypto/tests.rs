//! Unit tests of the signature primitives: keys, envelope and certificate signatures, signing.

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
