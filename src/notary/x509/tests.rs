//! Unit tests of the X.509 core: the view, the rules per role, both path validators, the budget,
//! and the decisions where the former copies disagreed. The code-signing chain's rule-by-rule
//! tests stay with [`crate::notary::chain`]; the timestamp token's with
//! [`crate::notary::timestamp`].

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};

use super::path::{self, Budget, BuildError, ValidityTime};
use super::rules::{self, Anchor, Purpose, Role};
use super::{Certificate, Rule};
use crate::notary::envelope::test_support::*;
use crate::notary::time::Instant;

const TSA_ROOT: &str = "CN=TSA Root,O=Notary,C=US";
const TSA_CA: &str = "CN=TSA CA,O=Notary,C=US";
const TSA: &str = "CN=TSA,O=Notary,C=US";

fn cert(der: &[u8]) -> Certificate {
    Certificate::from_der(der).unwrap()
}

fn tsa_leaf_exts() -> Vec<x509_cert::ext::Extension> {
    vec![
        ku(KeyUsage(KeyUsages::DigitalSignature.into()), true),
        eku(&[rfc5912::ID_KP_TIME_STAMPING], true),
    ]
}

/// A TSA chain root -> CA -> TSA with the CA's extensions given; DER, leaf first.
fn tsa_chain(ca: Vec<x509_cert::ext::Extension>) -> Vec<Vec<u8>> {
    let root = mint(&CertSpec::new(
        TSA_ROOT,
        TSA_ROOT,
        rsa2048(),
        rsa2048(),
        ca_exts(None),
    ));
    let mut s = CertSpec::new(TSA_CA, TSA_ROOT, p384(), rsa2048(), ca);
    s.serial = 2;
    let inter = mint(&s);
    let mut s = CertSpec::new(TSA, TSA_CA, p256(), p384(), tsa_leaf_exts());
    s.serial = 3;
    vec![mint(&s), inter, root]
}

fn build_tsa(ders: &[Vec<u8>], budget: &mut Budget) -> Result<usize, BuildError> {
    let certs: Vec<Certificate> = ders.iter().map(|d| cert(d)).collect();
    let anchors = vec![certs.last().unwrap().clone()];
    path::build(
        &certs[0],
        &certs,
        &anchors,
        Instant::from_secs(T2024),
        Purpose::Timestamping,
        budget,
    )
    .map(|p| p.certificates().len())
}

fn rule_of(e: BuildError) -> Rule {
    match e {
        BuildError::Invalid { error, .. } => error.rule,
        other => panic!("expected an invalid certificate, got {other:?}"),
    }
}

#[test]
fn view_reads_every_extension_once() {
    let aia = {
        // AuthorityInfoAccessSyntax: one OCSP access description with a URI.
        let uri = tlv(0x86, b"http://ocsp.example");
        let ad = tlv(0x30, &[rfc5912::ID_AD_OCSP.to_der().unwrap(), uri].concat());
        tlv(0x30, &ad)
    };
    let cdp = {
        let uri = tlv(0x86, b"http://crl.example/a.crl");
        let full_name = tlv(0xA0, &uri);
        let dpn = tlv(0xA0, &full_name);
        tlv(0x30, &tlv(0x30, &dpn))
    };
    let ski = tlv(0x04, &[1, 2, 3]);
    let aki = tlv(0x30, &tlv(0x80, &[4, 5, 6]));
    let mut exts = leaf_exts();
    exts.extend([
        ext(rfc5912::ID_PE_AUTHORITY_INFO_ACCESS, false, aia),
        ext(rfc5912::ID_CE_CRL_DISTRIBUTION_POINTS, false, cdp.clone()),
        ext(rfc5912::ID_CE_FRESHEST_CRL, false, cdp),
        ext(rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER, false, ski),
        ext(rfc5912::ID_CE_AUTHORITY_KEY_IDENTIFIER, false, aki),
    ]);
    let c = cert(&mint(&CertSpec::new(LEAF, INTER, p256(), p384(), exts)));
    assert_eq!(c.names_ocsp(), Ok(true));
    assert_eq!(c.crl_distribution_points().unwrap().unwrap().0.len(), 1);
    assert!(c.has_freshest_crl() && c.freshest_crl().unwrap().is_some());
    assert_eq!(c.subject_key_identifier(), Ok(Some(&[1u8, 2, 3][..])));
    assert_eq!(c.authority_key_identifier(), Ok(Some(&[4u8, 5, 6][..])));
    let bc = c.basic_constraints().unwrap().unwrap();
    assert!(!bc.ca && !bc.critical && bc.path_len.is_none());
    assert!(c.key_usage().unwrap().unwrap().critical);
    assert_eq!(
        c.ext_key_usage().unwrap().unwrap().purposes,
        vec![rfc5912::ID_KP_CODE_SIGNING]
    );
    assert_eq!(c.duplicate_extension(), None);
    assert_eq!(c.unhandled_critical_extension(), None);
    assert!(!c.is_self_issued() && !c.is_ca());
    assert_eq!((c.not_before(), c.not_after()), (T2020, T2040));
    assert_eq!(c.serial(), &[0x01, 0x01]);
    // The parts are the received bytes.
    let decoded = x509_cert::Certificate::from_der(c.der()).unwrap();
    assert_eq!(
        c.subject_der(),
        decoded.tbs_certificate.subject.to_der().unwrap()
    );
    assert_eq!(c.tbs_der(), decoded.tbs_certificate.to_der().unwrap());
}

