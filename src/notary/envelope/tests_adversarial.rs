//! Adversarial envelope tests: envelopes minted in-test (aws-lc-rs keys, x509-cert-built
//! certificates) and corpus envelopes mutated in memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use coset::cbor::value::Value;
use serde_json::json;

use super::test_support::*;
use super::*;
use crate::notary::chain::ChainRule;
use crate::notary::crypto::SignatureAlgorithm as Alg;

fn jws_ok(protected: &serde_json::Map<String, serde_json::Value>) -> Vec<u8> {
    jws(
        protected,
        PAYLOAD.as_bytes(),
        &self_signed(rsa2048()),
        rsa2048(),
        Alg::Ps256,
    )
}

fn reason(bytes: &[u8], media_type: &str) -> (&'static str, &'static str) {
    let e = Envelope::parse(media_type, bytes)
        .and_then(|env| env.verify_integrity())
        .unwrap_err();
    (e.code(), e.reason())
}

fn jws_reason(bytes: &[u8]) -> (&'static str, &'static str) {
    reason(bytes, MEDIA_TYPE_JWS)
}

fn cose_reason(bytes: &[u8]) -> (&'static str, &'static str) {
    reason(bytes, MEDIA_TYPE_COSE)
}

// ---------------------------------------------------------------- JWS, minted

#[test]
fn minted_jws_verifies_and_exposes_fields() {
    let chain = self_signed(rsa2048());
    let bytes = jws(
        &jws_protected(Alg::Ps256),
        PAYLOAD.as_bytes(),
        &chain,
        rsa2048(),
        Alg::Ps256,
    );
    let env = Envelope::parse(MEDIA_TYPE_JWS, &bytes).unwrap();
    let validated = env.verify().unwrap();
    assert_eq!(validated.certificates().len(), 1);
    assert_eq!(env.format(), EnvelopeFormat::Jws);
    assert_eq!(env.algorithm(), Alg::Ps256);
    assert_eq!(env.signing_scheme(), SigningScheme::X509);
    assert_eq!(env.signing_time(), Some(T2024));
    assert_eq!(env.effective_signing_time(), T2024);
    assert_eq!(env.expiry(), None);
    assert_eq!(env.signing_agent(), Some("test/1.0"));
    assert_eq!(env.certificate_chain(), chain.as_slice());
    assert_eq!(env.payload(), PAYLOAD.as_bytes());
    assert!(env.parse_payload().unwrap().matches(
        "application/vnd.oci.image.manifest.v1+json",
        "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
        517
    ));
    env.check_expiry(i64::MAX).unwrap();
}

#[test]
fn jws_ecdsa_all_curves_with_chain() {
    for (key, alg) in [
        (p256(), Alg::Es256),
        (p384(), Alg::Es384),
        (p521(), Alg::Es512),
    ] {
        let chain = three_chain(key, p384(), rsa2048());
        let bytes = jws(&jws_protected(alg), PAYLOAD.as_bytes(), &chain, key, alg);
        let env = Envelope::parse(MEDIA_TYPE_JWS, &bytes).unwrap();
        env.verify_integrity().unwrap();
        assert_eq!(env.certificate_chain().len(), 3);
    }
}

#[test]
fn jws_tampered_payload_fails() {
    let bytes = jws_ok(&jws_protected(Alg::Ps256));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let tampered = PAYLOAD.replace("\"size\":517", "\"size\":518");
    v["payload"] = URL_SAFE_NO_PAD.encode(tampered).into();
    let out = serde_json::to_vec(&v).unwrap();
    assert_eq!(jws_reason(&out), ("integrity", "bad_signature"));
}

#[test]
fn jws_tampered_protected_header_fails() {
    let bytes = jws_ok(&jws_protected(Alg::Ps256));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let mut h = jws_protected(Alg::Ps256);
    h.insert(HEADER_SIGNING_TIME.into(), "2024-01-02T00:00:00Z".into());
    v["protected"] = URL_SAFE_NO_PAD
        .encode(serde_json::to_string(&h).unwrap())
        .into();
    assert_eq!(
        jws_reason(&serde_json::to_vec(&v).unwrap()),
        ("integrity", "bad_signature")
    );
}

#[test]
fn jws_tampered_signature_fails() {
    let bytes = jws_ok(&jws_protected(Alg::Ps256));
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let mut sig = URL_SAFE_NO_PAD
        .decode(v["signature"].as_str().unwrap())
        .unwrap();
    sig[10] ^= 1;
    v["signature"] = URL_SAFE_NO_PAD.encode(sig).into();
    assert_eq!(
        jws_reason(&serde_json::to_vec(&v).unwrap()),
        ("integrity", "bad_signature")
    );
}

#[test]
fn jws_alg_key_mismatch_ps256_with_rsa3072() {
    // Genuinely signed with PS256 by an RSA-3072 key: only the alg/key rule catches it.
    let chain = self_signed(rsa3072());
    let bytes = jws(
        &jws_protected(Alg::Ps256),
        PAYLOAD.as_bytes(),
        &chain,
        rsa3072(),
        Alg::Ps256,
    );
    let e = Envelope::parse(MEDIA_TYPE_JWS, &bytes)
        .unwrap()
        .verify_integrity()
        .unwrap_err();
    assert_eq!(
        e,
        EnvelopeError::AlgorithmKeyMismatch {
            header: Alg::Ps256,
            key: crate::notary::crypto::KeySpec::Rsa3072,
            expected: Alg::Ps384,
        }
    );
    assert_eq!(e.category(), crate::notary::reason::Validation::Integrity);
    // The matching algorithm passes.
    let ok = jws(
        &jws_protected(Alg::Ps384),
        PAYLOAD.as_bytes(),
        &chain,
        rsa3072(),
        Alg::Ps384,
    );
    Envelope::parse(MEDIA_TYPE_JWS, &ok)
        .unwrap()
        .verify_integrity()
        .unwrap();
}

