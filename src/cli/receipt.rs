//! Verification receipts on the command line: `verify --receipt FILE [--receipt-key KEY
//! --receipt-cert CHAIN]` (the hooks [`prepare`] and [`write`]), and `airlock receipt verify`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::output::print_json;
use super::sign::EnvelopeArg;
use super::{Format, MaterialArgs, Printer, UsageError, VerifyArgs, EXIT_FAIL, EXIT_OK};
use crate::digest::Digest;
use crate::layout::write_atomic;
use crate::notary::envelope::EnvelopeFormat;
use crate::notary::sign::{read_certificate_chain_pem, read_private_key_pem};
use crate::receipt::statement::file_uri;
use crate::receipt::{self, PolicyInput, ReceiptContext, SigningMaterial, MAX_RECEIPT_BYTES};
use crate::verify::signature::{Names, TrustInputs};
use crate::verify::{Report, Verdict};

/// Largest key, certificate, policy or CRL file read.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The receipt options of `verify` and `import`.
#[derive(Debug, Args)]
pub struct ReceiptOutArgs {
    /// Write a verification receipt to FILE: an in-toto Statement v1 with a SLSA Verification
    /// Summary v1 predicate (subjects: the verified images; verdict PASSED or FAILED), written also
    /// when verification fails. Temporary name, then rename.
    #[arg(long, value_name = "FILE")]
    pub receipt: Option<PathBuf>,
    /// Sign the receipt with this key (as `airlock sign --key`): verify writes the Notary envelope
    /// to FILE.sig; import also pushes, for each image it admits, a signed receipt attached to it.
    #[arg(long, value_name = "KEY.pem", requires = "receipt_cert")]
    pub receipt_key: Option<PathBuf>,
    /// The receipt key's certificate chain, PEM, leaf first (as `airlock sign --cert`).
    #[arg(long, value_name = "CHAIN.pem", requires = "receipt_key")]
    pub receipt_cert: Option<PathBuf>,
    /// The receipt signature's envelope format.
    #[arg(long, value_enum, default_value_t = EnvelopeArg::Jws, value_name = "FORMAT")]
    pub receipt_envelope: EnvelopeArg,
}

fn read_file(path: &Path, cap: u64) -> anyhow::Result<Vec<u8>> {
    crate::fsutil::read_named_file(path, cap)
        .with_context(|| format!("cannot read {}", path.display()))?
        .ok_or_else(|| {
            UsageError::BadOption(format!("{} is larger than {cap} bytes", path.display())).into()
        })
}

fn envelope_format(e: EnvelopeArg) -> EnvelopeFormat {
    match e {
        EnvelopeArg::Jws => EnvelopeFormat::Jws,
        EnvelopeArg::Cose => EnvelopeFormat::Cose,
    }
}

/// Loads a signing key and chain, as `airlock sign` reads them (receipts; export signatures).
pub(super) fn signing_material(
    key: &Path,
    cert: &Path,
    envelope: EnvelopeArg,
) -> anyhow::Result<SigningMaterial> {
    let key = read_private_key_pem(&read_file(key, MAX_FILE_BYTES)?)
        .with_context(|| format!("signing key {}", key.display()))?;
    let chain = read_certificate_chain_pem(&read_file(cert, MAX_FILE_BYTES)?)
        .with_context(|| format!("certificate chain {}", cert.display()))?;
    Ok(SigningMaterial {
        key,
        chain,
        format: envelope_format(envelope),
    })
}

/// The hook before verification: the signing material, when a key is given. `verify` has nowhere
/// to put a signed receipt but FILE, so there a key needs `--receipt`.
pub(super) fn prepare(
    a: &ReceiptOutArgs,
    needs_file: bool,
) -> anyhow::Result<Option<SigningMaterial>> {
    if needs_file && a.receipt_key.is_some() && a.receipt.is_none() {
        return Err(UsageError::BadOption(
            "--receipt-key signs the receipt written with --receipt FILE: give --receipt".into(),
        )
        .into());
    }
    match (&a.receipt_key, &a.receipt_cert) {
        (Some(k), Some(c)) => Ok(Some(signing_material(k, c, a.receipt_envelope)?)),
        _ => Ok(None),
    }
}

