//! The integrity stage: evaluate the descriptor graph of a scanned bundle.
//!
//! Walks from `index.json` through every index (nested too), manifest, config, layer and subject,
//! and every referrer listed in `index.json` whose subject is reached. Every failure is collected;
//! nothing stops at the first.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::digest::{Digest, DigestError};
use crate::finding::{Code, Finding};
use crate::layout::model::{self, ConfigPlatform, Descriptor, Document, Kind, OciLayoutFile};
use crate::layout::{
    blob_name, selects, tag_subject, Catalog, Content, Limits, Small, LAYOUT_VERSION,
};

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
    /// Its platforms, `os/arch[/variant]`.
    pub platforms: Vec<String>,
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
}

enum Entry {
    Image,
    Trust,
    Referrer(String),
    TagIndex(String),
}

struct Walker<'a> {
    cat: &'a Catalog,
    limits: &'a Limits,
    record: bool,
    reached: BTreeSet<Digest>,
    checked: BTreeSet<Digest>,
    failed: BTreeSet<Digest>,
    failures: Vec<Finding>,
    warnings: Vec<Finding>,
    excluded: HashSet<String>,
    mismatch_reported: HashSet<Digest>,
    walked_docs: HashSet<Digest>,
    docs: HashMap<Digest, Document>,
}

impl<'a> Walker<'a> {
    fn fail(&mut self, f: Finding) {
        if self.record {
            self.failures.push(f);
        }
    }

    fn mark_failed(&mut self, d: &Digest) {
        if self.record {
            self.failed.insert(d.clone());
        }
    }

    /// Checks one descriptor and walks into it. Returns its digest when valid and present.
    fn descriptor(&mut self, desc: &Descriptor, depth: usize) -> Option<Digest> {
        let d = match Digest::parse(&desc.digest) {
            Ok(d) => d,
            Err(e) => {
                let code = match e {
                    DigestError::UnsupportedAlgorithm(_) => Code::DigestAlgorithmUnsupported,
                    _ => Code::DigestInvalid,
                };
                self.fail(Finding::new(code, e.to_string()).digest(&desc.digest));
                return None;
            }
        };
        let path = blob_name(&d);
        let Some(entry) = self.cat.blobs.get(&d) else {
            if self.excluded.contains(&desc.digest) {
                if self.record {
                    self.warnings.push(
                        Finding::new(
                            Code::ExcludedByExport,
                            "child manifest left out by `airlock export --platform`",
                        )
                        .digest(&d)
                        .path(path),
                    );
                }
                return None;
            }
            if desc.is_foreign() {
                if self.record {
                    self.warnings.push(
                        Finding::new(
                            Code::ForeignBlobAbsent,
                            format!("non-distributable layer not carried; its descriptor names {} URL(s)", desc.urls.len()),
                        )
                        .digest(&d)
                        .path(path),
                    );
                }
                return None;
            }
            self.fail(
                Finding::new(
                    Code::BlobMissing,
                    format!(
                        "blob is referenced but not in the bundle ({})",
                        desc.media_type()
                    ),
                )
                .digest(&d)
                .path(path),
            );
            self.mark_failed(&d);
            return None;
        };
        self.reached.insert(d.clone());
        if self.record {
            self.checked.insert(d.clone());
        }
        if entry.mismatches(&d) && (!self.record || self.mismatch_reported.insert(d.clone())) {
            let actual = entry
                .actual
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            self.fail(
                Finding::new(Code::DigestMismatch, format!("content hashes to {actual}"))
                    .digest(&d)
                    .path(path.clone()),
            );
            self.mark_failed(&d);
        }
        if entry.size != desc.size {
            let unread = if matches!(entry.content, Content::NotRead | Content::TooLarge)
                && entry.actual.is_none()
                && self.cat.hashed
            {
                " (not read: its size already differs)"
            } else {
                ""
            };
            self.fail(
                Finding::new(
                    Code::SizeMismatch,
                    format!(
                        "descriptor says {} bytes, blob has {}{unread}",
                        desc.size, entry.size
                    ),
                )
                .digest(&d)
                .path(path.clone()),
            );
            self.mark_failed(&d);
            if matches!(entry.content, Content::NotRead) {
                // The directory scan did not read it because of this very difference.
                return Some(d);
            }
        }
        let mt = desc.media_type();
        let kind = match model::kind_of(mt) {
            Kind::Blob if mt.is_empty() => self.peek(&d).map_or(Kind::Blob, |doc| doc.shape()),
            k => k,
        };
        match kind {
            Kind::Manifest | Kind::Index => self.document(&d, mt, kind, depth),
            Kind::Blob => {
                if model::is_json(mt) {
                    match &entry.content {
                        Content::NotJson(msg) => {
                            self.fail(
                                Finding::new(
                                    Code::MalformedJson,
                                    format!("{mt} content is not valid JSON: {msg}"),
                                )
                                .digest(&d)
                                .path(path),
                            );
                            self.mark_failed(&d);
                        }
                        Content::Bytes(_) => {
                            self.fail(
                                Finding::new(
                                    Code::MalformedJson,
                                    format!("{mt} content is not JSON"),
                                )
                                .digest(&d)
                                .path(path),
                            );
                            self.mark_failed(&d);
                        }
                        _ => {}
                    }
                }
            }
        }
        Some(d)
    }

