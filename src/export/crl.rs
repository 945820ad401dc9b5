//! CRL capture at export time, while the network is still there: for every certificate of every
//! captured signature's chain (and timestamp chain) that names a CRL distribution point, fetch the
//! CRL over HTTP, check that the certificate's issuer signed it and that it is current, and carry
//! it, so that `verify` can establish revocation status offline.
//!
//! Only `http://` distribution points are fetched, as notation does; CRLs are signed objects, so
//! the transport needs no trust. No credentials are ever sent.

#[cfg(feature = "pull")]
use std::io::{self, BufRead, BufReader, Read, Write};
#[cfg(feature = "pull")]
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(feature = "pull")]
use std::time::{Duration, Instant};

use der::Decode;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::Certificate;

use crate::notary::revocation::Crl;
#[cfg(feature = "pull")]
use crate::notary::revocation::MAX_CRL_BYTES;

const ID_CE_CRL_DISTRIBUTION_POINTS: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.31");
const ID_CE_FRESHEST_CRL: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.29.46");

/// Fetches CRLs by URL.
pub trait CrlFetcher {
    /// The bytes at `url`.
    fn get(&mut self, url: &str) -> Result<Vec<u8>, String>;
}

/// Plain HTTP/1.1 GET with timeouts, a size cap and at most three redirects (to `http://` only).
/// Nothing waits without end: each fetch has a deadline (`per_fetch`, redirects included), and all
/// the fetches of one export share a budget (`budget`), past which the rest fail at once. The URLs
/// come from the certificates of any signature attached to the image, whoever attached it: a
/// server trickling one byte every few seconds, or hundreds of distribution points that never
/// answer, used to hold the export for days (red team E, E1).
#[cfg(feature = "pull")]
pub struct HttpFetcher {
    /// Connect, read and write timeout.
    pub timeout: Duration,
    /// The longest one fetch may take, redirects included.
    pub per_fetch: Duration,
    /// What all the fetches together may still take.
    pub budget: Duration,
}

#[cfg(feature = "pull")]
impl Default for HttpFetcher {
    fn default() -> Self {
        HttpFetcher {
            timeout: Duration::from_secs(10),
            per_fetch: Duration::from_secs(30),
            budget: Duration::from_secs(120),
        }
    }
}

#[cfg(feature = "pull")]
impl CrlFetcher for HttpFetcher {
    fn get(&mut self, url: &str) -> Result<Vec<u8>, String> {
        if self.budget.is_zero() {
            return Err(format!(
                "{url}: not fetched: the CRL fetches of this export used up their time"
            ));
        }
        let start = Instant::now();
        let allowed = self.per_fetch.min(self.budget);
        let deadline = start.checked_add(allowed).unwrap_or(start);
        let r = http_get(url, self.timeout, deadline, 3);
        self.budget = self.budget.saturating_sub(start.elapsed());
        r
    }
}

/// A socket read that ends at `deadline`: each read waits at most the per-read timeout and never
/// past the deadline.
#[cfg(feature = "pull")]
struct Bounded {
    stream: TcpStream,
    timeout: Duration,
    deadline: Instant,
}

#[cfg(feature = "pull")]
impl Read for Bounded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "deadline passed before the CRL was read",
            ));
        }
        self.stream.set_read_timeout(Some(self.timeout.min(left)))?;
        match self.stream.read(buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) && Instant::now() >= self.deadline =>
            {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "deadline passed before the CRL was read",
                ))
            }
            other => other,
        }
    }
}

#[cfg(feature = "pull")]
fn split_url(url: &str) -> Result<(String, u16, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// CRL distribution points are fetched"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("/")),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("{url}: unsupported URL"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (
            h.to_owned(),
            p.parse::<u16>().map_err(|_| format!("{url}: bad port"))?,
        ),
        _ => (authority.to_owned(), 80),
    };
    Ok((
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        path.to_owned(),
    ))
}

