//! The trust artifact a bundle carries (DESIGN.md section 3): one OCI artifact manifest
//! (`artifactType application/vnd.airlock.trust.v1+json`) whose config is the export record and
//! whose layers are the trust policy, every trust-store certificate (annotated with its store,
//! e.g. `ca:acme`) and the CRLs captured at export time (annotated with the URI each came from).
//!
//! The bundle travels through untrusted hands, so this artifact never vouches for itself (DESIGN.md
//! section 4). `export` prints the digest of its manifest as `--pin sha256:...`; because the
//! manifest names the record and every layer by digest, that one value authenticates all of it.
//! `verify --pin` reads only the artifact whose manifest has the pinned digest ([`read_artifact`]),
//! and every part must hash to its descriptor. Without a pin (`--trust-bundled`) the report marks
//! the result `bundled-unpinned`; in local trust mode only the CRLs are taken from the bundle
//! ([`unauthenticated_crls`]), because a CRL proves itself by its issuer's signature.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::digest::Digest;
use crate::layout::model::{self, Document, AIRLOCK_TRUST};
use crate::layout::{Catalog, Content};
use crate::notary::policy::{self, PolicyDocument};
use crate::notary::revocation::Crl;
use crate::notary::truststore::{self, StoreType, TrustStoreError, TrustedCert};

/// Media type of the trust policy layer.
pub const TRUST_POLICY: &str = "application/vnd.airlock.trustpolicy.v1+json";
/// Media type of a DER certificate layer.
pub const CERT: &str = "application/pkix-cert";
/// Media type of a DER CRL layer.
pub const CRL: &str = "application/pkix-crl";
/// Annotation naming a certificate's trust store (`ca:NAME`, `signingAuthority:NAME`, `tsa:NAME`).
pub const STORE_ANNOTATION: &str = "io.airlock.truststore";
/// Annotation giving a layer a file name.
pub const TITLE: &str = "org.opencontainers.image.title";

/// A CRL in the export record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CrlRecord {
    /// Its digest in the bundle.
    pub digest: String,
    /// Issuer (RFC 4514).
    pub issuer: String,
    /// `thisUpdate`, RFC 3339.
    pub this_update: String,
    /// `nextUpdate`, RFC 3339.
    pub next_update: Option<String>,
    /// Where it was fetched from, when it was.
    pub url: Option<String>,
}

/// A root certificate in the export record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RootRecord {
    /// `ca:NAME` etc.
    pub store: String,
    /// Subject (RFC 4514).
    pub subject: String,
    /// `sha256:HEX` of its DER: what `--pin` takes.
    pub fingerprint: String,
}

/// One exported image in the record. This is the one model of an exported image (types and
/// serde, camelCase keys): export's summary line for an image (`export::ExportedImage`) has the
/// same fields and keys, and can be this type (`pub use crate::trust_artifact::SourceRecord as
/// ExportedImage;`), so that the record written and the record read cannot drift apart.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SourceRecord {
    /// The source as given.
    pub source: String,
    /// The name recorded in `index.json`.
    pub reference: String,
    /// The resolved top-level digest.
    pub digest: String,
    /// Platforms carried.
    pub platforms: Vec<String>,
    /// Child manifests left out by `--platform`.
    pub excluded: Vec<String>,
    /// Signatures carried.
    pub signatures: Vec<String>,
    /// Every referrer carried (notation signatures among them), recursively: referrers of the
    /// image, of its platform manifests and of other referrers. Absent when none was carried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referrers: Vec<ReferrerRecord>,
}

/// One referrer carried with an image.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReferrerRecord {
    /// The referrer manifest's digest.
    pub digest: String,
    /// Its artifact type (`artifactType`, else its config's media type).
    pub artifact_type: Option<String>,
    /// The digest of its subject.
    pub subject: String,
}

