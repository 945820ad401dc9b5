//! Every referrer travels (issue 11, item 1), against the real registry: an image with a notation
//! signature, an SBOM, an in-toto attestation and a notation signature of that attestation, all
//! in the tag schema (distribution 2.8 has no Referrers API). They all travel by default, only the
//! chosen ones with `--referrers TYPE`, none with `none`; `verify` checks the signature and lists
//! the others as carried, integrity checked, not signature-verified; `import` pushes them all and
//! an export from the target finds every digest again. A Helm chart round-trips like an image.

use std::fs;
use std::path::{Path, PathBuf};

use airlock::digest::Digest;
use serde_json::{json, Value};

use crate::common::*;
use crate::registry_util::*;

const E2E: &str = "valid-sig.strict.by-tag";
const SUBJECT: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
const NOTARY: &str = "application/vnd.cncf.notary.signature";
const SPDX: &str = "application/spdx+json";
const INTOTO: &str = "application/vnd.in-toto+json";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const COSIGN_SIG: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// Writes `bytes` as a blob of the layout `root`; returns its descriptor fields.
fn put(root: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let d = Digest::sha256(bytes).to_string();
    fs::write(blob(root, &d), bytes).unwrap();
    json!({"mediaType": media_type, "digest": d, "size": bytes.len()})
}

/// Adds to the layout `root` a referrer of `subject` (an empty config, one layer), listed in
/// `index.json`; returns its descriptor.
fn add_referrer(
    root: &Path,
    subject: &Value,
    artifact_type: &str,
    layer_type: &str,
    layer: &[u8],
) -> Value {
    let config = put(root, "application/vnd.oci.empty.v1+json", b"{}");
    let layer = put(root, layer_type, layer);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": artifact_type,
        "config": config,
        "layers": [layer],
        "subject": subject,
    });
    let mut desc = put(root, MANIFEST, &serde_json::to_vec(&manifest).unwrap());
    desc["artifactType"] = json!(artifact_type);
    let mut index = read_json(&root.join("index.json"));
    index["manifests"]
        .as_array_mut()
        .unwrap()
        .push(desc.clone());
    write_json(&root.join("index.json"), &index);
    desc
}

/// A fresh registry A, and a copy in `t` of the signed corpus layout (`None`: no corpus or no
/// registry here).
fn registry_and_layout(t: &Path) -> Option<(TestRegistry, PathBuf)> {
    let case = corpus_dir().join(E2E);
    if !case.exists() {
        assert!(!strict());
        return None;
    }
    let a = TestRegistry::start(None)?;
    let layout = t.join("layout");
    for f in files_of(&case.join("layout")) {
        let dest = layout.join(&f);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(case.join("layout").join(&f), dest).unwrap();
    }
    Some((a, layout))
}

/// The signed corpus image in registry A with its notation signature, an SBOM, an in-toto
/// attestation and a notation signature of the attestation. Returns (A, the referrers' digests:
/// [signature, sbom, attestation, signature of the attestation]).
fn registry_with_referrers(t: &Path) -> Option<(TestRegistry, Vec<String>)> {
    let (a, layout) = registry_and_layout(t)?;
    let index = read_json(&layout.join("index.json"));
    let image = index["manifests"][0].clone();
    let signature = index["manifests"][1]["digest"].as_str().unwrap().to_owned();
    let subject =
        json!({"mediaType": image["mediaType"], "digest": image["digest"], "size": image["size"]});
    let sbom = add_referrer(
        &layout,
        &subject,
        SPDX,
        SPDX,
        br#"{"spdxVersion":"SPDX-2.3"}"#,
    );
    let att = add_referrer(
        &layout,
        &subject,
        INTOTO,
        "application/vnd.in-toto+json",
        br#"{"_type":"https://in-toto.io/Statement/v1"}"#,
    );
    let att_subject = json!({"mediaType": MANIFEST, "digest": att["digest"], "size": att["size"]});
    let att_sig = add_referrer(
        &layout,
        &att_subject,
        NOTARY,
        "application/jose+json",
        br#"{"payload":"e30","protected":"e30","signature":"AA"}"#,
    );
    a.push_layout(&layout, "v1", "e2e", "v1", None);
    push_referrers(&a, &layout, SUBJECT, "e2e", None);
    push_referrers(&a, &layout, att["digest"].as_str().unwrap(), "e2e", None);
    let cosign = push_cosign_sig(&a);
    let mut digests = vec![signature];
    for d in [&sbom, &att, &att_sig] {
        digests.push(d["digest"].as_str().unwrap().to_owned());
    }
    digests.push(cosign);
    Some((a, digests))
}

