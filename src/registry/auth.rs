//! Credentials and the authentication handshake.
//!
//! Credentials come from the docker `config.json` (`auths`, `credsStore`, `credHelpers`, read by
//! `docker_credential`, which also runs the `docker-credential-*` helpers), else none: anonymous.
//! They live in [`Secret`]s, whose `Debug` prints `<redacted>`, and reach the wire only in
//! `Authorization` headers marked sensitive, answering a registry's own `WWW-Authenticate`
//! challenge (distribution-spec "token authentication"): `Basic` with the password, `Bearer` with a
//! token fetched from the challenge's realm (username and password as basic auth, or an identity
//! token through the OAuth2 `refresh_token` grant).

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use reqwest::header::HeaderValue;

use super::RegistryError;

/// A secret string: never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: String) -> Self {
        Secret(s)
    }

    /// The secret itself, for building a header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A username and password (or a registry token used as a password).
    Basic {
        /// The username.
        username: String,
        /// The password.
        password: Secret,
    },
    /// An OAuth2 refresh token (`identitytoken` in `config.json`, or a helper's `<token>` user),
    /// exchanged for an access token at the registry's token realm.
    IdentityToken(Secret),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

/// The docker configuration file credentials are read from.
pub(crate) struct DockerConfig {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// Largest `config.json` read.
const MAX_CONFIG: u64 = 1 << 20;

impl DockerConfig {
    /// `explicit` (which must exist), else `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`; `None` when no default file exists.
    pub(crate) fn load(explicit: Option<&Path>) -> Result<Option<Self>, RegistryError> {
        let (path, required) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => match std::env::var_os("DOCKER_CONFIG") {
                Some(d) => (PathBuf::from(d).join("config.json"), false),
                None => match std::env::var_os("HOME") {
                    Some(h) => (PathBuf::from(h).join(".docker").join("config.json"), false),
                    None => return Ok(None),
                },
            },
        };
        let cfg_err = |reason: String| RegistryError::Config {
            path: path.display().to_string(),
            reason,
        };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cfg_err(e.to_string())),
        };
        let bytes = crate::layout::read_capped(file, MAX_CONFIG)
            .map_err(|e| cfg_err(e.to_string()))?
            .ok_or_else(|| cfg_err(format!("larger than {MAX_CONFIG} bytes")))?;
        if serde_json::from_slice::<serde_json::Value>(&bytes).is_err() {
            return Err(cfg_err("not a JSON docker configuration".into()));
        }
        Ok(Some(DockerConfig { path, bytes }))
    }

    /// The credentials stored for `key` (a registry host, or Docker Hub's historical URL), running
    /// a credential helper when the file names one. `None`: none configured.
    pub(crate) fn lookup(&self, key: &str) -> Result<Option<Credential>, RegistryError> {
        use docker_credential::{CredentialRetrievalError as E, DockerCredential as D};
        let cred_err = |reason: String| RegistryError::Credentials {
            registry: key.to_owned(),
            reason,
        };
        match docker_credential::get_credential_from_reader(&self.bytes[..], key) {
            Ok(D::UsernamePassword(username, password)) => Ok(Some(Credential::Basic {
                username,
                password: Secret(password),
            })),
            Ok(D::IdentityToken(t)) => Ok(Some(Credential::IdentityToken(Secret(t)))),
            Err(E::NoCredentialConfigured) => Ok(None),
            Err(E::ConfigReadError | E::ConfigNotFound) => Err(RegistryError::Config {
                path: self.path.display().to_string(),
                reason: "not a docker configuration".into(),
            }),
            // The helper's stdout could hold a secret: only its name and stderr are reported.
            Err(E::HelperFailure { helper, stderr, .. }) => Err(cred_err(format!(
                "{helper} failed: {}",
                super::error::clip(&stderr, 200)
            ))),
            Err(E::HelperCommunicationError) => Err(cred_err(
                "the credential helper named in the docker config could not be run".into(),
            )),
            Err(E::MalformedHelperResponse) => Err(cred_err(
                "the credential helper's answer is malformed".into(),
            )),
            Err(E::CredentialDecodingError) => Err(cred_err(format!(
                "the `auth` entry in {} is not base64 of user:password",
                self.path.display()
            ))),
            Err(E::CredentialMismatchError) => Err(cred_err(format!(
                "the `auth` entry in {} disagrees with its username and password",
                self.path.display()
            ))),
        }
    }
}

