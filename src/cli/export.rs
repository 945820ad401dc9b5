//! `airlock export`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::output::{human_bytes, print_json};
use super::{Format, Printer, UsageError, EXIT_ERROR, EXIT_OK};
use crate::export::{self, ExportOptions, Output, SourceRef};
use crate::trust_artifact::TrustMaterial;

/// Arguments of `airlock export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Images: REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:..., oci:PATH[:TAG|@DIGEST], oci-archive:FILE.
    pub sources: Vec<String>,
    /// Read more sources from FILE, one per line (`#` starts a comment).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Output: DIR (a layout directory), FILE.tar, FILE.tar.zst, FILE.tar.gz, or - (a tar on stdout).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// Keep only this platform (os/arch[/variant]) of multi-platform images; repeatable. The index
    /// stays byte-identical; the children left out are recorded.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,
    /// Which referrers travel: all (signatures, SBOMs, attestations, and their own referrers,
    /// recursively; cosign's sha256-<hex>.sig/.att/.sbom tags), none, or only those of these
    /// artifact types (comma-separated, e.g. application/vnd.cncf.notary.signature).
    #[arg(long, value_name = "all|none|TYPE[,TYPE...]", default_value = "all", value_parser = export::ReferrerSelection::parse)]
    pub referrers: export::ReferrerSelection,
    /// Leave every referrer out: the same as --referrers none.
    #[arg(long, conflicts_with = "referrers")]
    pub no_referrers: bool,
    /// Fail when an image has no notation signature.
    #[arg(long)]
    pub require_signature: bool,
    /// The trust material to carry in the bundle (and to verify the captured signatures with).
    #[command(flatten)]
    pub material: super::MaterialArgs,
    /// A CRL (PEM or DER) to carry; repeatable.
    #[arg(long, value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// Registry scope (REGISTRY/REPO) to verify the captured signatures against, for images whose
    /// recorded name has no repository (local layouts tagged `v1`, say).
    #[arg(long, value_name = "REGISTRY/REPO")]
    pub scope: Option<String>,
    /// Do not fetch the CRLs the captured certificate chains name (by default they are fetched over
    /// HTTP now, checked against their issuer, and carried, so strict revocation checks pass offline).
    #[arg(long)]
    pub no_fetch_crls: bool,
    /// Export even when a captured signature fails verification (recorded in the bundle).
    #[arg(long)]
    pub allow_failed_signatures: bool,
    /// Speak plain HTTP (no TLS) to this registry host (HOST[:PORT]); repeatable.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub plain_http: Vec<String>,
    /// Extra CA certificates (PEM) to trust for registry HTTPS.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, then
    /// ~/.docker/config.json; credsStore and credHelpers are honoured).
    #[arg(long, value_name = "FILE")]
    pub registry_config: Option<PathBuf>,
    /// Slowest acceptable registry transfer, in bytes per second (K, M, G: powers of 1024): a blob
    /// of SIZE bytes must arrive within --network-timeout + SIZE / RATE, retries included. 0 turns
    /// this deadline off. Default 256K.
    #[cfg(feature = "pull")]
    #[arg(long, value_name = "BYTES_PER_SEC", value_parser = crate::registry::parse_rate)]
    pub min_rate: Option<u64>,
    /// Retry budget: the longest a registry request may go without progress, all retries
    /// included; a stalled registry fails after this long. Default 60.
    #[cfg(feature = "pull")]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub network_timeout: Option<u64>,
    /// Blobs fetched at once. Into a directory they land in parallel; into a tarball the blob whose
    /// turn it is streams straight in, and those fetched ahead of their turn wait in a spool beside
    /// the output (at most N blobs), so the archive is byte-identical whatever N is. At most 32
    /// (each job buffers 1 MiB).
    #[arg(short = 'j', long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=32))]
    pub jobs: u16,
    /// Differential export: leave out every layer these inventories (written by `airlock
    /// inventory` on the far side) list with the same digest and size; repeatable. Manifests,
    /// indexes, configs, signatures and the trust artifact are always carried; the export record
    /// lists each blob left out, which the far side's import requires its registry to hold.
    #[arg(long, value_name = "INVENTORY")]
    pub since: Vec<PathBuf>,
    /// Write the tarball as parts of at most SIZE bytes each, OUT.001, OUT.002, ... and the parts
    /// manifest OUT.parts.json (what `airlock split` writes from the single file, byte for byte),
    /// for media with a per-file limit. SIZE: a byte count with K, M, G, T (powers of 1024) or KB,
    /// MB, GB, TB (powers of 1000), or fat32, dvd, dvd-dl, bd25, bd50. Only for a tarball file.
    #[arg(long, value_name = "SIZE", value_parser = crate::archive::parts::parse_size)]
    pub split: Option<u64>,
    /// Sign the trust artifact with this key (as `airlock sign --key`): the export signature,
    /// carried in the bundle and reported by verify as exportedBy (matched under the trust-policy
    /// scope airlock/export).
    #[arg(long, value_name = "KEY.pem", requires = "sign_cert")]
    pub sign_key: Option<PathBuf>,
    /// The export signing key's certificate chain, PEM, leaf first (as `airlock sign --cert`).
    #[arg(long, value_name = "CHAIN.pem", requires = "sign_key")]
    pub sign_cert: Option<PathBuf>,
    /// The export signature's envelope format.
    #[arg(long, value_enum, default_value_t = super::sign::EnvelopeArg::Jws, value_name = "FORMAT")]
    pub sign_envelope: super::sign::EnvelopeArg,
    /// zstd compression level for .tar.zst output.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub zstd_level: i32,
    /// Output format of the summary: text on stderr, or JSON on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Replace an existing output that airlock did not write (a directory that is not an airlock
    /// bundle, a regular file where a directory goes, a symbolic link): whole, and only once the new
    /// bundle is complete. Without it such an output is refused (exit 2).
    #[arg(long)]
    pub force: bool,
}

