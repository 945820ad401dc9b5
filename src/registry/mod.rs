//! The OCI distribution client (feature `pull`), synchronous to its callers: every call runs to
//! completion on a current-thread tokio runtime the [`Registry`] owns, so the rest of airlock stays
//! synchronous. `cargo build --no-default-features` leaves all of this out: the verify-only binary
//! for the air-gapped host carries no network code.
//!
//! **Pulling** (what `export` uses: [`Registry::resolve`], [`Registry::manifest`],
//! [`Registry::blob_to`] (or [`Registry::blob_to_unhashed`] when the caller hashes),
//! [`Registry::referrers`]) is written here on `reqwest`, the HTTP client
//! `oci-client` itself uses, because every property airlock needs from it sits in code `oci-client`
//! does not let a caller reach (ARCHITECTURE.md, "Choices on the network side"):
//!
//! - every response body is read through a cap *while it arrives* (4 MiB for manifests, indexes
//!   and referrers pages, 64 KiB for error bodies and tokens); nothing is buffered unbounded;
//! - manifests are requested with every OCI and Docker manifest and index type in `Accept`,
//!   returned byte for byte, and hashed; the `Docker-Content-Digest` header is never trusted on its
//!   own (it can only make a fetch fail, never make one pass);
//! - blobs stream into the caller's writer, hashed once as they arrive, never more bytes than the
//!   descriptor says; a dropped connection resumes with `Range` (or skips what it already has when
//!   the registry answers the whole blob again);
//! - 408, 429, 5xx, timeouts and dropped connections are retried with exponential backoff
//!   (`Retry-After` honoured); everything else fails at once with a typed [`RegistryError`] naming
//!   the URL;
//! - authentication answers the registry's own `WWW-Authenticate` challenge (basic, or a bearer
//!   token from the challenge's realm, scoped to the repository); credentials come from the docker
//!   `config.json` ([`auth`]) and are never printed; redirects are followed (at most 10) and drop
//!   the `Authorization` header across hosts (reqwest's policy);
//! - the Referrers API (`GET /v2/<name>/referrers/<digest>`, following `Link` pages), and on 404
//!   the referrers tag schema (`sha256-<hex>`).
//!
//! **Pushing** (what `import` uses) goes through `oci-client` (chunked and monolithic uploads,
//! cross-repository mounts, the upload `Location` host check).

pub mod auth;
mod error;
mod pull;
mod push;
mod reference;
mod transport;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

pub use auth::{Credential, Secret};
pub use error::RegistryError;
pub use reference::Reference;

use crate::digest::Digest;
use crate::layout::model::{self, Descriptor};

/// Every manifest media type airlock asks for, in `Accept` order. Docker schema 1 is left out on
/// purpose: its digest is not the hash of the bytes served (the signature block is stripped first).
pub const ACCEPT: &[&str] = &[
    model::OCI_INDEX,
    model::OCI_MANIFEST,
    model::DOCKER_INDEX,
    model::DOCKER_MANIFEST,
    model::OCI_ARTIFACT_MANIFEST,
];

/// Largest manifest, index or referrers page accepted (distribution-spec and image-spec guidance;
/// the same limit `verify` applies: [`crate::layout::Limits::max_manifest_bytes`]).
pub const MAX_MANIFEST: u64 = 4 << 20;

/// Default for [`Options::timeout`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How to reach registries.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Hosts spoken to over plain HTTP: `HOST:PORT` matches that port, `HOST` every port.
    pub plain_http: Vec<String>,
    /// Extra CA certificates (PEM, one or many) trusted for HTTPS beside the system's.
    pub ca_file: Option<PathBuf>,
    /// The docker `config.json` to take credentials from (default: `$DOCKER_CONFIG/config.json`,
    /// then `~/.docker/config.json`; a missing default file means anonymous).
    pub registry_config: Option<PathBuf>,
    /// Connect timeout, the longest silence while reading, and the longest whole request for
    /// manifests, tokens and referrers (default [`DEFAULT_TIMEOUT`]). Blobs have no total limit:
    /// they may be large, and progress resets the silence timer.
    pub timeout: Option<Duration>,
    /// Retries after a transient failure (408, 429, 5xx, timeout, dropped connection). A blob
    /// attempt that made progress does not use one up.
    pub retries: u32,
}