#[cfg(feature = "pull")]
fn http_get(
    url: &str,
    timeout: Duration,
    deadline: Instant,
    redirects: u8,
) -> Result<Vec<u8>, String> {
    let (host, port, path) = split_url(url)?;
    let addrs: Vec<_> = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .collect();
    let mut last = format!("{url}: no address");
    let mut stream = None;
    for a in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&a, timeout.min(left)) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("{url}: {e}"),
        }
    }
    let stream = stream.ok_or(last)?;
    let e = |x: io::Error| format!("{url}: {x}");
    stream.set_read_timeout(Some(timeout)).map_err(e)?;
    stream.set_write_timeout(Some(timeout)).map_err(e)?;
    let mut w = stream.try_clone().map_err(e)?;
    write!(
        w,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: airlock/{}\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .map_err(e)?;
    let bounded = Bounded {
        stream,
        timeout,
        deadline,
    };
    let mut r =
        BufReader::new(bounded.take(u64::try_from(MAX_CRL_BYTES).unwrap_or(u64::MAX) + (64 << 10)));
    let mut status = String::new();
    r.read_line(&mut status).map_err(e)?;
    let code: u16 = status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{url}: bad HTTP status line"))?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut location = None;
    let mut header_bytes = 0usize;
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).map_err(e)?;
        header_bytes += n;
        if n == 0 || header_bytes > 64 << 10 {
            return Err(format!("{url}: truncated or oversized HTTP headers"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            match k.as_str() {
                "content-length" => length = v.parse().ok(),
                "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                "location" => location = Some(v.to_owned()),
                _ => {}
            }
        }
    }
    if matches!(code, 301 | 302 | 303 | 307 | 308) {
        let next = location.ok_or_else(|| format!("{url}: redirect without Location"))?;
        if redirects == 0 {
            return Err(format!("{url}: too many redirects"));
        }
        return http_get(&next, timeout, deadline, redirects - 1);
    }
    if code != 200 {
        return Err(format!("{url}: HTTP {code}"));
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size_line = String::new();
            r.read_line(&mut size_line).map_err(e)?;
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| format!("{url}: bad chunk size"))?;
            if size == 0 {
                break;
            }
            if body.len() + size > MAX_CRL_BYTES {
                return Err(format!("{url}: CRL larger than {MAX_CRL_BYTES} bytes"));
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(body.get_mut(start..).unwrap_or_default())
                .map_err(e)?;
            let mut crlf = [0u8; 2];
            r.read_exact(&mut crlf).map_err(e)?;
        }
    } else {
        let cap = length.unwrap_or(MAX_CRL_BYTES).min(MAX_CRL_BYTES);
        body =
            match crate::layout::read_capped(&mut r, u64::try_from(cap).unwrap_or(0)).map_err(e)? {
                Some(b) => b,
                None if cap >= MAX_CRL_BYTES => {
                    return Err(format!("{url}: CRL larger than {MAX_CRL_BYTES} bytes"))
                }
                None => {
                    return Err(format!(
                        "{url}: body of {} bytes, Content-Length {cap}",
                        cap.saturating_add(1)
                    ))
                }
            };
        if let Some(l) = length {
            if body.len() != l {
                return Err(format!(
                    "{url}: body of {} bytes, Content-Length {l}",
                    body.len()
                ));
            }
        }
    }
    Ok(body)
}

/// The `http://` URLs of a certificate's CRL distribution points (base and delta).
pub fn distribution_points(cert: &Certificate) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        if ext.extn_id != ID_CE_CRL_DISTRIBUTION_POINTS && ext.extn_id != ID_CE_FRESHEST_CRL {
            continue;
        }
        let Ok(dps) = CrlDistributionPoints::from_der(ext.extn_value.as_bytes()) else {
            continue;
        };
        for dp in dps.0 {
            if let Some(DistributionPointName::FullName(names)) = dp.distribution_point {
                for n in names {
                    if let GeneralName::UniformResourceIdentifier(u) = n {
                        let u = u.to_string();
                        if u.starts_with("http://") && seen.insert(u.clone()) {
                            out.push(u);
                        }
                    }
                }
            }
        }
    }
    out
}