fn sources(a: &ExportArgs) -> anyhow::Result<Vec<String>> {
    let mut out = a.sources.clone();
    if let Some(f) = &a.file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if !line.is_empty() {
                out.push(line.to_owned());
            }
        }
    }
    if out.is_empty() {
        return Err(
            UsageError::BadOption("no source given: name images, or -f FILE".into()).into(),
        );
    }
    Ok(out)
}

/// The export time: `SOURCE_DATE_EPOCH` when set (reproducible bundles), else now.
fn export_time() -> anyhow::Result<(String, i64)> {
    let t = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => {
            let secs: i64 = v.trim().parse().map_err(|_| {
                UsageError::BadOption(format!("SOURCE_DATE_EPOCH={v:?} is not a number"))
            })?;
            jiff::Timestamp::from_second(secs)
                .map_err(|e| UsageError::BadOption(format!("SOURCE_DATE_EPOCH: {e}")))?
        }
        Err(_) => jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
    };
    Ok((t.to_string(), t.as_second()))
}

fn trust(a: &ExportArgs) -> anyhow::Result<Option<TrustMaterial>> {
    let Some((policy, store)) = a.material.paths() else {
        return Ok(None);
    };
    let bytes = std::fs::read(&policy).with_context(|| format!("reading {}", policy.display()))?;
    let m = TrustMaterial::load(&policy, &store, bytes).map_err(UsageError::BadOption)?;
    Ok(Some(m))
}

#[cfg(feature = "pull")]
fn registry_client(
    a: &ExportArgs,
    refs: &[SourceRef],
) -> anyhow::Result<Option<export::RegistryHandle>> {
    if !refs.iter().any(|r| matches!(r, SourceRef::Registry(_))) {
        return Ok(None);
    }
    let opts = crate::registry::Options {
        plain_http: a.plain_http.clone(),
        ca_file: a.ca_file.clone(),
        registry_config: a.registry_config.clone(),
        timeout: None,
        retries: 3,
        retry_budget: a.network_timeout.map(std::time::Duration::from_secs),
        min_rate: a.min_rate,
    };
    Ok(Some(std::sync::Arc::new(crate::registry::Registry::new(
        opts,
    )?)))
}

