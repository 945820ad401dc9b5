//! Verification: the integrity stage over a scanned bundle, the signature stage, and the report.
//!
//! Nothing here reads the clock or the network: the verification time is an input.

pub mod integrity;
#[cfg(test)]
mod record_tests;
pub mod report;
#[cfg(test)]
mod scan_tests;
pub mod signature;

pub use integrity::{check, ImageInfo, Integrity, ReferrerInfo};
pub use report::{AnchorMode, Report, TrustAnchor, Verdict};

use crate::finding::{Code, Finding};
use crate::notary::revocation::CrlInput;

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
    /// The caller checks every blob the bundle lacks against a store of its own before it uses
    /// the bundle (`import`: the target registry must hold each left-out blob, or nothing is
    /// pushed). Then a left-out list no anchor vouches for may stand: the blobs it names are
    /// still judged, by digest, where they are. Without it, such a list is the carrier's word
    /// and every blob it excuses is `blob_missing`.
    pub left_out_checked_by_caller: bool,
}

/// Where the trust anchor comes from (DESIGN.md section 4): exactly one of these.
pub enum Anchor {
    /// Trust policy and trust store on this machine. The bundle contributes CRLs only.
    Local(signature::TrustInputs),
    /// The bundle's trust artifact, accepted only when its manifest digest equals one of `pins`
    /// (the value `export` printed, carried out of band). The digest authenticates the policy,
    /// every store certificate, the TSA roots, the CRLs and the export record; the record then
    /// decides which images, under which names, may pass.
    Pinned {
        /// `sha256:HEX` trust artifact digests given with `--pin`.
        pins: Vec<String>,
        /// Inputs that come from this machine.
        rest: BundledInputs,
    },
    /// The bundle's trust artifact without a pin (`--trust-bundled`): the report says
    /// `bundled-unpinned`, because trust is then anchored in the bundle itself.
    Unpinned {
        /// Inputs that come from this machine.
        rest: BundledInputs,
    },
}

/// The parts of [`signature::TrustInputs`] that never come from the bundle.
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
    let required: Vec<(String, String)> = match &req.trust {
        None => Vec::new(),
        Some(Anchor::Local(t)) => t.user_metadata.clone(),
        Some(Anchor::Pinned { rest, .. } | Anchor::Unpinned { rest }) => rest.user_metadata.clone(),
    };
    let mut report = judge(cat, req, limits);
    report.required_user_metadata = required.into_iter().collect();
    report
}

