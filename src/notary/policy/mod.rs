//! Trust policy documents for OCI artifacts, version `1.0` (`trustpolicy.oci.json`, or the older
//! `trustpolicy.json`; the blob policy `trustpolicy.blob.json` is a different format).
//!
//! [`parse`] reads the JSON strictly (unknown or repeated keys are errors) and then validates the
//! whole document as notation-go `OCIDocument.Validate` does, with the SPEC-NOTES errata:
//!
//! - `version` is `1.0`; there is at least one statement; statement names are non-empty and
//!   unique;
//! - `signatureVerification.level` is `strict`, `permissive`, `audit` or `skip`; `override` is not
//!   allowed with `skip`; its keys are `authenticity`, `authenticTimestamp`, `expiry`,
//!   `revocation` (`integrity` cannot be overridden) and its values `enforce` or `log`, plus
//!   `skip` for `revocation` only; `verifyTimestamp` is `always` (the default) or
//!   `afterCertExpiry`;
//! - a `skip` statement has no trust stores and no trusted identities; every other statement
//!   has both;
//! - trust stores are `type:name` with a known type and a valid name;
//! - trusted identities are `*` alone, or `prefix:value` entries, where `x509.subject:` values
//!   are distinguished names valid per [`super::dn`] and no two of them overlap (the
//!   specification's rule, errata 10: broader than notation's subset test);
//! - `registryScopes` is non-empty, `*` stands alone, every other scope is `domain/repository`
//!   (notation's regular expressions: lowercase repository), and no scope appears twice in the
//!   document (so there is at most one `*` statement).
//!
//! A [`PolicyDocument`] only exists once all of this holds. [`PolicyDocument::statement_for`]
//! selects the statement for a registry scope (exact match first, then `*`), and
//! [`Statement::action`] gives the [`Action`] for each [`Check`].
//!
//! Layout: `model.rs` (the validated document, the action table, identity matching, statement
//! selection), `parse.rs` (strict JSON and statement validation), `scope.rs` (registry scopes).
//!
//! # Limits
//!
//! A document is at most [`MAX_POLICY_BYTES`], and a statement lists at most
//! [`MAX_TRUSTED_IDENTITIES`] identities (the overlap check is quadratic). notation has neither.

use super::dn::DnError;

mod model;
mod parse;
mod scope;

#[cfg(test)]
mod tests;

pub use model::{
    fold_domain, Action, Check, Level, PolicyDocument, Statement, TrustStoreRef, TrustedIdentities,
    TrustedIdentity, VerifyTimestamp,
};
pub use parse::parse;

/// The only supported document version.
pub const SUPPORTED_VERSION: &str = "1.0";
/// Largest trust policy document accepted, in bytes (1 MiB).
pub const MAX_POLICY_BYTES: usize = 1 << 20;
/// Most trusted identities in one statement.
pub const MAX_TRUSTED_IDENTITIES: usize = 1024;
/// The wildcard registry scope and trusted identity.
pub const WILDCARD: &str = "*";
/// The identity prefix notation itself evaluates.
pub const X509_SUBJECT: &str = "x509.subject";

