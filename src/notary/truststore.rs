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

use crate::fsutil::same_file;

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

crate::notary::reason::reasons! {
    /// Why a trust store could not be used.
    pub enum TrustStoreReason {
        /// `truststore_missing`.
        TruststoreMissing => "truststore_missing",
        /// `truststore_io`.
        TruststoreIo => "truststore_io",
        /// `truststore_invalid`.
        TruststoreInvalid => "truststore_invalid",
    }
}

impl TrustStoreError {
    /// Stable reason code: `truststore_missing`, `truststore_io`, or `truststore_invalid` for
    /// everything else.
    pub fn reason(&self) -> TrustStoreReason {
        match self {
            TrustStoreError::Missing { .. } => TrustStoreReason::TruststoreMissing,
            TrustStoreError::Io { .. } => TrustStoreReason::TruststoreIo,
            _ => TrustStoreReason::TruststoreInvalid,
        }
    }

    /// The stable string of [`Self::reason`] (reports, usage errors, the corpus tests).
    pub fn code(&self) -> &'static str {
        self.reason().as_str()
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
mod tests;
