//! CMS `SignedData` as a timestamp token carries it (RFC 5652): borrowed raw views that keep the
//! received bytes, the SignerInfo (signer identifier, signed attributes exactly as signed), the
//! SignerInfo algorithm mapping, and the signed-attribute checks (tspclient-go
//! `verifySignedAttributes`).

use core::fmt;

use der::asn1::{AnyRef, IntRef, OctetStringRef};
use der::{
    Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Sequence,
    SliceReader, Tag, Tagged, Writer,
};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier};

use super::token::ParsedToken;
use super::{
    malformed, TimestampError, ID_CONTENT_TYPE, ID_CT_TSTINFO, ID_MESSAGE_DIGEST, ID_SHA256,
    ID_SHA384, ID_SHA512, ID_SIGNING_TIME, MAX_ATTRIBUTES, MAX_ATTRIBUTE_VALUES, RSA_ENCRYPTION,
    SHA256_WITH_RSA, SHA384_WITH_RSA, SHA512_WITH_RSA,
};
use crate::notary::crypto::cms::{self as tsa_crypto, CryptoError};
use crate::notary::time;
use crate::notary::x509::{Certificate, VerifiedPath};

macro_rules! raw_value {
    ($(#[$doc:meta])* $name:ident, $tag:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(super) struct $name<'a> {
            pub(super) content: &'a [u8],
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
pub(super) fn split_tlvs(content: &[u8], max: usize) -> Result<Vec<&[u8]>, SplitError> {
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

pub(super) enum SplitError {
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
pub(super) fn integer_hex(bytes: &[u8]) -> String {
    match bytes {
        [0, rest @ ..] if !rest.is_empty() => to_hex(rest),
        _ => to_hex(bytes),
    }
}

#[derive(Sequence)]
pub(super) struct ContentInfoRaw<'a> {
    pub(super) content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub(super) content: AnyRef<'a>,
}

#[derive(Sequence)]
pub(super) struct SignedDataRaw<'a> {
    pub(super) version: u8,
    pub(super) digest_algorithms: RawSet<'a>,
    pub(super) encap_content_info: EncapContentInfoRaw<'a>,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub(super) certificates: Option<RawSet<'a>>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub(super) crls: Option<RawSet<'a>>,
    pub(super) signer_infos: RawSet<'a>,
}

#[derive(Sequence)]
pub(super) struct EncapContentInfoRaw<'a> {
    pub(super) econtent_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(super) econtent: Option<OctetStringRef<'a>>,
}

#[derive(Sequence)]
pub(super) struct SignerInfoRaw<'a> {
    pub(super) version: u8,
    pub(super) sid: AnyRef<'a>,
    pub(super) digest_alg: AlgorithmIdentifierOwned,
    #[asn1(
        context_specific = "0",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub(super) signed_attrs: Option<RawSet<'a>>,
    pub(super) signature_algorithm: AlgorithmIdentifierOwned,
    pub(super) signature: OctetStringRef<'a>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    pub(super) unsigned_attrs: Option<RawSet<'a>>,
}

#[derive(Sequence)]
pub(super) struct IssuerAndSerialRaw<'a> {
    pub(super) issuer: RawSeq<'a>,
    pub(super) serial: IntRef<'a>,
}

#[derive(Sequence)]
pub(super) struct AttributeRaw<'a> {
    pub(super) oid: ObjectIdentifier,
    pub(super) values: RawSet<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SignerId {
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    SubjectKeyId(Vec<u8>),
}

