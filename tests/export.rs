//! `airlock export` from local layouts and layout tarballs: byte-exact manifests, platforms,
//! signatures, the trust artifact, determinism, resume, and the round trip to `verify --pin`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;

const SCOPE: &str = "localhost:5000/e2e";
const CASE: &str = "valid-sig.strict.by-tag";

fn corpus_case() -> Option<PathBuf> {
    let dir = corpus_dir().join(CASE);
    if !dir.exists() {
        assert!(!strict(), "corpus case {CASE} missing");
        return None;
    }
    Some(dir)
}

/// Exports the signed corpus layout with its trust material; returns the run.
fn export_signed(case: &Path, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "export".to_string(),
        format!("oci:{}:v1", arg(&case.join("layout"))),
        "-o".into(),
        arg(out),
        "--trust-policy".into(),
        arg(&case.join("trustpolicy.json")),
        "--trust-store".into(),
        arg(&case.join("truststore")),
        "--scope".into(),
        SCOPE.into(),
    ];
    args.extend(extra.iter().map(|x| x.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_pinned(out.parent().unwrap(), &args)
}

fn pin_of(r: &Run) -> String {
    r.stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("--pin "))
        .unwrap_or_else(|| panic!("no --pin line in:\n{}", r.stderr))
        .to_owned()
}

