//! The command line: clap definitions, one file per command, output rendering and progress bars.
//! Only this module prints.

mod export;
mod fixture;
#[cfg(feature = "pull")]
mod import;
mod inspect;
mod inventory;
#[cfg(feature = "pull")]
mod net;
mod output;
mod receipt;
mod sign;
mod split;
mod verify;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[cfg(feature = "pull")]
pub use net::{parse_map, RegistryArgs};
pub use output::{say, terminal_safe, Printer};

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
`airlock verify` re-hashes every blob and checks every descriptor from local files only, and verifies \
Notary Project signatures against a local trust policy and trust store; `airlock inspect` lists what a \
bundle holds; `airlock sign` signs an image of a layout as `notation sign --oci-layout` does.",
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
paths, links, devices, duplicates, stray names). Every failure is reported with a stable reason code.\n\n\
The signature stage (with --trust-policy and --trust-store, or --notation-config) verifies every image's \
Notary Project signatures as `notation verify` does, from local files only: signatures are the manifests \
in index.json (or in the sha256-<hex> referrers tag index) whose subject is the image or one of its \
platform manifests and whose artifact type is application/vnd.cncf.notary.signature. The trust-policy \
statement whose registryScopes match the image's repository (or --scope) decides the trust stores, \
trusted identities and level. Each signature goes through integrity (envelope, signature, certificate \
rules, payload), authenticity (a chain certificate in a ca or signingAuthority store; trusted \
identity), expiry, authentic timestamp (certificate validity at the verification time, or at an RFC \
3161 timestamp verified against a tsa store), and revocation (CRLs given with --crl; nothing is \
fetched, and an unknown status is never good). Levels: strict enforces all; permissive logs \
authenticTimestamp, expiry and revocation; audit also logs authenticity; skip verifies nothing; \
override changes single checks. One passing signature verifies an image; every signature is reported.\n\n\
Every other referrer (SBOMs, attestations, cosign artifacts, referrers of referrers) is carried, integrity \
checked, not signature-verified: it is listed by artifact type and never counts as a signature. The \
bundle's identity is printed as `bundle sha256:...` (the digest of index.json) and, for a tarball, `file \
sha256:...` (the file's own bytes, hashed while read), as export, inspect and import print it.",
        after_help = "Exit status: 0 verified, 1 verification failed, 2 usage or operational error.\n\n\
Examples:\n  airlock verify bundle.tar.zst --trust-policy trustpolicy.json --trust-store truststore\n  \
airlock verify bundle.tar.zst --notation-config ~/.config/notation --at 2026-11-24T00:00:00Z\n  \
airlock verify bundle.tar.zst --integrity-only\n  airlock verify ./layout registry.example/app:1.0 --integrity-only --format json\n  \
cat bundle.tar.zst | airlock verify - --integrity-only --report audit.json"
    )]
    Verify(VerifyArgs),
    /// Write images, their signatures and the trust material into one bundle.
    #[command(
        long_about = "Write images, every referrer of them and of their platform manifests (notation signatures, \
SBOMs, attestations, their own referrers recursively, cosign's sha256-<hex>.sig/.att/.sbom tags; \
--referrers chooses), and the trust material the far side needs (trust policy, trust-store certificates, CRLs, an export record) into one \
bundle: an OCI layout directory, or a deterministic .tar, .tar.zst or .tar.gz. Manifests are kept byte for \
byte; every blob is hashed while it is written. When trust material is given, the captured signatures are \
verified before anything is made visible, and the trust artifact's digest is printed for --pin. The \
bundle's identity is printed as `bundle sha256:...` (the digest of index.json) and, for a tarball, `file \
sha256:...` (the file as written), as verify, inspect and import print it.",
        after_help = "Examples:\n  airlock export oci:./layout:1.0 -o bundle.tar.zst --trust-policy trustpolicy.json --trust-store truststore\n  \
airlock export -f images.txt --platform linux/amd64 -o bundle/\n  \
airlock export --config airlock.toml --lock airlock.lock\n  \
airlock export --config airlock.toml --lock airlock.lock --locked\n\n\
Bundle file (--config, TOML; unknown fields refused; paths relative to the file's folder; README.md, \
\"Bundle file and lockfile\", lists every field and how each combines with the command line):\n\n  \
output = \"out/bundle.tar.zst\"\n  platforms = [\"linux/amd64\"]\n  [trust]\n  policy = \"trustpolicy.json\"\n  \
store = \"truststore\"\n  [registry]\n  plain-http = [\"127.0.0.1:5000\"]\n  [[image]]\n  \
reference = \"registry.example/team/app:1.4\"\n  referrers = \"all\"\n  require-signature = true\n  \
identity = \"C=US, ST=WA, O=Example, CN=release-signer\"\n\n\
Exit status: 0 written; 1 refused on content, nothing written (a failing or missing signature, an \
identity not matched, or with --locked an image, platform manifest or referrer that differs from the \
lock, each named); 2 usage or operational error (a bundle file that does not parse, with its line).\n\n\
SOURCE_DATE_EPOCH, when set, is the time recorded in the bundle (reproducible exports)."
    )]
    Export(export::ExportArgs),
    /// Verify a bundle, then push it into a registry with its signatures.
    #[cfg(feature = "pull")]
    #[command(
        long_about = "Verify a bundle (with the trust options of verify; --integrity-only only when named), then \
push it into a registry with its signatures intact, so that notation verify works there too. Nothing is \
pushed unless verification passed. Blobs are hashed again as they are pushed (a bundle changed since \
verification aborts the push); manifests go with their exact bytes and media types, children before \
parents, every referrer (signatures, SBOMs, attestations, referrers of referrers) after its subject with its \
digest unchanged, cosign's tag-named artifacts under their tags, and the sha256-<hex> referrers tag index \
is created or merged. Blobs and manifests the target already has are skipped, so a second import uploads \
nothing. The bundle's identity is printed as verify prints it (`bundle sha256:...`, `file sha256:...`).",
        after_help = "Examples:\n  airlock import bundle.tar.zst --to registry.site.internal:5000/mirror --pin sha256:...\n  \
airlock import bundle/ --to 127.0.0.1:5000 --map airlock/sample=apps/sample --integrity-only --dry-run"
    )]
    Import(import::ImportArgs),
    /// List the images, platforms, referrers and blobs of a bundle.
    #[command(
        long_about = "List the images (reference, digest, media type, platforms, total size), their referrers by \
artifactType, the blob count and bytes, and the identity of a bundle (`bundle sha256:...`, the digest of \
index.json, and for a tarball `file sha256:...`, the file's own bytes). inspect does not re-hash: use verify for that. \
From a directory it reads only the small JSON documents it lists (and the trust artifact's parts), \
taking blob sizes from the file system; a tarball is read through, as a stream must be.\n\n\
Structural problems it sees on the way (a missing, empty, oversized, linked or special index.json, a \
missing blob, a size that contradicts its descriptor, a malformed manifest) are printed on stderr as \
FAIL lines, and the exit status is then 1.",
        after_help = "Exit status: 0 nothing found wrong (inspect does not re-hash: that is verify's job), \
1 FAIL lines were printed, 2 the bundle could not be read or a usage error.\n\n\
Examples:\n  airlock inspect bundle.tar.zst\n  airlock inspect ./layout --format json"
    )]
    Inspect(InspectArgs),
    /// Write what the site already holds (from its registry, or from bundles on disk), for
    /// `export --since`.
    #[command(
        long_about = "Write a JSON inventory of the blobs this site already holds, to carry back to the \
connected side, where `airlock export --since INVENTORY` leaves those blobs out of the next bundle. \
Blobs come from the site's registry (--registry HOST[:PORT][/PREFIX] with --repo REPO or --repos-from \
BUNDLE: every tag, manifest and index of those repositories is walked, indexes of indexes too, and \
every blob they list is checked with HEAD; only blobs the registry holds are listed, with the \
repositories holding them so that import can mount them), and/or from bundles and layouts on disk \
(each re-hashed; only blobs that hash to their names are listed).\n\n\
The inventory is not trusted for anything but leaving blobs out: an inventory that lists blobs the \
site lacks makes the next import refuse before pushing anything; one that omits blobs only makes \
the bundle bigger.",
        after_help = "Examples:\n  airlock inventory --registry registry.site:5000/mirror --repos-from last-week.tar.zst -o site.inventory.json\n  \
airlock inventory --registry 127.0.0.1:5000 --repo apps/web --repo apps/api -o site.inventory.json\n  \
airlock inventory last-week.tar.zst older/ -o site.inventory.json"
    )]
    Inventory(inventory::InventoryArgs),
    /// Cut a tarball bundle into parts that fit the media, with a parts manifest.
    #[command(
        long_about = "Cut a .tar, .tar.gz or .tar.zst bundle into NAME.001, NAME.002, ... of at most SIZE bytes \
each, and write NAME.parts.json: the whole stream's size and sha256, each part's file name, offset, size \
and sha256, and the bundle's identity (the index.json digest, and the trust artifact digest, the pin, when \
the bundle carries trust material) so that a part set can be matched to a transfer ticket. Every file is \
written under a temporary name and renamed when the set is complete. The parts are read back without \
joining them: `airlock verify --parts-only` checks each part as it arrives, and verify, inspect and import \
accept the manifest, the first part or the folder. The manifest is a map, not an anchor: nothing in it is \
authenticated, and the verdict still comes from re-hashing every blob and the signatures.\n\n\
--parts 5,7 writes only those parts, byte-identical to the first split with the same --size, from the \
copy of the bundle kept on the connected side; when the manifest is in the output folder, each re-issued \
part is compared with it.",
        after_help = "Exit status: 0 written, 1 a re-issued part differs from the manifest in the output folder, 2 usage or operational error.\n\n\
Examples:\n  airlock split bundle.tar.zst --size dvd\n  airlock split bundle.tar.zst --size 4G -o /media/stick\n  \
airlock split bundle.tar.zst --size dvd --parts 5,7 -o reissue/"
    )]
    Split(split::SplitArgs),
    /// Sign an image of an OCI image layout directory, as `notation sign --oci-layout` does.
    #[command(
        long_about = "Sign an image of an OCI image layout directory with a Notary Project signature, as \
`notation sign --oci-layout` does, from a private key and its certificate chain on disk.\n\n\
The signature is a JWS or COSE envelope (protected headers alg, cty, crit, io.cncf.notary.signingScheme \
notary.x509, io.cncf.notary.signingTime and, with --expiry, io.cncf.notary.expiry; the certificate chain \
in x5c / x5chain) over the payload {\"targetArtifact\": {mediaType, digest, size, annotations}}, with \
--user-metadata in the annotations. The algorithm follows the key: PS256/PS384/PS512 for RSA \
2048/3072/4096, ES256/ES384/ES512 for EC P-256/P-384/P-521; other keys are refused, as is a key that \
does not match the first certificate.\n\n\
The envelope is verified with the verifier's own code before anything is written (signature, every \
certificate rule, every certificate valid at the signing time, payload); if that fails, nothing is \
written. It is then stored as a signature manifest (artifactType application/vnd.cncf.notary.signature, \
empty config, one layer, subject, io.cncf.notary.x509chain.thumbprint#S256 and \
org.opencontainers.image.created annotations), listed untagged in index.json and in the sha256-<hex> \
referrers tag index (created, or merged keeping its entries). Every file is written to a temporary name \
and renamed; index.json goes last. The signature manifest digest is printed on stdout.",
        after_help = "Exit status: 0 signed, 2 refused or failed (nothing was written).\n\n\
Examples:\n  airlock sign ./layout --key leaf.key --cert chain.pem\n  \
airlock sign ./layout:registry.example/app:1.0 --key leaf.key --cert chain.pem --envelope cose --expiry 30d\n  \
airlock sign ./layout@sha256:0123... --key leaf.key --cert chain.pem --user-metadata build=42"
    )]
    Sign(sign::SignArgs),
    /// Check a verification receipt offline (`airlock receipt verify FILE`).
    Receipt(receipt::ReceiptArgs),
    /// Write a deterministic sample bundle (for the README, tests and benchmarks).
    #[command(hide = true)]
    Fixture(fixture::FixtureArgs),
    /// Pack a layout directory into a deterministic .tar, .tar.gz or .tar.zst.
    #[command(hide = true)]
    Pack(fixture::PackArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell) on stdout.
    #[command(
        long_about = "Print a completion script for SHELL on stdout, generated from the same command \
definition as the man pages. The scripts are also shipped, ready made, in the completions/ folder \
beside man/.",
        after_help = "Examples:\n  airlock completions bash > /etc/bash_completion.d/airlock\n  \
airlock completions zsh > \"${fpath[1]}/_airlock\"\n  \
airlock completions fish > ~/.config/fish/completions/airlock.fish\n  \
airlock completions powershell >> $PROFILE"
    )]
    Completions(CompletionsArgs),
}

