//! The one path validator, after webpki's `verify_cert.rs`: one [`Budget`] (longest path, most
//! signature checks), one result type [`VerifiedPath`] that only this module constructs.
//!
//! * [`verify_ordered`] validates a chain in the order given, leaf first, ending in a self-signed
//!   root (notation-core-go `ValidateCodeSigningCertChain`: no path building; `cert[i]` issued by
//!   `cert[i+1]`, names byte-equal; no certificate before the last self-signed; a single
//!   certificate must be self-signed and self-issued and meet the leaf rules).
//! * [`build`] builds a path depth-first from a leaf through a bag of certificates to a trust
//!   anchor, anchors tried first, at one instant (Go's `x509.Verify` as tspclient-go calls it,
//!   SPEC-NOTES errata 1), and validates each complete candidate with the same rules; the most
//!   specific failure is reported when no candidate passes (webpki `Error::rank`).
//!
//! Both use the per-certificate rules of [`super::rules`] with the path's [`Purpose`]: extension
//! rules on every certificate, the leaf role on the first, [`Role::Ca`] on the others.

use super::cert::Certificate;
use super::rules::{self, Purpose, Role, Violation};
use super::{CertError, Rule};
use crate::notary::crypto::{CryptoError, PublicKeyKind};
use crate::notary::time::Instant;

/// The budget of one path validation (webpki `Budget`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    max_chain_len: usize,
    signatures_left: usize,
    signature_limit: usize,
}

/// The signature-check budget ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetExceeded {
    /// The limit that was reached.
    pub limit: usize,
}

impl Budget {
    /// At most `max_chain_len` certificates per path (leaf and anchor included) and
    /// `max_signature_checks` signature verifications in all.
    pub fn new(max_chain_len: usize, max_signature_checks: usize) -> Self {
        Self {
            max_chain_len,
            signatures_left: max_signature_checks,
            signature_limit: max_signature_checks,
        }
    }

    /// The longest path allowed.
    pub fn max_chain_len(&self) -> usize {
        self.max_chain_len
    }

    /// Spends one signature check.
    pub fn take_signature(&mut self) -> Result<(), BudgetExceeded> {
        self.signatures_left = self.signatures_left.checked_sub(1).ok_or(BudgetExceeded {
            limit: self.signature_limit,
        })?;
        Ok(())
    }

    /// A given chain of `len` certificates fits: 1 to [`Budget::max_chain_len`].
    pub fn check_length(&self, len: usize) -> Result<(), CertError> {
        if len == 0 {
            return Err(CertError::new(
                0,
                Rule::Empty,
                "certificate chain must contain at least one certificate",
            ));
        }
        if len > self.max_chain_len {
            return Err(CertError::new(
                self.max_chain_len,
                Rule::TooLong,
                format!(
                    "certificate chain has {len} certificates; the limit is {}",
                    self.max_chain_len
                ),
            ));
        }
        Ok(())
    }
}

/// A certificate path that passed every rule of its purpose: leaf first, the self-signed root (the
/// trust anchor, for a built path) last. Only [`verify_ordered`] and [`build`] make one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPath {
    certs: Vec<Certificate>,
    purpose: Purpose,
}

impl VerifiedPath {
    pub(in crate::notary::x509) fn new(certs: Vec<Certificate>, purpose: Purpose) -> Self {
        Self { certs, purpose }
    }

    /// The certificates, leaf first.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certs
    }

    /// The leaf (never absent: a path holds at least one certificate).
    pub fn leaf(&self) -> Option<&Certificate> {
        self.certs.first()
    }

    /// What the path was validated for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// Checks every certificate's validity period at `when` (see [`ValidityTime`]). Returns the
    /// first failing index.
    pub fn check_validity(&self, when: ValidityTime) -> Result<(), CertError> {
        check_validity(&self.certs, when)
    }
}

/// The instant or range at which certificate validity periods are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidityTime {
    /// Every certificate must satisfy `notBefore <= t <= notAfter`.
    At(i64),
    /// Every certificate must satisfy `notBefore <= lower` and `upper <= notAfter`
    /// (RFC 3161 `genTime ± accuracy`).
    Range {
        /// Earliest possible signing instant.
        lower: i64,
        /// Latest possible signing instant.
        upper: i64,
    },
}

