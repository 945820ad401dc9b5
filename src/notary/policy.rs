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
//! # Limits
//!
//! A document is at most [`MAX_POLICY_BYTES`], and a statement lists at most
//! [`MAX_TRUSTED_IDENTITIES`] identities (the overlap check is quadratic). notation has neither.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use x509_cert::name::Name;

use super::dn::{DistinguishedName, DnError};
use super::truststore::{is_valid_store_name, StoreType};

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

/// A verification step whose failure the policy enforces, logs or skips.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    /// The signature envelope is intact and its signature verifies.
    Integrity,
    /// The signer chains to a trusted root and matches the trusted identities.
    Authenticity,
    /// The signature was made while the signing certificates were valid.
    AuthenticTimestamp,
    /// The signature's own expiry has not passed.
    Expiry,
    /// The signing certificates are not revoked.
    Revocation,
}

impl Check {
    /// All checks, in the specification's order.
    pub const ALL: [Check; 5] = [
        Check::Integrity,
        Check::Authenticity,
        Check::AuthenticTimestamp,
        Check::Expiry,
        Check::Revocation,
    ];

    /// The name used in trust policies and reports (`authenticTimestamp`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Integrity => "integrity",
            Check::Authenticity => "authenticity",
            Check::AuthenticTimestamp => "authenticTimestamp",
            Check::Expiry => "expiry",
            Check::Revocation => "revocation",
        }
    }

    fn from_name(s: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failed [`Check`] does to the verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// The failure fails the signature.
    Enforce,
    /// The failure is reported as a warning and verification goes on.
    Log,
    /// The check is not performed.
    Skip,
}

impl Action {
    /// The name used in trust policies and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enforce => "enforce",
            Action::Log => "log",
            Action::Skip => "skip",
        }
    }

    fn from_name(s: &str) -> Option<Action> {
        [Action::Enforce, Action::Log, Action::Skip]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A predefined signature verification level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    /// Every check enforced.
    Strict,
    /// Integrity and authenticity enforced; the rest logged.
    Permissive,
    /// Integrity enforced; the rest logged.
    Audit,
    /// No signature is looked at.
    Skip,
}

impl Level {
    /// All levels.
    pub const ALL: [Level; 4] = [Level::Strict, Level::Permissive, Level::Audit, Level::Skip];

    /// The name used in trust policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Strict => "strict",
            Level::Permissive => "permissive",
            Level::Audit => "audit",
            Level::Skip => "skip",
        }
    }

    /// The specification's table (notation-go `LevelStrict` ... `LevelSkip`).
    pub fn base_action(self, check: Check) -> Action {
        match (self, check) {
            (Level::Skip, _) => Action::Skip,
            (_, Check::Integrity) | (Level::Strict, _) => Action::Enforce,
            (Level::Permissive, Check::Authenticity) => Action::Enforce,
            (Level::Permissive | Level::Audit, _) => Action::Log,
        }
    }

    fn from_name(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When an RFC 3161 timestamp countersignature is verified (if a `tsa` store is configured).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VerifyTimestamp {
    /// Always (the default; also what an empty value means).
    #[default]
    Always,
    /// Only when a certificate of the signing chain has expired.
    AfterCertExpiry,
}

impl VerifyTimestamp {
    /// The name used in trust policies.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyTimestamp::Always => "always",
            VerifyTimestamp::AfterCertExpiry => "afterCertExpiry",
        }
    }
}

/// A validated `type:name` trust store reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrustStoreRef {
    kind: StoreType,
    name: String,
}

impl TrustStoreRef {
    /// The store type.
    pub fn kind(&self) -> StoreType {
        self.kind
    }

    /// The store name (valid per [`is_valid_store_name`]).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for TrustStoreRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.name)
    }
}

/// One entry of `trustedIdentities` other than `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustedIdentity {
    /// `x509.subject: <DN>`.
    X509Subject(DistinguishedName),
    /// Another `prefix:value` (left to plugins by notation, never matched here).
    Other {
        /// The text before the first `:`.
        prefix: String,
        /// The text after it.
        value: String,
    },
}

/// A statement's `trustedIdentities`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustedIdentities {
    /// None (a `skip` statement).
    None,
    /// `["*"]`: any signer the trust stores vouch for.
    Any,
    /// An explicit list.
    Listed(Vec<TrustedIdentity>),
}

/// One validated trust policy statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    name: String,
    registry_scopes: Vec<String>,
    level: Level,
    overrides: Vec<(Check, Action)>,
    verify_timestamp: VerifyTimestamp,
    trust_stores: Vec<TrustStoreRef>,
    trusted_identities: TrustedIdentities,
}

impl Statement {
    /// The statement's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The registry scopes, as written (`["*"]` for the global statement).
    pub fn registry_scopes(&self) -> &[String] {
        &self.registry_scopes
    }

    /// Whether this is the global (`*`) statement.
    pub fn is_global(&self) -> bool {
        self.registry_scopes.iter().any(|s| s == WILDCARD)
    }

    /// The base verification level.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Whether signature verification is skipped altogether.
    pub fn is_skip(&self) -> bool {
        self.level == Level::Skip
    }

    /// The action for `check`: the level's table entry unless `override` changes it.
    pub fn action(&self, check: Check) -> Action {
        self.overrides
            .iter()
            .find(|(c, _)| *c == check)
            .map_or_else(|| self.level.base_action(check), |(_, a)| *a)
    }

    /// The `override` entries, in document order.
    pub fn overrides(&self) -> &[(Check, Action)] {
        &self.overrides
    }

    /// When to verify a timestamp countersignature.
    pub fn verify_timestamp(&self) -> VerifyTimestamp {
        self.verify_timestamp
    }

    /// The trust stores, in document order, each once.
    pub fn trust_stores(&self) -> &[TrustStoreRef] {
        &self.trust_stores
    }

