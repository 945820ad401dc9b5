//! Rule-by-rule tests of the code-signing chain (through `validate_code_signing_chain`).

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};

use super::*;
use crate::notary::envelope::test_support::*;

fn err(chain: &[Vec<u8>]) -> (usize, ChainRule) {
    let e = validate_code_signing_chain(chain).unwrap_err();
    (e.index, e.rule)
}

fn root() -> Vec<u8> {
    mint(&CertSpec::new(
        ROOT,
        ROOT,
        rsa2048(),
        rsa2048(),
        ca_exts(None),
    ))
}

fn inter_with(exts: Vec<x509_cert::ext::Extension>) -> Vec<u8> {
    let mut s = CertSpec::new(INTER, ROOT, p384(), rsa2048(), exts);
    s.serial = 2;
    mint(&s)
}

fn leaf_with(exts: Vec<x509_cert::ext::Extension>) -> Vec<u8> {
    let mut s = CertSpec::new(LEAF, INTER, p256(), p384(), exts);
    s.serial = 3;
    mint(&s)
}

fn chain_with_leaf(exts: Vec<x509_cert::ext::Extension>) -> Vec<Vec<u8>> {
    vec![leaf_with(exts), inter_with(ca_exts(None)), root()]
}

fn chain_with_inter(exts: Vec<x509_cert::ext::Extension>) -> Vec<Vec<u8>> {
    vec![leaf_with(leaf_exts()), inter_with(exts), root()]
}

#[test]
fn valid_chains() {
    let c = validate_code_signing_chain(&chain_with_leaf(leaf_exts())).unwrap();
    assert_eq!(c.leaf_key_spec(), KeySpec::EcP256);
    assert_eq!(c.certificates().len(), 3);
    assert_eq!(
        c.certificates()[0].subject_der(),
        c.certificates()[0].subject_der()
    );
    let c = validate_code_signing_chain(&three_chain(rsa3072(), p521(), p384())).unwrap();
    assert_eq!(c.leaf_key_spec(), KeySpec::Rsa3072);
    let c = validate_code_signing_chain(&self_signed(p521())).unwrap();
    assert_eq!(c.leaf_key_spec(), KeySpec::EcP521);
}

#[test]
fn order_and_linkage() {
    let good = chain_with_leaf(leaf_exts());
    let mut reversed = good.clone();
    reversed.reverse();
    assert_eq!(err(&reversed), (0, ChainRule::LeafSelfSigned));
    assert_eq!(
        err(&[good[0].clone(), good[2].clone(), good[1].clone()]),
        (0, ChainRule::NotSignedByNext)
    );
    // An unrelated certificate in the middle.
    let other = three_chain(p384(), p256(), p521());
    assert_eq!(
        err(&[
            good[0].clone(),
            other[1].clone(),
            good[1].clone(),
            good[2].clone()
        ]),
        (0, ChainRule::NotSignedByNext)
    );
    // Chain not ending in a root.
    assert_eq!(err(&good[..2]), (1, ChainRule::RootNotSelfSigned));
    // Duplicated root at the end.
    let mut dup = good.clone();
    dup.push(good[2].clone());
    assert_eq!(err(&dup), (2, ChainRule::IntermediateSelfSigned));
    // Issuer name differs although the key signed it.
    let mut s = CertSpec::new(
        LEAF,
        "CN=Someone Else,O=Notary,C=US",
        p256(),
        p384(),
        leaf_exts(),
    );
    s.serial = 9;
    assert_eq!(
        err(&[mint(&s), good[1].clone(), good[2].clone()]),
        (0, ChainRule::IssuerNameMismatch)
    );
}

#[test]
fn self_signed_intermediate_rejected() {
    let mut s = CertSpec::new(INTER, INTER, p384(), p384(), ca_exts(None));
    s.serial = 4;
    let self_inter = mint(&s);
    assert_eq!(
        err(&[leaf_with(leaf_exts()), self_inter, root()]),
        (1, ChainRule::IntermediateSelfSigned)
    );
}

#[test]
fn single_certificate_rules() {
    // Signed by another key.
    let s = CertSpec::new(LEAF, LEAF, p256(), p384(), leaf_exts());
    assert_eq!(err(&[mint(&s)]), (0, ChainRule::NotSelfSigned));
    // Self-signed but not self-issued.
    let s = CertSpec::new(LEAF, ROOT, p256(), p256(), leaf_exts());
    assert_eq!(err(&[mint(&s)]), (0, ChainRule::NotSelfIssued));
    // A self-signed CA is not a signing certificate.
    assert_eq!(err(&[root()]), (0, ChainRule::LeafIsCa));
}

