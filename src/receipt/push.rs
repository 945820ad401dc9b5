//! Pushing a receipt next to its image (feature `pull`): the blobs (empty config, statement,
//! envelope), the receipt manifest, its signature manifest, and, unless the registry serves the
//! Referrers API, the `sha256-<hex>` referrers tag indexes of the image (listing the receipt) and
//! of the receipt manifest (listing its signature), created or merged keeping what they list.

use std::collections::BTreeSet;
use std::io::Cursor;

use serde_json::{json, Value};

use crate::digest::Digest;
use crate::layout::model::{self, Descriptor};
use crate::notary::sign::TargetDescriptor;
use crate::registry::{Reference, Registry, RegistryError};
use crate::sign::EMPTY_JSON;

use super::oci::ReceiptArtifacts;
use super::MEDIA_TYPE;

/// What was pushed for one image.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    /// `REPO@DIGEST` of the image.
    pub image: String,
    /// The receipt manifest's digest.
    pub receipt: String,
    /// Its signature manifest's digest.
    pub signature: String,
    /// The referrers tag indexes written (`REPO:sha256-<hex>`); empty with the Referrers API.
    pub tags: Vec<String>,
}

fn desc(media_type: &str, digest: &Digest, size: u64) -> Descriptor {
    Descriptor {
        media_type: Some(media_type.to_owned()),
        digest: digest.to_string(),
        size,
        artifact_type: None,
        annotations: Default::default(),
        platform: None,
        urls: Vec::new(),
    }
}

fn blob(
    reg: &Registry,
    repo: &Reference,
    media_type: &str,
    bytes: &[u8],
) -> Result<(), RegistryError> {
    let d = desc(
        media_type,
        &Digest::sha256(bytes),
        u64::try_from(bytes.len()).unwrap_or(u64::MAX),
    );
    reg.push_blob(repo, &d, Box::new(Cursor::new(bytes.to_vec())))?;
    Ok(())
}

/// Pushes `a` into `repo` (`HOST/REPO`) beside `image`; `tag_schema` also writes the referrers
/// tag indexes (the OCI 1.1 fallback for registries without the Referrers API).
pub fn push(
    reg: &Registry,
    repo: &str,
    image: &TargetDescriptor,
    a: &ReceiptArtifacts,
    tag_schema: bool,
) -> Result<Pushed, RegistryError> {
    let r = Registry::parse(repo)?;
    blob(reg, &r, EMPTY_JSON, b"{}")?;
    blob(reg, &r, MEDIA_TYPE, &a.statement)?;
    blob(reg, &r, a.format.media_type(), &a.envelope)?;
    let receipt = &a.manifest_descriptor;
    reg.push_manifest(
        &Registry::parse(&format!("{repo}@{}", receipt.digest))?,
        model::OCI_MANIFEST,
        &a.manifest,
    )?;
    let sig = a.signature_descriptor();
    reg.push_manifest(
        &Registry::parse(&format!("{repo}@{}", sig.digest))?,
        model::OCI_MANIFEST,
        &a.signature.bytes,
    )?;
    let mut tags = Vec::new();
    if tag_schema {
        let created = serde_json::from_slice::<Value>(&a.manifest)
            .ok()
            .and_then(|v| v.get("annotations").and_then(Value::as_object).cloned())
            .unwrap_or_default();
        let receipt_entry = json!({
            "mediaType": model::OCI_MANIFEST,
            "digest": receipt.digest.to_string(),
            "size": receipt.size,
            "artifactType": MEDIA_TYPE,
            "annotations": created,
        });
        tags.push(merge_tag(reg, repo, &image.digest, receipt_entry)?);
        let sig_entry = json!({
            "mediaType": model::OCI_MANIFEST,
            "digest": sig.digest.to_string(),
            "size": sig.size,
            "artifactType": model::NOTARY_SIGNATURE,
            "annotations": a.signature.annotations,
        });
        tags.push(merge_tag(reg, repo, &receipt.digest, sig_entry)?);
    }
    Ok(Pushed {
        image: format!("{repo}@{}", image.digest),
        receipt: receipt.digest.to_string(),
        signature: sig.digest.to_string(),
        tags,
    })
}

/// Creates or merges `repo`'s referrers tag index of `subject` with `entry`; returns the tag.
fn merge_tag(
    reg: &Registry,
    repo: &str,
    subject: &Digest,
    entry: Value,
) -> Result<String, RegistryError> {
    let tagged = format!("{repo}:{}", crate::layout::referrers_tag(subject));
    let r = Registry::parse(&tagged)?;
    let mut listed: Vec<Value> = Vec::new();
    let mut have: BTreeSet<String> = BTreeSet::new();
    match reg.resolve(&r) {
        Ok((_, bytes)) => {
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| RegistryError::Protocol {
                url: format!("referrers tag index {tagged}"),
                reason: e.to_string(),
            })?;
            let manifests = v.get("manifests").and_then(Value::as_array);
            for m in manifests.into_iter().flatten() {
                if let Some(d) = m.get("digest").and_then(Value::as_str) {
                    if have.insert(d.to_owned()) {
                        listed.push(m.clone());
                    }
                }
            }
        }
        Err(RegistryError::NotFound { .. }) => {}
        Err(e) => return Err(e),
    }
    let new = entry
        .get("digest")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if have.contains(&new) {
        return Ok(tagged);
    }
    listed.push(entry);
    let idx = json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX, "manifests": listed});
    let bytes = serde_json::to_vec(&idx).map_err(|e| RegistryError::Protocol {
        url: format!("referrers tag index {tagged}"),
        reason: e.to_string(),
    })?;
    reg.push_manifest(&r, model::OCI_INDEX, &bytes)?;
    Ok(tagged)
}
