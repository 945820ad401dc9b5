//! Lenient serde views of the image-spec JSON documents.
//!
//! Digests are kept as strings here and checked one descriptor at a time by the verifier, so that
//! one bad descriptor is reported with its own reason instead of hiding the whole document (which is
//! what a strictly typed `oci_spec::image::Descriptor` would do). Raw bytes are always kept beside
//! these views: a digest is never computed over a re-serialised document.

use crate::gojson::{DESCRIPTOR_FIELDS, PLATFORM_FIELDS};
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
    /// Operating system version (Windows builds: what a Windows host chooses an entry by).
    #[serde(default, rename = "os.version")]
    pub os_version: Option<String>,
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
    /// Parses a document: a JSON object whose structure (the document, its descriptors, their
    /// platforms) holds no key that Go's JSON decoders would read as another field than airlock
    /// does ([`go_confusable_key`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let doc = serde_json::from_slice(bytes)?;
        let value: serde_json::Value = serde_json::from_slice(bytes)?;
        match go_confusable_key(&value) {
            None => Ok(doc),
            Some(why) => Err(<serde_json::Error as serde::de::Error>::custom(why)),
        }
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

/// The fields of an image-spec document (manifest, index, `index.json`, Docker's forms).
const DOCUMENT_FIELDS: &[&str] = &[
    "schemaVersion",
    "mediaType",
    "artifactType",
    "config",
    "layers",
    "blobs",
    "manifests",
    "subject",
    "annotations",
];

/// Why a document's JSON would be read differently by Go's `encoding/json` (the registries,
/// containerd, skopeo, notation) than by airlock, if it would: a shape that is not an object
/// where the image spec has one, or a key that is not a field's exact name but that Go matches to
/// that field. Go matches keys to fields ignoring case (Unicode simple folding: `"Digest"`,
/// `"DIGEST"`, `"dige\u{17f}t"` are all `digest`) and the last match wins, where airlock (serde)
/// takes the exact name and ignores the rest. A carrier could then have airlock judge one digest
/// (or name, or platform) while every other tool reads another from the same bytes. Checked in
/// the document, its descriptors and their platforms: a key there that differs from a field only
/// in ASCII case, or that is not ASCII at all (no image-spec field is), is refused. Annotations
/// are maps with exact keys in Go too, and are not checked.
pub fn go_confusable_key(doc: &serde_json::Value) -> Option<String> {
    let top = match doc.as_object() {
        Some(o) => o,
        None => return Some("the document is not a JSON object".into()),
    };
    if let Some(why) = confusable_in(top, DOCUMENT_FIELDS, "the document") {
        return Some(why);
    }
    for key in ["config", "subject"] {
        if let Some(d) = top.get(key).filter(|d| !d.is_null()) {
            if let Some(why) = confusable_descriptor(d, key) {
                return Some(why);
            }
        }
    }
    for key in ["layers", "blobs", "manifests"] {
        if let Some(list) = top.get(key).and_then(|v| v.as_array()) {
            for (i, d) in list.iter().enumerate() {
                if let Some(why) = confusable_descriptor(d, &format!("{key}[{i}]")) {
                    return Some(why);
                }
            }
        }
    }
    None
}

fn confusable_descriptor(d: &serde_json::Value, at: &str) -> Option<String> {
    let Some(o) = d.as_object() else {
        return Some(format!("{at} is not a JSON object"));
    };
    if let Some(why) = confusable_in(o, DESCRIPTOR_FIELDS, at) {
        return Some(why);
    }
    match o.get("platform") {
        Some(serde_json::Value::Object(p)) => {
            confusable_in(p, PLATFORM_FIELDS, &format!("{at}.platform"))
        }
        Some(serde_json::Value::Null) | None => None,
        Some(_) => Some(format!("{at}.platform is not a JSON object")),
    }
}

/// [`crate::gojson::confusable_in`], and no key that is not ASCII (no image-spec field is).
fn confusable_in(
    o: &serde_json::Map<String, serde_json::Value>,
    fields: &[&str],
    at: &str,
) -> Option<String> {
    if let Some(key) = o.keys().find(|k| !k.is_ascii()) {
        return Some(format!(
            "{at} has the key {key:?}: not ASCII, and Go's JSON decoders may read it as a field of the image spec (they match keys ignoring case, Unicode-wide)"
        ));
    }
    crate::gojson::confusable_in(o, fields, at)
}