#[test]
fn jws_es256_header_with_p384_key_rejected() {
    let chain = self_signed(p384());
    let bytes = jws(
        &jws_protected(Alg::Es256),
        PAYLOAD.as_bytes(),
        &chain,
        p384(),
        Alg::Es384,
    );
    assert_eq!(jws_reason(&bytes), ("integrity", "algorithm_key_mismatch"));
}

#[test]
fn jws_unsupported_algs_rejected() {
    for alg in ["none", "HS256", "RS256", "EdDSA", "ps256"] {
        let mut h = jws_protected(Alg::Ps256);
        h.insert("alg".into(), alg.into());
        assert_eq!(
            jws_reason(&jws_ok(&h)),
            ("integrity", "unsupported_algorithm"),
            "{alg}"
        );
    }
}

#[test]
fn jws_unknown_critical_label_rejected() {
    let mut h = jws_protected(Alg::Ps256);
    h.insert(
        "crit".into(),
        json!([HEADER_SIGNING_SCHEME, "com.example.mustUnderstand"]),
    );
    h.insert("com.example.mustUnderstand".into(), "x".into());
    let bytes = jws_ok(&h);
    let env = Envelope::parse(MEDIA_TYPE_JWS, &bytes).unwrap();
    let attr = &env.extended_attributes()[0];
    assert!(attr.critical);
    assert_eq!(
        env.verify_integrity().unwrap_err(),
        EnvelopeError::UnknownCriticalAttribute("com.example.mustUnderstand".into())
    );
    // The same attribute, not critical, is just carried along.
    h.insert("crit".into(), json!([HEADER_SIGNING_SCHEME]));
    let env = Envelope::parse(MEDIA_TYPE_JWS, &jws_ok(&h)).unwrap();
    env.verify_integrity().unwrap();
    assert!(!env.extended_attributes()[0].critical);
    // A critical verificationPluginMinVersion without a plugin named (red team M, M08): a plugin
    // requirement this verifier cannot honour; not critical, it is carried along.
    let mut h = jws_protected(Alg::Ps256);
    h.insert(
        "crit".into(),
        json!([
            HEADER_SIGNING_SCHEME,
            HEADER_VERIFICATION_PLUGIN_MIN_VERSION
        ]),
    );
    h.insert(
        HEADER_VERIFICATION_PLUGIN_MIN_VERSION.into(),
        "1.0.0".into(),
    );
    let env = Envelope::parse(MEDIA_TYPE_JWS, &jws_ok(&h)).unwrap();
    assert_eq!(
        env.verify_integrity().unwrap_err(),
        EnvelopeError::UnknownCriticalAttribute(HEADER_VERIFICATION_PLUGIN_MIN_VERSION.into())
    );
    h.insert("crit".into(), json!([HEADER_SIGNING_SCHEME]));
    Envelope::parse(MEDIA_TYPE_JWS, &jws_ok(&h))
        .unwrap()
        .verify_integrity()
        .unwrap();
}

#[test]
fn jws_crit_rules() {
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (json!([]), "invalid_critical"),
        (json!("io.cncf.notary.signingScheme"), "invalid_critical"),
        (json!([HEADER_SIGNING_SCHEME, 5]), "invalid_critical"),
        (
            json!([HEADER_SIGNING_SCHEME, "absent.label"]),
            "invalid_critical",
        ),
        (
            json!([HEADER_SIGNING_SCHEME, HEADER_SIGNING_SCHEME]),
            "invalid_critical",
        ),
        (json!([HEADER_SIGNING_SCHEME, "alg"]), "invalid_critical"),
        (json!(["io.cncf.notary.signingTime"]), "not_marked_critical"),
    ];
    for (crit, want) in cases {
        let mut h = jws_protected(Alg::Ps256);
        h.insert("crit".into(), crit.clone());
        assert_eq!(jws_reason(&jws_ok(&h)), ("integrity", want), "{crit}");
    }
    let mut h = jws_protected(Alg::Ps256);
    h.remove("crit");
    assert_eq!(jws_reason(&jws_ok(&h)), ("integrity", "invalid_critical"));
}

