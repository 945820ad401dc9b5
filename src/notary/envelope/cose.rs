//! `application/cose`: COSE_Sign1_Tagged (CBOR tag 18) per SPEC/cose and RFC 9052.
//!
//! * Trailing bytes after the COSE object, a missing tag, a detached (nil) payload, duplicate
//!   labels, or a label present in both the protected and the unprotected bucket are malformed.
//! * The signature is verified over
//!   `Sig_structure = ["Signature1", body_protected, h'', payload]` built here from the
//!   **original** protected-header bytes (`ProtectedHeader::original_data`), never a
//!   re-encoding.
//! * `x5chain` (label 33) is read from the unprotected bucket only and must be an array of bstr
//!   (as notation requires); times must be CBOR tag 1 (epoch) values.
//!
//! [`encode`] writes an envelope the way notation (go-cose) does: the protected header map in
//! canonical CBOR order (integer labels, then text labels shorter first), times as tag 1 integers,
//! `x5chain` and the signing agent in the unprotected bucket.

use std::collections::HashSet;

use coset::cbor::value::Value;
use coset::iana::EnumI64 as _;
use coset::{
    CoseSign1, Header, Label, RegisteredLabel, RegisteredLabelWithPrivate,
    TaggedCborSerializable as _,
};

use super::{
    AttributeKey, AttributeValue, EncodeRequest, EnvelopeError, EnvelopeFormat, RawHeaders,
    RawParts, SigningScheme, HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY, HEADER_SIGNING_AGENT,
    HEADER_SIGNING_SCHEME, HEADER_SIGNING_TIME, HEADER_TIMESTAMP_SIGNATURE,
    HEADER_VERIFICATION_PLUGIN, HEADER_VERIFICATION_PLUGIN_MIN_VERSION, PAYLOAD_MEDIA_TYPE,
};
use crate::notary::chain;
use crate::notary::crypto::{CryptoError, SignatureAlgorithm};

/// COSE `x5chain` header label (RFC 9360).
pub const LABEL_X5CHAIN: i64 = 33;

/// Highest COSE header label defined by RFC 9052 / 9338 core; `crit` must not list 0..=8.
const MAX_RESERVED_CRIT_LABEL: i64 = 8;

fn malformed(what: &str, e: impl std::fmt::Display) -> EnvelopeError {
    EnvelopeError::Malformed(format!("{what}: {e}"))
}

/// Labels present in a header bucket, including the ones coset decodes into dedicated fields.
fn labels_of(h: &Header) -> Vec<Label> {
    let mut out = Vec::new();
    if h.alg.is_some() {
        out.push(Label::Int(1));
    }
    if !h.crit.is_empty() {
        out.push(Label::Int(2));
    }
    if h.content_type.is_some() {
        out.push(Label::Int(3));
    }
    if !h.key_id.is_empty() {
        out.push(Label::Int(4));
    }
    if !h.iv.is_empty() {
        out.push(Label::Int(5));
    }
    if !h.partial_iv.is_empty() {
        out.push(Label::Int(6));
    }
    if !h.counter_signatures.is_empty() {
        out.push(Label::Int(7));
    }
    out.extend(h.rest.iter().map(|(l, _)| l.clone()));
    out
}

fn key_of(label: &Label) -> AttributeKey {
    match label {
        Label::Int(i) => AttributeKey::Int(*i),
        Label::Text(t) => AttributeKey::Text(t.clone()),
    }
}

fn text_value(name: &str, v: &Value) -> Result<String, EnvelopeError> {
    match v {
        Value::Text(s) => Ok(s.clone()),
        _ => Err(EnvelopeError::Malformed(format!(
            "header {name} must be a text string"
        ))),
    }
}

/// Largest float magnitude converted to seconds (2^53, where f64 is still exact on integers).
const MAX_FLOAT_SECONDS: f64 = 9_007_199_254_740_992.0;

