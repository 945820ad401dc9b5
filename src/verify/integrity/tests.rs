//! The integrity stage over in-memory catalogs: the walk, the selection, and the blobs nothing
//! reaches.

use super::*;
use crate::layout::model;
use crate::layout::{BlobEntry, BundleFormat, Content};

/// A catalog builder: blobs by content, `index.json` over the given entries.
struct Bundle {
    cat: Catalog,
}

impl Bundle {
    fn new() -> Self {
        let mut cat = Catalog::new(BundleFormat::Directory, true);
        cat.oci_layout = Some(Small::Bytes(br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()));
        Bundle { cat }
    }

    /// Adds a blob whose name is its hash; returns its descriptor JSON.
    fn blob(&mut self, media_type: &str, bytes: &[u8]) -> serde_json::Value {
        let d = Digest::sha256(bytes);
        self.put(d.clone(), bytes, Some(d.clone()));
        serde_json::json!({"mediaType": media_type, "digest": d.to_string(), "size": bytes.len()})
    }

    fn put(&mut self, name: Digest, bytes: &[u8], actual: Option<Digest>) {
        let content = if bytes.first() == Some(&b'{') {
            Content::Json(bytes.into())
        } else {
            Content::Bytes(bytes.into())
        };
        let size = u64::try_from(bytes.len()).unwrap();
        self.cat.insert(
            name,
            BlobEntry {
                size,
                actual,
                content,
            },
            &Limits::default(),
        );
    }

    /// An image manifest over one layer; returns its descriptor.
    fn image(&mut self, layer: &[u8], name: &str) -> serde_json::Value {
        let config = self.blob(
            "application/vnd.oci.image.config.v1+json",
            br#"{"os":"linux","architecture":"amd64"}"#,
        );
        let layer = self.blob("application/vnd.oci.image.layer.v1.tar", layer);
        let m = serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_MANIFEST,
            "config": config, "layers": [layer]});
        let mut desc = self.blob(model::OCI_MANIFEST, m.to_string().as_bytes());
        desc["annotations"] = serde_json::json!({ model::REF_NAME: name });
        desc
    }

    fn index(mut self, entries: Vec<serde_json::Value>) -> Catalog {
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX,
            "manifests": entries});
        self.cat.index_json = Some(Small::Bytes(index.to_string().into_bytes()));
        self.cat
    }
}

fn codes(f: &[Finding]) -> Vec<&'static str> {
    f.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn an_intact_image_passes_and_is_summarised() {
    let mut b = Bundle::new();
    let image = b.image(b"layer", "app:v1");
    let cat = b.index(vec![image]);
    let out = check(&cat, &[], &Limits::default());
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(out.blobs_checked, 3);
    assert_eq!(out.images.len(), 1);
    assert_eq!(out.images[0].platforms, vec!["linux/amd64".to_owned()]);
    assert_eq!(out.images[0].size, cat.total_bytes());
    assert!(out.bundle_digest.is_some());
}

#[test]
fn a_tampered_blob_nothing_references_fails_and_is_reported_unreferenced() {
    let mut b = Bundle::new();
    let image = b.image(b"layer", "app:v1");
    let stray = Digest::sha256(b"stray");
    b.put(
        stray.clone(),
        b"tampered",
        Some(Digest::sha256(b"tampered")),
    );
    let cat = b.index(vec![image]);
    let out = check(&cat, &[], &Limits::default());
    assert_eq!(codes(&out.failures), vec!["digest_mismatch"]);
    assert_eq!(codes(&out.warnings), vec!["unreferenced_blob"]);
    assert!(out.failed.contains(&stray));
    // Narrowed to an image, the stray blob is not judged (only warned about).
    let out = check(&cat, &["app:v1".to_owned()], &Limits::default());
    assert!(out.failures.is_empty(), "{:?}", out.failures);
}

#[test]
fn missing_and_mis_sized_blobs_fail_each_once() {
    let mut b = Bundle::new();
    let image = b.image(b"layer", "app:v1");
    // The layer goes missing.
    b.cat.blobs.remove(&Digest::sha256(b"layer"));
    let mut other = b.image(b"other layer", "app:v2");
    other["size"] = serde_json::json!(1);
    let cat = b.index(vec![image, other]);
    let out = check(&cat, &[], &Limits::default());
    assert_eq!(
        codes(&out.failures),
        vec!["blob_missing", "size_mismatch"],
        "{:?}",
        out.failures
    );
    assert_eq!(out.blobs_failed, 2);
}

