//! The statement's shape, as a reader checks it: in-toto Statement v1 and SLSA Verification
//! Summary v1 field rules (the same sources as [`super::statement`]). Unrecognised fields are
//! ignored, as the in-toto parsing rules require; a JSON object with a duplicate key is refused
//! (two readers could otherwise see two different statements under one signature).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::digest::Digest;

use super::{DETAIL_KEY, PREDICATE_TYPE, STATEMENT_TYPE};

/// Why a statement is not a Statement v1 with a VSA v1 predicate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ShapeError {
    /// The JSON path of the offending field (`predicate.policy`, `subject[1].digest`).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> ShapeError {
    ShapeError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A subject: its name and digest (`alg:hex`, one per algorithm given).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Subject {
    /// `name` (`_` or absent when not meaningful).
    pub name: Option<String>,
    /// Every digest given, `alg:hex`.
    pub digests: Vec<String>,
}

/// What a checked statement says.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The subjects.
    pub subjects: Vec<Subject>,
    /// `verifier.id`.
    pub verifier_id: String,
    /// `verifier.version`.
    pub verifier_version: BTreeMap<String, String>,
    /// `timeVerified`.
    pub time_verified: Option<String>,
    /// `resourceUri`.
    pub resource_uri: String,
    /// `policy`.
    pub policy: Value,
    /// `inputAttestations`.
    pub input_attestations: Vec<Value>,
    /// `PASSED` or `FAILED`.
    pub verification_result: String,
    /// `verifiedLevels`.
    pub verified_levels: Vec<String>,
    /// airlock's detail ([`DETAIL_KEY`]), when present.
    pub detail: Option<Value>,
}

impl Summary {
    /// The trust anchor's mode in airlock's detail (`local`, `pinned`, `bundled-unpinned`).
    pub fn anchor_mode(&self) -> Option<&str> {
        self.detail
            .as_ref()?
            .get("trustAnchor")?
            .get("mode")?
            .as_str()
    }

    /// The bundle's `index.json` digest in airlock's detail (`bundleDigest`).
    pub fn bundle_digest(&self) -> Option<&str> {
        self.detail.as_ref()?.get("bundleDigest")?.as_str()
    }

    /// The bundle file's own digest in airlock's detail (`bundleFileDigest`, a tarball's).
    pub fn bundle_file_digest(&self) -> Option<&str> {
        self.detail.as_ref()?.get("bundleFileDigest")?.as_str()
    }

    /// The warnings in airlock's detail (`warnings`), each as `code: message`; empty when it has
    /// none (or is from a release that did not record them).
    pub fn warnings(&self) -> Vec<String> {
        let Some(list) = self
            .detail
            .as_ref()
            .and_then(|d| d.get("warnings"))
            .and_then(Value::as_array)
        else {
            return Vec::new();
        };
        list.iter()
            .map(|w| {
                let field = |k: &str| w.get(k).and_then(Value::as_str).unwrap_or("?");
                format!("{}: {}", field("code"), field("message"))
            })
            .collect()
    }

    /// The pin in airlock's detail, in pinned mode.
    pub fn anchor_pin(&self) -> Option<&str> {
        self.detail
            .as_ref()?
            .get("trustAnchor")?
            .get("pin")?
            .as_str()
    }

    /// True when a subject carries `digest` (`alg:hex`).
    pub fn has_subject(&self, digest: &str) -> bool {
        self.subjects
            .iter()
            .any(|s| s.digests.iter().any(|d| d == digest))
    }
}

/// JSON without duplicate keys, as a `serde_json::Value`.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON without duplicate object keys")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(Strict(x)) = seq.next_element()? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let Strict(v) = map.next_value()?;
            if m.insert(k.clone(), v).is_some() {
                return Err(de::Error::custom(format!("duplicate key {k:?}")));
            }
        }
        Ok(Value::Object(m))
    }
}

fn obj<'a>(v: &'a Value, field: &str) -> Result<&'a Map<String, Value>, ShapeError> {
    v.as_object()
        .ok_or_else(|| bad(field, "must be a JSON object"))
}

fn string<'a>(m: &'a Map<String, Value>, key: &str, at: &str) -> Result<&'a str, ShapeError> {
    match m.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(bad(join(at, key), "must be a non-empty string")),
        None => Err(bad(join(at, key), "is required")),
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

/// A ResourceDescriptor's digest map: algorithm -> lowercase hex. sha256/sha512 are checked
/// against the digest grammar; other algorithms (in-toto allows them) must be non-empty hex.
fn digests(v: &Value, field: &str) -> Result<Vec<String>, ShapeError> {
    let m = obj(v, field)?;
    if m.is_empty() {
        return Err(bad(field, "must name at least one digest"));
    }
    let mut out = Vec::new();
    for (alg, hex) in m {
        let hex = hex
            .as_str()
            .ok_or_else(|| bad(format!("{field}.{alg}"), "must be a string"))?;
        let s = format!("{alg}:{hex}");
        let ok = match alg.as_str() {
            "sha256" | "sha512" => Digest::parse(&s).is_ok(),
            _ => !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        };
        if !ok {
            return Err(bad(
                format!("{field}.{alg}"),
                "is not a lowercase hex digest",
            ));
        }
        out.push(s);
    }
    Ok(out)
}

