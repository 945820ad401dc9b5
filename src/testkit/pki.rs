//! A test PKI minted with rcgen: roots, intermediates and code-signing leaves with fixed subjects
//! and fixed validity windows around the pinned verification time [`AT`], CRLs, and the files
//! `airlock sign` and `airlock verify` read (key, chain, trust store, trust policy).
//!
//! Keys are generated once per test process and cached (RSA key generation is the slow part).
//! What rcgen cannot produce is made by rewriting an rcgen certificate with x509-cert:
//! [`resign_sha1`] (an `ecdsa-with-SHA1` signature, made by signing the zero-padded SHA-1 digest
//! with the issuer's P-256 key) and [`issue_foreign`] (a leaf holding a public key rcgen cannot
//! generate, such as RSA 1024 or P-224, taken from openssl).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use der::{Decode, Encode};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CrlIssuingDistributionPoint, CrlScope, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams,
    SerialNumber,
};
use time::OffsetDateTime;

/// The pinned verification time (`--at`).
pub const AT: &str = "2026-01-01T00:00:00Z";
/// The signing time used unless a case says otherwise (`--signing-time`).
pub const SIGNED: &str = "2025-06-01T00:00:00Z";
/// The repository every sample image records (the trust policy's scope).
pub const SCOPE: &str = "registry.example/airlock/sample";

/// A day as rcgen wants it.
pub fn day(y: i32, m: u8, d: u8) -> OffsetDateTime {
    rcgen::date_time_ymd(y, m, d)
}

/// Key types the helpers mint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    P256,
    P384,
    Rsa2048,
    Rsa3072,
}

/// A cached key: `slot` tells apart several keys of one type. RSA keys are slow to make, so there
/// are only four of each size (`slot % 4`); [`chain`] gives its certificates consecutive slots, so
/// no two certificates of one chain share a key.
pub fn key(alg: Alg, slot: u16) -> KeyPair {
    static KEYS: OnceLock<Mutex<HashMap<(Alg, u16), String>>> = OnceLock::new();
    let slot = match alg {
        Alg::Rsa2048 | Alg::Rsa3072 => slot % 4,
        Alg::P256 | Alg::P384 => slot,
    };
    let cache = KEYS.get_or_init(|| Mutex::new(HashMap::new()));
    let pem = {
        let mut map = cache.lock().unwrap();
        map.entry((alg, slot))
            .or_insert_with(|| {
                let k = match alg {
                    Alg::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
                    Alg::P384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
                    Alg::Rsa2048 => {
                        KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                    }
                    Alg::Rsa3072 => {
                        KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA384, rcgen::RsaKeySize::_3072)
                    }
                };
                k.unwrap().serialize_pem()
            })
            .clone()
    };
    let alg_id = match alg {
        Alg::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        Alg::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        Alg::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
        Alg::Rsa3072 => &rcgen::PKCS_RSA_SHA384,
    };
    KeyPair::from_pem_and_sign_algo(&pem, alg_id).unwrap()
}

/// A certificate with its parameters and key (the key can issue, when it is a CA).
pub struct Node {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub der: Vec<u8>,
}

impl Node {
    /// The key as PKCS#8 PEM.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }
}

/// [`super::crl::T0`] (2026-01-01, the instant [`AT`] names) plus `days` days: the fixed windows
/// the revocation, CRL-capture and oracle tests mint around.
pub fn t0_days(days: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(super::crl::T0 + days * super::crl::DAY).unwrap()
}

/// `C=US, ST=WA, O=airlock tests, CN=<cn>`.
pub fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CountryName, "US");
    d.push(DnType::StateOrProvinceName, "WA");
    d.push(DnType::OrganizationName, "airlock tests");
    d.push(DnType::CommonName, cn);
    d
}

/// `CN=<cn>` alone (the revocation and CRL-capture tests' names).
pub fn cn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d
}

/// Empty certificate parameters with a subject and a validity window.
pub fn params(
    subject: DistinguishedName,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name = subject;
    p.not_before = not_before;
    p.not_after = not_after;
    p
}

/// One CRL distribution point naming `uris` (none: no CRLDistributionPoints).
pub fn crl_dps(uris: &[&str]) -> Vec<CrlDistributionPoint> {
    if uris.is_empty() {
        return Vec::new();
    }
    vec![CrlDistributionPoint {
        uris: uris.iter().map(|u| (*u).to_owned()).collect(),
    }]
}

/// An IssuingDistributionPoint naming `uri`, with an optional scope.
pub fn crl_idp(uri: &str, scope: Option<CrlScope>) -> CrlIssuingDistributionPoint {
    CrlIssuingDistributionPoint {
        distribution_point: CrlDistributionPoint {
            uris: vec![uri.to_owned()],
        },
        scope,
    }
}

