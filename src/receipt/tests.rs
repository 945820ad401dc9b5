//! Unit tests of the receipt: the statement against the Statement v1 and VSA v1 field rules,
//! determinism, the shape checker's refusals, and signing then checking with the test PKI.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::*;
use crate::finding::{Code, Finding};
use crate::notary::envelope::EnvelopeFormat;
use crate::notary::policy::Action;
use crate::notary::sign::read_private_key_pem;
use crate::testkit::pki::{self, Alg};
use crate::verify::report::{
    BlobStats, BundleInfo, ImageReport, ReferrerReport, Tool, TrustAnchor,
};
use crate::verify::signature::{
    Outcome, PolicyRef, SignatureReport, Signer, TrustInputs, Validation, Validations,
};
use crate::verify::{AnchorMode, Report, Verdict};

const IMAGE: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const SIG: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const INDEX: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
const POLICY: &str = "sha256:4444444444444444444444444444444444444444444444444444444444444444";
/// 2026-01-01T00:00:00Z, inside the test certificates' validity.
const AT: &str = "2026-01-01T00:00:00Z";

fn pass() -> Validation {
    Validation {
        result: Outcome::Pass,
        action: Action::Enforce,
        reason: None,
    }
}

fn signature() -> SignatureReport {
    SignatureReport {
        manifest_digest: SIG.into(),
        subject_digest: IMAGE.into(),
        envelope_type: Some(EnvelopeFormat::Jws),
        signing_scheme: None,
        signer: Some(Signer {
            subject: "CN=signer".into(),
            issuer: "CN=root".into(),
        }),
        chain_fingerprints: vec![SIG.into()],
        anchor: Some(SIG.into()),
        signing_time: Some("2025-06-01T00:00:00Z".into()),
        timestamp: None,
        expiry: None,
        user_metadata: std::collections::BTreeMap::new(),
        validations: Validations {
            integrity: pass(),
            authenticity: pass(),
            authentic_timestamp: pass(),
            expiry: pass(),
            revocation: pass(),
        },
        revocation: None,
        verdict: Verdict::Pass,
        failure: None,
        warnings: Vec::new(),
    }
}

fn report(verdict: Verdict) -> Report {
    Report {
        schema_version: 1,
        tool: Tool::this(),
        verified_at: AT.into(),
        mode: "signatures",
        trust_anchor: Some(TrustAnchor {
            mode: AnchorMode::Local,
            pin: None,
            artifact: None,
            fingerprints: vec![SIG.into()],
        }),
        bundle: BundleInfo {
            format: "tar+zstd",
            digest: None,
            file_digest: None,
        },
        verdict,
        bundle_digest: Some(INDEX.into()),
        blobs: BlobStats {
            checked: 9,
            bytes: 1000,
            failed: 0,
        },
        failures: if verdict == Verdict::Fail {
            vec![Finding::new(Code::DigestMismatch, "a layer changed").digest(IMAGE)]
        } else {
            Vec::new()
        },
        warnings: Vec::new(),
        images: vec![ImageReport {
            reference: Some("registry.example/airlock/sample:1.0".into()),
            digest: IMAGE.into(),
            media_type: "application/vnd.oci.image.index.v1+json".into(),
            platforms: vec!["linux/amd64".into()],
            platforms_left_out: Vec::new(),
            size: 1000,
            referrers: vec![ReferrerReport {
                digest: SIG.into(),
                artifact_type: Some("application/vnd.cncf.notary.signature".into()),
                subject: IMAGE.into(),
                checked: "signature",
            }],
            scope: Some("registry.example/airlock/sample".into()),
            policy: Some(PolicyRef {
                name: "tests".into(),
                level: "strict",
            }),
            signatures: Some(vec![signature()]),
            verdict: Some(verdict),
        }],
        exported_by: None,
        archive_ended: false,
        required_user_metadata: std::collections::BTreeMap::new(),
        parts: None,
        left_out: None,
        base_blobs: None,
    }
}

fn ctx() -> ReceiptContext {
    ReceiptContext {
        resource_uri: "file:///media/bundle.tar.zst".into(),
        policy: PolicyInput::Local {
            uri: "file:///etc/airlock/trustpolicy.json".into(),
            digest: crate::digest::Digest::parse(POLICY).unwrap(),
        },
        image: None,
    }
}

