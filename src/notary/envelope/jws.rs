//! `application/jose+json`: JWS JSON serialization, flattened syntax only (SPEC/jws).
//!
//! ```json
//! {"payload": b64url, "protected": b64url(JSON), "signature": b64url,
//!  "header": {"x5c": [std-base64 DER, ...], "io.cncf.notary.timestampSignature": std-base64,
//!             "io.cncf.notary.signingAgent": "..."}}
//! ```
//!
//! The signing input is `ASCII(protected "." payload)` exactly as received; base64url fields must
//! be unpadded and canonical (RFC 7515 §2). The protected header must be a JSON object without
//! duplicate names. Times are RFC 3339 strings.
//!
//! [`encode`] writes an envelope the way notation does: protected-header names in sorted order
//! (notation marshals a Go map), times in RFC 3339 UTC seconds, `x5c` in standard base64.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{
    AttributeKey, AttributeValue, EncodeRequest, EnvelopeError, EnvelopeFormat, RawHeaders,
    RawParts, HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY, HEADER_SIGNING_SCHEME,
    HEADER_SIGNING_TIME, HEADER_VERIFICATION_PLUGIN, HEADER_VERIFICATION_PLUGIN_MIN_VERSION,
    PAYLOAD_MEDIA_TYPE,
};
use crate::notary::chain;
use crate::notary::crypto::{CryptoError, SignatureAlgorithm};
use crate::notary::payload::UniqueMap;

/// Header names registered by RFC 7515/7518 for JWS; `crit` must not list them.
const REGISTERED_NAMES: [&str; 11] = [
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JwsJson {
    payload: String,
    protected: String,
    header: UniqueMap<serde_json::Value>,
    signature: String,
}

const TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";
const SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";

/// The unprotected header as notation's `jwsUnprotectedHeader` reads it.
struct Unprotected {
    x5c: Option<Vec<String>>,
    timestamp_signature: Option<String>,
    signing_agent: Option<String>,
}

/// Reads the unprotected header's names in order (exact duplicates were refused by
/// [`UniqueMap`]). `x5c` and the timestamp must be spelled exactly: a name Go would match to one of
/// them ignoring case is refused, so that notation and airlock verify one chain and one token (red
/// team M, M07). The signing agent decides nothing and is read by its exact name only (notation's
/// own test envelopes write `io.cncf.notary.SigningAgent`, which Go reads and the corpus's facts
/// record as no signing agent).
fn unprotected(header: UniqueMap<serde_json::Value>) -> Result<Unprotected, EnvelopeError> {
    go_confusable(
        header.0.iter().map(|(k, _)| k),
        &UNPROTECTED_FIELDS,
        "the unprotected header",
    )?;
    let string = |name: &str, v: serde_json::Value| match v {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s)),
        other => Err(malformed(name, format!("not a string: {other}"))),
    };
    let mut out = Unprotected {
        x5c: None,
        timestamp_signature: None,
        signing_agent: None,
    };
    for (name, value) in header.0 {
        match name.as_str() {
            "x5c" => {
                out.x5c = match value {
                    serde_json::Value::Null => None,
                    serde_json::Value::Array(list) => Some(
                        list.into_iter()
                            .map(|c| string("x5c", c)?.ok_or_else(|| malformed("x5c", "null")))
                            .collect::<Result<_, _>>()?,
                    ),
                    other => return Err(malformed("x5c", format!("not a list: {other}"))),
                }
            }
            TIMESTAMP_SIGNATURE => out.timestamp_signature = string(&name, value)?,
            SIGNING_AGENT => out.signing_agent = string(&name, value)?,
            _ => {}
        }
    }
    Ok(out)
}

fn malformed(what: &str, e: impl std::fmt::Display) -> EnvelopeError {
    EnvelopeError::Malformed(format!("{what}: {e}"))
}

fn b64url(what: &str, s: &str) -> Result<Vec<u8>, EnvelopeError> {
    URL_SAFE_NO_PAD.decode(s).map_err(|e| malformed(what, e))
}

fn string_value(name: &str, v: serde_json::Value) -> Result<String, EnvelopeError> {
    match v {
        serde_json::Value::String(s) => Ok(s),
        other => Err(EnvelopeError::Malformed(format!(
            "header {name} must be a string, found {other}"
        ))),
    }
}

