//! The push side (what `import` uses), on the same reqwest transport as the pull side, so every
//! answer a registry gives to an upload is read as the pull side reads it: error bodies and token
//! answers through the 64 KiB cap ([`super::transport::MAX_SMALL`]), the registry's own
//! `WWW-Authenticate` challenge answered with the docker-config credentials, and no panic on any
//! answer.
//!
//! - **Blobs**: `HEAD` (already there: nothing sent), then `POST /v2/<name>/blobs/uploads/` and
//!   one streamed monolithic `PUT <Location>?digest=...` with `Content-Length` (the distribution
//!   specification's "monolithic upload", two requests per blob). An upload `Location` on another
//!   origin (scheme, host, port) gets no credentials; one on plain HTTP is refused unless its host
//!   is named in `--plain-http`. The streamed `PUT` is sent once (its body is the caller's reader,
//!   hashed again on the way); the `POST` is retried like any pull request.
//! - **Manifests**: `PUT /v2/<name>/manifests/<tag or digest>` with the exact bytes and media
//!   type, retried on transient failures (the same bytes again). The answer must say where the
//!   manifest went (`Location`, which the specification requires, or `Docker-Content-Digest`), and
//!   the digest it names must be the digest of the bytes sent.
//! - **Mounts**: `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo>`; only a 201 is a mount.
//!
//! Deadlines are the pull side's ([`super::Options`]): a blob's upload its size at the minimum rate
//! plus the retry budget (the upload client has no per-read timeout: while a body goes up, the
//! answer is read only at its end), everything else the retry budget.

use std::future::Future;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{
    HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION,
};
use reqwest::{Response, StatusCode, Url};

use super::error::clip;
use super::pull::header_digest;
use super::transport::{read_capped, retry_after, secs, transport_fail, within, Fail, MAX_SMALL};
use super::{Reference, Registry, RegistryError, RegistryErrorCode};
use crate::digest::Digest;
use crate::layout::model::Descriptor;

/// Whole milliseconds of `d`.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The final error of a [`Fail`].
fn final_error(f: Fail) -> RegistryError {
    match f {
        Fail::Retry { err, .. } | Fail::Fatal(err) => err,
    }
}

/// `scheme`, host and port of a URL, for comparing origins.
fn origin(u: &Url) -> (String, Option<String>, Option<u16>) {
    (
        u.scheme().to_owned(),
        u.host_str().map(str::to_ascii_lowercase),
        u.port_or_known_default(),
    )
}

