//! Where exported content comes from: a local OCI layout (`oci:PATH[:TAG|@DIGEST]`), a tarball of
//! one (`oci-archive:FILE`), or a registry (`REGISTRY/REPO:TAG`, `REGISTRY/REPO@DIGEST`, with the
//! `pull` feature). Every byte a source hands over is checked by the caller against its digest.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::digest::Digest;
use crate::layout::model::{self, Descriptor, Document};
use crate::layout::{
    blob_path, cosign_tags, names_an_artifact_of_an_image, open_regular, referrers_tag_of, selects,
    Limits, OpenError,
};

use super::{ExportError, Mismatch, SourceError, Usage};

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
        Err(Usage::NotASource {
            given: s.to_owned(),
        }
        .into())
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
    /// cosign's tag-named artifacts of `subject` the source holds (`sha256-<hex>.sig`, `.att`,
    /// `.sbom`): each tag with the descriptor it names.
    fn cosign_tagged(
        &mut self,
        _subject: &Descriptor,
    ) -> Result<Vec<(String, Descriptor)>, ExportError> {
        Ok(Vec::new())
    }
    /// A handle that streams blobs from several threads at once (`export --jobs`), when the source
    /// has one; `None` makes the export fetch this source's blobs one at a time.
    fn shared(&self) -> Option<Arc<dyn SharedBlobs>> {
        None
    }
}

/// Blobs of a source, fetched from several threads at once: [`Fetch::blob`] behind `&self`.
pub trait SharedBlobs: Send + Sync {
    /// Streams a blob into `out` (unchecked; the caller hashes while writing).
    fn blob(&self, desc: &Descriptor, out: &mut dyn Write) -> Result<u64, ExportError>;
}

/// The blobs of a local layout, for [`Fetch::shared`].
struct LayoutBlobs {
    root: PathBuf,
}

impl SharedBlobs for LayoutBlobs {
    fn blob(&self, desc: &Descriptor, out: &mut dyn Write) -> Result<u64, ExportError> {
        copy_blob(&self.root, desc, out)
    }
}

/// A local OCI layout directory.
pub struct LayoutFetch {
    root: PathBuf,
    selector: Option<String>,
    name: String,
    entries: Vec<Descriptor>,
    limits: Limits,
    /// What [`Fetch::referrers`] learnt of each candidate document, by digest: its subject's
    /// digest and its artifact type (`None`: not a document, or no subject). Each is read once,
    /// however many subjects ask (else N referrers, each a subject in turn, read N^2 documents).
    subjects: std::collections::HashMap<String, Option<(String, Option<String>)>>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| {
        ExportError::Source(SourceError::Read {
            path: path.to_path_buf(),
            source,
        })
    }
}

impl LayoutFetch {
    /// Opens a layout.
    pub fn open(root: &Path, selector: Option<String>) -> Result<Self, ExportError> {
        let limits = Limits::default();
        let bytes = read_capped(
            root,
            Path::new(crate::layout::INDEX_JSON),
            limits.max_manifest_bytes,
        )?;
        let doc = Document::parse(&bytes).map_err(|e| SourceError::Read {
            path: root.join(crate::layout::INDEX_JSON),
            source: io::Error::new(io::ErrorKind::InvalidData, e),
        })?;
        Ok(LayoutFetch {
            root: root.to_path_buf(),
            name: String::new(),
            selector,
            entries: doc.manifests.unwrap_or_default(),
            limits,
            subjects: std::collections::HashMap::new(),
        })
    }

    /// The blob's path relative to the layout root.
    fn path_of(desc: &Descriptor) -> Result<PathBuf, ExportError> {
        let d = Digest::parse(&desc.digest).map_err(SourceError::Digest)?;
        Ok(blob_path(&d))
    }

    /// The document a descriptor names, when it is one; `None` when it is absent, too large or not
    /// a document. A link or special file in its place is an error, never skipped.
    fn doc(&self, desc: &Descriptor) -> Result<Option<Document>, ExportError> {
        let Ok(rel) = Self::path_of(desc) else {
            return Ok(None);
        };
        let (f, len) = match open_regular(&self.root, &rel) {
            Ok(x) => x,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(open_err(e)),
        };
        let path = self.root.join(&rel);
        Ok(read_opened(f, len, self.limits.max_manifest_bytes, &path)
            .ok()
            .and_then(|bytes| Document::parse(&bytes).ok()))
    }