/// `airlock completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells `airlock completions` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// GNU bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
    /// PowerShell.
    Powershell,
}

impl Shell {
    /// Every shell, in the order the shipped files are listed.
    pub const ALL: [Shell; 4] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Powershell];

    /// The file name the shipped script has under `completions/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Shell::Bash => "airlock.bash",
            Shell::Zsh => "_airlock",
            Shell::Fish => "airlock.fish",
            Shell::Powershell => "_airlock.ps1",
        }
    }
}

/// The completion script for `shell`, generated from the clap definition.
pub fn completion_script(shell: Shell) -> Vec<u8> {
    use clap::CommandFactory;
    use clap_complete::Shell as S;
    let mut cmd = Cli::command();
    let target = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
    };
    let mut out = Vec::new();
    clap_complete::generate(target, &mut cmd, "airlock", &mut out);
    out
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
    /// Where the trust anchor comes from.
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Output format: a human summary on stderr, or the JSON report on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the JSON report to FILE (written to a temporary name, then renamed).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Check only the parts of a split bundle, as they arrive: BUNDLE is the parts manifest
    /// (NAME.parts.json), the folder holding the parts, or one part file NAME.NNN (only that part
    /// is checked). Each present part's size and sha256 is compared with the manifest and each
    /// missing one named; exit 0 only when every part checked is present and good. No trust
    /// anchor is needed: this is not the verification of the bundle.
    #[arg(
        long,
        conflicts_with_all = ["integrity_only", "trust_policy", "trust_store", "notation_config", "pin", "trust_bundled"]
    )]
    pub parts_only: bool,
    /// The parts manifest, when it is not beside the part (--parts-only).
    #[arg(long, value_name = "FILE", requires = "parts_only")]
    pub manifest: Option<PathBuf>,
    /// Bundles or layouts holding blobs a differential bundle left out (`export --since`):
    /// each is re-hashed, and a blob the bundle lacks is taken from it when its content matches
    /// its digest, so that the verdict covers every blob; repeatable.
    #[arg(long, value_name = "PATH", conflicts_with = "parts_only")]
    pub base: Vec<PathBuf>,
    /// The verification receipt (`--receipt`, `--receipt-key`, `--receipt-cert`).
    #[command(flatten)]
    pub receipt: receipt::ReceiptOutArgs,
}

