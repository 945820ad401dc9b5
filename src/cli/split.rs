//! `airlock split`: a tarball bundle cut into parts that fit the media, with the parts manifest;
//! `--parts 5,7` re-issues chosen parts, byte-identical to the first split.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::output::{human_bytes, print_json};
use super::{Format, Printer, UsageError, EXIT_FAIL, EXIT_OK};
use crate::archive::parts::{self, Identity, PartEntry};
use crate::archive::{BundleFormat, FileDigest, Source};
use crate::layout::{self, ScanOptions};

/// Arguments of `airlock split`.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// The bundle: a .tar, .tar.gz or .tar.zst file (a directory cannot be split; export it as a
    /// tarball, or export with --split).
    pub bundle: PathBuf,
    /// The largest a part may be: a byte count with K, M, G, T (powers of 1024) or KB, MB, GB, TB
    /// (powers of 1000), or a medium: fat32 (4 GiB - 1), dvd (4.7 GB), dvd-dl (8.5 GB), bd25, bd50.
    #[arg(long, value_name = "SIZE", value_parser = parts::parse_size)]
    pub size: u64,
    /// Write only these parts (1-based, comma separated), byte-identical to the first split with
    /// the same --size: a lost or damaged part re-issued from the copy kept on the connected side.
    #[arg(long, value_name = "N,N,...", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..))]
    pub parts: Vec<u32>,
    /// The folder to write into. Default: the bundle's folder.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace an existing parts set of the same name.
    #[arg(long)]
    pub force: bool,
    /// Output format of the summary: text on stderr, or the manifest (JSON) on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Reads an open file from a given offset with `pread`, leaving the file's own offset alone: the
/// identity is read from the very file that is then cut (the same open file, not the path again),
/// while a decompression thread may still be reading ahead.
struct At {
    file: File,
    pos: u64,
}

impl Read for At {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.file.read_at(buf, self.pos) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
                Ok(n) => {
                    self.pos += u64::try_from(n).unwrap_or(u64::MAX);
                    return Ok(n);
                }
            }
        }
    }
}

/// What says a file was written to: its size and its modification time (a write in place moves
/// it). Not the status-change time, which a hard link, a `chmod` or an access moves without a
/// byte changing (red team K, K07: an unchanged file was refused).
fn stamp(md: &std::fs::Metadata) -> (u64, i64, i64) {
    (md.len(), md.mtime(), md.mtime_nsec())
}

/// The file being cut, read to its end; at the end, its [`stamp`] must be the one taken before
/// the identity was read, else the read fails and no part is renamed into place: the identity
/// stamped into the manifest is then that of the bytes cut (red team I, I-02: a file rewritten in
/// place between the two passes gave a manifest naming another bundle than its parts hold).
struct Unchanged<'a> {
    file: &'a mut File,
    before: (u64, i64, i64),
}

impl Read for Unchanged<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        if n == 0 && !buf.is_empty() && stamp(&self.file.metadata()?) != self.before {
            return Err(io::Error::other(
                "the bundle file changed while it was split (written to since its identity was read): no part was renamed into place",
            ));
        }
        Ok(n)
    }
}

