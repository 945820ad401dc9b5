//! Offline revocation: CRLs given on the command line or carried in the bundle, evaluated as the
//! Notary Project specification says (SPEC-NOTES §6.4, errata 9).
//!
//! * The root of a chain is never checked (`NonRevokable`).
//! * A certificate with neither CRL distribution points nor OCSP locations is `NonRevokable` (OK).
//! * A certificate with only OCSP locations is `Unknown` offline: there is no responder to ask, and
//!   unknown is never reported as good.
//! * A certificate with CRL distribution points needs a *current* base CRL from its issuer, signed by
//!   the issuer's key (the next certificate in the chain); `FreshestCRL` also demands a current delta
//!   CRL. Otherwise its status is `Unknown`.
//! * An entry for the serial means revoked, with the hold / removeFromCRL rules of RFC 5280 §5.3.1
//!   (a `removeFromCRL` entry in the delta un-revokes a held certificate), and the invalidity-date
//!   rule: when an authentic signing time is known (the signing-authority scheme) and it precedes the
//!   entry's `invalidityDate`, the certificate counts as not revoked.
//!
//! Time is always an input. Nothing here reaches for the network.

use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, BitStringRef};
use der::{Decode, Encode, Sequence};
use x509_cert::crl::{CertificateList, RevokedCert};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints, KeyUsage, KeyUsages};
use x509_cert::Certificate;

use super::crypto;

const ID_CE_CRL_DISTRIBUTION_POINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");
const ID_CE_FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");
const ID_CE_CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
const ID_CE_DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
const ID_CE_CRL_REASONS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
const ID_CE_INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
const ID_CE_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const ID_PE_AUTHORITY_INFO_ACCESS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
const ID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

/// RFC 5280 CRLReason `certificateHold`.
const REASON_HOLD: u8 = 6;
/// RFC 5280 CRLReason `removeFromCRL`.
const REASON_REMOVE: u8 = 8;

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

impl CrlError {
    /// Stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            CrlError::Malformed(_) => "crl_malformed",
            CrlError::TooLarge(_) => "crl_too_large",
        }
    }
}

/// A CRL as received: parsed, with its exact DER kept.
#[derive(Clone, Debug)]
pub struct Crl {
    der: Vec<u8>,
    list: CertificateList,
    tbs: Vec<u8>,
    alg: Vec<u8>,
    sig: Vec<u8>,
    issuer_der: Vec<u8>,
    this_update: i64,
    next_update: Option<i64>,
    number: Option<Vec<u8>>,
    delta_of: Option<Vec<u8>>,
}

/// The outer shape of any signed X.509 structure, keeping the exact TBS bytes.
#[derive(Sequence)]
struct RawSigned<'a> {
    tbs: AnyRef<'a>,
    alg: AnyRef<'a>,
    sig: BitStringRef<'a>,
}

