//! notation's on-disk X.509 trust store: `<root>/x509/{ca,signingAuthority,tsa}/<name>/<files>`.
//!
//! [`load`] reads one named store with the rules of notation-go
//! `verifier/truststore/truststore.go` (`GetCertificates`, `ValidateCertificates`):
//!
//! - the store name must match `^[a-zA-Z0-9_.-]+$` (and, beyond notation, must not be `.` or
//!   `..`), so a name is never a path traversal;
//! - a missing store is [`TrustStoreError::Missing`] (`truststore_missing`);
//! - the store must be a real directory, not a symlink; every entry in it must be a regular file
//!   (a sub-directory or a symlink is an error, as in notation; the specification would ignore
//!   sub-directories);
//! - every file is read whatever its extension, as PEM (all blocks must be `CERTIFICATE`) or,
//!   when it holds no PEM block, as one or more concatenated DER certificates; a file with no
//!   certificate, a store with no certificate, and a non-CA certificate that is not self-signed
//!   are all `truststore_invalid`;
//! - a `tsa` store holds root CA certificates only (notation's `isRootCACertificate`).
//!
//! Authenticity is byte equality with a chain certificate, so [`TrustedCert::der`] keeps each
//! certificate's exact DER.
//!
//! # Certificates
//!
//! Every certificate is parsed once into the X.509 core's view ([`super::x509::Certificate`]) and
//! judged by [`super::x509::rules::check_trust_store_entry`] (role
//! [`super::x509::Role::TrustStoreEntry`]). "Self-signed" is notation's test: the signature
//! verifies under the certificate's own key ([`load`]); [`load_with`] lets a caller supply that
//! check.
//!
//! # Limits
//!
//! [`MAX_FILE_BYTES`] per file, [`MAX_ENTRIES`] directory entries per store and [`MAX_CERTS`]
//! certificates per store. notation has none; they bound memory and time on hostile input and sit
//! far above real stores (the whole Mozilla root program is about 150 certificates, 220 KB).

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rustls_pki_types::pem::{PemObject, SectionKind};
use x509_cert::Certificate;

use super::x509::rules::{self, Anchor};
use super::x509::{cert, Rule};

/// Largest certificate file read, in bytes (1 MiB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Most directory entries in one named store.
pub const MAX_ENTRIES: usize = 1024;
/// Most certificates in one named store (all files together).
pub const MAX_CERTS: usize = 1024;

/// The three trust store types of the Notary Project specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreType {
    /// `ca`: roots for the `notary.x509` signing scheme.
    Ca,
    /// `signingAuthority`: roots for the `notary.x509.signingAuthority` signing scheme.
    SigningAuthority,
    /// `tsa`: roots of RFC 3161 timestamping authorities.
    Tsa,
}

impl StoreType {
    /// All types, in the order notation lists them.
    pub const ALL: [StoreType; 3] = [StoreType::Ca, StoreType::SigningAuthority, StoreType::Tsa];

    /// The name used in trust policies and as the directory under `x509/`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreType::Ca => "ca",
            StoreType::SigningAuthority => "signingAuthority",
            StoreType::Tsa => "tsa",
        }
    }
}

impl fmt::Display for StoreType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StoreType {
    type Err = TrustStoreError;

    /// Parses `ca`, `signingAuthority` or `tsa` (case-sensitive, as notation).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StoreType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| TrustStoreError::UnknownType {
                value: s.to_owned(),
            })
    }
}

/// One certificate loaded from a trust store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedCert {
    /// The exact DER bytes, as stored (authenticity is DER equality).
    pub der: Vec<u8>,
    /// The file it came from.
    pub file: PathBuf,
}

impl TrustedCert {
    /// Decodes the certificate through the X.509 core's view (it decoded when loaded, so this
    /// does not fail in practice).
    pub fn certificate(&self) -> Result<Certificate, super::x509::cert::ParseError> {
        super::x509::Certificate::from_der(&self.der).map(|c| c.decoded().clone())
    }
}

