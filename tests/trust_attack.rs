//! The attacker's kit (DESIGN.md section 4): a carrier who holds the bundle between `export` and
//! `verify` tries to turn a verdict the publisher's own trust material would fail into a pass. Each
//! test takes an honest export (signed by the publisher, exported with the publisher's policy and
//! store, pinned by the digest of its trust artifact manifest), rewrites it the way a carrier
//! would (their own root beside a copy of the pinned one, a lowered policy, widened identities, a
//! TSA root of their own, a swapped layer, a renamed, substituted or smuggled image), and checks
//! the far side refuses with the contract's code. Controls show the forged bundles are otherwise
//! well formed: pinning the forger's own artifact digest passes.
//!
//! The publisher's policy has a second statement, `skip` for [`SCRATCH`] (a scratch repository):
//! a realistic policy with a weaker scope, into which a relabelled image would fall.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use airlock::digest::Digest;
use serde_json::{json, Value};

use crate::common::*;
use crate::pki::*;
use crate::registry_util::TestRegistry;

/// The image the publisher exports (its `index.json` name).
const REF: &str = "registry.example/airlock/sample:1.0";
/// A scope the publisher's policy skips.
const SCRATCH: &str = "registry.example/scratch";
/// The trust artifact's artifactType.
const TRUST: &str = "application/vnd.airlock.trust.v1+json";
/// Media type of the policy layer.
const POLICY: &str = "application/vnd.airlock.trustpolicy.v1+json";
/// Media type of a certificate layer.
const CERT: &str = "application/pkix-cert";
/// The annotation naming a certificate's store.
const STORE: &str = "io.airlock.truststore";
const TITLE: &str = "org.opencontainers.image.title";
const NOTARY: &str = "application/vnd.cncf.notary.signature";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

fn sha(bytes: &[u8]) -> String {
    Digest::sha256(bytes).to_string()
}

/// Stores `bytes` as a blob of `root`; returns (digest, size).
fn put(root: &Path, bytes: &[u8]) -> (String, usize) {
    let d = sha(bytes);
    fs::write(blob(root, &d), bytes).unwrap();
    (d, bytes.len())
}

fn show(r: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        r.code, r.stdout, r.stderr
    )
}

/// Exit 0, verdict pass; returns the report.
fn passes(r: &Run) -> Value {
    assert_eq!(r.code, 0, "expected a pass: {}", show(r));
    let j = r.json();
    assert_eq!(j["verdict"], "pass", "{}", show(r));
    j
}

/// Exit 1 with at least one of `codes` among the failures.
fn fails_with(r: &Run, codes: &[&str]) {
    assert_eq!(r.code, 1, "expected exit 1 with {codes:?}: {}", show(r));
    let got = r.codes();
    assert!(
        got.iter().any(|c| codes.contains(&c.as_str())),
        "expected one of {codes:?}, got {got:?}: {}",
        show(r)
    );
}

/// A root fingerprint given as a pin: a usage error that sends the root to a local store.
fn refused_as_root(r: &Run) {
    assert_eq!(r.code, 2, "a root fingerprint is not a pin: {}", show(r));
    assert!(r.stderr.contains("--trust-store"), "{}", show(r));
}

/// The single `--pin sha256:<64 hex>` line `export` prints on stderr.
fn pin_of(r: &Run) -> String {
    let pins: Vec<&str> = r
        .stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("--pin "))
        .collect();
    assert_eq!(pins.len(), 1, "exactly one --pin line: {}", show(r));
    let pin = pins[0].trim();
    let hex = pin.strip_prefix("sha256:").unwrap_or("");
    assert!(
        hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{pin:?} is not sha256:<64 hex>"
    );
    pin.to_owned()
}

/// One party's PKI: a root, a leaf, the leaf's signing files.
struct Party {
    root: Vec<u8>,
    signer: SignerFiles,
}

/// The kit: the publisher's signed layout, trust material and honest export; the carrier's own
/// PKI; and a leaf the carrier obtained from the publisher's CA (a shared CA).
struct Kit {
    t: tempfile::TempDir,
    layout: PathBuf,
    publisher: Party,
    carrier: Party,
    shared: SignerFiles,
    trust: Trust,
    /// The honest directory export and its pin.
    honest: PathBuf,
    pin: String,
}

impl Kit {
    fn new() -> Self {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let p_root = root(
            ca_params("attack publisher root", 1, Some(0)),
            key(Alg::P256, 400),
        );
        let p_leaf = issue(
            leaf_params("attack publisher", 100),
            key(Alg::P256, 401),
            &p_root,
        );
        let c_root = root(
            ca_params("attack carrier root", 1, Some(0)),
            key(Alg::P256, 402),
        );
        let c_leaf = issue(
            leaf_params("attack carrier", 100),
            key(Alg::P256, 403),
            &c_root,
        );
        let s_leaf = issue(
            leaf_params("attack carrier at the shared CA", 101),
            key(Alg::P256, 404),
            &p_root,
        );
        let publisher = Party {
            signer: write_signer(
                dir,
                "publisher",
                &p_leaf.key_pem(),
                &[p_leaf.der.clone(), p_root.der.clone()],
            ),
            root: p_root.der.clone(),
        };
        let carrier = Party {
            signer: write_signer(
                dir,
                "carrier",
                &c_leaf.key_pem(),
                &[c_leaf.der.clone(), c_root.der.clone()],
            ),
            root: c_root.der.clone(),
        };
        let shared = write_signer(
            dir,
            "shared",
            &s_leaf.key_pem(),
            &[s_leaf.der.clone(), p_root.der.clone()],
        );
        let layout = small_layout(dir);
        sign(dir, &layout, &publisher.signer);
        let trust = write_trust(
            dir,
            &[&p_root.der],
            "strict",
            &[identity("attack publisher")],
        );
        let policy = json!({
            "version": "1.0",
            "trustPolicies": [
                {
                    "name": "publisher",
                    "registryScopes": [SCOPE],
                    "signatureVerification": {"level": "strict"},
                    "trustStores": ["ca:tests"],
                    "trustedIdentities": [identity("attack publisher")],
                },
                {
                    "name": "scratch",
                    "registryScopes": [SCRATCH],
                    "signatureVerification": {"level": "skip"},
                },
            ]
        });
        fs::write(&trust.policy, serde_json::to_vec_pretty(&policy).unwrap()).unwrap();
        let mut kit = Kit {
            t,
            layout,
            publisher,
            carrier,
            shared,
            trust,
            honest: PathBuf::new(),
            pin: String::new(),
        };
        let (honest, r) = kit.export("honest", &[]);
        kit.pin = pin_of(&r);
        kit.honest = honest;
        kit
    }

    fn dir(&self) -> &Path {
        self.t.path()
    }

