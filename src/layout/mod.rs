//! The OCI image-layout model: names inside a bundle, the JSON documents, and the catalog a scan of
//! a directory or a tarball produces.
//!
//! Only this module turns a [`Digest`] into a path ([`blob_path`]).

pub mod at;
mod blob;
mod capped;
pub(crate) mod catalog;
mod dir;
pub mod entries;
pub mod model;
mod referrers;
mod regular;
mod select;
mod stream;
mod tar;
mod write;

use std::path::{Path, PathBuf};

pub use blob::{part_name, write_blob, write_blob_hashed, BlobError};
pub use capped::read_capped;
pub use catalog::{
    BlobEntry, BundleFormat, Catalog, Content, NoProgress, Progress, ScanOptions, Small,
};
pub use dir::{scan_dir, ScanError};
pub use entries::{
    open_blob, scan_entries, BlobOpenError, DirEntries, Entry, EntrySource, Item, Stop, TarEntries,
};
pub use referrers::{
    cosign_tag_subject, cosign_tags, is_referrers_tag, names_an_artifact_of_an_image,
    referrers_tag, referrers_tag_of, tag_subject, COSIGN_SUFFIXES, MAX_REFERRER_DEPTH,
};
pub use regular::{open_regular, OpenError};
pub use select::selects;
pub use stream::scan_stream;
pub use tar::write_layout_tar;
pub use write::{write_atomic, LayoutWriter};

use crate::digest::Digest;

/// The `oci-layout` file name.
pub const OCI_LAYOUT: &str = "oci-layout";
/// The `index.json` file name.
pub const INDEX_JSON: &str = "index.json";
/// The only layout version the image-spec defines.
pub const LAYOUT_VERSION: &str = "1.0.0";

/// Resource limits applied while reading a bundle.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest manifest, index, `index.json` or `oci-layout` parsed (image-spec and distribution-spec
    /// both suggest 4 MiB; notation refuses larger signature manifests).
    pub max_manifest_bytes: u64,
    /// Total bytes of small JSON blobs kept in memory while a tarball streams by.
    pub max_retained_json: u64,
    /// Total bytes of DER parts over 64 KiB kept (the trust artifact's CRLs), a budget of their
    /// own: DER-shaped blobs never take the documents' share.
    pub max_retained_der: u64,
    /// Largest GNU long-name or PAX header body accepted in a tarball.
    pub max_tar_ext_header: u64,
    /// Largest number of tar entries.
    pub max_entries: u64,
    /// Deepest nesting of indexes.
    pub max_depth: usize,
}

/// The deepest a document may sit below `index.json` (its entries are at depth 0): verification
/// refuses deeper ones (`nesting_too_deep`), and export and its lock check never follow past it.
pub const MAX_INDEX_DEPTH: usize = 16;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_manifest_bytes: 4 << 20,
            max_retained_json: 16 << 20,
            max_retained_der: 8 << 20,
            max_tar_ext_header: 64 << 10,
            max_entries: 50_000,
            max_depth: MAX_INDEX_DEPTH,
        }
    }
}

/// The path of a blob relative to the layout root: `blobs/<alg>/<hex>`.
pub fn blob_path(d: &Digest) -> PathBuf {
    Path::new("blobs").join(d.algorithm().name()).join(d.hex())
}

/// The same path as a `/`-separated string, as reports and tarballs use it.
pub fn blob_name(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm().name(), d.hex())
}

/// What a name inside a layout denotes.
#[derive(Debug, PartialEq, Eq)]
pub enum Name {
    /// The layout root itself (`.` or `./`).
    Root,
    /// `oci-layout`.
    OciLayout,
    /// `index.json`.
    IndexJson,
    /// `blobs/`.
    BlobsDir,
    /// `blobs/<alg>/` for any well-formed algorithm name.
    AlgDir,
    /// `blobs/<alg>/<hex>` with a supported algorithm and a valid encoding.
    Blob(Digest),
    /// Something under `blobs/` that is not a digest.
    NotDigest,
    /// An absolute path or one with `..`.
    Unsafe,
    /// Anything else.
    Other,
}

