//! Registry references: `REGISTRY/REPO:TAG` and `REGISTRY/REPO@sha256:...`.
//!
//! The grammar is the distribution reference grammar, parsed by `oci_spec::distribution::Reference`
//! (docker's normalisation included: `alpine` is `docker.io/library/alpine:latest`); the digest is
//! then checked by [`Digest::parse`], so a reference only ever carries a digest airlock can
//! recompute (sha256 or sha512, lowercase hex).

use std::fmt;

use super::RegistryError;
use crate::digest::Digest;

/// A parsed registry reference.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses `REGISTRY/REPO:TAG`, `REGISTRY/REPO@DIGEST` or `REGISTRY/REPO:TAG@DIGEST` (the digest
    /// wins when both are given; the tag is kept for naming). A reference without a tag or digest
    /// means `:latest`.
    pub fn parse(s: &str) -> Result<Self, RegistryError> {
        let bad = |reason: String| RegistryError::Reference {
            given: crate::registry::error::clip(s, 300),
            reason,
        };
        let r = oci_spec::distribution::Reference::try_from(s).map_err(|e| bad(e.to_string()))?;
        let digest = r
            .digest()
            .map(Digest::parse)
            .transpose()
            .map_err(|e| bad(e.to_string()))?;
        Ok(Reference {
            registry: r.registry().to_owned(),
            repository: r.repository().to_owned(),
            tag: r.tag().map(str::to_owned),
            digest,
        })
    }

    /// The registry as written (`host[:port]`; `docker.io` for Docker Hub).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository (`library/alpine`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The whole reference, as [`fmt::Display`] writes it.
    pub fn whole(&self) -> String {
        self.to_string()
    }

    /// The same repository at `digest` (no tag).
    pub fn with_digest(&self, digest: &Digest) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest.clone()),
        }
    }

    /// The same repository at `tag`.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        }
    }

    /// `registry/repository`, the scope trust policies match against.
    pub fn repo_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The host the distribution API is served from (Docker Hub's API host for `docker.io`).
    pub(crate) fn api_host(&self) -> &str {
        match self.registry.as_str() {
            "docker.io" | "index.docker.io" => "registry-1.docker.io",
            r => r,
        }
    }

    /// The key credentials are stored under in a docker `config.json`.
    pub(crate) fn credential_key(&self) -> &str {
        match self.registry.as_str() {
            "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
                "https://index.docker.io/v1/"
            }
            r => r,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl std::str::FromStr for Reference {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_tags_and_digests() {
        let r = Reference::parse("127.0.0.1:5000/airlock/sample:1.0").unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "airlock/sample");
        assert_eq!(r.tag(), Some("1.0"));
        assert!(r.digest().is_none());
        assert_eq!(r.whole(), "127.0.0.1:5000/airlock/sample:1.0");
        assert_eq!(r.repo_name(), "127.0.0.1:5000/airlock/sample");

        let r = Reference::parse(&format!("ghcr.io/a/b@sha256:{HEX}")).unwrap();
        assert_eq!(r.digest().unwrap().hex(), HEX);
        assert_eq!(r.tag(), None);
        assert_eq!(r.whole(), format!("ghcr.io/a/b@sha256:{HEX}"));

        let r = Reference::parse("ghcr.io/a/b").unwrap();
        assert_eq!(r.tag(), Some("latest"));
    }

    #[test]
    fn docker_hub_is_normalised() {
        let r = Reference::parse("alpine:3").unwrap();
        assert_eq!(r.registry(), "docker.io");
        assert_eq!(r.repository(), "library/alpine");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.credential_key(), "https://index.docker.io/v1/");
    }

    #[test]
    fn refuses_bad_references_and_digests() {
        for s in [
            "",
            "host/UPPER:1",
            "host/repo:bad tag",
            "host/repo@sha256:abc",
            &format!("host/repo@sha256:{}", HEX.to_uppercase()),
            &format!("host/repo@md5:{}", &HEX[..32]),
            "host/repo@sha384:000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert!(
                matches!(Reference::parse(s), Err(RegistryError::Reference { .. })),
                "{s}"
            );
        }
    }
}