/// One `WWW-Authenticate` challenge: its scheme (lowercase) and parameters (names lowercase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Parses the challenges of one `WWW-Authenticate` value (RFC 9110 section 11.6.1):
/// `scheme [param=value *("," param=value)] *("," challenge)`. Parsing stops at the first thing
/// that does not fit; what was read before it is kept.
pub(crate) fn parse_challenges(h: &str) -> Vec<Challenge> {
    let s: Vec<char> = h.chars().collect();
    let mut i = 0;
    let mut out: Vec<Challenge> = Vec::new();
    let skip_ws = |i: &mut usize| {
        while s.get(*i).is_some_and(|c| *c == ' ' || *c == '\t') {
            *i += 1;
        }
    };
    let token = |i: &mut usize| -> String {
        let start = *i;
        while s.get(*i).copied().is_some_and(is_tchar) {
            *i += 1;
        }
        s.get(start..*i)
            .map(|t| t.iter().collect())
            .unwrap_or_default()
    };
    loop {
        while s
            .get(i)
            .is_some_and(|c| *c == ' ' || *c == '\t' || *c == ',')
        {
            i += 1;
        }
        let scheme = token(&mut i);
        if scheme.is_empty() {
            break;
        }
        let mut ch = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: Vec::new(),
        };
        loop {
            skip_ws(&mut i);
            let save = i;
            let name = token(&mut i);
            skip_ws(&mut i);
            if name.is_empty() || s.get(i) != Some(&'=') {
                i = save;
                break;
            }
            i += 1;
            skip_ws(&mut i);
            let value = if s.get(i) == Some(&'"') {
                i += 1;
                let mut v = String::new();
                loop {
                    match s.get(i) {
                        None => break,
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') => {
                            if let Some(c) = s.get(i + 1) {
                                v.push(*c);
                            }
                            i += 2;
                        }
                        Some(c) => {
                            v.push(*c);
                            i += 1;
                        }
                    }
                }
                v
            } else {
                token(&mut i)
            };
            ch.params.push((name.to_ascii_lowercase(), value));
            skip_ws(&mut i);
            if s.get(i) == Some(&',') {
                i += 1;
                continue;
            }
            break;
        }
        out.push(ch);
        if i >= s.len() {
            break;
        }
        // Anything that is neither a new challenge nor a separator ends the parse.
        if !s
            .get(i)
            .is_some_and(|c| *c == ',' || *c == ' ' || is_tchar(*c))
        {
            break;
        }
    }
    out
}

/// A sensitive header value (hyper never prints it in debug output).
pub(crate) fn sensitive(value: &str) -> Option<HeaderValue> {
    let mut h = HeaderValue::from_str(value).ok()?;
    h.set_sensitive(true);
    Some(h)
}

/// `Basic base64(user:password)`.
pub(crate) fn basic_header(username: &str, password: &Secret) -> Option<HeaderValue> {
    let raw = format!("{username}:{}", password.expose());
    sensitive(&format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

/// The token in a token endpoint's answer (`token`, else the OAuth2 `access_token`).
pub(crate) fn token_from(body: &[u8]) -> Option<Secret> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        access_token: Option<String>,
    }
    let a: Answer = serde_json::from_slice(body).ok()?;
    a.token
        .filter(|t| !t.is_empty())
        .or(a.access_token.filter(|t| !t.is_empty()))
        .map(Secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_and_basic_challenges() {
        let c = parse_challenges(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].scheme, "bearer");
        assert_eq!(c[0].param("realm"), Some("https://auth.example/token"));
        assert_eq!(c[0].param("service"), Some("registry.example"));
        assert_eq!(c[0].param("scope"), Some("repository:a/b:pull"));

        let c = parse_challenges(
            r#"Basic realm="Registry \"Realm\"", Bearer realm=x , error=invalid_token"#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "basic");
        assert_eq!(c[0].param("realm"), Some("Registry \"Realm\""));
        assert_eq!(c[1].scheme, "bearer");
        assert_eq!(c[1].param("realm"), Some("x"));
        assert_eq!(c[1].param("error"), Some("invalid_token"));
    }

    #[test]
    fn junk_challenges_do_not_panic() {
        for h in [
            "",
            ",,,",
            "=",
            "Bearer realm=\"unterminated",
            "Bearer realm=\"a\\",
            "Bearer ===",
            "\u{0}\u{1}",
            "Basic realm=\"a\" \u{7f}",
        ] {
            let _ = parse_challenges(h);
        }
        assert_eq!(parse_challenges("Basic")[0].scheme, "basic");
    }

    #[test]
    fn secrets_are_redacted() {
        let c = Credential::Basic {
            username: "alice".into(),
            password: Secret::new("s3cret".into()),
        };
        let shown = format!("{c:?}");
        assert!(
            shown.contains("alice") && !shown.contains("s3cret"),
            "{shown}"
        );
        let t = Credential::IdentityToken(Secret::new("refresh-me".into()));
        assert!(!format!("{t:?}").contains("refresh-me"));
        let h = basic_header("alice", &Secret::new("s3cret".into())).unwrap();
        assert!(h.is_sensitive());
        assert!(!format!("{h:?}").contains("YWxpY2U"));
    }

    #[test]
    fn docker_config_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        std::fs::write(
            &p,
            r#"{"auths":{"127.0.0.1:5000":{"auth":"YWxpY2U6czNjcmV0"},"tok.example":{"identitytoken":"rt"}}}"#,
        )
        .unwrap();
        let cfg = DockerConfig::load(Some(&p)).unwrap().unwrap();
        assert_eq!(
            cfg.lookup("127.0.0.1:5000").unwrap(),
            Some(Credential::Basic {
                username: "alice".into(),
                password: Secret::new("s3cret".into())
            })
        );
        assert_eq!(
            cfg.lookup("tok.example").unwrap(),
            Some(Credential::IdentityToken(Secret::new("rt".into())))
        );
        assert_eq!(cfg.lookup("elsewhere.example").unwrap(), None);
        // An explicit file must exist and be JSON.
        assert!(matches!(
            DockerConfig::load(Some(&dir.path().join("missing.json"))),
            Err(RegistryError::Config { .. })
        ));
        std::fs::write(&p, "not json").unwrap();
        assert!(matches!(
            DockerConfig::load(Some(&p)),
            Err(RegistryError::Config { .. })
        ));
    }

    #[test]
    fn token_answers() {
        assert_eq!(
            token_from(br#"{"token":"a","access_token":"b"}"#).map(|s| s.0),
            Some("a".into())
        );
        assert_eq!(
            token_from(br#"{"access_token":"b"}"#).map(|s| s.0),
            Some("b".into())
        );
        assert!(token_from(br#"{"token":""}"#).is_none());
        assert!(token_from(b"<html>").is_none());
    }
}
