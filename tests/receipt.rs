//! Verification receipts (issue 15) through the binary: `verify --receipt FILE --receipt-key
//! --receipt-cert` over a layout from `airlock fixture` signed with `airlock sign`, then `airlock
//! receipt verify` with the site's trust store, another store, an altered statement, and the
//! receipt of a failed verification; the statement's JSON shape; deterministic bytes.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;
use crate::pki::*;

const REF: &str = "registry.example/airlock/sample:1.0";

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A signed sample layout, the image signer's and the receipt signer's files, and a trust policy
/// with a statement for the images' scope and one for `airlock/receipt`.
struct Site {
    t: tempfile::TempDir,
    layout: PathBuf,
    receipt_signer: SignerFiles,
    policy: PathBuf,
    store: PathBuf,
    image_digest: String,
}

fn write_policy(
    base: &Path,
    image: &Chain,
    receipt_root: &[u8],
    receipt_cn: &str,
) -> (PathBuf, PathBuf) {
    let store = base.join("truststore");
    for (name, root) in [("images", image.root()), ("receipts", receipt_root)] {
        let ca = store.join("x509/ca").join(name);
        fs::create_dir_all(&ca).unwrap();
        fs::write(ca.join("root.crt"), certs_pem(&[root.to_vec()])).unwrap();
    }
    let policy = base.join("trustpolicy.json");
    let doc = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [
            {
                "name": "images",
                "registryScopes": [SCOPE],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:images"],
                "trustedIdentities": [identity(&image.leaf_cn)],
            },
            {
                "name": "receipts",
                "registryScopes": ["airlock/receipt"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:receipts"],
                "trustedIdentities": [identity(receipt_cn)],
            }
        ]
    });
    fs::write(&policy, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    (policy, store)
}

fn site() -> Site {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let layout = dir.join("layout");
    let r = run_in(
        dir,
        &[
            "fixture",
            s(&layout),
            "--layer-size",
            "4096",
            "--reference",
            REF,
        ],
    );
    assert_eq!(r.code, 0, "fixture: {}", r.stderr);
    let image = chain(Alg::P256, &[], Alg::P256, 510);
    let receipts = chain(Alg::P384, &[Alg::P256], Alg::P256, 520);
    let image_signer = write_signer(dir, "image", &image.key_pem, &image.certs);
    let receipt_signer = write_signer(dir, "receipt", &receipts.key_pem, &receipts.certs);
    let r = run_in(
        dir,
        &[
            "sign",
            s(&layout),
            "--key",
            s(&image_signer.key),
            "--cert",
            s(&image_signer.chain),
            "--signing-time",
            SIGNED,
        ],
    );
    assert_eq!(r.code, 0, "sign: {}", r.stderr);
    let (policy, store) = write_policy(
        &dir.join("site"),
        &image,
        receipts.root(),
        &receipts.leaf_cn,
    );
    let index = read_json(&layout.join("index.json"));
    let image_digest = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == REF)
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    Site {
        t,
        layout,
        receipt_signer,
        policy,
        store,
        image_digest,
    }
}

impl Site {
    fn dir(&self) -> &Path {
        self.t.path()
    }

    /// `verify LAYOUT --trust-policy --trust-store --at AT --receipt OUT [signed] EXTRA...`
    fn verify(&self, bundle: &Path, out: &Path, signed: bool, extra: &[&str]) -> Run {
        let mut args = vec![
            "verify",
            s(bundle),
            "--trust-policy",
            s(&self.policy),
            "--trust-store",
            s(&self.store),
            "--at",
            AT,
            "--no-progress",
            "--format",
            "json",
            "--receipt",
            s(out),
        ];
        if signed {
            args.extend([
                "--receipt-key",
                s(&self.receipt_signer.key),
                "--receipt-cert",
                s(&self.receipt_signer.chain),
            ]);
        }
        args.extend_from_slice(extra);
        run_in(self.dir(), &args)
    }

    /// `receipt verify FILE --trust-policy --trust-store --at AT --format json EXTRA...`
    fn check(&self, file: &Path, policy: &Path, store: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "receipt",
            "verify",
            s(file),
            "--trust-policy",
            s(policy),
            "--trust-store",
            s(store),
            "--at",
            AT,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        run_in(self.dir(), &args)
    }
}

fn sig_of(p: &Path) -> PathBuf {
    PathBuf::from(format!("{}.sig", p.display()))
}

