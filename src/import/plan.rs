//! Phase 1, verify-first planning (no registry): which images go where, their manifests in push
//! order, their signatures, and which blobs each target repository needs. Only the `(name,
//! digest)` pairs verification judged are planned; anything else is refused before a byte moves.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{target_of, ImportError, ImportPlan, ReferrersMode};
use crate::digest::Digest;
use crate::layout::model::{self, Descriptor, Document, AIRLOCK_TRUST};
use crate::layout::{Catalog, Content};

/// One image and where it goes.
#[derive(Clone, Debug)]
pub struct ImageJob {
    /// Target repository (`HOST[:PORT]/REPO`).
    pub repo: String,
    /// Target tag, if the image has one.
    pub tag: Option<String>,
    /// The image's `index.json` entry.
    pub top: Descriptor,
    /// Its manifests in push order: children before their parents, the top last.
    pub manifests: Vec<Descriptor>,
    /// Its referrers (notary signatures, SBOMs, attestations; its children's and, recursively,
    /// the referrers' own), each after its subject, with the digest of its subject.
    pub signatures: Vec<(Descriptor, String)>,
    /// cosign's tag-named artifacts of it and its children (`sha256-<hex>.sig`, `.att`,
    /// `.sbom`): each manifest with its tag, pushed under that tag after the image.
    pub tagged: Vec<(Descriptor, String)>,
}

impl ImageJob {
    /// `REPO:TAG`, or `REPO@DIGEST` when untagged.
    pub fn target(&self) -> String {
        self.tag.as_ref().map_or_else(
            || format!("{}@{}", self.repo, self.top.digest),
            |t| format!("{}:{t}", self.repo),
        )
    }
}

/// What will be pushed.
#[derive(Clone, Debug, Default)]
pub struct PushPlan {
    /// The images, in `index.json` order.
    pub jobs: Vec<ImageJob>,
    /// Every blob to push, with its descriptor and the repositories that need it.
    pub blobs: BTreeMap<Digest, (Descriptor, BTreeSet<String>)>,
    /// The target names by repository (for errors about a repository's blobs).
    pub targets: BTreeMap<String, BTreeSet<String>>,
}

/// One manifest push, in the order [`PushPlan::steps`] gives.
#[derive(Clone, Debug)]
pub enum Step<'a> {
    /// A manifest or index, by digest, or by tag when `tag` is given.
    Manifest {
        /// Target repository.
        repo: &'a str,
        /// The tag, for the image's top-level manifest.
        tag: Option<&'a str>,
        /// The manifest.
        desc: &'a Descriptor,
    },
    /// A signature manifest (by digest), after its subject.
    Signature {
        /// Target repository.
        repo: &'a str,
        /// The signature manifest.
        desc: &'a Descriptor,
    },
    /// The `sha256-<hex>` referrers tag index of `subject`, merged with what the target holds.
    ReferrersTag {
        /// Target repository.
        repo: &'a str,
        /// The subject's digest.
        subject: &'a str,
        /// The signatures to list.
        signatures: Vec<&'a Descriptor>,
    },
}

impl PushPlan {
    /// The manifest pushes in order: per image, children before parents, then the tag, then the
    /// signatures (after every subject), then the referrers tag indexes (unless `mode` is `api`).
    pub fn steps(&self, mode: ReferrersMode) -> Vec<Step<'_>> {
        let mut out = Vec::new();
        for job in &self.jobs {
            for m in &job.manifests {
                out.push(Step::Manifest {
                    repo: &job.repo,
                    tag: None,
                    desc: m,
                });
            }
            if let Some(tag) = &job.tag {
                out.push(Step::Manifest {
                    repo: &job.repo,
                    tag: Some(tag),
                    desc: &job.top,
                });
            }
            for (d, t) in &job.tagged {
                out.push(Step::Manifest {
                    repo: &job.repo,
                    tag: Some(t),
                    desc: d,
                });
            }
            let mut by_subject: BTreeMap<&str, Vec<&Descriptor>> = BTreeMap::new();
            for (s, subject) in &job.signatures {
                out.push(Step::Signature {
                    repo: &job.repo,
                    desc: s,
                });
                by_subject.entry(subject).or_default().push(s);
            }
            if mode != ReferrersMode::Api {
                for (subject, signatures) in by_subject {
                    out.push(Step::ReferrersTag {
                        repo: &job.repo,
                        subject,
                        signatures,
                    });
                }
            }
        }
        out
    }
}

