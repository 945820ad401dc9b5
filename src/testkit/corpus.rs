//! The corpus root, the one place that resolves `AIRLOCK_CORPUS`.

use std::path::PathBuf;

/// The corpus root: `$AIRLOCK_CORPUS`, else `../shared/corpus` next to the manifest.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("AIRLOCK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")))
}

/// Reads a corpus file; panics with a clear message if the corpus is not where expected.
pub fn corpus_file(rel: &str) -> Vec<u8> {
    let p = corpus_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| {
        panic!(
            "cannot read corpus file {} ({e}); set AIRLOCK_CORPUS to the corpus directory",
            p.display()
        )
    })
}
