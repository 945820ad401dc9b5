//! `airlock import`: verify, then push.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::output::{human_bytes, identity_lines, print_json, BundleIdentity};
use super::verify::{trust_inputs, verification_time};
use super::{Format, Printer, TrustArgs, UsageError, EXIT_FAIL, EXIT_OK};
use crate::digest::Digest;
use crate::import::{self, BlobSource, ImportOptions, ImportPlan, TransferProgress};
use crate::layout::{self, Progress, ScanOptions};
use crate::verify::{self, Verdict};

/// Arguments of `airlock import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The bundle: a layout directory or a .tar/.tar.gz/.tar.zst file (not stdin: blobs are read
    /// a second time, hashed again, as they are pushed).
    pub bundle: PathBuf,
    /// Images to import, as `verify` selects them. Default: all.
    pub images: Vec<String>,
    /// The target: HOST[:PORT][/PREFIX]. SOURCE_REGISTRY/REPO:TAG becomes HOST:PORT/PREFIX/REPO:TAG.
    #[arg(long, value_name = "HOST[:PORT][/PREFIX]")]
    pub to: String,
    /// Rewrite a repository prefix: OLD=NEW; repeatable.
    #[arg(long = "map", value_name = "OLD=NEW", value_parser = super::net::parse_map)]
    pub maps: Vec<(String, String)>,
    /// How signatures are made discoverable: the Referrers API, the sha256-<hex> tag schema, or auto.
    #[arg(long, value_enum, default_value_t = Referrers::Auto)]
    pub referrers: Referrers,
    /// Blobs uploaded at the same time, each over its own connection (1 to 64).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Most bytes of a tarball's blobs kept in $TMPDIR at once so that uploads run side by side
    /// (K, M, G: powers of 1024); past it, blobs are uploaded in stream order without spooling.
    /// 0 spools nothing.
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_size)]
    pub spool_limit: u64,
    /// Print the plan; push nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Where the trust anchor comes from (as for verify; --integrity-only only when named).
    #[command(flatten)]
    pub trust: TrustArgs,
    /// How to reach the registry.
    #[command(flatten)]
    pub net: super::net::RegistryArgs,
    /// A signed verification receipt attached to each image imported (`--receipt-key`,
    /// `--receipt-cert`), and/or written to `--receipt FILE`.
    #[command(flatten)]
    pub receipt: super::receipt::ReceiptOutArgs,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `--referrers`: how signatures are made discoverable (the CLI's spelling of
/// [`import::ReferrersMode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Referrers {
    /// The registry's Referrers API indexes signatures by their `subject`: nothing more to do.
    Api,
    /// Create or merge the `sha256-<hex>` referrers tag index.
    Tag,
    /// `tag` unless the target is known to serve the Referrers API (currently: always `tag`, which
    /// every registry understands; a registry with the API ignores the extra tag).
    Auto,
}

impl From<Referrers> for import::ReferrersMode {
    fn from(r: Referrers) -> Self {
        match r {
            Referrers::Api => import::ReferrersMode::Api,
            Referrers::Tag => import::ReferrersMode::Tag,
            Referrers::Auto => import::ReferrersMode::Auto,
        }
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    crate::registry::parse_rate(s)
        .map_err(|_| format!("{s:?} is not a size: bytes, optionally with a K, M or G suffix"))
}

/// One bar per blob in flight plus a total, on a terminal.
struct Bars {
    multi: indicatif::MultiProgress,
    total: indicatif::ProgressBar,
}

struct BlobBar {
    bar: indicatif::ProgressBar,
    total: indicatif::ProgressBar,
}

impl Progress for BlobBar {
    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
        self.total.inc(bytes);
    }
}

impl Drop for BlobBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

impl TransferProgress for Bars {
    fn start(&self, bytes: u64) {
        self.total.set_length(bytes);
    }
    fn blob(&self, digest: &Digest, size: u64) -> Box<dyn Progress> {
        let bar = self
            .multi
            .insert_before(&self.total, indicatif::ProgressBar::new(size));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let hex = digest.to_string();
        bar.set_prefix(hex.get(..19).unwrap_or(&hex).to_owned());
        Box::new(BlobBar {
            bar,
            total: self.total.clone(),
        })
    }
}

/// `import --format json`: the bundle's identity, then the summary's keys.
#[derive(serde::Serialize)]
struct ImportOutput<'a> {
    bundle: &'a BundleIdentity,
    /// The trust anchor verification used (`mode`: `local`, `pinned`, `bundled-unpinned`), as in
    /// `verify`'s report; null for `--integrity-only`.
    #[serde(rename = "trustAnchor")]
    trust_anchor: Option<&'a verify::TrustAnchor>,
    #[serde(flatten)]
    summary: &'a import::ImportSummary,
}