/// Classifies a `/`-separated name relative to the layout root. A leading `./` (as `tar -C DIR -cf F .`
/// writes) is accepted; `is_dir` tells whether the entry is a directory.
pub fn classify(name: &str, is_dir: bool) -> Name {
    if name.starts_with('/') || name.split('/').any(|c| c == "..") {
        return Name::Unsafe;
    }
    let mut n = name;
    while let Some(rest) = n.strip_prefix("./") {
        n = rest;
    }
    let trimmed = if is_dir { n.trim_end_matches('/') } else { n };
    if trimmed.is_empty() || trimmed == "." {
        return if is_dir { Name::Root } else { Name::Other };
    }
    let parts: Vec<&str> = trimmed.split('/').collect();
    match (parts.as_slice(), is_dir) {
        (["oci-layout"], false) => Name::OciLayout,
        (["index.json"], false) => Name::IndexJson,
        (["blobs"], true) => Name::BlobsDir,
        (["blobs", alg], true)
            if !alg.is_empty() && alg.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Name::AlgDir
        }
        (["blobs", alg, enc], false) => match Digest::parse(&format!("{alg}:{enc}")) {
            Ok(d) => Name::Blob(d),
            Err(_) => Name::NotDigest,
        },
        (["blobs", ..], _) => Name::NotDigest,
        _ => Name::Other,
    }
}

/// Scans a bundle: a directory directly, a tarball in one streaming pass with decompression on its
/// own thread.
pub fn scan(source: crate::archive::Source, opts: &ScanOptions) -> Result<Catalog, ScanError> {
    match source {
        crate::archive::Source::Dir(root) => scan_dir(&root, opts),
        crate::archive::Source::Stream {
            format,
            reader,
            len,
            file_digest,
        } => {
            opts.progress.set_total(len);
            let mut stream = crate::archive::decompress(reader, format, opts.progress.clone());
            let mut cat = scan_stream(&mut stream, format, opts);
            // The rest (padding past the tar's end) is read too, so that the file's own digest
            // covers every byte; a stream that fails here, or goes on past what any padding
            // could be (the scan refused it already), simply has none.
            if stream
                .drain_at_most(crate::archive::MAX_TRAILING_ZEROS)
                .unwrap_or(false)
            {
                cat.file_digest = file_digest.get();
            }
            Ok(cat)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn classifies_names() {
        assert_eq!(classify("oci-layout", false), Name::OciLayout);
        assert_eq!(classify("./index.json", false), Name::IndexJson);
        assert_eq!(classify("./", true), Name::Root);
        assert_eq!(classify("blobs/", true), Name::BlobsDir);
        assert_eq!(classify("./blobs/sha256/", true), Name::AlgDir);
        assert!(matches!(
            classify(&format!("blobs/sha256/{HEX}"), false),
            Name::Blob(_)
        ));
        assert_eq!(
            classify(&format!("blobs/sha256/{}", HEX.to_uppercase()), false),
            Name::NotDigest
        );
        assert_eq!(classify("../index.json", false), Name::Unsafe);
        assert_eq!(classify("blobs/../../x", false), Name::Unsafe);
        assert_eq!(classify("/etc/passwd", false), Name::Unsafe);
        assert_eq!(classify("README", false), Name::Other);
        assert_eq!(classify("oci-layout", true), Name::Other);
    }

    #[test]
    fn blob_path_is_confined() {
        let d = Digest::parse(&format!("sha256:{HEX}")).unwrap();
        assert_eq!(blob_name(&d), format!("blobs/sha256/{HEX}"));
        assert_eq!(blob_path(&d), Path::new("blobs").join("sha256").join(HEX));
    }
}
