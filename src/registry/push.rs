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

/// Checks the answer to a manifest `PUT`: it must name where the manifest went (`Location` or
/// `Docker-Content-Digest`), and a digest it names must be the digest of `bytes`: another digest
/// means the registry recorded something other than the bytes sent (a conversion, or a lie), and
/// the tag now points there.
fn check_recorded(what: &str, headers: &HeaderMap, bytes: &[u8]) -> Result<(), RegistryError> {
    let location = headers.get(LOCATION).and_then(|v| v.to_str().ok());
    let named = header_digest(headers);
    if location.is_none() && named.is_none() {
        return Err(RegistryError::Push {
            what: what.to_owned(),
            message: "the registry answered without the Location header the distribution \
                      specification requires (and without Docker-Content-Digest): it cannot be \
                      told which manifest it recorded"
                .into(),
        });
    }
    let in_location = location.and_then(|l| {
        let path = l.split(['?', '#']).next().unwrap_or(l);
        Digest::parse(path.rsplit('/').next()?).ok()
    });
    for named in [in_location, named].into_iter().flatten() {
        let sent = Digest::of(named.algorithm(), bytes);
        if named != sent {
            return Err(RegistryError::Push {
                what: what.to_owned(),
                message: format!(
                    "the registry answered with digest {named}, not {sent} (the digest of the \
                     bytes sent): it recorded another manifest"
                ),
            });
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
        let stream = futures_util::stream::unfold(data, |mut r| async move {
            let mut buf = vec![0u8; 1 << 20];
            match r.read(&mut buf) {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(bytes::Bytes::from(buf)), r))
                }
                Err(e) => Some((Err(e), r)),
            }
        });
        let put_text = put.to_string();
        let how = self.allowance_text(desc.size);
        let done = self.push_within(&what, self.blob_allowance(desc.size), &how, async {
            let mut req = self
                .upload_http
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
            check_recorded(&what, resp.headers(), bytes).map_err(Fail::Fatal)
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
        for ok in [
            headers(&[("location", &at(&sent))]),
            headers(&[("location", "/v2/app/manifests/v1")]),
            headers(&[("docker-content-digest", &sent)]),
            headers(&[("location", &format!("{}?x=1", at(&sent)))]),
        ] {
            check_recorded("w", &ok, bytes).unwrap();
        }
        for bad in [
            headers(&[]),
            headers(&[("location", &at(&other))]),
            headers(&[("docker-content-digest", &other)]),
            headers(&[("location", &at(&sent)), ("docker-content-digest", &other)]),
        ] {
            assert!(check_recorded("w", &bad, bytes).is_err(), "{bad:?}");
        }
    }
}
