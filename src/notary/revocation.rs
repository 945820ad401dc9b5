//! Offline revocation: CRLs given on the command line or carried in the bundle, evaluated as the
//! Notary Project specification and notation-core-go (`revocation/internal/crl/crl.go`) do, with
//! the scope rules of SPEC-NOTES errata 9 and 14-16. A CRL applies to a certificate only within its
//! scope; CRLs from the bundle and from `--crl` are judged alike (callers pass one list).
//!
//! Per certificate of a chain (leaf first):
//!
//! * The root (last certificate) is never checked: `NonRevokable`.
//! * The certificate's revocation sources are the URIs of its CRLDistributionPoints (the URIs of
//!   each `fullName`). A distribution point with `cRLIssuer` or `reasons` is not supported: its
//!   URIs cannot be covered, so the status is `Unknown`. Distribution points naming no URI are
//!   ignored, as in notation. With no URI: only OCSP locations -> `Unknown` (no responder can be
//!   reached offline, and unknown is never good); nothing at all -> `NonRevokable`.
//! * A CRL is a *candidate* (`candidate`) when its issuer name equals the issuer certificate's
//!   subject (DER), its signature verifies with the issuer's key (whose keyUsage, when present,
//!   allows cRLSign), it is current (`thisUpdate <= at <= nextUpdate`; no `nextUpdate` = not
//!   current, notation: "CRL NextUpdate is not set"), and it carries no unknown critical extension
//!   (anything critical but IssuingDistributionPoint and DeltaCRLIndicator).
//! * Scope (`scope.rs`): a base CRL covers a URI of the certificate when it has no
//!   IssuingDistributionPoint (a complete CRL of its issuer), when its IDP `fullName` lists that
//!   exact URI, or when its IDP names no distribution point and the caller vouches that it was
//!   captured from that URI ([`CrlInput::captured`]). URIs are compared exactly.
//!   `onlyContainsCACerts` never covers a leaf (no basicConstraints `cA`), `onlyContainsUserCerts`
//!   never covers a CA; `onlyContainsAttributeCerts`, `onlySomeReasons`, `indirectCRL` and a
//!   distribution point named relative to the issuer make the CRL inapplicable.
//! * Every URI must be covered by a candidate base CRL, else `Unknown` (naming the URI and why each
//!   CRL at hand did not apply). CRL numbers are compared only among the CRLs of one scope (the
//!   same IssuingDistributionPoint, or none: the complete CRL) covering one URI: the highest
//!   CRLNumber (without numbers on all of them, the latest `thisUpdate`) decides for its scope, and
//!   every scope covering the URI decides (a hold in the newest CRL of one scope is not lifted by a
//!   CRL of another, whatever their numbers); equally new CRLs of one scope all decide, the worst
//!   result wins. Revoked at any URI ->
//!   `Revoked`. No CRL can clear what another applicable one says: an entry with a reason other
//!   than certificateHold/removeFromCRL in *any* applicable candidate (a base covering one of the
//!   URIs, or a delta applying to such a base; any scope, any age) revokes the certificate, and an
//!   entry for it that cannot be interpreted in any of them makes it `Unknown` at best.
//! * Delta CRLs follow the base (`evaluate.rs`): a base with FreshestCRL needs a candidate delta
//!   with DeltaCRLIndicator <= the base's number, its own number > the base's, in scope (no IDP
//!   when the base has none; when the base has an IDP, an IDP naming one of the base's FreshestCRL
//!   URIs or the certificate's URI, or captured from one of the base's FreshestCRL URIs); the
//!   newest such delta applies, none -> `Unknown`. A
//!   certificate with its own FreshestCRL whose base names none -> `Unknown` (notation: "freshest
//!   CRL from certificate extension is not supported"). The delta's entry for the serial wins over
//!   the base's (a `removeFromCRL` in the delta lifts a hold).
//! * Entries: `removeFromCRL` = not listed; `certificateHold` = revoked (on hold); any other or no
//!   reason = revoked; when an authentic signing time is known (the signing-authority scheme) and
//!   precedes the entry's `invalidityDate`, the entry does not revoke. An entry with an unknown
//!   critical extension (not reasonCode, invalidityDate, holdInstructionCode), a malformed known
//!   one, or a `certificateIssuer` at or before it (indirect CRLs are not supported) -> `Unknown`.
//!
//! Certificates come as the X.509 core's view ([`super::x509::Certificate`]): their distribution
//! points, FreshestCRL, AIA and basicConstraints are read from it, and the CRL issuer's keyUsage is
//! judged by [`super::x509::Role::CrlIssuer`]. Times convert through [`super::time`].
//!
//! Time is always an input. Nothing here reaches for the network.

