//! What each `index.json` entry is (an image, the trust artifact, a referrer, a `sha256-<hex>` tag
//! index), which images a selection names, and which digests export left out on purpose.

use std::collections::{HashMap, HashSet};

use super::walk::Walker;
use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::layout::model::{self, Descriptor, Kind};
use crate::layout::{cosign_tag_subject, selects, tag_subject};

/// The role of one `index.json` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// An image (a manifest or index without a subject).
    Image,
    /// airlock's trust artifact.
    Trust,
    /// A manifest with a subject: the subject's digest.
    Referrer(String),
    /// A referrers tag index (`sha256-<hex>`): the digest its tag names.
    TagIndex(String),
}

impl Role {
    /// The digest this entry refers to, for a referrer or a tag index.
    pub(super) fn subject(&self) -> Option<&str> {
        match self {
            Role::Referrer(s) | Role::TagIndex(s) => Some(s),
            Role::Image | Role::Trust => None,
        }
    }
}

/// The role of each entry, in order; a referrer is known by the subject of the document its
/// digest names in the catalog.
pub(super) fn roles(entries: &[Descriptor], w: &Walker<'_>) -> Vec<Role> {
    // Each document is parsed once, however often index.json lists its digest.
    let mut subjects: HashMap<&str, Option<String>> = HashMap::new();
    entries
        .iter()
        .map(|e| {
            if let Some(subject) = e
                .annotations
                .get(model::REF_NAME)
                .and_then(|n| tag_subject(n))
            {
                if model::kind_of(e.media_type()) == Kind::Index {
                    return Role::TagIndex(subject.to_string());
                }
            }
            if e.artifact_type.as_deref() == Some(model::AIRLOCK_TRUST) {
                return Role::Trust;
            }
            // cosign's tag-named artifacts (`sha256-<hex>.sig`, `.att`, `.sbom`) refer to the
            // digest their tag names: carried and checked like any referrer, never an image.
            if let Some(subject) = e
                .annotations
                .get(model::REF_NAME)
                .and_then(|n| cosign_tag_subject(n))
            {
                return Role::Referrer(subject.to_string());
            }
            let subject = subjects
                .entry(e.digest.as_str())
                .or_insert_with(|| {
                    Digest::parse(&e.digest)
                        .ok()
                        .and_then(|d| w.peek(&d))
                        .and_then(|doc| doc.subject)
                        .map(|s| s.digest)
                })
                .clone();
            match subject {
                Some(s) => Role::Referrer(s),
                None => Role::Image,
            }
        })
        .collect()
}

/// A referrer's entry carrying an image name (`org.opencontainers.image.ref.name` that is not a
/// cosign tag, or containerd's name): every tool reading the layout by name (skopeo, containerd,
/// notation) would resolve that name to the artifact, which nothing judged as an image. A source
/// registry's referrers listing put such a name on a runnable image of its own (red team H, H1);
/// a carrier could add one. Each is `index_malformed`.
pub(super) fn named_referrers(entries: &[Descriptor], roles: &[Role]) -> Vec<Finding> {
    entries
        .iter()
        .zip(roles)
        .filter_map(|(e, role)| {
            let Role::Referrer(subject) = role else {
                return None;
            };
            let name = e
                .annotations
                .get(model::REF_NAME)
                .filter(|n| cosign_tag_subject(n).is_none())
                .or_else(|| e.annotations.get(model::CONTAINERD_NAME))?;
            let shown: String = name.chars().take(200).collect();
            Some(
                Finding::new(
                    Code::IndexMalformed,
                    format!(
                        "index.json names {shown:?} an artifact that refers to {subject}: a name in a bundle is an image's, and tools reading the layout by name would take this artifact for that image"
                    ),
                )
                .digest(&e.digest)
                .path("index.json"),
            )
        })
        .collect()
}

/// The names `index.json` gives (`org.opencontainers.image.ref.name`, containerd's name) must be
/// names: the image-layout's `ref.name` grammar allows letters, digits, `/` and the separators
/// `-._:@+`, and containerd's full references the brackets of an IPv6 registry host
/// (`[fd00::5]:5000/team/app:1`, red team L, L01); at most 4096 bytes. A name
/// with spaces or other text printed as an image's name in the summary, where 120 spaces pushed
/// the rest of it onto a line of its own that read as a signer's verdict (red team K, K06). Each
/// other name is `index_malformed`.
pub(super) fn malformed_names(entries: &[Descriptor]) -> Vec<Finding> {
    let is_name = |n: &str| {
        !n.is_empty()
            && n.len() <= 4096
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/-._:@+[]".contains(c))
    };
    entries
        .iter()
        .flat_map(|e| {
            [model::REF_NAME, model::CONTAINERD_NAME]
                .into_iter()
                .filter_map(move |k| e.annotations.get(k).map(|n| (k, n, e)))
        })
        .filter(|(_, n, _)| !is_name(n))
        .map(|(k, n, e)| {
            let shown: String = n.chars().take(200).collect();
            Finding::new(
                Code::IndexMalformed,
                format!(
                    "index.json's {k} {shown:?} is not a name (letters, digits, `/`, `-._:@+` and an IPv6 host's brackets only)"
                ),
            )
            .digest(&e.digest)
            .path("index.json")
        })
        .collect()
}

