//! Deterministic tarballs of a layout: `oci-layout`, then `blobs/` in name order, then `index.json`;
//! mode 0644 for files and 0755 for directories, and `archive::tar_header`'s machine-free fields.
//! Two runs over the same content give the same bytes. Output goes to a temporary name and is
//! renamed into place (`archive::write_tar_atomic`).

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use super::{classify, Name, INDEX_JSON, OCI_LAYOUT};
use crate::archive::{tar_header, write_tar_atomic, Compression};

fn append_tree(b: &mut tar::Builder<&mut dyn Write>, root: &Path) -> io::Result<()> {
    let add_file = |b: &mut tar::Builder<&mut dyn Write>, name: &str| -> io::Result<()> {
        let path = root.join(name);
        let f = File::open(&path)?;
        let len = f.metadata()?.len();
        let mut h = tar_header(tar::EntryType::Regular, len, 0o644);
        b.append_data(&mut h, name, io::Read::take(f, len))
    };
    add_file(b, OCI_LAYOUT)?;
    let blobs = root.join("blobs");
    if blobs.is_dir() {
        for entry in walkdir::WalkDir::new(&blobs)
            .follow_links(false)
            .sort_by_file_name()
        {
            let entry = entry.map_err(io::Error::other)?;
            let rel = entry
                .path()
                .strip_prefix(root)
                .map_err(io::Error::other)?
                .to_string_lossy()
                .replace('\\', "/");
            if entry.file_type().is_dir() {
                if matches!(classify(&rel, true), Name::BlobsDir | Name::AlgDir) {
                    let mut h = tar_header(tar::EntryType::Directory, 0, 0o755);
                    b.append_data(&mut h, format!("{rel}/"), io::empty())?;
                }
            } else if entry.file_type().is_file() && matches!(classify(&rel, false), Name::Blob(_))
            {
                add_file(b, &rel)?;
            }
        }
    }
    add_file(b, INDEX_JSON)
}

/// Writes the layout at `root` as a deterministic tarball at `out`.
pub fn write_layout_tar(root: &Path, out: &Path, compression: Compression) -> io::Result<()> {
    write_tar_atomic(out, compression, &|b| append_tree(b, root))
}
