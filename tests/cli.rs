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

/// A report (or receipt, inventory, lockfile: one writer for all) is written by rename, which
/// would replace whatever is at the path with a regular file: a FIFO, a symbolic link or a
/// directory there is refused (exit 2) and left as it was.
#[test]
fn a_report_path_that_is_no_regular_file_is_refused_and_left_alone() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let fifo = t.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let target = t.path().join("elsewhere.json");
    std::fs::write(&target, b"kept").unwrap();
    let link = t.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let dir = t.path().join("a-directory");
    std::fs::create_dir(&dir).unwrap();
    for (path, what) in [
        (&fifo, "a FIFO"),
        (&link, "a symbolic link"),
        (&dir, "a directory"),
    ] {
        let r = run_in(
            t.path(),
            &[
                "verify",
                root.to_str().unwrap(),
                "--integrity-only",
                "--report",
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
        assert!(r.stderr.contains(what), "{what}: {}", r.stderr);
    }
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), b"kept");
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

/// A bundle's string holding a newline cannot start a line of `inspect`'s text: the name below
/// used to print a digest line of the carrier's and a second image (red team I, I-01).
#[test]
fn inspect_text_escapes_newlines_in_bundle_strings() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let index = root.join("index.json");
    let mut j: serde_json::Value = serde_json::from_slice(&fs::read(&index).unwrap()).unwrap();
    let forged = format!(
        "registry.example/airlock/sample:1.0\n  digest     sha256:{}\n\nimage   registry.example/trusted/base:2.0",
        "1".repeat(64)
    );
    for e in j["manifests"].as_array_mut().unwrap() {
        if e["annotations"]["io.containerd.image.name"] == "registry.example/airlock/sample:1.0" {
            e["annotations"]["io.containerd.image.name"] = forged.clone().into();
            e["annotations"]["org.opencontainers.image.ref.name"] = forged.clone().into();
        }
    }
    fs::write(&index, serde_json::to_vec(&j).unwrap()).unwrap();
    let text = run_in(t.path(), &["inspect", root.to_str().unwrap()]);
    assert!(
        !text
            .stdout
            .lines()
            .any(|l| l.contains(&"1".repeat(64)) && l.starts_with("  digest")),
        "{}",
        text.stdout
    );
    assert!(
        !text
            .stdout
            .lines()
            .any(|l| l.starts_with("image   registry.example/trusted")),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("\\u{a}"), "{}", text.stdout);
}

/// A stream nobody reads any more (`airlock ... 2>&1 | grep -m1 FAIL`) or a full device loses
/// the text, never the outcome: the exit status is the verdict, not a panic (101).
#[test]
fn a_closed_or_full_output_keeps_the_exit_status() {
    use std::process::Stdio;
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    let other = t.path().join("other");
    fs::create_dir(&other).unwrap();
    let missing = small_layout(&other);
    let p = parts(&missing);
    fs::remove_file(blob(&missing, &p.layer)).unwrap();
    let gone = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Stdio::from(writer)
    };
    let status = |args: &[&std::ffi::OsStr], out: Stdio, err: Stdio| {
        let code = bin()
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .status()
            .unwrap()
            .code();
        code.unwrap_or(-1)
    };
    for (bundle, expected) in [(&root, 0), (&missing, 1)] {
        let args = [
            "verify".as_ref(),
            bundle.as_os_str(),
            "--integrity-only".as_ref(),
        ];
        assert_eq!(status(&args, Stdio::null(), gone()), expected, "{bundle:?}");
        // The report on a stdout nobody reads (`| head`): the verdict still decides the status
        // (a failed verification used to exit 0 there).
        let json = [&args[..], &["--format".as_ref(), "json".as_ref()]].concat();
        assert_eq!(status(&json, gone(), Stdio::null()), expected, "{bundle:?}");
    }
    let inspect = ["inspect".as_ref(), root.as_os_str()];
    assert_eq!(status(&inspect, Stdio::null(), gone()), 0);
    assert_eq!(status(&inspect, gone(), Stdio::null()), 0);
    let broken = ["inspect".as_ref(), missing.as_os_str()];
    assert_eq!(status(&broken, gone(), Stdio::null()), 1);
    // An inventory is the product on stdout: delivered to nobody is a failure.
    let inventory = ["inventory".as_ref(), root.as_os_str()];
    assert_eq!(status(&inventory, gone(), Stdio::null()), 2);
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    assert_eq!(status(&inspect, Stdio::from(full), Stdio::null()), 2);
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