/// Checks the validity period of every certificate at `when` (inclusive bounds).
pub fn check_validity(certs: &[Certificate], when: ValidityTime) -> Result<(), CertError> {
    let (lower, upper) = match when {
        ValidityTime::At(t) => (t, t),
        ValidityTime::Range { lower, upper } => {
            if lower > upper {
                return Err(CertError::new(
                    0,
                    Rule::InvalidTimeInput,
                    format!("lower bound {lower} is after upper bound {upper}"),
                ));
            }
            (lower, upper)
        }
    };
    for (i, c) in certs.iter().enumerate() {
        rules::check_validity(c, Instant::from_secs(lower), Instant::from_secs(upper))
            .map_err(|v| at(i, v))?;
    }
    Ok(())
}

fn at(index: usize, v: Violation) -> CertError {
    CertError::new(index, v.rule, v.detail)
}

fn leaf_role(purpose: Purpose) -> Role {
    match purpose {
        Purpose::CodeSigning => Role::CodeSigningLeaf,
        Purpose::Timestamping => Role::TimestampingLeaf,
    }
}

/// Validates the chain `ders` (leaf first) in the order given, for `purpose`. Validity periods
/// are *not* checked (see [`VerifiedPath::check_validity`]).
pub fn verify_ordered<B: AsRef<[u8]>>(
    ders: &[B],
    purpose: Purpose,
    budget: &mut Budget,
) -> Result<VerifiedPath, CertError> {
    budget.check_length(ders.len())?;
    let mut certs = Vec::with_capacity(ders.len());
    for (i, der) in ders.iter().enumerate() {
        let cert = Certificate::from_der(der.as_ref())
            .map_err(|e| CertError::new(i, Rule::Malformed, format!("invalid certificate: {e}")))?;
        rules::check_extensions(&cert, purpose).map_err(|v| at(i, v))?;
        certs.push(cert);
    }
    // Algorithm sanity first, so that a SHA-1 certificate is reported as such wherever it is.
    for (i, c) in certs.iter().enumerate() {
        rules::check_signature_algorithm(c).map_err(|v| at(i, v))?;
    }
    let mut spend = |i: usize| {
        budget.take_signature().map_err(|e| {
            CertError::new(
                i,
                Rule::TooManySignatureChecks,
                format!("more than {} signature checks", e.limit),
            )
        })
    };

    if let [only] = certs.as_slice() {
        spend(0)?;
        only.verify_signed_by(only).map_err(|e| {
            let rule = match e {
                CryptoError::BadSignature | CryptoError::AlgorithmKeyMismatch { .. } => {
                    Rule::NotSelfSigned
                }
                ref other => rules::crypto_rule(other),
            };
            CertError::new(0, rule, format!("invalid self-signed certificate: {e}"))
        })?;
        if !only.is_self_issued() {
            return Err(CertError::new(
                0,
                Rule::NotSelfIssued,
                "issuer and subject of the self-signed certificate differ",
            ));
        }
        rules::check(only, leaf_role(purpose)).map_err(|v| at(0, v))?;
        return Ok(VerifiedPath::new(certs, purpose));
    }

    let last = certs.len().saturating_sub(1);
    for (i, cert) in certs.iter().enumerate() {
        // Self-signed: names equal (cheap) and the signature verifies under the own key.
        let self_signed = cert.is_self_issued() && {
            spend(i)?;
            cert.verify_signed_by(cert).is_ok()
        };
        if i == last {
            if !self_signed {
                return Err(CertError::new(
                    i,
                    Rule::RootNotSelfSigned,
                    format!(
                        "root certificate {:?} is not self-signed; the chain must end with a self-signed root",
                        cert.subject_string()
                    ),
                ));
            }
        } else {
            if self_signed {
                let rule = if i == 0 {
                    Rule::LeafSelfSigned
                } else {
                    Rule::IntermediateSelfSigned
                };
                return Err(CertError::new(
                    i,
                    rule,
                    format!("certificate {:?} is self-signed", cert.subject_string()),
                ));
            }
            let parent = certs
                .get(i.saturating_add(1))
                .ok_or_else(|| CertError::new(i, Rule::NotSignedByNext, "no next certificate"))?;
            spend(i)?;
            cert.verify_signed_by(parent).map_err(|e| {
                // A CA key too small to verify with is that CA's fault, said as such (red team
                // M, M05: "not signed by" sent the operator looking for a wrong chain).
                if let Ok(PublicKeyKind::Rsa { bits }) = parent.public_key() {
                    if bits < 2048 {
                        return CertError::new(
                            i.saturating_add(1),
                            Rule::UnsupportedKey,
                            format!(
                                "certificate {:?}: CA key RSA {bits} is too small",
                                parent.subject_string()
                            ),
                        );
                    }
                }
                CertError::new(
                    i,
                    rules::crypto_rule(&e),
                    format!(
                        "certificate {:?} is not signed by {:?}: {e}",
                        cert.subject_string(),
                        parent.subject_string()
                    ),
                )
            })?;
            if parent.subject_der() != cert.issuer_der() {
                return Err(CertError::new(
                    i,
                    Rule::IssuerNameMismatch,
                    format!(
                        "issuer of {:?} is not the subject of {:?}",
                        cert.subject_string(),
                        parent.subject_string()
                    ),
                ));
            }
        }
        let role = if i == 0 {
            leaf_role(purpose)
        } else {
            Role::Ca {
                purpose,
                cas_below: i.saturating_sub(1),
            }
        };
        rules::check(cert, role).map_err(|v| at(i, v))?;
    }
    Ok(VerifiedPath::new(certs, purpose))
}

