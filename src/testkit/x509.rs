//! Keys and certificates hand-built with x509-cert types and signed with aws-lc-rs keys: what the
//! hostile-chain and envelope tests need beyond rcgen (any serial, name, validity, extension list,
//! inner/outer algorithm mismatch, RSA-PSS salts, a foreign public key).

use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair as _, RsaPssSaltLength};
use const_oid::db::rfc5912;
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, GeneralizedTime, OctetString, UtcTime};
use der::{Any, Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate, TbsCertificate};

/// The EC curves of [`TestKey::Ec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

pub enum TestKey {
    Rsa(RsaKeyPair),
    Ec {
        curve: Curve,
        asn1: EcdsaKeyPair,
        fixed: EcdsaKeyPair,
    },
}

impl TestKey {
    fn rsa(size: KeySize) -> Self {
        Self::Rsa(RsaKeyPair::generate(size).unwrap())
    }

    fn ec(curve: Curve) -> Self {
        let (a, f) = match curve {
            Curve::P256 => (
                &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
                &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            ),
            Curve::P384 => (
                &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
                &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
            ),
            Curve::P521 => (
                &sig::ECDSA_P521_SHA512_ASN1_SIGNING,
                &sig::ECDSA_P521_SHA512_FIXED_SIGNING,
            ),
        };
        let asn1 = EcdsaKeyPair::generate(a).unwrap();
        let pkcs8 = asn1.to_pkcs8v1().unwrap();
        let fixed = EcdsaKeyPair::from_pkcs8(f, pkcs8.as_ref()).unwrap();
        Self::Ec { curve, asn1, fixed }
    }

    /// The private key as unencrypted PKCS#8 (v1) DER.
    pub fn pkcs8(&self) -> Vec<u8> {
        match self {
            Self::Rsa(k) => {
                let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> = k.as_der().unwrap();
                der.as_ref().to_vec()
            }
            Self::Ec { asn1, .. } => asn1.to_pkcs8v1().unwrap().as_ref().to_vec(),
        }
    }

    pub fn spki(&self) -> Vec<u8> {
        match self {
            Self::Rsa(k) => k.public_key().as_der().unwrap().as_ref().to_vec(),
            Self::Ec { asn1, .. } => asn1.public_key().as_der().unwrap().as_ref().to_vec(),
        }
    }

    /// An RSA signature of `msg` with the encoding `enc`.
    pub fn rsa_sign(&self, enc: &'static dyn sig::RsaEncoding, msg: &[u8]) -> Vec<u8> {
        let Self::Rsa(k) = self else {
            panic!("not an RSA key")
        };
        let mut out = vec![0u8; k.public_modulus_len()];
        k.sign(enc, &SystemRandom::new(), msg, &mut out).unwrap();
        out
    }

    /// RSASSA-PSS SHA-256 with a custom salt length.
    pub fn sign_pss256_salt(&self, salt: u16, msg: &[u8]) -> Vec<u8> {
        // A static table because aws-lc-rs wants `&'static` encodings.
        static ENCODINGS: OnceLock<Vec<sig::RsaSignatureEncoding>> = OnceLock::new();
        let table = ENCODINGS.get_or_init(|| {
            (0..=500u16)
                .map(|s| sig::RSA_PSS_SHA256.with_pss_salt_length(RsaPssSaltLength::Custom(s)))
                .collect()
        });
        self.rsa_sign(&table[usize::from(salt)], msg)
    }

    /// Signs a TBS with the X.509 algorithm `alg`; returns the signature bits.
    fn sign_cert(&self, alg: CertSig, tbs: &[u8]) -> Vec<u8> {
        match (alg, self) {
            (CertSig::RsaPkcs1Sha256 | CertSig::Sha1WithRsa, _) => {
                self.rsa_sign(&sig::RSA_PKCS1_SHA256, tbs)
            }
            (CertSig::RsaPkcs1Sha384, _) => self.rsa_sign(&sig::RSA_PKCS1_SHA384, tbs),
            (CertSig::RsaPssSha256 { salt }, _) => self.sign_pss256_salt(salt, tbs),
            (CertSig::Ecdsa, Self::Ec { asn1, .. }) => asn1
                .sign(&SystemRandom::new(), tbs)
                .unwrap()
                .as_ref()
                .to_vec(),
            _ => panic!("unsupported test signing combination"),
        }
    }

    /// The default X.509 signature algorithm for certificates this key signs.
    pub fn default_cert_sig(&self) -> CertSig {
        match self {
            Self::Rsa(_) => CertSig::RsaPkcs1Sha256,
            Self::Ec { .. } => CertSig::Ecdsa,
        }
    }
}

