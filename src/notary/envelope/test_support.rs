//! Test helpers: JWS / COSE envelopes signed the way notation signs them, over the test kit's keys
//! and hand-built certificates ([`crate::testkit::x509`], re-exported here).
//!
//! Test-only code: panics on unexpected setup failures are intended.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::as_conversions,
    missing_docs
)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature as sig;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use const_oid::db::rfc5912;
use coset::cbor::value::Value;
use der::Encode;

use super::{HEADER_SIGNING_SCHEME, HEADER_SIGNING_TIME, PAYLOAD_MEDIA_TYPE};
use crate::notary::crypto::SignatureAlgorithm;

pub use crate::testkit::corpus::{corpus_dir, corpus_file};

pub use crate::testkit::x509::*;

/// Envelope signatures (the algorithm vocabulary is the library's, so it lives here, not in the kit).
pub trait SignEnvelope {
    /// Signs `msg` as an envelope signature with `alg` (PSS salt = hash length; ECDSA r||s).
    fn sign_envelope(&self, alg: SignatureAlgorithm, msg: &[u8]) -> Vec<u8>;
}

impl SignEnvelope for TestKey {
    fn sign_envelope(&self, alg: SignatureAlgorithm, msg: &[u8]) -> Vec<u8> {
        match alg {
            SignatureAlgorithm::Ps256 => self.rsa_sign(&sig::RSA_PSS_SHA256, msg),
            SignatureAlgorithm::Ps384 => self.rsa_sign(&sig::RSA_PSS_SHA384, msg),
            SignatureAlgorithm::Ps512 => self.rsa_sign(&sig::RSA_PSS_SHA512, msg),
            _ => {
                let TestKey::Ec { fixed, .. } = self else {
                    panic!("not an EC key")
                };
                fixed
                    .sign(&SystemRandom::new(), msg)
                    .unwrap()
                    .as_ref()
                    .to_vec()
            }
        }
    }
}

/// A default payload for tests.
pub const PAYLOAD: &str = r#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9","size":517}}"#;

/// Default JWS protected header (`notary.x509`, signing time 2024-01-01).
pub fn jws_protected(alg: SignatureAlgorithm) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("alg".into(), alg.jws_name().into());
    m.insert("cty".into(), PAYLOAD_MEDIA_TYPE.into());
    m.insert("crit".into(), serde_json::json!([HEADER_SIGNING_SCHEME]));
    m.insert(HEADER_SIGNING_SCHEME.into(), "notary.x509".into());
    m.insert(HEADER_SIGNING_TIME.into(), "2024-01-01T00:00:00Z".into());
    m
}

