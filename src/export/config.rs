//! `airlock export --config airlock.toml`: the declarative description of an export (images and
//! their settings, trust material, output), parsed strictly (unknown fields refused, errors with
//! the line and column `toml` gives), with relative paths resolved against the file's folder.
//!
//! Only parsing and validation live here; how the file and the command line combine is the CLI's
//! (`cli/export.rs`), and the resolution against the sources is `export::lock`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::notary::dn::DistinguishedName;

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not TOML, or not the schema (the message names the line and column).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// `toml`'s message (line, column, the offending text, what was expected).
        message: String,
    },
    /// A value that parses but cannot be used.
    #[error("{path}: {what}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the field.
        what: String,
    },
}

/// Which referrers of an image travel: `"all"`, `"none"`, or a list of artifact types.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Referrers {
    /// `"all"` or `"none"`.
    Word(String),
    /// Artifact types (`application/vnd.cncf.notary.signature`, `application/spdx+json`, ...).
    Types(Vec<String>),
}

impl Referrers {
    /// The `--referrers` value this selection stands for (`all`, `none`, `TYPE,TYPE`).
    pub fn as_arg(&self) -> String {
        match self {
            Referrers::Word(w) => w.clone(),
            Referrers::Types(t) => t.join(","),
        }
    }

    /// Whether a referrer of artifact type `t` is selected.
    pub fn selects(&self, t: &str) -> bool {
        match self {
            Referrers::Word(w) => w == "all",
            Referrers::Types(types) => types.iter().any(|x| x == t),
        }
    }

    /// Whether nothing is selected.
    pub fn is_none(&self) -> bool {
        matches!(self, Referrers::Word(w) if w == "none")
            || matches!(self, Referrers::Types(t) if t.is_empty())
    }

    fn check(&self) -> Result<(), String> {
        match self {
            Referrers::Word(w) if w == "all" || w == "none" => Ok(()),
            Referrers::Word(w) => Err(format!(
                "referrers = {w:?}: expected \"all\", \"none\" or a list of artifact types"
            )),
            Referrers::Types(types) => match types.iter().find(|t| !t.contains('/')) {
                Some(t) => Err(format!(
                    "referrers: {t:?} is not an artifact type (a media type such as application/spdx+json)"
                )),
                None => Ok(()),
            },
        }
    }
}

/// One `[[image]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Image {
    /// REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:..., oci:PATH[:TAG|@DIGEST], oci-archive:FILE.
    pub reference: String,
    /// Platforms to keep (`os/arch[/variant]`); default: the top-level `platforms`, else all.
    pub platforms: Option<Vec<String>>,
    /// Referrer selection; default: the top-level `referrers`, else all.
    pub referrers: Option<Referrers>,
    /// Refuse the export when this image has no notation signature; default: the top-level value.
    pub require_signature: Option<bool>,
    /// The X.509 subject (RFC 4514, as in a trust policy's `x509.subject:` identity) that the leaf
    /// certificate of at least one notation signature of this image must match. Implies
    /// `require-signature`.
    pub identity: Option<String>,
}

/// `[trust]`: the material to carry and verify the captured signatures with.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Trust {
    /// `--trust-policy`.
    pub policy: Option<PathBuf>,
    /// `--trust-store`.
    pub store: Option<PathBuf>,
    /// `--notation-config`.
    pub notation_config: Option<PathBuf>,
    /// `--crl`, each.
    #[serde(default)]
    pub crls: Vec<PathBuf>,
    /// `--scope`.
    pub scope: Option<String>,
    /// `--no-fetch-crls` when false (default true).
    pub fetch_crls: Option<bool>,
    /// `--allow-failed-signatures`.
    #[serde(default)]
    pub allow_failed_signatures: bool,
}