/// Local trust material: a trust policy and a trust store, or a notation configuration folder.
#[derive(Debug, Args)]
pub struct MaterialArgs {
    /// Trust policy document (notation trustpolicy.json / trustpolicy.oci.json, version 1.0).
    #[arg(
        long,
        value_name = "FILE",
        requires = "trust_store",
        conflicts_with = "notation_config"
    )]
    pub trust_policy: Option<PathBuf>,
    /// Trust store: the folder holding x509/{ca,signingAuthority,tsa}/NAME/*.{crt,cer,pem}.
    #[arg(
        long,
        value_name = "DIR",
        requires = "trust_policy",
        conflicts_with = "notation_config"
    )]
    pub trust_store: Option<PathBuf>,
    /// A notation configuration folder: trustpolicy.oci.json (or trustpolicy.json) and truststore/.
    #[arg(long, value_name = "DIR")]
    pub notation_config: Option<PathBuf>,
}

/// A notation configuration folder's policy and trust store: `trustpolicy.oci.json`, and
/// `trustpolicy.json` only when nothing at all is at the first name, as notation falls back. A
/// dangling link, a link loop or an unreadable folder at `trustpolicy.oci.json` is not "absent":
/// the path is kept, and reading it fails (exit 2) instead of judging with an older policy (red
/// team N, N02: `Path::exists` follows links and answers false for a dangling one).
pub fn notation_paths(dir: &Path) -> (PathBuf, PathBuf) {
    let oci = dir.join("trustpolicy.oci.json");
    let absent = matches!(
        std::fs::symlink_metadata(&oci),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound
    );
    let p = if absent {
        dir.join("trustpolicy.json")
    } else {
        oci
    };
    (p, dir.join("truststore"))
}