/// The bundle's format, from the first bytes of the open file `f` (the magic bytes the rest of
/// airlock recognises a tarball by): anything else, a parts manifest included, is refused, for its
/// bytes cut into parts would be no bundle (red team C, F13).
fn tarball_format(f: &File, bundle: &Path) -> anyhow::Result<BundleFormat> {
    let mut prefix = Vec::with_capacity(512);
    At {
        file: f.try_clone()?,
        pos: 0,
    }
    .take(512)
    .read_to_end(&mut prefix)
    .with_context(|| format!("cannot read {}", bundle.display()))?;
    crate::archive::sniff(&prefix).ok_or_else(|| {
        let what = if prefix
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{')
        {
            "JSON (a parts manifest?), not a bundle: split the bundle file itself (a set is re-issued with --parts from the bundle it was cut from)"
        } else {
            "not a bundle: its first bytes are no tar, tar.gz or tar.zst"
        };
        UsageError::BadOption(format!(
            "{} is {what}; split cuts a .tar, .tar.gz or .tar.zst bundle",
            bundle.display()
        ))
        .into()
    })
}

/// The bundle's identity, read from the open file `f` itself (never through a parts set its path
/// might name): the `index.json` digest, and the trust artifact digest (the pin) when it lists
/// exactly one that carries trust material.
fn identity(f: &File, format: BundleFormat, bundle: &Path) -> anyhow::Result<Identity> {
    let source = Source::Stream {
        format,
        reader: Box::new(At {
            file: f.try_clone()?,
            pos: 0,
        }),
        len: Some(f.metadata()?.len()),
        file_digest: FileDigest::default(),
    };
    let opts = ScanOptions {
        hash: false,
        ..ScanOptions::default()
    };
    let cat = layout::scan(source, &opts)
        .with_context(|| format!("reading bundle {}", bundle.display()))?;
    // A tarball that is no whole bundle (the first part of a set, a cut or damaged file, a tar of
    // something else) would be stamped with no identity, or the wrong one: refused.
    let broken = cat
        .failures
        .iter()
        .find(|f| f.code == crate::finding::Code::ArchiveCorrupt);
    if let Some(f) = broken {
        return Err(UsageError::BadOption(format!(
            "{} is not a whole bundle ({}: {}); split cuts a .tar, .tar.gz or .tar.zst bundle",
            bundle.display(),
            f.code.as_str(),
            f.message
        ))
        .into());
    }
    if cat.index_json.is_none() {
        return Err(UsageError::BadOption(format!(
            "{} is not a bundle: a tarball without index.json; split cuts a .tar, .tar.gz or .tar.zst bundle",
            bundle.display()
        ))
        .into());
    }
    let index_digest = cat
        .index_json
        .as_ref()
        .and_then(|s| s.bytes())
        .map(|b| crate::digest::Digest::sha256(b).to_string());
    let pin = match crate::trust_artifact::read_bundled(&cat) {
        Ok(Some(b)) if b.policy.is_some() => Some(b.digest),
        _ => None,
    };
    Ok(Identity { index_digest, pin })
}

fn print_parts(list: &[PartEntry], p: &Printer) {
    for part in list {
        p.info(&format!(
            "  {}  {}  {}",
            part.name,
            human_bytes(part.size),
            part.sha256
        ));
    }
}

pub(super) fn run(a: &SplitArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    let md = std::fs::metadata(&a.bundle)
        .with_context(|| format!("cannot open {}", a.bundle.display()))?;
    if !md.is_file() {
        return Err(UsageError::BadOption(format!(
            "{} is not a file: split cuts a .tar, .tar.gz or .tar.zst bundle (export a directory as a tarball, or with --split)",
            a.bundle.display()
        ))
        .into());
    }
    // Everything below reads this one open file: the format, the identity and the bytes cut.
    let mut f = crate::fsutil::open_regular_file(&a.bundle, true)
        .with_context(|| format!("cannot open {}", a.bundle.display()))?;
    let md = f
        .metadata()
        .with_context(|| format!("cannot open {}", a.bundle.display()))?;
    let format = tarball_format(&f, &a.bundle)?;
    // The file's size says how many parts it makes: too many is refused before any is written.
    let count = md.len().div_ceil(a.size.max(1));
    if count > u64::try_from(parts::MAX_PARTS).unwrap_or(u64::MAX) {
        return Err(UsageError::BadOption(format!(
            "{} would make {count} parts of {} bytes (at most {}): choose a larger --size",
            a.bundle.display(),
            a.size,
            parts::MAX_PARTS
        ))
        .into());
    }
    let name = a
        .bundle
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out_dir = a.output.clone().unwrap_or_else(|| {
        a.bundle
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    });
    std::fs::create_dir_all(&out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let manifest_path = out_dir.join(parts::manifest_name(&name));

    if !a.parts.is_empty() {
        let numbers: BTreeSet<usize> = a
            .parts
            .iter()
            .filter_map(|n| usize::try_from(*n).ok())
            .collect();
        // The set's manifest, when there, is what each re-issued part must match before any is
        // renamed over the part it lists.
        let listed = if std::fs::symlink_metadata(&manifest_path).is_ok() {
            Some(parts::read::manifest_at(&manifest_path).map_err(|why| {
                UsageError::BadOption(format!(
                    "{why}: the parts re-issued into {} are compared with it before any is written; re-issue into another folder (-o)",
                    out_dir.display()
                ))
            })?)
        } else {
            None
        };
        if let Some(m) = listed.as_ref().filter(|m| m.part_size != a.size) {
            p.important(&format!(
                "  FAIL {} was cut every {} bytes, not {}: nothing was written, the set is as it was",
                manifest_path.display(),
                m.part_size,
                a.size
            ));
            return Ok(ExitCode::from(EXIT_FAIL));
        }
        crate::fsutil::cleanup::install_signal_handler()
            .context("installing the signal handler")?;
        let r = parts::reissue(&mut f, &out_dir, &name, a.size, &numbers, listed.as_ref());
        if r.is_err() {
            if let Some(code) = super::interrupted(
                p,
                "no part was renamed into place, the temporary files are removed, the set is as it was",
            ) {
                return Ok(code);
            }
        }
        let r = r.with_context(|| format!("re-issuing parts of {}", a.bundle.display()))?;
        if !r.differ.is_empty() {
            for d in &r.differ {
                p.important(&format!(
                    "  FAIL {} ({}) differs from what {} lists: this bundle file is not the one that was split",
                    d.name,
                    d.sha256,
                    manifest_path.display()
                ));
            }
            p.important(&format!(
                "nothing was written: every part in {} is as it was",
                out_dir.display()
            ));
            return Ok(ExitCode::from(EXIT_FAIL));
        }
        if a.format == Format::Json {
            print_json(&r.parts)?;
        }
        p.info(&format!(
            "re-issued {} part(s) of {} into {}:",
            r.parts.len(),
            name,
            out_dir.display()
        ));
        print_parts(&r.parts, p);
        if listed.is_some() {
            p.important(&format!(
                "each re-issued part matches {}",
                manifest_path.display()
            ));
        }
        return Ok(ExitCode::from(EXIT_OK));
    }

    if !a.force {
        let first = out_dir.join(parts::manifest::part_name(&name, 1));
        for existing in [&manifest_path, &first] {
            if std::fs::symlink_metadata(existing).is_ok() {
                return Err(UsageError::BadOption(format!(
                    "{} exists: pass --force to replace the parts set (or --parts N,... to re-issue parts)",
                    existing.display()
                ))
                .into());
            }
        }
    }
    crate::fsutil::cleanup::install_signal_handler().context("installing the signal handler")?;
    let before = stamp(&md);
    let identity = identity(&f, format, &a.bundle)?;
    let bar = p.progress("split");
    bar.set_total(Some(md.len()));
    let mut cut = Unchanged {
        file: &mut f,
        before,
    };
    let m = parts::split_reader(&mut cut, &out_dir, &name, a.size, identity, &mut |n| {
        bar.advance(n)
    });
    bar.finish();
    if let Some(code) = super::interrupted(
        p,
        "no part was renamed into place, the temporary files are removed, an earlier set is untouched",
    ) {
        return Ok(code);
    }
    let m = m.with_context(|| {
        format!(
            "splitting {} into {}",
            a.bundle.display(),
            out_dir.display()
        )
    })?;
    if a.format == Format::Json {
        print_json(&m)?;
    }
    p.info(&format!(
        "split {} ({}, {}) into {} part(s) of at most {}:",
        name,
        human_bytes(m.size),
        m.sha256,
        m.parts.len(),
        human_bytes(a.size)
    ));
    print_parts(&m.parts, p);
    p.important(&format!(
        "wrote {} (bundle {}, pin {}); check each part on arrival with `airlock verify --parts-only PART`",
        manifest_path.display(),
        m.bundle.index_digest.as_deref().unwrap_or("-"),
        m.bundle.pin.as_deref().unwrap_or("-")
    ));
    Ok(ExitCode::from(EXIT_OK))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_written_to_after_its_stamp_fails_at_its_end() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("b.tar");
        std::fs::write(&path, vec![7u8; 100_000]).unwrap();
        let read_all = |change: bool| {
            let mut f = File::open(&path).unwrap();
            let before = stamp(&f.metadata().unwrap());
            if change {
                // Another writer, in place, same size.
                let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                w.write_all(b"x").unwrap();
                w.sync_all().unwrap();
            }
            let mut out = Vec::new();
            Unchanged {
                file: &mut f,
                before,
            }
            .read_to_end(&mut out)
            .map(|_| out.len())
        };
        assert_eq!(read_all(false).unwrap(), 100_000);
        // Metadata only (a chmod, a hard link): the bytes are the same, the split goes on (red
        // team K, K07).
        {
            let f = File::open(&path).unwrap();
            let before = stamp(&f.metadata().unwrap());
            let mut perms = f.metadata().unwrap().permissions();
            perms.set_readonly(true);
            std::fs::set_permissions(&path, perms).unwrap();
            std::fs::hard_link(&path, t.path().join("link.tar")).unwrap();
            let mut f = File::open(&path).unwrap();
            let mut out = Vec::new();
            Unchanged {
                file: &mut f,
                before,
            }
            .read_to_end(&mut out)
            .unwrap();
            let mut perms = f.metadata().unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&path, perms).unwrap();
        }
        let e = read_all(true).unwrap_err();
        assert!(e.to_string().contains("changed while it was split"), "{e}");
    }
}
