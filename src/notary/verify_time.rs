//! Which time a signature's certificates are judged at, per signing scheme, and the timestamp
//! that can vouch for it (SPEC-NOTES §6.3, §6.5; the Notary "authentic timestamp" validation).
//!
//! | scheme | signing chain validity | revocation `invalidityDate` compared with |
//! |---|---|---|
//! | `notary.x509.signingAuthority` | at `authenticSigningTime` (required); the TSA token and the current time are not used | `authenticSigningTime` |
//! | `notary.x509`, TSA verification triggered | over the verified token's `[genTime - accuracy, genTime + accuracy]`; the TSA chain's revocation is always enforced, unknown fails (§6.3 j, erratum 9) | nothing (any entry revokes) |
//! | `notary.x509`, not triggered | at the verification time | nothing |
//!
//! TSA verification is triggered when the policy lists a `tsa` trust store and its
//! `verifyTimestamp` is `always`, or `afterCertExpiry` and a chain certificate has expired at the
//! verification time (SPEC-NOTES §6.3, conditions 1-4).
//!
//! The verify stage calls [`check_without_timestamp`] and, when it answers
//! [`Trusted::NeedsTimestamp`], loads the `tsa` stores and calls [`check_timestamp`]. Nothing here
//! reads the clock or a trust store.

use super::chain::{ChainError, ValidatedChain, ValidityTime};
use super::envelope::{Envelope, SigningScheme};
use super::policy::VerifyTimestamp;
use super::revocation::{self, ChainStatus, CrlInput, Overall};
use super::time;
use super::timestamp::{self, Limits, TimestampError, VerifiedTimestamp};
use crate::notary::reason::Validation;

/// Why the authentic-timestamp validation failed. Every variant is an `authentic_timestamp`
/// failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// `notary.x509.signingAuthority` without `authenticSigningTime`.
    #[error("signingAuthority scheme without authenticSigningTime")]
    MissingAuthenticSigningTime,
    /// A timestamp range whose lower bound is after its upper bound.
    #[error("timestamp range lower {lower} > upper {upper}")]
    InvalidRange {
        /// Lower bound.
        lower: i64,
        /// Upper bound.
        upper: i64,
    },
    /// A certificate was not valid at `authenticSigningTime`.
    #[error("certificate was not valid when the signature was produced at {}: {error}", time::rfc3339(*.time))]
    NotValidAtSigningTime {
        /// `authenticSigningTime`.
        time: i64,
        /// Which certificate, and why.
        error: ChainError,
    },
    /// A certificate is not valid at the verification time.
    #[error("certificate not valid at the verification time {}: {error}", time::rfc3339(*.now))]
    NotValidNow {
        /// The verification time.
        now: i64,
        /// Which certificate, and why.
        error: ChainError,
    },
    /// TSA verification is triggered but the envelope carries no timestamp.
    #[error("no timestamp countersignature was found in the signature envelope")]
    NoCountersignature,
    /// The timestamp token does not verify.
    #[error("timestamp: {0}")]
    Timestamp(TimestampError),
    /// A signing certificate was not valid over the whole timestamp range.
    #[error("timestamp {} is outside a signing certificate's validity: {error}", time::rfc3339(*.gen_time))]
    OutsideTimestamp {
        /// `genTime`.
        gen_time: i64,
        /// Which certificate, and why.
        error: ChainError,
    },
    /// A certificate of the TSA chain is revoked.
    #[error("timestamping {0}")]
    TsaRevoked(String),
    /// The revocation status of a TSA chain certificate cannot be established (never good).
    #[error("timestamping {0}")]
    TsaRevocationUnknown(String),
}

impl TimeError {
    /// Notary validation category: always `authentic_timestamp`.
    pub fn category(&self) -> Validation {
        Validation::AuthenticTimestamp
    }

    /// The stable string of [`Self::category`] (reports, usage errors, the corpus tests).
    pub fn code(&self) -> &'static str {
        self.category().as_str()
    }
}