    /// `export oci:LAYOUT -o DIR/name` with the publisher's policy and store.
    fn export(&self, name: &str, extra: &[&str]) -> (PathBuf, Run) {
        let out = self.dir().join(name);
        let mut args = vec![
            "export".to_string(),
            format!("oci:{}", arg(&self.layout)),
            "-o".into(),
            arg(&out),
            "--trust-policy".into(),
            arg(&self.trust.policy),
            "--trust-store".into(),
            arg(&self.trust.store),
        ];
        args.extend(extra.iter().map(|x| x.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run_pinned(self.dir(), &args);
        assert_eq!(r.code, 0, "export {name}: {}", show(&r));
        (out, r)
    }

    /// The operator's policy with a statement for `airlock/export` (strict) trusting the
    /// publisher: signed exports required.
    fn policy_with_exporters(&self) -> Value {
        let mut policy = read_json(&self.trust.policy);
        policy["trustPolicies"].as_array_mut().unwrap().push(json!({
            "name": "exporters",
            "registryScopes": ["airlock/export"],
            "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:tests"],
            "trustedIdentities": [identity("attack publisher")],
        }));
        policy
    }

    /// The operator requires signed exports (a statement for `airlock/export` trusting the
    /// publisher): the export `signed-export`, signed by the publisher, its run, and that policy.
    fn signed_export(&self) -> (PathBuf, Run, PathBuf) {
        let p = self.dir().join("exporters-policy.json");
        write_json(&p, &self.policy_with_exporters());
        let (key, chain) = (
            arg(&self.publisher.signer.key),
            arg(&self.publisher.signer.chain),
        );
        let (signed, r) = self.export(
            "signed-export",
            &["--sign-key", &key, "--sign-cert", &chain],
        );
        (signed, r, p)
    }

    /// A copy of the honest directory bundle for the carrier to work on.
    fn copy(&self, name: &str) -> PathBuf {
        copy_to(&self.honest, &self.dir().join(name))
    }

    /// `verify BUNDLE --pin PIN --at AT --format json`.
    fn verify(&self, bundle: &Path, pin: &str) -> Run {
        verify_trust(bundle, &["--pin", pin, "--at", AT])
    }

    /// The publisher root's fingerprint (`sha256:` + hex of the SHA-256 of its DER).
    fn root_fingerprint(&self) -> String {
        sha(&self.publisher.root)
    }

    /// The carrier signs the image named [`REF`] in `bundle` with their own key.
    fn carrier_sign(&self, bundle: &Path) -> String {
        sign(self.dir(), bundle, &self.carrier.signer)
    }
}

/// `airlock sign LAYOUT:REF` with `signer` at [`SIGNED`]; returns the signature manifest digest.
fn sign(cwd: &Path, layout: &Path, signer: &SignerFiles) -> String {
    let target = format!("{}:{REF}", arg(layout));
    let r = run_in(
        cwd,
        &[
            "sign",
            &target,
            "--key",
            &arg(&signer.key),
            "--cert",
            &arg(&signer.chain),
            "--signing-time",
            SIGNED,
        ],
    );
    assert_eq!(r.code, 0, "sign {target}: {}", show(&r));
    r.stdout.trim().to_owned()
}

fn entries(bundle: &Path) -> Vec<Value> {
    read_json(&bundle.join("index.json"))["manifests"]
        .as_array()
        .unwrap()
        .clone()
}

fn set_entries(bundle: &Path, list: Vec<Value>) {
    let mut index = read_json(&bundle.join("index.json"));
    index["manifests"] = Value::Array(list);
    write_json(&bundle.join("index.json"), &index);
}

/// The name of an index.json entry (`io.containerd.image.name`, else the ref name).
fn name_of(e: &Value) -> Option<&str> {
    e["annotations"][CONTAINERD_NAME]
        .as_str()
        .or_else(|| e["annotations"][REF_NAME].as_str())
}

/// The index.json entry of the image named `name`.
fn image_entry(bundle: &Path, name: &str) -> Value {
    entries(bundle)
        .into_iter()
        .find(|e| name_of(e) == Some(name))
        .unwrap_or_else(|| panic!("no image {name} in {}", bundle.display()))
}

/// The digests of the signature manifests listed in index.json.
fn signatures(bundle: &Path) -> Vec<String> {
    entries(bundle)
        .iter()
        .filter(|e| e["artifactType"] == NOTARY)
        .map(|e| e["digest"].as_str().unwrap().to_owned())
        .collect()
}

/// Removes signature manifests from index.json and from every referrers tag index
/// (`sha256-<hex>`), rewriting those (an emptied one is dropped).
fn drop_signatures(bundle: &Path, gone: &[String]) {
    let mut out = Vec::new();
    for mut e in entries(bundle) {
        let digest = e["digest"].as_str().unwrap().to_owned();
        if gone.contains(&digest) {
            continue;
        }
        let tag_index = e["annotations"][REF_NAME]
            .as_str()
            .is_some_and(|n| n.starts_with("sha256-"));
        if tag_index {
            let mut idx = read_json(&blob(bundle, &digest));
            let kept: Vec<Value> = idx["manifests"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| !gone.iter().any(|g| m["digest"] == g.as_str()))
                .cloned()
                .collect();
            if kept.is_empty() {
                continue;
            }
            idx["manifests"] = Value::Array(kept);
            let (d, size) = put(bundle, &serde_json::to_vec(&idx).unwrap());
            e["digest"] = json!(d);
            e["size"] = json!(size);
        }
        out.push(e);
    }
    set_entries(bundle, out);
}

/// Gives the image named `from` the name `to` (both name annotations).
fn set_name(bundle: &Path, from: &str, to: &str) {
    let list = entries(bundle)
        .into_iter()
        .map(|mut e| {
            if name_of(&e) == Some(from) {
                e["annotations"][CONTAINERD_NAME] = json!(to);
                e["annotations"][REF_NAME] = json!(to);
            }
            e
        })
        .collect();
    set_entries(bundle, list);
}

/// Builds an image of the carrier's own (`airlock fixture`, other content), copies its blobs into
/// `bundle`, and returns its top-level descriptor.
fn carrier_image(cwd: &Path, bundle: &Path, seed: &str) -> Value {
    let src = cwd.join(format!("carrier-image-{seed}"));
    let r = run_in(
        cwd,
        &[
            "-q",
            "fixture",
            &arg(&src),
            "--layer-size",
            "4096",
            "--seed",
            seed,
            "--no-referrer",
        ],
    );
    assert_eq!(r.code, 0, "fixture: {}", show(&r));
    for f in files_of(&src) {
        if f.starts_with("blobs") {
            fs::copy(src.join(&f), bundle.join(&f)).unwrap();
        }
    }
    let mut top = entries(&src)[0].clone();
    top.as_object_mut().unwrap().remove("annotations");
    top
}

/// What a carrier edits in the trust artifact: the export record, the policy, and the store
/// certificates as `(store, DER)` (e.g. `("ca:tests", root)`).
type Stores = Vec<(String, Vec<u8>)>;

/// Forges a trust artifact from the bundle's (first) one: reads its record, policy and
/// certificates, lets `edit` change them, writes every blob and the new manifest (digests and sizes
/// recomputed, CRL layers kept). Returns the original entry's position and the new entry.
fn forge(bundle: &Path, edit: impl FnOnce(&mut Value, &mut Value, &mut Stores)) -> (usize, Value) {
    let list = entries(bundle);
    let at = list
        .iter()
        .position(|e| e["artifactType"] == TRUST)
        .expect("the honest export carries a trust artifact");
    let manifest = read_json(&blob(bundle, list[at]["digest"].as_str().unwrap()));
    let mut record = read_json(&blob(
        bundle,
        manifest["config"]["digest"].as_str().unwrap(),
    ));
    let layers = manifest["layers"].as_array().unwrap();
    let mut policy = Value::Null;
    let mut stores: Stores = Vec::new();
    let mut others = Vec::new();
    for l in layers {
        let bytes = fs::read(blob(bundle, l["digest"].as_str().unwrap())).unwrap();
        if l["mediaType"] == POLICY {
            policy = serde_json::from_slice(&bytes).unwrap();
        } else if l["mediaType"] == CERT {
            let store = l["annotations"][STORE].as_str().unwrap().to_owned();
            stores.push((store, bytes));
        } else {
            others.push(l.clone());
        }
    }
    // The forger's record describes the bundle as it now is: the referrers it no longer carries
    // (signatures the carrier dropped) are not listed, or the record itself would report them
    // withheld (`exported_image_missing`).
    let listed: Vec<String> = list
        .iter()
        .map(|e| e["digest"].as_str().unwrap().to_owned())
        .collect();
    let carried = |d: &Value| listed.iter().any(|l| d.as_str() == Some(l));
    for src in record["sources"].as_array_mut().unwrap() {
        if let Some(a) = src["signatures"].as_array_mut() {
            a.retain(|d| carried(d));
        }
        if let Some(a) = src.get_mut("referrers").and_then(Value::as_array_mut) {
            a.retain(|r| carried(&r["digest"]));
        }
    }
    edit(&mut record, &mut policy, &mut stores);
    let (rd, rs) = put(bundle, &serde_json::to_vec(&record).unwrap());
    let (pd, ps) = put(bundle, &serde_json::to_vec_pretty(&policy).unwrap());
    let mut new_layers = vec![json!({
        "mediaType": POLICY, "digest": pd, "size": ps,
        "annotations": {TITLE: "trustpolicy.json"},
    })];
    for (i, (store, der)) in stores.iter().enumerate() {
        let (d, s) = put(bundle, der);
        let (kind, name) = store.split_once(':').unwrap();
        new_layers.push(json!({
            "mediaType": CERT, "digest": d, "size": s,
            "annotations": {STORE: store, TITLE: format!("x509/{kind}/{name}/{i:03}.der")},
        }));
    }
    new_layers.extend(others);
    let mut m = manifest.clone();
    m["config"]["digest"] = json!(rd);
    m["config"]["size"] = json!(rs);
    m["layers"] = Value::Array(new_layers);
    let (md, ms) = put(bundle, &serde_json::to_vec(&m).unwrap());
    let mut entry = list[at].clone();
    entry["digest"] = json!(md);
    entry["size"] = json!(ms);
    (at, entry)
}

/// Replaces the bundle's trust artifact with a forged one; returns the forgery's digest.
fn rewrite_artifact(
    bundle: &Path,
    edit: impl FnOnce(&mut Value, &mut Value, &mut Stores),
) -> String {
    let (at, entry) = forge(bundle, edit);
    let mut list = entries(bundle);
    list[at] = entry.clone();
    set_entries(bundle, list);
    entry["digest"].as_str().unwrap().to_owned()
}

/// Lists a forged trust artifact in index.json *before* the original, which stays; returns the
/// forgery's digest.
fn add_artifact(bundle: &Path, edit: impl FnOnce(&mut Value, &mut Value, &mut Stores)) -> String {
    let (_, entry) = forge(bundle, edit);
    let mut list = entries(bundle);
    list.insert(0, entry.clone());
    set_entries(bundle, list);
    entry["digest"].as_str().unwrap().to_owned()
}

/// The policy statement for [`SCOPE`].
fn statement(policy: &mut Value) -> &mut Value {
    policy["trustPolicies"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["registryScopes"][0] == SCOPE)
        .expect("a statement for the sample scope")
}

/// The decoy store: the publisher's root copied into `ca:decoy`, the carrier's root in `ca:evil`,
/// a policy that trusts only `ca:evil`, any identity.
fn decoy(
    carrier_root: &[u8],
    publisher_root: &[u8],
) -> impl FnOnce(&mut Value, &mut Value, &mut Stores) {
    let (c, p) = (carrier_root.to_vec(), publisher_root.to_vec());
    move |_, policy, stores| {
        *stores = vec![("ca:decoy".into(), p), ("ca:evil".into(), c)];
        let s = statement(policy);
        s["trustStores"] = json!(["ca:evil"]);
        s["trustedIdentities"] = json!(["*"]);
    }
}

// --- 1. The honest control -------------------------------------------------------------------

#[test]
fn honest_bundles_verify_with_the_pin_in_every_form() {
    let kit = Kit::new();
    let fp = kit.root_fingerprint();
    assert_ne!(kit.pin, fp, "the pin is the artifact digest, not a root");
    let trust_entry = entries(&kit.honest)
        .into_iter()
        .find(|e| e["artifactType"] == TRUST)
        .expect("a trust artifact in index.json");
    assert_eq!(
        trust_entry["digest"],
        kit.pin.as_str(),
        "the pin is the trust artifact manifest's digest"
    );
    let mut bundles = vec![(kit.honest.clone(), kit.pin.clone())];
    for name in ["bundle.tar", "bundle.tar.gz", "bundle.tar.zst"] {
        let (out, r) = kit.export(name, &[]);
        bundles.push((out, pin_of(&r)));
    }
    for (bundle, pin) in &bundles {
        let j = passes(&kit.verify(bundle, pin));
        let what = bundle.display();
        assert_eq!(j["trustAnchor"]["mode"], "pinned", "{what}: {j}");
        assert_eq!(j["trustAnchor"]["pin"], pin.as_str(), "{what}: {j}");
        assert_eq!(j["trustAnchor"]["artifact"], pin.as_str(), "{what}: {j}");
        let sigs = j["images"][0]["signatures"].as_array().unwrap();
        assert_eq!(sigs.len(), 1, "{what}: {j}");
        assert_eq!(sigs[0]["verdict"], "pass", "{what}: {j}");
        assert_eq!(sigs[0]["anchor"], fp.as_str(), "{what}: {j}");
    }
    // --format json: the summary names the pin.
    let (out, r) = kit.export("json.tar.zst", &["--format", "json"]);
    let pin = r.json()["pin"].as_str().unwrap_or_default().to_owned();
    assert!(
        pin.starts_with("sha256:") && pin.len() == 71,
        "{}",
        show(&r)
    );
    passes(&kit.verify(&out, &pin));
}

// --- 2, 3. Pins that are not the artifact's digest --------------------------------------------

#[test]
fn a_root_fingerprint_as_pin_is_a_usage_error() {
    let kit = Kit::new();
    refused_as_root(&kit.verify(&kit.honest, &kit.root_fingerprint()));
}

#[test]
fn a_pin_matching_nothing_fails() {
    let kit = Kit::new();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let random = sha(format!("no such artifact {nanos}").as_bytes());
    fails_with(&kit.verify(&kit.honest, &random), &["pin_mismatch"]);
}

// --- 4. The decoy store -----------------------------------------------------------------------

#[test]
fn a_decoy_store_beside_the_pinned_root_is_not_the_pinned_artifact() {
    let kit = Kit::new();
    let b = kit.copy("decoy");
    kit.carrier_sign(&b);
    let forged = rewrite_artifact(&b, decoy(&kit.carrier.root, &kit.publisher.root));
    fails_with(&kit.verify(&b, &kit.pin), &["pin_mismatch"]);
    refused_as_root(&kit.verify(&b, &kit.root_fingerprint()));
    // Control: the forgery is well formed; pinning the carrier's own digest accepts it.
    passes(&kit.verify(&b, &forged));
}

#[test]
fn a_second_artifact_beside_the_pinned_one_is_ignored() {
    let kit = Kit::new();
    let b = kit.copy("second");
    let publisher_sigs = signatures(&b);
    kit.carrier_sign(&b);
    drop_signatures(&b, &publisher_sigs);
    let forged = add_artifact(&b, decoy(&kit.carrier.root, &kit.publisher.root));
    // Judged by the publisher's policy: the carrier's signature alone does not pass.
    let r = kit.verify(&b, &kit.pin);
    fails_with(
        &r,
        &["untrusted_signer", "trusted_identity", "no_signature"],
    );
    assert_eq!(
        r.json()["trustAnchor"]["artifact"],
        kit.pin.as_str(),
        "{}",
        show(&r)
    );
    // Control: pinning the carrier's artifact picks that one.
    passes(&kit.verify(&b, &forged));
}

// --- 5. A lowered policy, widened identities, a TSA root of the carrier's ---------------------

#[test]
fn a_lowered_policy_is_not_the_pinned_artifact() {
    let kit = Kit::new();
    for level in ["audit", "skip"] {
        let b = kit.copy(level);
        let publisher_sigs = signatures(&b);
        kit.carrier_sign(&b);
        drop_signatures(&b, &publisher_sigs);
        let forged = rewrite_artifact(&b, |_, policy, _| {
            let s = statement(policy);
            s["signatureVerification"]["level"] = json!(level);
            if level == "skip" {
                let o = s.as_object_mut().unwrap();
                o.remove("trustStores");
                o.remove("trustedIdentities");
            }
        });
        fails_with(&kit.verify(&b, &kit.pin), &["pin_mismatch"]);
        // Control: the lowered policy would accept the carrier's signature.
        passes(&kit.verify(&b, &forged));
    }
}

#[test]
fn identities_widened_under_a_shared_ca_are_not_the_pinned_artifact() {
    let kit = Kit::new();
    let b = kit.copy("widened");
    let publisher_sigs = signatures(&b);
    sign(kit.dir(), &b, &kit.shared);
    drop_signatures(&b, &publisher_sigs);
    // Control: the publisher's identities refuse the carrier's leaf from the shared CA.
    fails_with(&kit.verify(&b, &kit.pin), &["trusted_identity"]);
    let forged = rewrite_artifact(&b, |_, policy, _| {
        statement(policy)["trustedIdentities"] = json!(["*"]);
    });
    fails_with(&kit.verify(&b, &kit.pin), &["pin_mismatch"]);
    passes(&kit.verify(&b, &forged));
}

#[test]
fn a_tsa_root_of_the_carrier_is_not_the_pinned_artifact() {
    let kit = Kit::new();
    let b = kit.copy("tsa");
    let tsa = kit.carrier.root.clone();
    rewrite_artifact(&b, move |_, policy, stores| {
        stores.push(("tsa:evil".into(), tsa));
        statement(policy)["trustStores"]
            .as_array_mut()
            .unwrap()
            .push(json!("tsa:evil"));
    });
    fails_with(&kit.verify(&b, &kit.pin), &["pin_mismatch"]);
}

// --- 6. A layer swapped in place --------------------------------------------------------------

#[test]
fn a_layer_swapped_in_place_under_the_pinned_manifest_fails() {
    let kit = Kit::new();
    let manifest_of = |b: &Path| {
        let e = entries(b)
            .into_iter()
            .find(|e| e["artifactType"] == TRUST)
            .unwrap();
        read_json(&blob(b, e["digest"].as_str().unwrap()))
    };
    let layer_of = |m: &Value, media_type: &str| {
        m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["mediaType"] == media_type)
            .unwrap()["digest"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The policy layer's bytes become a `skip` policy.
    let b = kit.copy("swap-policy");
    let publisher_sigs = signatures(&b);
    kit.carrier_sign(&b);
    drop_signatures(&b, &publisher_sigs);
    let m = manifest_of(&b);
    let file = blob(&b, &layer_of(&m, POLICY));
    let mut policy: Value = read_json(&file);
    let s = statement(&mut policy);
    s["signatureVerification"]["level"] = json!("skip");
    let o = s.as_object_mut().unwrap();
    o.remove("trustStores");
    o.remove("trustedIdentities");
    write_json(&file, &policy);
    let r = kit.verify(&b, &kit.pin);
    assert_ne!(r.code, 0, "{}", show(&r));
    fails_with(&r, &["digest_mismatch", "trust_artifact_invalid"]);
    // The root certificate layer's bytes become the carrier's root.
    let b = kit.copy("swap-root");
    let publisher_sigs = signatures(&b);
    kit.carrier_sign(&b);
    drop_signatures(&b, &publisher_sigs);
    let m = manifest_of(&b);
    fs::write(blob(&b, &layer_of(&m, CERT)), &kit.carrier.root).unwrap();
    let r = kit.verify(&b, &kit.pin);
    assert_ne!(r.code, 0, "{}", show(&r));
    fails_with(&r, &["digest_mismatch", "trust_artifact_invalid"]);
}

// --- 7, 8. Images the export record does not list ---------------------------------------------

#[test]
fn a_renamed_image_is_not_in_the_export_record() {
    let kit = Kit::new();
    let b = kit.copy("renamed");
    set_name(&b, REF, &format!("{SCRATCH}:1"));
    fails_with(&kit.verify(&b, &kit.pin), &["not_in_export_record"]);
}

#[test]
fn an_exported_image_dropped_from_the_bundle_fails() {
    // The carrier removes the image's entry (its blobs stay); the signatures and the artifact are
    // still there, so nothing else would notice what the export record promised.
    let kit = Kit::new();
    let b = kit.copy("dropped");
    let list = entries(&b)
        .into_iter()
        .filter(|e| name_of(e) != Some(REF))
        .collect();
    set_entries(&b, list);
    fails_with(&kit.verify(&b, &kit.pin), &["exported_image_missing"]);
}

#[test]
fn a_second_name_annotation_disagreeing_with_the_record_fails() {
    // The name airlock judges (io.containerd.image.name) stays; the OCI ref.name other tools read
    // is changed to a weaker scope.
    let kit = Kit::new();
    let b = kit.copy("two-names");
    let list = entries(&b)
        .into_iter()
        .map(|mut e| {
            if name_of(&e) == Some(REF) {
                e["annotations"][REF_NAME] = json!(format!("{SCRATCH}:1"));
            }
            e
        })
        .collect();
    set_entries(&b, list);
    fails_with(&kit.verify(&b, &kit.pin), &["not_in_export_record"]);
}

#[test]
fn a_substituted_image_under_the_known_name_is_not_in_the_export_record() {
    let kit = Kit::new();
    let b = kit.copy("substituted");
    let publisher_sigs = signatures(&b);
    drop_signatures(&b, &publisher_sigs);
    let theirs = carrier_image(kit.dir(), &b, "7");
    let list = entries(&b)
        .into_iter()
        .map(|mut e| {
            if name_of(&e) == Some(REF) {
                for k in ["mediaType", "digest", "size"] {
                    e[k] = theirs[k].clone();
                }
            }
            e
        })
        .collect();
    set_entries(&b, list);
    kit.carrier_sign(&b);
    fails_with(&kit.verify(&b, &kit.pin), &["not_in_export_record"]);
}

#[test]
fn an_extra_image_is_not_in_the_export_record() {
    let kit = Kit::new();
    // The publisher's image again under a tag the publisher did not export.
    let b = kit.copy("alias");
    let mut alias = image_entry(&b, REF);
    let latest = "registry.example/airlock/sample:latest";
    alias["annotations"][CONTAINERD_NAME] = json!(latest);
    alias["annotations"][REF_NAME] = json!(latest);
    let mut list = entries(&b);
    list.push(alias);
    set_entries(&b, list);
    fails_with(&kit.verify(&b, &kit.pin), &["not_in_export_record"]);
    // An image of the carrier's own, smuggled in under the scope the policy skips.
    let b = kit.copy("smuggled");
    let mut theirs = carrier_image(kit.dir(), &b, "8");
    theirs["annotations"] = json!({
        CONTAINERD_NAME: format!("{SCRATCH}:2"),
        REF_NAME: format!("{SCRATCH}:2"),
    });
    let mut list = entries(&b);
    list.push(theirs);
    set_entries(&b, list);
    fails_with(&kit.verify(&b, &kit.pin), &["not_in_export_record"]);
}

// --- 9. Local trust mode ignores the bundle's trust material ----------------------------------

#[test]
fn local_trust_ignores_a_rewritten_trust_artifact() {
    let kit = Kit::new();
    type Edit = Box<dyn FnOnce(&mut Value, &mut Value, &mut Stores)>;
    let carrier_root = kit.carrier.root.clone();
    let skip: Edit = Box::new(move |_, policy, stores| {
        stores.push(("ca:evil".into(), carrier_root));
        let s = statement(policy);
        s["signatureVerification"]["level"] = json!("skip");
        let o = s.as_object_mut().unwrap();
        o.remove("trustStores");
        o.remove("trustedIdentities");
    });
    let evil: Edit = Box::new(decoy(&kit.carrier.root, &kit.publisher.root));
    for (name, edit) in [("local-skip", skip), ("local-evil", evil)] {
        let b = kit.copy(name);
        let publisher_sigs = signatures(&b);
        kit.carrier_sign(&b);
        drop_signatures(&b, &publisher_sigs);
        rewrite_artifact(&b, edit);
        let policy = arg(&kit.trust.policy);
        let store = arg(&kit.trust.store);
        let config = arg(kit.trust.policy.parent().unwrap());
        for local in [
            vec!["--trust-policy", &policy, "--trust-store", &store],
            vec!["--notation-config", &config],
        ] {
            let mut args = local.clone();
            args.extend(["--at", AT]);
            let r = verify_trust(&b, &args);
            fails_with(&r, &["untrusted_signer"]);
            assert_eq!(
                r.json()["trustAnchor"]["mode"],
                "local",
                "{name}: {}",
                show(&r)
            );
        }
    }
}

#[test]
fn local_trust_refuses_an_image_whose_two_names_disagree() {
    // The carrier's own unsigned image: the name airlock judges (io.containerd.image.name) in the
    // scope the operator's policy skips, the OCI ref.name other tools read the publisher's. Under
    // local trust too, an image passes under one name only, never shows another one.
    let kit = Kit::new();
    let b = kit.copy("local-two-names");
    let mut theirs = carrier_image(kit.dir(), &b, "9");
    theirs["annotations"] = json!({
        CONTAINERD_NAME: format!("{SCRATCH}:9"),
        REF_NAME: REF,
    });
    let list = entries(&b)
        .into_iter()
        .filter(|e| name_of(e) != Some(REF))
        .chain([theirs.clone()])
        .collect();
    set_entries(&b, list);
    let policy = arg(&kit.trust.policy);
    let store = arg(&kit.trust.store);
    let local = local_trust(&policy, &store);
    let r = verify_trust(&b, &local);
    fails_with(&r, &["scope_unknown"]);
    // Control: one name (or a bare tag as ref.name, as `ctr export` writes it) in the skipped
    // scope is judged by the operator's statement for that scope, and passes.
    for ref_name in [format!("{SCRATCH}:9"), "9".to_string()] {
        let mut one = theirs.clone();
        one["annotations"][REF_NAME] = json!(ref_name);
        let list = entries(&b)
            .into_iter()
            .filter(|e| e["digest"] != theirs["digest"])
            .chain([one])
            .collect();
        set_entries(&b, list);
        let j = passes(&verify_trust(&b, &local));
        assert_eq!(j["images"][0]["policy"]["level"], "skip", "{j}");
    }
}

/// The arguments of local trust: the operator's policy and store, at the kit's time.
fn local_trust<'a>(policy: &'a str, store: &'a str) -> [&'a str; 6] {
    ["--trust-policy", policy, "--trust-store", store, "--at", AT]
}

/// The operator's policy of the kit with a lax `*` statement (level skip) beside its strict one.
fn lax_local_policy(kit: &Kit) -> PathBuf {
    let mut policy = read_json(&kit.trust.policy);
    policy["trustPolicies"].as_array_mut().unwrap().push(json!({
        "name": "anything else",
        "registryScopes": ["*"],
        "signatureVerification": {"level": "skip"},
    }));
    let path = kit.dir().join("local-lax-policy.json");
    write_json(&path, &policy);
    path
}

#[test]
fn local_trust_judges_another_spelling_of_a_protected_repository_by_its_statement() {
    // The carrier's own unsigned image, named with another spelling of the repository the
    // operator's strict statement protects (the HTTPS port written out, a port with leading
    // zeros, the host in capitals): every one names the same repository to a registry client,
    // so the strict statement judges it, never the lax `*` beside it.
    let kit = Kit::new();
    let policy = arg(&lax_local_policy(&kit));
    let store = arg(&kit.trust.store);
    let local = local_trust(&policy, &store);
    let b = kit.copy("spelling");
    let theirs = carrier_image(kit.dir(), &b, "12");
    let without = entries(&b)
        .into_iter()
        .filter(|e| name_of(e) != Some(REF))
        .collect::<Vec<_>>();
    let name = |n: &str| {
        let mut e = theirs.clone();
        e["annotations"] = json!({ CONTAINERD_NAME: n, REF_NAME: n });
        set_entries(&b, without.iter().cloned().chain([e]).collect());
    };
    for spelling in [
        "registry.example:443/airlock/sample:1.0",
        "registry.example:0443/airlock/sample:1.0",
        "REGISTRY.Example:443/airlock/sample:1.0",
    ] {
        name(spelling);
        let r = verify_trust(&b, &local);
        assert_eq!(r.code, 1, "{spelling}: {}", show(&r));
        let j = r.json();
        assert_ne!(j["images"][0]["policy"]["level"], "skip", "{spelling}: {j}");
    }
    // Control: another repository (another port) is the `*` statement's, as the operator wrote.
    name("registry.example:4443/airlock/sample:1.0");
    let j = passes(&verify_trust(&b, &local));
    assert_eq!(j["images"][0]["policy"]["level"], "skip", "{j}");
}

#[test]
fn under_the_pin_only_the_pinned_artifacts_export_signature_is_reported() {
    // Two signed exports of the publisher. The carrier strips the export signature of the pinned
    // artifact and lists the other (signed) artifact with its signature first: exportedBy must
    // speak of the pinned artifact only, never report another artifact's signature as a pass.
    let kit = Kit::new();
    let mut policy = kit.policy_with_exporters();
    let export = |name: &str, policy: &Value| {
        let p = kit.dir().join(format!("{name}-policy.json"));
        write_json(&p, policy);
        let out = kit.dir().join(name);
        let r = run_pinned(
            kit.dir(),
            &[
                "export",
                &format!("oci:{}", arg(&kit.layout)),
                "-o",
                &arg(&out),
                "--trust-policy",
                &arg(&p),
                "--trust-store",
                &arg(&kit.trust.store),
                "--sign-key",
                &arg(&kit.publisher.signer.key),
                "--sign-cert",
                &arg(&kit.publisher.signer.chain),
            ],
        );
        assert_eq!(r.code, 0, "export {name}: {}", show(&r));
        (out, pin_of(&r))
    };
    let (first, pin1) = export("signed-1", &policy);
    policy["trustPolicies"].as_array_mut().unwrap().push(json!({
        "name": "other",
        "registryScopes": ["registry.example/other"],
        "signatureVerification": {"level": "skip"},
    }));
    let (second, pin2) = export("signed-2", &policy);
    assert_ne!(pin1, pin2);
    let exported_by = |r: &Run| r.json()["exportedBy"].clone();
    let e = passes(&kit.verify(&second, &pin2))["exportedBy"].clone();
    assert_eq!(e["verdict"], "pass", "{e}");
    assert_eq!(e["artifact"], pin2.as_str(), "{e}");
    // The carrier's rearrangement.
    let sig_of = |bundle: &Path, artifact: &str| -> Vec<Value> {
        entries(bundle)
            .into_iter()
            .filter(|e| {
                e["artifactType"] == NOTARY
                    && read_json(&blob(bundle, e["digest"].as_str().unwrap()))["subject"]["digest"]
                        == artifact
            })
            .collect()
    };
    let own: Vec<String> = sig_of(&second, &pin2)
        .iter()
        .map(|e| e["digest"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !own.is_empty(),
        "the export signature is listed in index.json"
    );
    drop_signatures(&second, &own);
    for f in files_of(&first) {
        if f.starts_with("blobs") && !second.join(&f).exists() {
            fs::copy(first.join(&f), second.join(&f)).unwrap();
        }
    }
    let artifact1 = entries(&first)
        .into_iter()
        .find(|e| e["digest"] == pin1.as_str())
        .unwrap();
    let mut list = vec![artifact1];
    list.extend(sig_of(&first, &pin1));
    list.extend(entries(&second));
    set_entries(&second, list);
    let r = kit.verify(&second, &pin2);
    let e = exported_by(&r);
    assert!(
        e.is_null() || e["artifact"] == pin2.as_str(),
        "exportedBy speaks of another artifact than the pinned one: {e}"
    );
    assert_ne!(e["verdict"], "pass", "{e}");
    // The pinned policy has a statement for airlock/export: the publisher requires signed
    // exports, so the stripped signature is a failure, not an absence.
    fails_with(&r, &["no_signature"]);
    assert_eq!(e["artifact"], pin2.as_str(), "{e}");
    // Under local trust the same: a statement naming airlock/export requires the signature...
    let (third, pin3) = export("signed-3", &policy);
    let own: Vec<String> = sig_of(&third, &pin3)
        .iter()
        .map(|e| e["digest"].as_str().unwrap().to_owned())
        .collect();
    drop_signatures(&third, &own);
    let local_policy = kit.dir().join("signed-3-policy.json");
    let (p, st) = (arg(&local_policy), arg(&kit.trust.store));
    let local = ["--trust-policy", &p, "--trust-store", &st, "--at", AT];
    fails_with(&verify_trust(&third, &local), &["no_signature"]);
    let e = passes(&verify_trust(&first, &local))["exportedBy"].clone();
    assert_eq!(e["verdict"], "pass", "{e}");
    // ... however the statement spells the scope: one that selects it requires it (red team J,
    // J9: `AIRLOCK/export` judged the signature, yet its absence passed).
    for spelling in ["AIRLOCK/export", "airlock:443/export"] {
        let text = fs::read_to_string(&local_policy)
            .unwrap()
            .replace("\"airlock/export\"", &format!("{spelling:?}"));
        assert!(text.contains(spelling), "{text}");
        let spelled = kit.dir().join("signed-3-spelled.json");
        fs::write(&spelled, text).unwrap();
        let sp = arg(&spelled);
        let local = ["--trust-policy", &sp, "--trust-store", &st, "--at", AT];
        fails_with(&verify_trust(&third, &local), &["no_signature"]);
        let e = passes(&verify_trust(&first, &local))["exportedBy"].clone();
        assert_eq!(e["verdict"], "pass", "{spelling}: {e}");
    }
    // ... and without such a statement (only `*` or nothing) an unsigned export is no failure.
    let plain = arg(&kit.trust.policy);
    let r = verify_trust(
        &third,
        &["--trust-policy", &plain, "--trust-store", &st, "--at", AT],
    );
    passes(&r);
}

// --- 10. import --pin against a real registry -------------------------------------------------

/// `GET path` on a registry; returns (status, body).
fn http_get(host: &str, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

#[test]
fn import_with_the_pin_pushes_the_honest_bundle_and_nothing_of_a_renamed_one() {
    let Some(reg) = TestRegistry::start(None) else {
        eprintln!("skipping: no docker-registry");
        return;
    };
    let kit = Kit::new();
    let import = |bundle: &Path, prefix: &str| {
        run_in(
            kit.dir(),
            &[
                "import",
                &arg(bundle),
                "--to",
                &format!("{}/{prefix}", reg.host()),
                "--pin",
                &kit.pin,
                "--at",
                AT,
            ],
        )
    };
    let r = import(&kit.honest, "site");
    assert_eq!(r.code, 0, "{}", show(&r));
    let (status, _) = http_get(&reg.host(), "/v2/site/airlock/sample/manifests/1.0");
    assert_eq!(status, 200, "the honest image was pushed");

    let b = kit.copy("renamed-import");
    set_name(&b, REF, &format!("{SCRATCH}:1"));
    let r = import(&b, "refused");
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("nothing was pushed"), "{}", show(&r));
    let (status, _) = http_get(&reg.host(), "/v2/refused/scratch/manifests/1");
    assert_eq!(status, 404, "the renamed tag is not in the registry");
    let (_, catalog) = http_get(&reg.host(), "/v2/_catalog");
    assert!(
        catalog.contains("site/") && !catalog.contains("refused/"),
        "nothing under the refused prefix: {catalog}"
    );
}

#[test]
fn import_under_local_trust_refuses_a_registry_rename_onto_a_protected_repository() {
    // import drops the source registry (SOURCE/REPO:TAG -> HOST/PREFIX/REPO:TAG), so under local
    // trust a carrier who renames their unsigned image from registry.example/airlock/sample to
    // evil.example/airlock/sample has it judged by the operator's lax `*` statement and pushed
    // over the repository the strict statement protects. import must refuse it.
    let Some(reg) = TestRegistry::start(None) else {
        eprintln!("skipping: no docker-registry");
        return;
    };
    let kit = Kit::new();
    let policy = arg(&lax_local_policy(&kit));
    let store = arg(&kit.trust.store);
    let import = |bundle: &Path, prefix: &str| {
        let b = arg(bundle);
        let to = format!("{}/{prefix}", reg.host());
        run_in(
            kit.dir(),
            &[
                "import",
                &b,
                "--to",
                &to,
                "--trust-policy",
                &policy,
                "--trust-store",
                &store,
                "--at",
                AT,
            ],
        )
    };
    // Control: the honest image, judged by the publisher statement, goes in.
    let r = import(&kit.honest, "control");
    assert_eq!(r.code, 0, "{}", show(&r));
    let (status, _) = http_get(&reg.host(), "/v2/control/airlock/sample/manifests/1.0");
    assert_eq!(status, 200);
    // The carrier's image under another registry's name, same repository path and tag.
    let b = kit.copy("registry-rename");
    let mut theirs = carrier_image(kit.dir(), &b, "11");
    let evil = "evil.example/airlock/sample:1.0";
    theirs["annotations"] = json!({ CONTAINERD_NAME: evil, REF_NAME: evil });
    let list = entries(&b)
        .into_iter()
        .filter(|e| name_of(e) != Some(REF))
        .chain([theirs])
        .collect();
    set_entries(&b, list);
    // verify judges the name it is given (by design): `*` skips it.
    let v = verify_trust(&b, &local_trust(&policy, &store));
    assert_eq!(v.code, 0, "{}", show(&v));
    let r = import(&b, "site");
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("scope_unknown"), "{}", show(&r));
    assert!(r.stderr.contains("nothing was pushed"), "{}", show(&r));
    let (status, _) = http_get(&reg.host(), "/v2/site/airlock/sample/manifests/1.0");
    assert_eq!(status, 404, "nothing pushed over the protected repository");
}

/// [`lax_local_policy`] with the publisher's statement protecting `scope` instead of [`SCOPE`].
fn lax_local_policy_for(kit: &Kit, scope: &str) -> PathBuf {
    let mut policy = read_json(&lax_local_policy(kit));
    policy["trustPolicies"][0]["registryScopes"] = json!([scope]);
    let path = kit
        .dir()
        .join(format!("local-lax-policy-{}.json", sha(scope.as_bytes())));
    write_json(&path, &policy);
    path
}

/// A copy of the honest bundle whose image is the carrier's own, named `name`.
fn carrier_bundle_named(kit: &Kit, copy: &str, name: &str) -> PathBuf {
    let b = kit.copy(copy);
    let mut theirs = carrier_image(kit.dir(), &b, "13");
    theirs["annotations"] = json!({ CONTAINERD_NAME: name, REF_NAME: name });
    let list = entries(&b)
        .into_iter()
        .filter(|e| name_of(e) != Some(REF))
        .chain([theirs])
        .collect();
    set_entries(&b, list);
    b
}

#[test]
fn import_under_local_trust_refuses_a_rename_onto_a_docker_hub_repository_however_spelled() {
    // The policy folds Docker Hub's names: a statement written `docker.io/alpine` judges
    // `docker.io/library/alpine:3`, which the push sends to PREFIX/library/alpine (and the reverse
    // for a statement written long). A carrier image under another registry's name reaching either
    // target, judged by the lax `*`, must be refused whichever way the operator spelled the scope.
    let Some(reg) = TestRegistry::start(None) else {
        eprintln!("skipping: no docker-registry");
        return;
    };
    let kit = Kit::new();
    let store = arg(&kit.trust.store);
    let import = |bundle: &Path, policy: &Path, prefix: &str| {
        let (b, policy) = (arg(bundle), arg(policy));
        let to = format!("{}/{prefix}", reg.host());
        run_in(
            kit.dir(),
            &[
                "import",
                &b,
                "--to",
                &to,
                "--trust-policy",
                &policy,
                "--trust-store",
                &store,
                "--at",
                AT,
            ],
        )
    };
    let short = lax_local_policy_for(&kit, "docker.io/alpine");
    let long = lax_local_policy_for(&kit, "docker.io/library/alpine");
    // Control: the publisher's image under the Docker Hub name, judged by its own statement.
    let genuine = kit.copy("docker-hub-genuine");
    set_name(&genuine, REF, "docker.io/library/alpine:3");
    let r = import(&genuine, &short, "control");
    assert_eq!(r.code, 0, "{}", show(&r));
    let (status, _) = http_get(&reg.host(), "/v2/control/library/alpine/manifests/3");
    assert_eq!(status, 200, "the genuine image went in");
    for (n, (policy, evil, repository)) in [
        (&short, "evil.example/library/alpine:3", "library/alpine"),
        (&long, "evil.example/alpine:3", "alpine"),
        (&short, "evil.example/alpine:3", "alpine"),
        (&long, "evil.example/library/alpine:3", "library/alpine"),
    ]
    .into_iter()
    .enumerate()
    {
        let b = carrier_bundle_named(&kit, &format!("docker-hub-evil-{n}"), evil);
        let prefix = format!("site{n}");
        let r = import(&b, policy, &prefix);
        assert_eq!(r.code, 1, "{evil}: {}", show(&r));
        assert!(r.stderr.contains("scope_unknown"), "{evil}: {}", show(&r));
        assert!(
            r.stderr.contains("nothing was pushed"),
            "{evil}: {}",
            show(&r)
        );
        let (status, _) = http_get(
            &reg.host(),
            &format!("/v2/{prefix}/{repository}/manifests/3"),
        );
        assert_eq!(
            status, 404,
            "{evil}: nothing pushed over the protected repository"
        );
    }
}

#[test]
fn import_with_a_scope_refuses_an_image_whose_own_repository_another_statement_protects() {
    // --scope judges every image by the scope's statement, but import pushes each under its own
    // name. A carrier's unsigned image named as the publisher's, imported with the scope of the
    // lax statement (`skip`), would pass and land in the repository the strict statement
    // protects: it must be refused. The legitimate use stays: a tag-only layout (`v1`, pushed to
    // the --to prefix) judged by the scope the operator names.
    let Some(reg) = TestRegistry::start(None) else {
        eprintln!("skipping: no docker-registry");
        return;
    };
    let kit = Kit::new();
    let policy = arg(&kit.trust.policy);
    let store = arg(&kit.trust.store);
    let import = |bundle: &Path, prefix: &str, scope: &str| {
        let b = arg(bundle);
        let to = format!("{}/{prefix}", reg.host());
        run_in(
            kit.dir(),
            &[
                "import",
                &b,
                "--to",
                &to,
                "--scope",
                scope,
                "--trust-policy",
                &policy,
                "--trust-store",
                &store,
                "--at",
                AT,
            ],
        )
    };
    // The carrier's image under the publisher's name, judged by the scratch (skip) statement.
    let b = carrier_bundle_named(&kit, "scope-carried", REF);
    let v = verify_trust(
        &b,
        &[
            "--scope",
            SCRATCH,
            "--trust-policy",
            &policy,
            "--trust-store",
            &store,
            "--at",
            AT,
        ],
    );
    assert_eq!(v.code, 0, "verify judges by the scope given: {}", show(&v));
    let r = import(&b, "site", SCRATCH);
    assert_eq!(r.code, 1, "{}", show(&r));
    assert!(r.stderr.contains("scope_unknown"), "{}", show(&r));
    assert!(r.stderr.contains("--scope"), "{}", show(&r));
    assert!(r.stderr.contains("nothing was pushed"), "{}", show(&r));
    let (status, _) = http_get(&reg.host(), "/v2/site/airlock/sample/manifests/1.0");
    assert_eq!(status, 404, "nothing pushed over the protected repository");
    // The same image under its own statement's scope: judged strictly, refused as unsigned.
    let r = import(&b, "site", SCOPE);
    assert_eq!(r.code, 1, "{}", show(&r));
    // Control: the honest image with the scope of its own statement goes in.
    let r = import(&kit.honest, "honest", SCOPE);
    assert_eq!(r.code, 0, "{}", show(&r));
    let (status, _) = http_get(&reg.host(), "/v2/honest/airlock/sample/manifests/1.0");
    assert_eq!(status, 200);
    // The legitimate use: tag-only names, the prefix as repository, judged by the scope named
    // (the publisher's image by its strict statement, the carrier's by the scratch one).
    let tagged = kit.copy("scope-tag-only");
    set_name(&tagged, REF, "v1");
    let r = import(&tagged, "tools/app", SCOPE);
    assert_eq!(r.code, 0, "{}", show(&r));
    let (status, _) = http_get(&reg.host(), "/v2/tools/app/manifests/v1");
    assert_eq!(status, 200, "the tag-only image went to the prefix");
    let scratch = carrier_bundle_named(&kit, "scope-tag-only-scratch", "v2");
    let r = import(&scratch, "tools/scratch", SCRATCH);
    assert_eq!(r.code, 0, "{}", show(&r));
    let (status, _) = http_get(&reg.host(), "/v2/tools/scratch/manifests/v2");
    assert_eq!(status, 200, "the tag-only image went to the prefix");
}

#[test]
fn verify_with_trust_bundled_always_warns_and_is_never_pinned() {
    // Whatever the output options, a pass anchored in the bundle itself says so on stderr, and the
    // report says bundled-unpinned with no pin.
    let kit = Kit::new();
    for quiet in [None, Some("-q"), Some("-qq")] {
        let b = arg(&kit.honest);
        let mut args = vec!["verify", b.as_str(), "--trust-bundled", "--at", AT];
        args.extend(["--format", "json", "--no-progress"]);
        if let Some(q) = quiet {
            args.insert(0, q);
        }
        let r = run_in(kit.dir(), &args);
        let j = passes(&r);
        assert!(
            r.stderr
                .contains("WARNING: trust anchored in the bundle itself"),
            "{quiet:?}: {}",
            show(&r)
        );
        assert_eq!(j["trustAnchor"]["mode"], "bundled-unpinned", "{j}");
        assert_eq!(j["trustAnchor"]["pin"], Value::Null, "{j}");
    }
}

#[test]
fn import_with_trust_bundled_always_says_the_trust_is_unpinned() {
    // --trust-bundled proves integrity only: import must say so (even with -q) and report the
    // anchor in its JSON, never push silently as if the bundle had been pinned.
    let Some(reg) = TestRegistry::start(None) else {
        eprintln!("skipping: no docker-registry");
        return;
    };
    let kit = Kit::new();
    let to = format!("{}/unpinned", reg.host());
    for quiet in [None, Some("-q"), Some("-qq")] {
        let mut args = vec!["import", kit.honest.to_str().unwrap(), "--to", &to];
        args.extend(["--trust-bundled", "--at", AT, "--format", "json"]);
        if let Some(q) = quiet {
            args.insert(0, q);
        }
        let r = run_in(kit.dir(), &args);
        assert_eq!(r.code, 0, "{}", show(&r));
        assert!(
            r.stderr
                .contains("WARNING: trust anchored in the bundle itself"),
            "{quiet:?}: {}",
            show(&r)
        );
        let j: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(j["trustAnchor"]["mode"], "bundled-unpinned", "{j}");
        assert_eq!(j["trustAnchor"]["pin"], Value::Null, "{j}");
    }
    // Pinned: no such warning, the anchor says pinned.
    let r = run_in(
        kit.dir(),
        &[
            "import",
            kit.honest.to_str().unwrap(),
            "--to",
            &to,
            "--pin",
            &kit.pin,
            "--at",
            AT,
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    assert!(
        !r.stderr.contains("WARNING: trust anchored"),
        "{}",
        show(&r)
    );
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["trustAnchor"]["mode"], "pinned", "{j}");
    assert_eq!(j["trustAnchor"]["pin"], kit.pin.as_str(), "{j}");
}

// --- 10. Referrers a carrier adds change no verdict -------------------------------------------

/// Adds a referrer of `subject` (an `index.json` entry) to `bundle`: an empty config, one layer of
/// `layer_type` holding `layer`, the manifest with `artifact_type`, listed in `index.json` and in
/// the subject's `sha256-<hex>` tag index (created when absent). Returns the manifest's digest.
fn add_referrer(
    bundle: &Path,
    subject: &Value,
    artifact_type: &str,
    layer_type: &str,
    layer: &[u8],
) -> String {
    let empty = "application/vnd.oci.empty.v1+json";
    let (cd, cs) = put(bundle, b"{}");
    let (ld, ls) = put(bundle, layer);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": artifact_type,
        "config": {"mediaType": empty, "digest": cd, "size": cs},
        "layers": [{"mediaType": layer_type, "digest": ld, "size": ls}],
        "subject": {
            "mediaType": subject["mediaType"], "digest": subject["digest"], "size": subject["size"]
        },
    });
    let (md, ms) = put(bundle, &serde_json::to_vec(&manifest).unwrap());
    let desc = json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": md, "size": ms, "artifactType": artifact_type,
    });
    let tag = format!(
        "sha256-{}",
        subject["digest"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
    );
    let mut list = entries(bundle);
    let mut found = false;
    for e in list.iter_mut() {
        if e["annotations"][REF_NAME] == tag.as_str() {
            let mut idx = read_json(&blob(bundle, e["digest"].as_str().unwrap()));
            idx["manifests"].as_array_mut().unwrap().push(desc.clone());
            let (d, size) = put(bundle, &serde_json::to_vec(&idx).unwrap());
            e["digest"] = json!(d);
            e["size"] = json!(size);
            found = true;
        }
    }
    if !found {
        let idx = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [desc.clone()],
        });
        let (d, size) = put(bundle, &serde_json::to_vec(&idx).unwrap());
        list.push(json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": d, "size": size, "annotations": {REF_NAME: tag},
        }));
    }
    list.push(desc);
    set_entries(bundle, list);
    md
}

