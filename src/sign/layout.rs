//! The layout side of `airlock sign`: resolving a reference to the target's descriptor, and
//! writing the signature manifest, the referrers tag index and `index.json`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Error;
use crate::digest::Digest;
use crate::layout::model::{self, Descriptor, Document, Kind};
use crate::layout::{
    blob_name, blob_path, referrers_tag, selects, write_atomic, LayoutWriter, Limits, INDEX_JSON,
    LAYOUT_VERSION, OCI_LAYOUT,
};
use crate::notary::envelope::{self, EnvelopeError, EnvelopeFormat};
use crate::notary::sign::{thumbprints, SignError, TargetDescriptor};

/// The empty JSON config's media type (image-spec 1.1).
pub const EMPTY_JSON: &str = "application/vnd.oci.empty.v1+json";
/// `io.cncf.notary.x509chain.thumbprint#S256`.
pub const ANNOTATION_THUMBPRINT: &str = "io.cncf.notary.x509chain.thumbprint#S256";
/// `org.opencontainers.image.created`.
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// The empty JSON config, inlined as image-spec 1.1's `DescriptorEmptyJSON` does (`e30=`).
const EMPTY_JSON_DATA: &str = "e30=";

/// Reads `root/rel`, a file of the layout, at most `cap` bytes; opened only if it is a regular file
/// reached through no symbolic link (`layout::open_regular`, as verify's scan and export's `oci:`
/// source open a layout's files), so a FIFO or a link planted in the layout is refused, not read.
fn read_capped(root: &Path, rel: &Path, cap: u64) -> Result<Vec<u8>, Error> {
    let path = root.join(rel);
    let io = |source| Error::Io {
        path: path.clone(),
        source,
    };
    let (f, _) = crate::layout::open_regular(root, rel).map_err(|e| match e {
        crate::layout::OpenError::Io { path, source } => Error::Io { path, source },
        other => Error::NotALayout {
            path: root.to_path_buf(),
            reason: other.to_string(),
        },
    })?;
    crate::layout::read_capped(f, cap)
        .map_err(io)?
        .ok_or_else(|| Error::Malformed {
            path: path.display().to_string(),
            reason: format!("larger than {cap} bytes"),
        })
}

/// `index.json` or an index blob, kept as JSON values so that nothing it holds is lost when it is
/// rewritten.
#[derive(Deserialize)]
struct IndexDoc {
    #[serde(rename = "schemaVersion", default)]
    schema_version: Option<Value>,
    #[serde(rename = "mediaType", default)]
    media_type: Option<Value>,
    #[serde(default)]
    manifests: Vec<Value>,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

/// A descriptor airlock writes, in the order Go's `ocispec.Descriptor` marshals its fields.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct DescOut {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact_type: Option<String>,
}

impl DescOut {
    fn plain(media_type: &str, digest: &Digest, size: u64) -> Self {
        DescOut {
            media_type: media_type.to_owned(),
            digest: digest.to_string(),
            size,
            annotations: None,
            data: None,
            artifact_type: None,
        }
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum EntryOut<'a> {
    Kept(&'a Value),
    New(DescOut),
}

#[derive(Serialize)]
struct IndexOut<'a> {
    #[serde(rename = "schemaVersion", skip_serializing_if = "Option::is_none")]
    schema_version: Option<&'a Value>,
    #[serde(rename = "mediaType", skip_serializing_if = "Option::is_none")]
    media_type: Option<&'a Value>,
    manifests: Vec<EntryOut<'a>>,
    #[serde(flatten)]
    rest: &'a serde_json::Map<String, Value>,
}

/// The signature manifest, in the field order of Go's `ocispec.Manifest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestOut {
    schema_version: u32,
    media_type: &'static str,
    artifact_type: &'static str,
    config: DescOut,
    layers: Vec<DescOut>,
    subject: DescOut,
    annotations: BTreeMap<String, String>,
}

