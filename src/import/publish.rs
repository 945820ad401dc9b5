//! Phase 3, merge and finish: the manifests in the planned order (children first, the tag, the
//! signatures after their subjects), the `sha256-<hex>` referrers tag indexes merged with what
//! the target already lists, and the summary.

use std::collections::BTreeSet;

use super::plan::{json_bytes, PushPlan, Step};
use super::{ImportError, ImportSummary, PushedImage, ReferrersMode};
use crate::layout::model::{self, Descriptor};
use crate::layout::Catalog;
use crate::registry::Registry;

/// Pushes the manifests of `plan` and fills in the summary.
pub(super) fn publish(
    cat: &Catalog,
    reg: &Registry,
    plan: &PushPlan,
    mode: ReferrersMode,
    dry: bool,
    sum: &mut ImportSummary,
    lines: &mut Vec<String>,
) -> Result<(), ImportError> {
    let mut any_sig = false;
    for step in plan.steps(mode) {
        match step {
            Step::Manifest { repo, tag, desc } => {
                if let Some(bytes) = json_bytes(cat, &desc.digest) {
                    push_manifest(reg, dry, sum, lines, repo, tag, desc, bytes)?;
                }
            }
            Step::Signature { repo, desc } => {
                if let Some(bytes) = json_bytes(cat, &desc.digest) {
                    push_manifest(reg, dry, sum, lines, repo, None, desc, bytes)?;
                    if is_signature(desc) {
                        sum.signatures_pushed += 1;
                    } else {
                        sum.referrers_pushed += 1;
                    }
                    any_sig = true;
                }
            }
            Step::ReferrersTag {
                repo,
                subject,
                signatures,
            } => merge_tag_index(reg, dry, sum, lines, repo, subject, &signatures)?,
        }
    }
    for job in &plan.jobs {
        sum.images.push(PushedImage {
            source: job.top.reference().unwrap_or(&job.top.digest).to_owned(),
            target: job.target(),
            digest: job.top.digest.clone(),
            signatures: count(job.signatures.iter().filter(|(d, _)| is_signature(d))),
            referrers: count(job.signatures.iter().filter(|(d, _)| !is_signature(d))),
        });
    }
    if any_sig {
        sum.referrers_mode = Some(match mode {
            ReferrersMode::Api => ReferrersMode::Api,
            _ => ReferrersMode::Tag,
        });
    }
    Ok(())
}

/// A notation signature manifest (its descriptor's artifact type, filled in from the manifest by
/// the plan).
fn is_signature(d: &crate::layout::model::Descriptor) -> bool {
    d.artifact_type.as_deref() == Some(crate::layout::model::NOTARY_SIGNATURE)
}

fn count<T>(it: impl Iterator<Item = T>) -> u64 {
    u64::try_from(it.count()).unwrap_or(u64::MAX)
}

/// No manifest goes out once a signal asked the run to stop: what is uploaded by then is blobs
/// only, invisible until a rerun pushes the manifests naming them.
fn not_interrupted() -> Result<(), ImportError> {
    match crate::fsutil::cleanup::interrupted() {
        Some(signal) => Err(ImportError::Interrupted { signal }),
        None => Ok(()),
    }
}

#[allow(clippy::too_many_arguments)]
fn push_manifest(
    reg: &Registry,
    dry: bool,
    sum: &mut ImportSummary,
    lines: &mut Vec<String>,
    repo: &str,
    tag: Option<&str>,
    desc: &Descriptor,
    bytes: &[u8],
) -> Result<(), ImportError> {
    let by = tag.map_or_else(
        || format!("{repo}@{}", desc.digest),
        |t| format!("{repo}:{t}"),
    );
    let r = Registry::parse(&by)?;
    not_interrupted()?;
    if dry {
        lines.push(format!("put manifest {by} ({})", desc.media_type()));
        sum.manifests_pushed += 1;
        return Ok(());
    }
    if reg.manifest_digest(&r)?.as_deref() == Some(desc.digest.as_str()) {
        sum.manifests_skipped += 1;
        return Ok(());
    }
    reg.push_manifest(&r, desc.media_type(), bytes)?;
    sum.manifests_pushed += 1;
    Ok(())
}

/// Largest annotations copied from a referrer into its entry of a referrers tag index (their
/// JSON). Larger ones stay in the referrer's manifest only: a carrier's referrer with megabytes of
/// annotations made the image's tag index reach the registry's 4 MiB manifest limit, so that no
/// later referrer (the site's receipt, a new signature) could ever be listed (red team G, G3). A
/// notation signature's (its chain's thumbprints) are a few hundred bytes.
pub(super) const MAX_ENTRY_ANNOTATIONS: usize = 1024;

