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
    parse_rfc3339, AttributeKey, AttributeValue, EncodeRequest, EnvelopeError, EnvelopeFormat,
    RawHeaders, RawParts, HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY, HEADER_SIGNING_SCHEME,
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
    header: Unprotected,
    signature: String,
}

#[derive(Deserialize)]
struct Unprotected {
    #[serde(default)]
    x5c: Option<Vec<String>>,
    #[serde(rename = "io.cncf.notary.timestampSignature", default)]
    timestamp_signature: Option<String>,
    #[serde(rename = "io.cncf.notary.signingAgent", default)]
    signing_agent: Option<String>,
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

fn time_value(name: &str, v: serde_json::Value) -> Result<i64, EnvelopeError> {
    let s = string_value(name, v)?;
    parse_rfc3339(&s).ok_or_else(|| EnvelopeError::InvalidTime {
        header: name.to_owned(),
        reason: format!("{s:?} is not an RFC 3339 date-time"),
    })
}

fn parse_protected(json: &[u8]) -> Result<RawHeaders, EnvelopeError> {
    let object: UniqueMap<serde_json::Value> =
        serde_json::from_slice(json).map_err(|e| malformed("protected header", e))?;
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
            HEADER_SIGNING_TIME => h.signing_time = Some(time_value(&name, value)?),
            HEADER_AUTHENTIC_SIGNING_TIME => {
                h.authentic_signing_time = Some(time_value(&name, value)?)
            }
            HEADER_EXPIRY => h.expiry = Some(time_value(&name, value)?),
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

    let x5c = env.header.x5c.unwrap_or_default();
    chain::check_length(x5c.len()).map_err(|e| match e.rule {
        chain::ChainRule::Empty => EnvelopeError::CertificateChainMissing,
        _ => EnvelopeError::Chain(e),
    })?;
    let cert_chain = x5c
        .iter()
        .map(|c| STANDARD.decode(c).map_err(|e| malformed("x5c", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let timestamp_token = env
        .header
        .timestamp_signature
        .map(|t| {
            STANDARD
                .decode(t)
                .map_err(|e| malformed("timestampSignature", e))
        })
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
        signing_agent: env.header.signing_agent,
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
