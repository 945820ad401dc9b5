//! The CRL matrix: scope (IssuingDistributionPoint against the certificate's distribution
//! points), currency, critical extensions, entries, and `captured_from`.

use der::Encode;
use rcgen::{CrlIssuingDistributionPoint, CrlScope, RevocationReason};
use x509_cert::ext::pkix::crl::dp::Reasons;
use x509_cert::ext::pkix::name::GeneralName;

use super::builder::{
    dps_der, idp, odd_dp_der, Entry, HOLD, KEY_COMPROMISE, OID_CERT_ISSUER, OID_CRL_NUMBER,
    OID_UNKNOWN, REMOVE,
};
use super::*;

const OTHER: &str = "http://crl.example/other.crl";
const A: &str = "http://crl.example/a.crl";
const B: &str = "http://crl.example/b.crl";

fn rcgen_idp(uri: &str, scope: Option<CrlScope>) -> Option<CrlIssuingDistributionPoint> {
    Some(crate::testkit::pki::crl_idp(uri, scope))
}

fn key_compromise(serial: u64) -> RevokedCertParams {
    revoke(serial, Some(RevocationReason::KeyCompromise), None)
}

// ---- partitions -------------------------------------------------------------------------------

#[test]
fn an_idp_naming_the_uri_covers_it() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    ok(&check(
        &chain,
        &[crl_idp(&pki, 1, -2, 5, rcgen_idp(URI, None), vec![])],
    ));
    let listed = crl_idp(
        &pki,
        1,
        -2,
        5,
        rcgen_idp(URI, None),
        vec![key_compromise(7)],
    );
    assert!(revoked(&check(&chain, &[listed])).contains("keyCompromise"));
}

#[test]
fn an_idp_naming_another_uri_does_not_cover_it() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let other = crl_idp(&pki, 1, -2, 5, rcgen_idp(OTHER, None), vec![]);
    let why = unknown(&check(&chain, std::slice::from_ref(&other)));
    assert!(
        why.contains(&format!("no current CRL covers {URI}")),
        "{why}"
    );
    assert!(
        why.contains(&format!(
            "CRL {} is scoped to {OTHER} (IssuingDistributionPoint)",
            other.digest()
        )),
        "{why}"
    );
}

#[test]
fn an_arl_never_covers_a_leaf_and_covers_a_ca() {
    let root = ca("Root");
    let int = sub_ca(&root, "Int", 3, &[A]);
    let l = leaf_at(&int, 7, &[URI], vec![]);
    let chain = [l, int.ca.clone(), root.ca.clone()];
    let leaf_crl = crl_idp(&int, 1, -2, 5, rcgen_idp(URI, None), vec![]);
    // The root's ARL covers the intermediate.
    let arl = crl_idp(
        &root,
        1,
        -2,
        5,
        rcgen_idp(A, Some(CrlScope::CaCertsOnly)),
        vec![],
    );
    ok(&check(&chain, &[leaf_crl.clone(), arl]));
    let arl_listing = crl_idp(
        &root,
        2,
        -2,
        5,
        rcgen_idp(A, Some(CrlScope::CaCertsOnly)),
        vec![key_compromise(3)],
    );
    let why = revoked(&check(&chain, &[leaf_crl, arl_listing]));
    assert!(why.contains("CN=Int"), "{why}");
    // An ARL of the intermediate, naming the leaf's URI, is no CRL for the leaf.
    let int_arl = crl_idp(
        &int,
        1,
        -2,
        5,
        rcgen_idp(URI, Some(CrlScope::CaCertsOnly)),
        vec![],
    );
    let why = unknown(&check(
        &chain2(&int, leaf_at(&int, 7, &[URI], vec![])),
        &[int_arl],
    ));
    assert!(why.contains("onlyContainsCACerts"), "{why}");
}