    /// Opens a blob and checks its size against its descriptor before a byte is read.
    fn open_blob(&self, desc: &Descriptor) -> Result<(File, PathBuf), ExportError> {
        open_blob(&self.root, desc)
    }
}

/// Opens blob `desc` of the layout at `root` and checks its size against its descriptor before a
/// byte is read.
fn open_blob(root: &Path, desc: &Descriptor) -> Result<(File, PathBuf), ExportError> {
    {
        let rel = LayoutFetch::path_of(desc)?;
        let path = root.join(&rel);
        let (f, len) = open_regular(root, &rel).map_err(open_err)?;
        if len != desc.size {
            return Err(ExportError::Mismatch {
                digest: desc.digest.clone(),
                problem: Mismatch::FileSize {
                    path,
                    actual: len,
                    expected: desc.size,
                },
            });
        }
        Ok((f, path))
    }
}

fn open_err(e: OpenError) -> ExportError {
    ExportError::Source(SourceError::Open(e))
}

/// Reads `root/rel`, a regular file of the layout, refusing it by its size before reading when it
/// is over `cap`, and reading at most `cap + 1` bytes in any case (it may grow meanwhile).
fn read_capped(root: &Path, rel: &Path, cap: u64) -> Result<Vec<u8>, ExportError> {
    let (f, len) = open_regular(root, rel).map_err(open_err)?;
    read_opened(f, len, cap, &root.join(rel))
}

fn read_opened(f: File, len: u64, cap: u64, path: &Path) -> Result<Vec<u8>, ExportError> {
    let too_large = || {
        ExportError::Source(SourceError::TooLarge {
            path: path.to_path_buf(),
            cap,
        })
    };
    if len > cap {
        return Err(too_large());
    }
    crate::layout::read_capped(f, cap)
        .map_err(io_err(path))?
        .ok_or_else(too_large)
}

/// Streams blob `desc` of the layout at `root` into `out`: at most one byte past its size.
fn copy_blob(root: &Path, desc: &Descriptor, out: &mut dyn Write) -> Result<u64, ExportError> {
    let (f, path) = open_blob(root, desc)?;
    let n = copy_bounded(&mut &f, desc.size, out).map_err(io_err(&path))?;
    if n > desc.size {
        return Err(ExportError::Mismatch {
            digest: desc.digest.clone(),
            problem: Mismatch::Grew {
                path,
                expected: desc.size,
            },
        });
    }
    Ok(n)
}

/// Copies at most `size + 1` bytes of `r` into `out`: one byte past the descriptor's size is
/// enough to know the content is wrong, however large the file has become.
fn copy_bounded(r: &mut dyn Read, size: u64, out: &mut dyn Write) -> io::Result<u64> {
    crate::fsutil::copy_in_steps(&mut r.take(size.saturating_add(1)), out, || Ok(()))
}

impl Fetch for LayoutFetch {
    fn reference(&self) -> String {
        self.name.clone()
    }

    fn resolve(&mut self) -> Result<(Descriptor, Vec<u8>), ExportError> {
        let mut images: Vec<&Descriptor> = Vec::new();
        for e in &self.entries {
            if names_an_artifact_of_an_image(e)
                || e.artifact_type.as_deref() == Some(model::AIRLOCK_TRUST)
            {
                continue;
            }
            let is_referrer = self.doc(e)?.is_some_and(|d| d.subject.is_some());
            if !is_referrer {
                images.push(e);
            }
        }
        let found: Vec<&Descriptor> = match &self.selector {
            None => images,
            Some(sel) => images.into_iter().filter(|e| selects(sel, e)).collect(),
        };
        let desc = match found.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(SourceError::NoImage {
                    root: self.root.clone(),
                    selector: self.selector.clone(),
                }
                .into())
            }
            _ => {
                return Err(SourceError::SeveralImages {
                    root: self.root.clone(),
                }
                .into())
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
        let (f, path) = self.open_blob(desc)?;
        let cap = self.limits.max_manifest_bytes;
        if desc.size > cap {
            return Err(SourceError::TooLarge { path, cap }.into());
        }
        let mut buf = Vec::new();
        copy_bounded(&mut &f, desc.size, &mut buf).map_err(io_err(&path))?;
        Ok(buf)
    }

