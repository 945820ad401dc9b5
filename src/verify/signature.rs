//! The signature stage: Notary Project verification of every image's signatures, from the bytes
//! the integrity stage already read, against local trust material.
//!
//! Per image: pick the trust-policy statement for its scope; find its signatures (manifests in
//! `index.json` or in the `sha256-<hex>` referrers tag index whose `subject` is the image, or one of
//! its child manifests, with the Notary artifact type); evaluate each signature in the
//! specification's order (integrity, authenticity and trusted identity, expiry, authentic
//! timestamp, revocation, then payload and user metadata); apply the level's enforce / log / skip
//! action to each validation. One passing signature verifies a target; all are reported.
//!
//! No clock, no network: the verification time is [`TrustInputs::at`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::digest::Digest;
use crate::finding::Code;
use crate::layout::model::{self, Descriptor, Document, NOTARY_SIGNATURE};
use crate::layout::{blob_name, referrers_tag_of, Catalog, Content};
use crate::notary::chain::ValidatedChain;
use crate::notary::envelope::{Envelope, EnvelopeError, EnvelopeFormat, SigningScheme};
use crate::notary::policy::{Action, Check, PolicyDocument, PolicyError, Statement};
use crate::notary::revocation::{ChainStatus, CrlInput, Overall};
use crate::notary::truststore::{self, StoreType, TrustStoreError, TrustedCert};
use crate::notary::verify_time::{self, TimestampPolicy, Trusted};

use super::integrity::Integrity;
use super::report::Verdict;

/// The empty JSON config media type (image-spec 1.1).
const EMPTY_JSON: &str = "application/vnd.oci.empty.v1+json";

/// Signatures evaluated per target at most (notation CLI's `--max-signatures` default, SPEC-NOTES
/// erratum 18).
pub const MAX_SIGNATURES_PER_TARGET: usize = 100;

/// Largest signature manifest notation accepts (erratum 8).
const MAX_SIGNATURE_MANIFEST: u64 = 4 << 20;
/// Largest envelope notation accepts (erratum 8).
const MAX_ENVELOPE: u64 = 32 << 20;

/// Where an image's name (and so its policy scope) comes from.
#[derive(Clone, Debug)]
pub enum Names {
    /// The `index.json` annotations (local trust: the operator's policy judges whatever name the
    /// image carries, and `import` pushes it under that same name).
    Annotations,
    /// The authenticated export record (pinned mode): `(reference, digest)` of every exported
    /// image. An image passes only under a name the record gives its digest.
    Record(Vec<(String, String)>),
}

/// Everything the signature stage needs besides the bundle.
#[derive(Clone)]
pub struct TrustInputs {
    /// The trust policy document.
    pub policy: PolicyDocument,
    /// The trust store root (the folder holding `x509/`).
    pub store_root: PathBuf,
    /// CRLs at hand (from `--crl` and the bundle), each with the URI it was captured from when
    /// that capture is authenticated (a pinned trust artifact, or export's own fetch).
    pub crls: Vec<CrlInput>,
    /// Verification time, Unix seconds.
    pub at: i64,
    /// Registry scope to match instead of each image's recorded repository.
    pub scope: Option<String>,
    /// Required user metadata (`--user-metadata K=V`).
    pub user_metadata: Vec<(String, String)>,
    /// Where image names come from.
    pub names: Names,
}

/// Trust stores, loaded once each.
pub struct StoreCache {
    root: Option<PathBuf>,
    loaded: HashMap<(StoreType, String), Result<Vec<TrustedCert>, TrustStoreError>>,
}

impl StoreCache {
    /// A cache over the trust store at `root`.
    pub fn new(root: &Path) -> Self {
        StoreCache {
            root: Some(root.to_path_buf()),
            loaded: HashMap::new(),
        }
    }

    /// Stores given in memory (the trust artifact a bundle carries); any other store is missing.
    pub fn preloaded(
        stores: HashMap<(StoreType, String), Result<Vec<TrustedCert>, TrustStoreError>>,
    ) -> Self {
        StoreCache {
            root: None,
            loaded: stores,
        }
    }

    /// Loads (once) the store `kind:name`.
    pub fn get(
        &mut self,
        kind: StoreType,
        name: &str,
    ) -> &Result<Vec<TrustedCert>, TrustStoreError> {
        let root = self.root.clone();
        self.loaded
            .entry((kind, name.to_owned()))
            .or_insert_with(|| match root {
                Some(root) => {
                    truststore::load_with(&root, kind, name, &crate::notary::chain::is_self_signed)
                }
                None => Err(TrustStoreError::Missing {
                    kind,
                    name: name.to_owned(),
                    path: PathBuf::from(format!("(bundle trust artifact) x509/{kind}/{name}")),
                }),
            })
    }

    /// SHA-256 fingerprints of every certificate loaded so far, sorted.
    pub fn fingerprints(&self) -> Vec<String> {
        let mut v: BTreeSet<String> = BTreeSet::new();
        for certs in self.loaded.values().flatten() {
            for c in certs {
                v.insert(Digest::sha256(&c.der).to_string());
            }
        }
        v.into_iter().collect()
    }
}

