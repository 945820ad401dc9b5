//! The far side's inventory: which blobs a site already holds (issue 14, differential bundles).
//!
//! `airlock inventory` writes it on the far side, from the site's registry ([`walk`], through the
//! [`Holder`] trait that the registry client implements) and from bundles or layouts on disk
//! ([`from_bundle`], which re-hashes every blob). It is carried back to the connected side, where
//! `export --since` leaves out of the bundle every blob it lists except what verification needs
//! in hand. It is **not trusted for anything but leaving blobs out**: a lying inventory can only
//! make the bundle smaller than the site needs, which the far side's `import` catches before
//! pushing anything (the left-out blobs must be in the target registry), or larger.
//!
//! ```json
//! {
//!   "schemaVersion": 1,
//!   "tool": {"name": "airlock", "version": "0.1.0"},
//!   "createdAt": "2026-12-05T12:00:00Z",
//!   "sources": [{"kind": "registry", "location": "registry.site:5000", "repositories": ["apps/web"],
//!                "blobs": 12}],
//!   "blobs": [{"digest": "sha256:…", "size": 1234, "repositories": ["registry.site:5000/apps/web"]}]
//! }
//! ```

mod bundle;
#[cfg(feature = "pull")]
mod registry;
mod walk;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

pub use bundle::from_bundle;
#[cfg(feature = "pull")]
pub use registry::RegistryHolder;
pub use walk::{walk, Holder, HolderError, WalkLimits};

/// Version of the inventory format.
pub const SCHEMA_VERSION: u32 = 1;

/// Largest inventory file read: about 160,000 blobs. The file comes back from the far side, so
/// its size is the carrier's choice; what it parses to is held while the export runs (a 200 MB
/// inventory took 814 MiB of memory, over export's 128 MiB bound).
pub const MAX_INVENTORY_BYTES: u64 = 24 << 20;

/// The most repositories kept for one blob (`blobs[].repositories`), distinct, in the order
/// listed. They only tell import where it can mount a left-out blob from (one that holds it is
/// enough), and they are copied into the export record, which `verify` reads within 4 MiB: an
/// inventory listing 200,000 names for a layer made a bundle whose record its own verify refused.
pub const MAX_REPOSITORIES_PER_BLOB: usize = crate::trust_artifact::MAX_LEFT_OUT_SOURCES;

/// The longest repository name (`HOST[:PORT]/PATH`) read: the distribution spec's limit on a
/// name.
pub const MAX_REPOSITORY_NAME: usize = 255;

/// Why `name` is not a repository as an inventory lists it (`HOST[:PORT]/PATH`, as the walk of
/// a registry writes it): at most [`MAX_REPOSITORY_NAME`] bytes; a host of letters, digits, `.`,
/// `-`, `:` and `[]`; path components of lowercase letters, digits, `.`, `_` and `-`.
fn repository_problem(name: &str) -> Option<&'static str> {
    if name.len() > MAX_REPOSITORY_NAME {
        return Some("longer than a repository name can be");
    }
    let Some((host, path)) = name.split_once('/') else {
        return Some("not HOST/REPOSITORY");
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !host_ok {
        return Some("not a registry host before the first /");
    }
    // Each component as the distribution grammar has it: lowercase letters and digits, joined by
    // `.`, `_` or `-`, so beginning and ending with a letter or digit (never `.` or `..`).
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let path_ok = path.split('/').all(|c| {
        c.bytes().next().as_ref().is_some_and(alnum)
            && c.bytes().last().as_ref().is_some_and(alnum)
            && c.bytes().all(|b| alnum(&b) || b"._-".contains(&b))
    });
    if !path_ok {
        return Some("not a repository path after the host");
    }
    None
}

/// Why an inventory could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The file could not be read.
    #[error("reading inventory {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_INVENTORY_BYTES`].
    #[error("inventory {path} is larger than {MAX_INVENTORY_BYTES} bytes")]
    TooLarge {
        /// The file.
        path: String,
    },
    /// The file is not an inventory of a version this build reads.
    #[error("inventory {path} is malformed: {reason}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The registry could not be walked.
    #[error("walking {repository}: {reason}")]
    Walk {
        /// The repository.
        repository: String,
        /// What failed.
        reason: String,
    },
    /// A bundle could not be read.
    #[error("reading bundle {path}: {reason}")]
    Bundle {
        /// The bundle.
        path: String,
        /// What failed.
        reason: String,
    },
}

/// The tool that wrote an inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// `airlock`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// What an inventory's blobs were read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A registry, walked through its tags.
    Registry,
    /// A bundle or layout on disk, re-hashed.
    Bundle,
}

/// One source of an inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    /// Registry or bundle.
    pub kind: SourceKind,
    /// `HOST[:PORT][/PREFIX]` for a registry, the path for a bundle.
    pub location: String,
    /// The repositories walked (registry sources).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<String>,
    /// The bundle's `index.json` digest (bundle sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_digest: Option<String>,
    /// Distinct blobs this source contributed.
    pub blobs: u64,
}

