//! The per-signature validations, in the specification's order: integrity, authenticity (and
//! trusted identity), expiry, authentic timestamp, revocation, user metadata; each under the
//! statement's enforce / log / skip action.

use crate::digest::Digest;
use crate::finding::Code;
use crate::notary::chain::ValidatedChain;
use crate::notary::envelope::{Envelope, SigningScheme};
use crate::notary::payload::Payload;
use crate::notary::policy::{Action, Check, Statement};
use crate::notary::revocation::Overall;
use crate::notary::truststore::StoreType;
use crate::notary::verify_time::{self, TimestampPolicy, Trusted};

use super::{
    rfc3339, SignatureFailure, SignatureReport, Signer, StoreCache, Target, TimestampReport,
    TrustInputs, Validation, Validations,
};
use super::{Outcome, Verdict};

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

/// The validations in the specification's order; each stops the evaluation on an enforced failure.
fn run(
    ev: &mut Eval<'_>,
    report: &mut SignatureReport,
    media_type: &str,
    bytes: &[u8],
    target: &Target,
    stores: &mut StoreCache,
    inputs: &TrustInputs,
) {
    let Some((env, chain, payload)) = integrity(ev, report, media_type, bytes, target) else {
        return;
    };
    report.user_metadata = payload.target_artifact.annotations.clone();
    if authenticity(ev, report, &env, &chain, stores)
        || expiry(ev, &env, inputs.at)
        || authentic_timestamp(ev, report, &env, &chain, stores, inputs)
        || revocation(ev, report, &env, &chain, inputs)
    {
        return;
    }
    user_metadata(ev, &payload, inputs);
}

/// Step 1, integrity: the envelope, its signature over the exact bytes, the certificate rules, the
/// payload's target. `None` when it failed (integrity is enforced at every level).
fn integrity(
    ev: &mut Eval<'_>,
    report: &mut SignatureReport,
    media_type: &str,
    bytes: &[u8],
    target: &Target,
) -> Option<(Envelope, ValidatedChain, Payload)> {
    let env = match Envelope::parse(media_type, bytes) {
        Ok(e) => e,
        Err(e) => {
            ev.fail(
                Check::Integrity,
                Outcome::Fail,
                Code::from(&e),
                format!("envelope: {e}"),
            );
            return None;
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
            return None;
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
            return None;
        }
    };
    if let Err(e) = payload.check_descriptor(&target.media_type, &target.digest, target.size) {
        ev.fatal(Code::PayloadMismatch, format!("{e}"));
        return None;
    }
    ev.pass(Check::Integrity);

    Some((env, chain, payload))
}

/// Step 2, authenticity: a chain certificate equal to one in a store of the scheme's type, and a
/// trusted identity. Returns `true` when an enforced failure stops the evaluation.
fn authenticity(
    ev: &mut Eval<'_>,
    report: &mut SignatureReport,
    env: &Envelope,
    chain: &ValidatedChain,
    stores: &mut StoreCache,
) -> bool {
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
                    return true;
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
                            return true;
                        }
                    }
                    Some(Err(e)) => {
                        if ev.fail(
                            Check::Authenticity,
                            Outcome::Fail,
                            Code::TrustedIdentity,
                            format!("signer subject: {e}"),
                        ) {
                            return true;
                        }
                    }
                }
            }
        }
    }

    false
}

/// Step 3, expiry (`io.cncf.notary.expiry`). Returns `true` when an enforced failure stops the
/// evaluation.
fn expiry(ev: &mut Eval<'_>, env: &Envelope, at: i64) -> bool {
    if ev.statement.action(Check::Expiry) != Action::Skip {
        match env.check_expiry(at) {
            Ok(()) => ev.pass(Check::Expiry),
            Err(e) => {
                if ev.fail(
                    Check::Expiry,
                    Outcome::Fail,
                    Code::SignatureExpired,
                    format!("{e}"),
                ) {
                    return true;
                }
            }
        }
    }

    false
}

/// Step 4, the authentic timestamp (SPEC-NOTES §6.3). Returns `true` when an enforced failure
/// stops the evaluation.
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

/// Step 5, revocation of the signing chain. Returns `true` when an enforced failure stops the
/// evaluation.
fn revocation(
    ev: &mut Eval<'_>,
    report: &mut SignatureReport,
    env: &Envelope,
    chain: &ValidatedChain,
    inputs: &TrustInputs,
) -> bool {
    if ev.statement.action(Check::Revocation) != Action::Skip {
        let status = verify_time::signing_chain_revocation(env, chain, &inputs.crls, inputs.at);
        let overall = status.overall();
        report.revocation = Some(status);
        match overall {
            Overall::Ok => ev.pass(Check::Revocation),
            Overall::Revoked(msg) => {
                if ev.fail(Check::Revocation, Outcome::Fail, Code::Revoked, msg) {
                    return true;
                }
            }
            Overall::Unknown(msg) => {
                if ev.fail(
                    Check::Revocation,
                    Outcome::Unknown,
                    Code::RevocationUnknown,
                    msg,
                ) {
                    return true;
                }
            }
        }
    }

    false
}

/// Step 6, user metadata (`--user-metadata`): fatal at every level.
fn user_metadata(ev: &mut Eval<'_>, payload: &Payload, inputs: &TrustInputs) {
    if let Err(e) = payload.check_user_metadata(&inputs.user_metadata) {
        ev.fatal(Code::UserMetadata, format!("{e}"));
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
        user_metadata: std::collections::BTreeMap::new(),
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
