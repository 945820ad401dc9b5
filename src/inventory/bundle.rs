//! Inventory of a bundle or layout on disk: every blob is re-hashed, and only those whose content
//! hashes to their name are listed.

use std::path::Path;

use super::{Builder, InventoryError, Source, SourceKind};
use crate::layout::{self, ScanOptions};

/// Scans the bundle at `path` (a layout directory or a `.tar`, `.tar.gz`, `.tar.zst` file),
/// re-hashing every blob, and adds to `into` each blob whose content matches its name. `note`
/// receives one line per problem the scan found (those blobs are not listed).
pub fn from_bundle(
    path: &Path,
    opts: &ScanOptions,
    into: &mut Builder,
    note: &mut dyn FnMut(String),
) -> Result<Source, InventoryError> {
    let shown = path.display().to_string();
    let fail = |reason: String| InventoryError::Bundle {
        path: shown.clone(),
        reason,
    };
    let source = crate::archive::open(path).map_err(|e| fail(e.to_string()))?;
    let opts = ScanOptions {
        hash: true,
        ..opts.clone()
    };
    let cat = layout::scan(source, &opts).map_err(|e| fail(e.to_string()))?;
    for f in &cat.failures {
        note(format!("{shown}: {}: {}", f.code.as_str(), f.message));
    }
    let mut added = 0u64;
    for (digest, entry) in &cat.blobs {
        if entry.actual.as_ref() != Some(digest) {
            if entry.mismatches(digest) {
                note(format!(
                    "{shown}: {digest} does not hash to its name, not listed"
                ));
            }
            continue;
        }
        if into.add(digest.clone(), entry.size, None) {
            added += 1;
        }
    }
    let bundle_digest = match &cat.index_json {
        Some(layout::Small::Bytes(b)) => Some(crate::digest::Digest::sha256(b).to_string()),
        _ => None,
    };
    Ok(Source {
        kind: SourceKind::Bundle,
        location: shown,
        repositories: Vec::new(),
        bundle_digest,
        blobs: added,
    })
}
