//! The pull side: manifests by tag or digest ([`manifest`]), blobs streamed with `Range` resume
//! ([`blob`]), referrers through the API or the tag schema ([`referrers`]), and the header helpers
//! they share.

mod blob;
mod manifest;
mod referrers;

use reqwest::header::{HeaderMap, CONTENT_RANGE, CONTENT_TYPE, LINK};

use super::RegistryError;
use crate::digest::Digest;

/// The `Docker-Content-Digest` header, when it holds a digest airlock can recompute.
pub(super) fn header_digest(h: &HeaderMap) -> Option<Digest> {
    Digest::parse(h.get("docker-content-digest")?.to_str().ok()?.trim()).ok()
}

/// The media type of a `Content-Type` header, without parameters.
pub(super) fn content_type(h: &HeaderMap) -> Option<String> {
    let v = h.get(CONTENT_TYPE)?.to_str().ok()?;
    let mt = v.split(';').next().unwrap_or_default().trim();
    (!mt.is_empty()).then(|| mt.to_ascii_lowercase())
}

/// `bytes START-END/TOTAL` -> (START, TOTAL); TOTAL is `None` for `*`.
pub(super) fn content_range(h: &HeaderMap) -> Option<(u64, Option<u64>)> {
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
pub(crate) fn next_link(h: &HeaderMap) -> Option<String> {
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

/// True for a failure that got no answer from the registry at all (connection, silence), after
/// retries: what "does the registry have it?" cannot turn into "no".
pub fn unreachable(e: &RegistryError) -> bool {
    matches!(
        e,
        RegistryError::TimedOut { .. } | RegistryError::Transport { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::manifest::manifest_media_type;
    use super::*;
    use crate::layout::model::{self, Document};

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
