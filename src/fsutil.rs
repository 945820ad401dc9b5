//! File-system facts every layer may ask for. A leaf (level 1, beside `digest` and `finding`): it
//! uses no module of the crate, so `notary` (which may not use `layout`) and `layout` share it.

use std::fs::Metadata;

/// True when two `stat` results name the same file (same device and inode): the file opened is
/// the one checked before opening, not one swapped in between. Outside Unix there is no inode to
/// compare and the answer is always true (the documented limit).
#[cfg(unix)]
pub fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// True when two `stat` results name the same file; outside Unix there is no inode to compare.
#[cfg(not(unix))]
pub fn same_file(_: &Metadata, _: &Metadata) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn tells_a_replaced_file_from_the_same_one() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        std::fs::write(&a, b"one").unwrap();
        let before = std::fs::symlink_metadata(&a).unwrap();
        let opened = std::fs::File::open(&a).unwrap().metadata().unwrap();
        assert!(same_file(&before, &opened));
        // Replaced by rename (a new inode under the same name), as an attacker would.
        let b = t.path().join("b");
        std::fs::write(&b, b"two").unwrap();
        std::fs::rename(&b, &a).unwrap();
        let after = std::fs::symlink_metadata(&a).unwrap();
        assert!(!same_file(&before, &after));
    }
}
