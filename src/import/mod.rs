//! `airlock import`: push a verified bundle into a registry, signatures intact.
//!
//! The bundle is verified first (by the caller, with the same code as `airlock verify`); nothing is
//! pushed unless it passed. Only verified bytes reach the registry: manifests and indexes are pushed
//! from the bytes the verification read (kept in memory), and every blob is hashed again as it is
//! pushed, from the directory's file or from a second pass over the tarball; a blob that changed
//! since verification aborts its upload before the registry commits it (and the registry checks
//! the digest on commit as well).
//!
//! Order: blobs, then child manifests, then indexes, then tags; signatures after their subjects,
//! then the `sha256-<hex>` referrers tag index, merged with what the registry already holds.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::digest::{Digest, HashingWriter};
use crate::layout::model::{self, Descriptor, Document, AIRLOCK_TRUST};
use crate::layout::{blob_path, Catalog, Content};
use crate::registry::{Registry, RegistryError};

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A bad argument.
    #[error("{0}")]
    Usage(String),
    /// A blob changed since it was verified.
    #[error("{0} changed since verification: push aborted")]
    Changed(String),
    /// An image that verification did not judge would have been pushed.
    #[error("{0} was not verified: nothing was pushed")]
    NotVerified(String),
    /// The registry refused.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The registry refused a blob of the images named (`REPO:TAG` as asked for; a blob belongs to
    /// its repository, so the registry's own error names no tag).
    #[error("importing {images}: {error}")]
    ForImages {
        /// The target names the blob was pushed for.
        images: String,
        /// The registry's error.
        error: RegistryError,
    },
    /// Local I/O.
    #[error("{0}")]
    Io(String),
}

/// How referrers reach the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferrersMode {
    /// The registry's Referrers API indexes signatures by their `subject`: nothing more to do.
    Api,
    /// Create or merge the `sha256-<hex>` referrers tag index.
    Tag,
    /// `tag` unless the target is known to serve the Referrers API (currently: always `tag`, which
    /// every registry understands; a registry with the API ignores the extra tag).
    Auto,
}

/// What to import where.
pub struct ImportPlan {
    /// `HOST[:PORT]`.
    pub host: String,
    /// Repository prefix under the host (may be empty).
    pub prefix: String,
    /// `OLD=NEW` repository prefix rewrites.
    pub maps: Vec<(String, String)>,
    /// Referrers mode.
    pub referrers: ReferrersMode,
    /// The images verification passed, as `(name, digest)`: only these are pushed, under these
    /// names (in pinned mode they are the export record's names; the push never re-reads a name
    /// verification did not judge).
    pub verified: Vec<(Option<String>, String)>,
}

/// One pushed image.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushedImage {
    /// Name in the bundle.
    pub source: String,
    /// Where it went.
    pub target: String,
    /// Its digest.
    pub digest: String,
    /// Signatures pushed for it.
    pub signatures: u64,
}

/// The outcome.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// Images.
    pub images: Vec<PushedImage>,
    /// Blobs uploaded.
    pub blobs_uploaded: u64,
    /// Blobs the target already had.
    pub blobs_skipped: u64,
    /// Blobs mounted from another repository of the target.
    pub blobs_mounted: u64,
    /// Bytes uploaded.
    pub bytes_uploaded: u64,
    /// Manifests pushed.
    pub manifests_pushed: u64,
    /// Manifests the target already had.
    pub manifests_skipped: u64,
    /// Signature manifests pushed.
    pub signatures_pushed: u64,
    /// How referrers were made visible.
    pub referrers_mode: Option<ReferrersMode>,
    /// True for `--dry-run`.
    pub dry_run: bool,
}

