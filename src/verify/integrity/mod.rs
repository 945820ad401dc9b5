//! The integrity stage: evaluate the descriptor graph of a scanned bundle.
//!
//! Walks from `index.json` through every index (nested too), manifest, config, layer and subject,
//! and every referrer listed in `index.json` whose subject is reached. Every failure is collected;
//! nothing stops at the first.
//!
//! The parts: `rules` (the layout's own files, a document's shape), `entries` (what each
//! `index.json` entry is, the selection), `walk` (the descriptor graph), `images` (each image's
//! summary); `check` runs them in that order and then judges the blobs nothing reached.

mod entries;
mod images;
mod rules;
mod walk;

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::digest::Digest;
use crate::finding::{Code, Finding};
use crate::layout::model::{Descriptor, Document};
use crate::layout::{blob_name, Catalog, Limits, Small};

use entries::Role;
use walk::{mismatch_message, Walker};

/// A referrer (signature or other artifact) of an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferrerInfo {
    /// The referrer manifest's digest.
    pub digest: String,
    /// Its artifact type (`artifactType`, or the config media type as notation writes it).
    pub artifact_type: Option<String>,
    /// The digest of the manifest it refers to.
    pub subject: String,
}

/// One image of the bundle.
#[derive(Clone, Debug)]
pub struct ImageInfo {
    /// Its name (`io.containerd.image.name`, else `org.opencontainers.image.ref.name`).
    pub reference: Option<String>,
    /// The digest of its top-level manifest or index.
    pub digest: String,
    /// The media type of its top-level manifest or index.
    pub media_type: String,
    /// Its platforms the bundle holds, `os/arch[/variant]`.
    pub platforms: Vec<String>,
    /// The platforms of its index marked left out by `export --platform` (not in the bundle).
    pub platforms_left_out: Vec<String>,
    /// Bytes of every blob it reaches, each counted once (referrers excluded).
    pub size: u64,
    /// Referrers of the image and of its child manifests.
    pub referrers: Vec<ReferrerInfo>,
}

/// The outcome of the integrity stage.
#[derive(Clone, Debug, Default)]
pub struct Integrity {
    /// sha256 of `index.json`'s bytes.
    pub bundle_digest: Option<Digest>,
    /// Distinct blobs checked.
    pub blobs_checked: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Distinct blobs with at least one failure.
    pub blobs_failed: u64,
    /// Those blobs.
    pub failed: BTreeSet<Digest>,
    /// Failures.
    pub failures: Vec<Finding>,
    /// Warnings.
    pub warnings: Vec<Finding>,
    /// The images, in `index.json` order.
    pub images: Vec<ImageInfo>,
    /// Every manifest and index parsed, by digest (for later stages).
    pub documents: HashMap<Digest, Document>,
    /// Blobs absent because `export --since` left them out (`blob_external` warnings).
    pub external: BTreeSet<Digest>,
    /// The trust artifact whose export record listed them (read unauthenticated here; pinned
    /// mode requires it to be the pinned one).
    pub external_record: Option<String>,
}