fn unix(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Big-endian unsigned magnitude of a DER INTEGER's content, for comparing CRL numbers.
fn magnitude(bytes: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if v.is_empty() {
        v.push(0);
    }
    v
}

fn cmp_numbers(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let (a, b) = (magnitude(a), magnitude(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(&b))
}

impl Crl {
    /// Parses one DER CRL.
    pub fn from_der(der: &[u8]) -> Result<Self, CrlError> {
        if der.len() > MAX_CRL_BYTES {
            return Err(CrlError::TooLarge(der.len()));
        }
        let bad = |e: der::Error| CrlError::Malformed(e.to_string());
        let raw = RawSigned::from_der(der).map_err(bad)?;
        let tbs = raw.tbs.to_der().map_err(bad)?;
        let alg = raw.alg.to_der().map_err(bad)?;
        let sig = raw
            .sig
            .as_bytes()
            .ok_or_else(|| CrlError::Malformed("signature has unused bits".into()))?
            .to_vec();
        let list = CertificateList::from_der(der).map_err(bad)?;
        let issuer_der = list.tbs_cert_list.issuer.to_der().map_err(bad)?;
        let mut number = None;
        let mut delta_of = None;
        for ext in list.tbs_cert_list.crl_extensions.iter().flatten() {
            if ext.extn_id == ID_CE_CRL_NUMBER {
                let n = der::asn1::Int::from_der(ext.extn_value.as_bytes()).map_err(bad)?;
                number = Some(n.as_bytes().to_vec());
            } else if ext.extn_id == ID_CE_DELTA_CRL_INDICATOR {
                let n = der::asn1::Int::from_der(ext.extn_value.as_bytes()).map_err(bad)?;
                delta_of = Some(n.as_bytes().to_vec());
            }
        }
        Ok(Crl {
            this_update: unix(&list.tbs_cert_list.this_update),
            next_update: list.tbs_cert_list.next_update.as_ref().map(unix),
            der: der.to_vec(),
            list,
            tbs,
            alg,
            sig,
            issuer_der,
            number,
            delta_of,
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

    /// The issuer's distinguished name, RFC 4514 form.
    pub fn issuer(&self) -> String {
        self.list.tbs_cert_list.issuer.to_string()
    }

    /// `thisUpdate`, Unix seconds.
    pub fn this_update(&self) -> i64 {
        self.this_update
    }

    /// `nextUpdate`, Unix seconds, when present.
    pub fn next_update(&self) -> Option<i64> {
        self.next_update
    }

    /// True for a delta CRL.
    pub fn is_delta(&self) -> bool {
        self.delta_of.is_some()
    }

    /// Current at `at`: issued no later than `at` and not past `nextUpdate` (a CRL without
    /// `nextUpdate` does not expire, as in notation-core-go).
    pub fn is_current(&self, at: i64) -> bool {
        self.this_update <= at && self.next_update.is_none_or(|n| at <= n)
    }

    /// Checks that `issuer` (DER certificate) issued and signed this CRL.
    pub fn verify_issued_by(&self, issuer: &Certificate) -> Result<(), String> {
        let subject = issuer
            .tbs_certificate
            .subject
            .to_der()
            .map_err(|e| e.to_string())?;
        if subject != self.issuer_der {
            return Err("CRL issuer name differs from the certificate issuer".into());
        }
        if let Some(ku) = key_usage(issuer)? {
            if !ku.0.contains(KeyUsages::CRLSign) {
                return Err("issuer key usage lacks cRLSign".into());
            }
        }
        let spki = issuer
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| e.to_string())?;
        crypto::verify_certificate_signature(&spki, &self.alg, &self.tbs, &self.sig)
            .map_err(|e| e.to_string())
    }

    fn entry(&self, serial: &[u8]) -> Option<&RevokedCert> {
        self.list
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .find(|r| cmp_numbers(r.serial_number.as_bytes(), serial).is_eq())
    }
}

fn key_usage(cert: &Certificate) -> Result<Option<KeyUsage>, String> {
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        if ext.extn_id == ID_CE_KEY_USAGE {
            return KeyUsage::from_der(ext.extn_value.as_bytes())
                .map(Some)
                .map_err(|e| e.to_string());
        }
    }
    Ok(None)
}

/// Revocation status of one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// A current CRL from the issuer does not list it.
    Good,
    /// The root, or a certificate that names no revocation source.
    NonRevokable,
    /// Listed as revoked.
    Revoked(String),
    /// Status cannot be established from the material at hand.
    Unknown(String),
}

/// The status of each certificate of a chain (leaf first) and the chain's overall result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainStatus {
    /// Per certificate: its subject and status.
    pub certs: Vec<(String, Status)>,
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
        if let Some((s, Status::Revoked(r))) = self
            .certs
            .iter()
            .find(|(_, st)| matches!(st, Status::Revoked(_)))
        {
            return Overall::Revoked(format!("certificate with subject {s:?} is revoked: {r}"));
        }
        if let Some((s, Status::Unknown(r))) = self
            .certs
            .iter()
            .find(|(_, st)| matches!(st, Status::Unknown(_)))
        {
            return Overall::Unknown(format!(
                "certificate with subject {s:?}: revocation status is unknown: {r}"
            ));
        }
        Overall::Ok
    }
}

struct Sources {
    crl: bool,
    freshest: bool,
    ocsp: bool,
}

fn sources(cert: &Certificate) -> Result<Sources, String> {
    let mut s = Sources {
        crl: false,
        freshest: false,
        ocsp: false,
    };
    for ext in cert.tbs_certificate.extensions.iter().flatten() {
        if ext.extn_id == ID_CE_CRL_DISTRIBUTION_POINTS {
            let dps = CrlDistributionPoints::from_der(ext.extn_value.as_bytes())
                .map_err(|e| e.to_string())?;
            s.crl = dps.0.iter().any(|dp| match &dp.distribution_point {
                Some(DistributionPointName::FullName(names)) => names
                    .iter()
                    .any(|n| matches!(n, GeneralName::UniformResourceIdentifier(_))),
                _ => false,
            });
        } else if ext.extn_id == ID_CE_FRESHEST_CRL {
            s.freshest = true;
        } else if ext.extn_id == ID_PE_AUTHORITY_INFO_ACCESS {
            let aia = AuthorityInfoAccessSyntax::from_der(ext.extn_value.as_bytes())
                .map_err(|e| e.to_string())?;
            s.ocsp = aia.0.iter().any(|a| a.access_method == ID_AD_OCSP);
        }
    }
    Ok(s)
}

fn reason(r: &RevokedCert) -> Option<u8> {
    r.crl_entry_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_CE_CRL_REASONS)
        .and_then(|e| der::asn1::AnyRef::from_der(e.extn_value.as_bytes()).ok())
        .and_then(|any| any.value().first().copied())
}