/// [`verify_catalog`] but for the user metadata it records.
fn judge(cat: &crate::layout::Catalog, req: &Request, limits: &crate::layout::Limits) -> Report {
    let integrity = check(cat, &req.images, limits);
    let by_caller = req.left_out_checked_by_caller;
    match &req.trust {
        None => {
            let mut report = Report::integrity_only(cat, &integrity, &req.verified_at);
            report.refuse_left_out(unvouched_left_out(
                &integrity,
                by_caller,
                "no trust anchor vouches for the record that lists it as left out (integrity only)",
            ));
            report
        }
        Some(Anchor::Local(trust)) => {
            // CRLs prove themselves (the issuer's signature), so those the bundle carries are used
            // beside the ones given locally; nothing else of the bundle's trust material is read.
            let mut trust = trust.clone();
            trust.crls.extend(
                crate::trust_artifact::unauthenticated_crls(cat)
                    .into_iter()
                    .map(CrlInput::new),
            );
            let mut stores = signature::StoreCache::new(&trust.store_root);
            let sigs = signature::verify_images(cat, &integrity, &trust, &mut stores);
            let exported_by = export_signature(cat, &integrity, &trust, &mut stores, None);
            let anchor = TrustAnchor {
                mode: AnchorMode::Local,
                pin: None,
                artifact: None,
                fingerprints: stores.fingerprints(),
            };
            // Under local trust, the left-out list is vouched for only by an export signature the
            // operator's policy authenticates, on the very artifact whose record lists it.
            let signed = exported_by
                .as_ref()
                .filter(|e| {
                    e.verdict == Verdict::Pass
                        && e.signatures
                            .iter()
                            .any(signature::SignatureReport::authentic)
                })
                .map(|e| e.artifact.clone());
            let vouched = signed.is_some() && integrity.external_record == signed;
            // The signed record is then authenticated as a pinned one is: what it does not list
            // (referrers added beside an image, platforms said to be left out) is the carrier's,
            // reported and left behind by import as under `--pin` (red team F, F3).
            let record = signed.as_deref().and_then(|a| {
                crate::trust_artifact::read_artifact(cat, a, None, true)
                    .ok()
                    .and_then(|b| b.record)
                    .map(|r| (a, r))
            });
            let mut extra: Vec<Finding> = nothing_verified(&integrity).into_iter().collect();
            let mut unrecorded = Vec::new();
            if let Some((artifact, record)) = &record {
                extra.extend(withheld(
                    cat,
                    &integrity,
                    record,
                    !req.images.is_empty(),
                    "signed",
                ));
                extra.extend(unrecorded_exclusions(&integrity, record, "signed"));
                unrecorded = unrecorded_referrers(cat, artifact, record, &sigs, "signed");
            }
            let mut report = Report::build(
                cat,
                &integrity,
                Some((&sigs, anchor)),
                extra,
                &req.verified_at,
            )
            .with_export(exported_by);
            report.warnings.extend(unrecorded);
            report.refuse_left_out(unvouched_left_out(
                &integrity,
                vouched || by_caller,
                "the record that lists it as left out is not one an export signature the trust policy authenticates vouches for",
            ));
            if let Some(l) = &mut report.left_out {
                l.authenticated = vouched;
            }
            report
        }
        Some(Anchor::Pinned { pins, rest }) => {
            pinned(cat, &integrity, pins, rest, &req.images, &req.verified_at)
        }
        Some(Anchor::Unpinned { rest }) => {
            unpinned(cat, &integrity, rest, by_caller, &req.verified_at)
        }
    }
}

/// The blobs the integrity stage found absent and excused as left out by `export --since`, as
/// `blob_missing` failures unless `vouched`: the list of what was left out is the carrier's word
/// until an anchor vouches for the record that holds it (`why` says what is missing).
fn unvouched_left_out(integrity: &Integrity, vouched: bool, why: &str) -> Vec<Finding> {
    if vouched {
        return Vec::new();
    }
    integrity
        .external
        .iter()
        .map(|d| {
            Finding::new(
                Code::BlobMissing,
                format!("blob is not in the bundle, and {why}"),
            )
            .digest(d)
            .path(crate::layout::blob_name(d))
        })
        .collect()
}

/// With a trust anchor, a bundle that carries no image verified nothing: it fails
/// (`image_not_found`) rather than pass on an empty list (a carrier who removed or relabelled
/// every image entry must not get a verified bundle).
fn nothing_verified(integrity: &Integrity) -> Option<Finding> {
    let reported = integrity
        .failures
        .iter()
        .any(|f| f.code == Code::ImageNotFound);
    (integrity.images.is_empty() && !reported).then(|| {
        Finding::new(
            Code::ImageNotFound,
            "the bundle carries no image: no signature was verified",
        )
    })
}

/// A report that failed before the signature stage could run.
fn refused(
    cat: &crate::layout::Catalog,
    integrity: &Integrity,
    code: Code,
    message: String,
    verified_at: &str,
) -> Report {
    Report::build(
        cat,
        integrity,
        None,
        vec![Finding::new(code, message)],
        verified_at,
    )
}

/// What `--pin` values find in a bundle.
pub enum PinMatch {
    /// The trust artifact listed in `index.json` whose digest is a pin.
    Artifact(crate::layout::model::Descriptor),
    /// No artifact matched, but this pin is the fingerprint of a certificate the bundle carries
    /// (a root given where the artifact digest belongs).
    Certificate(String),
    /// Nothing matched.
    Nothing,
}