#[test]
fn jws_signing_scheme_time_rules() {
    // notary.x509 without signingTime.
    let mut h = jws_protected(Alg::Ps256);
    h.remove(HEADER_SIGNING_TIME);
    assert_eq!(jws_reason(&jws_ok(&h)), ("integrity", "missing_header"));
    // notary.x509 with authenticSigningTime.
    let mut h = jws_protected(Alg::Ps256);
    h.insert(
        HEADER_AUTHENTIC_SIGNING_TIME.into(),
        "2024-01-01T00:00:00Z".into(),
    );
    assert_eq!(jws_reason(&jws_ok(&h)), ("integrity", "unexpected_header"));
    // signingAuthority: needs authenticSigningTime, critical, and no signingTime.
    let mut h = jws_protected(Alg::Ps256);
    h.insert(
        HEADER_SIGNING_SCHEME.into(),
        "notary.x509.signingAuthority".into(),
    );
    assert_eq!(jws_reason(&jws_ok(&h)), ("integrity", "unexpected_header"));
    h.remove(HEADER_SIGNING_TIME);
    assert_eq!(jws_reason(&jws_ok(&h)), ("integrity", "missing_header"));
    h.insert(
        HEADER_AUTHENTIC_SIGNING_TIME.into(),
        "2024-01-01T00:00:00Z".into(),
    );
    assert_eq!(
        jws_reason(&jws_ok(&h)),
        ("integrity", "not_marked_critical")
    );
    h.insert(
        "crit".into(),
        json!([HEADER_SIGNING_SCHEME, HEADER_AUTHENTIC_SIGNING_TIME]),
    );
    let env = Envelope::parse(MEDIA_TYPE_JWS, &jws_ok(&h)).unwrap();
    env.verify_integrity().unwrap();
    assert_eq!(env.signing_scheme(), SigningScheme::X509SigningAuthority);
    assert_eq!(env.authentic_signing_time(), Some(T2024));
    assert_eq!(env.signing_time(), None);
    // Unknown scheme.
    let mut h = jws_protected(Alg::Ps256);
    h.insert(HEADER_SIGNING_SCHEME.into(), "notary.x509.other".into());
    assert_eq!(
        jws_reason(&jws_ok(&h)),
        ("integrity", "unsupported_signing_scheme")
    );
    // Bad time formats.
    for bad in [
        json!("2024-01-01"),
        json!(1704067200),
        json!("2024-01-01T00:00:00"),
    ] {
        let mut h = jws_protected(Alg::Ps256);
        h.insert(HEADER_SIGNING_TIME.into(), bad.clone());
        let (code, _) = jws_reason(&jws_ok(&h));
        assert_eq!(code, "integrity", "{bad}");
    }
}

#[test]
fn jws_expiry_rules() {
    let mut h = jws_protected(Alg::Ps256);
    h.insert(HEADER_EXPIRY.into(), "2025-01-01T00:00:00Z".into());
    assert_eq!(
        jws_reason(&jws_ok(&h)),
        ("integrity", "not_marked_critical")
    );
    h.insert("crit".into(), json!([HEADER_SIGNING_SCHEME, HEADER_EXPIRY]));
    let env = Envelope::parse(MEDIA_TYPE_JWS, &jws_ok(&h)).unwrap();
    env.verify_integrity().unwrap();
    let expiry = parse_rfc3339("2025-01-01T00:00:00Z").unwrap();
    assert_eq!(env.expiry(), Some(expiry));
    env.check_expiry(expiry - 1).unwrap();
    let e = env.check_expiry(expiry).unwrap_err();
    assert_eq!((e.code(), e.reason()), ("expiry", "expired"));
    // expiry == signing time.
    h.insert(HEADER_EXPIRY.into(), "2024-01-01T00:00:00Z".into());
    assert_eq!(
        jws_reason(&jws_ok(&h)),
        ("integrity", "expiry_not_after_signing_time")
    );
}

#[test]
fn jws_content_type_must_be_notary_payload() {
    for cty in [json!("application/json"), json!(null), json!(3)] {
        let mut h = jws_protected(Alg::Ps256);
        h.insert("cty".into(), cty.clone());
        assert_eq!(jws_reason(&jws_ok(&h)).0, "integrity", "{cty}");
    }
    let mut h = jws_protected(Alg::Ps256);
    h.remove("cty");
    assert_eq!(jws_reason(&jws_ok(&h)), ("integrity", "missing_header"));
}

#[test]
fn jws_plugin_required_after_integrity() {
    let mut h = jws_protected(Alg::Ps256);
    h.insert(HEADER_VERIFICATION_PLUGIN.into(), "plugin-name".into());
    h.insert(
        HEADER_VERIFICATION_PLUGIN_MIN_VERSION.into(),
        "1.0.0".into(),
    );
    h.insert(
        "crit".into(),
        json!([
            HEADER_SIGNING_SCHEME,
            HEADER_VERIFICATION_PLUGIN,
            HEADER_VERIFICATION_PLUGIN_MIN_VERSION
        ]),
    );
    let bytes = jws_ok(&h);
    let e = Envelope::parse(MEDIA_TYPE_JWS, &bytes)
        .unwrap()
        .verify_integrity()
        .unwrap_err();
    assert_eq!(
        e,
        EnvelopeError::PluginRequired {
            name: "plugin-name".into(),
            min_version: Some("1.0.0".into())
        }
    );
    assert_eq!(
        e.category(),
        crate::notary::reason::Validation::PluginRequired
    );
    // A tampered plugin envelope is an integrity failure, not plugin-required.
    let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["payload"] = URL_SAFE_NO_PAD.encode(b"{}").into();
    assert_eq!(
        jws_reason(&serde_json::to_vec(&v).unwrap()),
        ("integrity", "bad_signature")
    );
}

#[test]
fn jws_duplicate_protected_names_rejected() {
    let text = format!(
        r#"{{"alg":"PS256","alg":"PS256","cty":"{PAYLOAD_MEDIA_TYPE}","crit":["{HEADER_SIGNING_SCHEME}"],"{HEADER_SIGNING_SCHEME}":"notary.x509","{HEADER_SIGNING_TIME}":"2024-01-01T00:00:00Z"}}"#
    );
    let bytes = jws_from_text(
        &text,
        PAYLOAD.as_bytes(),
        &self_signed(rsa2048()),
        rsa2048(),
        Alg::Ps256,
    );
    assert_eq!(jws_reason(&bytes), ("integrity", "malformed"));
}