/// The trusted-identity string of [`dn`].
pub fn identity(cn: &str) -> String {
    format!("x509.subject: C=US, ST=WA, O=airlock tests, CN={cn}")
}

/// CA parameters: valid 2024-01-01 to 2034-01-01, keyCertSign + cRLSign, the given path length.
pub fn ca_params(cn: &str, serial: u64, path_len: Option<u8>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = day(2024, 1, 1);
    p.not_after = day(2034, 1, 1);
    p.is_ca = IsCa::Ca(match path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p
}

/// Code-signing leaf parameters: valid 2025-01-01 to 2027-01-01, digitalSignature, codeSigning.
pub fn leaf_params(cn: &str, serial: u64) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn);
    p.serial_number = Some(SerialNumber::from(serial));
    p.not_before = day(2025, 1, 1);
    p.not_after = day(2027, 1, 1);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    p
}

/// A self-signed root.
pub fn root(params: CertificateParams, key: KeyPair) -> Node {
    let der = params.self_signed(&key).unwrap().der().to_vec();
    Node { params, key, der }
}

/// A certificate for `key` issued by `issuer`.
pub fn issue(params: CertificateParams, key: KeyPair, issuer: &Node) -> Node {
    let der = params
        .signed_by(&key, &Issuer::from_params(&issuer.params, &issuer.key))
        .unwrap()
        .der()
        .to_vec();
    Node { params, key, der }
}

/// A leaf certificate for a public key rcgen cannot generate (RSA 1024, P-224), given as a DER
/// SubjectPublicKeyInfo: issued by `issuer` for a placeholder key, then its subject public key is
/// replaced and its TBS signed again by `issuer`'s key (same algorithm, so the result is a genuine
/// certificate for `spki`).
pub fn issue_foreign(params: &CertificateParams, spki: &[u8], issuer: &Node) -> Vec<u8> {
    let placeholder = key(Alg::P256, 999);
    let der = params
        .signed_by(
            &placeholder,
            &Issuer::from_params(&issuer.params, &issuer.key),
        )
        .unwrap()
        .der()
        .to_vec();
    let mut c = x509_cert::Certificate::from_der(&der).unwrap();
    c.tbs_certificate.subject_public_key_info =
        spki::SubjectPublicKeyInfoOwned::from_der(spki).unwrap();
    let tbs = c.tbs_certificate.to_der().unwrap();
    let sig = rcgen::SigningKey::sign(&issuer.key, &tbs).unwrap();
    c.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
    c.to_der().unwrap()
}

/// `ecdsa-with-SHA1` (RFC 3279).
const ECDSA_WITH_SHA1: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");

/// Re-signs `cert` (issued by the P-256 key `issuer_key`) with ecdsa-with-SHA1: both algorithm
/// fields are rewritten and the signature is a real ECDSA signature over the SHA-1 digest of the
/// new TBS (checked here with aws-lc-rs's legacy SHA-1 verifier).
pub fn resign_sha1(cert: &[u8], issuer_key: &KeyPair) -> Vec<u8> {
    use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
    let mut c = x509_cert::Certificate::from_der(cert).unwrap();
    let alg = spki::AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA1,
        parameters: None,
    };
    c.tbs_certificate.signature = alg.clone();
    c.signature_algorithm = alg;
    let tbs = c.tbs_certificate.to_der().unwrap();
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &tbs);
    // ECDSA uses the digest as an integer; left-padding SHA-1's 20 bytes to 32 keeps its value.
    let mut padded = vec![0u8; 12];
    padded.extend_from_slice(sha1.as_ref());
    let digest =
        aws_lc_rs::digest::Digest::import_less_safe(&padded, &aws_lc_rs::digest::SHA256).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &issuer_key.serialize_der(),
    )
    .unwrap();
    let sig = pair.sign_digest(&digest).unwrap();
    signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA1_ASN1, pair.public_key().as_ref())
        .verify(&tbs, sig.as_ref())
        .expect("a genuine ecdsa-with-SHA1 signature");
    c.signature = der::asn1::BitString::from_bytes(sig.as_ref()).unwrap();
    c.to_der().unwrap()
}

/// A chain, leaf first, with the leaf's key.
pub struct Chain {
    /// Certificates, leaf first, root last.
    pub certs: Vec<Vec<u8>>,
    /// The leaf key, PKCS#8 PEM.
    pub key_pem: String,
    /// The leaf's common name.
    pub leaf_cn: String,
}

