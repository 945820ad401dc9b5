//! The walk of the descriptor graph: one descriptor at a time (digest, presence, content, size,
//! kind), into every manifest and index it reaches (children, then subject), under the nesting
//! limit. What it finds is collected; nothing stops at the first failure.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::rules::{platform_problem, structure_problem};
use crate::digest::{Digest, DigestError};
use crate::finding::{Code, Finding};
use crate::layout::model::{self, Descriptor, Document, Kind};
use crate::layout::{blob_name, Catalog, Content, Limits};

/// The walk's state over one catalog.
pub(super) struct Walker<'a> {
    pub(super) cat: &'a Catalog,
    limits: &'a Limits,
    /// Whether failures are recorded (off while walking unselected entries only to learn what
    /// they reference).
    pub(super) record: bool,
    /// Every blob a descriptor reached.
    pub(super) reached: BTreeSet<Digest>,
    /// The same, in the order they were first reached (what made an entry's subject reached).
    pub(super) reached_log: Vec<Digest>,
    /// Blobs reached while recording.
    pub(super) checked: BTreeSet<Digest>,
    /// Blobs with a failure.
    pub(super) failed: BTreeSet<Digest>,
    pub(super) failures: Vec<Finding>,
    pub(super) warnings: Vec<Finding>,
    /// Digests `airlock export --platform` left out (the `EXCLUDED` annotation).
    pub(super) excluded: HashSet<String>,
    /// Blobs `airlock export --since` left out (digest -> size), from the export record.
    pub(super) external: HashMap<String, u64>,
    /// Those found absent, as reported.
    pub(super) external_seen: BTreeSet<Digest>,
    /// Set by a manifest's walk for the descriptor it is about to check when that descriptor is
    /// one of its layers (or artifact blobs): the only kind `export --since` leaves out. Taken
    /// (reset) by [`Self::descriptor`].
    as_layer: bool,
    /// Set by an index's walk for the descriptor it is about to check (one of its `manifests`):
    /// the only kind `export --platform` leaves out. Taken (reset) by [`Self::descriptor`].
    as_child: bool,
    /// Blobs whose digest mismatch was reported already.
    pub(super) mismatch_reported: HashSet<Digest>,
    walked_docs: HashSet<Digest>,
    /// The shape of each document a descriptor without a media type named (parsed once).
    shapes: HashMap<Digest, Kind>,
    /// Every manifest and index parsed.
    pub(super) docs: HashMap<Digest, Document>,
}

impl<'a> Walker<'a> {
    /// A walk over `cat` that has reached nothing yet.
    pub(super) fn new(cat: &'a Catalog, limits: &'a Limits) -> Self {
        Walker {
            cat,
            limits,
            record: true,
            reached: BTreeSet::new(),
            reached_log: Vec::new(),
            checked: BTreeSet::new(),
            failed: BTreeSet::new(),
            failures: Vec::new(),
            warnings: Vec::new(),
            excluded: HashSet::new(),
            external: HashMap::new(),
            external_seen: BTreeSet::new(),
            as_layer: false,
            as_child: false,
            mismatch_reported: HashSet::new(),
            walked_docs: HashSet::new(),
            shapes: HashMap::new(),
            docs: HashMap::new(),
        }
    }

    fn fail(&mut self, f: Finding) {
        if self.record {
            self.failures.push(f);
        }
    }

    fn warn(&mut self, f: Finding) {
        if self.record {
            self.warnings.push(f);
        }
    }

    fn mark_failed(&mut self, d: &Digest) {
        if self.record {
            self.failed.insert(d.clone());
        }
    }

    /// Fails blob `d` with `code`: the finding names the digest and the blob's path.
    fn fail_blob(&mut self, d: &Digest, code: Code, message: impl Into<String>) {
        self.fail(Finding::new(code, message).digest(d).path(blob_name(d)));
        self.mark_failed(d);
    }

