//! `airlock verify`.

use std::process::ExitCode;

use anyhow::Context;

use super::output::{human_bytes, print_json};
use super::{Format, Printer, TrustArgs, UsageError, VerifyArgs, EXIT_FAIL, EXIT_OK};
use crate::archive::parts::PartsOutcome;
use crate::layout::{write_atomic, ScanOptions};
use crate::notary::policy::PolicyError;
use crate::verify::signature::TrustInputs;
use crate::verify::{self, Anchor, AnchorMode, BundledInputs, Report, Verdict};

/// Largest trust policy read.
const MAX_POLICY_BYTES: u64 = 1 << 20;

fn read_crls(a: &TrustArgs) -> anyhow::Result<Vec<crate::notary::revocation::Crl>> {
    let mut crls = Vec::new();
    for path in &a.crl {
        let bytes = super::read_file_capped(
            "--crl",
            path,
            u64::try_from(crate::notary::revocation::MAX_CRL_BYTES).unwrap_or(u64::MAX),
        )?;
        let parsed = crate::notary::revocation::Crl::parse_file(&bytes)
            .map_err(|e| UsageError::BadOption(format!("--crl {}: {e}", path.display())))?;
        crls.extend(parsed);
    }
    Ok(crls)
}

/// What `verify` and `import` print (even with `-q` or `-qq`) when the anchor is `--trust-bundled`.
pub(super) const UNPINNED_WARNING: &str = "WARNING: trust anchored in the bundle itself (--trust-bundled): whoever carried the bundle chose \
its policy and roots, so this proves integrity only; verify with the --pin sha256:... that export printed, \
or with a local trust store";

/// Prints [`UNPINNED_WARNING`] on stderr whatever `-q`/`-qq` asked: under `--trust-bundled` the
/// warning is the only sign that the bundle chose its own trust, so no exit status 0 goes without
/// it.
pub(super) fn warn_unpinned() {
    super::output::say(UNPINNED_WARNING);
}

/// Resolves the trust options into the signature stage's anchor; `None` for --integrity-only.
/// Exactly one anchor: local trust material, a pinned trust artifact, or `--trust-bundled`.
pub(super) fn trust_inputs(a: &TrustArgs, at: i64) -> anyhow::Result<Option<Anchor>> {
    let rest = || -> anyhow::Result<BundledInputs> {
        Ok(BundledInputs {
            crls: read_crls(a)?,
            at,
            scope: a.scope.clone(),
            user_metadata: a.user_metadata.clone(),
        })
    };
    let (policy_path, store_root) = match a.material.paths() {
        Some(p) => p,
        _ if !a.pin.is_empty() => {
            return Ok(Some(Anchor::Pinned {
                pins: a.pin.clone(),
                rest: rest()?,
            }))
        }
        _ if a.trust_bundled => return Ok(Some(Anchor::Unpinned { rest: rest()? })),
        _ if a.integrity_only => return Ok(None),
        _ => return Err(UsageError::NoTrustAnchor.into()),
    };
    let bytes = super::read_file_capped("trust policy", &policy_path, MAX_POLICY_BYTES)?;
    let policy = crate::notary::policy::parse(&bytes).map_err(|e| UsageError::PolicyInvalid {
        path: policy_path.display().to_string(),
        code: e.code(),
        message: e.to_string(),
    })?;
    if let Some(scope) = &a.scope {
        if let Err(e) = policy.statement_for(scope) {
            if matches!(
                e,
                PolicyError::ScopeInvalid {
                    statement: None,
                    ..
                }
            ) {
                return Err(UsageError::BadOption(format!("--scope {scope}: {e}")).into());
            }
        }
    }
    let crls = read_crls(a)?
        .into_iter()
        .map(crate::notary::revocation::CrlInput::new)
        .collect();
    Ok(Some(Anchor::Local(TrustInputs {
        policy,
        store_root,
        crls,
        at,
        scope: a.scope.clone(),
        user_metadata: a.user_metadata.clone(),
        names: crate::verify::signature::Names::Annotations,
    })))
}

