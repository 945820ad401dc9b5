//! The registry client as a [`Holder`]: tags, manifests by tag or digest (bytes checked against
//! the digest), blob presence by `HEAD`.

use super::walk::{Holder, HolderError};
use crate::digest::Digest;
use crate::registry::{unreachable, Reference, Registry, RegistryError};

/// A registry at `HOST[:PORT][/PREFIX]`: repositories are named under the prefix.
pub struct RegistryHolder<'a> {
    /// The client.
    pub registry: &'a Registry,
    /// `HOST[:PORT][/PREFIX]`.
    pub location: String,
}

impl RegistryHolder<'_> {
    fn reference(&self, repo: &str, suffix: &str) -> Result<Reference, HolderError> {
        let whole = format!("{}/{repo}{suffix}", self.location.trim_end_matches('/'));
        Registry::parse(&whole).map_err(|e| HolderError {
            fatal: true,
            message: e.to_string(),
        })
    }
}

fn held(e: RegistryError) -> HolderError {
    HolderError {
        fatal: unreachable(&e),
        message: e.to_string(),
    }
}

impl Holder for RegistryHolder<'_> {
    fn tags(&self, repo: &str, max: usize) -> Result<Vec<String>, HolderError> {
        let r = self.reference(repo, "")?;
        self.registry
            .tags_upto(&r, max.saturating_add(1))
            .map(|t| t.tags)
            .map_err(held)
    }

    fn manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<(Digest, String, Vec<u8>), HolderError> {
        let suffix = if reference.contains(':') {
            format!("@{reference}")
        } else {
            format!(":{reference}")
        };
        let r = self.reference(repo, &suffix)?;
        let (desc, bytes) = self.registry.resolve(&r).map_err(held)?;
        let digest = Digest::parse(&desc.digest).map_err(|e| HolderError {
            fatal: false,
            message: e.to_string(),
        })?;
        Ok((digest, desc.media_type.unwrap_or_default(), bytes))
    }

    fn has_blob(&self, repo: &str, digest: &Digest) -> Result<bool, HolderError> {
        let r = self.reference(repo, "")?;
        self.registry
            .blob_exists(&r, &digest.to_string())
            .map_err(held)
    }
}