/// Red team M, M07 and M04: notation decodes both JWS headers into Go structs, matching names
/// ignoring case (Unicode simple folding, the last match wins) and decoding `[]byte` fields as
/// standard base64 with line breaks skipped.
#[test]
fn jws_names_go_reads_ignoring_case_are_refused_and_wrapped_base64_is_read() {
    for (name, value) in [
        ("ALG", json!("PS256")),
        ("Cty", json!(PAYLOAD_MEDIA_TYPE)),
        ("CRIT", json!([HEADER_SIGNING_SCHEME])),
        ("IO.CNCF.NOTARY.EXPIRY", json!("2020-01-01T00:00:00Z")),
        (
            "io.cncf.notary.\u{17f}igningTime",
            json!("2020-01-01T00:00:00Z"),
        ),
        ("Io.Cncf.Notary.VerificationPlugin", json!("p")),
    ] {
        let mut p = jws_protected(Alg::Ps256);
        p.insert(name.into(), value);
        assert_eq!(
            jws_reason(&jws_ok(&p)),
            ("integrity", "malformed"),
            "{name}"
        );
    }
    // An extended attribute that no struct field matches stays one.
    let mut p = jws_protected(Alg::Ps256);
    p.insert("io.example.build".into(), json!("1"));
    Envelope::parse(MEDIA_TYPE_JWS, &jws_ok(&p))
        .unwrap()
        .verify_integrity()
        .unwrap();

    let v: serde_json::Value = serde_json::from_slice(&jws_ok(&jws_protected(Alg::Ps256))).unwrap();
    for name in ["X5C", "IO.CNCF.NOTARY.TIMESTAMPSIGNATURE"] {
        let mut w = v.clone();
        w["header"][name] = json!(["AAAA"]);
        assert_eq!(
            jws_reason(&serde_json::to_vec(&w).unwrap()),
            ("integrity", "malformed"),
            "{name}"
        );
    }
    // x5c wrapped at 64 columns, as PEM would be: Go skips the line breaks, and so does airlock.
    let mut w = v.clone();
    let wrapped: Vec<serde_json::Value> = w["header"]["x5c"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let c = c.as_str().unwrap();
            let lines: Vec<&str> = c
                .as_bytes()
                .chunks(64)
                .map(|l| std::str::from_utf8(l).unwrap())
                .collect();
            json!(lines.join("\r\n"))
        })
        .collect();
    assert!(wrapped[0].as_str().unwrap().contains('\n'));
    w["header"]["x5c"] = json!(wrapped);
    let env = Envelope::parse(MEDIA_TYPE_JWS, &serde_json::to_vec(&w).unwrap()).unwrap();
    env.verify_integrity().unwrap();
}

#[test]
fn jws_signature_over_exact_protected_text() {
    // Whitespace and key order are part of the signed bytes: a header with unusual formatting
    // verifies because the received text is used verbatim.
    let text = format!(
        "{{ \"{HEADER_SIGNING_TIME}\" : \"2024-01-01T00:00:00Z\",\n \"cty\":\"{PAYLOAD_MEDIA_TYPE}\", \"crit\":[\"{HEADER_SIGNING_SCHEME}\"], \"{HEADER_SIGNING_SCHEME}\":\"notary.x509\", \"alg\":\"PS256\" }}"
    );
    let bytes = jws_from_text(
        &text,
        PAYLOAD.as_bytes(),
        &self_signed(rsa2048()),
        rsa2048(),
        Alg::Ps256,
    );
    Envelope::parse(MEDIA_TYPE_JWS, &bytes)
        .unwrap()
        .verify_integrity()
        .unwrap();
}

#[test]
fn jws_base64_strictness() {
    let bytes = jws_ok(&jws_protected(Alg::Ps256));
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    // Padding on a base64url field, standard alphabet, and garbage are malformed.
    for field in ["payload", "protected", "signature"] {
        let mut w = v.clone();
        let s = w[field].as_str().unwrap().to_owned();
        w[field] = format!("{s}=").into();
        assert_eq!(jws_reason(&serde_json::to_vec(&w).unwrap()).0, "integrity");
        w[field] = s.replace('-', "+").replace('_', "/").into();
        if w[field] != v[field] {
            assert_eq!(jws_reason(&serde_json::to_vec(&w).unwrap()).0, "integrity");
        }
    }
    // Unknown top-level members (e.g. general-serialization `signatures`) are rejected.
    let mut w = v.clone();
    w["signatures"] = json!([]);
    assert_eq!(
        jws_reason(&serde_json::to_vec(&w).unwrap()),
        ("integrity", "malformed")
    );
    // Missing x5c.
    let mut w = v.clone();
    w["header"] = json!({});
    assert_eq!(
        jws_reason(&serde_json::to_vec(&w).unwrap()),
        ("integrity", "certificate_chain_missing")
    );
}

