//! Export from a registry (feature `pull`): [`Fetch`] over a [`Registry`]. It lives on the export
//! side so that `registry` knows nothing of `export` (ARCHITECTURE.md, "Layers").

use std::io::Write;
use std::sync::Arc;

use super::{ExportError, Fetch, Mismatch, SharedBlobs, SourceError};
use crate::digest::Digest;
use crate::layout::model::Descriptor;
use crate::registry::{Reference, Registry, RegistryError};

/// Exports from a registry: [`Fetch`] over a [`Registry`].
pub struct RegistryFetch {
    registry: Arc<Registry>,
    reference: Reference,
    given: String,
    /// The repository's tags, listed once, when cosign's tag-named artifacts are first looked for.
    tags: Option<Vec<String>>,
}

impl RegistryFetch {
    /// For `reference` through `registry`.
    pub fn new(registry: Arc<Registry>, given: &str) -> Result<Self, RegistryError> {
        Ok(RegistryFetch {
            registry,
            reference: Reference::parse(given)?,
            given: given.to_owned(),
            tags: None,
        })
    }

    fn digest_of(desc: &Descriptor) -> Result<Digest, ExportError> {
        Digest::parse(&desc.digest).map_err(|e| ExportError::Mismatch {
            digest: desc.digest.clone(),
            problem: Mismatch::Digest(e),
        })
    }
}

fn src(digest: &str, e: RegistryError) -> ExportError {
    if e.is_mismatch() {
        ExportError::Mismatch {
            digest: digest.to_owned(),
            problem: Mismatch::Registry(e),
        }
    } else {
        ExportError::Source(SourceError::Registry(e))
    }
}

impl Fetch for RegistryFetch {
    fn reference(&self) -> String {
        // The name as given (registry/repo:tag), which is what trust-policy scopes match.
        let whole = self.reference.whole();
        if self.given.contains('@') || self.reference.tag().is_some() {
            whole
        } else {
            self.given.clone()
        }
    }

    fn resolve(&mut self) -> Result<(Descriptor, Vec<u8>), ExportError> {
        let name = self.reference.whole();
        self.registry
            .resolve(&self.reference)
            .map_err(|e| src(&name, e))
    }

    fn manifest(&mut self, desc: &Descriptor) -> Result<Vec<u8>, ExportError> {
        let d = Self::digest_of(desc)?;
        let (_, bytes) = self
            .registry
            .manifest(&self.reference, &d)
            .map_err(|e| src(&desc.digest, e))?;
        if u64::try_from(bytes.len()).ok() != Some(desc.size) {
            return Err(ExportError::Mismatch {
                digest: desc.digest.clone(),
                problem: Mismatch::Size {
                    expected: desc.size,
                    actual: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
                },
            });
        }
        Ok(bytes)
    }

    fn blob(&mut self, desc: &Descriptor, out: &mut dyn Write) -> Result<u64, ExportError> {
        blob(&self.registry, &self.reference, desc, out)
    }

    fn shared(&self) -> Option<Arc<dyn SharedBlobs>> {
        Some(Arc::new(RegistryBlobs {
            registry: self.registry.clone(),
            reference: self.reference.clone(),
        }))
    }

    fn cosign_tagged(
        &mut self,
        subject: &Descriptor,
    ) -> Result<Vec<(String, Descriptor)>, ExportError> {
        let d = Self::digest_of(subject)?;
        if self.tags.is_none() {
            let tags = match self.registry.tags(&self.reference) {
                Ok(t) => t,
                Err(RegistryError::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(src(&subject.digest, e)),
            };
            self.tags = Some(tags);
        }
        let mut out = Vec::new();
        for tag in crate::layout::cosign_tags(&d) {
            if !self.tags.iter().flatten().any(|t| *t == tag) {
                continue;
            }
            let (desc, _) = self
                .registry
                .resolve(&self.reference.with_tag(&tag))
                .map_err(|e| src(&tag, e))?;
            out.push((tag, desc));
        }
        Ok(out)
    }

    fn referrers(&mut self, subject: &Descriptor) -> Result<Vec<Descriptor>, ExportError> {
        let d = Self::digest_of(subject)?;
        self.registry
            .referrers(&self.reference, &d, None)
            .map_err(|e| src(&subject.digest, e))
    }
}

/// Streams a blob: export hashes everything it writes (the sinks' blob writers), one pass, not two.
fn blob(
    registry: &Registry,
    reference: &Reference,
    desc: &Descriptor,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    registry
        .blob_to_unhashed(reference, desc, out)
        .map_err(|e| src(&desc.digest, e))
}

/// The blobs of one repository, fetched from several threads through one client (`Registry` is
/// `Sync`: one connection pool, one token cache).
struct RegistryBlobs {
    registry: Arc<Registry>,
    reference: Reference,
}

impl SharedBlobs for RegistryBlobs {
    fn blob(&self, desc: &Descriptor, out: &mut dyn Write) -> Result<u64, ExportError> {
        blob(&self.registry, &self.reference, desc, out)
    }
}