/// A corpus case's layout and trust material (read in place), or `None` when the corpus is absent.
fn corpus_case(name: &str) -> Option<std::path::PathBuf> {
    let dir = corpus_dir().join(name);
    if !dir.exists() {
        assert!(!strict(), "corpus case {name} missing");
        return None;
    }
    Some(dir)
}

fn trust_args(dir: &std::path::Path) -> Vec<String> {
    vec![
        "--trust-policy".into(),
        dir.join("trustpolicy.json").display().to_string(),
        "--trust-store".into(),
        dir.join("truststore").display().to_string(),
        "--scope".into(),
        "localhost:5000/e2e".into(),
        "--at".into(),
        "2026-06-01T00:00:00Z".into(),
    ]
}

fn verify_with(dir: &std::path::Path, bundle: &str, extra: &[&str]) -> Run {
    let cwd = tempfile::tempdir().unwrap();
    let b = dir.join(bundle).display().to_string();
    let mut args: Vec<String> = vec!["verify".into(), b, "--format".into(), "json".into()];
    args.extend(trust_args(dir));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_in(cwd.path(), &args)
}

#[test]
fn signature_report_names_signer_validations_and_trust_anchor() {
    let Some(dir) = corpus_case("valid-sig.strict.by-tag") else {
        return;
    };
    let r = verify_with(&dir, "layout.tar", &["v1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["mode"], "signatures");
    assert_eq!(j["verifiedAt"], "2026-06-01T00:00:00Z");
    assert_eq!(j["trustAnchor"]["mode"], "local");
    assert!(j["trustAnchor"]["fingerprints"][0]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    let img = &j["images"][0];
    assert_eq!(img["scope"], "localhost:5000/e2e");
    assert_eq!(img["policy"]["level"], "strict");
    assert_eq!(img["verdict"], "pass");
    let sig = &img["signatures"][0];
    assert_eq!(sig["envelopeType"], "jws");
    assert_eq!(sig["signingScheme"], "notary.x509");
    assert_eq!(
        sig["signer"]["subject"],
        "CN=e2e,O=Notary,L=Seattle,ST=WA,C=US"
    );
    assert_eq!(sig["verdict"], "pass");
    for v in [
        "integrity",
        "authenticity",
        "authenticTimestamp",
        "expiry",
        "revocation",
    ] {
        assert_eq!(
            sig["validations"][v]["result"], "pass",
            "{v}: {}",
            sig["validations"][v]
        );
        assert_eq!(sig["validations"][v]["action"], "enforce");
    }
    assert_eq!(sig["chainFingerprints"].as_array().unwrap().len(), 1);
    // The human summary says who signed it.
    let cwd = tempfile::tempdir().unwrap();
    let mut args = vec![
        "verify".to_string(),
        dir.join("layout").display().to_string(),
        "v1".into(),
    ];
    args.extend(trust_args(&dir));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = run_in(cwd.path(), &args);
    assert_eq!(text.code, 0);
    assert!(text.stderr.contains("signed by CN=e2e"), "{}", text.stderr);
}

#[test]
fn logged_failures_are_warnings_and_enforced_ones_fail() {
    let Some(dir) = corpus_case("expired-sig.permissive") else {
        return;
    };
    let r = verify_with(&dir, "layout", &["v1"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let j = r.json();
    assert!(
        codes_of(&j, "warnings").contains(&"signature_expired".to_string()),
        "{}",
        j["warnings"]
    );
    assert_eq!(
        j["images"][0]["signatures"][0]["validations"]["expiry"]["action"],
        "log"
    );
    let Some(dir) = corpus_case("expired-sig.strict") else {
        return;
    };
    let r = verify_with(&dir, "layout", &["v1"]);
    assert_eq!(r.code, 1);
    assert!(r.codes().contains(&"signature_expired".to_string()));
}

#[test]
fn trust_option_errors_are_usage_errors() {
    let Some(dir) = corpus_case("valid-sig.strict.by-tag") else {
        return;
    };
    let r = verify_with(&dir, "layout", &["--at", "yesterday"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--at"), "{}", r.stderr);
    let t = tempfile::tempdir().unwrap();
    let junk = t.path().join("junk.crl");
    fs::write(&junk, b"not a crl").unwrap();
    let r = verify_with(&dir, "layout", &["--crl", junk.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--crl"), "{}", r.stderr);
    let r = verify_with(&dir, "layout", &["--integrity-only"]);
    assert_eq!(r.code, 2, "--integrity-only conflicts with trust options");
    let Some(bad) = corpus_case("valid-sig.policy.override-integrity") else {
        return;
    };
    let r = verify_with(&bad, "layout", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("(policy_invalid)"), "{}", r.stderr);
}

#[test]
fn an_image_without_a_repository_needs_a_scope() {
    let Some(dir) = corpus_case("valid-sig.strict.by-tag") else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    let (layout, policy, store) = (
        dir.join("layout"),
        dir.join("trustpolicy.json"),
        dir.join("truststore"),
    );
    let args = [
        "verify",
        layout.to_str().unwrap(),
        "--trust-policy",
        policy.to_str().unwrap(),
        "--trust-store",
        store.to_str().unwrap(),
        "--format",
        "json",
    ];
    let r = run_in(cwd.path(), &args);
    assert_eq!(r.code, 1);
    assert!(
        r.codes().contains(&"scope_unknown".to_string()),
        "{}",
        r.stdout
    );
}

#[test]
fn notation_config_directory_is_read_as_notation_reads_it() {
    let Some(dir) = corpus_case("valid-sig.strict.by-tag") else {
        return;
    };
    let cfg = tempfile::tempdir().unwrap();
    fs::copy(
        dir.join("trustpolicy.json"),
        cfg.path().join("trustpolicy.oci.json"),
    )
    .unwrap();
    for e in walkdir::WalkDir::new(dir.join("truststore")) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(&dir).unwrap();
        let to = cfg.path().join(rel);
        if e.file_type().is_dir() {
            fs::create_dir_all(&to).unwrap();
        } else {
            fs::copy(e.path(), &to).unwrap();
        }
    }
    let cwd = tempfile::tempdir().unwrap();
    let tarball = dir.join("layout.tar");
    let args = [
        "verify",
        tarball.to_str().unwrap(),
        "--notation-config",
        cfg.path().to_str().unwrap(),
        "--scope",
        "localhost:5000/e2e",
        "--format",
        "json",
    ];
    let r = run_in(cwd.path(), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["images"][0]["verdict"], "pass");
    // trustpolicy.json is read only when nothing is at trustpolicy.oci.json: a dangling link
    // there is an error, never a fall back to an older policy (red team N, N02). The older
    // policy here would pass the image.
    let oci = cfg.path().join("trustpolicy.oci.json");
    fs::rename(&oci, cfg.path().join("trustpolicy.json")).unwrap();
    let r = run_in(cwd.path(), &args);
    assert_eq!(r.code, 0, "the fall back itself: {}", r.stderr);
    std::os::unix::fs::symlink(cfg.path().join("gone.json"), &oci).unwrap();
    let r = run_in(cwd.path(), &args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("trustpolicy.oci.json"), "{}", r.stderr);
}

/// `--at` is read with the RFC 3339 grammar notation uses: an offset past 23:59, a lower-case
/// separator or a missing offset is a usage error (exit 2), never a silently shifted time.
#[test]
fn a_verification_time_outside_rfc_3339_is_a_usage_error() {
    let t = tempfile::tempdir().unwrap();
    let root = small_layout(t.path());
    for bad in [
        "2026-01-01T00:00:00+25:00",
        "2026-01-01t00:00:00Z",
        "2026-01-01T00:00:00",
        "2026-01-01 00:00:00Z",
    ] {
        let r = run_in(
            t.path(),
            &[
                "verify",
                root.to_str().unwrap(),
                "--integrity-only",
                "--at",
                bad,
            ],
        );
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(
            r.stderr.contains("not an RFC 3339 time"),
            "{bad}: {}",
            r.stderr
        );
    }
    let r = run_in(
        t.path(),
        &[
            "verify",
            root.to_str().unwrap(),
            "--integrity-only",
            "--at",
            "2026-01-01T01:30:00.000+01:30",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["verifiedAt"], "2026-01-01T00:00:00Z");
    // A fraction of a second would be dropped: refused (red team J, J3).
    let r = run_in(
        t.path(),
        &[
            "verify",
            root.to_str().unwrap(),
            "--integrity-only",
            "--at",
            "2026-01-01T01:30:00.5+01:30",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("fraction of a second"), "{}", r.stderr);
}

/// A FIFO nobody writes to, left on a carried medium in place of a file the operator names (a
/// receipt, the signature found beside it, its manifest, an inventory, a lockfile, a bundle
/// file), ends the command with an error at once instead of blocking it for ever (red team F, F2);
/// a pipe the shell gives (`<(...)`) is still read as usual.
#[test]
fn a_fifo_in_place_of_a_named_file_never_blocks() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let fifo = d.join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let f = arg(&fifo);
    let layout = small_layout(d);
    let src = format!("oci:{}", arg(&layout));
    fs::write(d.join("r.json"), b"{}").unwrap();
    std::os::unix::fs::symlink(&fifo, d.join("r.json.sig")).unwrap();
    let receipt = arg(&d.join("r.json"));
    let out = arg(&d.join("out.tar"));
    std::os::unix::fs::symlink(&fifo, d.join("bundle.tar")).unwrap();
    let link = arg(&d.join("bundle.tar"));
    let out0 = arg(&pack(&layout, Form::Tar));
    // `receipt verify` reads the receipt after the trust policy and store.
    let case = corpus_dir().join("valid-sig.strict.by-tag");
    if !case.exists() {
        assert!(!strict());
        return;
    }
    let (policy, store) = (
        arg(&case.join("trustpolicy.json")),
        arg(&case.join("truststore")),
    );
    let trust = format!("--trust-policy {policy} --trust-store {store}");
    for line in [
        format!("receipt verify {f} {trust}"),
        format!("receipt verify {receipt} {trust}"),
        format!("receipt verify {receipt} --manifest {f} {trust}"),
        format!("export {src} -o {out} --since {f}"),
        format!("export {src} -o {out} --lock {f} --locked"),
        format!("export --config {f}"),
        // The bundle itself, and through a link (red team I, I-05: each hung in open(2)).
        format!("verify {f} --integrity-only"),
        format!("verify {link} --integrity-only"),
        format!("inspect {f}"),
        format!("inventory {f}"),
        format!("verify {out0} --integrity-only --base {f}"),
        format!("import {f} --integrity-only --to 127.0.0.1:9/mirror --dry-run"),
    ] {
        let args: Vec<&str> = line.split(' ').collect();
        let mut c = bin();
        c.current_dir(d).args(&args);
        let r = run_within_a_minute(c, &line);
        assert!(
            r.code == 1 || r.code == 2,
            "{line}: {} {}",
            r.code,
            r.stderr
        );
        // Refused for what the file holds (nothing), not for a usage mistake.
        assert!(!r.stderr.contains("Usage:"), "{line}: {}", r.stderr);
    }
    // A pipe with a writer is read to its end: the lockfile written, then given through `cat`.
    let lock = d.join("a.lock");
    let r = run_in(d, &["export", &src, "-o", &out, "--lock", &arg(&lock)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    fs::remove_file(d.join("out.tar")).unwrap();
    let mut c = std::process::Command::new("bash");
    c.current_dir(d).args([
        "-c",
        &format!(
            "{} export {src} -o {out} --lock <(cat {}) --locked",
            bin().get_program().to_string_lossy(),
            arg(&lock)
        ),
    ]);
    let r = run_within_a_minute(c, "export --locked <(cat a.lock)");
    assert_eq!(r.code, 0, "{}", r.stderr);
}