/// The tag cosign gives the signatures of [`SUBJECT`].
fn cosign_tag() -> String {
    format!("sha256-{}.sig", SUBJECT.trim_start_matches("sha256:"))
}

/// Pushes a cosign-style signature of [`SUBJECT`] into `e2e` under [`cosign_tag`] (an image
/// config, one simple-signing layer, no subject); returns its digest.
fn push_cosign_sig(a: &TestRegistry) -> String {
    let (client, _cfg) = client_for(&a.host(), None, std::time::Duration::from_secs(10), 1);
    let repo =
        airlock::registry::Registry::parse(&format!("{}/e2e:{}", a.host(), cosign_tag())).unwrap();
    let config =
        br#"{"architecture":"","config":{},"os":"","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"e2e"}},"image":{{"docker-manifest-digest":"{SUBJECT}"}},"type":"cosign container image signature"}},"optional":null}}"#
    );
    let mut descs = Vec::new();
    for (mt, data) in [
        ("application/vnd.oci.image.config.v1+json", &config[..]),
        (COSIGN_SIG, payload.as_bytes()),
    ] {
        let desc = json!({"mediaType": mt, "digest": Digest::sha256(data).to_string(), "size": data.len()});
        client
            .push_blob(
                &repo,
                &serde_json::from_value(desc.clone()).unwrap(),
                Box::new(std::io::Cursor::new(data.to_vec())),
            )
            .unwrap();
        descs.push(desc);
    }
    let mut layer = descs[1].clone();
    layer["annotations"] = json!({"dev.cosignproject.cosign/signature": "MEUCIQ=="});
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": descs[0],
        "layers": [layer],
    });
    let bytes = serde_json::to_vec(&manifest).unwrap();
    client.push_manifest(&repo, MANIFEST, &bytes).unwrap();
    Digest::sha256(&bytes).to_string()
}

