//! The validated trust policy: statements, levels and the action table, trust-store references,
//! trusted identities and their matching, and statement selection by registry scope.

use std::fmt;

use x509_cert::name::Name;

use super::scope::check_scope;
use super::{PolicyError, SUPPORTED_VERSION, WILDCARD};
use crate::notary::dn::{DistinguishedName, DnError};
use crate::notary::truststore::StoreType;

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

    pub(super) fn from_name(s: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failed [`Check`] does to the verification (serialised as `enforce`, `log` or `skip`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
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

    pub(super) fn from_name(s: &str) -> Option<Action> {
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

    pub(super) fn from_name(s: &str) -> Option<Level> {
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
    pub(super) kind: StoreType,
    pub(super) name: String,
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
    pub(super) name: String,
    pub(super) registry_scopes: Vec<String>,
    pub(super) level: Level,
    pub(super) overrides: Vec<(Check, Action)>,
    pub(super) verify_timestamp: VerifyTimestamp,
    pub(super) trust_stores: Vec<TrustStoreRef>,
    pub(super) trusted_identities: TrustedIdentities,
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
    pub(super) statements: Vec<Statement>,
}

/// The repository a scope (`domain/repository`) names, as a registry client reaches it: the host
/// in lower case; the port as a number, HTTPS's 443 left out (`registry.example:443` and
/// `registry.example:0443` are `registry.example`); Docker Hub's other host names
/// (`index.docker.io`, `registry-1.docker.io`) as `docker.io`, whose one-component repositories
/// are `library/NAME`. The repository itself is case-sensitive and kept as it is. Also used by
/// import, which compares the target repositories of names by this folded form.
pub fn fold_domain(scope: &str) -> String {
    let Some((domain, repository)) = scope.split_once('/') else {
        return scope.to_owned();
    };
    let domain = domain.to_ascii_lowercase();
    let host = match domain.split_once(':') {
        Some((host, port)) => match port.parse::<u32>() {
            Ok(443) => host.to_owned(),
            Ok(port) => format!("{host}:{port}"),
            Err(_) => domain.clone(),
        },
        None => domain,
    };
    match host.as_str() {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" if !repository.contains('/') => {
            format!("docker.io/library/{repository}")
        }
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            format!("docker.io/{repository}")
        }
        _ => format!("{host}/{repository}"),
    }
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
        // A name that reaches the repository a scope names is judged by that scope's statement,
        // never by `*`: `REGISTRY.EXAMPLE/app`, `registry.example:443/app` and
        // `registry.example/app` are one repository (a bundle names its images; it must not
        // escape a statement by the spelling of a host name). See `fold_domain`.
        // DIVERGENCE: notation compares the strings exactly.
        let folded = fold_domain(scope);
        if let Some(statement) = self.statements.iter().find(|st| {
            !st.is_global() && st.registry_scopes.iter().any(|s| fold_domain(s) == folded)
        }) {
            return Ok(statement);
        }
        global.ok_or_else(|| PolicyError::NoApplicablePolicy {
            scope: scope.to_owned(),
        })
    }
}
