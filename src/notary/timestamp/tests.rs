//! Unit tests of the timestamp token: helpers, received bytes, chain validity at genTime, codes.

use super::token::directory_name;
use super::*;

#[test]
fn hex_helpers() {
    assert_eq!(integer_hex(&[0x00, 0x80, 0x01]), "8001");
    assert_eq!(integer_hex(&[0x00]), "00");
    assert_eq!(integer_hex(&[0x01, 0x00]), "0100");
}

#[test]
fn directory_name_requires_one_dirname() {
    // [4] { SEQUENCE {} }
    assert_eq!(
        directory_name(&[0xA4, 0x02, 0x30, 0x00]),
        Some(&[0x30, 0x00][..])
    );
    // [7] constructed instead of [4]
    assert_eq!(directory_name(&[0xA7, 0x02, 0x30, 0x00]), None);
    // two names
    assert_eq!(
        directory_name(&[0xA4, 0x02, 0x30, 0x00, 0xA4, 0x02, 0x30, 0x00]),
        None
    );
    assert_eq!(directory_name(&[]), None);
}

fn corpus_token() -> Option<(Vec<u8>, Vec<u8>)> {
    let root = crate::testkit::corpus::corpus_dir().join("envelopes/tst.globalsign.valid");
    let token = std::fs::read(root.join("TimeStampToken.p7s")).ok()?;
    let pem = std::fs::read_to_string(root.join("roots/GlobalSignRootCA.crt")).ok()?;
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = crate::testkit::b64::decode(b64.trim());
    Some((token, der))
}

#[test]
fn signature_covers_received_signed_attribute_bytes() {
    let Some((token, _)) = corpus_token() else {
        eprintln!("corpus not found; skipped");
        return;
    };
    let parsed = parse(&token).unwrap();
    let attrs = parsed.signers[0].signed_attrs_der.clone().unwrap();
    assert_eq!(attrs[0], 0x31);
    // With the tag put back to [0] IMPLICIT (0xA0) the bytes occur verbatim in the token.
    let mut as_received = attrs.clone();
    as_received[0] = 0xA0;
    assert!(token
        .windows(as_received.len())
        .any(|w| w == as_received.as_slice()));
    assert_eq!(parsed.signers[0].signed_attrs.len(), 4);
}

#[test]
fn chain_validity_is_checked_at_gen_time() {
    let Some((token, root)) = corpus_token() else {
        eprintln!("corpus not found; skipped");
        return;
    };
    let parsed = parse(&token).unwrap();
    let anchors = vec![token_certificate(&root).unwrap()];
    let leaf = &parsed.certs[0];
    let run = |secs: i64| {
        let mut budget = Budget::new(8, 64);
        path::build(
            leaf,
            &parsed.certs,
            &anchors,
            Instant::from_secs(secs),
            Purpose::Timestamping,
            &mut budget,
        )
        .map(|p| p.certificates().len())
        .map_err(|e| build_error(e, Instant::from_secs(secs)).code())
    };
    assert_eq!(run(parsed.gen_time.secs()), Ok(4));
    // Before the TSA certificate's notBefore (2021-05-27T09:55:23Z) and exactly at it.
    let nb = leaf.not_before();
    assert_eq!(run(nb), Ok(4));
    assert_eq!(run(nb - 1), Err("tst_cert_invalid"));
    // After Root R3 and the R6 cross-certificate expire (2029-03-18T10:00:00Z).
    let r3_end = anchors[0].not_after();
    assert_eq!(run(r3_end), Ok(4));
    assert_eq!(run(r3_end + 1), Err("tst_cert_invalid"));
}

#[test]
fn error_codes_are_stable() {
    assert_eq!(
        TimestampError::MissingContent.reason(),
        crate::notary::timestamp::TimestampReason::TstParse
    );
    assert_eq!(
        TimestampError::UnsupportedVersion { version: 2 }.reason(),
        crate::notary::timestamp::TimestampReason::TstTstinfo
    );
    assert_eq!(
        TimestampError::MessageImprintMismatch.reason(),
        crate::notary::timestamp::TimestampReason::TstMessageImprint
    );
    assert_eq!(
        TimestampError::SignerCertificateNotFound.reason(),
        crate::notary::timestamp::TimestampReason::TstSignerCertMissing
    );
    assert_eq!(
        TimestampError::SigningCertificateEmpty.reason(),
        crate::notary::timestamp::TimestampReason::TstSigningCertificate
    );
    assert_eq!(
        TimestampError::Signature(CryptoError::BadSignature).reason(),
        crate::notary::timestamp::TimestampReason::TstSignature
    );
    assert_eq!(
        TimestampError::NoTrustAnchors.reason(),
        crate::notary::timestamp::TimestampReason::TstUntrusted
    );
    assert_eq!(
        TimestampError::CertificateInvalid {
            subject: String::new(),
            reason: String::new()
        }
        .reason(),
        crate::notary::timestamp::TimestampReason::TstCertInvalid
    );
}
