//! `airlock inventory`: from bundles on disk in each form (re-hashed: a tampered blob is not
//! listed), and from a real registry, walked through tags, an index of indexes and referrers tags,
//! with blob presence checked by HEAD.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::registry_util::*;

const AT: &str = "2026-12-05T00:00:00Z";

/// The fixture layout as `fx` in `dir`.
fn fixture(dir: &Path) -> std::path::PathBuf {
    let r = run_in(
        dir,
        &["fixture", "--layer-size", "4096", "--no-progress", "fx"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    dir.join("fx")
}

/// digest -> size of every file under `blobs/sha256/`.
fn blobs_on_disk(layout: &Path) -> BTreeMap<String, u64> {
    fs::read_dir(layout.join("blobs/sha256"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                format!("sha256:{}", e.file_name().to_string_lossy()),
                e.metadata().unwrap().len(),
            )
        })
        .collect()
}

fn listed(inv: &Value) -> BTreeMap<String, u64> {
    inv["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["digest"].as_str().unwrap().to_owned(),
                b["size"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn bundles_in_every_form_list_the_same_blobs_and_a_tampered_blob_is_left_out() {
    let t = tempfile::tempdir().unwrap();
    let fx = fixture(t.path());
    let tar = t.path().join("fx.tar");
    let zst = t.path().join("fx.tar.zst");
    let gz = t.path().join("fx.tar.gz");
    airlock::layout::write_layout_tar(&fx, &tar, airlock::archive::Compression::None).unwrap();
    airlock::layout::write_layout_tar(&fx, &zst, airlock::archive::Compression::Zstd).unwrap();
    airlock::layout::write_layout_tar(&fx, &gz, airlock::archive::Compression::Gzip).unwrap();
    let want = blobs_on_disk(&fx);
    let index_digest = format!(
        "sha256:{}",
        sha256_hex(&fs::read(fx.join("index.json")).unwrap())
    );
    for src in ["fx", "fx.tar", "fx.tar.zst", "fx.tar.gz"] {
        let r = run_in(t.path(), &["inventory", src, "--at", AT]);
        assert_eq!(r.code, 0, "{src}: {}", r.stderr);
        let inv: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(inv["schemaVersion"], 1);
        assert_eq!(inv["createdAt"], AT);
        assert_eq!(listed(&inv), want, "{src}");
        assert_eq!(inv["sources"][0]["kind"], "bundle");
        assert_eq!(inv["sources"][0]["bundleDigest"], index_digest.as_str());
    }
    // Deterministic: the same inputs, the same bytes.
    let a = run_in(t.path(), &["inventory", "fx", "fx.tar.zst", "--at", AT]);
    let b = run_in(t.path(), &["inventory", "fx", "fx.tar.zst", "--at", AT]);
    assert_eq!(a.stdout, b.stdout);

    // A layer whose bytes changed is not listed (its name is a claim, not a fact).
    let (victim, _) = want
        .iter()
        .max_by_key(|(_, size)| **size)
        .map(|(d, s)| (d.clone(), *s))
        .unwrap();
    let path = blob(&fx, &victim);
    let mut bytes = fs::read(&path).unwrap();
    bytes[0] ^= 1;
    fs::write(&path, bytes).unwrap();
    let out = t.path().join("inv.json");
    let r = run_in(t.path(), &["inventory", "fx", "-o", &arg(&out), "--at", AT]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains(&victim), "{}", r.stderr);
    let inv = read_json(&out);
    let got = listed(&inv);
    assert!(!got.contains_key(&victim));
    assert_eq!(got.len(), want.len() - 1);
    // The file was renamed into place: no temporary left beside it.
    let names: Vec<_> = fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("inv"))
        .collect();
    assert_eq!(names, vec!["inv.json"]);

    // Nothing to inventory is a usage error.
    assert_eq!(run_in(t.path(), &["inventory"]).code, 2);
    // A bundle that cannot be read is an operational error, not an empty inventory.
    assert_eq!(run_in(t.path(), &["inventory", "nope.tar"]).code, 2);
}

fn sha256_hex(b: &[u8]) -> String {
    airlock::digest::Digest::sha256(b)
        .to_string()
        .trim_start_matches("sha256:")
        .to_owned()
}

#[test]
fn a_registry_is_walked_through_an_index_of_indexes_and_only_held_blobs_are_listed() {
    let t = tempfile::tempdir().unwrap();
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let fx = fixture(t.path());
    // The fixture imported as the site would have it: HOST/site/airlock/sample:1.0.
    let r = run_in(
        t.path(),
        &[
            "import",
            "fx",
            "--to",
            &format!("{}/site", reg.host()),
            "--integrity-only",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    // Repository `nest` holds the same image only under an index of indexes (tag `outer`): the
    // walk must go outer index -> image index -> platform manifests -> blobs.
    use airlock::registry::{Options, Registry};
    let client = Registry::new(Options {
        plain_http: vec![reg.host()],
        retries: 1,
        ..Options::default()
    })
    .unwrap();
    let repo = Registry::parse(&format!("{}/nest", reg.host())).unwrap();
    let index = read_json(&fx.join("index.json"));
    let image = &index["manifests"][0];
    let image_digest = image["digest"].as_str().unwrap();
    let image_index = read_json(&blob(&fx, image_digest));
    let mut layer_digests = Vec::new();
    for m in image_index["manifests"].as_array().unwrap() {
        let md = m["digest"].as_str().unwrap();
        let man = read_json(&blob(&fx, md));
        for b in std::iter::once(&man["config"]).chain(man["layers"].as_array().unwrap()) {
            let desc: airlock::layout::model::Descriptor =
                serde_json::from_value(b.clone()).unwrap();
            layer_digests.push(desc.digest.clone());
            client
                .push_blob(
                    &repo,
                    &desc,
                    Box::new(fs::File::open(blob(&fx, &desc.digest)).unwrap()),
                )
                .unwrap();
        }
        let r = Registry::parse(&format!("{}/nest@{md}", reg.host())).unwrap();
        client
            .push_manifest(
                &r,
                m["mediaType"].as_str().unwrap(),
                &fs::read(blob(&fx, md)).unwrap(),
            )
            .unwrap();
    }
    let r = Registry::parse(&format!("{}/nest@{image_digest}", reg.host())).unwrap();
    client
        .push_manifest(
            &r,
            "application/vnd.oci.image.index.v1+json",
            &fs::read(blob(&fx, image_digest)).unwrap(),
        )
        .unwrap();
    let outer = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                       "digest": image_digest, "size": image["size"]}]
    });
    let r = Registry::parse(&format!("{}/nest:outer", reg.host())).unwrap();
    client
        .push_manifest(
            &r,
            "application/vnd.oci.image.index.v1+json",
            &serde_json::to_vec(&outer).unwrap(),
        )
        .unwrap();

    let out = t.path().join("site.json");
    let r = run_in(
        t.path(),
        &[
            "inventory",
            "--registry",
            &format!("{}/site", reg.host()),
            "--repos-from",
            "fx",
            "-o",
            &arg(&out),
            "--at",
            AT,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inv = read_json(&out);
    let got = listed(&inv);
    let on_disk = blobs_on_disk(&fx);
    let site_repo = format!("{}/site/airlock/sample", reg.host());
    for d in &layer_digests {
        assert_eq!(
            got.get(d),
            on_disk.get(d),
            "{d} missing from the site inventory"
        );
        let entry = inv["blobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["digest"] == d.as_str())
            .unwrap();
        assert_eq!(entry["repositories"][0], site_repo.as_str());
    }
    assert_eq!(inv["sources"][0]["kind"], "registry");
    assert_eq!(inv["sources"][0]["repositories"][0], "site/airlock/sample");

    // The nested repository, named with --repo.
    let r = run_in(
        t.path(),
        &[
            "inventory",
            "--registry",
            &reg.host(),
            "--repo",
            "nest",
            "--at",
            AT,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let inv: Value = serde_json::from_str(&r.stdout).unwrap();
    let got = listed(&inv);
    for d in &layer_digests {
        assert!(
            got.contains_key(d),
            "{d}: the walk did not reach it through the outer index"
        );
    }
    // Only blobs: manifests and indexes are always carried, and are not listed.
    assert!(!got.contains_key(image_digest));

    // A repository the registry does not know is noted, not fatal; an unreachable registry is.
    let r = run_in(
        t.path(),
        &[
            "inventory",
            "--registry",
            &reg.host(),
            "--repo",
            "nobody",
            "--at",
            AT,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("nobody"), "{}", r.stderr);
    let dead = "127.0.0.1:9";
    let r = run_in(
        t.path(),
        &[
            "inventory",
            "--registry",
            dead,
            "--repo",
            "x",
            "--network-timeout",
            "2",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// An inventory comes back from the far side: whoever carries it chooses its bytes. `export
/// --since` refuses one over the size bound (24 MiB: what it parses to is held while the export
/// runs; 200 MB took 814 MiB), malformed JSON, JSON nested past the parser's depth, and a digest
/// listed twice (with two sizes), each as a usage error (exit 2) naming the file, writing nothing.
#[test]
fn hostile_inventories_are_refused_before_anything_is_written() {
    let t = tempfile::tempdir().unwrap();
    let lay = fixture(t.path());
    let good = t.path().join("good.json");
    let r = run_in(t.path(), &["inventory", &arg(&lay), "-o", &arg(&good)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut dup: Value = read_json(&good);
    let mut twice = dup["blobs"][0].clone();
    twice["size"] = Value::from(twice["size"].as_u64().unwrap() + 1);
    dup["blobs"].as_array_mut().unwrap().push(twice);
    let mut big = fs::read(&good).unwrap();
    big.truncate(big.len() - 1); // an unclosed document: padding would not make it valid
    big.resize(25 << 20, b' ');
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("big.json", big, "larger than"),
        (
            "broken.json",
            b"{\"schemaVersion\":1,".to_vec(),
            "broken.json",
        ),
        (
            "deep.json",
            [vec![b'['; 100_000], vec![b']'; 100_000]].concat(),
            "deep.json",
        ),
        (
            "dup.json",
            serde_json::to_vec(&dup).unwrap(),
            "listed twice",
        ),
    ];
    for (name, bytes, want) in cases {
        let p = t.path().join(name);
        fs::write(&p, bytes).unwrap();
        let out = t.path().join(format!("{name}.tar"));
        let r = run_in(
            t.path(),
            &[
                "export",
                "oci:fx:1.0",
                "-o",
                &arg(&out),
                "--since",
                &arg(&p),
            ],
        );
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{name}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
        assert!(!out.exists(), "{name}: a bundle was written");
    }
}
