//! Unit tests of the decision phase (SPEC-NOTES errata 8 and 18) and of the names images are judged
//! under, over small in-memory catalogs: no envelope is evaluated.

use std::path::PathBuf;

use crate::digest::Digest;
use crate::finding::Code;
use crate::layout::model::{self, Descriptor, Document};
use crate::layout::{BlobEntry, BundleFormat, Catalog, Content, Limits};
use crate::notary::policy;
use crate::verify::integrity::{ImageInfo, Integrity};

use super::decide::{decide, name_of, verify_target, Ctx, TargetOutcome};
use super::{Names, SignatureFailure, StoreCache, Target, TrustInputs, Verdict};

const POLICY: &str = r#"{"version":"1.0","trustPolicies":[{"name":"all","registryScopes":["*"],
    "signatureVerification":{"level":"strict"},"trustStores":["ca:none"],"trustedIdentities":["*"]}]}"#;

fn target(n: u8) -> Target {
    Target {
        media_type: model::OCI_MANIFEST.to_owned(),
        digest: Digest::sha256(&[n]).to_string(),
        size: 100,
    }
}

fn failure(code: Code, message: &str) -> Option<SignatureFailure> {
    Some(SignatureFailure {
        code,
        message: message.to_owned(),
    })
}

fn passed() -> TargetOutcome {
    TargetOutcome {
        signed: true,
        passed: true,
        failure: None,
    }
}

fn failed(code: Code) -> TargetOutcome {
    TargetOutcome {
        signed: true,
        passed: false,
        failure: failure(code, "it failed"),
    }
}

fn unsigned() -> TargetOutcome {
    TargetOutcome {
        signed: false,
        passed: false,
        failure: failure(Code::NoSignature, "no signature is associated with it"),
    }
}

#[test]
fn a_signed_index_passes_and_a_failing_platform_manifest_is_a_warning() {
    let d = decide(
        "sha256:top",
        passed(),
        vec![(target(1), passed()), (target(2), failed(Code::Revoked))],
        None,
    );
    assert_eq!(d.verdict, Verdict::Pass);
    assert!(d.failure.is_none());
    let [w] = d.warnings.as_slice() else {
        panic!("one warning expected: {:?}", d.warnings)
    };
    assert_eq!(w.code, Code::Revoked);
    assert_eq!(
        w.message,
        format!(
            "platform manifest {} of a verified index: it failed",
            target(2).digest
        )
    );
    // An unsigned platform manifest of a signed index is no warning.
    let d = decide("sha256:top", passed(), vec![(target(1), unsigned())], None);
    assert_eq!(d.verdict, Verdict::Pass);
    assert!(d.warnings.is_empty());
}

#[test]
fn a_signed_index_whose_signatures_fail_fails_whatever_its_children() {
    let d = decide(
        "sha256:top",
        failed(Code::UntrustedSigner),
        vec![(target(1), passed())],
        None,
    );
    assert_eq!(d.verdict, Verdict::Fail);
    assert_eq!(d.failure.map(|f| f.code), Some(Code::UntrustedSigner));
}

#[test]
fn an_unsigned_index_is_judged_by_its_platform_manifests() {
    let d = decide(
        "sha256:top",
        unsigned(),
        vec![(target(1), passed()), (target(2), passed())],
        None,
    );
    assert_eq!(d.verdict, Verdict::Pass);
    assert!(d.failure.is_none() && d.warnings.is_empty());

    let d = decide(
        "sha256:top",
        unsigned(),
        vec![
            (target(1), passed()),
            (target(2), unsigned()),
            (target(3), failed(Code::Revoked)),
        ],
        None,
    );
    assert_eq!(d.verdict, Verdict::Fail);
    let f = d.failure.expect("a failure");
    // The first failing platform manifest decides.
    assert_eq!(f.code, Code::NoSignature);
    assert_eq!(
        f.message,
        format!(
            "index sha256:top has no signature, and its platform manifest {}: no signature is associated with it",
            target(2).digest
        )
    );
    assert!(d.warnings.is_empty());
}

/// A platform manifest left out of an unsigned index is judged by nothing: the image fails, even
/// when every platform manifest carried passes (the carrier wrote the index, and which children it
/// lists). A signed index vouches for its children by digest: leaving one out changes nothing.
#[test]
fn an_unsigned_index_with_a_platform_left_out_fails_unless_vouched_for() {
    let left_out = target(9).digest;
    let d = decide(
        "sha256:top",
        unsigned(),
        vec![(target(1), passed())],
        Some(&left_out),
    );
    assert_eq!(d.verdict, Verdict::Fail);
    let f = d.failure.expect("a failure");
    assert_eq!(f.code, Code::NoSignature);
    assert!(
        f.message.contains(&left_out) && f.message.contains("not in the bundle"),
        "{}",
        f.message
    );
    let d = decide(
        "sha256:top",
        passed(),
        vec![(target(1), passed())],
        Some(&left_out),
    );
    assert_eq!(d.verdict, Verdict::Pass);
}