#[test]
fn signed_layout_round_trips_to_verify_with_a_pin_in_every_form() {
    let Some(case) = corpus_case() else { return };
    let t = tempfile::tempdir().unwrap();
    for name in ["bundle", "bundle.tar", "bundle.tar.gz", "bundle.tar.zst"] {
        let out = t.path().join(name);
        let r = export_signed(&case, &out, &[]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let pin = pin_of(&r);
        let v = verify_trust(&out, &["--pin", &pin, "--scope", SCOPE]);
        assert_eq!(v.code, 0, "{name}: {}", v.stdout);
        let j = v.json();
        assert_eq!(j["trustAnchor"]["mode"], "pinned");
        assert_eq!(j["trustAnchor"]["pin"], pin.as_str());
        assert_eq!(j["trustAnchor"]["artifact"], pin.as_str());
        // Each signature names the root that anchored it, one the artifact carries.
        let anchor = j["images"][0]["signatures"][0]["anchor"].as_str().unwrap();
        assert!(
            j["trustAnchor"]["fingerprints"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == anchor),
            "{j}"
        );
        assert_eq!(j["images"][0]["verdict"], "pass");
        // The image manifest is carried byte for byte.
        assert_eq!(
            j["images"][0]["digest"],
            "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
        );
        // The trust artifact is not an image.
        assert_eq!(j["images"].as_array().unwrap().len(), 1);
        // A wrong pin refuses the bundled trust material.
        let wrong = format!("sha256:{}", "0".repeat(64));
        let v = verify_trust(&out, &["--pin", &wrong, "--scope", SCOPE]);
        assert_eq!(v.code, 1);
        assert!(v.codes().contains(&"pin_mismatch".to_string()));
        // Without a pin, --trust-bundled works and says so.
        let v = verify_trust(&out, &["--trust-bundled", "--scope", SCOPE]);
        assert_eq!(v.code, 0);
        assert_eq!(v.json()["trustAnchor"]["mode"], "bundled-unpinned");
    }
}

#[test]
fn a_root_fingerprint_is_not_a_pin() {
    let Some(case) = corpus_case() else { return };
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("b.tar");
    let r = export_signed(&case, &out, &["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(summary["pin"], pin_of(&r).as_str());
    // The root the exporter carried, by its fingerprint: a usage error that says where roots go.
    let root = summary["fingerprints"][0].as_str().unwrap().to_owned();
    let v = verify_trust(&out, &["--pin", &root, "--scope", SCOPE]);
    assert_eq!(v.code, 2, "{}\n{}", v.stdout, v.stderr);
    assert!(v.stdout.is_empty(), "{}", v.stdout);
    assert!(v.stderr.contains("--trust-store"), "{}", v.stderr);
    assert!(v.stderr.contains("digest"), "{}", v.stderr);
    // openssl's AB:CD:... form is a certificate fingerprint's, refused at parse time.
    let hex = root.trim_start_matches("sha256:").to_uppercase();
    let colons: Vec<String> = hex
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let v = verify_trust(&out, &["--pin", &colons.join(":"), "--scope", SCOPE]);
    assert_eq!(v.code, 2, "{}", v.stderr);
    assert!(v.stderr.contains("trust store"), "{}", v.stderr);
    // A bundle exported without trust material carries no artifact; a root of the envelope's chain
    // given as --pin is still recognised as a certificate.
    let bare = t.path().join("bare.tar");
    let r2 = run_pinned(
        t.path(),
        &[
            "export",
            &format!("oci:{}:v1", arg(&case.join("layout"))),
            "-o",
            &arg(&bare),
        ],
    );
    assert_eq!(r2.code, 0, "{}", r2.stderr);
    assert!(!r2.stderr.contains("--pin"), "{}", r2.stderr);
    let v = verify_trust(&bare, &["--pin", &root, "--scope", SCOPE]);
    assert_eq!(v.code, 2, "{}\n{}", v.stdout, v.stderr);
    assert!(v.stderr.contains("--trust-store"), "{}", v.stderr);
    // The pin and local trust options are one anchor or the other, never both.
    let v = verify_trust(
        &out,
        &["--pin", &pin_of(&r), "--trust-bundled", "--scope", SCOPE],
    );
    assert_eq!(v.code, 2, "{}", v.stderr);
}

#[test]
fn exports_are_deterministic() {
    let Some(case) = corpus_case() else { return };
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("a.tar.zst");
    let b = t.path().join("b.tar.zst");
    assert_eq!(export_signed(&case, &a, &[]).code, 0);
    assert_eq!(export_signed(&case, &b, &[]).code, 0);
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    let j = {
        let mut cmd = bin();
        cmd.current_dir(t.path())
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .args([
                "-q",
                "export",
                &format!("oci:{}:v1", arg(&case.join("layout"))),
                "-o",
                &arg(&t.path().join("c.tar")),
                "--format",
                "json",
            ]);
        let o = cmd.output().unwrap();
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let sha = format!(
        "sha256:{}",
        airlock::digest::Digest::sha256(&fs::read(t.path().join("c.tar")).unwrap()).hex()
    );
    assert_eq!(
        j["outputDigest"],
        sha.as_str(),
        "the summary names the output file's sha256"
    );
}

#[test]
fn a_tampered_export_fails_verification() {
    let Some(case) = corpus_case() else { return };
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("bundle");
    let r = export_signed(&case, &out, &[]);
    let pin = pin_of(&r);
    // Flip a byte of the signature envelope.
    let index = read_json(&out.join("index.json"));
    let sig = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["artifactType"] == "application/vnd.cncf.notary.signature")
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let m = read_json(&blob(&out, &sig));
    let env = blob(&out, m["layers"][0]["digest"].as_str().unwrap());
    let mut bytes = fs::read(&env).unwrap();
    bytes[100] ^= 1;
    fs::write(&env, bytes).unwrap();
    let v = verify_trust(&out, &["--pin", &pin, "--scope", SCOPE]);
    assert_eq!(v.code, 1);
    let codes = v.codes();
    assert!(codes.contains(&"digest_mismatch".to_string()), "{codes:?}");
    assert!(
        codes.contains(&"signature_integrity".to_string()),
        "{codes:?}"
    );
}

#[test]
fn platforms_can_be_chosen_and_the_rest_is_recorded_as_excluded() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let out = t.path().join("amd64.tar");
    let r = run_in(
        t.path(),
        &[
            "export",
            &format!("oci:{}:1.0", arg(&root)),
            "-o",
            &arg(&out),
            "--platform",
            "linux/amd64",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(
        j["images"][0]["platforms"],
        serde_json::json!(["linux/amd64"])
    );
    assert_eq!(j["images"][0]["excluded"].as_array().unwrap().len(), 1);
    let v = verify_json(&out, &[]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    assert!(codes_of(&v.json(), "warnings").contains(&"excluded_by_export".to_string()));
    // verify's report lists what the bundle holds, and apart what it left out (red team J, J2).
    assert_eq!(
        v.json()["images"][0]["platforms"],
        serde_json::json!(["linux/amd64"])
    );
    assert_eq!(
        v.json()["images"][0]["platformsLeftOut"],
        serde_json::json!(["linux/arm64"])
    );
    // The index itself is byte-identical: same digest as in the source layout.
    let src_index = read_json(&root.join("index.json"));
    assert_eq!(
        v.json()["images"][0]["digest"],
        src_index["manifests"][0]["digest"]
    );
}

#[test]
fn layout_tarballs_are_sources_too() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let archive = pack(&root, Form::TarZst);
    let out = t.path().join("out");
    let r = run_in(
        t.path(),
        &[
            "-q",
            "export",
            &format!("oci-archive:{}", arg(&archive)),
            "-o",
            &arg(&out),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = verify_json(&out, &[]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    // No scratch space is left behind.
    let leftovers: Vec<_> = fs::read_dir(t.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("airlock"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// An `oci-archive:` source whose `index.json` is over the manifest limit is refused by its size,
/// as verify's scan refuses it; it is not cut at the limit and parsed (trailing whitespace made
/// the cut prefix valid JSON, so the export used to succeed).
#[test]
fn archive_source_with_oversized_index_json_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let index = root.join("index.json");
    let mut bytes = fs::read(&index).unwrap();
    bytes.resize(bytes.len() + (4 << 20) + 1, b' ');
    let size = bytes.len();
    fs::write(&index, &bytes).unwrap();
    let archive = pack(&root, Form::Tar);
    let v = verify_json(&archive, &[]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.codes().contains(&"index_malformed".to_string()),
        "{}",
        v.stdout
    );
    let out = t.path().join("out");
    let r = run_in(
        t.path(),
        &[
            "-q",
            "export",
            &format!("oci-archive:{}", arg(&archive)),
            "-o",
            &arg(&out),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "index.json is {size} bytes, over the manifest limit"
        )),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
}

#[test]
fn unsigned_images_fail_with_require_signature_and_nothing_is_written() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let out = t.path().join("out.tar");
    let r = run_in(
        t.path(),
        &[
            "export",
            &format!("oci:{}", arg(&root)),
            "-o",
            &arg(&out),
            "--require-signature",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no notation signature"), "{}", r.stderr);
    assert!(!out.exists());
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

#[test]
fn a_failing_signature_stops_the_export_unless_allowed() {
    let Some(case) = corpus_case() else { return };
    let bad = corpus_dir().join("valid-sig.strict.untrusted-signer");
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out.tar");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "export".to_string(),
            format!("oci:{}:v1", arg(&case.join("layout"))),
            "-o".into(),
            arg(&out),
            "--trust-policy".into(),
            arg(&bad.join("trustpolicy.json")),
            "--trust-store".into(),
            arg(&bad.join("truststore")),
            "--scope".into(),
            SCOPE.into(),
        ];
        args.extend(extra.iter().map(|x| x.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run_in(t.path(), &args)
    };
    let r = run(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("untrusted_signer"), "{}", r.stderr);
    assert!(!out.exists());
    let r = run(&["--allow-failed-signatures"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(out.exists());
}

#[test]
fn sources_come_from_a_list_file() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let list = t.path().join("images.txt");
    fs::write(
        &list,
        format!(
            "# the sample\noci:{}:1.0  # trailing comment\n\n",
            arg(&root)
        ),
    )
    .unwrap();
    let out = t.path().join("out.tar");
    let r = run_in(
        t.path(),
        &[
            "-q",
            "export",
            "-f",
            &arg(&list),
            "-o",
            &arg(&out),
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["images"].as_array().unwrap().len(), 1);
    assert_eq!(run_in(t.path(), &["export", "-o", &arg(&out)]).code, 2);
}

#[test]
fn a_tar_can_go_to_stdout() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    // Both runs record the same export time (every bundle carries an export record).
    let o = bin()
        .current_dir(t.path())
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .args(["-q", "export", &format!("oci:{}", arg(&root)), "-o", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = run_stdin(
        t.path(),
        &["verify", "-", "--integrity-only", "--format", "json"],
        &o.stdout,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    // The same bytes as a file export.
    let f = t.path().join("same.tar");
    assert_eq!(
        run_pinned(
            t.path(),
            &[
                "-q",
                "export",
                &format!("oci:{}", arg(&root)),
                "-o",
                &arg(&f)
            ]
        )
        .code,
        0
    );
    assert_eq!(fs::read(&f).unwrap(), o.stdout);
}

/// An export whose index.json (or export record) would exceed what `verify` reads (here one
/// source listed 14,000 times) is refused before anything is written: export never writes a
/// bundle its own verify refuses.
#[test]
fn an_index_too_large_to_verify_is_refused_before_writing() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let line = format!("oci:{}:registry.example/airlock/sample:1.0\n", arg(&root));
    let list = t.path().join("list.txt");
    fs::write(&list, line.repeat(14_000)).unwrap();
    let out = t.path().join("out.tar");
    // Each name's record lists the image's referrer too (red team Q, Q01), so the record passes
    // what verify reads before index.json does; without referrers, index.json is the first.
    for (extra, refused) in [
        (None, "the export record would be"),
        (Some("--no-referrers"), "index.json would be"),
    ] {
        let mut args = vec![
            "export",
            "-f",
            list.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let r = run_in(t.path(), &args);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains(refused), "{}", r.stderr);
    }
    assert!(!out.exists());
    let leftovers: Vec<_> = fs::read_dir(t.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("out.tar"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A source list with a line no source can be (300 KB) is refused by the line's number, without
/// echoing it; one larger than a list is read at all is refused before it is read whole.
#[test]
fn a_source_list_with_an_absurd_line_or_size_is_refused_without_echoing_it() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out.tar");
    let list = t.path().join("list.txt");
    fs::write(&list, format!("# images\n\n{}\n", "x".repeat(300_000))).unwrap();
    let r = run_in(t.path(), &["export", "-f", &arg(&list), "-o", &arg(&out)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("line 3: 300000 bytes"), "{}", r.stderr);
    assert!(r.stderr.len() < 2048, "{} bytes of stderr", r.stderr.len());
    fs::write(&list, "#".repeat(17 << 20)).unwrap();
    let r = run_in(t.path(), &["export", "-f", &arg(&list), "-o", &arg(&out)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is larger than"), "{}", r.stderr);
    assert!(r.stderr.len() < 2048, "{} bytes of stderr", r.stderr.len());
    assert!(!out.exists());
}

/// A source whose image has more referrer documents than one export holds in memory (here 17 of
/// almost 4 MiB each, 68 MiB against the 64 MiB kept at most) is refused with a reason, exit 2,
/// instead of growing the export's memory with every document.
#[test]
fn documents_past_what_an_export_holds_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let mut index = read_json(&root.join("index.json"));
    let image = index["manifests"][0].clone();
    let subject = serde_json::json!({
        "mediaType": image["mediaType"], "digest": image["digest"], "size": image["size"]});
    let empty = airlock::digest::Digest::sha256(b"{}").to_string();
    fs::write(blob(&root, &empty), b"{}").unwrap();
    for i in 0..17 {
        let doc = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/x-airlock-test",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
            "layers": [],
            "subject": subject,
            "annotations": {"n": i.to_string(), "pad": "a".repeat((4 << 20) - 1024)},
        });
        let bytes = serde_json::to_vec(&doc).unwrap();
        let d = airlock::digest::Digest::sha256(&bytes).to_string();
        fs::write(blob(&root, &d), &bytes).unwrap();
        index["manifests"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/x-airlock-test",
            "digest": d, "size": bytes.len()}));
    }
    write_json(&root.join("index.json"), &index);
    let out = t.path().join("out");
    let src = format!("oci:{}:registry.example/airlock/sample:1.0", arg(&root));
    let r = run_in(t.path(), &["export", &src, "-o", &arg(&out)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("add up to more than"), "{}", r.stderr);
    assert!(!out.exists());
}
