//! Registry references: `REGISTRY/REPO:TAG` and `REGISTRY/REPO@sha256:...`.
//!
//! The grammar is the distribution reference grammar (docker's normalisation included: `alpine` is
//! `docker.io/library/alpine:latest`), parsed by hand: `oci_spec::distribution::Reference` gives
//! the same answers (a unit test compares the two on thousands of inputs) but compiles a regular
//! expression of Unicode classes on first use, 60 ms of every registry command's start. Two
//! differences, both stricter: a tag is ASCII (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, as distribution
//! itself reads it), and the digest is checked by [`Digest::parse`], so a reference only ever
//! carries a digest airlock can recompute (sha256 or sha512, lowercase hex).

use std::fmt;

use super::RegistryError;
use crate::digest::Digest;

/// A parsed registry reference.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses `REGISTRY/REPO:TAG`, `REGISTRY/REPO@DIGEST` or `REGISTRY/REPO:TAG@DIGEST` (the digest
    /// wins when both are given; the tag is kept for naming). A reference without a tag or digest
    /// means `:latest`.
    pub fn parse(s: &str) -> Result<Self, RegistryError> {
        let bad = |reason: String| RegistryError::Reference {
            given: crate::registry::error::clip(s, 300),
            reason,
        };
        if s.is_empty() {
            return Err(bad(
                "repository name must have at least one component".into()
            ));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((rest, d)) => (
                rest,
                Some(Digest::parse(d).map_err(|e| bad(e.to_string()))?),
            ),
            None => (s, None),
        };
        // A tag follows the last `:` unless a `/` comes after it (then that `:` began a port).
        let (name, tag) = match rest.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
            _ => (rest, None),
        };
        if let Some(t) = tag {
            if !is_tag(t) {
                return Err(bad("invalid tag format".into()));
            }
        }
        let valid = match name.split_once('/') {
            Some((domain, path)) => (is_domain(domain) && is_path(path)) || is_path(name),
            None => is_path(name),
        };
        if !valid {
            return Err(bad("invalid reference format".into()));
        }
        let (registry, repository) = split_domain(name);
        if repository.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(bad(format!(
                "repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
            )));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_owned()),
            (None, None) => Some("latest".to_owned()),
            (None, Some(_)) => None,
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The registry as written (`host[:port]`; `docker.io` for Docker Hub).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository (`library/alpine`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The whole reference, as [`fmt::Display`] writes it.
    pub fn whole(&self) -> String {
        self.to_string()
    }

    /// The same repository at `digest` (no tag).
    pub fn with_digest(&self, digest: &Digest) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest.clone()),
        }
    }

    /// The same repository at `tag`.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        }
    }

    /// `registry/repository`, the scope trust policies match against.
    pub fn repo_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The host the distribution API is served from (Docker Hub's API host for `docker.io`).
    pub(crate) fn api_host(&self) -> &str {
        match self.registry.as_str() {
            "docker.io" | "index.docker.io" => "registry-1.docker.io",
            r => r,
        }
    }

    /// The key credentials are stored under in a docker `config.json`.
    pub(crate) fn credential_key(&self) -> &str {
        match self.registry.as_str() {
            "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
                "https://index.docker.io/v1/"
            }
            r => r,
        }
    }
}

/// The longest repository name (after normalisation) distribution accepts.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_tag(t: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    match t.as_bytes().split_first() {
        Some((first, rest)) => {
            word(*first)
                && rest.len() <= 127
                && rest.iter().all(|&c| word(c) || c == b'.' || c == b'-')
        }
        None => false,
    }
}

