//! HTTP underneath the pull side: the reqwest client, URLs, the authentication handshake, bounded
//! body reads, and the classification of failures into "retry" and "give up".

use std::future::Future;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, Response, StatusCode};

use super::auth::{self, Credential};
use super::error::{chain, clip};
use super::{Reference, Registry, RegistryError};

/// Largest error body, token answer or other small response read.
pub(crate) const MAX_SMALL: u64 = 64 << 10;

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// A failed attempt: worth another try, or not.
pub(crate) enum Fail {
    /// Transient (408, 429, 5xx, timeout, dropped connection); `after` is the server's
    /// `Retry-After`, when it gave one.
    Retry {
        err: RegistryError,
        after: Option<Duration>,
    },
    /// Final.
    Fatal(RegistryError),
}

impl From<RegistryError> for Fail {
    fn from(e: RegistryError) -> Self {
        Fail::Fatal(e)
    }
}

impl Fail {
    pub(crate) fn retry(err: RegistryError) -> Self {
        Fail::Retry { err, after: None }
    }
}

/// The reqwest client: with `timeout` as the longest silence while reading a response, and
/// redirects followed (at most 10, never from HTTPS to plain HTTP); or, `direct` (blob uploads and
/// token requests), with neither. While a blob's body goes up, the answer is read only at its end,
/// so a per-read timeout would cut every upload longer than it (a 4 GiB layer at 70 MB/s takes a
/// minute): each upload is bounded by its own deadlines instead. A streamed body cannot be sent
/// again to a redirect's target, and a token request carries the credentials (an identity token
/// in a POST body went along a 307 to another host over plain HTTP: red team G, G1).
pub(crate) fn build_client(
    timeout: Duration,
    ca_path: Option<&Path>,
    ca_pem: Option<&[u8]>,
    direct: bool,
) -> Result<reqwest::Client, RegistryError> {
    let mut b = reqwest::Client::builder()
        .user_agent(concat!("airlock/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout.min(Duration::from_secs(30)));
    b = if direct {
        b.redirect(reqwest::redirect::Policy::none())
    } else {
        b.read_timeout(timeout)
            .redirect(reqwest::redirect::Policy::custom(|a| {
                // At most 10, and never from HTTPS down to plain HTTP: reqwest keeps the
                // `Authorization` header on a redirect to the same host and port whatever the
                // scheme, and the bytes would cross the network in clear where TLS was asked for.
                if a.previous().len() > 10 {
                    a.error("more than 10 redirects")
                } else if a.url().scheme() == "http"
                    && a.previous().iter().any(|u| u.scheme() == "https")
                {
                    a.error("a redirect from HTTPS to plain HTTP")
                } else {
                    a.follow()
                }
            }))
    };
    if let (Some(path), Some(pem)) = (ca_path, ca_pem) {
        let certs =
            reqwest::Certificate::from_pem_bundle(pem).map_err(|e| RegistryError::Config {
                path: path.display().to_string(),
                reason: format!("not PEM certificates: {}", chain(&e)),
            })?;
        if certs.is_empty() {
            return Err(RegistryError::Config {
                path: path.display().to_string(),
                reason: "no PEM certificate in the file".into(),
            });
        }
        b = b.tls_certs_merge(certs);
    }
    b.build().map_err(|e| RegistryError::Setup(chain(&e)))
}

/// Turns a reqwest failure into a [`Fail`]: too many redirects and malformed requests are final,
/// everything else (connect, timeout, reset, truncated body) is worth a retry.
pub(crate) fn transport_fail(url: &str, e: &reqwest::Error) -> Fail {
    // reqwest repeats the URL in its message; the error already names it.
    let mut reason = chain(e);
    if let Some(u) = e.url() {
        reason = reason.replace(&format!(" for url ({u})"), "");
    }
    if e.is_timeout() && !reason.contains("timed out") {
        reason = format!("timed out ({reason})");
    }
    let err = RegistryError::Transport {
        url: url.to_owned(),
        reason,
    };
    if e.is_redirect() || e.is_builder() {
        Fail::Fatal(err)
    } else {
        Fail::retry(err)
    }
}

pub(crate) fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The OCI error envelope's codes and messages, else the start of the body.
fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(default)]
        errors: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Envelope>(body) {
        Ok(env) if !env.errors.is_empty() => clip(
            &env.errors
                .iter()
                .map(|i| format!("{} {}", i.code, i.message))
                .collect::<Vec<_>>()
                .join("; "),
            300,
        ),
        _ => clip(&String::from_utf8_lossy(body), 200),
    }
}