/// The export record (the trust artifact's config).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ExportRecord {
    /// `airlock`.
    pub tool: String,
    /// Its version.
    pub version: String,
    /// When the export ran (RFC 3339; `SOURCE_DATE_EPOCH` when set, for reproducible bundles).
    pub exported_at: String,
    /// The images.
    pub sources: Vec<SourceRecord>,
    /// Root certificates of the trust stores, by fingerprint.
    pub roots: Vec<RootRecord>,
    /// CRLs carried.
    pub crls: Vec<CrlRecord>,
    /// Whether signatures that failed verification were exported anyway.
    pub allow_failed_signatures: bool,
    /// Blobs left out of a differential bundle (`export --since`): the far side's inventory said
    /// it holds them. Absent (and empty) in a full bundle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
}

/// Most repositories kept for one left-out blob: an inventory keeps that many per blob
/// (`inventory::MAX_REPOSITORIES_PER_BLOB` is this), and import tries no more as mount sources.
pub const MAX_LEFT_OUT_SOURCES: usize = 64;

/// A blob `export --since` left out of the bundle.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LeftOut {
    /// Its digest.
    pub digest: String,
    /// Its size.
    pub size: u64,
    /// Its media type (from the descriptor that lists it).
    pub media_type: String,
    /// The images (names as recorded) that need it.
    pub images: Vec<String>,
    /// The repositories (`HOST/REPO`) the inventory said hold it, for import to mount from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<String>,
}

/// The left-out blobs the bundle's trust artifact records, read without authentication (the
/// first listed trust artifact whose record parses), with that artifact's manifest digest; used
/// to tell a blob left out on purpose (`blob_external`) from a missing one. In pinned mode the
/// verifier checks that the artifact is the pinned one.
pub fn recorded_left_out(cat: &Catalog) -> Option<(String, Vec<LeftOut>)> {
    for e in listed(cat) {
        let Ok(bytes) = bytes_of(cat, &e.digest, Some(e.size)) else {
            continue;
        };
        let Some(config) = Document::parse(bytes).ok().and_then(|d| d.config) else {
            continue;
        };
        let Ok(cb) = bytes_of(cat, &config.digest, Some(config.size)) else {
            continue;
        };
        if let Ok(record) = serde_json::from_slice::<ExportRecord>(cb) {
            return Some((e.digest, record.left_out));
        }
    }
    None
}

/// A blob of the trust artifact: its bytes, media type and annotations.
pub struct TrustBlob {
    /// Bytes.
    pub bytes: Vec<u8>,
    /// Media type.
    pub media_type: &'static str,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

/// Local trust material collected for export.
pub struct TrustMaterial {
    /// The policy document's exact bytes.
    pub policy_bytes: Vec<u8>,
    /// The parsed policy.
    pub policy: PolicyDocument,
    /// The trust store root.
    pub store_root: PathBuf,
    /// Every store the policy names, loaded: `(kind, name) -> certs`.
    pub stores: Vec<(StoreType, String, Vec<TrustedCert>)>,
}

impl TrustMaterial {
    /// Reads the policy and every store it names.
    pub fn load(
        policy_path: &Path,
        store_root: &Path,
        policy_bytes: Vec<u8>,
    ) -> Result<Self, String> {
        let policy =
            policy::parse(&policy_bytes).map_err(|e| format!("{}: {e}", policy_path.display()))?;
        let mut stores = Vec::new();
        let mut seen = Vec::new();
        for st in policy.statements() {
            for r in st.trust_stores() {
                let key = (r.kind(), r.name().to_owned());
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key.clone());
                let certs = truststore::load_with(
                    store_root,
                    key.0,
                    &key.1,
                    &crate::notary::chain::is_self_signed,
                )
                .map_err(|e| format!("trust store {}:{}: {e}", key.0, key.1))?;
                stores.push((key.0, key.1, certs));
            }
        }
        Ok(TrustMaterial {
            policy_bytes,
            policy,
            store_root: store_root.to_path_buf(),
            stores,
        })
    }

    /// The root (self-signed) certificates, with their stores and fingerprints.
    pub fn roots(&self) -> Vec<RootRecord> {
        let mut out: Vec<RootRecord> = Vec::new();
        for (kind, name, certs) in &self.stores {
            for c in certs {
                let Ok(cert) = c.certificate() else { continue };
                if crate::notary::chain::is_self_signed(&cert) {
                    out.push(RootRecord {
                        store: format!("{kind}:{name}"),
                        subject: cert.tbs_certificate.subject.to_string(),
                        fingerprint: Digest::sha256(&c.der).to_string(),
                    });
                }
            }
        }
        out.sort_by(|a, b| (&a.store, &a.fingerprint).cmp(&(&b.store, &b.fingerprint)));
        out.dedup();
        out
    }

