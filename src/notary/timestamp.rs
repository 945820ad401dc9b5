//! RFC 3161 timestamp-token verification for Notary Project countersignatures.
//!
//! A notation signature envelope may carry, in its unprotected header
//! `io.cncf.notary.timestampSignature`, an RFC 3161 `TimeStampToken`: a DER CMS `ContentInfo`
//! holding `SignedData` over a `TSTInfo` whose `messageImprint` is the hash of the envelope's
//! signature bytes. [`verify`] checks such a token offline, the way notation does
//! (tspclient-go `ParseSignedToken`, `TSTInfo.Validate`, `SignedToken.Verify`, and
//! notation-core-go `ValidateTimestampingCertChain`), with the specification's stricter rules
//! where SPEC-NOTES says they win:
//!
//! 1. parse `ContentInfo` -> `SignedData`; `eContentType` must be id-ct-TSTInfo; parse `TSTInfo`
//!    (`tst_parse`);
//! 2. `TSTInfo.version == 1`, `messageImprint` uses SHA-256/384/512 and equals the hash of the
//!    signed bytes (`tst_tstinfo`, `tst_message_imprint`);
//! 3. for each `SignerInfo` (tspclient-go accepts the first that verifies):
//!    * the ESS `SigningCertificateV2` signed attribute (RFC 5035) names the signer
//!      certificate in the token's certificate bag and its hash matches (`tst_signing_certificate`,
//!      `tst_signer_cert_missing`);
//!    * a full path validation of the TSA chain at `genTime` up to a certificate of the `tsa`
//!      trust store (SPEC-NOTES errata 1: no fail-open) (`tst_untrusted`, `tst_cert_invalid`);
//!    * the CMS signature over the *received* signed-attribute bytes, and the content-type,
//!      message-digest and signing-time attributes (`tst_signature`).
//!
//! The TSA chain is built and validated by the X.509 core ([`super::x509::path::build`] with
//! [`Purpose::Timestamping`]); this module parses no certificate rule itself.
//!
//! Nothing here reads the clock: every time check happens at the token's `genTime`. Checking
//! the *signing* certificate chain against `[lower, upper]`, and the revocation of the TSA chain
//! (SPEC-NOTES §6.3 j, errata 9), are [`super::verify_time`]'s job.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::as_conversions
    )
)]

use core::fmt;

use der::asn1::{AnyRef, IntRef, OctetStringRef};
use der::{
    Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Sequence,
    SliceReader, Tag, Tagged, Writer,
};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};

use super::crypto::cms::{self as tsa_crypto, CryptoError};
use super::time::{self, Instant};
use super::x509::path::{self, Budget, BuildError, VerifiedPath};
use super::x509::{Certificate, Purpose};

// --- Object identifiers ---------------------------------------------------------------------

/// id-ct-TSTInfo (RFC 3161 §2.4.2). const-oid 0.9 has no constant for it.
pub const ID_CT_TSTINFO: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_AA_SIGNING_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.12");
const ID_AA_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// RFC 3628 baseline time-stamp policy: an absent accuracy means 1 s (tspclient-go `Validate`).
const BASELINE_TSA_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.2023.1.1");

const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
/// Signed attributes per SignerInfo that are looked at; a token with more is refused.
const MAX_ATTRIBUTES: usize = 64;
/// Values per attribute that are looked at; an attribute with more is refused.
const MAX_ATTRIBUTE_VALUES: usize = 16;

// --- Limits ---------------------------------------------------------------------------------

/// Resource budgets for one token. Every length taken from the token is checked against these
/// before it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted token, in bytes. Default 1 MiB: real tokens are 2-10 KiB; notation's
    /// whole envelope limit is 32 MiB (notation-go `maxSignatureEnvelopeBytes`).
    pub max_token_bytes: usize,
    /// Most certificates accepted in the token's certificate bag. Default 32.
    pub max_certificates: usize,
    /// Most SignerInfos accepted. Default 4; RFC 3161 §2.4.1 allows only the TSA's signature,
    /// tspclient-go tries each one in turn.
    pub max_signer_infos: usize,
    /// Longest TSA chain, leaf and trust anchor included. Default 8: mozilla::pkix allows at
    /// most 6 sub-CAs (`MAX_SUBCA_COUNT`) between end entity and root, i.e. 8 certificates.
    pub max_chain_len: usize,
    /// Most signature verifications for one token (path building plus the CMS signature).
    /// Default 64: below Go crypto/x509's `maxChainSignatureChecks = 100` (the fix for
    /// CVE-2018-16875) and webpki's `Budget::signatures = 100`, because a token's bag is capped
    /// at 32 certificates.
    pub max_signature_checks: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_token_bytes: 1024 * 1024,
            max_certificates: 32,
            max_signer_infos: 4,
            max_chain_len: 8,
            max_signature_checks: 64,
        }
    }
}

// --- Errors ---------------------------------------------------------------------------------

