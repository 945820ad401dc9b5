//! Where exported content comes from: a local OCI layout (`oci:PATH[:TAG|@DIGEST]`), a tarball of
//! one (`oci-archive:FILE`), or a registry (`REGISTRY/REPO:TAG`, `REGISTRY/REPO@DIGEST`, with the
//! `pull` feature). Every byte a source hands over is checked by the caller against its digest.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::digest::Digest;
use crate::layout::model::{self, Descriptor, Document};
use crate::layout::{blob_path, Limits};

use super::ExportError;

/// A parsed source argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceRef {
    /// A local layout directory and an optional tag or digest.
    Layout {
        /// The layout directory.
        path: PathBuf,
        /// A tag (`org.opencontainers.image.ref.name`) or a digest; none: the only image.
        selector: Option<String>,
    },
    /// A tarball of a layout.
    Archive {
        /// The tarball.
        path: PathBuf,
        /// A tag or digest.
        selector: Option<String>,
    },
    /// A registry reference.
    Registry(String),
}

impl SourceRef {
    /// Parses `oci:PATH[:TAG|@DIGEST]`, `oci-archive:FILE[:TAG|@DIGEST]` or a registry reference.
    pub fn parse(s: &str) -> Result<Self, ExportError> {
        let split = |rest: &str| -> (PathBuf, Option<String>) {
            if Path::new(rest).exists() {
                return (PathBuf::from(rest), None);
            }
            if let Some((p, d)) = rest.rsplit_once('@') {
                if Path::new(p).exists() {
                    return (PathBuf::from(p), Some(d.to_owned()));
                }
            }
            // The path is the shortest prefix before a ':' that exists; the rest is the tag, which
            // may itself hold ':' and '/' (a full reference such as registry/repo:1.0).
            for (i, _) in rest.match_indices(':') {
                let (p, t) = (rest.get(..i).unwrap_or(""), rest.get(i + 1..).unwrap_or(""));
                if !p.is_empty() && Path::new(p).is_dir() {
                    return (PathBuf::from(p), Some(t.to_owned()));
                }
            }
            (PathBuf::from(rest), None)
        };
        if let Some(rest) = s.strip_prefix("oci:") {
            let (path, selector) = split(rest);
            return Ok(SourceRef::Layout { path, selector });
        }
        if let Some(rest) = s.strip_prefix("oci-archive:") {
            let (path, selector) = split(rest);
            return Ok(SourceRef::Archive { path, selector });
        }
        if s.contains('/') && !s.starts_with('/') && !s.starts_with('.') {
            return Ok(SourceRef::Registry(s.to_owned()));
        }
        Err(ExportError::Usage(format!(
            "{s:?} is not a source: use REGISTRY/REPO:TAG, REGISTRY/REPO@DIGEST, oci:PATH[:TAG|@DIGEST] or oci-archive:FILE"
        )))
    }
}

/// What the exporter needs from a source.
pub trait Fetch {
    /// The name recorded for the image (`registry/repo:tag`, or the layout's ref name).
    fn reference(&self) -> String;
    /// The top-level descriptor and its exact bytes.
    fn resolve(&mut self) -> Result<(Descriptor, Vec<u8>), ExportError>;
    /// A manifest or index by descriptor (bytes unchecked; the caller checks them).
    fn manifest(&mut self, desc: &Descriptor) -> Result<Vec<u8>, ExportError>;
    /// Streams a blob into `out` (unchecked; the caller hashes while writing).
    fn blob(&mut self, desc: &Descriptor, out: &mut dyn Write) -> Result<u64, ExportError>;
    /// Manifests whose `subject` is `subject` (signatures among them).
    fn referrers(&mut self, subject: &Descriptor) -> Result<Vec<Descriptor>, ExportError>;
}

/// A local OCI layout directory.
pub struct LayoutFetch {
    root: PathBuf,
    selector: Option<String>,
    name: String,
    entries: Vec<Descriptor>,
    limits: Limits,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |e| ExportError::Source(format!("{}: {e}", path.display()))
}

impl LayoutFetch {
    /// Opens a layout.
    pub fn open(root: &Path, selector: Option<String>) -> Result<Self, ExportError> {
        let index_path = root.join(crate::layout::INDEX_JSON);
        let limits = Limits::default();
        let bytes = read_capped(&index_path, limits.max_manifest_bytes)?;
        let doc = Document::parse(&bytes)
            .map_err(|e| ExportError::Source(format!("{}: {e}", index_path.display())))?;
        Ok(LayoutFetch {
            root: root.to_path_buf(),
            name: String::new(),
            selector,
            entries: doc.manifests.unwrap_or_default(),
            limits,
        })
    }