/// Maps a bundle image name to its target repository and tag.
pub fn target_of(
    reference: &str,
    plan: &ImportPlan,
) -> Result<(String, Option<String>), ImportError> {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let last_slash = without_digest.rfind('/');
    let (repo_part, tag) = match without_digest.rfind(':') {
        Some(i) if last_slash.is_none_or(|s| i > s) => (
            without_digest.get(..i).unwrap_or(""),
            Some(without_digest.get(i + 1..).unwrap_or("").to_owned()),
        ),
        _ => (without_digest, None),
    };
    // Drop the source registry (a first component with '.' or ':' or "localhost").
    let mut repo = match repo_part.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            rest.to_owned()
        }
        Some(_) => repo_part.to_owned(),
        None => {
            if repo_part.is_empty()
                || last_slash.is_none() && tag.is_none() && !plan.prefix.is_empty()
            {
                String::new()
            } else {
                repo_part.to_owned()
            }
        }
    };
    // A bare tag (a local layout's `v1`) has no repository: the prefix names it.
    if last_slash.is_none() && !reference.contains('/') {
        if plan.prefix.is_empty() {
            return Err(ImportError::Usage(format!(
                "image {reference:?} records no repository: give one with --to HOST/REPO or --map {reference}=REPO"
            )));
        }
        let t = if tag.is_some() {
            tag
        } else {
            Some(reference.to_owned())
        };
        let repo = plan
            .maps
            .iter()
            .find(|(old, _)| old == reference)
            .map(|(_, new)| new.clone())
            .unwrap_or_else(|| plan.prefix.clone());
        return Ok((
            format!("{}/{}", plan.host, repo),
            t.filter(|t| !t.starts_with("sha256")),
        ));
    }
    for (old, new) in &plan.maps {
        if repo == *old || repo.starts_with(&format!("{old}/")) {
            repo = format!("{new}{}", repo.get(old.len()..).unwrap_or(""));
            break;
        }
    }
    let full = if plan.prefix.is_empty() {
        repo
    } else {
        format!("{}/{repo}", plan.prefix)
    };
    Ok((format!("{}/{full}", plan.host), tag))
}

/// Where blob bytes come from for the push: the directory, or a second pass over the tarball.
pub enum BlobSource {
    /// A layout directory.
    Dir(PathBuf),
    /// A tarball (read again, start to end).
    Archive(PathBuf),
}

/// A reader that hashes what it yields (through the one [`HashingWriter`], into nothing) and fails
/// at the end when the content is not `expected`.
struct Verifying<R> {
    inner: R,
    hasher: Option<HashingWriter<io::Sink>>,
    expected: Digest,
    size: u64,
    seen: u64,
}

impl<R: Read> Read for Verifying<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen += u64::try_from(n).unwrap_or(u64::MAX);
        if let Some(h) = self.hasher.as_mut() {
            h.write_all(buf.get(..n).unwrap_or_default())?;
        }
        if n == 0 {
            if let Some(h) = self.hasher.take() {
                let (_, actual, _) = h.finish();
                if actual != self.expected || self.seen != self.size {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} changed since verification (now {actual}, {} bytes)",
                            self.expected, self.seen
                        ),
                    ));
                }
            }
        }
        if self.seen > self.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} grew since verification", self.expected),
            ));
        }
        Ok(n)
    }
}

struct Pusher<'a> {
    reg: &'a Registry,
    sum: ImportSummary,
    /// Blobs known present, by repository.
    present: BTreeMap<String, BTreeSet<Digest>>,
    dry: bool,
    lines: Vec<String>,
    /// The target names (`REPO:TAG`, or `REPO@DIGEST` untagged) by repository, for errors.
    targets: BTreeMap<String, BTreeSet<String>>,
}

