//! `airlock sign`: sign generated layouts with rcgen chains (ECDSA and RSA, with intermediates,
//! JWS and COSE), then `airlock verify` them at the pinned time [`AT`], as directories and as
//! `.tar.zst`; a negative matrix where each case must fail with its own report code; how the
//! signature is stored (index.json, referrers tag index) and found (child manifests, tag index
//! only); refusals that must write nothing; skopeo.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use airlock::notary::envelope::{self, EncodeRequest, EnvelopeFormat};
use airlock::notary::sign::{payload, read_private_key_pem, sign_envelope, SignRequest};
use airlock::sign::{attach, resolve, Signature};
use serde_json::Value;

use crate::common::*;
use crate::pki::*;

const REF: &str = "registry.example/airlock/sample:1.0";

fn unix(t: &str) -> i64 {
    t.parse::<jiff::Timestamp>().unwrap().as_second()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `airlock sign TARGET --key --cert --signing-time SIGNED EXTRA...`
fn sign(cwd: &Path, target: &str, signer: &SignerFiles, extra: &[&str]) -> Run {
    let mut args = vec![
        "sign",
        target,
        "--key",
        s(&signer.key),
        "--cert",
        s(&signer.chain),
    ];
    if !extra.contains(&"--signing-time") {
        args.extend(["--signing-time", SIGNED]);
    }
    args.extend_from_slice(extra);
    run_in(cwd, &args)
}

fn sign_ok(cwd: &Path, target: &str, signer: &SignerFiles, extra: &[&str]) -> String {
    let r = sign(cwd, target, signer, extra);
    assert_eq!(r.code, 0, "sign {target}: {}", r.stderr);
    let digest = r.stdout.trim().to_owned();
    assert!(digest.starts_with("sha256:"), "stdout: {}", r.stdout);
    digest
}

/// `airlock verify BUNDLE --trust-policy --trust-store --at AT --format json EXTRA...`
fn verify(bundle: &Path, trust: &Trust, extra: &[&str]) -> Run {
    let cwd = tempfile::tempdir().unwrap();
    let mut args = vec![
        "verify",
        s(bundle),
        "--trust-policy",
        s(&trust.policy),
        "--trust-store",
        s(&trust.store),
        "--format",
        "json",
        "--no-progress",
    ];
    if !extra.contains(&"--at") {
        args.extend(["--at", AT]);
    }
    args.extend_from_slice(extra);
    run_in(cwd.path(), &args)
}

fn assert_pass(r: &Run) -> Value {
    assert_eq!(r.code, 0, "expected a pass:\n{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["verdict"], "pass");
    assert_eq!(j["mode"], "signatures");
    j
}

/// The run fails (exit 1) and its only failure has `code`; returns that failure's message.
fn assert_fails(r: &Run, code: &str) -> String {
    assert_eq!(r.code, 1, "expected {code}:\n{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(r.codes(), [code], "{}", r.stdout);
    j["failures"][0]["message"].as_str().unwrap().to_owned()
}

/// Every file of a directory with its bytes, to prove a refusal wrote nothing.
fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    files_of(root)
        .into_iter()
        .map(|n| {
            let b = fs::read(root.join(&n)).unwrap();
            (n, b)
        })
        .collect()
}

/// A fresh sample layout in `t` plus signer files for `chain`.
struct Setup {
    _t: tempfile::TempDir,
    dir: PathBuf,
    layout: PathBuf,
}

fn setup() -> Setup {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().to_path_buf();
    let layout = small_layout(&dir);
    Setup { _t: t, dir, layout }
}

fn signer(dir: &Path, name: &str, c: &Chain) -> SignerFiles {
    write_signer(dir, name, &c.key_pem, &c.certs)
}

fn trust_for(dir: &Path, c: &Chain) -> Trust {
    write_trust(dir, &[c.root()], "strict", &[identity(&c.leaf_cn)])
}

/// Signs the layout's image through the library, skipping the fail-closed check, and stores it:
/// how the matrix gets signatures `airlock sign` refuses to make.
fn attach_unchecked(layout: &Path, c: &Chain, format: EnvelopeFormat, payload_of: Option<&str>) {
    let key = read_private_key_pem(c.key_pem.as_bytes()).unwrap();
    let target = resolve(layout, None).unwrap();
    let signed_for = match payload_of {
        Some(r) => resolve(layout, Some(r)).unwrap().descriptor,
        None => target.descriptor.clone(),
    };
    let p = payload(&signed_for, &[]).unwrap();
    let env = sign_envelope(&SignRequest {
        format,
        payload: &p,
        chain: &c.certs,
        key: &key,
        signing_time: unix(SIGNED),
        expiry: None,
        signing_agent: "airlock-tests",
    })
    .unwrap();
    attach_bytes(layout, &env, format, &c.certs);
}

fn attach_bytes(layout: &Path, env: &[u8], format: EnvelopeFormat, chain: &[Vec<u8>]) {
    let target = resolve(layout, None).unwrap();
    attach(
        layout,
        &target.descriptor,
        &Signature {
            envelope: env,
            format,
            chain,
            signing_time: unix(SIGNED),
        },
    )
    .unwrap();
}

fn index_entries(layout: &Path) -> Vec<Value> {
    read_json(&layout.join("index.json"))["manifests"]
        .as_array()
        .unwrap()
        .clone()
}

fn tar_zst(layout: &Path) -> PathBuf {
    let out = layout.with_extension("tar.zst");
    airlock::layout::write_layout_tar(layout, &out, airlock::archive::Compression::Zstd).unwrap();
    out
}

// --- The happy path ------------------------------------------------------------------------

#[test]
fn ecdsa_and_rsa_chains_with_intermediates_sign_and_verify_as_dir_and_tar_zst() {
    let cases: [(Alg, &[Alg], Alg, &str); 5] = [
        (Alg::P256, &[Alg::P384], Alg::P384, "ES256"),
        (Alg::P384, &[Alg::P256], Alg::P256, "ES384"),
        (Alg::Rsa2048, &[Alg::P256], Alg::Rsa3072, "PS256"),
        (Alg::Rsa3072, &[Alg::Rsa2048], Alg::Rsa2048, "PS384"),
        (Alg::P256, &[Alg::P256, Alg::Rsa2048], Alg::P384, "ES256"),
    ];
    for (i, (leaf, inters, root_alg, alg)) in cases.into_iter().enumerate() {
        let c = chain(leaf, inters, root_alg, 10 + 10 * i as u16);
        assert_eq!(c.certs.len(), inters.len() + 2);
        for envelope in ["jws", "cose"] {
            let x = setup();
            let files = signer(&x.dir, "s", &c);
            let trust = trust_for(&x.dir, &c);
            let manifest = sign_ok(&x.dir, s(&x.layout), &files, &["--envelope", envelope]);
            for bundle in [x.layout.clone(), tar_zst(&x.layout)] {
                let j = assert_pass(&verify(&bundle, &trust, &[]));
                let sigs = j["images"][0]["signatures"].as_array().unwrap();
                assert_eq!(sigs.len(), 1, "{i}");
                let sig = &sigs[0];
                assert_eq!(sig["manifestDigest"], manifest.as_str());
                assert_eq!(sig["envelopeType"], envelope);
                assert_eq!(sig["verdict"], "pass");
                assert_eq!(sig["signingTime"], SIGNED);
                assert_eq!(
                    sig["chainFingerprints"].as_array().unwrap().len(),
                    c.certs.len()
                );
                assert!(sig["signer"]["subject"]
                    .as_str()
                    .unwrap()
                    .contains(&c.leaf_cn));
            }
            // The envelope says what the key requires.
            let m = read_json(&blob(&x.layout, &manifest));
            let env =
                fs::read(blob(&x.layout, m["layers"][0]["digest"].as_str().unwrap())).unwrap();
            let parsed = airlock::notary::envelope::Envelope::parse(
                m["layers"][0]["mediaType"].as_str().unwrap(),
                &env,
            )
            .unwrap();
            assert_eq!(parsed.algorithm().jws_name(), alg, "case {i} {envelope}");
            assert_eq!(
                parsed.signing_agent(),
                Some(concat!("airlock/", env!("CARGO_PKG_VERSION")))
            );
        }
    }
}

/// A layout `notation sign` signed (the corpus `e2e-valid-signature`, a Notation/1.0.0 JWS listed
/// untagged and in a referrers tag index) signed again by airlock: notation's entry is kept and
/// both signatures verify.
#[test]
fn signing_a_notation_signed_layout_keeps_its_signature() {
    let case = corpus_dir().join("valid-sig.strict.by-tag");
    if !case.is_dir() {
        assert!(!strict(), "the corpus is required in CI");
        eprintln!("skipping: no corpus at {}", case.display());
        return;
    }
    let x = tempfile::tempdir().unwrap();
    let layout = x.path().join("layout");
    for f in files_of(&case.join("layout")) {
        let to = layout.join(&f);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(case.join("layout").join(&f), to).unwrap();
    }
    let theirs: Vec<Value> = index_entries(&layout);
    let their_sig = theirs[1]["digest"].as_str().unwrap().to_owned();
    let c = chain(Alg::P384, &[Alg::P256], Alg::P256, 350);
    let ours = sign_ok(
        x.path(),
        &format!("{}:v1", layout.display()),
        &signer(x.path(), "s", &c),
        &["--envelope", "cose"],
    );
    let tag_entry = index_entries(&layout)
        .into_iter()
        .find(|e| {
            e["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .is_some_and(|n| n.starts_with("sha256-"))
        })
        .unwrap();
    let idx = read_json(&blob(&layout, tag_entry["digest"].as_str().unwrap()));
    let listed: Vec<&str> = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [their_sig.as_str(), ours.as_str()]);

    let trust = write_trust(x.path(), &[c.root()], "strict", &["*".to_string()]);
    let e2e = trust.store.join("x509/ca/e2e");
    fs::create_dir_all(&e2e).unwrap();
    fs::copy(
        case.join("truststore/x509/ca/e2e/e2e.crt"),
        e2e.join("e2e.crt"),
    )
    .unwrap();
    let mut policy = read_json(&trust.policy);
    policy["trustPolicies"][0]["registryScopes"] = serde_json::json!(["*"]);
    policy["trustPolicies"][0]["trustStores"] = serde_json::json!(["ca:tests", "ca:e2e"]);
    write_json(&trust.policy, &policy);
    let j = assert_pass(&verify(&layout, &trust, &["--scope", "localhost:5000/e2e"]));
    let sigs = j["images"][0]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2);
    assert!(sigs.iter().all(|s| s["verdict"] == "pass"), "{sigs:?}");
    assert_eq!(j["warnings"], serde_json::json!([]));
}

#[test]
fn the_signature_is_stored_as_notation_stores_it() {
    let x = setup();
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 90);
    let files = signer(&x.dir, "s", &c);
    let before = index_entries(&x.layout);
    let manifest = sign_ok(&x.dir, s(&x.layout), &files, &[]);
    let top = before[0].clone();
    let top_digest = top["digest"].as_str().unwrap();

    // The signature manifest (image-spec 1.1 form).
    let bytes = fs::read(blob(&x.layout, &manifest)).unwrap();
    assert_eq!(
        airlock::digest::Digest::sha256(&bytes).to_string(),
        manifest
    );
    let m: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(m["schemaVersion"], 2);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["artifactType"], "application/vnd.cncf.notary.signature");
    assert_eq!(
        m["config"],
        serde_json::json!({"mediaType": "application/vnd.oci.empty.v1+json",
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "size": 2, "data": "e30="})
    );
    assert_eq!(
        fs::read(blob(&x.layout, m["config"]["digest"].as_str().unwrap())).unwrap(),
        b"{}"
    );
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], "application/jose+json"); // the default envelope
    assert_eq!(
        m["subject"],
        serde_json::json!({"mediaType": top["mediaType"], "digest": top["digest"], "size": top["size"]})
    );
    let thumbs: Vec<String> = serde_json::from_str(
        m["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let expected: Vec<String> = c
        .certs
        .iter()
        .map(|d| airlock::digest::Digest::sha256(d).hex().to_owned())
        .collect();
    assert_eq!(thumbs, expected, "lowercase hex, leaf first");
    assert_eq!(m["annotations"]["org.opencontainers.image.created"], SIGNED);

    // index.json: what was there, the signature untagged, the referrers index tagged.
    let after = index_entries(&x.layout);
    assert_eq!(after.len(), before.len() + 2);
    assert_eq!(&after[..before.len()], &before[..]);
    let sig = &after[before.len()];
    assert_eq!(sig["digest"], manifest.as_str());
    assert_eq!(sig["artifactType"], "application/vnd.cncf.notary.signature");
    assert!(sig["annotations"]
        .get("org.opencontainers.image.ref.name")
        .is_none());
    let tag_entry = &after[before.len() + 1];
    let tag = format!("sha256-{}", top_digest.trim_start_matches("sha256:"));
    assert_eq!(
        tag_entry["annotations"]["org.opencontainers.image.ref.name"],
        tag.as_str()
    );
    assert_eq!(
        tag_entry["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let tag_index = read_json(&blob(&x.layout, tag_entry["digest"].as_str().unwrap()));
    assert_eq!(tag_index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(tag_index["manifests"][0]["digest"], manifest.as_str());
    assert_eq!(
        tag_index["manifests"][0]["artifactType"],
        "application/vnd.cncf.notary.signature"
    );

    // Nothing is left behind: no temporary files, no unreferenced blob, integrity clean.
    assert!(files_of(&x.layout)
        .iter()
        .all(|f| !f.contains("airlock-tmp")));
    let r = verify_json(&x.layout, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()["warnings"], serde_json::json!([]));
}

#[test]
fn a_second_signature_merges_into_the_referrers_index_and_both_verify() {
    let x = setup();
    let a = chain(Alg::P256, &[Alg::P256], Alg::P256, 110);
    let b = chain(Alg::Rsa2048, &[Alg::P384], Alg::P384, 120);
    let first = sign_ok(&x.dir, s(&x.layout), &signer(&x.dir, "a", &a), &[]);
    let old_index = index_entries(&x.layout).last().unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = sign_ok(
        &x.dir,
        s(&x.layout),
        &signer(&x.dir, "b", &b),
        &["--envelope", "cose"],
    );
    let entries = index_entries(&x.layout);
    let tagged: Vec<&Value> = entries
        .iter()
        .filter(|e| {
            e["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .is_some_and(|n| n.starts_with("sha256-"))
        })
        .collect();
    assert_eq!(tagged.len(), 1, "one referrers tag");
    let idx = read_json(&blob(&x.layout, tagged[0]["digest"].as_str().unwrap()));
    let listed: Vec<&str> = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [first.as_str(), second.as_str()],
        "existing entries kept"
    );
    assert!(
        !blob(&x.layout, &old_index).exists(),
        "the superseded referrers index is removed"
    );
    let r = verify_json(&x.layout, &[]);
    assert_eq!(r.json()["warnings"], serde_json::json!([]), "{}", r.stdout);
    let trust = write_trust(
        &x.dir,
        &[a.root(), b.root()],
        "strict",
        &[identity(&a.leaf_cn), identity(&b.leaf_cn)],
    );
    let j = assert_pass(&verify(&x.layout, &trust, &[]));
    let sigs = j["images"][0]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2);
    assert!(sigs.iter().all(|s| s["verdict"] == "pass"));
}

#[test]
fn references_resolve_by_tag_full_name_and_digest() {
    let x = setup();
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 130);
    let files = signer(&x.dir, "s", &c);
    let top = index_entries(&x.layout)[0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let subject = |m: &str| {
        read_json(&blob(&x.layout, m))["subject"]["digest"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for target in [
        format!("{}:1.0", x.layout.display()),
        format!("{}:{REF}", x.layout.display()),
        format!("{}@{top}", x.layout.display()),
    ] {
        let m = sign_ok(&x.dir, &target, &files, &[]);
        assert_eq!(subject(&m), top, "{target}");
    }
}

// --- Refusals: nothing is written --------------------------------------------------------------

#[test]
fn refusals_exit_2_and_write_nothing() {
    let x = setup();
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 140);
    let other = chain(Alg::P256, &[Alg::P256], Alg::P256, 150);
    let good = signer(&x.dir, "good", &c);
    let mismatched = SignerFiles {
        key: signer(&x.dir, "other", &other).key,
        chain: good.chain.clone(),
    };
    let rootless = write_signer(&x.dir, "rootless", &c.key_pem, &c.certs[..2]);
    let before = snapshot(&x.layout);
    let layout = s(&x.layout).to_owned();
    let cases: Vec<(String, &SignerFiles, Vec<&str>, &str)> = vec![
        (
            format!("{layout}:nope"),
            &good,
            vec![],
            "no image named \"nope\"",
        ),
        (
            format!("{layout}@sha256:{}", "0".repeat(64)),
            &good,
            vec![],
            "no image named",
        ),
        (
            layout.clone(),
            &mismatched,
            vec![],
            "does not match the signing certificate",
        ),
        (layout.clone(), &rootless, vec![], "does not verify"),
        (
            layout.clone(),
            &good,
            vec!["--user-metadata", "io.cncf.notary.x=1"],
            "reserved prefix",
        ),
        (
            layout.clone(),
            &good,
            vec!["--expiry", "0m"],
            "not a duration",
        ),
        (
            layout.clone(),
            &good,
            vec!["--signing-time", "yesterday"],
            "RFC 3339",
        ),
        (
            layout.clone(),
            &good,
            vec!["--signing-time", "2040-01-01T00:00:00Z"],
            "not valid at the signing time",
        ),
        (
            x.dir.join("missing").display().to_string(),
            &good,
            vec![],
            "not an OCI image layout",
        ),
    ];
    for (target, files, extra, expect) in cases {
        let r = sign(&x.dir, &target, files, &extra);
        assert_eq!(r.code, 2, "{target} {extra:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
        assert!(
            r.stderr.contains(expect),
            "{target} {extra:?}: {}",
            r.stderr
        );
        assert!(
            snapshot(&x.layout) == before,
            "{target} {extra:?} wrote something"
        );
    }
    // A key file that is not PKCS#8 gets a remedy.
    let sec1 = x.dir.join("sec1.pem");
    fs::write(
        &sec1,
        "-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n",
    )
    .unwrap();
    let r = sign(
        &x.dir,
        &layout,
        &SignerFiles {
            key: sec1,
            chain: good.chain.clone(),
        },
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("hint: convert the key to unencrypted PKCS#8"),
        "{}",
        r.stderr
    );
}

// --- The negative matrix ---------------------------------------------------------------------

#[test]
fn expired_leaf_fails_authentic_timestamp() {
    let x = setup();
    let root_ = root(ca_params("root 200", 1, Some(1)), key(Alg::P256, 200));
    let inter = issue(
        ca_params("inter 200", 2, Some(0)),
        key(Alg::P256, 201),
        &root_,
    );
    let mut lp = leaf_params("signer 200", 3);
    lp.not_after = day(2025, 12, 1); // signed 2025-06-01, verified 2026-01-01
    let leaf = issue(lp, key(Alg::P256, 202), &inter);
    let c = Chain {
        certs: vec![leaf.der.clone(), inter.der.clone(), root_.der.clone()],
        key_pem: leaf.key_pem(),
        leaf_cn: "signer 200".into(),
    };
    sign_ok(&x.dir, s(&x.layout), &signer(&x.dir, "s", &c), &[]);
    let trust = trust_for(&x.dir, &c);
    let msg = assert_fails(&verify(&x.layout, &trust, &[]), "authentic_timestamp");
    assert!(msg.contains("not valid at the verification time"), "{msg}");
    // Before the leaf expired, the same signature verifies.
    assert_pass(&verify(
        &x.layout,
        &trust,
        &["--at", "2025-11-01T00:00:00Z"],
    ));
}

#[test]
fn not_yet_valid_leaf_fails_authentic_timestamp() {
    let x = setup();
    let root_ = root(ca_params("root 210", 1, Some(1)), key(Alg::P384, 210));
    let inter = issue(
        ca_params("inter 210", 2, Some(0)),
        key(Alg::P256, 211),
        &root_,
    );
    let mut lp = leaf_params("signer 210", 3);
    lp.not_before = day(2026, 3, 1);
    let leaf = issue(lp, key(Alg::P256, 212), &inter);
    let c = Chain {
        certs: vec![leaf.der.clone(), inter.der.clone(), root_.der.clone()],
        key_pem: leaf.key_pem(),
        leaf_cn: "signer 210".into(),
    };
    let files = signer(&x.dir, "s", &c);
    let r = sign(
        &x.dir,
        s(&x.layout),
        &files,
        &["--signing-time", "2026-06-01T00:00:00Z"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let trust = trust_for(&x.dir, &c);
    let msg = assert_fails(&verify(&x.layout, &trust, &[]), "authentic_timestamp");
    assert!(msg.contains("not valid at the verification time"), "{msg}");
}

/// A chain `airlock sign` must refuse (exit 2, nothing written), and which, signed and stored
/// anyway through the library, `airlock verify` must fail with `signature_integrity` and a
/// message containing `why`.
fn refused_and_rejected(c: &Chain, why: &str) {
    let x = setup();
    let files = signer(&x.dir, "s", c);
    let before = snapshot(&x.layout);
    let r = sign(&x.dir, s(&x.layout), &files, &[]);
    assert_eq!(r.code, 2, "sign must refuse: {}", r.stderr);
    assert!(r.stderr.contains(why), "{}", r.stderr);
    assert!(
        snapshot(&x.layout) == before,
        "a refused signature wrote something"
    );
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let y = setup();
        attach_unchecked(&y.layout, c, format, None);
        let trust = trust_for(&y.dir, c);
        let msg = assert_fails(&verify(&y.layout, &trust, &[]), "signature_integrity");
        assert!(msg.contains(why), "{format:?}: {msg}");
    }
}

#[test]
fn wrong_eku_fails_signature_integrity() {
    let root_ = root(ca_params("root 220", 1, Some(1)), key(Alg::P256, 220));
    let inter = issue(
        ca_params("inter 220", 2, Some(0)),
        key(Alg::P256, 221),
        &root_,
    );
    let mut lp = leaf_params("signer 220", 3);
    lp.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = issue(lp, key(Alg::P256, 222), &inter);
    let c = Chain {
        certs: vec![leaf.der.clone(), inter.der.clone(), root_.der.clone()],
        key_pem: leaf.key_pem(),
        leaf_cn: "signer 220".into(),
    };
    refused_and_rejected(&c, "extended key usage must not contain serverAuth");
}

#[test]
fn ca_as_leaf_fails_signature_integrity() {
    let root_ = root(ca_params("root 230", 1, None), key(Alg::P256, 230));
    let inter = issue(ca_params("inter 230", 2, None), key(Alg::P256, 231), &root_);
    let mut lp = leaf_params("signer 230", 3);
    lp.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let leaf = issue(lp, key(Alg::P256, 232), &inter);
    let c = Chain {
        certs: vec![leaf.der.clone(), inter.der.clone(), root_.der.clone()],
        key_pem: leaf.key_pem(),
        leaf_cn: "signer 230".into(),
    };
    refused_and_rejected(&c, "certificate #0 violates `leaf_is_ca`");
}

#[test]
fn path_length_exceeded_fails_signature_integrity() {
    // The root allows no CA below it, yet an intermediate sits there.
    let root_ = root(ca_params("root 240", 1, Some(0)), key(Alg::P256, 240));
    let inter = issue(
        ca_params("inter 240", 2, Some(0)),
        key(Alg::P256, 241),
        &root_,
    );
    let leaf = issue(leaf_params("signer 240", 3), key(Alg::P256, 242), &inter);
    let c = Chain {
        certs: vec![leaf.der.clone(), inter.der.clone(), root_.der.clone()],
        key_pem: leaf.key_pem(),
        leaf_cn: "signer 240".into(),
    };
    refused_and_rejected(&c, "certificate #2 violates `path_length`");
}

#[test]
fn sha1_signed_intermediate_fails_signature_integrity() {
    let root_ = root(ca_params("root 250", 1, Some(1)), key(Alg::P256, 250));
    let inter = issue(
        ca_params("inter 250", 2, Some(0)),
        key(Alg::P256, 251),
        &root_,
    );
    let inter_sha1 = resign_sha1(&inter.der, &root_.key);
    let leaf = issue(leaf_params("signer 250", 3), key(Alg::P256, 252), &inter);
    let c = Chain {
        certs: vec![leaf.der.clone(), inter_sha1, root_.der.clone()],
        key_pem: leaf.key_pem(),
        leaf_cn: "signer 250".into(),
    };
    refused_and_rejected(&c, "certificate #1 violates `weak_signature_algorithm`");
}

#[test]
fn untrusted_root_fails_untrusted_signer() {
    let x = setup();
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 160);
    let stranger = chain(Alg::P256, &[Alg::P256], Alg::P256, 170);
    sign_ok(&x.dir, s(&x.layout), &signer(&x.dir, "s", &c), &[]);
    let trust = write_trust(
        &x.dir,
        &[stranger.root()],
        "strict",
        &[identity(&c.leaf_cn)],
    );
    assert_fails(&verify(&x.layout, &trust, &[]), "untrusted_signer");
}

#[test]
fn identity_mismatch_fails_trusted_identity() {
    let x = setup();
    let c = chain(Alg::P384, &[Alg::P384], Alg::P384, 180);
    sign_ok(&x.dir, s(&x.layout), &signer(&x.dir, "s", &c), &[]);
    let trust = write_trust(&x.dir, &[c.root()], "strict", &[identity("somebody else")]);
    assert_fails(&verify(&x.layout, &trust, &[]), "trusted_identity");
}

#[test]
fn expired_signature_fails_signature_expired() {
    let x = setup();
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 190);
    let m = sign_ok(
        &x.dir,
        s(&x.layout),
        &signer(&x.dir, "s", &c),
        &["--expiry", "1h"],
    );
    let trust = trust_for(&x.dir, &c);
    assert_pass(&verify(
        &x.layout,
        &trust,
        &["--at", "2025-06-01T00:30:00Z"],
    ));
    assert_fails(
        &verify(&x.layout, &trust, &["--at", "2025-06-01T02:00:00Z"]),
        "signature_expired",
    );
    // The expiry is a critical protected header.
    let man = read_json(&blob(&x.layout, &m));
    let env = fs::read(blob(
        &x.layout,
        man["layers"][0]["digest"].as_str().unwrap(),
    ))
    .unwrap();
    let e = airlock::notary::envelope::Envelope::parse("application/jose+json", &env).unwrap();
    assert_eq!(e.expiry(), Some(unix(SIGNED) + 3600));
}

#[test]
fn user_metadata_mismatch_fails_user_metadata() {
    let x = setup();
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 200);
    sign_ok(
        &x.dir,
        s(&x.layout),
        &signer(&x.dir, "s", &c),
        &["--user-metadata", "build=42", "--user-metadata", "team=air"],
    );
    let trust = trust_for(&x.dir, &c);
    let j = assert_pass(&verify(
        &x.layout,
        &trust,
        &["--user-metadata", "build=42", "--user-metadata", "team=air"],
    ));
    // The gate and what the signature signs are in the report, and so in a receipt (red team J,
    // J10: a gated and an ungated verification gave the same bytes).
    assert_eq!(
        j["requiredUserMetadata"],
        serde_json::json!({"build": "42", "team": "air"})
    );
    assert_eq!(
        j["images"][0]["signatures"][0]["userMetadata"],
        serde_json::json!({"build": "42", "team": "air"})
    );
    let ungated = assert_pass(&verify(&x.layout, &trust, &[]));
    assert!(ungated.get("requiredUserMetadata").is_none(), "{ungated}");
    assert_fails(
        &verify(&x.layout, &trust, &["--user-metadata", "build=43"]),
        "user_metadata",
    );
    assert_fails(
        &verify(&x.layout, &trust, &["--user-metadata", "owner=me"]),
        "user_metadata",
    );
}

#[test]
fn revocation_by_crl() {
    let x = setup();
    let root_ = root(ca_params("root 260", 1, Some(1)), key(Alg::P256, 260));
    let inter = issue(
        ca_params("inter 260", 2, Some(0)),
        key(Alg::P256, 261),
        &root_,
    );
    let leaf = issue(
        with_crl_dp(
            leaf_params("signer 260", 777),
            "http://crl.example/inter.crl",
        ),
        key(Alg::P256, 262),
        &inter,
    );
    let c = Chain {
        certs: vec![leaf.der.clone(), inter.der.clone(), root_.der.clone()],
        key_pem: leaf.key_pem(),
        leaf_cn: "signer 260".into(),
    };
    sign_ok(&x.dir, s(&x.layout), &signer(&x.dir, "s", &c), &[]);
    let revoked = x.dir.join("revoked.crl");
    fs::write(
        &revoked,
        crl(&inter, &[777], day(2025, 12, 1), day(2026, 2, 1)),
    )
    .unwrap();
    let current = x.dir.join("current.crl");
    fs::write(
        &current,
        crl(&inter, &[778], day(2025, 12, 1), day(2026, 2, 1)),
    )
    .unwrap();

    let strict = trust_for(&x.dir, &c);
    let msg = assert_fails(
        &verify(&x.layout, &strict, &["--crl", s(&revoked)]),
        "revoked",
    );
    assert!(msg.contains("signer 260"), "{msg}");
    assert_pass(&verify(&x.layout, &strict, &["--crl", s(&current)]));
    assert_fails(&verify(&x.layout, &strict, &[]), "revocation_unknown");

    let y = tempfile::tempdir().unwrap();
    let permissive = write_trust(
        y.path(),
        &[c.root()],
        "permissive",
        &[identity("signer 260")],
    );
    let r = verify(&x.layout, &permissive, &[]);
    let j = assert_pass(&r);
    assert_eq!(
        codes_of(&j, "warnings"),
        ["revocation_unknown"],
        "{}",
        r.stdout
    );
}

#[test]
fn tampered_envelope_byte_fails_signature_integrity() {
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 270);
    let key = read_private_key_pem(c.key_pem.as_bytes()).unwrap();
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let x = setup();
        let target = resolve(&x.layout, None).unwrap();
        let p = payload(&target.descriptor, &[]).unwrap();
        let mut env = sign_envelope(&SignRequest {
            format,
            payload: &p,
            chain: &c.certs,
            key: &key,
            signing_time: unix(SIGNED),
            expiry: None,
            signing_agent: "t",
        })
        .unwrap();
        // One byte of the signature value: inside the JWS base64url text, or the COSE bstr.
        let at = match format {
            EnvelopeFormat::Jws => {
                let text = String::from_utf8(env.clone()).unwrap();
                text.find("\"signature\":\"").unwrap() + 20
            }
            _ => env.len() - 10,
        };
        env[at] = if env[at] == b'A' { b'B' } else { b'A' };
        attach_bytes(&x.layout, &env, format, &c.certs);
        // The blobs are intact (the bundle's integrity passes), the signature is not.
        assert_eq!(verify_json(&x.layout, &[]).code, 0);
        let trust = trust_for(&x.dir, &c);
        let msg = assert_fails(&verify(&x.layout, &trust, &[]), "signature_integrity");
        assert!(
            msg.contains("signature is invalid: signature verification failed"),
            "{format:?}: {msg}"
        );
    }
}

#[test]
fn signature_for_another_manifest_fails_payload_mismatch() {
    let x = setup();
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 280);
    // Sign the amd64 manifest's descriptor, store the signature on the index.
    let index = read_json(&blob(
        &x.layout,
        index_entries(&x.layout)[0]["digest"].as_str().unwrap(),
    ));
    let child = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    attach_unchecked(&x.layout, &c, EnvelopeFormat::Cose, Some(&child));
    let trust = trust_for(&x.dir, &c);
    let msg = assert_fails(&verify(&x.layout, &trust, &[]), "payload_mismatch");
    assert!(msg.contains(&child), "{msg}");
}

