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
    /// The image signer's chain (certificates differ from one `chain` call to the next).
    image: Chain,
    /// The receipt signer's chain.
    receipts: Chain,
}

/// A trust store with one CA folder per statement, and a policy of strict statements, each
/// `(name, scope, root, leaf CN)` trusting its own folder `ca:NAME` and that leaf's identity.
fn policy_of(base: &Path, statements: &[(&str, &str, &[u8], &str)]) -> (PathBuf, PathBuf) {
    let store = base.join("truststore");
    let mut list = Vec::new();
    for (name, scope, root, cn) in statements {
        let ca = store.join("x509/ca").join(name);
        fs::create_dir_all(&ca).unwrap();
        fs::write(ca.join("root.crt"), certs_pem(&[root.to_vec()])).unwrap();
        list.push(serde_json::json!({
            "name": name,
            "registryScopes": [scope],
            "signatureVerification": {"level": "strict"},
            "trustStores": [format!("ca:{name}")],
            "trustedIdentities": [identity(cn)],
        }));
    }
    let policy = base.join("trustpolicy.json");
    let doc = serde_json::json!({"version": "1.0", "trustPolicies": list});
    fs::write(&policy, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    (policy, store)
}

/// The site's policy: the images' scope and `airlock/receipt`.
fn write_policy(
    base: &Path,
    image: &Chain,
    receipt_root: &[u8],
    receipt_cn: &str,
) -> (PathBuf, PathBuf) {
    policy_of(
        base,
        &[
            ("images", SCOPE, image.root(), &image.leaf_cn),
            ("receipts", "airlock/receipt", receipt_root, receipt_cn),
        ],
    )
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
        image,
        receipts,
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
        self.receipt_verify(&[s(file)], policy, store, extra)
    }

    /// `receipt verify WHAT... --trust-policy --trust-store --at AT --format json EXTRA...`
    fn receipt_verify(&self, what: &[&str], policy: &Path, store: &Path, extra: &[&str]) -> Run {
        let mut args = vec!["receipt", "verify"];
        args.extend_from_slice(what);
        args.extend([
            "--trust-policy",
            s(policy),
            "--trust-store",
            s(store),
            "--at",
            AT,
            "--format",
            "json",
        ]);
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
        let (policy, store) = write_policy(
            &x.dir().join(format!("other-{envelope}")),
            &x.image,
            other.root(),
            &other.leaf_cn,
        );
        let r = x.check(&out, &policy, &store, &[]);
        assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
        assert_eq!(r.codes(), ["untrusted_signer"], "{}", r.stdout);
    }
}

/// A statement that only logs authenticity (`audit`, or `strict` with an override) would let a
/// receipt signed by anyone pass: it is refused as `skip` is, whoever signed.
#[test]
fn a_statement_that_only_logs_authenticity_authenticates_no_receipt() {
    let x = site();
    let out = x.dir().join("receipt.json");
    let r = x.verify(&x.layout, &out, true, &[]);
    assert_eq!(r.code, 0, "verify: {}\n{}", r.stdout, r.stderr);
    let other = chain(Alg::P256, &[], Alg::P256, 540);
    let cases: [(&str, &[u8], &str, serde_json::Value); 4] = [
        (
            "audit-untrusted",
            other.root(),
            &other.leaf_cn,
            serde_json::json!({"level": "audit"}),
        ),
        (
            "audit-trusted",
            x.receipts.root(),
            &x.receipts.leaf_cn,
            serde_json::json!({"level": "audit"}),
        ),
        (
            "override-untrusted",
            other.root(),
            &other.leaf_cn,
            serde_json::json!({"level": "strict", "override": {"authenticity": "log"}}),
        ),
        (
            "permissive-trusted",
            x.receipts.root(),
            &x.receipts.leaf_cn,
            serde_json::json!({"level": "permissive"}),
        ),
    ];
    for (name, root, cn, verification) in cases {
        let (policy, store) = write_policy(&x.dir().join(name), &x.image, root, cn);
        let mut doc = read_json(&policy);
        for st in doc["trustPolicies"].as_array_mut().unwrap() {
            if st["name"] == "receipts" {
                st["signatureVerification"] = verification.clone();
            }
        }
        write_json(&policy, &doc);
        let r = x.check(&out, &policy, &store, &["--subject", &x.image_digest]);
        if name == "permissive-trusted" {
            // permissive enforces authenticity: the site's own verifier is authenticated.
            assert_eq!(r.code, 0, "{name}: {}\n{}", r.stdout, r.stderr);
            continue;
        }
        assert_eq!(r.code, 1, "{name}: {}\n{}", r.stdout, r.stderr);
        assert!(
            r.codes().contains(&"authenticity_not_enforced".to_string()),
            "{name}: {}",
            r.stdout
        );
    }
}