impl Pusher<'_> {
    /// A registry error about a blob of `repo`, naming the images it was for.
    fn for_images(&self, repo: &str, error: RegistryError) -> ImportError {
        match self.targets.get(repo) {
            Some(names) => ImportError::ForImages {
                images: names.iter().cloned().collect::<Vec<_>>().join(", "),
                error,
            },
            None => error.into(),
        }
    }

    fn need_blob(&mut self, repo: &str, d: &Digest) -> Result<bool, ImportError> {
        if self.present.get(repo).is_some_and(|s| s.contains(d)) {
            return Ok(false);
        }
        let r = Registry::parse(repo)?;
        let exists = self
            .reg
            .blob_exists(&r, &d.to_string())
            .map_err(|e| self.for_images(repo, e))?;
        if exists {
            self.sum.blobs_skipped += 1;
            self.present
                .entry(repo.to_owned())
                .or_default()
                .insert(d.clone());
            return Ok(false);
        }
        // Mount from another repository of the target that already has it.
        let other = self
            .present
            .iter()
            .find(|(k, v)| k.as_str() != repo && v.contains(d))
            .map(|(k, _)| k.clone());
        if let Some(from) = other {
            if !self.dry
                && self
                    .reg
                    .mount(&r, &Registry::parse(&from)?, &d.to_string())
                    .is_ok()
                && self
                    .reg
                    .blob_exists(&r, &d.to_string())
                    .map_err(|e| self.for_images(repo, e))?
            {
                self.sum.blobs_mounted += 1;
                self.present
                    .entry(repo.to_owned())
                    .or_default()
                    .insert(d.clone());
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn push_blob(
        &mut self,
        repo: &str,
        desc: &Descriptor,
        d: &Digest,
        data: Box<dyn Read + Send>,
    ) -> Result<(), ImportError> {
        if self.dry {
            self.lines
                .push(format!("upload blob {d} ({} bytes) to {repo}", desc.size));
        } else {
            let r = Registry::parse(repo)?;
            let reader = Verifying {
                inner: data,
                hasher: Some(HashingWriter::new(io::sink(), d.algorithm())),
                expected: d.clone(),
                size: desc.size,
                seen: 0,
            };
            match self.reg.push_blob(&r, desc, Box::new(reader)) {
                Ok(_) => {}
                Err(e) => {
                    let msg = e.to_string();
                    // Our own re-hash stops the stream; a registry that received the whole body
                    // refuses the commit (DIGEST_INVALID). Either way the bundle changed.
                    if msg.contains("changed since verification")
                        || msg.contains("grew since verification")
                        || msg.contains("DIGEST_INVALID")
                    {
                        return Err(ImportError::Changed(d.to_string()));
                    }
                    return Err(self.for_images(repo, e));
                }
            }
        }
        self.sum.blobs_uploaded += 1;
        self.sum.bytes_uploaded += desc.size;
        self.present
            .entry(repo.to_owned())
            .or_default()
            .insert(d.clone());
        Ok(())
    }

    fn push_manifest(
        &mut self,
        repo: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
        digest: &str,
    ) -> Result<(), ImportError> {
        let by = tag.map_or_else(|| format!("{repo}@{digest}"), |t| format!("{repo}:{t}"));
        let r = Registry::parse(&by)?;
        if !self.dry && self.reg.manifest_digest(&r)?.as_deref() == Some(digest) {
            self.sum.manifests_skipped += 1;
            return Ok(());
        }
        if self.dry {
            self.lines.push(format!("put manifest {by} ({media_type})"));
        } else {
            self.reg.push_manifest(&r, media_type, bytes)?;
        }
        self.sum.manifests_pushed += 1;
        Ok(())
    }
}

fn json_bytes<'a>(cat: &'a Catalog, digest: &str) -> Option<&'a [u8]> {
    let d = Digest::parse(digest).ok()?;
    match &cat.blobs.get(&d)?.content {
        Content::Json(b) | Content::Bytes(b) => Some(b),
        _ => None,
    }
}

