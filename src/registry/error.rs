//! Why a registry operation failed: one typed error, each variant naming the URL, registry or file
//! it concerns. Credentials never appear in any of them.

use std::io;

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A reference that does not parse (`REGISTRY/REPO:TAG`, `REGISTRY/REPO@sha256:...`).
    #[error("{given:?} is not a registry reference: {reason}")]
    Reference {
        /// The text given.
        given: String,
        /// Why it was refused.
        reason: String,
    },
    /// A descriptor whose digest cannot be fetched (malformed, or an algorithm airlock cannot
    /// recompute).
    #[error("descriptor digest {digest:?}: {reason}")]
    Descriptor {
        /// The digest as written.
        digest: String,
        /// Why it was refused.
        reason: String,
    },
    /// A local file named by the options (`--ca-file`, `--registry-config`) is unusable.
    #[error("{path}: {reason}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Credentials for a registry could not be obtained (a failing credential helper, an identity
    /// token where the registry wants a password).
    #[error("credentials for {registry}: {reason}")]
    Credentials {
        /// The registry.
        registry: String,
        /// What went wrong (never the secret).
        reason: String,
    },
    /// The registry refused access (401 after authenticating, or 403).
    #[error("{url}: access denied (HTTP {status}){}", if *.anonymous { "; no credentials for this registry in the docker config" } else { "" })]
    Denied {
        /// The request.
        url: String,
        /// 401 or 403.
        status: u16,
        /// True when airlock had no credentials to offer.
        anonymous: bool,
    },
    /// The manifest, blob or repository does not exist.
    #[error("{url}: not found")]
    NotFound {
        /// The request.
        url: String,
    },
    /// Any other unsuccessful HTTP status (after retries, for 408, 429 and 5xx).
    #[error("{url}: HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        /// The request.
        url: String,
        /// The status code.
        status: u16,
        /// The registry's error codes and messages, clipped.
        message: String,
    },
    /// The connection failed, timed out (one silence longer than [`super::Options::timeout`]),
    /// dropped, or redirected too often (after retries).
    #[error("{url}: {reason}")]
    Transport {
        /// The request.
        url: String,
        /// What happened.
        reason: String,
    },
    /// A request that went without progress for the whole retry budget ("stalled"), or a blob
    /// that was not complete by its deadline ("deadline"): see [`super::Options`]. Final.
    #[error("{what}: {reason}")]
    TimedOut {
        /// The blob or manifest and its repository (`blob sha256:... of registry/repo`).
        what: String,
        /// Why, with the numbers: time, bytes, attempts, the last failure.
        reason: String,
    },
    /// A response larger than airlock accepts for its kind (4 MiB for manifests and indexes).
    #[error("{url}: response exceeds {limit} bytes")]
    TooLarge {
        /// The request.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// Content that does not hash to the digest asked for.
    #[error("{url}: content does not match {expected} (it hashes to {actual})")]
    DigestMismatch {
        /// The request.
        url: String,
        /// The digest asked for (or the one the registry announced for a tag).
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// Content longer or shorter than its descriptor says.
    #[error("{url}: {actual} bytes where the descriptor says {expected}")]
    SizeMismatch {
        /// The request.
        url: String,
        /// The descriptor's size.
        expected: u64,
        /// What arrived (at least this much, when the registry sent too much).
        actual: u64,
    },
    /// A response that breaks the distribution specification: not JSON, not a manifest type, a
    /// `Content-Range` for the wrong bytes, an unusable token.
    #[error("{url}: {reason}")]
    Protocol {
        /// The request.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Writing fetched bytes to their destination failed.
    #[error("writing {what}: {source}")]
    Write {
        /// What was being written.
        what: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The HTTP client or its runtime could not be set up.
    #[error("setting up the registry client: {0}")]
    Setup(String),
    /// An upload (through `oci-client`) failed.
    #[error("{what}: {message}")]
    Push {
        /// The operation and reference.
        what: String,
        /// The error.
        message: String,
    },
}

impl RegistryError {
    /// True when content arrived but does not match what was asked for (digest or size): the
    /// registry served the wrong bytes, as opposed to not serving any.
    pub fn is_mismatch(&self) -> bool {
        matches!(
            self,
            RegistryError::DigestMismatch { .. } | RegistryError::SizeMismatch { .. }
        )
    }
}

/// The error and its sources on one line (`a: b: c`), each once.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let m = s.to_string();
        if !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        cur = s.source();
    }
    out
}

/// Keeps at most `max` characters of text from a server, without control characters.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    if s.chars().count() > max {
        out.push('…');
    }
    out.trim().to_owned()
}
