//! The certificate requirements of the Notary specification (SPEC-NOTES §4.1, §4.2, §4.3, §6.3 and
//! errata 1, 2, 4, 12), once, parameterised by the role a certificate plays.
//!
//! | role | rules |
//! |---|---|
//! | [`Role::CodeSigningLeaf`] | basicConstraints absent or `cA = false`; keyUsage present, critical, digitalSignature, none of keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign, encipherOnly, decipherOnly; extKeyUsage (optional) without anyExtendedKeyUsage, serverAuth, clientAuth, emailProtection, timeStamping, OCSPSigning; key in the Notary table (RSA 2048/3072/4096, EC P-256/384/521) |
//! | [`Role::TimestampingLeaf`] | the same basicConstraints and keyUsage rules, keyUsage criticality not required (spec: SHOULD); extKeyUsage present, critical, timeStamping only (RFC 3161 §2.3); key in the Notary table |
//! | [`Role::Ca`] | basicConstraints present, **critical**, `cA = true`; pathLenConstraint >= CAs below; keyUsage present (critical for code signing) with keyCertSign; key RSA >= 2048 or EC P-256/384/521 |
//! | [`Role::TrustStoreEntry`] | no duplicate or malformed basicConstraints/keyUsage; a CA or self-signed (erratum 12); in a `tsa` store a self-signed root CA (notation `isRootCACertificate`) |
//! | [`Role::CrlIssuer`] | keyUsage, when present, allows cRLSign |
//!
//! Per path purpose ([`check_extensions`]): no duplicate extension and a decodable
//! basicConstraints, keyUsage and extKeyUsage everywhere. The signing chain fails open on every
//! other extension (SPEC-NOTES §4.1 rule 4); a timestamping path does not (erratum 1: notation
//! validates it with Go's `x509.Verify`): unknown critical extensions and name constraints are
//! refused, and every extKeyUsage present must allow timeStamping (or anyExtendedKeyUsage).
//!
//! # Where the two former copies disagreed, and the decision
//!
//! * **basicConstraints criticality on a timestamping CA.** `chain.rs` required a critical
//!   basicConstraints on every CA, `timestamp.rs` did not (Go's `x509` and notation-core-go
//!   `validateCABasicConstraints` never look at criticality). SPEC-NOTES §4.1 states the
//!   requirement for *both* the code-signing and the timestamping chain ("basicConstraints
//!   present, critical, cA=true") and records notation's omission as a DIVERGENCE (§4.2); where the
//!   specification is explicit it wins. Decision: one CA rule, critical required on both chains.
//!   Consequence: a TSA whose CA marks basicConstraints non-critical (the FreeTSA root in the
//!   corpus token `tst.signing-certificate-v1-only` does) is refused where notation would accept.
//!   Tests: `x509::tests::ca_basic_constraints_must_be_critical_for_both_purposes`,
//!   `x509::tests::timestamping_path_with_non_critical_ca_basic_constraints_is_refused`.
//! * **Certificate signatures and keys.** `timestamp.rs` verified certificate signatures with the
//!   CMS primitive (`crypto::cms`), which accepts an RSA key without NULL parameters, and checked
//!   TSA leaf keys with its own SPKI parser; `chain.rs` used `crypto::verify_certificate_signature`
//!   and `crypto::analyze_public_key`, which follow Go's `x509` parser (NULL parameters required,
//!   odd exponent, uncompressed EC points). SPEC-NOTES errata 1 says the TSA chain is validated by
//!   Go's `x509`, so both chains now use the Go-faithful functions. Test:
//!   `x509::tests::rsa_key_without_null_parameters_is_refused_in_both_purposes`.
//! * **Self-signature in trust stores.** `truststore::load` decided "self-signed" structurally
//!   (subject == issuer) while production loading verified the signature; SPEC-NOTES erratum 12
//!   and §4.3 (notation `ValidateCertificates` calls `CheckSignature`) call for the signature.
//!   Test: `truststore::tests::load_checks_self_signatures`.

use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::KeyUsages;

use super::cert::{Certificate, KeyUsageInfo};
use super::Rule;
use crate::notary::crypto::{self, CryptoError, KeySpec, PublicKeyKind};
use crate::notary::time::{self, Instant};

/// What a certificate path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// The envelope's signing chain (code signing; fail open on unknown extensions).
    CodeSigning,
    /// An RFC 3161 TSA chain (full path validation, errata 1).
    Timestamping,
}

/// What a trust-store certificate must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Anchor {
    /// `ca` and `signingAuthority` stores: a CA, or a self-signed leaf (erratum 12).
    CaOrSelfSigned,
    /// `tsa` stores: a self-signed root CA (notation `isRootCACertificate`).
    RootCa,
}