/// Pushes the (already verified) bundle scanned into `cat`. `images` selects as `verify` does.
/// `helpers` are further clients for uploading independent blobs of a directory bundle side by
/// side (empty: one at a time).
pub fn import(
    cat: &Catalog,
    images: &[String],
    source: &BlobSource,
    reg: &Registry,
    helpers: &[Registry],
    plan: &ImportPlan,
    dry_run: bool,
) -> Result<(ImportSummary, Vec<String>), ImportError> {
    let index = cat
        .index_json
        .as_ref()
        .and_then(|s| s.bytes())
        .and_then(|b| Document::parse(b).ok())
        .ok_or_else(|| ImportError::Usage("the bundle has no readable index.json".into()))?;
    let entries = index.manifests.unwrap_or_default();
    let is_ref_doc = |e: &Descriptor| {
        json_bytes(cat, &e.digest)
            .and_then(|b| Document::parse(b).ok())
            .is_some_and(|d| d.subject.is_some())
    };
    let image_entries: Vec<&Descriptor> = entries
        .iter()
        .filter(|e| {
            e.artifact_type.as_deref() != Some(AIRLOCK_TRUST)
                && !e
                    .annotations
                    .get(model::REF_NAME)
                    .is_some_and(|n| crate::layout::is_referrers_tag(n))
                && !is_ref_doc(e)
        })
        .filter(|e| images.is_empty() || images.iter().any(|s| crate::layout::selects(s, e)))
        .collect();
    // Push only what verification judged, under the name it judged.
    if let Some(e) = image_entries.iter().find(|e| {
        !plan
            .verified
            .iter()
            .any(|(name, digest)| digest == &e.digest && name.as_deref() == e.reference())
    }) {
        return Err(ImportError::NotVerified(format!(
            "{} ({})",
            e.reference().unwrap_or("(unnamed)"),
            e.digest
        )));
    }
    let mut p = Pusher {
        reg,
        sum: ImportSummary {
            dry_run,
            ..Default::default()
        },
        present: BTreeMap::new(),
        dry: dry_run,
        lines: Vec::new(),
        targets: BTreeMap::new(),
    };

    // 1. Which manifests go where, and which blobs each repository needs.
    struct Job {
        repo: String,
        tag: Option<String>,
        top: Descriptor,
        manifests: Vec<Descriptor>,
        signatures: Vec<Descriptor>,
    }
    let mut jobs = Vec::new();
    let mut need: BTreeMap<Digest, (Descriptor, BTreeSet<String>)> = BTreeMap::new();
    for e in &image_entries {
        let name = e.reference().unwrap_or(&e.digest).to_owned();
        let (repo, tag) = target_of(&name, plan)?;
        let mut manifests = Vec::new();
        let mut stack = vec![(*e).clone()];
        let mut subjects = Vec::new();
        while let Some(m) = stack.pop() {
            let Some(bytes) = json_bytes(cat, &m.digest) else {
                continue;
            };
            let Ok(doc) = Document::parse(bytes) else {
                continue;
            };
            subjects.push(m.digest.clone());
            for c in doc.manifests.iter().flatten() {
                if json_bytes(cat, &c.digest).is_some() {
                    stack.push(c.clone());
                }
            }
            for b in doc
                .config
                .iter()
                .chain(doc.layers.iter().flatten())
                .chain(doc.blobs.iter().flatten())
            {
                if let Ok(d) = Digest::parse(&b.digest) {
                    if cat.blobs.contains_key(&d) {
                        need.entry(d)
                            .or_insert_with(|| (b.clone(), BTreeSet::new()))
                            .1
                            .insert(repo.clone());
                    }
                }
            }
            manifests.push(m);
        }
        // Signatures of the image and of its children.
        let mut signatures = Vec::new();
        for s in &entries {
            let Some(doc) = json_bytes(cat, &s.digest).and_then(|b| Document::parse(b).ok()) else {
                continue;
            };
            let Some(subject) = &doc.subject else {
                continue;
            };
            if !subjects.contains(&subject.digest)
                || doc.effective_artifact_type() != Some(model::NOTARY_SIGNATURE)
            {
                continue;
            }
            for b in doc.config.iter().chain(doc.layers.iter().flatten()) {
                if let Ok(d) = Digest::parse(&b.digest) {
                    need.entry(d)
                        .or_insert_with(|| (b.clone(), BTreeSet::new()))
                        .1
                        .insert(repo.clone());
                }
            }
            let mut sd = s.clone();
            if sd.artifact_type.is_none() {
                sd.artifact_type = doc.effective_artifact_type().map(str::to_owned);
            }
            sd.annotations = doc.annotations.clone();
            signatures.push(sd);
        }
        p.targets.entry(repo.clone()).or_default().insert(
            tag.as_ref()
                .map_or_else(|| format!("{repo}@{}", e.digest), |t| format!("{repo}:{t}")),
        );
        jobs.push(Job {
            repo,
            tag,
            top: (*e).clone(),
            manifests,
            signatures,
        });
    }

    // 2. Blobs: each re-hashed as it is pushed.
    let mut todo: BTreeMap<Digest, (Descriptor, Vec<String>)> = BTreeMap::new();
    for (d, (desc, repos)) in &need {
        for repo in repos {
            if p.need_blob(repo, d)? {
                todo.entry(d.clone())
                    .or_insert_with(|| (desc.clone(), Vec::new()))
                    .1
                    .push(repo.clone());
            }
        }
    }
    match source {
        BlobSource::Dir(root) => {
            // Independent uploads run side by side, one client each (`helpers`); largest first,
            // dealt round-robin so that the workers finish together.
            let mut jobs: Vec<(&Digest, &Descriptor, &String)> = todo
                .iter()
                .flat_map(|(d, (desc, repos))| repos.iter().map(move |r| (d, desc, r)))
                .collect();
            jobs.sort_by(|a, b| b.1.size.cmp(&a.1.size).then_with(|| a.0.cmp(b.0)));
            let workers: Vec<&Registry> = std::iter::once(reg).chain(helpers.iter()).collect();
            let mut lanes: Vec<Vec<(&Digest, &Descriptor, &String)>> =
                vec![Vec::new(); workers.len()];
            for (i, j) in jobs.into_iter().enumerate() {
                if let Some(lane) = lanes.get_mut(i % workers.len()) {
                    lane.push(j);
                }
            }
            let targets = &p.targets;
            let results: Vec<Result<Pusher<'_>, ImportError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = workers
                    .iter()
                    .zip(lanes)
                    .map(|(w, lane)| {
                        scope.spawn(move || {
                            let mut q = Pusher {
                                reg: w,
                                sum: ImportSummary::default(),
                                present: BTreeMap::new(),
                                dry: dry_run,
                                lines: Vec::new(),
                                targets: targets.clone(),
                            };
                            for (d, desc, repo) in lane {
                                let path = root.join(blob_path(d));
                                let f = std::fs::File::open(&path).map_err(|e| {
                                    ImportError::Io(format!("{}: {e}", path.display()))
                                })?;
                                q.push_blob(repo, desc, d, Box::new(f))?;
                            }
                            Ok(q)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(ImportError::Io("an upload worker failed".into()))
                        })
                    })
                    .collect()
            });
            for r in results {
                let q = r?;
                p.sum.blobs_uploaded += q.sum.blobs_uploaded;
                p.sum.bytes_uploaded += q.sum.bytes_uploaded;
                p.lines.extend(q.lines);
                for (repo, set) in q.present {
                    p.present.entry(repo).or_default().extend(set);
                }
            }
        }
        BlobSource::Archive(path) => second_pass(path, &todo, &mut p)?,
    }

    // 3. Manifests: children before parents, then the tag; signatures after their subjects.
    let mut any_sig = false;
    for job in &jobs {
        for m in job.manifests.iter().rev() {
            let Some(bytes) = json_bytes(cat, &m.digest) else {
                continue;
            };
            p.push_manifest(&job.repo, None, m.media_type(), bytes, &m.digest)?;
        }
        if let Some(tag) = &job.tag {
            if let Some(bytes) = json_bytes(cat, &job.top.digest) {
                p.push_manifest(
                    &job.repo,
                    Some(tag),
                    job.top.media_type(),
                    bytes,
                    &job.top.digest,
                )?;
            }
        }
        let mut by_subject: BTreeMap<String, Vec<Descriptor>> = BTreeMap::new();
        for s in &job.signatures {
            let Some(bytes) = json_bytes(cat, &s.digest) else {
                continue;
            };
            p.push_manifest(&job.repo, None, s.media_type(), bytes, &s.digest)?;
            p.sum.signatures_pushed += 1;
            any_sig = true;
            if let Some(subject) = Document::parse(bytes).ok().and_then(|d| d.subject) {
                by_subject
                    .entry(subject.digest)
                    .or_default()
                    .push(s.clone());
            }
        }
        if plan.referrers != ReferrersMode::Api {
            for (subject, sigs) in &by_subject {
                merge_tag_index(&mut p, &job.repo, subject, sigs)?;
            }
        }
        p.sum.images.push(PushedImage {
            source: job.top.reference().unwrap_or(&job.top.digest).to_owned(),
            target: job.tag.as_ref().map_or_else(
                || format!("{}@{}", job.repo, job.top.digest),
                |t| format!("{}:{t}", job.repo),
            ),
            digest: job.top.digest.clone(),
            signatures: u64::try_from(job.signatures.len()).unwrap_or(u64::MAX),
        });
    }
    if any_sig {
        p.sum.referrers_mode = Some(match plan.referrers {
            ReferrersMode::Api => ReferrersMode::Api,
            _ => ReferrersMode::Tag,
        });
    }
    Ok((p.sum, p.lines))
}

