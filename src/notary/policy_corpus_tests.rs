//! Corpus-driven tests: every case of `corpus/index.json`, read in place.
//!
//! The corpus directory is `$AIRLOCK_CORPUS`, or `../shared/corpus` beside the package.
//!
//! - `truststore-load` cases: [`truststore::load`] passes or fails as `case.json` says, with the
//!   failure category as [`TrustStoreError::code`].
//! - OCI-layout and envelope cases with an OCI trust policy: when the case fails with
//!   `policy-invalid`, `truststore-missing`, `truststore-invalid` or `no-applicable-policy`, the
//!   first of [`policy::parse`], [`PolicyDocument::statement_for`] and loading the statement's
//!   trust stores fails with exactly that code; for every other case all three succeed. Where a
//!   trust store holds a certificate whose subject is the signer's (from `case.json` facts), the
//!   statement's identity match must agree with the case (`trusted-identity` fails it).
//! - Blob-policy and timestamp-token cases are outside these modules and counted as skipped.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

use super::dn::DistinguishedName;
use super::policy::{self, Action, Check, PolicyDocument, Statement};
use super::truststore::{self, StoreType, TrustStoreError, TrustedCert};

/// Categories these modules are responsible for.
const OWN_CATEGORIES: [&str; 4] = [
    "policy-invalid",
    "truststore-missing",
    "truststore-invalid",
    "no-applicable-policy",
];

/// Scope used for envelope cases that name none (their policies use `*`).
const DEFAULT_SCOPE: &str = "localhost/airlock-corpus";

use crate::testkit::corpus::corpus_dir;

fn read_json(path: &Path) -> Value {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, key| v.get(key))?.as_str()
}

/// `failure_category` with `-` as `_`, the form of `code()`; `None` for a pass.
fn expected_code(case: &Value) -> Option<String> {
    match str_at(case, &["expected"]) {
        Some("pass") => None,
        Some("fail") => Some(
            str_at(case, &["failure_category"])
                .unwrap_or("<missing failure_category>")
                .replace('-', "_"),
        ),
        other => panic!("unexpected `expected`: {other:?}"),
    }
}

#[derive(Default)]
struct Tally {
    passed: usize,
    skipped: BTreeMap<String, usize>,
    identity_checks: usize,
    failures: Vec<String>,
}

impl Tally {
    fn skip(&mut self, why: &str) {
        *self.skipped.entry(why.to_owned()).or_insert(0) += 1;
    }
}

/// Loads every trust store the statement names, in order; the first error stops.
fn load_stores(root: &Path, statement: &Statement) -> Result<Vec<TrustedCert>, TrustStoreError> {
    let mut all = Vec::new();
    for store in statement.trust_stores() {
        all.extend(truststore::load(root, store.kind(), store.name())?);
    }
    Ok(all)
}

/// Signer subjects (`x5c[0].subject`) recorded in the case's facts.
fn signer_subjects(case: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut push = |envelope: &Value| {
        if let Some(s) = envelope
            .get("x5c")
            .and_then(|c| c.get(0))
            .and_then(|c| c.get("subject"))
            .and_then(Value::as_str)
        {
            out.push(s.to_owned());
        }
    };
    if let Some(sigs) = case
        .pointer("/layout_facts/signatures")
        .and_then(Value::as_array)
    {
        for sig in sigs {
            if let Some(env) = sig.get("envelope") {
                push(env);
            }
        }
    }
    if let Some(env) = case.get("envelope_facts") {
        push(env);
    }
    out
}

/// For a single-signer case: a stored certificate with the signer's subject stands in for the
/// signer; the statement's identity match must agree with the case. Returns whether it ran.
fn check_identity(
    case: &Value,
    statement: &Statement,
    certs: &[TrustedCert],
    expected: Option<&str>,
) -> Result<bool, String> {
    let signers = signer_subjects(case);
    let [signer] = signers.as_slice() else {
        return Ok(false);
    };
    let Ok(signer) = DistinguishedName::parse(signer) else {
        return Ok(false);
    };
    for cert in certs {
        let parsed = cert.certificate().map_err(|e| e.to_string())?;
        let subject = &parsed.tbs_certificate.subject;
        let Ok(dn) = DistinguishedName::from_subject(subject) else {
            continue;
        };
        if !(dn.is_subset_of(&signer) && signer.is_subset_of(&dn)) {
            continue;
        }
        let matched = statement.identity_matches(subject);
        // A trusted-identity failure pins "no match"; a pass pins "match" only when the
        // authenticity action (which identity failures use) is enforced.
        let want = match expected {
            Some("trusted_identity") => false,
            None if statement.action(Check::Authenticity) == Action::Enforce => true,
            _ => return Ok(false),
        };
        if matched != want {
            return Err(format!(
                "identity match for signer {signer} is {matched}, expected {want}"
            ));
        }
        return Ok(true);
    }
    Ok(false)
}