    /// The trust stores of one type.
    pub fn trust_stores_of(&self, kind: StoreType) -> impl Iterator<Item = &TrustStoreRef> + '_ {
        self.trust_stores.iter().filter(move |s| s.kind == kind)
    }

    /// The trusted identities.
    pub fn trusted_identities(&self) -> &TrustedIdentities {
        &self.trusted_identities
    }

    /// Whether a signing certificate with this subject is a trusted identity: `*`, or some
    /// `x509.subject` identity whose every attribute the subject carries with an equal value.
    /// False for a `skip` statement, for a subject notation cannot read (see
    /// [`DistinguishedName::from_subject`]) and when only non-`x509.subject` identities exist.
    pub fn identity_matches(&self, subject: &Name) -> bool {
        self.match_identity(subject).unwrap_or(false)
    }

    /// Like [`Statement::identity_matches`], but says why a subject cannot be matched.
    pub fn match_identity(&self, subject: &Name) -> Result<bool, DnError> {
        match &self.trusted_identities {
            TrustedIdentities::None => Ok(false),
            TrustedIdentities::Any => Ok(true),
            TrustedIdentities::Listed(ids) => {
                if !ids
                    .iter()
                    .any(|id| matches!(id, TrustedIdentity::X509Subject(_)))
                {
                    return Ok(false);
                }
                let subject = DistinguishedName::from_subject(subject)?;
                Ok(ids.iter().any(|id| match id {
                    TrustedIdentity::X509Subject(dn) => dn.is_subset_of(&subject),
                    TrustedIdentity::Other { .. } => false,
                }))
            }
        }
    }
}

/// A validated trust policy document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// The document version (always `1.0`).
    pub fn version(&self) -> &'static str {
        SUPPORTED_VERSION
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// The statement that applies to a registry scope (`domain/repository`, e.g.
    /// `localhost:5000/e2e`): the one listing it exactly, else the `*` statement.
    ///
    /// The scope itself must be valid ([`PolicyError::ScopeInvalid`] with no statement); no
    /// applicable statement is [`PolicyError::NoApplicablePolicy`].
    pub fn statement_for(&self, scope: &str) -> Result<&Statement, PolicyError> {
        check_scope(scope).map_err(|reason| PolicyError::ScopeInvalid {
            statement: None,
            scope: scope.to_owned(),
            reason,
        })?;
        let mut global = None;
        for statement in &self.statements {
            if statement.is_global() {
                global = Some(statement);
            } else if statement.registry_scopes.iter().any(|s| s == scope) {
                return Ok(statement);
            }
        }
        global.ok_or_else(|| PolicyError::NoApplicablePolicy {
            scope: scope.to_owned(),
        })
    }
}

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
    /// No statement lists the scope and there is no `*` statement.
    #[error("registry scope {scope:?} has no applicable trust policy statement")]
    NoApplicablePolicy {
        /// The scope.
        scope: String,
    },
}

impl PolicyError {
    /// Stable reason code: `no_applicable_policy`, `scope_invalid` for a scope given to
    /// [`PolicyDocument::statement_for`], and `policy_invalid` for everything else.
    pub fn code(&self) -> &'static str {
        match self {
            PolicyError::NoApplicablePolicy { .. } => "no_applicable_policy",
            PolicyError::ScopeInvalid {
                statement: None, ..
            } => "scope_invalid",
            _ => "policy_invalid",
        }
    }
}

/// Parses and validates a trust policy document (`trustpolicy.json` / `trustpolicy.oci.json`).
pub fn parse(bytes: &[u8]) -> Result<PolicyDocument, PolicyError> {
    if bytes.len() > MAX_POLICY_BYTES {
        return Err(PolicyError::TooLarge {
            size: bytes.len(),
            limit: MAX_POLICY_BYTES,
        });
    }
    let raw: RawDocument = serde_json::from_slice(bytes).map_err(|e| PolicyError::Malformed {
        reason: e.to_string(),
    })?;
    validate(raw)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    version: Option<String>,
    #[serde(rename = "trustPolicies")]
    trust_policies: Option<Vec<RawStatement>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawStatement {
    name: Option<String>,
    registry_scopes: Option<Vec<String>>,
    signature_verification: Option<RawSignatureVerification>,
    trust_stores: Option<Vec<String>>,
    trusted_identities: Option<Vec<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSignatureVerification {
    level: Option<String>,
    #[serde(rename = "override")]
    overrides: Option<OverrideMap>,
    verify_timestamp: Option<String>,
}

/// `override` as written: string to string, in order, each key once.
struct OverrideMap(Vec<(String, String)>);

impl<'de> Deserialize<'de> for OverrideMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = OverrideMap;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of verification type to action")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OverrideMap, A::Error> {
                let mut entries: Vec<(String, String)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, String>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format_args!(
                            "duplicate override key `{key}`"
                        )));
                    }
                    entries.push((key, value));
                }
                Ok(OverrideMap(entries))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

fn validate(raw: RawDocument) -> Result<PolicyDocument, PolicyError> {
    let version = raw.version.unwrap_or_default();
    if version.is_empty() {
        return Err(PolicyError::VersionMissing);
    }
    if version != SUPPORTED_VERSION {
        return Err(PolicyError::VersionUnsupported { version });
    }
    let raws = raw.trust_policies.unwrap_or_default();
    if raws.is_empty() {
        return Err(PolicyError::NoStatements);
    }
    let mut names: HashSet<String> = HashSet::new();
    let mut statements = Vec::with_capacity(raws.len());
    for (index, raw) in raws.into_iter().enumerate() {
        let name = raw.name.clone().unwrap_or_default();
        if names.contains(&name) {
            return Err(PolicyError::DuplicateStatementName { name });
        }
        statements.push(validate_statement(index, raw)?);
        names.insert(name);
    }
    validate_scopes(&statements)?;
    Ok(PolicyDocument { statements })
}

