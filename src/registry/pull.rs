//! The pull side: manifests by tag or digest, blobs, referrers.

use std::io::Write;
use std::time::{Duration, Instant};

use reqwest::header::{
    HeaderMap, ACCEPT as ACCEPT_HEADER, CONTENT_RANGE, CONTENT_TYPE, LINK, RANGE,
};
use reqwest::StatusCode;

use super::transport::{backoff, past, read_capped, secs, transport_fail, within, Fail};
use super::{Reference, Registry, RegistryError, ACCEPT, MAX_MANIFEST};
use crate::digest::{Algorithm, Digest, Hasher};
use crate::layout::model::{self, Descriptor, Document, Kind};

/// Most pages of a paginated Referrers API answer followed.
const MAX_REFERRER_PAGES: usize = 64;

/// The `Docker-Content-Digest` header, when it holds a digest airlock can recompute.
fn header_digest(h: &HeaderMap) -> Option<Digest> {
    Digest::parse(h.get("docker-content-digest")?.to_str().ok()?.trim()).ok()
}

/// The media type of a `Content-Type` header, without parameters.
fn content_type(h: &HeaderMap) -> Option<String> {
    let v = h.get(CONTENT_TYPE)?.to_str().ok()?;
    let mt = v.split(';').next().unwrap_or_default().trim();
    (!mt.is_empty()).then(|| mt.to_ascii_lowercase())
}

/// `bytes START-END/TOTAL` -> (START, TOTAL); TOTAL is `None` for `*`.
fn content_range(h: &HeaderMap) -> Option<(u64, Option<u64>)> {
    let v = h.get(CONTENT_RANGE)?.to_str().ok()?.trim();
    let rest = v.strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start.trim().parse().ok()?, total))
}

/// The `rel="next"` target of a `Link` header.
pub(super) fn next_link(h: &HeaderMap) -> Option<String> {
    for v in h.get_all(LINK).iter().filter_map(|v| v.to_str().ok()) {
        for part in v.split(',') {
            let mut pieces = part.split(';');
            let target = pieces.next()?.trim();
            let is_next = pieces.any(|p| {
                let p = p.trim().to_ascii_lowercase();
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                return target
                    .strip_prefix('<')
                    .and_then(|t| t.strip_suffix('>'))
                    .map(str::to_owned);
            }
        }
    }
    None
}

/// What a fetched manifest is: its media type, checked against what airlock asked for.
fn manifest_media_type(
    doc: &Document,
    content_type: Option<&str>,
    url: &str,
) -> Result<String, RegistryError> {
    let proto = |reason: String| RegistryError::Protocol {
        url: url.to_owned(),
        reason,
    };
    if let Some(v) = doc.schema_version {
        if v != 2 {
            return Err(proto(format!(
                "schemaVersion {v}: only schema 2 manifests (OCI, Docker v2) are supported"
            )));
        }
    }
    let mt = doc
        .media_type
        .clone()
        .or_else(|| {
            content_type
                .filter(|ct| model::kind_of(ct) != Kind::Blob)
                .map(str::to_owned)
        })
        .or_else(|| match doc.shape() {
            Kind::Index => Some(model::OCI_INDEX.to_owned()),
            Kind::Manifest => Some(model::OCI_MANIFEST.to_owned()),
            Kind::Blob => None,
        })
        .ok_or_else(|| proto("neither a manifest nor an index".into()))?;
    if !ACCEPT.contains(&mt.as_str()) {
        return Err(proto(format!(
            "media type {:?} is not a manifest type airlock accepts",
            super::error::clip(&mt, 200)
        )));
    }
    Ok(mt)
}

/// True for a failure that got no answer from the registry at all (connection, silence), after
/// retries: what "does the registry have it?" cannot turn into "no".
pub fn unreachable(e: &RegistryError) -> bool {
    matches!(
        e,
        RegistryError::TimedOut { .. } | RegistryError::Transport { .. }
    )
}

/// One blob download across its attempts: where the bytes go, how far it got, and its clocks.
struct BlobRun<'a> {
    /// `None` when the caller hashes what it receives.
    hasher: Option<Hasher>,
    written: u64,
    out: &'a mut dyn Write,
    /// The descriptor's size.
    size: u64,
    /// `blob sha256:... of registry/repo`, for errors.
    what: String,
    start: Instant,
    /// When the whole blob must be complete (`None`: no minimum rate).
    deadline: Option<Instant>,
    /// When the last bytes arrived (or the download began).
    last_progress: Instant,
    attempts: u32,
    /// The last failure that was retried.
    last: Option<RegistryError>,
}

