//! The one certificate view: a parsed certificate over the exact DER received.
//!
//! [`Certificate::from_der`] decodes the certificate once (x509-cert), slices the parts that are
//! signed or compared byte for byte (TBS, issuer and subject names, SPKI, serial) out of the
//! received DER without re-encoding, converts the validity period with [`crate::notary::time`],
//! and decodes the extensions every Notary rule reads. An extension that does not decode does not
//! fail parsing: the accessor returns the [`ExtensionError`], and the rule that reads it decides
//! (the signing chain fails open on every extension but basicConstraints, keyUsage and
//! extKeyUsage; revocation turns a malformed distribution point into `unknown`). When an extension
//! appears twice, the first occurrence is the one decoded and [`Certificate::duplicate_extension`]
//! names it (every rule set refuses such a certificate).

use std::ops::Range;

use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;
use der::asn1::{IntRef, OctetStringRef};
use der::{Decode, Reader, SliceReader, Tagged};
use x509_cert::certificate::Version;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage,
};

use crate::notary::crypto::{self, CryptoError, PublicKeyKind};
use crate::notary::time;

/// Extensions Go's crypto/x509 handles (and so does not report as `UnhandledCriticalExtension`).
/// Name constraints are handled by refusing them on paths that must not fail open.
const GO_HANDLED_EXTENSIONS: &[ObjectIdentifier] = &[
    rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER,
    rfc5912::ID_CE_KEY_USAGE,
    rfc5912::ID_CE_SUBJECT_ALT_NAME,
    rfc5912::ID_CE_BASIC_CONSTRAINTS,
    rfc5912::ID_CE_CRL_DISTRIBUTION_POINTS,
    rfc5912::ID_CE_CERTIFICATE_POLICIES,
    rfc5912::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    rfc5912::ID_CE_EXT_KEY_USAGE,
    rfc5912::ID_PE_AUTHORITY_INFO_ACCESS,
];