/// The policy a verification ran under, for the receipt: a local policy file by its digest, or
/// whatever the report names (the trust artifact, or integrity only).
pub(super) fn policy_input(material: &MaterialArgs) -> anyhow::Result<PolicyInput> {
    Ok(match material.paths() {
        Some((path, _)) => {
            let bytes = read_file(&path, MAX_FILE_BYTES)?;
            let abs = std::fs::canonicalize(&path).unwrap_or(path);
            PolicyInput::Local {
                uri: file_uri(&abs),
                digest: Digest::sha256(&bytes),
            }
        }
        None => PolicyInput::FromReport,
    })
}

/// The statement's bytes and, with signing material, its envelope (signed at the report's
/// `verifiedAt`).
pub(super) fn make(
    report: &Report,
    ctx: &ReceiptContext,
    signer: Option<&SigningMaterial>,
) -> anyhow::Result<(Vec<u8>, Option<Vec<u8>>)> {
    let bytes = receipt::build(report, ctx).to_bytes()?;
    let envelope = match signer {
        Some(m) => {
            let at = report
                .verified_at
                .parse::<jiff::Timestamp>()
                .with_context(|| format!("verifiedAt {:?}", report.verified_at))?
                .as_second();
            Some(receipt::sign_statement(&bytes, m, at).context("signing the receipt")?)
        }
        None => None,
    };
    Ok((bytes, envelope))
}

/// The signature file next to a receipt: `FILE.sig`.
pub fn signature_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".sig");
    PathBuf::from(s)
}

/// `verify`'s hook after verification.
/// `resource` is the bundle's [`bundle_uri`], taken before the bundle was opened.
pub(super) fn after_verify(
    a: &VerifyArgs,
    resource: &str,
    signer: Option<&SigningMaterial>,
    report: &Report,
    p: &Printer,
) -> anyhow::Result<()> {
    write(&a.receipt, resource, &a.trust.material, signer, report, p)
}

/// The bundle as a `file://` URI (absolute; `-` is stdin): what a receipt names as the resource
/// verified. Resolved once, before the bundle is opened, and that resolved path is the one opened
/// ([`resolved_bundle`]): resolved again after the verification, a link on the medium re-pointed
/// meanwhile named a file never read (red team I, I-04).
pub(super) fn bundle_uri(bundle: &Path) -> String {
    file_uri(bundle)
}

/// The bundle path resolved once (absolute, no links; `-` and a path that cannot be resolved are
/// kept as given, and fail where they are opened): the path both opened and named in receipts.
pub(super) fn resolved_bundle(bundle: &Path) -> PathBuf {
    if bundle.as_os_str() == "-" {
        return bundle.to_path_buf();
    }
    std::fs::canonicalize(bundle).unwrap_or_else(|_| bundle.to_path_buf())
}

/// The hook after verification (`verify`, and `import` whatever its verdict): writes the receipt
/// of every verified image to `--receipt FILE` (and its signature to FILE.sig), whatever the
/// verdict.
pub(super) fn write(
    a: &ReceiptOutArgs,
    resource: &str,
    material: &MaterialArgs,
    signer: Option<&SigningMaterial>,
    report: &Report,
    p: &Printer,
) -> anyhow::Result<()> {
    let Some(path) = &a.receipt else {
        return Ok(());
    };
    let ctx = ReceiptContext {
        resource_uri: resource.to_owned(),
        policy: policy_input(material)?,
        image: None,
    };
    let (bytes, envelope) = make(report, &ctx, signer)?;
    // Both destinations are checked before either is written: never a receipt without its
    // signature because the signature's path was refused.
    if envelope.is_some() {
        let sig = signature_path(path);
        crate::fsutil::replaceable(&sig)
            .with_context(|| format!("writing receipt signature {}", sig.display()))?;
    }
    write_atomic(path, &bytes).with_context(|| format!("writing receipt {}", path.display()))?;
    let result = if report.verdict == Verdict::Pass {
        "PASSED"
    } else {
        "FAILED"
    };
    match envelope {
        Some(env) => {
            let sig = signature_path(path);
            write_atomic(&sig, &env)
                .with_context(|| format!("writing receipt signature {}", sig.display()))?;
            p.info(&format!(
                "receipt {} ({result}), signed: {}",
                path.display(),
                sig.display()
            ));
        }
        None => p.info(&format!("receipt {} ({result}), unsigned", path.display())),
    }
    Ok(())
}