    /// Checks one descriptor and walks into it. Returns its digest when valid and present.
    pub(super) fn descriptor(&mut self, desc: &Descriptor, depth: usize) -> Option<Digest> {
        let as_layer = std::mem::take(&mut self.as_layer);
        let as_child = std::mem::take(&mut self.as_child);
        // Every media type a descriptor states is RFC 6838's `type/subtype` (the image-spec's
        // rule): a config's becomes a referrer's type in the report, a layer's a cosign
        // artifact's, and free text there was printed as it came (red team K, K02).
        if let Some(mt) = desc.media_type.as_deref().filter(|m| !m.is_empty()) {
            if !model::is_media_type(mt) {
                self.fail(
                    Finding::new(
                        Code::MalformedManifest,
                        format!("descriptor mediaType {mt:?} is not a media type (RFC 6838 type/subtype)"),
                    )
                    .digest(&desc.digest),
                );
            }
        }
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
        let Some(entry) = self.cat.blobs.get(&d) else {
            self.absent(desc, &d, as_layer, as_child);
            return None;
        };
        if self.reached.insert(d.clone()) {
            self.reached_log.push(d.clone());
        }
        if self.record {
            self.checked.insert(d.clone());
        }
        if entry.mismatches(&d) && (!self.record || self.mismatch_reported.insert(d.clone())) {
            self.fail_blob(&d, Code::DigestMismatch, mismatch_message(entry));
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
            let msg = format!(
                "descriptor says {} bytes, blob has {}{unread}",
                desc.size, entry.size
            );
            self.fail_blob(&d, Code::SizeMismatch, msg);
            if matches!(entry.content, Content::NotRead) {
                // The directory scan did not read it because of this very difference.
                return Some(d);
            }
        }
        let mt = desc.media_type();
        let kind = match model::kind_of(mt) {
            Kind::Blob if mt.is_empty() => self.shape_of(&d),
            k => k,
        };
        match kind {
            Kind::Manifest | Kind::Index => {
                self.document(&d, mt, kind, depth);
                self.artifact_type_of(desc, &d);
            }
            Kind::Blob if model::is_json(mt) => match &entry.content {
                Content::NotJson(msg) => self.fail_blob(
                    &d,
                    Code::MalformedJson,
                    format!("{mt} content is not valid JSON: {msg}"),
                ),
                Content::Bytes(_) => {
                    self.fail_blob(&d, Code::MalformedJson, format!("{mt} content is not JSON"))
                }
                _ => {}
            },
            Kind::Blob => {}
        }
        Some(d)
    }

    /// A descriptor whose blob the bundle does not hold: a warning when export left it out on
    /// purpose (`--platform`, `--since`, non-distributable layers), else `blob_missing`.
    /// `--platform` leaves out platform manifests only: the annotation never excuses a missing
    /// layer or config. `--since` leaves out layers only (`as_layer`): the record's list never
    /// excuses a missing manifest, index, config or subject.
    fn absent(&mut self, desc: &Descriptor, d: &Digest, as_layer: bool, as_child: bool) {
        let path = blob_name(d);
        let a_manifest = matches!(
            model::kind_of(desc.media_type()),
            Kind::Manifest | Kind::Index
        );
        // Only a child of an index: never an image itself, a subject or a referrer, which the
        // annotation named made "verified" with no content at all (red team K, K01).
        if a_manifest && as_child && self.excluded.contains(&desc.digest) {
            self.warn(
                Finding::new(
                    Code::ExcludedByExport,
                    "child manifest left out by `airlock export --platform`",
                )
                .digest(d)
                .path(path),
            );
        } else if as_layer && !a_manifest && self.external.get(&desc.digest) == Some(&desc.size) {
            if self.record {
                self.external_seen.insert(d.clone());
            }
            self.warn(
                Finding::new(
                    Code::BlobExternal,
                    format!(
                        "left out by `airlock export --since` (the far side's inventory listed it; {}): \
                         not checked here, `verify --base` or the target registry supplies it",
                        desc.media_type()
                    ),
                )
                .digest(d)
                .path(path),
            );
        } else if desc.is_foreign() {
            self.warn(
                Finding::new(
                    Code::ForeignBlobAbsent,
                    format!(
                        "non-distributable layer not carried; its descriptor names {} URL(s)",
                        desc.urls.len()
                    ),
                )
                .digest(d)
                .path(path),
            );
        } else {
            let msg = format!(
                "blob is referenced but not in the bundle ({})",
                desc.media_type()
            );
            self.fail_blob(d, Code::BlobMissing, msg);
        }
    }

    /// What the document `d` holds is shaped as (a blob when it is none), parsed once per digest:
    /// a manifest may name one large document thousands of times.
    fn shape_of(&mut self, d: &Digest) -> Kind {
        if let Some(k) = self.shapes.get(d) {
            return *k;
        }
        let k = self.peek(d).map_or(Kind::Blob, |doc| doc.shape());
        self.shapes.insert(d.clone(), k);
        k
    }

    /// The document `d` holds, if its content is JSON that parses as one.
    pub(super) fn peek(&self, d: &Digest) -> Option<Document> {
        match &self.cat.blobs.get(d)?.content {
            Content::Json(b) => Document::parse(b).ok(),
            _ => None,
        }
    }