/// How many of the delta locations one CRL's FreshestCRL names are fetched.
const MAX_DELTA_LOCATIONS: usize = 4;

/// What capture found.
#[derive(Default)]
pub struct Captured {
    /// CRLs to carry, each with the URL it came from.
    pub crls: Vec<(Crl, Option<String>)>,
    /// Problems (unreachable, unsigned by the issuer, stale): the far side will see `unknown`.
    pub warnings: Vec<String>,
}

/// Fetches the CRLs every certificate of `chains` (leaf first, root last) names, keeping those its
/// issuer signed that are current at `at`: each of at most `per` bytes, `total` bytes together
/// (what a bundle carries). One fetched CRL is held at a time; past the budget, CRLs are named in
/// a warning and dropped at once (red team H, H3: every fetched CRL, up to 64 MiB each, was kept
/// until the end).
pub fn capture(
    chains: &[Vec<Certificate>],
    at: i64,
    fetcher: &mut dyn CrlFetcher,
    (per, total): (usize, usize),
) -> Captured {
    let mut out = Captured::default();
    let mut kept = 0usize;
    // Each URL is fetched once per issuer: a CRL is judged against the certificate that must have
    // issued it, so a URL another chain's issuer already tried (a hostile signature naming the
    // trusted CA's URLs, red team P, P01) is tried again for this one. Sets, not lists: a CRL may
    // name many URLs (P02: lists made the bookkeeping quadratic).
    let mut fetched: std::collections::HashSet<(String, Vec<u8>)> =
        std::collections::HashSet::new();
    for chain in chains {
        for (i, cert) in chain.iter().enumerate() {
            let Some(issuer) = chain.get(i + 1) else {
                continue;
            };
            let issuer_key = der::Encode::to_der(issuer).unwrap_or_default();
            // The certificate's distribution points, then the delta locations the base CRLs
            // fetched from them name (their FreshestCRL): verify applies the delta a base names,
            // and notation fetches it from there too (red team O, O03: a CA that names its deltas
            // in its CRLs only could not be exported).
            let mut queue = distribution_points(cert);
            let mut queued: std::collections::HashSet<String> = queue.iter().cloned().collect();
            let mut next = 0;
            while let Some(url) = queue.get(next).cloned() {
                next += 1;
                if !fetched.insert((url.clone(), issuer_key.clone())) {
                    continue;
                }
                let subject = cert.tbs_certificate.subject.to_string();
                let crls = match fetcher
                    .get(&url)
                    .and_then(|b| Crl::parse_file(&b).map_err(|e| e.to_string()))
                {
                    Ok(c) => c,
                    Err(e) => {
                        out.warnings
                            .push(format!("CRL for {subject:?} not captured: {e}"));
                        continue;
                    }
                };
                for crl in crls {
                    if let Err(e) = crl.verify_issued_by(issuer) {
                        out.warnings
                            .push(format!("CRL from {url} for {subject:?} refused: {e}"));
                    } else if !crl.is_current(at) {
                        out.warnings
                            .push(format!("CRL from {url} for {subject:?} is not current"));
                    } else if crl.der().len() > per || kept.saturating_add(crl.der().len()) > total
                    {
                        out.warnings.push(format!(
                            "the CRL fetched from {url} ({} bytes, issuer {}) is not carried: a \
                             bundle carries CRLs of at most {per} bytes each and {total} bytes \
                             together; give it to `verify --crl` on the far side",
                            crl.der().len(),
                            crl.issuer()
                        ));
                    } else {
                        if let Some(Ok(fresh)) = crl.freshest_uris() {
                            // A CA names one or two delta locations; a CRL naming thousands is
                            // not followed past the first few (P02).
                            let http = fresh.iter().filter(|f| f.starts_with("http://"));
                            for f in http.take(MAX_DELTA_LOCATIONS) {
                                if queued.insert(f.clone()) {
                                    queue.push(f.clone());
                                }
                            }
                        }
                        kept += crl.der().len();
                        out.crls.push((crl, Some(url.clone())));
                    }
                }
            }
        }
    }
    out
}