/// A ResourceDescriptor: at least one of `uri`, `digest`, `content`; typed fields when present.
fn resource_descriptor(v: &Value, field: &str) -> Result<(), ShapeError> {
    let m = obj(v, field)?;
    if !["uri", "digest", "content"]
        .iter()
        .any(|k| m.contains_key(*k))
    {
        return Err(bad(field, "must set at least one of uri, digest, content"));
    }
    for key in ["name", "uri", "mediaType", "content", "downloadLocation"] {
        if let Some(x) = m.get(key) {
            if !x.is_string() {
                return Err(bad(join(field, key), "must be a string"));
            }
        }
    }
    if let Some(d) = m.get("digest") {
        digests(d, &join(field, "digest"))?;
    }
    Ok(())
}

/// Parses and checks a statement.
pub fn check_shape(bytes: &[u8]) -> Result<Summary, ShapeError> {
    let Strict(root) =
        serde_json::from_slice(bytes).map_err(|e| bad("(statement)", format!("not JSON: {e}")))?;
    let top = obj(&root, "(statement)")?;
    let t = string(top, "_type", "")?;
    if t != STATEMENT_TYPE {
        return Err(bad("_type", format!("is {t:?}, not {STATEMENT_TYPE:?}")));
    }
    let subjects = match top.get("subject") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        Some(_) => return Err(bad("subject", "must be a non-empty array")),
        None => return Err(bad("subject", "is required")),
    };
    let mut subject_out = Vec::new();
    for (i, s) in subjects.iter().enumerate() {
        let field = format!("subject[{i}]");
        let m = obj(s, &field)?;
        let d = m
            .get("digest")
            .ok_or_else(|| bad(join(&field, "digest"), "is required"))?;
        resource_descriptor(s, &field)?;
        subject_out.push(Subject {
            name: m.get("name").and_then(Value::as_str).map(str::to_owned),
            digests: digests(d, &join(&field, "digest"))?,
        });
    }
    let pt = string(top, "predicateType", "")?;
    if pt != PREDICATE_TYPE {
        return Err(bad(
            "predicateType",
            format!("is {pt:?}, not {PREDICATE_TYPE:?}"),
        ));
    }
    let p = obj(
        top.get("predicate")
            .ok_or_else(|| bad("predicate", "is required"))?,
        "predicate",
    )?;
    let verifier = obj(
        p.get("verifier")
            .ok_or_else(|| bad("predicate.verifier", "is required"))?,
        "predicate.verifier",
    )?;
    let verifier_id = string(verifier, "id", "predicate.verifier")?.to_owned();
    let mut verifier_version = BTreeMap::new();
    if let Some(v) = verifier.get("version") {
        for (k, x) in obj(v, "predicate.verifier.version")? {
            let x = x.as_str().ok_or_else(|| {
                bad(
                    format!("predicate.verifier.version.{k}"),
                    "must be a string",
                )
            })?;
            verifier_version.insert(k.clone(), x.to_owned());
        }
    }
    let time_verified = match p.get("timeVerified") {
        None => None,
        Some(Value::String(s)) if s.parse::<jiff::Timestamp>().is_ok() => Some(s.clone()),
        Some(_) => {
            return Err(bad(
                "predicate.timeVerified",
                "must be an RFC 3339 timestamp",
            ))
        }
    };
    let resource_uri = string(p, "resourceUri", "predicate")?.to_owned();
    let policy = p
        .get("policy")
        .ok_or_else(|| bad("predicate.policy", "is required"))?;
    resource_descriptor(policy, "predicate.policy")?;
    let mut input_attestations = Vec::new();
    match p.get("inputAttestations") {
        None => {}
        Some(Value::Array(a)) => {
            for (i, x) in a.iter().enumerate() {
                resource_descriptor(x, &format!("predicate.inputAttestations[{i}]"))?;
                input_attestations.push(x.clone());
            }
        }
        Some(_) => return Err(bad("predicate.inputAttestations", "must be an array")),
    }
    let result = string(p, "verificationResult", "predicate")?;
    if result != "PASSED" && result != "FAILED" {
        return Err(bad(
            "predicate.verificationResult",
            format!("is {result:?}, not PASSED or FAILED"),
        ));
    }
    let levels = match p.get("verifiedLevels") {
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad("predicate.verifiedLevels", "must be an array")),
        None => return Err(bad("predicate.verifiedLevels", "is required")),
    };
    let mut verified_levels = Vec::new();
    for (i, l) in levels.iter().enumerate() {
        let l = l
            .as_str()
            .ok_or_else(|| bad(format!("predicate.verifiedLevels[{i}]"), "must be a string"))?;
        if l.starts_with("SLSA_") && !is_slsa_level(l) {
            return Err(bad(
                format!("predicate.verifiedLevels[{i}]"),
                format!("{l:?}: custom values must not start with SLSA_"),
            ));
        }
        verified_levels.push(l.to_owned());
    }
    if result == "FAILED" && verified_levels.iter().any(|l| l != "FAILED") {
        return Err(bad(
            "predicate.verifiedLevels",
            "a FAILED verification verifies no level",
        ));
    }
    Ok(Summary {
        subjects: subject_out,
        verifier_id,
        verifier_version,
        time_verified,
        resource_uri,
        policy: policy.clone(),
        input_attestations,
        verification_result: result.to_owned(),
        verified_levels,
        detail: p.get(DETAIL_KEY).cloned(),
    })
}

/// `SLSA_<TRACK>_LEVEL_<n>`.
fn is_slsa_level(l: &str) -> bool {
    l.strip_prefix("SLSA_")
        .and_then(|r| r.split_once("_LEVEL_"))
        .is_some_and(|(track, n)| {
            !track.is_empty()
                && track.bytes().all(|b| b.is_ascii_uppercase())
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
        })
}
