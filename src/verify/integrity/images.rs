//! The summary of each selected image: its platforms (from its index, else its config), the bytes
//! of every blob it reaches (each once, subjects not followed) and the referrers of it and of its
//! child manifests.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use super::entries::Role;
use super::walk::Walker;
use super::{ImageInfo, ReferrerInfo};
use crate::digest::Digest;
use crate::layout::model::{self, Descriptor};
use crate::layout::Content;

/// The summary of the image entry `e`: its platforms, the bytes it reaches and its referrers.
pub(super) fn image_info(
    e: &Descriptor,
    w: &Walker<'_>,
    entries: &[Descriptor],
    roles: &[Role],
    by_subject: &HashMap<Digest, Vec<usize>>,
) -> ImageInfo {
    // Everything the image reaches, without following subjects (referrers are listed separately).
    let mut closure: BTreeSet<Digest> = BTreeSet::new();
    let mut stack: Vec<String> = vec![e.digest.clone()];
    let mut platforms = Vec::new();
    let mut platforms_left_out = Vec::new();
    while let Some(s) = stack.pop() {
        let Ok(d) = Digest::parse(&s) else { continue };
        if !closure.insert(d.clone()) {
            continue;
        }
        if let Some(doc) = w.docs.get(&d) {
            stack.extend(doc.children().map(|c| c.digest.clone()));
        }
    }
    if let Ok(top) = Digest::parse(&e.digest) {
        if let Some(doc) = w.docs.get(&top) {
            if let Some(ms) = &doc.manifests {
                for m in ms {
                    // A child `export --platform` left out (so the annotation says: under local
                    // trust the carrier's word) and absent is not a platform the bundle holds;
                    // it is listed apart, by its label (else its digest), attestations included.
                    let absent =
                        Digest::parse(&m.digest).map_or(true, |d| !w.cat.blobs.contains_key(&d));
                    if absent && w.excluded.contains(&m.digest) {
                        let r = m
                            .platform
                            .as_ref()
                            .map_or_else(|| m.digest.clone(), |p| p.render());
                        if !platforms_left_out.contains(&r) {
                            platforms_left_out.push(r);
                        }
                    } else if let Some(p) = &m.platform {
                        let r = p.render();
                        if r != "unknown/unknown" && !platforms.contains(&r) {
                            platforms.push(r);
                        }
                    }
                }
            } else if let Some(cfg) = doc
                .config
                .as_ref()
                .and_then(|c| Digest::parse(&c.digest).ok())
            {
                if let Some(Content::Json(b)) = w.cat.blobs.get(&cfg).map(|b| &b.content) {
                    platforms.extend(model::config_platform(b));
                }
            }
        }
    }
    let size = closure
        .iter()
        .filter_map(|d| w.cat.blobs.get(d))
        .map(|b| b.size)
        .sum();
    // Referrers of what the image reaches and, recursively, of those referrers (a signature of an
    // attestation), each once, in index.json order pass by pass (a referrer whose subject was
    // taken earlier in the same pass is taken in that pass). The referrers of each subject come
    // from `by_subject`, built once: scanning every entry for every image was quadratic in the
    // size of index.json.
    let mut referrers: Vec<ReferrerInfo> = Vec::new();
    let mut taken: BTreeSet<&str> = BTreeSet::new();
    // (pass, entry index): the order the passes would take them in.
    let mut queue: BinaryHeap<Reverse<(usize, usize)>> = BinaryHeap::new();
    let offer = |queue: &mut BinaryHeap<Reverse<(usize, usize)>>,
                 s: &Digest,
                 at: Option<(usize, usize)>| {
        for &j in by_subject.get(s).map(Vec::as_slice).unwrap_or_default() {
            let pass = match at {
                Some((p, i)) if j <= i => p + 1,
                Some((p, _)) => p,
                None => 0,
            };
            queue.push(Reverse((pass, j)));
        }
    };
    for d in &closure {
        offer(&mut queue, d, None);
    }
    while let Some(Reverse((pass, i))) = queue.pop() {
        let Some(r) = entries.get(i) else { continue };
        let Some(Role::Referrer(subject)) = roles.get(i) else {
            continue;
        };
        if !taken.insert(r.digest.as_str()) {
            continue;
        }
        let doc = Digest::parse(&r.digest).ok().and_then(|d| w.docs.get(&d));
        // cosign's tag-named artifacts carry no artifactType: their first layer's media type
        // says what they are (as export's selection reads it).
        let cosign = r
            .annotations
            .get(model::REF_NAME)
            .is_some_and(|n| crate::layout::cosign_tag_subject(n).is_some());
        let artifact_type = doc
            .and_then(|doc| {
                if cosign && doc.artifact_type.is_none() {
                    doc.layers
                        .iter()
                        .flatten()
                        .next()
                        .map(|l| l.media_type().to_owned())
                } else {
                    doc.effective_artifact_type().map(str::to_owned)
                }
            })
            .or_else(|| r.artifact_type.clone());
        if let Ok(d) = Digest::parse(&r.digest) {
            if !closure.contains(&d) {
                offer(&mut queue, &d, Some((pass, i)));
            }
        }
        referrers.push(ReferrerInfo {
            digest: r.digest.clone(),
            artifact_type,
            subject: subject.clone(),
        });
    }
    ImageInfo {
        reference: e.reference().map(str::to_owned),
        digest: e.digest.clone(),
        media_type: e.media_type().to_owned(),
        platforms,
        platforms_left_out,
        size,
        referrers,
    }
}

/// The referrer entries of each subject digest, in index.json order.
pub(super) fn referrers_by_subject(roles: &[Role]) -> HashMap<Digest, Vec<usize>> {
    let mut out: HashMap<Digest, Vec<usize>> = HashMap::new();
    for (i, role) in roles.iter().enumerate() {
        if let Role::Referrer(s) = role {
            if let Ok(d) = Digest::parse(s) {
                out.entry(d).or_default().push(i);
            }
        }
    }
    out
}