/// A `--pin` that named a certificate instead of the trust artifact is a usage error (exit 2).
pub(super) fn refuse_certificate_pin(report: &Report) -> anyhow::Result<()> {
    match report
        .failures
        .iter()
        .find(|f| f.code == crate::finding::Code::PinIsCertificate)
    {
        Some(f) => {
            let pin = f.digest.clone().unwrap_or_default();
            Err(UsageError::PinIsCertificate(pin).into())
        }
        None => Ok(()),
    }
}

pub(super) fn verification_time(a: &TrustArgs) -> anyhow::Result<jiff::Timestamp> {
    match &a.at {
        Some(s) => Ok(super::rfc3339_arg("--at", s)?),
        None => Ok(jiff::Timestamp::now()),
    }
}

pub(super) fn run(a: &VerifyArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    if a.parts_only {
        return parts_only(a, p);
    }
    let at = verification_time(&a.trust)?
        .round(jiff::Unit::Second)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let trust = trust_inputs(&a.trust, at.as_second())?;
    let receipt_signer = super::receipt::prepare(&a.receipt, true)?;
    let bundle = super::receipt::resolved_bundle(&a.bundle);
    let resource = super::receipt::bundle_uri(&bundle);
    let (source, parts) = crate::archive::open_input(&bundle)?;
    let bar = p.progress("verify");
    let opts = ScanOptions {
        progress: bar.clone().sink(),
        ..ScanOptions::default()
    };
    let req = verify::Request {
        images: a.images.clone(),
        verified_at: at.to_string(),
        trust,
        left_out_checked_by_caller: false,
    };
    let result = if a.base.is_empty() {
        verify::verify(source, &req, &opts).map_err(anyhow::Error::from)
    } else {
        with_bases(source, &a.base, &req, &opts)
    };
    bar.finish();
    let report = result.with_context(|| format!("reading bundle {}", a.bundle.display()))?;
    let report = match parts {
        Some(check) => {
            let ended = report.archive_ended;
            report.with_parts(check.finish_after(ended))
        }
        None => report,
    };
    refuse_certificate_pin(&report)?;
    super::receipt::after_verify(a, &resource, receipt_signer.as_ref(), &report, p)?;

    emit(&report, a.report.as_deref(), a.format)?;
    summarise(&report, &a.bundle.display().to_string(), p);
    Ok(ExitCode::from(if report.verdict == Verdict::Pass {
        EXIT_OK
    } else {
        EXIT_FAIL
    }))
}

/// `verify --base`: the bundle's catalog, completed with the blobs it lacks from each base
/// (re-hashed there), then verified as usual.
fn with_bases(
    source: crate::archive::Source,
    bases: &[std::path::PathBuf],
    req: &verify::Request,
    opts: &ScanOptions,
) -> anyhow::Result<verify::Report> {
    let mut cat = crate::layout::scan(source, opts)?;
    let mut taken = 0u64;
    for b in bases {
        let base = crate::layout::scan(crate::archive::open(b)?, opts)
            .with_context(|| format!("reading base {}", b.display()))?;
        taken += cat.fill_from(&base);
    }
    let mut report = verify::verify_catalog(&cat, req, &opts.limits);
    report.base_blobs = Some(taken);
    Ok(report)
}

/// The report of `verify --parts-only`: the parts and nothing else.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PartsOnlyReport<'a> {
    schema_version: u32,
    tool: crate::verify::report::Tool,
    mode: &'static str,
    verdict: Verdict,
    parts: &'a PartsOutcome,
    failures: &'a [crate::finding::Finding],
}

