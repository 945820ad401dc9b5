//! One bundle identity, printed the same way everywhere (issue 11, item 3): `export`, `verify`,
//! `inspect` and `import` print the same `bundle sha256:...` line (the digest of `index.json`) and,
//! for a tarball, the same `file sha256:...` line (the file's own bytes), in text and in JSON.

use airlock::digest::Digest;

use crate::common::*;
use crate::registry_util::TestRegistry;

/// The `bundle ...` and `file ...` lines of a text output, in order.
fn identity(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with("bundle sha256:") || l.starts_with("file sha256:"))
        .map(str::to_owned)
        .collect()
}

fn ok(r: &Run, what: &str) {
    assert_eq!(r.code, 0, "{what}: {}\n{}", r.stdout, r.stderr);
}

#[test]
fn export_verify_inspect_and_import_print_the_same_identity() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let layout = dir.join("layout");
    let r = run_in(
        dir,
        &["-q", "fixture", &arg(&layout), "--layer-size", "4096"],
    );
    ok(&r, "fixture");
    let reg = TestRegistry::start(None);
    let mut index_digest = None;
    for (i, name) in ["bundle", "bundle.tar.zst"].iter().enumerate() {
        let out = dir.join(name);
        let src = format!("oci:{}", arg(&layout));
        let e = run_pinned(dir, &["export", &src, "-o", &arg(&out), "--format", "json"]);
        ok(&e, "export");
        let bundle = e.json()["bundle"].clone();
        let digest = bundle["digest"].as_str().unwrap().to_owned();
        // The digest of index.json, whatever the form.
        if i == 0 {
            let bytes = std::fs::read(out.join("index.json")).unwrap();
            assert_eq!(digest, Digest::sha256(&bytes).to_string());
        }
        assert_eq!(*index_digest.get_or_insert(digest.clone()), digest);
        let mut want = vec![format!("bundle {digest}")];
        if out.is_file() {
            let file = Digest::sha256(&std::fs::read(&out).unwrap()).to_string();
            assert_eq!(bundle["fileDigest"], file.as_str(), "{bundle}");
            want.push(format!("file {file}"));
        } else {
            assert!(bundle.get("fileDigest").is_none(), "{bundle}");
        }
        // export, text.
        let again = dir.join(format!("again-{name}"));
        let e = run_pinned(dir, &["export", &src, "-o", &arg(&again)]);
        ok(&e, "export text");
        assert_eq!(identity(&e.stderr), want, "export: {}", e.stderr);
        // verify, text and JSON.
        let v = run_in(dir, &["verify", &arg(&out), "--integrity-only"]);
        ok(&v, "verify");
        assert_eq!(identity(&v.stderr), want, "verify: {}", v.stderr);
        let v = verify_json(&out, &[]);
        ok(&v, "verify json");
        let vb = v.json()["bundle"].clone();
        assert_eq!(vb["digest"], bundle["digest"], "{vb}");
        assert_eq!(vb["fileDigest"], bundle["fileDigest"], "{vb}");
        assert_eq!(v.json()["bundleDigest"], bundle["digest"]);
        // inspect, text and JSON.
        let n = run_in(dir, &["inspect", &arg(&out)]);
        ok(&n, "inspect");
        assert_eq!(identity(&n.stdout), want, "inspect: {}", n.stdout);
        let n = run_in(dir, &["inspect", &arg(&out), "--format", "json"]);
        ok(&n, "inspect json");
        let nb = n.json()["bundle"].clone();
        assert_eq!(nb["digest"], bundle["digest"], "{nb}");
        assert_eq!(nb["fileDigest"], bundle["fileDigest"], "{nb}");
        // import, text and JSON.
        if let Some(reg) = &reg {
            for (k, json) in [false, true].iter().enumerate() {
                let to = format!("{}/site{i}{k}", reg.host());
                let mut args = vec![
                    "import",
                    out.to_str().unwrap(),
                    "--to",
                    &to,
                    "--integrity-only",
                ];
                if *json {
                    args.extend(["--format", "json"]);
                }
                let m = run_pinned(dir, &args);
                ok(&m, "import");
                assert_eq!(identity(&m.stderr), want, "import: {}", m.stderr);
                if *json {
                    let mb = m.json()["bundle"].clone();
                    assert_eq!(mb["digest"], bundle["digest"], "{mb}");
                    assert_eq!(mb["fileDigest"], bundle["fileDigest"], "{mb}");
                    assert!(m.json()["blobsUploaded"].is_u64());
                }
            }
        }
    }
}