#[test]
fn malformed_extensions_are_reported_by_the_rules_not_the_parser() {
    let bad_cdp = ext(
        rfc5912::ID_CE_CRL_DISTRIBUTION_POINTS,
        false,
        vec![0x05, 0x00],
    );
    let bad_ku = ext(rfc5912::ID_CE_KEY_USAGE, true, vec![0x05, 0x00]);
    let mut exts = leaf_exts();
    exts.push(bad_cdp);
    let c = cert(&mint(&CertSpec::new(LEAF, INTER, p256(), p384(), exts)));
    assert!(c.crl_distribution_points().is_err());
    // Code signing fails open on it.
    rules::check_extensions(&c, Purpose::CodeSigning).unwrap();
    let c = cert(&mint(&CertSpec::new(
        LEAF,
        INTER,
        p256(),
        p384(),
        vec![bad_ku],
    )));
    assert_eq!(
        rules::check_extensions(&c, Purpose::CodeSigning)
            .unwrap_err()
            .rule,
        Rule::MalformedExtension
    );
    assert!(Certificate::from_der(b"not a certificate").is_err());
}

/// The decision where `chain.rs` and `timestamp.rs` disagreed: SPEC-NOTES §4.1 requires a
/// critical basicConstraints on every CA of both chains.
#[test]
fn ca_basic_constraints_must_be_critical_for_both_purposes() {
    let non_critical = vec![
        bc(true, None, false),
        ku(KeyUsage(KeyUsages::KeyCertSign.into()), true),
    ];
    let mut s = CertSpec::new(INTER, ROOT, p384(), rsa2048(), non_critical);
    s.serial = 2;
    let ca = cert(&mint(&s));
    for purpose in [Purpose::CodeSigning, Purpose::Timestamping] {
        let v = rules::check(
            &ca,
            Role::Ca {
                purpose,
                cas_below: 0,
            },
        )
        .unwrap_err();
        assert_eq!(v.rule, Rule::CaBasicConstraintsNotCritical, "{purpose:?}");
    }
    // keyUsage criticality stays purpose-dependent: MUST for code signing, SHOULD for TSA.
    let mut s = CertSpec::new(
        INTER,
        ROOT,
        p384(),
        rsa2048(),
        vec![
            bc(true, None, true),
            ku(KeyUsage(KeyUsages::KeyCertSign.into()), false),
        ],
    );
    s.serial = 2;
    let ca = cert(&mint(&s));
    let role = |purpose| Role::Ca {
        purpose,
        cas_below: 0,
    };
    assert_eq!(
        rules::check(&ca, role(Purpose::CodeSigning))
            .unwrap_err()
            .rule,
        Rule::KeyUsageNotCritical
    );
    rules::check(&ca, role(Purpose::Timestamping)).unwrap();
}

#[test]
fn timestamping_path_with_non_critical_ca_basic_constraints_is_refused() {
    let good = tsa_chain(ca_exts(None));
    assert_eq!(build_tsa(&good, &mut Budget::new(8, 64)), Ok(3));
    let bad = tsa_chain(vec![
        bc(true, None, false),
        ku(KeyUsage(KeyUsages::KeyCertSign.into()), false),
    ]);
    assert_eq!(
        rule_of(build_tsa(&bad, &mut Budget::new(8, 64)).unwrap_err()),
        Rule::CaBasicConstraintsNotCritical
    );
}

