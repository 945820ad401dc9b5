//! Reading the receipts attached to an image in a registry (feature `pull`), as `oras discover`
//! and notation find them: the image's referrers with artifact type
//! `application/vnd.in-toto+json` (Referrers API, else the `sha256-<hex>` tag), each one's
//! statement layer, and the Notary signatures referring to each receipt manifest. Every document
//! and blob is bounded ([`super::MAX_RECEIPT_BYTES`]) and hashed by the registry client; nothing is
//! judged here ([`super::check`] does that, from these bytes).

use std::collections::BTreeSet;

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

/// Most receipts pulled for one image.
pub const MAX_RECEIPTS: usize = 64;

/// Most bytes pulled for the receipts of one image (manifests, statements, signature manifests
/// and envelopes together): 16 of the largest statements.
pub const MAX_PULLED_BYTES: u64 = 16 * MAX_RECEIPT_BYTES;

/// The bytes pulled so far for one image, refused past [`MAX_PULLED_BYTES`].
struct Spent<'a> {
    bytes: u64,
    repo: &'a Reference,
    image: &'a Digest,
}

impl Spent<'_> {
    fn add(&mut self, n: usize) -> Result<(), RegistryError> {
        self.bytes = self
            .bytes
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        if self.bytes > MAX_PULLED_BYTES {
            return Err(too_much(
                self.repo,
                self.image,
                format!("more than {MAX_PULLED_BYTES} bytes of receipts and their signatures"),
            ));
        }
        Ok(())
    }
}

fn too_much(repo: &Reference, image: &Digest, what: String) -> RegistryError {
    RegistryError::Protocol {
        url: format!("{}@{image}", repo.repo_name()),
        reason: format!("{what} attached to the image: not read further"),
    }
}

/// The receipts attached to `image` (a manifest or index digest) in `repo`'s repository, each
/// manifest once however often the registry lists it, at most [`MAX_RECEIPTS`] of them and
/// [`MAX_PULLED_BYTES`] in all (an error beyond, raised before more is read).
pub fn pull(
    reg: &Registry,
    repo: &Reference,
    image: &Digest,
) -> Result<Vec<Pulled>, RegistryError> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut spent = Spent {
        bytes: 0,
        repo,
        image,
    };
    for r in reg.referrers(repo, image, Some(MEDIA_TYPE))? {
        let Ok(d) = Digest::parse(&r.digest) else {
            continue;
        };
        if !seen.insert(d.clone()) {
            continue;
        }
        if out.len() >= MAX_RECEIPTS {
            return Err(too_much(
                repo,
                image,
                format!("more than {MAX_RECEIPTS} receipts"),
            ));
        }
        let (_, manifest) = reg.manifest(repo, &d)?;
        spent.add(manifest.len())?;
        let statement = layer_of(&manifest, MEDIA_TYPE).and_then(|l| small_blob(reg, repo, &l));
        if let Ok(s) = &statement {
            spent.add(s.len())?;
        }
        let mut envelopes = Vec::new();
        let mut sigs_seen = BTreeSet::new();
        for s in reg.referrers(repo, &d, Some(model::NOTARY_SIGNATURE))? {
            let Ok(sd) = Digest::parse(&s.digest) else {
                continue;
            };
            if !sigs_seen.insert(sd.clone()) {
                continue;
            }
            let (_, sig_manifest) = reg.manifest(repo, &sd)?;
            spent.add(sig_manifest.len())?;
            let envelope = ["application/jose+json", "application/cose"]
                .iter()
                .find_map(|mt| layer_of(&sig_manifest, mt).ok())
                .ok_or(())
                .and_then(|l| small_blob(reg, repo, &l).map_err(|_| ()));
            if let Ok(e) = envelope {
                spent.add(e.len())?;
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
