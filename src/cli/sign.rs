//! `airlock sign`: reads the key, the chain and the clock, then signs through [`crate::sign`].

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::{parse_key_value, Printer, UsageError, EXIT_OK};
use crate::notary::envelope::EnvelopeFormat;
use crate::notary::sign::{read_certificate_chain_pem, read_private_key_pem};
use crate::sign::{self, split_reference, Request};

/// Largest key or certificate file read.
const MAX_PEM_BYTES: u64 = 1 << 20;

/// Envelope format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EnvelopeArg {
    /// JWS JSON serialization (application/jose+json), notation's default.
    Jws,
    /// COSE_Sign1 (application/cose).
    Cose,
}

/// `airlock sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The image: an OCI image layout directory, then :TAG (its org.opencontainers.image.ref.name,
    /// full or the tag part) or @DIGEST (an image or one of its platform manifests). Without
    /// either, the layout's only image.
    #[arg(value_name = "LAYOUT_DIR[:TAG|@DIGEST]")]
    pub target: String,
    /// Private key of the signing certificate: unencrypted PKCS#8 PEM (BEGIN PRIVATE KEY), RSA
    /// 2048/3072/4096 or EC P-256/P-384/P-521.
    #[arg(long, value_name = "KEY.pem")]
    pub key: std::path::PathBuf,
    /// Certificate chain, PEM: the signing certificate first, then any intermediates, then the
    /// self-signed root.
    #[arg(long, value_name = "CHAIN.pem")]
    pub cert: std::path::PathBuf,
    /// Envelope format.
    #[arg(long, value_enum, default_value_t = EnvelopeArg::Jws)]
    pub envelope: EnvelopeArg,
    /// Signature expiry, after the signing time: 30m, 12h, 7d, 3h20m (units d, h, m, s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expiry: Option<i64>,
    /// User metadata signed into the payload (as notation sign -m); repeatable.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub user_metadata: Vec<(String, String)>,
    /// Signing time (RFC 3339). Default: now.
    #[arg(long, value_name = "RFC3339")]
    pub signing_time: Option<String>,
}

/// Parses `30m`, `12h`, `7d`, `3h20m`, `90s` into seconds (positive).
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a duration such as 30m, 12h, 7d or 3h20m");
    let mut total: i64 = 0;
    let mut number: Option<i64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(i64::from(d)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit: i64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n = number.take().ok_or_else(bad)?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if number.is_some() || total <= 0 {
        return Err(bad());
    }
    Ok(total)
}

pub(super) fn run(a: &SignArgs, p: &Printer) -> anyhow::Result<ExitCode> {
    let signing_time = match &a.signing_time {
        Some(s) => super::rfc3339_arg("--signing-time", s)?,
        None => jiff::Timestamp::now(),
    }
    .as_second();
    let expiry = a
        .expiry
        .map(|d| {
            signing_time
                .checked_add(d)
                .ok_or_else(|| UsageError::BadOption(format!("--expiry {d}s is out of range")))
        })
        .transpose()?;
    let key = read_private_key_pem(&super::read_file_capped("key", &a.key, MAX_PEM_BYTES)?)
        .with_context(|| format!("--key {}", a.key.display()))?;
    let chain = read_certificate_chain_pem(&super::read_file_capped(
        "certificate chain",
        &a.cert,
        MAX_PEM_BYTES,
    )?)
    .with_context(|| format!("--cert {}", a.cert.display()))?;
    let (dir, reference) = split_reference(&a.target);
    let format = match a.envelope {
        EnvelopeArg::Jws => EnvelopeFormat::Jws,
        EnvelopeArg::Cose => EnvelopeFormat::Cose,
    };
    let agent = format!("airlock/{}", env!("CARGO_PKG_VERSION"));
    let signed = sign::sign(
        &dir,
        &Request {
            reference: reference.as_deref(),
            key: &key,
            chain: &chain,
            format,
            signing_time,
            expiry,
            user_metadata: &a.user_metadata,
            signing_agent: &agent,
        },
    )
    .with_context(|| format!("signing {}", a.target))?;

    let target = &signed.target;
    p.info(&format!(
        "signed {}{} ({}) with {} ({}), signature manifest {}",
        target
            .name
            .as_deref()
            .map(|n| format!("{n}@"))
            .unwrap_or_default(),
        target.descriptor.digest,
        target.descriptor.media_type,
        signed.algorithm,
        format.media_type(),
        signed.attached.manifest,
    ));
    p.detail(&format!(
        "  referrers tag {} -> {} ({} referrer(s)); chain thumbprints {}",
        signed.attached.referrers_tag,
        signed.attached.referrers_index,
        signed.attached.referrers,
        signed.attached.thumbprints.join(", ")
    ));
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", signed.attached.manifest)?;
    out.flush()?;
    Ok(ExitCode::from(EXIT_OK))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("12h"), Ok(43_200));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("3h20m"), Ok(12_000));
        assert_eq!(parse_duration("90s"), Ok(90));
        for bad in [
            "",
            "10",
            "h",
            "1x",
            "0m",
            "-1h",
            "1h 2m",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
