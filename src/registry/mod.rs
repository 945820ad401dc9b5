//! The OCI distribution client (feature `pull`): a synchronous facade over `oci-client` (ORAS
//! project; reqwest + rustls) on a current-thread tokio runtime, so the rest of airlock stays
//! synchronous. `cargo build --no-default-features` leaves all of this out: the verify-only binary
//! for the air-gapped host carries no network code.
//!
//! What `oci-client` brings (DEPS.md section 3): the `WWW-Authenticate` challenge flow with a token
//! cache (basic and bearer), manifests checked against the requested digest, blobs digest-checked
//! while they stream, the Referrers API with the `sha256-<hex>` tag-schema fallback, chunked and
//! monolithic uploads, cross-repository mounts, plain HTTP for named hosts, and no `Authorization`
//! header across hosts on redirects. What airlock adds: credentials from the docker `config.json`
//! (`docker_credential`: `auths`, `credsStore`, `credHelpers`), the 4 MiB manifest cap, its own
//! hash of every byte (the `Docker-Content-Digest` header is never trusted alone), resuming an
//! interrupted blob with `Range`, and retries with backoff.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use crate::digest::{Digest, Hasher};
use crate::layout::model::{self, Descriptor, Document};

/// Every manifest media type airlock asks for.
pub const ACCEPT: &[&str] = &[
    model::OCI_MANIFEST,
    model::OCI_INDEX,
    model::DOCKER_MANIFEST,
    model::DOCKER_INDEX,
    model::OCI_ARTIFACT_MANIFEST,
];

/// Largest manifest fetched.
pub const MAX_MANIFEST: usize = 4 << 20;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A reference that does not parse.
    #[error("{0:?} is not a registry reference: {1}")]
    Reference(String, String),
    /// The registry answered with an error.
    #[error("{what}: {message}")]
    Protocol {
        /// The operation and reference.
        what: String,
        /// The error.
        message: String,
    },
    /// Content does not match its digest or size.
    #[error("{what}: {message}")]
    Mismatch {
        /// The operation and reference.
        what: String,
        /// What differs.
        message: String,
    },
    /// Local I/O while streaming.
    #[error("{0}")]
    Io(String),
}

/// How to reach registries.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Hosts (`HOST[:PORT]`) spoken to over plain HTTP.
    pub plain_http: Vec<String>,
    /// Extra CA certificates (PEM) to trust for HTTPS.
    pub ca_file: Option<PathBuf>,
    /// The docker `config.json` to take credentials from (default: `$DOCKER_CONFIG/config.json`,
    /// then `~/.docker/config.json`).
    pub registry_config: Option<PathBuf>,
    /// Per-request timeout.
    pub timeout: Option<Duration>,
    /// Retries on 429/5xx and dropped connections.
    pub retries: u32,
}

/// A registry client.
pub struct Registry {
    rt: tokio::runtime::Runtime,
    client: Client,
    opts: Options,
}

fn proto(what: &str, e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Protocol {
        what: what.to_owned(),
        message: e.to_string(),
    }
}