/// The instant or range at which a signing chain's validity is checked, per scheme:
/// `authenticSigningTime` under `notary.x509.signingAuthority`; under `notary.x509` the verified
/// timestamp's `(lower, upper)` range when one is used, else `now` (the caller's verification
/// time; this crate never reads the clock).
pub fn validity_time(
    scheme: SigningScheme,
    authentic_signing_time: Option<i64>,
    verified_timestamp: Option<(i64, i64)>,
    now: i64,
) -> Result<ValidityTime, TimeError> {
    match scheme {
        SigningScheme::X509SigningAuthority => authentic_signing_time
            .map(ValidityTime::At)
            .ok_or(TimeError::MissingAuthenticSigningTime),
        SigningScheme::X509 => match verified_timestamp {
            Some((lower, upper)) if lower <= upper => Ok(ValidityTime::Range { lower, upper }),
            Some((lower, upper)) => Err(TimeError::InvalidRange { lower, upper }),
            None => Ok(ValidityTime::At(now)),
        },
    }
}

/// The time a CRL entry's `invalidityDate` is compared with: the authentic signing time under
/// `notary.x509.signingAuthority`, none under `notary.x509` (notation passes no time there, even
/// when timestamped: any entry revokes).
pub fn revocation_time(env: &Envelope) -> Option<i64> {
    match env.signing_scheme() {
        SigningScheme::X509SigningAuthority => env.authentic_signing_time(),
        SigningScheme::X509 => None,
    }
}

/// The revocation status of the signing chain at `now`, with the scheme's [`revocation_time`].
pub fn signing_chain_revocation(
    env: &Envelope,
    chain: &ValidatedChain,
    crls: &[CrlInput],
    now: i64,
) -> ChainStatus {
    revocation::check_chain(chain.certificates(), crls, now, revocation_time(env))
}

/// What the trust policy says about timestamps for one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampPolicy {
    /// The statement lists at least one `tsa` trust store.
    pub tsa_store_listed: bool,
    /// The statement's `verifyTimestamp` rule.
    pub verify_timestamp: VerifyTimestamp,
}

/// The outcome of [`check_without_timestamp`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trusted<'e> {
    /// Every chain certificate is valid at this time; no timestamp is needed.
    Checked(ValidityTime),
    /// TSA verification is triggered: the token must verify ([`check_timestamp`]).
    NeedsTimestamp {
        /// The envelope's RFC 3161 token.
        token: &'e [u8],
    },
}

/// Whether TSA verification is triggered for a `notary.x509` signature (SPEC-NOTES §6.3).
fn timestamp_triggered(chain: &ValidatedChain, policy: &TimestampPolicy, now: i64) -> bool {
    policy.tsa_store_listed
        && match policy.verify_timestamp {
            VerifyTimestamp::Always => true,
            VerifyTimestamp::AfterCertExpiry => {
                chain.certificates().iter().any(|c| now > c.not_after())
            }
        }
}

/// Checks the signing chain at the scheme's time when no timestamp is involved, or says that the
/// timestamp must be verified (and that the envelope carries one).
pub fn check_without_timestamp<'e>(
    env: &'e Envelope,
    chain: &ValidatedChain,
    policy: &TimestampPolicy,
    now: i64,
) -> Result<Trusted<'e>, TimeError> {
    let scheme = env.signing_scheme();
    if scheme == SigningScheme::X509 && timestamp_triggered(chain, policy, now) {
        return env
            .timestamp_token()
            .map(|token| Trusted::NeedsTimestamp { token })
            .ok_or(TimeError::NoCountersignature);
    }
    let mut when = validity_time(scheme, env.authentic_signing_time(), None, now)?;
    // An authentic signing time with a fraction lies strictly between its second and the next:
    // every certificate must be valid over both (red team M, M10: rounded down, a signature made
    // within a second after notAfter passed).
    if let (ValidityTime::At(t), true) = (when, env.authentic_signing_time_has_fraction()) {
        when = ValidityTime::Range {
            lower: t,
            upper: t.saturating_add(1),
        };
    }
    chain.check_validity(when).map_err(|error| match when {
        ValidityTime::At(time) | ValidityTime::Range { lower: time, .. }
            if scheme == SigningScheme::X509SigningAuthority =>
        {
            TimeError::NotValidAtSigningTime { time, error }
        }
        _ => TimeError::NotValidNow { now, error },
    })?;
    Ok(Trusted::Checked(when))
}

