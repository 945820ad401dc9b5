//! Verification: the integrity stage over a scanned bundle, the signature stage, and the report.
//!
//! Nothing here reads the clock or the network: the verification time is an input.

pub mod integrity;
pub mod report;
pub mod signature;

pub use integrity::{check, ImageInfo, Integrity, ReferrerInfo};
pub use report::{Report, TrustAnchor, Verdict};

use crate::finding::{Code, Finding};

use crate::archive::Source;
use crate::layout::{self, ScanError, ScanOptions};

/// What to verify.
pub struct Request {
    /// Images to check (empty: all).
    pub images: Vec<String>,
    /// The verification time, RFC 3339, as the caller established it.
    pub verified_at: String,
    /// The trust anchor for the signature stage; `None` verifies integrity only.
    pub trust: Option<Anchor>,
}

/// Where the trust anchor comes from.
pub enum Anchor {
    /// Trust policy and trust store on this machine.
    Local(signature::TrustInputs),
    /// The bundle's trust artifact: used when one of its roots matches a pin, or, with no pins
    /// and `unpinned`, as is (`bundled-unpinned`).
    Bundled {
        /// `sha256:HEX` fingerprints given with `--pin`.
        pins: Vec<String>,
        /// `--trust-bundled`.
        unpinned: bool,
        /// Inputs besides the policy and stores (CRLs given locally, time, scope, metadata); its
        /// `policy` and `store_root` are replaced by the bundle's.
        rest: BundledInputs,
    },
}

/// The parts of [`signature::TrustInputs`] that do not come from the bundle.
pub struct BundledInputs {
    /// CRLs given locally (added to those the bundle carries).
    pub crls: Vec<crate::notary::revocation::Crl>,
    /// Verification time, Unix seconds.
    pub at: i64,
    /// `--scope`.
    pub scope: Option<String>,
    /// `--user-metadata`.
    pub user_metadata: Vec<(String, String)>,
}

/// Scans a bundle once and runs the integrity stage, then the signature stage when trust material
/// is given (from the same single read: envelopes are kept by the scan).
pub fn verify(source: Source, req: &Request, opts: &ScanOptions) -> Result<Report, ScanError> {
    let cat = layout::scan(source, opts)?;
    Ok(verify_catalog(&cat, req, &opts.limits))
}

/// Runs the integrity stage and, when trust material is given, the signature stage over a scanned
/// bundle.
pub fn verify_catalog(
    cat: &crate::layout::Catalog,
    req: &Request,
    limits: &crate::layout::Limits,
) -> Report {
    let integrity = check(cat, &req.images, limits);
    match &req.trust {
        None => Report::integrity_only(cat, &integrity, &req.verified_at),
        Some(Anchor::Local(trust)) => {
            // CRLs prove themselves (the issuer's signature), so those the bundle carries are used
            // beside the ones given locally, whatever the anchor.
            let mut trust = trust.clone();
            if let Ok(Some(b)) = crate::trust_artifact::read_bundled(cat) {
                trust.crls.extend(b.crls);
            }
            let mut stores = signature::StoreCache::new(&trust.store_root);
            let sigs = signature::verify_images(cat, &integrity, &trust, &mut stores);
            let anchor = TrustAnchor {
                mode: "local",
                artifact: None,
                pins: Vec::new(),
                fingerprints: stores.fingerprints(),
            };
            Report::build(
                cat,
                &integrity,
                Some((&sigs, anchor)),
                Vec::new(),
                &req.verified_at,
            )
        }
        Some(Anchor::Bundled {
            pins,
            unpinned,
            rest,
        }) => bundled(cat, &integrity, pins, *unpinned, rest, &req.verified_at),
    }
}

fn bundled(
    cat: &crate::layout::Catalog,
    integrity: &Integrity,
    pins: &[String],
    unpinned: bool,
    rest: &BundledInputs,
    verified_at: &str,
) -> Report {
    let fail = |code, msg: String| {
        Report::build(
            cat,
            integrity,
            None,
            vec![Finding::new(code, msg)],
            verified_at,
        )
    };
    let b = match crate::trust_artifact::read_bundled(cat) {
        Ok(Some(b)) => b,
        Ok(None) => {
            return fail(
                Code::TrustArtifactMissing,
                "the bundle carries no trust artifact to pin".into(),
            )
        }
        Err(e) => return fail(Code::TrustArtifactInvalid, e),
    };
    let matched: Vec<String> = pins
        .iter()
        .filter(|p| b.root_fingerprints.contains(p))
        .cloned()
        .collect();
    let mode = if !pins.is_empty() {
        if matched.is_empty() {
            return fail(
                Code::PinMismatch,
                format!(
                    "no root certificate of the bundle's trust artifact matches --pin (the bundle's roots: {})",
                    b.root_fingerprints.join(", ")
                ),
            );
        }
        "pinned"
    } else if unpinned {
        "bundled-unpinned"
    } else {
        return fail(Code::TrustArtifactMissing, "no pin given".into());
    };
    let Some(policy) = b.policy else {
        return fail(
            Code::TrustArtifactInvalid,
            "the bundle's trust artifact carries CRLs but no trust policy".into(),
        );
    };
    let mut crls = b.crls;
    crls.extend(rest.crls.iter().cloned());
    let inputs = signature::TrustInputs {
        policy,
        store_root: std::path::PathBuf::new(),
        crls,
        at: rest.at,
        scope: rest.scope.clone(),
        user_metadata: rest.user_metadata.clone(),
    };
    let mut stores = signature::StoreCache::preloaded(b.stores);
    let sigs = signature::verify_images(cat, integrity, &inputs, &mut stores);
    let anchor = TrustAnchor {
        mode,
        artifact: Some(b.digest),
        pins: matched,
        fingerprints: b.root_fingerprints,
    };
    Report::build(
        cat,
        integrity,
        Some((&sigs, anchor)),
        Vec::new(),
        verified_at,
    )
}