#[test]
fn jws_pss_any_salt_length_accepted_cose_requires_hash_length() {
    let chain = self_signed(rsa2048());
    let h = serde_json::to_string(&jws_protected(Alg::Ps256)).unwrap();
    let protected = URL_SAFE_NO_PAD.encode(&h);
    let payload = URL_SAFE_NO_PAD.encode(PAYLOAD);
    let input = format!("{protected}.{payload}");
    // emLen 256 - hLen 32 - 2 = 222 is the maximum salt for RSA-2048 / SHA-256.
    for salt in [0u16, 20, 32, 64, 222] {
        let sig = rsa2048().sign_pss256_salt(salt, input.as_bytes());
        let bytes = jws_assemble(&protected, &payload, &URL_SAFE_NO_PAD.encode(sig), &chain);
        Envelope::parse(MEDIA_TYPE_JWS, &bytes)
            .unwrap()
            .verify_integrity()
            .unwrap_or_else(|e| panic!("salt {salt}: {e}"));
    }
    // COSE: salt must equal the hash length.
    let p = cbor(&Value::Map(cose_protected_entries(Alg::Ps256)));
    for (salt, ok) in [(32u16, true), (0, false), (222, false)] {
        let tbs = cose::sig_structure(&p, PAYLOAD.as_bytes());
        let sig = rsa2048().sign_pss256_salt(salt, &tbs);
        let bytes = cose_assemble(&p, cose_unprotected(&chain), PAYLOAD.as_bytes(), &sig);
        let r = Envelope::parse(MEDIA_TYPE_COSE, &bytes)
            .unwrap()
            .verify_integrity();
        assert_eq!(r.is_ok(), ok, "COSE salt {salt}: {r:?}");
    }
}