/// Matches `pins` against the trust artifacts `index.json` lists; when none matches, tells whether a
/// pin is the fingerprint of a certificate the bundle carries (in a trust artifact, its record, or a
/// signature envelope's chain).
pub fn match_pins(
    cat: &crate::layout::Catalog,
    integrity: &Integrity,
    pins: &[String],
) -> PinMatch {
    let listed = crate::trust_artifact::listed(cat);
    if let Some(d) = listed.iter().find(|d| pins.contains(&d.digest)) {
        return PinMatch::Artifact(d.clone());
    }
    let envelope_certs = signature::envelope_fingerprints(cat, integrity);
    if let Some(p) = pins.iter().find(|p| envelope_certs.contains(*p)) {
        return PinMatch::Certificate(p.clone());
    }
    for d in &listed {
        if let Ok(b) = crate::trust_artifact::read_artifact(cat, &d.digest, Some(d.size), false) {
            if let Some(p) = pins
                .iter()
                .find(|p| b.cert_fingerprints.contains(p) || b.root_fingerprints.contains(p))
            {
                return PinMatch::Certificate(p.clone());
            }
            if let Some(p) = pins.iter().find(|p| {
                b.record
                    .as_ref()
                    .is_some_and(|r| r.roots.iter().any(|x| &x.fingerprint == *p))
            }) {
                return PinMatch::Certificate(p.clone());
            }
        }
    }
    PinMatch::Nothing
}

fn pinned(
    cat: &crate::layout::Catalog,
    integrity: &Integrity,
    pins: &[String],
    rest: &BundledInputs,
    selected: &[String],
    verified_at: &str,
) -> Report {
    let fail = |code, msg: String| refused(cat, integrity, code, msg, verified_at);
    let desc = match match_pins(cat, integrity, pins) {
        PinMatch::Artifact(d) => d,
        PinMatch::Certificate(p) => {
            let f = Finding::new(
                Code::PinIsCertificate,
                format!(
                    "--pin {p} is the fingerprint of a certificate, not the digest of a trust artifact"
                ),
            )
            .digest(&p);
            return Report::build(cat, integrity, None, vec![f], verified_at);
        }
        PinMatch::Nothing => {
            let listed: Vec<String> = crate::trust_artifact::listed(cat)
                .into_iter()
                .map(|d| d.digest)
                .collect();
            return fail(
                Code::PinMismatch,
                format!(
                    "no trust artifact of the bundle has the pinned digest {} (the bundle lists: {})",
                    pins.join(", "),
                    if listed.is_empty() {
                        "none".to_string()
                    } else {
                        listed.join(", ")
                    }
                ),
            );
        }
    };
    let b = match crate::trust_artifact::read_artifact(cat, &desc.digest, Some(desc.size), true) {
        Ok(b) => b,
        Err(e) => return fail(Code::TrustArtifactInvalid, e.to_string()),
    };
    let (Some(policy), Some(record)) = (b.policy, b.record) else {
        return fail(
            Code::TrustArtifactInvalid,
            format!(
                "the pinned trust artifact {} carries no trust policy (it was exported without trust material)",
                desc.digest
            ),
        );
    };
    let mut extra = withheld(cat, integrity, &record, !selected.is_empty(), "pinned");
    extra.extend(unrecorded_exclusions(integrity, &record, "pinned"));
    // Blobs absent as left out by `export --since` must be listed in the pinned record: a list
    // from any other trust artifact of the bundle is the carrier's word.
    // (Each blob in that list came from the record `external_record` names: see `unvouched_left_out`.)
    let external_ok = integrity.external_record.as_deref() == Some(desc.digest.as_str());
    // The pin authenticates each CRL layer's capture URI (its annotation is in the manifest).
    let crls: Vec<CrlInput> = b
        .crls
        .into_iter()
        .map(|(c, url)| match url {
            Some(u) => CrlInput::captured(c, u),
            None => CrlInput::new(c),
        })
        .collect();
    let names = signature::Names::Record(
        record
            .sources
            .iter()
            .map(|s| (s.reference.clone(), s.digest.clone()))
            .collect(),
    );
    let inputs = bundled_inputs(policy, crls, rest, names);
    let mut stores = signature::StoreCache::preloaded(b.stores);
    let sigs = signature::verify_images(cat, integrity, &inputs, &mut stores);
    let exported_by = export_signature(cat, integrity, &inputs, &mut stores, Some(&desc.digest));
    let anchor = TrustAnchor {
        mode: AnchorMode::Pinned,
        pin: Some(desc.digest.clone()),
        artifact: Some(desc.digest.clone()),
        fingerprints: b.root_fingerprints,
    };
    extra.extend(nothing_verified(integrity));
    let unrecorded = unrecorded_referrers(cat, &desc.digest, &record, &sigs, "pinned");
    let mut report = Report::build(cat, integrity, Some((&sigs, anchor)), extra, verified_at)
        .with_export(exported_by);
    report.refuse_left_out(unvouched_left_out(
        integrity,
        external_ok,
        "the pinned export record does not list it as left out",
    ));
    if let Some(l) = &mut report.left_out {
        l.authenticated = external_ok;
    }
    report.warnings.extend(unrecorded);
    report
}

