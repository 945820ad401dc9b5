//! Corpus-driven test: reads the shared corpus in place (`$AIRLOCK_CORPUS`, default
//! `../shared/corpus` next to the manifest), iterates `index.json`, and for every standalone
//! envelope case and every signature inside an OCI-layout case runs the stages this module set
//! owns: parse, integrity (signature, alg/key, chain structure, plugin, critical attributes),
//! payload vs target descriptor, user metadata, and chain validity at a time pinned from the
//! case's own facts (the signing time; never the clock).
//!
//! Expectations:
//! * `integrity`, `plugin-required`, `parse`, `user-metadata` cases fail with that category;
//! * `authentic-timestamp` cases pass every stage except, possibly, validity at the pinned
//!   signing time (which then must fail as `authentic_timestamp`);
//! * every other case passes all stages (its failure, if any, belongs to a later stage: trust
//!   store, trusted identity, expiry, timestamps, policy);
//! * a layout case verified under a `skip` policy never reaches these stages in notation; its
//!   signature is still evaluated and must be consistent with its siblings.
//!
//! The parsed envelope is also cross-checked against `envelope_facts` (alg, scheme, times,
//! certificate SHA-256s, signing agent, timestamp presence, payload).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::Path;

use aws_lc_rs::digest::{digest, SHA256};
use serde_json::Value;

use super::test_support::corpus_dir;
use super::{parse_rfc3339, Envelope};
use crate::notary::chain::ValidityTime;

fn sha256_hex(b: &[u8]) -> String {
    digest(&SHA256, b)
        .as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn read_json(p: &Path) -> Value {
    let bytes = std::fs::read(p).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); set AIRLOCK_CORPUS to the corpus directory",
            p.display()
        )
    });
    serde_json::from_slice(&bytes).unwrap()
}

/// Where a signature failed.
#[derive(Debug)]
struct Failure {
    stage: &'static str,
    code: &'static str,
    detail: String,
}

struct Target {
    media_type: String,
    digest: String,
    size: u64,
}

/// Runs every stage; returns the first failure.
fn evaluate(
    label: &str,
    media_type: &str,
    bytes: &[u8],
    facts: Option<&Value>,
    target: Option<&Target>,
    user_metadata: &[(String, String)],
) -> Result<(), Failure> {
    let fail = |stage, code, detail: String| Failure {
        stage,
        code,
        detail,
    };
    let env =
        Envelope::parse(media_type, bytes).map_err(|e| fail("parse", e.code(), e.to_string()))?;
    if let Some(f) = facts {
        check_facts(label, &env, bytes, f);
    }
    let chain = env
        .verify()
        .map_err(|e| fail("integrity", e.code(), e.to_string()))?;
    let payload = env
        .parse_payload()
        .map_err(|e| fail("payload", e.code(), e.to_string()))?;
    if let Some(t) = target {
        payload
            .check_descriptor(&t.media_type, &t.digest, t.size)
            .map_err(|e| fail("payload", e.code(), e.to_string()))?;
    }
    payload
        .check_user_metadata(user_metadata)
        .map_err(|e| fail("user-metadata", e.code(), e.to_string()))?;
    // Pin the validity time from the case facts (signing time), never the clock.
    let facts = facts.unwrap_or_else(|| panic!("{label}: envelope without facts"));
    let pinned = parse_rfc3339(facts["signing_time"].as_str().unwrap())
        .unwrap_or_else(|| panic!("{label}: bad signing_time fact"));
    assert_eq!(
        pinned,
        env.effective_signing_time(),
        "{label}: signing time"
    );
    chain
        .check_validity(ValidityTime::At(pinned))
        .map_err(|e| fail("validity", e.code(), e.to_string()))?;
    // Expiry boundary from the facts: expired at the expiry instant, not at signing time.
    if let Some(exp) = facts.get("expiry").and_then(Value::as_str) {
        let exp = parse_rfc3339(exp).unwrap();
        assert!(env.check_expiry(pinned).is_ok(), "{label}");
        assert_eq!(
            env.check_expiry(exp).unwrap_err().category(),
            crate::notary::reason::Validation::Expiry,
            "{label}"
        );
        assert!(env.check_expiry(exp - 1).is_ok(), "{label}");
    }
    Ok(())
}

