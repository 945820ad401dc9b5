//! Conformance run over the shared corpus (`$AIRLOCK_CORPUS`, default `../shared/corpus`):
//! every `envelopes/tst.*` case (verdict and category, honouring `assertion_scope`), and the
//! timestamp token of every `envelopes/ngo-ts.*` envelope against that case's tsa store.

use std::path::Path;

use super::common::*;
use airlock::notary::timestamp::{self, Limits, TimestampError};

fn cases(prefix: &str) -> Vec<String> {
    let index = read_json(&corpus_root().join("index.json"));
    let mut dirs: Vec<String> = index["cases"]
        .as_array()
        .expect("index.json cases")
        .iter()
        .filter_map(|c| c["dir"].as_str())
        .filter(|d| d.starts_with(prefix))
        .map(str::to_owned)
        .collect();
    dirs.sort();
    dirs
}

/// Runs the operation a tspclient-go test asserts (`assertion_scope`).
fn run_scope(
    scope: &str,
    token: &[u8],
    message: &[u8],
    roots: &[Vec<u8>],
) -> Result<(), TimestampError> {
    match scope {
        "ParseSignedToken" | "SignedToken.Info" => timestamp::parse(token).map(|_| ()),
        "SignedToken.SigningCertificate" => {
            timestamp::parse(token).and_then(|p| p.signing_certificate(0).map(|_| ()))
        }
        "TSTInfo.validate(message)" => {
            timestamp::parse(token).and_then(|p| p.validate_tst_info(message))
        }
        "SignedToken.Verify" | "SignedToken.Verify + TSTInfo.Validate(message)" => {
            timestamp::verify(token, message, roots, &Limits::default()).map(|_| ())
        }
        other => panic!("unknown assertion_scope {other}"),
    }
}

fn category(result: &Result<(), TimestampError>) -> Option<String> {
    result.as_ref().err().map(|e| e.code().replace('_', "-"))
}

#[test]
fn tst_cases_match_corpus_verdicts() {
    let root = corpus_root();
    let dirs = cases("envelopes/tst.");
    assert!(dirs.len() >= 13, "expected the 13 tspclient-go token cases");
    let gs_root =
        load_certs(&root.join("envelopes/tst.globalsign.valid/roots/GlobalSignRootCA.crt"));
    let mut agree = 0;
    for dir in &dirs {
        let case_dir = root.join(dir);
        let case = read_json(&case_dir.join("case.json"));
        let v = &case["verify"];
        let token = read(&case_dir.join(v["token"].as_str().unwrap()));
        let roots: Vec<Vec<u8>> = v["roots"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| load_certs(&case_dir.join(r.as_str().unwrap())))
            .collect();
        // The tspclient-go tests timestamp sha256("notation").
        let message = v["message_utf8"].as_str().unwrap_or("notation").as_bytes();
        let scope = case["assertion_scope"].as_str().unwrap();
        let expected = case["expected"].as_str().unwrap();
        let result = run_scope(scope, &token, message, &roots);
        let got = category(&result);
        match expected {
            "pass" => assert!(result.is_ok(), "{dir}: expected pass, got {result:?}"),
            "fail" => {
                let want = case["failure_category"].as_str().unwrap();
                assert_eq!(got.as_deref(), Some(want), "{dir}: {result:?}");
            }
            other => panic!("{dir}: expected {other}"),
        }
        // Whatever the scope, the full verification (against the GlobalSign root the token
        // family chains to) must never accept a token the corpus rejects.
        let full = timestamp::verify(&token, b"notation", &gs_root, &Limits::default());
        if expected == "fail" {
            assert!(full.is_err(), "{dir}: full verify accepted a failing token");
        }
        println!(
            "{dir}: scope {scope:?} -> {}; full verify -> {}",
            got.as_deref().unwrap_or("pass"),
            full.as_ref().map_or_else(|e| e.code(), |_| "pass")
        );
        agree += 1;
    }
    println!("tst cases: {agree}/{} agree with the corpus", dirs.len());
}

#[test]
fn globalsign_token_facts() {
    let dir = corpus_root().join("envelopes/tst.globalsign.valid");
    let token = read(&dir.join("TimeStampToken.p7s"));
    let roots = load_certs(&dir.join("roots/GlobalSignRootCA.crt"));
    let ts = timestamp::verify(&token, b"notation", &roots, &Limits::default()).unwrap();
    assert_eq!(ts.gen_time, 1_631_887_750); // 2021-09-17T14:09:10Z
    assert_eq!(ts.accuracy_ms, 1000);
    assert_eq!((ts.lower, ts.upper), (1_631_887_749, 1_631_887_751));
    assert_eq!(ts.policy_oid, "1.3.6.1.4.1.4146.2.3");
    assert_eq!(ts.signer_serial_hex, "0100466950a604a9d970e81dd24d419f");
    // TSA -> Timestamping CA G4 -> Root R6 (cross-signed by R3) -> Root R3 (the trust anchor).
    assert_eq!(ts.tsa_chain.len(), 4);
    assert_eq!(ts.tsa_chain.last(), roots.first());
    let parsed = timestamp::parse(&token).unwrap();
    assert_eq!(parsed.certificates().len(), 4);
    assert_eq!(parsed.signer_info_count(), 1);
    assert_eq!(parsed.version(), 1);
    assert_eq!(
        parsed.message_imprint().0,
        "2.16.840.1.101.3.4.2.1",
        "sha256 imprint"
    );
}

