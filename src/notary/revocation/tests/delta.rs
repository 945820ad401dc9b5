//! Delta CRLs named by the base CRL's FreshestCRL (erratum 16), the CrlUse report, and the JSON
//! form of a certificate's status.

use super::builder::{dps_der, idp, Entry, HOLD, KEY_COMPROMISE, REMOVE};
use super::*;

const DELTA: &str = "http://crl.example/delta.crl";

fn base(pki: &Pki) -> CrlSpec {
    pki.spec().number(10).freshest(&[DELTA])
}

fn delta(pki: &Pki, number: u64) -> CrlSpec {
    pki.spec().number(number).delta_of(10).idp(idp(&[DELTA]))
}

#[test]
fn an_entry_only_in_the_delta_revokes() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let d = delta(&pki, 11)
        .entry(Entry::new(7).reason(KEY_COMPROMISE))
        .build();
    let why = revoked(&check(&chain, &[base(&pki).build(), d.clone()]));
    assert!(why.contains(d.digest()), "{why}");
    // Without the entry the pair is good.
    ok(&check(
        &chain,
        &[base(&pki).build(), delta(&pki, 11).build()],
    ));
}

#[test]
fn remove_from_crl_in_the_delta_lifts_a_base_hold_but_not_a_revocation() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let held = base(&pki).entry(Entry::new(7).reason(HOLD)).build();
    let lift = delta(&pki, 11).entry(Entry::new(7).reason(REMOVE)).build();
    ok(&check(&chain, &[held.clone(), lift.clone()]));
    // The base's hold stands with a delta that does not mention it.
    assert!(revoked(&check(&chain, &[held, delta(&pki, 11).build()])).contains("hold"));
    // A hold placed by the delta.
    let hold = delta(&pki, 11).entry(Entry::new(7).reason(HOLD)).build();
    assert!(revoked(&check(&chain, &[base(&pki).build(), hold])).contains("hold"));
    // removeFromCRL cannot clear a real revocation.
    let gone = base(&pki)
        .entry(Entry::new(7).reason(KEY_COMPROMISE))
        .build();
    revoked(&check(&chain, &[gone, lift]));
}

#[test]
fn the_newest_applicable_delta_wins() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let held = base(&pki).entry(Entry::new(7).reason(HOLD)).build();
    let still = delta(&pki, 11).entry(Entry::new(7).reason(HOLD)).build();
    let lift = delta(&pki, 12).entry(Entry::new(7).reason(REMOVE)).build();
    ok(&check(&chain, &[still.clone(), held.clone(), lift.clone()]));
    let held_again = delta(&pki, 13).entry(Entry::new(7).reason(HOLD)).build();
    revoked(&check(&chain, &[held, lift, held_again]));
}

#[test]
fn a_base_naming_a_missing_delta_is_unknown() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let why = unknown(&check(&chain, &[base(&pki).build()]));
    assert!(
        why.contains(&format!(
            "names a delta CRL at {DELTA} and none at hand applies"
        )),
        "{why}"
    );
    // An expired delta is as good as none.
    let stale = delta(&pki, 11).window(-9, Some(-1)).build();
    let why = unknown(&check(&chain, &[base(&pki).build(), stale]));
    assert!(why.contains("is not current"), "{why}");
}

#[test]
fn a_delta_that_does_not_extend_the_base_is_unknown() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    // DeltaCRLIndicator beyond the base's number.
    let ahead = pki
        .spec()
        .number(12)
        .delta_of(11)
        .idp(idp(&[DELTA]))
        .build();
    let why = unknown(&check(&chain, &[base(&pki).build(), ahead]));
    assert!(
        why.contains("needs base CRL number 11, beyond the base's 10"),
        "{why}"
    );
    // Its own number not above the base's.
    let behind = pki.spec().number(10).delta_of(9).idp(idp(&[DELTA])).build();
    let why = unknown(&check(&chain, &[base(&pki).build(), behind]));
    assert!(why.contains("is not greater than the base's 10"), "{why}");
    // An indicator below the base's number is fine.
    let older_base = pki.spec().number(12).delta_of(8).idp(idp(&[DELTA])).build();
    ok(&check(&chain, &[base(&pki).build(), older_base]));
}