#[test]
fn jws_wrong_chain_order_is_integrity() {
    let mut chain = three_chain(p256(), p384(), rsa2048());
    chain.swap(1, 2);
    let bytes = jws(
        &jws_protected(Alg::Es256),
        PAYLOAD.as_bytes(),
        &chain,
        p256(),
        Alg::Es256,
    );
    let e = Envelope::parse(MEDIA_TYPE_JWS, &bytes)
        .unwrap()
        .verify_integrity()
        .unwrap_err();
    match e {
        EnvelopeError::Chain(c) => {
            assert_eq!((c.index, c.rule), (0, ChainRule::NotSignedByNext));
            assert_eq!(c.category(), crate::notary::reason::Validation::Integrity);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn jws_chain_length_budget() {
    let one = self_signed(rsa2048()).remove(0);
    let chain = vec![one; crate::notary::chain::MAX_CHAIN_LEN + 1];
    let bytes = jws_ok_with_chain(&chain);
    assert_eq!(jws_reason(&bytes), ("integrity", "too_long"));
}

fn jws_ok_with_chain(chain: &[Vec<u8>]) -> Vec<u8> {
    jws(
        &jws_protected(Alg::Ps256),
        PAYLOAD.as_bytes(),
        chain,
        rsa2048(),
        Alg::Ps256,
    )
}

#[test]
fn oversized_envelope_rejected() {
    let big = vec![b' '; MAX_ENVELOPE_SIZE + 1];
    let e = Envelope::parse(MEDIA_TYPE_JWS, &big).unwrap_err();
    assert_eq!((e.code(), e.reason()), ("integrity", "too_large"));
    let e = Envelope::parse(MEDIA_TYPE_COSE, &big).unwrap_err();
    assert_eq!(e.reason(), "too_large");
    let e = Envelope::parse("application/vnd.oci.image.layer.v1.tar", b"x").unwrap_err();
    assert_eq!(
        (e.code(), e.reason()),
        ("integrity", "unsupported_media_type")
    );
}

// ---------------------------------------------------------------- COSE, minted

fn cose_default(key: &TestKey, chain: &[Vec<u8>], alg: Alg) -> Vec<u8> {
    cose(
        cose_protected_entries(alg),
        PAYLOAD.as_bytes(),
        chain,
        key,
        alg,
    )
}

#[test]
fn minted_cose_verifies_all_algorithms() {
    let rsa = self_signed(rsa2048());
    let bytes = cose_default(rsa2048(), &rsa, Alg::Ps256);
    let env = Envelope::parse(MEDIA_TYPE_COSE, &bytes).unwrap();
    env.verify_integrity().unwrap();
    assert_eq!(env.format(), EnvelopeFormat::Cose);
    assert_eq!(env.signing_time(), Some(T2024));
    assert_eq!(env.signing_agent(), Some("test/1.0"));
    for (key, alg) in [
        (p256(), Alg::Es256),
        (p384(), Alg::Es384),
        (p521(), Alg::Es512),
    ] {
        let chain = three_chain(key, rsa2048(), p521());
        let bytes = cose_default(key, &chain, alg);
        Envelope::parse(MEDIA_TYPE_COSE, &bytes)
            .unwrap()
            .verify_integrity()
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
    }
}

#[test]
fn cose_trailing_bytes_and_framing_rejected() {
    let chain = self_signed(rsa2048());
    let mut bytes = cose_default(rsa2048(), &chain, Alg::Ps256);
    bytes.push(0x00);
    assert_eq!(cose_reason(&bytes), ("integrity", "malformed"));
    // Untagged COSE_Sign1.
    let bytes = cose_default(rsa2048(), &chain, Alg::Ps256);
    assert_eq!(bytes[0], 0xd2);
    assert_eq!(cose_reason(&bytes[1..]), ("integrity", "malformed"));
    // Truncated.
    assert_eq!(
        cose_reason(&bytes[..bytes.len() - 1]),
        ("integrity", "malformed")
    );
}

#[test]
fn cose_uses_original_protected_bytes() {
    // Non-canonical key order (cty before alg): coset would re-encode alg first; the signature
    // is over the bytes as received, so it must verify.
    let mut entries = cose_protected_entries(Alg::Ps256);
    entries.swap(0, 2);
    let chain = self_signed(rsa2048());
    let p = cbor(&Value::Map(entries));
    let reencoded = {
        use coset::CborSerializable as _;
        coset::Header::from_slice(&p).unwrap().to_vec().unwrap()
    };
    assert_ne!(
        p, reencoded,
        "test needs a header whose re-encoding differs"
    );
    let bytes = cose_from_parts(
        &p,
        cose_unprotected(&chain),
        PAYLOAD.as_bytes(),
        rsa2048(),
        Alg::Ps256,
    );
    let env = Envelope::parse(MEDIA_TYPE_COSE, &bytes).unwrap();
    env.verify_integrity().unwrap();
    assert_eq!(
        env.signed_message(),
        cose::sig_structure(&p, PAYLOAD.as_bytes())
    );
    // Signing over the re-encoded header instead must fail.
    let tbs = cose::sig_structure(&reencoded, PAYLOAD.as_bytes());
    let sig = rsa2048().sign_envelope(Alg::Ps256, &tbs);
    let bad = cose_assemble(&p, cose_unprotected(&chain), PAYLOAD.as_bytes(), &sig);
    assert_eq!(cose_reason(&bad), ("integrity", "bad_signature"));
}

#[test]
fn cose_tampered_payload_and_header_fail() {
    let chain = self_signed(rsa2048());
    let p = cbor(&Value::Map(cose_protected_entries(Alg::Ps256)));
    let tbs = cose::sig_structure(&p, PAYLOAD.as_bytes());
    let sig = rsa2048().sign_envelope(Alg::Ps256, &tbs);
    let tampered_payload = PAYLOAD.replace("517", "518");
    let bad = cose_assemble(
        &p,
        cose_unprotected(&chain),
        tampered_payload.as_bytes(),
        &sig,
    );
    assert_eq!(cose_reason(&bad), ("integrity", "bad_signature"));
    let mut entries = cose_protected_entries(Alg::Ps256);
    entries[4].1 = tag1(T2024 + 1);
    let p2 = cbor(&Value::Map(entries));
    let bad = cose_assemble(&p2, cose_unprotected(&chain), PAYLOAD.as_bytes(), &sig);
    assert_eq!(cose_reason(&bad), ("integrity", "bad_signature"));
}

#[test]
fn cose_header_rules() {
    let chain = self_signed(rsa2048());
    let run = |entries: Vec<(Value, Value)>| {
        cose_reason(&cose(
            entries,
            PAYLOAD.as_bytes(),
            &chain,
            rsa2048(),
            Alg::Ps256,
        ))
    };
    // Missing signingTime.
    let mut e = cose_protected_entries(Alg::Ps256);
    e.remove(4);
    assert_eq!(run(e), ("integrity", "missing_header"));
    // Untagged and tag-0 times.
    for v in [
        Value::Integer(T2024.into()),
        Value::Tag(0, Box::new(Value::Text("2024-01-01T00:00:00Z".into()))),
        Value::Tag(1, Box::new(Value::Text("x".into()))),
    ] {
        let mut e = cose_protected_entries(Alg::Ps256);
        e[4].1 = v;
        assert_eq!(run(e), ("integrity", "invalid_time"));
    }
    // Unsupported alg (EdDSA -8) and text alg.
    let mut e = cose_protected_entries(Alg::Ps256);
    e[0].1 = Value::Integer((-8).into());
    assert_eq!(run(e), ("integrity", "unsupported_algorithm"));
    // cty as an integer.
    let mut e = cose_protected_entries(Alg::Ps256);
    e[2].1 = Value::Integer(50.into());
    assert_eq!(run(e), ("integrity", "invalid_content_type"));
    // crit listing a core label, an absent label, or missing.
    let mut e = cose_protected_entries(Alg::Ps256);
    e[1].1 = Value::Array(vec![
        Value::Text(HEADER_SIGNING_SCHEME.into()),
        Value::Integer(1.into()),
    ]);
    assert_eq!(run(e), ("integrity", "invalid_critical"));
    let mut e = cose_protected_entries(Alg::Ps256);
    e[1].1 = Value::Array(vec![
        Value::Text(HEADER_SIGNING_SCHEME.into()),
        Value::Text("absent".into()),
    ]);
    assert_eq!(run(e), ("integrity", "invalid_critical"));
    let mut e = cose_protected_entries(Alg::Ps256);
    e.remove(1);
    assert_eq!(run(e), ("integrity", "invalid_critical"));
    // Unknown critical attribute (text and integer labels).
    let mut e = cose_protected_entries(Alg::Ps256);
    e[1].1 = Value::Array(vec![
        Value::Text(HEADER_SIGNING_SCHEME.into()),
        Value::Text("com.example.mustUnderstand".into()),
    ]);
    e.push((
        Value::Text("com.example.mustUnderstand".into()),
        Value::Bool(true),
    ));
    assert_eq!(run(e), ("integrity", "unknown_critical_attribute"));
    let mut e = cose_protected_entries(Alg::Ps256);
    e[1].1 = Value::Array(vec![
        Value::Text(HEADER_SIGNING_SCHEME.into()),
        Value::Integer((-70_000).into()),
    ]);
    e.push((Value::Integer((-70_000).into()), Value::Bool(true)));
    assert_eq!(run(e), ("integrity", "unknown_critical_attribute"));
    // Plugin required.
    let mut e = cose_protected_entries(Alg::Ps256);
    e[1].1 = Value::Array(vec![
        Value::Text(HEADER_SIGNING_SCHEME.into()),
        Value::Text(HEADER_VERIFICATION_PLUGIN.into()),
    ]);
    e.push((
        Value::Text(HEADER_VERIFICATION_PLUGIN.into()),
        Value::Text("plugin-name".into()),
    ));
    assert_eq!(run(e), ("plugin_required", "plugin_required"));
    // Duplicate label inside the protected map.
    let mut e = cose_protected_entries(Alg::Ps256);
    e.push(e[4].clone());
    assert_eq!(run(e), ("integrity", "malformed"));
}

#[test]
fn cose_unprotected_rules() {
    let chain = self_signed(rsa2048());
    let p = cbor(&Value::Map(cose_protected_entries(Alg::Ps256)));
    let run = |unprotected: Vec<(Value, Value)>| {
        cose_reason(&cose_from_parts(
            &p,
            unprotected,
            PAYLOAD.as_bytes(),
            rsa2048(),
            Alg::Ps256,
        ))
    };
    // x5chain as a single bstr (RFC 9360 allows it, notation does not).
    assert_eq!(
        run(vec![(
            Value::Integer(33.into()),
            Value::Bytes(chain[0].clone())
        )]),
        ("integrity", "malformed")
    );
    // x5chain missing / empty.
    assert_eq!(run(vec![]), ("integrity", "certificate_chain_missing"));
    assert_eq!(
        run(vec![(Value::Integer(33.into()), Value::Array(vec![]))]),
        ("integrity", "certificate_chain_missing")
    );
    // A label in both buckets.
    let mut u = cose_unprotected(&chain);
    u.push((Value::Integer(1.into()), Value::Integer((-37).into())));
    assert_eq!(run(u), ("integrity", "malformed"));
    // Timestamp token kept as bytes.
    let mut u = cose_unprotected(&chain);
    u.push((
        Value::Text(HEADER_TIMESTAMP_SIGNATURE.into()),
        Value::Bytes(vec![1, 2, 3]),
    ));
    let bytes = cose_from_parts(&p, u, PAYLOAD.as_bytes(), rsa2048(), Alg::Ps256);
    let env = Envelope::parse(MEDIA_TYPE_COSE, &bytes).unwrap();
    env.verify_integrity().unwrap();
    assert_eq!(env.timestamp_token(), Some(&[1u8, 2, 3][..]));
}

#[test]
fn cose_detached_payload_rejected() {
    let chain = self_signed(rsa2048());
    let p = cbor(&Value::Map(cose_protected_entries(Alg::Ps256)));
    let bytes = cbor(&Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(p),
            Value::Map(cose_unprotected(&chain)),
            Value::Null,
            Value::Bytes(vec![1; 256]),
        ])),
    ));
    assert_eq!(cose_reason(&bytes), ("integrity", "malformed"));
}