fn json(s: &Statement) -> Value {
    serde_json::from_slice(&s.to_bytes().unwrap()).unwrap()
}

#[test]
fn the_statement_follows_the_statement_v1_and_vsa_v1_field_rules() {
    let v = json(&build(&report(Verdict::Pass), &ctx()));
    let top: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(top, ["_type", "predicate", "predicateType", "subject"]);
    assert_eq!(v["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        v["predicateType"],
        "https://slsa.dev/verification_summary/v1"
    );
    // subject: ResourceDescriptors with digest set, algorithm -> hex (no "sha256:" prefix)
    assert_eq!(v["subject"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["subject"][0]["name"],
        "registry.example/airlock/sample:1.0"
    );
    assert_eq!(v["subject"][0]["digest"]["sha256"], &IMAGE[7..]);
    let p = &v["predicate"];
    assert_eq!(p["verifier"]["id"], VERIFIER_ID);
    assert_eq!(
        p["verifier"]["version"]["airlock"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(p["timeVerified"], AT);
    assert_eq!(p["resourceUri"], "file:///media/bundle.tar.zst");
    assert_eq!(p["policy"]["uri"], "file:///etc/airlock/trustpolicy.json");
    assert_eq!(p["policy"]["digest"]["sha256"], &POLICY[7..]);
    assert_eq!(p["policy"]["name"], "tests");
    // inputAttestations: each signature manifest, by digest, located beside its subject
    assert_eq!(p["inputAttestations"][0]["digest"]["sha256"], &SIG[7..]);
    assert_eq!(
        p["inputAttestations"][0]["uri"],
        format!("registry.example/airlock/sample@{SIG}")
    );
    assert_eq!(p["verificationResult"], "PASSED");
    let levels = p["verifiedLevels"].as_array().unwrap();
    assert!(!levels.is_empty());
    for l in levels {
        assert!(!l.as_str().unwrap().starts_with("SLSA_"), "{l}");
    }
    // airlock's detail: one extension field, under the documented name
    let d = &p[DETAIL_KEY];
    assert_eq!(d["bundleDigest"], INDEX);
    assert_eq!(d["trustAnchor"]["mode"], "local");
    assert_eq!(d["images"][0]["signatures"][0]["manifestDigest"], SIG);
    assert_eq!(
        d["images"][0]["signatures"][0]["validations"]["authenticity"]["result"],
        "pass"
    );
    assert!(d["exportedBy"].is_null());
    // No ResourceDescriptor field is null: unset fields are left out.
    for rd in [&v["subject"][0], &p["policy"], &p["inputAttestations"][0]] {
        for (k, x) in rd.as_object().unwrap() {
            assert!(!x.is_null(), "{k} is null in {rd}");
        }
    }
    let s = check_shape(&build(&report(Verdict::Pass), &ctx()).to_bytes().unwrap()).unwrap();
    assert_eq!(s.verification_result, "PASSED");
    assert!(s.has_subject(IMAGE));
    assert_eq!(s.anchor_mode(), Some("local"));
}

#[test]
fn a_failed_verification_gives_failed_and_no_level() {
    let st = build(&report(Verdict::Fail), &ctx());
    let v = json(&st);
    assert_eq!(v["predicate"]["verificationResult"], "FAILED");
    assert_eq!(
        v["predicate"]["verifiedLevels"],
        serde_json::json!(["FAILED"])
    );
    assert_eq!(
        v["predicate"][DETAIL_KEY]["failures"][0]["code"],
        "digest_mismatch"
    );
    let s = check_shape(&st.to_bytes().unwrap()).unwrap();
    assert_eq!(s.verification_result, "FAILED");
}

#[test]
fn integrity_only_and_pinned_policies_are_named_by_what_anchored_them() {
    let mut r = report(Verdict::Pass);
    r.trust_anchor = None;
    r.mode = "integrity-only";
    let mut c = ctx();
    c.policy = PolicyInput::FromReport;
    let v = json(&build(&r, &c));
    assert_eq!(
        v["predicate"]["policy"]["uri"],
        statement::INTEGRITY_ONLY_POLICY
    );
    assert_eq!(
        v["predicate"]["verifiedLevels"],
        serde_json::json!([statement::LEVEL_INTEGRITY])
    );
    r.trust_anchor = Some(TrustAnchor {
        mode: AnchorMode::Pinned,
        pin: Some(POLICY.into()),
        artifact: Some(POLICY.into()),
        fingerprints: Vec::new(),
    });
    let v = json(&build(&r, &c));
    assert_eq!(v["predicate"]["policy"]["digest"]["sha256"], &POLICY[7..]);
    assert_eq!(
        v["predicate"]["policy"]["uri"],
        format!("file:///media/bundle.tar.zst@{POLICY}")
    );
    assert_eq!(v["predicate"][DETAIL_KEY]["trustAnchor"]["pin"], POLICY);
}

#[test]
fn the_same_report_gives_the_same_bytes_and_one_image_can_be_chosen() {
    let a = build(&report(Verdict::Pass), &ctx()).to_bytes().unwrap();
    let b = build(&report(Verdict::Pass), &ctx()).to_bytes().unwrap();
    assert_eq!(a, b);
    assert!(a.ends_with(b"}\n"));
    let mut c = ctx();
    c.image = Some(INDEX.into());
    let none = json(&build(&report(Verdict::Pass), &c));
    assert_eq!(none["subject"].as_array().unwrap().len(), 0);
    // ... and a statement without subjects is not a Statement v1.
    let e = check_shape(&build(&report(Verdict::Pass), &c).to_bytes().unwrap()).unwrap_err();
    assert_eq!(e.field, "subject");
}

/// Each rule of the shape check, broken once on a good statement.
#[test]
fn the_shape_check_refuses_each_broken_rule() {
    let good = json(&build(&report(Verdict::Pass), &ctx()));
    type Breaker = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "_type",
            Box::new(|v| v["_type"] = "https://in-toto.io/Statement/v0.1".into()),
        ),
        (
            "subject",
            Box::new(|v| v["subject"] = serde_json::json!([])),
        ),
        (
            "subject[0].digest",
            Box::new(|v| {
                v["subject"][0].as_object_mut().unwrap().remove("digest");
            }),
        ),
        (
            "subject[0].digest.sha256",
            Box::new(|v| v["subject"][0]["digest"]["sha256"] = "ABC".into()),
        ),
        (
            "predicateType",
            Box::new(|v| v["predicateType"] = "https://slsa.dev/provenance/v1".into()),
        ),
        (
            "predicate.verifier.id",
            Box::new(|v| v["predicate"]["verifier"]["id"] = "".into()),
        ),
        (
            "predicate.timeVerified",
            Box::new(|v| v["predicate"]["timeVerified"] = "yesterday".into()),
        ),
        (
            "predicate.resourceUri",
            Box::new(|v| {
                v["predicate"]
                    .as_object_mut()
                    .unwrap()
                    .remove("resourceUri");
            }),
        ),
        (
            "predicate.policy",
            Box::new(|v| v["predicate"]["policy"] = serde_json::json!({"name": "x"})),
        ),
        (
            "predicate.inputAttestations[0]",
            Box::new(|v| v["predicate"]["inputAttestations"][0] = serde_json::json!({})),
        ),
        (
            "predicate.verificationResult",
            Box::new(|v| v["predicate"]["verificationResult"] = "OK".into()),
        ),
        (
            "predicate.verifiedLevels",
            Box::new(|v| {
                v["predicate"]
                    .as_object_mut()
                    .unwrap()
                    .remove("verifiedLevels");
            }),
        ),
        (
            "predicate.verifiedLevels[0]",
            Box::new(|v| v["predicate"]["verifiedLevels"][0] = "SLSA_AIRLOCK".into()),
        ),
        (
            "predicate.verifiedLevels",
            Box::new(|v| v["predicate"]["verificationResult"] = "FAILED".into()),
        ),
    ];
    for (field, break_it) in cases {
        let mut v = good.clone();
        break_it(&mut v);
        let e = check_shape(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert_eq!(e.field, field, "{e}");
    }
    // Unrecognised fields are ignored (in-toto parsing rules); SLSA levels are not custom values.
    let mut v = good.clone();
    v["predicate"]["futureField"] = serde_json::json!({"x": 1});
    v["predicate"]["verifiedLevels"] = serde_json::json!(["SLSA_BUILD_LEVEL_3"]);
    check_shape(&serde_json::to_vec(&v).unwrap()).unwrap();
    // A duplicate key is refused: two readers could see two statements.
    let dup = br#"{"_type":"https://in-toto.io/Statement/v1","_type":"x"}"#;
    assert_eq!(check_shape(dup).unwrap_err().field, "(statement)");
}

#[test]
fn the_detail_key_is_the_serialized_name() {
    let v = json(&build(&report(Verdict::Pass), &ctx()));
    assert!(v["predicate"].get(DETAIL_KEY).is_some());
}

#[test]
fn file_uris_are_absolute_and_escaped() {
    assert_eq!(
        statement::file_uri(Path::new("/a b/c#d.tar")),
        "file:///a%20b/c%23d.tar"
    );
    assert_eq!(statement::file_uri(Path::new("-")), "file:///dev/stdin");
}

// --- Signing and checking with the test PKI ------------------------------------------------

fn chk(
    statement: &[u8],
    envelope: Option<&[u8]>,
    trust: &TrustInputs,
    scope: Option<&str>,
    subject: Option<&str>,
) -> Check {
    check(
        &Receipt {
            statement,
            envelope,
            manifest: None,
        },
        trust,
        scope,
        subject,
    )
}

struct Pki {
    _t: tempfile::TempDir,
    material: SigningMaterial,
    trust: TrustInputs,
    other: TrustInputs,
}

fn trust_at(dir: &Path, name: &str, root: &[u8], identity: &str, scope: &str) -> TrustInputs {
    let store = dir.join(name);
    let ca = store.join("x509/ca/receipts");
    fs::create_dir_all(&ca).unwrap();
    fs::write(ca.join("root.crt"), pki::certs_pem(&[root.to_vec()])).unwrap();
    let doc = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "receipts",
            "registryScopes": [scope],
            "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:receipts"],
            "trustedIdentities": [identity],
        }]
    });
    TrustInputs {
        policy: crate::notary::policy::parse(&serde_json::to_vec(&doc).unwrap()).unwrap(),
        store_root: store,
        crls: Vec::new(),
        at: AT.parse::<jiff::Timestamp>().unwrap().as_second(),
        scope: None,
        user_metadata: Vec::new(),
        names: crate::verify::signature::Names::Annotations,
    }
}

