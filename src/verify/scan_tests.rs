//! The directory scan (`layout::scan_dir`) over the sample bundle, judged by the integrity stage:
//! what is read, what is not, and that what is not read still fails. They live here, above both
//! `layout` and `fixture` (ARCHITECTURE.md, "Layers").

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use std::fs;
use std::path::{Path, PathBuf};

use crate::digest::Digest;
use crate::finding::Code;
use crate::fixture::{generate, Spec};
use crate::layout::{
    blob_path, scan_dir, Catalog, Content, Limits, Progress, ScanOptions, Small, INDEX_JSON,
};

/// Counts the bytes a scan reads.
#[derive(Default)]
struct Counted(AtomicU64);
impl Progress for Counted {
    fn advance(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

fn scan(root: &Path, hash: bool, limits: Limits) -> (Catalog, u64) {
    let counted = Arc::new(Counted::default());
    let opts = ScanOptions {
        hash,
        limits,
        progress: counted.clone(),
    };
    let cat = scan_dir(root, &opts).unwrap();
    (cat, counted.0.load(Ordering::Relaxed))
}

/// The fixture (64 KiB layers) and the digests of its layers.
fn fixture(dir: &Path) -> (PathBuf, Vec<Digest>) {
    let root = dir.join("layout");
    let spec = Spec {
        layer_size: 64 << 10,
        ..Spec::default()
    };
    generate(&root, &spec).unwrap();
    let json = |d: &str| -> serde_json::Value {
        let d = Digest::parse(d).unwrap();
        serde_json::from_slice(&fs::read(root.join(blob_path(&d))).unwrap()).unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join(INDEX_JSON)).unwrap()).unwrap();
    let top = json(index["manifests"][0]["digest"].as_str().unwrap());
    let mut layers = Vec::new();
    for m in top["manifests"].as_array().unwrap() {
        let m = json(m["digest"].as_str().unwrap());
        for l in m["layers"].as_array().unwrap() {
            layers.push(Digest::parse(l["digest"].as_str().unwrap()).unwrap());
        }
    }
    (root, layers)
}

#[test]
fn hashing_reads_every_blob_once_and_inspect_only_the_documents() {
    let t = tempfile::tempdir().unwrap();
    let (root, layers) = fixture(t.path());
    let (cat, read) = scan(&root, true, Limits::default());
    assert_eq!(read, cat.total_bytes());
    assert!(cat.blobs.values().all(|b| b.actual.is_some()));

    let (cat, read) = scan(&root, false, Limits::default());
    let layer_bytes: u64 = layers.iter().map(|d| cat.blobs[d].size).sum();
    assert_eq!(read, cat.total_bytes() - layer_bytes);
    for d in &layers {
        assert!(matches!(cat.blobs[d].content, Content::NotRead), "{d}");
    }
    let i = super::check(&cat, &[], &Limits::default());
    assert!(i.failures.is_empty(), "{:?}", i.failures);
    assert_eq!(i.images.len(), 1);
    assert_eq!(i.images[0].platforms.len(), 2);
}

#[test]
fn a_size_that_contradicts_every_descriptor_is_not_read() {
    let t = tempfile::tempdir().unwrap();
    let (root, layers) = fixture(t.path());
    let huge = 1 << 40;
    fs::OpenOptions::new()
        .write(true)
        .open(root.join(blob_path(&layers[0])))
        .unwrap()
        .set_len(huge)
        .unwrap();
    let (cat, read) = scan(&root, true, Limits::default());
    assert!(read < 1 << 20, "{read} bytes read");
    let e = &cat.blobs[&layers[0]];
    assert_eq!(e.size, huge);
    assert!(e.actual.is_none());
    let i = super::check(&cat, &[], &Limits::default());
    assert!(i.failed.contains(&layers[0]));
    assert!(i.failures.iter().any(
        |f| f.code == Code::SizeMismatch && f.digest.as_deref() == Some(&layers[0].to_string())
    ));
}

#[test]
fn an_unread_blob_the_walk_does_not_reach_still_fails() {
    let t = tempfile::tempdir().unwrap();
    let (root, layers) = fixture(t.path());
    fs::OpenOptions::new()
        .write(true)
        .open(root.join(blob_path(&layers[0])))
        .unwrap()
        .set_len(70 << 10)
        .unwrap();
    // The walk stops at the platform manifests (nested too deep); the scan does not.
    let limits = Limits {
        max_depth: 0,
        ..Limits::default()
    };
    let (cat, _) = scan(&root, true, limits.clone());
    assert!(cat.blobs[&layers[0]].actual.is_none());
    let i = super::check(&cat, &[], &limits);
    assert!(i.failures.iter().any(|f| f.code == Code::NestingTooDeep));
    assert!(i.failed.contains(&layers[0]));
    assert!(i.failures.iter().any(|f| f.code == Code::SizeMismatch
        && f.digest.as_deref() == Some(&layers[0].to_string())
        && f.message.contains("no descriptor naming it")));
}

#[test]
fn small_files_over_the_limit_are_refused_by_their_size() {
    let t = tempfile::tempdir().unwrap();
    let (root, _) = fixture(t.path());
    let huge = 50 << 30;
    fs::OpenOptions::new()
        .write(true)
        .open(root.join(INDEX_JSON))
        .unwrap()
        .set_len(huge)
        .unwrap();
    let (cat, read) = scan(&root, true, Limits::default());
    assert!(matches!(cat.index_json, Some(Small::TooLarge(n)) if n == huge));
    // Nothing names the blobs now: each is read once, as unreferenced content.
    assert_eq!(read, cat.total_bytes());
}

/// Exchanges two folders (`renameat2(RENAME_EXCHANGE)`, as `export` replaces a bundle) the first
/// time the scan reports progress: the scan is then reading the old bundle through a name that
/// now holds the new one.
struct ExchangeOnce {
    a: PathBuf,
    b: PathBuf,
    done: std::sync::atomic::AtomicBool,
}
impl Progress for ExchangeOnce {
    fn advance(&self, _n: u64) {
        if !self.done.swap(true, Ordering::SeqCst) {
            rustix::fs::renameat_with(
                rustix::fs::CWD,
                &self.a,
                rustix::fs::CWD,
                &self.b,
                rustix::fs::RenameFlags::EXCHANGE,
            )
            .unwrap();
        }
    }
}

#[test]
fn a_bundle_replaced_during_the_scan_is_scanned_again_whole() {
    let t = tempfile::tempdir().unwrap();
    let (old, _) = fixture(t.path());
    let new = t.path().join("new");
    generate(
        &new,
        &Spec {
            layer_size: 64 << 10,
            seed: 99,
            ..Spec::default()
        },
    )
    .unwrap();
    let new_index = fs::read(new.join(INDEX_JSON)).unwrap();
    let opts = ScanOptions {
        hash: true,
        limits: Limits::default(),
        progress: Arc::new(ExchangeOnce {
            a: old.clone(),
            b: new.clone(),
            done: Default::default(),
        }),
    };
    let cat = scan_dir(&old, &opts).unwrap();
    // What the name holds now, whole: the new bundle's index and blobs, nothing refused.
    assert_eq!(
        cat.index_json.as_ref().and_then(Small::bytes),
        Some(new_index.as_slice())
    );
    assert!(cat.failures.is_empty(), "{:?}", cat.failures);
    for (d, e) in &cat.blobs {
        assert_eq!(e.actual.as_ref(), Some(d), "{d}");
        assert!(
            old.join(blob_path(d)).exists(),
            "{d} is not the new bundle's"
        );
    }
}
