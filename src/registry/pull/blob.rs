//! Blobs: streamed into the caller's writer, hashed as they arrive (or left to a caller that
//! hashes), never more bytes than the descriptor says, `Range` resume after a dropped connection,
//! retries, and the stall and size deadlines of [`super::super::Options`].

use std::io::Write;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::StatusCode;

use super::super::transport::{backoff, past, secs, transport_fail, within, Fail};
use super::super::{Reference, Registry, RegistryError};
use super::{content_range, header_digest};
use crate::digest::{Digest, Hasher};
use crate::layout::model::Descriptor;

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
    /// Streams the blob `desc` names from `repo`'s repository into `out`, hashing every byte as
    /// it arrives; returns the number of bytes written (the descriptor's size).
    ///
    /// Never more than `desc.size` bytes reach `out`. A dropped or stalled connection resumes
    /// with `Range: bytes=N-` (when the registry answers the whole blob instead, the first N bytes
    /// are skipped), for as long as bytes keep arriving: a retry budget without any, or the blob's
    /// deadline (budget + size at the minimum rate, see [`super::super::Options`]), ends it with
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
            digest: super::super::error::clip(&desc.digest, 200),
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
                                .map(|v| super::super::error::clip(v, 100))
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
}