    fn peek(&self, d: &Digest) -> Option<Document> {
        match &self.cat.blobs.get(d)?.content {
            Content::Json(b) => Document::parse(b).ok(),
            _ => None,
        }
    }

    fn document(&mut self, d: &Digest, mt: &str, kind: Kind, depth: usize) {
        if !self.walked_docs.insert(d.clone()) {
            return;
        }
        let path = blob_name(d);
        if depth > self.limits.max_depth {
            self.fail(
                Finding::new(
                    Code::NestingTooDeep,
                    format!("indexes nested deeper than {}", self.limits.max_depth),
                )
                .digest(d)
                .path(path),
            );
            self.mark_failed(d);
            return;
        }
        let Some(entry) = self.cat.blobs.get(d) else {
            return;
        };
        let bytes = match &entry.content {
            Content::Json(b) => b.clone(),
            Content::TooLarge => {
                let f = Finding::new(
                    Code::ManifestTooLarge,
                    format!(
                        "{} bytes: manifests and indexes over {} bytes are refused",
                        entry.size, self.limits.max_manifest_bytes
                    ),
                );
                self.fail(f.digest(d).path(path));
                self.mark_failed(d);
                return;
            }
            Content::NotJson(msg) => {
                self.fail(
                    Finding::new(
                        Code::MalformedJson,
                        format!("manifest is not valid JSON: {msg}"),
                    )
                    .digest(d)
                    .path(path),
                );
                self.mark_failed(d);
                return;
            }
            Content::Bytes(_) => {
                self.fail(
                    Finding::new(Code::MalformedJson, "manifest is not JSON")
                        .digest(d)
                        .path(path),
                );
                self.mark_failed(d);
                return;
            }
            Content::NotRetained => {
                self.fail(
                    Finding::new(
                        Code::LimitExceeded,
                        "too much manifest JSON in one bundle to keep in memory",
                    )
                    .digest(d)
                    .path(path),
                );
                self.mark_failed(d);
                return;
            }
            Content::NotRead => {
                // The scan reads every document a descriptor of the right size names, so this
                // is not expected; failing closed all the same.
                self.fail(
                    Finding::new(Code::LimitExceeded, "document was not read by the scan")
                        .digest(d)
                        .path(path),
                );
                self.mark_failed(d);
                return;
            }
        };
        let doc = match Document::parse(&bytes) {
            Ok(doc) => doc,
            Err(e) => {
                self.fail(
                    Finding::new(
                        Code::MalformedManifest,
                        format!("not an image-spec document: {e}"),
                    )
                    .digest(d)
                    .path(path),
                );
                self.mark_failed(d);
                return;
            }
        };
        if let Some(problem) = structure_problem(&doc, mt, kind) {
            let code = if problem.starts_with("mediaType") {
                Code::MediaTypeMismatch
            } else {
                Code::MalformedManifest
            };
            self.fail(Finding::new(code, problem).digest(d).path(path));
            self.mark_failed(d);
        }
        let children: Vec<Descriptor> = doc.children().cloned().collect();
        let subject = doc.subject.clone();
        self.docs.insert(d.clone(), doc);
        for c in &children {
            self.descriptor(c, depth + 1);
        }
        if let Some(s) = subject {
            self.descriptor(&s, depth + 1);
        }
    }
}

/// Describes how a parsed document breaks the image-spec, if it does.
fn structure_problem(doc: &Document, mt: &str, kind: Kind) -> Option<String> {
    if let Some(own) = doc.media_type.as_deref() {
        if !mt.is_empty() && own != mt {
            return Some(format!(
                "mediaType {own:?} in the document, {mt:?} in its descriptor"
            ));
        }
    }
    if doc.schema_version != Some(2) {
        return Some(format!(
            "schemaVersion is {:?}, expected 2",
            doc.schema_version
        ));
    }
    let shape = doc.shape();
    match kind {
        Kind::Index if doc.manifests.is_none() => Some("index has no manifests array".into()),
        Kind::Manifest if shape == Kind::Index => {
            Some("descriptor says manifest, content is an index".into())
        }
        Kind::Manifest
            if mt != model::OCI_ARTIFACT_MANIFEST
                && (doc.config.is_none() || doc.layers.is_none()) =>
        {
            Some("image manifest lacks config or layers".into())
        }
        _ => None,
    }
}