/// A Name in RFC 4514 form (RDNs last first, as x509-cert prints them), with every attribute
/// value that is a string Go reads written as that string: x509-cert writes a TeletexString, a
/// BMPString or a PrintableString holding `&` or `*` as `OID=#hex` (red team O, O08: a signer
/// `CN=Signatur é` reached the report as `2.5.4.3=#140a...`, which no one can copy into a
/// trusted identity).
fn readable_name(name: &x509_cert::name::Name) -> String {
    use x509_cert::attr::AttributeTypeAndValue;
    let atav_string = |atav: &AttributeTypeAndValue| {
        let plain = atav.to_string();
        let hex = plain
            .split_once('=')
            .is_some_and(|(_, value)| value.starts_with('#'));
        if !hex {
            return plain;
        }
        let Ok(text) = super::super::dn::go_name_string(&atav.value) else {
            return plain;
        };
        der::asn1::Utf8StringRef::new(&text)
            .ok()
            .and_then(|u| der::Any::encode_from(&u).ok())
            .map_or(plain, |value| {
                AttributeTypeAndValue {
                    oid: atav.oid,
                    value,
                }
                .to_string()
            })
    };
    name.0
        .iter()
        .rev()
        .map(|rdn| rdn.0.iter().map(atav_string).collect::<Vec<_>>().join("+"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Why Go's parser would refuse a certificate's subjectAltName (`parseSANExtension`), if it
/// would: an extension that is not a SEQUENCE of tagged names, an iPAddress of another length
/// than 4 or 16 octets, or a dNSName, rfc822Name or URI outside IA5. Go reads those four name
/// types only and skips the others (an x400Address, an otherName) unread, and so does this (red
/// team P, P04: decoding every name refused an x400Address Go ignores).
fn subject_alt_name_problem(cert: &x509_cert::Certificate) -> Option<String> {
    let ext = cert
        .tbs_certificate
        .extensions
        .as_deref()?
        .iter()
        .find(|e| e.extn_id == rfc5912::ID_CE_SUBJECT_ALT_NAME)?;
    let malformed = |e: &dyn std::fmt::Display| Some(format!("malformed subjectAltName: {e}"));
    let seq = match der::asn1::AnyRef::from_der(ext.extn_value.as_bytes()) {
        Ok(a) if a.tag() == der::Tag::Sequence => a,
        Ok(a) => return malformed(&format!("a {} where a SEQUENCE belongs", a.tag())),
        Err(e) => return malformed(&e),
    };
    let mut reader = match SliceReader::new(seq.value()) {
        Ok(r) => r,
        Err(e) => return malformed(&e),
    };
    while !reader.is_finished() {
        let name = match der::asn1::AnyRef::decode(&mut reader) {
            Ok(n) => n,
            Err(e) => return malformed(&e),
        };
        let number = match name.tag() {
            der::Tag::ContextSpecific { number, .. } => number.value(),
            other => return malformed(&format!("a {other} among the names")),
        };
        let bytes = name.value();
        match number {
            1 | 2 | 6 if !bytes.is_ascii() => {
                return Some("subjectAltName: a name outside IA5".into());
            }
            7 if ![4, 16].contains(&bytes.len()) => {
                return Some(format!(
                    "subjectAltName: an IP address of {} octets",
                    bytes.len()
                ));
            }
            _ => {}
        }
    }
    None
}

/// Go reads an OBJECT IDENTIFIER's arcs as 31-bit integers (`cryptobyte`'s
/// `ReadASN1ObjectIdentifier`): a certificate or token holding an arc of 2^31 or more is one
/// notation cannot parse. Walks every constructed value of `der` (not into OCTET STRINGs) and
/// names the first such OID (red team P, P03).
pub(crate) fn oid_beyond_go(der: &[u8]) -> Option<String> {
    fn walk(bytes: &[u8], depth: usize) -> Option<String> {
        if depth > 64 {
            return None;
        }
        let mut reader = SliceReader::new(bytes).ok()?;
        while !reader.is_finished() {
            let v = der::asn1::AnyRef::decode(&mut reader).ok()?;
            if v.tag() == der::Tag::ObjectIdentifier {
                let mut arc: u64 = 0;
                for &b in v.value() {
                    arc = (arc << 7) | u64::from(b & 0x7f);
                    if arc >= 1 << 31 {
                        return Some(format!(
                            "an object identifier with an arc of 2^31 or more ({})",
                            v.value()
                                .iter()
                                .map(|b| format!("{b:02x}"))
                                .collect::<String>()
                        ));
                    }
                    if b & 0x80 == 0 {
                        arc = 0;
                    }
                }
            } else if v.tag().is_constructed() {
                if let Some(why) = walk(v.value(), depth + 1) {
                    return Some(why);
                }
            }
        }
        None
    }
    walk(der, 0)
}

/// Why bytes are not a certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

/// An extension that is present but cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {name}: {detail}")]
#[non_exhaustive]
pub struct ExtensionError {
    /// The extension's name (`basicConstraints`, `keyUsage`, ...).
    pub name: &'static str,
    /// The decoder's message.
    pub detail: String,
}

/// A decoded extension: absent, decoded, or present but malformed.
type Ext<T> = Option<Result<T, ExtensionError>>;

fn view<T>(ext: &Ext<T>) -> Result<Option<&T>, &ExtensionError> {
    match ext {
        None => Ok(None),
        Some(Ok(v)) => Ok(Some(v)),
        Some(Err(e)) => Err(e),
    }
}

/// Decoded basicConstraints extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicConstraintsInfo {
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// The `cA` flag.
    pub ca: bool,
    /// `pathLenConstraint`, if present.
    pub path_len: Option<u8>,
}

/// Decoded keyUsage extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUsageInfo {
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// The usage bits.
    pub usage: KeyUsage,
}

/// Decoded extKeyUsage extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtKeyUsageInfo {
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// The purposes, in order.
    pub purposes: Vec<ObjectIdentifier>,
}

/// Byte ranges of one certificate's DER, sliced without re-encoding.
#[derive(Debug, Clone)]
struct Parts {
    tbs: Range<usize>,
    outer_alg: Range<usize>,
    inner_alg: Range<usize>,
    serial: Range<usize>,
    issuer: Range<usize>,
    subject: Range<usize>,
    spki: Range<usize>,
}