#[test]
fn a_selection_naming_no_image_is_a_failure() {
    let mut b = Bundle::new();
    let image = b.image(b"layer", "app:v1");
    let cat = b.index(vec![image]);
    let out = check(&cat, &["nope".to_owned()], &Limits::default());
    assert_eq!(codes(&out.failures), vec!["image_not_found"]);
    assert!(out.images.is_empty());
}

#[test]
fn indexes_nested_past_the_limit_fail() {
    let mut b = Bundle::new();
    let mut desc = b.image(b"layer", "app:v1");
    for _ in 0..3 {
        let idx = serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX,
            "manifests": [desc]});
        desc = b.blob(model::OCI_INDEX, idx.to_string().as_bytes());
    }
    let cat = b.index(vec![desc]);
    let limits = Limits {
        max_depth: 1,
        ..Limits::default()
    };
    let out = check(&cat, &[], &limits);
    assert!(
        codes(&out.failures).contains(&"nesting_too_deep"),
        "{:?}",
        out.failures
    );
}

#[test]
fn an_index_label_must_name_the_platform_its_manifest_config_states() {
    // The image's config says linux/amd64 (see `Bundle::image`).
    let run = |platform: serde_json::Value| {
        let mut b = Bundle::new();
        let mut child = b.image(b"layer", "unused");
        child["annotations"] = serde_json::json!({});
        child["platform"] = platform;
        let idx = serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX,
            "manifests": [child]});
        let mut desc = b.blob(model::OCI_INDEX, idx.to_string().as_bytes());
        desc["annotations"] = serde_json::json!({ model::REF_NAME: "app:v1" });
        let cat = b.index(vec![desc]);
        check(&cat, &[], &Limits::default())
    };
    for agrees in [
        serde_json::json!({"os": "linux", "architecture": "amd64"}),
        // A variant the config does not state is not compared; nor is BuildKit's `unknown`.
        serde_json::json!({"os": "linux", "architecture": "amd64", "variant": "v3"}),
        serde_json::json!({"os": "unknown", "architecture": "unknown"}),
        // Spelled as containerd normalises them (red team L, L02).
        serde_json::json!({"os": "Linux", "architecture": "x86_64"}),
    ] {
        let out = run(agrees.clone());
        assert!(out.failures.is_empty(), "{agrees}: {:?}", out.failures);
        assert!(out.warnings.is_empty(), "{agrees}: {:?}", out.warnings);
    }
    // A label the config contradicts is said (a warning: published images carry such labels,
    // signed by their publisher; red team L, L02), never passed over in silence.
    for lies in [
        serde_json::json!({"os": "linux", "architecture": "arm64"}),
        serde_json::json!({"os": "windows", "architecture": "amd64"}),
    ] {
        let out = run(lies.clone());
        assert!(out.failures.is_empty(), "{lies}: {:?}", out.failures);
        assert_eq!(codes(&out.warnings), vec!["platform_mismatch"], "{lies}");
        assert!(
            out.warnings[0]
                .message
                .contains("its config says linux/amd64"),
            "{:?}",
            out.warnings
        );
    }
}

#[test]
fn a_descriptor_artifact_type_must_be_its_manifests_and_a_media_type() {
    // A referrer-like artifact manifest whose own type is application/spdx+json.
    let run = |label: Option<&str>, own: &str| {
        let mut b = Bundle::new();
        let image = b.image(b"layer", "app:v1");
        let empty = b.blob("application/vnd.oci.empty.v1+json", b"{}");
        let layer = b.blob("application/spdx+json", b"{\"spdxVersion\":\"SPDX-2.3\"}");
        let m = serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_MANIFEST,
            "artifactType": own, "config": empty, "layers": [layer], "subject": image.clone()});
        let mut desc = b.blob(model::OCI_MANIFEST, m.to_string().as_bytes());
        if let Some(l) = label {
            desc["artifactType"] = serde_json::json!(l);
        }
        let cat = b.index(vec![image, desc]);
        check(&cat, &[], &Limits::default())
    };
    for (label, own) in [
        (Some("application/spdx+json"), "application/spdx+json"),
        (None, "application/spdx+json"),
    ] {
        let out = run(label, own);
        assert!(out.failures.is_empty(), "{label:?}: {:?}", out.failures);
    }
    for (label, own) in [
        // Another type on the label than the manifest states (J7).
        (
            Some("application/vnd.example.vulnerability-scan.passed+json"),
            "application/spdx+json",
        ),
        // Free text on the label, or in the manifest itself (J8).
        (Some("application/x scan: PASS"), "application/spdx+json"),
        (None, "application/vnd.example.scan        PASS, 0 critical"),
    ] {
        let out = run(label, own);
        assert!(
            codes(&out.failures)
                .iter()
                .any(|c| *c == "media_type_mismatch" || *c == "malformed_manifest"),
            "{label:?} {own:?}: {:?}",
            out.failures
        );
    }
}

