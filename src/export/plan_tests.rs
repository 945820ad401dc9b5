//! Unit tests of the `plan` phase over a local layout (`LayoutFetch`), no registry.

use std::path::Path;

use super::*;
use crate::fixture::{generate, Spec};

fn options(out: &Path, platforms: &[&str], require_signature: bool) -> ExportOptions {
    ExportOptions {
        output: Output::from_arg(out, 3),
        platforms: platforms.iter().map(|p| (*p).to_owned()).collect(),
        no_referrers: false,
        require_signature,
        trust: None,
        crls: Vec::new(),
        allow_failed_signatures: false,
        exported_at: ("2026-01-01T00:00:00Z".into(), 1_767_225_600),
        scope: None,
        progress: std::sync::Arc::new(crate::layout::NoProgress),
        jobs: 1,
    }
}

fn sources(root: &Path) -> Vec<(String, Box<dyn Fetch>)> {
    let f = LayoutFetch::open(root, None).unwrap();
    vec![(
        format!("oci:{}", root.display()),
        Box::new(f) as Box<dyn Fetch>,
    )]
}

fn layout(dir: &Path) -> (std::path::PathBuf, Digest) {
    let root = dir.join("layout");
    let spec = Spec {
        layer_size: 4096,
        ..Spec::default()
    };
    let top = generate(&root, &spec).unwrap();
    (root, top)
}

#[test]
fn plan_fetches_manifests_and_lists_blobs_without_copying_them() {
    let t = tempfile::tempdir().unwrap();
    let (root, top) = layout(t.path());
    let opts = options(&t.path().join("out"), &[], false);
    let (plan, referrers) = plan(&mut sources(&root), &opts).unwrap();
    assert_eq!(plan.images.len(), 1);
    let image = &plan.images[0];
    assert_eq!(image.digest, top.to_string());
    assert_eq!(image.platforms, vec!["linux/amd64", "linux/arm64"]);
    assert!(image.excluded.is_empty());
    // The top index is held in memory; layers wait to be copied; nothing is both.
    assert!(plan.small.contains_key(&top));
    assert!(!plan.blobs.is_empty());
    assert!(plan.blobs.keys().all(|d| !plan.small.contains_key(d)));
    assert_eq!(plan.entries[0]["digest"], top.to_string());
    // The fixture's referrer is not a signature.
    assert!(image.signatures.is_empty());
    assert!(referrers.values().all(|(_, sigs)| sigs.is_empty()) || referrers.is_empty());
    // Nothing was written.
    assert!(!t.path().join("out").exists());
}

#[test]
fn plan_keeps_only_the_asked_platforms_and_refuses_unsigned_images_when_told() {
    let t = tempfile::tempdir().unwrap();
    let (root, _) = layout(t.path());
    let all = plan(
        &mut sources(&root),
        &options(&t.path().join("out"), &[], false),
    )
    .unwrap()
    .0;
    let opts = options(&t.path().join("out"), &["linux/amd64"], false);
    let (one, _) = plan(&mut sources(&root), &opts).unwrap();
    assert_eq!(one.images[0].platforms, vec!["linux/amd64"]);
    assert_eq!(one.images[0].excluded.len(), 1);
    assert!(one.blobs.len() < all.blobs.len());
    let opts = options(&t.path().join("out"), &[], true);
    match plan(&mut sources(&root), &opts) {
        Err(ExportError::Unsigned(_)) => {}
        Err(e) => panic!("expected Unsigned, got {e}"),
        Ok(_) => panic!("expected Unsigned, got a plan"),
    }
}
