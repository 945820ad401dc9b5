//! Verification: the integrity stage over a scanned bundle, and the report.
//!
//! Nothing here reads the clock or the network: the verification time is an input.

pub mod integrity;
pub mod report;

pub use integrity::{check, ImageInfo, Integrity, ReferrerInfo};
pub use report::{Report, Verdict};

use crate::archive::Source;
use crate::layout::{self, ScanError, ScanOptions};

/// What to verify.
pub struct Request {
    /// Images to check (empty: all).
    pub images: Vec<String>,
    /// The verification time, RFC 3339, as the caller established it.
    pub verified_at: String,
}

/// Scans a bundle and runs the integrity stage.
pub fn verify_integrity(
    source: Source,
    req: &Request,
    opts: &ScanOptions,
) -> Result<Report, ScanError> {
    let cat = layout::scan(source, opts)?;
    let integrity = check(&cat, &req.images, &opts.limits);
    Ok(Report::integrity_only(&cat, &integrity, &req.verified_at))
}