fn pki(format: EnvelopeFormat) -> Pki {
    let t = tempfile::tempdir().unwrap();
    let c = pki::chain(Alg::P256, &[], Alg::P256, 410);
    let other = pki::chain(Alg::P256, &[], Alg::P256, 420);
    let trust = trust_at(
        t.path(),
        "site",
        c.root(),
        &pki::identity(&c.leaf_cn),
        RECEIPT_SCOPE,
    );
    let other = trust_at(
        t.path(),
        "other",
        other.root(),
        &pki::identity(&other.leaf_cn),
        RECEIPT_SCOPE,
    );
    Pki {
        material: SigningMaterial {
            key: read_private_key_pem(c.key_pem.as_bytes()).unwrap(),
            chain: c.certs.clone(),
            format,
        },
        trust,
        other,
        _t: t,
    }
}

fn signed(k: &Pki) -> (Vec<u8>, Vec<u8>) {
    let bytes = build(&report(Verdict::Pass), &ctx()).to_bytes().unwrap();
    let at = AT.parse::<jiff::Timestamp>().unwrap().as_second();
    let env = sign_statement(&bytes, &k.material, at).unwrap();
    (bytes, env)
}

#[test]
fn a_signed_receipt_checks_with_the_site_store_and_fails_with_another() {
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let k = pki(format);
        let (bytes, env) = signed(&k);
        assert_eq!(sign::format_of(&env), format);
        let c = chk(&bytes, Some(&env), &k.trust, None, Some(IMAGE));
        assert_eq!(c.verdict, Verdict::Pass, "{:?}", c.failures);
        assert_eq!(c.scope, RECEIPT_SCOPE);
        assert_eq!(c.policy.as_ref().unwrap().name, "receipts");
        let sig = c.signature.as_ref().unwrap();
        assert_eq!(sig.signing_time.as_deref(), Some(AT));
        assert!(c.statement.is_some());

        let c = chk(&bytes, Some(&env), &k.other, None, None);
        assert_eq!(c.verdict, Verdict::Fail);
        assert_eq!(
            c.failures[0].code,
            CheckCode::Signature(Code::UntrustedSigner),
            "{:?}",
            c.failures
        );
        assert_eq!(c.signature.as_ref().unwrap().verdict, Verdict::Fail);
    }
}