impl Registry {
    /// A client with `opts`.
    pub fn new(opts: Options) -> Result<Self, RegistryError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| RegistryError::Io(e.to_string()))?;
        let mut config = ClientConfig {
            protocol: if opts.plain_http.is_empty() {
                ClientProtocol::Https
            } else {
                ClientProtocol::HttpsExcept(opts.plain_http.clone())
            },
            read_timeout: Some(opts.timeout.unwrap_or(Duration::from_secs(60))),
            // One streamed PUT per blob: chunked uploads cost one request per stream item.
            use_monolithic_push: true,
            connect_timeout: Some(Duration::from_secs(15)),
            ..ClientConfig::default()
        };
        if let Some(ca) = &opts.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| RegistryError::Io(format!("{}: {e}", ca.display())))?;
            config
                .extra_root_certificates
                .push(oci_client::client::Certificate {
                    encoding: oci_client::client::CertificateEncoding::Pem,
                    data: pem,
                });
        }
        Ok(Registry {
            rt,
            client: Client::new(config),
            opts,
        })
    }

    /// Parses a reference (`REGISTRY/REPO:TAG`, `REGISTRY/REPO@sha256:...`).
    pub fn parse(reference: &str) -> Result<Reference, RegistryError> {
        reference
            .parse::<Reference>()
            .map_err(|e| RegistryError::Reference(reference.to_owned(), e.to_string()))
    }

    /// Credentials for `registry` from the docker configuration, else anonymous. Never logged:
    /// `RegistryAuth`'s `Debug` redacts them.
    fn auth(&self, registry: &str) -> RegistryAuth {
        let found = match &self.opts.registry_config {
            Some(path) => std::fs::File::open(path).map_err(|_| ()).and_then(|f| {
                docker_credential::get_credential_from_reader(f, registry).map_err(|_| ())
            }),
            None => docker_credential::get_credential(registry).map_err(|_| ()),
        };
        match found {
            Ok(docker_credential::DockerCredential::UsernamePassword(u, p)) => {
                RegistryAuth::Basic(u, p)
            }
            Ok(docker_credential::DockerCredential::IdentityToken(t)) => RegistryAuth::Bearer(t),
            Err(_) => RegistryAuth::Anonymous,
        }
    }

    fn with_retries<T>(
        &self,
        what: &str,
        mut f: impl FnMut() -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let mut delay = Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            match f() {
                Ok(v) => return Ok(v),
                Err(RegistryError::Protocol { message, .. })
                    if attempt < self.opts.retries && retryable(&message) =>
                {
                    attempt += 1;
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(10));
                    let _ = what;
                    let _ = message;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Resolves a reference to its top-level descriptor and exact manifest bytes.
    pub fn resolve(&self, reference: &Reference) -> Result<(Descriptor, Vec<u8>), RegistryError> {
        let what = format!("resolving {}", reference.whole());
        let auth = self.auth(reference.resolve_registry());
        let (bytes, digest) = self.with_retries(&what, || {
            self.rt
                .block_on(self.client.pull_manifest_raw(reference, &auth, ACCEPT))
                .map_err(|e| proto(&what, e))
        })?;
        if bytes.len() > MAX_MANIFEST {
            return Err(RegistryError::Mismatch {
                what,
                message: format!("manifest of {} bytes exceeds {MAX_MANIFEST}", bytes.len()),
            });
        }
        let d = Digest::parse(&digest).map_err(|e| RegistryError::Mismatch {
            what: what.clone(),
            message: e.to_string(),
        })?;
        if Digest::of(d.algorithm(), &bytes) != d {
            return Err(RegistryError::Mismatch {
                what,
                message: format!("manifest bytes do not hash to {digest}"),
            });
        }
        if let Some(want) = reference.digest() {
            if want != digest {
                return Err(RegistryError::Mismatch {
                    what,
                    message: format!("asked for {want}, got {digest}"),
                });
            }
        }
        let doc = Document::parse(&bytes).map_err(|e| RegistryError::Mismatch {
            what: what.clone(),
            message: format!("not a manifest: {e}"),
        })?;
        let media_type = doc.media_type.clone().unwrap_or_else(|| match doc.shape() {
            model::Kind::Index => model::OCI_INDEX.to_owned(),
            _ => model::OCI_MANIFEST.to_owned(),
        });
        let desc = Descriptor {
            media_type: Some(media_type),
            digest,
            size: bytes.len() as u64,
            artifact_type: doc.artifact_type.clone(),
            annotations: Default::default(),
            platform: None,
            urls: Vec::new(),
        };
        Ok((desc, bytes.to_vec()))
    }

    fn at_digest(repo: &Reference, digest: &str) -> Reference {
        Reference::with_digest(
            repo.registry().to_owned(),
            repo.repository().to_owned(),
            digest.to_owned(),
        )
    }

    /// A manifest by descriptor, checked against its digest and size.
    pub fn manifest(&self, repo: &Reference, desc: &Descriptor) -> Result<Vec<u8>, RegistryError> {
        let r = Self::at_digest(repo, &desc.digest);
        let (_, bytes) = self.resolve(&r)?;
        if bytes.len() as u64 != desc.size {
            return Err(RegistryError::Mismatch {
                what: format!("manifest {}", desc.digest),
                message: format!("{} bytes, descriptor says {}", bytes.len(), desc.size),
            });
        }
        Ok(bytes)
    }

    /// Streams a blob into `out`, hashing as it arrives; a dropped connection is resumed with a
    /// `Range` request where the registry allows it. Returns the bytes written.
    pub fn blob(
        &self,
        repo: &Reference,
        desc: &Descriptor,
        out: &mut dyn Write,
    ) -> Result<u64, RegistryError> {
        self.blob_to(repo, desc, out, true)
    }

    /// As [`Registry::blob`]; `verify = false` leaves the digest check to the caller, who hashes
    /// what it writes anyway (export), so that every byte is hashed once, not twice.
    pub fn blob_to(
        &self,
        repo: &Reference,
        desc: &Descriptor,
        out: &mut dyn Write,
        verify: bool,
    ) -> Result<u64, RegistryError> {
        let what = format!("blob {} from {}", desc.digest, repo.whole());
        let d = Digest::parse(&desc.digest).map_err(|e| RegistryError::Mismatch {
            what: what.clone(),
            message: e.to_string(),
        })?;
        let r = Self::at_digest(repo, &desc.digest);
        let auth = self.auth(repo.resolve_registry());
        self.rt.block_on(
            self.client
                .store_auth_if_needed(repo.resolve_registry(), &auth),
        );
        let mut hasher = Hasher::new(d.algorithm());
        let mut written: u64 = 0;
        let mut attempts = 0;
        loop {
            let res = self.rt.block_on(async {
                // From offset 0 too: a `Range` request is answered 206 and streamed as is (oci-client
                // would otherwise hash it a second time); airlock hashes every byte itself.
                let mut stream = if written == 0 {
                    match self
                        .client
                        .pull_blob_stream_partial(&r, desc.digest.as_str(), 0, None)
                        .await
                        .map_err(|e| proto(&what, e))?
                    {
                        oci_client::client::BlobResponse::Partial(s)
                        | oci_client::client::BlobResponse::Full(s) => s.stream,
                    }
                } else {
                    match self
                        .client
                        .pull_blob_stream_partial(&r, desc.digest.as_str(), written, None)
                        .await
                        .map_err(|e| proto(&what, e))?
                    {
                        oci_client::client::BlobResponse::Partial(s) => s.stream,
                        oci_client::client::BlobResponse::Full(_) => {
                            return Err(proto(
                                &what,
                                "the registry does not resume (no Range support)",
                            ));
                        }
                    }
                };
                while let Some(chunk) = stream.next().await {
                    let chunk =
                        chunk.map_err(|e| proto(&what, format!("connection dropped: {e}")))?;
                    if written + chunk.len() as u64 > desc.size {
                        return Err(RegistryError::Mismatch {
                            what: what.clone(),
                            message: format!("more than the {} bytes described", desc.size),
                        });
                    }
                    if verify {
                        hasher.update(&chunk);
                    }
                    out.write_all(&chunk)
                        .map_err(|e| RegistryError::Io(e.to_string()))?;
                    written += chunk.len() as u64;
                }
                Ok(())
            });
            match res {
                Ok(()) => break,
                Err(RegistryError::Protocol { message, .. })
                    if attempts < self.opts.retries && retryable(&message) =>
                {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(200 << attempts.min(5)));
                }
                Err(e) => return Err(e),
            }
        }
        if !verify {
            if written != desc.size {
                return Err(RegistryError::Mismatch {
                    what,
                    message: format!("{written} bytes, descriptor says {}", desc.size),
                });
            }
            return Ok(written);
        }
        let (actual, n) = hasher.finish();
        if actual != d || n != desc.size {
            return Err(RegistryError::Mismatch {
                what,
                message: format!("content hashes to {actual} ({n} bytes)"),
            });
        }
        Ok(n)
    }

    /// Manifests whose `subject` is `digest` (optionally of one artifact type): the Referrers API,
    /// or the `sha256-<hex>` tag-schema index when the registry has none.
    pub fn referrers(
        &self,
        repo: &Reference,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, RegistryError> {
        let what = format!("referrers of {digest} in {}", repo.whole());
        let r = Self::at_digest(repo, digest);
        let auth = self.auth(repo.resolve_registry());
        self.rt.block_on(
            self.client
                .store_auth_if_needed(repo.resolve_registry(), &auth),
        );
        let index = match self
            .rt
            .block_on(self.client.pull_referrers(&r, artifact_type))
        {
            Ok(i) => i,
            Err(e) => {
                let msg = e.to_string();
                if msg.contains("404")
                    || msg.to_ascii_lowercase().contains("not found")
                    || msg.contains("MANIFEST_UNKNOWN")
                {
                    return Ok(Vec::new());
                }
                return Err(proto(&what, msg));
            }
        };
        Ok(index
            .manifests
            .into_iter()
            .map(|m| Descriptor {
                media_type: Some(m.media_type),
                digest: m.digest,
                size: u64::try_from(m.size).unwrap_or(0),
                artifact_type: m.artifact_type,
                annotations: m.annotations.unwrap_or_default(),
                platform: None,
                urls: Vec::new(),
            })
            .collect())
    }

    /// The digest a tag or digest reference currently names, if it exists.
    pub fn manifest_digest(&self, reference: &Reference) -> Option<String> {
        let auth = self.auth(reference.resolve_registry());
        self.rt
            .block_on(self.client.fetch_manifest_digest(reference, &auth))
            .ok()
    }

    /// Whether the repository of `repo` holds the blob.
    pub fn blob_exists(&self, repo: &Reference, digest: &str) -> bool {
        let auth = self.auth(repo.resolve_registry());
        self.rt.block_on(
            self.client
                .store_auth_if_needed(repo.resolve_registry(), &auth),
        );
        self.rt
            .block_on(self.client.blob_exists(repo, digest))
            .unwrap_or(false)
    }

    /// Mounts a blob from another repository of the same registry (no bytes move).
    pub fn mount(
        &self,
        repo: &Reference,
        from: &Reference,
        digest: &str,
    ) -> Result<(), RegistryError> {
        let what = format!(
            "mounting {digest} from {} into {}",
            from.repository(),
            repo.repository()
        );
        self.rt
            .block_on(self.client.mount_blob(repo, from, digest))
            .map_err(|e| proto(&what, e))
    }

    /// Uploads a blob (streamed from `data`) unless the registry already has it.
    pub fn push_blob(
        &self,
        repo: &Reference,
        desc: &Descriptor,
        data: Box<dyn Read + Send>,
    ) -> Result<bool, RegistryError> {
        let what = format!("pushing blob {} to {}", desc.digest, repo.whole());
        let auth = self.auth(repo.resolve_registry());
        self.rt.block_on(
            self.client
                .store_auth_if_needed(repo.resolve_registry(), &auth),
        );
        let exists = self
            .rt
            .block_on(self.client.blob_exists(repo, &desc.digest))
            .unwrap_or(false);
        if exists {
            return Ok(false);
        }
        let stream = futures_util::stream::unfold(data, |mut r| async move {
            let mut buf = vec![0u8; 1 << 20];
            match r.read(&mut buf) {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(bytes::Bytes::from(buf)), r))
                }
                Err(e) => Some((Err(oci_client::errors::OciDistributionError::IoError(e)), r)),
            }
        });
        self.rt
            .block_on(
                self.client
                    .push_blob_stream(repo, stream, &desc.digest, Some(desc.size)),
            )
            .map_err(|e| proto(&what, e))?;
        Ok(true)
    }

    /// Uploads a manifest with its exact bytes and media type, by tag or by digest (`reference`).
    pub fn push_manifest(
        &self,
        reference: &Reference,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        let what = format!("pushing manifest {}", reference.whole());
        let auth = self.auth(reference.resolve_registry());
        self.rt.block_on(
            self.client
                .store_auth_if_needed(reference.resolve_registry(), &auth),
        );
        let ct = reqwest_header(media_type).map_err(|e| proto(&what, e))?;
        self.rt
            .block_on(self.client.push_manifest_raw(reference, bytes.to_vec(), ct))
            .map_err(|e| proto(&what, e))?;
        Ok(())
    }
}

