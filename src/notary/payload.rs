//! The signed payload, `application/vnd.cncf.notary.payload.v1+json`:
//!
//! ```json
//! { "targetArtifact": { "mediaType": "...", "digest": "sha256:...", "size": 16724,
//!                       "annotations": { "k": "v" } } }
//! ```
//!
//! Parse it only after the envelope's integrity was verified. [`Payload::matches`] is notation's
//! `content.Equal` (media type, digest and size all equal); [`Payload::check_user_metadata`] is
//! notation's `-m key=value` check (every pair present with an exactly equal value).
//!
//! JSON objects with duplicate keys are rejected (at the payload, descriptor and annotation
//! level), and so are keys Go's `encoding/json` would match to a field ignoring case and
//! descriptor fields of a type Go refuses ([`crate::gojson`]), so that two parsers can never
//! disagree on what was signed.

use crate::notary::reason::Validation;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, Error as _, MapAccess, Visitor};
use serde::Deserialize;

/// Errors from payload parsing and user-metadata checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The payload is not valid `application/vnd.cncf.notary.payload.v1+json`.
    #[error("malformed signature payload: {0}")]
    Malformed(String),
    /// The signed descriptor does not match the artifact being verified.
    #[error("content descriptor mismatch: signed {signed}, artifact {expected}")]
    DescriptorMismatch {
        /// The signed descriptor (`mediaType digest size`).
        signed: String,
        /// The artifact's descriptor.
        expected: String,
    },
    /// A required user-metadata key/value is not in the signed annotations.
    #[error(
        "unable to find specified metadata {key}={expected:?} in the signature (found {found:?})"
    )]
    UserMetadataMismatch {
        /// The key.
        key: String,
        /// The value required.
        expected: String,
        /// The signed value, if the key is present.
        found: Option<String>,
    },
}

impl PayloadError {
    /// Notary validation category: `integrity` (malformed payload, descriptor mismatch) or
    /// `user_metadata`.
    pub fn category(&self) -> Validation {
        match self {
            Self::Malformed(_) | Self::DescriptorMismatch { .. } => Validation::Integrity,
            Self::UserMetadataMismatch { .. } => Validation::UserMetadata,
        }
    }

    /// The stable string of [`Self::category`] (reports, usage errors, the corpus tests).
    pub fn code(&self) -> &'static str {
        self.category().as_str()
    }

    /// Stable snake_case identifier of the variant.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::DescriptorMismatch { .. } => "descriptor_mismatch",
            Self::UserMetadataMismatch { .. } => "user_metadata_mismatch",
        }
    }
}

/// A JSON object decoded in order, rejecting duplicate keys.
#[derive(Debug, Clone, PartialEq)]
pub struct UniqueMap<V>(pub Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = UniqueMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object without duplicate keys")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    if !seen.insert(k.clone()) {
                        return Err(A::Error::custom(format!("duplicate key {k:?}")));
                    }
                    out.push((k, v));
                }
                Ok(UniqueMap(out))
            }
        }
        d.deserialize_map(MapVisitor(PhantomData))
    }
}

fn unique_string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let m = Option::<UniqueMap<String>>::deserialize(d)?;
    Ok(m.map(|m| m.0.into_iter().collect()).unwrap_or_default())
}

/// The signed descriptor of the target artifact.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetArtifact {
    /// Media type of the artifact.
    pub media_type: String,
    /// Digest (`algorithm:hex`).
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Annotations (user metadata is placed here at signing).
    #[serde(default, deserialize_with = "unique_string_map")]
    pub annotations: BTreeMap<String, String>,
    /// Optional `artifactType` (notation never emits it).
    #[serde(default)]
    pub artifact_type: Option<String>,
}

impl TargetArtifact {
    /// notation's `content.Equal`: media type, digest and size all equal.
    pub fn matches(&self, media_type: &str, digest: &str, size: u64) -> bool {
        self.media_type == media_type && self.digest == digest && self.size == size
    }
}

/// The Notary signature payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// The signed target descriptor.
    pub target_artifact: TargetArtifact,
}

