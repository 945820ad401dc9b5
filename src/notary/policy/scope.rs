//! Registry scopes: notation's `validateRegistryScopes` over the document and
//! `validateRegistryScopeFormat` for one scope (`domain/repository`, lowercase repository).

use std::collections::HashMap;

use super::model::Statement;
use super::{PolicyError, WILDCARD};

/// notation's `validateRegistryScopes`, over the whole document.
pub(super) fn validate_scopes(statements: &[Statement]) -> Result<(), PolicyError> {
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
    // One repository spelled two ways in two statements: `statement_for` would pick by the
    // spelling a bundle chose.
    let mut repository: HashMap<String, (&str, &str)> = HashMap::new();
    for statement in statements.iter().filter(|s| !s.is_global()) {
        for scope in &statement.registry_scopes {
            let folded = super::model::fold_domain(scope);
            match repository.get(&folded) {
                Some((first, name)) if *name != statement.name => {
                    return Err(PolicyError::AliasedScope {
                        scope: (*first).to_owned(),
                        statement: (*name).to_owned(),
                        other: scope.clone(),
                        other_statement: statement.name.clone(),
                    });
                }
                Some(_) => {}
                None => {
                    repository.insert(folded, (scope.as_str(), statement.name.as_str()));
                }
            }
        }
    }
    Ok(())
}

/// notation's `validateRegistryScopeFormat`: `domain/repository` with distribution's domain and
/// (lowercase) repository grammars, no `*`.
pub(super) fn check_scope(scope: &str) -> Result<(), &'static str> {
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