fn invalidity_date(r: &RevokedCert) -> Option<i64> {
    r.crl_entry_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_CE_INVALIDITY_DATE)
        .and_then(|e| der::asn1::GeneralizedTime::from_der(e.extn_value.as_bytes()).ok())
        .and_then(|t| i64::try_from(t.to_unix_duration().as_secs()).ok())
}

/// Picks the current CRL of `issuer` with the highest CRL number (then the latest `thisUpdate`)
/// among `crls`, base or delta as asked. Returns the first verification problem seen when none fits.
fn pick<'a>(
    crls: &'a [Crl],
    issuer: &Certificate,
    at: i64,
    delta: bool,
) -> Result<&'a Crl, String> {
    let mut best: Option<&Crl> = None;
    let mut why = if delta {
        "no delta CRL from the issuer"
    } else {
        "no CRL from the issuer"
    }
    .to_string();
    for c in crls.iter().filter(|c| c.is_delta() == delta) {
        let Ok(subject) = issuer.tbs_certificate.subject.to_der() else {
            continue;
        };
        if subject != c.issuer_der {
            continue;
        }
        if let Err(e) = c.verify_issued_by(issuer) {
            why = format!("CRL from the issuer does not verify: {e}");
            continue;
        }
        if !c.is_current(at) {
            why = format!(
                "CRL from the issuer is not current at the verification time (thisUpdate {}, nextUpdate {:?})",
                c.this_update, c.next_update
            );
            continue;
        }
        let better = match best {
            None => true,
            Some(b) => match (&c.number, &b.number) {
                (Some(x), Some(y)) => cmp_numbers(x, y).is_gt(),
                _ => c.this_update > b.this_update,
            },
        };
        if better {
            best = Some(c);
        }
    }
    best.ok_or(why)
}

fn check_one(
    cert: &Certificate,
    issuer: &Certificate,
    crls: &[Crl],
    at: i64,
    signing_time: Option<i64>,
) -> Status {
    let src = match sources(cert) {
        Ok(s) => s,
        Err(e) => return Status::Unknown(format!("malformed revocation extension: {e}")),
    };
    if !src.crl {
        return if src.ocsp {
            Status::Unknown("only OCSP is named, and no responder can be reached offline".into())
        } else {
            Status::NonRevokable
        };
    }
    let base = match pick(crls, issuer, at, false) {
        Ok(b) => b,
        Err(why) => return Status::Unknown(why),
    };
    let delta = if src.freshest {
        match pick(crls, issuer, at, true) {
            Ok(d) => {
                let base_no = base.number.as_deref().unwrap_or(&[]);
                let indicator = d.delta_of.as_deref().unwrap_or(&[]);
                let delta_no = d.number.as_deref().unwrap_or(&[]);
                if cmp_numbers(indicator, base_no).is_gt()
                    || !cmp_numbers(delta_no, base_no).is_gt()
                {
                    return Status::Unknown(
                        "delta CRL does not extend the base CRL at hand".into(),
                    );
                }
                Some(d)
            }
            Err(why) => {
                return Status::Unknown(format!(
                    "the certificate names a delta CRL (FreshestCRL): {why}"
                ))
            }
        }
    } else {
        None
    };
    let serial = cert.tbs_certificate.serial_number.as_bytes();
    // The latest entry wins: the delta's, else the base's (RFC 5280 §5.3.1).
    let entry = delta
        .and_then(|d| d.entry(serial))
        .or_else(|| base.entry(serial));
    let Some(entry) = entry else {
        return Status::Good;
    };
    let code = reason(entry);
    if code == Some(REASON_REMOVE) {
        return Status::Good;
    }
    if let (Some(signed), Some(invalid)) = (signing_time, invalidity_date(entry)) {
        if signed < invalid {
            return Status::Good;
        }
    }
    Status::Revoked(match code {
        Some(REASON_HOLD) => "on hold (certificateHold)".to_string(),
        Some(c) => format!("CRL reason code {c}"),
        None => "listed in the issuer's CRL".to_string(),
    })
}

/// Evaluates every certificate of `chain` (DER, leaf first, root last) against `crls` at time `at`.
/// `authentic_signing_time` is given only for the signing-authority scheme, where it bounds
/// invalidity dates.
pub fn check_chain(
    chain: &[Certificate],
    crls: &[Crl],
    at: i64,
    authentic_signing_time: Option<i64>,
) -> ChainStatus {
    let mut certs = Vec::new();
    for (i, cert) in chain.iter().enumerate() {
        let subject = cert.tbs_certificate.subject.to_string();
        let status = match chain.get(i + 1) {
            None => Status::NonRevokable,
            Some(issuer) => check_one(cert, issuer, crls, at, authentic_signing_time),
        };
        certs.push((subject, status));
    }
    ChainStatus { certs }
}

#[cfg(test)]
mod tests;
