//! The export signature (issue 15, item 1): a Notary signature whose subject is the bundle's
//! trust artifact, made by `export --sign-key`. It is found and evaluated as an image signature is
//! (same discovery, same per-signature evaluation), under the trust-policy statement for the
//! reserved scope [`EXPORT_SCOPE`]: a statement that covers the scope (by name, or `*`) makes a
//! failing export signature a failure; without one it is not evaluated and is a warning.

use serde::Serialize;

use crate::finding::Code;
use crate::layout::model::{Descriptor, AIRLOCK_TRUST};
use crate::layout::Catalog;

use super::super::integrity::Integrity;
use super::decide::{verify_target, Ctx};
use super::discover::signatures_of;
use super::{
    PolicyRef, SignatureFailure, SignatureReport, StoreCache, Target, TrustInputs, Verdict,
};

/// The registry scope an export signature is matched under: the trust artifact is not an image in
/// a repository.
pub const EXPORT_SCOPE: &str = "airlock/export";

/// Who exported the bundle, as its signatures say.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedBy {
    /// The trust artifact's digest (the signatures' subject).
    pub artifact: String,
    /// [`EXPORT_SCOPE`].
    pub scope: &'static str,
    /// The statement applied; `null` when no statement covers the scope (not evaluated).
    pub policy: Option<PolicyRef>,
    /// Every export signature evaluated (signer subject, chain fingerprints, signing time, each
    /// validation); empty when none was evaluated.
    pub signatures: Vec<SignatureReport>,
    /// `pass` when one export signature verified; `fail` otherwise (a failure only when a
    /// statement covers the scope).
    pub verdict: Verdict,
    /// Why it failed (or was not evaluated).
    pub failure: Option<SignatureFailure>,
}

impl ExportedBy {
    /// True when the result is a failure of the verification (a statement covers the scope and
    /// no export signature verified).
    pub fn is_failure(&self) -> bool {
        self.policy.is_some() && self.verdict == Verdict::Fail
    }
}

/// No export signature at hand: a failure (`no_signature`) when the trust policy has a statement
/// naming [`EXPORT_SCOPE`] itself (not `*`) at a level other than `skip`: whoever wrote it requires
/// signed exports, and a carrier must not satisfy it by stripping the signature. Otherwise
/// nothing to report.
fn required_but_absent(inputs: &TrustInputs, artifact: Option<&str>) -> Option<ExportedBy> {
    // The statement that judges export signatures, found as for any scope: a statement naming
    // `AIRLOCK/export` or `airlock:443/export` is the one applied, so it requires one too (red
    // team J, J9: an exact comparison here let a carrier strip the signature under such a policy).
    let statement = inputs
        .policy
        .statement_for(EXPORT_SCOPE)
        .ok()
        .filter(|st| !st.is_global() && !st.is_skip())?;
    let what = match artifact {
        Some(a) => format!("trust artifact {a} carries no export signature"),
        None => "the bundle carries no trust artifact, so no export signature".to_owned(),
    };
    Some(ExportedBy {
        artifact: artifact.unwrap_or_default().to_owned(),
        scope: EXPORT_SCOPE,
        policy: Some(PolicyRef {
            name: statement.name().to_owned(),
            level: statement.level().as_str(),
        }),
        signatures: Vec::new(),
        verdict: Verdict::Fail,
        failure: Some(SignatureFailure {
            code: Code::NoSignature,
            message: format!(
                "{what}, and the trust policy statement {:?} requires one for {EXPORT_SCOPE}",
                statement.name()
            ),
        }),
    })
}

/// The export signatures of the trust artifact(s) `index.json` lists (only of `artifact` when
/// given: in pinned mode, the pinned one, so that another artifact's signature is never reported
/// as the exporter's); `None` when no such trust artifact is signed.
pub fn verify_export(
    cat: &Catalog,
    integrity: &Integrity,
    entries: &[Descriptor],
    inputs: &TrustInputs,
    stores: &mut StoreCache,
    artifact: Option<&str>,
) -> Option<ExportedBy> {
    let listed: Vec<&Descriptor> = entries
        .iter()
        .filter(|e| e.artifact_type.as_deref() == Some(AIRLOCK_TRUST))
        .filter(|e| artifact.is_none_or(|a| e.digest == a))
        .collect();
    let found = listed
        .iter()
        .map(|e| Target {
            media_type: e.media_type().to_owned(),
            digest: e.digest.clone(),
            size: e.size,
        })
        .map(|t| {
            let sigs = signatures_of(&t, entries, integrity);
            (t, sigs)
        })
        .find(|(_, sigs)| !sigs.is_empty());
    let Some((target, sigs)) = found else {
        return required_but_absent(
            inputs,
            artifact.or(listed.first().map(|e| e.digest.as_str())),
        );
    };
    let mut out = ExportedBy {
        artifact: target.digest.clone(),
        scope: EXPORT_SCOPE,
        policy: None,
        signatures: Vec::new(),
        verdict: Verdict::Fail,
        failure: None,
    };
    let statement = match inputs.policy.statement_for(EXPORT_SCOPE) {
        Ok(s) => s,
        Err(e) => {
            out.failure = Some(SignatureFailure {
                code: Code::from(&e),
                message: format!(
                    "{} export signature(s) of trust artifact {} not verified: {e}",
                    sigs.len(),
                    target.digest
                ),
            });
            return Some(out);
        }
    };
    out.policy = Some(PolicyRef {
        name: statement.name().to_owned(),
        level: statement.level().as_str(),
    });
    if statement.is_skip() {
        out.verdict = Verdict::Pass;
        return Some(out);
    }
    let ctx = Ctx {
        cat,
        integrity,
        entries,
        inputs,
        evaluated: Default::default(),
    };
    let outcome = verify_target(&target, &ctx, statement, stores, &mut out.signatures);
    if outcome.passed {
        match uncovered(cat, &target, integrity) {
            None => out.verdict = Verdict::Pass,
            Some(message) => {
                out.failure = Some(SignatureFailure {
                    code: Code::NotInExportRecord,
                    message,
                })
            }
        }
    } else {
        out.failure = outcome.failure.map(|f| SignatureFailure {
            code: f.code,
            message: format!("export signature: {}", f.message),
        });
    }
    Some(out)
}

/// Why the export signature of `artifact` does not vouch for the bundle: an image the bundle
/// carries (under the name it carries) that the signed export record does not list. A signed
/// record says what was exported; replayed beside other images, it says nothing about them.
/// `None` when the record lists every image.
fn uncovered(cat: &Catalog, artifact: &Target, integrity: &Integrity) -> Option<String> {
    let record = match crate::trust_artifact::read_artifact(
        cat,
        &artifact.digest,
        Some(artifact.size),
        true,
    ) {
        Ok(b) => b.record?,
        Err(e) => return Some(format!("the signed trust artifact cannot be read: {e}")),
    };
    integrity
        .images
        .iter()
        .find(|im| {
            !record.sources.iter().any(|s| {
                s.digest == im.digest && im.reference.as_deref() == Some(s.reference.as_str())
            })
        })
        .map(|im| {
            format!(
                "the signed export record of trust artifact {} does not list image {} ({}): the export signature does not vouch for it",
                artifact.digest,
                im.reference.as_deref().unwrap_or("(unnamed)"),
                im.digest
            )
        })
}