fn range_of(base: &[u8], part: &[u8]) -> Option<Range<usize>> {
    let start = part.as_ptr().addr().checked_sub(base.as_ptr().addr())?;
    let end = start.checked_add(part.len())?;
    (end <= base.len()).then_some(start..end)
}

fn split(der: &[u8]) -> der::Result<Option<Parts>> {
    let mut reader = SliceReader::new(der)?;
    let parts = reader.sequence(|r| {
        let tbs = r.tlv_bytes()?;
        let outer_alg = r.tlv_bytes()?;
        let _signature = r.tlv_bytes()?;
        let mut t = SliceReader::new(tbs)?;
        let inner = t.sequence(|t| {
            if t.peek_byte() == Some(0xA0) {
                let _version = t.tlv_bytes()?;
            }
            let serial = t.tlv_bytes()?;
            let inner_alg = t.tlv_bytes()?;
            let issuer = t.tlv_bytes()?;
            let _validity = t.tlv_bytes()?;
            let subject = t.tlv_bytes()?;
            let spki = t.tlv_bytes()?;
            // Skip the optional unique IDs and extensions.
            while !t.is_finished() {
                let _rest = t.tlv_bytes()?;
            }
            Ok((serial, inner_alg, issuer, subject, spki))
        })?;
        t.finish(())?;
        Ok((tbs, outer_alg, inner))
    })?;
    let (tbs, outer_alg, (serial, inner_alg, issuer, subject, spki)) = reader.finish(parts)?;
    Ok((|| {
        Some(Parts {
            tbs: range_of(der, tbs)?,
            outer_alg: range_of(der, outer_alg)?,
            inner_alg: range_of(der, inner_alg)?,
            serial: range_of(der, serial)?,
            issuer: range_of(der, issuer)?,
            subject: range_of(der, subject)?,
            spki: range_of(der, spki)?,
        })
    })())
}

/// Splits the first DER certificate off `data`: `(its bytes, the rest)`. For files holding
/// concatenated DER certificates (notation-core-go `parseCertificates`).
pub fn split_first_der(data: &[u8]) -> Result<(&[u8], &[u8]), ParseError> {
    let mut reader = SliceReader::new(data).map_err(|e| ParseError(e.to_string()))?;
    x509_cert::Certificate::decode(&mut reader).map_err(|e| ParseError(e.to_string()))?;
    let used = usize::try_from(reader.position()).map_err(|e| ParseError(e.to_string()))?;
    data.split_at_checked(used)
        .ok_or_else(|| ParseError("DER length out of range".to_owned()))
}

/// The extensions the Notary rules read, each decoded once.
#[derive(Debug, Clone, Default)]
struct Extensions {
    duplicate: Option<ObjectIdentifier>,
    basic_constraints: Ext<BasicConstraintsInfo>,
    key_usage: Ext<KeyUsageInfo>,
    ext_key_usage: Ext<ExtKeyUsageInfo>,
    subject_key_id: Ext<Vec<u8>>,
    authority_key_id: Ext<Option<Vec<u8>>>,
    crl_distribution_points: Ext<CrlDistributionPoints>,
    freshest_crl: Ext<CrlDistributionPoints>,
    ocsp: Ext<bool>,
    name_constraints: bool,
    unhandled_critical: Option<ObjectIdentifier>,
}

fn decode<'a, T: Decode<'a>, U>(
    name: &'static str,
    value: &'a [u8],
    f: impl FnOnce(T) -> U,
) -> Result<U, ExtensionError> {
    T::from_der(value).map(f).map_err(|e| ExtensionError {
        name,
        detail: e.to_string(),
    })
}