#[test]
fn sha1_and_algorithm_identifiers() {
    let mut s = CertSpec::new(LEAF, INTER, p256(), rsa2048(), leaf_exts());
    s.sig = CertSig::Sha1WithRsa;
    let mut inter = CertSpec::new(INTER, ROOT, rsa2048(), rsa2048(), ca_exts(None));
    inter.serial = 2;
    let chain = vec![mint(&s), mint(&inter), root()];
    assert_eq!(err(&chain), (0, ChainRule::WeakSignatureAlgorithm));
    assert_eq!(
        validate_code_signing_chain(&chain).unwrap_err().category(),
        crate::notary::reason::Validation::Integrity
    );
    // SHA-1 self-signed root (a single-certificate SHA-1 chain too).
    let mut r = CertSpec::new(LEAF, LEAF, rsa2048(), rsa2048(), leaf_exts());
    r.sig = CertSig::Sha1WithRsa;
    assert_eq!(err(&[mint(&r)]), (0, ChainRule::WeakSignatureAlgorithm));
    // tbsCertificate.signature differs from signatureAlgorithm.
    let mut m = CertSpec::new(LEAF, LEAF, rsa2048(), rsa2048(), leaf_exts());
    m.inner_alg = Some(spki::AlgorithmIdentifierOwned {
        oid: rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
        parameters: Some(der::Any::null()),
    });
    assert_eq!(err(&[mint(&m)]), (0, ChainRule::SignatureAlgorithmMismatch));
}

#[test]
fn rsassa_pss_certificates() {
    let mut s = CertSpec::new(LEAF, LEAF, rsa2048(), rsa2048(), leaf_exts());
    s.sig = CertSig::RsaPssSha256 { salt: 32 };
    validate_code_signing_chain(&[mint(&s)]).unwrap();
    s.sig = CertSig::RsaPssSha256 { salt: 20 };
    assert_eq!(
        err(&[mint(&s)]),
        (0, ChainRule::UnsupportedSignatureAlgorithm)
    );
    let mut s = CertSpec::new(LEAF, LEAF, rsa2048(), rsa2048(), leaf_exts());
    s.sig = CertSig::RsaPkcs1Sha384;
    validate_code_signing_chain(&[mint(&s)]).unwrap();
}

#[test]
fn ca_basic_constraints_and_path_length() {
    assert_eq!(
        err(&chain_with_inter(vec![ku(
            KeyUsage(KeyUsages::KeyCertSign.into()),
            true
        )])),
        (1, ChainRule::CaBasicConstraints)
    );
    assert_eq!(
        err(&chain_with_inter(vec![
            bc(false, None, true),
            ku(KeyUsage(KeyUsages::KeyCertSign.into()), true)
        ])),
        (1, ChainRule::CaBasicConstraints)
    );
    assert_eq!(
        err(&chain_with_inter(vec![
            bc(true, None, false),
            ku(KeyUsage(KeyUsages::KeyCertSign.into()), true)
        ])),
        (1, ChainRule::CaBasicConstraintsNotCritical)
    );
    // Intermediate with pathLen 0 is fine (no CA below it).
    validate_code_signing_chain(&chain_with_inter(ca_exts(Some(0)))).unwrap();
    // Root with pathLen 0 above an intermediate is not.
    let r = mint(&CertSpec::new(
        ROOT,
        ROOT,
        rsa2048(),
        rsa2048(),
        ca_exts(Some(0)),
    ));
    assert_eq!(
        err(&[leaf_with(leaf_exts()), inter_with(ca_exts(None)), r]),
        (2, ChainRule::PathLength)
    );
}

#[test]
fn ca_key_usage() {
    assert_eq!(
        err(&chain_with_inter(vec![bc(true, None, true)])),
        (1, ChainRule::KeyUsageMissing)
    );
    assert_eq!(
        err(&chain_with_inter(vec![
            bc(true, None, true),
            ku(KeyUsage(KeyUsages::KeyCertSign.into()), false)
        ])),
        (1, ChainRule::KeyUsageNotCritical)
    );
    assert_eq!(
        err(&chain_with_inter(vec![
            bc(true, None, true),
            ku(KeyUsage(KeyUsages::DigitalSignature.into()), true)
        ])),
        (1, ChainRule::CaKeyCertSignMissing)
    );
}