/// `host[:port]`: dot-separated components of ASCII letters, digits and inner dashes, then an
/// optional port of digits.
fn is_domain(d: &str) -> bool {
    // An IPv6 literal in brackets, as the distribution grammar allows (`[::1]:5000`): README names
    // `[::1]` a loopback registry, which the parser refused (red team L, L01).
    if let Some(inner) = d.strip_prefix('[') {
        let Some((addr, rest)) = inner.split_once(']') else {
            return false;
        };
        let port_ok = match rest.strip_prefix(':') {
            Some(p) => !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()),
            None => rest.is_empty(),
        };
        return port_ok && addr.parse::<std::net::Ipv6Addr>().is_ok();
    }
    let (host, port) = match d.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    let component = |c: &str| {
        let b = c.as_bytes();
        match (b.first(), b.last()) {
            (Some(f), Some(l)) => {
                f.is_ascii_alphanumeric()
                    && l.is_ascii_alphanumeric()
                    && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            }
            _ => false,
        }
    };
    host.split('.').all(component)
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
}

/// Path components joined by `/`, each runs of `[a-z0-9]` joined by one `.`, one `_`, two `_`, or
/// any number of `-`.
fn is_path(p: &str) -> bool {
    p.split('/').all(|c| {
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let b = c.as_bytes();
        let mut i = 0;
        loop {
            let start = i;
            while b.get(i).copied().is_some_and(alnum) {
                i += 1;
            }
            if i == start {
                return false; // empty, or a separator not between two runs
            }
            match b.get(i) {
                None => return true,
                Some(b'.') => i += 1,
                Some(b'_') => {
                    i += 1;
                    if b.get(i) == Some(&b'_') {
                        i += 1;
                    }
                }
                Some(b'-') => {
                    while b.get(i) == Some(&b'-') {
                        i += 1;
                    }
                }
                Some(_) => return false,
            }
        }
    })
}