/// The result of one validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Failed.
    Fail,
    /// Could not be established (revocation without a current CRL).
    Unknown,
    /// Not evaluated: skipped by the policy, or an earlier enforced check failed.
    Skipped,
}

/// One validation in the report.
#[derive(Clone, Debug, Serialize)]
pub struct Validation {
    /// What happened.
    pub result: Outcome,
    /// What the policy does with a failure: `enforce`, `log` or `skip`.
    pub action: Action,
    /// Why it failed (or why it was not evaluated).
    pub reason: Option<String>,
}

impl Validation {
    fn pending(action: Action) -> Self {
        Validation {
            result: Outcome::Skipped,
            action,
            reason: Some(match action {
                Action::Skip => "skipped by the trust policy".into(),
                _ => "not evaluated: an earlier enforced check failed".into(),
            }),
        }
    }
}

/// The five validations of the specification.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Validations {
    /// Envelope, signature, certificate rules, payload.
    pub integrity: Validation,
    /// Chain to a trust store, trusted identity.
    pub authenticity: Validation,
    /// Certificate validity at the trusted time; RFC 3161 timestamp.
    pub authentic_timestamp: Validation,
    /// `io.cncf.notary.expiry`.
    pub expiry: Validation,
    /// CRL status of the signing chain.
    pub revocation: Validation,
}

/// The signer.
#[derive(Clone, Debug, Serialize)]
pub struct Signer {
    /// Leaf certificate subject (RFC 4514).
    pub subject: String,
    /// Leaf certificate issuer.
    pub issuer: String,
}

/// A verified timestamp.
#[derive(Clone, Debug, Serialize)]
pub struct TimestampReport {
    /// `genTime`, RFC 3339.
    pub time: String,
    /// The TSA certificate's subject.
    pub tsa: String,
    /// The TSA chain's revocation status, certificate by certificate, with the CRLs that decided.
    pub revocation: Option<ChainStatus>,
}

/// A failure of a signature: its stable code and message.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureFailure {
    /// Stable code.
    pub code: Code,
    /// For people.
    pub message: String,
}

/// One signature in the report.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureReport {
    /// The signature manifest's digest.
    pub manifest_digest: String,
    /// The digest of the manifest it signs.
    pub subject_digest: String,
    /// `jws` or `cose`.
    pub envelope_type: Option<EnvelopeFormat>,
    /// `notary.x509` or `notary.x509.signingAuthority`.
    pub signing_scheme: Option<SigningScheme>,
    /// Leaf subject and issuer.
    pub signer: Option<Signer>,
    /// SHA-256 of each chain certificate, leaf first.
    pub chain_fingerprints: Vec<String>,
    /// SHA-256 of the trust-store certificate that anchored the chain (authenticity).
    pub anchor: Option<String>,
    /// Signing time (or authentic signing time), RFC 3339.
    pub signing_time: Option<String>,
    /// The verified timestamp, when one was used.
    pub timestamp: Option<TimestampReport>,
    /// Expiry, RFC 3339.
    pub expiry: Option<String>,
    /// Each validation.
    pub validations: Validations,
    /// The signing chain's revocation status, certificate by certificate (leaf first), with the
    /// CRLs that decided each (issuer, number, the distribution-point URI they covered) or why
    /// none applied; null when revocation was not evaluated.
    pub revocation: Option<ChainStatus>,
    /// `pass` or `fail`.
    pub verdict: Verdict,
    /// The enforced failure that decided a `fail`.
    pub failure: Option<SignatureFailure>,
    /// Logged (non-enforced) failures.
    pub warnings: Vec<SignatureFailure>,
}

/// The descriptor a signature must sign.
#[derive(Clone, Debug)]
pub struct Target {
    /// Media type.
    pub media_type: String,
    /// Digest.
    pub digest: String,
    /// Size.
    pub size: u64,
}

/// RFC 3339 (UTC, seconds) of Unix seconds.
pub fn rfc3339(t: i64) -> String {
    crate::notary::time::rfc3339(t)
}

struct Eval<'a> {
    statement: &'a Statement,
    v: Validations,
    failure: Option<SignatureFailure>,
    warnings: Vec<SignatureFailure>,
}

