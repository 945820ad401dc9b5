//! The parsed token: `ContentInfo` -> `SignedData` -> `TSTInfo`, the certificate bag as X.509
//! views, the SignerInfos, and the ESS signing certificate (RFC 5035, tspclient-go
//! `SignedToken.SigningCertificate`). No trust decision is made here.

use der::asn1::{IntRef, OctetStringRef};
use der::{Decode, Header, Reader, Sequence, SliceReader, Tag};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};

use super::cms::{
    integer_hex, parse_signer_info, split_tlvs, AttrProblem, ContentInfoRaw, RawSeq, SignedDataRaw,
    SignerEntry, SplitError,
};
use super::tstinfo::TstInfoRaw;
use super::{
    malformed, Limits, TimestampError, ID_AA_SIGNING_CERTIFICATE, ID_AA_SIGNING_CERTIFICATE_V2,
    ID_CT_TSTINFO, ID_SHA256, ID_SHA384, ID_SHA512, ID_SIGNED_DATA,
};
use crate::notary::crypto::cms as tsa_crypto;
use crate::notary::time::{self, Instant};
use crate::notary::x509::Certificate;

/// SigningCertificateV2 (RFC 5035 §3).
#[derive(Sequence)]
pub(super) struct SigningCertificateV2Raw<'a> {
    pub(super) certs: RawSeq<'a>,
    #[asn1(optional = "true")]
    pub(super) policies: Option<RawSeq<'a>>,
}

/// ESSCertIDv2 (RFC 5035 §4); hashAlgorithm DEFAULT id-sha256.
#[derive(Sequence)]
pub(super) struct EssCertIdV2Raw<'a> {
    #[asn1(optional = "true")]
    pub(super) hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub(super) cert_hash: OctetStringRef<'a>,
    #[asn1(optional = "true")]
    pub(super) issuer_serial: Option<IssuerSerialRaw<'a>>,
}

/// IssuerSerial (RFC 5035 §4): issuer is GeneralNames.
#[derive(Sequence)]
pub(super) struct IssuerSerialRaw<'a> {
    pub(super) issuer: RawSeq<'a>,
    pub(super) serial: IntRef<'a>,
}

/// A timestamp token parsed without any trust decision. Obtained from [`parse`]; [`verify`]
/// is the only way to learn that it is authentic.
#[derive(Debug, Clone)]
pub struct ParsedToken {
    pub(super) tst_info_der: Vec<u8>,
    pub(super) version: u64,
    pub(super) policy: ObjectIdentifier,
    pub(super) imprint_alg: ObjectIdentifier,
    pub(super) imprint: Vec<u8>,
    pub(super) tst_serial: Vec<u8>,
    pub(super) gen_time: Instant,
    pub(super) accuracy: Option<x509_tsp::Accuracy>,
    pub(super) certs: Vec<Certificate>,
    pub(super) signers: Vec<SignerEntry>,
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
    // tspclient-go converts the token from BER to DER before anything else (red team M, M02: a
    // TSA's BER framing was refused here).
    let der = super::cms::ber_to_der(token).map_err(|detail| TimestampError::Malformed {
        what: "ContentInfo",
        detail,
    })?;
    let token = der.as_slice();
    if let Some(detail) = crate::notary::x509::oid_beyond_go(token) {
        return Err(TimestampError::Malformed {
            what: "ContentInfo",
            detail,
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
    // tspclient-go: "unsupported signed data version: got N, want 3" (red team M, M03).
    if signed_data.version != 3 {
        return Err(TimestampError::Malformed {
            what: "SignedData",
            detail: format!("unsupported version {}, want 3", signed_data.version),
        });
    }
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
    if let Some(detail) = crate::notary::x509::oid_beyond_go(tst_info_der) {
        return Err(TimestampError::Malformed {
            what: "TSTInfo",
            detail,
        });
    }
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
pub(super) fn token_certificate(der: &[u8]) -> Result<Certificate, String> {
    let cert = Certificate::from_der(der).map_err(|e| e.to_string())?;
    if !cert.algorithm_identifiers_match() {
        return Err("inner and outer signature algorithm identifiers differ".to_owned());
    }
    Ok(cert)
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

    pub(super) fn resolve_signing_certificate(
        &self,
        signer: &SignerEntry,
    ) -> Result<usize, TimestampError> {
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
pub(super) fn directory_name(general_names: &[u8]) -> Option<&[u8]> {
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
