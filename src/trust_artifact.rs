//! The trust artifact a bundle carries (DESIGN.md section 3): one OCI artifact manifest
//! (`artifactType application/vnd.airlock.trust.v1+json`) whose config is the export record and
//! whose layers are the trust policy, every trust-store certificate (annotated with its store,
//! e.g. `ca:acme`) and the CRLs captured at export time.
//!
//! The bundle travels through untrusted hands, so this artifact never vouches for itself: `verify`
//! uses it only when one of its root certificates matches a `--pin` given on the command line, or
//! with `--trust-bundled`, which the report marks `bundled-unpinned`.

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

/// One exported image in the record.
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
            annotations.insert("io.airlock.crl.url".to_owned(), u.clone());
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

/// The trust material found in a bundle.
pub struct Bundled {
    /// The trust artifact manifest's digest.
    pub digest: String,
    /// The parsed policy (absent when the bundle carries only CRLs).
    pub policy: Option<PolicyDocument>,
    /// Stores as carried.
    pub stores: HashMap<(StoreType, String), Result<Vec<TrustedCert>, TrustStoreError>>,
    /// CRLs carried.
    pub crls: Vec<Crl>,
    /// The export record.
    pub record: Option<ExportRecord>,
    /// Fingerprints of the self-signed certificates carried.
    pub root_fingerprints: Vec<String>,
}

fn bytes_of<'a>(cat: &'a Catalog, digest: &str) -> Result<&'a [u8], String> {
    let d = Digest::parse(digest).map_err(|e| e.to_string())?;
    match cat.blobs.get(&d).map(|b| &b.content) {
        Some(Content::Json(b)) | Some(Content::Bytes(b)) => {
            if cat.blobs.get(&d).is_some_and(|b| b.mismatches(&d)) {
                return Err(format!("{digest} does not match its content"));
            }
            Ok(b)
        }
        Some(_) => Err(format!("{digest} is too large for a trust-artifact layer")),
        None => Err(format!("{digest} is missing")),
    }
}

/// Reads the trust artifact listed in `index.json`, if there is one.
pub fn read_bundled(cat: &Catalog) -> Result<Option<Bundled>, String> {
    let entries = cat
        .index_json
        .as_ref()
        .and_then(|s| s.bytes())
        .and_then(|b| Document::parse(b).ok())
        .and_then(|d| d.manifests)
        .unwrap_or_default();
    let Some(entry) = entries
        .iter()
        .find(|e| e.artifact_type.as_deref() == Some(AIRLOCK_TRUST))
    else {
        return Ok(None);
    };
    let doc = Document::parse(bytes_of(cat, &entry.digest)?).map_err(|e| e.to_string())?;
    let record = doc
        .config
        .as_ref()
        .and_then(|c| bytes_of(cat, &c.digest).ok())
        .and_then(|b| serde_json::from_slice::<ExportRecord>(b).ok());
    let mut policy_doc = None;
    let mut by_store: BTreeMap<(StoreType, String), Vec<Vec<u8>>> = BTreeMap::new();
    let mut crls = Vec::new();
    let mut roots = Vec::new();
    for layer in doc.layers.iter().flatten() {
        let bytes = bytes_of(cat, &layer.digest)?;
        match layer.media_type() {
            TRUST_POLICY => {
                policy_doc =
                    Some(policy::parse(bytes).map_err(|e| format!("bundled trust policy: {e}"))?);
            }
            CERT => {
                let store = layer
                    .annotations
                    .get(STORE_ANNOTATION)
                    .ok_or("certificate without a store annotation")?;
                let (kind, name) = store.split_once(':').ok_or("malformed store annotation")?;
                let kind: StoreType = kind
                    .parse()
                    .map_err(|_| format!("unknown store type in {store:?}"))?;
                if let Ok(c) = <x509_cert::Certificate as der::Decode>::from_der(bytes) {
                    if crate::notary::chain::is_self_signed(&c) {
                        roots.push(Digest::sha256(bytes).to_string());
                    }
                }
                by_store
                    .entry((kind, name.to_owned()))
                    .or_default()
                    .push(bytes.to_vec());
            }
            CRL => crls.extend(Crl::parse_file(bytes).map_err(|e| format!("bundled CRL: {e}"))?),
            _ => {}
        }
    }
    let policy = policy_doc;
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
    Ok(Some(Bundled {
        digest: entry.digest.clone(),
        policy,
        stores,
        crls,
        record,
        root_fingerprints: roots,
    }))
}
