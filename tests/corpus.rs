//! The Notary conformance corpus, read in place from `AIRLOCK_CORPUS` (default `../shared/corpus`).
//!
//! Every case `index.json` lists runs, and its verdict and failure category are compared:
//! OCI-layout cases through the CLI (the layout directory and its `layout.tar`), envelope,
//! timestamp-token and trust-store cases through the library. One line per mismatch, then
//! `corpus: N passed, M failed`; unexpected successes are mismatches too.

use std::fs;
use std::path::Path;

use airlock::notary::policy::{self, PolicyDocument};
use airlock::notary::truststore::{self, StoreType};
use airlock::verify::signature::{self, Outcome, StoreCache, Target, TrustInputs};
use serde_json::Value;

use crate::common::*;

/// Every verdict is taken at this fixed time (the corpus verdicts hold for any date after
/// 2025-02-18 and before 2029-03-18, see corpus/README.md "Time-sensitive verdicts").
const AT: &str = "2026-06-01T00:00:00Z";
const AT_UNIX: i64 = 1_780_272_000;

/// The corpus category of a report or signature failure code.
fn category(code: &str) -> String {
    match code {
        "signature_integrity" | "payload_mismatch" => "integrity",
        "plugin_required" => "plugin-required",
        "truststore_missing" => "truststore-missing",
        "truststore_invalid" | "untrusted_signer" => "authenticity",
        "trusted_identity" => "trusted-identity",
        "signature_expired" => "expiry",
        "authentic_timestamp" => "authentic-timestamp",
        "user_metadata" => "user-metadata",
        "no_signature" => "no-signature",
        "no_applicable_policy" => "no-applicable-policy",
        "policy_invalid" => "policy-invalid",
        other => other,
    }
    .to_string()
}

/// A verdict: `Ok(())` for pass, `Err(category)` for fail.
type Verdict = Result<(), String>;

fn layout_case(dir: &Path, case: &Value, bundle: &str) -> Verdict {
    let v = &case["verify"];
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let cwd = tempfile::tempdir().unwrap();
    let args = [
        "verify".to_string(),
        dir.join(bundle).display().to_string(),
        s("reference"),
        "--scope".into(),
        s("scope"),
        "--trust-policy".into(),
        dir.join(s("trust_policy")).display().to_string(),
        "--trust-store".into(),
        dir.join(s("truststore_dir")).display().to_string(),
        "--at".into(),
        AT.into(),
        "--format".into(),
        "json".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(cwd.path(), &args);
    match r.code {
        0 => Ok(()),
        1 => {
            let j = r.json();
            let first = j["failures"][0]["code"].as_str().unwrap_or("?").to_owned();
            Err(category(&first))
        }
        2 if r.stderr.contains("(policy_invalid)") => Err("policy-invalid".into()),
        code => Err(format!("exit {code}: {}", r.stderr.trim())),
    }
}

fn load_policy(dir: &Path, v: &Value) -> Result<PolicyDocument, String> {
    let name = v["trust_policy"].as_str().unwrap_or("trustpolicy.json");
    let bytes = fs::read(dir.join(name)).map_err(|e| e.to_string())?;
    if name.ends_with(".blob.json") {
        // airlock verifies OCI artifacts: a blob policy's global statement is applied as the
        // OCI statement for every scope, which is what `notation blob verify` does with it.
        let mut doc: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let global = doc["trustPolicies"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["globalPolicy"] == true))
            .cloned()
            .ok_or("blob policy without a global statement")?;
        let mut st = global;
        st.as_object_mut().unwrap().remove("globalPolicy");
        st["registryScopes"] = serde_json::json!(["*"]);
        doc["trustPolicies"] = serde_json::json!([st]);
        return policy::parse(&serde_json::to_vec(&doc).unwrap()).map_err(|e| category(e.code()));
    }
    policy::parse(&bytes).map_err(|e| category(e.code()))
}