/// Evaluates the graph of a scanned bundle. `selection` names images (empty: all of them).
pub fn check(cat: &Catalog, selection: &[String], limits: &Limits) -> Integrity {
    let mut out = Integrity::default();
    let mut failures = cat.failures.clone();
    let mut warnings = cat.warnings.clone();
    rules::check_oci_layout(cat, &mut failures);
    out.bundle_digest = cat
        .index_json
        .as_ref()
        .and_then(Small::bytes)
        .map(Digest::sha256);
    let index = rules::parse_index(cat, &mut failures);

    let mut w = Walker::new(cat, limits);
    if let Some(index) = &index {
        let entries: Vec<Descriptor> = index.manifests.clone().unwrap_or_default();
        w.excluded = entries::excluded(&entries);
        if let Some((artifact, left_out)) = crate::trust_artifact::recorded_left_out(cat) {
            if !left_out.is_empty() {
                w.external = left_out.into_iter().map(|l| (l.digest, l.size)).collect();
                out.external_record = Some(artifact);
            }
        }
        let roles = entries::roles(&entries, &w);
        failures.extend(entries::named_referrers(&entries, &roles));
        failures.extend(entries::malformed_names(&entries));
        let selected = entries::select(&entries, &roles, selection, &mut failures);
        walk_entries(&mut w, &entries, &roles, &selected, selection.is_empty());
        // An image listed many times (index.json may repeat one digest under many names) is
        // summarised once: its closure and referrers depend on the digest alone.
        let mut summaries: HashMap<&str, ImageInfo> = HashMap::new();
        let by_subject = images::referrers_by_subject(&roles);
        // Each name of an image lists the image's referrers again, and the signature stage judges
        // each name: a budget on what the summaries hold (thousands of names on one image with
        // thousands of referrers took gigabytes; red team E, E7).
        let mut records = 0usize;
        for (i, e) in entries.iter().enumerate() {
            if selected.get(i) != Some(&true) {
                continue;
            }
            let info = match summaries.get(e.digest.as_str()) {
                Some(known) => ImageInfo {
                    reference: e.reference().map(str::to_owned),
                    media_type: e.media_type().to_owned(),
                    ..known.clone()
                },
                None => {
                    let info = images::image_info(e, &w, &entries, &roles, &by_subject);
                    summaries.insert(e.digest.as_str(), info.clone());
                    info
                }
            };
            records = records.saturating_add(1 + info.referrers.len());
            if records > MAX_SUMMARY_RECORDS {
                failures.push(Finding::new(
                    Code::LimitExceeded,
                    format!(
                        "the images index.json names, with the referrers listed under each name, come to more than {MAX_SUMMARY_RECORDS} records (an image listed under many names repeats its referrers under each): not summarised or judged further; split the bundle"
                    ),
                ));
                break;
            }
            out.images.push(info);
        }
        warnings.extend(unreferenced(cat, &w.reached));
    }
    // Content that does not match its name is a failure even when nothing references it (a
    // tampered bundle), unless the check was narrowed to some images.
    if selection.is_empty() {
        unreached_failures(&mut w);
    }

    failures.append(&mut w.failures);
    warnings.append(&mut w.warnings);
    out.external = std::mem::take(&mut w.external_seen);
    if out.external.is_empty() {
        out.external_record = None;
    }
    dedup(&mut failures);
    dedup(&mut warnings);
    out.blobs_checked = u64::try_from(w.checked.len()).unwrap_or(u64::MAX);
    out.bytes = w
        .checked
        .iter()
        .filter_map(|d| cat.blobs.get(d))
        .map(|b| b.size)
        .sum();
    out.blobs_failed = u64::try_from(w.failed.len()).unwrap_or(u64::MAX);
    out.failed = w.failed;
    out.failures = failures;
    out.warnings = warnings;
    out.documents = w.docs;
    out
}

/// Walks the entries: selected images and the trust artifact first, then referrers and tag
/// indexes whose subject is reached, until nothing new is reached; then the rest, recorded only
/// when `record_rest` (no selection: dangling referrers are checked too), else walked only to
/// know which blobs are referenced.
fn walk_entries(
    w: &mut Walker<'_>,
    entries: &[Descriptor],
    roles: &[Role],
    selected: &[bool],
    record_rest: bool,
) {
    let mut walked = vec![false; entries.len()];
    let walk = |w: &mut Walker<'_>, walked: &mut Vec<bool>, i: usize, e: &Descriptor| {
        w.descriptor(e, 0);
        if let Some(x) = walked.get_mut(i) {
            *x = true;
        }
    };
    for (i, e) in entries.iter().enumerate() {
        if selected.get(i) == Some(&true) || roles.get(i) == Some(&Role::Trust) {
            walk(w, &mut walked, i, e);
        }
    }
    // Referrers, round by round, each once its subject is reached: looked up by subject as the
    // digests are reached (not every entry checked again each round: a chain of thousands of
    // referrers listed tip first took one round per link, quadratic; red team E, E4).
    let mut by_subject: HashMap<Digest, Vec<usize>> = HashMap::new();
    for (i, _) in entries.iter().enumerate() {
        if walked.get(i) == Some(&true) {
            continue;
        }
        let Some(subject) = roles.get(i).and_then(Role::subject) else {
            continue;
        };
        if let Ok(s) = Digest::parse(subject) {
            by_subject.entry(s).or_default().push(i);
        }
    }
    let mut cursor = 0;
    while cursor < w.reached_log.len() {
        let end = w.reached_log.len();
        let mut round: Vec<usize> = w
            .reached_log
            .get(cursor..end)
            .unwrap_or_default()
            .iter()
            .filter_map(|d| by_subject.remove(d))
            .flatten()
            .collect();
        cursor = end;
        round.sort_unstable();
        for i in round {
            if let (Some(e), Some(false)) = (entries.get(i), walked.get(i).copied()) {
                walk(w, &mut walked, i, e);
            }
        }
    }
    w.record = record_rest;
    for (i, e) in entries.iter().enumerate() {
        if walked.get(i) != Some(&true) {
            w.descriptor(e, 0);
        }
    }
    w.record = true;
    for e in entries {
        w.platform_label(e);
    }
}