impl MaterialArgs {
    /// The policy file and the trust store folder, when given.
    pub fn paths(&self) -> Option<(PathBuf, PathBuf)> {
        match (&self.trust_policy, &self.trust_store, &self.notation_config) {
            (Some(p), Some(s), None) => Some((p.clone(), s.clone())),
            (None, None, Some(dir)) => Some(notation_paths(dir)),
            _ => None,
        }
    }
}

/// The trust options `verify` and `import` share.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Check integrity only (digests, sizes, descriptors, layout), without signatures.
    #[arg(
        long,
        conflicts_with_all = ["trust_policy", "trust_store", "notation_config", "pin", "trust_bundled"]
    )]
    pub integrity_only: bool,
    /// Use the trust artifact the bundle carries, but only the one whose manifest digest is this
    /// value: the `--pin sha256:...` that `airlock export` printed, carried out of band. The digest
    /// authenticates the artifact's trust policy, certificates, TSA roots, CRLs and export record;
    /// the record then decides which images pass under which names. Repeatable (any one may
    /// match). A root certificate's fingerprint is not a pin: put the root in a local trust store.
    #[arg(
        long,
        value_name = "sha256:DIGEST",
        value_parser = parse_pin,
        conflicts_with_all = ["trust_policy", "trust_store", "notation_config", "trust_bundled"]
    )]
    pub pin: Vec<String>,
    /// Use the bundle's trust artifact without a pin: the report says `bundled-unpinned` and the
    /// summary warns that trust is then anchored in the bundle itself (whoever carried the bundle
    /// chose the policy and the roots).
    #[arg(long, conflicts_with_all = ["trust_policy", "trust_store", "notation_config"])]
    pub trust_bundled: bool,
    /// The local trust material.
    #[command(flatten)]
    pub material: MaterialArgs,
    /// Registry scope (REGISTRY/REPO) matched against the policy's registryScopes, for every
    /// image. Default: each image's recorded source repository.
    #[arg(long, value_name = "REGISTRY/REPO")]
    pub scope: Option<String>,
    /// Verification time (RFC 3339). Default: now.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// A CRL (PEM or DER) to check certificates against; repeatable. Nothing is fetched.
    #[arg(long, value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// User metadata the signed payload must carry (as notation verify -m); repeatable.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub user_metadata: Vec<(String, String)>,
}

