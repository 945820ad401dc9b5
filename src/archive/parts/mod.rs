//! Parts: a bundle file cut into `NAME.001`, `NAME.002`, ... that fit the media (FAT32 sticks,
//! discs, transfer portals with per-file caps), with `NAME.parts.json`, the map of the set: each
//! part's name, offset, size and sha256, the whole stream's size and sha256, and the bundle's
//! identity (the `index.json` digest and the pin). Parts are bytes below the layout: reading a set
//! gives one stream, which the scan reads as it reads a single file, while each part is checked on
//! the way ([`read`]).
//!
//! The manifest is a map, not an anchor: nothing in it is authenticated. A carrier who edits a
//! part and the manifest together passes the parts check, and the content check (every blob
//! re-hashed, signatures against the local anchor or the pin) fails.

pub mod manifest;
pub mod read;
pub mod size;
pub mod write;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use manifest::{Identity, PartEntry, PartsManifest, MAX_PARTS};
pub use read::{check_only, PartsCheck, PartsOutcome, PartsReader};
pub use size::parse_size;
pub use write::{create, manifest_name, reissue, split_reader, PartsFinish, PartsStream};

use super::OpenError;

/// A parts set found at a path the operator gave.
pub struct PartsSet {
    /// The manifest file.
    pub manifest_path: PathBuf,
    /// The folder holding the parts.
    pub dir: PathBuf,
    /// The manifest.
    pub manifest: PartsManifest,
    /// The part file the operator named, when it was one part (its file name).
    pub named_part: Option<String>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> OpenError + '_ {
    move |source| OpenError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Reads the manifest at `path`: a regular file reached through no symbolic link, opened without
/// blocking, as a part is ([`read::open_part`]): a FIFO on the carrier's medium cannot hang us.
pub fn read_manifest(path: &Path) -> Result<PartsManifest, OpenError> {
    let f = read::open_part(path).map_err(io_err(path))?;
    manifest::parse(f).map_err(|why| OpenError::PartsManifest {
        path: path.display().to_string(),
        why,
    })
}

fn parent_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn set_at(
    manifest_path: PathBuf,
    dir: PathBuf,
    named_part: Option<String>,
) -> Result<PartsSet, OpenError> {
    let manifest = read_manifest(&manifest_path)?;
    Ok(PartsSet {
        manifest_path,
        dir,
        manifest,
        named_part,
    })
}

/// Whether `path` names a parts set: a parts manifest (JSON, recognised by its content), a part
/// file `NAME.NNN` with `NAME.parts.json` beside it, or a folder holding exactly one
/// `*.parts.json` and no `index.json` or `oci-layout` (a layout folder stays a layout). With
/// `manifest`, that manifest is used, and the parts are looked for beside `path`.
pub fn locate(path: &Path, manifest: Option<&Path>) -> Result<Option<PartsSet>, OpenError> {
    if path == Path::new("-") {
        return Ok(None);
    }
    let md = std::fs::metadata(path).map_err(io_err(path))?;
    if md.is_dir() {
        if let Some(m) = manifest {
            return set_at(m.to_path_buf(), path.to_path_buf(), None).map(Some);
        }
        if path.join("index.json").exists() || path.join("oci-layout").exists() {
            return Ok(None);
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io_err(path))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .map(|n| n.to_string_lossy())
                    .is_some_and(|n| n.ends_with(manifest::SUFFIX) && !n.starts_with('.'))
            })
            .collect();
        found.sort();
        return match found.len() {
            0 => Ok(None),
            1 => set_at(found.remove(0), path.to_path_buf(), None).map(Some),
            _ => Err(OpenError::PartsManifest {
                path: path.display().to_string(),
                why: format!(
                    "the folder holds {} parts manifests ({}): name the one to read",
                    found.len(),
                    found
                        .iter()
                        .filter_map(|p| p.file_name())
                        .map(|n| n.to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        };
    }
    let dir = parent_of(path);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(m) = manifest {
        let set = set_at(m.to_path_buf(), dir, None)?;
        let named = (file_name != set.manifest.name
            && m.file_name().map(|n| n.to_string_lossy().into_owned()) != Some(file_name.clone()))
        .then_some(file_name);
        return Ok(Some(PartsSet {
            named_part: named,
            ..set
        }));
    }
    // A part file: NAME.NNN with NAME.parts.json beside it.
    if let Some((stem, digits)) = file_name.rsplit_once('.') {
        if manifest::part_number(stem, &file_name).is_some() && digits.len() >= 3 {
            let m = dir.join(manifest_name(stem));
            if m.is_file() {
                return set_at(m, dir, Some(file_name)).map(Some);
            }
        }
    }
    // A manifest, recognised by its content: JSON where a tarball has magic bytes. Only a regular
    // file is looked into (a pipe read here would lose its first bytes to the real reader).
    if !md.is_file() {
        return Ok(None);
    }
    let mut prefix = Vec::with_capacity(64);
    crate::fsutil::open_regular_file(path, true)
        .map_err(io_err(path))?
        .take(64)
        .read_to_end(&mut prefix)
        .map_err(io_err(path))?;
    if prefix
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
    {
        return set_at(path.to_path_buf(), dir, None).map(Some);
    }
    Ok(None)
}

/// The stream of a parts set, with its check. A set whose first bytes are no tarball because a
/// part is bad is read as a tar (the scan then reports the content failures beside the part
/// findings); one whose parts are all good and still no tarball is [`OpenError::Unrecognised`], as
/// a single file would be. `strict`: the stream fails at the first bad part (`import`'s second
/// pass), instead of going on and reporting through the check.
pub fn open_set(set: PartsSet, strict: bool) -> Result<(super::Source, PartsCheck), OpenError> {
    let len = set.manifest.size;
    let shown = set.manifest_path.display().to_string();
    let (dir, manifest_path, manifest) = (
        set.dir.clone(),
        set.manifest_path.clone(),
        set.manifest.clone(),
    );
    let (reader, mut check) = read::reader(&set.dir, &set.manifest_path, set.manifest, strict);
    let mut r: Box<dyn Read + Send> = Box::new(reader);
    let mut prefix = Vec::with_capacity(512);
    (&mut r)
        .take(512)
        .read_to_end(&mut prefix)
        .map_err(|source| OpenError::Io {
            path: shown.clone(),
            source,
        })?;
    let format = match super::sniff(&prefix) {
        Some(f) => f,
        // Unrecognised: because of a bad part (read as a tar, to report), or not a tarball at all.
        None if !strict && !read::check_only(&dir, &manifest_path, manifest, None).passed() => {
            super::BundleFormat::Tar
        }
        None => return Err(OpenError::Unrecognised(shown)),
    };
    let file_digest = super::FileDigest::default();
    let reader = file_digest.wrap(Box::new(std::io::Cursor::new(prefix).chain(r)));
    // Each part is judged by its own digest; the whole stream's is compared with the manifest's
    // (read.rs, "Digests").
    check.compare_whole(file_digest.clone());
    Ok((
        super::Source::Stream {
            format,
            reader,
            len: Some(len),
            file_digest,
        },
        check,
    ))
}