#[test]
fn a_user_certs_only_crl_never_covers_a_ca() {
    let root = ca("Root");
    let int = sub_ca(&root, "Int", 3, &[A]);
    let chain = [
        leaf_at(&int, 7, &[URI], vec![]),
        int.ca.clone(),
        root.ca.clone(),
    ];
    let leaf_crl = crl_idp(&int, 1, -2, 5, rcgen_idp(URI, None), vec![]);
    let user_only = crl_idp(
        &root,
        1,
        -2,
        5,
        rcgen_idp(A, Some(CrlScope::UserCertsOnly)),
        vec![],
    );
    let st = check(&chain, &[leaf_crl.clone(), user_only]);
    assert_eq!(st.certs[0].status, Status::Good);
    let why = unknown(&st);
    assert!(
        why.contains("CN=Int") && why.contains("onlyContainsUserCerts"),
        "{why}"
    );
    // The same scope, user certificates only, does cover the leaf.
    let leaf_user_only = crl_idp(
        &int,
        1,
        -2,
        5,
        rcgen_idp(URI, Some(CrlScope::UserCertsOnly)),
        vec![],
    );
    ok(&check(
        &chain2(&int, leaf_at(&int, 7, &[URI], vec![])),
        &[leaf_user_only],
    ));
}

#[test]
fn two_uris_on_one_certificate_both_need_a_crl() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf_at(&pki, 7, &[A, B], vec![]));
    let crl_a = crl_idp(&pki, 1, -2, 5, rcgen_idp(A, None), vec![]);
    let crl_b = crl_idp(&pki, 4, -2, 5, rcgen_idp(B, None), vec![]);
    let why = unknown(&check(&chain, std::slice::from_ref(&crl_a)));
    assert!(why.contains(&format!("no current CRL covers {B}")), "{why}");
    assert!(!why.contains(&format!("covers {A}")), "{why}");
    let st = check(&chain, &[crl_a.clone(), crl_b]);
    ok(&st);
    let scopes: Vec<&str> = st.certs[0].crls.iter().map(|u| u.scope.as_str()).collect();
    assert_eq!(scopes, [A, B]);
    // Revoked in one of them: revoked.
    let crl_b = crl_idp(&pki, 4, -2, 5, rcgen_idp(B, None), vec![key_compromise(7)]);
    revoked(&check(&chain, &[crl_a, crl_b]));
    // A complete CRL covers both.
    ok(&check(&chain, &[crl(&pki, 1, -2, 5, vec![])]));
    // Two distribution points (one URI each) behave the same.
    let two_dps = CustomExtension::from_oid_content(&[2, 5, 29, 31], dps_der(&[A, B]));
    let chain = chain2(&pki, leaf_at(&pki, 7, &[], vec![two_dps]));
    let crl_a = crl_idp(&pki, 1, -2, 5, rcgen_idp(A, None), vec![]);
    assert!(unknown(&check(&chain, &[crl_a])).contains(B));
}

#[test]
fn the_newest_crl_of_one_scope_lifts_a_hold() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let hold = revoke(7, Some(RevocationReason::CertificateHold), None);
    let held = crl_idp(&pki, 1, -3, 5, rcgen_idp(URI, None), vec![hold.clone()]);
    let lifted = crl_idp(&pki, 2, -1, 5, rcgen_idp(URI, None), vec![]);
    ok(&check(&chain, &[held.clone(), lifted.clone()]));
    ok(&check(&chain, &[lifted.clone(), held.clone()]));
    // A newer hold over an older clean CRL: on hold.
    let clean = crl_idp(&pki, 1, -3, 5, rcgen_idp(URI, None), vec![]);
    let held2 = crl_idp(&pki, 2, -1, 5, rcgen_idp(URI, None), vec![hold]);
    assert!(revoked(&check(&chain, &[held2, clean])).contains("hold"));
    // Without CRL numbers the latest thisUpdate decides.
    let held = pki
        .spec()
        .no_number()
        .window(-3, Some(5))
        .entry(Entry::new(7).reason(HOLD))
        .build();
    let lifted = pki.spec().no_number().window(-1, Some(5)).build();
    ok(&check(&chain, &[held, lifted]));
}