/// The role a certificate plays, which decides the rules it must meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// The signing certificate of an envelope.
    CodeSigningLeaf,
    /// The TSA certificate that signed a timestamp token.
    TimestampingLeaf,
    /// A root or intermediate CA of a path for `purpose`, with `cas_below` CA certificates between
    /// it and the leaf.
    Ca {
        /// The path's purpose.
        purpose: Purpose,
        /// CA certificates below this one (0 for the leaf's issuer).
        cas_below: usize,
    },
    /// A certificate in a trust store.
    TrustStoreEntry(Anchor),
    /// The issuer of a CRL.
    CrlIssuer,
}

/// A rule a certificate breaks, with the detail for people.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// The rule.
    pub rule: Rule,
    /// What is wrong.
    pub detail: String,
}

fn violation(rule: Rule, detail: impl Into<String>) -> Violation {
    Violation {
        rule,
        detail: detail.into(),
    }
}

fn subject(cert: &Certificate) -> String {
    cert.subject_string()
}

/// Checks `cert` against every rule of `role` (see the module table). Trust-store entries use the
/// certificate's own self-signature check ([`Certificate::is_self_signed`]).
pub fn check(cert: &Certificate, role: Role) -> Result<(), Violation> {
    match role {
        Role::CodeSigningLeaf => leaf(cert, Purpose::CodeSigning),
        Role::TimestampingLeaf => leaf(cert, Purpose::Timestamping),
        Role::Ca { purpose, cas_below } => ca(cert, purpose, cas_below),
        Role::TrustStoreEntry(anchor) => {
            check_trust_store_entry(cert, anchor, &Certificate::is_self_signed)
        }
        Role::CrlIssuer => crl_issuer(cert),
    }
}