#[test]
fn an_unsigned_manifest_fails_with_no_signature() {
    let d = decide("sha256:top", unsigned(), Vec::new(), None);
    assert_eq!(d.verdict, Verdict::Fail);
    assert_eq!(d.failure.map(|f| f.code), Some(Code::NoSignature));
}

/// A catalog and integrity outcome holding `docs` (each a blob and a parsed document), with the
/// index.json entries `entries`.
fn bundle(docs: &[&[u8]]) -> (Catalog, Integrity) {
    let mut cat = Catalog::new(BundleFormat::Directory, true);
    let mut integrity = Integrity::default();
    for bytes in docs {
        let d = Digest::sha256(bytes);
        cat.insert(
            d.clone(),
            BlobEntry {
                size: u64::try_from(bytes.len()).expect("small"),
                actual: Some(d.clone()),
                content: Content::Json(bytes.to_vec().into()),
            },
            &Limits::default(),
        );
        integrity
            .documents
            .insert(d, Document::parse(bytes).expect("a document"));
    }
    (cat, integrity)
}

fn descriptor(media_type: &str, bytes: &[u8]) -> Descriptor {
    serde_json::from_value(serde_json::json!({
        "mediaType": media_type,
        "digest": Digest::sha256(bytes).to_string(),
        "size": bytes.len(),
    }))
    .expect("a descriptor")
}

fn inputs(names: Names) -> TrustInputs {
    TrustInputs {
        policy: policy::parse(POLICY.as_bytes()).expect("the policy"),
        store_root: PathBuf::from("/nonexistent"),
        crls: Vec::new(),
        at: 0,
        scope: None,
        user_metadata: Vec::new(),
        names,
    }
}

/// An image manifest with no layers (its config is the two bytes `{}`).
const IMAGE: &[u8] = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

/// A notation signature manifest of `subject` whose layers are `layers` (JWS envelopes of one
/// byte), with `annotations`.
fn signature_manifest(
    subject: &Descriptor,
    layers: usize,
    annotations: serde_json::Value,
) -> Vec<u8> {
    let layer = serde_json::json!({"mediaType":"application/jose+json","digest":Digest::sha256(b"e").to_string(),"size":1});
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": model::OCI_MANIFEST,
        "artifactType": model::NOTARY_SIGNATURE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
        "layers": vec![layer; layers],
        "subject": {"mediaType": model::OCI_MANIFEST, "digest": subject.digest, "size": subject.size},
        "annotations": annotations,
    }))
    .expect("json")
}

/// `verify_target` of `subject` in `cat` with the index.json `entries`, under the test policy's
/// statement for `example.com/app`: its outcome and the signatures evaluated.
fn judge_subject(
    cat: &Catalog,
    integrity: &Integrity,
    entries: &[Descriptor],
    subject: &Descriptor,
) -> (TargetOutcome, Vec<super::SignatureReport>) {
    let inputs = inputs(Names::Annotations);
    let ctx = Ctx {
        cat,
        integrity,
        entries,
        inputs: &inputs,
        evaluated: Default::default(),
    };
    let statement = inputs
        .policy
        .statement_for("example.com/app")
        .expect("a statement");
    let mut stores = StoreCache::new(&inputs.store_root);
    let mut reports = Vec::new();
    let t = Target {
        media_type: model::OCI_MANIFEST.to_owned(),
        digest: subject.digest.clone(),
        size: subject.size,
    };
    let o = verify_target(&t, &ctx, statement, &mut stores, &mut reports);
    (o, reports)
}

#[test]
fn a_malformed_signature_manifest_aborts_its_subject_before_any_envelope_is_read() {
    let image = IMAGE;
    let subject = descriptor(model::OCI_MANIFEST, image);
    let signature = signature_manifest(&subject, 2, serde_json::json!({}));
    let (cat, integrity) = bundle(&[image, &signature]);
    let entries = vec![subject.clone(), descriptor(model::OCI_MANIFEST, &signature)];
    let (o, reports) = judge_subject(&cat, &integrity, &entries, &subject);
    assert!(o.signed && !o.passed);
    let f = o.failure.expect("a failure");
    assert_eq!(f.code, Code::SignatureManifestInvalid);
    assert!(
        f.message
            .starts_with(&format!("verification of {} aborted: ", subject.digest))
            && f.message
                .contains("has 2 layers, expected exactly one envelope"),
        "{}",
        f.message
    );
    assert!(reports.is_empty(), "no signature evaluated: {reports:?}");

    // Without its signature, the same target is unsigned.
    let (o, _) = judge_subject(&cat, &integrity, &entries[..1], &subject);
    assert!(!o.signed && !o.passed);
    assert_eq!(o.failure.map(|f| f.code), Some(Code::NoSignature));
}

