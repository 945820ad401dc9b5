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
    /// The registry refused a request with an error code of the distribution specification in its
    /// response body (`{"errors":[{"code":"DIGEST_INVALID",...}]}`), parsed into
    /// [`RegistryErrorCode`] so that callers match on the code, never on the text.
    #[error("{what}: refused{}: {code}{}", status.map_or_else(String::new, |s| format!(" (HTTP {s})")), if message.is_empty() { String::new() } else { format!(": {message}") })]
    Refused {
        /// The operation and reference.
        what: String,
        /// The HTTP status, when known.
        status: Option<u16>,
        /// The first error code of the body.
        code: RegistryErrorCode,
        /// The registry's message for it, clipped.
        message: String,
    },
    /// An upload failed (an answer without an error code, a `Location` that cannot be used, a
    /// digest that is not the one sent).
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

/// An error code of the distribution specification ("Error codes"), as a registry writes it in
/// the `errors` array of a response body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryErrorCode {
    /// `BLOB_UNKNOWN`.
    BlobUnknown,
    /// `BLOB_UPLOAD_INVALID`.
    BlobUploadInvalid,
    /// `BLOB_UPLOAD_UNKNOWN`.
    BlobUploadUnknown,
    /// `DIGEST_INVALID`: the uploaded content does not hash to the digest given.
    DigestInvalid,
    /// `MANIFEST_BLOB_UNKNOWN`.
    ManifestBlobUnknown,
    /// `MANIFEST_INVALID`.
    ManifestInvalid,
    /// `MANIFEST_UNKNOWN`.
    ManifestUnknown,
    /// `NAME_INVALID`.
    NameInvalid,
    /// `NAME_UNKNOWN`.
    NameUnknown,
    /// `SIZE_INVALID`: the uploaded length does not match the length given.
    SizeInvalid,
    /// `UNAUTHORIZED`.
    Unauthorized,
    /// `DENIED`.
    Denied,
    /// `UNSUPPORTED`.
    Unsupported,
    /// `TOOMANYREQUESTS`.
    TooManyRequests,
    /// A code the specification does not define (kept, clipped).
    Other(String),
}

impl RegistryErrorCode {
    /// The code as the specification spells it.
    pub fn parse(code: &str) -> Self {
        match code {
            "BLOB_UNKNOWN" => Self::BlobUnknown,
            "BLOB_UPLOAD_INVALID" => Self::BlobUploadInvalid,
            "BLOB_UPLOAD_UNKNOWN" => Self::BlobUploadUnknown,
            "DIGEST_INVALID" => Self::DigestInvalid,
            "MANIFEST_BLOB_UNKNOWN" => Self::ManifestBlobUnknown,
            "MANIFEST_INVALID" => Self::ManifestInvalid,
            "MANIFEST_UNKNOWN" => Self::ManifestUnknown,
            "NAME_INVALID" => Self::NameInvalid,
            "NAME_UNKNOWN" => Self::NameUnknown,
            "SIZE_INVALID" => Self::SizeInvalid,
            "UNAUTHORIZED" => Self::Unauthorized,
            "DENIED" => Self::Denied,
            "UNSUPPORTED" => Self::Unsupported,
            "TOOMANYREQUESTS" => Self::TooManyRequests,
            other => Self::Other(clip(other, 64)),
        }
    }

    /// The code as the specification spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::BlobUnknown => "BLOB_UNKNOWN",
            Self::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Self::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Self::DigestInvalid => "DIGEST_INVALID",
            Self::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Self::ManifestInvalid => "MANIFEST_INVALID",
            Self::ManifestUnknown => "MANIFEST_UNKNOWN",
            Self::NameInvalid => "NAME_INVALID",
            Self::NameUnknown => "NAME_UNKNOWN",
            Self::SizeInvalid => "SIZE_INVALID",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::Denied => "DENIED",
            Self::Unsupported => "UNSUPPORTED",
            Self::TooManyRequests => "TOOMANYREQUESTS",
            Self::Other(s) => s,
        }
    }

    /// The first `(code, message)` of an error body (`{"errors":[{"code":..,"message":..}]}`);
    /// `None` when the body is not such an envelope.
    pub fn from_body(body: &str) -> Option<(Self, String)> {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        let first = v.get("errors")?.as_array()?.first()?;
        let code = first.get("code")?.as_str()?;
        let message = first.get("message").and_then(|m| m.as_str()).unwrap_or("");
        Some((Self::parse(code), clip(message, 200)))
    }
}

impl std::fmt::Display for RegistryErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_parses_into_its_code() {
        let body = r#"{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content","detail":{}}]}"#;
        let (code, message) = RegistryErrorCode::from_body(body).unwrap();
        assert_eq!(code, RegistryErrorCode::DigestInvalid);
        assert_eq!(message, "provided digest did not match uploaded content");
        assert_eq!(
            RegistryErrorCode::from_body(r#"{"errors":[{"code":"X_VENDOR"}]}"#)
                .unwrap()
                .0,
            RegistryErrorCode::Other("X_VENDOR".into())
        );
        assert!(RegistryErrorCode::from_body("<html>").is_none());
        assert!(RegistryErrorCode::from_body(r#"{"errors":[]}"#).is_none());
        for c in ["SIZE_INVALID", "BLOB_UPLOAD_INVALID", "TOOMANYREQUESTS"] {
            assert_eq!(RegistryErrorCode::parse(c).as_str(), c);
        }
    }
}