/// The second disagreement: TSA certificates were verified with the CMS primitive, which took an
/// RSA key without NULL parameters; Go's x509 (errata 1) and the signing chain refuse it.
#[test]
fn rsa_key_without_null_parameters_is_refused_in_both_purposes() {
    let mut spki = spki::SubjectPublicKeyInfoOwned::from_der(&rsa2048().spki()).unwrap();
    spki.algorithm.parameters = None;
    let spki = spki.to_der().unwrap();
    let mut root = CertSpec::new(ROOT, ROOT, rsa2048(), rsa2048(), ca_exts(None));
    root.spki = Some(spki.clone());
    let root = mint(&root);
    let mut leaf = CertSpec::new(LEAF, ROOT, p256(), rsa2048(), leaf_exts());
    leaf.serial = 3;
    let chain = vec![mint(&leaf), root.clone()];
    let e =
        path::verify_ordered(&chain, Purpose::CodeSigning, &mut Budget::new(10, 20)).unwrap_err();
    assert_eq!((e.index, e.rule), (0, Rule::UnsupportedKey));

    let mut root = CertSpec::new(TSA_ROOT, TSA_ROOT, rsa2048(), rsa2048(), ca_exts(None));
    root.spki = Some(spki);
    let root = mint(&root);
    let mut s = CertSpec::new(TSA, TSA_ROOT, p256(), rsa2048(), tsa_leaf_exts());
    s.serial = 3;
    let e = build_tsa(&[mint(&s), root], &mut Budget::new(8, 64)).unwrap_err();
    assert!(matches!(e, BuildError::Untrusted(_)), "{e:?}");
}

#[test]
fn timestamping_paths_do_not_fail_open() {
    let unknown = ext(
        ObjectIdentifier::new_unwrap("1.2.3.4.5"),
        true,
        vec![0x05, 0x00],
    );
    let nc = ext(rfc5912::ID_CE_NAME_CONSTRAINTS, true, vec![0x30, 0x00]);
    // A subjectAltName Go's parser refuses: an iPAddress ([7]) of five octets (red team M, M09).
    let san = |ip: &[u8]| {
        let mut v = vec![0x30, u8::try_from(ip.len() + 2).unwrap(), 0x87];
        v.push(u8::try_from(ip.len()).unwrap());
        v.extend_from_slice(ip);
        ext(rfc5912::ID_CE_SUBJECT_ALT_NAME, false, v)
    };
    let mut exts = ca_exts(None);
    exts.push(san(&[10, 0, 0, 1]));
    build_tsa(&tsa_chain(exts), &mut Budget::new(8, 64)).unwrap();
    // Go cannot parse the certificate at all: neither can airlock, whatever its role (red team
    // O, O07: as a signer or a trust-store root it passed).
    let mut exts = ca_exts(None);
    exts.push(san(&[10, 0, 0, 1, 2]));
    let chain = tsa_chain(exts);
    let e = Certificate::from_der(&chain[1]).err().unwrap();
    assert!(e.to_string().contains("IP address of 5 octets"), "{e}");
    let mut exts = leaf_exts();
    exts.push(ext(
        rfc5912::ID_CE_SUBJECT_ALT_NAME,
        false,
        vec![0x30, 0x04, 0x82, 0x02, b'a', 0xe9],
    ));
    let signer = mint(&CertSpec::new(LEAF, INTER, p256(), p384(), exts));
    assert!(
        Certificate::from_der(&signer).is_err(),
        "a dNSName outside IA5"
    );
    // Names Go skips unread (an x400Address, an otherName) are skipped here too (red team P, P04).
    let mut exts = leaf_exts();
    exts.push(ext(
        rfc5912::ID_CE_SUBJECT_ALT_NAME,
        false,
        vec![0x30, 0x08, 0xa3, 0x00, 0xa0, 0x02, 0x05, 0x00, 0x82, 0x00],
    ));
    cert(&mint(&CertSpec::new(LEAF, INTER, p256(), p384(), exts)));
    for (extra, want) in [
        (unknown, Rule::UnknownCriticalExtension),
        (nc, Rule::NameConstraintsUnsupported),
        (
            eku(&[rfc5912::ID_KP_CODE_SIGNING], false),
            Rule::ExtendedKeyUsageNotTimestamping,
        ),
    ] {
        let mut exts = ca_exts(None);
        exts.push(extra);
        let chain = tsa_chain(exts);
        assert_eq!(
            rule_of(build_tsa(&chain, &mut Budget::new(8, 64)).unwrap_err()),
            want
        );
        // The same CA in a code-signing view passes the extension rules (fail open), except the
        // EKU nesting, which code signing does not have either.
        rules::check_extensions(&cert(&chain[1]), Purpose::CodeSigning).unwrap();
    }
}