/// A verified timestamp and what came of using it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampOutcome {
    /// The verified token.
    pub timestamp: VerifiedTimestamp,
    /// The TSA chain's revocation status, when it was evaluated (after the signing chain was
    /// found valid over the timestamp range).
    pub tsa_revocation: Option<ChainStatus>,
    /// Whether the authentic-timestamp validation passed.
    pub result: Result<(), TimeError>,
}

/// Verifies `token` over the envelope's `signature` with the `tsa` store certificates
/// `tsa_roots`, checks the signing chain over the timestamp's range, and enforces the TSA chain's
/// revocation ([`enforce_tsa_revocation`]). `Err` when the token itself does not verify.
pub fn check_timestamp(
    token: &[u8],
    signature: &[u8],
    tsa_roots: &[Vec<u8>],
    chain: &ValidatedChain,
    crls: &[CrlInput],
    now: i64,
) -> Result<TimestampOutcome, TimeError> {
    let ts = timestamp::verify(token, signature, tsa_roots, &Limits::default())
        .map_err(TimeError::Timestamp)?;
    let range = validity_time(SigningScheme::X509, None, Some((ts.lower, ts.upper)), now).and_then(
        |when| {
            chain
                .check_validity(when)
                .map_err(|error| TimeError::OutsideTimestamp {
                    gen_time: ts.gen_time,
                    error,
                })
        },
    );
    if let Err(e) = range {
        return Ok(TimestampOutcome {
            timestamp: ts,
            tsa_revocation: None,
            result: Err(e),
        });
    }
    let (status, result) = enforce_tsa_revocation(&ts, crls, now);
    Ok(TimestampOutcome {
        timestamp: ts,
        tsa_revocation: Some(status),
        result,
    })
}

