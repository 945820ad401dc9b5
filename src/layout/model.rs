//! Lenient serde views of the image-spec JSON documents.
//!
//! Digests are kept as strings here and checked one descriptor at a time by the verifier, so that
//! one bad descriptor is reported with its own reason instead of hiding the whole document (which is
//! what a strictly typed `oci_spec::image::Descriptor` would do). Raw bytes are always kept beside
//! these views: a digest is never computed over a re-serialised document.

use std::collections::BTreeMap;

use serde::Deserialize;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest v2 schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_INDEX: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Withdrawn OCI artifact manifest (image-spec 1.1 release candidates).
pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";
/// Notary Project signature artifact type.
pub const NOTARY_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
/// Artifact type of the trust artifact airlock bundles carry.
pub const AIRLOCK_TRUST: &str = "application/vnd.airlock.trust.v1+json";
/// Annotation on an image's `index.json` entry listing the child manifests `--platform` left out
/// (comma-separated digests), so `verify` reports them as excluded rather than missing.
pub const EXCLUDED: &str = "io.airlock.export.excluded";
/// Annotation naming an image in a layout.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Annotation containerd uses for the full image name.
pub const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// What kind of document a media type denotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An image (or artifact) manifest.
    Manifest,
    /// An index or manifest list.
    Index,
    /// Anything else: config, layer, envelope.
    Blob,
}

/// The kind of document a media type names.
pub fn kind_of(media_type: &str) -> Kind {
    match media_type {
        OCI_MANIFEST | DOCKER_MANIFEST | OCI_ARTIFACT_MANIFEST => Kind::Manifest,
        OCI_INDEX | DOCKER_INDEX => Kind::Index,
        _ => Kind::Blob,
    }
}

/// True for media types whose content is JSON (`+json` suffix or `application/json`).
pub fn is_json(media_type: &str) -> bool {
    media_type.ends_with("+json") || media_type == "application/json"
}

/// A platform as it appears in an index.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Platform {
    /// Operating system.
    #[serde(default)]
    pub os: String,
    /// CPU architecture.
    #[serde(default)]
    pub architecture: String,
    /// CPU variant.
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// `os/arch[/variant]`.
    pub fn render(&self) -> String {
        match &self.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{}", self.os, self.architecture, v),
            _ => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// A content descriptor.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    #[serde(default)]
    pub media_type: Option<String>,
    /// Digest, unchecked.
    pub digest: String,
    /// Declared size in bytes.
    pub size: u64,
    /// Artifact type, for manifests of artifacts.
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Platform, in an index.
    #[serde(default)]
    pub platform: Option<Platform>,
    /// Where non-distributable ("foreign") content can be fetched from.
    #[serde(default)]
    pub urls: Vec<String>,
}

impl Descriptor {
    /// The media type, or the empty string.
    pub fn media_type(&self) -> &str {
        self.media_type.as_deref().unwrap_or("")
    }

    /// True for a non-distributable layer that names download URLs instead of being carried
    /// (Windows base layers): its absence from a bundle is expected.
    pub fn is_foreign(&self) -> bool {
        !self.urls.is_empty()
            && (self.media_type().contains("nondistributable")
                || self.media_type().contains(".foreign."))
    }

    /// The reference name annotations carry, preferring the full `io.containerd.image.name`.
    pub fn reference(&self) -> Option<&str> {
        self.annotations
            .get(CONTAINERD_NAME)
            .or_else(|| self.annotations.get(REF_NAME))
            .map(String::as_str)
    }
}

/// A manifest, an index, or an artifact manifest: one view with every list optional.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    /// Must be 2.
    #[serde(default)]
    pub schema_version: Option<i64>,
    /// The document's own media type, when it states one.
    #[serde(default)]
    pub media_type: Option<String>,
    /// Artifact type.
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// Config, for an image manifest.
    #[serde(default)]
    pub config: Option<Descriptor>,
    /// Layers, for an image manifest.
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
    /// Blobs, for the withdrawn artifact manifest.
    #[serde(default)]
    pub blobs: Option<Vec<Descriptor>>,
    /// Manifests, for an index.
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default)]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

impl Document {
    /// Parses a document.
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The kind this document has by its shape, when its media type does not say.
    pub fn shape(&self) -> Kind {
        if self.manifests.is_some() {
            Kind::Index
        } else if self.config.is_some() || self.layers.is_some() || self.blobs.is_some() {
            Kind::Manifest
        } else {
            Kind::Blob
        }
    }

    /// The artifact type as notation reads it: `artifactType`, or else the config media type.
    pub fn effective_artifact_type(&self) -> Option<&str> {
        self.artifact_type
            .as_deref()
            .or_else(|| self.config.as_ref().and_then(|c| c.media_type.as_deref()))
    }

    /// The type of a cosign tag-named artifact (`sha256-<hex>.sig`, `.att`, `.sbom`), as export
    /// and the lock read it: `artifactType`, or else its first layer's media type (cosign's
    /// config is the generic one).
    pub fn cosign_type(&self) -> Option<&str> {
        self.artifact_type
            .as_deref()
            .or_else(|| self.layers.iter().flatten().next().map(|l| l.media_type()))
    }

    /// Every child descriptor: config, layers, blobs, manifests (not the subject).
    pub fn children(&self) -> impl Iterator<Item = &Descriptor> {
        self.blob_children().chain(self.manifests.iter().flatten())
    }

    /// The blobs it names that are not manifests: config, layers, blobs.
    pub fn blob_children(&self) -> impl Iterator<Item = &Descriptor> {
        self.config
            .iter()
            .chain(self.layers.iter().flatten())
            .chain(self.blobs.iter().flatten())
    }
}

/// The `oci-layout` file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciLayoutFile {
    /// Must be `1.0.0`.
    pub image_layout_version: String,
}

/// The parts of an image config airlock reads: `os`, `architecture`, `variant`, the same fields
/// (and the same serde view) as an index's [`Platform`].
pub type ConfigPlatform = Platform;

/// The platform an image config states, rendered `os/arch[/variant]`; `None` when it is not a
/// config or states no `os`.
pub fn config_platform(config: &[u8]) -> Option<String> {
    serde_json::from_slice::<ConfigPlatform>(config)
        .ok()
        .filter(|p| !p.os.is_empty())
        .map(|p| p.render())
}
