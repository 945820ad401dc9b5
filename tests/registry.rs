//! Export from a real registry (Debian's docker-registry 2.8 on loopback): images, signatures
//! through the referrers tag schema (2.8 has no Referrers API), basic auth from a docker
//! config.json, a corrupted blob, determinism, and the round trip to `verify --pin`.

use std::fs;
use std::path::Path;

use crate::common::*;
use crate::registry_util::*;

const E2E: &str = "valid-sig.strict.by-tag";
const SUBJECT: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn export(cwd: &Path, args: &[&str]) -> Run {
    let o = bin()
        .current_dir(cwd)
        .env("SOURCE_DATE_EPOCH", "1780272000")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

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
    let r = export(
        t.path(),
        &[
            "export",
            &src,
            "-o",
            &s(&out),
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
    // One platform only.
    let one = t.path().join("arm64");
    let r = export(
        t.path(),
        &[
            "-q",
            "export",
            &src,
            "-o",
            &s(&one),
            "--plain-http",
            &reg.host(),
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
        export(
            t.path(),
            &[
                "-q",
                "export",
                &src,
                "-o",
                &s(&again),
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
    let r = export(
        t.path(),
        &[
            "export",
            &src,
            "-o",
            &s(&out),
            "--plain-http",
            &reg.host(),
            "--trust-policy",
            &s(&case.join("trustpolicy.json")),
            "--trust-store",
            &s(&case.join("truststore")),
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
    let r = export(
        t.path(),
        &[
            "export",
            &src,
            "-o",
            &s(&t.path().join("x.tar")),
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
    let r = export(
        t.path(),
        &[
            "-q",
            "export",
            &src,
            "-o",
            &s(&out),
            "--plain-http",
            &reg.host(),
            "--registry-config",
            &s(&empty),
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
            base64_encode(b"alice:s3cret")
        ),
    )
    .unwrap();
    let r = export(
        t.path(),
        &[
            "export",
            &src,
            "-o",
            &s(&out),
            "--plain-http",
            &reg.host(),
            "--registry-config",
            &s(&cfg),
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
        let r = export(
            t.path(),
            &[
                "-q",
                "export",
                &format!("{}/app:1", reg.host()),
                "-o",
                &s(&path),
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