#[test]
fn an_altered_statement_or_a_missing_signature_or_subject_fails() {
    let k = pki(EnvelopeFormat::Jws);
    let (bytes, env) = signed(&k);
    let altered = String::from_utf8(bytes.clone())
        .unwrap()
        .replace("\"PASSED\"", "\"FAILED\"")
        .replace("AIRLOCK_INTEGRITY_VERIFIED", "FAILED");
    let c = chk(altered.as_bytes(), Some(&env), &k.trust, None, None);
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(
        c.failures[0].code,
        CheckCode::Signature(Code::PayloadMismatch),
        "{:?}",
        c.failures
    );
    let c = chk(&bytes, None, &k.trust, None, None);
    assert_eq!(c.failures[0].code, CheckCode::Unsigned);
    let c = chk(&bytes, Some(&env), &k.trust, None, Some(SIG));
    assert_eq!(c.failures[0].code, CheckCode::SubjectNotListed);
    // A policy without a statement for the receipt scope: no applicable policy.
    let c = chk(
        &bytes,
        Some(&env),
        &k.trust,
        Some("registry.example/other"),
        None,
    );
    assert_eq!(
        c.failures[0].code,
        CheckCode::Signature(Code::NoApplicablePolicy)
    );
}

#[test]
fn an_authentic_receipt_of_a_failure_is_not_a_pass() {
    let k = pki(EnvelopeFormat::Jws);
    let bytes = build(&report(Verdict::Fail), &ctx()).to_bytes().unwrap();
    let at = AT.parse::<jiff::Timestamp>().unwrap().as_second();
    let env = sign_statement(&bytes, &k.material, at).unwrap();
    let c = chk(&bytes, Some(&env), &k.trust, None, None);
    assert_eq!(c.signature.as_ref().unwrap().verdict, Verdict::Pass);
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(c.failures.len(), 1);
    assert_eq!(c.failures[0].code, CheckCode::RecordedFailed);
}