/// Why a timestamp token was rejected. [`TimestampError::code`] gives the stable category.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The token is larger than [`Limits::max_token_bytes`]. (`tst_parse`)
    #[error("timestamp token is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Size of the token.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A DER structure of the token could not be decoded (BER is not accepted). (`tst_parse`)
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// Which structure.
        what: &'static str,
        /// Decoder message.
        detail: String,
    },
    /// The ContentInfo does not hold SignedData. (`tst_parse`)
    #[error("content type {content_type} is not id-signedData")]
    NotSignedData {
        /// The content type found.
        content_type: String,
    },
    /// `eContentType` is not id-ct-TSTInfo (tspclient-go `ParseSignedToken`). (`tst_parse`)
    #[error("unexpected content type: {content_type}. Expected to be id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)")]
    UnexpectedContentType {
        /// The content type found.
        content_type: String,
    },
    /// The SignedData has no encapsulated content. (`tst_parse`)
    #[error("timestamp token has no encapsulated TSTInfo")]
    MissingContent,
    /// The certificate bag holds more than [`Limits::max_certificates`]. (`tst_parse`)
    #[error("timestamp token carries more than {limit} certificates")]
    TooManyCertificates {
        /// The limit.
        limit: usize,
    },
    /// The certificate bag holds something other than an X.509 certificate. (`tst_parse`)
    #[error("timestamp token carries a non-X.509 certificate choice")]
    UnsupportedCertificateChoice,
    /// There is no SignerInfo. (`tst_parse`)
    #[error("signerInfo not found")]
    NoSignerInfo,
    /// More SignerInfos than [`Limits::max_signer_infos`]. (`tst_parse`)
    #[error("timestamp token carries more than {limit} signerInfos")]
    TooManySignerInfos {
        /// The limit.
        limit: usize,
    },
    /// `TSTInfo.version` is not 1 (RFC 3161 §2.4.2). (`tst_tstinfo`)
    #[error("invalid TSTInfo: timestamp token info version must be 1, but got {version}")]
    UnsupportedVersion {
        /// The version found.
        version: u64,
    },
    /// The messageImprint hash algorithm is not SHA-256/384/512. (`tst_tstinfo`)
    #[error("invalid TSTInfo: unsupported messageImprint hash algorithm {oid}: {reason}")]
    UnsupportedImprintAlgorithm {
        /// The algorithm OID.
        oid: String,
        /// Why it is refused.
        reason: CryptoError,
    },
    /// The accuracy is out of range (`millis`/`micros` outside 0..=999, or overflow).
    /// (`tst_tstinfo`)
    #[error("invalid TSTInfo: accuracy out of range")]
    InvalidAccuracy,
    /// messageImprint does not match the hash of the signed bytes. (`tst_message_imprint`)
    #[error("invalid TSTInfo: mismatched message")]
    MessageImprintMismatch,
    /// No certificate of the token matches the signer identifier (or the ESS issuerSerial).
    /// (`tst_signer_cert_missing`)
    #[error("signing certificate not found in the timestamp token")]
    SignerCertificateNotFound,
    /// No SigningCertificateV2 signed attribute (RFC 5035, required by tspclient-go); a
    /// SigningCertificate (v1, SHA-1) attribute does not count. (`tst_signing_certificate`)
    #[error("failed to get SigningCertificateV2 from signed attributes: attribute not found{}", if *v1_present { " (only the SHA-1 SigningCertificate v1 is present)" } else { "" })]
    SigningCertificateV2Missing {
        /// Whether a v1 SigningCertificate attribute was present.
        v1_present: bool,
    },
    /// The SigningCertificateV2 attribute does not decode or has several values.
    /// (`tst_signing_certificate`)
    #[error("failed to get SigningCertificateV2 from signed attributes: {detail}")]
    SigningCertificateMalformed {
        /// What is wrong.
        detail: String,
    },
    /// SigningCertificateV2 lists no ESSCertIDv2. (`tst_signing_certificate`)
    #[error("signingCertificateV2 does not contain any certificate")]
    SigningCertificateEmpty,
    /// The ESSCertIDv2 hash algorithm is not SHA-256/384/512. (`tst_signing_certificate`)
    #[error("unsupported certificate hash algorithm in SigningCertificateV2 attribute: {oid}")]
    SigningCertificateHashAlgorithm {
        /// The algorithm OID.
        oid: String,
    },
    /// The ESSCertIDv2 issuerSerial does not name its issuer as one directoryName.
    /// (`tst_signing_certificate`)
    #[error("issuer name is missing in IssuerSerial")]
    SigningCertificateIssuerMissing,
    /// The ESSCertIDv2 certHash is not the hash of the signer certificate.
    /// (`tst_signing_certificate`)
    #[error("signing certificate hash does not match CertHash in signed attribute")]
    SigningCertificateHashMismatch,
    /// The ESSCertIDv2 issuerSerial and the SignerInfo sid name different certificates.
    /// (`tst_signing_certificate`)
    #[error("SigningCertificateV2 issuerSerial and SignerInfo sid name different certificates")]
    SigningCertificateSidMismatch,
    /// The SignerInfo version does not fit its sid (RFC 5652 §5.3: 1 for
    /// issuerAndSerialNumber, 3 for subjectKeyIdentifier). (`tst_signature`)
    #[error("invalid signer info version {version} for its signer identifier")]
    SignerInfoVersion {
        /// The version found.
        version: u8,
    },
    /// The SignerInfo has no signed attributes (required for non-id-data content, RFC 5652
    /// §5.3). (`tst_signature`)
    #[error("missing signed attributes")]
    MissingSignedAttributes,
    /// The content-type signed attribute is missing, multi-valued or not id-ct-TSTInfo.
    /// (`tst_signature`)
    #[error("invalid content-type signed attribute: {detail}")]
    ContentTypeAttribute {
        /// What is wrong.
        detail: &'static str,
    },
    /// The message-digest signed attribute is missing, multi-valued or malformed.
    /// (`tst_signature`)
    #[error("invalid message-digest signed attribute: {detail}")]
    MessageDigestAttribute {
        /// What is wrong.
        detail: &'static str,
    },
    /// The message-digest attribute is not the hash of the encapsulated TSTInfo.
    /// (`tst_signature`)
    #[error("mismatch message digest")]
    MessageDigestMismatch,
    /// The SignerInfo digest or signature algorithm is not allowed. (`tst_signature`)
    #[error("unsupported signer algorithm: {0}")]
    UnsupportedSignerAlgorithm(CryptoError),
    /// The SignerInfo signature does not verify. (`tst_signature`)
    #[error("cms verification failure: {0}")]
    Signature(CryptoError),
    /// The signing-time signed attribute is malformed. (`tst_signature`)
    #[error("invalid signing-time signed attribute")]
    SigningTimeAttribute,
    /// The tsa trust store is empty (notation: "no trusted TSA certificate found in trust
    /// store"). (`tst_untrusted`)
    #[error("no trusted TSA certificate found in trust store")]
    NoTrustAnchors,
    /// A tsa trust-store certificate does not parse. (`tst_untrusted`)
    #[error("tsa trust store certificate #{index} is malformed")]
    InvalidTrustAnchor {
        /// Index in the `tsa_roots` slice.
        index: usize,
    },
    /// No chain from the signer certificate reaches a tsa trust-store certificate
    /// (Go: "x509: certificate signed by unknown authority"). (`tst_untrusted`)
    #[error("timestamp certificate chain does not lead to a trusted TSA root: {detail}")]
    Untrusted {
        /// What was found.
        detail: String,
    },
    /// Path building ran out of budget ([`Limits::max_signature_checks`]). Fatal: the search
    /// stops. (`tst_untrusted`)
    #[error("TSA chain building exceeded its budget of {limit} signature checks")]
    BudgetExceeded {
        /// The limit.
        limit: usize,
    },
    /// A certificate of the chain breaks a certificate requirement at `genTime` (validity,
    /// EKU, basic constraints, path length, key usage, key size, unknown critical extension,
    /// refused legacy signature algorithm, self-signed non-root, non-self-signed anchor).
    /// (`tst_cert_invalid`)
    #[error("timestamping certificate {subject:?} is invalid: {reason}")]
    CertificateInvalid {
        /// Subject of the offending certificate (RFC 4514).
        subject: String,
        /// What is wrong.
        reason: String,
    },
    /// The signing-time signed attribute lies outside the validity of a chain certificate.
    /// (`tst_cert_invalid`)
    #[error("signing time {signing_time} is outside certificate's validity period")]
    SigningTimeOutsideValidity {
        /// The signing time (RFC 3339).
        signing_time: String,
    },
}