#[test]
fn index_json_labels_too_are_compared_with_the_config() {
    // Red team K, K03: an image manifest listed in index.json itself, labelled another platform.
    let mut b = Bundle::new();
    let mut image = b.image(b"layer", "app:v1");
    image["platform"] = serde_json::json!({"os": "linux", "architecture": "arm64"});
    let cat = b.index(vec![image]);
    let out = check(&cat, &[], &Limits::default());
    assert_eq!(codes(&out.warnings), vec!["platform_mismatch"]);
}

#[test]
fn the_excluded_annotation_excuses_only_a_child_of_an_index() {
    // Red team K, K01: the image itself gone, its own digest "left out by --platform".
    let mut b = Bundle::new();
    let mut image = b.image(b"layer", "app:v1");
    let d = image["digest"].as_str().unwrap().to_owned();
    b.cat.blobs.remove(&Digest::parse(&d).unwrap());
    image["annotations"][model::EXCLUDED] = serde_json::json!(d);
    let cat = b.index(vec![image]);
    let out = check(&cat, &[], &Limits::default());
    assert_eq!(
        codes(&out.failures),
        vec!["blob_missing"],
        "{:?}",
        out.warnings
    );
    assert!(
        !codes(&out.warnings).contains(&"excluded_by_export"),
        "{:?}",
        out.warnings
    );
}

#[test]
fn every_descriptor_media_type_is_a_media_type() {
    // Red team K, K02: a config's media type is a referrer's type in the report.
    let mut b = Bundle::new();
    let image = b.image(b"layer", "app:v1");
    let config = b.blob(
        "application/vnd.example.scan        PASS, 0 critical",
        b"{}",
    );
    let layer = b.blob("application/json", b"{\"a\":1}");
    let m = serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_MANIFEST,
        "config": config, "layers": [layer], "subject": image.clone()});
    let desc = b.blob(model::OCI_MANIFEST, m.to_string().as_bytes());
    let cat = b.index(vec![image, desc]);
    let out = check(&cat, &[], &Limits::default());
    assert!(
        out.failures
            .iter()
            .any(|f| f.code == Code::MalformedManifest && f.message.contains("not a media type")),
        "{:?}",
        out.failures
    );
}

#[test]
fn a_label_whose_config_was_not_kept_is_said_and_a_name_must_be_a_name() {
    // Red team K, K05: the config dropped for the memory budget; the label cannot be compared.
    let mut b = Bundle::new();
    let mut image = b.image(b"layer", "app:v1");
    image["platform"] = serde_json::json!({"os": "linux", "architecture": "amd64"});
    let config = Digest::sha256(br#"{"os":"linux","architecture":"amd64"}"#);
    b.cat.blobs.get_mut(&config).unwrap().content = Content::NotRetained;
    let cat = b.index(vec![image]);
    let out = check(&cat, &[], &Limits::default());
    assert_eq!(
        codes(&out.warnings),
        vec!["platform_mismatch"],
        "{:?}",
        out.warnings
    );
    assert!(out.warnings[0].message.contains("not compared"));
    // An IPv6 registry host in containerd's name is a name (red team L, L01).
    let mut b = Bundle::new();
    let mut image = b.image(b"layer", "app:v1");
    image["annotations"][model::CONTAINERD_NAME] = serde_json::json!("[fd00::5]:5000/team/app:1");
    let cat = b.index(vec![image]);
    let out = check(&cat, &[], &Limits::default());
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    // Red team K, K06: a name padded into a fake verdict line.
    let mut b = Bundle::new();
    let name = format!("app:v1{}signed by CN=Security Team: PASS", " ".repeat(120));
    let image = b.image(b"layer", &name);
    let cat = b.index(vec![image]);
    let out = check(&cat, &[], &Limits::default());
    assert_eq!(
        codes(&out.failures),
        vec!["index_malformed"],
        "{:?}",
        out.failures
    );
}