/// `[registry]`: how registries are reached.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RegistrySettings {
    /// `--plain-http`, each.
    #[serde(default)]
    pub plain_http: Vec<String>,
    /// `--ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `--registry-config`.
    pub config: Option<PathBuf>,
    /// `--min-rate` (the same syntax: `256K`, `1M`, `0`).
    pub min_rate: Option<String>,
    /// `--network-timeout`, seconds.
    pub network_timeout: Option<u64>,
}

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// `-o`.
    pub output: Option<PathBuf>,
    /// `--force`.
    #[serde(default)]
    pub force: bool,
    /// `--jobs`.
    pub jobs: Option<u16>,
    /// `--zstd-level`.
    pub zstd_level: Option<i32>,
    /// `-f`: more sources, one per line.
    pub images_file: Option<PathBuf>,
    /// `--since`: inventories of what the far side holds (their layers are left out).
    #[serde(default)]
    pub since: Vec<PathBuf>,
    /// Default platforms of every image.
    pub platforms: Option<Vec<String>>,
    /// Default referrer selection of every image.
    pub referrers: Option<Referrers>,
    /// Default `require-signature` of every image.
    #[serde(default)]
    pub require_signature: bool,
    /// `[trust]`.
    #[serde(default)]
    pub trust: Trust,
    /// `[registry]`.
    #[serde(default)]
    pub registry: RegistrySettings,
    /// `[[image]]`, in order.
    #[serde(default)]
    pub image: Vec<Image>,
}

/// One image with the defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSettings {
    /// The source as written (paths of `oci:`/`oci-archive:` sources resolved).
    pub reference: String,
    /// Platforms to keep (empty: all).
    pub platforms: Vec<String>,
    /// Referrer selection.
    pub referrers: Referrers,
    /// A notation signature is required.
    pub require_signature: bool,
    /// The leaf subject a notation signature must match, as written and parsed.
    pub identity: Option<(String, DistinguishedName)>,
}

