//! The registry connection options commands share.

use std::path::PathBuf;

use clap::Args;

/// How to reach a registry: plain HTTP hosts, extra CAs, credentials, deadlines.
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Speak plain HTTP (no TLS) to these hosts (HOST[:PORT]); repeatable. Loopback hosts
    /// (127.0.0.1, localhost) are plain HTTP unless another host is named here.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub plain_http: Vec<String>,
    /// Extra CA certificates (PEM) to trust for registry HTTPS.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Docker config.json with registry credentials.
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
        let mut plain = self.plain_http.clone();
        if plain.is_empty() && (host.starts_with("127.0.0.1") || host.starts_with("localhost")) {
            plain.push(host.to_owned());
        }
        // Loopback registries are usually plain HTTP; say so explicitly with --plain-http otherwise.
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