fn check_facts(label: &str, env: &Envelope, bytes: &[u8], f: &Value) {
    if let Some(sha) = f.get("envelope_sha256").and_then(Value::as_str) {
        assert_eq!(
            format!("sha256:{}", sha256_hex(bytes)),
            sha,
            "{label}: envelope bytes"
        );
    }
    if let Some(size) = f.get("envelope_size").and_then(Value::as_u64) {
        assert_eq!(bytes.len() as u64, size, "{label}");
    }
    assert_eq!(
        env.algorithm().jws_name(),
        f["alg"].as_str().unwrap(),
        "{label}: alg"
    );
    assert_eq!(
        env.signing_scheme().as_str(),
        f["signing_scheme"].as_str().unwrap(),
        "{label}: scheme"
    );
    let expiry = f
        .get("expiry")
        .and_then(Value::as_str)
        .map(|s| parse_rfc3339(s).unwrap());
    assert_eq!(env.expiry(), expiry, "{label}: expiry");
    let x5c = f["x5c"].as_array().unwrap();
    assert_eq!(
        env.certificate_chain().len(),
        x5c.len(),
        "{label}: chain length"
    );
    for (der, fact) in env.certificate_chain().iter().zip(x5c) {
        assert_eq!(
            sha256_hex(der),
            fact["sha256"].as_str().unwrap(),
            "{label}: cert"
        );
    }
    assert_eq!(
        env.signing_agent(),
        f.get("signing_agent").and_then(Value::as_str),
        "{label}: signing agent"
    );
    assert_eq!(
        env.timestamp_token().is_some_and(|t| !t.is_empty()),
        f["has_timestamp_countersignature"].as_bool().unwrap(),
        "{label}: timestamp"
    );
    // Payload facts (parsed without trusting: only a cross-check of the parser).
    if let Some(p) = f.get("payload") {
        let parsed: Value = serde_json::from_slice(env.payload()).unwrap();
        assert_eq!(&parsed, p, "{label}: payload");
    }
}

fn expected_code(category: &str) -> Option<&'static str> {
    match category {
        "integrity" => Some("integrity"),
        "plugin-required" => Some("plugin_required"),
        "parse" => Some("integrity"),
        "user-metadata" => Some("user_metadata"),
        _ => None,
    }
}

#[derive(Default, Debug)]
struct Tally {
    envelope_cases: usize,
    layout_signatures: usize,
    passed_all_stages: usize,
    failed_as_expected: usize,
    validity_failed_as_expected: usize,
    skip_policy: usize,
    unsigned_layouts: usize,
    other_kinds: usize,
}

fn judge(
    label: &str,
    expected: &str,
    category: Option<&str>,
    result: Result<(), Failure>,
    tally: &mut Tally,
) {
    let want = category.and_then(expected_code);
    match (want, result) {
        (Some(code), Err(f)) => {
            eprintln!(
                "{label}: expected {code}: failed at {} [{}]: {}",
                f.stage, f.code, f.detail
            );
            assert_eq!(
                f.code, code,
                "{label}: wrong failure category at {}: {}",
                f.stage, f.detail
            );
            tally.failed_as_expected += 1;
        }
        (Some(code), Ok(())) => panic!("{label}: expected a {code} failure, but all stages passed"),
        (None, Ok(())) => tally.passed_all_stages += 1,
        (None, Err(f)) => {
            if category == Some("authentic-timestamp")
                && f.stage == "validity"
                && f.code == "authentic_timestamp"
            {
                eprintln!("{label}: validity at pinned time: {}", f.detail);
                tally.validity_failed_as_expected += 1;
            } else {
                panic!("{label} (expected {expected}/{category:?}): unexpected failure {f:?}");
            }
        }
    }
}

