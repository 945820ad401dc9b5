//! The one tar entry reader of a bundle: verify's scan, export's `oci-archive:` source and import's
//! second pass all read a tarball's entries through [`TarEntries`], so the hostile-entry rules
//! (`..` and absolute paths, names that are not UTF-8, links, devices and other special files,
//! duplicate names, stray names, the entry-count limit) are applied in one place.

use std::collections::HashSet;
use std::io::{self, Read};

use super::catalog::{read_small, Small};
use super::{classify, Limits, Name};
use crate::archive::{Body, EntryKind, TarReader};
use crate::finding::{Code, Finding};

/// One tar entry, classified.
#[derive(Debug)]
pub enum Entry {
    /// A name a layout may hold (the root, `blobs/`, `blobs/<alg>/`, `oci-layout`, `index.json`,
    /// `blobs/<alg>/<hex>`); its body, if any, is read with [`TarEntries::body`].
    Accepted {
        /// The name as the archive gives it.
        name: String,
        /// What it denotes.
        class: Name,
        /// The size the header gives.
        size: u64,
    },
    /// An entry the hostile-entry rules refuse; its body is skipped by the next call.
    Refused(Finding),
}

/// A tar stream read entry by entry with the hostile-entry rules applied.
pub struct TarEntries<R> {
    tar: TarReader<R>,
    seen: HashSet<String>,
    count: u64,
    max_entries: u64,
    max_small: u64,
}

impl<R: Read> TarEntries<R> {
    /// Reads a decompressed tar stream under `limits` (extended headers, entry count, and the cap
    /// [`TarEntries::read_small`] applies to `oci-layout` and `index.json`).
    pub fn new(tar_stream: R, limits: &Limits) -> Self {
        TarEntries {
            tar: TarReader::new(tar_stream, limits.max_tar_ext_header),
            seen: HashSet::new(),
            count: 0,
            max_entries: limits.max_entries,
            max_small: limits.max_manifest_bytes,
        }
    }

    /// The next entry, `None` at the end of the archive. An error ends the stream: a corrupt or
    /// truncated archive (`archive_corrupt`) or more entries than the limit (`limit_exceeded`).
    pub fn next_entry(&mut self) -> Result<Option<Entry>, Finding> {
        let entry = match self.tar.next_entry() {
            Ok(Some(e)) => e,
            Ok(None) => return Ok(None),
            Err(e) => return Err(Finding::new(Code::ArchiveCorrupt, describe(&e))),
        };
        self.count = self.count.saturating_add(1);
        if self.count > self.max_entries {
            return Err(Finding::new(
                Code::LimitExceeded,
                format!("more than {} tar entries", self.max_entries),
            ));
        }
        let name = entry.name;
        let is_dir = entry.kind == EntryKind::Dir;
        let class = classify(&name, is_dir);
        let refuse =
            |code: Code, msg: String| Ok(Some(Entry::Refused(Finding::new(code, msg).path(&name))));
        if !entry.utf8 {
            return refuse(Code::UnexpectedEntry, "entry name is not UTF-8".into());
        }
        if class == Name::Unsafe {
            return refuse(
                Code::UnsafePath,
                "absolute path or `..` component: refused, nothing written".into(),
            );
        }
        match entry.kind {
            EntryKind::Symlink => {
                return refuse(Code::LinkEntry, "symbolic link entry refused".into())
            }
            EntryKind::HardLink => {
                return refuse(Code::LinkEntry, "hard link entry refused".into())
            }
            EntryKind::Special(flag) => {
                return refuse(
                    Code::SpecialFile,
                    format!("special entry (type {:?}) refused", char::from(flag)),
                )
            }
            EntryKind::File | EntryKind::Dir => {}
        }
        if !is_dir && !self.seen.insert(name.trim_start_matches("./").to_string()) {
            return refuse(
                Code::DuplicateEntry,
                "name appears twice: which copy a reader sees is ambiguous".into(),
            );
        }
        match class {
            Name::NotDigest | Name::Other | Name::Unsafe => refuse(
                Code::UnexpectedEntry,
                "entry outside oci-layout, index.json and blobs/<alg>/<hex>".into(),
            ),
            Name::Root
            | Name::BlobsDir
            | Name::AlgDir
            | Name::OciLayout
            | Name::IndexJson
            | Name::Blob(_) => Ok(Some(Entry::Accepted {
                name: name.clone(),
                class,
                size: entry.size,
            })),
        }
    }

