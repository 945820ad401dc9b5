//! Scanning a tarball in one streaming pass, without extracting anything.
//!
//! Entries may come in any order (`index.json` may be last), so every blob is hashed as it streams
//! by and the graph is evaluated afterwards from the catalog; only small JSON documents are kept.

use std::collections::HashSet;
use std::io::{self, Read};

use super::catalog::{read_blob, read_small, BundleFormat, Catalog, ScanOptions};
use super::{classify, Name};
use crate::archive::{EntryKind, TarReader};
use crate::finding::{Code, Finding};

/// Scans a decompressed tar stream.
pub fn scan_stream<R: Read>(tar_stream: R, format: BundleFormat, opts: &ScanOptions) -> Catalog {
    let mut cat = Catalog::new(format, opts.hash);
    let mut tar = TarReader::new(tar_stream, opts.limits.max_tar_ext_header);
    let mut seen: HashSet<String> = HashSet::new();
    let mut count: u64 = 0;
    loop {
        let entry = match tar.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => {
                cat.failures
                    .push(Finding::new(Code::ArchiveCorrupt, describe(&e)));
                break;
            }
        };
        count += 1;
        if count > opts.limits.max_entries {
            cat.failures.push(Finding::new(
                Code::LimitExceeded,
                format!("more than {} tar entries", opts.limits.max_entries),
            ));
            break;
        }
        let name = entry.name.clone();
        let is_dir = entry.kind == EntryKind::Dir;
        let class = classify(&name, is_dir);
        if !entry.utf8 {
            cat.failures
                .push(Finding::new(Code::UnexpectedEntry, "entry name is not UTF-8").path(&name));
            continue;
        }
        if class == Name::Unsafe {
            cat.failures.push(
                Finding::new(
                    Code::UnsafePath,
                    "absolute path or `..` component: refused, nothing written",
                )
                .path(&name),
            );
            continue;
        }
        match entry.kind {
            EntryKind::Symlink | EntryKind::HardLink => {
                let what = if entry.kind == EntryKind::Symlink {
                    "symbolic"
                } else {
                    "hard"
                };
                cat.failures.push(
                    Finding::new(Code::LinkEntry, format!("{what} link entry refused")).path(&name),
                );
                continue;
            }
            EntryKind::Special(flag) => {
                cat.failures.push(
                    Finding::new(
                        Code::SpecialFile,
                        format!("special entry (type {:?}) refused", char::from(flag)),
                    )
                    .path(&name),
                );
                continue;
            }
            EntryKind::File | EntryKind::Dir => {}
        }
        if !is_dir {
            let key = name.trim_start_matches("./").to_string();
            if !seen.insert(key) {
                cat.failures.push(
                    Finding::new(
                        Code::DuplicateEntry,
                        "name appears twice: which copy a reader sees is ambiguous",
                    )
                    .path(&name),
                );
                continue;
            }
        }
        let res: io::Result<()> = match class {
            Name::Root | Name::BlobsDir | Name::AlgDir => Ok(()),
            Name::OciLayout => {
                read_small(&mut tar.body(), opts.limits.max_manifest_bytes).map(|s| {
                    cat.oci_layout = Some(s);
                })
            }
            Name::IndexJson => {
                read_small(&mut tar.body(), opts.limits.max_manifest_bytes).map(|s| {
                    cat.index_json = Some(s);
                })
            }
            Name::Blob(d) => read_blob(
                &d,
                entry.size,
                &mut tar.body(),
                opts.hash,
                &opts.limits,
                &mut |_| {},
            )
            .map(|e| cat.insert(d, e, &opts.limits)),
            Name::NotDigest | Name::Other | Name::Unsafe => {
                cat.failures.push(
                    Finding::new(
                        Code::UnexpectedEntry,
                        "entry outside oci-layout, index.json and blobs/<alg>/<hex>",
                    )
                    .path(&name),
                );
                Ok(())
            }
        };
        if let Err(e) = res {
            cat.failures
                .push(Finding::new(Code::ArchiveCorrupt, describe(&e)).path(&name));
            break;
        }
    }
    cat
}

fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => format!("archive is truncated: {e}"),
        _ => format!("archive cannot be read: {e}"),
    }
}
