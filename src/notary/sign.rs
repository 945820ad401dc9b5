//! Signing as `notation sign` does it, minus the storage: key and chain loading, the payload, the
//! envelope, and a fail-closed check of the result with the verifier's own code.
//!
//! * Keys: unencrypted PKCS#8 PEM (`BEGIN PRIVATE KEY`), RSA 2048/3072/4096 or EC P-256/384/521
//!   ([`read_private_key_pem`]); the key must hold the public key of the chain's first
//!   certificate ([`sign_envelope`]).
//! * Chain: PEM certificates, leaf first, ending with the self-signed root
//!   ([`read_certificate_chain_pem`]).
//! * Payload ([`payload`]): `{"targetArtifact": {mediaType, digest, size, annotations?}}`, user
//!   metadata in `annotations` (notation `addUserMetadataToDescriptor`); names sorted, as notation
//!   (Go) writes them.
//! * [`check_envelope`] parses and verifies what was produced exactly as `airlock verify` will
//!   (signature, `alg` against the leaf key, every certificate rule, payload, user metadata) and
//!   checks that every certificate is valid at the signing time, as notation's signer does. Callers
//!   write nothing unless it passes.
//!
//! The signing time is a parameter; nothing here reads the clock.

use std::collections::BTreeMap;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::chain::{self, ChainError, ValidityTime};
use super::crypto::{CryptoError, SigningKey};
use super::envelope::{self, EncodeRequest, Envelope, EnvelopeError, EnvelopeFormat};
use super::payload::PayloadError;
use crate::digest::Digest;

/// Annotation prefix reserved by the Notary Project; user metadata may not use it.
pub const RESERVED_PREFIX: &str = "io.cncf.notary";

/// Errors of key loading, envelope signing and the fail-closed check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The key file is not an unencrypted PKCS#8 PEM private key.
    #[error("private key: {0}")]
    KeyFormat(String),
    /// The key is unusable (size or curve outside the Notary table, malformed).
    #[error("private key: {0}")]
    Key(CryptoError),
    /// The certificate file holds no usable PEM certificate.
    #[error("certificate chain: {0}")]
    ChainFormat(String),
    /// The leaf certificate cannot be parsed.
    #[error("certificate chain: {0}")]
    Chain(ChainError),
    /// The key is not the one the leaf certificate certifies.
    #[error("the private key does not match the signing certificate (the first certificate of the chain)")]
    KeyCertificateMismatch,
    /// `expiry` is not after the signing time.
    #[error("the expiry must be after the signing time")]
    ExpiryNotAfterSigningTime,
    /// A user-metadata key is empty, reserved or repeated.
    #[error("user metadata: {0}")]
    UserMetadata(String),
    /// The envelope could not be written.
    #[error("writing the envelope: {0}")]
    Encode(EnvelopeError),
    /// The envelope produced does not verify (for example: a certificate of the chain breaks a
    /// Notary rule, or the chain does not end with a self-signed root).
    #[error("the signature does not verify, nothing was written: {0}")]
    Verification(EnvelopeError),
    /// A certificate of the chain is not valid at the signing time.
    #[error("a certificate is not valid at the signing time {time}: {error}")]
    NotValidAtSigningTime {
        /// The signing time, RFC 3339.
        time: String,
        /// Which certificate, and why.
        error: ChainError,
    },
    /// The signed payload does not say what was meant (a bug if it ever happens).
    #[error("the signed payload does not verify, nothing was written: {0}")]
    Payload(PayloadError),
}

crate::notary::reason::reasons! {
    /// Why signing refused to make an envelope.
    pub enum SignReason {
        /// `key_format`.
        KeyFormat => "key_format",
        /// `key_unsupported`.
        KeyUnsupported => "key_unsupported",
        /// `chain_format`.
        ChainFormat => "chain_format",
        /// `chain_invalid`.
        ChainInvalid => "chain_invalid",
        /// `key_certificate_mismatch`.
        KeyCertificateMismatch => "key_certificate_mismatch",
        /// `expiry_invalid`.
        ExpiryInvalid => "expiry_invalid",
        /// `user_metadata_invalid`.
        UserMetadataInvalid => "user_metadata_invalid",
        /// `encode_failed`.
        EncodeFailed => "encode_failed",
        /// `self_check_failed`.
        SelfCheckFailed => "self_check_failed",
        /// `not_valid_at_signing_time`.
        NotValidAtSigningTime => "not_valid_at_signing_time",
        /// `payload_mismatch`.
        PayloadMismatch => "payload_mismatch",
    }
}