/// A registry client. Cheap calls, one HTTP connection pool, one token cache; `Sync`, so calls may
/// come from several threads at once (tokio lets several threads drive one current-thread runtime).
pub struct Registry {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    pusher: oci_client::Client,
    plain_http: Vec<String>,
    timeout: Duration,
    retries: u32,
    docker_config: Option<auth::DockerConfig>,
    /// Credentials looked up so far, by config key (helpers run once per registry).
    creds: Mutex<HashMap<String, Option<Credential>>>,
    /// `Authorization` values that worked, by (API host, repository).
    tokens: Mutex<HashMap<(String, String), reqwest::header::HeaderValue>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("plain_http", &self.plain_http)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A client with `opts`. Reads `ca_file` and the docker configuration now, so a bad file is
    /// reported before any network traffic.
    pub fn new(opts: Options) -> Result<Self, RegistryError> {
        let timeout = opts.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Setup(e.to_string()))?;
        let ca_pem = match &opts.ca_file {
            Some(p) => Some(std::fs::read(p).map_err(|e| RegistryError::Config {
                path: p.display().to_string(),
                reason: e.to_string(),
            })?),
            None => None,
        };
        let http = transport::build_client(timeout, opts.ca_file.as_deref(), ca_pem.as_deref())?;
        let pusher = push::build_client(&opts, timeout, ca_pem)?;
        let docker_config = auth::DockerConfig::load(opts.registry_config.as_deref())?;
        Ok(Registry {
            rt,
            http,
            pusher,
            plain_http: opts.plain_http,
            timeout,
            retries: opts.retries,
            docker_config,
            creds: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// Parses a reference (`REGISTRY/REPO:TAG`, `REGISTRY/REPO@sha256:...`).
    pub fn parse(reference: &str) -> Result<Reference, RegistryError> {
        Reference::parse(reference)
    }

    /// The credentials airlock would offer `registry`'s challenges (from the docker config), if
    /// any. Looked up once per registry.
    pub fn credential(&self, reference: &Reference) -> Result<Option<Credential>, RegistryError> {
        let key = reference.credential_key().to_owned();
        let mut cache = self.creds.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(&key) {
            return Ok(c.clone());
        }
        let found = match &self.docker_config {
            Some(cfg) => cfg.lookup(&key)?,
            None => None,
        };
        cache.insert(key, found.clone());
        Ok(found)
    }
}

/// Exports from a registry: [`crate::export::Fetch`] over a [`Registry`].
pub struct RegistryFetch {
    registry: std::rc::Rc<Registry>,
    reference: Reference,
    given: String,
}

impl RegistryFetch {
    /// For `reference` through `registry`.
    pub fn new(registry: std::rc::Rc<Registry>, given: &str) -> Result<Self, RegistryError> {
        Ok(RegistryFetch {
            registry,
            reference: Reference::parse(given)?,
            given: given.to_owned(),
        })
    }

    fn digest_of(desc: &Descriptor) -> Result<Digest, crate::export::ExportError> {
        Digest::parse(&desc.digest).map_err(|e| crate::export::ExportError::Mismatch {
            digest: desc.digest.clone(),
            problem: e.to_string(),
        })
    }
}

fn src(digest: &str, e: RegistryError) -> crate::export::ExportError {
    if e.is_mismatch() {
        crate::export::ExportError::Mismatch {
            digest: digest.to_owned(),
            problem: e.to_string(),
        }
    } else {
        crate::export::ExportError::Source(e.to_string())
    }
}

impl crate::export::Fetch for RegistryFetch {
    fn reference(&self) -> String {
        // The name as given (registry/repo:tag), which is what trust-policy scopes match.
        let whole = self.reference.whole();
        if self.given.contains('@') || self.reference.tag().is_some() {
            whole
        } else {
            self.given.clone()
        }
    }

    fn resolve(&mut self) -> Result<(Descriptor, Vec<u8>), crate::export::ExportError> {
        let name = self.reference.whole();
        self.registry
            .resolve(&self.reference)
            .map_err(|e| src(&name, e))
    }

    fn manifest(&mut self, desc: &Descriptor) -> Result<Vec<u8>, crate::export::ExportError> {
        let d = Self::digest_of(desc)?;
        let (_, bytes) = self
            .registry
            .manifest(&self.reference, &d)
            .map_err(|e| src(&desc.digest, e))?;
        if bytes.len() as u64 != desc.size {
            return Err(crate::export::ExportError::Mismatch {
                digest: desc.digest.clone(),
                problem: format!("{} bytes, descriptor says {}", bytes.len(), desc.size),
            });
        }
        Ok(bytes)
    }

    fn blob(
        &mut self,
        desc: &Descriptor,
        out: &mut dyn Write,
    ) -> Result<u64, crate::export::ExportError> {
        // export hashes everything it writes (export::Checking): one pass, not two.
        self.registry
            .blob_to_unhashed(&self.reference, desc, out)
            .map_err(|e| src(&desc.digest, e))
    }

    fn referrers(
        &mut self,
        subject: &Descriptor,
    ) -> Result<Vec<Descriptor>, crate::export::ExportError> {
        let d = Self::digest_of(subject)?;
        self.registry
            .referrers(&self.reference, &d, Some(model::NOTARY_SIGNATURE))
            .map_err(|e| src(&subject.digest, e))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_client_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::Registry>();
    }
}