/// One blob the site holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Blob {
    /// Its digest.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// The repositories (`HOST/REPO`) that hold it, so that import can mount it from there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<String>,
}

/// An inventory document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Inventory {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The tool that wrote it.
    pub tool: Tool,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// Where its blobs were read.
    pub sources: Vec<Source>,
    /// The blobs, sorted by digest.
    pub blobs: Vec<Blob>,
}

impl Inventory {
    /// Reads and checks an inventory file: at most [`MAX_INVENTORY_BYTES`], strict JSON of
    /// [`SCHEMA_VERSION`], every digest well formed and listed once.
    pub fn read(path: &Path) -> Result<Inventory, InventoryError> {
        let name = path.display().to_string();
        let io = |source| InventoryError::Io {
            path: name.clone(),
            source,
        };
        let Some(bytes) = crate::fsutil::read_named_file(path, MAX_INVENTORY_BYTES).map_err(io)?
        else {
            return Err(InventoryError::TooLarge { path: name });
        };
        Inventory::parse(&bytes).map_err(|reason| InventoryError::Malformed { path: name, reason })
    }

    /// Parses and checks an inventory document: every digest well formed and listed once, every
    /// repository a well-formed `HOST/PATH` name (else the inventory is refused, naming the blob
    /// and the name), each blob's repositories deduplicated and at most
    /// [`MAX_REPOSITORIES_PER_BLOB`] kept (the first listed).
    pub fn parse(bytes: &[u8]) -> Result<Inventory, String> {
        let mut inv: Inventory = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if inv.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "schemaVersion {} (this build reads {SCHEMA_VERSION})",
                inv.schema_version
            ));
        }
        let mut seen = BTreeSet::new();
        for b in &inv.blobs {
            let d = Digest::parse(&b.digest).map_err(|e| format!("blob {:?}: {e}", b.digest))?;
            if !seen.insert(d) {
                return Err(format!("blob {} is listed twice", b.digest));
            }
        }
        for b in &mut inv.blobs {
            let mut kept: Vec<String> = Vec::new();
            let mut names = BTreeSet::new();
            for r in std::mem::take(&mut b.repositories) {
                if let Some(why) = repository_problem(&r) {
                    let shown: String = r.chars().take(80).collect();
                    return Err(format!("blob {}: repository {shown:?}: {why}", b.digest));
                }
                if kept.len() < MAX_REPOSITORIES_PER_BLOB && names.insert(r.clone()) {
                    kept.push(r);
                }
            }
            b.repositories = kept;
        }
        Ok(inv)
    }

    /// The blobs as a map from digest to (size, repositories).
    pub fn held(&self) -> BTreeMap<Digest, &Blob> {
        self.blobs
            .iter()
            .filter_map(|b| Some((Digest::parse(&b.digest).ok()?, b)))
            .collect()
    }
}

/// Collects blobs from several sources into one inventory.
#[derive(Debug, Default)]
pub struct Builder {
    blobs: BTreeMap<Digest, (u64, BTreeSet<String>)>,
    /// Digests seen with two different sizes: not listed (leaving them out could not be right).
    conflicting: BTreeSet<Digest>,
    sources: Vec<Source>,
}

impl Builder {
    /// An empty builder.
    pub fn new() -> Self {
        Builder::default()
    }

    /// Adds one blob held in `repository` (or on disk, when `None`). Returns whether it was new.
    pub fn add(&mut self, digest: Digest, size: u64, repository: Option<&str>) -> bool {
        if self.conflicting.contains(&digest) {
            return false;
        }
        match self.blobs.get_mut(&digest) {
            Some((known, repos)) => {
                if *known != size {
                    self.blobs.remove(&digest);
                    self.conflicting.insert(digest);
                    return false;
                }
                if let Some(r) = repository {
                    repos.insert(r.to_owned());
                }
                false
            }
            None => {
                let repos = repository.map(str::to_owned).into_iter().collect();
                self.blobs.insert(digest, (size, repos));
                true
            }
        }
    }

    /// Records a source.
    pub fn source(&mut self, source: Source) {
        self.sources.push(source);
    }

    /// Digests that were seen with two sizes (and are therefore not listed).
    pub fn conflicting(&self) -> impl Iterator<Item = &Digest> {
        self.conflicting.iter()
    }