/// The referrers tag index listing `listed` (what the target has, in its order) and then each of
/// `sigs` it does not list yet (annotations up to [`MAX_ENTRY_ANNOTATIONS`]); `None` when nothing
/// is new and the target had an index.
pub(super) fn merged_index(
    listed: Vec<serde_json::Value>,
    sigs: &[&Descriptor],
) -> Option<serde_json::Value> {
    let mut have: BTreeSet<String> = BTreeSet::new();
    let mut out: Vec<serde_json::Value> = Vec::new();
    for m in listed {
        if let Some(d) = m.get("digest").and_then(|d| d.as_str()) {
            if have.insert(d.to_owned()) {
                out.push(m);
            }
        }
    }
    let before = out.len();
    for s in sigs {
        if have.insert(s.digest.clone()) {
            let mut v = serde_json::json!({"mediaType": s.media_type(), "digest": s.digest, "size": s.size});
            if let (Some(obj), Some(t)) = (v.as_object_mut(), &s.artifact_type) {
                obj.insert("artifactType".into(), serde_json::json!(t));
                let small = serde_json::to_vec(&s.annotations)
                    .is_ok_and(|b| b.len() <= MAX_ENTRY_ANNOTATIONS);
                if !s.annotations.is_empty() && small {
                    obj.insert("annotations".into(), serde_json::json!(s.annotations));
                }
            }
            out.push(v);
        }
    }
    if out.len() == before && before > 0 {
        return None;
    }
    Some(serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX, "manifests": out}))
}

/// Creates or merges the `sha256-<hex>` referrers tag index of `subject` in `repo`.
fn merge_tag_index(
    reg: &Registry,
    dry: bool,
    sum: &mut ImportSummary,
    lines: &mut Vec<String>,
    repo: &str,
    subject: &str,
    sigs: &[&Descriptor],
) -> Result<(), ImportError> {
    let tag = crate::layout::referrers_tag_of(subject).ok_or_else(|| ImportError::BadSubject {
        subject: subject.to_owned(),
    })?;
    let r = Registry::parse(&format!("{repo}:{tag}"))?;
    let mut listed: Vec<serde_json::Value> = Vec::new();
    if !dry {
        if let Ok((_, bytes)) = reg.resolve(&r) {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                if let Some(m) = v.get("manifests").and_then(|m| m.as_array()) {
                    listed.clone_from(m);
                }
            }
        }
    }
    let Some(idx) = merged_index(listed, sigs) else {
        sum.manifests_skipped += 1;
        return Ok(());
    };
    if dry {
        let n = idx
            .get("manifests")
            .and_then(|m| m.as_array())
            .map_or(0, Vec::len);
        lines.push(format!(
            "put referrers tag index {repo}:{tag} ({n} referrer(s))"
        ));
        return Ok(());
    }
    let bytes = serde_json::to_vec(&idx)?;
    not_interrupted()?;
    reg.push_manifest(&r, model::OCI_INDEX, &bytes)?;
    sum.manifests_pushed += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(d: &str) -> Descriptor {
        serde_json::from_value(serde_json::json!({
            "mediaType": model::OCI_MANIFEST, "digest": d, "size": 10,
            "artifactType": model::NOTARY_SIGNATURE,
            "annotations": {"io.cncf.notary.x509chain.thumbprint#S256": "[]"}}))
        .unwrap()
    }

    #[test]
    fn the_referrers_tag_index_keeps_what_the_target_lists_and_adds_the_new() {
        let other = serde_json::json!({"mediaType": model::OCI_MANIFEST, "digest": "sha256:aa", "size": 3, "artifactType": "application/spdx+json"});
        let (a, b) = (sig("sha256:bb"), sig("sha256:cc"));
        let idx = merged_index(vec![other.clone()], &[&a, &b, &a]).unwrap();
        let m = idx["manifests"].as_array().unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0], other);
        assert_eq!(m[1]["digest"], "sha256:bb");
        assert_eq!(m[1]["artifactType"], model::NOTARY_SIGNATURE);
        assert!(m[1]["annotations"].is_object());
        assert_eq!(idx["mediaType"], model::OCI_INDEX);
        // Nothing new over an existing index: no push.
        assert!(merged_index(m.clone(), &[&a, &b]).is_none());
        // A fresh index even for signatures only.
        assert_eq!(
            merged_index(Vec::new(), &[&a]).unwrap()["manifests"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // A referrer's annotations over the bound stay in its manifest (red team G, G3).
        let mut big = sig("sha256:dd");
        big.annotations
            .insert("x".into(), "y".repeat(MAX_ENTRY_ANNOTATIONS));
        let idx = merged_index(Vec::new(), &[&big, &a]).unwrap();
        assert!(idx["manifests"][0].get("annotations").is_none(), "{idx}");
        assert_eq!(idx["manifests"][0]["artifactType"], model::NOTARY_SIGNATURE);
        assert!(idx["manifests"][1]["annotations"].is_object());
    }
}