    /// The artifact's layers: the policy, then each certificate, then each CRL.
    pub fn blobs(&self, crls: &[(Crl, Option<String>)]) -> Vec<TrustBlob> {
        layers(Some(self), crls)
    }
}

/// The artifact's layers: the policy and each certificate (when trust material is given), then
/// each CRL.
pub fn layers(trust: Option<&TrustMaterial>, crls: &[(Crl, Option<String>)]) -> Vec<TrustBlob> {
    let mut out = Vec::new();
    if let Some(t) = trust {
        out.push(TrustBlob {
            bytes: t.policy_bytes.clone(),
            media_type: TRUST_POLICY,
            annotations: BTreeMap::from([(TITLE.to_owned(), "trustpolicy.json".to_owned())]),
        });
        for (kind, name, certs) in &t.stores {
            for (i, c) in certs.iter().enumerate() {
                out.push(TrustBlob {
                    bytes: c.der.clone(),
                    media_type: CERT,
                    annotations: BTreeMap::from([
                        (STORE_ANNOTATION.to_owned(), format!("{kind}:{name}")),
                        (TITLE.to_owned(), format!("x509/{kind}/{name}/{i:03}.der")),
                    ]),
                });
            }
        }
    }
    for (crl, url) in crls {
        let mut annotations = BTreeMap::from([(
            TITLE.to_owned(),
            format!("crl/{}.crl", Digest::sha256(crl.der()).hex()),
        )]);
        if let Some(u) = url {
            annotations.insert(CRL_URL_ANNOTATION.to_owned(), u.clone());
        }
        out.push(TrustBlob {
            bytes: crl.der().to_vec(),
            media_type: CRL,
            annotations,
        });
    }
    out
}

/// The artifact manifest over `config` (the record bytes) and `layers`.
pub fn manifest(config: &[u8], layers: &[TrustBlob]) -> Vec<u8> {
    let layer_descs: Vec<Value> = layers
        .iter()
        .map(|l| {
            json!({
                "mediaType": l.media_type,
                "digest": Digest::sha256(&l.bytes).to_string(),
                "size": l.bytes.len(),
                "annotations": l.annotations,
            })
        })
        .collect();
    let m = json!({
        "schemaVersion": 2,
        "mediaType": model::OCI_MANIFEST,
        "artifactType": AIRLOCK_TRUST,
        "config": {"mediaType": AIRLOCK_TRUST, "digest": Digest::sha256(config).to_string(), "size": config.len()},
        "layers": layer_descs,
    });
    serde_json::to_vec(&m).unwrap_or_default()
}

/// Why a bundle's trust artifact cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    /// A part of the artifact is missing, does not match its descriptor, or does not parse.
    #[error("trust artifact {artifact}: {problem}")]
    Invalid {
        /// The artifact manifest's digest.
        artifact: String,
        /// What is wrong.
        problem: String,
    },
}

/// The trust material found in a bundle: every part read through the artifact manifest, whose
/// descriptors name each part by digest. Pinning the manifest's digest therefore authenticates all
/// of it; without a pin none of it is more than the carrier's word.
pub struct Bundled {
    /// The trust artifact manifest's digest.
    pub digest: String,
    /// The parsed policy (absent when the bundle carries only CRLs).
    pub policy: Option<PolicyDocument>,
    /// Stores as carried.
    pub stores: HashMap<(StoreType, String), Result<Vec<TrustedCert>, TrustStoreError>>,
    /// CRLs carried, each with the URI the exporter captured it from (from the layer's
    /// `io.airlock.crl.url` annotation, which the manifest digest covers).
    pub crls: Vec<(Crl, Option<String>)>,
    /// The export record.
    pub record: Option<ExportRecord>,
    /// Fingerprints of the self-signed certificates carried.
    pub root_fingerprints: Vec<String>,
    /// Fingerprints of every certificate carried.
    pub cert_fingerprints: Vec<String>,
}