/// What an authenticated export record (`whose`: "pinned", "signed") lists that the bundle does
/// not carry: an image under its recorded name (unless `narrowed` by `--image`: the bundle may
/// then hold less than was asked for), and every referrer (signatures among them) the record
/// lists for an image the bundle does carry. Each is `exported_image_missing`: a carrier may not
/// drop an image, an attestation or a signature of the export silently (red team J: J1, J5).
fn withheld(
    cat: &crate::layout::Catalog,
    integrity: &Integrity,
    record: &crate::trust_artifact::ExportRecord,
    narrowed: bool,
    whose: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if !narrowed {
        for s in &record.sources {
            let present = integrity
                .images
                .iter()
                .any(|i| i.digest == s.digest && i.reference.as_deref() == Some(&s.reference));
            if !present {
                out.push(
                    Finding::new(
                        Code::ExportedImageMissing,
                        format!(
                            "the {whose} export record lists {} ({}) but the bundle does not carry it under that name",
                            s.reference, s.digest
                        ),
                    )
                    .digest(&s.digest),
                );
            }
        }
    }
    let listed: std::collections::BTreeSet<String> =
        index_entries(cat).into_iter().map(|e| e.digest).collect();
    let mut reported = std::collections::BTreeSet::new();
    for s in &record.sources {
        if !integrity.images.iter().any(|i| i.digest == s.digest) {
            continue;
        }
        let referrers = s
            .referrers
            .iter()
            .map(|r| (r.digest.as_str(), r.artifact_type.as_deref()))
            .chain(
                s.signatures
                    .iter()
                    .map(|d| (d.as_str(), Some(crate::layout::model::NOTARY_SIGNATURE))),
            );
        for (d, kind) in referrers {
            if listed.contains(d) || !reported.insert(d.to_owned()) {
                continue;
            }
            out.push(
                Finding::new(
                    Code::ExportedImageMissing,
                    format!(
                        "the {whose} export record lists a referrer of {} ({}) that the bundle does not carry",
                        s.reference,
                        kind.unwrap_or("no artifact type")
                    ),
                )
                .digest(d),
            );
        }
    }
    out
}

/// The entries of the bundle's `index.json` (none when it does not parse).
fn index_entries(cat: &crate::layout::Catalog) -> Vec<layout::model::Descriptor> {
    cat.index_json
        .as_ref()
        .and_then(|s| s.bytes())
        .and_then(|b| layout::model::Document::parse(b).ok())
        .and_then(|d| d.manifests)
        .unwrap_or_default()
}

