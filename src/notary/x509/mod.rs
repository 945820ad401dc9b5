//! The X.509 core of the Notary rules: one certificate view, one set of certificate rules
//! parameterised by role, one path validator with one budget.
//!
//! * [`cert`]: [`Certificate`], the one parsed view of a certificate, over the exact DER received
//!   (TBS, names, SPKI and serial as received; basicConstraints, keyUsage, extKeyUsage, SKI/AKI,
//!   CRL distribution points, FreshestCRL, AIA OCSP decoded once).
//! * [`rules`]: every certificate requirement of SPEC-NOTES §4 (and errata 1, 2, 4, 12), as
//!   [`rules::check`] over a [`rules::Role`] (code-signing leaf, timestamping leaf, CA, trust-store
//!   entry, CRL issuer), plus the per-purpose extension rules and the validity rule.
//! * [`path`]: the one path validator. [`path::verify_ordered`] checks a chain in the order given
//!   (the signing chain: notation validates the envelope's chain as sent, no path building);
//!   [`path::build`] builds a path from a leaf through a bag of certificates to a trust anchor
//!   (the TSA chain: Go's `x509.Verify`, errata 1). Both spend one [`path::Budget`] and return a
//!   [`path::VerifiedPath`], which nothing outside [`path`] can construct.
//!
//! Only [`super::crypto`] calls signature primitives; this module hands it DER.
//!
//! Where the two former copies of these rules disagreed (`chain.rs` and `timestamp.rs`), the
//! decision and its test are written next to the rule (see [`rules`]).

pub mod cert;
pub mod path;
pub mod rules;

#[cfg(test)]
mod tests;

pub(crate) use cert::oid_beyond_go;
pub use cert::Certificate;

use crate::notary::reason::Validation;
pub use path::{Budget, VerifiedPath};
pub use rules::{Purpose, Role};

/// A certificate rule. [`Rule::code`] gives the Notary validation category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// The chain holds no certificate.
    Empty,
    /// The chain is longer than the budget's maximum length.
    TooLong,
    /// The certificate is not valid DER / X.509.
    Malformed,
    /// The same extension appears twice in one certificate.
    DuplicateExtension,
    /// A basicConstraints, keyUsage or extKeyUsage extension cannot be decoded.
    MalformedExtension,
    /// `tbsCertificate.signature` differs from `signatureAlgorithm`.
    SignatureAlgorithmMismatch,
    /// The certificate is signed with SHA-1 or MD5 (rejected everywhere, erratum 4).
    WeakSignatureAlgorithm,
    /// The certificate's signature algorithm is not supported.
    UnsupportedSignatureAlgorithm,
    /// A single-certificate chain (or a trust-store entry) that does not verify with its own key.
    NotSelfSigned,
    /// A single-certificate chain (or a trust-store root) whose issuer and subject names differ.
    NotSelfIssued,
    /// The leaf of a multi-certificate chain is self-signed.
    LeafSelfSigned,
    /// An intermediate certificate is self-signed.
    IntermediateSelfSigned,
    /// The certificate's signature does not verify with the next certificate's key.
    NotSignedByNext,
    /// The certificate's issuer name differs from the next certificate's subject name.
    IssuerNameMismatch,
    /// The last certificate of a chain is not a self-signed root.
    RootNotSelfSigned,
    /// A CA certificate has no basicConstraints or `cA` is false.
    CaBasicConstraints,
    /// A CA certificate's basicConstraints extension is not critical.
    CaBasicConstraintsNotCritical,
    /// A v3 certificate that must be a root CA has no basicConstraints at all.
    CaBasicConstraintsMissing,
    /// A CA certificate's pathLenConstraint is smaller than the number of CAs below it.
    PathLength,
    /// The leaf's basicConstraints says `cA = true`.
    LeafIsCa,
    /// keyUsage is absent.
    KeyUsageMissing,
    /// keyUsage is not critical.
    KeyUsageNotCritical,
    /// A CA certificate's keyUsage lacks keyCertSign.
    CaKeyCertSignMissing,
    /// The leaf's keyUsage lacks digitalSignature.
    LeafDigitalSignatureMissing,
    /// The leaf's keyUsage has a bit other than digitalSignature / nonRepudiation.
    LeafForbiddenKeyUsage,
    /// The code-signing leaf's extKeyUsage holds a forbidden purpose.
    LeafForbiddenExtendedKeyUsage,
    /// The timestamping leaf's extKeyUsage is absent, not critical, or not timeStamping only.
    LeafTimestampingExtendedKeyUsage,
    /// A certificate of a timestamping path has an extKeyUsage without timeStamping or
    /// anyExtendedKeyUsage (Go's EKU nesting rule).
    ExtendedKeyUsageNotTimestamping,
    /// A certificate of a timestamping path has a critical extension Go's x509 does not handle.
    UnknownCriticalExtension,
    /// A certificate of a timestamping path has name constraints (not implemented: refused).
    NameConstraintsUnsupported,
    /// The certificate's public key type or size is not allowed.
    UnsupportedKey,
    /// A trust-store certificate is neither a CA nor self-signed (erratum 12).
    NotCaOrSelfSigned,
    /// A CRL issuer's keyUsage lacks cRLSign.
    CrlSignMissing,
    /// The signature-check budget of the path validator ran out.
    TooManySignatureChecks,
    /// The certificate is not yet valid at the time (or lower bound) checked.
    NotYetValid,
    /// The certificate has expired at the time (or upper bound) checked.
    Expired,
    /// The validity check was asked with an inconsistent time input.
    InvalidTimeInput,
}

