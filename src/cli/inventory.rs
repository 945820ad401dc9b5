//! `airlock inventory`: what the far side already holds, for `export --since`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::output::{human_bytes, print_json};
use super::{Format, Printer, UsageError, EXIT_OK};
use crate::inventory::{self, Builder, Inventory};
use crate::layout::{self, ScanOptions};

/// Arguments of `airlock inventory`.
#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Bundles or layouts on disk whose blobs the site holds (each re-hashed; only blobs that
    /// hash to their names are listed).
    pub bundles: Vec<PathBuf>,
    /// Write the inventory to FILE (a temporary name, then renamed). Without it, the inventory
    /// goes to stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The site's registry: HOST[:PORT][/PREFIX]; its repositories are walked (tags, manifests,
    /// indexes) and every blob they list is checked with HEAD.
    #[cfg(feature = "pull")]
    #[arg(long, value_name = "HOST[:PORT][/PREFIX]")]
    pub registry: Option<String>,
    /// A repository of --registry to walk (under its prefix); repeatable.
    #[cfg(feature = "pull")]
    #[arg(long = "repo", value_name = "REPO", requires = "registry")]
    pub repos: Vec<String>,
    /// Walk the repositories a previous bundle's images were imported into (with --registry as
    /// import's --to and the same --map rewrites).
    #[cfg(feature = "pull")]
    #[arg(long, value_name = "BUNDLE", requires = "registry")]
    pub repos_from: Vec<PathBuf>,
    /// Rewrite a repository prefix as import did: OLD=NEW; repeatable (with --repos-from).
    #[cfg(feature = "pull")]
    #[arg(long = "map", value_name = "OLD=NEW", value_parser = super::net::parse_map, requires = "repos_from")]
    pub maps: Vec<(String, String)>,
    /// Registry connection options (as for import).
    #[cfg(feature = "pull")]
    #[command(flatten)]
    pub net: super::net::RegistryArgs,
    /// The time recorded as createdAt (RFC 3339). Default: now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// Output format of the summary on stderr (the inventory itself is always JSON).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(super) fn run(a: &InventoryArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    let created_at = match &a.at {
        Some(s) => super::rfc3339_arg("--at", s)?,
        None => jiff::Timestamp::now(),
    }
    .round(jiff::Unit::Second)
    .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    .to_string();
    let mut b = Builder::new();
    #[cfg(feature = "pull")]
    let from_registry = a.registry.is_some();
    #[cfg(not(feature = "pull"))]
    let from_registry = false;
    if a.bundles.is_empty() && !from_registry {
        return Err(UsageError::BadOption(
            "nothing to inventory: name bundles or layouts, or --registry HOST with --repo REPO"
                .into(),
        )
        .into());
    }
    #[cfg(feature = "pull")]
    if let Some(location) = &a.registry {
        walk_registry(a, location, &mut b, p)?;
    }
    for path in &a.bundles {
        let bar = p.progress("inventory");
        let opts = ScanOptions {
            progress: bar.clone().sink(),
            ..ScanOptions::default()
        };
        let src = inventory::from_bundle(path, &opts, &mut b, &mut |n| p.important(&n));
        bar.finish();
        let src = src?;
        p.info(&format!("{}: {} blob(s)", src.location, src.blobs));
        b.source(src);
    }
    for d in b.conflicting() {
        p.important(&format!("{d}: seen with two sizes, not listed"));
    }
    let inv = b.finish(created_at);
    let mut bytes = serde_json::to_vec_pretty(&inv)?;
    bytes.push(b'\n');
    match &a.output {
        Some(path) => layout::write_atomic(path, &bytes)
            .map_err(|e| anyhow::anyhow!("writing inventory {}: {e}", path.display()))?,
        None => {
            // The inventory is the product: a stdout closed before it was all written is a
            // failure (exit 2), never the success a closed pipe is for text.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .map_err(|e| anyhow::anyhow!("writing the inventory to stdout: {e}"))?;
        }
    }
    summarise(&inv, a, p)?;
    Ok(ExitCode::from(EXIT_OK))
}