/// The manifests under a referrer that is an index, and theirs, children before parents, each
/// once (`out` holds those found so far); no deeper than export carries them.
fn referrer_children(cat: &Catalog, d: &Document, out: &mut Vec<Descriptor>, depth: usize) {
    if depth >= crate::layout::MAX_REFERRER_DEPTH {
        return;
    }
    for c in d.manifests.iter().flatten() {
        if out.iter().any(|x| x.digest == c.digest) {
            continue;
        }
        let Some(cd) = doc(cat, &c.digest) else {
            continue;
        };
        referrer_children(cat, &cd, out, depth + 1);
        out.push(c.clone());
    }
}

/// The kept bytes of a manifest, index or other small JSON blob of the bundle.
pub(super) fn json_bytes<'a>(cat: &'a Catalog, digest: &str) -> Option<&'a [u8]> {
    let d = Digest::parse(digest).ok()?;
    match &cat.blobs.get(&d)?.content {
        Content::Json(b) | Content::Bytes(b) => Some(b),
        _ => None,
    }
}

fn doc(cat: &Catalog, digest: &str) -> Option<Document> {
    json_bytes(cat, digest).and_then(|b| Document::parse(b).ok())
}

/// The images of `cat` selected by `images` (as `verify` selects), refused unless verification
/// judged each `(name, digest)`; and for each, where it goes and what it needs.
pub fn plan(cat: &Catalog, images: &[String], to: &ImportPlan) -> Result<PushPlan, ImportError> {
    let index = cat
        .index_json
        .as_ref()
        .and_then(|s| s.bytes())
        .and_then(|b| Document::parse(b).ok())
        .ok_or(ImportError::NoIndex)?;
    let entries = index.manifests.unwrap_or_default();
    let image_entries: Vec<&Descriptor> = entries
        .iter()
        .filter(|e| {
            e.artifact_type.as_deref() != Some(AIRLOCK_TRUST)
                && !crate::layout::names_an_artifact_of_an_image(e)
                && doc(cat, &e.digest).is_none_or(|d| d.subject.is_none())
        })
        .filter(|e| images.is_empty() || images.iter().any(|s| crate::layout::selects(s, e)))
        .collect();
    // Push only what verification judged, under the name it judged.
    let verified: HashSet<(Option<&str>, &str)> = to
        .verified
        .iter()
        .map(|(name, digest)| (name.as_deref(), digest.as_str()))
        .collect();
    if let Some(e) = image_entries
        .iter()
        .find(|e| !verified.contains(&(e.reference(), e.digest.as_str())))
    {
        return Err(ImportError::NotVerified {
            name: e.reference().map(str::to_owned),
            digest: e.digest.clone(),
        });
    }
    // Each entry's document parsed once (not once per image and per round: thousands of tags or
    // a long referrer chain made planning quadratic and worse; red team E, E4).
    let entry_docs: Vec<Option<Document>> = entries.iter().map(|s| doc(cat, &s.digest)).collect();
    let mut by_subject: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, d) in entry_docs.iter().enumerate() {
        if let Some(subject) = d.as_ref().and_then(|d| d.subject.as_ref()) {
            by_subject
                .entry(subject.digest.as_str())
                .or_default()
                .push(i);
        }
    }
    // cosign's tag-named artifacts (`sha256-<hex>.sig`, ...), with the subject their tag names.
    let cosign_tagged: Vec<(&Descriptor, &String, String)> = entries
        .iter()
        .filter_map(|c| {
            let name = c.annotations.get(model::REF_NAME)?;
            let subject = crate::layout::cosign_tag_subject(name)?.to_string();
            Some((c, name, subject))
        })
        .collect();
    let mut out = PushPlan::default();
    for e in image_entries {
        let name = e.reference().unwrap_or(&e.digest).to_owned();
        let (repo, tag) = target_of(&name, to)?;
        let mut need = |b: &Descriptor, must_be_kept: bool| {
            if let Ok(d) = Digest::parse(&b.digest) {
                // An image blob the bundle lacks is either a non-distributable layer (left to
                // its URLs) or, verification having passed, one `export --since` left out: the
                // target must hold that one (phase 2a checks before anything moves).
                if !must_be_kept || cat.blobs.contains_key(&d) || !b.is_foreign() {
                    out.blobs
                        .entry(d)
                        .or_insert_with(|| (b.clone(), BTreeSet::new()))
                        .1
                        .insert(repo.clone());
                }
            }
        };
        // The manifests, children first (a post-order walk): each once, however many indexes
        // list it (a verified bundle of indexes each listing its child 200 times made a path-by-
        // path walk enumerate millions of paths; red team E, E3).
        let mut found = Vec::new();
        let mut stack = vec![(e.clone(), false)];
        let mut walked: HashSet<String> = HashSet::new();
        let mut subjects = Vec::new();
        while let Some((m, children_done)) = stack.pop() {
            if children_done {
                found.push(m);
                continue;
            }
            if !walked.insert(m.digest.clone()) {
                continue;
            }
            let Some(d) = doc(cat, &m.digest) else {
                continue;
            };
            subjects.push(m.digest.clone());
            for b in d.blob_children() {
                need(b, true);
            }
            stack.push((m, true));
            for c in d.manifests.iter().flatten().rev() {
                if !walked.contains(&c.digest) && json_bytes(cat, &c.digest).is_some() {
                    stack.push((c.clone(), false));
                }
            }
        }
        // Every referrer of the image and of its children (signatures, SBOMs, attestations) and,
        // recursively, of those referrers: breadth first from the image's manifests, each
        // referrer found by its subject, so each comes after its subject. A referrer that is an
        // index has its manifests (`under_referrers`) pushed before it, with the image's own.
        let mut signatures: Vec<(Descriptor, String)> = Vec::new();
        let mut taken: HashSet<&str> = HashSet::new();
        let mut under_referrers: Vec<Descriptor> = Vec::new();
        let mut queue: std::collections::VecDeque<String> = subjects.iter().cloned().collect();
        let mut known: HashSet<String> = subjects.into_iter().collect();
        while let Some(next) = queue.pop_front() {
            for &i in by_subject.get(next.as_str()).into_iter().flatten() {
                let (Some(s), Some(Some(sig))) = (entries.get(i), entry_docs.get(i)) else {
                    continue;
                };
                let Some(subject) = &sig.subject else {
                    continue;
                };
                if taken.contains(s.digest.as_str()) || to.unrecorded.contains(&s.digest) {
                    continue;
                }
                taken.insert(s.digest.as_str());
                for b in sig.blob_children() {
                    need(b, false);
                }
                referrer_children(cat, sig, &mut under_referrers, 0);
                let mut sd = s.clone();
                if sd.artifact_type.is_none() {
                    sd.artifact_type = sig.effective_artifact_type().map(str::to_owned);
                }
                sd.annotations = sig.annotations.clone();
                signatures.push((sd, subject.digest.clone()));
                known.insert(s.digest.clone());
                queue.push_back(s.digest.clone());
            }
        }
        // cosign's tag-named artifacts of the image and its children, pushed under their tags.
        let mut tagged = Vec::new();
        for &(c, name, ref subject) in &cosign_tagged {
            if !known.contains(subject) || to.unrecorded.contains(&c.digest) {
                continue;
            }
            let Some(d) = doc(cat, &c.digest) else {
                continue;
            };
            for b in d.blob_children() {
                need(b, false);
            }
            referrer_children(cat, &d, &mut under_referrers, 0);
            let mut cd: Descriptor = c.clone();
            cd.annotations.clear();
            tagged.push((cd, name.clone()));
        }
        for k in &under_referrers {
            if let Some(kd) = doc(cat, &k.digest) {
                for b in kd.blob_children() {
                    need(b, false);
                }
            }
        }
        under_referrers.retain(|k| !found.iter().any(|m| m.digest == k.digest));
        under_referrers.extend(found);
        let job = ImageJob {
            repo,
            tag,
            top: e.clone(),
            manifests: under_referrers,
            signatures,
            tagged,
        };
        out.targets
            .entry(job.repo.clone())
            .or_default()
            .insert(job.target());
        out.jobs.push(job);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::layout::{BlobEntry, BundleFormat, Small};

    /// A catalog holding `docs` (kept JSON) and `raw` blobs (not kept), with `index` as its
    /// index.json.
    fn catalog(index: serde_json::Value, docs: &[serde_json::Value], raw: &[&[u8]]) -> Catalog {
        let mut cat = Catalog::new(BundleFormat::Directory, true);
        cat.index_json = Some(Small::Bytes(serde_json::to_vec(&index).unwrap()));
        for d in docs {
            let b = serde_json::to_vec(d).unwrap();
            cat.blobs.insert(
                Digest::sha256(&b),
                BlobEntry {
                    size: b.len() as u64,
                    actual: Some(Digest::sha256(&b)),
                    content: Content::Json(Arc::from(b.as_slice())),
                },
            );
        }
        for r in raw {
            cat.blobs.insert(
                Digest::sha256(r),
                BlobEntry {
                    size: r.len() as u64,
                    actual: Some(Digest::sha256(r)),
                    content: Content::NotRetained,
                },
            );
        }
        cat
    }

    fn desc(mt: &str, v: &serde_json::Value) -> serde_json::Value {
        let b = serde_json::to_vec(v).unwrap();
        serde_json::json!({"mediaType": mt, "digest": Digest::sha256(&b).to_string(), "size": b.len()})
    }

    fn raw_desc(mt: &str, b: &[u8]) -> serde_json::Value {
        serde_json::json!({"mediaType": mt, "digest": Digest::sha256(b).to_string(), "size": b.len()})
    }

    fn manifest(config: &[u8], layer: &[u8]) -> serde_json::Value {
        serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_MANIFEST,
            "config": raw_desc("application/vnd.oci.image.config.v1+json", config),
            "layers": [raw_desc("application/vnd.oci.image.layer.v1.tar", layer)]})
    }

    fn signature(subject: &serde_json::Value, env: &[u8]) -> serde_json::Value {
        serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_MANIFEST,
            "artifactType": model::NOTARY_SIGNATURE,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": Digest::sha256(b"{}").to_string(), "size": 2},
            "layers": [raw_desc("application/jose+json", env)],
            "subject": subject})
    }

    /// A two-platform index signed at the top and on one child, as a catalog, with its pieces.
    struct Signed {
        cat: Catalog,
        index: serde_json::Value,
        amd: serde_json::Value,
        arm: serde_json::Value,
        sig_top: serde_json::Value,
        sig_amd: serde_json::Value,
    }

    fn signed(name: &str) -> Signed {
        let amd = manifest(b"cfg-amd", b"layer-amd");
        let arm = manifest(b"cfg-arm", b"layer-arm");
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX,
            "manifests": [desc(model::OCI_MANIFEST, &amd), desc(model::OCI_MANIFEST, &arm)]});
        let index_desc = desc(model::OCI_INDEX, &index);
        let sig_top = signature(&index_desc, b"env-top");
        let sig_amd = signature(&desc(model::OCI_MANIFEST, &amd), b"env-amd");
        let mut top = index_desc.clone();
        top["annotations"] = serde_json::json!({ model::REF_NAME: name });
        let layout_index = serde_json::json!({"schemaVersion": 2, "manifests": [
            top, desc(model::OCI_MANIFEST, &sig_top), desc(model::OCI_MANIFEST, &sig_amd)]});
        let cat = catalog(
            layout_index,
            &[
                amd.clone(),
                arm.clone(),
                index.clone(),
                sig_top.clone(),
                sig_amd.clone(),
            ],
            &[
                b"cfg-amd",
                b"layer-amd",
                b"cfg-arm",
                b"layer-arm",
                b"env-top",
                b"env-amd",
                b"{}",
            ],
        );
        Signed {
            cat,
            index,
            amd,
            arm,
            sig_top,
            sig_amd,
        }
    }

    fn digest_of(v: &serde_json::Value) -> String {
        Digest::sha256(&serde_json::to_vec(v).unwrap()).to_string()
    }

    fn to(verified: &[(&str, &serde_json::Value)]) -> ImportPlan {
        ImportPlan {
            host: "reg:5000".into(),
            prefix: "site".into(),
            maps: Vec::new(),
            referrers: ReferrersMode::Auto,
            verified: verified
                .iter()
                .map(|(n, v)| (Some((*n).to_owned()), digest_of(v)))
                .collect(),
            unrecorded: Default::default(),
            authenticated_record: None,
        }
    }

    #[test]
    fn a_signed_multi_arch_index_is_pushed_children_first_signatures_after_subjects() {
        let s = signed("ghcr.io/org/app:1.0");
        let p = plan(&s.cat, &[], &to(&[("ghcr.io/org/app:1.0", &s.index)])).unwrap();
        assert_eq!(p.jobs.len(), 1);
        let repo = "reg:5000/site/org/app";
        // Every blob, the signatures' included, goes to the one repository.
        assert_eq!(p.blobs.len(), 7);
        assert!(p.blobs.values().all(|(_, r)| r.iter().eq([repo])));
        let steps = p.steps(ReferrersMode::Auto);
        let order: Vec<(String, &str)> = steps
            .iter()
            .map(|s| match s {
                Step::Manifest { desc, tag, .. } => (
                    desc.digest.clone(),
                    if tag.is_some() { "tag" } else { "manifest" },
                ),
                Step::Signature { desc, .. } => (desc.digest.clone(), "signature"),
                Step::ReferrersTag { subject, .. } => ((*subject).to_owned(), "referrers"),
            })
            .collect();
        let pos = |d: &str, kind: &str| {
            order
                .iter()
                .position(|(x, k)| x == d && *k == kind)
                .unwrap_or_else(|| panic!("{kind} {d} not planned: {order:?}"))
        };
        let (top, amd, arm) = (digest_of(&s.index), digest_of(&s.amd), digest_of(&s.arm));
        let (sig_top, sig_amd) = (digest_of(&s.sig_top), digest_of(&s.sig_amd));
        assert!(pos(&amd, "manifest") < pos(&top, "manifest"));
        assert!(pos(&arm, "manifest") < pos(&top, "manifest"));
        assert!(pos(&top, "manifest") < pos(&top, "tag"));
        for sig in [&sig_top, &sig_amd] {
            assert!(pos(&top, "tag") < pos(sig, "signature"));
        }
        assert!(pos(&sig_top, "signature") < pos(&top, "referrers"));
        assert!(pos(&sig_amd, "signature") < pos(&amd, "referrers"));
        assert_eq!(order.len(), 3 + 1 + 2 + 2);
        // With the Referrers API, no tag indexes.
        assert!(!p
            .steps(ReferrersMode::Api)
            .iter()
            .any(|s| matches!(s, Step::ReferrersTag { .. })));
        assert_eq!(p.jobs[0].target(), format!("{repo}:1.0"));
    }

    #[test]
    fn a_referrer_that_is_an_index_has_its_manifests_and_blobs_pushed_before_it() {
        let image = manifest(b"cfg", b"layer");
        let image_desc = desc(model::OCI_MANIFEST, &image);
        let child = manifest(b"att-cfg", b"att-layer");
        let bundle = serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX,
            "artifactType": "application/vnd.example.bundle",
            "manifests": [desc(model::OCI_MANIFEST, &child)], "subject": image_desc});
        let mut top = image_desc.clone();
        top["annotations"] = serde_json::json!({ model::REF_NAME: "ghcr.io/org/app:1.0" });
        let cat = catalog(
            serde_json::json!({"schemaVersion": 2, "manifests": [
                top, desc(model::OCI_INDEX, &bundle)]}),
            &[image.clone(), child.clone(), bundle.clone()],
            &[b"cfg", b"layer", b"att-cfg", b"att-layer"],
        );
        let p = plan(&cat, &[], &to(&[("ghcr.io/org/app:1.0", &image)])).unwrap();
        // The child's blobs go too.
        for b in [&b"att-cfg"[..], b"att-layer"] {
            assert!(p.blobs.contains_key(&Digest::sha256(b)));
        }
        let steps = p.steps(ReferrersMode::Auto);
        let at = |d: &str| {
            steps
                .iter()
                .position(|s| match s {
                    Step::Manifest { desc, .. } | Step::Signature { desc, .. } => desc.digest == d,
                    Step::ReferrersTag { .. } => false,
                })
                .unwrap_or_else(|| panic!("{d} not planned"))
        };
        assert!(at(&digest_of(&child)) < at(&digest_of(&bundle)));
        assert!(matches!(
            steps[at(&digest_of(&bundle))],
            Step::Signature { .. }
        ));
    }

    #[test]
    fn a_pair_verification_did_not_judge_is_refused() {
        let s = signed("ghcr.io/org/app:1.0");
        // Right digest, another name: refused.
        let e = plan(&s.cat, &[], &to(&[("ghcr.io/org/app:2.0", &s.index)])).unwrap_err();
        assert!(
            matches!(&e, ImportError::NotVerified { name: Some(n), digest } if n == "ghcr.io/org/app:1.0" && *digest == digest_of(&s.index)),
            "{e}"
        );
        assert!(e.is_content_failure());
        // Right name, another digest: refused.
        let e = plan(&s.cat, &[], &to(&[("ghcr.io/org/app:1.0", &s.amd)])).unwrap_err();
        assert!(matches!(e, ImportError::NotVerified { .. }), "{e}");
        // Nothing judged: refused.
        assert!(matches!(
            plan(&s.cat, &[], &to(&[])),
            Err(ImportError::NotVerified { .. })
        ));
    }

    #[test]
    fn a_bundle_without_an_index_is_refused() {
        let mut cat = Catalog::new(BundleFormat::Directory, true);
        cat.index_json = Some(Small::Bytes(b"not json".to_vec()));
        assert!(matches!(
            plan(&cat, &[], &to(&[])),
            Err(ImportError::NoIndex)
        ));
    }
}