fn parse_pin(s: &str) -> Result<String, String> {
    let hex = s.strip_prefix("sha256:").unwrap_or(s);
    if hex.contains(':') {
        return Err(format!(
            "{s:?} looks like a certificate fingerprint (AB:CD:...); --pin takes the trust artifact \
digest `airlock export` printed (sha256:<64 hex>), and a root certificate belongs in a local trust \
store (--trust-store DIR or --notation-config DIR)"
        ));
    }
    let hex = hex.to_ascii_lowercase();
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(format!("sha256:{hex}"))
    } else {
        Err(format!(
            "{s:?} is not a trust artifact digest (sha256:<64 hex>, as `airlock export` printed it)"
        ))
    }
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
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
    /// The trust policy cannot be used.
    #[error("trust policy {path} is invalid ({code}): {message}")]
    PolicyInvalid {
        /// The file.
        path: String,
        /// Stable code.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// A bad `--at`, `--scope` or `--crl`.
    #[error("{0}")]
    BadOption(String),
    /// A `--pin` that is a certificate's fingerprint, not the trust artifact's digest.
    #[error("--pin {0} is the SHA-256 fingerprint of a certificate the bundle carries, not the digest of its trust artifact")]
    PinIsCertificate(String),
}

/// A time given on the command line (`--at`, `--signing-time`), with the RFC 3339 grammar
/// notation's Go reads (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, offsets within
/// 23:59; a fraction of a second is refused unless it is zero): `jiff` alone would also take `+25:00` and other
/// forms, shifting the verification time without a word.
pub(crate) fn rfc3339_arg(flag: &str, s: &str) -> Result<jiff::Timestamp, UsageError> {
    // Times are compared to the second (certificates, expiry and signing times are whole
    // seconds): a fraction would be dropped, so that `...17:00:00.5Z` passed a certificate that
    // expired at 17:00:00 and the report recorded another time than the one given (red team J,
    // J3). A fraction of zeros is the same second and is taken.
    let fraction = s.split_once('.').map(|(_, rest)| {
        rest.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
    });
    if fraction.is_some_and(|f| f.chars().any(|c| c != '0')) {
        return Err(UsageError::BadOption(format!(
            "{flag} {s:?} has a fraction of a second: give whole seconds (certificate and CRL times are whole seconds, and rounding a fraction either way could change a verdict)"
        )));
    }
    crate::notary::time::parse_rfc3339(s)
        .and_then(|t| jiff::Timestamp::from_second(t).ok())
        .ok_or_else(|| {
            UsageError::BadOption(format!(
                "{flag} {s:?} is not an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.fraction] then Z or +HH:MM)"
            ))
        })
}