    /// The inventory, made at `created_at`.
    pub fn finish(self, created_at: String) -> Inventory {
        Inventory {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: env!("CARGO_PKG_NAME").to_owned(),
                version: env!("CARGO_PKG_VERSION").to_owned(),
            },
            created_at,
            sources: self.sources,
            blobs: self
                .blobs
                .into_iter()
                .map(|(d, (size, repos))| Blob {
                    digest: d.to_string(),
                    size,
                    // What `parse` keeps: more would be dropped on the connected side.
                    repositories: repos.into_iter().take(MAX_REPOSITORIES_PER_BLOB).collect(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> Digest {
        Digest::sha256(&[n])
    }

    #[test]
    fn builder_merges_repositories_and_drops_size_conflicts() {
        let mut b = Builder::new();
        assert!(b.add(d(1), 10, Some("r/a")));
        assert!(!b.add(d(1), 10, Some("r/b")));
        assert!(b.add(d(2), 5, None));
        assert!(!b.add(d(2), 6, Some("r/a")));
        assert!(!b.add(d(2), 5, None), "a conflicting digest stays out");
        let inv = b.finish("2026-12-05T00:00:00Z".into());
        assert_eq!(inv.blobs.len(), 1);
        assert_eq!(inv.blobs[0].digest, d(1).to_string());
        assert_eq!(inv.blobs[0].repositories, vec!["r/a", "r/b"]);
    }

    #[test]
    fn repositories_are_checked_deduplicated_and_bounded_when_read() {
        let names: Vec<String> = (0..20_000)
            .map(|i| format!("registry.site:5000/r{:07}", i % 10_000))
            .collect();
        let doc = serde_json::json!({
            "schemaVersion": 1, "tool": {"name": "airlock", "version": "t"},
            "createdAt": "2026-12-05T00:00:00Z", "sources": [],
            "blobs": [
                {"digest": d(1).to_string(), "size": 1, "repositories": names},
                {"digest": d(2).to_string(), "size": 2,
                 "repositories": ["h:5000/a", "[::1]:5000/b/c", "h:5000/a"]},
            ]
        });
        let inv = Inventory::parse(doc.to_string().as_bytes()).unwrap();
        let kept = &inv.blobs[0].repositories;
        assert_eq!(kept.len(), MAX_REPOSITORIES_PER_BLOB);
        assert_eq!(kept[0], "registry.site:5000/r0000000");
        assert_eq!(kept[63], "registry.site:5000/r0000063");
        assert_eq!(
            inv.blobs[1].repositories,
            vec!["h:5000/a", "[::1]:5000/b/c"]
        );
        for (bad, why) in [
            ("no-slash", "not HOST/REPOSITORY"),
            ("h:5000/Upper", "repository path"),
            ("h:5000/a//b", "repository path"),
            ("h 1/a", "registry host"),
            ("/a", "registry host"),
            ("h:5000/a\nb", "repository path"),
            // `.` and `..` (red team F: read, then refused by import), and what the grammar
            // never begins or ends a component with.
            ("h:5000/a/../b", "repository path"),
            ("h:5000/./b", "repository path"),
            ("h:5000/-a", "repository path"),
            ("h:5000/a_", "repository path"),
        ] {
            let mut v = doc.clone();
            v["blobs"][1]["repositories"] = serde_json::json!(["h:5000/ok", bad]);
            let e = Inventory::parse(v.to_string().as_bytes()).unwrap_err();
            assert!(
                e.contains(why) && e.contains(&d(2).to_string()),
                "{bad}: {e}"
            );
        }
        let mut v = doc.clone();
        v["blobs"][1]["repositories"] = serde_json::json!([format!("h/{}", "a".repeat(254))]);
        assert!(Inventory::parse(v.to_string().as_bytes())
            .unwrap_err()
            .contains("longer than"));
        // The writer keeps what the reader would.
        let mut b = Builder::new();
        for i in 0..100 {
            b.add(d(5), 5, Some(&format!("h/r{i:03}")));
        }
        let inv = b.finish("2026-12-05T00:00:00Z".into());
        assert_eq!(inv.blobs[0].repositories.len(), MAX_REPOSITORIES_PER_BLOB);
    }

    #[test]
    fn round_trip_and_strict_parse() {
        let mut b = Builder::new();
        b.add(d(3), 7, Some("h/x"));
        b.source(Source {
            kind: SourceKind::Bundle,
            location: "b.tar".into(),
            repositories: Vec::new(),
            bundle_digest: Some(d(9).to_string()),
            blobs: 1,
        });
        let inv = b.finish("2026-12-05T00:00:00Z".into());
        let bytes = serde_json::to_vec(&inv).unwrap();
        assert_eq!(Inventory::parse(&bytes).unwrap(), inv);

        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["schemaVersion"] = 2.into();
        assert!(Inventory::parse(v.to_string().as_bytes())
            .unwrap_err()
            .contains("schemaVersion 2"));
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["blobs"][0]["digest"] = "sha256:nothex".into();
        assert!(Inventory::parse(v.to_string().as_bytes()).is_err());
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["extra"] = 1.into();
        assert!(Inventory::parse(v.to_string().as_bytes()).is_err());
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let first = v["blobs"][0].clone();
        v["blobs"].as_array_mut().unwrap().push(first);
        assert!(Inventory::parse(v.to_string().as_bytes())
            .unwrap_err()
            .contains("twice"));
    }
}