impl TimestampError {
    /// Stable snake_case category, matching the corpus `failure_category` (with `-` as `_`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. }
            | Self::Malformed { .. }
            | Self::NotSignedData { .. }
            | Self::UnexpectedContentType { .. }
            | Self::MissingContent
            | Self::TooManyCertificates { .. }
            | Self::UnsupportedCertificateChoice
            | Self::NoSignerInfo
            | Self::TooManySignerInfos { .. } => "tst_parse",
            Self::UnsupportedVersion { .. }
            | Self::UnsupportedImprintAlgorithm { .. }
            | Self::InvalidAccuracy => "tst_tstinfo",
            Self::MessageImprintMismatch => "tst_message_imprint",
            Self::SignerCertificateNotFound => "tst_signer_cert_missing",
            Self::SigningCertificateV2Missing { .. }
            | Self::SigningCertificateMalformed { .. }
            | Self::SigningCertificateEmpty
            | Self::SigningCertificateHashAlgorithm { .. }
            | Self::SigningCertificateIssuerMissing
            | Self::SigningCertificateHashMismatch
            | Self::SigningCertificateSidMismatch => "tst_signing_certificate",
            Self::SignerInfoVersion { .. }
            | Self::MissingSignedAttributes
            | Self::ContentTypeAttribute { .. }
            | Self::MessageDigestAttribute { .. }
            | Self::MessageDigestMismatch
            | Self::UnsupportedSignerAlgorithm(_)
            | Self::Signature(_)
            | Self::SigningTimeAttribute => "tst_signature",
            Self::NoTrustAnchors
            | Self::InvalidTrustAnchor { .. }
            | Self::Untrusted { .. }
            | Self::BudgetExceeded { .. } => "tst_untrusted",
            Self::CertificateInvalid { .. } | Self::SigningTimeOutsideValidity { .. } => {
                "tst_cert_invalid"
            }
        }
    }
}

fn malformed(what: &'static str) -> impl Fn(der::Error) -> TimestampError {
    move |e| TimestampError::Malformed {
        what,
        detail: e.to_string(),
    }
}

// --- Verified result ------------------------------------------------------------------------

/// A timestamp token that verified: the TSA vouches that the signed bytes existed at
/// `gen_time` (± `accuracy_ms`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedTimestamp {
    /// `TSTInfo.genTime` in Unix seconds (fractional seconds truncated).
    pub gen_time: i64,
    /// Accuracy in milliseconds (microseconds rounded up). 1000 when the token has no accuracy
    /// and its policy is the RFC 3628 baseline policy, as tspclient-go does.
    pub accuracy_ms: u64,
    /// `gen_time - accuracy`, rounded down to a whole second.
    pub lower: i64,
    /// `gen_time + accuracy`, rounded up to a whole second.
    pub upper: i64,
    /// DER of the validated TSA chain, leaf first, trust anchor (a `tsa_roots` certificate)
    /// last. The caller checks its revocation status.
    pub tsa_chain: Vec<Vec<u8>>,
    /// Serial number of the TSA signing certificate, lowercase hex.
    pub signer_serial_hex: String,
    /// `TSTInfo.policy`, dotted.
    pub policy_oid: String,
    /// `TSTInfo.serialNumber`, lowercase hex.
    pub tst_serial_hex: String,
    /// The validated TSA path (the certificates of `tsa_chain`, parsed).
    path: VerifiedPath,
}

impl VerifiedTimestamp {
    /// The validated TSA path, leaf first: the X.509 core's proof that every certificate of
    /// [`VerifiedTimestamp::tsa_chain`] passed the timestamping rules at `genTime`.
    pub fn tsa_path(&self) -> &VerifiedPath {
        &self.path
    }
}

// --- Raw DER helpers ------------------------------------------------------------------------

macro_rules! raw_value {
    ($(#[$doc:meta])* $name:ident, $tag:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        struct $name<'a> {
            content: &'a [u8],
        }

        impl<'a> DecodeValue<'a> for $name<'a> {
            fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
                Ok(Self {
                    content: reader.read_slice(header.length)?,
                })
            }
        }

        impl EncodeValue for $name<'_> {
            fn value_len(&self) -> der::Result<Length> {
                Length::try_from(self.content.len())
            }

            fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
                writer.write(self.content)
            }
        }

        impl FixedTag for $name<'_> {
            const TAG: Tag = $tag;
        }
    };
}

raw_value!(
    /// The undecoded contents of a SET (or of an IMPLICIT-tagged SET).
    RawSet,
    Tag::Set
);
raw_value!(
    /// The undecoded contents of a SEQUENCE (or of an IMPLICIT-tagged SEQUENCE).
    RawSeq,
    Tag::Sequence
);
raw_value!(
    /// The undecoded contents of a GeneralizedTime, parsed by [`time::parse_rfc3161_gen_time`]
    /// because der 0.7's `GeneralizedTime` refuses the fractional seconds RFC 3161 allows.
    RawGeneralizedTime,
    Tag::GeneralizedTime
);

/// Splits the contents of a constructed value into its elements' raw TLVs, refusing more than
/// `max` elements.
fn split_tlvs(content: &[u8], max: usize) -> Result<Vec<&[u8]>, SplitError> {
    let mut reader = SliceReader::new(content).map_err(SplitError::Der)?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        if out.len() >= max {
            return Err(SplitError::TooMany);
        }
        out.push(reader.tlv_bytes().map_err(SplitError::Der)?);
    }
    Ok(out)
}

enum SplitError {
    Der(der::Error),
    TooMany,
}

fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Hex of a DER INTEGER's content without the sign-padding zero byte.
fn integer_hex(bytes: &[u8]) -> String {
    match bytes {
        [0, rest @ ..] if !rest.is_empty() => to_hex(rest),
        _ => to_hex(bytes),
    }
}

// --- CMS / TSP structures (borrowed, raw where the bytes matter) ----------------------------

#[derive(Sequence)]
struct ContentInfoRaw<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: AnyRef<'a>,
}

#[derive(Sequence)]
struct SignedDataRaw<'a> {
    version: u8,
    digest_algorithms: RawSet<'a>,
    encap_content_info: EncapContentInfoRaw<'a>,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    certificates: Option<RawSet<'a>>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    crls: Option<RawSet<'a>>,
    signer_infos: RawSet<'a>,
}

#[derive(Sequence)]
struct EncapContentInfoRaw<'a> {
    econtent_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    econtent: Option<OctetStringRef<'a>>,
}

#[derive(Sequence)]
struct SignerInfoRaw<'a> {
    version: u8,
    sid: AnyRef<'a>,
    digest_alg: AlgorithmIdentifierOwned,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    signed_attrs: Option<RawSet<'a>>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: OctetStringRef<'a>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    unsigned_attrs: Option<RawSet<'a>>,
}

