//! `airlock import` against real registries: the round trip export(A) -> import(B) -> export(B)
//! keeps every digest and signature, a tampered or changed bundle pushes nothing, the referrers tag
//! index is merged, and a second import uploads nothing.

use std::fs;
use std::path::Path;

use crate::common::*;
use crate::registry_util::*;

const E2E: &str = "valid-sig.strict.by-tag";
const SUBJECT: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

/// Registry A holding the signed corpus image with its signature (tag schema), and a bundle
/// exported from it with the trust material; returns (A, bundle dir, pin).
fn signed_bundle(t: &Path) -> Option<(TestRegistry, std::path::PathBuf, String)> {
    let case = corpus_dir().join(E2E);
    if !case.exists() {
        assert!(!strict());
        return None;
    }
    let a = TestRegistry::start(None)?;
    a.push_layout(&case.join("layout"), "v1", "e2e", "v1", None);
    push_referrers(&a, &case.join("layout"), SUBJECT, "e2e", None);
    let out = t.join("bundle");
    let r = run_pinned(
        t,
        &[
            "export",
            &format!("{}/e2e:v1", a.host()),
            "-o",
            &arg(&out),
            "--plain-http",
            &a.host(),
            "--trust-policy",
            &arg(&case.join("trustpolicy.json")),
            "--trust-store",
            &arg(&case.join("truststore")),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pin = r
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("--pin "))
        .unwrap()
        .to_owned();
    Some((a, out, pin))
}

#[test]
fn round_trip_keeps_every_digest_and_signature() {
    let t = tempfile::tempdir().unwrap();
    let Some((a, bundle, pin)) = signed_bundle(t.path()) else {
        return;
    };
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let tarball = t.path().join("bundle.tar.zst");
    airlock::layout::write_layout_tar(&bundle, &tarball, airlock::archive::Compression::Zstd)
        .unwrap();
    for (i, src) in [&bundle, &tarball].iter().enumerate() {
        let prefix = format!("site{i}");
        let r = run_pinned(
            t.path(),
            &[
                "import",
                &arg(src),
                "--to",
                &format!("{}/{prefix}", b.host()),
                "--pin",
                &pin,
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let j = r.json();
        assert_eq!(j["signaturesPushed"], 1);
        assert_eq!(j["referrersMode"], "tag");
        let target = format!("{}/{prefix}/e2e:v1", b.host());
        assert_eq!(j["images"][0]["target"], target.as_str());
        // Export again from B: same image digest, same signature manifest, same pin verifies.
        let again = t.path().join(format!("again{i}"));
        let r = run_pinned(
            t.path(),
            &[
                "export",
                &target,
                "-o",
                &arg(&again),
                "--plain-http",
                &b.host(),
                "--require-signature",
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let e = r.json();
        assert_eq!(e["images"][0]["digest"], SUBJECT);
        let first = read_json(&bundle.join("index.json"));
        let sig_of = |idx: &serde_json::Value| {
            idx["manifests"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["artifactType"] == "application/vnd.cncf.notary.signature")
                .map(|m| m["digest"].clone())
        };
        assert_eq!(
            sig_of(&read_json(&again.join("index.json"))),
            sig_of(&first)
        );
        let v = verify_trust(&bundle, &["--pin", &pin]);
        assert_eq!(v.code, 0, "{}", v.stdout);
        // A peer reads the imported image.
        if have("skopeo") {
            let o = std::process::Command::new("skopeo")
                .args([
                    "inspect",
                    "--raw",
                    "--tls-verify=false",
                    &format!("docker://{target}"),
                ])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        // A second import uploads nothing, and says so.
        let r = run_pinned(
            t.path(),
            &[
                "import",
                &arg(src),
                "--to",
                &format!("{}/{prefix}", b.host()),
                "--pin",
                &pin,
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        let j = r.json();
        assert_eq!(j["blobsUploaded"], 0, "{j}");
        assert_eq!(j["manifestsPushed"], 0, "{j}");
        assert!(r.stderr.contains("already had everything"), "{}", r.stderr);
    }
    drop(a);
}

#[test]
fn a_tampered_bundle_is_refused_and_pushes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let Some((_a, bundle, pin)) = signed_bundle(t.path()) else {
        return;
    };
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let index = read_json(&bundle.join("index.json"));
    let top = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let cfg = read_json(&blob(&bundle, &top))["config"]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut bytes = fs::read(blob(&bundle, &cfg)).unwrap();
    bytes[0] ^= 1;
    fs::write(blob(&bundle, &cfg), bytes).unwrap();
    let r = run_pinned(
        t.path(),
        &[
            "import",
            &arg(&bundle),
            "--to",
            &format!("{}/site", b.host()),
            "--pin",
            &pin,
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("nothing was pushed"), "{}", r.stderr);
    let o = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/site/e2e:v1", b.host()),
        ])
        .output()
        .unwrap();
    assert!(!o.status.success(), "a tag exists after a refused import");
}

#[test]
fn a_bundle_changed_after_verification_aborts_the_push() {
    let t = tempfile::tempdir().unwrap();
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let root = small_layout(t.path());
    let index = read_json(&root.join("index.json"));
    let top = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let child = read_json(&blob(&root, &top))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let layer = blob(
        &root,
        read_json(&blob(&root, &child))["layers"][0]["digest"]
            .as_str()
            .unwrap(),
    );
    let evil = t.path().join("evil");
    fs::write(
        &evil,
        vec![0u8; fs::metadata(&layer).unwrap().len() as usize],
    )
    .unwrap();
    let hook = format!("cp {} {}", arg(&evil), arg(&layer));
    let o = bin()
        .current_dir(t.path())
        .env("AIRLOCK_TEST_HOOK_AFTER_VERIFY", hook)
        .args(["import", &arg(&root), "--to", &b.host(), "--integrity-only"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("changed since verification"), "{stderr}");
    let tag = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/airlock/sample:1.0", b.host()),
        ])
        .output()
        .unwrap();
    assert!(
        !tag.status.success(),
        "the image was tagged although a blob changed"
    );
}

#[test]
fn an_existing_referrers_tag_index_is_merged() {
    let t = tempfile::tempdir().unwrap();
    let Some((_a, bundle, pin)) = signed_bundle(t.path()) else {
        return;
    };
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    use airlock::registry::{Options, Registry};
    let client = Registry::new(Options {
        plain_http: vec![b.host()],
        retries: 1,
        ..Options::default()
    })
    .unwrap();
    // Someone else's referrer (an SBOM) already in B, listed in B's tag index.
    let repo = Registry::parse(&format!("{}/site/e2e", b.host())).unwrap();
    for data in [&b"{}"[..], &b"{\"spdxVersion\":\"SPDX-2.3\"}"[..]] {
        let desc: airlock::layout::model::Descriptor = serde_json::from_value(serde_json::json!({
            "digest": airlock::digest::Digest::sha256(data).to_string(), "size": data.len()
        }))
        .unwrap();
        client
            .push_blob(&repo, &desc, Box::new(std::io::Cursor::new(data.to_vec())))
            .unwrap();
    }
    let sbom = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/spdx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": airlock::digest::Digest::sha256(b"{}").to_string(), "size": 2},
        "layers": [{"mediaType": "application/spdx+json", "digest": airlock::digest::Digest::sha256(b"{\"spdxVersion\":\"SPDX-2.3\"}").to_string(), "size": 25}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": SUBJECT, "size": 517}
    });
    let sbom_bytes = serde_json::to_vec(&sbom).unwrap();
    let sbom_digest = airlock::digest::Digest::sha256(&sbom_bytes).to_string();
    client
        .push_manifest(
            &Registry::parse(&format!("{}/site/e2e@{sbom_digest}", b.host())).unwrap(),
            "application/vnd.oci.image.manifest.v1+json",
            &sbom_bytes,
        )
        .unwrap();
    let other = serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sbom_digest, "size": sbom_bytes.len(), "artifactType": "application/spdx+json"});
    let idx = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [other]});
    let tag = format!(
        "{}/site/e2e:sha256-{}",
        b.host(),
        SUBJECT.trim_start_matches("sha256:")
    );
    client
        .push_manifest(
            &Registry::parse(&tag).unwrap(),
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&idx).unwrap(),
        )
        .unwrap();
    let r = run_pinned(
        t.path(),
        &[
            "import",
            &arg(&bundle),
            "--to",
            &format!("{}/site", b.host()),
            "--pin",
            &pin,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, bytes) = client.resolve(&Registry::parse(&tag).unwrap()).unwrap();
    let merged: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let types: Vec<&str> = merged["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["artifactType"].as_str())
        .collect();
    assert!(types.contains(&"application/spdx+json"), "{merged}");
    assert!(
        types.contains(&"application/vnd.cncf.notary.signature"),
        "{merged}"
    );
}

#[test]
fn dry_run_pushes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let root = small_layout(t.path());
    let r = run_pinned(
        t.path(),
        &[
            "import",
            &arg(&root),
            "--to",
            &b.host(),
            "--integrity-only",
            "--dry-run",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("upload blob"), "{}", r.stderr);
    let tag = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/airlock/sample:1.0", b.host()),
        ])
        .output()
        .unwrap();
    assert!(!tag.status.success());
    // Without any trust option import refuses, as verify does.
    assert_eq!(
        run_pinned(t.path(), &["import", &arg(&root), "--to", &b.host()]).code,
        2
    );
}