#[test]
fn a_crl_of_another_scope_cannot_lift_a_hold() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let hold = revoke(7, Some(RevocationReason::CertificateHold), None);
    let held = crl_idp(&pki, 1, -3, 5, rcgen_idp(URI, None), vec![hold]);
    let other = crl_idp(&pki, 9, -1, 5, rcgen_idp(OTHER, None), vec![]);
    assert!(revoked(&check(&chain, &[held, other])).contains("hold"));
}

#[test]
fn a_complete_and_a_scoped_crl_disagreeing_revoked_wins() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    // The complete CRL is newer and does not list it; the scoped one revoked it for good.
    let complete = crl(&pki, 5, -1, 5, vec![]);
    let scoped = crl_idp(
        &pki,
        1,
        -3,
        5,
        rcgen_idp(URI, None),
        vec![key_compromise(7)],
    );
    let st = check(&chain, &[complete.clone(), scoped.clone()]);
    revoked(&st);
    let digests: Vec<&str> = st.certs[0].crls.iter().map(|u| u.digest.as_str()).collect();
    assert!(digests.contains(&scoped.digest()), "{st:?}");
    // And the other way round.
    let complete = crl(&pki, 1, -3, 5, vec![key_compromise(7)]);
    let scoped = crl_idp(&pki, 5, -1, 5, rcgen_idp(URI, None), vec![]);
    revoked(&check(&chain, &[scoped, complete]));
}

#[test]
fn a_real_revocation_in_an_older_crl_of_the_same_scope_is_not_cleared() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let old = crl(&pki, 1, -3, 5, vec![key_compromise(7)]);
    let new = crl(&pki, 2, -1, 5, vec![]);
    revoked(&check(&chain, &[new, old]));
}

// ---- currency -----------------------------------------------------------------------------------

#[test]
fn currency_needs_next_update_and_is_inclusive() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let no_next = pki.spec().window(-2, None).build();
    assert!(!no_next.is_current(T0));
    assert!(unknown(&check(&chain, &[no_next])).contains("has no nextUpdate"));
    let c = pki.spec().window(-2, Some(1)).build();
    assert!(
        c.is_current(T0 + DAY),
        "nextUpdate itself is current (notation: now.After)"
    );
    assert!(!c.is_current(T0 + DAY + 1));
    assert!(!c.is_current(T0 - 2 * DAY - 1));
    ok(&check_at(&chain, std::slice::from_ref(&c), T0 + DAY, None));
    let why = unknown(&check_at(&chain, &[c], T0 + DAY + 1, None));
    assert!(why.contains("is not current"), "{why}");
    let future = pki.spec().window(1, Some(5)).build();
    assert!(unknown(&check(&chain, &[future])).contains("is not current"));
}

// ---- CRL extensions -----------------------------------------------------------------------------

#[test]
fn an_unknown_critical_crl_extension_makes_it_unusable_a_non_critical_one_does_not() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let critical = pki.spec().ext(OID_UNKNOWN, true, vec![0x05, 0x00]).build();
    assert_eq!(critical.unknown_critical_extension(), Some(OID_UNKNOWN));
    let why = unknown(&check(&chain, &[critical]));
    assert!(
        why.contains("unknown critical extension 1.3.6.1.4.1.99999.1"),
        "{why}"
    );
    let plain = pki.spec().ext(OID_UNKNOWN, false, vec![0x05, 0x00]).build();
    ok(&check(&chain, &[plain]));
    // A critical CRLNumber is not one notation knows as critical either.
    let crit_number = pki
        .spec()
        .no_number()
        .ext(OID_CRL_NUMBER, true, vec![0x02, 0x01, 0x01])
        .build();
    unknown(&check(&chain, &[crit_number]));
}

