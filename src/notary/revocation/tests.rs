use crate::notary::x509::Certificate;
use rcgen::{
    BasicConstraints, CertificateRevocationListParams, CustomExtension, IsCa, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams, SerialNumber,
};

use super::*;
use crate::testkit::pki;

mod builder;
mod delta;
mod matrix;
mod regressions;

use builder::{Build, CrlSpec};

/// 2026-01-01T00:00:00Z (every fixture is minted around this fixed time) and one day, the kit's.
use crate::testkit::crl::{DAY, T0};
/// The distribution point of the default test leaf.
const URI: &str = "http://crl.example/ca.crl";

use crate::testkit::pki::t0_days as at;

struct Pki {
    ca: Certificate,
    issuer: Issuer<'static, KeyPair>,
    key_der: Vec<u8>,
}

impl Pki {
    /// A CRL of this CA, minted by the test builder (defaults in [`CrlSpec::new`]).
    fn spec(&self) -> CrlSpec {
        CrlSpec::new(
            self.ca.decoded().tbs_certificate.subject.clone(),
            self.key_der.clone(),
        )
    }
}

fn ca(name: &str) -> Pki {
    let key = KeyPair::generate().unwrap();
    let key_der = key.serialize_der();
    let mut p = pki::params(pki::cn(name), at(-365), at(365));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = p.self_signed(&key).unwrap();
    Pki {
        ca: Certificate::from_der(cert.der()).unwrap(),
        issuer: Issuer::new(p, key),
        key_der,
    }
}

/// An intermediate CA issued by `parent`, whose one distribution point names `uris`.
fn sub_ca(parent: &Pki, name: &str, serial: u64, uris: &[&str]) -> Pki {
    let key = KeyPair::generate().unwrap();
    let key_der = key.serialize_der();
    let mut p = pki::params(pki::cn(name), at(-300), at(300));
    p.serial_number = Some(SerialNumber::from(serial));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.crl_distribution_points = pki::crl_dps(uris);
    let cert = p.signed_by(&key, &parent.issuer).unwrap();
    Pki {
        ca: Certificate::from_der(cert.der()).unwrap(),
        issuer: Issuer::new(p, key),
        key_der,
    }
}

/// The chain `leaf, ca`.
fn chain2(pki: &Pki, l: Certificate) -> [Certificate; 2] {
    [l, pki.ca.clone()]
}

fn leaf(pki: &Pki, serial: u64, cdp: bool, extra: Vec<CustomExtension>) -> Certificate {
    leaf_at(pki, serial, if cdp { &[URI] } else { &[] }, extra)
}

/// A leaf whose one distribution point names `uris` (none: no CRLDistributionPoints).
fn leaf_at(pki: &Pki, serial: u64, uris: &[&str], extra: Vec<CustomExtension>) -> Certificate {
    let key = KeyPair::generate().unwrap();
    let mut p = pki::params(pki::cn(&format!("leaf {serial}")), at(-30), at(30));
    p.serial_number = Some(SerialNumber::from(serial));
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.crl_distribution_points = pki::crl_dps(uris);
    p.custom_extensions = extra;
    Certificate::from_der(p.signed_by(&key, &pki.issuer).unwrap().der()).unwrap()
}

/// Evaluates `chain` at T0 with no authentic signing time, every CRL given without a capture URI.
fn check(chain: &[Certificate], crls: &[Crl]) -> ChainStatus {
    check_at(chain, crls, T0, None)
}

/// As [`check`], at `at` and with an authentic signing time.
fn check_at(chain: &[Certificate], crls: &[Crl], at: i64, signing: Option<i64>) -> ChainStatus {
    let inputs: Vec<CrlInput> = crls.iter().cloned().map(CrlInput::new).collect();
    check_chain(chain, &inputs, at, signing)
}

fn crl(pki: &Pki, number: u64, this: i64, next: i64, revoked: Vec<RevokedCertParams>) -> Crl {
    crl_idp(pki, number, this, next, None, revoked)
}

