//! Interop with real peers: a layout written by skopeo verifies clean; our deterministic tarballs
//! are read by GNU tar and zstd.

use std::fs;
use std::process::Command;

use crate::common::*;

#[test]
fn skopeo_written_layout_verifies() {
    if !have("skopeo") {
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let dst = t.path().join("copied");
    skopeo_copy(
        &format!("oci:{}:registry.example/airlock/sample:1.0", root.display()),
        &format!("oci:{}:copied", dst.display()),
    );
    for form in FORMS {
        let r = verify_json(&pack(&dst, form), &[]);
        assert_eq!(r.code, 0, "{form:?}: {}", r.stdout);
        let j = r.json();
        assert_eq!(j["images"][0]["reference"], "copied");
        assert_eq!(
            j["images"][0]["platforms"],
            serde_json::json!(["linux/amd64", "linux/arm64"])
        );
    }
    // skopeo also reads what we write.
    let out = Command::new("skopeo")
        .args([
            "--insecure-policy",
            "inspect",
            "--raw",
            &format!("oci:{}:registry.example/airlock/sample:1.0", root.display()),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo inspect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn written_tarballs_are_deterministic_and_readable_by_peers() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let a = t.path().join("a.tar.zst");
    let b = t.path().join("b.tar.zst");
    airlock::layout::write_layout_tar(&root, &a, airlock::archive::Compression::Zstd).unwrap();
    airlock::layout::write_layout_tar(&root, &b, airlock::archive::Compression::Zstd).unwrap();
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    // A second fixture run gives the same bytes too.
    let t2 = tempfile::tempdir().unwrap();
    let root2 = small_layout(t2.path());
    let c = t2.path().join("c.tar.zst");
    airlock::layout::write_layout_tar(&root2, &c, airlock::archive::Compression::Zstd).unwrap();
    assert_eq!(fs::read(&a).unwrap(), fs::read(&c).unwrap());
    if have("zstd") && have("tar") {
        let out = Command::new("sh")
            .args(["-c", &format!("zstd -dc {} | tar -tvf -", a.display())])
            .output()
            .unwrap();
        assert!(out.status.success());
        let listing = String::from_utf8_lossy(&out.stdout);
        let first = listing.lines().next().unwrap();
        assert!(
            first.contains("root/root") || first.contains(" 0/0 "),
            "{first}"
        );
        assert!(first.ends_with("oci-layout"), "{first}");
        assert!(listing.lines().last().unwrap().ends_with("index.json"));
    }
}