fn encode<T: Serialize>(what: &str, v: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(v).map_err(|e| Error::Malformed {
        path: what.to_owned(),
        reason: e.to_string(),
    })
}

/// An opened layout directory.
struct Layout<'a> {
    root: &'a Path,
    limits: Limits,
}

impl<'a> Layout<'a> {
    fn open(root: &'a Path) -> Result<Self, Error> {
        let limits = Limits::default();
        let not = |reason: String| Error::NotALayout {
            path: root.to_path_buf(),
            reason,
        };
        let oci_layout = root.join(OCI_LAYOUT);
        if !oci_layout.is_file() {
            return Err(not(format!("no {OCI_LAYOUT} file")));
        }
        let bytes = read_capped(root, Path::new(OCI_LAYOUT), limits.max_manifest_bytes)?;
        let v: model::OciLayoutFile =
            serde_json::from_slice(&bytes).map_err(|e| not(format!("{OCI_LAYOUT}: {e}")))?;
        if v.image_layout_version != LAYOUT_VERSION {
            return Err(not(format!(
                "{OCI_LAYOUT} version {:?}, expected {LAYOUT_VERSION}",
                v.image_layout_version
            )));
        }
        if !root.join(INDEX_JSON).is_file() {
            return Err(not(format!("no {INDEX_JSON}")));
        }
        Ok(Layout { root, limits })
    }

    /// `index.json`, as values (for rewriting) and as descriptors.
    fn index(&self) -> Result<(IndexDoc, Vec<Descriptor>), Error> {
        let bytes = read_capped(
            self.root,
            Path::new(INDEX_JSON),
            self.limits.max_manifest_bytes,
        )?;
        parse_index(INDEX_JSON, &bytes)
    }

    /// A blob of at most the manifest size limit, checked against its digest (and `size`).
    fn blob(&self, digest: &Digest, size: Option<u64>) -> Result<Vec<u8>, Error> {
        let bytes = read_capped(
            self.root,
            &blob_path(digest),
            self.limits.max_manifest_bytes,
        )?;
        let actual = Digest::of(digest.algorithm(), &bytes);
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        if &actual != digest {
            return Err(Error::Target {
                digest: digest.to_string(),
                reason: format!("{} hashes to {actual}", blob_name(digest)),
            });
        }
        if let Some(size) = size.filter(|s| *s != len) {
            return Err(Error::Target {
                digest: digest.to_string(),
                reason: format!("the descriptor says {size} bytes, the blob holds {len}"),
            });
        }
        Ok(bytes)
    }

    fn document(&self, desc: &Descriptor) -> Result<Document, Error> {
        let d = parse_digest(&desc.digest)?;
        let bytes = self.blob(&d, Some(desc.size))?;
        Document::parse(&bytes).map_err(|e| Error::Target {
            digest: desc.digest.clone(),
            reason: format!("not a JSON manifest or index: {e}"),
        })
    }
}

