//! The five bugs of the CRL evaluation before scopes (errata 14-16), one test each.

use rcgen::{CrlScope, RevocationReason};

use super::builder::{idp, Entry, KEY_COMPROMISE};
use super::*;

use crate::testkit::pki::crl_idp as rcgen_idp;

/// A current CRL of another partition with a higher number used to win over the CRL that covers
/// the leaf's distribution point and lists it.
#[test]
fn regression_other_partition_with_a_higher_number_cannot_clear() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let listed = revoke(7, Some(RevocationReason::KeyCompromise), None);
    let scoped = crl_idp(
        &pki,
        1,
        -2,
        5,
        Some(rcgen_idp(URI, None)),
        vec![listed.clone()],
    );
    let complete = crl(&pki, 1, -2, 5, vec![listed]);
    let other = crl_idp(
        &pki,
        9,
        -1,
        5,
        Some(rcgen_idp("http://crl.example/other.crl", None)),
        vec![],
    );
    for base in [scoped, complete] {
        let st = check(&chain, &[base, other.clone()]);
        assert!(matches!(st.overall(), Overall::Revoked(_)), "{st:?}");
    }
}

/// An authority revocation list (CA certificates only) alone made a leaf good.
#[test]
fn regression_an_arl_alone_does_not_make_a_leaf_good() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let arl = crl_idp(
        &pki,
        1,
        -2,
        5,
        Some(rcgen_idp(URI, Some(CrlScope::CaCertsOnly))),
        vec![],
    );
    let st = check(&chain, &[arl]);
    assert!(matches!(st.overall(), Overall::Unknown(_)), "{st:?}");
}

/// A CRL without nextUpdate was current forever.
#[test]
fn regression_a_crl_without_next_update_is_not_current() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let c = pki.spec().window(-2, None).build();
    let st = check(&chain, &[c]);
    match st.overall() {
        Overall::Unknown(why) => assert!(why.contains("nextUpdate"), "{why}"),
        o => panic!("{o:?}"),
    }
}

/// A CRL with an unknown critical extension was used.
#[test]
fn regression_a_crl_with_an_unknown_critical_extension_is_not_used() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let c = pki
        .spec()
        .ext(builder::OID_UNKNOWN, true, vec![0x05, 0x00])
        .build();
    let st = check(&chain, &[c]);
    match st.overall() {
        Overall::Unknown(why) => assert!(why.contains("critical"), "{why}"),
        o => panic!("{o:?}"),
    }
}

/// A delta CRL named by the base CRL's FreshestCRL was ignored when the leaf itself names none.
#[test]
fn regression_a_delta_named_by_the_base_crl_is_applied() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let delta_uri = "http://crl.example/delta.crl";
    let base = pki.spec().number(1).freshest(&[delta_uri]).build();
    let delta = pki
        .spec()
        .number(2)
        .delta_of(1)
        .idp(idp(&[delta_uri]))
        .entry(Entry::new(7).reason(KEY_COMPROMISE))
        .build();
    let st = check(&chain, &[base, delta]);
    assert!(matches!(st.overall(), Overall::Revoked(_)), "{st:?}");
}