use const_oid::ObjectIdentifier;
use der::asn1::BitStringRef;
use der::{Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Sequence};
use der::{SliceReader, Tag, Writer};
use x509_cert::crl::RevokedCert;
use x509_cert::ext::pkix::crl::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::Extensions;
use x509_cert::name::Name;
use x509_cert::spki::AlgorithmIdentifierRef;
use x509_cert::time::Time;

use super::crypto;
use super::time;
use super::x509::{rules, Certificate, Role};

mod evaluate;
mod scope;

const ID_CE_CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const ID_CE_DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const ID_CE_ISSUING_DISTRIBUTION_POINT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.5.29.28");
const ID_CE_FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");

/// Largest CRL accepted (bytes); real CRLs of public CAs stay well below this.
pub const MAX_CRL_BYTES: usize = 64 << 20;

/// Why a CRL could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    /// The bytes are neither a DER CRL nor PEM `X509 CRL` blocks.
    #[error("not a CRL: {0}")]
    Malformed(String),
    /// Larger than [`MAX_CRL_BYTES`].
    #[error("CRL of {0} bytes exceeds the {MAX_CRL_BYTES} byte limit")]
    TooLarge(usize),
}

crate::notary::reason::reasons! {
    /// Why a CRL was refused.
    pub enum CrlReason {
        /// `crl_malformed`.
        CrlMalformed => "crl_malformed",
        /// `crl_too_large`.
        CrlTooLarge => "crl_too_large",
    }
}

impl CrlError {
    /// Stable reason code.
    pub fn reason(&self) -> CrlReason {
        match self {
            CrlError::Malformed(_) => CrlReason::CrlMalformed,
            CrlError::TooLarge(_) => CrlReason::CrlTooLarge,
        }
    }

    /// The stable string of [`Self::reason`] (reports, usage errors, the corpus tests).
    pub fn code(&self) -> &'static str {
        self.reason().as_str()
    }
}

/// A CRL as received: parsed, with its exact DER kept.
///
/// The revoked entries are not held decoded: a CRL of a few million entries would take an order
/// of magnitude more memory decoded than its DER does. They are all decoded once when the CRL is
/// parsed (a malformed entry fails parsing, as before) and decoded again, one at a time, whenever
/// a serial number is looked up ([`Crl::entries`]).
///
/// Malformed scope extensions (IssuingDistributionPoint, FreshestCRL) do not fail parsing: they
/// make the CRL unusable when it is judged, with the reason in the verdict.
#[derive(Clone, Debug)]
pub struct Crl {
    der: Vec<u8>,
    digest: String,
    issuer: Name,
    issuer_der: Vec<u8>,
    this_update: i64,
    next_update: Option<i64>,
    number: Option<Vec<u8>>,
    delta_of: Option<Vec<u8>>,
    idp: Option<Result<IssuingDistributionPoint, String>>,
    freshest: Option<Result<Vec<String>, String>>,
    unknown_critical: Option<ObjectIdentifier>,
}

/// The parts of a signed X.509 structure, borrowed from its DER: the TBS and the algorithm as
/// whole TLVs (the TBS is what the signature covers), the signature's bits.
struct Signed<'a> {
    tbs: &'a [u8],
    alg: &'a [u8],
    sig: &'a [u8],
}

impl<'a> Signed<'a> {
    fn split(der: &'a [u8]) -> Result<Self, CrlError> {
        let bad = |e: der::Error| CrlError::Malformed(e.to_string());
        let mut reader = SliceReader::new(der).map_err(bad)?;
        let (tbs, alg, sig) = reader
            .sequence(|r| {
                let tbs = r.tlv_bytes()?;
                let alg = r.tlv_bytes()?;
                let sig = BitStringRef::decode(r)?;
                Ok((tbs, alg, sig))
            })
            .map_err(bad)?;
        let (tbs, alg, sig) = reader.finish((tbs, alg, sig)).map_err(bad)?;
        AlgorithmIdentifierRef::from_der(alg).map_err(bad)?;
        let sig = sig
            .as_bytes()
            .ok_or_else(|| CrlError::Malformed("signature has unused bits".into()))?;
        Ok(Signed { tbs, alg, sig })
    }
}