impl Extensions {
    fn read(exts: &[x509_cert::ext::Extension]) -> Self {
        let mut x = Self::default();
        let mut seen: Vec<ObjectIdentifier> = Vec::new();
        for ext in exts {
            let id = ext.extn_id;
            if seen.contains(&id) {
                x.duplicate.get_or_insert(id);
                continue;
            }
            seen.push(id);
            if ext.critical
                && !GO_HANDLED_EXTENSIONS.contains(&id)
                && id != rfc5912::ID_CE_NAME_CONSTRAINTS
            {
                x.unhandled_critical.get_or_insert(id);
            }
            let v = ext.extn_value.as_bytes();
            let critical = ext.critical;
            if id == rfc5912::ID_CE_BASIC_CONSTRAINTS {
                x.basic_constraints =
                    Some(decode("basicConstraints", v, |bc: BasicConstraints| {
                        BasicConstraintsInfo {
                            critical,
                            ca: bc.ca,
                            path_len: bc.path_len_constraint,
                        }
                    }));
            } else if id == rfc5912::ID_CE_KEY_USAGE {
                x.key_usage = Some(decode("keyUsage", v, |usage: KeyUsage| KeyUsageInfo {
                    critical,
                    usage,
                }));
            } else if id == rfc5912::ID_CE_EXT_KEY_USAGE {
                x.ext_key_usage = Some(decode("extKeyUsage", v, |e: ExtendedKeyUsage| {
                    ExtKeyUsageInfo {
                        critical,
                        purposes: e.0,
                    }
                }));
            } else if id == rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER {
                x.subject_key_id = Some(decode(
                    "subjectKeyIdentifier",
                    v,
                    |o: OctetStringRef<'_>| o.as_bytes().to_vec(),
                ));
            } else if id == rfc5912::ID_CE_AUTHORITY_KEY_IDENTIFIER {
                x.authority_key_id = Some(decode(
                    "authorityKeyIdentifier",
                    v,
                    |a: AuthorityKeyIdentifier| a.key_identifier.map(|k| k.as_bytes().to_vec()),
                ));
            } else if id == rfc5912::ID_CE_CRL_DISTRIBUTION_POINTS {
                x.crl_distribution_points = Some(decode("CRLDistributionPoints", v, |d| d));
            } else if id == rfc5912::ID_CE_FRESHEST_CRL {
                x.freshest_crl = Some(decode("FreshestCRL", v, |d| d));
            } else if id == rfc5912::ID_PE_AUTHORITY_INFO_ACCESS {
                x.ocsp = Some(decode(
                    "AuthorityInfoAccess",
                    v,
                    |a: AuthorityInfoAccessSyntax| {
                        a.0.iter().any(|d| d.access_method == rfc5912::ID_AD_OCSP)
                    },
                ));
            } else if id == rfc5912::ID_CE_NAME_CONSTRAINTS {
                x.name_constraints = true;
            }
        }
        x
    }
}