// ---------------------------------------------------------------- corpus bytes, mutated

fn corpus_jws() -> serde_json::Value {
    serde_json::from_slice(&corpus_file(
        "envelopes/ngo-mock.x509.valid/ca_valid_sig_env.json",
    ))
    .unwrap()
}

#[test]
fn corpus_jws_mutations() {
    let v = corpus_jws();
    Envelope::parse(MEDIA_TYPE_JWS, &serde_json::to_vec(&v).unwrap())
        .unwrap()
        .verify_integrity()
        .unwrap();
    // Flip one payload byte.
    let mut payload = URL_SAFE_NO_PAD
        .decode(v["payload"].as_str().unwrap())
        .unwrap();
    let pos = payload.iter().position(|b| *b == b'5').unwrap();
    payload[pos] = b'6';
    let mut w = v.clone();
    w["payload"] = URL_SAFE_NO_PAD.encode(&payload).into();
    assert_eq!(
        jws_reason(&serde_json::to_vec(&w).unwrap()),
        ("integrity", "bad_signature")
    );
    // Change alg to PS256 (the leaf is RSA-3072): caught by the alg/key rule first.
    let mut header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(v["protected"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    header["alg"] = "PS256".into();
    let mut w = v.clone();
    w["protected"] = URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&header).unwrap())
        .into();
    assert_eq!(
        jws_reason(&serde_json::to_vec(&w).unwrap()),
        ("integrity", "algorithm_key_mismatch")
    );
    // Swap the chain order.
    let mut w = v.clone();
    let x5c = w["header"]["x5c"].as_array_mut().unwrap();
    x5c.swap(0, 1);
    assert_eq!(jws_reason(&serde_json::to_vec(&w).unwrap()).0, "integrity");
    // Drop the root: the leaf alone is not self-signed.
    let mut w = v.clone();
    w["header"]["x5c"].as_array_mut().unwrap().pop();
    assert_eq!(
        jws_reason(&serde_json::to_vec(&w).unwrap()),
        ("integrity", "not_self_signed")
    );
}

