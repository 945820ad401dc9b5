//! The OCI distribution client (feature `pull`), synchronous to its callers: every call runs to
//! completion on a current-thread tokio runtime the [`Registry`] owns, so the rest of airlock stays
//! synchronous. `cargo build --no-default-features` leaves all of this out: the verify-only binary
//! for the air-gapped host carries no network code.
//!
//! **Pulling** (what `export` uses: [`Registry::resolve`], [`Registry::manifest`],
//! [`Registry::blob_to`] (or [`Registry::blob_to_unhashed`] when the caller hashes),
//! [`Registry::referrers`]) is written here on `reqwest` (the HTTP client `oci-client` uses; airlock
//! once used `oci-client` itself), because every property airlock needs sits in code `oci-client`
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
//! - nothing waits without end: a request that goes without progress for the retry budget (all
//!   attempts and waits included; 60 s by default) fails as stalled, a blob that does not arrive
//!   within the budget plus its size at the minimum rate (256 KiB/s by default) fails its deadline,
//!   and uploads have the same deadlines ([`Options`]; [`RegistryError::TimedOut`] names the blob
//!   or manifest and the reason);
//! - authentication answers the registry's own `WWW-Authenticate` challenge (basic, or a bearer
//!   token from the challenge's realm, scoped to the repository); credentials come from the docker
//!   `config.json` ([`auth`]) and are never printed; redirects are followed (at most 10, never
//!   from HTTPS down to plain HTTP) and drop the `Authorization` header across hosts (reqwest's
//!   policy); a token request follows none (it carries the credentials);
//! - the Referrers API (`GET /v2/<name>/referrers/<digest>`, following `Link` pages), and on 404
//!   the referrers tag schema (`sha256-<hex>`).
//!
//! **Pushing** (what `import` uses: [`Registry::push_blob`], [`Registry::push_manifest`],
//! [`Registry::mount`]) runs on the same client and the same rules: every answer read through the
//! cap, the same challenge flow and deadlines; see `push.rs`.

pub mod auth;
mod error;
mod pull;
mod push;
mod reference;
mod tags;
pub use tags::{Tags, MAX_TAGS};
mod transport;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

pub use auth::{Credential, Secret};
pub use error::{RegistryError, RegistryErrorCode};
pub use pull::unreachable;
pub use reference::Reference;

use crate::layout::model;

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

/// Default for [`Options::timeout`]: the connect timeout and the longest silence while reading
/// one response. Shorter than the retry budget, so a silent connection is given up (and retried on
/// a new one) before the budget is spent.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Default for [`Options::retry_budget`]: a stalled registry fails after about a minute.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(60);

/// Default for [`Options::min_rate`], bytes per second: 256 KiB/s (2 Mbit/s), well below any link
/// a registry is worth pulling from, so only a broken or hostile server misses it; a 1 GiB layer
/// still has 60 s + 68 min.
pub const DEFAULT_MIN_RATE: u64 = 256 << 10;

/// Default for [`Options::retries`].
pub const DEFAULT_RETRIES: u32 = 3;