/// The exit status of an error: 1 when it is a verification outcome (an export that refused a
/// failing or missing signature), 2 otherwise.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<crate::export::ExportError>() {
        Some(crate::export::ExportError::Signatures(_))
        | Some(crate::export::ExportError::Unsigned(_)) => EXIT_FAIL,
        Some(crate::export::ExportError::Mismatch { .. }) => EXIT_FAIL,
        Some(crate::export::ExportError::Refused { .. })
        | Some(crate::export::ExportError::Busy(_))
        | Some(crate::export::ExportError::StdoutClosed(_)) => EXIT_ERROR,
        _ => import_exit(err),
    }
}

/// The content of the operator's file `path` (`what` names it in errors), refused past `cap` bytes
/// (a usage error) rather than read whole.
pub(super) fn read_file_capped(
    what: &str,
    path: &std::path::Path,
    cap: u64,
) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context as _;
    crate::fsutil::read_named_file(path, cap)
        .with_context(|| format!("cannot read {what} {}", path.display()))?
        .ok_or_else(|| {
            UsageError::BadOption(format!(
                "{what} {} is larger than {cap} bytes",
                path.display()
            ))
            .into()
        })
}

#[cfg(feature = "pull")]
fn import_exit(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<crate::import::ImportError>() {
        Some(e) if e.is_content_failure() => EXIT_FAIL,
        _ => EXIT_ERROR,
    }
}

#[cfg(not(feature = "pull"))]
fn import_exit(_: &anyhow::Error) -> u8 {
    EXIT_ERROR
}

/// Exit 128 + the signal when one stopped the run (`fsutil::cleanup`), after saying what the run
/// left behind (`left`).
fn interrupted(p: &Printer, left: &str) -> Option<ExitCode> {
    let sig = crate::fsutil::cleanup::interrupted()?;
    p.important(&format!("interrupted by signal {sig}: {left}"));
    Some(ExitCode::from(
        u8::try_from(128 + sig).unwrap_or(EXIT_ERROR),
    ))
}