impl Eval<'_> {
    fn slot(&mut self, check: Check) -> &mut Validation {
        match check {
            Check::Integrity => &mut self.v.integrity,
            Check::Authenticity => &mut self.v.authenticity,
            Check::AuthenticTimestamp => &mut self.v.authentic_timestamp,
            Check::Expiry => &mut self.v.expiry,
            Check::Revocation => &mut self.v.revocation,
        }
    }

    fn pass(&mut self, check: Check) {
        let s = self.slot(check);
        if s.result == Outcome::Skipped && s.action != Action::Skip {
            s.result = Outcome::Pass;
            s.reason = None;
        }
    }

    /// Records a failure under `check`'s action; returns `true` when it is enforced (stop).
    fn fail(&mut self, check: Check, outcome: Outcome, code: Code, message: String) -> bool {
        let action = if check == Check::Integrity {
            Action::Enforce
        } else {
            self.statement.action(check)
        };
        let s = self.slot(check);
        s.result = outcome;
        s.reason = Some(message.clone());
        match action {
            Action::Enforce => {
                self.failure = Some(SignatureFailure { code, message });
                true
            }
            Action::Log => {
                self.warnings.push(SignatureFailure { code, message });
                false
            }
            Action::Skip => false,
        }
    }

    /// A failure that is fatal at every level (payload, user metadata, plugin).
    fn fatal(&mut self, code: Code, message: String) {
        self.v.integrity.result = Outcome::Fail;
        self.v.integrity.reason = Some(message.clone());
        self.failure = Some(SignatureFailure { code, message });
    }
}

/// An envelope error's reason: a plugin demand, or a broken envelope.
impl From<&EnvelopeError> for Code {
    fn from(e: &EnvelopeError) -> Code {
        match e {
            EnvelopeError::PluginRequired { .. } => Code::PluginRequired,
            _ => Code::SignatureIntegrity,
        }
    }
}

/// A trust store's reason: missing, or unusable (I/O errors included).
impl From<&TrustStoreError> for Code {
    fn from(e: &TrustStoreError) -> Code {
        match e {
            TrustStoreError::Missing { .. } => Code::TruststoreMissing,
            _ => Code::TruststoreInvalid,
        }
    }
}

/// What [`PolicyDocument::statement_for`]'s errors mean for an image: no statement applies, or
/// the scope cannot be matched.
impl From<&PolicyError> for Code {
    fn from(e: &PolicyError) -> Code {
        match e {
            PolicyError::NoApplicablePolicy { .. } => Code::NoApplicablePolicy,
            _ => Code::ScopeUnknown,
        }
    }
}