/// How to reach registries, and how long to wait for them.
///
/// **Deadlines.** Every request (manifest, token, referrers page, `HEAD`, each attempt of a blob)
/// gives up on a connection silent for [`Options::timeout`] and tries again on a new one, at most
/// [`Options::retries`] times in a row without progress. Over all attempts and the waits between
/// them, a request may go without progress for at most the retry budget
/// ([`Options::retry_budget`]): for a manifest, a token or a referrers page, whose only progress is
/// its answer, that is its whole deadline; for a blob, every byte that arrives starts the budget
/// again, so a dropped transfer resumes (`Range`) as long as data keeps coming, and a stalled one
/// fails one budget after its last byte. On top of that, a blob of SIZE bytes must be complete
/// within `retry_budget + SIZE / min_rate` of its first request, all attempts included, so a server
/// that trickles bytes just fast enough to never look silent fails too. Uploads have the same
/// deadlines (a manifest or mount: the budget; a blob: budget + size / rate). Both failures are
/// [`RegistryError::TimedOut`], naming the blob or manifest and the registry, and saying
/// "stalled" or "deadline".
#[derive(Clone, Debug)]
pub struct Options {
    /// Hosts spoken to over plain HTTP: `HOST:PORT` matches that port, `HOST` every port.
    pub plain_http: Vec<String>,
    /// Extra CA certificates (PEM, one or many) trusted for HTTPS beside the system's.
    pub ca_file: Option<PathBuf>,
    /// The docker `config.json` to take credentials from (default: `$DOCKER_CONFIG/config.json`,
    /// then `~/.docker/config.json`; a missing default file means anonymous).
    pub registry_config: Option<PathBuf>,
    /// Connect timeout and the longest silence while reading one response (default
    /// [`DEFAULT_TIMEOUT`]; never more than the retry budget).
    pub timeout: Option<Duration>,
    /// Retries after a transient failure (408, 429, 5xx, timeout, dropped connection), in a row:
    /// a blob attempt that made progress does not use one up (default [`DEFAULT_RETRIES`]).
    pub retries: u32,
    /// The retry budget: the longest one request may go without progress, all its attempts and
    /// the waits between them included (default [`DEFAULT_RETRY_BUDGET`]).
    pub retry_budget: Option<Duration>,
    /// The slowest transfer accepted, in bytes per second: a blob must arrive within
    /// `retry_budget + size / min_rate` (default [`DEFAULT_MIN_RATE`]; `Some(0)`: no size
    /// deadline, only the retry budget).
    pub min_rate: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            plain_http: Vec::new(),
            ca_file: None,
            registry_config: None,
            timeout: None,
            retries: DEFAULT_RETRIES,
            retry_budget: None,
            min_rate: None,
        }
    }
}

/// Parses a transfer rate for `--min-rate`: bytes per second, with an optional `K`, `M` or `G`
/// suffix (powers of 1024; `KiB`, `MiB`, `GiB` and a trailing `/s` are accepted too).
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t.strip_suffix("/s").unwrap_or(t).trim_end();
    let t = t.strip_suffix('B').unwrap_or(t);
    let t = t.strip_suffix('i').unwrap_or(t);
    let (num, shift) = match t.char_indices().last() {
        Some((i, c)) if c.eq_ignore_ascii_case(&'k') => (t.get(..i).unwrap_or(""), 10),
        Some((i, c)) if c.eq_ignore_ascii_case(&'m') => (t.get(..i).unwrap_or(""), 20),
        Some((i, c)) if c.eq_ignore_ascii_case(&'g') => (t.get(..i).unwrap_or(""), 30),
        _ => (t, 0),
    };
    let n: u64 = num.trim().parse().map_err(|_| {
        format!("{s:?} is not a rate: bytes per second, optionally with a K, M or G suffix")
    })?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// `256 KiB/s`-style rates.
pub(crate) fn rate_text(bytes_per_sec: u64) -> String {
    match bytes_per_sec {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB/s", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB/s", n >> 10),
        n => format!("{n} B/s"),
    }
}