/// The `oci-layout` file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciLayoutFile {
    /// Must be `1.0.0`.
    pub image_layout_version: String,
}

/// Whether `s` is a media type in RFC 6838's grammar, `type/subtype`, each a restricted name (a
/// letter or digit, then up to 126 of letters, digits and ``!#$&-^_.+``), without parameters:
/// what the image-spec requires of an `artifactType`. A carrier's free text (spaces, a hundred
/// columns of padding, a line that reads like a verdict) is no artifact type.
pub fn is_media_type(s: &str) -> bool {
    let name = |n: &str| {
        let mut chars = n.chars();
        n.len() <= 127
            && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    s.split_once('/')
        .is_some_and(|(t, sub)| name(t) && name(sub))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn index_with(entry: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [entry],
        }))
        .unwrap()
    }

    #[test]
    fn media_types_follow_rfc_6838() {
        for ok in [
            "application/vnd.cncf.notary.signature",
            "application/spdx+json",
            "application/vnd.in-toto+json",
            "text/plain",
        ] {
            assert!(is_media_type(ok), "{ok}");
        }
        for bad in [
            "",
            "application",
            "application/",
            "/json",
            "application/spdx json",
            "application/spdx+json; charset=utf-8",
            "application/x\nPASS",
            "application/.hidden",
            "application/a/b",
        ] {
            assert!(!is_media_type(bad), "{bad:?}");
        }
        assert!(!is_media_type(&format!("application/{}", "a".repeat(128))));
    }

    #[test]
    fn keys_go_reads_as_another_field_are_refused_and_exact_ones_pass() {
        let good = serde_json::json!({
            "mediaType": OCI_MANIFEST, "digest": D, "size": 2,
            "platform": {"os": "linux", "architecture": "amd64", "os.version": "1", "variant": "v8"},
            "annotations": {"Digest": "an annotation key is a map key, exact in Go too", "\u{17f}": "x"},
            "io.example.vendor": {"Digest": 1},
        });
        assert!(Document::parse(&index_with(good.clone())).is_ok());
        // Besides the field, or instead of it; ASCII case, or Unicode folding (long s, Kelvin).
        for (key, at) in [
            ("Digest", "manifests[0]"),
            ("SIZE", "manifests[0]"),
            ("MediaType", "manifests[0]"),
            ("Annotations", "manifests[0]"),
            ("dige\u{17f}t", "manifests[0]"),
            ("\u{212a}ey", "manifests[0]"),
        ] {
            let mut e = good.clone();
            e[key] = serde_json::json!(D);
            let err = Document::parse(&index_with(e)).unwrap_err().to_string();
            assert!(err.contains(at) && err.contains(key), "{key}: {err}");
        }
        let mut e = good.clone();
        e["platform"]["OS"] = serde_json::json!("windows");
        let err = Document::parse(&index_with(e)).unwrap_err().to_string();
        assert!(
            err.contains("manifests[0].platform") && err.contains("\"OS\""),
            "{err}"
        );
        // The document's own fields, and those of its config, layers and subject.
        let manifest = |extra: &str, at: &str| {
            let mut m = serde_json::json!({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D, "size": 2},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": D, "size": 2}],
                "subject": {"mediaType": OCI_MANIFEST, "digest": D, "size": 2},
            });
            if !extra.is_empty() {
                let target = match at {
                    "" => &mut m,
                    "layers" => &mut m["layers"][0],
                    other => &mut m[other],
                };
                target[extra] = serde_json::json!([]);
            }
            Document::parse(&serde_json::to_vec(&m).unwrap())
        };
        assert!(manifest("", "").is_ok());
        for (extra, at) in [
            ("Layers", ""),
            ("Manifests", ""),
            ("Subject", ""),
            ("Digest", "config"),
            ("Size", "layers"),
            ("URLS", "subject"),
        ] {
            assert!(manifest(extra, at).is_err(), "{extra} in {at:?}");
        }
        // Not an object where the spec has one (serde would read an array as a struct).
        assert!(Document::parse(b"[2, null, null]").is_err());
        assert!(Document::parse(&index_with(serde_json::json!([OCI_MANIFEST, D, 2]))).is_err());
        // A null subject is no subject, for Go and for airlock.
        assert!(Document::parse(br#"{"schemaVersion":2,"layers":[],"subject":null}"#).is_ok());
    }
}