#[derive(Sequence)]
struct IssuerAndSerialRaw<'a> {
    issuer: RawSeq<'a>,
    serial: IntRef<'a>,
}

#[derive(Sequence)]
struct AttributeRaw<'a> {
    oid: ObjectIdentifier,
    values: RawSet<'a>,
}

/// TSTInfo (RFC 3161 §2.4.2) with the version as a plain integer, so that version 2 is a
/// TSTInfo error rather than a parse error (as with tspclient-go), and genTime kept raw.
#[derive(Sequence)]
struct TstInfoRaw<'a> {
    version: u64,
    policy: ObjectIdentifier,
    message_imprint: x509_tsp::MessageImprint,
    serial_number: IntRef<'a>,
    gen_time: RawGeneralizedTime<'a>,
    #[asn1(optional = "true")]
    accuracy: Option<x509_tsp::Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<IntRef<'a>>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<AnyRef<'a>>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    extensions: Option<RawSeq<'a>>,
}

/// SigningCertificateV2 (RFC 5035 §3).
#[derive(Sequence)]
struct SigningCertificateV2Raw<'a> {
    certs: RawSeq<'a>,
    #[asn1(optional = "true")]
    policies: Option<RawSeq<'a>>,
}

/// ESSCertIDv2 (RFC 5035 §4); hashAlgorithm DEFAULT id-sha256.
#[derive(Sequence)]
struct EssCertIdV2Raw<'a> {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetStringRef<'a>,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerialRaw<'a>>,
}

/// IssuerSerial (RFC 5035 §4): issuer is GeneralNames.
#[derive(Sequence)]
struct IssuerSerialRaw<'a> {
    issuer: RawSeq<'a>,
    serial: IntRef<'a>,
}

// --- Parsed token ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum SignerId {
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    SubjectKeyId(Vec<u8>),
}

