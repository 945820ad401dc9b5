//! `airlock import` against real registries: the round trip export(A) -> import(B) -> export(B)
//! keeps every digest and signature, a tampered or changed bundle pushes nothing, the referrers tag
//! index is merged, and a second import uploads nothing.

use std::fs;
use std::path::{Path, PathBuf};

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

/// The file of the first layer of the first platform of the layout's first image.
fn first_layer(root: &Path) -> PathBuf {
    let index = read_json(&root.join("index.json"));
    let top = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let child = read_json(&blob(root, &top))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    blob(
        root,
        read_json(&blob(root, &child))["layers"][0]["digest"]
            .as_str()
            .unwrap(),
    )
}

#[test]
fn a_bundle_changed_after_verification_aborts_the_push() {
    let t = tempfile::tempdir().unwrap();
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let root = small_layout(t.path());
    let layer = first_layer(&root);
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

/// A layer deleted from a directory, a tarball cut short or a part rewritten after verification is
/// the bundle's content at fault, exit 1 like any change (red team I, I-06: each was an
/// operational error, exit 2, the part's naming a spool file under $TMPDIR).
#[test]
fn a_bundle_gone_or_cut_after_verification_is_a_content_failure() {
    let t = tempfile::tempdir().unwrap();
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let root = small_layout(t.path());
    let layer = first_layer(&root);
    let tarball = pack(&root, Form::TarZst);
    let len = fs::metadata(&tarball).unwrap().len();
    let cases = [
        (
            tarball.clone(),
            format!("truncate -s {} {}", len / 2, arg(&tarball)),
            "cut",
        ),
        (root.clone(), format!("rm {}", arg(&layer)), "gone"),
    ];
    for (bundle, hook, repo) in cases {
        let o = bin()
            .current_dir(t.path())
            .env("AIRLOCK_TEST_HOOK_AFTER_VERIFY", &hook)
            .args([
                "import",
                &arg(&bundle),
                "--to",
                &format!("{}/{repo}", b.host()),
                "--integrity-only",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{repo}: {stderr}");
        assert!(
            stderr.contains("changed since verification"),
            "{repo}: {stderr}"
        );
    }
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

/// A fixture layout of two platforms with `layers` layers of `size` bytes each, no referrer.
fn layered(dir: &Path, name: &str, layers: usize, size: u64, seed: u64) -> std::path::PathBuf {
    let root = dir.join(name);
    airlock::fixture::generate(
        &root,
        &airlock::fixture::Spec {
            layers,
            layer_size: size,
            seed,
            referrer: false,
            ..airlock::fixture::Spec::default()
        },
    )
    .unwrap();
    root
}

/// Pulls `REPO:TAG` of `reg` back with skopeo (every manifest and blob, digests checked) and
/// requires every blob of `root` to come back byte for byte.
fn pulled_back_equals(t: &Path, reg: &TestRegistry, repo_tag: &str, root: &Path) {
    if !have("skopeo") {
        assert!(!strict(), "skopeo is needed for the round trip");
        return;
    }
    let back = t.join(format!("back-{}", repo_tag.replace(['/', ':'], "-")));
    let o = std::process::Command::new("skopeo")
        .args([
            "--insecure-policy",
            "copy",
            "-q",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            &format!("docker://{}/{repo_tag}", reg.host()),
            &format!("oci:{}:x", arg(&back)),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let blobs = |r: &Path| -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(r.join("blobs/sha256"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let (want, got) = (blobs(root), blobs(&back));
    assert_eq!(want, got, "the registry holds other blobs than the bundle");
    for b in &want {
        assert!(
            fs::read(root.join("blobs/sha256").join(b)).unwrap()
                == fs::read(back.join("blobs/sha256").join(b)).unwrap(),
            "{b} came back different"
        );
    }
}

fn manifest_exists(reg: &TestRegistry, reference: &str) -> bool {
    std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{}/{reference}", reg.host()),
        ])
        .output()
        .unwrap()
        .status
        .success()
}

/// Every manifest digest of a fixture layout (the index and its children).
fn manifests_of(root: &Path) -> Vec<String> {
    let top = read_json(&root.join("index.json"))["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut all = vec![top.clone()];
    for m in read_json(&blob(root, &top))["manifests"]
        .as_array()
        .unwrap()
    {
        all.push(m["digest"].as_str().unwrap().to_owned());
    }
    all
}

fn files_in(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path() != dir)
        .count()
}

/// `airlock import BUNDLE --to TO --integrity-only --format json EXTRA...` in `dir` with `$TMPDIR`
/// set to `tmp`; it must pass: its JSON summary and its stderr.
fn import_with_tmp(
    dir: &Path,
    tmp: &Path,
    bundle: &Path,
    to: &str,
    extra: &[&str],
) -> (serde_json::Value, String) {
    let o = bin()
        .current_dir(dir)
        .env("TMPDIR", tmp)
        .args([
            "import",
            &arg(bundle),
            "--to",
            to,
            "--integrity-only",
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    (serde_json::from_slice(&o.stdout).unwrap(), stderr)
}

#[test]
fn a_tarball_imported_with_four_jobs_round_trips_and_reports_its_spool() {
    let t = tempfile::tempdir().unwrap();
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let root = layered(t.path(), "layout", 3, 3 << 20, 7);
    let tarball = pack(&root, Form::TarZst);
    let tmp = t.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    let (j, stderr) = import_with_tmp(t.path(), &tmp, &tarball, &b.host(), &["--jobs", "4"]);
    // Six layers and two configs, all spooled (the default limit holds them) and uploaded.
    assert_eq!(j["blobsUploaded"], 8, "{j}");
    assert!(j["bytesUploaded"].as_u64().unwrap() > 6 * (3 << 20), "{j}");
    assert_eq!(j["bytesSpooled"], j["bytesUploaded"], "{j}");
    assert!(stderr.contains("spooled"), "{stderr}");
    assert_eq!(files_in(&tmp), 0, "spool files were left in $TMPDIR");
    pulled_back_equals(t.path(), &b, "airlock/sample:1.0", &root);
}

#[test]
fn a_plain_tar_in_one_file_is_uploaded_from_where_its_blobs_lie() {
    // No spool: the workers read each blob at its offset in the bundle, side by side, hashed again
    // on the way; a parts set of the same tar (offsets across files) still spools.
    let t = tempfile::tempdir().unwrap();
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let root = layered(t.path(), "layout", 3, 2 << 20, 21);
    let tarball = pack(&root, Form::Tar);
    let tmp = t.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    let import = |bundle: &Path, prefix: &str| {
        let to = format!("{}/{prefix}", b.host());
        import_with_tmp(t.path(), &tmp, bundle, &to, &["--jobs", "4"])
    };
    let (j, stderr) = import(&tarball, "whole");
    assert_eq!(j["blobsUploaded"], 8, "{j}");
    assert_eq!(j["bytesSpooled"], 0, "{j}");
    assert!(!stderr.contains("spooled"), "{stderr}");
    assert_eq!(files_in(&tmp), 0);
    pulled_back_equals(t.path(), &b, "whole/airlock/sample:1.0", &root);
    let parts = t.path().join("parts");
    let r = run_in(
        t.path(),
        &["split", &arg(&tarball), "--size", "1M", "-o", &arg(&parts)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (j, _) = import(&parts, "parts");
    assert_eq!(j["bytesSpooled"], j["bytesUploaded"], "{j}");
    pulled_back_equals(t.path(), &b, "parts/airlock/sample:1.0", &root);
}

#[test]
fn a_spool_limit_smaller_than_a_blob_still_imports_everything() {
    let t = tempfile::tempdir().unwrap();
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let root = layered(t.path(), "layout", 2, 2 << 20, 9);
    // Compressed: a plain tar in one file is read in place, never spooled.
    let tarball = pack(&root, Form::TarZst);
    let tmp = t.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    let extra = ["--jobs", "3", "--spool-limit", "1M"];
    let (j, _) = import_with_tmp(t.path(), &tmp, &tarball, &b.host(), &extra);
    assert_eq!(j["blobsUploaded"], 6, "{j}");
    // The layers (2 MiB each) never fit: they went up from the stream; only the configs spooled.
    let spooled = j["bytesSpooled"].as_u64().unwrap();
    assert!(spooled > 0 && spooled < 1 << 20, "{j}");
    assert_eq!(files_in(&tmp), 0, "spool files were left in $TMPDIR");
    pulled_back_equals(t.path(), &b, "airlock/sample:1.0", &root);
    // --spool-limit 0 spools nothing and still imports (into another repository: uploads again).
    let r = run_in(
        t.path(),
        &[
            "import",
            &arg(&tarball),
            "--to",
            &format!("{}/zero", b.host()),
            "--integrity-only",
            "--spool-limit",
            "0",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["bytesSpooled"], 0, "{j}");
    assert!(!r.stderr.contains("spooled"), "{}", r.stderr);
    pulled_back_equals(t.path(), &b, "zero/airlock/sample:1.0", &root);
}

#[test]
fn a_blob_changed_during_a_concurrent_import_pushes_no_manifest_and_a_rerun_completes() {
    let t = tempfile::tempdir().unwrap();
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    if !have("skopeo") {
        assert!(!strict());
        return;
    }
    let root = layered(t.path(), "layout", 3, 1 << 20, 11);
    // Another layout with the same structure and other bytes: one of its layers replaces ours.
    let other = layered(t.path(), "other", 3, 1 << 20, 12);
    let child = read_json(&blob(&root, &manifests_of(&root)[1]));
    let victim = child["layers"][2]["digest"].as_str().unwrap().to_owned();
    let other_child = read_json(&blob(&other, &manifests_of(&other)[1]));
    let evil = blob(&other, other_child["layers"][2]["digest"].as_str().unwrap());
    let saved = t.path().join("saved");
    fs::copy(blob(&root, &victim), &saved).unwrap();
    let tarball = pack(&root, Form::TarZst);
    let good_tarball = t.path().join("good.tar.zst");
    fs::copy(&tarball, &good_tarball).unwrap();
    // The same change, in a tarball: the layer's entry holds the other bytes (`pack` writes
    // beside the layout, over `tarball`, which is then put back).
    fs::copy(&evil, blob(&root, &victim)).unwrap();
    let evil_tarball = t.path().join("evil.tar.zst");
    fs::copy(pack(&root, Form::TarZst), &evil_tarball).unwrap();
    fs::copy(&saved, blob(&root, &victim)).unwrap();
    fs::copy(&good_tarball, &tarball).unwrap();
    let cases = [
        (
            root.clone(),
            format!("cp {} {}", arg(&evil), arg(&blob(&root, &victim))),
            format!("cp {} {}", arg(&saved), arg(&blob(&root, &victim))),
            "dir",
        ),
        (
            tarball.clone(),
            format!("cp {} {}", arg(&evil_tarball), arg(&tarball)),
            format!("cp {} {}", arg(&good_tarball), arg(&tarball)),
            "tar",
        ),
    ];
    for (bundle, hook, restore, prefix) in cases {
        let tmp = t.path().join(format!("tmp-{prefix}"));
        fs::create_dir(&tmp).unwrap();
        let o = bin()
            .current_dir(t.path())
            .env("TMPDIR", &tmp)
            .env("AIRLOCK_TEST_HOOK_AFTER_VERIFY", &hook)
            .args([
                "import",
                &arg(&bundle),
                "--to",
                &format!("{}/{prefix}", b.host()),
                "--integrity-only",
                "--jobs",
                "4",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{prefix}: {stderr}");
        assert!(
            stderr.contains(&format!("{victim} changed since verification")),
            "{prefix}: {stderr}"
        );
        assert_eq!(files_in(&tmp), 0, "{prefix}: spool files were left");
        for m in manifests_of(&root) {
            assert!(
                !manifest_exists(&b, &format!("{prefix}/airlock/sample@{m}")),
                "{prefix}: manifest {m} was pushed although a blob changed"
            );
        }
        assert!(!manifest_exists(
            &b,
            &format!("{prefix}/airlock/sample:1.0")
        ));
        // Put the bundle back: a rerun completes the import.
        assert!(std::process::Command::new("sh")
            .args(["-c", &restore])
            .status()
            .unwrap()
            .success());
        let r = run_in(
            t.path(),
            &[
                "import",
                &arg(&bundle),
                "--to",
                &format!("{}/{prefix}", b.host()),
                "--integrity-only",
                "--jobs",
                "4",
            ],
        );
        assert_eq!(r.code, 0, "{prefix}: {}", r.stderr);
        pulled_back_equals(t.path(), &b, &format!("{prefix}/airlock/sample:1.0"), &root);
    }
}

#[test]
fn an_interrupted_tarball_import_leaves_no_spool_and_no_manifest_and_a_rerun_completes() {
    let t = tempfile::tempdir().unwrap();
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    if !have("skopeo") {
        assert!(!strict());
        return;
    }
    let root = layered(t.path(), "layout", 4, 8 << 20, 13);
    // Compressed, so that it spools (a plain tar in one file is read in place).
    let tarball = pack(&root, Form::TarZst);
    let tmp = t.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    // After verification, a watcher waits for the first spool file and interrupts airlock (the
    // hook's parent) while its uploads run.
    let hook = "( while ! ls \"$TMPDIR\"/.airlock-import-*/blob-* >/dev/null 2>&1; do sleep 0.005; done; kill -INT $PPID ) &";
    let o = bin()
        .current_dir(t.path())
        .env("TMPDIR", &tmp)
        .env("AIRLOCK_TEST_HOOK_AFTER_VERIFY", hook)
        .args([
            "import",
            &arg(&tarball),
            "--to",
            &b.host(),
            "--integrity-only",
            "--jobs",
            "2",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert_eq!(files_in(&tmp), 0, "spool files were left after the signal");
    for m in manifests_of(&root) {
        assert!(
            !manifest_exists(&b, &format!("airlock/sample@{m}")),
            "manifest {m} was pushed by an interrupted import"
        );
    }
    let r = run_in(
        t.path(),
        &[
            "import",
            &arg(&tarball),
            "--to",
            &b.host(),
            "--integrity-only",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    pulled_back_equals(t.path(), &b, "airlock/sample:1.0", &root);
}

/// Runs `airlock import` with the after-verification hook `hook`; panics if it is still running
/// after a minute (a hang is the failure this guards against, not a wait).
fn import_with_hook_promptly(dir: &Path, hook: &str, args: &[&str]) -> Run {
    let mut cmd = bin();
    cmd.current_dir(dir)
        .env("AIRLOCK_TEST_HOOK_AFTER_VERIFY", hook)
        .args(args);
    run_within_a_minute(cmd, &format!("import {args:?} (hook {hook:?})"))
}

#[test]
fn a_special_file_swapped_in_after_verification_fails_the_import_at_once() {
    // Swapped in before verification, a FIFO is a `special_file` finding; swapped in after it (the
    // hook), every file import reads again must be opened the same way: a FIFO, a device or a link
    // fails the import with exit 1 and nothing tagged, never blocks it in open(2).
    let t = tempfile::tempdir().unwrap();
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let root = small_layout(t.path());
    let layer = {
        let top = read_json(&root.join("index.json"))["manifests"][0]["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        let child = read_json(&blob(&root, &top))["manifests"][0]["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        blob(
            &root,
            read_json(&blob(&root, &child))["layers"][0]["digest"]
                .as_str()
                .unwrap(),
        )
    };
    let saved = t.path().join("saved-layer");
    fs::copy(&layer, &saved).unwrap();
    let tar = pack(&root, Form::Tar);
    let zst = pack(&root, Form::TarZst);
    let keep = |p: &Path| {
        let copy = t.path().join(format!(
            "saved-{}",
            p.file_name().unwrap().to_str().unwrap()
        ));
        fs::copy(p, &copy).unwrap();
        (copy, p.to_path_buf())
    };
    let originals = [(saved.clone(), layer.clone()), keep(&tar), keep(&zst)];
    let fifo = |p: &Path| format!("rm -f {0} && mkfifo {0}", arg(p));
    let cases = [
        (root.clone(), fifo(&layer), "dir-fifo", "a FIFO"),
        (
            root.clone(),
            format!("rm -f {0} && ln -s /dev/zero {0}", arg(&layer)),
            "dir-device-link",
            "symbolic link",
        ),
        (
            root.clone(),
            format!("rm -f {0} && ln -s {1} {0}", arg(&layer), arg(&saved)),
            "dir-link",
            "symbolic link",
        ),
        (tar.clone(), fifo(&tar), "tar-fifo", "a FIFO"),
        (
            zst.clone(),
            format!("rm -f {0} && ln -s /dev/zero {0}", arg(&zst)),
            "zst-device",
            "character device",
        ),
        (zst.clone(), fifo(&zst), "zst-fifo", "a FIFO"),
    ];
    for (bundle, hook, prefix, why) in cases {
        let r = import_with_hook_promptly(
            t.path(),
            &hook,
            &[
                "import",
                &arg(&bundle),
                "--to",
                &format!("{}/{prefix}", b.host()),
                "--integrity-only",
            ],
        );
        assert_eq!(r.code, 1, "{prefix}: {}", r.stderr);
        assert!(r.stderr.contains(why), "{prefix}: {}", r.stderr);
        assert!(
            !manifest_exists(&b, &format!("{prefix}/airlock/sample:1.0")),
            "{prefix}: the image was tagged"
        );
        // Put the files back for the next case.
        for (copy, path) in &originals {
            let _ = fs::remove_file(path);
            fs::copy(copy, path).unwrap();
        }
    }
}

/// The summary counts notation signatures as signatures and every other referrer (the fixture's
/// SBOM-like artifact) as a referrer: an unsigned image is never reported as pushed with a
/// signature.
#[test]
fn an_sbom_is_counted_as_a_referrer_not_a_signature() {
    let t = tempfile::tempdir().unwrap();
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let root = small_layout(t.path());
    let r = run_in(
        t.path(),
        &[
            "import",
            &arg(&root),
            "--to",
            &format!("{}/site", reg.host()),
            "--integrity-only",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["signaturesPushed"], 0, "{j}");
    assert_eq!(j["referrersPushed"], 1, "{j}");
    assert_eq!(j["images"][0]["signatures"], 0, "{j}");
    assert_eq!(j["images"][0]["referrers"], 1, "{j}");
    let text = run_in(
        t.path(),
        &[
            "import",
            &arg(&root),
            "--to",
            &format!("{}/again", reg.host()),
            "--integrity-only",
        ],
    );
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stderr
            .contains("(0 signature(s), 1 other referrer(s))"),
        "{}",
        text.stderr
    );
}