fn tsa_store(case_dir: &Path) -> Vec<Vec<u8>> {
    load_store_dir(&case_dir.join("truststore/x509/tsa"))
}

#[test]
fn ngo_ts_tokens_verify_against_case_tsa_store() {
    let root = corpus_root();
    let dirs = cases("envelopes/ngo-ts.");
    assert!(
        dirs.len() >= 10,
        "expected the notation-go timestamp envelopes"
    );
    let (mut verified, mut untrusted, mut absent) = (0, 0, 0);
    for dir in &dirs {
        let case_dir = root.join(dir);
        let case = read_json(&case_dir.join("case.json"));
        let v = &case["verify"];
        let env = parse_envelope(
            &read(&case_dir.join(v["signature"].as_str().unwrap())),
            v["envelope_media_type"].as_str().unwrap(),
        );
        let facts = &case["envelope_facts"];
        let has_ts = facts["has_timestamp_countersignature"].as_bool().unwrap();
        let Some(token) = env.token else {
            assert!(!has_ts, "{dir}: token expected");
            absent += 1;
            println!("{dir}: no countersignature (as case.json says)");
            continue;
        };
        assert!(has_ts, "{dir}: unexpected token");
        let errors: Vec<&str> = case["expected_error_substrings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        let result = timestamp::verify(
            &token,
            &env.signature,
            &tsa_store(&case_dir),
            &Limits::default(),
        );
        if errors
            .iter()
            .any(|e| e.contains("certificate signed by unknown authority"))
        {
            let err = result.expect_err(dir);
            assert_eq!(
                err.reason(),
                airlock::notary::timestamp::TimestampReason::TstUntrusted,
                "{dir}: {err}"
            );
            untrusted += 1;
            println!("{dir}: tst_untrusted ({err})");
            continue;
        }
        let ts = result.unwrap_or_else(|e| panic!("{dir}: token must verify: {e}"));
        // The signing-chain check the caller does next (SPEC-NOTES §6.3 i): every cert valid
        // over [lower, upper]. case.json pins whether it holds.
        let leaf = &facts["x5c"][0];
        let not_before = parse_fact_time(leaf["notBefore"].as_str().unwrap());
        let not_after = parse_fact_time(leaf["notAfter"].as_str().unwrap());
        let within = ts.lower >= not_before && ts.upper <= not_after;
        let before_not_before = errors
            .iter()
            .any(|e| e.contains("timestamp can be before certificate"));
        assert_eq!(
            within, !before_not_before,
            "{dir}: [{}, {}]",
            ts.lower, ts.upper
        );
        verified += 1;
        println!(
            "{dir}: verified, genTime {} ±{} ms, chain of {}",
            ts.gen_time,
            ts.accuracy_ms,
            ts.tsa_chain.len()
        );
    }
    println!(
        "ngo-ts: {verified} tokens verified, {untrusted} untrusted as expected, {absent} without token"
    );
}

#[test]
fn microsoft_tokens_parse_and_match_imprint_but_have_no_trusted_root() {
    // e2e-blob.* carry Microsoft TSA tokens (fractional genTime); their root is not in the
    // corpus, so they can only be parsed, imprint-checked and found untrusted.
    let root = corpus_root();
    let gs_root =
        load_certs(&root.join("envelopes/tst.globalsign.valid/roots/GlobalSignRootCA.crt"));
    for (dir, file, media) in [
        (
            "envelopes/e2e-blob.jws.timestamped",
            "blob.jws.sig",
            "application/jose+json",
        ),
        (
            "envelopes/e2e-blob.cose.timestamped",
            "blob.cose.sig",
            "application/cose",
        ),
    ] {
        let env = parse_envelope(&read(&root.join(dir).join(file)), media);
        let token = env.token.expect("timestamped");
        let parsed = timestamp::parse(&token).unwrap_or_else(|e| panic!("{dir}: {e}"));
        parsed.validate_tst_info(&env.signature).unwrap();
        assert!(parsed.signing_certificate(0).is_ok(), "{dir}");
        let err =
            timestamp::verify(&token, &env.signature, &gs_root, &Limits::default()).unwrap_err();
        assert_eq!(
            err.reason(),
            airlock::notary::timestamp::TimestampReason::TstUntrusted,
            "{dir}: {err}"
        );
        println!(
            "{dir}: genTime {}.{:09} policy {}; untrusted against GlobalSign R3 ({err})",
            parsed.gen_time(),
            parsed.gen_time_nanos(),
            parsed.policy_oid()
        );
    }
}