#[test]
fn a_key_that_is_not_the_leafs_is_refused_before_anything_is_signed() {
    let k = pki(EnvelopeFormat::Jws);
    let other = pki::chain(Alg::P256, &[], Alg::P256, 430);
    let m = SigningMaterial {
        key: read_private_key_pem(other.key_pem.as_bytes()).unwrap(),
        chain: k.material.chain.clone(),
        format: EnvelopeFormat::Jws,
    };
    let e = sign_statement(b"{}", &m, 1_767_225_600).unwrap_err();
    assert_eq!(e.code(), "key_certificate_mismatch");
}

// --- The receipt as OCI artifacts ----------------------------------------------------------

fn image_descriptor() -> crate::notary::sign::TargetDescriptor {
    crate::notary::sign::TargetDescriptor {
        media_type: "application/vnd.oci.image.index.v1+json".into(),
        digest: crate::digest::Digest::parse(IMAGE).unwrap(),
        size: 517,
    }
}

#[test]
fn the_receipt_manifest_follows_the_oci_artifact_guidance_and_its_signature_subject_is_it() {
    let k = pki(EnvelopeFormat::Cose);
    let mut c = ctx();
    c.image = Some(IMAGE.into());
    let statement = build(&report(Verdict::Pass), &c).to_bytes().unwrap();
    let at = AT.parse::<jiff::Timestamp>().unwrap().as_second();
    let a = oci::artifacts(statement.clone(), &image_descriptor(), &k.material, at, AT).unwrap();
    let m: Value = serde_json::from_slice(&a.manifest).unwrap();
    let keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "annotations",
            "artifactType",
            "config",
            "layers",
            "mediaType",
            "schemaVersion",
            "subject"
        ]
    );
    assert_eq!(m["artifactType"], MEDIA_TYPE);
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(m["config"]["size"], 2);
    assert_eq!(m["config"]["data"], "e30=");
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
    assert_eq!(m["layers"][0]["mediaType"], MEDIA_TYPE);
    assert_eq!(
        m["layers"][0]["digest"],
        crate::digest::Digest::sha256(&statement).to_string()
    );
    assert_eq!(m["subject"]["digest"], IMAGE);
    assert_eq!(m["annotations"]["org.opencontainers.image.created"], AT);
    let sig: Value = serde_json::from_slice(&a.signature.bytes).unwrap();
    assert_eq!(sig["artifactType"], "application/vnd.cncf.notary.signature");
    assert_eq!(
        sig["subject"]["digest"],
        a.manifest_descriptor.digest.to_string()
    );
    assert_eq!(sig["layers"][0]["mediaType"], "application/cose");
    assert_eq!(
        sig["layers"][0]["digest"],
        crate::digest::Digest::sha256(&a.envelope).to_string()
    );

    // The pulled parts check: statement + manifest + envelope over the manifest.
    let receipt = Receipt {
        statement: &a.statement,
        envelope: Some(&a.envelope),
        manifest: Some(&a.manifest),
    };
    let ok = check(&receipt, &k.trust, None, Some(IMAGE));
    assert_eq!(ok.verdict, Verdict::Pass, "{:?}", ok.failures);
    // `--bundle-digest`: the receipt binds its bundle by `index.json` digest (red team J, J6).
    let mut same = ok.clone();
    same.require_bundle(INDEX);
    assert_eq!(same.verdict, Verdict::Pass, "{:?}", same.failures);
    let mut other = ok.clone();
    other.require_bundle(SIG);
    assert_eq!(other.verdict, Verdict::Fail);
    assert_eq!(other.failures[0].code, CheckCode::BundleNotMatched);
    assert_eq!(
        ok.manifest.as_ref().unwrap().subject.as_deref(),
        Some(IMAGE)
    );
    // The envelope signs the manifest, not the statement: without the manifest it does not match.
    let alone = check(
        &Receipt {
            manifest: None,
            ..receipt
        },
        &k.trust,
        None,
        None,
    );
    assert_eq!(
        alone.failures[0].code,
        CheckCode::Signature(Code::PayloadMismatch)
    );
    // Another statement under the same manifest and envelope: the manifest's layer is not it.
    let other = build(&report(Verdict::Fail), &c).to_bytes().unwrap();
    let bad = check(
        &Receipt {
            statement: &other,
            ..receipt
        },
        &k.trust,
        None,
        None,
    );
    assert_eq!(
        bad.failures[0].code,
        CheckCode::ManifestInvalid,
        "{:?}",
        bad.failures
    );
    // A manifest attached to another image than the statement names.
    let elsewhere = crate::notary::sign::TargetDescriptor {
        digest: crate::digest::Digest::parse(SIG).unwrap(),
        ..image_descriptor()
    };
    let b = oci::artifacts(statement.clone(), &elsewhere, &k.material, at, AT).unwrap();
    let r = check(
        &Receipt {
            statement: &b.statement,
            envelope: Some(&b.envelope),
            manifest: Some(&b.manifest),
        },
        &k.trust,
        None,
        None,
    );
    assert_eq!(
        r.failures[0].code,
        CheckCode::SubjectNotListed,
        "{:?}",
        r.failures
    );
}