/// A parsed certificate: the DER exactly as received, the decoded form, and every extension the
/// Notary rules read. Equality is DER equality.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parts: Parts,
    decoded: x509_cert::Certificate,
    serial: Vec<u8>,
    signature: Vec<u8>,
    not_before: i64,
    not_after: i64,
    key: Result<PublicKeyKind, CryptoError>,
    ext: Extensions,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses one DER certificate (no trailing bytes). Fails only when the bytes are not an
    /// X.509 certificate, or one Go's `crypto/x509` cannot parse (a Name attribute that is not a
    /// string it reads, [`super::super::dn::go_name_string`]); every rule is left to
    /// [`super::rules`].
    pub fn from_der(der: &[u8]) -> Result<Self, ParseError> {
        let malformed = |e: &dyn std::fmt::Display| ParseError(e.to_string());
        let decoded = x509_cert::Certificate::from_der(der).map_err(|e| malformed(&e))?;
        // Go's parser (and so notation) refuses a certificate one of whose Name attributes is not
        // a string it reads (red team N, N01: such a certificate passed everywhere but the
        // identity match, which `audit` only logs).
        let tbs = &decoded.tbs_certificate;
        for (which, name) in [("issuer", &tbs.issuer), ("subject", &tbs.subject)] {
            for atav in name.0.iter().flat_map(|rdn| rdn.0.iter()) {
                super::super::dn::go_name_string(&atav.value).map_err(|e| {
                    malformed(&format!(
                        "{which} attribute {}: {e} (notation cannot parse such a certificate)",
                        atav.oid
                    ))
                })?;
            }
        }
        let parts = split(der)
            .map_err(|e| malformed(&e))?
            .ok_or_else(|| malformed(&"cannot locate certificate parts"))?;
        // Go's parser refuses a subjectAltName it cannot read, and so the certificate (red team
        // M, M09, on a TSA chain; red team O, O07, as a signer or a trust-store root).
        if let Some(why) = subject_alt_name_problem(&decoded).or_else(|| oid_beyond_go(der)) {
            return Err(malformed(&why));
        }
        let signature = decoded
            .signature
            .as_bytes()
            .ok_or_else(|| malformed(&"signature bit string has unused bits"))?
            .to_vec();
        let validity = &decoded.tbs_certificate.validity;
        let not_before = time::from_asn1(&validity.not_before)
            .ok_or_else(|| malformed(&"notBefore out of range"))?;
        let not_after = time::from_asn1(&validity.not_after)
            .ok_or_else(|| malformed(&"notAfter out of range"))?;
        let serial = der
            .get(parts.serial.clone())
            .map(IntRef::from_der)
            .ok_or_else(|| malformed(&"serial number out of range"))?
            .map_err(|e| malformed(&e))?
            .as_bytes()
            .to_vec();
        // RFC 5280 4.1.2.2: a positive integer. Go's parser (and so notation) refuses a negative
        // one (red team M, M09).
        if serial.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(malformed(&"negative serial number"));
        }
        let key = der
            .get(parts.spki.clone())
            .map(crypto::analyze_public_key)
            .unwrap_or_else(|| Err(CryptoError::MalformedKey("missing SPKI".into())));
        let ext = Extensions::read(
            decoded
                .tbs_certificate
                .extensions
                .as_deref()
                .unwrap_or_default(),
        );
        Ok(Self {
            der: der.to_vec(),
            parts,
            decoded,
            serial,
            signature,
            not_before,
            not_after,
            key,
            ext,
        })
    }

    fn slice(&self, r: &Range<usize>) -> &[u8] {
        self.der.get(r.clone()).unwrap_or(&[])
    }

    /// The certificate DER exactly as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The decoded certificate.
    pub fn decoded(&self) -> &x509_cert::Certificate {
        &self.decoded
    }

    /// Raw DER of the `tbsCertificate` (the signed bytes).
    pub fn tbs_der(&self) -> &[u8] {
        self.slice(&self.parts.tbs)
    }

    /// Raw DER of the subject Name.
    pub fn subject_der(&self) -> &[u8] {
        self.slice(&self.parts.subject)
    }

    /// Raw DER of the issuer Name.
    pub fn issuer_der(&self) -> &[u8] {
        self.slice(&self.parts.issuer)
    }

    /// Raw DER of the SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        self.slice(&self.parts.spki)
    }

    /// Raw DER of the outer `signatureAlgorithm`.
    pub fn signature_algorithm_der(&self) -> &[u8] {
        self.slice(&self.parts.outer_alg)
    }

    /// Whether `tbsCertificate.signature` equals `signatureAlgorithm` (RFC 5280 §4.1.1.2), byte
    /// for byte.
    pub fn algorithm_identifiers_match(&self) -> bool {
        self.slice(&self.parts.inner_alg) == self.slice(&self.parts.outer_alg)
    }

    /// The serial number: the content octets of its DER INTEGER.
    pub fn serial(&self) -> &[u8] {
        &self.serial
    }

    /// The certificate's version.
    pub fn version(&self) -> Version {
        self.decoded.tbs_certificate.version
    }

    /// Subject name in RFC 4514 string form (for messages and identity matching).
    pub fn subject_string(&self) -> String {
        readable_name(&self.decoded.tbs_certificate.subject)
    }

    /// Issuer name in RFC 4514 string form.
    pub fn issuer_string(&self) -> String {
        readable_name(&self.decoded.tbs_certificate.issuer)
    }

    /// `notBefore` in Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// `notAfter` in Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// The public key kind, or why it is unusable.
    pub fn public_key(&self) -> Result<PublicKeyKind, CryptoError> {
        self.key.clone()
    }

    /// The first extension that appears more than once, if any.
    pub fn duplicate_extension(&self) -> Option<ObjectIdentifier> {
        self.ext.duplicate
    }

    /// basicConstraints: `Ok(None)` when absent.
    pub fn basic_constraints(&self) -> Result<Option<BasicConstraintsInfo>, &ExtensionError> {
        view(&self.ext.basic_constraints).map(Option::<&_>::copied)
    }

    /// Whether basicConstraints is present, decodes and says `cA = true`.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints()
            .ok()
            .flatten()
            .is_some_and(|bc| bc.ca)
    }

    /// keyUsage: `Ok(None)` when absent.
    pub fn key_usage(&self) -> Result<Option<KeyUsageInfo>, &ExtensionError> {
        view(&self.ext.key_usage).map(Option::<&_>::copied)
    }

    /// extKeyUsage: `Ok(None)` when absent.
    pub fn ext_key_usage(&self) -> Result<Option<&ExtKeyUsageInfo>, &ExtensionError> {
        view(&self.ext.ext_key_usage)
    }

    /// subjectKeyIdentifier: `Ok(None)` when absent.
    pub fn subject_key_identifier(&self) -> Result<Option<&[u8]>, &ExtensionError> {
        view(&self.ext.subject_key_id).map(|o| o.map(Vec::as_slice))
    }

    /// The keyIdentifier of authorityKeyIdentifier: `Ok(None)` when the extension or the field is
    /// absent.
    pub fn authority_key_identifier(&self) -> Result<Option<&[u8]>, &ExtensionError> {
        view(&self.ext.authority_key_id).map(|o| o.and_then(|k| k.as_deref()))
    }

    /// CRLDistributionPoints: `Ok(None)` when absent.
    pub fn crl_distribution_points(
        &self,
    ) -> Result<Option<&CrlDistributionPoints>, &ExtensionError> {
        view(&self.ext.crl_distribution_points)
    }

    /// FreshestCRL (where delta CRLs are published): `Ok(None)` when absent.
    pub fn freshest_crl(&self) -> Result<Option<&CrlDistributionPoints>, &ExtensionError> {
        view(&self.ext.freshest_crl)
    }

    /// Whether the certificate has a FreshestCRL extension, well-formed or not.
    pub fn has_freshest_crl(&self) -> bool {
        self.ext.freshest_crl.is_some()
    }

    /// Whether AuthorityInfoAccess names an OCSP responder: `Ok(false)` when AIA is absent.
    pub fn names_ocsp(&self) -> Result<bool, &ExtensionError> {
        view(&self.ext.ocsp).map(|o| o.copied().unwrap_or(false))
    }

    /// Whether the certificate carries name constraints.
    pub fn has_name_constraints(&self) -> bool {
        self.ext.name_constraints
    }

    /// The first critical extension Go's crypto/x509 does not handle (name constraints aside).
    pub fn unhandled_critical_extension(&self) -> Option<ObjectIdentifier> {
        self.ext.unhandled_critical
    }

    /// Verifies this certificate's signature with `issuer`'s key (signature algorithm checks
    /// included: SHA-1 and MD5 are refused, erratum 4). Names are not compared.
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), CryptoError> {
        crypto::verify_certificate_signature(
            issuer.spki_der(),
            self.signature_algorithm_der(),
            self.tbs_der(),
            &self.signature,
        )
    }

    /// Subject and issuer names are byte-equal.
    pub fn is_self_issued(&self) -> bool {
        self.subject_der() == self.issuer_der()
    }

    /// Go's `isIssuedBy(issuer)`: the issuer names chain *and* the signature verifies with
    /// `issuer`'s key.
    pub fn is_issued_by(&self, issuer: &Certificate) -> bool {
        issuer.subject_der() == self.issuer_der() && self.verify_signed_by(issuer).is_ok()
    }

    /// notation's "self-signed": subject equals issuer and the signature verifies under the
    /// certificate's own key.
    pub fn is_self_signed(&self) -> bool {
        self.is_issued_by(self)
    }
}
