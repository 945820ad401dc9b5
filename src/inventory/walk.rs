//! Walking a registry's repositories: tags, then every manifest and index they reach (indexes of
//! indexes too), then a `HEAD` for every blob those manifests list. Only blobs the registry says
//! it holds are listed. Bounded in tags, documents and depth, so a hostile registry cannot keep
//! the walk going.

use std::collections::BTreeSet;

use super::{Builder, InventoryError, Source, SourceKind};
use crate::digest::Digest;
use crate::layout::model::{kind_of, Document, Kind};

/// What the walk needs of a registry. The registry client implements it (`cli` wires it); unit
/// tests implement it over a map.
pub trait Holder {
    /// The first tags of `repo`, at most `max + 1` (one more than `max` tells that there are
    /// more), read no further than that.
    fn tags(&self, repo: &str, max: usize) -> Result<Vec<String>, HolderError>;
    /// The manifest or index `reference` (a tag or a digest) names in `repo`: its digest (the
    /// bytes' own), its media type and its bytes.
    fn manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<(Digest, String, Vec<u8>), HolderError>;
    /// Whether `repo` holds the blob `digest`.
    fn has_blob(&self, repo: &str, digest: &Digest) -> Result<bool, HolderError>;
}

/// Why a [`Holder`] call failed.
#[derive(Debug)]
pub struct HolderError {
    /// The registry cannot be reached or stays silent: the walk stops. Otherwise the one tag or
    /// manifest is skipped with a note.
    pub fatal: bool,
    /// What failed.
    pub message: String,
}

/// Bounds of one walk.
#[derive(Clone, Copy, Debug)]
pub struct WalkLimits {
    /// Tags read per repository.
    pub max_tags: usize,
    /// Manifests and indexes fetched per repository.
    pub max_documents: usize,
    /// Nesting of indexes.
    pub max_depth: usize,
}

impl Default for WalkLimits {
    fn default() -> Self {
        WalkLimits {
            max_tags: 10_000,
            max_documents: 100_000,
            max_depth: 8,
        }
    }
}