/// The TSA chain's revocation, always checked once a timestamp is used, whatever the policy's
/// revocation level (SPEC-NOTES §6.3 j, erratum 9): revoked fails, unknown fails. The chain is
/// the verified path itself: nothing is re-parsed, so no certificate can be dropped.
pub fn enforce_tsa_revocation(
    ts: &VerifiedTimestamp,
    crls: &[CrlInput],
    now: i64,
) -> (ChainStatus, Result<(), TimeError>) {
    let status = revocation::check_chain(ts.tsa_path().certificates(), crls, now, None);
    let result = match status.overall() {
        Overall::Ok => Ok(()),
        Overall::Revoked(msg) => Err(TimeError::TsaRevoked(msg)),
        Overall::Unknown(msg) => Err(TimeError::TsaRevocationUnknown(msg)),
    };
    (status, result)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::notary::envelope::test_support::corpus_dir;

    #[test]
    fn scheme_time_rules() {
        use SigningScheme as S;
        assert_eq!(
            validity_time(S::X509SigningAuthority, Some(5), Some((1, 9)), 100).unwrap(),
            ValidityTime::At(5)
        );
        assert_eq!(
            validity_time(S::X509SigningAuthority, None, None, 100).unwrap_err(),
            TimeError::MissingAuthenticSigningTime
        );
        assert_eq!(
            validity_time(S::X509, None, Some((1, 9)), 100).unwrap(),
            ValidityTime::Range { lower: 1, upper: 9 }
        );
        assert_eq!(
            validity_time(S::X509, Some(5), None, 100).unwrap(),
            ValidityTime::At(100)
        );
        assert!(validity_time(S::X509, None, Some((9, 1)), 100).is_err());
    }

    fn globalsign() -> Option<(Vec<u8>, Vec<u8>)> {
        let dir = corpus_dir().join("envelopes/tst.globalsign.valid");
        let token = std::fs::read(dir.join("TimeStampToken.p7s")).ok()?;
        let pem = std::fs::read(dir.join("roots/GlobalSignRootCA.crt")).ok()?;
        use rustls_pki_types::pem::PemObject;
        let root = rustls_pki_types::CertificateDer::from_pem_slice(&pem).ok()?;
        Some((token, root.to_vec()))
    }

    /// The TSA chain names CRL distribution points (and OCSP); offline, with no CRL at hand, its
    /// status is unknown and the timestamp must fail, whatever the revocation level.
    #[test]
    fn tsa_revocation_unknown_fails() {
        let Some((token, root)) = globalsign() else {
            eprintln!("corpus not found; skipped");
            return;
        };
        let ts = timestamp::verify(&token, b"notation", &[root], &Limits::default()).unwrap();
        assert_eq!(ts.tsa_path().certificates().len(), ts.tsa_chain.len());
        let (status, result) = enforce_tsa_revocation(&ts, &[], ts.gen_time);
        assert_eq!(
            status.certs.len(),
            4,
            "every certificate is judged, none dropped"
        );
        assert!(
            matches!(&result, Err(TimeError::TsaRevocationUnknown(m)) if m.contains("TSA for Advanced")),
            "{result:?}"
        );
        assert_eq!(
            result.unwrap_err().category(),
            crate::notary::reason::Validation::AuthenticTimestamp
        );
    }

    /// A TSA of our own: an EC P-256 root and a timestamping leaf (serial [`TSA_SERIAL`], critical
    /// EKU timeStamping, a CRL distribution point), minted with the `openssl` command line, which
    /// also answers the timestamp query over `data` (`openssl ts -reply`): a real RFC 3161 token
    /// from a real TSA implementation, whose root key is at hand to sign CRLs. `None` without
    /// openssl outside CI (in CI a missing openssl fails the test).
    struct MintedTsa {
        token: Vec<u8>,
        root_der: Vec<u8>,
        root_key_pkcs8: Vec<u8>,
        root_name: x509_cert::name::Name,
    }

    const TSA_SERIAL: u64 = 4242;

    fn mint_tsa(data: &[u8]) -> Option<MintedTsa> {
        use der::DecodePem;
        use std::process::Command;
        let have = Command::new("openssl")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !have {
            assert!(std::env::var_os("CI").is_none(), "openssl is needed in CI");
            return None;
        }
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        std::fs::write(
            d.join("ca.cnf"),
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = airlock test TSA root\n\
             O = airlock tests\n[v3_ca]\nbasicConstraints = critical,CA:TRUE\n\
             keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n[v3_tsa]\n\
             basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n\
             extendedKeyUsage = critical,timeStamping\n\
             crlDistributionPoints = URI:http://crl.example/tsa-root.crl\n\
             authorityKeyIdentifier = keyid\nsubjectKeyIdentifier = hash\n[tsa]\n\
             default_tsa = tsa_config\n[tsa_config]\nserial = ./serial\nsigner_digest = sha256\n\
             default_policy = 1.2.3.4.1\nother_policies = 1.2.3.4.2\ndigests = sha256\n\
             accuracy = secs:1\nordering = no\ntsa_name = no\ness_cert_id_chain = no\n\
             ess_cert_id_alg = sha256\n",
        )
        .unwrap();
        std::fs::write(d.join("serial"), "01\n").unwrap();
        std::fs::write(d.join("data"), data).unwrap();
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
        for cmd in [
            format!("req -x509 {ec} -keyout root.key -out root.pem -days 3650 -config ca.cnf -extensions v3_ca"),
            format!("req {ec} -keyout tsa.key -out tsa.csr -subj /CN=airlock_test_TSA/O=airlock_tests"),
            format!("x509 -req -in tsa.csr -CA root.pem -CAkey root.key -set_serial {TSA_SERIAL} -out tsa.pem -days 3000 -extfile ca.cnf -extensions v3_tsa"),
            "ts -query -data data -sha256 -cert -no_nonce -out q".to_string(),
            "ts -reply -queryfile q -signer tsa.pem -inkey tsa.key -chain root.pem -config ca.cnf -token_out -out token".to_string(),
        ] {
            let out = Command::new("openssl")
                .args(cmd.split(' '))
                .current_dir(d)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {cmd}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let root =
            x509_cert::Certificate::from_pem(std::fs::read(d.join("root.pem")).unwrap()).unwrap();
        let (_, key) = der::SecretDocument::read_pem_file(d.join("root.key")).unwrap();
        Some(MintedTsa {
            token: std::fs::read(d.join("token")).unwrap(),
            root_der: der::Encode::to_der(&root).unwrap(),
            root_key_pkcs8: key.as_bytes().to_vec(),
            root_name: root.tbs_certificate.subject,
        })
    }

    /// The TSA leaf revoked by its root's CRL: the timestamp fails as revoked (any entry revokes a
    /// TSA certificate). The same token with a CRL that revokes nothing, or another serial,
    /// passes; with no CRL its status is unknown and it fails; a CRL naming another issuer decides
    /// nothing.
    #[test]
    fn a_revoked_tsa_certificate_fails_the_timestamp() {
        use crate::notary::revocation::Crl;
        use crate::testkit::crl::{CrlSpec, Entry, DAY, T0};
        let data = b"the envelope's signature bytes";
        let Some(tsa) = mint_tsa(data) else {
            eprintln!("openssl not found; skipped");
            return;
        };
        let roots = [tsa.root_der.clone()];
        let ts = timestamp::verify(&tsa.token, data, &roots, &Limits::default()).unwrap();
        assert_eq!(ts.tsa_path().certificates().len(), 2);
        // Current at the token's time (CRL windows are days from T0).
        let day = (ts.gen_time - T0).div_euclid(DAY);
        let crl = |entries: &[u64], issuer: x509_cert::name::Name| {
            let mut spec =
                CrlSpec::new(issuer, tsa.root_key_pkcs8.clone()).window(day - 1, Some(day + 5));
            for &serial in entries {
                spec = spec.entry(Entry::new(serial));
            }
            CrlInput::new(Crl::from_der(&spec.der()).unwrap())
        };
        let name = || tsa.root_name.clone();
        let at = ts.gen_time;

        let (status, result) = enforce_tsa_revocation(&ts, &[crl(&[TSA_SERIAL], name())], at);
        assert!(
            matches!(&result, Err(TimeError::TsaRevoked(m)) if m.contains("airlock_test_TSA")),
            "{result:?}"
        );
        assert!(matches!(status.overall(), Overall::Revoked(_)));
        assert_eq!(
            result.unwrap_err().category(),
            crate::notary::reason::Validation::AuthenticTimestamp
        );

        let (_, result) = enforce_tsa_revocation(&ts, &[crl(&[], name())], at);
        assert_eq!(result, Ok(()));
        let (_, result) = enforce_tsa_revocation(&ts, &[crl(&[TSA_SERIAL + 1], name())], at);
        assert_eq!(result, Ok(()));

        let (_, result) = enforce_tsa_revocation(&ts, &[], at);
        assert!(
            matches!(&result, Err(TimeError::TsaRevocationUnknown(_))),
            "{result:?}"
        );
        // Signed with the root's key but naming another issuer: not the leaf's CRL.
        let other: x509_cert::name::Name = "CN=someone else".parse().unwrap();
        let (_, result) = enforce_tsa_revocation(&ts, &[crl(&[TSA_SERIAL], other)], at);
        assert!(
            matches!(&result, Err(TimeError::TsaRevocationUnknown(_))),
            "{result:?}"
        );
    }
}