/// `TBSCertList` (RFC 5280 section 5.1) with the revoked entries left as the raw content of their
/// `SEQUENCE OF`; otherwise as `x509_cert::crl::TbsCertList` decodes it.
#[derive(Sequence)]
struct LazyTbsCertList<'a> {
    version: x509_cert::Version,
    signature: AlgorithmIdentifierRef<'a>,
    issuer: Name,
    this_update: Time,
    next_update: Option<Time>,
    revoked_certificates: Option<RawSequence<'a>>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    crl_extensions: Option<Extensions>,
}

/// The content octets of a `SEQUENCE` (or `SEQUENCE OF`), not decoded.
struct RawSequence<'a>(&'a [u8]);

impl<'a> DecodeValue<'a> for RawSequence<'a> {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        reader.read_slice(header.length).map(RawSequence)
    }
}

impl EncodeValue for RawSequence<'_> {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.0.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(self.0)
    }
}

impl FixedTag for RawSequence<'_> {
    const TAG: Tag = Tag::Sequence;
}

/// The revoked entries of a CRL, decoded one at a time from the raw `SEQUENCE OF` content.
struct Entries<'a> {
    reader: Option<SliceReader<'a>>,
}

impl Iterator for Entries<'_> {
    type Item = Result<RevokedCert, der::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let reader = self.reader.as_mut()?;
        if reader.is_finished() {
            return None;
        }
        let entry = RevokedCert::decode(reader);
        if entry.is_err() {
            // The reader's position is meaningless after an error: end here.
            self.reader = None;
        }
        Some(entry)
    }
}

impl<'a> Entries<'a> {
    fn of(raw: Option<RawSequence<'a>>) -> Result<Self, der::Error> {
        let reader = raw.map(|r| SliceReader::new(r.0)).transpose()?;
        Ok(Entries { reader })
    }
}

fn unix(t: &x509_cert::time::Time) -> i64 {
    time::from_asn1(t).unwrap_or(i64::MAX)
}

/// Big-endian unsigned magnitude without leading zeros (at least one byte).
fn magnitude(bytes: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if v.is_empty() {
        v.push(0);
    }
    v
}

/// Compares two unsigned big-endian integers.
fn cmp_numbers(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let (a, b) = (magnitude(a), magnitude(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(&b))
}

/// A CRL number for reports: decimal when it fits a `u128`, else `0x` and hex.
fn number_text(bytes: &[u8]) -> String {
    let m = magnitude(bytes);
    if m.len() <= 16 {
        let n = m.iter().fold(0u128, |n, b| (n << 8) | u128::from(*b));
        n.to_string()
    } else {
        format!("0x{}", crate::digest::to_hex(&m))
    }
}

/// The URIs of the `fullName`s of a list of distribution points.
fn dp_uris(dps: &CrlDistributionPoints) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for dp in &dps.0 {
        if let Some(DistributionPointName::FullName(names)) = &dp.distribution_point {
            for uri in names.iter().filter_map(uri_of) {
                if !out.contains(&uri) {
                    out.push(uri);
                }
            }
        }
    }
    out
}

fn uri_of(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(u) => Some(u.as_str().to_string()),
        _ => None,
    }
}

/// An unsigned INTEGER extension value (CRLNumber, DeltaCRLIndicator).
fn uint_ext(value: &[u8]) -> Result<Vec<u8>, der::Error> {
    der::asn1::Uint::from_der(value).map(|n| magnitude(n.as_bytes()))
}