#[test]
fn corpus_cose_mutations() {
    let bytes = corpus_file("envelopes/ngo-local.cose.alpine/cose_signature.sig");
    let env = Envelope::parse(MEDIA_TYPE_COSE, &bytes).unwrap();
    env.verify_integrity().unwrap();
    // Trailing garbage.
    let mut w = bytes.clone();
    w.extend_from_slice(&[0xf6]);
    assert_eq!(cose_reason(&w), ("integrity", "malformed"));
    // One payload byte changed in place (find the payload inside the envelope).
    let payload = env.payload();
    let start = bytes
        .windows(payload.len())
        .position(|win| win == payload)
        .unwrap();
    let digit = payload.iter().position(|b| b.is_ascii_digit()).unwrap();
    let mut w = bytes.clone();
    w[start + digit] = if w[start + digit] == b'9' {
        b'8'
    } else {
        w[start + digit] + 1
    };
    assert_eq!(cose_reason(&w), ("integrity", "bad_signature"));
    // The protected header's signing time changed in place.
    let t = env.signing_time().unwrap();
    let needle = [
        &[0xc1u8, 0x1a][..],
        &u32::try_from(t).unwrap().to_be_bytes(),
    ]
    .concat();
    let at = bytes
        .windows(needle.len())
        .position(|win| win == needle.as_slice())
        .unwrap();
    let mut w = bytes.clone();
    w[at + 5] ^= 1;
    assert_eq!(cose_reason(&w), ("integrity", "bad_signature"));
}

#[test]
fn huge_headers_are_processed_in_linear_time() {
    // 100k critical extended attributes: quadratic crit checks would take minutes.
    let n = 100_000;
    let mut h = jws_protected(Alg::Ps256);
    let mut crit = vec![json!(HEADER_SIGNING_SCHEME)];
    for i in 0..n {
        let k = format!("x.{i}");
        h.insert(k.clone(), json!(1));
        crit.push(json!(k));
    }
    h.insert("crit".into(), json!(crit));
    let bytes = jws_ok(&h);
    let start = std::time::Instant::now();
    let env = Envelope::parse(MEDIA_TYPE_JWS, &bytes).unwrap();
    assert_eq!(env.extended_attributes().len(), n);
    assert_eq!(
        env.verify_integrity().unwrap_err().reason(),
        "unknown_critical_attribute"
    );
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

/// Red team M, M10: the signed times keep their fraction of a second. notation compares exact
/// times: an `authenticSigningTime` half a second past the certificate's notAfter is after it, an
/// expiry at `T.5` has not passed at `T`, and an expiry at `S.7` is after a signing time at `S.2`.
#[test]
fn signed_times_are_compared_with_their_fractions() {
    use crate::notary::policy::VerifyTimestamp;
    use crate::notary::time::format_rfc3339;
    use crate::notary::verify_time::{check_without_timestamp, TimeError, TimestampPolicy};

    let key = p256();
    let mut spec = CertSpec::new(LEAF, LEAF, key, key, leaf_exts());
    spec.not_after = T2024;
    let chain = vec![mint(&spec)];
    let at = |t: i64, frac: &str| {
        let whole = format_rfc3339(t).unwrap();
        whole.replace('Z', &format!("{frac}Z"))
    };
    let authority = |ast: String| {
        let mut h = jws_protected(Alg::Es256);
        h.remove(HEADER_SIGNING_TIME);
        h.insert(
            HEADER_SIGNING_SCHEME.into(),
            "notary.x509.signingAuthority".into(),
        );
        h.insert(HEADER_AUTHENTIC_SIGNING_TIME.into(), ast.into());
        h.insert(
            "crit".into(),
            json!([HEADER_SIGNING_SCHEME, HEADER_AUTHENTIC_SIGNING_TIME]),
        );
        jws(&h, PAYLOAD.as_bytes(), &chain, key, Alg::Es256)
    };
    let policy = TimestampPolicy {
        tsa_store_listed: false,
        verify_timestamp: VerifyTimestamp::Always,
    };
    let judge = |bytes: Vec<u8>| {
        let env = Envelope::parse(MEDIA_TYPE_JWS, &bytes).unwrap();
        let validated = env.verify().unwrap();
        check_without_timestamp(&env, &validated, &policy, T2040).map(|_| ())
    };
    judge(authority(at(T2024, ""))).unwrap();
    for frac in [".5", ".000000001", ".999999999"] {
        assert!(
            matches!(
                judge(authority(at(T2024, frac))),
                Err(TimeError::NotValidAtSigningTime { .. })
            ),
            "{frac}"
        );
    }
    judge(authority(at(T2024 - 1, ".999999999"))).unwrap();

    // Expiry.
    let with = |signing: String, expiry: String| {
        let mut h = jws_protected(Alg::Ps256);
        h.insert(HEADER_SIGNING_TIME.into(), signing.into());
        h.insert(HEADER_EXPIRY.into(), expiry.into());
        h.insert("crit".into(), json!([HEADER_SIGNING_SCHEME, HEADER_EXPIRY]));
        Envelope::parse(MEDIA_TYPE_JWS, &jws_ok(&h))
    };
    let env = with(at(T2024, ""), at(T2024 + 10, ".5")).unwrap();
    env.check_expiry(T2024 + 10).unwrap();
    assert!(env.check_expiry(T2024 + 11).is_err());
    let env = with(at(T2024, ""), at(T2024 + 10, "")).unwrap();
    assert!(env.check_expiry(T2024 + 10).is_err());
    with(at(T2024, ".2"), at(T2024, ".7")).unwrap();
    assert_eq!(
        with(at(T2024, ".7"), at(T2024, ".2")).unwrap_err(),
        EnvelopeError::ExpiryNotAfterSigningTime
    );
    assert_eq!(
        with(at(T2024, ".5"), at(T2024, ".5")).unwrap_err(),
        EnvelopeError::ExpiryNotAfterSigningTime
    );
}