/// Why [`build`] found no valid path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A candidate path reached a trust anchor but a certificate of it breaks a rule.
    Invalid {
        /// The offending certificate's subject (RFC 4514).
        subject: String,
        /// Its index in the candidate path, and the rule.
        error: CertError,
    },
    /// No candidate path reaches a trust anchor (Go: "certificate signed by unknown authority").
    Untrusted(String),
    /// The signature-check budget ran out. Fatal: the search stops.
    BudgetExceeded(BudgetExceeded),
}

impl BuildError {
    /// After webpki `Error::rank`: a path that reached an anchor and broke a rule says more than
    /// "no path".
    fn rank(&self) -> u8 {
        match self {
            Self::Invalid { .. } => 2,
            Self::Untrusted(_) => 1,
            Self::BudgetExceeded(_) => 0,
        }
    }
}

fn invalid(index: usize, cert: &Certificate, v: Violation) -> BuildError {
    BuildError::Invalid {
        subject: cert.subject_string(),
        error: at(index, v),
    }
}

fn note(best: &mut Option<BuildError>, e: BuildError) {
    if best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
        *best = Some(e);
    }
}

struct Builder<'c> {
    bag: &'c [Certificate],
    anchors: &'c [Certificate],
    at: Instant,
    purpose: Purpose,
}

/// Builds and validates a path from `leaf` through `bag` to one of `anchors` (certificates the
/// caller trusts; the path must end in one, and it must be a self-signed root), with every
/// certificate valid at `at`.
pub fn build(
    leaf: &Certificate,
    bag: &[Certificate],
    anchors: &[Certificate],
    at: Instant,
    purpose: Purpose,
    budget: &mut Budget,
) -> Result<VerifiedPath, BuildError> {
    let builder = Builder {
        bag,
        anchors,
        at,
        purpose,
    };
    let mut best = None;
    let mut path = vec![leaf];
    match builder.extend(&mut path, budget, &mut best)? {
        Some(found) => Ok(VerifiedPath::new(
            found.into_iter().cloned().collect(),
            purpose,
        )),
        None => Err(best.unwrap_or(BuildError::Untrusted(
            "no path to a trust anchor".to_owned(),
        ))),
    }
}

impl<'c> Builder<'c> {
    fn is_anchor(&self, cert: &Certificate) -> bool {
        self.anchors.iter().any(|a| a == cert)
    }