/// Evaluates one envelope against `target` under `statement`.
pub fn evaluate(
    envelope_media_type: &str,
    envelope: &[u8],
    target: &Target,
    statement: &Statement,
    stores: &mut StoreCache,
    inputs: &TrustInputs,
) -> SignatureReport {
    let mut report = empty_report(statement);
    report.subject_digest = target.digest.clone();
    let mut ev = Eval {
        statement,
        v: report.validations.clone(),
        failure: None,
        warnings: Vec::new(),
    };
    run(
        &mut ev,
        &mut report,
        envelope_media_type,
        envelope,
        target,
        stores,
        inputs,
    );
    report.validations = ev.v;
    report.verdict = if ev.failure.is_none() {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    report.failure = ev.failure;
    report.warnings = ev.warnings;
    report
}

fn run(
    ev: &mut Eval<'_>,
    report: &mut SignatureReport,
    media_type: &str,
    bytes: &[u8],
    target: &Target,
    stores: &mut StoreCache,
    inputs: &TrustInputs,
) {
    // 1. Integrity: envelope, signature over the exact bytes, certificate rules.
    let env = match Envelope::parse(media_type, bytes) {
        Ok(e) => e,
        Err(e) => {
            ev.fail(
                Check::Integrity,
                Outcome::Fail,
                Code::from(&e),
                format!("envelope: {e}"),
            );
            return;
        }
    };
    report.envelope_type = Some(env.format());
    report.signing_scheme = Some(env.signing_scheme());
    report.signing_time = Some(rfc3339(env.effective_signing_time()));
    report.expiry = env.expiry().map(rfc3339);
    report.chain_fingerprints = env
        .certificate_chain()
        .iter()
        .map(|c| Digest::sha256(c).to_string())
        .collect();
    let chain: ValidatedChain = match env.verify() {
        Ok(c) => c,
        Err(e) => {
            let code = Code::from(&e);
            if code == Code::PluginRequired {
                ev.fatal(code, format!("{e}: this verifier runs no plugins"));
            } else {
                ev.fail(Check::Integrity, Outcome::Fail, code, format!("{e}"));
            }
            return;
        }
    };
    if let Some(leaf) = chain.certificates().first() {
        report.signer = Some(Signer {
            subject: leaf.subject_string(),
            issuer: leaf.issuer_string(),
        });
    }
    let payload = match env.parse_payload() {
        Ok(p) => p,
        Err(e) => {
            ev.fail(
                Check::Integrity,
                Outcome::Fail,
                Code::SignatureIntegrity,
                format!("payload: {e}"),
            );
            return;
        }
    };
    if let Err(e) = payload.check_descriptor(&target.media_type, &target.digest, target.size) {
        ev.fatal(Code::PayloadMismatch, format!("{e}"));
        return;
    }
    ev.pass(Check::Integrity);

    // 2. Authenticity: a chain certificate equal to one in a store of the scheme's type.
    let scheme = env.signing_scheme();
    let kind = match scheme {
        SigningScheme::X509 => StoreType::Ca,
        SigningScheme::X509SigningAuthority => StoreType::SigningAuthority,
    };
    if ev.statement.action(Check::Authenticity) != Action::Skip {
        let names: Vec<String> = ev
            .statement
            .trust_stores_of(kind)
            .map(|r| r.name().to_owned())
            .collect();
        // SPEC-NOTES erratum 17: every store of the scheme's type the statement lists must load;
        // one that is missing, empty or invalid fails authenticity even when another would match.
        let mut trusted: Vec<Vec<u8>> = Vec::new();
        let mut load_error: Option<(Code, String)> = None;
        for name in &names {
            match stores.get(kind, name) {
                Ok(certs) => trusted.extend(certs.iter().map(|c| c.der.clone())),
                Err(e) => {
                    load_error
                        .get_or_insert((Code::from(e), format!("trust store {kind}:{name}: {e}")));
                }
            }
        }
        let hit = env
            .certificate_chain()
            .iter()
            .find(|c| trusted.iter().any(|t| t == *c));
        let outcome = if let Some((code, msg)) = load_error {
            Some((code, msg))
        } else if names.is_empty() {
            Some((
                Code::UntrustedSigner,
                format!(
                    "the trust policy names no {kind} trust store for the {} scheme",
                    scheme.as_str()
                ),
            ))
        } else if let Some(anchor) = hit {
            report.anchor = Some(Digest::sha256(anchor).to_string());
            None
        } else {
            Some((
                Code::UntrustedSigner,
                format!(
                    "no certificate of the signing chain is in the {kind} trust store(s) {}",
                    names.join(", ")
                ),
            ))
        };
        match outcome {
            Some((code, msg)) => {
                if ev.fail(Check::Authenticity, Outcome::Fail, code, msg) {
                    return;
                }
            }
            None => {
                let leaf = chain
                    .certificates()
                    .first()
                    .map(|c| c.decoded().tbs_certificate.subject.clone());
                match leaf.map(|name| ev.statement.match_identity(&name)) {
                    Some(Ok(true)) => ev.pass(Check::Authenticity),
                    Some(Ok(false)) | None => {
                        let subject = report
                            .signer
                            .as_ref()
                            .map(|s| s.subject.clone())
                            .unwrap_or_default();
                        if ev.fail(
                            Check::Authenticity,
                            Outcome::Fail,
                            Code::TrustedIdentity,
                            format!(
                                "signer {subject:?} is not one of the policy's trusted identities"
                            ),
                        ) {
                            return;
                        }
                    }
                    Some(Err(e)) => {
                        if ev.fail(
                            Check::Authenticity,
                            Outcome::Fail,
                            Code::TrustedIdentity,
                            format!("signer subject: {e}"),
                        ) {
                            return;
                        }
                    }
                }
            }
        }
    }

    // 3. Expiry.
    if ev.statement.action(Check::Expiry) != Action::Skip {
        match env.check_expiry(inputs.at) {
            Ok(()) => ev.pass(Check::Expiry),
            Err(e) => {
                if ev.fail(
                    Check::Expiry,
                    Outcome::Fail,
                    Code::SignatureExpired,
                    format!("{e}"),
                ) {
                    return;
                }
            }
        }
    }

    // 4. Authentic timestamp: chain validity at the trusted time.
    if authentic_timestamp(ev, report, &env, &chain, stores, inputs) {
        return;
    }

    // 5. Revocation of the signing chain.
    if ev.statement.action(Check::Revocation) != Action::Skip {
        let status = verify_time::signing_chain_revocation(&env, &chain, &inputs.crls, inputs.at);
        let overall = status.overall();
        report.revocation = Some(status);
        match overall {
            Overall::Ok => ev.pass(Check::Revocation),
            Overall::Revoked(msg) => {
                if ev.fail(Check::Revocation, Outcome::Fail, Code::Revoked, msg) {
                    return;
                }
            }
            Overall::Unknown(msg) => {
                if ev.fail(
                    Check::Revocation,
                    Outcome::Unknown,
                    Code::RevocationUnknown,
                    msg,
                ) {
                    return;
                }
            }
        }
    }

    // 6. User metadata (fatal at every level).
    if let Err(e) = payload.check_user_metadata(&inputs.user_metadata) {
        ev.fatal(Code::UserMetadata, format!("{e}"));
    }
}

/// The authentic-timestamp step (SPEC-NOTES §6.3). Returns `true` when an enforced failure stops
/// the evaluation.
fn authentic_timestamp(
    ev: &mut Eval<'_>,
    report: &mut SignatureReport,
    env: &Envelope,
    chain: &ValidatedChain,
    stores: &mut StoreCache,
    inputs: &TrustInputs,
) -> bool {
    const CHECK: Check = Check::AuthenticTimestamp;
    let fail = |ev: &mut Eval<'_>, msg: String| {
        ev.fail(CHECK, Outcome::Fail, Code::AuthenticTimestamp, msg)
    };
    let tsa_names: Vec<String> = ev
        .statement
        .trust_stores_of(StoreType::Tsa)
        .map(|r| r.name().to_owned())
        .collect();
    let policy = TimestampPolicy {
        tsa_store_listed: !tsa_names.is_empty(),
        verify_timestamp: ev.statement.verify_timestamp(),
    };
    let token = match verify_time::check_without_timestamp(env, chain, &policy, inputs.at) {
        Ok(Trusted::NeedsTimestamp { token }) => token,
        Ok(_) => {
            ev.pass(CHECK);
            return false;
        }
        Err(e) => return fail(ev, e.to_string()),
    };
    let mut roots: Vec<Vec<u8>> = Vec::new();
    for name in &tsa_names {
        match stores.get(StoreType::Tsa, name) {
            Ok(certs) => roots.extend(certs.iter().map(|c| c.der.clone())),
            Err(e) => {
                let code = Code::from(e);
                return ev.fail(
                    CHECK,
                    Outcome::Fail,
                    code,
                    format!("trust store tsa:{name}: {e}"),
                );
            }
        }
    }
    let outcome = match verify_time::check_timestamp(
        token,
        env.signature(),
        &roots,
        chain,
        &inputs.crls,
        inputs.at,
    ) {
        Ok(o) => o,
        Err(e) => return fail(ev, e.to_string()),
    };
    report.timestamp = Some(TimestampReport {
        time: rfc3339(outcome.timestamp.gen_time),
        tsa: outcome
            .timestamp
            .tsa_path()
            .leaf()
            .map(|c| c.subject_string())
            .unwrap_or_default(),
        revocation: outcome.tsa_revocation,
    });
    match outcome.result {
        Ok(()) => {
            ev.pass(CHECK);
            false
        }
        Err(e) => fail(ev, e.to_string()),
    }
}