/// `export HOST/REPO:v1 -o OUT --plain-http HOST EXTRA... --format json`, with the case's trust
/// material unless EXTRA chooses referrers; returns the run.
fn export(t: &Path, host: &str, repo: &str, out: &Path, extra: &[&str]) -> Run {
    let case = corpus_dir().join(E2E);
    let mut args = vec![
        "export".to_owned(),
        format!("{host}/{repo}:v1"),
        "-o".into(),
        arg(out),
        "--plain-http".into(),
        host.to_owned(),
        "--format".into(),
        "json".into(),
    ];
    // Without the image's signature (left out by a selection) the captured signatures cannot
    // verify: such exports carry no trust material.
    if !extra.iter().any(|x| x.contains("referrers")) {
        args.extend([
            "--trust-policy".into(),
            arg(&case.join("trustpolicy.json")),
            "--trust-store".into(),
            arg(&case.join("truststore")),
        ]);
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_pinned(t, &args);
    assert_eq!(r.code, 0, "export {extra:?}: {}", r.stderr);
    r
}

/// The digests of the manifests `index.json` lists that have a subject or a cosign tag (whose
/// tag must then be [`cosign_tag`]).
fn referrers_in(bundle: &Path) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in read_json(&bundle.join("index.json"))["manifests"]
        .as_array()
        .unwrap()
    {
        let d = e["digest"].as_str().unwrap().to_owned();
        let name = e["annotations"]["org.opencontainers.image.ref.name"]
            .as_str()
            .unwrap_or("");
        if name.ends_with(".sig") {
            assert_eq!(name, cosign_tag());
            out.push(d);
        } else if read_json(&blob(bundle, &d)).get("subject").is_some() {
            out.push(d);
        }
    }
    out.sort();
    out
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn pin_of(r: &Run) -> String {
    r.json()["pin"].as_str().unwrap().to_owned()
}

#[test]
fn every_referrer_travels_by_default_only_the_chosen_by_type_and_none_with_none() {
    let t = tempfile::tempdir().unwrap();
    let Some((a, all)) = registry_with_referrers(t.path()) else {
        return;
    };
    // Default: all four, the attestation's signature included (a referrer of a referrer).
    let bundle = t.path().join("all");
    let r = export(t.path(), &a.host(), "e2e", &bundle, &[]);
    assert_eq!(referrers_in(&bundle), sorted(&all));
    let j = r.json();
    let carried: Vec<String> = j["images"][0]["referrers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["digest"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sorted(&carried), sorted(&all), "{j}");
    // Only the image's own notation signature is its signature.
    assert_eq!(j["images"][0]["signatures"], json!([all[0]]), "{j}");
    // The export record lists them too.
    let pin = pin_of(&r);
    let art = read_json(&blob(&bundle, &pin));
    let record = read_json(&blob(&bundle, art["config"]["digest"].as_str().unwrap()));
    assert_eq!(
        record["sources"][0]["referrers"].as_array().unwrap().len(),
        5,
        "{record}"
    );
    // verify: the signature verified, the rest carried and integrity checked.
    let v = verify_trust(&bundle, &["--pin", &pin]);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
    let vj = v.json();
    let refs = vj["images"][0]["referrers"].as_array().unwrap();
    assert_eq!(refs.len(), 5, "{vj}");
    for r in refs {
        let want = if r["subject"] == SUBJECT && r["artifactType"] == NOTARY {
            "signature"
        } else if r["artifactType"] == NOTARY {
            // A notation signature of the attestation: no image's target is its subject, so it is
            // never evaluated as a signature: integrity and listing only.
            "integrity"
        } else {
            "integrity"
        };
        assert_eq!(r["checked"], want, "{vj}");
    }
    let sigs = vj["images"][0]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 1, "{vj}");
    assert_eq!(sigs[0]["verdict"], "pass", "{vj}");
    let text = run_in(t.path(), &["verify", &arg(&bundle), "--pin", &pin]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stderr.contains(&format!(
            "carried, integrity checked, not signature-verified: 1 {SPDX}, 1 {NOTARY}, 1 {COSIGN_SIG}, 1 {INTOTO}"
        )),
        "{}",
        text.stderr
    );
    // By type: only the chosen.
    let only = t.path().join("sbom");
    export(t.path(), &a.host(), "e2e", &only, &["--referrers", SPDX]);
    assert_eq!(referrers_in(&only), vec![all[1].clone()]);
    let two = t.path().join("two");
    export(
        t.path(),
        &a.host(),
        "e2e",
        &two,
        &["--referrers", &format!("{NOTARY},{INTOTO}")],
    );
    assert_eq!(
        referrers_in(&two),
        sorted(&[all[0].clone(), all[2].clone(), all[3].clone()])
    );
    let cosign = t.path().join("cosign");
    export(
        t.path(),
        &a.host(),
        "e2e",
        &cosign,
        &["--referrers", COSIGN_SIG],
    );
    assert_eq!(referrers_in(&cosign), vec![all[4].clone()]);
    let v = verify_json(&cosign, &[]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    // None.
    for flag in [&["--referrers", "none"][..], &["--no-referrers"][..]] {
        let none = t.path().join(format!("none{}", flag.len()));
        export(t.path(), &a.host(), "e2e", &none, flag);
        assert!(referrers_in(&none).is_empty(), "{flag:?}");
    }
    // A bad type is a usage error.
    let r = run_in(
        t.path(),
        &["export", "x/y:z", "-o", "out", "--referrers", "sbom"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn import_pushes_every_referrer_and_keeps_every_digest() {
    let t = tempfile::tempdir().unwrap();
    let Some((a, all)) = registry_with_referrers(t.path()) else {
        return;
    };
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let bundle = t.path().join("bundle");
    let r = export(t.path(), &a.host(), "e2e", &bundle, &[]);
    let pin = pin_of(&r);
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
        // Export again from B: the same image and every referrer, with the same digests.
        let again: PathBuf = t.path().join(format!("again{i}"));
        let e = export(t.path(), &b.host(), &format!("{prefix}/e2e"), &again, &[]);
        assert_eq!(e.json()["images"][0]["digest"], SUBJECT);
        assert_eq!(referrers_in(&again), sorted(&all));
        assert_eq!(referrers_in(&again), referrers_in(&bundle));
    }
}

#[test]
fn a_helm_chart_exports_verifies_and_imports_like_an_image() {
    let t = tempfile::tempdir().unwrap();
    let Some(a) = TestRegistry::start(None) else {
        return;
    };
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let (client, _cfg) = client_for(&a.host(), None, std::time::Duration::from_secs(10), 1);
    let repo =
        airlock::registry::Registry::parse(&format!("{}/charts/demo:0.1.0", a.host())).unwrap();
    let config = br#"{"name":"demo","version":"0.1.0","apiVersion":"v2"}"#;
    let chart = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03not really a chart, but bytes";
    let mut descs = Vec::new();
    for (mt, data) in [
        ("application/vnd.cncf.helm.config.v1+json", &config[..]),
        (
            "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
            &chart[..],
        ),
    ] {
        let desc = json!({"mediaType": mt, "digest": Digest::sha256(data).to_string(), "size": data.len()});
        client
            .push_blob(
                &repo,
                &serde_json::from_value(desc.clone()).unwrap(),
                Box::new(std::io::Cursor::new(data.to_vec())),
            )
            .unwrap();
        descs.push(desc);
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": descs[0],
        "layers": [descs[1]],
    });
    let bytes = serde_json::to_vec(&manifest).unwrap();
    client.push_manifest(&repo, MANIFEST, &bytes).unwrap();
    let digest = Digest::sha256(&bytes).to_string();
    for out in ["chart", "chart.tar.zst"] {
        let out = t.path().join(out);
        let r = run_pinned(
            t.path(),
            &[
                "export",
                &format!("{}/charts/demo:0.1.0", a.host()),
                "-o",
                &arg(&out),
                "--plain-http",
                &a.host(),
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.json()["images"][0]["digest"], digest.as_str());
        let v = verify_json(&out, &[]);
        assert_eq!(v.code, 0, "{}", v.stdout);
        assert_eq!(v.json()["images"][0]["digest"], digest.as_str());
        let r = run_pinned(
            t.path(),
            &[
                "import",
                &arg(&out),
                "--to",
                &b.host(),
                "--integrity-only",
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        // Back out of B: the same manifest digest, byte for byte.
        let back = t.path().join(format!(
            "back-{}",
            out.file_name().unwrap().to_str().unwrap()
        ));
        let r = run_pinned(
            t.path(),
            &[
                "export",
                &format!("{}/charts/demo:0.1.0", b.host()),
                "-o",
                &arg(&back),
                "--plain-http",
                &b.host(),
                "--format",
                "json",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.json()["images"][0]["digest"], digest.as_str());
    }
}

/// A referrer may itself be an index (a bundle of attestations, one per platform): it travels
/// whole, its child manifests and their blobs with it, and the bundle verifies. Before, only the
/// index itself travelled and the bundle lacked its children.
#[test]
fn a_referrer_that_is_an_index_travels_with_its_children() {
    use airlock::registry::Registry;
    const INDEX: &str = "application/vnd.oci.image.index.v1+json";
    const BUNDLE_TYPE: &str = "application/vnd.example.attestation-bundle";
    let t = tempfile::tempdir().unwrap();
    let Some((a, layout)) = registry_and_layout(t.path()) else {
        return;
    };
    let index = read_json(&layout.join("index.json"));
    let image = index["manifests"][0].clone();
    let subject =
        json!({"mediaType": image["mediaType"], "digest": image["digest"], "size": image["size"]});
    a.push_layout(&layout, "v1", "e2e", "v1", None);
    // The image's notation signature, and its referrers tag index (rewritten below).
    push_referrers(&a, &layout, SUBJECT, "e2e", None);
    let (client, _cfg) = client_for(&a.host(), None, std::time::Duration::from_secs(10), 1);
    let repo = Registry::parse(&format!("{}/e2e", a.host())).unwrap();
    let push_blob = |media_type: &str, bytes: &[u8]| -> Value {
        let d = json!({"mediaType": media_type, "digest": Digest::sha256(bytes).to_string(), "size": bytes.len()});
        let desc: airlock::layout::model::Descriptor = serde_json::from_value(d.clone()).unwrap();
        client
            .push_blob(&repo, &desc, Box::new(std::io::Cursor::new(bytes.to_vec())))
            .unwrap();
        d
    };
    let push_manifest = |media_type: &str, doc: &Value| -> Value {
        let bytes = serde_json::to_vec(doc).unwrap();
        let d = Digest::sha256(&bytes).to_string();
        let r = Registry::parse(&format!("{}/e2e@{d}", a.host())).unwrap();
        client.push_manifest(&r, media_type, &bytes).unwrap();
        json!({"mediaType": media_type, "digest": d, "size": bytes.len()})
    };
    // The referrer index: one child manifest (its own config and layer), then the index.
    let config = push_blob("application/vnd.oci.empty.v1+json", b"{}");
    let layer = push_blob(
        INTOTO,
        br#"{"_type":"https://in-toto.io/Statement/v1","child":1}"#,
    );
    let child = push_manifest(
        MANIFEST,
        &json!({"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": INTOTO,
                "config": config, "layers": [layer]}),
    );
    let mut bundle_desc = push_manifest(
        INDEX,
        &json!({"schemaVersion": 2, "mediaType": INDEX, "artifactType": BUNDLE_TYPE,
                "manifests": [child], "subject": subject}),
    );
    bundle_desc["artifactType"] = json!(BUNDLE_TYPE);
    // The tag schema's index for the image: its signature and the referrer index.
    let mut listed = vec![bundle_desc.clone()];
    for e in index["manifests"].as_array().unwrap().iter().skip(1) {
        let m = read_json(&blob(&layout, e["digest"].as_str().unwrap()));
        if m["subject"]["digest"] == SUBJECT {
            let mut entry = e.clone();
            entry["artifactType"] = m["artifactType"].clone();
            listed.push(entry);
        }
    }
    let tag = format!("sha256-{}", SUBJECT.trim_start_matches("sha256:"));
    let idx = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": listed});
    client
        .push_manifest(
            &Registry::parse(&format!("{}/e2e:{tag}", a.host())).unwrap(),
            INDEX,
            &serde_json::to_vec(&idx).unwrap(),
        )
        .unwrap();

    let out = t.path().join("bundle");
    let r = export(t.path(), &a.host(), "e2e", &out, &[]);
    let bundle_digest = bundle_desc["digest"].as_str().unwrap();
    assert!(referrers_in(&out).contains(&bundle_digest.to_owned()));
    for d in [&child, &config, &layer] {
        let d = d["digest"].as_str().unwrap();
        assert!(
            blob(&out, d).exists(),
            "{d} of the referrer index is missing"
        );
    }
    let carried: Vec<Value> = r.json()["images"][0]["referrers"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        carried
            .iter()
            .any(|c| c["digest"] == bundle_digest && c["artifactType"] == BUNDLE_TYPE),
        "{carried:?}"
    );
    let v = verify_trust(&out, &["--pin", &pin_of(&r)]);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
    // And as a tarball.
    let tar = t.path().join("bundle.tar");
    let r = export(t.path(), &a.host(), "e2e", &tar, &[]);
    let pin = pin_of(&r);
    let v = verify_trust(&tar, &["--pin", &pin]);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
    // Imported into another registry (children before the index) and exported from there again:
    // the referrer index and its children come back with the same digests.
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let r = run_pinned(
        t.path(),
        &["import", &arg(&tar), "--to", &b.host(), "--pin", &pin],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let again = t.path().join("again");
    export(t.path(), &b.host(), "e2e", &again, &[]);
    assert_eq!(referrers_in(&again), referrers_in(&out));
    for d in [&child, &config, &layer] {
        let d = d["digest"].as_str().unwrap();
        assert!(blob(&again, d).exists(), "{d} did not come back");
    }
}

/// In pinned mode the export record is what vouches for an SBOM, an attestation or a cosign
/// artifact (nothing verifies them otherwise): one a carrier adds after the export changes no
/// verdict (it is judged by nothing) but is reported, and `import --pin` leaves it behind instead
/// of pushing it beside the image as if it came from upstream. Under local trust (no record) it
/// is carried and pushed as documented: integrity checked, not signature-verified.
#[test]
fn a_referrer_added_after_the_export_is_reported_and_left_behind_under_the_pin() {
    let t = tempfile::tempdir().unwrap();
    let Some((a, all)) = registry_with_referrers(t.path()) else {
        return;
    };
    let bundle = t.path().join("bundle");
    let r = export(t.path(), &a.host(), "e2e", &bundle, &[]);
    let pin = pin_of(&r);
    let honest = verify_trust(&bundle, &["--pin", &pin]);
    assert_eq!(honest.code, 0, "{}", honest.stderr);
    assert!(!codes_of(&honest.json(), "warnings").contains(&"not_in_export_record".to_owned()));
    // The carrier's SBOM for the image, listed in index.json beside the honest ones.
    let image = read_json(&bundle.join("index.json"))["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["digest"] == SUBJECT)
        .unwrap()
        .clone();
    let subject =
        json!({"mediaType": image["mediaType"], "digest": image["digest"], "size": image["size"]});
    let forged = add_referrer(
        &bundle,
        &subject,
        SPDX,
        SPDX,
        br#"{"spdxVersion":"SPDX-2.3","name":"nothing to see"}"#,
    );
    let forged = forged["digest"].as_str().unwrap().to_owned();
    // And a notation signature of the image that no trusted signer made (its envelope is not
    // even one): the image still passes on upstream's signature.
    let forged_sig = add_referrer(
        &bundle,
        &subject,
        NOTARY,
        "application/jose+json",
        b"{\"payload\":\"\",\"protected\":\"\",\"signature\":\"\"}",
    );
    let forged_sig = forged_sig["digest"].as_str().unwrap().to_owned();
    let v = verify_trust(&bundle, &["--pin", &pin]);
    assert_eq!(v.code, 0, "{}\n{}", v.stdout, v.stderr);
    let j = v.json();
    for d in [&forged, &forged_sig] {
        assert!(
            has_finding(&j, "warnings", "not_in_export_record", d),
            "{d}: {j}"
        );
    }
    // Import with the pin pushes the image and every recorded referrer, not the forged one.
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let r = run_pinned(
        t.path(),
        &["import", &arg(&bundle), "--to", &b.host(), "--pin", &pin],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("not in the pinned export record"),
        "{}",
        r.stderr
    );
    let again = t.path().join("again");
    export(t.path(), &b.host(), "e2e", &again, &[]);
    assert_eq!(referrers_in(&again), sorted(&all));
    assert!(!referrers_in(&again).contains(&forged));
    assert!(!referrers_in(&again).contains(&forged_sig));
    // Local trust (no record to compare with): carried and pushed, integrity checked.
    let case = corpus_dir().join(E2E);
    let trust = [
        "--trust-policy".to_owned(),
        arg(&case.join("trustpolicy.json")),
        "--trust-store".to_owned(),
        arg(&case.join("truststore")),
    ];
    let trust: Vec<&str> = trust.iter().map(String::as_str).collect();
    let local = verify_trust(&bundle, &trust);
    assert_eq!(local.code, 0, "{}\n{}", local.stdout, local.stderr);
    let mut args = vec!["import", s_(&bundle), "--to"];
    let site = format!("{}/local", b.host());
    args.push(&site);
    args.extend(&trust);
    let r = run_pinned(t.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let local_again = t.path().join("local-again");
    export(t.path(), &b.host(), "local/e2e", &local_again, &[]);
    assert!(referrers_in(&local_again).contains(&forged));
    assert!(referrers_in(&local_again).contains(&forged_sig));
}

fn s_(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_referrer_whose_own_subject_is_another_manifest_is_refused() {
    // The registry's referrers tag of the image lists an SBOM whose own `subject` is another
    // manifest (the image's signature): a listing that is not the manifest's word. Export must
    // not record and tag it under the image.
    let t = tempfile::tempdir().unwrap();
    let Some((a, layout)) = registry_and_layout(t.path()) else {
        return;
    };
    let index = read_json(&layout.join("index.json"));
    let other = index["manifests"][1].clone();
    let other_digest = other["digest"].as_str().unwrap().to_owned();
    let other_subject =
        json!({"mediaType": MANIFEST, "digest": other["digest"], "size": other["size"]});
    let sbom = add_referrer(
        &layout,
        &other_subject,
        SPDX,
        SPDX,
        br#"{"spdxVersion":"SPDX-2.3"}"#,
    );
    a.push_layout(&layout, "v1", "e2e", "v1", None);
    push_referrers(&a, &layout, &other_digest, "e2e", None);
    let lying = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": MANIFEST, "digest": sbom["digest"], "size": sbom["size"], "artifactType": SPDX}],
    });
    let (client, _cfg) = client_for(&a.host(), None, std::time::Duration::from_secs(10), 1);
    let tag = format!("sha256-{}", SUBJECT.trim_start_matches("sha256:"));
    client
        .push_manifest(
            &airlock::registry::Registry::parse(&format!("{}/e2e:{tag}", a.host())).unwrap(),
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&lying).unwrap(),
        )
        .unwrap();
    let out = t.path().join("bundle");
    let r = run_pinned(
        t.path(),
        &[
            "export",
            &format!("{}/e2e:v1", a.host()),
            "-o",
            &arg(&out),
            "--plain-http",
            &a.host(),
        ],
    );
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "listed as a referrer of {SUBJECT}, but its subject is {other_digest}"
        )),
        "{}",
        r.stderr
    );
    assert!(!out.exists(), "nothing is written");
}