/// Which entries are selected images: all images without a selection, else those a selection
/// names; a selection naming no image is `image_not_found` in `failures`.
pub(super) fn select(
    entries: &[Descriptor],
    roles: &[Role],
    selection: &[String],
    failures: &mut Vec<Finding>,
) -> Vec<bool> {
    let image = |i: usize| roles.get(i) == Some(&Role::Image);
    let mut selected: Vec<bool> = (0..entries.len())
        .map(|i| selection.is_empty() && image(i))
        .collect();
    for sel in selection {
        let mut hit = false;
        for (i, e) in entries.iter().enumerate() {
            if image(i) && selects(sel, e) {
                if let Some(s) = selected.get_mut(i) {
                    *s = true;
                }
                hit = true;
            }
        }
        if !hit {
            failures.push(Finding::new(
                Code::ImageNotFound,
                format!("no image named {sel:?} in the bundle"),
            ));
        }
    }
    selected
}

/// The digests `airlock export --platform` left out, from the entries' `EXCLUDED` annotations
/// (comma-separated).
pub(super) fn excluded(entries: &[Descriptor]) -> HashSet<String> {
    entries
        .iter()
        .filter_map(|e| e.annotations.get(model::EXCLUDED))
        .flat_map(|v| v.split(',').map(|s| s.trim().to_owned()))
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{BlobEntry, BundleFormat, Catalog, Content, Limits};

    fn desc(digest: &str, annotations: &[(&str, &str)]) -> Descriptor {
        serde_json::from_value(serde_json::json!({
            "mediaType": model::OCI_MANIFEST,
            "digest": digest,
            "size": 2,
            "annotations": annotations.iter().copied().collect::<std::collections::BTreeMap<_, _>>(),
        }))
        .unwrap()
    }

    #[test]
    fn each_entry_gets_its_role_and_selection_names_only_images() {
        let subject = Digest::sha256(b"image");
        let referrer_doc = format!(
            r#"{{"schemaVersion":2,"subject":{{"mediaType":"{}","digest":"{subject}","size":5}}}}"#,
            model::OCI_MANIFEST
        );
        let referrer = Digest::sha256(referrer_doc.as_bytes());
        let mut cat = Catalog::new(BundleFormat::Directory, true);
        cat.insert(
            referrer.clone(),
            BlobEntry {
                size: 2,
                actual: None,
                content: Content::Json(referrer_doc.as_bytes().into()),
            },
            &Limits::default(),
        );
        let mut tag = desc(
            &Digest::sha256(b"tag").to_string(),
            &[(model::REF_NAME, &format!("sha256-{}", subject.hex()))],
        );
        tag.media_type = Some(model::OCI_INDEX.into());
        let mut trust = desc(&Digest::sha256(b"trust").to_string(), &[]);
        trust.artifact_type = Some(model::AIRLOCK_TRUST.into());
        let entries = vec![
            desc(&subject.to_string(), &[(model::REF_NAME, "app:v1")]),
            desc(&referrer.to_string(), &[(model::REF_NAME, "app:v1")]),
            tag,
            trust,
        ];
        let limits = Limits::default();
        let w = Walker::new(&cat, &limits);
        let roles = roles(&entries, &w);
        assert_eq!(
            roles,
            vec![
                Role::Image,
                Role::Referrer(subject.to_string()),
                Role::TagIndex(subject.to_string()),
                Role::Trust,
            ]
        );
        let mut failures = Vec::new();
        assert_eq!(
            select(&entries, &roles, &[], &mut failures),
            vec![true, false, false, false]
        );
        // "app:v1" also names the referrer entry, which is no image.
        let sel = ["app:v1".to_owned(), "other".to_owned()];
        assert_eq!(
            select(&entries, &roles, &sel, &mut failures),
            vec![true, false, false, false]
        );
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].code, Code::ImageNotFound);
        // The name on the referrer's entry is refused (red team H, H1); the tag index's and the
        // image's are not.
        let named = named_referrers(&entries, &roles);
        assert_eq!(named.len(), 1, "{named:?}");
        assert_eq!(named[0].code, Code::IndexMalformed);
        assert_eq!(
            named[0].digest.as_deref(),
            Some(referrer.to_string().as_str())
        );
    }

    #[test]
    fn excluded_digests_come_from_the_annotations() {
        let e = desc("sha256:aa", &[(model::EXCLUDED, " sha256:01, ,sha256:02")]);
        let got = excluded(&[e, desc("sha256:bb", &[])]);
        let want: HashSet<String> = ["sha256:01".to_owned(), "sha256:02".to_owned()].into();
        assert_eq!(got, want);
    }
}