#[cfg(not(feature = "pull"))]
fn registry_client(
    _: &ExportArgs,
    _: &[SourceRef],
) -> anyhow::Result<Option<export::RegistryHandle>> {
    Ok(None)
}

pub(super) fn run(a: &ExportArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    let given = sources(a)?;
    let mut output = Output::from_arg(&a.output, a.zstd_level);
    output.split = a.split;
    let trust = trust(a)?;
    let mut crls = Vec::new();
    for path in &a.crl {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        for c in crate::notary::revocation::Crl::parse_file(&bytes)
            .map_err(|e| UsageError::BadOption(format!("--crl {}: {e}", path.display())))?
        {
            crls.push((c, None));
        }
    }
    crate::export::staging::install_signal_handler().context("installing the signal handler")?;
    // The lock first: a second export to the same output fails at once.
    let target = export::prepare(&output, a.force)?;
    let bar = p.progress("export");
    let result = (|| -> anyhow::Result<export::ExportSummary> {
        let refs: Vec<SourceRef> = given
            .iter()
            .map(|s| SourceRef::parse(s))
            .collect::<Result<_, _>>()?;
        let registry = registry_client(a, &refs)?;
        // Scratch space for oci-archive: sources, beside the output (or in $TMPDIR for stdout).
        let needs_scratch = refs.iter().any(|r| matches!(r, SourceRef::Archive { .. }));
        let scratch = match (&target, needs_scratch) {
            (_, false) => None,
            (Some(t), true) => Some(t.scratch()?),
            (None, true) => Some(tempdir_guard()?),
        };
        let scratch_path = scratch
            .as_ref()
            .map(|g| g.path().to_path_buf())
            .unwrap_or_default();
        let mut opened = Vec::new();
        for (s, r) in given.iter().zip(&refs) {
            opened.push((
                s.clone(),
                export::open_source(r, &scratch_path, registry.as_ref())?,
            ));
        }
        let opts = ExportOptions {
            output: output.clone(),
            platforms: a.platform.clone(),
            referrers: if a.no_referrers {
                export::ReferrerSelection::None
            } else {
                a.referrers.clone()
            },
            require_signature: a.require_signature,
            trust,
            crls,
            allow_failed_signatures: a.allow_failed_signatures,
            exported_at: export_time()?,
            scope: a.scope.clone(),
            progress: bar.clone().sink(),
            jobs: usize::from(a.jobs),
            since: since(&a.since)?,
            signer: match (&a.sign_key, &a.sign_cert) {
                (Some(k), Some(c)) => {
                    Some(super::receipt::signing_material(k, c, a.sign_envelope)?)
                }
                _ => None,
            },
        };
        // CRLs are fetched over the network: only with the `pull` feature.
        #[cfg(feature = "pull")]
        let mut http = export::crl::HttpFetcher::default();
        #[cfg(feature = "pull")]
        let fetcher: Option<&mut dyn export::crl::CrlFetcher> = if a.no_fetch_crls {
            None
        } else {
            Some(&mut http)
        };
        #[cfg(not(feature = "pull"))]
        let fetcher: Option<&mut dyn export::crl::CrlFetcher> = None;
        Ok(export::export(&mut opened, &opts, target, fetcher)?)
    })();
    bar.finish();
    if let Some(sig) = crate::export::staging::interrupted() {
        p.important(&format!(
            "interrupted by signal {sig}: nothing was written, the previous output (if any) is untouched"
        ));
        return Ok(ExitCode::from(
            u8::try_from(128 + sig).unwrap_or(EXIT_ERROR),
        ));
    }
    let summary = result?;
    if a.format == Format::Json {
        print_json(&summary)?;
    }
    for im in &summary.images {
        p.info(&format!(
            "exported {} ({})  {}  {}  {} signature(s){}{}",
            im.reference,
            im.source,
            im.digest,
            if im.platforms.is_empty() {
                "-".into()
            } else {
                im.platforms.join(", ")
            },
            im.signatures.len(),
            if im.referrers.len() > im.signatures.len() {
                format!(
                    ", {} other referrer(s)",
                    im.referrers.len() - im.signatures.len()
                )
            } else {
                String::new()
            },
            if im.excluded.is_empty() {
                String::new()
            } else {
                format!(", {} platform manifest(s) left out", im.excluded.len())
            }
        ));
    }
    p.info(&format!(
        "wrote {}: {} blob(s), {}; {}",
        summary.output,
        summary.blobs,
        human_bytes(summary.bytes),
        summary.output_digest
    ));
    if let Some(m) = &summary.parts {
        p.info(&format!(
            "in {} part(s) of at most {}, listed in {}:",
            m.parts.len(),
            human_bytes(m.part_size),
            crate::archive::parts::manifest_name(&summary.output)
        ));
        for part in &m.parts {
            p.info(&format!(
                "  {}  {}  {}",
                part.name,
                human_bytes(part.size),
                part.sha256
            ));
        }
    }
    if !a.since.is_empty() {
        let full = summary.bytes.saturating_add(summary.left_out_bytes);
        p.info(&format!(
            "left out {} blob(s), {} the far side holds: this bundle carries {} of a full export's {}",
            summary.left_out_blobs,
            human_bytes(summary.left_out_bytes),
            human_bytes(summary.bytes),
            human_bytes(full)
        ));
    }
    for line in super::output::identity_lines(
        Some(&summary.bundle.digest),
        summary.bundle.file_digest.as_deref(),
    ) {
        p.important(&line);
    }
    for w in &summary.warnings {
        p.important(&format!("warning: {w}"));
    }
    if summary.crls > 0 {
        p.info(&format!("carried {} CRL(s)", summary.crls));
    }
    if let Some(pin) = &summary.pin {
        p.important(
            "trust artifact digest (send it out of band: ticket, phone, paper; the far side verifies with it):",
        );
        p.important(&format!("  --pin {pin}"));
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// The blobs the `--since` inventories list: digest -> (size, repositories holding it). A digest
/// two inventories give different sizes for is not left out.
fn since(
    paths: &[PathBuf],
) -> anyhow::Result<std::collections::BTreeMap<crate::digest::Digest, (u64, Vec<String>)>> {
    let mut out: std::collections::BTreeMap<crate::digest::Digest, (u64, Vec<String>)> =
        std::collections::BTreeMap::new();
    let mut conflicting = std::collections::BTreeSet::new();
    for path in paths {
        let inv = crate::inventory::Inventory::read(path)?;
        for (d, b) in inv.held() {
            if conflicting.contains(&d) {
                continue;
            }
            match out.get_mut(&d) {
                Some((size, _)) if *size != b.size => {
                    out.remove(&d);
                    conflicting.insert(d);
                }
                Some((_, repos)) => {
                    for r in &b.repositories {
                        if !repos.contains(r) {
                            repos.push(r.clone());
                        }
                    }
                }
                None => {
                    out.insert(d, (b.size, b.repositories.clone()));
                }
            }
        }
    }
    Ok(out)
}

/// A fresh private folder under $TMPDIR (scratch space when the output is stdout), removed when the
/// guard drops.
fn tempdir_guard() -> anyhow::Result<crate::export::staging::Guard> {
    let base = std::env::temp_dir();
    for _ in 0..8 {
        let name = crate::export::staging::fresh_name("stdout", "scratch");
        let path = base.join(&name);
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(crate::export::staging::Guard::new(path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }
    Err(anyhow::anyhow!(
        "cannot create a scratch folder in {}",
        base.display()
    ))
}