/// The most image summaries and referrers listed under them that one verification holds (each
/// name of an image counts its referrers again).
pub const MAX_SUMMARY_RECORDS: usize = 20_000;

/// Unreferenced blobs listed one by one; the rest are counted in one more warning, so that a
/// bundle of a million stray entries does not make a million findings (memory, report size).
pub const MAX_LISTED_UNREFERENCED: usize = 1000;

/// A warning for each blob of the bundle nothing in `index.json` reaches (the first
/// [`MAX_LISTED_UNREFERENCED`], then one that counts the others).
fn unreferenced(cat: &Catalog, reached: &BTreeSet<Digest>) -> Vec<Finding> {
    let mut out = Vec::new();
    let (mut more, mut more_bytes) = (0u64, 0u64);
    // A base's blob (`verify --base`) the bundle does not reference is simply not needed.
    let strays = cat
        .blobs
        .iter()
        .filter(|(d, _)| !reached.contains(*d) && !cat.from_base.contains(*d));
    for (d, b) in strays {
        if out.len() < MAX_LISTED_UNREFERENCED {
            out.push(
                Finding::new(
                    Code::UnreferencedBlob,
                    format!("{} bytes that nothing in index.json references", b.size),
                )
                .digest(d)
                .path(blob_name(d)),
            );
        } else {
            more += 1;
            more_bytes = more_bytes.saturating_add(b.size);
        }
    }
    if more > 0 {
        out.push(Finding::new(
            Code::UnreferencedBlob,
            format!(
                "{more} more blobs ({more_bytes} bytes) that nothing in index.json references, \
                 not listed one by one"
            ),
        ));
    }
    out
}

/// Fails the blobs the walk did not judge: content that does not match its name, and a blob a
/// hashing scan left unread (a size some descriptor contradicts) that the walk did not reach
/// (that descriptor sits where the walk stops, such as past the nesting limit), which still fails
/// rather than pass unhashed.
fn unreached_failures(w: &mut Walker<'_>) {
    let cat = w.cat;
    for (d, b) in &cat.blobs {
        if cat.hashed && b.actual.is_none() && !w.reached.contains(d) {
            w.failures.push(
                Finding::new(
                    Code::SizeMismatch,
                    format!(
                        "{} bytes, which no descriptor naming it in the bundle states (not read)",
                        b.size
                    ),
                )
                .digest(d)
                .path(blob_name(d)),
            );
            w.failed.insert(d.clone());
        }
        if b.mismatches(d) && !w.mismatch_reported.contains(d) {
            w.failures.push(
                Finding::new(Code::DigestMismatch, mismatch_message(b))
                    .digest(d)
                    .path(blob_name(d)),
            );
            w.failed.insert(d.clone());
        }
    }
}

/// Removes repeated findings, keeping the first of each.
fn dedup(v: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    v.retain(|f| seen.insert(f.clone()));
}

#[cfg(test)]
mod tests;