/// Keys of sizes rcgen and aws-lc-rs cannot make: generated by openssl, certified by an rcgen
/// intermediate, refused by `airlock sign`, and, in envelopes airlock's encoder writes with
/// openssl's signature, refused by `airlock verify` because of the key (not the signature).
fn weak_key_case(genpkey: &[&str], alg: airlock::notary::crypto::SignatureAlgorithm, why: &str) {
    if !have("openssl") {
        return;
    }
    let x = setup();
    let k = x.dir.join("weak.key");
    let out = Command::new("openssl")
        .args(["genpkey"])
        .args(genpkey)
        .args(["-out", s(&k)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spki = Command::new("openssl")
        .args(["pkey", "-in", s(&k), "-pubout", "-outform", "DER"])
        .output()
        .unwrap()
        .stdout;
    let root_ = root(ca_params("root 300", 1, Some(1)), key(Alg::P256, 300));
    let inter = issue(
        ca_params("inter 300", 2, Some(0)),
        key(Alg::P256, 301),
        &root_,
    );
    let leaf = issue_foreign(&leaf_params("signer 300", 3), &spki, &inter);
    let certs = vec![leaf, inter.der.clone(), root_.der.clone()];
    let files = write_signer(&x.dir, "weak", &fs::read_to_string(&k).unwrap(), &certs);
    let before = snapshot(&x.layout);
    let r = sign(&x.dir, s(&x.layout), &files, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(why), "{}", r.stderr);
    assert!(snapshot(&x.layout) == before);

    let rsa = why.contains("rsa");
    let openssl_sign = |msg: &[u8]| {
        let input = x.dir.join("tbs");
        let sig = x.dir.join("sig");
        fs::write(&input, msg).unwrap();
        let mut cmd = Command::new("openssl");
        cmd.args(["dgst", "-sha256", "-sign", s(&k), "-out", s(&sig)]);
        if rsa {
            cmd.args([
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ]);
        }
        assert!(cmd.arg(s(&input)).status().unwrap().success());
        let der = fs::read(&sig).unwrap();
        Ok(if rsa {
            der
        } else {
            ecdsa_der_to_fixed(&der, 28)
        })
    };
    let target = resolve(&x.layout, None).unwrap();
    let p = payload(&target.descriptor, &[]).unwrap();
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let y = setup();
        let env = envelope::encode(
            &EncodeRequest {
                format,
                algorithm: alg,
                payload: &p,
                chain: &certs,
                signing_time: unix(SIGNED),
                expiry: None,
                signing_agent: "openssl",
            },
            openssl_sign,
        )
        .unwrap();
        attach_bytes(&y.layout, &env, format, &certs);
        let trust = write_trust(
            &y.dir,
            &[root_.der.as_slice()],
            "strict",
            &[identity("signer 300")],
        );
        let msg = assert_fails(&verify(&y.layout, &trust, &[]), "signature_integrity");
        assert!(msg.contains(why), "{format:?}: {msg}");
    }
}

/// DER `ECDSA-Sig-Value` to the fixed-width `r||s` JOSE and COSE use.
fn ecdsa_der_to_fixed(der: &[u8], width: usize) -> Vec<u8> {
    let sig = der::asn1::AnyRef::try_from(der).unwrap();
    let mut out = Vec::new();
    let mut reader = der::SliceReader::new(sig.value()).unwrap();
    for _ in 0..2 {
        let n: der::asn1::UintRef<'_> = der::Decode::decode(&mut reader).unwrap();
        let b = n.as_bytes();
        out.extend(std::iter::repeat_n(0u8, width - b.len()));
        out.extend_from_slice(b);
    }
    out
}

#[test]
fn rsa_1024_key_is_refused_at_sign_and_at_verify() {
    weak_key_case(
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        airlock::notary::crypto::SignatureAlgorithm::Ps256,
        "rsa key size 1024 bits is not supported",
    );
}

#[test]
fn p224_key_is_refused_at_sign_and_at_verify() {
    weak_key_case(
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-224"],
        airlock::notary::crypto::SignatureAlgorithm::Es256,
        "curve 1.3.132.0.33",
    );
}

// --- Where signatures are found ------------------------------------------------------------

#[test]
fn signatures_on_child_manifests_are_found_and_verified() {
    let x = setup();
    let good = chain(Alg::P256, &[Alg::P256], Alg::P256, 310);
    let other = chain(Alg::P384, &[Alg::P384], Alg::P384, 320);
    let index = read_json(&blob(
        &x.layout,
        index_entries(&x.layout)[0]["digest"].as_str().unwrap(),
    ));
    let child = index["manifests"][1]["digest"].as_str().unwrap().to_owned();
    sign_ok(&x.dir, s(&x.layout), &signer(&x.dir, "good", &good), &[]);
    let m = sign_ok(
        &x.dir,
        &format!("{}@{child}", x.layout.display()),
        &signer(&x.dir, "other", &other),
        &["--envelope", "cose"],
    );
    let subject = &read_json(&blob(&x.layout, &m))["subject"];
    assert_eq!(subject["digest"], child.as_str());
    assert_eq!(
        subject["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );

    // The child's signer is not trusted, but the index signature passes: the index digest commits
    // to its children, so the child's failing signature is a warning (SPEC-NOTES erratum 18).
    let only_good = trust_for(&x.dir, &good);
    let j = assert_pass(&verify(&x.layout, &only_good, &[]));
    assert_eq!(codes_of(&j, "warnings"), ["untrusted_signer"], "{j}");
    assert!(
        j["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&child),
        "{j}"
    );
    // Trusting only the child's signer: the index signature fails, and the image with it.
    let z = tempfile::tempdir().unwrap();
    let only_other = write_trust(
        z.path(),
        &[other.root()],
        "strict",
        &[identity(&other.leaf_cn)],
    );
    assert_fails(&verify(&x.layout, &only_other, &[]), "untrusted_signer");
    // Both trusted: both signatures verify.
    let y = tempfile::tempdir().unwrap();
    let both = write_trust(
        y.path(),
        &[good.root(), other.root()],
        "strict",
        &[identity(&good.leaf_cn), identity(&other.leaf_cn)],
    );
    let j = assert_pass(&verify(&x.layout, &both, &[]));
    let subjects: Vec<&str> = j["images"][0]["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subjectDigest"].as_str().unwrap())
        .collect();
    assert!(subjects.contains(&child.as_str()), "{subjects:?}");
    assert_eq!(subjects.len(), 2);
}

#[test]
fn an_unsigned_index_is_judged_by_each_platform_manifest() {
    let x = setup();
    let good = chain(Alg::P256, &[Alg::P256], Alg::P256, 330);
    let other = chain(Alg::P256, &[Alg::P256], Alg::P256, 340);
    let index = read_json(&blob(
        &x.layout,
        index_entries(&x.layout)[0]["digest"].as_str().unwrap(),
    ));
    let children: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(children.len(), 2);
    let trust = trust_for(&x.dir, &good);
    // Nothing signed: no signature.
    assert_fails(&verify(&x.layout, &trust, &[]), "no_signature");
    // One platform manifest signed by the trusted signer, the other by nobody: fails on the other.
    sign_ok(
        &x.dir,
        &format!("{}@{}", x.layout.display(), children[0]),
        &signer(&x.dir, "good", &good),
        &[],
    );
    let msg = assert_fails(&verify(&x.layout, &trust, &[]), "no_signature");
    assert!(msg.contains(&children[1]), "{msg}");
    // The other signed by an untrusted signer: still fails, now as untrusted.
    sign_ok(
        &x.dir,
        &format!("{}@{}", x.layout.display(), children[1]),
        &signer(&x.dir, "other", &other),
        &[],
    );
    let msg = assert_fails(&verify(&x.layout, &trust, &[]), "untrusted_signer");
    assert!(msg.contains(&children[1]), "{msg}");
    // Both signed by the trusted signer: passes.
    sign_ok(
        &x.dir,
        &format!("{}@{}", x.layout.display(), children[1]),
        &signer(&x.dir, "good2", &good),
        &[],
    );
    assert_pass(&verify(&x.layout, &trust, &[]));
}

#[test]
fn a_malformed_signature_manifest_aborts_its_subject_even_beside_a_good_one() {
    let x = setup();
    let good = chain(Alg::P256, &[Alg::P256], Alg::P256, 350);
    let trust = trust_for(&x.dir, &good);
    let m = sign_ok(&x.dir, s(&x.layout), &signer(&x.dir, "good", &good), &[]);
    assert_pass(&verify(&x.layout, &trust, &[]));
    // A second signature manifest with two layers (notation refuses to use it: erratum 8).
    let mut doc = read_json(&blob(&x.layout, &m));
    let layer = doc["layers"][0].clone();
    doc["layers"] = serde_json::json!([layer.clone(), layer]);
    let bytes = serde_json::to_vec(&doc).unwrap();
    let d = airlock::digest::Digest::sha256(&bytes).to_string();
    fs::write(blob(&x.layout, &d), &bytes).unwrap();
    let idx_path = x.layout.join("index.json");
    let mut idx = read_json(&idx_path);
    let mut entry = idx["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["digest"] == m.as_str())
        .unwrap()
        .clone();
    entry["digest"] = d.clone().into();
    entry["size"] = bytes.len().into();
    idx["manifests"].as_array_mut().unwrap().push(entry);
    write_json(&idx_path, &idx);
    let msg = assert_fails(
        &verify(&x.layout, &trust, &[]),
        "signature_manifest_invalid",
    );
    assert!(msg.contains("2 layers"), "{msg}");
}

#[test]
fn signature_listed_only_in_the_referrers_tag_index_is_found() {
    let x = setup();
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 330);
    let m = sign_ok(&x.dir, s(&x.layout), &signer(&x.dir, "s", &c), &[]);
    let trust = trust_for(&x.dir, &c);
    let mut doc = read_json(&x.layout.join("index.json"));
    let all = doc["manifests"].as_array().unwrap().clone();
    // Only the referrers tag index lists the signature.
    doc["manifests"] = Value::Array(
        all.iter()
            .filter(|e| e["digest"] != m.as_str())
            .cloned()
            .collect(),
    );
    write_json(&x.layout.join("index.json"), &doc);
    let j = assert_pass(&verify(&x.layout, &trust, &[]));
    assert_eq!(
        j["images"][0]["signatures"][0]["manifestDigest"],
        m.as_str()
    );
    assert_pass(&verify(&tar_zst(&x.layout), &trust, &[]));
    // Without the tag index either, the signature is gone.
    doc["manifests"] = Value::Array(vec![all[0].clone()]);
    write_json(&x.layout.join("index.json"), &doc);
    assert_fails(&verify(&x.layout, &trust, &[]), "no_signature");
}

#[test]
fn skopeo_copy_keeps_the_image_but_not_its_signature() {
    if !have("skopeo") {
        return;
    }
    let x = setup();
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 340);
    sign_ok(&x.dir, s(&x.layout), &signer(&x.dir, "s", &c), &[]);
    let copy = x.dir.join("copy");
    skopeo_copy(
        &format!("oci:{}:{REF}", x.layout.display()),
        &format!("oci:{}:{REF}", copy.display()),
    );
    // The image arrives intact...
    let r = verify_json(&copy, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let trust = trust_for(&x.dir, &c);
    let copied = index_entries(&copy);
    let has_signature = copied
        .iter()
        .any(|e| e["artifactType"] == "application/vnd.cncf.notary.signature");
    if has_signature {
        // A skopeo that copies referrers keeps the layout verifiable.
        assert_pass(&verify(&copy, &trust, &[]));
    } else {
        // skopeo 1.9 (Debian bookworm) copies the image only: no referrer, no referrers tag
        // index. The copy is then unsigned, and verification says so.
        assert_eq!(copied.len(), 1, "{copied:?}");
        assert_fails(&verify(&copy, &trust, &[]), "no_signature");
    }
}

#[test]
fn every_trust_store_the_statement_lists_must_load() {
    // SPEC-NOTES erratum 17: a listed store that is missing, empty or invalid fails authenticity,
    // even when another listed store holds the signer's root.
    let x = setup();
    let good = chain(Alg::P256, &[Alg::P256], Alg::P256, 360);
    sign_ok(&x.dir, s(&x.layout), &signer(&x.dir, "good", &good), &[]);
    let trust = trust_for(&x.dir, &good);
    assert_pass(&verify(&x.layout, &trust, &[]));
    let with_stores = |stores: &[&str]| {
        let mut p = read_json(&trust.policy);
        p["trustPolicies"][0]["trustStores"] = serde_json::json!(stores);
        write_json(&trust.policy, &p);
    };
    with_stores(&["ca:tests", "ca:absent"]);
    let msg = assert_fails(&verify(&x.layout, &trust, &[]), "truststore_missing");
    assert!(msg.contains("absent"), "{msg}");
    fs::create_dir_all(trust.store.join("x509/ca/empty")).unwrap();
    with_stores(&["ca:empty", "ca:tests"]);
    let msg = assert_fails(&verify(&x.layout, &trust, &[]), "truststore_invalid");
    assert!(msg.contains("empty"), "{msg}");
    fs::create_dir_all(trust.store.join("x509/ca/junk")).unwrap();
    fs::write(trust.store.join("x509/ca/junk/a.crt"), "not a certificate").unwrap();
    with_stores(&["ca:tests", "ca:junk"]);
    assert_fails(&verify(&x.layout, &trust, &[]), "truststore_invalid");
    // A store of another type (tsa) is not loaded for the notary.x509 scheme's authenticity.
    with_stores(&["ca:tests"]);
    assert_pass(&verify(&x.layout, &trust, &[]));
}

/// cosign's tag-named artifacts (`sha256-<hex>.sig`) carried in a bundle are not images: signing
/// the bundle's one image needs no name, as verify finds the one image.
#[test]
fn a_cosign_signature_in_the_layout_is_not_an_image_to_sign() {
    let x = setup();
    let c = chain(Alg::P256, &[Alg::P256], Alg::P256, 131);
    let files = signer(&x.dir, "s", &c);
    let top = index_entries(&x.layout)[0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    // A cosign simple-signing signature of the image, under cosign's tag for it.
    let layer = br#"{"critical":{"type":"cosign container image signature"}}"#;
    let layer_d = airlock::digest::Digest::sha256(layer).to_string();
    fs::write(blob(&x.layout, &layer_d), layer).unwrap();
    let config = b"{}";
    let config_d = airlock::digest::Digest::sha256(config).to_string();
    fs::write(blob(&x.layout, &config_d), config).unwrap();
    let m = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_d, "size": 2},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": layer_d, "size": layer.len()}],
    }))
    .unwrap();
    let m_d = airlock::digest::Digest::sha256(&m).to_string();
    fs::write(blob(&x.layout, &m_d), &m).unwrap();
    let mut index = read_json(&x.layout.join("index.json"));
    let tag = format!("sha256-{}.sig", top.trim_start_matches("sha256:"));
    index["manifests"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": m_d, "size": m.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }));
    write_json(&x.layout.join("index.json"), &index);
    let sig = sign_ok(&x.dir, s(&x.layout), &files, &[]);
    assert_eq!(
        read_json(&blob(&x.layout, &sig))["subject"]["digest"],
        top.as_str()
    );
}