    fn blob(&mut self, desc: &Descriptor, out: &mut dyn Write) -> Result<u64, ExportError> {
        copy_blob(&self.root, desc, out)
    }

    fn shared(&self) -> Option<Arc<dyn SharedBlobs>> {
        Some(Arc::new(LayoutBlobs {
            root: self.root.clone(),
        }))
    }

    fn cosign_tagged(
        &mut self,
        subject: &Descriptor,
    ) -> Result<Vec<(String, Descriptor)>, ExportError> {
        let Ok(d) = Digest::parse(&subject.digest) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for tag in cosign_tags(&d) {
            if let Some(e) = self
                .entries
                .iter()
                .find(|e| e.annotations.get(model::REF_NAME) == Some(&tag))
            {
                let mut e = e.clone();
                e.annotations.clear();
                out.push((tag, e));
            }
        }
        Ok(out)
    }

    fn referrers(&mut self, subject: &Descriptor) -> Result<Vec<Descriptor>, ExportError> {
        let mut out: Vec<Descriptor> = Vec::new();
        let tag = referrers_tag_of(&subject.digest);
        let mut candidates: Vec<Descriptor> = self.entries.clone();
        for e in self
            .entries
            .iter()
            .filter(|e| tag.is_some() && e.annotations.get(model::REF_NAME) == tag.as_ref())
        {
            if let Some(doc) = self.doc(e)? {
                candidates.extend(doc.manifests.unwrap_or_default());
            }
        }
        for c in candidates {
            if out.iter().any(|o| o.digest == c.digest) {
                continue;
            }
            let known = match self.subjects.get(&c.digest) {
                Some(k) => k.clone(),
                None => {
                    let k = self.doc(&c)?.and_then(|doc| {
                        let t = doc.effective_artifact_type().map(str::to_owned);
                        doc.subject.map(|s| (s.digest, t))
                    });
                    self.subjects.insert(c.digest.clone(), k.clone());
                    k
                }
            };
            if let Some((of, artifact_type)) = known {
                if of == subject.digest {
                    let mut c = c.clone();
                    if c.artifact_type.is_none() {
                        c.artifact_type = artifact_type;
                    }
                    out.push(c);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that never ends and counts what it hands out.
    struct Endless(u64);
    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            buf.fill(0);
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
    }

    #[test]
    fn a_blob_is_read_at_most_one_byte_past_its_descriptor() {
        let mut r = Endless(0);
        let mut out = Vec::new();
        assert_eq!(copy_bounded(&mut r, 5000, &mut out).unwrap(), 5001);
        assert_eq!(out.len(), 5001);
        // `take` never asks the inner reader for more than is left.
        assert_eq!(r.0, 5001);
    }

    #[test]
    fn a_layout_blob_of_the_wrong_size_is_refused_before_reading() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        fs_layout(root);
        let d = Digest::sha256(b"abc");
        std::fs::write(root.join(blob_path(&d)), b"abcd").unwrap();
        let mut f = LayoutFetch::open(root, None).unwrap();
        let desc: Descriptor = serde_json::from_value(serde_json::json!({
            "mediaType": "application/octet-stream", "digest": d.to_string(), "size": 3
        }))
        .unwrap();
        let mut out = Vec::new();
        let e = f.blob(&desc, &mut out).unwrap_err();
        assert!(matches!(e, ExportError::Mismatch { .. }), "{e}");
        assert!(
            e.to_string().contains("is 4 bytes, its descriptor says 3"),
            "{e}"
        );
        assert!(out.is_empty());
    }

    fn fs_layout(root: &Path) {
        std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
        std::fs::write(
            root.join("index.json"),
            br#"{"schemaVersion":2,"manifests":[]}"#,
        )
        .unwrap();
    }
}