#[test]
fn leaf_rules() {
    let ds = || ku(KeyUsage(KeyUsages::DigitalSignature.into()), true);
    assert_eq!(
        err(&chain_with_leaf(vec![bc(true, None, true), ds()])),
        (0, ChainRule::LeafIsCa)
    );
    assert_eq!(
        err(&chain_with_leaf(vec![])),
        (0, ChainRule::KeyUsageMissing)
    );
    assert_eq!(
        err(&chain_with_leaf(vec![ku(
            KeyUsage(KeyUsages::DigitalSignature.into()),
            false
        )])),
        (0, ChainRule::KeyUsageNotCritical)
    );
    assert_eq!(
        err(&chain_with_leaf(vec![ku(
            KeyUsage(KeyUsages::NonRepudiation.into()),
            true
        )])),
        (0, ChainRule::LeafDigitalSignatureMissing)
    );
    for bad in [
        KeyUsages::KeyEncipherment,
        KeyUsages::DataEncipherment,
        KeyUsages::KeyAgreement,
        KeyUsages::KeyCertSign,
        KeyUsages::CRLSign,
    ] {
        assert_eq!(
            err(&chain_with_leaf(vec![ku(
                KeyUsage(KeyUsages::DigitalSignature | bad),
                true
            )])),
            (0, ChainRule::LeafForbiddenKeyUsage),
            "{bad:?}"
        );
    }
    // nonRepudiation next to digitalSignature is allowed; so is no EKU at all.
    validate_code_signing_chain(&chain_with_leaf(vec![ku(
        KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
        true,
    )]))
    .unwrap();
    for bad in [
        rfc5912::ANY_EXTENDED_KEY_USAGE,
        rfc5912::ID_KP_SERVER_AUTH,
        rfc5912::ID_KP_CLIENT_AUTH,
        rfc5912::ID_KP_EMAIL_PROTECTION,
        rfc5912::ID_KP_TIME_STAMPING,
        rfc5912::ID_KP_OCSP_SIGNING,
    ] {
        assert_eq!(
            err(&chain_with_leaf(vec![
                ds(),
                eku(&[rfc5912::ID_KP_CODE_SIGNING, bad], false)
            ])),
            (0, ChainRule::LeafForbiddenExtendedKeyUsage),
            "{bad}"
        );
    }
    // codeSigning plus an unknown private purpose is fine.
    let private = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.10.3.13");
    validate_code_signing_chain(&chain_with_leaf(vec![
        ds(),
        eku(&[rfc5912::ID_KP_CODE_SIGNING, private], true),
    ]))
    .unwrap();
}

#[test]
fn unknown_critical_extensions_fail_open() {
    let unknown = |v: u8| {
        ext(
            ObjectIdentifier::new_unwrap("1.2.3.4.5"),
            true,
            vec![0x04, 0x01, v],
        )
    };
    let mut leaf = leaf_exts();
    leaf.push(unknown(1));
    let mut ca = ca_exts(None);
    ca.push(unknown(2));
    // A critical name constraints extension is ignored too.
    ca.push(ext(rfc5912::ID_CE_NAME_CONSTRAINTS, true, vec![0x30, 0x00]));
    let mut s = CertSpec::new(INTER, ROOT, p384(), rsa2048(), ca);
    s.serial = 2;
    let chain = vec![leaf_with(leaf), mint(&s), root()];
    validate_code_signing_chain(&chain).unwrap();
}

#[test]
fn malformed_extensions_and_duplicates() {
    let mut exts = leaf_exts();
    exts.push(bc(false, None, false));
    assert_eq!(
        err(&chain_with_leaf(exts)),
        (0, ChainRule::DuplicateExtension)
    );
    let bad_ku = ext(rfc5912::ID_CE_KEY_USAGE, true, vec![0x05, 0x00]);
    assert_eq!(
        err(&chain_with_leaf(vec![bad_ku])),
        (0, ChainRule::MalformedExtension)
    );
}

#[test]
fn key_rules() {
    for (spki, name) in [
        (rsa_spki(128), "RSA-1024"),
        (rsa_spki(1024), "RSA-8192"),
        (ed25519_spki(), "Ed25519"),
    ] {
        let mut s = CertSpec::new(LEAF, INTER, p256(), p384(), leaf_exts());
        s.spki = Some(spki);
        let chain = vec![mint(&s), inter_with(ca_exts(None)), root()];
        assert_eq!(err(&chain), (0, ChainRule::UnsupportedKey), "{name}");
    }
    // A CA whose RSA key is too small fails as that, at the CA, not as "not signed by" at the
    // certificate below it (red team M, M05).
    let mut ca = CertSpec::new(INTER, ROOT, p384(), rsa2048(), ca_exts(None));
    ca.serial = 2;
    ca.spki = Some(rsa_spki(128));
    let chain = vec![leaf_with(leaf_exts()), mint(&ca), root()];
    let e = validate_code_signing_chain(&chain).unwrap_err();
    assert_eq!((e.index, e.rule), (1, ChainRule::UnsupportedKey), "{e}");
    assert!(e.to_string().contains("too small"), "{e}");
    // Sizes are whole bytes times 8 (Go's `Size() << 3`): 2056 bits is not in the table.
    let mut s = CertSpec::new(LEAF, INTER, p256(), p384(), leaf_exts());
    s.spki = Some(rsa_spki(257));
    assert_eq!(
        err(&[mint(&s), inter_with(ca_exts(None)), root()]),
        (0, ChainRule::UnsupportedKey)
    );
}