fn cached(cell: &'static OnceLock<TestKey>, f: fn() -> TestKey) -> &'static TestKey {
    cell.get_or_init(f)
}

pub fn rsa2048() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    cached(&K, || TestKey::rsa(KeySize::Rsa2048))
}
pub fn rsa3072() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    cached(&K, || TestKey::rsa(KeySize::Rsa3072))
}
pub fn p256() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    cached(&K, || TestKey::ec(Curve::P256))
}
pub fn p384() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    cached(&K, || TestKey::ec(Curve::P384))
}
pub fn p521() -> &'static TestKey {
    static K: OnceLock<TestKey> = OnceLock::new();
    cached(&K, || TestKey::ec(Curve::P521))
}

/// X.509 signature algorithms the helpers can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertSig {
    RsaPkcs1Sha256,
    RsaPkcs1Sha384,
    RsaPssSha256 {
        salt: u16,
    },
    Ecdsa,
    /// Declares sha1WithRSAEncryption (the bits are a SHA-256 signature; never checked).
    Sha1WithRsa,
}

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 128 {
        out.push(len as u8);
    } else if len < 256 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn sha256_alg_id_der() -> Vec<u8> {
    let oid = rfc5912::ID_SHA_256.to_der().unwrap();
    tlv(0x30, &[oid, vec![0x05, 0x00]].concat())
}

/// RSASSA-PSS-params for SHA-256 / MGF1-SHA-256 / `salt`.
pub fn pss_params_der(salt: u16) -> Vec<u8> {
    let hash = tlv(0xA0, &sha256_alg_id_der());
    let mgf_inner = [rfc5912::ID_MGF_1.to_der().unwrap(), sha256_alg_id_der()].concat();
    let mgf = tlv(0xA1, &tlv(0x30, &mgf_inner));
    let salt_int = if salt < 128 {
        vec![0x02, 0x01, salt as u8]
    } else {
        vec![0x02, 0x02, (salt >> 8) as u8, salt as u8]
    };
    let salt = tlv(0xA2, &salt_int);
    tlv(0x30, &[hash, mgf, salt].concat())
}

fn alg_id(alg: CertSig) -> AlgorithmIdentifierOwned {
    let null = Some(Any::null());
    match alg {
        CertSig::RsaPkcs1Sha256 => AlgorithmIdentifierOwned {
            oid: rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
            parameters: null,
        },
        CertSig::RsaPkcs1Sha384 => AlgorithmIdentifierOwned {
            oid: rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
            parameters: null,
        },
        CertSig::Sha1WithRsa => AlgorithmIdentifierOwned {
            oid: rfc5912::SHA_1_WITH_RSA_ENCRYPTION,
            parameters: null,
        },
        CertSig::RsaPssSha256 { salt } => AlgorithmIdentifierOwned {
            oid: rfc5912::ID_RSASSA_PSS,
            parameters: Some(Any::from_der(&pss_params_der(salt)).unwrap()),
        },
        CertSig::Ecdsa => AlgorithmIdentifierOwned {
            oid: rfc5912::ECDSA_WITH_SHA_256,
            parameters: None,
        },
    }
}

/// `ecdsa-with-SHA256/384/512` matching a curve's natural hash.
fn ecdsa_alg_for(key: &TestKey) -> AlgorithmIdentifierOwned {
    let oid = match key {
        TestKey::Ec {
            curve: Curve::P384, ..
        } => rfc5912::ECDSA_WITH_SHA_384,
        TestKey::Ec {
            curve: Curve::P521, ..
        } => rfc5912::ECDSA_WITH_SHA_512,
        _ => rfc5912::ECDSA_WITH_SHA_256,
    };
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

pub fn time(unix: i64) -> Time {
    let d = Duration::from_secs(unix as u64);
    if unix < 2_524_608_000 {
        Time::UtcTime(UtcTime::from_unix_duration(d).unwrap())
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(d).unwrap())
    }
}

/// 2020-01-01T00:00:00Z.
pub const T2020: i64 = 1_577_836_800;
/// 2024-01-01T00:00:00Z.
pub const T2024: i64 = 1_704_067_200;
/// 2040-01-01T00:00:00Z.
pub const T2040: i64 = 2_208_988_800;

pub fn ext(oid: ObjectIdentifier, critical: bool, value: Vec<u8>) -> Extension {
    Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value).unwrap(),
    }
}

pub fn bc(ca: bool, path_len: Option<u8>, critical: bool) -> Extension {
    let v = BasicConstraints {
        ca,
        path_len_constraint: path_len,
    }
    .to_der()
    .unwrap();
    ext(rfc5912::ID_CE_BASIC_CONSTRAINTS, critical, v)
}