/// Platform manifests absent as left out by `export --platform` must be listed in the
/// authenticated record (`whose`: "pinned", "signed"): the annotation that says so is the
/// carrier's word. Each one the record does not list is `blob_missing`.
fn unrecorded_exclusions(
    integrity: &Integrity,
    record: &crate::trust_artifact::ExportRecord,
    whose: &str,
) -> Vec<Finding> {
    let left_out: std::collections::BTreeSet<&str> = record
        .sources
        .iter()
        .flat_map(|s| s.excluded.iter().map(String::as_str))
        .collect();
    integrity
        .warnings
        .iter()
        .filter(|w| w.code == Code::ExcludedByExport)
        .filter_map(|w| w.digest.as_deref())
        .filter(|d| !left_out.contains(d))
        .map(|d| {
            Finding::new(
                Code::BlobMissing,
                format!(
                    "platform manifest is not in the bundle, and the {whose} export record does not list it as left out by `--platform`"
                ),
            )
            .digest(d)
        })
        .collect()
}

/// Every `index.json` entry that `import` would push as an artifact of an image (a document with a
/// `subject`, a cosign tag-named artifact), whatever role its labels give it, that the pinned
/// record does not list (by digest and subject) and that is no notation signature which verified
/// under the pinned policy: added after the export, and vouched for by nothing. Each is reported
/// (`not_in_export_record`, a warning: it changes no verdict, being judged by nothing) and
/// `import --pin` leaves it behind rather than push it beside the image as if it came from
/// upstream (a carrier's failing signatures, enough of them, would stop the site's `notation
/// verify` at its signature cap before it reached a good one). A recorded referrer travels as it
/// was (a recorded signature that fails is upstream's); a new signature that verifies is judged by
/// the pinned policy on its own.
fn unrecorded_referrers(
    cat: &crate::layout::Catalog,
    pinned: &str,
    record: &crate::trust_artifact::ExportRecord,
    sigs: &[signature::ImageSignatures],
    whose: &str,
) -> Vec<Finding> {
    let recorded: std::collections::BTreeSet<(&str, &str)> = record
        .sources
        .iter()
        .flat_map(|s| s.referrers.iter())
        .map(|r| (r.digest.as_str(), r.subject.as_str()))
        .collect();
    let passed: std::collections::BTreeSet<(&str, &str)> = sigs
        .iter()
        .flat_map(|im| &im.signatures)
        .filter(|s| s.verdict == Verdict::Pass)
        .map(|s| (s.manifest_digest.as_str(), s.subject_digest.as_str()))
        .collect();
    let entries = index_entries(cat);
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for e in &entries {
        if e.digest == pinned || !seen.insert(e.digest.clone()) {
            continue;
        }
        let doc = crate::digest::Digest::parse(&e.digest)
            .ok()
            .and_then(|d| cat.blobs.get(&d))
            .and_then(|b| match &b.content {
                layout::Content::Json(b) | layout::Content::Bytes(b) => {
                    layout::model::Document::parse(b).ok()
                }
                _ => None,
            });
        let of_doc = doc
            .as_ref()
            .and_then(|d| d.subject.as_ref())
            .map(|s| s.digest.clone());
        let of_tag = e
            .annotations
            .get(layout::model::REF_NAME)
            .and_then(|n| layout::cosign_tag_subject(n))
            .map(|d| d.to_string());
        let subjects: Vec<&String> = of_doc.iter().chain(of_tag.iter()).collect();
        let Some(&shown) = subjects.first() else {
            continue;
        };
        // A signature of the pinned artifact itself is the export signature: `exportedBy` judges
        // it, and import never pushes it (its subject is no image).
        if subjects.iter().any(|s| s.as_str() == pinned) {
            continue;
        }
        let vouched = subjects.iter().any(|s| {
            let pair = (e.digest.as_str(), s.as_str());
            recorded.contains(&pair) || passed.contains(&pair)
        });
        if !vouched {
            let kind = e
                .artifact_type
                .clone()
                .or_else(|| {
                    doc.as_ref()
                        .and_then(|d| d.effective_artifact_type().map(str::to_owned))
                })
                .unwrap_or_else(|| "no artifact type".to_owned());
            out.push(
                Finding::new(
                    Code::NotInExportRecord,
                    format!(
                        "referrer of {shown} ({kind}) is not in the {whose} export record and is no signature that verified: added after the export, not imported"
                    ),
                )
                .digest(&e.digest),
            );
        }
    }
    out
}