    /// Depth-first path building from `path`'s last certificate towards a trust anchor
    /// (anchors tried before bag certificates). `Err` is fatal (budget); `Ok(None)` means no
    /// valid path, with the most specific reason left in `best`.
    fn extend(
        &self,
        path: &mut Vec<&'c Certificate>,
        budget: &mut Budget,
        best: &mut Option<BuildError>,
    ) -> Result<Option<Vec<&'c Certificate>>, BuildError> {
        let Some(&current) = path.last() else {
            return Ok(None);
        };
        if self.is_anchor(current) {
            return self.complete(path, budget, best);
        }
        if path.len() >= budget.max_chain_len() {
            note(
                best,
                BuildError::Untrusted(format!(
                    "no path within {} certificates",
                    budget.max_chain_len()
                )),
            );
            return Ok(None);
        }
        let candidates = self.anchors.iter().map(|c| (c, true)).chain(
            self.bag
                .iter()
                .filter(|c| !self.is_anchor(c))
                .map(|c| (c, false)),
        );
        for (candidate, is_anchor) in candidates {
            if candidate.subject_der() != current.issuer_der() {
                continue;
            }
            // RFC 4158 §5.2 loop prevention: a certificate, or the same subject and key, may
            // appear only once in a path.
            if path.iter().any(|p| {
                *p == candidate
                    || (p.subject_der() == candidate.subject_der()
                        && p.spki_der() == candidate.spki_der())
            }) {
                continue;
            }
            budget
                .take_signature()
                .map_err(BuildError::BudgetExceeded)?;
            match current.verify_signed_by(candidate) {
                Ok(()) => {}
                Err(e @ CryptoError::WeakAlgorithm(_)) => {
                    let index = path.len().saturating_sub(1);
                    note(
                        best,
                        invalid(
                            index,
                            current,
                            Violation {
                                rule: Rule::WeakSignatureAlgorithm,
                                detail: format!("signature algorithm: {e}"),
                            },
                        ),
                    );
                    continue;
                }
                Err(e) => {
                    note(
                        best,
                        BuildError::Untrusted(format!(
                            "signature of {:?} does not verify with the key of {:?}: {e}",
                            current.subject_string(),
                            candidate.subject_string()
                        )),
                    );
                    continue;
                }
            }
            path.push(candidate);
            let found = if is_anchor {
                self.complete(path, budget, best)?
            } else {
                self.extend(path, budget, best)?
            };
            if found.is_some() {
                return Ok(found);
            }
            path.pop();
        }
        if best.is_none() {
            note(
                best,
                BuildError::Untrusted(format!(
                    "no issuer of {:?} found among the certificates at hand and the trust anchors",
                    current.subject_string()
                )),
            );
        }
        Ok(None)
    }

    fn complete(
        &self,
        path: &[&'c Certificate],
        budget: &mut Budget,
        best: &mut Option<BuildError>,
    ) -> Result<Option<Vec<&'c Certificate>>, BuildError> {
        match self.validate(path, budget) {
            Ok(()) => Ok(Some(path.to_vec())),
            Err(e @ BuildError::BudgetExceeded(_)) => Err(e),
            Err(e) => {
                note(best, e);
                Ok(None)
            }
        }
    }

    /// Whether `cert` is self-signed, spending the budget only when the names allow it.
    fn self_signed(
        index: usize,
        cert: &Certificate,
        budget: &mut Budget,
    ) -> Result<bool, BuildError> {
        if !cert.is_self_issued() {
            return Ok(false);
        }
        budget
            .take_signature()
            .map_err(BuildError::BudgetExceeded)?;
        match cert.verify_signed_by(cert) {
            Ok(()) => Ok(true),
            Err(e @ CryptoError::WeakAlgorithm(_)) => Err(invalid(
                index,
                cert,
                Violation {
                    rule: Rule::WeakSignatureAlgorithm,
                    detail: format!("signature algorithm: {e}"),
                },
            )),
            Err(_) => Ok(false),
        }
    }

    /// Full validation of a candidate path `[leaf, .., anchor]` at `self.at`, after Go's
    /// `x509.Verify` (errata 1) and notation-core-go `ValidateTimestampingCertChain` (§4.1, §4.2).
    fn validate(&self, path: &[&Certificate], budget: &mut Budget) -> Result<(), BuildError> {
        let (Some(&leaf), Some(&anchor)) = (path.first(), path.last()) else {
            return Err(BuildError::Untrusted("empty path".to_owned()));
        };
        for (i, cert) in path.iter().enumerate() {
            rules::check_validity(cert, self.at, self.at).map_err(|v| invalid(i, cert, v))?;
            rules::check_extensions(cert, self.purpose).map_err(|v| invalid(i, cert, v))?;
        }
        // The chain ends in a self-signed root; no other certificate is self-signed.
        let last = path.len().saturating_sub(1);
        if !Self::self_signed(last, anchor, budget)? {
            return Err(invalid(
                last,
                anchor,
                Violation {
                    rule: Rule::RootNotSelfSigned,
                    detail: "the trust anchor ending the chain is not a self-signed root"
                        .to_owned(),
                },
            ));
        }
        for (i, cert) in path.iter().enumerate().take(last) {
            if Self::self_signed(i, cert, budget)? {
                let (rule, detail) = if i == 0 {
                    (
                        Rule::LeafSelfSigned,
                        "leaf certificate is self-signed but is not a trust anchor",
                    )
                } else {
                    (
                        Rule::IntermediateSelfSigned,
                        "intermediate certificate is self-signed",
                    )
                };
                return Err(invalid(
                    i,
                    cert,
                    Violation {
                        rule,
                        detail: detail.to_owned(),
                    },
                ));
            }
        }
        rules::check(leaf, leaf_role(self.purpose)).map_err(|v| invalid(0, leaf, v))?;
        for (i, cert) in path.iter().enumerate().skip(1) {
            let role = Role::Ca {
                purpose: self.purpose,
                cas_below: i.saturating_sub(1),
            };
            rules::check(cert, role).map_err(|v| invalid(i, cert, v))?;
        }
        Ok(())
    }
}