/// Extension rules every certificate of a `purpose` path must meet (see the module docs).
pub fn check_extensions(cert: &Certificate, purpose: Purpose) -> Result<(), Violation> {
    if let Some(oid) = cert.duplicate_extension() {
        return Err(violation(
            Rule::DuplicateExtension,
            format!("duplicate extension {oid}"),
        ));
    }
    let malformed = |e: &dyn std::fmt::Display| violation(Rule::MalformedExtension, e.to_string());
    cert.basic_constraints().map_err(|e| malformed(e))?;
    cert.key_usage().map_err(|e| malformed(e))?;
    let eku = cert.ext_key_usage().map_err(|e| malformed(e))?;
    match purpose {
        // Every other extension, critical or not, is ignored (fail open, §4.1 rule 4).
        Purpose::CodeSigning => Ok(()),
        Purpose::Timestamping => {
            if cert.has_name_constraints() {
                // Go enforces name constraints on TSA chains; this verifier does not implement
                // them, so it refuses them rather than ignoring them (fail closed).
                return Err(violation(
                    Rule::NameConstraintsUnsupported,
                    "name constraints are not supported on TSA chains",
                ));
            }
            if let Some(oid) = cert.unhandled_critical_extension() {
                return Err(violation(
                    Rule::UnknownCriticalExtension,
                    format!("unhandled critical extension {oid}"),
                ));
            }
            if let Some(eku) = eku {
                let allows = eku.purposes.iter().any(|k| {
                    *k == rfc5912::ID_KP_TIME_STAMPING || *k == rfc5912::ANY_EXTENDED_KEY_USAGE
                });
                if !allows {
                    return Err(violation(
                        Rule::ExtendedKeyUsageNotTimestamping,
                        "extended key usage does not allow timeStamping",
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Maps a signature-algorithm refusal to its rule.
pub fn crypto_rule(e: &CryptoError) -> Rule {
    match e {
        CryptoError::WeakAlgorithm(_) => Rule::WeakSignatureAlgorithm,
        CryptoError::UnsupportedAlgorithm(_) => Rule::UnsupportedSignatureAlgorithm,
        CryptoError::MalformedKey(_) | CryptoError::UnsupportedKey(_) => Rule::UnsupportedKey,
        _ => Rule::NotSignedByNext,
    }
}

/// The certificate's own signature algorithm: the inner and outer identifiers are the same, and
/// the algorithm is allowed (no SHA-1 or MD5 anywhere, erratum 4).
pub fn check_signature_algorithm(cert: &Certificate) -> Result<(), Violation> {
    if !cert.algorithm_identifiers_match() {
        return Err(violation(
            Rule::SignatureAlgorithmMismatch,
            "inner and outer signature algorithm identifiers differ",
        ));
    }
    crypto::check_certificate_signature_algorithm(cert.signature_algorithm_der())
        .map_err(|e| violation(crypto_rule(&e), e.to_string()))
}

/// Validity at `[lower, upper]`: `notBefore <= lower` and `upper <= notAfter` (inclusive bounds,
/// as Go's `Before`/`After` comparisons in notation; validity periods are not nested, §4.1 rule 5).
pub fn check_validity(cert: &Certificate, lower: Instant, upper: Instant) -> Result<(), Violation> {
    if lower.before(cert.not_before()) {
        return Err(violation(
            Rule::NotYetValid,
            format!(
                "certificate {:?} is valid from {} but the time checked is {}",
                subject(cert),
                time::rfc3339(cert.not_before()),
                time::rfc3339(lower.secs())
            ),
        ));
    }
    if upper.after(cert.not_after()) {
        return Err(violation(
            Rule::Expired,
            format!(
                "certificate {:?} is valid until {} but the time checked is {}",
                subject(cert),
                time::rfc3339(cert.not_after()),
                time::rfc3339(upper.secs())
            ),
        ));
    }
    Ok(())
}

fn key_usage(cert: &Certificate, must_be_critical: bool) -> Result<KeyUsageInfo, Violation> {
    let ku = cert
        .key_usage()
        .map_err(|e| violation(Rule::MalformedExtension, e.to_string()))?
        .ok_or_else(|| {
            violation(
                Rule::KeyUsageMissing,
                format!(
                    "certificate {:?}: key usage extension must be present",
                    subject(cert)
                ),
            )
        })?;
    if must_be_critical && !ku.critical {
        return Err(violation(
            Rule::KeyUsageNotCritical,
            format!(
                "certificate {:?}: key usage extension must be marked critical",
                subject(cert)
            ),
        ));
    }
    Ok(ku)
}

/// Extended key usages a code-signing leaf must not carry (SPEC-NOTES §4.1; OCSPSigning as
/// notation also excludes it).
const FORBIDDEN_CODE_SIGNING_EKUS: [(ObjectIdentifier, &str); 6] = [
    (rfc5912::ANY_EXTENDED_KEY_USAGE, "anyExtendedKeyUsage"),
    (rfc5912::ID_KP_SERVER_AUTH, "serverAuth"),
    (rfc5912::ID_KP_CLIENT_AUTH, "clientAuth"),
    (rfc5912::ID_KP_EMAIL_PROTECTION, "emailProtection"),
    (rfc5912::ID_KP_TIME_STAMPING, "timeStamping"),
    (rfc5912::ID_KP_OCSP_SIGNING, "OCSPSigning"),
];

fn leaf(cert: &Certificate, purpose: Purpose) -> Result<(), Violation> {
    let bc = cert
        .basic_constraints()
        .map_err(|e| violation(Rule::MalformedExtension, e.to_string()))?;
    if bc.is_some_and(|bc| bc.ca) {
        return Err(violation(
            Rule::LeafIsCa,
            format!(
                "certificate {:?}: if the basic constraints extension is present, the ca field must be set to false",
                subject(cert)
            ),
        ));
    }
    let ku = key_usage(cert, purpose == Purpose::CodeSigning)?.usage;
    if !ku.digital_signature() {
        return Err(violation(
            Rule::LeafDigitalSignatureMissing,
            format!(
                "certificate {:?}: key usage must have digitalSignature set",
                subject(cert)
            ),
        ));
    }
    let forbidden: Vec<&str> = [
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    if !forbidden.is_empty() {
        return Err(violation(
            Rule::LeafForbiddenKeyUsage,
            format!(
                "certificate {:?}: key usage must be digitalSignature only, found {}",
                subject(cert),
                forbidden.join(", ")
            ),
        ));
    }
    let eku = cert
        .ext_key_usage()
        .map_err(|e| violation(Rule::MalformedExtension, e.to_string()))?;
    match purpose {
        Purpose::CodeSigning => {
            if let Some(eku) = eku {
                for (oid, name) in FORBIDDEN_CODE_SIGNING_EKUS {
                    if eku.purposes.contains(&oid) {
                        return Err(violation(
                            Rule::LeafForbiddenExtendedKeyUsage,
                            format!(
                                "certificate {:?}: extended key usage must not contain {name}",
                                subject(cert)
                            ),
                        ));
                    }
                }
            }
        }
        Purpose::Timestamping => {
            let bad = |what: &str| {
                violation(
                    Rule::LeafTimestampingExtendedKeyUsage,
                    format!("timestamping certificate {:?}: {what}", subject(cert)),
                )
            };
            let eku = eku.ok_or_else(|| bad("extended key usage must be present"))?;
            if eku.purposes.as_slice() != [rfc5912::ID_KP_TIME_STAMPING] {
                return Err(bad("extended key usage must be timeStamping only"));
            }
            if !eku.critical {
                return Err(bad("extended key usage extension must be critical"));
            }
        }
    }
    cert.public_key()
        .and_then(KeySpec::from_kind)
        .map(|_| ())
        .map_err(|e| violation(Rule::UnsupportedKey, e.to_string()))
}

fn ca(cert: &Certificate, purpose: Purpose, cas_below: usize) -> Result<(), Violation> {
    let bc = match cert.basic_constraints() {
        Ok(Some(bc)) if bc.ca => bc,
        Err(e) => return Err(violation(Rule::MalformedExtension, e.to_string())),
        _ => {
            return Err(violation(
                Rule::CaBasicConstraints,
                format!(
                    "certificate {:?}: ca field in basic constraints must be present, critical, and set to true",
                    subject(cert)
                ),
            ))
        }
    };
    // One rule for both purposes: SPEC-NOTES §4.1 (see the module docs for the decision).
    if !bc.critical {
        return Err(violation(
            Rule::CaBasicConstraintsNotCritical,
            format!(
                "certificate {:?}: basic constraints must be marked critical",
                subject(cert)
            ),
        ));
    }
    if let Some(max) = bc.path_len {
        if usize::from(max) < cas_below {
            return Err(violation(
                Rule::PathLength,
                format!(
                    "certificate {:?}: expected path length of {cas_below} but certificate has path length {max}",
                    subject(cert)
                ),
            ));
        }
    }
    // keyUsage MUST be critical on code-signing chains, SHOULD on timestamping chains (§4.1).
    let ku = key_usage(cert, purpose == Purpose::CodeSigning)?.usage;
    if !ku.key_cert_sign() {
        return Err(violation(
            Rule::CaKeyCertSignMissing,
            format!(
                "certificate {:?}: key usage must have keyCertSign set",
                subject(cert)
            ),
        ));
    }
    match cert.public_key() {
        Ok(PublicKeyKind::Rsa { bits }) if bits >= 2048 => Ok(()),
        Ok(PublicKeyKind::Ec(_)) => Ok(()),
        Ok(other) => Err(violation(
            Rule::UnsupportedKey,
            format!("CA key {other} is too small"),
        )),
        Err(e) => Err(violation(Rule::UnsupportedKey, e.to_string())),
    }
}

/// notation's `ValidateCertificates` (a CA or a self-signed certificate), plus
/// `isRootCACertificate` for `tsa` stores. `self_signed` decides whether the certificate verifies
/// under its own key; it is asked only when the answer matters.
pub fn check_trust_store_entry(
    cert: &Certificate,
    anchor: Anchor,
    self_signed: &dyn Fn(&Certificate) -> bool,
) -> Result<(), Violation> {
    if let Some(oid) = cert.duplicate_extension() {
        return Err(violation(
            Rule::DuplicateExtension,
            format!("duplicate extension {oid}"),
        ));
    }
    let bc = cert
        .basic_constraints()
        .map_err(|e| violation(Rule::MalformedExtension, e.to_string()))?;
    let ku = cert
        .key_usage()
        .map_err(|e| violation(Rule::MalformedExtension, e.to_string()))?;
    let is_ca = bc.is_some_and(|bc| bc.ca);
    if !is_ca && !self_signed(cert) {
        return Err(violation(
            Rule::NotCaOrSelfSigned,
            format!(
                "certificate with subject {:?} is not a CA certificate or self-signed signing certificate",
                subject(cert)
            ),
        ));
    }
    if anchor == Anchor::RootCa {
        // Go's CheckSignatureFrom(self): a v3 certificate needs basicConstraints with cA, a
        // keyUsage (when not empty) needs keyCertSign; then subject == issuer.
        if cert.version() == Version::V3 && bc.is_none() {
            return Err(violation(
                Rule::CaBasicConstraintsMissing,
                "it has no basicConstraints extension",
            ));
        }
        if bc.is_some_and(|bc| !bc.ca) {
            return Err(violation(
                Rule::CaBasicConstraints,
                "basicConstraints does not assert cA",
            ));
        }
        if ku.is_some_and(|ku| !ku.usage.0.is_empty() && !ku.usage.key_cert_sign()) {
            return Err(violation(
                Rule::CaKeyCertSignMissing,
                "keyUsage lacks keyCertSign",
            ));
        }
        if !cert.is_self_issued() {
            return Err(violation(
                Rule::NotSelfIssued,
                "issuer and subject are not the same",
            ));
        }
        if !self_signed(cert) {
            return Err(violation(Rule::NotSelfSigned, "it is not self-signed"));
        }
    }
    Ok(())
}

fn crl_issuer(cert: &Certificate) -> Result<(), Violation> {
    let ku = cert
        .key_usage()
        .map_err(|e| violation(Rule::MalformedExtension, e.to_string()))?;
    if ku.is_some_and(|ku| !ku.usage.0.contains(KeyUsages::CRLSign)) {
        return Err(violation(
            Rule::CrlSignMissing,
            "issuer key usage lacks cRLSign",
        ));
    }
    Ok(())
}
