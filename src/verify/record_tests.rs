//! What an authenticated export record lists and the bundle lacks ([`super::withheld`]).

use super::integrity::{ImageInfo, Integrity};
use super::withheld;
use crate::finding::Code;
use crate::layout::{BundleFormat, Catalog, Small};
use crate::trust_artifact::{ExportRecord, ReferrerRecord, SourceRecord};

const A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const SIG: &str = "sha256:5555555555555555555555555555555555555555555555555555555555555555";
const SBOM: &str = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

fn source(reference: &str, digest: &str, referrers: &[(&str, &str)]) -> SourceRecord {
    SourceRecord {
        source: reference.into(),
        reference: reference.into(),
        digest: digest.into(),
        platforms: Vec::new(),
        excluded: Vec::new(),
        signatures: vec![SIG.into()],
        referrers: referrers
            .iter()
            .map(|(d, t)| ReferrerRecord {
                digest: (*d).into(),
                artifact_type: Some((*t).into()),
                subject: digest.into(),
            })
            .collect(),
    }
}

fn image(reference: &str, digest: &str) -> ImageInfo {
    ImageInfo {
        reference: Some(reference.into()),
        digest: digest.into(),
        media_type: crate::layout::model::OCI_MANIFEST.into(),
        platforms: Vec::new(),
        platforms_left_out: Vec::new(),
        size: 0,
        referrers: Vec::new(),
    }
}

/// A catalog whose `index.json` lists `digests` (nothing else is read).
fn listing(digests: &[&str]) -> Catalog {
    let mut cat = Catalog::new(BundleFormat::Directory, true);
    let manifests: Vec<serde_json::Value> = digests
        .iter()
        .map(|d| serde_json::json!({"mediaType": crate::layout::model::OCI_MANIFEST, "digest": d, "size": 2}))
        .collect();
    let index = serde_json::json!({"schemaVersion": 2, "manifests": manifests});
    cat.index_json = Some(Small::Bytes(index.to_string().into_bytes()));
    cat
}

#[test]
fn every_recorded_image_and_referrer_must_be_carried() {
    let record = ExportRecord {
        tool: "airlock".into(),
        version: "0".into(),
        exported_at: "2026-01-01T00:00:00Z".into(),
        sources: vec![
            source(
                "r.example/app:1",
                A,
                &[(SIG, "sig"), (SBOM, "application/spdx+json")],
            ),
            source("r.example/fix:2", B, &[]),
        ],
        roots: Vec::new(),
        crls: Vec::new(),
        allow_failed_signatures: false,
        left_out: Vec::new(),
    };
    let integrity = Integrity {
        images: vec![image("r.example/app:1", A), image("r.example/fix:2", B)],
        ..Integrity::default()
    };
    // Everything carried.
    let all = listing(&[A, B, SIG, SBOM]);
    assert!(withheld(&all, &integrity, &record, false, "pinned").is_empty());
    // The second image withheld (the carrier drops a security fix), and the SBOM.
    let fewer = Integrity {
        images: vec![image("r.example/app:1", A)],
        ..Integrity::default()
    };
    let found = withheld(&listing(&[A, SIG]), &fewer, &record, false, "signed");
    let got: Vec<(Code, Option<&str>)> = found
        .iter()
        .map(|f| (f.code, f.digest.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Code::ExportedImageMissing, Some(B)),
            (Code::ExportedImageMissing, Some(SBOM)),
        ],
        "{found:?}"
    );
    assert!(
        found[1].message.contains("application/spdx+json"),
        "{found:?}"
    );
    // Narrowed to one image with `--image`: the other image is not asked for, its referrers not
    // either; the selected image's referrers still are.
    let found = withheld(&listing(&[A, SIG]), &fewer, &record, true, "signed");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].digest.as_deref(), Some(SBOM));
}