fn envelope_case(dir: &Path, case: &Value) -> Verdict {
    let v = &case["verify"];
    let policy = load_policy(dir, v)?;
    let scope = v["scope"].as_str().unwrap_or("registry.example/corpus/any");
    let statement = policy
        .statement_for(scope)
        .map_err(|e| category(e.code()))?;
    let bytes = fs::read(dir.join(v["signature"].as_str().unwrap())).unwrap();
    let media_type = v["envelope_media_type"].as_str().unwrap();
    let user_metadata: Vec<(String, String)> = v["user_metadata"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let store_root = dir.join(v["truststore_dir"].as_str().unwrap_or("truststore"));
    let inputs = TrustInputs {
        policy: policy.clone(),
        store_root: store_root.clone(),
        crls: Vec::new(),
        at: AT_UNIX,
        scope: None,
        user_metadata,
        names: airlock::verify::signature::Names::Annotations,
    };
    let mut stores = StoreCache::new(&store_root);
    if case["assertion_scope"] == "authenticTimestamp-only" {
        let (val, code) = signature::evaluate_authentic_timestamp(
            media_type,
            &bytes,
            statement,
            &mut stores,
            &inputs,
        );
        return match val.result {
            Outcome::Pass => Ok(()),
            _ => Err(category(
                &code.map(|c| c.as_str().to_owned()).unwrap_or_default(),
            )),
        };
    }
    let target = if let Some(t) = v["target_descriptor"].as_object() {
        Target {
            media_type: t["mediaType"].as_str().unwrap().to_owned(),
            digest: t["digest"].as_str().unwrap().to_owned(),
            size: t["size"].as_u64().unwrap(),
        }
    } else {
        // Blob signatures: the target is the blob itself.
        let blob = fs::read(dir.join(v["blob"].as_str().unwrap())).unwrap();
        let env = airlock::notary::envelope::Envelope::parse(media_type, &bytes)
            .map_err(|e| category(e.code()))?;
        let mt = env
            .parse_payload()
            .map(|p| p.target_artifact.media_type)
            .unwrap_or_default();
        Target {
            media_type: mt,
            digest: airlock::digest::Digest::sha256(&blob).to_string(),
            size: blob.len() as u64,
        }
    };
    let r = signature::evaluate(media_type, &bytes, &target, statement, &mut stores, &inputs);
    match r.failure {
        None => Ok(()),
        Some(f) => Err(category(f.code.as_str())),
    }
}

fn tst_case(dir: &Path, case: &Value) -> Verdict {
    use airlock::notary::timestamp;
    let v = &case["verify"];
    let token = fs::read(dir.join(v["token"].as_str().unwrap())).unwrap();
    let code = |e: timestamp::TimestampError| e.code().replace('_', "-");
    let op = v["operation"].as_str().unwrap_or("");
    // Every tspclient-go test token stamps sha256("notation") (its testdata README).
    let message = v["message_utf8"]
        .as_str()
        .unwrap_or("notation")
        .as_bytes()
        .to_vec();
    let parsed = timestamp::parse(&token).map_err(code)?;
    if op.starts_with("SignedToken.Verify") {
        let roots: Vec<Vec<u8>> = v["roots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let bytes = fs::read(dir.join(r.as_str().unwrap())).unwrap();
                pem_or_der(&bytes)
            })
            .collect();
        // The token stamps sha256("notation"); tspclient-go verifies the chain at genTime.
        timestamp::verify(&token, &message, &roots, &timestamp::Limits::default()).map_err(code)?;
        return Ok(());
    }
    if op.starts_with("SignedToken.SigningCertificate") {
        return parsed.signing_certificate(0).map(|_| ()).map_err(code);
    }
    if op.starts_with("TSTInfo.validate") {
        return parsed.validate_tst_info(&message).map_err(code);
    }
    Ok(())
}

fn pem_or_der(bytes: &[u8]) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject;
    if bytes.first() == Some(&0x30) {
        return bytes.to_vec();
    }
    rustls_pki_types::CertificateDer::from_pem_slice(bytes)
        .unwrap()
        .as_ref()
        .to_vec()
}

fn truststore_case(dir: &Path, case: &Value) -> Verdict {
    let v = &case["verify"];
    let kind: StoreType = v["store_type"].as_str().unwrap().parse().unwrap();
    let root = dir.join(v["truststore_dir"].as_str().unwrap());
    truststore::load_with(
        &root,
        kind,
        v["store_name"].as_str().unwrap(),
        &airlock::notary::chain::is_self_signed,
    )
    .map(|_| ())
    .map_err(|e| e.code().replace('_', "-"))
}