/// Creates or merges the `sha256-<hex>` referrers tag index of `subject` in `repo`.
fn merge_tag_index(
    p: &mut Pusher<'_>,
    repo: &str,
    subject: &str,
    sigs: &[Descriptor],
) -> Result<(), ImportError> {
    let tag = crate::layout::referrers_tag_of(subject)
        .ok_or_else(|| ImportError::Usage(format!("{subject}: a subject that is not a digest")))?;
    let r = Registry::parse(&format!("{repo}:{tag}"))?;
    let mut listed: Vec<serde_json::Value> = Vec::new();
    let mut have: BTreeSet<String> = BTreeSet::new();
    if !p.dry {
        if let Ok((_, bytes)) = p.reg.resolve(&r) {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                for m in v
                    .get("manifests")
                    .and_then(|m| m.as_array())
                    .into_iter()
                    .flatten()
                {
                    if let Some(d) = m["digest"].as_str() {
                        if have.insert(d.to_owned()) {
                            listed.push(m.clone());
                        }
                    }
                }
            }
        }
    }
    let before = listed.len();
    for s in sigs {
        if have.insert(s.digest.clone()) {
            let mut v = serde_json::json!({"mediaType": s.media_type(), "digest": s.digest, "size": s.size});
            if let (Some(obj), Some(t)) = (v.as_object_mut(), &s.artifact_type) {
                obj.insert("artifactType".into(), serde_json::json!(t));
                if !s.annotations.is_empty() {
                    obj.insert("annotations".into(), serde_json::json!(s.annotations));
                }
            }
            listed.push(v);
        }
    }
    if listed.len() == before && before > 0 {
        p.sum.manifests_skipped += 1;
        return Ok(());
    }
    let idx =
        serde_json::json!({"schemaVersion": 2, "mediaType": model::OCI_INDEX, "manifests": listed});
    let bytes = serde_json::to_vec(&idx).map_err(|e| ImportError::Io(e.to_string()))?;
    if p.dry {
        p.lines.push(format!(
            "put referrers tag index {repo}:{tag} ({} referrer(s))",
            listed.len()
        ));
        return Ok(());
    }
    p.reg.push_manifest(&r, model::OCI_INDEX, &bytes)?;
    p.sum.manifests_pushed += 1;
    Ok(())
}

