//! Against a real registry (Debian's docker-registry 2.8 on loopback): the client API itself
//! (byte-exact manifests, streamed blobs, referrers through the tag schema, basic auth, corrupted
//! storage), then export end to end: images, signatures through the referrers tag schema (2.8 has
//! no Referrers API), basic auth from a docker config.json, a corrupted blob, determinism, and the
//! round trip to `verify --pin`.

use std::fs;
use std::time::Duration;

use airlock::digest::Digest;
use airlock::layout::model::{self, Descriptor};
use airlock::registry::{Reference, RegistryError};

use crate::common::*;
use crate::registry_util::*;

const E2E: &str = "valid-sig.strict.by-tag";
const SUBJECT: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

#[test]
fn multi_platform_image_exports_whole_or_by_platform() {
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    reg.push_layout(
        &root,
        "registry.example/airlock/sample:1.0",
        "airlock/sample",
        "1.0",
        None,
    );
    let src = format!("{}/airlock/sample:1.0", reg.host());
    let out = t.path().join("all.tar.zst");
    let r = run_pinned(
        t.path(),
        &[
            "export",
            &src,
            "-o",
            &arg(&out),
            "--plain-http",
            &reg.host(),
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let want = read_json(&root.join("index.json"))["manifests"][0]["digest"].clone();
    assert_eq!(
        j["images"][0]["digest"], want,
        "the index is carried byte for byte"
    );
    assert_eq!(j["images"][0]["reference"], src.as_str());
    let v = verify_json(&out, &[]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    assert_eq!(
        v.json()["images"][0]["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    // One platform only; without --plain-http: a loopback registry is plain HTTP unless hosts
    // are named (the rule import and inventory follow too).
    let one = t.path().join("arm64");
    let r = run_pinned(
        t.path(),
        &[
            "-q",
            "export",
            &src,
            "-o",
            &arg(&one),
            "--platform",
            "linux/arm64",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = verify_json(&one, &[]);
    assert_eq!(v.code, 0);
    assert!(codes_of(&v.json(), "warnings").contains(&"excluded_by_export".to_string()));
    // Two exports are byte-identical.
    let again = t.path().join("again.tar.zst");
    assert_eq!(
        run_pinned(
            t.path(),
            &[
                "-q",
                "export",
                &src,
                "-o",
                &arg(&again),
                "--plain-http",
                &reg.host()
            ]
        )
        .code,
        0
    );
    assert_eq!(fs::read(&out).unwrap(), fs::read(&again).unwrap());
}

#[test]
fn signatures_are_found_through_the_tag_schema_and_verify_with_the_pin() {
    let case = corpus_dir().join(E2E);
    if !case.exists() {
        assert!(!strict());
        return;
    }
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    reg.push_layout(&case.join("layout"), "v1", "e2e", "v1", None);
    push_referrers(&reg, &case.join("layout"), SUBJECT, "e2e", None);
    let src = format!("{}/e2e:v1", reg.host());
    let out = t.path().join("signed.tar");
    let r = run_pinned(
        t.path(),
        &[
            "export",
            &src,
            "-o",
            &arg(&out),
            "--plain-http",
            &reg.host(),
            "--trust-policy",
            &arg(&case.join("trustpolicy.json")),
            "--trust-store",
            &arg(&case.join("truststore")),
            "--require-signature",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pin = r
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("--pin "))
        .expect("fingerprint printed")
        .to_owned();
    let v = verify_trust(&out, &["--pin", &pin]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    let j = v.json();
    assert_eq!(
        j["images"][0]["scope"],
        format!("{}/e2e", reg.host()).as_str(),
        "the scope is the source repository"
    );
    assert_eq!(j["images"][0]["signatures"][0]["verdict"], "pass");
    // --no-referrers leaves them out, and --require-signature then refuses.
    let r = run_pinned(
        t.path(),
        &[
            "export",
            &src,
            "-o",
            &arg(&t.path().join("x.tar")),
            "--plain-http",
            &reg.host(),
            "--no-referrers",
            "--require-signature",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn basic_auth_credentials_come_from_a_docker_config() {
    let Some(reg) = TestRegistry::start(Some(("alice", "s3cret"))) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    reg.push_layout(
        &root,
        "registry.example/airlock/sample:1.0",
        "private/app",
        "1",
        Some("alice:s3cret"),
    );
    let src = format!("{}/private/app:1", reg.host());
    let out = t.path().join("out");
    // Anonymous: refused.
    let cfg_dir = tempfile::tempdir().unwrap();
    let empty = cfg_dir.path().join("empty.json");
    fs::write(&empty, "{}").unwrap();
    let r = run_pinned(
        t.path(),
        &[
            "-q",
            "export",
            &src,
            "-o",
            &arg(&out),
            "--plain-http",
            &reg.host(),
            "--registry-config",
            &arg(&empty),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!out.exists());
    // With the credentials of a config.json: exported, and the password is never printed.
    let cfg = cfg_dir.path().join("config.json");
    fs::write(
        &cfg,
        format!(
            "{{\"auths\":{{\"{}\":{{\"auth\":\"{}\"}}}}}}",
            reg.host(),
            crate::testkit::b64::encode(b"alice:s3cret")
        ),
    )
    .unwrap();
    let r = run_pinned(
        t.path(),
        &[
            "export",
            &src,
            "-o",
            &arg(&out),
            "--plain-http",
            &reg.host(),
            "--registry-config",
            &arg(&cfg),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("s3cret") && !r.stdout.contains("s3cret"));
    assert_eq!(verify_json(&out, &[]).code, 0);
}

#[test]
fn a_blob_corrupted_in_the_registry_fails_the_export_and_leaves_nothing() {
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    reg.push_layout(
        &root,
        "registry.example/airlock/sample:1.0",
        "app",
        "1",
        None,
    );
    let top = read_json(&root.join("index.json"))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let child = read_json(&blob(&root, &top))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let layer = read_json(&blob(&root, &child))["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let file = reg.blob_file(&layer);
    let mut bytes = fs::read(&file).unwrap();
    bytes[10] ^= 1;
    fs::write(&file, bytes).unwrap();
    for out in ["bad.tar.zst", "bad-dir"] {
        let path = t.path().join(out);
        let r = run_pinned(
            t.path(),
            &[
                "-q",
                "export",
                &format!("{}/app:1", reg.host()),
                "-o",
                &arg(&path),
                "--plain-http",
                &reg.host(),
            ],
        );
        assert_ne!(r.code, 0, "{out}");
        assert!(
            r.stderr.contains(&layer[7..19]) || r.stderr.to_lowercase().contains("digest"),
            "{out}: {}",
            r.stderr
        );
        assert!(!path.exists(), "{out}: a partial output looks complete");
        let names: Vec<String> = fs::read_dir(t.path())
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            !names.iter().any(|n| n.contains("airlock-tmp")),
            "{names:?}"
        );
    }
}

fn desc_of(v: &serde_json::Value) -> Descriptor {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn client_pulls_byte_exact_content_and_referrers_through_the_tag_schema() {
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    reg.push_layout(
        &root,
        "registry.example/airlock/sample:1.0",
        "airlock/sample",
        "1.0",
        None,
    );
    let (c, _cfg) = client_for(&reg.host(), None, Duration::from_secs(10), 1);
    let r = Reference::parse(&format!("{}/airlock/sample:1.0", reg.host())).unwrap();
    let top = read_json(&root.join("index.json"))["manifests"][0].clone();
    let top_digest = Digest::parse(top["digest"].as_str().unwrap()).unwrap();
    let top_bytes = fs::read(blob(&root, &top_digest.to_string())).unwrap();

    // Resolve by tag and by digest: the index exactly as the layout holds it.
    for by in [r.clone(), r.with_digest(&top_digest)] {
        let (desc, bytes) = c.resolve(&by).unwrap();
        assert_eq!(desc.digest, top_digest.to_string(), "{by}");
        assert_eq!(desc.size, top_bytes.len() as u64);
        assert_eq!(desc.media_type(), model::OCI_INDEX);
        assert_eq!(bytes, top_bytes, "byte for byte");
    }

    // Every child manifest by digest, every config and layer streamed and hashed.
    let index: serde_json::Value = serde_json::from_slice(&top_bytes).unwrap();
    let mut layers = Vec::new();
    for child in index["manifests"].as_array().unwrap() {
        let d = Digest::parse(child["digest"].as_str().unwrap()).unwrap();
        let (mt, bytes) = c.manifest(&r, &d).unwrap();
        assert_eq!(mt, model::OCI_MANIFEST);
        assert_eq!(bytes, fs::read(blob(&root, &d.to_string())).unwrap());
        let m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for b in std::iter::once(&m["config"]).chain(m["layers"].as_array().unwrap()) {
            let desc = desc_of(b);
            let mut got = Vec::new();
            assert_eq!(c.blob_to(&r, &desc, &mut got).unwrap(), desc.size);
            assert_eq!(got, fs::read(blob(&root, &desc.digest)).unwrap());
            layers.push(desc);
        }
    }

    // No referrers yet: distribution 2.8 answers the Referrers API with 404 and has no tag.
    assert!(c.referrers(&r, &top_digest, None).unwrap().is_empty());

    // A notation-style signature and the tag index (beside another artifact type).
    let subject = serde_json::json!({
        "mediaType": model::OCI_INDEX, "digest": top_digest.to_string(), "size": top_bytes.len(),
    });
    let mut other = index["manifests"][0].clone();
    other["artifactType"] = "application/spdx+json".into();
    other.as_object_mut().unwrap().remove("platform");
    let sig = push_signature(&c, &r, &subject, &[other.clone()]);
    let all = c.referrers(&r, &top_digest, None).unwrap();
    assert_eq!(all.len(), 2);
    let sigs = c
        .referrers(&r, &top_digest, Some(model::NOTARY_SIGNATURE))
        .unwrap();
    assert_eq!(sigs.len(), 1);
    assert_eq!(sigs[0].digest, sig["digest"].as_str().unwrap());
    assert_eq!(
        sigs[0].artifact_type.as_deref(),
        Some(model::NOTARY_SIGNATURE)
    );
    // The signature manifest itself, with its subject.
    let sd = Digest::parse(&sigs[0].digest).unwrap();
    let (_, sbytes) = c.manifest(&r, &sd).unwrap();
    let sm: serde_json::Value = serde_json::from_slice(&sbytes).unwrap();
    assert_eq!(sm["subject"]["digest"], top_digest.to_string().as_str());

    // Corrupt a layer and a manifest in the registry's storage: both are caught.
    let layer = &layers[1];
    let file = reg.blob_file(&layer.digest);
    let mut bytes = fs::read(&file).unwrap();
    bytes[10] ^= 1;
    fs::write(&file, bytes).unwrap();
    let mut sink = Vec::new();
    let e = c.blob_to(&r, layer, &mut sink).unwrap_err();
    assert!(
        matches!(&e, RegistryError::DigestMismatch { expected, .. } if *expected == layer.digest),
        "{e}"
    );
    assert!(e.is_mismatch());
    assert!(sink.len() as u64 <= layer.size);
    let child = Digest::parse(index["manifests"][1]["digest"].as_str().unwrap()).unwrap();
    let file = reg.blob_file(&child.to_string());
    // Still a well-formed manifest (the registry parses it before serving), but other bytes.
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.contains("layer.v1.tar"));
    fs::write(&file, text.replacen("layer.v1.tar", "layer.v1.taR", 1)).unwrap();
    let e = c.manifest(&r, &child).unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e}");
}

#[test]
fn client_basic_auth_uses_the_docker_config_and_never_shows_the_password() {
    let Some(reg) = TestRegistry::start(Some(("alice", "s3cret"))) else {
        return;
    };
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    reg.push_layout(
        &root,
        "registry.example/airlock/sample:1.0",
        "private/app",
        "1",
        Some("alice:s3cret"),
    );
    let r = Reference::parse(&format!("{}/private/app:1", reg.host())).unwrap();
    let (c, _cfg) = client_for(
        &reg.host(),
        Some(("alice", "s3cret")),
        Duration::from_secs(10),
        1,
    );
    let (desc, _) = c.resolve(&r).unwrap();
    assert_eq!(
        desc.digest,
        read_json(&root.join("index.json"))["manifests"][0]["digest"]
            .as_str()
            .unwrap()
    );
    let shown = format!("{c:?} {:?}", c.credential(&r).unwrap());
    assert!(
        shown.contains("alice") && !shown.contains("s3cret"),
        "{shown}"
    );

    let (anon, _a) = client_for(&reg.host(), None, Duration::from_secs(10), 1);
    let e = anon.resolve(&r).unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Denied {
                status: 401,
                anonymous: true,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("no credentials"), "{e}");
    let (wrong, _w) = client_for(
        &reg.host(),
        Some(("alice", "nope")),
        Duration::from_secs(10),
        1,
    );
    let e = wrong.resolve(&r).unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Denied {
                status: 401,
                anonymous: false,
                ..
            }
        ),
        "{e}"
    );
    assert!(!e.to_string().contains("nope"));
}