#[test]
fn corpus_conformance() {
    let root = corpus_dir();
    if !root.join("index.json").exists() {
        assert!(
            !strict(),
            "corpus not found at {} (set AIRLOCK_CORPUS)",
            root.display()
        );
        eprintln!("skipping: no corpus at {}", root.display());
        return;
    }
    let index = read_json(&root.join("index.json"));
    let (mut passed, mut failed) = (0, 0);
    for entry in index["cases"].as_array().unwrap() {
        let name = entry["dir"].as_str().unwrap();
        let dir = root.join(name);
        let case = read_json(&dir.join("case.json"));
        let runs: Vec<(String, Verdict)> = match entry["kind"].as_str().unwrap() {
            "oci-layout" => ["layout", "layout.tar"]
                .iter()
                .map(|b| (format!("{name} ({b})"), layout_case(&dir, &case, b)))
                .collect(),
            "signature-envelope" => vec![(name.to_owned(), envelope_case(&dir, &case))],
            "rfc3161-timestamp-token" => vec![(name.to_owned(), tst_case(&dir, &case))],
            "truststore-load" => vec![(name.to_owned(), truststore_case(&dir, &case))],
            other => vec![(name.to_owned(), Err(format!("unknown case kind {other}")))],
        };
        let expected = case["expected"].as_str().unwrap();
        let want_category = case["failure_category"].as_str().unwrap_or("");
        for (label, got) in runs {
            let ok = match (&got, expected) {
                (Ok(()), "pass") => true,
                (Err(cat), "fail") => cat == want_category,
                _ => false,
            };
            if ok {
                passed += 1;
            } else {
                failed += 1;
                eprintln!("MISMATCH {label}: expected {expected} {want_category}, got {got:?}");
            }
        }
    }
    eprintln!("corpus: {passed} passed, {failed} failed");
    assert_eq!(failed, 0, "corpus mismatches (see above)");
    assert!(passed >= 137, "only {passed} corpus runs");
}

#[test]
fn every_corpus_layout_passes_integrity() {
    let dir = corpus_dir();
    if !dir.join("index.json").exists() {
        assert!(
            !strict(),
            "corpus not found at {} (set AIRLOCK_CORPUS)",
            dir.display()
        );
        return;
    }
    let index = read_json(&dir.join("index.json"));
    let mut checked = 0;
    let mut problems = Vec::new();
    for case in index["cases"].as_array().unwrap() {
        if case["kind"] != "oci-layout" {
            continue;
        }
        let name = case["dir"].as_str().unwrap();
        for bundle in [
            dir.join(name).join("layout"),
            dir.join(name).join("layout.tar"),
        ] {
            let r = verify_json(&bundle, &[]);
            checked += 1;
            let j = r.json();
            if r.code != 0
                || j["verdict"] != "pass"
                || !j["warnings"].as_array().unwrap().is_empty()
            {
                problems.push(format!(
                    "{}: exit {} {}",
                    bundle.display(),
                    r.code,
                    j["failures"]
                ));
            }
            let refs: usize = j["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["referrers"].as_array().unwrap().len())
                .sum();
            if !name.starts_with("unsigned") && refs == 0 {
                problems.push(format!("{}: no referrer found", bundle.display()));
            }
        }
    }
    eprintln!("corpus integrity: {checked} bundles verified");
    assert!(checked >= 90, "only {checked} corpus bundles found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn corpus_signature_is_reported_with_the_notary_artifact_type() {
    let dir = corpus_dir().join("valid-sig.strict.by-tag");
    if !dir.exists() {
        assert!(!strict());
        return;
    }
    let r = verify_json(&dir.join("layout.tar"), &["v1"]);
    assert_eq!(r.code, 0);
    let j = r.json();
    assert_eq!(j["images"].as_array().unwrap().len(), 1);
    let img = &j["images"][0];
    assert_eq!(
        img["digest"],
        "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
    );
    assert_eq!(
        img["referrers"][0]["artifactType"],
        "application/vnd.cncf.notary.signature"
    );
}