/// Docker's normalisation: a first component without `.` or `:` that is not `localhost` is not a
/// registry (the name is on Docker Hub); `index.docker.io` is `docker.io`; a Docker Hub name of
/// one component is under `library/`.
fn split_domain(name: &str) -> (String, String) {
    let (mut domain, mut rest) = match name.split_once('/') {
        Some((left, right)) if left.contains('.') || left.contains(':') || left == "localhost" => {
            (left.to_owned(), right.to_owned())
        }
        _ => ("docker.io".to_owned(), name.to_owned()),
    };
    if domain == "index.docker.io" {
        domain = "docker.io".to_owned();
    }
    if domain == "docker.io" && !rest.contains('/') {
        rest = format!("library/{rest}");
    }
    (domain, rest)
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl std::str::FromStr for Reference {
    type Err = RegistryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_tags_and_digests() {
        let r = Reference::parse("127.0.0.1:5000/airlock/sample:1.0").unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "airlock/sample");
        assert_eq!(r.tag(), Some("1.0"));
        assert!(r.digest().is_none());
        assert_eq!(r.whole(), "127.0.0.1:5000/airlock/sample:1.0");
        assert_eq!(r.repo_name(), "127.0.0.1:5000/airlock/sample");

        let r = Reference::parse(&format!("ghcr.io/a/b@sha256:{HEX}")).unwrap();
        assert_eq!(r.digest().unwrap().hex(), HEX);
        assert_eq!(r.tag(), None);
        assert_eq!(r.whole(), format!("ghcr.io/a/b@sha256:{HEX}"));

        let r = Reference::parse("ghcr.io/a/b").unwrap();
        assert_eq!(r.tag(), Some("latest"));

        // An IPv6 registry host (red team L, L01).
        let r = Reference::parse("[::1]:5000/team/app:1").unwrap();
        assert_eq!(r.registry(), "[::1]:5000");
        assert_eq!(r.repository(), "team/app");
        assert_eq!(r.tag(), Some("1"));
        assert_eq!(
            Reference::parse("[fd00::5]/team/app").unwrap().registry(),
            "[fd00::5]"
        );
        for bad in [
            "[::1:5000/a",
            "[nothost]:5000/a",
            "[::1]x/a",
            "[::1]:/a",
            "[::1]:5o/a",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn docker_hub_is_normalised() {
        let r = Reference::parse("alpine:3").unwrap();
        assert_eq!(r.registry(), "docker.io");
        assert_eq!(r.repository(), "library/alpine");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.credential_key(), "https://index.docker.io/v1/");
    }

    /// What `oci_spec`'s regular-expression parser says of `s`, with the digest checked as
    /// [`Reference::parse`] checks it.
    fn by_oci_spec(s: &str) -> Option<(String, String, Option<String>, Option<String>)> {
        let r = oci_spec::distribution::Reference::try_from(s).ok()?;
        if let Some(d) = r.digest() {
            Digest::parse(d).ok()?;
        }
        Some((
            r.registry().to_owned(),
            r.repository().to_owned(),
            r.tag().map(str::to_owned),
            r.digest().map(str::to_owned),
        ))
    }

    fn by_hand(s: &str) -> Option<(String, String, Option<String>, Option<String>)> {
        let r = Reference::parse(s).ok()?;
        Some((
            r.registry().to_owned(),
            r.repository().to_owned(),
            r.tag().map(str::to_owned),
            r.digest().map(ToString::to_string),
        ))
    }

    #[test]
    fn the_hand_parser_agrees_with_oci_spec() {
        let pieces = [
            "a",
            "b0",
            "Z",
            "x-y",
            "--",
            "-",
            "_",
            "__",
            "___",
            ".",
            "..",
            ":",
            "/",
            "//",
            "@",
            "5000",
            ":5000",
            "localhost",
            "docker.io",
            "index.docker.io",
            "example.com",
            "my-host.example.com:443",
            "host-",
            "-host",
            "library",
            "sha256",
            "latest",
            "v1.0",
            "é",
            " ",
            "UPPER",
            "a.b_c__d---e",
        ];
        let digest = format!("@sha256:{HEX}");
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut inputs: Vec<String> = vec![
            "busybox".into(),
            "test.com:tag".into(),
            "test.com:5000".into(),
            "test.com/repo:tag".into(),
            "test:5000/repo".into(),
            "test:5000/repo:tag".into(),
            "localhost/a".into(),
            "localhost:5000/a/b:c".into(),
            "HOST/repo".into(),
            "Host.com/repo".into(),
            "a/b:c/d".into(),
            "repo:tag:tag2".into(),
            "repo:".into(),
            format!("repo{digest}"),
            format!("repo:tag{digest}"),
            format!("host:5000/a/b:c{digest}"),
            format!("a/{}", "b".repeat(250)),
            format!("a/{}", "b".repeat(260)),
            format!("{}", "b".repeat(248)),
            format!("repo:{}", "t".repeat(128)),
            format!("repo:{}", "t".repeat(129)),
        ];
        for _ in 0..20_000 {
            let n = 1 + usize::try_from(next() % 6).unwrap();
            let mut s = String::new();
            for _ in 0..n {
                s.push_str(pieces[usize::try_from(next()).unwrap() % pieces.len()]);
            }
            if next() % 4 == 0 {
                s.push_str(&digest);
            }
            inputs.push(s);
        }
        let mut agreed = 0;
        for s in &inputs {
            let (theirs, ours) = (by_oci_spec(s), by_hand(s));
            if theirs != ours {
                // The one difference on purpose: a tag is ASCII here (as distribution reads it).
                assert!(
                    !s.is_ascii() && ours.is_none(),
                    "{s:?}: oci_spec {theirs:?}, by hand {ours:?}"
                );
            }
            agreed += usize::from(ours.is_some());
        }
        // The generated inputs hold many valid references, not only refusals.
        assert!(agreed > 1000, "{agreed}");
    }

    #[test]
    fn refuses_bad_references_and_digests() {
        for s in [
            "",
            "host/UPPER:1",
            "host/repo:bad tag",
            "host/repo@sha256:abc",
            &format!("host/repo@sha256:{}", HEX.to_uppercase()),
            &format!("host/repo@md5:{}", &HEX[..32]),
            "host/repo@sha384:000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert!(
                matches!(Reference::parse(s), Err(RegistryError::Reference { .. })),
                "{s}"
            );
        }
    }
}
