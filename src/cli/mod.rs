//! The command line: clap definitions, one file per command, output rendering and progress bars.
//! Only this module prints.

mod fixture;
mod inspect;
mod output;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use output::Printer;

/// Exit status: verified / success.
pub const EXIT_OK: u8 = 0;
/// Exit status: verification failed.
pub const EXIT_FAIL: u8 = 1;
/// Exit status: usage or operational error.
pub const EXIT_ERROR: u8 = 2;

/// airlock: carry signed container images across an air gap.
#[derive(Debug, Parser)]
#[command(
    name = "airlock",
    version,
    about = "Carry notation-signed container images across an air gap, and prove on the far side that nothing changed",
    long_about = "airlock moves container images signed with the Notary Project (notation) into disconnected sites. \
A bundle is an OCI image layout, as a directory or a deterministic .tar, .tar.zst or .tar.gz. \
`airlock verify` re-hashes every blob and checks every descriptor from local files only; \
`airlock inspect` lists what a bundle holds.",
    after_help = "Exit status: 0 verified, 1 verification failed, 2 usage or operational error."
)]
pub struct Cli {
    /// Less output on stderr: -q hides progress and per-item lines, -qq prints nothing.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub quiet: u8,
    /// More output on stderr: every image and check.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Never draw progress bars (they are drawn only when stderr is a terminal).
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify a bundle from local files only.
    #[command(
        long_about = "Verify a bundle from local files only. BUNDLE is an OCI layout directory, a .tar, .tar.gz or \
.tar.zst file (recognised by its magic bytes, not its name), or - for stdin. Tarballs are read in one \
streaming pass and nothing is extracted.\n\nThe integrity stage walks from index.json through every index, \
manifest, config, layer and referrer, re-hashes every blob (sha256, sha512), checks every descriptor's size \
and digest grammar, each manifest's mediaType and JSON, and refuses hostile tar entries (.. or absolute \
paths, links, devices, duplicates, stray names). Every failure is reported with a stable reason code.",
        after_help = "Exit status: 0 verified, 1 verification failed, 2 usage or operational error.\n\n\
Examples:\n  airlock verify bundle.tar.zst --integrity-only\n  airlock verify ./layout registry.example/app:1.0 --integrity-only --format json\n  \
cat bundle.tar.zst | airlock verify - --integrity-only --report audit.json"
    )]
    Verify(VerifyArgs),
    /// List the images, platforms, referrers and blobs of a bundle.
    #[command(
        long_about = "List the images (reference, digest, media type, platforms, total size), their referrers by \
artifactType, and the blob count and bytes of a bundle. inspect does not re-hash: use verify for that.",
        after_help = "Examples:\n  airlock inspect bundle.tar.zst\n  airlock inspect ./layout --format json"
    )]
    Inspect(InspectArgs),
    /// Write a deterministic sample bundle (for the README, tests and benchmarks).
    #[command(hide = true)]
    Fixture(fixture::FixtureArgs),
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human summary on stderr.
    Text,
    /// The JSON report on stdout.
    Json,
}

/// `airlock verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle: a layout directory, a .tar/.tar.gz/.tar.zst file, or - for stdin.
    pub bundle: PathBuf,
    /// Images to verify, by org.opencontainers.image.ref.name (full or tag part) or digest. Default: all.
    pub images: Vec<String>,
    /// Check integrity only (digests, sizes, descriptors, layout), without signatures.
    #[arg(long)]
    pub integrity_only: bool,
    /// Output format: a human summary on stderr, or the JSON report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the JSON report to FILE (written to a temporary name, then renamed).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// `airlock inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The bundle: a layout directory, a .tar/.tar.gz/.tar.zst file, or - for stdin.
    pub bundle: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// An error the CLI explains with a remedy.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// verify without any trust anchor.
    #[error("no trust anchor given: pass --integrity-only, or a trust policy and trust store")]
    NoTrustAnchor,
}

/// A one-line remedy for an error, if there is one.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    if let Some(UsageError::NoTrustAnchor) = err.downcast_ref::<UsageError>() {
        return Some(
            "this version verifies integrity only (every digest, size and descriptor); Notary signature \
verification with --trust-policy/--trust-store is not available yet",
        );
    }
    if err.downcast_ref::<crate::archive::OpenError>().is_some() {
        return Some("BUNDLE must be an OCI layout directory, a .tar, .tar.gz or .tar.zst file, or - for stdin");
    }
    None
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let printer = Printer::new(cli.quiet, cli.verbose, cli.no_progress);
    match cli.command {
        Command::Verify(a) => verify::run(&a, &printer),
        Command::Inspect(a) => inspect::run(&a, &printer),
        Command::Fixture(a) => fixture::run(&a, &printer),
    }
}
