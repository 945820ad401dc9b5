//! The registry connection options commands share.

use std::path::PathBuf;

use clap::Args;

use crate::export::config::RegistrySettings;

/// How to reach a registry: plain HTTP hosts, extra CAs, credentials, deadlines.
#[derive(Clone, Debug, Default, Args)]
pub struct RegistryArgs {
    /// Speak plain HTTP (no TLS) to these hosts (HOST[:PORT]); repeatable. Loopback hosts
    /// (exactly 127.0.0.1, localhost, [::1]) are plain HTTP unless another host is named here.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub plain_http: Vec<String>,
    /// Extra CA certificates (PEM) to trust for registry HTTPS.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, then
    /// ~/.docker/config.json; credsStore and credHelpers are honoured).
    #[arg(long, value_name = "FILE")]
    pub registry_config: Option<PathBuf>,
    /// Slowest acceptable registry transfer, in bytes per second (K, M, G: powers of 1024): a blob
    /// of SIZE bytes must arrive within --network-timeout + SIZE / RATE, retries included. 0 turns
    /// this deadline off. Default 256K.
    #[arg(long, value_name = "BYTES_PER_SEC", value_parser = crate::registry::parse_rate)]
    pub min_rate: Option<u64>,
    /// Retry budget: the longest a registry request may go without progress, all retries
    /// included; a stalled registry fails after this long. Default 60.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub network_timeout: Option<u64>,
}

impl RegistryArgs {
    /// The client options for a registry at `host`.
    pub fn options(&self, host: &str) -> crate::registry::Options {
        self.options_for(&[host])
    }

    /// The client options for one client that talks to each of `hosts`. Loopback registries are
    /// usually plain HTTP: with no `--plain-http` given, the loopback hosts among `hosts` are.
    pub fn options_for(&self, hosts: &[&str]) -> crate::registry::Options {
        let mut plain = self.plain_http.clone();
        if plain.is_empty() {
            plain.extend(
                hosts
                    .iter()
                    .filter(|h| is_loopback(h))
                    .map(|h| (*h).to_owned()),
            );
        }
        crate::registry::Options {
            plain_http: plain,
            ca_file: self.ca_file.clone(),
            registry_config: self.registry_config.clone(),
            timeout: None,
            retries: 3,
            retry_budget: self.network_timeout.map(std::time::Duration::from_secs),
            min_rate: self.min_rate,
        }
    }

    /// These options over a bundle file's `[registry]` table (README.md, "Bundle file and
    /// lockfile"): plain HTTP hosts are added, the file's first; a value given here wins.
    pub fn over(&self, file: &RegistrySettings) -> Result<RegistryArgs, String> {
        let min_rate = match (self.min_rate, file.min_rate.as_deref()) {
            (Some(r), _) => Some(r),
            (None, Some(s)) => Some(
                crate::registry::parse_rate(s)
                    .map_err(|e| format!("[registry] min-rate {s:?}: {e}"))?,
            ),
            (None, None) => None,
        };
        let mut plain_http = file.plain_http.clone();
        plain_http.extend(self.plain_http.iter().cloned());
        Ok(RegistryArgs {
            plain_http,
            ca_file: self.ca_file.clone().or_else(|| file.ca_file.clone()),
            registry_config: self.registry_config.clone().or_else(|| file.config.clone()),
            min_rate,
            network_timeout: self.network_timeout.or(file.network_timeout),
        })
    }
}

/// Whether `host` (`NAME[:PORT]`) names this machine: `127.0.0.1`, `localhost` or `[::1]`, exactly
/// (not `127.0.0.1.example.com` nor `localhost.example`: those would be spoken to without TLS).
fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// `OLD=NEW` of `--map`.
pub fn parse_map(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((
            a.trim_matches('/').to_owned(),
            b.trim_matches('/').to_owned(),
        )),
        _ => Err(format!("expected OLD=NEW, got {s:?}")),
    }
}

/// `HOST[:PORT][/PREFIX]` -> (`HOST[:PORT]`, `PREFIX` without slashes at either end).
pub fn split_target(to: &str) -> (String, String) {
    match to.trim_end_matches('/').split_once('/') {
        Some((host, prefix)) => (host.to_owned(), prefix.trim_matches('/').to_owned()),
        None => (to.trim_end_matches('/').to_owned(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_plain_http_unless_hosts_are_named() {
        let none = RegistryArgs::default();
        let o = none.options_for(&[
            "127.0.0.1:5000",
            "registry.example",
            "localhost:1",
            "[::1]:5000",
            "localhost",
            // Names that only begin like a loopback host are spoken to with TLS.
            "127.0.0.1.example.com",
            "localhost.example:5000",
            "127.0.0.1:5000.example",
        ]);
        assert_eq!(
            o.plain_http,
            ["127.0.0.1:5000", "localhost:1", "[::1]:5000", "localhost"]
        );
        let named = RegistryArgs {
            plain_http: vec!["mirror.internal".into()],
            ..RegistryArgs::default()
        };
        assert_eq!(
            named.options("127.0.0.1:5000").plain_http,
            ["mirror.internal"]
        );
    }

    #[test]
    fn the_command_line_wins_over_the_bundle_file() {
        let file = RegistrySettings {
            plain_http: vec!["a:1".into()],
            ca_file: Some("file-ca.pem".into()),
            config: Some("file-config.json".into()),
            min_rate: Some("1M".into()),
            network_timeout: Some(5),
        };
        let from_file = RegistryArgs::default().over(&file).unwrap();
        assert_eq!(from_file.plain_http, ["a:1"]);
        assert_eq!(from_file.min_rate, Some(1 << 20));
        assert_eq!(from_file.network_timeout, Some(5));
        assert_eq!(from_file.registry_config, Some("file-config.json".into()));
        let cli = RegistryArgs {
            plain_http: vec!["b:2".into()],
            ca_file: Some("cli-ca.pem".into()),
            registry_config: None,
            min_rate: Some(0),
            network_timeout: Some(9),
        };
        let both = cli.over(&file).unwrap();
        assert_eq!(both.plain_http, ["a:1", "b:2"]);
        assert_eq!(both.ca_file, Some("cli-ca.pem".into()));
        assert_eq!(both.registry_config, Some("file-config.json".into()));
        assert_eq!((both.min_rate, both.network_timeout), (Some(0), Some(9)));
        let bad = RegistrySettings {
            min_rate: Some("fast".into()),
            ..file
        };
        assert!(RegistryArgs::default()
            .over(&bad)
            .unwrap_err()
            .contains("min-rate"));
    }
}
