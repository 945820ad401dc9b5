//! The tar stream scanner over an in-memory reader, then the integrity stage over what it found.
#![no_main]
use std::io::Cursor;

use airlock::layout::{scan_stream, BundleFormat, Limits, ScanOptions};
use airlock::verify::{check, Report};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ScanOptions::default();
    let cat = scan_stream(Cursor::new(data), BundleFormat::Tar, &opts);
    let integrity = check(&cat, &[], &Limits::default());
    let report = Report::integrity_only(&cat, &integrity, "2026-01-01T00:00:00Z");
    let _ = serde_json::to_vec(&report);
});