    /// The body of the entry last returned.
    pub fn body(&mut self) -> Body<'_, R> {
        self.tar.body()
    }

    /// The body of the entry last returned as a small file (`oci-layout`, `index.json`): its bytes,
    /// or [`Small::TooLarge`] over the manifest limit (the rest is skipped, never kept).
    pub fn read_small(&mut self) -> io::Result<Small> {
        let cap = self.max_small;
        read_small(&mut self.tar.body(), cap)
    }
}

/// The words for an error reading the archive.
pub(crate) fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => format!("archive is truncated: {e}"),
        _ => format!("archive cannot be read: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(u64::try_from(data.len()).unwrap());
            h.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                h.set_link_name("index.json").unwrap();
                h.set_size(0);
            }
            // `set_path` refuses `..`; the raw name field does not.
            let raw = &mut h.as_old_mut().name;
            raw[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn each_hostile_entry_is_refused_once_with_its_code() {
        let blob = b"hello";
        let d = crate::digest::Digest::sha256(blob);
        let blob_name = format!("blobs/sha256/{}", d.hex());
        let raw = tar_of(&[
            ("oci-layout", tar::EntryType::Regular, b"{}"),
            ("../escape", tar::EntryType::Regular, b"x"),
            ("link", tar::EntryType::Symlink, b""),
            ("dev", tar::EntryType::Char, b""),
            (&blob_name, tar::EntryType::Regular, blob),
            (&blob_name, tar::EntryType::Regular, blob),
            ("stray.txt", tar::EntryType::Regular, b"x"),
            ("index.json", tar::EntryType::Regular, b"{}"),
        ]);
        let limits = Limits {
            max_manifest_bytes: 1,
            ..Limits::default()
        };
        let mut entries = TarEntries::new(&raw[..], &limits);
        let mut seen = Vec::new();
        while let Some(e) = entries.next_entry().unwrap() {
            seen.push(match e {
                Entry::Accepted {
                    class: Name::IndexJson,
                    ..
                } => match entries.read_small().unwrap() {
                    Small::TooLarge(n) => format!("index.json too large: {n}"),
                    Small::Bytes(_) => "index.json".into(),
                },
                Entry::Accepted { class, .. } => format!("{class:?}"),
                Entry::Refused(f) => f.code.as_str().to_owned(),
            });
        }
        assert_eq!(
            seen,
            vec![
                "OciLayout".to_owned(),
                "unsafe_path".into(),
                "link_entry".into(),
                "special_file".into(),
                format!("Blob({d:?})"),
                "duplicate_entry".into(),
                "unexpected_entry".into(),
                "index.json too large: 2".into(),
            ]
        );
    }

    #[test]
    fn the_entry_limit_ends_the_stream() {
        let raw = tar_of(&[
            ("oci-layout", tar::EntryType::Regular, b"{}"),
            ("index.json", tar::EntryType::Regular, b"{}"),
        ]);
        let limits = Limits {
            max_entries: 1,
            ..Limits::default()
        };
        let mut entries = TarEntries::new(&raw[..], &limits);
        assert!(matches!(
            entries.next_entry(),
            Ok(Some(Entry::Accepted { .. }))
        ));
        let f = entries.next_entry().unwrap_err();
        assert_eq!(f.code, Code::LimitExceeded);
    }
}