#[test]
fn a_verification_that_left_blobs_out_claims_integrity_except_them() {
    let levels = |r: &Report| json(&build(r, &ctx()))["predicate"]["verifiedLevels"].clone();
    let mut r = report(Verdict::Pass);
    r.left_out = Some(crate::verify::report::LeftOutReport {
        blobs: 4,
        record: Some(POLICY.into()),
        authenticated: true,
    });
    assert_eq!(
        levels(&r),
        serde_json::json!([
            statement::LEVEL_INTEGRITY_PARTIAL,
            statement::LEVEL_SIGNATURES
        ])
    );
    r.left_out = Some(crate::verify::report::LeftOutReport {
        blobs: 0,
        record: None,
        authenticated: false,
    });
    assert_eq!(
        levels(&r),
        serde_json::json!([statement::LEVEL_INTEGRITY, statement::LEVEL_SIGNATURES])
    );
}

#[test]
fn signatures_are_claimed_only_when_authenticity_was_enforced() {
    let levels = |r: &Report| json(&build(r, &ctx()))["predicate"]["verifiedLevels"].clone();
    let both = serde_json::json!([statement::LEVEL_INTEGRITY, statement::LEVEL_SIGNATURES]);
    let integrity = serde_json::json!([statement::LEVEL_INTEGRITY]);
    assert_eq!(levels(&report(Verdict::Pass)), both);
    // audit: authenticity logged, whether the signer was trusted or not.
    for outcome in [Outcome::Pass, Outcome::Fail] {
        let mut r = report(Verdict::Pass);
        r.images[0].policy = Some(PolicyRef {
            name: "tests".into(),
            level: "audit",
        });
        let sig = &mut r.images[0].signatures.as_mut().unwrap()[0];
        sig.validations.authenticity = Validation {
            result: outcome,
            action: Action::Log,
            reason: None,
        };
        assert_eq!(levels(&r), integrity, "audit, authenticity {outcome:?}");
    }
    // skip: nothing verified.
    let mut r = report(Verdict::Pass);
    r.images[0].policy = Some(PolicyRef {
        name: "tests".into(),
        level: "skip",
    });
    r.images[0].signatures = None;
    assert_eq!(levels(&r), integrity, "skip");
    let mut r = report(Verdict::Pass);
    r.images[0].signatures = Some(Vec::new());
    assert_eq!(levels(&r), integrity);
    // --trust-bundled: the policy and roots are the carrier's word, so a pass proves integrity
    // only (the report's `bundled-unpinned`); the receipt must not claim signatures either.
    let mut r = report(Verdict::Pass);
    r.trust_anchor = Some(TrustAnchor {
        mode: AnchorMode::BundledUnpinned,
        pin: None,
        artifact: Some(POLICY.into()),
        fingerprints: vec![SIG.into()],
    });
    assert_eq!(levels(&r), integrity, "bundled-unpinned");
    let v = json(&build(&r, &ctx()));
    assert_eq!(
        v["predicate"][DETAIL_KEY]["trustAnchor"]["mode"],
        "bundled-unpinned"
    );
    // Pinned: the artifact is authenticated out of band, so signatures are claimed.
    r.trust_anchor = Some(TrustAnchor {
        mode: AnchorMode::Pinned,
        pin: Some(POLICY.into()),
        artifact: Some(POLICY.into()),
        fingerprints: vec![SIG.into()],
    });
    assert_eq!(levels(&r), both, "pinned");
}