/// An rcgen CRL with an IssuingDistributionPoint.
fn crl_idp(
    pki: &Pki,
    number: u64,
    this: i64,
    next: i64,
    idp: Option<rcgen::CrlIssuingDistributionPoint>,
    revoked: Vec<RevokedCertParams>,
) -> Crl {
    let p = CertificateRevocationListParams {
        this_update: at(this),
        next_update: at(next),
        crl_number: SerialNumber::from(number),
        issuing_distribution_point: idp,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Crl::from_der(p.signed_by(&pki.issuer).unwrap().der()).unwrap()
}

fn revoke(
    serial: u64,
    reason: Option<RevocationReason>,
    invalidity: Option<i64>,
) -> RevokedCertParams {
    RevokedCertParams {
        serial_number: SerialNumber::from(serial),
        revocation_time: at(-1),
        reason_code: reason,
        invalidity_date: invalidity.map(at),
    }
}

#[test]
fn good_when_a_current_crl_does_not_list_the_leaf() {
    let pki = ca("CA");
    let l = leaf(&pki, 7, true, vec![]);
    let crls = [crl(&pki, 1, -2, 5, vec![revoke(99, None, None)])];
    let st = check(&[l, pki.ca.clone()], &crls);
    assert_eq!(st.certs[0].status, Status::Good);
    assert_eq!(
        st.certs[1].status,
        Status::NonRevokable,
        "the root is never checked"
    );
    assert_eq!(st.overall(), Overall::Ok);
}

#[test]
fn revoked_when_listed() {
    let pki = ca("CA");
    let l = leaf(&pki, 7, true, vec![]);
    let crls = [crl(
        &pki,
        1,
        -2,
        5,
        vec![revoke(7, Some(RevocationReason::KeyCompromise), None)],
    )];
    let st = check(&[l, pki.ca.clone()], &crls);
    assert!(matches!(st.overall(), Overall::Revoked(_)), "{st:?}");
}

#[test]
fn unknown_without_a_crl_or_with_an_expired_or_future_one() {
    let pki = ca("CA");
    let l = leaf(&pki, 7, true, vec![]);
    let chain = [l, pki.ca.clone()];
    assert!(matches!(check(&chain, &[]).overall(), Overall::Unknown(_)));
    let expired = [crl(&pki, 1, -10, -1, vec![])];
    assert!(matches!(
        check(&chain, &expired).overall(),
        Overall::Unknown(_)
    ));
    let future = [crl(&pki, 1, 2, 10, vec![])];
    assert!(matches!(
        check(&chain, &future).overall(),
        Overall::Unknown(_)
    ));
}

#[test]
fn a_crl_signed_by_another_key_with_the_same_name_is_not_used() {
    let pki = ca("CA");
    let impostor = ca("CA");
    let l = leaf(&pki, 7, true, vec![]);
    let crls = [crl(&impostor, 1, -2, 5, vec![])];
    let st = check(&[l, pki.ca.clone()], &crls);
    match st.overall() {
        Overall::Unknown(why) => assert!(why.contains("does not verify"), "{why}"),
        o => panic!("{o:?}"),
    }
}

#[test]
fn the_newest_current_crl_wins() {
    let pki = ca("CA");
    let l = leaf(&pki, 7, true, vec![]);
    let old = crl(&pki, 1, -5, 5, vec![]);
    let new = crl(&pki, 2, -1, 5, vec![revoke(7, None, None)]);
    let st = check(&[l, pki.ca.clone()], &[old, new]);
    assert!(matches!(st.overall(), Overall::Revoked(_)));
}

#[test]
fn no_distribution_point_is_non_revokable_and_ocsp_only_is_unknown() {
    let pki = ca("CA");
    let plain = leaf(&pki, 7, false, vec![]);
    assert_eq!(check(&[plain, pki.ca.clone()], &[]).overall(), Overall::Ok);
    // AuthorityInfoAccess with one OCSP URL: SEQUENCE { SEQUENCE { id-ad-ocsp, [6] "http://o" } }
    let aia = vec![
        0x30, 0x18, 0x30, 0x16, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x86,
        0x0a,
    ]
    .into_iter()
    .chain(*b"http://o.x")
    .collect::<Vec<u8>>();
    let ocsp = leaf(
        &pki,
        8,
        false,
        vec![CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 5, 5, 7, 1, 1],
            aia,
        )],
    );
    let st = check(&[ocsp, pki.ca.clone()], &[]);
    match st.overall() {
        Overall::Unknown(why) => assert!(why.contains("OCSP"), "{why}"),
        o => panic!("{o:?}"),
    }
}

#[test]
fn freshest_crl_without_a_delta_is_unknown() {
    let pki = ca("CA");
    // FreshestCRL with one URI: SEQUENCE { SEQUENCE { [0] { [0] { [6] "http://d" } } } }
    let ext = vec![0x30, 0x0e, 0x30, 0x0c, 0xa0, 0x0a, 0xa0, 0x08, 0x86, 0x06]
        .into_iter()
        .chain(*b"http:/")
        .collect::<Vec<u8>>();
    let l = leaf(
        &pki,
        7,
        true,
        vec![CustomExtension::from_oid_content(&[2, 5, 29, 46], ext)],
    );
    let crls = [crl(&pki, 1, -2, 5, vec![])];
    match check(&[l, pki.ca.clone()], &crls).overall() {
        Overall::Unknown(why) => assert!(why.contains("delta"), "{why}"),
        o => panic!("{o:?}"),
    }
}

