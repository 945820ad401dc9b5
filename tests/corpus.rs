//! Every OCI layout of the Notary corpus (written by notation's own tools) passes the integrity
//! stage, as a directory and as its tarball. The corpus is read in place.

use crate::common::*;

#[test]
fn every_corpus_layout_passes_integrity() {
    let dir = corpus_dir();
    if !dir.join("index.json").exists() {
        assert!(
            !strict(),
            "corpus not found at {} (set AIRLOCK_CORPUS)",
            dir.display()
        );
        eprintln!("skipping: no corpus at {}", dir.display());
        return;
    }
    let index = read_json(&dir.join("index.json"));
    let mut checked = 0;
    let mut problems = Vec::new();
    for case in index["cases"].as_array().unwrap() {
        if case["kind"] != "oci-layout" {
            continue;
        }
        let name = case["dir"].as_str().unwrap();
        for bundle in [
            dir.join(name).join("layout"),
            dir.join(name).join("layout.tar"),
        ] {
            let r = verify_json(&bundle, &[]);
            checked += 1;
            let j = r.json();
            if r.code != 0
                || j["verdict"] != "pass"
                || !j["warnings"].as_array().unwrap().is_empty()
            {
                problems.push(format!(
                    "{}: exit {} {}",
                    bundle.display(),
                    r.code,
                    j["failures"]
                ));
            }
            // Every corpus layout carries at least one signature except the unsigned one.
            let refs: usize = j["images"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["referrers"].as_array().unwrap().len())
                .sum();
            if !name.starts_with("unsigned") && refs == 0 {
                problems.push(format!("{}: no referrer found", bundle.display()));
            }
        }
    }
    eprintln!("corpus: {checked} bundles verified");
    assert!(checked >= 90, "only {checked} corpus bundles found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn corpus_signature_is_reported_with_the_notary_artifact_type() {
    let dir = corpus_dir().join("valid-sig.strict.by-tag");
    if !dir.exists() {
        assert!(!strict());
        return;
    }
    let r = verify_json(&dir.join("layout.tar"), &["v1"]);
    assert_eq!(r.code, 0);
    let j = r.json();
    assert_eq!(j["images"].as_array().unwrap().len(), 1);
    let img = &j["images"][0];
    assert_eq!(
        img["digest"],
        "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
    );
    assert_eq!(
        img["referrers"][0]["artifactType"],
        "application/vnd.cncf.notary.signature"
    );
}