/// Reads the tarball again from the start, pushing each needed blob as it streams by.
fn second_pass(
    path: &Path,
    todo: &BTreeMap<Digest, (Descriptor, Vec<String>)>,
    p: &mut Pusher<'_>,
) -> Result<(), ImportError> {
    if todo.is_empty() {
        return Ok(());
    }
    let source = crate::archive::open(path).map_err(|e| ImportError::Io(e.to_string()))?;
    let crate::archive::Source::Stream { format, reader, .. } = source else {
        return Err(ImportError::Usage("expected a tarball".into()));
    };
    let stream = crate::archive::decompress(
        reader,
        format,
        std::sync::Arc::new(crate::layout::NoProgress),
    );
    let mut entries = crate::layout::TarEntries::new(stream, &crate::layout::Limits::default());
    let mut done: BTreeSet<Digest> = BTreeSet::new();
    while let Some(e) = entries
        .next_entry()
        .map_err(|f| ImportError::Io(format!("{}: {}", path.display(), f.message)))?
    {
        // The bundle was verified first; anything but a blob (refused entries included) is skipped.
        let crate::layout::Entry::Accepted {
            class: crate::layout::Name::Blob(d),
            ..
        } = e
        else {
            continue;
        };
        let Some((desc, repos)) = todo.get(&d) else {
            continue;
        };
        if !done.insert(d.clone()) {
            continue;
        }
        let mut body = Vec::new();
        if desc.size <= 64 << 20 {
            entries
                .body()
                .read_to_end(&mut body)
                .map_err(|e| ImportError::Io(e.to_string()))?;
            for repo in repos {
                p.push_blob(repo, desc, &d, Box::new(io::Cursor::new(body.clone())))?;
            }
        } else {
            let spool = spool_to_temp(&mut entries.body(), path)?;
            let mut result = Ok(());
            for repo in repos {
                result = std::fs::File::open(&spool)
                    .map_err(|e| ImportError::Io(e.to_string()))
                    .and_then(|f| p.push_blob(repo, desc, &d, Box::new(f)));
                if result.is_err() {
                    break;
                }
            }
            let _ = std::fs::remove_file(&spool);
            result?;
        }
    }
    if let Some(missing) = todo.keys().find(|d| !done.contains(d)) {
        return Err(ImportError::Changed(format!(
            "{missing} (no longer in the tarball)"
        )));
    }
    Ok(())
}

/// Large blobs of a tarball are spooled to the temporary folder for the upload (the registry protocol needs a
/// `'static` stream); the spool is hashed again as it is pushed and removed afterwards.
fn spool_to_temp<R: Read>(r: &mut R, _bundle: &Path) -> Result<PathBuf, ImportError> {
    // The system's temporary folder: the bundle may sit on read-only removable media.
    let tmp = std::env::temp_dir().join(format!(".airlock-import-{}.spool", std::process::id()));
    let mut f = std::fs::File::create(&tmp)
        .map_err(|e| ImportError::Io(format!("{}: {e}", tmp.display())))?;
    io::copy(r, &mut f).map_err(|e| ImportError::Io(e.to_string()))?;
    Ok(tmp)
}
