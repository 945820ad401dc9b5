//! Signing a statement: a Notary Project envelope whose payload's `targetArtifact` is the
//! statement blob's descriptor (`application/vnd.in-toto+json`, sha256, size), made and checked
//! with the same code as `airlock sign` (`notary::sign`), failing closed.

use crate::digest::Digest;
use crate::notary::envelope::EnvelopeFormat;
use crate::notary::sign::{
    check_envelope, payload, sign_envelope, SignError, SignRequest, TargetDescriptor,
};

use super::MEDIA_TYPE;

/// A key, its chain and the envelope format (`airlock sign`'s [`crate::sign::Signer`]).
pub use crate::sign::Signer as SigningMaterial;

/// The descriptor a receipt signature signs.
pub fn descriptor(statement: &[u8]) -> TargetDescriptor {
    TargetDescriptor {
        media_type: MEDIA_TYPE.to_owned(),
        digest: Digest::sha256(statement),
        size: u64::try_from(statement.len()).unwrap_or(u64::MAX),
    }
}

/// Signs `statement` at `signing_time` (Unix seconds: the verification time, not the clock) and
/// checks the envelope with the verifier's code before returning it.
pub fn sign_statement(
    statement: &[u8],
    m: &SigningMaterial,
    signing_time: i64,
) -> Result<Vec<u8>, SignError> {
    let target = descriptor(statement);
    let p = payload(&target, &[])?;
    let agent = concat!("airlock/", env!("CARGO_PKG_VERSION"));
    let env = sign_envelope(&SignRequest {
        format: m.format,
        payload: &p,
        chain: &m.chain,
        key: &m.key,
        signing_time,
        expiry: None,
        signing_agent: agent,
    })?;
    check_envelope(m.format, &env, &target, signing_time, None, &[])?;
    Ok(env)
}

/// The envelope format of stored bytes: a JWS is a JSON object, a COSE_Sign1 is CBOR (tag 18,
/// first byte 0xd2, or an untagged array).
pub fn format_of(envelope: &[u8]) -> EnvelopeFormat {
    match envelope.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => EnvelopeFormat::Jws,
        _ => EnvelopeFormat::Cose,
    }
}