    fn document(&mut self, d: &Digest, mt: &str, kind: Kind, depth: usize) {
        if !self.walked_docs.insert(d.clone()) {
            return;
        }
        if depth > self.limits.max_depth {
            let msg = format!("indexes nested deeper than {}", self.limits.max_depth);
            self.fail_blob(d, Code::NestingTooDeep, msg);
            return;
        }
        let Some(entry) = self.cat.blobs.get(d) else {
            return;
        };
        let bytes = match &entry.content {
            Content::Json(b) => b.clone(),
            Content::TooLarge => {
                let msg = format!(
                    "{} bytes: manifests and indexes over {} bytes are refused",
                    entry.size, self.limits.max_manifest_bytes
                );
                return self.fail_blob(d, Code::ManifestTooLarge, msg);
            }
            Content::NotJson(msg) => {
                let msg = format!("manifest is not valid JSON: {msg}");
                return self.fail_blob(d, Code::MalformedJson, msg);
            }
            Content::Bytes(_) => {
                return self.fail_blob(d, Code::MalformedJson, "manifest is not JSON");
            }
            Content::NotRetained => {
                return self.fail_blob(
                    d,
                    Code::LimitExceeded,
                    "too much manifest JSON in one bundle to keep in memory",
                );
            }
            Content::NotRead => {
                // The scan reads every document a descriptor of the right size names, so this
                // is not expected; failing closed all the same.
                return self.fail_blob(d, Code::LimitExceeded, "document was not read by the scan");
            }
        };
        let doc = match Document::parse(&bytes) {
            Ok(doc) => doc,
            Err(e) => {
                let msg = format!("not an image-spec document: {e}");
                return self.fail_blob(d, Code::MalformedManifest, msg);
            }
        };
        if let Some(problem) = structure_problem(&doc, mt, kind) {
            let code = if problem.starts_with("mediaType") {
                Code::MediaTypeMismatch
            } else {
                Code::MalformedManifest
            };
            self.fail_blob(d, code, problem);
        }
        let children: Vec<Descriptor> = doc.children().cloned().collect();
        let subject = doc.subject.clone();
        // The layers (and artifact blobs) of a manifest: what `export --since` may leave out.
        let config = doc.config.as_ref().map(|c| c.digest.clone());
        let layers: HashSet<String> = if doc.manifests.is_none() {
            doc.layers
                .iter()
                .flatten()
                .chain(doc.blobs.iter().flatten())
                .map(|l| l.digest.clone())
                .filter(|l| Some(l) != config.as_ref())
                .collect()
        } else {
            HashSet::new()
        };
        let is_index = doc.manifests.is_some();
        self.docs.insert(d.clone(), doc);
        for c in &children {
            self.as_layer = layers.contains(&c.digest);
            self.as_child = is_index;
            self.descriptor(c, depth + 1);
        }
        if is_index {
            for c in &children {
                self.platform_label(c);
            }
        }
        if let Some(s) = subject {
            self.descriptor(&s, depth + 1);
        }
    }
}

impl Walker<'_> {
    /// A descriptor's `artifactType` must be the artifact type of the manifest it names (its
    /// `artifactType`, else its config's media type), as the image-spec requires: a carrier's
    /// label on an `index.json` entry or in an index would make every tool that lists artifacts
    /// from descriptors see another type than the hashed manifest states (red team J, J7 and J8).
    /// Reported on the manifest, as a `mediaType` mismatch is.
    fn artifact_type_of(&mut self, desc: &Descriptor, d: &Digest) {
        let Some(said) = desc.artifact_type.as_deref() else {
            return;
        };
        let Some(doc) = self.docs.get(d) else {
            return;
        };
        let own = doc.effective_artifact_type().map(str::to_owned);
        let problem = if !model::is_media_type(said) {
            Some(format!(
                "the descriptor's artifactType {said:?} is not a media type (RFC 6838 type/subtype)"
            ))
        } else if own.as_deref() != Some(said) {
            Some(format!(
                "artifactType {said:?} in the descriptor, {} in the document",
                own.map_or_else(|| "none".to_owned(), |o| format!("{o:?}"))
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            self.fail_blob(d, Code::MediaTypeMismatch, problem);
        }
    }

    /// Compares an index entry's platform label with the image config of the manifest it names
    /// (walked already), reported on that manifest: `platform_mismatch`. For `index.json`'s
    /// entries too, an image index as any other (red team K, K03).
    pub(super) fn platform_label(&mut self, c: &Descriptor) {
        let (Some(label), Ok(d)) = (&c.platform, Digest::parse(&c.digest)) else {
            return;
        };
        let Some(cfg) = self.docs.get(&d).and_then(|m| m.config.clone()) else {
            return;
        };
        let Ok(cd) = Digest::parse(&cfg.digest) else {
            return;
        };
        // A warning, not a failure: published images carry such labels, signed by their
        // publisher (red team L, L02: descheduler v0.36.0's arm64 entry names an amd64 config),
        // and what runs is the signed manifest; the report must only never state a label the
        // bytes contradict without saying so (red teams J and K, J4, K03-K05).
        let problem = match self.cat.blobs.get(&cd).map(|b| &b.content) {
            Some(Content::Json(b)) => platform_problem(label, cfg.media_type(), b),
            // Dropped for the memory budget: the label cannot be compared (K05: a carrier's junk
            // JSON spent the budget, and the label passed unchecked and unsaid).
            Some(Content::NotRetained) if label.os != "unknown" => Some(
                "not compared: its image config was not kept in memory (the bundle holds more manifests, configs and signatures than airlock keeps while it reads one)"
                    .to_owned(),
            ),
            _ => None,
        };
        if let Some(problem) = problem {
            self.warn(
                Finding::new(Code::PlatformMismatch, problem)
                    .digest(&d)
                    .path(blob_name(&d)),
            );
        }
    }
}

/// The message of a `digest_mismatch`: what the content hashes to.
pub(super) fn mismatch_message(entry: &crate::layout::BlobEntry) -> String {
    let actual = entry
        .actual
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    format!("content hashes to {actual}")
}
