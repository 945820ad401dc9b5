//! The envelope's code-signing chain: the *given* ordered chain, validated with the X.509 core
//! ([`super::x509`]; no path building).
//!
//! Rules (SPEC-NOTES §4 and errata 1, 2, 4; notation-core-go `x509/codesigning_cert_validations.go`)
//! live in [`super::x509::rules`] and [`super::x509::path::verify_ordered`]:
//!
//! * The chain is leaf first, then intermediates, then a self-signed root; a single certificate
//!   must be a self-signed, self-issued end-entity certificate meeting the leaf rules.
//! * Every `cert[i]` (i < n-1) is signed by `cert[i+1]` and its issuer name is byte-equal to the
//!   next certificate's subject name; no certificate before the last may be self-signed.
//! * CA certificates: [`super::x509::Role::Ca`]; the leaf: [`super::x509::Role::CodeSigningLeaf`].
//! * SHA-1 / MD5 signatures are rejected at every position (errata 4).
//! * Only basicConstraints, keyUsage and extKeyUsage are interpreted. Every other extension,
//!   including unknown *critical* ones and name constraints, is ignored ("fail open"; this
//!   applies to the signing chain only, errata 1). Duplicate extensions are malformed (as in Go).
//! * Validity periods are not nested; they are checked separately, at one instant or over a
//!   `[lower, upper]` range, by [`ValidatedChain::check_validity`]; which time applies per
//!   signing scheme is [`super::verify_time`]'s rule.
//!
//! Budget: at most [`MAX_CHAIN_LEN`] certificates and `2 * MAX_CHAIN_LEN` signature
//! verifications per chain.
//!
//! Every failure is a [`ChainError`] naming the certificate index (0 = leaf) and the
//! [`ChainRule`] that failed. Structural failures are `integrity` failures (notation reports a
//! non-conforming chain from `envelope.Verify`, errata 2); validity-period failures are
//! `authentic_timestamp` failures (the Notary "authentic timestamp" validation checks them).

use super::crypto::KeySpec;
use super::x509::path::{self, Budget, VerifiedPath};
use super::x509::{Certificate, Purpose};

pub use super::x509::path::ValidityTime;
pub use super::x509::{CertError as ChainError, Rule as ChainRule};

/// Maximum number of certificates accepted in a signing chain.
///
/// notation has no limit; real code-signing chains have 1 to 4 certificates. Ten leaves room
/// for deep private PKIs while bounding the work an untrusted envelope can cause (two signature
/// verifications per certificate).
pub const MAX_CHAIN_LEN: usize = 10;

/// The budget of one signing chain: [`MAX_CHAIN_LEN`] certificates, two signature checks each.
fn budget() -> Budget {
    Budget::new(MAX_CHAIN_LEN, MAX_CHAIN_LEN.saturating_mul(2))
}

/// A chain that passed every structural rule. The leaf is at index 0.
#[derive(Debug, Clone)]
pub struct ValidatedChain {
    path: VerifiedPath,
    leaf_key: KeySpec,
}

impl ValidatedChain {
    /// The certificates, leaf first.
    pub fn certificates(&self) -> &[Certificate] {
        self.path.certificates()
    }

    /// The verified path.
    pub fn path(&self) -> &VerifiedPath {
        &self.path
    }

    /// The leaf key spec (its algorithm is the only acceptable envelope `alg`).
    pub fn leaf_key_spec(&self) -> KeySpec {
        self.leaf_key
    }

    /// Checks every certificate's validity period at `when` (inclusive bounds, as Go's
    /// `Before`/`After` comparisons in notation). Returns the first failing index.
    pub fn check_validity(&self, when: ValidityTime) -> Result<(), ChainError> {
        self.path.check_validity(when)
    }
}

/// Checks the chain-length budget: 1 to [`MAX_CHAIN_LEN`] certificates.
pub fn check_length(len: usize) -> Result<(), ChainError> {
    budget().check_length(len)
}

/// Parses the certificate at `index` of a signing chain (no rule is checked).
pub fn parse_certificate(der: &[u8], index: usize) -> Result<Certificate, ChainError> {
    Certificate::from_der(der).map_err(|e| {
        ChainError::new(
            index,
            ChainRule::Malformed,
            format!("invalid certificate: {e}"),
        )
    })
}

/// Parses and validates an ordered code-signing chain (leaf first) against every structural
/// rule in the module documentation. Validity periods are *not* checked here.
pub fn validate_code_signing_chain<B: AsRef<[u8]>>(
    chain: &[B],
) -> Result<ValidatedChain, ChainError> {
    let path = path::verify_ordered(chain, Purpose::CodeSigning, &mut budget())?;
    let leaf_key = path
        .leaf()
        .ok_or_else(|| ChainError::new(0, ChainRule::Empty, "chain without a leaf"))?
        .public_key()
        .and_then(KeySpec::from_kind)
        .map_err(|e| ChainError::new(0, ChainRule::UnsupportedKey, e.to_string()))?;
    Ok(ValidatedChain { path, leaf_key })
}

/// notation's "self-signed" test for trust-store certificates: subject equals issuer and the
/// signature verifies under the certificate's own key ([`Certificate::is_self_signed`]).
pub fn is_self_signed(cert: &x509_cert::Certificate) -> bool {
    use der::Encode;
    let Ok(der) = cert.to_der() else { return false };
    Certificate::from_der(&der).is_ok_and(|c| c.is_self_signed())
}

#[cfg(test)]
mod tests;