/// A gate can require the levels a receipt claims: an authentic PASSED receipt of an
/// integrity-only verification does not pass a gate that requires verified signatures.
#[test]
fn receipt_verify_shows_the_levels_and_can_require_them() {
    let x = site();
    let signed = x.dir().join("signed.json");
    let r = x.verify(&x.layout, &signed, true, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plain = x.dir().join("plain.json");
    let r = run_in(
        x.dir(),
        &[
            "verify",
            s(&x.layout),
            "--integrity-only",
            "--at",
            AT,
            "--receipt",
            s(&plain),
            "--receipt-key",
            s(&x.receipt_signer.key),
            "--receipt-cert",
            s(&x.receipt_signer.chain),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let gate = [
        "--require-level",
        "AIRLOCK_INTEGRITY_VERIFIED",
        "--require-level",
        "AIRLOCK_NOTARY_SIGNATURES_VERIFIED",
    ];
    let r = x.check(&signed, &x.policy, &x.store, &gate);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = x.check(&plain, &x.policy, &x.store, &gate);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.codes(), ["level_not_verified"], "{}", r.stdout);
    // Without the gate the integrity-only receipt passes, and says what it claims.
    let mut c = bin();
    c.current_dir(x.dir()).args([
        "receipt",
        "verify",
        s(&plain),
        "--trust-policy",
        s(&x.policy),
        "--trust-store",
        s(&x.store),
        "--at",
        AT,
    ]);
    let r = run_within_a_minute(c, "receipt verify");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("levels AIRLOCK_INTEGRITY_VERIFIED\n"),
        "{}",
        r.stderr
    );
    // It names the bundle by its identity, and `--bundle-digest` requires that one (red team J,
    // J6: only the path was shown, shared by every transfer to the same place).
    let bundle = read_json(&plain)["predicate"]["io.airlock.receipt"]["bundleDigest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        r.stderr.contains(&format!("bundle {bundle}")),
        "{}",
        r.stderr
    );
    let r = x.check(&plain, &x.policy, &x.store, &["--bundle-digest", &bundle]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let other = format!("sha256:{}", "0".repeat(64));
    let r = x.check(&plain, &x.policy, &x.store, &["--bundle-digest", &other]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.codes(), ["bundle_not_matched"], "{}", r.stdout);
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

// --- Attached in a registry ----------------------------------------------------------------

use crate::registry_util::*;
use airlock::registry::{Reference, Registry};

/// The artifact types the referrers tag index of `image` in `repo` lists.
fn referrer_types(reg: &Registry, repo: &str, image: &str) -> Vec<String> {
    let hex = image.trim_start_matches("sha256:");
    let (_, tag_index) = reg
        .resolve(&Registry::parse(&format!("{repo}:sha256-{hex}")).unwrap())
        .unwrap();
    let listed: Value = serde_json::from_slice(&tag_index).unwrap();
    listed["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["artifactType"].as_str().map(str::to_owned))
        .collect()
}

/// At `host`, in the repository of `target` (`REPO:TAG`): a client, and the check that the
/// referrers tag of `image` lists a receipt and the image's notation signature. Returns (client,
/// its config folder, repository).
fn receipt_listed_at(
    host: &str,
    target: &str,
    image: &str,
) -> (Registry, tempfile::TempDir, String) {
    let repo = target.rsplit_once(':').unwrap().0.to_owned();
    let (reg, cfg) = client_for(host, None, std::time::Duration::from_secs(10), 1);
    let types = referrer_types(&reg, &repo, image);
    for t in [
        "application/vnd.in-toto+json",
        "application/vnd.cncf.notary.signature",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} not listed: {types:?}");
    }
    (reg, cfg, repo)
}

/// Pulls the receipt attached to `image` in `repo` as `oras discover` / notation would find it
/// (referrers of the image with the in-toto artifact type, then the Notary signature referring to
/// that receipt) into `dir`: (statement, receipt manifest, envelope).
fn pull_receipt(
    reg: &Registry,
    repo: &str,
    image: &str,
    dir: &Path,
) -> (PathBuf, PathBuf, PathBuf) {
    let r: Reference = Registry::parse(repo).unwrap();
    let image = airlock::digest::Digest::parse(image).unwrap();
    let found = reg
        .referrers(&r, &image, Some("application/vnd.in-toto+json"))
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    let receipt = airlock::digest::Digest::parse(&found[0].digest).unwrap();
    let (mt, manifest) = reg.manifest(&r, &receipt).unwrap();
    assert_eq!(mt, "application/vnd.oci.image.manifest.v1+json");
    let m: Value = serde_json::from_slice(&manifest).unwrap();
    let layer: airlock::layout::model::Descriptor =
        serde_json::from_value(m["layers"][0].clone()).unwrap();
    let mut statement = Vec::new();
    reg.blob_to(&r, &layer, &mut statement).unwrap();
    let sigs = reg
        .referrers(&r, &receipt, Some("application/vnd.cncf.notary.signature"))
        .unwrap();
    assert_eq!(sigs.len(), 1, "{sigs:?}");
    let sig_digest = airlock::digest::Digest::parse(&sigs[0].digest).unwrap();
    let (_, sig_manifest) = reg.manifest(&r, &sig_digest).unwrap();
    let sm: Value = serde_json::from_slice(&sig_manifest).unwrap();
    assert_eq!(sm["subject"]["digest"], receipt.to_string());
    let env_desc: airlock::layout::model::Descriptor =
        serde_json::from_value(sm["layers"][0].clone()).unwrap();
    let mut envelope = Vec::new();
    reg.blob_to(&r, &env_desc, &mut envelope).unwrap();
    let paths = (
        dir.join("pulled.intoto.json"),
        dir.join("pulled.manifest.json"),
        dir.join("pulled.sig"),
    );
    fs::write(&paths.0, statement).unwrap();
    fs::write(&paths.1, manifest).unwrap();
    fs::write(&paths.2, envelope).unwrap();
    paths
}

#[test]
fn a_receipt_pushed_beside_its_image_is_found_by_the_referrers_tag_and_verifies() {
    let x = site();
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    registry.push_layout(&x.layout, REF, "apps/sample", "1.0", None);
    let repo = format!("{}/apps/sample", registry.host());
    let out = x.dir().join("receipt.json");
    assert_eq!(x.verify(&x.layout, &out, false, &[]).code, 0);
    let statement = fs::read(&out).unwrap();
    let image_bytes = fs::read(blob(&x.layout, &x.image_digest)).unwrap();
    let subject = airlock::notary::sign::TargetDescriptor {
        media_type: "application/vnd.oci.image.index.v1+json".into(),
        digest: airlock::digest::Digest::parse(&x.image_digest).unwrap(),
        size: image_bytes.len() as u64,
    };
    let material = airlock::receipt::SigningMaterial {
        key: airlock::notary::sign::read_private_key_pem(&fs::read(&x.receipt_signer.key).unwrap())
            .unwrap(),
        chain: airlock::notary::sign::read_certificate_chain_pem(
            &fs::read(&x.receipt_signer.chain).unwrap(),
        )
        .unwrap(),
        format: airlock::notary::envelope::EnvelopeFormat::Jws,
    };
    let at = AT.parse::<jiff::Timestamp>().unwrap().as_second();
    let a =
        airlock::receipt::oci::artifacts(statement.clone(), &subject, &material, at, AT).unwrap();
    let (reg, _cfg) = client_for(
        &registry.host(),
        None,
        std::time::Duration::from_secs(10),
        1,
    );
    let pushed = airlock::receipt::push::push(&reg, &repo, &subject, &a, true).unwrap();
    let hex = x.image_digest.trim_start_matches("sha256:");
    assert_eq!(pushed.tags[0], format!("{repo}:sha256-{hex}"));
    // A second push adds nothing to the tag index.
    airlock::receipt::push::push(&reg, &repo, &subject, &a, true).unwrap();

    let (st, manifest, sig) = pull_receipt(&reg, &repo, &x.image_digest, x.dir());
    assert_eq!(fs::read(&st).unwrap(), statement);
    let r = x.check(
        &st,
        &x.policy,
        &x.store,
        &[
            "--manifest",
            s(&manifest),
            "--signature",
            s(&sig),
            "--subject",
            &x.image_digest,
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.json()["manifest"]["subject"], x.image_digest.as_str());
    // The envelope signs the manifest: checked against the statement alone, it does not match.
    let r = x.check(&st, &x.policy, &x.store, &["--signature", s(&sig)]);
    assert_eq!(r.codes(), ["payload_mismatch"], "{}", r.stdout);

    // Straight from the registry, by tag: the receipts attached to the image.
    let by_image = |policy: &Path, store: &Path, image: &str| x.attached(image, policy, store);
    let r = by_image(&x.policy, &x.store, &format!("{repo}:1.0"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["digest"], x.image_digest.as_str());
    assert_eq!(j["receipts"].as_array().unwrap().len(), 1);
    assert_eq!(j["receipts"][0]["verdict"], "pass");
    assert_eq!(
        j["receipts"][0]["reference"],
        format!("{repo}@{}", pushed.receipt)
    );
    // Another site's trust store: the attached receipt is not authentic for it.
    let other = chain(Alg::P256, &[], Alg::P256, 540);
    let (policy, store) = write_policy(
        &x.dir().join("other"),
        &x.image,
        other.root(),
        &other.leaf_cn,
    );
    let r = by_image(&policy, &store, &format!("{repo}:1.0"));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        r.json()["receipts"][0]["failures"][0]["code"],
        "untrusted_signer"
    );
    // The receipt manifest itself has no receipt attached.
    let r = by_image(&x.policy, &x.store, &format!("{repo}@{}", pushed.receipt));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.json()["receipts"].as_array().unwrap().len(), 0);
}

// --- The export signature (item 1), verified on the far side ------------------------------

/// A policy with the images' statement, and one for `airlock/export` trusting `export_root`
/// (or none).
fn export_policy(base: &Path, image: &Chain, export: Option<(&[u8], &str)>) -> (PathBuf, PathBuf) {
    let mut statements = vec![("images", SCOPE, image.root(), image.leaf_cn.as_str())];
    if let Some((root, cn)) = export {
        statements.push(("exporters", "airlock/export", root, cn));
    }
    policy_of(base, &statements)
}

#[test]
fn an_export_signature_on_the_trust_artifact_is_reported_as_exported_by() {
    let x = site();
    let bundle = x.dir().join("bundle");
    let r = run_pinned(
        x.dir(),
        &[
            "export",
            &format!("oci:{}", s(&x.layout)),
            "-o",
            s(&bundle),
            "--trust-policy",
            s(&x.policy),
            "--trust-store",
            s(&x.store),
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 0, "export: {}", r.stderr);
    // The exporter's signature over the trust artifact, stored as airlock sign stores one.
    let exporter = chain(Alg::P256, &[], Alg::P256, 550);
    let index = read_json(&bundle.join("index.json"));
    let ta = trust_artifact_entry(&index);
    let target = airlock::notary::sign::TargetDescriptor {
        media_type: ta["mediaType"].as_str().unwrap().to_owned(),
        digest: airlock::digest::Digest::parse(ta["digest"].as_str().unwrap()).unwrap(),
        size: ta["size"].as_u64().unwrap(),
    };
    let signer = airlock::sign::Signer {
        key: airlock::notary::sign::read_private_key_pem(exporter.key_pem.as_bytes()).unwrap(),
        chain: exporter.certs.clone(),
        format: airlock::notary::envelope::EnvelopeFormat::Jws,
    };
    let signed_at = SIGNED.parse::<jiff::Timestamp>().unwrap().as_second();
    let (envelope, _) = airlock::sign::sign_descriptor(&target, &signer, signed_at).unwrap();
    airlock::sign::attach(
        &bundle,
        &target,
        &airlock::sign::Signature {
            envelope: &envelope,
            format: signer.format,
            chain: &signer.chain,
            signing_time: signed_at,
        },
    )
    .unwrap();
    let image = &x.image;
    let verify = |policy: &Path, store: &Path, out: &Path| {
        run_in(
            x.dir(),
            &[
                "verify",
                s(&bundle),
                "--trust-policy",
                s(policy),
                "--trust-store",
                s(store),
                "--at",
                AT,
                "--format",
                "json",
                "--no-progress",
                "--receipt",
                s(out),
            ],
        )
    };

    // A statement for airlock/export trusting the exporter: exportedBy passes, and the receipt
    // carries it.
    let (policy, store) = export_policy(
        &x.dir().join("p1"),
        image,
        Some((exporter.root(), &exporter.leaf_cn)),
    );
    let out = x.dir().join("r1.json");
    let r = verify(&policy, &store, &out);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    let e = &j["exportedBy"];
    assert_eq!(e["verdict"], "pass", "{e}");
    assert_eq!(e["artifact"], ta["digest"]);
    assert_eq!(e["scope"], "airlock/export");
    assert_eq!(e["policy"]["name"], "exporters");
    let sig = &e["signatures"][0];
    assert!(
        sig["signer"]["subject"]
            .as_str()
            .unwrap()
            .contains("signer 550"),
        "{sig}"
    );
    assert_eq!(sig["signingTime"], SIGNED);
    assert_eq!(sig["chainFingerprints"].as_array().unwrap().len(), 2);
    assert_eq!(
        read_json(&out)["predicate"]["io.airlock.receipt"]["exportedBy"]["verdict"],
        "pass"
    );

    // No statement covers airlock/export: not evaluated, a warning.
    let (policy, store) = export_policy(&x.dir().join("p2"), image, None);
    let r = verify(&policy, &store, &x.dir().join("r2.json"));
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    assert!(j["exportedBy"]["policy"].is_null());
    assert_eq!(
        codes_of(&j, "warnings"),
        ["no_applicable_policy"],
        "{}",
        r.stdout
    );

    // A statement trusting another exporter: the signature by an untrusted key is a failure.
    let other = chain(Alg::P256, &[], Alg::P256, 560);
    let (policy, store) = export_policy(
        &x.dir().join("p3"),
        image,
        Some((other.root(), &other.leaf_cn)),
    );
    let out = x.dir().join("r3.json");
    let r = verify(&policy, &store, &out);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(r.codes(), ["untrusted_signer"], "{}", r.stdout);
    assert_eq!(r.json()["exportedBy"]["verdict"], "fail");
    assert_eq!(read_json(&out)["predicate"]["verificationResult"], "FAILED");
}

// --- import --receipt-key: a signed receipt attached to every image admitted --------------

impl Site {
    /// `receipt verify --image IMAGE` with `policy` and `store`, as JSON: the receipts attached to
    /// the image in its registry.
    fn attached(&self, image: &str, policy: &Path, store: &Path) -> Run {
        self.receipt_verify(&["--image", image], policy, store, &[])
    }

    /// `import BUNDLE --to HOST/site --trust-policy --trust-store --at AT --receipt-key --receipt-cert
    /// --format json EXTRA...`
    fn import(&self, bundle: &Path, to: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "import",
            s(bundle),
            "--to",
            to,
            "--trust-policy",
            s(&self.policy),
            "--trust-store",
            s(&self.store),
            "--at",
            AT,
            "--receipt-key",
            s(&self.receipt_signer.key),
            "--receipt-cert",
            s(&self.receipt_signer.chain),
            "--format",
            "json",
            "--no-progress",
        ];
        args.extend_from_slice(extra);
        run_in(self.dir(), &args)
    }
}

#[test]
fn import_attaches_a_signed_receipt_to_each_image_it_admits() {
    let x = site();
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let to = format!("{}/site", registry.host());
    let local = x.dir().join("import-receipt.json");
    let r = x.import(&x.layout, &to, &["--receipt", s(&local)]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let target = r.json()["images"][0]["target"].as_str().unwrap().to_owned();
    assert!(r.stderr.contains("receipt "), "{}", r.stderr);
    // The local copy was written too, signed over the statement.
    assert_eq!(
        read_json(&local)["predicate"]["verificationResult"],
        "PASSED"
    );
    assert_eq!(x.check(&local, &x.policy, &x.store, &[]).code, 0);

    // Found by the referrers tag (the test registry has no Referrers API) and verified.
    let (reg, _cfg, repo) = receipt_listed_at(&registry.host(), &target, &x.image_digest);
    let (st, manifest, sig) = pull_receipt(&reg, &repo, &x.image_digest, x.dir());
    let stmt = read_json(&st);
    assert_eq!(stmt["subject"].as_array().unwrap().len(), 1);
    let r = x.check(
        &st,
        &x.policy,
        &x.store,
        &["--manifest", s(&manifest), "--signature", s(&sig)],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let r = x.attached(&target, &x.policy, &x.store);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A second import attaches nothing new to the tag index (same statement, same receipt).
    let again = x.import(&x.layout, &to, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);

    // Exported again from this registry (as a connected side would), the receipt and its Notary
    // signature travel like any referrer, and verify reports the receipt as carried, integrity
    // checked, not signature-verified.
    let out = x.dir().join("re-export");
    let r = run_in(
        x.dir(),
        &[
            "export",
            &target,
            "-o",
            s(&out),
            "--plain-http",
            &registry.host(),
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let index = read_json(&out.join("index.json"));
    let carried: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["artifactType"].as_str().map(str::to_owned))
        .collect();
    assert!(
        carried.iter().any(|t| t == "application/vnd.in-toto+json"),
        "{carried:?}"
    );
    assert!(
        carried
            .iter()
            .filter(|t| *t == "application/vnd.cncf.notary.signature")
            .count()
            >= 2,
        "the image's signature and the receipt's: {carried:?}"
    );
    let r = run_in(
        x.dir(),
        &["verify", s(&out), "--integrity-only", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_failed_import_pushes_nothing_but_writes_the_failed_receipt() {
    let x = site();
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
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
    let to = format!("{}/site", registry.host());
    let local = x.dir().join("failed.json");
    let r = x.import(&x.layout, &to, &["--receipt", s(&local)]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        read_json(&local)["predicate"]["verificationResult"],
        "FAILED"
    );
    assert!(sig_of(&local).is_file());
    let (reg, _cfg) = client_for(
        &registry.host(),
        None,
        std::time::Duration::from_secs(10),
        1,
    );
    let tag = Registry::parse(&format!("{to}/airlock/sample:1.0")).unwrap();
    assert!(
        reg.resolve(&tag).is_err(),
        "a failed import pushed the image"
    );
}

#[test]
fn export_sign_key_signs_the_trust_artifact_and_verify_reports_the_exporter() {
    let x = site();
    let exporter = chain(Alg::P384, &[Alg::P256], Alg::P256, 570);
    let files = write_signer(x.dir(), "exporter", &exporter.key_pem, &exporter.certs);
    let bundle = x.dir().join("signed-bundle.tar.zst");
    let r = run_pinned(
        x.dir(),
        &[
            "export",
            &format!("oci:{}", s(&x.layout)),
            "-o",
            s(&bundle),
            "--trust-policy",
            s(&x.policy),
            "--trust-store",
            s(&x.store),
            "--sign-key",
            s(&files.key),
            "--sign-cert",
            s(&files.chain),
            "--sign-envelope",
            "cose",
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 0, "export: {}", r.stderr);
    let (policy, store) = export_policy(
        &x.dir().join("p"),
        &x.image,
        Some((exporter.root(), &exporter.leaf_cn)),
    );
    let r = run_in(
        x.dir(),
        &[
            "verify",
            s(&bundle),
            "--trust-policy",
            s(&policy),
            "--trust-store",
            s(&store),
            "--at",
            AT,
            "--format",
            "json",
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let e = &r.json()["exportedBy"];
    assert_eq!(e["verdict"], "pass", "{e}");
    assert_eq!(e["signatures"][0]["envelopeType"], "cose");
    assert!(e["signatures"][0]["signer"]["subject"]
        .as_str()
        .unwrap()
        .contains("signer 570"));
    // The signing time is the export time (SOURCE_DATE_EPOCH).
    let epoch: i64 = EPOCH.parse().unwrap();
    assert_eq!(
        e["signatures"][0]["signingTime"],
        jiff::Timestamp::from_second(epoch).unwrap().to_string()
    );
    // A key that is not the chain's leaf: refused, nothing written.
    let other = chain(Alg::P256, &[], Alg::P256, 580);
    let bad = write_signer(x.dir(), "bad", &other.key_pem, &exporter.certs);
    let out = x.dir().join("refused.tar");
    let r = run_pinned(
        x.dir(),
        &[
            "export",
            &format!("oci:{}", s(&x.layout)),
            "-o",
            s(&out),
            "--sign-key",
            s(&bad.key),
            "--sign-cert",
            s(&bad.chain),
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!out.exists());
}

/// The image layers of a layout (blobs of the fixture's layer size), with their sizes.
fn layers_of(layout: &Path, size: u64) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.metadata().unwrap().len() == size)
        .map(|e| (format!("sha256:{}", e.file_name().to_string_lossy()), size))
        .collect();
    out.sort();
    out
}

/// Under the operator's own trust material, a differential bundle's left-out list stands only
/// when an export signature the policy authenticates signs the very record that lists it; a
/// carrier who deletes layers and lists them in an artifact of its own, beside a genuinely
/// signed one, gets `blob_missing`, as does a signature only logged at `audit`.
#[test]
fn under_local_trust_only_an_authenticated_export_record_excuses_left_out_layers() {
    let x = site();
    let exporter = chain(Alg::P384, &[Alg::P256], Alg::P256, 590);
    let files = write_signer(x.dir(), "exporter", &exporter.key_pem, &exporter.certs);
    let layers = layers_of(&x.layout, 4096);
    assert!(layers.len() >= 2, "{layers:?}");
    let inv = serde_json::json!({
        "schemaVersion": 1, "tool": {"name": "airlock", "version": "test"}, "createdAt": AT,
        "sources": [],
        "blobs": layers.iter().map(|(d, n)| serde_json::json!({"digest": d, "size": n})).collect::<Vec<_>>()
    });
    write_json(&x.dir().join("inv.json"), &inv);
    let export = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "export".to_owned(),
            format!("oci:{}", s(&x.layout)),
            "-o".into(),
            s(out).into(),
            "--trust-policy".into(),
            s(&x.policy).into(),
            "--trust-store".into(),
            s(&x.store).into(),
            "--sign-key".into(),
            s(&files.key).into(),
            "--sign-cert".into(),
            s(&files.chain).into(),
            "--no-progress".into(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run_pinned(x.dir(), &refs);
        assert_eq!(r.code, 0, "export: {}", r.stderr);
    };
    let (signed, signed_store) = export_policy(
        &x.dir().join("signed"),
        &x.image,
        Some((exporter.root(), &exporter.leaf_cn)),
    );
    let verify = |bundle: &Path, policy: &Path, store: &Path| {
        run_in(
            x.dir(),
            &[
                "verify",
                s(bundle),
                "--trust-policy",
                s(policy),
                "--trust-store",
                s(store),
                "--at",
                AT,
                "--format",
                "json",
                "--no-progress",
            ],
        )
    };
    // A signed differential export: the signed record's list stands.
    let diff = x.dir().join("diff");
    export(&diff, &["--since", s(&x.dir().join("inv.json"))]);
    let r = verify(&diff, &signed, &signed_store);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["leftOut"]["blobs"], layers.len(), "{j}");
    assert_eq!(j["leftOut"]["authenticated"], true, "{j}");
    assert_eq!(
        codes_of(&j, "warnings")
            .iter()
            .filter(|c| *c == "blob_external")
            .count(),
        layers.len()
    );
    // The same bundle under a policy that does not authenticate exporters: nothing vouches.
    let r = verify(&diff, &x.policy, &x.store);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.json()["leftOut"]["authenticated"], false);
    for (d, _) in &layers {
        assert!(
            has_finding(&r.json(), "failures", "blob_missing", d),
            "{}",
            r.stdout
        );
    }
    // An exporter statement at `audit` trusting another CA: the signature is only logged.
    let other = chain(Alg::P256, &[], Alg::P256, 600);
    let (audit, audit_store) = export_policy(
        &x.dir().join("audit"),
        &x.image,
        Some((other.root(), &other.leaf_cn)),
    );
    let mut doc = read_json(&audit);
    for st in doc["trustPolicies"].as_array_mut().unwrap() {
        if st["name"] == "exporters" {
            st["signatureVerification"] = serde_json::json!({"level": "audit"});
        }
    }
    write_json(&audit, &doc);
    let r = verify(&diff, &audit, &audit_store);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.codes().contains(&"blob_missing".to_string()),
        "{}",
        r.stdout
    );
    // A full, signed export; the carrier deletes the layers and lists them as left out in an
    // artifact of its own, listed first. The genuine export signature still passes, on a record
    // that left nothing out: the layers are missing.
    let full = x.dir().join("full");
    export(&full, &[]);
    let refs: Vec<(&str, u64)> = layers.iter().map(|(d, n)| (d.as_str(), *n)).collect();
    let planted = plant_left_out_record(&full, &refs);
    let r = verify(&full, &signed, &signed_store);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let j = r.json();
    assert_eq!(j["exportedBy"]["verdict"], "pass", "{j}");
    assert_eq!(j["leftOut"]["record"], planted.as_str());
    assert_eq!(j["leftOut"]["authenticated"], false);
    for (d, _) in &layers {
        assert!(has_finding(&j, "failures", "blob_missing", d), "{j}");
    }
}

/// The site's full policy: images under any name (`*`: the round trip renames them by registry),
/// exports by `exporter`, receipts by the site's receipt signer.
fn round_trip_policy(
    base: &Path,
    image: &Chain,
    exporter: &Chain,
    receipts: (&[u8], &str),
) -> (PathBuf, PathBuf) {
    policy_of(
        base,
        &[
            ("images", "*", image.root(), &image.leaf_cn),
            (
                "exporters",
                "airlock/export",
                exporter.root(),
                &exporter.leaf_cn,
            ),
            ("receipts", "airlock/receipt", receipts.0, receipts.1),
        ],
    )
}

/// The whole chain of custody across two real registries: the signed image at A (the connected
/// side), a signed export from A, the carried tarball verified and imported at B with a receipt
/// key; at B the receipt and its signature are found by the referrers tag, `receipt verify` says
/// who exported and who verified, passes with the site's store and fails with another.
#[test]
fn signed_export_at_a_then_import_at_b_leaves_a_receipt_an_auditor_can_check() {
    let x = site();
    let (Some(a), Some(b)) = (TestRegistry::start(None), TestRegistry::start(None)) else {
        return;
    };
    // A holds the signed image, its signature beside it (pushed by airlock import).
    let r = run_in(
        x.dir(),
        &[
            "import",
            s(&x.layout),
            "--to",
            &format!("{}/up", a.host()),
            "--integrity-only",
            "--format",
            "json",
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let at_a = r.json()["images"][0]["target"].as_str().unwrap().to_owned();
    let exporter = chain(Alg::P384, &[Alg::P256], Alg::P256, 590);
    let export_signer = write_signer(x.dir(), "exporter", &exporter.key_pem, &exporter.certs);
    let (policy, store) = round_trip_policy(
        &x.dir().join("site-full"),
        &x.image,
        &exporter,
        (x.receipts.root(), &x.receipts.leaf_cn),
    );
    // The connected side: export from A, signed, with the site's policy carried.
    let bundle = x.dir().join("carried.tar.zst");
    let r = run_pinned(
        x.dir(),
        &[
            "export",
            &at_a,
            "-o",
            s(&bundle),
            "--trust-policy",
            s(&policy),
            "--trust-store",
            s(&store),
            "--sign-key",
            s(&export_signer.key),
            "--sign-cert",
            s(&export_signer.chain),
            "--require-signature",
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 0, "export: {}", r.stderr);
    // The disconnected side: import at B with the local trust material and the receipt key.
    let local = x.dir().join("b-receipt.json");
    let r = run_in(
        x.dir(),
        &[
            "import",
            s(&bundle),
            "--to",
            &format!("{}/site", b.host()),
            "--trust-policy",
            s(&policy),
            "--trust-store",
            s(&store),
            "--at",
            AT,
            "--receipt-key",
            s(&x.receipt_signer.key),
            "--receipt-cert",
            s(&x.receipt_signer.chain),
            "--receipt",
            s(&local),
            "--format",
            "json",
            "--no-progress",
        ],
    );
    assert_eq!(r.code, 0, "import at B: {}\n{}", r.stdout, r.stderr);
    let at_b = r.json()["images"][0]["target"].as_str().unwrap().to_owned();
    assert!(at_b.starts_with(&b.host()), "{at_b}");
    let statement = read_json(&local);
    let p = &statement["predicate"];
    assert_eq!(p["verificationResult"], "PASSED");
    assert_eq!(p["policy"]["name"], "images");
    let by = &p["io.airlock.receipt"]["exportedBy"];
    assert_eq!(by["verdict"], "pass", "{by}");
    assert!(by["signatures"][0]["signer"]["subject"]
        .as_str()
        .unwrap()
        .contains("signer 590"));
    assert_eq!(
        statement["subject"][0]["digest"]["sha256"]
            .as_str()
            .unwrap(),
        x.image_digest.trim_start_matches("sha256:")
    );

    // At B, by the referrers tag: the image's signature, the receipt and the receipt's signature.
    let _listed = receipt_listed_at(&b.host(), &at_b, &x.image_digest);

    // The auditor, later and offline from A: the receipt at B checks with the site's store...
    let audit = |policy: &Path, store: &Path| x.attached(&at_b, policy, store);
    let r = audit(&policy, &store);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("signer 590"),
        "the exporter is named: {}",
        r.stdout
    );
    // ... and not with a store holding another receipt root.
    let other = chain(Alg::P256, &[], Alg::P256, 599);
    let (other_policy, other_store) = round_trip_policy(
        &x.dir().join("other"),
        &x.image,
        &exporter,
        (other.root(), &other.leaf_cn),
    );
    let r = audit(&other_policy, &other_store);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
}

#[test]
fn a_receipt_claims_signatures_only_when_authenticity_was_enforced() {
    // A strict statement whose `override` logs authenticity, trusting another CA than the one that
    // signed: verification passes (the untrusted signer is only logged), and the receipt must not
    // say the signatures were verified. Logged but authentic: no claim either.
    let x = site();
    let levels_under = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut doc = read_json(&x.policy);
        let images = doc["trustPolicies"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["name"] == "images")
            .unwrap();
        images["signatureVerification"]["override"] = serde_json::json!({"authenticity": "log"});
        edit(images);
        let policy = x.dir().join(format!("{name}.json"));
        write_json(&policy, &doc);
        let out = x.dir().join(format!("{name}-receipt.json"));
        let r = run_in(
            x.dir(),
            &[
                "verify",
                s(&x.layout),
                "--trust-policy",
                s(&policy),
                "--trust-store",
                s(&x.store),
                "--at",
                AT,
                "--format",
                "json",
                "--receipt",
                s(&out),
            ],
        );
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let v: Value = read_json(&out);
        assert_eq!(v["predicate"]["verificationResult"], "PASSED", "{name}");
        v["predicate"]["verifiedLevels"].clone()
    };
    let integrity = serde_json::json!(["AIRLOCK_INTEGRITY_VERIFIED"]);
    let untrusted = levels_under("untrusted", &|st| {
        st["trustStores"] = serde_json::json!(["ca:receipts"]);
        st["trustedIdentities"] = serde_json::json!(["*"]);
    });
    assert_eq!(untrusted, integrity, "an untrusted signer, logged");
    let logged = levels_under("logged", &|_| {});
    assert_eq!(
        logged, integrity,
        "a trusted signer, authenticity only logged"
    );
}

/// Under local trust, import publishes the referrers a bundle carries: a carrier adds 70 in-toto
/// attestations beside the image (receipts' own artifact type). The site's receipt, attached after
/// them, is still found and checked by `receipt verify --image` (red team F, F7: a cap of 64 on
/// all in-toto referrers refused to read any).
#[test]
fn a_carriers_attestations_cannot_hide_the_sites_receipt() {
    let x = site();
    let Some(registry) = TestRegistry::start(None) else {
        return;
    };
    let index_path = x.layout.join("index.json");
    let mut index = read_json(&index_path);
    let image = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["digest"] == x.image_digest.as_str())
        .unwrap()
        .clone();
    let put = |bytes: &[u8]| -> (String, usize) {
        let d = airlock::digest::Digest::sha256(bytes).to_string();
        fs::write(blob(&x.layout, &d), bytes).unwrap();
        (d, bytes.len())
    };
    let (cd, cs) = put(b"{}");
    for n in 0..70 {
        let (ld, ls) = put(format!(r#"{{"junk":{n}}}"#).as_bytes());
        let doc = serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.in-toto+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": cd, "size": cs},
            "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": ld, "size": ls}],
            "subject": {"mediaType": image["mediaType"], "digest": image["digest"], "size": image["size"]},
        });
        let (d, size) = put(&serde_json::to_vec(&doc).unwrap());
        index["manifests"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": "application/vnd.in-toto+json", "digest": d, "size": size,
            }));
    }
    write_json(&index_path, &index);
    let to = format!("{}/site", registry.host());
    let r = x.import(&x.layout, &to, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let target = r.json()["images"][0]["target"].as_str().unwrap().to_owned();
    let r = x.attached(&target, &x.policy, &x.store);
    assert_eq!(r.code, 0, "{}", r.stderr);
}