/// A one-line remedy for an error, if there is one.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    match err.downcast_ref::<UsageError>() {
        Some(UsageError::NoTrustAnchor) => {
            return Some(
                "the trust anchor must come from this machine, never from the bundle alone: \
--trust-policy FILE --trust-store DIR, or --notation-config DIR",
            )
        }
        Some(UsageError::PinIsCertificate(_)) => {
            return Some(
                "a root certificate belongs in a local trust store (--trust-store DIR with --trust-policy FILE, \
or --notation-config DIR); --pin takes the digest `airlock export` printed (`--pin sha256:...`), which \
authenticates the whole trust artifact: policy, stores, TSA roots, CRLs and the export record",
            )
        }
        Some(UsageError::PolicyInvalid { .. }) => {
            return Some(
                "fix the trust policy document; `notation policy show` reads the same format",
            )
        }
        _ => {}
    }
    if let Some(e) = err.downcast_ref::<crate::export::ExportError>() {
        match e {
            crate::export::ExportError::Refused { .. } => {
                return Some(
                    "choose another -o, remove what is there, or pass --force to replace it whole once the new bundle is complete",
                )
            }
            crate::export::ExportError::Busy(_) => {
                return Some("one export at a time per output; the lock is released when the other run ends")
            }
            _ => {}
        }
    }
    if let Some(e) = err.downcast_ref::<crate::sign::Error>() {
        return sign_hint(e);
    }
    if let Some(e) = err.downcast_ref::<crate::notary::sign::SignError>() {
        return notary_sign_hint(e);
    }
    match err.downcast_ref::<crate::archive::OpenError>() {
        Some(crate::archive::OpenError::PartsManifest { .. }) => {
            return Some("a parts set is read through its NAME.parts.json, as `airlock split` wrote it; name the manifest, a part NAME.NNN beside it, or a folder holding one manifest");
        }
        Some(_) => {
            return Some("BUNDLE must be an OCI layout directory, a .tar, .tar.gz or .tar.zst file, a parts set (NAME.parts.json, NAME.001 or their folder), or - for stdin");
        }
        None => {}
    }
    None
}

fn sign_hint(e: &crate::sign::Error) -> Option<&'static str> {
    match e {
        crate::sign::Error::NoDefault(_) | crate::sign::Error::NotFound(_) => {
            Some("name the image as LAYOUT:TAG (its org.opencontainers.image.ref.name) or LAYOUT@DIGEST; `airlock inspect LAYOUT` lists them")
        }
        crate::sign::Error::Sign(s) => notary_sign_hint(s),
        _ => None,
    }
}

fn notary_sign_hint(e: &crate::notary::sign::SignError) -> Option<&'static str> {
    use crate::notary::sign::SignError;
    match e {
        SignError::KeyFormat(_) => Some(
            "convert the key to unencrypted PKCS#8: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8.pem",
        ),
        SignError::Key(_) => Some(
            "Notary signing keys are RSA 2048, 3072 or 4096 bits, or EC P-256, P-384 or P-521",
        ),
        SignError::Verification(_) | SignError::Chain(_) | SignError::ChainFormat(_) => Some(
            "--cert must hold the whole chain, leaf first, ending with the self-signed root; the leaf needs \
keyUsage digitalSignature (critical) and no serverAuth/clientAuth/timeStamping EKU, each CA basicConstraints \
cA=true (critical) and keyUsage keyCertSign",
        ),
        SignError::KeyCertificateMismatch => {
            Some("--key must be the private key of the first certificate in --cert")
        }
        _ => None,
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let printer = Printer::new(cli.quiet, cli.verbose, cli.no_progress);
    match cli.command {
        Command::Verify(a) => verify::run(&a, &printer),
        Command::Inspect(a) => inspect::run(&a, &printer),
        Command::Export(a) => export::run(&a, &printer),
        #[cfg(feature = "pull")]
        Command::Import(a) => import::run(&a, &printer),
        Command::Sign(a) => sign::run(&a, &printer),
        Command::Inventory(a) => inventory::run(&a, &printer),
        Command::Split(a) => split::run(&a, &printer),
        Command::Receipt(a) => receipt::run(&a, &printer),
        Command::Fixture(a) => fixture::run(&a, &printer),
        Command::Pack(a) => fixture::pack(&a, &printer),
        Command::Completions(a) => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(&completion_script(a.shell))?;
            out.flush()?;
            Ok(ExitCode::from(EXIT_OK))
        }
    }
}

#[cfg(test)]
mod tests {
    /// The registry's deadline defaults (pinned in `registry`'s tests) are what `--help` says.
    #[cfg(feature = "pull")]
    #[test]
    fn the_network_defaults_are_in_the_help() {
        use clap::CommandFactory;
        let cli = super::Cli::command();
        for cmd in ["export", "import"] {
            let sub = cli.find_subcommand(cmd).unwrap();
            for (arg, words) in [
                ("min_rate", "Default 256K"),
                ("network_timeout", "Default 60"),
            ] {
                let a = sub.get_arguments().find(|a| a.get_id() == arg).unwrap();
                let help = a.get_help().unwrap().to_string();
                assert!(help.contains(words), "{cmd} --{arg}: {help}");
            }
        }
    }
}