/// Evaluates only the authentic-timestamp validation of an envelope (after its integrity), as
/// notation's per-validation tests do. Returns the validation and, on an enforced or logged
/// failure, its code.
pub fn evaluate_authentic_timestamp(
    envelope_media_type: &str,
    envelope: &[u8],
    statement: &Statement,
    stores: &mut StoreCache,
    inputs: &TrustInputs,
) -> (Validation, Option<Code>) {
    let mut ev = Eval {
        statement,
        v: Validations {
            integrity: Validation::pending(Action::Enforce),
            authenticity: Validation::pending(Action::Skip),
            authentic_timestamp: Validation::pending(statement.action(Check::AuthenticTimestamp)),
            expiry: Validation::pending(Action::Skip),
            revocation: Validation::pending(Action::Skip),
        },
        failure: None,
        warnings: Vec::new(),
    };
    let parsed = Envelope::parse(envelope_media_type, envelope)
        .and_then(|env| env.verify().map(|c| (env, c)));
    let (env, chain) = match parsed {
        Ok(x) => x,
        Err(e) => {
            ev.fail(
                Check::Integrity,
                Outcome::Fail,
                Code::from(&e),
                format!("{e}"),
            );
            return (ev.v.integrity, ev.failure.map(|f| f.code));
        }
    };
    let mut report = empty_report(statement);
    authentic_timestamp(&mut ev, &mut report, &env, &chain, stores, inputs);
    let code = ev.failure.as_ref().or(ev.warnings.first()).map(|f| f.code);
    (ev.v.authentic_timestamp, code)
}

fn empty_report(statement: &Statement) -> SignatureReport {
    let pending = |c| Validation::pending(statement.action(c));
    SignatureReport {
        manifest_digest: String::new(),
        subject_digest: String::new(),
        envelope_type: None,
        signing_scheme: None,
        signer: None,
        chain_fingerprints: Vec::new(),
        anchor: None,
        signing_time: None,
        timestamp: None,
        expiry: None,
        revocation: None,
        validations: Validations {
            integrity: Validation::pending(Action::Enforce),
            authenticity: pending(Check::Authenticity),
            authentic_timestamp: pending(Check::AuthenticTimestamp),
            expiry: pending(Check::Expiry),
            revocation: pending(Check::Revocation),
        },
        verdict: Verdict::Fail,
        failure: None,
        warnings: Vec::new(),
    }
}

/// The signature outcome of one image.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSignatures {
    /// The image digest.
    pub digest: String,
    /// The registry scope matched.
    pub scope: Option<String>,
    /// The trust-policy statement applied.
    pub policy: Option<PolicyRef>,
    /// Every signature evaluated.
    pub signatures: Vec<SignatureReport>,
    /// `pass` or `fail`.
    pub verdict: Verdict,
    /// Why it failed.
    pub failure: Option<SignatureFailure>,
    /// Problems that did not decide the verdict (a failing signature of a platform manifest whose
    /// index verified).
    pub warnings: Vec<SignatureFailure>,
}

/// The statement applied to an image.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyRef {
    /// Statement name.
    pub name: String,
    /// Its level.
    pub level: &'static str,
}

/// The repository of a reference: `registry/repo:tag` or `registry/repo@digest` -> `registry/repo`.
/// `None` when the reference names no repository (a bare tag such as `v1`).
pub fn scope_of(reference: &str) -> Option<String> {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let last_slash = without_digest.rfind('/')?;
    let tail = without_digest.get(last_slash..).unwrap_or("");
    let repo = match tail.rfind(':') {
        Some(i) => without_digest
            .get(..last_slash + i)
            .unwrap_or(without_digest),
        None => without_digest,
    };
    Some(repo.to_owned())
}

