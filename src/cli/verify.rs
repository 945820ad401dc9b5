//! `airlock verify`.

use std::process::ExitCode;

use anyhow::Context;

use super::output::{human_bytes, print_json};
use super::{Format, Printer, TrustArgs, UsageError, VerifyArgs, EXIT_FAIL, EXIT_OK};
use crate::layout::{write_atomic, ScanOptions};
use crate::notary::policy::PolicyError;
use crate::verify::signature::TrustInputs;
use crate::verify::{self, Anchor, AnchorMode, BundledInputs, Report, Verdict};

/// Largest trust policy read.
const MAX_POLICY_BYTES: u64 = 1 << 20;

fn read_capped(path: &std::path::Path, cap: u64) -> anyhow::Result<Vec<u8>> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    crate::layout::read_capped(f, cap)
        .with_context(|| format!("cannot read {}", path.display()))?
        .ok_or_else(|| {
            UsageError::BadOption(format!("{} is larger than {cap} bytes", path.display())).into()
        })
}

fn read_crls(a: &TrustArgs) -> anyhow::Result<Vec<crate::notary::revocation::Crl>> {
    let mut crls = Vec::new();
    for path in &a.crl {
        let bytes = read_capped(
            path,
            u64::try_from(crate::notary::revocation::MAX_CRL_BYTES).unwrap_or(u64::MAX),
        )?;
        let parsed = crate::notary::revocation::Crl::parse_file(&bytes)
            .map_err(|e| UsageError::BadOption(format!("--crl {}: {e}", path.display())))?;
        crls.extend(parsed);
    }
    Ok(crls)
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
    let bytes = read_capped(&policy_path, MAX_POLICY_BYTES)?;
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
        Some(s) => s.parse::<jiff::Timestamp>().map_err(|e| {
            UsageError::BadOption(format!("--at {s:?} is not an RFC 3339 time: {e}")).into()
        }),
        None => Ok(jiff::Timestamp::now()),
    }
}

pub(super) fn run(a: &VerifyArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    let at = verification_time(&a.trust)?
        .round(jiff::Unit::Second)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let trust = trust_inputs(&a.trust, at.as_second())?;
    let receipt_signer = super::receipt::prepare(&a.receipt, true)?;
    let source = crate::archive::open(&a.bundle)?;
    let bar = p.progress("verify");
    let opts = ScanOptions {
        progress: bar.clone().sink(),
        ..ScanOptions::default()
    };
    let req = verify::Request {
        images: a.images.clone(),
        verified_at: at.to_string(),
        trust,
    };
    let result = verify::verify(source, &req, &opts);
    bar.finish();
    let report = result.with_context(|| format!("reading bundle {}", a.bundle.display()))?;
    refuse_certificate_pin(&report)?;
    super::receipt::after_verify(a, receipt_signer.as_ref(), &report, p)?;

    if let Some(path) = &a.report {
        let mut bytes = serde_json::to_vec_pretty(&report)?;
        bytes.push(b'\n');
        write_atomic(path, &bytes).with_context(|| format!("writing report {}", path.display()))?;
    }
    if a.format == Format::Json {
        print_json(&report)?;
    }
    summarise(&report, &a.bundle.display().to_string(), p);
    Ok(ExitCode::from(if report.verdict == Verdict::Pass {
        EXIT_OK
    } else {
        EXIT_FAIL
    }))
}

fn summarise(r: &Report, bundle: &str, p: &Printer) {
    p.info(&format!(
        "airlock verify {bundle} ({}, {})",
        r.bundle.format, r.mode
    ));
    if let Some(a) = &r.trust_anchor {
        match a.mode {
            AnchorMode::BundledUnpinned => p.important(
                "WARNING: trust anchored in the bundle itself (--trust-bundled): whoever carried the bundle chose \
its policy and roots, so this proves integrity only; verify with the --pin sha256:... that export printed, \
or with a local trust store",
            ),
            AnchorMode::Pinned => p.info(&format!(
                "  trust: the bundle's trust artifact {}, pinned out of band",
                a.pin.as_deref().unwrap_or("?")
            )),
            AnchorMode::Local => {}
        }
    }
    for im in &r.images {
        let name = im.reference.as_deref().unwrap_or("(unnamed)");
        let platforms = if im.platforms.is_empty() {
            "-".to_string()
        } else {
            im.platforms.join(", ")
        };
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
        for rf in &im.referrers {
            p.detail(&format!(
                "    referrer {}  {}",
                rf.digest,
                rf.artifact_type.as_deref().unwrap_or("(no artifactType)")
            ));
        }
    }
    for f in &r.failures {
        p.finding("FAIL", f);
    }
    for w in &r.warnings {
        p.finding("warn", w);
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