fn check_oci_layout(cat: &Catalog, failures: &mut Vec<Finding>) {
    match &cat.oci_layout {
        None => failures.push(
            Finding::new(Code::OciLayoutMissing, "oci-layout file is missing").path("oci-layout"),
        ),
        Some(Small::TooLarge(n)) => failures.push(
            Finding::new(Code::OciLayoutMalformed, format!("oci-layout is {n} bytes"))
                .path("oci-layout"),
        ),
        Some(Small::Bytes(b)) => match serde_json::from_slice::<OciLayoutFile>(b) {
            Err(e) => failures.push(
                Finding::new(Code::OciLayoutMalformed, format!("oci-layout: {e}"))
                    .path("oci-layout"),
            ),
            Ok(f) if f.image_layout_version != LAYOUT_VERSION => failures.push(
                Finding::new(
                    Code::OciLayoutVersion,
                    format!(
                        "imageLayoutVersion is {:?}, expected {LAYOUT_VERSION:?}",
                        f.image_layout_version
                    ),
                )
                .path("oci-layout"),
            ),
            Ok(_) => {}
        },
    }
}

fn parse_index(cat: &Catalog, failures: &mut Vec<Finding>) -> Option<Document> {
    let bytes = match &cat.index_json {
        None => {
            failures
                .push(Finding::new(Code::IndexMissing, "index.json is missing").path("index.json"));
            return None;
        }
        Some(Small::TooLarge(n)) => {
            failures.push(
                Finding::new(
                    Code::IndexMalformed,
                    format!("index.json is {n} bytes, over the manifest limit"),
                )
                .path("index.json"),
            );
            return None;
        }
        Some(Small::Bytes(b)) => b,
    };
    let problem = match Document::parse(bytes) {
        Err(e) => Err(format!("index.json is not a valid image index: {e}")),
        Ok(doc) => match (
            &doc.manifests,
            doc.schema_version,
            doc.media_type.as_deref(),
        ) {
            (None, _, _) => Err("index.json has no manifests array".to_string()),
            (_, v, _) if v != Some(2) => {
                Err(format!("index.json schemaVersion is {v:?}, expected 2"))
            }
            (_, _, Some(mt)) if mt != model::OCI_INDEX => {
                Err(format!("index.json mediaType is {mt:?}"))
            }
            _ => Ok(doc),
        },
    };
    match problem {
        Ok(doc) => Some(doc),
        Err(msg) => {
            failures.push(Finding::new(Code::IndexMalformed, msg).path("index.json"));
            None
        }
    }
}