impl SignError {
    /// Stable snake_case identifier of the variant.
    pub fn reason(&self) -> SignReason {
        match self {
            Self::KeyFormat(_) => SignReason::KeyFormat,
            Self::Key(_) => SignReason::KeyUnsupported,
            Self::ChainFormat(_) => SignReason::ChainFormat,
            Self::Chain(_) => SignReason::ChainInvalid,
            Self::KeyCertificateMismatch => SignReason::KeyCertificateMismatch,
            Self::ExpiryNotAfterSigningTime => SignReason::ExpiryInvalid,
            Self::UserMetadata(_) => SignReason::UserMetadataInvalid,
            Self::Encode(_) => SignReason::EncodeFailed,
            Self::Verification(_) => SignReason::SelfCheckFailed,
            Self::NotValidAtSigningTime { .. } => SignReason::NotValidAtSigningTime,
            Self::Payload(_) => SignReason::PayloadMismatch,
        }
    }

    /// The stable string of [`Self::reason`] (reports, usage errors, the corpus tests).
    pub fn code(&self) -> &'static str {
        self.reason().as_str()
    }
}

/// Reads the first private key of a PEM file: it must be an unencrypted PKCS#8 `PRIVATE KEY`.
pub fn read_private_key_pem(pem: &[u8]) -> Result<SigningKey, SignError> {
    if pem
        .windows(29)
        .any(|w| w == b"BEGIN ENCRYPTED PRIVATE KEY--")
    {
        return Err(SignError::KeyFormat(
            "the key is encrypted; airlock reads unencrypted PKCS#8 keys only".into(),
        ));
    }
    match PrivateKeyDer::from_pem_slice(pem) {
        Ok(PrivateKeyDer::Pkcs8(k)) => {
            SigningKey::from_pkcs8_der(k.secret_pkcs8_der()).map_err(SignError::Key)
        }
        Ok(PrivateKeyDer::Pkcs1(_)) => Err(SignError::KeyFormat(
            "the key is PKCS#1 (BEGIN RSA PRIVATE KEY); PKCS#8 (BEGIN PRIVATE KEY) is required"
                .into(),
        )),
        Ok(PrivateKeyDer::Sec1(_)) => Err(SignError::KeyFormat(
            "the key is SEC1 (BEGIN EC PRIVATE KEY); PKCS#8 (BEGIN PRIVATE KEY) is required".into(),
        )),
        Ok(_) => Err(SignError::KeyFormat("unsupported private key form".into())),
        Err(e) => Err(SignError::KeyFormat(format!(
            "no PEM private key found: {e}"
        ))),
    }
}

/// Reads every `CERTIFICATE` of a PEM file, in file order (leaf first).
pub fn read_certificate_chain_pem(pem: &[u8]) -> Result<Vec<Vec<u8>>, SignError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SignError::ChainFormat(format!("bad PEM: {e}")))?;
    if chain.is_empty() {
        return Err(SignError::ChainFormat("no PEM CERTIFICATE found".into()));
    }
    chain::check_length(chain.len()).map_err(SignError::Chain)?;
    Ok(chain)
}

/// The descriptor a signature signs: what `airlock verify` will compare the payload with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetDescriptor {
    /// Media type (an image manifest or index).
    pub media_type: String,
    /// Digest.
    pub digest: Digest,
    /// Size in bytes.
    pub size: u64,
}

/// Checks user metadata as notation does: keys non-empty, not reserved (`io.cncf.notary*`), not
/// repeated.
pub fn check_user_metadata(pairs: &[(String, String)]) -> Result<(), SignError> {
    let mut seen = std::collections::HashSet::new();
    for (k, _) in pairs {
        if k.is_empty() {
            return Err(SignError::UserMetadata("empty key".into()));
        }
        if k.starts_with(RESERVED_PREFIX) {
            return Err(SignError::UserMetadata(format!(
                "{k:?} uses the reserved prefix {RESERVED_PREFIX}"
            )));
        }
        if !seen.insert(k.as_str()) {
            return Err(SignError::UserMetadata(format!("{k:?} is given twice")));
        }
    }
    Ok(())
}