impl Payload {
    /// Parses payload bytes (strict JSON, no duplicate keys; unknown fields are ignored as in
    /// notation).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, PayloadError> {
        // serde's derive rejects duplicate known fields; annotations use `UniqueMap`.
        let payload =
            serde_json::from_slice(bytes).map_err(|e| PayloadError::Malformed(e.to_string()))?;
        // serde's derive also reads a struct from a JSON array (fields in order); notation's
        // `json.Unmarshal` into its `Payload` refuses one, and so does airlock.
        let shape: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| PayloadError::Malformed(e.to_string()))?;
        let (Some(top), Some(target)) = (
            shape.as_object(),
            shape.get("targetArtifact").filter(|t| t.is_object()),
        ) else {
            return Err(PayloadError::Malformed(
                "the payload and its targetArtifact must be JSON objects".into(),
            ));
        };
        // notation decodes the payload with Go's `encoding/json`, which matches keys ignoring
        // case (the last match wins) and types every descriptor field: a signed payload it would
        // read as another descriptor (`"TargetArtifact"`, `"Digest"` beside the exact keys) or
        // refuse (`"data"` not base64, `"platform"` a string) is refused here too (red team M,
        // M07), so that airlock and every Go tool downstream read one signed descriptor.
        if let Some(why) = crate::gojson::confusable_in(top, &["targetArtifact"], "the payload")
            .or_else(|| crate::gojson::descriptor_problem(target, "targetArtifact"))
        {
            return Err(PayloadError::Malformed(why));
        }
        Ok(payload)
    }

    /// `true` when the signed media type, digest and size all equal the given ones.
    pub fn matches(&self, media_type: &str, digest: &str, size: u64) -> bool {
        self.target_artifact.matches(media_type, digest, size)
    }

    /// Like [`Payload::matches`] but returns a [`PayloadError::DescriptorMismatch`].
    pub fn check_descriptor(
        &self,
        media_type: &str,
        digest: &str,
        size: u64,
    ) -> Result<(), PayloadError> {
        if self.matches(media_type, digest, size) {
            Ok(())
        } else {
            let t = &self.target_artifact;
            Err(PayloadError::DescriptorMismatch {
                signed: format!("{} {} {}", t.media_type, t.digest, t.size),
                expected: format!("{media_type} {digest} {size}"),
            })
        }
    }

    /// Blob form (notation `VerifyBlob`): digest and size must match; the media type only when
    /// the caller supplies one.
    pub fn matches_blob(&self, media_type: Option<&str>, digest: &str, size: u64) -> bool {
        let t = &self.target_artifact;
        t.digest == digest && t.size == size && media_type.is_none_or(|m| t.media_type == m)
    }

    /// notation `-m key=value`: every pair must be present in the signed annotations with an
    /// exactly equal value.
    pub fn check_user_metadata(&self, required: &[(String, String)]) -> Result<(), PayloadError> {
        for (key, expected) in required {
            let found = self.target_artifact.annotations.get(key);
            if found != Some(expected) {
                return Err(PayloadError::UserMetadataMismatch {
                    key: key.clone(),
                    expected: expected.clone(),
                    found: found.cloned(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333","size":16724,"annotations":{"io.wabbit-networks.buildId":"123"}}}"#;

    fn good() -> Payload {
        Payload::from_slice(GOOD.as_bytes()).unwrap()
    }

    #[test]
    fn parses_and_matches() {
        let p = good();
        let d = "sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333";
        assert!(p.matches("application/vnd.oci.image.manifest.v1+json", d, 16724));
        assert!(!p.matches("application/vnd.oci.image.manifest.v1+json", d, 16725));
        assert!(!p.matches("application/vnd.oci.image.index.v1+json", d, 16724));
        assert!(!p.matches(
            "application/vnd.oci.image.manifest.v1+json",
            "sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c334",
            16724
        ));
        assert!(p.matches_blob(None, d, 16724));
        assert!(!p.matches_blob(Some("application/octet-stream"), d, 16724));
        let err = p
            .check_descriptor("application/vnd.oci.image.manifest.v1+json", d, 1)
            .unwrap_err();
        assert_eq!(err.category(), crate::notary::reason::Validation::Integrity);
    }

    /// Red team M, M07: notation reads the payload with Go's `encoding/json` (keys matched
    /// ignoring case, the last match wins; `ocispec.Descriptor` typed). A payload it reads as
    /// another descriptor, or refuses, is refused.
    #[test]
    fn a_payload_go_reads_otherwise_is_malformed() {
        let other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        let cases = [
            GOOD.replacen("\"targetArtifact\"", "\"TargetArtifact\"", 1),
            format!(
                r#"{{"targetArtifact":{{"mediaType":"m/t","digest":"{other}","size":1}},"TargetArtifact":{{"mediaType":"m/t","digest":"{other}","size":2}}}}"#
            ),
            GOOD.replacen("\"size\"", &format!(r#""Digest":"{other}","size""#), 1),
            GOOD.replacen("\"size\"", r#""SIZE":1,"size""#, 1),
            GOOD.replacen("\"size\"", "\"\u{17f}ize\":1,\"size\"", 1),
            GOOD.replacen("\"size\"", r#""data":"!!!","size""#, 1),
            GOOD.replacen("\"size\"", r#""platform":"linux","size""#, 1),
            GOOD.replacen("\"size\"", r#""platform":{"OS":"linux"},"size""#, 1),
            GOOD.replacen("\"size\"", r#""urls":"https://x","size""#, 1),
        ];
        for bad in &cases {
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_ok(),
                "{bad}"
            );
            let e = Payload::from_slice(bad.as_bytes()).unwrap_err();
            assert_eq!(e.reason(), "malformed", "{bad}");
        }
        // The same fields, well typed, pass.
        let fine = GOOD.replacen(
            "\"size\"",
            r#""data":"aGk=","urls":["https://x"],"platform":{"os":"linux"},"size""#,
            1,
        );
        Payload::from_slice(fine.as_bytes()).unwrap();
    }

    #[test]
    fn user_metadata() {
        let p = good();
        p.check_user_metadata(&[]).unwrap();
        p.check_user_metadata(&[("io.wabbit-networks.buildId".into(), "123".into())])
            .unwrap();
        let e = p
            .check_user_metadata(&[("io.wabbit-networks.buildId".into(), "321".into())])
            .unwrap_err();
        assert_eq!(
            e.category(),
            crate::notary::reason::Validation::UserMetadata
        );
        assert_eq!(
            e,
            PayloadError::UserMetadataMismatch {
                key: "io.wabbit-networks.buildId".into(),
                expected: "321".into(),
                found: Some("123".into())
            }
        );
        let e = p
            .check_user_metadata(&[("missing".into(), "x".into())])
            .unwrap_err();
        assert!(matches!(
            e,
            PayloadError::UserMetadataMismatch { found: None, .. }
        ));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"targetArtifact":{"mediaType":"a","digest":"b"}}"#,
            r#"[["a","b",1]]"#,
            r#"{"targetArtifact":["a","b",1]}"#,
            r#"{"targetArtifact":{"mediaType":"a","digest":"b","size":-1}}"#,
            r#"{"targetArtifact":{"mediaType":"a","digest":"b","size":"1"}}"#,
            r#"{"targetArtifact":{"mediaType":"a","digest":"b","size":1,"annotations":{"k":1}}}"#,
            r#"{"targetArtifact":{"mediaType":"a","digest":"b","size":1,"annotations":{"k":"1","k":"2"}}}"#,
            r#"{"targetArtifact":{"mediaType":"a","mediaType":"c","digest":"b","size":1}}"#,
            r#"{"targetArtifact":{"mediaType":"a","digest":"b","size":1},"targetArtifact":{"mediaType":"a","digest":"b","size":2}}"#,
            r#"{"targetArtifact":{"mediaType":"a","digest":"b","size":1}} trailing"#,
        ] {
            let e = Payload::from_slice(bad.as_bytes()).unwrap_err();
            assert_eq!(
                e.category(),
                crate::notary::reason::Validation::Integrity,
                "{bad}"
            );
        }
    }

    #[test]
    fn ignores_unknown_fields_like_notation() {
        let p = Payload::from_slice(
            br#"{"targetArtifact":{"mediaType":"a","digest":"b","size":1,"platform":{}},"x":1}"#,
        )
        .unwrap();
        assert!(p.matches("a", "b", 1));
        assert!(p.target_artifact.annotations.is_empty());
    }
}