    fn path_of(&self, desc: &Descriptor) -> Result<PathBuf, ExportError> {
        let d = Digest::parse(&desc.digest).map_err(|e| ExportError::Source(e.to_string()))?;
        Ok(self.root.join(blob_path(&d)))
    }

    fn doc(&self, desc: &Descriptor) -> Option<Document> {
        let path = self.path_of(desc).ok()?;
        let bytes = read_capped(&path, self.limits.max_manifest_bytes).ok()?;
        Document::parse(&bytes).ok()
    }
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ExportError> {
    let f = File::open(path).map_err(io_err(path))?;
    let mut buf = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(io_err(path))?;
    if buf.len() as u64 > cap {
        return Err(ExportError::Source(format!(
            "{} is larger than {cap} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

impl Fetch for LayoutFetch {
    fn reference(&self) -> String {
        self.name.clone()
    }

    fn resolve(&mut self) -> Result<(Descriptor, Vec<u8>), ExportError> {
        let images: Vec<&Descriptor> = self
            .entries
            .iter()
            .filter(|e| {
                let tag_index = e
                    .annotations
                    .get(model::REF_NAME)
                    .is_some_and(|n| n.starts_with("sha256-"));
                let is_referrer = self.doc(e).is_some_and(|d| d.subject.is_some());
                !tag_index
                    && !is_referrer
                    && e.artifact_type.as_deref() != Some(model::AIRLOCK_TRUST)
            })
            .collect();
        let found: Vec<&Descriptor> = match &self.selector {
            None => images,
            Some(sel) => images
                .into_iter()
                .filter(|e| crate::verify::integrity::selects(sel, e))
                .collect(),
        };
        let desc = match found.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(ExportError::Source(format!(
                    "{}: no image {}",
                    self.root.display(),
                    self.selector
                        .as_deref()
                        .map(|s| format!("named {s:?}"))
                        .unwrap_or_default()
                )))
            }
            _ => {
                return Err(ExportError::Source(format!(
                    "{}: several images; name one with oci:PATH:TAG or oci:PATH@DIGEST",
                    self.root.display()
                )))
            }
        };
        self.name = desc
            .reference()
            .map(str::to_owned)
            .or_else(|| self.selector.clone())
            .unwrap_or_else(|| desc.digest.clone());
        let bytes = self.manifest(&desc)?;
        Ok((desc, bytes))
    }

    fn manifest(&mut self, desc: &Descriptor) -> Result<Vec<u8>, ExportError> {
        let path = self.path_of(desc)?;
        read_capped(&path, self.limits.max_manifest_bytes)
    }

    fn blob(&mut self, desc: &Descriptor, out: &mut dyn Write) -> Result<u64, ExportError> {
        let path = self.path_of(desc)?;
        let mut f = File::open(&path).map_err(io_err(&path))?;
        io::copy(&mut f, out).map_err(io_err(&path))
    }

    fn referrers(&mut self, subject: &Descriptor) -> Result<Vec<Descriptor>, ExportError> {
        let mut out: Vec<Descriptor> = Vec::new();
        let tag = format!(
            "sha256-{}",
            subject.digest.strip_prefix("sha256:").unwrap_or("")
        );
        let mut candidates: Vec<Descriptor> = self.entries.clone();
        for e in self
            .entries
            .iter()
            .filter(|e| e.annotations.get(model::REF_NAME) == Some(&tag))
        {
            if let Some(doc) = self.doc(e) {
                candidates.extend(doc.manifests.unwrap_or_default());
            }
        }
        for c in candidates {
            if out.iter().any(|o| o.digest == c.digest) {
                continue;
            }
            if let Some(doc) = self.doc(&c) {
                if doc
                    .subject
                    .as_ref()
                    .is_some_and(|s| s.digest == subject.digest)
                {
                    let mut c = c.clone();
                    if c.artifact_type.is_none() {
                        c.artifact_type = doc.effective_artifact_type().map(str::to_owned);
                    }
                    out.push(c);
                }
            }
        }
        Ok(out)
    }
}