/// `verify --parts-only`: the size and sha256 of every part present (or of the one part named),
/// each missing one named; the content is not read as a bundle.
fn parts_only(a: &VerifyArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    let set = crate::archive::parts::locate(&a.bundle, a.manifest.as_deref())?.ok_or_else(|| {
        UsageError::BadOption(format!(
            "{} is not a parts set: give its NAME.parts.json, a part file NAME.NNN with the manifest \
beside it (or --manifest FILE), or the folder holding them",
            a.bundle.display()
        ))
    })?;
    let outcome = crate::archive::parts::check_only(
        &set.dir,
        &set.manifest_path,
        set.manifest,
        set.named_part.as_deref(),
    );
    let verdict = if outcome.passed() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    let report = PartsOnlyReport {
        schema_version: crate::verify::report::SCHEMA_VERSION,
        tool: crate::verify::report::Tool::this(),
        mode: "parts-only",
        verdict,
        parts: &outcome,
        failures: &outcome.findings,
    };
    emit(&report, a.report.as_deref(), a.format)?;
    p.info(&format!(
        "airlock verify --parts-only {} ({} part(s) of {}, {})",
        a.bundle.display(),
        outcome.parts.len(),
        outcome.name,
        human_bytes(outcome.size)
    ));
    summarise_parts(&outcome, p);
    let checked = outcome
        .parts
        .iter()
        .filter(|x| x.result != "not_checked" && x.result != "missing")
        .count();
    p.important(&format!(
        "{}: {checked} part(s) present and checked, {} problem(s){}",
        if outcome.passed() { "PASS" } else { "FAIL" },
        outcome.findings.len(),
        if outcome.passed() && checked < outcome.parts.len() {
            " (the parts not checked are not judged: check each as it arrives, then verify the set)"
        } else {
            ""
        }
    ));
    Ok(ExitCode::from(if outcome.passed() {
        EXIT_OK
    } else {
        EXIT_FAIL
    }))
}

/// One line per part (problems always; good parts with -v), then the findings.
pub(super) fn summarise_parts(o: &PartsOutcome, p: &Printer) {
    p.info(&format!(
        "  parts manifest {} (a map, not an anchor: the content check decides): {} = {} bytes {}; bundle {}, pin {}",
        o.manifest,
        o.name,
        o.size,
        o.sha256,
        o.bundle.index_digest.as_deref().unwrap_or("-"),
        o.bundle.pin.as_deref().unwrap_or("-")
    ));
    part_lines(o, &["pass", "not_checked"], p);
    for f in &o.findings {
        p.finding("FAIL", f);
    }
}

/// One line per part: at `-v` only when its result is one of `quiet`, always otherwise.
fn part_lines(o: &PartsOutcome, quiet: &[&str], p: &Printer) {
    for part in &o.parts {
        let line = format!(
            "    part {:>3} {}  {}  {}  {}",
            part.number,
            part.name,
            human_bytes(part.size),
            part.sha256,
            part.result
        );
        if quiet.contains(&part.result) {
            p.detail(&line);
        } else {
            p.info(&line);
        }
    }
}

