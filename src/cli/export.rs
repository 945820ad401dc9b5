//! `airlock export`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::output::{human_bytes, print_json};
use super::{Format, Printer, UsageError, EXIT_FAIL, EXIT_OK};
use crate::export::config::{Config, Referrers};
use crate::export::lock::{self, Lock, LockedImage, Refused, Wanted};
use crate::export::{self, ExportOptions, Output, SourceRef};
use crate::notary::dn::DistinguishedName;
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
    /// Required unless the bundle file (--config) names one; given here, it wins.
    #[arg(short, long, value_name = "OUT", required_unless_present = "config")]
    pub output: Option<PathBuf>,
    /// A bundle file (TOML): images with their platforms, referrer selection, required signature
    /// and trusted identity; trust material; registry and output settings. Relative paths in it
    /// are relative to its folder. Sources named here or with -f are added after its images;
    /// other options combine with it as README.md, "Bundle file and lockfile", says.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write the lockfile: the digest every image resolved to and every referrer carried, by
    /// subject (JSON, written to a temporary name and renamed). With --locked, the lock to check.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Refuse the export (exit 1, before anything is written) when an image now resolves to
    /// another digest than the lock's, or its platform manifests or referrers changed; each
    /// difference is named. The lock is not rewritten.
    #[arg(long, requires = "lock")]
    pub locked: bool,
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
    /// How registries are reached (registry sources).
    #[cfg(feature = "pull")]
    #[command(flatten)]
    pub net: super::net::RegistryArgs,
    /// Blobs fetched at once. Into a directory they land in parallel; into a tarball the blob whose
    /// turn it is streams straight in, and those fetched ahead of their turn wait in a spool beside
    /// the output (at most N blobs), so the archive is byte-identical whatever N is. At most 32
    /// (each job buffers 1 MiB). Default 4.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=32))]
    pub jobs: Option<u16>,
    /// zstd compression level for .tar.zst output, 1 to 22. Default 3. Levels above 19 need
    /// hundreds of MiB for zstd's own tables (per worker); their window is capped at 32 MiB.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=22))]
    pub zstd_level: Option<i32>,
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
    /// Output format of the summary: text on stderr, or JSON on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Replace an existing output that airlock did not write (a directory that is not an airlock
    /// bundle, a regular file where a directory goes, a symbolic link): whole, and only once the new
    /// bundle is complete. Without it such an output is refused (exit 2).
    #[arg(long)]
    pub force: bool,
}

/// One source, with what the bundle file says of it.
struct Source {
    given: String,
    /// Platforms replacing the export's (`[[image]] platforms`).
    platforms: Option<Vec<String>>,
    /// Referrer selection (the bundle file's); `None`: the export's own.
    referrers: Option<Referrers>,
    require_signature: bool,
    identity: Option<(String, DistinguishedName)>,
}

/// The command line and the bundle file, combined (README.md, "Bundle file and lockfile"): sources are added
/// (the file's first); scalar options given on the command line win; switches are on when either
/// turns them on; `--platform`, `--no-referrers` and trust material conflict with the file's.
struct Settings {
    config: Option<PathBuf>,
    sources: Vec<Source>,
    output: PathBuf,
    platforms: Vec<String>,
    no_referrers: bool,
    require_signature: bool,
    trust: Option<(PathBuf, PathBuf)>,
    crls: Vec<PathBuf>,
    scope: Option<String>,
    no_fetch_crls: bool,
    allow_failed_signatures: bool,
    /// The command line's registry options over the bundle file's `[registry]`.
    #[cfg(feature = "pull")]
    net: super::net::RegistryArgs,
    jobs: u16,
    zstd_level: i32,
    force: bool,
    since: Vec<PathBuf>,
}

/// Largest source list read (`-f`, `images-file`): a million references of 16 bytes.
const MAX_LIST_BYTES: u64 = 16 << 20;

/// Longest line of a source list: a reference is a registry name, a repository path of at most
/// 255 characters, and a tag or digest.
const MAX_LIST_LINE: usize = 4096;