/// Walks `repos` of the registry at `location` (`HOST[:PORT][/PREFIX]`, used to name repositories
/// in the inventory as `LOCATION/REPO`) into `into`; `note` receives one line per skipped tag or
/// manifest. Returns the source record.
pub fn walk(
    h: &dyn Holder,
    location: &str,
    repos: &[String],
    limits: WalkLimits,
    into: &mut Builder,
    note: &mut dyn FnMut(String),
) -> Result<Source, InventoryError> {
    let mut added = 0u64;
    for repo in repos {
        let fatal = |e: HolderError| InventoryError::Walk {
            repository: repo.clone(),
            reason: e.message,
        };
        let tags = match h.tags(repo, limits.max_tags) {
            Ok(t) => t,
            Err(e) if e.fatal => return Err(fatal(e)),
            Err(e) => {
                note(format!("{location}/{repo}: no tags listed: {}", e.message));
                continue;
            }
        };
        if tags.len() > limits.max_tags {
            note(format!(
                "{location}/{repo}: more than {} tags, only the first {} walked",
                limits.max_tags, limits.max_tags
            ));
        }
        let name = format!("{location}/{repo}");
        let mut seen: BTreeSet<Digest> = BTreeSet::new();
        let mut blobs_seen: BTreeSet<Digest> = BTreeSet::new();
        // (reference, depth); a tag the registry lists twice is fetched once.
        let mut listed = BTreeSet::new();
        let mut queue: Vec<(String, usize)> = tags
            .into_iter()
            .take(limits.max_tags)
            .filter(|t| listed.insert(t.clone()))
            .map(|t| (t, 0))
            .collect();
        queue.reverse();
        let mut fetched = 0usize;
        while let Some((reference, depth)) = queue.pop() {
            if fetched >= limits.max_documents {
                note(format!(
                    "{name}: more than {} manifests, the rest not walked",
                    limits.max_documents
                ));
                break;
            }
            fetched += 1;
            let (digest, media_type, bytes) = match h.manifest(repo, &reference) {
                Ok(m) => m,
                Err(e) if e.fatal => return Err(fatal(e)),
                Err(e) => {
                    note(format!("{name}:{reference}: skipped: {}", e.message));
                    continue;
                }
            };
            if !seen.insert(digest.clone()) {
                continue;
            }
            let Ok(doc) = Document::parse(&bytes) else {
                note(format!("{name}@{digest}: not a JSON manifest, skipped"));
                continue;
            };
            let kind = match kind_of(&media_type) {
                Kind::Blob => doc.shape(),
                k => k,
            };
            match kind {
                Kind::Index => {
                    if depth >= limits.max_depth {
                        note(format!(
                            "{name}@{digest}: indexes nested deeper than {}",
                            limits.max_depth
                        ));
                        continue;
                    }
                    for child in doc.manifests.iter().flatten() {
                        if let Ok(d) = Digest::parse(&child.digest) {
                            if !seen.contains(&d) {
                                queue.push((d.to_string(), depth + 1));
                            }
                        }
                    }
                }
                Kind::Manifest => {
                    let listed = doc.blob_children();
                    for desc in listed {
                        let Ok(d) = Digest::parse(&desc.digest) else {
                            continue;
                        };
                        if !blobs_seen.insert(d.clone()) {
                            continue;
                        }
                        match h.has_blob(repo, &d) {
                            Ok(true) => {
                                if into.add(d, desc.size, Some(&name)) {
                                    added += 1;
                                }
                            }
                            Ok(false) => {}
                            Err(e) if e.fatal => return Err(fatal(e)),
                            Err(e) => note(format!("{name}@{d}: {}", e.message)),
                        }
                    }
                }
                Kind::Blob => note(format!("{name}@{digest}: neither a manifest nor an index")),
            }
        }
    }
    Ok(Source {
        kind: SourceKind::Registry,
        location: location.to_owned(),
        repositories: repos.to_vec(),
        bundle_digest: None,
        blobs: added,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::layout::model::{OCI_INDEX, OCI_MANIFEST};

    /// A registry as a map: manifests by tag and digest, blobs present.
    #[derive(Default)]
    struct Fake {
        tags: BTreeMap<String, Vec<String>>,
        manifests: BTreeMap<String, (String, Vec<u8>)>,
        blobs: BTreeSet<Digest>,
        down: bool,
        fetches: std::cell::Cell<usize>,
        /// The most tags the walk asked for.
        asked: std::cell::Cell<usize>,
    }

    impl Fake {
        fn put(
            &mut self,
            tag: Option<&str>,
            repo: &str,
            mt: &str,
            doc: serde_json::Value,
        ) -> Digest {
            let bytes = serde_json::to_vec(&doc).unwrap();
            let d = Digest::sha256(&bytes);
            self.manifests
                .insert(d.to_string(), (mt.to_owned(), bytes.clone()));
            if let Some(t) = tag {
                self.manifests.insert(t.to_owned(), (mt.to_owned(), bytes));
                self.tags.entry(repo.into()).or_default().push(t.into());
            }
            d
        }
    }

    impl Holder for Fake {
        fn tags(&self, repo: &str, max: usize) -> Result<Vec<String>, HolderError> {
            self.asked.set(max);
            if self.down {
                return Err(HolderError {
                    fatal: true,
                    message: "connection refused".into(),
                });
            }
            let all = self.tags.get(repo).ok_or(HolderError {
                fatal: false,
                message: "NAME_UNKNOWN".into(),
            })?;
            Ok(all.iter().take(max.saturating_add(1)).cloned().collect())
        }
        fn manifest(&self, _: &str, r: &str) -> Result<(Digest, String, Vec<u8>), HolderError> {
            self.fetches.set(self.fetches.get() + 1);
            let (mt, b) = self.manifests.get(r).ok_or(HolderError {
                fatal: false,
                message: "MANIFEST_UNKNOWN".into(),
            })?;
            Ok((Digest::sha256(b), mt.clone(), b.clone()))
        }
        fn has_blob(&self, _: &str, d: &Digest) -> Result<bool, HolderError> {
            Ok(self.blobs.contains(d))
        }
    }

    fn desc(mt: &str, d: &Digest, size: u64) -> serde_json::Value {
        serde_json::json!({"mediaType": mt, "digest": d.to_string(), "size": size})
    }

    #[test]
    fn walks_an_index_of_indexes_and_lists_only_present_blobs() {
        let mut f = Fake::default();
        let cfg = Digest::sha256(b"config");
        let layer = Digest::sha256(b"layer");
        let absent = Digest::sha256(b"absent");
        f.blobs.insert(cfg.clone());
        f.blobs.insert(layer.clone());
        let m = f.put(
            None,
            "app",
            OCI_MANIFEST,
            serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": desc("application/vnd.oci.image.config.v1+json", &cfg, 6),
            "layers": [desc("application/vnd.oci.image.layer.v1.tar", &layer, 5),
                       desc("application/vnd.oci.image.layer.v1.tar", &absent, 6)]}),
        );
        let inner = f.put(
            None,
            "app",
            OCI_INDEX,
            serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [desc(OCI_MANIFEST, &m, 1)]}),
        );
        f.put(
            Some("v1"),
            "app",
            OCI_INDEX,
            serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [desc(OCI_INDEX, &inner, 1)]}),
        );
        let mut b = Builder::new();
        let mut notes = Vec::new();
        let src = walk(
            &f,
            "reg:5000",
            &["app".into(), "gone".into()],
            WalkLimits::default(),
            &mut b,
            &mut |n| notes.push(n),
        )
        .unwrap();
        assert_eq!(src.blobs, 2);
        let inv = b.finish("t".into());
        let listed: Vec<_> = inv.blobs.iter().map(|b| b.digest.clone()).collect();
        assert!(listed.contains(&cfg.to_string()) && listed.contains(&layer.to_string()));
        assert!(
            !listed.contains(&absent.to_string()),
            "a blob the registry lacks is not listed"
        );
        assert_eq!(inv.blobs[0].repositories, vec!["reg:5000/app"]);
        assert!(notes.iter().any(|n| n.contains("gone")), "{notes:?}");
    }

    #[test]
    fn tags_past_the_limit_are_not_walked_and_a_repeated_tag_is_fetched_once() {
        let mut f = Fake::default();
        f.put(
            Some("v1"),
            "r",
            OCI_MANIFEST,
            serde_json::json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": []}),
        );
        let mut tags = vec!["v1".to_string(); 50];
        tags.extend((0..50).map(|i| format!("gone{i}")));
        f.tags.insert("r".into(), tags);
        let mut notes = Vec::new();
        let limits = WalkLimits {
            max_tags: 60,
            ..WalkLimits::default()
        };
        let walked = |n: &mut Vec<String>| {
            walk(
                &f,
                "h",
                &["r".into()],
                limits,
                &mut Builder::new(),
                &mut |x| n.push(x),
            )
        };
        walked(&mut notes).unwrap();
        assert!(
            notes.iter().any(|n| n.contains("more than 60 tags")),
            "{notes:?}"
        );
        // "v1" once, then "gone0".."gone9": the first 60 tags, each name once; no more than 61
        // were asked of the registry.
        assert_eq!(f.fetches.get(), 11);
        assert_eq!(f.asked.get(), 60);
    }

    #[test]
    fn depth_and_document_limits_hold_and_a_dead_registry_fails() {
        let mut f = Fake::default();
        // A chain of indexes deeper than the limit.
        let mut child = f.put(
            None,
            "r",
            OCI_INDEX,
            serde_json::json!({"schemaVersion": 2, "manifests": []}),
        );
        for _ in 0..12 {
            child = f.put(None, "r", OCI_INDEX, serde_json::json!({
                "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [desc(OCI_INDEX, &child, 1)]}));
        }
        f.tags.insert("r".into(), vec![child.to_string()]);
        let mut notes = Vec::new();
        let limits = WalkLimits {
            max_depth: 3,
            ..WalkLimits::default()
        };
        walk(
            &f,
            "h",
            &["r".into()],
            limits,
            &mut Builder::new(),
            &mut |n| notes.push(n),
        )
        .unwrap();
        assert!(
            notes.iter().any(|n| n.contains("nested deeper than 3")),
            "{notes:?}"
        );

        let limits = WalkLimits {
            max_documents: 2,
            ..WalkLimits::default()
        };
        let mut notes = Vec::new();
        walk(
            &f,
            "h",
            &["r".into()],
            limits,
            &mut Builder::new(),
            &mut |n| notes.push(n),
        )
        .unwrap();
        assert!(
            notes.iter().any(|n| n.contains("more than 2 manifests")),
            "{notes:?}"
        );

        f.down = true;
        let err = walk(
            &f,
            "h",
            &["r".into()],
            WalkLimits::default(),
            &mut Builder::new(),
            &mut |_| {},
        );
        assert!(matches!(err, Err(InventoryError::Walk { .. })));
    }
}
