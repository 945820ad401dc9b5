//! Where an image of the bundle goes: `SOURCE_REGISTRY/REPO:TAG` -> `HOST[:PORT]/PREFIX/REPO:TAG`,
//! with `--map OLD=NEW` repository rewrites.

use super::{ImportError, ImportPlan};
use crate::notary::policy::{fold_domain, PolicyDocument};

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
    if let Some(t) = tag.as_deref().filter(|t| {
        crate::layout::is_referrers_tag(t) || crate::layout::cosign_tag_subject(t).is_some()
    }) {
        return Err(ImportError::ReservedTag {
            image: reference.to_owned(),
            tag: t.to_owned(),
        });
    }
    let full = if plan.prefix.is_empty() {
        repo
    } else {
        format!("{}/{repo}", plan.prefix)
    };
    Ok((format!("{}/{full}", plan.host), tag))
}

/// The names of one repository, as [`fold_domain`] folds them, that the push sends to different
/// target repositories: the scope as written, its folded form, and for a Docker Hub
/// `docker.io/library/NAME` also the short `docker.io/NAME` (the push keeps the path as the image
/// names it, `library/` or not). Host case, port and Docker Hub's host names need no entry of
/// their own: the push drops the host.
fn spellings(scope: &str) -> Vec<String> {
    let folded = fold_domain(scope);
    let short = folded
        .strip_prefix("docker.io/library/")
        .map(|name| format!("docker.io/{name}"));
    let mut names: Vec<String> = Vec::new();
    for name in [Some(scope.to_owned()), Some(folded.clone()), short]
        .into_iter()
        .flatten()
    {
        if fold_domain(&name) == folded && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Another statement of `policy` that names a scope whose images would be pushed to the same
/// target repository as `reference` (judged under the statement `judged_by`): `(scope, statement)`.
///
/// The target drops the source registry, so `a.example/app` and `b.example/app` land in one
/// repository while a trust policy may judge them under different statements. Under local trust
/// the bundle chooses the name: a carrier could rename an image to another registry to have it
/// judged by a laxer statement (or `*`) and pushed over the repository a stricter one protects.
/// A scope protects the target of every spelling of its repository (see [`spellings`]): the
/// policy judges `docker.io/library/alpine` by a statement written `docker.io/alpine`, so both
/// `PREFIX/alpine` and `PREFIX/library/alpine` are that statement's.
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
            spellings(scope).iter().any(|name| {
                target_of(&format!("{name}:t"), plan).is_ok_and(|(other, _)| other == target)
            })
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
            authenticated_record: None,
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

    /// A tag that names another image's referrers (`sha256-<hex>`) or cosign artifacts
    /// (`sha256-<hex>.sig`) is never an image's push target: it would replace that list.
    #[test]
    fn a_tag_reserved_for_an_images_artifacts_is_refused() {
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        for tag in [
            format!("sha256-{hex}"),
            format!("sha256-{hex}.sig"),
            format!("sha256-{hex}.att"),
        ] {
            let name = format!("registry.example/app:{tag}");
            assert!(
                matches!(
                    target_of(&name, &to("site", &[])),
                    Err(ImportError::ReservedTag { tag: t, .. }) if t == tag
                ),
                "{name}"
            );
        }
        // A tag merely starting so is an ordinary tag.
        assert!(target_of("registry.example/app:sha256-beta", &to("site", &[])).is_ok());
        assert!(ImportError::ReservedTag {
            image: String::new(),
            tag: String::new()
        }
        .is_content_failure());
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

    #[test]
    fn spellings_of_a_repository_are_the_folded_ones() {
        assert_eq!(
            spellings("docker.io/alpine"),
            ["docker.io/alpine", "docker.io/library/alpine"]
        );
        assert_eq!(
            spellings("docker.io/library/alpine"),
            ["docker.io/library/alpine", "docker.io/alpine"]
        );
        assert_eq!(
            spellings("Index.Docker.IO:443/alpine"),
            [
                "Index.Docker.IO:443/alpine",
                "docker.io/library/alpine",
                "docker.io/alpine"
            ]
        );
        assert_eq!(spellings("docker.io/org/app"), ["docker.io/org/app"]);
        assert_eq!(
            spellings("LOCALHOST/app"),
            ["LOCALHOST/app", "localhost/app"]
        );
        // Not Docker Hub: `library/` is a path like any other.
        assert_eq!(
            spellings("registry.example/library/app"),
            ["registry.example/library/app"]
        );
    }

    fn policy_protecting(scope: &str) -> PolicyDocument {
        crate::notary::policy::parse(
            format!(
                r#"{{"version":"1.0","trustPolicies":[
                {{"name":"prod","registryScopes":["{scope}"],
                 "signatureVerification":{{"level":"strict"}},"trustStores":["ca:x"],
                 "trustedIdentities":["*"]}},
                {{"name":"lax","registryScopes":["*"],"signatureVerification":{{"level":"skip"}}}}]}}"#
            )
            .as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn docker_hub_library_folding_does_not_hide_a_conflict() {
        let plan = to("site", &[]);
        // The statement written short protects `library/alpine` too (the policy judges
        // `docker.io/library/alpine` by it), and the statement written long the short target.
        for (scope, evil) in [
            ("docker.io/alpine", "evil.example/library/alpine:3"),
            ("docker.io/alpine", "evil.example/alpine:3"),
            ("docker.io/library/alpine", "evil.example/alpine:3"),
            ("docker.io/library/alpine", "evil.example/library/alpine:3"),
            (
                "index.docker.io:443/alpine",
                "evil.example/library/alpine:3",
            ),
            (
                "registry-1.docker.io/library/alpine",
                "evil.example/alpine:3",
            ),
        ] {
            assert_eq!(
                conflicting_statement(evil, "lax", &policy_protecting(scope), &plan),
                Some((scope.to_owned(), "prod".to_owned())),
                "{scope} vs {evil}"
            );
        }
        // The genuine image in either spelling, judged by its own statement: no conflict.
        let policy = policy_protecting("docker.io/alpine");
        for genuine in ["docker.io/library/alpine:3", "docker.io/alpine:3"] {
            assert_eq!(
                conflicting_statement(genuine, "prod", &policy, &plan),
                None,
                "{genuine}"
            );
        }
        // Another repository stays the `*` statement's.
        assert_eq!(
            conflicting_statement("evil.example/library/busybox:3", "lax", &policy, &plan),
            None
        );
        // Outside Docker Hub `library/` is not folded: a statement for
        // `registry.example/library/app` does not protect `PREFIX/app`.
        let policy = policy_protecting("registry.example/library/app");
        assert_eq!(
            conflicting_statement("evil.example/app:3", "lax", &policy, &plan),
            None
        );
    }
}