/// Finds the Notary signatures of `target` among `index.json` entries and referrers tag indexes.
fn signatures_of(target: &Target, entries: &[Descriptor], integrity: &Integrity) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::new();
    let consider = |desc: &Descriptor, out: &mut Vec<Digest>| {
        let Ok(d) = Digest::parse(&desc.digest) else {
            return;
        };
        let Some(doc) = integrity.documents.get(&d) else {
            return;
        };
        let Some(subject) = &doc.subject else { return };
        let same = subject.digest == target.digest
            && subject.size == target.size
            && subject.media_type() == target.media_type;
        // SPEC-NOTES §1.1: `artifactType` with the empty-JSON config, or (the form every released
        // notation writes) no `artifactType` and the config media type naming the signature.
        let config_mt = doc
            .config
            .as_ref()
            .map(Descriptor::media_type)
            .unwrap_or("");
        let is_signature = match doc.artifact_type.as_deref() {
            Some(t) => t == NOTARY_SIGNATURE && config_mt == EMPTY_JSON,
            None => config_mt == NOTARY_SIGNATURE,
        };
        if same && is_signature && !out.contains(&d) {
            out.push(d);
        }
    };
    for e in entries {
        consider(e, &mut out);
    }
    let tag = referrers_tag_of(&target.digest);
    for e in entries
        .iter()
        .filter(|e| tag.is_some() && e.annotations.get(model::REF_NAME) == tag.as_ref())
    {
        if let Some(doc) = Digest::parse(&e.digest)
            .ok()
            .and_then(|d| integrity.documents.get(&d))
        {
            for m in doc.manifests.iter().flatten() {
                consider(m, &mut out);
            }
        }
    }
    out
}

/// Erratum 8: a signature manifest notation could not use aborts the verification of its subject
/// (rather than being one failing signature among others).
fn malformed_signature(sig: &Digest, cat: &Catalog, integrity: &Integrity) -> Option<String> {
    let Some(doc) = integrity.documents.get(sig) else {
        return Some(format!(
            "signature manifest {} was not readable",
            blob_name(sig)
        ));
    };
    if let Some(size) = cat.blobs.get(sig).map(|b| b.size) {
        if size > MAX_SIGNATURE_MANIFEST {
            return Some(format!(
                "signature manifest {sig} is {size} bytes, over the {MAX_SIGNATURE_MANIFEST} byte limit"
            ));
        }
    }
    let mt = doc.media_type.as_deref().unwrap_or(model::OCI_MANIFEST);
    let layers = match mt {
        model::OCI_MANIFEST => doc.layers.as_deref(),
        model::OCI_ARTIFACT_MANIFEST => doc.blobs.as_deref(),
        other => {
            return Some(format!(
            "signature manifest {sig} has media type {other:?}, not an image or artifact manifest"
        ))
        }
    }
    .unwrap_or(&[]);
    let [layer] = layers else {
        return Some(format!(
            "signature manifest {sig} has {} layers, expected exactly one envelope",
            layers.len()
        ));
    };
    if layer.size > MAX_ENVELOPE {
        return Some(format!(
            "envelope of {sig} is {} bytes, over the {MAX_ENVELOPE} byte limit",
            layer.size
        ));
    }
    None
}

fn envelope_of<'a>(
    sig: &Digest,
    cat: &'a Catalog,
    integrity: &Integrity,
) -> Result<(String, &'a [u8]), String> {
    let doc: &Document = integrity
        .documents
        .get(sig)
        .ok_or("signature manifest was not readable")?;
    let layer = doc
        .layers
        .iter()
        .chain(doc.blobs.iter())
        .flatten()
        .next()
        .ok_or("signature manifest has no envelope")?;
    let d = Digest::parse(&layer.digest).map_err(|e| e.to_string())?;
    if integrity.failed.contains(&d) || integrity.failed.contains(sig) {
        return Err(format!(
            "envelope {} failed the integrity stage",
            blob_name(&d)
        ));
    }
    match cat.blobs.get(&d).map(|b| &b.content) {
        Some(Content::Json(b)) | Some(Content::Bytes(b)) => Ok((layer.media_type().to_owned(), b)),
        Some(_) => Err("envelope is larger than the limit kept in memory".into()),
        None => Err("envelope blob is missing".into()),
    }
}

/// The outcome of one target (a manifest or index) under its own signatures.
struct TargetOutcome {
    /// It had at least one signature.
    signed: bool,
    /// One of its signatures passed (and none was malformed).
    passed: bool,
    /// Why it did not pass.
    failure: Option<SignatureFailure>,
}