fn parse_index(what: &str, bytes: &[u8]) -> Result<(IndexDoc, Vec<Descriptor>), Error> {
    let bad = |reason: String| Error::Malformed {
        path: what.to_owned(),
        reason,
    };
    let doc: IndexDoc = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    let descs = doc
        .manifests
        .iter()
        .map(|v| Descriptor::deserialize(v).map_err(|e| bad(format!("descriptor {v}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((doc, descs))
}

/// The descriptors with distinct digests, first occurrence kept.
fn distinct(v: Vec<&Descriptor>) -> Vec<&Descriptor> {
    let mut seen = BTreeSet::new();
    v.into_iter()
        .filter(|d| seen.insert(d.digest.clone()))
        .collect()
}

fn parse_digest(s: &str) -> Result<Digest, Error> {
    Digest::parse(s).map_err(|e| Error::Target {
        digest: s.to_owned(),
        reason: e.to_string(),
    })
}

/// What a signature signs.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its descriptor (media type, digest, size), as `airlock verify` will see it.
    pub descriptor: TargetDescriptor,
    /// Its name in `index.json`, if it has one.
    pub name: Option<String>,
}

/// Resolves `reference` (a tag, full or its tag part, or a digest; `None`: the only image) to the
/// target's descriptor, and checks the target: present, matching its digest and size, a manifest or
/// an index.
///
/// A tag names an `index.json` entry by its `org.opencontainers.image.ref.name`. A digest names an
/// `index.json` entry or a manifest listed by an index (a platform manifest); the descriptor is the
/// one that lists it.
pub fn resolve(root: &Path, reference: Option<&str>) -> Result<Target, Error> {
    let l = Layout::open(root)?;
    let (_, entries) = l.index()?;
    // Images: index.json entries that are neither referrers (a subject) nor named after another
    // manifest (a referrers tag index, cosign's `sha256-<hex>.sig`, `.att`, `.sbom`).
    let images: Vec<&Descriptor> = entries
        .iter()
        .filter(|e| {
            matches!(model::kind_of(e.media_type()), Kind::Manifest | Kind::Index)
                && !crate::layout::names_an_artifact_of_an_image(e)
                && l.document(e).map_or(true, |d| d.subject.is_none())
        })
        .collect();
    let desc: Descriptor = match reference {
        None => match distinct(images).as_slice() {
            [one] => (*one).clone(),
            other => return Err(Error::NoDefault(other.len())),
        },
        Some(r) if r.starts_with("sha256:") || r.starts_with("sha512:") => {
            let d = parse_digest(r)?;
            find_digest(&l, &entries, &d)?.ok_or_else(|| Error::NotFound(r.to_owned()))?
        }
        Some(r) => {
            let hits = distinct(images.into_iter().filter(|e| selects(r, e)).collect());
            match hits.as_slice() {
                [] => return Err(Error::NotFound(r.to_owned())),
                [one] => (*one).clone(),
                many => {
                    return Err(Error::Ambiguous {
                        reference: r.to_owned(),
                        digests: many
                            .iter()
                            .map(|d| d.digest.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
                }
            }
        }
    };
    let digest = parse_digest(&desc.digest)?;
    if !matches!(
        model::kind_of(desc.media_type()),
        Kind::Manifest | Kind::Index
    ) {
        return Err(Error::Target {
            digest: desc.digest.clone(),
            reason: format!(
                "media type {:?} is not an image manifest or index",
                desc.media_type()
            ),
        });
    }
    let doc = l.document(&desc)?;
    if let Some(own) = doc.media_type.as_deref() {
        if own != desc.media_type() {
            return Err(Error::Target {
                digest: desc.digest.clone(),
                reason: format!(
                    "the descriptor says {}, the document says {own}",
                    desc.media_type()
                ),
            });
        }
    }
    Ok(Target {
        name: desc.reference().map(str::to_owned),
        descriptor: TargetDescriptor {
            media_type: desc.media_type().to_owned(),
            digest,
            size: desc.size,
        },
    })
}

/// The descriptor of `d`: an `index.json` entry, else a manifest listed by an index reachable
/// from `index.json` (breadth first, at most [`Limits::max_depth`] deep).
fn find_digest(
    l: &Layout<'_>,
    entries: &[Descriptor],
    d: &Digest,
) -> Result<Option<Descriptor>, Error> {
    let want = d.to_string();
    if let Some(e) = entries.iter().find(|e| e.digest == want) {
        return Ok(Some(e.clone()));
    }
    let mut queue: VecDeque<(Descriptor, usize)> = entries
        .iter()
        .filter(|e| model::kind_of(e.media_type()) == Kind::Index)
        .map(|e| (e.clone(), 0))
        .collect();
    let mut seen = BTreeSet::new();
    while let Some((index, depth)) = queue.pop_front() {
        if depth >= l.limits.max_depth || !seen.insert(index.digest.clone()) {
            continue;
        }
        let Ok(doc) = l.document(&index) else {
            continue;
        };
        for m in doc.manifests.iter().flatten() {
            if m.digest == want {
                return Ok(Some(m.clone()));
            }
            if model::kind_of(m.media_type()) == Kind::Index {
                queue.push_back((m.clone(), depth.saturating_add(1)));
            }
        }
    }
    Ok(None)
}

/// A signature to store.
#[derive(Debug, Clone, Copy)]
pub struct Signature<'a> {
    /// The envelope bytes.
    pub envelope: &'a [u8],
    /// Its format.
    pub format: EnvelopeFormat,
    /// The certificate chain it carries (DER, leaf first), for the thumbprint annotation.
    pub chain: &'a [Vec<u8>],
    /// Its signing time (Unix seconds), for `org.opencontainers.image.created`.
    pub signing_time: i64,
}

/// What [`attach`] wrote.
#[derive(Debug, Clone)]
pub struct Attached {
    /// The signature manifest.
    pub manifest: Digest,
    /// Its size.
    pub manifest_size: u64,
    /// The envelope blob.
    pub envelope: Digest,
    /// The referrers tag (`sha256-<hex>`).
    pub referrers_tag: String,
    /// The referrers index now under that tag.
    pub referrers_index: Digest,
    /// How many referrers that index lists.
    pub referrers: usize,
    /// SHA-256 thumbprints of the chain, leaf first.
    pub thumbprints: Vec<String>,
}

/// A signature manifest, as `airlock sign` stores it and `import --receipt-key` pushes it.
#[derive(Debug, Clone)]
pub struct SignatureManifest {
    /// Its bytes (compact JSON, Go's `ocispec.Manifest` field order).
    pub bytes: Vec<u8>,
    /// sha256 of the bytes.
    pub digest: Digest,
    /// Its annotations (thumbprints, created), repeated on its descriptor in `index.json` and in
    /// the referrers index.
    pub annotations: BTreeMap<String, String>,
    /// SHA-256 thumbprints of the chain, leaf first.
    pub thumbprints: Vec<String>,
    /// The envelope blob's digest (its one layer).
    pub envelope: Digest,
}

/// Builds the signature manifest of `sig` over `target`: artifactType
/// `application/vnd.cncf.notary.signature`, the empty JSON config, one layer (the envelope),
/// `subject` = `target`, and the thumbprint and created annotations. Writes nothing.
pub fn signature_manifest(
    target: &TargetDescriptor,
    sig: &Signature<'_>,
) -> Result<SignatureManifest, Error> {
    let len = |b: &[u8]| u64::try_from(b.len()).unwrap_or(u64::MAX);

    // The signature manifest.
    let created = envelope::format_rfc3339(sig.signing_time).ok_or_else(|| {
        Error::Sign(SignError::Encode(EnvelopeError::InvalidTime {
            header: ANNOTATION_CREATED.into(),
            reason: format!("{} is outside the RFC 3339 range", sig.signing_time),
        }))
    })?;
    let thumbprints = thumbprints(sig.chain);
    let annotations = BTreeMap::from([
        (
            ANNOTATION_THUMBPRINT.to_owned(),
            encode("thumbprints", &thumbprints)
                .map(|b| String::from_utf8_lossy(&b).into_owned())?,
        ),
        (ANNOTATION_CREATED.to_owned(), created),
    ]);
    let envelope_digest = Digest::sha256(sig.envelope);
    let empty = Digest::sha256(b"{}");
    let manifest = ManifestOut {
        schema_version: 2,
        media_type: model::OCI_MANIFEST,
        artifact_type: model::NOTARY_SIGNATURE,
        config: DescOut {
            data: Some(EMPTY_JSON_DATA),
            ..DescOut::plain(EMPTY_JSON, &empty, 2)
        },
        layers: vec![DescOut::plain(
            sig.format.media_type(),
            &envelope_digest,
            len(sig.envelope),
        )],
        subject: DescOut::plain(&target.media_type, &target.digest, target.size),
        annotations: annotations.clone(),
    };
    let manifest_bytes = encode("signature manifest", &manifest)?;
    let manifest_digest = Digest::sha256(&manifest_bytes);
    Ok(SignatureManifest {
        bytes: manifest_bytes,
        digest: manifest_digest,
        annotations,
        thumbprints,
        envelope: envelope_digest,
    })
}

/// Stores `sig` as a signature of `target` in the layout at `root`: blobs first, `index.json`
/// last. It does not verify the envelope: [`super::sign`] does that before calling it.
pub fn attach(
    root: &Path,
    target: &TargetDescriptor,
    sig: &Signature<'_>,
) -> Result<Attached, Error> {
    let l = Layout::open(root)?;
    let (index, entries) = l.index()?;
    let writer = LayoutWriter::create(root).map_err(|source| Error::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let put = |bytes: &[u8]| {
        writer.put_bytes(bytes).map_err(|source| Error::Io {
            path: root.join("blobs"),
            source,
        })
    };
    let len = |b: &[u8]| u64::try_from(b.len()).unwrap_or(u64::MAX);

    // The signature manifest.
    let SignatureManifest {
        bytes: manifest_bytes,
        digest: manifest_digest,
        annotations,
        thumbprints,
        envelope: envelope_digest,
    } = signature_manifest(target, sig)?;
    let sig_desc = DescOut {
        annotations: Some(annotations),
        artifact_type: Some(model::NOTARY_SIGNATURE.to_owned()),
        ..DescOut::plain(model::OCI_MANIFEST, &manifest_digest, len(&manifest_bytes))
    };

    // The referrers tag index: existing entries kept, this signature added.
    let tag = referrers_tag(&target.digest);
    let mut old_indexes: Vec<Digest> = Vec::new();
    let mut kept_docs: Vec<IndexDoc> = Vec::new();
    for e in entries
        .iter()
        .filter(|e| e.annotations.get(model::REF_NAME) == Some(&tag))
    {
        if model::kind_of(e.media_type()) != Kind::Index {
            return Err(Error::Malformed {
                path: INDEX_JSON.into(),
                reason: format!("the referrers tag {tag} names a {}", e.media_type()),
            });
        }
        let d = parse_digest(&e.digest)?;
        let bytes = l.blob(&d, Some(e.size))?;
        let (doc, _) = parse_index(&blob_name(&d), &bytes)?;
        kept_docs.push(doc);
        old_indexes.push(d);
    }
    let new_digest = manifest_digest.to_string();
    let mut seen: BTreeSet<String> = BTreeSet::from([new_digest.clone()]);
    let mut referrers: Vec<EntryOut<'_>> = Vec::new();
    for v in kept_docs.iter().flat_map(|d| &d.manifests) {
        let digest = v.get("digest").and_then(Value::as_str).unwrap_or_default();
        if seen.insert(digest.to_owned()) {
            referrers.push(EntryOut::Kept(v));
        }
    }
    referrers.push(EntryOut::New(sig_desc.clone()));
    let referrers_count = referrers.len();
    let two = Value::from(2);
    let index_type = Value::from(model::OCI_INDEX);
    let no_rest = serde_json::Map::new();
    let base = kept_docs.first();
    let tag_index = IndexOut {
        schema_version: Some(base.and_then(|b| b.schema_version.as_ref()).unwrap_or(&two)),
        media_type: Some(
            base.and_then(|b| b.media_type.as_ref())
                .unwrap_or(&index_type),
        ),
        manifests: referrers,
        rest: base.map_or(&no_rest, |b| &b.rest),
    };
    let tag_index_bytes = encode("referrers index", &tag_index)?;

    // index.json: the signature untagged, the referrers index under its tag.
    let mut listed: Vec<EntryOut<'_>> = index
        .manifests
        .iter()
        .zip(&entries)
        .filter(|(_, e)| e.annotations.get(model::REF_NAME) != Some(&tag) && e.digest != new_digest)
        .map(|(v, _)| EntryOut::Kept(v))
        .collect();
    listed.push(EntryOut::New(sig_desc));
    let tag_index_digest = Digest::sha256(&tag_index_bytes);
    listed.push(EntryOut::New(DescOut {
        annotations: Some(BTreeMap::from([(model::REF_NAME.to_owned(), tag.clone())])),
        ..DescOut::plain(model::OCI_INDEX, &tag_index_digest, len(&tag_index_bytes))
    }));
    let index_bytes = encode(
        INDEX_JSON,
        &IndexOut {
            schema_version: index.schema_version.as_ref().or(Some(&two)),
            media_type: index.media_type.as_ref(),
            manifests: listed,
            rest: &index.rest,
        },
    )?;

    // Write: blobs, then index.json.
    put(sig.envelope)?;
    put(b"{}")?;
    put(&manifest_bytes)?;
    put(&tag_index_bytes)?;
    let index_path = root.join(INDEX_JSON);
    write_atomic(&index_path, &index_bytes).map_err(|source| Error::Io {
        path: index_path.clone(),
        source,
    })?;

    // A superseded referrers index that nothing references any more goes.
    old_indexes.retain(|d| d != &tag_index_digest);
    if !old_indexes.is_empty() {
        let (_, now) = l.index()?;
        let referenced = referenced_digests(&l, &now);
        for d in old_indexes {
            if !referenced.contains(&d.to_string()) {
                let _ = fs::remove_file(root.join(blob_path(&d)));
            }
        }
    }

    Ok(Attached {
        manifest: manifest_digest,
        manifest_size: len(&manifest_bytes),
        envelope: envelope_digest,
        referrers_tag: tag,
        referrers_index: tag_index_digest,
        referrers: referrers_count,
        thumbprints,
    })
}

/// Every digest a descriptor reachable from `entries` names (manifests and indexes are read;
/// subjects count too). Unreadable documents contribute only their own digest.
fn referenced_digests(l: &Layout<'_>, entries: &[Descriptor]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut queue: VecDeque<(Descriptor, usize)> = entries.iter().map(|e| (e.clone(), 0)).collect();
    while let Some((desc, depth)) = queue.pop_front() {
        if !out.insert(desc.digest.clone()) || depth > l.limits.max_depth {
            continue;
        }
        if !matches!(
            model::kind_of(desc.media_type()),
            Kind::Manifest | Kind::Index
        ) {
            continue;
        }
        let Ok(doc) = l.document(&desc) else {
            continue;
        };
        for child in doc.children().chain(doc.subject.iter()) {
            queue.push_back((child.clone(), depth.saturating_add(1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sign reads a layout's files as verify and export do: a symbolic link is refused, not
    /// followed.
    #[test]
    fn a_symlinked_index_json_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("layout");
        crate::fixture::generate(&root, &crate::fixture::Spec::default()).unwrap();
        let index = root.join(INDEX_JSON);
        let moved = t.path().join("elsewhere.json");
        fs::rename(&index, &moved).unwrap();
        std::os::unix::fs::symlink(&moved, &index).unwrap();
        match resolve(&root, None) {
            Err(e @ Error::NotALayout { .. }) => {
                assert!(e.to_string().contains("symbolic link"), "{e}")
            }
            Err(e) => panic!("expected NotALayout, got {e}"),
            Ok(_) => panic!("a symlinked index.json was followed"),
        }
        // The same layout with its own index.json resolves.
        fs::remove_file(&index).unwrap();
        fs::rename(&moved, &index).unwrap();
        assert!(resolve(&root, None).is_ok());
    }
}
