//! Differential bundles end to end with two real registries: A (connected) holds versions 1 and
//! 2 of an image that share their base layers; B (far side) holds version 1. The weekly workflow:
//! inventory at B, `export --since` at A, verify (with and without `--base`), import at B (and,
//! with a mount, into another repository of B); import into an empty registry refuses and pushes
//! nothing; an inventory that lies makes import refuse cleanly.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::registry_util::*;

const AT: &str = "2026-12-05T00:00:00Z";

fn ok(r: Run) -> Run {
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    r
}

/// Fixture layouts v1 (2 layers per platform) and v2 (the same 2, plus a third).
fn versions(t: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    for (name, layers, reference) in [
        ("v1", "2", "registry.example/app:1"),
        ("v2", "3", "registry.example/app:2"),
    ] {
        ok(run_in(
            t,
            &[
                "fixture",
                "-q",
                "--no-progress",
                "--layer-size",
                "65536",
                "--layers",
                layers,
                "--reference",
                reference,
                name,
            ],
        ));
    }
    (t.join("v1"), t.join("v2"))
}

fn layers_of(v: &Value) -> BTreeSet<String> {
    v["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["digest"].as_str().unwrap().to_owned())
        .collect()
}

/// Tags of a repository of a test registry (empty when it does not exist).
fn tags(reg: &TestRegistry, repo: &str) -> Vec<String> {
    use airlock::registry::{Options, Registry};
    let client = Registry::new(Options {
        plain_http: vec![reg.host()],
        retries: 1,
        ..Options::default()
    })
    .unwrap();
    client
        .tags(&Registry::parse(&format!("{}/{repo}", reg.host())).unwrap())
        .unwrap_or_default()
}

#[test]
fn the_weekly_workflow_carries_only_what_the_far_side_lacks() {
    let t = tempfile::tempdir().unwrap();
    let tp = t.path();
    let Some(a) = TestRegistry::start(None) else {
        return;
    };
    let Some(b) = TestRegistry::start(None) else {
        return;
    };
    let Some(empty) = TestRegistry::start(None) else {
        return;
    };
    let (v1, v2) = versions(tp);
    a.push_layout(&v1, "registry.example/app:1", "app", "1", None);
    a.push_layout(&v2, "registry.example/app:2", "app", "2", None);
    let export = |image: &str, out: &str, extra: &[&str]| {
        let mut args = vec![
            "export".to_owned(),
            format!("{}/app:{image}", a.host()),
            "-o".into(),
            out.into(),
            "--format".into(),
            "json".into(),
            "--plain-http".into(),
            a.host(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(run_in(tp, &refs)).json()
    };

    // Week 1: a full bundle of v1, imported at B.
    export("1", "week1.tar.zst", &[]);
    ok(run_in(
        tp,
        &[
            "import",
            "week1.tar.zst",
            "--to",
            &format!("{}/site", b.host()),
            "--integrity-only",
        ],
    ));
    // The far side writes its inventory and carries it back.
    ok(run_in(
        tp,
        &[
            "inventory",
            "--registry",
            &format!("{}/site", b.host()),
            "--repos-from",
            "week1.tar.zst",
            "-o",
            "site.json",
            "--at",
            AT,
        ],
    ));
    let inv = read_json(&tp.join("site.json"));
    let held = layers_of(&inv);

    // Week 2: v2, full and differential.
    let full = export("2", "full2.tar.zst", &[]);
    let diff = export("2", "diff2.tar.zst", &["--since", "site.json"]);
    let left = diff["leftOutBlobs"].as_u64().unwrap();
    let left_bytes = diff["leftOutBytes"].as_u64().unwrap();
    assert_eq!(
        left, 4,
        "the 2 shared layers of each of the 2 platforms: {diff}"
    );
    assert_eq!(left_bytes, 4 * 65536);
    // Differential + left out = full, but for the export record, which lists what was left out.
    let sum = diff["bytes"].as_u64().unwrap() + left_bytes;
    let whole = full["bytes"].as_u64().unwrap();
    assert!(sum >= whole && sum - whole < 4096, "{sum} vs {whole}");
    let full_size = std::fs::metadata(tp.join("full2.tar.zst")).unwrap().len();
    let diff_size = std::fs::metadata(tp.join("diff2.tar.zst")).unwrap().len();
    assert!(
        diff_size + 4 * 60000 < full_size,
        "the differential bundle ({diff_size}) is smaller than the full one ({full_size}) by the shared layers"
    );
    assert_eq!(full["images"][0]["digest"], diff["images"][0]["digest"]);

    // Inspect says what the bundle lacks, and how much.
    let i = ok(run_in(
        tp,
        &["inspect", "diff2.tar.zst", "--format", "json"],
    ))
    .json();
    assert_eq!(i["leftOut"]["blobs"], 4, "{i}");
    assert_eq!(i["leftOut"]["bytes"], 4 * 65536, "{i}");
    let i = ok(run_in(tp, &["inspect", "diff2.tar.zst"]));
    assert!(
        i.stdout.contains("left out 4 blob(s), 256.0 KiB"),
        "{}",
        i.stdout
    );
    // Verify without an anchor: the record that lists the left-out blobs is the carrier's word,
    // so each is `blob_missing` (a carrier who deleted layers and listed them would otherwise
    // pass). The report still says which were listed, and that nothing vouched for the list.
    let r = run_in(
        tp,
        &[
            "verify",
            "diff2.tar.zst",
            "--integrity-only",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    let rep = r.json();
    assert_eq!(rep["leftOut"]["blobs"], 4);
    assert_eq!(rep["leftOut"]["authenticated"], false);
    let missing: Vec<&Value> = rep["failures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "blob_missing")
        .collect();
    assert_eq!(missing.len(), 4, "{rep}");
    for w in &missing {
        assert!(held.contains(w["digest"].as_str().unwrap()));
    }
    assert!(!rep.to_string().contains("blob_external"), "{rep}");
    // With the previous bundle as base, every blob is checked and nothing is left out.
    let r = ok(run_in(
        tp,
        &[
            "verify",
            "diff2.tar.zst",
            "--integrity-only",
            "--base",
            "week1.tar.zst",
            "--format",
            "json",
        ],
    ));
    let rep = r.json();
    assert!(rep.get("leftOut").is_none(), "{rep}");
    assert!(rep["baseBlobs"].as_u64().unwrap() >= 4);
    // The base's own documents (v1's manifests and configs) are no strays of this bundle.
    assert!(
        !codes_of(&rep, "warnings").contains(&"unreferenced_blob".to_string()),
        "{rep}"
    );
    assert_eq!(
        rep["blobs"]["checked"],
        ok(run_in(
            tp,
            &[
                "verify",
                "full2.tar.zst",
                "--integrity-only",
                "--format",
                "json"
            ]
        ))
        .json()["blobs"]["checked"]
    );
    // A blob missing that the record does not list is still blob_missing.
    let dir = tp.join("diff2-dir");
    ok(run_in(
        tp,
        &[
            "export",
            &format!("{}/app:2", a.host()),
            "-o",
            &arg(&dir),
            "--since",
            "site.json",
            "--plain-http",
            &a.host(),
        ],
    ));
    let carried_layer = std::fs::read_dir(dir.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.metadata().unwrap().len() == 65536)
        .map(|e| format!("sha256:{}", e.file_name().to_string_lossy()))
        .next()
        .expect("v2's own layer is carried");
    assert!(!held.contains(&carried_layer));
    std::fs::remove_file(blob(&dir, &carried_layer)).unwrap();
    let r = run_in(
        tp,
        &["verify", &arg(&dir), "--integrity-only", "--format", "json"],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.codes().contains(&"blob_missing".to_string()),
        "{:?}",
        r.codes()
    );

    // Import into an empty registry: refused before anything is pushed.
    let r = run_in(
        tp,
        &[
            "import",
            "diff2.tar.zst",
            "--to",
            &format!("{}/site", empty.host()),
            "--integrity-only",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("blob_external_absent"), "{}", r.stderr);
    assert!(tags(&empty, "site/app").is_empty(), "nothing pushed");

    // Import at B, into the repository that holds v1: every blob is there or carried.
    ok(run_in(
        tp,
        &[
            "import",
            "diff2.tar.zst",
            "--to",
            &format!("{}/site", b.host()),
            "--integrity-only",
        ],
    ));
    // Into another repository of B, integrity only: the record naming site/app is the carrier's
    // word here, so nothing is mounted from it and the import refuses, pushing nothing. (With an
    // authenticated record the blobs are mounted:
    // `a_mount_source_comes_only_from_an_authenticated_record`.)
    let r = run_in(
        tp,
        &[
            "import",
            "diff2.tar.zst",
            "--to",
            &format!("{}/other", b.host()),
            "--integrity-only",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("blob_external_absent"), "{}", r.stderr);
    assert!(tags(&b, "other/app").is_empty(), "nothing pushed");
    // Pulled back from B, the image is whole and equals the full export.
    let again = export_from(tp, &b, "site/app:2", "back-site");
    assert_eq!(again["images"][0]["digest"], full["images"][0]["digest"]);
    // Every blob fetched from B; only the export record differs (it names the source).
    assert_eq!(again["blobs"], full["blobs"]);
    let (x, y) = (
        again["bytes"].as_u64().unwrap(),
        full["bytes"].as_u64().unwrap(),
    );
    assert!(x.abs_diff(y) < 256, "{x} vs {y}");

    // An inventory that lies (lists v2's own layer, which B lacks): the export leaves it out, and
    // import at a registry without it refuses, pushing nothing.
    let mut lie = inv.clone();
    lie["blobs"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"digest": carried_layer, "size": 65536}));
    write_json(&tp.join("lie.json"), &lie);
    let liar = export("2", "lie2.tar.zst", &["--since", "lie.json"]);
    assert_eq!(liar["leftOutBlobs"], 5);
    let r = run_in(
        tp,
        &[
            "import",
            "lie2.tar.zst",
            "--to",
            &format!("{}/third", b.host()),
            "--integrity-only",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&carried_layer), "{}", r.stderr);
    assert!(tags(&b, "third/app").is_empty(), "nothing pushed");
    // An inventory that omits blobs only makes the bundle bigger.
    let mut short = inv.clone();
    short["blobs"].as_array_mut().unwrap().truncate(1);
    write_json(&tp.join("short.json"), &short);
    let bigger = export("2", "short2.tar.zst", &["--since", "short.json"]);
    assert!(bigger["leftOutBlobs"].as_u64().unwrap() <= 1);
}

fn export_from(t: &Path, reg: &TestRegistry, image: &str, out: &str) -> Value {
    ok(run_in(
        t,
        &[
            "export",
            &format!("{}/{image}", reg.host()),
            "-o",
            out,
            "--format",
            "json",
            "--plain-http",
            &reg.host(),
        ],
    ))
    .json()
}

const E2E: &str = "valid-sig.strict.by-tag";
const SUBJECT: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
const LAYER: &str = "sha256:6de5fe1f75e4b1094c98086f403d5fd8117776ebe5aad1609281403d13dea070";

/// The signed corpus image in registry A, exported with its trust material into `out`
/// (`--since` inventories in `extra`); returns the pin.
fn signed_export(t: &Path, a: &TestRegistry, out: &str, extra: &[&str]) -> Option<String> {
    let case = corpus_dir().join(E2E);
    if !case.exists() {
        assert!(!strict());
        return None;
    }
    let host = a.host();
    let mut args = vec![
        "export".to_owned(),
        format!("{host}/e2e:v1"),
        "-o".into(),
        out.into(),
        "--plain-http".into(),
        host,
        "--trust-policy".into(),
        arg(&case.join("trustpolicy.json")),
        "--trust-store".into(),
        arg(&case.join("truststore")),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = ok(run_pinned(t, &refs));
    Some(
        r.stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("--pin "))
            .unwrap()
            .to_owned(),
    )
}

/// Registry A holding the signed corpus image `e2e:v1` with its signature; and the corpus case.
/// `None` when there is no registry or no corpus (CI has both).
fn e2e_registry() -> Option<(TestRegistry, std::path::PathBuf)> {
    let a = TestRegistry::start(None)?;
    let case = corpus_dir().join(E2E);
    if !case.exists() {
        assert!(!strict());
        return None;
    }
    a.push_layout(&case.join("layout"), "v1", "e2e", "v1", None);
    push_referrers(&a, &case.join("layout"), SUBJECT, "e2e", None);
    Some((a, case))
}

/// The signed differential export `diff` of A's `e2e:v1`, from an inventory that lists its one
/// layer (held in `repositories`); returns the pin.
fn differential_export(t: &Path, a: &TestRegistry, repositories: &[&str]) -> Option<String> {
    let inv = serde_json::json!({
        "schemaVersion": 1, "tool": {"name": "airlock", "version": "test"}, "createdAt": AT,
        "sources": [], "blobs": [{"digest": LAYER, "size": 17, "repositories": repositories}]
    });
    write_json(&t.join("inv.json"), &inv);
    signed_export(t, a, "diff", &["--since", "inv.json"])
}

#[test]
fn only_the_pinned_record_can_excuse_an_absent_blob() {
    let t = tempfile::tempdir().unwrap();
    let tp = t.path();
    let Some((a, case)) = e2e_registry() else {
        return;
    };

    // A differential export whose inventory lists the image's one layer: the pinned record lists
    // it as left out, and a pinned verify passes, saying the list is authenticated.
    let Some(pin) = differential_export(tp, &a, &[]) else {
        return;
    };
    assert!(!tp
        .join("diff")
        .join("blobs/sha256")
        .join(&LAYER[7..])
        .exists());
    let r = ok(run_pinned(
        tp,
        &["verify", "diff", "--pin", &pin, "--format", "json"],
    ));
    let rep = r.json();
    assert_eq!(rep["verdict"], "pass");
    assert_eq!(rep["leftOut"]["blobs"], 1);
    assert_eq!(rep["leftOut"]["authenticated"], true);
    assert_eq!(rep["leftOut"]["record"], pin.as_str());

    // A full export; the carrier deletes the layer and lists, first in index.json, a trust
    // artifact of their own whose record says the layer was left out. Under every anchor the
    // layer is missing: integrity only, the operator's own policy and store, the pin.
    let Some(pin) = signed_export(tp, &a, "full", &[]) else {
        return;
    };
    let full = tp.join("full");
    let md = plant_left_out_record(&full, &[(LAYER, 17)]);

    let r = run_in(
        tp,
        &["verify", "full", "--integrity-only", "--format", "json"],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    let rep = r.json();
    assert_eq!(rep["leftOut"]["authenticated"], false, "{rep}");
    assert_eq!(rep["leftOut"]["record"], md.as_str());
    assert!(
        has_finding(&rep, "failures", "blob_missing", LAYER),
        "{rep}"
    );
    let local = [
        "verify",
        "full",
        "--trust-policy",
        &arg(&case.join("trustpolicy.json")),
        "--trust-store",
        &arg(&case.join("truststore")),
        "--format",
        "json",
    ];
    let r = run_pinned(tp, &local);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        has_finding(&r.json(), "failures", "blob_missing", LAYER),
        "{}",
        r.stdout
    );
    let r = run_pinned(tp, &["verify", "full", "--pin", &pin, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.codes().contains(&"blob_missing".to_string()),
        "{:?}",
        r.codes()
    );
}

/// A left-out blob is mounted from another repository of the target only when the record naming
/// that repository is authenticated (here by the pin). A carrier's record naming a private
/// repository of the site makes no copy under local trust or integrity only: the blob must
/// already be in the target repository, or nothing is pushed (red team F, F1: the importer's
/// credentials copied a blob the carrier chose out of a repository the carrier chose).
#[test]
fn a_mount_source_comes_only_from_an_authenticated_record() {
    let t = tempfile::tempdir().unwrap();
    let tp = t.path();
    let Some((a, case)) = e2e_registry() else {
        return;
    };
    let holder = format!("{}/e2e", a.host());
    let (client, _cfg) = client_for(&a.host(), None, std::time::Duration::from_secs(10), 0);
    let has_layer = |repo: &str| {
        let r = airlock::registry::Reference::parse(&format!("{}/{repo}:x", a.host())).unwrap();
        client.blob_exists(&r, LAYER).unwrap()
    };

    // Pinned: the record (from an inventory naming e2e) is authenticated; the layer is mounted.
    let Some(pin) = differential_export(tp, &a, &[&holder]) else {
        return;
    };
    let r = ok(run_pinned(
        tp,
        &[
            "import",
            "diff",
            "--to",
            &format!("{}/pinned", a.host()),
            "--pin",
            &pin,
            "--format",
            "json",
        ],
    ));
    assert_eq!(r.json()["blobsMounted"], 1, "{}", r.stdout);
    assert!(has_layer("pinned/e2e"));

    // The carrier's record, first in index.json, naming the same repository.
    let Some(_) = signed_export(tp, &a, "full", &[]) else {
        return;
    };
    plant_left_out_record_naming(&tp.join("full"), &[(LAYER, 17)], &[&holder]);
    let local = [
        "--trust-policy",
        &arg(&case.join("trustpolicy.json")),
        "--trust-store",
        &arg(&case.join("truststore")),
    ];
    for (target, anchor) in [("local", &local[..]), ("bare", &["--integrity-only"][..])] {
        let to = format!("{}/{target}", a.host());
        let mut args = vec!["import", "full", "--to", &to];
        args.extend_from_slice(anchor);
        let r = run_pinned(tp, &args);
        assert_eq!(r.code, 1, "{target}: {}", r.stderr);
        assert!(
            r.stderr.contains("blob_external_absent"),
            "{target}: {}",
            r.stderr
        );
        assert!(
            !has_layer(&format!("{target}/e2e")),
            "{target}: the layer was copied"
        );
        assert!(tags(&a, &format!("{target}/e2e")).is_empty(), "{target}");
    }
}

/// `export --since` leaves out layers only. A left-out list that names a platform manifest (here
/// the carrier's, which `import` may accept for layers because the target registry must then hold
/// each) never excuses it: verify and import fail it as `blob_missing`, and import pushes nothing
/// (it used to push the other platform, then fail on the index).
#[test]
fn a_left_out_list_never_excuses_a_manifest() {
    let t = tempfile::tempdir().unwrap();
    let tp = t.path();
    let Some(reg) = TestRegistry::start(None) else {
        return;
    };
    let layout = small_layout(tp);
    let dir = tp.join("bundle");
    ok(run_in(
        tp,
        &["export", &format!("oci:{}", arg(&layout)), "-o", &arg(&dir)],
    ));
    let index = read_json(&dir.join("index.json"));
    let image = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mediaType"] == "application/vnd.oci.image.index.v1+json")
        .unwrap()
        .clone();
    let children = read_json(&blob(&dir, image["digest"].as_str().unwrap()));
    let platform = children["manifests"][1].clone();
    let digest = platform["digest"].as_str().unwrap().to_owned();
    plant_left_out_record(&dir, &[(&digest, platform["size"].as_u64().unwrap())]);
    let r = run_in(
        tp,
        &["verify", &arg(&dir), "--integrity-only", "--format", "json"],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        has_finding(&r.json(), "failures", "blob_missing", &digest),
        "{}",
        r.stdout
    );
    let r = run_in(
        tp,
        &[
            "import",
            &arg(&dir),
            "--to",
            &format!("{}/site", reg.host()),
            "--integrity-only",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("blob_missing"), "{}", r.stderr);
    assert!(
        tags(&reg, "site/airlock/sample").is_empty(),
        "nothing pushed"
    );
}

#[test]
fn an_inventory_listing_200000_repositories_for_a_layer_still_makes_a_bundle_that_verifies() {
    let t = tempfile::tempdir().unwrap();
    let tp = t.path();
    let Some((a, _)) = e2e_registry() else {
        return;
    };
    // Within the 24 MiB an inventory may be: one layer held in 200,000 repositories (6 MB).
    let names: Vec<String> = (0..200_000)
        .map(|i| format!("registry.site:5000/r{i:07}"))
        .collect();
    let inv = serde_json::json!({
        "schemaVersion": 1, "tool": {"name": "airlock", "version": "test"}, "createdAt": AT,
        "sources": [], "blobs": [{"digest": LAYER, "size": 17, "repositories": names}]
    });
    write_json(&tp.join("inv.json"), &inv);
    let Some(pin) = signed_export(tp, &a, "diff", &["--since", "inv.json"]) else {
        return;
    };
    // The far side's verify reads the record: the layer is left out, authenticated.
    let r = ok(run_pinned(
        tp,
        &["verify", "diff", "--pin", &pin, "--format", "json"],
    ));
    let rep = r.json();
    assert_eq!(rep["verdict"], "pass");
    assert_eq!(rep["leftOut"]["blobs"], 1);
    assert_eq!(rep["leftOut"]["authenticated"], true);
    let index = read_json(&tp.join("diff/index.json"));
    let ta = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["artifactType"] == "application/vnd.airlock.trust.v1+json")
        .unwrap();
    let manifest = read_json(&blob(&tp.join("diff"), ta["digest"].as_str().unwrap()));
    let record = read_json(&blob(
        &tp.join("diff"),
        manifest["config"]["digest"].as_str().unwrap(),
    ));
    let kept = record["leftOut"][0]["repositories"].as_array().unwrap();
    assert_eq!(kept.len(), 64, "the first 64 kept");
    assert_eq!(kept[0], "registry.site:5000/r0000000");

    // A name no registry has is refused by the inventory's path, before anything is written.
    let mut bad = inv.clone();
    bad["blobs"][0]["repositories"] = serde_json::json!(["registry.site:5000/ok", "not a name"]);
    write_json(&tp.join("bad.json"), &bad);
    let r = run_in(
        tp,
        &[
            "export",
            &format!("{}/e2e:v1", a.host()),
            "-o",
            "bad",
            "--since",
            "bad.json",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("bad.json") && r.stderr.contains("\"not a name\""),
        "{}",
        r.stderr
    );
    assert!(!tp.join("bad").exists());
}