/// What a verdict is made of: exit status, verdict, failure codes and each image's verdict and
/// signatures (digest, verdict).
fn verdict_of(r: &Run) -> (i32, Value, Vec<String>, Vec<Value>) {
    let j = r.json();
    let images = j["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|im| {
            json!({
                "verdict": im["verdict"],
                "signatures": im["signatures"].as_array().unwrap().iter()
                    .map(|s| json!([s["digest"], s["verdict"]])).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut codes = r.codes();
    codes.sort();
    (r.code, j["verdict"].clone(), codes, images)
}

#[test]
fn referrers_a_carrier_adds_change_no_verdict() {
    let kit = Kit::new();
    // The envelope bytes of the publisher's own signature: a valid notation JWS envelope for the
    // image, which the carrier re-labels as an attestation.
    let sig = signatures(&kit.honest)[0].clone();
    let sig_manifest = read_json(&blob(&kit.honest, &sig));
    let env_type = sig_manifest["layers"][0]["mediaType"]
        .as_str()
        .unwrap()
        .to_owned();
    let env = fs::read(blob(
        &kit.honest,
        sig_manifest["layers"][0]["digest"].as_str().unwrap(),
    ))
    .unwrap();
    let additions = |b: &Path| -> Vec<String> {
        let image = image_entry(b, REF);
        let sbom = add_referrer(
            b,
            &image,
            "application/spdx+json",
            "application/spdx+json",
            b"{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"carrier\"}",
        );
        // The publisher's valid envelope under another artifact type: no signature.
        let att = add_referrer(b, &image, "application/vnd.in-toto+json", &env_type, &env);
        // A referrer of the referrer.
        let att_entry = entries(b)
            .into_iter()
            .find(|e| e["digest"] == att.as_str())
            .unwrap();
        let sig_of_att = add_referrer(
            b,
            &att_entry,
            "application/vnd.dev.cosign.artifact.sig.v1+json",
            &env_type,
            &env,
        );
        vec![sbom, att, sig_of_att]
    };
    // A passing bundle still passes, with the same signatures judged; the additions are listed as
    // carried, not verified.
    let before = kit.verify(&kit.honest, &kit.pin);
    let b = kit.copy("referrers-pass");
    let added = additions(&b);
    let after = kit.verify(&b, &kit.pin);
    assert_eq!(verdict_of(&before), verdict_of(&after), "{}", show(&after));
    let j = passes(&after);
    let refs = j["images"][0]["referrers"].as_array().unwrap();
    for d in &added {
        let r = refs
            .iter()
            .find(|r| r["digest"] == d.as_str())
            .unwrap_or_else(|| panic!("{d} listed: {j}"));
        assert_eq!(r["checked"], "integrity", "{j}");
    }
    for r in refs {
        let sig = r["artifactType"] == NOTARY;
        assert_eq!(
            r["checked"],
            if sig { "signature" } else { "integrity" },
            "{j}"
        );
    }
    // A failing bundle (the publisher's signatures removed) still fails, for the same reasons: the
    // re-labelled valid envelope never counts as a signature.
    let b = kit.copy("referrers-fail");
    drop_signatures(&b, &signatures(&b));
    let before = kit.verify(&b, &kit.pin);
    assert_eq!(before.code, 1, "{}", show(&before));
    additions(&b);
    let after = kit.verify(&b, &kit.pin);
    assert_eq!(verdict_of(&before), verdict_of(&after), "{}", show(&after));
}

#[test]
fn a_bundle_whose_images_were_removed_or_relabelled_verifies_nothing_and_fails() {
    // Under local trust there is no record to miss an image: a carrier who drops every image
    // entry, or relabels it as a trust artifact, must not leave a bundle that "verifies".
    let kit = Kit::new();
    let policy = arg(&kit.trust.policy);
    let store = arg(&kit.trust.store);
    let local = local_trust(&policy, &store);
    let dropped = kit.copy("no-image");
    let list = entries(&dropped)
        .into_iter()
        .filter(|e| name_of(e) != Some(REF))
        .collect();
    set_entries(&dropped, list);
    let relabelled = kit.copy("image-as-trust");
    let list = entries(&relabelled)
        .into_iter()
        .map(|mut e| {
            if name_of(&e) == Some(REF) {
                e["artifactType"] = json!(TRUST);
            }
            e
        })
        .collect();
    set_entries(&relabelled, list);
    for b in [&dropped, &relabelled] {
        fails_with(&verify_trust(b, &local), &["image_not_found"]);
        fails_with(&kit.verify(b, &kit.pin), &["exported_image_missing"]);
    }
    // Integrity-only mode judges bytes, not images: an empty layout stays well formed.
    let r = verify_json(&dropped, &[]);
    assert_eq!(r.code, 0, "{}", show(&r));
}

// --- 12. What a carrier's labels and annotations cannot decide (red team, seventh session) ------

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const EXCLUDED: &str = "io.airlock.export.excluded";

/// The descriptor of a blob of `bundle`, with its media type.
fn desc_of(media_type: &str, digest: &str, size: usize) -> Value {
    json!({"mediaType": media_type, "digest": digest, "size": size})
}

/// Points the index.json entry named `name` at `digest` (an index), with `annotations` added.
fn repoint(bundle: &Path, name: &str, digest: &str, size: usize, annotations: &[(&str, &str)]) {
    let list = entries(bundle)
        .into_iter()
        .map(|mut e| {
            if name_of(&e) == Some(name) {
                e["digest"] = json!(digest);
                e["size"] = json!(size);
                e["mediaType"] = json!(OCI_INDEX);
                for (k, v) in annotations {
                    e["annotations"][*k] = json!(v);
                }
            }
            e
        })
        .collect();
    set_entries(bundle, list);
}

/// Adds `annotation` to the index.json entry named `name`.
fn annotate(bundle: &Path, name: &str, key: &str, value: &str) {
    let list = entries(bundle)
        .into_iter()
        .map(|mut e| {
            if name_of(&e) == Some(name) {
                e["annotations"][key] = json!(value);
            }
            e
        })
        .collect();
    set_entries(bundle, list);
}

/// The platform manifests of the image named [`REF`] (its index's `manifests`).
fn platforms_of(bundle: &Path) -> Vec<Value> {
    let image = image_entry(bundle, REF);
    read_json(&blob(bundle, image["digest"].as_str().unwrap()))["manifests"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn local_trust_fails_an_unsigned_index_that_leaves_a_platform_out() {
    // Under local trust nothing vouches for an index without signatures: the carrier wrote it,
    // and which platform manifests it lists. One it lists but leaves out of the bundle (the
    // `--platform` annotation set by the carrier) is judged by nothing, and would be pushed by
    // the index's digest onto whatever the site registry holds under it.
    let kit = Kit::new();
    let (policy, store) = (arg(&kit.trust.policy), arg(&kit.trust.store));
    let local = local_trust(&policy, &store);
    let b = kit.copy("unsigned-index");
    drop_signatures(&b, &signatures(&b));
    let amd64 = platforms_of(&b)[0].clone();
    // The publisher signed the amd64 manifest itself (a per-platform signature upstream).
    let target = format!("{}@{}", arg(&b), amd64["digest"].as_str().unwrap());
    let (key, chain) = (
        arg(&kit.publisher.signer.key),
        arg(&kit.publisher.signer.chain),
    );
    let r = run_in(
        kit.dir(),
        &[
            "sign",
            &target,
            "--key",
            &key,
            "--cert",
            &chain,
            "--signing-time",
            SIGNED,
        ],
    );
    assert_eq!(r.code, 0, "{}", show(&r));
    let carrier_platform = json!({
        "mediaType": OCI_MANIFEST,
        "digest": sha(b"the carrier's arm64 image manifest"),
        "size": 34,
        "platform": {"architecture": "arm64", "os": "linux"},
    });
    let index = |children: Vec<Value>| {
        put(
            &b,
            &serde_json::to_vec(&json!({
                "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children,
            }))
            .unwrap(),
        )
    };
    // Control: the carrier's index of the signed amd64 manifest alone passes (erratum 18: an
    // index without signatures is judged by every platform manifest it lists).
    let (d, size) = index(vec![amd64.clone()]);
    repoint(&b, REF, &d, size, &[]);
    passes(&verify_trust(&b, &local));
    // With a platform the bundle does not carry, said to be left out by `--platform`: judged by
    // nothing, so the image fails.
    let (d, size) = index(vec![amd64.clone(), carrier_platform.clone()]);
    let left_out = carrier_platform["digest"].as_str().unwrap();
    repoint(&b, REF, &d, size, &[(EXCLUDED, left_out)]);
    let r = verify_trust(&b, &local);
    fails_with(&r, &["no_signature"]);
    let j = r.json();
    assert!(
        j["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "no_signature"
                && f["message"].as_str().unwrap().contains(left_out)),
        "{j}"
    );
    // The signed index of the honest bundle may leave a platform out: its signature commits to
    // every child by digest.
    let b = kit.copy("signed-index-left-out");
    let arm64 = platforms_of(&b)[1]["digest"].as_str().unwrap().to_owned();
    fs::remove_file(blob(&b, &arm64)).unwrap();
    annotate(&b, REF, EXCLUDED, &arm64);
    let j = passes(&verify_trust(&b, &local));
    assert!(
        codes_of(&j, "warnings").contains(&"excluded_by_export".to_owned()),
        "{j}"
    );
    // But `--platform` leaves out platform manifests only: never a layer.
    let b = kit.copy("layer-left-out");
    let amd64 = platforms_of(&b)[0]["digest"].as_str().unwrap().to_owned();
    let layer = read_json(&blob(&b, &amd64))["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    fs::remove_file(blob(&b, &layer)).unwrap();
    annotate(&b, REF, EXCLUDED, &layer);
    fails_with(&verify_trust(&b, &local), &["blob_missing"]);
}

#[test]
fn under_the_pin_an_exclusion_annotation_excuses_no_layer_and_no_unrecorded_platform() {
    // The `--platform` annotation is the carrier's word; the pinned record says which platform
    // manifests the export left out, and `--platform` never leaves out a layer.
    let kit = Kit::new();
    let b = kit.copy("layer-excluded");
    let platform = platforms_of(&b)[0]["digest"].as_str().unwrap().to_owned();
    let manifest = read_json(&blob(&b, &platform));
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    fs::remove_file(blob(&b, layer)).unwrap();
    annotate(&b, REF, EXCLUDED, layer);
    fails_with(&kit.verify(&b, &kit.pin), &["blob_missing"]);
    let b = kit.copy("platform-excluded");
    fs::remove_file(blob(&b, &platform)).unwrap();
    annotate(&b, REF, EXCLUDED, &platform);
    fails_with(&kit.verify(&b, &kit.pin), &["blob_missing"]);
    // Control: exported with `--platform`, the record lists what was left out.
    let (one, r) = kit.export("one-platform", &["--platform", "linux/amd64"]);
    let j = passes(&kit.verify(&one, &pin_of(&r)));
    assert!(
        codes_of(&j, "warnings").contains(&"excluded_by_export".to_owned()),
        "{j}"
    );
}

#[test]
fn under_the_pin_an_unrecorded_artifact_of_the_image_is_reported_whatever_its_labels() {
    // Whatever a carrier's entry calls itself (a notation signature that is no signature manifest,
    // a trust artifact with a subject, a referrers tag index with a subject, a cosign tag name),
    // an artifact of the image that the pinned record does not list is reported, and so left
    // behind by `import --pin` (whose plan leaves every reported digest out).
    let kit = Kit::new();
    let b = kit.copy("labelled");
    let image = image_entry(&b, REF);
    let subject = desc_of(
        OCI_INDEX,
        image["digest"].as_str().unwrap(),
        usize::try_from(image["size"].as_u64().unwrap()).unwrap(),
    );
    let hex = image["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_owned();
    // A runnable image manifest of the carrier's (config and one layer), with extra fields.
    let runnable = |extra: Value, n: u8| -> Value {
        let (cd, cs) = put(
            &b,
            format!(r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"n":{n}}}"#).as_bytes(),
        );
        let (ld, ls) = put(&b, format!("carrier layer {n}").as_bytes());
        let mut m = json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": desc_of("application/vnd.oci.image.config.v1+json", &cd, cs),
            "layers": [desc_of("application/vnd.oci.image.layer.v1.tar", &ld, ls)],
        });
        for (k, v) in extra.as_object().unwrap() {
            m[k] = v.clone();
        }
        m
    };
    let mut list = entries(&b);
    let mut added = Vec::new();
    let mut add = |doc: Value, entry: Value| {
        let (d, size) = put(&b, &serde_json::to_vec(&doc).unwrap());
        let mut e = entry;
        e["digest"] = json!(d);
        e["size"] = json!(size);
        list.push(e);
        added.push(d);
    };
    add(
        runnable(json!({"artifactType": NOTARY, "subject": subject}), 1),
        json!({"mediaType": OCI_MANIFEST, "artifactType": NOTARY}),
    );
    add(
        runnable(json!({"artifactType": TRUST, "subject": subject}), 2),
        json!({"mediaType": OCI_MANIFEST, "artifactType": TRUST}),
    );
    let inner = runnable(json!({}), 3);
    let (id, is) = put(&b, &serde_json::to_vec(&inner).unwrap());
    add(
        json!({"schemaVersion": 2, "mediaType": OCI_INDEX,
               "manifests": [desc_of(OCI_MANIFEST, &id, is)], "subject": subject}),
        json!({"mediaType": OCI_INDEX, "annotations": {REF_NAME: format!("sha256-{hex}")}}),
    );
    add(
        runnable(json!({}), 4),
        json!({"mediaType": OCI_MANIFEST, "annotations": {REF_NAME: format!("sha256-{hex}.sig")}}),
    );
    set_entries(&b, list);
    let r = kit.verify(&b, &kit.pin);
    let j = passes(&r);
    for d in &added {
        assert!(
            has_finding(&j, "warnings", "not_in_export_record", d),
            "{d} is not reported: {}",
            show(&r)
        );
    }
    // The "signature" that is no signature manifest was never evaluated as one: the report says
    // it was integrity checked only.
    let listed = j["images"][0]["referrers"].as_array().unwrap();
    let fake = listed
        .iter()
        .find(|r| r["digest"] == added[0].as_str())
        .unwrap_or_else(|| panic!("listed: {j}"));
    assert_eq!(fake["checked"], "integrity", "{j}");
    // The honest bundle reports nothing of the kind.
    let honest = kit.verify(&kit.honest, &kit.pin);
    assert!(
        !codes_of(&passes(&honest), "warnings").contains(&"not_in_export_record".to_owned()),
        "{}",
        show(&honest)
    );
}

#[test]
fn a_signed_export_record_vouches_only_for_the_images_it_lists() {
    // Under local trust the operator requires signed exports (a statement for airlock/export).
    // The carrier replays a genuinely signed trust artifact beside an image its record does not
    // list (here the exported image under another tag): the export signature verifies, but it
    // vouches for nothing the bundle now carries under that name.
    let kit = Kit::new();
    let (signed, r, p) = kit.signed_export();
    // Under its pin, the honest signed export reports nothing unrecorded: its export signature
    // is judged by exportedBy, not taken for an artifact added after the export.
    let j = passes(&kit.verify(&signed, &pin_of(&r)));
    assert!(
        !codes_of(&j, "warnings").contains(&"not_in_export_record".to_owned()),
        "{j}"
    );
    let (p, st) = (arg(&p), arg(&kit.trust.store));
    let local = local_trust(&p, &st);
    let e = passes(&verify_trust(&signed, &local))["exportedBy"].clone();
    assert_eq!(e["verdict"], "pass", "{e}");
    let renamed = "registry.example/airlock/sample:2.0";
    set_name(&signed, REF, renamed);
    let r = verify_trust(&signed, &local);
    fails_with(&r, &["not_in_export_record"]);
    let e = r.json()["exportedBy"].clone();
    assert_eq!(e["verdict"], "fail", "{e}");
    assert!(
        e["failure"]["message"].as_str().unwrap().contains(renamed),
        "{e}"
    );
    // The image itself still passes on its own signature: only the export's claim is refused.
    assert_eq!(r.json()["images"][0]["verdict"], "pass", "{}", show(&r));
}

#[test]
fn under_local_trust_a_signed_export_record_reports_what_it_does_not_list() {
    // The operator requires signed exports; the export signature passes. A carrier adds an
    // attestation beside the image, or drops a platform and says `--platform` left it out: the
    // signed record lists neither, so the attestation is reported (and left behind by import, as
    // under `--pin`) and the platform is missing (red team F, F3: both passed silently under local
    // trust, with `exportedBy: pass`).
    let kit = Kit::new();
    let (signed, _, p) = kit.signed_export();
    let (p, st) = (arg(&p), arg(&kit.trust.store));
    let local = local_trust(&p, &st);
    let honest = passes(&verify_trust(&signed, &local));
    assert_eq!(honest["exportedBy"]["verdict"], "pass", "{honest}");
    assert!(
        !codes_of(&honest, "warnings").contains(&"not_in_export_record".to_owned()),
        "{honest}"
    );

    // An attestation of the carrier's, as a referrer of the image.
    // A platform dropped, "left out by --platform" in the carrier's annotation (on a copy).
    let dropped = copy_to(&signed, &kit.dir().join("signed-dropped"));
    let platform = platforms_of(&dropped)[0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    fs::remove_file(blob(&dropped, &platform)).unwrap();
    annotate(&dropped, REF, EXCLUDED, &platform);
    let r = verify_trust(&dropped, &local);
    fails_with(&r, &["blob_missing"]);
    assert_eq!(r.json()["exportedBy"]["verdict"], "pass", "{}", show(&r));

    let b = signed;
    let image = image_entry(&b, REF);
    let subject = desc_of(
        OCI_INDEX,
        image["digest"].as_str().unwrap(),
        usize::try_from(image["size"].as_u64().unwrap()).unwrap(),
    );
    let (cd, cs) = put(&b, b"{}");
    let (ld, ls) = put(&b, br#"{"verdict":"CLEAN"}"#);
    let doc = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "artifactType": "application/vnd.in-toto+json",
        "config": desc_of("application/vnd.oci.empty.v1+json", &cd, cs),
        "layers": [desc_of("application/vnd.in-toto+json", &ld, ls)],
        "subject": subject,
    });
    let (d, size) = put(&b, &serde_json::to_vec(&doc).unwrap());
    let mut list = entries(&b);
    list.push(
        json!({"mediaType": OCI_MANIFEST, "artifactType": "application/vnd.in-toto+json",
                     "digest": d, "size": size}),
    );
    set_entries(&b, list);
    let r = verify_trust(&b, &local);
    let j = passes(&r);
    assert!(
        has_finding(&j, "warnings", "not_in_export_record", &d),
        "{}",
        show(&r)
    );
    assert!(
        j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["message"]
                .as_str()
                .unwrap()
                .contains("not in the signed export record")),
        "{j}"
    );
}

/// A copy of the directory bundle `from` at `to`, for the carrier to work on.
fn copy_to(from: &Path, to: &Path) -> PathBuf {
    for f in files_of(from) {
        let dest = to.join(&f);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(from.join(&f), dest).unwrap();
    }
    to.to_path_buf()
}

#[test]
fn an_authenticated_record_reports_the_images_and_referrers_a_carrier_withholds() {
    // The export record lists the image under its name and its SBOM. A carrier withholds the
    // SBOM (a vulnerability report, a VEX statement: which of upstream's attestations reach the
    // site) or carries the image under another name: under `--pin`, and under local trust once
    // the export signature passes, each is `exported_image_missing` (red team J, J1 and J5: the
    // image check was pinned-only and no referrer was checked; both passed with `exportedBy:
    // pass` and a PASSED receipt).
    let kit = Kit::new();
    let (signed, _, p) = kit.signed_export();
    let (p, st) = (arg(&p), arg(&kit.trust.store));
    let local = local_trust(&p, &st);
    let drop_sbom = |b: &Path| -> String {
        let list = entries(b);
        let sbom = list
            .iter()
            .find(|e| e["artifactType"] == "application/spdx+json")
            .expect("the fixture's SBOM entry")["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        set_entries(
            b,
            list.into_iter().filter(|e| e["digest"] != sbom).collect(),
        );
        sbom
    };
    // Local trust, signed record.
    let b = copy_to(&signed, &kit.dir().join("signed-no-sbom"));
    let sbom = drop_sbom(&b);
    let r = verify_trust(&b, &local);
    fails_with(&r, &["exported_image_missing"]);
    assert!(
        has_finding(&r.json(), "failures", "exported_image_missing", &sbom),
        "{}",
        show(&r)
    );
    assert_eq!(r.json()["exportedBy"]["verdict"], "pass", "{}", show(&r));
    let b = copy_to(&signed, &kit.dir().join("signed-renamed"));
    let list = entries(&b)
        .into_iter()
        .map(|mut e| {
            if name_of(&e) == Some(REF) {
                e["annotations"] = json!({ REF_NAME: "registry.example/airlock/sample:9.9" });
            }
            e
        })
        .collect();
    set_entries(&b, list);
    // (The image under another name is also `not_in_export_record`, which fails the export
    // signature: a bundle of two images with one withheld is `record_tests`' case.)
    fails_with(
        &verify_trust(&b, &local),
        &["exported_image_missing", "not_in_export_record"],
    );
    // Pinned.
    let b = kit.copy("pinned-no-sbom");
    let sbom = drop_sbom(&b);
    let r = kit.verify(&b, &kit.pin);
    fails_with(&r, &["exported_image_missing"]);
    assert!(
        has_finding(&r.json(), "failures", "exported_image_missing", &sbom),
        "{}",
        show(&r)
    );
}