#[test]
fn signatures_are_claimed_from_the_validations_not_the_level_name() {
    // A `strict` statement whose `override` logs authenticity (the red team's F5): an untrusted
    // signer passes, and the level name still says strict. The claim follows the signature's own
    // validations: integrity and authenticity each `pass` under `enforce`.
    let levels = |r: &Report| json(&build(r, &ctx()))["predicate"]["verifiedLevels"].clone();
    let both = serde_json::json!([statement::LEVEL_INTEGRITY, statement::LEVEL_SIGNATURES]);
    let integrity = serde_json::json!([statement::LEVEL_INTEGRITY]);
    let with = |edit: &dyn Fn(&mut Validations)| {
        let mut r = report(Verdict::Pass);
        edit(&mut r.images[0].signatures.as_mut().unwrap()[0].validations);
        levels(&r)
    };
    let logged = |result| Validation {
        result,
        action: Action::Log,
        reason: None,
    };
    assert_eq!(
        with(&|v| v.authenticity = logged(Outcome::Fail)),
        integrity,
        "authenticity failed, logged"
    );
    assert_eq!(
        with(&|v| v.authenticity = logged(Outcome::Pass)),
        integrity,
        "authenticity passed, logged"
    );
    assert_eq!(
        with(&|v| {
            v.authenticity = Validation {
                result: Outcome::Skipped,
                action: Action::Skip,
                reason: None,
            }
        }),
        integrity,
        "authenticity skipped"
    );
    assert_eq!(
        with(&|v| v.integrity = logged(Outcome::Pass)),
        integrity,
        "integrity logged"
    );
    // The other validations (timestamp, expiry, revocation) logged: signatures still verified.
    assert_eq!(
        with(&|v| {
            v.expiry = logged(Outcome::Fail);
            v.revocation = logged(Outcome::Unknown);
        }),
        both
    );
    // Two images: every one must pass on such a signature.
    let mut r = report(Verdict::Pass);
    let mut second = r.images[0].clone();
    second.digest = INDEX.into();
    second.signatures.as_mut().unwrap()[0]
        .validations
        .authenticity = logged(Outcome::Fail);
    r.images.push(second.clone());
    assert_eq!(levels(&r), integrity, "one image of two on a logged signer");
    // ... and one such signature beside a logged one is enough for its image.
    let mut good = signature();
    good.subject_digest = INDEX.into();
    second.signatures.as_mut().unwrap().push(good);
    r.images[1] = second;
    assert_eq!(levels(&r), both, "a verified signature beside a logged one");
}

