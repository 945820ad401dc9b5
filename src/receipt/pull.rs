//! Reading the receipts attached to an image in a registry (feature `pull`), as `oras discover`
//! and notation find them: the image's referrers with artifact type
//! `application/vnd.in-toto+json` (Referrers API, else the `sha256-<hex>` tag), each one's
//! statement layer, and the Notary signatures referring to each receipt manifest. Every document
//! and blob is bounded ([`super::MAX_RECEIPT_BYTES`]) and hashed by the registry client; nothing is
//! judged here ([`super::check`] does that, from these bytes).

use crate::digest::Digest;
use crate::layout::model::{self, Descriptor, Document};
use crate::registry::{Reference, Registry, RegistryError};

use super::{MAX_RECEIPT_BYTES, MEDIA_TYPE};

/// One receipt pulled from a registry.
#[derive(Clone, Debug)]
pub struct Pulled {
    /// The receipt manifest's digest.
    pub manifest_digest: Digest,
    /// Its bytes.
    pub manifest: Vec<u8>,
    /// The statement (its one in-toto layer), or why it could not be read.
    pub statement: Result<Vec<u8>, String>,
    /// The envelope of each Notary signature referring to the receipt manifest.
    pub envelopes: Vec<Vec<u8>>,
}

fn small_blob(reg: &Registry, repo: &Reference, d: &Descriptor) -> Result<Vec<u8>, String> {
    if d.size > MAX_RECEIPT_BYTES {
        return Err(format!(
            "{} is {} bytes, over the {MAX_RECEIPT_BYTES}-byte limit",
            d.digest, d.size
        ));
    }
    let mut out = Vec::new();
    reg.blob_to(repo, d, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The only layer of `manifest` with media type `media_type`.
fn layer_of(manifest: &[u8], media_type: &str) -> Result<Descriptor, String> {
    let doc = Document::parse(manifest).map_err(|e| format!("the manifest: {e}"))?;
    let mut found = doc
        .layers
        .unwrap_or_default()
        .into_iter()
        .filter(|l| l.media_type() == media_type);
    match (found.next(), found.next()) {
        (Some(l), None) => Ok(l),
        _ => Err(format!(
            "the manifest has not exactly one {media_type} layer"
        )),
    }
}

/// The receipts attached to `image` (a manifest or index digest) in `repo`'s repository.
pub fn pull(
    reg: &Registry,
    repo: &Reference,
    image: &Digest,
) -> Result<Vec<Pulled>, RegistryError> {
    let mut out = Vec::new();
    for r in reg.referrers(repo, image, Some(MEDIA_TYPE))? {
        let Ok(d) = Digest::parse(&r.digest) else {
            continue;
        };
        let (_, manifest) = reg.manifest(repo, &d)?;
        let statement = layer_of(&manifest, MEDIA_TYPE).and_then(|l| small_blob(reg, repo, &l));
        let mut envelopes = Vec::new();
        for s in reg.referrers(repo, &d, Some(model::NOTARY_SIGNATURE))? {
            let Ok(sd) = Digest::parse(&s.digest) else {
                continue;
            };
            let (_, sig_manifest) = reg.manifest(repo, &sd)?;
            let envelope = ["application/jose+json", "application/cose"]
                .iter()
                .find_map(|mt| layer_of(&sig_manifest, mt).ok())
                .ok_or(())
                .and_then(|l| small_blob(reg, repo, &l).map_err(|_| ()));
            if let Ok(e) = envelope {
                envelopes.push(e);
            }
        }
        out.push(Pulled {
            manifest_digest: d,
            manifest,
            statement,
            envelopes,
        });
    }
    Ok(out)
}