fn summarise(inv: &Inventory, a: &InventoryArgs, p: &Printer) -> anyhow::Result<()> {
    let bytes: u64 = inv.blobs.iter().map(|b| b.size).sum();
    if a.format == Format::Json && a.output.is_some() {
        print_json(&serde_json::json!({
            "blobs": inv.blobs.len(),
            "bytes": bytes,
            "sources": inv.sources,
        }))?;
    }
    p.info(&format!(
        "inventory: {} blob(s), {} held, from {} source(s){}",
        inv.blobs.len(),
        human_bytes(bytes),
        inv.sources.len(),
        a.output
            .as_ref()
            .map(|o| format!(" -> {}", o.display()))
            .unwrap_or_default()
    ));
    Ok(())
}

#[cfg(feature = "pull")]
fn walk_registry(
    a: &InventoryArgs,
    location: &str,
    b: &mut Builder,
    p: &Printer,
) -> anyhow::Result<()> {
    let (host, prefix) = super::net::split_target(location);
    let mut repos: Vec<String> = a
        .repos
        .iter()
        .map(|r| r.trim_matches('/').to_owned())
        .collect();
    for bundle in &a.repos_from {
        for repo in repos_of_bundle(bundle, &host, &prefix, &a.maps)? {
            if !repos.contains(&repo) {
                repos.push(repo);
            }
        }
    }
    if repos.is_empty() {
        return Err(UsageError::BadOption(
            "--registry needs the repositories to walk: --repo REPO or --repos-from BUNDLE".into(),
        )
        .into());
    }
    let reg = crate::registry::Registry::new(a.net.options(&host))?;
    let holder = inventory::RegistryHolder {
        registry: &reg,
        location: host.clone(),
    };
    // Repositories are walked by their full path on the host (the prefix included), so that the
    // inventory names the repository import can mount from.
    let full: Vec<String> = repos
        .iter()
        .map(|r| {
            if prefix.is_empty() || r.starts_with(&format!("{prefix}/")) {
                r.clone()
            } else {
                format!("{prefix}/{r}")
            }
        })
        .collect();
    let src = inventory::walk(
        &holder,
        &host,
        &full,
        inventory::WalkLimits::default(),
        b,
        &mut |n| p.important(&n),
    )?;
    p.info(&format!(
        "{}: {} blob(s) in {} repositor{}",
        src.location,
        src.blobs,
        src.repositories.len(),
        if src.repositories.len() == 1 {
            "y"
        } else {
            "ies"
        }
    ));
    b.source(src);
    Ok(())
}

/// The repositories (under `prefix`, relative to the host) a bundle's images were imported into.
#[cfg(feature = "pull")]
fn repos_of_bundle(
    bundle: &std::path::Path,
    host: &str,
    prefix: &str,
    maps: &[(String, String)],
) -> anyhow::Result<Vec<String>> {
    let source = crate::archive::open(bundle)?;
    let cat = layout::scan(
        source,
        &ScanOptions {
            hash: false,
            ..ScanOptions::default()
        },
    )?;
    let Some(layout::Small::Bytes(index)) = &cat.index_json else {
        return Err(anyhow::anyhow!("{}: no index.json", bundle.display()));
    };
    let doc = layout::model::Document::parse(index)
        .map_err(|e| anyhow::anyhow!("{}: index.json: {e}", bundle.display()))?;
    let plan = crate::import::ImportPlan {
        host: host.to_owned(),
        prefix: prefix.to_owned(),
        maps: maps.to_vec(),
        referrers: crate::import::ReferrersMode::Auto,
        verified: Vec::new(),
        unrecorded: Default::default(),
        authenticated_record: None,
    };
    let mut out = Vec::new();
    for desc in doc.manifests.iter().flatten() {
        let Some(name) = desc.reference() else {
            continue;
        };
        let Ok((target, _tag)) = crate::import::target_of(name, &plan) else {
            continue;
        };
        let repo = target
            .strip_prefix(&format!("{host}/"))
            .unwrap_or(&target)
            .to_owned();
        if !out.contains(&repo) {
            out.push(repo);
        }
    }
    Ok(out)
}