impl BlobRun<'_> {
    /// One retry budget after the last bytes.
    fn stall_limit(&self, budget: Duration) -> Option<Instant> {
        self.last_progress.checked_add(budget)
    }

    /// The earlier of the deadline and the stall limit: no await of an attempt lasts longer.
    fn limit(&self, budget: Duration) -> Option<Instant> {
        match (self.deadline, self.stall_limit(budget)) {
            (Some(d), Some(s)) => Some(d.min(s)),
            (d, s) => d.or(s),
        }
    }
}

impl Registry {
    /// The manifest or index `r` names (its digest when it has one, else its tag): the descriptor
    /// (media type, digest, size) and the exact bytes served.
    ///
    /// By digest, the bytes must hash to it. By tag, the digest is computed from the bytes (with
    /// the algorithm of the registry's `Docker-Content-Digest` header when it names one airlock
    /// supports, else sha256), and a header that disagrees with the bytes fails the call. The
    /// media type is the document's own `mediaType`, else the `Content-Type`, else its shape; it
    /// must be one of [`ACCEPT`]. At most [`MAX_MANIFEST`] bytes are read.
    pub fn resolve(&self, r: &Reference) -> Result<(Descriptor, Vec<u8>), RegistryError> {
        let target = match (r.digest(), r.tag()) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.to_owned(),
            (None, None) => "latest".to_owned(),
        };
        let what = format!("manifest {}", r.whole());
        self.retrying(&what, || self.get_manifest(r, &target, r.digest(), ACCEPT))
    }

    /// The manifest or index `digest` in `repo`'s repository: its media type and exact bytes,
    /// which hash to `digest`.
    pub fn manifest(
        &self,
        repo: &Reference,
        digest: &Digest,
    ) -> Result<(String, Vec<u8>), RegistryError> {
        let target = digest.to_string();
        let what = format!("manifest {digest} of {}", repo.repo_name());
        let (desc, bytes) = self.retrying(&what, || {
            self.get_manifest(repo, &target, Some(digest), ACCEPT)
        })?;
        Ok((desc.media_type.unwrap_or_default(), bytes))
    }

    async fn get_manifest(
        &self,
        r: &Reference,
        target: &str,
        expected: Option<&Digest>,
        accept: &[&str],
    ) -> Result<(Descriptor, Vec<u8>), Fail> {
        let url = format!("{}/v2/{}/manifests/{target}", self.base(r), r.repository());
        let accept = accept.join(", ");
        let resp = self
            .send(r, &url, |c| {
                c.get(&url).header(ACCEPT_HEADER, accept.as_str())
            })
            .await?;
        if !resp.status().is_success() {
            return Err(self.status_fail(r, &url, resp).await);
        }
        if resp.status() != StatusCode::OK {
            return Err(Fail::Fatal(RegistryError::Protocol {
                url,
                reason: format!("HTTP {} where 200 was expected", resp.status().as_u16()),
            }));
        }
        let announced = header_digest(resp.headers());
        let ct = content_type(resp.headers());
        let bytes = read_capped(resp, MAX_MANIFEST, &url).await?;
        let digest = match expected {
            Some(want) => {
                let actual = Digest::of(want.algorithm(), &bytes);
                if &actual != want {
                    return Err(Fail::Fatal(RegistryError::DigestMismatch {
                        url,
                        expected: want.to_string(),
                        actual: actual.to_string(),
                    }));
                }
                actual
            }
            None => {
                let alg = announced
                    .as_ref()
                    .map_or(Algorithm::Sha256, Digest::algorithm);
                let actual = Digest::of(alg, &bytes);
                if let Some(h) = announced {
                    if h != actual {
                        return Err(Fail::Fatal(RegistryError::DigestMismatch {
                            url,
                            expected: h.to_string(),
                            actual: actual.to_string(),
                        }));
                    }
                }
                actual
            }
        };
        let doc = Document::parse(&bytes).map_err(|e| RegistryError::Protocol {
            url: url.clone(),
            reason: format!("not a JSON manifest: {e}"),
        })?;
        let media_type = manifest_media_type(&doc, ct.as_deref(), &url)?;
        Ok((
            Descriptor {
                media_type: Some(media_type),
                digest: digest.to_string(),
                size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
                artifact_type: doc.artifact_type.clone(),
                annotations: Default::default(),
                platform: None,
                urls: Vec::new(),
            },
            bytes,
        ))
    }

    /// Streams the blob `desc` names from `repo`'s repository into `out`, hashing every byte as
    /// it arrives; returns the number of bytes written (the descriptor's size).
    ///
    /// Never more than `desc.size` bytes reach `out`. A dropped or stalled connection resumes
    /// with `Range: bytes=N-` (when the registry answers the whole blob instead, the first N bytes
    /// are skipped), for as long as bytes keep arriving: a retry budget without any, or the blob's
    /// deadline (budget + size at the minimum rate, see [`super::Options`]), ends it with
    /// [`RegistryError::TimedOut`]. A blob that does not hash to its digest fails with
    /// [`RegistryError::DigestMismatch`] after `out` received it, so the caller must stage what
    /// it writes and commit only on success (as `export`'s sinks do).
    pub fn blob_to(
        &self,
        repo: &Reference,
        desc: &Descriptor,
        out: &mut dyn Write,
    ) -> Result<u64, RegistryError> {
        self.blob_inner(repo, desc, out, true)
    }

    /// As [`Registry::blob_to`], but the digest is left to the caller, who hashes what `out`
    /// receives anyway (export's writers do): every byte is then hashed once, not twice. Everything
    /// else holds: the size bound, `Range` resume, retries, the refusal of a
    /// `Docker-Content-Digest` header naming another blob.
    pub fn blob_to_unhashed(
        &self,
        repo: &Reference,
        desc: &Descriptor,
        out: &mut dyn Write,
    ) -> Result<u64, RegistryError> {
        self.blob_inner(repo, desc, out, false)
    }

    fn blob_inner(
        &self,
        repo: &Reference,
        desc: &Descriptor,
        out: &mut dyn Write,
        hash: bool,
    ) -> Result<u64, RegistryError> {
        let digest = Digest::parse(&desc.digest).map_err(|e| RegistryError::Descriptor {
            digest: super::error::clip(&desc.digest, 200),
            reason: e.to_string(),
        })?;
        let url = format!(
            "{}/v2/{}/blobs/{digest}",
            self.base(repo),
            repo.repository()
        );
        let start = Instant::now();
        let mut run = BlobRun {
            hasher: hash.then(|| Hasher::new(digest.algorithm())),
            written: 0,
            out,
            size: desc.size,
            what: format!("blob {digest} of {}", repo.repo_name()),
            start,
            deadline: self
                .blob_allowance(desc.size)
                .and_then(|a| start.checked_add(a)),
            last_progress: start,
            attempts: 0,
            last: None,
        };
        // Failed attempts in a row without progress.
        let mut failures = 0;
        loop {
            let before = run.written;
            run.attempts += 1;
            let res = self
                .rt
                .block_on(self.blob_attempt(repo, &url, &digest, &mut run));
            match res {
                Ok(()) => break,
                Err(Fail::Fatal(e)) => return Err(e),
                Err(Fail::Retry { err, after }) => {
                    if run.written > before {
                        failures = 0;
                    }
                    if failures >= self.retries {
                        return Err(err);
                    }
                    let wait = backoff(failures, after);
                    run.last = Some(err);
                    if past(run.limit(self.budget), wait) {
                        return Err(self.blob_expired(&run));
                    }
                    std::thread::sleep(wait);
                    failures += 1;
                }
            }
        }
        let Some(hasher) = run.hasher else {
            return Ok(run.written);
        };
        let (actual, n) = hasher.finish();
        if actual != digest {
            return Err(RegistryError::DigestMismatch {
                url,
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(n)
    }

    /// The error of a blob that ran out of time: past its deadline, or a whole retry budget
    /// without a byte.
    fn blob_expired(&self, run: &BlobRun<'_>) -> RegistryError {
        let by_deadline = match (run.deadline, run.stall_limit(self.budget)) {
            (Some(d), Some(s)) => d <= s,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let got = format!(
            "{} of {} bytes received in {} over {} attempt(s)",
            run.written,
            run.size,
            secs(run.start.elapsed()),
            run.attempts
        );
        let last = run
            .last
            .as_ref()
            .map(|e| format!("; the last failure: {e}"))
            .unwrap_or_default();
        let reason = if by_deadline {
            format!(
                "deadline passed: {got}; a blob of this size must arrive within {}{last}",
                self.allowance_text(run.size)
            )
        } else {
            format!(
                "stalled: no data for {} (the retry budget); {got}{last}",
                secs(self.budget)
            )
        };
        RegistryError::TimedOut {
            what: run.what.clone(),
            reason,
        }
    }

    async fn blob_attempt(
        &self,
        r: &Reference,
        url: &str,
        digest: &Digest,
        run: &mut BlobRun<'_>,
    ) -> Result<(), Fail> {
        let offset = run.written;
        let size = run.size;
        let sent = within(
            run.limit(self.budget),
            self.send(r, url, |c| {
                let req = c.get(url);
                if offset > 0 {
                    req.header(RANGE, format!("bytes={offset}-"))
                } else {
                    req
                }
            }),
        )
        .await;
        let Some(sent) = sent else {
            return Err(Fail::Fatal(self.blob_expired(run)));
        };
        let mut resp = sent?;
        let proto = |reason: String| {
            Fail::Fatal(RegistryError::Protocol {
                url: url.to_owned(),
                reason,
            })
        };
        let mut skip = match resp.status() {
            StatusCode::OK => {
                if let Some(n) = resp.content_length().filter(|n| *n != size) {
                    return Err(Fail::Fatal(RegistryError::SizeMismatch {
                        url: url.to_owned(),
                        expected: size,
                        actual: n,
                    }));
                }
                offset
            }
            StatusCode::PARTIAL_CONTENT if offset > 0 => {
                match content_range(resp.headers()) {
                    Some((start, total))
                        if start == offset && total.is_none_or(|t| t == size) => {}
                    _ => {
                        return Err(proto(format!(
                            "asked for bytes {offset}- of {size}, the registry answered Content-Range {:?}",
                            resp.headers()
                                .get(CONTENT_RANGE)
                                .and_then(|v| v.to_str().ok())
                                .map(|v| super::error::clip(v, 100))
                        )))
                    }
                }
                0
            }
            s if s.is_success() => {
                return Err(proto(format!("HTTP {} where 200 was expected", s.as_u16())))
            }
            _ => {
                return Err(
                    within(run.limit(self.budget), self.status_fail(r, url, resp))
                        .await
                        .unwrap_or_else(|| Fail::Fatal(self.blob_expired(run))),
                )
            }
        };
        // Never trusted alone: the header can only fail a fetch, the bytes decide a success.
        if let Some(h) = header_digest(resp.headers()) {
            if h.algorithm() == digest.algorithm() && &h != digest {
                return Err(proto(format!(
                    "the registry announces {h} for blob {digest}"
                )));
            }
        }
        loop {
            let next = match within(run.limit(self.budget), resp.chunk()).await {
                Some(next) => next.map_err(|e| transport_fail(url, &e))?,
                None => return Err(Fail::Fatal(self.blob_expired(run))),
            };
            let Some(chunk) = next else {
                break;
            };
            // Bytes arrived (skipped ones too: the connection is alive).
            run.last_progress = Instant::now();
            let mut data: &[u8] = &chunk;
            if skip > 0 {
                let k = usize::try_from(skip).unwrap_or(usize::MAX).min(data.len());
                data = data.get(k..).unwrap_or_default();
                skip -= u64::try_from(k).unwrap_or(u64::MAX);
            }
            if data.is_empty() {
                continue;
            }
            let total = run
                .written
                .saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX));
            if total > size {
                return Err(Fail::Fatal(RegistryError::SizeMismatch {
                    url: url.to_owned(),
                    expected: size,
                    actual: total,
                }));
            }
            if let Some(h) = run.hasher.as_mut() {
                h.update(data);
            }
            run.out.write_all(data).map_err(|e| RegistryError::Write {
                what: format!("blob {digest}"),
                source: e,
            })?;
            run.written = total;
        }
        if run.written < size {
            return Err(Fail::retry(RegistryError::Transport {
                url: url.to_owned(),
                reason: format!("the connection ended after {} of {size} bytes", run.written),
            }));
        }
        Ok(())
    }

    /// The manifests whose `subject` is `digest` in `repo`'s repository, as descriptors (with
    /// `artifactType`), optionally only those of `artifact_type`.
    ///
    /// Asks the Referrers API (`GET /v2/<name>/referrers/<digest>`, every `Link` page); when the
    /// registry answers 404 (it has no such API, like distribution 2.8), reads the referrers tag
    /// schema index (`<alg>-<hex>`) instead, which may not exist (no referrers). The artifact type
    /// filter is applied here in both cases, whatever the registry did with it.
    pub fn referrers(
        &self,
        repo: &Reference,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, RegistryError> {
        let what = format!("referrers of {digest} in {}", repo.repo_name());
        let mut all = match self.retrying(&what, || self.referrers_api(repo, digest, artifact_type))
        {
            Ok(v) => v,
            Err(RegistryError::NotFound { .. }) => {
                let tag = crate::layout::referrers_tag(digest);
                let what = format!("referrers tag {tag} of {}", repo.repo_name());
                match self.retrying(&what, || {
                    self.get_manifest(repo, &tag, None, &[model::OCI_INDEX])
                }) {
                    Ok((desc, bytes)) => {
                        let url = format!(
                            "{}/v2/{}/manifests/{tag}",
                            self.base(repo),
                            repo.repository()
                        );
                        if model::kind_of(desc.media_type()) != Kind::Index {
                            return Err(RegistryError::Protocol {
                                url,
                                reason: format!(
                                    "the referrers tag holds a {}, not an index",
                                    desc.media_type()
                                ),
                            });
                        }
                        Document::parse(&bytes)
                            .ok()
                            .and_then(|d| d.manifests)
                            .unwrap_or_default()
                    }
                    Err(RegistryError::NotFound { .. }) => Vec::new(),
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        if let Some(at) = artifact_type {
            all.retain(|d| d.artifact_type.as_deref() == Some(at));
        }
        Ok(all)
    }

    async fn referrers_api(
        &self,
        r: &Reference,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Fail> {
        let first = format!("{}/v2/{}/referrers/{digest}", self.base(r), r.repository());
        let mut url = reqwest::Url::parse(&first).map_err(|e| RegistryError::Protocol {
            url: first.clone(),
            reason: e.to_string(),
        })?;
        if let Some(at) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", at);
        }
        let origin = url.origin();
        let mut out = Vec::new();
        for _ in 0..MAX_REFERRER_PAGES {
            let u = url.to_string();
            let resp = self
                .send(r, &u, |c| {
                    c.get(url.clone()).header(ACCEPT_HEADER, model::OCI_INDEX)
                })
                .await?;
            if resp.status() != StatusCode::OK {
                return Err(self.status_fail(r, &u, resp).await);
            }
            let next = next_link(resp.headers());
            let bytes = read_capped(resp, MAX_MANIFEST, &u).await?;
            let doc = Document::parse(&bytes).map_err(|e| RegistryError::Protocol {
                url: u.clone(),
                reason: format!("the Referrers API answered something that is not an index: {e}"),
            })?;
            let Some(list) = doc.manifests else {
                return Err(Fail::Fatal(RegistryError::Protocol {
                    url: u,
                    reason: "the Referrers API answered something that is not an index".into(),
                }));
            };
            out.extend(list);
            let Some(next) = next else {
                return Ok(out);
            };
            let n = url.join(&next).map_err(|e| RegistryError::Protocol {
                url: u.clone(),
                reason: format!("Link {:?}: {e}", super::error::clip(&next, 200)),
            })?;
            if n.origin() != origin {
                return Err(Fail::Fatal(RegistryError::Protocol {
                    url: u,
                    reason: format!("the next referrers page is on another host: {n}"),
                }));
            }
            url = n;
        }
        Err(Fail::Fatal(RegistryError::Protocol {
            url: first,
            reason: format!("more than {MAX_REFERRER_PAGES} pages of referrers"),
        }))
    }

    /// Whether `repo`'s repository holds the blob `digest` (`HEAD`). Any answer but a success is
    /// "no" (the upload that follows says what is wrong); a registry that cannot be reached or
    /// stays silent, after the retries or the retry budget, is an error
    /// ([`RegistryError::Transport`], [`RegistryError::TimedOut`]), so that a stalled registry
    /// costs one budget, not one per blob.
    pub fn blob_exists(&self, repo: &Reference, digest: &str) -> Result<bool, RegistryError> {
        let Ok(d) = Digest::parse(digest) else {
            return Ok(false);
        };
        let url = format!("{}/v2/{}/blobs/{d}", self.base(repo), repo.repository());
        let what = format!("blob {d} of {}", repo.repo_name());
        let found = self.retrying(&what, || async {
            let resp = self.send(repo, &url, |c| c.head(&url)).await?;
            if resp.status().is_success() {
                Ok(true)
            } else {
                Err(self.status_fail(repo, &url, resp).await)
            }
        });
        match found {
            Ok(found) => Ok(found),
            Err(e) if unreachable(&e) => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// The digest of the manifest a tag or digest reference names now, computed from its bytes;
    /// `None` when it does not exist or cannot be fetched; an error when the registry cannot be
    /// reached or stays silent (as for [`Registry::blob_exists`]).
    pub fn manifest_digest(&self, reference: &Reference) -> Result<Option<String>, RegistryError> {
        match self.resolve(reference) {
            Ok((d, _)) => Ok(Some(d.digest)),
            Err(e) if unreachable(&e) => Err(e),
            Err(_) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn content_ranges() {
        assert_eq!(
            content_range(&headers(&[("content-range", "bytes 100-199/200")])),
            Some((100, Some(200)))
        );
        assert_eq!(
            content_range(&headers(&[("content-range", "bytes 5-9/*")])),
            Some((5, None))
        );
        assert_eq!(
            content_range(&headers(&[("content-range", "items 1-2/3")])),
            None
        );
        assert_eq!(content_range(&headers(&[])), None);
    }

    #[test]
    fn link_next() {
        let h = headers(&[(
            "link",
            r#"</v2/a/referrers/sha256:00?n=10&last=x>; rel="next""#,
        )]);
        assert_eq!(
            next_link(&h).as_deref(),
            Some("/v2/a/referrers/sha256:00?n=10&last=x")
        );
        assert_eq!(next_link(&headers(&[("link", "<x>; rel=\"prev\"")])), None);
    }

    #[test]
    fn media_types() {
        let doc = |s: &str| Document::parse(s.as_bytes()).unwrap();
        let u = "u";
        assert_eq!(
            manifest_media_type(&doc(r#"{"schemaVersion":2,"manifests":[]}"#), None, u).unwrap(),
            model::OCI_INDEX
        );
        assert_eq!(
            manifest_media_type(
                &doc(r#"{"schemaVersion":2,"config":{"digest":"x","size":1}}"#),
                Some(model::DOCKER_MANIFEST),
                u
            )
            .unwrap(),
            model::DOCKER_MANIFEST
        );
        assert!(manifest_media_type(&doc(r#"{"schemaVersion":1}"#), None, u).is_err());
        assert!(manifest_media_type(&doc(r#"{"a":1}"#), None, u).is_err());
        assert!(manifest_media_type(
            &doc(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.layer.v1.tar"}"#),
            None,
            u
        )
        .is_err());
    }
}