/// Largest CRL a bundle carries: what `verify` keeps in memory of one blob of the trust artifact
/// ([`crate::layout::Limits::max_manifest_bytes`]). Larger CRLs (up to
/// [`crate::notary::revocation::MAX_CRL_BYTES`]) go to `verify --crl` on the far side.
pub const MAX_CARRIED_CRL_BYTES: usize = 4 << 20;

/// Largest total of the CRLs one bundle carries: what `verify` keeps of DER parts
/// ([`crate::layout::Limits::max_retained_der`], a budget apart from the documents').
pub const MAX_CARRIED_CRLS_BYTES: usize = 8 << 20;

/// Annotation on a CRL layer: the URI the exporter fetched it from.
pub const CRL_URL_ANNOTATION: &str = "io.airlock.crl.url";

/// The exact bytes of `digest` in the catalog, checked against the content actually read and
/// against the descriptor's size.
fn bytes_of<'a>(cat: &'a Catalog, digest: &str, size: Option<u64>) -> Result<&'a [u8], String> {
    let d = Digest::parse(digest).map_err(|e| e.to_string())?;
    let entry = cat
        .blobs
        .get(&d)
        .ok_or_else(|| format!("{digest} is missing"))?;
    if entry.mismatches(&d) {
        return Err(format!("{digest} does not match its content"));
    }
    let bytes: &[u8] = match &entry.content {
        Content::Json(b) | Content::Bytes(b) => b,
        Content::NotRead => {
            return Err(format!(
                "{digest} was not read: its size contradicts its descriptor"
            ))
        }
        _ => return Err(format!("{digest} is too large for a trust-artifact part")),
    };
    if let Some(size) = size {
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) != size {
            return Err(format!(
                "{digest} is {} bytes, its descriptor says {size}",
                bytes.len()
            ));
        }
    }
    Ok(bytes)
}

/// The `index.json` entries that declare themselves trust artifacts (any of them may be the
/// carrier's own).
pub fn listed(cat: &Catalog) -> Vec<model::Descriptor> {
    cat.index_json
        .as_ref()
        .and_then(|s| s.bytes())
        .and_then(|b| Document::parse(b).ok())
        .and_then(|d| d.manifests)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.artifact_type.as_deref() == Some(AIRLOCK_TRUST))
        .collect()
}