impl Crl {
    /// Parses one DER CRL.
    pub fn from_der(der: &[u8]) -> Result<Self, CrlError> {
        if der.len() > MAX_CRL_BYTES {
            return Err(CrlError::TooLarge(der.len()));
        }
        let bad = |e: der::Error| CrlError::Malformed(e.to_string());
        let signed = Signed::split(der)?;
        let tbs = LazyTbsCertList::from_der(signed.tbs).map_err(bad)?;
        // Every entry must decode, as when the whole list was decoded at once; none is kept.
        for entry in Entries::of(tbs.revoked_certificates).map_err(bad)? {
            entry.map_err(bad)?;
        }
        let issuer_der = tbs.issuer.to_der().map_err(bad)?;
        let mut number = None;
        let mut delta_of = None;
        let mut idp = None;
        let mut freshest = None;
        let mut unknown_critical = None;
        for ext in tbs.crl_extensions.iter().flatten() {
            let value = ext.extn_value.as_bytes();
            if ext.extn_id == ID_CE_ISSUING_DISTRIBUTION_POINT {
                idp = Some(IssuingDistributionPoint::from_der(value).map_err(|e| e.to_string()));
                continue;
            }
            if ext.extn_id == ID_CE_DELTA_CRL_INDICATOR {
                delta_of = Some(uint_ext(value).map_err(bad)?);
                continue;
            }
            // Only the two extensions above may be critical (notation-core-go `validateCRL`).
            if ext.critical && unknown_critical.is_none() {
                unknown_critical = Some(ext.extn_id);
            }
            if ext.extn_id == ID_CE_CRL_NUMBER {
                number = Some(uint_ext(value).map_err(bad)?);
            } else if ext.extn_id == ID_CE_FRESHEST_CRL {
                freshest = Some(
                    CrlDistributionPoints::from_der(value)
                        .map(|d| dp_uris(&d))
                        .map_err(|e| e.to_string()),
                );
            }
        }
        Ok(Crl {
            this_update: unix(&tbs.this_update),
            next_update: tbs.next_update.as_ref().map(unix),
            digest: crate::digest::Digest::sha256(der).to_string(),
            der: der.to_vec(),
            issuer: tbs.issuer,
            issuer_der,
            number,
            delta_of,
            idp,
            freshest,
            unknown_critical,
        })
    }

    /// Parses a file's content: DER, or one or more PEM `X509 CRL` blocks.
    pub fn parse_file(bytes: &[u8]) -> Result<Vec<Self>, CrlError> {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::CertificateRevocationListDer;
        if bytes.len() > MAX_CRL_BYTES {
            return Err(CrlError::TooLarge(bytes.len()));
        }
        if bytes.first() == Some(&0x30) {
            return Ok(vec![Self::from_der(bytes)?]);
        }
        let mut out = Vec::new();
        for item in CertificateRevocationListDer::pem_slice_iter(bytes) {
            let der = item.map_err(|e| CrlError::Malformed(format!("PEM: {e}")))?;
            out.push(Self::from_der(der.as_ref())?);
        }
        if out.is_empty() {
            return Err(CrlError::Malformed("no X509 CRL block found".into()));
        }
        Ok(out)
    }

    /// The exact DER received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// `sha256:<hex>` of the DER.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The issuer's distinguished name, RFC 4514 form.
    pub fn issuer(&self) -> String {
        self.issuer.to_string()
    }

    /// `thisUpdate`, Unix seconds.
    pub fn this_update(&self) -> i64 {
        self.this_update
    }

    /// `nextUpdate`, Unix seconds, when present.
    pub fn next_update(&self) -> Option<i64> {
        self.next_update
    }

    /// The CRLNumber as an unsigned big-endian magnitude, when present.
    pub fn number(&self) -> Option<&[u8]> {
        self.number.as_deref()
    }

    /// The CRLNumber for reports: decimal when it fits a `u128`, else `0x` and hex.
    pub fn number_text(&self) -> Option<String> {
        self.number.as_deref().map(number_text)
    }

    /// The DeltaCRLIndicator (the base CRL number this delta extends), when this is a delta CRL.
    pub fn delta_indicator(&self) -> Option<&[u8]> {
        self.delta_of.as_deref()
    }

    /// True for a delta CRL.
    pub fn is_delta(&self) -> bool {
        self.delta_of.is_some()
    }

    /// The IssuingDistributionPoint: `Ok(None)` when absent, `Err` when malformed.
    pub fn idp(&self) -> Result<Option<&IssuingDistributionPoint>, String> {
        match &self.idp {
            None => Ok(None),
            Some(Ok(idp)) => Ok(Some(idp)),
            Some(Err(e)) => Err(e.clone()),
        }
    }

    /// The URIs of this CRL's FreshestCRL extension (where its delta CRLs are published): `None`
    /// when absent, `Some(Err)` when malformed.
    pub fn freshest_uris(&self) -> Option<Result<&[String], String>> {
        self.freshest
            .as_ref()
            .map(|r| r.as_deref().map_err(Clone::clone))
    }

