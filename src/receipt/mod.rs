//! Verification receipts (issue 15): what airlock concluded about a bundle, as a standard, signed
//! record an auditor can check later and offline.
//!
//! * [`statement`]: an in-toto Statement v1 whose predicate is a SLSA Verification Summary v1,
//!   built deterministically from a [`crate::verify::Report`] (the time is the report's
//!   `verifiedAt`, never the clock).
//! * [`shape`]: the Statement v1 and VSA v1 field rules, as a reader checks them.
//! * [`sign`]: a Notary Project envelope (JWS or COSE) over the statement, whose payload's
//!   `targetArtifact` is the statement blob's descriptor ([`MEDIA_TYPE`], sha256, size).
//! * [`oci`]: the receipt as OCI artifacts attached to its image (a receipt manifest and its
//!   Notary signature manifest, built with `airlock sign`'s code).
//! * [`check`]: `airlock receipt verify`: the envelope through the signature stage's own
//!   evaluation (integrity, certificate rules, chain to a trust store, trusted identity, expiry,
//!   revocation) under the trust-policy statement for [`RECEIPT_SCOPE`], the payload against the
//!   statement's digest and size, and the statement's shape.
//!
//! Nothing here reads the clock or the network.

pub mod check;
pub mod oci;
#[cfg(feature = "pull")]
pub mod pull;
#[cfg(feature = "pull")]
pub mod push;
pub mod shape;
pub mod sign;
pub mod statement;
#[cfg(test)]
mod tests;

pub use check::{check, Check, CheckCode, CheckFailure, Receipt};
pub use shape::{check_shape, ShapeError, Summary};
pub use sign::{sign_statement, SigningMaterial};
pub use statement::{build, PolicyInput, ReceiptContext, Statement};

/// The in-toto Statement type this module writes and reads.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type: SLSA Verification Summary Attestation v1.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/verification_summary/v1";
/// The media type of a statement blob (in-toto's `payloadType`, and the OCI `artifactType` of an
/// attached receipt).
pub const MEDIA_TYPE: &str = "application/vnd.in-toto+json";
/// `verifier.id`: a TypeURI naming airlock's verifier. in-toto allows a TypeURI that does not
/// resolve; this one is a name, not a location.
pub const VERIFIER_ID: &str = "urn:airlock:verifier";
/// The predicate's extension field carrying airlock's own detail (the in-toto v1 parsing rules:
/// producers may add extension fields with names unlikely to collide; consumers must ignore
/// fields they do not recognise).
pub const DETAIL_KEY: &str = "io.airlock.receipt";
/// The registry scope a receipt's signature is matched under in a trust policy: a receipt is not
/// an image in a repository, so it gets a reserved scope of its own (a statement naming it, or the
/// `*` statement).
pub const RECEIPT_SCOPE: &str = "airlock/receipt";
/// Largest statement or envelope read.
pub const MAX_RECEIPT_BYTES: u64 = 4 << 20;