fn image(reference: Option<&str>, digest: &str) -> ImageInfo {
    ImageInfo {
        reference: reference.map(str::to_owned),
        digest: digest.to_owned(),
        media_type: model::OCI_MANIFEST.to_owned(),
        platforms: Vec::new(),
        platforms_left_out: Vec::new(),
        size: 0,
        referrers: Vec::new(),
    }
}

fn entry(digest: &str, names: &[(&str, &str)]) -> Descriptor {
    let annotations: serde_json::Map<String, serde_json::Value> = names
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
        .collect();
    serde_json::from_value(serde_json::json!({
        "mediaType": model::OCI_MANIFEST,
        "digest": digest,
        "size": 10,
        "annotations": annotations,
    }))
    .expect("a descriptor")
}

fn record(pairs: &[(&str, &str)]) -> Names {
    Names::Record(
        pairs
            .iter()
            .map(|(r, d)| ((*r).to_owned(), (*d).to_owned()))
            .collect(),
    )
}

#[test]
fn annotations_name_an_image_by_its_reference() {
    let im = image(Some("example.com/app:1"), "sha256:aa");
    assert_eq!(
        name_of(&im, &[], &Names::Annotations),
        Ok(Some("example.com/app:1".to_owned()))
    );
    assert_eq!(
        name_of(&image(None, "sha256:aa"), &[], &Names::Annotations),
        Ok(None)
    );
    // A name that pins a digest is this image's only when it pins this image's digest (red team
    // D, D-02), under annotations and under the record alike.
    for reference in ["example.com/app@sha256:aa", "example.com/app:1@sha256:aa"] {
        assert_eq!(
            name_of(
                &image(Some(reference), "sha256:aa"),
                &[],
                &Names::Annotations
            ),
            Ok(Some(reference.to_owned()))
        );
    }
    for reference in ["example.com/app@sha256:bb", "example.com/app:1@sha256:bb"] {
        let (code, why) = name_of(
            &image(Some(reference), "sha256:aa"),
            &[],
            &Names::Annotations,
        )
        .expect_err("a name pinning another digest");
        assert_eq!(code, Code::ScopeUnknown);
        assert!(
            why.contains("sha256:bb") && why.contains("sha256:aa"),
            "{why}"
        );
        let names = record(&[(reference, "sha256:aa")]);
        assert!(name_of(&image(Some(reference), "sha256:aa"), &[], &names).is_err());
    }
}

#[test]
fn the_export_record_names_an_image_only_under_the_name_it_gives_its_digest() {
    let names = record(&[
        ("example.com/app:1", "sha256:aa"),
        ("example.com/app:2", "sha256:aa"),
    ]);
    let entries = [entry(
        "sha256:aa",
        &[(model::REF_NAME, "example.com/app:1")],
    )];
    let im = image(Some("example.com/app:1"), "sha256:aa");
    assert_eq!(
        name_of(&im, &entries, &names),
        Ok(Some("example.com/app:1".to_owned()))
    );

    // A name the record does not give this digest.
    let im = image(Some("example.com/other:1"), "sha256:aa");
    let e = name_of(&im, &entries, &names)
        .expect_err("not in the record")
        .1;
    assert!(e.contains("is not in the pinned export record: this digest was exported as example.com/app:1, example.com/app:2"), "{e}");

    // A digest the record does not have.
    let im = image(Some("example.com/app:1"), "sha256:bb");
    let e = name_of(&im, &entries, &names)
        .expect_err("not in the record")
        .1;
    assert!(e.ends_with(": no exported image has this digest"), "{e}");

    // An unnamed image.
    let e = name_of(&image(None, "sha256:aa"), &entries, &names)
        .expect_err("unnamed")
        .1;
    assert!(
        e.starts_with("image (unnamed) (sha256:aa) is not in the pinned export record"),
        "{e}"
    );
}