impl SignerId {
    fn matches(&self, cert: &Certificate) -> bool {
        match self {
            Self::IssuerSerial { issuer, serial } => {
                cert.issuer_der() == issuer.as_slice() && cert.serial() == serial.as_slice()
            }
            Self::SubjectKeyId(ski) => {
                cert.subject_key_identifier().ok().flatten() == Some(ski.as_slice())
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Attribute {
    oid: ObjectIdentifier,
    values: Vec<Vec<u8>>,
}

#[derive(Debug, Clone)]
struct SignerEntry {
    version: u8,
    sid: SignerId,
    digest_alg: AlgorithmIdentifierOwned,
    /// The signed attributes exactly as received, with the `[0] IMPLICIT` tag rewritten to
    /// SET (0x31): the bytes the signature covers (RFC 5652 §5.4).
    signed_attrs_der: Option<Vec<u8>>,
    signed_attrs: Vec<Attribute>,
    signature_alg: AlgorithmIdentifierOwned,
    signature: Vec<u8>,
}

/// What a single-valued attribute lookup found wrong.
enum AttrProblem {
    Multiple,
    ValueCount,
}

impl SignerEntry {
    /// The single value of the attribute `oid`, if present.
    fn single_value(&self, oid: &ObjectIdentifier) -> Result<Option<&[u8]>, AttrProblem> {
        let mut found = self.signed_attrs.iter().filter(|a| a.oid == *oid);
        let Some(attr) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(AttrProblem::Multiple);
        }
        match attr.values.as_slice() {
            [v] => Ok(Some(v.as_slice())),
            _ => Err(AttrProblem::ValueCount),
        }
    }
}

/// A timestamp token parsed without any trust decision. Obtained from [`parse`]; [`verify`]
/// is the only way to learn that it is authentic.
#[derive(Debug, Clone)]
pub struct ParsedToken {
    tst_info_der: Vec<u8>,
    version: u64,
    policy: ObjectIdentifier,
    imprint_alg: ObjectIdentifier,
    imprint: Vec<u8>,
    tst_serial: Vec<u8>,
    gen_time: Instant,
    accuracy: Option<x509_tsp::Accuracy>,
    certs: Vec<Certificate>,
    signers: Vec<SignerEntry>,
}

/// Parses a timestamp token for inspection, with [`Limits::default`]. No signature, chain or
/// trust check is made.
pub fn parse(token: &[u8]) -> Result<ParsedToken, TimestampError> {
    parse_with_limits(token, &Limits::default())
}

/// Parses a timestamp token for inspection with explicit limits. No signature, chain or trust
/// check is made.
pub fn parse_with_limits(token: &[u8], limits: &Limits) -> Result<ParsedToken, TimestampError> {
    if token.len() > limits.max_token_bytes {
        return Err(TimestampError::TooLarge {
            size: token.len(),
            limit: limits.max_token_bytes,
        });
    }
    let content_info = ContentInfoRaw::from_der(token).map_err(malformed("ContentInfo"))?;
    if content_info.content_type != ID_SIGNED_DATA {
        return Err(TimestampError::NotSignedData {
            content_type: content_info.content_type.to_string(),
        });
    }
    let signed_data: SignedDataRaw<'_> = content_info
        .content
        .decode_as()
        .map_err(malformed("SignedData"))?;
    let encap = &signed_data.encap_content_info;
    if encap.econtent_type != ID_CT_TSTINFO {
        return Err(TimestampError::UnexpectedContentType {
            content_type: encap.econtent_type.to_string(),
        });
    }
    let tst_info_der = encap
        .econtent
        .ok_or(TimestampError::MissingContent)?
        .as_bytes();
    let tst = TstInfoRaw::from_der(tst_info_der).map_err(malformed("TSTInfo"))?;
    let gen_time = time::parse_rfc3161_gen_time(tst.gen_time.content).ok_or_else(|| {
        TimestampError::Malformed {
            what: "TSTInfo",
            detail: "genTime is not a valid RFC 3161 GeneralizedTime".to_owned(),
        }
    })?;

    let cert_tlvs = match signed_data.certificates {
        None => Vec::new(),
        Some(set) => split_tlvs(set.content, limits.max_certificates).map_err(|e| match e {
            SplitError::Der(e) => malformed("certificates")(e),
            SplitError::TooMany => TimestampError::TooManyCertificates {
                limit: limits.max_certificates,
            },
        })?,
    };
    let mut certs = Vec::with_capacity(cert_tlvs.len());
    for tlv in cert_tlvs {
        if tlv.first() != Some(&0x30) {
            return Err(TimestampError::UnsupportedCertificateChoice);
        }
        certs.push(
            token_certificate(tlv).map_err(|detail| TimestampError::Malformed {
                what: "certificate",
                detail,
            })?,
        );
    }

    let signer_tlvs = split_tlvs(signed_data.signer_infos.content, limits.max_signer_infos)
        .map_err(|e| match e {
            SplitError::Der(e) => malformed("signerInfos")(e),
            SplitError::TooMany => TimestampError::TooManySignerInfos {
                limit: limits.max_signer_infos,
            },
        })?;
    if signer_tlvs.is_empty() {
        return Err(TimestampError::NoSignerInfo);
    }
    let signers = signer_tlvs
        .into_iter()
        .map(parse_signer_info)
        .collect::<Result<Vec<_>, _>>()?;

    Ok(ParsedToken {
        tst_info_der: tst_info_der.to_vec(),
        version: tst.version,
        policy: tst.policy,
        imprint_alg: tst.message_imprint.hash_algorithm.oid,
        imprint: tst.message_imprint.hashed_message.as_bytes().to_vec(),
        tst_serial: tst.serial_number.as_bytes().to_vec(),
        gen_time,
        accuracy: tst.accuracy,
        certs,
        signers,
    })
}

/// A certificate of the token's bag or of the `tsa` trust store: the X.509 core's view, whose
/// `tbsCertificate.signature` must equal `signatureAlgorithm` (RFC 5280 §4.1.1.2; Go refuses
/// other certificates when parsing them).
fn token_certificate(der: &[u8]) -> Result<Certificate, String> {
    let cert = Certificate::from_der(der).map_err(|e| e.to_string())?;
    if !cert.algorithm_identifiers_match() {
        return Err("inner and outer signature algorithm identifiers differ".to_owned());
    }
    Ok(cert)
}

fn parse_signer_info(tlv: &[u8]) -> Result<SignerEntry, TimestampError> {
    let raw = SignerInfoRaw::from_der(tlv).map_err(malformed("SignerInfo"))?;
    let sid = if raw.sid.tag() == Tag::Sequence {
        let ias: IssuerAndSerialRaw<'_> =
            raw.sid.decode_as().map_err(malformed("SignerInfo sid"))?;
        SignerId::IssuerSerial {
            issuer: ias.issuer.to_der().map_err(malformed("SignerInfo sid"))?,
            serial: ias.serial.as_bytes().to_vec(),
        }
    } else if raw.sid.tag()
        == (Tag::ContextSpecific {
            constructed: false,
            number: der::TagNumber::N0,
        })
    {
        SignerId::SubjectKeyId(raw.sid.value().to_vec())
    } else {
        return Err(TimestampError::Malformed {
            what: "SignerInfo sid",
            detail: format!("unexpected tag {}", raw.sid.tag()),
        });
    };
    let (signed_attrs_der, signed_attrs) = match raw.signed_attrs {
        None => (None, Vec::new()),
        Some(set) => {
            // `set` re-encodes with the universal SET tag: 0x31, the received length octets
            // (der only accepts minimal lengths, so they are the received ones) and the
            // received contents, unsorted. This is what the signature covers.
            let der = set.to_der().map_err(malformed("signed attributes"))?;
            (Some(der), parse_attributes(set.content)?)
        }
    };
    Ok(SignerEntry {
        version: raw.version,
        sid,
        digest_alg: raw.digest_alg,
        signed_attrs_der,
        signed_attrs,
        signature_alg: raw.signature_algorithm,
        signature: raw.signature.as_bytes().to_vec(),
    })
}

fn parse_attributes(content: &[u8]) -> Result<Vec<Attribute>, TimestampError> {
    let too_many = || TimestampError::Malformed {
        what: "signed attributes",
        detail: "too many attributes or values".to_owned(),
    };
    let tlvs = split_tlvs(content, MAX_ATTRIBUTES).map_err(|e| match e {
        SplitError::Der(e) => malformed("signed attributes")(e),
        SplitError::TooMany => too_many(),
    })?;
    tlvs.into_iter()
        .map(|tlv| {
            let attr = AttributeRaw::from_der(tlv).map_err(malformed("signed attribute"))?;
            let values = split_tlvs(attr.values.content, MAX_ATTRIBUTE_VALUES)
                .map_err(|e| match e {
                    SplitError::Der(e) => malformed("signed attribute")(e),
                    SplitError::TooMany => too_many(),
                })?
                .into_iter()
                .map(<[u8]>::to_vec)
                .collect();
            Ok(Attribute {
                oid: attr.oid,
                values,
            })
        })
        .collect()
}

impl ParsedToken {
    /// `TSTInfo.genTime` in Unix seconds (fraction truncated).
    pub fn gen_time(&self) -> i64 {
        self.gen_time.secs()
    }

    /// Fractional part of `genTime`, in nanoseconds.
    pub fn gen_time_nanos(&self) -> u32 {
        self.gen_time.nanos()
    }

    /// `TSTInfo.version` as found (only 1 verifies).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// `TSTInfo.policy`, dotted.
    pub fn policy_oid(&self) -> String {
        self.policy.to_string()
    }

    /// `TSTInfo.serialNumber`, lowercase hex.
    pub fn serial_hex(&self) -> String {
        integer_hex(&self.tst_serial)
    }

    /// messageImprint: the hash algorithm (dotted OID) and the hashed message.
    pub fn message_imprint(&self) -> (String, &[u8]) {
        (self.imprint_alg.to_string(), &self.imprint)
    }

    /// The encapsulated TSTInfo DER.
    pub fn tst_info_der(&self) -> &[u8] {
        &self.tst_info_der
    }

    /// DER of each certificate of the token's certificate bag, in token order.
    pub fn certificates(&self) -> Vec<&[u8]> {
        self.certs.iter().map(Certificate::der).collect()
    }

    /// Number of SignerInfos.
    pub fn signer_info_count(&self) -> usize {
        self.signers.len()
    }

    /// Accuracy in microseconds per tspclient-go `TSTInfo.Validate`: the sum of the accuracy
    /// fields, or 1 s when they are all absent or zero and the policy is the RFC 3628 baseline
    /// policy.
    fn accuracy_micros(&self) -> Result<u64, TimestampError> {
        let (seconds, millis, micros) = match &self.accuracy {
            None => (0, 0, 0),
            Some(a) => (
                a.seconds.unwrap_or(0),
                a.millis.unwrap_or(0),
                a.micros.unwrap_or(0),
            ),
        };
        let sub = |v: i16| {
            u64::try_from(v)
                .ok()
                .filter(|v| *v <= 999)
                .ok_or(TimestampError::InvalidAccuracy)
        };
        let (millis, micros) = (sub(millis)?, sub(micros)?);
        if seconds == 0 && millis == 0 && micros == 0 && self.policy == BASELINE_TSA_POLICY {
            return Ok(1_000_000);
        }
        seconds
            .checked_mul(1_000_000)
            .and_then(|s| s.checked_add(millis * 1000 + micros))
            .ok_or(TimestampError::InvalidAccuracy)
    }

    /// tspclient-go `TSTInfo.Validate(message)`: the version is 1, the messageImprint hash is
    /// SHA-256/384/512 and equals the hash of `signed_bytes`, and the accuracy is sane. Does
    /// **not** establish that the token is authentic.
    pub fn validate_tst_info(&self, signed_bytes: &[u8]) -> Result<(), TimestampError> {
        self.validate_tst_info_accuracy(signed_bytes).map(|_| ())
    }

    /// [`Self::validate_tst_info`], returning the accuracy in microseconds.
    fn validate_tst_info_accuracy(&self, signed_bytes: &[u8]) -> Result<u64, TimestampError> {
        if self.version != 1 {
            return Err(TimestampError::UnsupportedVersion {
                version: self.version,
            });
        }
        let digest = tsa_crypto::digest(&self.imprint_alg, signed_bytes).map_err(|reason| {
            TimestampError::UnsupportedImprintAlgorithm {
                oid: self.imprint_alg.to_string(),
                reason,
            }
        })?;
        if digest != self.imprint {
            return Err(TimestampError::MessageImprintMismatch);
        }
        self.accuracy_micros()
    }

    /// tspclient-go `SignedToken.SigningCertificate`: the DER of the certificate that the
    /// SigningCertificateV2 attribute of SignerInfo `signer_index` identifies, after checking
    /// its ESSCertIDv2 hash. Does **not** establish that the token is authentic.
    pub fn signing_certificate(&self, signer_index: usize) -> Result<&[u8], TimestampError> {
        let signer = self
            .signers
            .get(signer_index)
            .ok_or(TimestampError::NoSignerInfo)?;
        let idx = self.resolve_signing_certificate(signer)?;
        self.certs
            .get(idx)
            .map(Certificate::der)
            .ok_or(TimestampError::SignerCertificateNotFound)
    }

    fn resolve_signing_certificate(&self, signer: &SignerEntry) -> Result<usize, TimestampError> {
        let malformed_ess = |detail: &str| TimestampError::SigningCertificateMalformed {
            detail: detail.to_owned(),
        };
        let value = match signer.single_value(&ID_AA_SIGNING_CERTIFICATE_V2) {
            Ok(Some(v)) => v,
            Ok(None) => {
                return Err(TimestampError::SigningCertificateV2Missing {
                    v1_present: signer
                        .signed_attrs
                        .iter()
                        .any(|a| a.oid == ID_AA_SIGNING_CERTIFICATE),
                })
            }
            Err(AttrProblem::Multiple) => {
                return Err(malformed_ess("attribute present more than once"))
            }
            Err(AttrProblem::ValueCount) => {
                return Err(malformed_ess("attribute must have exactly one value"))
            }
        };
        let scv2 = SigningCertificateV2Raw::from_der(value).map_err(|e| {
            TimestampError::SigningCertificateMalformed {
                detail: e.to_string(),
            }
        })?;
        // Only the first ESSCertIDv2 identifies the signer (RFC 5035 §3); the others may name
        // chain certificates and are not looked at.
        let mut ids =
            SliceReader::new(scv2.certs.content).map_err(|e| malformed_ess(&e.to_string()))?;
        if ids.is_finished() {
            return Err(TimestampError::SigningCertificateEmpty);
        }
        let first = ids.tlv_bytes().map_err(|e| malformed_ess(&e.to_string()))?;
        let id = EssCertIdV2Raw::from_der(first).map_err(|e| malformed_ess(&e.to_string()))?;

        let hash_oid = id.hash_algorithm.as_ref().map_or(ID_SHA256, |alg| alg.oid);
        if ![ID_SHA256, ID_SHA384, ID_SHA512].contains(&hash_oid) {
            return Err(TimestampError::SigningCertificateHashAlgorithm {
                oid: hash_oid.to_string(),
            });
        }

        // tspclient-go locates the certificate by the ESS issuerSerial when present, by the
        // (unsigned) sid otherwise. Both must agree here.
        let (idx, cert) = match &id.issuer_serial {
            Some(is) => {
                let issuer = directory_name(is.issuer.content)
                    .ok_or(TimestampError::SigningCertificateIssuerMissing)?;
                let serial = is.serial.as_bytes();
                let found = self
                    .certs
                    .iter()
                    .enumerate()
                    .find(|(_, c)| c.issuer_der() == issuer && c.serial() == serial)
                    .ok_or(TimestampError::SignerCertificateNotFound)?;
                if !signer.sid.matches(found.1) {
                    return Err(TimestampError::SigningCertificateSidMismatch);
                }
                found
            }
            None => self
                .certs
                .iter()
                .enumerate()
                .find(|(_, c)| signer.sid.matches(c))
                .ok_or(TimestampError::SignerCertificateNotFound)?,
        };
        let hash = tsa_crypto::digest(&hash_oid, cert.der()).map_err(|_| {
            TimestampError::SigningCertificateHashAlgorithm {
                oid: hash_oid.to_string(),
            }
        })?;
        if hash != id.cert_hash.as_bytes() {
            return Err(TimestampError::SigningCertificateHashMismatch);
        }
        Ok(idx)
    }
}

/// The Name TLV of a GeneralNames that holds exactly one directoryName (`[4] EXPLICIT Name`).
fn directory_name(general_names: &[u8]) -> Option<&[u8]> {
    let names = split_tlvs(general_names, 1).ok()?;
    let [name] = names.as_slice() else {
        return None;
    };
    let mut reader = SliceReader::new(name).ok()?;
    let header = Header::decode(&mut reader).ok()?;
    if header.tag
        != (Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber::N4,
        })
    {
        return None;
    }
    let inner = reader.read_slice(header.length).ok()?;
    let inner = split_tlvs(inner, 1).ok()?;
    let [dn] = inner.as_slice() else {
        return None;
    };
    (dn.first() == Some(&0x30)).then_some(*dn)
}

// --- Chain validation -----------------------------------------------------------------------

/// The X.509 core's path-building failure, in this module's terms.
fn build_error(e: BuildError, gen_time: Instant) -> TimestampError {
    match e {
        BuildError::BudgetExceeded(b) => TimestampError::BudgetExceeded { limit: b.limit },
        BuildError::Untrusted(detail) => TimestampError::Untrusted { detail },
        BuildError::Invalid { subject, error } => TimestampError::CertificateInvalid {
            subject,
            reason: if error.rule.is_validity() {
                format!(
                    "not valid at the timestamp's genTime {}: {}",
                    time::rfc3339(gen_time.secs()),
                    error.detail
                )
            } else {
                error.detail
            },
        },
    }
}

// --- Verification ---------------------------------------------------------------------------

/// Maps the SignerInfo algorithms to the combined signature algorithm, as tspclient-go
/// `oid.ToSignatureAlgorithm` does: plain rsaEncryption takes its hash from `digestAlgorithm`.
fn cms_signature_algorithm(
    digest_alg: &AlgorithmIdentifierOwned,
    sig_alg: &AlgorithmIdentifierOwned,
) -> Result<AlgorithmIdentifierOwned, TimestampError> {
    if sig_alg.oid != RSA_ENCRYPTION {
        return Ok(sig_alg.clone());
    }
    let oid = if digest_alg.oid == ID_SHA256 {
        SHA256_WITH_RSA
    } else if digest_alg.oid == ID_SHA384 {
        SHA384_WITH_RSA
    } else if digest_alg.oid == ID_SHA512 {
        SHA512_WITH_RSA
    } else {
        // Let the crypto module name the refusal (SHA-1 and MD5 are "legacy").
        let err = tsa_crypto::digest(&digest_alg.oid, &[]).err().unwrap_or(
            CryptoError::UnsupportedAlgorithm {
                oid: digest_alg.oid.to_string(),
            },
        );
        return Err(TimestampError::UnsupportedSignerAlgorithm(err));
    };
    Ok(AlgorithmIdentifierOwned {
        oid,
        parameters: sig_alg.parameters.clone(),
    })
}

/// Verifies one SignerInfo in tspclient-go's order: signing certificate (ESS), chain, CMS
/// signature, signed attributes. Returns the validated chain.
fn verify_signer(
    token: &ParsedToken,
    signer: &SignerEntry,
    anchors: &[Certificate],
    budget: &mut Budget,
) -> Result<VerifiedPath, TimestampError> {
    let signer_idx = token.resolve_signing_certificate(signer)?;
    let signer_cert = token
        .certs
        .get(signer_idx)
        .ok_or(TimestampError::SignerCertificateNotFound)?;
    let version_ok = match signer.sid {
        SignerId::IssuerSerial { .. } => signer.version == 1,
        SignerId::SubjectKeyId(_) => signer.version == 3,
    };
    if !version_ok {
        return Err(TimestampError::SignerInfoVersion {
            version: signer.version,
        });
    }

    let chain = path::build(
        signer_cert,
        &token.certs,
        anchors,
        token.gen_time,
        Purpose::Timestamping,
        budget,
    )
    .map_err(|e| build_error(e, token.gen_time))?;

    let signed_attrs = signer
        .signed_attrs_der
        .as_deref()
        .ok_or(TimestampError::MissingSignedAttributes)?;
    let sig_alg = cms_signature_algorithm(&signer.digest_alg, &signer.signature_alg)?;
    budget
        .take_signature()
        .map_err(|e| TimestampError::BudgetExceeded { limit: e.limit })?;
    tsa_crypto::verify_signature(
        signer_cert.spki_der(),
        &sig_alg,
        signed_attrs,
        &signer.signature,
    )
    .map_err(|e| match e {
        CryptoError::BadSignature => TimestampError::Signature(e),
        other => TimestampError::UnsupportedSignerAlgorithm(other),
    })?;

    check_signed_attributes(token, signer, &chain)?;
    Ok(chain)
}

/// RFC 5652 §5.6 / §11 checks of the signed attributes (tspclient-go
/// `verifySignedAttributes`).
fn check_signed_attributes(
    token: &ParsedToken,
    signer: &SignerEntry,
    chain: &VerifiedPath,
) -> Result<(), TimestampError> {
    let content_type = match signer.single_value(&ID_CONTENT_TYPE) {
        Ok(Some(v)) => v,
        Ok(None) => return Err(TimestampError::ContentTypeAttribute { detail: "missing" }),
        Err(_) => {
            return Err(TimestampError::ContentTypeAttribute {
                detail: "must be one attribute with one value",
            })
        }
    };
    let content_type = ObjectIdentifier::from_der(content_type).map_err(|_| {
        TimestampError::ContentTypeAttribute {
            detail: "not an object identifier",
        }
    })?;
    if content_type != ID_CT_TSTINFO {
        return Err(TimestampError::ContentTypeAttribute {
            detail: "does not match the encapsulated content type id-ct-TSTInfo",
        });
    }

    let digest = match signer.single_value(&ID_MESSAGE_DIGEST) {
        Ok(Some(v)) => v,
        Ok(None) => return Err(TimestampError::MessageDigestAttribute { detail: "missing" }),
        Err(_) => {
            return Err(TimestampError::MessageDigestAttribute {
                detail: "must be one attribute with one value",
            })
        }
    };
    let digest =
        OctetStringRef::from_der(digest).map_err(|_| TimestampError::MessageDigestAttribute {
            detail: "not an OCTET STRING",
        })?;
    let actual = tsa_crypto::digest(&signer.digest_alg.oid, &token.tst_info_der)
        .map_err(TimestampError::UnsupportedSignerAlgorithm)?;
    if actual != digest.as_bytes() {
        return Err(TimestampError::MessageDigestMismatch);
    }

    match signer.single_value(&ID_SIGNING_TIME) {
        Ok(None) => Ok(()),
        Err(_) => Err(TimestampError::SigningTimeAttribute),
        Ok(Some(v)) => {
            let t = x509_cert::time::Time::from_der(v)
                .ok()
                .as_ref()
                .and_then(time::from_asn1)
                .ok_or(TimestampError::SigningTimeAttribute)?;
            if chain
                .certificates()
                .iter()
                .all(|c| c.not_before() <= t && t <= c.not_after())
            {
                Ok(())
            } else {
                Err(TimestampError::SigningTimeOutsideValidity {
                    signing_time: time::rfc3339(t),
                })
            }
        }
    }
}

/// Verifies an RFC 3161 timestamp token offline.
///
/// * `token`: the DER `TimeStampToken` (CMS ContentInfo).
/// * `signed_bytes`: what the token must timestamp. For a notation envelope: the COSE_Sign1
///   signature bytes, or the base64url-decoded JWS `signature`.
/// * `tsa_roots`: DER certificates of the policy's `tsa` trust stores (self-signed roots).
/// * `limits`: resource budgets.
///
/// Every check happens at the token's `genTime`; nothing reads the clock. On success the
/// returned [`VerifiedTimestamp`] gives the authentic time range and the validated TSA chain,
/// whose revocation status the caller must still establish.
pub fn verify(
    token: &[u8],
    signed_bytes: &[u8],
    tsa_roots: &[Vec<u8>],
    limits: &Limits,
) -> Result<VerifiedTimestamp, TimestampError> {
    let parsed = parse_with_limits(token, limits)?;
    let accuracy_us = parsed.validate_tst_info_accuracy(signed_bytes)?;

    if tsa_roots.is_empty() {
        return Err(TimestampError::NoTrustAnchors);
    }
    let anchors = tsa_roots
        .iter()
        .enumerate()
        .map(|(index, der)| {
            token_certificate(der).map_err(|_| TimestampError::InvalidTrustAnchor { index })
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut budget = Budget::new(limits.max_chain_len, limits.max_signature_checks);
    // tspclient-go `SignedToken.Verify`: success on the first SignerInfo that verifies,
    // otherwise the last error.
    let mut last_err = TimestampError::NoSignerInfo;
    for signer in &parsed.signers {
        match verify_signer(&parsed, signer, &anchors, &mut budget) {
            Ok(chain) => return finish(&parsed, chain, accuracy_us),
            Err(e @ TimestampError::BudgetExceeded { .. }) => return Err(e),
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

fn finish(
    parsed: &ParsedToken,
    path: VerifiedPath,
    accuracy_us: u64,
) -> Result<VerifiedTimestamp, TimestampError> {
    let gen_ns = parsed.gen_time.total_nanos();
    let acc_ns = i128::from(accuracy_us) * 1000;
    const NS: i128 = 1_000_000_000;
    let lower = (gen_ns - acc_ns).div_euclid(NS);
    let upper = -((-(gen_ns + acc_ns)).div_euclid(NS));
    let lower = i64::try_from(lower).map_err(|_| TimestampError::InvalidAccuracy)?;
    let upper = i64::try_from(upper).map_err(|_| TimestampError::InvalidAccuracy)?;
    let signer_serial_hex = path
        .leaf()
        .map(|c| integer_hex(c.serial()))
        .unwrap_or_default();
    Ok(VerifiedTimestamp {
        gen_time: parsed.gen_time.secs(),
        accuracy_ms: accuracy_us.div_ceil(1000),
        lower,
        upper,
        tsa_chain: path
            .certificates()
            .iter()
            .map(|c| c.der().to_vec())
            .collect(),
        signer_serial_hex,
        policy_oid: parsed.policy.to_string(),
        tst_serial_hex: integer_hex(&parsed.tst_serial),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_helpers() {
        assert_eq!(integer_hex(&[0x00, 0x80, 0x01]), "8001");
        assert_eq!(integer_hex(&[0x00]), "00");
        assert_eq!(integer_hex(&[0x01, 0x00]), "0100");
    }

    #[test]
    fn directory_name_requires_one_dirname() {
        // [4] { SEQUENCE {} }
        assert_eq!(
            directory_name(&[0xA4, 0x02, 0x30, 0x00]),
            Some(&[0x30, 0x00][..])
        );
        // [7] constructed instead of [4]
        assert_eq!(directory_name(&[0xA7, 0x02, 0x30, 0x00]), None);
        // two names
        assert_eq!(
            directory_name(&[0xA4, 0x02, 0x30, 0x00, 0xA4, 0x02, 0x30, 0x00]),
            None
        );
        assert_eq!(directory_name(&[]), None);
    }

    fn corpus_token() -> Option<(Vec<u8>, Vec<u8>)> {
        let root = std::env::var_os("AIRLOCK_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus"))
            })
            .join("envelopes/tst.globalsign.valid");
        let token = std::fs::read(root.join("TimeStampToken.p7s")).ok()?;
        let pem = std::fs::read_to_string(root.join("roots/GlobalSignRootCA.crt")).ok()?;
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let mut der = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in b64.bytes().take_while(|c| *c != b'=') {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                _ => 63,
            };
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                der.push(u8::try_from((acc >> bits) & 0xff).unwrap());
            }
        }
        Some((token, der))
    }

    #[test]
    fn signature_covers_received_signed_attribute_bytes() {
        let Some((token, _)) = corpus_token() else {
            eprintln!("corpus not found; skipped");
            return;
        };
        let parsed = parse(&token).unwrap();
        let attrs = parsed.signers[0].signed_attrs_der.clone().unwrap();
        assert_eq!(attrs[0], 0x31);
        // With the tag put back to [0] IMPLICIT (0xA0) the bytes occur verbatim in the token.
        let mut as_received = attrs.clone();
        as_received[0] = 0xA0;
        assert!(token
            .windows(as_received.len())
            .any(|w| w == as_received.as_slice()));
        assert_eq!(parsed.signers[0].signed_attrs.len(), 4);
    }

    #[test]
    fn chain_validity_is_checked_at_gen_time() {
        let Some((token, root)) = corpus_token() else {
            eprintln!("corpus not found; skipped");
            return;
        };
        let parsed = parse(&token).unwrap();
        let anchors = vec![token_certificate(&root).unwrap()];
        let leaf = &parsed.certs[0];
        let run = |secs: i64| {
            let mut budget = Budget::new(8, 64);
            path::build(
                leaf,
                &parsed.certs,
                &anchors,
                Instant::from_secs(secs),
                Purpose::Timestamping,
                &mut budget,
            )
            .map(|p| p.certificates().len())
            .map_err(|e| build_error(e, Instant::from_secs(secs)).code())
        };
        assert_eq!(run(parsed.gen_time.secs()), Ok(4));
        // Before the TSA certificate's notBefore (2021-05-27T09:55:23Z) and exactly at it.
        let nb = leaf.not_before();
        assert_eq!(run(nb), Ok(4));
        assert_eq!(run(nb - 1), Err("tst_cert_invalid"));
        // After Root R3 and the R6 cross-certificate expire (2029-03-18T10:00:00Z).
        let r3_end = anchors[0].not_after();
        assert_eq!(run(r3_end), Ok(4));
        assert_eq!(run(r3_end + 1), Err("tst_cert_invalid"));
    }

    #[test]
    fn error_codes_are_stable() {
        assert_eq!(TimestampError::MissingContent.code(), "tst_parse");
        assert_eq!(
            TimestampError::UnsupportedVersion { version: 2 }.code(),
            "tst_tstinfo"
        );
        assert_eq!(
            TimestampError::MessageImprintMismatch.code(),
            "tst_message_imprint"
        );
        assert_eq!(
            TimestampError::SignerCertificateNotFound.code(),
            "tst_signer_cert_missing"
        );
        assert_eq!(
            TimestampError::SigningCertificateEmpty.code(),
            "tst_signing_certificate"
        );
        assert_eq!(
            TimestampError::Signature(CryptoError::BadSignature).code(),
            "tst_signature"
        );
        assert_eq!(TimestampError::NoTrustAnchors.code(), "tst_untrusted");
        assert_eq!(
            TimestampError::CertificateInvalid {
                subject: String::new(),
                reason: String::new()
            }
            .code(),
            "tst_cert_invalid"
        );
    }
}