/// A registry client. Cheap calls, one HTTP connection pool, one token cache; `Sync`, so calls may
/// come from several threads at once (tokio lets several threads drive one current-thread runtime).
pub struct Registry {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    /// The client for blob bodies going up and for token requests: no per-read timeout (the
    /// callers bound each request), and no redirect followed (a streamed body cannot be sent
    /// again, and a token request carries the credentials: red team G, G1).
    direct_http: reqwest::Client,
    plain_http: Vec<String>,
    /// Idle (per read) and connect timeout.
    timeout: Duration,
    retries: u32,
    /// The retry budget ([`Options::retry_budget`]).
    budget: Duration,
    /// Bytes per second; 0: no size deadline.
    min_rate: u64,
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
            .field("budget", &self.budget)
            .field("min_rate", &self.min_rate)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A client with `opts`. Reads `ca_file` and the docker configuration now, so a bad file is
    /// reported before any network traffic.
    pub fn new(opts: Options) -> Result<Self, RegistryError> {
        let budget = opts.retry_budget.unwrap_or(DEFAULT_RETRY_BUDGET);
        let timeout = opts.timeout.unwrap_or(DEFAULT_TIMEOUT).min(budget);
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
        let http =
            transport::build_client(timeout, opts.ca_file.as_deref(), ca_pem.as_deref(), false)?;
        let direct_http =
            transport::build_client(timeout, opts.ca_file.as_deref(), ca_pem.as_deref(), true)?;
        let docker_config = auth::DockerConfig::load(opts.registry_config.as_deref())?;
        Ok(Registry {
            rt,
            http,
            direct_http,
            plain_http: opts.plain_http,
            timeout,
            retries: opts.retries,
            budget,
            min_rate: opts.min_rate.unwrap_or(DEFAULT_MIN_RATE),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_can_be_shared_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<super::Registry>();
    }

    /// A client with `opts` and no docker config.
    fn client(opts: Options) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.json");
        std::fs::write(&config, "{}").unwrap();
        Registry::new(Options {
            registry_config: Some(config),
            ..opts
        })
        .unwrap()
    }

    #[test]
    fn the_default_deadlines_are_the_documented_ones() {
        let r = client(Options::default());
        assert_eq!(r.budget, Duration::from_secs(60));
        assert_eq!(r.min_rate, 256 * 1024);
        assert_eq!(r.timeout, Duration::from_secs(20));
        assert_eq!(r.retries, 3);
        assert!(
            r.timeout < r.budget,
            "a silence is retried before the budget ends"
        );
        // A blob may take the budget plus its size at the minimum rate.
        assert_eq!(r.blob_allowance(0), Some(Duration::from_secs(60)));
        assert_eq!(
            r.blob_allowance(1 << 30),
            Some(Duration::from_secs(60 + 4096))
        );
        assert_eq!(
            r.allowance_text(256 << 20),
            "60 s + 268435456 bytes at 256 KiB/s = 1084 s"
        );

        // What README says.
        let readme = include_str!("../../README.md")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for words in [
            "`--network-timeout SECONDS`, default 60",
            "`--min-rate BYTES_PER_SEC`, default 256K",
            "A connection silent for 20 s",
            "at most three times in a row",
        ] {
            assert!(readme.contains(words), "README lacks {words:?}");
        }
        // --help says the same: cli's tests (`the_network_defaults_are_in_the_help`).

        // Configured: a shorter idle timeout than the budget is kept, a longer one cut to it.
        let r = client(Options {
            timeout: Some(Duration::from_secs(90)),
            retry_budget: Some(Duration::from_secs(5)),
            min_rate: Some(0),
            ..Options::default()
        });
        assert_eq!(r.timeout, Duration::from_secs(5));
        assert_eq!(r.blob_allowance(u64::MAX), None, "0: no size deadline");
    }

    #[test]
    fn rates_parse_with_binary_suffixes() {
        for (text, want) in [
            ("1048576", 1 << 20),
            ("512K", 512 << 10),
            ("512k", 512 << 10),
            ("1M", 1 << 20),
            ("1MiB", 1 << 20),
            ("2 MiB/s", 2 << 20),
            ("1G", 1 << 30),
            ("0", 0),
        ] {
            assert_eq!(parse_rate(text), Ok(want), "{text}");
        }
        for bad in ["", "fast", "1T", "-1", "1.5M", "99999999999999G", "M"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(rate_text(256 << 10), "256 KiB/s");
        assert_eq!(rate_text(3 << 20), "3 MiB/s");
        assert_eq!(rate_text(100_000), "100000 B/s");
    }
}