fn time_value(name: &str, v: &Value) -> Result<(i64, u32), EnvelopeError> {
    let bad = |reason: &str| EnvelopeError::InvalidTime {
        header: name.to_owned(),
        reason: reason.to_owned(),
    };
    match v {
        Value::Tag(1, inner) => match inner.as_ref() {
            Value::Integer(i) => i64::try_from(i128::from(*i))
                .map(|t| (t, 0))
                .map_err(|_| bad("epoch time out of range")),
            Value::Float(f) if f.is_finite() && f.abs() <= MAX_FLOAT_SECONDS => {
                let floored = f.floor();
                // Exact: `floored` is an integer with magnitude <= 2^53, and the fraction's
                // nanoseconds are below 10^9.
                #[allow(clippy::as_conversions, clippy::cast_possible_truncation)]
                let nanos = ((f - floored) * 1e9).floor().min(999_999_999.0) as u32;
                #[allow(clippy::as_conversions, clippy::cast_possible_truncation)]
                Ok((floored as i64, nanos))
            }
            _ => Err(bad("tag 1 value must be an integer or finite float")),
        },
        Value::Tag(_, _) => Err(bad("only Tag `1` Datetime CBOR object is supported")),
        _ => Err(bad("time value does not have a tag")),
    }
}

fn parse_protected(h: &Header) -> Result<RawHeaders, EnvelopeError> {
    let mut out = RawHeaders {
        present: labels_of(h).iter().map(key_of).collect(),
        ..RawHeaders::default()
    };
    out.alg = match &h.alg {
        None => None,
        Some(RegisteredLabelWithPrivate::Assigned(a)) => Some(
            SignatureAlgorithm::from_cose_id(a.to_i64())
                .ok_or_else(|| EnvelopeError::UnsupportedAlgorithm(format!("{}", a.to_i64())))?,
        ),
        Some(RegisteredLabelWithPrivate::PrivateUse(i)) => {
            return Err(EnvelopeError::UnsupportedAlgorithm(format!("{i}")))
        }
        Some(RegisteredLabelWithPrivate::Text(t)) => {
            return Err(EnvelopeError::UnsupportedAlgorithm(t.clone()))
        }
    };
    for c in &h.crit {
        let key = match c {
            RegisteredLabelWithPrivate::Assigned(p) => AttributeKey::Int(p.to_i64()),
            RegisteredLabelWithPrivate::PrivateUse(i) => AttributeKey::Int(*i),
            RegisteredLabelWithPrivate::Text(t) => AttributeKey::Text(t.clone()),
        };
        if let AttributeKey::Int(i) = key {
            if (0..=MAX_RESERVED_CRIT_LABEL).contains(&i) {
                return Err(EnvelopeError::InvalidCritical(format!(
                    "label {i} is a core COSE header and must not be listed"
                )));
            }
        }
        out.crit.push(key);
    }
    out.content_type = match &h.content_type {
        None => None,
        Some(RegisteredLabel::Text(t)) => Some(t.clone()),
        Some(RegisteredLabel::Assigned(_)) => {
            return Err(EnvelopeError::InvalidContentType(
                "content type should be of 'tstr' type".into(),
            ))
        }
    };
    for (label, value) in &h.rest {
        let name = match label {
            Label::Text(t) => t.as_str(),
            Label::Int(i) => {
                out.extended
                    .push((AttributeKey::Int(*i), AttributeValue::Cbor(value.clone())));
                continue;
            }
        };
        match name {
            HEADER_SIGNING_SCHEME => out.signing_scheme = Some(text_value(name, value)?),
            HEADER_SIGNING_TIME => {
                let (t, n) = time_value(name, value)?;
                (out.signing_time, out.nanos.signing_time) = (Some(t), n);
            }
            HEADER_AUTHENTIC_SIGNING_TIME => {
                let (t, n) = time_value(name, value)?;
                (out.authentic_signing_time, out.nanos.authentic_signing_time) = (Some(t), n);
            }
            HEADER_EXPIRY => {
                let (t, n) = time_value(name, value)?;
                (out.expiry, out.nanos.expiry) = (Some(t), n);
            }
            HEADER_VERIFICATION_PLUGIN => out.verification_plugin = Some(text_value(name, value)?),
            HEADER_VERIFICATION_PLUGIN_MIN_VERSION => {
                out.verification_plugin_min_version = Some(text_value(name, value)?)
            }
            _ => out.extended.push((
                AttributeKey::Text(name.to_owned()),
                AttributeValue::Cbor(value.clone()),
            )),
        }
    }
    Ok(out)
}