/// Verifies the signatures of one target: it passes when one of them passes (at most
/// [`MAX_SIGNATURES_PER_TARGET`] tried); a malformed signature manifest aborts it (erratum 8).
fn verify_target(
    target: &Target,
    ctx: &Ctx<'_>,
    statement: &Statement,
    stores: &mut StoreCache,
    reports: &mut Vec<SignatureReport>,
) -> TargetOutcome {
    let sigs = signatures_of(target, ctx.entries, ctx.integrity);
    let tried: Vec<&Digest> = sigs.iter().take(MAX_SIGNATURES_PER_TARGET).collect();
    if let Some(problem) = tried
        .iter()
        .find_map(|sig| malformed_signature(sig, ctx.cat, ctx.integrity))
    {
        return TargetOutcome {
            signed: true,
            passed: false,
            failure: Some(SignatureFailure {
                code: Code::SignatureManifestInvalid,
                message: format!("verification of {} aborted: {problem}", target.digest),
            }),
        };
    }
    let mut passed = false;
    let mut best: Option<SignatureFailure> = None;
    for sig in tried {
        let mut r = match envelope_of(sig, ctx.cat, ctx.integrity) {
            Ok((mt, bytes)) => evaluate(&mt, bytes, target, statement, stores, ctx.inputs),
            Err(msg) => {
                let mut r = evaluate("", b"", target, statement, stores, ctx.inputs);
                r.validations.integrity.reason = Some(msg.clone());
                r.failure = Some(SignatureFailure {
                    code: Code::SignatureIntegrity,
                    message: msg,
                });
                r
            }
        };
        r.manifest_digest = sig.to_string();
        if r.verdict == Verdict::Pass {
            passed = true;
        } else if let Some(f) = &r.failure {
            if best.as_ref().is_none_or(|b| f.code.rank() > b.code.rank()) {
                best = Some(f.clone());
            }
        }
        reports.push(r);
    }
    let failure = if sigs.is_empty() {
        Some(SignatureFailure {
            code: Code::NoSignature,
            message: format!("no signature is associated with {}", target.digest),
        })
    } else if passed {
        None
    } else {
        best.map(|b| SignatureFailure {
            code: b.code,
            message: format!("no signature of {} verified: {}", target.digest, b.message),
        })
    };
    TargetOutcome {
        signed: !sigs.is_empty(),
        passed,
        failure,
    }
}

/// SHA-256 fingerprints of every certificate in every Notary signature envelope the bundle holds
/// (for telling a mistaken `--pin` apart from a mismatching one).
pub fn envelope_fingerprints(cat: &Catalog, integrity: &Integrity) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (d, doc) in &integrity.documents {
        if doc.subject.is_none() || doc.effective_artifact_type() != Some(NOTARY_SIGNATURE) {
            continue;
        }
        let Ok((mt, bytes)) = envelope_of(d, cat, integrity) else {
            continue;
        };
        if let Ok(env) = Envelope::parse(&mt, bytes) {
            out.extend(
                env.certificate_chain()
                    .iter()
                    .map(|c| Digest::sha256(c).to_string()),
            );
        }
    }
    out
}

/// What every image is verified with.
struct Ctx<'a> {
    cat: &'a Catalog,
    integrity: &'a Integrity,
    entries: &'a [Descriptor],
    inputs: &'a TrustInputs,
}

/// The name an image is judged under: in pinned mode, the export record's, and only when the record
/// gives this digest that name.
fn name_of(
    image: &super::integrity::ImageInfo,
    entries: &[Descriptor],
    names: &Names,
) -> Result<Option<String>, String> {
    match names {
        Names::Annotations => Ok(image.reference.clone()),
        Names::Record(sources) => {
            let found = sources.iter().find(|(reference, digest)| {
                digest == &image.digest && image.reference.as_deref() == Some(reference.as_str())
            });
            // Every name annotation the entry carries must be the record's name: tools that read
            // `org.opencontainers.image.ref.name` must not see another name than the one verified.
            let entry = entries
                .iter()
                .find(|e| e.digest == image.digest && e.reference() == image.reference.as_deref());
            if let (Some((reference, _)), Some(e)) = (found, entry) {
                for key in [model::REF_NAME, model::CONTAINERD_NAME] {
                    if let Some(other) = e.annotations.get(key).filter(|v| *v != reference) {
                        return Err(format!(
                            "image {reference} ({}) also carries the name {other:?} ({key}), which the pinned export record does not give it",
                            image.digest
                        ));
                    }
                }
            }
            match found {
                Some((reference, _)) => Ok(Some(reference.clone())),
                None => {
                    let known: Vec<&str> = sources
                        .iter()
                        .filter(|(_, d)| d == &image.digest)
                        .map(|(r, _)| r.as_str())
                        .collect();
                    Err(format!(
                        "image {} ({}) is not in the pinned export record{}",
                        image.reference.as_deref().unwrap_or("(unnamed)"),
                        image.digest,
                        if known.is_empty() {
                            ": no exported image has this digest".to_string()
                        } else {
                            format!(": this digest was exported as {}", known.join(", "))
                        }
                    ))
                }
            }
        }
    }
}