pub fn ku(usage: KeyUsage, critical: bool) -> Extension {
    let v = usage.to_der().unwrap();
    ext(rfc5912::ID_CE_KEY_USAGE, critical, v)
}

pub fn eku(oids: &[ObjectIdentifier], critical: bool) -> Extension {
    let v = ExtendedKeyUsage(oids.to_vec()).to_der().unwrap();
    ext(rfc5912::ID_CE_EXT_KEY_USAGE, critical, v)
}

pub fn leaf_exts() -> Vec<Extension> {
    vec![
        bc(false, None, false),
        ku(KeyUsage(KeyUsages::DigitalSignature.into()), true),
        eku(&[rfc5912::ID_KP_CODE_SIGNING], false),
    ]
}

pub fn ca_exts(path_len: Option<u8>) -> Vec<Extension> {
    vec![
        bc(true, path_len, true),
        ku(KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true),
    ]
}

/// Everything needed to mint one certificate.
pub struct CertSpec<'a> {
    pub serial: u8,
    pub subject: &'a str,
    pub issuer: &'a str,
    pub not_before: i64,
    pub not_after: i64,
    pub key: &'a TestKey,
    pub signer: &'a TestKey,
    pub sig: CertSig,
    pub extensions: Vec<Extension>,
    /// Overrides `tbsCertificate.signature` (to test inner/outer mismatch).
    pub inner_alg: Option<AlgorithmIdentifierOwned>,
    /// Overrides the subject public key (the key then cannot sign anything).
    pub spki: Option<Vec<u8>>,
}

impl<'a> CertSpec<'a> {
    pub fn new(
        subject: &'a str,
        issuer: &'a str,
        key: &'a TestKey,
        signer: &'a TestKey,
        extensions: Vec<Extension>,
    ) -> Self {
        Self {
            serial: 1,
            subject,
            issuer,
            not_before: T2020,
            not_after: T2040,
            key,
            signer,
            sig: signer.default_cert_sig(),
            extensions,
            inner_alg: None,
            spki: None,
        }
    }
}

pub fn mint(spec: &CertSpec<'_>) -> Vec<u8> {
    let outer = match spec.sig {
        CertSig::Ecdsa => ecdsa_alg_for(spec.signer),
        other => alg_id(other),
    };
    let tbs = TbsCertificate {
        version: x509_cert::certificate::Version::V3,
        serial_number: SerialNumber::new(&[0x01, spec.serial]).unwrap(),
        signature: spec.inner_alg.clone().unwrap_or_else(|| outer.clone()),
        issuer: Name::from_str(spec.issuer).unwrap(),
        validity: Validity {
            not_before: time(spec.not_before),
            not_after: time(spec.not_after),
        },
        subject: Name::from_str(spec.subject).unwrap(),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(
            &spec.spki.clone().unwrap_or_else(|| spec.key.spki()),
        )
        .unwrap(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: (!spec.extensions.is_empty()).then(|| spec.extensions.clone()),
    };
    let tbs_der = tbs.to_der().unwrap();
    let signature = spec.signer.sign_cert(spec.sig, &tbs_der);
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: outer,
        signature: BitString::from_bytes(&signature).unwrap(),
    }
    .to_der()
    .unwrap()
}

pub const ROOT: &str = "CN=Test Root,O=Notary,ST=WA,C=US";
pub const INTER: &str = "CN=Test Intermediate,O=Notary,ST=WA,C=US";
pub const LEAF: &str = "CN=Test Leaf,O=Notary,ST=WA,C=US";

/// A leaf → intermediate → root chain with the given keys.
pub fn three_chain(
    leaf: &'static TestKey,
    inter_key: &'static TestKey,
    root_key: &'static TestKey,
) -> Vec<Vec<u8>> {
    let root = mint(&CertSpec::new(
        ROOT,
        ROOT,
        root_key,
        root_key,
        ca_exts(Some(1)),
    ));
    let mut inter_spec = CertSpec::new(INTER, ROOT, inter_key, root_key, ca_exts(Some(0)));
    inter_spec.serial = 2;
    let inter = mint(&inter_spec);
    let mut leaf_spec = CertSpec::new(LEAF, INTER, leaf, inter_key, leaf_exts());
    leaf_spec.serial = 3;
    let leaf_der = mint(&leaf_spec);
    vec![leaf_der, inter, root]
}

/// A single self-signed code-signing certificate (notation e2e style).
pub fn self_signed(key: &'static TestKey) -> Vec<Vec<u8>> {
    vec![mint(&CertSpec::new(LEAF, LEAF, key, key, leaf_exts()))]
}
