//! `TSTInfo` (RFC 3161 §2.4.2): the raw structure, and tspclient-go `TSTInfo.Validate`
//! (version, messageImprint, accuracy).

use der::asn1::{AnyRef, IntRef};
use der::Sequence;
use spki::ObjectIdentifier;

use super::cms::{RawGeneralizedTime, RawSeq};
use super::token::ParsedToken;
use super::{TimestampError, BASELINE_TSA_POLICY};
use crate::notary::crypto::cms as tsa_crypto;

/// TSTInfo (RFC 3161 §2.4.2) with the version as a plain integer, so that version 2 is a
/// TSTInfo error rather than a parse error (as with tspclient-go), and genTime kept raw.
#[derive(Sequence)]
pub(super) struct TstInfoRaw<'a> {
    pub(super) version: u64,
    pub(super) policy: ObjectIdentifier,
    pub(super) message_imprint: x509_tsp::MessageImprint,
    pub(super) serial_number: IntRef<'a>,
    pub(super) gen_time: RawGeneralizedTime<'a>,
    #[asn1(optional = "true")]
    pub(super) accuracy: Option<x509_tsp::Accuracy>,
    #[asn1(default = "Default::default")]
    pub(super) ordering: bool,
    #[asn1(optional = "true")]
    pub(super) nonce: Option<IntRef<'a>>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(super) tsa: Option<AnyRef<'a>>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub(super) extensions: Option<RawSeq<'a>>,
}

impl ParsedToken {
    /// Accuracy in microseconds per tspclient-go `TSTInfo.Validate`: the sum of the accuracy
    /// fields, or 1 s when they are all absent or zero and the policy is the RFC 3628 baseline
    /// policy.
    fn accuracy_micros(&self) -> Result<u64, TimestampError> {
        let (seconds, millis, micros) = match &self.accuracy {
            None => (0, 0, 0),
            Some(a) => (
                a.seconds.unwrap_or(0),
                a.millis.unwrap_or(0),
                a.micros.unwrap_or(0),
            ),
        };
        let sub = |v: i16| {
            u64::try_from(v)
                .ok()
                .filter(|v| *v <= 999)
                .ok_or(TimestampError::InvalidAccuracy)
        };
        let (millis, micros) = (sub(millis)?, sub(micros)?);
        if seconds == 0 && millis == 0 && micros == 0 && self.policy == BASELINE_TSA_POLICY {
            return Ok(1_000_000);
        }
        seconds
            .checked_mul(1_000_000)
            .and_then(|s| s.checked_add(millis * 1000 + micros))
            .ok_or(TimestampError::InvalidAccuracy)
    }

    /// tspclient-go `TSTInfo.Validate(message)`: the version is 1, the messageImprint hash is
    /// SHA-256/384/512 and equals the hash of `signed_bytes`, and the accuracy is sane. Does
    /// **not** establish that the token is authentic.
    pub fn validate_tst_info(&self, signed_bytes: &[u8]) -> Result<(), TimestampError> {
        self.validate_tst_info_accuracy(signed_bytes).map(|_| ())
    }

    /// [`Self::validate_tst_info`], returning the accuracy in microseconds.
    pub(super) fn validate_tst_info_accuracy(
        &self,
        signed_bytes: &[u8],
    ) -> Result<u64, TimestampError> {
        if self.version != 1 {
            return Err(TimestampError::UnsupportedVersion {
                version: self.version,
            });
        }
        let digest = tsa_crypto::digest(&self.imprint_alg, signed_bytes).map_err(|reason| {
            TimestampError::UnsupportedImprintAlgorithm {
                oid: self.imprint_alg.to_string(),
                reason,
            }
        })?;
        if digest != self.imprint {
            return Err(TimestampError::MessageImprintMismatch);
        }
        self.accuracy_micros()
    }
}