#[test]
fn a_critical_idp_is_known() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let c = pki.spec().idp_critical(idp(&[URI]), true).build();
    assert_eq!(c.unknown_critical_extension(), None);
    ok(&check(&chain, &[c]));
    let c = pki
        .spec()
        .idp_critical(idp(&[URI]), true)
        .entry(Entry::new(7).reason(KEY_COMPROMISE))
        .build();
    revoked(&check(&chain, &[c]));
}

#[test]
fn only_some_reasons_indirect_and_attribute_crls_do_not_apply() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let mut some = idp(&[URI]);
    some.only_some_reasons = Some(Reasons::KeyCompromise | Reasons::CaCompromise);
    let why = unknown(&check(&chain, &[pki.spec().idp(some).build()]));
    assert!(why.contains("onlySomeReasons"), "{why}");
    let mut indirect = idp(&[URI]);
    indirect.indirect_crl = true;
    let why = unknown(&check(&chain, &[pki.spec().idp(indirect).build()]));
    assert!(why.contains("indirectCRL"), "{why}");
    let mut attr = idp(&[URI]);
    attr.only_contains_attribute_certs = true;
    let why = unknown(&check(&chain, &[pki.spec().idp(attr).build()]));
    assert!(why.contains("onlyContainsAttributeCerts"), "{why}");
}

// ---- entries ------------------------------------------------------------------------------------

#[test]
fn an_unknown_critical_entry_extension_is_unknown() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let c = pki
        .spec()
        .entry(
            Entry::new(7)
                .reason(HOLD)
                .ext(OID_UNKNOWN, true, vec![0x05, 0x00]),
        )
        .build();
    let why = unknown(&check(&chain, &[c]));
    assert!(why.contains("unknown critical extension"), "{why}");
    // Non-critical: ignored.
    let c = pki
        .spec()
        .entry(
            Entry::new(7)
                .reason(KEY_COMPROMISE)
                .ext(OID_UNKNOWN, false, vec![0x05, 0x00]),
        )
        .build();
    revoked(&check(&chain, &[c]));
    // A critical holdInstructionCode is known.
    let hold_none = const_oid::ObjectIdentifier::new_unwrap("1.2.840.10040.2.1")
        .to_der()
        .unwrap();
    let c = pki
        .spec()
        .entry(Entry::new(7).reason(HOLD).ext(
            const_oid::ObjectIdentifier::new_unwrap("2.5.29.23"),
            true,
            hold_none,
        ))
        .build();
    assert!(revoked(&check(&chain, &[c])).contains("hold"));
    // An unknown critical extension on another serial's entry does not matter.
    let c = pki
        .spec()
        .entry(Entry::new(99).ext(OID_UNKNOWN, true, vec![0x05, 0x00]))
        .build();
    ok(&check(&chain, &[c]));
    // A malformed reason code is not read as "no reason".
    let c = pki
        .spec()
        .entry(Entry::new(7).ext(builder::OID_REASON, false, vec![0x02, 0x01, 0x01]))
        .build();
    assert!(unknown(&check(&chain, &[c])).contains("malformed reasonCode"));
}

#[test]
fn a_certificate_issuer_entry_is_unknown() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let names = vec![GeneralName::DirectoryName(
        pki.ca.decoded().tbs_certificate.subject.clone(),
    )]
    .to_der()
    .unwrap();
    let c = pki
        .spec()
        .entry(Entry::new(7).ext(OID_CERT_ISSUER, true, names.clone()))
        .build();
    assert!(unknown(&check(&chain, &[c])).contains("certificateIssuer"));
    // An earlier entry switching the issuer makes a later entry for the serial uninterpretable.
    let c = pki
        .spec()
        .entry(Entry::new(99).ext(OID_CERT_ISSUER, true, names.clone()))
        .entry(Entry::new(7).reason(KEY_COMPROMISE))
        .build();
    assert!(unknown(&check(&chain, &[c])).contains("certificateIssuer"));
    // Not listed at all: good.
    let c = pki
        .spec()
        .entry(Entry::new(99).ext(OID_CERT_ISSUER, true, names))
        .build();
    ok(&check(&chain, &[c]));
}