#[test]
fn timestamping_leaf_rules() {
    let leaf = |exts| {
        let mut s = CertSpec::new(TSA, TSA_CA, p256(), p384(), exts);
        s.serial = 3;
        cert(&mint(&s))
    };
    let ds = || ku(KeyUsage(KeyUsages::DigitalSignature.into()), false);
    rules::check(
        &leaf(vec![ds(), eku(&[rfc5912::ID_KP_TIME_STAMPING], true)]),
        Role::TimestampingLeaf,
    )
    .unwrap();
    for exts in [
        vec![ds()],
        vec![ds(), eku(&[rfc5912::ID_KP_TIME_STAMPING], false)],
        vec![
            ds(),
            eku(
                &[rfc5912::ID_KP_TIME_STAMPING, rfc5912::ID_KP_CODE_SIGNING],
                true,
            ),
        ],
    ] {
        assert_eq!(
            rules::check(&leaf(exts), Role::TimestampingLeaf)
                .unwrap_err()
                .rule,
            Rule::LeafTimestampingExtendedKeyUsage
        );
    }
    // A code-signing leaf must not carry timeStamping (and needs a critical keyUsage).
    let critical_ds = || ku(KeyUsage(KeyUsages::DigitalSignature.into()), true);
    assert_eq!(
        rules::check(
            &leaf(vec![
                critical_ds(),
                eku(&[rfc5912::ID_KP_TIME_STAMPING], true)
            ]),
            Role::CodeSigningLeaf
        )
        .unwrap_err()
        .rule,
        Rule::LeafForbiddenExtendedKeyUsage
    );
    assert_eq!(
        rules::check(
            &leaf(vec![ds(), eku(&[rfc5912::ID_KP_TIME_STAMPING], true)]),
            Role::CodeSigningLeaf
        )
        .unwrap_err()
        .rule,
        Rule::KeyUsageNotCritical
    );
}

#[test]
fn trust_store_and_crl_issuer_roles() {
    let root = cert(&mint(&CertSpec::new(
        ROOT,
        ROOT,
        p256(),
        p256(),
        ca_exts(None),
    )));
    let self_leaf = cert(&self_signed(p256())[0]);
    let issued_leaf = cert(&mint(&CertSpec::new(
        LEAF,
        ROOT,
        p256(),
        p384(),
        leaf_exts(),
    )));
    let entry = |c: &Certificate, a| rules::check(c, Role::TrustStoreEntry(a)).map_err(|v| v.rule);
    assert_eq!(entry(&root, Anchor::CaOrSelfSigned), Ok(()));
    assert_eq!(entry(&root, Anchor::RootCa), Ok(()));
    assert_eq!(entry(&self_leaf, Anchor::CaOrSelfSigned), Ok(()));
    assert_eq!(
        entry(&self_leaf, Anchor::RootCa),
        Err(Rule::CaBasicConstraints)
    );
    assert_eq!(
        entry(&issued_leaf, Anchor::CaOrSelfSigned),
        Err(Rule::NotCaOrSelfSigned)
    );
    // CRL issuer: keyUsage, when present, must allow cRLSign.
    rules::check(&root, Role::CrlIssuer).unwrap();
    let no_crl_sign = cert(&mint(&CertSpec::new(
        ROOT,
        ROOT,
        p256(),
        p256(),
        vec![
            bc(true, None, true),
            ku(KeyUsage(KeyUsages::KeyCertSign.into()), true),
        ],
    )));
    assert_eq!(
        rules::check(&no_crl_sign, Role::CrlIssuer)
            .unwrap_err()
            .rule,
        Rule::CrlSignMissing
    );
    let no_ku = cert(&mint(&CertSpec::new(
        ROOT,
        ROOT,
        p256(),
        p256(),
        vec![bc(true, None, true)],
    )));
    rules::check(&no_ku, Role::CrlIssuer).unwrap();
}