/// Appends a CBOR head (major type + argument) in its shortest form.
fn cbor_head(out: &mut Vec<u8>, major: u8, len: usize) {
    let major = major << 5;
    let len = u64::try_from(len).unwrap_or(u64::MAX);
    if let Ok(small) = u8::try_from(len) {
        if small < 24 {
            out.push(major | small);
        } else {
            out.push(major | 24);
            out.push(small);
        }
    } else if let Ok(v) = u16::try_from(len) {
        out.push(major | 25);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(len) {
        out.push(major | 26);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// `Sig_structure` for COSE_Sign1 with empty external AAD (RFC 9052 §4.4), built from the exact
/// protected-header bytes received.
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    const CONTEXT: &[u8] = b"Signature1";
    let mut out = Vec::with_capacity(
        protected
            .len()
            .saturating_add(payload.len())
            .saturating_add(32),
    );
    cbor_head(&mut out, 4, 4); // array(4)
    cbor_head(&mut out, 3, CONTEXT.len()); // tstr
    out.extend_from_slice(CONTEXT);
    cbor_head(&mut out, 2, protected.len()); // bstr body_protected
    out.extend_from_slice(protected);
    cbor_head(&mut out, 2, 0); // bstr external_aad = h''
    cbor_head(&mut out, 2, payload.len()); // bstr payload
    out.extend_from_slice(payload);
    out
}

/// Parses a tagged COSE_Sign1 envelope into format-neutral parts.
pub(crate) fn parse(bytes: &[u8]) -> Result<RawParts, EnvelopeError> {
    let msg = CoseSign1::from_tagged_slice(bytes).map_err(|e| malformed("COSE_Sign1", e))?;
    let protected_bytes = msg
        .protected
        .original_data
        .clone()
        .ok_or_else(|| EnvelopeError::Malformed("protected header bytes unavailable".into()))?;

    let protected_labels: HashSet<AttributeKey> = labels_of(&msg.protected.header)
        .iter()
        .map(key_of)
        .collect();
    if let Some(dup) = labels_of(&msg.unprotected)
        .iter()
        .map(key_of)
        .find(|l| protected_labels.contains(l))
    {
        return Err(EnvelopeError::Malformed(format!(
            "label {dup} is present in both the protected and unprotected headers"
        )));
    }
    let headers = parse_protected(&msg.protected.header)?;

    let mut cert_chain = None;
    let mut timestamp_token = None;
    let mut signing_agent = None;
    for (label, value) in &msg.unprotected.rest {
        match label {
            Label::Int(LABEL_X5CHAIN) => {
                let items = match value {
                    Value::Array(items) => items,
                    _ => {
                        return Err(EnvelopeError::Malformed(
                            "x5chain must be an array of certificates".into(),
                        ))
                    }
                };
                chain::check_length(items.len()).map_err(|e| match e.rule {
                    chain::ChainRule::Empty => EnvelopeError::CertificateChainMissing,
                    _ => EnvelopeError::Chain(e),
                })?;
                cert_chain = Some(
                    items
                        .iter()
                        .map(|c| match c {
                            Value::Bytes(b) => Ok(b.clone()),
                            _ => Err(EnvelopeError::Malformed(
                                "x5chain entry is not a byte string".into(),
                            )),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            // notation ignores these when they have the wrong type; so do we.
            Label::Text(t) if t == HEADER_TIMESTAMP_SIGNATURE => {
                if let Value::Bytes(b) = value {
                    timestamp_token = Some(b.clone());
                }
            }
            Label::Text(t) if t == HEADER_SIGNING_AGENT => {
                if let Value::Text(s) = value {
                    signing_agent = Some(s.clone());
                }
            }
            _ => {}
        }
    }
    let cert_chain = cert_chain.ok_or(EnvelopeError::CertificateChainMissing)?;
    let payload = msg
        .payload
        .clone()
        .ok_or_else(|| EnvelopeError::Malformed("detached payloads are not supported".into()))?;
    let signed_message = sig_structure(&protected_bytes, &payload);
    Ok(RawParts {
        format: EnvelopeFormat::Cose,
        headers,
        cert_chain,
        signing_agent,
        timestamp_token,
        payload,
        signature: msg.signature,
        signed_message,
    })
}

fn to_cbor(v: &Value) -> Result<Vec<u8>, EnvelopeError> {
    let mut out = Vec::new();
    coset::cbor::ser::into_writer(v, &mut out).map_err(|e| malformed("CBOR encoding", e))?;
    Ok(out)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn epoch(t: i64) -> Value {
    Value::Tag(1, Box::new(Value::Integer(t.into())))
}

/// Writes a tagged COSE_Sign1 envelope for `req`; `sign` signs the Sig_structure built over the
/// exact protected-header bytes written.
pub(crate) fn encode(
    req: &EncodeRequest<'_>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, CryptoError>,
) -> Result<Vec<u8>, EnvelopeError> {
    let mut crit = vec![text(HEADER_SIGNING_SCHEME)];
    let mut labels: Vec<(Value, Value)> = Vec::new();
    if let Some(expiry) = req.expiry {
        crit.push(text(HEADER_EXPIRY));
        labels.push((text(HEADER_EXPIRY), epoch(expiry)));
    }
    labels.push((text(HEADER_SIGNING_TIME), epoch(req.signing_time)));
    labels.push((
        text(HEADER_SIGNING_SCHEME),
        text(SigningScheme::X509.as_str()),
    ));
    // Canonical CBOR (RFC 7049 §3.9, what go-cose writes): text labels by encoded length first.
    labels.sort_by(|(a, _), (b, _)| match (a, b) {
        (Value::Text(a), Value::Text(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        _ => std::cmp::Ordering::Equal,
    });
    let mut protected = vec![
        (
            Value::Integer(1.into()),
            Value::Integer(req.algorithm.cose_id().into()),
        ),
        (Value::Integer(2.into()), Value::Array(crit)),
        (Value::Integer(3.into()), text(PAYLOAD_MEDIA_TYPE)),
    ];
    protected.extend(labels);
    let protected = to_cbor(&Value::Map(protected))?;
    let signature = sign(&sig_structure(&protected, req.payload))?;
    let unprotected = vec![
        (
            Value::Integer(LABEL_X5CHAIN.into()),
            Value::Array(req.chain.iter().map(|c| Value::Bytes(c.clone())).collect()),
        ),
        (text(HEADER_SIGNING_AGENT), text(req.signing_agent)),
    ];
    to_cbor(&Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(unprotected),
            Value::Bytes(req.payload.to_vec()),
            Value::Bytes(signature),
        ])),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbor_heads_are_shortest_form() {
        let mut v = Vec::new();
        cbor_head(&mut v, 2, 23);
        assert_eq!(v, [0x57]);
        v.clear();
        cbor_head(&mut v, 2, 24);
        assert_eq!(v, [0x58, 24]);
        v.clear();
        cbor_head(&mut v, 2, 256);
        assert_eq!(v, [0x59, 1, 0]);
        v.clear();
        cbor_head(&mut v, 2, 70_000);
        assert_eq!(v, [0x5a, 0, 1, 0x11, 0x70]);
    }

    #[test]
    fn sig_structure_matches_coset_for_canonical_headers() {
        let protected = coset::HeaderBuilder::new()
            .algorithm(coset::iana::Algorithm::PS256)
            .build();
        let sign1 = coset::CoseSign1Builder::new()
            .protected(protected)
            .payload(b"hello".to_vec())
            .build();
        let expected = sign1.tbs_data(b"");
        let bytes = sign1.to_tagged_vec().unwrap();
        let parsed = CoseSign1::from_tagged_slice(&bytes).unwrap();
        let original = parsed.protected.original_data.clone().unwrap();
        assert_eq!(sig_structure(&original, b"hello"), expected);
    }
}
