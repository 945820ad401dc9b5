//! The push side (what `import` uses), through `oci-client`: one streamed monolithic upload per
//! blob (an upload `Location` on another host gets no credentials: tested, done by `oci-client`),
//! a manifest `Location` checked against the digest of the bytes sent, cross-repository mounts. Credentials are the same docker-config
//! ones the pull side uses; `oci-client` runs its own challenge flow with them. Each operation has
//! the deadline the pull side has (`Options`): a blob its size at the minimum rate plus the retry
//! budget, a manifest, a mount or the authentication the retry budget.

use std::future::Future;
use std::io::Read;
use std::time::{Duration, Instant};

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;

use super::error::clip;
use super::transport::{secs, within};
use super::{Credential, Options, Reference, Registry, RegistryError, RegistryErrorCode};
use crate::layout::model::Descriptor;

/// The `oci-client` client for uploads, configured like the pull side.
pub(crate) fn build_client(
    opts: &Options,
    connect: Duration,
    ca_pem: Option<Vec<u8>>,
) -> Result<oci_client::Client, RegistryError> {
    let mut config = ClientConfig {
        protocol: if opts.plain_http.is_empty() {
            ClientProtocol::Https
        } else {
            ClientProtocol::HttpsExcept(opts.plain_http.clone())
        },
        // No read timeout: while a blob's body goes up, the response is read only at its end, so
        // a per-read timeout would cut every upload longer than it (a 4 GiB layer at 70 MB/s
        // takes a minute). Every upload is bounded by its own allowance instead (push_within:
        // the retry budget plus the blob's size at --min-rate), manifests by the retry budget.
        // One streamed PUT per blob: chunked uploads cost one request per stream item.
        use_monolithic_push: true,
        connect_timeout: Some(connect.min(Duration::from_secs(30))),
        user_agent: concat!("airlock/", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    };
    if let Some(pem) = ca_pem {
        config
            .extra_root_certificates
            .push(oci_client::client::Certificate {
                encoding: oci_client::client::CertificateEncoding::Pem,
                data: pem,
            });
    }
    oci_client::Client::try_from(config).map_err(|e| RegistryError::Setup(e.to_string()))
}

/// `oci-client`'s form of a reference.
fn oci_ref(r: &Reference) -> oci_client::Reference {
    match (r.digest(), r.tag()) {
        (Some(d), _) => oci_client::Reference::with_digest(
            r.registry().to_owned(),
            r.repository().to_owned(),
            d.to_string(),
        ),
        (None, t) => oci_client::Reference::with_tag(
            r.registry().to_owned(),
            r.repository().to_owned(),
            t.unwrap_or("latest").to_owned(),
        ),
    }
}

/// Types an `oci-client` failure: a response whose body carries a distribution error code becomes
/// [`RegistryError::Refused`] with that code; anything else [`RegistryError::Push`].
fn push_error(what: String, e: oci_client::errors::OciDistributionError) -> RegistryError {
    use oci_client::errors::OciDistributionError as E;
    let refused = match &e {
        E::ServerError { code, message, .. } => {
            RegistryErrorCode::from_body(message).map(|(c, m)| (Some(*code), c, m))
        }
        E::RegistryError { envelope, .. } => envelope.errors.first().and_then(|first| {
            let code = serde_json::to_value(&first.code).ok()?;
            Some((
                None,
                RegistryErrorCode::parse(code.as_str()?),
                clip(&first.message, 200),
            ))
        }),
        _ => None,
    };
    match refused {
        Some((status, code, message)) => RegistryError::Refused {
            what,
            status,
            code,
            message,
        },
        None => RegistryError::Push {
            what,
            message: super::error::chain(&e),
        },
    }
}

impl Registry {
    /// Runs an upload step to completion or until `allowance` has passed ([`RegistryError::TimedOut`]
    /// naming `what`, with `how` saying how the allowance was computed).
    fn push_within<T>(
        &self,
        what: &str,
        allowance: Option<Duration>,
        how: &str,
        fut: impl Future<Output = T>,
    ) -> Result<T, RegistryError> {
        let start = Instant::now();
        let limit = allowance.and_then(|a| start.checked_add(a));
        self.rt
            .block_on(within(limit, fut))
            .ok_or_else(|| RegistryError::TimedOut {
                what: what.to_owned(),
                reason: format!(
                    "deadline passed: not done after {} ({how})",
                    secs(start.elapsed())
                ),
            })
    }

    /// [`Registry::push_within`] with the retry budget as the deadline.
    fn push_within_budget<T>(
        &self,
        what: &str,
        fut: impl Future<Output = T>,
    ) -> Result<T, RegistryError> {
        let how = format!("the retry budget of {}", secs(self.budget));
        self.push_within(what, Some(self.budget), &how, fut)
    }

    /// Credentials for uploads, handed to `oci-client`.
    fn push_auth(&self, r: &Reference, what: &str) -> Result<RegistryAuth, RegistryError> {
        match self.credential(r)? {
            Some(Credential::Basic { username, password }) => Ok(RegistryAuth::Basic(
                username,
                password.expose().to_owned(),
            )),
            Some(Credential::IdentityToken(_)) => Err(RegistryError::Push {
                what: what.to_owned(),
                message: "uploads with an identity token from the docker config are not supported; log in with a username and password".into(),
            }),
            None => Ok(RegistryAuth::Anonymous),
        }
    }

    fn store_push_auth(&self, r: &Reference, what: &str) -> Result<(), RegistryError> {
        let auth = self.push_auth(r, what)?;
        let target = oci_ref(r);
        self.push_within_budget(
            what,
            self.pusher
                .store_auth_if_needed(target.resolve_registry(), &auth),
        )
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
        self.store_push_auth(repo, &what)?;
        self.push_within_budget(
            &what,
            self.pusher
                .mount_blob(&oci_ref(repo), &oci_ref(from), digest),
        )?
        .map_err(|e| push_error(what, e))
    }

    /// Uploads a blob (streamed from `data`) unless the registry already has it; `true` when it
    /// was uploaded.
    pub fn push_blob(
        &self,
        repo: &Reference,
        desc: &Descriptor,
        data: Box<dyn Read + Send>,
    ) -> Result<bool, RegistryError> {
        // Blobs belong to the repository: no tag (a reference without one would print `:latest`).
        let what = format!("pushing blob {} to {}", desc.digest, repo.repo_name());
        if self.blob_exists(repo, &desc.digest)? {
            return Ok(false);
        }
        self.store_push_auth(repo, &what)?;
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
        let how = self.allowance_text(desc.size);
        self.push_within(
            &what,
            self.blob_allowance(desc.size),
            &how,
            self.pusher
                .push_blob_stream(&oci_ref(repo), stream, &desc.digest, Some(desc.size)),
        )?
        .map_err(|e| push_error(what, e))?;
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
        self.store_push_auth(reference, &what)?;
        let ct = http::HeaderValue::from_str(media_type).map_err(|e| RegistryError::Push {
            what: what.clone(),
            message: e.to_string(),
        })?;
        // oci-client 0.18 panics on a 201 without `Location` to a push by digest (it cuts the tag
        // off the URL, and there is none): a registry's answer must not end the process.
        let pushed = catching_quietly(|| {
            self.push_within_budget(
                &what,
                self.pusher
                    .push_manifest_raw(&oci_ref(reference), bytes.to_vec(), ct),
            )
        });
        let pushed = match pushed {
            Ok(pushed) => pushed,
            Err(payload) => {
                let said = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                return Err(RegistryError::Push {
                    what,
                    message: format!(
                        "the HTTP client stopped on the registry's answer ({said}): a 201 without \
                         the Location header the distribution spec requires does this, and then \
                         it cannot be told where the manifest went"
                    ),
                });
            }
        };
        let location = pushed?.map_err(|e| push_error(what.clone(), e))?;
        // The answer's `Location` names the manifest by digest: another digest means the registry
        // recorded something other than the bytes sent (a conversion, or a lie), and the tag now
        // points there.
        if let Some(named) = location
            .rsplit('/')
            .next()
            .and_then(|last| crate::digest::Digest::parse(last).ok())
        {
            let sent = crate::digest::Digest::of(named.algorithm(), bytes);
            if named != sent {
                return Err(RegistryError::Push {
                    what,
                    message: format!(
                        "the registry answered with digest {named}, not {sent} (the digest of the bytes sent): it recorded another manifest"
                    ),
                });
            }
        }
        Ok(())
    }
}

thread_local! {
    /// Set while [`catching_quietly`] runs on this thread.
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, a panic inside it caught and returned (the caller reports it as an error), its
/// message not printed: a registry's answer that makes the HTTP client panic is an error with a
/// reason, not a crash report on stderr. The process's panic hook is wrapped once (never swapped
/// back and forth, which would race with other threads); the wrapper stays silent only on a
/// thread inside this function and hands every other panic to the hook it wrapped.
fn catching_quietly<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    static WRAP: std::sync::Once = std::sync::Once::new();
    WRAP.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let was = CATCHING.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(was));
    result
}