fn reqwest_header(v: &str) -> Result<http::HeaderValue, String> {
    http::HeaderValue::from_str(v).map_err(|e| e.to_string())
}

fn retryable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "429",
        "500",
        "502",
        "503",
        "504",
        "connection",
        "timed out",
        "dropped",
        "reset",
    ]
    .iter()
    .any(|k| m.contains(k))
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
            reference: Registry::parse(given)?,
            given: given.to_owned(),
        })
    }
}

fn src(e: RegistryError) -> crate::export::ExportError {
    match e {
        RegistryError::Mismatch { what, message } => crate::export::ExportError::Mismatch {
            digest: what,
            problem: message,
        },
        other => crate::export::ExportError::Source(other.to_string()),
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
        self.registry.resolve(&self.reference).map_err(src)
    }

    fn manifest(&mut self, desc: &Descriptor) -> Result<Vec<u8>, crate::export::ExportError> {
        self.registry.manifest(&self.reference, desc).map_err(src)
    }

    fn blob(
        &mut self,
        desc: &Descriptor,
        out: &mut dyn Write,
    ) -> Result<u64, crate::export::ExportError> {
        // export hashes everything it writes (export::Checking): one pass, not two.
        self.registry
            .blob_to(&self.reference, desc, out, false)
            .map_err(src)
    }

    fn referrers(
        &mut self,
        subject: &Descriptor,
    ) -> Result<Vec<Descriptor>, crate::export::ExportError> {
        self.registry
            .referrers(
                &self.reference,
                &subject.digest,
                Some(model::NOTARY_SIGNATURE),
            )
            .map_err(src)
    }
}