/// Verifies the signatures of every image `integrity` describes (SPEC-NOTES erratum 18): an image
/// is the manifest or index its reference resolves to, and passes when one of its signatures
/// passes. Signatures of platform manifests of a signed index are reported, and a failing one is a
/// warning, not a failure (the index digest commits to its children). An index without signatures
/// passes only when every platform manifest it carries passes by its own signatures.
pub fn verify_images(
    cat: &Catalog,
    integrity: &Integrity,
    inputs: &TrustInputs,
    stores: &mut StoreCache,
) -> Vec<ImageSignatures> {
    let entries: Vec<Descriptor> = cat
        .index_json
        .as_ref()
        .and_then(|s| s.bytes())
        .and_then(|b| Document::parse(b).ok())
        .and_then(|d| d.manifests)
        .unwrap_or_default();
    let ctx = Ctx {
        cat,
        integrity,
        entries: &entries,
        inputs,
    };
    let mut out = Vec::new();
    for image in &integrity.images {
        let mut res = ImageSignatures {
            digest: image.digest.clone(),
            scope: None,
            policy: None,
            signatures: Vec::new(),
            verdict: Verdict::Fail,
            failure: None,
            warnings: Vec::new(),
        };
        let name = match name_of(image, &entries, &inputs.names) {
            Ok(n) => n,
            Err(message) => {
                res.failure = Some(SignatureFailure {
                    code: Code::NotInExportRecord,
                    message,
                });
                out.push(res);
                continue;
            }
        };
        let scope = inputs
            .scope
            .clone()
            .or_else(|| name.as_deref().and_then(scope_of));
        let Some(scope) = scope else {
            res.failure = Some(SignatureFailure {
                code: Code::ScopeUnknown,
                message: format!(
                    "image {:?} records no repository to match the trust policy's registryScopes: pass --scope",
                    image.reference.as_deref().unwrap_or(&image.digest)
                ),
            });
            out.push(res);
            continue;
        };
        res.scope = Some(scope.clone());
        let statement = match inputs.policy.statement_for(&scope) {
            Ok(s) => s,
            Err(e) => {
                res.failure = Some(SignatureFailure {
                    code: Code::from(&e),
                    message: e.to_string(),
                });
                out.push(res);
                continue;
            }
        };
        res.policy = Some(PolicyRef {
            name: statement.name().to_owned(),
            level: statement.level().as_str(),
        });
        if statement.is_skip() {
            res.verdict = Verdict::Pass;
            out.push(res);
            continue;
        }
        let Some(top) = entries.iter().find(|e| e.digest == image.digest) else {
            out.push(res);
            continue;
        };
        let top_target = Target {
            media_type: top.media_type().to_owned(),
            digest: top.digest.clone(),
            size: top.size,
        };
        // Platform manifests the bundle carries (those `--platform` left out are not judged).
        let children: Vec<Target> = Digest::parse(&top.digest)
            .ok()
            .and_then(|d| integrity.documents.get(&d))
            .map(|doc| {
                doc.manifests
                    .iter()
                    .flatten()
                    .filter(|m| Digest::parse(&m.digest).is_ok_and(|d| cat.blobs.contains_key(&d)))
                    .map(|m| Target {
                        media_type: m.media_type().to_owned(),
                        digest: m.digest.clone(),
                        size: m.size,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let top_outcome = verify_target(&top_target, &ctx, statement, stores, &mut res.signatures);
        let mut failure = None;
        if top_outcome.signed {
            failure = top_outcome.failure;
            for child in &children {
                let o = verify_target(child, &ctx, statement, stores, &mut res.signatures);
                if o.signed && !o.passed {
                    if let Some(f) = o.failure {
                        res.warnings.push(SignatureFailure {
                            code: f.code,
                            message: format!(
                                "platform manifest {} of a verified index: {}",
                                child.digest, f.message
                            ),
                        });
                    }
                }
            }
        } else if children.is_empty() {
            failure = top_outcome.failure;
        } else {
            // An unsigned index: each platform manifest is judged by its own signatures.
            for child in &children {
                let o = verify_target(child, &ctx, statement, stores, &mut res.signatures);
                if !o.passed && failure.is_none() {
                    failure = o.failure.map(|f| SignatureFailure {
                        code: f.code,
                        message: format!(
                            "index {} has no signature, and its platform manifest {}: {}",
                            top.digest, child.digest, f.message
                        ),
                    });
                }
            }
        }
        match failure {
            None if top_outcome.passed || !children.is_empty() => res.verdict = Verdict::Pass,
            None => {
                res.failure = Some(SignatureFailure {
                    code: Code::NoSignature,
                    message: "no signature verified".into(),
                })
            }
            Some(f) => res.failure = Some(f),
        }
        out.push(res);
    }
    out
}

/// Signature warnings and failures by image, for the report's flat lists.
pub fn summarize(images: &[ImageSignatures]) -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    for i in images {
        let msgs: Vec<String> = i
            .signatures
            .iter()
            .flat_map(|s| {
                s.warnings
                    .iter()
                    .map(|w| format!("{}: {}", w.code, w.message))
            })
            .collect();
        m.insert(i.digest.clone(), msgs);
    }
    m
}