/// notation's `validatePolicyCore`, for one statement (its scopes are checked across the
/// document afterwards).
fn validate_statement(index: usize, raw: RawStatement) -> Result<Statement, PolicyError> {
    let name = raw.name.unwrap_or_default();
    if name.is_empty() {
        return Err(PolicyError::StatementNameMissing { index });
    }
    let sv = raw.signature_verification.unwrap_or_default();
    let level_name = sv.level.unwrap_or_default();
    if level_name.is_empty() {
        return Err(PolicyError::LevelMissing { statement: name });
    }
    let Some(level) = Level::from_name(&level_name) else {
        return Err(PolicyError::LevelInvalid {
            statement: name,
            level: level_name,
        });
    };

    let written = sv.overrides.map(|m| m.0).unwrap_or_default();
    if !written.is_empty() && level == Level::Skip {
        return Err(PolicyError::OverrideOnSkip { statement: name });
    }
    let mut overrides = Vec::with_capacity(written.len());
    for (key, value) in written {
        let Some(check) = Check::from_name(&key) else {
            return Err(PolicyError::OverrideKeyInvalid {
                statement: name,
                key,
            });
        };
        let Some(action) = Action::from_name(&value) else {
            return Err(PolicyError::OverrideValueInvalid {
                statement: name,
                key,
                value,
            });
        };
        if check == Check::Integrity {
            return Err(PolicyError::OverrideIntegrity { statement: name });
        }
        if check != Check::Revocation && action == Action::Skip {
            return Err(PolicyError::OverrideSkipNotAllowed {
                statement: name,
                check,
            });
        }
        overrides.push((check, action));
    }

    let verify_timestamp = match sv.verify_timestamp.as_deref() {
        None | Some("") | Some("always") => VerifyTimestamp::Always,
        Some("afterCertExpiry") => VerifyTimestamp::AfterCertExpiry,
        Some(other) => {
            return Err(PolicyError::VerifyTimestampInvalid {
                statement: name,
                value: other.to_owned(),
            })
        }
    };

    let stores = raw.trust_stores.unwrap_or_default();
    let identities = raw.trusted_identities.unwrap_or_default();
    let (trust_stores, trusted_identities) = if level == Level::Skip {
        if !stores.is_empty() || !identities.is_empty() {
            return Err(PolicyError::SkipWithTrustMaterial { statement: name });
        }
        (Vec::new(), TrustedIdentities::None)
    } else {
        if stores.is_empty() {
            return Err(PolicyError::TrustStoresMissing { statement: name });
        }
        if identities.is_empty() {
            return Err(PolicyError::TrustedIdentitiesMissing { statement: name });
        }
        (
            validate_trust_stores(&name, stores)?,
            validate_identities(&name, identities)?,
        )
    };

    Ok(Statement {
        name,
        registry_scopes: raw.registry_scopes.unwrap_or_default(),
        level,
        overrides,
        verify_timestamp,
        trust_stores,
        trusted_identities,
    })
}

fn validate_trust_stores(
    statement: &str,
    values: Vec<String>,
) -> Result<Vec<TrustStoreRef>, PolicyError> {
    let mut stores: Vec<TrustStoreRef> = Vec::with_capacity(values.len());
    for value in values {
        let Some((kind, name)) = value.split_once(':') else {
            return Err(PolicyError::TrustStoreMalformed {
                statement: statement.to_owned(),
                value,
            });
        };
        let Ok(kind_parsed) = kind.parse::<StoreType>() else {
            return Err(PolicyError::TrustStoreTypeInvalid {
                statement: statement.to_owned(),
                kind: kind.to_owned(),
                value,
            });
        };
        if !is_valid_store_name(name) {
            return Err(PolicyError::TrustStoreNameInvalid {
                statement: statement.to_owned(),
                name: name.to_owned(),
                value,
            });
        }
        let store = TrustStoreRef {
            kind: kind_parsed,
            name: name.to_owned(),
        };
        if !stores.contains(&store) {
            stores.push(store);
        }
    }
    Ok(stores)
}

fn validate_identities(
    statement: &str,
    values: Vec<String>,
) -> Result<TrustedIdentities, PolicyError> {
    if values.len() > MAX_TRUSTED_IDENTITIES {
        return Err(PolicyError::TooManyIdentities {
            statement: statement.to_owned(),
            count: values.len(),
            limit: MAX_TRUSTED_IDENTITIES,
        });
    }
    let has_wildcard = values.iter().any(|v| v == WILDCARD);
    if has_wildcard && values.len() > 1 {
        return Err(PolicyError::IdentityWildcardMixed {
            statement: statement.to_owned(),
        });
    }
    if has_wildcard {
        return Ok(TrustedIdentities::Any);
    }
    let mut listed = Vec::with_capacity(values.len());
    let mut subjects: Vec<(&str, DistinguishedName)> = Vec::new();
    for identity in &values {
        if identity.is_empty() {
            return Err(PolicyError::IdentityEmpty {
                statement: statement.to_owned(),
            });
        }
        let Some((prefix, value)) = identity.split_once(':') else {
            return Err(PolicyError::IdentitySeparatorMissing {
                statement: statement.to_owned(),
                identity: identity.clone(),
            });
        };
        if prefix != X509_SUBJECT {
            listed.push(TrustedIdentity::Other {
                prefix: prefix.to_owned(),
                value: value.to_owned(),
            });
            continue;
        }
        if value.is_empty() {
            return Err(PolicyError::IdentityValueEmpty {
                statement: statement.to_owned(),
                identity: identity.clone(),
            });
        }
        let dn =
            DistinguishedName::parse(value).map_err(|source| PolicyError::IdentityInvalid {
                statement: statement.to_owned(),
                identity: identity.clone(),
                source,
            })?;
        if let Some((first, _)) = subjects.iter().find(|(_, other)| other.overlaps(&dn)) {
            return Err(PolicyError::IdentitiesOverlap {
                statement: statement.to_owned(),
                first: (*first).to_owned(),
                second: identity.clone(),
            });
        }
        subjects.push((identity, dn.clone()));
        listed.push(TrustedIdentity::X509Subject(dn));
    }
    Ok(TrustedIdentities::Listed(listed))
}