impl Rule {
    /// Stable snake_case name of the rule.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::TooLong => "too_long",
            Self::Malformed => "malformed",
            Self::DuplicateExtension => "duplicate_extension",
            Self::MalformedExtension => "malformed_extension",
            Self::SignatureAlgorithmMismatch => "signature_algorithm_mismatch",
            Self::WeakSignatureAlgorithm => "weak_signature_algorithm",
            Self::UnsupportedSignatureAlgorithm => "unsupported_signature_algorithm",
            Self::NotSelfSigned => "not_self_signed",
            Self::NotSelfIssued => "not_self_issued",
            Self::LeafSelfSigned => "leaf_self_signed",
            Self::IntermediateSelfSigned => "intermediate_self_signed",
            Self::NotSignedByNext => "not_signed_by_next",
            Self::IssuerNameMismatch => "issuer_name_mismatch",
            Self::RootNotSelfSigned => "root_not_self_signed",
            Self::CaBasicConstraints => "ca_basic_constraints",
            Self::CaBasicConstraintsNotCritical => "ca_basic_constraints_not_critical",
            Self::CaBasicConstraintsMissing => "ca_basic_constraints_missing",
            Self::PathLength => "path_length",
            Self::LeafIsCa => "leaf_is_ca",
            Self::KeyUsageMissing => "key_usage_missing",
            Self::KeyUsageNotCritical => "key_usage_not_critical",
            Self::CaKeyCertSignMissing => "ca_key_cert_sign_missing",
            Self::LeafDigitalSignatureMissing => "leaf_digital_signature_missing",
            Self::LeafForbiddenKeyUsage => "leaf_forbidden_key_usage",
            Self::LeafForbiddenExtendedKeyUsage => "leaf_forbidden_extended_key_usage",
            Self::LeafTimestampingExtendedKeyUsage => "leaf_timestamping_extended_key_usage",
            Self::ExtendedKeyUsageNotTimestamping => "extended_key_usage_not_timestamping",
            Self::UnknownCriticalExtension => "unknown_critical_extension",
            Self::NameConstraintsUnsupported => "name_constraints_unsupported",
            Self::UnsupportedKey => "unsupported_key",
            Self::NotCaOrSelfSigned => "not_ca_or_self_signed",
            Self::CrlSignMissing => "crl_sign_missing",
            Self::TooManySignatureChecks => "too_many_signature_checks",
            Self::NotYetValid => "not_yet_valid",
            Self::Expired => "expired",
            Self::InvalidTimeInput => "invalid_time_input",
        }
    }

    /// Notary validation category: `authentic_timestamp` for validity-period rules, `integrity`
    /// for everything else (erratum 2: certificate-requirement failures are integrity failures).
    pub fn category(self) -> Validation {
        match self {
            Self::NotYetValid | Self::Expired | Self::InvalidTimeInput => {
                Validation::AuthenticTimestamp
            }
            _ => Validation::Integrity,
        }
    }

    /// The stable string of [`Self::category`] (reports, usage errors, the corpus tests).
    pub fn code(self) -> &'static str {
        self.category().as_str()
    }

    /// Whether the rule is about the validity period (checked at a time, not structurally).
    pub fn is_validity(self) -> bool {
        matches!(
            self,
            Self::NotYetValid | Self::Expired | Self::InvalidTimeInput
        )
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A certificate rule violation, naming the certificate (index in the chain or path, 0 = leaf)
/// and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate chain: certificate #{index} violates `{rule}`: {detail}")]
#[non_exhaustive]
pub struct CertError {
    /// Index of the offending certificate (0 = leaf).
    pub index: usize,
    /// The rule that failed.
    pub rule: Rule,
    /// Human-readable detail (subject, times, underlying error).
    pub detail: String,
}

impl CertError {
    /// A violation of `rule` by certificate `index`.
    pub fn new(index: usize, rule: Rule, detail: impl Into<String>) -> Self {
        Self {
            index,
            rule,
            detail: detail.into(),
        }
    }

    /// Notary validation category (see [`Rule::category`]).
    pub fn category(&self) -> Validation {
        self.rule.category()
    }

    /// The stable string of [`Self::category`].
    pub fn code(&self) -> &'static str {
        self.rule.code()
    }

    /// Stable snake_case identifier of the failed rule.
    pub fn reason(&self) -> &'static str {
        self.rule.as_str()
    }
}
