//! Where an image of the bundle goes: `SOURCE_REGISTRY/REPO:TAG` -> `HOST[:PORT]/PREFIX/REPO:TAG`,
//! with `--map OLD=NEW` repository rewrites.

use super::{ImportError, ImportPlan};
use crate::notary::policy::PolicyDocument;

/// Maps a bundle image name to its target repository and tag.
pub fn target_of(
    reference: &str,
    plan: &ImportPlan,
) -> Result<(String, Option<String>), ImportError> {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let last_slash = without_digest.rfind('/');
    let (repo_part, tag) = match without_digest.rfind(':') {
        Some(i) if last_slash.is_none_or(|s| i > s) => (
            without_digest.get(..i).unwrap_or(""),
            Some(without_digest.get(i + 1..).unwrap_or("").to_owned()),
        ),
        _ => (without_digest, None),
    };
    // Drop the source registry (a first component with '.' or ':' or "localhost").
    let mut repo = match repo_part.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            rest.to_owned()
        }
        Some(_) => repo_part.to_owned(),
        None => {
            if repo_part.is_empty()
                || last_slash.is_none() && tag.is_none() && !plan.prefix.is_empty()
            {
                String::new()
            } else {
                repo_part.to_owned()
            }
        }
    };
    // A bare tag (a local layout's `v1`) has no repository: the prefix names it.
    if last_slash.is_none() && !reference.contains('/') {
        if plan.prefix.is_empty() {
            return Err(ImportError::NoRepository {
                image: reference.to_owned(),
            });
        }
        let t = if tag.is_some() {
            tag
        } else {
            Some(reference.to_owned())
        };
        let repo = plan
            .maps
            .iter()
            .find(|(old, _)| old == reference)
            .map(|(_, new)| new.clone())
            .unwrap_or_else(|| plan.prefix.clone());
        return Ok((
            format!("{}/{}", plan.host, repo),
            t.filter(|t| !t.starts_with("sha256")),
        ));
    }
    for (old, new) in &plan.maps {
        if repo == *old || repo.starts_with(&format!("{old}/")) {
            repo = format!("{new}{}", repo.get(old.len()..).unwrap_or(""));
            break;
        }
    }
    let full = if plan.prefix.is_empty() {
        repo
    } else {
        format!("{}/{repo}", plan.prefix)
    };
    Ok((format!("{}/{full}", plan.host), tag))
}

/// Another statement of `policy` that names a scope whose images would be pushed to the same
/// target repository as `reference` (judged under the statement `judged_by`): `(scope, statement)`.
///
/// The target drops the source registry, so `a.example/app` and `b.example/app` land in one
/// repository while a trust policy may judge them under different statements. Under local trust
/// the bundle chooses the name: a carrier could rename an image to another registry to have it
/// judged by a laxer statement (or `*`) and pushed over the repository a stricter one protects.
/// The global `*` statement names no repository and is not compared.
pub fn conflicting_statement(
    reference: &str,
    judged_by: &str,
    policy: &PolicyDocument,
    plan: &ImportPlan,
) -> Option<(String, String)> {
    let (target, _) = target_of(reference, plan).ok()?;
    policy
        .statements()
        .iter()
        .filter(|st| st.name() != judged_by)
        .flat_map(|st| st.registry_scopes().iter().map(move |s| (s, st)))
        .filter(|(scope, _)| scope.as_str() != "*" && scope.contains('/'))
        .find(|(scope, _)| {
            target_of(&format!("{scope}:t"), plan).is_ok_and(|(other, _)| other == target)
        })
        .map(|(scope, st)| (scope.clone(), st.name().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::ReferrersMode;

    fn to(prefix: &str, maps: &[(&str, &str)]) -> ImportPlan {
        ImportPlan {
            host: "reg:5000".into(),
            prefix: prefix.into(),
            maps: maps
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect(),
            referrers: ReferrersMode::Auto,
            verified: Vec::new(),
            unrecorded: Default::default(),
        }
    }

    #[test]
    fn names_map_to_the_target() {
        assert_eq!(
            target_of("ghcr.io/org/app:1.0", &to("site", &[])).unwrap(),
            ("reg:5000/site/org/app".into(), Some("1.0".into()))
        );
        assert_eq!(
            target_of("ghcr.io/org/app:1.0", &to("", &[("org", "mirror")])).unwrap(),
            ("reg:5000/mirror/app".into(), Some("1.0".into()))
        );
        assert_eq!(
            target_of("v1", &to("site/app", &[])).unwrap(),
            ("reg:5000/site/app".into(), Some("v1".into()))
        );
        assert!(matches!(
            target_of("v1", &to("", &[])),
            Err(ImportError::NoRepository { image }) if image == "v1"
        ));
    }

    #[test]
    fn a_statement_of_another_registry_with_the_same_repository_conflicts() {
        let policy = crate::notary::policy::parse(
            br#"{"version":"1.0","trustPolicies":[
                {"name":"prod","registryScopes":["registry.example/team/app"],
                 "signatureVerification":{"level":"strict"},"trustStores":["ca:x"],
                 "trustedIdentities":["*"]},
                {"name":"lax","registryScopes":["*"],"signatureVerification":{"level":"skip"}}]}"#,
        )
        .unwrap();
        let plan = to("site", &[]);
        assert_eq!(
            conflicting_statement("evil.example/team/app:1", "lax", &policy, &plan),
            Some(("registry.example/team/app".into(), "prod".into()))
        );
        assert_eq!(
            conflicting_statement("registry.example/team/app:1", "prod", &policy, &plan),
            None
        );
        assert_eq!(
            conflicting_statement("evil.example/team/other:1", "lax", &policy, &plan),
            None
        );
        // A --map moves both names alike (they still collide); one onto the protected repository
        // creates the conflict.
        let moved = to("site", &[("team/app", "quarantine/app")]);
        assert_eq!(
            conflicting_statement("evil.example/team/app:1", "lax", &policy, &moved),
            Some(("registry.example/team/app".into(), "prod".into()))
        );
        let onto = to("site", &[("other/app", "team/app")]);
        assert_eq!(
            conflicting_statement("evil.example/other/app:1", "lax", &policy, &onto),
            Some(("registry.example/team/app".into(), "prod".into()))
        );
    }
}