/// Under local trust the bundle names its images, and the push drops their source registry: an
/// image judged under one statement whose target repository another statement's scope also
/// reaches (`evil.example/app` under `*`, over `registry.example/app` under a strict statement) is
/// refused (`scope_unknown`), and with it the whole import
/// ([`import::conflicting_statement`]).
///
/// With `--scope` every image is judged by the scope's statement, but pushed under its own name:
/// an image whose target repository another statement protects (the statement its own name
/// selects reaches it, as does any whose scope lands there) is refused the same way, so that
/// `--scope` cannot carry an image past the statement that protects where it lands. A tag-only
/// name (`v1`, pushed to the `--to` prefix) names no repository of its own and is judged by the
/// scope alone.
fn refuse_shared_targets(
    report: &mut verify::Report,
    policy: &crate::notary::policy::PolicyDocument,
    plan: &ImportPlan,
    scope: Option<&str>,
) {
    for im in &mut report.images {
        let (Some(reference), Some(judged)) = (&im.reference, &im.policy) else {
            continue;
        };
        let Some((protected, statement)) =
            import::conflicting_statement(reference, &judged.name, policy, plan)
        else {
            continue;
        };
        let message = match scope {
            None => format!(
                "{reference} was judged under the trust policy statement {:?}, but its target \
repository is also where {protected} goes, which statement {statement:?} covers: the source registry is \
dropped on push, so which statement protects that repository is ambiguous (--scope names the one to apply)",
                judged.name
            ),
            Some(scope) => format!(
                "{reference} was judged under the trust policy statement {:?} (--scope {scope}), but \
import pushes it under its own name, to the repository of {protected}, which statement {statement:?} \
protects: --scope does not carry an image past the statement that protects where it lands (import it \
without --scope, or with the --scope of that statement)",
                judged.name
            ),
        };
        report.failures.push(
            crate::finding::Finding::new(crate::finding::Code::ScopeUnknown, message)
                .digest(&im.digest),
        );
        im.verdict = Some(Verdict::Fail);
        report.verdict = Verdict::Fail;
    }
}