fn time_value(name: &str, v: serde_json::Value) -> Result<(i64, u32), EnvelopeError> {
    let s = string_value(name, v)?;
    crate::notary::time::parse_rfc3339_nanos(&s).ok_or_else(|| EnvelopeError::InvalidTime {
        header: name.to_owned(),
        reason: format!("{s:?} is not an RFC 3339 date-time"),
    })
}

/// The protected-header names notation's `jwsProtectedHeader` struct reads.
const PROTECTED_FIELDS: [&str; 9] = [
    "alg",
    "cty",
    "crit",
    HEADER_SIGNING_SCHEME,
    HEADER_SIGNING_TIME,
    HEADER_AUTHENTIC_SIGNING_TIME,
    HEADER_EXPIRY,
    HEADER_VERIFICATION_PLUGIN,
    HEADER_VERIFICATION_PLUGIN_MIN_VERSION,
];

/// The unprotected-header names that must be spelled exactly (see [`unprotected`]).
const UNPROTECTED_FIELDS: [&str; 2] = ["x5c", TIMESTAMP_SIGNATURE];

/// A header name that is not one of `fields` but that Go's `encoding/json` matches to one of
/// them, ignoring case (notation decodes both headers into structs; the last match wins): refused,
/// so that an `"IO.CNCF.NOTARY.EXPIRY"` or a second `"ALG"` is not an expiry or an algorithm to
/// notation and an extended attribute to airlock (red team M, M07).
fn go_confusable<'a>(
    names: impl Iterator<Item = &'a String>,
    fields: &[&str],
    at: &str,
) -> Result<(), EnvelopeError> {
    match crate::gojson::first_confusable(names.map(String::as_str), fields) {
        Some((name, field)) => Err(EnvelopeError::Malformed(format!(
            "{at} has the name {name:?}, which notation (Go's JSON decoder matches names \
             ignoring case) reads as {field:?}"
        ))),
        None => Ok(()),
    }
}

fn parse_protected(json: &[u8]) -> Result<RawHeaders, EnvelopeError> {
    let object: UniqueMap<serde_json::Value> =
        serde_json::from_slice(json).map_err(|e| malformed("protected header", e))?;
    go_confusable(
        object.0.iter().map(|(k, _)| k),
        &PROTECTED_FIELDS,
        "the protected header",
    )?;
    let mut h = RawHeaders::default();
    for (name, value) in object.0 {
        h.present.push(AttributeKey::Text(name.clone()));
        match name.as_str() {
            "alg" => {
                let alg = string_value("alg", value)?;
                h.alg = Some(
                    SignatureAlgorithm::from_jws_name(&alg)
                        .ok_or(EnvelopeError::UnsupportedAlgorithm(alg))?,
                );
            }
            "cty" => h.content_type = Some(string_value("cty", value)?),
            "crit" => {
                let list = match value {
                    serde_json::Value::Array(list) => list,
                    other => {
                        return Err(EnvelopeError::InvalidCritical(format!(
                            "crit must be an array of strings, found {other}"
                        )))
                    }
                };
                for item in list {
                    let label = match item {
                        serde_json::Value::String(s) => s,
                        other => {
                            return Err(EnvelopeError::InvalidCritical(format!(
                                "crit entry {other} is not a string"
                            )))
                        }
                    };
                    if REGISTERED_NAMES.contains(&label.as_str()) {
                        return Err(EnvelopeError::InvalidCritical(format!(
                            "{label} is a registered JWS header and must not be listed"
                        )));
                    }
                    h.crit.push(AttributeKey::Text(label));
                }
            }
            HEADER_SIGNING_SCHEME => h.signing_scheme = Some(string_value(&name, value)?),
            HEADER_SIGNING_TIME => {
                let (t, n) = time_value(&name, value)?;
                (h.signing_time, h.nanos.signing_time) = (Some(t), n);
            }
            HEADER_AUTHENTIC_SIGNING_TIME => {
                let (t, n) = time_value(&name, value)?;
                (h.authentic_signing_time, h.nanos.authentic_signing_time) = (Some(t), n);
            }
            HEADER_EXPIRY => {
                let (t, n) = time_value(&name, value)?;
                (h.expiry, h.nanos.expiry) = (Some(t), n);
            }
            HEADER_VERIFICATION_PLUGIN => h.verification_plugin = Some(string_value(&name, value)?),
            HEADER_VERIFICATION_PLUGIN_MIN_VERSION => {
                h.verification_plugin_min_version = Some(string_value(&name, value)?)
            }
            _ => h
                .extended
                .push((AttributeKey::Text(name), AttributeValue::Json(value))),
        }
    }
    Ok(h)
}

