//! The manifest/index graph: a small OCI layout built from the input, scanned as a tarball and
//! walked by the integrity stage.
//!
//! Input: one flag byte, then documents separated by two NUL bytes. The first document is
//! `index.json`, the others are blobs 1, 2, ... In every document `@N` becomes the digest
//! (`sha256:...`) of blob N and `#N` its size, so that the fuzzer can wire descriptors to each
//! other without computing hashes. Flags: bit 0 recomputes digests (blobs are then named by their
//! real SHA-256, so only references to later blobs resolve; without it blobs get fixed names and any
//! graph, cycles included, can be built), bit 1 selects the image `v1`, bit 2 omits `oci-layout`.
#![no_main]
use std::io::Cursor;

use airlock::digest::Digest;
use airlock::layout::{scan_stream, BundleFormat, Limits, ScanOptions};
use airlock::verify::{check, Report};
use libfuzzer_sys::fuzz_target;

const MAX_BLOBS: usize = 64;

fn fixed_hex(n: usize) -> String {
    format!("{n:064x}")
}

fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = rest.windows(2).position(|w| w == [0, 0]) {
        out.push(&rest[..i]);
        rest = &rest[i + 2..];
    }
    out.push(rest);
    out
}

/// Replaces `@N` and `#N` with the digest and size of blob N (1-based) where known.
fn substitute(doc: &[u8], names: &[String], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::with_capacity(doc.len());
    let mut i = 0;
    while i < doc.len() {
        let c = doc[i];
        if c == b'@' || c == b'#' {
            let digits = doc[i + 1..]
                .iter()
                .take(3)
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits > 0 {
                let n: usize = std::str::from_utf8(&doc[i + 1..i + 1 + digits])
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                if n >= 1 && n <= names.len() {
                    if c == b'@' {
                        out.extend_from_slice(b"sha256:");
                        out.extend_from_slice(names[n - 1].as_bytes());
                    } else {
                        out.extend_from_slice(sizes[n - 1].to_string().as_bytes());
                    }
                    i += 1 + digits;
                    continue;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn append(tar: &mut tar::Builder<Vec<u8>>, path: &str, body: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(body.len() as u64);
    if h.set_path(path).is_err() {
        return;
    }
    h.set_cksum();
    let _ = tar.append(&h, body);
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let hash = flags & 1 != 0;
    let docs = split(rest);
    let (index, blobs) = docs.split_first().expect("split yields one part at least");
    let blobs = &blobs[..blobs.len().min(MAX_BLOBS)];

    // Provisional names and sizes, then final ones from the last blob to the first.
    let mut names: Vec<String> = (1..=blobs.len()).map(fixed_hex).collect();
    let mut sizes: Vec<usize> = blobs.iter().map(|b| b.len()).collect();
    let mut bodies: Vec<Vec<u8>> = vec![Vec::new(); blobs.len()];
    for i in (0..blobs.len()).rev() {
        let body = substitute(blobs[i], &names, &sizes);
        sizes[i] = body.len();
        if hash {
            names[i] = Digest::sha256(&body).hex().to_owned();
        }
        bodies[i] = body;
    }
    let index = substitute(index, &names, &sizes);

    let mut tar = tar::Builder::new(Vec::new());
    if flags & 4 == 0 {
        append(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    }
    append(&mut tar, "index.json", &index);
    for (name, body) in names.iter().zip(&bodies) {
        append(&mut tar, &format!("blobs/sha256/{name}"), body);
    }
    let Ok(bytes) = tar.into_inner() else {
        return;
    };

    let opts = ScanOptions {
        hash,
        ..ScanOptions::default()
    };
    let cat = scan_stream(Cursor::new(bytes), BundleFormat::Tar, &opts);
    let selection = if flags & 2 != 0 {
        vec!["v1".to_owned()]
    } else {
        Vec::new()
    };
    let integrity = check(&cat, &selection, &Limits::default());
    let report = Report::integrity_only(&cat, &integrity, "2026-01-01T00:00:00Z");
    let _ = serde_json::to_vec(&report);
});