/// Largest `--config` file read.
const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// `text` with each line cut to `max` characters (`toml` quotes the offending line whole: one
/// line of 200 KB made a 200 KB error message).
fn clip_lines(text: &str, max: usize) -> String {
    text.lines()
        .map(|l| match l.char_indices().nth(max) {
            Some((i, _)) => format!("{}…", &l[..i]),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Config {
    /// Reads and checks `path`; relative paths in it are made relative to its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let read_err = |source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        };
        let bytes = crate::fsutil::read_named_file(path, MAX_CONFIG_BYTES)
            .map_err(read_err)?
            .ok_or_else(|| {
                read_err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("larger than {MAX_CONFIG_BYTES} bytes"),
                ))
            })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            read_err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not UTF-8 text",
            ))
        })?;
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        Self::parse(&text, path, &base)
    }

    /// Parses `text` (named `path` in errors), resolving relative paths against `base`.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Self, ConfigError> {
        let mut c: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: clip_lines(e.to_string().trim_end(), 200),
        })?;
        let invalid = |what: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            what,
        };
        let rel = |p: &mut PathBuf| {
            if p.is_relative() && p.as_os_str() != "-" {
                *p = base.join(&*p);
            }
        };
        if let Some(o) = c.output.as_mut() {
            rel(o);
        }
        if let Some(f) = c.images_file.as_mut() {
            rel(f);
        }
        for p in [
            c.trust.policy.as_mut(),
            c.trust.store.as_mut(),
            c.trust.notation_config.as_mut(),
            c.registry.ca_file.as_mut(),
            c.registry.config.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            rel(p);
        }
        for p in c.trust.crls.iter_mut().chain(c.since.iter_mut()) {
            rel(p);
        }
        for im in &mut c.image {
            im.reference = resolve_source(&im.reference, base);
        }
        match (&c.trust.policy, &c.trust.store, &c.trust.notation_config) {
            (Some(_), Some(_), None) | (None, None, Some(_)) | (None, None, None) => {}
            (_, _, Some(_)) => {
                return Err(invalid(
                    "[trust]: notation-config or policy and store, not both".into(),
                ))
            }
            _ => {
                return Err(invalid(
                    "[trust]: policy and store go together (or notation-config alone)".into(),
                ))
            }
        }
        if let Some(j) = c.jobs {
            if !(1..=32).contains(&j) {
                return Err(invalid(format!("jobs = {j}: between 1 and 32")));
            }
        }
        if let Some(l) = c.zstd_level {
            if !(1..=22).contains(&l) {
                return Err(invalid(format!("zstd-level = {l}: between 1 and 22")));
            }
        }
        if c.registry.network_timeout == Some(0) {
            return Err(invalid("[registry] network-timeout: at least 1".into()));
        }
        if let Some(r) = &c.referrers {
            r.check().map_err(invalid)?;
        }
        for (i, im) in c.image.iter().enumerate() {
            if let Some(r) = &im.referrers {
                r.check()
                    .map_err(|e| invalid(format!("image {} ({}): {e}", i + 1, im.reference)))?;
            }
            if im.reference.trim().is_empty() {
                return Err(invalid(format!("image {}: empty reference", i + 1)));
            }
        }
        // Identities parse; whether trust material is there is checked once the command line is
        // merged in (it may give the material).
        let settings = c.images().map_err(invalid)?;
        if settings.iter().any(|s| s.identity.is_some()) && c.trust.allow_failed_signatures {
            return Err(invalid(
                "an image with an identity needs verified signatures: allow-failed-signatures cannot be true"
                    .into(),
            ));
        }
        Ok(c)
    }

    /// The images with the defaults applied (identities parsed with the notary DN rules).
    pub fn images(&self) -> Result<Vec<ImageSettings>, String> {
        let mut out = Vec::new();
        for (i, im) in self.image.iter().enumerate() {
            let identity = match &im.identity {
                None => None,
                Some(s) => {
                    let dn = DistinguishedName::parse(s).map_err(|e| {
                        format!("image {} ({}): identity {s:?}: {e}", i + 1, im.reference)
                    })?;
                    Some((s.clone(), dn))
                }
            };
            out.push(ImageSettings {
                reference: im.reference.clone(),
                platforms: im
                    .platforms
                    .clone()
                    .or_else(|| self.platforms.clone())
                    .unwrap_or_default(),
                referrers: im
                    .referrers
                    .clone()
                    .or_else(|| self.referrers.clone())
                    .unwrap_or_else(|| Referrers::Word("all".into())),
                require_signature: im.require_signature.unwrap_or(self.require_signature)
                    || identity.is_some(),
                identity,
            });
        }
        Ok(out)
    }

    /// Whether the file sets platforms anywhere.
    pub fn sets_platforms(&self) -> bool {
        self.platforms.is_some() || self.image.iter().any(|i| i.platforms.is_some())
    }

    /// Whether the file sets a referrer selection anywhere.
    pub fn sets_referrers(&self) -> bool {
        self.referrers.is_some() || self.image.iter().any(|i| i.referrers.is_some())
    }
}

