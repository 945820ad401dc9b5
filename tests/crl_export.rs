//! CRLs captured at export time carry revocation status across the air gap: a chain whose
//! certificates name CRL distribution points (served over HTTP by the test) is exported, and the
//! bundle verifies offline under `strict` with the carried CRLs; a revoked signer fails; without
//! the CRLs (`--no-fetch-crls`) the status is unknown, which `strict` refuses.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::common::*;
use crate::pki::*;

const AT_TIME: &str = "2026-06-01T00:00:00Z";

type Routes = Arc<Mutex<HashMap<String, Vec<u8>>>>;

fn serve() -> (String, Routes) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", l.local_addr().unwrap().port());
    let routes: Routes = Arc::new(Mutex::new(HashMap::new()));
    let r2 = routes.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let mut h = String::new();
            while r.read_line(&mut h).unwrap_or(0) > 2 {
                h.clear();
            }
            let mut w = s;
            match r2.lock().unwrap().get(&path) {
                Some(b) => {
                    let _ = write!(
                        w,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        b.len()
                    );
                    let _ = w.write_all(b);
                }
                None => {
                    let _ = write!(
                        w,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    (base, routes)
}

struct Setup {
    t: tempfile::TempDir,
    /// The distribution points' server.
    base: String,
    layout: std::path::PathBuf,
    trust: Trust,
    routes: Routes,
    root: Node,
    inter: Node,
}

/// Signs the image of `layout` with `leaf`'s key and the chain `chain` (`airlock sign`, signing
/// time 2026-05-15), the key files named `name` in `dir`.
fn sign(dir: &Path, layout: &Path, name: &str, leaf: &Node, chain: &[Vec<u8>]) {
    let signer = write_signer(dir, name, &leaf.key_pem(), chain);
    let r = run_pinned(
        dir,
        &[
            "-q",
            "sign",
            layout.to_str().unwrap(),
            "--key",
            signer.key.to_str().unwrap(),
            "--cert",
            signer.chain.to_str().unwrap(),
            "--signing-time",
            "2026-05-15T00:00:00Z",
        ],
    );
    assert_eq!(r.code, 0, "sign: {}", r.stderr);
}

fn setup(slot: u16) -> Setup {
    let (base, routes) = serve();
    let root = root(
        ca_params(&format!("crl root {slot}"), 1, Some(1)),
        key(Alg::P256, slot),
    );
    let inter = issue(
        with_crl_dp(
            ca_params(&format!("crl intermediate {slot}"), 2, Some(0)),
            &format!("{base}/root.crl"),
        ),
        key(Alg::P256, slot + 1),
        &root,
    );
    let leaf = issue(
        with_crl_dp(leaf_params("crl signer", 77), &format!("{base}/inter.crl")),
        key(Alg::P256, slot + 2),
        &inter,
    );
    let t = tempfile::tempdir().unwrap();
    let layout = small_layout(t.path());
    sign(
        t.path(),
        &layout,
        "signer",
        &leaf,
        &[leaf.der.clone(), inter.der.clone(), root.der.clone()],
    );
    let trust = write_trust(t.path(), &[&root.der], "strict", &["*".to_string()]);
    Setup {
        t,
        base,
        layout,
        trust,
        routes,
        root,
        inter,
    }
}

fn publish(s: &Setup, revoked: &[u64]) {
    let (from, to) = (day(2026, 5, 1), day(2026, 7, 1));
    let mut r = s.routes.lock().unwrap();
    r.insert("/root.crl".into(), crl(&s.root, &[], from, to));
    r.insert("/inter.crl".into(), crl(&s.inter, revoked, from, to));
}

fn export(s: &Setup, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "export".to_string(),
        format!("oci:{}", s.layout.display()),
        "-o".into(),
        out.display().to_string(),
        "--trust-policy".into(),
        s.trust.policy.display().to_string(),
        "--trust-store".into(),
        s.trust.store.display().to_string(),
    ];
    args.extend(extra.iter().map(|x| x.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_pinned(s.t.path(), &args)
}

fn pin(r: &Run) -> String {
    r.stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("--pin "))
        .expect("pin printed")
        .to_owned()
}

#[test]
fn carried_crls_let_strict_revocation_pass_offline() {
    let s = setup(60);
    publish(&s, &[]);
    let out = s.t.path().join("bundle.tar.zst");
    let r = export(&s, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("carried 2 CRL(s)"), "{}", r.stderr);
    // The far side: no network, the pin, the carried CRLs.
    s.routes.lock().unwrap().clear();
    let v = verify_trust(&out, &["--pin", &pin(&r), "--at", AT_TIME]);
    assert_eq!(v.code, 0, "{}", v.stdout);
    let sig = &v.json()["images"][0]["signatures"][0];
    assert_eq!(sig["validations"]["revocation"]["result"], "pass", "{sig}");
    assert_eq!(sig["validations"]["revocation"]["action"], "enforce");
    // The record names each CRL.
    let i = run_pinned(
        s.t.path(),
        &["inspect", out.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(
        i.json()["trustArtifact"]["record"]["crls"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// Anyone who can attach a signature to the image chooses its CA, and so its CRLs: with trust
/// material, only the chains that reach the trust store have theirs captured (red team H, H4: a
/// self-made CA's CRLs filled the 8 MiB a bundle carries, and the trusted CA's were left out).
#[test]
fn only_the_crls_of_trusted_chains_are_captured() {
    let s = setup(70);
    publish(&s, &[]);
    let anyone = root(
        ca_params("crl untrusted root", 1, Some(0)),
        key(Alg::P256, 75),
    );
    let leaf = issue(
        with_crl_dp(leaf_params("anyone", 78), &format!("{}/anyone.crl", s.base)),
        key(Alg::P256, 76),
        &anyone,
    );
    let (from, to) = (day(2026, 5, 1), day(2026, 7, 1));
    s.routes
        .lock()
        .unwrap()
        .insert("/anyone.crl".into(), crl(&anyone, &[], from, to));
    sign(
        s.t.path(),
        &s.layout,
        "anyone",
        &leaf,
        &[leaf.der.clone(), anyone.der.clone()],
    );
    let out = s.t.path().join("bundle.tar.zst");
    let r = export(&s, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("carried 2 CRL(s)"), "{}", r.stderr);
    let i = run_pinned(
        s.t.path(),
        &["inspect", out.to_str().unwrap(), "--format", "json"],
    );
    let carried = i.json()["trustArtifact"]["record"]["crls"].clone();
    assert!(!carried.to_string().contains("anyone.crl"), "{carried}");
}

#[test]
fn a_revoked_signer_fails_before_and_after_the_air_gap() {
    let s = setup(70);
    publish(&s, &[77]);
    let out = s.t.path().join("bundle");
    let r = export(&s, &out, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("revoked"), "{}", r.stderr);
    assert!(!out.exists());
    let r = export(&s, &out, &["--allow-failed-signatures"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = verify_trust(&out, &["--pin", &pin(&r), "--at", AT_TIME]);
    assert_eq!(v.code, 1);
    assert!(v.codes().contains(&"revoked".to_string()), "{}", v.stdout);
}

#[test]
fn without_the_crls_strict_revocation_is_unknown() {
    let s = setup(80);
    publish(&s, &[]);
    let out = s.t.path().join("bundle.tar");
    let r = export(&s, &out, &["--no-fetch-crls"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("revocation_unknown"), "{}", r.stderr);
    let r = export(&s, &out, &["--no-fetch-crls", "--allow-failed-signatures"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = verify_trust(&out, &["--pin", &pin(&r), "--at", AT_TIME]);
    assert_eq!(v.code, 1);
    assert!(
        v.codes().contains(&"revocation_unknown".to_string()),
        "{}",
        v.stdout
    );
    let _ = fs::remove_file(&out);
}

#[test]
fn a_bundled_crl_of_another_partition_cannot_clear_what_the_operators_crl_revokes() {
    // Errata 14: the carrier adds a newer CRL of the same issuer scoped to another partition; the
    // operator's --crl (complete, listing the leaf) must still revoke it, pinned or local.
    let s = setup(90);
    let (from, to) = (day(2026, 5, 1), day(2026, 7, 1));
    let partition = scoped_crl(
        &s.inter,
        &[],
        from,
        to,
        9,
        Some("http://elsewhere.example/p2.crl"),
    );
    let root_crl = crl(&s.root, &[], from, to);
    let p_path = s.t.path().join("partition.crl");
    let r_path = s.t.path().join("root.crl");
    fs::write(&p_path, &partition).unwrap();
    fs::write(&r_path, &root_crl).unwrap();
    let out = s.t.path().join("bundle.tar");
    let r = export(
        &s,
        &out,
        &[
            "--no-fetch-crls",
            "--allow-failed-signatures",
            "--crl",
            p_path.to_str().unwrap(),
            "--crl",
            r_path.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The partition CRL alone covers nothing of the leaf's: unknown, never good.
    let v = verify_trust(&out, &["--pin", &pin(&r), "--at", AT_TIME]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(
        v.codes().contains(&"revocation_unknown".to_string()),
        "{}",
        v.stdout
    );
    let leaf = &v.json()["images"][0]["signatures"][0]["revocation"]["certs"][0];
    assert_eq!(leaf["status"], "unknown", "{leaf}");
    assert!(
        leaf["reason"].as_str().unwrap().contains("/inter.crl"),
        "{leaf}"
    );
    // The operator's complete CRL (number 1) lists the leaf: revoked, whatever the other number.
    let revoking = s.t.path().join("operator.crl");
    fs::write(&revoking, crl(&s.inter, &[77], from, to)).unwrap();
    let v = verify_trust(
        &out,
        &[
            "--pin",
            &pin(&r),
            "--at",
            AT_TIME,
            "--crl",
            revoking.to_str().unwrap(),
        ],
    );
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.codes().contains(&"revoked".to_string()), "{}", v.stdout);
    let leaf = &v.json()["images"][0]["signatures"][0]["revocation"]["certs"][0];
    assert_eq!(leaf["status"], "revoked", "{leaf}");
    assert_eq!(leaf["crls"][0]["number"], "1", "{leaf}");
    // The same under local trust, with the bundle's CRLs as unauthenticated extras.
    let v = verify_trust(
        &out,
        &[
            "--trust-policy",
            s.trust.policy.to_str().unwrap(),
            "--trust-store",
            s.trust.store.to_str().unwrap(),
            "--at",
            AT_TIME,
            "--crl",
            revoking.to_str().unwrap(),
        ],
    );
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.codes().contains(&"revoked".to_string()), "{}", v.stdout);
    // And a complete operator CRL that does not list the leaf makes it good: the report names it.
    let clean = s.t.path().join("clean.crl");
    fs::write(&clean, crl(&s.inter, &[], from, to)).unwrap();
    let v = verify_trust(
        &out,
        &[
            "--pin",
            &pin(&r),
            "--at",
            AT_TIME,
            "--crl",
            clean.to_str().unwrap(),
        ],
    );
    assert_eq!(v.code, 0, "{}", v.stdout);
    let leaf = &v.json()["images"][0]["signatures"][0]["revocation"]["certs"][0];
    assert_eq!(leaf["status"], "good", "{leaf}");
    assert!(
        leaf["crls"][0]["scope"]
            .as_str()
            .unwrap()
            .ends_with("/inter.crl"),
        "{leaf}"
    );
}

#[test]
fn a_capture_uri_binds_a_crl_only_when_the_pin_authenticates_it() {
    // Erratum 14: a CRL whose IssuingDistributionPoint names no distribution point covers a URI
    // only when it was captured from it and the record of that capture is authenticated. The
    // capture URI is an annotation of the trust artifact: pinned, it binds; under local trust or
    // --trust-bundled it is the carrier's word, and the leaf's status stays unknown.
    use crate::testkit::crl::{idp, CrlSpec};
    use der::Decode;
    let s = setup(100);
    let (from, to) = (day(2026, 5, 1), day(2026, 7, 1));
    let inter_name = x509_cert::Certificate::from_der(&s.inter.der)
        .unwrap()
        .tbs_certificate
        .subject;
    // Days from 2026-01-01: current at AT_TIME (2026-06-01, day 151).
    let unnamed = CrlSpec::new(inter_name, s.inter.key.serialize_der())
        .window(120, Some(180))
        .idp(idp(&[]))
        .der();
    {
        let mut r = s.routes.lock().unwrap();
        r.insert("/root.crl".into(), crl(&s.root, &[], from, to));
        r.insert("/inter.crl".into(), unnamed);
    }
    let out = s.t.path().join("bundle");
    let r = export(&s, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    s.routes.lock().unwrap().clear();
    let v = verify_trust(&out, &["--pin", &pin(&r), "--at", AT_TIME]);
    assert_eq!(v.code, 0, "pinned: {}", v.stdout);
    let leaf = &v.json()["images"][0]["signatures"][0]["revocation"]["certs"][0];
    assert_eq!(leaf["status"], "good", "{leaf}");
    for anchor in [
        vec![
            "--trust-policy",
            s.trust.policy.to_str().unwrap(),
            "--trust-store",
            s.trust.store.to_str().unwrap(),
        ],
        vec!["--trust-bundled"],
    ] {
        let mut args = anchor.clone();
        args.extend(["--at", AT_TIME]);
        let v = verify_trust(&out, &args);
        assert_eq!(v.code, 1, "{anchor:?}: {}", v.stdout);
        assert!(
            v.codes().contains(&"revocation_unknown".to_string()),
            "{anchor:?}: {}",
            v.stdout
        );
        let leaf = &v.json()["images"][0]["signatures"][0]["revocation"]["certs"][0];
        assert_eq!(leaf["status"], "unknown", "{anchor:?}: {leaf}");
    }
}

/// The intermediate's CRL with `n` entries (serials from 1000 up) besides `revoked`: about 36
/// bytes an entry.
fn publish_large(s: &Setup, n: u64, revoked: &[u64]) -> Vec<u8> {
    let (from, to) = (day(2026, 5, 1), day(2026, 7, 1));
    let mut serials: Vec<u64> = (1000..1000 + n).collect();
    serials.extend_from_slice(revoked);
    let big = crl(&s.inter, &serials, from, to);
    let mut r = s.routes.lock().unwrap();
    r.insert("/root.crl".into(), crl(&s.root, &[], from, to));
    r.insert("/inter.crl".into(), big.clone());
    big
}

#[test]
fn a_crl_of_hundreds_of_kilobytes_is_carried_and_read_back_under_the_pin() {
    // Real CAs publish CRLs of this size; verify used to keep only 64 KiB of a binary part.
    let s = setup(90);
    let big = publish_large(&s, 12_000, &[]);
    assert!(big.len() > 256 << 10, "{}", big.len());
    for out in ["bundle.tar.zst", "bundle"] {
        let out = s.t.path().join(out);
        let r = export(&s, &out, &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stderr.contains("carried 2 CRL(s)"), "{}", r.stderr);
        let v = verify_trust(&out, &["--pin", &pin(&r), "--at", AT_TIME]);
        assert_eq!(v.code, 0, "{}", v.stdout);
        let sig = &v.json()["images"][0]["signatures"][0];
        assert_eq!(sig["validations"]["revocation"]["result"], "pass", "{sig}");
    }
    // The same size listing the leaf: the carried CRL is what decides.
    publish_large(&s, 12_000, &[77]);
    let out = s.t.path().join("revoked.tar");
    let r = export(&s, &out, &["--allow-failed-signatures"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = verify_trust(&out, &["--pin", &pin(&r), "--at", AT_TIME]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    assert!(v.codes().contains(&"revoked".to_string()), "{}", v.stdout);
}

#[test]
fn a_crl_larger_than_a_bundle_carries_is_refused_when_given_and_left_behind_when_fetched() {
    let s = setup(100);
    let big = publish_large(&s, 130_000, &[]);
    assert!(big.len() > 4 << 20, "{}", big.len());
    let file = s.t.path().join("big.crl");
    fs::write(&file, &big).unwrap();
    let out = s.t.path().join("bundle.tar");
    let file_arg = file.display().to_string();
    let r = export(&s, &out, &["--no-fetch-crls", "--crl", &file_arg]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("verify --crl"), "{}", r.stderr);
    assert!(!out.exists());
    // Fetched: left behind with a warning naming where it came from; the signer's status is
    // then unknown, which the export's own check refuses unless told to carry on.
    let r = export(&s, &out, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("/inter.crl"), "{}", r.stderr);
    assert!(r.stderr.contains("is not carried"), "{}", r.stderr);
    let r = export(&s, &out, &["--allow-failed-signatures"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("carried 1 CRL(s)"), "{}", r.stderr);
    // The far side gives verify the large CRL itself: revocation passes.
    let v = verify_trust(
        &out,
        &["--pin", &pin(&r), "--at", AT_TIME, "--crl", &file_arg],
    );
    assert_eq!(v.code, 0, "{}", v.stdout);
}
