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

/// Red team N, N04: CRL numbers were compared across scopes. A complete CRL numbered 5, two days
/// old and without an entry, was taken as newer than the distribution point's CRL numbered 3 (its
/// own numbering), an hour old, that puts the leaf on hold, and lifted the hold. A complete-scope
/// delta's `removeFromCRL` did the same to a scoped base's hold.
#[test]
fn regression_a_crl_of_another_scope_cannot_lift_a_hold() {
    use super::builder::{Build, HOLD, REMOVE};
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let held = pki
        .spec()
        .number(3)
        .window(-1, Some(30))
        .idp(idp(&[URI]))
        .entry(Entry::new(7).reason(HOLD))
        .build();
    let complete = pki.spec().number(5).window(-2, Some(30)).build();
    assert!(revoked(&check(&chain, std::slice::from_ref(&held))).contains("hold"));
    for order in [
        [held.clone(), complete.clone()],
        [complete.clone(), held.clone()],
    ] {
        let why = revoked(&check(&chain, &order));
        assert!(why.contains("hold") && why.contains(held.digest()), "{why}");
    }
    // A newer CRL of the same scope still lifts it.
    let lifted = pki
        .spec()
        .number(4)
        .window(-1, Some(30))
        .idp(idp(&[URI]))
        .build();
    ok(&check(&chain, &[held.clone(), lifted]));
    // The delta variant: the scoped base names a delta, and a delta of the complete scope
    // (no IDP) removing the entry is not that delta.
    const FRESH: &str = "http://crl.example/delta.crl";
    let held_base = pki
        .spec()
        .number(3)
        .window(-1, Some(30))
        .idp(idp(&[URI]))
        .freshest(&[FRESH])
        .entry(Entry::new(7).reason(HOLD))
        .build();
    let stray_delta = pki
        .spec()
        .number(4)
        .delta_of(3)
        .window(-1, Some(30))
        .entry(Entry::new(7).reason(REMOVE))
        .build();
    let why = unknown(&check(&chain, &[held_base.clone(), stray_delta]));
    assert!(why.contains("complete CRL"), "{why}");
    let own_delta = pki
        .spec()
        .number(4)
        .delta_of(3)
        .window(-1, Some(30))
        .idp(idp(&[FRESH]))
        .entry(Entry::new(7).reason(REMOVE))
        .build();
    ok(&check(&chain, &[held_base, own_delta]));
}