/// notation's `validateRegistryScopes`, over the whole document.
fn validate_scopes(statements: &[Statement]) -> Result<(), PolicyError> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for statement in statements {
        let scopes = &statement.registry_scopes;
        if scopes.is_empty() {
            return Err(PolicyError::ScopesMissing {
                statement: statement.name.clone(),
            });
        }
        if scopes.len() > 1 && statement.is_global() {
            return Err(PolicyError::ScopeWildcardMixed {
                statement: statement.name.clone(),
            });
        }
        for scope in scopes {
            if scope != WILDCARD {
                check_scope(scope).map_err(|reason| PolicyError::ScopeInvalid {
                    statement: Some(statement.name.clone()),
                    scope: scope.clone(),
                    reason,
                })?;
            }
            let n = count.entry(scope).or_insert(0);
            *n = n.saturating_add(1);
            order.push(scope);
        }
    }
    if let Some(scope) = order
        .into_iter()
        .find(|s| count.get(s).is_some_and(|n| *n > 1))
    {
        return Err(PolicyError::DuplicateScope {
            scope: scope.to_owned(),
        });
    }
    Ok(())
}

/// notation's `validateRegistryScopeFormat`: `domain/repository` with distribution's domain and
/// (lowercase) repository grammars, no `*`.
fn check_scope(scope: &str) -> Result<(), &'static str> {
    if scope.len() > 1 && scope.contains('*') {
        return Err("wildcards are only allowed as the whole scope \"*\"");
    }
    let Some((domain, repository)) = scope.split_once('/') else {
        return Err("it has no \"/<repository>\" after the registry");
    };
    if domain.is_empty() || !domain_ok(domain) {
        return Err("the registry part is not a valid host[:port]");
    }
    if repository.is_empty() || !repository.split('/').all(component_ok) {
        return Err("the repository part is not lowercase letters and digits joined by '.', '_', '__', '-' and '/'");
    }
    Ok(())
}

