//! A test-only CRL builder for what rcgen cannot express: no `nextUpdate`, DeltaCRLIndicator,
//! FreshestCRL in a CRL, an IssuingDistributionPoint without a distribution point name,
//! `onlySomeReasons`, `indirectCRL`, arbitrary (critical) CRL and entry extensions. The
//! TBSCertList is encoded with x509-cert and signed with aws-lc-rs (ECDSA P-256, SHA-256) under
//! the issuer's own key. Times are days from [`T0`] (the pinned verification time of the PKI kit,
//! [`super::pki::AT`]); the caller parses [`CrlSpec::der`] with its own CRL reader.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, GeneralizedTime, Ia5String, OctetString, UtcTime};
use der::Encode;
use spki::AlgorithmIdentifierOwned;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::dp::{DistributionPoint, IssuingDistributionPoint, ReasonFlags};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

/// 2026-01-01T00:00:00Z, the instant CRL times are counted from.
pub const T0: i64 = 1_767_225_600;
/// One day in seconds.
pub const DAY: i64 = 86_400;

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
pub const OID_CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
pub const OID_DELTA: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
pub const OID_IDP: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.28");
pub const OID_FRESHEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");
pub const OID_REASON: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
pub const OID_INVALIDITY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
pub const OID_CERT_ISSUER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.29");
/// Some private OID no verifier knows.
pub const OID_UNKNOWN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1");

pub const HOLD: u8 = 6;
pub const REMOVE: u8 = 8;
pub const KEY_COMPROMISE: u8 = 1;

fn time(days: i64) -> Time {
    let secs = u64::try_from(T0 + days * DAY).unwrap();
    Time::UtcTime(UtcTime::from_unix_duration(std::time::Duration::from_secs(secs)).unwrap())
}

fn ext(oid: ObjectIdentifier, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value).unwrap(),
    }
}

fn int(n: u64) -> Vec<u8> {
    der::asn1::Uint::new(&n.to_be_bytes())
        .unwrap()
        .to_der()
        .unwrap()
}

/// A fullName made of URIs.
pub fn uris(list: &[&str]) -> DistributionPointName {
    DistributionPointName::FullName(
        list.iter()
            .map(|u| GeneralName::UniformResourceIdentifier(Ia5String::new(u).unwrap()))
            .collect(),
    )
}

/// An IssuingDistributionPoint naming `list` (or no name when empty), all flags off.
pub fn idp(list: &[&str]) -> IssuingDistributionPoint {
    IssuingDistributionPoint {
        distribution_point: (!list.is_empty()).then(|| uris(list)),
        only_contains_user_certs: false,
        only_contains_ca_certs: false,
        only_some_reasons: None,
        indirect_crl: false,
        only_contains_attribute_certs: false,
    }
}

/// DER of a CRLDistributionPoints / FreshestCRL value with one distribution point per URI.
pub fn dps_der(list: &[&str]) -> Vec<u8> {
    let dps: Vec<DistributionPoint> = list
        .iter()
        .map(|u| DistributionPoint {
            distribution_point: Some(uris(&[u])),
            reasons: None,
            crl_issuer: None,
        })
        .collect();
    dps.to_der().unwrap()
}

/// DER of a CRLDistributionPoints value with one distribution point naming `uri` and carrying
/// `reasons` and/or a `cRLIssuer`, then plain ones naming `plain`.
pub fn odd_dp_der(
    uri: &str,
    reasons: Option<ReasonFlags>,
    crl_issuer: Option<Name>,
    plain: &[&str],
) -> Vec<u8> {
    let mut dps = vec![DistributionPoint {
        distribution_point: Some(uris(&[uri])),
        reasons,
        crl_issuer: crl_issuer.map(|n| vec![GeneralName::DirectoryName(n)]),
    }];
    dps.extend(plain.iter().map(|u| DistributionPoint {
        distribution_point: Some(uris(&[u])),
        reasons: None,
        crl_issuer: None,
    }));
    dps.to_der().unwrap()
}

/// One revoked entry.
#[derive(Clone)]
pub struct Entry {
    serial: u64,
    exts: Vec<Extension>,
}

impl Entry {
    pub fn new(serial: u64) -> Self {
        Entry {
            serial,
            exts: Vec::new(),
        }
    }

    /// reasonCode (ENUMERATED).
    pub fn reason(mut self, code: u8) -> Self {
        self.exts
            .push(ext(OID_REASON, false, vec![0x0a, 0x01, code]));
        self
    }