fn string_pairs(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn target_of(v: &Value) -> Option<Target> {
    if v.is_null() {
        return None;
    }
    Some(Target {
        media_type: v["mediaType"].as_str()?.to_owned(),
        digest: v["digest"].as_str()?.to_owned(),
        size: v["size"].as_u64()?,
    })
}

fn run_envelope_case(dir: &Path, name: &str, tally: &mut Tally) {
    let case = read_json(&dir.join("case.json"));
    let verify = &case["verify"];
    let sig_path = dir.join(verify["signature"].as_str().unwrap());
    let bytes = std::fs::read(&sig_path).unwrap();
    let media_type = verify["envelope_media_type"].as_str().unwrap();
    let target = target_of(&verify["target_descriptor"]);
    let user_metadata = string_pairs(verify.get("user_metadata"));
    let result = evaluate(
        name,
        media_type,
        &bytes,
        case.get("envelope_facts"),
        target.as_ref(),
        &user_metadata,
    );
    tally.envelope_cases += 1;
    judge(
        name,
        case["expected"].as_str().unwrap(),
        case.get("failure_category").and_then(Value::as_str),
        result,
        tally,
    );
}

fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap();
    let bytes = std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap();
    assert_eq!(sha256_hex(&bytes), hex, "blob digest");
    bytes
}

fn run_layout_case(dir: &Path, name: &str, tally: &mut Tally) {
    let case = read_json(&dir.join("case.json"));
    let verify = &case["verify"];
    let layout = dir.join(verify["layout_dir"].as_str().unwrap());
    let facts = &case["layout_facts"];
    let sigs = facts["signatures"].as_array().cloned().unwrap_or_default();
    if sigs.is_empty() {
        tally.unsigned_layouts += 1;
        return;
    }
    // The resolved target descriptor: the index.json entry of the subject digest.
    let index = read_json(&layout.join("index.json"));
    let subject = verify["subject_digest"].as_str().unwrap();
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["digest"] == subject)
        .unwrap_or_else(|| panic!("{name}: subject not in index.json"));
    let target = target_of(entry).unwrap();
    let skipped = case.get("outcome_detail").and_then(Value::as_str) == Some("skipped");
    for s in sigs {
        let manifest_digest = s["signature_manifest"].as_str().unwrap();
        let manifest: Value = serde_json::from_slice(&blob(&layout, manifest_digest)).unwrap();
        assert_eq!(
            manifest["subject"]["digest"].as_str(),
            Some(subject),
            "{name}"
        );
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 1, "{name}: one layer");
        let layer = &layers[0];
        let media_type = layer["mediaType"].as_str().unwrap();
        assert_eq!(
            media_type,
            s["layer_media_type"].as_str().unwrap(),
            "{name}"
        );
        let bytes = blob(&layout, layer["digest"].as_str().unwrap());
        let label = format!("{name}#{manifest_digest}");
        let envelope_facts = s.get("envelope").filter(|v| !v.is_null());
        let result = evaluate(
            &label,
            media_type,
            &bytes,
            envelope_facts,
            Some(&target),
            &[],
        );
        tally.layout_signatures += 1;
        if skipped {
            // notation never fetches signatures under `skip`; ours must still be rejected
            // exactly like the same layer under the non-skip policies.
            let f = result.expect_err("the skip-policy layout holds a garbage layer");
            assert_eq!(f.code, "integrity", "{label}");
            tally.skip_policy += 1;
        } else {
            judge(
                &label,
                case["expected"].as_str().unwrap(),
                case.get("failure_category").and_then(Value::as_str),
                result,
                tally,
            );
        }
    }
}

#[test]
fn corpus_envelopes_and_layout_signatures() {
    let root = corpus_dir();
    let index = read_json(&root.join("index.json"));
    let mut tally = Tally::default();
    for case in index["cases"].as_array().unwrap() {
        let dir_name = case["dir"].as_str().unwrap();
        let dir = root.join(dir_name);
        match case["kind"].as_str().unwrap() {
            "signature-envelope" => run_envelope_case(&dir, dir_name, &mut tally),
            "oci-layout" => run_layout_case(&dir, dir_name, &mut tally),
            _ => tally.other_kinds += 1,
        }
    }
    eprintln!("corpus tally: {tally:#?}");
    assert_eq!(tally.envelope_cases, 28, "envelope cases in the corpus");
    assert_eq!(
        tally.layout_signatures, 44,
        "signatures in the OCI-layout cases"
    );
    assert!(tally.passed_all_stages > 0 && tally.failed_as_expected > 0);
}
