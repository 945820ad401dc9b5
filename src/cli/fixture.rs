//! Hidden `airlock fixture`: writes the deterministic sample bundle used by the README, the tests and
//! `scripts/bench.sh`; hidden `airlock pack`: packs a layout directory (a signed sample, say) into a
//! deterministic tarball with the project's own writer.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::{Printer, EXIT_OK};
use crate::archive::Compression;
use crate::fixture::{generate, Spec};
use crate::layout::write_layout_tar;

/// Arguments of `airlock fixture`.
#[derive(Debug, Args)]
pub struct FixtureArgs {
    /// Output: a directory, or a file ending in .tar, .tar.gz or .tar.zst.
    pub out: PathBuf,
    /// Platforms of the image index (os/arch), comma separated.
    #[arg(long, value_delimiter = ',', default_value = "linux/amd64,linux/arm64")]
    pub platforms: Vec<String>,
    /// Layers per platform.
    #[arg(long, default_value_t = 2)]
    pub layers: usize,
    /// Bytes per layer.
    #[arg(long, default_value_t = 256 << 10)]
    pub layer_size: u64,
    /// Seed of the layer content.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Image reference recorded in index.json.
    #[arg(long, default_value = "registry.example/airlock/sample:1.0")]
    pub reference: String,
    /// Leave out the SBOM-like referrer.
    #[arg(long)]
    pub no_referrer: bool,
}

pub(super) fn run(a: &FixtureArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    let spec = Spec {
        reference: a.reference.clone(),
        platforms: a.platforms.clone(),
        layers: a.layers,
        layer_size: a.layer_size,
        seed: a.seed,
        referrer: !a.no_referrer,
    };
    let name = a.out.to_string_lossy();
    let is_tar = name.ends_with(".tar")
        || name.ends_with(".tar.gz")
        || name.ends_with(".tgz")
        || name.ends_with(".tar.zst");
    if is_tar {
        let parent = a
            .out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| ".".into());
        let tmp = parent.join(format!(".airlock-fixture-{}", std::process::id()));
        let res = generate(&tmp, &spec)
            .and_then(|_| write_layout_tar(&tmp, &a.out, Compression::from_file_name(&a.out)));
        let _ = std::fs::remove_dir_all(&tmp);
        res.with_context(|| format!("writing {}", a.out.display()))?;
    } else {
        generate(&a.out, &spec).with_context(|| format!("writing {}", a.out.display()))?;
    }
    p.info(&format!("wrote {}", a.out.display()));
    Ok(ExitCode::from(EXIT_OK))
}

/// Arguments of `airlock pack`.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// The layout directory.
    pub layout: PathBuf,
    /// Output file ending in .tar, .tar.gz or .tar.zst.
    pub out: PathBuf,
}

pub(super) fn pack(a: &PackArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    write_layout_tar(&a.layout, &a.out, Compression::from_file_name(&a.out))
        .with_context(|| format!("packing {} into {}", a.layout.display(), a.out.display()))?;
    p.info(&format!("wrote {}", a.out.display()));
    Ok(ExitCode::from(EXIT_OK))
}