/// Sources listed in FILE, one per line (`#` starts a comment). A line too long to be a source is
/// refused by its number, not echoed.
fn source_lines(f: &Path) -> anyhow::Result<Vec<String>> {
    let bytes = super::read_file_capped("source list", f, MAX_LIST_BYTES)?;
    let text = String::from_utf8(bytes)
        .map_err(|e| UsageError::BadOption(format!("{}: not UTF-8: {e}", f.display())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.len() > MAX_LIST_LINE {
            return Err(UsageError::BadOption(format!(
                "{} line {}: {} bytes, longer than a source can be ({MAX_LIST_LINE})",
                f.display(),
                n + 1,
                line.len()
            ))
            .into());
        }
        let line = line.split('#').next().unwrap_or("").trim();
        if !line.is_empty() {
            out.push(line.to_owned());
        }
    }
    Ok(out)
}

#[cfg(feature = "pull")]
fn net(a: &ExportArgs, c: Option<&Config>, name: &str) -> anyhow::Result<super::net::RegistryArgs> {
    match c {
        Some(c) => Ok(a
            .net
            .over(&c.registry)
            .map_err(|e| UsageError::BadOption(format!("{name}: {e}")))?),
        None => Ok(a.net.clone()),
    }
}

fn settings(a: &ExportArgs) -> anyhow::Result<Settings> {
    let cfg = match &a.config {
        Some(p) => Some(Config::load(p).map_err(|e| UsageError::BadOption(e.to_string()))?),
        None => None,
    };
    let name = a
        .config
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let conflict = |option: &str, field: &str| {
        UsageError::BadOption(format!(
            "{option} conflicts with {field} in {name}: give it in one place"
        ))
    };
    let mut sources = Vec::new();
    let (defaults_referrers, defaults_require) = match &cfg {
        Some(c) => (c.referrers.clone(), c.require_signature),
        None => (None, false),
    };
    let plain = |given: String| Source {
        given,
        platforms: None,
        referrers: defaults_referrers.clone(),
        require_signature: defaults_require,
        identity: None,
    };
    if let Some(c) = &cfg {
        if !a.platform.is_empty() && c.sets_platforms() {
            return Err(conflict("--platform", "platforms").into());
        }
        if a.no_referrers && c.sets_referrers() {
            return Err(conflict("--no-referrers", "referrers").into());
        }
        let file_trust = c.trust.policy.is_some() || c.trust.notation_config.is_some();
        if a.material.paths().is_some() && file_trust {
            return Err(
                conflict("--trust-policy/--trust-store/--notation-config", "[trust]").into(),
            );
        }
        let images = c
            .images()
            .map_err(|e| UsageError::BadOption(format!("{name}: {e}")))?;
        for (im, raw) in images.into_iter().zip(&c.image) {
            sources.push(Source {
                given: im.reference,
                platforms: raw.platforms.clone(),
                referrers: Some(im.referrers),
                require_signature: im.require_signature,
                identity: im.identity,
            });
        }
        if let Some(f) = &c.images_file {
            sources.extend(source_lines(f)?.into_iter().map(plain));
        }
    }
    sources.extend(a.sources.iter().cloned().map(plain));
    if let Some(f) = &a.file {
        sources.extend(source_lines(f)?.into_iter().map(plain));
    }
    if sources.is_empty() {
        return Err(UsageError::BadOption(
            "no source given: name images, -f FILE, or [[image]] in --config FILE".into(),
        )
        .into());
    }
    let c = cfg.as_ref();
    let output = a
        .output
        .clone()
        .or_else(|| c.and_then(|c| c.output.clone()))
        .ok_or_else(|| {
            UsageError::BadOption(format!(
                "no output: give -o OUT, or output = \"...\" in {name}"
            ))
        })?;
    let trust = a.material.paths().or_else(|| {
        let t = &c?.trust;
        match (&t.policy, &t.store, &t.notation_config) {
            (Some(p), Some(s), _) => Some((p.clone(), s.clone())),
            (_, _, Some(dir)) => Some(super::notation_paths(dir)),
            _ => None,
        }
    });
    let allow_failed_signatures =
        a.allow_failed_signatures || c.is_some_and(|c| c.trust.allow_failed_signatures);
    if let Some(s) = sources.iter().find(|s| s.identity.is_some()) {
        if trust.is_none() {
            return Err(UsageError::BadOption(format!(
                "{}: an identity is checked on verified signatures only: give trust material ([trust] in {name}, or --trust-policy and --trust-store)",
                s.given
            ))
            .into());
        }
        if allow_failed_signatures {
            return Err(conflict("--allow-failed-signatures", "an image's identity").into());
        }
    }
    let mut crls = c.map(|c| c.trust.crls.clone()).unwrap_or_default();
    crls.extend(a.crl.iter().cloned());
    let mut since = c.map(|c| c.since.clone()).unwrap_or_default();
    since.extend(a.since.iter().cloned());
    Ok(Settings {
        config: a.config.clone(),
        sources,
        output,
        platforms: if a.platform.is_empty() {
            c.and_then(|c| c.platforms.clone()).unwrap_or_default()
        } else {
            a.platform.clone()
        },
        no_referrers: a.no_referrers,
        require_signature: a.require_signature,
        trust,
        crls,
        scope: a
            .scope
            .clone()
            .or_else(|| c.and_then(|c| c.trust.scope.clone())),
        no_fetch_crls: a.no_fetch_crls || c.and_then(|c| c.trust.fetch_crls) == Some(false),
        allow_failed_signatures,
        #[cfg(feature = "pull")]
        net: net(a, c, &name)?,
        jobs: a.jobs.or_else(|| c.and_then(|c| c.jobs)).unwrap_or(4),
        zstd_level: a
            .zstd_level
            .or_else(|| c.and_then(|c| c.zstd_level))
            .unwrap_or(3),
        force: a.force || c.is_some_and(|c| c.force),
        since,
    })
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

/// Largest trust policy read (notation's own are kilobytes).
const MAX_POLICY_BYTES: u64 = 16 << 20;
/// Largest `--crl` file read (the CRLs of a large CA reach tens of megabytes).
const MAX_CRL_FILE_BYTES: u64 = 1 << 30;

fn trust(s: &Settings) -> anyhow::Result<Option<TrustMaterial>> {
    let Some((policy, store)) = &s.trust else {
        return Ok(None);
    };
    let bytes = super::read_file_capped("trust policy", policy, MAX_POLICY_BYTES)?;
    let m = TrustMaterial::load(policy, store, bytes).map_err(UsageError::BadOption)?;
    Ok(Some(m))
}

#[cfg(feature = "pull")]
fn registry_client(
    s: &Settings,
    refs: &[SourceRef],
) -> anyhow::Result<Option<export::RegistryHandle>> {
    if !refs.iter().any(|r| matches!(r, SourceRef::Registry(_))) {
        return Ok(None);
    }
    let parsed: Vec<crate::registry::Reference> = refs
        .iter()
        .filter_map(|r| match r {
            SourceRef::Registry(r) => crate::registry::Reference::parse(r).ok(),
            _ => None,
        })
        .collect();
    let hosts: Vec<&str> = parsed.iter().map(|r| r.registry()).collect();
    let opts = s.net.options_for(&hosts);
    Ok(Some(std::sync::Arc::new(crate::registry::Registry::new(
        opts,
    )?)))
}

#[cfg(not(feature = "pull"))]
fn registry_client(
    _: &Settings,
    _: &[SourceRef],
) -> anyhow::Result<Option<export::RegistryHandle>> {
    Ok(None)
}

/// The resolution pass of a bundle file or lock (`export::lock`), before anything is written:
/// every image resolved with its referrers, the file's per-image demands checked, and with
/// `--locked` the lock compared. Returns what the lock records.
fn check_sources(
    a: &ExportArgs,
    s: &Settings,
    locked: Option<&Lock>,
    opened: &mut [(String, Box<dyn export::Fetch>)],
) -> anyhow::Result<Checked> {
    // The export's own selection (`--referrers`): a bundle file's per-image selection has
    // already filtered the source (`lock::Selected`), so the pass sees what the export will.
    let selected = match &a.referrers {
        export::ReferrerSelection::All => Referrers::Word("all".into()),
        export::ReferrerSelection::None => Referrers::Word("none".into()),
        export::ReferrerSelection::Types(t) => Referrers::Types(t.clone()),
    };
    let none = Referrers::Word("none".into());
    let mut images = Vec::new();
    let mut findings = Vec::new();
    let mut identities = BTreeMap::new();
    for ((given, f), src) in opened.iter_mut().zip(&s.sources) {
        let want = Wanted {
            platforms: src.platforms.as_deref().unwrap_or(&s.platforms),
            referrers: if s.no_referrers { &none } else { &selected },
            require_signature: src.require_signature || s.require_signature,
            identity: src.identity.as_ref().map(|(t, dn)| (t.as_str(), dn)),
        };
        let r = lock::resolve(given, f.as_mut(), &want)?;
        if let Some((wanted, _)) = &src.identity {
            identities.insert(r.image.digest.clone(), (wanted.clone(), r.matching));
        }
        images.push(r.image);
        findings.extend(r.findings);
    }
    if let (Some(l), Some(path)) = (locked, &a.lock) {
        let differences = l.differences(&images);
        if !differences.is_empty() {
            return Err(Refused::Locked {
                path: path.clone(),
                differences,
            }
            .into());
        }
    }
    if !findings.is_empty() {
        return Err(Refused::Demands(findings).into());
    }
    Ok(Checked { images, identities })
}

/// What the resolution pass hands on: what the lock records, and the identities the export's
/// verification must find among verified signatures.
#[derive(Default)]
struct Checked {
    images: Vec<LockedImage>,
    identities: BTreeMap<String, (String, Vec<String>)>,
}

pub(super) fn run(a: &ExportArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    let s = settings(a)?;
    // The lock is read (and refused when unreadable) before anything else happens.
    let locked = match (&a.lock, a.locked) {
        (Some(path), true) => Some(Lock::read(path).map_err(UsageError::BadOption)?),
        _ => None,
    };
    let mut output = Output::from_arg(&s.output, s.zstd_level);
    output.split = a.split;
    let trust = trust(&s)?;
    let mut crls = Vec::new();
    for path in &s.crls {
        let bytes = super::read_file_capped("--crl", path, MAX_CRL_FILE_BYTES)?;
        for c in crate::notary::revocation::Crl::parse_file(&bytes)
            .map_err(|e| UsageError::BadOption(format!("--crl {}: {e}", path.display())))?
        {
            crls.push((c, None));
        }
    }
    crate::export::staging::install_signal_handler().context("installing the signal handler")?;
    // The lock first: a second export to the same output fails at once.
    let target = export::prepare(&output, s.force)?;
    let bar = p.progress("export");
    let checked = s.config.is_some() || a.lock.is_some();
    let mut resolved = Vec::new();
    let result = (|| -> anyhow::Result<export::ExportSummary> {
        let refs: Vec<SourceRef> = s
            .sources
            .iter()
            .map(|x| SourceRef::parse(&x.given))
            .collect::<Result<_, _>>()?;
        let registry = registry_client(&s, &refs)?;
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
        for (src, r) in s.sources.iter().zip(&refs) {
            let mut f = export::open_source(r, &scratch_path, registry.as_ref())?;
            if let Some(sel) = &src.referrers {
                f = Box::new(lock::Selected::new(f, sel.clone()));
            }
            opened.push((src.given.clone(), f));
        }
        let mut identities = BTreeMap::new();
        if checked {
            let c = check_sources(a, &s, locked.as_ref(), &mut opened)?;
            resolved = c.images;
            identities = c.identities;
        }
        let opts = ExportOptions {
            output: output.clone(),
            platforms: s.platforms.clone(),
            referrers: if s.no_referrers {
                export::ReferrerSelection::None
            } else {
                a.referrers.clone()
            },
            require_signature: s.require_signature,
            trust,
            crls,
            allow_failed_signatures: s.allow_failed_signatures,
            exported_at: export_time()?,
            scope: s.scope.clone(),
            progress: bar.clone().sink(),
            jobs: usize::from(s.jobs),
            source_platforms: s.sources.iter().map(|x| x.platforms.clone()).collect(),
            identities,
            since: since(&s.since)?,
            signer: match (&a.sign_key, &a.sign_cert) {
                (Some(k), Some(c)) => {
                    Some(super::receipt::signing_material(k, c, a.sign_envelope)?)
                }
                _ => None,
            },
            // What the export carries must be what was just checked (and matched the lock).
            checked: checked.then(|| resolved.clone()),
        };
        // CRLs are fetched over the network: only with the `pull` feature.
        #[cfg(feature = "pull")]
        let mut http = export::crl::HttpFetcher::default();
        #[cfg(feature = "pull")]
        let fetcher: Option<&mut dyn export::crl::CrlFetcher> = if s.no_fetch_crls {
            None
        } else {
            Some(&mut http)
        };
        #[cfg(not(feature = "pull"))]
        let fetcher: Option<&mut dyn export::crl::CrlFetcher> = {
            let _ = s.no_fetch_crls;
            None
        };
        export::export(&mut opened, &opts, target, fetcher).map_err(|e| match e {
            export::ExportError::Raced(d) => Refused::Raced(d).into(),
            e => e.into(),
        })
    })();
    bar.finish();
    if let Some(code) = super::interrupted(
        p,
        "nothing was written, the previous output (if any) is untouched",
    ) {
        return Ok(code);
    }
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => return refused(e, p),
    };
    if let Some(path) = a.lock.as_ref().filter(|_| !a.locked) {
        Lock::new(resolved)
            .write(path)
            .with_context(|| format!("writing the lock {}", path.display()))?;
    }
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
    if !s.since.is_empty() {
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
    if let Some(path) = a.lock.as_ref() {
        p.info(&format!(
            "{} {}",
            if a.locked {
                "matched the lock"
            } else {
                "wrote the lock"
            },
            path.display()
        ));
    }
    if let Some(pin) = &summary.pin {
        p.important(
            "trust artifact digest (send it out of band: ticket, phone, paper; the far side verifies with it):",
        );
        p.important(&format!("  --pin {pin}"));
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// A refusal by the bundle file or the lock is a policy outcome: printed with each difference or
/// finding, exit 1. Any other error goes up (exit 2, or what `exit_code` says).
fn refused(e: anyhow::Error, p: &Printer) -> anyhow::Result<ExitCode> {
    let Some(r) = e.downcast_ref::<Refused>() else {
        return Err(e);
    };
    p.important(&format!("error: {r}"));
    for line in r.lines() {
        p.important(&format!("  {line}"));
    }
    Ok(ExitCode::from(EXIT_FAIL))
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
                    // Joined, within what one inventory may list for a blob.
                    for r in &b.repositories {
                        if repos.len() < crate::inventory::MAX_REPOSITORIES_PER_BLOB
                            && !repos.contains(r)
                        {
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