/// Checks the answer to a manifest `PUT` of `bytes` to `pushed` (the URL's path,
/// `/v2/<name>/manifests/<tag or digest>`): it must name the manifest it recorded, by digest
/// (`Docker-Content-Digest`, or the last segment of `Location`), and every digest it names must
/// be the digest of `bytes` (another one means the registry recorded something other than the
/// bytes sent, a conversion or a lie, and the tag now points there). An answer naming no digest
/// passes only when its `Location` is the very reference pushed: a `Location` elsewhere (another
/// repository, another tag) says nothing of what was recorded here.
fn check_recorded(
    what: &str,
    headers: &HeaderMap,
    bytes: &[u8],
    pushed: &str,
) -> Result<(), RegistryError> {
    let refused = |message: String| RegistryError::Push {
        what: what.to_owned(),
        message,
    };
    let location = headers.get(LOCATION).and_then(|v| v.to_str().ok());
    let named = header_digest(headers);
    if location.is_none() && named.is_none() {
        return Err(refused(
            "the registry answered without the Location header the distribution specification \
             requires (and without Docker-Content-Digest): it cannot be told which manifest it \
             recorded"
                .into(),
        ));
    }
    // The path of the Location (absolute URL or not), without query or fragment.
    let location_path = location.map(|l| {
        let l = l.split(['?', '#']).next().unwrap_or(l);
        match l.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
            None => l,
        }
    });
    let in_location = location_path.and_then(|p| Digest::parse(p.rsplit('/').next()?).ok());
    if in_location.is_none() && named.is_none() && location_path != Some(pushed) {
        return Err(refused(format!(
            "the registry answered with Location {:?} and no digest: neither the manifest pushed \
             ({pushed}) nor a digest, so it cannot be told which manifest it recorded",
            clip(location.unwrap_or_default(), 200)
        )));
    }
    for named in [in_location, named].into_iter().flatten() {
        let sent = Digest::of(named.algorithm(), bytes);
        if named != sent {
            return Err(refused(format!(
                "the registry answered with digest {named}, not {sent} (the digest of the bytes \
                 sent): it recorded another manifest"
            )));
        }
    }
    Ok(())
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

    /// Maps an unsuccessful answer to an upload step to a [`Fail`], reading at most
    /// [`MAX_SMALL`] of its body: a distribution error code in it makes
    /// [`RegistryError::Refused`] (callers match on the code), anything else
    /// [`RegistryError::Push`] with the status. 408, 429 and 5xx are worth another try.
    async fn push_fail(&self, r: &Reference, what: &str, url: &str, resp: Response) -> Fail {
        let status = resp.status().as_u16();
        let after = retry_after(resp.headers());
        if matches!(status, 401 | 403) {
            return Fail::Fatal(RegistryError::Denied {
                url: url.to_owned(),
                status,
                anonymous: matches!(self.credential(r), Ok(None)),
            });
        }
        let body = read_capped(resp, MAX_SMALL, url).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let err = match RegistryErrorCode::from_body(&text) {
            Some((code, message)) => RegistryError::Refused {
                what: what.to_owned(),
                status: Some(status),
                code,
                message,
            },
            None => RegistryError::Push {
                what: what.to_owned(),
                message: format!(
                    "{url}: HTTP {status}{}",
                    match clip(&text, 200) {
                        m if m.is_empty() => String::new(),
                        m => format!(": {m}"),
                    }
                ),
            },
        };
        if matches!(status, 408 | 429 | 500 | 502 | 503 | 504) {
            Fail::Retry { err, after }
        } else {
            Fail::Fatal(err)
        }
    }

    /// The `Authorization` value that worked for `r`'s repository, if any.
    fn cached_authorization(&self, r: &Reference) -> Option<HeaderValue> {
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(r.api_host().to_owned(), r.repository().to_owned()))
            .cloned()
    }

    /// Mounts a blob from another repository of the same registry (no bytes move). Only a 201 is a
    /// mount: a registry that opens an upload instead (202) has not mounted it.
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
        let d = Digest::parse(digest).map_err(|e| RegistryError::Descriptor {
            digest: digest.to_owned(),
            reason: e.to_string(),
        })?;
        let mut url = self.uploads_url(repo)?;
        url.query_pairs_mut()
            .append_pair("mount", &d.to_string())
            .append_pair("from", from.repository());
        let url = url.to_string();
        self.retrying(&what, || async {
            let resp = self
                .send(repo, &url, |c| c.post(&url).header(CONTENT_LENGTH, 0))
                .await?;
            match resp.status() {
                StatusCode::CREATED => Ok(()),
                s if s.is_success() => Err(Fail::Fatal(RegistryError::Push {
                    what: what.clone(),
                    message: format!(
                        "the registry did not mount the blob (HTTP {}: it opened an upload instead)",
                        s.as_u16()
                    ),
                })),
                _ => Err(self.push_fail(repo, &what, &url, resp).await),
            }
        })
    }

    /// `POST /v2/<name>/blobs/uploads/` of `repo`.
    fn uploads_url(&self, repo: &Reference) -> Result<Url, RegistryError> {
        let url = format!(
            "{}/v2/{}/blobs/uploads/",
            self.base(repo),
            repo.repository()
        );
        Url::parse(&url).map_err(|e| RegistryError::Protocol {
            url,
            reason: e.to_string(),
        })
    }

    /// Where the registry said to send a blob's bytes (the `Location` of the `POST`, resolved
    /// against the URL that answered, `answered`: the request's, or where a redirect led), with
    /// `digest=` added; and whether it is on the registry's own origin (`start`'s: only then does
    /// it get the credentials).
    fn upload_location(
        &self,
        start: &Url,
        answered: &Url,
        headers: &HeaderMap,
        digest: &Digest,
    ) -> Result<(Url, bool), Fail> {
        let proto = |reason: String| {
            Fail::Fatal(RegistryError::Protocol {
                url: start.to_string(),
                reason,
            })
        };
        let given = headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                proto("the upload was opened without a Location to send it to".into())
            })?;
        let mut url = answered.join(given).map_err(|_| {
            proto(format!(
                "the upload Location {:?} is not a URL",
                clip(given, 200)
            ))
        })?;
        match url.scheme() {
            "https" => {}
            "http" => {
                if !self.is_plain_url(&url) {
                    return Err(proto(format!(
                        "the upload Location {} is plain HTTP (name its host in --plain-http to allow it)",
                        clip(url.as_str(), 200)
                    )));
                }
            }
            _ => {
                return Err(proto(format!(
                    "the upload Location {} is not HTTP",
                    clip(url.as_str(), 200)
                )))
            }
        }
        let same = origin(&url) == origin(start);
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        Ok((url, same))
    }

    /// Uploads a blob (streamed from `data`, exactly `desc.size` bytes) unless the registry
    /// already has it; `true` when it was uploaded.
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
        let digest = Digest::parse(&desc.digest).map_err(|e| RegistryError::Descriptor {
            digest: desc.digest.clone(),
            reason: e.to_string(),
        })?;
        let start = self.uploads_url(repo)?;
        let start_text = start.to_string();
        let (put, same_origin) = self.retrying(&what, || async {
            let resp = self
                .send(repo, &start_text, |c| {
                    c.post(&start_text).header(CONTENT_LENGTH, 0)
                })
                .await?;
            if !resp.status().is_success() {
                return Err(self.push_fail(repo, &what, &start_text, resp).await);
            }
            self.upload_location(&start, resp.url(), resp.headers(), &digest)
        })?;
        let auth = if same_origin {
            self.cached_authorization(repo)
        } else {
            None
        };
        // Progress: when the body last moved (milliseconds after `started`), its end included. A
        // registry that stops taking the body, or takes it all and never answers, fails one retry
        // budget after the last progress, whatever --min-rate says (red team G, G2: with
        // --min-rate 0 such an upload waited for ever).
        let started = Instant::now();
        let last = Arc::new(AtomicU64::new(0));
        let moved = Arc::clone(&last);
        let stream = futures_util::stream::unfold(data, move |mut r| {
            let moved = Arc::clone(&moved);
            async move {
                let mut buf = vec![0u8; 1 << 20];
                let read = r.read(&mut buf);
                moved.store(millis(started.elapsed()), Ordering::Relaxed);
                match read {
                    Ok(0) => None,
                    Ok(n) => {
                        buf.truncate(n);
                        Some((Ok(bytes::Bytes::from(buf)), r))
                    }
                    Err(e) => Some((Err(e), r)),
                }
            }
        });
        let budget = self.budget;
        let watchdog = async {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let since = started
                    .elapsed()
                    .saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
                if since > budget {
                    return since;
                }
            }
        };
        let put_text = put.to_string();
        let how = self.allowance_text(desc.size);
        let send = async {
            let mut req = self
                .direct_http
                .put(put)
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(CONTENT_LENGTH, desc.size)
                .body(reqwest::Body::wrap_stream(stream));
            if let Some(h) = auth {
                req = req.header(AUTHORIZATION, h);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| final_error(transport_fail(&put_text, &e)))?;
            if !resp.status().is_success() {
                return Err(final_error(
                    self.push_fail(repo, &what, &put_text, resp).await,
                ));
            }
            match header_digest(resp.headers()) {
                Some(named) if named != digest => Err(RegistryError::Push {
                    what: what.clone(),
                    message: format!(
                        "the registry answered with digest {named}, not {digest}: it recorded \
                         other bytes"
                    ),
                }),
                _ => Ok(()),
            }
        };
        let done = self.push_within(&what, self.blob_allowance(desc.size), &how, async {
            match futures_util::future::select(Box::pin(send), Box::pin(watchdog)).await {
                futures_util::future::Either::Left((done, _)) => done,
                futures_util::future::Either::Right((since, _)) => Err(RegistryError::TimedOut {
                    what: what.clone(),
                    reason: format!(
                        "stalled: the upload made no progress for {} (the retry budget of {}) after \
                         {} in all",
                        secs(since),
                        secs(budget),
                        secs(started.elapsed())
                    ),
                }),
            }
        })?;
        done?;
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
        let ct = HeaderValue::from_str(media_type).map_err(|e| RegistryError::Push {
            what: what.clone(),
            message: format!("media type {:?}: {e}", clip(media_type, 200)),
        })?;
        let target = match (reference.digest(), reference.tag()) {
            (Some(d), _) => d.to_string(),
            (None, t) => t.unwrap_or("latest").to_owned(),
        };
        let url = format!(
            "{}/v2/{}/manifests/{target}",
            self.base(reference),
            reference.repository()
        );
        let pushed = format!("/v2/{}/manifests/{target}", reference.repository());
        let body = bytes::Bytes::copy_from_slice(bytes);
        self.retrying(&what, || async {
            let resp = self
                .send(reference, &url, |c| {
                    c.put(&url)
                        .header(CONTENT_TYPE, ct.clone())
                        .body(body.clone())
                })
                .await?;
            if !resp.status().is_success() {
                return Err(self.push_fail(reference, &what, &url, resp).await);
            }
            check_recorded(&what, resp.headers(), bytes, &pushed).map_err(Fail::Fatal)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn a_manifest_answer_must_name_the_bytes_sent() {
        let bytes = b"{}";
        let sent = Digest::sha256(bytes).to_string();
        let other = Digest::sha256(b"other").to_string();
        let at = |d: &str| format!("/v2/app/manifests/{d}");
        let pushed = "/v2/app/manifests/v1";
        for ok in [
            headers(&[("location", &at(&sent))]),
            headers(&[("location", pushed)]),
            headers(&[("location", "https://reg.example/v2/app/manifests/v1")]),
            headers(&[("docker-content-digest", &sent)]),
            headers(&[
                ("location", "/v2/other/manifests/x"),
                ("docker-content-digest", &sent),
            ]),
            headers(&[("location", &format!("{}?x=1", at(&sent)))]),
        ] {
            check_recorded("w", &ok, bytes, pushed).unwrap();
        }
        for bad in [
            headers(&[]),
            headers(&[("location", &at(&other))]),
            headers(&[("docker-content-digest", &other)]),
            headers(&[("location", &at(&sent)), ("docker-content-digest", &other)]),
            // Red team G, G4: somewhere else, and no digest.
            headers(&[("location", "/v2/other/manifests/latest")]),
            headers(&[("location", "/v2/app/manifests/v2")]),
        ] {
            assert!(check_recorded("w", &bad, bytes, pushed).is_err(), "{bad:?}");
        }
    }
}