/// Reads the trust artifact whose manifest has `digest`, strictly: the manifest, its config (the
/// export record) and every layer must be present and hash to their descriptors, every layer must
/// be of a known kind, and the policy and record must parse. `strict_record` also demands the
/// record (pinned mode: the record decides names).
pub fn read_artifact(
    cat: &Catalog,
    digest: &str,
    size: Option<u64>,
    strict_record: bool,
) -> Result<Bundled, ArtifactError> {
    let invalid = |problem: String| ArtifactError::Invalid {
        artifact: digest.to_owned(),
        problem,
    };
    let doc = Document::parse(bytes_of(cat, digest, size).map_err(&invalid)?)
        .map_err(|e| invalid(format!("manifest: {e}")))?;
    if doc.effective_artifact_type() != Some(AIRLOCK_TRUST) {
        return Err(invalid(format!(
            "manifest artifactType is not {AIRLOCK_TRUST}"
        )));
    }
    let record = match &doc.config {
        Some(c) => {
            let bytes = bytes_of(cat, &c.digest, Some(c.size))
                .map_err(|e| invalid(format!("export record: {e}")))?;
            match serde_json::from_slice::<ExportRecord>(bytes) {
                Ok(r) => Some(r),
                Err(e) if strict_record => {
                    return Err(invalid(format!("export record does not parse: {e}")))
                }
                Err(_) => None,
            }
        }
        None if strict_record => return Err(invalid("no export record (config)".into())),
        None => None,
    };
    let mut policy = None;
    let mut by_store: BTreeMap<(StoreType, String), Vec<Vec<u8>>> = BTreeMap::new();
    let mut crls = Vec::new();
    let mut roots = Vec::new();
    let mut certs = Vec::new();
    for layer in doc.layers.iter().flatten() {
        let bytes = bytes_of(cat, &layer.digest, Some(layer.size)).map_err(&invalid)?;
        match layer.media_type() {
            TRUST_POLICY => {
                if policy.is_some() {
                    return Err(invalid("more than one trust policy layer".into()));
                }
                policy =
                    Some(policy::parse(bytes).map_err(|e| invalid(format!("trust policy: {e}")))?);
            }
            CERT => {
                let store = layer
                    .annotations
                    .get(STORE_ANNOTATION)
                    .ok_or_else(|| invalid("certificate without a store annotation".into()))?;
                let (kind, name) = store
                    .split_once(':')
                    .ok_or_else(|| invalid(format!("malformed store annotation {store:?}")))?;
                let kind: StoreType = kind
                    .parse()
                    .map_err(|_| invalid(format!("unknown store type in {store:?}")))?;
                let fp = Digest::sha256(bytes).to_string();
                if let Ok(c) = <x509_cert::Certificate as der::Decode>::from_der(bytes) {
                    if crate::notary::chain::is_self_signed(&c) {
                        roots.push(fp.clone());
                    }
                }
                certs.push(fp);
                by_store
                    .entry((kind, name.to_owned()))
                    .or_default()
                    .push(bytes.to_vec());
            }
            CRL => {
                let url = layer.annotations.get(CRL_URL_ANNOTATION).cloned();
                for c in Crl::parse_file(bytes).map_err(|e| invalid(format!("CRL: {e}")))? {
                    crls.push((c, url.clone()));
                }
            }
            other => return Err(invalid(format!("unknown layer media type {other:?}"))),
        }
    }
    let label = Path::new("(bundle trust artifact)");
    let stores = by_store
        .into_iter()
        .map(|((kind, name), ders)| {
            let loaded = truststore::from_ders(
                label,
                kind,
                &name,
                ders,
                &crate::notary::chain::is_self_signed,
            );
            ((kind, name), loaded)
        })
        .collect();
    roots.sort();
    roots.dedup();
    certs.sort();
    certs.dedup();
    Ok(Bundled {
        digest: digest.to_owned(),
        policy,
        stores,
        crls,
        record,
        root_fingerprints: roots,
        cert_fingerprints: certs,
    })
}

/// Reads the trust artifact `index.json` lists, when it lists exactly one (for `inspect` and
/// `--trust-bundled`); `Ok(None)` when it lists none.
pub fn read_bundled(cat: &Catalog) -> Result<Option<Bundled>, ArtifactError> {
    let listed = listed(cat);
    match listed.as_slice() {
        [] => Ok(None),
        [one] => read_artifact(cat, &one.digest, Some(one.size), false).map(Some),
        [first, ..] => Err(ArtifactError::Invalid {
            artifact: first.digest.clone(),
            problem: format!(
                "index.json lists {} trust artifacts; only a pin can say which one is the exporter's",
                listed.len()
            ),
        }),
    }
}

/// Every CRL of every trust artifact `index.json` lists, unauthenticated (CRLs prove themselves by
/// their issuer's signature; the URI they were captured from is not taken from an unpinned
/// artifact). Parts that cannot be read are skipped: this only ever adds CRLs.
pub fn unauthenticated_crls(cat: &Catalog) -> Vec<Crl> {
    let mut out = Vec::new();
    for e in listed(cat) {
        let Ok(bytes) = bytes_of(cat, &e.digest, Some(e.size)) else {
            continue;
        };
        let Ok(doc) = Document::parse(bytes) else {
            continue;
        };
        for layer in doc.layers.iter().flatten() {
            if layer.media_type() != CRL {
                continue;
            }
            if let Ok(b) = bytes_of(cat, &layer.digest, Some(layer.size)) {
                out.extend(Crl::parse_file(b).unwrap_or_default());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_bundle_carries_of_crls_is_what_verify_keeps() {
        let limits = crate::layout::Limits::default();
        let one = u64::try_from(MAX_CARRIED_CRL_BYTES).unwrap();
        let all = u64::try_from(MAX_CARRIED_CRLS_BYTES).unwrap();
        assert_eq!(one, limits.max_manifest_bytes);
        assert!(all <= limits.max_retained_der);
        const { assert!(MAX_CARRIED_CRL_BYTES <= crate::notary::revocation::MAX_CRL_BYTES) };
    }
}