#[test]
fn invalidity_date_after_an_authentic_signing_time_is_not_revoked() {
    let pki = ca("CA");
    let l = leaf(&pki, 7, true, vec![]);
    let crls = [crl(
        &pki,
        1,
        -2,
        5,
        vec![revoke(7, Some(RevocationReason::KeyCompromise), Some(-3))],
    )];
    let chain = [l, pki.ca.clone()];
    let signed_before = T0 - 10 * 86_400;
    let signed_after = T0 - 86_400;
    assert_eq!(
        check_at(&chain, &crls, T0, Some(signed_before)).overall(),
        Overall::Ok
    );
    assert!(matches!(
        check_at(&chain, &crls, T0, Some(signed_after)).overall(),
        Overall::Revoked(_)
    ));
    // Without an authentic signing time (notary.x509), any entry revokes.
    assert!(matches!(
        check(&chain, &crls).overall(),
        Overall::Revoked(_)
    ));
}

#[test]
fn hold_is_revoked() {
    let pki = ca("CA");
    let l = leaf(&pki, 7, true, vec![]);
    let crls = [crl(
        &pki,
        1,
        -2,
        5,
        vec![revoke(7, Some(RevocationReason::CertificateHold), None)],
    )];
    match check(&[l, pki.ca.clone()], &crls).overall() {
        Overall::Revoked(why) => assert!(why.contains("hold"), "{why}"),
        o => panic!("{o:?}"),
    }
}

#[test]
fn pem_and_der_files_parse_and_garbage_does_not() {
    let pki = ca("CA");
    let c = crl(&pki, 1, -2, 5, vec![]);
    let der = c.der().to_vec();
    assert_eq!(Crl::parse_file(&der).unwrap().len(), 1);
    let b64 = crate::testkit::b64::pem("X509 CRL", &der);
    let two = format!("{b64}{b64}");
    assert_eq!(Crl::parse_file(two.as_bytes()).unwrap().len(), 2);
    assert!(Crl::parse_file(b"garbage").is_err());
    assert!(Crl::parse_file(&der[..der.len() - 3]).is_err());
    assert_eq!(c.issuer(), "CN=CA");
}

/// The overall Unknown message, or a panic showing what came instead.
fn unknown(st: &ChainStatus) -> String {
    match st.overall() {
        Overall::Unknown(why) => why,
        o => panic!("expected unknown, got {o:?}: {st:?}"),
    }
}

/// The overall Revoked message, or a panic showing what came instead.
fn revoked(st: &ChainStatus) -> String {
    match st.overall() {
        Overall::Revoked(why) => why,
        o => panic!("expected revoked, got {o:?}: {st:?}"),
    }
}

/// Asserts the chain is OK.
fn ok(st: &ChainStatus) {
    assert_eq!(st.overall(), Overall::Ok, "{st:?}");
}

#[test]
fn a_crl_whose_entry_does_not_decode_is_malformed_and_one_that_does_is_read_lazily() {
    let pki = ca("lazy entries");
    let p = CertificateRevocationListParams {
        this_update: at(-1),
        next_update: at(5),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![
            revoke(0x7171, Some(RevocationReason::KeyCompromise), None),
            revoke(0x7272, None, None),
        ],
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let der = p.signed_by(&pki.issuer).unwrap().der().to_vec();
    let good = Crl::from_der(&der).unwrap();
    let serials: Vec<Vec<u8>> = good
        .entries()
        .map(|e| e.unwrap().serial_number.as_bytes().to_vec())
        .collect();
    assert_eq!(serials, vec![vec![0x71, 0x71], vec![0x72, 0x72]]);
    // The second entry's serial INTEGER re-tagged as an OCTET STRING: every length still holds,
    // only that entry fails to decode. Parsing refuses the CRL, as decoding it whole did.
    let at_serial = der
        .windows(4)
        .position(|w| w == [0x02, 0x02, 0x72, 0x72])
        .unwrap();
    let mut bad = der.clone();
    bad[at_serial] = 0x04;
    assert!(matches!(Crl::from_der(&bad), Err(CrlError::Malformed(_))));
    // Bytes after the CRL: refused too.
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(matches!(
        Crl::from_der(&trailing),
        Err(CrlError::Malformed(_))
    ));
}