impl Chain {
    pub fn root(&self) -> &[u8] {
        self.certs.last().unwrap()
    }
    pub fn leaf(&self) -> &[u8] {
        &self.certs[0]
    }
}

/// leaf → intermediates (each issued by the next) → root. `inters` (at most two) lists the
/// intermediates from the one nearest the leaf; `slot` picks distinct keys and names per chain.
pub fn chain(leaf: Alg, inters: &[Alg], root_alg: Alg, slot: u16) -> Chain {
    assert!(inters.len() <= 2);
    let depth = u8::try_from(inters.len()).unwrap();
    let top = root(
        ca_params(&format!("root {slot}"), 1, Some(depth)),
        key(root_alg, slot),
    );
    let mut nodes = vec![top];
    for (i, alg) in inters.iter().enumerate().rev() {
        let n = issue(
            ca_params(
                &format!("intermediate {slot}.{i}"),
                10 + i as u64,
                Some(u8::try_from(i).unwrap()),
            ),
            key(*alg, slot + 1 + i as u16),
            nodes.last().unwrap(),
        );
        nodes.push(n);
    }
    let cn = format!("signer {slot}");
    let l = issue(
        leaf_params(&cn, 100),
        key(leaf, slot + 3),
        nodes.last().unwrap(),
    );
    let key_pem = l.key_pem();
    nodes.push(l);
    Chain {
        certs: nodes.iter().rev().map(|n| n.der.clone()).collect(),
        key_pem,
        leaf_cn: cn,
    }
}

/// A CRL from `issuer` listing `revoked` serials, valid `this_update..next_update`.
pub fn crl(
    issuer: &Node,
    revoked: &[u64],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
) -> Vec<u8> {
    scoped_crl(issuer, revoked, this_update, next_update, 1, None)
}

/// A CRL numbered `number` whose IssuingDistributionPoint names `partition` (a partitioned CRL)
/// when given.
pub fn scoped_crl(
    issuer: &Node,
    revoked: &[u64],
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    number: u64,
    partition: Option<&str>,
) -> Vec<u8> {
    let params = CertificateRevocationListParams {
        this_update,
        next_update,
        crl_number: SerialNumber::from(number),
        issuing_distribution_point: partition.map(|uri| crl_idp(uri, None)),
        revoked_certs: revoked
            .iter()
            .map(|s| RevokedCertParams {
                serial_number: SerialNumber::from(*s),
                revocation_time: this_update,
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params
        .signed_by(&Issuer::from_params(&issuer.params, &issuer.key))
        .unwrap()
        .der()
        .to_vec()
}

/// Adds a CRL distribution point to leaf parameters.
pub fn with_crl_dp(mut p: CertificateParams, uri: &str) -> CertificateParams {
    p.crl_distribution_points = crl_dps(&[uri]);
    p
}

/// PEM of DER certificates.
pub fn certs_pem(certs: &[Vec<u8>]) -> String {
    certs
        .iter()
        .map(|c| super::b64::pem("CERTIFICATE", c))
        .collect()
}

/// Signing material on disk: `key.pem`, `chain.pem`.
pub struct SignerFiles {
    pub key: PathBuf,
    pub chain: PathBuf,
}

/// Writes a key and chain under `dir/<name>.{key,chain}.pem`.
pub fn write_signer(dir: &Path, name: &str, key_pem: &str, certs: &[Vec<u8>]) -> SignerFiles {
    let key = dir.join(format!("{name}.key.pem"));
    let chain = dir.join(format!("{name}.chain.pem"));
    fs::write(&key, key_pem).unwrap();
    fs::write(&chain, certs_pem(certs)).unwrap();
    SignerFiles { key, chain }
}

/// Trust material on disk: a trust store with `roots` in `ca:tests`, and a policy for [`SCOPE`].
pub struct Trust {
    pub policy: PathBuf,
    pub store: PathBuf,
}

/// Writes `dir/trust/{trustpolicy.json,truststore/x509/ca/tests/*.crt}`.
pub fn write_trust(dir: &Path, roots: &[&[u8]], level: &str, identities: &[String]) -> Trust {
    let base = dir.join("trust");
    let store = base.join("truststore");
    let ca = store.join("x509/ca/tests");
    fs::create_dir_all(&ca).unwrap();
    for (i, r) in roots.iter().enumerate() {
        fs::write(ca.join(format!("root{i}.crt")), certs_pem(&[r.to_vec()])).unwrap();
    }
    let policy = base.join("trustpolicy.json");
    let doc = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "tests",
            "registryScopes": [SCOPE],
            "signatureVerification": {"level": level},
            "trustStores": ["ca:tests"],
            "trustedIdentities": identities,
        }]
    });
    fs::write(&policy, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    Trust { policy, store }
}