/// `airlock receipt`.
#[derive(Debug, Args)]
pub struct ReceiptArgs {
    /// The receipt command.
    #[command(subcommand)]
    pub command: ReceiptCommand,
}

/// `airlock receipt` commands.
#[derive(Debug, Subcommand)]
pub enum ReceiptCommand {
    /// Check a verification receipt offline: its signature against local trust material, its
    /// shape, and what it records.
    #[command(
        long_about = "Check a verification receipt (what `airlock verify --receipt` or `airlock import \
--receipt-key` wrote) from local files only. The signature (FILE.sig, or --signature) is a Notary Project \
envelope whose payload names the statement file by media type application/vnd.in-toto+json, sha256 and \
size; it is evaluated as `airlock verify` evaluates an image signature (integrity, certificate rules, \
chain to a trust store, trusted identity, expiry, timestamp, revocation with --crl) under the \
trust-policy statement whose registryScopes name airlock/receipt (or --scope, or the \"*\" statement). \
The statement must be an in-toto Statement v1 with a SLSA Verification Summary v1 predicate. The \
summary says who verified what, when, under which policy and trust anchor.\n\n\
A receipt proves what the site's verifier concluded, signed with the site's key; it is not a second \
verification of the images.",
        after_help = "Exit status: 0 the receipt is authentic and records PASSED, 1 it is not (or it \
records FAILED), 2 usage or operational error.\n\n\
Examples:\n  airlock receipt verify receipt.json --trust-policy trustpolicy.json --trust-store truststore\n  \
airlock receipt verify receipt.json --signature receipt.json.sig --notation-config ~/.config/notation --format json"
    )]
    Verify(ReceiptVerifyArgs),
}

/// `airlock receipt verify`.
#[derive(Debug, Args)]
pub struct ReceiptVerifyArgs {
    /// The statement file.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Instead of FILE: check the receipts attached to this image in a registry (found as
    /// `oras discover` finds them: referrers of artifact type application/vnd.in-toto+json, each
    /// with its Notary signatures). Passes when one of them is authentic, names the image and
    /// records PASSED.
    #[cfg(feature = "pull")]
    #[arg(
        long,
        value_name = "REGISTRY/REPO[:TAG|@DIGEST]",
        conflicts_with_all = ["file", "manifest", "signature", "subject", "bundle_digest"]
    )]
    pub image: Option<String>,
    /// How to reach the registry (with --image).
    #[cfg(feature = "pull")]
    #[command(flatten)]
    pub net: super::RegistryArgs,
    /// The signature file (a JWS or COSE Notary envelope). Default: FILE.sig.
    #[arg(long, value_name = "FILE.sig")]
    pub signature: Option<PathBuf>,
    /// The receipt manifest, when the receipt was pulled as OCI artifacts (what `import
    /// --receipt-key` pushes): the signature then signs this manifest, whose one layer must be FILE.
    #[arg(long, value_name = "MANIFEST.json")]
    pub manifest: Option<PathBuf>,
    /// The local trust material.
    #[command(flatten)]
    pub material: MaterialArgs,
    /// Registry scope the trust policy is matched under.
    #[arg(long, value_name = "SCOPE", default_value = receipt::RECEIPT_SCOPE)]
    pub scope: String,
    /// Verification time (RFC 3339). Default: now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// A CRL (PEM or DER) to check certificates against; repeatable. Nothing is fetched.
    #[arg(long, value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// Also require the statement to name this image digest among its subjects.
    #[arg(long, value_name = "sha256:DIGEST")]
    pub subject: Option<String>,
    /// Also require the statement to be the receipt of this bundle: its `bundle sha256:...`
    /// (the `index.json` digest every command prints) or, for a tarball, the file's digest.
    #[arg(long, value_name = "sha256:DIGEST")]
    pub bundle_digest: Option<String>,
    /// Also require the statement to claim this verified level; repeatable. For a gate that
    /// admits only images whose signatures were verified:
    /// `--require-level AIRLOCK_INTEGRITY_VERIFIED --require-level AIRLOCK_NOTARY_SIGNATURES_VERIFIED`.
    #[arg(long, value_name = "LEVEL")]
    pub require_level: Vec<String>,
    /// Output format: a human summary on stderr, or the JSON result on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

