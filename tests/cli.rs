//! The command line: exit codes, stdin, image selection, report determinism, the trust hint.

use std::fs;

use crate::common::*;

#[test]
fn verify_without_trust_anchor_is_refused_with_a_hint() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let r = run_in(t.path(), &["verify", root.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "no trust anchor given: pass --integrity-only, or a trust policy and trust store"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn stdin_tarball_verifies() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    for form in [Form::Tar, Form::TarGz, Form::TarZst] {
        let b = pack(&root, form);
        let r = run_stdin(
            t.path(),
            &["verify", "-", "--integrity-only", "--format", "json"],
            &fs::read(&b).unwrap(),
        );
        assert_eq!(r.code, 0, "{form:?}: {}", r.stderr);
        assert_eq!(r.json()["verdict"], "pass");
    }
    // A tampered stream on stdin fails.
    let mut bytes = fs::read(pack(&root, Form::Tar)).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    let r = run_stdin(
        t.path(),
        &["verify", "-", "--integrity-only", "--format", "json"],
        &bytes,
    );
    assert_eq!(r.code, 1);
}

#[test]
fn reports_differ_only_in_verified_at() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let b = pack(&root, Form::TarZst);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("\"verifiedAt\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let a = verify_json(&b, &[]);
    let c = verify_json(&b, &[]);
    assert_eq!(strip(&a.stdout), strip(&c.stdout));
    // Key order is fixed.
    let keys: Vec<String> = a.json().as_object().unwrap().keys().cloned().collect();
    let first_lines: Vec<&str> = a.stdout.lines().filter(|l| l.starts_with("  \"")).collect();
    assert!(first_lines[0].contains("schemaVersion"));
    assert!(keys.contains(&"bundleDigest".to_string()));
    let order: Vec<usize> = [
        "schemaVersion",
        "tool",
        "verdict",
        "bundleDigest",
        "blobs",
        "failures",
        "warnings",
        "images",
    ]
    .iter()
    .map(|k| {
        a.stdout
            .find(&format!("\n  \"{k}\""))
            .unwrap_or_else(|| panic!("{k} missing"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "keys out of order: {order:?}"
    );
    // The directory and every tarball form describe the same bundle.
    let d = verify_json(&root, &[]);
    assert_eq!(d.json()["bundleDigest"], a.json()["bundleDigest"]);
    assert_eq!(d.json()["blobs"], a.json()["blobs"]);
}

#[test]
fn report_file_is_written_and_matches_stdout() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let rep = t.path().join("audit.json");
    let r = run_in(
        t.path(),
        &[
            "-q",
            "verify",
            root.to_str().unwrap(),
            "--integrity-only",
            "--report",
            rep.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "text mode keeps stdout empty");
    let j = read_json(&rep);
    assert_eq!(j["verdict"], "pass");
    assert_eq!(j["tool"]["name"], "airlock");
    assert_eq!(j["schemaVersion"], 1);
}

#[test]
fn images_are_selected_by_name_tag_or_digest() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let index = read_json(&root.join("index.json"));
    let digest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    for sel in [
        "registry.example/airlock/sample:1.0",
        "1.0",
        digest.as_str(),
    ] {
        let r = verify_json(&root, &[sel]);
        assert_eq!(r.code, 0, "{sel}: {}", r.stdout);
        assert_eq!(r.json()["images"].as_array().unwrap().len(), 1);
    }
    let r = verify_json(&root, &["nope:2.0"]);
    assert_eq!(r.code, 1);
    assert!(r.codes().contains(&"image_not_found".to_string()));
}

#[test]
fn selection_narrows_the_check() {
    // Two images in one layout; tamper with the second; verifying the first alone passes.
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a");
    let b = t.path().join("b");
    airlock::fixture::generate(
        &a,
        &airlock::fixture::Spec {
            layer_size: 1000,
            reference: "r/a:1".into(),
            referrer: false,
            ..Default::default()
        },
    )
    .unwrap();
    airlock::fixture::generate(
        &b,
        &airlock::fixture::Spec {
            layer_size: 1000,
            reference: "r/b:1".into(),
            seed: 99,
            referrer: false,
            ..Default::default()
        },
    )
    .unwrap();
    // Merge b into a.
    for e in walkdir::WalkDir::new(b.join("blobs/sha256")).min_depth(1) {
        let e = e.unwrap();
        fs::copy(e.path(), a.join("blobs/sha256").join(e.file_name())).unwrap();
    }
    let mut ia = read_json(&a.join("index.json"));
    let ib = read_json(&b.join("index.json"));
    ia["manifests"]
        .as_array_mut()
        .unwrap()
        .push(ib["manifests"][0].clone());
    write_json(&a.join("index.json"), &ia);
    let bm = read_json(&blob(&a, ib["manifests"][0]["digest"].as_str().unwrap()));
    let child = read_json(&blob(&a, bm["manifests"][0]["digest"].as_str().unwrap()));
    let layer = blob(&a, child["layers"][0]["digest"].as_str().unwrap());
    let mut bytes = fs::read(&layer).unwrap();
    bytes[0] ^= 1;
    fs::write(&layer, bytes).unwrap();

    assert_eq!(verify_json(&a, &["r/a:1"]).code, 0);
    let r = verify_json(&a, &["r/b:1"]);
    assert_eq!(r.code, 1);
    assert!(r.codes().contains(&"digest_mismatch".to_string()));
    assert_eq!(verify_json(&a, &[]).code, 1);
}

#[test]
fn inspect_lists_images_and_referrers() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let b = pack(&root, Form::TarZst);
    let r = run_in(
        t.path(),
        &["inspect", b.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(
        j["images"][0]["reference"],
        "registry.example/airlock/sample:1.0"
    );
    assert_eq!(
        j["images"][0]["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    assert_eq!(j["referrersByArtifactType"]["application/spdx+json"], 1);
    assert_eq!(j["blobs"]["count"], 12);
    let text = run_in(t.path(), &["inspect", root.to_str().unwrap()]);
    assert_eq!(text.code, 0);
    assert!(
        text.stdout.contains("linux/amd64, linux/arm64"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("application/spdx+json"));
}

#[test]
fn quiet_and_usage_errors() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let r = run_in(
        t.path(),
        &["-qq", "verify", root.to_str().unwrap(), "--integrity-only"],
    );
    assert_eq!(r.code, 0);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let r = run_in(t.path(), &["verify", "--bogus-flag"]);
    assert_eq!(r.code, 2);
    let r = run_in(t.path(), &["--version"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("airlock "));
}