#[test]
fn a_second_name_annotation_the_record_does_not_give_fails_the_image() {
    let names = record(&[("example.com/app:1", "sha256:aa")]);
    let entries = [entry(
        "sha256:aa",
        &[
            (model::CONTAINERD_NAME, "example.com/app:1"),
            (model::REF_NAME, "latest"),
        ],
    )];
    let im = image(Some("example.com/app:1"), "sha256:aa");
    let (code, e) = name_of(&im, &entries, &names).expect_err("a second name");
    assert_eq!(code, Code::NotInExportRecord);
    assert!(
        e.contains(r#"also carries the name "latest" (org.opencontainers.image.ref.name)"#),
        "{e}"
    );
}

#[test]
fn under_local_trust_a_full_second_name_that_disagrees_fails_a_bare_tag_does_not() {
    let im = image(Some("example.com/prod/app:1"), "sha256:aa");
    let with = |ref_name: &str| {
        [entry(
            "sha256:aa",
            &[
                (model::CONTAINERD_NAME, "example.com/prod/app:1"),
                (model::REF_NAME, ref_name),
            ],
        )]
    };
    // `ctr export`'s form: the ref.name is the tag.
    assert_eq!(
        name_of(&im, &with("1"), &Names::Annotations),
        Ok(Some("example.com/prod/app:1".to_owned()))
    );
    assert_eq!(
        name_of(&im, &with("example.com/prod/app:1"), &Names::Annotations),
        Ok(Some("example.com/prod/app:1".to_owned()))
    );
    // Another repository (or tag) other tools would read: refused.
    for other in ["example.com/scratch:1", "example.com/prod/app:2"] {
        let (code, e) =
            name_of(&im, &with(other), &Names::Annotations).expect_err("two names disagree");
        assert_eq!(code, Code::ScopeUnknown, "{other}");
        assert!(e.contains("the two names disagree"), "{e}");
    }
}

#[test]
fn at_most_one_hundred_signatures_of_a_target_are_tried() {
    // SPEC-NOTES erratum 18 (notation CLI's --max-signatures default): a carrier who adds
    // signatures makes at most 100 evaluations per target, whatever the count.
    let image = IMAGE;
    let subject = descriptor(model::OCI_MANIFEST, image);
    let signatures: Vec<Vec<u8>> = (0..=super::MAX_SIGNATURES_PER_TARGET)
        .map(|i| signature_manifest(&subject, 1, serde_json::json!({"n": i.to_string()})))
        .collect();
    assert_eq!(signatures.len(), 101);
    let mut docs: Vec<&[u8]> = vec![image];
    docs.extend(signatures.iter().map(Vec::as_slice));
    let (cat, integrity) = bundle(&docs);
    let mut entries = vec![subject.clone()];
    entries.extend(
        signatures
            .iter()
            .map(|s| descriptor(model::OCI_MANIFEST, s)),
    );
    let inputs = inputs(Names::Annotations);
    let ctx = Ctx {
        cat: &cat,
        integrity: &integrity,
        entries: &entries,
        inputs: &inputs,
        evaluated: Default::default(),
    };
    let statement = inputs
        .policy
        .statement_for("example.com/app")
        .expect("a statement");
    let mut stores = StoreCache::new(&inputs.store_root);
    let mut reports = Vec::new();
    let t = Target {
        media_type: model::OCI_MANIFEST.to_owned(),
        digest: subject.digest.clone(),
        size: subject.size,
    };
    let o = verify_target(&t, &ctx, statement, &mut stores, &mut reports);
    assert!(o.signed && !o.passed);
    assert_eq!(reports.len(), 100, "at most 100 signatures are tried");
}

#[test]
fn an_envelope_dropped_for_the_memory_budget_is_a_limit_not_a_bad_signature() {
    // Red team I, I-08: a carrier's junk first in a tarball spends the budget before the
    // publisher's envelope; the signature was blamed (signature_integrity).
    let image = IMAGE;
    let subject = descriptor(model::OCI_MANIFEST, image);
    let signature = signature_manifest(&subject, 1, serde_json::json!({}));
    let (mut cat, integrity) = bundle(&[image, &signature]);
    cat.insert(
        Digest::sha256(b"e"),
        BlobEntry {
            size: 1,
            actual: Some(Digest::sha256(b"e")),
            content: Content::NotRetained,
        },
        &Limits::default(),
    );
    let entries = vec![subject.clone(), descriptor(model::OCI_MANIFEST, &signature)];
    let (o, reports) = judge_subject(&cat, &integrity, &entries, &subject);
    assert!(!o.passed);
    let failures: Vec<Code> = reports
        .iter()
        .filter_map(|r| r.failure.as_ref().map(|f| f.code))
        .collect();
    assert_eq!(failures, vec![Code::LimitExceeded], "{reports:?}");
    assert_eq!(o.failure.map(|f| f.code), Some(Code::LimitExceeded));
}
