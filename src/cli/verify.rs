//! `airlock verify`.

use std::process::ExitCode;

use anyhow::Context;

use super::output::{human_bytes, print_json};
use super::{Format, Printer, UsageError, VerifyArgs, EXIT_FAIL, EXIT_OK};
use crate::layout::{write_atomic, ScanOptions};
use crate::verify::{self, Report, Verdict};

/// The verification time: read here, in the CLI, and passed down.
fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub(super) fn run(a: &VerifyArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    if !a.integrity_only {
        return Err(UsageError::NoTrustAnchor.into());
    }
    let source = crate::archive::open(&a.bundle)?;
    let bar = p.progress("verify");
    let opts = ScanOptions {
        progress: bar.clone().sink(),
        ..ScanOptions::default()
    };
    let req = verify::Request {
        images: a.images.clone(),
        verified_at: now_rfc3339(),
    };
    let result = verify::verify_integrity(source, &req, &opts);
    bar.finish();
    let report = result.with_context(|| format!("reading bundle {}", a.bundle.display()))?;

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
