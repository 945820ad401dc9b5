//! `airlock inspect`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::output::{human_bytes, print_json, BundleIdentity};
use super::{Format, InspectArgs, Printer, EXIT_FAIL, EXIT_OK};
use crate::layout::{self, ScanOptions};
use crate::verify::report::{ImageReport, Tool};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Inspection {
    schema_version: u32,
    tool: Tool,
    bundle: Bundle,
    /// The parts the bundle was read from (only for a parts set).
    #[serde(skip_serializing_if = "Option::is_none")]
    parts: Option<crate::archive::parts::PartsOutcome>,
    bundle_digest: Option<String>,
    images: Vec<ImageReport>,
    referrers_by_artifact_type: BTreeMap<String, u64>,
    blobs: Blobs,
    /// Blobs a descriptor names that the bundle lacks and an export record lists as left out by
    /// `export --since` (a differential bundle): unverified, for information only.
    #[serde(skip_serializing_if = "Option::is_none")]
    left_out: Option<LeftOut>,
    /// The trust artifact the bundle carries, if any: unverified, for information only.
    trust_artifact: Option<TrustInfo>,
    problems: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LeftOut {
    blobs: u64,
    bytes: u64,
    /// The trust artifact whose export record lists them.
    record: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrustInfo {
    digest: String,
    root_fingerprints: Vec<String>,
    record: Option<crate::trust_artifact::ExportRecord>,
}

#[derive(Serialize)]
struct Bundle {
    format: &'static str,
    /// The bundle's identity: `digest` (of `index.json`) and, for a tarball, `fileDigest`.
    #[serde(flatten)]
    identity: BundleIdentity,
}

#[derive(Serialize)]
struct Blobs {
    count: u64,
    bytes: u64,
}

pub(super) fn run(a: &InspectArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    let (source, parts) = crate::archive::open_input(&a.bundle)?;
    let bar = p.progress("inspect");
    let opts = ScanOptions {
        hash: false,
        progress: bar.clone().sink(),
        ..ScanOptions::default()
    };
    let cat = layout::scan(source, &opts);
    bar.finish();
    let cat = cat.with_context(|| format!("reading bundle {}", a.bundle.display()))?;
    let mut i = crate::verify::check(&cat, &[], &opts.limits);
    let parts = parts.map(|c| c.finish());
    if let Some(o) = &parts {
        // Each bad part is a problem, named before the structural ones it causes.
        let mut all = o.findings.clone();
        all.append(&mut i.failures);
        i.failures = all;
    }

    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    let images: Vec<ImageReport> = i
        .images
        .iter()
        .map(|im| {
            for r in &im.referrers {
                *by_type
                    .entry(r.artifact_type.clone().unwrap_or_default())
                    .or_default() += 1;
            }
            ImageReport::from_info(im)
        })
        .collect();
    let out = Inspection {
        schema_version: 1,
        tool: Tool::this(),
        bundle: Bundle {
            format: cat.format.as_str(),
            identity: BundleIdentity {
                digest: i.bundle_digest.as_ref().map(ToString::to_string),
                file_digest: cat.file_digest.as_ref().map(ToString::to_string),
            },
        },
        parts,
        bundle_digest: i.bundle_digest.as_ref().map(ToString::to_string),
        images,
        referrers_by_artifact_type: by_type,
        blobs: Blobs {
            count: u64::try_from(cat.blobs.len()).unwrap_or(u64::MAX),
            bytes: cat.total_bytes(),
        },
        left_out: (!i.external.is_empty()).then(|| {
            let listed = crate::trust_artifact::recorded_left_out(&cat)
                .map(|(_, l)| l)
                .unwrap_or_default();
            LeftOut {
                blobs: u64::try_from(i.external.len()).unwrap_or(u64::MAX),
                bytes: i
                    .external
                    .iter()
                    .filter_map(|d| listed.iter().find(|l| l.digest == d.to_string()))
                    .map(|l| l.size)
                    .fold(0u64, u64::saturating_add),
                record: i.external_record.clone(),
            }
        }),
        trust_artifact: match crate::trust_artifact::read_bundled(&cat) {
            Ok(Some(b)) => Some(TrustInfo {
                digest: b.digest,
                root_fingerprints: b.root_fingerprints,
                record: b.record,
            }),
            _ => None,
        },
        problems: u64::try_from(i.failures.len()).unwrap_or(u64::MAX),
    };
    match a.format {
        Format::Json => print_json(&out)?,
        Format::Text => {
            // One string per line, each made terminal-safe whole by `print_lines`: a bundle's
            // string holding a newline cannot start a line of its own (red team I, I-01).
            let mut lines: Vec<String> = Vec::new();
            lines.push(format!(
                "bundle  {} ({})",
                a.bundle.display(),
                out.bundle.format
            ));
            for line in super::output::identity_lines(
                out.bundle.identity.digest.as_deref(),
                out.bundle.identity.file_digest.as_deref(),
            ) {
                lines.push(line.to_string());
            }
            lines.push(format!(
                "blobs   {} ({})",
                out.blobs.count,
                human_bytes(out.blobs.bytes)
            ));
            if let Some(l) = &out.left_out {
                lines.push(format!("left out {} blob(s), {} not in this bundle: export record {} says the far side holds them (not verified: `verify` decides)",
                    l.blobs,
                    human_bytes(l.bytes),
                    l.record.as_deref().unwrap_or("-")
                ));
            }
            if let Some(o) = &out.parts {
                lines.push(format!(
                    "parts   {} of {} ({}), manifest {} (unauthenticated)",
                    o.parts.len(),
                    o.name,
                    human_bytes(o.size),
                    o.manifest
                ));
                for part in &o.parts {
                    lines.push(format!(
                        "  {:>4}  {}  {}  {}  {}",
                        part.number,
                        part.name,
                        human_bytes(part.size),
                        part.sha256,
                        part.result
                    ));
                }
                for f in &o.unexpected {
                    lines.push(format!("  unexpected  {f}"));
                }
            }
            for im in &out.images {
                lines.push(String::new());
                lines.push(format!(
                    "image   {}",
                    im.reference.as_deref().unwrap_or("(unnamed)")
                ));
                lines.push(format!("  digest     {}", im.digest));
                lines.push(format!("  mediaType  {}", im.media_type));
                lines.push(format!(
                    "  platforms  {}",
                    if im.platforms.is_empty() {
                        "-".into()
                    } else {
                        im.platforms.join(", ")
                    }
                ));
                lines.push(format!(
                    "  size       {} in this bundle",
                    human_bytes(im.size)
                ));
                for r in &im.referrers {
                    lines.push(format!(
                        "  referrer   {}  {}",
                        r.digest,
                        r.artifact_type.as_deref().unwrap_or("-")
                    ));
                }
            }
            if let Some(t) = &out.trust_artifact {
                lines.push(String::new());
                lines.push(format!(
                    "trust artifact  {} (not verified: inspect trusts nothing)",
                    t.digest
                ));
                for f in &t.root_fingerprints {
                    lines.push(format!("  root      {f}"));
                }
                if let Some(r) = &t.record {
                    lines.push(format!(
                        "  exported  {} by {} {}",
                        r.exported_at, r.tool, r.version
                    ));
                    for c in &r.crls {
                        lines.push(format!(
                            "  crl       {}  thisUpdate {}  nextUpdate {}",
                            c.issuer,
                            c.this_update,
                            c.next_update.as_deref().unwrap_or("-")
                        ));
                    }
                }
            }
            if !out.referrers_by_artifact_type.is_empty() {
                lines.push(String::new());
                lines.push("referrers by artifactType".to_owned());
                for (t, n) in &out.referrers_by_artifact_type {
                    lines.push(format!("  {n:>4}  {t}"));
                }
            }
            super::output::print_lines(&lines)?;
        }
    }
    if !i.failures.is_empty() {
        p.important(&format!(
            "note: {} structural problem(s) found; inspect does not re-hash, run `airlock verify` for the full check",
            i.failures.len()
        ));
        for f in &i.failures {
            p.finding("FAIL", f);
        }
        // What was printed as a failure is one: the status says so too.
        return Ok(ExitCode::from(EXIT_FAIL));
    }
    Ok(ExitCode::from(EXIT_OK))
}