    /// The first critical CRL extension other than IssuingDistributionPoint and
    /// DeltaCRLIndicator; such a CRL is unusable.
    pub fn unknown_critical_extension(&self) -> Option<ObjectIdentifier> {
        self.unknown_critical
    }

    /// Current at `at`: issued no later than `at`, and `at` not past a `nextUpdate` that must be
    /// present (notation-core-go: "CRL NextUpdate is not set" is an error).
    pub fn is_current(&self, at: i64) -> bool {
        self.this_update <= at && self.next_update.is_some_and(|n| at <= n)
    }

    /// Checks that `issuer` issued and signed this CRL (for callers holding a decoded
    /// certificate; see [`Crl::verify_issued_by_certificate`]).
    pub fn verify_issued_by(&self, issuer: &x509_cert::Certificate) -> Result<(), String> {
        let der = issuer.to_der().map_err(|e| e.to_string())?;
        let issuer = Certificate::from_der(&der).map_err(|e| e.to_string())?;
        self.verify_issued_by_certificate(&issuer)
    }

    /// Checks that `issuer` issued and signed this CRL: its subject is the CRL's issuer name
    /// (DER), it may sign CRLs ([`Role::CrlIssuer`]), and the CRL's signature verifies with its
    /// key.
    pub fn verify_issued_by_certificate(&self, issuer: &Certificate) -> Result<(), String> {
        if issuer.subject_der() != self.issuer_der.as_slice() {
            return Err("CRL issuer name differs from the certificate issuer".into());
        }
        rules::check(issuer, Role::CrlIssuer).map_err(|v| v.detail)?;
        let signed = Signed::split(&self.der).map_err(|e| e.to_string())?;
        crypto::verify_certificate_signature(issuer.spki_der(), signed.alg, signed.tbs, signed.sig)
            .map_err(|e| e.to_string())
    }

    fn issuer_der(&self) -> &[u8] {
        &self.issuer_der
    }

    /// The revoked entries, decoded one at a time from the DER. Parsing checked that each
    /// decodes; an error here is returned, never skipped.
    fn entries(&self) -> impl Iterator<Item = Result<RevokedCert, String>> + '_ {
        let entries = Signed::split(&self.der)
            .map_err(|e| e.to_string())
            .and_then(|s| LazyTbsCertList::from_der(s.tbs).map_err(|e| e.to_string()))
            .and_then(|t| Entries::of(t.revoked_certificates).map_err(|e| e.to_string()));
        let (entries, failed) = match entries {
            Ok(e) => (Some(e), None),
            Err(e) => (None, Some(Err(e))),
        };
        failed.into_iter().chain(
            entries
                .into_iter()
                .flatten()
                .map(|e| e.map_err(|e| e.to_string())),
        )
    }
}

/// Why `crl` cannot be a candidate for certificates issued by `issuer` at `at` (rule 2 of the
/// module docs), or `Ok` when it can.
fn candidate(crl: &Crl, issuer: &Certificate, at: i64) -> Result<(), String> {
    crl.verify_issued_by_certificate(issuer)
        .map_err(|e| format!("does not verify: {e}"))?;
    let Some(next) = crl.next_update else {
        return Err("has no nextUpdate (never current)".into());
    };
    if !crl.is_current(at) {
        return Err(format!(
            "is not current at the verification time {} (thisUpdate {}, nextUpdate {})",
            time::rfc3339(at),
            time::rfc3339(crl.this_update),
            time::rfc3339(next)
        ));
    }
    if let Some(oid) = crl.unknown_critical {
        return Err(format!("carries an unknown critical extension {oid}"));
    }
    if let Some(Err(e)) = &crl.idp {
        return Err(format!("has a malformed IssuingDistributionPoint: {e}"));
    }
    if let Some(Err(e)) = &crl.freshest {
        return Err(format!("has a malformed FreshestCRL: {e}"));
    }
    Ok(())
}

/// A CRL at hand, and the URI it was captured from when that capture is authenticated.
///
/// `captured_from` lets a CRL whose IssuingDistributionPoint names no distribution point cover
/// that one URI. Pass it only when the record of the capture is itself authenticated (a pinned
/// trust artifact, local trust material); a carrier-supplied URI must not be used.
#[derive(Clone, Debug)]
pub struct CrlInput {
    /// The CRL.
    pub crl: Crl,
    /// The URI it was fetched from, when authenticated.
    pub captured_from: Option<String>,
}