/// Why a trust policy is unusable, or has no statement for a scope.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The document is larger than [`MAX_POLICY_BYTES`].
    #[error("trust policy is {size} bytes, more than the {limit}-byte limit")]
    TooLarge {
        /// The document's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not JSON, or not the document's shape (unknown or repeated key, wrong type).
    #[error("malformed trust policy: {reason}")]
    Malformed {
        /// The parser's message (names the key or type and the position).
        reason: String,
    },
    /// `version` is absent or empty.
    #[error("trust policy has no \"version\"; it must be \"1.0\"")]
    VersionMissing,
    /// `version` is not `1.0`.
    #[error("trust policy version {version:?} is not supported; it must be \"1.0\"")]
    VersionUnsupported {
        /// The version found.
        version: String,
    },
    /// `trustPolicies` is absent or empty.
    #[error("trust policy has no statements in \"trustPolicies\"")]
    NoStatements,
    /// A statement has no `name`.
    #[error("trust policy statement #{index} has no \"name\"")]
    StatementNameMissing {
        /// Its 0-based position.
        index: usize,
    },
    /// Two statements share a name.
    #[error("multiple trust policy statements use the name {name:?}; names must be unique")]
    DuplicateStatementName {
        /// The name.
        name: String,
    },
    /// `signatureVerification.level` is absent or empty.
    #[error("trust policy statement {statement:?} has no \"signatureVerification.level\"")]
    LevelMissing {
        /// The statement.
        statement: String,
    },
    /// `signatureVerification.level` is not a known level.
    #[error("trust policy statement {statement:?} has invalid signatureVerification level {level:?} (expected strict, permissive, audit or skip)")]
    LevelInvalid {
        /// The statement.
        statement: String,
        /// The value found.
        level: String,
    },
    /// `override` is used with the `skip` level.
    #[error("trust policy statement {statement:?} uses \"override\" with level \"skip\", which cannot be customized")]
    OverrideOnSkip {
        /// The statement.
        statement: String,
    },
    /// An `override` key is not a check name.
    #[error("trust policy statement {statement:?} overrides unknown verification type {key:?} (expected authenticity, authenticTimestamp, expiry or revocation)")]
    OverrideKeyInvalid {
        /// The statement.
        statement: String,
        /// The key.
        key: String,
    },
    /// An `override` value is not an action name.
    #[error("trust policy statement {statement:?} overrides {key:?} with unknown action {value:?} (expected enforce, log or skip)")]
    OverrideValueInvalid {
        /// The statement.
        statement: String,
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// `override` names `integrity`.
    #[error(
        "trust policy statement {statement:?} overrides \"integrity\", which cannot be overridden"
    )]
    OverrideIntegrity {
        /// The statement.
        statement: String,
    },
    /// `override` sets `skip` on a check other than `revocation`.
    #[error("trust policy statement {statement:?} sets {check:?} to \"skip\"; only revocation can be skipped")]
    OverrideSkipNotAllowed {
        /// The statement.
        statement: String,
        /// The check.
        check: Check,
    },
    /// `verifyTimestamp` is not `always` or `afterCertExpiry`.
    #[error("trust policy statement {statement:?} has verifyTimestamp {value:?}; it must be \"always\" or \"afterCertExpiry\"")]
    VerifyTimestampInvalid {
        /// The statement.
        statement: String,
        /// The value found.
        value: String,
    },
    /// A `skip` statement lists trust stores or trusted identities.
    #[error("trust policy statement {statement:?} is set to skip signature verification but lists trust stores or trusted identities; remove them")]
    SkipWithTrustMaterial {
        /// The statement.
        statement: String,
    },
    /// A non-`skip` statement has no trust stores.
    #[error("trust policy statement {statement:?} has no \"trustStores\"; they are required unless the level is skip")]
    TrustStoresMissing {
        /// The statement.
        statement: String,
    },
    /// A non-`skip` statement has no trusted identities.
    #[error("trust policy statement {statement:?} has no \"trustedIdentities\"; they are required unless the level is skip")]
    TrustedIdentitiesMissing {
        /// The statement.
        statement: String,
    },
    /// A trust store value lacks the `:` of `type:name`.
    #[error("trust policy statement {statement:?} has malformed trust store value {value:?}; the format is <type>:<name>")]
    TrustStoreMalformed {
        /// The statement.
        statement: String,
        /// The value.
        value: String,
    },
    /// A trust store type is not `ca`, `signingAuthority` or `tsa`.
    #[error("trust policy statement {statement:?} uses unsupported trust store type {kind:?} in {value:?}")]
    TrustStoreTypeInvalid {
        /// The statement.
        statement: String,
        /// The whole value.
        value: String,
        /// The type part.
        kind: String,
    },
    /// A trust store name is empty or has characters outside `[a-zA-Z0-9_.-]`.
    #[error("trust policy statement {statement:?} uses invalid trust store name {name:?} in {value:?}; names match [a-zA-Z0-9_.-]+")]
    TrustStoreNameInvalid {
        /// The statement.
        statement: String,
        /// The whole value.
        value: String,
        /// The name part.
        name: String,
    },
    /// A statement lists more than [`MAX_TRUSTED_IDENTITIES`] identities.
    #[error(
        "trust policy statement {statement:?} lists {count} trusted identities, more than {limit}"
    )]
    TooManyIdentities {
        /// The statement.
        statement: String,
        /// How many.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// `*` is combined with other trusted identities.
    #[error("trust policy statement {statement:?} combines the wildcard trusted identity \"*\" with other values")]
    IdentityWildcardMixed {
        /// The statement.
        statement: String,
    },
    /// A trusted identity is the empty string.
    #[error("trust policy statement {statement:?} has an empty trusted identity")]
    IdentityEmpty {
        /// The statement.
        statement: String,
    },
    /// A trusted identity lacks the `:` of `prefix:value`.
    #[error("trust policy statement {statement:?} has trusted identity {identity:?} without the \"prefix:value\" separator")]
    IdentitySeparatorMissing {
        /// The statement.
        statement: String,
        /// The identity.
        identity: String,
    },
    /// An `x509.subject:` identity has no value.
    #[error(
        "trust policy statement {statement:?} has trusted identity {identity:?} without a value"
    )]
    IdentityValueEmpty {
        /// The statement.
        statement: String,
        /// The identity.
        identity: String,
    },
    /// An `x509.subject:` value is not a valid distinguished name.
    #[error(
        "trust policy statement {statement:?} has invalid trusted identity {identity:?}: {source}"
    )]
    IdentityInvalid {
        /// The statement.
        statement: String,
        /// The identity.
        identity: String,
        /// Why the DN is invalid.
        #[source]
        source: DnError,
    },
    /// Two `x509.subject:` identities could match the same certificate.
    #[error("trust policy statement {statement:?} has overlapping trusted identities {first:?} and {second:?}")]
    IdentitiesOverlap {
        /// The statement.
        statement: String,
        /// The first identity.
        first: String,
        /// The second identity.
        second: String,
    },
    /// A statement has no registry scopes.
    #[error("trust policy statement {statement:?} has no \"registryScopes\"")]
    ScopesMissing {
        /// The statement.
        statement: String,
    },
    /// `*` is combined with other registry scopes.
    #[error("trust policy statement {statement:?} combines the wildcard registry scope \"*\" with other scopes")]
    ScopeWildcardMixed {
        /// The statement.
        statement: String,
    },
    /// A registry scope is not `domain/repository`. With no statement, it is the scope given
    /// to [`PolicyDocument::statement_for`].
    #[error("registry scope {scope:?}{} is not valid: {reason}; use a fully qualified repository without scheme or tag, e.g. example.com/my/repository or local/my-layout", statement.as_ref().map(|s| format!(" in trust policy statement {s:?}")).unwrap_or_default())]
    ScopeInvalid {
        /// The statement, or none for a lookup.
        statement: Option<String>,
        /// The scope.
        scope: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A registry scope appears more than once in the document (in one statement or two).
    #[error("registry scope {scope:?} appears more than once; a scope can belong to only one trust policy statement")]
    DuplicateScope {
        /// The scope (`*` for two global statements).
        scope: String,
    },
    /// Two statements list scopes that name one repository spelled two ways (host case, port 443,
    /// Docker Hub's host names): which statement judges it would depend on how a bundle spells
    /// the name. notation compares scopes exactly and accepts this.
    #[error("registry scopes {scope:?} (statement {statement:?}) and {other:?} (statement {other_statement:?}) name the same repository; list it in one statement")]
    AliasedScope {
        /// The first scope, in document order.
        scope: String,
        /// Its statement.
        statement: String,
        /// The scope naming the same repository.
        other: String,
        /// Its statement.
        other_statement: String,
    },
    /// No statement lists the scope and there is no `*` statement.
    #[error("registry scope {scope:?} has no applicable trust policy statement")]
    NoApplicablePolicy {
        /// The scope.
        scope: String,
    },
}

crate::notary::reason::reasons! {
    /// Why a trust policy, or a scope matched against it, was refused.
    pub enum PolicyReason {
        /// `no_applicable_policy`.
        NoApplicablePolicy => "no_applicable_policy",
        /// `scope_invalid`.
        ScopeInvalid => "scope_invalid",
        /// `policy_invalid`.
        PolicyInvalid => "policy_invalid",
    }
}

impl PolicyError {
    /// Stable reason code: `no_applicable_policy`, `scope_invalid` for a scope given to
    /// [`PolicyDocument::statement_for`], and `policy_invalid` for everything else.
    pub fn reason(&self) -> PolicyReason {
        match self {
            PolicyError::NoApplicablePolicy { .. } => PolicyReason::NoApplicablePolicy,
            PolicyError::ScopeInvalid {
                statement: None, ..
            } => PolicyReason::ScopeInvalid,
            _ => PolicyReason::PolicyInvalid,
        }
    }

    /// The stable string of [`Self::reason`] (reports, usage errors, the corpus tests).
    pub fn code(&self) -> &'static str {
        self.reason().as_str()
    }
}
