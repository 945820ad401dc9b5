//! Scanning a tarball in one streaming pass, without extracting anything.
//!
//! Entries may come in any order (`index.json` may be last), so every blob is hashed as it streams
//! by and the graph is evaluated afterwards from the catalog; only small JSON documents are kept.
//! The hostile-entry rules are [`TarEntries`]'s; each refusal is a finding and the scan goes on.

use std::io::{self, Read};

use super::catalog::{read_blob, BundleFormat, Catalog, ScanOptions};
use super::entries::{describe, scan_entries, Stop, TarEntries};
use super::Name;
use crate::finding::{Code, Finding};

/// Scans a decompressed tar stream.
pub fn scan_stream<R: Read>(tar_stream: R, format: BundleFormat, opts: &ScanOptions) -> Catalog {
    let mut cat = Catalog::new(format, opts.hash);
    let mut entries = TarEntries::new(tar_stream, &opts.limits);
    let res = scan_entries(&mut entries, &mut cat, |entries, cat, name, class, size| {
        let res: io::Result<()> = match class {
            Name::OciLayout => entries.read_small().map(|s| {
                cat.oci_layout = Some(s);
            }),
            Name::IndexJson => entries.read_small().map(|s| {
                cat.index_json = Some(s);
            }),
            Name::Blob(d) => read_blob(
                &d,
                size,
                &mut entries.body(),
                opts.hash,
                &opts.limits,
                &mut |_| {},
            )
            .map(|e| cat.insert(d, e, &opts.limits)),
            Name::Root
            | Name::BlobsDir
            | Name::AlgDir
            | Name::NotDigest
            | Name::Other
            | Name::Unsafe => Ok(()),
        };
        res.map_err(|e| Stop::Bundle(Finding::new(Code::ArchiveCorrupt, describe(&e)).path(&name)))
    });
    // A tar stream stops only with findings, which are in the catalog already; were it ever to
    // stop otherwise, the scan fails closed all the same.
    if let Err(e) = res {
        cat.failures
            .push(Finding::new(Code::ArchiveCorrupt, e.to_string()));
    }
    cat.archive_ended = entries.ended();
    cat
}