impl CrlInput {
    /// A CRL with no (authenticated) capture URI.
    pub fn new(crl: Crl) -> Self {
        CrlInput {
            crl,
            captured_from: None,
        }
    }

    /// A CRL captured from `uri`, the capture record being authenticated.
    pub fn captured(crl: Crl, uri: String) -> Self {
        CrlInput {
            crl,
            captured_from: Some(uri),
        }
    }
}

/// Revocation status of one certificate.
///
/// Serialized adjacently tagged: `{"status":"good"}`, `{"status":"nonRevokable"}`,
/// `{"status":"revoked","reason":"..."}`, `{"status":"unknown","reason":"..."}` (flattened into
/// [`CertStatus`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "camelCase")]
pub enum Status {
    /// Every distribution point is covered by a current CRL from the issuer, none lists it.
    Good,
    /// The root, or a certificate that names no revocation source.
    NonRevokable,
    /// Listed as revoked (or on hold).
    Revoked(String),
    /// Status cannot be established from the material at hand.
    Unknown(String),
}

/// One CRL that decided a certificate's status for one of its distribution points.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrlUse {
    /// The CRL issuer, RFC 4514.
    pub issuer: String,
    /// CRLNumber: decimal when it fits a `u128`, else `0x` and hex.
    pub number: Option<String>,
    /// The certificate's distribution-point URI this CRL was used for.
    pub scope: String,
    /// A delta CRL (applied over its base).
    pub delta: bool,
    /// `sha256:<hex>` of the CRL's DER.
    pub digest: String,
}

impl CrlUse {
    fn of(crl: &Crl, uri: &str) -> Self {
        CrlUse {
            issuer: crl.issuer(),
            number: crl.number_text(),
            scope: uri.to_string(),
            delta: crl.is_delta(),
            digest: crl.digest.clone(),
        }
    }
}

/// The revocation status of one certificate of a chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertStatus {
    /// The certificate's subject, RFC 4514.
    pub subject: String,
    /// Its status.
    #[serde(flatten)]
    pub status: Status,
    /// Every CRL that decided it (base and delta), per distribution-point URI.
    pub crls: Vec<CrlUse>,
}

/// The status of each certificate of a chain (leaf first) and the chain's overall result.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChainStatus {
    /// Per certificate, leaf first.
    pub certs: Vec<CertStatus>,
}

/// Overall result of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overall {
    /// No certificate is revoked and every status is known.
    Ok,
    /// At least one certificate is revoked (its subject and the reason).
    Revoked(String),
    /// No certificate is revoked, but at least one status is unknown.
    Unknown(String),
}

impl ChainStatus {
    /// Any revoked wins; otherwise any unknown; otherwise OK.
    pub fn overall(&self) -> Overall {
        for c in &self.certs {
            if let Status::Revoked(r) = &c.status {
                return Overall::Revoked(format!(
                    "certificate with subject {:?} is revoked: {r}",
                    c.subject
                ));
            }
        }
        for c in &self.certs {
            if let Status::Unknown(r) = &c.status {
                return Overall::Unknown(format!(
                    "certificate with subject {:?}: revocation status is unknown: {r}",
                    c.subject
                ));
            }
        }
        Overall::Ok
    }
}

/// Evaluates every certificate of `chain` (leaf first, root last) against `crls` at time `at`.
/// `authentic_signing_time` is given only for the signing-authority scheme, where it bounds
/// invalidity dates.
pub fn check_chain(
    chain: &[Certificate],
    crls: &[CrlInput],
    at: i64,
    authentic_signing_time: Option<i64>,
) -> ChainStatus {
    let mut certs = Vec::new();
    for (i, cert) in chain.iter().enumerate() {
        let subject = cert.subject_string();
        let (status, used) = match chain.get(i + 1) {
            None => (Status::NonRevokable, Vec::new()),
            Some(issuer) => evaluate::check_cert(cert, issuer, crls, at, authentic_signing_time),
        };
        certs.push(CertStatus {
            subject,
            status,
            crls: used,
        });
    }
    ChainStatus { certs }
}

#[cfg(test)]
mod tests;
