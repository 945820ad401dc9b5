//! Phase 2a, differential bundles: the blobs `export --since` left out are not in the bundle, so
//! the target must already hold them (in the target repository, or in a repository the far side's
//! inventory named, mounted from there: only when verification authenticated the export record
//! that names it, and at most 64 such repositories per blob). Checked before anything is pushed: one absent blob and
//! nothing is pushed (`blob_external_absent`, exit 1).

use crate::digest::Digest;
use crate::layout::Catalog;
use crate::registry::{Registry, RegistryError};
use crate::trust_artifact::LeftOut;

use super::upload::Job;
use super::{ImportError, ImportSummary};

/// A left-out blob the target lacks, in one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Absent {
    /// The blob.
    pub digest: Digest,
    /// The target repository that needs it.
    pub repository: String,
}

/// Splits `todo` (blobs the target lacks, after HEAD checks and mounts between its own
/// repositories) into the blobs the bundle carries, returned, and the ones it does not, which must
/// be mounted from a repository `left_out` names on the target's host. With `dry_run`, nothing is
/// mounted: a blob the named repository holds counts as mountable.
pub(super) fn settle(
    reg: &Registry,
    cat: &Catalog,
    todo: Vec<Job>,
    left_out: &[LeftOut],
    dry_run: bool,
    sum: &mut ImportSummary,
) -> Result<Vec<Job>, ImportError> {
    let mut carried = Vec::new();
    let mut absent = Vec::new();
    for job in todo {
        if cat.blobs.contains_key(&job.digest) {
            carried.push(job);
            continue;
        }
        // At most MAX_LEFT_OUT_SOURCES distinct sources, as an inventory keeps (each is a HEAD
        // per target repository before anything moves).
        let mut sources: Vec<&String> = Vec::new();
        for r in left_out
            .iter()
            .filter(|l| l.digest == job.digest.to_string())
            .flat_map(|l| l.repositories.iter())
        {
            if sources.len() >= crate::trust_artifact::MAX_LEFT_OUT_SOURCES {
                break;
            }
            if !sources.contains(&r) {
                sources.push(r);
            }
        }
        for repo in &job.repos {
            if mount_from(reg, repo, &sources, &job.digest, dry_run)? {
                sum.blobs_mounted += 1;
            } else {
                absent.push(Absent {
                    digest: job.digest.clone(),
                    repository: repo.clone(),
                });
            }
        }
    }
    if absent.is_empty() {
        Ok(carried)
    } else {
        Err(ImportError::ExternalAbsent { blobs: absent })
    }
}

/// Mounts `digest` into `repo` from the first of `sources` on the same host that holds it.
fn mount_from(
    reg: &Registry,
    repo: &str,
    sources: &[&String],
    digest: &Digest,
    dry_run: bool,
) -> Result<bool, ImportError> {
    let target = Registry::parse(repo)?;
    for from in sources {
        let Ok(from_ref) = Registry::parse(from) else {
            continue;
        };
        if from_ref.registry() != target.registry() || from.as_str() == repo {
            continue;
        }
        let there = match reg.blob_exists(&from_ref, &digest.to_string()) {
            Ok(b) => b,
            Err(e) if crate::registry::unreachable(&e) => return Err(e.into()),
            Err(_) => false,
        };
        if !there {
            continue;
        }
        if dry_run {
            return Ok(true);
        }
        match reg.mount(&target, &from_ref, &digest.to_string()) {
            Ok(()) => {}
            Err(e @ (RegistryError::TimedOut { .. } | RegistryError::Transport { .. })) => {
                return Err(e.into())
            }
            Err(_) => continue,
        }
        if reg.blob_exists(&target, &digest.to_string())? {
            return Ok(true);
        }
    }
    Ok(false)
}
