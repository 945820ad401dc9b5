//! Differential test of the Notary chain rules (`notary::chain`) against `rustls-webpki`
//! (DEPS.md 2.3): chains minted here, with fixed validity windows, are judged by both. They must
//! agree, except where the Notary rules are known to differ from WebPKI's, which each case says.

use std::time::Duration;

use airlock::notary::chain::{validate_code_signing_chain, ValidityTime};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, UnixTime};

/// id-kp-codeSigning, DER value bytes.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

// T0 is 2026-01-01T00:00:00Z; the chains are valid for a year around it.
use crate::pki::t0_days as at;
use crate::testkit::crl::T0;

fn params(cn: &str, ca: Option<BasicConstraints>) -> CertificateParams {
    let mut p = crate::pki::params(crate::pki::dn(cn), at(-365), at(365));
    match ca {
        Some(bc) => {
            p.is_ca = IsCa::Ca(bc);
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        }
        None => {
            p.is_ca = IsCa::ExplicitNoCa;
            p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        }
    }
    p
}

struct Chain {
    leaf: Vec<u8>,
    inters: Vec<Vec<u8>>,
    root: Vec<u8>,
}

/// root -> intermediate(s) -> leaf, each step adjustable.
fn mint(inter_bcs: &[BasicConstraints], tweak_leaf: impl FnOnce(&mut CertificateParams)) -> Chain {
    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let root_params = params("root", Some(BasicConstraints::Unconstrained));
    let root = root_params.self_signed(&root_key).unwrap().der().to_vec();
    let mut issuer = Issuer::new(root_params, root_key);
    let mut inters = Vec::new();
    for (i, bc) in inter_bcs.iter().enumerate() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let p = params(&format!("intermediate {i}"), Some(*bc));
        inters.push(p.signed_by(&key, &issuer).unwrap().der().to_vec());
        issuer = Issuer::new(p, key);
    }
    let leaf_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut lp = params("signer", None);
    lp.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    tweak_leaf(&mut lp);
    let leaf = lp.signed_by(&leaf_key, &issuer).unwrap().der().to_vec();
    inters.reverse();
    Chain { leaf, inters, root }
}

fn ours(c: &Chain, t: i64) -> bool {
    let mut all = vec![c.leaf.clone()];
    all.extend(c.inters.iter().cloned());
    all.push(c.root.clone());
    validate_code_signing_chain(&all)
        .and_then(|v| v.check_validity(ValidityTime::At(t)))
        .is_ok()
}

fn webpki_accepts(c: &Chain, t: i64) -> bool {
    let root = CertificateDer::from(c.root.clone());
    let Ok(anchor) = webpki::anchor_from_trusted_cert(&root) else {
        return false;
    };
    let leaf = CertificateDer::from(c.leaf.clone());
    let Ok(ee) = webpki::EndEntityCert::try_from(&leaf) else {
        return false;
    };
    let inters: Vec<CertificateDer<'_>> = c
        .inters
        .iter()
        .map(|d| CertificateDer::from(d.clone()))
        .collect();
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &inters,
        UnixTime::since_unix_epoch(Duration::from_secs(t as u64)),
        webpki::KeyUsage::required_if_present(CODE_SIGNING),
        None,
        None,
    )
    .is_ok()
}

#[test]
fn notary_chain_rules_agree_with_webpki_except_where_documented() {
    let one = [BasicConstraints::Unconstrained];
    // (name, chain, time, expected ours, expected webpki)
    let cases: Vec<(&str, Chain, i64, bool, bool)> = vec![
        (
            "valid, one intermediate",
            mint(&one, |_| {}),
            T0,
            true,
            true,
        ),
        (
            "valid, two intermediates",
            mint(
                &[
                    BasicConstraints::Unconstrained,
                    BasicConstraints::Constrained(0),
                ],
                |_| {},
            ),
            T0,
            true,
            true,
        ),
        (
            "valid, leaf without EKU",
            mint(&one, |p| p.extended_key_usages.clear()),
            T0,
            true,
            true,
        ),
        (
            "leaf expired",
            mint(&one, |p| p.not_after = at(-1)),
            T0,
            false,
            false,
        ),
        (
            "leaf not yet valid",
            mint(&one, |p| p.not_before = at(1)),
            T0,
            false,
            false,
        ),
        (
            "whole chain checked after expiry",
            mint(&one, |_| {}),
            T0 + 400 * 86_400,
            false,
            false,
        ),
        (
            "leaf EKU serverAuth only",
            mint(&one, |p| {
                p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]
            }),
            T0,
            false,
            false,
        ),
        (
            "path length exceeded",
            mint(
                &[
                    BasicConstraints::Constrained(0),
                    BasicConstraints::Unconstrained,
                ],
                |_| {},
            ),
            T0,
            false,
            false,
        ),
        (
            "CA certificate as the leaf",
            mint(&one, |p| {
                p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
                p.key_usages = vec![
                    KeyUsagePurpose::KeyCertSign,
                    KeyUsagePurpose::DigitalSignature,
                ];
            }),
            T0,
            false,
            false,
        ),
        // Notary: "for the rest of the extensions ... MUST fail open"; WebPKI rejects an unknown
        // critical extension (SPEC-NOTES 4.1, DEPS.md 2.2).
        (
            "unknown critical extension on the leaf (Notary fails open)",
            mint(&one, |p| {
                let mut ext = CustomExtension::from_oid_content(
                    &[1, 3, 6, 1, 4, 1, 99999, 1],
                    vec![0x05, 0x00],
                );
                ext.set_criticality(true);
                p.custom_extensions = vec![ext];
            }),
            T0,
            true,
            false,
        ),
        // Notary requires keyUsage with digitalSignature on the leaf; WebPKI ignores keyUsage.
        (
            "leaf keyUsage without digitalSignature",
            mint(&one, |p| {
                p.key_usages = vec![KeyUsagePurpose::KeyEncipherment]
            }),
            T0,
            false,
            true,
        ),
    ];
    let mut problems = Vec::new();
    for (name, chain, t, want_ours, want_webpki) in &cases {
        let (o, w) = (ours(chain, *t), webpki_accepts(chain, *t));
        if o != *want_ours || w != *want_webpki {
            problems.push(format!(
                "{name}: airlock {o} (want {want_ours}), webpki {w} (want {want_webpki})"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