fn trust_inputs(a: &ReceiptVerifyArgs) -> anyhow::Result<TrustInputs> {
    let Some((policy_path, store_root)) = a.material.paths() else {
        return Err(UsageError::NoTrustAnchor.into());
    };
    let bytes = read_file(&policy_path, MAX_FILE_BYTES)?;
    let policy = crate::notary::policy::parse(&bytes).map_err(|e| UsageError::PolicyInvalid {
        path: policy_path.display().to_string(),
        code: e.code(),
        message: e.to_string(),
    })?;
    let mut crls = Vec::new();
    for path in &a.crl {
        let bytes = read_file(
            path,
            u64::try_from(crate::notary::revocation::MAX_CRL_BYTES).unwrap_or(u64::MAX),
        )?;
        let parsed = crate::notary::revocation::Crl::parse_file(&bytes)
            .map_err(|e| UsageError::BadOption(format!("--crl {}: {e}", path.display())))?;
        crls.extend(
            parsed
                .into_iter()
                .map(crate::notary::revocation::CrlInput::new),
        );
    }
    let at = match &a.at {
        Some(s) => super::rfc3339_arg("--at", s)?,
        None => jiff::Timestamp::now(),
    };
    Ok(TrustInputs {
        policy,
        store_root,
        crls,
        at: at.as_second(),
        scope: Some(a.scope.clone()),
        user_metadata: Vec::new(),
        names: Names::Annotations,
    })
}

/// Runs `airlock receipt ...`.
pub(super) fn run(a: &ReceiptArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    match &a.command {
        ReceiptCommand::Verify(v) => verify(v, p),
    }
}

fn verify(a: &ReceiptVerifyArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    let trust = trust_inputs(a)?;
    #[cfg(feature = "pull")]
    if let Some(image) = &a.image {
        return verify_attached(a, image, &trust, p);
    }
    let Some(file) = &a.file else {
        return Err(UsageError::BadOption(
            "name the receipt: FILE (or --image REGISTRY/REPO@DIGEST)".into(),
        )
        .into());
    };
    let statement = read_file(file, MAX_RECEIPT_BYTES)?;
    let sig_path = a.signature.clone().unwrap_or_else(|| signature_path(file));
    let envelope = match read_file(&sig_path, MAX_RECEIPT_BYTES) {
        Ok(b) => Some(b),
        // Without --signature, a missing FILE.sig is an unsigned receipt (a failure, reported).
        Err(_) if a.signature.is_none() && !sig_path.exists() => None,
        Err(e) => return Err(e),
    };
    let manifest = match &a.manifest {
        Some(m) => Some(read_file(m, MAX_RECEIPT_BYTES)?),
        None => None,
    };
    let mut c = receipt::check(
        &receipt::Receipt {
            statement: &statement,
            envelope: envelope.as_deref(),
            manifest: manifest.as_deref(),
        },
        &trust,
        Some(&a.scope),
        a.subject.as_deref(),
    );
    c.require_levels(&a.require_level);
    if let Some(d) = &a.bundle_digest {
        c.require_bundle(d);
    }
    if a.format == Format::Json {
        print_json(&c)?;
    }
    summarise(&c, &file.display().to_string(), p);
    Ok(ExitCode::from(if c.verdict == Verdict::Pass {
        EXIT_OK
    } else {
        EXIT_FAIL
    }))
}

