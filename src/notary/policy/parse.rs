//! Strict parsing of the JSON document (unknown or repeated keys are errors) and the validation
//! of every statement (notation-go `OCIDocument.Validate`, `validatePolicyCore`).

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::model::{
    Action, Check, Level, PolicyDocument, Statement, TrustStoreRef, TrustedIdentities,
    TrustedIdentity, VerifyTimestamp,
};
use super::scope::validate_scopes;
use super::{
    PolicyError, MAX_POLICY_BYTES, MAX_TRUSTED_IDENTITIES, SUPPORTED_VERSION, WILDCARD,
    X509_SUBJECT,
};
use crate::notary::dn::DistinguishedName;
use crate::notary::truststore::{is_valid_store_name, StoreType};

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
    if let Some(reason) = not_objects(bytes) {
        return Err(PolicyError::Malformed { reason });
    }
    validate(raw)
}

/// serde's derive also reads a struct from a JSON array (fields in order): a policy notation
/// calls malformed would parse. The document, each statement and each `signatureVerification`
/// must be objects.
fn not_objects(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return Some(e.to_string()),
    };
    if !v.is_object() {
        return Some("the trust policy document is not a JSON object".into());
    }
    for (i, st) in v
        .get("trustPolicies")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if !st.is_object() {
            return Some(format!("trustPolicies[{i}] is not a JSON object"));
        }
        if st
            .get("signatureVerification")
            .is_some_and(|sv| !sv.is_object() && !sv.is_null())
        {
            return Some(format!(
                "trustPolicies[{i}].signatureVerification is not a JSON object"
            ));
        }
    }
    None
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