#[test]
fn budgets_bound_both_validators() {
    // Ordered: a three-certificate chain needs 3 signature checks (two links, the root).
    let chain = three_chain(p256(), p384(), rsa2048());
    path::verify_ordered(&chain, Purpose::CodeSigning, &mut Budget::new(10, 3)).unwrap();
    let e =
        path::verify_ordered(&chain, Purpose::CodeSigning, &mut Budget::new(10, 2)).unwrap_err();
    assert_eq!(e.rule, Rule::TooManySignatureChecks);
    let e =
        path::verify_ordered(&chain, Purpose::CodeSigning, &mut Budget::new(2, 20)).unwrap_err();
    assert_eq!(e.rule, Rule::TooLong);
    // Built: leaf->CA, CA->root, root self-signed: 3 checks; a path of 3 certificates.
    let tsa = tsa_chain(ca_exts(None));
    assert_eq!(build_tsa(&tsa, &mut Budget::new(8, 3)), Ok(3));
    assert!(matches!(
        build_tsa(&tsa, &mut Budget::new(8, 2)),
        Err(BuildError::BudgetExceeded(b)) if b.limit == 2
    ));
    assert!(matches!(
        build_tsa(&tsa, &mut Budget::new(2, 64)),
        Err(BuildError::Untrusted(_))
    ));
}

#[test]
fn verified_path_checks_validity() {
    let chain = three_chain(p256(), p384(), rsa2048());
    let p = path::verify_ordered(&chain, Purpose::CodeSigning, &mut Budget::new(10, 20)).unwrap();
    assert_eq!(p.purpose(), Purpose::CodeSigning);
    assert_eq!(p.leaf().unwrap().der(), chain[0].as_slice());
    p.check_validity(ValidityTime::At(T2020)).unwrap();
    assert_eq!(
        p.check_validity(ValidityTime::At(T2020 - 1))
            .unwrap_err()
            .rule,
        Rule::NotYetValid
    );
    assert_eq!(
        p.check_validity(ValidityTime::Range {
            lower: T2024,
            upper: T2040 + 1
        })
        .unwrap_err()
        .rule,
        Rule::Expired
    );
    // A built path is checked at its instant: one second before the leaf is valid fails.
    let tsa = tsa_chain(ca_exts(None));
    let certs: Vec<Certificate> = tsa.iter().map(|d| cert(d)).collect();
    let e = path::build(
        &certs[0],
        &certs,
        &certs[2..],
        Instant::from_secs(T2020 - 1),
        Purpose::Timestamping,
        &mut Budget::new(8, 64),
    )
    .unwrap_err();
    assert_eq!(rule_of(e), Rule::NotYetValid);
}

/// Red team N, N01: a certificate whose issuer or subject holds an attribute value Go's
/// `crypto/x509` refuses (a PrintableString with `@`, a VisibleString, a BMPString surrogate) is
/// one notation cannot parse: it fails here at parse time (an integrity failure in a signing chain,
/// `truststore_invalid` in a store, a timestamp failure in a TSA chain), not in the identity match
/// alone.
#[test]
fn a_name_go_cannot_read_makes_the_certificate_unparseable() {
    let (good, at) = marked_leaf();
    cert(&good);
    assert_eq!(good[at - 2..at], [0x0c, 11], "a UTF8String CN");
    let patched = |tag: u8, value: &[u8]| {
        let mut d = good.clone();
        d[at - 2] = tag;
        d[at..at + 11].copy_from_slice(value);
        d
    };
    // The same bytes re-tagged as Go reads them still parse (the signature is another matter).
    cert(&patched(0x13, b"signer-acme"));
    cert(&patched(0x14, b"signer\xfcacme"));
    for (tag, value, why) in [
        (0x13, &b"signer@acme"[..], "invalid PrintableString"),
        (0x13, b"signer_acme", "invalid PrintableString"),
        (0x0c, b"signer\xffacme", "invalid UTF-8"),
        (0x16, b"signer\x80acme", "invalid IA5String"),
        (0x1a, b"signerXacme", "unsupported string type"),
    ] {
        let e = Certificate::from_der(&patched(tag, value))
            .err()
            .unwrap_or_else(|| panic!("{why}: parsed"));
        assert!(e.to_string().contains(why), "{e}");
        assert!(e.to_string().contains("subject attribute 2.5.4.3"), "{e}");
    }
    // A UniversalString the DER reader already refuses.
    assert!(Certificate::from_der(&patched(0x1c, b"signerXacme")).is_err());
}

