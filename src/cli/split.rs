//! `airlock split`: a tarball bundle cut into parts that fit the media, with the parts manifest;
//! `--parts 5,7` re-issues chosen parts, byte-identical to the first split.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::output::{human_bytes, print_json};
use super::{Format, Printer, UsageError, EXIT_FAIL, EXIT_OK};
use crate::archive::parts::{self, Identity, PartEntry};
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

/// The bundle's identity, read from the bundle itself: the `index.json` digest, and the trust
/// artifact digest (the pin) when it lists exactly one that carries trust material.
fn identity(bundle: &Path) -> anyhow::Result<Identity> {
    let source = crate::archive::open(bundle)?;
    let opts = ScanOptions {
        hash: false,
        ..ScanOptions::default()
    };
    let cat = layout::scan(source, &opts)
        .with_context(|| format!("reading bundle {}", bundle.display()))?;
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
        crate::fsutil::cleanup::install_signal_handler()
            .context("installing the signal handler")?;
        let mut f = std::fs::File::open(&a.bundle)
            .with_context(|| format!("cannot open {}", a.bundle.display()))?;
        let written = parts::reissue(&mut f, &out_dir, &name, a.size, &numbers);
        if let Some(code) = super::interrupted(
            p,
            "the part being written is removed; parts re-issued before it are whole",
        ) {
            return Ok(code);
        }
        let written =
            written.with_context(|| format!("re-issuing parts of {}", a.bundle.display()))?;
        if a.format == Format::Json {
            print_json(&written)?;
        }
        p.info(&format!(
            "re-issued {} part(s) of {} into {}:",
            written.len(),
            name,
            out_dir.display()
        ));
        print_parts(&written, p);
        // The set's manifest, when there, says whether these are the parts it lists.
        if let Ok(m) = parts::read::manifest_at(&manifest_path) {
            let differ: Vec<&PartEntry> = written.iter().filter(|w| !m.parts.contains(w)).collect();
            if !differ.is_empty() || m.part_size != a.size {
                for d in &differ {
                    p.important(&format!(
                        "  FAIL {} differs from what {} lists: this bundle file or --size is not the one that was split",
                        d.name,
                        manifest_path.display()
                    ));
                }
                if m.part_size != a.size {
                    p.important(&format!(
                        "  FAIL {} was cut every {} bytes, not {}",
                        manifest_path.display(),
                        m.part_size,
                        a.size
                    ));
                }
                return Ok(ExitCode::from(EXIT_FAIL));
            }
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
    let identity = identity(&a.bundle)?;
    let mut f = std::fs::File::open(&a.bundle)
        .with_context(|| format!("cannot open {}", a.bundle.display()))?;
    let bar = p.progress("split");
    bar.set_total(Some(md.len()));
    let m = parts::split_reader(&mut f, &out_dir, &name, a.size, identity, &mut |n| {
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