#[cfg(test)]
mod dag_tests {
    use std::sync::Arc;

    use super::*;
    use crate::layout::{BlobEntry, BundleFormat, Small};

    fn put(cat: &mut Catalog, v: &serde_json::Value) -> serde_json::Value {
        let b = serde_json::to_vec(v).unwrap();
        let d = Digest::sha256(&b);
        cat.blobs.insert(
            d.clone(),
            BlobEntry {
                size: b.len() as u64,
                actual: Some(d.clone()),
                content: Content::Json(Arc::from(b.as_slice())),
            },
        );
        let mt = v["mediaType"].as_str().unwrap_or(model::OCI_MANIFEST);
        serde_json::json!({"mediaType": mt, "digest": d.to_string(), "size": b.len()})
    }

    /// Indexes that list their child 200 times, three deep, above a manifest: 8 million paths
    /// from the top, four documents. Each is planned once, children first (red team E, E3: the
    /// path-by-path walk ran out of memory on a bundle verify passes). Then a referrer chain
    /// listed tip first is planned whole, each referrer after its subject (E4).
    #[test]
    fn each_manifest_is_planned_once_however_many_paths_reach_it() {
        let mut cat = Catalog::new(BundleFormat::Directory, true);
        let m = serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": Digest::sha256(b"{}").to_string(), "size": 2},
            "layers": []});
        let mut child = put(&mut cat, &m);
        let mut chain = vec![child.clone()];
        for _ in 0..3 {
            let list: Vec<serde_json::Value> = (0..200).map(|_| child.clone()).collect();
            child = put(
                &mut cat,
                &serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX, "manifests": list}),
            );
            chain.push(child.clone());
        }
        let top = child.clone();
        // Referrers of the top, each the subject of the next, listed tip first.
        let mut refs = Vec::new();
        let mut subject = top.clone();
        for i in 0..50 {
            let r = put(
                &mut cat,
                &serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_MANIFEST,
                    "artifactType": format!("application/vnd.example.{i}"),
                    "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": Digest::sha256(b"{}").to_string(), "size": 2},
                    "layers": [], "subject": subject}),
            );
            subject = r.clone();
            refs.push(r);
        }
        let mut entry = top.clone();
        entry["annotations"] = serde_json::json!({ model::REF_NAME: "ghcr.io/org/app:1.0" });
        let mut listed = vec![entry];
        listed.extend(refs.iter().rev().cloned());
        cat.index_json = Some(Small::Bytes(
            serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": listed}))
                .unwrap(),
        ));
        let to = ImportPlan {
            host: "registry.site".into(),
            prefix: String::new(),
            maps: Vec::new(),
            referrers: ReferrersMode::Tag,
            verified: vec![(
                Some("ghcr.io/org/app:1.0".into()),
                top["digest"].as_str().unwrap().to_owned(),
            )],
            unrecorded: BTreeSet::new(),
            authenticated_record: None,
        };
        let p = plan(&cat, &[], &to).unwrap();
        let job = &p.jobs[0];
        let order: Vec<&str> = job.manifests.iter().map(|m| m.digest.as_str()).collect();
        let want: Vec<&str> = chain
            .iter()
            .map(|c| c["digest"].as_str().unwrap())
            .collect();
        assert_eq!(order, want, "each once, children first");
        let sigs: Vec<&str> = job
            .signatures
            .iter()
            .map(|(d, _)| d.digest.as_str())
            .collect();
        let want: Vec<&str> = refs.iter().map(|r| r["digest"].as_str().unwrap()).collect();
        assert_eq!(sigs, want, "each referrer after its subject");
    }
}