    /// invalidityDate, days from T0.
    pub fn invalidity(mut self, days: i64) -> Self {
        let secs = u64::try_from(T0 + days * DAY).unwrap();
        let t = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs)).unwrap();
        self.exts
            .push(ext(OID_INVALIDITY, false, t.to_der().unwrap()));
        self
    }

    /// Any extension.
    pub fn ext(mut self, oid: ObjectIdentifier, critical: bool, value: Vec<u8>) -> Self {
        self.exts.push(ext(oid, critical, value));
        self
    }

    fn build(self) -> RevokedCert {
        RevokedCert {
            serial_number: SerialNumber::new(&self.serial.to_be_bytes()).unwrap(),
            revocation_date: time(-3),
            crl_entry_extensions: (!self.exts.is_empty()).then_some(self.exts),
        }
    }
}

/// A CRL to mint. Defaults: number 1, thisUpdate T0-2d, nextUpdate T0+5d, no IDP, no entries.
pub struct CrlSpec {
    issuer: Name,
    key_pkcs8: Vec<u8>,
    this_update: i64,
    next_update: Option<i64>,
    number: Option<u64>,
    delta_of: Option<u64>,
    idp: Option<(IssuingDistributionPoint, bool)>,
    freshest: Vec<String>,
    exts: Vec<Extension>,
    entries: Vec<Entry>,
}

impl CrlSpec {
    pub fn new(issuer: Name, key_pkcs8: Vec<u8>) -> Self {
        CrlSpec {
            issuer,
            key_pkcs8,
            this_update: -2,
            next_update: Some(5),
            number: Some(1),
            delta_of: None,
            idp: None,
            freshest: Vec::new(),
            exts: Vec::new(),
            entries: Vec::new(),
        }
    }

    pub fn number(mut self, n: u64) -> Self {
        self.number = Some(n);
        self
    }

    pub fn no_number(mut self) -> Self {
        self.number = None;
        self
    }

    /// thisUpdate and nextUpdate, days from T0 (`None`: no nextUpdate).
    pub fn window(mut self, this: i64, next: Option<i64>) -> Self {
        self.this_update = this;
        self.next_update = next;
        self
    }

    /// Makes it a delta CRL of base number `base`.
    pub fn delta_of(mut self, base: u64) -> Self {
        self.delta_of = Some(base);
        self
    }

    /// IssuingDistributionPoint (critical).
    pub fn idp(mut self, idp: IssuingDistributionPoint) -> Self {
        self.idp = Some((idp, true));
        self
    }

    /// IssuingDistributionPoint with the given criticality.
    pub fn idp_critical(mut self, idp: IssuingDistributionPoint, critical: bool) -> Self {
        self.idp = Some((idp, critical));
        self
    }

    /// FreshestCRL naming these URIs.
    pub fn freshest(mut self, list: &[&str]) -> Self {
        self.freshest = list.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Any CRL extension.
    pub fn ext(mut self, oid: ObjectIdentifier, critical: bool, value: Vec<u8>) -> Self {
        self.exts.push(ext(oid, critical, value));
        self
    }

    pub fn entry(mut self, e: Entry) -> Self {
        self.entries.push(e);
        self
    }

    pub fn der(self) -> Vec<u8> {
        let alg = AlgorithmIdentifierOwned {
            oid: ECDSA_WITH_SHA256,
            parameters: None,
        };
        let mut exts = Vec::new();
        if let Some(n) = self.number {
            exts.push(ext(OID_CRL_NUMBER, false, int(n)));
        }
        if let Some(b) = self.delta_of {
            exts.push(ext(OID_DELTA, true, int(b)));
        }
        if let Some((idp, critical)) = self.idp {
            exts.push(ext(OID_IDP, critical, idp.to_der().unwrap()));
        }
        if !self.freshest.is_empty() {
            let list: Vec<&str> = self.freshest.iter().map(String::as_str).collect();
            exts.push(ext(OID_FRESHEST, false, dps_der(&list)));
        }
        exts.extend(self.exts);
        let tbs = TbsCertList {
            version: x509_cert::Version::V2,
            signature: alg.clone(),
            issuer: self.issuer,
            this_update: time(self.this_update),
            next_update: self.next_update.map(time),
            revoked_certificates: (!self.entries.is_empty())
                .then(|| self.entries.into_iter().map(Entry::build).collect()),
            crl_extensions: (!exts.is_empty()).then_some(exts),
        };
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &self.key_pkcs8).unwrap();
        let sig = key
            .sign(&SystemRandom::new(), &tbs.to_der().unwrap())
            .unwrap();
        CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: alg,
            signature: BitString::from_bytes(sig.as_ref()).unwrap(),
        }
        .to_der()
        .unwrap()
    }
}