/// Why a named trust store could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustStoreError {
    /// A trust store type other than `ca`, `signingAuthority`, `tsa`.
    #[error("unsupported trust store type {value:?} (expected ca, signingAuthority or tsa)")]
    UnknownType {
        /// The value given.
        value: String,
    },
    /// The store name does not match `^[a-zA-Z0-9_.-]+$`, or is `.` or `..`.
    #[error("trust store name {name:?} is invalid: it must match [a-zA-Z0-9_.-]+ and not be \".\" or \"..\"")]
    InvalidName {
        /// The name given.
        name: String,
    },
    /// The named store does not exist.
    #[error("the trust store {name:?} of type {kind} does not exist ({path})", path = .path.display())]
    Missing {
        /// The store type.
        kind: StoreType,
        /// The store name.
        name: String,
        /// The directory looked for.
        path: PathBuf,
    },
    /// The named store is a symlink or not a directory.
    #[error("the trust store {name:?} of type {kind} at {path} is not a regular directory (symlinks are not supported)", path = .path.display())]
    NotADirectory {
        /// The store type.
        kind: StoreType,
        /// The store name.
        name: String,
        /// The path.
        path: PathBuf,
    },
    /// An entry of the store is a directory, a symlink or another non-regular file.
    #[error("trusted certificate {path} is not a regular file (directories and symlinks are not supported)", path = .path.display())]
    NotRegularFile {
        /// The entry.
        path: PathBuf,
    },
    /// The store has more than [`MAX_ENTRIES`] entries.
    #[error("trust store {path} has more than {limit} entries", path = .path.display())]
    TooManyEntries {
        /// The store directory.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// The store (or one file of it) holds more than [`MAX_CERTS`] certificates.
    #[error("trust store path {path} holds more than {limit} certificates", path = .path.display())]
    TooManyCerts {
        /// The store directory, or the file.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// A file is larger than [`MAX_FILE_BYTES`].
    #[error("trusted certificate file {path} is larger than {limit} bytes", path = .path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// A file is not PEM or DER certificates (bad PEM, a non-certificate PEM block, bad DER).
    #[error("failed to read the trusted certificate {path}: {reason}", path = .path.display())]
    NotCertificate {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file holds no certificate.
    #[error("trusted certificate file {path} contains no certificate", path = .path.display())]
    NoCertificateInFile {
        /// The file.
        path: PathBuf,
    },
    /// The store holds no certificate at all.
    #[error("no x509 certificates were found in trust store {name:?} of type {kind}")]
    Empty {
        /// The store type.
        kind: StoreType,
        /// The store name.
        name: String,
    },
    /// A certificate is neither a CA nor self-signed (a leaf issued by someone else).
    #[error("failed to validate the trusted certificate {path}: certificate with subject {subject:?} is not a CA certificate or self-signed signing certificate", path = .path.display())]
    NotCaOrSelfSigned {
        /// The file.
        path: PathBuf,
        /// The certificate's subject (RFC 4514).
        subject: String,
    },
    /// A certificate in a `tsa` store is not a self-signed root CA.
    #[error("trusted certificate {path} in a tsa trust store is invalid: certificate with subject {subject:?} is not a root CA certificate: {reason}", path = .path.display())]
    NotRootCa {
        /// The file.
        path: PathBuf,
        /// The certificate's subject (RFC 4514).
        subject: String,
        /// Which requirement fails.
        reason: &'static str,
    },
    /// Reading the store failed (permissions, I/O).
    #[error("failed to read trust store path {path}: {source}", path = .path.display())]
    Io {
        /// The path being read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl TrustStoreError {
    /// Stable reason code: `truststore_missing`, `truststore_io`, or `truststore_invalid` for
    /// everything else.
    pub fn code(&self) -> &'static str {
        match self {
            TrustStoreError::Missing { .. } => "truststore_missing",
            TrustStoreError::Io { .. } => "truststore_io",
            _ => "truststore_invalid",
        }
    }
}

/// Whether `name` is a valid named-store name: notation's `^[a-zA-Z0-9_.-]+$`, minus `.` and
/// `..` (which the pattern allows but which would name a parent directory).
pub fn is_valid_store_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Loads the named store `root/x509/<kind>/<name>`, deciding "self-signed" with the X.509 core
/// ([`super::x509::Certificate::is_self_signed`]). See the module documentation for the rules.
pub fn load(root: &Path, kind: StoreType, name: &str) -> Result<Vec<TrustedCert>, TrustStoreError> {
    load_checked(root, kind, name, &super::x509::Certificate::is_self_signed)
}

/// Loads the named store `root/x509/<kind>/<name>`; `self_signed` must return whether a
/// certificate's signature verifies under its own public key (notation's `CheckSignature`).
///
/// It decides whether a non-CA certificate is acceptable, and is required (with the CA
/// constraints and subject == issuer) of every certificate in a `tsa` store.
pub fn load_with(
    root: &Path,
    kind: StoreType,
    name: &str,
    self_signed: &dyn Fn(&Certificate) -> bool,
) -> Result<Vec<TrustedCert>, TrustStoreError> {
    load_checked(root, kind, name, &|c: &super::x509::Certificate| {
        self_signed(c.decoded())
    })
}

fn load_checked(
    root: &Path,
    kind: StoreType,
    name: &str,
    self_signed: &dyn Fn(&super::x509::Certificate) -> bool,
) -> Result<Vec<TrustedCert>, TrustStoreError> {
    if !is_valid_store_name(name) {
        return Err(TrustStoreError::InvalidName {
            name: name.to_owned(),
        });
    }
    let dir = root.join("x509").join(kind.as_str()).join(name);
    let meta = match fs::symlink_metadata(&dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(TrustStoreError::Missing {
                kind,
                name: name.to_owned(),
                path: dir,
            })
        }
        Err(source) => return Err(TrustStoreError::Io { path: dir, source }),
    };
    if !meta.is_dir() {
        return Err(TrustStoreError::NotADirectory {
            kind,
            name: name.to_owned(),
            path: dir,
        });
    }

    let files = list(&dir)?;
    let mut certs = Vec::new();
    for file in files {
        let entry_meta = fs::symlink_metadata(&file).map_err(|source| TrustStoreError::Io {
            path: file.clone(),
            source,
        })?;
        if !entry_meta.file_type().is_file() {
            return Err(TrustStoreError::NotRegularFile { path: file });
        }
        let data = read_capped(&file, &entry_meta)?;
        let ders = parse_file(&file, &data)?;
        for der in ders {
            if certs.len() >= MAX_CERTS {
                return Err(TrustStoreError::TooManyCerts {
                    path: dir,
                    limit: MAX_CERTS,
                });
            }
            validate(&file, &der, kind, self_signed)?;
            certs.push(TrustedCert {
                der,
                file: file.clone(),
            });
        }
    }
    if certs.is_empty() {
        return Err(TrustStoreError::Empty {
            kind,
            name: name.to_owned(),
        });
    }
    Ok(certs)
}

/// Validates certificates that arrived some other way than a directory (the trust artifact a
/// bundle carries), with the same rules as [`load_with`]. `label` names their origin in errors.
pub fn from_ders(
    label: &Path,
    kind: StoreType,
    name: &str,
    ders: Vec<Vec<u8>>,
    self_signed: &dyn Fn(&Certificate) -> bool,
) -> Result<Vec<TrustedCert>, TrustStoreError> {
    if !is_valid_store_name(name) {
        return Err(TrustStoreError::InvalidName {
            name: name.to_owned(),
        });
    }
    if ders.len() > MAX_CERTS {
        return Err(TrustStoreError::TooManyCerts {
            path: label.to_path_buf(),
            limit: MAX_CERTS,
        });
    }
    let mut certs = Vec::new();
    let self_signed = |c: &super::x509::Certificate| self_signed(c.decoded());
    for der in ders {
        validate(label, &der, kind, &self_signed)?;
        certs.push(TrustedCert {
            der,
            file: label.to_path_buf(),
        });
    }
    if certs.is_empty() {
        return Err(TrustStoreError::Empty {
            kind,
            name: name.to_owned(),
        });
    }
    Ok(certs)
}

/// The store's entries, sorted by file name as Go's `os.ReadDir` returns them.
fn list(dir: &Path) -> Result<Vec<PathBuf>, TrustStoreError> {
    let io_err = |source| TrustStoreError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        if entries.len() >= MAX_ENTRIES {
            return Err(TrustStoreError::TooManyEntries {
                path: dir.to_path_buf(),
                limit: MAX_ENTRIES,
            });
        }
        entries.push(entry.file_name());
    }
    entries.sort();
    Ok(entries.into_iter().map(|name| dir.join(name)).collect())
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`], checking that the file opened is the
/// one whose metadata was checked (no symlink swapped in between).
fn read_capped(path: &Path, checked: &fs::Metadata) -> Result<Vec<u8>, TrustStoreError> {
    let io_err = |source| TrustStoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() || !same_file(checked, &meta) {
        return Err(TrustStoreError::NotRegularFile {
            path: path.to_path_buf(),
        });
    }
    let too_large = || TrustStoreError::FileTooLarge {
        path: path.to_path_buf(),
        limit: MAX_FILE_BYTES,
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut data = Vec::new();
    file.take(MAX_FILE_BYTES.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(io_err)?;
    if u64::try_from(data.len()).map_or(true, |n| n > MAX_FILE_BYTES) {
        return Err(too_large());
    }
    Ok(data)
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &fs::Metadata, _: &fs::Metadata) -> bool {
    true
}

/// Splits a file into certificate DER blobs: every PEM block if there is one (each must be a
/// `CERTIFICATE`), otherwise concatenated DER (notation-core-go `parseCertificates`).
fn parse_file(path: &Path, data: &[u8]) -> Result<Vec<Vec<u8>>, TrustStoreError> {
    let not_cert = |reason: String| TrustStoreError::NotCertificate {
        path: path.to_path_buf(),
        reason,
    };
    let too_many = || TrustStoreError::TooManyCerts {
        path: path.to_path_buf(),
        limit: MAX_CERTS,
    };
    // rustls-pki-types reads PEM line by line, splitting at CR or LF; count the BEGIN lines the
    // same way so that a block with a label it skips silently is noticed.
    let begin_lines = data
        .split(|b| *b == b'\n' || *b == b'\r')
        .filter(|line| line.starts_with(b"-----BEGIN "))
        .count();
    let mut ders = Vec::new();
    if begin_lines > 0 {
        let mut sections = 0usize;
        for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(data) {
            let (kind, der) = section.map_err(|e| not_cert(format!("malformed PEM: {e}")))?;
            sections = sections.saturating_add(1);
            if kind != SectionKind::Certificate {
                return Err(not_cert(format!("PEM block {kind:?} is not a CERTIFICATE")));
            }
            if ders.len() >= MAX_CERTS {
                return Err(too_many());
            }
            ders.push(der);
        }
        if sections != begin_lines {
            return Err(not_cert(
                "a PEM block has a label other than CERTIFICATE".to_owned(),
            ));
        }
    } else {
        let mut rest = data;
        while !rest.is_empty() {
            if ders.len() >= MAX_CERTS {
                return Err(too_many());
            }
            let (one, tail) = cert::split_first_der(rest).map_err(|e| not_cert(e.to_string()))?;
            ders.push(one.to_vec());
            rest = tail;
        }
    }
    if ders.is_empty() {
        return Err(TrustStoreError::NoCertificateInFile {
            path: path.to_path_buf(),
        });
    }
    Ok(ders)
}

/// notation's `ValidateCertificates`, plus `isRootCACertificate` for `tsa` stores: the X.509
/// core's [`super::x509::Role::TrustStoreEntry`] rules.
fn validate(
    path: &Path,
    der: &[u8],
    kind: StoreType,
    self_signed: &dyn Fn(&super::x509::Certificate) -> bool,
) -> Result<(), TrustStoreError> {
    let not_cert = |reason: String| TrustStoreError::NotCertificate {
        path: path.to_path_buf(),
        reason,
    };
    let cert = super::x509::Certificate::from_der(der).map_err(|e| not_cert(e.to_string()))?;
    let anchor = match kind {
        StoreType::Tsa => Anchor::RootCa,
        StoreType::Ca | StoreType::SigningAuthority => Anchor::CaOrSelfSigned,
    };
    rules::check_trust_store_entry(&cert, anchor, self_signed).map_err(|v| match v.rule {
        Rule::NotCaOrSelfSigned => TrustStoreError::NotCaOrSelfSigned {
            path: path.to_path_buf(),
            subject: cert.subject_string(),
        },
        Rule::CaBasicConstraintsMissing
        | Rule::CaBasicConstraints
        | Rule::CaKeyCertSignMissing
        | Rule::NotSelfIssued
        | Rule::NotSelfSigned => TrustStoreError::NotRootCa {
            path: path.to_path_buf(),
            subject: cert.subject_string(),
            reason: root_ca_reason(v.rule),
        },
        _ => not_cert(v.detail),
    })
}

/// Why a `tsa` store certificate is not a root CA, as [`TrustStoreError::NotRootCa`] words it.
fn root_ca_reason(rule: Rule) -> &'static str {
    match rule {
        Rule::CaBasicConstraintsMissing => "it has no basicConstraints extension",
        Rule::CaBasicConstraints => "basicConstraints does not assert cA",
        Rule::CaKeyCertSignMissing => "keyUsage lacks keyCertSign",
        Rule::NotSelfIssued => "issuer and subject are not the same",
        _ => "it is not self-signed",
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use der::{Decode, Encode};
    use tempfile::TempDir;

    use super::*;

    const ROOT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIB0TCCAXagAwIBAgIUXzfCjqohTb1N7nV50EuLefG33AEwCgYIKoZIzj0EAwIw\n\
RTELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJsb2NrIFRl\n\
c3QxEjAQBgNVBAMMCVRlc3QgUm9vdDAgFw0yNjExMjQyMDAzMTVaGA8yMTI2MTAz\n\
MTIwMDMxNVowRTELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxB\n\
aXJsb2NrIFRlc3QxEjAQBgNVBAMMCVRlc3QgUm9vdDBZMBMGByqGSM49AgEGCCqG\n\
SM49AwEHA0IABKl8eXYf8FpkMDe7asXqvr7PNQlESJc0e84dFqpNUbUZ74yudN58\n\
G6ApDNNKcwgswG35itqIJmqUTb/CP02XDi6jQjBAMA8GA1UdEwEB/wQFMAMBAf8w\n\
DgYDVR0PAQH/BAQDAgIEMB0GA1UdDgQWBBSCxQzNg+HJntLyzliNXBMePIZ8WjAK\n\
BggqhkjOPQQDAgNJADBGAiEA0CF2G8Zat3u2dKzCviLskCYa0MUIHt6zNcqFuiQb\n\
Tk8CIQCTuY7lGvLsLTI1AKhsr2GjjUS78UzJoztUB68G3eUkDg==\n\
-----END CERTIFICATE-----\n\
";
    const LEAF: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBtzCCAV2gAwIBAgIBAjAKBggqhkjOPQQDAjBFMQswCQYDVQQGEwJVUzELMAkG\n\
A1UECAwCV0ExFTATBgNVBAoMDEFpcmxvY2sgVGVzdDESMBAGA1UEAwwJVGVzdCBS\n\
b290MCAXDTI2MTEyNDIwMDMxNVoYDzIxMjYxMDMxMjAwMzE1WjBFMQswCQYDVQQG\n\
EwJVUzELMAkGA1UECAwCV0ExFTATBgNVBAoMDEFpcmxvY2sgVGVzdDESMBAGA1UE\n\
AwwJVGVzdCBMZWFmMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqXx5dh/wWmQw\n\
N7tqxeq+vs81CURIlzR7zh0Wqk1RtRnvjK503nwboCkM00pzCCzAbfmK2ogmapRN\n\
v8I/TZcOLqM8MDowCQYDVR0TBAIwADAOBgNVHQ8BAf8EBAMCB4AwHQYDVR0OBBYE\n\
FILFDM2D4cme0vLOWI1cEx48hnxaMAoGCCqGSM49BAMCA0gAMEUCICdSmGcfIneq\n\
iK1nJwEjxKT5JD+nRKuv77l9C/mVT8WAAiEA/Y+s/owbstV54g4Yy3xflSPsY3G3\n\
hbja9JXAnQh362Q=\n\
-----END CERTIFICATE-----\n\
";
    const SELFLEAF: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBwDCCAWWgAwIBAgIUD24TwxS28iYKjm7nWdZq2sjwguQwCgYIKoZIzj0EAwIw\n\
RTELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJsb2NrIFRl\n\
c3QxEjAQBgNVBAMMCVNlbGYgTGVhZjAgFw0yNjExMjQyMDAzMTVaGA8yMTI2MTAz\n\
MTIwMDMxNVowRTELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxB\n\
aXJsb2NrIFRlc3QxEjAQBgNVBAMMCVNlbGYgTGVhZjBZMBMGByqGSM49AgEGCCqG\n\
SM49AwEHA0IABKl8eXYf8FpkMDe7asXqvr7PNQlESJc0e84dFqpNUbUZ74yudN58\n\
G6ApDNNKcwgswG35itqIJmqUTb/CP02XDi6jMTAvMA4GA1UdDwEB/wQEAwIHgDAd\n\
BgNVHQ4EFgQUgsUMzYPhyZ7S8s5YjVwTHjyGfFowCgYIKoZIzj0EAwIDSQAwRgIh\n\
ANpXt8ggo/J2suYlEDEhi8LV/Ijeiu6+jwBnj9G7jxL4AiEA+KmQBJ6vIvr2DkbG\n\
IgYiCwW6+qYo8L8JlJzW+hNA13I=\n\
-----END CERTIFICATE-----\n\
";
    const CANO_KU: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBzzCCAXSgAwIBAgIUYc4E1k59h1r8+hgII6exK4CgzF4wCgYIKoZIzj0EAwIw\n\
RDELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJsb2NrIFRl\n\
c3QxETAPBgNVBAMMCENBIE5vIEtVMCAXDTI2MTEyNDIwMDMxNVoYDzIxMjYxMDMx\n\
MjAwMzE1WjBEMQswCQYDVQQGEwJVUzELMAkGA1UECAwCV0ExFTATBgNVBAoMDEFp\n\
cmxvY2sgVGVzdDERMA8GA1UEAwwIQ0EgTm8gS1UwWTATBgcqhkjOPQIBBggqhkjO\n\
PQMBBwNCAASpfHl2H/BaZDA3u2rF6r6+zzUJREiXNHvOHRaqTVG1Ge+MrnTefBug\n\
KQzTSnMILMBt+YraiCZqlE2/wj9Nlw4uo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4G\n\
A1UdDwEB/wQEAwIHgDAdBgNVHQ4EFgQUgsUMzYPhyZ7S8s5YjVwTHjyGfFowCgYI\n\
KoZIzj0EAwIDSQAwRgIhAN4l1c/w0rsLdHnLfuRy+h9JS9av17XPDsa/Brbl1jqK\n\
AiEA/FO3UxBU1tRNQZL10BYcwE3WavjOpNHIohARfkdcIXA=\n\
-----END CERTIFICATE-----\n\
";
    const NOTCA: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBxzCCAW2gAwIBAgIUeawIbyVBpJfh3hVZNcA1ZwAcEhYwCgYIKoZIzj0EAwIw\n\
QjELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJsb2NrIFRl\n\
c3QxDzANBgNVBAMMBk5vdCBDQTAgFw0yNjExMjQyMDAzMTVaGA8yMTI2MTAzMTIw\n\
MDMxNVowQjELMAkGA1UEBhMCVVMxCzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJs\n\
b2NrIFRlc3QxDzANBgNVBAMMBk5vdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n\
A0IABKl8eXYf8FpkMDe7asXqvr7PNQlESJc0e84dFqpNUbUZ74yudN58G6ApDNNK\n\
cwgswG35itqIJmqUTb/CP02XDi6jPzA9MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/\n\
BAQDAgIEMB0GA1UdDgQWBBSCxQzNg+HJntLyzliNXBMePIZ8WjAKBggqhkjOPQQD\n\
AgNIADBFAiEApTldTC04Dyjsuety6IqYNoPD9aBKBdKoj1V3AjpU/hsCIFVR1ETQ\n\
SKyqaonF2p+LMfiBkNuaXtmZjBLuFgSLHA5F\n\
-----END CERTIFICATE-----\n\
";
    const V1: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBdDCCARoCAQcwCgYIKoZIzj0EAwIwRTELMAkGA1UEBhMCVVMxCzAJBgNVBAgM\n\
AldBMRUwEwYDVQQKDAxBaXJsb2NrIFRlc3QxEjAQBgNVBAMMCVRlc3QgTGVhZjAg\n\
Fw0yNjExMjQyMDAzMTVaGA8yMTI2MTAzMTIwMDMxNVowRTELMAkGA1UEBhMCVVMx\n\
CzAJBgNVBAgMAldBMRUwEwYDVQQKDAxBaXJsb2NrIFRlc3QxEjAQBgNVBAMMCVRl\n\
c3QgTGVhZjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKl8eXYf8FpkMDe7asXq\n\
vr7PNQlESJc0e84dFqpNUbUZ74yudN58G6ApDNNKcwgswG35itqIJmqUTb/CP02X\n\
Di4wCgYIKoZIzj0EAwIDSAAwRQIgTB31Oyur3WV+G6Hlv4/eMr+zjr4B+GR03xVy\n\
D2x78aACIQCx6mMoPCHhdXhziLtkZ4PHvl3rtzbmCgWWyR7Mwm5xXQ==\n\
-----END CERTIFICATE-----\n\
";

    fn der_of(pem: &str) -> Vec<u8> {
        let mut it = <(SectionKind, Vec<u8>)>::pem_slice_iter(pem.as_bytes());
        it.next().unwrap().unwrap().1
    }

    /// A trust store root with `x509/<kind>/<name>/` created; returns (root, store dir).
    fn store(kind: StoreType, name: &str) -> (TempDir, PathBuf) {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("x509").join(kind.as_str()).join(name);
        fs::create_dir_all(&dir).unwrap();
        (root, dir)
    }

    fn write(dir: &Path, file: &str, data: impl AsRef<[u8]>) {
        fs::write(dir.join(file), data).unwrap();
    }

    fn load_err(root: &TempDir, kind: StoreType, name: &str) -> TrustStoreError {
        match load(root.path(), kind, name) {
            Ok(certs) => panic!("expected an error, loaded {} certificates", certs.len()),
            Err(e) => e,
        }
    }

    #[test]
    fn store_types() {
        for t in StoreType::ALL {
            assert_eq!(t.as_str().parse::<StoreType>().unwrap(), t);
            assert_eq!(t.to_string(), t.as_str());
        }
        for bad in ["CA", "signingauthority", "", "tsa ", "x509"] {
            let e = bad.parse::<StoreType>().unwrap_err();
            assert!(matches!(e, TrustStoreError::UnknownType { .. }), "{bad}");
            assert_eq!(e.code(), "truststore_invalid");
        }
    }

    #[test]
    fn store_names() {
        for ok in ["e2e", "valid-trust-store", "a.b_c-D9", "..a", "a.."] {
            assert!(is_valid_store_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "../x", "a b", "a:b", "ä", "a\\b"] {
            assert!(!is_valid_store_name(bad), "{bad}");
            let root = tempfile::tempdir().unwrap();
            assert!(matches!(
                load_err(&root, StoreType::Ca, bad),
                TrustStoreError::InvalidName { .. }
            ));
        }
    }

    #[test]
    fn loads_pem_der_and_multi_cert_files_in_name_order() {
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "b-root.pem", ROOT);
        write(&dir, "a-self.crt", SELFLEAF.replace('\n', "\r\n"));
        let mut two = der_of(V1);
        two.extend(der_of(ROOT));
        write(&dir, "c-two.cer", &two);
        write(
            &dir,
            "d-bundle",
            format!("junk before\n{NOTCA}between\n{CANO_KU}trailer"),
        );
        let certs = load(root.path(), StoreType::Ca, "s").unwrap();
        let got: Vec<(Vec<u8>, String)> = certs
            .iter()
            .map(|c| {
                (
                    c.der.clone(),
                    c.file.file_name().unwrap().to_string_lossy().into_owned(),
                )
            })
            .collect();
        let want = vec![
            (der_of(SELFLEAF), "a-self.crt".to_owned()),
            (der_of(ROOT), "b-root.pem".to_owned()),
            (der_of(V1), "c-two.cer".to_owned()),
            (der_of(ROOT), "c-two.cer".to_owned()),
            (der_of(NOTCA), "d-bundle".to_owned()),
            (der_of(CANO_KU), "d-bundle".to_owned()),
        ];
        assert_eq!(got, want);
        assert!(certs.iter().all(|c| c.certificate().is_ok()));
        assert_eq!(certs[1].file, dir.join("b-root.pem"));
    }

    #[test]
    fn missing_store() {
        let (root, _) = store(StoreType::Ca, "present");
        let e = load_err(&root, StoreType::Ca, "absent");
        assert!(matches!(
            e,
            TrustStoreError::Missing {
                kind: StoreType::Ca,
                ..
            }
        ));
        assert_eq!(e.code(), "truststore_missing");
        assert!(e.to_string().contains("\"absent\""));
        // A type directory that does not exist at all.
        let e = load_err(&root, StoreType::Tsa, "present");
        assert_eq!(e.code(), "truststore_missing");
    }

    #[test]
    fn store_must_be_a_real_directory() {
        let root = tempfile::tempdir().unwrap();
        let ca = root.path().join("x509").join("ca");
        fs::create_dir_all(&ca).unwrap();
        fs::write(ca.join("file"), ROOT).unwrap();
        let e = load_err(&root, StoreType::Ca, "file");
        assert!(matches!(e, TrustStoreError::NotADirectory { .. }));
        assert_eq!(e.code(), "truststore_invalid");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_rejected() {
        let (root, dir) = store(StoreType::Ca, "real");
        write(&dir, "root.pem", ROOT);
        std::os::unix::fs::symlink(&dir, dir.with_file_name("link")).unwrap();
        assert!(matches!(
            load_err(&root, StoreType::Ca, "link"),
            TrustStoreError::NotADirectory { .. }
        ));
        std::os::unix::fs::symlink(dir.join("root.pem"), dir.join("z-link.pem")).unwrap();
        assert!(matches!(
            load_err(&root, StoreType::Ca, "real"),
            TrustStoreError::NotRegularFile { path } if path.ends_with("z-link.pem")
        ));
    }

    #[test]
    fn sub_directories_rejected() {
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "root.pem", ROOT);
        fs::create_dir(dir.join("sub")).unwrap();
        write(&dir.join("sub"), "x.pem", ROOT);
        let e = load_err(&root, StoreType::Ca, "s");
        assert!(matches!(e, TrustStoreError::NotRegularFile { .. }));
        assert_eq!(e.code(), "truststore_invalid");
    }

    #[test]
    fn files_that_are_not_certificates() {
        let cases: [(&str, Vec<u8>); 9] = [
            ("text", b"invalid\n".to_vec()),
            (
                "key",
                format!("{ROOT}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                    .into_bytes(),
            ),
            (
                "unknown-label",
                format!("{ROOT}-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n").into_bytes(),
            ),
            (
                "no-end",
                ROOT.replace("-----END CERTIFICATE-----\n", "").into_bytes(),
            ),
            (
                "bad-base64",
                "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
                    .as_bytes()
                    .to_vec(),
            ),
            (
                "not-a-cert-inside",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
                    .as_bytes()
                    .to_vec(),
            ),
            ("der-trailing", [der_of(ROOT), vec![0x30]].concat()),
            ("der-garbage", vec![0x30, 0x03, 0x02, 0x01, 0x00]),
            ("truncated-der", der_of(ROOT)[..100].to_vec()),
        ];
        for (name, data) in cases {
            let (root, dir) = store(StoreType::Ca, "s");
            write(&dir, "a.pem", ROOT);
            write(&dir, name, data);
            let e = load_err(&root, StoreType::Ca, "s");
            assert!(
                matches!(e, TrustStoreError::NotCertificate { .. }),
                "{name}: {e:?}"
            );
            assert_eq!(e.code(), "truststore_invalid");
        }
    }

    #[test]
    fn empty_files_and_stores() {
        let (root, dir) = store(StoreType::Ca, "s");
        let e = load_err(&root, StoreType::Ca, "s");
        assert!(matches!(e, TrustStoreError::Empty { .. }), "{e:?}");
        assert_eq!(e.code(), "truststore_invalid");
        for data in ["", "  \n", "no pem here"] {
            write(&dir, "empty.pem", data);
            let e = load_err(&root, StoreType::Ca, "s");
            assert!(
                matches!(
                    e,
                    TrustStoreError::NoCertificateInFile { .. }
                        | TrustStoreError::NotCertificate { .. }
                ),
                "{data:?}: {e:?}"
            );
            assert_eq!(e.code(), "truststore_invalid");
        }
        write(&dir, "empty.pem", "");
        assert!(matches!(
            load_err(&root, StoreType::Ca, "s"),
            TrustStoreError::NoCertificateInFile { .. }
        ));
    }

    #[test]
    fn leaf_issued_by_another_is_rejected() {
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "root.pem", ROOT);
        write(&dir, "leaf.pem", LEAF);
        let e = load_err(&root, StoreType::Ca, "s");
        assert!(
            matches!(&e, TrustStoreError::NotCaOrSelfSigned { subject, .. } if subject.contains("Test Leaf")),
            "{e:?}"
        );
        assert_eq!(e.code(), "truststore_invalid");
        // notation's "root and leaf in one file" case.
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "chain.pem", format!("{ROOT}{LEAF}"));
        assert!(matches!(
            load_err(&root, StoreType::Ca, "s"),
            TrustStoreError::NotCaOrSelfSigned { .. }
        ));
    }

    #[test]
    fn ca_and_signing_authority_accept_cas_and_self_signed_leaves() {
        for kind in [StoreType::Ca, StoreType::SigningAuthority] {
            let (root, dir) = store(kind, "s");
            for (file, pem) in [
                ("1", ROOT),
                ("2", SELFLEAF),
                ("3", CANO_KU),
                ("4", NOTCA),
                ("5", V1),
            ] {
                write(&dir, file, pem);
            }
            assert_eq!(load(root.path(), kind, "s").unwrap().len(), 5);
        }
    }

    #[test]
    fn tsa_store_requires_root_cas() {
        let (root, dir) = store(StoreType::Tsa, "t");
        write(&dir, "root.pem", ROOT);
        write(&dir, "v1.pem", V1);
        assert_eq!(load(root.path(), StoreType::Tsa, "t").unwrap().len(), 2);
        for (pem, why) in [
            (SELFLEAF, "basicConstraints extension"),
            (NOTCA, "does not assert cA"),
            (CANO_KU, "keyCertSign"),
        ] {
            let (root, dir) = store(StoreType::Tsa, "t");
            write(&dir, "x.pem", pem);
            let e = load_err(&root, StoreType::Tsa, "t");
            assert!(
                matches!(&e, TrustStoreError::NotRootCa { reason, .. } if reason.contains(why)),
                "{why}: {e:?}"
            );
            assert_eq!(e.code(), "truststore_invalid");
        }
        let (root, dir) = store(StoreType::Tsa, "t");
        write(&dir, "leaf.pem", LEAF);
        assert!(matches!(
            load_err(&root, StoreType::Tsa, "t"),
            TrustStoreError::NotCaOrSelfSigned { .. }
        ));
    }

    #[test]
    fn self_signature_hook() {
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "root.pem", ROOT);
        let never = |_: &Certificate| false;
        // A CA needs no self-signature in a ca store ...
        assert_eq!(
            load_with(root.path(), StoreType::Ca, "s", &never)
                .unwrap()
                .len(),
            1
        );
        // ... but a non-CA does ...
        write(&dir, "self.pem", SELFLEAF);
        assert!(matches!(
            load_with(root.path(), StoreType::Ca, "s", &never),
            Err(TrustStoreError::NotCaOrSelfSigned { .. })
        ));
        let always = |_: &Certificate| true;
        assert_eq!(
            load_with(root.path(), StoreType::Ca, "s", &always)
                .unwrap()
                .len(),
            2
        );
        // ... and a tsa root always does.
        let (root, dir) = store(StoreType::Tsa, "t");
        write(&dir, "root.pem", ROOT);
        assert!(matches!(
            load_with(root.path(), StoreType::Tsa, "t", &never),
            Err(TrustStoreError::NotRootCa {
                reason: "it is not self-signed",
                ..
            })
        ));
        let seen = std::cell::Cell::new(0);
        let counting = |_: &Certificate| {
            seen.set(seen.get() + 1);
            true
        };
        load_with(root.path(), StoreType::Tsa, "t", &counting).unwrap();
        assert_eq!(seen.get(), 1);
    }

    /// `load` decided "self-signed" by subject == issuer while production loading verified the
    /// signature; SPEC-NOTES erratum 12 (notation `ValidateCertificates` -> `CheckSignature`)
    /// decides: the signature.
    #[test]
    fn load_checks_self_signatures() {
        use crate::notary::envelope::test_support::{leaf_exts, mint, p256, p384, CertSpec, LEAF};
        // Subject == issuer, but signed by another key: not self-signed.
        let forged = mint(&CertSpec::new(LEAF, LEAF, p256(), p384(), leaf_exts()));
        let genuine = mint(&CertSpec::new(LEAF, LEAF, p256(), p256(), leaf_exts()));
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "forged.der", &forged);
        assert!(matches!(
            load_err(&root, StoreType::Ca, "s"),
            TrustStoreError::NotCaOrSelfSigned { .. }
        ));
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "genuine.der", &genuine);
        assert_eq!(load(root.path(), StoreType::Ca, "s").unwrap().len(), 1);
    }

    #[test]
    fn duplicate_extensions_rejected() {
        let mut cert = Certificate::from_der(&der_of(ROOT)).unwrap();
        let exts = cert.tbs_certificate.extensions.as_mut().unwrap();
        let first = exts[0].clone();
        exts.push(first);
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "dup.der", cert.to_der().unwrap());
        let e = load_err(&root, StoreType::Ca, "s");
        assert!(
            matches!(&e, TrustStoreError::NotCertificate { reason, .. } if reason.contains("duplicate extension")),
            "{e:?}"
        );
    }

    #[test]
    fn limits() {
        // A file over the size limit.
        let (root, dir) = store(StoreType::Ca, "s");
        let mut big = ROOT.as_bytes().to_vec();
        big.resize(usize::try_from(MAX_FILE_BYTES).unwrap() + 1, b'\n');
        write(&dir, "big.pem", &big);
        assert!(matches!(
            load_err(&root, StoreType::Ca, "s"),
            TrustStoreError::FileTooLarge { .. }
        ));

        // More certificates than the limit, across two files.
        let (root, dir) = store(StoreType::Ca, "s");
        let half = ROOT.repeat(MAX_CERTS / 2 + 1);
        write(&dir, "a.pem", &half);
        write(&dir, "b.pem", &half);
        assert!(matches!(
            load_err(&root, StoreType::Ca, "s"),
            TrustStoreError::TooManyCerts { .. }
        ));
        // ... and in one file.
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "a.pem", ROOT.repeat(MAX_CERTS + 1));
        assert!(matches!(
            load_err(&root, StoreType::Ca, "s"),
            TrustStoreError::TooManyCerts { .. }
        ));
        // Exactly the limit is fine.
        let (root, dir) = store(StoreType::Ca, "s");
        write(&dir, "a.pem", ROOT.repeat(MAX_CERTS));
        assert_eq!(
            load(root.path(), StoreType::Ca, "s").unwrap().len(),
            MAX_CERTS
        );

        // More directory entries than the limit.
        let (root, dir) = store(StoreType::Ca, "s");
        for i in 0..=MAX_ENTRIES {
            write(&dir, &format!("{i:05}.pem"), ROOT);
        }
        assert!(matches!(
            load_err(&root, StoreType::Ca, "s"),
            TrustStoreError::TooManyEntries { .. }
        ));
    }
}
