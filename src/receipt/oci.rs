//! A receipt as OCI artifacts, attached to the image it is about (image-spec 1.1 "artifacts"
//! guidance: `artifactType` set, the empty JSON config, the content as layers, `subject` = the
//! image):
//!
//! * the receipt manifest: `artifactType` `application/vnd.in-toto+json`, config
//!   `application/vnd.oci.empty.v1+json` (`{}`, inlined as `e30=`), one layer (the statement, media
//!   type `application/vnd.in-toto+json`, titled for `oras pull`), `subject` the image, created =
//!   `timeVerified`;
//! * its Notary signature: an envelope whose payload's `targetArtifact` is the receipt manifest's
//!   descriptor, stored in a signature manifest built by `airlock sign`'s own code
//!   ([`crate::sign::signature_manifest`]) whose `subject` is the receipt manifest, so that
//!   `notation verify REPO@RECEIPT_MANIFEST` and `oras discover` find it as they find any
//!   signature.
//!
//! Nothing is written or pushed here: the bytes are built, and the caller stores them.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::digest::Digest;
use crate::layout::model;
use crate::notary::sign::TargetDescriptor;
use crate::sign::{sign_descriptor, SignatureManifest, EMPTY_JSON};

use super::{SigningMaterial, MEDIA_TYPE};

/// The statement layer's `org.opencontainers.image.title` (the file name `oras pull` writes).
pub const STATEMENT_TITLE: &str = "receipt.intoto.json";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DescOut<'a> {
    media_type: &'a str,
    digest: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<&'a str, &'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
}

/// The receipt manifest, in the field order of Go's `ocispec.Manifest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ManifestOut<'a> {
    schema_version: u32,
    media_type: &'a str,
    artifact_type: &'a str,
    config: DescOut<'a>,
    layers: Vec<DescOut<'a>>,
    subject: DescOut<'a>,
    annotations: BTreeMap<&'a str, &'a str>,
}

fn len(b: &[u8]) -> u64 {
    u64::try_from(b.len()).unwrap_or(u64::MAX)
}

/// Everything attached to one image for one receipt.
#[derive(Debug, Clone)]
pub struct ReceiptArtifacts {
    /// The statement blob.
    pub statement: Vec<u8>,
    /// The receipt manifest's bytes.
    pub manifest: Vec<u8>,
    /// Its descriptor (OCI manifest media type, digest, size).
    pub manifest_descriptor: TargetDescriptor,
    /// The envelope over the receipt manifest.
    pub envelope: Vec<u8>,
    /// Its format.
    pub format: crate::notary::envelope::EnvelopeFormat,
    /// The signature manifest (subject: the receipt manifest).
    pub signature: SignatureManifest,
}

impl ReceiptArtifacts {
    /// The signature manifest's descriptor.
    pub fn signature_descriptor(&self) -> TargetDescriptor {
        TargetDescriptor {
            media_type: model::OCI_MANIFEST.to_owned(),
            digest: self.signature.digest.clone(),
            size: len(&self.signature.bytes),
        }
    }
}

/// The receipt manifest of `statement` about `subject`, created at `created` (RFC 3339).
pub fn receipt_manifest(
    statement: &[u8],
    subject: &TargetDescriptor,
    created: &str,
) -> Result<Vec<u8>, crate::sign::Error> {
    let empty = Digest::sha256(b"{}");
    let m = ManifestOut {
        schema_version: 2,
        media_type: model::OCI_MANIFEST,
        artifact_type: MEDIA_TYPE,
        config: DescOut {
            media_type: EMPTY_JSON,
            digest: empty.to_string(),
            size: 2,
            annotations: None,
            data: Some("e30="),
        },
        layers: vec![DescOut {
            media_type: MEDIA_TYPE,
            digest: Digest::sha256(statement).to_string(),
            size: len(statement),
            annotations: Some(BTreeMap::from([(
                "org.opencontainers.image.title",
                STATEMENT_TITLE,
            )])),
            data: None,
        }],
        subject: DescOut {
            media_type: &subject.media_type,
            digest: subject.digest.to_string(),
            size: subject.size,
            annotations: None,
            data: None,
        },
        annotations: BTreeMap::from([("org.opencontainers.image.created", created)]),
    };
    serde_json::to_vec(&m).map_err(|e| crate::sign::Error::Malformed {
        path: "receipt manifest".into(),
        reason: e.to_string(),
    })
}

/// Builds the receipt manifest about `subject` and signs it (the envelope is checked with the
/// verifier's code before it is returned), then the signature manifest over it. `signing_time`
/// is the verification time (Unix seconds), `created` its RFC 3339 text.
pub fn artifacts(
    statement: Vec<u8>,
    subject: &TargetDescriptor,
    m: &SigningMaterial,
    signing_time: i64,
    created: &str,
) -> Result<ReceiptArtifacts, crate::sign::Error> {
    let manifest = receipt_manifest(&statement, subject, created)?;
    let target = TargetDescriptor {
        media_type: model::OCI_MANIFEST.to_owned(),
        digest: Digest::sha256(&manifest),
        size: len(&manifest),
    };
    let (envelope, signature) = sign_descriptor(&target, m, signing_time)?;
    Ok(ReceiptArtifacts {
        statement,
        manifest,
        manifest_descriptor: target,
        envelope,
        format: m.format,
        signature,
    })
}

/// What a receipt manifest says, once checked against its statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestInfo {
    /// sha256 of the manifest.
    pub digest: String,
    /// Its size.
    pub size: u64,
    /// Its `subject` digest (the image it is attached to).
    pub subject: Option<String>,
}

/// Checks that `manifest` is a receipt manifest whose one layer is `statement` (media type,
/// digest, size).
pub fn check_manifest(manifest: &[u8], statement: &[u8]) -> Result<ManifestInfo, String> {
    let v: Value =
        serde_json::from_slice(manifest).map_err(|e| format!("the manifest is not JSON: {e}"))?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if s(&v, "mediaType").as_deref() != Some(model::OCI_MANIFEST) {
        return Err(format!("mediaType is not {}", model::OCI_MANIFEST));
    }
    if s(&v, "artifactType").as_deref() != Some(MEDIA_TYPE) {
        return Err(format!("artifactType is not {MEDIA_TYPE}"));
    }
    let layers = v
        .get("layers")
        .and_then(Value::as_array)
        .ok_or("the manifest has no layers")?;
    let [layer] = layers.as_slice() else {
        return Err(format!("{} layers, not one", layers.len()));
    };
    let want = Digest::sha256(statement).to_string();
    if s(layer, "mediaType").as_deref() != Some(MEDIA_TYPE)
        || s(layer, "digest").as_deref() != Some(want.as_str())
        || layer.get("size").and_then(Value::as_u64) != Some(len(statement))
    {
        return Err(format!(
            "its layer is not this statement ({MEDIA_TYPE} {want} {})",
            len(statement)
        ));
    }
    Ok(ManifestInfo {
        digest: Digest::sha256(manifest).to_string(),
        size: len(manifest),
        subject: v.get("subject").and_then(|x| s(x, "digest")),
    })
}
