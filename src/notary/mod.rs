//! Notary Project (notation) verification: envelopes (COSE, JWS), payloads, certificate chains,
//! RFC 3161 timestamps, offline revocation, trust stores and trust policies.
//!
//! Signing ([`sign`]) builds envelopes with the same code and checks them with the verifier.
//!
//! Nothing here touches the network or the clock: every time is a parameter. Only [`crypto`] (with its child
//! [`crypto::cms`] for the timestamp token's CMS signature) calls signature primitives.

pub mod chain;
pub mod crypto;
pub mod dn;
pub mod envelope;
pub mod payload;
pub mod policy;
pub mod reason;
pub mod revocation;
pub mod sign;
pub mod time;
pub mod timestamp;
pub mod truststore;
pub mod verify_time;
pub mod x509;

#[cfg(test)]
mod policy_corpus_tests;