/// The signature stage's inputs from a bundle's trust artifact and this machine's options (local
/// `--crl` files are added to the artifact's CRLs).
fn bundled_inputs(
    policy: crate::notary::policy::PolicyDocument,
    mut crls: Vec<CrlInput>,
    rest: &BundledInputs,
    names: signature::Names,
) -> signature::TrustInputs {
    crls.extend(rest.crls.iter().cloned().map(CrlInput::new));
    signature::TrustInputs {
        policy,
        store_root: std::path::PathBuf::new(),
        crls,
        at: rest.at,
        scope: rest.scope.clone(),
        user_metadata: rest.user_metadata.clone(),
        names,
    }
}

fn unpinned(
    cat: &crate::layout::Catalog,
    integrity: &Integrity,
    rest: &BundledInputs,
    by_caller: bool,
    verified_at: &str,
) -> Report {
    let fail = |code, msg: String| refused(cat, integrity, code, msg, verified_at);
    let b = match crate::trust_artifact::read_bundled(cat) {
        Ok(Some(b)) => b,
        Ok(None) => {
            return fail(
                Code::TrustArtifactMissing,
                "the bundle carries no trust artifact".into(),
            )
        }
        Err(e) => return fail(Code::TrustArtifactInvalid, e.to_string()),
    };
    let Some(policy) = b.policy else {
        return fail(
            Code::TrustArtifactInvalid,
            "the bundle's trust artifact carries no trust policy (it was exported without trust material)"
                .into(),
        );
    };
    // Unpinned: a capture URI is the carrier's word, so no CRL is bound by it.
    let crls = b.crls.into_iter().map(|(c, _)| CrlInput::new(c)).collect();
    let inputs = bundled_inputs(policy, crls, rest, signature::Names::Annotations);
    let mut stores = signature::StoreCache::preloaded(b.stores);
    let sigs = signature::verify_images(cat, integrity, &inputs, &mut stores);
    let exported_by = export_signature(cat, integrity, &inputs, &mut stores, Some(&b.digest));
    // `--trust-bundled` takes the bundle's own trust artifact for the anchor: its record's list
    // stands as the rest of it does (the report says the anchor is the bundle), another
    // artifact's does not.
    let own = integrity.external_record.as_deref() == Some(b.digest.as_str());
    let anchor = TrustAnchor {
        mode: AnchorMode::BundledUnpinned,
        pin: None,
        artifact: Some(b.digest),
        fingerprints: b.root_fingerprints,
    };
    let mut report = Report::build(
        cat,
        integrity,
        Some((&sigs, anchor)),
        nothing_verified(integrity).into_iter().collect(),
        verified_at,
    )
    .with_export(exported_by);
    report.refuse_left_out(unvouched_left_out(
        integrity,
        own || by_caller,
        "the record that lists it as left out is not the trust artifact verification used",
    ));
    report
}

/// The export signature of the bundle's trust artifact (`export --sign-key`), evaluated under the
/// statement for `airlock/export` ([`signature::exporter`]); `None` when the bundle has none.
fn export_signature(
    cat: &crate::layout::Catalog,
    integrity: &Integrity,
    inputs: &signature::TrustInputs,
    stores: &mut signature::StoreCache,
    artifact: Option<&str>,
) -> Option<signature::exporter::ExportedBy> {
    let entries = cat
        .index_json
        .as_ref()
        .and_then(|s| s.bytes())
        .and_then(|b| crate::layout::model::Document::parse(b).ok())
        .and_then(|d| d.manifests)
        .unwrap_or_default();
    signature::exporter::verify_export(cat, integrity, &entries, inputs, stores, artifact)
}
