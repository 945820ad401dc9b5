//! Progress reporting while a bundle is read or written, and the bundle's physical form: what the
//! tar and compression layer needs to know, defined here so that `archive` depends on nothing above
//! it. `layout` re-exports both (`layout::Progress`, `layout::BundleFormat`).

/// Receives progress while a bundle is read. Implemented by the CLI's progress bar.
pub trait Progress: Send + Sync {
    /// The total number of bytes expected, when known.
    fn set_total(&self, _bytes: Option<u64>) {}
    /// More bytes were read.
    fn advance(&self, _bytes: u64) {}
    /// One item (a blob being fetched) started: a short `label` and its `size`; returns the id
    /// that [`Progress::item_advance`] and [`Progress::item_done`] name it by. Items may run at
    /// the same time (`export --jobs`); their bytes are also counted by [`Progress::advance`].
    fn item_start(&self, _label: &str, _size: u64) -> u64 {
        0
    }
    /// More bytes of item `id`.
    fn item_advance(&self, _id: u64, _bytes: u64) {}
    /// Item `id` is finished (or failed).
    fn item_done(&self, _id: u64) {}
}

/// A progress sink that ignores everything.
pub struct NoProgress;
impl Progress for NoProgress {}

/// The physical form of a bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleFormat {
    /// An OCI layout directory.
    Directory,
    /// An uncompressed tarball.
    Tar,
    /// A gzip-compressed tarball.
    TarGzip,
    /// A zstd-compressed tarball.
    TarZstd,
}

impl BundleFormat {
    /// Name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            BundleFormat::Directory => "directory",
            BundleFormat::Tar => "tar",
            BundleFormat::TarGzip => "tar+gzip",
            BundleFormat::TarZstd => "tar+zstd",
        }
    }
}