/// The payload for `target`, with `user_metadata` as the descriptor's annotations.
pub fn payload(
    target: &TargetDescriptor,
    user_metadata: &[(String, String)],
) -> Result<Vec<u8>, SignError> {
    check_user_metadata(user_metadata)?;
    let mut desc = serde_json::Map::new();
    if !user_metadata.is_empty() {
        let annotations: BTreeMap<&str, &str> = user_metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        desc.insert("annotations".into(), serde_json::json!(annotations));
    }
    desc.insert("digest".into(), target.digest.to_string().into());
    desc.insert("mediaType".into(), target.media_type.clone().into());
    desc.insert("size".into(), target.size.into());
    let mut root = serde_json::Map::new();
    root.insert("targetArtifact".into(), desc.into());
    serde_json::to_vec(&root)
        .map_err(|e| SignError::Encode(EnvelopeError::Malformed(e.to_string())))
}

/// What [`sign_envelope`] signs.
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    /// JWS or COSE.
    pub format: EnvelopeFormat,
    /// The payload ([`payload`]).
    pub payload: &'a [u8],
    /// The certificate chain, DER, leaf first.
    pub chain: &'a [Vec<u8>],
    /// The private key of the leaf certificate.
    pub key: &'a SigningKey,
    /// Signing time, Unix seconds.
    pub signing_time: i64,
    /// Expiry, Unix seconds.
    pub expiry: Option<i64>,
    /// `io.cncf.notary.signingAgent`.
    pub signing_agent: &'a str,
}

/// Signs: checks that the key is the leaf certificate's and that the expiry follows the signing
/// time, then writes the envelope. The result is **not** checked against the Notary certificate
/// rules; [`check_envelope`] does that and must pass before anything is stored.
pub fn sign_envelope(req: &SignRequest<'_>) -> Result<Vec<u8>, SignError> {
    let leaf_der = req
        .chain
        .first()
        .ok_or_else(|| SignError::ChainFormat("no certificate".into()))?;
    chain::check_length(req.chain.len()).map_err(SignError::Chain)?;
    let leaf = chain::parse_certificate(leaf_der, 0).map_err(SignError::Chain)?;
    if !req.key.matches_public_key(leaf.spki_der()) {
        return Err(SignError::KeyCertificateMismatch);
    }
    if req.expiry.is_some_and(|e| e <= req.signing_time) {
        return Err(SignError::ExpiryNotAfterSigningTime);
    }
    envelope::encode(
        &EncodeRequest {
            format: req.format,
            algorithm: req.key.algorithm(),
            payload: req.payload,
            chain: req.chain,
            signing_time: req.signing_time,
            expiry: req.expiry,
            signing_agent: req.signing_agent,
        },
        |message| req.key.sign(message),
    )
    .map_err(SignError::Encode)
}

/// Verifies a freshly made envelope with the verifier's code, failing closed: parse and header
/// rules, signature over the exact bytes, `alg` against the leaf key, every certificate rule,
/// no plugin or unknown critical header, the expected signing time and expiry, every certificate
/// valid at the signing time, and a payload naming `target` with `user_metadata`.
pub fn check_envelope(
    format: EnvelopeFormat,
    bytes: &[u8],
    target: &TargetDescriptor,
    signing_time: i64,
    expiry: Option<i64>,
    user_metadata: &[(String, String)],
) -> Result<(), SignError> {
    let env = Envelope::parse(format.media_type(), bytes).map_err(SignError::Verification)?;
    let chain = env.verify().map_err(SignError::Verification)?;
    if env.signing_time() != Some(signing_time) || env.expiry() != expiry {
        return Err(SignError::Verification(EnvelopeError::Malformed(
            "the envelope's signing time or expiry is not the one asked for".into(),
        )));
    }
    chain
        .check_validity(ValidityTime::At(signing_time))
        .map_err(|error| SignError::NotValidAtSigningTime {
            time: envelope::format_rfc3339(signing_time)
                .unwrap_or_else(|| signing_time.to_string()),
            error,
        })?;
    let payload = env.parse_payload().map_err(SignError::Payload)?;
    payload
        .check_descriptor(&target.media_type, &target.digest.to_string(), target.size)
        .map_err(SignError::Payload)?;
    payload
        .check_user_metadata(user_metadata)
        .map_err(SignError::Payload)?;
    if payload.target_artifact.annotations.len() != user_metadata.len() {
        return Err(SignError::Payload(PayloadError::Malformed(
            "the signed annotations are not exactly the user metadata given".into(),
        )));
    }
    Ok(())
}

