//! Verification: the integrity stage over a scanned bundle, the signature stage, and the report.
//!
//! Nothing here reads the clock or the network: the verification time is an input.

pub mod integrity;
pub mod report;
pub mod signature;

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
    /// Trust material for the signature stage; `None` verifies integrity only.
    pub trust: Option<signature::TrustInputs>,
}

/// Scans a bundle once and runs the integrity stage, then the signature stage when trust material
/// is given (from the same single read: envelopes are kept by the scan).
pub fn verify(source: Source, req: &Request, opts: &ScanOptions) -> Result<Report, ScanError> {
    let cat = layout::scan(source, opts)?;
    let integrity = check(&cat, &req.images, &opts.limits);
    Ok(match &req.trust {
        None => Report::integrity_only(&cat, &integrity, &req.verified_at),
        Some(trust) => {
            let mut stores = signature::StoreCache::new(&trust.store_root);
            let sigs = signature::verify_images(&cat, &integrity, trust, &mut stores);
            Report::build(
                &cat,
                &integrity,
                Some((&sigs, stores.fingerprints())),
                &req.verified_at,
            )
        }
    })
}
