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

/// Most receipts examined for one image. The receipts attached to an image are not all the
/// site's: under local trust, `import` publishes the referrers a bundle carries, and a carrier can
/// add in-toto attestations beside the image (red team F, F7). So the count is generous, each
/// receipt is judged as it arrives and then dropped, and the search stops at the first authentic
/// one that passes ([`pull_each`]).
pub const MAX_RECEIPTS: usize = 1024;

/// Most bytes pulled for one receipt (its manifest, statement, signature manifests and envelopes
/// together): 4 of the largest statements.
pub const MAX_PULLED_BYTES: u64 = 4 * MAX_RECEIPT_BYTES;

/// Most bytes pulled for the receipts of one image in all.
pub const MAX_TOTAL_BYTES: u64 = 1 << 30;

/// The bytes pulled so far, for one receipt and for the image, refused past [`MAX_PULLED_BYTES`]
/// and [`MAX_TOTAL_BYTES`].
struct Spent<'a> {
    bytes: u64,
    total: u64,
    repo: &'a Reference,
    image: &'a Digest,
}

impl Spent<'_> {
    fn add(&mut self, n: usize) -> Result<(), RegistryError> {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        self.bytes = self.bytes.saturating_add(n);
        self.total = self.total.saturating_add(n);
        if self.bytes > MAX_PULLED_BYTES {
            return Err(too_much(
                self.repo,
                self.image,
                format!("a receipt of more than {MAX_PULLED_BYTES} bytes with its signatures"),
            ));
        }
        if self.total > MAX_TOTAL_BYTES {
            return Err(too_much(
                self.repo,
                self.image,
                format!("more than {MAX_TOTAL_BYTES} bytes of receipts and their signatures"),
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

/// The receipts attached to `image` (a manifest or index digest) in `repo`'s repository, newest
/// listed first (a referrers tag index lists in the order receipts were attached), each manifest
/// once however often the registry lists it, handed to `visit` one by one, until `visit` breaks
/// (it found what it looked for), or all were seen. At most [`MAX_RECEIPTS`] are examined, each
/// of at most [`MAX_PULLED_BYTES`], [`MAX_TOTAL_BYTES`] in all (an error beyond, raised before more
/// is read). Returns how many were examined.
pub fn pull_each(
    reg: &Registry,
    repo: &Reference,
    image: &Digest,
    mut visit: impl FnMut(Pulled) -> std::ops::ControlFlow<()>,
) -> Result<usize, RegistryError> {
    let mut seen = BTreeSet::new();
    let mut spent = Spent {
        bytes: 0,
        total: 0,
        repo,
        image,
    };
    let mut listed = reg.referrers(repo, image, Some(MEDIA_TYPE))?;
    listed.reverse();
    for r in listed {
        let Ok(d) = Digest::parse(&r.digest) else {
            continue;
        };
        if !seen.insert(d.clone()) {
            continue;
        }
        if seen.len() > MAX_RECEIPTS {
            return Err(too_much(
                repo,
                image,
                format!("more than {MAX_RECEIPTS} receipts"),
            ));
        }
        spent.bytes = 0;
        // One receipt that cannot be read (gone, too large, malformed) is that receipt's failure,
        // reported, and the search goes on: a carrier's receipt listed first must not end it
        // (red team G's note). A registry that cannot be reached, or the total budget, ends it.
        let pulled = match pull_one(reg, repo, &d, &mut spent) {
            Ok(p) => p,
            Err(e) if crate::registry::unreachable(&e) || spent.total > MAX_TOTAL_BYTES => {
                return Err(e)
            }
            Err(e) => Pulled {
                manifest_digest: d,
                manifest: Vec::new(),
                statement: Err(e.to_string()),
                envelopes: Vec::new(),
            },
        };
        if visit(pulled).is_break() {
            break;
        }
    }
    Ok(seen.len().min(MAX_RECEIPTS))
}

/// One receipt manifest `d`, its statement and the envelopes of the Notary signatures referring to
/// it, charged to `spent`.
fn pull_one(
    reg: &Registry,
    repo: &Reference,
    d: &Digest,
    spent: &mut Spent<'_>,
) -> Result<Pulled, RegistryError> {
    let (_, manifest) = reg.manifest(repo, d)?;
    spent.add(manifest.len())?;
    let statement = layer_of(&manifest, MEDIA_TYPE).and_then(|l| small_blob(reg, repo, &l));
    if let Ok(s) = &statement {
        spent.add(s.len())?;
    }
    let mut envelopes = Vec::new();
    let mut sigs_seen = BTreeSet::new();
    for s in reg.referrers(repo, d, Some(model::NOTARY_SIGNATURE))? {
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
    Ok(Pulled {
        manifest_digest: d.clone(),
        manifest,
        statement,
        envelopes,
    })
}

/// Every receipt attached to `image` ([`pull_each`] without stopping), kept.
pub fn pull(
    reg: &Registry,
    repo: &Reference,
    image: &Digest,
) -> Result<Vec<Pulled>, RegistryError> {
    let mut out = Vec::new();
    pull_each(reg, repo, image, |p| {
        out.push(p);
        std::ops::ControlFlow::Continue(())
    })?;
    Ok(out)
}