/// `oci:PATH...` and `oci-archive:PATH...` with a relative PATH are made relative to `base`;
/// registry references are left alone.
fn resolve_source(s: &str, base: &Path) -> String {
    for prefix in ["oci:", "oci-archive:"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            if !rest.starts_with('/') && !base.as_os_str().is_empty() {
                return format!("{prefix}{}", base.join(rest).display());
            }
        }
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DN: &str = "C=US, ST=WA, L=Seattle, O=Notary, CN=leaf";

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(
            text,
            Path::new("/etc/airlock/airlock.toml"),
            Path::new("/etc/airlock"),
        )
    }

    #[test]
    fn a_full_file_parses_with_paths_resolved_and_defaults_applied() {
        let c = parse(&format!(
            r#"
output = "out/bundle.tar.zst"
jobs = 8
zstd-level = 19
platforms = ["linux/amd64"]
require-signature = true

[trust]
policy = "trustpolicy.json"
store = "/abs/truststore"
crls = ["root.crl"]

[registry]
plain-http = ["127.0.0.1:5000"]
min-rate = "1M"

[[image]]
reference = "registry.example/app:1.0"
identity = "{DN}"

[[image]]
reference = "oci:layouts/web:v2"
platforms = ["linux/arm64/v8"]
referrers = ["application/vnd.cncf.notary.signature", "application/spdx+json"]
require-signature = false
"#
        ))
        .unwrap();
        assert_eq!(
            c.output.as_deref(),
            Some(Path::new("/etc/airlock/out/bundle.tar.zst"))
        );
        assert_eq!(
            c.trust.policy.as_deref(),
            Some(Path::new("/etc/airlock/trustpolicy.json"))
        );
        assert_eq!(c.trust.store.as_deref(), Some(Path::new("/abs/truststore")));
        assert_eq!(c.trust.crls, vec![PathBuf::from("/etc/airlock/root.crl")]);
        let im = c.images().unwrap();
        assert_eq!(im[0].platforms, vec!["linux/amd64".to_owned()]);
        assert!(im[0].require_signature);
        assert_eq!(im[0].referrers, Referrers::Word("all".into()));
        assert_eq!(im[0].identity.as_ref().unwrap().1.get("CN"), Some("leaf"));
        assert_eq!(im[1].reference, "oci:/etc/airlock/layouts/web:v2");
        assert_eq!(im[1].platforms, vec!["linux/arm64/v8".to_owned()]);
        assert!(!im[1].require_signature);
        assert!(im[1].referrers.selects("application/spdx+json"));
        assert!(!im[1].referrers.selects("application/vnd.in-toto+json"));
        assert_eq!(
            im[1].referrers.as_arg(),
            "application/vnd.cncf.notary.signature,application/spdx+json"
        );
    }

    /// The README's example is a valid bundle file.
    #[test]
    fn the_readme_example_parses() {
        let readme = include_str!("../../README.md");
        let start = readme.find("# airlock.toml:").unwrap();
        let end = start + readme[start..].find("```").unwrap();
        let c = parse(&readme[start..end]).unwrap();
        let im = c.images().unwrap();
        assert_eq!(im.len(), 2);
        assert!(im[0].require_signature, "an identity implies it");
        assert_eq!(im[1].reference, "oci:/etc/airlock/layouts/tools:2.0");
    }

    #[test]
    fn an_unknown_field_is_refused_with_its_line() {
        let e = parse("output = \"x.tar\"\n\n[[image]]\nreference = \"a/b:1\"\nplatform = [\"linux/amd64\"]\n")
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, ConfigError::Parse { .. }), "{text}");
        assert!(text.contains("line 5"), "{text}");
        assert!(text.contains("platform"), "{text}");
    }

    #[test]
    fn a_parse_error_quotes_a_long_line_cut() {
        let e = parse(&format!("output = \"{}\" x\n", "a".repeat(200_000))).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, ConfigError::Parse { .. }), "{text}");
        assert!(text.len() < 2_000, "{} bytes", text.len());
        assert!(text.contains("line 1"), "{text}");
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        for (text, words) in [
            ("referrers = \"some\"\n", "referrers = \"some\""),
            ("jobs = 0\n", "jobs = 0"),
            ("zstd-level = 99\n", "zstd-level = 99"),
            ("[trust]\npolicy = \"p.json\"\n", "policy and store"),
            (
                "[[image]]\nreference = \"a/b:1\"\nidentity = \"CN=x\"\n",
                "identity",
            ),
            (
                "[[image]]\nreference = \"a/b:1\"\nreferrers = [\"sbom\"]\n",
                "not an artifact type",
            ),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(words), "{text:?}: {e}");
        }
        let e = parse("jobs = \"many\"\n").unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
    }
}
