//! The tar stream scanner over an in-memory reader, then the integrity stage over what it found.
//!
//! Each input is scanned as it is and, when that changes anything, once more with the checksum of
//! every ustar header block recomputed: a mutated size, name or type field would otherwise stop at
//! the checksum check almost every time.
#![no_main]
use std::io::Cursor;

use airlock::layout::{scan_stream, BundleFormat, Limits, ScanOptions};
use airlock::verify::{check, Report};
use libfuzzer_sys::fuzz_target;

fn scan(data: &[u8]) {
    let opts = ScanOptions::default();
    let cat = scan_stream(Cursor::new(data), BundleFormat::Tar, &opts);
    let integrity = check(&cat, &[], &Limits::default());
    let report = Report::integrity_only(&cat, &integrity, "2026-01-01T00:00:00Z");
    let _ = serde_json::to_vec(&report);
}

fn fix_checksums(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    for block in out.chunks_exact_mut(512) {
        if &block[257..262] == b"ustar" {
            block[148..156].fill(b' ');
            let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
            block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    scan(data);
    let fixed = fix_checksums(data);
    if fixed != data {
        scan(&fixed);
    }
});