#[test]
fn a_signed_receipt_verifies_with_the_site_store_and_not_with_another() {
    let x = site();
    for envelope in ["jws", "cose"] {
        let out = x.dir().join(format!("receipt-{envelope}.json"));
        let r = x.verify(&x.layout, &out, true, &["--receipt-envelope", envelope]);
        assert_eq!(r.code, 0, "verify: {}\n{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("signed:"), "{}", r.stderr);
        let stmt = read_json(&out);
        assert_eq!(stmt["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(stmt["predicate"]["verificationResult"], "PASSED");
        assert!(sig_of(&out).is_file());

        let r = x.check(&out, &x.policy, &x.store, &["--subject", &x.image_digest]);
        assert_eq!(r.code, 0, "receipt verify: {}\n{}", r.stdout, r.stderr);
        let j = r.json();
        assert_eq!(j["verdict"], "pass");
        assert_eq!(j["scope"], "airlock/receipt");
        assert_eq!(j["policy"]["name"], "receipts");
        assert_eq!(j["signature"]["envelopeType"], envelope);
        assert_eq!(j["signature"]["signingTime"], AT);
        assert_eq!(j["statement"]["timeVerified"], AT);
        assert_eq!(j["statement"]["subjects"][0]["name"], REF);
        assert_eq!(
            j["statement"]["subjects"][0]["digests"][0],
            x.image_digest.as_str()
        );

        // Another site's store (its own root and identity) does not authenticate this receipt.
        let other = chain(Alg::P256, &[], Alg::P256, 530);
        let image = chain(Alg::P256, &[], Alg::P256, 510);
        let (policy, store) = write_policy(
            &x.dir().join(format!("other-{envelope}")),
            &image,
            other.root(),
            &other.leaf_cn,
        );
        let r = x.check(&out, &policy, &store, &[]);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(r.codes(), ["untrusted_signer"], "{}", r.stdout);
    }
}

#[test]
fn an_altered_statement_fails_and_an_unsigned_one_proves_nothing() {
    let x = site();
    let out = x.dir().join("receipt.json");
    let r = x.verify(&x.layout, &out, true, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let original = fs::read_to_string(&out).unwrap();

    // Another subject digest, same size: the signed descriptor no longer matches.
    let hex = x.image_digest.trim_start_matches("sha256:");
    let forged: String = hex.chars().rev().collect();
    fs::write(&out, original.replace(hex, &forged)).unwrap();
    let r = x.check(&out, &x.policy, &x.store, &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.codes(), ["payload_mismatch"], "{}", r.stdout);

    // A verdict turned around fails the same way.
    fs::write(&out, original.replace("\"PASSED\"", "\"FAILED\"")).unwrap();
    let r = x.check(&out, &x.policy, &x.store, &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.codes().contains(&"payload_mismatch".to_owned()),
        "{}",
        r.stdout
    );

    // The untouched statement still passes; without its signature it proves nothing.
    fs::write(&out, &original).unwrap();
    assert_eq!(x.check(&out, &x.policy, &x.store, &[]).code, 0);
    fs::remove_file(sig_of(&out)).unwrap();
    let r = x.check(&out, &x.policy, &x.store, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.codes(), ["receipt_unsigned"]);
    // An explicit --signature that is absent is an operational error.
    let missing = x.dir().join("absent.sig");
    let r = x.check(&out, &x.policy, &x.store, &["--signature", s(&missing)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn a_failed_verification_still_writes_a_signed_failed_receipt() {
    let x = site();
    // Change one layer's bytes (same length): verification fails with digest_mismatch.
    let blobs = x.layout.join("blobs/sha256");
    let mut sizes: Vec<(u64, PathBuf)> = fs::read_dir(&blobs)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (fs::metadata(&p).unwrap().len(), p)
        })
        .collect();
    sizes.sort();
    let layer = &sizes.last().unwrap().1;
    let mut b = fs::read(layer).unwrap();
    b[0] ^= 0xff;
    fs::write(layer, b).unwrap();

    let out = x.dir().join("failed.json");
    let r = x.verify(&x.layout, &out, true, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.codes().contains(&"digest_mismatch".to_owned()));
    let stmt = read_json(&out);
    assert_eq!(stmt["predicate"]["verificationResult"], "FAILED");
    assert_eq!(
        stmt["predicate"]["verifiedLevels"],
        serde_json::json!(["FAILED"])
    );
    let detail = &stmt["predicate"]["io.airlock.receipt"];
    assert!(codes_of(detail, "failures").contains(&"digest_mismatch".to_owned()));

    // The receipt is authentic, and says FAILED: receipt verify reports it and exits 1.
    let r = x.check(&out, &x.policy, &x.store, &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let j = r.json();
    assert_eq!(j["signature"]["verdict"], "pass");
    assert_eq!(r.codes(), ["recorded_failed"]);
}

/// The statement's JSON shape: in-toto Statement v1 and SLSA VSA v1 field rules.
#[test]
fn the_statement_has_the_statement_v1_and_vsa_v1_shape() {
    let x = site();
    let out = x.dir().join("receipt.json");
    assert_eq!(x.verify(&x.layout, &out, false, &[]).code, 0);
    let v: Value = read_json(&out);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["_type", "predicate", "predicateType", "subject"]);
    assert_eq!(
        v["predicateType"],
        "https://slsa.dev/verification_summary/v1"
    );
    let subject = v["subject"].as_array().unwrap();
    assert_eq!(subject.len(), 1);
    let digest = subject[0]["digest"].as_object().unwrap();
    assert_eq!(
        format!("sha256:{}", digest["sha256"].as_str().unwrap()),
        x.image_digest
    );
    let p = &v["predicate"];
    assert!(p["verifier"]["id"].as_str().unwrap().contains(':'));
    assert_eq!(
        p["verifier"]["version"]["airlock"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(p["timeVerified"], AT);
    let uri = p["resourceUri"].as_str().unwrap();
    assert!(
        uri.starts_with("file:///") && uri.ends_with("/layout"),
        "{uri}"
    );
    let policy_bytes = fs::read(&x.policy).unwrap();
    assert_eq!(
        format!(
            "sha256:{}",
            p["policy"]["digest"]["sha256"].as_str().unwrap()
        ),
        airlock::digest::Digest::sha256(&policy_bytes).to_string()
    );
    assert_eq!(p["policy"]["name"], "images");
    let inputs = p["inputAttestations"].as_array().unwrap();
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0]["digest"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(p["verificationResult"], "PASSED");
    assert_eq!(
        p["verifiedLevels"],
        serde_json::json!([
            "AIRLOCK_INTEGRITY_VERIFIED",
            "AIRLOCK_NOTARY_SIGNATURES_VERIFIED"
        ])
    );
    let d = &p["io.airlock.receipt"];
    assert_eq!(d["trustAnchor"]["mode"], "local");
    assert_eq!(d["bundleFormat"], "directory");
    assert!(d["bundleDigest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(
        d["images"][0]["signatures"][0]["validations"]["integrity"]["result"],
        "pass"
    );
    // Unsigned: no FILE.sig.
    assert!(!sig_of(&out).exists());
}

#[test]
fn the_same_verification_writes_the_same_statement_bytes() {
    let x = site();
    let tar = x.dir().join("bundle.tar.zst");
    airlock::layout::write_layout_tar(&x.layout, &tar, airlock::archive::Compression::Zstd)
        .unwrap();
    let a = x.dir().join("a.json");
    let b = x.dir().join("b.json");
    assert_eq!(x.verify(&tar, &a, true, &[]).code, 0);
    assert_eq!(x.verify(&tar, &b, true, &[]).code, 0);
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    // Both signatures verify (ECDSA signatures differ run to run; the statement does not).
    fs::copy(sig_of(&a), sig_of(&b)).unwrap();
    assert_eq!(x.check(&b, &x.policy, &x.store, &[]).code, 0);
    // Nothing but the two statements and signatures was written beside them.
    let left: Vec<String> = fs::read_dir(x.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".json"))
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["a.json", "a.json.sig", "b.json", "b.json.sig"]);
}

#[test]
fn receipt_key_without_receipt_is_a_usage_error() {
    let x = site();
    let r = run_in(
        x.dir(),
        &[
            "verify",
            s(&x.layout),
            "--integrity-only",
            "--receipt-key",
            s(&x.receipt_signer.key),
            "--receipt-cert",
            s(&x.receipt_signer.chain),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    // A wrong key fails before verification, and writes nothing.
    let out = x.dir().join("r.json");
    let r = run_in(
        x.dir(),
        &[
            "verify",
            s(&x.layout),
            "--integrity-only",
            "--receipt",
            s(&out),
            "--receipt-key",
            s(&x.receipt_signer.chain),
            "--receipt-cert",
            s(&x.receipt_signer.chain),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!out.exists());
}