/// `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(same))*(?::[0-9]+)?`
fn domain_ok(domain: &str) -> bool {
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let label_ok = |label: &str| {
        let b = label.as_bytes();
        b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.last().is_some_and(u8::is_ascii_alphanumeric)
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    port_ok && host.split('.').all(label_ok)
}

/// One path component: `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
fn component_ok(component: &str) -> bool {
    let separator_ok =
        |s: &str| matches!(s, "." | "_" | "__") || (!s.is_empty() && s.bytes().all(|b| b == b'-'));
    let mut separator = String::new();
    let mut seen_alnum = false;
    for c in component.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if !separator.is_empty() {
                if !separator_ok(&separator) {
                    return false;
                }
                separator.clear();
            }
            seen_alnum = true;
        } else {
            if !seen_alnum {
                return false;
            }
            separator.push(c);
        }
    }
    seen_alnum && separator.is_empty()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use serde_json::{json, Value};

    use super::*;

    /// notation-go's `dummyOCIPolicyDocument` statement, as JSON.
    fn statement() -> Value {
        json!({
            "name": "test-statement-name",
            "registryScopes": ["registry.acme-rockets.io/software/net-monitor"],
            "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:valid-trust-store", "signingAuthority:valid-trust-store"],
            "trustedIdentities": ["x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US"]
        })
    }

    fn doc(statements: Vec<Value>) -> Value {
        json!({"version": "1.0", "trustPolicies": statements})
    }

    fn with(edit: impl FnOnce(&mut Value)) -> Value {
        let mut s = statement();
        edit(&mut s);
        doc(vec![s])
    }

    fn parse_value(v: &Value) -> Result<PolicyDocument, PolicyError> {
        parse(serde_json::to_string(v).unwrap().as_bytes())
    }

    fn ok(v: &Value) -> PolicyDocument {
        parse_value(v).unwrap_or_else(|e| panic!("{v} should be valid: {e}"))
    }

    fn bad(v: &Value) -> PolicyError {
        match parse_value(v) {
            Ok(_) => panic!("{v} should be invalid"),
            Err(e) => {
                assert_eq!(e.code(), "policy_invalid", "{e}");
                e
            }
        }
    }

    fn level(name: &str) -> Statement {
        let d = ok(&with(|s| {
            s["signatureVerification"] = json!({"level": name});
            if name == "skip" {
                s.as_object_mut().unwrap().remove("trustStores");
                s.as_object_mut().unwrap().remove("trustedIdentities");
            }
        }));
        d.statements()[0].clone()
    }

    #[test]
    fn valid_document() {
        let d = ok(&doc(vec![statement()]));
        assert_eq!(d.version(), "1.0");
        let s = &d.statements()[0];
        assert_eq!(s.name(), "test-statement-name");
        assert_eq!(
            s.registry_scopes(),
            ["registry.acme-rockets.io/software/net-monitor"]
        );
        assert!(!s.is_global());
        assert_eq!(s.level(), Level::Strict);
        assert!(!s.is_skip());
        assert_eq!(s.verify_timestamp(), VerifyTimestamp::Always);
        let stores: Vec<String> = s.trust_stores().iter().map(ToString::to_string).collect();
        assert_eq!(
            stores,
            ["ca:valid-trust-store", "signingAuthority:valid-trust-store"]
        );
        assert_eq!(s.trust_stores_of(StoreType::SigningAuthority).count(), 1);
        assert_eq!(s.trust_stores_of(StoreType::Tsa).count(), 0);
        let TrustedIdentities::Listed(ids) = s.trusted_identities() else {
            panic!("listed identities expected")
        };
        assert!(
            matches!(&ids[..], [TrustedIdentity::X509Subject(dn)] if dn.get("CN") == Some("Notation Test Root"))
        );
    }

    #[test]
    fn action_table_every_level_and_check() {
        use Action::{Enforce as E, Log as L, Skip as S};
        let table = [
            ("strict", [E, E, E, E, E]),
            ("permissive", [E, E, L, L, L]),
            ("audit", [E, L, L, L, L]),
            ("skip", [S, S, S, S, S]),
        ];
        for (name, actions) in table {
            let s = level(name);
            assert_eq!(s.level().as_str(), name);
            for (check, want) in Check::ALL.into_iter().zip(actions) {
                assert_eq!(s.action(check), want, "{name} {check}");
                assert_eq!(s.level().base_action(check), want, "{name} {check}");
            }
            assert_eq!(s.is_skip(), name == "skip");
        }
    }

    #[test]
    fn overrides_every_allowed_combination() {
        let allowed: [(Check, &[Action]); 4] = [
            (Check::Authenticity, &[Action::Enforce, Action::Log]),
            (Check::AuthenticTimestamp, &[Action::Enforce, Action::Log]),
            (Check::Expiry, &[Action::Enforce, Action::Log]),
            (
                Check::Revocation,
                &[Action::Enforce, Action::Log, Action::Skip],
            ),
        ];
        for base in ["strict", "permissive", "audit"] {
            for (check, actions) in allowed {
                for action in [Action::Enforce, Action::Log, Action::Skip] {
                    let v = with(|s| {
                        s["signatureVerification"] =
                            json!({"level": base, "override": {check.as_str(): action.as_str()}})
                    });
                    if actions.contains(&action) {
                        let d = ok(&v);
                        let s = &d.statements()[0];
                        for other in Check::ALL {
                            let want = if other == check {
                                action
                            } else {
                                Level::from_name(base).unwrap().base_action(other)
                            };
                            assert_eq!(s.action(other), want, "{base} {check}={action}: {other}");
                        }
                        assert_eq!(s.overrides(), [(check, action)]);
                    } else {
                        assert!(
                            matches!(bad(&v), PolicyError::OverrideSkipNotAllowed { check: c, .. } if c == check),
                            "{base} {check}={action}"
                        );
                    }
                }
            }
            for action in ["enforce", "log", "skip"] {
                let v = with(|s| {
                    s["signatureVerification"] =
                        json!({"level": base, "override": {"integrity": action}})
                });
                assert!(matches!(bad(&v), PolicyError::OverrideIntegrity { .. }));
            }
        }
        // Several overrides at once (the corpus's audit + enforce-everything).
        let d = ok(&with(|s| {
            s["signatureVerification"] = json!({"level": "audit", "override":
                {"revocation": "enforce", "expiry": "enforce", "authenticTimestamp": "enforce", "authenticity": "enforce"}})
        }));
        assert!(Check::ALL
            .into_iter()
            .all(|c| d.statements()[0].action(c) == Action::Enforce));
    }

    #[test]
    fn override_errors() {
        let sv = |v: Value| with(|s| s["signatureVerification"] = v);
        assert!(matches!(
            bad(&sv(json!({"level": "strict", "override": {"signature": "log"}}))),
            PolicyError::OverrideKeyInvalid { key, .. } if key == "signature"
        ));
        assert!(matches!(
            bad(&sv(
                json!({"level": "strict", "override": {"Expiry": "log"}})
            )),
            PolicyError::OverrideKeyInvalid { .. }
        ));
        assert!(matches!(
            bad(&sv(json!({"level": "strict", "override": {"expiry": "warn"}}))),
            PolicyError::OverrideValueInvalid { value, .. } if value == "warn"
        ));
        assert!(matches!(
            bad(&sv(json!({"level": "strict", "override": {"expiry": 1}}))),
            PolicyError::Malformed { .. }
        ));
        let e = parse(br#"{"version":"1.0","trustPolicies":[{"name":"n","registryScopes":["*"],
            "signatureVerification":{"level":"strict","override":{"expiry":"log","expiry":"enforce"}},
            "trustStores":["ca:s"],"trustedIdentities":["*"]}]}"#)
        .unwrap_err();
        assert!(
            matches!(&e, PolicyError::Malformed { reason } if reason.contains("duplicate override key `expiry`")),
            "{e}"
        );
        // Skip cannot be customised, but an empty or null override is no customisation.
        let skip = |o: Value| {
            doc(vec![json!({"name": "n", "registryScopes": ["*"],
                "signatureVerification": {"level": "skip", "override": o}})])
        };
        assert!(matches!(
            bad(&skip(json!({"revocation": "skip"}))),
            PolicyError::OverrideOnSkip { .. }
        ));
        assert!(ok(&skip(json!({}))).statements()[0].is_skip());
        assert!(ok(&skip(Value::Null)).statements()[0].is_skip());
    }

    #[test]
    fn levels_and_verify_timestamp() {
        let sv = |v: Value| with(|s| s["signatureVerification"] = v);
        assert!(matches!(
            bad(&sv(json!({}))),
            PolicyError::LevelMissing { .. }
        ));
        assert!(matches!(
            bad(&sv(json!({"level": ""}))),
            PolicyError::LevelMissing { .. }
        ));
        assert!(matches!(
            bad(&with(|s| {
                s.as_object_mut().unwrap().remove("signatureVerification");
            })),
            PolicyError::LevelMissing { .. }
        ));
        for l in ["invalid", "Strict", "STRICT", "custom"] {
            assert!(
                matches!(bad(&sv(json!({"level": l}))), PolicyError::LevelInvalid { level, .. } if level == l)
            );
        }
        for (v, want) in [
            (json!(null), VerifyTimestamp::Always),
            (json!(""), VerifyTimestamp::Always),
            (json!("always"), VerifyTimestamp::Always),
            (json!("afterCertExpiry"), VerifyTimestamp::AfterCertExpiry),
        ] {
            let d = ok(&sv(json!({"level": "strict", "verifyTimestamp": v})));
            assert_eq!(d.statements()[0].verify_timestamp(), want);
        }
        assert_eq!(VerifyTimestamp::AfterCertExpiry.as_str(), "afterCertExpiry");
        for v in ["invalid", "Always", "aftercertexpiry"] {
            assert!(matches!(
                bad(&sv(json!({"level": "strict", "verifyTimestamp": v}))),
                PolicyError::VerifyTimestampInvalid { value, .. } if value == v
            ));
        }
    }

    #[test]
    fn document_level_errors() {
        assert!(matches!(
            bad(&json!({"trustPolicies": [statement()]})),
            PolicyError::VersionMissing
        ));
        assert!(matches!(
            bad(&json!({"version": "", "trustPolicies": [statement()]})),
            PolicyError::VersionMissing
        ));
        assert!(matches!(
            bad(&json!({"version": "invalid", "trustPolicies": [statement()]})),
            PolicyError::VersionUnsupported { version } if version == "invalid"
        ));
        assert!(matches!(
            bad(&json!({"version": "1.0"})),
            PolicyError::NoStatements
        ));
        assert!(matches!(
            bad(&json!({"version": "1.0", "trustPolicies": []})),
            PolicyError::NoStatements
        ));
        assert!(matches!(
            bad(&json!({"version": "1.0", "trustPolicies": null})),
            PolicyError::NoStatements
        ));
        assert!(matches!(
            bad(&with(|s| s["name"] = json!(""))),
            PolicyError::StatementNameMissing { index: 0 }
        ));
        let mut second = statement();
        second["registryScopes"] = json!(["registry.acme-rockets.io/software/legacy/metrics"]);
        assert!(matches!(
            bad(&doc(vec![statement(), second])),
            PolicyError::DuplicateStatementName { name } if name == "test-statement-name"
        ));
    }

    #[test]
    fn strict_json() {
        for text in [
            r#"{"version":"1.0","trustPolicies":[],"extra":1}"#,
            r#"{"Version":"1.0","trustPolicies":[]}"#,
            r#"{"version":"1.0","version":"1.0","trustPolicies":[]}"#,
            r#"{"version":"1.0","trustPolicies":[{"name":"n","globalPolicy":true}]}"#,
            r#"{"version":"1.0","trustPolicies":[{"name":"n","signatureVerification":{"level":"strict","verify_timestamp":"always"}}]}"#,
            r#"{"version":1.0,"trustPolicies":[]}"#,
            r#"{"version":"1.0","trustPolicies":{}}"#,
            r#"{"version":"1.0","trustPolicies":[]} trailing"#,
            r#"[]"#,
            "",
            "\u{feff}{}",
        ] {
            let e = parse(text.as_bytes()).unwrap_err();
            assert!(matches!(e, PolicyError::Malformed { .. }), "{text}: {e:?}");
            assert_eq!(e.code(), "policy_invalid");
        }
        let e = parse(br#"{"version":"1.0","trustPolicies":[{"name":"n","trustStore":["ca:x"]}]}"#)
            .unwrap_err();
        assert!(e.to_string().contains("unknown field `trustStore`"), "{e}");
        let big = vec![b' '; MAX_POLICY_BYTES + 1];
        assert!(matches!(parse(&big), Err(PolicyError::TooLarge { .. })));
    }

    #[test]
    fn trust_material_by_level() {
        let remove = |s: &mut Value, k: &str| {
            s.as_object_mut().unwrap().remove(k);
        };
        assert!(matches!(
            bad(&with(|s| s["trustStores"] = json!([]))),
            PolicyError::TrustStoresMissing { .. }
        ));
        assert!(matches!(
            bad(&with(|s| remove(s, "trustStores"))),
            PolicyError::TrustStoresMissing { .. }
        ));
        assert!(matches!(
            bad(&with(|s| s["trustedIdentities"] = json!([]))),
            PolicyError::TrustedIdentitiesMissing { .. }
        ));
        assert!(matches!(
            bad(&with(|s| remove(s, "trustedIdentities"))),
            PolicyError::TrustedIdentitiesMissing { .. }
        ));
        // skip: both must be empty or absent.
        let skip = |stores: Value, ids: Value| {
            with(|s| {
                s["signatureVerification"] = json!({"level": "skip"});
                s["trustStores"] = stores;
                s["trustedIdentities"] = ids;
            })
        };
        assert!(matches!(
            bad(&skip(json!(["ca:x"]), json!([]))),
            PolicyError::SkipWithTrustMaterial { .. }
        ));
        assert!(matches!(
            bad(&skip(json!([]), json!(["*"]))),
            PolicyError::SkipWithTrustMaterial { .. }
        ));
        let d = ok(&skip(json!([]), json!(null)));
        let s = &d.statements()[0];
        assert!(s.is_skip() && s.trust_stores().is_empty());
        assert_eq!(s.trusted_identities(), &TrustedIdentities::None);
    }

    #[test]
    fn trust_store_values() {
        let stores = |v: Value| with(|s| s["trustStores"] = v);
        for v in ["ca", "signingAuthority", "tsa", ""] {
            assert!(
                matches!(bad(&stores(json!([v]))), PolicyError::TrustStoreMalformed { value, .. } if value == v)
            );
        }
        for (v, kind) in [
            ("invalid:x", "invalid"),
            ("CA:x", "CA"),
            (":x", ""),
            ("*:x", "*"),
        ] {
            assert!(matches!(
                bad(&stores(json!([v]))),
                PolicyError::TrustStoreTypeInvalid { kind: k, .. } if k == kind
            ));
        }
        for (v, name) in [
            ("ca:", ""),
            ("ca:a/b", "a/b"),
            ("ca:..", ".."),
            ("ca:a:b", "a:b"),
            ("tsa:*", "*"),
        ] {
            assert!(matches!(
                bad(&stores(json!([v]))),
                PolicyError::TrustStoreNameInvalid { name: n, .. } if n == name
            ));
        }
        let d = ok(&stores(json!([
            "ca:a",
            "tsa:t",
            "ca:a",
            "signingAuthority:a",
            "ca:b"
        ])));
        let got: Vec<String> = d.statements()[0]
            .trust_stores()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got, ["ca:a", "tsa:t", "signingAuthority:a", "ca:b"]);
        let t = &d.statements()[0].trust_stores()[1];
        assert_eq!((t.kind(), t.name()), (StoreType::Tsa, "t"));
    }

    #[test]
    fn trusted_identity_values() {
        let ids = |v: Value| with(|s| s["trustedIdentities"] = v);
        assert!(matches!(
            bad(&ids(json!(["*", "test-identity"]))),
            PolicyError::IdentityWildcardMixed { .. }
        ));
        assert!(matches!(
            bad(&ids(json!(["x509.subject:C=US,ST=WA,O=x", "*"]))),
            PolicyError::IdentityWildcardMixed { .. }
        ));
        assert!(matches!(
            bad(&ids(json!([""]))),
            PolicyError::IdentityEmpty { .. }
        ));
        assert!(matches!(
            bad(&ids(json!(["x509.subject"]))),
            PolicyError::IdentitySeparatorMissing { identity, .. } if identity == "x509.subject"
        ));
        assert!(matches!(
            bad(&ids(json!([
                "x509.subject CN=e2e,O=Notary,L=Seattle,ST=WA,C=US"
            ]))),
            PolicyError::IdentitySeparatorMissing { .. }
        ));
        assert!(matches!(
            bad(&ids(json!(["x509.subject:"]))),
            PolicyError::IdentityValueEmpty { .. }
        ));
        for dn in [
            "x509.subject:CN=e2e,L=Seattle,ST=WA,C=US",
            "x509.subject: C=US, O=x",
            "x509.subject:C=US,ST=WA,O=x=#41",
            "x509.subject:C=US,ST=WA,O=x,OU=a+CN=b",
            "x509.subject:C=US,ST=WA,S=WA,O=x",
            "x509.subject: ",
        ] {
            let e = bad(&ids(json!([dn])));
            assert!(
                matches!(&e, PolicyError::IdentityInvalid { identity, .. } if identity == dn),
                "{dn}: {e:?}"
            );
            assert!(std::error::Error::source(&e).is_some());
        }
        assert_eq!(
            ok(&ids(json!(["*"]))).statements()[0].trusted_identities(),
            &TrustedIdentities::Any
        );
        // Other prefixes are kept but not evaluated.
        let d = ok(&ids(json!([
            "plugin.id:anything",
            "x509.subject:C=US,ST=WA,O=x"
        ])));
        let TrustedIdentities::Listed(list) = d.statements()[0].trusted_identities() else {
            panic!()
        };
        assert!(
            matches!(&list[0], TrustedIdentity::Other { prefix, value } if prefix == "plugin.id" && value == "anything")
        );
        // Too many.
        let many: Vec<String> = (0..=MAX_TRUSTED_IDENTITIES)
            .map(|i| format!("x509.subject:C=US,ST=WA,O=o{i}"))
            .collect();
        assert!(matches!(
            bad(&ids(json!(many))),
            PolicyError::TooManyIdentities { .. }
        ));
        let enough: Vec<String> = (0..MAX_TRUSTED_IDENTITIES)
            .map(|i| format!("x509.subject:C=US,ST=WA,O=o{i}"))
            .collect();
        ok(&ids(json!(enough)));
    }

    #[test]
    fn overlapping_identities() {
        let ids = |v: Value| with(|s| s["trustedIdentities"] = v);
        // notation's subset case (the corpus's overlapped-trusted-identities).
        let e = bad(&ids(json!([
            "x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US",
            "x509.subject: CN=e2e,O=Notary,ST=WA,C=US"
        ])));
        assert!(matches!(e, PolicyError::IdentitiesOverlap { .. }));
        // Errata 10: neither is a subset, but a certificate with OU=x and CN=y matches both.
        assert!(matches!(
            bad(&ids(json!(["x509.subject:C=US,ST=WA,O=a,OU=x", "x509.subject:C=US,ST=WA,O=a,CN=y"]))),
            PolicyError::IdentitiesOverlap { first, second, .. }
                if first.ends_with("OU=x") && second.ends_with("CN=y")
        ));
        // Identical entries overlap; S and ST are the same type.
        assert!(matches!(
            bad(&ids(json!([
                "x509.subject:C=US,ST=WA,O=a",
                "x509.subject:C=US,S=WA,O=a"
            ]))),
            PolicyError::IdentitiesOverlap { .. }
        ));
        // Disjoint identities are fine.
        ok(&ids(json!([
            "x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US",
            "x509.subject: O=Internet Widgits Pty Ltd,ST=Some-State,C=AU"
        ])));
        ok(&ids(json!([
            "x509.subject:C=US,ST=WA,O=a,OU=x",
            "x509.subject:C=US,ST=WA,O=a,OU=y"
        ])));
    }

    #[test]
    fn identity_matching() {
        let name = |s: &str| Name::from_str(s).unwrap();
        let d = ok(&with(|s| {
            s["trustedIdentities"] = json!([
                "x509.subject: C=US, ST=WA, O=Notary, CN=e2e",
                "x509.subject: C=AU, S=Some-State, O=Internet Widgits Pty Ltd"
            ])
        }));
        let s = &d.statements()[0];
        assert!(s.identity_matches(&name("CN=e2e,O=Notary,L=Seattle,ST=WA,C=US")));
        assert!(s.identity_matches(&name("O=Internet Widgits Pty Ltd,ST=Some-State,C=AU")));
        assert!(!s.identity_matches(&name("CN=e2e2,O=Notary,L=Seattle,ST=WA,C=US")));
        assert!(!s.identity_matches(&name("CN=e2e,O=Notary,L=Seattle,C=US")));
        let unusable = name("1.2.840.113549.1.9.1=#160161,CN=e2e,O=Notary,ST=WA,C=US");
        assert!(!s.identity_matches(&unusable));
        assert!(s.match_identity(&unusable).is_err());

        let any = ok(&with(|s| s["trustedIdentities"] = json!(["*"])));
        assert!(any.statements()[0].identity_matches(&unusable));
        let other = ok(&with(|s| s["trustedIdentities"] = json!(["plugin:x"])));
        assert_eq!(other.statements()[0].match_identity(&unusable), Ok(false));
        assert!(!level("skip").identity_matches(&name("CN=e2e,O=Notary,ST=WA,C=US")));
    }

    #[test]
    fn registry_scope_formats() {
        // notation-go TestValidRegistryScopes (minus local/myOCILayout: errata 6).
        for scope in [
            "example.com/rep",
            "example.com:8080/rep/rep2",
            "example.com/rep/subrep/subsub",
            "10.10.10.10:8080/rep/rep2",
            "domain/rep",
            "domain:1234/rep",
            "local/myocilayout",
            "localhost:5000/e2e",
            "Registry.Example-1.com/a.b_c__d-e---f/g0",
        ] {
            ok(&with(|s| s["registryScopes"] = json!([scope])));
            assert!(check_scope(scope).is_ok(), "{scope}");
        }
        // TestInvalidRegistryScopes, the wildcard ones, the corpus's backslash, and regex edges.
        for scope in [
            "",
            "1:1",
            "a,b",
            "abcd",
            "1111",
            "1,2",
            "example.com/rep:tag",
            "example.com/rep/subrep/sub:latest",
            "example.com",
            "rep/rep2:latest",
            "repository",
            "10.10.10.10",
            "10.10.10.10:8080/rep/rep2:latest",
            "local/myOCILayout",
            "example.com/*",
            "*/",
            "example*/",
            "ex*test",
            "localhost:5000\\test-repo",
            "-a.com/rep",
            "a-.com/rep",
            "a..com/rep",
            "a.com:/rep",
            "a.com:80:90/rep",
            "a.com/rep/",
            "a.com//rep",
            "a.com/_rep",
            "a.com/rep_",
            "a.com/re___p",
            "a.com/re._p",
            "a.com/re@p",
            "https://a.com/rep",
            "a.com/rep@sha256:abc",
            "/rep",
            "a.com/",
        ] {
            let e = bad(&with(|s| s["registryScopes"] = json!([scope])));
            assert!(
                matches!(&e, PolicyError::ScopeInvalid { statement: Some(_), scope: sc, .. } if sc == scope),
                "{scope}: {e:?}"
            );
        }
    }

    #[test]
    fn registry_scope_rules() {
        let scopes = |v: Value| with(|s| s["registryScopes"] = v);
        assert!(matches!(
            bad(&scopes(json!([]))),
            PolicyError::ScopesMissing { .. }
        ));
        assert!(matches!(
            bad(&with(|s| {
                s.as_object_mut().unwrap().remove("registryScopes");
            })),
            PolicyError::ScopesMissing { .. }
        ));
        assert!(matches!(
            bad(&scopes(json!([
                "*",
                "registry.acme-rockets.io/software/net-monitor"
            ]))),
            PolicyError::ScopeWildcardMixed { .. }
        ));
        assert!(matches!(
            bad(&scopes(json!(["localhost:5000/test-repo6", "localhost:5000/test-repo6"]))),
            PolicyError::DuplicateScope { scope } if scope == "localhost:5000/test-repo6"
        ));
        let mut second = statement();
        second["name"] = json!("second");
        assert!(matches!(
            bad(&doc(vec![statement(), second.clone()])),
            PolicyError::DuplicateScope { scope } if scope == "registry.acme-rockets.io/software/net-monitor"
        ));
        let mut a = statement();
        a["registryScopes"] = json!(["*"]);
        second["registryScopes"] = json!(["*"]);
        assert!(
            matches!(bad(&doc(vec![a, second])), PolicyError::DuplicateScope { scope } if scope == "*")
        );
    }

    #[test]
    fn statement_selection() {
        let mut exact = statement();
        exact["name"] = json!("exact");
        exact["registryScopes"] = json!(["localhost:5000/test-repo9", "localhost:5000/other"]);
        let mut global = statement();
        global["name"] = json!("global");
        global["registryScopes"] = json!(["*"]);
        let mut skip = json!({"name": "skip", "registryScopes": ["local/unsigned"],
            "signatureVerification": {"level": "skip"}});
        // Order must not matter: exact beats "*" either way.
        for statements in [
            vec![global.clone(), exact.clone(), skip.clone()],
            vec![exact.clone(), skip.clone(), global.clone()],
        ] {
            let d = ok(&doc(statements));
            assert_eq!(
                d.statement_for("localhost:5000/test-repo9").unwrap().name(),
                "exact"
            );
            assert_eq!(
                d.statement_for("localhost:5000/other").unwrap().name(),
                "exact"
            );
            assert_eq!(
                d.statement_for("localhost:5000/test-repo4").unwrap().name(),
                "global"
            );
            assert!(d.statement_for("local/unsigned").unwrap().is_skip());
            assert!(
                d.statement_for("localhost:5000/test-repo9")
                    .unwrap()
                    .registry_scopes()
                    .len()
                    == 2
            );
        }
        skip["registryScopes"] = json!(["localhost:5000/invalid-test-repo"]);
        let d = ok(&doc(vec![exact, skip]));
        let e = d.statement_for("localhost:5000/e2e").unwrap_err();
        assert!(
            matches!(&e, PolicyError::NoApplicablePolicy { scope } if scope == "localhost:5000/e2e")
        );
        assert_eq!(e.code(), "no_applicable_policy");
        // No reference expansion, no prefix matching.
        assert!(d.statement_for("localhost:5000/test-repo9/sub").is_err());
        // The scope itself is validated, "*" included.
        for scope in [
            "*",
            "",
            "localhost:5000/e2e@sha256:abc",
            "Local/Repo",
            "e2e",
        ] {
            let e = d.statement_for(scope).unwrap_err();
            assert!(
                matches!(
                    &e,
                    PolicyError::ScopeInvalid {
                        statement: None,
                        ..
                    }
                ),
                "{scope}: {e:?}"
            );
            assert_eq!(e.code(), "scope_invalid");
        }
    }

    #[test]
    fn messages_name_the_offender() {
        let e = bad(&with(|s| s["trustStores"] = json!(["ca:valid", "tsa"])));
        let m = e.to_string();
        assert!(
            m.contains("\"tsa\"") && m.contains("test-statement-name"),
            "{m}"
        );
        let e = bad(&with(|s| s["registryScopes"] = json!(["Example.com/Rep"])));
        assert!(e.to_string().contains("\"Example.com/Rep\""), "{e}");
        let e =
            bad(&with(
                |s| {
                    s["signatureVerification"] =
                        json!({"level": "strict", "override": {"integrity": "log"}})
                },
            ));
        assert!(e.to_string().contains("integrity"), "{e}");
    }
}