fn summarise(c: &receipt::Check, file: &str, p: &Printer) {
    p.info(&format!(
        "airlock receipt verify {file} ({} {} bytes)",
        c.statement_digest, c.statement_size
    ));
    if let Some(s) = &c.signature {
        let policy = c
            .policy
            .as_ref()
            .map(|p| format!("{} ({})", p.name, p.level))
            .unwrap_or_else(|| "-".into());
        p.info(&format!(
            "  signed by {} ({} {}) at {}, policy {policy}, scope {}: {}",
            s.signer.as_ref().map(|x| x.subject.as_str()).unwrap_or("?"),
            s.envelope_type.map(|f| f.name()).unwrap_or("?"),
            s.signing_scheme.map(|s| s.as_str()).unwrap_or("?"),
            s.signing_time.as_deref().unwrap_or("?"),
            c.scope,
            s.verdict
        ));
    }
    if let Some(st) = &c.statement {
        let version: Vec<String> = st
            .verifier_version
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        p.info(&format!(
            "  verified by {} ({}) at {}: {}",
            st.verifier_id,
            version.join(", "),
            st.time_verified.as_deref().unwrap_or("?"),
            st.verification_result
        ));
        for s in &st.subjects {
            p.info(&format!(
                "    subject {}  {}",
                s.name.as_deref().unwrap_or("_"),
                s.digests.join(" ")
            ));
        }
        p.info(&format!("  resource {}", st.resource_uri));
        for line in super::output::identity_lines(st.bundle_digest(), st.bundle_file_digest()) {
            p.info(&format!("  {line}"));
        }
        let pol_name = st
            .policy
            .get("name")
            .and_then(|v| v.as_str())
            .unwrap_or("-");
        let pol_uri = st.policy.get("uri").and_then(|v| v.as_str()).unwrap_or("-");
        let pol_digest = st
            .policy
            .get("digest")
            .and_then(|d| d.get("sha256"))
            .and_then(|v| v.as_str())
            .map(|h| format!("sha256:{h}"))
            .unwrap_or_else(|| "-".into());
        p.info(&format!("  policy {pol_name}  {pol_uri}  {pol_digest}"));
        p.info(&format!(
            "  trust anchor {}{}",
            st.anchor_mode().unwrap_or("none (integrity only)"),
            st.anchor_pin()
                .map(|pin| format!(" (pin {pin})"))
                .unwrap_or_default()
        ));
        p.info(&format!("  levels {}", st.verified_levels.join(", ")));
        for w in st.warnings() {
            p.info(&format!("  warning {w}"));
        }
        p.detail(&format!(
            "  {} input attestation(s)",
            st.input_attestations.len()
        ));
    }
    for f in &c.failures {
        p.important(&format!("FAIL {}: {}", f.code, f.message));
    }
    p.important(&format!(
        "{}: receipt {file}",
        match c.verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
        },
    ));
}

/// What `receipt verify --image` found.
#[cfg(feature = "pull")]
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Attached {
    /// The image as given.
    image: String,
    /// Its digest.
    digest: String,
    /// `pass` when one receipt passes.
    verdict: Verdict,
    /// Each receipt attached (its best signature's check).
    receipts: Vec<AttachedReceipt>,
}

#[cfg(feature = "pull")]
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct AttachedReceipt {
    /// `REPO@DIGEST` of the receipt manifest.
    reference: String,
    /// The check.
    #[serde(flatten)]
    check: receipt::Check,
}