/// Reads a whole body, failing as soon as it passes `cap` (or announces more).
pub(crate) async fn read_capped(mut resp: Response, cap: u64, url: &str) -> Result<Vec<u8>, Fail> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(Fail::Fatal(RegistryError::TooLarge {
            url: url.to_owned(),
            limit: cap,
        }));
    }
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_fail(url, &e))? {
        if u64::try_from(buf.len().saturating_add(chunk.len())).unwrap_or(u64::MAX) > cap {
            return Err(Fail::Fatal(RegistryError::TooLarge {
                url: url.to_owned(),
                limit: cap,
            }));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// `60 s`, `2.5 s`: durations as errors print them.
pub(crate) fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Awaits `fut` until `limit` (without one: to the end); `None` when the limit came first.
pub(crate) async fn within<T>(limit: Option<Instant>, fut: impl Future<Output = T>) -> Option<T> {
    match limit {
        Some(l) => tokio::time::timeout_at(tokio::time::Instant::from_std(l), fut)
            .await
            .ok(),
        None => Some(fut.await),
    }
}

/// True when waiting `wait` from now would reach `end`.
pub(crate) fn past(end: Option<Instant>, wait: Duration) -> bool {
    match (end, Instant::now().checked_add(wait)) {
        (Some(e), Some(t)) => t >= e,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Exponential backoff: 250 ms, 500 ms, 1 s, ... capped; the server's `Retry-After` when given.
pub(crate) fn backoff(attempt: u32, after: Option<Duration>) -> Duration {
    after
        .unwrap_or_else(|| Duration::from_millis(250u64 << attempt.min(7)))
        .min(MAX_BACKOFF)
}

impl Registry {
    /// True when `host` is spoken to over plain HTTP.
    pub(crate) fn is_plain(&self, host: &str) -> bool {
        let bare = host
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(h, _)| h);
        self.plain_http
            .iter()
            .any(|p| p == host || (p == bare && !p.is_empty()))
    }

    /// True when `url`'s host and port (`HOST:PORT`, or `HOST` when the URL names no port) are
    /// spoken to over plain HTTP.
    pub(crate) fn is_plain_url(&self, url: &reqwest::Url) -> bool {
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => return false,
        };
        self.is_plain(&host)
    }

    /// `scheme://host` of a reference's registry API.
    pub(crate) fn base(&self, r: &Reference) -> String {
        let host = r.api_host();
        let scheme = if self.is_plain(host) { "http" } else { "https" };
        format!("{scheme}://{host}")
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries or the retry budget are
    /// spent. The budget bounds the whole request, every attempt and the waits between them: an
    /// attempt still running when it ends is abandoned, and no wait is begun that would end after
    /// it. Running out of it is [`RegistryError::TimedOut`] ("stalled"), naming `what`.
    pub(crate) fn retrying<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, RegistryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Fail>>,
    {
        let start = Instant::now();
        let end = start.checked_add(self.budget);
        let mut n = 0;
        let mut last: Option<RegistryError> = None;
        loop {
            let (err, after) = match self.rt.block_on(within(end, attempt())) {
                None => return Err(self.stalled(what, start, n + 1, last.as_ref())),
                Some(Ok(v)) => return Ok(v),
                Some(Err(Fail::Fatal(e))) => return Err(e),
                Some(Err(Fail::Retry { err, after })) => (err, after),
            };
            if n >= self.retries {
                return Err(err);
            }
            let wait = backoff(n, after);
            if past(end, wait) {
                return Err(self.stalled(what, start, n + 1, Some(&err)));
            }
            std::thread::sleep(wait);
            n += 1;
            last = Some(err);
        }
    }

    /// The error of a request that spent its retry budget without a result.
    fn stalled(
        &self,
        what: &str,
        start: Instant,
        attempts: u32,
        last: Option<&RegistryError>,
    ) -> RegistryError {
        RegistryError::TimedOut {
            what: what.to_owned(),
            reason: format!(
                "stalled: no result within the retry budget of {} ({attempts} attempt(s) in {}{})",
                secs(self.budget),
                secs(start.elapsed()),
                last.map(|e| format!("; the last: {e}")).unwrap_or_default()
            ),
        }
    }

    /// How long a blob of `size` bytes may take, all attempts included: the retry budget plus
    /// `size` at the minimum rate; `None` when there is no minimum rate.
    pub(crate) fn blob_allowance(&self, size: u64) -> Option<Duration> {
        if self.min_rate == 0 {
            return None;
        }
        let nanos = u128::from(size) * 1_000_000_000 / u128::from(self.min_rate);
        let transfer = Duration::new(
            u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX),
            u32::try_from(nanos % 1_000_000_000).unwrap_or(0),
        );
        self.budget.checked_add(transfer)
    }

    /// `60 s + 1073741824 bytes at 256 KiB/s = 4156 s`: how an allowance was computed, for errors.
    pub(crate) fn allowance_text(&self, size: u64) -> String {
        match self.blob_allowance(size) {
            Some(total) => format!(
                "{} + {size} bytes at {} = {}",
                secs(self.budget),
                super::rate_text(self.min_rate),
                secs(total)
            ),
            None => "no deadline".into(),
        }
    }

    /// Sends a request for `r`'s repository with the cached authorization, and when the registry
    /// answers 401, authenticates from its challenge and sends once more. The caller maps any
    /// status that is not a success with [`Registry::status_fail`].
    pub(crate) async fn send(
        &self,
        r: &Reference,
        url: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, Fail> {
        let key = (r.api_host().to_owned(), r.repository().to_owned());
        let cached = self
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        let mut req = build(&self.http);
        if let Some(h) = cached {
            req = req.header(AUTHORIZATION, h);
        }
        let resp = req.send().await.map_err(|e| transport_fail(url, &e))?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let header = self.authorize(r, resp.headers(), url).await?;
        drop(resp);
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, header.clone());
        build(&self.http)
            .header(AUTHORIZATION, header)
            .send()
            .await
            .map_err(|e| transport_fail(url, &e))
    }

    /// Maps an unsuccessful response to a [`Fail`], reading at most [`MAX_SMALL`] of its body for
    /// the registry's own error message.
    pub(crate) async fn status_fail(&self, r: &Reference, url: &str, resp: Response) -> Fail {
        let status = resp.status().as_u16();
        let after = retry_after(resp.headers());
        let message = match read_capped(resp, MAX_SMALL, url).await {
            Ok(body) => error_message(&body),
            Err(_) => String::new(),
        };
        let url = url.to_owned();
        match status {
            401 | 403 => Fail::Fatal(RegistryError::Denied {
                url,
                status,
                anonymous: matches!(self.credential(r), Ok(None)),
            }),
            404 => Fail::Fatal(RegistryError::NotFound { url }),
            408 | 429 | 500 | 502 | 503 | 504 => Fail::Retry {
                err: RegistryError::Status {
                    url,
                    status,
                    message,
                },
                after,
            },
            _ => Fail::Fatal(RegistryError::Status {
                url,
                status,
                message,
            }),
        }
    }

    /// Answers a 401: the `Authorization` value its challenge asks for.
    async fn authorize(
        &self,
        r: &Reference,
        headers: &HeaderMap,
        url: &str,
    ) -> Result<HeaderValue, Fail> {
        let challenges: Vec<auth::Challenge> = headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(auth::parse_challenges)
            .collect();
        let cred = self.credential(r)?;
        let denied = || {
            Fail::Fatal(RegistryError::Denied {
                url: url.to_owned(),
                status: 401,
                anonymous: cred.is_none(),
            })
        };
        if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
            return self.bearer_token(r, bearer, cred.as_ref(), url).await;
        }
        if challenges.iter().any(|c| c.scheme == "basic") {
            return match &cred {
                Some(Credential::Basic { username, password }) => auth::basic_header(
                    username, password,
                )
                .ok_or_else(|| {
                    Fail::Fatal(RegistryError::Credentials {
                        registry: r.registry().to_owned(),
                        reason: "the username holds characters an HTTP header cannot carry".into(),
                    })
                }),
                Some(Credential::IdentityToken(_)) => {
                    Err(Fail::Fatal(RegistryError::Credentials {
                        registry: r.registry().to_owned(),
                        reason: "the registry asks for a password; the docker config holds an identity token".into(),
                    }))
                }
                None => Err(denied()),
            };
        }
        Err(denied())
    }

    /// Fetches a bearer token from the challenge's realm, for `r`'s repository.
    async fn bearer_token(
        &self,
        r: &Reference,
        ch: &auth::Challenge,
        cred: Option<&Credential>,
        url: &str,
    ) -> Result<HeaderValue, Fail> {
        let realm = ch.param("realm").unwrap_or_default();
        let proto = |reason: String| {
            Fail::Fatal(RegistryError::Protocol {
                url: url.to_owned(),
                reason,
            })
        };
        let realm_url = reqwest::Url::parse(realm)
            .map_err(|_| proto(format!("token realm {:?} is not a URL", clip(realm, 200))))?;
        match realm_url.scheme() {
            "https" => {}
            "http" => {
                if cred.is_some() && !self.is_plain_url(&realm_url) {
                    return Err(proto(format!(
                        "token realm {realm_url} is plain HTTP and would expose the credentials (name its host in --plain-http to allow it)"
                    )));
                }
            }
            _ => return Err(proto(format!("token realm {realm_url} is not HTTP"))),
        }
        let default_scope = format!("repository:{}:pull", r.repository());
        let scope = ch.param("scope").unwrap_or(&default_scope);
        let service = ch.param("service");
        let realm_str = realm_url.to_string();
        let mut req = match cred {
            Some(Credential::IdentityToken(t)) => {
                let mut form = vec![
                    ("grant_type", "refresh_token"),
                    ("client_id", "airlock"),
                    ("refresh_token", t.expose()),
                    ("scope", scope),
                ];
                if let Some(s) = service {
                    form.push(("service", s));
                }
                self.direct_http.post(realm_url).form(&form)
            }
            _ => {
                // A challenge for a mount asks for two repositories ("repository:a:pull,push
                // repository:b:pull"): the token endpoint takes one `scope` parameter for each
                // (the OAuth2 form above takes them space-separated in one).
                let mut q: Vec<(&str, &str)> =
                    scope.split_whitespace().map(|s| ("scope", s)).collect();
                if let Some(s) = service {
                    q.push(("service", s));
                }
                let req = self.direct_http.get(realm_url).query(&q);
                match cred {
                    Some(Credential::Basic { username, password }) => {
                        match auth::basic_header(username, password) {
                            Some(h) => req.header(AUTHORIZATION, h),
                            None => req,
                        }
                    }
                    _ => req,
                }
            }
        };
        // A fixed deadline (the enclosing request's retry budget bounds it too).
        req = req.timeout(self.budget);
        let resp = req
            .send()
            .await
            .map_err(|e| transport_fail(&realm_str, &e))?;
        if !resp.status().is_success() {
            return Err(match self.status_fail(r, &realm_str, resp).await {
                Fail::Fatal(RegistryError::NotFound { url }) => {
                    Fail::Fatal(RegistryError::Protocol {
                        url,
                        reason: "the token realm does not exist".into(),
                    })
                }
                other => other,
            });
        }
        let body = read_capped(resp, MAX_SMALL, &realm_str).await?;
        let token = auth::token_from(&body)
            .ok_or_else(|| proto(format!("the token realm {realm_str} answered no token")))?;
        auth::sensitive(&format!("Bearer {}", token.expose())).ok_or_else(|| {
            proto(format!(
                "the token from {realm_str} holds characters an HTTP header cannot carry"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0, None), Duration::from_millis(250));
        assert_eq!(backoff(2, None), Duration::from_secs(1));
        assert_eq!(backoff(40, None), MAX_BACKOFF);
        assert_eq!(
            backoff(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(backoff(0, Some(Duration::from_secs(3600))), MAX_BACKOFF);
    }

    #[test]
    fn error_messages_come_from_the_envelope() {
        assert_eq!(
            error_message(
                br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
            ),
            "MANIFEST_UNKNOWN manifest unknown"
        );
        assert_eq!(error_message(b"plain\ntext"), "plain text");
    }

    #[test]
    fn plain_http_hosts() {
        let reg = Registry::new(super::super::Options {
            plain_http: vec!["127.0.0.1:5000".into(), "localhost".into()],
            registry_config: None,
            ..Default::default()
        })
        .unwrap();
        assert!(reg.is_plain("127.0.0.1:5000"));
        assert!(!reg.is_plain("127.0.0.1:5001"));
        assert!(reg.is_plain("localhost:1234"));
        assert!(reg.is_plain("localhost"));
        assert!(!reg.is_plain("example.com"));
    }
}