impl SignerId {
    pub(super) fn matches(&self, cert: &Certificate) -> bool {
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
pub(super) struct Attribute {
    pub(super) oid: ObjectIdentifier,
    pub(super) values: Vec<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub(super) struct SignerEntry {
    pub(super) version: u8,
    pub(super) sid: SignerId,
    pub(super) digest_alg: AlgorithmIdentifierOwned,
    /// The signed attributes as a DER SET OF (tag 0x31, the attributes in DER order, as
    /// tspclient-go re-marshals them): the bytes the signature covers (RFC 5652 §5.4).
    pub(super) signed_attrs_der: Option<Vec<u8>>,
    pub(super) signed_attrs: Vec<Attribute>,
    pub(super) signature_alg: AlgorithmIdentifierOwned,
    pub(super) signature: Vec<u8>,
}

/// What a single-valued attribute lookup found wrong.
pub(super) enum AttrProblem {
    Multiple,
    ValueCount,
}

impl SignerEntry {
    /// The single value of the attribute `oid`, if present.
    pub(super) fn single_value(
        &self,
        oid: &ObjectIdentifier,
    ) -> Result<Option<&[u8]>, AttrProblem> {
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

pub(super) fn parse_signer_info(tlv: &[u8]) -> Result<SignerEntry, TimestampError> {
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
            // What the signature covers, as tspclient-go computes it: the attributes re-marshalled
            // as a DER SET OF (`asn1.MarshalWithParams(attrs, "set")`), which sorts the encodings
            // (`bytes.Compare`). A TSA that signed them in another order fails there, and here
            // (red team O, O06: the received order was verified and such a token passed).
            let mut tlvs = split_tlvs(set.content, MAX_ATTRIBUTES).map_err(|e| match e {
                SplitError::Der(e) => malformed("signed attributes")(e),
                SplitError::TooMany => TimestampError::Malformed {
                    what: "signed attributes",
                    detail: "too many attributes or values".to_owned(),
                },
            })?;
            tlvs.sort_unstable();
            let body = tlvs.concat();
            let mut der = vec![0x31];
            push_der_length(&mut der, body.len());
            der.extend_from_slice(&body);
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

pub(super) fn parse_attributes(content: &[u8]) -> Result<Vec<Attribute>, TimestampError> {
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

/// Maps the SignerInfo algorithms to the combined signature algorithm, as tspclient-go
/// `oid.ToSignatureAlgorithm` does: plain rsaEncryption takes its hash from `digestAlgorithm`.
pub(super) fn cms_signature_algorithm(
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

/// RFC 5652 §5.6 / §11 checks of the signed attributes (tspclient-go
/// `verifySignedAttributes`).
pub(super) fn check_signed_attributes(
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

/// How deep [`ber_to_der`] descends into constructed values.
const BER_MAX_DEPTH: usize = 32;

/// BER to DER as tspclient-go's `ber.ConvertToDER` does it: every length re-encoded in its
/// minimal definite form (a long form with leading zeros, or a long form for a short length, is
/// BER), identifiers and primitive contents kept as they are (so a signed OCTET STRING's bytes do
/// not change), an indefinite length refused, and the value must fill the input exactly. A token
/// already in DER comes back unchanged.
pub(super) fn ber_to_der(input: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(input.len());
    let rest = ber_value(input, &mut out, 0)?;
    if !rest.is_empty() {
        return Err(format!("{} bytes after the token", rest.len()));
    }
    Ok(out)
}

/// Converts the one value at the start of `input` into `out`; returns what follows it.
fn ber_value<'a>(input: &'a [u8], out: &mut Vec<u8>, depth: usize) -> Result<&'a [u8], String> {
    if depth > BER_MAX_DEPTH {
        return Err(format!("nested deeper than {BER_MAX_DEPTH}"));
    }
    let first = *input.first().ok_or("a value is cut short")?;
    // Identifier: one octet, or the high-tag-number form (continuation octets with bit 8 set).
    let mut id_len = 1;
    if first & 0x1f == 0x1f {
        while input.get(id_len).ok_or("a tag is cut short")? & 0x80 != 0 {
            id_len += 1;
        }
        id_len += 1;
    }
    let (identifier, rest) = input.split_at_checked(id_len).ok_or("a tag is cut short")?;
    let (&len0, rest) = rest.split_first().ok_or("a length is cut short")?;
    let (len, rest) = if len0 < 0x80 {
        (usize::from(len0), rest)
    } else if len0 == 0x80 {
        return Err("an indefinite length (not supported)".into());
    } else {
        let n = usize::from(len0 & 0x7f);
        let (octets, rest) = rest.split_at_checked(n).ok_or("a length is cut short")?;
        let mut len: usize = 0;
        for &o in octets {
            len = len
                .checked_mul(256)
                .and_then(|l| l.checked_add(usize::from(o)))
                .ok_or("a length beyond any token")?;
        }
        (len, rest)
    };
    let (content, after) = rest
        .split_at_checked(len)
        .ok_or("a length beyond the data")?;
    out.extend_from_slice(identifier);
    if first & 0x20 == 0 {
        push_der_length(out, content.len());
        out.extend_from_slice(content);
    } else {
        let mut inner = Vec::with_capacity(content.len());
        let mut rest = content;
        while !rest.is_empty() {
            rest = ber_value(rest, &mut inner, depth + 1)?;
        }
        push_der_length(out, inner.len());
        out.extend_from_slice(&inner);
    }
    Ok(after)
}

/// A DER length: short form below 128, else the fewest big-endian octets.
fn push_der_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let octets = bytes.get(skip..).unwrap_or_default();
    out.push(0x80 | u8::try_from(octets.len()).unwrap_or(0));
    out.extend_from_slice(octets);
}