pub(super) fn run(a: &ImportArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    if a.bundle.as_os_str() == "-" {
        return Err(UsageError::BadOption(
            "import reads the bundle twice (verify, then push with a second hash): give a file or directory, not stdin".into(),
        )
        .into());
    }
    let at = verification_time(&a.trust)?
        .round(jiff::Unit::Second)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let trust = trust_inputs(&a.trust, at.as_second())?;
    let receipt_signer = super::receipt::prepare(&a.receipt, false)?;
    // A parts set is read like a tarball (verify, then a second pass); `parts` checks each part.
    let bundle = super::receipt::resolved_bundle(&a.bundle);
    let resource = super::receipt::bundle_uri(&bundle);
    let (source, parts) = crate::archive::open_input(&bundle)?;
    let blob_source = match &source {
        crate::archive::Source::Dir(d) => BlobSource::Dir(d.clone()),
        crate::archive::Source::Stream { .. } => BlobSource::Archive(bundle.clone()),
    };
    let bar = p.progress("verify");
    let opts = ScanOptions {
        progress: bar.clone().sink(),
        ..ScanOptions::default()
    };
    let cat = layout::scan(source, &opts);
    bar.finish();
    let cat = cat.with_context(|| format!("reading bundle {}", a.bundle.display()))?;
    let req = verify::Request {
        images: a.images.clone(),
        verified_at: at.to_string(),
        trust,
        // Every blob the bundle lacks must be in the target registry before anything is pushed
        // (`import::external::settle`): the registry, not the bundle's list, vouches for it.
        left_out_checked_by_caller: true,
    };
    let report = verify::verify_catalog(&cat, &req, &opts.limits);
    let mut report = match parts {
        Some(check) => {
            let ended = report.archive_ended;
            report.with_parts(check.finish_after(ended))
        }
        None => report,
    };
    super::verify::refuse_certificate_pin(&report)?;
    let (host, prefix) = super::net::split_target(&a.to);
    let plan = ImportPlan {
        host,
        prefix,
        maps: a.maps.clone(),
        referrers: a.referrers.into(),
        verified: Vec::new(),
        unrecorded: Default::default(),
        authenticated_record: None,
    };
    if let Some(verify::Anchor::Local(t)) = &req.trust {
        refuse_shared_targets(&mut report, &t.policy, &plan, a.trust.scope.as_deref());
    }
    let unpinned = report
        .trust_anchor
        .as_ref()
        .is_some_and(|t| t.mode == verify::AnchorMode::BundledUnpinned);
    if unpinned {
        super::verify::warn_unpinned();
    }
    super::receipt::after_import_verify(a, &resource, receipt_signer.as_ref(), &report, p)?;
    if report.verdict != Verdict::Pass {
        for f in &report.failures {
            p.finding("FAIL", f);
        }
        p.important("verification failed: nothing was pushed");
        if a.format == Format::Json {
            print_json(&report)?;
        }
        return Ok(ExitCode::from(EXIT_FAIL));
    }
    p.info(&format!(
        "verified ({}): {} blob(s), {}",
        report.mode,
        report.blobs.checked,
        human_bytes(report.blobs.bytes)
    ));
    let identity = BundleIdentity {
        digest: report.bundle.digest.clone(),
        file_digest: report.bundle.file_digest.clone(),
    };
    for line in identity_lines(identity.digest.as_deref(), identity.file_digest.as_deref()) {
        p.important(&line);
    }
    // Test hook: lets the tests change the bundle between verification and push. Debug builds
    // only (the integration tests run the debug binary): a release binary never runs a shell
    // command from its environment (ARCHITECTURE.md, "Invariants").
    #[cfg(debug_assertions)]
    if let Ok(hook) = std::env::var("AIRLOCK_TEST_HOOK_AFTER_VERIFY") {
        let _ = std::process::Command::new("sh")
            .args(["-c", &hook])
            .status();
    }
    let options = a.net.options(&plan.host);
    // One client per upload in flight, plus one for the checks, the manifests and a tarball's
    // reader.
    let clients = (0..=a.jobs)
        .map(|_| crate::registry::Registry::new(options.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    // Referrers the pinned record does not list: said here, left behind by the plan.
    let unrecorded: Vec<&crate::finding::Finding> = report
        .warnings
        .iter()
        .filter(|w| w.code == crate::finding::Code::NotInExportRecord)
        .collect();
    for w in &unrecorded {
        p.finding("WARN", w);
    }
    let plan = ImportPlan {
        verified: report
            .images
            .iter()
            .map(|i| (i.reference.clone(), i.digest.clone()))
            .collect(),
        unrecorded: unrecorded.iter().filter_map(|w| w.digest.clone()).collect(),
        // Pinned, or signed under the operator's policy; never `--trust-bundled`, whose record
        // the bundle chose: mounting decides what the importer's credentials copy.
        authenticated_record: report
            .left_out
            .as_ref()
            .filter(|l| l.authenticated && !unpinned)
            .and_then(|l| l.record.clone()),
        ..plan
    };
    let bars = p.bars().then(|| {
        let multi = indicatif::MultiProgress::new();
        let total = multi.add(indicatif::ProgressBar::new(report.blobs.bytes));
        total.set_style(
            indicatif::ProgressStyle::with_template(
                "upload {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        total.enable_steady_tick(Duration::from_millis(200));
        Arc::new(Bars { multi, total })
    });
    let progress: Arc<dyn TransferProgress> = match &bars {
        Some(b) => b.clone(),
        None => Arc::new(import::NoTransferProgress),
    };
    let opts = ImportOptions {
        jobs: usize::from(a.jobs),
        spool_limit: a.spool_limit,
        dry_run: a.dry_run,
        progress,
    };
    let result = import::import(&cat, &a.images, &blob_source, &clients, &plan, &opts);
    if let Some(b) = &bars {
        b.total.finish_and_clear();
    }
    if let Some(code) = super::interrupted(
        p,
        "blobs uploaded so far stay unreferenced, no manifest was pushed after it; run the import again to complete it",
    ) {
        return Ok(code);
    }
    let (summary, lines) = result?;
    super::receipt::after_import(
        a,
        (&resource, receipt_signer.as_ref()),
        &clients,
        &cat,
        &report,
        &summary,
        p,
    )?;
    if a.format == Format::Json {
        print_json(&ImportOutput {
            bundle: &identity,
            trust_anchor: report.trust_anchor.as_ref(),
            summary: &summary,
        })?;
    }
    for l in &lines {
        p.important(l);
    }
    for im in &summary.images {
        let others = if im.referrers > 0 {
            format!(", {} other referrer(s)", im.referrers)
        } else {
            String::new()
        };
        p.info(&format!(
            "{} {} -> {} ({} signature(s){others})",
            if a.dry_run { "would push" } else { "pushed" },
            im.source,
            im.target,
            im.signatures
        ));
    }
    let nothing =
        summary.blobs_uploaded == 0 && summary.manifests_pushed == 0 && summary.blobs_mounted == 0;
    p.info(&format!(
        "blobs: {} uploaded ({}), {} already there, {} mounted; manifests: {} pushed, {} already there{}",
        summary.blobs_uploaded,
        human_bytes(summary.bytes_uploaded),
        summary.blobs_skipped,
        summary.blobs_mounted,
        summary.manifests_pushed,
        summary.manifests_skipped,
        if nothing && !a.dry_run { "; the target already had everything" } else { "" }
    ));
    if summary.bytes_spooled > 0 {
        p.info(&format!(
            "spooled {} of the tarball to {} so that uploads ran side by side (removed)",
            human_bytes(summary.bytes_spooled),
            std::env::temp_dir().display()
        ));
    }
    Ok(ExitCode::from(EXIT_OK))
}