#[cfg(feature = "pull")]
fn verify_attached(
    a: &ReceiptVerifyArgs,
    image: &str,
    trust: &TrustInputs,
    p: &Printer,
) -> anyhow::Result<ExitCode> {
    use crate::registry::Registry;
    let r = Registry::parse(image)?;
    let reg = Registry::new(a.net.options(r.registry()))?;
    let (desc, _) = reg.resolve(&r)?;
    let digest =
        Digest::parse(&desc.digest).map_err(|e| UsageError::BadOption(format!("{image}: {e}")))?;
    let subject = digest.to_string();
    let mut receipts = Vec::new();
    // Newest first, judged one by one; the first authentic PASSED receipt ends the search (the
    // image may carry attestations of anyone's beside the site's receipts).
    receipt::pull::pull_each(&reg, &r, &digest, |pr| {
        let reference = format!("{}@{}", r.repo_name(), pr.manifest_digest);
        let statement = match &pr.statement {
            Ok(s) => s.as_slice(),
            Err(e) => {
                p.important(&format!(
                    "FAIL {reference}: its statement cannot be read: {e}"
                ));
                return std::ops::ControlFlow::Continue(());
            }
        };
        let one = |envelope: Option<&[u8]>| {
            let mut c = receipt::check(
                &receipt::Receipt {
                    statement,
                    envelope,
                    manifest: Some(&pr.manifest),
                },
                trust,
                Some(&a.scope),
                Some(&subject),
            );
            c.require_levels(&a.require_level);
            c
        };
        let mut checks: Vec<receipt::Check> = pr.envelopes.iter().map(|e| one(Some(e))).collect();
        if checks.is_empty() {
            checks.push(one(None));
        }
        let best = match checks.iter().position(|c| c.verdict == Verdict::Pass) {
            Some(i) => checks.swap_remove(i),
            None => checks.swap_remove(0),
        };
        let passed = best.verdict == Verdict::Pass;
        receipts.push(AttachedReceipt {
            reference,
            check: best,
        });
        if passed {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    })?;
    let verdict = if receipts.iter().any(|x| x.check.verdict == Verdict::Pass) {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    let out = Attached {
        image: image.to_owned(),
        digest: subject.clone(),
        verdict,
        receipts,
    };
    if a.format == Format::Json {
        print_json(&out)?;
    }
    for x in &out.receipts {
        summarise(&x.check, &x.reference, p);
    }
    if out.receipts.is_empty() {
        p.important(&format!(
            "FAIL: no receipt is attached to {image} ({subject})"
        ));
    }
    p.important(&format!(
        "{}: {} receipt(s) attached to {image} ({subject}) read (newest first, up to the first authentic PASSED one), {} authentic and PASSED",
        match verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
        },
        out.receipts.len(),
        out.receipts
            .iter()
            .filter(|x| x.check.verdict == Verdict::Pass)
            .count()
    ));
    Ok(ExitCode::from(if verdict == Verdict::Pass {
        EXIT_OK
    } else {
        EXIT_FAIL
    }))
}

/// The repository of an import target (`HOST/REPO:TAG` or `HOST/REPO@DIGEST`).
#[cfg(feature = "pull")]
fn repo_of(target: &str) -> &str {
    if let Some((repo, _)) = target.split_once('@') {
        return repo;
    }
    match (target.rfind(':'), target.rfind('/')) {
        (Some(c), Some(s)) if c > s => target.get(..c).unwrap_or(target),
        _ => target,
    }
}

/// `import`'s hook after the push: for each image it pushed (`(target, digest)`), a receipt about
/// that image alone, signed, attached beside it (receipt manifest, signature manifest, and the
/// referrers tag indexes when `tag_schema`). Nothing without signing material; `dry_run` only says
/// what would be pushed.
#[cfg(feature = "pull")]
#[allow(clippy::too_many_arguments)]
pub(super) fn push_for_import(
    reg: &crate::registry::Registry,
    cat: &crate::layout::Catalog,
    report: &Report,
    pushed: &[(String, String)],
    signer: Option<&SigningMaterial>,
    material: &MaterialArgs,
    resource: &str,
    tag_schema: bool,
    dry_run: bool,
    p: &Printer,
) -> anyhow::Result<Vec<receipt::push::Pushed>> {
    let Some(signer) = signer else {
        return Ok(Vec::new());
    };
    let policy = policy_input(material)?;
    let resource_uri = resource.to_owned();
    let at = report
        .verified_at
        .parse::<jiff::Timestamp>()
        .with_context(|| format!("verifiedAt {:?}", report.verified_at))?
        .as_second();
    let mut out = Vec::new();
    for (target, digest) in pushed {
        let repo = repo_of(target);
        let d = Digest::parse(digest).with_context(|| format!("image digest {digest}"))?;
        let size = cat
            .blobs
            .get(&d)
            .map(|b| b.size)
            .with_context(|| format!("the bundle does not hold {digest}"))?;
        let media_type = report
            .images
            .iter()
            .find(|i| &i.digest == digest)
            .map(|i| i.media_type.clone())
            .with_context(|| format!("{digest} was not verified"))?;
        let subject = crate::notary::sign::TargetDescriptor {
            media_type,
            digest: d,
            size,
        };
        let ctx = ReceiptContext {
            resource_uri: resource_uri.clone(),
            policy: policy.clone(),
            image: Some(digest.clone()),
        };
        let statement = receipt::build(report, &ctx).to_bytes()?;
        let artifacts =
            receipt::oci::artifacts(statement, &subject, signer, at, &report.verified_at)
                .context("signing the receipt")?;
        if dry_run {
            p.important(&format!(
                "would attach receipt {} (signed by {}) to {repo}@{digest}",
                artifacts.manifest_descriptor.digest, artifacts.signature.digest
            ));
            continue;
        }
        let r = receipt::push::push(reg, repo, &subject, &artifacts, tag_schema)
            .with_context(|| format!("attaching the receipt to {repo}@{digest}"))?;
        p.info(&format!(
            "receipt {} (signature {}) attached to {}",
            r.receipt, r.signature, r.image
        ));
        out.push(r);
    }
    Ok(out)
}

/// `import`'s hook after verification: `--receipt FILE`, whatever the verdict.
#[cfg(feature = "pull")]
pub(super) fn after_import_verify(
    a: &super::import::ImportArgs,
    resource: &str,
    signer: Option<&SigningMaterial>,
    report: &Report,
    p: &Printer,
) -> anyhow::Result<()> {
    write(&a.receipt, resource, &a.trust.material, signer, report, p)
}

/// `import`'s hook after the push: a signed receipt beside each image pushed, naming `resource`
/// (the bundle's [`bundle_uri`]) and signed by `signer`.
#[cfg(feature = "pull")]
pub(super) fn after_import(
    a: &super::import::ImportArgs,
    (resource, signer): (&str, Option<&SigningMaterial>),
    clients: &[crate::registry::Registry],
    cat: &crate::layout::Catalog,
    report: &Report,
    summary: &crate::import::ImportSummary,
    p: &Printer,
) -> anyhow::Result<()> {
    let Some(reg) = clients.first() else {
        return Ok(());
    };
    let pushed: Vec<(String, String)> = summary
        .images
        .iter()
        .map(|i| (i.target.clone(), i.digest.clone()))
        .collect();
    let tag_schema = summary.referrers_mode != Some(crate::import::ReferrersMode::Api)
        && crate::import::ReferrersMode::from(a.referrers) != crate::import::ReferrersMode::Api;
    push_for_import(
        reg,
        cat,
        report,
        &pushed,
        signer,
        &a.trust.material,
        resource,
        tag_schema,
        a.dry_run,
        p,
    )?;
    Ok(())
}