#[test]
fn length_budget_and_malformed() {
    assert_eq!(err(&Vec::<Vec<u8>>::new()), (0, ChainRule::Empty));
    let one = self_signed(p256()).remove(0);
    assert_eq!(
        err(&vec![one.clone(); MAX_CHAIN_LEN + 1]).1,
        ChainRule::TooLong
    );
    assert_eq!(
        err(&[b"not a certificate".to_vec()]),
        (0, ChainRule::Malformed)
    );
    let mut trailing = one.clone();
    trailing.push(0);
    assert_eq!(err(&[trailing]), (0, ChainRule::Malformed));
    assert_eq!(
        err(&[leaf_with(leaf_exts()), vec![0x30, 0x00], root()]),
        (1, ChainRule::Malformed)
    );
}

#[test]
fn validity_at_time_and_range() {
    // Intermediate valid 2022..2030, others 2020..2040.
    let t2022 = 1_640_995_200;
    let t2030 = 1_893_456_000;
    let mut s = CertSpec::new(INTER, ROOT, p384(), rsa2048(), ca_exts(None));
    s.serial = 2;
    s.not_before = t2022;
    s.not_after = t2030;
    let chain = vec![leaf_with(leaf_exts()), mint(&s), root()];
    let v = validate_code_signing_chain(&chain).unwrap();
    assert_eq!(v.certificates()[1].not_before(), t2022);
    assert_eq!(v.certificates()[1].not_after(), t2030);
    v.check_validity(ValidityTime::At(T2024)).unwrap();
    v.check_validity(ValidityTime::At(t2022)).unwrap(); // inclusive
    v.check_validity(ValidityTime::At(t2030)).unwrap(); // inclusive
    let e = v.check_validity(ValidityTime::At(t2022 - 1)).unwrap_err();
    assert_eq!(
        (e.index, e.rule, e.code()),
        (1, ChainRule::NotYetValid, "authentic_timestamp")
    );
    let e = v.check_validity(ValidityTime::At(t2030 + 1)).unwrap_err();
    assert_eq!((e.index, e.rule), (1, ChainRule::Expired));
    let e = v.check_validity(ValidityTime::At(T2020 - 1)).unwrap_err();
    assert_eq!((e.index, e.rule), (0, ChainRule::NotYetValid));
    v.check_validity(ValidityTime::Range {
        lower: t2022,
        upper: t2030,
    })
    .unwrap();
    let e = v
        .check_validity(ValidityTime::Range {
            lower: t2022 - 1,
            upper: T2024,
        })
        .unwrap_err();
    assert_eq!((e.index, e.rule), (1, ChainRule::NotYetValid));
    let e = v
        .check_validity(ValidityTime::Range {
            lower: T2024,
            upper: t2030 + 1,
        })
        .unwrap_err();
    assert_eq!((e.index, e.rule), (1, ChainRule::Expired));
    let e = v
        .check_validity(ValidityTime::Range {
            lower: T2024 + 1,
            upper: T2024,
        })
        .unwrap_err();
    assert_eq!(e.rule, ChainRule::InvalidTimeInput);
}

#[test]
fn corpus_chains_are_valid() {
    // The notation-go mock chain (leaf + "Notation Test Root", same subject DN on both).
    let v: serde_json::Value = serde_json::from_slice(&corpus_file(
        "envelopes/ngo-mock.x509.valid/ca_valid_sig_env.json",
    ))
    .unwrap();
    use base64::Engine as _;
    let chain: Vec<Vec<u8>> = v["header"]["x5c"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            base64::engine::general_purpose::STANDARD
                .decode(c.as_str().unwrap())
                .unwrap()
        })
        .collect();
    let c = validate_code_signing_chain(&chain).unwrap();
    assert_eq!(c.leaf_key_spec(), KeySpec::Rsa3072);
    assert_eq!(
        c.certificates()[0].subject_der(),
        c.certificates()[1].subject_der()
    );
}