#[test]
fn a_verification_of_an_index_with_platforms_left_out_claims_integrity_except_them() {
    let mut r = report(Verdict::Pass);
    r.images[0].platforms_left_out = vec!["linux/arm64".into()];
    let statement = json(&build(&r, &ctx()));
    assert_eq!(
        statement["predicate"]["verifiedLevels"],
        serde_json::json!([
            statement::LEVEL_INTEGRITY_PARTIAL,
            statement::LEVEL_SIGNATURES
        ])
    );
    assert_eq!(
        statement["predicate"][super::DETAIL_KEY]["images"][0]["platformsLeftOut"],
        serde_json::json!(["linux/arm64"])
    );
    // A non-distributable layer not carried, or a manifest left out that no image index lists
    // among its platforms (a nested index's child), likewise (red team K, K01).
    for code in [Code::ForeignBlobAbsent, Code::ExcludedByExport] {
        let mut r = report(Verdict::Pass);
        r.warnings.push(Finding::new(code, "not carried"));
        assert_eq!(
            json(&build(&r, &ctx()))["predicate"]["verifiedLevels"][0],
            statement::LEVEL_INTEGRITY_PARTIAL
        );
    }
}

#[test]
fn the_warnings_of_a_passing_verification_are_in_the_detail() {
    let mut r = report(Verdict::Pass);
    let plain = json(&build(&r, &ctx()));
    assert!(
        plain["predicate"][super::DETAIL_KEY]
            .get("warnings")
            .is_none(),
        "no warnings, no field"
    );
    r.warnings.push(
        Finding::new(
            Code::PlatformMismatch,
            "labelled linux/arm64, config says linux/amd64",
        )
        .digest(INDEX),
    );
    let statement = json(&build(&r, &ctx()));
    assert_eq!(statement["predicate"]["verificationResult"], "PASSED");
    let w = &statement["predicate"][super::DETAIL_KEY]["warnings"];
    assert_eq!(w[0]["code"], "platform_mismatch", "{w}");
    assert_eq!(w[0]["digest"], INDEX, "{w}");
    // `receipt verify` reads them back for its summary.
    let bytes = build(&r, &ctx()).to_bytes().unwrap();
    let summary = super::shape::check_shape(&bytes).unwrap();
    assert_eq!(
        summary.warnings(),
        ["platform_mismatch: labelled linux/arm64, config says linux/amd64"]
    );
    let plain = build(&report(Verdict::Pass), &ctx()).to_bytes().unwrap();
    assert!(super::shape::check_shape(&plain)
        .unwrap()
        .warnings()
        .is_empty());
}

#[test]
fn a_required_user_metadata_gate_is_in_the_detail() {
    let mut r = report(Verdict::Pass);
    let plain = build(&r, &ctx()).to_bytes().unwrap();
    r.required_user_metadata = [("env".to_owned(), "prod".to_owned())].into();
    let gated = build(&r, &ctx()).to_bytes().unwrap();
    assert_ne!(plain, gated);
    assert_eq!(
        json(&build(&r, &ctx()))["predicate"][super::DETAIL_KEY]["requiredUserMetadata"],
        serde_json::json!({"env": "prod"})
    );
}