/// SHA-256 of each certificate, lowercase hex, in chain order (the
/// `io.cncf.notary.x509chain.thumbprint#S256` annotation).
pub fn thumbprints(chain: &[Vec<u8>]) -> Vec<String> {
    chain
        .iter()
        .map(|c| Digest::sha256(c).hex().to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use const_oid::db::rfc5912;
    use der::Encode as _;

    use super::*;
    use crate::notary::crypto::{KeySpec, SignatureAlgorithm};
    use crate::notary::envelope::test_support::*;
    use crate::notary::envelope::SigningScheme;

    const DIGEST: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
    /// 2025-06-01T00:00:00Z: inside the test certificates' 2020..2040 validity.
    const SIGNED_AT: i64 = 1_748_736_000;

    fn target() -> TargetDescriptor {
        TargetDescriptor {
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            digest: Digest::parse(DIGEST).unwrap(),
            size: 517,
        }
    }

    fn key(k: &TestKey) -> SigningKey {
        SigningKey::from_pkcs8_der(&k.pkcs8()).unwrap()
    }

    fn sign(
        format: EnvelopeFormat,
        k: &SigningKey,
        chain: &[Vec<u8>],
        expiry: Option<i64>,
        meta: &[(String, String)],
    ) -> Result<Vec<u8>, SignError> {
        let payload = payload(&target(), meta)?;
        sign_envelope(&SignRequest {
            format,
            payload: &payload,
            chain,
            key: k,
            signing_time: SIGNED_AT,
            expiry,
            signing_agent: "airlock/test",
        })
    }

    #[test]
    fn every_key_and_format_round_trips_through_the_verifier() {
        let cases: [(&'static TestKey, KeySpec, SignatureAlgorithm); 5] = [
            (rsa2048(), KeySpec::Rsa2048, SignatureAlgorithm::Ps256),
            (rsa3072(), KeySpec::Rsa3072, SignatureAlgorithm::Ps384),
            (p256(), KeySpec::EcP256, SignatureAlgorithm::Es256),
            (p384(), KeySpec::EcP384, SignatureAlgorithm::Es384),
            (p521(), KeySpec::EcP521, SignatureAlgorithm::Es512),
        ];
        for (leaf, spec, alg) in cases {
            let k = key(leaf);
            assert_eq!(k.key_spec(), spec);
            assert_eq!(k.algorithm(), alg);
            assert_eq!(k.public_key_spki(), leaf.spki());
            let chain = three_chain(leaf, p256(), p384());
            let meta = vec![("build".to_string(), "42".to_string())];
            for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
                let expiry = Some(SIGNED_AT + 3600);
                let bytes = sign(format, &k, &chain, expiry, &meta).unwrap();
                check_envelope(format, &bytes, &target(), SIGNED_AT, expiry, &meta).unwrap();
                let env = Envelope::parse(format.media_type(), &bytes).unwrap();
                assert_eq!(env.algorithm(), alg);
                assert_eq!(env.signing_scheme(), SigningScheme::X509);
                assert_eq!(env.signing_time(), Some(SIGNED_AT));
                assert_eq!(env.expiry(), expiry);
                assert_eq!(env.signing_agent(), Some("airlock/test"));
                assert_eq!(env.certificate_chain(), &chain[..]);
                env.verify_integrity().unwrap();
                // The check is not a rubber stamp: another target, other metadata, another
                // signing time all fail.
                let mut other = target();
                other.size += 1;
                assert!(matches!(
                    check_envelope(format, &bytes, &other, SIGNED_AT, expiry, &meta),
                    Err(SignError::Payload(_))
                ));
                assert!(matches!(
                    check_envelope(format, &bytes, &target(), SIGNED_AT, expiry, &[]),
                    Err(SignError::Payload(_))
                ));
                assert!(
                    check_envelope(format, &bytes, &target(), SIGNED_AT + 1, expiry, &meta)
                        .is_err()
                );
                // A flipped byte anywhere in the signed part fails.
                let mut bad = bytes.clone();
                let at = bad.len() - 3;
                bad[at] ^= 1;
                assert!(check_envelope(format, &bad, &target(), SIGNED_AT, expiry, &meta).is_err());
            }
        }
    }

    #[test]
    fn jws_headers_are_written_as_notation_writes_them() {
        let chain = three_chain(p256(), p256(), p256());
        let bytes = sign(
            EnvelopeFormat::Jws,
            &key(p256()),
            &chain,
            Some(SIGNED_AT + 60),
            &[],
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["header", "payload", "protected", "signature"]);
        let protected = URL_SAFE_NO_PAD
            .decode(v["protected"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(protected).unwrap(),
            r#"{"alg":"ES256","crit":["io.cncf.notary.signingScheme","io.cncf.notary.expiry"],"cty":"application/vnd.cncf.notary.payload.v1+json","io.cncf.notary.expiry":"2025-06-01T00:01:00Z","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2025-06-01T00:00:00Z"}"#
        );
        let payload = URL_SAFE_NO_PAD
            .decode(v["payload"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            format!(
                r#"{{"targetArtifact":{{"digest":"{DIGEST}","mediaType":"application/vnd.oci.image.manifest.v1+json","size":517}}}}"#
            )
        );
        assert_eq!(v["header"]["x5c"].as_array().unwrap().len(), 3);
        assert_eq!(v["header"]["io.cncf.notary.signingAgent"], "airlock/test");
    }

    #[test]
    fn cose_protected_header_is_canonical_cbor() {
        let chain = self_signed(p384());
        let bytes = sign(
            EnvelopeFormat::Cose,
            &key(p384()),
            &chain,
            Some(SIGNED_AT + 60),
            &[],
        )
        .unwrap();
        let msg =
            <coset::CoseSign1 as coset::TaggedCborSerializable>::from_tagged_slice(&bytes).unwrap();
        let protected = msg.protected.original_data.unwrap();
        let expected = cbor(&coset::cbor::value::Value::Map(vec![
            (1.into(), (-35).into()),
            (
                2.into(),
                coset::cbor::value::Value::Array(vec![
                    "io.cncf.notary.signingScheme".into(),
                    "io.cncf.notary.expiry".into(),
                ]),
            ),
            (3.into(), crate::notary::envelope::PAYLOAD_MEDIA_TYPE.into()),
            ("io.cncf.notary.expiry".into(), tag1(SIGNED_AT + 60)),
            ("io.cncf.notary.signingTime".into(), tag1(SIGNED_AT)),
            ("io.cncf.notary.signingScheme".into(), "notary.x509".into()),
        ]));
        assert_eq!(protected, expected);
    }

    #[test]
    fn refusals_before_signing() {
        let chain = three_chain(p256(), p256(), p256());
        assert_eq!(
            sign(EnvelopeFormat::Jws, &key(p384()), &chain, None, &[]),
            Err(SignError::KeyCertificateMismatch)
        );
        assert_eq!(
            sign(
                EnvelopeFormat::Cose,
                &key(p256()),
                &chain,
                Some(SIGNED_AT),
                &[]
            ),
            Err(SignError::ExpiryNotAfterSigningTime)
        );
        for bad in [
            vec![("io.cncf.notary.x".to_string(), "1".to_string())],
            vec![(String::new(), "1".to_string())],
            vec![
                ("a".to_string(), "1".to_string()),
                ("a".to_string(), "2".to_string()),
            ],
        ] {
            assert!(matches!(
                payload(&target(), &bad),
                Err(SignError::UserMetadata(_))
            ));
        }
    }

    #[test]
    fn chains_breaking_notary_rules_fail_the_check() {
        // Leaf with serverAuth: signed fine, refused by the check (certificate rules).
        let root = mint(&CertSpec::new(ROOT, ROOT, p256(), p256(), ca_exts(None)));
        let mut exts = leaf_exts();
        exts[2] = eku(&[rfc5912::ID_KP_SERVER_AUTH], false);
        let leaf = mint(&CertSpec::new(LEAF, ROOT, p256(), p256(), exts));
        let chain = vec![leaf, root.clone()];
        let bytes = sign(EnvelopeFormat::Jws, &key(p256()), &chain, None, &[]).unwrap();
        let err = check_envelope(EnvelopeFormat::Jws, &bytes, &target(), SIGNED_AT, None, &[])
            .unwrap_err();
        assert!(
            matches!(err, SignError::Verification(EnvelopeError::Chain(_))),
            "{err}"
        );
        // A leaf that expired before the signing time.
        let mut spec = CertSpec::new(LEAF, ROOT, p256(), p256(), leaf_exts());
        spec.not_after = SIGNED_AT - 1;
        let chain = vec![mint(&spec), root.clone()];
        let bytes = sign(EnvelopeFormat::Cose, &key(p256()), &chain, None, &[]).unwrap();
        assert!(matches!(
            check_envelope(
                EnvelopeFormat::Cose,
                &bytes,
                &target(),
                SIGNED_AT,
                None,
                &[]
            ),
            Err(SignError::NotValidAtSigningTime { .. })
        ));
        // A chain without its root.
        let chain = three_chain(p256(), p256(), p256());
        let bytes = sign(EnvelopeFormat::Jws, &key(p256()), &chain[..2], None, &[]).unwrap();
        assert!(matches!(
            check_envelope(EnvelopeFormat::Jws, &bytes, &target(), SIGNED_AT, None, &[]),
            Err(SignError::Verification(_))
        ));
    }

    fn pem(label: &str, der: &[u8]) -> Vec<u8> {
        use base64::engine::general_purpose::STANDARD;
        let b64 = STANDARD.encode(der);
        let mut out = format!("-----BEGIN {label}-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap());
            out.push('\n');
        }
        out.push_str(&format!("-----END {label}-----\n"));
        out.into_bytes()
    }

    /// A PKCS#8 shell around `algorithm` and `private_key` (enough for the size and curve checks,
    /// which run before the key is handed to aws-lc-rs).
    fn pkcs8(algorithm: &[u8], private_key: &[u8]) -> Vec<u8> {
        tlv(
            0x30,
            &[vec![2, 1, 0], algorithm.to_vec(), tlv(0x04, private_key)].concat(),
        )
    }

    #[test]
    fn key_files() {
        let k = read_private_key_pem(&pem("PRIVATE KEY", &p256().pkcs8())).unwrap();
        assert_eq!(k.key_spec(), KeySpec::EcP256);
        assert!(!format!("{k:?}").contains(&format!("{:?}", p256().pkcs8())));
        let k = read_private_key_pem(&pem("PRIVATE KEY", &rsa2048().pkcs8())).unwrap();
        assert_eq!(k.key_spec(), KeySpec::Rsa2048);
        // RSA 1024: refused by size, before aws-lc-rs sees it.
        let rsa_alg = tlv(
            0x30,
            &[rfc5912::RSA_ENCRYPTION.to_der().unwrap(), vec![5, 0]].concat(),
        );
        let mut n = vec![0u8];
        n.extend([0xC5u8; 128]);
        let rsa1024 = tlv(
            0x30,
            &[vec![2, 1, 0], tlv(0x02, &n), vec![2, 3, 1, 0, 1]].concat(),
        );
        let err =
            read_private_key_pem(&pem("PRIVATE KEY", &pkcs8(&rsa_alg, &rsa1024))).unwrap_err();
        assert_eq!(
            err.reason(),
            crate::notary::sign::SignReason::KeyUnsupported
        );
        assert!(err.to_string().contains("rsa key size 1024 bits"), "{err}");
        // P-224.
        let ec_alg = tlv(
            0x30,
            &[
                rfc5912::ID_EC_PUBLIC_KEY.to_der().unwrap(),
                rfc5912::SECP_224_R_1.to_der().unwrap(),
            ]
            .concat(),
        );
        let err =
            read_private_key_pem(&pem("PRIVATE KEY", &pkcs8(&ec_alg, &[0x30, 0]))).unwrap_err();
        assert!(err.to_string().contains("secp224r1"), "{err}");
        // Other PEM forms.
        for (label, code) in [
            ("RSA PRIVATE KEY", "key_format"),
            ("EC PRIVATE KEY", "key_format"),
            ("ENCRYPTED PRIVATE KEY", "key_format"),
            ("CERTIFICATE", "key_format"),
        ] {
            let err = read_private_key_pem(&pem(label, &[0x30, 0])).unwrap_err();
            assert_eq!(err.code(), code, "{label}: {err}");
        }
        assert!(read_private_key_pem(b"junk").is_err());
        assert!(read_private_key_pem(&pem("PRIVATE KEY", b"junk")).is_err());
    }

    #[test]
    fn certificate_files() {
        let chain = three_chain(p256(), p256(), p256());
        let text: Vec<u8> = chain.iter().flat_map(|c| pem("CERTIFICATE", c)).collect();
        assert_eq!(read_certificate_chain_pem(&text).unwrap(), chain);
        assert_eq!(
            read_certificate_chain_pem(b"nothing here")
                .unwrap_err()
                .reason(),
            crate::notary::sign::SignReason::ChainFormat
        );
        let eleven: Vec<u8> = (0..11)
            .flat_map(|_| pem("CERTIFICATE", &chain[0]))
            .collect();
        assert_eq!(
            read_certificate_chain_pem(&eleven).unwrap_err().reason(),
            crate::notary::sign::SignReason::ChainInvalid
        );
        assert_eq!(thumbprints(&chain[..1]), [Digest::sha256(&chain[0]).hex()]);
    }
}