/// Signs a JWS envelope from a protected-header JSON text (used verbatim).
pub fn jws_from_text(
    protected_json: &str,
    payload: &[u8],
    chain: &[Vec<u8>],
    key: &TestKey,
    alg: SignatureAlgorithm,
) -> Vec<u8> {
    let protected = URL_SAFE_NO_PAD.encode(protected_json);
    let payload = URL_SAFE_NO_PAD.encode(payload);
    let input = format!("{protected}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(key.sign_envelope(alg, input.as_bytes()));
    jws_assemble(&protected, &payload, &signature, chain)
}

pub fn jws_assemble(protected: &str, payload: &str, signature: &str, chain: &[Vec<u8>]) -> Vec<u8> {
    let x5c: Vec<String> = chain.iter().map(|c| STANDARD.encode(c)).collect();
    serde_json::to_vec(&serde_json::json!({
        "payload": payload,
        "protected": protected,
        "header": {"x5c": x5c, "io.cncf.notary.signingAgent": "test/1.0"},
        "signature": signature,
    }))
    .unwrap()
}

/// Signs a JWS envelope with `alg` (the header's `alg` is taken from `protected`).
pub fn jws(
    protected: &serde_json::Map<String, serde_json::Value>,
    payload: &[u8],
    chain: &[Vec<u8>],
    key: &TestKey,
    alg: SignatureAlgorithm,
) -> Vec<u8> {
    let text = serde_json::to_string(protected).unwrap();
    jws_from_text(&text, payload, chain, key, alg)
}

pub fn tag1(t: i64) -> Value {
    Value::Tag(1, Box::new(Value::Integer(t.into())))
}

/// Default COSE protected header entries, in notation's order, as a CBOR map.
pub fn cose_protected_entries(alg: SignatureAlgorithm) -> Vec<(Value, Value)> {
    vec![
        (
            Value::Integer(1.into()),
            Value::Integer(alg.cose_id().into()),
        ),
        (
            Value::Integer(2.into()),
            Value::Array(vec![Value::Text(HEADER_SIGNING_SCHEME.into())]),
        ),
        (
            Value::Integer(3.into()),
            Value::Text(PAYLOAD_MEDIA_TYPE.into()),
        ),
        (
            Value::Text(HEADER_SIGNING_SCHEME.into()),
            Value::Text("notary.x509".into()),
        ),
        (Value::Text(HEADER_SIGNING_TIME.into()), tag1(T2024)),
    ]
}

pub fn cbor(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    coset::cbor::ser::into_writer(v, &mut out).unwrap();
    out
}

/// Default COSE unprotected header: x5chain + signing agent.
pub fn cose_unprotected(chain: &[Vec<u8>]) -> Vec<(Value, Value)> {
    vec![
        (
            Value::Integer(33.into()),
            Value::Array(chain.iter().map(|c| Value::Bytes(c.clone())).collect()),
        ),
        (
            Value::Text("io.cncf.notary.signingAgent".into()),
            Value::Text("test/1.0".into()),
        ),
    ]
}

/// Builds a COSE_Sign1_Tagged from raw protected-header bytes (used verbatim) and signs the
/// Sig_structure over them.
pub fn cose_from_parts(
    protected: &[u8],
    unprotected: Vec<(Value, Value)>,
    payload: &[u8],
    key: &TestKey,
    alg: SignatureAlgorithm,
) -> Vec<u8> {
    let tbs = super::cose::sig_structure(protected, payload);
    let signature = key.sign_envelope(alg, &tbs);
    cose_assemble(protected, unprotected, payload, &signature)
}

pub fn cose_assemble(
    protected: &[u8],
    unprotected: Vec<(Value, Value)>,
    payload: &[u8],
    signature: &[u8],
) -> Vec<u8> {
    cbor(&Value::Tag(
        18,
        Box::new(Value::Array(vec![
            Value::Bytes(protected.to_vec()),
            Value::Map(unprotected),
            Value::Bytes(payload.to_vec()),
            Value::Bytes(signature.to_vec()),
        ])),
    ))
}

/// Signs a COSE envelope with the given protected entries.
pub fn cose(
    protected: Vec<(Value, Value)>,
    payload: &[u8],
    chain: &[Vec<u8>],
    key: &TestKey,
    alg: SignatureAlgorithm,
) -> Vec<u8> {
    let p = cbor(&Value::Map(protected));
    cose_from_parts(&p, cose_unprotected(chain), payload, key, alg)
}

/// An `rsaEncryption` SPKI with a modulus of `n_len` bytes (top bit set) and e = 65537.
pub fn rsa_spki(n_len: usize) -> Vec<u8> {
    let mut n = vec![0xC5u8; n_len];
    n[n_len - 1] |= 1;
    let modulus = tlv(0x02, &[&[0u8][..], &n].concat());
    let exponent = vec![0x02, 0x03, 0x01, 0x00, 0x01];
    let rsa_key = tlv(0x30, &[modulus, exponent].concat());
    let alg = tlv(
        0x30,
        &[rfc5912::RSA_ENCRYPTION.to_der().unwrap(), vec![0x05, 0x00]].concat(),
    );
    let bits = tlv(0x03, &[&[0u8][..], &rsa_key].concat());
    tlv(0x30, &[alg, bits].concat())
}

/// An Ed25519 SPKI (RFC 8410).
pub fn ed25519_spki() -> Vec<u8> {
    let mut v = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    v.extend([7u8; 32]);
    v
}