#[test]
fn remove_from_crl_is_not_listed() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    ok(&check(
        &chain,
        &[pki.spec().entry(Entry::new(7).reason(REMOVE)).build()],
    ));
}

#[test]
fn the_invalidity_date_exception_holds_across_crls() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let listed = Entry::new(7).reason(KEY_COMPROMISE).invalidity(-3);
    let scoped = pki.spec().idp(idp(&[URI])).entry(listed).build();
    let complete = pki.spec().number(4).build();
    let crls = [scoped, complete];
    ok(&check_at(&chain, &crls, T0, Some(T0 - 10 * DAY)));
    revoked(&check_at(&chain, &crls, T0, Some(T0 - DAY)));
    revoked(&check(&chain, &crls));
}

// ---- distribution points of the certificate -----------------------------------------------------

#[test]
fn distribution_points_with_crl_issuer_or_reasons_are_unknown() {
    let pki = ca("CA");
    let complete = crl(&pki, 1, -2, 5, vec![]);
    let reasons = Some(Reasons::KeyCompromise.into());
    let issuer = Some(pki.ca.decoded().tbs_certificate.subject.clone());
    for (dp, what) in [
        (odd_dp_der(URI, reasons, None, &[A]), "reasons"),
        (odd_dp_der(URI, None, issuer, &[A]), "cRLIssuer"),
    ] {
        let ext = CustomExtension::from_oid_content(&[2, 5, 29, 31], dp);
        let chain = chain2(&pki, leaf_at(&pki, 7, &[], vec![ext]));
        let why = unknown(&check(&chain, std::slice::from_ref(&complete)));
        assert!(why.contains(what) && why.contains(URI), "{why}");
        // Revoked at the supported distribution point still wins over unknown.
        revoked(&check(
            &chain,
            &[crl(&pki, 2, -1, 5, vec![key_compromise(7)])],
        ));
    }
}

#[test]
fn an_issuer_without_crl_sign_is_not_trusted_for_crls() {
    let key = KeyPair::generate().unwrap();
    let key_der = key.serialize_der();
    let mut p = crate::testkit::pki::params(crate::testkit::pki::cn("CA"), at(-365), at(365));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let cert = p.self_signed(&key).unwrap();
    let pki = Pki {
        ca: Certificate::from_der(cert.der()).unwrap(),
        issuer: Issuer::new(p, key),
        key_der,
    };
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let why = unknown(&check(&chain, &[pki.spec().build()]));
    assert!(why.contains("cRLSign"), "{why}");
}

// ---- captured_from ------------------------------------------------------------------------------

#[test]
fn captured_from_binds_an_idp_without_a_distribution_point_name() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let nameless = pki.spec().idp(idp(&[])).build();
    let why = unknown(&check_chain(
        &chain,
        &[CrlInput::new(nameless.clone())],
        T0,
        None,
    ));
    assert!(why.contains("names no distribution point"), "{why}");
    ok(&check_chain(
        &chain,
        &[CrlInput::captured(nameless.clone(), URI.into())],
        T0,
        None,
    ));
    unknown(&check_chain(
        &chain,
        &[CrlInput::captured(nameless, OTHER.into())],
        T0,
        None,
    ));
    let listing = pki
        .spec()
        .idp(idp(&[]))
        .entry(Entry::new(7).reason(KEY_COMPROMISE))
        .build();
    revoked(&check_chain(
        &chain,
        &[CrlInput::captured(listing, URI.into())],
        T0,
        None,
    ));
    // An IDP naming other URIs is not rebound by where it was captured.
    let elsewhere = pki.spec().idp(idp(&[OTHER])).build();
    let why = unknown(&check_chain(
        &chain,
        &[CrlInput::captured(elsewhere, URI.into())],
        T0,
        None,
    ));
    assert!(why.contains(&format!("is scoped to {OTHER}")), "{why}");
}