/// Evaluates the graph of a scanned bundle. `selection` names images (empty: all of them).
pub fn check(cat: &Catalog, selection: &[String], limits: &Limits) -> Integrity {
    let mut out = Integrity::default();
    let mut failures = cat.failures.clone();
    let mut warnings = cat.warnings.clone();
    check_oci_layout(cat, &mut failures);
    out.bundle_digest = cat
        .index_json
        .as_ref()
        .and_then(Small::bytes)
        .map(Digest::sha256);
    let index = parse_index(cat, &mut failures);

    let mut w = Walker {
        cat,
        limits,
        record: true,
        reached: BTreeSet::new(),
        checked: BTreeSet::new(),
        failed: BTreeSet::new(),
        failures: Vec::new(),
        warnings: Vec::new(),
        excluded: HashSet::new(),
        mismatch_reported: HashSet::new(),
        walked_docs: HashSet::new(),
        docs: HashMap::new(),
    };

    if let Some(index) = &index {
        let entries: Vec<Descriptor> = index.manifests.clone().unwrap_or_default();
        w.excluded = entries
            .iter()
            .filter_map(|e| e.annotations.get(model::EXCLUDED))
            .flat_map(|v| v.split(',').map(|s| s.trim().to_owned()))
            .filter(|s| !s.is_empty())
            .collect();
        let kinds: Vec<Entry> = entries
            .iter()
            .map(|e| {
                if let Some(subject) = e
                    .annotations
                    .get(model::REF_NAME)
                    .and_then(|n| tag_subject(n))
                {
                    if model::kind_of(e.media_type()) == Kind::Index {
                        return Entry::TagIndex(subject.to_string());
                    }
                }
                if e.artifact_type.as_deref() == Some(model::AIRLOCK_TRUST) {
                    return Entry::Trust;
                }
                let subject = Digest::parse(&e.digest)
                    .ok()
                    .and_then(|d| w.peek(&d))
                    .and_then(|doc| doc.subject);
                match subject {
                    Some(s) => Entry::Referrer(s.digest),
                    None => Entry::Image,
                }
            })
            .collect();

        let mut selected = vec![selection.is_empty(); entries.len()];
        for sel in selection {
            let mut hit = false;
            for (i, e) in entries.iter().enumerate() {
                if matches!(kinds.get(i), Some(Entry::Image)) && selects(sel, e) {
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

        // Images first, then referrers whose subject is reached, until nothing new is reached.
        let mut walked = vec![false; entries.len()];
        for (i, e) in entries.iter().enumerate() {
            let image =
                matches!(kinds.get(i), Some(Entry::Image)) && selected.get(i) == Some(&true);
            if image || matches!(kinds.get(i), Some(Entry::Trust)) {
                w.descriptor(e, 0);
                if let Some(x) = walked.get_mut(i) {
                    *x = true;
                }
            }
        }
        loop {
            let mut progressed = false;
            for (i, e) in entries.iter().enumerate() {
                if walked.get(i) == Some(&true) {
                    continue;
                }
                let subject = match kinds.get(i) {
                    Some(Entry::Referrer(s)) | Some(Entry::TagIndex(s)) => s,
                    _ => continue,
                };
                let reached = Digest::parse(subject).is_ok_and(|s| w.reached.contains(&s));
                if reached {
                    w.descriptor(e, 0);
                    if let Some(x) = walked.get_mut(i) {
                        *x = true;
                    }
                    progressed = true;
                }
            }
            if !progressed {
                break;
            }
        }
        // Without a selection every entry is checked, dangling referrers included; with one, the
        // rest is only walked to know which blobs are referenced.
        w.record = selection.is_empty();
        for (i, e) in entries.iter().enumerate() {
            if walked.get(i) != Some(&true) {
                w.descriptor(e, 0);
            }
        }
        w.record = true;

        for (i, e) in entries.iter().enumerate() {
            if !(matches!(kinds.get(i), Some(Entry::Image)) && selected.get(i) == Some(&true)) {
                continue;
            }
            out.images.push(image_info(e, &w, &entries, &kinds));
        }

        for (d, b) in &cat.blobs {
            if !w.reached.contains(d) {
                warnings.push(
                    Finding::new(
                        Code::UnreferencedBlob,
                        format!("{} bytes that nothing in index.json references", b.size),
                    )
                    .digest(d)
                    .path(blob_name(d)),
                );
            }
        }
    }
    // Content that does not match its name is a failure even when nothing references it (a
    // tampered bundle), unless the check was narrowed to some images.
    if selection.is_empty() {
        for (d, b) in &cat.blobs {
            // A blob a hashing scan left unread has a size some descriptor contradicts; when the
            // walk did not reach it (that descriptor sits where the walk stops, such as past the
            // nesting limit), it still fails rather than pass unhashed.
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
                let actual = b
                    .actual
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                w.failures.push(
                    Finding::new(Code::DigestMismatch, format!("content hashes to {actual}"))
                        .digest(d)
                        .path(blob_name(d)),
                );
                w.failed.insert(d.clone());
            }
        }
    }

    failures.append(&mut w.failures);
    warnings.append(&mut w.warnings);
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

fn dedup(v: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    v.retain(|f| seen.insert(f.clone()));
}

fn image_info(
    e: &Descriptor,
    w: &Walker<'_>,
    entries: &[Descriptor],
    kinds: &[Entry],
) -> ImageInfo {
    // Everything the image reaches, without following subjects (referrers are listed separately).
    let mut closure: BTreeSet<Digest> = BTreeSet::new();
    let mut stack: Vec<String> = vec![e.digest.clone()];
    let mut platforms = Vec::new();
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
                    if let Some(p) = &m.platform {
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
                    if let Ok(p) = serde_json::from_slice::<ConfigPlatform>(b) {
                        if !p.os.is_empty() {
                            platforms.push(
                                model::Platform {
                                    os: p.os,
                                    architecture: p.architecture,
                                    variant: p.variant,
                                }
                                .render(),
                            );
                        }
                    }
                }
            }
        }
    }
    let size = closure
        .iter()
        .filter_map(|d| w.cat.blobs.get(d))
        .map(|b| b.size)
        .sum();
    let mut referrers = Vec::new();
    for (i, r) in entries.iter().enumerate() {
        if let Some(Entry::Referrer(subject)) = kinds.get(i) {
            if Digest::parse(subject).is_ok_and(|s| closure.contains(&s)) {
                let artifact_type = Digest::parse(&r.digest)
                    .ok()
                    .and_then(|d| w.docs.get(&d))
                    .and_then(|doc| doc.effective_artifact_type().map(str::to_owned))
                    .or_else(|| r.artifact_type.clone());
                referrers.push(ReferrerInfo {
                    digest: r.digest.clone(),
                    artifact_type,
                    subject: subject.clone(),
                });
            }
        }
    }
    ImageInfo {
        reference: e.reference().map(str::to_owned),
        digest: e.digest.clone(),
        media_type: e.media_type().to_owned(),
        platforms,
        size,
        referrers,
    }
}