fn summarise(r: &Report, bundle: &str, p: &Printer) {
    p.info(&format!(
        "airlock verify {bundle} ({}, {})",
        r.bundle.format, r.mode
    ));
    if let Some(parts) = &r.parts {
        let bad = parts.parts.iter().filter(|x| x.result != "pass").count();
        p.info(&format!(
            "  read from {} part(s) of {} ({} bad, {} unexpected)",
            parts.parts.len(),
            parts.name,
            bad,
            parts.unexpected.len()
        ));
        part_lines(parts, &["pass"], p);
    }
    if let Some(l) = &r.left_out {
        p.important(&format!(
            "  differential bundle: {} blob(s) left out by export --since, not checked here ({}); \
the target registry or --base must supply them",
            l.blobs,
            if l.authenticated {
                "listed by the pinned export record"
            } else {
                "listed by an export record nothing authenticated"
            }
        ));
    }
    if let Some(n) = r.base_blobs {
        p.info(&format!("  {n} blob(s) taken from --base, re-hashed there"));
    }
    if let Some(a) = &r.trust_anchor {
        match a.mode {
            AnchorMode::BundledUnpinned => warn_unpinned(),
            AnchorMode::Pinned => p.info(&format!(
                "  trust: the bundle's trust artifact {}, pinned out of band",
                a.pin.as_deref().unwrap_or("?")
            )),
            AnchorMode::Local => {}
        }
    }
    for im in &r.images {
        let name = im.reference.as_deref().unwrap_or("(unnamed)");
        let mut platforms = if im.platforms.is_empty() {
            "-".to_string()
        } else {
            im.platforms.join(", ")
        };
        if !im.platforms_left_out.is_empty() {
            platforms.push_str(&format!(
                " (left out, not verified: {})",
                im.platforms_left_out.join(", ")
            ));
        }
        p.info(&format!(
            "  image {name}  {}  {platforms}  {}  {} referrer(s)",
            im.digest,
            human_bytes(im.size),
            im.referrers.len()
        ));
        if let Some(sigs) = &im.signatures {
            let policy = im
                .policy
                .as_ref()
                .map(|p| format!("{} ({})", p.name, p.level))
                .unwrap_or_else(|| "-".into());
            let passed = sigs.iter().find(|s| s.verdict == Verdict::Pass);
            let line = match (im.verdict, passed) {
                (Some(Verdict::Pass), Some(s)) => format!(
                    "    signed by {} ({} {}), policy {policy}: PASS",
                    s.signer.as_ref().map(|x| x.subject.as_str()).unwrap_or("?"),
                    s.envelope_type.map(|f| f.name()).unwrap_or("?"),
                    s.signing_scheme.map(|s| s.as_str()).unwrap_or("?"),
                ),
                (Some(Verdict::Pass), None) => format!(
                    "    policy {policy}: PASS (signature verification skipped by the policy)"
                ),
                _ => {
                    let why = r
                        .failures
                        .iter()
                        .find(|f| f.digest.as_deref() == Some(im.digest.as_str()));
                    format!(
                        "    policy {policy}, scope {}: FAIL {}",
                        im.scope.as_deref().unwrap_or("-"),
                        why.map(|f| format!("{}: {}", f.code, f.message))
                            .unwrap_or_default()
                    )
                }
            };
            p.info(&line);
            for s in sigs {
                p.detail(&format!(
                    "    signature {}  {}  {}",
                    s.manifest_digest,
                    s.verdict,
                    s.failure
                        .as_ref()
                        .map(|f| format!("{}: {}", f.code, f.message))
                        .unwrap_or_default()
                ));
            }
        }
        let mut carried: std::collections::BTreeMap<&str, usize> = Default::default();
        for rf in im.referrers.iter().filter(|r| r.checked != "signature") {
            *carried
                .entry(rf.artifact_type.as_deref().unwrap_or("(no artifactType)"))
                .or_default() += 1;
        }
        if !carried.is_empty() {
            let list: Vec<String> = carried.iter().map(|(t, n)| format!("{n} {t}")).collect();
            p.info(&format!(
                "    carried, integrity checked, not signature-verified: {}",
                list.join(", ")
            ));
        }
        for rf in &im.referrers {
            p.detail(&format!(
                "    referrer {}  {}  {}",
                rf.digest,
                rf.artifact_type.as_deref().unwrap_or("(no artifactType)"),
                rf.checked
            ));
        }
    }
    for f in &r.failures {
        p.finding("FAIL", f);
    }
    for w in &r.warnings {
        p.finding("warn", w);
    }
    for line in
        super::output::identity_lines(r.bundle.digest.as_deref(), r.bundle.file_digest.as_deref())
    {
        p.important(&line);
    }
    let verdict = match r.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    };
    p.important(&format!(
        "{verdict}: {} blob(s), {} re-hashed; {} failure(s), {} warning(s); bundle {}",
        r.blobs.checked,
        human_bytes(r.blobs.bytes),
        r.failures.len(),
        r.warnings.len(),
        r.bundle_digest.as_deref().unwrap_or("(no index.json)")
    ));
}

/// The report to `--report FILE` (pretty JSON, written atomically) and, with `--format json`, to
/// stdout.
fn emit<T: serde::Serialize>(
    report: &T,
    file: Option<&std::path::Path>,
    format: Format,
) -> anyhow::Result<()> {
    if let Some(path) = file {
        let mut bytes = serde_json::to_vec_pretty(report)?;
        bytes.push(b'\n');
        write_atomic(path, &bytes).with_context(|| format!("writing report {}", path.display()))?;
    }
    if format == Format::Json {
        print_json(report)?;
    }
    Ok(())
}