#[test]
fn a_delta_out_of_the_base_scope_does_not_apply() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let stray = pki
        .spec()
        .number(11)
        .delta_of(10)
        .idp(idp(&["http://crl.example/stray.crl"]))
        .build();
    let why = unknown(&check(&chain, &[base(&pki).build(), stray]));
    assert!(
        why.contains("is scoped to http://crl.example/stray.crl"),
        "{why}"
    );
    // Without IDP (a delta of the complete CRL, as this base is): applies.
    ok(&check(
        &chain,
        &[
            base(&pki).build(),
            pki.spec().number(11).delta_of(10).build(),
        ],
    ));
    // One naming the certificate's own URI is a delta of that distribution point's scope: it
    // updates a base scoped to that URI, never the complete CRL (red team N, N04).
    let own = pki.spec().number(11).delta_of(10).idp(idp(&[URI])).build();
    let why = unknown(&check(&chain, &[base(&pki).build(), own.clone()]));
    assert!(why.contains("is scoped to"), "{why}");
    let scoped_base = base(&pki).idp(idp(&[URI])).build();
    ok(&check(&chain, &[scoped_base.clone(), own]));
    // ... and a delta of the complete CRL never updates a scoped base.
    let complete_delta = pki.spec().number(11).delta_of(10).build();
    let why = unknown(&check(&chain, &[scoped_base, complete_delta]));
    assert!(why.contains("complete CRL"), "{why}");
    // An IDP without a name applies when captured from the base's FreshestCRL location only.
    let nameless = pki.spec().number(11).delta_of(10).idp(idp(&[])).build();
    let b = CrlInput::new(base(&pki).build());
    unknown(&check_chain(
        &chain,
        &[b.clone(), CrlInput::captured(nameless.clone(), URI.into())],
        T0,
        None,
    ));
    ok(&check_chain(
        &chain,
        &[b, CrlInput::captured(nameless, DELTA.into())],
        T0,
        None,
    ));
    // A delta is never a base: alone it covers nothing.
    let d = pki.spec().number(11).delta_of(10).build();
    unknown(&check(&chain, &[d]));
}

#[test]
fn freshest_crl_in_the_certificate_needs_the_base_to_name_a_delta() {
    let pki = ca("CA");
    let ext = CustomExtension::from_oid_content(&[2, 5, 29, 46], dps_der(&[DELTA]));
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![ext]));
    let plain = pki.spec().build();
    let why = unknown(&check(&chain, &[plain.clone(), delta(&pki, 11).build()]));
    assert!(
        why.contains("freshest CRL from certificate extension is not supported"),
        "{why}"
    );
    // Base and certificate both name it: supported.
    ok(&check(
        &chain,
        &[base(&pki).build(), delta(&pki, 11).build()],
    ));
    // A listing in the plain base still revokes.
    let listing = pki
        .spec()
        .entry(Entry::new(7).reason(KEY_COMPROMISE))
        .build();
    revoked(&check(&chain, &[listing]));
}

#[test]
fn crl_use_reports_issuer_number_scope_delta_and_digest() {
    let pki = ca("Report CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let b = base(&pki).build();
    let d = delta(&pki, 11).build();
    let st = check(&chain, &[b.clone(), d.clone()]);
    ok(&st);
    assert_eq!(
        st.certs[0].crls,
        vec![
            CrlUse {
                issuer: "CN=Report CA".into(),
                number: Some("10".into()),
                scope: URI.into(),
                delta: false,
                digest: crate::digest::Digest::sha256(b.der()).to_string(),
            },
            CrlUse {
                issuer: "CN=Report CA".into(),
                number: Some("11".into()),
                scope: URI.into(),
                delta: true,
                digest: d.digest().to_string(),
            },
        ]
    );
    assert!(st.certs[1].crls.is_empty(), "the root uses no CRL");
    assert_eq!(st.certs[0].subject, "CN=leaf 7");
    // A complete CRL without a number is reported with the URI it was used for.
    let st = check(&chain, &[pki.spec().no_number().build()]);
    assert_eq!(st.certs[0].crls.len(), 1);
    assert_eq!(st.certs[0].crls[0].number, None);
    assert_eq!(st.certs[0].crls[0].scope, URI);
}

#[test]
fn crl_numbers_print_in_decimal_up_to_u128_then_hex() {
    assert_eq!(number_text(&[0x01, 0x00]), "256");
    assert_eq!(number_text(&[0xff; 16]), u128::MAX.to_string());
    assert_eq!(number_text(&[0x00, 0x01, 0xff]), "511");
    let mut big = vec![0x01];
    big.extend([0u8; 16]);
    assert_eq!(number_text(&big), format!("0x01{}", "00".repeat(16)));
}

#[test]
fn cert_status_serializes_flat() {
    let pki = ca("CA");
    let chain = chain2(&pki, leaf(&pki, 7, true, vec![]));
    let c = pki
        .spec()
        .entry(Entry::new(7).reason(KEY_COMPROMISE))
        .build();
    let st = check(&chain, std::slice::from_ref(&c));
    let json = serde_json::to_value(&st).unwrap();
    let leaf = &json["certs"][0];
    assert_eq!(leaf["subject"], "CN=leaf 7");
    assert_eq!(leaf["status"], "revoked");
    assert!(leaf["reason"].as_str().unwrap().contains("keyCompromise"));
    assert_eq!(leaf["crls"][0]["scope"], URI);
    assert_eq!(leaf["crls"][0]["digest"], c.digest());
    assert_eq!(leaf["crls"][0]["delta"], false);
    assert_eq!(leaf["crls"][0]["number"], "1");
    assert_eq!(
        json["certs"][1],
        serde_json::json!({"subject": "CN=CA", "status": "nonRevokable", "crls": []})
    );
    assert_eq!(
        serde_json::to_value(Status::Good).unwrap(),
        serde_json::json!({"status": "good"})
    );
    assert_eq!(
        serde_json::to_value(Status::Unknown("x".into())).unwrap(),
        serde_json::json!({"status": "unknown", "reason": "x"})
    );
}