/// Parses the JWS JSON envelope into format-neutral parts.
pub(crate) fn parse(bytes: &[u8]) -> Result<RawParts, EnvelopeError> {
    let env: JwsJson = serde_json::from_slice(bytes).map_err(|e| malformed("JWS envelope", e))?;
    let protected_json = b64url("protected header", &env.protected)?;
    let headers = parse_protected(&protected_json)?;
    let payload = b64url("payload", &env.payload)?;
    let signature = b64url("signature", &env.signature)?;

    let header = unprotected(env.header)?;
    let x5c = header.x5c.unwrap_or_default();
    chain::check_length(x5c.len()).map_err(|e| match e.rule {
        chain::ChainRule::Empty => EnvelopeError::CertificateChainMissing,
        _ => EnvelopeError::Chain(e),
    })?;
    let cert_chain = x5c
        .iter()
        .map(|c| crate::gojson::go_base64(c).map_err(|e| malformed("x5c", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let timestamp_token = header
        .timestamp_signature
        .map(|t| crate::gojson::go_base64(&t).map_err(|e| malformed("timestampSignature", e)))
        .transpose()?;

    let mut signed_message = Vec::with_capacity(
        env.protected
            .len()
            .saturating_add(env.payload.len())
            .saturating_add(1),
    );
    signed_message.extend_from_slice(env.protected.as_bytes());
    signed_message.push(b'.');
    signed_message.extend_from_slice(env.payload.as_bytes());

    Ok(RawParts {
        format: EnvelopeFormat::Jws,
        headers,
        cert_chain,
        signing_agent: header.signing_agent,
        timestamp_token,
        payload,
        signature,
        signed_message,
    })
}

#[derive(Serialize)]
struct JwsOut<'a> {
    payload: String,
    protected: String,
    header: UnprotectedOut<'a>,
    signature: String,
}

#[derive(Serialize)]
struct UnprotectedOut<'a> {
    x5c: Vec<String>,
    #[serde(rename = "io.cncf.notary.signingAgent")]
    signing_agent: &'a str,
}

/// Writes a JWS envelope for `req`; `sign` signs the signing input
/// `ASCII(b64url(protected) "." b64url(payload))`.
pub(crate) fn encode(
    req: &EncodeRequest<'_>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, CryptoError>,
) -> Result<Vec<u8>, EnvelopeError> {
    let time = |header: &str, t: i64| {
        super::format_rfc3339(t).ok_or_else(|| EnvelopeError::InvalidTime {
            header: header.to_owned(),
            reason: format!("{t} is outside the RFC 3339 range"),
        })
    };
    let mut crit = vec![serde_json::Value::from(HEADER_SIGNING_SCHEME)];
    // serde_json keeps object names sorted (no preserve_order), as Go's map marshalling does.
    let mut protected = serde_json::Map::new();
    protected.insert("alg".into(), req.algorithm.jws_name().into());
    protected.insert("cty".into(), PAYLOAD_MEDIA_TYPE.into());
    if let Some(expiry) = req.expiry {
        crit.push(HEADER_EXPIRY.into());
        protected.insert(HEADER_EXPIRY.into(), time(HEADER_EXPIRY, expiry)?.into());
    }
    protected.insert("crit".into(), crit.into());
    protected.insert(
        HEADER_SIGNING_SCHEME.into(),
        super::SigningScheme::X509.as_str().into(),
    );
    protected.insert(
        HEADER_SIGNING_TIME.into(),
        time(HEADER_SIGNING_TIME, req.signing_time)?.into(),
    );
    let protected = serde_json::to_vec(&protected)
        .map_err(|e| EnvelopeError::Malformed(format!("protected header: {e}")))?;
    let protected = URL_SAFE_NO_PAD.encode(protected);
    let payload = URL_SAFE_NO_PAD.encode(req.payload);
    let signing_input = format!("{protected}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(sign(signing_input.as_bytes())?);
    serde_json::to_vec(&JwsOut {
        payload,
        protected,
        header: UnprotectedOut {
            x5c: req.chain.iter().map(|c| STANDARD.encode(c)).collect(),
            signing_agent: req.signing_agent,
        },
        signature,
    })
    .map_err(|e| EnvelopeError::Malformed(format!("JWS envelope: {e}")))
}