fn run_policy_case(dir: &Path, case: &Value, tally: &mut Tally) -> Result<(), String> {
    let Some(policy_file) = str_at(case, &["verify", "trust_policy"]) else {
        tally.skip("no trust policy (timestamp token)");
        return Ok(());
    };
    if !matches!(policy_file, "trustpolicy.json" | "trustpolicy.oci.json") {
        tally.skip("blob trust policy (out of scope)");
        return Ok(());
    }
    let expected = expected_code(case);
    let own = expected
        .as_deref()
        .filter(|c| OWN_CATEGORIES.iter().any(|o| o.replace('-', "_") == *c));
    let scope = str_at(case, &["verify", "scope"]).unwrap_or(DEFAULT_SCOPE);
    let store_root = dir.join(str_at(case, &["verify", "truststore_dir"]).unwrap_or("truststore"));
    let bytes = fs::read(dir.join(policy_file)).map_err(|e| e.to_string())?;

    let outcome: Result<(PolicyDocument, Vec<TrustedCert>, String), (String, String)> = (|| {
        let doc = policy::parse(&bytes).map_err(|e| (e.code().to_owned(), e.to_string()))?;
        let statement = doc
            .statement_for(scope)
            .map_err(|e| (e.code().to_owned(), e.to_string()))?;
        let name = statement.name().to_owned();
        let certs = if statement.is_skip() {
            Vec::new()
        } else {
            load_stores(&store_root, statement).map_err(|e| (e.code().to_owned(), e.to_string()))?
        };
        Ok((doc.clone(), certs, name))
    })();

    match (own, outcome) {
        (Some(want), Err((got, _))) if want == got => Ok(()),
        (Some(want), Err((got, msg))) => Err(format!("expected {want}, got {got}: {msg}")),
        (Some(want), Ok(_)) => Err(format!(
            "expected {want}, but policy, scope and stores are fine"
        )),
        (None, Err((got, msg))) => Err(format!(
            "expected {} (not this module's), but got {got}: {msg}",
            expected.as_deref().unwrap_or("pass")
        )),
        (None, Ok((doc, certs, name))) => {
            let statement = doc
                .statements()
                .iter()
                .find(|s| s.name() == name)
                .ok_or("statement vanished")?;
            if check_identity(case, statement, &certs, expected.as_deref())? {
                tally.identity_checks += 1;
            }
            Ok(())
        }
    }
}

fn run_truststore_case(dir: &Path, case: &Value) -> Result<(), String> {
    let root = dir.join(str_at(case, &["verify", "truststore_dir"]).ok_or("no truststore_dir")?);
    let kind: StoreType = str_at(case, &["verify", "store_type"])
        .ok_or("no store_type")?
        .parse()
        .map_err(|e: TrustStoreError| e.to_string())?;
    let name = str_at(case, &["verify", "store_name"]).ok_or("no store_name")?;
    match (expected_code(case), truststore::load(&root, kind, name)) {
        (None, Ok(certs)) if !certs.is_empty() => Ok(()),
        (None, Ok(_)) => Err("loaded no certificate".to_owned()),
        (None, Err(e)) => Err(format!("expected to load, got {}: {e}", e.code())),
        (Some(want), Err(e)) if e.code() == want => Ok(()),
        (Some(want), Err(e)) => Err(format!("expected {want}, got {}: {e}", e.code())),
        (Some(want), Ok(_)) => Err(format!("expected {want}, but the store loaded")),
    }
}

#[test]
fn corpus_cases() {
    let corpus = corpus_dir();
    let index_path = corpus.join("index.json");
    assert!(
        index_path.is_file(),
        "corpus index {} not found; set AIRLOCK_CORPUS to the corpus directory",
        index_path.display()
    );
    let index = read_json(&index_path);
    let cases = index["cases"]
        .as_array()
        .expect("index.json has a cases array");
    assert!(!cases.is_empty(), "index.json lists no cases");

    let mut by_kind: BTreeMap<String, Tally> = BTreeMap::new();
    for entry in cases {
        let dir_name = entry["dir"].as_str().expect("case dir");
        let dir = corpus.join(dir_name);
        let case = read_json(&dir.join("case.json"));
        let kind = str_at(&case, &["kind"]).unwrap_or("<no kind>").to_owned();
        let tally = by_kind.entry(kind.clone()).or_default();
        let result = match kind.as_str() {
            "truststore-load" => run_truststore_case(&dir, &case),
            "oci-layout" | "signature-envelope" | "rfc3161-timestamp-token" => {
                let before: usize = tally.skipped.values().sum();
                let r = run_policy_case(&dir, &case, tally);
                if tally.skipped.values().sum::<usize>() > before {
                    continue;
                }
                r
            }
            other => {
                tally.skip(&format!("unknown kind {other}"));
                continue;
            }
        };
        match result {
            Ok(()) => tally.passed += 1,
            Err(e) => tally.failures.push(format!("{dir_name}: {e}")),
        }
    }

    let mut failures = Vec::new();
    println!(
        "notary policy/truststore corpus summary ({}):",
        corpus.display()
    );
    for (kind, tally) in &by_kind {
        println!(
            "  {kind}: {} passed, {} failed, {} skipped {:?}, {} identity checks",
            tally.passed,
            tally.failures.len(),
            tally.skipped.values().sum::<usize>(),
            tally.skipped,
            tally.identity_checks
        );
        failures.extend(tally.failures.iter().cloned());
    }
    let passed: usize = by_kind.values().map(|t| t.passed).sum();
    println!("  total: {passed} passed, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
    assert!(passed > 0, "no corpus case ran");
}
