//! Signature discovery: which manifests sign a target (in `index.json` or its referrers tag
//! index), which of them notation could not use (erratum 8), and their envelopes.

use std::collections::BTreeSet;

use crate::digest::Digest;
use crate::layout::model::{self, Descriptor, Document, NOTARY_SIGNATURE};
use crate::layout::{blob_name, referrers_tag_of, Catalog, Content};
use crate::notary::envelope::Envelope;

use super::super::integrity::Integrity;
use super::Target;

/// The empty JSON config media type (image-spec 1.1).
const EMPTY_JSON: &str = "application/vnd.oci.empty.v1+json";

/// Largest signature manifest notation accepts (erratum 8).
const MAX_SIGNATURE_MANIFEST: u64 = 4 << 20;
/// Largest envelope notation accepts (erratum 8).
const MAX_ENVELOPE: u64 = 32 << 20;

/// Finds the Notary signatures of `target` among `index.json` entries and referrers tag indexes.
pub(super) fn signatures_of(
    target: &Target,
    entries: &[Descriptor],
    integrity: &Integrity,
) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::new();
    let consider = |desc: &Descriptor, out: &mut Vec<Digest>| {
        let Ok(d) = Digest::parse(&desc.digest) else {
            return;
        };
        let Some(doc) = integrity.documents.get(&d) else {
            return;
        };
        let Some(subject) = &doc.subject else { return };
        let same = subject.digest == target.digest
            && subject.size == target.size
            && subject.media_type() == target.media_type;
        // SPEC-NOTES §1.1: `artifactType` with the empty-JSON config, or (the form every released
        // notation writes) no `artifactType` and the config media type naming the signature.
        let config_mt = doc
            .config
            .as_ref()
            .map(Descriptor::media_type)
            .unwrap_or("");
        let is_signature = match doc.artifact_type.as_deref() {
            Some(t) => t == NOTARY_SIGNATURE && config_mt == EMPTY_JSON,
            None => config_mt == NOTARY_SIGNATURE,
        };
        if same && is_signature && !out.contains(&d) {
            out.push(d);
        }
    };
    for e in entries {
        consider(e, &mut out);
    }
    let tag = referrers_tag_of(&target.digest);
    for e in entries
        .iter()
        .filter(|e| tag.is_some() && e.annotations.get(model::REF_NAME) == tag.as_ref())
    {
        if let Some(doc) = Digest::parse(&e.digest)
            .ok()
            .and_then(|d| integrity.documents.get(&d))
        {
            for m in doc.manifests.iter().flatten() {
                consider(m, &mut out);
            }
        }
    }
    out
}

/// Erratum 8: a signature manifest notation could not use aborts the verification of its subject
/// (rather than being one failing signature among others).
pub(super) fn malformed_signature(
    sig: &Digest,
    cat: &Catalog,
    integrity: &Integrity,
) -> Option<String> {
    let Some(doc) = integrity.documents.get(sig) else {
        return Some(format!(
            "signature manifest {} was not readable",
            blob_name(sig)
        ));
    };
    if let Some(size) = cat.blobs.get(sig).map(|b| b.size) {
        if size > MAX_SIGNATURE_MANIFEST {
            return Some(format!(
                "signature manifest {sig} is {size} bytes, over the {MAX_SIGNATURE_MANIFEST} byte limit"
            ));
        }
    }
    let mt = doc.media_type.as_deref().unwrap_or(model::OCI_MANIFEST);
    let layers = match mt {
        model::OCI_MANIFEST => doc.layers.as_deref(),
        model::OCI_ARTIFACT_MANIFEST => doc.blobs.as_deref(),
        other => {
            return Some(format!(
            "signature manifest {sig} has media type {other:?}, not an image or artifact manifest"
        ))
        }
    }
    .unwrap_or(&[]);
    let [layer] = layers else {
        return Some(format!(
            "signature manifest {sig} has {} layers, expected exactly one envelope",
            layers.len()
        ));
    };
    if layer.size > MAX_ENVELOPE {
        return Some(format!(
            "envelope of {sig} is {} bytes, over the {MAX_ENVELOPE} byte limit",
            layer.size
        ));
    }
    None
}

/// How an envelope dropped for the memory budget is described (the signature stage reports it
/// as `limit_exceeded`, not as the signature's fault).
pub(super) const NOT_KEPT: &str = "envelope not kept in memory";

pub(super) fn envelope_of<'a>(
    sig: &Digest,
    cat: &'a Catalog,
    integrity: &Integrity,
) -> Result<(String, &'a [u8]), String> {
    let doc: &Document = integrity
        .documents
        .get(sig)
        .ok_or("signature manifest was not readable")?;
    let layer = doc
        .layers
        .iter()
        .chain(doc.blobs.iter())
        .flatten()
        .next()
        .ok_or("signature manifest has no envelope")?;
    let d = Digest::parse(&layer.digest).map_err(|e| e.to_string())?;
    if integrity.failed.contains(&d) || integrity.failed.contains(sig) {
        return Err(format!(
            "envelope {} failed the integrity stage",
            blob_name(&d)
        ));
    }
    match cat.blobs.get(&d).map(|b| &b.content) {
        Some(Content::Json(b)) | Some(Content::Bytes(b)) => Ok((layer.media_type().to_owned(), b)),
        Some(Content::NotRetained) => Err(format!(
            "{NOT_KEPT}: the bundle holds more manifests, configs and signatures than airlock keeps while it reads one (a resource limit, not a fault of this signature; split the export)"
        )),
        Some(_) => Err("envelope is larger than the limit kept in memory".into()),
        None => Err("envelope blob is missing".into()),
    }
}

/// SHA-256 fingerprints of every certificate in every Notary signature envelope the bundle holds
/// (for telling a mistaken `--pin` apart from a mismatching one).
pub fn envelope_fingerprints(cat: &Catalog, integrity: &Integrity) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (d, doc) in &integrity.documents {
        if doc.subject.is_none() || doc.effective_artifact_type() != Some(NOTARY_SIGNATURE) {
            continue;
        }
        let Ok((mt, bytes)) = envelope_of(d, cat, integrity) else {
            continue;
        };
        if let Ok(env) = Envelope::parse(&mt, bytes) {
            out.extend(
                env.certificate_chain()
                    .iter()
                    .map(|c| Digest::sha256(c).to_string()),
            );
        }
    }
    out
}