/// Red team M, M09: a negative serial number (RFC 5280 4.1.2.2: positive) makes the certificate
/// one Go cannot parse.
#[test]
fn a_negative_serial_makes_the_certificate_unparseable() {
    let good = mint(&CertSpec::new(LEAF, INTER, p256(), p384(), leaf_exts()));
    let c = cert(&good);
    // tbsCertificate: [0] { INTEGER 2 } then the serial INTEGER.
    let at = good
        .windows(5)
        .position(|w| w == [0xa0, 0x03, 0x02, 0x01, 0x02])
        .unwrap()
        + 5;
    assert_eq!(good[at], 0x02);
    let first = at + 2;
    assert_eq!(&good[first..first + c.serial().len()], c.serial());
    let mut negative = good.clone();
    negative[first] |= 0x80;
    let e = Certificate::from_der(&negative).err().unwrap();
    assert!(e.to_string().contains("negative serial"), "{e}");
}

/// Red team O, O08: names print their string values, whatever string type carries them, and an
/// ordinary name prints as x509-cert prints it.
#[test]
fn names_print_their_strings() {
    let (good, at) = marked_leaf();
    let c = cert(&good);
    assert_eq!(
        c.subject_string(),
        c.decoded().tbs_certificate.subject.to_string()
    );

    let mut t61 = good.clone();
    t61[at - 2] = 0x14;
    t61[at + 6] = 0xe9;
    let c = cert(&t61);
    assert!(
        c.subject_string().contains("CN=signer\u{e9}acme"),
        "{}",
        c.subject_string()
    );
    assert!(!c.subject_string().contains('#'), "{}", c.subject_string());
}

/// Red team P, P03: Go reads an object identifier's arcs as 31-bit integers; a certificate or
/// token with a larger arc is one notation cannot parse.
#[test]
fn object_identifier_arcs_past_31_bits_are_refused() {
    use super::cert::oid_beyond_go;
    let oid = |arc: &[u8]| {
        let mut v = vec![0x06, u8::try_from(arc.len() + 1).unwrap(), 0x2a];
        v.extend_from_slice(arc);
        let mut seq = vec![0x30, u8::try_from(v.len()).unwrap()];
        seq.extend_from_slice(&v);
        seq
    };
    assert_eq!(
        oid_beyond_go(&oid(&[0x87, 0xff, 0xff, 0xff, 0x7f])),
        None,
        "2^31 - 1"
    );
    assert!(
        oid_beyond_go(&oid(&[0x88, 0x80, 0x80, 0x80, 0x00])).is_some(),
        "2^31"
    );
    assert!(oid_beyond_go(&oid(&[0x81, 0x80, 0x80, 0x80, 0x80, 0x00])).is_some());
    // Nested in constructed values, not inside an OCTET STRING.
    let mut nested = vec![0x30, 0x0a];
    nested.extend_from_slice(&oid(&[0x88, 0x80, 0x80, 0x80, 0x00]));
    assert!(oid_beyond_go(&nested).is_some());
    let mut wrapped = vec![0x04, 0x0a];
    wrapped.extend_from_slice(&oid(&[0x88, 0x80, 0x80, 0x80, 0x00]));
    assert_eq!(oid_beyond_go(&wrapped), None);
    // Every real certificate minted here passes.
    let good = mint(&CertSpec::new(LEAF, INTER, p256(), p384(), leaf_exts()));
    assert_eq!(oid_beyond_go(&good), None);
}

/// A leaf whose subject CN is `signerXacme` (a UTF8String), and where those 11 bytes start in its
/// DER: the tests re-tag and rewrite them in place.
fn marked_leaf() -> (Vec<u8>, usize) {
    let good = mint(&CertSpec::new(
        "CN=signerXacme,O=acme,C=US",
        INTER,
        p256(),
        p384(),
        leaf_exts(),
    ));
    let at = good.windows(11).position(|w| w == b"signerXacme").unwrap();
    (good, at)
}
